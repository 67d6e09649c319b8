import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

/**
 * Replays (issue: hardening): the same finding 50 times, one after another and all at once, through the real
 * definition and handlers -> one case, one snapshot set, one memory image; two different findings for one instance
 * -> one case listing both.
 */
const FINDING = DEFAULT_FINDING;
const finding = () => JSON.parse(fs.readFileSync(FINDING, "utf8"));

async function replay(options: Partial<DrillOptions>) {
    const base = { finding: finding(), ...options } as DrillOptions;
    const sim = seedAccount(base);
    const report = await runDrill({ ...base, sim });
    return { report, sim };
}

describe("replays: the same finding 50 times", function () {
    this.timeout(180_000);

    for (const concurrent of [false, true]) {
        it(`${concurrent ? "all at once" : "one after another"}: one case, one snapshot set, one memory image, one seal`, async () => {
            const { report, sim } = await replay({ repeat: 50, concurrent });
            assert.equal(report.executions.length, 50);
            const statuses = report.executions.map((e) => e.status);
            assert.equal(statuses.filter((s) => s === "SUCCEEDED").length, 1, statuses.join(","));
            assert.equal(statuses.filter((s) => s === "REPEAT").length, 49, statuses.join(","));
            assert.equal(new Set(report.executions.map((e) => e.caseId)).size, 1);
            const ok = (action: string) => sim.calls.filter((c) => c.ok && c.action === action).length;
            assert.equal(ok("ec2:CreateSnapshots"), 1);
            assert.equal(ok("ssm:SendCommand"), 1);
            assert.equal(sim.snapshots().length, 2, "one set of the instance's two volumes");
            const objects = sim.objects(sim.deployment.evidenceBucket, `cases/${report.caseId}/`);
            assert.equal(objects.filter((o) => o.key.endsWith(".lime")).length, 1);
            assert.equal(objects.filter((o) => /\/manifest-[^/]*\.json$/.test(o.key) && !o.key.endsWith(".sig.json")).length, 1, "one sealed manifest");
            // The manifest's signature and the disk digest record's, one each.
            const signed = objects.filter((o) => o.key.endsWith(".sig.json")).map((o) => /^(manifest|disk-digests)-/.exec(o.key.split("/").pop() ?? "")?.[1] ?? o.key);
            assert.deepEqual(signed.sort(), ["disk-digests", "manifest"], "one signature each");
            const cases = sim.items(sim.deployment.casesTable).filter((i) => String((i.pk as { S: string }).S).startsWith("CASE#"));
            assert.equal(cases.length, 1);
            assert.deepEqual(((cases[0].findingIds as { L: { S: string }[] }).L).map((f) => f.S), [finding().detail.id]);
        });
    }

    it("two different findings for one instance: one case listing both", async () => {
        const first = finding();
        const second = structuredClone(first);
        second.detail.id = "33335628dedc84e090aae636c4cd3333";
        second.detail.type = "Backdoor:EC2/C&CActivity.B!DNS";
        const { sim } = await replay({ finding: first });
        const again = await runDrill({ finding: second, sim });
        assert.equal(again.executions[0].status, "REPEAT");
        const cases = sim.items(sim.deployment.casesTable).filter((i) => String((i.pk as { S: string }).S).startsWith("CASE#"));
        assert.equal(cases.length, 1);
        assert.deepEqual(((cases[0].findingIds as { L: { S: string }[] }).L).map((f) => f.S), [first.detail.id, second.detail.id]);
        assert.equal(sim.calls.filter((c) => c.ok && c.action === "ec2:CreateSnapshots").length, 1);
    });
});
