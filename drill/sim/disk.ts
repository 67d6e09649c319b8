/**
 * The bytes of simulated EBS snapshots, held compactly: a snapshot's content is a seed (its volume's), the share of
 * blocks ever written, and byte patches (the test hook that changes one byte of one block). A written block's 524,288
 * bytes are generated from the seed and its index (AES-128-CTR keystream: deterministic, fast); a block never written
 * is not listed by ListSnapshotBlocks and reads as zeros on a volume (EBS user guide, "Frequently asked questions for
 * EBS direct APIs"). A 1,000 GiB disk therefore costs a few bytes of state, and each block read costs one 512 KiB buffer.
 */
import { createCipheriv, createHash } from "node:crypto";
import { BLOCK_BYTES } from "../../core/diskDigest";
import type { SnapshotState } from "./state";

/** A snapshot's content (persisted with the snapshot). */
export interface SnapshotContent {
    /** The volume's content seed. */
    seed: string;
    /** One block in `writtenEvery` is written (block 0 always: the partition table). */
    writtenEvery: number;
    /** Bytes changed after the snapshot (the tamper hook): block, offset in the block, new byte value. */
    patches?: { block: number; offset: number; value: number }[];
}

/**
 * Default density of written blocks: one in 16,384, one per 8 GiB chunk on average (an 8 GiB volume has block 0 and
 * about one more). Every drill digests every evidence snapshot: one in 1,024 made each drill generate and hash
 * ~100 MB of blocks (the default data volume is 100 GiB; ~0.7 s of a 4.7 s drill), in every one of the suite's
 * drills; the digest's per-block cost is measured by the bench at its own density (scripts/lib/bench/diskDigest.ts).
 */
export const DEFAULT_WRITTEN_EVERY = 16384;

/** A 32-bit integer mix of a seed and an index (murmur3's finalizer): which blocks are written, cheaply. */
function mix(seed: number, index: number): number {
    let h = (seed ^ Math.imul(index, 0x9e3779b1)) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    return h >>> 0;
}

const seedInts = new Map<string, number>();
function seedInt(seed: string): number {
    let n = seedInts.get(seed);
    if (n === undefined) {
        n = createHash("sha256").update(seed).digest().readUInt32BE(0);
        seedInts.set(seed, n);
    }
    return n;
}

/** Whether block `index` of `content` was ever written (a patched block is: the patch wrote it). */
export function isWritten(content: SnapshotContent, index: number): boolean {
    if (index === 0) return true;
    if (content.patches?.some((p) => p.block === index)) return true;
    return mix(seedInt(content.seed), index) % Math.max(1, content.writtenEvery) === 0;
}

/** The written blocks of [from, to), in order, at most `limit`. */
export function writtenBlocks(content: SnapshotContent, from: number, to: number, limit: number): number[] {
    const out: number[] = [];
    for (let i = Math.max(0, from); i < to && out.length < limit; i++) if (isWritten(content, i)) out.push(i);
    return out;
}

/** The 524,288 bytes of block `index` (zeros for a block never written), patches applied. */
export function blockBytes(content: SnapshotContent, index: number): Buffer {
    let bytes: Buffer;
    if (index !== 0 && !(mix(seedInt(content.seed), index) % Math.max(1, content.writtenEvery) === 0)) {
        bytes = Buffer.alloc(BLOCK_BYTES);
    } else {
        const key = createHash("sha256").update(`${content.seed}:${index}`).digest().subarray(0, 16);
        const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
        bytes = Buffer.concat([cipher.update(Buffer.alloc(BLOCK_BYTES)), cipher.final()]);
    }
    for (const p of content.patches ?? []) if (p.block === index) bytes[p.offset] = p.value;
    return bytes;
}

/** The content of a snapshot: its own, or (a copy) its source's; a snapshot made before content existed gets its volume's. */
export function contentOf(snapshot: SnapshotState, find: (snapshotId: string) => SnapshotState | undefined): SnapshotContent {
    if (snapshot.content) return snapshot.content;
    const source = snapshot.copyOf ? find(snapshot.copyOf.snapshotId) : undefined;
    if (source && source !== snapshot) return contentOf(source, find);
    return { seed: `volume:${snapshot.volumeId}`, writtenEvery: DEFAULT_WRITTEN_EVERY };
}

/**
 * Change one byte of a snapshot's block (the test hook behind "one changed byte makes `verify --deep` fail"): the
 * byte at `offset` of block `block` becomes its complement. Returns the new value.
 */
export function tamperBlock(snapshot: SnapshotState, find: (snapshotId: string) => SnapshotState | undefined, block: number, offset: number): number {
    const content = structuredClone(contentOf(snapshot, find));
    if (!Number.isInteger(block) || block < 0 || block >= snapshot.volumeSizeGiB * 2048) throw new Error(`block ${block} is not a block of ${snapshot.snapshotId} (${snapshot.volumeSizeGiB} GiB)`);
    if (!Number.isInteger(offset) || offset < 0 || offset >= BLOCK_BYTES) throw new Error(`offset ${offset} is not in a block of ${BLOCK_BYTES} bytes`);
    const value = blockBytes(content, block)[offset] ^ 0xff;
    content.patches = [...(content.patches ?? []).filter((p) => !(p.block === block && p.offset === offset)), { block, offset, value }];
    snapshot.content = content;
    return value;
}
