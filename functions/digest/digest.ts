/**
 * Disk content digests through the EBS direct APIs (core/diskDigest.ts defines the digest), in three steps of the
 * workflow after the seal (core/definition.ts):
 * - `plan`: each completed evidence snapshot's size (ListSnapshotBlocks' VolumeSize: the first page also proves the
 *   snapshot readable) and the Distributed Map's items, one per 8 GiB chunk;
 * - `chunk` (one Map item): the chunk's written blocks (ListSnapshotBlocks from the chunk's first block, NextToken
 *   followed while in range), each read with GetSnapshotBlock, a few at a time, its bytes checked against the API's
 *   own Checksum (base64 SHA-256), then the chunk digest;
 * - `record`: the chunk digests combined per snapshot and written as the case's digest record, under Object Lock
 *   COMPLIANCE, and recorded on the case (record.ts: the one place the record is written).
 * No helper volume, no instance: only a completed snapshot can be read ("The snapshot can be accessed only if it has
 * a completed status": EBS user guide, "Frequently asked questions for EBS direct APIs").
 */
import { GetSnapshotBlockCommand, ListSnapshotBlocksCommand, type EBSClient } from "@aws-sdk/client-ebs";
import { createHash } from "node:crypto";
import * as z from "zod";
import { BLOCK_BYTES, blocksOf, CHUNK_BLOCKS, chunkDigest, chunkRange, planItems, type ChunkResult, type DigestItem, type DigestTarget } from "../../core/diskDigest";
import { errorText, isRecord, parseStepEvent, STEP_BASE } from "../lib/evidence";
import { actionError, nonEmpty } from "../lib/schemas";
import { log } from "../lib/log";
import { sleep } from "../lib/clock";

const SNAPSHOT_ID = /^snap-[0-9a-f]+$/;
const snapshotId = () => z.string({ error: "must be a snapshot id" }).regex(SNAPSHOT_ID, { error: "must be a snapshot id" });
const count = (what: string) => z.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).min(0, { error: `must be ${what}` });

/** ListSnapshotBlocks' largest page (EBS direct APIs reference: MaxResults 100 to 10,000). */
export const LIST_PAGE = 10_000;
/** GetSnapshotBlock calls one invocation keeps in flight (functions/digest: the Map's MaxConcurrency times this stays within the quotas: docs/limitations.md). */
export const BLOCKS_IN_FLIGHT = 8;
/** Attempts per EBS call on throttling or a server fault (on top of the SDK's own retries). */
const BLOCK_ATTEMPTS = 4;

export const DigestEventSchema = z.discriminatedUnion(
    "action",
    [
        z.object({
            action: z.literal("plan"),
            ...STEP_BASE,
            disk: z.looseObject({ snapshots: z.array(z.looseObject({ snapshotId: snapshotId(), volumeId: nonEmpty(), state: nonEmpty() }, { error: "must be a snapshot record" }), { error: "must be a list" }) }, { error: "must be the disk evidence" }),
        }),
        z.object({ action: z.literal("chunk"), ...STEP_BASE, snapshotId: snapshotId(), chunk: count("a chunk index"), blocks: count("a block count").min(1, { error: "must be a block count" }) }),
    ],
    { error: actionError('"plan" or "chunk"') },
);
export type DigestEvent = z.infer<typeof DigestEventSchema>;
export type PlanEvent = Extract<DigestEvent, { action: "plan" }>;
export type ChunkEvent = Extract<DigestEvent, { action: "chunk" }>;

export function parseDigestEvent(input: unknown): DigestEvent {
    return parseStepEvent("digest", DigestEventSchema, input);
}

/** The plan: what is digested, and the Map's items. */
export interface DigestPlan {
    targets: DigestTarget[];
    items: DigestItem[];
    /** Evidence snapshots not digested (not completed), with why. */
    skipped: { snapshotId: string; reason: string }[];
}

/** Plan the digests of the disk evidence's completed snapshots (one ListSnapshotBlocks each, for VolumeSize). */
export async function planDigests(ebs: EBSClient, event: PlanEvent): Promise<DigestPlan> {
    const targets: DigestTarget[] = [];
    const skipped: DigestPlan["skipped"] = [];
    for (const s of event.disk.snapshots) {
        if (s.state !== "completed") {
            skipped.push({ snapshotId: s.snapshotId, reason: `state ${s.state} at the seal: only a completed snapshot can be read` });
            continue;
        }
        const page = await retried(() => ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: s.snapshotId, MaxResults: 100 })));
        const size = page.VolumeSize;
        if (page.BlockSize !== BLOCK_BYTES) throw new Error(`ListSnapshotBlocks of ${s.snapshotId} gave BlockSize ${page.BlockSize}, the digest's definition reads ${BLOCK_BYTES}-byte blocks`);
        if (typeof size !== "number") throw new Error(`ListSnapshotBlocks of ${s.snapshotId} gave no VolumeSize`);
        const blocks = blocksOf(size);
        targets.push({ snapshotId: s.snapshotId, volumeId: s.volumeId, volumeSizeGiB: size, blocks, chunks: Math.ceil(blocks / CHUNK_BLOCKS) });
    }
    const items = planItems(targets);
    log("INFO", "disk digests planned", { caseId: event.caseId, targets, items: items.length, skipped });
    return { targets, items, skipped };
}

/** Every written block of [first, end) with its token (ListSnapshotBlocks from `first`, pages followed while in range). */
export async function listChunkBlocks(ebs: EBSClient, snapshotIdValue: string, first: number, end: number): Promise<{ index: number; token: string }[]> {
    const out: { index: number; token: string }[] = [];
    let NextToken: string | undefined;
    for (;;) {
        const token = NextToken;
        const page = await retried(() => ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotIdValue, MaxResults: LIST_PAGE, ...(token ? { NextToken: token } : { StartingBlockIndex: first }) })));
        let past = false;
        for (const b of page.Blocks ?? []) {
            if (b.BlockIndex === undefined || b.BlockToken === undefined) continue;
            if (b.BlockIndex >= end) {
                past = true;
                break;
            }
            if (b.BlockIndex >= first) out.push({ index: b.BlockIndex, token: b.BlockToken });
        }
        NextToken = page.NextToken ?? undefined;
        if (past || !NextToken) return out;
    }
}

const RETRYABLE = ["RequestThrottledException", "InternalServerException", "ThrottlingException"];

/**
 * `call`, again on throttling or a server fault ("You should always retry requests that receive server (5xx) error
 * responses, and ThrottlingException and RequestThrottledException client error responses": EBS direct APIs
 * reference), up to {@link BLOCK_ATTEMPTS} times, beside the SDK's own retries: throttling waits 1 to 2 s (the quotas are
 * per second), a server fault backs off with full jitter.
 */
async function retried<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await call();
        } catch (error) {
            const name = (error as { name?: string }).name ?? "";
            if (attempt >= BLOCK_ATTEMPTS || !RETRYABLE.includes(name)) throw error;
            // A quota is per second: a throttled call waits at least into the next second, plus jitter (the
            // other chunks of the Map are throttled at the same moment); a server fault backs off exponentially.
            await sleep(name === "RequestThrottledException" || name === "ThrottlingException"
                ? 1000 + 1000 * Math.random()
                : Math.min(2000, 100 * 2 ** attempt) * Math.random());
        }
    }
}

async function readBlock(ebs: EBSClient, id: string, block: { index: number; token: string }): Promise<Buffer> {
    return retried(async () => {
        const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: block.index, BlockToken: block.token }));
        const body = out.BlockData as unknown as { transformToByteArray(): Promise<Uint8Array> } | undefined;
        if (!body) throw new Error(`GetSnapshotBlock ${id} block ${block.index}: no BlockData`);
        const bytes = Buffer.from(await body.transformToByteArray());
        const sha256 = createHash("sha256").update(bytes).digest();
        if (out.ChecksumAlgorithm !== "SHA256" || out.Checksum !== sha256.toString("base64")) {
            throw Object.assign(new Error(`block ${block.index} of ${id}: the bytes read hash to ${sha256.toString("base64")}, GetSnapshotBlock's ${out.ChecksumAlgorithm ?? "?"} checksum is ${out.Checksum ?? "missing"}`), { name: "BlockChecksumMismatch" });
        }
        if (out.DataLength !== undefined && out.DataLength !== bytes.length) throw new Error(`block ${block.index} of ${id}: ${bytes.length} bytes read, DataLength ${out.DataLength}`);
        if (bytes.length !== BLOCK_BYTES) throw new Error(`block ${block.index} of ${id}: ${bytes.length} bytes, a block has ${BLOCK_BYTES}`);
        return sha256;
    });
}

/**
 * One chunk's digest: its written blocks read (at most {@link BLOCKS_IN_FLIGHT} at a time) and checked, every other
 * block counted as never written. Returns the Map item's result; an error is thrown (the Map item catches it).
 * `logLine`: where its log line goes (the CLI, whose stdout is its report, passes none).
 */
export async function digestChunk(ebs: EBSClient, event: ChunkEvent, logLine: (message: string, data: Record<string, unknown>) => void = (m, d) => log("INFO", m, d)): Promise<ChunkResult> {
    const range = chunkRange(event.blocks, event.chunk);
    const listed = await listChunkBlocks(ebs, event.snapshotId, range.first, range.end);
    const digests = new Map<number, Uint8Array>();
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < listed.length) {
            const block = listed[next++] as { index: number; token: string };
            digests.set(block.index, await readBlock(ebs, event.snapshotId, block));
        }
    };
    await Promise.all(Array.from({ length: Math.min(BLOCKS_IN_FLIGHT, listed.length) }, worker));
    const digest = chunkDigest(range, digests).toString("hex");
    logLine("chunk digested", { caseId: event.caseId, snapshotId: event.snapshotId, chunk: event.chunk, written: listed.length, digest });
    return { snapshotId: event.snapshotId, chunk: event.chunk, digest, written: listed.length };
}

/** The Map results as they come back (a caught item: `{snapshotId, chunk, error: {Error, Cause}}`), as ChunkResults. */
export function chunkResultsOf(raw: unknown): ChunkResult[] {
    if (!Array.isArray(raw)) return [];
    return raw.filter(isRecord).map((r) => {
        const error = isRecord(r.error) ? `${String(r.error.Error ?? "Error")}: ${String(r.error.Cause ?? "")}` : typeof r.error === "string" ? r.error : undefined;
        return {
            snapshotId: String(r.snapshotId ?? ""),
            chunk: typeof r.chunk === "number" ? r.chunk : -1,
            ...(typeof r.digest === "string" ? { digest: r.digest } : {}),
            ...(typeof r.written === "number" ? { written: r.written } : {}),
            ...(error !== undefined ? { error } : {}),
        };
    });
}

export { errorText };
