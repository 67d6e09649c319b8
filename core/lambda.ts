/**
 * The Lambda functions' deployed limits, one source for the program (components/responseWorkflow.ts) and the drill,
 * which holds each simulated invocation to its function's budget (drill/run.ts).
 */

/**
 * The functions on the path to the first containment change (Triage -> OpenCase -> Contain) get one full vCPU
 * (1,769 MB): each starts cold for a finding (findings are rare), and its first invocation's work (the SDK's first
 * request, signing, the handler) runs at the function's CPU share, as its module load does by the Developer Guide's
 * reading (AWS's Serverless Land guide says Init gets a full vCPU on demand; at 1,769 MB both agree): at 256 MB, a
 * seventh of a core (BENCHMARKS.md "Time to contain in milliseconds"). They run about a second per finding: the
 * memory costs a few thousandths of a cent.
 */
export const CRITICAL_PATH_MEMORY_MB = 1769;

/** Timeout (seconds) and memory (MB) of each function as deployed. */
export const FUNCTION_LIMITS = {
    triage: { timeoutSeconds: 10, memoryMb: CRITICAL_PATH_MEMORY_MB },
    case: { timeoutSeconds: 30, memoryMb: CRITICAL_PATH_MEMORY_MB },
    contain: { timeoutSeconds: 120, memoryMb: CRITICAL_PATH_MEMORY_MB },
    snapshot: { timeoutSeconds: 60, memoryMb: 256 },
    // The check reads the sidecar and the image's part checksums (GetObjectAttributes, 1,000 parts a call), never
    // the image: O(parts / 1,000) calls whatever its size (functions/memory/memory.ts verifyCapture).
    memory: { timeoutSeconds: 300, memoryMb: 512 },
    metadata: { timeoutSeconds: 60, memoryMb: 256 },
    seal: { timeoutSeconds: 60, memoryMb: 256 },
    // One 8 GiB chunk of a snapshot per invocation (core/diskDigest.ts): up to 16,384 GetSnapshotBlock reads, each
    // hashed twice (checked against the API's checksum, then the block digest is that hash): a full vCPU, Lambda's
    // longest timeout. At 8 reads in flight and ~100 ms a read, a fully written chunk takes ~3.5 minutes.
    digest: { timeoutSeconds: 900, memoryMb: CRITICAL_PATH_MEMORY_MB },
} as const satisfies Record<string, { timeoutSeconds: number; memoryMb: number }>;

/** A deployed function's name. */
export type LimitedFunction = keyof typeof FUNCTION_LIMITS;

/**
 * Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU ("Configure Lambda function memory", Lambda
 * Developer Guide). A function of `memoryMb` runs CPU-bound work at `memoryMb / 1769` of one core's speed (at most 1).
 */
export const LAMBDA_MB_PER_VCPU = 1769;

/** The share of one core a function of `memoryMb` gets, capped at one core (the drill's work is single-threaded). */
export function cpuShare(memoryMb: number): number {
    return Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
}
