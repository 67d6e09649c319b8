/**
 * Signing an evidence record's sha256 with the region's manifest-signing key (core/signature.ts: ECC_NIST_P256,
 * ECDSA_SHA_256, MessageType DIGEST), and keeping the signature beside the record under Object Lock COMPLIANCE.
 * The seal signs its manifest with it; any other step that writes a record to be signed uses the same two calls.
 */
import { SignCommand, type KMSClient } from "@aws-sdk/client-kms";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
    digestBytes, parseSignatureRecord, signatureKey, signatureRecord, SIGNING_ALGORITHM, SIGNING_MESSAGE_TYPE, type SignatureRecord,
} from "../../core/signature";
import { ENV } from "../../core/workflow";
import { awsErrorIs, errorText, putLockedObject } from "./evidence";
import { log } from "./log";

/**
 * KMS `Sign` of a sha256 (hex) as a digest: the 32 bytes themselves, `MessageType: DIGEST` (KMS skips its hash step),
 * `ECDSA_SHA_256`. Returns the key ARN KMS answers with and the DER-encoded signature. Errors are KMS's, unchanged.
 */
export async function signSha256(kms: KMSClient, keyId: string, sha256Hex: string): Promise<{ keyId: string; signatureDer: Uint8Array }> {
    const out = await kms.send(new SignCommand({ KeyId: keyId, Message: digestBytes(sha256Hex), MessageType: SIGNING_MESSAGE_TYPE, SigningAlgorithm: SIGNING_ALGORITHM }));
    if (!out.Signature || out.Signature.byteLength === 0) throw new Error("KMS Sign returned no signature");
    return { keyId: out.KeyId ?? keyId, signatureDer: out.Signature };
}

/** A signature stored beside what it signs. */
export interface StoredSignature {
    bucket: string;
    key: string;
    versionId?: string;
    record: SignatureRecord;
}

/**
 * Sign `signed` (an object already written, by its sha256) and store the record at `<key>.sig.json` with Object Lock
 * COMPLIANCE until `retainUntil`, never overwriting (`If-None-Match: *`). A retry that finds a record there adopts it
 * when it signs the same sha256 (ECDSA signatures differ from call to call: the first stored is the signature);
 * a record of other bytes is an error naming both hashes.
 */
export async function signAndStore(
    clients: { kms: KMSClient; s3: S3Client },
    keyId: string,
    signed: SignatureRecord["signed"],
    o: { retainUntil: Date; signedAt: string; metadata?: Record<string, string> },
): Promise<StoredSignature> {
    const made = await signSha256(clients.kms, keyId, signed.sha256);
    const record = signatureRecord({ keyId: made.keyId, signatureDer: made.signatureDer, signed, signedAt: o.signedAt });
    const key = signatureKey(signed.key);
    try {
        const written = await putLockedObject(clients.s3, {
            bucket: signed.bucket,
            key,
            body: JSON.stringify(record),
            contentType: "application/json",
            retainUntil: o.retainUntil,
            ifNoneMatch: true,
            metadata: { ...(o.metadata ?? {}), "signed-sha256": signed.sha256 },
        });
        return { bucket: signed.bucket, key, ...(written.versionId ? { versionId: written.versionId } : {}), record };
    } catch (error) {
        if (!awsErrorIs(error, ["PreconditionFailed", "ConditionalRequestConflict"], 412)) throw error;
        const out = await clients.s3.send(new GetObjectCommand({ Bucket: signed.bucket, Key: key }));
        const text = await (out.Body as { transformToString(): Promise<string> }).transformToString();
        const existing = parseSignatureRecord(text);
        if ("problem" in existing) throw new Error(`${key} exists and is not a signature record: ${existing.problem}`);
        if (existing.record.signed.sha256 !== signed.sha256) {
            throw new Error(`${key} exists and signs sha256 ${existing.record.signed.sha256}, not ${signed.sha256}`);
        }
        return { bucket: signed.bucket, key, ...(out.VersionId ? { versionId: out.VersionId } : {}), record: existing.record };
    }
}

/** A signature stored, or why there is none (the case records either). */
export type SignatureOutcome = StoredSignature | { missing: string };

/**
 * Sign a record already written and store the signature beside it ({@link signAndStore}), or say why not: no key
 * configured, or KMS / S3 refused (logged as an error). Never throws: a written record is never lost to its
 * signature; the caller records the gap (`what` names the record in the log: "manifest", "disk digest record").
 */
export async function signOrMissing(
    clients: { kms: KMSClient; s3: S3Client },
    signingKeyArn: string | undefined,
    signed: SignatureRecord["signed"],
    o: { retainUntil: Date; signedAt: string; caseId: string; what: string },
): Promise<SignatureOutcome> {
    const context = { caseId: o.caseId, key: signed.key };
    if (!signingKeyArn) {
        log("ERROR", `${o.what} not signed: no signing key configured`, { ...context, variable: ENV.manifestSigningKeyArn });
        return { missing: `not signed: ${ENV.manifestSigningKeyArn} is not set` };
    }
    try {
        const stored = await signAndStore(clients, signingKeyArn, signed, { retainUntil: o.retainUntil, signedAt: o.signedAt, metadata: { "case-id": o.caseId } });
        log("INFO", `${o.what} signed`, { ...context, signature: stored.key, keyId: stored.record.keyId });
        return stored;
    } catch (error) {
        log("ERROR", `${o.what} written but not signed`, { ...context, error: errorText(error) });
        return { missing: `not signed: ${errorText(error).split("\n")[0]}` };
    }
}

/**
 * The case record's attributes of a signature, named by the record's prefix (`manifest`, `diskDigest`):
 * `<prefix>SignatureKey`, `<prefix>SigningKeyId`, `<prefix>SignatureVersionId`, or `<prefix>SignatureMissing`.
 * `dfir verify` reads them back with cli/cases.ts `recordedSignature`.
 */
export function signatureFields(prefix: string, signature: SignatureOutcome): Record<string, string> {
    if ("missing" in signature) return { [`${prefix}SignatureMissing`]: signature.missing };
    return {
        [`${prefix}SignatureKey`]: signature.key,
        [`${prefix}SigningKeyId`]: signature.record.keyId,
        ...(signature.versionId ? { [`${prefix}SignatureVersionId`]: signature.versionId } : {}),
    };
}

/** What a step returns of a record's signature: where it is and the key that signed, or why there is none. */
export function signatureSummary(signature: SignatureOutcome): { bucket: string; key: string; versionId?: string; keyId: string; algorithm: string } | { missing: string } {
    if ("missing" in signature) return signature;
    return { bucket: signature.bucket, key: signature.key, ...(signature.versionId ? { versionId: signature.versionId } : {}), keyId: signature.record.keyId, algorithm: signature.record.algorithm };
}
