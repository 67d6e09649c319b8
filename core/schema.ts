/**
 * The generic pieces of the project's zod schemas, shared by the stack configuration (core/config.ts) and the
 * functions' events and settings (functions/lib/schemas.ts). A problem is one line naming where it is:
 * `<path> must be ..., got <value>`, or `<path> <sentence>` when the message says it all.
 */
// A namespace import with static member access only: esbuild keeps only the members used.
import * as z from "zod";

/** A string that matches `pattern`, or the problem `message`. */
export const matchingString = (pattern: RegExp, message: string) => z.string({ error: message }).regex(pattern, { error: message });

/** Adds a problem at `path` (relative to the refined schema) whose message says it all: no value is appended. */
export function sentence(ctx: z.RefinementCtx, path: PropertyKey[], message: string): void {
    ctx.addIssue({ code: "custom", path, message, params: { sentence: true } });
}

/** `a.b[0].c` of an issue path ("" for the value itself). */
export function pathText(path: readonly PropertyKey[]): string {
    let text = "";
    for (const key of path) text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
    return text;
}

/** The value at `path` of `input` (undefined where the path leaves it). */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
    let value = input;
    for (const key of path) {
        if (typeof value !== "object" || value === null) return undefined;
        value = (value as Record<PropertyKey, unknown>)[key];
    }
    return value;
}

/** Whether an issue's message says it all (a {@link sentence}): no value is appended. */
export const isSentence = (issue: z.core.$ZodIssue): boolean => issue.code === "custom" && Boolean((issue.params as { sentence?: boolean } | undefined)?.sentence);

/**
 * One line for an issue: `<where> <message>`, then `, got <got>` unless the message is a {@link sentence}. A message
 * that starts with ",", "[", "." or "=" continues the path ("x, when present, must be ...", "hub.region is ...").
 */
export function problemLine(where: string, issue: z.core.$ZodIssue, got: string): string {
    const text = where === "" || /^[,[.=]/.test(issue.message) ? `${where}${issue.message}` : `${where} ${issue.message}`;
    return isSentence(issue) ? text : `${text}, got ${got}`;
}

/** Compile-time check that a schema's output `T` is the contract type `U` it stands for. */
export type Assignable<T extends U, U> = T;

/**
 * Compile-time check that a schema declares every field of its contract type, optional ones included: a field it
 * leaves out is stripped from every value it parses (`Assignable` cannot see a missing optional field).
 */
export type Declares<T, U> = [Exclude<keyof U, keyof T>] extends [never] ? true : { missing: Exclude<keyof U, keyof T> };
