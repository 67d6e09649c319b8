/**
 * `dfir verify-manifest FILE --signature FILE --public-key FILE`: a third party's check of a downloaded manifest,
 * offline, with the signing key's public key alone (the stack output `manifestSigningPublicKey`, the bucket's
 * `keys/manifest-signing-<key id>.pem`, or `aws kms get-public-key`). No AWS call, no credentials: it reads three
 * files and runs node:crypto (core/signature.ts).
 *
 * The signature FILE is the record the seal stored (`<manifest>.sig.json`), or the bare signature: DER bytes, or
 * their base64 (what `aws kms sign --query Signature --output text` prints). The public key FILE is PEM, or DER
 * SubjectPublicKeyInfo.
 */
import { parseSignatureRecord, verifySignature, verifySignatureRecord, type SignatureCheck } from "../core/signature";
import { UsageError } from "./context";

export interface ManifestSignatureReport extends SignatureCheck {
    manifest: string;
    signature: string;
    publicKey: string;
    /** What the signature file held: the seal's record, or a bare signature. */
    form: "record" | "der" | "base64";
    /** The manifest the record names (record form). */
    signedKey?: string;
}

/** Read a file for the check; a missing or unreadable one is bad input (exit 2). */
function read(readFile: (path: string) => Buffer, path: string, what: string): Buffer {
    try {
        return readFile(path);
    } catch (error) {
        throw new UsageError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
}

/** Check a downloaded manifest's signature. Pure apart from reading the three files through `readFile`. */
export function verifyManifestFiles(readFile: (path: string) => Buffer, files: { manifest: string; signature: string; publicKey: string }): ManifestSignatureReport {
    const manifest = read(readFile, files.manifest, "manifest");
    const signature = read(readFile, files.signature, "signature");
    const publicKey = read(readFile, files.publicKey, "public key");
    const base = { manifest: files.manifest, signature: files.signature, publicKey: files.publicKey };
    const text = signature.toString("utf8").trim();
    if (text.startsWith("{")) {
        const parsed = parseSignatureRecord(text);
        const check = verifySignatureRecord(manifest, text, publicKey);
        return { ...base, form: "record", ...check, ...("record" in parsed ? { signedKey: parsed.record.signed.key } : {}) };
    }
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return { ...base, form: "base64", ...verifySignature(manifest, Buffer.from(text, "base64"), publicKey) };
    return { ...base, form: "der", ...verifySignature(manifest, signature, publicKey) };
}

/** The check for people. */
export function verifyManifestText(r: ManifestSignatureReport): string {
    const lines = [`manifest ${r.manifest}: sha256 ${r.sha256}`];
    if (r.keyId) lines.push(`signed by ${r.keyId} (${r.algorithm})${r.signedKey ? ` as ${r.signedKey}` : ""}`);
    for (const p of r.problems) lines.push(`MISMATCH: ${p}`);
    lines.push(r.valid ? `VALID: the signature ${r.signature} matches ${r.manifest} under ${r.publicKey}` : `NOT VALID: ${r.problems.length} problem(s)`);
    return `${lines.join("\n")}\n`;
}
