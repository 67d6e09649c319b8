import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parseFinding } from "../core/finding";
import { INSTANCE_ID_PATTERN, triage, type TriageDecision } from "../core/triage";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

/**
 * Property-based hardening of the finding parser and triage (fast-check): 10,000 arbitrary values and mutated real
 * events never throw, never "respond" without a valid instance id, and decide the same whatever the key order.
 * Seeds are fixed so a failure reproduces; fast-check prints the shrunk counterexample.
 */
const FIXTURES = GUARDDUTY_FIXTURES;
const EVENTS: unknown[] = readdirSync(FIXTURES).filter((n) => n.endsWith(".json")).sort()
    .map((n) => JSON.parse(readFileSync(path.join(FIXTURES, n), "utf8")));

/** The invariants every decision keeps, whatever the input. */
function checkDecision(event: unknown, options: { minSeverity?: number; allowSamples?: boolean } = {}): TriageDecision {
    const parsed = parseFinding(event);
    assert.equal(typeof parsed.ok, "boolean");
    const decision = triage(event, options);
    assert.ok(decision.decision === "respond" || decision.decision === "ignore");
    assert.equal(typeof decision.reason, "string");
    assert.ok(!decision.reason.includes("\n"), "one-line reason");
    if (decision.decision === "respond") {
        assert.ok(typeof decision.instanceId === "string" && INSTANCE_ID_PATTERN.test(decision.instanceId), `respond without a valid instance id: ${JSON.stringify(decision)}`);
        assert.ok(typeof decision.severity === "number" && decision.severity >= (options.minSeverity ?? 7));
    }
    return decision;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path (list of keys / indexes) to a value inside `value`. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
    const out: (string | number)[][] = [prefix];
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
    return out;
}

/** A copy of `value` with the value at `at` replaced (or deleted when `replacement` is undefined). */
function mutate(value: Json, at: (string | number)[], replacement: Json | undefined): Json {
    if (at.length === 0) return replacement === undefined ? null : replacement;
    const copy = structuredClone(value) as Record<string | number, Json>;
    let node = copy;
    for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, Json>;
    const last = at[at.length - 1];
    if (replacement === undefined) {
        if (Array.isArray(node)) node.splice(last as number, 1);
        else delete node[last];
    } else node[last] = replacement;
    return copy as Json;
}

/** The same value with every object's keys in another order (seeded). */
function reorder(value: Json, rand: () => number): Json {
    if (Array.isArray(value)) return value.map((v) => reorder(v, rand));
    if (value === null || typeof value !== "object") return value;
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [keys[i], keys[j]] = [keys[j], keys[i]];
    }
    return Object.fromEntries(keys.map((k) => [k, reorder(value[k], rand)]));
}

describe("finding parser and triage under property-based tests (fast-check)", function () {
    this.timeout(120_000);

    it("never throw on 4,000 arbitrary JSON values, and never respond to them without a valid instance id", () => {
        fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
            checkDecision(value);
            checkDecision(value, { minSeverity: 1, allowSamples: true });
        }), { numRuns: 4_000, seed: 20261123 });
    });

    it("never throw on 4,000 mutated real events (a value replaced, a key deleted, a type changed anywhere)", () => {
        const event = fc.constantFrom(...(EVENTS as Json[]));
        const mutation = event.chain((e) => {
            const all = paths(e);
            return fc.tuple(fc.constant(e), fc.constantFrom(...all), fc.option(fc.oneof(
                fc.jsonValue({ maxDepth: 2 }),
                fc.constantFrom<Json>("i-0123456789abcdef0", "i-123", "", "Instance", 7, 8.9, -1, 1e309 as never, "NaN", null, [], {}),
            ), { nil: undefined }));
        });
        fc.assert(fc.property(mutation, ([e, at, replacement]) => {
            checkDecision(mutate(e, at, replacement as Json | undefined));
        }), { numRuns: 4_000, seed: 7 });
    });

    it("decide the same for 2,000 events whatever the order of their keys (mutated and real)", () => {
        const event = fc.constantFrom(...(EVENTS as Json[])).chain((e) =>
            fc.tuple(fc.constantFrom(...paths(e)), fc.jsonValue({ maxDepth: 1 })).map(([at, v]) => (at.length > 0 ? mutate(e, at, v as Json) : e)));
        fc.assert(fc.property(event, fc.integer(), (e, seed) => {
            let state = seed >>> 0 || 1;
            const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
            assert.deepEqual(checkDecision(reorder(e, rand)), checkDecision(e));
        }), { numRuns: 2_000, seed: 42 });
    });

    it("respond to exactly the real events the example triage expects (the properties run against the real decisions)", () => {
        const respond = EVENTS.filter((e) => checkDecision(e).decision === "respond");
        assert.equal(respond.length, 3);
    });
});
