/**
 * Every bucket of the stack sits behind a public access block with all four protections on: its own
 * BucketPublicAccessBlock, or an AccountPublicAccessBlock of the account the bucket belongs to (same provider,
 * or providers stating the same account: `accountBlockCoverage`). Mandatory: evidence must never become public
 * through a later ACL or policy.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { BUCKET_LINKS, configsOf } from "../lib/buckets";
import { compliant, finding, isUnknown, knownString, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { providerAccount, providerLabel, sameProvider, type AccountOf } from "../lib/providers";
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

/** Whether an account-level block applies to a bucket, and if not (or not yet knowable), why. */
type Coverage = { readonly covers: true } | { readonly covers: false | "unknown"; readonly why: string };

/**
 * Whether account-level block `block` applies to `bucket`. Account-level settings apply to every bucket the
 * account owns, in every Region ("Blocking public access to your Amazon S3 storage", Amazon S3 User Guide:
 * "If you apply a setting to an account, it applies to all buckets and access points that are owned by that
 * account"; "the settings apply to all AWS Regions globally"), and to no other account's buckets.
 *
 * The block's account is its `accountId` (the provider fills it in with its own account when the program leaves it
 * out, so after a deployment it is always there), else its provider's. A bucket's account is its provider's, when
 * the provider states it (`providerAccount`). So the block covers the bucket when:
 * - both go through the same provider, unless the block's `accountId` and the provider's stated account are
 *   known and differ (a block for another account). Otherwise (the provider states no account, or a value is
 *   unknown at preview) the block's `accountId` under the bucket's own provider is taken as that provider's
 *   account: it is what the provider fills in, and policy/README.md names the limit of this;
 * - or, through different providers, both accounts are stated and equal (one account, two Regions or roles).
 * Anything else does not cover it; a value unknown at preview that decides it makes the answer "unknown".
 */
export function accountBlockCoverage(block: RuleResource, bucket: RuleResource): Coverage {
    const id = block.props.accountId;
    const blockAccount: AccountOf = isUnknown(id) ? "unknown" : knownString(id) ?? providerAccount(block.provider);
    const bucketAccount = providerAccount(bucket.provider);
    const bucketSide = `the bucket's ${providerLabel(bucket)}`;
    if (sameProvider(block, bucket)) {
        const differ = bucketAccount !== undefined && bucketAccount !== "unknown" && blockAccount !== undefined && blockAccount !== "unknown" && bucketAccount !== blockAccount;
        return differ ? { covers: false, why: `it is for account ${blockAccount}, ${bucketSide} deploys into ${bucketAccount}` } : { covers: true };
    }
    const blockSide = `its ${providerLabel(block)}`;
    if (bucketAccount === undefined) return { covers: false, why: `it goes through ${blockSide} and ${bucketSide} does not state its account (allowedAccountIds or assumeRoles)` };
    if (blockAccount === undefined) return { covers: false, why: `${blockSide} does not state its account (allowedAccountIds or assumeRoles), ${bucketSide} deploys into ${bucketAccount === "unknown" ? "an account unknown during preview" : bucketAccount}` };
    if (bucketAccount === "unknown" || blockAccount === "unknown") {
        return { covers: "unknown", why: `${blockAccount === "unknown" ? "its account" : `the account of ${bucketSide}`} is unknown` };
    }
    return blockAccount === bucketAccount ? { covers: true } : { covers: false, why: `it is for account ${blockAccount}, ${bucketSide} deploys into ${bucketAccount}` };
}

const ALL_FLAGS = "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true";

/** The rule, as a pure function of the stack: one finding per bucket. */
export function checkS3PublicAccessBlock(resources: Iterable<RuleResource>): Finding[] {
    const index = new StackIndex(resources, BUCKET_LINKS);
    const accountBlocks = index.ofType(TYPES.accountPublicAccessBlock).map((block) => ({ block, flags: flagsOf(block) }));
    const findings: Finding[] = [];
    for (const bucket of index.ofTypes(TYPES.buckets)) {
        // Account level: every block covering the bucket must have all four flags on (one account has one
        // configuration; two resources writing it leave whichever ran last).
        const covering: { block: RuleResource; flags: { off: string[]; unknown: string[] } }[] = [];
        const notCovering: string[] = [];
        const accountUnknowns: string[] = [];
        for (const { block, flags } of accountBlocks) {
            const c = accountBlockCoverage(block, bucket);
            if (c.covers === true) covering.push({ block, flags });
            else if (c.covers === "unknown") accountUnknowns.push(`cannot tell whether account public access block ${block.name} covers it during preview: ${c.why}`);
            else notCovering.push(`account public access block ${block.name} does not cover it: ${c.why}`);
        }
        const accountWeak: string[] = [];
        for (const { block, flags } of covering) {
            if (flags.off.length > 0) accountWeak.push(`account public access block ${block.name} leaves ${flags.off.join(", ")} off — set ${flags.off.length === 1 ? "it" : "them"} to true`);
            if (flags.unknown.length > 0) accountUnknowns.push(`cannot check ${flags.unknown.join(", ")} of account public access block ${block.name} during preview: value unknown`);
        }
        if (covering.length > 0 && accountWeak.length === 0 && covering.every((c) => c.flags.unknown.length === 0)) {
            findings.push(finding(bucket, compliant()));
            continue;
        }

        // Bucket level: its own block(s), all four flags on.
        const own = new Problems();
        const blocks = configsOf(index, bucket, TYPES.publicAccessBlocks, own, "public access block");
        if (blocks !== undefined && blocks.length === 0) own.violation(`it has no BucketPublicAccessBlock — add one with ${ALL_FLAGS}`);
        for (const block of blocks ?? []) {
            const flags = flagsOf(block);
            if (flags.off.length > 0) own.violation(`public access block ${block.name} leaves ${flags.off.join(", ")} off — set ${flags.off.length === 1 ? "it" : "them"} to true`);
            if (flags.unknown.length > 0) own.unknownValue(`${flags.unknown.join(", ")} of public access block ${block.name}`);
        }
        const ownVerdict = own.verdict();
        const p = new Problems();
        if (ownVerdict.status === "violation" && accountUnknowns.length === 0) {
            // Definitely not blocked at either level: say why the account blocks of the stack do not count.
            p.violation(ownVerdict.message);
            for (const text of [...accountWeak, ...notCovering]) p.violation(text);
        } else if (ownVerdict.status !== "compliant") {
            if (ownVerdict.status === "unknown") p.unknownNote(ownVerdict.message);
            for (const text of accountUnknowns) p.unknownNote(text);
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
        "restrictPublicBuckets all true, or belongs to the account of an AccountPublicAccessBlock with all four true (same provider, " +
        "or providers stating the same account).",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Add an aws.s3.BucketPublicAccessBlock on the bucket (bucket: bucket.id) with blockPublicAcls, blockPublicPolicy, " +
        "ignorePublicAcls and restrictPublicBuckets set to true.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkS3PublicAccessBlock(resources), "the stack has no bucket"),
};
