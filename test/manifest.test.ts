import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { DynamoDBClient, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { publicKeySpki, scalarFrom, signDigest } from "../drill/sim/ecdsa";
import { verifySignatureRecord } from "../core/signature";
import {
    buildManifest,
    caseStatus,
    DISK_COPY_GAP,
    executionName,
    gapText,
    manifestKey,
    serializeManifest,
    stepErrorText,
    type ExecutionState,
    type SealInput,
} from "../core/manifest";
import type { CaseOpened, ContainmentResult, DiskCopy, DiskEvidence, StepError } from "../core/workflow";
import { setClientCustomizer } from "../functions/lib/aws";
import { InvalidRequestError, ManifestConflictError } from "../functions/lib/evidenceErrors";
import { canonicalJson, sha256Hex } from "../core/hash";
import { handler as sealHandler } from "../functions/seal/index";

const INSTANCE_ID = "i-0123456789abcdef0";
const CASE_ID = `${INSTANCE_ID}-0a1b2c3d4e5f`;
const BUCKET = "dfir-evidence-123456789012-us-east-1";
const EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:dfir-response:0f1e2d3c-exec";
const SEALED_AT = "2025-03-01T12:00:00.000Z";
const IMAGE_SHA = "d".repeat(64);

const CASE: CaseOpened = {
    caseId: CASE_ID,
    isNew: true,
    target: { accountId: "123456789012", region: "us-east-1", instanceId: INSTANCE_ID },
    findingIds: ["finding-1"],
    openedAt: "2025-03-01T11:00:00.000Z",
    instance: {
        instanceId: INSTANCE_ID,
        state: "running",
        platform: "linux",
        vpcId: "vpc-0a1b2c3d4e5f60718",
        networkInterfaces: [
            { networkInterfaceId: "eni-a", groups: ["sg-web", "sg-ssh"], deviceIndex: 0, ipv6Addresses: [] },
            { networkInterfaceId: "eni-b", groups: ["sg-app"], deviceIndex: 1, ipv6Addresses: ["2600:1f18::10"] },
        ],
        iamInstanceProfile: { arn: "arn:aws:iam::123456789012:instance-profile/web", associationId: "iip-assoc-1" },
        volumes: [{ volumeId: "vol-r", deviceName: "/dev/xvda", deleteOnTermination: true, root: true }],
        tags: { Name: "web-1" },
        disableApiTermination: false,
        disableApiStop: false,
        shutdownBehavior: "stop",
    },
    approvalRequired: false,
    skipContainment: false,
    evidence: { bucket: BUCKET, prefix: `cases/${CASE_ID}/` },
};

const CONTAINED: ContainmentResult = {
    caseId: CASE_ID,
    instanceId: INSTANCE_ID,
    status: "isolated",
    isolationGroupId: "sg-iso",
    untrackGroupId: "sg-untrack",
    isolatedAt: "2025-03-01T11:00:09.000Z",
    actions: [
        { action: "ec2:ModifyNetworkInterfaceAttribute", target: "eni-b", at: "2025-03-01T11:00:08.000Z", ok: true, detail: "isolation group sg-iso" },
        { action: "ec2:ModifyNetworkInterfaceAttribute", target: "eni-a", at: "2025-03-01T11:00:05.000Z", ok: true, detail: "untrack group sg-untrack" },
    ],
};

/** A complete, successful execution state as the state machine hands it to the seal step. */
function fullState(): ExecutionState {
    return structuredClone({
        version: "0",
        id: "event-1",
        "detail-type": "GuardDuty Finding",
        source: "aws.guardduty",
        detail: { id: "finding-1", type: "Backdoor:EC2/C&CActivity.B!DNS", severity: 8 },
        triage: {
            verdict: {
                decision: "respond",
                reason: "actionable: High",
                findingId: "finding-1",
                findingType: "Backdoor:EC2/C&CActivity.B!DNS",
                severity: 8,
                accountId: "123456789012",
                region: "us-east-1",
                instanceId: INSTANCE_ID,
                caseId: CASE_ID,
            },
        },
        case: CASE,
        containment: CONTAINED,
        evidence: [
            {
                snapshots: [{ snapshotId: "snap-r", volumeId: "vol-r", state: "completed", progress: "100%", lock: { state: "compliance", durationDays: 365, lockedAt: "2025-03-01T11:00:11.000Z" } }],
                startedAt: "2025-03-01T11:00:10.000Z",
                deadline: "2025-03-02T11:00:10.000Z",
                done: true,
            },
            {
                status: "captured",
                commandId: "cmd-1",
                deadline: "2025-03-01T14:00:11.000Z",
                startedAt: "2025-03-01T11:00:11.000Z",
                object: { bucket: BUCKET, key: `cases/${CASE_ID}/memory/${INSTANCE_ID}.lime`, versionId: "v-img", sha256: IMAGE_SHA, bytes: 4096 },
                hostSha256: IMAGE_SHA,
                partSize: 8388608,
                partCount: 1,
                partsSha256: "f".repeat(64),
            },
            {
                objects: [{ bucket: BUCKET, key: `cases/${CASE_ID}/metadata/instance.json`, versionId: "v-i", sha256: "e".repeat(64), bytes: 100 }],
                missing: [],
                collectedAt: "2025-03-01T11:00:12.000Z",
            },
        ],
    } satisfies ExecutionState);
}

const lambdaError = (type: string, message: string): StepError => ({
    Error: type,
    Cause: JSON.stringify({ errorType: type, errorMessage: message, trace: ["at x"] }),
});

/** Deep copy with every object's keys in reverse insertion order. */
function reverseKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(reverseKeys);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.keys(value).reverse().map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]));
    }
    return value;
}

// ---------------------------------------------------------------------------------------------------------------
describe("canonical JSON and hashes", () => {
    it("sorts keys at every depth, keeps array order, no whitespace, drops undefined", () => {
        assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, u: undefined }), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
        assert.equal(canonicalJson([undefined, "é"]), '[null,"é"]');
        assert.equal(canonicalJson({ t: new Date("2025-01-01T00:00:00Z") }), '{"t":"2025-01-01T00:00:00.000Z"}');
    });

    it("refuses values JSON cannot hold faithfully", () => {
        assert.throws(() => canonicalJson({ n: Number.NaN }), TypeError);
        assert.throws(() => canonicalJson(undefined), TypeError);
    });

    it("sha256Hex matches the FIPS 180-2 'abc' vector", () => {
        assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert.equal(sha256Hex(Buffer.from("abc")), sha256Hex("abc"));
    });

    it("the manifest hash is stable under key reordering of the whole execution state", () => {
        const input: SealInput = { state: fullState(), executionArn: EXECUTION_ARN, sealedAt: SEALED_AT };
        const a = serializeManifest(buildManifest(input));
        const b = serializeManifest(buildManifest(reverseKeys(input) as SealInput));
        assert.equal(a.body, b.body);
        assert.equal(a.sha256, b.sha256);
        assert.equal(a.sha256, createHash("sha256").update(a.body, "utf8").digest("hex"));
        assert.ok(!/\s/.test(a.body.replace(/"[^"]*"/g, "")), "no whitespace outside strings");
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("caseStatus", () => {
    type Edit = (s: ExecutionState) => void;
    const memoryMissing = (reason: string): Edit => (s) => {
        s.evidence![1] = { status: "missing", reason };
    };
    const skipped = (reason: string): Edit => (s) => {
        s.containment = { caseId: CASE_ID, instanceId: INSTANCE_ID, status: "skipped", reason, actions: [] };
    };
    const partialContainment = lambdaError("PartialContainmentError", "partial containment of i-0123456789abcdef0: 1 interface(s) not isolated");

    const cases: Array<{ name: string; edits: Edit[]; status: string; reason: string }> = [
        { name: "contained, all evidence", edits: [], status: "SUCCEEDED", reason: "isolated; evidence complete" },
        {
            name: "already isolated, all evidence",
            edits: [(s) => { s.containment!.status = "already-isolated"; }],
            status: "SUCCEEDED",
            reason: "already isolated; evidence complete",
        },
        { name: "contained, memory agent offline", edits: [memoryMissing("ssm-agent-offline")], status: "PARTIAL", reason: "memory missing: ssm-agent-offline" },
        {
            // Collected but not locked: anyone allowed DeleteSnapshot in the account could destroy it (core/snapshotLock.ts).
            name: "contained, all evidence, a snapshot's lock refused",
            edits: [(s) => { (s.evidence![0] as DiskEvidence).snapshots[0].lock = { error: "LockSnapshot refused: UnauthorizedOperation: no" }; }],
            status: "PARTIAL",
            reason: "disk lock: snap-r not locked: LockSnapshot refused: UnauthorizedOperation: no",
        },
        {
            name: "contained, all evidence, a snapshot locked in governance mode (an administrator may lift it)",
            edits: [(s) => { (s.evidence![0] as DiskEvidence).snapshots[0].lock = { state: "governance", durationDays: 365 }; }],
            status: "PARTIAL",
            reason: "disk lock: snap-r locked governance, not in compliance mode",
        },
        {
            name: "contained, a containment action failed (listed before the evidence gaps)",
            edits: [
                (s) => { s.containment!.actions.push({ action: "iam:AttachRolePolicy", target: "web-role", at: SEALED_AT, ok: false, error: "LimitExceeded: quota\nmore" }); },
                memoryMissing("ssm-agent-offline"),
            ],
            status: "PARTIAL",
            reason: "containment incomplete: iam:AttachRolePolicy web-role failed (LimitExceeded: quota); memory missing: ssm-agent-offline",
        },
        {
            name: "contained, a refused network call whose interface the network record shows isolated with no open path",
            edits: [(s) => {
                s.containment!.interfaces = [{ networkInterfaceId: "eni-1", vpcId: "vpc-1", isolationGroupId: "sg-1", isolated: true, possiblyOpen: false, paths: [{ path: "other-subnets", open: false, reason: "denied" }] }];
                s.containment!.actions.push(
                    { action: "ec2:CreateNetworkAclEntry", target: "acl-1", at: SEALED_AT, ok: false, error: "NetworkAclEntryAlreadyExists: 99" },
                    { action: "ec2:CreateNetworkAclEntry", target: "acl-1", at: SEALED_AT, ok: true, detail: "rule 98" },
                );
            }],
            status: "SUCCEEDED",
            reason: "isolated; evidence complete",
        },
        {
            name: "contained, the same refused call but the interface's record shows a path still open",
            edits: [(s) => {
                s.containment!.interfaces = [{ networkInterfaceId: "eni-1", vpcId: "vpc-1", isolationGroupId: "sg-1", isolated: true, possiblyOpen: true, paths: [{ path: "other-subnets", open: true, reason: "an ACL left alone" }] }];
                s.containment!.actions.push({ action: "ec2:CreateNetworkAclEntry", target: "acl-1", at: SEALED_AT, ok: false, error: "NetworkAclEntryLimitExceeded: full" });
            }],
            status: "PARTIAL",
            reason: "network: eni-1 may still carry an established flow (other-subnets)",
        },
        {
            name: "contained, disk branch failed (Lambda JSON cause)",
            edits: [(s) => { s.evidence![0] = { error: lambdaError("SnapshotFailedError", "snapshot failed: snap-r of vol-r: Internal error") }; }],
            status: "PARTIAL",
            reason: "disk missing: SnapshotFailedError: snapshot failed: snap-r of vol-r: Internal error",
        },
        {
            name: "contained, screenshot unsupported and memory still running",
            edits: [
                (s) => { (s.evidence![2] as { missing: unknown[] }).missing = [{ item: "console-screenshot", reason: "UnsupportedOperation: no" }]; },
                (s) => { s.evidence![1] = { status: "started", commandId: "cmd-1", deadline: SEALED_AT }; },
            ],
            status: "PARTIAL",
            reason: "memory missing: capture did not finish; console-screenshot missing: UnsupportedOperation: no",
        },
        {
            name: "contained, the evidence Parallel itself failed",
            edits: [(s) => { delete s.evidence; s.evidenceError = { Error: "States.Runtime", Cause: "boom" }; }],
            status: "PARTIAL",
            reason: "evidence missing: States.Runtime: boom",
        },
        { name: "dfir:skip, all evidence", edits: [skipped("dfir:skip")], status: "SUCCEEDED", reason: "evidence only (dfir:skip)" },
        {
            name: "dfir:skip, Windows memory",
            edits: [skipped("dfir:skip"), memoryMissing("windows: avml is Linux-only")],
            status: "PARTIAL",
            reason: "evidence only (dfir:skip); memory missing: windows: avml is Linux-only",
        },
        {
            name: "approval refused (the state machine's NotContained result)",
            edits: [skipped("containment not approved (task-failure)"), (s) => { s.approval = { approved: false, by: "task-failure" }; }],
            status: "SUCCEEDED",
            reason: "evidence only (containment not approved (task-failure))",
        },
        {
            name: "skip flag on the case without a containment result",
            edits: [(s) => { delete s.containment; s.case!.skipContainment = true; }],
            status: "SUCCEEDED",
            reason: "evidence only (dfir:skip)",
        },
        {
            name: "containment failed",
            edits: [(s) => { delete s.containment; s.containError = partialContainment; }],
            status: "FAILED",
            reason: "containment failed: PartialContainmentError: partial containment of i-0123456789abcdef0: 1 interface(s) not isolated",
        },
        {
            name: "containment failed and memory missing",
            edits: [(s) => { delete s.containment; s.containError = { Error: "NoIsolationGroupError", Cause: "no isolation group for vpc-1" }; }, memoryMissing("ssm-agent-offline")],
            status: "FAILED",
            reason: "containment failed: NoIsolationGroupError: no isolation group for vpc-1; memory missing: ssm-agent-offline",
        },
        {
            name: "approval refused with no containment result",
            edits: [(s) => { delete s.containment; s.approval = { approved: false, by: "alice" }; }],
            status: "SUCCEEDED",
            reason: "evidence only (containment not approved (alice))",
        },
        { name: "containment never ran", edits: [(s) => { delete s.containment; }], status: "FAILED", reason: "containment did not run" },
        {
            name: "case could not open",
            edits: [(s) => { delete s.case; delete s.containment; delete s.evidence; s.caseError = lambdaError("InstanceNotFoundError", "instance i-0123456789abcdef0 not found"); }],
            status: "FAILED",
            reason: "case not opened: InstanceNotFoundError: instance i-0123456789abcdef0 not found",
        },
        {
            name: "ignored verdict",
            edits: [(s) => { s.triage.verdict = { decision: "ignore", reason: "sample-finding: sample" }; }],
            status: "IGNORED",
            reason: "sample-finding: sample",
        },
    ];

    for (const c of cases) {
        it(`${c.name} -> ${c.status}`, () => {
            const state = fullState();
            for (const edit of c.edits) edit(state);
            const outcome = caseStatus(state);
            assert.equal(outcome.status, c.status);
            assert.equal(outcome.reason, c.reason);
        });
    }

    it("cuts long error causes in the reason (the full error stays in the manifest)", () => {
        const text = stepErrorText({ Error: "X", Cause: "y".repeat(1000) });
        assert.ok(text.length <= 240 && text.endsWith("..."));
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("buildManifest", () => {
    it("records the case, original state, every action in time order, evidence objects and hashes", () => {
        const m = buildManifest({ state: fullState(), executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
        assert.equal(m.schemaVersion, "aws-dfir.manifest/1");
        assert.equal(m.caseId, CASE_ID);
        assert.equal(m.status, "SUCCEEDED");
        assert.equal(m.executionArn, EXECUTION_ARN);
        assert.deepEqual(m.target, CASE.target);
        assert.deepEqual(m.findings.ids, ["finding-1"]);
        assert.equal((m.findings.event as { detail: { id: string } }).detail.id, "finding-1");
        assert.equal(m.findings.event?.triage, undefined, "step results are not repeated as the event");
        assert.deepEqual(m.originalState?.networkInterfaces.map((n) => n.groups), [["sg-web", "sg-ssh"], ["sg-app"]]);
        assert.equal(m.originalState?.iamInstanceProfile?.associationId, "iip-assoc-1");
        assert.deepEqual(m.containment, {
            status: "isolated",
            isolationGroupId: "sg-iso",
            untrackGroupId: "sg-untrack",
            isolatedAt: "2025-03-01T11:00:09.000Z",
        });
        assert.deepEqual(m.actions.map((a) => [a.at, a.action, a.target]), [
            ["2025-03-01T11:00:05.000Z", "ec2:ModifyNetworkInterfaceAttribute", "eni-a"],
            ["2025-03-01T11:00:08.000Z", "ec2:ModifyNetworkInterfaceAttribute", "eni-b"],
            ["2025-03-01T11:00:10.000Z", "ec2:CreateSnapshots", INSTANCE_ID],
            ["2025-03-01T11:00:11.000Z", "ssm:SendCommand", INSTANCE_ID],
            ["2025-03-01T11:00:12.000Z", "s3:PutObject", `s3://${BUCKET}/cases/${CASE_ID}/metadata/instance.json`],
        ]);
        assert.deepEqual(m.evidence.disk.snapshots, [{ snapshotId: "snap-r", volumeId: "vol-r", state: "completed", progress: "100%", lock: { state: "compliance", durationDays: 365, lockedAt: "2025-03-01T11:00:11.000Z" } }]);
        assert.equal(m.evidence.disk.status, "collected");
        assert.equal(m.evidence.memory.hostSha256, IMAGE_SHA);
        assert.deepEqual([m.evidence.memory.partSize, m.evidence.memory.partCount, m.evidence.memory.partsSha256], [8388608, 1, "f".repeat(64)], "the verified part record");
        assert.deepEqual(m.evidence.objects.map((o) => [o.key, o.versionId, o.sha256, o.bytes]), [
            [`cases/${CASE_ID}/memory/${INSTANCE_ID}.lime`, "v-img", IMAGE_SHA, 4096],
            [`cases/${CASE_ID}/metadata/instance.json`, "v-i", "e".repeat(64), 100],
        ]);
        assert.deepEqual(m.evidence.missing, []);
        assert.equal(m.timestamps.openedAt, CASE.openedAt);
        assert.equal(m.timestamps.sealedAt, SEALED_AT);
        assert.equal(m.errors, undefined);
    });

    it("lists missing evidence with reasons and keeps the failed steps' errors", () => {
        const state = fullState();
        state.evidence![1] = { status: "missing", reason: "ssm-agent-offline" };
        state.evidence![0] = { error: { Error: "SnapshotTimeoutError", Cause: "not by deadline" } };
        const m = buildManifest({ state, executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
        assert.equal(m.status, "PARTIAL");
        assert.deepEqual(m.evidence.missing, [
            { item: "disk", reason: "SnapshotTimeoutError: not by deadline" },
            { item: "memory", reason: "ssm-agent-offline" },
        ]);
        assert.equal(m.evidence.disk.status, "missing");
        assert.deepEqual(m.evidence.disk.error, { Error: "SnapshotTimeoutError", Cause: "not by deadline" });
        assert.equal(m.evidence.memory.status, "missing");
        assert.equal(m.evidence.memory.reason, "ssm-agent-offline");
    });

    describe("a member's snapshots copied into the hub (copySnapshotsToHub)", () => {
        const MEMBER = "222222222222";
        const HUB = "123456789012";
        const HUB_KEY = `arn:aws:kms:us-east-1:${HUB}:key/evidence`;
        const SHARE_KEY = `arn:aws:kms:us-east-1:${MEMBER}:alias/dfir-snapshot-share`;
        const copy = (done: boolean): DiskCopy => ({
            hubAccountId: HUB,
            sourceAccountId: MEMBER,
            startedAt: "2025-03-01T11:00:40.000Z",
            deadline: "2025-03-02T11:00:40.000Z",
            done,
            snapshots: [{
                sourceSnapshotId: "snap-r", volumeId: "vol-r", memberCopyId: "snap-share", memberCopyState: "completed", memberKeyId: SHARE_KEY,
                shared: true, hubCopyId: "snap-hub", hubCopyState: done ? "completed" : "pending", hubKeyArn: HUB_KEY,
                hubCopyLock: { state: "compliance", durationDays: 365, lockedAt: "2025-03-01T11:20:00.000Z" },
            }],
        });
        const withCopy = (edit: (disk: DiskEvidence) => void): ExecutionState => {
            const state = fullState();
            state.case!.target = { accountId: MEMBER, region: "us-east-1", instanceId: INSTANCE_ID, roleArn: `arn:aws:iam::${MEMBER}:role/dfir-responder` };
            edit(state.evidence![0] as DiskEvidence);
            return state;
        };

        it("records per snapshot the member snapshot, the member copy, the hub copy, their keys and states; SUCCEEDED", () => {
            const m = buildManifest({ state: withCopy((d) => { d.copy = copy(true); }), executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
            assert.equal(m.status, "SUCCEEDED");
            assert.equal(m.reason, "isolated; evidence complete");
            assert.equal(m.evidence.disk.status, "collected");
            assert.deepEqual(m.evidence.disk.snapshots.map((s) => s.snapshotId), ["snap-r"], "the member snapshots stay the disk evidence");
            assert.deepEqual(m.evidence.disk.copy, { status: "completed", hubAccountId: HUB, sourceAccountId: MEMBER, startedAt: "2025-03-01T11:00:40.000Z", deadline: "2025-03-02T11:00:40.000Z", snapshots: copy(true).snapshots });
            assert.equal(m.timestamps.hubCopyStartedAt, "2025-03-01T11:00:40.000Z");
            const action = m.actions.find((a) => a.action === "ec2:CopySnapshot");
            assert.deepEqual(action, {
                action: "ec2:CopySnapshot", target: INSTANCE_ID, at: "2025-03-01T11:00:40.000Z", ok: true,
                detail: `snap-r -> member copy snap-share shared with ${HUB} -> hub copy snap-hub: completed`,
            });
        });

        it("a failed copy is PARTIAL with the gap 'disk copy to hub', the member snapshots still collected", () => {
            const error = lambdaError("SnapshotCopyFailedError", "copy into the hub failed for instance i-0123456789abcdef0: hub copy snap-hub of snap-r: broken");
            const state = withCopy((d) => { d.copy = copy(false); d.copyError = error; });
            const outcome = caseStatus(state);
            assert.equal(outcome.status, "PARTIAL");
            assert.equal(outcome.reason, "disk copy to hub: SnapshotCopyFailedError: copy into the hub failed for instance i-0123456789abcdef0: hub copy snap-hub of snap-r: broken");
            const m = buildManifest({ state, executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
            assert.equal(m.evidence.disk.status, "collected");
            assert.deepEqual(m.evidence.disk.snapshots.map((s) => [s.snapshotId, s.state]), [["snap-r", "completed"]]);
            assert.equal(m.evidence.disk.copy?.status, "failed");
            assert.deepEqual(m.evidence.disk.copy?.error, error);
            assert.equal(m.evidence.disk.copy?.snapshots[0].hubCopyId, "snap-hub", "the copy's last known progress is kept");
            assert.deepEqual(m.evidence.missing, [{ item: DISK_COPY_GAP, reason: stepErrorText(error) }]);
            const action = m.actions.find((a) => a.action === "ec2:CopySnapshot");
            assert.equal(action?.ok, false);
            assert.equal(action?.error, stepErrorText(error));
        });

        it("a copy that failed before recording anything (copy-start caught) is still a gap with its error", () => {
            const state = withCopy((d) => { d.copyError = { Error: "CrossAccountRoleError", Cause: "cannot assume it" }; });
            const m = buildManifest({ state, executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
            assert.equal(m.status, "PARTIAL");
            assert.equal(m.reason, "disk copy to hub: CrossAccountRoleError: cannot assume it");
            assert.deepEqual(m.evidence.disk.copy, { status: "failed", snapshots: [], error: { Error: "CrossAccountRoleError", Cause: "cannot assume it" } });
        });

        it("an unfinished copy is a gap; gaps of other evidence keep their own wording", () => {
            const state = withCopy((d) => { d.copy = copy(false); });
            state.evidence![1] = { status: "missing", reason: "ssm-agent-offline" };
            assert.equal(caseStatus(state).reason, "disk copy to hub: copy did not finish; memory missing: ssm-agent-offline");
            assert.equal(buildManifest({ state, executionArn: EXECUTION_ARN, sealedAt: SEALED_AT }).evidence.disk.copy?.status, "incomplete");
            assert.equal(gapText({ item: "memory", reason: "x" }), "memory missing: x");
        });

        it("without a copy (flag off, or a same-account instance) the manifest has no copy at all", () => {
            const m = buildManifest({ state: fullState(), executionArn: EXECUTION_ARN, sealedAt: SEALED_AT });
            assert.equal("copy" in m.evidence.disk, false);
            assert.equal(m.timestamps.hubCopyStartedAt, undefined);
            assert.ok(!m.actions.some((a) => a.action === "ec2:CopySnapshot"));
        });
    });

    it("keys the manifest by execution name", () => {
        assert.equal(executionName(EXECUTION_ARN), "0f1e2d3c-exec");
        assert.equal(manifestKey(CASE_ID, EXECUTION_ARN), `cases/${CASE_ID}/manifest-0f1e2d3c-exec.json`);
        assert.equal(executionName("arn:aws:states:us-east-1:1:execution:m:a/b c"), "a_b_c");
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("seal handler", () => {
    let s3: AwsClientStub<S3Client>;
    let ddb: AwsClientStub<DynamoDBClient>;
    let kms: AwsClientStub<KMSClient>;
    const SIGNING_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-signing";
    const ENVIRONMENT = { CASES_TABLE: "dfir-cases", RETENTION_DAYS: "365", EVIDENCE_BUCKET: "dfir-fallback-bucket", MANIFEST_SIGNING_KEY_ARN: SIGNING_KEY };
    // A real P-256 key: KMS's Sign of a DIGEST is stood in for by the simulator's ECDSA over the digest given.
    const PRIVATE = scalarFrom(createHash("sha256").update("seal handler test key").digest());
    const PUBLIC = publicKeySpki(PRIVATE);

    beforeEach(() => {
        setClientCustomizer(undefined);
        s3 = mockClient(S3Client);
        ddb = mockClient(DynamoDBClient);
        kms = mockClient(KMSClient);
        for (const m of [s3, ddb, kms] as AwsClientStub<any>[]) {
            m.onAnyCommand().callsFake((input: unknown) => {
                throw new Error(`Mock not implemented: ${JSON.stringify(input)}`);
            });
        }
        ddb.on(UpdateItemCommand).resolves({});
        kms.on(SignCommand).callsFake((input: { KeyId: string; Message: Uint8Array }) => ({
            KeyId: input.KeyId, SigningAlgorithm: "ECDSA_SHA_256", Signature: new Uint8Array(signDigest(PRIVATE, Buffer.from(input.Message))),
        }));
    });
    afterEach(() => {
        s3.restore();
        ddb.restore();
        kms.restore();
    });

    const quiet = async <T>(fn: () => Promise<T>): Promise<T> => {
        const real = console.log;
        console.log = () => undefined;
        try {
            return await fn();
        } finally {
            console.log = real;
        }
    };
    const withEnv = async <T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> => {
        const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
        for (const [k, v] of Object.entries(vars)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        try {
            return await quiet(fn);
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    };
    const seal = (state: ExecutionState, env: Record<string, string | undefined> = ENVIRONMENT) =>
        withEnv(env, () => sealHandler({ state, executionArn: EXECUTION_ARN, sealedAt: SEALED_AT }));

    it("writes the canonical manifest once, Object Lock COMPLIANCE, If-None-Match *, and records it on the case", async () => {
        s3.on(PutObjectCommand).resolves({ VersionId: "v-manifest" });
        const result = await seal(fullState());

        const puts = s3.commandCalls(PutObjectCommand);
        assert.equal(puts.length, 2, "the manifest, then its signature");
        const put = puts[0].args[0].input;
        const key = `cases/${CASE_ID}/manifest-0f1e2d3c-exec.json`;
        assert.equal(put.Bucket, BUCKET);
        assert.equal(put.Key, key);
        assert.equal(put.ObjectLockMode, "COMPLIANCE");
        assert.equal((put.ObjectLockRetainUntilDate as Date).toISOString(), "2026-03-01T12:00:00.000Z");
        assert.equal(put.IfNoneMatch, "*");
        assert.equal(put.ChecksumAlgorithm, "SHA256");
        const body = Buffer.from(put.Body as Uint8Array).toString("utf8");
        const expected = serializeManifest(buildManifest({ state: fullState(), executionArn: EXECUTION_ARN, sealedAt: SEALED_AT }));
        assert.equal(body, expected.body);
        assert.equal(put.ChecksumSHA256, Buffer.from(expected.sha256, "hex").toString("base64"));

        assert.deepEqual(result, {
            caseId: CASE_ID,
            status: "SUCCEEDED",
            reason: "isolated; evidence complete",
            manifest: { bucket: BUCKET, key, versionId: "v-manifest", sha256: expected.sha256, mode: "COMPLIANCE", retainUntil: "2026-03-01T12:00:00.000Z" },
            signature: { bucket: BUCKET, key: `${key}.sig.json`, versionId: "v-manifest", keyId: SIGNING_KEY, algorithm: "ECDSA_SHA_256" },
        });

        // KMS signed the manifest's sha256 as a digest; the record beside it is locked like the manifest and verifies.
        const signs = kms.commandCalls(SignCommand);
        assert.equal(signs.length, 1);
        const sign = signs[0].args[0].input;
        assert.deepEqual([sign.KeyId, Buffer.from(sign.Message as Uint8Array).toString("hex"), sign.MessageType, sign.SigningAlgorithm], [SIGNING_KEY, expected.sha256, "DIGEST", "ECDSA_SHA_256"]);
        const sigPut = puts[1].args[0].input;
        assert.deepEqual([sigPut.Bucket, sigPut.Key, sigPut.ObjectLockMode, (sigPut.ObjectLockRetainUntilDate as Date).toISOString(), sigPut.IfNoneMatch], [BUCKET, `${key}.sig.json`, "COMPLIANCE", "2026-03-01T12:00:00.000Z", "*"]);
        const record = JSON.parse(Buffer.from(sigPut.Body as Uint8Array).toString("utf8"));
        assert.deepEqual(record.signed, { bucket: BUCKET, key, versionId: "v-manifest", sha256: expected.sha256 });
        assert.deepEqual(verifySignatureRecord(Buffer.from(body), record, PUBLIC).problems, []);

        const updates = ddb.commandCalls(UpdateItemCommand);
        assert.equal(updates.length, 1);
        const u = updates[0].args[0].input;
        assert.equal(u.TableName, "dfir-cases");
        assert.deepEqual(u.Key, { pk: { S: `CASE#${CASE_ID}` } });
        assert.equal(u.ConditionExpression, "attribute_exists(#pk)");
        const set = Object.fromEntries(
            Object.entries(u.ExpressionAttributeNames ?? {})
                .filter(([alias]) => alias !== "#pk")
                .map(([alias, name]) => [name, u.ExpressionAttributeValues?.[alias.replace("#f", ":v")]?.S]),
        );
        assert.deepEqual(set, {
            status: "SUCCEEDED",
            statusReason: "isolated; evidence complete",
            sealedAt: SEALED_AT,
            manifestBucket: BUCKET,
            manifestKey: key,
            manifestSha256: expected.sha256,
            manifestVersionId: "v-manifest",
            manifestSignatureKey: `${key}.sig.json`,
            manifestSignatureVersionId: "v-manifest",
            manifestSigningKeyId: SIGNING_KEY,
        });
        assert.ok(!JSON.stringify(u).includes("OPEN#"), "the open-case lock is left alone");
    });

    it("a signature KMS refuses loses nothing: the manifest sealed, the case PARTIAL naming the gap, recorded on the case", async () => {
        s3.on(PutObjectCommand).resolves({ VersionId: "v-manifest" });
        kms.on(SignCommand).rejects(Object.assign(new Error("arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-signing is disabled."), { name: "DisabledException", $metadata: { httpStatusCode: 400 } }));
        const result = await seal(fullState());
        assert.equal(s3.commandCalls(PutObjectCommand).length, 1, "the manifest only");
        assert.equal(result.status, "PARTIAL");
        assert.equal(result.reason, `isolated; evidence complete; manifest signature: not signed: DisabledException: ${SIGNING_KEY} is disabled.`);
        assert.deepEqual(result.signature, { missing: `not signed: DisabledException: ${SIGNING_KEY} is disabled.` });
        const values = Object.values(ddb.commandCalls(UpdateItemCommand)[0].args[0].input.ExpressionAttributeValues ?? {}).map((v) => v.S);
        assert.ok(values.includes("PARTIAL") && values.includes(`not signed: DisabledException: ${SIGNING_KEY} is disabled.`));
        // No key configured: the same gap, naming the variable.
        const unset = await seal(fullState(), { ...ENVIRONMENT, MANIFEST_SIGNING_KEY_ARN: undefined });
        assert.deepEqual(unset.signature, { missing: "not signed: MANIFEST_SIGNING_KEY_ARN is not set" });
        assert.equal(unset.status, "PARTIAL");
    });

    it("a retried seal of the same execution adopts the manifest already written (never overwrites)", async () => {
        const earlier = serializeManifest(buildManifest({ state: fullState(), executionArn: EXECUTION_ARN, sealedAt: "2025-03-01T11:59:00.000Z" }));
        s3.on(PutObjectCommand).rejects(Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), { name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } }));
        const key = `cases/${CASE_ID}/manifest-0f1e2d3c-exec.json`;
        s3.on(GetObjectCommand, { Key: key }).resolves({
            Body: Readable.from([Buffer.from(earlier.body)]) as never,
            VersionId: "v-first",
            ObjectLockRetainUntilDate: new Date("2026-03-01T11:59:00.000Z"),
        });
        // The earlier attempt's signature record too (ECDSA signatures differ per call: the stored one is adopted).
        const earlierRecord = { schemaVersion: "aws-dfir.signature/1", keyId: SIGNING_KEY, algorithm: "ECDSA_SHA_256", messageType: "DIGEST", signed: { bucket: BUCKET, key, versionId: "v-first", sha256: earlier.sha256 }, signature: "MEUCIQ==", signedAt: "2025-03-01T11:59:00.000Z" };
        s3.on(GetObjectCommand, { Key: `${key}.sig.json` }).resolves({ Body: { transformToString: async () => JSON.stringify(earlierRecord) } as never, VersionId: "v-sig-first" });
        const result = await seal(fullState());
        assert.equal(result.manifest.sha256, earlier.sha256);
        assert.equal(result.manifest.versionId, "v-first");
        assert.equal(result.manifest.retainUntil, "2026-03-01T11:59:00.000Z");
        assert.deepEqual(result.signature, { bucket: BUCKET, key: `${key}.sig.json`, versionId: "v-sig-first", keyId: SIGNING_KEY, algorithm: "ECDSA_SHA_256" });
        assert.equal(result.status, "SUCCEEDED");
        assert.equal(s3.commandCalls(PutObjectCommand).length, 2, "each write refused once, nothing overwritten");
        assert.equal(kms.commandCalls(SignCommand)[0].args[0].input.Message?.length, 32);
        const u = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
        assert.ok(Object.values(u.ExpressionAttributeValues ?? {}).some((v) => v.S === earlier.sha256));
    });

    it("another execution's manifest at the key is a ManifestConflictError", async () => {
        const other = serializeManifest(buildManifest({ state: fullState(), executionArn: `${EXECUTION_ARN}-other`, sealedAt: SEALED_AT }));
        s3.on(PutObjectCommand).rejects(Object.assign(new Error("precondition"), { name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } }));
        s3.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(other.body)]) as never });
        await assert.rejects(seal(fullState()), (e: unknown) => e instanceof ManifestConflictError && e.name === "ManifestConflictError");
        assert.equal(ddb.commandCalls(UpdateItemCommand).length, 0);
    });

    it("a case that never opened is sealed FAILED in EVIDENCE_BUCKET, with no case record to update", async () => {
        s3.on(PutObjectCommand).resolves({ VersionId: "v-1" });
        const state = fullState();
        delete state.case;
        delete state.containment;
        delete state.evidence;
        state.caseError = lambdaError("CrossAccountRoleError", "cannot assume arn:aws:iam::123456789012:role/dfir-responder");
        const result = await seal(state);
        assert.equal(result.status, "FAILED");
        assert.equal(result.reason, "case not opened: CrossAccountRoleError: cannot assume arn:aws:iam::123456789012:role/dfir-responder");
        assert.equal(s3.commandCalls(PutObjectCommand)[0].args[0].input.Bucket, "dfir-fallback-bucket");
        assert.equal(ddb.commandCalls(UpdateItemCommand).length, 0);
    });

    it("reads RETENTION_DAYS per invocation", async () => {
        s3.on(PutObjectCommand).resolves({});
        const a = await seal(fullState(), { ...ENVIRONMENT, RETENTION_DAYS: "7" });
        const b = await seal(fullState(), { ...ENVIRONMENT, RETENTION_DAYS: undefined });
        assert.equal(a.manifest.retainUntil, "2025-03-08T12:00:00.000Z");
        assert.equal(b.manifest.retainUntil, "2026-03-01T12:00:00.000Z", "default 365 days");
    });

    it("refuses an event without the execution state", async () => {
        await assert.rejects(withEnv(ENVIRONMENT, () => sealHandler({ executionArn: EXECUTION_ARN })), InvalidRequestError);
        assert.equal(s3.calls().length, 0);
    });
});
