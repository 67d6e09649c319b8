/**
 * The drill's simulated AWS: a stateful world of accounts and regions that the handlers' real SDK v3 clients
 * talk to in-process. Start with {@link SimulatedAccount.fromFinding}, then `install()`.
 *
 * ```ts
 * const sim = SimulatedAccount.fromFinding(event, { ...scenarioOptions("in-asg"), latencyMs: 20 });
 * Object.assign(process.env, sim.environment());
 * sim.install();
 * try { await handler(...); } finally { sim.uninstall(); }
 * sim.calls;        // every call: atMs, service, action, ok, error, accountId, region, input
 * sim.instance();   // the instance now: groups per interface, tags, protections, ASG, target groups, profile
 * ```
 */
import type { SimOptions } from "./seed";

export {
    SimulatedAccount,
    saveState,
    loadState,
    actionMatches,
    sdkRetryable,
    type InstanceView,
    type FlowView,
    type SnapshotView,
    type VolumeView,
    type ObjectView,
    type CommandView,
    type InvokeOptions,
    type SimulatedAccountJson,
} from "./account";
export { SimulationSeedError, STAND_IN_ACCOUNT, STAND_IN_REGION, DEFAULT_HUB_ACCOUNT, type SimOptions, type SimHook, type MemberOption, type DeploymentNames, type WorkstationOption } from "./seed";
export { SimulatorGapError, THROTTLING_CODE, type SimService } from "./errors";
export { STDOUT_LIMIT, STDERR_LIMIT, MEMORY_STEP } from "./services/ssm";
export type { FlowOption } from "./seedNetwork";
export { ATTACKER_ADDRESS } from "./seedNetwork";
export type { CallRecord, FaultRule, Deployment, SeedReport, Notification, WorldEvent, Item, AttributeValue } from "./state";

/** `huge-memory`: the host's RAM and so its image, 256 GiB. */
export const HUGE_MEMORY_BYTES = 256 * 1024 ** 3;

/**
 * Drill scenario names (ARCHITECTURE.md `--scenario`) -> simulator options. Approval scenarios only tag the
 * instance (`dfir:approval=required`): waiting, approving or timing out is the workflow's business.
 */
export const SCENARIOS: Readonly<Record<string, SimOptions>> = {
    "ssm-offline": { ssmOffline: true },
    "snapshot-error": { snapshotError: true },
    // With the SDK's retry emulated (the functions' clients make 5 attempts, functions/lib/aws.ts MAX_ATTEMPTS),
    // 1-4 throttles are absorbed inside one SDK call; 5 in a row reach the handler (and then the state machine's Retry).
    throttling: {
        throttle: [
            { action: "dynamodb:*", times: 1 },
            { action: "ec2:DescribeInstances", times: 2 },
            { action: "ec2:ModifyNetworkInterfaceAttribute", times: 3 },
            { action: "ec2:CreateSnapshots", times: 5 },
            { action: "ssm:SendCommand", times: 1 },
            { action: "s3:PutObject", times: 2 },
        ],
    },
    "instance-terminated": { terminateAfter: "ec2:ModifyNetworkInterfaceAttribute" },
    "already-isolated": { alreadyIsolated: true },
    "in-asg": { inAsg: true },
    // The 200th instance contained on its role: the drill first writes 199 earlier containments' revocations.
    "revocation-at-scale": { instanceProfile: "app-profile" },
    "spot-instance": { spot: true },
    // The instance had a profile: its SSM agent still holds that role's credentials when the capture command comes.
    "agent-cached-credentials": { instanceProfile: "app-profile" },
    "ip-target-group": { ipTargetGroup: true },
    "approval-required": { extraTags: { "dfir:approval": "required" } },
    "approval-timeout": { extraTags: { "dfir:approval": "required" } },
    "cross-account": { crossAccount: true },
    "cross-account-role-missing": { crossAccountRoleMissing: true },
    "copy-to-hub": { crossAccount: true, copySnapshotsToHub: true },
    "copy-to-hub-failed": { crossAccount: true, copySnapshotsToHub: true, copyError: "hub" },
    windows: { windows: true },
    "memory-hash-mismatch": { memoryHashMismatch: true },
    // An attacker's sessions out of the private instance through the VPC's NAT gateway, established before the
    // finding: a C2 channel over HTTPS and an ICMP tunnel. Both automatically tracked (EC2 User Guide, "Security
    // group connection tracking"): no change of security groups ends them.
    "nat-tracked-flow": {
        flows: [
            { path: "nat-gateway", protocol: "tcp", port: 443, label: "the attacker's C2 session (HTTPS) out through the NAT gateway" },
            { path: "nat-gateway", protocol: "icmp", label: "an ICMP tunnel out through the NAT gateway (ICMP is always tracked)" },
        ],
    },
    // A secondary interface attached from a second VPC (same zone), which the deployment prepared as well.
    "multi-vpc-eni": { secondVpcInterface: "prepared" },
    // EBS snapshots of large volumes take hours ("Amazon EBS snapshots": a snapshot stays pending until all modified
    // blocks are transferred to S3): this set completes 30 hours after CreateSnapshots (drill/scenarios.ts).
    "long-snapshot": { snapshotDurationMs: 30 * 3600 * 1000 },
    // Volumes at EC2's 50 user tags, among them the dfir:* tags of a volume restored from earlier evidence (and
    // an aws: tag AWS Backup sets on what it restores, which does not count).
    "volume-tag-overflow": { volumeTags: restoredVolumeTags() },
    // A member's volumes under a customer managed key, copied into the hub: the key's policy lets the account's IAM
    // policies use it (cmk-volume), or names only other roles (cmk-volume-no-iam).
    "cmk-volume": { crossAccount: true, copySnapshotsToHub: true, volumeKey: "iam-enabled" },
    "cmk-volume-no-iam": { crossAccount: true, copySnapshotsToHub: true, volumeKey: "key-policy-only" },
    "avml-fails": { avmlFails: true },
    // A Graviton instance: DescribeInstances says Architecture arm64 (`uname -m` aarch64 on the instance).
    graviton: { architecture: "arm64", instanceType: "m7g.large" },
    // A host with 256 GiB of RAM: its image is held as its upload's parts (identical parts share one Buffer), and the
    // memory function verifies it inside its deployed 512 MB / 300 s (the drill's Lambda budget, drill/lambda.ts).
    "huge-memory": { memoryBytes: HUGE_MEMORY_BYTES },
    "screenshot-unsupported": { screenshotUnsupported: true },
    // An intruder (or an insider) with the instance account's administrator rights deletes the disk evidence once it
    // exists and the response looks at it (the first snapshot check): nothing in IAM stops an administrator.
    "evidence-deleted": { deleteSnapshotsAfter: "ec2:DescribeSnapshots" },
    // The evidence store's signing key disabled before the seal (KMS "Key states": a disabled key cannot sign).
    "signing-key-disabled": { signingKeyDisabled: true },
    // Someone with the hub account's administrator rights reads the memory image once the memory step has checked
    // it, and tries to delete it: Object Lock refuses the delete; the access trail logs both (drill/sim/trail.ts).
    "evidence-read": { readEvidenceAfter: "s3:GetObjectAttributes" },
    // A 1,000 GiB data volume (sparse, as every simulated disk: drill/sim/disk.ts): the disk digests' Map has 126 items.
    "large-disk": { dataVolumeGiB: 1000 },
};

/**
 * `volume-tag-overflow`: 49 tags besides Name, so each volume carries 50 user tags: the case, instance and kind tags
 * of the evidence it was restored from, the copy tag of that evidence, 45 of the workload's own, and AWS Backup's
 * `aws:backup:source-resource`.
 */
function restoredVolumeTags(): Record<string, string> {
    const tags: Record<string, string> = {
        "dfir:case-id": "case-restored-from-earlier-evidence",
        "dfir:instance-id": "i-0aaaaaaaaaaaaaaaa",
        "dfir:evidence": "disk",
        "dfir:source-snapshot": "snap-0aaaaaaaaaaaaaaaa",
        "aws:backup:source-resource": "snap-0aaaaaaaaaaaaaaaa",
    };
    for (let i = 1; i <= 45; i++) tags[`workload:label-${String(i).padStart(2, "0")}`] = `value ${i}`;
    return tags;
}

/** The options of a named scenario; throws naming the known ones. */
export function scenarioOptions(name: string): SimOptions {
    const options = SCENARIOS[name];
    if (!options) throw new Error(`unknown scenario "${name}" (known: ${Object.keys(SCENARIOS).join(", ")})`);
    return structuredClone(options);
}
