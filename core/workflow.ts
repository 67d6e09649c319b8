/**
 * The response workflow's data contract: what each step receives and returns, and the configuration every
 * function reads. The state machine definition (`core/definition.ts`), the Lambda handlers (`functions/`),
 * the drill and the manifest all use these types — one description of a case.
 *
 * Conventions: times are ISO-8601 strings; every step result is JSON (it travels through Step Functions);
 * a step that cannot do its job throws an error whose `name` the state machine catches (see `ERRORS`).
 */

import type { TriageDecision } from "./triage";
import type { VolumeTagNote } from "./snapshotTags";
import type { SnapshotLockRecord } from "./snapshotLock";
import type { AvmlBuild } from "./avml";

/** The triage guard's output (`$.triage.verdict`): the decision, and for "respond" the case id it opens. */
export interface TriageVerdict extends TriageDecision {
    caseId?: string;
}

/** Where the instance lives. `roleArn` is set when the instance is in another account (assumed by the functions). */
export interface Target {
    accountId: string;
    region: string;
    instanceId: string;
    /** Role to assume in the instance's account; absent = the functions' own account. */
    roleArn?: string;
}

/** One network interface as found before containment: what release must restore. */
export interface InterfaceRecord {
    networkInterfaceId: string;
    /** Security group ids before the response touched the interface. */
    groups: string[];
    /** Device index (0 = primary). */
    deviceIndex: number;
    ipv6Addresses: string[];
    /** The interface's own VPC (a secondary interface may come from another VPC of the zone). Absent in older records. */
    vpcId?: string;
    subnetId?: string;
    /** Every private IPv4 address, the primary first. Absent in older records. */
    privateIpAddresses?: string[];
    /** Its public IPv4 address, if it had one. */
    publicIp?: string;
}

/** One attached EBS volume as found before containment. */
export interface VolumeRecord {
    volumeId: string;
    deviceName: string;
    deleteOnTermination: boolean;
    /** Whether this is the root (boot) device. */
    root: boolean;
}

/** The instance as found when the case opened — the record release restores from. */
export interface InstanceRecord {
    instanceId: string;
    state: string;
    /** "linux" | "windows" (GuardDuty and EC2 report Windows explicitly; anything else is treated as Linux). */
    platform: "linux" | "windows";
    /**
     * DescribeInstances `Architecture` as EC2 gave it (`x86_64`, `arm64`, `i386`, `x86_64_mac`, `arm64_mac`): which
     * avml build the memory step sends (core/avml.ts). Absent in records made before it was recorded.
     */
    architecture?: string;
    vpcId: string;
    subnetId?: string;
    availabilityZone?: string;
    imageId?: string;
    launchTime?: string;
    networkInterfaces: InterfaceRecord[];
    /** Instance profile association, if any. */
    iamInstanceProfile?: { arn: string; associationId: string };
    volumes: VolumeRecord[];
    tags: Record<string, string>;
    /** Protections as they were (release restores them). */
    disableApiTermination: boolean;
    disableApiStop: boolean;
    shutdownBehavior: string;
}

/** Output of the OpenCase step. */
export interface CaseOpened {
    caseId: string;
    /** False when an open case for this instance already existed: this delivery was added to it. */
    isNew: boolean;
    target: Target;
    /** Finding ids of the case, in arrival order (the first opened it). */
    findingIds: string[];
    openedAt: string;
    /** The instance as found (for a repeat: as recorded when the case opened, never re-read). */
    instance: InstanceRecord;
    /** Instance tagged `dfir:approval=required`. */
    approvalRequired: boolean;
    /** Instance tagged `dfir:skip=true`: evidence only, never contained. */
    skipContainment: boolean;
    /** Why containment is skipped when a trigger asked for evidence only (`dfir:respond=evidence`, `dfir respond --evidence-only`). */
    skipReason?: string;
    /** Evidence location of this case: `s3://<bucket>/cases/<caseId>/`. */
    evidence: { bucket: string; prefix: string };
}

/** One thing the response did (or tried), for the manifest's action log. */
export interface ActionRecord {
    /** E.g. "ec2:ModifyNetworkInterfaceAttribute". */
    action: string;
    /** What it acted on (interface id, volume id, target group ARN...). */
    target: string;
    at: string;
    ok: boolean;
    /** Short human detail ("untrack group sg-1", "previous groups sg-a,sg-b"). */
    detail?: string;
    /** Error name and message when ok is false. */
    error?: string;
}

/** A network ACL rule Contain put (or adopted from an earlier attempt of the same case): what `dfir release` removes. */
export interface NetworkAclEntryRecord {
    networkAclId: string;
    ruleNumber: number;
    egress: boolean;
    ruleAction: "allow" | "deny";
    /** Protocol number as a string; "-1" = all. */
    protocol: string;
    cidrBlock?: string;
    ipv6CidrBlock?: string;
    portRange?: { from: number; to: number };
    /** The interface whose address the rule names. */
    networkInterfaceId: string;
    /** deny: the instance's address; forensic-allow: the SSM channel kept open just before that deny. */
    purpose: "deny" | "forensic-allow";
}

/** One way an interface's established flows could still travel, and whether containment cut it. */
export interface PathRecord {
    /** other-subnets | same-subnet | internet-gateway | egress-only-internet-gateway | vpc-peering | vpn-gateway | gateway-endpoint | route | not-isolated */
    path: string;
    open: boolean;
    reason: string;
}

/** One interface after containment: its VPC and group, and whether any path could still carry an established flow. */
export interface InterfaceContainment {
    networkInterfaceId: string;
    vpcId: string;
    subnetId?: string;
    /** Its VPC's isolation group; absent when the deployment did not prepare that VPC. */
    isolationGroupId?: string;
    /** Only in its VPC's isolation group now. */
    isolated: boolean;
    /** Some path could still carry an established flow (each open path says why). */
    possiblyOpen: boolean;
    paths: PathRecord[];
}

/** Output of the Contain step. */
export interface ContainmentResult {
    caseId: string;
    instanceId: string;
    /** "isolated": done now; "already-isolated": nothing to change; "skipped": dfir:skip (evidence only). */
    status: "isolated" | "already-isolated" | "skipped";
    /** Why containment was skipped (dfir:skip, approval refused or timed out with default skip). */
    reason?: string;
    isolationGroupId?: string;
    untrackGroupId?: string;
    /** When every interface was in the isolation group. */
    isolatedAt?: string;
    actions: ActionRecord[];
    /**
     * Per interface: its VPC, whether it is isolated and which paths could still carry an established flow. Any
     * interface not isolated or possibly open makes the case PARTIAL (core/manifest.ts). Absent in older results.
     */
    interfaces?: InterfaceContainment[];
    /** The network ACL rules this case put (release removes exactly these). */
    networkAclEntries?: NetworkAclEntryRecord[];
}

/** One snapshot of the crash-consistent set. */
export interface SnapshotRecord {
    snapshotId: string;
    volumeId: string;
    /** pending | completed | error */
    state: string;
    progress?: string;
    /** What became of the volume's tags on the snapshot (core/snapshotTags.ts); absent on records of older versions. */
    volumeTags?: VolumeTagNote;
    /** Its EBS snapshot lock (core/snapshotLock.ts), or why there is none; absent while not tried yet (and on older records). */
    lock?: SnapshotLockRecord;
}

/** Disk branch state/result (the poll loop passes it back in). */
export interface DiskEvidence {
    snapshots: SnapshotRecord[];
    startedAt: string;
    /** Poll deadline: startedAt + cap. */
    deadline: string;
    done: boolean;
    /** While pending: seconds the workflow waits before the next check (core/polling.ts). */
    nextPollSeconds?: number;
    /** A member instance's snapshots on their way into the hub (`copySnapshotsToHub`); absent otherwise. */
    copy?: DiskCopy;
    /**
     * Why copying into the hub failed (the copy states' Catch output). The member snapshots above are still the
     * evidence: the disk evidence stays collected; the case gains the gap "disk copy to hub".
     */
    copyError?: StepError;
}

/**
 * One member snapshot on its way into the hub: the member's snapshot (the evidence of record, left where it is),
 * its copy in the member re-encrypted under the member's share key and shared with the hub account, and the hub's
 * own copy under the hub's evidence key.
 */
export interface SnapshotCopyRecord {
    /** The member's evidence snapshot (CreateSnapshots). */
    sourceSnapshotId: string;
    volumeId: string;
    /** The member's re-encrypted copy (shared with the hub), once started. */
    memberCopyId?: string;
    /** pending | completed | error */
    memberCopyState?: string;
    /**
     * When the member copy was started (the CopySnapshot call) or, adopted, EC2's StartTime: the "not listed yet"
     * grace of the copy runs from here, not from the copy's start (absent in records of an older version).
     */
    memberCopyStartedAt?: string;
    /** The share key the member copy is encrypted with, as given to CopySnapshot (alias ARN). */
    memberKeyId: string;
    /** createVolumePermission granted to the hub account on the member copy. */
    shared: boolean;
    /** The hub's copy, once started. */
    hubCopyId?: string;
    /** pending | completed | error */
    hubCopyState?: string;
    /** When the hub copy was started or, adopted, EC2's StartTime (as memberCopyStartedAt). */
    hubCopyStartedAt?: string;
    /** The hub key the hub copy is encrypted with. */
    hubKeyArn: string;
    /** The hub copy's EBS snapshot lock (core/snapshotLock.ts), or why there is none; absent while not tried yet. */
    hubCopyLock?: SnapshotLockRecord;
    /** EC2's progress of the copy being waited for. */
    progress?: string;
}

/** The disk branch's copy into the hub (the copy loop passes it back in, inside DiskEvidence). */
export interface DiskCopy {
    /** The account the copies land in (the functions' own). */
    hubAccountId: string;
    /** The member account the snapshots are copied from. */
    sourceAccountId: string;
    startedAt: string;
    /** Poll deadline: startedAt + the snapshot cap. */
    deadline: string;
    /** Every hub copy is completed. */
    done: boolean;
    /** While pending: seconds the workflow waits before the next check (core/polling.ts). */
    nextPollSeconds?: number;
    snapshots: SnapshotCopyRecord[];
}

/** Memory branch state/result. */
export interface MemoryEvidence {
    /** "started" -> poll; "captured" -> done with the object; "missing" -> done without (reason says why). */
    status: "started" | "captured" | "missing";
    reason?: string;
    commandId?: string;
    deadline?: string;
    /**
     * When captured: the image object. Its `sha256` is the whole image's as the instance computed it while streaming
     * (checked against S3 only through the parts below; `dfir verify` re-reads the whole image).
     */
    object?: EvidenceObject;
    /** The sha256 the instance computed while streaming (equals object.sha256). */
    hostSha256?: string;
    /**
     * How the image was verified without reading it (core/memoryParts.ts): cut in parts of `partSize` bytes,
     * `partCount` of them, each part's SHA-256 as S3 computed and kept it equal to the instance's; `partsSha256` is
     * the sha256 of those part digests (raw, concatenated in order), which an analyst recomputes from the image.
     */
    partSize?: number;
    partCount?: number;
    partsSha256?: string;
    /** When the command was sent. */
    startedAt?: string;
    /** While started: seconds the workflow waits before the next check (core/polling.ts). */
    nextPollSeconds?: number;
    /** The avml build the command runs (chosen from the instance's architecture): its key and sha256 in the bucket. */
    avml?: { build: AvmlBuild; key: string; sha256: string };
}

/** An object written under the case prefix, with what the chain of custody needs. */
export interface EvidenceObject {
    bucket: string;
    key: string;
    versionId?: string;
    sha256: string;
    bytes: number;
}

/** Metadata branch result: DescribeInstances, interfaces, console output, screenshot. */
export interface MetadataEvidence {
    objects: EvidenceObject[];
    /** Items that could not be collected, with why (e.g. screenshot unsupported on this instance type). */
    missing: { item: string; reason: string }[];
    collectedAt?: string;
}

/**
 * The event of a warm-up invocation (core/definition.ts WARM_TASKS): the function answers WARMED at once, with no
 * AWS call and no side effect; its execution environment has started by then (module loaded), ready for the real
 * invocation that follows.
 */
export const WARMUP_EVENT = { warmup: true } as const;
export const WARMED = { warmed: true } as const;

/** Exactly WARMUP_EVENT (nothing else in the object): a real step's event is never mistaken for one. */
export function isWarmup(event: unknown): boolean {
    return typeof event === "object" && event !== null && !Array.isArray(event)
        && Object.keys(event).length === 1 && (event as Record<string, unknown>).warmup === true;
}

/** What a failed branch/step leaves behind (the state machine's Catch output). */
export interface StepError {
    Error: string;
    Cause: string;
}

/** Final case status. */
export type CaseStatus = "SUCCEEDED" | "PARTIAL" | "FAILED" | "IGNORED";

/** The sealed manifest's location and integrity. */
export interface SealResult {
    caseId: string;
    status: CaseStatus;
    reason: string;
    manifest: { bucket: string; key: string; versionId?: string; sha256: string; mode: "COMPLIANCE"; retainUntil: string };
    /**
     * The manifest's signature (core/signature.ts): the locked record beside it and the key that signed, or why there
     * is none (then the case is never SUCCEEDED: `manifest signature: <why>`).
     */
    signature?: { bucket: string; key: string; versionId?: string; keyId: string; algorithm: string } | { missing: string };
}

/**
 * Error names the state machine catches by name. Handlers throw errors whose `name` is one of these (or an
 * AWS SDK error name, retried as transient when listed in TRANSIENT_ERRORS).
 */
export const ERRORS = {
    instanceNotFound: "InstanceNotFoundError",
    instanceTerminated: "InstanceTerminatedError",
    noIsolationGroup: "NoIsolationGroupError",
    partialContainment: "PartialContainmentError",
    crossAccountRole: "CrossAccountRoleError",
    snapshotFailed: "SnapshotFailedError",
    snapshotTimeout: "SnapshotTimeoutError",
    snapshotCopyFailed: "SnapshotCopyFailedError",
    snapshotCopyTimeout: "SnapshotCopyTimeoutError",
    memoryCaptureFailed: "MemoryCaptureFailedError",
    hashMismatch: "HashMismatchError",
    configuration: "ConfigurationError",
    invalidRequest: "InvalidRequestError",
    metadataCaptureFailed: "MetadataCaptureFailedError",
    manifestConflict: "ManifestConflictError",
    caseClosed: "CaseClosedError",
    caseRecordMissing: "CaseRecordMissingError",
    unsupportedNetworkLayout: "UnsupportedNetworkLayoutError",
} as const;

/** AWS error names worth a retry with backoff and jitter (throttling and service-side faults). */
export const TRANSIENT_ERRORS = [
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "EC2ThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
] as const;

/**
 * The file beside a function's handler (`index.js`) that holds the settings too large for its environment: Lambda
 * caps a function's environment variables at 4 KB in all (Lambda quotas, "Environment variables"), and the maps of
 * isolation and untrack groups grow by about 50 bytes per VPC each. A JSON object of the same names and values as the
 * environment would hold (`ISOLATION_GROUPS`, `UNTRACK_GROUPS`: JSON text); a variable that is set wins over the file
 * (the drill sets them in-process).
 */
export const SETTINGS_FILE = "settings.json";
/** The variables the Contain function reads from {@link SETTINGS_FILE} (never from the deployed environment). */
export const FILE_SETTINGS = ["ISOLATION_GROUPS", "UNTRACK_GROUPS"] as const;

/** The text of Contain's {@link SETTINGS_FILE}: the group maps (vpcId -> security group id) as their variables hold them. */
export function containSettingsFile(isolationGroups: Readonly<Record<string, string>>, untrackGroups: Readonly<Record<string, string>>): string {
    const values: Record<(typeof FILE_SETTINGS)[number], string> = { ISOLATION_GROUPS: JSON.stringify(isolationGroups), UNTRACK_GROUPS: JSON.stringify(untrackGroups) };
    return JSON.stringify(values);
}

/**
 * Environment variables of the functions (set by the ResponseWorkflow component, and by the drill in-process).
 * Read per invocation, so one process can host several configurations (the drill).
 */
export const ENV = {
    /** DynamoDB table of cases. */
    casesTable: "CASES_TABLE",
    /** The functions' log level (Powertools Logger, functions/lib/log.ts); AWS_LAMBDA_LOG_LEVEL, when set, wins. */
    logLevel: "POWERTOOLS_LOG_LEVEL",
    /** The `service` of every log line: the function's name. */
    logService: "POWERTOOLS_SERVICE_NAME",
    /** Evidence bucket of this region. */
    evidenceBucket: "EVIDENCE_BUCKET",
    /** JSON {vpcId: sgId}: isolation group per VPC (deployed in the Contain function's SETTINGS_FILE). */
    isolationGroups: "ISOLATION_GROUPS",
    /** JSON {vpcId: sgId}: all-open "untrack" group per VPC, applied first to cut tracked connections (SETTINGS_FILE). */
    untrackGroups: "UNTRACK_GROUPS",
    /** Instance profile ARN swapped onto contained instances (write own case prefix + SSM only). */
    captureProfileArn: "CAPTURE_PROFILE_ARN",
    /** Name of the project-owned SSM Command document that captures memory. */
    memoryDocument: "MEMORY_DOCUMENT",
    /**
     * S3 key (in the evidence bucket) and expected sha256 of each staged avml build (core/avml.ts AVML_BUILDS):
     * both of a build or neither. The single AVML_KEY / AVML_SHA256 of v0.11.0 deployments is refused.
     */
    avmlX86_64Key: "AVML_X86_64_KEY",
    avmlX86_64Sha256: "AVML_X86_64_SHA256",
    avmlAarch64Key: "AVML_AARCH64_KEY",
    avmlAarch64Sha256: "AVML_AARCH64_SHA256",
    /** Caps in seconds for the disk and memory poll loops. */
    snapshotCapSeconds: "SNAPSHOT_CAP_SECONDS",
    memoryCapSeconds: "MEMORY_CAP_SECONDS",
    /** Object Lock retention (days) for the manifest and metadata objects. */
    retentionDays: "RETENTION_DAYS",
    /** Name of the role (same name in every member account) assumed for cross-account targets. */
    responderRoleName: "RESPONDER_ROLE_NAME",
    /** The account the functions run in; findings of other accounts go through the responder role. */
    homeAccountId: "HOME_ACCOUNT_ID",
    /** "true": a member instance's snapshots are copied into this account (the definition has the copy states). */
    copySnapshotsToHub: "COPY_SNAPSHOTS_TO_HUB",
    /** KMS key (ARN) the hub's copies of member snapshots are encrypted with: the region's evidence key. */
    hubSnapshotKeyArn: "HUB_SNAPSHOT_KEY_ARN",
    /** The asymmetric KMS key (ARN; ECC_NIST_P256, SIGN_VERIFY) the seal signs the manifest's sha256 with (core/signature.ts). */
    manifestSigningKeyArn: "MANIFEST_SIGNING_KEY_ARN",
} as const;

/** The S3 key prefix of a case. */
export function casePrefix(caseId: string): string {
    return `cases/${caseId}/`;
}
