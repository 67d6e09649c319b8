/**
 * The forensic workstation: the component under the strict mocks (each test its own name), its config, the
 * single-account program with it turned on (Pulumi.dev.yaml plus `dfir:workstation`), and the policy pack's
 * isolation rules on its group. The multi-account placement is in multi-account-program.test.ts.
 */
import { strict as assert } from "node:assert";
import { ACCOUNT, one, recorded, REGION, resourcesOf, S3_PREFIX_LIST, settle, valueOf, type RecordedResource } from "./support/pulumi-mocks";
import { devProgram } from "./support/dev-program";
import { stackConfig } from "./support/stack-config";
import { ForensicWorkstation } from "../components/forensicWorkstation";
import { deployDfir } from "../components/dfirStack";
import { dfirKeys, parseDfirConfig, workstationCidrProblem, type SingleAccountConfig } from "../core/config";
import type { PolicyDocument } from "../core/iam";
import { isolationRuleProblems } from "../core/isolation";
import { planDeployment } from "../core/plan";
import { ssmAgentBuckets, WORKSTATION_EVIDENCE_ACTIONS, workstationEndpointPolicy, workstationPolicy } from "../core/workstation";
import type { RuleResource } from "../policy/lib/model";
import * as egress from "../policy/rules/isolation-group-egress-endpoints-only";
import * as ingress from "../policy/rules/isolation-group-no-ingress";

const T = {
    vpc: "aws:ec2/vpc:Vpc",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    association: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    defaultSg: "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    profile: "aws:iam/instanceProfile:InstanceProfile",
    instance: "aws:ec2/instance:Instance",
};
const AMI = "ami-0123456789abcdef0";
const BUCKET = "arn:aws:s3:::dfir-evidence-test";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/evidence`;
const docOf = (r: RecordedResource, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);
const actions = (d: PolicyDocument) => d.Statement.flatMap((s) => ([] as string[]).concat(s.Action)).sort();

/** A workstation under the mocks, and what it registered. */
async function workstation(name: string, extra: Partial<ConstructorParameters<typeof ForensicWorkstation>[1]> = {}) {
    const ws = new ForensicWorkstation(name, { amiId: AMI, evidenceBucketArns: [BUCKET], evidenceKeyArns: [KEY], ...extra });
    await valueOf(ws.instanceId);
    await settle();
    return { ws, resources: resourcesOf(name).filter((r) => r.type !== "dfir:analysis:ForensicWorkstation") };
}

describe("ForensicWorkstation", () => {
    it("builds a VPC of its own with one private subnet in the region's first AZ and no way out: no gateway, no NAT, no route", async () => {
        const { ws, resources } = await workstation("t-ws");
        const types = new Set(resources.map((r) => r.type));
        for (const forbidden of ["aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway", "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
            "aws:ec2/route:Route", "aws:ec2/eip:Eip", "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "aws:ec2transitgateway/vpcAttachment:VpcAttachment"]) {
            assert.ok(!types.has(forbidden), forbidden);
        }
        const vpc = one(T.vpc, "t-ws-vpc").inputs;
        assert.deepEqual([vpc.cidrBlock, vpc.enableDnsSupport, vpc.enableDnsHostnames], ["10.254.0.0/24", true, true]);
        const subnet = one(T.subnet, "t-ws-subnet").inputs;
        assert.deepEqual([subnet.cidrBlock, subnet.availabilityZone, subnet.mapPublicIpOnLaunch], ["10.254.0.0/24", `${REGION}a`, false]);
        assert.equal(await valueOf(ws.availabilityZone), `${REGION}a`);
        // The one route table: no route of its own (local is implicit, the S3 endpoint adds its own), and authoritative.
        const routes = one(T.routeTable, "t-ws-routes").inputs;
        assert.deepEqual(routes.routes, []);
        assert.equal(resources.filter((r) => r.type === T.routeTable).length, 1);
        assert.deepEqual(one(T.association, "t-ws-routes-subnet").inputs, { subnetId: "t-ws-subnet-id", routeTableId: "t-ws-routes-id" });
        const defaultGroup = one(T.defaultSg, "t-ws-default-sg").inputs;
        assert.deepEqual([defaultGroup.ingress, defaultGroup.egress], [[], []], "the VPC's default group loses its rules");
        assert.equal(await valueOf(ws.vpcId), "t-ws-vpc-id");
    });

    it("reaches AWS only through the S3 gateway endpoint (evidence buckets only) and the SSM interface endpoints (private DNS, HTTPS from the VPC)", async () => {
        await workstation("t-ws-ep");
        const s3 = one(T.endpoint, "t-ws-ep-s3").inputs;
        assert.deepEqual([s3.vpcEndpointType, s3.serviceName, s3.routeTableIds], ["Gateway", `com.amazonaws.${REGION}.s3`, ["t-ws-ep-routes-id"]]);
        assert.deepEqual(JSON.parse(s3.policy), workstationEndpointPolicy("aws", REGION, [BUCKET]));
        for (const service of ["ssm", "ssmmessages", "ec2messages"]) {
            const ep = one(T.endpoint, `t-ws-ep-${service}`).inputs;
            assert.deepEqual([ep.serviceName, ep.vpcEndpointType, ep.privateDnsEnabled, ep.subnetIds, ep.securityGroupIds],
                [`com.amazonaws.${REGION}.${service}`, "Interface", true, ["t-ws-ep-subnet-id"], ["sg-t-ws-ep-endpoints"]]);
        }
        const group = one(T.sg, "t-ws-ep-endpoints").inputs;
        assert.deepEqual(group.ingress.map((i: any) => [i.protocol, i.fromPort, i.toPort, i.cidrBlocks]), [["tcp", 443, 443, ["10.254.0.0/24"]]]);
        assert.deepEqual(group.egress, []);
        assert.equal(group.tags["dfir:role"], "endpoints");
    });

    it("its security group admits nothing and lets out only HTTPS to the endpoints' group and the S3 prefix list (the isolation rule set)", async () => {
        const { ws, resources } = await workstation("t-ws-sg");
        const sgId = await valueOf(ws.securityGroupId);
        const group = one(T.sg, "t-ws-sg-sg").inputs;
        assert.equal(group.tags["dfir:role"], "workstation");
        assert.equal(group.ingress, undefined);
        assert.equal(group.egress, undefined);
        assert.equal(group.revokeRulesOnDelete, true);
        const rules = recorded.filter((r) => [T.ingress, T.egress].includes(r.type) && r.inputs.securityGroupId === sgId);
        assert.deepEqual(rules.map((r) => r.type), [T.egress, T.egress], "two egress rules, no ingress rule");
        for (const rule of rules) {
            assert.deepEqual(isolationRuleProblems({ direction: "egress", ...rule.inputs } as never), [], rule.name);
            assert.equal(rule.inputs.tags["dfir:role"], "workstation");
        }
        assert.deepEqual(rules.map((r) => r.inputs.prefixListId ?? r.inputs.referencedSecurityGroupId).sort(), [S3_PREFIX_LIST, "sg-t-ws-sg-endpoints"].sort());
        // The instance is in that group only.
        assert.deepEqual(resources.find((r) => r.type === T.instance)?.inputs.vpcSecurityGroupIds, [sgId]);
    });

    it("its role: SSM (AmazonSSMManagedInstanceCore) and read-only evidence, exactly s3:GetObject, GetObjectVersion, ListBucket and kms:Decrypt", async () => {
        const { resources } = await workstation("t-ws-iam", { evidenceBucketArns: [BUCKET, "arn:aws:s3:::other-evidence"], evidenceKeyArns: [KEY] });
        const role = one(T.role, "t-ws-iam-role");
        assert.deepEqual(docOf(role, "assumeRolePolicy").Statement.map((s) => s.Principal), [{ Service: "ec2.amazonaws.com" }]);
        assert.deepEqual(resources.filter((r) => r.type === T.attachment).map((r) => r.inputs.policyArn), ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        const inline = resources.filter((r) => r.type === T.rolePolicy);
        assert.equal(inline.length, 1);
        const policy = docOf(inline[0]);
        assert.deepEqual(actions(policy), [...WORKSTATION_EVIDENCE_ACTIONS].sort());
        assert.ok(policy.Statement.every((s) => s.Effect === "Allow"));
        assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Action, s.Resource]), [
            ["ReadEvidenceObjects", ["s3:GetObject", "s3:GetObjectVersion"], [`${BUCKET}/*`, "arn:aws:s3:::other-evidence/*"]],
            ["ListEvidenceBuckets", "s3:ListBucket", [BUCKET, "arn:aws:s3:::other-evidence"]],
            ["DecryptEvidence", "kms:Decrypt", KEY],
        ]);
        assert.equal(one(T.profile, "t-ws-iam-profile").inputs.role, "t-ws-iam-role");
    });

    it("its instance: the configured AMI, m5.xlarge by default, IMDSv2 only, encrypted root volume, no public address, tagged dfir:role=workstation", async () => {
        await workstation("t-ws-vm");
        const vm = one(T.instance, "t-ws-vm-instance").inputs;
        assert.deepEqual([vm.ami, vm.instanceType, vm.subnetId, vm.associatePublicIpAddress, vm.iamInstanceProfile], [AMI, "m5.xlarge", "t-ws-vm-subnet-id", false, "t-ws-vm-profile"]);
        assert.deepEqual(vm.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
        assert.deepEqual(vm.rootBlockDevice, { encrypted: true, volumeType: "gp3", deleteOnTermination: true });
        assert.deepEqual([vm.tags["dfir:role"], vm.tags.Name], ["workstation", "t-ws-vm"]);
        assert.equal(vm.userData, undefined);
        assert.equal(vm.keyName, undefined, "no SSH key: Session Manager only");
    });

    it("takes its AZ, range, instance type and root volume size from its args", async () => {
        const { ws } = await workstation("t-ws-args", { availabilityZone: `${REGION}c`, cidr: "192.168.40.0/26", instanceType: "c6i.2xlarge", rootVolumeGiB: 500 });
        assert.equal(await valueOf(ws.availabilityZone), `${REGION}c`);
        assert.deepEqual([one(T.subnet, "t-ws-args-subnet").inputs.availabilityZone, one(T.subnet, "t-ws-args-subnet").inputs.cidrBlock], [`${REGION}c`, "192.168.40.0/26"]);
        assert.equal(one(T.vpc, "t-ws-args-vpc").inputs.cidrBlock, "192.168.40.0/26");
        assert.deepEqual(one(T.sg, "t-ws-args-endpoints").inputs.ingress[0].cidrBlocks, ["192.168.40.0/26"]);
        const vm = one(T.instance, "t-ws-args-instance").inputs;
        assert.deepEqual([vm.instanceType, vm.rootBlockDevice.volumeSize], ["c6i.2xlarge", 500]);
    });

    it("parents every child to the component", async () => {
        const { resources } = await workstation("t-ws-parent");
        assert.equal(resources.length, 18);
        for (const r of resources) assert.equal(r.parent, "dfir:analysis:ForensicWorkstation::t-ws-parent", r.name);
    });

    it("refuses a malformed AMI id and missing evidence, naming the field", () => {
        assert.throws(() => new ForensicWorkstation("t-ws-bad1", { amiId: "ami-xyz", evidenceBucketArns: [BUCKET], evidenceKeyArns: [KEY] }), /t-ws-bad1: amiId must look like ami-/);
        assert.throws(() => new ForensicWorkstation("t-ws-bad2", { amiId: AMI, evidenceBucketArns: [], evidenceKeyArns: [KEY] }), /t-ws-bad2: evidenceBucketArns and evidenceKeyArns/);
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("t-ws-bad") && !r.type.startsWith("dfir:")), []);
    });
});

describe("the workstation's policies (pure)", () => {
    it("read-only on the evidence: no write, delete, tagging or lock action, and no wildcard", () => {
        const doc = workstationPolicy([BUCKET], [KEY]);
        const all = actions(doc);
        assert.deepEqual(all, ["kms:Decrypt", "s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]);
        assert.ok(!all.some((a) => a.includes("*")));
        assert.throws(() => workstationPolicy([], [KEY]), /at least one evidence bucket/);
    });

    it("the S3 endpoint lets through reads of the evidence buckets and of the SSM agent's regional buckets only", () => {
        const doc = workstationEndpointPolicy("aws", "eu-west-1", [BUCKET]);
        assert.deepEqual(doc.Statement[0].Resource, [BUCKET, `${BUCKET}/*`]);
        assert.deepEqual(doc.Statement[0].Action, ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]);
        assert.deepEqual(doc.Statement[1].Action, "s3:GetObject");
        assert.deepEqual(ssmAgentBuckets("eu-west-1"), [
            "aws-ssm-eu-west-1", "amazon-ssm-eu-west-1", "amazon-ssm-packages-eu-west-1", "eu-west-1-birdwatcher-prod",
            "aws-ssm-distributor-file-eu-west-1", "aws-ssm-document-attachments-eu-west-1", "patch-baseline-snapshot-eu-west-1",
        ]);
        assert.ok(ssmAgentBuckets("eu-west-1").every((b) => b.includes("eu-west-1")));
        assert.deepEqual(doc.Statement[1].Resource, ssmAgentBuckets("eu-west-1").map((b) => `arn:aws:s3:::${b}/*`));
        const all = doc.Statement.flatMap((st) => ([] as string[]).concat(st.Action));
        assert.ok(all.every((a) => /^s3:(Get|List)/.test(a) && !a.includes("*")), "reads only, no wildcard action");
    });
});

describe("dfir:workstation config", () => {
    const VPC_ID = "vpc-0123456789abcdef0";
    const single = (workstation: unknown) => parseDfirConfig({ vpcId: VPC_ID, workstation: typeof workstation === "string" ? workstation : JSON.stringify(workstation) });
    const hub = JSON.stringify({ accountId: "111111111111", regions: ["us-east-1", "eu-west-1"] });
    const members = JSON.stringify([{ accountId: "222222222222", deployRoleArn: "arn:aws:iam::222222222222:role/dfir-deploy", regions: { "us-east-1": { vpcs: "all" }, "eu-west-1": { vpcs: "all" } } }]);
    const multi = (workstation: unknown) => parseDfirConfig({ hub, members, workstation: JSON.stringify(workstation) });

    it("is absent unless set; defaults the instance type and range; keeps the AZ and root size given", () => {
        assert.equal("workstation" in parseDfirConfig({ vpcId: VPC_ID }), false);
        assert.deepEqual(single({ amiId: AMI }).workstation, { amiId: AMI, instanceType: "m5.xlarge", cidr: "10.254.0.0/24" });
        assert.deepEqual(single({ amiId: "ami-12345678", instanceType: "r6i.4xlarge", availabilityZone: "us-east-1d", cidr: "172.20.8.0/22", rootVolumeGiB: "200" }).workstation,
            { amiId: "ami-12345678", instanceType: "r6i.4xlarge", availabilityZone: "us-east-1d", cidr: "172.20.8.0/22", rootVolumeGiB: 200 });
    });

    it("a multi-account stack puts it in the hub's home region by default, or in the hub region named", () => {
        assert.equal(multi({ amiId: AMI }).workstation?.region, "us-east-1");
        assert.equal(multi({ amiId: AMI, region: "eu-west-1", availabilityZone: "eu-west-1b" }).workstation?.region, "eu-west-1");
        const plan = planDeployment(multi({ amiId: AMI, region: "eu-west-1" }));
        assert.deepEqual(plan.workstation, { region: "eu-west-1", providerName: "aws-111111111111-eu-west-1" });
        assert.deepEqual(planDeployment(single({ amiId: AMI }), { region: "us-east-2" }).workstation, { region: "us-east-2" });
        assert.equal(planDeployment(parseDfirConfig({ vpcId: VPC_ID }), { region: "us-east-2" }).workstation, undefined);
    });

    const bad: [string, () => unknown, string][] = [
        ["no AMI", () => single({}), "config dfir:workstation.amiId is required"],
        ["a malformed AMI", () => single({ amiId: "ami-123" }), 'config dfir:workstation.amiId must look like ami- and 8 or 17 hex digits, ami-0123456789abcdef0, got "ami-123"'],
        ["an AMI of 10 hex digits", () => single({ amiId: "ami-0123456789" }), 'config dfir:workstation.amiId must look like ami- and 8 or 17 hex digits, ami-0123456789abcdef0, got "ami-0123456789"'],
        ["an unknown field", () => single({ amiId: AMI, ami: AMI }), "config dfir:workstation.ami is not a known field (known: amiId, instanceType, availabilityZone, cidr, rootVolumeGiB, region)"],
        ["not an object", () => single("ami-0123456789abcdef0"), 'config dfir:workstation must be an object {amiId, instanceType?, availabilityZone?, cidr?, rootVolumeGiB?, region?}, got "ami-0123456789abcdef0"'],
        ["a bad instance type", () => single({ amiId: AMI, instanceType: "huge" }), 'config dfir:workstation.instanceType must look like an EC2 instance type, m5.xlarge, got "huge"'],
        ["a bad AZ", () => single({ amiId: AMI, availabilityZone: "us-east-1" }), 'config dfir:workstation.availabilityZone must look like an Availability Zone name, us-east-1a, got "us-east-1"'],
        ["a public range", () => single({ amiId: AMI, cidr: "8.8.8.0/24" }), 'config dfir:workstation.cidr must be a private range (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), got "8.8.8.0/24"'],
        ["a range too small for a VPC", () => single({ amiId: AMI, cidr: "10.0.0.0/29" }), 'config dfir:workstation.cidr must have a prefix length from /16 to /28 (a VPC\'s range), got "10.0.0.0/29"'],
        ["host bits", () => single({ amiId: AMI, cidr: "10.254.0.7/24" }), 'config dfir:workstation.cidr has host bits set (the network is 10.254.0.0/24), got "10.254.0.7/24"'],
        ["a tiny root volume", () => single({ amiId: AMI, rootVolumeGiB: 2 }), "config dfir:workstation.rootVolumeGiB must be a whole number from 8 to 16384, got 2"],
        ["a region in a single-account stack", () => single({ amiId: AMI, region: "us-east-1" }), "config dfir:workstation.region applies only to a multi-account stack (a single-account stack's workstation is in the stack's region, aws:region)"],
        ["a region typo", () => multi({ amiId: AMI, region: "eu-wset-1" }), 'config dfir:workstation.region "eu-wset-1" is not a known AWS region (did you mean eu-west-1?)'],
        ["a region that is not a hub region", () => multi({ amiId: AMI, region: "ap-southeast-2" }), "config dfir:workstation.region must be one of dfir:hub.regions (us-east-1, eu-west-1), got ap-southeast-2: the workstation reads the evidence store of its own region"],
        ["an AZ of another region", () => multi({ amiId: AMI, availabilityZone: "eu-west-1a" }), "config dfir:workstation.availabilityZone eu-west-1a is not in the workstation's region us-east-1"],
    ];
    for (const [what, parse, message] of bad) {
        it(`fails on ${what} with one line naming the field`, () => {
            assert.throws(parse, (e: Error) => {
                assert.equal(e.message, message);
                return !e.message.includes("\n");
            });
        });
    }

    it("a CIDR is judged on its own (pure)", () => {
        assert.equal(workstationCidrProblem("10.254.0.0/24"), undefined);
        assert.equal(workstationCidrProblem("172.31.255.240/28"), undefined);
        assert.match(workstationCidrProblem("172.32.0.0/16") ?? "", /private range/);
        assert.match(workstationCidrProblem("10.0.0.300/24") ?? "", /IPv4 CIDR/);
    });
});

describe("the single-account program with dfir:workstation", function () {
    this.timeout(120_000);
    let withWorkstation: RecordedResource[];
    let outputs: Record<string, unknown>;
    let dev: RecordedResource[];

    before(async () => {
        ({ resources: dev } = await devProgram());
        const config = parseDfirConfig({ ...dfirKeys(stackConfig("dev")), workstation: JSON.stringify({ amiId: AMI }) }) as SingleAccountConfig;
        const start = recorded.length;
        outputs = deployDfir(config) as Record<string, unknown>;
        await settle();
        withWorkstation = recorded.slice(start);
    });

    it("stops before any resource when the workstation's zone is not in aws:region", async () => {
        const config = parseDfirConfig({ ...dfirKeys(stackConfig("dev")), workstation: JSON.stringify({ amiId: AMI, availabilityZone: "eu-west-1a" }) }) as SingleAccountConfig;
        const start = recorded.length;
        assert.throws(() => deployDfir(config), /^Error: config dfir:workstation\.availabilityZone eu-west-1a is not in the workstation's region us-east-1$/);
        await settle();
        assert.equal(recorded.length, start, "nothing registered");
    });

    it("adds the workstation beside the evidence store and renames nothing else", () => {
        const key = (r: RecordedResource) => `${r.type}::${r.name}`;
        const before = new Set(dev.map(key));
        const after = withWorkstation.map(key);
        assert.deepEqual([...before].filter((k) => !after.includes(k)), [], "nothing removed or renamed");
        const added = after.filter((k) => !before.has(k));
        assert.ok(added.length > 15);
        assert.deepEqual(added.filter((k) => !k.includes("::dfir-workstation")), []);
        assert.ok(added.includes("dfir:analysis:ForensicWorkstation::dfir-workstation"));
    });

    it("reads exactly the stack's evidence bucket with its key, and exports where it is", async () => {
        const policy = withWorkstation.find((r) => r.type === T.rolePolicy && r.name === "dfir-workstation-evidence") as RecordedResource;
        const doc = docOf(policy);
        assert.deepEqual(doc.Statement.find((s) => s.Sid === "ListEvidenceBuckets")?.Resource, "arn:aws:s3:::dfir-evidence");
        assert.deepEqual(doc.Statement.find((s) => s.Sid === "DecryptEvidence")?.Resource, `arn:aws:kms:${REGION}:${ACCOUNT}:key/dfir-evidence-key`);
        const ws = outputs.workstation as Record<string, unknown>;
        assert.equal(await valueOf(ws.instanceId as never), "dfir-workstation-instance-id");
        assert.equal(await valueOf(ws.availabilityZone as never), `${REGION}a`);
    });

    it("passes the policy pack's isolation rules; an ingress rule or a CIDR egress on its group is caught, named as the workstation group", () => {
        const rule = (r: RecordedResource): RuleResource => ({
            type: r.type, name: r.name, urn: `urn:pulumi:test::aws-dfir::${r.type}::${r.name}`,
            props: { ...JSON.parse(JSON.stringify(r.inputs)), id: r.type === T.sg ? `sg-${r.name}` : `${r.name}-id` },
        });
        const stack = withWorkstation.filter((r) => r.type.startsWith("aws:")).map(rule);
        const violations = (findings: { name: string; verdict: { status: string; message?: string } }[]) =>
            findings.filter((f) => f.verdict.status === "violation").map((f) => `${f.name}: ${f.verdict.message}`);
        assert.deepEqual(violations(ingress.checkIsolationGroupNoIngress(stack)), []);
        assert.deepEqual(violations(egress.checkIsolationGroupEgress(stack)), []);
        const judged = ingress.checkIsolationGroupNoIngress(stack).map((f) => f.name);
        assert.ok(judged.includes("dfir-workstation-sg"), "the workstation group is judged");

        const open: RuleResource = { type: T.ingress, name: "dfir-workstation-sg-ssh", urn: "urn:pulumi:test::aws-dfir::ssh", props: { securityGroupId: "sg-dfir-workstation-sg", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" } };
        assert.deepEqual(violations(ingress.checkIsolationGroupNoIngress([...stack, open])), [
            "dfir-workstation-sg-ssh: workstation group dfir-workstation-sg admits ingress through SecurityGroupIngressRule dfir-workstation-sg-ssh (tcp 22 from 0.0.0.0/0) — remove it: a workstation group must admit nothing",
        ]);
        const anywhere: RuleResource = { type: T.egress, name: "dfir-workstation-sg-anywhere", urn: "urn:pulumi:test::aws-dfir::anywhere", props: { securityGroupId: "sg-dfir-workstation-sg", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" } };
        assert.deepEqual(violations(egress.checkIsolationGroupEgress([...stack, anywhere])).map((v) => v.split(" — ")[0]), [
            "dfir-workstation-sg-anywhere: workstation group dfir-workstation-sg: egress rule dfir-workstation-sg-anywhere (tcp 443 to 0.0.0.0/0) allows egress to 0.0.0.0/0; allow only the S3 prefix list and the endpoints' group",
        ]);
    });
});
