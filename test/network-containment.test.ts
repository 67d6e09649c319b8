import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openContext } from "../cli/context";
import { release, type ReleaseResult } from "../cli/release";
import { runDrill, seedAccount, type DrillOptions, type DrillReport } from "../drill/run";
import { SimulatedAccount } from "../drill/sim";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

/**
 * Issue 13, items 1 and 4: established flows of the suspect are cut (automatically tracked ones included) while the
 * forensic channel stays open, and interfaces from other VPCs are isolated with their own VPC's group. Every verdict
 * on a flow is the simulator's packet-by-packet evaluation at the end of the run (drill/sim/network.ts).
 */
const SMALL = { memoryBytes: 64 * 1024 };

async function drill(options: Partial<DrillOptions> = {}): Promise<{ report: DrillReport; sim: SimulatedAccount }> {
    const full: DrillOptions = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), ...options, simOptions: { ...SMALL, ...options.simOptions } };
    const sim = seedAccount(full);
    const report = await runDrill({ ...full, sim });
    return { report, sim };
}

describe("network containment: established flows (issue 13, item 1)", function () {
    this.timeout(60_000);

    it("nat-tracked-flow: the attacker's sessions through the NAT gateway are cut, the SSM channel is not: SUCCEEDED, openFlows []", async () => {
        const { report, sim } = await drill({ scenario: "nat-tracked-flow" });
        const c = report.containment;
        assert.ok(c);
        const attacker = c.flows.filter((f) => !f.forensic);
        assert.equal(attacker.length, 2, "the scenario's two sessions");
        assert.ok(attacker.every((f) => f.path === "nat-gateway" && f.tracked && f.automaticallyTracked), "automatically tracked: no group change ends them");
        assert.deepEqual(c.openFlows, [], JSON.stringify(c.openFlows, null, 1));
        for (const f of attacker) assert.match(f.blockedBy ?? "", /^acl-\S+ (inbound|outbound) rule \d+ denies/, `${f.label}: cut by a network ACL rule`);
        assert.ok(c.flows.some((f) => f.forensic && f.open), "the SSM agent's channel is still open");
        assert.deepEqual(c.forensicChannel, { open: true });
        assert.equal(c.isolated, true);
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.ok(report.evidence.memory, "memory captured through the kept channel");
        assert.equal(sim.forensicChannel().open, true);
    });

    it("the SSM channel's allow refused where its deny went in: a failed action, the case PARTIAL (never a silent cut)", async () => {
        const refuseAllows = {
            action: "ec2:CreateNetworkAclEntry",
            when: "before" as const,
            run: (call: { input: unknown }) => {
                if ((call.input as { RuleAction?: string }).RuleAction === "allow") throw Object.assign(new Error("refused by the test"), { name: "UnauthorizedOperation" });
            },
        };
        const { report } = await drill({ simOptions: { hooks: [refuseAllows] } });
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /containment incomplete: dfir:KeepForensicChannel acl-\S+ failed/);
    });

    it("the plain response: no open flow, the forensic channel kept", async () => {
        const { report } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.containment?.openFlows, []);
        assert.deepEqual(report.containment?.forensicChannel, { open: true });
    });
});

describe("network containment: what network ACLs cannot cut is recorded, and the case is PARTIAL", function () {
    this.timeout(60_000);
    const NAT_443 = { path: "nat-gateway" as const, protocol: "tcp" as const, port: 443, label: "C2 over HTTPS through the NAT gateway" };

    it("the SSM endpoints share the NAT gateway's subnet and ACL: the channel's allow rule also lets the instance's HTTPS through the NAT gateway; the simulator agrees the session stays open", async () => {
        const { report } = await drill({ simOptions: { endpointSubnet: "public", flows: [NAT_443, { ...NAT_443, protocol: "udp", port: 53, label: "DNS tunnel over UDP 53" }] } });
        const c = report.containment;
        assert.ok(c);
        assert.deepEqual(c.openFlows.map((f) => f.label), ["C2 over HTTPS through the NAT gateway"], "the 443 session passes the forensic allow rule; the UDP one is cut");
        assert.deepEqual(c.forensicChannel, { open: true }, "the forensic channel is kept");
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^network: eni-\S+ may still carry an established flow \(other-subnets\)$/);
        assert.ok(report.evidence.memory, "memory captured");
    });

    it("no room left in the shared default ACL (quota): it is left alone, the NAT session stays open, the case says so", async () => {
        const { report, sim } = await drill({ simOptions: { defaultAclRules: 18, flows: [NAT_443] } });
        assert.equal(report.containment?.openFlows.length, 1);
        assert.equal(report.status, "PARTIAL");
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
        const path = manifest.containment.interfaces[0].paths.find((p: { path: string }) => p.path === "other-subnets");
        assert.equal(path.open, true);
        assert.match(path.reason, /no room: inbound IPv4 rules would be 21, over the quota of 20/);
        assert.ok(!sim.calls.some((c) => c.action === "ec2:CreateNetworkAclEntry" && !c.ok), "no call made only to be refused");
    });

    it("a public instance: its direct internet session cannot be singled out by any ACL; recorded open, PARTIAL, and the simulator agrees", async () => {
        const { report } = await drill({ simOptions: { flows: [{ path: "internet-gateway", port: 22, initiatedBy: "remote", label: "the attacker's SSH session, straight in" }] } });
        assert.deepEqual(report.containment?.openFlows.map((f) => f.label), ["the attacker's SSH session, straight in"]);
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /may still carry an established flow \(internet-gateway\)/);
    });

    it("a peer in another subnet is cut; one in the instance's own subnet is not (ACLs never filter inside a subnet): PARTIAL, same-subnet", async () => {
        const { report } = await drill({ simOptions: { flows: [{ path: "peer-subnet", port: 5432, label: "to a database in another subnet" }, { path: "same-subnet", port: 22, initiatedBy: "remote", label: "from a neighbour in the same subnet" }] } });
        const c = report.containment;
        assert.deepEqual(c?.openFlows.map((f) => f.label), ["from a neighbour in the same subnet"]);
        assert.match(c?.flows.find((f) => f.label === "to a database in another subnet")?.blockedBy ?? "", /^acl-\S+ (inbound|outbound) rule \d+ denies/);
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /may still carry an established flow \(same-subnet\)/);
    });

    it("a concurrent containment takes the rule number first: NetworkAclEntryAlreadyExists, the ACL is read again and the rule goes below; nothing of the other's is touched", async () => {
        const full: DrillOptions = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), scenario: "nat-tracked-flow", simOptions: SMALL };
        const sim = seedAccount(full);
        let raced = false;
        sim.addHook({
            action: "ec2:CreateNetworkAclEntry",
            when: "before",
            run: (call) => {
                if (raced) return;
                raced = true;
                const input = call.input as { NetworkAclId: string; RuleNumber: number; Egress: boolean };
                sim.putNetworkAclEntry(input.NetworkAclId, { ruleNumber: input.RuleNumber, egress: input.Egress, ruleAction: "deny", protocol: "-1", cidrBlock: "10.9.9.9/32" });
            },
        });
        const report = await runDrill({ ...full, sim });
        const taken = sim.calls.filter((c) => c.action === "ec2:CreateNetworkAclEntry" && c.errorName === "NetworkAclEntryAlreadyExists");
        assert.equal(taken.length, 1, "one rule number was taken");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.containment?.openFlows, []);
        const others = sim.networkAcls().flatMap((a) => a.entries).filter((e) => e.cidrBlock === "10.9.9.9/32");
        assert.equal(others.length, 1, "the other containment's rule is still there");
    });

    it("the instance is terminated mid-containment: the rules naming its (released) addresses are removed again", async () => {
        const { report, sim } = await drill({ scenario: "instance-terminated" });
        assert.equal(report.status, "FAILED");
        const entries = sim.networkAcls().flatMap((a) => a.entries.filter((e) => e.ruleNumber < 100).map((e) => `${a.networkAclId} ${e.ruleNumber}`));
        const created = sim.calls.filter((c) => c.ok && c.action === "ec2:CreateNetworkAclEntry").length;
        const deleted = sim.calls.filter((c) => c.ok && c.action === "ec2:DeleteNetworkAclEntry").length;
        assert.equal(deleted, created, `every rule put was removed (${created} put)`);
        assert.deepEqual(entries, []);
    });
});

describe("network containment: interfaces from other VPCs (issue 13, item 4)", function () {
    this.timeout(60_000);

    it("multi-vpc-eni: each interface ends only in its own VPC's isolation group: SUCCEEDED", async () => {
        const { report, sim } = await drill({ scenario: "multi-vpc-eni" });
        const instance = sim.instance();
        const vpcs = new Set(instance.networkInterfaces.map((n) => n.vpcId));
        assert.equal(vpcs.size, 2, "two VPCs");
        for (const eni of instance.networkInterfaces) {
            const group = sim.deployment.isolationGroups[eni.vpcId as string];
            assert.ok(group, `${eni.vpcId} prepared`);
            assert.deepEqual(eni.groupIds, [group], `${eni.networkInterfaceId} in ${eni.vpcId}`);
        }
        assert.equal(report.containment?.isolated, true);
        assert.equal(report.status, "SUCCEEDED", report.reason);
        // Each interface's VPC got its own network ACL rules, and the case records each interface's VPC.
        const aclVpcs = new Set(sim.networkAcls().filter((a) => a.entries.some((e) => e.ruleNumber < 100)).map((a) => a.vpcId));
        assert.deepEqual([...aclVpcs].sort(), [...vpcs].sort());
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
        assert.deepEqual(manifest.containment.interfaces.map((i: { vpcId: string; isolated: boolean; possiblyOpen: boolean }) => [i.vpcId, i.isolated, i.possiblyOpen]), instance.networkInterfaces.map((n) => [n.vpcId, true, false]));
    });

    it("an interface from a VPC the deployment did not prepare: recorded and left, the others still isolated: PARTIAL", async () => {
        const { report, sim } = await drill({ simOptions: { secondVpcInterface: "unprepared" } });
        const [primary, second] = sim.instance().networkInterfaces;
        assert.deepEqual(primary?.groupIds, [sim.deployment.isolationGroups[primary?.vpcId as string]]);
        assert.equal(sim.deployment.isolationGroups[second?.vpcId as string], undefined, "not prepared");
        assert.notEqual(second?.groupIds.length, 0);
        assert.ok(!sim.calls.some((c) => c.action === "ec2:ModifyNetworkInterfaceAttribute" && (c.input as { NetworkInterfaceId?: string }).NetworkInterfaceId === second?.networkInterfaceId), "never moved into a group of another VPC");
        assert.equal(report.status, "PARTIAL");
        assert.equal(report.reason, `network: ${second?.networkInterfaceId} not isolated (${second?.vpcId} was not prepared: no isolation group)`);
        assert.equal(report.containment?.isolated, false);
        assert.equal(sim.instance().tags["dfir:status"], undefined, "the status tag says isolated only when every interface is");
    });
});

describe("dfir release removes exactly the network ACL rules the case put", function () {
    this.timeout(60_000);
    let dir: string;
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** nat-tracked-flow drilled and kept in a directory; `change` edits the kept world before the release. */
    async function releaseAfter(change: (sim: SimulatedAccount) => void = () => undefined): Promise<{ result: ReleaseResult; before: SimulatedAccount; after: SimulatedAccount }> {
        const { report, sim } = await drill({ scenario: "nat-tracked-flow" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        change(sim);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-release-acl-"));
        sim.saveState(dir);
        const ctx = openContext({ simulated: dir });
        try {
            const result = await release(ctx, report.caseId as string, { yes: true });
            ctx.save();
            return { result, before: sim, after: SimulatedAccount.loadState(dir) };
        } finally {
            ctx.close();
        }
    }

    const rulesOf = (sim: SimulatedAccount) => sim.networkAcls().flatMap((a) => a.entries.map((e) => `${a.networkAclId} ${e.egress ? "out" : "in"} ${e.ruleNumber} ${e.ruleAction} ${e.cidrBlock ?? e.ipv6CidrBlock}`)).sort();

    it("removes every rule the containment put and nothing else; the plan names each", async () => {
        let original: string[] = [];
        const { result, before, after } = await releaseAfter((sim) => {
            original = rulesOf(sim).filter((r) => !/ (9\d) /.test(r));
        });
        assert.equal(result.ok, true, JSON.stringify(result.steps));
        const removed = result.steps.filter((x) => x.step.kind === "network-acl-entry");
        assert.equal(removed.length, rulesOf(before).length - original.length, "one step per rule put");
        assert.ok(removed.every((x) => x.ok));
        assert.deepEqual(rulesOf(after), original, "exactly the rules of before the case are left");
        assert.match(removed[0]?.description ?? "", /^acl-\S+: remove (inbound|outbound) rule \d+ \((deny|allow) /);
    });

    it("leaves a rule whose number someone has since given another rule, and says so", async () => {
        let replaced = "";
        const { result, after } = await releaseAfter((sim) => {
            const acl = sim.networkAcls().find((a) => a.entries.some((e) => e.ruleNumber === 99 && !e.egress));
            if (!acl) throw new Error("no rule 99");
            replaced = acl.networkAclId;
            sim.putNetworkAclEntry(acl.networkAclId, { ruleNumber: 99, egress: false, ruleAction: "deny", protocol: "-1", cidrBlock: "192.0.2.66/32" });
        });
        const kept = result.steps.filter((x) => x.step.kind === "network-acl-entry-kept");
        assert.equal(kept.length, 1);
        assert.match(kept[0]?.description ?? "", new RegExp(`^${replaced}: leave inbound rule 99: rule 99 now denies all from 192\\.0\\.2\\.66/32: not the rule this case put$`));
        assert.ok(rulesOf(after).includes(`${replaced} in 99 deny 192.0.2.66/32`));
        assert.equal(result.ok, true);
    });

    it("removes them even once the instance is gone (its addresses return to the pool)", async () => {
        const { result, after } = await releaseAfter((sim) => sim.terminate());
        assert.equal(result.ok, true, JSON.stringify(result.steps));
        assert.ok(result.steps.length > 0 && result.steps.every((x) => x.step.kind === "network-acl-entry"), result.steps.map((x) => x.step.kind).join(","));
        assert.deepEqual(rulesOf(after).filter((r) => / (9\d) /.test(r)), []);
    });
});
