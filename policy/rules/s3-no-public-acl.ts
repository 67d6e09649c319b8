/**
 * No ACL makes a bucket (or an object) readable by anyone: no canned ACL public-read, public-read-write or
 * authenticated-read ("any AWS account"), and no grant to the AllUsers or AuthenticatedUsers groups — on
 * BucketAcl resources, on a bucket's own (deprecated) `acl`/`grants`, and on objects. Mandatory.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { asList, isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { runResourceRule } from "../lib/pack";

export const NAME = "s3-no-public-acl";

export const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
export const PUBLIC_GROUP_URIS = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

const FIX = "use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies";

function checkCannedAcl(acl: unknown, what: string, p: Problems): void {
    if (isUnknown(acl)) p.unknownValue(`the ACL of ${what}`);
    else if (typeof acl === "string" && PUBLIC_CANNED_ACLS.includes(acl)) p.violation(`${what} uses the ${acl} ACL — ${FIX}`);
}

/** Grants: `grantee.uri` (BucketAcl accessControlPolicy) or `uri` (a bucket's inline grants). */
function checkGrants(grants: unknown, what: string, p: Problems): void {
    if (isUnknown(grants)) return void p.unknownValue(`the grants of ${what}`);
    for (const grant of asList(grants)) {
        if (!isObject(grant)) continue;
        const uri = isObject(grant.grantee) ? grant.grantee.uri : grant.uri;
        if (isUnknown(uri)) p.unknownValue(`a grantee of ${what}`);
        else if (typeof uri === "string" && PUBLIC_GROUP_URIS.includes(uri)) {
            const permission = typeof grant.permission === "string" ? grant.permission : asList(grant.permissions).join("/") || "access";
            p.violation(`${what} grants ${permission} to ${uri.split("/").pop()} — ${FIX}`);
        }
    }
}

/** The rule, as a pure function of one resource's inputs. */
export function checkS3NoPublicAcl(r: RuleResource): Verdict {
    const p = new Problems();
    if ((TYPES.bucketAcls as readonly string[]).includes(r.type)) {
        checkCannedAcl(r.props.acl, `bucket ACL ${r.name}`, p);
        const policy = r.props.accessControlPolicy;
        if (isUnknown(policy)) p.unknownValue(`the access control policy of bucket ACL ${r.name}`);
        else if (isObject(policy)) checkGrants(policy.grants, `bucket ACL ${r.name}`, p);
    } else if ((TYPES.buckets as readonly string[]).includes(r.type)) {
        checkCannedAcl(r.props.acl, `bucket ${r.name}`, p);
        checkGrants(r.props.grants, `bucket ${r.name}`, p);
    } else if ((TYPES.objects as readonly string[]).includes(r.type)) {
        checkCannedAcl(r.props.acl, `object ${r.name}`, p);
    } else {
        return notApplicable("not a bucket, bucket ACL or object");
    }
    return p.verdict();
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "No public S3 ACLs",
    description:
        "No bucket ACL, bucket or object uses the public-read, public-read-write or authenticated-read canned ACL, or grants " +
        "access to the AllUsers or AuthenticatedUsers groups.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Remove the public ACL or grant: set BucketOwnershipControls objectOwnership \"BucketOwnerEnforced\" (ACLs disabled) and " +
        "grant access with bucket policies naming specific principals.",
    validateResource: (args, report) => runResourceRule(args, report, () => undefined, (r) => checkS3NoPublicAcl(r)),
};
