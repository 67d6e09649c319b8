import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InputError } from "../core/events";
import { DRILL_HUB_ACCOUNT, runDrill, seedAccount, type DrillOptions, type DrillReport } from "../drill/run";
import { SimulatedAccount, type CallRecord } from "../drill/sim";
import { formatTimeline } from "../drill/timeline";
import { parseDrillCommand } from "../scripts/drill";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const REPO = path.resolve(__dirname, "..");
const FIXTURES = GUARDDUTY_FIXTURES;
const BITCOIN = path.join(FIXTURES, "CryptoCurrency_EC2_BitcoinTool.B_DNS.json");
/** The fixture redacts its account id ("111"): --account must replace it wherever the event says it. */
const finding = (): unknown => JSON.parse(fs.readFileSync(BITCOIN, "utf8"));
const read = (file: string) => fs.readFileSync(file, "utf8");
const SMALL = { memoryBytes: 256 * 1024 };

const MEMBER = "222222222222";
const ROLE = `arn:aws:iam::${MEMBER}:role/dfir-responder`;

/** Run a drill on a simulated account the test keeps, to read its calls and final state. */
async function drill(options: Partial<DrillOptions>): Promise<{ report: DrillReport; sim: SimulatedAccount }> {
    const full: DrillOptions = { finding: finding(), ...options, simOptions: { ...SMALL, ...options.simOptions } };
    const sim = seedAccount(full);
    const report = await runDrill({ ...full, sim });
    return { report, sim };
}

/** Calls on the instance and its surroundings (containment and evidence in the instance's account). */
const instanceCalls = (sim: SimulatedAccount): CallRecord[] => sim.calls.filter((c) => /^(ec2|ssm|autoscaling|elasticloadbalancing|iam):/.test(c.action));
const hubCalls = (sim: SimulatedAccount): CallRecord[] => sim.calls.filter((c) => /^(dynamodb|s3|sns):/.test(c.action));
/** Calls that change the instance or its surroundings (not the volume tags copied onto the case's own snapshots). */
const changeCalls = (sim: SimulatedAccount) => sim.calls.filter((c) => /^ec2:(Modify|CreateTags|Replace|Associate)|autoscaling:Detach|elasticloadbalancing:Deregister|iam:(CreatePolicy|CreatePolicyVersion|AttachRolePolicy)/.test(c.action)
    && !(c.action === "ec2:CreateTags" && ((c.input as { Resources?: string[] }).Resources ?? []).every((id) => id.startsWith("snap-"))));
const assumeRoles = (sim: SimulatedAccount) => sim.calls.filter((c) => c.action === "sts:AssumeRole");
/** The sealed manifest as stored in the hub's evidence bucket. */
function manifestOf(report: DrillReport, sim: SimulatedAccount): Record<string, any> {
    const m = report.evidence.manifest;
    assert.ok(m, "a sealed manifest");
    return JSON.parse(Buffer.from(sim.objectBody(m.bucket, m.key) as Uint8Array).toString("utf8"));
}

describe("drill --account: parsing", () => {
    it("rejects an id that is not 12 digits with one line naming the flag", () => {
        for (const bad of ["12345", "abcdefghijkl", "2222222222223", "22222222222a", ""]) {
            assert.throws(
                () => parseDrillCommand(["--finding", BITCOIN, "--account", bad], read),
                (e: Error) => e instanceof InputError && /^--account needs a 12-digit AWS account id/.test(e.message) && e.message.includes(JSON.stringify(bad)) && !e.message.includes("\n"),
                bad,
            );
        }
    });

    it("rejects the hub's own id with a member-account scenario, naming both flags", () => {
        for (const scenario of ["cross-account", "cross-account-role-missing", "copy-to-hub", "copy-to-hub-failed"]) {
            assert.throws(
                () => parseDrillCommand(["--finding", BITCOIN, "--account", DRILL_HUB_ACCOUNT, "--scenario", scenario], read),
                (e: Error) => e instanceof InputError && e.message.includes(`--account ${DRILL_HUB_ACCOUNT}`) && e.message.includes(`--scenario ${scenario}`) && !e.message.includes("\n"),
            );
        }
    });

    it("passes a valid id to the drill options, and names --account in the usage", () => {
        const command = parseDrillCommand(["--finding", BITCOIN, "--account", MEMBER, "--scenario", "approval-required"], read);
        assert.equal(command.options.account, MEMBER);
        assert.equal(command.options.scenario, "approval-required");
        assert.equal(parseDrillCommand(["--finding", BITCOIN], read).options.account, undefined);
        assert.throws(() => parseDrillCommand(["--finding", ""], read), (e: Error) => /--account ID/.test(e.message) && e.message.includes(DRILL_HUB_ACCOUNT));
    });
});

describe("drill --account: a member account's finding", function () {
    this.timeout(60000);
    let report: DrillReport;
    let sim: SimulatedAccount;

    before(async () => {
        ({ report, sim } = await drill({ account: MEMBER }));
    });

    it("ends SUCCEEDED with the instance in the member and the functions in the hub", () => {
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.equal(sim.instanceAccountId, MEMBER);
        assert.equal(sim.homeAccountId, DRILL_HUB_ACCOUNT);
        assert.equal(report.containment?.isolated, true);
    });

    it("delivers the event with account and detail.accountId = ID (the fixture's redacted id replaced)", () => {
        assert.equal(report.finding.accountId, MEMBER, "the triage verdict read the delivered event");
        const event = manifestOf(report, sim).findings.event;
        assert.equal(event.account, MEMBER);
        assert.equal(event.detail.accountId, MEMBER);
        assert.deepEqual(report.account.findingAccountId, "111");
    });

    it("assumes exactly one role, the member's responder role, from the hub", () => {
        const assumes = assumeRoles(sim);
        assert.equal(assumes.length, 1, JSON.stringify(assumes.map((c) => c.input)));
        assert.equal((assumes[0].input as { RoleArn: string }).RoleArn, ROLE);
        assert.ok(assumes[0].ok);
        assert.equal(assumes[0].accountId, DRILL_HUB_ACCOUNT, "assumed with the functions' own credentials");
    });

    it("makes every containment and evidence call on the instance with the member's assumed credentials", () => {
        const calls = instanceCalls(sim);
        for (const action of ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute", "ec2:CreateTags", "ec2:AssociateIamInstanceProfile", "ec2:CreateSnapshots", "ec2:GetConsoleOutput", "ssm:SendCommand", "ssm:GetCommandInvocation"]) {
            assert.ok(calls.some((c) => c.ok && c.action === action), `${action} was called`);
        }
        for (const c of calls) assert.equal(c.accountId, MEMBER, `${c.action} acts on the member`);
        // The assumed session is the responder role's: nothing but AssumeRole can give credentials in the member.
        assert.ok(assumeRoles(sim)[0].atMs <= Math.min(...calls.map((c) => c.atMs)), "the role is assumed before the first call on the instance");
        for (const c of hubCalls(sim)) assert.equal(c.accountId, DRILL_HUB_ACCOUNT, `${c.action} acts in the hub`);
        assert.ok(report.evidence.manifest?.bucket.includes(DRILL_HUB_ACCOUNT), "evidence lands in the hub");
    });

    it("records the case in the hub with the member target and its role", () => {
        const record = sim.items(sim.deployment.casesTable).find((i) => String(i.pk?.S).startsWith("CASE#"));
        const target = record?.target?.M as Record<string, { S?: string }> | undefined;
        assert.equal(target?.accountId?.S, MEMBER);
        assert.equal(target?.roleArn?.S, ROLE);
        assert.equal(manifestOf(report, sim).target.roleArn, ROLE);
    });

    it("reports the member account and the role assumed in --json and in the timeline header", () => {
        assert.deepEqual(
            { ...report.account, assumeRole: report.account.assumeRole.map(({ atMs: _atMs, ...rest }) => rest) },
            { accountId: MEMBER, homeAccountId: DRILL_HUB_ACCOUNT, relation: "member", roleArn: ROLE, assumeRole: [{ roleArn: ROLE, ok: true }], findingAccountId: "111" },
        );
        const header = formatTimeline(report).split("\n").slice(0, 5).join("\n");
        assert.ok(header.includes(`  account: ${MEMBER} (member, through ${ROLE}); hub ${DRILL_HUB_ACCOUNT}; role assumed (1 AssumeRole)`), header);
    });
});

describe("drill --account with scenarios", function () {
    this.timeout(60000);

    it("cross-account-role-missing: FAILED with the role named, before any change, sealed in the hub and notified", async () => {
        const { report, sim } = await drill({ account: MEMBER, scenario: "cross-account-role-missing" });
        assert.equal(report.status, "FAILED");
        assert.match(report.reason, new RegExp(`CrossAccountRoleError: cannot assume ${ROLE.replace(/[/.]/g, "\\$&")}`));
        assert.deepEqual(changeCalls(sim), []);
        assert.equal(report.evidence.manifest?.mode, "COMPLIANCE", "the FAILED case is sealed in the hub's bucket");
        assert.ok(report.evidence.manifest?.bucket.includes(DRILL_HUB_ACCOUNT));
        assert.ok(report.notifications.some((n) => /FAILED/.test(n.subject ?? "")));
        // The manifest says why, naming the role, for the member's event.
        const manifest = manifestOf(report, sim);
        assert.equal(manifest.errors?.caseError?.Error, "CrossAccountRoleError");
        assert.ok(String(manifest.errors.caseError.Cause).includes(ROLE));
        assert.equal(manifest.findings.event.account, MEMBER);
        // The one AssumeRole asked for that role and was denied; the report and the timeline say so.
        const assumes = assumeRoles(sim);
        assert.equal(assumes.length, 1);
        assert.equal((assumes[0].input as { RoleArn: string }).RoleArn, ROLE);
        assert.equal(assumes[0].ok, false);
        assert.equal(report.account.roleArn, ROLE);
        assert.equal(report.account.assumeRole[0]?.ok, false);
        assert.match(report.account.assumeRole[0]?.error ?? "", /AccessDenied: .*sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/dfir-responder/);
        assert.ok(formatTimeline(report).includes(`  account: ${MEMBER} (member, through ${ROLE}); hub ${DRILL_HUB_ACCOUNT}; role NOT assumed (sts:AssumeRole AccessDenied)`));
    });

    it("--account equal to the hub: a same-account response, no AssumeRole at all", async () => {
        const { report, sim } = await drill({ account: DRILL_HUB_ACCOUNT });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.equal(sim.instanceAccountId, DRILL_HUB_ACCOUNT);
        assert.equal(sim.homeAccountId, DRILL_HUB_ACCOUNT);
        assert.deepEqual(assumeRoles(sim), []);
        assert.ok(sim.calls.every((c) => c.accountId === DRILL_HUB_ACCOUNT), "every call in the hub");
        assert.equal(manifestOf(report, sim).findings.event.account, DRILL_HUB_ACCOUNT);
        assert.equal(report.account.relation, "home");
        assert.equal(report.account.roleArn, null);
        assert.ok(formatTimeline(report).includes(`  account: ${DRILL_HUB_ACCOUNT} (the hub's own account: same-account response, no role assumed)`));
    });

    it("an unrelated scenario (approval-required) works for a member account, through the role", async () => {
        const { report, sim } = await drill({ account: MEMBER, scenario: "approval-required" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.ok(report.executions[0].states.some((s) => s.name === "AskApproval"));
        assert.equal(assumeRoles(sim).length, 1);
        assert.equal((assumeRoles(sim)[0].input as { RoleArn: string }).RoleArn, ROLE);
        assert.ok(changeCalls(sim).length > 0 && changeCalls(sim).every((c) => c.accountId === MEMBER));
    });

    it("--scenario cross-account without --account keeps its default member account", async () => {
        const { report, sim } = await drill({ scenario: "cross-account" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.equal(sim.instanceAccountId, "123456789012");
        assert.equal(sim.homeAccountId, DRILL_HUB_ACCOUNT);
        assert.equal(report.account.roleArn, "arn:aws:iam::123456789012:role/dfir-responder");
    });

    it("a kept account reloads for its own --account (or none), and refuses another one", async () => {
        const { sim } = await drill({ account: MEMBER });
        const kept = () => SimulatedAccount.fromJSON(JSON.parse(JSON.stringify(sim.toJSON())));

        // Without --account: the world remembers its account; the event is delivered for it again.
        const again = await runDrill({ finding: finding(), sim: kept() });
        assert.equal(again.finding.accountId, MEMBER);
        assert.equal(again.executions[0].status, "REPEAT", "the second delivery finds the open case");
        assert.equal(again.account.assumeRole.length, 1);

        const same = await runDrill({ finding: finding(), account: MEMBER, sim: kept() });
        assert.equal(same.executions[0].status, "REPEAT");

        await assert.rejects(runDrill({ finding: finding(), account: "333333333333", sim: kept() }), (e: Error) => e instanceof InputError && /--account 333333333333 .*does not match the kept simulated account \(instance in 222222222222/.test(e.message));
    });
});

describe("drill --account: the command", function () {
    this.timeout(60000);
    /** The npm script, as users run it (Node 22 from the devDependency); npm's own warnings are not the drill's. */
    const npmDrill = (args: string[]) => {
        const result = spawnSync("npm", ["run", "-s", "drill", "--", ...args], { cwd: REPO, encoding: "utf8" });
        return { ...result, stderr: result.stderr.split("\n").filter((l) => l !== "" && !/^npm (warn|WARN)/.test(l)) };
    };

    it("exits 0 with the account header for a member; 2, one line, no stdout and the state unchanged for another --account on its --state", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-drill-account-"));
        const ok = npmDrill(["--finding", BITCOIN, "--account", MEMBER, "--state", dir]);
        assert.equal(ok.status, 0, ok.stderr.join("\n"));
        assert.ok(ok.stdout.includes(`\n  account: ${MEMBER} (member, through ${ROLE}); hub ${DRILL_HUB_ACCOUNT}; role assumed (1 AssumeRole)`), ok.stdout);
        assert.match(ok.stdout, /Result: SUCCEEDED/);
        const saved = fs.readFileSync(path.join(dir, "state.json"), "utf8");

        const bad = npmDrill(["--finding", BITCOIN, "--account", "333333333333", "--state", dir]);
        assert.equal(bad.status, 2, bad.stderr.join("\n"));
        assert.equal(bad.stdout, "");
        assert.equal(bad.stderr.length, 1, bad.stderr.join("\n"));
        assert.match(bad.stderr[0], /^drill: .*state\.json: --account 333333333333 .*does not match the kept simulated account/);
        assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), saved, "the kept account is left unchanged");
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
