import { CAP_LIMITS } from "../core/config";
import { scenarioOptions, type SimOptions } from "./sim";

/**
 * The drill's scenarios: each names one thing that goes wrong (or differs) in a real response, as simulator
 * options plus the part the drill itself plays (the human answering an approval request).
 */

/** Scenario names accepted by `npm run drill -- --scenario NAME` (ARCHITECTURE.md: command contracts). */
export const SCENARIOS = [
    "ssm-offline",
    "snapshot-error",
    "throttling",
    "instance-terminated",
    "already-isolated",
    "in-asg",
    "approval-required",
    "approval-timeout",
    "approval-denied",
    "cross-account",
    "cross-account-role-missing",
    "copy-to-hub",
    "copy-to-hub-failed",
    "windows",
    "memory-hash-mismatch",
    "revocation-at-scale",
    "spot-instance",
    "ip-target-group",
    "agent-cached-credentials",
    "nat-tracked-flow",
    "multi-vpc-eni",
    "long-snapshot",
    "volume-tag-overflow",
    "cmk-volume",
    "cmk-volume-no-iam",
    "graviton",
    "huge-memory",
    "evidence-deleted",
    "signing-key-disabled",
    "evidence-read",
    "large-disk",
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

/** What the drill's stand-in human does with an approval request. */
export type ApprovalAnswer = "approve" | "deny" | "timeout";

export interface ScenarioPlan {
    /** One line for the timeline header. */
    description: string;
    /** Simulator options (the simulator's own scenario table, drill/sim/index.ts). */
    sim: SimOptions;
    /** The instance carries dfir:approval=required and the drill answers this way. */
    approval?: ApprovalAnswer;
    /** The deployment's poll caps, when not its defaults (24 h for the snapshots, 3 h for the memory image). */
    caps?: { snapshotSeconds: number; memorySeconds: number };
}

/** The largest caps the stack configuration allows (core/config.ts CAP_LIMITS), in seconds. */
export const MAXIMAL_CAPS = {
    snapshotSeconds: CAP_LIMITS.snapshotCapHours.max * 3600,
    memorySeconds: CAP_LIMITS.memoryCapMinutes.max * 60,
} as const;

/** `long-snapshot`: how long the instance's snapshots take to complete. */
export const LONG_SNAPSHOT_HOURS = 30;

/** `revocation-at-scale`: the revocations written before the finding's (earlier containments on the same role). */
export const PRIOR_REVOCATIONS = 199;

const DESCRIPTIONS: Record<ScenarioName, string> = {
    "ssm-offline": "the SSM agent is offline: memory is reported missing, the rest goes on",
    "snapshot-error": "a snapshot ends in state error: disk evidence fails clearly, the case is PARTIAL",
    throttling: "AWS throttles the first calls of several APIs: retried with backoff and jitter",
    "instance-terminated": "the instance is terminated right after containment starts",
    "already-isolated": "the instance is already isolated and tagged (e.g. by hand)",
    "in-asg": "the instance is in an Auto Scaling group and registered in two of three target groups (paginated)",
    "approval-required": "the instance is tagged dfir:approval=required; a responder approves",
    "approval-timeout": "approval required, nobody answers: the configured default (contain) applies",
    "approval-denied": "approval required and refused: evidence only",
    "cross-account": "the finding is from a member account: the functions act through its responder role",
    "cross-account-role-missing": "the finding is from a member account that has no responder role",
    "copy-to-hub": "a member account's finding, deployed with copySnapshotsToHub: its snapshots are copied into the hub under the hub's key",
    "copy-to-hub-failed": "copySnapshotsToHub, and the hub's copies end in error: the member snapshots stay the evidence, the case is PARTIAL",
    windows: "a Windows instance: avml cannot run, memory is reported missing",
    "memory-hash-mismatch": "the instance's hashing read one bit other than what it uploaded: S3 accepts every part, the memory step's part comparison refuses the image",
    "revocation-at-scale": `the instance is the ${PRIOR_REVOCATIONS + 1}th contained on its role: its revocation joins ${PRIOR_REVOCATIONS} others in the role's one revocation policy`,
    "spot-instance": "a Spot instance: EC2 refuses termination and stop protection (recorded; the case is PARTIAL), the rest goes on",
    "ip-target-group": "the instance's address is a target of a target group of type ip: deregistered by address",
    "agent-cached-credentials": "the instance had a profile: its SSM agent still signs with that role's credentials (cached ~30 min, not re-fetched when refused) when the capture command comes, after the revocation",
    "nat-tracked-flow": "an attacker's sessions (HTTPS C2, ICMP) run out through the VPC's NAT gateway when the finding arrives: automatically tracked, they survive any security group change",
    "multi-vpc-eni": "the instance has a secondary interface attached from a second VPC (same zone), which the deployment prepared too",
    "long-snapshot": `the snapshots take ${LONG_SNAPSHOT_HOURS} hours to complete, and the deployment's caps are the largest the configuration allows (168 h snapshots, 12 h memory)`,
    "cmk-volume": "copySnapshotsToHub, and the member's volumes are under a customer managed key whose policy lets the account's IAM policies use it: copied into the hub",
    "cmk-volume-no-iam": "copySnapshotsToHub, and the member's volumes are under a customer managed key whose policy does not let the account's IAM policies use it: the member snapshots stay the evidence, the case is PARTIAL and names the key",
    "volume-tag-overflow": "the instance's volumes carry EC2's 50 tags, among them the dfir:* tags of earlier evidence they were restored from: every volume is still snapshotted, the case's tags win",
    graviton: "a Graviton (arm64) instance: memory is captured with the aarch64 build of avml",
    "huge-memory": "a host with 256 GiB of RAM: its memory image must be verified inside the memory function's deployed 512 MB / 300 s",
    "evidence-deleted": "someone with the instance account's own administrator rights deletes the disk evidence at the first snapshot check: locked snapshots refuse it",
    "signing-key-disabled": "the evidence store's manifest-signing key is disabled: the manifest is sealed all the same, the case says its signature is missing (never SUCCEEDED)",
    "evidence-read": "someone with the hub account's administrator rights reads the memory image and tries to delete it: Object Lock refuses the delete, the access trail logs both and dfir verify names them",
    "large-disk": "the instance's data volume is 1,000 GiB: its content digest is 125 chunks of 8 GiB fanned out over the Distributed Map, each inside the digest function's deployed 900 s",
};

const CAPS: Partial<Record<ScenarioName, ScenarioPlan["caps"]>> = {
    "long-snapshot": MAXIMAL_CAPS,
};


const APPROVALS: Partial<Record<ScenarioName, ApprovalAnswer>> = {
    "approval-required": "approve",
    "approval-timeout": "timeout",
    "approval-denied": "deny",
};

/** The plan of a scenario (undefined = the plain response). */
export function scenarioPlan(name: ScenarioName | undefined): ScenarioPlan {
    if (name === undefined) return { description: "a plain response", sim: {} };
    const approval = APPROVALS[name];
    const sim = approval ? { extraTags: { "dfir:approval": "required" } } : scenarioOptions(name);
    const caps = CAPS[name];
    return { description: DESCRIPTIONS[name], sim, ...(approval ? { approval } : {}), ...(caps ? { caps } : {}) };
}

/** Parse a scenario name from the command line. */
export function parseScenario(raw: string | undefined): ScenarioName | undefined {
    if (raw === undefined) return undefined;
    if ((SCENARIOS as readonly string[]).includes(raw)) return raw as ScenarioName;
    throw new Error(`unknown scenario ${JSON.stringify(raw)} (known: ${SCENARIOS.join(", ")})`);
}
