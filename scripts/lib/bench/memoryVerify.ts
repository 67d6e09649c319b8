/**
 * Memory verification time at simulated image sizes: the memory function's own `verifyCapture` (the check step's
 * work once the capture command succeeded) against a simulated bucket holding an image of each size as its upload's
 * parts (capture.sh's part size for that much RAM, SHA-256 part checksums) and the sidecar the instance would write.
 * The verification reads the sidecar and the part checksums, never the image, so its time should not grow with the
 * image: the figure is wall time per verification and simulated GiB verified per second.
 *
 * The fixture's sidecar holds each part's real digest (computed from the parts' bytes, once per distinct Buffer:
 * drill/sim/digest.ts) and a placeholder for the whole-image sha256: the verification records that digest as the
 * instance's and never recomputes it (docs/limitations.md), so computing it here (minutes at 256 GiB) would time
 * sha256, not the verification. IAM evaluation is off: its cost is the simulator's, not the function's.
 */
import * as fs from "node:fs";
import { capturePartSize, partsSha256 } from "../../../core/memoryParts";
import { memoryObjectKeys } from "../../../core/ssmDocument";
import { SimulatedAccount } from "../../../drill/sim";
import { bufferDigest } from "../../../drill/sim/digest";
import { memoryImageParts } from "../../../drill/sim/memory";
import { client } from "../../../functions/lib/aws";
import { verifyCapture } from "../../../functions/memory/memory";
import { DEFAULT_FINDING } from "../fixtures";

const GIB = 1024 ** 3;
/** The sidecar's whole-image digest in this fixture: not computed (see the module comment). */
const WHOLE_IMAGE_NOT_HASHED = "0".repeat(64);

export interface MemoryVerifyRow {
    /** Simulated image size (GiB) and its parts. */
    gib: number;
    partSize: number;
    parts: number;
    /** GetObjectAttributes calls of one verification. */
    attributeCalls: number;
    /** Median wall time of one verification (seconds) and simulated GiB verified per second. */
    seconds: number;
    gibPerSecond: number;
}

export async function benchMemoryVerify(sizesGiB: readonly number[], repeats = 3): Promise<MemoryVerifyRow[]> {
    const finding = JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")) as unknown;
    const rows: MemoryVerifyRow[] = [];
    for (const gib of sizesGiB) {
        const bytes = Math.round(gib * GIB);
        const sim = SimulatedAccount.fromFinding(finding, { iam: false, memoryBytes: bytes });
        const caseId = `${sim.instanceId}-0123456789ab`;
        const keys = memoryObjectKeys(caseId, sim.instanceId);
        const bucket = sim.deployment.evidenceBucket;
        const partSize = capturePartSize(bytes);
        const parts = memoryImageParts(`bench:${gib}`, bytes, partSize);
        const digests = parts.map((part) => bufferDigest(part, "sha256").toString("hex"));
        sim.putMultipartObject(bucket, keys.image, parts);
        const sidecar = { sha256: WHOLE_IMAGE_NOT_HASHED, bytes, avmlSha256: "a".repeat(64), instanceId: sim.instanceId, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T01:00:00Z", partSize, partCount: parts.length, parts: digests };
        await sim.invoke("s3", "PutObject", { Bucket: bucket, Key: keys.sidecar, Body: JSON.stringify(sidecar), ContentType: "application/json" });
        sim.install();
        try {
            const event = { caseId, target: sim.target(), evidence: { bucket } };
            const times: number[] = [];
            let attributeCalls = 0;
            for (let i = 0; i < repeats; i++) {
                const before = sim.calls.length;
                const started = process.hrtime.bigint();
                const verified = await verifyCapture(client("s3", { region: sim.region }), event);
                times.push(Number(process.hrtime.bigint() - started) / 1e9);
                // A verification that did not verify this image is a broken measurement, not a time.
                if (verified.partCount !== parts.length || verified.partsSha256 !== partsSha256(digests) || verified.object.bytes !== bytes) {
                    throw new Error(`memory verification at ${gib} GiB returned ${JSON.stringify({ partCount: verified.partCount, bytes: verified.object.bytes })}`);
                }
                attributeCalls = sim.calls.slice(before).filter((c) => c.action === "s3:GetObjectAttributes").length;
            }
            const seconds = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
            rows.push({ gib, partSize, parts: parts.length, attributeCalls, seconds: Math.round(seconds * 10_000) / 10_000, gibPerSecond: Math.round(gib / seconds) });
        } finally {
            sim.uninstall();
        }
    }
    return rows;
}
