import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

/**
 * Disk evidence locked (issue 17, item 1): every evidence snapshot is locked in compliance mode (EBS snapshot lock)
 * for the evidence retention as soon as it exists, so nobody, the account's own administrator included, can delete
 * it; the manifest records each lock.
 */
async function drill(extra: Partial<DrillOptions> = {}) {
    const options = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), simOptions: { memoryBytes: 256 * 1024 }, ...extra } as DrillOptions;
    const sim = seedAccount(options);
    const report = await runDrill({ ...options, sim });
    return { report, sim };
}

describe("disk evidence locked (EBS snapshot lock)", function () {
    this.timeout(120_000);

    it("evidence-deleted: the account's own administrator cannot delete the disk evidence: every DeleteSnapshot refused, every snapshot still there, locked in compliance mode for the retention", async () => {
        const { report, sim } = await drill({ scenario: "evidence-deleted" });
        const deletes = sim.calls.filter((c) => c.action === "ec2:DeleteSnapshot");
        assert.ok(deletes.length >= 2, `the administrator tried (${deletes.length} DeleteSnapshot calls)`);
        assert.deepEqual(deletes.map((c) => [c.ok, c.errorName]), deletes.map(() => [false, "IncorrectState"]), "every delete refused");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const evidence = report.evidence.snapshots;
        assert.ok(evidence.length >= 2);
        const now = sim.snapshots();
        for (const s of evidence) {
            const there = now.find((x) => x.snapshotId === s.snapshotId);
            assert.ok(there, `${s.snapshotId} still exists`);
            assert.equal(there.lock?.state, "compliance", `${s.snapshotId} locked in compliance mode`);
            assert.equal(there.lock?.durationDays, Number(sim.environment().RETENTION_DAYS), `${s.snapshotId} locked for the evidence retention`);
        }
    });
});
