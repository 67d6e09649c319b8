/**
 * The simulated accounts' state: plain JSON-shaped records (plus `Buffer` object bodies) so the whole world can
 * be saved to a directory and loaded by a later command (`drill --state DIR`, the analyst CLI). Every time is a
 * number of milliseconds on the simulator's clock (`World.now()`), converted to `Date`s only in API outputs.
 *
 * Nothing here has behaviour: the services (`services/*.ts`) read and change these records.
 */
import type { TrailState } from "./trail";
import type { SnapshotContent } from "./disk";
import type { AvmlBuild } from "../../core/avml";
import type { PersistedOptions } from "./seed";
import type { IamDenial as IamDenialRecord } from "./iam/index";
import type { AclEntry } from "../../core/networkCut";

/** One IAM role with what the simulation checks: who may assume it, and its inline policies. */
export interface RoleState {
    roleName: string;
    roleId: string;
    arn: string;
    path: string;
    createdAt: number;
    /** Accounts whose principals the trust policy admits (sts:AssumeRole). Empty = nobody. */
    trustedAccounts: string[];
    /** Inline policies: name -> the document exactly as put (a JSON string). */
    policies: Record<string, string>;
    /**
     * The trust policy as deployed (JSON). Absent on roles seeded without one (the finding's own instance role, states
     * saved before IAM was evaluated): `trustedAccounts` then stands for it.
     */
    trustPolicy?: string;
    /** AWS managed policies attached to the role (modelled by their document): name -> document (JSON). */
    awsManagedPolicies?: Record<string, string>;
    /** ARNs of the customer managed policies attached (absent in worlds saved before they were modelled). */
    attachedPolicies?: string[];
}

/** A customer managed policy and its versions (IAM keeps at most five). */
export interface ManagedPolicyState {
    policyName: string;
    policyId: string;
    arn: string;
    path: string;
    createdAt: number;
    defaultVersionId: string;
    /** Oldest first; `document` exactly as given (a JSON string). */
    versions: { versionId: string; document: string; createdAt: number }[];
    /** The next version number IAM hands out (v1, v2, ...: never reused). */
    nextVersion: number;
}

export interface InstanceProfileState {
    name: string;
    id: string;
    arn: string;
    path: string;
    createdAt: number;
    roleNames: string[];
}

export interface IamState {
    roles: Record<string, RoleState>;
    instanceProfiles: Record<string, InstanceProfileState>;
    /** Customer managed policies by ARN (absent in worlds saved before they were modelled). */
    managedPolicies?: Record<string, ManagedPolicyState>;
}

export interface InstanceState {
    instanceId: string;
    /** "spot" for a Spot instance; absent for On-Demand (as EC2's InstanceLifecycle). */
    instanceLifecycle?: "spot";
    instanceType: string;
    imageId: string;
    platform: "linux" | "windows";
    /** DescribeInstances `Architecture` (the simulator's instances are x86_64 or arm64). Absent in older states: x86_64. */
    architecture?: "x86_64" | "arm64";
    /** pending | running | shutting-down | terminated | stopping | stopped */
    state: string;
    stateTransitionReason?: string;
    vpcId: string;
    subnetId: string;
    availabilityZone: string;
    privateIpAddress: string;
    launchTime: number;
    /** Interfaces attached to the instance, by device index order. */
    networkInterfaceIds: string[];
    blockDevices: { deviceName: string; volumeId: string; deleteOnTermination: boolean }[];
    rootDeviceName: string;
    tags: Record<string, string>;
    disableApiTermination: boolean;
    disableApiStop: boolean;
    shutdownBehavior: "stop" | "terminate";
    /** The current (associated) instance profile association, if any. */
    associationId?: string;
    /** SSM agent state: Online, ConnectionLost, or absent = not a managed instance. */
    ssmPingStatus?: "Online" | "ConnectionLost";
    terminatedAt?: number;
}

export interface NetworkInterfaceState {
    networkInterfaceId: string;
    vpcId: string;
    subnetId: string;
    availabilityZone: string;
    privateIpAddress: string;
    ipv6Addresses: string[];
    groupIds: string[];
    description: string;
    tags: Record<string, string>;
    attachment?: { instanceId: string; deviceIndex: number; attachmentId: string; deleteOnTermination: boolean; attachedAt: number };
    /** EC2's InterfaceType: absent = "interface"; "nat_gateway", "vpc_endpoint", "network_load_balancer"... */
    interfaceType?: string;
    /** Managed by an AWS service (NAT gateway, endpoint, load balancer): EC2's RequesterManaged. */
    requesterManaged?: boolean;
    /** Secondary private IPv4 addresses (the primary is privateIpAddress). */
    secondaryPrivateIps?: string[];
    /** The public IPv4 address associated with the interface, if any. */
    publicIp?: string;
}

/** A rule as EC2 reports it (`IpPermission`), kept as plain JSON. */
export interface IpPermissionState {
    IpProtocol: string;
    FromPort?: number;
    ToPort?: number;
    IpRanges?: { CidrIp: string; Description?: string }[];
    Ipv6Ranges?: { CidrIpv6: string }[];
    PrefixListIds?: { PrefixListId: string }[];
    UserIdGroupPairs?: { GroupId: string; UserId?: string }[];
}

/** A subnet (VPC User Guide, "Subnets for your VPC"). */
export interface SubnetState {
    subnetId: string;
    vpcId: string;
    availabilityZone: string;
    cidrBlock: string;
    tags: Record<string, string>;
}

/** One network ACL rule as EC2 reports it (`NetworkAclEntry`); the default `*` rules are 32767 (IPv4) and 32768 (IPv6). */
export type NetworkAclEntryState = AclEntry & {
    icmpTypeCode?: { type: number; code: number };
};

/** A network ACL: its rules and the subnets it serves (a subnet has exactly one; one ACL may serve many). */
export interface NetworkAclState {
    networkAclId: string;
    vpcId: string;
    isDefault: boolean;
    ownerId: string;
    entries: NetworkAclEntryState[];
    associations: { networkAclAssociationId: string; subnetId: string }[];
    tags: Record<string, string>;
}

/** One route: a destination and its target (the fields EC2's `Route` uses). */
export interface RouteState {
    destinationCidrBlock?: string;
    destinationIpv6CidrBlock?: string;
    destinationPrefixListId?: string;
    /** "local", an internet gateway (igw-), a virtual private gateway (vgw-) or a gateway endpoint (vpce-). */
    gatewayId?: string;
    natGatewayId?: string;
    egressOnlyInternetGatewayId?: string;
    vpcPeeringConnectionId?: string;
    transitGatewayId?: string;
}

export interface RouteTableState {
    routeTableId: string;
    vpcId: string;
    /** The VPC's main route table serves every subnet without an explicit association. */
    main: boolean;
    /** Subnets explicitly associated. */
    subnetIds: string[];
    routes: RouteState[];
    tags: Record<string, string>;
}

export interface NatGatewayState {
    natGatewayId: string;
    vpcId: string;
    subnetId: string;
    networkInterfaceId: string;
    privateIp: string;
    publicIp: string;
}

export interface VpcEndpointState {
    vpcEndpointId: string;
    vpcId: string;
    serviceName: string;
    type: "Interface" | "Gateway";
    subnetIds: string[];
    networkInterfaceIds: string[];
    groupIds: string[];
    routeTableIds: string[];
}

/**
 * The path a flow takes between the suspect's interface and its peer, which decides the network ACL boundaries
 * its packets cross and whether AWS tracks it automatically ("Security group connection tracking", EC2 User
 * Guide: NAT gateways, Network Load Balancers, interface endpoints, egress-only internet gateways and the
 * DynamoDB gateway endpoint are automatically tracked).
 */
export type FlowPath =
    /** Straight out of the subnet through the internet gateway (the interface has a public address). */
    | { kind: "internet-gateway"; internetGatewayId: string }
    /** Through a NAT gateway in another (or the same) subnet, then its internet gateway. */
    | { kind: "nat-gateway"; natGatewayId: string }
    /** A peer interface in the VPC: the same subnet (never filtered by ACLs) or another one. */
    | { kind: "peer"; networkInterfaceId: string }
    /** An interface VPC endpoint's interface (PrivateLink). */
    | { kind: "interface-endpoint"; vpcEndpointId: string; networkInterfaceId: string };

/** An established flow of a simulated instance, as the world keeps it (the report evaluates it packet by packet). */
export interface FlowState {
    flowId: string;
    /** What it is, for people ("attacker's C2 session through the NAT gateway"). */
    label: string;
    /** The response must keep it (the SSM agent's channel): never counted as an open flow of the suspect. */
    forensic?: boolean;
    networkInterfaceId: string;
    localAddress: string;
    localPort: number;
    /** The peer's address as seen inside the VPC (through a NAT gateway: the remote internet address). */
    remoteAddress: string;
    remotePort: number;
    /** "6" TCP, "17" UDP, "1" ICMP (protocol numbers, as network ACL entries use them). */
    protocol: "6" | "17" | "1";
    initiatedBy: "local" | "remote";
    path: FlowPath;
    /** Tracked by the security group's connection tracking (decided once, when the flow was established). */
    tracked: boolean;
    /** Tracked because of its path or protocol, whatever the groups said. */
    automaticallyTracked: boolean;
    establishedAt: number;
}

export interface SecurityGroupState {
    groupId: string;
    groupName: string;
    description: string;
    vpcId: string;
    ownerId: string;
    tags: Record<string, string>;
    ingress: IpPermissionState[];
    egress: IpPermissionState[];
}

export interface VolumeState {
    volumeId: string;
    sizeGiB: number;
    availabilityZone: string;
    volumeType: string;
    encrypted: boolean;
    /** creating | in-use | available (a deleted volume is removed from the state) */
    state: string;
    createdAt: number;
    tags: Record<string, string>;
    attachment?: { instanceId: string; deviceName: string; attachedAt: number };
    /** CreateVolume: the snapshot it was made from. */
    snapshotId?: string;
    /** The KMS key of an encrypted volume made by CreateVolume (seeded volumes: the default `aws/ebs` key). */
    kmsKeyId?: string;
    /** CreateVolume: when it leaves `creating` (simulator clock). */
    availableAt?: number;
    /** CreateVolume's ClientToken (a retry with the same token returns this volume). */
    clientToken?: string;
}

export interface SnapshotState {
    snapshotId: string;
    volumeId: string;
    volumeSizeGiB: number;
    ownerId: string;
    description: string;
    encrypted: boolean;
    tags: Record<string, string>;
    startTime: number;
    /** When it leaves `pending` (simulator clock). */
    doneAt: number;
    /** How it ends: `completed`, or `error` under the snapshot-error scenario (or a failed copy). */
    outcome: "completed" | "error";
    /** EC2's StateMessage when it ends in error (absent: the snapshot-error scenario's message). */
    stateMessage?: string;
    /** The KMS key ARN of an encrypted snapshot (absent on old states: the default `aws/ebs` key). */
    kmsKeyId?: string;
    /** Accounts (or the group `all`) it is shared with: createVolumePermission (ModifySnapshotAttribute). */
    createVolumePermissions?: string[];
    /** A CopySnapshot copy: the snapshot copied and its owner. */
    copyOf?: { snapshotId: string; accountId: string };
    /** Its lock (LockSnapshot), as set; what state it is in follows from the clock (services/ec2.ts lockView). */
    lock?: SnapshotLock;
    /** Its bytes, compactly (drill/sim/disk.ts); absent: its volume's default content (a copy: its source's). */
    content?: SnapshotContent;
}

/** A snapshot lock as LockSnapshot set it (EBS User Guide, "Amazon EBS snapshot lock concepts"). */
export interface SnapshotLock {
    mode: "compliance" | "governance";
    /** When it was (last) set, simulator clock. */
    lockedAt: number;
    /** LockDuration: days from the snapshot's completion (or from the lock, on a completed snapshot). */
    durationDays?: number;
    /** ExpirationDate, simulator clock (instead of durationDays). */
    expiresAt?: number;
    /** Compliance mode's cooling-off period, hours (absent: none, locked in compliance at once). */
    coolOffHours?: number;
}

/** A customer managed KMS key, as far as EBS needs one: it exists, and its aliases. Key policies are not evaluated. */
export interface KmsKeyState {
    keyId: string;
    arn: string;
    /** Alias names (`alias/...`) pointing at it. */
    aliases: string[];
    description: string;
    /** The key policy as deployed (JSON); absent: the default key policy (the account administers it through IAM). */
    policy?: string;
    /** KeySpec (absent: SYMMETRIC_DEFAULT). An ECC_NIST_P256 key's private scalar is derived from the world's seed and its id. */
    keySpec?: "SYMMETRIC_DEFAULT" | "ECC_NIST_P256";
    /** KeyUsage (absent: ENCRYPT_DECRYPT). */
    keyUsage?: "ENCRYPT_DECRYPT" | "SIGN_VERIFY";
    /** KeyState (absent: Enabled). */
    keyState?: "Enabled" | "Disabled" | "PendingDeletion";
}

export interface ProfileAssociationState {
    associationId: string;
    instanceId: string;
    profileArn: string;
    profileId: string;
    /** associated | disassociated */
    state: string;
    /** When it was associated, then (once disassociated) when it was disassociated. */
    at: number;
    /** When it was associated (kept once `at` says when it ended). Absent: `at`. */
    associatedAt?: number;
}

export interface AutoScalingGroupState {
    name: string;
    desired: number;
    min: number;
    max: number;
    availabilityZones: string[];
    instanceIds: string[];
    targetGroupArns: string[];
    launchTemplate: { id: string; name: string; version: string };
    /** Every detachment, with whether the desired capacity was kept (a replacement then launches). */
    detachments: { instanceId: string; decremented: boolean; at: number }[];
}

export interface TargetState {
    /** The instance id, or for a target group of type `ip` the address. */
    id: string;
    port: number;
    /** An `ip` target outside the group's VPC is registered with an Availability Zone (or `all`). */
    availabilityZone?: string;
    /** healthy while registered; after DeregisterTargets (or the instance leaving), draining until `drainUntil`. */
    state: "healthy" | "draining";
    drainUntil?: number;
}

export interface TargetGroupState {
    arn: string;
    name: string;
    /** @default "instance" */
    targetType?: "instance" | "ip";
    protocol: string;
    port: number;
    vpcId: string;
    loadBalancerArns: string[];
    targets: TargetState[];
}

/** A DynamoDB item, in AttributeValue form exactly as written (`{S}`, `{N}`, `{L}`, `{M}`, `{BOOL}`, `{SS}`...). */
export type Item = Record<string, AttributeValue>;
export type AttributeValue = Record<string, unknown>;

export interface TableState {
    name: string;
    partitionKey: string;
    sortKey?: string;
    /** Items by their key's canonical JSON, in insertion order. */
    items: Record<string, Item>;
}

export interface ObjectVersionState {
    versionId: string;
    deleteMarker: boolean;
    lastModified: number;
    /** The bytes of a single PUT. Absent on delete markers and on multipart objects (`parts`). */
    body?: Buffer;
    /**
     * A multipart upload's parts, in part-number order: the object's bytes are their concatenation. Identical parts
     * may share one Buffer (a 256 GiB image is a few distinct Buffers): never written after upload.
     */
    parts?: ObjectPartState[];
    size: number;
    etag: string;
    /**
     * Hex sha256 of the bytes (the simulator's own record; S3 returns ChecksumSHA256 only when one was sent). Empty
     * on a delete marker, and on a multipart object until first asked (services/s3.ts `objectSha256`).
     */
    sha256: string;
    /**
     * Base64 ChecksumSHA256 as stored when the writer asked for one: a single PUT's full-object checksum, or a
     * multipart object's composite one (`<base64>-<parts>`, `checksumType` COMPOSITE).
     */
    checksumSha256?: string;
    checksumType?: "FULL_OBJECT" | "COMPOSITE";
    contentType?: string;
    metadata: Record<string, string>;
    lockMode?: "COMPLIANCE" | "GOVERNANCE";
    retainUntil?: number;
}

/** One part of a multipart object, as S3 keeps it. */
export interface ObjectPartState {
    body: Buffer;
    /** `"<md5 hex>"` of the part. */
    etag: string;
    /** Base64 SHA-256 S3 computed from the part's bytes, kept when the upload was created with ChecksumAlgorithm SHA256. */
    checksumSha256?: string;
}

export interface BucketState {
    name: string;
    accountId: string;
    region: string;
    versioning: boolean;
    /** Object Lock default retention; null = Object Lock not enabled. */
    objectLock: { mode: "COMPLIANCE" | "GOVERNANCE"; days: number } | null;
    tags: Record<string, string>;
    /** Versions per key, oldest first. */
    objects: Record<string, ObjectVersionState[]>;
    /** The bucket policy as deployed (JSON); absent: none. */
    policy?: string;
    /** The bucket's default encryption key (SSE-KMS, bucket key on): callers need it in KMS too. */
    kmsKeyArn?: string;
}

export interface DocumentState {
    name: string;
    /** What the simulated agent does with it; only the memory capture is simulated. */
    kind: "memory-capture";
    platformTypes: ("Linux" | "Windows")[];
    requiredParameters: string[];
    optionalParameters: string[];
    /** allowedPattern per parameter (SSM rejects a value that does not match at SendCommand). */
    patterns: Record<string, string>;
}

export interface InvocationState {
    instanceId: string;
    /** Pending | InProgress | Success | Failed | TimedOut */
    status: string;
    statusDetails: string;
    responseCode: number;
    stdout: string;
    stderr: string;
    /** When the agent finishes (simulator clock); the effect is applied the first time the clock passes it. */
    dueAt: number;
    /**
     * IAM's answers to the instance's own calls, decided when the command was sent (drill/sim/services/ssm.ts):
     * the avml download, the image upload, the agent's output upload. Absent: allowed (or not evaluated).
     */
    iam?: { fetch?: IamDenialRecord; upload?: IamDenialRecord; output?: IamDenialRecord; noCredentials?: boolean; agent?: IamDenialRecord };
    startedAt?: number;
    finishedAt?: number;
    done: boolean;
}

export interface CommandState {
    commandId: string;
    documentName: string;
    /** SendCommand's Comment (absent on states saved before ListCommands was modelled: read as ""). */
    comment?: string;
    parameters: Record<string, string[]>;
    outputBucket?: string;
    outputPrefix?: string;
    timeoutSeconds: number;
    requestedAt: number;
    accountId: string;
    region: string;
    invocations: Record<string, InvocationState>;
}

export interface TopicState {
    arn: string;
}

export interface RegionState {
    instances: Record<string, InstanceState>;
    networkInterfaces: Record<string, NetworkInterfaceState>;
    securityGroups: Record<string, SecurityGroupState>;
    volumes: Record<string, VolumeState>;
    snapshots: Record<string, SnapshotState>;
    profileAssociations: Record<string, ProfileAssociationState>;
    autoScalingGroups: Record<string, AutoScalingGroupState>;
    targetGroups: Record<string, TargetGroupState>;
    tables: Record<string, TableState>;
    documents: Record<string, DocumentState>;
    commands: Record<string, CommandState>;
    topics: Record<string, TopicState>;
    /** Customer managed KMS keys by key id (absent on states saved before keys were modelled). */
    kmsKeys?: Record<string, KmsKeyState>;
    /** The network around the instances (absent on states saved before it was modelled: nothing is filtered then). */
    subnets?: Record<string, SubnetState>;
    networkAcls?: Record<string, NetworkAclState>;
    routeTables?: Record<string, RouteTableState>;
    natGateways?: Record<string, NatGatewayState>;
    vpcEndpoints?: Record<string, VpcEndpointState>;
    /** Established flows of the region's instances. */
    flows?: Record<string, FlowState>;
}

export interface AccountState {
    accountId: string;
    iam: IamState;
    regions: Record<string, RegionState>;
}

/** Credentials the simulator issued, by access key id: which account and identity they act as. */
export interface SessionState {
    accessKeyId: string;
    accountId: string;
    /** Caller ARN (GetCallerIdentity). */
    arn: string;
    userId: string;
    expiresAt: number;
    /** The role the session is of (absent on the home credentials: whichever function or caller runs, see `runAs`). */
    roleArn?: string;
    /** When it was issued (`aws:TokenIssueTime`), simulator clock. */
    issuedAt?: number;
}

/** A fault-injection rule. `after` matching calls pass, then the next `times` fail with `error`. */
export interface FaultRule {
    /** "ec2:CreateSnapshots", "ec2:*" or "*". The ELBv2 prefix is "elasticloadbalancing" (IAM's); "elbv2" is accepted too. */
    action: string;
    /** AWS error code the call fails with, e.g. "RequestLimitExceeded", "ThrottlingException". */
    error: string;
    times: number;
    after?: number;
    message?: string;
    /** HTTP status of the error. @default 400 (503 for ServiceUnavailable/SlowDown, 500 for Internal*) */
    status?: number;
    /** Only calls acting on this account. */
    accountId?: string;
}

export interface FaultRuleState extends FaultRule {
    /** Matching calls seen so far. */
    seen: number;
}

/** One simulated AWS call. */
export interface CallRecord {
    /** Wall-clock milliseconds since this simulator object was created, when the call reached it. */
    atMs: number;
    /** Wall-clock duration (the latency plus the effect). */
    durationMs?: number;
    /** The client factory's service name (ec2, autoscaling, elbv2, iam, s3, ssm, sts, dynamodb; sns). */
    service: string;
    /** IAM-style action, e.g. "ec2:ModifyNetworkInterfaceAttribute" (ELBv2: "elasticloadbalancing:..."). */
    action: string;
    ok: boolean;
    /** "<name>: <message>" when ok is false. */
    error?: string;
    errorName?: string;
    accountId: string;
    region: string;
    /** The command input (S3 bodies replaced by their bytes). Not persisted. */
    input?: unknown;
    /** A fault rule, not the simulated service, made this call fail. */
    injected?: boolean;
    /** The caller: the role the call ran as (IAM evaluation). */
    principal?: string;
    /** Attempt number of the SDK call this request belongs to (>1: the emulated SDK retry sent it again). */
    attempt: number;
}

/** Something the simulated world did on its own (agent finished, snapshot completed, instance terminated). */
export interface WorldEvent {
    atMs: number;
    simTime: string;
    kind: string;
    detail: string;
}

export interface Notification {
    atMs: number;
    topicArn: string;
    subject?: string;
    message: string;
    messageId: string;
}

/** Scenario switches and tunables that shape behaviour after seeding (persisted with the state). */
export interface BehaviourConfig {
    latencyMs: number;
    snapshotDurationMs: number;
    memoryDurationMs: number;
    memoryBytes: number;
    snapshotError: boolean;
    memoryHashMismatch: boolean;
    /** Simulator milliseconds a CopySnapshot copy stays pending (absent: snapshotDurationMs). */
    copyDurationMs?: number;
    /** CopySnapshot copies made in this account's side end in `error`: the member's (share) or the hub's. */
    copyError?: "member" | "hub";
    /** Simulator milliseconds a CreateVolume volume stays `creating` (absent: 0, available at the next look). */
    volumeDurationMs?: number;
    avmlFails: boolean;
    screenshotUnsupported: boolean;
    /** Memory upload denied unless the instance's current profile is the capture profile of its account. */
    requireCaptureProfile: boolean;
    /** Bytes of progress lines the memory document prints before its summary (to exercise the 24,000 cap). */
    stdoutPaddingBytes: number;
    deregistrationDelayMs: number;
    /** Emulate the SDK's standard retry (the short-circuit bypasses the real one). */
    sdkRetries: boolean;
    /** Real milliseconds between emulated SDK attempts. */
    sdkRetryDelayMs: number;
    terminateAfter?: { action: string; instanceId: string; fired: boolean };
    /**
     * After the first successful call of this action, someone with the account's own administrator rights deletes
     * every evidence snapshot of the instance (DeleteSnapshot, recorded like any call): the `evidence-deleted` scenario.
     */
    deleteSnapshotsAfter?: { action: string; instanceId: string; fired: boolean };
    /** Once `action` succeeded, the hub's administrator reads the memory image and tries to delete it (`evidence-read`). */
    readEvidenceAfter?: { action: string; fired: boolean };
    /** Largest pages the simulated APIs return (absent getObjectAttributesParts: 1,000, S3's own). */
    pageSizes: { describeTargetGroups: number; describeSnapshots: number; listObjectsV2: number; getObjectAttributesParts?: number };
}

/** What the deployment provides in the finding's account and region, for the drill's environment. */
export interface Deployment {
    /** The account the functions run in (the forensics / hub account). */
    homeAccountId: string;
    region: string;
    evidenceBucket: string;
    casesTable: string;
    /** vpcId -> isolation security group id (ISOLATION_GROUPS). */
    isolationGroups: Record<string, string>;
    /** vpcId -> all-open untrack security group id (UNTRACK_GROUPS). */
    untrackGroups: Record<string, string>;
    /** Capture instance profile of the instance's account (profiles cannot be used across accounts). */
    captureProfileArn: string;
    /** Capture profile ARN per account that hosts instances. */
    captureProfileArns: Record<string, string>;
    memoryDocument: string;
    /** The staged avml builds (key and sha256 of each) in the evidence bucket (AVML_<BUILD>_KEY / _SHA256). */
    avml: Partial<Record<AvmlBuild, { key: string; sha256: string }>>;
    topicArn: string;
    responderRoleName: string;
    /** The endpoints' security group per VPC (the isolation group's second egress target). */
    endpointGroups: Record<string, string>;
    /** The evidence bucket's KMS key in the home region (HUB_SNAPSHOT_KEY_ARN). Absent on old states. */
    evidenceKeyArn?: string;
    /** The manifest-signing key in the home region (MANIFEST_SIGNING_KEY_ARN). Absent on old states. */
    manifestSigningKeyArn?: string;
    /** Deployed with copySnapshotsToHub: share keys in the members, the copy states, COPY_SNAPSHOTS_TO_HUB=true. */
    copySnapshotsToHub?: boolean;
    /**
     * IAM as the program deploys it (drill/sim/iam/deployment.ts): per hub region, the response workflow's component
     * name (its roles are `<component>-<function>`, `<component>-state-machine`). Absent on states saved before IAM
     * was evaluated.
     */
    iam?: { components: Record<string, string>; analystRoleArn: string };
    /** The home region's evidence access trail bucket (components/evidenceTrail.ts). Absent on old states. */
    accessTrailBucket?: string;
    /** The forensic workstation (`dfir:workstation`), when the world has one: in the home account. */
    workstation?: { instanceId: string; region: string; availabilityZone: string };
}

/** How the finding was mapped onto the simulation (redacted or placeholder values replaced). */
export interface SeedReport {
    findingId?: string;
    findingType?: string;
    resourceType?: string;
    /** The finding's account id when it was not 12 digits (or SimOptions.accountId replaced it), and the id used. */
    accountIdMapping?: { from: string; to: string };
    regionMapping?: { from: string; to: string };
    /** Placeholder / malformed ids from the finding -> simulated ids (VPC, subnet, groups, ENIs, profile). */
    idMapping: Record<string, string>;
    /** Finding fields that were missing or unusable and got a default. */
    defaulted: string[];
}

export interface SimState {
    version: 1;
    /** Seed of every generated id and byte, so the same finding and options give the same world. */
    seed: string;
    counters: Record<string, number>;
    /** Simulator clock = wall clock + this offset (advanced by `advance()`). */
    clockOffsetMs: number;
    createdAt: number;
    homeAccountId: string;
    region: string;
    /** The instance seeded from the finding (absent for a deployment-only world). */
    primary?: { accountId: string; region: string; instanceId: string };
    accounts: Record<string, AccountState>;
    /** Bucket names are global, as in S3; each records its owner account and region. */
    buckets: Record<string, BucketState>;
    sessions: Record<string, SessionState>;
    faults: FaultRuleState[];
    behaviour: BehaviourConfig;
    deployment: Deployment;
    seedReport: SeedReport;
    /** Seeding options that later seeding (addInstanceFromFinding) must reuse. */
    seedOptions: PersistedOptions;
    notifications: Notification[];
    events: WorldEvent[];
    /** Calls of earlier sessions (loaded from disk); this session's calls are on the object. */
    callHistory: CallRecord[];
    /** The deployed CloudTrail trails by log bucket (drill/sim/trail.ts: the evidence access trail). Absent on old states. */
    trails?: Record<string, TrailState>;
}

export function emptyRegion(): RegionState {
    return {
        instances: {},
        networkInterfaces: {},
        securityGroups: {},
        volumes: {},
        snapshots: {},
        profileAssociations: {},
        autoScalingGroups: {},
        targetGroups: {},
        tables: {},
        documents: {},
        commands: {},
        topics: {},
        kmsKeys: {},
        subnets: {},
        networkAcls: {},
        routeTables: {},
        natGateways: {},
        vpcEndpoints: {},
        flows: {},
    };
}

export function emptyAccount(accountId: string): AccountState {
    return { accountId, iam: { roles: {}, instanceProfiles: {} }, regions: {} };
}
