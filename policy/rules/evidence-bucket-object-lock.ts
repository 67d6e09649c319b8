/**
 * Evidence buckets are locked: Object Lock enabled at creation and a default retention in COMPLIANCE mode of
 * at least `minRetentionDays`. GOVERNANCE retention can be bypassed (s3:BypassGovernanceRetention) or
 * shortened, so it is not chain of custody. Mandatory.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configsOf, evidenceBucketFindings } from "../lib/buckets";
import { isObject, isUnknown, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { numberSetting, runStackRule } from "../lib/pack";

export const NAME = "evidence-bucket-object-lock";

export interface ObjectLockConfig {
    /** Shortest acceptable default retention, in days (`years` count 365 days each). */
    readonly minRetentionDays: number;
}

export const DEFAULTS: ObjectLockConfig = { minRetentionDays: 365 };

export function objectLockConfig(raw: Record<string, unknown>): ObjectLockConfig {
    return { minRetentionDays: numberSetting(raw, "minRetentionDays", DEFAULTS.minRetentionDays, NAME) };
}

/** Problems of one lock configuration resource. */
function checkLock(lock: RuleResource, config: ObjectLockConfig, p: Problems): void {
    const fix = `rule.defaultRetention {mode: "COMPLIANCE", days: ${config.minRetentionDays}} or longer`;
    const rule = lock.props.rule;
    if (isUnknown(rule)) return void p.unknownValue(`the retention rule of lock configuration ${lock.name}`);
    const retention = isObject(rule) ? rule.defaultRetention : undefined;
    if (isUnknown(retention)) return void p.unknownValue(`the default retention of lock configuration ${lock.name}`);
    if (!isObject(retention)) return void p.violation(`lock configuration ${lock.name} sets no default retention — set ${fix}`);

    const mode = retention.mode;
    if (isUnknown(mode)) p.unknownValue(`the retention mode of lock configuration ${lock.name}`);
    else if (mode !== "COMPLIANCE") {
        p.violation(`lock configuration ${lock.name} uses ${typeof mode === "string" ? mode : "no"} retention mode — use COMPLIANCE (GOVERNANCE retention can be bypassed or shortened)`);
    }

    const { days, years } = retention;
    if (isUnknown(days) || isUnknown(years)) return void p.unknownValue(`the retention period of lock configuration ${lock.name}`);
    const retained = typeof days === "number" ? days : typeof years === "number" ? years * 365 : undefined;
    const described = typeof days === "number" ? `${days} days` : `${String(years)} years (${String(retained)} days)`;
    if (retained === undefined) p.violation(`lock configuration ${lock.name} sets no retention period — set ${fix}`);
    else if (retained < config.minRetentionDays) {
        p.violation(`lock configuration ${lock.name} retains objects for ${described}, less than ${config.minRetentionDays} — set rule.defaultRetention.days to at least ${config.minRetentionDays}`);
    }
}

/** The rule, as a pure function of the stack: one finding per evidence bucket. */
export function checkEvidenceBucketObjectLock(resources: Iterable<RuleResource>, config: ObjectLockConfig = DEFAULTS): Finding[] {
    return evidenceBucketFindings(resources, (bucket, index, p) => {
        const enabled = bucket.props.objectLockEnabled;
        if (isUnknown(enabled)) p.unknownValue("objectLockEnabled");
        else if (enabled !== true) {
            p.violation("Object Lock is not enabled — create the bucket with objectLockEnabled: true (it cannot be turned on later without AWS support)");
        }
        const locks = configsOf(index, bucket, TYPES.lockConfigs, p, "lock configuration");
        if (locks !== undefined && locks.length === 0) {
            p.violation(`it has no BucketObjectLockConfiguration — add one with rule.defaultRetention {mode: "COMPLIANCE", days: ${config.minRetentionDays}} or longer`);
        }
        for (const lock of locks ?? []) checkLock(lock, config, p);
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence buckets are under Object Lock COMPLIANCE",
    description:
        "Every evidence bucket (tagged dfir:role=evidence, or created by an EvidenceStore) has Object Lock enabled and a " +
        "BucketObjectLockConfiguration with a default retention in COMPLIANCE mode of at least minRetentionDays.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["s3", "evidence", "chain-of-custody"],
    remediationSteps:
        "Create the bucket with objectLockEnabled: true (a bucket cannot gain Object Lock later without AWS support: " +
        "create a new one and copy the evidence), and add an aws.s3.BucketObjectLockConfiguration on it with " +
        "rule.defaultRetention {mode: \"COMPLIANCE\", days: <minRetentionDays or more>}.",
    configSchema: {
        properties: {
            minRetentionDays: {
                type: "integer",
                minimum: 1,
                default: DEFAULTS.minRetentionDays,
                description: "Shortest acceptable default retention in days (a retention in years counts 365 days a year).",
            },
        },
    },
    validateStack: (args, report) =>
        runStackRule(args, report, objectLockConfig, checkEvidenceBucketObjectLock, "the stack has no evidence bucket"),
};
