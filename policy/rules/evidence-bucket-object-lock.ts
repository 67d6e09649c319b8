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

/**
 * The deprecated inline `objectLockConfiguration` of a Bucket (@pulumi/aws v7 still applies it: the provider
 * creates the bucket with Object Lock when its `objectLockEnabled` is "Enabled" and puts its `rule` with
 * PutObjectLockConfiguration — terraform-provider-aws internal/service/s3/bucket.go, resourceBucketCreate /
 * resourceBucketUpdate). The decision, in policy/README.md:
 * - `objectLockEnabled: "Enabled"` counts as Object Lock enabled: AWS cannot turn Object Lock off once on
 *   ("Configuring S3 Object Lock", Amazon S3 User Guide: "After you enable Object Lock on a bucket, you can't
 *   disable Object Lock"), so the value is true whether the program wrote it or AWS reported it.
 * - Its `rule` does not count as the bucket's lock configuration. A stack rule reads outputs, and the provider
 *   refreshes this block from AWS whatever set the retention; the block is optional and computed, so a value
 *   missing from the program keeps the last one read. A retention that is being removed — deleting the
 *   BucketObjectLockConfiguration that set it puts a configuration with no rule
 *   (resourceBucketObjectLockConfigurationDelete) — would still read as set. A linked
 *   BucketObjectLockConfiguration is required.
 * - A `rule` whose mode is not COMPLIANCE is a violation: written in the program it would replace the lock
 *   configuration's retention whenever the block changes; reported by AWS it is what the bucket had. (Its period
 *   is not read: an older value read from AWS can be shorter than a retention since raised.)
 */
function inlineLock(bucket: RuleResource): { enabled: unknown; mode: unknown; hasRule: boolean } {
    const inline = bucket.props.objectLockConfiguration;
    // Unknown as a whole: what a preview shows for this optional, computed block of any new bucket; it is read as
    // absent (a bucket the program did not give the block cannot have it "Enabled").
    if (!isObject(inline)) return { enabled: undefined, mode: undefined, hasRule: false };
    const retention = isObject(inline.rule) ? inline.rule.defaultRetention : undefined;
    return { enabled: inline.objectLockEnabled, mode: isObject(retention) ? retention.mode : undefined, hasRule: isObject(retention) };
}

/** The rule, as a pure function of the stack: one finding per evidence bucket. */
export function checkEvidenceBucketObjectLock(resources: Iterable<RuleResource>, config: ObjectLockConfig = DEFAULTS): Finding[] {
    return evidenceBucketFindings(resources, (bucket, index, p) => {
        const enabled = bucket.props.objectLockEnabled;
        const inline = inlineLock(bucket);
        if (enabled !== true && inline.enabled !== "Enabled") {
            if (isUnknown(enabled)) p.unknownValue("objectLockEnabled");
            else p.violation("Object Lock is not enabled — create the bucket with objectLockEnabled: true (it cannot be turned on later without AWS support)");
        }
        if (typeof inline.mode === "string" && inline.mode !== "COMPLIANCE") {
            p.violation(`its deprecated inline objectLockConfiguration sets ${inline.mode} retention — remove it and keep the retention in a BucketObjectLockConfiguration (COMPLIANCE)`);
        }
        const locks = configsOf(index, bucket, TYPES.lockConfigs, p, "lock configuration");
        if (locks !== undefined && locks.length === 0) {
            const fix = `add one with rule.defaultRetention {mode: "COMPLIANCE", days: ${config.minRetentionDays}} or longer`;
            p.violation(
                inline.hasRule
                    ? `it has no BucketObjectLockConfiguration: a retention in the deprecated inline objectLockConfiguration does not count ` +
                      `(the bucket's outputs keep the retention AWS last reported, even once it is removed) — ${fix}`
                    : `it has no BucketObjectLockConfiguration — ${fix}`,
            );
        }
        for (const lock of locks ?? []) checkLock(lock, config, p);
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence buckets are under Object Lock COMPLIANCE",
    description:
        "Every evidence bucket (tagged dfir:role=evidence, created by an EvidenceStore, or named in a function's EVIDENCE_BUCKET) has Object Lock enabled and a " +
        "BucketObjectLockConfiguration with a default retention in COMPLIANCE mode of at least minRetentionDays (a retention in the " +
        "deprecated inline objectLockConfiguration does not count; a GOVERNANCE one there is a violation).",
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
