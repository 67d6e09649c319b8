/**
 * Time to contain and evidence wall time, from the offline drill (drill/run.ts): the real handlers against the
 * simulated account, once per design (the deployed definition and the two baselines of ./baselines) and per ENI
 * count, with a fixed per-call latency.
 *
 * - Containment: the report's `containment.firstChangeSlot` / `isolatedSlot` (call slots: rounds of concurrent AWS
 *   calls from execution start to the first change and to complete isolation).
 * - Evidence: simulated seconds. The drill skips Wait states and advances the simulator's clock instead (the
 *   snapshot poll before each CheckSnapshots, the memory poll before each CheckMemory), on ONE clock shared by
 *   every branch. A design's evidence wall time is its own run's simulated clock total (how far the clock moved
 *   during that run): where the loops run in parallel, each poll's wait counts for every branch waiting at once.
 *   The per-branch figures (each loop alone) come from the sequential baseline's run, where each loop has the
 *   clock to itself: disk = the seconds its snapshot Wait states waited in all, memory = those of its memory Wait
 *   states (each wait is the step's own `nextPollSeconds`, core/polling.ts), metadata = 0 (no wait). Polls are counted by name in the execution's state log (CheckSnapshots, CheckMemory;
 *   the log holds the states inside Parallel branches), so a hub-copy poll is not a disk poll.
 */
import * as fs from "node:fs";
import { FUNCTION_TASKS, HUB_COPY_FUNCTION_TASKS, START_BRANCHES, STATES, WARM_TASKS } from "../../../core/definition";
import { callSlots, runDrill, seedAccount, type DrillOptions, type DrillReport } from "../../../drill/run";
import type { CriticalPath, PathStep } from "./latency";
import { DEFINITIONS, DESIGNS, type DesignName } from "./baselines";
import { DEFAULT_FINDING } from "../fixtures";

export const ENI_COUNTS = [1, 3, 8] as const;

/** The finding every run responds to (the drill's default: a real GuardDuty event of the repository's fixtures). */
export const FINDING_FILE = DEFAULT_FINDING;

export interface DrillBenchOptions {
    latencyMs: number;
    /** Simulated milliseconds a snapshot stays pending. */
    snapshotDurationMs: number;
    /** Simulated milliseconds from SendCommand to the memory document's end. */
    memoryDurationMs: number;
    memoryBytes: number;
    snapshotPollSeconds: number;
    memoryPollSeconds: number;
    eniCounts: readonly number[];
    finding?: unknown;
    /** Build a design's state machine with this instead of ./baselines' (tests: e.g. "parallel" serialized). */
    definitions?: Partial<Record<DesignName, (typeof DEFINITIONS)[DesignName]>>;
}

export const DRILL_DEFAULTS: DrillBenchOptions = {
    latencyMs: 50,
    snapshotDurationMs: 600_000,
    memoryDurationMs: 300_000,
    memoryBytes: 8 * 1024 * 1024,
    snapshotPollSeconds: 30,
    memoryPollSeconds: 15,
    eniCounts: ENI_COUNTS,
};

export interface DesignRun {
    design: DesignName;
    enis: number;
    status: string;
    reason: string;
    firstChangeSlot: number | null;
    isolatedSlot: number | null;
    /** What the run went through to the first change and to complete isolation (./latency.ts prices it). */
    containPath: CriticalPath | null;
    isolatePath: CriticalPath | null;
    /** Polls by loop: CheckSnapshots and CheckMemory states entered (the execution's state log, branches included). */
    snapshotPolls: number;
    memoryPolls: number;
    /** Simulated seconds each poll loop's Wait state waited (drill report `waitedSeconds`). */
    waitedSeconds: Record<string, number>;
    /** Simulated seconds the run's clock moved (every poll's wait, on the one clock every branch shares). */
    clockSeconds: number;
    evidence: { snapshots: string[]; memoryBytes: number | null; metadataObjects: number };
    realMs: number;
}

export interface DrillBench {
    options: Omit<DrillBenchOptions, "finding">;
    runs: DesignRun[];
    /** Per design: ENI count -> slot. */
    containSlots: Record<DesignName, Record<string, number | null>>;
    isolateSlots: Record<DesignName, Record<string, number | null>>;
    evidence: {
        /** Each branch alone (simulated seconds). */
        branchSeconds: { disk: number; memory: number; metadata: number };
        /** Each design's own simulated clock total (its run at the fewest ENIs). */
        parallelSeconds: number;
        sequentialSeconds: number;
        memoryFirstSeconds: number;
        /** parallel / sequential. */
        parallelRatio: number;
        /** Every design sealed the same evidence (snapshots completed, memory image bytes, metadata objects). */
        sameEvidence: boolean;
        /** The runs that did not end SUCCEEDED ("sequential @ 3 ENIs: PARTIAL (reason)"); empty when all did. */
        notSucceeded: string[];
    };
}

export function loadFinding(file = FINDING_FILE): unknown {
    return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** How far the simulator's clock is ahead of the wall clock (what `advance` added), read within one wall millisecond. */
function clockOffsetMs(sim: ReturnType<typeof seedAccount>): number {
    for (;;) {
        const before = Date.now();
        const simNow = sim.now().getTime();
        if (Date.now() === before) return simNow - before;
    }
}

/** One drill run of one design: its report and how far the simulated clock moved in all. */
export async function runDesign(design: DesignName, enis: number, o: DrillBenchOptions): Promise<{ report: DrillReport; clockMs: number; realMs: number }> {
    const finding = o.finding ?? loadFinding();
    const options: DrillOptions = {
        finding,
        interfaces: enis,
        latencyMs: o.latencyMs,
        definition: o.definitions?.[design] ?? DEFINITIONS[design],
        settings: { snapshotPollSeconds: o.snapshotPollSeconds, memoryPollSeconds: o.memoryPollSeconds },
        // Memory-first uploads before Contain swaps the profile: every design runs with the upload allowed
        // whatever the profile, so they all seal the same evidence.
        simOptions: { snapshotDurationMs: o.snapshotDurationMs, memoryDurationMs: o.memoryDurationMs, memoryBytes: o.memoryBytes, requireCaptureProfile: false },
    };
    const sim = seedAccount(options);
    const offsetBefore = clockOffsetMs(sim);
    const started = Date.now();
    const report = await runDrill({ ...options, sim });
    const realMs = Date.now() - started;
    return { report, clockMs: clockOffsetMs(sim) - offsetBefore, realMs };
}

/** How many times the execution entered `state` (the drill's state log records the states inside Parallel branches). */
export function entered(report: DrillReport, state: string): number {
    return report.executions.reduce((n, execution) => n + execution.states.filter((s) => s.name === state).length, 0);
}

/** The function a Task state invokes ("case" for OpenCase), from the definition's own table. */
const TASK_FUNCTIONS: Record<string, string> = Object.fromEntries(
    Object.entries({ ...FUNCTION_TASKS, ...WARM_TASKS, ...HUB_COPY_FUNCTION_TASKS }).map(([state, arn]) => [state, arn.replace(/FunctionArn$/, "")]),
);

/**
 * The critical path of a run to the call slot `slot` (the first change's or complete isolation's): the states the
 * first execution entered before that slot's first call, each Lambda Task with its function and whether it called
 * AWS, and the simulated seconds the Wait states among them waited (each Wait's share of its loop's total, by
 * entries: exact when a loop waits wholly before the change, as memory-first's does, or wholly after).
 */
export function criticalPath(report: DrillReport, slot: number | null): CriticalPath | null {
    const execution = report.executions[0];
    if (slot === null || execution === undefined || report.latencyMs <= 0) return null;
    const slots = callSlots(report.calls, report.latencyMs);
    const index = slots.indexOf(slot);
    if (index < 0) return null;
    const cutoff = report.calls[index].atMs;
    const entered = execution.states.filter((s) => s.atMs <= cutoff);
    const flat: PathStep[] = entered.map((s, i) => {
        const fn = s.type === "Task" ? TASK_FUNCTIONS[s.name] : undefined;
        if (fn === undefined) return { state: s.name, type: s.type };
        const until = Math.min(cutoff, entered[i + 1]?.atMs ?? cutoff);
        const calls = report.calls.slice(0, index + 1).some((c) => c.atMs >= s.atMs && c.atMs <= until);
        return { state: s.name, type: s.type, fn, calls };
    });
    // The Start Parallel's branch states (interleaved in the log) become its branches.
    const inStart = new Set(START_BRANCHES.flat());
    const steps: PathStep[] = [];
    for (const step of flat) {
        if (step.state === STATES.start) steps.push({ ...step, branches: START_BRANCHES.map(() => []) });
        else if (inStart.has(step.state)) {
            const parallel = [...steps].reverse().find((s) => s.state === STATES.start);
            if (parallel?.branches === undefined) throw new Error(`bench: ${step.state} entered outside ${STATES.start}`);
            parallel.branches[START_BRANCHES.findIndex((b) => b.includes(step.state))].push(step);
        } else steps.push(step);
    }
    let waitedSeconds = 0;
    for (const [wait, seconds] of Object.entries(execution.waitedSeconds)) {
        const total = execution.states.filter((s) => s.name === wait).length;
        const before = entered.filter((s) => s.name === wait).length;
        if (total > 0) waitedSeconds += (seconds * before) / total;
    }
    return { steps, slots: slot, waitedSeconds };
}

/** Simulated seconds each Wait state waited, over every execution of the run. */
function waitedIn(report: DrillReport): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of report.executions) for (const [k, v] of Object.entries(e.waitedSeconds)) out[k] = (out[k] ?? 0) + v;
    return out;
}

function evidenceOf(report: DrillReport): DesignRun["evidence"] {
    return {
        snapshots: report.evidence.snapshots.map((s) => s.state),
        memoryBytes: report.evidence.memory?.bytes ?? null,
        metadataObjects: report.evidence.metadata.length,
    };
}

export async function benchDrill(partial: Partial<DrillBenchOptions> = {}): Promise<DrillBench> {
    const o: DrillBenchOptions = { ...DRILL_DEFAULTS, ...partial };
    const runs: DesignRun[] = [];
    for (const design of DESIGNS) {
        for (const enis of o.eniCounts) {
            const { report, clockMs, realMs } = await runDesign(design, enis, o);
            runs.push({
                design,
                enis,
                status: report.status,
                reason: report.reason,
                firstChangeSlot: report.containment?.firstChangeSlot ?? null,
                isolatedSlot: report.containment?.isolatedSlot ?? null,
                containPath: criticalPath(report, report.containment?.firstChangeSlot ?? null),
                isolatePath: criticalPath(report, report.containment?.isolatedSlot ?? null),
                waitedSeconds: waitedIn(report),
                snapshotPolls: entered(report, STATES.checkSnapshots),
                memoryPolls: entered(report, STATES.checkMemory),
                clockSeconds: Math.round(clockMs) / 1000,
                evidence: evidenceOf(report),
                realMs,
            });
        }
    }
    const bySlots = (pick: (r: DesignRun) => number | null) =>
        Object.fromEntries(DESIGNS.map((d) => [d, Object.fromEntries(runs.filter((r) => r.design === d).map((r) => [String(r.enis), pick(r)]))])) as Record<DesignName, Record<string, number | null>>;

    // Each branch alone: the sequential baseline's run with the fewest ENIs (ENIs do not touch the evidence loops).
    const first = (design: DesignName) => runs.find((r) => r.design === design && r.enis === o.eniCounts[0]) as DesignRun;
    const alone = first("sequential");
    const branchSeconds = { disk: alone.waitedSeconds[STATES.waitSnapshots] ?? 0, memory: alone.waitedSeconds[STATES.waitMemory] ?? 0, metadata: 0 };
    // Each design's evidence wall time: its own run's simulated clock total (not derived from another design's run).
    const parallelSeconds = first("parallel").clockSeconds;
    const sequentialSeconds = alone.clockSeconds;
    const memoryFirstSeconds = first("memory-first").clockSeconds;
    const reference = JSON.stringify(runs[0].evidence);
    return {
        options: { latencyMs: o.latencyMs, snapshotDurationMs: o.snapshotDurationMs, memoryDurationMs: o.memoryDurationMs, memoryBytes: o.memoryBytes, snapshotPollSeconds: o.snapshotPollSeconds, memoryPollSeconds: o.memoryPollSeconds, eniCounts: o.eniCounts },
        runs,
        containSlots: bySlots((r) => r.firstChangeSlot),
        isolateSlots: bySlots((r) => r.isolatedSlot),
        evidence: {
            branchSeconds,
            parallelSeconds,
            sequentialSeconds,
            memoryFirstSeconds,
            parallelRatio: sequentialSeconds > 0 ? Math.round((parallelSeconds / sequentialSeconds) * 1000) / 1000 : 1,
            sameEvidence: runs.every((r) => r.status === "SUCCEEDED" && JSON.stringify(r.evidence) === reference),
            notSucceeded: runs.filter((r) => r.status !== "SUCCEEDED").map((r) => `${r.design} @ ${r.enis} ENIs: ${r.status} (${r.reason})`),
        },
    };
}
