import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import type * as inputs from "@pulumi/aws/types/input";

export interface LockedBucketArgs {
    /** Object Lock COMPLIANCE default retention, in days: every object written without its own retention gets it. */
    readonly retentionDays: number;
    /** The default encryption rule (the evidence store's KMS key, the trail's SSE-S3). */
    readonly encryption: inputs.s3.BucketServerSideEncryptionConfigurationRule;
    readonly tags: Record<string, string>;
}

export interface LockedBucket {
    bucket: aws.s3.Bucket;
    versioning: aws.s3.BucketVersioning;
    /** Object Lock configuration (set after versioning): a bucket policy denying its change must come after it. */
    lock: aws.s3.BucketObjectLockConfiguration;
    publicAccess: aws.s3.BucketPublicAccessBlock;
}

/**
 * The bucket both the evidence store and the access trail keep their records in, as children of `parent` named
 * after `name`: Object Lock enabled at creation with a COMPLIANCE default retention (after versioning, which it
 * needs), the given default encryption, every public access blocked, ACLs off (BucketOwnerEnforced: policies decide;
 * CloudTrail's `bucket-owner-full-control` is the one ACL such a bucket still accepts, "Controlling ownership of
 * objects", S3 User Guide). The bucket outlives its stack (`retainOnDelete`), as the records in it must.
 */
export function lockedBucket(parent: pulumi.ComponentResource, name: string, args: LockedBucketArgs): LockedBucket {
    const child = { parent };
    const bucket = new aws.s3.Bucket(name, { objectLockEnabled: true, forceDestroy: false, tags: args.tags }, { parent, retainOnDelete: true });
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
    }, child);
    const lock = new aws.s3.BucketObjectLockConfiguration(`${name}-lock`, {
        bucket: bucket.id,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: "COMPLIANCE", days: args.retentionDays } },
    }, { parent, dependsOn: [versioning] });
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, { bucket: bucket.id, rules: [args.encryption] }, child);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
    }, child);
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    return { bucket, versioning, lock, publicAccess };
}
