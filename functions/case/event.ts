/**
 * The OpenCase event: the triage verdict, the execution, and optionally a target decided upstream.
 *
 * Example: `{"verdict":{"decision":"respond","reason":"actionable: ...","findingId":"60c2...",
 *   "findingType":"Backdoor:EC2/C&CActivity.B!DNS","severity":8,"accountId":"111122223333","region":"eu-west-1",
 *   "instanceId":"i-0123456789abcdef0","caseId":"i-0123456789abcdef0-3f2a1b4c5d6e"},
 *   "executionArn":"arn:aws:states:eu-west-1:111122223333:execution:dfir-response:3b1c..."}`
 */
import type { Target } from "../../core/workflow";
import { INSTANCE_ID_PATTERN } from "../../core/triage";
import { InvalidRequestError } from "../contain/errors";
import { ACCOUNT_ID, MAX_TAG_VALUE_LENGTH, REGION, parseTarget, preview } from "../contain/event";

/** The fields of the triage verdict OpenCase uses. */
export interface VerdictInput {
    findingId: string;
    accountId: string;
    region: string;
    instanceId: string;
    caseId: string;
    findingType?: string;
    severity?: number;
}

export interface OpenCaseEvent {
    verdict: VerdictInput;
    executionArn: string;
    /** A target decided upstream (e.g. with a role); must name the verdict's instance. */
    target?: Target;
}

export function parseOpenCaseEvent(input: unknown): OpenCaseEvent {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new InvalidRequestError([`event must be an object, got ${preview(input)}`]);
    }
    const e = input as Record<string, unknown>;
    const v = e.verdict;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        throw new InvalidRequestError([`event.verdict must be an object, got ${preview(v)}`]);
    }
    const verdict = v as Record<string, unknown>;
    const problems: string[] = [];
    const text = (key: string, pattern?: RegExp): string => {
        const value = verdict[key];
        if (typeof value !== "string" || value === "" || (pattern && !pattern.test(value))) {
            problems.push(`verdict.${key} must be ${pattern ? `a string matching ${pattern}` : "a non-empty string"}, got ${preview(value)}`);
            return "";
        }
        return value;
    };
    if (verdict.decision !== "respond") problems.push(`verdict.decision must be "respond", got ${preview(verdict.decision)}`);
    const parsed: VerdictInput = {
        findingId: text("findingId"),
        accountId: text("accountId", ACCOUNT_ID),
        region: text("region", REGION),
        instanceId: text("instanceId", INSTANCE_ID_PATTERN),
        caseId: text("caseId"),
    };
    if (parsed.caseId.length > MAX_TAG_VALUE_LENGTH) {
        problems.push(`verdict.caseId must be at most ${MAX_TAG_VALUE_LENGTH} characters (it becomes a tag value)`);
    }
    if (typeof verdict.findingType === "string") parsed.findingType = verdict.findingType;
    if (typeof verdict.severity === "number") parsed.severity = verdict.severity;
    if (typeof e.executionArn !== "string" || !e.executionArn.startsWith("arn:")) {
        problems.push(`executionArn must be an ARN, got ${preview(e.executionArn)}`);
    }
    const event: OpenCaseEvent = { verdict: parsed, executionArn: typeof e.executionArn === "string" ? e.executionArn : "" };
    if (e.target !== undefined) {
        const target = parseTarget(e.target, "target", problems);
        if (target.instanceId !== "" && parsed.instanceId !== "" && target.instanceId !== parsed.instanceId) {
            problems.push(`target.instanceId ${target.instanceId} differs from verdict.instanceId ${parsed.instanceId}`);
        }
        event.target = target;
    }
    if (problems.length > 0) {
        throw new InvalidRequestError(problems, {
            instanceId: parsed.instanceId || undefined,
            caseId: parsed.caseId || undefined,
        });
    }
    return event;
}
