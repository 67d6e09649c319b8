/**
 * Time to contain in milliseconds (pure): a model of what a real response pays from execution start to the first
 * containment change and to complete isolation, cold (every function on the way starts a new execution environment,
 * the usual case for an event as rare as a finding) and warm.
 *
 * The path is read from a drill run (./drill.ts `criticalPath`): the states entered before the change, the Lambda
 * Task states among them (each names its function), the rounds of AWS calls (call slots) and the simulated seconds
 * Wait states waited before it. Each piece is priced:
 *
 * - every state entered: one Step Functions state transition (`stateTransitionMs`);
 * - every Lambda Task: the invoke round trip Step Functions -> Lambda -> result (`invokeMs`);
 * - a Parallel state: its own transition and its slowest branch (a branch that calls AWS or waits is refused: calls
 *   and waits are priced on the whole path); an environment any branch started is up afterwards (the warm-ups);
 * - cold only, once per function on the path, unless an earlier step started its environment: the execution environment and the nodejs22.x runtime starting
 *   (`runtimeInitMs`), the function's own module load (measured: ./lambda.ts, a `require` of the deployed bundle on
 *   this machine at one full core) divided by its deployed memory's CPU share (core/lambda.ts `cpuShare`), and,
 *   when the function calls AWS before the change, its first connection (`coldConnectMs`: TCP + TLS to the endpoint);
 * - every call slot: one AWS API round trip (`perCallMs`, the latency the drill applies to every call);
 * - the Wait states' simulated seconds.
 *
 * The figures AWS does not publish are assumptions (ASSUMPTIONS, each with its reason); BENCHMARKS.md states them.
 */
import { cpuShare } from "../../../core/lambda";

export interface LatencyAssumptions {
    /** One state transition of a Standard workflow (AWS publishes no figure). */
    stateTransitionMs: number;
    /** Step Functions invoking a warm Lambda function and receiving its result, beside the handler's own time. */
    invokeMs: number;
    /** A new execution environment with the nodejs22.x runtime, before the function's own code loads. */
    runtimeInitMs: number;
    /** A cold function's first connection to an AWS endpoint (TCP + TLS), on its first call. */
    coldConnectMs: number;
    /** One AWS API call (one call slot). */
    perCallMs: number;
}

/**
 * The assumed figures (BENCHMARKS.md "Time to contain in milliseconds" names them and why). AWS documents the
 * phases (Lambda Developer Guide, "Understanding the Lambda execution environment lifecycle": Init = extensions,
 * runtime, function code) but no per-runtime, per-state or per-call latency: each figure below is a stated,
 * deliberately not optimistic, assumption.
 */
export const ASSUMPTIONS: LatencyAssumptions = {
    stateTransitionMs: 30,
    invokeMs: 30,
    runtimeInitMs: 200,
    coldConnectMs: 100,
    perCallMs: 50,
};

/**
 * One step of the critical path: a state entered; a Lambda Task names its function and whether it called AWS; a
 * Parallel state has its branches (each the steps it entered), priced as its slowest branch.
 */
export interface PathStep {
    state: string;
    type: string;
    fn?: string;
    /** The function made at least one AWS call in this step before the change. */
    calls?: boolean;
    /** A Parallel state's branches: the steps each entered. */
    branches?: PathStep[][];
}

export interface CriticalPath {
    steps: PathStep[];
    /** Call slots from execution start to the change (the drill report's firstChangeSlot / isolatedSlot). */
    slots: number;
    /** Simulated seconds the Wait states on the path waited. */
    waitedSeconds: number;
}

/** A deployed function: its measured module load (ms at one full core) and its memory (core/lambda.ts). */
export interface FunctionCost {
    moduleInitMs: number;
    memoryMb: number;
}

export interface PathCost {
    ms: number;
    parts: { transitions: number; invokes: number; coldStarts: number; calls: number; waits: number };
    /** The functions whose execution environment the path started (cold only), in order, warm-up branches included. */
    coldFunctions: string[];
}

const round = (n: number) => Math.round(n);

/** The cold start of one function: environment and runtime, its module load at its CPU share. */
export function coldStartMs(f: FunctionCost, a: LatencyAssumptions = ASSUMPTIONS): number {
    return a.runtimeInitMs + f.moduleInitMs / cpuShare(f.memoryMb);
}

interface Walk {
    transitions: number;
    invokes: number;
    coldStarts: number;
    /** Functions whose environment is up (started on the path, or warm anyway). */
    started: Set<string>;
    /** Functions whose environment has connected to AWS. */
    connected: Set<string>;
    coldFunctions: string[];
}

const total = (w: Walk) => w.transitions + w.invokes + w.coldStarts;

/**
 * Price a sequence of steps from a state of the world. A Parallel costs its own transition and its slowest branch
 * (Step Functions ends a Parallel when every branch has); the environments any branch started are up afterwards.
 * Call slots and Wait seconds are priced on the whole path (the drill counts them so): a branch that calls AWS or
 * waits cannot be priced apart, and is refused.
 */
function walk(steps: readonly PathStep[], functions: Readonly<Record<string, FunctionCost>>, cold: boolean, a: LatencyAssumptions, from: Walk): Walk {
    const w: Walk = { ...from, started: new Set(from.started), connected: new Set(from.connected), coldFunctions: [...from.coldFunctions] };
    for (const step of steps) {
        w.transitions += a.stateTransitionMs;
        if (step.branches !== undefined) {
            const base: Walk = { ...w, transitions: 0, invokes: 0, coldStarts: 0 };
            const ends = step.branches.map((branch) => {
                if (branch.some((s) => s.calls || s.type === "Wait" || s.branches)) {
                    throw new Error(`latency: ${step.state} has a branch that calls AWS, waits or nests a Parallel (not priced apart)`);
                }
                return walk(branch, functions, cold, a, base);
            });
            const slowest = ends.reduce((x, y) => (total(y) > total(x) ? y : x), { ...base });
            w.transitions += slowest.transitions;
            w.invokes += slowest.invokes;
            w.coldStarts += slowest.coldStarts;
            for (const end of ends) {
                for (const fn of end.started) w.started.add(fn);
                for (const fn of end.coldFunctions) if (!w.coldFunctions.includes(fn)) w.coldFunctions.push(fn);
            }
            continue;
        }
        if (step.fn === undefined) continue;
        const fn = step.fn;
        w.invokes += a.invokeMs;
        if (!cold) continue;
        const cost = functions[fn];
        if (cost === undefined) throw new Error(`latency: no module load or memory for function ${fn}`);
        if (!w.started.has(fn)) {
            w.started.add(fn);
            w.coldFunctions.push(fn);
            w.coldStarts += coldStartMs(cost, a);
        }
        if (step.calls && !w.connected.has(fn)) {
            w.connected.add(fn);
            w.coldStarts += a.coldConnectMs;
        }
    }
    return w;
}

/**
 * The milliseconds of a path, cold or warm. Throws on a Task whose function has no cost (a path the model cannot
 * price). `warmAnyway`: functions whose execution environment is already up when the path starts, even in a cold
 * response (an option the report weighs); they still open their first connection.
 */
export function pathMs(path: CriticalPath, functions: Readonly<Record<string, FunctionCost>>, cold: boolean, a: LatencyAssumptions = ASSUMPTIONS, warmAnyway: readonly string[] = []): PathCost {
    const w = walk(path.steps, functions, cold, a, { transitions: 0, invokes: 0, coldStarts: 0, started: new Set(warmAnyway), connected: new Set(), coldFunctions: [] });
    const parts = {
        transitions: w.transitions,
        invokes: w.invokes,
        coldStarts: round(w.coldStarts),
        calls: path.slots * a.perCallMs,
        waits: round(path.waitedSeconds * 1000),
    };
    return { ms: round(parts.transitions + parts.invokes + parts.coldStarts + parts.calls + parts.waits), parts, coldFunctions: w.coldFunctions };
}

export interface ColdWarm {
    cold: number;
    warm: number;
}

/** Cold and warm milliseconds of a path. */
export function coldWarm(path: CriticalPath, functions: Readonly<Record<string, FunctionCost>>, a: LatencyAssumptions = ASSUMPTIONS): ColdWarm {
    return { cold: pathMs(path, functions, true, a).ms, warm: pathMs(path, functions, false, a).ms };
}

/**
 * The same path with states taken out of it, in its Parallel branches too (an option the report weighs, e.g. the
 * design without the warm-up branches). Pure.
 */
export function without(path: CriticalPath, states: readonly string[]): CriticalPath {
    const keep = (steps: PathStep[]): PathStep[] => steps.filter((s) => !states.includes(s.state))
        .map((s) => (s.branches ? { ...s, branches: s.branches.map(keep).filter((b) => b.length > 0) } : s));
    return { ...path, steps: keep(path.steps) };
}
