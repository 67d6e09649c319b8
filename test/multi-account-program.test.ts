import { strict as assert } from "node:assert";
import { recorded, settingsFileOf, settle, type RecordedResource } from "./support/pulumi-mocks";
import { prodWith, stackConfig } from "./support/stack-config";
import { dfirKeys, parseDfirConfig, type MultiAccountStackConfig } from "../core/config";
import type { PolicyDocument, PolicyStatement } from "../core/iam";
import { planDeployment } from "../core/plan";
import { AWS_REGIONS } from "../core/regions";
import { deployMultiAccount } from "../components/multiAccountStack";

const HUB = "111111111111";
const PROD = stackConfig("prod");
const FUNCTIONS_IN_MEMBERS = ["case", "contain", "snapshot", "memory", "metadata", "digest"];

const prodMembers = () => JSON.parse(PROD["dfir:members"]) as Record<string, any>[];
const prodHub = () => JSON.parse(PROD["dfir:hub"]) as Record<string, any>;

/** Run the multi-account program under the mocks and return what it registered (this run only). */
async function run(config: MultiAccountStackConfig): Promise<RecordedResource[]> {
    const start = recorded.length;
    await deployMultiAccount(config);
    await settle();
    return recorded.slice(start);
}

const key = (r: RecordedResource) => `${r.type}::${r.name}`;
const isAws = (r: RecordedResource) => r.type.startsWith("aws:");
const docOf = (r: RecordedResource, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);
const list = (x: unknown): string[] => ([] as string[]).concat((x ?? []) as string[]);

/** The top-level component (no dfir: parent) a resource belongs to. */
function topComponent(resources: RecordedResource[], r: RecordedResource): string {
    const byKey = new Map(resources.map((x) => [key(x), x]));
    let current = r;
    while (current.parent && byKey.get(current.parent)?.type.startsWith("dfir:")) current = byKey.get(current.parent) as RecordedResource;
    return current.name;
}

/** The provider a top-level component's resources must use: from its name (`dfir-<account>-<region>-...`, `dfir-<what>-<region>`). */
function expectedProvider(component: string): string {
    const member = /^dfir-(\d{12})-(access|[a-z]+(?:-[a-z]+)*-\d)/.exec(component);
    if (member) return `aws-${member[1]}-${member[2] === "access" ? "us-east-1" : member[2]}`;
    const region = AWS_REGIONS.find((r) => component.endsWith(`-${r}`));
    assert.ok(region, `no region in ${component}`);
    return `aws-${HUB}-${region}`;
}

describe("the multi-account program (Pulumi.prod.yaml)", function () {
    this.timeout(120_000);
    let prod: RecordedResource[];

    before(async () => {
        prod = await run(prodWith());
    });

    it("creates one provider per (account, region) of the plan: its role, only its account, the default tags", () => {
        const providers = prod.filter((r) => r.type === "pulumi:providers:aws");
        const plan = planDeployment(prodWith());
        assert.deepEqual(providers.map((p) => p.name).sort(), plan.targets.map((t) => t.providerName).sort());
        assert.equal(providers.length, 5, "hub x 2 regions, 222 x 2, 333 x 1 (every account has us-east-1, the home region, already)");
        for (const p of providers) {
            const [, account, region] = /^aws-(\d{12})-(.+)$/.exec(p.name) as RegExpExecArray;
            const parse = (v: unknown) => (typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v);
            assert.equal(p.inputs.region, region);
            assert.deepEqual(parse(p.inputs.allowedAccountIds), [account]);
            assert.deepEqual(parse(p.inputs.assumeRoles).map((a: { roleArn: string }) => a.roleArn), [`arn:aws:iam::${account}:role/dfir-deploy`]);
            assert.deepEqual(parse(p.inputs.defaultTags).tags, { "cost-center": "security", "dfir:managed-by": "aws-dfir" });
        }
    });

    it("puts every AWS resource under an explicit provider, the one of its component's account and region", () => {
        const aws = prod.filter(isAws);
        assert.ok(aws.length > 200, `only ${aws.length} resources`);
        const wrong = aws
            .map((r) => ({ r: key(r), got: r.provider, want: expectedProvider(topComponent(prod, r)) }))
            .filter((x) => x.got !== x.want);
        assert.deepEqual(wrong, []);
        // Every (account, region) has something: none of the providers is idle.
        assert.deepEqual([...new Set(aws.map((r) => r.provider))].sort(), prod.filter((r) => r.type === "pulumi:providers:aws").map((p) => p.name).sort());
    });

    it("deploys per hub region an evidence store, its access trail, a workflow and the GuardDuty organization; per account MemberAccess; per member region its VPCs", () => {
        const components = prod.filter((r) => r.type.startsWith("dfir:") && !r.parent?.startsWith("dfir:")).map(key).sort();
        assert.deepEqual(components, [
            "dfir:access:MemberAccess::dfir-222222222222-access",
            "dfir:access:MemberAccess::dfir-333333333333-access",
            "dfir:analysis:ForensicWorkstation::dfir-workstation-us-east-1",
            "dfir:detection:GuardDutyDetection::dfir-111111111111-eu-west-1-detector",
            "dfir:detection:GuardDutyDetection::dfir-111111111111-us-east-1-detector",
            "dfir:detection:GuardDutyOrganization::dfir-guardduty-organization-eu-west-1",
            "dfir:detection:GuardDutyOrganization::dfir-guardduty-organization-us-east-1",
            "dfir:member:MemberRegion::dfir-222222222222-eu-west-1",
            "dfir:member:MemberRegion::dfir-222222222222-us-east-1",
            "dfir:member:MemberRegion::dfir-333333333333-us-east-1",
            "dfir:response:ResponseWorkflow::dfir-response-eu-west-1",
            "dfir:response:ResponseWorkflow::dfir-response-us-east-1",
            "dfir:storage:EvidenceStore::dfir-evidence-eu-west-1",
            "dfir:storage:EvidenceStore::dfir-evidence-us-east-1",
            "dfir:storage:EvidenceTrail::dfir-access-trail-eu-west-1",
            "dfir:storage:EvidenceTrail::dfir-access-trail-us-east-1",
        ]);
        // Organization members get no detector or forwarder of their own.
        assert.equal(prod.filter((r) => r.type === "dfir:detection:FindingForwarder").length, 0);
        assert.equal(prod.filter((r) => r.type === "dfir:detection:HubEventBusPolicy").length, 0);
    });

    it("prepares the listed VPCs, and every VPC discovered for \"all\", and wires each region's workflow to exactly its VPCs' groups", async () => {
        const networks = (member: string) => prod.filter((r) => r.type === "dfir:network:IsolationNetwork" && r.parent === `dfir:member:MemberRegion::${member}`)
            .map((r) => r.name.slice(member.length + 1)).sort();
        assert.deepEqual(networks("dfir-222222222222-us-east-1"), ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"]);
        const discoveredEu = networks("dfir-222222222222-eu-west-1");
        const discovered333 = networks("dfir-333333333333-us-east-1");
        assert.equal(discoveredEu.length, 2);
        assert.equal(discovered333.length, 2);
        const groupsOf = (region: string) => {
            const contain = prod.find((r) => r.type === "aws:lambda/function:Function" && r.name === `dfir-response-${region}-contain`) as RecordedResource;
            return settingsFileOf(contain);
        };
        const us = await groupsOf("us-east-1");
        assert.deepEqual(Object.keys(JSON.parse(us.ISOLATION_GROUPS)).sort(), ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210", ...discovered333].sort());
        assert.deepEqual(Object.keys(JSON.parse(us.UNTRACK_GROUPS)).sort(), Object.keys(JSON.parse(us.ISOLATION_GROUPS)).sort());
        assert.deepEqual(Object.keys(JSON.parse((await groupsOf("eu-west-1")).ISOLATION_GROUPS)).sort(), discoveredEu);
        // Every group is the isolation group of that VPC's network (not another VPC's, not the untrack group).
        for (const [vpc, sg] of Object.entries(JSON.parse(us.ISOLATION_GROUPS) as Record<string, string>)) assert.match(sg, new RegExp(`${vpc}-isolation$`));
        const env = (prod.find((r) => r.type === "aws:lambda/function:Function" && r.name === "dfir-response-us-east-1-contain") as RecordedResource).inputs.environment.variables;
        assert.equal(env.RESPONDER_ROLE_NAME, "dfir-responder");
        assert.equal(env.MEMORY_DOCUMENT, "dfir-memory-capture");
        assert.equal(env.CAPTURE_PROFILE_ARN, `arn:aws:iam::${HUB}:instance-profile/dfir-capture`);
        assert.equal(env.HOME_ACCOUNT_ID, HUB);
    });

    it("creates the memory document under its fixed name in every member region, and none in the hub (not a member here)", () => {
        const documents = prod.filter((r) => r.type === "aws:ssm/document:Document");
        assert.deepEqual(documents.map((d) => [d.provider, d.inputs.name]).sort(), [
            ["aws-222222222222-eu-west-1", "dfir-memory-capture"],
            ["aws-222222222222-us-east-1", "dfir-memory-capture"],
            ["aws-333333333333-us-east-1", "dfir-memory-capture"],
        ]);
    });

    it("trusts, in each member's responder role, the hub workflows of the regions it has members in (by role name); the hub side names exactly the responder roles", () => {
        const trust = (account: string) => {
            const role = prod.find((r) => r.type === "aws:iam/role:Role" && r.name === `dfir-${account}-access-responder`) as RecordedResource;
            // The hub's functions only: the analysts (dfir:analystRoleArns) have their own role, below.
            const [st, ...more] = docOf(role, "assumeRolePolicy").Statement;
            assert.equal(more.length, 0);
            assert.deepEqual(st.Principal, { AWS: `arn:aws:iam::${HUB}:root` });
            assert.deepEqual(st.Condition?.StringEquals, { "sts:RoleSessionName": "aws-dfir-responder", "aws:PrincipalOrgID": "o-abcdefghij" });
            // dfir:analystRoleArns: each member's analyst access role trusts exactly the hub's analyst roles, in the organization.
            const access = prod.find((r) => r.type === "aws:iam/role:Role" && r.name === `dfir-${account}-access-analyst-access`) as RecordedResource;
            assert.equal(access.inputs.name, "dfir-analyst-access");
            assert.deepEqual(docOf(access, "assumeRolePolicy").Statement, [{
                Sid: "HubAnalystsOnly", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::111111111111:role/dfir-analyst"] }, Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } },
            }]);
            return list((st.Condition?.ArnLike as Record<string, unknown>)["aws:PrincipalArn"]);
        };
        const workflow = (region: string) => `arn:aws:iam::${HUB}:role/dfir-response-${region}-*`;
        assert.deepEqual(trust("222222222222"), [workflow("eu-west-1"), workflow("us-east-1")]);
        assert.deepEqual(trust("333333333333"), [workflow("us-east-1")]);
        // The hub's functions may assume exactly the responder roles of the members of their region.
        const assumable = (region: string, fn: string) => {
            const policy = prod.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `dfir-response-${region}-${fn}`) as RecordedResource;
            const st = docOf(policy).Statement.find((s) => s.Sid === "AssumeResponderRole") as PolicyStatement | undefined;
            return list(st?.Resource);
        };
        for (const fn of FUNCTIONS_IN_MEMBERS) {
            assert.deepEqual(assumable("us-east-1", fn), ["arn:aws:iam::222222222222:role/dfir-responder", "arn:aws:iam::333333333333:role/dfir-responder"], fn);
            assert.deepEqual(assumable("eu-west-1", fn), ["arn:aws:iam::222222222222:role/dfir-responder"], fn);
        }
        assert.deepEqual(assumable("us-east-1", "triage"), []);
        assert.deepEqual(assumable("us-east-1", "seal"), []);
    });

    it("lets each member's capture role write memory to its regions' evidence stores only (bucket and key policies)", () => {
        const admitted = (region: string) => {
            const policy = prod.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.name === `dfir-evidence-${region}-policy`) as RecordedResource;
            const write = docOf(policy).Statement.find((s) => s.Sid === "MemberCaptureWritesMemory") as PolicyStatement;
            assert.deepEqual(list(write.Action), ["s3:PutObject"]);
            const key = prod.find((r) => r.type === "aws:kms/key:Key" && r.name === `dfir-evidence-${region}-key`) as RecordedResource;
            const encrypt = docOf(key).Statement.find((s) => s.Sid === "MemberCaptureEncrypts") as PolicyStatement;
            assert.deepEqual(encrypt.Condition, write.Condition);
            return list(write.Condition?.ArnEquals["aws:PrincipalArn"] as string[]).sort();
        };
        assert.deepEqual(admitted("us-east-1"), ["arn:aws:iam::222222222222:role/dfir-capture", "arn:aws:iam::333333333333:role/dfir-capture"]);
        assert.deepEqual(admitted("eu-west-1"), ["arn:aws:iam::222222222222:role/dfir-capture"]);
    });

    it("adding a member adds exactly its resources (its providers, its region, its account access) and changes no name", async () => {
        const base = prodWith();
        const withMember = await run(prodWith({
            members: [...prodMembers(), { accountId: "444444444444", deployRoleArn: "arn:aws:iam::444444444444:role/dfir-deploy", regions: { "eu-west-1": { vpcs: "all" } } }],
        }));
        const before = new Set(prod.map(key));
        const added = withMember.map(key).filter((k) => !before.has(k));
        const removed = [...before].filter((k) => !withMember.map(key).includes(k));
        assert.deepEqual(removed, []);
        assert.ok(added.length > 20, `only ${added.length} added`);
        const stray = added.filter((k) => !/::(dfir|aws)-444444444444-/.test(k));
        assert.deepEqual(stray, []);
        assert.deepEqual(added.filter((k) => k.startsWith("pulumi:providers:aws::")).sort(), [
            "pulumi:providers:aws::aws-444444444444-eu-west-1", "pulumi:providers:aws::aws-444444444444-us-east-1",
        ]);
        assert.ok(base.multiAccount.members.length === 2);
    });

    it("adding a region adds exactly that region's resources and changes no name", async () => {
        const members = prodMembers();
        members[1].regions["ap-southeast-2"] = { vpcs: "all" };
        const withRegion = await run(prodWith({ hub: { ...prodHub(), regions: ["us-east-1", "eu-west-1", "ap-southeast-2"] }, members }));
        const before = new Set(prod.map(key));
        const after = withRegion.map(key);
        assert.deepEqual([...before].filter((k) => !after.includes(k)), []);
        const added = after.filter((k) => !before.has(k));
        assert.ok(added.length > 50, `only ${added.length} added`);
        assert.deepEqual(added.filter((k) => !k.includes("ap-southeast-2")), []);
    });

    it("without a GuardDuty organization: a detector and a forwarder per member region, and each hub region's bus admits exactly its forwarders", async () => {
        const noOrg = await run(prodWith({ organization: { id: "o-abcdefghij" } }));
        const names = (type: string) => noOrg.filter((r) => r.type === type).map((r) => r.name).sort();
        assert.deepEqual(names("dfir:detection:GuardDutyOrganization"), []);
        assert.deepEqual(names("dfir:detection:FindingForwarder"), [
            "dfir-222222222222-eu-west-1-forwarder", "dfir-222222222222-us-east-1-forwarder", "dfir-333333333333-us-east-1-forwarder",
        ]);
        assert.deepEqual(names("dfir:detection:GuardDutyDetection"), [
            "dfir-222222222222-eu-west-1-detector", "dfir-222222222222-us-east-1-detector", "dfir-333333333333-us-east-1-detector",
        ]);
        const bus = (region: string) => {
            const policy = noOrg.find((r) => r.type === "aws:cloudwatch/eventBusPolicy:EventBusPolicy" && r.name === `dfir-bus-policy-${region}`) as RecordedResource;
            assert.equal(policy.provider, `aws-${HUB}-${region}`);
            return JSON.stringify(docOf(policy));
        };
        assert.match(bus("us-east-1"), /222222222222/);
        assert.match(bus("us-east-1"), /333333333333/);
        assert.doesNotMatch(bus("eu-west-1"), /333333333333/);
    });

    it("the hub's own account as a member: capture profile and deny policy, no responder role, no bus policy for itself", async () => {
        const members = [...prodMembers(), { accountId: HUB, regions: { "us-east-1": { vpcs: "all" } } }];
        const withHub = await run(prodWith({ members }));
        const access = withHub.filter((r) => r.parent === `dfir:access:MemberAccess::dfir-${HUB}-access`);
        assert.deepEqual(access.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.inputs.name), ["dfir-capture"]);
        const deny = access.find((r) => r.type === "aws:iam/policy:Policy") as RecordedResource;
        assert.match(JSON.stringify(docOf(deny)), /dfir-response-us-east-1-contain/);
        // The hub's instances are contained by its own functions: never an AssumeRole of a hub role.
        const contain = withHub.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "dfir-response-us-east-1-contain") as RecordedResource;
        const assume = docOf(contain).Statement.find((s) => s.Sid === "AssumeResponderRole") as PolicyStatement;
        assert.ok(!list(assume.Resource).some((a) => a.includes(HUB)));
        // A member in us-east-1: the hub's functions there hold the instance grants; in eu-west-1 (no member) they do not.
        const actionsOf = (records: RecordedResource[], region: string, fn: string) => {
            const policy = records.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `dfir-response-${region}-${fn}`) as RecordedResource;
            return new Set(docOf(policy).Statement.filter((st) => st.Effect === "Allow").flatMap((st) => list(st.Action)));
        };
        assert.ok(actionsOf(withHub, "us-east-1", "contain").has("ec2:ModifyNetworkInterfaceAttribute"));
        assert.ok(actionsOf(withHub, "us-east-1", "snapshot").has("ec2:CreateSnapshots"));
    });

    it("gives the hub's roles no grants only members need where the hub has no instances (Pulumi.prod.yaml: never)", () => {
        const instanceActions = [
            "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute", "ec2:DescribeInstances", "ec2:CreateSnapshots",
            "ssm:SendCommand", "ec2:GetConsoleOutput", "iam:AttachRolePolicy", "iam:PassRole",
        ];
        const hubPolicies = prod.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && /^dfir-response-[a-z0-9-]+-(case|contain|snapshot|memory|metadata)$/.test(r.name));
        assert.ok(hubPolicies.length >= 5, hubPolicies.map((r) => r.name).join(","));
        for (const policy of hubPolicies) {
            const granted = docOf(policy).Statement.filter((st) => st.Effect === "Allow").flatMap((st) => list(st.Action));
            assert.deepEqual(granted.filter((a) => instanceActions.includes(a)), [], policy.name);
            assert.ok(granted.includes("sts:AssumeRole"), `${policy.name} acts through the members' responder roles`);
        }
    });

    it("copySnapshotsToHub (on in the example): exactly a share key and its alias per member region outside the hub, and no name changes", async () => {
        const off = await run(prodWith({ copySnapshotsToHub: "false" }));
        const offKeys = new Set(off.map(key));
        const onKeys = prod.map(key);
        assert.deepEqual([...offKeys].filter((k) => !onKeys.includes(k)), [], "turning it on renames or removes nothing");
        const memberRegions = ["222222222222-eu-west-1", "222222222222-us-east-1", "333333333333-us-east-1"];
        assert.deepEqual(onKeys.filter((k) => !offKeys.has(k)).sort(), memberRegions.flatMap((mr) => [
            `aws:kms/alias:Alias::dfir-${mr}-snapshot-share`, `aws:kms/key:Key::dfir-${mr}-snapshot-share`,
        ]).sort());
        for (const mr of memberRegions) {
            const [account, region] = [mr.slice(0, 12), mr.slice(13)];
            const shareKey = prod.find((r) => r.type === "aws:kms/key:Key" && r.name === `dfir-${mr}-snapshot-share`) as RecordedResource;
            assert.equal(shareKey.provider, `aws-${mr}`, "created in the member account and region");
            assert.equal(shareKey.parent, `dfir:member:MemberRegion::dfir-${mr}`);
            const users = docOf(shareKey).Statement.find((s) => s.Sid === "HubSnapshotFunctionsCopy") as PolicyStatement;
            assert.deepEqual(users.Principal, { AWS: `arn:aws:iam::${HUB}:root` });
            assert.deepEqual(users.Condition, { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${HUB}:role/dfir-response-${region}-snapshot` } }, "exactly its region's snapshot role");
            assert.deepEqual(docOf(shareKey).Statement.find((s) => s.Sid === "AccountAdministersThroughIam")?.Principal, { AWS: `arn:aws:iam::${account}:root` });
            const alias = prod.find((r) => r.type === "aws:kms/alias:Alias" && r.name === `dfir-${mr}-snapshot-share`) as RecordedResource;
            assert.equal(alias.inputs.name, "alias/dfir-snapshot-share");
        }
        // Each hub region's snapshot function reads exactly its region's share keys; each responder uses exactly its account's.
        const shareKeyArn = (mr: string) => `arn:aws:kms:${mr.slice(13)}:${mr.slice(0, 12)}:key/dfir-${mr}-snapshot-share`;
        const readKeys = (region: string) => {
            const policy = prod.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `dfir-response-${region}-snapshot`) as RecordedResource;
            return list(docOf(policy).Statement.find((s) => s.Sid === "ReadMemberCopiesWithShareKeys")?.Resource).sort();
        };
        assert.deepEqual(readKeys("us-east-1"), [shareKeyArn("222222222222-us-east-1"), shareKeyArn("333333333333-us-east-1")]);
        assert.deepEqual(readKeys("eu-west-1"), [shareKeyArn("222222222222-eu-west-1")]);
        const responderKeys = (account: string) => {
            const policy = prod.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `dfir-${account}-access-responder`) as RecordedResource;
            const share = docOf(policy).Statement.find((s) => s.Sid === "ShareCopiesWithHubOnly") as PolicyStatement;
            assert.deepEqual(share.Condition?.["ForAllValues:StringEquals"], { "ec2:Add/userId": [HUB] });
            return list(docOf(policy).Statement.find((s) => s.Sid === "UseShareKey")?.Resource).sort();
        };
        assert.deepEqual(responderKeys("222222222222"), [shareKeyArn("222222222222-eu-west-1"), shareKeyArn("222222222222-us-east-1")]);
        assert.deepEqual(responderKeys("333333333333"), [shareKeyArn("333333333333-us-east-1")]);
        // The workflows: copy states and settings with it, none without it.
        for (const region of ["us-east-1", "eu-west-1"]) {
            const machine = (resources: RecordedResource[]) => (resources.find((r) => r.type === "aws:sfn/stateMachine:StateMachine" && r.name === `dfir-response-${region}-response`) as RecordedResource).inputs.definition as string;
            assert.match(machine(prod), /"StartHubCopy"/);
            assert.doesNotMatch(machine(off), /HubCopy/);
            const env = (resources: RecordedResource[]) => (resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === `dfir-response-${region}-snapshot`) as RecordedResource).inputs.environment.variables;
            assert.equal(env(prod).COPY_SNAPSHOTS_TO_HUB, "true");
            assert.equal(env(prod).HUB_SNAPSHOT_KEY_ARN, `arn:aws:kms:${region}:${HUB}:key/dfir-evidence-${region}-key`);
            assert.equal(env(off).COPY_SNAPSHOTS_TO_HUB, undefined);
        }
    });

    it("copySnapshotsToHub: the hub's own account listed as a member gets no share key (its instances are never copied)", async () => {
        const members = [...prodMembers(), { accountId: HUB, regions: { "us-east-1": { vpcs: "all" } } }];
        const withHub = await run(prodWith({ members }));
        const shareKeys = withHub.filter((r) => r.type === "aws:kms/key:Key" && r.name.endsWith("-snapshot-share")).map((r) => r.name).sort();
        assert.deepEqual(shareKeys, ["dfir-222222222222-eu-west-1-snapshot-share", "dfir-222222222222-us-east-1-snapshot-share", "dfir-333333333333-us-east-1-snapshot-share"]);
        const access = withHub.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.parent === `dfir:access:MemberAccess::dfir-${HUB}-access` && r.name.endsWith("-responder"));
        assert.equal(access, undefined);
    });

    it("the workstation (on in the example): in the hub account's home region, reading that region's evidence store only; off, it removes only its own resources", async () => {
        const children = prod.filter((r) => r.parent === "dfir:analysis:ForensicWorkstation::dfir-workstation-us-east-1");
        assert.ok(children.length > 15);
        assert.deepEqual([...new Set(children.map((r) => r.provider))], [`aws-${HUB}-us-east-1`], "the hub's provider in its home region");
        const policy = docOf(children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy") as RecordedResource);
        assert.deepEqual(policy.Statement.find((s) => s.Sid === "ListEvidenceBuckets")?.Resource, "arn:aws:s3:::dfir-evidence-us-east-1");
        assert.deepEqual(policy.Statement.find((s) => s.Sid === "DecryptEvidence")?.Resource, `arn:aws:kms:us-east-1:${HUB}:key/dfir-evidence-us-east-1-key`);
        const instance = children.find((r) => r.type === "aws:ec2/instance:Instance") as RecordedResource;
        assert.deepEqual([instance.inputs.ami, instance.inputs.tags["dfir:role"]], ["ami-0123456789abcdef0", "workstation"]);
        assert.equal(children.find((r) => r.type === "aws:ec2/subnet:Subnet")?.inputs.availabilityZone, "us-east-1a");

        const off = await run(prodWith({ workstation: undefined }));
        const offKeys = new Set(off.map(key));
        const onKeys = prod.map(key);
        assert.deepEqual([...offKeys].filter((k) => !onKeys.includes(k)), [], "turning it on renames or removes nothing");
        assert.deepEqual(onKeys.filter((k) => !offKeys.has(k)).filter((k) => !k.includes("::dfir-workstation-us-east-1")), []);
    });

    it("the workstation in another hub region goes there, with that region's store, and nothing else moves", async () => {
        const eu = await run(prodWith({ workstation: { amiId: "ami-0fedcba9876543210", region: "eu-west-1", availabilityZone: "eu-west-1b", cidr: "10.99.0.0/24" } }));
        const children = eu.filter((r) => r.parent === "dfir:analysis:ForensicWorkstation::dfir-workstation-eu-west-1");
        assert.deepEqual([...new Set(children.map((r) => r.provider))], [`aws-${HUB}-eu-west-1`]);
        assert.equal(eu.filter((r) => r.type === "dfir:analysis:ForensicWorkstation").length, 1);
        const policy = docOf(children.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy") as RecordedResource);
        assert.deepEqual(policy.Statement.find((s) => s.Sid === "ListEvidenceBuckets")?.Resource, "arn:aws:s3:::dfir-evidence-eu-west-1");
        const subnet = children.find((r) => r.type === "aws:ec2/subnet:Subnet") as RecordedResource;
        assert.deepEqual([subnet.inputs.availabilityZone, subnet.inputs.cidrBlock], ["eu-west-1b", "10.99.0.0/24"]);
        const s3 = children.find((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Gateway") as RecordedResource;
        assert.equal(s3.inputs.serviceName, "com.amazonaws.eu-west-1.s3");
        const before = new Set(prod.map(key).filter((k) => !k.includes("dfir-workstation")));
        assert.deepEqual([...before].filter((k) => !eu.map(key).includes(k)), []);
    });

    it("stops before registering any resource but providers when a listed VPC is not in that account and region", async () => {
        const members = prodMembers();
        members[0].regions["eu-west-1"] = { vpcs: ["vpc-0123456789abcdef0"] };
        const start = recorded.length;
        await assert.rejects(deployMultiAccount(prodWith({ members })), (e: Error) =>
            /^config dfir:members\[0\]\.regions\.eu-west-1\.vpcs: vpc-0123456789abcdef0 is not a VPC of account 222222222222 in eu-west-1 \(/.test(e.message) && !e.message.includes("\n"));
        await settle();
        assert.deepEqual(recorded.slice(start).filter((r) => r.type !== "pulumi:providers:aws").map(key), []);
    });
});
