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
 * EC2 refuses (but for its concurrent-copy limit: that copy is tried again at the next poll), or the cap running out
 * fails the copy (SnapshotCopyFailedError / SnapshotCopyTimeoutError), which the state machine records beside the
 * disk evidence.
 *
 * Idempotency: CopySnapshot has no client token. Before starting a copy, copies already tagged with this case,
 * instance, kind and source snapshot (a Lambda retry after EC2 accepted the call) are adopted; sharing is
 * idempotent (adding an account already there changes nothing).
 */
import {
    CopySnapshotCommand,
    ModifySnapshotAttributeCommand,
    type CopySnapshotCommandInput,
    type EC2Client,
    type Snapshot,
} from "@aws-sdk/client-ec2";
import { partitionOf } from "../../core/containmentPolicies";
import { snapshotShareKeyAliasArn } from "../../core/memberPolicies";
import { isKeyNotAccessible, sourceKeyCause } from "../../core/snapshotKeys";
import { TAGS } from "../../core/tags";
import { TRANSIENT_ERRORS, type DiskCopy, type DiskEvidence, type SnapshotCopyRecord, type SnapshotRecord, type Target } from "../../core/workflow";
import { addSeconds, awsErrorIs, errorText } from "../lib/evidence";
import { log } from "../lib/log";
import { InvalidRequestError, SnapshotCopyFailedError, SnapshotCopyTimeoutError, type FailedCopy } from "../lib/evidenceErrors";
import { describeSnapshotIds, findTaggedSnapshots, lockSnapshots, observeSnapshots, tagOf } from "./snapshot";

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
    /** Days each hub copy is locked in compliance mode (the evidence retention), as the member snapshots are. */
    retentionDays: number;
    now: () => Date;
}

/** The two EC2 clients of a copy: the member's (responder role) and the hub's (own credentials), same region. */
export interface CopyClients {
    member: EC2Client;
    hub: EC2Client;
}

/**
 * CopySnapshot refusals that only say "not now": EC2's limit of concurrent snapshot copies per destination region
 * (`ResourceLimitExceeded`, EBS user guide, "Copy an Amazon EBS snapshot": wait for copies to complete). The record
 * stays unstarted and the next poll tries again, until the copy's deadline.
 */
const COPY_LIMIT_ERRORS = ["ResourceLimitExceeded"];

/** The two copies of a snapshot: the member's (shared with the hub), the hub's (of the shared one). */
type Side = "member" | "hub";

/** Where each side keeps its copy in a record, and the `dfir:evidence` tag its copies carry. */
const SIDES = {
    member: { kind: TAGS.evidenceShareCopy, id: "memberCopyId", state: "memberCopyState", startedAt: "memberCopyStartedAt" },
    hub: { kind: TAGS.evidenceHubCopy, id: "hubCopyId", state: "hubCopyState", startedAt: "hubCopyStartedAt" },
} as const satisfies Record<Side, { kind: string; id: keyof SnapshotCopyRecord; state: keyof SnapshotCopyRecord; startedAt: keyof SnapshotCopyRecord }>;

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
    // The account shared with and the keys copied under are the function's own and the target's, whatever the event.
    const memberKeyId = snapshotShareKeyAliasArn(partitionOf(target.region), target.region, target.accountId);
    if (disk.copy) {
        const problems: string[] = [];
        if (disk.copy.hubAccountId !== settings.hubAccountId) problems.push(`disk.copy.hubAccountId ${disk.copy.hubAccountId} is not this function's account ${settings.hubAccountId}`);
        disk.copy.snapshots.forEach((r, i) => {
            if (r.memberKeyId !== memberKeyId) problems.push(`disk.copy.snapshots[${i}].memberKeyId ${r.memberKeyId} is not the target's share key ${memberKeyId}`);
            if (r.hubKeyArn !== settings.hubKeyArn) problems.push(`disk.copy.snapshots[${i}].hubKeyArn ${r.hubKeyArn} is not this function's evidence key ${settings.hubKeyArn}`);
        });
        if (problems.length > 0) throw new InvalidRequestError(problems, context, "snapshot copy");
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
            memberKeyId,
            shared: false,
            hubKeyArn: settings.hubKeyArn,
        })),
    };
    const step = new CopyStep(clients, event, copy, now, settings.retentionDays);
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
        private readonly retentionDays: number,
    ) {}

    private get records(): SnapshotCopyRecord[] {
        return this.copy.snapshots;
    }

    async advance(): Promise<void> {
        // 1. The member copies: adopt, or start; follow them; share the completed ones with the hub.
        await this.startCopies("member", this.records.filter((r) => !r.memberCopyId));
        await this.follow("member");
        await this.explainKeyFailures();
        await Promise.all(this.records.filter((r) => r.memberCopyState === "completed" && !r.shared).map((r) => this.share(r)));
        // A failed member copy or share fails the copy: nothing more is started in the hub.
        if (this.failed.length > 0) return;
        // 2. The hub copies of the shared ones: adopt, or start; follow them; lock them as the member snapshots are.
        await this.startCopies("hub", this.records.filter((r) => r.shared && !r.hubCopyId));
        await this.follow("hub");
        await this.lockHubCopies();
    }

    /**
     * Each hub copy locked in compliance mode for the retention, as soon as it exists (pending or completed), as
     * the snapshot step locks the member's snapshots ({@link lockSnapshots}: earlier locks adopted, "not now" tried
     * again at the next poll). A copy this invocation started cannot have been locked before. The last poll (every
     * hub copy completed) records what could not be locked. The member's share copies are intermediates: not locked.
     */
    private async lockHubCopies(): Promise<void> {
        const records = this.records.filter((r) => r.hubCopyId && r.hubCopyLock === undefined && r.hubCopyState !== "error");
        if (records.length === 0) return;
        const last = this.records.every((r) => r.hubCopyState === "completed");
        const earlier = records.some((r) => !this.startedNow.has(r.hubCopyId as string));
        const as: SnapshotRecord[] = records.map((r) => ({ snapshotId: r.hubCopyId as string, volumeId: r.volumeId, state: r.hubCopyState ?? "pending" }));
        const context = { caseId: this.event.caseId, instanceId: this.event.target.instanceId };
        const locked = await lockSnapshots(this.clients.hub, context, as, this.retentionDays, last, earlier);
        locked.forEach((l, i) => {
            if (l.lock !== undefined) records[i].hubCopyLock = l.lock;
        });
    }

    private client(side: Side): EC2Client {
        return side === "member" ? this.clients.member : this.clients.hub;
    }

    /** The CopySnapshot of one side: its source, key, description and tags, and what a refusal names. */
    private copyRequest(side: Side, r: SnapshotCopyRecord): { input: CopySnapshotCommandInput; refusal: string } {
        const { caseId, target } = this.event;
        const common = { SourceRegion: target.region, Encrypted: true, TagSpecifications: this.tags(side, r) };
        return side === "member"
            ? {
                input: {
                    ...common,
                    SourceSnapshotId: r.sourceSnapshotId,
                    KmsKeyId: r.memberKeyId,
                    Description: `aws-dfir case ${caseId}: ${r.sourceSnapshotId} of ${target.instanceId} (${r.volumeId}) re-encrypted to share with ${this.copy.hubAccountId}`,
                },
                refusal: "",
            }
            : {
                input: {
                    ...common,
                    SourceSnapshotId: r.memberCopyId,
                    KmsKeyId: r.hubKeyArn,
                    Description: `aws-dfir case ${caseId}: ${r.sourceSnapshotId} of ${target.instanceId} (${r.volumeId}) from account ${target.accountId}`,
                },
                refusal: `from the shared copy ${r.memberCopyId}: `,
            };
    }

    private tags(side: Side, r: SnapshotCopyRecord) {
        const { caseId, target } = this.event;
        return [
            {
                ResourceType: "snapshot" as const,
                Tags: [
                    { Key: TAGS.caseId, Value: caseId },
                    { Key: TAGS.instanceId, Value: target.instanceId },
                    { Key: TAGS.evidence, Value: SIDES[side].kind },
                    { Key: TAGS.sourceSnapshot, Value: r.sourceSnapshotId },
                    ...(side === "hub" ? [{ Key: TAGS.sourceAccount, Value: target.accountId }] : []),
                ],
            },
        ];
    }

    /** Adopt the copies an earlier attempt started for these records, start the others. */
    private async startCopies(side: Side, unstarted: SnapshotCopyRecord[]): Promise<void> {
        if (unstarted.length === 0) return;
        const existing = await this.findCopies(side);
        await Promise.all(unstarted.map((r) => this.startCopy(side, r, existing.get(r.sourceSnapshotId))));
    }

    private async startCopy(side: Side, r: SnapshotCopyRecord, adopted: Snapshot | undefined): Promise<void> {
        const fields = SIDES[side];
        if (adopted?.SnapshotId) {
            r[fields.id] = adopted.SnapshotId;
            r[fields.state] = adopted.State ?? "pending";
            r[fields.startedAt] = startTimeOf(adopted, this.now);
            log("INFO", `adopting a ${side} copy of an earlier attempt`, { caseId: this.event.caseId, source: r.sourceSnapshotId, copy: adopted.SnapshotId });
            return;
        }
        const { input, refusal } = this.copyRequest(side, r);
        try {
            const out = await this.client(side).send(new CopySnapshotCommand(input));
            if (!out.SnapshotId) throw new Error("CopySnapshot returned no snapshot id");
            r[fields.id] = out.SnapshotId;
            r[fields.state] = "pending";
            r[fields.startedAt] = this.now.toISOString();
            this.startedNow.add(out.SnapshotId);
        } catch (error) {
            if (awsErrorIs(error, COPY_LIMIT_ERRORS)) {
                log("WARN", `${side} copy not started: EC2's concurrent copy limit; the next poll tries again`, {
                    caseId: this.event.caseId, source: r.sourceSnapshotId, deadline: this.copy.deadline, error: errorText(error),
                });
                return;
            }
            this.refused(error, { sourceSnapshotId: r.sourceSnapshotId, stage: `${side} copy`, detail: `${refusal}${errorText(error)}` });
        }
    }

    /**
     * Member copies EC2 ended with "Given key ID is not accessible" (it names no key): the source snapshots' keys,
     * read back (DescribeSnapshots), give each failure its cause (core/snapshotKeys.ts). The failure stands whatever
     * the reading gives.
     */
    private async explainKeyFailures(): Promise<void> {
        const failures = this.failed.filter((f) => f.stage === "member copy" && isKeyNotAccessible(f.detail));
        if (failures.length === 0) return;
        const { caseId, target } = this.event;
        let keys = new Map<string, string | undefined>();
        try {
            const { described } = await describeSnapshotIds(this.clients.member, [...new Set(failures.map((f) => f.sourceSnapshotId))]);
            keys = new Map(described.map((s) => [s.SnapshotId ?? "", s.KmsKeyId]));
        } catch (error) {
            log("WARN", "the source snapshots' keys could not be read", { caseId, instanceId: target.instanceId, error: errorText(error) });
        }
        for (const f of failures) f.cause = sourceKeyCause(keys.get(f.sourceSnapshotId), target.accountId);
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

    /**
     * Update one side's copy states from EC2 (those not completed, not started by this invocation); `error`, or
     * unknown past the grace after that copy's own start, is a failure. Hub copies start only once the member
     * copies are done, possibly hours after the copy began: the grace runs from each copy's start (records of an
     * older version carry none: the copy's start, then).
     */
    private async follow(side: Side): Promise<void> {
        const fields = SIDES[side];
        const records = this.records.filter((r) => r[fields.id] && r[fields.state] !== "completed" && !this.startedNow.has(r[fields.id] as string));
        if (records.length === 0) return;
        const idOf = (r: SnapshotCopyRecord) => r[fields.id] as string;
        const { described, notFound } = await describeSnapshotIds(this.client(side), records.map(idOf));
        const polled = records.map((r) => ({ snapshotId: idOf(r), startedAt: r[fields.startedAt] ?? this.copy.startedAt }));
        observeSnapshots(polled, described, this.now, notFound).forEach(({ found, state, progress, failure }, i) => {
            const r = records[i];
            if (found) r[fields.state] = state ?? "pending";
            if (progress !== undefined) r.progress = progress;
            if (failure !== undefined) this.failed.push({ sourceSnapshotId: r.sourceSnapshotId, copyId: idOf(r), stage: `${side} copy`, detail: failure });
        });
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

    /** Copies of this case and instance of one side this account owns, by the member snapshot they copy (earliest wins). */
    private async findCopies(side: Side): Promise<Map<string, Snapshot>> {
        const { caseId, target } = this.event;
        const found = await findTaggedSnapshots(this.client(side), { [TAGS.caseId]: caseId, [TAGS.instanceId]: target.instanceId, [TAGS.evidence]: SIDES[side].kind });
        const bySource = new Map<string, Snapshot>();
        const sorted = [...found].sort((a, b) => (a.StartTime?.getTime() ?? 0) - (b.StartTime?.getTime() ?? 0));
        for (const s of sorted) {
            const source = tagOf(s, TAGS.sourceSnapshot);
            if (source && !bySource.has(source)) bySource.set(source, s);
        }
        return bySource;
    }
}

/** When EC2 started an adopted copy (its StartTime), else now. */
function startTimeOf(s: Snapshot, now: Date): string {
    return s.StartTime instanceof Date && !Number.isNaN(s.StartTime.getTime()) ? s.StartTime.toISOString() : now.toISOString();
}
