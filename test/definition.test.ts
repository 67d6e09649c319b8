import { strict as assert } from "node:assert";
import { buildDefinition, FUNCTION_TASKS, HUB_COPY_FUNCTION_TASKS, PUBLISH_TASKS, START_BRANCHES, STATES, WARM_TASKS, WARMUP_TIMEOUT_SECONDS, type DefinitionTargets } from "../core/definition";
import { TRANSIENT_ERRORS, WARMUP_EVENT } from "../core/workflow";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (d: unknown, o?: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

const arn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:dfir-${name}`;
const TARGETS: DefinitionTargets = {
    triageFunctionArn: arn("triage"),
    caseFunctionArn: arn("case"),
    containFunctionArn: arn("contain"),
    snapshotFunctionArn: arn("snapshot"),
    memoryFunctionArn: arn("memory"),
    metadataFunctionArn: arn("metadata"),
    sealFunctionArn: arn("seal"),
    topicArn: "arn:aws:sns:us-east-1:123456789012:dfir-notifications",
    approvalTopicArn: "arn:aws:sns:us-east-1:123456789012:dfir-approvals",
};

type State = Record<string, any>;

/** Every state of the definition, branches included, by name. */
function allStates(def: Record<string, any>): Record<string, State> {
    const out: Record<string, State> = {};
    const walk = (states: Record<string, State>) => {
        for (const [name, state] of Object.entries(states)) {
            out[name] = state;
            for (const branch of state.Branches ?? []) walk(branch.States);
        }
    };
    walk(def.States);
    return out;
}

describe("state machine definition", () => {
    it("is valid Amazon States Language (asl-validator)", () => {
        const result = aslValidator(buildDefinition(TARGETS));
        assert.ok(result.isValid, result.errorsText("\n"));
    });

    it("wires every function task to its function and every publish task to a topic", () => {
        const states = allStates(buildDefinition(TARGETS));

        for (const [name, target] of Object.entries(FUNCTION_TASKS)) assert.equal(states[name].Resource, TARGETS[target], name);
        for (const name of PUBLISH_TASKS) assert.match(states[name].Resource, /^arn:aws:states:::sns:publish/, name);
        const tasks = Object.entries(states).filter(([, s]) => s.Type === "Task").map(([n]) => n).sort();
        assert.deepEqual(tasks, [...Object.keys(FUNCTION_TASKS), ...Object.keys(WARM_TASKS), ...PUBLISH_TASKS].sort());
        for (const [name, target] of Object.entries(WARM_TASKS)) assert.equal(states[name].Resource, TARGETS[target], name);
    });

    it("starts with Triage beside warm-ups of OpenCase and Contain: never retried, any failure or 2 s given up, the verdict from Triage's branch", () => {
        const def = buildDefinition(TARGETS);
        assert.equal(def.StartAt, STATES.start);
        const start = (def.States as Record<string, State>)[STATES.start];
        assert.equal(start.Type, "Parallel");
        assert.deepEqual(start.ResultSelector, { "verdict.$": "$[0]" });
        assert.equal(start.ResultPath, "$.triage");
        assert.equal(start.Next, STATES.actionable);
        assert.equal(start.Catch, undefined, "a failed Triage fails the execution (no case is open yet)");
        assert.deepEqual(start.Branches.map((b: State) => Object.keys(b.States)), START_BRANCHES);
        const triage = start.Branches[0].States[STATES.triage];
        assert.ok(triage.Retry.length > 0 && triage.End === true && triage.ResultPath === undefined);
        for (const [i, name] of [STATES.warmOpenCase, STATES.warmContain].entries()) {
            const branch = start.Branches[i + 1];
            const task = branch.States[name];
            assert.deepEqual(task.Parameters, WARMUP_EVENT);
            assert.equal(task.Retry, undefined, `${name} is not retried`);
            assert.equal(task.TimeoutSeconds, WARMUP_TIMEOUT_SECONDS);
            assert.equal(task.ResultPath, null);
            assert.deepEqual(task.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: START_BRANCHES[i + 1][1] }]);
            assert.deepEqual(branch.States[START_BRANCHES[i + 1][1]].End, true);
        }
    });

    it("retries throttling and transient faults with backoff and full jitter on every function task", () => {
        const states = allStates(buildDefinition(TARGETS));

        for (const name of Object.keys(FUNCTION_TASKS)) {
            const retry = states[name].Retry[0];
            for (const error of ["ThrottlingException", "RequestLimitExceeded", "Lambda.TooManyRequestsException"]) {
                assert.ok(retry.ErrorEquals.includes(error), `${name} retries ${error}`);
            }
            assert.equal(retry.JitterStrategy, "FULL");
            assert.ok(retry.BackoffRate > 1);
            assert.ok(!retry.ErrorEquals.includes("States.ALL"), `${name} must not retry its own final errors`);
        }
        assert.ok(TRANSIENT_ERRORS.length > 0);
    });

    it("catches every task except triage, so an opened case always reaches sealing or a notified failure", () => {
        const states = allStates(buildDefinition(TARGETS));

        const uncaught = Object.entries(states)
            .filter(([, s]) => s.Type === "Task" && !s.Catch)
            .map(([n]) => n)
            .sort();
        // Triage has no side effect (a failure there fails the execution, alarmed); notifications retry 5 times.
        assert.deepEqual(uncaught, [STATES.triage, STATES.notify, STATES.notifyRepeat, STATES.notifyRepeatFailed, STATES.notifyUnsealed].sort());
        assert.equal(states[STATES.openCase].Catch[0].Next, STATES.seal);
        assert.equal(states[STATES.contain].Catch[0].Next, STATES.evidence, "evidence is still taken when containment fails");
        assert.equal(states[STATES.evidence].Catch[0].Next, STATES.seal);
        assert.equal(states[STATES.seal].Catch[0].Next, STATES.notifyUnsealed);
    });

    it("runs disk, memory and metadata evidence as parallel branches that never fail the Parallel state", () => {
        const evidence = buildDefinition(TARGETS).States as Record<string, State>;
        const parallel = evidence[STATES.evidence];

        assert.equal(parallel.Type, "Parallel");
        assert.deepEqual(parallel.Branches.map((b: State) => b.StartAt), [STATES.startSnapshots, STATES.startMemory, STATES.collectMetadata]);
        for (const branch of parallel.Branches) {
            for (const [name, state] of Object.entries(branch.States as Record<string, State>)) {
                if (state.Type === "Task") assert.ok(state.Catch?.[0]?.ErrorEquals.includes("States.ALL"), `${name} is caught inside its branch`);
            }
        }
    });

    it("waits for a human with a task token when approval is required, with the configured timeout and default", () => {
        const states = allStates(buildDefinition(TARGETS, { approvalTimeoutSeconds: 900, approvalDefault: "skip" }));

        const ask = states[STATES.askApproval];
        assert.equal(ask.Resource, "arn:aws:states:::sns:publish.waitForTaskToken");
        assert.equal(ask.Parameters.Message["taskToken.$"], "$$.Task.Token");
        assert.equal(ask.Parameters.TopicArn, TARGETS.approvalTopicArn);
        assert.equal(ask.TimeoutSeconds, 900);
        assert.equal(ask.Catch[0].ErrorEquals[0], "States.Timeout");
        assert.deepEqual(states[STATES.approvalTimedOut].Result, { approved: false, by: "timeout-default" });
        const contain = allStates(buildDefinition(TARGETS)) [STATES.approvalTimedOut];
        assert.deepEqual(contain.Result, { approved: true, by: "timeout-default" }, "default is to contain");
    });

    it("routes a repeat delivery to re-assert containment and take no new evidence", () => {
        const states = allStates(buildDefinition(TARGETS));

        assert.deepEqual(states[STATES.newCase].Choices[0], { Variable: "$.case.isNew", BooleanEquals: false, Next: STATES.reassert });
        const reachable = new Set<string>();
        const visit = (name: string) => {
            if (reachable.has(name)) return;
            reachable.add(name);
            const s = states[name];
            for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c: State) => c.Next), ...(s.Catch ?? []).map((c: State) => c.Next)]) {
                if (next) visit(next);
            }
        };
        visit(STATES.reassert);
        assert.ok(!reachable.has(STATES.evidence) && !reachable.has(STATES.seal), [...reachable].join(","));
    });

    it("keeps every notification subject within SNS's 100 characters for the longest ids", () => {
        const states = allStates(buildDefinition(TARGETS));
        const longest = ["i-0123456789abcdef0-0123456789ab", "i-0123456789abcdef0", "SUCCEEDED"];

        const formats = Object.values(states).map((s) => s.Parameters?.["Subject.$"]).filter((f): f is string => typeof f === "string");

        assert.ok(formats.length >= 5);
        for (const f of formats) {
            const template = /^States\.Format\('([^']*)'/.exec(f)?.[1] ?? "";
            const worst = template.replace(/\{\}/g, longest[0]);
            assert.ok(worst.length <= 100, `${worst.length}: ${worst}`);
        }
    });

    describe("copySnapshotsToHub", () => {
        const COPY_STATES = [STATES.startHubCopy, STATES.hubCopyDone, STATES.waitHubCopy, STATES.checkHubCopy, STATES.hubCopyFailed];
        const diskOf = (def: Record<string, any>) => def.States[STATES.evidence].Branches[0].States as Record<string, State>;

        it("off (the default, or false) builds exactly the definition without the option: no copy state, same JSON", () => {
            const plain = buildDefinition(TARGETS);
            assert.equal(JSON.stringify(buildDefinition(TARGETS, { copySnapshotsToHub: false })), JSON.stringify(plain));
            assert.equal(JSON.stringify(buildDefinition(TARGETS, { snapshotPollSeconds: 30, copySnapshotsToHub: false })), JSON.stringify(plain));
            const names = Object.keys(allStates(plain));
            for (const name of COPY_STATES) assert.ok(!names.includes(name), name);
            assert.deepEqual(Object.keys(diskOf(plain)), [STATES.startSnapshots, STATES.snapshotsDone, STATES.waitSnapshots, STATES.checkSnapshots, STATES.diskDone, STATES.diskFailed]);
            assert.deepEqual(diskOf(plain)[STATES.snapshotsDone].Choices, [{ Variable: "$.disk.done", BooleanEquals: true, Next: STATES.diskDone }]);
        });

        it("on, adds only the copy loop to the disk branch: everything else is the same definition", () => {
            const on = buildDefinition(TARGETS, { copySnapshotsToHub: true });
            const stripped = structuredClone(on) as Record<string, any>;
            const disk = diskOf(stripped);
            for (const name of COPY_STATES) delete disk[name];
            disk[STATES.snapshotsDone].Choices = disk[STATES.snapshotsDone].Choices.slice(1);
            const branch = stripped.States[STATES.evidence].Branches[0];
            branch.States = Object.fromEntries(Object.keys(diskOf(buildDefinition(TARGETS))).map((k) => [k, disk[k]]));
            assert.equal(JSON.stringify(stripped), JSON.stringify(buildDefinition(TARGETS)));
        });

        it("on, is valid ASL and copies a member's instance (the target has a role) only once every snapshot completed", () => {
            const def = buildDefinition(TARGETS, { copySnapshotsToHub: true, snapshotPollSeconds: 45 });
            const result = aslValidator(structuredClone(def)); // the validator writes defaults into what it checks
            assert.ok(result.isValid, result.errorsText("\n"));
            const disk = diskOf(def);
            assert.deepEqual(disk[STATES.snapshotsDone].Choices, [
                { And: [{ Variable: "$.disk.done", BooleanEquals: true }, { Variable: "$.target.roleArn", IsPresent: true }], Next: STATES.startHubCopy },
                { Variable: "$.disk.done", BooleanEquals: true, Next: STATES.diskDone },
            ]);
            assert.equal(disk[STATES.snapshotsDone].Default, STATES.waitSnapshots);
            const start = disk[STATES.startHubCopy];
            const check = disk[STATES.checkHubCopy];
            assert.equal(start.Resource, TARGETS.snapshotFunctionArn);
            assert.equal(check.Resource, TARGETS.snapshotFunctionArn);
            assert.equal(start.Parameters.action, "copy-start");
            assert.equal(check.Parameters.action, "copy-check");
            for (const task of [start, check]) {
                assert.equal(task.Parameters["disk.$"], "$.disk");
                assert.equal(task.Parameters["target.$"], "$.target");
                assert.equal(task.ResultPath, "$.disk");
                assert.equal(task.Next, STATES.hubCopyDone);
                assert.equal(task.Retry[0].JitterStrategy, "FULL");
                // A failed copy lands INSIDE the disk result: the member snapshots recorded there are kept.
                assert.deepEqual(task.Catch, [{ ErrorEquals: ["States.ALL"], ResultPath: "$.disk.copyError", Next: STATES.hubCopyFailed }]);
            }
            assert.deepEqual(disk[STATES.hubCopyDone], { Type: "Choice", Choices: [{ Variable: "$.disk.copy.done", BooleanEquals: true, Next: STATES.diskDone }], Default: STATES.waitHubCopy });
            // The pause is the copy step's own (core/polling.ts), from the base the Tasks pass.
            assert.deepEqual(disk[STATES.waitHubCopy], { Type: "Wait", SecondsPath: "$.disk.copy.nextPollSeconds", Next: STATES.checkHubCopy });
            assert.equal(start.Parameters.pollSeconds, 45);
            assert.equal(check.Parameters.pollSeconds, 45);
            assert.deepEqual(disk[STATES.hubCopyFailed], { Type: "Pass", OutputPath: "$.disk", End: true });
            const tasks = Object.entries(allStates(def)).filter(([, st]) => st.Type === "Task").map(([n]) => n).sort();
            assert.deepEqual(tasks, [...Object.keys(FUNCTION_TASKS), ...Object.keys(WARM_TASKS), ...Object.keys(HUB_COPY_FUNCTION_TASKS), ...PUBLISH_TASKS].sort());
        });

        it("refuses a flag that is not a boolean", () => {
            assert.throws(() => buildDefinition(TARGETS, { copySnapshotsToHub: "yes" as never }), /copySnapshotsToHub must be true or false/);
        });
    });

    it("rejects settings that cannot be deployed, naming them", () => {
        assert.throws(() => buildDefinition(TARGETS, { snapshotPollSeconds: 0 }), /snapshotPollSeconds/);
        assert.throws(() => buildDefinition(TARGETS, { approvalTimeoutSeconds: 1.5 }), /approvalTimeoutSeconds/);
        assert.throws(() => buildDefinition(TARGETS, { approvalDefault: "maybe" as never }), /approvalDefault/);
    });
});
