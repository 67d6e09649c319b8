/**
 * Lambda entry point of the disk evidence branch.
 *
 * Event `{action: "start", caseId, target, instance}` -> {@link DiskEvidence} (`done: false`); event
 * `{action: "check", caseId, target, disk}` -> the updated DiskEvidence (`done: true` when every snapshot is
 * completed). Throws SnapshotFailedError / SnapshotTimeoutError / InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): SNAPSHOT_CAP_SECONDS (default 86400).
 */
import { ENV, type DiskEvidence } from "../../core/workflow";
import { client } from "../lib/aws";
import { errorData, log, logKeys, memberTarget, positiveIntegerFromEnv, type InvocationContext } from "../lib/evidence";
import { checkSnapshots, DEFAULT_SNAPSHOT_CAP_SECONDS, parseSnapshotEvent, startSnapshots, type SnapshotSettings } from "./snapshot";

export type { SnapshotCheckEvent, SnapshotEvent, SnapshotStartEvent } from "./snapshot";

export async function handler(event: unknown, context?: InvocationContext): Promise<DiskEvidence> {
    const keys = logKeys(event, context);
    try {
        const settings: SnapshotSettings = {
            capSeconds: positiveIntegerFromEnv(process.env, ENV.snapshotCapSeconds, DEFAULT_SNAPSHOT_CAP_SECONDS),
            now: () => new Date(),
        };
        const request = parseSnapshotEvent(event);
        const ec2 = client("ec2", memberTarget(request.target));
        const result = request.action === "start" ? await startSnapshots(ec2, request, settings) : await checkSnapshots(ec2, request, settings);
        log("INFO", result.done ? "snapshots completed" : "snapshots pending", { ...keys, disk: result });
        return result;
    } catch (error) {
        log("ERROR", "disk evidence step failed", { ...keys, error: errorData(error) });
        throw error;
    }
}
