/** `npm run stacks` command line: `check|preview|up [--stack NAME ...] [--concurrency N] [--mock] [--json] [--yes]`. */
import { parseArgs } from "node:util";
import type { Command } from "./types";

export const DEFAULT_CONCURRENCY = 2;
export const MAX_CONCURRENCY = 32;
export const USAGE = "usage: stacks -- check|preview|up [--stack NAME ...] [--concurrency N] [--mock] [--json] [--yes]";

export interface StacksOptions {
    command: Command | "check";
    /** The `--stack` names in the order given (duplicates dropped); empty: every stack of the project. */
    stacks: string[];
    concurrency: number;
    mock: boolean;
    json: boolean;
    yes: boolean;
}

/** The options, or a one-line error (exit 2). */
export function parseStacksArgs(argv: readonly string[]): StacksOptions | string {
    let parsed;
    try {
        parsed = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string", multiple: true },
                concurrency: { type: "string" },
                mock: { type: "boolean" },
                json: { type: "boolean" },
                yes: { type: "boolean" },
            },
            strict: true,
            allowPositionals: true,
        });
    } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split(/\n|\. /)[0].replace(/\.$/, "");
        return `stacks: ${first.charAt(0).toLowerCase()}${first.slice(1)} (${USAGE})`;
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1 || !["check", "preview", "up"].includes(positionals[0])) {
        return `stacks: ${positionals.length === 0 ? "no command" : `bad command ${JSON.stringify(positionals.join(" "))}`} (${USAGE})`;
    }
    const command = positionals[0] as Command | "check";
    let concurrency = DEFAULT_CONCURRENCY;
    if (values.concurrency !== undefined) {
        concurrency = /^\d+$/.test(values.concurrency) ? Number(values.concurrency) : NaN;
        if (!(concurrency >= 1 && concurrency <= MAX_CONCURRENCY)) return `stacks: --concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(values.concurrency)}`;
    }
    const stacks = [...new Set(values.stack ?? [])];
    const bad = stacks.find((s) => !/^[A-Za-z0-9_.-]+$/.test(s));
    if (bad !== undefined) return `stacks: bad stack name ${JSON.stringify(bad)}`;
    if (values.mock && command === "up") return "stacks: --mock runs the program offline under mocks, which is a preview only: use preview --mock";
    return { command, stacks, concurrency, mock: values.mock === true, json: values.json === true, yes: values.yes === true };
}
