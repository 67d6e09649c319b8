/**
 * Deterministic stand-ins for binary evidence: a memory image in LiME format (what avml writes) and a fake
 * avml binary. Bytes come from an AES-256-CTR keystream keyed by a seed: fast (hundreds of MB/s), the same
 * for the same seed on every machine, and incompressible like real memory pages.
 */
import { createCipheriv, createHash } from "node:crypto";
import { AVML_ELF_MACHINE, elfBuild, type AvmlBuild } from "../../core/avml";

const CHUNK = 1024 * 1024;
/** LiME range header: magic "EMiL" (0x4C694D45 little-endian), version 1, start, end, reserved. */
const LIME_MAGIC = 0x4c694d45;
const LIME_HEADER_BYTES = 32;
/** Physical address where the simulated range starts (1 MiB, as on a typical x86 memory map). */
const RANGE_START = 0x100000n;

/** `length` pseudo-random bytes determined by `seed`, generated in 1 MiB chunks. */
export function deterministicBytes(seed: string, length: number): Buffer {
    const key = createHash("sha256").update(seed).digest();
    const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
    const zeros = Buffer.alloc(Math.min(CHUNK, Math.max(length, 0)));
    const out = Buffer.allocUnsafe(length);
    for (let offset = 0; offset < length; offset += CHUNK) {
        const n = Math.min(CHUNK, length - offset);
        cipher.update(zeros.subarray(0, n)).copy(out, offset);
    }
    return out;
}

/**
 * A memory image of exactly `length` bytes: one LiME range header followed by the range's contents (images
 * smaller than a header are plain bytes).
 */
export function memoryImage(seed: string, length: number): Buffer {
    const bytes = deterministicBytes(seed, length);
    if (length < LIME_HEADER_BYTES) return bytes;
    bytes.writeUInt32LE(LIME_MAGIC, 0);
    bytes.writeUInt32LE(1, 4);
    bytes.writeBigUInt64LE(RANGE_START, 8);
    bytes.writeBigUInt64LE(RANGE_START + BigInt(length - LIME_HEADER_BYTES) - 1n, 16);
    bytes.writeBigUInt64LE(0n, 24);
    return bytes;
}

/** Images up to this size are distinct bytes throughout (as {@link memoryImage}); larger ones repeat part patterns. */
const DISTINCT_IMAGE_BYTES = 64 * 1024 * 1024;
/** How many distinct Buffers the parts of a large image are drawn from (besides its first and last part). */
const PATTERNS = 3;

/**
 * The same stand-in image cut into parts of `partSize` bytes (the last shorter), the way a capture streams it to a
 * multipart upload. Up to 64 MiB every byte is {@link memoryImage}'s. A larger image (up to hundreds of GiB) is
 * held in a few Buffers: its first part is distinct bytes opening with the LiME range header of the whole image,
 * every other part one of a few distinct patterns in a fixed irregular order (parts of an image repeat like
 * zeroed or duplicated pages do), the last part a prefix of one: identical parts are one Buffer, so a 256 GiB image
 * costs a few parts of memory. The bytes are the image's for real: hashing the parts in order hashes the image.
 */
export function memoryImageParts(seed: string, length: number, partSize: number): Buffer[] {
    if (!(partSize > 0) || length <= 0) throw new Error(`memoryImageParts: need a positive length and part size, got ${length} and ${partSize}`);
    if (length <= DISTINCT_IMAGE_BYTES) {
        const image = memoryImage(seed, length);
        const parts: Buffer[] = [];
        for (let offset = 0; offset < length; offset += partSize) parts.push(image.subarray(offset, Math.min(length, offset + partSize)));
        return parts;
    }
    const count = Math.ceil(length / partSize);
    const first = memoryImage(`${seed}:part:1`, Math.min(partSize, length));
    if (first.length >= LIME_HEADER_BYTES) first.writeBigUInt64LE(RANGE_START + BigInt(length - LIME_HEADER_BYTES) - 1n, 16);
    const patterns = Array.from({ length: PATTERNS }, (_, k) => pagedBytes(`${seed}:pattern:${k}`, partSize));
    const parts: Buffer[] = [first];
    for (let i = 1; i < count; i++) parts.push(patterns[(i * 7 + Math.floor(i / 3)) % PATTERNS] as Buffer);
    const tail = length - (count - 1) * partSize;
    if (count > 1 && tail < partSize) parts[count - 1] = (parts[count - 1] as Buffer).subarray(0, tail);
    return parts;
}

/**
 * `length` deterministic bytes made fast (memory-copy speed, not cipher speed): a 1 MiB keystream block repeated,
 * each 4 KiB page stamped with its own index, so no two pages are alike.
 */
function pagedBytes(seed: string, length: number): Buffer {
    const block = deterministicBytes(seed, Math.min(CHUNK, length));
    const out = Buffer.allocUnsafe(length);
    for (let offset = 0; offset < length; offset += block.length) block.copy(out, offset, 0, Math.min(block.length, length - offset));
    for (let page = 0; page * 4096 + 8 <= length; page++) out.writeBigUInt64LE(BigInt(page), page * 4096);
    return out;
}

/**
 * A fake avml binary for one machine: a 64-bit little-endian ELF header (`e_ident`, `e_type` ET_EXEC,
 * `e_machine`) and deterministic contents (256 KiB). The two builds of a seed differ in every byte.
 */
export function fakeAvml(seed: string, machine: AvmlBuild = "x86_64"): Buffer {
    const bytes = deterministicBytes(`avml:${seed}${machine === "x86_64" ? "" : `:${machine}`}`, 256 * 1024);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]).copy(bytes, 0);
    bytes.writeUInt16LE(2, 16);
    bytes.writeUInt16LE(AVML_ELF_MACHINE[machine], 18);
    return bytes;
}

/** The build an ELF binary is (core/avml.ts elfBuild), or undefined when it is none of them. */
export function elfMachine(bytes: Buffer): AvmlBuild | undefined {
    const built = elfBuild(bytes);
    return "build" in built ? built.build : undefined;
}

export function sha256Hex(bytes: Buffer): string {
    return createHash("sha256").update(bytes).digest("hex");
}
