import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { buildEventPattern, type EventPattern } from "../core/pattern";
import { DEFAULT_TRIAGE_OPTIONS, triage, type TriageOptions } from "../core/triage";
import { matches } from "./support/eventbridge-matcher";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const FIXTURES = GUARDDUTY_FIXTURES;
const FIXTURE_FILES = readdirSync(FIXTURES).filter((name) => name.endsWith(".json")).sort();
const FIXTURE_TEXT = new Map(FIXTURE_FILES.map((name) => [name, readFileSync(path.join(FIXTURES, name), "utf8")]));

function fixture(name: string): Record<string, unknown> {
    const text = FIXTURE_TEXT.get(name);
    assert.ok(text !== undefined, `no fixture ${name}`);
    return JSON.parse(text);
}

/** A bare finding as EventBridge would have delivered it; anything with envelope keys is left as is. */
function envelopeOf(event: unknown): unknown {
    const isBareObject =
        typeof event === "object" && event !== null && !Array.isArray(event) &&
        !["source", "detail-type", "detail"].some((key) => Object.hasOwn(event, key));
    if (!isBareObject) return event;
    const finding = event as Record<string, unknown>;
    return {
        version: "0",
        source: "aws.guardduty",
        "detail-type": "GuardDuty Finding",
        account: finding.accountId,
        region: finding.region,
        resources: [],
        detail: finding,
    };
}

/** A High-severity envelope on a real-looking instance; `detail` edits are applied to a fresh copy. */
function envelopeWith(edit: (detail: Record<string, any>) => void): Record<string, any> {
    const event: Record<string, any> = structuredClone(fixture("Trojan_EC2_DNSDataExfiltration.json"));
    edit(event.detail);
    return event;
}

describe("eventbridge-matcher (test support)", () => {
    it("matches exact strings, numbers, booleans and null, and nothing of another type", () => {
        const pattern: EventPattern = { a: ["x", "y"], n: [7], b: [true], z: [null] };
        assert.equal(matches(pattern, { a: "y", n: 7, b: true, z: null, extra: 1 }), true);
        assert.equal(matches(pattern, { a: "X", n: 7, b: true, z: null }), false);
        assert.equal(matches(pattern, { a: "x", n: "7", b: true, z: null }), false);
        assert.equal(matches(pattern, { a: "x", n: 7, b: "true", z: null }), false);
        assert.equal(matches(pattern, { a: "x", n: 7, b: true }), false, "a missing field matches no value");
    });

    it("numeric: every operator, two-sided ranges, and only JSON numbers", () => {
        const at = (filter: (string | number)[], value: unknown) => matches({ v: [{ numeric: filter as any }] }, { v: value });
        assert.deepEqual([6.9, 7, 10].map((v) => at([">=", 7], v)), [false, true, true]);
        assert.deepEqual([7, 7.1].map((v) => at([">", 7], v)), [false, true]);
        assert.deepEqual([6.9, 7].map((v) => at(["<", 7], v)), [true, false]);
        assert.deepEqual([7, 7.1].map((v) => at(["<=", 7], v)), [true, false]);
        assert.deepEqual([3, 3.5].map((v) => at(["=", 3], v)), [true, false]);
        assert.deepEqual([0, 0.1, 5, 5.1].map((v) => at([">", 0, "<=", 5], v)), [false, true, true, false]);
        assert.deepEqual(["8", null, true, [], {}].map((v) => at([">=", 7], v)), [false, false, false, false, false]);
        assert.equal(matches({ v: [{ numeric: [">=", 7] }] }, {}), false);
        assert.throws(() => at([">=", "7"], 8), /malformed numeric/);
        assert.throws(() => at(["~", 7], 8), /malformed numeric/);
    });

    it("prefix, exists and anything-but", () => {
        assert.equal(matches({ v: [{ prefix: "i-" }] }, { v: "i-0abc" }), true);
        assert.equal(matches({ v: [{ prefix: "i-" }] }, { v: "x-i-0abc" }), false);
        assert.equal(matches({ v: [{ prefix: "1" }] }, { v: 12 }), false, "prefix is for strings only");
        assert.equal(matches({ v: [{ exists: true }] }, { v: "" }), true);
        assert.equal(matches({ v: [{ exists: true }] }, {}), false);
        assert.equal(matches({ v: [{ exists: true }] }, { v: { w: 1 } }), false, "exists only matches leaves");
        assert.equal(matches({ v: [{ exists: false }] }, {}), true);
        assert.equal(matches({ v: [{ exists: false }] }, { v: null }), false);
        assert.equal(matches({ v: [{ "anything-but": "a" }] }, { v: "b" }), true);
        assert.equal(matches({ v: [{ "anything-but": "a" }] }, { v: "a" }), false);
        assert.equal(matches({ v: [{ "anything-but": ["a", "b"] }] }, { v: "b" }), false);
        assert.equal(matches({ v: [{ "anything-but": ["a", "b"] }] }, { v: "c" }), true);
        assert.equal(matches({ v: [{ "anything-but": { prefix: "aws." } }] }, { v: "aws.ec2" }), false);
        assert.equal(matches({ v: [{ "anything-but": { prefix: "aws." } }] }, { v: "custom.app" }), true);
        assert.equal(matches({ v: [{ "anything-but": "a" }] }, {}), false, "a missing field is not 'anything but'");
        assert.throws(() => matches({ v: [{ suffix: "x" } as any] }, { v: "x" }), /unsupported matcher/);
    });

    it("arrays in the event match if any element matches; nested objects must be present", () => {
        assert.equal(matches({ v: ["b"] }, { v: ["a", "b"] }), true);
        assert.equal(matches({ v: ["c"] }, { v: ["a", "b"] }), false);
        assert.equal(matches({ v: ["a"] }, { v: [] }), false);
        assert.equal(matches({ d: { r: { t: ["Instance"] } } }, { d: { r: { t: "Instance" } } }), true);
        assert.equal(matches({ d: { r: { t: ["Instance"] } } }, { d: [{ r: { t: "S3Bucket" } }, { r: { t: "Instance" } }] }), true);
        assert.equal(matches({ d: { r: { t: ["Instance"] } } }, { d: { r: "Instance" } }), false);
        assert.equal(matches({ d: { r: { t: ["Instance"] } } }, { d: {} }), false);
        assert.equal(matches({ d: { r: { t: [{ exists: false }] } } }, {}), true);
        assert.equal(matches({ a: ["x"] }, null), false);
        assert.equal(matches({ a: ["x"] }, ["x"]), false);
    });
});

describe("buildEventPattern", () => {
    it("is the documented rule pattern for the default options", () => {
        const pattern = buildEventPattern(DEFAULT_TRIAGE_OPTIONS);

        assert.equal(
            JSON.stringify(pattern),
            '{"source":["aws.guardduty"],"detail-type":["GuardDuty Finding"],' +
                '"detail":{"severity":[{"numeric":[">=",7]}],"resource":{"resourceType":["Instance"]}}}',
        );
    });

    it("bounds severity with one numeric >= minSeverity filter, never a list of values", () => {
        for (const minSeverity of [1, 4, 5, 7, 7.5, 10]) {
            const pattern = buildEventPattern({ minSeverity, allowSamples: false });

            const severity = (pattern.detail as EventPattern).severity;
            assert.deepEqual(severity, [{ numeric: [">=", minSeverity] }], `minSeverity ${minSeverity}`);
        }
    });

    it("matches Critical severities (9.5, 10) and fractional High ones, not 6.9", () => {
        const pattern = buildEventPattern(DEFAULT_TRIAGE_OPTIONS);
        const at = (severity: number) => matches(pattern, envelopeWith((d) => (d.severity = severity)));

        assert.deepEqual([6.9, 7, 7.1, 8.9, 9, 9.5, 10].map(at), [false, true, true, true, true, true, true]);
    });

    it("does not match a string severity or a non-Instance resource carrying instanceDetails", () => {
        const pattern = buildEventPattern(DEFAULT_TRIAGE_OPTIONS);

        assert.equal(matches(pattern, envelopeWith((d) => (d.severity = "8"))), false);
        assert.equal(matches(pattern, envelopeOf(fixture("Discovery_S3_MaliciousIPCaller.Custom.json"))), false);
    });

    it("rejects options the rule cannot express", () => {
        assert.throws(() => buildEventPattern({ minSeverity: 0, allowSamples: false }), /minSeverity/);
        assert.throws(() => buildEventPattern({ minSeverity: Number.NaN, allowSamples: false }), /minSeverity/);
    });
});

/** Reason codes that the rule pattern itself must reject; the other ignore codes belong to the workflow guard. */
const PATTERN_LEVEL_CODES = new Set(["not-an-object", "not-guardduty", "not-instance", "severity-not-a-number", "severity-below-minimum"]);
const GUARD_LEVEL_CODES = new Set(["invalid-instance-id", "sample-finding", "actionable"]);

function codeOf(reason: string): string {
    return reason.slice(0, reason.indexOf(":"));
}

/** Fixtures plus hand-made envelopes at every decision boundary, each built fresh. */
function equivalenceCases(): Array<[string, unknown]> {
    const cases: Array<[string, unknown]> = FIXTURE_FILES.map((name) => [name, fixture(name)]);
    cases.push(
        ["severity 9.5", envelopeWith((d) => (d.severity = 9.5))],
        ["severity 10", envelopeWith((d) => (d.severity = 10))],
        ["severity 6.9", envelopeWith((d) => (d.severity = 6.9))],
        ["severity 5", envelopeWith((d) => (d.severity = 5))],
        ["severity 4.9", envelopeWith((d) => (d.severity = 4.9))],
        ['severity "8"', envelopeWith((d) => (d.severity = "8"))],
        ["no severity", envelopeWith((d) => delete d.severity)],
        ["instance id i-123", envelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-123"))],
        ["no instanceDetails", envelopeWith((d) => delete d.resource.instanceDetails)],
        ["sample via value", envelopeWith((d) => (d.service.additionalInfo = { value: '{"sample":true}', type: "default" }))],
        ["resourceType S3Bucket", envelopeWith((d) => (d.resource.resourceType = "S3Bucket"))],
        ["source aws.ec2", { ...envelopeWith(() => undefined), source: "aws.ec2" }],
        ["null", null],
        ["array", []],
    );
    return cases;
}

for (const options of [DEFAULT_TRIAGE_OPTIONS, { minSeverity: 5, allowSamples: true }] as TriageOptions[]) {
    describe(`rule pattern + triage guard agree with triage() (${JSON.stringify(options)})`, () => {
        it("matches(pattern, envelope) && guard === respond: respond implies the rule delivered it", () => {
            const pattern = buildEventPattern(options);
            let responded = 0;
            let rejected = 0;

            for (const [name, event] of equivalenceCases()) {
                const matched = matches(pattern, envelopeOf(event));
                const respond = triage(event, options).decision === "respond";

                // The deployed guard is triage() itself, so rule + guard respond iff both say so.
                assert.equal(matched && respond, respond, `${name}: triage responds but the rule would not deliver it`);
                if (respond) responded++;
                if (!matched) rejected++;
            }
            assert.ok(responded >= 3 && rejected >= 10, `non-vacuous: ${responded} responded, ${rejected} rejected`);
        });

        it("the pattern rejects exactly the events triage ignores for rule-level reasons", () => {
            const pattern = buildEventPattern(options);

            for (const [name, event] of equivalenceCases()) {
                const matched = matches(pattern, envelopeOf(event));
                const code = codeOf(triage(event, options).reason);

                assert.ok(PATTERN_LEVEL_CODES.has(code) || GUARD_LEVEL_CODES.has(code), `${name}: unknown code ${code}`);
                assert.equal(matched, !PATTERN_LEVEL_CODES.has(code), `${name}: pattern ${matched ? "matches" : "rejects"} but triage says ${code}`);
            }
        });
    });
}

describe("where EventBridge is looser than triage, triage still ignores", () => {
    it("array-valued severity or resourceType match the pattern but are not responded to", () => {
        const pattern = buildEventPattern(DEFAULT_TRIAGE_OPTIONS);
        const arraySeverity = envelopeWith((d) => (d.severity = [8]));
        const arrayResourceType = envelopeWith((d) => (d.resource.resourceType = ["Instance"]));

        assert.equal(matches(pattern, arraySeverity), true);
        assert.equal(matches(pattern, arrayResourceType), true);
        assert.equal(triage(arraySeverity).decision, "ignore");
        assert.equal(triage(arrayResourceType).decision, "ignore");
    });
});
