/** The driver's end: the summary table (text) or one JSON object, and the exit code. Pure. */
import Table from "cli-table3";
import { changesText } from "./progress";
import type { Command, StackOutcome } from "./types";

export interface StacksSummary {
    command: Command;
    mock: boolean;
    concurrency: number;
    /** Wall seconds from the first stack started to the last finished. */
    seconds: number;
    stacks: StackOutcome[];
    failed: string[];
}

export function summarize(command: Command, mock: boolean, concurrency: number, seconds: number, stacks: StackOutcome[]): StacksSummary {
    return { command, mock, concurrency, seconds: round(seconds), stacks, failed: stacks.filter((s) => s.result === "failed").map((s) => s.stack) };
}

/** 0 when every stack succeeded, 1 when any failed. */
export function exitCodeOf(summary: StacksSummary): number {
    return summary.failed.length > 0 ? 1 : 0;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The table: one row per stack (result, changes or error, resources, seconds; peak RSS under mocks) and a total line. */
export function summaryTable(summary: StacksSummary): string {
    const mock = summary.mock;
    const head = ["stack", "result", mock ? "changes (no state: all creates)" : "changes", ...(mock ? ["resources", "peak RSS MiB", "CPU s"] : []), "seconds"];
    const table = new Table({ head, style: { head: [], border: [] } });
    for (const s of summary.stacks) {
        const what = s.result === "failed" ? (s.error ?? "").slice(0, 100) : changesText(s.changes);
        table.push([s.stack, s.result, what, ...(mock ? [s.resources ?? "", s.maxRssMiB ?? "", s.cpuSeconds ?? ""] : []), s.seconds.toFixed(1)]);
    }
    const ok = summary.stacks.length - summary.failed.length;
    const verb = summary.command === "up" ? "updated" : "previewed";
    const tail = `${summary.command}${mock ? " --mock" : ""}: ${ok} of ${summary.stacks.length} stack(s) ${verb}${summary.failed.length > 0 ? `, FAILED: ${summary.failed.join(", ")}` : ""}; ${summary.seconds} s wall, concurrency ${summary.concurrency}`;
    return `${table.toString()}\n${tail}\n`;
}
