/**
 * Lambda entry point of the seal step.
 *
 * Event `{state: <the whole execution state>, executionArn, sealedAt?}` (see `SealInput` in core/manifest.ts) ->
 * {@link SealResult} `{caseId, status, reason, manifest: {bucket, key, versionId?, sha256, mode: "COMPLIANCE",
 * retainUntil}}`. Throws ManifestConflictError / InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): CASES_TABLE (required when a case opened), RETENTION_DAYS (default 365),
 * EVIDENCE_BUCKET (only used when no case opened), MANIFEST_SIGNING_KEY_ARN (the manifest's signing key; unset: the
 * case records its signature missing).
 */
import { ENV, type SealResult } from "../../core/workflow";
import { dynamodbClient, kmsClient, s3Client } from "../lib/aws";
import { hubTarget, retentionDaysFromEnv } from "../lib/evidence";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { manifestSubject } from "../../core/manifest";
import { parseSealEvent, sealCase } from "./seal";
import { now as clockNow } from "../lib/clock";

export type { SealEvent } from "./seal";
export type { SealInput, ExecutionState, Manifest } from "../../core/manifest";

export async function handler(event: unknown, context?: InvocationContext): Promise<SealResult> {
    const logger = invocationLogger({}, context);
    try {
        const retentionDays = retentionDaysFromEnv(process.env);
        const request = parseSealEvent(event);
        const subject = manifestSubject(request.state);
        // Known once the state is parsed; this invocation's own logger, so no other invocation's lines carry them.
        logger.appendKeys({ ...(subject.caseId ? { caseId: subject.caseId } : {}), ...(subject.target.instanceId ? { instanceId: subject.target.instanceId } : {}) });
        const region = subject.target.region ?? process.env.AWS_REGION;
        if (!region) throw new Error("no region: neither the case target, the verdict nor AWS_REGION names one");
        const where = hubTarget({ accountId: subject.target.accountId ?? "", region, instanceId: subject.target.instanceId ?? "" });
        const result = await sealCase(
            { s3: s3Client(where), dynamodb: dynamodbClient(where), kms: kmsClient(where) },
            request,
            {
                retentionDays,
                casesTable: process.env[ENV.casesTable]?.trim() || undefined,
                evidenceBucket: process.env[ENV.evidenceBucket]?.trim() || undefined,
                signingKeyArn: process.env[ENV.manifestSigningKeyArn]?.trim() || undefined,
                now: clockNow,
            },
        );
        logger.info("case sealed", { result });
        return result;
    } catch (error) {
        logger.error("seal failed", { error: errorData(error) });
        throw error;
    }
}
