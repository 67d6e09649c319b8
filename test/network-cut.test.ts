import { strict as assert } from "node:assert";
import { cidrContains, hostCidr, parseCidr, sameCidr } from "../core/cidr";
import { containStatements, MAX_SCOPED_VPCS } from "../core/containmentPolicies";
import { NO_RESOURCE_LEVEL_ACTIONS } from "../core/resourceLevel";
import { aclView } from "../functions/contain/network";
import {
    assessInterfaces,
    planAcl,
    planNetworkCut,
    type AclEntry,
    type AclOutcome,
    type AclPlan,
    type AclView,
    type NetworkCutInput,
} from "../core/networkCut";

const VPC = "vpc-0aaa";
const OWN = "subnet-0own";
const PUBLIC = "subnet-0pub";
const ENDPOINTS = "subnet-0end";
const SUSPECT = { networkInterfaceId: "eni-0sus", vpcId: VPC, subnetId: OWN, ipv4: ["10.0.0.10"], ipv6: [] as string[] };

/** The rules AWS puts in a new default ACL: allow everything (100, 101), then the `*` rules. */
function defaultEntries(): AclEntry[] {
    return [false, true].flatMap((egress) => [
        { ruleNumber: 100, egress, ruleAction: "allow" as const, protocol: "-1", cidrBlock: "0.0.0.0/0" },
        { ruleNumber: 101, egress, ruleAction: "allow" as const, protocol: "-1", ipv6CidrBlock: "::/0" },
        { ruleNumber: 32767, egress, ruleAction: "deny" as const, protocol: "-1", cidrBlock: "0.0.0.0/0" },
        { ruleNumber: 32768, egress, ruleAction: "deny" as const, protocol: "-1", ipv6CidrBlock: "::/0" },
    ]);
}

function acl(id: string, subnetIds: string[], entries: AclEntry[] = defaultEntries()): AclView {
    return { networkAclId: id, vpcId: VPC, subnetIds, entries };
}

const SSM = ["ssm", "ssmmessages", "ec2messages"].map((service, i) => ({
    vpcEndpointId: `vpce-0${i}`,
    vpcId: VPC,
    serviceName: `com.amazonaws.us-east-1.${service}`,
    type: "Interface",
    subnetIds: [ENDPOINTS],
    networkInterfaceIds: [`eni-0ep${i}`],
}));

function input(over: Partial<NetworkCutInput> = {}): NetworkCutInput {
    return {
        interfaces: [SUSPECT],
        acls: [acl("acl-0default", [OWN, PUBLIC]), acl("acl-0endpoints", [ENDPOINTS])],
        routeTables: [{ routeTableId: "rtb-0main", vpcId: VPC, main: true, subnetIds: [], routes: [{ destination: "10.0.0.0/16", target: "local" }, { destination: "0.0.0.0/0", target: "nat-0aaa" }] }],
        endpoints: SSM,
        subnetInterfaces: { [OWN]: ["eni-0sus"], [ENDPOINTS]: ["eni-0ep0", "eni-0ep1", "eni-0ep2"] },
        ...over,
    };
}

const brief = (plan: AclPlan) => plan.entries.map((e) => `${e.egress ? "out" : "in"} ${e.ruleNumber} ${e.ruleAction} ${e.protocol} ${e.cidrBlock ?? e.ipv6CidrBlock}${e.portRange ? ` ${e.portRange.from}-${e.portRange.to}` : ""}`);
const done = (plans: AclPlan[]): AclOutcome[] => plans.map((p) => ({ networkAclId: p.networkAclId, denied: true, forensicKept: true }));

describe("CIDR blocks (core/cidr.ts)", () => {
    it("contains IPv4 and IPv6 addresses by prefix, never across families", () => {
        assert.ok(cidrContains("10.0.0.0/8", "10.20.30.40"));
        assert.ok(!cidrContains("10.0.0.0/8", "11.0.0.1"));
        assert.ok(cidrContains("0.0.0.0/0", "198.51.100.23"));
        assert.ok(cidrContains("10.0.0.10/32", "10.0.0.10"));
        assert.ok(!cidrContains("10.0.0.10/32", "10.0.0.11"));
        assert.ok(cidrContains("2600:1f18:dead:beef::/64", "2600:1f18:dead:beef::3"));
        assert.ok(cidrContains("::/0", "2600:1f18::1"));
        assert.ok(!cidrContains("::/0", "10.0.0.1"));
        assert.ok(!cidrContains("0.0.0.0/0", "2600:1f18::1"));
    });

    it("compares blocks however written, and makes the one-address block", () => {
        assert.ok(sameCidr("2600:1F18:0:0::3/128", "2600:1f18::3/128"));
        assert.ok(!sameCidr("10.0.0.0/8", "10.0.0.0/16"));
        assert.equal(hostCidr("10.0.0.10"), "10.0.0.10/32");
        assert.equal(hostCidr("2600:1F18::3"), "2600:1f18::3/128");
        assert.equal(parseCidr("10.0.0.0/33"), undefined);
        assert.equal(parseCidr("300.0.0.0/8"), undefined);
        assert.throws(() => hostCidr("0.0.0"), /not an IPv4 or IPv6 address/);
    });
});

describe("network ACL rules that cut a contained instance's flows (core/networkCut.ts)", () => {
    it("denies the instance's address where its packets enter or leave OTHER subnets, below the first allow rule; keeps the SSM channel in the endpoints' ACL", () => {
        const [shared, endpoints] = planNetworkCut(input());
        assert.deepEqual(shared?.otherSubnetIds, [PUBLIC]);
        // The shared default ACL also serves the instance's own subnet, where these rules can never match: harmless.
        assert.deepEqual(brief(shared as AclPlan), ["in 99 deny -1 10.0.0.10/32", "out 99 deny -1 10.0.0.10/32"]);
        assert.deepEqual(brief(endpoints as AclPlan), [
            "in 99 deny -1 10.0.0.10/32",
            "out 99 deny -1 10.0.0.10/32",
            "in 98 allow 6 10.0.0.10/32 443-443",
            "out 98 allow 6 10.0.0.10/32 1024-65535",
        ]);
        assert.ok([shared, endpoints].every((p) => p?.problem === undefined));
    });

    it("puts nothing in an ACL that serves only the instance's own subnets (it could not single the instance out there)", () => {
        const plans = planNetworkCut(input({ acls: [acl("acl-0own", [OWN]), acl("acl-0endpoints", [ENDPOINTS])] }));
        assert.deepEqual(plans[0]?.entries, []);
        assert.deepEqual(plans[0]?.otherSubnetIds, []);
    });

    it("numbers below the first rule that would let the address through, skipping numbers in use; a deny or an unrelated allow above it does not matter", () => {
        const entries: AclEntry[] = [
            { ruleNumber: 10, egress: false, ruleAction: "deny", protocol: "-1", cidrBlock: "192.0.2.0/24" },
            { ruleNumber: 40, egress: false, ruleAction: "allow", protocol: "6", cidrBlock: "172.16.0.0/12", portRange: { from: 22, to: 22 } },
            { ruleNumber: 49, egress: false, ruleAction: "deny", protocol: "-1", cidrBlock: "192.0.3.0/24" },
            { ruleNumber: 50, egress: false, ruleAction: "allow", protocol: "-1", cidrBlock: "10.0.0.0/8" },
            ...defaultEntries(),
        ];
        const plan = planAcl(acl("acl-0x", [OWN, PUBLIC], entries), { interfaces: [SUSPECT], endpointSubnetIds: [] });
        assert.deepEqual(brief(plan), ["in 48 deny -1 10.0.0.10/32", "out 99 deny -1 10.0.0.10/32"]);
    });

    it("leaves an ACL alone when no number is free below its first allow rule (rule 1 allows all): the path is recorded open", () => {
        const entries: AclEntry[] = [{ ruleNumber: 1, egress: false, ruleAction: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0" }, ...defaultEntries()];
        const plan = planAcl(acl("acl-0x", [OWN, PUBLIC], entries), { interfaces: [SUSPECT], endpointSubnetIds: [] });
        assert.deepEqual(plan.entries, []);
        assert.match(plan.problem ?? "", /no free rule number below 1 \(inbound\)/);
        const [assessment] = assessInterfaces(input({ acls: [acl("acl-0x", [OWN, PUBLIC], entries)], endpoints: [] }), [plan], []);
        assert.equal(assessment?.possiblyOpen, true);
        assert.match(assessment?.paths.find((p) => p.path === "other-subnets")?.reason ?? "", /acl-0x \(subnet-0pub\): no free rule number/);
    });

    it("respects the rule quota per direction and address family, the default rule included", () => {
        const filler = (n: number): AclEntry[] => Array.from({ length: n }, (_, i) => ({ ruleNumber: 10 + i, egress: false, ruleAction: "deny" as const, protocol: "-1", cidrBlock: `192.0.2.${i}/32` }));
        // 16 fillers + rules 100 and 32767 = 18 inbound IPv4 rules: the deny makes 19.
        assert.equal(planAcl(acl("acl-0x", [OWN, PUBLIC], [...filler(16), ...defaultEntries()]), { interfaces: [SUSPECT], endpointSubnetIds: [] }).problem, undefined);
        assert.equal(planAcl(acl("acl-0x", [OWN, PUBLIC], [...filler(17), ...defaultEntries()]), { interfaces: [SUSPECT], endpointSubnetIds: [] }).problem, undefined, "19 + 1 = 20: still within");
        const full = planAcl(acl("acl-0x", [OWN, PUBLIC], [...filler(18), ...defaultEntries()]), { interfaces: [SUSPECT], endpointSubnetIds: [] });
        assert.match(full.problem ?? "", /no room: inbound IPv4 rules would be 21, over the quota of 20/);
        assert.deepEqual(full.entries, []);
        // A raised quota (up to 40) is honoured when the caller knows it.
        assert.equal(planAcl(acl("acl-0x", [OWN, PUBLIC], [...filler(18), ...defaultEntries()]), { interfaces: [SUSPECT], endpointSubnetIds: [], ruleQuota: 40 }).problem, undefined);
    });

    it("denies every private IPv4 and IPv6 address of every interface (/32, /128), IPv6 counted against its own quota", () => {
        const two = [
            { ...SUSPECT, ipv4: ["10.0.0.10", "10.0.0.11"], ipv6: ["2600:1f18:dead:beef::1"] },
            { networkInterfaceId: "eni-0two", vpcId: VPC, subnetId: OWN, ipv4: ["10.0.1.12"], ipv6: [] },
        ];
        const plan = planAcl(acl("acl-0x", [OWN, PUBLIC]), { interfaces: two, endpointSubnetIds: [] });
        assert.deepEqual(brief(plan).filter((b) => b.startsWith("in")), ["in 99 deny -1 10.0.0.10/32", "in 98 deny -1 10.0.0.11/32", "in 97 deny -1 2600:1f18:dead:beef::1/128", "in 96 deny -1 10.0.1.12/32"]);
        assert.deepEqual([...new Set(plan.entries.map((e) => e.networkInterfaceId))], ["eni-0sus", "eni-0two"]);
    });

    it("adopts the rules an earlier attempt of the same case put, and adds only what is missing", () => {
        const first = planAcl(acl("acl-0end", [ENDPOINTS]), { interfaces: [SUSPECT], endpointSubnetIds: [ENDPOINTS] });
        // The earlier attempt put the two denies only (it was killed before the allows).
        const afterKill = [...defaultEntries(), ...first.entries.filter((e) => e.purpose === "deny").map(({ networkAclId: _a, purpose: _p, networkInterfaceId: _n, existing: _e, ...entry }) => entry)];
        const again = planAcl(acl("acl-0end", [ENDPOINTS], afterKill), { interfaces: [SUSPECT], endpointSubnetIds: [ENDPOINTS] });
        assert.deepEqual(again.entries.filter((e) => e.existing).map((e) => `${e.egress} ${e.ruleNumber} ${e.ruleAction}`), ["false 99 deny", "true 99 deny"]);
        assert.deepEqual(again.entries.filter((e) => !e.existing).map((e) => `${e.egress} ${e.ruleNumber} ${e.ruleAction}`), ["false 98 allow", "true 98 allow"]);
    });

    it("a concurrent containment's rules are numbers in use: the plan goes below them", () => {
        const other: AclEntry[] = [
            { ruleNumber: 99, egress: false, ruleAction: "deny", protocol: "-1", cidrBlock: "10.9.9.9/32" },
            { ruleNumber: 99, egress: true, ruleAction: "deny", protocol: "-1", cidrBlock: "10.9.9.9/32" },
        ];
        const plan = planAcl(acl("acl-0x", [OWN, PUBLIC], [...other, ...defaultEntries()]), { interfaces: [SUSPECT], endpointSubnetIds: [] });
        assert.deepEqual(brief(plan), ["in 98 deny -1 10.0.0.10/32", "out 98 deny -1 10.0.0.10/32"]);
    });
});

describe("which paths of a contained instance could still carry a flow (core/networkCut.ts)", () => {
    it("a private instance whose other-subnet ACLs all got their rules: nothing open", () => {
        const i = input();
        const plans = planNetworkCut(i);
        const [a] = assessInterfaces(i, plans, done(plans));
        assert.equal(a?.possiblyOpen, false, JSON.stringify(a));
        assert.deepEqual(a?.paths.map((p) => [p.path, p.open]), [["other-subnets", false]]);
    });

    it("an address no rule can name, or an own subnet no ACL read serves: the other-subnet path open, never taken as cut", () => {
        const odd = input({ interfaces: [{ ...SUSPECT, ipv4: ["10.0.0.10", "not-an-address"] }] });
        const [a] = assessInterfaces(odd, planNetworkCut(odd), done(planNetworkCut(odd)));
        assert.deepEqual([a?.possiblyOpen, a?.paths[0]?.path], [true, "other-subnets"]);
        assert.match(a?.paths[0]?.reason ?? "", /addresses that cannot be read as IPv4\/IPv6 \(not-an-address\)/);
        const partial = input({ acls: [acl("acl-0other", [PUBLIC]), acl("acl-0endpoints", [ENDPOINTS])] });
        const [b] = assessInterfaces(partial, planNetworkCut(partial), done(planNetworkCut(partial)));
        assert.equal(b?.possiblyOpen, true);
        assert.match(b?.paths[0]?.reason ?? "", /no network ACL read serves its subnet subnet-0own/);
    });

    it("an ACL whose deny rules did not all go in leaves the other-subnet path open, naming it", () => {
        const i = input();
        const plans = planNetworkCut(i);
        const outcomes = done(plans).map((o) => (o.networkAclId === "acl-0default" ? { ...o, denied: false, problem: "rule 99: UnauthorizedOperation: denied" } : o));
        const [a] = assessInterfaces(i, plans, outcomes);
        assert.equal(a?.possiblyOpen, true);
        assert.match(a?.paths[0]?.reason ?? "", /acl-0default \(subnet-0pub\): rule 99: UnauthorizedOperation/);
    });

    it("the SSM endpoints in a subnet whose ACL serves others too: the forensic allow admits TCP 443 there, recorded open", () => {
        const i = input({ acls: [acl("acl-0default", [OWN, PUBLIC, ENDPOINTS])] });
        const plans = planNetworkCut(i);
        assert.equal(plans[0]?.entries.filter((e) => e.purpose === "forensic-allow").length, 2, "the channel is kept");
        const [a] = assessInterfaces(i, plans, done(plans));
        assert.equal(a?.possiblyOpen, true);
        assert.match(a?.paths[0]?.reason ?? "", /forensic channel's allow rule in acl-0default admits TCP 443 into subnet-0pub/);
    });

    it("other interfaces beside the SSM endpoints are reachable on TCP 443 through the allow: recorded open", () => {
        const i = input({ subnetInterfaces: { [OWN]: ["eni-0sus"], [ENDPOINTS]: ["eni-0ep0", "eni-0ep1", "eni-0ep2", "eni-0web"] } });
        const plans = planNetworkCut(i);
        const [a] = assessInterfaces(i, plans, done(plans));
        assert.match(a?.paths[0]?.reason ?? "", /TCP 443 to eni-0web \(in the endpoint subnet subnet-0end\)/);
    });

    it("a neighbour in the instance's own subnet: open (ACLs never filter inside a subnet); the instance's other interfaces and the SSM endpoints are not neighbours", () => {
        const second = { networkInterfaceId: "eni-0two", vpcId: VPC, subnetId: OWN, ipv4: ["10.0.0.12"], ipv6: [] };
        const i = input({ interfaces: [SUSPECT, second], subnetInterfaces: { [OWN]: ["eni-0sus", "eni-0two", "eni-0ep1"], [ENDPOINTS]: [] } });
        const plans = planNetworkCut(i);
        assert.equal(assessInterfaces(i, plans, done(plans))[0]?.possiblyOpen, false);
        const crowded = { ...i, subnetInterfaces: { [OWN]: ["eni-0sus", "eni-0two", "eni-0db"] } };
        const [a] = assessInterfaces(crowded, plans, done(plans));
        assert.deepEqual(a?.paths.find((p) => p.path === "same-subnet"), { path: "same-subnet", open: true, reason: "1 other interface(s) in subnet-0own (eni-0db): network ACLs never filter traffic inside a subnet" });
    });

    it("routes straight out of the instance's subnet: internet gateway (with a public address), peering, VPN, DynamoDB gateway endpoint are open; S3's gateway endpoint and a NAT gateway are not listed", () => {
        const routes = [
            { destination: "10.0.0.0/16", target: "local" },
            { destination: "0.0.0.0/0", target: "igw-0aaa" },
            { destination: "::/0", target: "igw-0aaa" },
            { destination: "10.8.0.0/16", target: "pcx-0aaa" },
            { destination: "192.168.0.0/16", target: "vgw-0aaa" },
            { destination: "pl-s3", target: "vpce-0s3" },
            { destination: "pl-ddb", target: "vpce-0ddb" },
            { destination: "10.9.0.0/16", target: "tgw-0aaa" },
        ];
        const endpoints = [
            ...SSM,
            { vpcEndpointId: "vpce-0s3", vpcId: VPC, serviceName: "com.amazonaws.us-east-1.s3", type: "Gateway", subnetIds: [], networkInterfaceIds: [] },
            { vpcEndpointId: "vpce-0ddb", vpcId: VPC, serviceName: "com.amazonaws.us-east-1.dynamodb", type: "Gateway", subnetIds: [], networkInterfaceIds: [] },
        ];
        const routeTables = [{ routeTableId: "rtb-0pub", vpcId: VPC, main: false, subnetIds: [OWN], routes }];
        const publicOne = { ...SUSPECT, publicIpv4: "203.0.113.7" };
        const i = input({ interfaces: [publicOne], routeTables, endpoints });
        const plans = planNetworkCut(i);
        const [a] = assessInterfaces(i, plans, done(plans));
        assert.deepEqual(a?.paths.map((p) => `${p.path} ${p.open}`), ["other-subnets false", "internet-gateway true", "vpc-peering true", "vpn-gateway true", "gateway-endpoint true"]);
        assert.match(a?.paths[1]?.reason ?? "", /public address 203\.0\.113\.7: a network ACL rule matches only the remote address there/);
        // Without a public address (or IPv6) the internet gateway's route carries none of its flows.
        const [b] = assessInterfaces({ ...i, interfaces: [SUSPECT] }, plans, done(plans));
        assert.ok(!b?.paths.some((p) => p.path === "internet-gateway"));
    });

    it("a VPC whose network could not be read: every interface in it possibly open, with the error", () => {
        const i = input({ unreadable: { [VPC]: "UnauthorizedOperation: not allowed" } });
        const plans = planNetworkCut(i);
        assert.deepEqual(plans, []);
        const [a] = assessInterfaces(i, plans, []);
        assert.equal(a?.possiblyOpen, true);
        assert.match(a?.paths[0]?.reason ?? "", /could not be read \(UnauthorizedOperation/);
    });
});

describe("Contain's permission for network ACL rules (core/containmentPolicies.ts)", () => {
    const scope = { partition: "aws", region: "us-east-1", accountId: "123456789012" };
    const statement = (options: Parameters<typeof containStatements>[1] = {}) => containStatements(scope, options).find((s) => s.Sid === "CutEstablishedFlows");

    it("creates and deletes rules only in network ACLs, of the prepared VPCs when the deployment names them", () => {
        assert.deepEqual(statement({ vpcIds: ["vpc-0b", "vpc-0a", "vpc-0a"] }), {
            Sid: "CutEstablishedFlows",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry"],
            Resource: "arn:aws:ec2:us-east-1:123456789012:network-acl/*",
            Condition: { ArnEquals: { "ec2:Vpc": ["arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0a", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0b"] } },
        });
    });

    it("without known VPCs (a member's responder role), or more than fit the policy quota, every ACL of the account", () => {
        assert.equal(statement()?.Condition, undefined);
        const many = Array.from({ length: MAX_SCOPED_VPCS + 1 }, (_, i) => `vpc-0${i}`);
        assert.equal(statement({ vpcIds: many })?.Condition, undefined);
        assert.ok(statement({ vpcIds: many.slice(0, MAX_SCOPED_VPCS) })?.Condition);
    });

    it("reads the VPC with describes only (no resource-level permission, listed in core/resourceLevel.ts)", () => {
        const reads = containStatements(scope).find((s) => s.Sid === "DescribeNoResourceLevelPermission");
        for (const a of ["ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints", "ec2:DescribeNetworkInterfaces"]) {
            assert.ok(([] as string[]).concat(reads?.Action ?? []).includes(a), a);
            assert.ok(NO_RESOURCE_LEVEL_ACTIONS.includes(a), a);
        }
    });
});

describe("reading DescribeNetworkAcls strictly (functions/contain/network.ts aclView)", () => {
    const good = { NetworkAclId: "acl-1", VpcId: "vpc-1", Associations: [{ SubnetId: "subnet-1" }], Entries: [{ RuleNumber: 100, Egress: false, RuleAction: "allow" as const, Protocol: "-1", CidrBlock: "0.0.0.0/0" }] };

    it("reads an ACL as EC2 answers it", () => {
        assert.deepEqual(aclView(good), { networkAclId: "acl-1", vpcId: "vpc-1", subnetIds: ["subnet-1"], entries: [{ ruleNumber: 100, egress: false, ruleAction: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0" }] });
    });

    it("names what is missing instead of reading a rule 0, or an unknown action as a deny", () => {
        const entry = good.Entries[0];
        const cases: Array<[string, Parameters<typeof aclView>[0], RegExp]> = [
            ["no id", { ...good, NetworkAclId: undefined }, /without NetworkAclId/],
            ["no VPC", { ...good, VpcId: undefined }, /without VpcId/],
            ["no rule number", { ...good, Entries: [{ ...entry, RuleNumber: undefined }] }, /acl-1: a rule without a whole RuleNumber/],
            ["an unknown action", { ...good, Entries: [{ ...entry, RuleAction: "maybe" as never }] }, /acl-1: .*"RuleAction":"maybe"/],
            ["no protocol", { ...good, Entries: [{ ...entry, Protocol: undefined }] }, /acl-1: a rule without/],
        ];
        for (const [label, acl, message] of cases) assert.throws(() => aclView(acl), message, label);
    });
});
