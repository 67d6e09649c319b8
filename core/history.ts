/**
 * Step Functions execution history, counted as Step Functions writes it, pure: the static worst case of a
 * definition (the test that keeps every execution far from the quota) and the count of a run from the drill's
 * interpreter events (the drill fails an execution at the quota, as Step Functions does).
 *
 * Followed: "Step Functions service quotas" (developer guide): "Maximum execution history size: 25,000 events in a
 * single state machine execution history. If the execution history reaches this quota, the execution fails", and
 * no Catch applies (the execution itself fails). The event types per state are those of the API reference,
 * "HistoryEvent": a Task that names a Lambda function ARN writes TaskStateEntered, then per attempt
 * LambdaFunctionScheduled, LambdaFunctionStarted and LambdaFunctionSucceeded | Failed | TimedOut, then
 * TaskStateExited; a service integration writes TaskScheduled, TaskStarted (TaskSubmitted for
 * `.waitForTaskToken`) and TaskSucceeded | Failed | TimedOut per attempt; Parallel and Map write Entered, Started,
 * Succeeded | Failed, Exited (a Distributed Map adds MapRunStarted and MapRunSucceeded | Failed; its iterations
 * are child executions with histories of their own); Choice, Wait, Pass and Succeed write Entered and Exited; Fail
 * writes FailStateEntered; the execution writes ExecutionStarted and one end event.
 */

/** "Maximum execution history size" (Step Functions service quotas; not adjustable). */
export const HISTORY_QUOTA = 25_000;

/** The ASL default of a retrier's MaxAttempts when it is not given (States Language specification, "Retrying after error"). */
const DEFAULT_MAX_ATTEMPTS = 3;

type State = Record<string, any>;
type Definition = { StartAt: string; States: Record<string, State> };

const isServiceIntegration = (resource: unknown) => typeof resource === "string" && resource.startsWith("arn:aws:states:::");
const waitsForToken = (resource: unknown) => typeof resource === "string" && resource.endsWith(".waitForTaskToken");
const isDistributedMap = (state: State) => state.Type === "Map" && (state.ItemProcessor?.ProcessorConfig?.Mode === "DISTRIBUTED");

/** Events one attempt of a Task writes: scheduled, started, [submitted], ended. */
function attemptEvents(state: State): number {
    return 3 + (isServiceIntegration(state.Resource) && waitsForToken(state.Resource) ? 1 : 0);
}

/** How many attempts a state's retriers allow at most: the first plus every retrier's MaxAttempts. */
export function maxAttempts(state: State): number {
    const retriers = Array.isArray(state.Retry) ? state.Retry : [];
    return 1 + retriers.reduce((sum: number, r: State) => sum + (typeof r.MaxAttempts === "number" ? r.MaxAttempts : DEFAULT_MAX_ATTEMPTS), 0);
}

/**
 * The most events one visit of a state writes: every attempt its retriers allow, failed, then the last one (a
 * Parallel's branches each at their own worst). An inline Map's iterations are not bounded by its definition:
 * refused, so the count never silently leaves them out.
 */
export function worstVisitEvents(name: string, state: State, loopRounds: (states: readonly string[]) => number): number {
    switch (state.Type) {
        case "Task":
            return 2 + maxAttempts(state) * attemptEvents(state);
        case "Parallel": {
            const branches = (state.Branches as Definition[]).reduce((sum, b) => sum + worstCaseHistory(b, loopRounds, false), 0);
            return 4 + branches;
        }
        case "Map":
            if (!isDistributedMap(state)) throw new Error(`state ${name}: an inline Map's iterations are in the parent history and their number is not bounded by the definition`);
            return 6 * maxAttempts(state);
        case "Fail":
            return 1;
        default:
            return 2;
    }
}

function successors(state: State): string[] {
    const next: string[] = [];
    if (typeof state.Next === "string") next.push(state.Next);
    if (typeof state.Default === "string") next.push(state.Default);
    for (const c of state.Choices ?? []) if (typeof c.Next === "string") next.push(c.Next);
    for (const c of state.Catch ?? []) if (typeof c.Next === "string") next.push(c.Next);
    return next;
}

/** Strongly connected components (Tarjan), each a list of state names. */
function components(def: Definition): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const out: string[][] = [];
    let counter = 0;
    const visit = (v: string) => {
        index.set(v, counter);
        low.set(v, counter);
        counter += 1;
        stack.push(v);
        onStack.add(v);
        for (const w of successors(def.States[v])) {
            if (!(w in def.States)) throw new Error(`state ${v} names an unknown next state ${w}`);
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) {
                low.set(v, Math.min(low.get(v)!, index.get(w)!));
            }
        }
        if (low.get(v) === index.get(v)) {
            const scc: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                scc.push(w);
            } while (w !== v);
            out.push(scc);
        }
    };
    for (const name of Object.keys(def.States)) if (!index.has(name)) visit(name);
    return out;
}

/**
 * An upper bound of the history events of one execution of `def`: the longest path from StartAt, every state at
 * its worst visit, every loop (a cycle of states) taken `loopRounds(itsStates)` times with each of its states
 * visited every round. `loopRounds` must know every loop: a definition with a loop it cannot bound is refused.
 */
export function worstCaseHistory(def: Definition, loopRounds: (states: readonly string[]) => number, execution = true): number {
    const sccs = components(def);
    const sccOf = new Map<string, number>();
    sccs.forEach((scc, i) => scc.forEach((s) => sccOf.set(s, i)));
    const cost = sccs.map((scc) => {
        const once = scc.reduce((sum, s) => sum + worstVisitEvents(s, def.States[s], loopRounds), 0);
        const looping = scc.length > 1 || successors(def.States[scc[0]]).includes(scc[0]);
        if (!looping) return once;
        const rounds = loopRounds(scc);
        if (!Number.isFinite(rounds) || rounds < 1) throw new Error(`no bound for the loop ${[...scc].sort().join(" -> ")}`);
        return rounds * once;
    });
    const memo = new Map<number, number>();
    const longest = (i: number): number => {
        const known = memo.get(i);
        if (known !== undefined) return known;
        let best = 0;
        for (const s of sccs[i]) {
            for (const n of successors(def.States[s])) {
                const j = sccOf.get(n)!;
                if (j !== i) best = Math.max(best, longest(j));
            }
        }
        const total = cost[i] + best;
        memo.set(i, total);
        return total;
    };
    return longest(sccOf.get(def.StartAt)!) + (execution ? 2 : 0);
}

/** One event of the drill's interpreter (aws-local-stepfunctions' `eventLogs`), as much of it as is counted. */
export interface InterpreterEvent {
    type: string;
    state?: { name: string; type: string };
    /** A Map iteration's or Parallel branch's state. */
    parentState?: { name: string; type: string };
}

/**
 * Counts the history events of one run from the interpreter's events, as Step Functions writes them (see the
 * header): the interpreter emits StateEntered / StateFailed / StateRetried / StateCaught / StateExited per state
 * and attempt, Map iterations and Parallel branches; Step Functions writes the events above for the same.
 */
export class HistoryCounter {
    private count = 0;
    private readonly states = new Map<string, State>();
    private readonly caught = new Set<string>();
    /**
     * States of a Distributed Map's item processor: each iteration is a child execution with its own history (Step
     * Functions developer guide, "Using Map state in Distributed mode"), not the parent's. The drill's interpreter
     * runs them inline; their events are not counted here.
     */
    private readonly childStates = new Set<string>();

    constructor(def: Definition) {
        const index = (d: Definition, child: boolean) => {
            for (const [name, state] of Object.entries(d.States)) {
                this.states.set(name, state);
                if (child) this.childStates.add(name);
                for (const b of state.Branches ?? []) index(b, child);
                if (state.ItemProcessor ?? state.Iterator) index(state.ItemProcessor ?? state.Iterator, child || isDistributedMap(state));
            }
        };
        index(def, false);
    }

    get events(): number {
        return this.count;
    }

    /** Adds an interpreter event; returns the running count. */
    add(e: InterpreterEvent): number {
        this.count += this.eventsOf(e);
        return this.count;
    }

    private eventsOf(e: InterpreterEvent): number {
        if (e.type.startsWith("Execution")) return 1;
        if (e.type.startsWith("ParallelBranch")) return 0;
        if (e.type.startsWith("MapIteration")) {
            const map = e.parentState?.name !== undefined ? this.states.get(e.parentState.name) : undefined;
            return map && isDistributedMap(map) ? 0 : 1;
        }
        const name = e.state?.name;
        if (name !== undefined && this.childStates.has(name)) return 0;
        const state = name !== undefined ? this.states.get(name) : undefined;
        if (name === undefined || state === undefined) throw new Error(`history: an event ${e.type} of an unknown state ${String(name)}`);
        const distributed = isDistributedMap(state);
        switch (e.type) {
            case "StateEntered":
                this.caught.delete(name);
                if (state.Type === "Task") return 1 + attemptEvents(state) - 1;
                if (state.Type === "Parallel" || state.Type === "Map") return 2 + (distributed ? 1 : 0);
                return 1;
            case "StateFailed":
                return state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map" ? 1 + (distributed ? 1 : 0) : 0;
            case "StateRetried":
                // A Task's next attempt: scheduled and started again. No Parallel or Map of the definition retries;
                // for one that did, its restart is counted as its Entered/Started pair (not documented per event).
                return state.Type === "Task" ? attemptEvents(state) - 1 : 2;
            case "StateCaught":
                this.caught.add(name);
                return 0;
            case "StateExited": {
                const wasCaught = this.caught.delete(name);
                if (state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map") return wasCaught ? 1 : 2 + (distributed ? 1 : 0);
                return 1;
            }
            default:
                throw new Error(`history: an interpreter event of unknown type ${e.type}`);
        }
    }
}
