/**
 * The offline runner (`--mock`): each stack's preview is the real program (the project's `main`) run under the
 * project's Pulumi mocks (scripts/lib/mock-program.ts) with that stack's config, in a child process of its own
 * (mocks are global to a process): scripts/lib/stacks/mockChild.ts. The child reports resources registered, its
 * time, its peak RSS and CPU seconds, or the first failed registration / the program's one-line error.
 * Nothing leaves the machine: no Pulumi CLI, no backend, no AWS.
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import { TS_REGISTER } from "../tsRegister";
import type { ProjectFile } from "../stack-config";
import type { Command, ProgressFn, RunReport, StackRunner, StackSpec } from "./types";

const CHILD = path.join(__dirname, "mockChild.ts");

/** What the parent sends the child. */
export interface MockJob {
    project: string;
    stack: string;
    region: string;
    /** The program: the project's `main` resolved against the project directory. */
    main: string;
    config: Record<string, string>;
}

/** What the child sends back. */
export type MockMessage =
    | { kind: "progress"; resources: number }
    | { kind: "done"; resources: number; seconds: number; maxRssMiB: number; cpuSeconds: number }
    | { kind: "failed"; error: string; maxRssMiB: number; cpuSeconds: number };

export function mockRunner(dir: string, project: ProjectFile): StackRunner {
    return {
        run(stack: StackSpec, command: Command, progress: ProgressFn): Promise<RunReport> {
            if (command !== "preview") return Promise.reject(new Error("--mock runs previews only"));
            const job: MockJob = { project: project.name, stack: stack.name, region: stack.config["aws:region"], main: path.resolve(dir, project.main), config: stack.config };
            return new Promise<RunReport>((resolve, reject) => {
                const child = fork(CHILD, [], { cwd: dir, execArgv: ["-r", TS_REGISTER], stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
                let stderr = "";
                child.stderr?.on("data", (chunk: Buffer) => {
                    stderr = (stderr + chunk.toString("utf8")).slice(-16384);
                });
                let last: MockMessage | undefined;
                child.on("message", (m: MockMessage) => {
                    if (m.kind === "progress") progress({ resources: m.resources });
                    else last = m;
                });
                child.on("error", (error) => reject(error));
                child.on("exit", (code, signal) => {
                    if (last?.kind === "done") resolve({ changes: { create: last.resources }, resources: last.resources, maxRssMiB: last.maxRssMiB, cpuSeconds: last.cpuSeconds });
                    else if (last?.kind === "failed") reject(new Error(last.error));
                    else {
                        const tail = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop();
                        reject(new Error(`the program's process ended (${signal ?? `exit ${code}`}) without a result${tail ? `: ${tail}` : ""}`));
                    }
                });
                child.send(job);
            });
        },
    };
}
