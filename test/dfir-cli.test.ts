import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../cli/index";
import { caseSummary } from "../cli/cases";
import { openContext, UsageError } from "../cli/context";
import { hashProblems, lockProblems, snapshotProblems, type VerifyReport } from "../cli/verify";
import { verifyHtml } from "../cli/report";
import { release, REVOCATION_HOLD_HOURS } from "../cli/release";
import { runDrill, seedAccount } from "../drill/run";
import { SimulatedAccount } from "../drill/sim";
import { chooseSnapshots } from "../cli/attach";
import { completedHubCopy, countedHubCopies } from "../core/manifest";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";
import { parseRevocationDocument, revocationPolicyArn } from "../core/revocation";
import { CreatePolicyVersionCommand } from "@aws-sdk/client-iam";
import { client } from "../functions/lib/aws";

/**
 * The analyst CLI against the drill's kept simulated account, in-process (`main` resolves to the exit code) and
 * once as the npm script. Each test works on its own copy of one drilled account.
 */
const REPO = path.resolve(__dirname, "..");
const FINDING = DEFAULT_FINDING;

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; calls: { action: string; ok: boolean }[] }> {
    let stdout = "";
    let stderr = "";
    let calls: { action: string; ok: boolean }[] = [];
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false, simulatedCalls: (c) => (calls = [...c]) });
    return { code, stdout, stderr, calls };
}

/** Calls that only read (a plan makes no other; the state file, not saved then, cannot show it). */
const READ_ONLY = /^[a-z0-9-]+:(?:Describe|Get|List|Head|Scan|Query|BatchGet)[A-Za-z0-9]*$|^sts:AssumeRole$/;
const changing = (calls: readonly { action: string }[]) => calls.map((c) => c.action).filter((a) => !READ_ONLY.test(a));

/** Replace the bytes of a case's sealed manifest in a kept account (the recorded sha256 then no longer matches). */
function tamperManifest(dir: string, caseId: string, change: (manifest: any) => void): void {
    const file = path.join(dir, "state.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const bucket of Object.values(doc.state.buckets) as any[]) {
        const key = Object.keys(bucket.objects).find((k) => k.startsWith(`cases/${caseId}/manifest-`));
        if (!key) continue;
        const last = bucket.objects[key][bucket.objects[key].length - 1];
        const manifest = JSON.parse(Buffer.from(last.body.$b64, "base64").toString("utf8"));
        change(manifest);
        last.body = { $b64: Buffer.from(JSON.stringify(manifest)).toString("base64") };
        fs.writeFileSync(file, JSON.stringify(doc));
        return;
    }
    throw new Error(`no manifest of ${caseId}`);
}

/** The state file's object versions of a key (bodies inline as base64 when small). */
function versionsOf(dir: string, keySuffix: string): { file: string; doc: any; versions: any[] } {
    const file = path.join(dir, "state.json");
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const bucket of Object.values(doc.state.buckets) as any[]) {
        const key = Object.keys(bucket.objects).find((k) => k.endsWith(keySuffix));
        if (key) return { file, doc, versions: bucket.objects[key] };
    }
    throw new Error(`no object ending ${keySuffix}`);
}

describe("dfir (analyst CLI) against the drill's simulated account", function () {
    this.timeout(120_000);
    let drilled: string;
    let caseId: string;
    const copies: string[] = [];
    const copy = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-cli-"));
        fs.cpSync(drilled, dir, { recursive: true });
        copies.push(dir);
        return dir;
    };

    before(async () => {
        drilled = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-drilled-"));
        const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")) };
        const sim = seedAccount(options);
        const report = await runDrill({ ...options, sim });
        assert.equal(report.status, "SUCCEEDED");
        sim.saveState(drilled);
        caseId = report.caseId as string;
    });
    after(() => {
        for (const dir of [drilled, ...copies]) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("cases: lists the sealed case with its instance, account, region and manifest (--json), and as a table", async () => {
        const dir = copy();
        const json = await run(["cases", "--simulated", dir, "--json"]);
        assert.equal(json.code, 0, json.stderr);
        const cases = JSON.parse(json.stdout);
        assert.equal(cases.length, 1);
        assert.equal(cases[0].caseId, caseId);
        assert.equal(cases[0].status, "SUCCEEDED");
        assert.equal(cases[0].instanceId, "i-1111c461afc081111");
        assert.match(cases[0].manifest.key, new RegExp(`^cases/${caseId}/manifest-`));
        assert.equal(cases[0].findings, 1);
        const open = await run(["cases", "--simulated", dir, "--open", "--json"]);
        assert.deepEqual(JSON.parse(open.stdout), []);
        const table = await run(["cases", "--simulated", dir]);
        assert.match(table.stdout, new RegExp(`${caseId}.*SUCCEEDED`));
    });

    it("verify: re-hashes the manifest, the memory image and every metadata object, checks locks and snapshots; exit 0", async () => {
        const dir = copy();
        const html = path.join(dir, "report.html");
        const out = await run(["verify", caseId, "--simulated", dir, "--json", "--html", html]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const report: VerifyReport = JSON.parse(out.stdout);
        assert.equal(report.ok, true);
        assert.deepEqual(report.problems, []);
        assert.deepEqual(report.objects.map((o) => o.role), ["manifest", "memory", "metadata", "metadata", "metadata", "metadata"]);
        for (const o of report.objects) {
            assert.equal(o.actualSha256, o.expectedSha256, o.key);
            assert.equal(o.lock?.mode, "COMPLIANCE", o.key);
        }
        const memory = report.objects.find((o) => o.role === "memory");
        assert.equal(memory?.actualBytes, 8 * 1024 * 1024);
        assert.equal(memory?.hostSha256, memory?.actualSha256);
        // The part digest recomputed from the bytes read, in the capture's parts, equals the sealed one.
        assert.match(memory?.actualPartsSha256 ?? "", /^[0-9a-f]{64}$/);
        assert.equal(memory?.actualPartsSha256, memory?.expectedPartsSha256);
        assert.equal(report.snapshots.length, 2);
        assert.ok(report.snapshots.every((s) => s.state === "completed" && s.problems.length === 0));
        // The contract: per snapshot `locked: true` (compliance mode for the retention: core/snapshotLock.ts).
        assert.ok(report.snapshots.every((s) => s.locked === true && s.lock?.state === "compliance" && s.lock.durationDays === 365), JSON.stringify(report.snapshots));
        const page = fs.readFileSync(html, "utf8");
        assert.match(page, /^<!doctype html>/);
        assert.match(page, /VERIFIED/);
        assert.doesNotMatch(page, /<script|https?:\/\//);
    });

    it("verify: a changed evidence object is a mismatch naming the object (exit 1); the text report says NOT VERIFIED", async () => {
        const dir = copy();
        const { file, doc, versions } = versionsOf(dir, "metadata/console-output.txt");
        versions[versions.length - 1].body = { $b64: Buffer.from("tampered console output\n").toString("base64") };
        fs.writeFileSync(file, JSON.stringify(doc));
        const out = await run(["verify", caseId, "--simulated", dir]);
        assert.equal(out.code, 1);
        assert.match(out.stdout, /MISMATCH: cases\/.*\/metadata\/console-output\.txt \(version .*\): sha256 [0-9a-f]{64} does not match the manifest's/);
        assert.match(out.stdout, /NOT VERIFIED: 2 problem\(s\)/, "the hash and the size");
    });

    it("verify: a snapshot whose EBS lock is gone (or was never set) is a problem naming it: locked false", async () => {
        const dir = copy();
        const { file, doc } = versionsOf(dir, "metadata/instance.json");
        const snapshots = (Object.values(doc.state.accounts)[0] as any).regions["us-east-2"].snapshots as Record<string, { lock?: unknown }>;
        const [unlocked] = Object.keys(snapshots);
        delete snapshots[unlocked].lock;
        fs.writeFileSync(file, JSON.stringify(doc));
        const out = await run(["verify", caseId, "--simulated", dir, "--json"]);
        assert.equal(out.code, 1);
        const report: VerifyReport = JSON.parse(out.stdout);
        const check = report.snapshots.find((x) => x.snapshotId === unlocked);
        assert.equal(check?.locked, false);
        assert.deepEqual(report.problems, [`${unlocked} (${check?.volumeId}): not locked`]);
    });

    it("verify: a lock shortened to GOVERNANCE, and a deleted snapshot, are mismatches", async () => {
        const dir = copy();
        const { file, doc, versions } = versionsOf(dir, "metadata/instance.json");
        versions[versions.length - 1].lockMode = "GOVERNANCE";
        const snapshots = (Object.values(doc.state.accounts)[0] as any).regions["us-east-2"].snapshots as Record<string, unknown>;
        const [deleted] = Object.keys(snapshots);
        delete snapshots[deleted];
        fs.writeFileSync(file, JSON.stringify(doc));
        const out = await run(["verify", caseId, "--simulated", dir, "--json"]);
        assert.equal(out.code, 1);
        const report: VerifyReport = JSON.parse(out.stdout);
        assert.deepEqual(report.problems.map((p) => p.replace(/^cases\/[^ ]*\//, "")).sort(), [
            `${deleted} (${report.snapshots.find((x) => x.snapshotId === deleted)?.volumeId}): no longer exists`,
            `instance.json (version ${versions[versions.length - 1].versionId}): Object Lock mode is GOVERNANCE, not COMPLIANCE`,
        ].sort());
    });

    it("bad input: unknown case, missing argument, unknown command, missing directory: exit 2, one line, nothing on stdout", async () => {
        const dir = copy();
        for (const [args, message] of [
            [["verify", "no-such-case", "--simulated", dir], /^dfir: no case no-such-case in table dfir-cases \(us-east-2\); `dfir cases` lists them\n$/],
            [["verify", "--simulated", dir], /^dfir: missing required argument 'case'\n$/],
            [["frobnicate"], /^dfir: unknown command 'frobnicate'\n$/],
            [["cases", "--simulated", path.join(dir, "nope")], /^dfir: --simulated .*nope: no simulated account there/],
            [["cases", "--simulated", dir, "--region", "us-east-1"], /^dfir: --simulated takes the region and case table from the simulated account/],
            [["verify", "bad id!", "--simulated", dir], /^dfir: "bad id!" is not a case id\n$/],
        ] as [string[], RegExp][]) {
            const out = await run(args);
            assert.equal(out.code, 2, args.join(" "));
            assert.equal(out.stdout, "", args.join(" "));
            assert.match(out.stderr, message);
            assert.equal(out.stderr.trim().split("\n").length, 1);
        }
    });

    it("a real account needs a known region and the case table, said in one line before any call", () => {
        assert.throws(() => openContext({}, {}), (e: Error) => e instanceof UsageError && /^no region: give --region/.test(e.message) && !e.message.includes("\n"));
        assert.throws(() => openContext({ region: "us-eats-1", table: "t-cases" }, {}), /is not a known AWS region \(did you mean us-east-1\?\)/);
        assert.throws(() => openContext({ region: "us-east-1" }, {}), /no case table: give --table/);
        const ctx = openContext({}, { AWS_REGION: "eu-west-1", DFIR_CASES_TABLE: "dfir-response-cases-abc" });
        assert.deepEqual([ctx.region, ctx.casesTable, ctx.sim], ["eu-west-1", "dfir-response-cases-abc", undefined]);
    });

    it("runs as `npm run -s dfir -- cases --simulated DIR` and as the package's dfir bin", () => {
        const dir = copy();
        const out = spawnSync("npm", ["run", "-s", "dfir", "--", "cases", "--simulated", dir, "--json"], { cwd: REPO, encoding: "utf8" });
        assert.equal(out.status, 0, out.stderr);
        assert.equal(JSON.parse(out.stdout)[0].caseId, caseId);
        // The package's bin runs the same program.
        const bin = spawnSync(process.execPath, [path.join(REPO, "cli", "dfir.js"), "cases", "--simulated", dir, "--json"], { cwd: REPO, encoding: "utf8" });
        assert.equal(bin.status, 0, bin.stderr);
        assert.equal(JSON.parse(bin.stdout)[0].caseId, caseId);
    });
});

describe("dfir verify with snapshots copied into the hub", function () {
    this.timeout(120_000);

    it("checks the member's snapshots through the case's role and the hub's copies in the hub: tags name the source", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-copies-"));
        try {
            const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")), scenario: "copy-to-hub" as never };
            const sim = seedAccount(options);
            const drilled = await runDrill({ ...options, sim });
            assert.equal(drilled.status, "SUCCEEDED");
            sim.saveState(dir);
            const out = await run(["verify", drilled.caseId as string, "--simulated", dir, "--json"]);
            assert.equal(out.code, 0, out.stdout + out.stderr);
            const report: VerifyReport = JSON.parse(out.stdout);
            const where = report.snapshots.map((s) => s.location);
            assert.deepEqual(where, ["instance account", "instance account", "hub copy", "hub copy"]);
            const sources = report.snapshots.filter((s) => s.location === "instance account").map((s) => s.snapshotId).sort();
            assert.deepEqual(report.snapshots.filter((s) => s.location === "hub copy").map((s) => s.copyOf).sort(), sources);
            assert.ok(report.snapshots.every((s) => s.state === "completed" && s.problems.length === 0 && !s.unchecked));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("copy-to-hub-failed: the member snapshots are checked, the hub copies recorded as not completed are the recorded gap, not mismatches; attach counts none of them either", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-copies-failed-"));
        try {
            const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")), scenario: "copy-to-hub-failed" as never, account: "222222222222" };
            const sim = seedAccount(options);
            const drilled = await runDrill({ ...options, sim });
            assert.equal(drilled.status, "PARTIAL", drilled.reason);
            sim.saveState(dir);
            const out = await run(["verify", drilled.caseId as string, "--simulated", dir, "--json"]);
            assert.equal(out.code, 0, out.stdout + out.stderr);
            const report: VerifyReport = JSON.parse(out.stdout);
            assert.equal(report.ok, true);
            assert.deepEqual(report.problems, []);
            const members = report.snapshots.filter((s) => s.location === "instance account");
            assert.equal(members.length, 2);
            assert.ok(members.every((s) => s.state === "completed" && s.problems.length === 0 && !s.unchecked), "the evidence of record is checked and intact");
            const hub = report.snapshots.filter((s) => s.location === "hub copy");
            assert.deepEqual(hub.map((s) => s.copyOf).sort(), members.map((s) => s.snapshotId).sort());
            for (const s of hub) {
                assert.equal(s.state, undefined, "not described");
                assert.deepEqual(s.problems, []);
                assert.match(s.unchecked ?? "", new RegExp(`^hub copy ${s.snapshotId} of ${s.copyOf} recorded as \\w+ at the seal \\(disk copy to hub gap\\): not checked$`));
                assert.ok(report.warnings.includes(s.unchecked as string));
            }
            assert.ok(report.warnings.some((w) => w.startsWith("recorded as missing at the seal: disk copy to hub: ")), report.warnings.join("\n"));
            const text = await run(["verify", drilled.caseId as string, "--simulated", dir]);
            assert.equal(text.code, 0, text.stdout);
            assert.doesNotMatch(text.stdout, /MISMATCH/);
            assert.match(text.stdout, /VERIFIED: 6 objects and 2 snapshots match the sealed manifest/);
            // The same decision as attach's: no hub copy counts, so the member snapshots are what a volume would need.
            const [sealed] = sim.objects(sim.deployment.evidenceBucket, `cases/${drilled.caseId}/manifest-`);
            const manifest = JSON.parse(sim.objectBody(sealed.bucket, sealed.key, sealed.versionId).toString("utf8"));
            assert.deepEqual(countedHubCopies(manifest.evidence.disk.copy), []);
            assert.ok(chooseSnapshots(manifest).every((c) => !c.hubCopy));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a hub copy counts only when the manifest recorded it with an id as completed", () => {
        const rec = (hubCopyId: string | undefined, hubCopyState: string | undefined) => ({ sourceSnapshotId: `src-${hubCopyId}`, volumeId: "vol-1", memberKeyId: "k", shared: true, hubKeyArn: "k", ...(hubCopyId ? { hubCopyId } : {}), ...(hubCopyState ? { hubCopyState } : {}) });
        const copy = { snapshots: [rec("snap-a", "completed"), rec("snap-b", "error"), rec("snap-c", "pending"), rec(undefined, "completed"), rec("snap-d", undefined)] };
        assert.deepEqual(countedHubCopies(copy).map((c) => c.hubCopyId), ["snap-a"]);
        assert.equal(completedHubCopy(copy, "src-snap-a")?.hubCopyId, "snap-a");
        assert.equal(completedHubCopy(copy, "src-snap-b"), undefined);
        assert.deepEqual(countedHubCopies(undefined), []);
    });

    it("a hub copy that does not name its source snapshot is a mismatch", () => {
        const tags = [{ Key: "dfir:case-id", Value: "c1" }, { Key: "dfir:instance-id", Value: "i-1" }, { Key: "dfir:source-snapshot", Value: "snap-other" }];
        assert.deepEqual(snapshotProblems({ State: "completed", Tags: tags }, "c1", "i-1", "snap-src"), ["tag dfir:source-snapshot is snap-other, not snap-src"]);
        assert.deepEqual(snapshotProblems({ State: "completed", Tags: tags }, "c1", "i-1", "snap-other"), []);
    });
});

describe("dfir verify decisions (pure)", () => {
    const now = new Date("2026-11-23T00:00:00Z");

    it("a lock is good only in COMPLIANCE mode with a retain-until in the future", () => {
        assert.deepEqual(lockProblems({ mode: "COMPLIANCE", retainUntil: "2027-01-01T00:00:00Z" }, now), []);
        assert.deepEqual(lockProblems({ mode: "GOVERNANCE", retainUntil: "2027-01-01T00:00:00Z" }, now), ["Object Lock mode is GOVERNANCE, not COMPLIANCE"]);
        assert.deepEqual(lockProblems({ mode: "COMPLIANCE", retainUntil: "2026-01-01T00:00:00Z" }, now), ["retention ended 2026-01-01T00:00:00Z"]);
        assert.deepEqual(lockProblems(undefined, now), ["no Object Lock retention on this version"]);
    });

    it("hashes and sizes must match the manifest, and the memory image the instance's own hash", () => {
        const a = "a".repeat(64);
        const b = "b".repeat(64);
        assert.deepEqual(hashProblems({ expectedSha256: a, actualSha256: a, expectedBytes: 3, actualBytes: 3 }), []);
        assert.equal(hashProblems({ expectedSha256: a, actualSha256: b }).length, 1);
        assert.deepEqual(hashProblems({ expectedSha256: a, actualSha256: a, hostSha256: b }), [`sha256 ${a} does not match the instance's ${b}`]);
        assert.deepEqual(hashProblems({ expectedSha256: a, actualSha256: a, expectedBytes: 4, actualBytes: 3 }), ["3 bytes, the manifest says 4"]);
    });

    it("a snapshot must exist, be completed and carry the case and instance tags", () => {
        const tags = [{ Key: "dfir:case-id", Value: "c1" }, { Key: "dfir:instance-id", Value: "i-1" }];
        assert.deepEqual(snapshotProblems({ State: "completed", Tags: tags }, "c1", "i-1"), []);
        assert.deepEqual(snapshotProblems(undefined, "c1", "i-1"), ["no longer exists"]);
        assert.deepEqual(snapshotProblems({ State: "error", Tags: tags.slice(1) }, "c1", "i-1"), ["state error, not completed", "tag dfir:case-id is missing, not c1"]);
    });

    it("a case item is summarised; lock items are not cases", () => {
        assert.equal(caseSummary({ pk: { S: "OPEN#1#r#i" } }), undefined);
        assert.deepEqual(caseSummary({ pk: { S: "CASE#c1" }, status: { S: "OPEN" }, target: { M: { instanceId: { S: "i-1" } } } }), { caseId: "c1", status: "OPEN", instanceId: "i-1", findings: 0 });
    });

    it("the HTML report escapes every value (a key cannot inject markup)", () => {
        const html = verifyHtml({
            caseId: "<c>", checkedAt: "t", case: { caseId: "<c>", status: "SUCCEEDED", findings: 1 },
            objects: [{ role: "metadata", bucket: "b", key: "<img src=x onerror=alert(1)>", expectedSha256: "x", problems: ["<b>bad</b>"] }],
            snapshots: [], problems: ["<b>bad</b>"], warnings: [], ok: false,
        });
        assert.doesNotMatch(html, /<img|<b>/);
        assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    });
});

describe("dfir release against the drill's simulated account", function () {
    this.timeout(120_000);
    let dir: string;
    let caseId: string;
    let sim: SimulatedAccount;
    let before: { groups: string[]; instance: ReturnType<SimulatedAccount["instance"]> };

    beforeEach(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-release-"));
        const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")) };
        sim = seedAccount(options);
        const original = sim.instance();
        before = { groups: original.networkInterfaces.flatMap((n) => n.groupIds), instance: original };
        const report = await runDrill({ ...options, sim });
        assert.equal(report.status, "SUCCEEDED");
        assert.notDeepEqual(sim.instance().networkInterfaces.flatMap((n) => n.groupIds), before.groups, "contained");
        sim.saveState(dir);
        caseId = report.caseId as string;
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("without --yes prints the plan and changes nothing", async () => {
        const stateBefore = fs.readFileSync(path.join(dir, "state.json"), "utf8");
        const out = await run(["release", caseId, "--simulated", dir]);
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout, /plan only, nothing changed/);
        assert.match(out.stdout, /re-run with --yes to apply/);
        assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), stateBefore);
        assert.ok(out.calls.some((c) => c.action === "ec2:DescribeInstances"), out.calls.map((c) => c.action).join(","));
        assert.deepEqual(changing(out.calls), [], "only read calls");
        // The check has teeth: --yes makes changing calls.
        const applied = await run(["release", caseId, "--simulated", dir, "--yes"]);
        assert.equal(applied.code, 0, applied.stdout + applied.stderr);
        assert.ok(changing(applied.calls).includes("ec2:ModifyNetworkInterfaceAttribute"), applied.calls.map((c) => c.action).join(","));
    });

    it("refuses (exit 2, one line, nothing changed) a manifest whose bytes are not the ones the seal hashed", async () => {
        tamperManifest(dir, caseId, (m) => {
            m.containment.isolatedAt = "2020-01-01T00:00:00.000Z";
        });
        const stateBefore = fs.readFileSync(path.join(dir, "state.json"), "utf8");
        const out = await run(["release", caseId, "--simulated", dir, "--yes"]);
        assert.deepEqual([out.code, out.stdout], [2, ""]);
        assert.match(out.stderr, new RegExp(`^dfir: the manifest of case ${caseId} \\(cases/${caseId}/manifest-[^)]+\\) does not match the sha256 recorded at the seal: run \`dfir verify ${caseId}\`\\n$`));
        assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), stateBefore);
        assert.deepEqual(changing(out.calls), []);
    });

    it("--yes restores groups and protections, tags released, records it under Object Lock and frees the instance for a new case", async () => {
        const out = await run(["release", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const result = JSON.parse(out.stdout);
        assert.equal(result.ok, true);
        const after = SimulatedAccount.loadState(dir);
        const instance = after.instance();
        assert.deepEqual(instance.networkInterfaces.flatMap((n) => n.groupIds), before.groups);
        assert.equal(instance.disableApiTermination, before.instance.disableApiTermination);
        assert.equal(instance.disableApiStop, before.instance.disableApiStop);
        assert.deepEqual(instance.blockDevices, before.instance.blockDevices, "delete-on-termination as recorded");
        assert.equal(before.instance.profile, null);
        assert.equal(instance.profile, null, "the capture profile is taken off an instance that had none");
        assert.equal(instance.tags["dfir:status"], "released");
        assert.equal(instance.tags["dfir:case-id"], caseId, "the case tag stays");
        const record = after.objects(after.deployment.evidenceBucket, `cases/${caseId}/release-`);
        assert.equal(record.length, 1);
        assert.equal(record[0].lockMode, "COMPLIANCE");
        assert.equal(record[0].sha256, result.record.sha256);
        const items = after.items(after.deployment.casesTable);
        assert.ok(!items.some((i) => String(i.pk?.S).startsWith("OPEN#")), "the open-case lock is gone");
        const caseItem = items.find((i) => i.pk?.S === `CASE#${caseId}`) as Record<string, any>;
        assert.equal(caseItem.releaseRecordSha256.S, result.record.sha256);
        assert.match(caseItem.releasedBy.S, /^arn:aws:/);
        // The evidence is untouched: verify still passes after the release.
        const verified = await run(["verify", caseId, "--simulated", dir]);
        assert.equal(verified.code, 0, verified.stdout);
    });

    it("keeps the session revocation until credentials issued before containment have expired, then a second release removes it", async () => {
        // The same finding with a real instance profile: containment swaps it and revokes its role's old sessions.
        const finding = JSON.parse(fs.readFileSync(FINDING, "utf8"));
        const details = finding.detail?.resource?.instanceDetails ?? finding.resource.instanceDetails;
        details.iamInstanceProfile = { arn: "arn:aws:iam::123456789012:instance-profile/app-profile", id: "AIPAEXAMPLEPROFILE0001" };
        const profiled = seedAccount({ finding });
        const drilled = await runDrill({ finding, sim: profiled });
        assert.equal(drilled.status, "SUCCEEDED");
        const policyArn = revocationPolicyArn("aws", profiled.instanceAccountId, "app-profile");
        // The role's revocation policy: the instance in its bucket's statement, or in one of its own, or not at all.
        const statementsOf = (account: SimulatedAccount) => {
            const document = account.attachedPolicies("app-profile")[policyArn];
            assert.ok(document, "the revocation policy is attached to the role");
            return parseRevocationDocument(document).filter((g) => g.instanceIds.includes(profiled.instanceId)).map((g) => ({ sid: g.sid.replace(/\d+$/, ""), cutoff: g.cutoff }));
        };
        assert.deepEqual(statementsOf(profiled).map((g) => g.sid), ["DfirRevoke"], "containment revoked the instance's old sessions");
        const profiledDir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-release-profiled-"));
        profiled.saveState(profiledDir);
        try {
            const first = await run(["release", drilled.caseId as string, "--simulated", profiledDir, "--yes", "--json"]);
            assert.equal(first.code, 0, first.stdout + first.stderr);
            const kinds = JSON.parse(first.stdout).steps.map((x: { step: { kind: string } }) => x.step.kind);
            const revocation = JSON.parse(first.stdout).steps.find((x: { step: { kind: string } }) => x.step.kind === "revocation");
            assert.ok(kinds.includes("profile") && revocation?.step.keepUntil && revocation.ok === true, JSON.stringify(JSON.parse(first.stdout).steps));
            let after = SimulatedAccount.loadState(profiledDir);
            assert.match(after.instance().profile?.arn ?? "", /instance-profile\/app-profile$/, "the original profile is back");
            // Still denied the sessions from before containment, but only those: a statement of its own, cutoff = isolation time.
            assert.deepEqual(statementsOf(after), [{ sid: "DfirRevokeReleased", cutoff: profiled.instance().tags["dfir:isolated-at"] }]);

            // Thirteen hours later: the same release removes it (and changes nothing else).
            const ctx = openContext({ simulated: profiledDir });
            try {
                const later = await release(ctx, drilled.caseId as string, { yes: true, now: () => new Date(Date.now() + (REVOCATION_HOLD_HOURS + 1) * 3_600_000) });
                assert.equal(later.ok, true);
                assert.deepEqual(later.steps.map((x) => x.step.kind), ["revocation", "tags"]);
                ctx.save();
            } finally {
                ctx.close();
            }
            after = SimulatedAccount.loadState(profiledDir);
            assert.deepEqual(statementsOf(after), [], "the instance is out of the revocation policy");
        } finally {
            fs.rmSync(profiledDir, { recursive: true, force: true });
        }
    });

    it("refuses, in one line and changing nothing, when a role's revocation policy holds a statement this project did not write", async () => {
        const finding = JSON.parse(fs.readFileSync(FINDING, "utf8"));
        const details = finding.detail?.resource?.instanceDetails ?? finding.resource.instanceDetails;
        details.iamInstanceProfile = { arn: "arn:aws:iam::123456789012:instance-profile/app-profile", id: "AIPAEXAMPLEPROFILE0001" };
        const profiled = seedAccount({ finding });
        const drilled = await runDrill({ finding, sim: profiled });
        assert.equal(drilled.status, "SUCCEEDED");
        // Someone with IAM rights adds a statement of their own to the revocation policy.
        const policyArn = revocationPolicyArn("aws", profiled.instanceAccountId, "app-profile");
        const tampered = JSON.parse(profiled.attachedPolicies("app-profile")[policyArn] as string);
        tampered.Statement.push({ Sid: "Theirs", Effect: "Allow", Action: "s3:*", Resource: "*" });
        profiled.install();
        try {
            await profiled.runAs(profiled.analystRoleArn, () => client("iam", { region: profiled.region }).send(new CreatePolicyVersionCommand({ PolicyArn: policyArn, PolicyDocument: JSON.stringify(tampered), SetAsDefault: true })));
        } finally {
            profiled.uninstall();
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-release-tampered-"));
        profiled.saveState(dir);
        try {
            const before = fs.readFileSync(path.join(dir, "state.json"), "utf8");
            const out = await run(["release", drilled.caseId as string, "--simulated", dir, "--yes"]);
            assert.equal(out.code, 2, out.stdout + out.stderr);
            assert.match(out.stderr, /^dfir: the revocation policy of role app-profile cannot be read \(Error: revocation policy holds a statement this project did not write \("Theirs"\)\): nothing changed/);
            assert.equal(out.stderr.trim().split("\n").length, 1);
            assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), before, "nothing changed");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses an unsealed case and an unknown case (exit 2, nothing changed)", async () => {
        const out = await run(["release", "no-such-case", "--simulated", dir, "--yes"]);
        assert.equal(out.code, 2);
        assert.match(out.stderr, /^dfir: no case no-such-case/);
        const file = path.join(dir, "state.json");
        const doc = JSON.parse(fs.readFileSync(file, "utf8"));
        const table = (Object.values(doc.state.accounts)[0] as any).regions["us-east-2"].tables[sim.deployment.casesTable];
        const item = table.items[Object.keys(table.items).find((k) => k.includes(`CASE#${caseId}`)) as string];
        delete item.manifestKey;
        fs.writeFileSync(file, JSON.stringify(doc));
        const stateBefore = fs.readFileSync(file, "utf8");
        const unsealed = await run(["release", caseId, "--simulated", dir, "--yes"]);
        assert.equal(unsealed.code, 2);
        assert.match(unsealed.stderr, /is not sealed .*release refuses without a sealed case record/);
        assert.equal(fs.readFileSync(file, "utf8"), stateBefore);
    });
});

describe("dfir plan against a simulated account (read-only)", function () {
    this.timeout(120_000);
    const dirs: string[] = [];
    const seeded = (scenario?: string, mutate?: (finding: any) => void) => {
        const finding = JSON.parse(fs.readFileSync(FINDING, "utf8"));
        mutate?.(finding);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dfir-plan-")), "finding.json");
        fs.writeFileSync(file, JSON.stringify(finding));
        const dir = path.dirname(file);
        dirs.push(dir);
        seedAccount({ finding, ...(scenario ? { scenario: scenario as never } : {}) }).saveState(dir);
        return { dir, file };
    };
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("lists what the response would do, in order, with nothing failing, and changes nothing", async () => {
        const { dir, file } = seeded();
        const stateBefore = fs.readFileSync(path.join(dir, "state.json"), "utf8");
        const out = await run(["plan", "--finding", file, "--simulated", dir, "--json"]);
        assert.equal(out.code, 0, out.stderr);
        const plan = JSON.parse(out.stdout);
        assert.equal(plan.verdict.decision, "respond");
        assert.deepEqual(plan.steps.map((s: { phase: string }) => s.phase), ["triage", "case", "contain", "contain", "contain", "contain", "contain", "contain", "evidence", "evidence", "evidence", "seal"]);
        assert.match(plan.steps[3].action, /^every interface into the isolation group sg-/);
        assert.equal(plan.facts.ssm, "Online");
        assert.equal(plan.facts.record.volumes.length, 2);
        assert.match(plan.facts.avmlKey, /^tools\/avml-x86_64-[0-9a-f]{16}$/, "the x86_64 instance's build");
        assert.deepEqual(plan.wouldFail, []);
        assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), stateBefore);
        assert.ok(out.calls.some((c) => c.action === "ec2:DescribeInstances"), out.calls.map((c) => c.action).join(","));
        assert.deepEqual(changing(out.calls), [], "read-only calls");
        const text = await run(["plan", "--finding", file, "--simulated", dir]);
        assert.match(text.stdout, /nothing would fail\n\(dry run: read-only calls, nothing changed\)\n$/);
    });

    it("finds the aarch64 build for a Graviton instance", async () => {
        const { dir, file } = seeded("graviton");
        const plan = JSON.parse((await run(["plan", "--finding", file, "--simulated", dir, "--json"])).stdout);
        assert.equal(plan.facts.record.architecture, "arm64");
        assert.match(plan.facts.avmlKey, /^tools\/avml-aarch64-[0-9a-f]{16}$/);
        assert.deepEqual(plan.wouldFail, []);
    });

    it("says what would fail (the SSM agent offline, no isolation group for the VPC) and when approval is asked", async () => {
        const offline = seeded("ssm-offline");
        const a = JSON.parse((await run(["plan", "--finding", offline.file, "--simulated", offline.dir, "--json"])).stdout);
        assert.deepEqual(a.wouldFail, ["SSM agent ConnectionLost: memory evidence missing"]);

        const noGroup = seeded();
        const { file: stateFile, doc } = (() => {
            const file = path.join(noGroup.dir, "state.json");
            return { file, doc: JSON.parse(fs.readFileSync(file, "utf8")) };
        })();
        const region = (Object.values(doc.state.accounts)[0] as any).regions["us-east-2"];
        for (const g of Object.values(region.securityGroups) as any[]) if (g.tags["dfir:role"]) delete g.tags["dfir:role"];
        fs.writeFileSync(stateFile, JSON.stringify(doc));
        const b = JSON.parse((await run(["plan", "--finding", noGroup.file, "--simulated", noGroup.dir, "--json"])).stdout);
        assert.equal(b.wouldFail.length, 1);
        assert.match(b.wouldFail[0], /^no isolation group is deployed for vpc-\w+: containment fails \(NoIsolationGroupError\)/);

        const tagged = seeded("approval-required");
        const c = JSON.parse((await run(["plan", "--finding", tagged.file, "--simulated", tagged.dir, "--json"])).stdout);
        assert.ok(c.steps.some((s: { phase: string }) => s.phase === "approval"), "asks for approval");
    });

    it("a finding the guard ignores plans nothing; bad input is one line, exit 2", async () => {
        const { dir } = seeded();
        const ignored = path.join(dir, "low.json");
        const low = JSON.parse(fs.readFileSync(FINDING, "utf8"));
        (low.detail ?? low).severity = 2;
        fs.writeFileSync(ignored, JSON.stringify(low));
        const out = await run(["plan", "--finding", ignored, "--simulated", dir, "--json"]);
        assert.equal(out.code, 0);
        const plan = JSON.parse(out.stdout);
        assert.equal(plan.verdict.decision, "ignore");
        assert.deepEqual(plan.steps.map((s: { phase: string }) => s.phase), ["triage"]);
        for (const [args, message] of [
            [["plan", "--simulated", dir], /^dfir: required option '--finding <file>' not specified\n$/],
            [["plan", "--finding", path.join(dir, "nope.json"), "--simulated", dir], /^dfir: .*nope\.json/],
            [["plan", "--finding", ignored, "--simulated", dir, "--bucket", "b"], /^dfir: --simulated takes the evidence bucket from the simulated account/],
        ] as [string[], RegExp][]) {
            const bad = await run(args);
            assert.equal(bad.code, 2, args.join(" "));
            assert.equal(bad.stdout, "");
            assert.match(bad.stderr, message);
        }
    });
});
