/**
 * The case's digest record: the Map's chunk digests combined per snapshot (core/diskDigest.ts `combine`), written to
 * `cases/<caseId>/disk-digests-<execution>.json` under Object Lock COMPLIANCE (never over an existing key), and
 * recorded on the case (`CASE#<caseId>`: diskDigestKey, diskDigestSha256, diskDigestVersionId, diskDigestStatus).
 *
 * {@link writeDigestRecord} is the ONE function that writes the record, and signs it as the seal signs the manifest
 * (functions/lib/signing.ts: KMS Sign of its sha256 with the evidence store's key, the signature record beside it
 * under Object Lock; a signature that cannot be made is recorded as missing on the case, the record stands).
 *
 * A digest that failed is recorded as failed (the record's status, each snapshot's error): never more than happened.
 * A retried record step meets its own record (412) and adopts it after checking it is this execution's.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { KMSClient } from "@aws-sdk/client-kms";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as z from "zod";
import { combine, DEFINITION_RECORD, digestRecordKey, recordStatus, type DigestRecord, type DigestTarget, type SnapshotDigest } from "../../core/diskDigest";
import { canonicalJson, sha256Hex } from "../../core/hash";
import { executionName } from "../../core/manifest";
import { addDays, awsErrorIs, isRecord, parseStepEvent, putLockedObject, STEP_BASE } from "../lib/evidence";
import { EvidenceLocationSchema, nonEmpty } from "../lib/schemas";
import { log } from "../lib/log";
import { setCaseFields } from "../lib/caseFields";
import { signatureFields, signatureSummary, signOrMissing, type SignatureOutcome } from "../lib/signing";
import { chunkResultsOf } from "./digest";

export const RecordEventSchema = z.object({
    action: z.literal("record", { error: 'must be "record"' }),
    ...STEP_BASE,
    evidence: EvidenceLocationSchema,
    executionArn: nonEmpty(),
    /** The plan step's result with the Map's results as `items` (or the plan's / the Map's caught error). */
    plan: z.looseObject({}, { error: "must be the digest plan" }),
});
export type RecordEvent = z.infer<typeof RecordEventSchema>;

export function parseRecordEvent(input: unknown): RecordEvent {
    return parseStepEvent("digest", RecordEventSchema, input);
}

/** What the record step returns (the execution's `$.digest`). */
export interface DigestRecordResult {
    status: DigestRecord["status"];
    bucket: string;
    key: string;
    sha256: string;
    versionId?: string;
    snapshots: { snapshotId: string; status: SnapshotDigest["status"]; digest?: string; error?: string }[];
    /** The record's signature (`<key>.sig.json`) and the key that signed it, or why there is none. */
    signature: ReturnType<typeof signatureSummary>;
}

export interface RecordSettings {
    casesTable: string;
    retentionDays: number;
    /** MANIFEST_SIGNING_KEY_ARN: the key the record's sha256 is signed with (unset: the signature is recorded missing). */
    signingKeyArn?: string;
    now: () => Date;
}

const stepError = (v: unknown): string | undefined => (isRecord(v) && typeof v.Error === "string" ? `${v.Error}: ${String(v.Cause ?? "")}` : undefined);

/** The record of this execution's digests, from the plan and the Map's results. Pure. */
export function buildDigestRecord(event: RecordEvent, digestedAt: string): DigestRecord {
    const plan = event.plan as Record<string, unknown>;
    const base = { schemaVersion: 1 as const, kind: "aws-dfir disk digests" as const, caseId: event.caseId, executionArn: event.executionArn, digestedAt, definition: DEFINITION_RECORD };
    // The plan itself failed (its Catch put the error where the plan goes), or the Map failed as a whole.
    const planFailed = stepError(plan);
    const targets = Array.isArray(plan.targets) ? (plan.targets as DigestTarget[]) : [];
    // A target without whole, positive counts would combine zero chunks into a digest of nothing, "digested".
    const malformed = targets.find((t) => !isRecord(t) || typeof t.snapshotId !== "string" || !(Number.isInteger(t.chunks) && t.chunks >= 1) || !(Number.isInteger(t.blocks) && t.blocks >= 1));
    if (planFailed === undefined && malformed !== undefined) {
        return { ...base, status: "failed", snapshots: [], error: `planning failed: a target is not {snapshotId, blocks >= 1, chunks >= 1}: ${JSON.stringify(malformed).slice(0, 200)}` };
    }
    const mapFailed = stepError(plan.error);
    if (planFailed !== undefined) return { ...base, status: "failed", snapshots: [], error: `planning failed: ${planFailed}` };
    const snapshots = combine(targets, mapFailed !== undefined ? [] : chunkResultsOf(plan.items)).map((s) => (mapFailed !== undefined ? { ...s, error: `the Map failed: ${mapFailed}` } : s));
    const skipped = Array.isArray(plan.skipped) ? plan.skipped.filter(isRecord).map((s) => `${String(s.snapshotId)}: ${String(s.reason)}`) : [];
    const record: DigestRecord = { ...base, status: recordStatus(snapshots), snapshots };
    if (mapFailed !== undefined) record.error = `the Map failed: ${mapFailed}`;
    if (skipped.length > 0) record.error = [record.error, `not digested: ${skipped.join("; ")}`].filter(Boolean).join("; ");
    if (snapshots.length === 0 && record.error === undefined) record.error = "no completed evidence snapshot to digest";
    return record;
}

/**
 * THE writer of a case's digest record: the record's canonical JSON, under Object Lock COMPLIANCE until `retainUntil`,
 * never over an existing key (`If-None-Match`), then signed (its signature beside it, locked the same; or why not),
 * then recorded on the case with its signature. Returns where it is, its sha256 and the signature (adopting this
 * execution's own record, and its own signature, on a retry).
 */
export async function writeDigestRecord(
    clients: { s3: S3Client; dynamodb: DynamoDBClient; kms: KMSClient },
    where: { bucket: string; casesTable: string; signingKeyArn?: string },
    record: DigestRecord,
    retainUntil: Date,
): Promise<{ key: string; sha256: string; versionId?: string; status: DigestRecord["status"]; signature: SignatureOutcome }> {
    const key = digestRecordKey(record.caseId, executionName(record.executionArn));
    const body = canonicalJson(record);
    let written: { sha256: string; versionId?: string; status: DigestRecord["status"] };
    try {
        const put = await putLockedObject(clients.s3, { bucket: where.bucket, key, body, contentType: "application/json", retainUntil, ifNoneMatch: true, metadata: { "case-id": record.caseId, "digest-status": record.status } });
        written = { sha256: put.sha256, status: record.status, ...(put.versionId ? { versionId: put.versionId } : {}) };
    } catch (error) {
        if (!awsErrorIs(error, ["PreconditionFailed", "ConditionalRequestConflict"], 412)) throw error;
        written = await adoptRecord(clients.s3, where.bucket, key, record);
    }
    const signature = await signOrMissing(clients, where.signingKeyArn, { bucket: where.bucket, key, sha256: written.sha256, ...(written.versionId ? { versionId: written.versionId } : {}) }, {
        retainUntil, signedAt: record.digestedAt, caseId: record.caseId, what: "disk digest record",
    });
    const fields: Record<string, string> = {
        diskDigestKey: key,
        diskDigestSha256: written.sha256,
        diskDigestStatus: written.status,
        diskDigestedAt: record.digestedAt,
        ...(written.versionId ? { diskDigestVersionId: written.versionId } : {}),
        ...signatureFields("diskDigest", signature),
    };
    if (!(await setCaseFields(clients.dynamodb, where.casesTable, record.caseId, fields))) {
        // As the seal does: the record and its signature are stored and locked; the case cannot point at them.
        log("ERROR", "case record missing; disk digest record stored but not recorded on the case", { caseId: record.caseId, table: where.casesTable, key });
    }
    return { key, ...written, signature };
}

/** The key holds a record already: this execution's (a retried step) is adopted, as it is; anything else is an error. */
async function adoptRecord(s3: S3Client, bucket: string, key: string, ours: DigestRecord): Promise<{ sha256: string; versionId?: string; status: DigestRecord["status"] }> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await (out.Body as { transformToString(): Promise<string> }).transformToString();
    let existing: Partial<DigestRecord> | undefined;
    try {
        existing = JSON.parse(text) as Partial<DigestRecord>;
    } catch {
        existing = undefined;
    }
    if (!existing || existing.caseId !== ours.caseId || existing.executionArn !== ours.executionArn || typeof existing.status !== "string") {
        throw Object.assign(new Error(`${key} holds a digest record that is not this execution's: not overwritten`), { name: "DigestRecordConflictError" });
    }
    log("WARN", "digest record of this execution already written; adopting it", { caseId: ours.caseId, key });
    return { sha256: sha256Hex(text), status: existing.status as DigestRecord["status"], ...(out.VersionId ? { versionId: out.VersionId } : {}) };
}

/** The record step: build, write, report. */
export async function recordDigests(clients: { s3: S3Client; dynamodb: DynamoDBClient; kms: KMSClient }, event: RecordEvent, settings: RecordSettings): Promise<DigestRecordResult> {
    const now = settings.now();
    const record = buildDigestRecord(event, now.toISOString());
    const written = await writeDigestRecord(clients, { bucket: event.evidence.bucket, casesTable: settings.casesTable, ...(settings.signingKeyArn ? { signingKeyArn: settings.signingKeyArn } : {}) }, record, addDays(now, settings.retentionDays));
    log(record.status === "complete" ? "INFO" : "WARN", "disk digests recorded", { caseId: event.caseId, key: written.key, status: written.status });
    return {
        status: written.status,
        bucket: event.evidence.bucket,
        key: written.key,
        sha256: written.sha256,
        ...(written.versionId ? { versionId: written.versionId } : {}),
        snapshots: record.snapshots.map((s) => ({ snapshotId: s.snapshotId, status: s.status, ...(s.digest ? { digest: s.digest } : {}), ...(s.error ? { error: s.error } : {}) })),
        signature: signatureSummary(written.signature),
    };
}
