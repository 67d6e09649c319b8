/**
 * Pure parsing of GuardDuty finding events: no Pulumi, no AWS SDK, no I/O.
 *
 * Input is any JSON value (what `JSON.parse` can return). Real findings drop and null keys without warning
 * (see the GuardDuty fixtures' INDEX.md), so every field is optional and read defensively: a value of
 * the wrong JSON type counts as absent. Nothing here throws on a JSON value.
 */

export const GUARDDUTY_SOURCE = "aws.guardduty";
export const GUARDDUTY_DETAIL_TYPE = "GuardDuty Finding";

/** The fields the responder needs from one finding. Absent or wrongly typed values are `undefined`. */
export interface GuardDutyFinding {
    /** true when the input was an EventBridge envelope, false for a bare finding (GetFindings / S3 export). */
    isEnvelope: boolean;
    findingId?: string;
    findingType?: string;
    /** Only a finite JSON number: a string "8" is not a severity (EventBridge numeric matching skips it). */
    severity?: number;
    /** `detail.severity` exactly as found (possibly `undefined`), so callers can say why it is unusable. */
    rawSeverity: unknown;
    /** The account the finding is about (`detail.accountId`); never the envelope's delivering account. */
    accountId?: string;
    /** `detail.region`, falling back to the envelope's `region`. */
    region?: string;
    resourceType?: string;
    /** `resource.instanceDetails.instanceId` as found; not validated here. */
    instanceId?: string;
    /** GuardDuty sample finding (CreateSampleFindings); see {@link isSampleFinding}. */
    sample: boolean;
    /** `resource.accessKeyDetails.principalId` (AccessKey findings: `<role id>:<role session name>`). */
    principalId?: string;
}

export type FindingParse =
    | { ok: true; finding: GuardDutyFinding }
    | { ok: false; problem: "not-an-object" | "not-guardduty"; detail: string };

type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Own keys only: a finding without `resource` must not pick up `Object.prototype` members. */
export function field(value: unknown, ...path: string[]): unknown {
    let current = value;
    for (const key of path) {
        if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
        current = current[key];
    }
    return current;
}

/** A non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

/** A short, single-line description of a JSON value for reason texts; never serialises containers. */
export function describeJsonValue(value: unknown): string {
    if (value === undefined) return "missing";
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return "an object";
    if (typeof value === "string") {
        const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
        return `the string ${JSON.stringify(shown)}`;
    }
    return `${typeof value} ${String(value)}`;
}

const ENVELOPE_KEYS = ["source", "detail-type", "detail"] as const;

/**
 * Whether an object without EventBridge envelope keys is a GuardDuty finding.
 *
 * Rule: `service.serviceName` is exactly "guardduty", or `arn` is a GuardDuty ARN (`arn:<partition>:guardduty:...`).
 * Both are set by GuardDuty on every finding it produces (every detail-only fixture carries both), while a bare
 * `schemaVersion`/`type`/`resource` trio is too generic to prove the origin. A finding passing this rule is
 * treated as if EventBridge had delivered it, so the envelope's source/detail-type checks count as satisfied.
 */
function looksLikeGuardDutyFinding(value: JsonObject): boolean {
    if (field(value, "service", "serviceName") === "guardduty") return true;
    const arn = field(value, "arn");
    return typeof arn === "string" && /^arn:[^:]+:guardduty:/.test(arn);
}

/**
 * Whether GuardDuty marked the finding as a sample.
 *
 * The flag is `service.additionalInfo.sample === true` (2018-2022 findings) or `sample === true` at the top of
 * the JSON object encoded in the string `service.additionalInfo.value` (2022 on; the same flag, re-encoded).
 * Only the JSON boolean `true` counts, not the string "true": GuardDuty only ever emits the boolean, and
 * wrongly calling a real finding a sample would silently drop an incident. An unparseable `value` means "no flag".
 */
export function isSampleFinding(finding: unknown): boolean {
    const additionalInfo = field(finding, "service", "additionalInfo");
    if (field(additionalInfo, "sample") === true) return true;
    const encoded = field(additionalInfo, "value");
    if (typeof encoded !== "string") return false;
    try {
        return field(JSON.parse(encoded), "sample") === true;
    } catch {
        return false;
    }
}

function extract(finding: JsonObject, isEnvelope: boolean, envelopeRegion: unknown): GuardDutyFinding {
    const severity = field(finding, "severity");
    const parsed: GuardDutyFinding = { isEnvelope, rawSeverity: severity, sample: isSampleFinding(finding) };
    const findingId = text(field(finding, "id"));
    const findingType = text(field(finding, "type"));
    const accountId = text(field(finding, "accountId"));
    const region = text(field(finding, "region")) ?? text(envelopeRegion);
    const resourceType = text(field(finding, "resource", "resourceType"));
    const instanceId = text(field(finding, "resource", "instanceDetails", "instanceId"));
    if (findingId !== undefined) parsed.findingId = findingId;
    if (findingType !== undefined) parsed.findingType = findingType;
    if (typeof severity === "number" && Number.isFinite(severity)) parsed.severity = severity;
    if (accountId !== undefined) parsed.accountId = accountId;
    if (region !== undefined) parsed.region = region;
    if (resourceType !== undefined) parsed.resourceType = resourceType;
    if (instanceId !== undefined) parsed.instanceId = instanceId;
    const principalId = text(field(finding, "resource", "accessKeyDetails", "principalId"));
    if (principalId !== undefined) parsed.principalId = principalId;
    return parsed;
}

/**
 * Recognise a GuardDuty finding event and pull out what triage needs.
 *
 * Shapes:
 * - An object with any of `source`, `detail-type`, `detail` is an EventBridge envelope and is held to what the
 *   deployed rule matches: `source` exactly "aws.guardduty", `detail-type` exactly "GuardDuty Finding" and an
 *   object `detail`. A partial wrapper (e.g. only `region` + `detail`) is therefore not GuardDuty: the rule
 *   would never have delivered it.
 * - Any other object is a bare finding, accepted when it looks like one (see `looksLikeGuardDutyFinding`).
 * Never throws on a JSON value.
 */
export function parseFinding(event: unknown): FindingParse {
    if (!isObject(event)) {
        return { ok: false, problem: "not-an-object", detail: `got ${describeJsonValue(event)}` };
    }
    if (!ENVELOPE_KEYS.some((key) => Object.hasOwn(event, key))) {
        return looksLikeGuardDutyFinding(event)
            ? { ok: true, finding: extract(event, false, undefined) }
            : {
                  ok: false,
                  problem: "not-guardduty",
                  detail: "neither an EventBridge envelope nor a GuardDuty finding (no service.serviceName \"guardduty\" or GuardDuty arn)",
              };
    }
    const source = field(event, "source");
    if (source !== GUARDDUTY_SOURCE) {
        return { ok: false, problem: "not-guardduty", detail: `source is ${describeJsonValue(source)}, expected "${GUARDDUTY_SOURCE}"` };
    }
    const detailType = field(event, "detail-type");
    if (detailType !== GUARDDUTY_DETAIL_TYPE) {
        return {
            ok: false,
            problem: "not-guardduty",
            detail: `detail-type is ${describeJsonValue(detailType)}, expected "${GUARDDUTY_DETAIL_TYPE}"`,
        };
    }
    const detail = field(event, "detail");
    if (!isObject(detail)) {
        return { ok: false, problem: "not-guardduty", detail: `detail is ${describeJsonValue(detail)}, expected an object` };
    }
    return { ok: true, finding: extract(detail, true, field(event, "region")) };
}
