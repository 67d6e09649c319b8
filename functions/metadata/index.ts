/**
 * Lambda entry point of the metadata evidence branch.
 *
 * Event `{caseId, target, instance, evidence: {bucket, prefix}}` -> `{objects: EvidenceObject[], missing:
 * [{item, reason}], collectedAt}` (objects under `cases/<caseId>/metadata/`: instance.json,
 * network-interfaces.json, console-output.txt, console-screenshot.jpg). Throws MetadataCaptureFailedError when
 * nothing could be collected, InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): RETENTION_DAYS (default 365).
 */
import { ec2Client, s3Client } from "../lib/aws";
import { addDays, hubTarget, logKeys, memberTarget, retentionDaysFromEnv } from "../lib/evidence";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { collectMetadata, parseMetadataEvent, type MetadataResult } from "./metadata";
import { now as clockNow } from "../lib/clock";

export type { MetadataEvent, MetadataResult } from "./metadata";

export async function handler(event: unknown, context?: InvocationContext): Promise<MetadataResult> {
    const logger = invocationLogger(logKeys(event), context);
    try {
        const retentionDays = retentionDaysFromEnv(process.env);
        const request = parseMetadataEvent(event);
        const now = clockNow();
        const clients = { ec2: ec2Client(memberTarget(request.target)), s3: s3Client(hubTarget(request.target)) };
        const result = await collectMetadata(clients, request, { retainUntil: addDays(now, retentionDays), now: () => now });
        logger.info("metadata collected", { objects: result.objects, missing: result.missing });
        return result;
    } catch (error) {
        logger.error("metadata evidence step failed", { error: errorData(error) });
        throw error;
    }
}
