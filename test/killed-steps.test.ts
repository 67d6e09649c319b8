import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { FUNCTION_TASKS, LAMBDA_TIMEOUTS, START_BRANCHES, STATES } from "../core/definition";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import type { SimulatedAccount } from "../drill/sim";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

/**
 * A run killed mid-way (issue: hardening): each step's Lambda timing out after 0..N of its AWS calls. The step is
 * retried and resumes (every step adopts what an earlier attempt did), or, when it keeps timing out, the case ends
 * recorded: sealed, with the timeout named. Never an instance half-isolated without a sealed record.
 */
const FINDING = DEFAULT_FINDING;

async function killed(kill: NonNullable<DrillOptions["kill"]>, extra: Partial<DrillOptions> = {}) {
    const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")), interfaces: 3, kill, ...extra } as DrillOptions;
    const sim = seedAccount(options);
    const report = await runDrill({ ...options, sim });
    return { report, sim };
}

/** Interfaces in the isolation group, of all the instance's interfaces. */
function isolation(sim: SimulatedAccount): { isolated: number; total: number } {
    const instance = sim.instance();
    const group = sim.deployment.isolationGroups[instance.vpcId];
    const enis = instance.networkInterfaces.filter((n) => n.exists);
    return { isolated: enis.filter((n) => n.groupIds.length === 1 && n.groupIds[0] === group).length, total: enis.length };
}

describe("a step killed by its Lambda timeout", function () {
    this.timeout(300_000);
    // Every Lambda step but three: Reassert is the Contain function again (for a case that is not new; killed here as
    // Contain), and the two checks only read what StartSnapshots and StartMemory began (a retry reads again).
    const steps = Object.keys(FUNCTION_TASKS).filter((s) => s !== STATES.reassert && s !== STATES.checkSnapshots && s !== STATES.checkMemory);

    for (const state of steps) {
        it(`${state}: killed once after 0, 1, 3 and 6 calls (as Sandbox.Timedout and as Lambda.Unknown), it resumes: contained, evidenced and sealed as if nothing happened`, async () => {
            for (const [i, afterCalls] of [0, 1, 3, 6].entries()) {
                // Step Functions may report a timed-out function either way: alternate, so each step meets both.
                const error = LAMBDA_TIMEOUTS[i % LAMBDA_TIMEOUTS.length];
                const { report, sim } = await killed({ state, afterCalls, error });
                assert.equal(report.status, "SUCCEEDED", `${state} after ${afterCalls} (${error}): ${report.status} ${report.reason}`);
                assert.deepEqual(isolation(sim), { isolated: 3, total: 3 }, `${state} after ${afterCalls}`);
                assert.ok(report.evidence.manifest, "sealed");
                assert.equal(sim.calls.filter((c) => c.ok && c.action === "ec2:CreateSnapshots").length, 1, "one snapshot set");
                // One memory capture: a Memory step killed after its SendCommand adopts the command on the retry.
                assert.equal(sim.calls.filter((c) => c.ok && c.action === "ssm:SendCommand").length, 1, `${state} after ${afterCalls}: one capture command`);
                assert.equal(sim.commands().length, 1, `${state} after ${afterCalls}: one capture ran on the instance`);
                const killedCalls = sim.calls.filter((c) => !c.ok && c.errorName === "DrillKilled").length;
                // Killed before its first call, a step that calls AWS had that call refused (Triage makes none).
                if (afterCalls === 0 && state !== STATES.triage) assert.ok(killedCalls > 0, `${state}: the kill cut no call`);
            }
        });
    }

    for (const state of [STATES.warmOpenCase, STATES.warmContain]) {
        it(`${state}: a warm-up killed (or failing) is given up, not retried; the response goes on untouched`, async () => {
            const { report, sim } = await killed({ state, afterCalls: 0, times: 5 });
            assert.equal(report.status, "SUCCEEDED", `${report.status} ${report.reason}`);
            assert.deepEqual(isolation(sim), { isolated: 3, total: 3 });
            const entered = report.executions[0].states.map((s) => s.name);
            assert.equal(entered.filter((n) => n === state).length, 1, "not retried");
            assert.ok(entered.includes(START_BRANCHES.find((b) => b[0] === state)![1]), "its branch ended in the skip state");
            assert.ok(report.evidence.manifest, "sealed");
        });
    }

    it("Memory killed right after its SendCommand: the retry adopts that command (found by ListCommands), one capture, verified", async () => {
        const { report, sim } = await killed({ state: STATES.startMemory, afterCalls: 4 });
        assert.equal(report.status, "SUCCEEDED", `${report.status} ${report.reason}`);
        const memory = sim.calls.filter((c) => c.action.startsWith("ssm:") && c.action !== "ssm:GetCommandInvocation").map((c) => `${c.action}${c.ok ? "" : ` ${c.errorName}`}`);
        assert.deepEqual(memory, [
            "ssm:DescribeInstanceInformation", "ssm:ListCommands", "ssm:SendCommand", // the killed attempt (its 4 calls; HeadObject is S3)
            "ssm:DescribeInstanceInformation", "ssm:ListCommands", // the retry: adopts, sends nothing
        ]);
        const [command] = sim.commands();
        assert.equal(sim.commands().length, 1);
        assert.equal(command?.invocations[0]?.status, "Success");
        assert.ok(report.evidence.memory, `memory verified and sealed: ${JSON.stringify(report.evidence.memoryMissing)}`);
    });

    it("Contain killed on every attempt: the case still ends sealed, naming the timeout; whatever was isolated is in the evidence", async () => {
        for (const afterCalls of [2, 5]) {
            const { report, sim } = await killed({ state: STATES.contain, afterCalls, times: 10 });
            assert.ok(report.evidence.manifest, `sealed after ${afterCalls}`);
            assert.match(report.reason, /Sandbox\.Timedout/);
            assert.notEqual(report.status, "SUCCEEDED");
            // Half-isolated is possible here, but recorded: the sealed metadata holds the interfaces as they ended.
            const key = `cases/${report.caseId}/metadata/network-interfaces.json`;
            const interfaces = sim.objects(sim.deployment.evidenceBucket, key);
            assert.equal(interfaces.length, 1, "the interfaces' final groups are in the sealed evidence");
            const recorded = JSON.parse(sim.objectBody(sim.deployment.evidenceBucket, key).toString("utf8")) as { NetworkInterfaces: { NetworkInterfaceId: string; Groups: { GroupId: string }[] }[] };
            const groupsOf = (list: { id: string; groups: string[] }[]) => Object.fromEntries(list.map((n) => [n.id, [...n.groups].sort()]));
            assert.deepEqual(
                groupsOf(recorded.NetworkInterfaces.map((n) => ({ id: n.NetworkInterfaceId, groups: n.Groups.map((g) => g.GroupId) }))),
                groupsOf(sim.instance().networkInterfaces.filter((n) => n.exists).map((n) => ({ id: n.networkInterfaceId, groups: n.groupIds }))),
                `after ${afterCalls}: the sealed groups are the interfaces' final groups`,
            );
            const { isolated, total } = isolation(sim);
            assert.ok(isolated < total, `after ${afterCalls}: a Contain killed on every attempt leaves ${isolated} of ${total} interfaces isolated`);
        }
    });
});
