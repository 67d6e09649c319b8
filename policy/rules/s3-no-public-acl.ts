/**
 * No ACL makes a bucket or an object readable by anyone. Amazon S3 calls an ACL public when it "grants any
 * permissions to members of the predefined AllUsers or AuthenticatedUsers groups" ("Blocking public access to
 * your Amazon S3 storage" > "The meaning of public", Amazon S3 User Guide); of the canned ACLs ("Access control
 * list (ACL) overview" > "Canned ACL"), public-read (AllUsers READ), public-read-write (AllUsers READ and WRITE)
 * and authenticated-read (AuthenticatedUsers READ: any AWS account) do that; private, aws-exec-read (EC2 READ),
 * bucket-owner-read, bucket-owner-full-control and log-delivery-write (the LogDelivery group) do not.
 *
 * Every resource type of @pulumi/aws v7 that sets a canned ACL or grants on S3 is read:
 * - buckets: `BucketAcl`/`BucketAclV2` (`acl`, `accessControlPolicy.grants[].grantee`), a bucket's own deprecated
 *   `acl`/`grants` (`Bucket`, `BucketV2`);
 * - objects: `BucketObject`/`BucketObjectv2` (`acl`), `ObjectCopy` (`acl`, `grants`), and the server access log
 *   objects S3 writes with a `BucketLogging`/`BucketLoggingV2`'s `targetGrants[].grantee`;
 * - services writing objects into buckets with a canned ACL: `iot.TopicRule` (`s3[].cannedAcl`,
 *   `errorAction.s3.cannedAcl`), `dms.S3Endpoint` (`cannedAclForObjects`), `storagegateway.NfsFileShare` /
 *   `SmbFileShare` (`objectAcl`), `medialive.Channel` (`cannedAcl` of its output groups' S3 settings, in
 *   MediaLive's spelling PUBLIC_READ / AUTHENTICATED_READ).
 * Mandatory.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { runResourceRule } from "../lib/pack";

export const NAME = "s3-no-public-acl";

/** The canned ACLs that grant to AllUsers or AuthenticatedUsers (S3 User Guide, "Canned ACL"). */
export const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
export const PUBLIC_GROUP_URIS = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];
/** A grantee URI naming either public group (scheme, case and a trailing slash are not trusted to differ). */
const PUBLIC_GROUP = /^https?:\/\/acs\.amazonaws\.com\/groups\/global\/(allusers|authenticatedusers)\/?$/i;

const FIX = "use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies";

/** A canned ACL in S3's spelling: MediaLive writes PUBLIC_READ, S3 public-read. */
function cannedAclName(acl: string): string {
    return acl.trim().toLowerCase().replace(/_/g, "-");
}

function checkCannedAcl(acl: unknown, what: string, p: Problems): void {
    if (isUnknown(acl)) p.unknownValue(`the ACL of ${what}`);
    else if (typeof acl === "string" && PUBLIC_CANNED_ACLS.includes(cannedAclName(acl))) p.violation(`${what} uses the ${acl} ACL — ${FIX}`);
}

/** Grants: `grantee.uri` (BucketAcl accessControlPolicy, BucketLogging targetGrants) or `uri` (a bucket's inline grants, ObjectCopy grants). */
function checkGrants(grants: unknown, what: string, p: Problems): void {
    if (isUnknown(grants)) return void p.unknownValue(`the grants of ${what}`);
    for (const grant of asList(grants)) {
        if (isUnknown(grant)) {
            p.unknownValue(`a grant of ${what}`);
            continue;
        }
        if (!isObject(grant)) continue;
        if (isUnknown(grant.grantee)) {
            p.unknownValue(`a grantee of ${what}`);
            continue;
        }
        const uri = isObject(grant.grantee) ? grant.grantee.uri : grant.uri;
        if (isUnknown(uri)) p.unknownValue(`a grantee of ${what}`);
        else if (typeof uri === "string" && PUBLIC_GROUP.test(uri.trim())) {
            const permission = typeof grant.permission === "string" ? grant.permission : asList(grant.permissions).join("/") || "access";
            p.violation(`${what} grants ${permission} to ${uri.trim().replace(/\/$/, "").split("/").pop()} — ${FIX}`);
        }
    }
}

/** Every `cannedAcl` under a MediaLive channel's output groups (their S3 destinations' settings). */
function mediaLiveCannedAcls(value: unknown, out: unknown[], depth = 0): void {
    if (depth > 12 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
        for (const v of value) mediaLiveCannedAcls(v, out, depth + 1);
        return;
    }
    for (const [key, v] of Object.entries(value)) {
        if (key === "cannedAcl") out.push(v);
        else mediaLiveCannedAcls(v, out, depth + 1);
    }
}

const includes = (types: readonly string[], type: string) => types.includes(type);

/** The rule, as a pure function of one resource's inputs. */
export function checkS3NoPublicAcl(r: RuleResource): Verdict {
    const p = new Problems();
    const props = r.props;
    if (includes(TYPES.bucketAcls, r.type)) {
        checkCannedAcl(props.acl, `bucket ACL ${r.name}`, p);
        const policy = props.accessControlPolicy;
        if (isUnknown(policy)) p.unknownValue(`the access control policy of bucket ACL ${r.name}`);
        else if (isObject(policy)) checkGrants(policy.grants, `bucket ACL ${r.name}`, p);
    } else if (includes(TYPES.buckets, r.type)) {
        checkCannedAcl(props.acl, `bucket ${r.name}`, p);
        checkGrants(props.grants, `bucket ${r.name}`, p);
    } else if (includes(TYPES.objects, r.type)) {
        checkCannedAcl(props.acl, `object ${r.name}`, p);
    } else if (r.type === TYPES.objectCopy) {
        checkCannedAcl(props.acl, `object copy ${r.name}`, p);
        checkGrants(props.grants, `object copy ${r.name}`, p);
    } else if (includes(TYPES.bucketLoggings, r.type)) {
        checkGrants(props.targetGrants, `the access logs of bucket logging ${r.name}`, p);
    } else if (r.type === TYPES.iotTopicRule) {
        const what = `IoT topic rule ${r.name}`;
        if (isUnknown(props.s3)) p.unknownValue(`the S3 actions of ${what}`);
        for (const action of asList(props.s3)) {
            if (isUnknown(action)) p.unknownValue(`an S3 action of ${what}`);
            else if (isObject(action)) checkCannedAcl(action.cannedAcl, `the S3 action of ${what}`, p);
        }
        const errorAction = props.errorAction;
        if (isUnknown(errorAction)) p.unknownValue(`the error action of ${what}`);
        else if (isObject(errorAction)) {
            if (isUnknown(errorAction.s3)) p.unknownValue(`the S3 error action of ${what}`);
            else if (isObject(errorAction.s3)) checkCannedAcl(errorAction.s3.cannedAcl, `the S3 error action of ${what}`, p);
        }
    } else if (r.type === TYPES.dmsS3Endpoint) {
        checkCannedAcl(props.cannedAclForObjects, `DMS S3 endpoint ${r.name}`, p);
    } else if (includes(TYPES.fileShares, r.type)) {
        checkCannedAcl(props.objectAcl, `file share ${r.name}`, p);
    } else if (r.type === TYPES.mediaLiveChannel) {
        const settings = props.encoderSettings;
        if (isUnknown(settings)) p.unknownValue(`the encoder settings of MediaLive channel ${r.name}`);
        const acls: unknown[] = [];
        mediaLiveCannedAcls(settings, acls);
        for (const acl of acls) checkCannedAcl(acl, `an S3 output of MediaLive channel ${r.name}`, p);
    } else {
        return notApplicable("sets no S3 ACL");
    }
    return p.verdict();
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "No public S3 ACLs",
    description:
        "No bucket ACL, bucket, object, object copy, access log grant, or service writing objects to S3 (IoT topic rule, DMS S3 endpoint, Storage " +
        "Gateway file share, MediaLive channel) uses the public-read, public-read-write or authenticated-read canned ACL, or grants " +
        "access to the AllUsers or AuthenticatedUsers groups.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Remove the public ACL or grant: set BucketOwnershipControls objectOwnership \"BucketOwnerEnforced\" (ACLs disabled) and " +
        "grant access with bucket policies naming specific principals.",
    validateResource: (args, report) => runResourceRule(args, report, () => undefined, (r) => checkS3NoPublicAcl(r)),
};
