/**
 * The content digest of an EBS snapshot (`aws-dfir-ebs-v1`): one definition for the digest Lambda (functions/digest),
 * `dfir verify --deep`, `dfir digest-image` (a `dd` image, no AWS), the simulator's tests and the benchmark.
 *
 * The EBS direct APIs read a completed snapshot in blocks of 524,288 bytes (ListSnapshotBlocks `BlockSize`; "A block
 * index is a logical index in units of 512 KiB blocks": EBS direct APIs reference, PutSnapshotBlock / GetSnapshotBlock),
 * and ListSnapshotBlocks lists only the blocks that were ever written ("It only returns the block indexes and block
 * tokens of the blocks that have data written": EBS user guide, "Frequently asked questions for EBS direct APIs"): a
 * volume made from the snapshot reads zeros there. So:
 *
 *   block digest  b(i) = SHA-256 of the 524,288 bytes of block i (a block never written: of 524,288 zero bytes;
 *                        GetSnapshotBlock's own `Checksum` is this value, base64, `ChecksumAlgorithm` SHA256)
 *   chunk digest  c(k) = SHA-256 of b(kC) ‖ b(kC+1) ‖ … ‖ b(min((k+1)C, N) − 1)   (raw 32-byte digests, in order)
 *   disk digest   D    = SHA-256 of c(0) ‖ c(1) ‖ … ‖ c(K − 1), hex
 *
 * with N = volume size in GiB × 2,048 blocks, C = {@link CHUNK_BLOCKS} (8 GiB) fixed by the definition, K = ⌈N / C⌉.
 * The chunks are computed in parallel (one Distributed Map item each) and combined in order; an analyst recomputes D
 * from a `dd` image of a volume made from the snapshot (the image's first N × 524,288 bytes) with `dfir digest-image`
 * or the few lines of Python in docs/analyst-guide.md. Pure: no I/O here.
 */
import { createHash } from "node:crypto";

/** The definition's name, recorded with every digest. */
export const DIGEST_DEFINITION = "aws-dfir-ebs-v1";
/** Bytes per block (ListSnapshotBlocks BlockSize). */
export const BLOCK_BYTES = 524_288;
/** Blocks per GiB of volume size. */
export const BLOCKS_PER_GIB = (1024 * 1024 * 1024) / BLOCK_BYTES;
/** Blocks per chunk: 16,384 blocks = 8 GiB, one Distributed Map item (functions/digest reads one chunk per invocation). */
export const CHUNK_BLOCKS = 16_384;
/**
 * The most chunks one case digests: the Map's results travel in the execution state (256 KiB a state: Step Functions
 * quotas, "Maximum input or output size for a task, state, or execution"), about 150 bytes each. 1,024 chunks are
 * 8 TiB of volumes per case; a larger case records the digest as not made (docs/limitations.md).
 */
export const MAX_CHUNKS = 1_024;

/** What the record says of the definition (an analyst's recipe, carried with the digests). */
export const DEFINITION_RECORD = {
    name: DIGEST_DEFINITION,
    blockBytes: BLOCK_BYTES,
    chunkBlocks: CHUNK_BLOCKS,
    blockDigest: "sha256 of the block's 524288 bytes; a block never written (not listed by ListSnapshotBlocks) is 524288 zero bytes",
    chunkDigest: "sha256 of the raw 32-byte block digests of blocks [k*chunkBlocks, min((k+1)*chunkBlocks, blocks)) in order",
    diskDigest: "sha256 (hex) of the raw 32-byte chunk digests in order; blocks = volumeSizeGiB * 2048",
} as const;

const zeroBlockDigest = createHash("sha256").update(Buffer.alloc(BLOCK_BYTES)).digest();

/** SHA-256 of a never-written block (524,288 zero bytes), raw. */
export function zeroBlockSha256(): Buffer {
    return Buffer.from(zeroBlockDigest);
}

/** Blocks of a volume of `volumeSizeGiB`. */
export function blocksOf(volumeSizeGiB: number): number {
    if (!Number.isInteger(volumeSizeGiB) || volumeSizeGiB < 1) throw new Error(`volume size must be a whole number of GiB >= 1, got ${volumeSizeGiB}`);
    return volumeSizeGiB * BLOCKS_PER_GIB;
}

/** One chunk: its index and its blocks [first, end). */
export interface ChunkRange {
    chunk: number;
    first: number;
    end: number;
}

/** The chunks of a volume of `blocks` blocks, in order. */
export function chunkRanges(blocks: number): ChunkRange[] {
    const out: ChunkRange[] = [];
    for (let chunk = 0; chunk * CHUNK_BLOCKS < blocks; chunk++) out.push(chunkRange(blocks, chunk));
    return out;
}

/** Chunk `chunk` of a volume of `blocks` blocks; a chunk the volume does not have is an error. */
export function chunkRange(blocks: number, chunk: number): ChunkRange {
    const first = chunk * CHUNK_BLOCKS;
    if (!Number.isInteger(chunk) || chunk < 0 || first >= blocks) throw new Error(`chunk ${chunk} is not a chunk of a volume of ${blocks} blocks`);
    return { chunk, first, end: Math.min(first + CHUNK_BLOCKS, blocks) };
}

/**
 * A chunk's digest from the digests of its written blocks (by block index, raw 32 bytes each): every other block of
 * the range counts as never written. A digest for a block outside the range is an error (it would be silently lost).
 */
export function chunkDigest(range: ChunkRange, written: ReadonlyMap<number, Uint8Array>): Buffer {
    for (const index of written.keys()) {
        if (index < range.first || index >= range.end) throw new Error(`block ${index} is not in chunk ${range.chunk} (blocks ${range.first}-${range.end - 1})`);
    }
    const hash = createHash("sha256");
    for (let i = range.first; i < range.end; i++) {
        const d = written.get(i);
        if (d !== undefined && d.length !== 32) throw new Error(`block ${i}: a sha256 digest has 32 bytes, got ${d.length}`);
        hash.update(d ?? zeroBlockDigest);
    }
    return hash.digest();
}

/** The disk digest (hex) from its chunk digests (hex, in chunk order). */
export function diskDigest(chunkDigestsHex: readonly string[]): string {
    const hash = createHash("sha256");
    for (const [k, hex] of chunkDigestsHex.entries()) {
        if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`chunk ${k}: not a hex sha256 digest: ${JSON.stringify(hex)}`);
        hash.update(Buffer.from(hex, "hex"));
    }
    return hash.digest("hex");
}

/** One snapshot to digest, as the plan step records it. */
export interface DigestTarget {
    snapshotId: string;
    volumeId: string;
    volumeSizeGiB: number;
    blocks: number;
    chunks: number;
}

/** One Distributed Map item: a chunk of a snapshot (its `blocks`, the volume's, bound the last chunk). */
export interface DigestItem {
    snapshotId: string;
    chunk: number;
    blocks: number;
}

/** The Map's items for `targets`, snapshot by snapshot, chunk by chunk; more than {@link MAX_CHUNKS} is an error naming the sizes. */
export function planItems(targets: readonly DigestTarget[]): DigestItem[] {
    const total = targets.reduce((n, t) => n + t.chunks, 0);
    if (total > MAX_CHUNKS) {
        throw new Error(`${total} chunks of ${CHUNK_BLOCKS * BLOCK_BYTES / 2 ** 30} GiB (${targets.map((t) => `${t.snapshotId} ${t.volumeSizeGiB} GiB`).join(", ")}) exceed the ${MAX_CHUNKS} one case digests`);
    }
    return targets.flatMap((t) => chunkRanges(t.blocks).map((r) => ({ snapshotId: t.snapshotId, chunk: r.chunk, blocks: t.blocks })));
}

/** A digested chunk (the Map item's result), or why it is not. */
export interface ChunkResult {
    snapshotId: string;
    chunk: number;
    /** Hex chunk digest. */
    digest?: string;
    /** Blocks ListSnapshotBlocks listed (written blocks) in the chunk. */
    written?: number;
    /** Why the chunk could not be digested (the item's caught error). */
    error?: string;
}

/** One snapshot in the digest record. */
export interface SnapshotDigest {
    snapshotId: string;
    volumeId: string;
    volumeSizeGiB: number;
    blocks: number;
    /** digested: every chunk read and combined; failed: `error` says which chunks were not. */
    status: "digested" | "failed";
    /** Hex disk digest (digested only). */
    digest?: string;
    /** Hex chunk digests in chunk order (what `verify --deep` names a changed chunk by); absent ones were not made. */
    chunkDigests: (string | null)[];
    /** Written blocks in all (listed by ListSnapshotBlocks). */
    writtenBlocks?: number;
    error?: string;
}

/** The digest record of a case (`cases/<caseId>/disk-digests-<execution>.json`). */
export interface DigestRecord {
    schemaVersion: 1;
    kind: "aws-dfir disk digests";
    caseId: string;
    executionArn: string;
    digestedAt: string;
    definition: typeof DEFINITION_RECORD;
    /** complete: every snapshot digested; partial: some; failed: none (or no plan). Never more than happened. */
    status: "complete" | "partial" | "failed";
    snapshots: SnapshotDigest[];
    /** Why nothing could be planned or read (the plan or the Map failed as a whole). */
    error?: string;
}

/**
 * Combine the Map's results into one record entry per planned snapshot: a snapshot is digested only when each of its
 * chunks has exactly one digest; a chunk missing, failed or reported twice fails it, named. Pure.
 */
export function combine(targets: readonly DigestTarget[], results: readonly ChunkResult[]): SnapshotDigest[] {
    return targets.map((t) => {
        const mine = results.filter((r) => r.snapshotId === t.snapshotId);
        const chunkDigests: (string | null)[] = [];
        const problems: string[] = [];
        let written = 0;
        for (let k = 0; k < t.chunks; k++) {
            const of = mine.filter((r) => r.chunk === k);
            const r = of[0];
            if (of.length > 1) problems.push(`chunk ${k} reported ${of.length} times`);
            if (!r) problems.push(`chunk ${k} has no result`);
            else if (r.error !== undefined || r.digest === undefined) problems.push(`chunk ${k}: ${r.error ?? "no digest"}`);
            const ok = of.length === 1 && r?.digest !== undefined && r.error === undefined && /^[0-9a-f]{64}$/.test(r.digest);
            if (of.length === 1 && r?.digest !== undefined && !ok && r.error === undefined) problems.push(`chunk ${k}: not a hex sha256 digest`);
            chunkDigests.push(ok ? (r?.digest as string) : null);
            written += ok ? r?.written ?? 0 : 0;
        }
        const stray = mine.filter((r) => !(Number.isInteger(r.chunk) && r.chunk >= 0 && r.chunk < t.chunks));
        if (stray.length > 0) problems.push(`results for chunks it does not have: ${stray.map((r) => r.chunk).join(", ")}`);
        const base = { snapshotId: t.snapshotId, volumeId: t.volumeId, volumeSizeGiB: t.volumeSizeGiB, blocks: t.blocks, chunkDigests };
        if (problems.length > 0) return { ...base, status: "failed", error: problems.join("; ") };
        return { ...base, status: "digested", digest: diskDigest(chunkDigests as string[]), writtenBlocks: written };
    });
}

/** The record's status from its snapshots: never more than happened. */
export function recordStatus(snapshots: readonly SnapshotDigest[]): DigestRecord["status"] {
    const digested = snapshots.filter((s) => s.status === "digested").length;
    if (snapshots.length > 0 && digested === snapshots.length) return "complete";
    return digested > 0 ? "partial" : "failed";
}

/** The record's S3 key (one per execution, like the manifest's). */
export function digestRecordKey(caseId: string, executionName: string): string {
    return `cases/${caseId}/disk-digests-${executionName}.json`;
}

/**
 * Incremental digest of an image (a `dd` of a volume made from the snapshot): feed its bytes in order, then
 * `finish()`. The image must be whole blocks (a volume is whole GiB); `volumeSizeGiB`, when given, takes that many
 * GiB (a volume made larger than the snapshot) and refuses a shorter image. Every block is hashed, zero or not: the
 * digest of a zero block is the sparse block's by definition.
 */
export class ImageDigester {
    private readonly chunks: string[] = [];
    private chunkHash = createHash("sha256");
    private blockHash = createHash("sha256");
    private inBlock = 0;
    private blocksInChunk = 0;
    private blocks = 0;
    private readonly limitBlocks?: number;

    constructor(volumeSizeGiB?: number) {
        if (volumeSizeGiB !== undefined) this.limitBlocks = blocksOf(volumeSizeGiB);
    }

    update(data: Uint8Array): void {
        let at = 0;
        while (at < data.length) {
            if (this.limitBlocks !== undefined && this.blocks >= this.limitBlocks) return;
            const take = Math.min(BLOCK_BYTES - this.inBlock, data.length - at);
            this.blockHash.update(data.subarray(at, at + take));
            this.inBlock += take;
            at += take;
            if (this.inBlock === BLOCK_BYTES) this.endBlock();
        }
    }

    private endBlock(): void {
        this.chunkHash.update(this.blockHash.digest());
        this.blockHash = createHash("sha256");
        this.inBlock = 0;
        this.blocks += 1;
        this.blocksInChunk += 1;
        if (this.blocksInChunk === CHUNK_BLOCKS) this.endChunk();
    }

    private endChunk(): void {
        this.chunks.push(this.chunkHash.digest("hex"));
        this.chunkHash = createHash("sha256");
        this.blocksInChunk = 0;
    }

    /** The disk digest, its chunk digests and block count; an image that is not whole GiB (or shorter than asked) is an error. */
    finish(): { digest: string; chunkDigests: string[]; blocks: number; volumeSizeGiB: number } {
        if (this.inBlock !== 0) throw new Error(`the image ends inside a block (${this.blocks} whole blocks of ${BLOCK_BYTES} bytes and ${this.inBlock} bytes): not a volume image`);
        if (this.limitBlocks !== undefined && this.blocks < this.limitBlocks) throw new Error(`the image has ${this.blocks} blocks, the volume ${this.limitBlocks}`);
        if (this.blocks === 0 || this.blocks % BLOCKS_PER_GIB !== 0) throw new Error(`the image is ${this.blocks} blocks of ${BLOCK_BYTES} bytes: not a whole number of GiB (give --size GiB to digest the first GiB of it)`);
        if (this.blocksInChunk > 0) this.endChunk();
        return { digest: diskDigest(this.chunks), chunkDigests: [...this.chunks], blocks: this.blocks, volumeSizeGiB: this.blocks / BLOCKS_PER_GIB };
    }
}
