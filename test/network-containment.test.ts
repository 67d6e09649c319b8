import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { runDrill, seedAccount, type DrillOptions, type DrillReport } from "../drill/run";
import type { SimulatedAccount } from "../drill/sim";
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

    it("the plain response: no open flow, the forensic channel kept", async () => {
        const { report } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.containment?.openFlows, []);
        assert.deepEqual(report.containment?.forensicChannel, { open: true });
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
    });
});
