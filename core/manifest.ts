/**
 * The case manifest: one document that says what happened to a case — the finding, the instance as found, every
 * action with its time and result, every piece of evidence with its location and hash, what is missing and why —
 * and the case's final status. Pure (no SDK): the seal function writes what {@link buildManifest} returns, and
 * the analyst tools and tests can rebuild or check it offline.
 *
 * Integrity: the manifest is serialised as canonical JSON (keys sorted at every depth, no whitespace) and its
 * sha256 is taken over exactly those bytes, so `sha256sum manifest-….json` reproduces the recorded hash and two
 * equal manifests always hash the same whatever order their keys were built in.
 */
import { unlockedSnapshotsText } from "./snapshotLock";
import { canonicalJson, sha256Hex } from "./hash";
import {
    casePrefix,
    type ActionRecord,
    type CaseOpened,
    type CaseStatus,
    type ContainmentResult,
    type DiskCopy,
    type DiskEvidence,
    type EvidenceObject,
    type InstanceRecord,
    type InterfaceContainment,
    type NetworkAclEntryRecord,
    type MemoryEvidence,
    type MetadataEvidence,
    type SnapshotCopyRecord,
    type SnapshotRecord,
    type StepError,
    type Target,
    type TriageVerdict,
} from "./workflow";

/** Version of the manifest layout; bump on any incompatible change. */
export const MANIFEST_SCHEMA_VERSION = "aws-dfir.manifest/1";

/** The triage verdict as the state carries it (`$.triage.verdict`). */
export type SealVerdict = TriageVerdict;

/**
 * The approval gate's result (`$.approval`): a human's `SendTaskSuccess` output `{approved}`, or the state
 * machine's own `{approved, by: "timeout-default" | "task-failure"}`.
 */
export interface ApprovalRecord {
    approved: boolean;
    by?: string;
    [key: string]: unknown;
}

/** A failed step's Catch output in place of its result. */
export interface BranchError {
    error: StepError;
}

/** Disk branch result, or its error. */
export type DiskOutcome = DiskEvidence | BranchError;
/** Memory branch result (plus `startedAt` when the command was sent), or its error. */
export type MemoryOutcome = (MemoryEvidence & { startedAt?: string }) | BranchError;
/** Metadata branch result (plus `collectedAt`), or its error. */
export type MetadataOutcome = (MetadataEvidence & { collectedAt?: string }) | BranchError;

/**
 * The execution state at sealing time: the triggering EventBridge event's own keys plus one key per step
 * (core/definition.ts). A step that failed leaves its error key instead of its result.
 */
export interface ExecutionState {
    triage: { verdict: SealVerdict };
    /** Absent when the case could not be opened (then `caseError`). */
    case?: CaseOpened;
    caseError?: StepError;
    approval?: ApprovalRecord;
    approvalError?: StepError;
    /** Absent when the contain step failed (then `containError`). */
    containment?: ContainmentResult;
    containError?: StepError;
    /** The Parallel state's output: [disk, memory, metadata], each a result or `{error}`. */
    evidence?: [DiskOutcome, MemoryOutcome, MetadataOutcome];
    /** The Parallel state itself failed (none of its branches' results survive). */
    evidenceError?: StepError;
    /** The triggering event's keys (version, id, detail-type, source, account, time, region, resources, detail). */
    [key: string]: unknown;
}

/**
 * What sealing works from: the whole execution state, the execution's ARN, and the sealing time. The seal event
 * is `{state: $, executionArn: $$.Execution.Id, sealedAt?: $$.State.EnteredTime}`; `sealedAt` defaults to the
 * time of the invocation (passing EnteredTime makes a retried seal produce the identical manifest).
 */
export interface SealInput {
    state: ExecutionState;
    executionArn: string;
    sealedAt: string;
}

/**
 * One piece of evidence that is not there, and why. `item`: disk | memory | metadata | evidence | a metadata item |
 * {@link DISK_COPY_GAP} (the member's snapshots are there; their copy into the hub is not).
 */
export interface MissingEvidence {
    item: string;
    reason: string;
}

/** The gap of a failed or unfinished copy of a member's snapshots into the hub (`copySnapshotsToHub`). */
export const DISK_COPY_GAP = "disk copy to hub";
/** The gap of evidence snapshots not locked in compliance mode (core/snapshotLock.ts). */
export const DISK_LOCK_GAP = "disk lock";

/** A gap as the case's reason says it: `memory missing: ssm-agent-offline`, `disk copy to hub: <why>`, `disk lock: <why>`. */
export function gapText(gap: MissingEvidence): string {
    return gap.item === DISK_COPY_GAP || gap.item === DISK_LOCK_GAP ? `${gap.item}: ${gap.reason}` : `${gap.item} missing: ${gap.reason}`;
}

/**
 * The hub copies of the disk evidence that count (an analyst tool checks them, makes volumes from them): those the
 * sealed manifest recorded with an id and as `completed`. Any other (failed, unfinished) is the recorded
 * {@link DISK_COPY_GAP}, not evidence: the member snapshots it was to copy remain the evidence of record. Pure.
 */
export function countedHubCopies(copy: Pick<ManifestDiskCopy, "snapshots"> | undefined): (SnapshotCopyRecord & { hubCopyId: string })[] {
    return (copy?.snapshots ?? []).filter((c): c is SnapshotCopyRecord & { hubCopyId: string } => c.hubCopyId !== undefined && c.hubCopyId !== "" && c.hubCopyState === "completed");
}

/** The counted hub copy ({@link countedHubCopies}) of one member snapshot, or undefined. Pure. */
export function completedHubCopy(copy: Pick<ManifestDiskCopy, "snapshots"> | undefined, sourceSnapshotId: string): (SnapshotCopyRecord & { hubCopyId: string }) | undefined {
    return countedHubCopies(copy).find((c) => c.sourceSnapshotId === sourceSnapshotId);
}

/** The final status of a case and its one-line reason. */
export interface CaseOutcome {
    status: CaseStatus;
    reason: string;
    missing: MissingEvidence[];
}

/** The sealed manifest. Optional fields are absent (not null) when unknown. */
export interface Manifest {
    schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
    caseId: string;
    status: CaseStatus;
    reason: string;
    executionArn: string;
    sealedAt: string;
    target: Partial<Target>;
    findings: {
        /** Finding ids of the case in arrival order (the first opened it). */
        ids: string[];
        /** The triage verdict of the delivery this execution handled. */
        verdict: SealVerdict;
        /** The triggering EventBridge event as delivered (the raw finding is in its `detail`). */
        event?: Record<string, unknown>;
    };
    timestamps: {
        openedAt?: string;
        isolatedAt?: string;
        snapshotsStartedAt?: string;
        /** When the copy of a member's snapshots into the hub started. */
        hubCopyStartedAt?: string;
        memoryStartedAt?: string;
        metadataCollectedAt?: string;
        sealedAt: string;
    };
    /** The instance as found when the case opened: groups per interface, profile, volumes, tags, protections. */
    originalState?: InstanceRecord;
    approval?: ApprovalRecord;
    containment: {
        status: ContainmentResult["status"] | "failed" | "not-run";
        reason?: string;
        isolationGroupId?: string;
        untrackGroupId?: string;
        isolatedAt?: string;
        error?: StepError;
        /** Per interface: its VPC and group, isolated or not, and every path that could still carry an established flow. */
        interfaces?: InterfaceContainment[];
        /** The network ACL rules the case put (what `dfir release` removes), also when containment failed part-way. */
        networkAclEntries?: NetworkAclEntryRecord[];
        /** Why the containment is incomplete (each line makes the case PARTIAL; the reasons are in `interfaces`). */
        gaps?: string[];
    };
    /** Everything done, in time order: containment's own action log, then the evidence steps' calls. */
    actions: ActionRecord[];
    evidence: {
        location?: { bucket: string; prefix: string };
        disk: {
            status: "collected" | "missing";
            snapshots: SnapshotRecord[];
            startedAt?: string;
            deadline?: string;
            error?: StepError;
            /**
             * A member's snapshots copied into the hub (`copySnapshotsToHub`): per snapshot the member snapshot, the
             * member's re-encrypted shared copy, the hub copy, their keys and states. A failed copy does not make
             * the disk evidence missing: the member snapshots above are still there.
             */
            copy?: ManifestDiskCopy;
        };
        memory: {
            status: MemoryEvidence["status"] | "error";
            reason?: string;
            commandId?: string;
            object?: EvidenceObject;
            hostSha256?: string;
            /** The avml build the capture command ran (chosen from the instance's architecture): build, key, sha256. */
            avml?: MemoryEvidence["avml"];
            /** The verified part record (MemoryEvidence: partSize, partCount, partsSha256). */
            partSize?: number;
            partCount?: number;
            partsSha256?: string;
            error?: StepError;
        };
        metadata: { objects: EvidenceObject[]; missing: MissingEvidence[]; error?: StepError };
        /** Every evidence object, with its key, version, sha256 and size. */
        objects: EvidenceObject[];
        /** Every gap, with its reason (the same list the status reason is made from). */
        missing: MissingEvidence[];
    };
    /** Errors of the steps that failed, as the state machine caught them. */
    errors?: { caseError?: StepError; approvalError?: StepError; containError?: StepError; evidenceError?: StepError };
}

/** The copy of a member's snapshots into the hub, as the manifest records it. */
export interface ManifestDiskCopy {
    /** completed: every hub copy completed; failed: the copy step failed (`error`); incomplete: it did not finish. */
    status: "completed" | "failed" | "incomplete";
    hubAccountId?: string;
    sourceAccountId?: string;
    startedAt?: string;
    deadline?: string;
    snapshots: SnapshotCopyRecord[];
    error?: StepError;
}

/** Keys of the execution state that are step results, not the triggering event. */
const STEP_KEYS = new Set([
    "triage", "case", "caseError", "approval", "approvalError", "containment", "containError", "evidence", "evidenceError",
    "seal", "sealError", "error",
]);

/** Longest error text quoted in a reason (the full error is in the manifest). */
const MAX_REASON_ERROR = 240;

export function isBranchError(value: unknown): value is BranchError {
    return typeof value === "object" && value !== null && "error" in value && typeof (value as BranchError).error === "object";
}

/**
 * `Name: message` of a caught step error. A Lambda error's Cause is JSON `{errorType, errorMessage, trace}`;
 * the message is taken from it. Cut at {@link MAX_REASON_ERROR} characters for reasons.
 */
export function stepErrorText(error: StepError | undefined, max = MAX_REASON_ERROR): string {
    if (!error) return "unknown error";
    let message = typeof error.Cause === "string" ? error.Cause : "";
    try {
        const parsed: unknown = JSON.parse(message);
        if (typeof parsed === "object" && parsed !== null && typeof (parsed as { errorMessage?: unknown }).errorMessage === "string") {
            message = (parsed as { errorMessage: string }).errorMessage;
        }
    } catch {
        // Not JSON: the cause is the message.
    }
    const text = message ? `${error.Error}: ${message}` : String(error.Error);
    return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * Every gap in the evidence, in branch order. A branch that failed is one gap with its error; the metadata
 * branch reports each uncollected item separately (`console-screenshot`, ...).
 */
export function evidenceGaps(state: ExecutionState): MissingEvidence[] {
    if (!Array.isArray(state.evidence)) {
        return [{ item: "evidence", reason: state.evidenceError ? stepErrorText(state.evidenceError) : "not collected" }];
    }
    const [disk, memory, metadata] = state.evidence;
    const gaps: MissingEvidence[] = [];

    if (disk === undefined || disk === null) gaps.push({ item: "disk", reason: "no result" });
    else if (isBranchError(disk)) gaps.push({ item: "disk", reason: stepErrorText(disk.error) });
    else if (disk.snapshots.length === 0) gaps.push({ item: "disk", reason: "no snapshots" });
    else if (!disk.done || disk.snapshots.some((s) => s.state !== "completed")) gaps.push({ item: "disk", reason: "snapshots not completed" });
    else {
        // Collected, but an evidence snapshot anyone allowed DeleteSnapshot could still destroy is a gap of its own.
        const hubCopies = countedHubCopies(disk.copy).map((c) => ({ snapshotId: c.hubCopyId, ...(c.hubCopyLock ? { lock: c.hubCopyLock } : {}) }));
        const unlocked = unlockedSnapshotsText([...disk.snapshots, ...hubCopies]);
        if (unlocked !== undefined) gaps.push({ item: DISK_LOCK_GAP, reason: unlocked });
        if (disk.copyError) gaps.push({ item: DISK_COPY_GAP, reason: stepErrorText(disk.copyError) });
        else if (disk.copy && !disk.copy.done) gaps.push({ item: DISK_COPY_GAP, reason: "copy did not finish" });
    }

    if (memory === undefined || memory === null) gaps.push({ item: "memory", reason: "no result" });
    else if (isBranchError(memory)) gaps.push({ item: "memory", reason: stepErrorText(memory.error) });
    else if (memory.status === "missing") gaps.push({ item: "memory", reason: memory.reason ?? "no reason given" });
    else if (memory.status === "started") gaps.push({ item: "memory", reason: "capture did not finish" });
    else if (!memory.object) gaps.push({ item: "memory", reason: "captured without an object" });

    if (metadata === undefined || metadata === null) gaps.push({ item: "metadata", reason: "no result" });
    else if (isBranchError(metadata)) gaps.push({ item: "metadata", reason: stepErrorText(metadata.error) });
    else for (const m of metadata.missing ?? []) gaps.push({ item: m.item, reason: m.reason });

    return gaps;
}

/** Containment calls whose outcome the per-interface network record judges (ContainmentResult.interfaces). */
const NETWORK_ACTIONS = new Set([
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateNetworkAclEntry",
    "ec2:DeleteNetworkAclEntry",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeRouteTables",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeNetworkInterfaces",
]);

/**
 * The case's final status and reason.
 *
 * - IGNORED: the verdict was not "respond" (sealing is not normally reached then).
 * - FAILED: the case could not be opened, or containment failed (or did not run without a reason): the
 *   instance may still be reachable by the attacker. Evidence gaps are appended to the reason.
 * - Containment skipped — `dfir:skip`, or approval refused, or approval timed out with the configured default
 *   "skip" — is a policy decision (the tag, a human, or the operator's configured default), not a failure:
 *   with full evidence the case SUCCEEDED, reason `evidence only (<why>)`; with gaps it is PARTIAL, reason
 *   `evidence only (<why>); memory missing: ...`.
 * - PARTIAL: contained, but a containment action failed (`containment incomplete: <action> <target> failed
 *   (<error>)`, listed first), or some evidence is missing; the reason lists each gap: `memory missing:
 *   ssm-agent-offline; console-screenshot missing: ...`. A member's snapshots that could not be copied into the
 *   hub (`copySnapshotsToHub`) are a gap too, `disk copy to hub: <why>`: the member snapshots are still the
 *   disk evidence (collected), but the hub does not hold its own copy as intended.
 * - SUCCEEDED: contained (isolated now or already) and every piece of evidence collected.
 */
export function caseStatus(state: ExecutionState): CaseOutcome {
    const verdict = state.triage?.verdict;
    if (verdict?.decision !== "respond") {
        return { status: "IGNORED", reason: verdict?.reason ?? "not actionable", missing: [] };
    }
    const gaps = evidenceGaps(state);
    const gapTexts = gaps.map(gapText);

    if (!state.case) {
        const head = `case not opened: ${state.caseError ? stepErrorText(state.caseError) : "no case in the execution state"}`;
        // Evidence never starts without a case; listing three "missing" entries would add nothing.
        return { status: "FAILED", reason: head, missing: gaps };
    }

    const containment = containmentView(state);
    if (containment.status === "failed" || containment.status === "not-run") {
        const head = containment.status === "failed" ? `containment failed: ${stepErrorText(state.containError)}` : "containment did not run";
        return { status: "FAILED", reason: [head, ...gapTexts].join("; "), missing: gaps };
    }
    if (containment.status === "skipped") {
        const head = `evidence only (${containment.reason ?? "containment skipped"})`;
        return gaps.length === 0
            ? { status: "SUCCEEDED", reason: head, missing: gaps }
            : { status: "PARTIAL", reason: [head, ...gapTexts].join("; "), missing: gaps };
    }
    // Isolated, but a containment action failed (revocation, profile swap, Auto Scaling detach, target group
    // deregistration, a protection): the instance is less contained than the word says, so never SUCCEEDED.
    // The network's outcome is judged per interface (isolated, paths still open: containmentGaps below), not by
    // its calls: a rule number a concurrent containment took (then another), a best-effort untrack change refused.
    const judgedPerInterface = state.containment?.interfaces !== undefined;
    const incomplete = (state.containment?.actions ?? []).filter((a) => !a.ok && !(judgedPerInterface && NETWORK_ACTIONS.has(a.action)));
    const head = incomplete.length === 0
        ? []
        : [`containment incomplete: ${incomplete.map((a) => `${a.action} ${a.target} failed (${(a.error ?? "no error text").split("\n")[0]})`).join("; ")}`];
    // Contained, but an interface is not isolated or could still carry an established flow: not a success.
    const network = containmentGaps(state.containment);
    if (head.length > 0 || network.length > 0 || gaps.length > 0) return { status: "PARTIAL", reason: [...head, ...network, ...gapTexts].join("; "), missing: gaps };
    const how = containment.status === "already-isolated" ? "already isolated" : "isolated";
    return { status: "SUCCEEDED", reason: `${how}; evidence complete`, missing: gaps };
}

/**
 * Why a containment is incomplete, one line per interface: not isolated (its VPC not prepared, or the change
 * failed), or isolated with paths that could still carry an established flow (named; the reasons are in the
 * manifest's `containment.interfaces`). Empty for results of older versions (no `interfaces`). Pure.
 */
export function containmentGaps(containment: Pick<ContainmentResult, "interfaces"> | undefined): string[] {
    return (containment?.interfaces ?? []).flatMap((i) => {
        const lines: string[] = [];
        if (!i.isolated) {
            lines.push(i.isolationGroupId === undefined
                ? `network: ${i.networkInterfaceId} not isolated (${i.vpcId} was not prepared: no isolation group)`
                : `network: ${i.networkInterfaceId} not isolated`);
        }
        const open = [...new Set(i.paths.filter((p) => p.open && p.path !== "not-isolated").map((p) => p.path))];
        if (open.length > 0) lines.push(`network: ${i.networkInterfaceId} may still carry an established flow (${open.join(", ")})`);
        return lines;
    });
}

/**
 * What a failed Contain recorded of the network in its error (PartialContainmentError's message is one line of JSON
 * inside the Lambda error's Cause): the interfaces and the network ACL rules put, when present.
 */
export function containErrorNetwork(error: StepError | undefined): Pick<ContainmentResult, "interfaces" | "networkAclEntries"> {
    if (!error || typeof error.Cause !== "string") return {};
    try {
        const cause = JSON.parse(error.Cause) as { errorMessage?: unknown };
        const inner = typeof cause.errorMessage === "string" ? (JSON.parse(cause.errorMessage) as Record<string, unknown>) : (cause as Record<string, unknown>);
        const out: Pick<ContainmentResult, "interfaces" | "networkAclEntries"> = {};
        if (Array.isArray(inner.interfaces)) out.interfaces = inner.interfaces as InterfaceContainment[];
        if (Array.isArray(inner.networkAclEntries)) out.networkAclEntries = inner.networkAclEntries as NetworkAclEntryRecord[];
        return out;
    } catch {
        return {};
    }
}

/** The case id and target the manifest is about: from the case, or from the verdict when no case opened. */
export function manifestSubject(state: ExecutionState): { caseId?: string; target: Partial<Target> } {
    if (state.case) return { caseId: state.case.caseId, target: state.case.target };
    const v = state.triage?.verdict ?? ({} as SealVerdict);
    const target: Partial<Target> = {};
    if (v.accountId) target.accountId = v.accountId;
    if (v.region) target.region = v.region;
    if (v.instanceId) target.instanceId = v.instanceId;
    return { caseId: v.caseId, target };
}

/** Builds the manifest of a case from the execution state at sealing time. Deterministic in its input. */
export function buildManifest(input: SealInput): Manifest {
    const { state, executionArn, sealedAt } = input;
    const outcome = caseStatus(state);
    const subject = manifestSubject(state);
    const caseId = subject.caseId ?? "unknown";
    const instanceId = subject.target.instanceId ?? "unknown";
    const opened = state.case;

    const [diskOutcome, memoryOutcome, metadataOutcome] = Array.isArray(state.evidence) ? state.evidence : [];
    const disk = diskOutcome && !isBranchError(diskOutcome) ? diskOutcome : undefined;
    const memory = memoryOutcome && !isBranchError(memoryOutcome) ? memoryOutcome : undefined;
    const metadata = metadataOutcome && !isBranchError(metadataOutcome) ? metadataOutcome : undefined;

    const objects: EvidenceObject[] = [...(memory?.object ? [memory.object] : []), ...(metadata?.objects ?? [])];

    const evidenceActions: ActionRecord[] = [];
    if (disk) {
        evidenceActions.push({
            action: "ec2:CreateSnapshots",
            target: instanceId,
            at: disk.startedAt,
            ok: true,
            detail: disk.snapshots.map((s) => `${s.snapshotId} of ${s.volumeId}: ${s.state}`).join(", "),
        });
    }
    if (disk?.copy || disk?.copyError) {
        const c = disk.copy;
        evidenceActions.push({
            action: "ec2:CopySnapshot",
            target: instanceId,
            at: c?.startedAt ?? disk.startedAt,
            ok: c?.done === true && !disk.copyError,
            detail: c && c.snapshots.length > 0
                ? c.snapshots.map((s) => `${s.sourceSnapshotId} -> member copy ${s.memberCopyId ?? "(not started)"}${s.shared ? ` shared with ${c.hubAccountId}` : ""} -> hub copy ${s.hubCopyId ?? "(not started)"}: ${s.hubCopyState ?? s.memberCopyState ?? "not started"}`).join(", ")
                : "copy into the hub not started",
            ...(disk.copyError ? { error: stepErrorText(disk.copyError) } : {}),
        });
    }
    if (memory?.startedAt && memory.commandId) {
        evidenceActions.push({
            action: "ssm:SendCommand",
            target: instanceId,
            at: memory.startedAt,
            ok: memory.status === "captured",
            detail: `memory capture command ${memory.commandId}: ${memory.status}${memory.reason ? ` (${memory.reason})` : ""}`,
        });
    }
    if (metadata?.collectedAt) {
        for (const o of metadata.objects) {
            evidenceActions.push({
                action: "s3:PutObject",
                target: `s3://${o.bucket}/${o.key}`,
                at: metadata.collectedAt,
                ok: true,
                detail: `sha256 ${o.sha256}, ${o.bytes} bytes, Object Lock COMPLIANCE`,
            });
        }
    }
    // Stable sort: actions with equal times keep their recorded order.
    const actions = [...(state.containment?.actions ?? []), ...evidenceActions].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

    const errors = compact({
        caseError: state.caseError,
        approvalError: state.approvalError,
        containError: state.containError,
        evidenceError: state.evidenceError,
    });
    const event = Object.fromEntries(Object.entries(state).filter(([key]) => !STEP_KEYS.has(key)));

    const manifest: Manifest = {
        schemaVersion: MANIFEST_SCHEMA_VERSION,
        caseId,
        status: outcome.status,
        reason: outcome.reason,
        executionArn,
        sealedAt,
        target: subject.target,
        findings: compact({
            ids: opened?.findingIds ?? (state.triage?.verdict?.findingId ? [state.triage.verdict.findingId] : []),
            verdict: state.triage?.verdict,
            event: Object.keys(event).length > 0 ? event : undefined,
        }) as Manifest["findings"],
        timestamps: compact({
            openedAt: opened?.openedAt,
            isolatedAt: state.containment?.isolatedAt,
            snapshotsStartedAt: disk?.startedAt,
            hubCopyStartedAt: disk?.copy?.startedAt,
            memoryStartedAt: memory?.startedAt,
            metadataCollectedAt: metadata?.collectedAt,
            sealedAt,
        }) as Manifest["timestamps"],
        originalState: opened?.instance,
        approval: state.approval,
        containment: compact({
            ...containmentView(state),
            isolationGroupId: state.containment?.isolationGroupId,
            untrackGroupId: state.containment?.untrackGroupId,
            isolatedAt: state.containment?.isolatedAt,
            error: state.containError,
            interfaces: state.containment?.interfaces ?? containErrorNetwork(state.containError).interfaces,
            networkAclEntries: state.containment?.networkAclEntries ?? containErrorNetwork(state.containError).networkAclEntries,
            gaps: state.containment && containmentGaps(state.containment).length > 0 ? containmentGaps(state.containment) : undefined,
        }) as Manifest["containment"],
        actions,
        evidence: {
            ...(opened ? { location: { bucket: opened.evidence.bucket, prefix: opened.evidence.prefix || casePrefix(opened.caseId) } } : {}),
            disk: compact({
                status: outcome.missing.some((m) => m.item === "disk" || m.item === "evidence") ? "missing" : "collected",
                snapshots: disk?.snapshots ?? [],
                startedAt: disk?.startedAt,
                deadline: disk?.deadline,
                error: diskOutcome && isBranchError(diskOutcome) ? diskOutcome.error : undefined,
                copy: disk ? diskCopyView(disk.copy, disk.copyError) : undefined,
            }) as Manifest["evidence"]["disk"],
            memory: memoryOutcome && isBranchError(memoryOutcome)
                ? { status: "error", error: memoryOutcome.error }
                : (compact({
                    status: memory?.status ?? "missing",
                    reason: memory ? memory.reason : "not collected",
                    commandId: memory?.commandId,
                    object: memory?.object,
                    hostSha256: memory?.hostSha256,
                    avml: memory?.avml,
                    partSize: memory?.partSize,
                    partCount: memory?.partCount,
                    partsSha256: memory?.partsSha256,
                }) as Manifest["evidence"]["memory"]),
            metadata: compact({
                objects: metadata?.objects ?? [],
                missing: metadata?.missing ?? [],
                error: metadataOutcome && isBranchError(metadataOutcome) ? metadataOutcome.error : undefined,
            }) as Manifest["evidence"]["metadata"],
            objects,
            missing: outcome.missing,
        },
    };
    if (Object.keys(errors).length > 0) manifest.errors = errors;
    return compact(manifest as unknown as Record<string, unknown>) as unknown as Manifest;
}

/** The manifest's bytes (canonical JSON) and their sha256 (hex): what is written and what is recorded. */
export function serializeManifest(manifest: Manifest): { body: string; sha256: string } {
    const body = canonicalJson(manifest);
    return { body, sha256: sha256Hex(body) };
}

/**
 * The name of an execution from its ARN (`arn:aws:states:<region>:<account>:execution:<machine>:<name>`), made
 * safe for an S3 key segment.
 */
export function executionName(executionArn: string): string {
    const parts = executionArn.split(":");
    const name = parts.length >= 8 ? parts.slice(7).join(":") : executionArn;
    return name.replace(/[^A-Za-z0-9._-]/g, "_") || "unnamed";
}

/**
 * Where an execution's manifest goes: `cases/<caseId>/manifest-<executionName>.json`. One key per execution, so
 * a later execution of the same case (a repeat seal) writes its own manifest next to the first instead of
 * overwriting it — which Object Lock and `If-None-Match: *` would refuse anyway — while a retried seal of the same
 * execution finds its own earlier manifest at the same key.
 */
export function manifestKey(caseId: string, executionArn: string): string {
    return `${casePrefix(caseId)}manifest-${executionName(executionArn)}.json`;
}

/** The hub copy of the disk evidence as recorded, or undefined when there was none (flag off, same account). */
function diskCopyView(copy: DiskCopy | undefined, error: StepError | undefined): ManifestDiskCopy | undefined {
    if (!copy && !error) return undefined;
    return compact({
        status: error ? "failed" : copy?.done ? "completed" : "incomplete",
        hubAccountId: copy?.hubAccountId,
        sourceAccountId: copy?.sourceAccountId,
        startedAt: copy?.startedAt,
        deadline: copy?.deadline,
        snapshots: copy?.snapshots ?? [],
        error,
    }) as ManifestDiskCopy;
}

/** How containment stands in the manifest: the result's status, or why there is none. */
function containmentView(state: ExecutionState): { status: Manifest["containment"]["status"]; reason?: string } {
    if (state.containError) return { status: "failed" };
    if (state.containment) {
        return state.containment.status === "skipped"
            ? { status: "skipped", reason: state.containment.reason ?? (state.case?.skipContainment ? "dfir:skip" : undefined) }
            : { status: state.containment.status };
    }
    if (state.case?.skipContainment) return { status: "skipped", reason: "dfir:skip" };
    if (state.approval?.approved === false) return { status: "skipped", reason: `containment not approved (${state.approval.by ?? "refused"})` };
    return { status: "not-run" };
}

/** Drops undefined members (one level), so absent facts are absent keys rather than nulls. */
function compact<T extends Record<string, unknown>>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
