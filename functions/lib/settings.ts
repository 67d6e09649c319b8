/**
 * The functions' settings from their environment, declared as zod schemas keyed by variable name and read on every
 * invocation (the drill hosts several configurations in one process). A bad value fails the request with a
 * {@link ConfigurationError} naming the variable: the first problem, in the order the schema lists the variables.
 * An unset and a blank variable are the same: absent.
 */
import * as z from "zod";
import { ConfigurationError } from "./errors";

/** A variable's value, or undefined when it is unset or blank. */
const present = (value: unknown): unknown => (typeof value === "string" && value.trim() === "" ? undefined : value);

/** A variable read as `schema` after an unset or blank value is made absent. */
export const variable = <T extends z.ZodType>(schema: T) => z.preprocess(present, schema);

/** A string matching `pattern`: `is not <what>: "<value>"`. */
const text = (pattern: RegExp, what: string, error: string) =>
    z.string({ error }).regex(pattern, { error: (issue) => `is not ${what}: ${JSON.stringify(issue.input)}` });

/** A variable that must be set and match `pattern`: else `is not set; expected <what>`, or `is not <what>: "<value>"`. */
export const required = (pattern: RegExp, what: string) => variable(text(pattern, what, `is not set; expected ${what}`));

/** A variable that, when set, matches `pattern`. */
export const optional = (pattern: RegExp, what: string) => variable(text(pattern, what, `is not ${what}`).optional());

/** Any value, when set. */
export const anyValue = () => variable(z.string().optional());

/** A whole number of seconds or days, or `fallback` when unset. */
export const positiveInteger = (fallback: number) =>
    variable(
        z
            .string()
            .refine((raw) => Number.isSafeInteger(Number(raw)) && Number(raw) > 0, { error: (issue) => `must be a positive whole number, got ${JSON.stringify(issue.input)}` })
            .transform(Number)
            .default(fallback),
    );

/** Reads `env` with `schema`; the first problem is a {@link ConfigurationError} naming its variable. */
export function fromEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
    const result = schema.safeParse(env);
    if (result.success) return result.data;
    const [issue] = result.error.issues;
    const cause = issue.code === "custom" ? (issue.params as { cause?: unknown } | undefined)?.cause : undefined;
    throw new ConfigurationError(String(issue.path[0]), issue.message, cause === undefined ? undefined : { cause });
}

/** `settings` without its undefined fields (an unset optional variable leaves its setting absent). */
export function defined<T extends object>(settings: T): T {
    return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as T;
}
