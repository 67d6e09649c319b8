/**
 * A small EventBridge event-pattern matcher, written from the EventBridge docs and kept in test code so the
 * rule pattern can be checked against real events without AWS. Supported: exact string/number/boolean/null
 * values, `numeric` (>, >=, <, <=, = and two-sided ranges), `prefix`, `exists`, `anything-but` (a value, a list
 * of values, or `{prefix}`).
 *
 * Semantics followed:
 * - every field of the pattern must match; fields the pattern does not name are ignored;
 * - a field absent from the event matches nothing but `{"exists": false}` (also below an absent parent);
 * - an array in the event matches if any of its elements matches (for values and for nested objects);
 * - `numeric` only matches JSON numbers (the string "8" is not 8), `prefix` only strings;
 * - `exists: true` only matches leaves (not objects), as in EventBridge.
 * Anything else (an unknown filter, a malformed `numeric`) throws: the pattern under test must be well formed.
 */
import type { EventPattern, PatternMatcher } from "../../core/pattern";

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

const COMPARATORS: Record<string, (value: number, bound: number) => boolean> = {
    ">": (value, bound) => value > bound,
    ">=": (value, bound) => value >= bound,
    "<": (value, bound) => value < bound,
    "<=": (value, bound) => value <= bound,
    "=": (value, bound) => value === bound,
};

function numericMatches(conditions: readonly unknown[], value: unknown): boolean {
    if (conditions.length === 0 || conditions.length > 4 || conditions.length % 2 !== 0) {
        throw new Error(`malformed numeric filter ${JSON.stringify(conditions)}`);
    }
    const checks: Array<(value: number) => boolean> = [];
    for (let i = 0; i < conditions.length; i += 2) {
        const operator = conditions[i];
        const bound = conditions[i + 1];
        const compare = typeof operator === "string" ? COMPARATORS[operator] : undefined;
        if (compare === undefined || typeof bound !== "number") {
            throw new Error(`malformed numeric filter ${JSON.stringify(conditions)}`);
        }
        checks.push((v) => compare(v, bound));
    }
    return typeof value === "number" && Number.isFinite(value) && checks.every((check) => check(value));
}

function isLeaf(value: unknown): boolean {
    return !isObject(value) && !Array.isArray(value);
}

/** One matcher against one (non-array) event value. */
function leafMatches(matcher: PatternMatcher, value: unknown): boolean {
    if (matcher === null || typeof matcher !== "object") return value === matcher;
    const keys = Object.keys(matcher);
    if (keys.length !== 1) throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
    if ("numeric" in matcher) return numericMatches(matcher.numeric, value);
    if ("prefix" in matcher) return typeof value === "string" && value.startsWith(matcher.prefix);
    if ("exists" in matcher) return matcher.exists && isLeaf(value);
    if ("anything-but" in matcher) {
        const excluded = matcher["anything-but"];
        if (isObject(excluded)) {
            if (typeof excluded.prefix !== "string") throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
            return typeof value === "string" && !value.startsWith(excluded.prefix);
        }
        const values: readonly unknown[] = Array.isArray(excluded) ? excluded : [excluded];
        return isLeaf(value) && !values.includes(value);
    }
    throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
}

function fieldMatches(spec: EventPattern | readonly PatternMatcher[], present: boolean, value: unknown): boolean {
    if (!Array.isArray(spec)) {
        const nested = spec as EventPattern;
        if (!present) return matches(nested, undefined);
        if (Array.isArray(value)) return value.some((element) => isObject(element) && matches(nested, element));
        return isObject(value) && matches(nested, value);
    }
    const matchers = spec as readonly PatternMatcher[];
    if (!present) return matchers.some((m) => isObject(m) && "exists" in m && m.exists === false);
    const candidates: readonly unknown[] = Array.isArray(value) ? value : [value];
    return matchers.some((m) => candidates.some((candidate) => leafMatches(m, candidate)));
}

/** Whether EventBridge would deliver `event` to a rule with `pattern`. */
export function matches(pattern: EventPattern, event: unknown): boolean {
    return Object.entries(pattern).every(([key, spec]) => {
        const present = isObject(event) && Object.hasOwn(event, key);
        return fieldMatches(spec, present, present ? (event as JsonObject)[key] : undefined);
    });
}
