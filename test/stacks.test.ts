import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { stacksMain } from "../scripts/stacks";
import { automationRunner, type AutomationModule, type AutomationStack } from "../scripts/lib/stacks/automation";
import { runPool } from "../scripts/lib/stacks/pool";
import { parseStacksArgs } from "../scripts/lib/stacks/options";
import { changesText, eventLine, lineDisplay, rowPayload } from "../scripts/lib/stacks/progress";
import { summaryTable } from "../scripts/lib/stacks/summary";
import { growthOf, organizationStacks, ORG_REGIONS, type OrganizationRow } from "../scripts/lib/bench/organization";
import { organizationSection } from "../scripts/lib/bench/report";
import { dfirKeys, parseDfirConfig } from "../core/config";
import { checkOrganization } from "../core/organization";
import type { Command, ProgressDisplay, RunReport, StackEvent, StackRunner, StackSpec } from "../scripts/lib/stacks/types";

const REPO = path.resolve(__dirname, "..");
const DEV = readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");

/** A promise with its resolve and reject in hand. */
function deferred<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
    });
    return { promise, resolve, reject };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A temporary project directory: Pulumi.yaml (main: this repository's program) and the stack files given. */
function tempProject(stacks: Record<string, string>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "dfir-stacks-"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), `name: aws-dfir\nruntime: nodejs\nmain: ${JSON.stringify(REPO)}\n`);
    for (const [name, text] of Object.entries(stacks)) writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), text);
    return dir;
}

/** A runner whose runs the test settles by hand; records what it was asked. */
function controlledRunner() {
    const runs = new Map<string, ReturnType<typeof deferred<RunReport>>>();
    const asked: { stack: string; command: Command }[] = [];
    let running = 0;
    let most = 0;
    const runner: StackRunner = {
        async run(stack: StackSpec, command: Command) {
            asked.push({ stack: stack.name, command });
            running += 1;
            most = Math.max(most, running);
            const d = deferred<RunReport>();
            runs.set(stack.name, d);
            try {
                return await d.promise;
            } finally {
                running -= 1;
            }
        },
    };
    return { runner, runs, asked, running: () => running, most: () => most };
}

function recordingDisplay() {
    const events: StackEvent[] = [];
    const display: ProgressDisplay = { event: (e) => events.push(e), done: () => events.push({ kind: "progress", stack: "<done>" }) };
    return { events, display: () => display };
}

function io(dir: string, runner: StackRunner, display = recordingDisplay().display) {
    const out = { stdout: "", stderr: "" };
    return { out, io: { dir, runner, display, stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) } };
}

describe("stacks driver (npm run stacks)", () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const project = (stacks: Record<string, string>) => {
        const d = tempProject(stacks);
        dirs.push(d);
        return d;
    };

    describe("pool", () => {
        it("never runs more than N at once, and runs every item", async () => {
            const gates = Array.from({ length: 7 }, () => deferred<void>());
            let running = 0;
            let most = 0;
            const started: number[] = [];
            const all = runPool(gates, 3, async (gate, i) => {
                started.push(i);
                running += 1;
                most = Math.max(most, running);
                await gate.promise;
                running -= 1;
                return i * 10;
            });
            await tick();
            assert.deepEqual(started, [0, 1, 2]);
            gates[1].resolve();
            await tick();
            assert.deepEqual(started, [0, 1, 2, 3], "a freed slot takes the next item");
            for (const g of gates) g.resolve();
            assert.deepEqual(await all, [0, 10, 20, 30, 40, 50, 60]);
            assert.equal(most, 3);
            assert.rejects(runPool([1], 0, async () => 1), /concurrency/);
        });
    });

    describe("options", () => {
        it("parses and refuses one line at a time", () => {
            assert.deepEqual(parseStacksArgs(["preview", "--stack", "a", "--stack", "b", "--stack", "a", "--concurrency", "4", "--json"]), { command: "preview", stacks: ["a", "b"], concurrency: 4, mock: false, json: true, yes: false });
            assert.equal((parseStacksArgs(["up"]) as { concurrency: number }).concurrency, 2);
            assert.match(parseStacksArgs([]) as string, /^stacks: no command/);
            assert.match(parseStacksArgs(["destroy"]) as string, /bad command "destroy"/);
            assert.equal((parseStacksArgs(["check"]) as { command: string }).command, "check");
            assert.match(parseStacksArgs(["preview", "--concurrency", "33"]) as string, /from 1 to 32, got "33"/);
            assert.match(parseStacksArgs(["preview", "--frob"]) as string, /unknown option '--frob'/);
            assert.match(parseStacksArgs(["up", "--mock", "--yes"]) as string, /preview only/);
            assert.match(parseStacksArgs(["preview", "--stack", "../x"]) as string, /bad stack name/);
        });
    });

    describe("driver with a fake runner", () => {
        it("a failing stack leaves the others running; exit 1; the summary names it", async () => {
            const dir = project({ a: DEV, b: DEV, c: DEV });
            const r = controlledRunner();
            const shown = recordingDisplay();
            const { out, io: o } = io(dir, r.runner, shown.display);
            const done = stacksMain(["preview", "--concurrency", "2"], o);
            for (let i = 0; i < 20 && r.asked.length < 2; i++) await tick();
            assert.deepEqual(r.asked.map((a) => a.stack), ["a", "b"]);
            r.runs.get("a")?.reject(new Error("boom: a went wrong\nmore detail"));
            for (let i = 0; i < 20 && r.asked.length < 3; i++) await tick();
            assert.deepEqual(r.asked.map((a) => a.stack), ["a", "b", "c"], "c starts after a failed");
            r.runs.get("b")?.resolve({ changes: { create: 3, same: 2 } });
            r.runs.get("c")?.resolve({ changes: { same: 5 } });
            assert.equal(await done, 1);
            assert.equal(r.most(), 2);
            assert.ok(r.asked.every((a) => a.command === "preview"));
            assert.match(out.stdout, /a .*failed.*boom: a went wrong/);
            assert.match(out.stdout, /b .*succeeded.*create 3, same 2/);
            assert.match(out.stdout, /2 of 3 stack\(s\) previewed, FAILED: a/);
            assert.doesNotMatch(out.stdout, /more detail/);
            const finished = shown.events.filter((e) => e.kind === "finished").map((e) => (e.kind === "finished" ? `${e.outcome.stack}:${e.outcome.result}` : ""));
            assert.deepEqual(finished.sort(), ["a:failed", "b:succeeded", "c:succeeded"]);
        });

        it("--json: one object; exit 0 when all succeed", async () => {
            const dir = project({ a: DEV });
            const runner: StackRunner = { run: async () => ({ changes: { update: 1 } }) };
            const { out, io: o } = io(dir, runner);
            assert.equal(await stacksMain(["up", "--yes", "--json"], o), 0);
            const summary = JSON.parse(out.stdout);
            assert.equal(summary.command, "up");
            assert.deepEqual(summary.failed, []);
            assert.deepEqual(summary.stacks[0].changes, { update: 1 });
            assert.equal(summary.stacks[0].result, "succeeded");
        });

        it("up without --yes says what would run, exit 2, nothing run", async () => {
            const dir = project({ a: DEV, b: DEV });
            const r = controlledRunner();
            const { out, io: o } = io(dir, r.runner);
            assert.equal(await stacksMain(["up", "--concurrency", "3"], o), 2);
            assert.equal(out.stderr, "stacks: up would update 2 stack(s) (a, b), 3 at a time: add --yes to run it\n");
            assert.deepEqual(r.asked, []);
            assert.equal(out.stdout, "");
        });

        it("an unknown --stack: one line, exit 2, nothing run", async () => {
            const dir = project({ a: DEV });
            const r = controlledRunner();
            const { out, io: o } = io(dir, r.runner);
            assert.equal(await stacksMain(["preview", "--stack", "a", "--stack", "zz"], o), 2);
            assert.equal(out.stderr, "stacks: no stack zz: Pulumi.zz.yaml not found (stacks: a)\n");
            assert.deepEqual(r.asked, []);
        });

        it("a config that does not parse: one line naming stack and problem, exit 2, nothing run", async () => {
            const dir = project({ a: DEV, b: DEV.replace("dfir:minSeverity: 7", "dfir:minSeverity: 42") });
            const r = controlledRunner();
            const { out, io: o } = io(dir, r.runner);
            assert.equal(await stacksMain(["preview"], o), 2);
            assert.match(out.stderr, /^stacks: stack b: config dfir:minSeverity .*42.*\n$/);
            assert.deepEqual(r.asked, []);
        });
    });

    describe("checks across the stacks (core/organization.ts checkOrganization)", () => {
        const multi = (member: string, shard?: string) => [
            "config:",
            "  aws:region: us-east-1",
            '  pulumi:disable-default-providers: ["aws"]',
            "  dfir:hub: {accountId: '111111111111', regions: [us-east-1]}",
            "  dfir:organization: {id: o-abcdefghij, delegatedAdmin: true" + (shard === "b" ? ", configure: false}" : "}"),
            ...(shard ? [`  dfir:shard: ${shard}`] : []),
            `  dfir:members: [{accountId: '${member}', deployRoleArn: 'arn:aws:iam::${member}:role/dfir-deploy', regions: {us-east-1: {vpcs: all}}}]`,
            "",
        ].join("\n");

        it("check: no problems, exit 0, nothing run", async () => {
            const dir = project({ a: multi("222222222222", "a"), b: multi("333333333333", "b"), one: DEV });
            const r = controlledRunner();
            const { out, io: o } = io(dir, r.runner);
            assert.equal(await stacksMain(["check"], o), 0, out.stderr);
            assert.equal(out.stdout, "3 stack(s) checked (a, b, one): no problems across them\n");
            assert.deepEqual(r.asked, []);
        });

        it("problems across stacks: each one line, exit 2, nothing run (check, preview and up --yes alike)", async () => {
            const dir = project({ a: multi("222222222222"), b: multi("222222222222") });
            for (const argv of [["check"], ["preview"], ["up", "--yes"]]) {
                const r = controlledRunner();
                const { out, io: o } = io(dir, r.runner);
                assert.equal(await stacksMain(argv, o), 2, argv.join(" "));
                const lines = out.stderr.trimEnd().split("\n");
                assert.ok(lines.length >= 3 && lines.every((l) => l.startsWith("stacks: ")), out.stderr);
                assert.match(out.stderr, /account 222222222222 in us-east-1 is a member of stacks "a" and "b"/);
                assert.match(out.stderr, /no shard/);
                assert.match(out.stderr, /both create the roles of account 222222222222/);
                assert.deepEqual(r.asked, []);
                assert.equal(out.stdout, "");
            }
            const { out, io: o } = io(dir, controlledRunner().runner);
            assert.equal(await stacksMain(["check", "--json"], o), 2);
            const json = JSON.parse(out.stdout);
            assert.deepEqual(json.stacks, ["a", "b"]);
            assert.ok(json.problems.length >= 3);
        });
    });

    describe("progress", () => {
        it("without a TTY: one line per stack event (started, finished with counts, failed with the first error line)", () => {
            let text = "";
            const d = lineDisplay((t) => (text += t));
            d.event({ kind: "started", stack: "org-0" });
            d.event({ kind: "progress", stack: "org-0", resources: 10, status: "create aws:s3/bucket:Bucket" });
            d.event({ kind: "finished", outcome: { stack: "org-0", result: "succeeded", seconds: 12.345, changes: { same: 2, create: 7 } } });
            d.event({ kind: "finished", outcome: { stack: "org-1", result: "failed", seconds: 3, error: "mock: no VPC vpc-1 in account 1 region r" } });
            d.done();
            assert.equal(
                text,
                "stacks: org-0 started\nstacks: org-0 succeeded in 12.3 s: create 7, same 2\nstacks: org-1 FAILED after 3.0 s: mock: no VPC vpc-1 in account 1 region r\n",
            );
            assert.equal(eventLine({ kind: "progress", stack: "x" }), null);
            assert.equal(changesText({ same: 0 }), "no changes");
        });

        it("the multibar rows: waiting, running with status, the result", () => {
            assert.deepEqual(rowPayload("a", 3, undefined), { stack: "a  ", state: "waiting  ", detail: "" });
            assert.equal(rowPayload("a", 3, { kind: "progress", stack: "a", status: "create x" }).detail, "create x");
            assert.deepEqual(rowPayload("a", 1, { kind: "finished", outcome: { stack: "a", result: "failed", seconds: 1, error: "no" } }), { stack: "a", state: "FAILED   ", detail: "no" });
        });
    });

    describe("the Automation API runner (automation module mocked: no Pulumi CLI)", () => {
        const event = (e: Partial<EngineEvent>): EngineEvent => ({ sequence: 0, timestamp: 0, ...e });
        const pre = (op: string) => event({ resourcePreEvent: { metadata: { op, urn: "urn:x", type: "aws:s3/bucket:Bucket", provider: "" } as never } });
        function fakeAutomation(stack: Partial<AutomationStack>) {
            const selected: { stackName: string; workDir: string }[] = [];
            const module: AutomationModule = {
                LocalWorkspace: {
                    createOrSelectStack: async (args) => {
                        selected.push(args);
                        return stack as AutomationStack;
                    },
                },
            };
            return { module, selected };
        }
        const spec = { name: "org-3", file: "", config: {}, dfir: {} } as unknown as StackSpec;

        it("preview: the stack selected in the project directory; events feed progress; counts from the change summary", async () => {
            const f = fakeAutomation({
                preview: async (opts) => {
                    opts.onEvent?.(pre("create"));
                    opts.onEvent?.(pre("same"));
                    opts.onOutput?.("Previewing update (org-3)\n   + aws:s3:Bucket evidence create\n");
                    return { changeSummary: { create: 1, same: 1 } };
                },
            });
            const updates: unknown[] = [];
            const report = await automationRunner("/proj", f.module).run(spec, "preview", (u) => updates.push(u));
            assert.deepEqual(f.selected, [{ stackName: "org-3", workDir: "/proj" }]);
            assert.deepEqual(report, { changes: { create: 1, same: 1 } });
            assert.deepEqual(updates, [
                { resources: 1, status: "create aws:s3/bucket:Bucket" },
                { resources: 2, status: "same aws:s3/bucket:Bucket" },
                { status: "+ aws:s3:Bucket evidence create" },
            ]);
        });

        it("up: counts from the update's summary; a failed result or a thrown error is a failure with the engine's first error", async () => {
            const ok = fakeAutomation({ up: async () => ({ summary: { result: "succeeded", resourceChanges: { update: 2, same: 9 } } as never }) });
            assert.deepEqual(await automationRunner("/p", ok.module).run(spec, "up", () => {}), { changes: { update: 2, same: 9 } });
            const fromEvent = fakeAutomation({
                up: async (opts) => {
                    opts.onEvent?.(event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { create: 4 }, policyPacks: {} } }));
                    return { summary: { result: "succeeded" } as never };
                },
            });
            assert.deepEqual(await automationRunner("/p", fromEvent.module).run(spec, "up", () => {}), { changes: { create: 4 } });
            const failed = fakeAutomation({ up: async () => ({ summary: { result: "failed" } as never }) });
            await assert.rejects(automationRunner("/p", failed.module).run(spec, "up", () => {}), /^Error: update failed$/);
            const thrown = fakeAutomation({
                preview: async (opts) => {
                    opts.onEvent?.(event({ diagnosticEvent: { message: "warning only", color: "", severity: "warning" } }));
                    opts.onEvent?.(event({ diagnosticEvent: { message: "\n  AccessDenied: not authorized\n  at x", color: "", severity: "error" } }));
                    throw new Error("code: 255\n stdout: ...");
                },
            });
            await assert.rejects(automationRunner("/p", thrown.module).run(spec, "preview", () => {}), /^Error: AccessDenied: not authorized$/);
            const bare = fakeAutomation({ preview: async () => { throw new Error("no Pulumi CLI\nstack"); } });
            await assert.rejects(automationRunner("/p", bare.module).run(spec, "preview", () => {}), /^Error: no Pulumi CLI$/);
        });

        it("the summary table shows what the runner reported", () => {
            const text = summaryTable({ command: "up", mock: false, concurrency: 2, seconds: 5, failed: ["b"], stacks: [
                { stack: "a", result: "succeeded", changes: { update: 2 }, seconds: 4 },
                { stack: "b", result: "failed", error: "AccessDenied", seconds: 1 },
            ] });
            assert.match(text, /a +│ succeeded │ update 2/);
            assert.match(text, /b +│ failed +│ AccessDenied/);
            assert.match(text, /up: 1 of 2 stack\(s\) updated, FAILED: b; 5 s wall, concurrency 2/);
        });
    });

    describe("the organization benchmark's stacks (scripts/lib/bench/organization.ts)", () => {
        it("splits A accounts into stacks of at most S, every account once in the 4 regions, each stack's config valid", () => {
            const stacks = organizationStacks(60, 25);
            assert.deepEqual([...stacks.keys()], ["org-0", "org-1", "org-2"]);
            const members = [...stacks.values()].map((c) => c["dfir:members"] as { accountId: string; regions: Record<string, unknown> }[]);
            assert.deepEqual(members.map((m) => m.length), [25, 25, 10]);
            const ids = members.flat().map((m) => m.accountId);
            assert.equal(new Set(ids).size, 60);
            assert.ok(members.flat().every((m) => Object.keys(m.regions).join() === ORG_REGIONS.join()));
            const asPulumiHandsIt = (config: Record<string, unknown>) => Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
            for (const config of stacks.values()) {
                const parsed = parseDfirConfig(dfirKeys(asPulumiHandsIt(config)));
                assert.equal(parsed.multiAccount?.hub.accountId, "111111111111");
                assert.equal(parsed.multiAccount?.organization?.delegatedAdmin, true);
            }
            assert.deepEqual([...stacks.values()].map((c) => [c["dfir:shard"], c["dfir:memberAccess"], (c["dfir:organization"] as { configure?: boolean }).configure]), [["s0", true, undefined], ["s1", true, false], ["s2", true, false]]);
            // Together they pass the checks across stacks (core/organization.ts); without their shards they would not.
            const parsed = [...stacks].map(([name, c]) => ({ name, config: parseDfirConfig(dfirKeys(asPulumiHandsIt(c))) }));
            assert.deepEqual(checkOrganization(parsed), []);
            const unsharded = [...stacks].map(([name, c]) => {
                const { "dfir:shard": _shard, ...rest } = c;
                return { name, config: parseDfirConfig(dfirKeys(asPulumiHandsIt(rest))) };
            });
            assert.match(checkOrganization(unsharded).join("\n"), /both have hub account 111111111111's region .* and no shard/);
        });

        it("judges linear growth on CPU seconds per account, largest vs smallest size, within 25%", () => {
            const row = (accounts: number, cpuPer: number, wallPer: number): OrganizationRow => ({
                accounts, memberRegions: accounts * 4, stacks: accounts / 25, resources: accounts * 148, wallSeconds: wallPer * accounts, cpuSeconds: cpuPer * accounts,
                maxRssMiB: 900, wallSecondsPerAccount: wallPer, cpuSecondsPerAccount: cpuPer, resourcesPerAccount: 148,
            });
            assert.deepEqual(growthOf([row(250, 0.4, 0.2)]), { growth: null, linear: null });
            assert.deepEqual(growthOf([row(250, 0.4, 0.2), row(500, 0.9, 0.2), row(1000, 0.48, 0.3)]), { growth: { wall: 1.5, cpu: 1.2 }, linear: true });
            assert.deepEqual(growthOf([row(250, 0.4, 0.2), row(1000, 0.52, 0.2)]), { growth: { wall: 1, cpu: 1.3 }, linear: false });
            const text = organizationSection({ regions: [...ORG_REGIONS], accountsPerStack: 25, concurrency: 2, rows: [row(250, 0.4, 0.2), row(1000, 0.52, 0.2)], ...growthOf([row(250, 0.4, 0.2), row(1000, 0.52, 0.2)]) }).join("\n");
            assert.match(text, /\| 1000 \| 4000 \| 40 \| 148000 \| 200 \| 520 \| 900 \| 0.2 \| 0.52 \| 148 \|/);
            assert.match(text, /CPU x1.3, wall x1: \*\*not linear\*\*/);
            assert.match(text, /each with its `dfir:shard` and `dfir:memberAccess: true`/);
        });
    });

    describe("--mock (the program under the mocks, one process per stack)", () => {
        it("two stack files: one previews, one fails with the program's error; exit 1", async function () {
            this.timeout(60_000);
            // One member account each; badvpc names a VPC the account does not have in that region (getVpc fails).
            // (Hubs and members of their own: nothing across the two stacks for checkOrganization to refuse.)
            const org = (hub: string, member: string, vpcs: string) => [
                "config:",
                "  aws:region: eu-west-1",
                '  pulumi:disable-default-providers: ["aws"]',
                `  dfir:hub: {accountId: '${hub}', regions: [eu-west-1]}`,
                `  dfir:members: [{accountId: '${member}', deployRoleArn: 'arn:aws:iam::${member}:role/dfir-deploy', regions: {eu-west-1: {vpcs: ${vpcs}}}}]`,
                "",
            ].join("\n");
            const dir = project({ good: org("111111111111", "222222222222", "all"), badvpc: org("333333333333", "444444444444", "[vpc-0aaaaaaaaaaaaaaaa]") });
            let lines = "";
            const out = { stdout: "", stderr: "" };
            const code = await stacksMain(["preview", "--mock", "--json"], {
                dir,
                display: () => lineDisplay((t) => (lines += t)),
                stdout: (t) => (out.stdout += t),
                stderr: (t) => (out.stderr += t),
            });
            assert.equal(code, 1, out.stderr);
            const summary = JSON.parse(out.stdout);
            const good = summary.stacks.find((s: { stack: string }) => s.stack === "good");
            const bad = summary.stacks.find((s: { stack: string }) => s.stack === "badvpc");
            assert.equal(good.result, "succeeded");
            assert.ok(good.resources > 50, `resources ${good.resources}`);
            assert.deepEqual(good.changes, { create: good.resources });
            assert.ok(good.maxRssMiB > 50 && good.cpuSeconds > 0, JSON.stringify(good));
            assert.equal(bad.result, "failed");
            assert.match(bad.error, /vpc-0aaaaaaaaaaaaaaaa/);
            assert.deepEqual(summary.failed, ["badvpc"]);
            assert.match(lines, /stacks: good succeeded in .* s: create \d+ \(\d+ resources, peak RSS \d+ MiB\)/);
            assert.match(lines, /stacks: badvpc FAILED after .* s: .*vpc-0aaaaaaaaaaaaaaaa/);
        });
    });
});
