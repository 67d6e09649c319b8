import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { triage } from "../core/triage";
import { callSlots, runDrill, seedAccount, stateMachine, type DrillOptions, type DrillReport } from "../drill/run";
import { SCENARIOS, type ScenarioName } from "../drill/scenarios";
import { SimulatedAccount } from "../drill/sim";
import { InputError } from "../core/events";
import { parseDrillCommand } from "../scripts/drill";
import type { StateMachineDefinition } from "aws-local-stepfunctions";
import { formatTimeline } from "../drill/timeline";
import { TS_REGISTER } from "../scripts/lib/tsRegister";
import { DEFAULT_FINDING, GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const REPO = path.resolve(__dirname, "..");
const FIXTURES = GUARDDUTY_FIXTURES;
const fixture = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));
const BITCOIN = "CryptoCurrency_EC2_BitcoinTool.B_DNS.json";
/** Small images keep the suite fast; the hashing path is the same for 8 MiB or 8 GiB. */
const SMALL = { memoryBytes: 256 * 1024 };

/** Run a drill on a simulated account the test keeps, to read its final state. */
async function drill(options: Partial<DrillOptions> & { file?: string } = {}): Promise<{ report: DrillReport; sim: SimulatedAccount }> {
    const finding = options.finding ?? fixture(options.file ?? BITCOIN);
    const full: DrillOptions = { ...options, finding, simOptions: { ...SMALL, ...options.simOptions } };
    const sim = options.sim ?? seedAccount(full);
    const report = await runDrill({ ...full, sim });
    return { report, sim };
}

/** Calls that change the instance or its surroundings (not the volume tags copied onto the case's own snapshots). */
const changeCalls = (sim: SimulatedAccount) => sim.calls.filter((c) => /^ec2:(Modify|CreateTags|Replace|Associate)|autoscaling:Detach|elasticloadbalancing:Deregister|iam:(CreatePolicy|CreatePolicyVersion|AttachRolePolicy)/.test(c.action)
    && !(c.action === "ec2:CreateTags" && ((c.input as { Resources?: string[] }).Resources ?? []).every((id) => id.startsWith("snap-"))));

describe("drill: a full response against the simulated account", function () {
    this.timeout(60000);
    let report: DrillReport;
    let sim: SimulatedAccount;

    before(async () => {
        ({ report, sim } = await drill({ volumes: 3 }));
    });

    it("ends SUCCEEDED, sealed and notified", () => {
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.equal(report.reason, "isolated; evidence complete");
        assert.ok(report.notifications.some((n) => /SUCCEEDED/.test(n.subject ?? "")));
    });

    it("leaves every interface only in the VPC's isolation group, the instance protected, tagged and on the capture profile", () => {
        const instance = sim.instance();
        const isolation = sim.deployment.isolationGroups[instance.vpcId];
        for (const eni of instance.networkInterfaces) assert.deepEqual(eni.groupIds, [isolation]);
        assert.equal(instance.disableApiTermination, true);
        assert.equal(instance.disableApiStop, true);
        assert.equal(instance.shutdownBehavior, "stop");
        assert.ok(instance.blockDevices.every((d) => !d.deleteOnTermination), "volumes survive termination");
        assert.equal(instance.tags["dfir:status"], "isolated");
        assert.equal(instance.tags["dfir:case-id"], report.caseId);
        assert.match(instance.tags["dfir:isolated-at"], /^\d{4}-\d\d-\d\dT/);
        assert.equal(instance.profile?.arn, sim.deployment.captureProfileArn);
    });

    it("applies the untrack group before the isolation group on every interface", () => {
        const untrack = sim.deployment.untrackGroups[sim.instance().vpcId];
        const isolation = sim.deployment.isolationGroups[sim.instance().vpcId];
        const moves = sim.calls
            .filter((c) => c.ok && c.action === "ec2:ModifyNetworkInterfaceAttribute")
            .map((c) => (c.input as { Groups: string[] }).Groups[0]);
        assert.deepEqual(moves, [untrack, isolation]);
    });

    it("takes one crash-consistent snapshot set of every volume, boot included, tagged with the case", () => {
        assert.equal(report.evidence.snapshots.length, 3);
        assert.ok(report.evidence.snapshots.every((s) => s.state === "completed"));
        assert.deepEqual(report.evidence.snapshots.map((s) => s.volumeId).sort(), sim.instance().blockDevices.map((d) => d.volumeId).sort());
        assert.equal(sim.calls.filter((c) => c.ok && c.action === "ec2:CreateSnapshots").length, 1);
    });

    it("stores a memory image whose sha256, recomputed from the stored bytes, matches the report and the instance's hash", () => {
        const memory = report.evidence.memory;
        assert.ok(memory);
        const body = sim.objectBody(memory.bucket, memory.key);
        assert.equal(createHash("sha256").update(body).digest("hex"), memory.sha256);
        assert.equal(body.length, SMALL.memoryBytes);
        const sidecar = JSON.parse(sim.objectBody(memory.bucket, `${memory.key}.json`).toString("utf8"));
        assert.equal(sidecar.sha256, memory.sha256);
    });

    it("seals a manifest under Object Lock COMPLIANCE whose hash and content match what was captured", () => {
        const manifest = report.evidence.manifest;
        assert.ok(manifest);
        assert.equal(manifest.mode, "COMPLIANCE");
        assert.ok(Date.parse(manifest.retainUntil) > Date.now() + 360 * 86400_000);
        const body = sim.objectBody(manifest.bucket, manifest.key).toString("utf8");
        assert.equal(createHash("sha256").update(body).digest("hex"), manifest.sha256);
        for (const s of report.evidence.snapshots) assert.ok(body.includes(s.snapshotId), s.snapshotId);
        assert.ok(body.includes(report.evidence.memory?.sha256 ?? "missing"));
        for (const eni of sim.instance().networkInterfaces) assert.ok(body.includes(eni.networkInterfaceId));
    });

    it("stores instance metadata, console output and screenshot under the case, each locked", () => {
        const names = report.evidence.metadata.map((m) => m.key.split("/").pop()).sort();
        assert.deepEqual(names, ["console-output.txt", "console-screenshot.jpg", "instance.json", "network-interfaces.json"]);
        const objects = sim.objects(sim.deployment.evidenceBucket, `cases/${report.caseId}/`);
        assert.ok(objects.length >= 7);
        for (const o of objects) assert.equal(o.lockMode, "COMPLIANCE", o.key);
    });
});

describe("drill: time to contain", function () {
    this.timeout(60000);
    for (const interfaces of [1, 3, 8]) {
        it(`makes the first change in call slot 3 and isolates all ${interfaces} interface(s) by slot 5`, async () => {
            const { report, sim } = await drill({ latencyMs: 50, interfaces });

            assert.equal(report.containment?.isolated, true);
            assert.equal(sim.instance().networkInterfaces.length, interfaces);
            assert.ok(report.containment?.firstChangeSlot !== null && report.containment!.firstChangeSlot! <= 3, `first change in slot ${report.containment?.firstChangeSlot}`);
            assert.ok(report.containment?.isolatedSlot !== null && report.containment!.isolatedSlot! <= 5, `isolated in slot ${report.containment?.isolatedSlot}`);
        });
    }

    it("counts concurrent calls as one slot and sequential ones as the next", () => {
        assert.deepEqual(callSlots([{ atMs: 0 }, { atMs: 3 }, { atMs: 52 }, { atMs: 104 }, { atMs: 106 }], 50), [1, 1, 2, 3, 3]);
    });
});

describe("drill: repeats and dedupe", function () {
    this.timeout(60000);

    it("turns the same finding delivered 3 times into one case, one snapshot set and one memory image", async () => {
        const { report, sim } = await drill({ repeat: 3 });

        assert.deepEqual(report.executions.map((e) => e.status), ["SUCCEEDED", "REPEAT", "REPEAT"]);
        assert.equal(new Set(report.executions.map((e) => e.caseId)).size, 1);
        assert.equal(sim.calls.filter((c) => c.ok && c.action === "ec2:CreateSnapshots").length, 1);
        assert.equal(sim.calls.filter((c) => c.ok && c.action === "ssm:SendCommand").length, 1);
        assert.equal(sim.objects(sim.deployment.evidenceBucket, `cases/${report.caseId}/memory/`).filter((o) => o.key.endsWith(".lime")).length, 1);
        assert.ok(report.notifications.filter((n) => /repeat/.test(n.subject ?? "")).length === 2);
    });

    it("adds a second, different finding on the same instance to the open case", async () => {
        const first = fixture(BITCOIN) as { detail: { id: string } };
        const second = structuredClone(first);
        second.detail.id = "22225628dedc84e090aae636c4cd2222";
        const { sim } = await drill({ finding: first });

        const again = await runDrill({ finding: second, sim });

        assert.equal(again.executions[0].status, "REPEAT");
        const caseItem = sim.items(sim.deployment.casesTable).find((i) => (i.pk as { S: string }).S.startsWith("CASE#"));
        const findingIds = ((caseItem?.findingIds as { L: { S: string }[] }).L).map((f) => f.S);
        assert.deepEqual(findingIds, [first.detail.id, second.detail.id]);
    });
});

describe("drill: scenarios", function () {
    this.timeout(60000);
    const run = (scenario: ScenarioName, extra: Partial<DrillOptions> = {}) => drill({ scenario, ...extra });

    it("ssm-offline: contained, memory reported missing with the reason, the rest captured: PARTIAL", async () => {
        const { report } = await run("ssm-offline");
        assert.equal(report.status, "PARTIAL");
        assert.equal(report.containment?.isolated, true);
        assert.equal(report.evidence.memory, null);
        assert.equal(report.evidence.memoryMissing, "ssm-agent-offline");
        assert.equal(report.evidence.snapshots.length, 2);
        assert.ok(report.evidence.manifest);
    });

    it("snapshot-error: the error state fails the disk branch clearly; contained and sealed PARTIAL", async () => {
        const { report } = await run("snapshot-error");
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /disk missing: SnapshotFailedError/);
        assert.ok(report.evidence.snapshots.every((s) => s.state === "error"));
        assert.ok(report.evidence.memory && report.evidence.manifest);
    });

    it("volume-tag-overflow: volumes at EC2's 50 tags, some dfir:* from earlier evidence: every volume snapshotted, the case's tags win, the rest recorded", async () => {
        const { report, sim } = await run("volume-tag-overflow");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const volumes = sim.instance().blockDevices.map((d) => d.volumeId).sort();
        assert.deepEqual(report.evidence.snapshots.map((s) => s.volumeId).sort(), volumes, "every volume snapshotted");
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
        for (const s of report.evidence.snapshots) {
            const view = sim.snapshots().find((v) => v.snapshotId === s.snapshotId);
            const tags = view?.tags ?? {};
            const user = Object.keys(tags).filter((k) => !k.startsWith("aws:"));
            assert.equal(user.length, 50, "as many as EC2 allows");
            // The case's own tags, not the earlier evidence's; those are kept under volume:.
            assert.deepEqual([tags["dfir:case-id"], tags["dfir:instance-id"], tags["dfir:evidence"]], [report.caseId, sim.instanceId, "disk"]);
            assert.equal(tags["dfir:source-snapshot"], undefined, "not mistaken for a copy");
            assert.equal(tags["volume:dfir:case-id"], "case-restored-from-earlier-evidence");
            assert.equal(tags["volume:dfir:source-snapshot"], "snap-0aaaaaaaaaaaaaaaa");
            assert.match(String(tags.Name), /\/dev\//);
            // What did not fit, and AWS Backup's aws: tag, are in the sealed manifest with their values.
            const recorded = manifest.evidence.disk.snapshots.find((r: { snapshotId: string }) => r.snapshotId === s.snapshotId);
            assert.equal(recorded.volumeTags.copied, 47);
            assert.deepEqual(recorded.volumeTags.notCopied.map((n: { key: string; reason: string }) => `${n.key}: ${n.reason}`), [
                "aws:backup:source-resource: reserved aws: tag",
                "workload:label-43: over EC2's 50 tags",
                "workload:label-44: over EC2's 50 tags",
                "workload:label-45: over EC2's 50 tags",
            ]);
        }
        assert.deepEqual(report.iamDenied, []);
    });

    it("throttling: throttled calls are retried until the response completes", async () => {
        const { report, sim } = await run("throttling");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const throttled = sim.calls.filter((c) => !c.ok && /RequestLimitExceeded|Throttling|SlowDown/.test(c.error ?? ""));
        assert.ok(throttled.length >= 5, `${throttled.length} throttled calls`);
        assert.equal(report.containment?.isolated, true);
    });

    it("instance-terminated: ends FAILED with the containment record sealed, never silently", async () => {
        const { report, sim } = await run("instance-terminated");
        assert.equal(report.status, "FAILED");
        assert.match(report.reason, /containment failed/);
        assert.equal(sim.instance().state, "terminated");
        assert.ok(report.evidence.manifest, "sealed");
        assert.ok(report.notifications.some((n) => /FAILED/.test(n.subject ?? "")));
    });

    it("already-isolated: no interface is moved again; evidence is still taken", async () => {
        const { report, sim } = await run("already-isolated");
        assert.equal(report.status, "SUCCEEDED");
        assert.match(report.reason, /already isolated/);
        assert.equal(sim.calls.filter((c) => c.action === "ec2:ModifyNetworkInterfaceAttribute").length, 0);
        assert.equal(report.containment?.isolated, true);
        assert.ok(report.evidence.memory);
    });

    it("in-asg: detached keeping capacity, out of every target group it was in (paginated listing)", async () => {
        const { report, sim } = await run("in-asg");
        assert.equal(report.status, "SUCCEEDED");
        assert.equal(report.containment?.autoScaling?.inGroup, false);
        const detach = sim.calls.find((c) => c.ok && c.action === "autoscaling:DetachInstances");
        assert.equal((detach?.input as { ShouldDecrementDesiredCapacity: boolean }).ShouldDecrementDesiredCapacity, false);
        assert.ok(sim.calls.filter((c) => c.action === "elasticloadbalancing:DescribeTargetGroups").length >= 3, "paginated");
        // Detaching from the group deregisters it from the group's target groups (draining); any left are deregistered.
        assert.equal(report.containment?.targetGroups.length, 2);
        assert.ok(report.containment?.targetGroups.every((t) => t.state === "draining" || t.state === "unused"), JSON.stringify(report.containment?.targetGroups));
    });

    it("approval-required: asks with a task token, waits, then contains on approval", async () => {
        const { report } = await run("approval-required");
        assert.ok(report.notifications.some((n) => /approval needed/.test(n.subject ?? "")));
        assert.ok(report.executions[0].states.some((s) => s.name === "AskApproval"));
        assert.equal(report.containment?.isolated, true);
        assert.equal(report.status, "SUCCEEDED");
    });

    it("approval-timeout: nobody answers and the default (contain) applies", async () => {
        const { report } = await run("approval-timeout");
        assert.ok(report.executions[0].states.some((s) => s.name === "ApprovalTimedOut"));
        assert.equal(report.containment?.isolated, true);
    });

    it("approval-timeout with default skip: evidence only, nothing contained", async () => {
        const { report, sim } = await run("approval-timeout", { settings: { approvalDefault: "skip" } });
        assert.equal(report.containment?.isolated, false);
        assert.deepEqual(changeCalls(sim).filter((c) => c.action === "ec2:ModifyNetworkInterfaceAttribute"), []);
        assert.match(report.reason, /evidence only/);
    });

    it("approval-denied: evidence only, nothing changed on the instance", async () => {
        const { report, sim } = await run("approval-denied");
        assert.equal(report.containment?.isolated, false);
        assert.deepEqual(changeCalls(sim), []);
        assert.match(report.reason, /evidence only \(containment not approved/);
        assert.ok(report.evidence.snapshots.length > 0 && report.evidence.manifest);
    });

    it("cross-account: a member account's instance is contained through its responder role; evidence lands in the hub", async () => {
        const { report, sim } = await run("cross-account");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const member = sim.instanceAccountId;
        assert.notEqual(member, sim.homeAccountId);
        const assumes = sim.calls.filter((c) => c.action === "sts:AssumeRole");
        assert.equal(assumes.length, 1, "one AssumeRole shared by every client of the member");
        assert.ok(assumes.every((c) => c.ok && c.accountId === sim.homeAccountId));
        for (const c of changeCalls(sim)) assert.equal(c.accountId, member, `${c.action} acts on the member`);
        for (const c of sim.calls.filter((x) => /^(dynamodb|s3):/.test(x.action))) assert.equal(c.accountId, sim.homeAccountId, `${c.action} acts in the hub`);
        assert.equal(report.containment?.isolated, true);
        assert.ok(report.evidence.manifest?.bucket.includes(sim.homeAccountId));
    });

    it("cross-account-role-missing: FAILED with the role named, before any change, and still sealed", async () => {
        const { report, sim } = await run("cross-account-role-missing");
        assert.equal(report.status, "FAILED");
        assert.match(report.reason, /CrossAccountRoleError: cannot assume arn:aws:iam::\d{12}:role\/dfir-responder/);
        assert.deepEqual(changeCalls(sim), []);
        assert.equal(report.evidence.manifest?.mode, "COMPLIANCE", "the FAILED case is sealed in the hub's bucket");
        assert.ok(report.evidence.manifest?.bucket.includes(sim.homeAccountId));
        assert.ok(report.notifications.some((n) => /FAILED/.test(n.subject ?? "")));
    });

    it("windows: contained; memory missing because avml is Linux-only", async () => {
        const { report } = await run("windows");
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /memory missing: windows/);
        assert.equal(report.containment?.isolated, true);
    });

    it("graviton: an arm64 instance is sent the aarch64 avml, which made the image; the manifest names the build", async () => {
        const { report, sim } = await run("graviton");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const builds = sim.deployment.avml;
        assert.ok(builds.aarch64 && builds.x86_64 && builds.aarch64.sha256 !== builds.x86_64.sha256, "both builds staged, different");
        assert.equal(report.evidence.memory?.avmlSha256, builds.aarch64.sha256, "the sidecar says the aarch64 build ran");
        const sent = sim.calls.filter((c) => c.ok && c.action === "ssm:SendCommand").map((c) => (c.input as { Parameters: Record<string, string[]> }).Parameters);
        assert.deepEqual(sent.map((p) => [p.AvmlKey[0], p.AvmlSha256[0]]), [[builds.aarch64.key, builds.aarch64.sha256]]);
        const manifest = JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
        assert.deepEqual(manifest.evidence.memory.avml, { build: "aarch64", ...builds.aarch64 });
        assert.equal(manifest.originalState.architecture, "arm64", "the instance record carries DescribeInstances' Architecture");
    });

    it("an x86_64 instance is sent the x86_64 build (the plain drill)", async () => {
        const { report, sim } = await drill();
        assert.equal(report.evidence.memory?.avmlSha256, sim.deployment.avml.x86_64?.sha256);
    });

    it("memory-hash-mismatch: the image read back is refused, the mismatch recorded", async () => {
        const { report } = await run("memory-hash-mismatch");
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /HashMismatchError/);
    });

    it("knows every scenario the contract names", () => {
        for (const name of ["ssm-offline", "snapshot-error", "throttling", "instance-terminated", "already-isolated", "in-asg", "approval-required", "approval-timeout", "cross-account-role-missing", "copy-to-hub", "copy-to-hub-failed"]) {
            assert.ok((SCENARIOS as readonly string[]).includes(name), name);
        }
    });
});

describe("drill: copying a member's snapshots into the hub (copySnapshotsToHub)", function () {
    this.timeout(60000);
    const manifestOf = (report: DrillReport, sim: SimulatedAccount) =>
        JSON.parse(sim.objectBody(report.evidence.manifest!.bucket, report.evidence.manifest!.key).toString("utf8"));
    const copyCalls = (sim: SimulatedAccount) => sim.calls.filter((c) => c.ok && /^ec2:(CopySnapshot|ModifySnapshotAttribute)$/.test(c.action));

    it("copy-to-hub: SUCCEEDED; each member snapshot is re-encrypted in the member, shared with the hub only, copied in the hub under its evidence key", async () => {
        // Copies take longer than one poll: the copy loop waits and checks again.
        const { report, sim } = await drill({ scenario: "copy-to-hub", simOptions: { copyDurationMs: 45_000 } });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.equal(report.reason, "isolated; evidence complete");
        const member = sim.instanceAccountId;
        const hub = sim.homeAccountId;
        assert.notEqual(member, hub);

        // The evidence of record: the member's own snapshots, untouched (still in the member, shared with nobody).
        const views = new Map(sim.snapshots().map((v) => [v.snapshotId, v]));
        assert.equal(report.evidence.snapshots.length, 2);
        for (const s of report.evidence.snapshots) {
            assert.equal(views.get(s.snapshotId)?.accountId, member);
            assert.equal(s.state, "completed");
            assert.deepEqual(views.get(s.snapshotId)?.sharedWith, []);
        }
        // One hub copy per member snapshot, in the hub, under the hub's evidence key, made from a member copy
        // under the member's share key that is shared with exactly the hub.
        assert.deepEqual(report.evidence.hubCopies.map((c) => c.sourceSnapshotId).sort(), report.evidence.snapshots.map((s) => s.snapshotId).sort());
        for (const c of report.evidence.hubCopies) {
            assert.equal(c.accountId, hub);
            assert.equal(c.state, "completed");
            assert.equal(c.kmsKeyId, sim.deployment.evidenceKeyArn);
            const via = views.get(c.viaSnapshotId);
            assert.equal(via?.accountId, member);
            assert.equal(via?.copyOf?.snapshotId, c.sourceSnapshotId);
            assert.deepEqual(via?.sharedWith, [hub]);
            assert.match(String(via?.kmsKeyId), new RegExp(`^arn:aws:kms:${sim.region}:${member}:key/`));
            assert.equal(via?.tags["dfir:evidence"], "disk-share-copy");
        }
        // Who did what: the member copies and shares through the responder role; the hub copies with its own credentials.
        const calls = copyCalls(sim);
        assert.deepEqual(calls.filter((c) => c.action === "ec2:CopySnapshot").map((c) => c.accountId).sort(), [hub, hub, member, member].sort());
        assert.deepEqual(calls.filter((c) => c.action === "ec2:ModifySnapshotAttribute").map((c) => c.accountId), [member, member]);
        const states = report.executions[0].states.map((st) => st.name);
        assert.ok(states.includes("StartHubCopy"));
        assert.ok(states.filter((n) => n === "CheckHubCopy").length >= 2, "waited for the copies");
        assert.match(formatTimeline(report), /Disk in the hub \(210987654321\): snap-/);
        assert.equal(formatTimeline(report).trimEnd().split("\n").at(-1), `Ended: ${report.status}`, "the last line says how it ended");

        // The sealed manifest records, per snapshot, the member snapshot, its member copy, the hub copy, keys and states.
        const disk = manifestOf(report, sim).evidence.disk;
        assert.equal(disk.status, "collected");
        assert.equal(disk.copy.status, "completed");
        assert.equal(disk.copy.hubAccountId, hub);
        assert.equal(disk.copy.sourceAccountId, member);
        for (const r of disk.copy.snapshots) {
            const hubCopy = report.evidence.hubCopies.find((c) => c.sourceSnapshotId === r.sourceSnapshotId);
            assert.deepEqual(
                [r.memberCopyId, r.memberCopyState, r.shared, r.hubCopyId, r.hubCopyState, r.hubKeyArn, r.memberKeyId],
                [hubCopy?.viaSnapshotId, "completed", true, hubCopy?.snapshotId, "completed", sim.deployment.evidenceKeyArn, `arn:aws:kms:${sim.region}:${member}:alias/dfir-snapshot-share`],
            );
        }
    });

    it("copy-to-hub-failed: the hub's copies end in error; PARTIAL with the gap recorded, the member snapshots kept as the disk evidence", async () => {
        const { report, sim } = await drill({ scenario: "copy-to-hub-failed" });
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^disk copy to hub: SnapshotCopyFailedError: copy into the hub failed: hub copy snap-/);
        assert.match(String(report.evidence.hubCopyMissing), /^SnapshotCopyFailedError/);
        // The gap as the sealed manifest records it, the same the one-line reason quotes.
        assert.ok(report.reason.includes(`disk copy to hub: ${report.evidence.hubCopyMissing}`), report.reason);
        assert.equal(report.containment?.isolated, true);
        assert.ok(report.evidence.memory && report.evidence.metadata.length > 0, "the other evidence is untouched");
        assert.equal(report.evidence.snapshots.length, 2);
        assert.ok(report.evidence.snapshots.every((s) => s.state === "completed"));
        assert.ok(report.notifications.some((n) => /PARTIAL/.test(n.subject ?? "")));

        const manifest = manifestOf(report, sim);
        assert.equal(manifest.status, "PARTIAL");
        assert.equal(manifest.evidence.disk.status, "collected");
        assert.deepEqual(manifest.evidence.disk.snapshots.map((s: { snapshotId: string }) => s.snapshotId).sort(), report.evidence.snapshots.map((s) => s.snapshotId).sort());
        assert.equal(manifest.evidence.disk.copy.status, "failed");
        assert.equal(manifest.evidence.disk.copy.error.Error, "SnapshotCopyFailedError");
        assert.deepEqual(manifest.evidence.missing.map((m: { item: string }) => m.item), ["disk copy to hub"]);
        assert.match(formatTimeline(report), /Disk copy to the hub: MISSING \(SnapshotCopyFailedError/);
    });

    it("cmk-volume: the member's volumes under a customer managed key whose policy enables IAM: the responder reads them through EC2, SUCCEEDED with completed hub copies", async () => {
        const { report, sim } = await drill({ scenario: "cmk-volume" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const member = sim.instanceAccountId;
        const views = new Map(sim.snapshots().map((v) => [v.snapshotId, v]));
        const volumeKey = sim.volumes().find((v) => v.attachment?.instanceId === sim.instanceId)?.kmsKeyId;
        assert.match(String(volumeKey), new RegExp(`^arn:aws:kms:${sim.region}:${member}:key/`));
        for (const s of report.evidence.snapshots) assert.equal(views.get(s.snapshotId)?.kmsKeyId, volumeKey, "the evidence is under the volume's key");
        assert.equal(report.evidence.hubCopies.length, report.evidence.snapshots.length);
        for (const c of report.evidence.hubCopies) {
            assert.equal(c.state, "completed");
            assert.equal(c.kmsKeyId, sim.deployment.evidenceKeyArn);
            assert.notEqual(views.get(c.viaSnapshotId)?.kmsKeyId, volumeKey, "re-encrypted under the share key");
        }
        assert.deepEqual(report.iamDenied, []);
    });

    it("cmk-volume-no-iam: the key's policy does not let the account's IAM policies use it: PARTIAL, the reason names the key and why; the member snapshots stay the evidence", async () => {
        const { report, sim } = await drill({ scenario: "cmk-volume-no-iam" });
        assert.equal(report.status, "PARTIAL");
        const member = sim.instanceAccountId;
        const volumeKey = String(sim.volumes().find((v) => v.attachment?.instanceId === sim.instanceId)?.kmsKeyId);
        assert.ok(report.reason.startsWith(`disk copy to hub: SnapshotCopyFailedError: copy into the hub failed: KMS key ${volumeKey} (the source snapshot's): its key policy does not let the account's IAM policies use it`), report.reason);
        // EC2 accepted the copies, which ended in error (as EBS does): the key policy refused, nothing else.
        assert.ok(sim.calls.some((c) => c.action === "ec2:CopySnapshot" && c.ok && c.accountId === member));
        assert.ok(report.iamDenied.length > 0 && report.iamDenied.every((d) => (d.call === "ec2:CopySnapshot" || d.call === "ebs:GetSnapshotBlock") && d.resource === volumeKey && /key policy .* does not allow it/.test(d.reason) && !/no statement of dfir-responder/.test(d.reason)), JSON.stringify(report.iamDenied));
        assert.deepEqual(report.evidence.hubCopies, []);
        assert.equal(report.evidence.snapshots.length, 2);
        assert.ok(report.evidence.snapshots.every((s) => s.state === "completed"));
        // The sealed manifest keeps the whole error: every member copy, EC2's words, the key once.
        const manifest = manifestOf(report, sim);
        assert.deepEqual(manifest.evidence.missing.map((m: { item: string }) => m.item), ["disk copy to hub"]);
        const cause = String(manifest.evidence.disk.copy.error.Cause);
        for (const s of report.evidence.snapshots) assert.match(cause, new RegExp(`member copy snap-\\w+ of ${s.snapshotId}: Given key ID is not accessible`));
        assert.equal(cause.split(volumeKey).length, 2);
    });

    it("a member that cannot share its copies (the responder lacks ModifySnapshotAttribute): PARTIAL, nothing copied into the hub", async () => {
        const { report, sim } = await drill({
            scenario: "copy-to-hub",
            simOptions: { faults: [{ action: "ec2:ModifySnapshotAttribute", error: "UnauthorizedOperation", times: 100, status: 403 }] },
        });
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^disk copy to hub: SnapshotCopyFailedError: .*share snap-\w+ of snap-\w+: with 210987654321: UnauthorizedOperation/);
        assert.deepEqual(copyCalls(sim).filter((c) => c.accountId === sim.homeAccountId), [], "no copy of an unshared snapshot was even tried in the hub");
        assert.deepEqual(report.evidence.hubCopies, []);
        assert.equal(report.evidence.snapshots.length, 2);
    });

    it("never copies a same-account instance, even deployed with the flag: no copy state entered, no copy call", async () => {
        const { report, sim } = await drill({ simOptions: { copySnapshotsToHub: true } });
        assert.equal(sim.deployment.copySnapshotsToHub, true);
        assert.equal(sim.instanceAccountId, sim.homeAccountId);
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.ok(!report.executions[0].states.some((st) => /HubCopy/.test(st.name)));
        assert.deepEqual(copyCalls(sim), []);
        assert.deepEqual(report.evidence.hubCopies, []);
    });

    it("without the flag, a member's finding enters no copy state and makes no copy call (the cross-account response as before)", async () => {
        const { report, sim } = await drill({ scenario: "cross-account" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.ok(!report.executions[0].states.some((st) => /HubCopy/.test(st.name)));
        assert.deepEqual(copyCalls(sim), []);
    });
});

describe("drill: all 30 real GuardDuty events", function () {
    this.timeout(120000);
    const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort();

    it("has 30 events", () => assert.equal(files.length, 30));

    for (const file of files) {
        it(`${file}: ${triage(fixture(file)).decision === "respond" ? "contained and evidenced" : "touches nothing"}`, async () => {
            const decision = triage(fixture(file)).decision;

            const report = await runDrill({ finding: fixture(file), simOptions: SMALL });

            if (decision === "respond") {
                assert.equal(report.status, "SUCCEEDED", report.reason);
                assert.equal(report.containment?.isolated, true);
                assert.ok(report.evidence.memory && report.evidence.manifest && report.evidence.snapshots.length === 2);
            } else {
                assert.equal(report.status, "IGNORED");
                assert.deepEqual(report.calls, []);
            }
        });
    }
});

describe("drill command", function () {
    this.timeout(60000);
    const cli = (args: string[]) => spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/drill.ts", ...args], {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });

    it("drills the default real finding with no --finding, prints one JSON report with --json, and keeps the simulated account across runs with --state", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-drill-"));
        const args = ["--json", "--state", dir];

        const first = cli(args);
        const second = cli(["--finding", path.join(FIXTURES, BITCOIN), ...args]);

        assert.equal(first.status, 0, first.stderr);
        assert.equal(first.stderr, `drill: no --finding given: drilling ${path.join("fixtures", "guardduty", BITCOIN)} (a real GuardDuty finding)\n`);
        assert.equal(path.join(FIXTURES, BITCOIN), DEFAULT_FINDING);
        assert.equal(second.stderr, "");
        const report = JSON.parse(first.stdout);
        assert.equal(report.status, "SUCCEEDED");
        for (const key of ["status", "reason", "caseId", "calls", "containment", "evidence"]) assert.ok(key in report, key);
        assert.ok(report.calls.every((c: Record<string, unknown>) => typeof c.atMs === "number" && typeof c.action === "string" && typeof c.ok === "boolean"));
        assert.ok(fs.existsSync(path.join(dir, "state.json")));
        assert.equal(second.status, 0, second.stderr);
        assert.equal(JSON.parse(second.stdout).executions[0].status, "REPEAT", "the second delivery finds the open case");
    });

    it("rejects bad input with one line on stderr, nothing on stdout and exit 2", () => {
        const result = cli(["--finding", path.join(FIXTURES, BITCOIN), "--scenario", "nope"]);

        assert.equal(result.status, 2, result.stderr);
        assert.equal(result.stdout, "");
        assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
        assert.match(result.stderr, /^drill: unknown scenario "nope"/);
    });

    it("refuses a damaged --state directory with one line and no change to it", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-drill-bad-"));
        fs.writeFileSync(path.join(dir, "state.json"), "{not json");

        const result = cli(["--finding", path.join(FIXTURES, BITCOIN), "--state", dir]);

        assert.equal(result.status, 2, result.stderr);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /^drill: cannot load the simulated account from .*state\.json: /);
        assert.equal(result.stderr.trim().split("\n").length, 1);
        assert.equal(fs.readFileSync(path.join(dir, "state.json"), "utf8"), "{not json");
    });

    it("refuses a --state that cannot be a directory before the run, in one line (it used to crash after the run)", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dfir-drill-file-")), "not-a-dir");
        fs.writeFileSync(file, "x");

        const result = cli(["--finding", path.join(FIXTURES, BITCOIN), "--state", file]);

        assert.equal(result.status, 2, result.stderr);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /^drill: --state .*not-a-dir cannot be used as a directory: EEXIST/);
        assert.equal(result.stderr.trim().split("\n").length, 1);
        assert.equal(fs.readFileSync(file, "utf8"), "x");
    });

    it("names the problem in one line for every other bad argument (parsed in-process)", () => {
        const read = (file: string) => fs.readFileSync(file, "utf8");
        const cases: [string[], RegExp][] = [
            [["--finding", ""], /^--finding needs a FILE \(usage: drill \[--finding FILE\]/],
            [["--finding", "/nonexistent.json"], /cannot read \/nonexistent\.json: ENOENT/],
            [["--finding", path.join(FIXTURES, BITCOIN), "--latency-ms", "-1"], /--latency-ms|argument/],
            [["--finding", path.join(FIXTURES, BITCOIN), "--volumes", "0"], /--volumes needs a whole number from 1 to 16/],
            [["--finding", path.join(FIXTURES, BITCOIN), "--bogus"], /unknown option '--bogus'/i],
            [["--finding", path.join(FIXTURES, BITCOIN), "--concurrent"], /^--concurrent applies only with --repeat N/],
        ];
        for (const [args, message] of cases) {
            assert.throws(() => parseDrillCommand(args, read), (e: Error) => e instanceof InputError && message.test(e.message) && !e.message.includes("\n"), args.join(" "));
        }
    });
});

describe("drill: the interpreter's state machine", () => {
    it("validates each distinct definition: an invalid one is refused every time, a valid one runs every time", async () => {
        const valid = { StartAt: "Done", States: { Done: { Type: "Pass", Result: { ok: 1 }, End: true } } } as unknown as StateMachineDefinition;
        const invalid = { StartAt: "Nowhere", States: { Done: { Type: "Pass", End: true } } } as unknown as StateMachineDefinition;
        for (let i = 0; i < 2; i++) {
            assert.throws(() => stateMachine(invalid), /definition is invalid/, `attempt ${i + 1}`);
            const { result } = stateMachine(valid).run({});
            assert.deepEqual(await result, { ok: 1 });
        }
    });
});
