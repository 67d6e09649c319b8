/**
 * Lambda entry point of the Contain step.
 *
 * Event: `{ case: CaseOpened }` — the OpenCase result as is (a repeat delivery has `case.isNew: false`).
 * Or WARMUP_EVENT (core/workflow.ts), answered WARMED at once: no AWS call, no log line, no side effect.
 * Result: `ContainmentResult` (core/workflow.ts) with one action record per AWS change, ok or not.
 * Environment (read per invocation): ISOLATION_GROUPS (required), UNTRACK_GROUPS (both deployed in the code's
 * settings.json, core/workflow.ts SETTINGS_FILE: the environment holds 4 KB in all), CAPTURE_PROFILE_ARN.
 * Errors are logged and rethrown unchanged so the state machine can catch them by name.
 */
import { isWarmup, WARMED, type WARMUP_EVENT, type ContainmentResult } from "../../core/workflow";
import { containCase } from "./contain";
import { parseContainEvent } from "./event";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { containSettingsFromEnv } from "./settings";
import { withFileSettings } from "../lib/settingsFile";

export type { InvocationContext } from "../lib/log";

export async function handler(event: typeof WARMUP_EVENT, context?: InvocationContext): Promise<typeof WARMED>;
export async function handler(event: unknown, context?: InvocationContext): Promise<ContainmentResult>;
export async function handler(event: unknown, context?: InvocationContext): Promise<ContainmentResult | typeof WARMED> {
    // The Start state's warm-up (core/definition.ts WARM_TASKS): this environment is up; nothing else to do.
    if (isWarmup(event)) return WARMED;
    const logger = invocationLogger(logKeys(event), context);
    try {
        const request = parseContainEvent(event);
        const settings = containSettingsFromEnv(withFileSettings(process.env));
        const result = await containCase(request, settings);
        for (const action of result.actions) {
            if (action.ok) logger.info("containment action", { ...action });
            else logger.error("containment action", { ...action });
        }
        logger.info(summaryOf(result.status), {
            status: result.status,
            isolationGroupId: result.isolationGroupId,
            untrackGroupId: result.untrackGroupId,
            isolatedAt: result.isolatedAt,
            failedActions: result.actions.filter((a) => !a.ok).length,
        });
        return result;
    } catch (error) {
        logger.error("containment failed", { error: errorData(error) });
        throw error;
    }
}

function summaryOf(status: ContainmentResult["status"]): string {
    if (status === "skipped") return "containment skipped (dfir:skip)";
    return status === "already-isolated" ? "instance already isolated" : "instance isolated";
}

/** Correlation keys for every log line, taken from the raw event so even a rejected event is traceable. */
function logKeys(event: unknown): Record<string, string> {
    const keys: Record<string, string> = {};
    const c = typeof event === "object" && event !== null ? (event as { case?: unknown }).case : undefined;
    if (typeof c === "object" && c !== null) {
        const { caseId, target } = c as { caseId?: unknown; target?: { instanceId?: unknown; accountId?: unknown } };
        if (typeof caseId === "string") keys.caseId = caseId;
        if (typeof target?.instanceId === "string") keys.instanceId = target.instanceId;
        if (typeof target?.accountId === "string") keys.accountId = target.accountId;
    }
    return keys;
}
