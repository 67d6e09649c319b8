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
import { ConfigurationError, InvalidRequestError } from "./evidenceErrors";
import { hexToBase64, sha256Hex } from "../../core/hash";
import { pollSecondsOf } from "../../core/polling";

/** EC2 instance ids: `i-` plus 8 or 17 lower-case hex digits (as in core/triage.ts). */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
/** Case ids become S3 key segments and tag values: no slashes, no whitespace, bounded. */
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
// Event parsing. Events are parsed, not trusted: every problem is collected so a bad event is fixed in one round.

/** Collects problems while parsing one event. */
export class Problems {
    readonly list: string[] = [];
    add(problem: string): void {
        this.list.push(problem);
    }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Short description of a value for problem messages (never the whole value: events can be large). */
export function preview(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    if (value === null) return "null";
    return Array.isArray(value) ? "array" : typeof value;
}

export function parseCaseId(value: unknown, problems: Problems): string {
    if (typeof value !== "string" || !CASE_ID.test(value)) {
        problems.add(`caseId must be 1-128 characters of letters, digits, '.', '_' or '-', got ${preview(value)}`);
        return "";
    }
    return value;
}

export function parseTarget(value: unknown, problems: Problems): Target {
    if (!isRecord(value)) {
        problems.add(`target must be an object {accountId, region, instanceId, roleArn?}, got ${preview(value)}`);
        return { accountId: "", region: "", instanceId: "" };
    }
    const { accountId, region, instanceId, roleArn } = value;
    if (typeof accountId !== "string" || !ACCOUNT_ID.test(accountId)) problems.add(`target.accountId must be 12 digits, got ${preview(accountId)}`);
    if (typeof region !== "string" || !REGION.test(region)) problems.add(`target.region must be an AWS region, got ${preview(region)}`);
    if (typeof instanceId !== "string" || !INSTANCE_ID.test(instanceId)) problems.add(`target.instanceId must be an EC2 instance id, got ${preview(instanceId)}`);
    if (roleArn !== undefined && roleArn !== null && (typeof roleArn !== "string" || !roleArn.startsWith("arn:"))) {
        problems.add(`target.roleArn, when present, must be a role ARN, got ${preview(roleArn)}`);
    }
    const target: Target = { accountId: String(accountId), region: String(region), instanceId: String(instanceId) };
    if (typeof roleArn === "string") target.roleArn = roleArn;
    return target;
}

/**
 * The instance record as the case recorded it. Only what the evidence steps use is checked; it must describe the
 * target's instance (a mismatch means the state machine wired the wrong value).
 */
export function parseInstanceRecord(value: unknown, target: Target, problems: Problems): InstanceRecord {
    if (!isRecord(value)) {
        problems.add(`instance must be the case's instance record, got ${preview(value)}`);
        return undefined as unknown as InstanceRecord;
    }
    if (value.instanceId !== target.instanceId) {
        problems.add(`instance.instanceId ${preview(value.instanceId)} is not target.instanceId ${preview(target.instanceId)}`);
    }
    if (value.platform !== "linux" && value.platform !== "windows") {
        problems.add(`instance.platform must be "linux" or "windows", got ${preview(value.platform)}`);
    }
    return value as unknown as InstanceRecord;
}

export function parseEvidenceLocation(value: unknown, problems: Problems): { bucket: string; prefix: string } {
    if (!isRecord(value) || typeof value.bucket !== "string" || value.bucket === "") {
        problems.add(`evidence must be {bucket, prefix} with a bucket name, got ${preview(value)}`);
        return { bucket: "", prefix: "" };
    }
    return { bucket: value.bucket, prefix: typeof value.prefix === "string" ? value.prefix : "" };
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

/** Throws the collected problems as one {@link InvalidRequestError}. */
export function assertNoProblems(step: string, problems: Problems, context: { caseId?: string; instanceId?: string }): void {
    if (problems.list.length > 0) throw new InvalidRequestError(problems.list, context, step);
}

// ---------------------------------------------------------------------------------------------------------------
// Configuration, read per invocation (the drill runs several configurations in one process).

/** A whole number of seconds or days from the environment, or the default when unset. */
/**
 * The fields every evidence step's event starts with (the Parallel state's branch input): the event as an object,
 * the case id and the target, parsed into one Problems list so a bad event is reported in one round.
 */
export function parseStepBase(step: string, input: unknown): {
    event: Record<string, unknown>;
    problems: Problems;
    caseId: string;
    target: Target;
    context: { caseId: string; instanceId: string };
} {
    const problems = new Problems();
    if (!isRecord(input)) {
        problems.add(`event must be an object, got ${preview(input)}`);
        assertNoProblems(step, problems, {});
    }
    const event = input as Record<string, unknown>;
    const caseId = parseCaseId(event.caseId, problems);
    const target = parseTarget(event.target, problems);
    return { event, problems, caseId, target, context: { caseId, instanceId: target.instanceId } };
}

export function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) {
        throw new ConfigurationError(variable, `must be a positive whole number, got ${JSON.stringify(raw)}`);
    }
    return value;
}

/** A required string from the environment. */
export function requiredFromEnv(env: NodeJS.ProcessEnv, variable: string): string {
    const raw = env[variable];
    if (raw === undefined || raw.trim() === "") throw new ConfigurationError(variable, "is not set");
    return raw.trim();
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
