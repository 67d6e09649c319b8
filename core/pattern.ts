/**
 * The EventBridge rule's event pattern, generated from the same options as `triage()` so the rule can never
 * drift from the decision the CLI and the workflow's triage guard make.
 */
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from "./finding";
import { validateTriageOptions, type TriageOptionsInput } from "./triage";
import {
    CREDENTIAL_EXFILTRATION_PREFIX,
    labelsFrom,
    OPEN_WORKFLOW_STATUSES,
    RESPOND_TAG,
    RESPOND_TAG_VALUES,
    SECURITYHUB_DETAIL_TYPE,
    SECURITYHUB_SOURCE,
    TAG_DETAIL_TYPE,
    TAG_SOURCE,
} from "./triggers";

/** Comparison operators of EventBridge `numeric` content filters. */
export type NumericOperator = ">" | ">=" | "<" | "<=" | "=";

/** One entry of a pattern's value list: an exact value or a content filter. */
export type PatternMatcher =
    | string
    | number
    | boolean
    | null
    | { numeric: readonly (NumericOperator | number)[] }
    | { prefix: string }
    | { exists: boolean }
    | { "anything-but": string | number | readonly (string | number)[] | { prefix: string } };

/** An EventBridge event pattern: nested objects ending in lists of matchers. */
export interface EventPattern {
    readonly [field: string]: EventPattern | readonly PatternMatcher[];
}

/**
 * The rule pattern for `options`: GuardDuty findings on EC2 instances with a numeric severity of at least
 * `minSeverity`. A `numeric` range, not an enumerated list of severities, so fractional and Critical (9-10)
 * scores match too. The instance-id shape and the sample flag cannot be expressed here: the workflow's triage
 * guard (`triage()`) checks them. Throws on invalid options, like `validateTriageOptions`.
 */
export function buildEventPattern(options: TriageOptionsInput): EventPattern {
    const { minSeverity } = validateTriageOptions(options);
    return {
        source: [GUARDDUTY_SOURCE],
        "detail-type": [GUARDDUTY_DETAIL_TYPE],
        detail: {
            severity: [{ numeric: [">=", minSeverity] }],
            resource: { resourceType: ["Instance"] },
        },
    };
}

/** The kinds with an EventBridge rule (`manual` starts the state machine directly: `dfir respond`). */
export type RuleTrigger = "guardduty" | "credential-exfiltration" | "securityhub" | "tag";

/**
 * One pattern per enabled trigger kind, from the same options as `triage()`. What a pattern cannot express
 * (instance-id shape, sample flags, the session name of a credential finding) the triage guard checks.
 * - credential-exfiltration: GuardDuty findings of type prefix `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration`
 *   on an AccessKey with severity >= minSeverity (so the pack's `guardduty-rule-admits-high-severity` holds it too).
 * - securityhub: `Security Hub Findings - Imported` with an `AwsEc2Instance` resource, a label at or above minLabel,
 *   RecordState ACTIVE, Workflow.Status NEW or NOTIFIED, and (unless includeGuardDuty) a product other than GuardDuty.
 *   Array values match when any element does (EventBridge "Arrays in EventBridge event patterns"); `detail.findings`
 *   holds one finding per event, so every condition is about that finding.
 * - tag: `Tag Change on Resource` for ec2 instances whose changed keys include dfir:respond and whose dfir:respond
 *   is contain or evidence.
 * Throws on invalid options, like `validateTriageOptions`.
 */
export function buildTriggerPatterns(options: TriageOptionsInput): Partial<Record<RuleTrigger, EventPattern>> {
    const o = validateTriageOptions(options);
    const out: Partial<Record<RuleTrigger, EventPattern>> = { guardduty: buildEventPattern(o) };
    if (o.credentialExfiltration) {
        out["credential-exfiltration"] = {
            source: [GUARDDUTY_SOURCE],
            "detail-type": [GUARDDUTY_DETAIL_TYPE],
            detail: {
                type: [{ prefix: CREDENTIAL_EXFILTRATION_PREFIX }],
                severity: [{ numeric: [">=", o.minSeverity] }],
                resource: { resourceType: ["AccessKey"] },
            },
        };
    }
    if (o.securityHub.enabled) {
        const sh = o.securityHub;
        const products: PatternMatcher[] = sh.products.length > 0
            ? sh.products.filter((p) => sh.includeGuardDuty || p !== "GuardDuty")
            : sh.includeGuardDuty ? [] : [{ "anything-but": "GuardDuty" }];
        out.securityhub = {
            source: [SECURITYHUB_SOURCE],
            "detail-type": [SECURITYHUB_DETAIL_TYPE],
            detail: {
                findings: {
                    Resources: { Type: ["AwsEc2Instance"] },
                    Severity: { Label: labelsFrom(sh.minLabel) },
                    RecordState: ["ACTIVE"],
                    Workflow: { Status: [...OPEN_WORKFLOW_STATUSES] },
                    ...(products.length > 0 ? { ProductName: products } : {}),
                },
            },
        };
    }
    if (o.tagTrigger) {
        out.tag = {
            source: [TAG_SOURCE],
            "detail-type": [TAG_DETAIL_TYPE],
            detail: {
                service: ["ec2"],
                "resource-type": ["instance"],
                "changed-tag-keys": [RESPOND_TAG],
                tags: { [RESPOND_TAG]: [...RESPOND_TAG_VALUES] },
            },
        };
    }
    return out;
}

/** The EventBridge sources the enabled rules listen to (what a hub's bus must admit from its members). */
export function triggerSources(options: TriageOptionsInput): string[] {
    const patterns = buildTriggerPatterns(options);
    return [...new Set(Object.values(patterns).flatMap((p) => (p?.source ?? []) as string[]))].sort();
}
