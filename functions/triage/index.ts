/**
 * The workflow's triage guard: the same decision as `npm run triage`, with the stack's options.
 *
 * Input: the EventBridge event as the rule delivered it. Output: the triage decision; when it says "respond",
 * also `caseId` and a `findingId` (the state machine's next step reads both).
 * Environment: MIN_SEVERITY (number), ALLOW_SAMPLES ("true" | "false"), CREDENTIAL_EXFILTRATION and TAG_TRIGGER
 * ("true" | "false"), SECURITY_HUB (JSON of core/triage.ts SecurityHubTriggerOptions); absent = the defaults.
 */
import { caseIdFor } from "../../core/case";
import { triage, validateTriageOptions } from "../../core/triage";
import type { TriageVerdict } from "../../core/workflow";
import { invocationLogger, type InvocationContext } from "../lib/log";

export type { TriageVerdict };

/** Read once per container; a bad value is a deployment error and fails every invocation loudly. */
function optionsFromEnv(env: NodeJS.ProcessEnv) {
    const minSeverity = env.MIN_SEVERITY === undefined ? undefined : Number(env.MIN_SEVERITY);
    const allowSamples = env.ALLOW_SAMPLES === undefined ? undefined : env.ALLOW_SAMPLES === "true";
    const flag = (name: string) => (env[name] === undefined ? undefined : env[name] === "true");
    const credentialExfiltration = flag("CREDENTIAL_EXFILTRATION");
    const tagTrigger = flag("TAG_TRIGGER");
    return validateTriageOptions({
        ...(minSeverity === undefined ? {} : { minSeverity }),
        ...(allowSamples === undefined ? {} : { allowSamples }),
        ...(credentialExfiltration === undefined ? {} : { credentialExfiltration }),
        ...(tagTrigger === undefined ? {} : { tagTrigger }),
        ...(env.SECURITY_HUB === undefined ? {} : { securityHub: JSON.parse(env.SECURITY_HUB) }),
    });
}

/** Decide, and give an actionable finding its case id. Never throws on the event itself. */
export function verdictFor(event: unknown, env: NodeJS.ProcessEnv = process.env): TriageVerdict {
    const decision = triage(event, optionsFromEnv(env));
    if (decision.decision !== "respond" || decision.instanceId === undefined) return decision;
    const findingId = decision.findingId ?? "unidentified-finding";
    return { ...decision, findingId, caseId: caseIdFor(decision.instanceId, findingId) };
}

export const handler = async (event: unknown, context?: InvocationContext): Promise<TriageVerdict> => {
    const verdict = verdictFor(event);
    const keys = { ...(verdict.caseId ? { caseId: verdict.caseId } : {}), ...(verdict.instanceId ? { instanceId: verdict.instanceId } : {}) };
    invocationLogger(keys, context).info("triage decision", { ...verdict });
    return verdict;
};
