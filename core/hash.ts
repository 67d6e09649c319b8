/**
 * Hashing for the chain of custody. One implementation is shared by the memory step (which checks the image the
 * instance uploaded), the seal step (which hashes the manifest) and the analyst `verify` command, so a hash the
 * workflow recorded and a hash an analyst recomputes later can only differ if the bytes differ.
 *
 * Hashes are lower-case hex sha256 everywhere (what `sha256sum` prints); S3's own `ChecksumSHA256` header is the
 * base64 of the same digest ({@link hexToBase64}).
 */
import { createHash } from "node:crypto";
import { partsSha256 } from "./memoryParts";

/** What {@link sha256OfStream} reports: the digest and how many bytes produced it. */
export interface StreamDigest {
    /** Lower-case hex sha256. */
    sha256: string;
    bytes: number;
}

/** Called as bytes flow (at most once per chunk); lets a long hash log progress without buffering anything. */
export type ProgressCallback = (bytesSoFar: number) => void;

/** The sha256 (lower-case hex) of a buffer, or of a string's UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
    return createHash("sha256").update(typeof data === "string" ? Buffer.from(data, "utf8") : data).digest("hex");
}

/** The base64 form S3 uses for `ChecksumSHA256`, from a hex digest. */
export function hexToBase64(hex: string): string {
    return Buffer.from(hex, "hex").toString("base64");
}

/**
 * Hashes a stream chunk by chunk: memory images are tens of gigabytes, so the bytes are never held in memory
 * (a Lambda has at most 10 GB). Accepts any async iterable of bytes — a Node `Readable`, the SDK's `GetObject`
 * body in Node, or a generator in tests. String chunks (a stream with an encoding set) are refused rather than
 * silently re-encoded, which would hash different bytes than the object holds.
 */
export async function sha256OfStream(
    stream: AsyncIterable<Uint8Array | string>,
    onProgress?: ProgressCallback,
): Promise<StreamDigest> {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of stream) {
        if (typeof chunk === "string") {
            throw new TypeError("sha256OfStream needs a byte stream; got string chunks (is an encoding set on the stream?)");
        }
        hash.update(chunk);
        bytes += chunk.byteLength;
        onProgress?.(bytes);
    }
    return { sha256: hash.digest("hex"), bytes };
}

/** What {@link sha256OfStreamWithParts} reports: the whole digest, and the part digests' digest when cut in parts. */
export interface StreamPartsDigest extends StreamDigest {
    /** sha256 (hex) of the parts' raw SHA-256 digests in order (core/memoryParts.ts `partsSha256`). */
    partsSha256?: string;
    partCount?: number;
}

/**
 * {@link sha256OfStream}, and in the same pass the stream cut in parts of `partSize` bytes (the last shorter), each
 * hashed, the part digests hashed in order: the memory image's `partsSha256` (core/memoryParts.ts), recomputed
 * by `dfir verify` from the bytes it reads. Without `partSize`, the whole digest only.
 */
export async function sha256OfStreamWithParts(
    stream: AsyncIterable<Uint8Array | string>,
    partSize: number | undefined,
    onProgress?: ProgressCallback,
): Promise<StreamPartsDigest> {
    if (partSize === undefined) return sha256OfStream(stream, onProgress);
    if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new RangeError(`partSize must be a positive whole number of bytes, got ${partSize}`);
    const whole = createHash("sha256");
    // The part digests, hex, then combined by core/memoryParts.ts's partsSha256 (the one definition of that digest).
    const parts: string[] = [];
    let part = createHash("sha256");
    let inPart = 0;
    let bytes = 0;
    for await (const chunk of stream) {
        if (typeof chunk === "string") {
            throw new TypeError("sha256OfStreamWithParts needs a byte stream; got string chunks (is an encoding set on the stream?)");
        }
        whole.update(chunk);
        let offset = 0;
        while (offset < chunk.byteLength) {
            const n = Math.min(partSize - inPart, chunk.byteLength - offset);
            part.update(chunk.subarray(offset, offset + n));
            inPart += n;
            offset += n;
            if (inPart === partSize) {
                parts.push(part.digest("hex"));
                part = createHash("sha256");
                inPart = 0;
            }
        }
        bytes += chunk.byteLength;
        onProgress?.(bytes);
    }
    if (inPart > 0) parts.push(part.digest("hex"));
    return { sha256: whole.digest("hex"), bytes, partsSha256: partsSha256(parts), partCount: parts.length };
}

/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit, i.e. JavaScript's default sort) at every depth, no
 * whitespace, array order kept. Two structurally equal values always give the same text — and so the same
 * hash — however their keys were inserted. Follows `JSON.stringify` for what JSON cannot hold: `undefined`
 * and function members are dropped from objects and become `null` in arrays; `toJSON` (e.g. `Date`) is applied.
 * Non-finite numbers are refused rather than written as `null`, which would hash a different value than meant.
 */
export function canonicalJson(value: unknown): string {
    const text = canonical(value);
    if (text === undefined) throw new TypeError(`cannot serialise ${typeof value} as canonical JSON`);
    return text;
}

function canonical(value: unknown): string | undefined {
    if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return canonical((value as { toJSON: () => unknown }).toJSON());
    }
    if (value === null) return "null";
    switch (typeof value) {
        case "string":
        case "boolean":
            return JSON.stringify(value);
        case "number":
            if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold the number ${value}`);
            return JSON.stringify(value);
        case "bigint":
            throw new TypeError("canonical JSON cannot hold a bigint");
        case "undefined":
        case "function":
        case "symbol":
            return undefined;
        default:
            break;
    }
    if (Array.isArray(value)) {
        return `[${value.map((item) => canonical(item) ?? "null").join(",")}]`;
    }
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
        const text = canonical(record[key]);
        if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(",")}}`;
}
