/**
 * Disk evidence: one crash-consistent set of EBS snapshots of every volume of the instance (boot included),
 * started once, then polled by the state machine's wait loop until every snapshot completes, one fails, or the
 * cap runs out. The SDK's snapshot waiter gives up after 10 minutes, far too soon for large volumes, hence the
 * loop in Step Functions with this function as its "check".
 */
import {
    CreateSnapshotsCommand,
    CreateTagsCommand,
    DescribeLockedSnapshotsCommand,
    DescribeSnapshotsCommand,
    DescribeVolumesCommand,
    LockSnapshotCommand,
    type EC2Client,
    type Snapshot,
    type SnapshotInfo,
} from "@aws-sdk/client-ec2";
import { lockProblem, lockRecordOf, lockRequest, type SnapshotLockRecord } from "../../core/snapshotLock";
import { planVolumeTags } from "../../core/snapshotTags";
import { TAGS } from "../../core/tags";
import { TRANSIENT_ERRORS, type DiskEvidence, type InstanceRecord, type SnapshotRecord, type Target } from "../../core/workflow";
import { addSeconds, awsErrorIs, errorText, isRecord, parseStepEvent, sameInstance, STEP_BASE, STEP_WITH_INSTANCE } from "../lib/evidence";
import * as z from "zod";
import { actionError, bool, isoTime, matching, nonEmpty, preview, sentence } from "../lib/schemas";
import { log } from "../lib/log";
import { SnapshotFailedError, SnapshotTimeoutError, type FailedSnapshot } from "../lib/evidenceErrors";
import type { SnapshotCopyEvent } from "./copy";

/** Default cap of the poll loop (SNAPSHOT_CAP_SECONDS): a day, enough for multi-TiB first snapshots. */
export const DEFAULT_SNAPSHOT_CAP_SECONDS = 86_400;
/**
 * Tags set on every snapshot at creation: the case, the instance, what it is. The volume's own tags are copied after
 * (core/snapshotTags.ts decides which, and under which key).
 */
export const SNAPSHOT_TAGS = { caseId: TAGS.caseId, instanceId: TAGS.instanceId, evidence: TAGS.evidence } as const;
/**
 * EC2 is eventually consistent: a snapshot just created may be unknown to DescribeSnapshots for a short while.
 * Within this window after the start an unknown snapshot counts as pending; after it, as failed (deleted).
 */
export const NOT_FOUND_GRACE_MS = 10 * 60_000;



export interface SnapshotSettings {
    /** Poll cap in seconds (deadline = start + cap). */
    capSeconds: number;
    /** Days each evidence snapshot is locked in compliance mode (the evidence retention: core/snapshotLock.ts). */
    retentionDays: number;
    /** Clock, injectable for tests. */
    now: () => Date;
}

const SNAPSHOT_ID = /^snap-[0-9A-Za-z]+$/;

/** The disk evidence as the start step returned it and the poll loop passes it back: what is read is checked, the rest passed on. */
const DISK_SHAPE = {
    snapshots: z
        .array(z.looseObject({ snapshotId: z.string({ error: "must be a string" }), volumeId: z.string({ error: "must be a string" }) }, { error: "must have snapshotId and volumeId" }), {
            error: "must be a list",
        })
        .min(1, { error: "must not be empty" }),
    startedAt: isoTime(),
    deadline: isoTime(),
};
const DISK_ERROR = { error: "must be the DiskEvidence of the start step" };
const asDisk = (disk: unknown) => disk as DiskEvidence;
const DiskSchema = z.looseObject(DISK_SHAPE, DISK_ERROR).transform(asDisk);

/** One snapshot's copy record as the copy loop passes it back. */
const CopyRecordSchema = z
    .looseObject(
        {
            sourceSnapshotId: nonEmpty(),
            volumeId: nonEmpty(),
            memberKeyId: nonEmpty(),
            hubKeyArn: nonEmpty(),
            shared: bool("true or false"),
            memberCopyId: z.string({ error: ", when present, must be a snapshot id" }).regex(SNAPSHOT_ID, { error: ", when present, must be a snapshot id" }).optional(),
            hubCopyId: z.string({ error: ", when present, must be a snapshot id" }).regex(SNAPSHOT_ID, { error: ", when present, must be a snapshot id" }).optional(),
            memberCopyState: z.string({ error: ", when present, must be a string" }).optional(),
            hubCopyState: z.string({ error: ", when present, must be a string" }).optional(),
            progress: z.string({ error: ", when present, must be a string" }).optional(),
            memberCopyStartedAt: isoTime(", when present, must be an ISO time").optional(),
            hubCopyStartedAt: isoTime(", when present, must be an ISO time").optional(),
        },
        { error: "must be a snapshot copy record" },
    )
    .superRefine((r, ctx) => {
        if (r.shared === true && r.memberCopyId === undefined) sentence(ctx, [], "is shared without a member copy");
        if (r.hubCopyId !== undefined && r.shared !== true) sentence(ctx, [], "has a hub copy of a member copy not shared");
    });

/**
 * The copy into the hub as the copy loop passes it back: its times, its accounts, and one well-formed record per
 * snapshot (which records, of which volumes: {@link copyMatchesDisk}). Which hub account and keys it may name is the
 * copy's own check against the function's settings (copyToHub).
 */
const DiskCopySchema = z.looseObject(
    {
        hubAccountId: matching(/^\d{12}$/, "12 digits"),
        startedAt: isoTime(),
        deadline: isoTime(),
        done: bool("true or false"),
        snapshots: z.array(CopyRecordSchema, { error: "must be a list" }),
    },
    { error: "must be the copy of the copy-start step" },
);

/**
 * `{action: "start", caseId, target, instance, disk?}`: take the snapshots (`disk` only when a retry already has
 * them); `{action: "check", caseId, target, disk}`: poll the snapshots named in `disk`; `{action: "copy-start" |
 * "copy-check", caseId, target, disk}`: copy a member's snapshots into the hub (copy-start builds `disk.copy`, a
 * retried start may carry it already; copy-check advances the one it is given).
 */
export const SnapshotEventSchema = z
    .discriminatedUnion(
        "action",
        [
            z.object({ action: z.literal("start"), ...STEP_WITH_INSTANCE, disk: DiskSchema.nullish().transform((disk) => disk ?? undefined) }),
            z.object({ action: z.literal("check"), ...STEP_BASE, disk: DiskSchema }),
            z.object({ action: z.literal("copy-start"), ...STEP_BASE, disk: z.looseObject({ ...DISK_SHAPE, copy: DiskCopySchema.nullish() }, DISK_ERROR).transform(asDisk) }),
            z.object({ action: z.literal("copy-check"), ...STEP_BASE, disk: z.looseObject({ ...DISK_SHAPE, copy: DiskCopySchema }, DISK_ERROR).transform(asDisk) }),
        ],
        { error: actionError('"start", "check", "copy-start" or "copy-check"') },
    )
    .superRefine(sameInstance)
    // Runs on whatever parsed, so the records a copy lacks are named with the malformed ones.
    .superRefine((event, ctx) => copyMatchesDisk(event, ctx), { when: () => true });

export type SnapshotEvent = z.infer<typeof SnapshotEventSchema>;
export type SnapshotStartEvent = Extract<SnapshotEvent, { action: "start" }>;
export type SnapshotCheckEvent = Extract<SnapshotEvent, { action: "check" }>;

/** Parses an untrusted event; every problem is reported at once, before any AWS call. */
export function parseSnapshotEvent(input: unknown): SnapshotEvent {
    return parseStepEvent("snapshot", SnapshotEventSchema, input);
}

/**
 * A copy event's checks across fields: only a member's snapshots are copied (a role), the copy is of the target's
 * account, and it has exactly one record per snapshot of `disk` (same snapshot, same volume), none of anything else.
 * Defensive: it also runs on an event that failed elsewhere.
 */
function copyMatchesDisk(event: unknown, ctx: z.RefinementCtx): void {
    if (!isRecord(event) || (event.action !== "copy-start" && event.action !== "copy-check")) return;
    const target = isRecord(event.target) ? event.target : {};
    if (!target.roleArn) sentence(ctx, ["target", "roleArn"], "is required: only a member account's snapshots are copied into the hub");
    const disk = event.disk;
    if (!isRecord(disk) || !isRecord(disk.copy)) return;
    const copy = disk.copy;
    if (copy.sourceAccountId !== target.accountId) {
        sentence(ctx, ["disk", "copy", "sourceAccountId"], `${preview(copy.sourceAccountId)} is not target.accountId ${preview(target.accountId)}`);
    }
    if (!Array.isArray(copy.snapshots) || !Array.isArray(disk.snapshots)) return;
    const records: unknown[] = copy.snapshots;
    const sources = new Map<string, number[]>();
    records.forEach((r, i) => {
        if (isRecord(r) && typeof r.sourceSnapshotId === "string") sources.set(r.sourceSnapshotId, [...(sources.get(r.sourceSnapshotId) ?? []), i]);
    });
    const known = new Set<string>();
    for (const s of disk.snapshots as unknown[]) {
        if (!isRecord(s) || typeof s.snapshotId !== "string") continue; // reported by the disk's schema
        known.add(s.snapshotId);
        const at = sources.get(s.snapshotId) ?? [];
        if (at.length !== 1) {
            sentence(ctx, ["disk", "copy", "snapshots"], `must have exactly one record for ${s.snapshotId}, has ${at.length}`);
            continue;
        }
        const record = records[at[0]] as Record<string, unknown>;
        if (record.volumeId !== s.volumeId) {
            sentence(ctx, ["disk", "copy", "snapshots", at[0], "volumeId"], `${preview(record.volumeId)} is not ${preview(s.volumeId)}, the volume of ${s.snapshotId}`);
        }
    }
    for (const [source, at] of sources) {
        if (!known.has(source)) sentence(ctx, ["disk", "copy", "snapshots"], `[${at.join(", ")}] copies ${preview(source)}, not a snapshot of disk.snapshots`);
    }
}

/**
 * Starts the crash-consistent snapshot set with ONE `CreateSnapshots` call: EC2 snapshots every EBS volume of the
 * instance at the same point in time (per-volume `CreateSnapshot` calls would not be consistent across volumes).
 *
 * Tags: the call sets only the case's tags (never `CopyTagsFromSource`: EC2 refuses the whole call when a volume's
 * tags and the case's would exceed 50, or when a volume already carries a case tag, e.g. one restored from earlier
 * evidence, and no volume would be snapshotted). Each volume's tags are then copied to its snapshot as far as they
 * fit ({@link copyVolumeTags}, again at the polls until done); what is not copied as it is, is recorded with the
 * snapshot.
 *
 * Idempotency: `CreateSnapshots` has no client token, so a naive retry would take a second set. Two guards:
 * - an event that already carries `disk` (the state machine re-entering the start state) is returned unchanged;
 * - otherwise snapshots already tagged with this case and instance (a Lambda retry after EC2 accepted the first
 *   call but before the result reached the state machine) are adopted instead of creating new ones (and their
 *   volumes' tags copied again, which changes nothing where the lost attempt had copied them).
 */
export async function startSnapshots(ec2: EC2Client, event: SnapshotStartEvent, settings: SnapshotSettings): Promise<DiskEvidence> {
    const { caseId, target, instance } = event;
    const context = { caseId, instanceId: target.instanceId };
    if (event.disk && event.disk.snapshots.length > 0) {
        log("INFO", "snapshots already started; not creating again", { ...context, snapshots: event.disk.snapshots.map((s) => s.snapshotId) });
        return event.disk;
    }

    const existing = await findCaseSnapshots(ec2, caseId, target.instanceId);
    if (existing.length > 0) {
        const startedAt = earliest(existing.map((s) => s.StartTime)) ?? settings.now();
        log("INFO", "adopting snapshots of an earlier attempt", { ...context, snapshots: existing.map((s) => s.SnapshotId) });
        const locked = await lockSnapshots(ec2, context, existing.map(toRecord), settings.retentionDays, false);
        return {
            snapshots: await copyVolumeTags(ec2, caseId, target.instanceId, locked, false),
            startedAt: startedAt.toISOString(),
            deadline: addSeconds(startedAt, settings.capSeconds).toISOString(),
            done: false,
        };
    }

    const now = settings.now();
    const out = await ec2.send(
        new CreateSnapshotsCommand({
            InstanceSpecification: { InstanceId: target.instanceId, ExcludeBootVolume: false },
            Description: `aws-dfir case ${caseId}: crash-consistent snapshot of ${target.instanceId}`,
            TagSpecifications: [{ ResourceType: "snapshot", Tags: Object.entries(caseTags(caseId, target.instanceId)).map(([Key, Value]) => ({ Key, Value })) }],
        }),
    );
    const created = (out.Snapshots ?? []).map(toRecord);
    if (created.length === 0) {
        throw new SnapshotFailedError(context, [{ snapshotId: "(none)", volumeId: "(all)", detail: "CreateSnapshots returned no snapshots (no EBS volume?)" }]);
    }
    // Locked before anything else: until then anyone allowed DeleteSnapshot in the account could destroy them.
    const locked = await lockSnapshots(ec2, context, created, settings.retentionDays, false, false);
    const snapshots = await copyVolumeTags(ec2, caseId, target.instanceId, locked, false);
    const covered = new Set(snapshots.map((s) => s.volumeId));
    const uncovered = (instance.volumes ?? []).map((v) => v.volumeId).filter((id) => !covered.has(id));
    if (uncovered.length > 0) {
        // Volumes attached since the case opened may differ; EC2's answer is authoritative, the gap is logged.
        log("WARN", "recorded volumes without a snapshot", { ...context, uncovered });
    }
    log("INFO", "snapshots started", { ...context, snapshots });
    return {
        snapshots,
        startedAt: now.toISOString(),
        deadline: addSeconds(now, settings.capSeconds).toISOString(),
        done: false,
    };
}

/** Throttling and service faults: what may succeed if tried again (anything else, a retry cannot change). */
function isTransient(error: unknown): boolean {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return awsErrorIs(error, TRANSIENT_ERRORS) || (status !== undefined && status >= 500);
}

/** The tags every evidence snapshot of this case and instance carries from creation. */
function caseTags(caseId: string, instanceId: string): Record<string, string> {
    return { [SNAPSHOT_TAGS.caseId]: caseId, [SNAPSHOT_TAGS.instanceId]: instanceId, [SNAPSHOT_TAGS.evidence]: TAGS.evidenceDisk };
}

/**
 * Copies each volume's tags to its snapshot as core/snapshotTags.ts plans them (one DescribeVolumes, one CreateTags
 * per snapshot with anything to add), for the records that have no `volumeTags` yet, and returns the records with
 * what became of those tags. The snapshots are the evidence, their volume tags a courtesy: this never fails the step.
 * A refusal a retry cannot change (not authorized, the snapshot tagged by someone else meanwhile) is recorded on the
 * snapshots it concerns. Throttling, a service fault, or a snapshot EC2 does not list yet (it is eventually
 * consistent: `InvalidSnapshot.NotFound` right after CreateSnapshots) leaves those records without `volumeTags`, for
 * the next poll to try again; on the `last` try it is recorded too. A volume gone since its snapshot (not described)
 * has no tags to copy: recorded as such.
 */
export async function copyVolumeTags(ec2: EC2Client, caseId: string, instanceId: string, records: SnapshotRecord[], last: boolean): Promise<SnapshotRecord[]> {
    const pending = records.filter((r) => r.volumeTags === undefined);
    if (pending.length === 0) return records;
    const context = { caseId, instanceId };
    const notNow = (error: unknown) => isTransient(error) || awsErrorIs(error, ["InvalidSnapshot.NotFound"]);
    const volumeIds = [...new Set(pending.map((r) => r.volumeId).filter((id) => /^vol-/.test(id)))];
    const tagsByVolume = new Map<string, Record<string, string>>();
    try {
        let NextToken: string | undefined;
        if (volumeIds.length > 0) {
            do {
                // A filter, not VolumeIds: a volume deleted since its snapshot must not fail the others.
                const page = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: volumeIds }], ...(NextToken ? { NextToken } : {}) }));
                for (const v of page.Volumes ?? []) {
                    if (v.VolumeId) tagsByVolume.set(v.VolumeId, Object.fromEntries((v.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])));
                }
                NextToken = page.NextToken;
            } while (NextToken);
        }
    } catch (error) {
        const later = notNow(error) && !last;
        log("WARN", later ? "volume tags not read yet: tried again at the next poll" : "volume tags not read: none copied to the snapshots", { ...context, error: errorText(error) });
        if (later) return records;
        return records.map((r) => (r.volumeTags === undefined ? { ...r, volumeTags: { copied: 0, error: `DescribeVolumes failed: ${errorText(error)}` } } : r));
    }
    const fixed = caseTags(caseId, instanceId);
    return Promise.all(records.map(async (record): Promise<SnapshotRecord> => {
        if (record.volumeTags !== undefined) return record;
        const volumeTags = tagsByVolume.get(record.volumeId);
        if (volumeTags === undefined) return { ...record, volumeTags: { copied: 0, error: `volume ${record.volumeId} not found: no tags to copy` } };
        const plan = planVolumeTags(fixed, volumeTags);
        const entries = Object.entries(plan.tags);
        if (entries.length === 0) return { ...record, volumeTags: plan.note };
        try {
            await ec2.send(new CreateTagsCommand({ Resources: [record.snapshotId], Tags: entries.map(([Key, Value]) => ({ Key, Value })) }));
            return { ...record, volumeTags: plan.note };
        } catch (error) {
            const later = notNow(error) && !last;
            log("WARN", later ? "volume tags not copied yet: tried again at the next poll" : "volume tags not copied to the snapshot", { ...context, snapshotId: record.snapshotId, volumeId: record.volumeId, error: errorText(error) });
            if (later) return record;
            // Nothing was copied: every volume tag is recorded as not copied, those planned with the refusal as reason.
            const from = Object.fromEntries(Object.entries(plan.note.renamed ?? {}).map(([volumeKey, snapshotKey]) => [snapshotKey, volumeKey]));
            const refused = entries.map(([key, value]) => ({ key: from[key] ?? key, value, reason: "CreateTags refused" as const }));
            const notCopied = [...(plan.note.notCopied ?? []), ...refused].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
            return { ...record, volumeTags: { copied: 0, notCopied, error: `CreateTags refused: ${errorText(error)}` } };
        }
    }));
}

/**
 * Polls the snapshots and returns the updated evidence: `done` when all are `completed`. Throws
 * {@link SnapshotFailedError} when any is in `error` (or has vanished), and {@link SnapshotTimeoutError} when some
 * are still pending after the deadline (completion wins over the deadline: a set that completed is evidence).
 */
export async function checkSnapshots(ec2: EC2Client, event: SnapshotCheckEvent, settings: SnapshotSettings): Promise<DiskEvidence> {
    const { described, notFound } = await describeSnapshotIds(ec2, event.disk.snapshots.map((s) => s.snapshotId));
    const disk = evaluateSnapshots(event, described, settings.now(), notFound);
    // Locks and volume tags not set yet (start found the snapshots not listed yet, or throttled): this poll tries
    // again; the last poll (the set completed) records what it could not do.
    const context = { caseId: event.caseId, instanceId: event.target.instanceId };
    const locked = await lockSnapshots(ec2, context, disk.snapshots, settings.retentionDays, disk.done);
    return { ...disk, snapshots: await copyVolumeTags(ec2, event.caseId, event.target.instanceId, locked, disk.done) };
}

/** The locks that already hold `records` for the retention (an earlier attempt's), by snapshot id. Never throws. */
async function earlierHoldingLocks(ec2: EC2Client, context: Record<string, string>, records: SnapshotRecord[], retentionDays: number): Promise<Map<string, SnapshotLockRecord>> {
    const found = new Map<string, SnapshotLockRecord>();
    try {
        const out = await ec2.send(new DescribeLockedSnapshotsCommand({ SnapshotIds: records.map((r) => r.snapshotId) }));
        for (const info of out.Snapshots ?? []) {
            const lock = lockRecordOf(info);
            if (info.SnapshotId && lockProblem(lock, retentionDays) === undefined) found.set(info.SnapshotId, lock);
        }
    } catch (error) {
        // Not knowing of earlier locks only means locking again; a refusal of that is recorded by the caller.
        log("WARN", "earlier snapshot locks not read", { ...context, error: errorText(error) });
    }
    return found;
}

/**
 * Locks each evidence snapshot that has no `lock` record yet in compliance mode for the retention
 * (core/snapshotLock.ts), and records the lock EC2 reports. A lock an earlier attempt set (a Lambda retry after the
 * lock went through) is adopted as DescribeLockedSnapshots reports it: a compliance lock past its cooling-off period
 * can only be lengthened, so locking again would be refused. A refusal a retry cannot change (not authorized, the
 * snapshot in error) is recorded on the snapshot; throttling, a service fault or a snapshot EC2 does not list yet
 * (eventual consistency) leaves the record without `lock` for the next poll, and on the `last` try records it.
 * Never fails the step: the snapshots are the evidence, and the case records what is not locked.
 */
export async function lockSnapshots(ec2: EC2Client, context: Record<string, string>, records: SnapshotRecord[], retentionDays: number, last: boolean, earlierLocks = true): Promise<SnapshotRecord[]> {
    const pending = records.filter((r) => r.lock === undefined && r.state !== "error");
    if (pending.length === 0) return records;
    const notNow = (error: unknown) => isTransient(error) || awsErrorIs(error, ["InvalidSnapshot.NotFound"]);
    // Snapshots this invocation just created cannot have been locked before (`earlierLocks` false): nothing to adopt.
    const found = earlierLocks ? await earlierHoldingLocks(ec2, context, pending, retentionDays) : new Map<string, SnapshotLockRecord>();
    return Promise.all(records.map(async (record): Promise<SnapshotRecord> => {
        if (record.lock !== undefined || record.state === "error") return record;
        const earlier = found.get(record.snapshotId);
        if (earlier) return { ...record, lock: earlier };
        try {
            const out = await ec2.send(new LockSnapshotCommand(lockRequest(record.snapshotId, retentionDays)));
            return { ...record, lock: lockRecordOf(out) };
        } catch (error) {
            const later = notNow(error) && !last;
            log("WARN", later ? "snapshot not locked yet: tried again at the next poll" : "snapshot NOT locked", { ...context, snapshotId: record.snapshotId, error: errorText(error) });
            return later ? record : { ...record, lock: { error: `LockSnapshot refused: ${errorText(error)}` } };
        }
    }));
}

/**
 * The decision of one poll, pure: the snapshots as the event knew them, what EC2 reported now, the time.
 * `notFoundMessage` is set when DescribeSnapshots refused the ids as unknown (then `described` is empty).
 */
export function evaluateSnapshots(event: SnapshotCheckEvent, described: readonly Snapshot[], now: Date, notFoundMessage?: string): DiskEvidence {
    const context = { caseId: event.caseId, instanceId: event.target.instanceId };
    const disk = event.disk;
    const failed: FailedSnapshot[] = [];
    const seen = observeSnapshots(disk.snapshots.map((s) => ({ snapshotId: s.snapshotId, startedAt: disk.startedAt })), described, now, notFoundMessage);

    const snapshots: SnapshotRecord[] = disk.snapshots.map((record, i) => {
        const { found, state, progress, failure } = seen[i];
        if (failure !== undefined) failed.push({ ...pick(record), detail: failure });
        if (!found) return { ...record };
        const updated: SnapshotRecord = { ...record, state: state ?? record.state };
        if (progress !== undefined) updated.progress = progress;
        return updated;
    });

    if (failed.length > 0) throw new SnapshotFailedError(context, failed);
    const done = snapshots.every((s) => s.state === "completed");
    if (!done && now.getTime() > Date.parse(disk.deadline)) {
        throw new SnapshotTimeoutError(
            context,
            disk.deadline,
            snapshots.filter((s) => s.state !== "completed").map((s) => ({ ...pick(s), progress: s.progress ?? s.state })),
        );
    }
    return { ...disk, snapshots, done };
}

/** What one poll says of one snapshot (see {@link observeSnapshots}). */
export interface SnapshotObservation {
    /** EC2 listed it. */
    found: boolean;
    /** EC2's state and progress, when listed and reported. */
    state?: string;
    progress?: string;
    /** Why it counts as failed: in state `error` (EC2's message), or unknown past the grace after its start. */
    failure?: string;
}

/**
 * The decision of one poll for each snapshot, pure (shared by the snapshots' check and the copies into the hub):
 * each polled snapshot with the time its grace runs from, what DescribeSnapshots listed, the time, and EC2's
 * message when it refused the ids as unknown. An unknown snapshot is pending within {@link NOT_FOUND_GRACE_MS} of
 * its start, failed after; one in `error` is failed. Results are in the order of `polled`.
 */
export function observeSnapshots(
    polled: ReadonlyArray<{ snapshotId: string; startedAt: string }>,
    described: readonly Snapshot[],
    now: Date,
    notFoundMessage?: string,
): SnapshotObservation[] {
    const byId = new Map(described.map((s) => [s.SnapshotId, s]));
    return polled.map(({ snapshotId, startedAt }) => {
        const found = byId.get(snapshotId);
        if (found === undefined) {
            if (now.getTime() - Date.parse(startedAt) < NOT_FOUND_GRACE_MS) return { found: false };
            return { found: false, failure: notFoundMessage ? `no longer exists (${notFoundMessage})` : "no longer exists" };
        }
        const seen: SnapshotObservation = { found: true };
        if (found.State !== undefined) seen.state = found.State;
        if (found.Progress !== undefined) seen.progress = found.Progress;
        if (found.State === "error") seen.failure = found.StateMessage || "state error";
        return seen;
    });
}

/**
 * DescribeSnapshots of these ids. One unknown id fails the whole call (which one is only in the message): then
 * nothing is described and `notFound` is EC2's message, for {@link observeSnapshots}.
 */
export async function describeSnapshotIds(ec2: EC2Client, ids: string[]): Promise<{ described: Snapshot[]; notFound?: string }> {
    try {
        return { described: await describeSnapshots(ec2, { SnapshotIds: ids }) };
    } catch (error) {
        if (!awsErrorIs(error, ["InvalidSnapshot.NotFound"])) throw error;
        return { described: [], notFound: error instanceof Error ? error.message : String(error) };
    }
}

/** Snapshots this account owns that carry the case and instance tags, copies excluded. */
async function findCaseSnapshots(ec2: EC2Client, caseId: string, instanceId: string): Promise<Snapshot[]> {
    const found = await findTaggedSnapshots(ec2, { [SNAPSHOT_TAGS.caseId]: caseId, [SNAPSHOT_TAGS.instanceId]: instanceId });
    // Copies of the evidence (copySnapshotsToHub) carry the case tags too, and their source: never the evidence itself.
    return found.filter((s) => tagOf(s, TAGS.sourceSnapshot) === undefined);
}

/**
 * Snapshots this account owns carrying every tag of `tags` (a DescribeSnapshots filter per tag, in that order),
 * the tags checked again here: trust, but verify.
 */
export async function findTaggedSnapshots(ec2: EC2Client, tags: Readonly<Record<string, string>>): Promise<Snapshot[]> {
    const wanted = Object.entries(tags);
    const found = await describeSnapshots(ec2, { OwnerIds: ["self"], Filters: wanted.map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })) });
    return found.filter((s) => wanted.every(([key, value]) => tagOf(s, key) === value));
}

/** A snapshot's tag value. */
export function tagOf(s: Snapshot, key: string): string | undefined {
    return s.Tags?.find((t) => t.Key === key)?.Value;
}

/** Every page of DescribeSnapshots (EC2 chooses the page size; NextToken is followed to the end). */
export async function describeSnapshots(
    ec2: EC2Client,
    input: { SnapshotIds?: string[]; OwnerIds?: string[]; Filters?: Array<{ Name: string; Values: string[] }> },
): Promise<Snapshot[]> {
    const all: Snapshot[] = [];
    let NextToken: string | undefined;
    do {
        const page = await ec2.send(new DescribeSnapshotsCommand({ ...input, ...(NextToken ? { NextToken } : {}) }));
        all.push(...(page.Snapshots ?? []));
        NextToken = page.NextToken;
    } while (NextToken);
    return all;
}

function toRecord(s: SnapshotInfo | Snapshot): SnapshotRecord {
    const record: SnapshotRecord = { snapshotId: s.SnapshotId ?? "", volumeId: s.VolumeId ?? "", state: s.State ?? "pending" };
    if (s.Progress !== undefined) record.progress = s.Progress;
    return record;
}

function pick(s: SnapshotRecord): { snapshotId: string; volumeId: string } {
    return { snapshotId: s.snapshotId, volumeId: s.volumeId };
}

function earliest(times: ReadonlyArray<Date | undefined>): Date | undefined {
    const valid = times.filter((t): t is Date => t instanceof Date && !Number.isNaN(t.getTime()));
    return valid.length === 0 ? undefined : new Date(Math.min(...valid.map((t) => t.getTime())));
}
