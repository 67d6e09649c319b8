/**
 * Every bucket of the stack sits behind a public access block with all four protections on (or the stack
 * sets them account-wide). Mandatory: evidence must never become public through a later ACL or policy.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { BUCKET_LINKS, configsOf } from "../lib/buckets";
import { finding, isUnknown, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { StackIndex } from "../lib/stackIndex";

export const NAME = "s3-public-access-block";

export const PUBLIC_ACCESS_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** Flags of one block that are not definitely true, split into false/absent and unknown. */
function flagsOf(block: RuleResource): { off: string[]; unknown: string[] } {
    const off: string[] = [];
    const unknownFlags: string[] = [];
    for (const flag of PUBLIC_ACCESS_FLAGS) {
        const value = block.props[flag];
        if (isUnknown(value)) unknownFlags.push(flag);
        else if (value !== true) off.push(flag);
    }
    return { off, unknown: unknownFlags };
}

/** The rule, as a pure function of the stack: one finding per bucket. */
export function checkS3PublicAccessBlock(resources: Iterable<RuleResource>): Finding[] {
    const index = new StackIndex(resources, BUCKET_LINKS);
    const accountWide = index.ofType(TYPES.accountPublicAccessBlock).find((b) => {
        const flags = flagsOf(b);
        return flags.off.length === 0 && flags.unknown.length === 0;
    });
    const findings: Finding[] = [];
    for (const bucket of index.ofTypes(TYPES.buckets)) {
        const p = new Problems();
        if (accountWide === undefined) {
            const blocks = configsOf(index, bucket, TYPES.publicAccessBlocks, p, "public access block");
            if (blocks !== undefined && blocks.length === 0) {
                p.violation("it has no BucketPublicAccessBlock — add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true");
            }
            for (const block of blocks ?? []) {
                const flags = flagsOf(block);
                if (flags.off.length > 0) p.violation(`public access block ${block.name} leaves ${flags.off.join(", ")} off — set ${flags.off.length === 1 ? "it" : "them"} to true`);
                if (flags.unknown.length > 0) p.unknownValue(`${flags.unknown.join(", ")} of public access block ${block.name}`);
            }
        }
        findings.push(finding(bucket, p.verdict(`bucket ${bucket.name}`)));
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Buckets block all public access",
    description:
        "Every bucket of the stack has a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and " +
        "restrictPublicBuckets all true (or the stack sets an AccountPublicAccessBlock with all four true).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Add an aws.s3.BucketPublicAccessBlock on the bucket (bucket: bucket.id) with blockPublicAcls, blockPublicPolicy, " +
        "ignorePublicAcls and restrictPublicBuckets set to true.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkS3PublicAccessBlock(resources), "the stack has no bucket"),
};
