/**
 * The manifest's signature (issue 17, item 2): what is signed, how, where the signature is kept, and its check.
 * Pure, with node:crypto only (no SDK): the seal (through functions/lib/signing.ts), `dfir verify`, `dfir
 * verify-manifest` (offline, with the public key alone) and the simulator use this one module.
 *
 * The signature: KMS `Sign` of the manifest's sha256 with an asymmetric key of the evidence store's region (key spec
 * ECC_NIST_P256, key usage SIGN_VERIFY), `MessageType: DIGEST`, `SigningAlgorithm: ECDSA_SHA_256` (KMS API Reference,
 * Sign: with DIGEST KMS skips the hashing step; the message must be exactly the digest length of the algorithm, 32
 * bytes). An ECDSA signature of a SHA-256 digest is the ECDSA signature of the message under SHA-256, so anyone checks
 * it over the manifest's bytes with any ECDSA-P256-SHA256 verifier (`openssl dgst -sha256 -verify pub.pem -signature
 * sig.der manifest.json`). KMS returns ECDSA signatures DER-encoded (ANSI X9.62-2005, RFC 3279 2.2.3) and the public
 * key (GetPublicKey) as a DER-encoded X.509 SubjectPublicKeyInfo (RFC 5280).
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";

export const SIGNING_KEY_SPEC = "ECC_NIST_P256";
export const SIGNING_KEY_USAGE = "SIGN_VERIFY";
export const SIGNING_ALGORITHM = "ECDSA_SHA_256";
export const SIGNING_MESSAGE_TYPE = "DIGEST";
/** The curve of ECC_NIST_P256 as node:crypto names it. */
const CURVE = "prime256v1";

/** Version of the signature record's layout. */
export const SIGNATURE_SCHEMA_VERSION = "aws-dfir.signature/1";

/** The signature record stored beside what it signs (Object Lock COMPLIANCE like it). */
export interface SignatureRecord {
    schemaVersion: typeof SIGNATURE_SCHEMA_VERSION;
    /** The key ARN KMS signed with (Sign's `KeyId` answer). */
    keyId: string;
    algorithm: typeof SIGNING_ALGORITHM;
    messageType: typeof SIGNING_MESSAGE_TYPE;
    /** What is signed: its object (bucket, key, version when known) and the sha256 (hex) of its bytes. */
    signed: { bucket: string; key: string; versionId?: string; sha256: string };
    /** The DER-encoded ECDSA signature, base64. */
    signature: string;
    signedAt: string;
}

/** Where the signature of an object is kept: beside it, `<key>.sig.json`. */
export function signatureKey(signedKey: string): string {
    return `${signedKey}.sig.json`;
}

/** Where an evidence store keeps a signing key's public key (PEM): `keys/manifest-signing-<key id>.pem`. */
export function publicKeyObjectKey(keyIdOrArn: string): string {
    return `keys/manifest-signing-${keyIdOrArn.split("/").pop()}.pem`;
}

/** The 32-byte digest KMS signs for a sha256 given in hex; anything else is refused. */
export function digestBytes(sha256Hex: string): Buffer {
    if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new Error(`not a sha256 (64 lowercase hex digits): ${JSON.stringify(sha256Hex).slice(0, 80)}`);
    return Buffer.from(sha256Hex, "hex");
}

/** A SubjectPublicKeyInfo (DER, as GetPublicKey returns it) as PEM. */
export function publicKeyPem(spkiDer: Uint8Array): string {
    return createPublicKey({ key: Buffer.from(spkiDer), format: "der", type: "spki" }).export({ format: "pem", type: "spki" }).toString();
}

/** The public key from PEM text or SPKI DER bytes, and why it is not a P-256 key when it is not. */
export function readPublicKey(key: string | Uint8Array): { key: KeyObject } | { problem: string } {
    let object: KeyObject;
    try {
        object = typeof key === "string" || /^-----BEGIN/.test(Buffer.from(key).subarray(0, 16).toString("latin1"))
            ? createPublicKey({ key: Buffer.from(key).toString("utf8"), format: "pem" })
            : createPublicKey({ key: Buffer.from(key), format: "der", type: "spki" });
    } catch (error) {
        return { problem: `the public key is neither PEM nor DER SubjectPublicKeyInfo (${(error as Error).message.split("\n")[0]})` };
    }
    if (object.asymmetricKeyType !== "ec" || object.asymmetricKeyDetails?.namedCurve !== CURVE) {
        return { problem: `the public key is ${object.asymmetricKeyType} ${object.asymmetricKeyDetails?.namedCurve ?? ""}`.trimEnd() + `, not ${SIGNING_KEY_SPEC} (${CURVE})` };
    }
    return { key: object };
}

/** The check of one signature: valid, or every reason it is not. */
export interface SignatureCheck {
    valid: boolean;
    /** sha256 (hex) of the bytes checked. */
    sha256: string;
    keyId?: string;
    algorithm?: string;
    problems: string[];
}

/** Whether `signatureDer` is a valid ECDSA P-256 SHA-256 signature of `bytes` under `publicKey` (PEM or SPKI DER). Pure. */
export function verifySignature(bytes: Uint8Array, signatureDer: Uint8Array, publicKey: string | Uint8Array): SignatureCheck {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const key = readPublicKey(publicKey);
    if ("problem" in key) return { valid: false, sha256, problems: [key.problem] };
    let valid = false;
    try {
        valid = cryptoVerify("sha256", bytes, { key: key.key, dsaEncoding: "der" }, Buffer.from(signatureDer));
    } catch (error) {
        return { valid: false, sha256, problems: [`the signature is not a DER-encoded ECDSA signature (${(error as Error).message.split("\n")[0]})`] };
    }
    return valid ? { valid, sha256, problems: [] } : { valid, sha256, problems: ["the signature does not match these bytes under this public key"] };
}

/**
 * The check of a signature record against the bytes it claims to sign: the record's shape, algorithm, the sha256 it
 * names (the bytes read must be those), and the signature under the public key. Pure.
 */
export function verifySignatureRecord(bytes: Uint8Array, record: unknown, publicKey: string | Uint8Array): SignatureCheck {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const parsed = parseSignatureRecord(record);
    if ("problem" in parsed) return { valid: false, sha256, problems: [parsed.problem] };
    const r = parsed.record;
    const problems: string[] = [];
    if (r.signed.sha256 !== sha256) problems.push(`the signature record signs sha256 ${r.signed.sha256}, these bytes are ${sha256}`);
    const check = verifySignature(bytes, Buffer.from(r.signature, "base64"), publicKey);
    problems.push(...check.problems);
    return { valid: problems.length === 0, sha256, keyId: r.keyId, algorithm: r.algorithm, problems };
}

/** A signature record read from JSON (a string, bytes or a parsed value), or why it is not one. Pure. */
export function parseSignatureRecord(value: unknown): { record: SignatureRecord } | { problem: string } {
    let v = value;
    if (typeof v === "string" || v instanceof Uint8Array) {
        try {
            v = JSON.parse(Buffer.from(v as never).toString("utf8"));
        } catch {
            return { problem: "the signature record is not JSON" };
        }
    }
    const r = v as Partial<SignatureRecord> | null;
    if (typeof r !== "object" || r === null) return { problem: "the signature record is not an object" };
    if (r.schemaVersion !== SIGNATURE_SCHEMA_VERSION) return { problem: `the signature record's schemaVersion is ${JSON.stringify(r.schemaVersion)}, not ${SIGNATURE_SCHEMA_VERSION}` };
    if (r.algorithm !== SIGNING_ALGORITHM || r.messageType !== SIGNING_MESSAGE_TYPE) {
        return { problem: `the signature record names ${String(r.algorithm)}/${String(r.messageType)}, not ${SIGNING_ALGORITHM}/${SIGNING_MESSAGE_TYPE}` };
    }
    if (typeof r.keyId !== "string" || typeof r.signature !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(r.signature)) return { problem: "the signature record has no keyId or no base64 signature" };
    if (typeof r.signed !== "object" || r.signed === null || typeof r.signed.sha256 !== "string") return { problem: "the signature record does not name the sha256 it signs" };
    return { record: r as SignatureRecord };
}

/** The record of a signature KMS made of an object's sha256 (what the seal stores). Pure. */
export function signatureRecord(o: { keyId: string; signatureDer: Uint8Array; signed: SignatureRecord["signed"]; signedAt: string }): SignatureRecord {
    return {
        schemaVersion: SIGNATURE_SCHEMA_VERSION,
        keyId: o.keyId,
        algorithm: SIGNING_ALGORITHM,
        messageType: SIGNING_MESSAGE_TYPE,
        signed: o.signed,
        signature: Buffer.from(o.signatureDer).toString("base64"),
        signedAt: o.signedAt,
    };
}

/** The gap of a manifest the seal could not sign (the case's reason: `manifest signature: <why>`). */
export const SIGNATURE_GAP = "manifest signature";

/**
 * A case's status once its manifest's signature is known: a manifest sealed but not signed is never SUCCEEDED (its
 * integrity rests on the case record's hash alone): SUCCEEDED becomes PARTIAL, and the reason names the gap. Pure.
 */
export function withSignatureGap<S extends string>(status: S, reason: string, missing: string | undefined): { status: S | "PARTIAL"; reason: string } {
    if (missing === undefined) return { status, reason };
    const gap = `${SIGNATURE_GAP}: ${missing}`;
    return { status: status === "SUCCEEDED" ? "PARTIAL" : status, reason: `${reason}; ${gap}` };
}
