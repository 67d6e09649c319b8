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
 * - cold only, once per function on the path: the execution environment and the nodejs22.x runtime starting
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

/** One step of the critical path: a state entered; a Lambda Task names its function and whether it called AWS. */
export interface PathStep {
    state: string;
    type: string;
    fn?: string;
    /** The function made at least one AWS call in this step before the change. */
    calls?: boolean;
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
    /** The functions that start cold on the path (cold only), in order. */
    coldFunctions: string[];
}

const round = (n: number) => Math.round(n);

/** The cold start of one function: environment and runtime, its module load at its CPU share. */
export function coldStartMs(f: FunctionCost, a: LatencyAssumptions = ASSUMPTIONS): number {
    return a.runtimeInitMs + f.moduleInitMs / cpuShare(f.memoryMb);
}

/**
 * The milliseconds of a path, cold or warm. Throws on a Task whose function has no cost (a path the model cannot
 * price). `warmAnyway`: functions already warm when the path reaches them even in a cold response (an option the
 * report weighs: a function whose execution environment another step started).
 */
export function pathMs(path: CriticalPath, functions: Readonly<Record<string, FunctionCost>>, cold: boolean, a: LatencyAssumptions = ASSUMPTIONS, warmAnyway: readonly string[] = []): PathCost {
    const tasks = path.steps.filter((s) => s.fn !== undefined);
    const coldFunctions: string[] = [];
    let coldStarts = 0;
    if (cold) {
        const connected = new Set<string>();
        for (const step of tasks) {
            const fn = step.fn as string;
            const cost = functions[fn];
            if (cost === undefined) throw new Error(`latency: no module load or memory for function ${fn}`);
            if (warmAnyway.includes(fn)) continue;
            if (!coldFunctions.includes(fn)) {
                coldFunctions.push(fn);
                coldStarts += coldStartMs(cost, a);
            }
            if (step.calls && !connected.has(fn)) {
                connected.add(fn);
                coldStarts += a.coldConnectMs;
            }
        }
    }
    const parts = {
        transitions: path.steps.length * a.stateTransitionMs,
        invokes: tasks.length * a.invokeMs,
        coldStarts: round(coldStarts),
        calls: path.slots * a.perCallMs,
        waits: round(path.waitedSeconds * 1000),
    };
    return { ms: round(parts.transitions + parts.invokes + parts.coldStarts + parts.calls + parts.waits), parts, coldFunctions };
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
 * The same path with states taken out of it (an option the report weighs, e.g. triage decided inside OpenCase: no
 * Triage Task, no Actionable? Choice). Pure.
 */
export function without(path: CriticalPath, states: readonly string[]): CriticalPath {
    return { ...path, steps: path.steps.filter((s) => !states.includes(s.state)) };
}
