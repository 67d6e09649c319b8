/**
 * Disk content digests at simulated sizes (8, 100, 1,000 GiB): the digest function's own chunk reading
 * (functions/digest `digestChunk`: ListSnapshotBlocks, GetSnapshotBlock per written block, its checksum checked, the
 * chunk digest) against the simulator's EBS direct APIs over real block bytes, every chunk of one snapshot of each
 * size, then the chunks combined (core/diskDigest.ts). The disks are sparse as the simulator seeds them: one block in
 * `writtenEvery` written (block 0 always), so the work grows with the written blocks and the per-block time should
 * stay flat whatever the size.
 *
 * Two figures per size: `measured` (this machine, in process: generating, checking and hashing each block; no network)
 * and `modelled` (the time the Distributed Map would take in AWS for a FULLY written disk of that size, at the EBS
 * direct APIs quotas as docs/limitations.md records them: GetSnapshotBlock 1,000 requests/s per snapshot, 5,000 per
 * account; ListSnapshotBlocks 50/s per account; with the Map's 10 children × 8 reads in flight and an assumed 100 ms a
 * read, 800 reads/s, under the per-snapshot quota). The model is a statement of those numbers, not a measurement of AWS.
 * IAM evaluation is off: its cost is the simulator's, not the function's.
 */
import * as fs from "node:fs";
import { BLOCKS_PER_GIB, CHUNK_BLOCKS, chunkRanges, diskDigest } from "../../../core/diskDigest";
import { DIGEST_MAX_CONCURRENCY } from "../../../core/definition";
import { SimulatedAccount } from "../../../drill/sim";
import { EBS_QUOTAS } from "../../../drill/sim/services/ebs";
import { client } from "../../../functions/lib/aws";
import { BLOCKS_IN_FLIGHT, digestChunk, LIST_PAGE } from "../../../functions/digest/digest";
import { DEFAULT_FINDING } from "../fixtures";

/** The read latency the model assumes (seconds): not published by AWS. */
export const ASSUMED_READ_SECONDS = 0.1;

export interface DiskDigestRow {
    gib: number;
    blocks: number;
    chunks: number;
    writtenBlocks: number;
    listCalls: number;
    getCalls: number;
    /** Measured wall time of the whole digest (seconds), per written block (ms) and per GiB of volume (seconds). */
    seconds: number;
    msPerWrittenBlock: number;
    secondsPerGiB: number;
    /** Modelled for a fully written disk of this size at the quotas (see the module comment). */
    modelled: { readsPerSecond: number; seconds: number; secondsPerGiB: number; msPerBlock: number };
}

/** The model: reads at the Map's in-flight count over the assumed latency, capped by the per-snapshot and account quotas. */
export function modelledDigest(gib: number): DiskDigestRow["modelled"] {
    const blocks = gib * BLOCKS_PER_GIB;
    const readsPerSecond = Math.min((DIGEST_MAX_CONCURRENCY * BLOCKS_IN_FLIGHT) / ASSUMED_READ_SECONDS, EBS_QUOTAS.getSnapshotBlockPerSnapshot, EBS_QUOTAS.getSnapshotBlockPerAccount);
    const lists = chunkRanges(blocks).length * Math.ceil(CHUNK_BLOCKS / LIST_PAGE);
    const seconds = Math.max(blocks / readsPerSecond, lists / EBS_QUOTAS.listSnapshotBlocksPerAccount);
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return { readsPerSecond, seconds: round(seconds), secondsPerGiB: round(seconds / gib), msPerBlock: round((seconds / blocks) * 1000) };
}

export async function benchDiskDigest(sizesGiB: readonly number[], writtenEvery = 2048): Promise<DiskDigestRow[]> {
    const finding = JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")) as unknown;
    const rows: DiskDigestRow[] = [];
    for (const gib of sizesGiB) {
        const sim = SimulatedAccount.fromFinding(finding, { iam: false });
        sim.install();
        try {
            const made = await sim.invoke("ec2", "CreateSnapshots", { InstanceSpecification: { InstanceId: sim.instanceId } }, { accountId: sim.instanceAccountId, region: sim.region });
            const snapshotId = (made.Snapshots as { SnapshotId: string }[])[0]?.SnapshotId as string;
            sim.setSnapshotDisk(snapshotId, { volumeSizeGiB: gib, seed: `bench:${gib}`, writtenEvery });
            const ebs = client("ebs", { region: sim.region });
            const target = { accountId: sim.instanceAccountId, region: sim.region, instanceId: sim.instanceId };
            const blocks = gib * BLOCKS_PER_GIB;
            const from = sim.calls.length;
            const started = process.hrtime.bigint();
            const results = [];
            for (const range of chunkRanges(blocks)) {
                results.push(await digestChunk(ebs, { action: "chunk", caseId: "bench", target, snapshotId, chunk: range.chunk, blocks }, () => undefined));
            }
            const digest = diskDigest(results.map((r) => r.digest as string));
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            if (!/^[0-9a-f]{64}$/.test(digest)) throw new Error(`no digest at ${gib} GiB`);
            const calls = sim.calls.slice(from);
            const written = results.reduce((n, r) => n + (r.written ?? 0), 0);
            const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
            rows.push({
                gib,
                blocks,
                chunks: results.length,
                writtenBlocks: written,
                listCalls: calls.filter((c) => c.action === "ebs:ListSnapshotBlocks").length,
                getCalls: calls.filter((c) => c.action === "ebs:GetSnapshotBlock").length,
                seconds: round(seconds),
                msPerWrittenBlock: round((seconds / Math.max(1, written)) * 1000),
                secondsPerGiB: round(seconds / gib, 4),
                modelled: modelledDigest(gib),
            });
        } finally {
            sim.uninstall();
        }
    }
    return rows;
}
