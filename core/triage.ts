/**
 * Triage: should the responder act on this event? One decision shared by the EventBridge rule (see
 * `core/pattern.ts`, built from the same options), the state machine's triage guard, and `npm run triage`.
 *
 * Reason codes (stable; the text after ": " is for humans and may change):
 *   not-an-object, not-guardduty, not-instance, severity-not-a-number, severity-below-minimum,
 *   invalid-instance-id, sample-finding  -> ignore
 *   actionable                            -> respond
 * Every ignore code up to severity-below-minimum is also something the rule's event pattern rejects;
 * invalid-instance-id and sample-finding are decided only by the workflow's triage guard.
 */
import { describeJsonValue, parseFinding, type GuardDutyFinding } from "./finding";

export interface TriageOptions {
    /** Lowest GuardDuty severity that triggers a response, 1-10. There is no upper bound (Critical included). */
    minSeverity: number;
    /** Respond to GuardDuty sample findings (CreateSampleFindings), e.g. for an end-to-end test. */
    allowSamples: boolean;
}

export const DEFAULT_TRIAGE_OPTIONS: Readonly<TriageOptions> = Object.freeze({ minSeverity: 7, allowSamples: false });

export type Decision = "respond" | "ignore";

export interface TriageDecision {
    decision: Decision;
    /** `<reason-code>: <human detail>` */
    reason: string;
    findingId?: string;
    findingType?: string;
    severity?: number;
    accountId?: string;
    region?: string;
    instanceId?: string;
}

/** EC2 instance ids: `i-` plus 8 (pre-2016) or 17 lower-case hex digits. */
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export type SeverityLabel = "Low" | "Medium" | "High" | "Critical";

/**
 * GuardDuty's severity level for a score, so reasons read the way the console does. Boundaries are lower
 * bounds (Medium from 4, High from 7, Critical from 9): GuardDuty scores have one decimal, and a value between
 * the documented ranges (e.g. 6.95) falls in the lower level. Above 10 is Critical, below 1 Low.
 */
export function severityLabel(severity: number): SeverityLabel {
    if (severity >= 9) return "Critical";
    if (severity >= 7) return "High";
    if (severity >= 4) return "Medium";
    return "Low";
}

/**
 * Fill in defaults and reject values the rule could not express. Stack config and the Lambda's environment
 * both pass through here, so a typo fails the deployment instead of silently changing what gets contained.
 * Throws an Error with a one-line message naming the bad field.
 */
export function validateTriageOptions(o: Partial<TriageOptions>): TriageOptions {
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
        throw new Error("triage options must be an object");
    }
    const minSeverity = o.minSeverity ?? DEFAULT_TRIAGE_OPTIONS.minSeverity;
    const allowSamples = o.allowSamples ?? DEFAULT_TRIAGE_OPTIONS.allowSamples;
    if (typeof minSeverity !== "number" || !Number.isFinite(minSeverity) || minSeverity < 1 || minSeverity > 10) {
        throw new Error(`minSeverity must be a number between 1 and 10, got ${describeJsonValue(minSeverity)}`);
    }
    if (typeof allowSamples !== "boolean") {
        throw new Error(`allowSamples must be a boolean, got ${describeJsonValue(allowSamples)}`);
    }
    return { minSeverity, allowSamples };
}

/** A string field for a reason text: quoted and cut short, or "missing". */
function quoted(value: string | undefined): string {
    if (value === undefined) return "missing";
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

/** Copies the finding's fields in the documented key order, leaving absent ones out entirely. */
function decide(decision: Decision, reason: string, finding?: GuardDutyFinding): TriageDecision {
    const result: TriageDecision = { decision, reason };
    if (finding === undefined) return result;
    if (finding.findingId !== undefined) result.findingId = finding.findingId;
    if (finding.findingType !== undefined) result.findingType = finding.findingType;
    if (finding.severity !== undefined) result.severity = finding.severity;
    if (finding.accountId !== undefined) result.accountId = finding.accountId;
    if (finding.region !== undefined) result.region = finding.region;
    if (finding.instanceId !== undefined) result.instanceId = finding.instanceId;
    return result;
}

/**
 * Decide whether to respond to one event (EventBridge envelope or bare finding). Checks run in this order and
 * the first failure is the reason: object, GuardDuty, resourceType "Instance" (never the presence of
 * instanceDetails, which S3Bucket/AccessKey/Container findings carry too), numeric severity >= minSeverity,
 * well-formed instance id, not a sample unless allowed. Never throws on a JSON value; throws only on bad options.
 */
export function triage(event: unknown, options: Partial<TriageOptions> = {}): TriageDecision {
    const { minSeverity, allowSamples } = validateTriageOptions(options);
    const parsed = parseFinding(event);
    if (!parsed.ok) return decide("ignore", `${parsed.problem}: ${parsed.detail}`);
    const finding = parsed.finding;

    if (finding.resourceType !== "Instance") {
        return decide("ignore", `not-instance: resourceType is ${quoted(finding.resourceType)}, expected "Instance"`, finding);
    }
    if (finding.severity === undefined) {
        return decide("ignore", `severity-not-a-number: severity is ${describeJsonValue(finding.rawSeverity)}`, finding);
    }
    if (finding.severity < minSeverity) {
        return decide("ignore", `severity-below-minimum: ${finding.severity} < ${minSeverity}`, finding);
    }
    if (finding.instanceId === undefined || !INSTANCE_ID_PATTERN.test(finding.instanceId)) {
        return decide("ignore", `invalid-instance-id: instanceDetails.instanceId is ${quoted(finding.instanceId)}`, finding);
    }
    if (finding.sample && !allowSamples) {
        return decide("ignore", "sample-finding: GuardDuty sample finding and allowSamples is off", finding);
    }
    const label = severityLabel(finding.severity);
    return decide("respond", `actionable: ${label} severity ${finding.severity} finding on instance ${finding.instanceId}`, finding);
}
