import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { capturePartSize, partsSha256 } from "../core/memoryParts";
import { FUNCTION_LIMITS } from "../core/lambda";
import type { Manifest } from "../core/manifest";
import { installLambdaModel, runAsLambda } from "../drill/lambda";
import { runDrill, seedAccount, type DrillReport } from "../drill/run";
import { scenarioPlan } from "../drill/scenarios";
import { HUGE_MEMORY_BYTES, SimulatedAccount } from "../drill/sim";
import { memoryImageParts } from "../drill/sim/memory";
import { client } from "../functions/lib/aws";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

const MIB = 1024 * 1024;
const finding = (): unknown => JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8"));
const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe("drill: memory verification at any size (huge-memory)", function () {
    this.timeout(120_000);

    it("the scenario is a 256 GiB host", () => {
        assert.equal(scenarioPlan("huge-memory").sim.memoryBytes, 256 * 1024 ** 3);
        assert.equal(HUGE_MEMORY_BYTES, 256 * 1024 ** 3);
    });

    describe("at a smaller simulated size (200 MiB: patterned parts; 10 parts a GetObjectAttributes page)", () => {
        // A Lambda that hashes 1 MiB/s: the memory function's 300 s at its CPU share reads ~87 MiB, less than the
        // image. Re-hashing the image could not finish; the verification reads the sidecar and the part checksums.
        const memoryBytes = 200 * MIB;
        let sim: SimulatedAccount;
        let report: DrillReport;
        let manifest: Manifest;

        before(async () => {
            sim = seedAccount({ finding: finding(), scenario: "huge-memory", simOptions: { memoryBytes, pageSizes: { getObjectAttributesParts: 10 } } });
            report = await runDrill({ finding: finding(), scenario: "huge-memory", sim, lambda: { hashBytesPerSecond: MIB } });
            manifest = JSON.parse(sim.objectBody(report.evidence.manifest?.bucket ?? "", report.evidence.manifest?.key ?? "").toString("utf8")) as Manifest;
        });

        it("SUCCEEDED, the memory image captured, nothing denied", () => {
            assert.equal(report.status, "SUCCEEDED", report.reason);
            assert.ok(report.evidence.memory);
            assert.equal(manifest.evidence.memory.status, "captured");
            assert.deepEqual(report.iamDenied, []);
        });

        it("records the image's real sha256 and the part record S3's checksums confirm", () => {
            const memory = report.evidence.memory;
            assert.ok(memory);
            const body = sim.objectBody(memory.bucket, memory.key);
            const partSize = capturePartSize(memoryBytes);
            const parts: string[] = [];
            for (let offset = 0; offset < body.length; offset += partSize) parts.push(sha256(body.subarray(offset, offset + partSize)));

            assert.equal(sha256(body), memory.sha256, "the simulator's own record is the bytes' digest");
            assert.equal(manifest.evidence.memory.object?.sha256, memory.sha256);
            assert.equal(manifest.evidence.memory.hostSha256, memory.sha256);
            assert.equal(manifest.evidence.memory.object?.bytes, memoryBytes);
            assert.equal(manifest.evidence.memory.partSize, partSize);
            assert.equal(manifest.evidence.memory.partCount, 25);
            assert.equal(manifest.evidence.memory.partsSha256, partsSha256(parts));
        });

        it("verifies in one check call: 3 GetObjectAttributes pages and the sidecar, never the image", () => {
            const checks = report.executions[0].states.filter((s) => s.name === "CheckMemory");
            assert.equal(checks.length, 1);
            const image = report.evidence.memory?.key ?? "";
            const inputs = sim.calls.filter((c) => c.action === "s3:GetObjectAttributes").map((c) => c.input as { PartNumberMarker?: string; Key: string });
            assert.deepEqual(inputs.map((i) => i.PartNumberMarker), [undefined, "10", "20"]);
            assert.ok(inputs.every((i) => i.Key === image));
            const reads = sim.calls.filter((c) => c.action === "s3:GetObject").map((c) => (c.input as { Key: string }).Key);
            assert.ok(!reads.includes(image), `the image is never read: ${reads.join(", ")}`);
            assert.ok(reads.includes(`${image}.json`), "the sidecar is");
        });

        it("--state keeps the image as its few distinct parts (each shared Buffer saved once) and loads the same bytes back", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-huge-state-"));
            try {
                sim.saveState(dir);
                const memory = report.evidence.memory;
                assert.ok(memory);
                const files = fs.readdirSync(path.join(dir, "objects")).map((f) => fs.statSync(path.join(dir, "objects", f)).size);
                const imageFiles = files.filter((size) => size >= 8 * MIB);
                assert.ok(imageFiles.length <= 5, `25 parts of 8 MiB saved as ${imageFiles.length} files`);
                const loaded = SimulatedAccount.loadState(dir);
                assert.equal(sha256(loaded.objectBody(memory.bucket, memory.key)), memory.sha256);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    it("memory-hash-mismatch: S3 accepted every part, the part comparison refuses the image (PARTIAL, HashMismatchError on part 1)", async () => {
        const sim = seedAccount({ finding: finding(), scenario: "memory-hash-mismatch", simOptions: { memoryBytes: 20 * MIB } });
        const report = await runDrill({ finding: finding(), scenario: "memory-hash-mismatch", sim });

        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^memory missing: HashMismatchError: hash mismatch for s3:\/\/\S+\.lime\?versionId=\S+ part 1 of 3: host reported sha256 /);
        assert.deepEqual(report.iamDenied, []);
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest?.bucket ?? "", report.evidence.manifest?.key ?? "").toString("utf8")) as Manifest;
        const cause = JSON.stringify(manifest.evidence.memory.error);
        assert.match(cause, /part 1 of 3: host reported sha256 [0-9a-f]{64} \(8388608 bytes\), S3's part 1 has sha256 [0-9a-f]{64} \(8388608 bytes\)/);
        // The image S3 holds is the one uploaded, every part accepted: only the instance's digest of part 1 differs.
        const memory = report.evidence.memory;
        assert.ok(memory);
        const sidecar = JSON.parse(sim.objectBody(memory.bucket, `${memory.key}.json`).toString("utf8")) as { parts: string[] };
        const body = sim.objectBody(memory.bucket, memory.key);
        assert.notEqual(sidecar.parts[0], sha256(body.subarray(0, 8 * MIB)));
        assert.deepEqual(sidecar.parts.slice(1), [sha256(body.subarray(8 * MIB, 16 * MIB)), sha256(body.subarray(16 * MIB))]);
    });
});

describe("drill: each Lambda invocation is held to its deployed budget (drill/lambda.ts)", function () {
    this.timeout(120_000);
    let sim: SimulatedAccount | undefined;

    afterEach(() => {
        sim?.uninstall();
        sim = undefined;
    });

    /** A world whose image (built as the capture builds it) is `bytes` long, with the model at 1 MiB/s per core. */
    async function world(bytes: number): Promise<{ sim: SimulatedAccount; bucket: string; key: string }> {
        // IAM off: these tests are about the budget, not about who may read.
        const s = seedAccount({ finding: finding(), simOptions: { iam: false } });
        const bucket = s.deployment.evidenceBucket;
        const key = "cases/test/memory/i-0123456789abcdef0.lime";
        await s.invoke("s3", "PutObject", { Bucket: bucket, Key: key, Body: Buffer.concat(memoryImageParts("budget", bytes, 8 * MIB)) });
        installLambdaModel(s, { hashBytesPerSecond: MIB });
        s.install();
        return { sim: s, bucket, key };
    }

    async function readAll(bucket: string, key: string, region: string): Promise<number> {
        const out = await client("s3", { region }).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        let n = 0;
        for await (const chunk of out.Body as AsyncIterable<Uint8Array>) n += chunk.byteLength;
        return n;
    }

    it("reading more than the function could hash in its timeout ends Sandbox.Timedout, naming what it read", async () => {
        const w = await world(100 * MIB);
        sim = w.sim;
        const budget = FUNCTION_LIMITS.memory.timeoutSeconds * MIB * (FUNCTION_LIMITS.memory.memoryMb / 1769);

        await assert.rejects(
            sim.runAs(sim.functionRoleArn("memory"), () => runAsLambda(w.sim, "memory", "CheckMemory", () => readAll(w.bucket, w.key, w.sim.region))),
            (e: unknown) => {
                assert.equal((e as Error).name, "Sandbox.Timedout");
                assert.match((e as Error).message, /^CheckMemory: Task timed out after 300\.00 seconds \(drill: it read 0\.1 GB from S3 and was still reading; a 512 MB function hashes about 0\.0 GB\/s, 0\.1 GB in its 300 s\)$/);
                return true;
            },
        );
        assert.ok(budget < 100 * MIB);
    });

    it("a read within the budget runs as it would without the model", async () => {
        const w = await world(20 * MIB);
        sim = w.sim;

        const read = await sim.runAs(sim.functionRoleArn("memory"), () => runAsLambda(w.sim, "memory", "CheckMemory", () => readAll(w.bucket, w.key, w.sim.region)));

        assert.equal(read, 20 * MIB);
    });

    it("after the budget is spent, the invocation's later calls fail unapplied", async () => {
        const w = await world(100 * MIB);
        sim = w.sim;
        let later: unknown;

        await assert.rejects(
            sim.runAs(sim.functionRoleArn("memory"), () =>
                runAsLambda(w.sim, "memory", "CheckMemory", async () => {
                    await readAll(w.bucket, w.key, w.sim.region).catch(() => undefined);
                    later = await client("s3", { region: w.sim.region }).send(new GetObjectCommand({ Bucket: w.bucket, Key: w.key })).catch((e: Error) => e);
                }),
            ),
            /Sandbox.Timedout|Task timed out/,
        );
        assert.equal((later as Error).name, "DrillKilled");
    });
});
