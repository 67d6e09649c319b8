/**
 * The policy pack's rules, as pure functions, on what the components really register (recorded by the Pulumi
 * mocks) and on that output with one field changed per case. The pack itself (policy/index.ts) is never
 * constructed here: constructing a PolicyPack starts its gRPC server.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { devProgram } from "./support/dev-program";
import { ACCOUNT, recorded, resourcesOf, S3_PREFIX_LIST, settle, VPC, type RecordedResource } from "./support/pulumi-mocks";
import { EvidenceStore } from "../components/evidenceStore";
import { GuardDutyDetection } from "../components/guardDutyDetection";
import { IsolationNetwork } from "../components/isolationNetwork";
import { ResponseWorkflow } from "../components/responseWorkflow";
import { describeInterval, gaps, patternNumbers, type Interval } from "../policy/lib/eventPattern";
import { UNKNOWN_STRING, UNKNOWN_VALUES, type Finding, type RuleResource, type Verdict } from "../policy/lib/model";
import { plainProps } from "../policy/lib/pack";
import { PACK_NAME, policies } from "../policy/policies";
import * as kms from "../policy/rules/evidence-bucket-kms-encryption";
import * as lock from "../policy/rules/evidence-bucket-object-lock";
import * as versioning from "../policy/rules/evidence-bucket-versioning";
import * as frequency from "../policy/rules/guardduty-finding-frequency";
import * as severity from "../policy/rules/guardduty-rule-admits-high-severity";
import * as iam from "../policy/rules/iam-no-wildcard-actions";
import * as egress from "../policy/rules/isolation-group-egress-endpoints-only";
import * as ingress from "../policy/rules/isolation-group-no-ingress";
import * as acl from "../policy/rules/s3-no-public-acl";
import * as bucketPolicy from "../policy/rules/s3-no-public-bucket-policy";
import * as pab from "../policy/rules/s3-public-access-block";
import * as logging from "../policy/rules/state-machine-logging";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { TS_REGISTER } from "../scripts/lib/tsRegister";

// The function @pulumi/policy's server uses to find a rule's type (policy.js; not in its published typings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getPulumiType } = require("@pulumi/policy/policy") as { getPulumiType(obj: unknown): string | undefined };

const T = {
    bucket: "aws:s3/bucket:Bucket",
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    accountPab: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    bucketAcl: "aws:s3/bucketAcl:BucketAcl",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    detector: "aws:guardduty/detector:Detector",
    eventRule: "aws:cloudwatch/eventRule:EventRule",
    machine: "aws:sfn/stateMachine:StateMachine",
    iamPolicy: "aws:iam/policy:Policy",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    role: "aws:iam/role:Role",
};

// ---------------------------------------------------------------------------------------------------------
// Recorded mock registrations -> rule resources. The mocks record type, name, inputs and parent; URNs and ids
// are built here the way the mocks and the engine make them: urn `urn:pulumi:test::aws-dfir::<type>::<name>`,
// id `sg-<name>` for security groups and `<name>-id` otherwise (pulumi-mocks.ts), a bucket's name is its
// resource name. Links are left to the rules' by-value fallback (a lock's `bucket` is the bucket's id).
// ---------------------------------------------------------------------------------------------------------
const STACK_URN = "urn:pulumi:test::aws-dfir::";
const urnOf = (type: string, name: string) => `${STACK_URN}${type}::${name}`;
const mockId = (type: string, name: string) => (type === T.sg ? `sg-${name}` : `${name}-id`);

/** Inputs as the engine would send them: plain JSON (assets and archives, which hold promises, become markers). */
function plain(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return { asset: (value as object).constructor.name };
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

function adapt(records: readonly RecordedResource[]): RuleResource[] {
    return records.map((r) => ({
        type: r.type,
        name: r.name,
        urn: urnOf(r.type, r.name),
        parent: r.parent === undefined ? undefined : `${STACK_URN}${r.parent}`,
        props: {
            ...(plain(r.inputs) as Record<string, unknown>), id: mockId(r.type, r.name), ...(r.type === T.bucket ? { bucket: r.name } : {}),
            // A gateway endpoint's output, as the mocks return it: the prefix list its rules name (S3's).
            ...(r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Gateway" ? { prefixListId: S3_PREFIX_LIST } : {}),
        },
    }));
}

/** A resource written by hand (no parent, id from the mock rule). */
function resource(type: string, name: string, props: Record<string, unknown>, extra: Partial<RuleResource> = {}): RuleResource {
    return { type, name, urn: urnOf(type, name), props: { id: mockId(type, name), ...props }, ...extra };
}

/**
 * The one resource named `name` (of `type`, when several share the name; components, which share their main
 * resource's name, are never picked).
 */
function one(stack: readonly RuleResource[], name: string, type?: string): RuleResource {
    const hits = stack.filter((r) => r.name === name && (type === undefined ? !r.type.startsWith("dfir:") : r.type === type));
    if (hits.length !== 1) throw new Error(`expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${hits.length}`);
    return hits[0];
}

/** A deep copy of a stack with one resource's properties changed (see `one` for `type`). */
function mutate(stack: readonly RuleResource[], name: string, change: (props: Record<string, any>) => void, type?: string): RuleResource[] {
    const copy = structuredClone(stack) as RuleResource[];
    change(one(copy, name, type).props as Record<string, any>);
    return copy;
}

/** The stack with one resource replaced (see `one` for how it is found). */
function replace(stack: readonly RuleResource[], name: string, change: (r: RuleResource) => RuleResource): RuleResource[] {
    const target = one(stack, name);
    return stack.map((r) => (r === target ? change(r) : r));
}

const messageOf = (v: Verdict) => (v.status === "violation" || v.status === "unknown" ? v.message : v.status);
/** Violations of a stack rule as "name: message", sorted. */
const violations = (findings: readonly Finding[]) =>
    findings.filter((f) => f.verdict.status === "violation").map((f) => `${f.name}: ${messageOf(f.verdict)}`).sort();
const unknowns = (findings: readonly Finding[]) =>
    findings.filter((f) => f.verdict.status === "unknown").map((f) => `${f.name}: ${messageOf(f.verdict)}`).sort();
/** Every finding as [name, status], sorted: what a rule applied to and how it judged it. */
const statuses = (findings: readonly Finding[]) => findings.map((f) => [f.name, f.verdict.status]).sort();

const UNKNOWN_BOOLEAN = [...UNKNOWN_VALUES][0];
const UNKNOWN_NUMBER = [...UNKNOWN_VALUES][1];

describe("policy pack rules", () => {
    let evidence: RuleResource[];
    let network: RuleResource[];
    let detection: RuleResource[];
    let workflow: RuleResource[];

    before(async () => {
        new EvidenceStore("pol-ev");
        new IsolationNetwork("pol-iso", { vpcId: VPC.id });
        new GuardDutyDetection("pol-gd");
        new ResponseWorkflow("pol-wf", {
            isolationGroups: { [VPC.id]: "sg-pol-iso-isolation" },
            untrackGroups: { [VPC.id]: "sg-pol-iso-untrack" },
            evidence: {
                bucketName: "pol-ev",
                bucketArn: "arn:aws:s3:::pol-ev",
                keyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/pol-ev-key`,
                signingKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/pol-ev-signing`,
                retentionDays: 365,
            },
        });
        await settle();
        evidence = adapt(resourcesOf("pol-ev"));
        network = adapt(resourcesOf("pol-iso"));
        detection = adapt(resourcesOf("pol-gd"));
        workflow = adapt(resourcesOf("pol-wf"));
        assert.ok(evidence.length > 5 && network.length > 10 && detection.length === 4 && workflow.length > 30, "components registered");
    });

    describe(lock.NAME, () => {
        const check = (stack: readonly RuleResource[], config?: lock.ObjectLockConfig) => lock.checkEvidenceBucketObjectLock(stack, config);

        it("passes the EvidenceStore as built: COMPLIANCE for 365 days, Object Lock enabled", () => {
            assert.deepEqual(statuses(check(evidence)), [["pol-ev", "compliant"]]);
        });

        it("rejects GOVERNANCE mode", () => {
            const stack = mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention.mode = "GOVERNANCE"; });
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: evidence bucket pol-ev: lock configuration pol-ev-lock uses GOVERNANCE retention mode — use COMPLIANCE (GOVERNANCE retention can be bypassed or shortened)",
            ]);
        });

        it("rejects a retention of 30 days, and one shorter than a configured minimum", () => {
            const stack = mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention.days = 30; });
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: evidence bucket pol-ev: lock configuration pol-ev-lock retains objects for 30 days, less than 365 — set rule.defaultRetention.days to at least 365",
            ]);
            assert.deepEqual(violations(check(evidence, { minRetentionDays: 400 })).map((v) => v.includes("365 days, less than 400")), [true]);
        });

        it("counts a retention in years as 365 days a year", () => {
            const years = (n: number) => mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention = { mode: "COMPLIANCE", years: n }; });
            assert.deepEqual(statuses(check(years(1))), [["pol-ev", "compliant"]]);
            assert.deepEqual(statuses(check(years(1), { minRetentionDays: 366 })), [["pol-ev", "violation"]]);
        });

        it("rejects an evidence bucket without a lock configuration", () => {
            const stack = evidence.filter((r) => r.name !== "pol-ev-lock");
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: evidence bucket pol-ev: it has no BucketObjectLockConfiguration — add one with rule.defaultRetention {mode: \"COMPLIANCE\", days: 365} or longer",
            ]);
        });

        it("rejects objectLockEnabled false", () => {
            const stack = mutate(evidence, "pol-ev", (p) => { p.objectLockEnabled = false; });
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: evidence bucket pol-ev: Object Lock is not enabled — create the bucket with objectLockEnabled: true (it cannot be turned on later without AWS support)",
            ]);
        });

        it("rejects a lock configuration without a default retention", () => {
            const stack = mutate(evidence, "pol-ev-lock", (p) => { delete p.rule; });
            assert.deepEqual(violations(check(stack)).length, 1);
            assert.match(violations(check(stack))[0], /pol-ev-lock sets no default retention/);
        });

        it("finds evidence buckets by tag, or by EvidenceStore parentage alone; leaves other buckets alone", () => {
            const untagged = mutate(evidence, "pol-ev", (p) => { delete p.tags; });
            assert.deepEqual(statuses(check(untagged)), [["pol-ev", "compliant"]], "parent is the EvidenceStore");
            const orphan = replace(untagged, "pol-ev", (r) => ({ ...r, parent: undefined }));
            assert.deepEqual(statuses(check(orphan)), [], "neither tagged nor in a store: not an evidence bucket");
            const byUrn = replace(orphan, "pol-ev", (r) => ({ ...r, urn: `${STACK_URN}dfir:storage:EvidenceStore$${T.bucket}::pol-ev` }));
            assert.deepEqual(statuses(check(byUrn)), [["pol-ev", "compliant"]], "the URN's type chain names the store");
            const plain = [resource(T.bucket, "pol-logs", { bucket: "pol-logs", tags: { team: "x" } })];
            assert.deepEqual(check(plain), []);
            const tagged = [resource(T.bucket, "pol-other-ev", { bucket: "pol-other-ev", tags: { "dfir:role": "evidence" } })];
            assert.deepEqual(statuses(check(tagged)), [["pol-other-ev", "violation"]]);
        });

        it("links the lock through propertyDependencies when ids are unknown (preview)", () => {
            const bucketUrn = one(evidence, "pol-ev").urn;
            const preview = evidence.map((r): RuleResource => {
                if (r.urn === bucketUrn) return { ...r, props: { ...r.props, id: UNKNOWN_STRING, bucket: UNKNOWN_STRING } };
                if (r.type === T.lock) return { ...r, props: { ...r.props, bucket: UNKNOWN_STRING }, propertyDependencies: { bucket: [bucketUrn] } };
                return r;
            });
            assert.deepEqual(statuses(check(preview)), [["pol-ev", "compliant"]]);
            const governance = mutate(preview, "pol-ev-lock", (p) => { p.rule.defaultRetention.mode = "GOVERNANCE"; });
            assert.deepEqual(statuses(check(governance)), [["pol-ev", "violation"]]);
        });

        it("reports unknown values as notes, never as a pass", () => {
            const enabled = mutate(evidence, "pol-ev", (p) => { p.objectLockEnabled = UNKNOWN_BOOLEAN; });
            assert.deepEqual(unknowns(check(enabled)), ["pol-ev: evidence bucket pol-ev: cannot check objectLockEnabled during preview: value unknown"]);
            const mode = mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention.mode = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(mode)), ["pol-ev: evidence bucket pol-ev: cannot check the retention mode of lock configuration pol-ev-lock during preview: value unknown"]);
            const days = mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention.days = UNKNOWN_NUMBER; });
            assert.deepEqual(statuses(check(days)), [["pol-ev", "unknown"]]);
            const unplaceable = mutate(evidence, "pol-ev-lock", (p) => { p.bucket = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(unplaceable)), [
                "pol-ev: evidence bucket pol-ev: cannot tell whether lock configuration pol-ev-lock belongs to it during preview: its bucket is unknown",
            ]);
            const tags = mutate(evidence, "pol-ev", (p) => { p.tags = UNKNOWN_STRING; });
            const orphan = replace(tags, "pol-ev", (r) => ({ ...r, parent: undefined }));
            assert.deepEqual(statuses(check(orphan)), [["pol-ev", "unknown"]]);
        });

        it("keeps a definite violation a violation when other values are unknown", () => {
            const stack = mutate(mutate(evidence, "pol-ev", (p) => { p.objectLockEnabled = false; }), "pol-ev-lock", (p) => { p.rule.defaultRetention.days = UNKNOWN_NUMBER; });
            assert.deepEqual(statuses(check(stack)), [["pol-ev", "violation"]]);
        });
    });

    describe(pab.NAME, () => {
        const check = (stack: readonly RuleResource[]) => pab.checkS3PublicAccessBlock(stack);

        it("passes the evidence bucket's block with all four flags on", () => {
            assert.deepEqual(statuses(check(evidence)), [["pol-ev", "compliant"]]);
        });

        it("rejects a block with one flag off", () => {
            const stack = mutate(evidence, "pol-ev-public-access", (p) => { p.ignorePublicAcls = false; });
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: bucket pol-ev: public access block pol-ev-public-access leaves ignorePublicAcls off — set it to true",
            ]);
        });

        it("rejects any bucket of the stack without a block, evidence or not", () => {
            const stack = [...evidence.filter((r) => r.type !== T.pab), resource(T.bucket, "pol-logs", { bucket: "pol-logs" })];
            assert.deepEqual(violations(check(stack)), [
                "pol-ev: bucket pol-ev: it has no BucketPublicAccessBlock — add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true",
                "pol-logs: bucket pol-logs: it has no BucketPublicAccessBlock — add one with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true",
            ]);
        });

        it("accepts an account-wide block with all four flags on instead", () => {
            const flags = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
            const stack = [resource(T.bucket, "pol-logs", { bucket: "pol-logs" }), resource(T.accountPab, "pol-account-pab", flags)];
            assert.deepEqual(statuses(check(stack)), [["pol-logs", "compliant"]]);
            const weak = [resource(T.bucket, "pol-logs", { bucket: "pol-logs" }), resource(T.accountPab, "pol-account-pab", { ...flags, restrictPublicBuckets: false })];
            assert.deepEqual(statuses(check(weak)), [["pol-logs", "violation"]]);
        });

        it("reports an unknown flag as a note", () => {
            const stack = mutate(evidence, "pol-ev-public-access", (p) => { p.blockPublicPolicy = UNKNOWN_BOOLEAN; });
            assert.deepEqual(unknowns(check(stack)), ["pol-ev: bucket pol-ev: cannot check blockPublicPolicy of public access block pol-ev-public-access during preview: value unknown"]);
        });
    });

    describe(acl.NAME, () => {
        it("passes every S3 resource of the EvidenceStore (no ACLs at all)", () => {
            const applicable = evidence.map((r) => [r.name, acl.checkS3NoPublicAcl(r).status]).filter(([, s]) => s !== "not-applicable");
            // The bucket, and the object of the signing key's public key (no ACL either).
            assert.deepEqual(applicable, [["pol-ev", "compliant"], ["pol-ev-signing-public-key", "compliant"]]);
        });

        it("rejects the public-read canned ACL on a BucketAcl, and public ACLs on a bucket itself", () => {
            const bucketAcl = resource(T.bucketAcl, "pol-acl", { bucket: "pol-ev-id", acl: "private" });
            assert.deepEqual(acl.checkS3NoPublicAcl(bucketAcl), { status: "compliant" });
            const publicAcl = structuredClone(bucketAcl) as RuleResource;
            (publicAcl.props as Record<string, unknown>).acl = "public-read";
            assert.deepEqual(acl.checkS3NoPublicAcl(publicAcl), {
                status: "violation",
                message: "bucket ACL pol-acl uses the public-read ACL — use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies",
            });
            const bucket = mutate(evidence, "pol-ev", (p) => { p.acl = "authenticated-read"; });
            assert.equal(acl.checkS3NoPublicAcl(one(bucket, "pol-ev")).status, "violation");
        });

        it("rejects grants to AllUsers or AuthenticatedUsers", () => {
            const grants = resource(T.bucketAcl, "pol-acl-grants", {
                bucket: "pol-ev-id",
                accessControlPolicy: {
                    owner: { id: "owner" },
                    grants: [{ grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" }],
                },
            });
            assert.deepEqual(acl.checkS3NoPublicAcl(grants), {
                status: "violation",
                message: "bucket ACL pol-acl-grants grants READ to AllUsers — use a private ACL (or none: BucketOwnerEnforced ownership disables ACLs) and grant access through policies",
            });
        });

        it("notes an unknown ACL, and does not apply to other resources", () => {
            assert.equal(acl.checkS3NoPublicAcl(resource(T.bucketAcl, "pol-acl-u", { acl: UNKNOWN_STRING })).status, "unknown");
            assert.equal(acl.checkS3NoPublicAcl(one(network, "pol-iso-isolation")).status, "not-applicable");
        });
    });

    describe(bucketPolicy.NAME, () => {
        const allowAll = (condition?: unknown, principal: unknown = "*") => ({
            Sid: "PublicRead", Effect: "Allow", Principal: principal, Action: "s3:GetObject", Resource: "arn:aws:s3:::pol-ev/*",
            ...(condition === undefined ? {} : { Condition: condition }),
        });
        const withStatement = (statement: unknown) => mutate(evidence, "pol-ev-policy", (p) => {
            const doc = JSON.parse(p.policy);
            doc.Statement.push(statement);
            p.policy = JSON.stringify(doc);
        });
        const check = (stack: readonly RuleResource[]) => bucketPolicy.checkS3NoPublicBucketPolicy(one(stack, "pol-ev-policy"));

        it("passes the evidence bucket policy: its wildcard-principal statements are all Deny", () => {
            const doc = JSON.parse(String(one(evidence, "pol-ev-policy").props.policy));
            assert.ok(doc.Statement.some((s: { Principal?: unknown }) => s.Principal === "*"), "the fixture does use Principal *");
            assert.deepEqual(check(evidence), { status: "compliant" });
        });

        it("rejects an Allow to any principal without a condition", () => {
            assert.deepEqual(check(withStatement(allowAll())), {
                status: "violation",
                message: "bucket policy pol-ev-policy statement PublicRead allows any principal (\"*\") without a restricting condition — name the principals, " +
                    "or add a StringEquals/ArnEquals condition on aws:SourceVpce, aws:SourceVpc, aws:PrincipalOrgID, aws:SourceAccount, aws:SourceArn, aws:PrincipalAccount",
            });
            assert.equal(check(withStatement(allowAll(undefined, { AWS: "*" }))).status, "violation");
            assert.equal(check(withStatement(allowAll(undefined, { AWS: ["arn:aws:iam::123456789012:root", "*"] }))).status, "violation");
        });

        it("accepts the same Allow pinned to a VPC endpoint or the organization", () => {
            assert.deepEqual(check(withStatement(allowAll({ StringEquals: { "aws:SourceVpce": "vpce-0123" } }))), { status: "compliant" });
            assert.deepEqual(check(withStatement(allowAll({ StringEquals: { "aws:PrincipalOrgID": "o-abc" } }))), { status: "compliant" });
            assert.deepEqual(check(withStatement(allowAll(undefined, { AWS: `arn:aws:iam::${ACCOUNT}:role/reader` }))), { status: "compliant" });
        });

        it("does not count negated, IfExists or wildcard conditions as restricting", () => {
            assert.equal(check(withStatement(allowAll({ StringNotEquals: { "aws:SourceVpce": "vpce-0123" } }))).status, "violation");
            assert.equal(check(withStatement(allowAll({ StringEqualsIfExists: { "aws:SourceVpce": "vpce-0123" } }))).status, "violation");
            assert.equal(check(withStatement(allowAll({ StringLike: { "aws:SourceAccount": "*" } }))).status, "violation");
            assert.equal(check(withStatement(allowAll({ Bool: { "aws:SecureTransport": "true" } }))).status, "violation");
        });

        it("notes a policy unknown during preview", () => {
            const stack = mutate(evidence, "pol-ev-policy", (p) => { p.policy = UNKNOWN_STRING; });
            assert.deepEqual(check(stack), { status: "unknown", message: "cannot check the policy of bucket policy pol-ev-policy during preview: value unknown" });
        });
    });

    describe(ingress.NAME, () => {
        const check = (stack: readonly RuleResource[]) => ingress.checkIsolationGroupNoIngress(stack);

        it("passes the IsolationNetwork as built, and ignores its untrack and endpoint groups", () => {
            assert.deepEqual(statuses(check(network)), [["pol-iso-isolation", "compliant"]]);
            // The untrack group admits everything and the endpoints group admits HTTPS from the VPC: neither isolates.
            assert.ok(network.some((r) => r.type === T.ingress && r.name.startsWith("pol-iso-untrack")));
            assert.ok(Array.isArray(one(network, "pol-iso-endpoints").props.ingress));
        });

        it("rejects an ingress rule resource on the isolation group", () => {
            const ssh = resource(T.ingress, "pol-iso-ssh", { securityGroupId: "sg-pol-iso-isolation", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.0.0.0/8" });
            assert.deepEqual(violations(check([...network, ssh])), [
                "pol-iso-ssh: isolation group pol-iso-isolation admits ingress through SecurityGroupIngressRule pol-iso-ssh (tcp 22 from 10.0.0.0/8) — remove it: an isolation group must admit nothing",
            ]);
            const legacy = resource(T.sgRule, "pol-iso-legacy", { type: "ingress", securityGroupId: "sg-pol-iso-isolation", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/8"] });
            assert.deepEqual(violations(check([...network, legacy])), [
                "pol-iso-legacy: isolation group pol-iso-isolation admits ingress through SecurityGroupRule pol-iso-legacy (tcp 443 from 10.0.0.0/8) — remove it: an isolation group must admit nothing",
            ]);
        });

        it("rejects inline ingress", () => {
            const stack = mutate(network, "pol-iso-isolation", (p) => { p.ingress = [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }]; });
            assert.deepEqual(violations(check(stack)), [
                "pol-iso-isolation: isolation group pol-iso-isolation: it admits ingress through 1 inline rule (tcp 22 from 0.0.0.0/0) — remove the ingress blocks: an isolation group must admit nothing",
            ]);
        });

        it("does not apply to untagged or untrack groups, whatever they admit", () => {
            const open = resource(T.sg, "pol-web", { ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] });
            const untrack = one(network, "pol-iso-untrack");
            assert.equal(untrack.props.tags && (untrack.props.tags as Record<string, string>)["dfir:role"], "untrack");
            assert.deepEqual(check([open, untrack]), []);
        });

        it("notes unknown inline ingress and unplaceable rules during preview", () => {
            const stack = mutate(network, "pol-iso-isolation", (p) => { p.ingress = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(stack)), ["pol-iso-isolation: isolation group pol-iso-isolation: cannot check its inline ingress rules during preview: value unknown"]);
            const unplaced = resource(T.ingress, "pol-iso-x", { securityGroupId: UNKNOWN_STRING, ipProtocol: "tcp", fromPort: 22, toPort: 22 });
            assert.deepEqual(unknowns(check([...network, unplaced])), [
                "pol-iso-x: cannot tell whether security group rule pol-iso-x belongs to an isolation group during preview: securityGroupId is unknown",
            ]);
        });
    });

    describe(egress.NAME, () => {
        const check = (stack: readonly RuleResource[], config?: egress.EgressConfig) => egress.checkIsolationGroupEgress(stack, config);

        it("passes the IsolationNetwork as built: TCP 443 to the S3 prefix list and the endpoints' group only", () => {
            assert.equal(one(network, "pol-iso-isolation-s3").props.prefixListId, S3_PREFIX_LIST);
            assert.deepEqual(statuses(check(network)), [
                ["pol-iso-isolation", "compliant"], ["pol-iso-isolation-endpoints", "compliant"], ["pol-iso-isolation-s3", "compliant"],
            ]);
        });

        it("rejects egress to 0.0.0.0/0", () => {
            const stack = mutate(network, "pol-iso-isolation-s3", (p) => { delete p.prefixListId; p.cidrIpv4 = "0.0.0.0/0"; });
            assert.deepEqual(violations(check(stack)), [
                "pol-iso-isolation-s3: isolation group pol-iso-isolation: egress rule pol-iso-isolation-s3 (tcp 443 to 0.0.0.0/0) allows egress to 0.0.0.0/0; allow only the S3 prefix list and the endpoints' group",
            ]);
        });

        it("accepts an allow-listed CIDR", () => {
            const stack = mutate(network, "pol-iso-isolation-s3", (p) => { delete p.prefixListId; p.cidrIpv4 = "10.9.9.9/32"; });
            assert.deepEqual(violations(check(stack, { allowedPorts: [443], allowedCidrs: ["10.9.9.9/32"] })), []);
        });

        it("rejects protocol -1", () => {
            const stack = mutate(network, "pol-iso-isolation-endpoints", (p) => { p.ipProtocol = "-1"; delete p.fromPort; delete p.toPort; });
            assert.deepEqual(violations(check(stack)), [
                "pol-iso-isolation-endpoints: isolation group pol-iso-isolation: egress rule pol-iso-isolation-endpoints (all traffic to sg-pol-iso-endpoints) allows every protocol (-1)",
            ]);
        });

        it("rejects port 22, and accepts it when configured", () => {
            const stack = mutate(network, "pol-iso-isolation-endpoints", (p) => { p.fromPort = 22; p.toPort = 22; });
            assert.deepEqual(violations(check(stack)), [
                "pol-iso-isolation-endpoints: isolation group pol-iso-isolation: egress rule pol-iso-isolation-endpoints (tcp 22 to sg-pol-iso-endpoints) allows ports 22-22; only 443 are allowed",
            ]);
            assert.deepEqual(violations(check(stack, { allowedPorts: [22, 443], allowedCidrs: [] })), []);
        });

        it("rejects inline egress blocks the same way, one destination at a time", () => {
            const stack = mutate(network, "pol-iso-isolation", (p) => {
                p.egress = [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [S3_PREFIX_LIST], cidrBlocks: ["0.0.0.0/0"] }];
            });
            assert.deepEqual(violations(check(stack)), [
                "pol-iso-isolation: isolation group pol-iso-isolation: inline egress rule #1 (tcp 443 to 0.0.0.0/0) allows egress to 0.0.0.0/0; allow only the S3 prefix list and the endpoints' group",
            ]);
        });

        it("judges egress SecurityGroupRules and rules tagged as isolation rules even when unlinked", () => {
            const legacy = resource(T.sgRule, "pol-iso-legacy", { type: "egress", securityGroupId: "sg-pol-iso-isolation", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] });
            const tagged = resource(T.egress, "pol-iso-stray", { securityGroupId: "sg-elsewhere", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv6: "::/0", tags: { "dfir:role": "isolation" } });
            assert.deepEqual(violations(check([...network, legacy, tagged])), [
                "pol-iso-legacy: isolation group pol-iso-isolation: egress rule pol-iso-legacy (all traffic to 0.0.0.0/0) allows every protocol (-1); allows egress to 0.0.0.0/0; allow only the S3 prefix list and the endpoints' group",
                "pol-iso-stray: SecurityGroupEgressRule pol-iso-stray (tagged as an isolation group's rule): egress (tcp 443 to ::/0) allows egress to ::/0; allow only the S3 prefix list and the endpoints' group",
            ]);
        });

        it("does not apply to the untrack group or a plain group with 0.0.0.0/0 egress", () => {
            const plain = resource(T.sg, "pol-web", { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] });
            const untrackStack = network.filter((r) => r.name.startsWith("pol-iso-untrack"));
            assert.ok(untrackStack.some((r) => r.type === T.egress && r.props.cidrIpv4 === "0.0.0.0/0"));
            assert.deepEqual(check([plain, ...untrackStack]), []);
        });

        it("links rules through propertyDependencies when the group id is unknown (preview)", () => {
            const sgUrn = one(network, "pol-iso-isolation").urn;
            const preview = network.map((r): RuleResource => {
                if (r.name === "pol-iso-isolation") return { ...r, props: { ...r.props, id: UNKNOWN_STRING } };
                if (r.type === T.egress || r.type === T.ingress) return { ...r, props: { ...r.props, securityGroupId: UNKNOWN_STRING }, propertyDependencies: { securityGroupId: [r.name.startsWith("pol-iso-isolation-") ? sgUrn : one(network, "pol-iso-untrack").urn] } };
                return r;
            });
            assert.deepEqual(violations(check(preview)), []);
            const bad = mutate(preview, "pol-iso-isolation-s3", (p) => { p.fromPort = 80; p.toPort = 80; });
            assert.deepEqual(statuses(check(bad)).filter(([, s]) => s === "violation"), [["pol-iso-isolation-s3", "violation"]]);
        });

        it("notes unknown tags, unknown egress and unknown CIDRs", () => {
            const tags = mutate(network, "pol-iso-isolation", (p) => { p.tags = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(tags)).filter((u) => u.startsWith("pol-iso-isolation:")), [
                "pol-iso-isolation: security group pol-iso-isolation: cannot check whether it is an isolation group during preview: its tags are unknown",
            ]);
            const inline = mutate(network, "pol-iso-isolation", (p) => { p.egress = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(inline)), ["pol-iso-isolation: isolation group pol-iso-isolation: cannot check its inline egress rules during preview: value unknown"]);
            const cidr = mutate(network, "pol-iso-isolation-s3", (p) => { delete p.prefixListId; p.cidrIpv4 = UNKNOWN_STRING; });
            assert.deepEqual(unknowns(check(cidr)), ["pol-iso-isolation-s3: isolation group pol-iso-isolation: cannot check cidrIpv4 of egress rule pol-iso-isolation-s3 during preview: value unknown"]);
        });
    });

    describe(versioning.NAME, () => {
        it("passes the EvidenceStore, rejects a suspended or missing versioning", () => {
            assert.deepEqual(statuses(versioning.checkEvidenceBucketVersioning(evidence)), [["pol-ev", "compliant"]]);
            const suspended = mutate(evidence, "pol-ev-versioning", (p) => { p.versioningConfiguration.status = "Suspended"; });
            assert.deepEqual(violations(versioning.checkEvidenceBucketVersioning(suspended)), [
                "pol-ev: evidence bucket pol-ev: versioning configuration pol-ev-versioning has status Suspended — set versioningConfiguration.status to \"Enabled\"",
            ]);
            const missing = evidence.filter((r) => r.type !== T.versioning);
            assert.deepEqual(statuses(versioning.checkEvidenceBucketVersioning(missing)), [["pol-ev", "violation"]]);
        });
    });

    describe(kms.NAME, () => {
        it("passes the EvidenceStore's aws:kms default, rejects AES256 or none", () => {
            assert.deepEqual(statuses(kms.checkEvidenceBucketKmsEncryption(evidence)), [["pol-ev", "compliant"]]);
            const aes = mutate(evidence, "pol-ev-sse", (p) => { p.rules[0].applyServerSideEncryptionByDefault = { sseAlgorithm: "AES256" }; });
            assert.deepEqual(violations(kms.checkEvidenceBucketKmsEncryption(aes)), [
                "pol-ev: evidence bucket pol-ev: encryption configuration pol-ev-sse uses AES256 — set applyServerSideEncryptionByDefault.sseAlgorithm to \"aws:kms\" with a customer managed key",
            ]);
            const missing = evidence.filter((r) => r.type !== T.sse);
            assert.deepEqual(statuses(kms.checkEvidenceBucketKmsEncryption(missing)), [["pol-ev", "violation"]]);
        });
    });

    describe(logging.NAME, () => {
        const machine = () => one(workflow, "pol-wf-response");

        it("passes the response state machine (level ALL to its log group)", () => {
            assert.deepEqual(logging.checkStateMachineLogging(machine()), { status: "compliant" });
        });

        it("rejects logging OFF, and no logging configuration", () => {
            const off = mutate(workflow, "pol-wf-response", (p) => { p.loggingConfiguration.level = "OFF"; });
            assert.deepEqual(logging.checkStateMachineLogging(one(off, "pol-wf-response")), {
                status: "violation", message: "state machine pol-wf-response: it logs at level OFF — set loggingConfiguration.level to ALL or ERROR",
            });
            const none = mutate(workflow, "pol-wf-response", (p) => { delete p.loggingConfiguration; });
            assert.equal(logging.checkStateMachineLogging(one(none, "pol-wf-response")).status, "violation");
        });

        it("notes an unknown destination; does not apply to other resources", () => {
            const unknownDestination = mutate(workflow, "pol-wf-response", (p) => { p.loggingConfiguration.logDestination = UNKNOWN_STRING; });
            assert.deepEqual(logging.checkStateMachineLogging(one(unknownDestination, "pol-wf-response")), {
                status: "unknown", message: "state machine pol-wf-response: cannot check the log destination during preview: value unknown",
            });
            assert.equal(logging.checkStateMachineLogging(one(workflow, "pol-wf-findings", T.eventRule)).status, "not-applicable");
        });
    });

    describe(frequency.NAME, () => {
        it("passes the detector (FIFTEEN_MINUTES), rejects SIX_HOURS and unset", () => {
            const detector = one(detection, "pol-gd");
            assert.deepEqual(frequency.checkGuardDutyFindingFrequency(detector), { status: "compliant" });
            const slow = mutate(detection, "pol-gd", (p) => { p.findingPublishingFrequency = "SIX_HOURS"; });
            assert.deepEqual(frequency.checkGuardDutyFindingFrequency(one(slow, "pol-gd")), {
                status: "violation", message: "GuardDuty detector pol-gd: it publishes finding updates every SIX_HOURS — set findingPublishingFrequency to FIFTEEN_MINUTES",
            });
            const unset = mutate(detection, "pol-gd", (p) => { delete p.findingPublishingFrequency; });
            assert.match(messageOf(frequency.checkGuardDutyFindingFrequency(one(unset, "pol-gd"))), /not set \(the service default is SIX_HOURS\)/);
            const unknownFrequency = mutate(detection, "pol-gd", (p) => { p.findingPublishingFrequency = UNKNOWN_STRING; });
            assert.equal(frequency.checkGuardDutyFindingFrequency(one(unknownFrequency, "pol-gd")).status, "unknown");
        });
    });

    describe(severity.NAME, () => {
        const withSeverity = (matchers: unknown) => mutate(workflow, "pol-wf-findings", (p) => {
            const pattern = JSON.parse(p.eventPattern);
            pattern.detail.severity = matchers;
            p.eventPattern = JSON.stringify(pattern);
        }, T.eventRule);
        const check = (stack: readonly RuleResource[]) => severity.checkGuardDutyRuleSeverity(one(stack, "pol-wf-findings", T.eventRule));
        const ENUMERATED = Array.from({ length: 20 }, (_, k) => Math.round((7 + k / 10) * 10) / 10); // 7, 7.1, ..., 8.9

        it("passes the response rule as generated (numeric >= 7)", () => {
            assert.deepEqual(check(workflow), { status: "compliant" });
        });

        it("rejects the enumerated 7.0 ... 8.9 list: it misses fractional scores and every Critical finding", () => {
            const verdict = check(withSeverity(ENUMERATED));
            assert.deepEqual(verdict, {
                status: "violation",
                message: "GuardDuty rule pol-wf-findings: its pattern does not admit every severity from 7 to 10: it misses 7 < x < 7.1, 7.1 < x < 7.2, " +
                    "7.2 < x < 7.3 and 17 more gaps (Critical findings, 9-10, included) — match detail.severity with {\"numeric\": [\">=\", 7]} instead of a list of values",
            });
        });

        it("rejects [\">=\", 7, \"<\", 10] (misses 10) and accepts [\">\", 6.9]", () => {
            assert.match(messageOf(check(withSeverity([{ numeric: [">=", 7, "<", 10] }]))), /it misses x = 10 \(Critical findings, 9-10, included\)/);
            assert.deepEqual(check(withSeverity([{ numeric: [">", 6.9] }])), { status: "compliant" });
            assert.deepEqual(check(withSeverity([{ numeric: [">=", 7, "<=", 10] }])), { status: "compliant" });
            assert.deepEqual(check(withSeverity([7, { numeric: [">", 7] }])), { status: "compliant" });
            assert.match(messageOf(check(withSeverity([{ numeric: [">", 7] }]))), /misses x = 7 —/);
        });

        it("leaves alone rules for other GuardDuty severities or other sources", () => {
            assert.equal(check(withSeverity([{ numeric: ["<", 4] }])).status, "not-applicable");
            const other = mutate(workflow, "pol-wf-findings", (p) => { p.eventPattern = JSON.stringify({ source: ["aws.ec2"], detail: { severity: [1] } }); }, T.eventRule);
            assert.equal(check(other).status, "not-applicable");
            const scans = mutate(workflow, "pol-wf-findings", (p) => { p.eventPattern = JSON.stringify({ source: ["aws.guardduty"], "detail-type": ["GuardDuty Malware Protection Object Scan Result"] }); }, T.eventRule);
            assert.equal(check(scans).status, "not-applicable");
        });

        it("accepts a rule with no severity filter, and notes an unknown pattern", () => {
            const all = mutate(workflow, "pol-wf-findings", (p) => { p.eventPattern = JSON.stringify({ source: ["aws.guardduty"] }); }, T.eventRule);
            assert.deepEqual(check(all), { status: "compliant" });
            const unknownPattern = mutate(workflow, "pol-wf-findings", (p) => { p.eventPattern = UNKNOWN_STRING; }, T.eventRule);
            assert.equal(check(unknownPattern).status, "unknown");
        });

        describe("the numeric evaluator", () => {
            const admitted = (matchers: unknown): readonly Interval[] => {
                const set = patternNumbers({ detail: { severity: matchers } }, ["detail", "severity"]);
                if ("error" in set) throw new Error(set.error);
                return set.intervals;
            };
            const missing = (matchers: unknown) => gaps(admitted(matchers), 7, 10).map(describeInterval);

            it("finds exactly the gaps of ranges, points and their unions", () => {
                assert.deepEqual(missing([{ numeric: [">=", 7] }]), []);
                assert.deepEqual(missing([{ numeric: [">=", 7, "<", 10] }]), ["x = 10"]);
                assert.deepEqual(missing([{ numeric: [">", 6.9] }]), []);
                assert.deepEqual(missing([{ numeric: [">", 7] }]), ["x = 7"]);
                assert.deepEqual(missing([{ numeric: [">=", 7, "<", 9] }, { numeric: [">", 9] }]), ["x = 9"]);
                assert.deepEqual(missing([{ numeric: [">=", 7, "<", 9] }, { numeric: [">=", 9, "<=", 10] }]), []);
                assert.deepEqual(missing([{ numeric: ["=", 8] }]), ["7 <= x < 8", "8 < x <= 10"]);
                assert.deepEqual(missing(ENUMERATED).slice(-1), ["8.9 < x <= 10"]);
                assert.deepEqual(missing([{ numeric: [">=", 11] }]), ["7 <= x <= 10"]);
                assert.deepEqual(missing([]), ["7 <= x <= 10"]);
            });

            it("reads exists, anything-but, string filters and $or", () => {
                assert.deepEqual(missing([{ exists: true }]), []);
                assert.deepEqual(missing([{ exists: false }]), ["7 <= x <= 10"]);
                assert.deepEqual(missing([{ "anything-but": [8] }]), ["x = 8"]);
                assert.deepEqual(missing([{ "anything-but": "LOW" }]), []);
                assert.deepEqual(missing([{ prefix: "8" }, "9"]), ["7 <= x <= 10"]);
                const or = patternNumbers({ detail: { $or: [{ severity: [{ numeric: [">=", 9] }] }, { severity: [{ numeric: [">=", 7, "<", 9] }] }] } }, ["detail", "severity"]);
                assert.ok(!("error" in or) && gaps(or.intervals, 7, 10).length === 0);
                assert.ok("error" in patternNumbers({ detail: { severity: [{ numeric: [">=", "7"] }] } }, ["detail", "severity"]));
            });
        });
    });

    describe(iam.NAME, () => {
        const iamOf = (stack: readonly RuleResource[]) => stack.filter((r) => [T.iamPolicy, T.rolePolicy, T.role].includes(r.type));

        it("passes every IAM policy, role policy and role of the ResponseWorkflow (its Deny guard rails included)", () => {
            const resources = iamOf(workflow);
            assert.ok(resources.length >= 15 && resources.some((r) => r.type === T.iamPolicy));
            assert.deepEqual(resources.map((r) => [r.name, iam.checkIamNoWildcardActions(r).status]).filter(([, s]) => s !== "compliant"), []);
        });

        const addStatement = (name: string, type: string, statement: Record<string, unknown>) => mutate(workflow, name, (p) => {
            const doc = JSON.parse(p.policy);
            doc.Statement.push(statement);
            p.policy = JSON.stringify(doc);
        }, type);

        it("rejects \"s3:*\" and \"*\" in an Allow, and an Allow with NotAction", () => {
            const s3 = addStatement("pol-wf-seal", T.rolePolicy, { Sid: "Everything", Effect: "Allow", Action: ["s3:GetObject", "s3:*"], Resource: "*" });
            assert.deepEqual(iam.checkIamNoWildcardActions(one(s3, "pol-wf-seal", T.rolePolicy)), {
                status: "violation",
                message: "RolePolicy pol-wf-seal statement Everything allows \"s3:*\" — list the actions it needs; " +
                    "RolePolicy pol-wf-seal statement Everything allows s3:GetObject on every resource — these actions take resource ARNs: name them",
            });
            const star = addStatement("pol-wf-deny-modify-isolated", T.iamPolicy, { Effect: "Allow", Action: "*", Resource: "*" });
            assert.match(messageOf(iam.checkIamNoWildcardActions(one(star, "pol-wf-deny-modify-isolated"))), /^Policy pol-wf-deny-modify-isolated statement #\d+ allows "\*"/);
            const notAction = addStatement("pol-wf-seal", T.rolePolicy, { Effect: "Allow", NotAction: "iam:*", Resource: "*" });
            assert.equal(iam.checkIamNoWildcardActions(one(notAction, "pol-wf-seal", T.rolePolicy)).status, "violation");
        });

        it("does not count Deny statements, and reads role inline policies", () => {
            const deny = addStatement("pol-wf-seal", T.rolePolicy, { Effect: "Deny", Action: "*", Resource: "*" });
            assert.deepEqual(iam.checkIamNoWildcardActions(one(deny, "pol-wf-seal", T.rolePolicy)), { status: "compliant" });
            const inline = mutate(workflow, "pol-wf-seal", (p) => {
                p.inlinePolicies = [{ name: "admin", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }];
            }, T.role);
            const role = one(inline, "pol-wf-seal", T.role);
            assert.deepEqual(iam.checkIamNoWildcardActions(role), {
                status: "violation", message: "role pol-wf-seal inline policy admin statement #1 allows \"*\" — list the actions it needs",
            });
        });

        it("notes a document unknown during preview", () => {
            const stack = mutate(workflow, "pol-wf-seal", (p) => { p.policy = UNKNOWN_STRING; }, T.rolePolicy);
            assert.deepEqual(iam.checkIamNoWildcardActions(one(stack, "pol-wf-seal", T.rolePolicy)), {
                status: "unknown", message: "cannot check the document of RolePolicy pol-wf-seal during preview: value unknown",
            });
        });
    });

    describe("the pack's definitions", () => {
        const byName = new Map(policies.map((p) => [p.name, p]));

        it("lists nineteen uniquely named kebab-case policies: eleven mandatory, eight advisory", () => {
            assert.equal(PACK_NAME, "aws-dfir");
            assert.equal(byName.size, policies.length);
            for (const p of policies) assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            const level = (l: string) => policies.filter((p) => p.enforcementLevel === l).map((p) => p.name).sort();
            assert.deepEqual(level("mandatory"), [
                "aws-service-quotas", "evidence-access-trail", "evidence-bucket-object-lock", "evidence-snapshot-lock", "isolation-group-egress-endpoints-only",
                "isolation-group-no-ingress", "manifest-signing-key", "s3-no-public-acl", "s3-no-public-bucket-policy", "s3-public-access-block",
                "workstation-no-public-ip",
            ]);
            assert.deepEqual(level("advisory"), [
                "evidence-bucket-kms-encryption", "evidence-bucket-versioning", "guardduty-finding-frequency",
                "guardduty-rule-admits-high-severity", "iam-no-wildcard-actions", "kms-evidence-key-rotation", "state-machine-logging",
                "workstation-encrypted-volumes",
            ]);
            for (const p of policies) assert.ok(p.description && p.remediationSteps && p.severity, p.name);
        });

        it("declares config schemas whose defaults are the rules' defaults", () => {
            const defaults = (name: string) => Object.fromEntries(Object.entries(byName.get(name)?.configSchema?.properties ?? {})
                .map(([k, v]) => [k, (v as { default?: unknown }).default]));
            assert.deepEqual(defaults(lock.NAME), { ...lock.DEFAULTS });
            assert.deepEqual(defaults(egress.NAME), { allowedPorts: [443], allowedCidrs: [], allowedPrefixListIds: [] });
            assert.deepEqual(defaults(severity.NAME), { ...severity.DEFAULTS });
            assert.deepEqual(defaults(logging.NAME), { allowedLevels: ["ALL", "ERROR"] });
            assert.deepEqual(defaults(frequency.NAME), { allowedFrequencies: ["FIFTEEN_MINUTES"] });
        });

        it("loads without the policy runtime: importing the rules starts no pack", () => {
            // In a fresh process, so other spec files' imports cannot mask (or fake) a load.
            const script = "require('./policy/policies');" +
                "console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /@pulumi[\\\\/](policy|pulumi)[\\\\/]/.test(f))))";
            const out = execFileSync(process.execPath, ["-r", TS_REGISTER, "-e", script], { cwd: path.join(__dirname, ".."), encoding: "utf8" });
            assert.deepEqual(JSON.parse(out.trim().split("\n").pop() as string), []);
        });

        /** A PolicyResource as @pulumi/policy builds it for AnalyzeStack, props behind its unknown-checking proxy. */
        function policyResources(stack: readonly RuleResource[]): PolicyResource[] {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy(o: object): Record<string, any> };
            const byUrn = new Map<string, PolicyResource>();
            const out = stack.map((r) => {
                const pr = { type: r.type, name: r.name, urn: r.urn, props: unknownCheckingProxy(structuredClone(r.props)), opts: { parent: r.parent }, dependencies: [], propertyDependencies: {} } as unknown as PolicyResource;
                byUrn.set(r.urn, pr);
                return pr;
            });
            stack.forEach((r, k) => {
                const parent = r.parent === undefined ? undefined : byUrn.get(r.parent);
                if (parent) (out[k] as { parent?: PolicyResource }).parent = parent;
                for (const [prop, urns] of Object.entries(r.propertyDependencies ?? {})) {
                    out[k].propertyDependencies[prop] = urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
                }
            });
            return out;
        }

        function runStack(name: string, stack: readonly RuleResource[], config: Record<string, unknown> = {}) {
            const reports: unknown[] = [];
            let notApplicable: string | undefined;
            const policy = byName.get(name) as StackValidationPolicy;
            try {
                void policy.validateStack({
                    resources: policyResources(stack), stackTags: new Map(), getConfig: <C extends object>() => config as C,
                    notApplicable: (reason?: string): never => { notApplicable = reason; throw new Error("not applicable"); },
                }, ((message: unknown, urn?: string) => reports.push(urn === undefined ? message : [message, urn])) as never);
            } catch (error) {
                if (notApplicable === undefined) throw error;
            }
            return { reports, notApplicable };
        }

        it("reports violations at the policy's level against the resource's URN, unknowns as advisory notes", () => {
            const stack = mutate(mutate(evidence, "pol-ev-lock", (p) => { p.rule.defaultRetention.mode = "GOVERNANCE"; }), "pol-ev", (p) => { p.tags = { "dfir:role": "evidence" }; });
            const bad = runStack(lock.NAME, stack);
            assert.deepEqual(bad.reports, [[messageOf(lock.checkEvidenceBucketObjectLock(stack)[0].verdict), one(stack, "pol-ev").urn]]);
            // Behind @pulumi/policy's proxy an unknown would abort the whole policy; the rules read under it.
            const preview = mutate(evidence, "pol-ev", (p) => { p.objectLockEnabled = UNKNOWN_BOOLEAN; });
            assert.deepEqual(runStack(lock.NAME, preview).reports, [{
                message: "evidence bucket pol-ev: cannot check objectLockEnabled during preview: value unknown",
                urn: one(preview, "pol-ev").urn,
                enforcementLevel: "advisory",
            }]);
            assert.deepEqual(runStack(lock.NAME, network), { reports: [], notApplicable: "the stack has no evidence bucket" });
            assert.equal(runStack(lock.NAME, evidence, { minRetentionDays: 400 }).reports.length, 1, "config reaches the rule");
        });

        it("runs resource policies on a proxied resource and marks other types not applicable", () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy(o: object): Record<string, any> };
            const policy = byName.get(frequency.NAME) as ResourceValidationPolicy;
            const run = (r: RuleResource) => {
                const reports: unknown[] = [];
                let notApplicable: string | undefined;
                const validate = policy.validateResource as (args: unknown, report: unknown) => void;
                try {
                    validate({
                        type: r.type, name: r.name, urn: r.urn, props: unknownCheckingProxy(structuredClone(r.props)), opts: {},
                        getConfig: () => ({}), notApplicable: (reason: string) => { notApplicable = reason; throw new Error("n/a"); },
                    }, (message: unknown) => reports.push(message));
                } catch (error) {
                    if (notApplicable === undefined) throw error;
                }
                return { reports, notApplicable };
            };
            const slow = mutate(detection, "pol-gd", (p) => { p.findingPublishingFrequency = "SIX_HOURS"; });
            assert.deepEqual(run(one(slow, "pol-gd")).reports, ["GuardDuty detector pol-gd: it publishes finding updates every SIX_HOURS — set findingPublishingFrequency to FIFTEEN_MINUTES"]);
            const unknownFrequency = mutate(detection, "pol-gd", (p) => { p.findingPublishingFrequency = UNKNOWN_STRING; });
            assert.deepEqual(run(one(unknownFrequency, "pol-gd")).reports, [{ message: "GuardDuty detector pol-gd: cannot check findingPublishingFrequency during preview: value unknown", urn: undefined, enforcementLevel: "advisory" }]);
            assert.deepEqual(run(one(network, "pol-iso-isolation")), { reports: [], notApplicable: "not a GuardDuty detector" });
        });

        it("reads plain properties from under the proxy", () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { unknownCheckingProxy } = require("@pulumi/policy/proxy") as { unknownCheckingProxy(o: object): Record<string, any> };
            const proxied = unknownCheckingProxy({ a: UNKNOWN_STRING, b: { c: 1 } });
            assert.throws(() => proxied.a, /can't be known during preview/);
            assert.deepEqual(plainProps(proxied), { a: UNKNOWN_STRING, b: { c: 1 } });
            assert.deepEqual(plainProps({ x: 1 }), { x: 1 });
        });
    });

    describe("the whole program with Pulumi.dev.yaml", () => {
        let program: RuleResource[];

        before(async () => {
            // The real entry point, run once per process (test/support/dev-program.ts).
            program = adapt((await devProgram()).resources);
        });

        it("passes every stack rule, with one finding per evidence bucket, bucket and isolation group", () => {
            const results = {
                [lock.NAME]: lock.checkEvidenceBucketObjectLock(program),
                [pab.NAME]: pab.checkS3PublicAccessBlock(program),
                [versioning.NAME]: versioning.checkEvidenceBucketVersioning(program),
                [kms.NAME]: kms.checkEvidenceBucketKmsEncryption(program),
                [ingress.NAME]: ingress.checkIsolationGroupNoIngress(program),
                [egress.NAME]: egress.checkIsolationGroupEgress(program),
            };
            for (const [name, findings] of Object.entries(results)) assert.deepEqual(findings.filter((f) => f.verdict.status !== "compliant"), [], name);
            assert.deepEqual(statuses(results[lock.NAME]), [["dfir-evidence", "compliant"]]);
            assert.deepEqual(statuses(results[egress.NAME]).map(([n]) => n), ["dfir-isolation-isolation", "dfir-isolation-isolation-endpoints", "dfir-isolation-isolation-s3"]);
        });

        it("passes every resource rule on every resource", () => {
            const checks = [acl.checkS3NoPublicAcl, bucketPolicy.checkS3NoPublicBucketPolicy, (r: RuleResource) => logging.checkStateMachineLogging(r),
                (r: RuleResource) => frequency.checkGuardDutyFindingFrequency(r), (r: RuleResource) => severity.checkGuardDutyRuleSeverity(r), iam.checkIamNoWildcardActions];
            const judged = program.flatMap((r) => checks.map((c) => [r.type, r.name, c(r).status]));
            assert.deepEqual(judged.filter(([, , s]) => s !== "compliant" && s !== "not-applicable"), []);
            const applied = new Set(judged.filter(([, , s]) => s === "compliant").map(([t]) => t));
            for (const t of [T.bucket, T.bucketPolicy, T.machine, T.detector, T.eventRule, T.rolePolicy, T.role, T.iamPolicy]) assert.ok(applied.has(t), t);
        });
    });

    describe("stack rules at scale", () => {
        it("check 5,000+ resources in one indexed pass each", () => {
            const stack: RuleResource[] = [];
            for (let k = 0; k < 1000; k++) {
                const name = `scale-b${k}`;
                const b = resource(T.bucket, name, { bucket: name, objectLockEnabled: true, tags: { "dfir:role": "evidence" } });
                stack.push(b);
                // Half linked by value, half by dependency with unknown values (preview).
                const link = k % 2 === 0 ? { props: { bucket: `${name}-id` } } : { props: { bucket: UNKNOWN_STRING }, deps: { bucket: [b.urn] } };
                const add = (type: string, suffix: string, props: Record<string, unknown>) =>
                    stack.push(resource(type, `${name}-${suffix}`, { ...link.props, ...props }, link.deps ? { propertyDependencies: link.deps } : {}));
                add(T.lock, "lock", { rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } });
                add(T.pab, "pab", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
                add(T.versioning, "v", { versioningConfiguration: { status: "Enabled" } });
                add(T.sse, "sse", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] });
            }
            // The S3 gateway endpoint whose prefix list the isolation rules name.
            stack.push(resource("aws:ec2/vpcEndpoint:VpcEndpoint", "scale-s3", { serviceName: "com.amazonaws.us-east-1.s3", vpcEndpointType: "Gateway", prefixListId: S3_PREFIX_LIST }));
            for (let k = 0; k < 250; k++) {
                const sg = `scale-sg${k}`;
                stack.push(resource(T.sg, sg, { tags: { "dfir:role": "isolation" } }));
                stack.push(resource(T.egress, `${sg}-s3`, { securityGroupId: `sg-${sg}`, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: S3_PREFIX_LIST }));
            }
            assert.ok(stack.length >= 5000);
            // How fast is the benchmark's to say (`npm run bench`: AnalyzeStack of 5,000 resources), not a timed test.
            const results = [
                lock.checkEvidenceBucketObjectLock(stack), pab.checkS3PublicAccessBlock(stack), versioning.checkEvidenceBucketVersioning(stack),
                kms.checkEvidenceBucketKmsEncryption(stack), ingress.checkIsolationGroupNoIngress(stack), egress.checkIsolationGroupEgress(stack),
            ];
            for (const findings of results) assert.deepEqual(findings.filter((f) => f.verdict.status !== "compliant"), []);
            assert.deepEqual(results.map((r) => r.length), [1000, 1000, 1000, 1000, 250, 500]);
        });
    });

    describe("resource rules about one type", () => {
        it("name their type, so @pulumi/policy skips every other resource before reading its properties (and records the rule not applicable)", () => {
            const typed = { "guardduty-finding-frequency": T.detector, "guardduty-rule-admits-high-severity": T.eventRule, "state-machine-logging": T.machine };
            for (const [name, type] of Object.entries(typed)) {
                const policy = policies.find((p) => p.name === name) as ResourceValidationPolicy;
                assert.equal(getPulumiType(policy.validateResource), type, name);
            }
            // The rules about several types name none (the skip is for one type only).
            for (const name of ["iam-no-wildcard-actions", "s3-no-public-acl"]) {
                assert.equal(getPulumiType((policies.find((p) => p.name === name) as ResourceValidationPolicy).validateResource), undefined, name);
            }
        });
    });
});
