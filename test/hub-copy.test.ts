/**
 * `copySnapshotsToHub`: the IAM documents it adds (member responder, hub snapshot function, share key policy),
 * exactly and with their scopes, and the components that carry them (MemberRegion's share key, ResponseWorkflow's
 * copy wiring, MemberAccess's responder grants) under the Pulumi mocks. The program-wide view (names, providers,
 * which key names which role) is in multi-account-program.test.ts; the behaviour in evidence.test.ts and the drill.
 */
import { strict as assert } from "node:assert";
import { ACCOUNT, one, recorded, settle, valueOf } from "./support/pulumi-mocks";
import { MemberAccess } from "../components/memberAccess";
import { MemberRegion } from "../components/memberRegion";
import { ResponseWorkflow } from "../components/responseWorkflow";
import { STATES } from "../core/definition";
import {
    hubSnapshotCopyStatements, memberSnapshotShareStatements, snapshotPolicy, snapshotShareKeyPolicy,
    type PolicyDocument, type PolicyStatement, type ResponseResources, type Scope,
} from "../core/iam";
import { memberResponderPolicy, SNAPSHOT_SHARE_KEY_ALIAS } from "../core/memberPolicies";

const HUB = "210987654321";
const MEMBER = "222222222222";
const SHARE_KEYS = [`arn:aws:kms:us-east-1:${MEMBER}:key/share-use1`, `arn:aws:kms:eu-west-1:${MEMBER}:key/share-euw1`];
const EVIDENCE_KEY = `arn:aws:kms:us-east-1:${HUB}:key/evidence`;
const HUB_SCOPE: Scope = { partition: "aws", region: "us-east-1", accountId: HUB };
const MEMBER_SCOPE = { partition: "aws", region: "*", accountId: MEMBER };
const KEY_USE = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*"];
const GRANT_FOR_EBS = { Bool: { "kms:GrantIsForAWSResource": "true" } };

const bySid = (d: PolicyDocument) => new Map(d.Statement.map((s) => [s.Sid, s]));
/** The statements of `after` that are not in `before` (by Sid), and whether any statement of `before` changed. */
function added(before: PolicyDocument, after: PolicyDocument): { statements: PolicyStatement[]; changed: string[] } {
    const old = bySid(before);
    const changed = [...old.entries()].filter(([sid, st]) => JSON.stringify(bySid(after).get(sid)) !== JSON.stringify(st)).map(([sid]) => String(sid));
    return { statements: after.Statement.filter((s) => !old.has(s.Sid)), changed };
}
const listOf = (x: unknown): string[] => ([] as string[]).concat((x ?? []) as string[]);
const noWildcardAction = (statements: PolicyStatement[]) => {
    for (const st of statements) for (const a of listOf(st.Action)) assert.ok(a !== "*" && !a.endsWith(":*"), `${st.Sid}: ${a}`);
};

describe("copySnapshotsToHub: policies (pure)", () => {
    const memberOptions = {
        captureRoleArns: [`arn:aws:iam::${MEMBER}:role/dfir-capture`],
        protectedRoleArns: [`arn:aws:iam::${MEMBER}:role/dfir-responder`, `arn:aws:iam::${MEMBER}:role/dfir-capture`],
        memoryDocumentArns: [`arn:aws:ssm:*:${MEMBER}:document/dfir-memory-capture`],
        evidenceBucketArns: [`arn:aws:s3:::dfir-evidence-${HUB}-us-east-1`],
    };

    it("adds to the member's responder exactly: copies tagged as share copies, tags at creation, sharing those with the hub only, the share keys, reading the account's keys through EC2", () => {
        const before = memberResponderPolicy(MEMBER_SCOPE, memberOptions);
        const after = memberResponderPolicy(MEMBER_SCOPE, { ...memberOptions, snapshotShare: { hubAccountId: HUB, shareKeyArns: [...SHARE_KEYS].reverse() } });
        const { statements, changed } = added(before, after);
        assert.deepEqual(changed, [], "no existing grant changes");
        const snapshots = "arn:aws:ec2:*::snapshot/*";
        const keys = [...SHARE_KEYS].sort();
        assert.deepEqual(statements, [
            // CopySnapshot's resource-level permission covers the new snapshot only: scoped by the tag it must carry.
            { Sid: "CopyEvidenceSnapshotsToShare", Effect: "Allow", Action: "ec2:CopySnapshot", Resource: snapshots, Condition: { StringEquals: { "aws:RequestTag/dfir:evidence": "disk-share-copy" } } },
            { Sid: "TagCopyEvidenceSnapshotsToShareAtCreation", Effect: "Allow", Action: "ec2:CreateTags", Resource: snapshots, Condition: { StringEquals: { "ec2:CreateAction": "CopySnapshot" } } },
            {
                Sid: "ShareCopiesWithHubOnly",
                Effect: "Allow",
                Action: "ec2:ModifySnapshotAttribute",
                Resource: snapshots,
                Condition: {
                    StringEquals: { "aws:ResourceTag/dfir:evidence": "disk-share-copy" },
                    "ForAllValues:StringEquals": { "ec2:Add/userId": [HUB] },
                    Null: { "ec2:Add/userId": "false", "ec2:Add/group": "true" },
                },
            },
            { Sid: "UseShareKey", Effect: "Allow", Action: KEY_USE, Resource: keys },
            { Sid: "UseShareKeyGrants", Effect: "Allow", Action: "kms:CreateGrant", Resource: keys, Condition: GRANT_FOR_EBS },
            // The evidence snapshots are under their volumes' keys, any key of the account: read through EC2 only.
            {
                Sid: "ReadEvidenceUnderAccountKeysThroughEc2",
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"],
                Resource: `arn:aws:kms:*:${MEMBER}:key/*`,
                Condition: { StringLike: { "kms:ViaService": "ec2.*.amazonaws.com" } },
            },
            {
                Sid: "ReadEvidenceUnderAccountKeysThroughEc2Grants",
                Effect: "Allow",
                Action: "kms:CreateGrant",
                Resource: `arn:aws:kms:*:${MEMBER}:key/*`,
                Condition: { StringLike: { "kms:ViaService": "ec2.*.amazonaws.com" }, ...GRANT_FOR_EBS },
            },
        ]);
        noWildcardAction(after.Statement);
        assert.ok(statements.every((s) => s.Resource !== "*"), "every new grant has resource-level scope");
        assert.equal(new Set(after.Statement.map((s) => s.Sid)).size, after.Statement.length, "unique Sids");
    });

    it("adds to the hub's snapshot function exactly: copies tagged as hub copies, tags at creation, the evidence key, the members' share keys", () => {
        const r: ResponseResources = {
            casesTableArn: "arn:aws:dynamodb:us-east-1:1:table/c", evidenceBucketArn: "arn:aws:s3:::b", evidenceKeyArn: EVIDENCE_KEY,
            memoryDocumentArn: "arn:aws:ssm:us-east-1:1:document/d", captureRoleArn: "arn:aws:iam::1:role/c",
            responderRoleArns: [`arn:aws:iam::${MEMBER}:role/dfir-responder`],
        };
        const logs = "arn:aws:logs:us-east-1:1:log-group:l";
        const before = snapshotPolicy(HUB_SCOPE, r, logs);
        const after = snapshotPolicy(HUB_SCOPE, { ...r, snapshotCopy: { memberShareKeyArns: [SHARE_KEYS[0]] } }, logs);
        const { statements, changed } = added(before, after);
        assert.deepEqual(changed, []);
        const snapshots = "arn:aws:ec2:us-east-1::snapshot/*";
        assert.deepEqual(statements, [
            // Following its copies, also where the hub has no instances of its own (and so no snapshot statements).
            { Sid: "DescribeHubCopiesNoResourceLevelPermission", Effect: "Allow", Action: ["ec2:DescribeSnapshots", "ec2:DescribeLockedSnapshots"], Resource: "*" },
            // Locking them as the member snapshots are: hub copies only (tagged so at creation).
            { Sid: "LockHubCopies", Effect: "Allow", Action: "ec2:LockSnapshot", Resource: snapshots, Condition: { StringEquals: { "aws:ResourceTag/dfir:evidence": "disk-hub-copy" } } },
            { Sid: "CopyMemberSnapshotsIntoHub", Effect: "Allow", Action: "ec2:CopySnapshot", Resource: snapshots, Condition: { StringEquals: { "aws:RequestTag/dfir:evidence": "disk-hub-copy" } } },
            { Sid: "TagCopyMemberSnapshotsIntoHubAtCreation", Effect: "Allow", Action: "ec2:CreateTags", Resource: snapshots, Condition: { StringEquals: { "ec2:CreateAction": "CopySnapshot" } } },
            { Sid: "EncryptHubCopiesWithEvidenceKey", Effect: "Allow", Action: KEY_USE, Resource: EVIDENCE_KEY },
            { Sid: "EncryptHubCopiesWithEvidenceKeyGrants", Effect: "Allow", Action: "kms:CreateGrant", Resource: EVIDENCE_KEY, Condition: GRANT_FOR_EBS },
            { Sid: "ReadMemberCopiesWithShareKeys", Effect: "Allow", Action: KEY_USE, Resource: SHARE_KEYS[0] },
            { Sid: "ReadMemberCopiesWithShareKeysGrants", Effect: "Allow", Action: "kms:CreateGrant", Resource: SHARE_KEYS[0], Condition: GRANT_FOR_EBS },
        ]);
        // Following the copies: DescribeSnapshots (no resource-level permission), there already for a hub with instances
        // of its own, and there too for one without (ownInstances false drops the hub's own snapshot statements).
        assert.ok(before.Statement.some((s) => s.Resource === "*" && listOf(s.Action).includes("ec2:DescribeSnapshots")));
        const noInstances = snapshotPolicy(HUB_SCOPE, { ...r, ownInstances: false, snapshotCopy: { memberShareKeyArns: [SHARE_KEYS[0]] } }, logs);
        assert.ok(noInstances.Statement.some((s) => s.Resource === "*" && listOf(s.Action).includes("ec2:DescribeSnapshots")));
        assert.ok(!noInstances.Statement.some((s) => listOf(s.Action).includes("ec2:CreateSnapshots")), "no grant on the hub's own instances");
        noWildcardAction(after.Statement);
        // No share key (only the hub's own account has member regions here): nothing to read with.
        assert.deepEqual(hubSnapshotCopyStatements(HUB_SCOPE, EVIDENCE_KEY, []).map((s) => s.Sid), [
            "DescribeHubCopiesNoResourceLevelPermission", "LockHubCopies", "CopyMemberSnapshotsIntoHub", "TagCopyMemberSnapshotsIntoHubAtCreation", "EncryptHubCopiesWithEvidenceKey", "EncryptHubCopiesWithEvidenceKeyGrants",
        ]);
    });

    it("lets the share key be administered by its account and used (grants only for EBS) by exactly the hub's snapshot roles", () => {
        const roles = [`arn:aws:iam::${HUB}:role/dfir-response-us-east-1-snapshot-abc1234`];
        const who = { Principal: { AWS: `arn:aws:iam::${HUB}:root` }, Condition: { ArnEquals: { "aws:PrincipalArn": roles[0] } } };
        assert.deepEqual(snapshotShareKeyPolicy("aws", MEMBER, roles), {
            Version: "2012-10-17",
            Statement: [
                { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MEMBER}:root` }, Action: "kms:*", Resource: "*" },
                { Sid: "HubSnapshotFunctionsCopy", Effect: "Allow", ...who, Action: KEY_USE, Resource: "*" },
                { Sid: "HubSnapshotFunctionsGrantToEbs", Effect: "Allow", Principal: who.Principal, Action: "kms:CreateGrant", Resource: "*", Condition: { ...who.Condition, ...GRANT_FOR_EBS } },
            ],
        });
        assert.throws(() => snapshotShareKeyPolicy("aws", MEMBER, []), /hubSnapshotRoleArns/);
        assert.throws(() => snapshotShareKeyPolicy("aws", MEMBER, [`arn:aws:iam::${HUB}:role/*`]), /not an exact IAM role ARN/);
    });

    it("refuses a share without a 12-digit hub account or without share keys", () => {
        assert.throws(() => memberSnapshotShareStatements(MEMBER_SCOPE, "hub", SHARE_KEYS), /hubAccountId must be 12 digits/);
        assert.throws(() => memberSnapshotShareStatements(MEMBER_SCOPE, HUB, []), /shareKeyArns/);
    });
});

describe("copySnapshotsToHub: components", () => {
    const T = {
        key: "aws:kms/key:Key",
        alias: "aws:kms/alias:Alias",
        fn: "aws:lambda/function:Function",
        rolePolicy: "aws:iam/rolePolicy:RolePolicy",
        machine: "aws:sfn/stateMachine:StateMachine",
    };
    const docOf = (r: { inputs: Record<string, any> }, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);

    it("MemberRegion creates the region's share key and its fixed alias only when asked, the key naming the hub's snapshot roles", async () => {
        const roles = [`arn:aws:iam::${HUB}:role/dfir-response-us-east-1-snapshot-1a2b3c4`];
        const region = new MemberRegion("t-mr-share", { vpcIds: [], snapshotShare: { hubSnapshotRoleArns: roles } });
        const arn = await valueOf(region.snapshotShareKeyArn);
        new MemberRegion("t-mr-plain", { vpcIds: [] });
        await settle();

        const key = one(T.key, "t-mr-share-snapshot-share");
        assert.equal(key.parent, "dfir:member:MemberRegion::t-mr-share");
        assert.deepEqual(docOf(key), snapshotShareKeyPolicy("aws", ACCOUNT, roles));
        assert.equal(key.inputs.enableKeyRotation, true);
        const alias = one(T.alias, "t-mr-share-snapshot-share");
        assert.equal(alias.inputs.name, SNAPSHOT_SHARE_KEY_ALIAS);
        assert.equal(alias.inputs.targetKeyId, "t-mr-share-snapshot-share");
        assert.equal(arn, `arn:aws:kms:us-east-1:${ACCOUNT}:key/t-mr-share-snapshot-share`);
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("t-mr-plain") && r.type.startsWith("aws:kms")), []);
    });

    describe("ResponseWorkflow", () => {
        const evidence = { bucketName: "evidence-bucket", bucketArn: "arn:aws:s3:::evidence-bucket", keyArn: EVIDENCE_KEY, signingKeyArn: "arn:aws:kms:us-east-1:111111111111:key/signing", retentionDays: 365 };
        const cross = { responderRoleName: "dfir-responder", memberAccountIds: [MEMBER], captureProfileName: "dfir-capture", memoryDocumentName: "dfir-memory-capture" };
        let on: ResponseWorkflow;

        before(async () => {
            new ResponseWorkflow("t-wf-nocopy", { isolationGroups: {}, evidence, crossAccount: cross });
            on = new ResponseWorkflow("t-wf-copy", { isolationGroups: {}, evidence, crossAccount: { ...cross, copySnapshotsToHub: true, memberShareKeyArns: [SHARE_KEYS[0]] } });
            await settle();
        });

        it("deploys the copy states and tells the snapshot function (flag, hub key); off, neither", async () => {
            const definition = (name: string) => JSON.parse(one(T.machine, `${name}-response`).inputs.definition);
            const disk = (name: string) => Object.keys(definition(name).States[STATES.evidence].Branches[0].States);
            assert.ok(disk("t-wf-copy").includes(STATES.startHubCopy));
            assert.ok(!disk("t-wf-nocopy").includes(STATES.startHubCopy));
            const env = (name: string) => one(T.fn, `${name}-snapshot`).inputs.environment.variables;
            assert.equal(env("t-wf-copy").COPY_SNAPSHOTS_TO_HUB, "true");
            assert.equal(env("t-wf-copy").HUB_SNAPSHOT_KEY_ARN, EVIDENCE_KEY);
            assert.equal("COPY_SNAPSHOTS_TO_HUB" in env("t-wf-nocopy"), false);
            assert.equal("HUB_SNAPSHOT_KEY_ARN" in env("t-wf-nocopy"), false);
            assert.equal(await valueOf(on.snapshotRoleArn), `arn:aws:iam::${ACCOUNT}:role/t-wf-copy-snapshot`);
        });

        it("grants the copy to the snapshot function only, on the members' share keys and the evidence key", () => {
            const sids = (name: string, fn: string) => docOf(one(T.rolePolicy, `${name}-${fn}`)).Statement.map((s) => s.Sid);
            const copySids = hubSnapshotCopyStatements(HUB_SCOPE, EVIDENCE_KEY, [SHARE_KEYS[0]]).map((s) => s.Sid);
            const snapshot = docOf(one(T.rolePolicy, "t-wf-copy-snapshot"));
            for (const sid of copySids) assert.ok(snapshot.Statement.some((s) => s.Sid === sid), String(sid));
            assert.deepEqual(snapshot.Statement.find((s) => s.Sid === "ReadMemberCopiesWithShareKeys")?.Resource, SHARE_KEYS[0]);
            for (const fn of ["case", "contain", "memory", "metadata", "seal", "triage"]) assert.deepEqual(sids("t-wf-copy", fn), sids("t-wf-nocopy", fn), fn);
            assert.deepEqual(sids("t-wf-nocopy", "snapshot").filter((s) => copySids.includes(s)), []);
        });

        it("names the same resources with the flag as without it", () => {
            const names = (prefix: string) => recorded.filter((r) => r.name.startsWith(`${prefix}-`)).map((r) => `${r.type}::${r.name.slice(prefix.length)}`).sort();
            assert.deepEqual(names("t-wf-copy"), names("t-wf-nocopy"));
        });
    });

    it("MemberAccess grants the responder the share with exactly its share keys and hub, and checks the arguments", async () => {
        const base = {
            trustees: { hubAccountId: HUB, roleNamePrefixes: ["dfir-response-us-east-1-"] },
            evidenceBucketArns: ["arn:aws:s3:::dfir-evidence"],
            evidenceKeyArns: [EVIDENCE_KEY],
        };
        new MemberAccess("t-ma-share", { ...base, snapshotShare: { hubAccountId: HUB, shareKeyArns: SHARE_KEYS } });
        new MemberAccess("t-ma-noshare", base);
        await settle();
        const doc = docOf(one(T.rolePolicy, "t-ma-share-responder"));
        const plain = docOf(one(T.rolePolicy, "t-ma-noshare-responder"));
        const { statements, changed } = added(plain, doc);
        assert.deepEqual(changed, []);
        // The share statements as the pure function builds them for the deploying account (its keys are the ones the
        // evidence may be under; snapshot ARNs name no account).
        assert.deepEqual(statements, JSON.parse(JSON.stringify(memberSnapshotShareStatements({ ...MEMBER_SCOPE, accountId: ACCOUNT }, HUB, SHARE_KEYS))));
        assert.ok(statements.some((st) => st.Resource === `arn:aws:kms:*:${ACCOUNT}:key/*`));
        assert.throws(() => new MemberAccess("t-ma-bad-share", { ...base, snapshotShare: { hubAccountId: "1", shareKeyArns: SHARE_KEYS } }), /snapshotShare\.hubAccountId/);
        assert.throws(() => new MemberAccess("t-ma-bad-share2", { ...base, snapshotShare: { hubAccountId: HUB, shareKeyArns: [] } }), /snapshotShare\.shareKeyArns/);
        assert.throws(() => new MemberAccess("t-ma-bad-share3", { ...base, responder: false, exemptRoleArns: [`arn:aws:iam::${HUB}:role/dfir-response-us-east-1-contain`], snapshotShare: { hubAccountId: HUB, shareKeyArns: SHARE_KEYS } }), /needs the responder role/);
    });
});
