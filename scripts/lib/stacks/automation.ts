/**
 * The real runner: the Pulumi Automation API (`@pulumi/pulumi/automation`) with the project directory as a local
 * program, as `pulumi preview` / `pulumi up --yes` by hand (needs the Pulumi CLI on PATH and a logged-in backend).
 * Each stack is selected, or created when the backend has none yet (its `Pulumi.<name>.yaml` is already there).
 * Engine events feed the progress (resources stepped, the last output line as status); the counts come from the
 * preview's change summary or the update's summary (the engine's summary event when the update has none).
 */
import type { EngineEvent, OpMap, PreviewResult, UpResult } from "@pulumi/pulumi/automation";
import { firstLine, type Command, type ProgressFn, type RunReport, type StackRunner, type StackSpec } from "./types";

/** The part of a Pulumi Stack the runner uses. */
export interface AutomationStack {
    preview(opts: { onEvent?: (e: EngineEvent) => void; onOutput?: (out: string) => void }): Promise<Pick<PreviewResult, "changeSummary">>;
    up(opts: { onEvent?: (e: EngineEvent) => void; onOutput?: (out: string) => void }): Promise<Pick<UpResult, "summary">>;
}

/** The part of `@pulumi/pulumi/automation` the runner uses (injected by the tests). */
export interface AutomationModule {
    LocalWorkspace: { createOrSelectStack(args: { stackName: string; workDir: string }): Promise<AutomationStack> };
}

function counts(map: OpMap | undefined): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [op, n] of Object.entries(map ?? {})) if (typeof n === "number") out[op] = n;
    return out;
}

export function automationRunner(workDir: string, automation: AutomationModule): StackRunner {
    return {
        async run(stack: StackSpec, command: Command, progress: ProgressFn): Promise<RunReport> {
            let stepped = 0;
            let firstError: string | undefined;
            let engineSummary: OpMap | undefined;
            const onEvent = (e: EngineEvent) => {
                if (e.resourcePreEvent) {
                    stepped += 1;
                    progress({ resources: stepped, status: `${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.type}` });
                }
                const d = e.diagnosticEvent;
                if (d && d.severity === "error" && firstError === undefined) firstError = firstLine(d.message);
                if (e.summaryEvent) engineSummary = e.summaryEvent.resourceChanges;
            };
            const onOutput = (out: string) => {
                const line = out.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop();
                if (line !== undefined) progress({ status: line });
            };
            try {
                const s = await automation.LocalWorkspace.createOrSelectStack({ stackName: stack.name, workDir });
                if (command === "preview") {
                    const r = await s.preview({ onEvent, onOutput });
                    return { changes: counts(r.changeSummary ?? engineSummary) };
                }
                const r = await s.up({ onEvent, onOutput });
                if (r.summary.result !== "succeeded") throw new Error(`update ${r.summary.result}`);
                return { changes: counts(r.summary.resourceChanges ?? engineSummary) };
            } catch (error) {
                // The engine's own error diagnostic says more than the CLI's exit ("code: 255 ...").
                throw new Error(firstError ?? firstLine(error));
            }
        },
    };
}
