/**
 * The EventBridge rule's event pattern, generated from the same options as `triage()` so the rule can never
 * drift from the decision the CLI and the workflow's triage guard make.
 */
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from "./finding";
import { measure, QUOTAS } from "./quotas";
import { validateTriageOptions, type TriageOptions, type TriageOptionsInput } from "./triage";
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
    const patterns = kindPatterns(o);
    if (o.accountIds.length === 0) return patterns;
    return Object.fromEntries(Object.entries(patterns).map(([kind, p]) => [kind, withAccounts(kind as RuleTrigger, p as EventPattern, o.accountIds)]));
}

/**
 * EventBridge's event pattern size, in characters: 2,048 by default, adjustable up to 4,096 (Amazon EventBridge
 * quotas, "Event pattern size"; the Pulumi/Terraform `aws_cloudwatch_event_rule` docs say the same). A rule's
 * pattern longer than this fails PutRule, so an account filter that does not fit is split over several rules.
 */
export const EVENT_PATTERN_MAX_CHARS = QUOTAS.eventPattern.limit;

/** A pattern's size as the quota counts it (core/quotas.ts, the same measure the mocks and the pack use). */
const patternSize = (p: EventPattern) => measure(JSON.stringify(p), QUOTAS.eventPattern.unit);

/** One EventBridge rule of a trigger kind: `part` 1 keeps the kind's rule name; more parts only when the accounts need them. */
export interface TriggerRule {
    readonly kind: RuleTrigger;
    readonly part: number;
    readonly pattern: EventPattern;
}

/**
 * The rules of `options`: one per enabled kind, or, when the account filter makes a kind's pattern longer than
 * `maxChars` (EVENT_PATTERN_MAX_CHARS as written by JSON.stringify), that kind's accounts split in order over as
 * few rules as fit. Together a kind's rules match exactly what `buildTriggerPatterns` gives for it.
 * Throws on invalid options, like `validateTriageOptions`.
 */
export function buildTriggerRules(options: TriageOptionsInput, maxChars = EVENT_PATTERN_MAX_CHARS): TriggerRule[] {
    const o = validateTriageOptions(options);
    const rules: TriggerRule[] = [];
    for (const [kind, base] of Object.entries(kindPatterns(o)) as [RuleTrigger, EventPattern][]) {
        if (o.accountIds.length === 0) {
            rules.push({ kind, part: 1, pattern: base });
            continue;
        }
        let chunk: string[] = [];
        const flush = () => {
            rules.push({ kind, part: rules.filter((r) => r.kind === kind).length + 1, pattern: withAccounts(kind, base, chunk) });
            chunk = [];
        };
        for (const account of o.accountIds) {
            if (chunk.length > 0 && patternSize(withAccounts(kind, base, [...chunk, account])) > maxChars) flush();
            chunk.push(account);
            if (patternSize(withAccounts(kind, base, chunk)) > maxChars) {
                throw new Error(`the ${kind} rule's pattern is longer than ${maxChars} characters with a single account`);
            }
        }
        flush();
    }
    return rules;
}

/**
 * Where each kind's events name the account the finding or change is about: GuardDuty's `detail.accountId` ("the
 * ID of the AWS account in which the activity took place", GuardDuty finding format; a delegated administrator
 * receives its members' findings, so its own account is not the one to match), ASFF's required
 * `detail.findings.AwsAccountId` (AWS Security Finding Format, required attributes), and a tag change's envelope
 * `account`. That last one is an assumption: no AWS page read here says that a member rule forwarding the event to
 * the hub's bus keeps the envelope's `account` (docs/limitations.md); triage reads the instance ARN's account first.
 */
function withAccounts(kind: RuleTrigger, pattern: EventPattern, accountIds: readonly string[]): EventPattern {
    const ids = [...accountIds];
    const detail = pattern.detail as EventPattern;
    switch (kind) {
        case "guardduty":
        case "credential-exfiltration":
            return { ...pattern, detail: { ...detail, accountId: ids } };
        case "securityhub":
            return { ...pattern, detail: { ...detail, findings: { ...(detail.findings as EventPattern), AwsAccountId: ids } } };
        case "tag":
            return { ...pattern, account: ids };
    }
}

/** Each enabled kind's pattern without the account filter. */
function kindPatterns(o: TriageOptions): Partial<Record<RuleTrigger, EventPattern>> {
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
