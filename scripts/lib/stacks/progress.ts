/**
 * The driver's progress display: a `cli-progress` multibar (one row per stack) when stderr is a TTY, otherwise one
 * line per stack event (started, finished with its counts, failed with the first line of its error). The text of
 * both comes from the pure functions here (tested without a TTY).
 */
import { MultiBar, Presets } from "cli-progress";
import type { ProgressDisplay, StackEvent, StackOutcome } from "./types";

/** "create 12, same 3" (operations in the engine's order of interest, zeros left out); "no changes" for none. */
export function changesText(changes: Record<string, number> | undefined): string {
    const order = ["create", "update", "replace", "delete", "same"];
    const entries = Object.entries(changes ?? {}).filter(([, n]) => n > 0);
    entries.sort(([a], [b]) => (order.indexOf(a) < 0 ? 99 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 99 : order.indexOf(b)) || a.localeCompare(b));
    return entries.length === 0 ? "no changes" : entries.map(([op, n]) => `${op} ${n}`).join(", ");
}

/** What a finished stack says: its counts, or its error. */
export function outcomeText(o: StackOutcome): string {
    if (o.result === "failed") return `FAILED after ${o.seconds.toFixed(1)} s: ${o.error ?? "unknown error"}`;
    const extra = [o.resources !== undefined ? `${o.resources} resources` : "", o.maxRssMiB !== undefined ? `peak RSS ${o.maxRssMiB} MiB` : ""].filter((s) => s !== "");
    return `succeeded in ${o.seconds.toFixed(1)} s: ${changesText(o.changes)}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
}

/** The line a non-TTY display writes for an event; null for events it does not write (progress within a stack). */
export function eventLine(e: StackEvent): string | null {
    if (e.kind === "started") return `stacks: ${e.stack} started`;
    if (e.kind === "finished") return `stacks: ${e.outcome.stack} ${outcomeText(e.outcome)}`;
    return null;
}

/** One line per stack event, to `write` (stderr when it is not a TTY). */
export function lineDisplay(write: (line: string) => void): ProgressDisplay {
    return {
        event(e) {
            const line = eventLine(e);
            if (line !== null) write(`${line}\n`);
        },
        done() {},
    };
}

/** A multibar row's payload for a stack in its current state. */
export interface RowPayload {
    stack: string;
    state: string;
    detail: string;
}

export const ROW_FORMAT = "{stack} | {state} | {value} resources | {duration_formatted} | {detail}";

/** The row of a stack after an event: state "waiting", "running", "succeeded" or "FAILED" and a detail. */
export function rowPayload(stack: string, width: number, e: StackEvent | undefined): RowPayload {
    const name = stack.padEnd(width);
    if (e === undefined) return { stack: name, state: "waiting  ", detail: "" };
    if (e.kind === "started") return { stack: name, state: "running  ", detail: "" };
    if (e.kind === "progress") return { stack: name, state: "running  ", detail: (e.status ?? "").slice(0, 60) };
    const o = e.outcome;
    return { stack: name, state: o.result === "failed" ? "FAILED   " : "succeeded", detail: o.result === "failed" ? (o.error ?? "").slice(0, 80) : changesText(o.changes) };
}

/** A multibar on `stream` (a TTY), one row per stack in the given order. */
export function multibarDisplay(stacks: readonly string[], stream: NodeJS.WriteStream): ProgressDisplay {
    const width = Math.max(...stacks.map((s) => s.length), 5);
    const multibar = new MultiBar({ format: ROW_FORMAT, stream, hideCursor: true, clearOnComplete: false, autopadding: true }, Presets.legacy);
    const bars = new Map(stacks.map((s) => [s, multibar.create(0, 0, rowPayload(s, width, undefined))]));
    return {
        event(e) {
            const stack = e.kind === "finished" ? e.outcome.stack : e.stack;
            const bar = bars.get(stack);
            if (!bar) return;
            const payload = rowPayload(stack, width, e);
            const value = e.kind === "progress" ? e.resources : e.kind === "finished" ? e.outcome.resources ?? Object.values(e.outcome.changes ?? {}).reduce((a, b) => a + b, 0) : undefined;
            // The clock of a row runs from its stack's start to its end.
            if (e.kind === "started") bar.start(0, 0, payload);
            if (value !== undefined && value > bar.getTotal()) bar.setTotal(value);
            if (value !== undefined) bar.update(value, payload);
            else bar.update(payload);
            if (e.kind === "finished") bar.stop();
        },
        done() {
            multibar.stop();
        },
    };
}
