/**
 * The Step Functions history quota (25,000 events, then the execution fails uncatchably): the definition's worst
 * case at the largest caps stays under half of it; the poll schedule bounds every loop whatever the cap; the drill
 * counts history as Step Functions writes it and fails an execution at the quota.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { buildDefinition, POLL_LOOPS, STATES, type DefinitionTargets, type WorkflowSettings } from "../core/definition";
import { CAP_LIMITS } from "../core/config";
import { HISTORY_QUOTA, HistoryCounter, worstCaseHistory } from "../core/history";
import { maxPollRounds, maxPollSeconds, nextPollSeconds, STEADY_ROUNDS, withNextPoll } from "../core/polling";
import { drillTargets, runDrill } from "../drill/run";
import { MAXIMAL_CAPS, scenarioPlan } from "../drill/scenarios";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

const targets: DefinitionTargets = drillTargets("111122223333", "us-east-1", "arn:aws:sns:us-east-1:111122223333:dfir");
const MAX_SNAPSHOT_CAP = CAP_LIMITS.snapshotCapHours.max * 3600;
const MAX_MEMORY_CAP = CAP_LIMITS.memoryCapMinutes.max * 60;

/** The loop bounds of the definition's three poll loops (each loop is identified by its Wait state). */
function loopBounds(settings: WorkflowSettings, caps = { snapshot: MAX_SNAPSHOT_CAP, memory: MAX_MEMORY_CAP }) {
    const snapshotBase = settings.snapshotPollSeconds ?? 30;
    const memoryBase = settings.memoryPollSeconds ?? 15;
    return (states: readonly string[]): number => {
        const loop = POLL_LOOPS.find((l) => states.includes(l.wait));
        if (loop === undefined) return NaN;
        return loop.cap === "snapshot" ? maxPollRounds(caps.snapshot, snapshotBase) : maxPollRounds(caps.memory, memoryBase);
    };
}

describe("history quota: the poll schedule", () => {
    it("never waits less than the base nor more than cap / STEADY_ROUNDS, and grows with the step's age", () => {
        const clock = { startedAt: "2026-01-01T00:00:00.000Z", deadline: new Date(Date.parse("2026-01-01T00:00:00.000Z") + 86400_000).toISOString() };
        const at = (s: number) => new Date(Date.parse(clock.startedAt) + s * 1000);
        assert.equal(nextPollSeconds(clock, at(0), 30), 30);
        assert.equal(nextPollSeconds(clock, at(600), 30), 300);
        assert.equal(nextPollSeconds(clock, at(20_000), 30), Math.ceil(86400 / STEADY_ROUNDS));
        assert.equal(nextPollSeconds(clock, at(90_000), 30), 30, "past the deadline: the base (the next check reports the timeout)");
        assert.equal(maxPollSeconds(60, 30), 30);
    });

    it("bounds every loop's rounds whatever the cap and the base, and the schedule covers the whole cap", () => {
        for (const cap of [60, 600, 3600, 10_800, 86_400, MAX_MEMORY_CAP, MAX_SNAPSHOT_CAP, 10 * MAX_SNAPSHOT_CAP]) {
            for (const base of [1, 5, 15, 30, 120]) {
                const rounds = maxPollRounds(cap, base);
                assert.ok(rounds <= 110, `cap ${cap} base ${base}: ${rounds} rounds`);
                // A fixed base interval would need cap / base rounds: the bound is what the schedule buys.
                if (cap / base > 1000) assert.ok(rounds < cap / base / 5, `cap ${cap} base ${base}`);
            }
        }
    });

    it("a result carries nextPollSeconds only while pending", () => {
        const clock: { startedAt: string; deadline: string; done: boolean; nextPollSeconds?: number } = { startedAt: "2026-01-01T00:00:00.000Z", deadline: "2026-01-02T00:00:00.000Z", done: false };
        const pending = withNextPoll(clock, true, new Date("2026-01-01T01:00:00.000Z"), 30);
        assert.equal(pending.nextPollSeconds, 1080);
        assert.equal("nextPollSeconds" in withNextPoll({ ...pending, done: true }, false, new Date(), 30), false);
    });
});

describe("history quota: the definition's worst case", () => {
    it("stays under half the quota at the largest caps, with every retry taken, for every shape of the definition", () => {
        for (const settings of [{}, { copySnapshotsToHub: true }, { copySnapshotsToHub: true, snapshotPollSeconds: 1, memoryPollSeconds: 1 }, { snapshotPollSeconds: 600 }] as WorkflowSettings[]) {
            const worst = worstCaseHistory(buildDefinition(targets, settings) as never, loopBounds(settings));
            assert.ok(worst < HISTORY_QUOTA / 2, `${JSON.stringify(settings)}: worst case ${worst} events`);
            assert.ok(worst > 1000, `${JSON.stringify(settings)}: ${worst} — the loops are counted`);
        }
    });

    it("the same count exceeds the quota with a fixed 30 s poll (the check can fail)", () => {
        const fixed = (states: readonly string[]) =>
            states.includes(STATES.waitMemory) ? Math.ceil(MAX_MEMORY_CAP / 15) + 1 : Math.ceil(MAX_SNAPSHOT_CAP / 30) + 1;
        assert.ok(worstCaseHistory(buildDefinition(targets, {}) as never, fixed) > HISTORY_QUOTA);
    });

    it("every loop of the definition is in POLL_LOOPS (the table the drill and this test read)", () => {
        const d = buildDefinition(targets, { copySnapshotsToHub: true }) as any;
        const waits: string[] = [];
        const walk = (def: any) => {
            for (const [name, st] of Object.entries<any>(def.States)) {
                if (st.Type === "Wait") waits.push(name);
                for (const b of st.Branches ?? []) walk(b);
            }
        };
        walk(d);
        assert.deepEqual(waits.sort(), POLL_LOOPS.map((l) => l.wait).sort());
    });

    it("refuses a loop it has no bound for", () => {
        assert.throws(() => worstCaseHistory(buildDefinition(targets, {}) as never, () => NaN), /no bound for the loop/);
    });
});

describe("history quota: counting as Step Functions writes it", () => {
    const def = {
        StartAt: "T",
        States: {
            T: { Type: "Task", Resource: "arn:aws:lambda:us-east-1:111122223333:function:f", Retry: [{ ErrorEquals: ["X"], MaxAttempts: 2 }], Catch: [{ ErrorEquals: ["States.ALL"], Next: "P" }], Next: "W" },
            W: { Type: "Wait", Seconds: 1, Next: "P" },
            P: { Type: "Pass", End: true },
        },
    };
    const count = (events: { type: string; state?: string }[]) => {
        const c = new HistoryCounter(def);
        for (const e of events) c.add({ type: e.type, ...(e.state ? { state: { name: e.state, type: (def.States as any)[e.state].Type } } : {}) });
        return c.events;
    };

    it("a Lambda Task that succeeds: Entered, Scheduled, Started, Succeeded, Exited", () => {
        assert.equal(count([{ type: "StateEntered", state: "T" }, { type: "StateExited", state: "T" }]), 5);
    });

    it("a retry adds Failed, Scheduled, Started; a catch ends with Failed and Exited", () => {
        assert.equal(count([{ type: "StateEntered", state: "T" }, { type: "StateFailed", state: "T" }, { type: "StateRetried", state: "T" }, { type: "StateExited", state: "T" }]), 8);
        assert.equal(count([{ type: "StateEntered", state: "T" }, { type: "StateFailed", state: "T" }, { type: "StateCaught", state: "T" }, { type: "StateExited", state: "T" }]), 5);
    });

    it("an execution of Task, Wait, Pass writes 11 events", () => {
        assert.equal(count([
            { type: "ExecutionStarted" },
            { type: "StateEntered", state: "T" }, { type: "StateExited", state: "T" },
            { type: "StateEntered", state: "W" }, { type: "StateExited", state: "W" },
            { type: "StateEntered", state: "P" }, { type: "StateExited", state: "P" },
            { type: "ExecutionSucceeded" },
        ]), 11);
    });

    it("the worst case of that definition is its longest path with every retry", () => {
        // T: 2 + 3 attempts x 3; W: 2; P: 2; execution: 2.
        assert.equal(worstCaseHistory(def, () => NaN), 11 + 2 + 2 + 2);
    });
});

describe("history quota: the drill", function () {
    this.timeout(120_000);
    const finding = () => JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8"));

    it("long-snapshot (30 h snapshots, largest caps) ends sealed, far below the quota", async () => {
        const report = await runDrill({ finding: finding(), scenario: "long-snapshot", simOptions: { memoryBytes: 256 * 1024 } });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.ok(report.evidence.snapshots.length > 0 && report.evidence.snapshots.every((s) => s.state === "completed"));
        assert.ok(report.historyEvents > 100 && report.historyEvents < HISTORY_QUOTA / 10, `${report.historyEvents}`);
        // The scenario runs at the caps its description and docs name: 168 h of snapshots, 12 h of memory.
        assert.deepEqual(scenarioPlan("long-snapshot").caps, { snapshotSeconds: 168 * 3600, memorySeconds: 12 * 3600 });
        assert.equal(MAXIMAL_CAPS.snapshotSeconds, MAX_SNAPSHOT_CAP);
    });

    it("fails an execution at 25,000 events, unsealed, as Step Functions does (the fixed 30 s poll of before)", async () => {
        const fixedWaits = (t: DefinitionTargets, s: WorkflowSettings) => {
            const d = buildDefinition(t, s) as any;
            const wait = d.States[STATES.evidence].Branches[0].States[STATES.waitSnapshots];
            delete wait.SecondsPath;
            wait.Seconds = 30;
            return d;
        };
        const report = await runDrill({ finding: finding(), scenario: "long-snapshot", simOptions: { memoryBytes: 256 * 1024 }, definition: fixedWaits });
        assert.equal(report.status, "FAILED");
        assert.match(report.reason, /not sealed: .*25000 events/);
        assert.equal(report.historyEvents, HISTORY_QUOTA);
    });
});
