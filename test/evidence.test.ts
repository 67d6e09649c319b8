import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
    CopySnapshotCommand,
    CreateSnapshotsCommand,
    CreateTagsCommand,
    DescribeInstancesCommand,
    DescribeNetworkInterfacesCommand,
    DescribeSnapshotsCommand,
    DescribeVolumesCommand,
    EC2Client,
    GetConsoleOutputCommand,
    GetConsoleScreenshotCommand,
    ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
    CancelCommandCommand,
    DescribeInstanceInformationCommand,
    GetCommandInvocationCommand,
    ListCommandsCommand,
    SendCommandCommand,
    SSMClient,
    type Command,
} from "@aws-sdk/client-ssm";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import type { DiskCopy, DiskEvidence, InstanceRecord, Target } from "../core/workflow";
import { client, setClientCustomizer } from "../functions/lib/aws";
import {
    ConfigurationError,
    HashMismatchError,
    InvalidRequestError,
    MemoryCaptureFailedError,
    MetadataCaptureFailedError,
    SnapshotCopyFailedError,
    SnapshotCopyTimeoutError,
    SnapshotFailedError,
    SnapshotTimeoutError,
} from "../functions/lib/evidenceErrors";
import { sha256OfStream, sha256OfStreamWithParts } from "../core/hash";
import { partsSha256 } from "../core/memoryParts";
import { handler as memoryHandler } from "../functions/memory/index";
import { DELIVERY_TIMEOUT_SECONDS, MAX_LOOKUP_PAGES, memoryObjectKeys, type MemoryResult } from "../functions/memory/memory";
import { handler as metadataHandler } from "../functions/metadata/index";
import { handler as snapshotHandler } from "../functions/snapshot/index";

const INSTANCE_ID = "i-0123456789abcdef0";
const CASE_ID = `${INSTANCE_ID}-0a1b2c3d4e5f`;
const BUCKET = "dfir-evidence-123456789012-us-east-1";
const TARGET: Target = { accountId: "123456789012", region: "us-east-1", instanceId: INSTANCE_ID };
const AVML_SHA256 = "a".repeat(64);
/** The tags every evidence snapshot of this case and instance carries. */
const CASE_TAGS = [
    { Key: "dfir:case-id", Value: CASE_ID },
    { Key: "dfir:instance-id", Value: INSTANCE_ID },
];
const MIB = 1024 * 1024;

const BASE_INSTANCE: InstanceRecord = {
    instanceId: INSTANCE_ID,
    state: "running",
    platform: "linux",
    architecture: "x86_64",
    vpcId: "vpc-0a1b2c3d4e5f60718",
    networkInterfaces: [{ networkInterfaceId: "eni-0000000000000000a", groups: ["sg-0111111111111111a"], deviceIndex: 0, ipv6Addresses: [] }],
    volumes: [
        { volumeId: "vol-0000000000000000r", deviceName: "/dev/xvda", deleteOnTermination: true, root: true },
        { volumeId: "vol-0000000000000000d", deviceName: "/dev/xvdb", deleteOnTermination: false, root: false },
    ],
    tags: { Name: "web-1" },
    disableApiTermination: false,
    disableApiStop: false,
    shutdownBehavior: "stop",
};

const instance = (): InstanceRecord => structuredClone(BASE_INSTANCE);
const evidence = () => ({ bucket: BUCKET, prefix: `cases/${CASE_ID}/` });

/** Strict mocks: any command without a behaviour defined by the test rejects, naming the command. */
function strict<T extends AwsClientStub<any>>(mock: T): T {
    mock.onAnyCommand().callsFake((input: unknown) => {
        throw new Error(`Mock not implemented: ${JSON.stringify(input)}`);
    });
    return mock;
}

function awsError(name: string, status: number, message = name): Error {
    return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/** Runs fn with the environment variables set (and the others of the list removed), restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(vars)) {
        saved[k] = process.env[k];
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    try {
        return await fn();
    } finally {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
}

/** Deterministic bytes, served in chunks of `chunk` bytes (a real stream, never one buffer). */
function generatedStream(total: number, chunk = 64 * 1024): { stream: Readable; sha256: string } {
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < total; offset += chunk) {
        const size = Math.min(chunk, total - offset);
        const b = Buffer.alloc(size);
        for (let i = 0; i < size; i++) b[i] = (offset + i) * 31 % 251;
        hash.update(b);
        chunks.push(b);
    }
    return { stream: Readable.from(chunks, { objectMode: false }), sha256: hash.digest("hex") };
}

let logs: string[];
const realLog = console.log;

beforeEach(() => {
    setClientCustomizer(undefined);
    logs = [];
    console.log = (line: unknown) => {
        logs.push(String(line));
    };
});
afterEach(() => {
    console.log = realLog;
});

// ---------------------------------------------------------------------------------------------------------------
describe("sha256OfStream", () => {
    it("hashes a 5 MiB stream chunk by chunk, equal to node:crypto over the same bytes, with progress", async () => {
        const { stream, sha256 } = generatedStream(5 * MIB);
        const progress: number[] = [];
        const digest = await sha256OfStream(stream, (n) => progress.push(n));
        assert.deepEqual(digest, { sha256, bytes: 5 * MIB });
        assert.ok(progress.length > 40, `reported per chunk as bytes flowed (${progress.length} reports)`);
        assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]));
        assert.equal(progress.at(-1), 5 * MIB);
    });

    it("hashes an empty stream to the empty-input digest", async () => {
        assert.deepEqual(await sha256OfStream(Readable.from([])), {
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            bytes: 0,
        });
    });

    it("refuses string chunks (an encoding set on the stream would hash other bytes)", async () => {
        await assert.rejects(sha256OfStream(Readable.from(["text"])), TypeError);
    });

    it("with parts: the same whole digest, and partsSha256 equal to the parts hashed apart, whatever the chunking", async () => {
        const bytes = createHash("sha256").update("seed").digest();
        const data = Buffer.concat(Array.from({ length: 1000 }, (_, i) => createHash("sha256").update(bytes).update(String(i)).digest())); // 32,000 bytes
        const partSize = 7000; // parts of 7,000 bytes, the last 4,000: never aligned with the chunks below
        const expectedParts = [0, 1, 2, 3, 4].map((k) => createHash("sha256").update(data.subarray(k * partSize, Math.min(data.length, (k + 1) * partSize))).digest("hex"));
        const chunks = [1, 999, 6000, 7001, 13, 17986].reduce<Buffer[]>((out, n) => [...out, data.subarray(out.reduce((a, c) => a + c.length, 0), out.reduce((a, c) => a + c.length, 0) + n)], []);
        assert.equal(chunks.reduce((a, c) => a + c.length, 0), data.length);
        const digest = await sha256OfStreamWithParts(Readable.from(chunks), partSize);
        assert.deepEqual(digest, { sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length, partsSha256: partsSha256(expectedParts), partCount: 5 });
        assert.deepEqual(await sha256OfStreamWithParts(Readable.from([data]), undefined), { sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length });
        await assert.rejects(sha256OfStreamWithParts(Readable.from([data]), 0), RangeError);
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("snapshot handler", () => {
    let ec2: AwsClientStub<EC2Client>;
    beforeEach(() => {
        ec2 = strict(mockClient(EC2Client));
    });
    afterEach(() => ec2.restore());

    const startEvent = () => ({ action: "start", caseId: CASE_ID, target: { ...TARGET }, instance: instance(), evidence: evidence() });
    const created = [
        { SnapshotId: "snap-0000000000000000r", VolumeId: "vol-0000000000000000r", State: "pending", Progress: "" },
        { SnapshotId: "snap-0000000000000000d", VolumeId: "vol-0000000000000000d", State: "pending", Progress: "" },
    ] as const;

    /** DescribeVolumes of the two volumes: the root's with a dfir:* tag of earlier evidence and an aws: tag. */
    const volumesWithTags = () => ec2.on(DescribeVolumesCommand).resolves({
        Volumes: [
            { VolumeId: created[0].VolumeId, Tags: [{ Key: "Name", Value: "web/dev/xvda" }, { Key: "dfir:case-id", Value: "old" }, { Key: "aws:backup:source-resource", Value: "x" }] },
            { VolumeId: created[1].VolumeId, Tags: [{ Key: "team", Value: "payments" }] },
        ],
    });

    it("takes ONE crash-consistent CreateSnapshots of every volume, boot included, tagged with case and instance; then copies each volume's tags", async () => {
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s })) });
        volumesWithTags();
        ec2.on(CreateTagsCommand).resolves({});
        const before = Date.now();
        const disk = await withEnv({ SNAPSHOT_CAP_SECONDS: undefined }, () => snapshotHandler(startEvent()));

        const calls = ec2.commandCalls(CreateSnapshotsCommand);
        assert.equal(calls.length, 1);
        const input = calls[0].args[0].input;
        assert.deepEqual(input.InstanceSpecification, { InstanceId: INSTANCE_ID, ExcludeBootVolume: false });
        // Never CopyTagsFromSource: a volume's 50 tags, or a dfir:* tag of its own, would fail the whole set.
        assert.equal(input.CopyTagsFromSource, undefined);
        assert.deepEqual(ec2.commandCalls(DescribeVolumesCommand).map((c) => c.args[0].input.Filters), [[{ Name: "volume-id", Values: created.map((s) => s.VolumeId) }]]);
        assert.deepEqual(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input), [
            { Resources: [created[0].SnapshotId], Tags: [{ Key: "Name", Value: "web/dev/xvda" }, { Key: "volume:dfir:case-id", Value: "old" }] },
            { Resources: [created[1].SnapshotId], Tags: [{ Key: "team", Value: "payments" }] },
        ]);
        assert.deepEqual(disk.snapshots.map((s) => s.volumeTags), [
            { copied: 2, renamed: { "dfir:case-id": "volume:dfir:case-id" }, notCopied: [{ key: "aws:backup:source-resource", value: "x", reason: "reserved aws: tag" }] },
            { copied: 1 },
        ]);
        assert.deepEqual(input.TagSpecifications, [
            {
                ResourceType: "snapshot",
                Tags: [
                    { Key: "dfir:case-id", Value: CASE_ID },
                    { Key: "dfir:instance-id", Value: INSTANCE_ID },
                    { Key: "dfir:evidence", Value: "disk" },
                ],
            },
        ]);
        assert.equal((input.InstanceSpecification as Record<string, unknown>).ExcludeDataVolumeIds, undefined);

        assert.deepEqual(disk.snapshots.map((s) => s.volumeId), ["vol-0000000000000000r", "vol-0000000000000000d"]);
        assert.equal(disk.done, false);
        const started = Date.parse(disk.startedAt);
        assert.ok(started >= before - 1 && started <= Date.now());
        assert.equal(Date.parse(disk.deadline) - started, 86_400_000, "default cap 86400 s");
    });

    it("keeps the snapshots when the volume tags cannot be copied (recorded); throttled or not listed yet, the next poll copies them", async () => {
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s })) });
        volumesWithTags();
        ec2.on(CreateTagsCommand, { Resources: [created[0].SnapshotId] }).rejects(awsError("UnauthorizedOperation", 403));
        ec2.on(CreateTagsCommand, { Resources: [created[1].SnapshotId] }).resolves({});
        const disk = await snapshotHandler(startEvent());
        assert.deepEqual(disk.snapshots.map((s) => s.snapshotId), created.map((s) => s.SnapshotId));
        const refused = disk.snapshots[0].volumeTags;
        assert.equal(refused?.copied, 0);
        assert.match(String(refused?.error), /^CreateTags refused: UnauthorizedOperation/);
        assert.deepEqual(refused?.notCopied?.map((n) => `${n.key}=${n.value}: ${n.reason}`), [
            "Name=web/dev/xvda: CreateTags refused",
            "aws:backup:source-resource=x: reserved aws: tag",
            "dfir:case-id=old: CreateTags refused",
        ]);
        assert.deepEqual(disk.snapshots[1].volumeTags, { copied: 1 });

        // DescribeVolumes refused: every snapshot says so, none is lost.
        ec2.reset();
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s })) });
        ec2.on(DescribeVolumesCommand).rejects(awsError("UnauthorizedOperation", 403));
        const unread = await snapshotHandler(startEvent());
        assert.ok(unread.snapshots.every((s) => s.volumeTags?.copied === 0 && /^DescribeVolumes failed: UnauthorizedOperation/.test(String(s.volumeTags?.error))));

        // Throttled, or the new snapshots not listed yet (EC2's eventual consistency): the step goes on without the
        // tags, and the next poll copies them.
        ec2.reset();
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s })) });
        ec2.on(DescribeVolumesCommand).rejects(awsError("RequestLimitExceeded", 503));
        const throttled = await snapshotHandler(startEvent());
        assert.deepEqual(throttled.snapshots.map((s) => s.volumeTags), [undefined, undefined]);
        ec2.reset();
        volumesWithTags();
        ec2.on(CreateTagsCommand, { Resources: [created[0].SnapshotId] }).rejects(awsError("InvalidSnapshot.NotFound", 400));
        ec2.on(CreateTagsCommand, { Resources: [created[1].SnapshotId] }).resolves({});
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s, State: "pending" as const })) });
        const poll = await snapshotHandler({ action: "check", caseId: CASE_ID, target: { ...TARGET }, disk: throttled });
        assert.deepEqual(poll.snapshots.map((s) => s.volumeTags?.copied), [undefined, 1], "the one not listed yet waits for the next poll");
        ec2.reset();
        volumesWithTags();
        ec2.on(CreateTagsCommand).resolves({});
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s, State: "completed" as const })) });
        const done = await snapshotHandler({ action: "check", caseId: CASE_ID, target: { ...TARGET }, disk: poll });
        assert.equal(done.done, true);
        assert.deepEqual(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources), [[created[0].SnapshotId]], "only what was missing");
        assert.deepEqual(done.snapshots.map((s) => s.volumeTags?.copied), [2, 1]);

        // The last poll (the set completed) records what it still could not copy.
        ec2.reset();
        ec2.on(DescribeVolumesCommand).rejects(awsError("RequestLimitExceeded", 503));
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s, State: "completed" as const })) });
        const last = await snapshotHandler({ action: "check", caseId: CASE_ID, target: { ...TARGET }, disk: throttled });
        assert.ok(last.done && last.snapshots.every((s) => s.volumeTags?.copied === 0 && /^DescribeVolumes failed: RequestLimitExceeded/.test(String(s.volumeTags?.error))));

        // A Lambda retry that adopts the set copies the tags (adding tags a snapshot has changes nothing).
        ec2.reset();
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s, StartTime: new Date("2025-01-01T00:00:05Z"), Tags: CASE_TAGS })) });
        volumesWithTags();
        ec2.on(CreateTagsCommand).resolves({});
        const adopted = await snapshotHandler(startEvent());
        assert.equal(ec2.commandCalls(CreateSnapshotsCommand).length, 0);
        assert.equal(ec2.commandCalls(CreateTagsCommand).length, 2);
        assert.deepEqual(adopted.snapshots.map((s) => s.volumeTags?.copied), [2, 1]);
    });

    it("reads SNAPSHOT_CAP_SECONDS per invocation", async () => {
        ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        ec2.on(CreateSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s })) });
        const a = await withEnv({ SNAPSHOT_CAP_SECONDS: "600" }, () => snapshotHandler(startEvent()));
        const b = await withEnv({ SNAPSHOT_CAP_SECONDS: "7200" }, () => snapshotHandler(startEvent()));
        assert.equal(Date.parse(a.deadline) - Date.parse(a.startedAt), 600_000);
        assert.equal(Date.parse(b.deadline) - Date.parse(b.startedAt), 7_200_000);
        await assert.rejects(
            withEnv({ SNAPSHOT_CAP_SECONDS: "soon" }, () => snapshotHandler(startEvent())),
            (e: unknown) => e instanceof ConfigurationError && e.name === "ConfigurationError" && /SNAPSHOT_CAP_SECONDS/.test(e.message),
        );
    });

    it("refuses a pollSeconds that is not a whole number of seconds >= 1, in one line, before any AWS call", async () => {
        for (const pollSeconds of [0, 1.5, "30", -5]) {
            await assert.rejects(
                snapshotHandler({ ...startEvent(), pollSeconds }),
                (e: unknown) => e instanceof InvalidRequestError && /pollSeconds must be a whole number of seconds >= 1/.test((e as Error).message) && !(e as Error).message.includes("\n"),
            );
        }
        assert.equal(ec2.calls().length, 0);
    });

    it("does not create again when the event already carries snapshots (state machine retry)", async () => {
        const disk: DiskEvidence = {
            snapshots: [{ snapshotId: "snap-1", volumeId: "vol-1", state: "pending" }],
            startedAt: "2025-01-01T00:00:00.000Z",
            deadline: "2025-01-02T00:00:00.000Z",
            done: false,
        };
        const out = await snapshotHandler({ ...startEvent(), disk });
        // Pending: the pause before the first check comes with it (past this old deadline: the base, 30 s).
        assert.deepEqual(out, { ...disk, nextPollSeconds: 30 });
        assert.equal(ec2.calls().length, 0);
    });

    it("adopts snapshots already tagged for this case and instance (Lambda retry after EC2 accepted the call)", async () => {
        ec2.on(DescribeSnapshotsCommand).resolves({
            Snapshots: [
                { ...created[0], StartTime: new Date("2025-01-01T00:00:05Z"), Tags: CASE_TAGS },
                { ...created[1], StartTime: new Date("2025-01-01T00:00:05Z"), Tags: CASE_TAGS },
            ],
        });
        const disk = await withEnv({ SNAPSHOT_CAP_SECONDS: "3600" }, () => snapshotHandler(startEvent()));
        assert.equal(ec2.commandCalls(CreateSnapshotsCommand).length, 0);
        const lookup = ec2.commandCalls(DescribeSnapshotsCommand)[0].args[0].input;
        assert.deepEqual(lookup.OwnerIds, ["self"]);
        assert.deepEqual(lookup.Filters, [
            { Name: "tag:dfir:case-id", Values: [CASE_ID] },
            { Name: "tag:dfir:instance-id", Values: [INSTANCE_ID] },
        ]);
        assert.deepEqual(disk.snapshots.map((s) => s.snapshotId), created.map((s) => s.SnapshotId));
        assert.equal(disk.startedAt, "2025-01-01T00:00:05.000Z");
        assert.equal(disk.deadline, "2025-01-01T01:00:05.000Z");
    });

    it("never adopts copies of the evidence (copySnapshotsToHub) as the evidence itself", async () => {
        ec2.on(DescribeSnapshotsCommand).resolves({
            Snapshots: [
                { SnapshotId: "snap-0000000000000000c", VolumeId: "vol-ffffffff", State: "completed", StartTime: new Date("2025-01-01T00:00:01Z"), Tags: [...CASE_TAGS, { Key: "dfir:source-snapshot", Value: created[0].SnapshotId }] },
                { ...created[0], StartTime: new Date("2025-01-01T00:00:05Z"), Tags: CASE_TAGS },
                { ...created[1], StartTime: new Date("2025-01-01T00:00:05Z"), Tags: CASE_TAGS },
            ],
        });
        const disk = await withEnv({ SNAPSHOT_CAP_SECONDS: "3600" }, () => snapshotHandler(startEvent()));
        assert.deepEqual(disk.snapshots.map((s) => s.snapshotId), created.map((s) => s.SnapshotId));
        assert.equal(disk.startedAt, "2025-01-01T00:00:05.000Z");
    });

    it("refuses a malformed event before any AWS call", async () => {
        await assert.rejects(
            snapshotHandler({ action: "start", caseId: "a/b", target: { ...TARGET, instanceId: "i-xyz" }, instance: instance() }),
            (e: unknown) => e instanceof InvalidRequestError && e.problems.length >= 2,
        );
        await assert.rejects(snapshotHandler({ action: "poke", caseId: CASE_ID, target: TARGET }), InvalidRequestError);
        assert.equal(ec2.calls().length, 0);
    });

    describe("check", () => {
        const NOW = Date.now();
        const disk = (overrides: Partial<DiskEvidence> = {}): DiskEvidence => ({
            snapshots: created.map((s) => ({ snapshotId: s.SnapshotId, volumeId: s.VolumeId, state: "pending", progress: "" })),
            startedAt: new Date(NOW - 60 * 60_000).toISOString(),
            deadline: new Date(NOW + 60 * 60_000).toISOString(),
            done: false,
            ...overrides,
        });
        const checkEvent = (d: DiskEvidence) => ({ action: "check", caseId: CASE_ID, target: { ...TARGET }, instance: instance(), evidence: evidence(), disk: d });

        it("returns pending snapshots with their progress, not done; paginates DescribeSnapshots", async () => {
            ec2.on(DescribeSnapshotsCommand, { NextToken: undefined }).resolves({
                Snapshots: [{ ...created[0], State: "completed", Progress: "100%" }],
                NextToken: "page-2",
            });
            ec2.on(DescribeSnapshotsCommand, { NextToken: "page-2" }).resolves({ Snapshots: [{ ...created[1], State: "pending", Progress: "42%" }] });
            const out = await snapshotHandler(checkEvent(disk()));
            assert.equal(out.done, false);
            assert.deepEqual(out.snapshots.map((s) => [s.state, s.progress]), [["completed", "100%"], ["pending", "42%"]]);
            const calls = ec2.commandCalls(DescribeSnapshotsCommand);
            assert.equal(calls.length, 2);
            assert.deepEqual(calls[0].args[0].input.SnapshotIds, created.map((s) => s.SnapshotId));
        });

        it("is done when every snapshot is completed (even past the deadline)", async () => {
            ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: created.map((s) => ({ ...s, State: "completed", Progress: "100%" })) });
            const out = await snapshotHandler(checkEvent(disk({ deadline: new Date(NOW - 1000).toISOString() })));
            assert.equal(out.done, true);
            assert.ok(out.snapshots.every((s) => s.state === "completed"));
        });

        it("throws SnapshotFailedError naming the snapshot, its volume and EC2's message on state error", async () => {
            ec2.on(DescribeSnapshotsCommand).resolves({
                Snapshots: [
                    { ...created[0], State: "completed" },
                    { ...created[1], State: "error", StateMessage: "Internal error" },
                ],
            });
            await assert.rejects(snapshotHandler(checkEvent(disk())), (e: unknown) => {
                assert.ok(e instanceof SnapshotFailedError);
                assert.equal(e.name, "SnapshotFailedError");
                assert.match(e.message, /snap-0000000000000000d of vol-0000000000000000d: Internal error/);
                assert.doesNotMatch(e.message, /snap-0000000000000000r/);
                return true;
            });
        });

        it("throws SnapshotTimeoutError naming pending snapshots with progress past the deadline", async () => {
            ec2.on(DescribeSnapshotsCommand).resolves({
                Snapshots: [
                    { ...created[0], State: "completed", Progress: "100%" },
                    { ...created[1], State: "pending", Progress: "37%" },
                ],
            });
            const deadline = new Date(NOW - 1000).toISOString();
            await assert.rejects(snapshotHandler(checkEvent(disk({ deadline }))), (e: unknown) => {
                assert.ok(e instanceof SnapshotTimeoutError);
                assert.equal(e.name, "SnapshotTimeoutError");
                assert.match(e.message, /snap-0000000000000000d of vol-0000000000000000d at 37%/);
                assert.ok(e.message.includes(deadline));
                return true;
            });
        });

        it("treats an unknown snapshot as pending shortly after the start (eventual consistency), as failed later", async () => {
            ec2.on(DescribeSnapshotsCommand).rejects(awsError("InvalidSnapshot.NotFound", 400, "The snapshot 'snap-0000000000000000d' does not exist."));
            const fresh = await snapshotHandler(checkEvent(disk({ startedAt: new Date(NOW - 30_000).toISOString() })));
            assert.equal(fresh.done, false);
            await assert.rejects(snapshotHandler(checkEvent(disk())), (e: unknown) => e instanceof SnapshotFailedError && /no longer exists/.test(e.message));
        });
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("snapshot handler: copy a member's snapshots into the hub (copySnapshotsToHub)", () => {
    const MEMBER = "222222222222";
    const HUB = "210987654321";
    const ROLE = `arn:aws:iam::${MEMBER}:role/dfir-responder`;
    const MEMBER_TARGET: Target = { accountId: MEMBER, region: "us-east-1", instanceId: INSTANCE_ID, roleArn: ROLE };
    const HUB_KEY = `arn:aws:kms:us-east-1:${HUB}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;
    const SHARE_KEY = `arn:aws:kms:us-east-1:${MEMBER}:alias/dfir-snapshot-share`;
    const ENV_ON = { COPY_SNAPSHOTS_TO_HUB: "true", HUB_SNAPSHOT_KEY_ARN: HUB_KEY, HOME_ACCOUNT_ID: HUB, SNAPSHOT_CAP_SECONDS: "3600" };
    const SOURCES = ["snap-0000000000000000r", "snap-0000000000000000d"];
    let member: AwsClientStub<EC2Client>;
    let hub: AwsClientStub<EC2Client>;

    beforeEach(() => {
        // The handler's factory caches one client per target: these are the instances it will use.
        member = strict(mockClient(client("ec2", { region: "us-east-1", roleArn: ROLE })));
        hub = strict(mockClient(client("ec2", { region: "us-east-1" })));
    });
    afterEach(() => {
        member.restore();
        hub.restore();
    });

    const completedDisk = (): DiskEvidence => ({
        snapshots: [
            { snapshotId: SOURCES[0], volumeId: "vol-0000000000000000r", state: "completed", progress: "100%" },
            { snapshotId: SOURCES[1], volumeId: "vol-0000000000000000d", state: "completed", progress: "100%" },
        ],
        startedAt: new Date(Date.now() - 3_600_000).toISOString(),
        deadline: new Date(Date.now() + 3_600_000).toISOString(),
        done: true,
    });
    const event = (action: "copy-start" | "copy-check", disk: DiskEvidence, target: Target = MEMBER_TARGET) =>
        ({ action, caseId: CASE_ID, target: { ...target }, instance: instance(), evidence: evidence(), disk });
    const run = (action: "copy-start" | "copy-check", disk: DiskEvidence, env: Record<string, string | undefined> = ENV_ON) =>
        withEnv(env, () => snapshotHandler(event(action, disk)));
    const tags = (kind: string, source: string, extra: { Key: string; Value: string }[] = []) => [
        { Key: "dfir:case-id", Value: CASE_ID },
        { Key: "dfir:instance-id", Value: INSTANCE_ID },
        { Key: "dfir:evidence", Value: kind },
        { Key: "dfir:source-snapshot", Value: source },
        ...extra,
    ];
    /** The disk after copy-start: both member copies pending. */
    const started = (): DiskEvidence => {
        const now = Date.now();
        return {
            ...completedDisk(),
            copy: {
                hubAccountId: HUB,
                sourceAccountId: MEMBER,
                startedAt: new Date(now - 60_000).toISOString(),
                deadline: new Date(now + 3_540_000).toISOString(),
                done: false,
                snapshots: SOURCES.map((source, i) => ({
                    sourceSnapshotId: source, volumeId: completedDisk().snapshots[i].volumeId, memberCopyId: `snap-share${i}`, memberCopyState: "pending",
                    memberKeyId: SHARE_KEY, shared: false, hubKeyArn: HUB_KEY,
                })),
            },
        };
    };
    const shared = (): DiskEvidence => {
        const d = started();
        d.copy!.snapshots.forEach((r, i) => Object.assign(r, { memberCopyState: "completed", shared: true, hubCopyId: `snap-hub${i}`, hubCopyState: "pending" }));
        return d;
    };

    it("copy-start: re-encrypts each member snapshot under the share key in the member, tagged at creation; nothing in the hub yet", async () => {
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        let n = 0;
        member.on(CopySnapshotCommand).callsFake(() => ({ SnapshotId: `snap-share${n++}` }));
        const before = Date.now();
        const out = await run("copy-start", completedDisk());

        const lookup = member.commandCalls(DescribeSnapshotsCommand)[0].args[0].input;
        assert.deepEqual(lookup.OwnerIds, ["self"]);
        assert.deepEqual(lookup.Filters, [
            { Name: "tag:dfir:case-id", Values: [CASE_ID] },
            { Name: "tag:dfir:instance-id", Values: [INSTANCE_ID] },
            { Name: "tag:dfir:evidence", Values: ["disk-share-copy"] },
        ]);
        const copies = member.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input);
        assert.deepEqual(copies.map((c) => c.SourceSnapshotId).sort(), [...SOURCES].sort());
        for (const c of copies) {
            assert.equal(c.SourceRegion, "us-east-1");
            assert.equal(c.Encrypted, true);
            assert.equal(c.KmsKeyId, SHARE_KEY);
            assert.deepEqual(c.TagSpecifications, [{ ResourceType: "snapshot", Tags: tags("disk-share-copy", c.SourceSnapshotId as string) }]);
        }
        assert.equal(hub.calls().length, 0);
        assert.equal(member.commandCalls(ModifySnapshotAttributeCommand).length, 0, "shared only once completed");

        assert.deepEqual(out.snapshots, completedDisk().snapshots, "the member snapshots stay the disk evidence");
        const copy = out.copy!;
        assert.equal(copy.done, false);
        assert.equal(copy.hubAccountId, HUB);
        assert.equal(copy.sourceAccountId, MEMBER);
        assert.ok(Date.parse(copy.startedAt) >= before - 1);
        assert.equal(Date.parse(copy.deadline) - Date.parse(copy.startedAt), 3_600_000, "the snapshot cap");
        assert.deepEqual(copy.snapshots.map((r) => [r.sourceSnapshotId, r.memberCopyState, r.shared, r.memberKeyId, r.hubKeyArn, r.hubCopyId]).sort(), [
            [SOURCES[0], "pending", false, SHARE_KEY, HUB_KEY, undefined],
            [SOURCES[1], "pending", false, SHARE_KEY, HUB_KEY, undefined],
        ].sort());
    });

    it("copy-check: shares each completed member copy with exactly the hub, then copies it in the hub under the evidence key", async () => {
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "completed", Progress: "100%" })) });
        member.on(ModifySnapshotAttributeCommand).resolves({});
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        hub.on(CopySnapshotCommand).callsFake((input: { SourceSnapshotId: string }) => ({ SnapshotId: input.SourceSnapshotId.replace("share", "hub") }));
        const out = await run("copy-check", started());

        assert.deepEqual(member.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.SnapshotIds, ["snap-share0", "snap-share1"]);
        const shares = member.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input);
        assert.deepEqual(shares.map((c) => c.SnapshotId).sort(), ["snap-share0", "snap-share1"]);
        for (const c of shares) assert.deepEqual({ ...c, SnapshotId: undefined }, { SnapshotId: undefined, Attribute: "createVolumePermission", OperationType: "add", UserIds: [HUB] });
        assert.equal(member.commandCalls(CopySnapshotCommand).length, 0);

        assert.deepEqual(hub.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.Filters?.[2], { Name: "tag:dfir:evidence", Values: ["disk-hub-copy"] });
        const copies = hub.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input);
        assert.deepEqual(copies.map((c) => c.SourceSnapshotId).sort(), ["snap-share0", "snap-share1"]);
        for (const c of copies) {
            const i = Number((c.SourceSnapshotId as string).slice(-1));
            assert.equal(c.SourceRegion, "us-east-1");
            assert.equal(c.Encrypted, true);
            assert.equal(c.KmsKeyId, HUB_KEY);
            assert.deepEqual(c.TagSpecifications, [{ ResourceType: "snapshot", Tags: tags("disk-hub-copy", SOURCES[i], [{ Key: "dfir:source-account", Value: MEMBER }]) }]);
        }
        assert.deepEqual(out.copy!.snapshots.map((r) => [r.memberCopyState, r.shared, r.hubCopyId, r.hubCopyState]), [
            ["completed", true, "snap-hub0", "pending"],
            ["completed", true, "snap-hub1", "pending"],
        ]);
        assert.equal(out.copy!.done, false);
    });

    it("copy-check: done when every hub copy is completed, without touching the member again", async () => {
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-hub${i}`, State: "completed", Progress: "100%" })) });
        const out = await run("copy-check", shared());
        assert.equal(out.copy!.done, true);
        assert.ok(out.copy!.snapshots.every((r) => r.hubCopyState === "completed"));
        assert.equal(member.calls().length, 0);
        assert.deepEqual(hub.commandCalls(DescribeSnapshotsCommand)[0].args[0].input.SnapshotIds, ["snap-hub0", "snap-hub1"]);
    });

    it("a hub copy EC2 does not list yet is pending for the grace period after ITS start, however long ago the copy began", async () => {
        // The copy began two hours ago (the member copies took that long); the hub copies start only now.
        const old = started();
        old.copy!.startedAt = new Date(Date.now() - 2 * 3_600_000).toISOString();
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "completed", Progress: "100%" })) });
        member.on(ModifySnapshotAttributeCommand).resolves({});
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        hub.on(CopySnapshotCommand).callsFake((input: { SourceSnapshotId: string }) => ({ SnapshotId: input.SourceSnapshotId.replace("share", "hub") }));
        const before = Date.now();
        const copied = await run("copy-check", old);
        assert.deepEqual(copied.copy!.snapshots.map((r) => r.hubCopyId), ["snap-hub0", "snap-hub1"]);
        for (const r of copied.copy!.snapshots) {
            assert.ok(Date.parse(r.hubCopyStartedAt!) >= before - 1, "when the hub copy was started");
            assert.equal(r.memberCopyStartedAt, undefined, "the event's member copies carried no start: none is made up");
        }

        // The next poll: EC2 does not know the brand-new hub copies yet.
        member.reset();
        hub.reset();
        hub.on(DescribeSnapshotsCommand).rejects(awsError("InvalidSnapshot.NotFound", 400, "The snapshot 'snap-hub1' does not exist."));
        const pending = await run("copy-check", copied);
        assert.equal(pending.copy!.done, false);
        assert.deepEqual(pending.copy!.snapshots.map((r) => [r.hubCopyId, r.hubCopyState]), [["snap-hub0", "pending"], ["snap-hub1", "pending"]]);
        assert.equal(member.calls().length, 0);

        // Past the grace period after the hub copies' own start, an unknown copy is gone: the copy fails.
        const later = structuredClone(copied);
        for (const r of later.copy!.snapshots) r.hubCopyStartedAt = new Date(Date.now() - 11 * 60_000).toISOString();
        await assert.rejects(run("copy-check", later), (e: unknown) =>
            e instanceof SnapshotCopyFailedError && /hub copy snap-hub0 of snap-0+r: no longer exists \(The snapshot 'snap-hub1' does not exist\.\)/.test(e.message));
    });

    it("the grace of an adopted copy runs from EC2's StartTime", async () => {
        const justNow = new Date(Date.now() - 30_000);
        const old = started();
        old.copy!.startedAt = new Date(Date.now() - 2 * 3_600_000).toISOString();
        old.copy!.snapshots.forEach((r) => Object.assign(r, { memberCopyState: "completed", shared: true }));
        hub.on(DescribeSnapshotsCommand).resolves({
            Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-hub${i}`, State: "pending", StartTime: justNow, Tags: tags("disk-hub-copy", SOURCES[i], [{ Key: "dfir:source-account", Value: MEMBER }]) })),
        });
        const adopted = await run("copy-check", old);
        assert.equal(hub.commandCalls(CopySnapshotCommand).length, 0);
        assert.deepEqual(adopted.copy!.snapshots.map((r) => [r.hubCopyId, r.hubCopyStartedAt]), [0, 1].map((i) => [`snap-hub${i}`, justNow.toISOString()]));
        hub.reset();
        hub.on(DescribeSnapshotsCommand).rejects(awsError("InvalidSnapshot.NotFound", 400, "The snapshot 'snap-hub0' does not exist."));
        assert.equal((await run("copy-check", adopted)).copy!.done, false);
    });

    it("adopts copies an earlier attempt started (found by case, instance, kind and source tags) instead of copying again", async () => {
        const old = new Date("2025-01-01T00:00:00Z");
        member.on(DescribeSnapshotsCommand).resolves({
            Snapshots: [
                { SnapshotId: "snap-share0", State: "completed", StartTime: old, Tags: tags("disk-share-copy", SOURCES[0]) },
                // A copy of another case is not adopted (the filter is checked again, not trusted).
                { SnapshotId: "snap-other", State: "completed", StartTime: old, Tags: tags("disk-share-copy", SOURCES[1]).map((t) => (t.Key === "dfir:case-id" ? { ...t, Value: "other" } : t)) },
            ],
        });
        member.on(CopySnapshotCommand).resolves({ SnapshotId: "snap-share1" });
        member.on(ModifySnapshotAttributeCommand).resolves({});
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        hub.on(CopySnapshotCommand).resolves({ SnapshotId: "snap-hub0" });
        const start = await run("copy-start", completedDisk());
        assert.deepEqual(member.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotId), [SOURCES[1]]);
        // The adopted copy was already completed: shared and copied into the hub in the same invocation.
        assert.deepEqual(member.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input.SnapshotId), ["snap-share0"]);
        assert.deepEqual(start.copy!.snapshots.map((r) => [r.memberCopyId, r.memberCopyState, r.shared, r.hubCopyId]), [
            ["snap-share0", "completed", true, "snap-hub0"],
            ["snap-share1", "pending", false, undefined],
        ]);

        // A retried check after the hub accepted the second copy but its answer was lost: adopted, not copied again.
        member.reset();
        hub.reset();
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-share1", State: "completed" }] });
        member.on(ModifySnapshotAttributeCommand).resolves({});
        hub.on(DescribeSnapshotsCommand, { OwnerIds: ["self"] }).resolves({ Snapshots: [{ SnapshotId: "snap-hub1", State: "pending", StartTime: old, Tags: tags("disk-hub-copy", SOURCES[1]) }] });
        hub.on(DescribeSnapshotsCommand, { SnapshotIds: ["snap-hub0", "snap-hub1"] }).resolves({ Snapshots: [{ SnapshotId: "snap-hub0", State: "completed" }, { SnapshotId: "snap-hub1", State: "pending" }] });
        const check = await run("copy-check", start);
        assert.equal(hub.commandCalls(CopySnapshotCommand).length, 0);
        assert.deepEqual(check.copy!.snapshots.map((r) => [r.hubCopyId, r.hubCopyState]), [["snap-hub0", "completed"], ["snap-hub1", "pending"]]);
        assert.equal(check.copy!.done, false);
    });

    it("a hub copy in state error is SnapshotCopyFailedError naming the copy, its source and EC2's message", async () => {
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-hub0", State: "completed" }, { SnapshotId: "snap-hub1", State: "error", StateMessage: "KMS key not accessible" }] });
        await assert.rejects(run("copy-check", shared()), (e: unknown) => {
            assert.ok(e instanceof SnapshotCopyFailedError);
            assert.equal(e.name, "SnapshotCopyFailedError");
            assert.match(e.message, new RegExp(`hub copy snap-hub1 of ${SOURCES[1]}: KMS key not accessible`));
            assert.doesNotMatch(e.message, /snap-hub0/);
            return true;
        });
    });

    it("a member copy EC2 ended with 'Given key ID is not accessible' names the source snapshots' key first, once; the failure stands if the key cannot be read", async () => {
        const key = `arn:aws:kms:us-east-1:${MEMBER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
        member.on(DescribeSnapshotsCommand, { SnapshotIds: ["snap-share0", "snap-share1"] }).resolves({
            Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "error" as const, StateMessage: "Given key ID is not accessible" })),
        });
        member.on(DescribeSnapshotsCommand, { SnapshotIds: [...SOURCES] }).resolves({ Snapshots: SOURCES.map((id) => ({ SnapshotId: id, State: "completed" as const, KmsKeyId: key })) });
        await assert.rejects(run("copy-check", started()), (e: unknown) => {
            assert.ok(e instanceof SnapshotCopyFailedError);
            assert.ok(e.message.startsWith(`copy into the hub failed: KMS key ${key} (the source snapshot's): its key policy does not let the account's IAM policies use it`), e.message);
            assert.equal(e.message.split(key).length, 2, "the key is named once");
            for (const [i, source] of SOURCES.entries()) assert.match(e.message, new RegExp(`member copy snap-share${i} of ${source}: Given key ID is not accessible`));
            assert.deepEqual(e.failed.map((f) => f.cause === e.failed[0].cause), [true, true]);
            return true;
        });
        assert.equal(hub.commandCalls(CopySnapshotCommand).length, 0);

        member.on(DescribeSnapshotsCommand, { SnapshotIds: [...SOURCES] }).rejects(awsError("UnauthorizedOperation", 403));
        await assert.rejects(run("copy-check", started()), (e: unknown) =>
            e instanceof SnapshotCopyFailedError && /^copy into the hub failed: the source snapshot's KMS key is not known/.test(e.message) && /member copy snap-share0 of/.test(e.message));
    });

    it("a share EC2 refuses fails the copy; throttling goes back to the state machine for a retry", async () => {
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "completed" })) });
        member.on(ModifySnapshotAttributeCommand).rejects(awsError("UnauthorizedOperation", 403, "You are not authorized to perform this operation."));
        await assert.rejects(run("copy-check", started()), (e: unknown) =>
            e instanceof SnapshotCopyFailedError && /share snap-share0 of snap-0+r: with 210987654321: UnauthorizedOperation/.test(e.message));
        assert.equal(hub.calls().length, 0, "nothing is copied into the hub unshared");

        member.reset();
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "completed" })) });
        member.on(ModifySnapshotAttributeCommand).rejects(awsError("RequestLimitExceeded", 503));
        await assert.rejects(run("copy-check", started()), (e: unknown) => e instanceof Error && e.name === "RequestLimitExceeded");
    });

    it("a copy refused for EC2's concurrent-copy limit (ResourceLimitExceeded) stays unstarted and is tried again at the next poll, until the deadline", async () => {
        const limit = () => awsError("ResourceLimitExceeded", 400, "You have exceeded the maximum number of concurrent snapshot copies.");
        // Member side: one copy starts, the other is refused for the limit; neither fails the copy.
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        member.on(CopySnapshotCommand, { SourceSnapshotId: SOURCES[0] }).resolves({ SnapshotId: "snap-share0" });
        member.on(CopySnapshotCommand, { SourceSnapshotId: SOURCES[1] }).rejects(limit());
        const start = await run("copy-start", completedDisk());
        assert.equal(start.copy!.done, false);
        assert.deepEqual(start.copy!.snapshots.map((r) => [r.memberCopyId, r.memberCopyState]), [["snap-share0", "pending"], [undefined, undefined]]);
        assert.ok(logs.some((l) => /"level":"WARN".*member copy not started: EC2's concurrent copy limit/.test(l)));

        // The next poll copies it.
        member.reset();
        member.on(DescribeSnapshotsCommand, { OwnerIds: ["self"] }).resolves({ Snapshots: [] });
        member.on(DescribeSnapshotsCommand, { SnapshotIds: ["snap-share0"] }).resolves({ Snapshots: [{ SnapshotId: "snap-share0", State: "pending", Progress: "40%" }] });
        member.on(CopySnapshotCommand, { SourceSnapshotId: SOURCES[1] }).resolves({ SnapshotId: "snap-share1" });
        const retried = await run("copy-check", start);
        assert.deepEqual(member.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input.SourceSnapshotId), [SOURCES[1]]);
        assert.deepEqual(retried.copy!.snapshots.map((r) => [r.memberCopyId, r.memberCopyState]), [["snap-share0", "pending"], ["snap-share1", "pending"]]);
        assert.equal(hub.calls().length, 0);

        // Hub side alike: the shared copy stays without a hub copy, not failed.
        member.reset();
        member.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-share${i}`, State: "completed" })) });
        member.on(ModifySnapshotAttributeCommand).resolves({});
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
        hub.on(CopySnapshotCommand, { SourceSnapshotId: "snap-share0" }).resolves({ SnapshotId: "snap-hub0" });
        hub.on(CopySnapshotCommand, { SourceSnapshotId: "snap-share1" }).rejects(limit());
        const hubLimited = await run("copy-check", started());
        assert.deepEqual(hubLimited.copy!.snapshots.map((r) => [r.shared, r.hubCopyId]), [[true, "snap-hub0"], [true, undefined]]);
        assert.equal(hubLimited.copy!.done, false);

        // Bounded by the deadline: still refused past it, the copy times out naming the copy never started.
        const late = structuredClone(hubLimited);
        late.copy!.deadline = new Date(Date.now() - 1000).toISOString();
        member.reset();
        hub.reset();
        hub.on(DescribeSnapshotsCommand, { OwnerIds: ["self"] }).resolves({ Snapshots: [] });
        hub.on(DescribeSnapshotsCommand, { SnapshotIds: ["snap-hub0"] }).resolves({ Snapshots: [{ SnapshotId: "snap-hub0", State: "completed" }] });
        hub.on(CopySnapshotCommand).rejects(limit());
        await assert.rejects(run("copy-check", late), (e: unknown) =>
            e instanceof SnapshotCopyTimeoutError && new RegExp(`${SOURCES[1]} at hub copy not started`).test(e.message) && !e.message.includes(SOURCES[0]));
        assert.equal(member.calls().length, 0);
    });

    it("past the deadline with copies pending is SnapshotCopyTimeoutError; completion wins over the deadline", async () => {
        const late = shared();
        late.copy!.deadline = new Date(Date.now() - 1000).toISOString();
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: "snap-hub0", State: "completed" }, { SnapshotId: "snap-hub1", State: "pending", Progress: "12%" }] });
        await assert.rejects(run("copy-check", late), (e: unknown) =>
            e instanceof SnapshotCopyTimeoutError && e.name === "SnapshotCopyTimeoutError" && new RegExp(`${SOURCES[1]} at hub copy snap-hub1 12%`).test(e.message) && !e.message.includes(SOURCES[0]));
        hub.reset();
        hub.on(DescribeSnapshotsCommand).resolves({ Snapshots: [0, 1].map((i) => ({ SnapshotId: `snap-hub${i}`, State: "completed" })) });
        assert.equal((await run("copy-check", late)).copy!.done, true);
    });

    it("refuses, before any AWS call, a copy not deployed (flag, hub key), a same-account target, or snapshots not completed", async () => {
        await assert.rejects(run("copy-start", completedDisk(), { ...ENV_ON, COPY_SNAPSHOTS_TO_HUB: undefined }), (e: unknown) =>
            e instanceof ConfigurationError && /COPY_SNAPSHOTS_TO_HUB/.test(e.message));
        await assert.rejects(run("copy-start", completedDisk(), { ...ENV_ON, HUB_SNAPSHOT_KEY_ARN: "alias/dfir-evidence" }), (e: unknown) =>
            e instanceof ConfigurationError && /HUB_SNAPSHOT_KEY_ARN must be a KMS key ARN/.test(e.message));
        await assert.rejects(withEnv(ENV_ON, () => snapshotHandler(event("copy-start", completedDisk(), TARGET))), (e: unknown) =>
            e instanceof InvalidRequestError && /target\.roleArn is required/.test(e.message));
        const own = { ...MEMBER_TARGET, accountId: HUB, roleArn: `arn:aws:iam::${HUB}:role/dfir-responder` };
        await assert.rejects(withEnv(ENV_ON, () => snapshotHandler(event("copy-start", completedDisk(), own))), (e: unknown) =>
            e instanceof InvalidRequestError && /functions' own account/.test(e.message));
        const pending = completedDisk();
        pending.snapshots[1].state = "pending";
        await assert.rejects(run("copy-start", pending), (e: unknown) => e instanceof InvalidRequestError && /must all be completed/.test(e.message));
        await assert.rejects(run("copy-check", completedDisk()), (e: unknown) => e instanceof InvalidRequestError && /disk\.copy must be/.test(e.message));
        assert.equal(member.calls().length + hub.calls().length, 0);
    });

    describe("refuses a malformed or foreign disk.copy with one InvalidRequestError, before any AWS call", () => {
        const OTHER_KEY = `arn:aws:kms:us-east-1:${HUB}:key/ffffffff-ffff-ffff-ffff-ffffffffffff`;
        const withCopy = (change: (copy: Record<string, any>) => void): DiskEvidence => {
            const d = shared();
            change(d.copy as unknown as Record<string, any>);
            return d;
        };
        const record = (i: number, change: (r: Record<string, any>) => void) => withCopy((c) => change(c.snapshots[i]));
        const cases: Array<[string, DiskEvidence, RegExp]> = [
            ["no copy records (was: done with nothing copied)", withCopy((c) => { c.snapshots = []; }), /exactly one record for snap-0+r, has 0.*exactly one record for snap-0+d, has 0/],
            ["a null record (was: TypeError)", withCopy((c) => { c.snapshots = [null, c.snapshots[1]]; }), /disk\.copy\.snapshots\[0\] must be a snapshot copy record, got null.*exactly one record for snap-0+r, has 0/],
            ["an empty record (was: CopySnapshot without a source)", withCopy((c) => { c.snapshots = [{}, c.snapshots[1]]; }), /snapshots\[0\]\.sourceSnapshotId must be a non-empty string, got undefined.*snapshots\[0\]\.shared must be true or false/],
            ["no deadline (was: never times out)", withCopy((c) => { delete c.deadline; }), /disk\.copy\.deadline must be an ISO time, got undefined/],
            ["a start that is no time", withCopy((c) => { c.startedAt = "yesterday"; }), /disk\.copy\.startedAt must be an ISO time, got "yesterday"/],
            ["done not a boolean", withCopy((c) => { c.done = "false"; }), /disk\.copy\.done must be true or false/],
            ["a hub account that is not 12 digits", withCopy((c) => { c.hubAccountId = "hub"; }), /disk\.copy\.hubAccountId must be 12 digits, got "hub"/],
            ["another hub account (would share the snapshots with it)", withCopy((c) => { c.hubAccountId = "999999999999"; }), /disk\.copy\.hubAccountId 999999999999 is not this function's account 210987654321/],
            ["another source account", withCopy((c) => { c.sourceAccountId = "333333333333"; }), /disk\.copy\.sourceAccountId "333333333333" is not target\.accountId "222222222222"/],
            ["another share key", record(0, (r) => { r.memberKeyId = "alias/aws/ebs"; }), /snapshots\[0\]\.memberKeyId alias\/aws\/ebs is not the target's share key/],
            ["another hub key", record(1, (r) => { r.hubKeyArn = OTHER_KEY; }), /snapshots\[1\]\.hubKeyArn arn:aws:kms:\S+:key\/ffff\S+ is not this function's evidence key/],
            ["shared not a boolean", record(0, (r) => { r.shared = "yes"; }), /snapshots\[0\]\.shared must be true or false, got "yes"/],
            ["a copy id that is no snapshot id", record(1, (r) => { r.memberCopyId = 42; }), /snapshots\[1\]\.memberCopyId, when present, must be a snapshot id, got number/],
            ["a copy start that is no time", record(1, (r) => { r.hubCopyStartedAt = "soon"; }), /snapshots\[1\]\.hubCopyStartedAt, when present, must be an ISO time/],
            ["a hub copy of a copy not shared", record(0, (r) => { r.shared = false; }), /snapshots\[0\] has a hub copy of a member copy not shared/],
            ["another volume", record(0, (r) => { r.volumeId = "vol-0000000000000000x"; }), /snapshots\[0\]\.volumeId "vol-0+x" is not "vol-0+r", the volume of snap-0+r/],
            ["two records of one snapshot", withCopy((c) => { c.snapshots[1] = { ...c.snapshots[0] }; }), /exactly one record for snap-0+r, has 2.*exactly one record for snap-0+d, has 0/],
            ["a record of a snapshot not in the disk evidence", withCopy((c) => { c.snapshots.push({ ...c.snapshots[0], sourceSnapshotId: "snap-0000000000000000x" }); }), /snapshots\[2\] copies "snap-0+x", not a snapshot of disk\.snapshots/],
            ["copy records that are not a list", withCopy((c) => { c.snapshots = "all"; }), /disk\.copy\.snapshots must be a list, got "all"/],
        ];
        for (const [name, disk, message] of cases) {
            it(name, async () => {
                for (const action of ["copy-check", "copy-start"] as const) {
                    await assert.rejects(run(action, disk), (e: unknown) => {
                        assert.ok(e instanceof InvalidRequestError, String(e));
                        assert.equal(e.name, "InvalidRequestError");
                        assert.match(e.message, message);
                        assert.doesNotMatch(e.message, /\n/, "one line");
                        return true;
                    });
                }
                assert.equal(member.calls().length + hub.calls().length, 0);
            });
        }

        it("a copy that is not an object", async () => {
            await assert.rejects(run("copy-check", { ...completedDisk(), copy: "done" as unknown as DiskCopy }), (e: unknown) =>
                e instanceof InvalidRequestError && /disk\.copy must be the copy of the copy-start step, got "done"/.test(e.message));
            assert.equal(member.calls().length + hub.calls().length, 0);
        });
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("memory handler", () => {
    let ssm: AwsClientStub<SSMClient>;
    let s3: AwsClientStub<S3Client>;
    const X86_KEY = "tools/avml-x86_64-0123456789abcdef";
    const ARM_KEY = "tools/avml-aarch64-fedcba9876543210";
    const ARM_SHA256 = "c".repeat(64);
    const ENVIRONMENT = {
        MEMORY_DOCUMENT: "aws-dfir-memory-capture",
        AVML_X86_64_KEY: X86_KEY,
        AVML_X86_64_SHA256: AVML_SHA256,
        AVML_AARCH64_KEY: ARM_KEY,
        AVML_AARCH64_SHA256: ARM_SHA256,
        MEMORY_CAP_SECONDS: "1800",
    };
    const NO_AVML = { AVML_X86_64_KEY: undefined, AVML_X86_64_SHA256: undefined, AVML_AARCH64_KEY: undefined, AVML_AARCH64_SHA256: undefined };
    const keys = memoryObjectKeys(CASE_ID, INSTANCE_ID);

    beforeEach(() => {
        ssm = strict(mockClient(SSMClient));
        s3 = strict(mockClient(S3Client));
    });
    afterEach(() => {
        ssm.restore();
        s3.restore();
    });

    const startEvent = (record = instance()) => ({ action: "start", caseId: CASE_ID, target: { ...TARGET }, instance: record, evidence: evidence() });
    const online = () => ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "Online" }] });
    const staged = (sha256 = AVML_SHA256) => s3.on(HeadObjectCommand).resolves({ Metadata: { sha256 } });
    const start = (event = startEvent(), env: Record<string, string | undefined> = ENVIRONMENT) => withEnv(env, () => memoryHandler(event));

    it("uses the capture layout cases/<caseId>/memory/<instanceId>.lime(.json)", () => {
        assert.deepEqual(keys, {
            prefix: `cases/${CASE_ID}/memory/`,
            image: `cases/${CASE_ID}/memory/${INSTANCE_ID}.lime`,
            sidecar: `cases/${CASE_ID}/memory/${INSTANCE_ID}.lime.json`,
        });
    });

    describe("preflight", () => {
        it("Windows: missing, no call made", async () => {
            const out = await start(startEvent({ ...instance(), platform: "windows" }));
            assert.deepEqual(out, { status: "missing", reason: "windows: avml is Linux-only; no Windows memory tool is integrated" });
            assert.equal(ssm.calls().length + s3.calls().length, 0);
        });

        it("no avml configured (no AVML_<BUILD>_KEY / _SHA256): missing avml-not-configured", async () => {
            const out = await start(startEvent(), { ...ENVIRONMENT, ...NO_AVML });
            assert.deepEqual(out, { status: "missing", reason: "avml-not-configured" });
            assert.equal(ssm.calls().length + s3.calls().length, 0);
        });

        it("only the other architecture's build staged: missing avml-not-configured naming the build, no call made", async () => {
            const graviton = startEvent({ ...instance(), architecture: "arm64" });
            const out = await start(graviton, { ...ENVIRONMENT, AVML_AARCH64_KEY: undefined, AVML_AARCH64_SHA256: undefined });
            assert.deepEqual(out, { status: "missing", reason: "avml-not-configured: no aarch64 build" });
            const x86 = await start(startEvent(), { ...ENVIRONMENT, AVML_X86_64_KEY: undefined, AVML_X86_64_SHA256: undefined });
            assert.deepEqual(x86, { status: "missing", reason: "avml-not-configured: no x86_64 build" });
            assert.equal(ssm.calls().length + s3.calls().length, 0);
        });

        for (const [architecture, reason] of [
            ["x86_64_mac", "macos: avml is Linux-only"],
            ["arm64_mac", "macos: avml is Linux-only"],
            ["i386", "avml-unsupported-architecture: i386"],
            [undefined, "instance-architecture-unknown"],
        ] as const) {
            it(`architecture ${architecture ?? "absent (a record made before it was recorded)"}: missing ${reason}, no call made`, async () => {
                const record = { ...instance(), architecture };
                if (architecture === undefined) delete record.architecture;
                assert.deepEqual(await start(startEvent(record)), { status: "missing", reason });
                assert.equal(ssm.calls().length + s3.calls().length, 0);
            });
        }

        it("SSM agent not Online (or not managed at all): missing ssm-agent-offline", async () => {
            ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "ConnectionLost" }] });
            assert.deepEqual(await start(), { status: "missing", reason: "ssm-agent-offline" });
            const filter = ssm.commandCalls(DescribeInstanceInformationCommand)[0].args[0].input.Filters;
            assert.deepEqual(filter, [{ Key: "InstanceIds", Values: [INSTANCE_ID] }]);

            ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
            assert.deepEqual(await start(), { status: "missing", reason: "ssm-agent-offline" });
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });

        it("avml not staged in the evidence bucket: missing avml-not-staged", async () => {
            online();
            s3.on(HeadObjectCommand).rejects(awsError("NotFound", 404));
            assert.deepEqual(await start(), { status: "missing", reason: "avml-not-staged" });
            assert.deepEqual(s3.commandCalls(HeadObjectCommand)[0].args[0].input, { Bucket: BUCKET, Key: X86_KEY });
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });

        it("avml there but not readable (HeadObject 403): missing avml-not-readable, distinct from not staged", async () => {
            online();
            s3.on(HeadObjectCommand).rejects(awsError("Forbidden", 403));
            assert.deepEqual(await start(), { status: "missing", reason: "avml-not-readable" });
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });

        it("staged avml whose recorded sha256 differs from the build's AVML_<BUILD>_SHA256: missing avml-hash-mismatch", async () => {
            online();
            staged("b".repeat(64));
            assert.deepEqual(await start(), { status: "missing", reason: "avml-hash-mismatch" });
            s3.on(HeadObjectCommand).resolves({ Metadata: {} });
            assert.deepEqual(await start(), { status: "missing", reason: "avml-hash-mismatch" });
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });
    });

    /** ListCommands finds nothing sent earlier. */
    const noEarlier = () => ssm.on(ListCommandsCommand).resolves({ Commands: [] });

    it("sends the project's document with names and hashes only, output to the case's ssm/ prefix", async () => {
        online();
        staged(AVML_SHA256.toUpperCase());
        noEarlier();
        ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-0001" } });
        const before = Date.now();
        const out = await start();

        assert.equal(out.status, "started");
        assert.equal(out.commandId, "cmd-0001");
        assert.equal(Date.parse(out.deadline as string) - Date.parse(out.startedAt as string), 1_800_000);
        assert.ok(Date.parse(out.startedAt as string) >= before - 1);

        const input = ssm.commandCalls(SendCommandCommand)[0].args[0].input;
        assert.equal(input.DocumentName, "aws-dfir-memory-capture");
        assert.deepEqual(input.InstanceIds, [INSTANCE_ID]);
        assert.deepEqual(input.Parameters, {
            Bucket: [BUCKET],
            KeyPrefix: [`cases/${CASE_ID}/memory/`],
            AvmlKey: [X86_KEY],
            AvmlSha256: [AVML_SHA256],
            Region: ["us-east-1"],
            InstanceId: [INSTANCE_ID],
        });
        assert.equal(input.OutputS3BucketName, BUCKET);
        assert.equal(input.OutputS3KeyPrefix, `cases/${CASE_ID}/ssm/`);
        assert.ok(typeof input.TimeoutSeconds === "number" && input.TimeoutSeconds >= 30);

        // No credentials anywhere in the command: no key ids, no secret-looking values, no credential-ish names.
        const text = JSON.stringify(input);
        assert.doesNotMatch(text, /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/);
        assert.doesNotMatch(text, /secret|session.?token|password|credential|accesskey/i);
        for (const value of Object.values(input.Parameters ?? {}).flat()) {
            assert.ok(value === AVML_SHA256 || !/^[A-Za-z0-9/+=]{40,}$/.test(value), `secret-looking parameter value ${value}`);
        }
    });

    describe("a retried start (the Lambda killed after SendCommand)", () => {
        /** The parameters this case sends to this instance. */
        const PARAMETERS = {
            Bucket: [BUCKET],
            KeyPrefix: [`cases/${CASE_ID}/memory/`],
            AvmlKey: [X86_KEY],
            AvmlSha256: [AVML_SHA256],
            Region: ["us-east-1"],
            InstanceId: [INSTANCE_ID],
        };
        const OTHER_CASE = `${INSTANCE_ID}-ffffffffffff`;
        const OTHER_INSTANCE = "i-0fedcba9876543210";
        const sent = (commandId: string, requested: Date, over: Partial<Command> = {}): Command => ({
            CommandId: commandId,
            DocumentName: "aws-dfir-memory-capture",
            InstanceIds: [INSTANCE_ID],
            Parameters: structuredClone(PARAMETERS),
            RequestedDateTime: requested,
            Status: "InProgress",
            ...over,
        });
        const ready = () => {
            online();
            staged();
        };

        it("adopts the capture this case already sent to this instance: no SendCommand, deadline from RequestedDateTime", async () => {
            ready();
            const requested = new Date(Date.now() - 400_000);
            ssm.on(ListCommandsCommand).resolves({ Commands: [sent("cmd-earlier", requested)] });
            const before = Date.now();
            const out = await start();
            const after = Date.now();

            // The pause before the first check: half the capture's age (400 s), at most the cap (1,800 s) / 80.
            const { nextPollSeconds, ...rest } = out;
            assert.equal(nextPollSeconds, Math.ceil(1800 / 80));
            assert.deepEqual(rest, {
                status: "started",
                commandId: "cmd-earlier",
                deadline: new Date(requested.getTime() + 1_800_000).toISOString(),
                startedAt: requested.toISOString(),
                avml: { build: "x86_64", key: X86_KEY, sha256: AVML_SHA256 },
            });
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0, "no second capture");
            assert.ok(logs.some((l) => JSON.parse(l).message === "memory capture adopted" && JSON.parse(l).commandId === "cmd-earlier"), logs.join("\n"));

            // The listing: the capture document's commands since cap + delivery timeout ago; never per instance
            // (a command still Pending is not listed under its instance).
            const input = ssm.commandCalls(ListCommandsCommand)[0].args[0].input;
            assert.equal(input.InstanceId, undefined);
            assert.equal(input.CommandId, undefined);
            assert.ok(input.MaxResults !== undefined && input.MaxResults >= 1 && input.MaxResults <= 50);
            const filters = Object.fromEntries((input.Filters ?? []).map((f) => [f.key, f.value]));
            assert.deepEqual(Object.keys(filters).sort(), ["DocumentName", "InvokedAfter"]);
            assert.equal(filters.DocumentName, "aws-dfir-memory-capture");
            assert.match(filters.InvokedAfter as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
            // now - (cap + delivery timeout), floored to the second.
            const bound = Date.parse(filters.InvokedAfter as string);
            const back = (1800 + DELIVERY_TIMEOUT_SECONDS) * 1000;
            assert.ok(bound <= after - back && bound > before - back - 1_000, `InvokedAfter ${filters.InvokedAfter}`);
        });

        it("adopts whatever the earlier command's status: a failed capture is left to the check to report, never re-run", async () => {
            ready();
            ssm.on(ListCommandsCommand).resolves({ Commands: [sent("cmd-failed", new Date(Date.now() - 60_000), { Status: "Failed" })] });
            const out = await start();
            assert.equal(out.commandId, "cmd-failed");
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });

        it("adopts the newest of several, whatever order the page lists them in", async () => {
            ready();
            const now = Date.now();
            ssm.on(ListCommandsCommand).resolves({
                Commands: [sent("cmd-old", new Date(now - 300_000)), sent("cmd-new", new Date(now - 10_000)), sent("cmd-mid", new Date(now - 100_000))],
            });
            assert.equal((await start()).commandId, "cmd-new");
        });

        it("ignores commands of another case, another instance, another document or other parameters, and sends", async () => {
            ready();
            const at = new Date(Date.now() - 60_000);
            ssm.on(ListCommandsCommand).resolves({
                Commands: [
                    sent("cmd-other-case", at, { Parameters: { ...structuredClone(PARAMETERS), KeyPrefix: [`cases/${OTHER_CASE}/memory/`] } }),
                    sent("cmd-other-instance", at, { InstanceIds: [OTHER_INSTANCE], Parameters: { ...structuredClone(PARAMETERS), InstanceId: [OTHER_INSTANCE] } }),
                    // Our instance's parameters, but sent to another instance (and the converse): both must match.
                    sent("cmd-sent-elsewhere", at, { InstanceIds: [OTHER_INSTANCE] }),
                    sent("cmd-names-other", at, { Parameters: { ...structuredClone(PARAMETERS), InstanceId: [OTHER_INSTANCE] } }),
                    sent("cmd-other-document", at, { DocumentName: "AWS-RunShellScript" }),
                    sent("cmd-other-avml", at, { Parameters: { ...structuredClone(PARAMETERS), AvmlSha256: ["b".repeat(64)] } }),
                    sent("cmd-extra-parameter", at, { Parameters: { ...structuredClone(PARAMETERS), Extra: ["x"] } }),
                    sent("cmd-no-parameters", at, { Parameters: undefined }),
                ],
            });
            ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-new" } });
            const out = await start();
            assert.equal(out.commandId, "cmd-new");
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 1);
            assert.ok(logs.some((l) => JSON.parse(l).message === "memory capture started"));
        });

        it("sends when nothing was sent before; pages through NextToken first", async () => {
            ready();
            ssm.on(ListCommandsCommand).resolves({ Commands: [] });
            ssm.on(ListCommandsCommand, { NextToken: undefined }).resolves({ Commands: [], NextToken: "page-2" });
            ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-0001" } });
            const out = await start();
            assert.equal(out.commandId, "cmd-0001");
            assert.deepEqual(ssm.commandCalls(ListCommandsCommand).map((c) => c.args[0].input.NextToken), [undefined, "page-2"]);
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 1);
        });

        it("finds the command on a later page", async () => {
            ready();
            ssm.on(ListCommandsCommand).resolves({ Commands: [sent("cmd-earlier", new Date(Date.now() - 60_000))] });
            ssm.on(ListCommandsCommand, { NextToken: undefined }).resolves({ Commands: [sent("cmd-x", new Date(), { InstanceIds: [OTHER_INSTANCE] })], NextToken: "page-2" });
            assert.equal((await start()).commandId, "cmd-earlier");
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
        });

        it(`reads at most ${MAX_LOOKUP_PAGES} pages, then sends and says so`, async () => {
            ready();
            ssm.on(ListCommandsCommand).resolves({ Commands: [sent("cmd-x", new Date(), { InstanceIds: [OTHER_INSTANCE] })], NextToken: "more" });
            ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-0001" } });
            assert.equal((await start()).commandId, "cmd-0001");
            assert.equal(ssm.commandCalls(ListCommandsCommand).length, MAX_LOOKUP_PAGES);
            assert.ok(logs.some((l) => /no earlier memory capture found/.test(JSON.parse(l).message)), logs.join("\n"));
        });

        it("a role without ssm:ListCommands sends as before (logged); any other listing error fails the step", async () => {
            ready();
            ssm.on(ListCommandsCommand).rejects(awsError("AccessDeniedException", 400, "not authorized to perform: ssm:ListCommands"));
            ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-0001" } });
            assert.equal((await start()).commandId, "cmd-0001");
            assert.ok(logs.some((l) => /ssm:ListCommands denied/.test(JSON.parse(l).message)));

            ssm.on(ListCommandsCommand).rejects(awsError("ThrottlingException", 400));
            await assert.rejects(start(), (e: unknown) => e instanceof Error && e.name === "ThrottlingException");
            assert.equal(ssm.commandCalls(SendCommandCommand).length, 1, "the throttled start sent nothing");
        });

        it("a known gap is still a missing result: the preflight comes before the lookup", async () => {
            ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
            ssm.on(ListCommandsCommand).resolves({ Commands: [sent("cmd-earlier", new Date())] });
            assert.deepEqual(await start(), { status: "missing", reason: "ssm-agent-offline" });
            assert.equal(ssm.commandCalls(ListCommandsCommand).length, 0);
        });
    });

    it("names the missing variable when MEMORY_DOCUMENT is unset or a build's key or hash is missing or malformed", async () => {
        const refused = (env: Record<string, string | undefined>, variable: string) =>
            assert.rejects(start(startEvent(), { ...ENVIRONMENT, ...env }), (e: unknown) => e instanceof ConfigurationError && e.variable === variable);
        await refused({ MEMORY_DOCUMENT: undefined }, "MEMORY_DOCUMENT");
        await refused({ AVML_X86_64_SHA256: "abc" }, "AVML_X86_64_SHA256");
        await refused({ AVML_AARCH64_SHA256: undefined }, "AVML_AARCH64_SHA256");
        await refused({ AVML_AARCH64_KEY: undefined }, "AVML_AARCH64_KEY");
        await refused({ AVML_X86_64_KEY: "avml; rm -rf /" }, "AVML_X86_64_KEY");
        assert.equal(ssm.calls().length + s3.calls().length, 0);
    });

    it("refuses the single AVML_KEY / AVML_SHA256 of a v0.11.0 deployment, naming the variables that replace it", async () => {
        for (const retired of ["AVML_KEY", "AVML_SHA256"]) {
            await assert.rejects(start(startEvent(), { ...ENVIRONMENT, [retired]: retired === "AVML_KEY" ? "tools/avml-v0.11.0" : AVML_SHA256 }), (e: unknown) =>
                e instanceof ConfigurationError && e.variable === retired && /AVML_X86_64_KEY \+ AVML_X86_64_SHA256 and AVML_AARCH64_KEY \+ AVML_AARCH64_SHA256/.test(e.message));
        }
        assert.equal(ssm.calls().length + s3.calls().length, 0);
    });

    it("sends a Graviton (arm64) instance the aarch64 build, and records which build it sent", async () => {
        online();
        s3.on(HeadObjectCommand).resolves({ Metadata: { sha256: ARM_SHA256 } });
        noEarlier();
        ssm.on(SendCommandCommand).resolves({ Command: { CommandId: "cmd-arm" } });

        const out = await start(startEvent({ ...instance(), architecture: "arm64" }));

        assert.deepEqual(out.avml, { build: "aarch64", key: ARM_KEY, sha256: ARM_SHA256 });
        assert.deepEqual(s3.commandCalls(HeadObjectCommand)[0].args[0].input, { Bucket: BUCKET, Key: ARM_KEY });
        const parameters = ssm.commandCalls(SendCommandCommand)[0].args[0].input.Parameters;
        assert.deepEqual([parameters?.AvmlKey, parameters?.AvmlSha256], [[ARM_KEY], [ARM_SHA256]]);
    });

    it("refuses a parameter the capture document would reject, before sending", async () => {
        online();
        staged();
        const event = { ...startEvent(), evidence: { bucket: "Bad_Bucket", prefix: "" } };
        await assert.rejects(start(event), (e: unknown) => e instanceof InvalidRequestError && /Bucket/.test(e.message));
        assert.equal(ssm.commandCalls(SendCommandCommand).length, 0);
    });

    describe("check", () => {
        const started = (deadline = new Date(Date.now() + 3_600_000).toISOString()): MemoryResult => ({
            status: "started",
            commandId: "cmd-0001",
            deadline,
            startedAt: new Date(Date.now() - 60_000).toISOString(),
        });
        const check = (memory: MemoryResult) =>
            withEnv(ENVIRONMENT, () => memoryHandler({ ...startEvent(), action: "check", memory }));

        it("while the command runs, returns the same memory back", async () => {
            for (const status of ["Pending", "InProgress", "Delayed"] as const) {
                ssm.on(GetCommandInvocationCommand).resolves({ Status: status });
                const memory = started();
                const { nextPollSeconds, ...rest } = await check(memory);
                assert.deepEqual(rest, memory);
                assert.ok(nextPollSeconds !== undefined && nextPollSeconds >= 30 && nextPollSeconds <= 31, String(nextPollSeconds));
            }
            assert.deepEqual(ssm.commandCalls(GetCommandInvocationCommand)[0].args[0].input, { CommandId: "cmd-0001", InstanceId: INSTANCE_ID });
        });

        it("an invocation SSM does not know yet is still pending", async () => {
            ssm.on(GetCommandInvocationCommand).rejects(awsError("InvocationDoesNotExist", 400));
            const memory = started();
            const { nextPollSeconds, ...rest } = await check(memory);
            assert.deepEqual(rest, memory);
            assert.ok(nextPollSeconds !== undefined && nextPollSeconds >= 15, String(nextPollSeconds));
        });

        it("past the deadline: missing capture-timeout, and the command is cancelled", async () => {
            ssm.on(GetCommandInvocationCommand).resolves({ Status: "InProgress" });
            ssm.on(CancelCommandCommand).resolves({});
            const out = await check(started(new Date(Date.now() - 1000).toISOString()));
            assert.equal(out.status, "missing");
            assert.equal(out.reason, "capture-timeout");
            assert.equal(out.commandId, "cmd-0001");
            assert.equal(ssm.commandCalls(CancelCommandCommand).length, 1);
        });

        it("a failed command: missing capture-failed with SSM's status detail and the exit code", async () => {
            ssm.on(GetCommandInvocationCommand).resolves({ Status: "Failed", StatusDetails: "Failed", ResponseCode: 14 });
            const out = await check(started());
            assert.equal(out.status, "missing");
            assert.equal(out.reason, "capture-failed: Failed exit 14 (avml-hash-mismatch)");
            ssm.on(GetCommandInvocationCommand).resolves({ Status: "TimedOut", StatusDetails: "DeliveryTimedOut", ResponseCode: -1 });
            assert.equal((await check(started())).reason, "capture-failed: DeliveryTimedOut exit -1");
        });

        describe("success: verified from S3's part checksums, without reading the image", () => {
            const digest = (i: number): string => createHash("sha256").update(`part ${i}`).digest("hex");
            /** A sidecar of `count` parts of `partSize` (the last `lastBytes`), as capture.sh writes it. */
            const sidecarOf = (count: number, partSize = 8 * MIB, lastBytes = partSize) => {
                const parts = Array.from({ length: count }, (_, i) => digest(i + 1));
                return { sha256: "a".repeat(64), bytes: (count - 1) * partSize + lastBytes, avmlSha256: AVML_SHA256, instanceId: INSTANCE_ID, startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:10:00Z", partSize, partCount: count, parts };
            };
            type Sidecar = ReturnType<typeof sidecarOf>;
            /** GetObjectAttributes as S3 answers it for an upload of `sidecar`'s parts, 1,000 a page; `change` alters them. */
            const serve = (sidecar: Sidecar, options: { size?: number; change?: (parts: { PartNumber: number; Size: number; ChecksumSHA256?: string }[]) => void; versions?: string[]; checksum?: Record<string, string>; noParts?: boolean } = {}) => {
                ssm.on(GetCommandInvocationCommand).resolves({ Status: "Success", StatusDetails: "Success", ResponseCode: 0 });
                s3.on(GetObjectCommand, { Bucket: BUCKET, Key: keys.sidecar }).resolves({ Body: Readable.from([Buffer.from(JSON.stringify(sidecar))]) as never });
                const parts = sidecar.parts.map((hex, i) => ({ PartNumber: i + 1, Size: Math.min(sidecar.partSize, sidecar.bytes - i * sidecar.partSize), ChecksumSHA256: Buffer.from(hex, "hex").toString("base64") as string | undefined }));
                options.change?.(parts);
                let call = 0;
                s3.on(GetObjectAttributesCommand).callsFake((input: { PartNumberMarker?: string; MaxParts?: number }) => {
                    const version = options.versions?.[call] ?? "v-image-1";
                    call += 1;
                    const after = parts.filter((p) => p.PartNumber > Number(input.PartNumberMarker ?? 0));
                    const page = after.slice(0, input.MaxParts ?? 1000);
                    const truncated = after.length > page.length;
                    return {
                        VersionId: version,
                        ObjectSize: options.size ?? sidecar.bytes,
                        Checksum: options.checksum ?? { ChecksumSHA256: "composite-3", ChecksumType: "COMPOSITE" },
                        ...(options.noParts ? {} : { ObjectParts: { TotalPartsCount: parts.length, IsTruncated: truncated, MaxParts: 1000, Parts: page, ...(truncated ? { NextPartNumberMarker: String(page[page.length - 1].PartNumber) } : {}) } }),
                    };
                });
            };

            it("returns it captured with the instance's sha256 and the part record: 2,500 parts in 3 pages, the image never read", async () => {
                const sidecar = sidecarOf(2500, 5 * MIB, 123);
                serve(sidecar);

                const out = await check(started());

                assert.equal(out.status, "captured");
                assert.deepEqual(out.object, { bucket: BUCKET, key: keys.image, versionId: "v-image-1", sha256: sidecar.sha256, bytes: sidecar.bytes });
                assert.equal(out.hostSha256, sidecar.sha256);
                assert.equal(out.partSize, 5 * MIB);
                assert.equal(out.partCount, 2500);
                assert.equal(out.partsSha256, partsSha256(sidecar.parts));
                const pages = s3.commandCalls(GetObjectAttributesCommand).map((c) => c.args[0].input);
                assert.deepEqual(pages.map((p) => p.PartNumberMarker), [undefined, "1000", "2000"]);
                assert.ok(pages.every((p) => p.Bucket === BUCKET && p.Key === keys.image && p.MaxParts === 1000 && p.VersionId === undefined));
                assert.deepEqual(pages[0].ObjectAttributes, ["ObjectSize", "Checksum", "ObjectParts"]);
                assert.deepEqual(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key), [keys.sidecar], "only the sidecar is read");
            });

            it("a part whose S3 checksum differs is a HashMismatchError naming the part and both digests", async () => {
                const sidecar = sidecarOf(3);
                const other = createHash("sha256").update("other bytes").digest();
                serve(sidecar, { change: (parts) => { parts[1].ChecksumSHA256 = other.toString("base64"); } });

                await assert.rejects(check(started()), (e: unknown) => {
                    assert.ok(e instanceof HashMismatchError, String(e));
                    assert.match(e.message, /\.lime\?versionId=v-image-1 part 2 of 3: host reported sha256 [0-9a-f]{64} \(8388608 bytes\), S3's part 2 has sha256 [0-9a-f]{64} \(8388608 bytes\)$/);
                    assert.ok(e.message.includes(sidecar.parts[1]) && e.message.includes(other.toString("hex")), e.message);
                    return true;
                });
            });

            it("a part of another size is a HashMismatchError too", async () => {
                serve(sidecarOf(3), { change: (parts) => { parts[2].Size -= 1; } });
                await assert.rejects(check(started()), /part 3 of 3/);
            });

            it("an object of another size, or another number of parts, is a HashMismatchError on the part list", async () => {
                const sidecar = sidecarOf(3);
                serve(sidecar, { size: sidecar.bytes + 1 });
                await assert.rejects(check(started()), (e: unknown) => e instanceof HashMismatchError && /part list: 3 parts of 8388608 bytes reported, 3 stored/.test(e.message) && e.message.includes(partsSha256(sidecar.parts)));
                s3.reset();
                serve(sidecar, { change: (parts) => { parts.pop(); } });
                await assert.rejects(check(started()), (e: unknown) => e instanceof HashMismatchError && /3 parts of 8388608 bytes reported, 2 stored/.test(e.message));
            });

            it("an image uploaded without SHA-256 part checksums cannot be verified: MemoryCaptureFailedError", async () => {
                serve(sidecarOf(2), { checksum: { ChecksumCRC64NVME: "AAAAAAAAAAA=", ChecksumType: "FULL_OBJECT" } });
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && /not uploaded in parts with SHA-256 checksums \(ChecksumCRC64NVME\)/.test(e.message));
                s3.reset();
                serve(sidecarOf(2), { change: (parts) => { delete parts[1].ChecksumSHA256; } });
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && /part 2 has no SHA-256 checksum/.test(e.message));
                s3.reset();
                serve(sidecarOf(1), { noParts: true, checksum: { ChecksumSHA256: "full", ChecksumType: "FULL_OBJECT" } });
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && /no parts/.test(e.message));
            });

            it("a new version written while the pages are read is refused, never mixed in", async () => {
                serve(sidecarOf(1500), { versions: ["v-1", "v-2"] });
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && /changed while its parts were read \(version v-1, then v-2\)/.test(e.message));
            });

            it("a sidecar without a usable part list (an older script's, or a damaged one) is MemoryCaptureFailedError", async () => {
                const { parts: _parts, ...old } = sidecarOf(2);
                serve({ ...old, parts: [] } as Sidecar);
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && /has no usable part list \(parts is not a list/.test(e.message));
                s3.reset();
                const short = sidecarOf(3);
                serve({ ...short, parts: short.parts.slice(0, 2) });
                await assert.rejects(check(started()), /2 part digests for 25165824 bytes in parts of 8388608 \(expected 3\)/);
            });

            it("a success without a sidecar is MemoryCaptureFailedError", async () => {
                ssm.on(GetCommandInvocationCommand).resolves({ Status: "Success", ResponseCode: 0 });
                s3.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && e.message.includes(keys.sidecar));
            });

            it("an image S3 does not have is MemoryCaptureFailedError", async () => {
                serve(sidecarOf(1));
                s3.on(GetObjectAttributesCommand).rejects(awsError("NoSuchKey", 404));
                await assert.rejects(check(started()), (e: unknown) => e instanceof MemoryCaptureFailedError && e.message.includes(`image s3://${BUCKET}/${keys.image} not found`));
            });
        });
    });
});

// ---------------------------------------------------------------------------------------------------------------
describe("metadata handler", () => {
    let ec2: AwsClientStub<EC2Client>;
    let s3: AwsClientStub<S3Client>;
    const CONSOLE = "Linux version 6.1\nlogin: ";
    const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

    beforeEach(() => {
        ec2 = strict(mockClient(EC2Client));
        s3 = strict(mockClient(S3Client));
        s3.on(PutObjectCommand).callsFake((input: { Key: string }) => ({ VersionId: `v-${input.Key.split("/").pop()}` }));
        ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, LaunchTime: new Date("2025-01-01T00:00:00Z") }] }] });
        ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [{ NetworkInterfaceId: "eni-0000000000000000a" }] });
        ec2.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(CONSOLE).toString("base64") });
        ec2.on(GetConsoleScreenshotCommand).resolves({ ImageData: JPEG.toString("base64") });
    });
    afterEach(() => {
        ec2.restore();
        s3.restore();
    });

    const event = () => ({ caseId: CASE_ID, target: { ...TARGET }, instance: instance(), evidence: evidence() });
    const run = (days = "30") => withEnv({ RETENTION_DAYS: days }, () => metadataHandler(event()));
    const prefix = `cases/${CASE_ID}/metadata/`;
    const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

    it("stores the four items under Object Lock COMPLIANCE with their sha256 and size", async () => {
        const before = Date.now();
        const out = await run("30");
        assert.deepEqual(out.missing, []);
        assert.deepEqual(out.objects.map((o) => o.key).sort(), [
            `${prefix}console-output.txt`,
            `${prefix}console-screenshot.jpg`,
            `${prefix}instance.json`,
            `${prefix}network-interfaces.json`,
        ]);
        const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
        assert.equal(puts.length, 4);
        for (const put of puts) {
            assert.equal(put.Bucket, BUCKET);
            assert.equal(put.ObjectLockMode, "COMPLIANCE");
            const until = (put.ObjectLockRetainUntilDate as Date).getTime();
            assert.ok(until >= before + 30 * 86_400_000 && until <= Date.now() + 30 * 86_400_000);
            assert.equal(put.ChecksumAlgorithm, "SHA256");
            const body = Buffer.from(put.Body as Uint8Array);
            assert.equal(put.ChecksumSHA256, createHash("sha256").update(body).digest("base64"));
            const object = out.objects.find((o) => o.key === put.Key);
            assert.ok(object);
            assert.deepEqual(object, { bucket: BUCKET, key: put.Key, versionId: `v-${(put.Key as string).split("/").pop()}`, sha256: sha(body), bytes: body.length });
            assert.equal(put.Metadata?.sha256, sha(body));
        }
        const consolePut = puts.find((p) => p.Key?.endsWith("console-output.txt"));
        assert.equal(Buffer.from(consolePut?.Body as Uint8Array).toString("utf8"), CONSOLE, "console output is decoded from base64");
        const shot = puts.find((p) => p.Key?.endsWith(".jpg"));
        assert.deepEqual(Buffer.from(shot?.Body as Uint8Array), JPEG);
        const described = JSON.parse(Buffer.from(puts.find((p) => p.Key?.endsWith("instance.json"))?.Body as Uint8Array).toString("utf8"));
        assert.equal(described.Reservations[0].Instances[0].InstanceId, INSTANCE_ID);
        assert.equal(described.$metadata, undefined);

        assert.deepEqual(ec2.commandCalls(DescribeNetworkInterfacesCommand)[0].args[0].input.Filters, [{ Name: "attachment.instance-id", Values: [INSTANCE_ID] }]);
        assert.deepEqual(ec2.commandCalls(GetConsoleOutputCommand)[0].args[0].input, { InstanceId: INSTANCE_ID, Latest: true });
    });

    it("records a failed item as missing with the reason and keeps the rest", async () => {
        ec2.on(GetConsoleScreenshotCommand).rejects(awsError("UnsupportedOperation", 400, "This instance type does not support screenshots"));
        ec2.on(GetConsoleOutputCommand).resolves({});
        const out = await run();
        assert.deepEqual(out.missing, [
            { item: "console-output", reason: "no console output available" },
            { item: "console-screenshot", reason: "UnsupportedOperation: This instance type does not support screenshots" },
        ]);
        assert.equal(out.objects.length, 2);
        assert.equal(s3.commandCalls(PutObjectCommand).length, 2);
    });

    it("an item whose upload fails is missing too", async () => {
        s3.on(PutObjectCommand, { Key: `${prefix}instance.json` }).rejects(awsError("AccessDenied", 403, "denied"));
        const out = await run();
        assert.deepEqual(out.missing, [{ item: "instance", reason: "AccessDenied: denied" }]);
        assert.equal(out.objects.length, 3);
    });

    it("fails the step only when nothing at all was collected", async () => {
        ec2.on(DescribeInstancesCommand).rejects(awsError("UnauthorizedOperation", 403));
        ec2.on(DescribeNetworkInterfacesCommand).rejects(awsError("UnauthorizedOperation", 403));
        ec2.on(GetConsoleOutputCommand).rejects(awsError("UnauthorizedOperation", 403));
        ec2.on(GetConsoleScreenshotCommand).rejects(awsError("UnauthorizedOperation", 403));
        await assert.rejects(run(), (e: unknown) => e instanceof MetadataCaptureFailedError && e.missing.length === 4 && e.name === "MetadataCaptureFailedError");
    });

    it("reads RETENTION_DAYS per invocation", async () => {
        await run("1");
        await run("10");
        const until = s3.commandCalls(PutObjectCommand).map((c) => (c.args[0].input.ObjectLockRetainUntilDate as Date).getTime());
        const days = (ms: number) => Math.round((ms - Date.now()) / 86_400_000);
        assert.deepEqual([...new Set(until.slice(0, 4).map(days))], [1]);
        assert.deepEqual([...new Set(until.slice(4).map(days))], [10]);
    });
});
