/**
 * Lambda entry point of the OpenCase step.
 *
 * Event: `{ verdict: TriageVerdict, executionArn: string, target?: Target }` (see ./event.ts).
 * Or WARMUP_EVENT (core/workflow.ts), answered WARMED at once: no AWS call, no log line, no side effect.
 * Result: `CaseOpened` (core/workflow.ts).
 * Environment (read per invocation): CASES_TABLE, EVIDENCE_BUCKET (required); RESPONDER_ROLE_NAME and
 * HOME_ACCOUNT_ID (cross-account targets); AWS_REGION (the table's region, set by Lambda).
 * Errors are logged and rethrown unchanged so the state machine can catch them by name.
 */
import { isWarmup, WARMED, type WARMUP_EVENT, type CaseOpened } from "../../core/workflow";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { parseOpenCaseEvent } from "./event";
import { openCase } from "./openCase";
import { caseSettingsFromEnv } from "./settings";

export async function handler(event: typeof WARMUP_EVENT, context?: InvocationContext): Promise<typeof WARMED>;
export async function handler(event: unknown, context?: InvocationContext): Promise<CaseOpened>;
export async function handler(event: unknown, context?: InvocationContext): Promise<CaseOpened | typeof WARMED> {
    // The Start state's warm-up (core/definition.ts WARM_TASKS): this environment is up; nothing else to do.
    if (isWarmup(event)) return WARMED;
    const logger = invocationLogger(logKeys(event), context);
    try {
        const request = parseOpenCaseEvent(event);
        const settings = caseSettingsFromEnv(process.env);
        const opened = await openCase(request, settings);
        logger.info(opened.isNew ? "case opened" : "finding added to open case", {
            caseId: opened.caseId,
            isNew: opened.isNew,
            target: opened.target,
            findingIds: opened.findingIds,
            approvalRequired: opened.approvalRequired,
            skipContainment: opened.skipContainment,
            networkInterfaces: opened.instance.networkInterfaces,
        });
        return opened;
    } catch (error) {
        logger.error("open case failed", { error: errorData(error) });
        throw error;
    }
}

function logKeys(event: unknown): Record<string, string> {
    const keys: Record<string, string> = {};
    const e = typeof event === "object" && event !== null ? (event as Record<string, unknown>) : {};
    const verdict = typeof e.verdict === "object" && e.verdict !== null ? (e.verdict as Record<string, unknown>) : {};
    for (const key of ["caseId", "instanceId", "findingId", "accountId"] as const) {
        if (typeof verdict[key] === "string") keys[key] = verdict[key] as string;
    }
    if (typeof e.executionArn === "string") keys.executionArn = e.executionArn;
    return keys;
}
