/**
 * The offline drill: the exact state machine definition the ResponseWorkflow component deploys, executed by a
 * real ASL interpreter (aws-local-stepfunctions), with the real Lambda handlers in-process, against a simulated
 * account seeded from a GuardDuty finding. Every report field is read back from the simulated account's state
 * (interfaces, snapshots, objects), not from what the script meant to do.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { buildDefinition, DEFAULT_POLL_SECONDS, DIGEST_FUNCTION_TASKS, FUNCTION_TASKS, WARM_TASKS, POLL_LOOPS, HUB_COPY_FUNCTION_TASKS, LAMBDA_TIMEOUTS, STATES, type DefinitionTargets, type LambdaTimeoutError, type WorkflowSettings } from "../core/definition";
import { DISK_COPY_GAP, type Manifest } from "../core/manifest";
import type { DigestRecord } from "../core/diskDigest";
import { HISTORY_QUOTA, HistoryCounter, type InterpreterEvent } from "../core/history";
import { TAGS } from "../core/tags";
import { InputError } from "../core/events";
import { GUARDDUTY_DETAIL_TYPE, GUARDDUTY_SOURCE, parseFinding } from "../core/finding";
import { triage } from "../core/triage";
import { ENV, type CaseOpened, type SealResult } from "../core/workflow";
import { handler as caseHandler } from "../functions/case";
import { targetFor } from "../functions/case/openCase";
import { handler as containHandler } from "../functions/contain";
import { handler as memoryHandler } from "../functions/memory";
import { handler as metadataHandler } from "../functions/metadata";
import { handler as sealHandler } from "../functions/seal";
import { handler as digestHandler } from "../functions/digest";
import { handler as snapshotHandler } from "../functions/snapshot";
import { handler as triageHandler, type TriageVerdict } from "../functions/triage";
import { installLambdaModel, runAsLambda, type LambdaModelOptions } from "./lambda";
import { PRIOR_REVOCATIONS, scenarioPlan, type ScenarioName } from "./scenarios";
import { partitionOf } from "../core/containmentPolicies";
import { addInstance } from "../core/revocation";
import { client } from "../functions/lib/aws";
import { readRevocation, UNRECORDED_STEPS, writeRevocation } from "../functions/contain/revocation";
import { warmUp, type IamDenial } from "./sim/iam/index";
import { warmShapes } from "./sim/shapes";
import { DEFAULT_HUB_ACCOUNT, SimulatedAccount, SimulationSeedError, STAND_IN_ACCOUNT, type CallRecord, type SimOptions } from "./sim";

/**
 * The forensics (hub) account of a drill run with `--account ID`: the functions' own account, where the case
 * table, evidence bucket and topic live. `--account` with this id is a same-account response (no role assumed);
 * any other id is a member account reached through its responder role.
 */
export const DRILL_HUB_ACCOUNT = DEFAULT_HUB_ACCOUNT;
/** Scenarios that are about the member account itself (they need one other than the hub). */
const MEMBER_SCENARIOS: readonly ScenarioName[] = ["cross-account", "cross-account-role-missing", "copy-to-hub", "copy-to-hub-failed"];

export interface DrillOptions {
    /** The GuardDuty event (EventBridge envelope or bare finding). */
    finding: unknown;
    /** EBS volumes of the instance. @default 2 */
    volumes?: number;
    /** Network interfaces of the instance (the finding lists one; secondary ones are added). @default the finding's */
    interfaces?: number;
    /** Milliseconds each simulated AWS call takes. @default 0 */
    latencyMs?: number;
    /** Deliver the same finding this many times. @default 1 */
    repeat?: number;
    /** With `repeat`: start every delivery at once instead of one after another. @default false */
    concurrent?: boolean;
    /**
     * Deployed with `dfir:workstation`: the simulated account also has the forensic workstation (an instance tagged
     * dfir:role=workstation in the hub account and region), for `dfir attach` after the drill. @default false
     */
    workstation?: boolean;
    /**
     * Kill one step's function mid-way, as its Lambda timeout would: in the first `times` invocations of `state`,
     * the first `afterCalls` AWS calls go through, every later call of that invocation fails unapplied, and the
     * invocation ends with `Sandbox.Timedout` whatever the handler does. @default none
     */
    kill?: {
        state: string;
        afterCalls: number;
        times?: number;
        /**
         * The error Step Functions reports for the dead invocation: Lambda's own `Sandbox.Timedout`, or
         * `Lambda.Unknown`, which the Step Functions guide names for function timeouts and out-of-memory errors
         * ("Handle transient Lambda service exceptions", bp-lambda-serviceexception). @default "Sandbox.Timedout"
         */
        error?: LambdaTimeoutError;
    };
    scenario?: ScenarioName;
    /**
     * The finding is from this account (the drill's `--account ID`, 12 digits): the delivered event says so
     * (`account`, `detail.accountId`) whatever the finding file said, the instance lives there, and the
     * functions run in {@link DRILL_HUB_ACCOUNT}. Another id is a member reached through its responder role
     * (with `cross-account-role-missing`: a member without one); the hub's own id is a same-account response.
     */
    account?: string;
    /** An existing simulated account to run against (e.g. loaded from --state DIR). */
    sim?: SimulatedAccount;
    /** Extra simulator options (tests: snapshot durations, memory size...). */
    simOptions?: SimOptions;
    /** The Lambda budget model's settings (drill/lambda.ts). @default this machine's measured sha256 speed */
    lambda?: LambdaModelOptions;
    /**
     * Workflow settings of the deployed definition. `copySnapshotsToHub` defaults to the simulated deployment's
     * (a world seeded with it, e.g. by `--scenario copy-to-hub`).
     */
    settings?: WorkflowSettings;
    /** Where the functions' structured log lines go (in Lambda: CloudWatch). @default kept in the report only */
    onLog?: (line: string) => void;
    /**
     * Build the state machine from these instead of the deployed `buildDefinition` (benchmarks: baseline designs
     * made of the same states, run against the same handlers). @default buildDefinition
     */
    definition?: (targets: DefinitionTargets, settings: WorkflowSettings) => Record<string, unknown>;
}

export type DrillStatus = "SUCCEEDED" | "PARTIAL" | "FAILED" | "IGNORED";

/** One execution's outcome (a --repeat run has several). */
export interface ExecutionOutcome {
    executionName: string;
    /** What the execution ended as: its sealed case status, IGNORED, or REPEAT (finding joined the open case). */
    status: DrillStatus | "REPEAT";
    reason: string;
    caseId?: string;
    /** States entered, in order, with the wall time since the drill started. */
    states: { atMs: number; name: string; type: string }[];
    error?: { Error: string; Cause: string };
    /** History events the execution wrote, counted as Step Functions counts them (core/history.ts). */
    historyEvents: number;
    /** Simulated seconds spent in each poll loop's Wait state, in all (the clock the simulator advanced for it). */
    waitedSeconds: Record<string, number>;
}

/** The `--json` report (ARCHITECTURE.md: command contracts), plus the timeline's raw material. */
export interface DrillReport {
    status: DrillStatus;
    reason: string;
    caseId?: string;
    scenario?: string;
    /** Whose account the finding is from and how the functions reached it. */
    account: AccountReport;
    finding: { findingId?: string; findingType?: string; severity?: number; accountId?: string; region?: string; instanceId?: string };
    latencyMs: number;
    calls: { atMs: number; service: string; action: string; ok: boolean; error?: string }[];
    containment: {
        /** Every interface is now only in its VPC's isolation group (read from the simulated account). */
        isolated: boolean;
        /** When this run put the last interface into the isolation group (null: it did not, or did not need to). */
        isolatedAtMs: number | null;
        /** Call slots (latency units) from execution start to the first change and to complete isolation. */
        firstChangeSlot: number | null;
        isolatedSlot: number | null;
        /** Each interface, its VPC and that VPC's isolation group (null: the deployment did not prepare the VPC). */
        networkInterfaces: { networkInterfaceId: string; groupIds: string[]; vpcId?: string | null; isolationGroupId?: string | null }[];
        /** The isolation group of the instance's (primary) VPC. */
        securityGroupId: string | null;
        /**
         * The instance's established flows that could still pass at the end, by the simulator's packet-by-packet
         * evaluation of the network ACLs and security groups as they are then (never from what the functions
         * meant to do); the SSM agent's channel is not counted (it is meant to stay open). `[]` when every one is cut.
         */
        openFlows: DrillFlow[];
        /** Every established flow of the instance (the agent's channel included), open or with what blocks it. */
        flows: DrillFlow[];
        /** Whether the SSM agent can still reach its endpoints and S3 (the forensic channel), and why not. */
        forensicChannel: { open: boolean; blockedBy?: string };
        tags: Record<string, string>;
        protections: { disableApiTermination: boolean; disableApiStop: boolean; shutdownBehavior: string };
        profileArn: string | null;
        autoScaling: { groupName: string; inGroup: boolean } | null;
        targetGroups: { name: string; state: string }[];
    } | null;
    evidence: {
        /** The instance's own snapshots (in its account), copies excluded. */
        snapshots: { snapshotId: string; volumeId: string; state: string }[];
        /**
         * The hub's copies of a member's snapshots (copySnapshotsToHub): each with the member snapshot it copies, the
         * member's shared copy it was made from, its account, state and key. Empty without copying.
         */
        hubCopies: { snapshotId: string; sourceSnapshotId: string; viaSnapshotId: string; accountId: string; state: string; kmsKeyId: string | null }[];
        /** Why the copy into the hub is missing (the case's `disk copy to hub` gap), when it is. */
        hubCopyMissing?: string;
        /** The image, and the sha256 of the avml binary that made it (the instance's sidecar `avmlSha256`). */
        memory: { bucket: string; key: string; sha256: string; bytes: number; avmlSha256?: string } | null;
        memoryMissing?: string;
        metadata: { key: string; sha256: string; bytes: number }[];
        manifest: { bucket: string; key: string; sha256: string; mode: string; retainUntil: string } | null;
        /**
         * The case's disk digest record (functions/digest), as written in the bucket: its status and each evidence
         * snapshot's content digest (core/diskDigest.ts). Absent when none was written.
         */
        diskDigests?: { key: string; sha256: string; mode: string; status: string; snapshots: { snapshotId: string; status: string; digest?: string; writtenBlocks?: number; error?: string }[]; error?: string };
    };
    notifications: { atMs: number; subject?: string }[];
    executions: ExecutionOutcome[];
    /** The largest history any execution of the run wrote (Step Functions fails one at 25,000: core/history.ts). */
    historyEvents: number;
    /** How the finding was mapped onto the simulation (redacted ids replaced), from the simulator. */
    seed: unknown;
    /** Structured log lines the functions wrote (see --logs). */
    logLines?: number;
    /**
     * Every call of this run that IAM denied (drill/sim/iam): evaluated against the policies the program deploys, as
     * the role the call ran as (a function's, the state machine's, the responder's after AssumeRole, the instance
     * profile's for what runs on the instance). Such a call failed as AWS would fail it. Empty in every scenario.
     */
    iamDenied: IamDenialReport[];
}

/** One IAM denial in the report: the simulator's record of it (drill/sim/iam). */
export type IamDenialReport = IamDenial;

/** One flow of the instance in the report. */
export interface DrillFlow {
    flowId: string;
    label: string;
    networkInterfaceId: string;
    /** internet-gateway, nat-gateway, peer, interface-endpoint. */
    path: string;
    via: string;
    protocol: string;
    local: string;
    remote: string;
    tracked: boolean;
    automaticallyTracked: boolean;
    forensic: boolean;
    open: boolean;
    blockedBy?: string;
}

/** The account part of the report (the timeline's `account:` header line). */
export interface AccountReport {
    /** The account the finding is from, as delivered to the workflow (the instance's account). */
    accountId: string;
    /** The hub: the functions' own account (case table, evidence bucket, topic). */
    homeAccountId: string;
    /** "member": reached through the responder role; "home": a same-account response, no role assumed. */
    relation: "member" | "home";
    /** The responder role the functions assume for a member (targetFor in functions/case/openCase.ts); null for home. */
    roleArn: string | null;
    /** This run's sts:AssumeRole calls, in order: the role asked for, and how it went. */
    assumeRole: { atMs: number; roleArn: string; ok: boolean; error?: string }[];
    /** The finding file's own account id, when the drill replaced it (--account, or a redacted id). */
    findingAccountId?: string;
}

/** Why `--account` cannot be used this way (one line naming the flags), or undefined. */
export function accountProblem(account: string | undefined, scenario: ScenarioName | undefined): string | undefined {
    if (account === undefined) return undefined;
    if (!/^\d{12}$/.test(account)) return `--account needs a 12-digit AWS account id, got ${JSON.stringify(account)}`;
    if (account === DRILL_HUB_ACCOUNT && scenario !== undefined && MEMBER_SCENARIOS.includes(scenario)) {
        return `--account ${account} is the hub's own account: --scenario ${scenario} needs a member account (any other 12-digit id)`;
    }
    return undefined;
}

/**
 * Why a kept simulated account (--state) cannot serve this `--account`, or undefined. A world remembers the
 * account it was seeded for: without --account it is reused as it is; with one, its instance must be in that
 * account and its hub must be the drill's.
 */
export function keptAccountProblem(sim: SimulatedAccount, account: string | undefined): string | undefined {
    if (account === undefined || !sim.hasInstance) return undefined;
    const hub = DRILL_HUB_ACCOUNT;
    if (sim.instanceAccountId === account && sim.homeAccountId === hub) return undefined;
    return `--account ${account} (instance in ${account}, hub ${hub}) does not match the kept simulated account (instance in ${sim.instanceAccountId}, hub ${sim.homeAccountId}): leave --account out to reuse it as it is, or use another --state directory`;
}

/** Simulator options that put the instance in `--account`'s account and the functions in the drill's hub. */
function accountSimOptions(options: DrillOptions): SimOptions {
    if (options.account === undefined) return {};
    return { accountId: options.account, homeAccountId: DRILL_HUB_ACCOUNT, ...(options.account !== DRILL_HUB_ACCOUNT ? { crossAccount: true } : {}) };
}

/** The event with `account` and `detail.accountId` set to `accountId` (envelopes; bare findings: `accountId`). */
export function withAccount(event: unknown, accountId: string): unknown {
    const copy = structuredClone(event) as Record<string, any>;
    if (copy.detail && typeof copy.detail === "object") {
        copy.account = accountId;
        copy.detail.accountId = accountId;
    } else {
        copy.accountId = accountId;
    }
    return copy;
}

/** The account id an event (envelope or bare finding) names, as written. */
function accountOf(event: unknown): string | undefined {
    const e = event as { account?: unknown; accountId?: unknown; detail?: { accountId?: unknown } } | null;
    const raw = e?.detail?.accountId ?? e?.accountId ?? e?.account;
    return typeof raw === "string" ? raw : undefined;
}

/** Fake ARNs of the deployment in the simulated account: the definition is built exactly as deployed. */
export function drillTargets(accountId: string, region: string, topicArn: string): DefinitionTargets {
    const fn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:dfir-response-${name}`;
    return {
        triageFunctionArn: fn("triage"),
        caseFunctionArn: fn("case"),
        containFunctionArn: fn("contain"),
        snapshotFunctionArn: fn("snapshot"),
        memoryFunctionArn: fn("memory"),
        metadataFunctionArn: fn("metadata"),
        sealFunctionArn: fn("seal"),
        digestFunctionArn: fn("digest"),
        topicArn,
        approvalTopicArn: topicArn,
    };
}

type Handler = (event: any) => Promise<unknown>;
let executionCounter = 0;
const HANDLERS: Record<keyof DefinitionTargets, Handler | undefined> = {
    triageFunctionArn: triageHandler,
    caseFunctionArn: caseHandler,
    containFunctionArn: containHandler as Handler,
    snapshotFunctionArn: snapshotHandler as Handler,
    memoryFunctionArn: memoryHandler as Handler,
    metadataFunctionArn: metadataHandler as Handler,
    sealFunctionArn: sealHandler as Handler,
    digestFunctionArn: digestHandler as Handler,
    topicArn: undefined,
    approvalTopicArn: undefined,
};

/** The event EventBridge would deliver: bare findings (GetFindings / S3 export shape) get the envelope. */
export function asDelivered(finding: unknown): unknown {
    const parsed = parseFinding(finding);
    if (!parsed.ok || parsed.finding.isEnvelope) return finding;
    const detail = finding as Record<string, unknown>;
    return {
        version: "0",
        id: "drill-envelope",
        "detail-type": "GuardDuty Finding",
        source: "aws.guardduty",
        account: typeof detail.accountId === "string" ? detail.accountId : "123456789012",
        time: new Date().toISOString(),
        region: typeof detail.region === "string" ? detail.region : "us-east-1",
        resources: [],
        detail,
    };
}

/**
 * What the simulator seeds its instance from. A GuardDuty instance finding is its own seed; for the other trigger
 * kinds (Security Hub, credential exfiltration, tag change, manual start) a GuardDuty-shaped stand-in naming the
 * instance, account and region triage reads from the event (the simulator models the instance, not the event;
 * the workflow still receives the event itself).
 */
export function seedFindingOf(event: unknown): unknown {
    const d = triage(event, { allowSamples: true });
    if (d.trigger === undefined || d.trigger === "guardduty" || d.instanceId === undefined) return event;
    return {
        version: "0",
        id: "drill-seed",
        "detail-type": GUARDDUTY_DETAIL_TYPE,
        source: GUARDDUTY_SOURCE,
        ...(d.accountId ? { account: d.accountId } : {}),
        ...(d.region ? { region: d.region } : {}),
        resources: [],
        detail: {
            ...(d.findingId ? { id: d.findingId } : {}),
            ...(d.findingType ? { type: d.findingType } : {}),
            ...(d.accountId ? { accountId: d.accountId } : {}),
            ...(d.region ? { region: d.region } : {}),
            resource: { resourceType: "Instance", instanceDetails: { instanceId: d.instanceId } },
        },
    };
}

/** Whether an event is one the drill can re-address to another account (GuardDuty findings only). */
function isGuardDutyEvent(event: unknown): boolean {
    const d = triage(event, { allowSamples: true });
    return d.trigger === undefined || d.trigger === "guardduty";
}

/** The simulated account a drill runs against: seeded from the finding, shaped by the scenario. */
export function seedAccount(options: DrillOptions): SimulatedAccount {
    const problem = accountProblem(options.account, options.scenario);
    if (problem) throw new InputError(problem);
    if (options.account !== undefined && !isGuardDutyEvent(options.finding)) {
        throw new InputError("--account re-addresses GuardDuty findings only: give a Security Hub, tag or credential event of the account itself");
    }
    return SimulatedAccount.fromFinding(seedFindingOf(asDelivered(options.finding)), {
        volumes: options.volumes ?? 2,
        ...(options.interfaces ? { interfaces: options.interfaces } : {}),
        latencyMs: options.latencyMs ?? 0,
        ...scenarioPlan(options.scenario).sim,
        ...accountSimOptions(options),
        ...(options.workstation ? { workstation: true } : {}),
        ...options.simOptions,
    });
}

/** The event with the account and region the simulation stands in for redacted or placeholder ones. */
export function onSimulatedAccount(event: unknown, sim: SimulatedAccount): unknown {
    const { accountIdMapping, regionMapping } = sim.seedReport;
    if (!accountIdMapping && !regionMapping) return event;
    // The other kinds name their account in an instance ARN (12 digits) or are built for this account (`dfir
    // respond`): the simulation seeded from them stands in nothing, and a kept one's mapping is its first finding's.
    if (!isGuardDutyEvent(event)) return event;
    const copy = structuredClone(event) as Record<string, any>;
    const detail = copy.detail && typeof copy.detail === "object" ? copy.detail : copy;
    if (accountIdMapping) {
        detail.accountId = accountIdMapping.to;
        if ("account" in copy || detail !== copy) copy.account = accountIdMapping.to;
    }
    if (regionMapping) {
        detail.region = regionMapping.to;
        if ("region" in copy) copy.region = regionMapping.to;
    }
    return copy;
}

/** A Lambda error as Step Functions reports it: the error's name, and its message as the cause. */
function stepError(error: unknown): { Error: string; Cause: string } {
    if (error instanceof Error) return { Error: error.name, Cause: error.message };
    return { Error: "Error", Cause: String(error) };
}

/**
 * Run the drill. Throws only for bad input: an InputError for an `account` that is not 12 digits, cannot go
 * with the scenario or with the given `sim`; a SimulationSeedError for a finding that names no instance and is
 * not ignored (one that triage ignores is reported IGNORED without a simulated account).
 */
export async function runDrill(options: DrillOptions): Promise<DrillReport> {
    // The handlers log to stdout as Lambda expects; here stdout belongs to the report.
    const logs: string[] = [];
    const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    const capture = (...args: unknown[]) => {
        const line = args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
        logs.push(line);
        options.onLog?.(line);
    };
    Object.assign(console, { log: capture, info: capture, warn: capture, error: capture, debug: capture });
    try {
        const report = await drill(options);
        report.logLines = logs.length;
        return report;
    } finally {
        Object.assign(console, saved);
    }
}

async function drill(options: DrillOptions): Promise<DrillReport> {
    const plan = scenarioPlan(options.scenario);
    const latencyMs = options.latencyMs ?? 0;
    const event = asDelivered(options.finding);
    const problem = accountProblem(options.account, options.scenario) ?? (options.sim ? keptAccountProblem(options.sim, options.account) : undefined);
    if (problem) throw new InputError(problem);

    let sim = options.sim;
    if (!sim) {
        try {
            sim = seedAccount(options);
        } catch (error) {
            // A finding that names no instance cannot seed an account; triage ignores it before any AWS call.
            const verdict = (await triageHandler(options.account ? withAccount(event, options.account) : event)) as TriageVerdict;
            if (error instanceof SimulationSeedError && verdict.decision === "ignore") return ignoredWithoutAccount(verdict, latencyMs, options.scenario, options.account, accountOf(event));
            throw error;
        }
    }
    const settings: WorkflowSettings = {
        snapshotPollSeconds: DEFAULT_POLL_SECONDS.snapshot,
        memoryPollSeconds: DEFAULT_POLL_SECONDS.memory,
        // The deployment's switch (absent, not false, when off: the definition is then exactly the default one).
        ...(sim.deployment.copySnapshotsToHub ? { copySnapshotsToHub: true } : {}),
        ...options.settings,
    };
    // Published fixtures redact account ids ("111", "XXXXXXXXXXXX"); the simulation stands in a real-looking
    // one, and the event delivered to the workflow says the same (reported under `seed`).
    const delivered = onSimulatedAccount(event, sim);
    const triageOnly = (await triageHandler(delivered)) as TriageVerdict;
    let firstCall = sim.calls.length;
    const firstNotification = sim.notifications.length;
    const firstDenial = sim.iamDenied.length;
    let started = Date.now();
    const savedEnv = { ...process.env };
    Object.assign(process.env, sim.environment(), {
        // The deployment's caps (its defaults unless the scenario runs at others).
        [ENV.snapshotCapSeconds]: String(plan.caps?.snapshotSeconds ?? 86400),
        [ENV.memoryCapSeconds]: String(plan.caps?.memorySeconds ?? 10800),
        [ENV.homeAccountId]: sim.homeAccountId,
        MIN_SEVERITY: "7",
        ALLOW_SAMPLES: "false",
    });
    // The IAM evaluator's data is read before the clock starts (the first calls then take no longer than the rest).
    await warmUp();
    // So are the service models the requests are validated against.
    warmShapes();
    sim.install();
    // Each function's invocations are held to its deployed timeout and memory (drill/lambda.ts).
    installLambdaModel(sim, options.lambda);
    const executions: ExecutionOutcome[] = [];
    let lastSeal: SealResult | undefined;
    try {
        if (options.scenario === "revocation-at-scale") {
            // The history the scenario stands on, written by Contain's own revocation code; not part of the report.
            await writePriorRevocations(sim, PRIOR_REVOCATIONS);
            firstCall = sim.calls.length;
        }
        const targets = drillTargets(sim.homeAccountId, sim.region, sim.deployment.topicArn);
        const definition = (options.definition ?? buildDefinition)(targets, settings) as unknown as StateMachineDefinition;
        const machine = stateMachine(definition);
        // One clock for the report: the simulator's call times and the interpreter's state times count from here.
        sim.restartCallClock();
        started = Date.now();
        const runs = options.repeat ?? 1;
        if (options.concurrent) {
            // Every delivery at once, as EventBridge may deliver duplicates: the case table's conditional write
            // decides which execution opens the case. Outcomes are reported in start order.
            const outcomes = await Promise.all(Array.from({ length: runs }, (_, i) => runOnce(machine, definition, targets, sim, delivered, plan.approval, settings, started, i, options.kill)));
            for (const outcome of outcomes) {
                if (outcome.seal) lastSeal = outcome.seal;
                executions.push(outcome.outcome);
            }
        } else {
            for (let i = 0; i < runs; i++) {
                const outcome = await runOnce(machine, definition, targets, sim, delivered, plan.approval, settings, started, i, options.kill);
                if (outcome.seal) lastSeal = outcome.seal;
                executions.push(outcome.outcome);
            }
        }
    } finally {
        sim.uninstall();
        for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
        Object.assign(process.env, savedEnv);
    }
    return buildReport(sim, triageOnly, executions, lastSeal, latencyMs, options.scenario, { calls: firstCall, notifications: firstNotification, iamDenied: firstDenial });
}

/**
 * Definitions this process has validated (their JSON). The interpreter validates a definition against the ASL schema
 * on every construction, compiling the schema anew each time (a fifth of a drill's CPU); each distinct definition is
 * still validated, once.
 */
const validatedDefinitions = new Set<string>();

/** The interpreter's state machine for a definition, validated the first time this process sees that definition. */
export function stateMachine(definition: StateMachineDefinition): StateMachine {
    const key = JSON.stringify(definition);
    const machine = new StateMachine(definition, { validationOptions: validatedDefinitions.has(key) ? { noValidate: true } : { checkArn: false } });
    validatedDefinitions.add(key);
    return machine;
}

/**
 * `revocation-at-scale`: `count` earlier containments of other instances on the instance's role, one a minute up
 * to now, each written as Contain writes it (read the role's revocation policy, add, write). Run installed, as the
 * responder acts (through the member role when the instance is in another account).
 */
async function writePriorRevocations(sim: SimulatedAccount, count: number): Promise<void> {
    const instance = sim.instance();
    const roleName = instance.profile?.arn.slice(instance.profile.arn.lastIndexOf("/") + 1);
    if (!roleName) throw new Error("drill: revocation-at-scale needs an instance with a profile");
    const roleArn = instance.accountId === sim.homeAccountId ? undefined : `arn:aws:iam::${instance.accountId}:role/dfir-responder`;
    const iam = client("iam", { region: instance.region, ...(roleArn ? { roleArn } : {}) });
    const role = { partition: partitionOf(instance.region), accountId: instance.accountId, roleName };
    const now = sim.now().getTime();
    for (let i = 0; i < count; i++) {
        const instanceId = `i-${(0xa000000000000000n + BigInt(i)).toString(16).padStart(17, "0")}`;
        const at = new Date(now - (count - i) * 60_000);
        const current = await readRevocation(iam, UNRECORDED_STEPS, role);
        await writeRevocation(iam, UNRECORDED_STEPS, role, current, addInstance(current.groups, instanceId, at, at), `earlier containment ${i + 1}`);
    }
}

/** Which killed invocation an AWS call belongs to (the simulator's hooks run in the caller's async context). */
const killScope = new AsyncLocalStorage<symbol>();

/**
 * Run a handler as a Lambda killed by its timeout: its first `afterCalls` AWS calls go through, then every call it
 * makes fails without effect, and the invocation ends with `error` (`Sandbox.Timedout` or `Lambda.Unknown`: what
 * Step Functions may report) whatever the handler returned or threw.
 */
async function killedInvocation(
    sim: SimulatedAccount,
    invoke: () => Promise<unknown>,
    afterCalls: number,
    label: string,
    error: LambdaTimeoutError = LAMBDA_TIMEOUTS[0],
): Promise<never> {
    // Only this invocation's calls count and die: the parallel evidence branches run meanwhile.
    const invocation = Symbol(label);
    let made = 0;
    // Never removed: a call the dead invocation still makes later (an un-awaited promise) must die too, as it
    // would in a Lambda that timed out. One cheap check per call per kill.
    sim.addHook({
        action: "*",
        when: "before",
        run: () => {
            if (killScope.getStore() !== invocation) return;
            made += 1;
            if (made > afterCalls) throw Object.assign(new Error(`drill: ${label} was killed (its Lambda timed out)`), { name: "DrillKilled" });
        },
    });
    try {
        await killScope.run(invocation, invoke);
    } catch {
        // Whatever the handler made of its dead calls, the invocation timed out.
    }
    throw Object.assign(new Error(`${label}: Task timed out after the function's timeout (drill: killed after ${afterCalls} AWS calls)`), { name: error });
}

/** The Wait state before each check, by the check's name. */
const WAIT_BEFORE: Record<string, string> = Object.fromEntries(POLL_LOOPS.map((loop) => [loop.check, loop.wait]));

/**
 * The seconds the Wait before a check waited: its `Seconds`, or the value at its `SecondsPath` (a plain `$.a.b`
 * path) in the state it read, which the check's Parameters pass on under the same keys (`disk.$: $.disk`, ...).
 */
function waitedBefore(definition: StateMachineDefinition, check: string, input: Record<string, unknown>): number | undefined {
    const name = WAIT_BEFORE[check];
    if (name === undefined) return undefined;
    const find = (d: { States: Record<string, any> }): any =>
        d.States[name] ?? Object.values(d.States).flatMap((st: any) => (st.Branches ?? []).map(find)).find((x: unknown) => x !== undefined);
    const wait = find(definition as never);
    if (wait === undefined) throw new Error(`drill: no Wait state ${name} before ${check}`);
    if (typeof wait.Seconds === "number") return wait.Seconds;
    const value = String(wait.SecondsPath).replace(/^\$\.?/, "").split(".").reduce<any>((v, k) => (v === undefined || v === null ? undefined : v[k]), input);
    if (typeof value !== "number") throw new Error(`drill: ${name}'s SecondsPath ${wait.SecondsPath} names no number in the state (${JSON.stringify(value)})`);
    return value;
}

async function runOnce(
    machine: StateMachine,
    definition: StateMachineDefinition,
    targets: DefinitionTargets,
    sim: SimulatedAccount,
    event: unknown,
    approval: "approve" | "deny" | "timeout" | undefined,
    settings: WorkflowSettings,
    started: number,
    index: number,
    kill?: DrillOptions["kill"],
): Promise<{ outcome: ExecutionOutcome; seal?: SealResult }> {
    // Unique per run: OpenCase tells a retried invocation of the execution that opened a case by its ARN.
    const executionName = `drill-${started.toString(36)}-${++executionCounter}-${index + 1}`;
    const executionArn = `arn:aws:states:${sim.region}:${sim.homeAccountId}:execution:dfir-response:${executionName}`;
    let seal: SealResult | undefined;
    let verdict: TriageVerdict | undefined;
    let opened: CaseOpened | undefined;
    let repeat = false;

    const overrides: Record<string, (input: any) => Promise<any>> = {};
    const waitedSeconds: Record<string, number> = {};
    // The warm-ups run the real handlers with their warm-up event, as their role, like any invocation.
    const tasks = { ...FUNCTION_TASKS, ...WARM_TASKS, ...(settings.copySnapshotsToHub ? HUB_COPY_FUNCTION_TASKS : {}), ...(targets.digestFunctionArn ? DIGEST_FUNCTION_TASKS : {}) };
    let kills = 0;
    for (const [state, target] of Object.entries(tasks)) {
        const handler = HANDLERS[target];
        if (!handler) throw new Error(`drill: no handler for ${target}`);
        // Each function runs as its own role (its calls are authorized as that role).
        const fn = target.replace(/FunctionArn$/, "");
        const roleArn = sim.functionRoleArn(fn);
        overrides[state] = (input) => sim.runAs(roleArn, async () => {
            // A poll follows a Wait state: let the simulated world live through that wait (the seconds the Wait
            // read from the previous step's result, as Step Functions does with SecondsPath).
            const waited = waitedBefore(definition, state, input);
            if (waited !== undefined) {
                sim.advance(waited * 1000);
                waitedSeconds[WAIT_BEFORE[state]] = (waitedSeconds[WAIT_BEFORE[state]] ?? 0) + waited;
            }
            if (kill && state === kill.state && kills < (kill.times ?? 1)) {
                kills += 1;
                await killedInvocation(sim, () => handler(structuredClone(input)), kill.afterCalls, `${state} (attempt ${kills})`, kill.error);
            }
            const result = await runAsLambda(sim, fn, state, () => handler(structuredClone(input)));
            if (state === STATES.triage) verdict = result as TriageVerdict;
            if (state === STATES.openCase) opened = result as CaseOpened;
            if (state === STATES.seal) seal = result as SealResult;
            if (state === STATES.reassert) repeat = true;
            return result as never;
        });
    }
    // Step Functions' SDK integrations run as the state machine's role.
    const publish = (input: { TopicArn: string; Subject?: string; Message: unknown }) => sim.runAs(sim.stateMachineRoleArn(), async () => {
        const message = typeof input.Message === "string" ? input.Message : JSON.stringify(input.Message);
        await sim.publish(input.TopicArn, input.Subject, message);
        return { MessageId: "published" };
    });
    for (const state of [STATES.notify, STATES.notifyRepeat, STATES.notifyRepeatFailed, STATES.notifyUnsealed]) overrides[state] = publish;
    overrides[STATES.askApproval] = async (input) => {
        await publish(input);
        // The drill plays the responder who receives the request.
        if (approval === "approve") return { approved: true, by: "drill-responder" };
        if (approval === "deny") return { approved: false, by: "drill-responder" };
        const timeout = new Error("Task timed out waiting for the approval");
        timeout.name = "States.Timeout";
        throw timeout;
    };

    // An aborted execution (the history quota) leaves Lambda invocations running, as Step Functions does: the run
    // waits for them to end before the simulator is uninstalled.
    const inFlight = new Set<Promise<unknown>>();
    for (const [state, run] of Object.entries(overrides)) {
        overrides[state] = (input) => {
            const p = run(input);
            inFlight.add(p);
            p.then(() => inFlight.delete(p), () => inFlight.delete(p));
            return p;
        };
    }
    const noPause = Object.fromEntries(Object.keys(overrides).map((s) => [s, 0]));
    const execution = machine.run(event as never, {
        overrides: {
            taskResourceLocalHandlers: overrides,
            waitTimeOverrides: Object.fromEntries(POLL_LOOPS.filter((loop) => loop.wait !== STATES.waitHubCopy || settings.copySnapshotsToHub).map((loop) => [loop.wait, 0])),
            retryIntervalOverrides: noPause,
        },
        context: {
            Execution: { Id: executionArn, Name: executionName, StartTime: sim.now().toISOString() },
            // The interpreter has no $$.State or $$.Task of its own: read at the moment a state's path asks.
            State: { get EnteredTime() { return sim.now().toISOString(); } },
            Task: { Token: `drill-task-token-${executionName}` },
        },
    });
    const states: ExecutionOutcome["states"] = [];
    // Step Functions fails an execution whose history reaches the quota, uncatchably (core/history.ts): so does the drill.
    const history = new HistoryCounter(definition);
    let quotaReached = false;
    const logging = (async () => {
        for await (const e of execution.eventLogs) {
            if (e.type === "StateEntered") states.push({ atMs: e.timestamp - started, name: e.state.name, type: e.state.type });
            // Counted up to the quota: the execution fails there (the interpreter's abort event is not history).
            if (!quotaReached && history.add(e as InterpreterEvent) >= HISTORY_QUOTA) {
                quotaReached = true;
                execution.abort();
            }
        }
    })();
    let error: { Error: string; Cause: string } | undefined;
    try {
        await execution.result;
    } catch (e) {
        const cause = (e as { cause?: unknown }).cause;
        error = stepError(cause ?? e);
    }
    await logging;
    await Promise.allSettled([...inFlight]);
    if (quotaReached) {
        error = {
            Error: "ExecutionFailed",
            Cause: `the execution's history reached ${HISTORY_QUOTA} events (Step Functions quota "Maximum execution history size"): the execution failed, no Catch applies`,
        };
    }

    const base = { executionName, states, historyEvents: Math.min(history.events, HISTORY_QUOTA), waitedSeconds, ...(error ? { error } : {}) };
    if (verdict?.decision !== "respond") {
        return { outcome: { ...base, status: "IGNORED", reason: verdict?.reason ?? "triage did not run" } };
    }
    if (repeat) {
        return {
            // The open case this delivery joined (OpenCase answers with it), not the id triage proposed.
            outcome: { ...base, status: "REPEAT", reason: error ? `re-assert failed: ${error.Cause}` : "finding added to the open case; containment re-asserted", caseId: opened?.caseId ?? verdict.caseId },
        };
    }
    if (seal) return { outcome: { ...base, status: seal.status, reason: seal.reason, caseId: seal.caseId }, seal };
    return { outcome: { ...base, status: "FAILED", reason: `not sealed: ${error ? `${error.Error}: ${error.Cause}` : "unknown"}`, caseId: verdict.caseId } };
}

/** The report of a finding triage ignores and no account can be seeded from: nothing ran, nothing was called. */
function ignoredWithoutAccount(verdict: TriageVerdict, latencyMs: number, scenario: string | undefined, account: string | undefined, findingAccountId: string | undefined): DrillReport {
    const accountId = verdict.accountId ?? account ?? STAND_IN_ACCOUNT;
    const home = account !== undefined ? DRILL_HUB_ACCOUNT : accountId;
    return {
        status: "IGNORED",
        reason: verdict.reason,
        ...(scenario ? { scenario } : {}),
        account: accountReport(verdict, accountId, home, "dfir-responder", [], findingAccountId),
        finding: findingOf(verdict),
        latencyMs,
        calls: [],
        containment: null,
        evidence: { snapshots: [], hubCopies: [], memory: null, metadata: [], manifest: null },
        notifications: [],
        executions: [{ executionName: "drill-1", status: "IGNORED", reason: verdict.reason, states: [], historyEvents: 0, waitedSeconds: {} }],
        historyEvents: 0,
        seed: null,
        iamDenied: [],
    };
}

function findingOf(verdict: TriageVerdict): DrillReport["finding"] {
    return {
        findingId: verdict.findingId,
        findingType: verdict.findingType,
        severity: verdict.severity,
        accountId: verdict.accountId,
        region: verdict.region,
        instanceId: verdict.instanceId,
    };
}

function buildReport(
    sim: SimulatedAccount,
    verdict: TriageVerdict,
    executions: ExecutionOutcome[],
    seal: SealResult | undefined,
    latencyMs: number,
    scenario: string | undefined,
    from: { calls: number; notifications: number; iamDenied: number },
): DrillReport {
    // Only this run's calls and notifications (a kept account has earlier ones too).
    const calls = sim.calls.slice(from.calls);
    const first = executions[0];
    const last = executions[executions.length - 1];
    const status: DrillStatus = seal ? seal.status : last.status === "REPEAT" ? "SUCCEEDED" : last.status;
    const reason = seal ? seal.reason : last.reason;
    const finding = findingOf(verdict);
    const accountId = verdict.accountId ?? (sim.hasInstance ? sim.instanceAccountId : sim.homeAccountId);
    const report: DrillReport = {
        status,
        reason,
        ...(seal?.caseId ?? last.caseId ?? verdict.caseId ? { caseId: seal?.caseId ?? last.caseId ?? verdict.caseId } : {}),
        ...(scenario ? { scenario } : {}),
        account: accountReport(verdict, accountId, sim.homeAccountId, sim.deployment.responderRoleName, calls, sim.seedReport.accountIdMapping?.from),
        finding,
        latencyMs,
        calls: calls.map((c) => ({ atMs: c.atMs, service: c.service, action: c.action, ok: c.ok, ...(c.error ? { error: c.error } : {}) })),
        containment: null,
        evidence: { snapshots: [], hubCopies: [], memory: null, metadata: [], manifest: null },
        notifications: sim.notifications.slice(from.notifications).map((n) => ({ atMs: n.atMs, ...(n.subject ? { subject: n.subject } : {}) })),
        executions,
        historyEvents: Math.max(0, ...executions.map((e) => e.historyEvents)),
        seed: sim.seedReport,
        iamDenied: sim.iamDenied.slice(from.iamDenied).map((d) => ({ ...d })),
    };
    if (first.status === "IGNORED") return report;

    const instance = sim.instance();
    const isolationGroup = sim.deployment.isolationGroups[instance.vpcId] ?? null;
    // Security groups belong to one VPC: each interface's isolation group is its own VPC's.
    const groupOf = (n: { vpcId: string | null }): string | null => sim.deployment.isolationGroups[n.vpcId ?? instance.vpcId] ?? null;
    const isolation = isolationCall(calls, new Map(instance.networkInterfaces.map((n) => [n.networkInterfaceId, groupOf(n)])));
    const firstChange = calls.findIndex((c) => c.ok && isChange(c));
    const slots = latencyMs > 0 ? callSlots(calls, latencyMs) : undefined;
    const flows: DrillFlow[] = sim.flows().map((f) => ({
        flowId: f.flowId,
        label: f.label,
        networkInterfaceId: f.networkInterfaceId,
        path: f.path,
        via: f.via,
        protocol: f.protocol,
        local: `${f.localAddress}${f.protocol === "icmp" ? "" : `:${f.localPort}`}`,
        remote: `${f.remoteAddress}${f.protocol === "icmp" ? "" : `:${f.remotePort}`}`,
        tracked: f.tracked,
        automaticallyTracked: f.automaticallyTracked,
        forensic: f.forensic,
        open: f.open,
        ...(f.blockedBy !== undefined ? { blockedBy: f.blockedBy } : {}),
    }));
    report.containment = {
        isolated: instance.networkInterfaces.every((n) => { const g = groupOf(n); return g !== null && n.groupIds.length === 1 && n.groupIds[0] === g; }),
        isolatedAtMs: isolation === undefined ? null : calls[isolation].atMs + (calls[isolation].durationMs ?? 0),
        firstChangeSlot: slots && firstChange >= 0 ? slots[firstChange] : null,
        isolatedSlot: slots && isolation !== undefined ? slots[isolation] : null,
        networkInterfaces: instance.networkInterfaces.map((n) => ({ networkInterfaceId: n.networkInterfaceId, groupIds: n.groupIds, vpcId: n.vpcId, isolationGroupId: groupOf(n) })),
        securityGroupId: isolationGroup,
        openFlows: flows.filter((f) => f.open && !f.forensic),
        flows,
        forensicChannel: sim.forensicChannel(),
        tags: Object.fromEntries(Object.entries(instance.tags).filter(([k]) => k.startsWith("dfir:"))),
        protections: { disableApiTermination: instance.disableApiTermination, disableApiStop: instance.disableApiStop, shutdownBehavior: instance.shutdownBehavior },
        profileArn: instance.profile?.arn ?? null,
        autoScaling: instance.autoScaling ? { groupName: instance.autoScaling.groupName, inGroup: instance.autoScaling.inGroup } : null,
        targetGroups: instance.targetGroups.map((t) => ({ name: t.name, state: t.state })),
    };
    const caseId = report.caseId;
    const ofCase = sim.snapshots().filter((s) => caseId !== undefined && s.tags[TAGS.caseId] === caseId);
    report.evidence.snapshots = ofCase
        .filter((s) => s.tags[TAGS.sourceSnapshot] === undefined)
        .map((s) => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, state: s.state }));
    report.evidence.hubCopies = ofCase
        .filter((s) => s.accountId === sim.homeAccountId && s.tags[TAGS.evidence] === TAGS.evidenceHubCopy)
        .map((s) => ({
            snapshotId: s.snapshotId,
            sourceSnapshotId: s.tags[TAGS.sourceSnapshot] ?? "",
            viaSnapshotId: s.copyOf?.snapshotId ?? "",
            accountId: s.accountId,
            state: s.state,
            kmsKeyId: s.kmsKeyId ?? null,
        }));
    if (caseId !== undefined) {
        const bucket = sim.deployment.evidenceBucket;
        const objects = sim.objects(bucket, `cases/${caseId}/`);
        const image = objects.find((o) => o.key.endsWith(".lime"));
        if (image) {
            report.evidence.memory = { bucket, key: image.key, sha256: image.sha256, bytes: image.bytes };
            const sidecar = objects.find((o) => o.key === `${image.key}.json`);
            const avmlSha256 = sidecar ? (JSON.parse(sim.objectBody(bucket, sidecar.key).toString("utf8")) as { avmlSha256?: unknown }).avmlSha256 : undefined;
            if (typeof avmlSha256 === "string") report.evidence.memory.avmlSha256 = avmlSha256;
        }
        report.evidence.metadata = objects.filter((o) => o.key.includes("/metadata/")).map((o) => ({ key: o.key, sha256: o.sha256, bytes: o.bytes }));
        if (seal) {
            const manifest = objects.find((o) => o.key === seal.manifest.key);
            if (manifest) {
                report.evidence.manifest = { bucket, key: manifest.key, sha256: manifest.sha256, mode: manifest.lockMode ?? "NONE", retainUntil: manifest.retainUntil ?? "" };
                // The gaps as the sealed manifest records them (the one-line reason joins them with "; " and cannot be
                // split back reliably: a gap's own reason may hold "; ").
                const sealed = JSON.parse(sim.objectBody(bucket, manifest.key).toString("utf8")) as Pick<Manifest, "evidence">;
                const gap = (item: string) => sealed.evidence.missing.find((m) => m.item === item)?.reason;
                const copyGap = gap(DISK_COPY_GAP);
                if (copyGap) report.evidence.hubCopyMissing = copyGap;
                const memoryGap = gap("memory");
                if (memoryGap) report.evidence.memoryMissing = memoryGap;
            }
        }
        const digests = objects.find((o) => /\/disk-digests-[^/]+\.json$/.test(o.key));
        if (digests) {
            const record = JSON.parse(sim.objectBody(bucket, digests.key).toString("utf8")) as DigestRecord;
            report.evidence.diskDigests = {
                key: digests.key,
                sha256: digests.sha256,
                mode: digests.lockMode ?? "NONE",
                status: record.status,
                snapshots: record.snapshots.map((x) => ({ snapshotId: x.snapshotId, status: x.status, ...(x.digest ? { digest: x.digest } : {}), ...(x.writtenBlocks !== undefined ? { writtenBlocks: x.writtenBlocks } : {}), ...(x.error ? { error: x.error } : {}) })),
                ...(record.error ? { error: record.error } : {}),
            };
        }
    }
    return report;
}

/** Whose account the finding is from, the role the functions assume for it, and this run's AssumeRole calls. */
function accountReport(
    verdict: TriageVerdict,
    accountId: string,
    homeAccountId: string,
    responderRoleName: string,
    calls: readonly CallRecord[],
    findingAccountId: string | undefined,
): AccountReport {
    // The same rule the functions apply (OpenCase's targetFor): another account is reached through its role.
    const target = targetFor(
        { findingId: verdict.findingId ?? "", caseId: verdict.caseId ?? "", accountId, region: verdict.region ?? "us-east-1", instanceId: verdict.instanceId ?? "" },
        { responderRoleName, homeAccountId },
    );
    return {
        accountId,
        homeAccountId,
        relation: accountId === homeAccountId ? "home" : "member",
        roleArn: target.roleArn ?? null,
        assumeRole: calls
            .filter((c) => c.action === "sts:AssumeRole")
            .map((c) => ({ atMs: c.atMs, roleArn: String((c.input as { RoleArn?: unknown } | undefined)?.RoleArn ?? ""), ok: c.ok, ...(c.error ? { error: c.error } : {}) })),
        ...(findingAccountId !== undefined && findingAccountId !== accountId ? { findingAccountId } : {}),
    };
}

/** Calls that change the instance or its surroundings (the first is containment's first side effect). */
function isChange(c: CallRecord): boolean {
    return /^(ec2:(Modify|CreateTags|CreateNetworkAclEntry|Replace|Associate)|autoscaling:Detach|elasticloadbalancing:Deregister|iam:(CreatePolicy|CreatePolicyVersion|AttachRolePolicy))/.test(c.action);
}

/**
 * Index of the call that put the last interface into its isolation group (its own VPC's), if every interface got
 * there: undefined when one has no isolation group at all.
 */
function isolationCall(calls: readonly CallRecord[], groups: ReadonlyMap<string, string | null>): number | undefined {
    const enis = [...groups.keys()];
    if (enis.length === 0 || [...groups.values()].some((g) => g === null)) return undefined;
    const at = new Map<string, number>();
    calls.forEach((c, i) => {
        if (!c.ok || c.action !== "ec2:ModifyNetworkInterfaceAttribute") return;
        const input = c.input as { NetworkInterfaceId?: string; Groups?: string[] } | undefined;
        const id = input?.NetworkInterfaceId;
        if (id && input.Groups?.length === 1 && input.Groups[0] === groups.get(id) && !at.has(id)) at.set(id, i);
    });
    if (enis.some((e) => !at.has(e))) return undefined;
    return Math.max(...enis.map((e) => at.get(e) as number));
}

/**
 * The call slot of every call: a slot is one round of AWS calls that run concurrently. With a fixed latency
 * per call, a call that starts less than 80% of a latency after the slot's first call is in the same round
 * (the rest is in-process overhead); a later one starts the next. Slot 1 is the first AWS call.
 */
export function callSlots(calls: readonly { atMs: number }[], latencyMs: number): number[] {
    const slots: number[] = [];
    let slot = 0;
    let slotStart = -Infinity;
    for (const c of calls) {
        if (c.atMs >= slotStart + 0.8 * latencyMs) {
            slot += 1;
            slotStart = c.atMs;
        }
        slots.push(slot);
    }
    return slots;
}
