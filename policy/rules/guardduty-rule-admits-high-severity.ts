/**
 * The EventBridge rule that routes GuardDuty findings admits every severity from 7.0 through 10.0: a
 * `numeric` filter, not an enumerated list. The enumerated 7.0 ... 8.9 list that circulates in examples
 * misses fractional scores and every Critical (9-10) finding. Advisory by default.
 *
 * Applies to EventBridge rules whose pattern names source aws.guardduty (and, if it names a detail-type, the
 * "GuardDuty Finding" one) and admits at least one severity in the range: a rule that routes only low or
 * medium findings elsewhere is not the response rule and is left alone.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE } from "../../core/finding";
import { describeInterval, gaps, intersect, listAdmitsString, patternNumbers } from "../lib/eventPattern";
import { isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { numberSetting, typedResourceRule } from "../lib/pack";

export const NAME = "guardduty-rule-admits-high-severity";

export interface SeverityConfig {
    readonly minSeverity: number;
    readonly maxSeverity: number;
}

export const DEFAULTS: SeverityConfig = { minSeverity: 7, maxSeverity: 10 };

export function severityConfig(raw: Record<string, unknown>): SeverityConfig {
    return {
        minSeverity: numberSetting(raw, "minSeverity", DEFAULTS.minSeverity, NAME),
        maxSeverity: numberSetting(raw, "maxSeverity", DEFAULTS.maxSeverity, NAME),
    };
}

/** The rule, as a pure function of one resource's inputs. */
export function checkGuardDutyRuleSeverity(r: RuleResource, config: SeverityConfig = DEFAULTS): Verdict {
    if (r.type !== TYPES.eventRule) return notApplicable("not an EventBridge rule");
    const subject = `GuardDuty rule ${r.name}`;
    const raw = r.props.eventPattern;
    if (raw === undefined || raw === null || raw === "") return notApplicable("no event pattern (a scheduled rule)");
    if (isUnknown(raw)) return new Problems().unknownValue("its event pattern (whether it routes GuardDuty findings, and which severities)").verdict(`EventBridge rule ${r.name}`);
    let pattern: unknown = raw;
    if (typeof raw === "string") {
        try {
            pattern = JSON.parse(raw);
        } catch {
            return notApplicable("the event pattern is not JSON");
        }
    }
    if (!isObject(pattern) || !listAdmitsString(pattern.source, GUARDDUTY_SOURCE)) return notApplicable("does not route GuardDuty events");
    if (pattern["detail-type"] !== undefined && !listAdmitsString(pattern["detail-type"], GUARDDUTY_DETAIL_TYPE)) {
        return notApplicable("routes GuardDuty events other than findings");
    }

    const range = `from ${config.minSeverity} to ${config.maxSeverity}`;
    const admitted = patternNumbers(pattern, ["detail", "severity"]);
    if ("error" in admitted) return new Problems().violation(`its severity filter cannot be evaluated (${admitted.error}) — match severity with {"numeric": [">=", ${config.minSeverity}]}`).verdict(subject);
    const wanted = { lo: config.minSeverity, hi: config.maxSeverity, loOpen: false, hiOpen: false };
    if (intersect(admitted.intervals, [wanted]).length === 0) return notApplicable(`admits no severity ${range}: not the response rule`);
    const missed = gaps(admitted.intervals, config.minSeverity, config.maxSeverity);
    if (missed.length === 0) return new Problems().verdict(subject);
    const critical = missed.some((g) => g.hi >= 9 && g.lo <= 10);
    const shown = missed.slice(0, 3).map(describeInterval).join(", ");
    const more = missed.length > 3 ? ` and ${missed.length - 3} more gaps` : "";
    return new Problems().violation(
        `its pattern does not admit every severity ${range}: it misses ${shown}${more}${critical ? " (Critical findings, 9-10, included)" : ""} — ` +
        `match detail.severity with {"numeric": [">=", ${config.minSeverity}]} instead of a list of values`,
    ).verdict(subject);
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "The GuardDuty response rule admits severities 7 to 10",
    description:
        "An EventBridge rule routing GuardDuty findings (source aws.guardduty) that admits high severities admits every " +
        "severity from minSeverity through maxSeverity (a numeric filter, not an enumerated list that stops at 8.9).",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["guardduty", "eventbridge", "detection"],
    remediationSteps:
        "Generate the pattern with core/pattern.ts buildEventPattern, or write detail.severity as [{\"numeric\": [\">=\", 7]}].",
    configSchema: {
        properties: {
            minSeverity: { type: "number", minimum: 0, maximum: 10, default: DEFAULTS.minSeverity, description: "Lowest severity the response rule must admit." },
            maxSeverity: { type: "number", minimum: 0, maximum: 10, default: DEFAULTS.maxSeverity, description: "Highest severity the response rule must admit." },
        },
    },
    validateResource: typedResourceRule(TYPES.eventRule, severityConfig, checkGuardDutyRuleSeverity),
};
