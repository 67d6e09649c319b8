import { strict as assert } from "node:assert";
import { InvalidRequestError } from "../functions/lib/errors";
import { parseMemoryEvent } from "../functions/memory/memory";
import { parseMetadataEvent } from "../functions/metadata/metadata";
import { parseSealEvent } from "../functions/seal/seal";
import { parseSnapshotEvent } from "../functions/snapshot/snapshot";
import { pathText } from "../functions/lib/schemas";

const TARGET = { accountId: "111122223333", region: "eu-west-1", instanceId: "i-0123456789abcdef0" };
const INSTANCE = { instanceId: TARGET.instanceId, platform: "linux", state: "running" };
const EVIDENCE = { bucket: "dfir-evidence", prefix: "cases/c1/" };

/** The problems of the InvalidRequestError `parse` throws. */
function problems(parse: () => unknown): string[] {
    try {
        parse();
    } catch (error) {
        assert.ok(error instanceof InvalidRequestError, String(error));
        return [...error.problems];
    }
    assert.fail("parsed");
}

describe("event schemas (functions/lib/schemas.ts): one line per problem, naming its key", () => {
    it("writes paths as the events are written", () => {
        assert.equal(pathText([]), "event");
        assert.equal(pathText(["disk", "copy", "snapshots", 1, "volumeId"]), "disk.copy.snapshots[1].volumeId");
    });

    it("says an event that is no object is none, and names the actions a step takes", () => {
        assert.deepEqual(problems(() => parseMemoryEvent(null)), ["event must be an object, got null"]);
        assert.deepEqual(problems(() => parseSnapshotEvent({ action: "poke", caseId: "c1", target: TARGET })), [
            'action must be "start", "check", "copy-start" or "copy-check", got "poke"',
        ]);
    });

    it("reports every problem of an event at once, each with the value it got", () => {
        const found = problems(() => parseMemoryEvent({ action: "check", caseId: "c/1", target: { ...TARGET, region: 7 }, instance: INSTANCE, evidence: { bucket: "" }, memory: { status: "done" } }));
        assert.deepEqual(found, [
            "caseId must be 1-128 characters of letters, digits, '.', '_' or '-', got \"c/1\"",
            "target.region must be an AWS region, got number",
            'evidence.bucket must be a bucket name, got ""',
            'memory.status must be "started", got "done"',
            "memory.commandId must be a command id, got undefined",
            "memory.deadline must be an ISO time, got undefined",
        ]);
    });

    it("checks across fields: the instance record names the target's instance", () => {
        assert.deepEqual(problems(() => parseMetadataEvent({ caseId: "c1", target: TARGET, instance: { ...INSTANCE, instanceId: "i-0fedcba9876543210" }, evidence: EVIDENCE })), [
            'instance.instanceId "i-0fedcba9876543210" is not target.instanceId "i-0123456789abcdef0"',
        ]);
    });

    it("keeps what a step passes on and drops nothing it reads", () => {
        const parsed = parseMetadataEvent({ caseId: "c1", target: { ...TARGET, roleArn: null }, instance: { ...INSTANCE, tags: { Name: "web" } }, evidence: { bucket: "b" } });
        assert.deepEqual(parsed, { caseId: "c1", target: TARGET, instance: { ...INSTANCE, tags: { Name: "web" } }, evidence: { bucket: "b", prefix: "" } });
    });

    it("names the seal event's optional time as optional", () => {
        assert.deepEqual(problems(() => parseSealEvent({ state: { triage: { verdict: {} } }, executionArn: "arn:x", sealedAt: "soon" })), [
            'sealedAt, when present, must be an ISO time, got "soon"',
        ]);
    });
});
