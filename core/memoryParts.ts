/**
 * The memory image's parts: how the capture script (functions/memory/capture.sh) cuts the stream it uploads, what it
 * records of each part in the sidecar, and how the memory step checks that record against the checksums S3 kept,
 * without reading the image.
 *
 * Why parts: the image is uploaded with `aws s3 cp - ... --checksum-algorithm SHA256`, a multipart upload whose
 * every part carries its SHA-256; S3 computes each part's checksum from the bytes it received and refuses a part
 * whose checksum does not match (BadDigest), then keeps it ("Checking object integrity in Amazon S3", S3 User
 * Guide; `ObjectPart.ChecksumSHA256`, S3 API Reference). `GetObjectAttributes` returns those checksums, 1,000 parts
 * a page. The instance hashes the same parts while it streams them (GNU `split --filter` on a `tee` branch), so
 * comparing both lists proves what S3 holds is what the instance hashed, at any image size, in a few API calls.
 *
 * The part size is the script's choice, not the CLI's: written into a temporary AWS config file
 * (`s3.multipart_chunksize`), and chosen so the CLI keeps it unchanged. The CLI (v1 `develop` and v2, s3transfer's
 * `UploadSubmissionTask._submit_multipart_request`) cuts a stream into `ChunksizeAdjuster().adjust_chunksize(
 * multipart_chunksize, expected_size)` bytes: doubled while `ceil(expected_size / chunksize) > 10,000`, then clamped
 * to 5 MiB..5 GiB ({@link s3transferChunksize}). {@link capturePartSize} never triggers either adjustment.
 */
import { createHash } from "node:crypto";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** "Amazon S3 multipart upload limits" (S3 User Guide): at most 10,000 parts of 5 MiB to 5 GiB (the last may be smaller). */
export const S3_MAX_PARTS = 10_000;
export const S3_MIN_PART_BYTES = 5 * MIB;
export const S3_MAX_PART_BYTES = 5 * GIB;
/** GetObjectAttributes' and ListParts' largest page of parts (the same limits page: 1,000 parts per list). */
export const S3_PARTS_PAGE = 1000;

/** The capture's smallest part: the CLI's own default chunk size (8 MiB). */
export const CAPTURE_MIN_PART_BYTES = 8 * MIB;
/** The capture's largest part: the largest power-of-two multiple of the smallest within S3's 5 GiB. */
export const CAPTURE_MAX_PART_BYTES = 4 * GIB;
/**
 * Parts the expected size is cut into at most (where parts of at most {@link CAPTURE_MAX_PART_BYTES} allow it): half
 * S3's 10,000, so an image up to twice its already generous expected size still fits.
 */
export const CAPTURE_PLANNED_PARTS = 5000;
/** The headroom capture.sh adds to MemTotal for `--expected-size`: +25% + 256 MiB (LiME headers, reserved RAM). */
export const CAPTURE_EXPECTED_EXTRA_BYTES = 256 * MIB;

/** capture.sh's `--expected-size` for a host of `memTotalBytes` (bash integer arithmetic: floor of the quarter). */
export function captureExpectedSize(memTotalBytes: number): number {
    return memTotalBytes + Math.floor(memTotalBytes / 4) + CAPTURE_EXPECTED_EXTRA_BYTES;
}

/**
 * capture.sh's part size for a host of `memTotalBytes`: the smallest 8 MiB x 2^k that cuts the expected size into at
 * most {@link CAPTURE_PLANNED_PARTS} parts, at most 4 GiB.
 */
export function capturePartSize(memTotalBytes: number): number {
    const expected = captureExpectedSize(memTotalBytes);
    let size = CAPTURE_MIN_PART_BYTES;
    while (Math.ceil(expected / size) > CAPTURE_PLANNED_PARTS && size < CAPTURE_MAX_PART_BYTES) size *= 2;
    return size;
}

/** The chunk size the AWS CLI uploads a stream of `expectedSize` in, given `multipart_chunksize` (s3transfer's ChunksizeAdjuster). */
export function s3transferChunksize(configured: number, expectedSize: number | undefined): number {
    let size = configured;
    if (expectedSize !== undefined) {
        while (Math.ceil(expectedSize / size) > S3_MAX_PARTS) size *= 2;
    }
    return Math.min(Math.max(size, S3_MIN_PART_BYTES), S3_MAX_PART_BYTES);
}

/** How many parts `bytes` make at `partSize` (the last may be shorter). */
export function partCount(bytes: number, partSize: number): number {
    return Math.ceil(bytes / partSize);
}

/** The size of part `index` (0-based) of an image of `bytes` cut at `partSize`. */
export function partBytes(bytes: number, partSize: number, index: number): number {
    return Math.min(partSize, bytes - index * partSize);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * `partsSha256`: the sha256 (hex) of the parts' raw 32-byte SHA-256 digests concatenated in part order. One value
 * that stands for the whole list; the analyst recomputes it from the image with
 * `split -b PARTSIZE --filter=sha256sum IMAGE | cut -c1-64 | xxd -r -p | sha256sum` (docs/analyst-guide.md).
 */
export function partsSha256(hexDigests: readonly string[]): string {
    const hash = createHash("sha256");
    for (const hex of hexDigests) {
        if (!SHA256_HEX.test(hex)) throw new Error(`not a sha256 in hex: ${JSON.stringify(hex)}`);
        hash.update(Buffer.from(hex, "hex"));
    }
    return hash.digest("hex");
}

/** What the instance recorded of its image: the whole-image digest and size, and each part's digest. */
export interface PartRecord {
    bytes: number;
    partSize: number;
    /** Hex sha256 of each part, in order. */
    parts: readonly string[];
}

/**
 * Why a sidecar's part record is unusable, or undefined. Checked: a part size S3 accepts (5 MiB..5 GiB), 1 to
 * 10,000 parts, each a hex sha256, and exactly `ceil(bytes / partSize)` of them.
 */
export function partRecordProblem(record: { bytes?: unknown; partSize?: unknown; parts?: unknown }): string | undefined {
    const { bytes, partSize, parts } = record;
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes <= 0) return "bytes is not a positive whole number";
    if (typeof partSize !== "number" || !Number.isSafeInteger(partSize) || partSize < S3_MIN_PART_BYTES || partSize > S3_MAX_PART_BYTES) {
        return `partSize is not a whole number of bytes from ${S3_MIN_PART_BYTES} to ${S3_MAX_PART_BYTES}`;
    }
    if (!Array.isArray(parts) || parts.length === 0 || parts.length > S3_MAX_PARTS) return `parts is not a list of 1 to ${S3_MAX_PARTS} digests`;
    const bad = parts.findIndex((p) => typeof p !== "string" || !SHA256_HEX.test(p));
    if (bad >= 0) return `parts[${bad}] is not a sha256 in lower-case hex`;
    const expected = partCount(bytes, partSize);
    if (parts.length !== expected) return `${parts.length} part digests for ${bytes} bytes in parts of ${partSize} (expected ${expected})`;
    return undefined;
}

/** One part as S3 reports it (GetObjectAttributes `ObjectParts.Parts[]`), its checksum in hex. */
export interface StoredPart {
    partNumber: number;
    size: number;
    /** Hex of `ChecksumSHA256`; undefined when S3 reported none for the part. */
    sha256?: string;
}

/** The first difference between the instance's record and S3's parts, or undefined when they agree in full. */
export type PartDifference =
    | { kind: "size"; expectedBytes: number; actualBytes: number }
    | { kind: "count"; expectedParts: number; actualParts: number }
    | { kind: "part"; partNumber: number; expected: { sha256: string; bytes: number }; actual: { sha256: string; bytes: number } };

/**
 * Compares the instance's part record with what S3 stored: the object's size, then the number of parts, then each
 * part in order (number, size, SHA-256). Every stored part must carry a checksum (callers refuse an upload without).
 */
export function comparePartRecord(record: PartRecord, objectSize: number, stored: readonly StoredPart[]): PartDifference | undefined {
    if (objectSize !== record.bytes) return { kind: "size", expectedBytes: record.bytes, actualBytes: objectSize };
    if (stored.length !== record.parts.length) return { kind: "count", expectedParts: record.parts.length, actualParts: stored.length };
    for (let i = 0; i < stored.length; i++) {
        const part = stored[i] as StoredPart;
        const expected = { sha256: record.parts[i] as string, bytes: partBytes(record.bytes, record.partSize, i) };
        if (part.partNumber !== i + 1 || part.size !== expected.bytes || part.sha256 !== expected.sha256) {
            return { kind: "part", partNumber: i + 1, expected, actual: { sha256: part.sha256 ?? "none", bytes: part.size } };
        }
    }
    return undefined;
}
