/**
 * CloudTrail, as far as the evidence access trail needs it: the deployed trails (components/evidenceTrail.ts:
 * their advanced event selectors, core/accessTrail.ts), the S3 object data events they select, and the delivery of
 * those records as gzip log files into the trail's bucket.
 *
 * - What is logged: an S3 object call (read or write, refused or not: an IAM denial, an Object Lock refusal)
 *   that reached S3 with a valid request, when a trail of the bucket's region, in the bucket owner's account or the
 *   caller's, selects it ("Filtering data events by using advanced event selectors"; "Amazon S3 CloudTrail events":
 *   data events are delivered to the trails of the bucket owner and of the caller). Nothing else: no management
 *   event is simulated (the simulator has no bucket-level API), no digest file (`aws cloudtrail validate-logs` is
 *   for a real trail), no ListObjectsV2 (a bucket-level read).
 * - The record: "CloudTrail record contents" and the S3 data event example of "Amazon S3 CloudTrail events"
 *   (userIdentity, eventTime, eventSource, eventName, awsRegion, sourceIPAddress, requestParameters {bucketName,
 *   Host, key, versionId}, errorCode / errorMessage, resources: the object and its bucket, readOnly, eventCategory
 *   Data). Source addresses are stand-ins from the documentation ranges (RFC 5737): the simulator has no network
 *   addresses for callers.
 * - Delivery: "CloudTrail typically delivers logs within an average of about 5 minutes of an API call" ("Getting
 *   and viewing your CloudTrail log files"): the records of a trail are delivered together 5 minutes (simulator
 *   clock) after the oldest one waiting, as `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_
 *   <region>_<YYYYMMDDTHHmmZ>_<16 characters>.json.gz` ("CloudTrail log file examples"), a new version under the
 *   bucket's default Object Lock retention (CloudTrail sets none of its own).
 */
import { gzipSync } from "node:zlib";
import { selectorsLog, TYPICAL_DELIVERY_MINUTES, trailLogKey, type AdvancedEventSelector, type TrailRecord } from "../../core/accessTrail";
import { partitionOf } from "../../core/containmentPolicies";
import { putVersion } from "./services/s3";
import type { CallContext, World } from "./world";

export interface TrailState {
    name: string;
    arn: string;
    accountId: string;
    region: string;
    /** The log bucket. */
    bucket: string;
    selectors: AdvancedEventSelector[];
    /** Records waiting for delivery, oldest first. */
    pending: TrailRecord[];
}

const DELIVERY_MS = TYPICAL_DELIVERY_MINUTES * 60_000;

/** The S3 operations that act on one object (their requests carry Bucket and Key). */
const OBJECT_OPERATIONS = new Set(["PutObject", "GetObject", "HeadObject", "GetObjectRetention", "GetObjectAttributes", "DeleteObject"]);
const READS = new Set(["GetObject", "HeadObject", "GetObjectRetention", "GetObjectAttributes"]);

/** Stand-in source addresses (RFC 5737): a scenario's own actor, and everyone else. */
export const ACTOR_SOURCE_IP = "203.0.113.66";
export const CALLER_SOURCE_IP = "198.51.100.10";

function identity(ctx: CallContext): NonNullable<TrailRecord["userIdentity"]> {
    const caller = ctx.caller;
    const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(caller.arn);
    if (!assumed) return { type: "IAMUser", principalId: caller.userId, arn: caller.arn, accountId: caller.accountId };
    const roleArn = caller.roleArn ?? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
    return { type: "AssumedRole", principalId: caller.userId, arn: caller.arn, accountId: caller.accountId, sessionContext: { sessionIssuer: { arn: roleArn } } };
}

/** Record an S3 call for every trail that selects it (after it was answered: `error` when it failed). */
export function recordS3Call(world: World, ctx: CallContext, input: unknown, error?: unknown): void {
    const trails = Object.values(world.state.trails ?? {});
    if (trails.length === 0 || ctx.service !== "s3" || !OBJECT_OPERATIONS.has(ctx.operation)) return;
    const request = (input ?? {}) as { Bucket?: string; Key?: string; VersionId?: string };
    const bucket = request.Bucket ? world.state.buckets[request.Bucket] : undefined;
    if (!bucket || bucket.region !== ctx.region || !request.Key) return;
    const p = partitionOf(bucket.region);
    const bucketArn = `arn:${p}:s3:::${bucket.name}`;
    const objectArn = `${bucketArn}/${request.Key}`;
    const readOnly = READS.has(ctx.operation);
    const event = { eventCategory: "Data" as const, eventName: ctx.operation, readOnly, eventSource: "s3.amazonaws.com", resourceType: "AWS::S3::Object", resourceArn: objectArn };
    const failure = error as { name?: string; Code?: string; message?: string } | undefined;
    for (const trail of trails) {
        if (trail.region !== bucket.region || (trail.accountId !== bucket.accountId && trail.accountId !== ctx.caller.accountId)) continue;
        if (!selectorsLog(trail.selectors, event)) continue;
        trail.pending.push({
            eventTime: new Date(world.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
            eventSource: "s3.amazonaws.com",
            eventName: ctx.operation,
            eventCategory: "Data",
            readOnly,
            sourceIPAddress: ctx.caller.userId === "administrator" ? ACTOR_SOURCE_IP : CALLER_SOURCE_IP,
            userAgent: "[aws-sdk-js/3]",
            userIdentity: identity(ctx),
            requestParameters: {
                bucketName: bucket.name,
                Host: `${bucket.name}.s3.${bucket.region}.amazonaws.com`,
                key: request.Key,
                ...(request.VersionId ? { versionId: request.VersionId } : {}),
            },
            ...(failure ? { errorCode: failure.Code ?? failure.name ?? "Error", errorMessage: (failure.message ?? "").split("\n")[0] } : {}),
            resources: [{ type: "AWS::S3::Object", ARN: objectArn }, { type: "AWS::S3::Bucket", ARN: bucketArn }],
            requestID: world.token("trail-request", 16),
            eventID: world.uuid("trail-event"),
        });
    }
}

/** Deliver every batch that is due: the records of the 5 minutes after the oldest waiting one, as one log file. */
export function deliverTrails(world: World): void {
    for (const trail of Object.values(world.state.trails ?? {})) {
        const bucket = world.state.buckets[trail.bucket];
        while (trail.pending.length > 0 && bucket) {
            const due = Date.parse((trail.pending[0] as TrailRecord).eventTime) + DELIVERY_MS;
            if (due > world.now()) break;
            const batch = trail.pending.filter((r) => Date.parse(r.eventTime) < due);
            trail.pending = trail.pending.slice(batch.length);
            const key = trailLogKey(trail.accountId, trail.region, new Date(due), world.token("trail-file", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
            putVersion(world, bucket, key, gzipSync(JSON.stringify({ Records: batch })), { contentType: "application/json", metadata: {} });
            world.event("cloudtrail", `${trail.name}: delivered ${batch.length} record(s) as ${key}`, due);
        }
    }
}
