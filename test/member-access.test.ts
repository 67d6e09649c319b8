import { strict as assert } from "node:assert";
import { ACCOUNT, one, recorded, resourcesOf, settle, valueOf } from "./support/pulumi-mocks";
import { MemberAccess } from "../components/memberAccess";
import { ISOLATED_INSTANCE_ACTIONS } from "../core/containmentPolicies";
import type { PolicyDocument, PolicyStatement } from "../core/iam";
import {
    analystAccessRoleArn, analystAccessTrustPolicy, memberAnalystAccessPolicy, memberCapturePolicy, memberResponderPolicy,
    RESPONDER_MAX_SESSION_SECONDS, RESPONDER_SESSION_NAME, responderTrustPolicy,
} from "../core/memberPolicies";
import { assertAssumable, CrossAccountRoleError, setClientCustomizer } from "../functions/lib/aws";

const T = {
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    profile: "aws:iam/instanceProfile:InstanceProfile",
    policy: "aws:iam/policy:Policy",
};

const HUB = "210987654321";
const hubRoles = [`arn:aws:iam::${HUB}:role/dfir-hub-contain-1a2b3c`, `arn:aws:iam::${HUB}:role/dfir-hub-memory-4d5e6f`];
const trustees = { hubAccountId: HUB, roleNamePrefixes: ["dfir-response-us-east-1-", "dfir-b-response-"] };
/** What `trustees` admits: the hub's roles named by the prefixes (any other role of the hub account is not). */
const trustedPatterns = [`arn:aws:iam::${HUB}:role/dfir-b-response-*`, `arn:aws:iam::${HUB}:role/dfir-response-us-east-1-*`];
const stores = {
    evidenceBucketArns: ["arn:aws:s3:::dfir-evidence-use1", "arn:aws:s3:::dfir-evidence-euw1"],
    evidenceKeyArns: [`arn:aws:kms:us-east-1:${HUB}:key/use1`, `arn:aws:kms:eu-west-1:${HUB}:key/euw1`],
};
const base = { trustees, ...stores };

const docOf = (r: { inputs: Record<string, any> }, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);
const listOf = (x: string | string[] | undefined): string[] => ([] as string[]).concat(x ?? []);
const actionsOf = (d: PolicyDocument) => d.Statement.flatMap((s) => listOf(s.Action));
const statement = (d: PolicyDocument, sid: string): PolicyStatement => {
    const hit = d.Statement.find((s) => s.Sid === sid);
    assert.ok(hit, `no statement ${sid} in ${d.Statement.map((s) => s.Sid).join(",")}`);
    return hit;
};

/** Actions without resource-level permissions (the only ones that may have `"Resource": "*"`). */
const NO_RESOURCE_LEVEL = new Set([
    "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeNetworkInterfaces", "autoscaling:DescribeAutoScalingInstances",
    // The snapshot step adopts an earlier attempt's snapshot locks.
    "ec2:DescribeLockedSnapshots",
    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
    "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:CancelCommand",
    // Contain's network ACL step reads the VPC.
    "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints",
]);

describe("MemberAccess", () => {
    it("lets the hub roles named by the given prefixes assume the responder role, under the functions' session name, for an hour", async () => {
        const access = new MemberAccess("t-ma-trust", base);
        const arn = await valueOf(access.responderRoleArn);
        await settle();

        const role = one(T.role, "t-ma-trust-responder").inputs;
        const trust: PolicyDocument = JSON.parse(role.assumeRolePolicy);
        assert.equal(trust.Statement.length, 1);
        const [st] = trust.Statement;
        assert.deepEqual([st.Effect, st.Action, st.Resource], ["Allow", "sts:AssumeRole", undefined]);
        // The hub account as principal, narrowed to the role-name patterns: never the account alone.
        assert.deepEqual(st.Principal, { AWS: `arn:aws:iam::${HUB}:root` });
        assert.deepEqual(st.Condition, {
            ArnLike: { "aws:PrincipalArn": trustedPatterns },
            StringEquals: { "sts:RoleSessionName": RESPONDER_SESSION_NAME },
        });
        assert.equal(role.maxSessionDuration, 3600);
        assert.equal(role.name, "dfir-responder");
        assert.equal(arn, `arn:aws:iam::${ACCOUNT}:role/dfir-responder`);
    });

    it("also requires the hub's organization when one is given", async () => {
        new MemberAccess("t-ma-org", { ...base, organizationId: "o-a1b2c3d4e5" });
        await settle();

        const [st] = docOf(one(T.role, "t-ma-org-responder"), "assumeRolePolicy").Statement;
        assert.deepEqual(st.Condition, {
            ArnLike: { "aws:PrincipalArn": trustedPatterns },
            StringEquals: { "sts:RoleSessionName": RESPONDER_SESSION_NAME, "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
        });
    });

    it("refuses a trust without prefixes, with a wildcard, or of a malformed account, naming the field", () => {
        const t = (over: Partial<typeof trustees>) => responderTrustPolicy({ partition: "aws", ...trustees, ...over });
        assert.throws(() => t({ roleNamePrefixes: [] }), /roleNamePrefixes: at least one/);
        assert.throws(() => t({ roleNamePrefixes: ["dfir-*"] }), /roleNamePrefixes: .*no wildcard/);
        assert.throws(() => t({ roleNamePrefixes: ["dfir-response"] }), /roleNamePrefixes: .*ending in "-"/);
        assert.throws(() => t({ hubAccountId: "1234" }), /hubAccountId/);
        assert.throws(() => responderTrustPolicy({ partition: "aws", ...trustees }, { organizationId: "123" }), /organizationId/);
    });

    it("names the responder role, capture role and capture profile explicitly, the same in every account", async () => {
        const access = new MemberAccess("t-ma-names", base);
        const custom = new MemberAccess("t-ma-custom", { ...base, responderRoleName: "acme-dfir-responder", captureProfileName: "acme-dfir-capture" });
        const [profileArn, customProfileArn, customRoleArn] = await Promise.all([
            valueOf(access.captureProfileArn), valueOf(custom.captureProfileArn), valueOf(custom.responderRoleArn),
        ]);
        await settle();

        assert.equal(one(T.role, "t-ma-names-capture").inputs.name, "dfir-capture");
        const profile = one(T.profile, "t-ma-names-capture").inputs;
        assert.deepEqual([profile.name, profile.role], ["dfir-capture", "dfir-capture"]);
        assert.equal(profileArn, `arn:aws:iam::${ACCOUNT}:instance-profile/dfir-capture`);
        assert.equal(one(T.role, "t-ma-custom-responder").inputs.name, "acme-dfir-responder");
        assert.equal(one(T.role, "t-ma-custom-capture").inputs.name, "acme-dfir-capture");
        assert.equal(one(T.profile, "t-ma-custom-capture").inputs.name, "acme-dfir-capture");
        assert.equal(customProfileArn, `arn:aws:iam::${ACCOUNT}:instance-profile/acme-dfir-capture`);
        assert.equal(customRoleArn, `arn:aws:iam::${ACCOUNT}:role/acme-dfir-responder`);
    });

    it("gives the responder no wildcard action, and `*` resources only to actions without resource-level permissions", async () => {
        new MemberAccess("t-ma-iam", base);
        await settle();

        for (const r of recorded.filter((x) => [T.rolePolicy, T.policy].includes(x.type) && x.name.startsWith("t-ma-iam-"))) {
            const policy = docOf(r);
            const actions = actionsOf(policy);
            assert.ok(!actions.some((a) => a === "*" || a.endsWith(":*")), `${r.name}: ${actions.join(",")}`);
            const sids = policy.Statement.map((st) => st.Sid);
            assert.equal(new Set(sids).size, sids.length, `${r.name}: Sids must be unique: ${sids.join(",")}`);
            const allowedOnAll = policy.Statement.filter((st) => st.Effect === "Allow" && listOf(st.Resource).includes("*"));
            for (const a of allowedOnAll.flatMap((st) => listOf(st.Action))) assert.ok(NO_RESOURCE_LEVEL.has(a), `${r.name} grants ${a} on *`);
        }
        const responder = docOf(one(T.rolePolicy, "t-ma-iam-responder"));
        assert.ok(JSON.stringify(responder).length < 10240, "inline role policies are limited to 10,240 characters");
        assert.ok(!actionsOf(responder).some((a) => a.startsWith("s3:")), "evidence is written by the hub's roles");
        // Its one KMS use: decrypting encrypted evidence snapshots' blocks through EBS for the disk digests.
        const kms = responder.Statement.filter((st) => listOf(st.Action).some((a) => a.startsWith("kms:")));
        assert.deepEqual(kms.map((st) => [listOf(st.Action), st.Condition]), [[["kms:Decrypt"], { StringLike: { "kms:ViaService": "ebs.*.amazonaws.com" } }]]);
        assert.ok(!actionsOf(responder).includes("ec2:TerminateInstances"));
    });

    it("grants the responder every action the functions take in the member account, scoped to this account", async () => {
        new MemberAccess("t-ma-acts", { ...base, memoryDocumentName: "acme-memory" });
        await settle();

        const policy = docOf(one(T.rolePolicy, "t-ma-acts-responder"));
        const actions = new Set(actionsOf(policy));
        for (const a of [
            // OpenCase, Contain
            "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations",
            "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute", "ec2:ReplaceIamInstanceProfileAssociation",
            "ec2:AssociateIamInstanceProfile", "ec2:CreateTags", "autoscaling:DetachInstances", "elasticloadbalancing:DeregisterTargets",
            "iam:GetInstanceProfile", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:AttachRolePolicy", "iam:PassRole",
            // snapshot, memory, metadata
            "ec2:CreateSnapshots", "ec2:LockSnapshot", "ec2:DescribeLockedSnapshots", "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ssm:SendCommand", "ssm:DescribeInstanceInformation",
            "ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:CancelCommand", "ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot", "ec2:DescribeNetworkInterfaces",
        ]) assert.ok(actions.has(a), `missing ${a}`);

        // SendCommand is also authorized on its output bucket (the hub's evidence buckets).
        assert.deepEqual(statement(policy, "RunCaptureDocumentOnInstances").Resource, [
            `arn:aws:ssm:*:${ACCOUNT}:document/acme-memory`, `arn:aws:ec2:*:${ACCOUNT}:instance/*`, "arn:aws:s3:::dfir-evidence-use1", "arn:aws:s3:::dfir-evidence-euw1",
        ]);
        assert.deepEqual(statement(policy, "TagSnapshotsAtCreation").Condition, { StringEquals: { "ec2:CreateAction": "CreateSnapshots" } });
        const pass = statement(policy, "PassCaptureRoleToEc2");
        assert.deepEqual([pass.Resource, pass.Condition], [[`arn:aws:iam::${ACCOUNT}:role/dfir-capture`], { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } }]);
        const guard = statement(policy, "NeverWriteResponderRoles");
        assert.deepEqual([guard.Effect, guard.Action, guard.Resource], [
            "Deny", "iam:AttachRolePolicy", [`arn:aws:iam::${ACCOUNT}:role/dfir-responder`, `arn:aws:iam::${ACCOUNT}:role/dfir-capture`],
        ]);
        assert.ok(!actions.has("iam:PutRolePolicy"), "no inline policy write anywhere");
        assert.deepEqual(statement(policy, "AttachOnlyRevocationPolicies").Condition, { ArnLike: { "iam:PolicyARN": `arn:aws:iam::${ACCOUNT}:policy/dfir/revoke/*` } });
        assert.deepEqual(statement(policy, "WriteRevocationPolicies").Resource, `arn:aws:iam::${ACCOUNT}:policy/dfir/revoke/*`);
        for (const st of policy.Statement.filter((x) => !listOf(x.Resource).includes("*"))) {
            // Snapshot ARNs carry no account, nor do S3 ARNs (SendCommand's output bucket: the hub's evidence buckets);
            // every other resource is this account's.
            for (const r of listOf(st.Resource)) {
                assert.ok(r.includes(`:${ACCOUNT}:`) || r === "arn:aws:ec2:*::snapshot/*" || stores.evidenceBucketArns.includes(r), `${st.Sid}: ${r}`);
            }
        }
    });

    it("lets the capture role only read tools/ and write the memory/ and ssm/ folders of cases in the hub's buckets", async () => {
        new MemberAccess("t-ma-capture", base);
        await settle();

        const capture = docOf(one(T.rolePolicy, "t-ma-capture-capture"));
        const grants = capture.Statement.map((st) => [st.Effect, listOf(st.Action).sort(), listOf(st.Resource).sort()]);
        assert.deepEqual(grants, [
            ["Allow", ["s3:GetObject"], stores.evidenceBucketArns.map((b) => `${b}/tools/*`).sort()],
            ["Allow", ["s3:PutObject"], stores.evidenceBucketArns.flatMap((b) => [`${b}/cases/*/memory/*`, `${b}/cases/*/ssm/*`]).sort()],
            ["Allow", ["kms:Decrypt", "kms:GenerateDataKey"], [...stores.evidenceKeyArns].sort()],
        ]);
        assert.deepEqual(docOf(one(T.role, "t-ma-capture-capture"), "assumeRolePolicy").Statement[0].Principal, { Service: "ec2.amazonaws.com" });
        assert.equal(one(T.attachment, "t-ma-capture-capture-ssm").inputs.policyArn, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    });

    it("ships the deny-modify-isolated policy with exactly the responder role as its exception", async () => {
        const access = new MemberAccess("t-ma-deny", base);
        const [policyArn, responderArn] = await Promise.all([valueOf(access.denyModifyIsolatedPolicyArn), valueOf(access.responderRoleArn)]);
        await settle();

        const deny = docOf(one(T.policy, "t-ma-deny-deny-modify-isolated"));
        assert.ok(deny.Statement.length > 0);
        for (const st of deny.Statement) {
            assert.equal(st.Effect, "Deny");
            assert.deepEqual(st.Condition?.ArnNotLike, { "aws:PrincipalArn": [responderArn] });
            assert.deepEqual(st.Condition?.StringEquals, { "aws:ResourceTag/dfir:status": "isolated" });
        }
        for (const a of ISOLATED_INSTANCE_ACTIONS) assert.ok(actionsOf(deny).includes(a), a);
        assert.equal(policyArn, `arn:aws:iam::${ACCOUNT}:policy/t-ma-deny-deny-modify-isolated`);
    });

    it("with the hub's analyst roles: the analyst access role they alone may assume, its policy, and the isolation guard exempting it", async () => {
        const analysts = [`arn:aws:iam::${HUB}:role/dfir-analyst`];
        const access = new MemberAccess("t-ma-analysts", { ...base, analystRoleArns: analysts, organizationId: "o-abcdefghij" });
        const [accessArn, responderArn] = await Promise.all([valueOf(access.analystAccessRoleArn), valueOf(access.responderRoleArn)]);
        await settle();

        const role = one(T.role, "t-ma-analysts-analyst-access");
        assert.equal(role.inputs.name, "dfir-analyst-access");
        assert.deepEqual(docOf(role, "assumeRolePolicy"), analystAccessTrustPolicy(analysts, { organizationId: "o-abcdefghij" }));
        assert.deepEqual(docOf(one(T.rolePolicy, "t-ma-analysts-analyst-access")), memberAnalystAccessPolicy("aws", ACCOUNT));
        // The responder role trusts the hub's functions only.
        assert.ok(!JSON.stringify(docOf(one(T.role, "t-ma-analysts-responder"), "assumeRolePolicy")).includes("dfir-analyst"));
        const deny = docOf(one(T.policy, "t-ma-analysts-deny-modify-isolated"));
        for (const st of deny.Statement) assert.deepEqual(st.Condition?.ArnNotLike, { "aws:PrincipalArn": [responderArn, accessArn] });
        assert.equal(accessArn, analystAccessRoleArn("aws", ACCOUNT));
        // The hub's own account (no responder role): the analysts act there as themselves, no access role.
        const own = new MemberAccess("t-ma-own", { ...stores, exemptRoleArns: hubRoles, analystRoleArns: analysts, responder: false });
        assert.equal(own.analystAccessRoleArn, undefined);
        await settle();
        assert.ok(!resourcesOf("t-ma-own").some((r) => r.type === T.role && r.name.endsWith("-analyst-access")));
        assert.throws(() => new MemberAccess("t-ma-bad-analyst", { ...base, analystRoleArns: [`arn:aws:iam::${HUB}:root`] }), /analystRoleArns: .*not an exact IAM role ARN/);
    });

    it("parents every child to the component, named after it", async () => {
        new MemberAccess("t-ma-parent", base);
        await settle();

        const children = resourcesOf("t-ma-parent").filter((r) => r.type !== "dfir:access:MemberAccess");
        assert.deepEqual(children.map((r) => `${r.type.split(":").pop()} ${r.name}`).sort(), [
            "InstanceProfile t-ma-parent-capture", "Policy t-ma-parent-deny-modify-isolated",
            "Role t-ma-parent-capture", "Role t-ma-parent-responder",
            "RolePolicy t-ma-parent-capture", "RolePolicy t-ma-parent-responder",
            "RolePolicyAttachment t-ma-parent-capture-ssm",
        ]);
        for (const child of children) assert.equal(child.parent, "dfir:access:MemberAccess::t-ma-parent", child.name);
    });

    it("rejects missing or untrustworthy hub roles and missing stores before creating anything, naming the field", async () => {
        assert.throws(() => new MemberAccess("t-ma-bad1", { ...stores }), /t-ma-bad1: trustees .*required/);
        assert.throws(() => new MemberAccess("t-ma-bad2", { ...stores, responder: false, exemptRoleArns: [`arn:aws:iam::${HUB}:root`] }), /t-ma-bad2: exemptRoleArns/);
        assert.throws(() => new MemberAccess("t-ma-bad3", { ...base, trustees: { ...trustees, roleNamePrefixes: ["dfir-*-"] } }), /roleNamePrefixes: .*wildcard/);
        assert.throws(() => new MemberAccess("t-ma-bad4", { ...base, evidenceBucketArns: [] }), /t-ma-bad4: evidenceBucketArns/);
        assert.throws(() => new MemberAccess("t-ma-bad5", { ...base, evidenceKeyArns: [] }), /t-ma-bad5: evidenceKeyArns/);
        assert.throws(() => new MemberAccess("t-ma-bad6", { ...base, responderRoleName: "no spaces" }), /t-ma-bad6: responderRoleName/);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("t-ma-bad") && !r.type.startsWith("dfir:")), []);
    });
});

describe("member policies (pure)", () => {
    const scope = { partition: "aws", region: "*", accountId: ACCOUNT };
    const roles = {
        captureRoleArns: [`arn:aws:iam::${ACCOUNT}:role/dfir-capture`],
        protectedRoleArns: [`arn:aws:iam::${ACCOUNT}:role/dfir-responder`],
        evidenceBucketArns: ["arn:aws:s3:::dfir-evidence-hub-us-east-1"],
    };

    it("refuses to build a responder policy without a capture role, a protected role, a document or an evidence bucket", () => {
        const doc = [`arn:aws:ssm:*:${ACCOUNT}:document/dfir-memory-capture`];
        assert.throws(() => memberResponderPolicy(scope, { ...roles, captureRoleArns: [], memoryDocumentArns: doc }), /captureRoleArns/);
        assert.throws(() => memberResponderPolicy(scope, { ...roles, protectedRoleArns: [], memoryDocumentArns: doc }), /protectedRoleArns/);
        assert.throws(() => memberResponderPolicy(scope, { ...roles, memoryDocumentArns: [] }), /memoryDocumentArns/);
        assert.throws(() => memberResponderPolicy(scope, { ...roles, memoryDocumentArns: doc, evidenceBucketArns: [] }), /evidenceBucketArns/);
    });

    it("lets SendCommand name the hub's evidence buckets as its output bucket (SendCommand is authorized on it), and nothing else in S3", () => {
        const doc = `arn:aws:ssm:*:${ACCOUNT}:document/d`;
        const buckets = ["arn:aws:s3:::dfir-evidence-hub-us-east-1", "arn:aws:s3:::dfir-evidence-hub-eu-west-1"];
        const policy = memberResponderPolicy(scope, { ...roles, memoryDocumentArns: [doc], evidenceBucketArns: [...buckets, buckets[0]] });
        const send = policy.Statement.filter((st) => listOf(st.Action).includes("ssm:SendCommand"));
        assert.equal(send.length, 1);
        assert.deepEqual(listOf(send[0].Resource), [doc, `arn:aws:ec2:*:${ACCOUNT}:instance/*`, ...buckets]);
        assert.deepEqual(policy.Statement.filter((st) => listOf(st.Action).some((a) => a.startsWith("s3:"))), [], "the responder itself has no S3 permission");
    });

    it("folds every unscoped read into one statement and keeps every scoped grant", () => {
        const policy = memberResponderPolicy(scope, { ...roles, memoryDocumentArns: [`arn:aws:ssm:*:${ACCOUNT}:document/d`] });
        const unscoped = policy.Statement.filter((st) => st.Resource === "*");
        assert.equal(unscoped.length, 1);
        assert.deepEqual(new Set(listOf(unscoped[0].Action)), NO_RESOURCE_LEVEL);
    });

    it("writes one bucket's capture grants exactly as the single-account capture profile does", () => {
        const policy = memberCapturePolicy(["arn:aws:s3:::b", "arn:aws:s3:::b"], ["arn:aws:kms:us-east-1:1:key/k"]);
        assert.deepEqual(policy.Statement.map((st) => st.Resource), [
            "arn:aws:s3:::b/tools/*", ["arn:aws:s3:::b/cases/*/memory/*", "arn:aws:s3:::b/cases/*/ssm/*"], "arn:aws:kms:us-east-1:1:key/k",
        ]);
        assert.throws(() => memberCapturePolicy([], ["k"]), /evidenceBucketArns/);
        assert.throws(() => memberCapturePolicy(["b"], []), /evidenceKeyArns/);
    });

    it("agrees with the functions' AssumeRole call: the session name the trust requires, within the role's maximum", async () => {
        let input: { RoleArn?: string; RoleSessionName?: string; DurationSeconds?: number } | undefined;
        setClientCustomizer((client) => {
            client.middlewareStack.add((_next: unknown, context: { commandName?: string }) => async (args: { input: typeof input }) => {
                if (context.commandName === "AssumeRoleCommand") input = args.input;
                throw new Error("stopped by the test");
            }, { step: "initialize", name: "t-ma-capture-assume-role" });
        });
        try {
            const roleArn = `arn:aws:iam::${ACCOUNT}:role/dfir-responder`;
            await assert.rejects(assertAssumable({ region: "us-east-1", roleArn }), CrossAccountRoleError);
            assert.equal(input?.RoleArn, roleArn);
            assert.equal(input?.RoleSessionName, RESPONDER_SESSION_NAME);
            assert.ok((input?.DurationSeconds ?? 3600) <= RESPONDER_MAX_SESSION_SECONDS);
        } finally {
            setClientCustomizer(undefined);
        }
    });
});
