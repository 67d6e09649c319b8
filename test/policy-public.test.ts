/**
 * Issue 16, classes 3, 4, 5 and 7 — the ways a bucket or an object could be made public past the pack, and the
 * legitimate sets it must still pass:
 * 3. an account-level public access block counts only for the buckets of its own account (and provider);
 * 4. public canned ACLs and grants through every resource that sets them on S3 (ObjectCopy, services writing objects);
 * 5. bucket policy conditions that restrict nothing (wildcards, policy variables, operators that hold when the key is absent);
 * 7. access point delegation is not public; the deprecated inline objectLockConfiguration, as decided.
 * Each class in-process on the rule functions (one change per case) and through the real pack over gRPC (one pack
 * process for every set, each violation on the right resource under the right policy, the good sets clean).
 */
import { strict as assert } from "node:assert";
import { UNKNOWN_STRING, type Finding, type RuleProvider, type RuleResource, type Verdict } from "../policy/lib/model";
import { providerAccount } from "../policy/lib/providers";
import * as lock from "../policy/rules/evidence-bucket-object-lock";
import * as acl from "../policy/rules/s3-no-public-acl";
import * as bucketPolicy from "../policy/rules/s3-no-public-bucket-policy";
import * as pab from "../policy/rules/s3-public-access-block";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";

const STACK = "urn:pulumi:pub::aws-dfir::";
const T = {
    bucket: "aws:s3/bucket:Bucket",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    accountPab: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    bucketAcl: "aws:s3/bucketAcl:BucketAcl",
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
    objectCopy: "aws:s3/objectCopy:ObjectCopy",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    topicRule: "aws:iot/topicRule:TopicRule",
    dms: "aws:dms/s3Endpoint:S3Endpoint",
    nfs: "aws:storagegateway/nfsFileShare:NfsFileShare",
    smb: "aws:storagegateway/smbFileShare:SmbFileShare",
    channel: "aws:medialive/channel:Channel",
    provider: "pulumi:providers:aws",
};
const ACCOUNT_A = "111111111111";
const ACCOUNT_B = "222222222222";
const ALL_ON = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/** A provider as the engine hands it to a rule: @pulumi/aws serializes list inputs as JSON strings. */
const provider = (name: string, props: Record<string, unknown>): RuleProvider => ({ urn: `${STACK}${T.provider}::${name}`, props });
const PROVIDER_A = provider("aws-a", { region: "us-east-1", allowedAccountIds: JSON.stringify([ACCOUNT_A]) });
const PROVIDER_A_EU = provider("aws-a-eu", { region: "eu-west-1", allowedAccountIds: JSON.stringify([ACCOUNT_A]) });
const PROVIDER_B = provider("aws-b", { region: "us-east-1", assumeRoles: JSON.stringify([{ roleArn: `arn:aws:iam::${ACCOUNT_B}:role/deploy` }]) });
const DEFAULT_PROVIDER = provider("default_7_48_0", { region: "us-east-1" });

function res(type: string, name: string, props: Record<string, unknown>, extra: Partial<RuleResource> = {}): RuleResource {
    return { type, name, urn: `${STACK}${type}::${name}`, props, ...extra };
}
const bucket = (name: string, via?: RuleProvider, props: Record<string, unknown> = {}) =>
    res(T.bucket, name, { bucket: name, id: name, ...props }, via ? { provider: via } : {});
const accountBlock = (name: string, via: RuleProvider | undefined, props: Record<string, unknown> = {}) =>
    res(T.accountPab, name, { ...ALL_ON, ...props }, via ? { provider: via } : {});

const statusOf = (findings: readonly Finding[], name: string) => {
    const hit = findings.find((f) => f.name === name);
    assert.ok(hit, `no finding for ${name}`);
    return hit.verdict.status;
};
const messageOf = (v: Verdict) => (v.status === "violation" || v.status === "unknown" ? v.message : v.status);
const findingMessage = (findings: readonly Finding[], name: string) => messageOf(findings.find((f) => f.name === name)!.verdict);

// ------------------------------------------------------------------------------------------------------------
// Class 3: account-level public access blocks, per account and provider
// ------------------------------------------------------------------------------------------------------------
describe("public access: class 3, an account block counts only for its own account's buckets", () => {
    const check = (stack: RuleResource[]) => pab.checkS3PublicAccessBlock(stack);

    it("reads a provider's account from allowedAccountIds (one account) or the last assumed role, as JSON or lists", () => {
        assert.equal(providerAccount(PROVIDER_A), ACCOUNT_A);
        assert.equal(providerAccount(PROVIDER_B), ACCOUNT_B);
        assert.equal(providerAccount(provider("p", { allowedAccountIds: [ACCOUNT_B] })), ACCOUNT_B);
        assert.equal(providerAccount(provider("p", { assumeRoles: [{ roleArn: `arn:aws:iam::${ACCOUNT_A}:role/a` }, { roleArn: `arn:aws:iam::${ACCOUNT_B}:role/b` }] })), ACCOUNT_B);
        assert.equal(providerAccount(provider("p", { assumeRole: JSON.stringify({ roleArn: `arn:aws-us-gov:iam::${ACCOUNT_A}:role/a` }) })), ACCOUNT_A);
        assert.equal(providerAccount(provider("p", { allowedAccountIds: JSON.stringify([ACCOUNT_A, ACCOUNT_B]) })), undefined, "several accounts state none");
        assert.equal(providerAccount(DEFAULT_PROVIDER), undefined, "ambient credentials state no account");
        assert.equal(providerAccount(undefined), undefined);
        assert.equal(providerAccount(provider("p", { allowedAccountIds: UNKNOWN_STRING })), "unknown");
        assert.equal(providerAccount(provider("p", { assumeRoles: [{ roleArn: UNKNOWN_STRING }] })), "unknown");
    });

    it("accepts a block under the bucket's own provider, with or without a stated account or accountId", () => {
        assert.equal(statusOf(check([bucket("b"), accountBlock("acct", undefined)]), "b"), "compliant");
        assert.equal(statusOf(check([bucket("b", DEFAULT_PROVIDER), accountBlock("acct", DEFAULT_PROVIDER)]), "b"), "compliant");
        assert.equal(statusOf(check([bucket("b", DEFAULT_PROVIDER), accountBlock("acct", DEFAULT_PROVIDER, { accountId: ACCOUNT_A })]), "b"), "compliant");
        assert.equal(statusOf(check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_A)]), "b"), "compliant");
        assert.equal(statusOf(check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_A, { accountId: ACCOUNT_A })]), "b"), "compliant");
        // At preview a new block's accountId (filled in by the provider) is unknown: the same provider still decides.
        assert.equal(statusOf(check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_A, { accountId: UNKNOWN_STRING })]), "b"), "compliant");
    });

    it("accepts a block through another provider of the same stated account (another Region)", () => {
        assert.equal(statusOf(check([bucket("b", PROVIDER_A_EU), accountBlock("acct", PROVIDER_A)]), "b"), "compliant");
        assert.equal(statusOf(check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_B, { accountId: ACCOUNT_A })]), "b"), "compliant");
    });

    it("rejects a block of another account, under either provider", () => {
        const other = check([bucket("b", PROVIDER_B), accountBlock("acct", PROVIDER_A)]);
        assert.equal(
            findingMessage(other, "b"),
            "bucket b: it has no BucketPublicAccessBlock — add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true; " +
                `account public access block acct does not cover it: it is for account ${ACCOUNT_A}, the bucket's provider aws-b deploys into ${ACCOUNT_B}`,
        );
        // Same provider, but the block names account A while the provider deploys into B.
        const named = check([bucket("b", PROVIDER_B), accountBlock("acct", PROVIDER_B, { accountId: ACCOUNT_A })]);
        assert.equal(statusOf(named, "b"), "violation");
        assert.match(findingMessage(named, "b"), /it is for account 111111111111, the bucket's provider aws-b deploys into 222222222222/);
    });

    it("rejects a block through another provider when either account is not stated", () => {
        const unstatedBucket = check([bucket("b", DEFAULT_PROVIDER), accountBlock("acct", PROVIDER_A)]);
        assert.equal(statusOf(unstatedBucket, "b"), "violation");
        assert.match(findingMessage(unstatedBucket, "b"), /the bucket's the default provider \(default_7_48_0\) does not state its account/);
        const unstatedBlock = check([bucket("b", PROVIDER_A), accountBlock("acct", DEFAULT_PROVIDER)]);
        assert.equal(statusOf(unstatedBlock, "b"), "violation");
        assert.match(findingMessage(unstatedBlock, "b"), /its the default provider \(default_7_48_0\) does not state its account/);
    });

    it("rejects a covering block with a flag off, and passes a bucket's own block whatever the account block", () => {
        const weak = check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_A, { ignorePublicAcls: false })]);
        assert.match(findingMessage(weak, "b"), /account public access block acct leaves ignorePublicAcls off — set it to true/);
        const own = check([bucket("b", PROVIDER_B), res(T.pab, "b-pab", { bucket: "b", ...ALL_ON }), accountBlock("acct", PROVIDER_A)]);
        assert.equal(statusOf(own, "b"), "compliant");
        // Two blocks for one account: the one with a flag off can win (whichever ran last).
        const contested = check([bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_A), accountBlock("acct2", PROVIDER_A_EU, { restrictPublicBuckets: false })]);
        assert.equal(statusOf(contested, "b"), "violation");
    });

    it("notes an account unknown at preview that decides it, rather than passing or failing", () => {
        const stack = [bucket("b", PROVIDER_A), accountBlock("acct", PROVIDER_B, { accountId: UNKNOWN_STRING })];
        assert.equal(findingMessage(check(stack), "b"), "bucket b: cannot tell whether account public access block acct covers it during preview: its account is unknown");
        const bucketUnknown = [bucket("b", provider("p", { allowedAccountIds: UNKNOWN_STRING })), accountBlock("acct", PROVIDER_A)];
        assert.equal(statusOf(check(bucketUnknown), "b"), "unknown");
    });
});

// ------------------------------------------------------------------------------------------------------------
// Class 4: public ACLs through every resource that sets one on S3
// ------------------------------------------------------------------------------------------------------------
describe("public access: class 4, public ACLs through object resources and services", () => {
    const check = acl.checkS3NoPublicAcl;
    const PUBLIC = ["public-read", "public-read-write", "authenticated-read"];
    const NOT_PUBLIC = ["private", "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"];

    it("rejects exactly the canned ACLs that grant AllUsers or AuthenticatedUsers, on every resource type", () => {
        const makers: [string, (a: string) => RuleResource][] = [
            ["bucket ACL", (a) => res(T.bucketAcl, "x", { bucket: "b", acl: a })],
            ["bucket", (a) => bucket("x", undefined, { acl: a })],
            ["object", (a) => res(T.object, "x", { bucket: "b", key: "k", acl: a })],
            ["object copy", (a) => res(T.objectCopy, "x", { bucket: "b", key: "k", source: "src/k", acl: a })],
            ["IoT topic rule", (a) => res(T.topicRule, "x", { s3: [{ bucketName: "b", key: "k", roleArn: "r", cannedAcl: a }] })],
            ["IoT error action", (a) => res(T.topicRule, "x", { errorAction: { s3: { bucketName: "b", key: "k", roleArn: "r", cannedAcl: a } } })],
            ["DMS endpoint", (a) => res(T.dms, "x", { bucketName: "b", cannedAclForObjects: a })],
            ["NFS share", (a) => res(T.nfs, "x", { locationArn: "arn:aws:s3:::b", objectAcl: a })],
            ["SMB share", (a) => res(T.smb, "x", { locationArn: "arn:aws:s3:::b", objectAcl: a })],
            ["MediaLive channel", (a) => res(T.channel, "x", {
                encoderSettings: { outputGroups: [{ outputGroupSettings: { hlsGroupSettings: { hlsCdnSettings: [{ hlsS3Settings: { cannedAcl: a.toUpperCase().replace(/-/g, "_") } }] } } }] },
            })],
        ];
        for (const [what, make] of makers) {
            for (const a of PUBLIC) assert.equal(check(make(a)).status, "violation", `${what} ${a}`);
            for (const a of NOT_PUBLIC) assert.equal(check(make(a)).status, "compliant", `${what} ${a}`);
        }
    });

    it("rejects an ObjectCopy's public canned ACL and its grants to AllUsers or AuthenticatedUsers", () => {
        const copy = (props: Record<string, unknown>) => res(T.objectCopy, "copy", { bucket: "b", key: "k", source: "src/k", ...props });
        assert.deepEqual(check(copy({ acl: "private" })), { status: "compliant" });
        assert.deepEqual(check(copy({ acl: "public-read" })), {
            status: "violation",
            message: "object copy copy uses the public-read ACL — use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies",
        });
        assert.deepEqual(check(copy({ grants: [{ type: "Group", uri: ALL_USERS, permissions: ["READ"] }] })), {
            status: "violation",
            message: "object copy copy grants READ to AllUsers — use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies",
        });
        assert.equal(check(copy({ grants: [{ type: "Group", uri: `${AUTHENTICATED_USERS.replace("http:", "https:")}/`, permissions: ["READ_ACP"] }] })).status, "violation");
        assert.deepEqual(check(copy({ grants: [{ type: "CanonicalUser", id: "abc123", permissions: ["FULL_CONTROL"] }] })), { status: "compliant" });
        assert.deepEqual(check(copy({ grants: [{ type: "Group", uri: "http://acs.amazonaws.com/groups/s3/LogDelivery", permissions: ["WRITE"] }] })), { status: "compliant" });
    });

    it("rejects a bucket's inline grant to AuthenticatedUsers and a BucketAcl grant to AllUsers", () => {
        assert.equal(check(bucket("b", undefined, { grants: [{ type: "Group", uri: AUTHENTICATED_USERS, permissions: ["READ"] }] })).status, "violation");
        const grants = res(T.bucketAcl, "bacl", { bucket: "b", accessControlPolicy: { grants: [{ grantee: { type: "Group", uri: ALL_USERS }, permission: "WRITE" }], owner: { id: "o" } } });
        assert.match(messageOf(check(grants)), /grants WRITE to AllUsers/);
    });

    it("rejects server access logs granted to AllUsers or AuthenticatedUsers (BucketLogging targetGrants)", () => {
        const logging = (uri: string) => res("aws:s3/bucketLogging:BucketLogging", "logs", {
            bucket: "b", targetBucket: "logs", targetPrefix: "b/", targetGrants: [{ grantee: { type: "Group", uri }, permission: "READ" }],
        });
        assert.deepEqual(check(logging(ALL_USERS)), {
            status: "violation",
            message: "the access logs of bucket logging logs grants READ to AllUsers — use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies",
        });
        assert.equal(check({ ...logging(AUTHENTICATED_USERS), type: "aws:s3/bucketLoggingV2:BucketLoggingV2" }).status, "violation");
        assert.deepEqual(check(res("aws:s3/bucketLogging:BucketLogging", "logs", { bucket: "b", targetBucket: "logs", targetPrefix: "b/" })), { status: "compliant" });
        const toAccount = res("aws:s3/bucketLogging:BucketLogging", "logs", {
            bucket: "b", targetBucket: "logs", targetPrefix: "b/", targetGrants: [{ grantee: { type: "CanonicalUser", id: "abc" }, permission: "FULL_CONTROL" }],
        });
        assert.deepEqual(check(toAccount), { status: "compliant" });
    });

    it("notes unknown ACLs and grants, and does not apply to other resources", () => {
        assert.equal(check(res(T.objectCopy, "c", { acl: UNKNOWN_STRING })).status, "unknown");
        assert.equal(check(res(T.objectCopy, "c", { grants: [{ type: "Group", uri: UNKNOWN_STRING, permissions: ["READ"] }] })).status, "unknown");
        assert.equal(check(res(T.topicRule, "t", { s3: UNKNOWN_STRING })).status, "unknown");
        assert.equal(check(res(T.channel, "m", { encoderSettings: UNKNOWN_STRING })).status, "unknown");
        assert.equal(check(res("aws:sqs/queue:Queue", "q", { name: "q" })).status, "not-applicable");
    });
});

// ------------------------------------------------------------------------------------------------------------
// Class 5 and 7 (access points): which conditions pin a wildcard principal
// ------------------------------------------------------------------------------------------------------------
const policyWith = (condition: unknown, principal: unknown = "*") => res(T.bucketPolicy, "pol", {
    bucket: "b",
    policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "Read", Effect: "Allow", Principal: principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*", ...(condition === undefined ? {} : { Condition: condition }) }],
    }),
});

describe("public access: class 5, conditions that restrict nothing", () => {
    const check = (condition: unknown, principal?: unknown) => bucketPolicy.checkS3NoPublicBucketPolicy(policyWith(condition, principal));

    it("rejects wildcards in a pinning key's values, under any operator", () => {
        const cases: unknown[] = [
            { StringLike: { "aws:PrincipalOrgID": "o-*" } },
            { StringEquals: { "aws:PrincipalOrgID": "o-*" } },
            { StringLike: { "aws:SourceVpce": "vpce-*" } },
            { StringLike: { "aws:SourceVpce": "vpce-0123456789abcdef?" } },
            { StringLike: { "aws:SourceVpc": "vpc-*" } },
            { StringEquals: { "aws:SourceVpc": ["vpc-0123456789abcdef0", "vpc-*"] } },
            { StringLike: { "aws:SourceAccount": "1111*" } },
            { ArnLike: { "aws:SourceArn": "arn:aws:sns:*:111111111111:*" } },
            { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/reader" } },
            { StringLike: { "aws:PrincipalAccount": "*" } },
            { StringLike: { "s3:DataAccessPointAccount": "*" } },
            { ArnLike: { "s3:DataAccessPointArn": "arn:aws:s3:us-east-1:*:accesspoint/*" } },
            { ArnLike: { "s3:DataAccessPointArn": "arn:aws:s3:*:111111111111:accesspoint/*" } },
            { "ForAnyValue:StringLike": { "aws:SourceVpce": "vpce-*" } },
        ];
        for (const condition of cases) assert.equal(check(condition).status, "violation", JSON.stringify(condition));
    });

    it("rejects policy variables in a pinning key's values", () => {
        for (const condition of [
            { StringEquals: { "aws:PrincipalAccount": "${aws:PrincipalAccount}" } },
            { StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } },
            { StringEquals: { "aws:PrincipalOrgID": "${aws:PrincipalOrgID}" } },
            { ArnEquals: { "aws:PrincipalArn": "${aws:PrincipalArn}" } },
            { StringEquals: { "aws:SourceVpce": "${aws:SourceVpce}" } },
        ]) {
            assert.equal(check(condition).status, "violation", JSON.stringify(condition));
        }
    });

    it("rejects operators that hold without the key or for every other value, and keys that pin nothing", () => {
        for (const condition of [
            { "ForAllValues:StringEquals": { "aws:PrincipalOrgID": "o-abcdefghij" } },
            { StringEqualsIfExists: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
            { "ForAnyValue:StringEqualsIfExists": { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
            { StringNotEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } },
            { Null: { "aws:SourceVpce": "false" } },
            { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
            { StringEquals: { "aws:PrincipalOrgPaths": "o-abcdefghij/r-ab12/ou-ab12-11111111/" } },
            { StringEquals: { "aws:SourceVpce": [] } },
        ]) {
            assert.equal(check(condition).status, "violation", JSON.stringify(condition));
        }
        assert.equal(check({ StringEquals: { "aws:PrincipalOrgID": "o-*" } }, undefined).status, "violation");
    });

    it("says which value restricts nothing and why", () => {
        assert.deepEqual(check({ StringLike: { "aws:PrincipalOrgID": "o-*" } }), {
            status: "violation",
            message: "bucket policy pol statement Read allows any principal (\"*\") without a restricting condition (aws:PrincipalOrgID \"o-*\" is a wildcard) — " +
                "name the principals, or add a StringEquals/ArnEquals condition on aws:SourceVpce, aws:SourceVpc, aws:PrincipalOrgID, aws:SourceAccount, " +
                "aws:SourceArn, aws:PrincipalAccount with fixed values (no *, ? or ${...})",
        });
        assert.match(messageOf(check({ StringEquals: { "aws:SourceAccount": "${aws:PrincipalAccount}" } })), /aws:SourceAccount "\$\{aws:PrincipalAccount\}" is a policy variable/);
        assert.match(messageOf(check({ "ForAllValues:StringEquals": { "aws:PrincipalOrgID": "o-abcdefghij" } })), /ForAllValues:StringEquals on aws:PrincipalOrgID also holds when the key is absent/);
        // NotPrincipal is everyone but a few, whatever it names.
        const notPrincipal = bucketPolicy.checkS3NoPublicBucketPolicy(res(T.bucketPolicy, "np", {
            policy: JSON.stringify({ Statement: [{ Effect: "Allow", NotPrincipal: { AWS: "arn:aws:iam::111111111111:root" }, Action: "s3:*", Resource: "*", Condition: { StringLike: { "aws:SourceVpce": "vpce-*" } } }] }),
        }));
        assert.match(messageOf(notPrincipal), /every principal but those in NotPrincipal without a restricting condition \(aws:SourceVpce "vpce-\*" is a wildcard\)/);
    });

    it("reads a Federated principal as public, as S3 does, unless a condition pins it", () => {
        const federated = { Federated: "graph.facebook.com" };
        assert.match(messageOf(check(undefined, federated)), /allows any federated identity of its identity provider without a restricting condition/);
        assert.deepEqual(check({ StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } }, federated), { status: "compliant" });
        assert.deepEqual(check(undefined, { AWS: "arn:aws:iam::111111111111:role/reader" }), { status: "compliant" });
        assert.deepEqual(check(undefined, { Service: "cloudtrail.amazonaws.com" }), { status: "compliant" });
    });

    it("accepts every pinning key with fixed values under a pinning operator", () => {
        for (const condition of [
            { StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } },
            { StringEqualsIgnoreCase: { "aws:PrincipalOrgID": "o-abcdefghij" } },
            { StringLike: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
            { StringEquals: { "aws:SourceVpce": ["vpce-0123456789abcdef0", "vpce-0fedcba9876543210"] } },
            { StringEquals: { "aws:SourceVpc": "vpc-0123456789abcdef0" } },
            { StringEquals: { "aws:SourceAccount": "111111111111" } },
            { NumericEquals: { "aws:MultiFactorAuthAge": 0 }, StringEquals: { "aws:SourceAccount": 111111111111 } },
            { StringEquals: { "aws:SourceOwner": "111111111111" } },
            { ArnEquals: { "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t" } },
            { ArnLike: { "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/t" } },
            { StringEquals: { "aws:PrincipalAccount": "111111111111" } },
            { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/reader" } },
            { "ForAnyValue:StringEquals": { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
            { stringequals: { "AWS:SOURCEVPCE": "vpce-0123456789abcdef0" } },
            // One pinning key is enough: conditions are ANDed.
            { StringLike: { "aws:SourceVpce": "vpce-*" }, StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } },
        ]) {
            assert.deepEqual(check(condition), { status: "compliant" }, JSON.stringify(condition));
        }
    });

    it("notes a pinning value unknown at preview instead of passing it", () => {
        const r = res(T.bucketPolicy, "pol", {
            policy: { Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:PrincipalOrgID": UNKNOWN_STRING } } }] },
        });
        assert.deepEqual(bucketPolicy.checkS3NoPublicBucketPolicy(r), {
            status: "unknown",
            message: "cannot check the aws:PrincipalOrgID condition of bucket policy pol statement #1 during preview: value unknown",
        });
        const inList = res(T.bucketPolicy, "pol", {
            policy: { Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:SourceVpce": ["vpce-0123456789abcdef0", UNKNOWN_STRING] } } }] },
        });
        assert.match(messageOf(bucketPolicy.checkS3NoPublicBucketPolicy(inList)), /cannot check a value of the aws:SourceVpce condition/);
        // An unknown beside a fixed pin in the same block changes nothing: one pin is enough.
        const pinnedElsewhere = res(T.bucketPolicy, "pol", {
            policy: { Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:SourceVpce": UNKNOWN_STRING, "aws:PrincipalOrgID": "o-abcdefghij" } } }] },
        });
        assert.deepEqual(bucketPolicy.checkS3NoPublicBucketPolicy(pinnedElsewhere), { status: "compliant" });
    });
});

describe("public access: class 7, false positives", () => {
    const check = (condition: unknown, principal?: unknown) => bucketPolicy.checkS3NoPublicBucketPolicy(policyWith(condition, principal));

    it("accepts a bucket policy delegating access control to the account's access points", () => {
        // "Configuring IAM policies for using access points" > "Delegating access control to access points".
        const delegation = res(T.bucketPolicy, "delegate", {
            policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{
                    Effect: "Allow", Principal: { AWS: "*" }, Action: "*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                    Condition: { StringEquals: { "s3:DataAccessPointAccount": ACCOUNT_A } },
                }],
            }),
        });
        assert.deepEqual(bucketPolicy.checkS3NoPublicBucketPolicy(delegation), { status: "compliant" });
        assert.deepEqual(check({ ArnLike: { "s3:DataAccessPointArn": `arn:aws:s3:us-east-1:${ACCOUNT_A}:accesspoint/*` } }), { status: "compliant" });
        assert.deepEqual(check({ StringLike: { "s3:DataAccessPointArn": `arn:aws:s3:us-east-1:${ACCOUNT_A}:accesspoint/reader-*` } }), { status: "compliant" });
        assert.deepEqual(check({ ArnEquals: { "s3:DataAccessPointArn": `arn:aws:s3:us-east-1:${ACCOUNT_A}:accesspoint/reader` } }), { status: "compliant" });
        assert.deepEqual(check({ StringEquals: { "s3:DataAccessPointAccount": Number(ACCOUNT_A) } }), { status: "compliant" });
    });

    it("still rejects delegation to an unpinned account or ARN", () => {
        assert.equal(check({ StringLike: { "s3:DataAccessPointAccount": "*" } }).status, "violation");
        assert.equal(check({ StringEquals: { "s3:DataAccessPointAccount": "${aws:PrincipalAccount}" } }).status, "violation");
        assert.equal(check({ ArnLike: { "s3:DataAccessPointArn": "arn:aws:s3:us-east-1:${aws:PrincipalAccount}:accesspoint/*" } }).status, "violation");
        assert.equal(check({ StringEqualsIfExists: { "s3:DataAccessPointAccount": ACCOUNT_A } }).status, "violation");
    });

    describe("the deprecated inline objectLockConfiguration of a bucket (decided: Enabled counts, its retention does not)", () => {
        const evidence = (props: Record<string, unknown>) => bucket("ev", undefined, { tags: { "dfir:role": "evidence" }, ...props });
        const lockOf = (mode: string, days: number) => res(T.lock, "ev-lock", { bucket: "ev", rule: { defaultRetention: { mode, days } } });
        const inline = (mode?: string, days = 365) => ({ objectLockEnabled: "Enabled", ...(mode ? { rule: { defaultRetention: { mode, days } } } : {}) });
        const check = (stack: RuleResource[]) => lock.checkEvidenceBucketObjectLock(stack);

        it("does not count an inline COMPLIANCE retention: a BucketObjectLockConfiguration is still required", () => {
            const findings = check([evidence({ objectLockConfiguration: inline("COMPLIANCE", 3650) })]);
            assert.equal(
                findingMessage(findings, "ev"),
                "evidence bucket ev: it has no BucketObjectLockConfiguration: a retention in the deprecated inline objectLockConfiguration does not count " +
                    "(the bucket's outputs keep the retention AWS last reported, even once it is removed) — add one with rule.defaultRetention " +
                    "{mode: \"COMPLIANCE\", days: 365} or longer",
            );
        });

        it("counts an inline objectLockEnabled \"Enabled\" as Object Lock enabled (AWS cannot turn it off)", () => {
            assert.equal(statusOf(check([evidence({ objectLockConfiguration: inline() }), lockOf("COMPLIANCE", 365)]), "ev"), "compliant");
            assert.equal(statusOf(check([evidence({ objectLockConfiguration: inline("COMPLIANCE") }), lockOf("COMPLIANCE", 365)]), "ev"), "compliant");
            assert.equal(statusOf(check([evidence({ objectLockEnabled: true }), lockOf("COMPLIANCE", 365)]), "ev"), "compliant");
            const disabled = check([evidence({ objectLockConfiguration: { objectLockEnabled: "Disabled" } }), lockOf("COMPLIANCE", 365)]);
            assert.match(findingMessage(disabled, "ev"), /Object Lock is not enabled/);
            // Unknown as a whole (a new bucket at preview): read as absent.
            const unknownInline = check([evidence({ objectLockEnabled: false, objectLockConfiguration: UNKNOWN_STRING }), lockOf("COMPLIANCE", 365)]);
            assert.equal(statusOf(unknownInline, "ev"), "violation");
        });

        it("rejects an inline GOVERNANCE retention beside a COMPLIANCE lock configuration", () => {
            const findings = check([evidence({ objectLockConfiguration: inline("GOVERNANCE", 3650) }), lockOf("COMPLIANCE", 365)]);
            assert.equal(
                findingMessage(findings, "ev"),
                "evidence bucket ev: its deprecated inline objectLockConfiguration sets GOVERNANCE retention — remove it and keep the retention in a " +
                    "BucketObjectLockConfiguration (COMPLIANCE)",
            );
            // Its period is not read (an older value read from AWS may be shorter than a retention since raised).
            assert.equal(statusOf(check([evidence({ objectLockConfiguration: inline("COMPLIANCE", 30) }), lockOf("COMPLIANCE", 365)]), "ev"), "compliant");
        });
    });
});

// ------------------------------------------------------------------------------------------------------------
// The same classes through the real pack over gRPC: one pack process, every set with its own names.
// ------------------------------------------------------------------------------------------------------------
describe("public access over gRPC: classes 3, 4, 5 and 7 through the real pack", function () {
    this.timeout(120000);
    let result: CheckResult;
    /** [policy, resource] pairs that must be reported as mandatory violations; anything else mandatory is a false positive. */
    const expected: [string, string][] = [];
    /** Resources of the legitimate sets: no mandatory violation may land on them. */
    const good: string[] = [];

    before(async () => {
        type Raw = { type: string; name: string; props: Record<string, unknown>; provider?: string; propertyDependencies?: Record<string, string[]> };
        const raw: Raw[] = [];
        const add = (r: Raw, outcome: "good" | [string]) => {
            raw.push(r);
            if (outcome === "good") good.push(r.name);
            else expected.push([outcome[0], r.name]);
        };
        const PAB = "s3-public-access-block", ACL = "s3-no-public-acl", POLICY = "s3-no-public-bucket-policy", LOCK = "evidence-bucket-object-lock";
        // Providers as @pulumi/aws registers them (list inputs JSON-encoded).
        raw.push({ type: T.provider, name: "pub-aws-a", props: { region: "us-east-1", allowedAccountIds: JSON.stringify([ACCOUNT_A]) } });
        raw.push({ type: T.provider, name: "pub-aws-a-eu", props: { region: "eu-west-1", allowedAccountIds: JSON.stringify([ACCOUNT_A]) } });
        raw.push({ type: T.provider, name: "pub-aws-b", props: { region: "us-east-1", assumeRoles: JSON.stringify([{ roleArn: `arn:aws:iam::${ACCOUNT_B}:role/deploy` }]) } });
        raw.push({ type: T.provider, name: "pub-aws-default", props: { region: "us-east-1" } });

        // Class 3: account A's block (through provider A) covers A's buckets in both Regions, not B's nor an
        // unstated account's; a block written through B's provider naming account A covers A's, not B's.
        add({ type: T.accountPab, name: "pub-pab-a", props: { ...ALL_ON }, provider: "pub-aws-a" }, "good");
        add({ type: T.accountPab, name: "pub-pab-b-for-a", props: { ...ALL_ON, accountId: ACCOUNT_A }, provider: "pub-aws-b" }, "good");
        add({ type: T.bucket, name: "pub-b-a", props: { bucket: "pub-b-a" }, provider: "pub-aws-a" }, "good");
        add({ type: T.bucket, name: "pub-b-a-eu", props: { bucket: "pub-b-a-eu" }, provider: "pub-aws-a-eu" }, "good");
        add({ type: T.bucket, name: "pub-b-b", props: { bucket: "pub-b-b" }, provider: "pub-aws-b" }, [PAB]);
        add({ type: T.bucket, name: "pub-b-default", props: { bucket: "pub-b-default" }, provider: "pub-aws-default" }, [PAB]);

        // Class 4: public ACLs and grants through object copies, objects and services writing to S3.
        add({ type: T.objectCopy, name: "pub-copy-acl", props: { bucket: "pub-b-a", key: "k", source: "src/k", acl: "public-read" }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.objectCopy, name: "pub-copy-grant", props: { bucket: "pub-b-a", key: "k", source: "src/k", grants: [{ type: "Group", uri: ALL_USERS, permissions: ["READ"] }] }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.objectCopy, name: "pub-copy-private", props: { bucket: "pub-b-a", key: "k", source: "src/k", acl: "bucket-owner-full-control" }, provider: "pub-aws-a" }, "good");
        add({ type: "aws:s3/bucketLogging:BucketLogging", name: "pub-logging-grant", props: { bucket: "pub-b-a", targetBucket: "pub-b-a-eu", targetPrefix: "a/", targetGrants: [{ grantee: { type: "Group", uri: AUTHENTICATED_USERS }, permission: "READ" }] }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.object, name: "pub-object-authread", props: { bucket: "pub-b-a", key: "k", acl: "authenticated-read" }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.topicRule, name: "pub-topic", props: { enabled: true, sql: "SELECT * FROM 't'", sqlVersion: "2016-03-23", s3: [{ bucketName: "pub-b-a", key: "k", roleArn: "arn:aws:iam::111111111111:role/iot", cannedAcl: "public-read" }] }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.dms, name: "pub-dms", props: { endpointId: "e", endpointType: "target", bucketName: "pub-b-a", serviceAccessRoleArn: "r", cannedAclForObjects: "public-read-write" }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.nfs, name: "pub-nfs", props: { gatewayArn: "g", locationArn: "arn:aws:s3:::pub-b-a", roleArn: "r", clientLists: ["10.0.0.0/8"], objectAcl: "authenticated-read" }, provider: "pub-aws-a" }, [ACL]);
        add({ type: T.channel, name: "pub-channel", props: { encoderSettings: { outputGroups: [{ outputGroupSettings: { archiveGroupSettings: [{ archiveCdnSettings: { archiveS3Settings: { cannedAcl: "PUBLIC_READ" } } }] } }] } }, provider: "pub-aws-a" }, [ACL]);

        // Class 5: conditions that restrict nothing; class 7: access point delegation and a fixed org id pass.
        const policy = (name: string, condition: unknown, outcome: "good" | [string]) => add({
            type: T.bucketPolicy, name, provider: "pub-aws-a",
            props: { bucket: "pub-b-a", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "s3:GetObject", Resource: "arn:aws:s3:::pub-b-a/*", Condition: condition }] }) },
        }, outcome);
        policy("pub-pol-org-wildcard", { StringLike: { "aws:PrincipalOrgID": "o-*" } }, [POLICY]);
        policy("pub-pol-vpce-wildcard", { StringEquals: { "aws:SourceVpce": "vpce-*" } }, [POLICY]);
        policy("pub-pol-variable", { StringEquals: { "aws:PrincipalAccount": "${aws:PrincipalAccount}" } }, [POLICY]);
        policy("pub-pol-forall", { "ForAllValues:StringEquals": { "aws:PrincipalOrgID": "o-abcdefghij" } }, [POLICY]);
        policy("pub-pol-org", { StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } }, "good");
        policy("pub-pol-ap-account", { StringEquals: { "s3:DataAccessPointAccount": ACCOUNT_A } }, "good");
        policy("pub-pol-ap-arn", { ArnLike: { "s3:DataAccessPointArn": `arn:aws:s3:us-east-1:${ACCOUNT_A}:accesspoint/*` } }, "good");

        // Class 7: the inline objectLockConfiguration, as decided (each evidence bucket with its own public access block).
        const evidence = (name: string, props: Record<string, unknown>, outcome: "good" | [string], lockMode?: string) => {
            add({ type: T.bucket, name, props: { bucket: name, tags: { "dfir:role": "evidence" }, ...props }, provider: "pub-aws-b" }, outcome);
            raw.push({ type: T.pab, name: `${name}-pab`, props: { bucket: name, ...ALL_ON }, provider: "pub-aws-b" });
            if (lockMode) raw.push({ type: T.lock, name: `${name}-lock`, props: { bucket: name, rule: { defaultRetention: { mode: lockMode, days: 365 } } }, provider: "pub-aws-b" });
        };
        const inline = (mode?: string) => ({ objectLockConfiguration: { objectLockEnabled: "Enabled", ...(mode ? { rule: { defaultRetention: { mode, days: 3650 } } } : {}) } });
        evidence("pub-ev-inline-only", inline("COMPLIANCE"), [LOCK]);
        evidence("pub-ev-inline-governance", inline("GOVERNANCE"), [LOCK], "COMPLIANCE");
        evidence("pub-ev-inline-enabled", inline(), "good", "COMPLIANCE");

        // These sets exercise other rules; evidence-access-trail (mandatory) has its own cases (test/access-trail.test.ts, test/policy-pack-grpc.test.ts).
        [result] = await policyCheck({ resources: { raw, source: "policy-public sets" }, config: { "evidence-access-trail": { enforcementLevel: "disabled", properties: {} } } });
    });

    it("reports each violation under the right policy on the right resource", () => {
        const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory");
        for (const [policy, name] of expected) {
            assert.ok(mandatory.some((v) => v.policy === policy && v.name === name), `missing ${policy} on ${name}; got:\n${mandatory.map((v) => `${v.policy} @ ${v.name}`).join("\n")}`);
        }
        for (const v of mandatory) {
            assert.ok(expected.some(([p, n]) => p === v.policy && n === v.name), `false positive: ${v.policy} on ${v.name}: ${v.message}`);
        }
        assert.equal(mandatory.length, expected.length, "one violation per broken set");
    });

    it("flags nothing on the legitimate sets, and explains the account and the condition", () => {
        const onGood = result.violations.filter((v) => v.enforcementLevel === "mandatory" && good.includes(v.name));
        assert.deepEqual(onGood, []);
        const other = result.violations.find((v) => v.name === "pub-b-b");
        assert.match(other?.message ?? "", /account public access block pub-pab-a does not cover it: it is for account 111111111111, the bucket's provider pub-aws-b deploys into 222222222222/);
        const wildcard = result.violations.find((v) => v.name === "pub-pol-org-wildcard");
        assert.match(wildcard?.message ?? "", /aws:PrincipalOrgID "o-\*" is a wildcard/);
    });
});
