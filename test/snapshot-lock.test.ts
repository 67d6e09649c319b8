import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { lockProblem, lockRecordOf, lockRequest, unlockedSnapshotsText } from "../core/snapshotLock";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { DEFAULT_HUB_ACCOUNT } from "../drill/sim";
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

    it("a lock the step cannot set is recorded on the snapshot and makes the case PARTIAL ('disk lock: ...'), the evidence kept", async () => {
        const { report, sim } = await drill({ simOptions: { memoryBytes: 256 * 1024, faults: [{ action: "ec2:LockSnapshot", error: "UnauthorizedOperation", status: 403, times: 100 }] } } as Partial<DrillOptions>);
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^disk lock: snap-\S+ not locked: LockSnapshot refused: UnauthorizedOperation/);
        assert.ok(report.evidence.manifest, "sealed");
        assert.ok(sim.snapshots().every((s) => s.lock === undefined), "nothing locked");
    });

    it("a Lambda retry adopts the locks an earlier attempt set (a compliance lock can only be lengthened): one LockSnapshot per snapshot", async () => {
        const { report, sim } = await drill({ kill: { state: "StartSnapshots", afterCalls: 3 } } as Partial<DrillOptions>);
        assert.equal(report.status, "SUCCEEDED", report.reason);
        // Calls of the killed attempt: DescribeSnapshots, CreateSnapshots, LockSnapshot x2 (the second cut by the kill).
        const locks = sim.calls.filter((c) => c.action === "ec2:LockSnapshot");
        const snapshots = sim.snapshots();
        assert.equal(locks.filter((c) => c.ok).length, snapshots.length, "each snapshot locked once");
        assert.deepEqual(locks.filter((c) => !c.ok).map((c) => c.errorName), ["DrillKilled"], "EC2 refused no lock (a re-lock would be)");
        assert.ok(sim.calls.some((c) => c.action === "ec2:DescribeLockedSnapshots" && c.ok), "the retry read the earlier locks");
        assert.ok(snapshots.every((s) => s.lock?.state === "compliance"));
    });
});

describe("hub copies locked as the member snapshots are (copySnapshotsToHub)", function () {
    this.timeout(120_000);

    it("copy-to-hub: every member snapshot and every hub copy locked in compliance mode for the retention; the manifest records the hub copies' locks", async () => {
        const { report, sim } = await drill({ scenario: "copy-to-hub" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const days = Number(sim.environment().RETENTION_DAYS);
        const all = sim.snapshots();
        const hubCopies = report.evidence.hubCopies;
        assert.ok(hubCopies.length >= 2);
        for (const id of [...report.evidence.snapshots.map((s) => s.snapshotId), ...hubCopies.map((c) => c.snapshotId)]) {
            const s = all.find((x) => x.snapshotId === id);
            assert.equal(s?.lock?.state, "compliance", `${id} locked`);
            assert.equal(s?.lock?.durationDays, days, `${id} for the retention`);
        }
        // The member's intermediate share copies are not locked (a stated limitation).
        const viaIds = new Set(hubCopies.map((c) => c.viaSnapshotId));
        assert.ok(all.filter((s) => viaIds.has(s.snapshotId)).every((s) => s.lock === undefined));
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
        for (const c of manifest.evidence.disk.copy.snapshots) assert.equal(c.hubCopyLock?.state, "compliance", c.hubCopyId);
    });

    it("a hub copy the hub cannot lock is the case's 'disk lock' gap (PARTIAL), the copies kept", async () => {
        const { report, sim } = await drill({ scenario: "copy-to-hub", simOptions: { memoryBytes: 256 * 1024, faults: [{ action: "ec2:LockSnapshot", error: "UnauthorizedOperation", status: 403, times: 100, accountId: DEFAULT_HUB_ACCOUNT }] } } as Partial<DrillOptions>);
        assert.equal(report.status, "PARTIAL");
        const unlocked = /^disk lock: (snap-\S+) not locked: LockSnapshot refused: UnauthorizedOperation/.exec(report.reason);
        assert.ok(unlocked, report.reason);
        assert.ok(report.evidence.hubCopies.some((c) => c.snapshotId === unlocked[1]), "the gap names a hub copy");
        assert.ok(report.evidence.hubCopies.length >= 2 && report.evidence.hubCopies.every((c) => c.state === "completed"));
        // The member snapshots (another account) were locked.
        const all = sim.snapshots();
        for (const s of report.evidence.snapshots) assert.equal(all.find((x) => x.snapshotId === s.snapshotId)?.lock?.state, "compliance");
    });
});

describe("core/snapshotLock.ts", () => {
    it("asks for compliance mode, no cooling-off period, for the retention (1 to 36,500 days)", () => {
        assert.deepEqual(lockRequest("snap-1", 365), { SnapshotId: "snap-1", LockMode: "compliance", LockDuration: 365 });
        assert.throws(() => lockRequest("snap-1", 0), /1 to 36500 days/);
        assert.throws(() => lockRequest("snap-1", 36_501), /1 to 36500 days/);
    });

    it("records what EC2 reports, and holds only a compliance lock (for the retention when it is given)", () => {
        const rec = lockRecordOf({ LockState: "compliance", LockDuration: 365, LockCreatedOn: new Date("2026-01-01T00:00:00Z") });
        assert.deepEqual(rec, { state: "compliance", durationDays: 365, lockedAt: "2026-01-01T00:00:00.000Z" });
        assert.equal(lockProblem(rec), undefined);
        assert.equal(lockProblem(rec, 365), undefined);
        assert.equal(lockProblem(rec, 400), "locked for 365 days, less than the retention (400)");
        assert.equal(lockProblem({ state: "compliance-cooloff", durationDays: 365 }), "locked compliance-cooloff, not in compliance mode");
        assert.equal(lockProblem({ state: "expired" }), "locked expired, not in compliance mode");
        assert.equal(lockProblem(undefined), "not locked");
        assert.equal(unlockedSnapshotsText([{ snapshotId: "snap-1", lock: rec }]), undefined);
        assert.equal(unlockedSnapshotsText([{ snapshotId: "snap-1" }, { snapshotId: "snap-2", lock: { error: "x" } }]), "snap-1 not locked (and 1 more)");
    });
});

describe("the simulator's snapshot lock, as the EBS snapshot lock pages describe it", () => {
    const DAY = 86_400_000;
    async function snapshot() {
        // Snapshots complete an hour after CreateSnapshots.
        const sim = seedAccount({ finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), simOptions: { memoryBytes: 256 * 1024, snapshotDurationMs: 3_600_000 } } as DrillOptions);
        const i = sim.instance();
        const where = { accountId: i.accountId, region: i.region };
        const out = await sim.invoke("ec2", "CreateSnapshots", { InstanceSpecification: { InstanceId: i.instanceId } }, where);
        const id = (out.Snapshots as { SnapshotId: string }[])[0].SnapshotId;
        const call = (operation: string, input: Record<string, unknown>) => sim.invoke("ec2", operation, input, where);
        const refused = async (operation: string, input: Record<string, unknown>) => {
            try {
                await call(operation, input);
            } catch (error) {
                return (error as Error).name;
            }
            return "accepted";
        };
        return { sim, id, call, refused };
    }

    it("compliance without a cooling-off period: locked while pending, only lengthened after, delete refused until it expires", async () => {
        const { sim, id, call, refused } = await snapshot();
        const locked = await call("LockSnapshot", { SnapshotId: id, LockMode: "compliance", LockDuration: 2 });
        assert.equal(locked.LockState, "compliance");
        assert.equal(locked.LockExpiresOn, undefined, "pending: the duration has not started");
        assert.equal(await refused("DeleteSnapshot", { SnapshotId: id }), "IncorrectState");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "compliance", LockDuration: 2 }), "InvalidParameterValue", "not lengthened");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "governance", LockDuration: 5 }), "InvalidParameterValue", "mode unchanged");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "compliance", LockDuration: 3 }), "accepted");
        // Completed an hour after creation; the 3 days run from then, not from the lock.
        sim.advance(3_600_000 + 3 * DAY - 60_000);
        assert.equal(sim.snapshots().find((s) => s.snapshotId === id)?.lock?.state, "compliance", "3 days from completion, not from the lock");
        sim.advance(120_000);
        assert.equal(sim.snapshots().find((s) => s.snapshotId === id)?.lock?.state, "expired");
        assert.equal(await refused("DeleteSnapshot", { SnapshotId: id }), "accepted");
    });

    it("refuses a duration out of 1-36,500 days, both or neither of LockDuration and ExpirationDate, and a cooling-off period in governance mode", async () => {
        const { id, refused } = await snapshot();
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "compliance", LockDuration: 36_501 }), "InvalidParameterValue");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "compliance" }), "InvalidParameterCombination");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "compliance", LockDuration: 1, ExpirationDate: new Date(Date.now() + DAY) }), "InvalidParameterCombination");
        assert.equal(await refused("LockSnapshot", { SnapshotId: id, LockMode: "governance", LockDuration: 1, CoolOffPeriod: 1 }), "InvalidParameterCombination");
        assert.equal(await refused("DeleteSnapshot", { SnapshotId: id }), "accepted", "never locked");
    });
});
