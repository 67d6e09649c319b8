/**
 * The driver proper: every stack through a runner (the Automation API, or the program under mocks), at most
 * `concurrency` at once; a stack that fails is reported and the others go on. The display hears every event.
 */
import { runPool } from "./pool";
import { round, summarize, type StacksSummary } from "./summary";
import { firstLine, type Command, type ProgressDisplay, type StackOutcome, type StackRunner, type StackSpec } from "./types";

export interface DriveOptions {
    command: Command;
    stacks: readonly StackSpec[];
    concurrency: number;
    runner: StackRunner;
    display: ProgressDisplay;
    mock: boolean;
}

export async function driveStacks(o: DriveOptions): Promise<StacksSummary> {
    const started = process.hrtime.bigint();
    const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;
    const outcomes = await runPool(o.stacks, o.concurrency, async (stack): Promise<StackOutcome> => {
        const t = process.hrtime.bigint();
        o.display.event({ kind: "started", stack: stack.name });
        let outcome: StackOutcome;
        try {
            const report = await o.runner.run(stack, o.command, (update) => o.display.event({ kind: "progress", stack: stack.name, ...update }));
            outcome = { stack: stack.name, result: "succeeded", ...report, seconds: round(seconds(t)) };
        } catch (error) {
            outcome = { stack: stack.name, result: "failed", error: firstLine(error), seconds: round(seconds(t)) };
        }
        o.display.event({ kind: "finished", outcome });
        return outcome;
    });
    o.display.done();
    return summarize(o.command, o.mock, o.concurrency, seconds(started), outcomes);
}
