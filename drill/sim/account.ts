/**
 * `SimulatedAccount`: one or more simulated AWS accounts that the real SDK v3 clients of the handlers talk to.
 *
 * How a call gets here: `install()` registers a client customizer with the handlers' client factory
 * (`functions/lib/aws.ts`). It adds a middleware at the very start of every client's stack (step "initialize",
 * priority "high") that never calls `next`: it hands `(service, operation, input, region, credentials)` to the
 * simulator and returns its output. Serialisation, endpoint resolution, signing, retries and HTTP never run,
 * so no request can leave the process; the SDK's own retry layer is bypassed too (a failed call fails once).
 *
 * Whose account a call acts on: the client's resolved credentials. The functions' own credentials are put in
 * the environment by `install()` (`AWS_ACCESS_KEY_ID=ASIA<home account>HOME`, so the default provider chain
 * stops at the environment and never looks for real ones); `AssumeRole` issues keys that encode the target
 * account (`ASIA<account>XXXX`) and are remembered as sessions. A client built with a role ARN therefore
 * resolves its credentials through the simulated STS (recorded as `sts:AssumeRole`) and then acts on the member
 * account, exactly as the real credentials would.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { partitionOf } from "../../core/containmentPolicies";
import { ENV, type Target } from "../../core/workflow";
import { TAGS } from "../../core/tags";
import { AVML_BUILDS, AVML_ENV } from "../../core/avml";
import { setClientCustomizer, type CustomizableClient, type ServiceName } from "../../functions/lib/aws";
import { setClock, setSleeper } from "../../functions/lib/clock";
import { ACTION_PREFIX, awsError, CLIENT_SERVICE, defaultStatus, notImplemented, type SimService } from "./errors";
import { readStateDir, STATE_FORMAT, STATE_VERSION, decode, encode, writeStateDir } from "./persist";
import {
    behaviourOf,
    DEFAULT_HUB_ACCOUNT,
    emptyState,
    findingDetail,
    findingLocation,
    homeAccessKeyId,
    memberOptions,
    seedHub,
    seedInstance,
    seedWorkloadAccount,
    seedWorkstation,
    SimulationSeedError,
    STAND_IN_ACCOUNT,
    STAND_IN_REGION,
    type SimHook,
    type SimOptions,
    type WorkstationOption,
    workstationOption,
} from "./seed";
import { authorizeCall, deployIam, type IamDenial } from "./iam/index";
import { lockedInfo, snapshotView, terminateInstance } from "./services/ec2";
import { MultipartUpload, objectSha256 } from "./services/s3";
import { flowVerdict, forensicChannelVerdict } from "./network";
import { HANDLERS, settle } from "./services/index";
import { recordS3Call } from "./trail";
import { tamperBlock } from "./disk";
import { shapeError } from "./shapes";
import { publishMessage } from "./services/ssm";
import type {
    CallRecord,
    CommandState,
    Deployment,
    FaultRule,
    Item,
    NetworkAclEntryState,
    NetworkAclState,
    Notification,
    SeedReport,
    SessionState,
    SimState,
    SubnetState,
    WorldEvent,
} from "./state";
import { World, type CallContext } from "./world";

/** Credentials as the SDK's providers return them. */
interface Credentials {
    accessKeyId: string;
    secretAccessKey?: string;
    sessionToken?: string;
}

/** What the middleware needs from an SDK client besides its stack. */
interface SdkClientLike extends CustomizableClient {
    config?: { region?: unknown; credentials?: unknown };
}

/** The drill's environment variables the simulator replaces while installed. */
const ENV_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
const MIDDLEWARE_NAME = "awsDfirSimulator";

/**
 * Error codes the SDK's standard retry strategy treats as throttling / transient, copied from
 * @smithy/core `submodules/retry/service-error-classification/constants.js` (the version installed here).
 */
const SDK_THROTTLING_CODES = new Set([
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "LimitExceededException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "TransactionInProgressException",
]);
const SDK_TRANSIENT_CODES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const SDK_TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

/** Whether the SDK's standard retry strategy would send the request again after this error. */
export function sdkRetryable(error: unknown): boolean {
    if (!(error instanceof Error)) return false;
    const e = error as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
    if (e.$metadata === undefined) return false;
    const status = e.$metadata.httpStatusCode ?? 0;
    return e.$retryable !== undefined || SDK_THROTTLING_CODES.has(e.name) || SDK_TRANSIENT_CODES.has(e.name) || SDK_TRANSIENT_STATUS.has(status) || status >= 500;
}

/** The simulator whose customizer is installed (one per process at a time). */
let active: SimulatedAccount | undefined;

/** The role whose code is running (a function's, the state machine's), for calls made with the home credentials. */
const principalScope = new AsyncLocalStorage<{ roleArn: string; sessionName: string }>();

/** Where a direct `invoke` acts (Step Functions SDK integrations run as the state machine's role). */
export interface InvokeOptions {
    /** @default the home region */
    region?: string;
    /** @default the home account */
    accountId?: string;
}

export interface InstanceView {
    instanceId: string;
    accountId: string;
    region: string;
    state: string;
    platform: "linux" | "windows";
    /** "spot" for a Spot instance. */
    instanceLifecycle?: "spot";
    vpcId: string;
    subnetId: string;
    availabilityZone: string;
    /** Interfaces as attached at seeding; `exists` false once deleted (termination). */
    networkInterfaces: { networkInterfaceId: string; deviceIndex: number; groupIds: string[]; exists: boolean; vpcId: string | null; subnetId: string | null }[];
    tags: Record<string, string>;
    disableApiTermination: boolean;
    disableApiStop: boolean;
    shutdownBehavior: string;
    blockDevices: { deviceName: string; volumeId: string; deleteOnTermination: boolean }[];
    /** The associated instance profile, if any. */
    profile: { arn: string; associationId: string } | null;
    /** Auto Scaling membership: the group it is (or was) in, whether it still is, and its detachments. */
    autoScaling: { groupName: string; inGroup: boolean; desiredCapacity: number; detachments: { decremented: boolean; at: string }[] } | null;
    /** Every target group naming the instance: healthy, draining, or unused (no longer registered). */
    targetGroups: { arn: string; name: string; state: "healthy" | "draining" | "unused" }[];
    ssmPingStatus: string | null;
}

/** One established flow of an instance, and whether each of its packets would still pass now. */
export interface FlowView {
    flowId: string;
    label: string;
    /** The SSM agent's channel: the response keeps it open on purpose. */
    forensic: boolean;
    networkInterfaceId: string;
    /** internet-gateway, nat-gateway, peer or interface-endpoint, and what it goes through. */
    path: string;
    via: string;
    protocol: "tcp" | "udp" | "icmp";
    localAddress: string;
    localPort: number;
    remoteAddress: string;
    remotePort: number;
    initiatedBy: "local" | "remote";
    tracked: boolean;
    automaticallyTracked: boolean;
    /** Every packet of it, both ways, passes the security groups and network ACLs as they are now. */
    open: boolean;
    /** Why not: the first packet dropped (a network ACL rule, or the groups of an untracked flow). */
    blockedBy?: string;
}

/** A snapshot's lock as a view shows it (nothing when it has none). */
function lockOf(world: World, s: Parameters<typeof lockedInfo>[1]): { lock?: NonNullable<SnapshotView["lock"]> } {
    const info = lockedInfo(world, s);
    if (!info) return {};
    return { lock: { state: String(info.LockState), ...(info.LockDuration !== undefined ? { durationDays: info.LockDuration } : {}), ...(info.LockExpiresOn ? { expiresOn: info.LockExpiresOn.toISOString() } : {}) } };
}

export interface SnapshotView {
    snapshotId: string;
    volumeId: string;
    /** Its volume's size (the EBS direct APIs' VolumeSize). */
    volumeSizeGiB: number;
    state: string;
    progress: string;
    tags: Record<string, string>;
    accountId: string;
    region: string;
    startTime: string;
    /** The KMS key of an encrypted snapshot. */
    kmsKeyId?: string;
    /** A CopySnapshot copy: the snapshot it copies and that snapshot's account. */
    copyOf?: { snapshotId: string; accountId: string };
    /** Accounts (or `all`) it is shared with. */
    sharedWith: string[];
    /** Its lock now (DescribeLockedSnapshots), when it has one. */
    lock?: { state: string; durationDays?: number; expiresOn?: string };
}

export interface VolumeView {
    volumeId: string;
    accountId: string;
    region: string;
    availabilityZone: string;
    /** creating | available | in-use */
    state: string;
    sizeGiB: number;
    encrypted: boolean;
    kmsKeyId?: string;
    /** The snapshot it was made from (CreateVolume). */
    snapshotId?: string;
    tags: Record<string, string>;
    attachment: { instanceId: string; deviceName: string } | null;
}

/** The largest object `objectBody` copies into one Buffer (2 GiB). */
const MAX_VIEW_BYTES = 2 * 1024 ** 3;

export interface ObjectView {
    bucket: string;
    key: string;
    versionId: string;
    bytes: number;
    sha256: string;
    lastModified: string;
    contentType?: string;
    metadata: Record<string, string>;
    lockMode?: string;
    retainUntil?: string;
}

export interface CommandView {
    commandId: string;
    documentName: string;
    accountId: string;
    region: string;
    parameters: Record<string, string[]>;
    invocations: { instanceId: string; status: string; statusDetails: string; responseCode: number }[];
}

/** The JSON form of a world (`toJSON` / `fromJSON`). */
export interface SimulatedAccountJson {
    format: typeof STATE_FORMAT;
    version: typeof STATE_VERSION;
    state: unknown;
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Does a fault rule / hook action pattern cover this action? ("*", "ec2:*", exact; "elbv2:" = "elasticloadbalancing:"). */
export function actionMatches(pattern: string, action: string): boolean {
    const normalised = pattern.replace(/^elbv2:/, "elasticloadbalancing:");
    if (normalised === "*" || normalised === action) return true;
    return normalised.endsWith(":*") && action.startsWith(normalised.slice(0, -1));
}

/** A copy of the input fit for the call log: bodies that are streams are not kept (they are consumed). */
function recordable(input: unknown): unknown {
    if (input === null || typeof input !== "object") return input;
    const copy: Record<string, unknown> = { ...(input as Record<string, unknown>) };
    const body = copy.Body;
    if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array)) copy.Body = "<stream>";
    return copy;
}

function errorSummary(error: unknown): { name: string; message: string } {
    if (error instanceof Error) return { name: error.name, message: error.message };
    return { name: "Error", message: String(error) };
}

export class SimulatedAccount {
    /** Every simulated call of this session, in the order they reached the simulator. */
    readonly calls: CallRecord[] = [];
    private readonly world: World;
    private readonly hooks: SimHook[];
    private savedEnv: Record<string, string | undefined> | undefined;
    private requestCounter = 0;

    private constructor(state: SimState, hooks: SimHook[] = []) {
        this.world = new World(state);
        this.hooks = [...hooks];
    }

    /**
     * A world seeded from a GuardDuty finding (EventBridge envelope or bare finding): the finding's instance in
     * its account and region, and the deployment (see the module README list). Throws
     * {@link SimulationSeedError} when the finding names no instance (`resource.instanceDetails.instanceId`
     * missing or malformed); `instanceDetails` on non-Instance findings (S3Bucket, AccessKey, Container) still
     * seeds its instance — whether to respond is triage's decision, not the simulator's.
     */
    static fromFinding(finding: unknown, options: SimOptions = {}): SimulatedAccount {
        const { detail, envelope } = findingDetail(finding);
        const report: SeedReport = { idMapping: {}, defaulted: [] };
        const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
        const findingId = str(detail.id);
        if (findingId) report.findingId = findingId;
        const findingType = str(detail.type);
        if (findingType) report.findingType = findingType;
        const resource = detail.resource as Record<string, unknown> | undefined;
        const resourceType = str(resource?.resourceType);
        if (resourceType) report.resourceType = resourceType;
        const { accountId, region } = findingLocation(detail, envelope, report, options.accountId);
        const crossAccount = options.crossAccount === true || options.crossAccountRoleMissing === true;
        const home = options.homeAccountId ?? (crossAccount ? (accountId === DEFAULT_HUB_ACCOUNT ? "210987654322" : DEFAULT_HUB_ACCOUNT) : accountId);
        if (!/^\d{12}$/.test(home)) throw new Error(`simulator: homeAccountId must be 12 digits, got "${home}"`);
        if (crossAccount && home === accountId) throw new Error(`simulator: crossAccount needs a home account other than the instance's (${accountId})`);
        const seed = options.seed ?? `finding:${findingId ?? createHash("sha256").update(JSON.stringify(finding)).digest("hex")}`;
        const state = emptyState(seed, home, region, options);
        state.seedReport = report;
        const world = new World(state);
        seedHub(world, options, region);
        seedWorkloadAccount(world, options, accountId, region, options.crossAccountRoleMissing !== true);
        for (const member of memberOptions(options)) {
            seedWorkloadAccount(world, options, member.accountId, member.region ?? region, member.responderRole !== false);
            if (member.region && member.region !== region) seedHub(world, options, member.region);
        }
        const seeded = seedInstance(world, options, detail, accountId, region, report);
        state.primary = seeded;
        state.deployment.captureProfileArn = state.deployment.captureProfileArns[accountId] ?? "";
        state.behaviour = behaviourOf(options, seeded.instanceId);
        // After the instance: its ids are the same with or without a workstation.
        const workstation = workstationOption(options);
        if (workstation) seedWorkstation(world, workstation);
        deployIam(world);
        return new SimulatedAccount(state, options.hooks);
    }

    /** A world with the deployment only (no instance): for ignored findings and tests. */
    static create(options: SimOptions & { accountId?: string; region?: string } = {}): SimulatedAccount {
        const accountId = options.accountId ?? STAND_IN_ACCOUNT;
        const region = options.region ?? STAND_IN_REGION;
        const home = options.homeAccountId ?? accountId;
        const state = emptyState(options.seed ?? `account:${accountId}:${region}`, home, region, options);
        const world = new World(state);
        seedHub(world, options, region);
        seedWorkloadAccount(world, options, accountId, region, true);
        for (const member of memberOptions(options)) {
            seedWorkloadAccount(world, options, member.accountId, member.region ?? region, member.responderRole !== false);
            if (member.region && member.region !== region) seedHub(world, options, member.region);
        }
        state.deployment.captureProfileArn = state.deployment.captureProfileArns[accountId] ?? "";
        const workstation = workstationOption(options);
        if (workstation) seedWorkstation(world, workstation);
        deployIam(world);
        return new SimulatedAccount(state, options.hooks);
    }

    /** A world from `toJSON()` output. Hooks are code and are not persisted: pass them again. */
    static fromJSON(json: unknown, hooks: SimHook[] = []): SimulatedAccount {
        const doc = json as Partial<SimulatedAccountJson> | null;
        if (!doc || doc.format !== STATE_FORMAT || doc.version !== STATE_VERSION) {
            throw new Error(`simulator: not a ${STATE_FORMAT} v${STATE_VERSION} document`);
        }
        return new SimulatedAccount(decode(doc.state) as SimState, hooks);
    }

    /** Load a world saved by {@link SimulatedAccount.saveState}. */
    static loadState(dir: string, hooks: SimHook[] = []): SimulatedAccount {
        const doc = readStateDir(dir) as Partial<SimulatedAccountJson> | null;
        if (!doc || doc.format !== STATE_FORMAT || doc.version !== STATE_VERSION) {
            throw new Error(`simulator: ${dir}/state.json is not a ${STATE_FORMAT} v${STATE_VERSION} document`);
        }
        return new SimulatedAccount(doc.state as SimState, hooks);
    }

    /** The forensics (hub) account: where the functions run, the evidence bucket, table and topic live. */
    get homeAccountId(): string {
        return this.world.state.homeAccountId;
    }

    get region(): string {
        return this.world.state.region;
    }

    /** Whether the world has a seeded instance (false for `create()`). */
    get hasInstance(): boolean {
        return this.world.state.primary !== undefined;
    }

    /** The seeded instance. Throws for a deployment-only world. */
    get instanceId(): string {
        return this.primary().instanceId;
    }

    /** The account holding the seeded instance (the home account unless cross-account). */
    get instanceAccountId(): string {
        return this.primary().accountId;
    }

    get deployment(): Readonly<Deployment> {
        return this.world.state.deployment;
    }

    /** How the finding was mapped (stand-in account, placeholder ids replaced, defaults used). */
    get seedReport(): Readonly<SeedReport> {
        return this.world.state.seedReport;
    }

    get notifications(): readonly Notification[] {
        return this.world.state.notifications;
    }

    /** What the world did by itself (memory captured, instance terminated, ...). */
    get events(): readonly WorldEvent[] {
        return this.world.state.events;
    }

    /** Calls recorded by earlier sessions of a loaded world. */
    get callHistory(): readonly CallRecord[] {
        return this.world.state.callHistory;
    }

    get installed(): boolean {
        return active === this;
    }

    /** Every call (and call from an instance) IAM denied in this session, in order. */
    get iamDenied(): readonly IamDenial[] {
        return this.world.iamDenied;
    }

    /**
     * The role of a response function as deployed in a hub region (default the home region): what its calls run as
     * under {@link runAs}. Undefined for a world saved before IAM was modelled.
     */
    functionRoleArn(fn: string, region = this.region): string | undefined {
        const component = this.world.state.deployment.iam?.components[region];
        return component ? `arn:${partitionOf(region)}:iam::${this.homeAccountId}:role/${component}-${fn}` : undefined;
    }

    /** The state machine's role in a hub region (its SDK integrations run as it). */
    stateMachineRoleArn(region = this.region): string | undefined {
        return this.functionRoleArn("state-machine", region);
    }

    /** The analyst's role: the caller of everything outside a function (the dfir CLI). */
    get analystRoleArn(): string | undefined {
        return this.world.state.deployment.iam?.analystRoleArn;
    }

    /**
     * Run `fn` as `roleArn`: calls it makes with the functions' own (home) credentials are authorized as that role
     * (the drill runs each handler as its function's role). Assumed-role clients keep acting as the assumed role.
     */
    runAs<T>(roleArn: string | undefined, fn: () => T, sessionName = "aws-dfir-drill"): T {
        if (roleArn === undefined) return fn();
        return principalScope.run({ roleArn, sessionName }, fn);
    }

    private primary(): { accountId: string; region: string; instanceId: string } {
        const primary = this.world.state.primary;
        if (!primary) throw new Error("simulator: this world has no seeded instance (created without a finding)");
        return primary;
    }

    /** Where the response acts: the instance, and the responder role when it is in another account. */
    target(): Target {
        const p = this.primary();
        const target: Target = { accountId: p.accountId, region: p.region, instanceId: p.instanceId };
        if (p.accountId !== this.homeAccountId) target.roleArn = `arn:aws:iam::${p.accountId}:role/${this.deployment.responderRoleName}`;
        return target;
    }

    /**
     * The functions' environment for this deployment (ENV names from core/workflow.ts, plus AWS_REGION). The
     * poll caps (SNAPSHOT_CAP_SECONDS, MEMORY_CAP_SECONDS) are the drill's choice and not included.
     */
    environment(): Record<string, string> {
        const d = this.deployment;
        return {
            AWS_REGION: this.region,
            [ENV.casesTable]: d.casesTable,
            [ENV.evidenceBucket]: d.evidenceBucket,
            [ENV.isolationGroups]: JSON.stringify(d.isolationGroups),
            [ENV.untrackGroups]: JSON.stringify(d.untrackGroups),
            [ENV.captureProfileArn]: d.captureProfileArn,
            [ENV.memoryDocument]: d.memoryDocument,
            // States saved before the builds were staged per architecture have none (memory: avml-not-configured).
            ...Object.fromEntries(AVML_BUILDS.flatMap((build) => {
                const staged = d.avml?.[build];
                return staged ? [[AVML_ENV[build].key, staged.key], [AVML_ENV[build].sha256, staged.sha256]] : [];
            })),
            [ENV.responderRoleName]: d.responderRoleName,
            [ENV.homeAccountId]: this.homeAccountId,
            [ENV.retentionDays]: String(this.world.state.seedOptions.retentionDays ?? 365),
            ...(d.copySnapshotsToHub ? { [ENV.copySnapshotsToHub]: "true", [ENV.hubSnapshotKeyArn]: d.evidenceKeyArn ?? "" } : {}),
            ...(d.manifestSigningKeyArn ? { [ENV.manifestSigningKeyArn]: d.manifestSigningKeyArn } : {}),
        };
    }

    /** The simulator clock (wall clock plus `advance`). */
    now(): Date {
        return new Date(this.world.now());
    }

    /** Move the simulator clock forward: pending snapshots, memory captures and drains progress accordingly. */
    advance(ms: number): void {
        this.world.advance(ms);
        settle(this.world);
    }

    /**
     * Make `atMs` count from now (the drill calls this when it starts the execution, so call slots are
     * `atMs / latencyMs`). Calls already recorded keep their times.
     */
    restartCallClock(): void {
        this.world.startedAtWall = Date.now();
    }

    /** Add a fault rule (counted from now). */
    addFault(rule: FaultRule): void {
        this.world.state.faults.push({ ...rule, seen: 0 });
    }

    /** Add a hook (not persisted). */
    addHook(hook: SimHook): void {
        this.hooks.push(hook);
    }

    // ---------------------------------------------------------------- installation

    /**
     * Route every client the handlers' factory builds to this simulator, and put the home account's simulated
     * credentials in the environment. Idempotent; throws if another simulator is installed.
     */
    install(): void {
        if (active === this) return;
        if (active) throw new Error("simulator: another SimulatedAccount is installed; uninstall() it first");
        this.savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
        process.env.AWS_ACCESS_KEY_ID = homeAccessKeyId(this.homeAccountId);
        process.env.AWS_SECRET_ACCESS_KEY = "simulated-secret-access-key";
        process.env.AWS_SESSION_TOKEN = "simulated-session-token";
        setClientCustomizer((client, service) => this.attach(client, service));
        // The functions live in simulated time: hours of waiting for snapshots pass for them as for the world.
        setClock(() => this.now());
        // A function's backoff passes in simulated time too (a throttled call retried in the next quota window).
        setSleeper(async (ms) => this.advance(ms));
        active = this;
    }

    /** Restore the environment and remove the customizer. Clients built while installed then refuse calls. */
    uninstall(): void {
        if (active !== this) return;
        for (const key of ENV_KEYS) {
            const value = this.savedEnv?.[key];
            if (value === undefined) delete process.env[key];
            else process.env[key] = value;
        }
        this.savedEnv = undefined;
        setClientCustomizer(undefined);
        setClock();
        setSleeper();
        active = undefined;
    }

    /**
     * Attach the simulator to one SDK client (the factory's customizer does this for every client it builds;
     * call it directly for a client made elsewhere). `service` defaults to the client class's service.
     */
    attach(client: CustomizableClient, service?: ServiceName | "sns"): void {
        const sdk = client as SdkClientLike;
        const fixed = service;
        sdk.middlewareStack.add(
            (_next: unknown, context: { commandName?: string; clientName?: string }) => async (args: { input?: unknown }) => {
                if (active !== this) {
                    throw new Error("simulator: a client built while the simulator was installed was used after uninstall()");
                }
                const svc = fixed ?? CLIENT_SERVICE[context.clientName ?? ""];
                if (!svc) throw notImplemented(`${context.clientName ?? "unknown client"}:${context.commandName ?? "?"}`);
                const operation = String(context.commandName ?? "").replace(/Command$/, "");
                const regionSetting = sdk.config?.region;
                const region = String(typeof regionSetting === "function" ? await (regionSetting as () => Promise<string>)() : regionSetting);
                const credentialSetting = sdk.config?.credentials;
                // Resolving assumed-role credentials runs sts:AssumeRole through this simulator first.
                const credentials = typeof credentialSetting === "function" ? ((await (credentialSetting as () => Promise<Credentials>)()) as Credentials) : undefined;
                const output = await this.withSdkRetries(sdk, (attempt) => this.handle(svc, operation, args.input, { credentials }, region, attempt));
                return { output, response: {} };
            },
            { step: "initialize", priority: "high", name: MIDDLEWARE_NAME, override: true, tags: ["AWS_DFIR_SIMULATOR"] },
        );
    }

    /**
     * Call the simulator directly (Step Functions SDK integrations, the analyst CLI): `service` as the factory
     * names it, `operation` the API name ("DescribeInstances"), `input` the SDK input. Recorded like any call.
     */
    invoke(service: SimService, operation: string, input: unknown, options: InvokeOptions = {}): Promise<Record<string, unknown>> {
        return this.handle(service, operation, input, { accountId: options.accountId ?? this.homeAccountId }, options.region ?? this.region);
    }

    /** Publish to an SNS topic of the world (the drill's notify states). Recorded as `sns:Publish`. */
    async publish(topicArn: string, subject: string | undefined, message: string): Promise<{ MessageId: string }> {
        const match = /^arn:aws[a-z-]*:sns:([^:]+):(\d{12}):/.exec(topicArn);
        const out = await this.handle("sns", "Publish", { TopicArn: topicArn, Subject: subject, Message: message }, { accountId: match?.[2] ?? this.homeAccountId }, match?.[1] ?? this.region);
        return { MessageId: String(out.MessageId) };
    }

    // ---------------------------------------------------------------- the call pipeline

    /**
     * The SDK's standard retry, emulated (the short-circuit runs before the real one): retryable errors are sent
     * again up to the client's `maxAttempts`, `sdkRetryDelayMs` apart; `$metadata.attempts` and
     * `totalRetryDelay` report what happened, as the SDK's do.
     */
    private async withSdkRetries(sdk: SdkClientLike, send: (attempt: number) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
        const behaviour = this.world.state.behaviour;
        let maxAttempts = 1;
        if (behaviour.sdkRetries) {
            const setting = (sdk.config as { maxAttempts?: unknown } | undefined)?.maxAttempts;
            const value = typeof setting === "function" ? await (setting as () => Promise<unknown>)() : setting;
            maxAttempts = typeof value === "number" && value >= 1 ? value : 3;
        }
        let totalRetryDelay = 0;
        for (let attempt = 1; ; attempt++) {
            try {
                const output = await send(attempt);
                (output.$metadata as Record<string, unknown>).attempts = attempt;
                (output.$metadata as Record<string, unknown>).totalRetryDelay = totalRetryDelay;
                return output;
            } catch (error) {
                const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
                if (attempt >= maxAttempts || !sdkRetryable(error)) {
                    if (metadata) {
                        metadata.attempts = attempt;
                        metadata.totalRetryDelay = totalRetryDelay;
                    }
                    throw error;
                }
                if (behaviour.sdkRetryDelayMs > 0) await sleep(behaviour.sdkRetryDelayMs);
                totalRetryDelay += behaviour.sdkRetryDelayMs;
            }
        }
    }

    /** The home credentials' session as the role now running (a function's under `runAs`, else the analyst's). */
    private homeSession(): SessionState {
        const state = this.world.state;
        const home = state.sessions[homeAccessKeyId(state.homeAccountId)] as SessionState;
        const scope = principalScope.getStore();
        const roleArn = scope?.roleArn ?? state.deployment.iam?.analystRoleArn;
        if (roleArn === undefined) return home;
        const roleName = roleArn.split("/").pop() as string;
        const sessionName = scope?.sessionName ?? "dfir-cli";
        const role = this.world.account(state.homeAccountId).iam.roles[roleName];
        // A role of the deployment that is not there (a typo, another account's ARN) must not run as nobody.
        if (!role && state.deployment.iam) throw new Error(`simulator: runAs ${roleArn}: no such role in the home account ${state.homeAccountId}`);
        return {
            ...home,
            arn: `arn:${partitionOf(state.region)}:sts::${state.homeAccountId}:assumed-role/${roleName}/${sessionName}`,
            userId: `${role?.roleId ?? "AROAUNKNOWN"}:${sessionName}`,
            roleArn,
            // Lambda's and the CLI's credentials are older than anything the response does.
            issuedAt: state.createdAt,
        };
    }

    private resolveCaller(service: SimService, who: { credentials?: Credentials; accountId?: string; administrator?: string }): SessionState {
        const state = this.world.state;
        const homeKey = homeAccessKeyId(state.homeAccountId);
        // A scenario's own actor with the account's administrator rights (not a role of the deployment): not evaluated by IAM.
        if (who.administrator !== undefined) {
            return { accessKeyId: "", accountId: who.administrator, arn: `arn:${partitionOf(state.region)}:sts::${who.administrator}:assumed-role/administrator/scenario`, userId: "administrator", expiresAt: Number.MAX_SAFE_INTEGER };
        }
        if (who.accountId !== undefined) {
            if (who.accountId === state.homeAccountId) return this.homeSession();
            return { accessKeyId: "", accountId: who.accountId, arn: `arn:aws:sts::${who.accountId}:assumed-role/direct/aws-dfir-drill`, userId: "direct", expiresAt: Number.MAX_SAFE_INTEGER };
        }
        const key = who.credentials?.accessKeyId;
        if (key === undefined || key === homeKey) return this.homeSession();
        const session = state.sessions[key];
        if (session) return session;
        const match = /^(?:ASIA|AKIA)(\d{12})/.exec(key);
        if (match) {
            const accountId = match[1] as string;
            return { accessKeyId: key, accountId, arn: `arn:aws:sts::${accountId}:assumed-role/unknown/${key}`, userId: key, expiresAt: Number.MAX_SAFE_INTEGER };
        }
        const code = service === "dynamodb" || service === "ssm" ? "UnrecognizedClientException" : service === "s3" ? "InvalidAccessKeyId" : "InvalidClientTokenId";
        throw awsError(service, code, "The security token included in the request is invalid.", 403);
    }

    /** The first fault rule that fires for this call (every matching rule counts the call). */
    private matchFault(action: string, accountId: string): FaultRule | undefined {
        let fired: FaultRule | undefined;
        for (const rule of this.world.state.faults) {
            if (!actionMatches(rule.action, action) || (rule.accountId !== undefined && rule.accountId !== accountId)) continue;
            rule.seen += 1;
            const after = rule.after ?? 0;
            if (!fired && rule.seen > after && rule.seen <= after + rule.times) fired = rule;
        }
        return fired;
    }

    private async runHooks(when: "before" | "after", call: { action: string; accountId: string; region: string; input: unknown; output?: unknown }): Promise<void> {
        for (const hook of this.hooks) {
            if ((hook.when ?? "after") === when && actionMatches(hook.action, call.action)) await hook.run(call);
        }
    }

    private async handle(
        service: SimService,
        operation: string,
        input: unknown,
        who: { credentials?: Credentials; accountId?: string; administrator?: string },
        region: string,
        attempt = 1,
    ): Promise<Record<string, unknown>> {
        const action = `${ACTION_PREFIX[service]}:${operation}`;
        const record: CallRecord = { atMs: this.world.elapsedWall(), service, action, ok: false, accountId: "", region, input: recordable(input), attempt };
        this.calls.push(record);
        const started = Date.now();
        // The call as S3 received it, for the trails that log it (drill/sim/trail.ts), answered or refused.
        let received: CallContext | undefined;
        try {
            const caller = this.resolveCaller(service, who);
            record.accountId = caller.accountId;
            const handler = HANDLERS[service][operation];
            if (!handler) throw notImplemented(action);
            // The request is checked against the service's model (drill/sim/shapes.ts) once the caller is
            // authenticated and before IAM authorizes it: AWS's front end rejects a malformed request (EC2
            // MissingParameter, ValidationException...) without an authorization decision, so an invalid
            // request is never an iamDenied, and a DryRun of one fails validation too.
            const invalid = shapeError(service, operation, input);
            if (invalid) throw invalid;
            const ctx: CallContext = { service, operation, action, accountId: caller.accountId, region, caller };
            received = ctx;
            // Faults are decided in arrival order; the error comes back after the latency, like any answer.
            if (caller.roleArn) record.principal = caller.roleArn;
            // Authorized as the request arrives (a DryRun too: it answers whether the caller may), while the call's
            // latency passes: the evaluation adds no time of its own to the call. Its answer is taken after the hooks.
            const authorized = caller.roleArn && this.world.state.deployment.iam
                ? authorizeCall(this.world, { ...ctx, caller: caller as SessionState & { roleArn: string } }, (input ?? {}) as Record<string, unknown>, record.atMs).then(() => undefined, (e: unknown) => e)
                : undefined;
            const fault = this.matchFault(action, caller.accountId);
            const latency = this.world.state.behaviour.latencyMs;
            if (latency > 0) await sleep(latency);
            settle(this.world);
            const call = { action, accountId: caller.accountId, region, input };
            await this.runHooks("before", call);
            const denied = await authorized;
            if (denied !== undefined) throw denied;
            if (fault) {
                record.injected = true;
                throw awsError(service, fault.error, fault.message ?? `Simulated ${fault.error} (fault injection)`, fault.status ?? defaultStatus(fault.error));
            }
            if (service === "ec2" && (input as { DryRun?: unknown } | undefined)?.DryRun === true) {
                throw awsError("ec2", "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412);
            }
            const output = (await handler(this.world, ctx, input ?? {})) as Record<string, unknown>;
            record.ok = true;
            recordS3Call(this.world, ctx, input);
            this.afterSuccess(action);
            await this.runHooks("after", { ...call, output });
            await this.scenarioCalls(action);
            this.requestCounter += 1;
            return { $metadata: { httpStatusCode: 200, requestId: `sim-ok-${this.requestCounter}`, attempts: 1, totalRetryDelay: 0 }, ...output };
        } catch (error) {
            const { name, message } = errorSummary(error);
            if (received && !record.injected) recordS3Call(this.world, received, input, error);
            record.ok = false;
            record.errorName = name;
            record.error = `${name}: ${message}`;
            throw error;
        } finally {
            record.durationMs = Date.now() - started;
        }
    }

    /** Built-in scenario effects that follow a successful call. */
    private afterSuccess(action: string): void {
        const terminate = this.world.state.behaviour.terminateAfter;
        if (terminate && !terminate.fired && actionMatches(terminate.action, action)) {
            terminate.fired = true;
            const found = this.world.findInstance(terminate.instanceId);
            if (found) terminateInstance(this.world, found.accountId, found.region, terminate.instanceId, `terminated after ${action} (scenario)`);
        }
    }

    /**
     * Built-in scenario effects that are calls of their own (recorded like any call), after a successful call:
     * `deleteSnapshotsAfter` has the instance account's administrator delete every evidence snapshot of the instance
     * once there is one (a direct caller of the account, not a role of the deployment: IAM does not stop it; a
     * refusal, e.g. of a locked snapshot, is recorded and the next snapshot tried).
     */
    private async scenarioCalls(action: string): Promise<void> {
        await this.readEvidence(action);
        const doom = this.world.state.behaviour.deleteSnapshotsAfter;
        if (!doom || doom.fired || !actionMatches(doom.action, action)) return;
        const found = this.world.findInstance(doom.instanceId);
        const evidence = found ? Object.values(found.state.snapshots).filter((s) => s.tags[TAGS.instanceId] === doom.instanceId && s.tags[TAGS.evidence] === TAGS.evidenceDisk) : [];
        if (!found || evidence.length === 0) return;
        doom.fired = true;
        for (const s of evidence) {
            await this.handle("ec2", "DeleteSnapshot", { SnapshotId: s.snapshotId }, { administrator: found.accountId }, found.region).catch(() => undefined);
        }
    }

    /**
     * `readEvidenceAfter`: someone with the hub account's administrator rights (not a role of the deployment: IAM
     * does not stop it) reads the memory image in the home region's evidence bucket, then tries to delete that
     * version: Object Lock COMPLIANCE refuses it. Both are calls of their own, logged by the access trail.
     */
    private async readEvidence(action: string): Promise<void> {
        const plan = this.world.state.behaviour.readEvidenceAfter;
        if (!plan || plan.fired || !actionMatches(plan.action, action)) return;
        const bucket = this.world.state.buckets[this.world.state.deployment.evidenceBucket];
        const key = Object.keys(bucket?.objects ?? {}).find((k) => /^cases\/[^/]+\/memory\/[^/]+\.lime$/.test(k));
        const version = key ? bucket?.objects[key]?.at(-1) : undefined;
        if (!bucket || !key || !version) return;
        plan.fired = true;
        const actor = { administrator: this.world.state.homeAccountId };
        await this.handle("s3", "GetObject", { Bucket: bucket.name, Key: key }, actor, bucket.region).catch(() => undefined);
        await this.handle("s3", "DeleteObject", { Bucket: bucket.name, Key: key, VersionId: version.versionId }, actor, bucket.region).catch(() => undefined);
    }

    // ---------------------------------------------------------------- views (read-only, for reports and tests)

    /** Terminate an instance now (scenario building). */
    terminate(instanceId = this.instanceId, reason = "User initiated"): void {
        const found = this.world.findInstance(instanceId);
        if (!found) throw new Error(`simulator: no instance ${instanceId}`);
        terminateInstance(this.world, found.accountId, found.region, instanceId, reason);
    }

    /** The instance as the simulation holds it (the seeded one by default). */
    instance(instanceId?: string): InstanceView {
        settle(this.world);
        const id = instanceId ?? this.instanceId;
        const found = this.world.findInstance(id);
        if (!found) throw new Error(`simulator: no instance ${id}`);
        const { instance: i, state: r } = found;
        const association = i.associationId ? r.profileAssociations[i.associationId] : undefined;
        const groups = Object.values(r.autoScalingGroups).filter((g) => g.instanceIds.includes(id) || g.detachments.some((d) => d.instanceId === id));
        const group = groups[0];
        const addresses = new Set(i.networkInterfaceIds.flatMap((eniId) => {
            const eni = r.networkInterfaces[eniId];
            return eni ? [eni.privateIpAddress, ...eni.ipv6Addresses] : [];
        }));
        const targetIsInstance = (tg: { targetType?: string }, targetId: string) => (tg.targetType === "ip" ? addresses.has(targetId) : targetId === id);
        return {
            instanceId: id,
            accountId: found.accountId,
            region: found.region,
            state: i.state,
            platform: i.platform,
            ...(i.instanceLifecycle ? { instanceLifecycle: i.instanceLifecycle } : {}),
            vpcId: i.vpcId,
            subnetId: i.subnetId,
            availabilityZone: i.availabilityZone,
            networkInterfaces: i.networkInterfaceIds.map((eniId, index) => {
                const eni = r.networkInterfaces[eniId];
                return {
                    networkInterfaceId: eniId,
                    deviceIndex: eni?.attachment?.deviceIndex ?? index,
                    groupIds: eni ? [...eni.groupIds] : [],
                    exists: eni !== undefined,
                    vpcId: eni?.vpcId ?? null,
                    subnetId: eni?.subnetId ?? null,
                };
            }),
            tags: { ...i.tags },
            disableApiTermination: i.disableApiTermination,
            disableApiStop: i.disableApiStop,
            shutdownBehavior: i.shutdownBehavior,
            blockDevices: i.blockDevices.map((b) => ({ ...b })),
            profile: association && association.state === "associated" ? { arn: association.profileArn, associationId: association.associationId } : null,
            autoScaling: group
                ? {
                      groupName: group.name,
                      inGroup: group.instanceIds.includes(id),
                      desiredCapacity: group.desired,
                      detachments: group.detachments.filter((d) => d.instanceId === id).map((d) => ({ decremented: d.decremented, at: new Date(d.at).toISOString() })),
                  }
                : null,
            // By the instance id, or (groups of type ip) by one of its interfaces' private addresses.
            targetGroups: Object.values(r.targetGroups)
                .filter((tg) => tg.targets.some((t) => targetIsInstance(tg, t.id)) || groups.some((g) => g.targetGroupArns.includes(tg.arn)))
                .map((tg) => ({ arn: tg.arn, name: tg.name, state: tg.targets.find((t) => targetIsInstance(tg, t.id))?.state ?? "unused" })),
            ssmPingStatus: i.ssmPingStatus ?? null,
        };
    }

    /**
     * The instance's established flows (the seeded one by default), each evaluated packet by packet against the
     * network ACLs and security groups as they are now (drill/sim/network.ts).
     */
    flows(instanceId?: string): FlowView[] {
        settle(this.world);
        const id = instanceId ?? this.instanceId;
        const found = this.world.findInstance(id);
        if (!found) throw new Error(`simulator: no instance ${id}`);
        const r = found.state;
        const names = { "6": "tcp", "17": "udp", "1": "icmp" } as const;
        return Object.values(r.flows ?? {})
            .filter((f) => found.instance.networkInterfaceIds.includes(f.networkInterfaceId))
            .map((f) => {
                const blockedBy = flowVerdict(r, f);
                const via = f.path.kind === "nat-gateway" ? f.path.natGatewayId : f.path.kind === "internet-gateway" ? f.path.internetGatewayId : f.path.kind === "interface-endpoint" ? f.path.vpcEndpointId : f.path.networkInterfaceId;
                const view: FlowView = {
                    flowId: f.flowId,
                    label: f.label,
                    forensic: f.forensic === true,
                    networkInterfaceId: f.networkInterfaceId,
                    path: f.path.kind,
                    via,
                    protocol: names[f.protocol],
                    localAddress: f.localAddress,
                    localPort: f.localPort,
                    remoteAddress: f.remoteAddress,
                    remotePort: f.remotePort,
                    initiatedBy: f.initiatedBy,
                    tracked: f.tracked,
                    automaticallyTracked: f.automaticallyTracked,
                    open: blockedBy === undefined,
                };
                if (blockedBy !== undefined) view.blockedBy = blockedBy;
                return view;
            });
    }

    /** Whether the instance's SSM agent can reach its endpoints and S3 now (the forensic channel), and why not. */
    forensicChannel(instanceId?: string): { open: boolean; blockedBy?: string } {
        const id = instanceId ?? this.instanceId;
        const found = this.world.findInstance(id);
        if (!found) throw new Error(`simulator: no instance ${id}`);
        const primary = found.instance.networkInterfaceIds.map((e) => found.state.networkInterfaces[e]).find((e) => e?.attachment?.deviceIndex === 0);
        const blockedBy = primary ? forensicChannelVerdict(found.state, primary) : undefined;
        return blockedBy === undefined ? { open: true } : { open: false, blockedBy };
    }

    /** Network ACLs (of one VPC, or all) of an account and region (the instance's by default), as stored. */
    networkAcls(where: { vpcId?: string; accountId?: string; region?: string } = {}): NetworkAclState[] {
        const r = this.world.region(where.accountId ?? this.instanceAccountId, where.region ?? this.region);
        return Object.values(r.networkAcls ?? {}).filter((a) => where.vpcId === undefined || a.vpcId === where.vpcId).map((a) => structuredClone(a));
    }

    /**
     * Put a rule straight into a network ACL (scenario building: an operator's rule, or a concurrent containment's),
     * replacing one of the same number and direction. No quota or validation: that is CreateNetworkAclEntry's.
     */
    putNetworkAclEntry(networkAclId: string, entry: NetworkAclEntryState, where: { accountId?: string; region?: string } = {}): void {
        const r = this.world.region(where.accountId ?? this.instanceAccountId, where.region ?? this.region);
        const acl = r.networkAcls?.[networkAclId];
        if (!acl) throw new Error(`simulator: no network ACL ${networkAclId}`);
        acl.entries = [...acl.entries.filter((e) => !(e.egress === entry.egress && e.ruleNumber === entry.ruleNumber)), structuredClone(entry)];
    }

    /** The subnets of an account and region (the instance's by default), as stored. */
    subnets(where: { vpcId?: string; accountId?: string; region?: string } = {}): SubnetState[] {
        const r = this.world.region(where.accountId ?? this.instanceAccountId, where.region ?? this.region);
        return Object.values(r.subnets ?? {}).filter((s) => where.vpcId === undefined || s.vpcId === where.vpcId).map((s) => structuredClone(s));
    }

    /** Every snapshot of the world (or of one account/region), as DescribeSnapshots would show it now. */
    snapshots(filter: { accountId?: string; region?: string } = {}): SnapshotView[] {
        settle(this.world);
        const out: SnapshotView[] = [];
        for (const { accountId, region, state } of this.world.allRegions()) {
            if ((filter.accountId && filter.accountId !== accountId) || (filter.region && filter.region !== region)) continue;
            for (const s of Object.values(state.snapshots)) {
                const view = snapshotView(this.world, s);
                out.push({
                    snapshotId: s.snapshotId,
                    volumeId: s.volumeId,
                    volumeSizeGiB: s.volumeSizeGiB,
                    state: String(view.State),
                    progress: String(view.Progress),
                    tags: { ...s.tags },
                    accountId,
                    region,
                    startTime: new Date(s.startTime).toISOString(),
                    ...(view.KmsKeyId ? { kmsKeyId: view.KmsKeyId } : {}),
                    ...(s.copyOf ? { copyOf: { ...s.copyOf } } : {}),
                    sharedWith: [...(s.createVolumePermissions ?? [])],
                    ...lockOf(this.world, s),
                });
            }
        }
        return out;
    }

    /** Current (non-deleted) objects of a bucket under a prefix, in key order. */
    objects(bucket: string, prefix = ""): ObjectView[] {
        settle(this.world);
        const b = this.world.state.buckets[bucket];
        if (!b) throw new Error(`simulator: no bucket ${bucket}`);
        return Object.keys(b.objects)
            .filter((k) => k.startsWith(prefix))
            .sort()
            .flatMap((key) => {
                const v = b.objects[key]?.at(-1);
                return v && !v.deleteMarker ? [this.objectView(bucket, key, v)] : [];
            });
    }

    /** Every version of a key (oldest first), delete markers included (`bytes` 0, `sha256` ""). */
    objectVersions(bucket: string, key: string): (ObjectView & { deleteMarker: boolean })[] {
        const b = this.world.state.buckets[bucket];
        if (!b) throw new Error(`simulator: no bucket ${bucket}`);
        return (b.objects[key] ?? []).map((v) => ({ ...this.objectView(bucket, key, v), deleteMarker: v.deleteMarker }));
    }

    /**
     * Store `parts` as one multipart object with SHA-256 part checksums, as `aws s3 cp --checksum-algorithm SHA256`
     * uploads it (scenario building and benchmarks: no IAM, no call recorded). The Buffers are kept, not copied:
     * identical parts may be one Buffer, never written again. Returns the new version's id.
     */
    putMultipartObject(bucket: string, key: string, parts: readonly Buffer[]): string {
        const b = this.world.state.buckets[bucket];
        if (!b) throw new Error(`simulator: no bucket ${bucket}`);
        const upload = new MultipartUpload(this.world, b, key, { checksumAlgorithm: "SHA256" });
        parts.forEach((part, i) => upload.uploadPart(i + 1, part));
        return upload.complete().versionId;
    }

    /** The bytes of an object (current version, or a named one). */
    objectBody(bucket: string, key: string, versionId?: string): Buffer {
        settle(this.world);
        const versions = this.world.state.buckets[bucket]?.objects[key] ?? [];
        const v = versionId ? versions.find((x) => x.versionId === versionId) : versions.at(-1);
        if (!v || v.deleteMarker || (!v.body && !v.parts)) throw new Error(`simulator: no object s3://${bucket}/${key}${versionId ? ` version ${versionId}` : ""}`);
        if (v.parts) {
            // A multipart object is its parts; one Buffer can hold only so much (read a large one through GetObject).
            if (v.size > MAX_VIEW_BYTES) throw new Error(`simulator: s3://${bucket}/${key} is ${v.size} bytes, more than one Buffer holds here (${MAX_VIEW_BYTES}): stream it with GetObject`);
            return Buffer.concat(v.parts.map((p) => p.body));
        }
        return Buffer.from(v.body as Buffer);
    }

    private objectView(bucket: string, key: string, v: SimState["buckets"][string]["objects"][string][number]): ObjectView {
        const view: ObjectView = {
            bucket,
            key,
            versionId: v.versionId,
            bytes: v.size,
            sha256: objectSha256(v),
            lastModified: new Date(v.lastModified).toISOString(),
            metadata: { ...v.metadata },
        };
        if (v.contentType) view.contentType = v.contentType;
        if (v.lockMode) view.lockMode = v.lockMode;
        if (v.retainUntil !== undefined) view.retainUntil = new Date(v.retainUntil).toISOString();
        return view;
    }

    /** Items of a table (home account and region by default), as stored. */
    items(table: string, where: { accountId?: string; region?: string } = {}): Item[] {
        const t = this.world.region(where.accountId ?? this.homeAccountId, where.region ?? this.region).tables[table];
        if (!t) throw new Error(`simulator: no table ${table}`);
        return Object.values(t.items).map((i) => structuredClone(i));
    }

    /** Inline policies of a role (name -> document), in the instance's account by default. */
    rolePolicies(roleName: string, accountId?: string): Record<string, string> {
        const role = this.world.account(accountId ?? (this.hasInstance ? this.instanceAccountId : this.homeAccountId)).iam.roles[roleName];
        if (!role) throw new Error(`simulator: no role ${roleName}`);
        return { ...role.policies };
    }

    /** The customer managed policies attached to a role, with their default version's document (a JSON string). */
    attachedPolicies(roleName: string, accountId?: string): Record<string, string> {
        const account = this.world.account(accountId ?? (this.hasInstance ? this.instanceAccountId : this.homeAccountId));
        const role = account.iam.roles[roleName];
        if (!role) throw new Error(`simulator: no role ${roleName}`);
        const policies = account.iam.managedPolicies ?? {};
        return Object.fromEntries((role.attachedPolicies ?? []).map((arn) => {
            const p = policies[arn];
            return [arn, p?.versions.find((v) => v.versionId === p.defaultVersionId)?.document ?? ""];
        }));
    }

    /**
     * Change a role's inline policy as an administrator would outside the response (scenario building: a role
     * without a permission the response needs). `document` undefined deletes it. The role is named by its ARN.
     */
    setRolePolicy(roleArn: string, policyName: string, document: string | undefined): void {
        const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(roleArn);
        const role = m ? this.world.state.accounts[m[1] as string]?.iam.roles[m[2] as string] : undefined;
        if (!role) throw new Error(`simulator: no role ${roleArn}`);
        if (document === undefined) delete role.policies[policyName];
        else role.policies[policyName] = document;
    }

    /** The evidence bucket's (or any bucket's) policy as deployed, parsed; undefined: none. */
    bucketPolicy(bucket = this.deployment.evidenceBucket): unknown {
        const policy = this.world.state.buckets[bucket]?.policy;
        return policy === undefined ? undefined : JSON.parse(policy);
    }

    /** Every SSM command sent, with its invocations' status. */
    commands(): CommandView[] {
        settle(this.world);
        const out: CommandView[] = [];
        for (const { state } of this.world.allRegions()) {
            for (const c of Object.values(state.commands) as CommandState[]) {
                out.push({
                    commandId: c.commandId,
                    documentName: c.documentName,
                    accountId: c.accountId,
                    region: c.region,
                    parameters: structuredClone(c.parameters),
                    invocations: Object.values(c.invocations).map((i) => ({ instanceId: i.instanceId, status: i.status, statusDetails: i.statusDetails, responseCode: i.responseCode })),
                });
            }
        }
        return out;
    }

    /**
     * Seed another instance from another finding into this world (multi-account / multi-region drills). Its
     * account gets the capture profile, memory document and responder role; its region gets a hub.
     */
    addInstanceFromFinding(finding: unknown, where: { accountId?: string; region?: string } & Pick<SimOptions, "volumes" | "windows" | "ssmOffline" | "alreadyIsolated" | "inAsg" | "extraTags"> = {}): { accountId: string; region: string; instanceId: string; report: SeedReport } {
        const { detail, envelope } = findingDetail(finding);
        const report: SeedReport = { idMapping: {}, defaulted: [] };
        const location = findingLocation(detail, envelope, report);
        const accountId = where.accountId ?? location.accountId;
        const region = where.region ?? location.region;
        const options: SimOptions = { ...this.world.state.seedOptions, ...where };
        seedHub(this.world, options, region);
        seedWorkloadAccount(this.world, options, accountId, region, true);
        const seeded = seedInstance(this.world, options, detail, accountId, region, report);
        deployIam(this.world);
        return { ...seeded, report };
    }

    /**
     * Add the forensic workstation (`dfir:workstation`) to this world: an instance tagged dfir:role=workstation in the
     * home account, in the home region (or `region`), `<region>a` by default. Returns it (the existing one of that
     * region, if any).
     */
    addWorkstation(option: WorkstationOption = {}): { instanceId: string; region: string; availabilityZone: string } {
        return seedWorkstation(this.world, option);
    }

    /** Every volume of the world (or of one account/region), as DescribeVolumes would show it now. */
    volumes(filter: { accountId?: string; region?: string } = {}): VolumeView[] {
        settle(this.world);
        const out: VolumeView[] = [];
        for (const { accountId, region, state } of this.world.allRegions()) {
            if ((filter.accountId && filter.accountId !== accountId) || (filter.region && filter.region !== region)) continue;
            for (const v of Object.values(state.volumes)) {
                out.push({
                    volumeId: v.volumeId,
                    accountId,
                    region,
                    availabilityZone: v.availabilityZone,
                    state: v.state,
                    sizeGiB: v.sizeGiB,
                    encrypted: v.encrypted,
                    ...(v.kmsKeyId ? { kmsKeyId: v.kmsKeyId } : {}),
                    ...(v.snapshotId ? { snapshotId: v.snapshotId } : {}),
                    tags: { ...v.tags },
                    attachment: v.attachment ? { instanceId: v.attachment.instanceId, deviceName: v.attachment.deviceName } : null,
                });
            }
        }
        return out;
    }

    /**
     * Change one byte of one block of a simulated snapshot (a test hook, not an AWS call: EBS snapshots cannot be
     * written after they complete; the hook stands for content that changed underneath the record): the byte at
     * `offset` of block `block` becomes its complement. Unknown snapshot, block or offset: an Error naming it.
     */
    tamperSnapshotBlock(snapshotId: string, block = 0, offset = 0): { snapshotId: string; block: number; offset: number; value: number } {
        const find = (id: string) => {
            for (const r of this.world.allRegions()) if (r.state.snapshots[id]) return r.state.snapshots[id];
            return undefined;
        };
        const snapshot = find(snapshotId);
        if (!snapshot) throw new Error(`no snapshot ${snapshotId} in the simulated accounts`);
        const value = tamperBlock(snapshot, find, block, offset);
        this.world.event("tamper", `byte ${offset} of block ${block} of ${snapshotId} changed to ${value}`);
        return { snapshotId, block, offset, value };
    }

    /**
     * Give a snapshot another disk (benchmarks, tests: a simulated 1,000 GiB disk costs a few bytes): its volume size
     * and its content's seed and density (drill/sim/disk.ts).
     */
    setSnapshotDisk(snapshotId: string, disk: { volumeSizeGiB: number; seed: string; writtenEvery: number }): void {
        for (const r of this.world.allRegions()) {
            const snapshot = r.state.snapshots[snapshotId];
            if (!snapshot) continue;
            snapshot.volumeSizeGiB = disk.volumeSizeGiB;
            snapshot.content = { seed: disk.seed, writtenEvery: disk.writtenEvery };
            return;
        }
        throw new Error(`no snapshot ${snapshotId} in the simulated accounts`);
    }

    // ---------------------------------------------------------------- persistence

    /** The whole world as JSON (object bodies inline, base64). Calls of this session join the history. */
    toJSON(): SimulatedAccountJson {
        return { format: STATE_FORMAT, version: STATE_VERSION, state: encode(this.snapshotState()) };
    }

    /** Save to DIR/state.json, bodies over 64 KiB as DIR/objects/<sha256>. */
    saveState(dir: string): void {
        writeStateDir(dir, { format: STATE_FORMAT, version: STATE_VERSION, state: this.snapshotState() });
    }

    private snapshotState(): SimState {
        settle(this.world);
        const calls = this.calls.map(({ input: _input, ...rest }) => rest);
        return { ...this.world.state, callHistory: [...this.world.state.callHistory, ...calls] };
    }
}

/** Save a world to a directory (see {@link SimulatedAccount.saveState}). */
export function saveState(sim: SimulatedAccount, dir: string): void {
    sim.saveState(dir);
}

/** Load a world from a directory (see {@link SimulatedAccount.loadState}). */
export function loadState(dir: string, hooks: SimHook[] = []): SimulatedAccount {
    return SimulatedAccount.loadState(dir, hooks);
}

export { SimulationSeedError };

