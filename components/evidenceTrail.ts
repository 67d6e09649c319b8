import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { lockedBucket } from "./lockedBucket";
import { trailArnOf, trailBucketPolicy, trailSelectorsFor } from "../core/accessTrail";
import { TAGS } from "../core/tags";

export interface EvidenceTrailArgs {
    /** The evidence buckets (ARNs) of this account and region whose objects the trail logs. */
    readonly evidenceBucketArns: pulumi.Input<string>[];
    /** Object Lock COMPLIANCE default retention of the log files, in days: the evidence's retention. */
    readonly retentionDays: number;
    /** As the evidence store's: the only principal the tamper denial spares. @default undefined */
    readonly breakGlassRoleArn?: pulumi.Input<string>;
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The evidence access trail of one account and region (issue 17, item 4): a CloudTrail trail logging every data
 * event on the evidence buckets' objects (reads and writes, refused attempts included: GetObject, DeleteObject,
 * PutObjectRetention, ...) and the region's write management events (core/accessTrail.ts
 * `evidenceTrailSelectors`), with log file integrity validation (digest files), into its own bucket: versioned,
 * Object Lock COMPLIANCE for the evidence's retention, no public access, TLS only, writable by this trail only
 * (`trailBucketPolicy`). `dfir verify` reads it to show who read a case's evidence and when.
 *
 * Why data events rather than S3 server access logs: access logs cannot be delivered into a bucket with Object Lock
 * ("Troubleshoot server access logging", S3 User Guide), so they could be deleted; a trail's log files can be locked,
 * and their digest files prove none was changed or removed. Delivery into an Object Lock bucket: CloudTrail sets no
 * retention of its own, the bucket's default retention applies to each file it writes.
 *
 * Encryption: SSE-S3 (the files hold who did what, not evidence content). SSE-KMS would add a key whose policy must
 * admit CloudTrail, and a key policy mistake stops delivery without an error anyone sees (docs/limitations.md).
 * Single-region: S3 data events are delivered by a trail in the bucket's region.
 */
export class EvidenceTrail extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucketArn: pulumi.Output<string>;
    public readonly trailArn: pulumi.Output<string>;

    constructor(name: string, args: EvidenceTrailArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:storage:EvidenceTrail", name, {}, opts);
        if (!Number.isInteger(args.retentionDays) || args.retentionDays < 1) {
            throw new Error(`EvidenceTrail ${name}: retentionDays must be a whole number of days >= 1, got ${args.retentionDays}`);
        }
        const tags = { ...args.tags, [TAGS.role]: TAGS.roleAccessTrail };
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        // The trail's name is fixed, so the bucket policy can name its ARN before the trail exists.
        const trailName = name;

        // Versioned, Object Lock COMPLIANCE for the evidence's retention, SSE-S3, public access blocked, ACLs off.
        const { bucket, lock, publicAccess } = lockedBucket(this, name, {
            retentionDays: args.retentionDays,
            encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
            tags,
        });
        const trailArn = pulumi.all([partition, region, accountId]).apply(([p, r, a]) => trailArnOf(p, r, a, trailName));
        const policy = new aws.s3.BucketPolicy(`${name}-policy`, {
            bucket: bucket.id,
            policy: pulumi.all([bucket.arn, trailArn, accountId, args.breakGlassRoleArn]).apply(([arn, trail, account, role]) =>
                JSON.stringify(trailBucketPolicy(arn, trail, account, role))),
        }, { parent: this, dependsOn: [lock, publicAccess] });

        // CloudTrail checks the bucket policy when the trail is created: after it.
        const trail = new aws.cloudtrail.Trail(`${name}-trail`, {
            name: trailName,
            s3BucketName: bucket.id,
            enableLogging: true,
            enableLogFileValidation: true,
            isMultiRegionTrail: false,
            includeGlobalServiceEvents: false,
            // Outputs only at the leaves (the buckets' object ARN prefixes): a preview shows the selectors' shape.
            advancedEventSelectors: trailSelectorsFor(args.evidenceBucketArns.map((arn) => pulumi.interpolate`${arn}/`)),
            tags,
        }, { parent: this, dependsOn: [policy] });

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.trailArn = trail.arn;
        this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, trailArn: this.trailArn });
    }
}
