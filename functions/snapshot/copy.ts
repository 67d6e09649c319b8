/**
 * Copying a member instance's completed evidence snapshots into the hub (`copySnapshotsToHub`), in three moves
 * per snapshot, advanced as far as possible on every invocation of the state machine's copy loop:
 *
 * 1. in the member (through the responder role): CopySnapshot, same region, re-encrypted under the member
 *    region's share key (`alias/dfir-snapshot-share`: the default `aws/ebs` key cannot be shared across accounts),
 *    tagged with the case at creation;
 * 2. once that copy is completed: ModifySnapshotAttribute, createVolumePermission add the hub account;
 * 3. in the hub (the function's own credentials): CopySnapshot of the shared copy under the hub's evidence key,
 *    tagged with the case at creation; then wait until every hub copy is completed.
 *
 * The member snapshots (the evidence of record) are never touched. A copy in state `error`, a copy or share that
 * EC2 refuses, or the cap running out fails the copy (SnapshotCopyFailedError / SnapshotCopyTimeoutError), which
 * the state machine records beside the disk evidence.
 *
 * Idempotency: CopySnapshot has no client token. Before starting a copy, copies already tagged with this case,
 * instance, kind and source snapshot (a Lambda retry after EC2 accepted the call) are adopted; sharing is
 * idempotent (adding an account already there changes nothing).
 */
import {
    CopySnapshotCommand,
    ModifySnapshotAttributeCommand,
    type EC2Client,
    type Snapshot,
} from "@aws-sdk/client-ec2";
import { partitionOf } from "../../core/containmentPolicies";
import { snapshotShareKeyAliasArn } from "../../core/memberPolicies";
import { TAGS } from "../../core/tags";
import { TRANSIENT_ERRORS, type DiskCopy, type DiskEvidence, type SnapshotCopyRecord, type Target } from "../../core/workflow";
import { addSeconds, awsErrorIs, errorText, log } from "../lib/evidence";
import { InvalidRequestError, SnapshotCopyFailedError, SnapshotCopyTimeoutError, type FailedCopy } from "../lib/evidenceErrors";
import { describeSnapshots, NOT_FOUND_GRACE_MS } from "./snapshot";

/** `{action: "copy-start" | "copy-check"}`: advance the copy of the completed snapshots in `disk`. */
export interface SnapshotCopyEvent {
    action: "copy-start" | "copy-check";
    caseId: string;
    target: Target;
    disk: DiskEvidence;
}

export interface CopySettings {
    /** The account the functions run in: where the copies land, the account the member copies are shared with. */
    hubAccountId: string;
    /** The hub region's evidence key: what the hub copies are encrypted with. */
    hubKeyArn: string;
    /** Poll cap in seconds (deadline = copy start + cap), as for the snapshots. */
    capSeconds: number;
    now: () => Date;
}

/** The two EC2 clients of a copy: the member's (responder role) and the hub's (own credentials), same region. */
export interface CopyClients {
    member: EC2Client;
    hub: EC2Client;
}

type Kind = typeof TAGS.evidenceShareCopy | typeof TAGS.evidenceHubCopy;

/** Advance the copy as far as it goes now; `done` when every hub copy is completed. */
export async function copyToHub(clients: CopyClients, event: SnapshotCopyEvent, settings: CopySettings): Promise<DiskEvidence> {
    const { caseId, target, disk } = event;
    const context = { caseId, instanceId: target.instanceId };
    if (!target.roleArn || target.accountId === settings.hubAccountId) {
        throw new InvalidRequestError([`target.accountId ${target.accountId} is the functions' own account: there is nothing to copy into the hub`], context, "snapshot copy");
    }
    const incomplete = disk.snapshots.filter((s) => s.state !== "completed").map((s) => s.snapshotId);
    if (!disk.done || incomplete.length > 0) {
        throw new InvalidRequestError([`disk snapshots must all be completed before copying, not: ${incomplete.join(", ") || "(done is false)"}`], context, "snapshot copy");
    }

    const now = settings.now();
    const copy: DiskCopy = disk.copy ? structuredClone(disk.copy) : {
        hubAccountId: settings.hubAccountId,
        sourceAccountId: target.accountId,
        startedAt: now.toISOString(),
        deadline: addSeconds(now, settings.capSeconds).toISOString(),
        done: false,
        snapshots: disk.snapshots.map((s) => ({
            sourceSnapshotId: s.snapshotId,
            volumeId: s.volumeId,
            memberKeyId: snapshotShareKeyAliasArn(partitionOf(target.region), target.region, target.accountId),
            shared: false,
            hubKeyArn: settings.hubKeyArn,
        })),
    };
    const step = new CopyStep(clients, event, copy, now);
    await step.advance();
    if (step.failed.length > 0) throw new SnapshotCopyFailedError(context, step.failed);

    copy.done = copy.snapshots.every((s) => s.hubCopyState === "completed");
    if (!copy.done && now.getTime() > Date.parse(copy.deadline)) {
        throw new SnapshotCopyTimeoutError(context, copy.deadline, copy.snapshots.filter((s) => s.hubCopyState !== "completed").map((s) => ({
            sourceSnapshotId: s.sourceSnapshotId,
            stage: s.hubCopyId ? `hub copy ${s.hubCopyId}` : s.shared ? "hub copy not started" : s.memberCopyId ? `member copy ${s.memberCopyId}` : "member copy not started",
            ...(s.progress ? { progress: s.progress } : {}),
        })));
    }
    log("INFO", copy.done ? "snapshots copied into the hub" : "copy into the hub in progress", {
        ...context,
        copies: copy.snapshots.map((s) => ({ source: s.sourceSnapshotId, member: s.memberCopyId, shared: s.shared, hub: s.hubCopyId, state: s.hubCopyState ?? s.memberCopyState })),
    });
    return { ...disk, copy };
}

/** One invocation's work on the copy records (mutated in place). */
class CopyStep {
    readonly failed: FailedCopy[] = [];
    /** Copies started by this invocation: not described again before the next poll (EC2 is eventually consistent). */
    private readonly startedNow = new Set<string>();

    constructor(
        private readonly clients: CopyClients,
        private readonly event: SnapshotCopyEvent,
        private readonly copy: DiskCopy,
        private readonly now: Date,
    ) {}

    private get records(): SnapshotCopyRecord[] {
        return this.copy.snapshots;
    }

    async advance(): Promise<void> {
        // 1. The member copies: adopt, or start.
        const unstarted = this.records.filter((r) => !r.memberCopyId);
        if (unstarted.length > 0) {
            const existing = await this.findCopies(this.clients.member, TAGS.evidenceShareCopy);
            await Promise.all(unstarted.map((r) => this.startMemberCopy(r, existing.get(r.sourceSnapshotId))));
        }
        // 2. Follow the member copies; share the completed ones with the hub.
        await this.follow(this.clients.member, this.records.filter((r) => r.memberCopyId && r.memberCopyState !== "completed" && !this.startedNow.has(r.memberCopyId)), "member");
        await Promise.all(this.records.filter((r) => r.memberCopyState === "completed" && !r.shared).map((r) => this.share(r)));
        // A failed member copy or share fails the copy: nothing more is started in the hub.
        if (this.failed.length > 0) return;
        // 3. The hub copies of the shared ones: adopt, or start; then follow them.
        const shareable = this.records.filter((r) => r.shared && !r.hubCopyId);
        if (shareable.length > 0) {
            const existing = await this.findCopies(this.clients.hub, TAGS.evidenceHubCopy);
            await Promise.all(shareable.map((r) => this.startHubCopy(r, existing.get(r.sourceSnapshotId))));
        }
        await this.follow(this.clients.hub, this.records.filter((r) => r.hubCopyId && r.hubCopyState !== "completed" && !this.startedNow.has(r.hubCopyId)), "hub");
    }

    private tags(kind: Kind, r: SnapshotCopyRecord) {
        const { caseId, target } = this.event;
        return [
            {
                ResourceType: "snapshot" as const,
                Tags: [
                    { Key: TAGS.caseId, Value: caseId },
                    { Key: TAGS.instanceId, Value: target.instanceId },
                    { Key: TAGS.evidence, Value: kind },
                    { Key: TAGS.sourceSnapshot, Value: r.sourceSnapshotId },
                    ...(kind === TAGS.evidenceHubCopy ? [{ Key: TAGS.sourceAccount, Value: target.accountId }] : []),
                ],
            },
        ];
    }

    private async startMemberCopy(r: SnapshotCopyRecord, adopted: Snapshot | undefined): Promise<void> {
        const { caseId, target } = this.event;
        if (adopted?.SnapshotId) {
            r.memberCopyId = adopted.SnapshotId;
            r.memberCopyState = adopted.State ?? "pending";
            r.memberCopyStartedAt = startTimeOf(adopted, this.now);
            log("INFO", "adopting a member copy of an earlier attempt", { caseId, source: r.sourceSnapshotId, copy: r.memberCopyId });
            return;
        }
        try {
            const out = await this.clients.member.send(new CopySnapshotCommand({
                SourceSnapshotId: r.sourceSnapshotId,
                SourceRegion: target.region,
                Encrypted: true,
                KmsKeyId: r.memberKeyId,
                Description: `aws-dfir case ${caseId}: ${r.sourceSnapshotId} of ${target.instanceId} (${r.volumeId}) re-encrypted to share with ${this.copy.hubAccountId}`,
                TagSpecifications: this.tags(TAGS.evidenceShareCopy, r),
            }));
            if (!out.SnapshotId) throw new Error("CopySnapshot returned no snapshot id");
            r.memberCopyId = out.SnapshotId;
            r.memberCopyState = "pending";
            r.memberCopyStartedAt = this.now.toISOString();
            this.startedNow.add(out.SnapshotId);
        } catch (error) {
            this.refused(error, { sourceSnapshotId: r.sourceSnapshotId, stage: "member copy", detail: errorText(error) });
        }
    }

    private async share(r: SnapshotCopyRecord): Promise<void> {
        try {
            await this.clients.member.send(new ModifySnapshotAttributeCommand({
                SnapshotId: r.memberCopyId,
                Attribute: "createVolumePermission",
                OperationType: "add",
                UserIds: [this.copy.hubAccountId],
            }));
            r.shared = true;
        } catch (error) {
            this.refused(error, { sourceSnapshotId: r.sourceSnapshotId, copyId: r.memberCopyId, stage: "share", detail: `with ${this.copy.hubAccountId}: ${errorText(error)}` });
        }
    }

    private async startHubCopy(r: SnapshotCopyRecord, adopted: Snapshot | undefined): Promise<void> {
        const { caseId, target } = this.event;
        if (adopted?.SnapshotId) {
            r.hubCopyId = adopted.SnapshotId;
            r.hubCopyState = adopted.State ?? "pending";
            r.hubCopyStartedAt = startTimeOf(adopted, this.now);
            log("INFO", "adopting a hub copy of an earlier attempt", { caseId, source: r.sourceSnapshotId, copy: r.hubCopyId });
            return;
        }
        try {
            const out = await this.clients.hub.send(new CopySnapshotCommand({
                SourceSnapshotId: r.memberCopyId,
                SourceRegion: target.region,
                Encrypted: true,
                KmsKeyId: r.hubKeyArn,
                Description: `aws-dfir case ${caseId}: ${r.sourceSnapshotId} of ${target.instanceId} (${r.volumeId}) from account ${target.accountId}`,
                TagSpecifications: this.tags(TAGS.evidenceHubCopy, r),
            }));
            if (!out.SnapshotId) throw new Error("CopySnapshot returned no snapshot id");
            r.hubCopyId = out.SnapshotId;
            r.hubCopyState = "pending";
            r.hubCopyStartedAt = this.now.toISOString();
            this.startedNow.add(out.SnapshotId);
        } catch (error) {
            this.refused(error, { sourceSnapshotId: r.sourceSnapshotId, stage: "hub copy", detail: `from the shared copy ${r.memberCopyId}: ${errorText(error)}` });
        }
    }

    /** Update the records' copy states from EC2; `error` (or gone, after the grace period) is a failure. */
    private async follow(ec2: EC2Client, records: SnapshotCopyRecord[], side: "member" | "hub"): Promise<void> {
        if (records.length === 0) return;
        const idOf = (r: SnapshotCopyRecord) => (side === "member" ? r.memberCopyId : r.hubCopyId) as string;
        let described: Snapshot[] = [];
        let notFound: string | undefined;
        try {
            described = await describeSnapshots(ec2, { SnapshotIds: records.map(idOf) });
        } catch (error) {
            if (!awsErrorIs(error, ["InvalidSnapshot.NotFound"])) throw error;
            notFound = error instanceof Error ? error.message : String(error);
        }
        const byId = new Map(described.map((s) => [s.SnapshotId, s]));
        // The grace runs from this copy's own start: hub copies start only once the member copies are done, which
        // may be hours after the copy began. (Records of an older version carry no start: the copy's start, then.)
        const startOf = (r: SnapshotCopyRecord) => (side === "member" ? r.memberCopyStartedAt : r.hubCopyStartedAt) ?? this.copy.startedAt;
        const inGrace = (r: SnapshotCopyRecord) => this.now.getTime() - Date.parse(startOf(r)) < NOT_FOUND_GRACE_MS;
        const stage = side === "member" ? "member copy" : "hub copy";
        for (const r of records) {
            const found = byId.get(idOf(r));
            if (!found) {
                if (!inGrace(r)) this.failed.push({ sourceSnapshotId: r.sourceSnapshotId, copyId: idOf(r), stage, detail: `no longer exists${notFound ? ` (${notFound})` : ""}` });
                continue;
            }
            const state = found.State ?? "pending";
            if (side === "member") r.memberCopyState = state;
            else r.hubCopyState = state;
            if (found.Progress !== undefined) r.progress = found.Progress;
            if (state === "error") this.failed.push({ sourceSnapshotId: r.sourceSnapshotId, copyId: idOf(r), stage, detail: found.StateMessage || "state error" });
        }
    }

    /**
     * A copy or share EC2 refused. Throttling and service faults go back to the state machine (retried with
     * backoff); anything else (not authorized, unknown key, not shared) cannot change on a retry: it is a failure.
     */
    private refused(error: unknown, failure: FailedCopy): void {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (awsErrorIs(error, TRANSIENT_ERRORS) || (status !== undefined && status >= 500)) throw error;
        this.failed.push(failure);
    }

    /** Copies of this case and instance of one kind this account owns, by the member snapshot they copy (earliest wins). */
    private async findCopies(ec2: EC2Client, kind: Kind): Promise<Map<string, Snapshot>> {
        const { caseId, target } = this.event;
        const found = await describeSnapshots(ec2, {
            OwnerIds: ["self"],
            Filters: [
                { Name: `tag:${TAGS.caseId}`, Values: [caseId] },
                { Name: `tag:${TAGS.instanceId}`, Values: [target.instanceId] },
                { Name: `tag:${TAGS.evidence}`, Values: [kind] },
            ],
        });
        const tag = (s: Snapshot, key: string) => s.Tags?.find((t) => t.Key === key)?.Value;
        const bySource = new Map<string, Snapshot>();
        const sorted = [...found].sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0));
        for (const s of sorted) {
            if (tag(s, TAGS.caseId) !== caseId || tag(s, TAGS.instanceId) !== target.instanceId || tag(s, TAGS.evidence) !== kind) continue;
            const source = tag(s, TAGS.sourceSnapshot);
            if (source && !bySource.has(source)) bySource.set(source, s);
        }
        return bySource;
    }
}

/** When EC2 started an adopted copy (its StartTime), else now. */
function startTimeOf(s: Snapshot, now: Date): string {
    return s.StartTime instanceof Date && !Number.isNaN(s.StartTime.getTime()) ? s.StartTime.toISOString() : now.toISOString();
}
