/**
 * Lambda entry point of the disk content digests (functions/digest/digest.ts, record.ts; the digest: core/diskDigest.ts).
 *
 * Events: `{action: "plan", caseId, target, disk}` -> {@link DigestPlan} `{targets, items, skipped}`;
 * `{action: "chunk", caseId, target, snapshotId, chunk, blocks}` (one Distributed Map item) -> ChunkResult
 * `{snapshotId, chunk, digest, written}`; `{action: "record", caseId, target, evidence, executionArn, plan}` ->
 * DigestRecordResult (the record written under Object Lock and recorded on the case).
 * The EBS direct APIs are called in the instance's account (through the responder role for a member); S3 and
 * DynamoDB in the functions' own. Throws InvalidRequestError / ConfigurationError by name; AWS errors as they are.
 * Environment (read per invocation): CASES_TABLE, RETENTION_DAYS (default 365), MANIFEST_SIGNING_KEY_ARN (the key
 * the record is signed with, as the seal signs the manifest; unset: the record's signature is recorded missing).
 */
import { ENV } from "../../core/workflow";
import type { ChunkResult } from "../../core/diskDigest";
import { dynamodbClient, ebsClient, kmsClient, s3Client } from "../lib/aws";
import { hubTarget, isRecord, logKeys, memberTarget, requiredFromEnv, retentionDaysFromEnv } from "../lib/evidence";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { now as clockNow } from "../lib/clock";
import { digestChunk, parseDigestEvent, planDigests, type DigestPlan } from "./digest";
import { parseRecordEvent, recordDigests, type DigestRecordResult } from "./record";

export type { DigestPlan } from "./digest";
export type { DigestRecordResult } from "./record";

export async function handler(event: unknown, context?: InvocationContext): Promise<DigestPlan | ChunkResult | DigestRecordResult> {
    const logger = invocationLogger(logKeys(event), context);
    try {
        if (isRecord(event) && event.action === "record") {
            const request = parseRecordEvent(event);
            const where = hubTarget(request.target);
            return await recordDigests(
                { s3: s3Client(where), dynamodb: dynamodbClient(where), kms: kmsClient(where) },
                request,
                {
                    casesTable: requiredFromEnv(process.env, ENV.casesTable),
                    retentionDays: retentionDaysFromEnv(process.env),
                    signingKeyArn: process.env[ENV.manifestSigningKeyArn]?.trim() || undefined,
                    now: clockNow,
                },
            );
        }
        const request = parseDigestEvent(event);
        const ebs = ebsClient(memberTarget(request.target));
        return request.action === "plan" ? await planDigests(ebs, request) : await digestChunk(ebs, request);
    } catch (error) {
        logger.error("disk digest step failed", { error: errorData(error) });
        throw error;
    }
}
