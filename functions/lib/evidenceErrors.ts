/**
 * Errors of the evidence and sealing steps (snapshot, memory, metadata, seal).
 *
 * The state machine catches Lambda errors by their `name` (Step Functions reports it as the error type), so each
 * class sets `name` to a literal — never `constructor.name`, which a minifying bundler renames — and the names
 * are those of `ERRORS` in core/workflow.ts where one exists. The message becomes the Catch `Cause` and ends up in
 * the manifest, so it is a self-contained line naming what failed (snapshot and volume ids, both hashes...).
 */
import { ERRORS } from "../../core/workflow";

import { ResponseError, type ErrorContext } from "./errors";

export { ConfigurationError, InvalidRequestError } from "./errors";

/** Which case and instance an error belongs to. */
export type EvidenceContext = ErrorContext;

/** Base class of evidence and sealing failures. */
export class EvidenceError extends ResponseError {
    override name = "EvidenceError";
}

/** One snapshot that ended in `error` (or vanished), with the volume it was taken of. */
export interface FailedSnapshot {
    snapshotId: string;
    volumeId: string;
    /** EC2's StateMessage, or why the snapshot counts as failed. */
    detail: string;
}

/** At least one snapshot of the crash-consistent set failed: the disk evidence of that volume does not exist. */
export class SnapshotFailedError extends EvidenceError {
    override name = ERRORS.snapshotFailed;
    readonly failed: readonly FailedSnapshot[];

    constructor(context: EvidenceContext, failed: readonly FailedSnapshot[], options?: ErrorOptions) {
        const list = failed.map((f) => `${f.snapshotId} of ${f.volumeId}: ${f.detail}`).join("; ");
        super(`snapshot failed for instance ${context.instanceId ?? "?"} (case ${context.caseId ?? "?"}): ${list}`, context, options);
        this.failed = [...failed];
    }
}

/** A snapshot still pending at the poll deadline. */
export interface PendingSnapshot {
    snapshotId: string;
    volumeId: string;
    progress?: string;
}

/** The snapshots did not complete before SNAPSHOT_CAP_SECONDS ran out. They may still complete later in EC2. */
export class SnapshotTimeoutError extends EvidenceError {
    override name = ERRORS.snapshotTimeout;
    readonly deadline: string;
    readonly pending: readonly PendingSnapshot[];

    constructor(context: EvidenceContext, deadline: string, pending: readonly PendingSnapshot[]) {
        const list = pending.map((p) => `${p.snapshotId} of ${p.volumeId} at ${p.progress ?? "?"}`).join("; ");
        super(`snapshots not completed by deadline ${deadline} for instance ${context.instanceId ?? "?"}: ${list}`, context);
        this.deadline = deadline;
        this.pending = [...pending];
    }
}

/** One snapshot whose copy into the hub failed: which member snapshot, which copy, and why. */
export interface FailedCopy {
    /** The member's evidence snapshot being copied. */
    sourceSnapshotId: string;
    /** The copy that failed (member or hub), when one exists. */
    copyId?: string;
    /** Where: the member's re-encrypted copy, its share with the hub, or the hub's copy. */
    stage: "member copy" | "share" | "hub copy";
    detail: string;
    /** Why, when the function could tell more than EC2 said (a key it could not use: core/snapshotKeys.ts). */
    cause?: string;
}

/**
 * Copying a member's snapshots into the hub failed (a copy in state error, a copy or share refused). The member
 * snapshots themselves are untouched: the disk evidence stands, without its hub copy.
 */
export class SnapshotCopyFailedError extends EvidenceError {
    override name = ERRORS.snapshotCopyFailed;
    readonly failed: readonly FailedCopy[];

    constructor(context: EvidenceContext, failed: readonly FailedCopy[], options?: ErrorOptions) {
        // The causes first (a key named once for every copy it stopped), then each copy with EC2's own words, then
        // where: a case's reason keeps only the start of the message.
        const causes = [...new Set(failed.flatMap((f) => (f.cause ? [f.cause] : [])))];
        const list = failed.map((f) => `${f.stage}${f.copyId ? ` ${f.copyId}` : ""} of ${f.sourceSnapshotId}: ${f.detail}`).join("; ");
        super(`copy into the hub failed: ${[...causes, list].join("; ")} (instance ${context.instanceId ?? "?"}, case ${context.caseId ?? "?"})`, context, options);
        this.failed = [...failed];
    }
}

/** The copies into the hub did not complete before the cap (SNAPSHOT_CAP_SECONDS) ran out. */
export class SnapshotCopyTimeoutError extends EvidenceError {
    override name = ERRORS.snapshotCopyTimeout;
    readonly deadline: string;
    readonly pending: readonly { sourceSnapshotId: string; stage: string; progress?: string }[];

    constructor(context: EvidenceContext, deadline: string, pending: readonly { sourceSnapshotId: string; stage: string; progress?: string }[]) {
        const list = pending.map((p) => `${p.sourceSnapshotId} at ${p.stage}${p.progress ? ` ${p.progress}` : ""}`).join("; ");
        super(`copies into the hub not completed by deadline ${deadline} for instance ${context.instanceId ?? "?"}: ${list}`, context);
        this.deadline = deadline;
        this.pending = [...pending];
    }
}

/**
 * The bytes in S3 are not the bytes the instance hashed while capturing: the image cannot be trusted as
 * evidence. Both hashes (and sizes) are in the message so the Catch cause alone documents the discrepancy.
 */
export class HashMismatchError extends EvidenceError {
    override name = ERRORS.hashMismatch;

    constructor(
        context: EvidenceContext,
        readonly location: string,
        readonly expected: { sha256: string; bytes?: number },
        readonly actual: { sha256: string; bytes: number },
        /** What `actual` describes: the S3 object, or one part of it, or its part list. */
        subject = "S3 object",
    ) {
        super(
            `hash mismatch for ${location}: host reported sha256 ${expected.sha256}` +
                `${expected.bytes === undefined ? "" : ` (${expected.bytes} bytes)`}, ${subject} has sha256 ${actual.sha256} (${actual.bytes} bytes)`,
            context,
        );
    }
}

/**
 * The capture command reported success but left no usable evidence (image or sidecar missing or malformed):
 * an anomaly worth an error, unlike a known gap (agent offline, command failed), which is reported as `missing`.
 */
export class MemoryCaptureFailedError extends EvidenceError {
    override name = ERRORS.memoryCaptureFailed;

    constructor(context: EvidenceContext, readonly detail: string, options?: ErrorOptions) {
        super(`memory capture of ${context.instanceId ?? "?"} (case ${context.caseId ?? "?"}) left no usable evidence: ${detail}`, context, options);
    }
}

/** Not one metadata item could be collected. (Not in `ERRORS`: the metadata branch's Catch takes any error.) */
export class MetadataCaptureFailedError extends EvidenceError {
    override name = "MetadataCaptureFailedError";
    readonly missing: ReadonlyArray<{ item: string; reason: string }>;

    constructor(context: EvidenceContext, missing: ReadonlyArray<{ item: string; reason: string }>) {
        super(
            `no metadata collected for ${context.instanceId ?? "?"} (case ${context.caseId ?? "?"}): ` +
                missing.map((m) => `${m.item}: ${m.reason}`).join("; "),
            context,
        );
        this.missing = [...missing];
    }
}

/**
 * A manifest already exists at the key with different content. Manifests are never overwritten (Object Lock
 * plus `If-None-Match: *`); an identical one (a retried seal) is accepted, a different one is this error.
 */
export class ManifestConflictError extends EvidenceError {
    override name = "ManifestConflictError";

    constructor(context: EvidenceContext, readonly key: string, readonly existingSha256: string | undefined, readonly sha256: string) {
        super(`manifest ${key} already exists with sha256 ${existingSha256 ?? "unknown"}; refusing to replace it with ${sha256}`, context);
    }
}
