/**
 * Serialising the world. `Buffer`s (object bodies) become `{"$b64": ...}` inline, or — when saving to a
 * directory — `{"$file": "objects/<sha256>", "sha256", "bytes"}` for bodies over 64 KiB (content-addressed, so a
 * body stored twice is one file). Loading re-hashes every file and refuses one that changed: the state holds
 * evidence stand-ins, and a silently altered body would make a later `verify` meaningless. A Buffer that appears
 * many times (a multipart object's identical parts share one) is hashed and written once, and loads back as one
 * Buffer again: a world holding a 256 GiB image of a few distinct parts saves and loads as those few parts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const STATE_FORMAT = "aws-dfir-simulated-account";
export const STATE_VERSION = 1;
/** Bodies larger than this go to their own file under `objects/` when saving to a directory. */
const INLINE_LIMIT = 64 * 1024;

type FileWriter = (bytes: Buffer) => unknown;

/** A JSON-safe copy of a value: Buffers encoded (inline base64, or via `writeFile` when large). */
export function encode(value: unknown, writeFile?: FileWriter): unknown {
    if (Buffer.isBuffer(value)) return writeFile && value.length > INLINE_LIMIT ? writeFile(value) : { $b64: value.toString("base64") };
    if (Array.isArray(value)) return value.map((v) => encode(v, writeFile));
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v, writeFile);
        return out;
    }
    return value;
}

type FileReader = (ref: { $file: string; sha256: string; bytes: number }) => Buffer;

/** The inverse of {@link encode}. */
export function decode(value: unknown, readFile?: FileReader): unknown {
    if (Array.isArray(value)) return value.map((v) => decode(v, readFile));
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (typeof obj.$b64 === "string" && Object.keys(obj).length === 1) return Buffer.from(obj.$b64, "base64");
        if (typeof obj.$file === "string") {
            if (!readFile) throw new Error(`simulator state: body stored in file ${obj.$file}, but no directory to read it from (use loadState)`);
            return readFile(obj as { $file: string; sha256: string; bytes: number });
        }
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) out[k] = decode(v, readFile);
        return out;
    }
    return value;
}

/** Write `document` (already a JSON-able object whose Buffers are not yet encoded) to DIR/state.json + DIR/objects/. */
export function writeStateDir(dir: string, document: unknown): void {
    mkdirSync(join(dir, "objects"), { recursive: true });
    const written = new Map<Buffer, { $file: string; sha256: string; bytes: number }>();
    const encoded = encode(document, (bytes) => {
        const known = written.get(bytes);
        if (known) return known;
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        const name = `objects/${sha256}`;
        writeFileSync(join(dir, name), bytes);
        const ref = { $file: name, sha256, bytes: bytes.length };
        written.set(bytes, ref);
        return ref;
    });
    // Write then rename: a crash mid-write never leaves a truncated state.json behind.
    const tmp = join(dir, "state.json.tmp");
    writeFileSync(tmp, `${JSON.stringify(encoded)}\n`);
    renameSync(tmp, join(dir, "state.json"));
}

/** Read DIR/state.json with its object files (each checked against its sha256). */
export function readStateDir(dir: string): unknown {
    const raw = JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as unknown;
    const loaded = new Map<string, Buffer>();
    return decode(raw, (ref) => {
        if (!/^objects\/[0-9a-f]{64}$/.test(ref.$file)) throw new Error(`simulator state: bad object reference ${ref.$file}`);
        const known = loaded.get(ref.$file);
        if (known && known.length === ref.bytes) return known;
        const bytes = readFileSync(join(dir, ref.$file));
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        if (sha256 !== ref.sha256 || bytes.length !== ref.bytes) {
            throw new Error(`simulator state: ${join(dir, ref.$file)} does not match its recorded sha256 (${ref.sha256}); refusing to load`);
        }
        loaded.set(ref.$file, bytes);
        return bytes;
    });
}
