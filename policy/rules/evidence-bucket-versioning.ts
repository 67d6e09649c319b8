/**
 * Evidence buckets keep every version: a BucketVersioning with status Enabled (Object Lock needs it, and an
 * overwritten object must stay recoverable). Advisory by default.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configsOf, evidenceBucketFindings } from "../lib/buckets";
import { isObject, isUnknown, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";

export const NAME = "evidence-bucket-versioning";

/** The rule, as a pure function of the stack: one finding per evidence bucket. */
export function checkEvidenceBucketVersioning(resources: Iterable<RuleResource>): Finding[] {
    return evidenceBucketFindings(resources, (bucket, index, p) => {
        const versionings = configsOf(index, bucket, TYPES.versionings, p, "versioning configuration");
        if (versionings !== undefined && versionings.length === 0) {
            p.violation("it has no BucketVersioning — add one with versioningConfiguration.status \"Enabled\"");
        }
        for (const v of versionings ?? []) {
            const configuration = v.props.versioningConfiguration;
            const status = isObject(configuration) ? configuration.status : configuration;
            if (isUnknown(status)) p.unknownValue(`the status of versioning configuration ${v.name}`);
            else if (status !== "Enabled") {
                p.violation(`versioning configuration ${v.name} has status ${typeof status === "string" ? status : "unset"} — set versioningConfiguration.status to "Enabled"`);
            }
        }
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence buckets are versioned",
    description: "Every evidence bucket has a BucketVersioning with versioningConfiguration.status Enabled.",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["s3", "evidence"],
    remediationSteps: "Add an aws.s3.BucketVersioning on the evidence bucket with versioningConfiguration: {status: \"Enabled\"}.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkEvidenceBucketVersioning(resources), "the stack has no evidence bucket"),
};
