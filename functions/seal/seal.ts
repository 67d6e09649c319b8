/**
 * Sealing: build the case manifest from the execution state (core/manifest.ts), write it under Object Lock
 * COMPLIANCE without ever overwriting an existing manifest, and record status and manifest hash on the case.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { KMSClient } from "@aws-sdk/client-kms";
import { withSignatureGap } from "../../core/signature";
import { setCaseFields } from "../lib/caseFields";
import { signatureFields, signatureSummary, signOrMissing, type SignatureOutcome } from "../lib/signing";
import {
    buildManifest,
    manifestKey,
    manifestSubject,
    MANIFEST_SCHEMA_VERSION,
    serializeManifest,
    type ExecutionState,
    type Manifest,
    type SealInput,
} from "../../core/manifest";
import { ENV, type CaseStatus, type SealResult } from "../../core/workflow";
import { addDays, awsErrorIs, errorText, putLockedObject } from "../lib/evidence";
import * as z from "zod";
import { isoTime, nonEmpty, parseEvent, stringAt } from "../lib/schemas";
import { log } from "../lib/log";
import { ConfigurationError, InvalidRequestError, ManifestConflictError } from "../lib/evidenceErrors";
import { sha256Hex } from "../../core/hash";

/**
 * `{state: $, executionArn: $$.Execution.Id, sealedAt?: $$.State.EnteredTime}`. The state is passed on as the
 * execution built it (core/manifest.ts reads it); only that it has a triage verdict is checked here.
 */
export const SealEventSchema = z.object(
    {
        state: z
            .looseObject(
                { triage: z.looseObject({ verdict: z.looseObject({}, { error: "is missing" }) }, { error: "must hold the triage verdict" }) },
                { error: "must be the execution state" },
            )
            .transform((state) => state as unknown as ExecutionState),
        executionArn: nonEmpty("a string"),
        sealedAt: isoTime(", when present, must be an ISO time").optional(),
    },
    { error: "must be an object {state, executionArn, sealedAt?}" },
);

export type SealEvent = z.infer<typeof SealEventSchema>;

export interface SealSettings {
    /** RETENTION_DAYS: COMPLIANCE retention of the manifest. */
    retentionDays: number;
    /** CASES_TABLE: where the case record is updated (required when a case opened). */
    casesTable?: string;
    /** EVIDENCE_BUCKET: where the manifest goes when no case opened (the case names its bucket otherwise). */
    evidenceBucket?: string;
    /** MANIFEST_SIGNING_KEY_ARN: the key the manifest's sha256 is signed with (unset: the case records the signature missing). */
    signingKeyArn?: string;
    now: () => Date;
}

export interface SealClients {
    s3: S3Client;
    dynamodb: DynamoDBClient;
    kms: KMSClient;
}

/** The largest manifest read back when adopting an earlier seal of the same execution. */
const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export function parseSealEvent(input: unknown): SealEvent {
    return parseEvent(SealEventSchema, input, "seal", (raw) => ({ caseId: stringAt(raw, "state", "case", "caseId") ?? stringAt(raw, "state", "triage", "verdict", "caseId") }));
}

/**
 * Seals a case: manifest -> `PutObject` (Object Lock COMPLIANCE, retain-until = sealedAt + retention,
 * `If-None-Match: *`) -> KMS `Sign` of its sha256 and the signature record beside it (`<manifest key>.sig.json`,
 * locked the same; functions/lib/signing.ts) -> `UpdateItem` of `CASE#<caseId>` (status, reason, sealedAt, manifest
 * key/version/sha256, the signature's key and signing key).
 *
 * A signature that cannot be made or stored loses nothing: the manifest stands, the case is still sealed, and its
 * status and reason say what is missing (`manifest signature: <why>`; never SUCCEEDED: core/signature.ts
 * `withSignatureGap`). The manifest itself cannot say so (it is written before it is signed).
 *
 * Retries: the key is per execution, so a retried seal meets its own earlier manifest (412). That manifest is
 * adopted — its hash verified and its status returned — rather than failing or writing another: the first seal
 * of an execution is the seal. A manifest of another execution at the key is a {@link ManifestConflictError}.
 * The open-case lock (`OPEN#...`) is left alone: a case stays open until an analyst releases it.
 */
export async function sealCase(clients: SealClients, event: SealEvent, settings: SealSettings): Promise<SealResult> {
    const sealedAt = event.sealedAt ? new Date(event.sealedAt).toISOString() : settings.now().toISOString();
    const input: SealInput = { state: event.state, executionArn: event.executionArn, sealedAt };
    const subject = manifestSubject(event.state);
    const caseId = subject.caseId;
    if (!caseId) throw new InvalidRequestError(["no case id: neither state.case nor state.triage.verdict has one"], {}, "seal");
    const context = { caseId: caseId as string, instanceId: subject.target.instanceId };
    const bucket = event.state.case?.evidence?.bucket || settings.evidenceBucket;
    if (!bucket) throw new ConfigurationError(ENV.evidenceBucket, "is not set and no case names an evidence bucket");

    const manifest = buildManifest(input);
    const { body, sha256 } = serializeManifest(manifest);
    const key = manifestKey(context.caseId, event.executionArn);
    const retainUntil = addDays(new Date(sealedAt), settings.retentionDays);

    let sealed: { status: CaseStatus; reason: string; sealedAt: string; sha256: string; versionId?: string; retainUntil: string };
    try {
        const written = await putLockedObject(clients.s3, {
            bucket,
            key,
            body,
            contentType: "application/json",
            retainUntil,
            ifNoneMatch: true,
            metadata: { "case-id": context.caseId, status: manifest.status },
        });
        sealed = { status: manifest.status, reason: manifest.reason, sealedAt, sha256, retainUntil: retainUntil.toISOString() };
        if (written.versionId) sealed.versionId = written.versionId;
        log("INFO", "manifest written", { ...context, bucket, key, sha256, status: manifest.status, reason: manifest.reason });
    } catch (error) {
        if (!awsErrorIs(error, ["PreconditionFailed", "ConditionalRequestConflict"], 412)) throw error;
        sealed = await adoptExisting(clients.s3, bucket, key, event.executionArn, context, sha256, error);
    }

    const signature = await signOrMissing(clients, settings.signingKeyArn, { bucket, key, sha256: sealed.sha256, ...(sealed.versionId ? { versionId: sealed.versionId } : {}) }, {
        retainUntil: sealed.retainUntil === "unknown" ? retainUntil : new Date(sealed.retainUntil),
        signedAt: sealed.sealedAt,
        caseId: context.caseId,
        what: "manifest",
    });
    Object.assign(sealed, withSignatureGap(sealed.status, sealed.reason, "missing" in signature ? signature.missing : undefined));

    if (event.state.case) {
        if (!settings.casesTable) throw new ConfigurationError(ENV.casesTable, "is not set");
        const network = manifest.containment.interfaces || manifest.containment.networkAclEntries
            ? JSON.stringify({ interfaces: manifest.containment.interfaces ?? [], networkAclEntries: manifest.containment.networkAclEntries ?? [] })
            : undefined;
        await recordSeal(clients.dynamodb, settings.casesTable, context, { bucket, key, ...sealed, signature, ...(network ? { network } : {}) });
    } else {
        log("WARN", "no case record to update (the case never opened)", { ...context, key });
    }

    const result: SealResult = {
        caseId: context.caseId,
        status: sealed.status,
        reason: sealed.reason,
        manifest: { bucket, key, sha256: sealed.sha256, mode: "COMPLIANCE", retainUntil: sealed.retainUntil },
    };
    if (sealed.versionId) result.manifest.versionId = sealed.versionId;
    result.signature = signatureSummary(signature);
    return result;
}

/**
 * The key already holds a manifest: verify it is this execution's (a retried seal) and return what it sealed.
 * Its hash is recomputed from its bytes, so the returned sha256 is the object's, not a recorded claim.
 */
async function adoptExisting(
    s3: S3Client,
    bucket: string,
    key: string,
    executionArn: string,
    context: { caseId: string; instanceId?: string },
    ourSha256: string,
    original: unknown,
): Promise<{ status: CaseStatus; reason: string; sealedAt: string; sha256: string; versionId?: string; retainUntil: string }> {
    let out;
    try {
        out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
        // A concurrent writer that has not finished: let the state machine retry the original error.
        log("WARN", "manifest exists but cannot be read back", { ...context, key, error: errorText(error) });
        throw original;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (out.Body ?? []) as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_MANIFEST_BYTES) throw new ManifestConflictError(context, key, undefined, ourSha256);
        chunks.push(Buffer.from(chunk));
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const existingSha256 = sha256Hex(text);
    let existing: Partial<Manifest> | undefined;
    try {
        existing = JSON.parse(text) as Partial<Manifest>;
    } catch {
        existing = undefined;
    }
    if (
        !existing ||
        existing.schemaVersion !== MANIFEST_SCHEMA_VERSION ||
        existing.caseId !== context.caseId ||
        existing.executionArn !== executionArn ||
        typeof existing.status !== "string" ||
        typeof existing.reason !== "string" ||
        typeof existing.sealedAt !== "string"
    ) {
        throw new ManifestConflictError(context, key, existingSha256, ourSha256);
    }
    const retainUntil = out.ObjectLockRetainUntilDate?.toISOString();
    log(existingSha256 === ourSha256 ? "INFO" : "WARN", "manifest of this execution already sealed; adopting it", {
        ...context,
        key,
        existingSha256,
        recomputedSha256: ourSha256,
    });
    const adopted = {
        status: existing.status,
        reason: existing.reason,
        sealedAt: existing.sealedAt,
        sha256: existingSha256,
        retainUntil: retainUntil ?? "unknown",
    };
    return out.VersionId ? { ...adopted, versionId: out.VersionId } : adopted;
}

/**
 * Records the seal on the case record `CASE#<caseId>`. Conditional on the record existing: a seal never creates a
 * half record; if it is missing the manifest still stands and the gap is logged as an error.
 */
async function recordSeal(
    dynamodb: DynamoDBClient,
    table: string,
    context: { caseId: string },
    sealed: { status: CaseStatus; reason: string; sealedAt: string; bucket: string; key: string; sha256: string; versionId?: string; network?: string; signature: SignatureOutcome },
): Promise<void> {
    const signature = sealed.signature;
    const fields: Record<string, string> = {
        status: sealed.status,
        statusReason: sealed.reason,
        sealedAt: sealed.sealedAt,
        manifestBucket: sealed.bucket,
        manifestKey: sealed.key,
        manifestSha256: sealed.sha256,
        ...(sealed.versionId ? { manifestVersionId: sealed.versionId } : {}),
        // The manifest's signature record and the key that signed it, or why there is none.
        ...signatureFields("manifest", signature),
        // Per interface whether a path could still carry a flow, and the network ACL rules to remove on release.
        ...(sealed.network ? { containmentNetwork: sealed.network } : {}),
    };
    if (!(await setCaseFields(dynamodb, table, context.caseId, fields))) {
        log("ERROR", "case record missing; manifest sealed but not recorded on the case", { ...context, table, key: sealed.key });
    }
}
