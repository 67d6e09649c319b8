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
