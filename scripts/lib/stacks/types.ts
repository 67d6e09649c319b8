/** What the stacks driver (`npm run stacks`, scripts/stacks.ts) hands around: stacks, their runs, their events. */
import type { DfirConfig } from "../../../core/config";

/** What runs on each stack (`check` runs nothing: the configs and the checks across them only). */
export type Command = "preview" | "up";

/** One stack of the project: its `Pulumi.<name>.yaml`, its config as Pulumi hands it over, the parsed `dfir:` keys. */
export interface StackSpec {
    name: string;
    file: string;
    /** `namespace:key` -> value as the CLI hands it to the program (strings; objects and lists as JSON text). */
    config: Record<string, string>;
    dfir: DfirConfig;
}

/** What a successful run reports. */
export interface RunReport {
    /** Resource operations by kind (`create`, `same`, `update`, ...), from the engine's summary (real mode); under
     *  mocks there is no state, so every registered resource is a `create`. */
    changes: Record<string, number>;
    /** Resources the program registered (mock mode). */
    resources?: number;
    /** The child's peak resident set, MiB (mock mode). */
    maxRssMiB?: number;
    /** The child's user + system CPU seconds (mock mode). */
    cpuSeconds?: number;
}

/** How a run tells the display it is moving: resources seen so far, and a short status text. */
export type ProgressFn = (update: { resources?: number; status?: string }) => void;

/** Runs one stack's preview or update; throws an Error whose first line says why it failed. */
export interface StackRunner {
    run(stack: StackSpec, command: Command, progress: ProgressFn): Promise<RunReport>;
}

/** One stack's result in the summary. */
export interface StackOutcome extends Partial<RunReport> {
    stack: string;
    result: "succeeded" | "failed";
    seconds: number;
    /** The first line of the failure (failed only). */
    error?: string;
}

export type StackEvent =
    | { kind: "started"; stack: string }
    | { kind: "progress"; stack: string; resources?: number; status?: string }
    | { kind: "finished"; outcome: StackOutcome };

/** The display: told every event; `done` once every stack has finished. */
export interface ProgressDisplay {
    event(e: StackEvent): void;
    done(): void;
}

/** The first non-empty line of an error or text, trimmed. */
export function firstLine(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "unknown error";
}
