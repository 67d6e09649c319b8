/**
 * The EventBridge rule's event pattern, generated from the same options as `triage()` so the rule can never
 * drift from the decision the CLI and the workflow's triage guard make.
 */
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from "./finding";
import { validateTriageOptions, type TriageOptions } from "./triage";

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
export function buildEventPattern(options: TriageOptions): EventPattern {
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
