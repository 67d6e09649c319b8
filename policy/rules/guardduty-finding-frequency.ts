/**
 * The GuardDuty detector re-publishes finding updates every 15 minutes: a finding that grows in severity
 * (or a repeat on a released instance) reaches the response within minutes, not six hours (the service's
 * default). Advisory by default.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { listSetting, typedResourceRule } from "../lib/pack";

export const NAME = "guardduty-finding-frequency";

export interface FrequencyConfig {
    readonly allowedFrequencies: readonly string[];
}

export const DEFAULTS: FrequencyConfig = { allowedFrequencies: ["FIFTEEN_MINUTES"] };

export function frequencyConfig(raw: Record<string, unknown>): FrequencyConfig {
    return { allowedFrequencies: listSetting<string>(raw, "allowedFrequencies", DEFAULTS.allowedFrequencies, "string", NAME) };
}

/** The rule, as a pure function of one resource's inputs. */
export function checkGuardDutyFindingFrequency(r: RuleResource, config: FrequencyConfig = DEFAULTS): Verdict {
    if (r.type !== TYPES.detector) return notApplicable("not a GuardDuty detector");
    const p = new Problems();
    const frequency = r.props.findingPublishingFrequency;
    const allowed = config.allowedFrequencies.join(" or ");
    if (isUnknown(frequency)) p.unknownValue("findingPublishingFrequency");
    else if (frequency === undefined || frequency === null) p.violation(`findingPublishingFrequency is not set (the service default is SIX_HOURS) — set it to ${allowed}`);
    else if (typeof frequency !== "string" || !config.allowedFrequencies.includes(frequency)) {
        p.violation(`it publishes finding updates every ${String(frequency)} — set findingPublishingFrequency to ${allowed}`);
    }
    return p.verdict(`GuardDuty detector ${r.name}`);
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "GuardDuty publishes finding updates every 15 minutes",
    description: "Every GuardDuty detector sets findingPublishingFrequency to FIFTEEN_MINUTES.",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["guardduty", "detection"],
    remediationSteps: "Set findingPublishingFrequency: \"FIFTEEN_MINUTES\" on the aws.guardduty.Detector.",
    configSchema: {
        properties: {
            allowedFrequencies: {
                type: "array",
                items: { type: "string", enum: ["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] },
                default: [...DEFAULTS.allowedFrequencies],
                description: "Publishing frequencies that are fast enough.",
            },
        },
    },
    validateResource: typedResourceRule(TYPES.detector, frequencyConfig, checkGuardDutyFindingFrequency),
};
