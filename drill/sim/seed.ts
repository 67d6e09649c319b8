/**
 * Building a world: the deployment (what `pulumi up` would have created) and the instance a GuardDuty finding
 * describes. Findings are read defensively (real ones drop, null and redact fields, and sample findings carry
 * placeholders such as "GeneratedFindingVPCId"); every substitution is reported in the `SeedReport`.
 */
import { caseIdFor } from "../../core/case";
import { partitionOf } from "../../core/containmentPolicies";
import { SNAPSHOT_SHARE_KEY_ALIAS } from "../../core/memberPolicies";
import { MEMORY_DOCUMENT_PARAMETERS, MEMORY_PARAMETER_PATTERNS } from "../../core/ssmDocument";
import { WORKSTATION_DEFAULTS } from "../../core/config";
import { isolationEgressRules } from "../../core/isolation";
import { TAGS } from "../../core/tags";
import { evidenceTrailSelectors, trailArnOf } from "../../core/accessTrail";
import { INSTANCE_ID_PATTERN } from "../../core/triage";
import { THROTTLING_CODE, type SimService } from "./errors";
import { stagedAvml } from "./services/ssm";
import { AVML_BUILDS } from "../../core/avml";
import { putVersion } from "./services/s3";
import { simulatedPublicKey } from "./services/kms";
import { publicKeyObjectKey, publicKeyPem, SIGNING_KEY_SPEC, SIGNING_KEY_USAGE } from "../../core/signature";
import { SSM_MANAGED_INSTANCE_CORE } from "../../core/iam";
import { AMAZON_SSM_MANAGED_INSTANCE_CORE } from "./iam/awsManaged";
import type {
    BehaviourConfig,
    FaultRule,
    FaultRuleState,
    InstanceState,
    IpPermissionState,
    NetworkInterfaceState,
    RegionState,
    SeedReport,
    SimState,
    VolumeState,
} from "./state";
import { EC2_ID, World } from "./world";
import { seedEndpoints, seedFlows, seedVpcNetwork, type FlowOption } from "./seedNetwork";
import { addressFamily } from "../../core/cidr";

/** Thrown by `fromFinding` when the input cannot describe an instance. */
export class SimulationSeedError extends Error {
    override name = "SimulationSeedError";
}

/** Stand-in for redacted / malformed account ids ("111", "XXXXXXXXXXXX"). */
export const STAND_IN_ACCOUNT = "123456789012";
/** Default forensics (hub) account when the instance lives in a member account. */
export const DEFAULT_HUB_ACCOUNT = "210987654321";
export const STAND_IN_REGION = "us-east-1";
/** S3 prefix list the isolation group's egress rule targets (us-east-1's value; any pl- id works here). */
const S3_PREFIX_LIST = "pl-63a5400a";
const FIXED_LAUNCH_TIME = Date.parse("2024-01-01T00:00:00.000Z");

/** A member (workload) account the responder reaches by assuming its responder role. */
export interface MemberOption {
    accountId: string;
    /** @default the finding's region */
    region?: string;
    /** Whether the account has the responder role trusting the hub. @default true */
    responderRole?: boolean;
}

/** A hook run around matching calls (scenario building beyond the built-in switches). Not persisted. */
export interface SimHook {
    /** Action as in fault rules ("ec2:ModifyNetworkInterfaceAttribute", "ec2:*", "*"). */
    action: string;
    /** "before": before the effect (may throw to fail the call); "after": after a successful call. @default "after" */
    when?: "before" | "after";
    run: (call: { action: string; accountId: string; region: string; input: unknown; output?: unknown }) => void | Promise<void>;
}

/** Options of a simulated world. Every field is optional; defaults are noted. */
export interface SimOptions {
    /** EBS volumes of the instance: a root volume plus data volumes. @default 2 */
    volumes?: number;
    /** Size of each data volume (GiB); the root volume is 8 GiB (30 on Windows). @default 100 */
    dataVolumeGiB?: number;
    /**
     * Tags every volume of the instance carries besides its `Name` (which they replace when they name one), e.g. the
     * `dfir:*` tags of a volume restored from earlier evidence; `aws:` keys are AWS's own (they do not count
     * against EC2's 50). At most 50 user tags in all, as EC2 allows. @default none
     */
    volumeTags?: Record<string, string>;
    /**
     * The instance's volumes are encrypted under a customer managed KMS key of its account (`alias/workload-ebs`)
     * instead of the AWS managed `aws/ebs`: a key whose policy lets the account's IAM policies use it (the default
     * key policy's "Enable IAM User Permissions" statement for the account root), or one whose policy names only a
     * key administrator and a workload role (IAM policies then grant nothing on it: KMS Developer Guide, "Default key
     * policy" and "Key policies in AWS KMS"). @default aws/ebs
     */
    volumeKey?: "iam-enabled" | "key-policy-only";
    /** Network interfaces of the instance: the finding's, plus secondary ones up to this count. @default the finding's */
    interfaces?: number;
    /** Real milliseconds each call waits before its effect (concurrent calls overlap). @default 0 */
    latencyMs?: number;
    /** Simulator milliseconds a snapshot stays pending. @default 0 (completed at the next look) */
    snapshotDurationMs?: number;
    /** Simulator milliseconds from SendCommand to the memory document's end. @default 0 */
    memoryDurationMs?: number;
    /** Size of the memory image. @default 8 MiB */
    memoryBytes?: number;
    /**
     * The account the finding's instance lives in, whatever the finding says (the drill's `--account`): 12
     * digits; recorded in the seed report's `accountIdMapping` when it differs from the finding's. @default the finding's
     */
    accountId?: string;
    /** The forensics (hub) account the functions run in. @default the finding's account, or DEFAULT_HUB_ACCOUNT with crossAccount */
    homeAccountId?: string;
    /** The instance lives in a member account, reached through the responder role. @default false */
    crossAccount?: boolean;
    /** More member accounts (with capture profile, memory document, responder role). */
    members?: (string | MemberOption)[];
    /** Fault rules (see FaultRule). */
    faults?: FaultRule[];
    /** Calls of `action` fail `times` times with the service's real throttling code, then succeed. */
    throttle?: { action: string; times: number; after?: number; error?: string }[];
    /** The instance is in an Auto Scaling group and registered in 2 of 3 target groups (listed 1 per page). */
    inAsg?: boolean;
    /**
     * The instance has an instance profile of this name (with a role of the same name) when the finding names
     * none. @default the finding's profile, or none
     */
    instanceProfile?: string;
    /** A Spot instance: EC2 refuses termination and stop protection for it. @default false */
    spot?: boolean;
    /**
     * A target group of type `ip` holding the instance's primary private address on port 8443 (registered with
     * the zone `all`, as an address outside the group's VPC would be), beside one holding another address.
     */
    ipTargetGroup?: boolean;
    /** Every interface already only in the isolation group; tagged dfir:status=isolated. */
    alreadyIsolated?: boolean;
    /** SSM agent ConnectionLost: commands are never delivered and time out. */
    ssmOffline?: boolean;
    /** A Windows instance (whatever the finding says). */
    windows?: boolean;
    /**
     * The instance's architecture as DescribeInstances reports it (`Architecture`): `arm64` for Graviton.
     * @default "x86_64"
     */
    architecture?: "x86_64" | "arm64";
    /** The instance type, whatever the finding says (e.g. a Graviton type with `architecture: "arm64"`). @default the finding's, else t3.micro */
    instanceType?: string;
    /** Snapshots end in state `error`. */
    snapshotError?: boolean;
    /**
     * The capture's hashing reads one bit other than what it uploads (its first part): the sidecar's digests (whole
     * image and part 1) are not the uploaded bytes', while S3 accepts the parts (their checksums come from the bytes sent).
     */
    memoryHashMismatch?: boolean;
    /** avml fails: the command ends Failed with ResponseCode 5 and writes no image. */
    avmlFails?: boolean;
    /** GetConsoleScreenshot fails with UnsupportedOperation (instance types without screenshots). */
    screenshotUnsupported?: boolean;
    /** The instance becomes terminated right after the first successful call of this action. */
    terminateAfter?: string;
    /**
     * Right after the first successful call of this action, the instance account's administrator (not a role of the
     * deployment: IAM does not stop it) deletes every snapshot tagged as the instance's disk evidence.
     */
    deleteSnapshotsAfter?: string;
    /** The evidence store's manifest-signing key is disabled (KMS key state Disabled): Sign answers DisabledException. */
    signingKeyDisabled?: boolean;
    /**
     * Right after the first successful call of this action, someone with the hub account's administrator rights
     * reads the memory image of the instance's case and tries to delete that version (`evidence-read`).
     */
    readEvidenceAfter?: string;
    /** The member account has no responder role (implies crossAccount). */
    crossAccountRoleMissing?: boolean;
    /**
     * Deployed with `copySnapshotsToHub`: every member account gets its share key (alias/dfir-snapshot-share) in
     * its region, the functions' environment the flag and the hub key, the drill the copy states. @default false
     */
    copySnapshotsToHub?: boolean;
    /** Simulator milliseconds a CopySnapshot copy stays pending. @default snapshotDurationMs */
    copyDurationMs?: number;
    /** CopySnapshot copies end in `error` in the member (its share copy) or in the hub (the hub copy). */
    copyError?: "member" | "hub";
    /** Tags added to the instance (e.g. {"dfir:approval": "required"}). */
    extraTags?: Record<string, string>;
    /**
     * Deployed with `dfir:workstation`: a forensic workstation instance (tagged dfir:role=workstation) in the home
     * account, in the home region (or `region`), in `availabilityZone` (default `<region>a`). Seeded after the
     * finding's instance, so every id of that instance is the same with or without it. @default none
     */
    workstation?: boolean | WorkstationOption;
    /** Simulator milliseconds a CreateVolume volume stays `creating`. @default 0 */
    volumeDurationMs?: number;
    /** The memory upload is denied unless the instance's profile is the capture profile. @default true */
    requireCaptureProfile?: boolean;
    /** Progress output (bytes) the memory document prints before its summary. @default 0 */
    stdoutPaddingBytes?: number;
    /** Simulator milliseconds a deregistered target drains. @default 300000 (ELB's default) */
    deregistrationDelayMs?: number;
    /**
     * Emulate the SDK's standard retry mode for clients attached by `install()`: retryable errors (throttling,
     * 5xx, timeouts, as the SDK classifies them) are sent again up to the client's `maxAttempts` (3 by default),
     * each attempt recorded as a call. Off: every failure reaches the handler at once. @default true
     */
    sdkRetries?: boolean;
    /** Real milliseconds between emulated SDK attempts (the SDK uses jittered exponential backoff). @default latencyMs */
    sdkRetryDelayMs?: number;
    /** Page sizes the simulator imposes (smaller than the caller's to force pagination). */
    pageSizes?: Partial<BehaviourConfig["pageSizes"]>;
    /** Object Lock default retention of the evidence bucket (days, COMPLIANCE). @default 365 */
    retentionDays?: number;
    /** Seed of generated ids and bytes. @default derived from the finding id */
    seed?: string;
    /** Names of deployed resources. */
    names?: Partial<DeploymentNames>;
    /** Key schema of the cases table. @default { partitionKey: "pk" } */
    casesTableKey?: { partitionKey: string; sortKey?: string };
    /**
     * Parameters the memory document declares (name -> allowedPattern for required ones).
     * @default the project's document (core/ssmDocument.ts): all six required, with their allowedPatterns
     */
    memoryDocumentParameters?: { required: string[]; optional: string[]; patterns?: Record<string, string> };
    /** Hooks around calls (not persisted). */
    hooks?: SimHook[];
    /** Established flows of the instance at the start, besides its SSM agent's channel (drill/sim/seedNetwork.ts). */
    flows?: FlowOption[];
    /**
     * One more interface, in a second VPC of the same zone (a multi-VPC ENI attachment): a VPC the deployment
     * prepared (its own isolation group and endpoints) or one it did not. @default none
     */
    secondVpcInterface?: "prepared" | "unprepared";
    /** Where the SSM interface endpoints are: a subnet with its own ACL, or the NAT gateway's public subnet. @default "dedicated" */
    endpointSubnet?: "dedicated" | "public";
    /** Deny rules an operator already put in each VPC's default network ACL (per direction). @default 0 */
    defaultAclRules?: number;
    /**
     * Evaluate IAM (drill/sim/iam): every call authorized against the policies the program deploys. False leaves the
     * simulator's service mechanics alone, for its own unit tests that call with inputs no deployed role may send;
     * the drill never turns it off. @default true
     */
    iam?: boolean;
    /** The stack's `dfir:breakGlassRoleArn`: the one role the evidence bucket's tamper denial exempts. @default none */
    breakGlassRoleArn?: string;
}

/** Where the simulated forensic workstation is. */
export interface WorkstationOption {
    /** @default the home region */
    region?: string;
    /** @default `<region>a` */
    availabilityZone?: string;
}

export interface DeploymentNames {
    casesTable: string;
    memoryDocument: string;
    topicName: string;
    responderRoleName: string;
    captureProfileName: string;
    functionsRoleName: string;
    /** Evidence bucket name; `{account}` and `{region}` are replaced. */
    evidenceBucket: string;
    /** The evidence access trail's log bucket (EvidenceTrail); `{account}` and `{region}` are replaced. */
    accessTrailBucket: string;
}

const DEFAULT_NAMES: DeploymentNames = {
    casesTable: "dfir-cases",
    memoryDocument: "dfir-CaptureMemory",
    topicName: "dfir-notifications",
    responderRoleName: "dfir-responder",
    captureProfileName: "dfir-capture",
    functionsRoleName: "dfir-functions",
    evidenceBucket: "dfir-evidence-{account}-{region}",
    accessTrailBucket: "dfir-access-trail-{account}-{region}",
};

export function namesOf(options: SimOptions): DeploymentNames {
    return { ...DEFAULT_NAMES, ...(options.names ?? {}) };
}

/** The options that shape later seeding (kept in the state, so a loaded world seeds the same way). */
export type PersistedOptions = Pick<SimOptions, "names" | "casesTableKey" | "memoryDocumentParameters" | "retentionDays" | "iam" | "breakGlassRoleArn">;

export function persistedOptions(options: SimOptions): PersistedOptions {
    const out: PersistedOptions = {};
    if (options.names) out.names = { ...options.names };
    if (options.casesTableKey) out.casesTableKey = { ...options.casesTableKey };
    if (options.memoryDocumentParameters) out.memoryDocumentParameters = structuredClone(options.memoryDocumentParameters);
    if (options.retentionDays !== undefined) out.retentionDays = options.retentionDays;
    if (options.iam === false) out.iam = false;
    if (options.breakGlassRoleArn !== undefined) out.breakGlassRoleArn = options.breakGlassRoleArn;
    return out;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
    return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** The GuardDuty finding inside an EventBridge envelope, or the bare finding itself. */
export function findingDetail(finding: unknown): { detail: Json; envelope?: Json } {
    if (!isObject(finding)) throw new SimulationSeedError(`not a GuardDuty finding: expected a JSON object, got ${finding === null ? "null" : Array.isArray(finding) ? "an array" : typeof finding}`);
    if (isObject(finding.detail)) return { detail: finding.detail, envelope: finding };
    return { detail: finding };
}

/** The behaviour switches that survive persistence. */
export function behaviourOf(options: SimOptions, instanceId: string | undefined): BehaviourConfig {
    return {
        latencyMs: options.latencyMs ?? 0,
        snapshotDurationMs: options.snapshotDurationMs ?? 0,
        memoryDurationMs: options.memoryDurationMs ?? 0,
        memoryBytes: options.memoryBytes ?? 8 * 1024 * 1024,
        snapshotError: options.snapshotError ?? false,
        memoryHashMismatch: options.memoryHashMismatch ?? false,
        ...(options.copyDurationMs !== undefined ? { copyDurationMs: options.copyDurationMs } : {}),
        ...(options.copyError ? { copyError: options.copyError } : {}),
        ...(options.volumeDurationMs !== undefined ? { volumeDurationMs: options.volumeDurationMs } : {}),
        avmlFails: options.avmlFails ?? false,
        screenshotUnsupported: options.screenshotUnsupported ?? false,
        requireCaptureProfile: options.requireCaptureProfile ?? true,
        stdoutPaddingBytes: options.stdoutPaddingBytes ?? 0,
        deregistrationDelayMs: options.deregistrationDelayMs ?? 300_000,
        sdkRetries: options.sdkRetries ?? true,
        sdkRetryDelayMs: options.sdkRetryDelayMs ?? options.latencyMs ?? 0,
        terminateAfter: options.terminateAfter && instanceId ? { action: options.terminateAfter, instanceId, fired: false } : undefined,
        ...(options.readEvidenceAfter ? { readEvidenceAfter: { action: options.readEvidenceAfter, fired: false } } : {}),
        ...(options.deleteSnapshotsAfter && instanceId ? { deleteSnapshotsAfter: { action: options.deleteSnapshotsAfter, instanceId, fired: false } } : {}),
        pageSizes: {
            describeTargetGroups: options.pageSizes?.describeTargetGroups ?? (options.inAsg ? 1 : 400),
            describeSnapshots: options.pageSizes?.describeSnapshots ?? 1000,
            listObjectsV2: options.pageSizes?.listObjectsV2 ?? 1000,
            ...(options.pageSizes?.getObjectAttributesParts !== undefined ? { getObjectAttributesParts: options.pageSizes.getObjectAttributesParts } : {}),
        },
    };
}

function serviceOfAction(action: string): SimService | undefined {
    const prefix = action.split(":")[0];
    const map: Record<string, SimService> = {
        ec2: "ec2",
        autoscaling: "autoscaling",
        elasticloadbalancing: "elbv2",
        elbv2: "elbv2",
        iam: "iam",
        s3: "s3",
        ssm: "ssm",
        sts: "sts",
        dynamodb: "dynamodb",
        sns: "sns",
        kms: "kms",
        ebs: "ebs",
    };
    return prefix ? map[prefix] : undefined;
}

/** Fault rules from the options: explicit rules, then throttling with each service's real code. */
export function faultsOf(options: SimOptions): FaultRuleState[] {
    const rules: FaultRuleState[] = (options.faults ?? []).map((f) => ({ ...f, seen: 0 }));
    for (const t of options.throttle ?? []) {
        const service = serviceOfAction(t.action);
        rules.push({ action: t.action, error: t.error ?? (service ? THROTTLING_CODE[service] : "ThrottlingException"), times: t.times, after: t.after, seen: 0 });
    }
    for (const rule of rules) {
        if (!(Number.isInteger(rule.times) && rule.times >= 0)) throw new Error(`simulator: fault rule for ${rule.action}: times must be a non-negative integer`);
    }
    return rules;
}

/** An empty world for a home account and region (no deployment yet). */
export function emptyState(seed: string, homeAccountId: string, region: string, options: SimOptions, instanceId?: string): SimState {
    return {
        version: 1,
        seed,
        counters: {},
        clockOffsetMs: 0,
        createdAt: Date.now(),
        homeAccountId,
        region,
        accounts: {},
        buckets: {},
        sessions: {
            [homeAccessKeyId(homeAccountId)]: {
                accessKeyId: homeAccessKeyId(homeAccountId),
                accountId: homeAccountId,
                arn: `arn:aws:sts::${homeAccountId}:assumed-role/${namesOf(options).functionsRoleName}/aws-dfir-drill`,
                userId: `AROA${homeAccountId}FUNCTIONS:aws-dfir-drill`,
                expiresAt: Number.MAX_SAFE_INTEGER,
            },
        },
        faults: faultsOf(options),
        behaviour: behaviourOf(options, instanceId),
        deployment: {
            homeAccountId,
            region,
            evidenceBucket: "",
            casesTable: namesOf(options).casesTable,
            isolationGroups: {},
            untrackGroups: {},
            endpointGroups: {},
            captureProfileArn: "",
            captureProfileArns: {},
            memoryDocument: namesOf(options).memoryDocument,
            avml: {},
            topicArn: "",
            responderRoleName: namesOf(options).responderRoleName,
            ...(options.copySnapshotsToHub ? { copySnapshotsToHub: true } : {}),
        },
        seedReport: { idMapping: {}, defaulted: [] },
        seedOptions: persistedOptions(options),
        notifications: [],
        events: [],
        callHistory: [],
    };
}

/** The access key of the functions' own (home account) credentials, as `install()` puts in the environment. */
export function homeAccessKeyId(homeAccountId: string): string {
    return `ASIA${homeAccountId}HOME`;
}

/**
 * The evidence access trail of a hub region (components/evidenceTrail.ts): its log bucket (versioned, Object Lock
 * COMPLIANCE for the evidence's retention) and the trail selecting the evidence bucket's object events. Named as
 * in a single-account stack; drill/sim/iam/deployment.ts renames it for a multi-account one and puts its bucket policy.
 */
export function seedAccessTrail(world: World, options: SimOptions, region: string, evidenceBucket: string): void {
    const home = world.state.homeAccountId;
    const name = namesOf(options).accessTrailBucket.replace("{account}", home).replace("{region}", region);
    world.state.buckets[name] ??= {
        name,
        accountId: home,
        region,
        versioning: true,
        objectLock: { mode: "COMPLIANCE", days: options.retentionDays ?? 365 },
        tags: { [TAGS.role]: TAGS.roleAccessTrail },
        objects: {},
    };
    const trails = (world.state.trails ??= {});
    const p = partitionOf(region);
    trails[name] ??= {
        name: ACCESS_TRAIL_NAME,
        arn: trailArnOf(p, region, home, ACCESS_TRAIL_NAME),
        accountId: home,
        region,
        bucket: name,
        selectors: evidenceTrailSelectors([`arn:${p}:s3:::${evidenceBucket}`]),
        pending: [],
    };
    if (region === world.state.region) world.state.deployment.accessTrailBucket = name;
}

/** The trail's name in a single-account stack (components/dfirStack.ts); `-<region>` in a multi-account one. */
export const ACCESS_TRAIL_NAME = "dfir-access-trail";

/** The hub in one region: evidence bucket (Object Lock, staged avml), cases table, notification topic. */
export function seedHub(world: World, options: SimOptions, region: string): void {
    const names = namesOf(options);
    const home = world.state.homeAccountId;
    const r = world.region(home, region);
    const bucketName = names.evidenceBucket.replace("{account}", home).replace("{region}", region);
    if (!world.state.buckets[bucketName]) {
        world.state.buckets[bucketName] = {
            name: bucketName,
            accountId: home,
            region,
            versioning: true,
            objectLock: { mode: "COMPLIANCE", days: options.retentionDays ?? 365 },
            tags: { [TAGS.role]: TAGS.roleEvidence },
            objects: {},
        };
        // Both builds, as EvidenceStore stages them from dfir:avml: tools/avml-<build>-<sha256 prefix>, sha256 in the metadata.
        const bucket = world.state.buckets[bucketName];
        for (const build of AVML_BUILDS) {
            const avml = stagedAvml(world.state.seed, build);
            const key = `tools/avml-${build}-${avml.sha256.slice(0, 16)}`;
            putVersion(world, bucket, key, avml.bytes, { contentType: "application/octet-stream", metadata: { sha256: avml.sha256 } });
            world.state.deployment.avml[build] = { key, sha256: avml.sha256 };
        }
    }
    seedAccessTrail(world, options, region, bucketName);
    // The evidence store's key (the hub's copies of member snapshots are encrypted with it).
    const evidenceKey = seedKmsKey(world, home, region, "alias/dfir-evidence", "aws-dfir evidence");
    const signingKey = seedSigningKey(world, home, region, bucketName);
    if (options.signingKeyDisabled) {
        const key = Object.values(r.kmsKeys ?? {}).find((k) => k.arn === signingKey);
        if (key) key.keyState = "Disabled";
    }
    const key = options.casesTableKey ?? { partitionKey: "pk" };
    r.tables[names.casesTable] ??= { name: names.casesTable, partitionKey: key.partitionKey, sortKey: key.sortKey, items: {} };
    const topicArn = `arn:aws:sns:${region}:${home}:${names.topicName}`;
    r.topics[topicArn] ??= { arn: topicArn };
    const functionsRole = names.functionsRoleName;
    world.account(home).iam.roles[functionsRole] ??= {
        roleName: functionsRole,
        roleId: `AROA${world.token("role-id", 17)}`,
        arn: `arn:aws:iam::${home}:role/${functionsRole}`,
        path: "/",
        createdAt: world.now(),
        trustedAccounts: ["lambda.amazonaws.com"],
        policies: {},
    };
    if (region === world.state.region) {
        world.state.deployment.evidenceBucket = bucketName;
        world.state.deployment.topicArn = topicArn;
        world.state.deployment.evidenceKeyArn = evidenceKey;
        world.state.deployment.manifestSigningKeyArn = signingKey;
    }
}

/**
 * The evidence store's manifest-signing key, as EvidenceStore creates it: asymmetric, ECC_NIST_P256, SIGN_VERIFY, and
 * its public key (PEM) stored in the bucket at `keys/manifest-signing-<key id>.pem` (the bucket's default retention).
 * The alias is the simulator's own handle on it (the program creates none). Returns its ARN.
 */
export function seedSigningKey(world: World, accountId: string, region: string, bucketName: string): string {
    const arn = seedKmsKey(world, accountId, region, "alias/dfir-manifest-signing", "aws-dfir manifest signing");
    const key = Object.values(world.region(accountId, region).kmsKeys ?? {}).find((k) => k.arn === arn);
    if (!key) return arn;
    key.keySpec = SIGNING_KEY_SPEC;
    key.keyUsage = SIGNING_KEY_USAGE;
    const bucket = world.state.buckets[bucketName];
    const objectKey = publicKeyObjectKey(arn);
    if (bucket && !bucket.objects[objectKey]) putVersion(world, bucket, objectKey, Buffer.from(publicKeyPem(simulatedPublicKey(world, key))), { contentType: "application/x-pem-file" });
    return arn;
}

/**
 * The forensic workstation `pulumi up` makes with `dfir:workstation` (components/forensicWorkstation.ts), in the home
 * account: its own VPC and subnet, the endpoints' group, its group (tagged workstation: no ingress, HTTPS to S3 and
 * the endpoints only), an instance profile, and the instance tagged `dfir:role=workstation` with a 64 GiB root
 * volume at /dev/sda1, running, SSM online. One per region; seeding it again changes nothing.
 */
export function seedWorkstation(world: World, option: WorkstationOption = {}): { instanceId: string; region: string; availabilityZone: string } {
    const home = world.state.homeAccountId;
    const region = option.region ?? world.state.region;
    const availabilityZone = option.availabilityZone ?? `${region}a`;
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) throw new Error(`simulator: workstation region must look like us-east-1, got "${region}"`);
    if (!new RegExp(`^${region}[a-z]$`).test(availabilityZone)) throw new Error(`simulator: workstation availabilityZone ${availabilityZone} is not in ${region}`);
    const r = world.region(home, region);
    const existing = Object.values(r.instances).find((i) => i.tags[TAGS.role] === TAGS.roleWorkstation && i.state !== "terminated");
    if (existing) {
        const found = { instanceId: existing.instanceId, region, availabilityZone: existing.availabilityZone };
        if (region === world.state.region) world.state.deployment.workstation = found;
        return found;
    }
    const vpcId = world.id("vpc");
    const subnetId = world.id("subnet");
    const { group } = seedIsolatedGroups(world, r, {
        ownerId: home,
        vpcId,
        endpoints: { name: "dfir-workstation-endpoints", description: "SSM interface endpoints: HTTPS from the analysis VPC", cidrs: [WORKSTATION_DEFAULTS.cidr] },
        group: { name: "dfir-workstation-sg", description: "No ingress (Session Manager); HTTPS only to S3 and the SSM endpoints", role: TAGS.roleWorkstation },
    });
    const instanceId = world.id("i");
    const launchTime = world.now();
    const eni: NetworkInterfaceState = {
        networkInterfaceId: world.id("eni"),
        vpcId,
        subnetId,
        availabilityZone,
        privateIpAddress: "10.254.0.10",
        ipv6Addresses: [],
        groupIds: [group],
        description: "Primary network interface",
        tags: {},
        attachment: { instanceId, deviceIndex: 0, attachmentId: world.id("eni-attach"), deleteOnTermination: true, attachedAt: launchTime },
    };
    r.networkInterfaces[eni.networkInterfaceId] = eni;
    const root: VolumeState = {
        volumeId: world.id("vol"),
        sizeGiB: 64,
        availabilityZone,
        volumeType: "gp3",
        encrypted: true,
        state: "in-use",
        createdAt: launchTime,
        tags: { Name: "dfir-workstation/dev/sda1" },
        attachment: { instanceId, deviceName: "/dev/sda1", attachedAt: launchTime },
    };
    r.volumes[root.volumeId] = root;
    const iam = world.account(home).iam;
    const name = "dfir-workstation";
    iam.roles[name] ??= {
        roleName: name,
        roleId: `AROA${world.token("role-id", 17)}`,
        arn: `arn:aws:iam::${home}:role/${name}`,
        path: "/",
        createdAt: launchTime,
        trustedAccounts: ["ec2.amazonaws.com"],
        policies: {},
    };
    iam.instanceProfiles[name] ??= {
        name,
        id: `AIPA${world.token("profile-id", 17)}`,
        arn: `arn:aws:iam::${home}:instance-profile/${name}`,
        path: "/",
        createdAt: launchTime,
        roleNames: [name],
    };
    const profile = iam.instanceProfiles[name] as { arn: string; id: string };
    const association = { associationId: world.id("iip-assoc"), instanceId, profileArn: profile.arn, profileId: profile.id, state: "associated", at: launchTime };
    r.profileAssociations[association.associationId] = association;
    r.instances[instanceId] = {
        instanceId,
        instanceType: "m5.xlarge",
        imageId: world.id("ami"),
        platform: "linux",
        state: "running",
        vpcId,
        subnetId,
        availabilityZone,
        privateIpAddress: eni.privateIpAddress,
        launchTime,
        networkInterfaceIds: [eni.networkInterfaceId],
        blockDevices: [{ deviceName: "/dev/sda1", volumeId: root.volumeId, deleteOnTermination: true }],
        rootDeviceName: "/dev/sda1",
        tags: { Name: name, [TAGS.role]: TAGS.roleWorkstation },
        disableApiTermination: false,
        disableApiStop: false,
        shutdownBehavior: "stop",
        associationId: association.associationId,
        ssmPingStatus: "Online",
    };
    const seeded = { instanceId, region, availabilityZone };
    if (region === world.state.region) world.state.deployment.workstation = seeded;
    return seeded;
}

/** The workstation option as seedWorkstation takes it (undefined: none). */
export function workstationOption(options: SimOptions): WorkstationOption | undefined {
    if (options.workstation === undefined || options.workstation === false) return undefined;
    return options.workstation === true ? {} : options.workstation;
}

/** A customer managed key with one alias in an account and region (kept if the alias exists); returns its ARN. */
export function seedKmsKey(world: World, accountId: string, region: string, alias: string, description: string): string {
    const keys = (world.region(accountId, region).kmsKeys ??= {});
    const existing = Object.values(keys).find((k) => k.aliases.includes(alias));
    if (existing) return existing.arn;
    const keyId = world.uuid("kms-key");
    const arn = `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
    keys[keyId] = { keyId, arn, aliases: [alias], description };
    return arn;
}

/** Alias of the workload's customer managed volume key (the `volumeKey` option). */
export const WORKLOAD_VOLUME_KEY_ALIAS = "alias/workload-ebs";

/**
 * The workload's customer managed key for its volumes (`volumeKey`), with its key policy: the account's IAM policies
 * enabled (the statement every default key policy has), or only a key administrator role and a workload role named.
 */
export function seedVolumeKey(world: World, accountId: string, region: string, policy: "iam-enabled" | "key-policy-only"): string {
    const arn = seedKmsKey(world, accountId, region, WORKLOAD_VOLUME_KEY_ALIAS, "the workload's EBS volumes");
    const key = Object.values(world.region(accountId, region).kmsKeys ?? {}).find((k) => k.arn === arn);
    const p = arn.split(":")[1] as string;
    const statements = policy === "iam-enabled"
        ? [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }]
        : [
            { Sid: "KeyAdministrators", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${accountId}:role/workload-key-admin` }, Action: ["kms:Describe*", "kms:Put*", "kms:Enable*", "kms:Disable*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:Get*", "kms:List*"], Resource: "*" },
            { Sid: "WorkloadUsesKeyThroughEbs", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${accountId}:role/workload-app` }, Action: ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant"], Resource: "*" },
        ];
    if (key) key.policy = JSON.stringify({ Version: "2012-10-17", Statement: statements });
    return arn;
}

/** What every account hosting instances has: the capture profile, the memory document, the responder role. */
export function seedWorkloadAccount(world: World, options: SimOptions, accountId: string, region: string, responderRole: boolean): void {
    const names = namesOf(options);
    const iam = world.account(accountId).iam;
    const capture = names.captureProfileName;
    iam.roles[capture] ??= {
        roleName: capture,
        roleId: `AROA${world.token("role-id", 17)}`,
        arn: `arn:aws:iam::${accountId}:role/${capture}`,
        path: "/",
        createdAt: world.now(),
        trustedAccounts: ["ec2.amazonaws.com"],
        policies: {},
    };
    iam.instanceProfiles[capture] ??= {
        name: capture,
        id: `AIPA${world.token("profile-id", 17)}`,
        arn: `arn:aws:iam::${accountId}:instance-profile/${capture}`,
        path: "/",
        createdAt: world.now(),
        roleNames: [capture],
    };
    world.state.deployment.captureProfileArns[accountId] = (iam.instanceProfiles[capture] as { arn: string }).arn;
    const parameters = options.memoryDocumentParameters ?? {
        required: [...MEMORY_DOCUMENT_PARAMETERS],
        optional: [],
        patterns: { ...MEMORY_PARAMETER_PATTERNS },
    };
    world.region(accountId, region).documents[names.memoryDocument] ??= {
        name: names.memoryDocument,
        kind: "memory-capture",
        platformTypes: ["Linux"],
        requiredParameters: [...parameters.required],
        optionalParameters: [...parameters.optional],
        patterns: { ...(parameters.patterns ?? {}) },
    };
    const home = world.state.homeAccountId;
    if (options.copySnapshotsToHub && accountId !== home) {
        seedKmsKey(world, accountId, region, SNAPSHOT_SHARE_KEY_ALIAS, "aws-dfir: re-encrypts evidence snapshots to share them with the hub");
    }
    if (responderRole && accountId !== home) {
        const role = names.responderRoleName;
        iam.roles[role] ??= {
            roleName: role,
            roleId: `AROA${world.token("role-id", 17)}`,
            arn: `arn:aws:iam::${accountId}:role/${role}`,
            path: "/",
            createdAt: world.now(),
            trustedAccounts: [home],
            policies: {},
        };
    }
}

/** Maps finding ids onto valid EC2 ids: valid ones are kept, placeholders replaced (the same way each time). */
class IdMapper {
    private readonly seen = new Map<string, string>();

    constructor(
        private readonly world: World,
        private readonly report: SeedReport,
    ) {}

    map(kind: string, original: unknown, context: string): string {
        const value = str(original);
        if (value !== undefined) {
            const match = EC2_ID.exec(value);
            if (match && match[1] === kind) return value;
        }
        const memo = `${kind}|${value ?? `<missing ${context}>`}`;
        const hit = this.seen.get(memo);
        if (hit) return hit;
        const made = this.world.id(kind);
        this.seen.set(memo, made);
        this.report.idMapping[value ?? `<missing ${context}>`] = made;
        return made;
    }
}

/**
 * The endpoints' group (HTTPS from the given ranges) and an isolated group of the given role with exactly the
 * isolation rule set of `core/isolation.ts` (no ingress; HTTPS to the S3 prefix list and to the endpoints' group),
 * as the isolation network and the workstation deploy them. The endpoints' group id is drawn first.
 */
function seedIsolatedGroups(
    world: World,
    r: RegionState,
    args: {
        ownerId: string;
        vpcId: string;
        endpoints: { name: string; description: string; cidrs: readonly string[] };
        group: { name: string; description: string; role: string };
    },
): { endpoints: string; group: string } {
    const endpoints = world.id("sg");
    const group = world.id("sg");
    r.securityGroups[endpoints] = {
        groupId: endpoints,
        groupName: args.endpoints.name,
        description: args.endpoints.description,
        vpcId: args.vpcId,
        ownerId: args.ownerId,
        tags: { [TAGS.role]: TAGS.roleEndpoints },
        ingress: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: args.endpoints.cidrs.map((CidrIp) => ({ CidrIp })) }],
        egress: [],
    };
    r.securityGroups[group] = {
        groupId: group,
        groupName: args.group.name,
        description: args.group.description,
        vpcId: args.vpcId,
        ownerId: args.ownerId,
        tags: { [TAGS.role]: args.group.role },
        ingress: [],
        egress: isolationEgressRules({ s3PrefixListId: S3_PREFIX_LIST, endpointSecurityGroupId: endpoints }).map((rule): IpPermissionState => ({
            IpProtocol: rule.ipProtocol,
            FromPort: rule.fromPort,
            ToPort: rule.toPort,
            ...(rule.prefixListId !== undefined ? { PrefixListIds: [{ PrefixListId: rule.prefixListId }] } : {}),
            ...(rule.referencedSecurityGroupId !== undefined ? { UserIdGroupPairs: [{ GroupId: rule.referencedSecurityGroupId, UserId: args.ownerId }] } : {}),
        })),
    };
    return { endpoints, group };
}

/** Security groups of one VPC the deployment creates: isolation, untrack, endpoints. */
function seedVpcGroups(world: World, accountId: string, region: string, vpcId: string): void {
    const deployment = world.state.deployment;
    if (deployment.isolationGroups[vpcId]) return;
    const r = world.region(accountId, region);
    const { endpoints, group: isolation } = seedIsolatedGroups(world, r, {
        ownerId: accountId,
        vpcId,
        endpoints: { name: "dfir-endpoints", description: "SSM interface endpoints: HTTPS from the VPC", cidrs: ["10.0.0.0/8", "172.16.0.0/12"] },
        group: { name: "dfir-isolation", description: "No ingress; HTTPS only to S3 and the SSM endpoints", role: TAGS.roleIsolation },
    });
    const untrack = world.id("sg");
    const allOpen: IpPermissionState = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] };
    r.securityGroups[untrack] = {
        groupId: untrack,
        groupName: "dfir-untrack",
        description: "All traffic both ways: flows become untracked before isolation",
        vpcId,
        ownerId: accountId,
        tags: { [TAGS.role]: TAGS.roleUntrack },
        ingress: [structuredClone(allOpen)],
        egress: [structuredClone(allOpen)],
    };
    deployment.isolationGroups[vpcId] = isolation;
    deployment.untrackGroups[vpcId] = untrack;
    deployment.endpointGroups[vpcId] = endpoints;
    seedEndpoints(world, accountId, region, vpcId, endpoints);
}

function launchTimeOf(value: unknown, report: SeedReport): number {
    if (typeof value === "number" && Number.isFinite(value)) return value < 1e12 ? value * 1000 : value;
    const parsed = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isFinite(parsed)) return parsed;
    report.defaulted.push(`launchTime (${JSON.stringify(value ?? null)}) -> ${new Date(FIXED_LAUNCH_TIME).toISOString()}`);
    return FIXED_LAUNCH_TIME;
}

/** `arn:aws:iam::<acct>:instance-profile/<path/>name` -> path and name; anything else -> undefined. */
function parseProfileArn(arn: string): { path: string; name: string } | undefined {
    const match = /^arn:aws[a-z-]*:iam::[^:]*:instance-profile(\/(?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,128})$/.exec(arn);
    return match ? { path: match[1] as string, name: match[2] as string } : undefined;
}

export interface SeededInstance {
    accountId: string;
    region: string;
    instanceId: string;
}

/**
 * The instance a finding describes, in `accountId`/`region` (already mapped), with its interfaces, groups,
 * subnet, profile, tags and `volumes` EBS volumes, plus the deployment's groups in its VPCs and the scenario
 * switches that shape it (ASG membership, already isolated, SSM agent status, platform).
 */
export function seedInstance(world: World, options: SimOptions, detail: Json, accountId: string, region: string, report: SeedReport): SeededInstance {
    const details = isObject(detail.resource) && isObject(detail.resource.instanceDetails) ? detail.resource.instanceDetails : undefined;
    const resourceType = isObject(detail.resource) ? str(detail.resource.resourceType) : undefined;
    const instanceId = str(details?.instanceId);
    if (!details || instanceId === undefined) {
        throw new SimulationSeedError(
            `finding ${str(detail.id) ?? "(no id)"} (resourceType ${resourceType ?? "missing"}) has no resource.instanceDetails.instanceId: there is no instance to simulate`,
        );
    }
    if (!INSTANCE_ID_PATTERN.test(instanceId)) {
        throw new SimulationSeedError(`finding ${str(detail.id) ?? "(no id)"}: "${instanceId}" is not a valid EC2 instance id`);
    }
    const r = world.region(accountId, region);
    if (r.instances[instanceId]) throw new SimulationSeedError(`instance ${instanceId} already exists in ${accountId}/${region}`);
    const ids = new IdMapper(world, report);
    const now = world.now();
    const azRaw = str(details.availabilityZone);
    const availabilityZone = azRaw && azRaw.startsWith(region) && /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/.test(azRaw) ? azRaw : `${region}a`;
    if (availabilityZone !== azRaw) report.defaulted.push(`availabilityZone (${JSON.stringify(azRaw ?? null)}) -> ${availabilityZone}`);
    const windows = options.windows === true || /windows/i.test(str(details.platform) ?? "");

    // Interfaces (the finding's, or one made up when it lists none) and their groups.
    const rawEnis = Array.isArray(details.networkInterfaces) ? details.networkInterfaces.filter(isObject) : [];
    if (rawEnis.length === 0) report.defaulted.push("networkInterfaces (none) -> one generated interface");
    const enis: NetworkInterfaceState[] = (rawEnis.length > 0 ? rawEnis : [{} as Json]).map((raw, index) => {
        const vpcId = ids.map("vpc", raw.vpcId, "vpcId");
        const subnetId = ids.map("subnet", raw.subnetId, "subnetId");
        const rawGroups = Array.isArray(raw.securityGroups) ? raw.securityGroups.filter(isObject) : [];
        const groupIds: string[] = [];
        for (const g of rawGroups.length > 0 ? rawGroups : [{ groupName: "default" } as Json]) {
            let groupId = ids.map("sg", g.groupId, `groupId of ${str(g.groupName) ?? "a group"}`);
            const existing = r.securityGroups[groupId];
            if (existing && existing.vpcId !== vpcId) groupId = world.id("sg");
            if (!r.securityGroups[groupId]) {
                r.securityGroups[groupId] = {
                    groupId,
                    groupName: str(g.groupName) ?? groupId,
                    description: "seeded from the finding",
                    vpcId,
                    ownerId: accountId,
                    tags: {},
                    ingress: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
                    egress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
                };
            }
            // A finding may list one group twice (the runtime fixture does): an interface holds it once.
            if (!groupIds.includes(groupId)) groupIds.push(groupId);
        }
        const ipv6 = Array.isArray(raw.ipv6Addresses) ? raw.ipv6Addresses.filter((a): a is string => typeof a === "string" && addressFamily(a) === 6) : [];
        // A usable private address (sample findings carry 0.0.0.0): network ACL rules are matched against it.
        const rawIp = str(raw.privateIpAddress);
        const privateIpAddress = rawIp !== undefined && addressFamily(rawIp) === 4 && rawIp !== "0.0.0.0" ? rawIp : `10.0.0.${10 + index}`;
        if (privateIpAddress !== rawIp) report.defaulted.push(`privateIpAddress of interface #${index} (${JSON.stringify(rawIp ?? null)}) -> ${privateIpAddress}`);
        return {
            networkInterfaceId: ids.map("eni", raw.networkInterfaceId, `networkInterfaceId #${index}`),
            vpcId,
            subnetId,
            availabilityZone,
            privateIpAddress,
            ipv6Addresses: ipv6,
            groupIds,
            description: index === 0 ? "Primary network interface" : "",
            tags: {},
            attachment: { instanceId, deviceIndex: index, attachmentId: world.id("eni-attach"), deleteOnTermination: true, attachedAt: 0 },
        };
    });
    const primary = enis[0] as NetworkInterfaceState;
    // More interfaces than the finding lists (real findings list one): secondary ENIs in the primary's subnet
    // with its groups, every other one dual-stack, so containment is exercised across several interfaces.
    for (let index = enis.length; index < (options.interfaces ?? 0); index++) {
        enis.push({
            ...structuredClone(primary),
            networkInterfaceId: world.id("eni"),
            privateIpAddress: `10.0.1.${10 + index}`,
            ipv6Addresses: index % 2 === 1 ? [`2600:1f18:dead:beef::${index.toString(16)}`] : [],
            description: `secondary interface ${index}`,
            attachment: { instanceId, deviceIndex: index, attachmentId: world.id("eni-attach"), deleteOnTermination: true, attachedAt: 0 },
        });
    }

    // A multi-VPC attachment: one more interface from a second VPC of the same zone, with a group of that VPC.
    if (options.secondVpcInterface) {
        const vpcId = world.id("vpc");
        const groupId = world.id("sg");
        r.securityGroups[groupId] = {
            groupId,
            groupName: "app-second-vpc",
            description: "the workload's group in its second VPC",
            vpcId,
            ownerId: accountId,
            tags: {},
            ingress: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
            egress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        };
        const index = enis.length;
        enis.push({
            networkInterfaceId: world.id("eni"),
            vpcId,
            subnetId: world.id("subnet"),
            availabilityZone,
            privateIpAddress: "10.20.0.10",
            ipv6Addresses: [],
            groupIds: [groupId],
            description: `secondary interface ${index} (second VPC)`,
            tags: {},
            attachment: { instanceId, deviceIndex: index, attachmentId: world.id("eni-attach"), deleteOnTermination: true, attachedAt: 0 },
        });
    }

    // Tags: the finding's list of {key, value}, then the options'.
    const tags: Record<string, string> = {};
    for (const t of Array.isArray(details.tags) ? details.tags.filter(isObject) : []) {
        const key = str(t.key);
        if (key !== undefined) tags[key] = typeof t.value === "string" ? t.value : "";
    }
    Object.assign(tags, options.extraTags ?? {});

    const launchTime = launchTimeOf(details.launchTime, report);
    for (const eni of enis) if (eni.attachment) eni.attachment.attachedAt = launchTime;

    // Volumes: root (delete on termination, as AWS defaults) + data volumes (kept on termination).
    const count = options.volumes ?? 2;
    if (!Number.isInteger(count) || count < 1 || count > 20) throw new SimulationSeedError(`volumes must be an integer from 1 to 20, got ${String(count)}`);
    const volumeUserTags = Object.keys({ Name: "", ...(options.volumeTags ?? {}) }).filter((k) => !k.toLowerCase().startsWith("aws:"));
    if (volumeUserTags.length > 50) throw new SimulationSeedError(`volumeTags: a volume may carry at most 50 user tags (Name included), got ${volumeUserTags.length}`);
    const volumeKeyArn = options.volumeKey ? seedVolumeKey(world, accountId, region, options.volumeKey) : undefined;
    const rootDevice = windows ? "/dev/sda1" : "/dev/xvda";
    const label = tags.Name ?? instanceId;
    const blockDevices: InstanceState["blockDevices"] = [];
    for (let i = 0; i < count; i++) {
        const deviceName = i === 0 ? rootDevice : `/dev/sd${String.fromCharCode("f".charCodeAt(0) + i - 1)}`;
        const volume: VolumeState = {
            volumeId: world.id("vol"),
            sizeGiB: i === 0 ? (windows ? 30 : 8) : options.dataVolumeGiB ?? 100,
            availabilityZone,
            volumeType: "gp3",
            encrypted: true,
            ...(volumeKeyArn ? { kmsKeyId: volumeKeyArn } : {}),
            state: "in-use",
            createdAt: launchTime,
            tags: { Name: `${label}${deviceName}`, ...(options.volumeTags ?? {}) },
            attachment: { instanceId, deviceName, attachedAt: launchTime },
        };
        r.volumes[volume.volumeId] = volume;
        blockDevices.push({ deviceName, volumeId: volume.volumeId, deleteOnTermination: i === 0 });
    }

    const imageRaw = str(details.imageId);
    const imageId = imageRaw && /^ami-[0-9a-f]{8,17}$/.test(imageRaw) ? imageRaw : ids.map("ami", imageRaw, "imageId");
    const instance: InstanceState = {
        instanceId,
        instanceType: options.instanceType ?? str(details.instanceType) ?? "t3.micro",
        imageId,
        platform: windows ? "windows" : "linux",
        architecture: options.architecture ?? "x86_64",
        state: "running",
        vpcId: primary.vpcId,
        subnetId: primary.subnetId,
        availabilityZone,
        privateIpAddress: primary.privateIpAddress,
        launchTime,
        networkInterfaceIds: enis.map((e) => e.networkInterfaceId),
        blockDevices,
        rootDeviceName: rootDevice,
        tags,
        disableApiTermination: false,
        disableApiStop: false,
        shutdownBehavior: "stop",
        ssmPingStatus: options.ssmOffline ? "ConnectionLost" : "Online",
    };
    r.instances[instanceId] = instance;
    for (const eni of enis) {
        if (r.networkInterfaces[eni.networkInterfaceId]) eni.networkInterfaceId = ids.map("eni", undefined, `duplicate interface ${eni.networkInterfaceId}`);
        r.networkInterfaces[eni.networkInterfaceId] = eni;
    }
    instance.networkInterfaceIds = enis.map((e) => e.networkInterfaceId);
    const unprepared = options.secondVpcInterface === "unprepared" ? enis.find((e) => e.description.endsWith("(second VPC)"))?.vpcId : undefined;
    for (const vpcId of new Set(enis.map((e) => e.vpcId))) {
        seedVpcNetwork(world, accountId, region, vpcId, enis.filter((e) => e.vpcId === vpcId), { endpointSubnet: options.endpointSubnet, defaultAclRules: options.defaultAclRules });
        if (vpcId !== unprepared) seedVpcGroups(world, accountId, region, vpcId);
    }

    if (options.spot) instance.instanceLifecycle = "spot";
    // The instance profile the finding names (created with a role of the same name), associated.
    const named = isObject(details.iamInstanceProfile) ? details.iamInstanceProfile : undefined;
    const profileRaw = named ?? (options.instanceProfile
        ? { arn: `arn:aws:iam::${accountId}:instance-profile/${options.instanceProfile}`, id: `AIPA${world.token("profile-id", 17)}` }
        : undefined);
    if (profileRaw) {
        const arnRaw = str(profileRaw.arn) ?? "";
        const parsed = parseProfileArn(arnRaw);
        const name = parsed?.name ?? "finding-instance-profile";
        const path = parsed?.path ?? "/";
        const arn = `arn:aws:iam::${accountId}:instance-profile${path}${name}`;
        if (arn !== arnRaw) report.idMapping[arnRaw || "<missing iamInstanceProfile.arn>"] = arn;
        const idRaw = str(profileRaw.id);
        const profileId = idRaw && /^AIPA[A-Z0-9]{13,}$/.test(idRaw) ? idRaw : `AIPA${world.token("profile-id", 17)}`;
        if (profileId !== idRaw) report.idMapping[idRaw ?? "<missing iamInstanceProfile.id>"] = profileId;
        const iam = world.account(accountId).iam;
        iam.roles[name] ??= {
            roleName: name,
            roleId: `AROA${world.token("role-id", 17)}`,
            arn: `arn:aws:iam::${accountId}:role/${name}`,
            path: "/",
            createdAt: launchTime,
            trustedAccounts: ["ec2.amazonaws.com"],
            policies: {},
            // Its SSM agent was online: the role carries what the agent needs.
            awsManagedPolicies: { [SSM_MANAGED_INSTANCE_CORE]: AMAZON_SSM_MANAGED_INSTANCE_CORE },
        };
        iam.instanceProfiles[name] ??= { name, id: profileId, arn, path, createdAt: launchTime, roleNames: [name] };
        const association = { associationId: world.id("iip-assoc"), instanceId, profileArn: arn, profileId, state: "associated", at: launchTime };
        r.profileAssociations[association.associationId] = association;
        instance.associationId = association.associationId;
    }

    seedFlows(world, accountId, region, enis, instance.ssmPingStatus === "Online", options.flows);

    if (options.alreadyIsolated) {
        for (const eni of enis) eni.groupIds = [world.state.deployment.isolationGroups[eni.vpcId] as string];
        tags[TAGS.caseId] = caseIdFor(instanceId, str(detail.id) ?? "unknown-finding");
        tags[TAGS.status] = TAGS.statusIsolated;
        tags[TAGS.isolatedAt] = new Date(now - 3_600_000).toISOString();
    }

    if (options.inAsg) seedAutoScaling(world, accountId, region, instance);
    if (options.ipTargetGroup) seedIpTargetGroups(world, accountId, region, instance);
    return { accountId, region, instanceId };
}

/** An Auto Scaling group holding the instance, and three target groups: it is registered in the 1st and 3rd. */
function seedAutoScaling(world: World, accountId: string, region: string, instance: InstanceState): void {
    const r = world.region(accountId, region);
    const hex = (): string => world.token("elb", 16, "0123456789abcdef");
    const lb = `arn:aws:elasticloadbalancing:${region}:${accountId}:loadbalancer/app/dfir-drill-alb/${hex()}`;
    const arns: string[] = [];
    for (let i = 1; i <= 3; i++) {
        const name = `dfir-drill-tg-${i}`;
        const arn = `arn:aws:elasticloadbalancing:${region}:${accountId}:targetgroup/${name}/${hex()}`;
        const port = 8080 + i;
        r.targetGroups[arn] = {
            arn,
            name,
            protocol: "HTTP",
            port,
            vpcId: instance.vpcId,
            loadBalancerArns: [lb],
            targets: i === 2 ? [] : [{ id: instance.instanceId, port, state: "healthy" }],
        };
        arns.push(arn);
    }
    const name = "dfir-drill-asg";
    r.autoScalingGroups[name] = {
        name,
        desired: 2,
        min: 1,
        max: 4,
        availabilityZones: [instance.availabilityZone],
        instanceIds: [instance.instanceId],
        targetGroupArns: [arns[0] as string, arns[2] as string],
        launchTemplate: { id: `lt-${world.token("lt", 17, "0123456789abcdef")}`, name: "dfir-drill-template", version: "1" },
        detachments: [],
    };
    instance.tags["aws:autoscaling:groupName"] = name;
}

/**
 * Three target groups of type `ip`: one of the instance's VPC holding its primary address (an address of the
 * group's own VPC is registered without a zone: ELBv2 API Reference, TargetDescription), one holding a neighbour's
 * address, and one of another, unpeered VPC holding the same private address as the instance — another machine.
 */
function seedIpTargetGroups(world: World, accountId: string, region: string, instance: InstanceState): void {
    const r = world.region(accountId, region);
    const hex = (): string => world.token("elb", 16, "0123456789abcdef");
    const lb = `arn:aws:elasticloadbalancing:${region}:${accountId}:loadbalancer/net/dfir-drill-nlb/${hex()}`;
    const groups = [
        ["dfir-drill-ip-tg", instance.privateIpAddress, instance.vpcId],
        ["dfir-drill-ip-other", "10.99.0.7", instance.vpcId],
        ["dfir-drill-ip-other-vpc", instance.privateIpAddress, "vpc-0ee0ee0ee0ee0ee0e"],
    ] as const;
    for (const [name, address, vpcId] of groups) {
        const arn = `arn:aws:elasticloadbalancing:${region}:${accountId}:targetgroup/${name}/${hex()}`;
        r.targetGroups[arn] = {
            arn,
            name,
            targetType: "ip",
            protocol: "TCP",
            port: 8443,
            vpcId,
            loadBalancerArns: [lb],
            targets: [{ id: address, port: 8443, state: "healthy" }],
        };
    }
}

/** Reads the finding's account and region, mapping redacted or malformed ones to stand-ins. */
export function findingLocation(detail: Json, envelope: Json | undefined, report: SeedReport, accountOverride?: string): { accountId: string; region: string } {
    const rawAccount = str(detail.accountId) ?? str(envelope?.account);
    let accountId = rawAccount ?? STAND_IN_ACCOUNT;
    if (accountOverride !== undefined) {
        if (!/^\d{12}$/.test(accountOverride)) throw new Error(`simulator: accountId must be 12 digits, got "${accountOverride}"`);
        if (rawAccount !== accountOverride) report.accountIdMapping = { from: rawAccount ?? "<missing>", to: accountOverride };
        accountId = accountOverride;
    } else if (!/^\d{12}$/.test(accountId)) {
        report.accountIdMapping = { from: accountId, to: STAND_IN_ACCOUNT };
        accountId = STAND_IN_ACCOUNT;
    } else if (rawAccount === undefined) report.accountIdMapping = { from: "<missing>", to: STAND_IN_ACCOUNT };
    const rawRegion = str(detail.region) ?? str(envelope?.region);
    let region = rawRegion ?? STAND_IN_REGION;
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
        report.regionMapping = { from: region, to: STAND_IN_REGION };
        region = STAND_IN_REGION;
    } else if (rawRegion === undefined) report.regionMapping = { from: "<missing>", to: STAND_IN_REGION };
    return { accountId, region };
}

export function memberOptions(options: SimOptions): MemberOption[] {
    return (options.members ?? []).map((m) => (typeof m === "string" ? { accountId: m } : m));
}

export { World };
