/**
 * Digests of the simulator's large objects, computed for real over their bytes and remembered.
 *
 * A simulated memory image of hundreds of GiB is held as a list of part Buffers in which identical parts share one
 * Buffer (drill/sim/memory.ts `memoryImageParts`). Hashing is a pure function of the bytes, so a digest computed
 * once for a Buffer object (or for one sequence of Buffer objects) is the digest of those bytes whoever asks next:
 * S3's per-part checksum of a Buffer uploaded 2,000 times is computed once, and S3's own record of a whole object
 * (the simulator's `sha256`) is the stand-in instance's whole-image hash when, and only when, both hashed the very
 * same Buffers in the same order. Nothing here guesses a digest: every value was computed from bytes.
 *
 * The contract that makes remembering sound: a Buffer handed to these functions is never written again (the
 * simulator's stand-ins build a changed part as a new Buffer, e.g. `memory-hash-mismatch`).
 */
import { createHash } from "node:crypto";

type Algorithm = "sha256" | "md5";

const perBuffer: Record<Algorithm, WeakMap<Buffer, Buffer>> = { sha256: new WeakMap(), md5: new WeakMap() };

/** The raw digest of one Buffer's bytes, computed once per Buffer object. */
export function bufferDigest(buffer: Buffer, algorithm: Algorithm): Buffer {
    const known = perBuffer[algorithm].get(buffer);
    if (known) return known;
    const digest = createHash(algorithm).update(buffer).digest();
    perBuffer[algorithm].set(buffer, digest);
    return digest;
}

/** Identity numbers of Buffer objects (for the sequence memo's keys). */
const ids = new WeakMap<Buffer, number>();
let nextId = 1;
function idOf(buffer: Buffer): number {
    let id = ids.get(buffer);
    if (id === undefined) {
        id = nextId++;
        ids.set(buffer, id);
    }
    return id;
}

/** Recent whole-sequence digests, by the sequence's Buffer identities (a few: one image at a time is hashed). */
const SEQUENCE_MEMO_SIZE = 8;
const perSequence = new Map<string, string>();

/**
 * The hex sha256 of the concatenation of `buffers` (one pass over their bytes, never concatenated in memory).
 * Remembered for the exact sequence of Buffer objects: asked again for the same sequence, the same digest.
 */
export function concatSha256(buffers: readonly Buffer[]): string {
    const key = buffers.map(idOf).join(",");
    const known = perSequence.get(key);
    if (known !== undefined) return known;
    const hash = createHash("sha256");
    for (const buffer of buffers) hash.update(buffer);
    const digest = hash.digest("hex");
    perSequence.set(key, digest);
    if (perSequence.size > SEQUENCE_MEMO_SIZE) perSequence.delete(perSequence.keys().next().value as string);
    return digest;
}
