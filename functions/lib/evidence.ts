/**
 * What the evidence and sealing steps share: parsing their events (the {@link Target} and the instance record
 * travel in every one), reading configuration per invocation, writing Object-Locked objects under a case prefix,
 * and structured logs.
 *
 * Accounts: the instance may live in a member account (`target.roleArn`), but the evidence bucket and the cases
 * table belong to the account the functions run in, in the instance's region (an isolated instance reaches S3
 * only through its regional gateway endpoint). So EC2/SSM clients use {@link memberTarget} and S3/DynamoDB
 * clients use {@link hubTarget}.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ENV, type EvidenceObject, type InstanceRecord, type Target } from "../../core/workflow";
import type { ClientTarget } from "./aws";
import { InvalidRequestError } from "./evidenceErrors";
import { hexToBase64, sha256Hex } from "../../core/hash";
import { EvidenceCaseIdSchema, EvidenceInstanceSchema, EvidenceLocationSchema, parseEvent, preview, sentence, stringAt, TargetSchema } from "./schemas";
import * as z from "zod";
import { fromEnv, positiveInteger, variable } from "./settings";
import { pollSecondsOf } from "../../core/polling";


/** Object Lock retention when RETENTION_DAYS is unset: the evidence bucket's default (`dfir:evidenceRetentionDays`). */
export const DEFAULT_RETENTION_DAYS = 365;

/** Where EC2 and SSM calls go: the instance's region, through the member role when there is one. */
export function memberTarget(target: Target): ClientTarget {
    return target.roleArn ? { region: target.region, roleArn: target.roleArn } : { region: target.region };
}

/** Where S3 and DynamoDB calls go: the functions' own account (the evidence bucket's), in the instance's region. */
export function hubTarget(target: Target): ClientTarget {
    return { region: target.region };
}

// ---------------------------------------------------------------------------------------------------------------
// Event parsing: the shapes are zod schemas (./schemas.ts); every problem is reported at once, before any AWS call.

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The fields every evidence step's event starts with (the Parallel state's branch input): the case id and the
 * target. The instance record, where a step takes one, must describe the target's instance (a mismatch means the
 * state machine wired the wrong value): see {@link sameInstance}.
 */
export const STEP_BASE = { caseId: EvidenceCaseIdSchema, target: TargetSchema };
export const STEP_WITH_INSTANCE = { ...STEP_BASE, instance: EvidenceInstanceSchema };
export const STEP_WITH_EVIDENCE = { ...STEP_WITH_INSTANCE, evidence: EvidenceLocationSchema };

/** The event's instance record names the target's instance. */
export function sameInstance(event: { target: Target; instance?: InstanceRecord }, ctx: z.RefinementCtx): void {
    if (event.instance && event.instance.instanceId !== event.target.instanceId) {
        sentence(ctx, ["instance", "instanceId"], `${preview(event.instance.instanceId)} is not target.instanceId ${preview(event.target.instanceId)}`);
    }
}

/**
 * Parses an evidence step's event with `schema`: every problem at once as one {@link InvalidRequestError}
 * (`invalid <step> request: ...`) naming the case and instance the raw event gives.
 */
export function parseStepEvent<S extends z.ZodType>(step: string, schema: S, input: unknown): z.output<S> {
    return parseEvent(schema, input, step, (raw) => ({ caseId: stringAt(raw, "caseId"), instanceId: stringAt(raw, "target", "instanceId") }));
}

/**
 * The shortest pause between checks the Task passes as `pollSeconds` (core/definition.ts), or `fallback` when the
 * event has none; a malformed one is an {@link InvalidRequestError}.
 */
export function pollSecondsOfEvent(event: unknown, fallback: number): number {
    try {
        return pollSecondsOf(isRecord(event) ? event.pollSeconds : undefined, fallback);
    } catch (error) {
        throw new InvalidRequestError([(error as Error).message]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration, read per invocation (the drill runs several configurations in one process).

/** A whole number of seconds or days from the environment, or the default when unset. */
export function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
    return fromEnv(z.object({ [name]: positiveInteger(fallback) }), env)[name];
}

/** A required string from the environment (trimmed). */
export function requiredFromEnv(env: NodeJS.ProcessEnv, name: string): string {
    return fromEnv(z.object({ [name]: variable(z.string({ error: "is not set" }).trim()) }), env)[name];
}

/** Object Lock retention in days (RETENTION_DAYS, default {@link DEFAULT_RETENTION_DAYS}). */
export function retentionDaysFromEnv(env: NodeJS.ProcessEnv): number {
    return positiveIntegerFromEnv(env, ENV.retentionDays, DEFAULT_RETENTION_DAYS);
}

/** `from` plus whole days (UTC days of 86,400 s: Object Lock counts in time, not calendar days). */
export function addDays(from: Date, days: number): Date {
    return new Date(from.getTime() + days * 86_400_000);
}

export function addSeconds(from: Date, seconds: number): Date {
    return new Date(from.getTime() + seconds * 1000);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing evidence.

/** One object to write under a case prefix. */
export interface LockedPut {
    bucket: string;
    key: string;
    body: Uint8Array | string;
    contentType: string;
    /** COMPLIANCE retain-until date. */
    retainUntil: Date;
    /** Refuse to overwrite an existing key (`If-None-Match: *`). */
    ifNoneMatch?: boolean;
    /** User metadata (x-amz-meta-*). The sha256 is always added. */
    metadata?: Record<string, string>;
}

/**
 * Writes one object with Object Lock COMPLIANCE and an explicit retain-until (not relying on the bucket default,
 * which an administrator can change), and returns its custody record.
 *
 * We hash the bytes ourselves and send the digest as `ChecksumSHA256`: S3 rejects the upload if what it received
 * differs, and S3 requires an integrity header on any PUT that sets a retention anyway. The hex digest is also
 * stored as `x-amz-meta-sha256` so `aws s3api head-object` shows the value the manifest records.
 */
export async function putLockedObject(s3: S3Client, put: LockedPut): Promise<EvidenceObject> {
    const bytes = typeof put.body === "string" ? Buffer.from(put.body, "utf8") : put.body;
    const sha256 = sha256Hex(bytes);
    const out = await s3.send(
        new PutObjectCommand({
            Bucket: put.bucket,
            Key: put.key,
            Body: bytes,
            ContentType: put.contentType,
            ContentLength: bytes.byteLength,
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: hexToBase64(sha256),
            ObjectLockMode: "COMPLIANCE",
            ObjectLockRetainUntilDate: put.retainUntil,
            Metadata: { ...(put.metadata ?? {}), sha256 },
            ...(put.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
        }),
    );
    const object: EvidenceObject = { bucket: put.bucket, key: put.key, sha256, bytes: bytes.byteLength };
    if (out.VersionId) object.versionId = out.VersionId;
    return object;
}

// ---------------------------------------------------------------------------------------------------------------
// Error text and log keys.

/** `Name: message` of an error, for records and reasons. */
export function errorText(error: unknown): string {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The error name an AWS SDK error carries (or the HTTP status when the name is generic). */
export function awsErrorIs(error: unknown, names: readonly string[], httpStatus?: number): boolean {
    if (!(error instanceof Error)) return false;
    if (names.includes(error.name)) return true;
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return httpStatus !== undefined && status === httpStatus;
}

/** Correlation keys for every log line of an invocation, taken from the raw event so a bad event is traceable. */
export function logKeys(event: unknown): Record<string, string> {
    const keys: Record<string, string> = {};
    if (isRecord(event)) {
        if (typeof event.caseId === "string") keys.caseId = event.caseId;
        if (typeof event.action === "string") keys.action = event.action;
        if (isRecord(event.target) && typeof event.target.instanceId === "string") keys.instanceId = event.target.instanceId;
    }
    return keys;
}
