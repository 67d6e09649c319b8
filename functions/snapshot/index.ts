/**
 * Lambda entry point of the disk evidence branch.
 *
 * Event `{action: "start", caseId, target, instance}` -> {@link DiskEvidence} (`done: false`); event
 * `{action: "check", caseId, target, disk}` -> the updated DiskEvidence (`done: true` when every snapshot is
 * completed). With `copySnapshotsToHub`, events `{action: "copy-start" | "copy-check", caseId, target, disk}` ->
 * the DiskEvidence with its `copy` advanced (`copy.done` when every hub copy is completed).
 * Throws SnapshotFailedError / SnapshotTimeoutError / SnapshotCopyFailedError / SnapshotCopyTimeoutError /
 * InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): SNAPSHOT_CAP_SECONDS (default 86400), RETENTION_DAYS (the snapshots' lock,
 * default 365); for the copy: COPY_SNAPSHOTS_TO_HUB
 * ("true"), HUB_SNAPSHOT_KEY_ARN and HOME_ACCOUNT_ID.
 */
import { ENV, type DiskEvidence } from "../../core/workflow";
import { ec2Client } from "../lib/aws";
import { hubTarget, logKeys, memberTarget, pollSecondsOfEvent, positiveIntegerFromEnv, requiredFromEnv, retentionDaysFromEnv } from "../lib/evidence";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { ConfigurationError } from "../lib/evidenceErrors";
import { copyToHub, type CopySettings } from "./copy";
import { checkSnapshots, DEFAULT_SNAPSHOT_CAP_SECONDS, parseSnapshotEvent, startSnapshots, type SnapshotCheckEvent, type SnapshotSettings } from "./snapshot";
import { now as clockNow } from "../lib/clock";
import { DEFAULT_POLL_SECONDS } from "../../core/definition";
import { withNextPoll } from "../../core/polling";
import { lockDaysProblem } from "../../core/snapshotLock";

export type { SnapshotCheckEvent, SnapshotEvent, SnapshotStartEvent } from "./snapshot";
export type { SnapshotCopyEvent } from "./copy";

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** The copy's settings from the environment: the flag must be on, the hub key an exact key ARN. */
export function copySettingsFromEnv(env: NodeJS.ProcessEnv, capSeconds: number): CopySettings {
    if (env[ENV.copySnapshotsToHub] !== "true") {
        throw new ConfigurationError(ENV.copySnapshotsToHub, `is ${JSON.stringify(env[ENV.copySnapshotsToHub] ?? "unset")}, not "true": this function was not deployed to copy snapshots into the hub`);
    }
    const hubKeyArn = requiredFromEnv(env, ENV.hubSnapshotKeyArn);
    if (!KMS_KEY_ARN.test(hubKeyArn)) throw new ConfigurationError(ENV.hubSnapshotKeyArn, `must be a KMS key ARN, got ${JSON.stringify(hubKeyArn)}`);
    const hubAccountId = requiredFromEnv(env, ENV.homeAccountId);
    if (!/^\d{12}$/.test(hubAccountId)) throw new ConfigurationError(ENV.homeAccountId, `must be 12 digits, got ${JSON.stringify(hubAccountId)}`);
    return { hubAccountId, hubKeyArn, capSeconds, retentionDays: lockDaysFromEnv(env), now: clockNow };
}

/** The retention the snapshots are locked for (RETENTION_DAYS): one a snapshot lock can take, else a deployment error before any call. */
export function lockDaysFromEnv(env: NodeJS.ProcessEnv): number {
    const days = retentionDaysFromEnv(env);
    const problem = lockDaysProblem(days);
    if (problem !== undefined) throw new ConfigurationError(ENV.retentionDays, problem);
    return days;
}

export async function handler(event: unknown, context?: InvocationContext): Promise<DiskEvidence> {
    const logger = invocationLogger(logKeys(event), context);
    try {
        const capSeconds = positiveIntegerFromEnv(process.env, ENV.snapshotCapSeconds, DEFAULT_SNAPSHOT_CAP_SECONDS);
        const settings: SnapshotSettings = { capSeconds, retentionDays: lockDaysFromEnv(process.env), now: clockNow };
        const pollSeconds = pollSecondsOfEvent(event, DEFAULT_POLL_SECONDS.snapshot);
        const request = parseSnapshotEvent(event);
        const ec2 = ec2Client(memberTarget(request.target));
        if (request.action === "copy-start" || request.action === "copy-check") {
            const copySettings = copySettingsFromEnv(process.env, capSeconds);
            const copied = await copyToHub({ member: ec2, hub: ec2Client(hubTarget(request.target)) }, request, copySettings);
            return copied.copy ? { ...copied, copy: withNextPoll(copied.copy, !copied.copy.done, clockNow(), pollSeconds) } : copied;
        }
        const checked = request.action === "start" ? await startSnapshots(ec2, request, settings) : await checkSnapshots(ec2, request as SnapshotCheckEvent, settings);
        const result = withNextPoll(checked, !checked.done, clockNow(), pollSeconds);
        logger.info(result.done ? "snapshots completed" : "snapshots pending", { disk: result });
        return result;
    } catch (error) {
        logger.error("disk evidence step failed", { error: errorData(error) });
        throw error;
    }
}
