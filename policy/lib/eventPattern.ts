/**
 * Which numbers an EventBridge event pattern admits at a field, as a union of intervals, so a rule can ask
 * "does this pattern match every GuardDuty severity from 7 to 10?" exactly, without sampling.
 *
 * Matchers (EventBridge content filtering): a number matches itself; strings, booleans and null match no
 * number; `numeric` with up to two comparisons (>, >=, <, <=, =) matches their intersection; `exists: true`
 * matches every number, `exists: false` none; `anything-but` with numbers matches every other number, with
 * strings or a string filter every number; `prefix`, `suffix`, `equals-ignore-case`, `wildcard` and `cidr`
 * match strings only. A field's list of matchers admits the union; `$or` branches are unions too; a nested
 * object where a number is expected admits nothing. A field the pattern does not name admits every number.
 */
import { isObject } from "./model";

/** A set of reals [lo, hi] with each end open or closed; lo may be -Infinity and hi Infinity (always open). */
export interface Interval {
    readonly lo: number;
    readonly hi: number;
    readonly loOpen: boolean;
    readonly hiOpen: boolean;
}

/** A union of intervals, or why the pattern cannot be evaluated. */
export type NumberSet = { readonly intervals: readonly Interval[] } | { readonly error: string };

export const ALL: readonly Interval[] = [{ lo: -Infinity, hi: Infinity, loOpen: true, hiOpen: true }];
export const NONE: readonly Interval[] = [];

const point = (n: number): Interval => ({ lo: n, hi: n, loOpen: false, hiOpen: false });

function isEmpty(i: Interval): boolean {
    return i.lo > i.hi || (i.lo === i.hi && (i.loOpen || i.hiOpen));
}

function intersectOne(a: Interval, b: Interval): Interval {
    const lo = Math.max(a.lo, b.lo);
    const hi = Math.min(a.hi, b.hi);
    const loOpen = (a.lo === lo && a.loOpen) || (b.lo === lo && b.loOpen);
    const hiOpen = (a.hi === hi && a.hiOpen) || (b.hi === hi && b.hiOpen);
    return { lo, hi, loOpen, hiOpen };
}

export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
    const out: Interval[] = [];
    for (const x of a) for (const y of b) {
        const i = intersectOne(x, y);
        if (!isEmpty(i)) out.push(i);
    }
    return out;
}

/** The parts of [lo, hi] (closed) that `set` does not cover, in order. */
export function gaps(set: readonly Interval[], lo: number, hi: number): Interval[] {
    const sorted = set.filter((i) => !isEmpty(i)).sort((a, b) => a.lo - b.lo || Number(a.loOpen) - Number(b.loOpen));
    const out: Interval[] = [];
    // Everything below `cursor` is covered; `cursorOpen` says whether `cursor` itself still needs covering (false)
    // or is covered already (true).
    let cursor = lo;
    let cursorOpen = false;
    for (const i of sorted) {
        if (i.hi < cursor || (i.hi === cursor && (i.hiOpen || cursorOpen))) continue;
        const startsAfter = i.lo > cursor || (i.lo === cursor && i.loOpen && !cursorOpen);
        if (startsAfter) {
            const gap: Interval = { lo: cursor, loOpen: cursorOpen, hi: Math.min(i.lo, hi), hiOpen: i.lo <= hi ? !i.loOpen : false };
            if (!isEmpty(gap)) out.push(gap);
        }
        if (i.hi > cursor || (i.hi === cursor && !i.hiOpen)) {
            cursor = i.hi;
            cursorOpen = !i.hiOpen;
        }
        if (cursor > hi || (cursor === hi && cursorOpen)) return out;
    }
    const tail: Interval = { lo: cursor, loOpen: cursorOpen, hi, hiOpen: false };
    if (!isEmpty(tail)) out.push(tail);
    return out;
}

/** "x = 10", "8.9 < x <= 10", "x > 7". */
export function describeInterval(i: Interval): string {
    if (i.lo === i.hi) return `x = ${i.lo}`;
    const lower = i.lo === -Infinity ? "" : `${i.lo} ${i.loOpen ? "<" : "<="} `;
    const upper = i.hi === Infinity ? "" : ` ${i.hiOpen ? "<" : "<="} ${i.hi}`;
    if (lower === "" && upper === "") return "every x";
    if (lower === "") return `x${upper}`;
    if (upper === "") return `x ${i.loOpen ? ">" : ">="} ${i.lo}`;
    return `${lower}x${upper}`;
}

const COMPARISONS = new Set([">", ">=", "<", "<=", "="]);

/** The interval of one `numeric` filter, e.g. [">=", 7, "<", 10]. */
export function numericInterval(conditions: unknown): Interval | { error: string } {
    const bad = { error: `malformed numeric filter ${JSON.stringify(conditions)}` };
    if (!Array.isArray(conditions) || conditions.length === 0 || conditions.length > 4 || conditions.length % 2 !== 0) return bad;
    let result: Interval = ALL[0];
    for (let k = 0; k < conditions.length; k += 2) {
        const op = conditions[k];
        const bound = conditions[k + 1];
        if (typeof op !== "string" || !COMPARISONS.has(op) || typeof bound !== "number" || !Number.isFinite(bound)) return bad;
        const half: Interval =
            op === ">" ? { lo: bound, hi: Infinity, loOpen: true, hiOpen: true }
                : op === ">=" ? { lo: bound, hi: Infinity, loOpen: false, hiOpen: true }
                    : op === "<" ? { lo: -Infinity, hi: bound, loOpen: true, hiOpen: true }
                        : op === "<=" ? { lo: -Infinity, hi: bound, loOpen: true, hiOpen: false }
                            : point(bound);
        result = intersectOne(result, half);
    }
    return result;
}

const STRING_ONLY_FILTERS = new Set(["prefix", "suffix", "equals-ignore-case", "wildcard", "cidr"]);

/** Numbers one matcher (an element of a pattern's value list) admits. */
export function matcherNumbers(matcher: unknown): NumberSet {
    if (typeof matcher === "number") return { intervals: Number.isFinite(matcher) ? [point(matcher)] : [] };
    if (matcher === null || typeof matcher === "string" || typeof matcher === "boolean") return { intervals: NONE };
    if (!isObject(matcher)) return { error: `unsupported matcher ${JSON.stringify(matcher)}` };
    const keys = Object.keys(matcher);
    if (keys.length !== 1) return { error: `unsupported matcher ${JSON.stringify(matcher)}` };
    const [filter] = keys;
    const value = matcher[filter];
    if (filter === "numeric") {
        const i = numericInterval(value);
        return "error" in i ? i : { intervals: isEmpty(i) ? [] : [i] };
    }
    if (filter === "exists") return { intervals: value === true ? ALL : NONE };
    if (STRING_ONLY_FILTERS.has(filter)) return { intervals: NONE };
    if (filter === "anything-but") {
        if (isObject(value)) return { intervals: ALL }; // {prefix} / {suffix} / ...: excludes strings only
        const excluded = (Array.isArray(value) ? value : [value]).filter((v): v is number => typeof v === "number").sort((a, b) => a - b);
        const out: Interval[] = [];
        let lo = -Infinity;
        for (const n of excluded) {
            if (n > lo || lo === -Infinity) out.push({ lo, hi: n, loOpen: true, hiOpen: true });
            lo = n;
        }
        out.push({ lo, hi: Infinity, loOpen: true, hiOpen: true });
        return { intervals: out.filter((i) => !isEmpty(i)) };
    }
    return { error: `unsupported matcher ${JSON.stringify(matcher)}` };
}

/** Numbers a field's value list admits (the union of its matchers). */
export function listNumbers(list: unknown): NumberSet {
    if (!Array.isArray(list)) {
        return isObject(list) ? { intervals: NONE } : { error: `a pattern value must be a list, got ${JSON.stringify(list)}` };
    }
    const intervals: Interval[] = [];
    for (const m of list) {
        const set = matcherNumbers(m);
        if ("error" in set) return set;
        intervals.push(...set.intervals);
    }
    return { intervals };
}

/** Numbers the pattern admits at `path` (e.g. ["detail", "severity"]), following `$or`. */
export function patternNumbers(pattern: unknown, path: readonly string[]): NumberSet {
    if (!isObject(pattern)) return { error: "the pattern is not a JSON object" };
    let result: readonly Interval[] = ALL;
    const [field, ...rest] = path;
    if (Object.prototype.hasOwnProperty.call(pattern, field)) {
        const value = pattern[field];
        const own = rest.length === 0 ? listNumbers(value) : isObject(value) ? patternNumbers(value, rest) : { intervals: NONE };
        if ("error" in own) return own;
        result = own.intervals;
    }
    if (Object.prototype.hasOwnProperty.call(pattern, "$or")) {
        const branches = pattern.$or;
        if (!Array.isArray(branches)) return { error: "$or must be a list of patterns" };
        const union: Interval[] = [];
        for (const branch of branches) {
            const set = patternNumbers(branch, path);
            if ("error" in set) return set;
            union.push(...set.intervals);
        }
        result = intersect(result, union);
    }
    return { intervals: result };
}

/** Whether a value list admits the string `value` (exact strings and prefix filters; used for source/detail-type). */
export function listAdmitsString(list: unknown, value: string): boolean {
    if (!Array.isArray(list)) return false;
    return list.some((m) => m === value || (isObject(m) && typeof m.prefix === "string" && value.startsWith(m.prefix)));
}
