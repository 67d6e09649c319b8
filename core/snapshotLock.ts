/**
 * EBS snapshot lock of the disk evidence (pure): what the snapshot step asks EC2 for, what it records, and when a
 * lock EC2 reports keeps a snapshot for the evidence retention. One source for the snapshot function, the manifest
 * and `dfir verify`.
 *
 * AWS: EC2 API Reference "LockSnapshot"; EBS User Guide "Amazon EBS snapshot lock concepts" and "Considerations for
 * Amazon EBS snapshot lock": a snapshot can be locked while pending or completed (a duration starts when it
 * completes); compliance mode with no cooling-off period is final at once: nobody, the account's root included, can
 * unlock, shorten or delete it until it expires; a locked snapshot cannot be deleted. So the step locks each
 * snapshot in compliance mode, without a cooling-off period, for the evidence retention (the days the manifest and
 * the memory image are kept under S3 Object Lock COMPLIANCE), right after CreateSnapshots.
 */

/**
 * The longest lock LockSnapshot takes (LockDuration: 1 to 36,500 days, EC2 API Reference "LockSnapshot"): the
 * longest evidence retention the stack config accepts (core/config.ts), so every evidence snapshot can be locked for it.
 */
export const MAX_LOCK_DAYS = 36_500;

/** Why a retention cannot be a snapshot lock's duration, or undefined. */
export function lockDaysProblem(retentionDays: number): string | undefined {
    return Number.isInteger(retentionDays) && retentionDays >= 1 && retentionDays <= MAX_LOCK_DAYS
        ? undefined
        : `must be 1 to ${MAX_LOCK_DAYS} days (LockSnapshot's LockDuration), got ${retentionDays}`;
}

/** The request for one snapshot (LockSnapshot's input). */
export function lockRequest(snapshotId: string, retentionDays: number): { SnapshotId: string; LockMode: "compliance"; LockDuration: number } {
    const problem = lockDaysProblem(retentionDays);
    if (problem !== undefined) throw new Error(`snapshot lock: the retention ${problem}`);
    return { SnapshotId: snapshotId, LockMode: "compliance", LockDuration: retentionDays };
}

/** What the case records of a snapshot's lock: as EC2 reported it, or why there is none. */
export interface SnapshotLockRecord {
    /** The lock EC2 reports: compliance (final), compliance-cooloff, governance or expired. */
    state?: string;
    /** Days the lock lasts from the snapshot's completion. */
    durationDays?: number;
    lockedAt?: string;
    /**
     * When the lock ends, as EC2 reported it when the lock was recorded: a lock set on a pending snapshot has no end
     * yet (its duration starts at completion); `dfir verify` reads the current one.
     */
    expiresOn?: string;
    /** Why the snapshot is not locked (LockSnapshot refused). */
    error?: string;
}

/** A lock as EC2 reports it (LockSnapshot's output or a DescribeLockedSnapshots entry). */
export interface ReportedLock {
    LockState?: string;
    LockDuration?: number;
    LockCreatedOn?: Date;
    LockExpiresOn?: Date;
}

export function lockRecordOf(reported: ReportedLock): SnapshotLockRecord {
    return {
        ...(reported.LockState ? { state: reported.LockState } : {}),
        ...(reported.LockDuration !== undefined ? { durationDays: reported.LockDuration } : {}),
        ...(reported.LockCreatedOn ? { lockedAt: reported.LockCreatedOn.toISOString() } : {}),
        ...(reported.LockExpiresOn ? { expiresOn: reported.LockExpiresOn.toISOString() } : {}),
    };
}

/**
 * Whether a reported lock keeps the snapshot for the retention: compliance mode past any cooling-off period (no one
 * can lift it), for at least the retention's days. Anything else is why not, in a few words.
 */
export function lockProblem(lock: SnapshotLockRecord | undefined, retentionDays?: number): string | undefined {
    if (lock === undefined) return "not locked";
    if (lock.error !== undefined) return `not locked: ${lock.error}`;
    if (lock.state !== "compliance") return `locked ${lock.state ?? "in an unknown state"}, not in compliance mode`;
    if (retentionDays !== undefined && (lock.durationDays ?? 0) < retentionDays) return `locked for ${lock.durationDays ?? "unknown"} days, less than the retention (${retentionDays})`;
    return undefined;
}

/** The case's gap when some evidence snapshots are not locked (undefined when every one is): `snap-1 not locked: ...`. */
export function unlockedSnapshotsText(snapshots: readonly { snapshotId: string; lock?: SnapshotLockRecord }[]): string | undefined {
    const unlocked = snapshots.flatMap((s) => {
        const problem = lockProblem(s.lock);
        return problem === undefined ? [] : [`${s.snapshotId} ${problem}`];
    });
    if (unlocked.length === 0) return undefined;
    return unlocked.length === 1 ? unlocked[0] : `${unlocked[0]} (and ${unlocked.length - 1} more)`;
}
