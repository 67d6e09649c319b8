/**
 * `dfir attach` against the drill's kept simulated account (deployed with the workstation), in-process, and the
 * simulator's volume calls it rests on (CreateVolume, AttachVolume, DescribeVolumes) through real SDK clients.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AttachVolumeCommand, CreateVolumeCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { main } from "../cli/index";
import { ATTACH_DEVICE_NAMES, chooseSnapshots, diskCommands, freeDeviceNames, memoryCommands, planAttach, type AttachResult } from "../cli/attach";
import { UsageError } from "../cli/context";
import type { Manifest } from "../core/manifest";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { SimulatedAccount } from "../drill/sim";
import { parseDrillCommand } from "../scripts/drill";
import { client } from "../functions/lib/aws";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

const FINDING = DEFAULT_FINDING;
const finding = () => JSON.parse(fs.readFileSync(FINDING, "utf8"));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; calls: { action: string; ok: boolean }[] }> {
    let stdout = "";
    let stderr = "";
    let calls: { action: string; ok: boolean }[] = [];
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false, simulatedCalls: (c) => (calls = [...c]) });
    return { code, stdout, stderr, calls };
}

/** Calls that only read (a plan or a refusal makes no other; the state file, not saved then, cannot show it). */
const READ_ONLY = /^[a-z0-9-]+:(?:Describe|Get|List|Head|Scan|Query|BatchGet)[A-Za-z0-9]*$|^sts:AssumeRole$/;
const changing = (calls: readonly { action: string }[]) => calls.map((c) => c.action).filter((a) => !READ_ONLY.test(a));

const dirs: string[] = [];
/** A drilled account kept in a new directory: the sealed case, its instance and (unless told) the workstation. */
async function drilled(options: Partial<DrillOptions> = {}): Promise<{ dir: string; caseId: string; sim: SimulatedAccount }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-attach-"));
    dirs.push(dir);
    const drill: DrillOptions = { finding: finding(), workstation: true, ...options };
    const sim = seedAccount(drill);
    const report = await runDrill({ ...drill, sim });
    assert.equal(report.status, "SUCCEEDED", report.reason);
    sim.saveState(dir);
    return { dir, caseId: report.caseId as string, sim };
}
const stateOf = (dir: string) => fs.readFileSync(path.join(dir, "state.json"), "utf8");
const callsOf = (dir: string, action: string) => (JSON.parse(stateOf(dir)).state.callHistory as { action: string }[]).filter((c) => c.action === action).length;

describe("dfir attach against a drilled account with the forensic workstation", function () {
    this.timeout(120_000);
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("without --yes prints the plan (one new volume per snapshot, free device names) and changes nothing", async () => {
        const { dir, caseId, sim } = await drilled();
        const before = stateOf(dir);
        const out = await run(["attach", caseId, "--simulated", dir, "--json"]);
        assert.equal(out.code, 0, out.stderr);
        const plan: AttachResult = JSON.parse(out.stdout);
        assert.equal(plan.applied, false);
        const ws = sim.deployment.workstation;
        assert.deepEqual(plan.workstation, { instanceId: ws?.instanceId, region: "us-east-2", availabilityZone: "us-east-2a", state: "running" });
        const evidence = sim.snapshots().filter((s) => s.tags["dfir:case-id"] === caseId).map((s) => s.snapshotId);
        assert.deepEqual(plan.steps.map((s) => [s.action, s.snapshotId, s.hubCopy, s.deviceName]), [
            ["create", evidence[0], false, "/dev/sdf"], ["create", evidence[1], false, "/dev/sdg"],
        ]);
        assert.equal(stateOf(dir), before, "nothing changed");
        assert.ok(out.calls.some((c) => c.action === "ec2:DescribeVolumes"), out.calls.map((c) => c.action).join(","));
        assert.deepEqual(changing(out.calls), [], "only read calls");
        const text = await run(["attach", caseId, "--simulated", dir]);
        assert.match(text.stdout, /plan only, nothing changed/);
        assert.match(text.stdout, /re-run with --yes to create and attach\n$/);
        assert.equal(stateOf(dir), before);
        assert.ok(text.calls.length > 0);
        assert.deepEqual(changing(text.calls), [], "only read calls");
        // The check has teeth: --yes makes changing calls.
        const applied = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(applied.code, 0, applied.stderr);
        assert.deepEqual([...new Set(changing(applied.calls))].sort(), ["dynamodb:UpdateItem", "ec2:AttachVolume", "ec2:CreateVolume"]);
    });

    it("--yes makes one encrypted, tagged volume per snapshot in the workstation's AZ, attaches it, prints the commands and records it on the case; the evidence is untouched", async () => {
        const { dir, caseId, sim } = await drilled();
        const objectsBefore = sim.objects(sim.deployment.evidenceBucket).map((o) => `${o.key}@${o.versionId}`);
        const out = await run(["attach", caseId, "--simulated", dir, "--yes"]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const after = SimulatedAccount.loadState(dir);
        const ws = after.deployment.workstation as { instanceId: string; availabilityZone: string };
        const volumes = after.volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy");
        const evidence = after.snapshots().filter((s) => s.tags["dfir:case-id"] === caseId);
        assert.equal(volumes.length, evidence.length);
        assert.notEqual(after.instance().availabilityZone, ws.availabilityZone, "the instance was in another AZ: volumes go where the workstation is");
        for (const [i, v] of volumes.entries()) {
            const snapshot = evidence.find((s) => s.snapshotId === v.snapshotId);
            assert.ok(snapshot, `${v.volumeId} is made from an evidence snapshot`);
            assert.deepEqual([v.availabilityZone, v.state, v.encrypted, v.attachment], [ws.availabilityZone, "in-use", true, { instanceId: ws.instanceId, deviceName: ATTACH_DEVICE_NAMES[i] }]);
            assert.deepEqual({ ...v.tags, Name: undefined }, {
                Name: undefined, "dfir:case-id": caseId, "dfir:source-snapshot": v.snapshotId, "dfir:evidence": "analysis-copy",
                "dfir:workstation": ws.instanceId, "dfir:instance-id": after.instanceId,
            });
            assert.match(out.stdout, new RegExp(`done   new encrypted volume ${v.volumeId} from ${v.snapshotId} in ${ws.availabilityZone}, attached at ${ATTACH_DEVICE_NAMES[i]}`));
            assert.ok(out.stdout.includes(`awk '$2 == "${v.volumeId.replace("-", "")}" {print $1}'`), "finds the NVMe device by the volume id serial");
            assert.ok(out.stdout.includes(`sudo mount -o ro,noload,noexec "\${DEV}p1" /mnt/case/${v.snapshotId}`));
        }
        assert.equal(after.instance(ws.instanceId).blockDevices.length, 1 + volumes.length);
        for (const needle of ["lsblk -o NAME,SERIAL", "sudo blockdev --setro", "sudo mmls", "sudo fls -r -m /", "mactime -b", "sha256sum -c", "linux.pslist", "linux.bash", "linux.sockstat", "banners.Banners"]) {
            assert.ok(out.stdout.includes(needle), needle);
        }
        assert.match(out.stdout, /vol -f i-1111c461afc081111\.lime linux\.pslist/);
        assert.match(out.stdout, /\nATTACHED\n$/);
        // Recorded on the case item; nothing written to the evidence store, the snapshots as they were.
        const item = after.items(after.deployment.casesTable).find((i) => i.pk?.S === `CASE#${caseId}`) as Record<string, any>;
        assert.deepEqual(item.attachedVolumes.L.map((v: any) => [v.M.volumeId.S, v.M.deviceName.S, v.M.workstationId.S, v.M.attached.BOOL]),
            volumes.map((v, i) => [v.volumeId, ATTACH_DEVICE_NAMES[i], ws.instanceId, true]));
        assert.match(item.attachedAt.S, /^\d{4}-\d\d-\d\dT/);
        assert.match(item.attachedBy.S, /^arn:aws:sts::/);
        assert.deepEqual(after.objects(after.deployment.evidenceBucket).map((o) => `${o.key}@${o.versionId}`), objectsBefore);
        assert.deepEqual(after.snapshots().map((s) => [s.snapshotId, s.state, s.tags]), sim.snapshots().map((s) => [s.snapshotId, s.state, s.tags]));
        const verified = await run(["verify", caseId, "--simulated", dir]);
        assert.equal(verified.code, 0, verified.stdout);
    });

    it("a second --yes adopts what it made: the same volumes, no new call to create or attach, the first attach time kept", async () => {
        const { dir, caseId } = await drilled();
        const first: AttachResult = JSON.parse((await run(["attach", caseId, "--simulated", dir, "--yes", "--json"])).stdout);
        const firstItem = SimulatedAccount.loadState(dir).items("dfir-cases").find((i) => i.pk?.S === `CASE#${caseId}`) as any;
        const attachedAt = firstItem.attachedAt.S;
        const firstBy = firstItem.attachedBy.S;
        assert.deepEqual([firstItem.lastAttachedBy.S, firstItem.lastAttachedAt.S], [firstBy, attachedAt]);
        // Someone else attaches again: the first caller stays, the latest is beside it.
        const doc = JSON.parse(stateOf(dir));
        const table = doc.state.accounts[Object.keys(doc.state.accounts)[0]].regions["us-east-2"].tables["dfir-cases"];
        const key = Object.keys(table.items).find((k) => k.includes(`CASE#${caseId}`)) as string;
        table.items[key].attachedBy = { S: "arn:aws:sts::123456789012:assumed-role/first-analyst/alice" };
        fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(doc));
        const again = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(again.code, 0, again.stderr);
        const second: AttachResult = JSON.parse(again.stdout);
        assert.deepEqual(second.steps.map((s) => [s.action, s.volumeId, s.deviceName, s.ok]), first.steps.map((s) => ["attached", s.volumeId, s.deviceName, true]));
        assert.ok(second.steps.every((s) => s.commands && s.commands.length > 0));
        assert.equal(callsOf(dir, "ec2:CreateVolume"), first.steps.length);
        assert.equal(callsOf(dir, "ec2:AttachVolume"), first.steps.length);
        const after = SimulatedAccount.loadState(dir);
        assert.equal(after.volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy").length, first.steps.length);
        const item = after.items("dfir-cases").find((i) => i.pk?.S === `CASE#${caseId}`) as any;
        assert.equal(item.attachedAt.S, attachedAt);
        assert.equal(item.attachedVolumes.L.length, first.steps.length);
        assert.equal(item.attachedBy.S, "arn:aws:sts::123456789012:assumed-role/first-analyst/alice", "the first attach's caller kept");
        assert.notEqual(item.lastAttachedBy.S, item.attachedBy.S);
        assert.match(item.lastAttachedBy.S, /^arn:aws:sts::/);
        assert.notEqual(item.lastAttachedAt.S, undefined);
    });

    it("waits for volumes still being created, and after a failed attach (exit 1) a re-run attaches the volumes it made, creating none", async () => {
        const { dir, caseId } = await drilled();
        const doc = JSON.parse(stateOf(dir));
        doc.state.behaviour.volumeDurationMs = 150;
        doc.state.faults.push({ action: "ec2:AttachVolume", error: "IncorrectState", message: "simulated attach failure", times: 2, seen: 0 });
        fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(doc));
        const failed = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(failed.code, 1, failed.stderr);
        const result: AttachResult = JSON.parse(failed.stdout);
        assert.equal(result.ok, false);
        assert.ok(result.steps.every((s) => s.ok === false && /IncorrectState: simulated attach failure/.test(s.error ?? "")));
        assert.ok(callsOf(dir, "ec2:DescribeVolumes") > result.steps.length + 1, "polled while the volumes were creating");
        const made = SimulatedAccount.loadState(dir).volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy");
        assert.deepEqual(made.map((v) => [v.state, v.attachment]), made.map(() => ["available", null]));
        const item = SimulatedAccount.loadState(dir).items("dfir-cases").find((i) => i.pk?.S === `CASE#${caseId}`) as any;
        assert.deepEqual(item.attachedVolumes.L.map((v: any) => v.M.attached.BOOL), made.map(() => false));

        const retried = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(retried.code, 0, retried.stdout);
        const second: AttachResult = JSON.parse(retried.stdout);
        assert.deepEqual(second.steps.map((s) => [s.action, s.ok]), made.map(() => ["attach", true]));
        assert.deepEqual(second.steps.map((s) => s.volumeId).sort(), made.map((v) => v.volumeId).sort());
        assert.equal(callsOf(dir, "ec2:CreateVolume"), made.length);
        assert.ok(SimulatedAccount.loadState(dir).volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy").every((v) => v.state === "in-use"));
    });

    it("a member's case with snapshots copied into the hub: volumes from the hub's copies, in the hub", async () => {
        const { dir, caseId, sim } = await drilled({ scenario: "copy-to-hub" });
        const out = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const result: AttachResult = JSON.parse(out.stdout);
        const hubCopies = sim.snapshots({ accountId: sim.homeAccountId }).filter((s) => s.tags["dfir:evidence"] === "disk-hub-copy");
        assert.equal(hubCopies.length, 2);
        assert.deepEqual(result.steps.map((s) => [s.hubCopy, s.snapshotId]).sort(), hubCopies.map((c) => [true, c.snapshotId]).sort());
        for (const s of result.steps) assert.equal(hubCopies.find((c) => c.snapshotId === s.snapshotId)?.copyOf?.snapshotId !== undefined, true);
        const volumes = SimulatedAccount.loadState(dir).volumes({ accountId: sim.homeAccountId }).filter((v) => v.tags["dfir:evidence"] === "analysis-copy");
        assert.deepEqual(volumes.map((v) => v.snapshotId).sort(), hubCopies.map((c) => c.snapshotId).sort());
        assert.ok(volumes.every((v) => v.kmsKeyId === sim.deployment.evidenceKeyArn), "under the hub copies' key, the evidence key");
        const text = await run(["attach", caseId, "--simulated", dir]);
        assert.match(text.stdout, /already attached at \/dev\/sdf/);
        assert.match(text.stdout, /the hub's copy of snap-/);
    });

    it("after the analyst deleted the volumes, a re-run makes new ones (no fixed CreateVolume token hands back the deleted ones)", async () => {
        const { dir, caseId, sim } = await drilled();
        const first: AttachResult = JSON.parse((await run(["attach", caseId, "--simulated", dir, "--yes", "--json"])).stdout);
        const made = first.steps.map((s) => s.volumeId as string);
        // Detached and deleted by the analyst: EC2 shows them `deleted` for a while.
        const file = path.join(dir, "state.json");
        const doc = JSON.parse(fs.readFileSync(file, "utf8"));
        const region = doc.state.accounts[sim.homeAccountId].regions["us-east-2"];
        for (const id of made) {
            region.volumes[id].state = "deleted";
            delete region.volumes[id].attachment;
        }
        const ws = region.instances[sim.deployment.workstation?.instanceId as string];
        ws.blockDevices = ws.blockDevices.filter((b: { volumeId: string }) => !made.includes(b.volumeId));
        fs.writeFileSync(file, JSON.stringify(doc));
        const again = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        const second: AttachResult = JSON.parse(again.stdout);
        assert.deepEqual(second.steps.map((s) => [s.action, s.ok]), [["create", true], ["create", true]]);
        assert.ok(second.steps.every((s) => s.volumeId && !made.includes(s.volumeId)), "new volumes");
        const live = SimulatedAccount.loadState(dir).volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy" && v.state === "in-use");
        assert.deepEqual(live.map((v) => v.volumeId).sort(), second.steps.map((s) => s.volumeId).sort());
        assert.equal(callsOf(dir, "ec2:CreateVolume"), 4);
    });

    it("a failed record write still prints the volumes and their commands and says the record failed (exit 1); a re-run records them, creating none", async () => {
        const { dir, caseId } = await drilled();
        const doc = JSON.parse(stateOf(dir));
        doc.state.faults.push({ action: "dynamodb:UpdateItem", error: "AccessDeniedException", message: "simulated: not allowed to update the case", times: 1, seen: 0 });
        fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(doc));
        const out = await run(["attach", caseId, "--simulated", dir, "--yes"]);
        assert.equal(out.code, 1, out.stdout + out.stderr);
        assert.equal(out.stderr, "");
        const after = SimulatedAccount.loadState(dir);
        const volumes = after.volumes().filter((v) => v.tags["dfir:evidence"] === "analysis-copy");
        assert.equal(volumes.length, 2, "the volumes were made and kept in the account");
        for (const v of volumes) {
            assert.match(out.stdout, new RegExp(`done   new encrypted volume ${v.volumeId} from ${v.snapshotId}`));
            assert.ok(out.stdout.includes(`sudo mount -o ro,noload,noexec "\${DEV}p1" /mnt/case/${v.snapshotId}`));
        }
        assert.equal(out.stdout.split("\n").filter((l) => l.startsWith("NOT RECORDED: the case record write failed (AccessDeniedException: simulated: not allowed to update the case)")).length, 1, out.stdout);
        assert.match(out.stdout, /\nATTACHED, NOT RECORDED\n$/);
        const item = after.items(after.deployment.casesTable).find((i) => i.pk?.S === `CASE#${caseId}`) as Record<string, any>;
        assert.equal(item.attachedVolumes, undefined);
        const json = await run(["attach", caseId, "--simulated", dir, "--yes", "--json"]);
        assert.equal(json.code, 0, json.stdout + json.stderr);
        const again: AttachResult = JSON.parse(json.stdout);
        assert.deepEqual(again.steps.map((s) => s.action), ["attached", "attached"]);
        assert.equal(again.recordError, undefined);
        assert.equal(callsOf(dir, "ec2:CreateVolume"), 2);
        const recorded = SimulatedAccount.loadState(dir).items("dfir-cases").find((i) => i.pk?.S === `CASE#${caseId}`) as Record<string, any>;
        assert.deepEqual(recorded.attachedVolumes.L.map((v: any) => v.M.volumeId.S).sort(), volumes.map((v) => v.volumeId).sort());
    });

    it("who is attaching is read before any change: a failure there makes no volume (exit 3)", async () => {
        const { dir, caseId } = await drilled();
        const doc = JSON.parse(stateOf(dir));
        doc.state.faults.push({ action: "sts:GetCallerIdentity", error: "ExpiredTokenException", message: "simulated: the session expired", times: 1, seen: 0 });
        fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(doc));
        const before = stateOf(dir);
        const out = await run(["attach", caseId, "--simulated", dir, "--yes"]);
        assert.deepEqual([out.code, out.stdout, out.stderr], [3, "", "dfir: ExpiredTokenException: simulated: the session expired\n"]);
        assert.equal(stateOf(dir), before);
        assert.deepEqual(changing(out.calls), []);
        assert.ok(out.calls.some((c) => c.action === "sts:GetCallerIdentity" && !c.ok));
    });

    it("the drill's --workstation flag seeds it (after the instance: the instance's ids are the same), and adds it to a kept account once", async () => {
        const command = parseDrillCommand(["--finding", FINDING, "--workstation"], (f) => fs.readFileSync(f, "utf8"));
        assert.equal(command.options.workstation, true);
        assert.equal(parseDrillCommand(["--finding", FINDING], (f) => fs.readFileSync(f, "utf8")).options.workstation, undefined);
        const withIt = seedAccount(command.options);
        const without = seedAccount({ finding: finding() });
        assert.deepEqual(withIt.instance(), without.instance());
        const ws = withIt.deployment.workstation as { instanceId: string; region: string; availabilityZone: string };
        assert.deepEqual([ws.region, ws.availabilityZone], ["us-east-2", "us-east-2a"]);
        const view = withIt.instance(ws.instanceId);
        assert.deepEqual([view.tags["dfir:role"], view.state, view.ssmPingStatus, view.accountId], ["workstation", "running", "Online", withIt.homeAccountId]);
        assert.equal(without.deployment.workstation, undefined);
        const workstations = (sim: SimulatedAccount) => Object.values(JSON.parse(JSON.stringify(sim.toJSON())).state.accounts as Record<string, any>)
            .flatMap((a) => Object.values(a.regions as Record<string, any>).flatMap((r) => Object.values(r.instances as Record<string, any>)))
            .filter((i) => i.tags["dfir:role"] === "workstation").map((i) => i.instanceId);
        assert.deepEqual(workstations(without), []);
        const first = without.addWorkstation();
        assert.deepEqual(without.deployment.workstation, first);
        assert.deepEqual(without.addWorkstation(), without.deployment.workstation, "one per region");
        assert.equal(without.addWorkstation().instanceId, first.instanceId, "one per region: the first one again");
        assert.deepEqual(workstations(without), [first.instanceId], "one per region: a single instance tagged as workstation");
        const west = without.addWorkstation({ region: "us-west-2" });
        assert.notEqual(west.instanceId, first.instanceId);
        assert.deepEqual(workstations(without).sort(), [first.instanceId, west.instanceId].sort());
        assert.deepEqual(without.deployment.workstation, first, "the home region's stays the deployment's");
    });

    describe("refuses, exit 2, one line, nothing on stdout and nothing changed", () => {
        const refused = async (dir: string, args: string[], message: RegExp) => {
            const before = stateOf(dir);
            const out = await run(["attach", ...args, "--simulated", dir, "--yes"]);
            assert.equal(out.code, 2, out.stdout + out.stderr);
            assert.equal(out.stdout, "");
            assert.match(out.stderr, message);
            assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
            assert.equal(stateOf(dir), before);
            assert.deepEqual(changing(out.calls), [], `only read calls before the refusal: ${out.calls.map((c) => c.action).join(",")}`);
        };

        it("an unknown case, a malformed id, a missing argument", async () => {
            const { dir } = await drilled();
            await refused(dir, ["no-such-case"], /^dfir: no case no-such-case in table dfir-cases \(us-east-2\)/);
            await refused(dir, ["bad id!"], /^dfir: "bad id!" is not a case id\n$/);
            const missing = await run(["attach", "--simulated", dir]);
            assert.deepEqual([missing.code, missing.stderr], [2, "dfir: missing required argument 'case'\n"]);
        });

        it("an unsealed case", async () => {
            const { dir, caseId } = await drilled();
            const file = path.join(dir, "state.json");
            const doc = JSON.parse(fs.readFileSync(file, "utf8"));
            const table = (Object.values(doc.state.accounts)[0] as any).regions["us-east-2"].tables["dfir-cases"];
            const item = table.items[Object.keys(table.items).find((k) => k.includes(`CASE#${caseId}`)) as string];
            delete item.manifestKey;
            item.status = { S: "OPEN" };
            fs.writeFileSync(file, JSON.stringify(doc));
            await refused(dir, [caseId], new RegExp(`^dfir: case ${caseId} is not sealed \\(status OPEN\\): attach refuses without a sealed manifest\\n$`));
        });

        it("no workstation in the region; an instance that is not the workstation", async () => {
            const { dir, caseId, sim } = await drilled({ workstation: false });
            await refused(dir, [caseId], /^dfir: no forensic workstation \(an instance tagged dfir:role=workstation\) in us-east-2: deploy one with dfir:workstation/);
            await refused(dir, [caseId, "--workstation", sim.instanceId], new RegExp(`^dfir: ${sim.instanceId} is not tagged dfir:role=workstation`));
            await refused(dir, [caseId, "--workstation", "i-0123456789abcdef0"], /^dfir: no instance i-0123456789abcdef0 in us-east-2/);
        });

        it("a workstation in another region than the case: not looked for there (the case's region is the workstation's), and no option to", async () => {
            const { dir, caseId, sim } = await drilled({ workstation: false });
            const loaded = SimulatedAccount.loadState(dir);
            const west = loaded.addWorkstation({ region: "us-west-2" });
            loaded.saveState(dir);
            assert.notEqual(west.instanceId, sim.deployment.workstation?.instanceId);
            await refused(dir, [caseId], /^dfir: no forensic workstation \(an instance tagged dfir:role=workstation\) in us-east-2: deploy one with dfir:workstation, or give --workstation ID\n$/);
            await refused(dir, [caseId, "--workstation", west.instanceId], new RegExp(`^dfir: no instance ${west.instanceId} in us-east-2 \\(the workstation is looked up in the case table's region\\)\\n$`));
            await refused(dir, [caseId, "--workstation-region", "us-west-2"], /^dfir: unknown option '--workstation-region'/);
        });

        it("a manifest that is not the sealed one (its bytes changed since the seal)", async () => {
            const { dir, caseId } = await drilled();
            const file = path.join(dir, "state.json");
            const doc = JSON.parse(fs.readFileSync(file, "utf8"));
            const bucket = Object.values(doc.state.buckets as Record<string, any>).find((b) => Object.keys(b.objects).some((k) => k.startsWith(`cases/${caseId}/manifest-`)));
            const versions = bucket.objects[Object.keys(bucket.objects).find((k) => k.startsWith(`cases/${caseId}/manifest-`)) as string];
            const last = versions[versions.length - 1];
            const manifest = JSON.parse(Buffer.from(last.body.$b64, "base64").toString("utf8"));
            manifest.evidence.disk.snapshots.reverse();
            last.body = { $b64: Buffer.from(JSON.stringify(manifest)).toString("base64") };
            fs.writeFileSync(file, JSON.stringify(doc));
            await refused(dir, [caseId], new RegExp(`^dfir: the manifest of case ${caseId} \\(cases/${caseId}/manifest-[^)]+\\) does not match the sha256 recorded at the seal: run \`dfir verify ${caseId}\`\\n$`));
        });

        it("several workstations in the region, none chosen", async () => {
            const { dir, caseId, sim } = await drilled();
            const file = path.join(dir, "state.json");
            const doc = JSON.parse(fs.readFileSync(file, "utf8"));
            const instances = doc.state.accounts[sim.homeAccountId].regions["us-east-2"].instances;
            instances[sim.instanceId].tags["dfir:role"] = "workstation";
            fs.writeFileSync(file, JSON.stringify(doc));
            const ws = sim.deployment.workstation?.instanceId as string;
            const ids = [ws, sim.instanceId];
            await refused(dir, [caseId], new RegExp(`^dfir: 2 workstations in us-east-2 \\((${ids[0]}, ${ids[1]}|${ids[1]}, ${ids[0]})\\): choose one with --workstation ID\\n$`));
        });

        it("a member's snapshots that were not copied into the hub", async () => {
            const { dir, caseId, sim } = await drilled({ scenario: "cross-account" });
            await refused(dir, [caseId], new RegExp(`^dfir: case ${caseId}'s snapshots \\(snap-[0-9a-f]+, snap-[0-9a-f]+\\) are in account ${sim.instanceAccountId} with no completed copy in the hub ${sim.homeAccountId} \\(dfir:copySnapshotsToHub\\)`));
        });
    });
});

describe("dfir attach decisions (pure)", () => {
    const manifest = (copy?: unknown) => ({
        target: { accountId: "222222222222", region: "us-east-1", instanceId: "i-1" },
        evidence: { disk: { status: "collected", snapshots: [{ snapshotId: "snap-a", volumeId: "vol-a", state: "completed" }, { snapshotId: "snap-b", volumeId: "vol-b", state: "completed" }], ...(copy ? { copy } : {}) } },
    }) as unknown as Manifest;

    it("volumes come from the evidence snapshots, or from their completed hub copies", () => {
        assert.deepEqual(chooseSnapshots(manifest()).map((s) => [s.snapshotId, s.accountId, s.hubCopy]), [["snap-a", "222222222222", false], ["snap-b", "222222222222", false]]);
        const copy = { status: "incomplete", hubAccountId: "111111111111", snapshots: [
            { sourceSnapshotId: "snap-a", hubCopyId: "snap-ha", hubCopyState: "completed" },
            { sourceSnapshotId: "snap-b", hubCopyId: "snap-hb", hubCopyState: "pending" },
        ] };
        assert.deepEqual(chooseSnapshots(manifest(copy)).map((s) => [s.snapshotId, s.evidenceSnapshotId, s.accountId, s.hubCopy]), [
            ["snap-ha", "snap-a", "111111111111", true], ["snap-b", "snap-b", "222222222222", false],
        ]);
        assert.deepEqual(chooseSnapshots({ target: {}, evidence: { disk: { status: "missing", snapshots: [] } } } as unknown as Manifest), []);
    });

    it("free device names skip every slot in use (sdX and xvdX alike) and run out loudly", () => {
        assert.deepEqual(freeDeviceNames(["/dev/sda1"], 2), ["/dev/sdf", "/dev/sdg"]);
        assert.deepEqual(freeDeviceNames(["/dev/xvda", "/dev/xvdf", "/dev/sdg"], 2), ["/dev/sdh", "/dev/sdi"]);
        assert.throws(() => freeDeviceNames(ATTACH_DEVICE_NAMES, 1), (e: Error) => e instanceof UsageError && /0 free device name\(s\)/.test(e.message));
    });

    it("adopts volumes made before (attached: kept; not attached: attached), makes the rest, refuses one attached elsewhere", () => {
        const snaps = chooseSnapshots(manifest());
        const ws = { instanceId: "i-ws", deviceNames: ["/dev/sda1", "/dev/sdf"] };
        const steps = planAttach(snaps, [
            { volumeId: "vol-1", snapshotId: "snap-a", state: "in-use", availabilityZone: "us-east-1a", attachment: { instanceId: "i-ws", deviceName: "/dev/sdf" } },
        ], ws);
        assert.deepEqual(steps.map((s) => [s.action, s.volumeId, s.deviceName]), [["attached", "vol-1", "/dev/sdf"], ["create", undefined, "/dev/sdg"]]);
        const adopt = planAttach(snaps, [{ volumeId: "vol-2", snapshotId: "snap-b", state: "available", availabilityZone: "us-east-1a" }], { instanceId: "i-ws", deviceNames: ["/dev/sda1"] });
        assert.deepEqual(adopt.map((s) => [s.action, s.volumeId, s.deviceName, s.mountPoint]), [["create", undefined, "/dev/sdf", "/mnt/case/snap-a"], ["attach", "vol-2", "/dev/sdg", "/mnt/case/snap-b"]]);
        assert.throws(() => planAttach(snaps, [{ volumeId: "vol-3", snapshotId: "snap-a", state: "in-use", availabilityZone: "us-east-1a", attachment: { instanceId: "i-other", deviceName: "/dev/sdf" } }], ws),
            /vol-3, made from snap-a for this case, is attached to i-other, not the workstation i-ws: detach it first/);
    });

    it("the commands: read-only mount without journal replay, the device found by the volume's serial, Sleuthkit and Volatility 3", () => {
        const disk = diskCommands({ volumeId: "vol-0abc", deviceName: "/dev/sdf", mountPoint: "/mnt/case/snap-a", evidenceSnapshotId: "snap-a" }).join("\n");
        assert.match(disk, /lsblk -dno NAME,SERIAL \| awk '\$2 == "vol0abc"/);
        assert.match(disk, /sudo mount -o ro,noload,noexec "\$\{DEV\}p1" \/mnt\/case\/snap-a/);
        assert.match(disk, /sudo fls -r -m \/ "\$\{DEV\}p1" > snap-a\.body/);
        assert.match(disk, /mactime -b snap-a\.body -d -y -z UTC > snap-a\.timeline\.csv/);
        const memory = memoryCommands({ bucket: "b", key: "cases/c/memory/i-1.lime", versionId: "v1", sha256: "ab" }, "us-east-1", "i-1").join("\n");
        assert.match(memory, /^aws s3api get-object --region us-east-1 --bucket b --key cases\/c\/memory\/i-1\.lime --version-id v1 i-1\.lime\n/);
        for (const plugin of ["banners.Banners", "linux.pslist", "linux.pstree", "linux.psaux", "linux.bash", "linux.sockstat", "linux.lsof"]) assert.match(memory, new RegExp(`vol -f i-1\\.lime ${plugin.replace(".", "\\.")}`));
    });
});

describe("simulated EC2 volumes (CreateVolume, AttachVolume, DescribeVolumes)", () => {
    let sim: SimulatedAccount;
    beforeEach(async () => {
        sim = seedAccount({ finding: finding(), workstation: true });
        await runDrill({ finding: finding(), workstation: true, sim });
        sim.install();
    });
    afterEach(() => sim.uninstall());
    const ec2 = () => client("ec2", { region: "us-east-2" });
    const rejects = async (p: Promise<unknown>, name: string, message?: RegExp) => {
        await assert.rejects(p, (e: Error) => e.name === name && (!message || message.test(e.message)));
    };

    it("makes a volume from a visible, completed snapshot in an AZ of the region; refuses another region's AZ, an unknown snapshot, a size under the snapshot's", async () => {
        const [snap] = sim.snapshots().filter((s) => s.tags["dfir:case-id"]);
        const made = await ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2b", Encrypted: true, VolumeType: "gp3", TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "k", Value: "v" }] }] }));
        assert.deepEqual([made.State, made.AvailabilityZone, made.SnapshotId, made.Encrypted, made.Tags], ["creating", "us-east-2b", snap.snapshotId, true, [{ Key: "k", Value: "v" }]]);
        const seen = await ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:k", Values: ["v"] }] }));
        assert.deepEqual(seen.Volumes?.map((v) => [v.VolumeId, v.State]), [[made.VolumeId, "available"]]);
        await rejects(ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-1a" })), "InvalidParameterValue", /Invalid availability zone/);
        await rejects(ec2().send(new CreateVolumeCommand({ SnapshotId: "snap-0123456789abcdef0", AvailabilityZone: "us-east-2a" })), "InvalidSnapshot.NotFound");
        await rejects(ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2a", Size: 1 })), "InvalidParameterValue", /too small/);
        await rejects(ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2a", Iops: 3000 })), "SimulatorGapError");
        // The same ClientToken returns the same volume.
        const a = await ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2a", ClientToken: "t-1" }));
        const b = await ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2a", ClientToken: "t-1" }));
        assert.equal(a.VolumeId, b.VolumeId);
    });

    it("attaches an available volume to an instance of the same AZ at a free, valid device name only", async () => {
        const [snap] = sim.snapshots().filter((s) => s.tags["dfir:case-id"]);
        const ws = sim.deployment.workstation as { instanceId: string };
        const inA = await ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2a" }));
        const inC = await ec2().send(new CreateVolumeCommand({ SnapshotId: snap.snapshotId, AvailabilityZone: "us-east-2c" }));
        await rejects(ec2().send(new AttachVolumeCommand({ VolumeId: inC.VolumeId, InstanceId: ws.instanceId, Device: "/dev/sdf" })), "InvalidVolume.ZoneMismatch");
        await rejects(ec2().send(new AttachVolumeCommand({ VolumeId: inA.VolumeId, InstanceId: ws.instanceId, Device: "/dev/sda1" })), "InvalidParameterValue", /already in use/);
        await rejects(ec2().send(new AttachVolumeCommand({ VolumeId: inA.VolumeId, InstanceId: ws.instanceId, Device: "sdf" })), "InvalidParameterValue", /not a valid EBS device name/);
        const attached = await ec2().send(new AttachVolumeCommand({ VolumeId: inA.VolumeId, InstanceId: ws.instanceId, Device: "/dev/sdf" }));
        assert.deepEqual([attached.State, attached.Device], ["attaching", "/dev/sdf"]);
        await rejects(ec2().send(new AttachVolumeCommand({ VolumeId: inA.VolumeId, InstanceId: ws.instanceId, Device: "/dev/sdg" })), "VolumeInUse");
        const byInstance = await ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [ws.instanceId] }] }));
        assert.deepEqual(byInstance.Volumes?.map((v) => [v.State, v.Attachments?.[0]?.Device]).sort(), [["in-use", "/dev/sda1"], ["in-use", "/dev/sdf"]]);
        await rejects(ec2().send(new DescribeVolumesCommand({ VolumeIds: ["vol-0123456789abcdef0"] })), "InvalidVolume.NotFound");
    });
});
