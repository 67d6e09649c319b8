/**
 * The response state machine (Amazon States Language), built by one pure function so that the component
 * deploys, and the tests and the drill execute, exactly the same definition.
 *
 * Input: the EventBridge event exactly as the rule delivers it. The execution state grows one key per step:
 * `triage.verdict`, `case` (CaseOpened), `approval`, `containment` | `containError`, `evidence` [disk, memory,
 * metadata], `seal`. Every step that can fail is caught; a case that opened always ends sealed and notified.
 *
 * Tasks name the function ARN as `Resource` (the function's output is the state's result, unwrapped), so the
 * drill's in-process handlers return exactly what Lambda returns.
 */
import { TRANSIENT_ERRORS, WARMUP_EVENT } from "./workflow";

/** The ARNs a definition is wired to. */
export interface DefinitionTargets {
    readonly triageFunctionArn: string;
    readonly caseFunctionArn: string;
    readonly containFunctionArn: string;
    readonly snapshotFunctionArn: string;
    readonly memoryFunctionArn: string;
    readonly metadataFunctionArn: string;
    readonly sealFunctionArn: string;
    /**
     * The disk content digests (functions/digest): after the seal and its notification, a Distributed Map over the
     * snapshots' 8 GiB chunks, then the case's digest record. Absent: the definition has no digest states.
     */
    readonly digestFunctionArn?: string;
    /** Notifications (contained, evidence summary, failures). */
    readonly topicArn: string;
    /** Approval requests (carry the task token); may be the same topic. */
    readonly approvalTopicArn: string;
}

/** Timing knobs of the workflow, with their defaults. */
export interface WorkflowSettings {
    /** How long an approval request waits for a human. @default 3600 */
    readonly approvalTimeoutSeconds?: number;
    /** What happens when nobody answers in time. @default "contain" (the instance is compromised) */
    readonly approvalDefault?: "contain" | "skip";
    /**
     * The shortest pause between snapshot progress checks (and hub copy checks): the pause grows with the time the
     * step has run, up to its cap / STEADY_ROUNDS, so no execution nears the history quota (core/polling.ts).
     * @default 30
     */
    readonly snapshotPollSeconds?: number;
    /** The shortest pause between memory capture checks, growing likewise. @default 15 */
    readonly memoryPollSeconds?: number;
    /**
     * After a member instance's snapshots complete, copy them into the hub (re-encrypted with the hub's key) and
     * wait for the copies, polling every `snapshotPollSeconds`. Same-account instances never copy. Off, the
     * definition is exactly the one without this option. @default false
     */
    readonly copySnapshotsToHub?: boolean;
}

/** Names of the states the drill, the tests and the docs refer to. */
export const STATES = {
    start: "Start",
    triage: "Triage",
    warmOpenCase: "WarmOpenCase",
    warmOpenCaseSkipped: "WarmOpenCaseSkipped",
    warmContain: "WarmContain",
    warmContainSkipped: "WarmContainSkipped",
    actionable: "Actionable?",
    ignored: "Ignored",
    openCase: "OpenCase",
    newCase: "NewCase?",
    reassert: "Reassert",
    notifyRepeat: "NotifyRepeat",
    notifyRepeatFailed: "NotifyRepeatFailed",
    repeat: "Repeat",
    repeatFailed: "RepeatFailed",
    approvalNeeded: "ApprovalNeeded?",
    askApproval: "AskApproval",
    approvalTimedOut: "ApprovalTimedOut",
    approvalRejected: "ApprovalRejected",
    approvalDecision: "ApprovalDecision",
    notContained: "NotContained",
    contain: "Contain",
    evidence: "Evidence",
    startSnapshots: "StartSnapshots",
    snapshotsDone: "SnapshotsDone?",
    waitSnapshots: "WaitSnapshots",
    checkSnapshots: "CheckSnapshots",
    diskDone: "DiskDone",
    diskFailed: "DiskFailed",
    startHubCopy: "StartHubCopy",
    hubCopyDone: "HubCopyDone?",
    waitHubCopy: "WaitHubCopy",
    checkHubCopy: "CheckHubCopy",
    hubCopyFailed: "HubCopyFailed",
    startMemory: "StartMemory",
    memoryPending: "MemoryPending?",
    waitMemory: "WaitMemory",
    checkMemory: "CheckMemory",
    memoryDone: "MemoryDone",
    memoryFailed: "MemoryFailed",
    collectMetadata: "CollectMetadata",
    metadataFailed: "MetadataFailed",
    seal: "Seal",
    notify: "Notify",
    notifyUnsealed: "NotifyUnsealed",
    outcome: "Outcome?",
    done: "Done",
    failed: "CaseFailed",
    unsealed: "SealFailed",
    digestNeeded: "DigestNeeded?",
    digestPlan: "DigestPlan",
    digestChunks: "DigestChunks",
    digestChunk: "DigestChunk",
    digestChunkFailed: "DigestChunkFailed",
    digestRecord: "DigestRecord",
} as const;

/** Every Task state that invokes one of the project's functions, with the function it invokes. */
export const FUNCTION_TASKS: Record<string, keyof DefinitionTargets> = {
    [STATES.triage]: "triageFunctionArn",
    [STATES.openCase]: "caseFunctionArn",
    [STATES.reassert]: "containFunctionArn",
    [STATES.contain]: "containFunctionArn",
    [STATES.startSnapshots]: "snapshotFunctionArn",
    [STATES.checkSnapshots]: "snapshotFunctionArn",
    [STATES.startMemory]: "memoryFunctionArn",
    [STATES.checkMemory]: "memoryFunctionArn",
    [STATES.collectMetadata]: "metadataFunctionArn",
    [STATES.seal]: "sealFunctionArn",
};

/**
 * The Task states that start a function's execution environment while Triage decides (the Start Parallel's other
 * branches), with the function they invoke: OpenCase's and Contain's, the two functions on the way to the first
 * containment change. Their event is WARMUP_EVENT; the function answers it without any AWS call or side effect.
 * Not in FUNCTION_TASKS: they are never retried and their failure is nobody's concern (a cold start later).
 */
export const WARM_TASKS: Record<string, keyof DefinitionTargets> = {
    [STATES.warmOpenCase]: "caseFunctionArn",
    [STATES.warmContain]: "containFunctionArn",
};

/**
 * The Start Parallel's branches, each as the states it may enter (the bench prices the Parallel as its slowest
 * branch: scripts/lib/bench/latency.ts).
 */
export const START_BRANCHES: readonly (readonly string[])[] = [
    [STATES.triage],
    [STATES.warmOpenCase, STATES.warmOpenCaseSkipped],
    [STATES.warmContain, STATES.warmContainSkipped],
];

/**
 * How long a warm-up may hold the response up: the Start Parallel waits for every branch, so a warm-up slower than
 * Triage delays the first change by as much, up to this (States.Timeout, caught: the function may then start cold
 * for its real invocation; nothing counts on the timed-out invocation's environment).
 */
export const WARMUP_TIMEOUT_SECONDS = 2;

/** The Task states `copySnapshotsToHub` adds, with the function they invoke (not in FUNCTION_TASKS: absent by default). */
export const HUB_COPY_FUNCTION_TASKS: Record<string, keyof DefinitionTargets> = {
    [STATES.startHubCopy]: "snapshotFunctionArn",
    [STATES.checkHubCopy]: "snapshotFunctionArn",
};

/** The Task states the disk digests add (with `digestFunctionArn`), with the function they invoke. */
export const DIGEST_FUNCTION_TASKS: Record<string, keyof DefinitionTargets> = {
    [STATES.digestPlan]: "digestFunctionArn",
    [STATES.digestChunk]: "digestFunctionArn",
    [STATES.digestRecord]: "digestFunctionArn",
};

/**
 * Chunk digests running at once (the Distributed Map's MaxConcurrency). Each reads at most 8 blocks at a time
 * (functions/digest BLOCKS_IN_FLIGHT): 80 GetSnapshotBlock calls in flight at most, under the EBS direct APIs' 1,000
 * requests per second per snapshot at any latency above 80 ms and far under the 5,000 per account (the quotas as
 * docs/limitations.md records them); ListSnapshotBlocks: two pages per chunk.
 */
export const DIGEST_MAX_CONCURRENCY = 10;

/**
 * The disk content digests, after the case is sealed and notified (a long digest never delays containment, the
 * evidence or the seal): only when the disk branch completed (`$.evidence[0].done`). Plan (the snapshots' sizes and
 * the chunks), a Distributed Map over the chunks (one child execution each, STANDARD: an 8 GiB chunk may read for
 * longer than an EXPRESS child's five minutes; "Using Map state in Distributed mode", Step Functions developer guide),
 * then the record. Every failure is caught and recorded: a chunk that fails becomes its item's `{error}` (the Map
 * completes; ToleratedFailurePercentage 0 then concerns only the Map's own failures), a plan or Map that fails reaches
 * the record step as the error, and a record step that fails leaves `$.digestError`; the case's sealed status stands.
 */
function digestStates(t: DefinitionTargets & { digestFunctionArn: string }): Record<string, unknown> {
    const caseBase = { "caseId.$": "$.case.caseId", "target.$": "$.case.target" };
    return {
        [STATES.digestNeeded]: {
            Type: "Choice",
            Choices: [
                { Not: { Variable: "$.evidence[0].done", IsPresent: true }, Next: STATES.outcome },
                { Variable: "$.evidence[0].done", BooleanEquals: true, Next: STATES.digestPlan },
            ],
            Default: STATES.outcome,
        },
        [STATES.digestPlan]: fn(t.digestFunctionArn, { action: "plan", ...caseBase, "disk.$": "$.evidence[0]" }, "$.digestPlan", {
            Comment: "Each completed snapshot's size (ListSnapshotBlocks) and its 8 GiB chunks (core/diskDigest.ts)",
            Catch: catchAll(STATES.digestRecord, "$.digestPlan"),
            Next: STATES.digestChunks,
        }),
        [STATES.digestChunks]: {
            Type: "Map",
            Comment: "One child execution per chunk: ListSnapshotBlocks, GetSnapshotBlock per written block (checksum checked), the chunk digest",
            ItemsPath: "$.digestPlan.items",
            ItemSelector: { action: "chunk", ...caseBase, "snapshotId.$": "$$.Map.Item.Value.snapshotId", "chunk.$": "$$.Map.Item.Value.chunk", "blocks.$": "$$.Map.Item.Value.blocks" },
            ItemProcessor: {
                ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
                StartAt: STATES.digestChunk,
                States: {
                    [STATES.digestChunk]: fn(t.digestFunctionArn, undefined, "$", { Catch: catchAll(STATES.digestChunkFailed), End: true }),
                    [STATES.digestChunkFailed]: { Type: "Pass", Parameters: { "snapshotId.$": "$.snapshotId", "chunk.$": "$.chunk", "error.$": "$.error" }, End: true },
                },
            },
            MaxConcurrency: DIGEST_MAX_CONCURRENCY,
            ToleratedFailurePercentage: 0,
            // The results replace the items (the state stays under Step Functions' 256 KiB: core/diskDigest.ts MAX_CHUNKS).
            ResultPath: "$.digestPlan.items",
            Catch: catchAll(STATES.digestRecord, "$.digestPlan.error"),
            Next: STATES.digestRecord,
        },
        [STATES.digestRecord]: fn(t.digestFunctionArn, { action: "record", ...caseBase, "evidence.$": "$.case.evidence", "executionArn.$": "$$.Execution.Id", "plan.$": "$.digestPlan" }, "$.digest", {
            Comment: "The chunk digests combined per snapshot: the case's digest record, under Object Lock COMPLIANCE, recorded on the case",
            Catch: catchAll(STATES.outcome, "$.digestError"),
            Next: STATES.outcome,
        }),
    };
}

/**
 * The definition's poll loops: each check, the Wait state before it, and whose cap bounds it (the hub copy runs
 * under the snapshot cap). One table for the drill (which seconds to live through before a check), the
 * history-quota test (which loops to bound) and the benchmark (which waits are whose).
 */
export const POLL_LOOPS = [
    { check: STATES.checkSnapshots, wait: STATES.waitSnapshots, cap: "snapshot" },
    { check: STATES.checkHubCopy, wait: STATES.waitHubCopy, cap: "snapshot" },
    { check: STATES.checkMemory, wait: STATES.waitMemory, cap: "memory" },
] as const;

/** The Task states that publish to SNS (the drill routes them to the simulated topic). */
export const PUBLISH_TASKS = [
    STATES.notifyRepeat, STATES.notifyRepeatFailed, STATES.askApproval, STATES.notify, STATES.notifyUnsealed,
] as const;

/**
 * The errors Step Functions reports for a Lambda function stopped by its timeout: Lambda's own `Sandbox.Timedout`,
 * and `Lambda.Unknown` ("Unhandled errors in Lambda are reported as Lambda.Unknown in the error output. These
 * include out-of-memory errors and function timeouts": Step Functions developer guide, "Handle transient Lambda
 * service exceptions"). `States.Timeout` is the Task's own TimeoutSeconds, which the Lambda Tasks here do not set.
 */
export const LAMBDA_TIMEOUTS = ["Sandbox.Timedout", "Lambda.Unknown"] as const;
export type LambdaTimeoutError = (typeof LAMBDA_TIMEOUTS)[number];

/**
 * Retried with backoff and full jitter: Lambda service faults (the function did not run or did not finish) and
 * AWS throttling/transient errors a handler let through. A handler's own errors (InstanceNotFoundError,
 * PartialContainmentError, SnapshotFailedError...) are final: retrying cannot change them.
 */
const RETRY_TRANSIENT = [{
    ErrorEquals: [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        ...TRANSIENT_ERRORS,
    ],
    IntervalSeconds: 1,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: "FULL",
}, {
    // A function killed by its timeout (`Sandbox.Timedout` or `Lambda.Unknown`, which also covers running out of
    // memory) stopped wherever it was; every step is idempotent (adopts what an earlier attempt did), so it resumes.
    // Twice more at most: a step that keeps dying is caught and recorded like any failure.
    ErrorEquals: [...LAMBDA_TIMEOUTS],
    IntervalSeconds: 2,
    MaxAttempts: 2,
    BackoffRate: 2,
}];

const RETRY_PUBLISH = [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: "FULL" }];

/**
 * A Lambda Task. `resultPath` "$" (the result replaces the input) is written by leaving ResultPath out, its
 * default: the same meaning in Step Functions, and the drill's interpreter (aws-local-stepfunctions 3.0) mishandles
 * an explicit "$" (it stores the result under a key named "$" and passes the input on), which once dropped the
 * metadata objects from every sealed manifest.
 */
const fn = (arn: string, parameters: Record<string, unknown> | undefined, resultPath: string, extra: Record<string, unknown>) => ({
    Type: "Task",
    Resource: arn,
    ...(parameters ? { Parameters: parameters } : {}),
    ...(resultPath === "$" ? {} : { ResultPath: resultPath }),
    Retry: RETRY_TRANSIENT,
    ...extra,
});

const catchAll = (next: string, resultPath = "$.error") => [{ ErrorEquals: ["States.ALL"], ResultPath: resultPath, Next: next }];

/** What every evidence branch receives (the Parallel state's Parameters). */
const BRANCH_INPUT = {
    "caseId.$": "$.case.caseId",
    "target.$": "$.case.target",
    "instance.$": "$.case.instance",
    "evidence.$": "$.case.evidence",
};

const branchBase = { "caseId.$": "$.caseId", "target.$": "$.target", "instance.$": "$.instance", "evidence.$": "$.evidence" };

/**
 * The copy of a member's completed snapshots into the hub (`copySnapshotsToHub`): start, then the same wait/check
 * loop as the snapshots, capped by the same deadline logic. A failed or timed-out copy is caught INTO the disk
 * result (`$.disk.copyError`): the member snapshots already recorded stay the disk evidence, and sealing records
 * the copy's failure as a gap of its own.
 */
function hubCopyStates(t: DefinitionTargets, pollSeconds: number): Record<string, unknown> {
    const caught = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.disk.copyError", Next: STATES.hubCopyFailed }];
    return {
        [STATES.startHubCopy]: fn(t.snapshotFunctionArn, { action: "copy-start", ...branchBase, "disk.$": "$.disk", pollSeconds }, "$.disk", {
            Comment: "Member: CopySnapshot under the share key, shared with the hub; hub: CopySnapshot under the evidence key",
            Catch: caught, Next: STATES.hubCopyDone,
        }),
        [STATES.hubCopyDone]: {
            Type: "Choice",
            Choices: [{ Variable: "$.disk.copy.done", BooleanEquals: true, Next: STATES.diskDone }],
            Default: STATES.waitHubCopy,
        },
        [STATES.waitHubCopy]: { Type: "Wait", SecondsPath: "$.disk.copy.nextPollSeconds", Next: STATES.checkHubCopy },
        [STATES.checkHubCopy]: fn(t.snapshotFunctionArn, { action: "copy-check", ...branchBase, "disk.$": "$.disk", pollSeconds }, "$.disk", {
            Catch: caught, Next: STATES.hubCopyDone,
        }),
        [STATES.hubCopyFailed]: { Type: "Pass", OutputPath: "$.disk", End: true },
    };
}

/**
 * The shortest pause between checks of the snapshots (and the hub copies) and of the memory capture, unless settings
 * say. Each Task passes it to its function as `pollSeconds`; the function returns the pause before its next check
 * as `nextPollSeconds` (core/polling.ts), which the Wait state reads (`SecondsPath`).
 */
export const DEFAULT_POLL_SECONDS = { snapshot: 30, memory: 15 } as const;

/**
 * A warm-up branch: the function invoked with WARMUP_EVENT (it answers at once: its execution environment is then
 * started and idle, and Lambda reuses an idle environment for the function's next invocation: Lambda Developer
 * Guide, "Understanding the Lambda execution environment lifecycle", Cold starts and latency). Not retried; any
 * failure or a timeout ends the branch quietly.
 */
function warmup(state: string, skipped: string, arn: string): Record<string, unknown> {
    return {
        StartAt: state,
        States: {
            [state]: {
                Type: "Task",
                Resource: arn,
                Parameters: WARMUP_EVENT,
                ResultPath: null,
                TimeoutSeconds: WARMUP_TIMEOUT_SECONDS,
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: skipped }],
                End: true,
            },
            [skipped]: { Type: "Pass", Comment: "The warm-up failed: the function may start cold later", End: true },
        },
    };
}

/** Build the state machine definition (an ASL object; the component serialises it). */
export function buildDefinition(t: DefinitionTargets, settings: WorkflowSettings = {}): Record<string, unknown> {
    const approvalTimeoutSeconds = settings.approvalTimeoutSeconds ?? 3600;
    const approvalDefault = settings.approvalDefault ?? "contain";
    const snapshotPollSeconds = settings.snapshotPollSeconds ?? DEFAULT_POLL_SECONDS.snapshot;
    const memoryPollSeconds = settings.memoryPollSeconds ?? DEFAULT_POLL_SECONDS.memory;
    for (const [name, value] of Object.entries({ approvalTimeoutSeconds, snapshotPollSeconds, memoryPollSeconds })) {
        if (!Number.isInteger(value) || value < 1) throw new Error(`workflow setting ${name} must be a whole number of seconds >= 1, got ${value}`);
    }
    if (approvalDefault !== "contain" && approvalDefault !== "skip") {
        throw new Error(`workflow setting approvalDefault must be "contain" or "skip", got ${String(approvalDefault)}`);
    }
    const copySnapshotsToHub = settings.copySnapshotsToHub ?? false;
    if (typeof copySnapshotsToHub !== "boolean") throw new Error(`workflow setting copySnapshotsToHub must be true or false, got ${String(copySnapshotsToHub)}`);

    const snapshotsComplete = { Variable: "$.disk.done", BooleanEquals: true };
    const disk = {
        StartAt: STATES.startSnapshots,
        States: {
            [STATES.startSnapshots]: fn(t.snapshotFunctionArn, { action: "start", ...branchBase, pollSeconds: snapshotPollSeconds }, "$.disk", {
                Catch: catchAll(STATES.diskFailed), Next: STATES.snapshotsDone,
            }),
            [STATES.snapshotsDone]: {
                Type: "Choice",
                Choices: copySnapshotsToHub
                    ? [
                        // A member's instance (the target names the role to assume there): copy into the hub.
                        { And: [snapshotsComplete, { Variable: "$.target.roleArn", IsPresent: true }], Next: STATES.startHubCopy },
                        { ...snapshotsComplete, Next: STATES.diskDone },
                    ]
                    : [{ ...snapshotsComplete, Next: STATES.diskDone }],
                Default: STATES.waitSnapshots,
            },
            [STATES.waitSnapshots]: { Type: "Wait", SecondsPath: "$.disk.nextPollSeconds", Next: STATES.checkSnapshots },
            [STATES.checkSnapshots]: fn(t.snapshotFunctionArn, { action: "check", ...branchBase, "disk.$": "$.disk", pollSeconds: snapshotPollSeconds }, "$.disk", {
                Catch: catchAll(STATES.diskFailed), Next: STATES.snapshotsDone,
            }),
            ...(copySnapshotsToHub ? hubCopyStates(t, snapshotPollSeconds) : {}),
            [STATES.diskDone]: { Type: "Pass", OutputPath: "$.disk", End: true },
            [STATES.diskFailed]: { Type: "Pass", Parameters: { "error.$": "$.error" }, End: true },
        },
    };
    const memory = {
        StartAt: STATES.startMemory,
        States: {
            [STATES.startMemory]: fn(t.memoryFunctionArn, { action: "start", ...branchBase, pollSeconds: memoryPollSeconds }, "$.memory", {
                Catch: catchAll(STATES.memoryFailed), Next: STATES.memoryPending,
            }),
            [STATES.memoryPending]: {
                Type: "Choice",
                Choices: [{ Variable: "$.memory.status", StringEquals: "started", Next: STATES.waitMemory }],
                Default: STATES.memoryDone,
            },
            [STATES.waitMemory]: { Type: "Wait", SecondsPath: "$.memory.nextPollSeconds", Next: STATES.checkMemory },
            [STATES.checkMemory]: fn(t.memoryFunctionArn, { action: "check", ...branchBase, "memory.$": "$.memory", pollSeconds: memoryPollSeconds }, "$.memory", {
                Catch: catchAll(STATES.memoryFailed), Next: STATES.memoryPending,
            }),
            [STATES.memoryDone]: { Type: "Pass", OutputPath: "$.memory", End: true },
            [STATES.memoryFailed]: { Type: "Pass", Parameters: { "error.$": "$.error" }, End: true },
        },
    };
    const metadata = {
        StartAt: STATES.collectMetadata,
        States: {
            [STATES.collectMetadata]: fn(t.metadataFunctionArn, branchBase, "$", { Catch: catchAll(STATES.metadataFailed), End: true }),
            [STATES.metadataFailed]: { Type: "Pass", Parameters: { "error.$": "$.error" }, End: true },
        },
    };

    // SNS subjects are at most 100 characters; a case id (32 at most) names the instance already (test-checked).
    const subject = (what: string) =>
        `States.Format('dfir: ${what}, case {}', $.triage.verdict.caseId)`;

    return {
        Comment: "aws-dfir response: triage (while OpenCase and Contain warm up), open case, [approval], contain, evidence (disk | memory | metadata), seal, notify, then the disk content digests (with a digest function)",
        StartAt: STATES.start,
        States: {
            [STATES.start]: {
                Type: "Parallel",
                Comment: "Triage decides while OpenCase's and Contain's execution environments start (warm-ups: no AWS call, no side effect): "
                    + "a finding to contain then meets both functions warm. The Parallel ends with its slowest branch; a warm-up that fails or "
                    + `takes over ${WARMUP_TIMEOUT_SECONDS} s is given up (a cold start later), a failed Triage fails the execution as before`,
                Branches: [
                    {
                        StartAt: STATES.triage,
                        States: {
                            [STATES.triage]: fn(t.triageFunctionArn, undefined, "$", {
                                Comment: "The same triage as `npm run triage`: samples, non-instance findings and bad ids end here",
                                End: true,
                            }),
                        },
                    },
                    warmup(STATES.warmOpenCase, STATES.warmOpenCaseSkipped, t.caseFunctionArn),
                    warmup(STATES.warmContain, STATES.warmContainSkipped, t.containFunctionArn),
                ],
                ResultSelector: { "verdict.$": "$[0]" },
                ResultPath: "$.triage",
                Next: STATES.actionable,
            },
            [STATES.actionable]: {
                Type: "Choice",
                Choices: [{ Variable: "$.triage.verdict.decision", StringEquals: "respond", Next: STATES.openCase }],
                Default: STATES.ignored,
            },
            [STATES.ignored]: { Type: "Succeed", Comment: "Not actionable: no side effect" },

            [STATES.openCase]: fn(t.caseFunctionArn, { "verdict.$": "$.triage.verdict", "executionArn.$": "$$.Execution.Id" }, "$.case", {
                Comment: "One open case per instance (conditional write); records the instance as found, for release",
                Catch: catchAll(STATES.seal, "$.caseError"),
                Next: STATES.newCase,
            }),
            [STATES.newCase]: {
                Type: "Choice",
                Choices: [{ Variable: "$.case.isNew", BooleanEquals: false, Next: STATES.reassert }],
                Default: STATES.approvalNeeded,
            },

            // A repeat delivery: the finding joined the open case; containment is re-asserted, no new evidence.
            [STATES.reassert]: fn(t.containFunctionArn, { "case.$": "$.case" }, "$.containment", {
                Catch: catchAll(STATES.notifyRepeatFailed, "$.containError"),
                Next: STATES.notifyRepeat,
            }),
            [STATES.notifyRepeat]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": subject("repeat finding, containment re-asserted"),
                    "Message.$": "States.JsonToString($.containment)",
                },
                ResultPath: null,
                Retry: RETRY_PUBLISH,
                Next: STATES.repeat,
            },
            [STATES.repeat]: { Type: "Succeed", Comment: "Finding added to the open case" },
            [STATES.notifyRepeatFailed]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": subject("re-asserting containment FAILED"),
                    "Message.$": "States.JsonToString($.containError)",
                },
                ResultPath: null,
                Retry: RETRY_PUBLISH,
                Next: STATES.repeatFailed,
            },
            [STATES.repeatFailed]: { Type: "Fail", Error: "ReassertFailed", Cause: "Re-asserting containment of an open case failed; see the notification" },

            [STATES.approvalNeeded]: {
                Type: "Choice",
                Choices: [{ Variable: "$.case.approvalRequired", BooleanEquals: true, Next: STATES.askApproval }],
                Default: STATES.contain,
            },
            [STATES.askApproval]: {
                Type: "Task",
                Comment: "Instance tagged dfir:approval=required: a human answers with SendTaskSuccess {\"approved\": true|false}",
                Resource: "arn:aws:states:::sns:publish.waitForTaskToken",
                Parameters: {
                    TopicArn: t.approvalTopicArn,
                    "Subject.$": subject("approval needed to contain"),
                    Message: {
                        "taskToken.$": "$$.Task.Token",
                        "caseId.$": "$.case.caseId",
                        "target.$": "$.case.target",
                        "finding.$": "$.triage.verdict",
                        approve: "aws stepfunctions send-task-success --task-token <taskToken> --task-output '{\"approved\":true}'",
                        reject: "aws stepfunctions send-task-success --task-token <taskToken> --task-output '{\"approved\":false}'",
                        onTimeout: approvalDefault,
                    },
                },
                TimeoutSeconds: approvalTimeoutSeconds,
                ResultPath: "$.approval",
                Catch: [
                    { ErrorEquals: ["States.Timeout"], ResultPath: "$.approvalError", Next: STATES.approvalTimedOut },
                    { ErrorEquals: ["States.ALL"], ResultPath: "$.approvalError", Next: STATES.approvalRejected },
                ],
                Next: STATES.approvalDecision,
            },
            [STATES.approvalTimedOut]: {
                Type: "Pass",
                Comment: `Nobody answered within ${approvalTimeoutSeconds} s: the configured default applies`,
                Result: { approved: approvalDefault === "contain", by: "timeout-default" },
                ResultPath: "$.approval",
                Next: STATES.approvalDecision,
            },
            [STATES.approvalRejected]: {
                Type: "Pass",
                Comment: "SendTaskFailure counts as a refusal",
                Result: { approved: false, by: "task-failure" },
                ResultPath: "$.approval",
                Next: STATES.approvalDecision,
            },
            [STATES.approvalDecision]: {
                Type: "Choice",
                Choices: [{ Variable: "$.approval.approved", BooleanEquals: true, Next: STATES.contain }],
                Default: STATES.notContained,
            },
            [STATES.notContained]: {
                Type: "Pass",
                Comment: "Approval refused or timed out with default skip: evidence only",
                Parameters: {
                    "caseId.$": "$.case.caseId",
                    "instanceId.$": "$.case.instance.instanceId",
                    status: "skipped",
                    "reason.$": "States.Format('containment not approved ({})', $.approval.by)",
                    actions: [],
                },
                ResultPath: "$.containment",
                Next: STATES.evidence,
            },

            [STATES.contain]: fn(t.containFunctionArn, { "case.$": "$.case" }, "$.containment", {
                Comment: "First side effect: every ENI untracked then isolated in parallel; protections, ASG/ELB, credentials",
                Catch: catchAll(STATES.evidence, "$.containError"),
                Next: STATES.evidence,
            }),

            [STATES.evidence]: {
                Type: "Parallel",
                Comment: "Wall time = the slowest branch. A failed branch leaves {error}; sealing records it",
                Parameters: BRANCH_INPUT,
                Branches: [disk, memory, metadata],
                ResultPath: "$.evidence",
                Catch: catchAll(STATES.seal, "$.evidenceError"),
                Next: STATES.seal,
            },

            [STATES.seal]: fn(t.sealFunctionArn, { "state.$": "$", "executionArn.$": "$$.Execution.Id", "sealedAt.$": "$$.State.EnteredTime" }, "$.seal", {
                Comment: "Manifest of everything done and captured, written under Object Lock COMPLIANCE with its sha256",
                Catch: catchAll(STATES.notifyUnsealed, "$.sealError"),
                Next: STATES.notify,
            }),
            [STATES.notify]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": "States.Format('dfir: case {} {}', $.seal.caseId, $.seal.status)",
                    "Message.$": "States.JsonToString($.seal)",
                },
                ResultPath: null,
                Retry: RETRY_PUBLISH,
                Next: t.digestFunctionArn ? STATES.digestNeeded : STATES.outcome,
            },
            ...(t.digestFunctionArn ? digestStates({ ...t, digestFunctionArn: t.digestFunctionArn }) : {}),
            [STATES.outcome]: {
                Type: "Choice",
                Choices: [{ Variable: "$.seal.status", StringEquals: "FAILED", Next: STATES.failed }],
                Default: STATES.done,
            },
            [STATES.done]: { Type: "Succeed", Comment: "SUCCEEDED or PARTIAL, sealed and notified" },
            [STATES.failed]: { Type: "Fail", Error: "CaseFailed", Cause: "The case is sealed FAILED; see the manifest and the notification" },
            [STATES.notifyUnsealed]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": subject("case could NOT be sealed"),
                    "Message.$": "States.JsonToString($)",
                },
                ResultPath: null,
                Retry: RETRY_PUBLISH,
                Next: STATES.unsealed,
            },
            [STATES.unsealed]: { Type: "Fail", Error: "SealFailed", Cause: "The manifest could not be written; the whole execution state was published" },
        },
    };
}
