import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    BLOCK_BYTES, CHUNK_BLOCKS, chunkDigest, chunkRange, chunkRanges, combine, diskDigest, ImageDigester, MAX_CHUNKS, planItems, recordStatus, zeroBlockSha256,
    type DigestTarget,
} from "../core/diskDigest";
import { buildDefinition, DIGEST_MAX_CONCURRENCY, STATES } from "../core/definition";
import { digestReadStatements, distributedMapStatements, componentMachineScope } from "../core/iam";
import { drillTargets, runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { blockBytes, writtenBlocks, type SnapshotContent } from "../drill/sim/disk";
import { main } from "../cli/index";
import { buildDigestRecord } from "../functions/digest/record";
import { ListSnapshotBlocksCommand } from "@aws-sdk/client-ebs";
import { client } from "../functions/lib/aws";
import { parseDrillCommand } from "../scripts/drill";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (d: unknown, o?: unknown) => { isValid: boolean; errorsText: (sep?: string) => string };

/**
 * Disk content digests at any size (issue 17, item 3): each evidence snapshot's content hashed through the EBS direct
 * APIs after the seal, in 8 GiB chunks fanned out over a Distributed Map, recorded in a second sealed record per case;
 * `dfir verify --deep` recomputes them, `dfir digest-image` from a dd image.
 */
async function dfir(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false });
    return { code, stdout, stderr };
}

async function drill(extra: Partial<DrillOptions> = {}) {
    const options = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), simOptions: { memoryBytes: 256 * 1024 }, ...extra } as DrillOptions;
    const sim = seedAccount(options);
    const report = await runDrill({ ...options, sim });
    return { report, sim };
}

describe("disk digest definition (core/diskDigest.ts)", () => {
    it("cuts a volume into 8 GiB chunks of 524,288-byte blocks: 8 GiB one chunk, 100 GiB thirteen, the last short", () => {
        assert.deepEqual(chunkRanges(8 * 2048), [{ chunk: 0, first: 0, end: 16_384 }]);
        const r = chunkRanges(100 * 2048);
        assert.equal(r.length, 13);
        assert.deepEqual(r[12], { chunk: 12, first: 12 * CHUNK_BLOCKS, end: 204_800 });
        assert.throws(() => chunkRange(8 * 2048, 1), /chunk 1 is not a chunk of a volume of 16384 blocks/);
    });

    it("a never-written block counts as 524,288 zero bytes; a block digest outside the chunk is refused, not lost", () => {
        assert.deepEqual(zeroBlockSha256(), createHash("sha256").update(Buffer.alloc(BLOCK_BYTES)).digest());
        const range = chunkRange(2048, 0);
        const explicitZeros = new Map([[5, zeroBlockSha256()]]);
        assert.deepEqual(chunkDigest(range, explicitZeros), chunkDigest(range, new Map()), "a written block of zeros is the sparse block");
        assert.throws(() => chunkDigest(range, new Map([[2048, zeroBlockSha256()]])), /block 2048 is not in chunk 0/);
    });

    it("the EBS direct APIs' view (written blocks only) and a dd image of a volume made from the snapshot give the same digest; dfir digest-image computes it without AWS", async () => {
        const content: SnapshotContent = { seed: "test-volume", writtenEvery: 64 };
        const blocks = 2048; // 1 GiB
        const written = writtenBlocks(content, 0, blocks, Infinity);
        assert.ok(written.length > 10 && written.length < 200, `${written.length} written blocks`);
        const api = diskDigest([chunkDigest(chunkRange(blocks, 0), new Map(written.map((i) => [i, createHash("sha256").update(blockBytes(content, i)).digest()]))).toString("hex")]);
        // The image: a sparse file of 1 GiB with the written blocks at their offsets (what dd of the volume reads).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-digest-"));
        const file = path.join(dir, "volume.img");
        const fd = fs.openSync(file, "w");
        for (const i of written) fs.writeSync(fd, blockBytes(content, i), 0, BLOCK_BYTES, i * BLOCK_BYTES);
        fs.ftruncateSync(fd, blocks * BLOCK_BYTES);
        fs.closeSync(fd);
        try {
            const out = await dfir(["digest-image", file, "--json"]);
            assert.equal(out.code, 0, out.stderr);
            const result = JSON.parse(out.stdout);
            assert.equal(result.digest, api);
            assert.equal(result.volumeSizeGiB, 1);
            // One byte changed anywhere changes it.
            const fd2 = fs.openSync(file, "r+");
            fs.writeSync(fd2, Buffer.from([1]), 0, 1, 700 * BLOCK_BYTES + 3);
            fs.closeSync(fd2);
            assert.notEqual(JSON.parse((await dfir(["digest-image", file, "--json"])).stdout).digest, api);
            // Not a whole number of GiB: refused in one line (exit 2).
            fs.truncateSync(file, blocks * BLOCK_BYTES + 512);
            const bad = await dfir(["digest-image", file]);
            assert.equal(bad.code, 2);
            assert.match(bad.stderr, /ends inside a block/);
            // --size takes the snapshot's size of a larger volume's image.
            fs.truncateSync(file, 2 * blocks * BLOCK_BYTES);
            const sized = await dfir(["digest-image", file, "--size", "1", "--json"]);
            assert.equal(JSON.parse(sized.stdout).volumeSizeGiB, 1);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("combines chunk results per snapshot; a chunk missing, failed or reported twice fails its snapshot, named; the record never claims more", () => {
        const t = (id: string, chunks: number): DigestTarget => ({ snapshotId: id, volumeId: `vol-${id}`, volumeSizeGiB: chunks * 8, blocks: chunks * CHUNK_BLOCKS, chunks });
        const d = (n: number) => n.toString(16).padStart(64, "0");
        const ok = combine([t("snap-a", 2)], [{ snapshotId: "snap-a", chunk: 1, digest: d(2), written: 3 }, { snapshotId: "snap-a", chunk: 0, digest: d(1), written: 4 }]);
        assert.equal(ok[0]?.status, "digested");
        assert.equal(ok[0]?.digest, diskDigest([d(1), d(2)]), "in chunk order, whatever the results' order");
        assert.equal(ok[0]?.writtenBlocks, 7);
        const bad = combine([t("snap-a", 3), t("snap-b", 1)], [
            { snapshotId: "snap-a", chunk: 0, digest: d(1) },
            { snapshotId: "snap-a", chunk: 1, error: "RequestThrottledException: Rate exceeded" },
            { snapshotId: "snap-b", chunk: 0, digest: d(3) },
            { snapshotId: "snap-b", chunk: 0, digest: d(3) },
        ]);
        assert.equal(bad[0]?.status, "failed");
        assert.match(bad[0]?.error ?? "", /chunk 1: RequestThrottledException: Rate exceeded; chunk 2 has no result/);
        assert.deepEqual(bad[0]?.chunkDigests, [d(1), null, null]);
        assert.equal(bad[0]?.digest, undefined);
        assert.match(bad[1]?.error ?? "", /chunk 0 reported 2 times/);
        assert.equal(recordStatus(bad), "failed");
        assert.equal(recordStatus([...ok, ...bad]), "partial");
        assert.equal(recordStatus([]), "failed", "nothing digested is not complete");
        // A plan whose target has no chunks would combine nothing into a "digested" snapshot: the record fails instead.
        const event = { action: "record", caseId: "c-1", executionArn: "arn:aws:states:us-east-1:111111111111:execution:m:e", evidence: { bucket: "b", prefix: "cases/c-1/" }, plan: { targets: [{ ...t("snap-z", 1), chunks: 0 }], items: [] } };
        const record = buildDigestRecord(event as never, "2026-12-07T00:00:00Z");
        assert.equal(record.status, "failed");
        assert.deepEqual(record.snapshots, []);
        assert.match(record.error ?? "", /^planning failed: a target is not \{snapshotId, blocks >= 1, chunks >= 1\}/);
    });

    it("plans one Map item per chunk and refuses a case larger than the Map's results can carry, naming the sizes", () => {
        const items = planItems([{ snapshotId: "snap-a", volumeId: "vol-a", volumeSizeGiB: 100, blocks: 204_800, chunks: 13 }]);
        assert.equal(items.length, 13);
        assert.deepEqual(items[12], { snapshotId: "snap-a", chunk: 12, blocks: 204_800 });
        const huge = { snapshotId: "snap-h", volumeId: "vol-h", volumeSizeGiB: 16_384, blocks: 16_384 * 2048, chunks: 2048 };
        assert.ok(huge.chunks > MAX_CHUNKS);
        assert.throws(() => planItems([huge]), /2048 chunks of 8 GiB \(snap-h 16384 GiB\) exceed the 1024 one case digests/);
    });
});

describe("the simulator's EBS direct APIs (drill/sim/services/ebs.ts)", function () {
    this.timeout(120_000);
    let sim: Awaited<ReturnType<typeof drill>>["sim"];
    let snapshotIds: string[];

    before(async () => {
        ({ sim } = await drill());
        snapshotIds = sim.snapshots().map((s) => s.snapshotId);
    });

    const call = (operation: string, input: Record<string, unknown>) => sim.invoke("ebs", operation, input, { accountId: sim.instanceAccountId, region: sim.region });

    it("ListSnapshotBlocks lists the written blocks only, in order, in pages (MaxResults 100..10,000, NextToken), with VolumeSize and BlockSize 524,288", async () => {
        const big = sim.snapshots().find((s) => s.volumeSizeGiB === 100) as { snapshotId: string };
        // Denser than the drill's default (about one block per 8 GiB): enough written blocks for several pages.
        sim.setSnapshotDisk(big.snapshotId, { volumeSizeGiB: 100, seed: "pages", writtenEvery: 1024 });
        const seen: number[] = [];
        let NextToken: string | undefined;
        let pages = 0;
        do {
            const page = await call("ListSnapshotBlocks", { SnapshotId: big.snapshotId, MaxResults: 100, ...(NextToken ? { NextToken } : {}) });
            assert.equal(page.VolumeSize, 100);
            assert.equal(page.BlockSize, 524_288);
            seen.push(...(page.Blocks as { BlockIndex: number }[]).map((b) => b.BlockIndex));
            NextToken = page.NextToken as string | undefined;
            pages += 1;
        } while (NextToken);
        assert.ok(pages >= 2, `${pages} pages`);
        assert.deepEqual(seen, [...seen].sort((a, b) => a - b), "in order");
        assert.equal(new Set(seen).size, seen.length, "unique");
        assert.ok(seen.length > 100 && seen.length < 204_800 / 100, `${seen.length} written of 204,800: sparse`);
        const from = await call("ListSnapshotBlocks", { SnapshotId: big.snapshotId, StartingBlockIndex: seen[50] });
        assert.equal((from.Blocks as { BlockIndex: number }[])[0]?.BlockIndex, seen[50]);
        await assert.rejects(call("ListSnapshotBlocks", { SnapshotId: big.snapshotId, NextToken: "bm90LWEtdG9rZW4=" }), (e: Error & { Reason?: string }) => e.name === "ValidationException" && e.Reason === "INVALID_PAGE_TOKEN");
        await assert.rejects(call("ListSnapshotBlocks", { SnapshotId: big.snapshotId, MaxResults: 20_000 }), { name: "ValidationException" });
        await assert.rejects(call("ListSnapshotBlocks", { SnapshotId: "snap-0123456789abcdef0" }), (e: Error & { Reason?: string }) => e.name === "ResourceNotFoundException" && e.Reason === "SNAPSHOT_NOT_FOUND");
    });

    it("GetSnapshotBlock returns the block's bytes with DataLength and its base64 SHA-256 Checksum, for the token ListSnapshotBlocks gave that block only", async () => {
        const id = snapshotIds[0] as string;
        const page = await call("ListSnapshotBlocks", { SnapshotId: id });
        const [first, second] = page.Blocks as { BlockIndex: number; BlockToken: string }[];
        const out = await call("GetSnapshotBlock", { SnapshotId: id, BlockIndex: first?.BlockIndex, BlockToken: first?.BlockToken });
        const bytes = Buffer.from(await (out.BlockData as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
        assert.equal(bytes.length, 524_288);
        assert.equal(out.DataLength, 524_288);
        assert.equal(out.ChecksumAlgorithm, "SHA256");
        assert.equal(out.Checksum, createHash("sha256").update(bytes).digest("base64"));
        assert.ok(bytes.some((b) => b !== 0), "real content");
        await assert.rejects(call("GetSnapshotBlock", { SnapshotId: id, BlockIndex: first?.BlockIndex, BlockToken: second?.BlockToken }), (e: Error & { Reason?: string }) => e.name === "ValidationException" && e.Reason === "INVALID_BLOCK_TOKEN");
    });

    it("throttles above the quotas as assumed (ListSnapshotBlocks 50 per second per account): RequestThrottledException", async () => {
        const id = snapshotIds[0] as string;
        const answers = await Promise.allSettled(Array.from({ length: 200 }, () => call("ListSnapshotBlocks", { SnapshotId: id, MaxResults: 100 })));
        const throttled = answers.filter((a) => a.status === "rejected" && (a.reason as Error).name === "RequestThrottledException");
        assert.ok(throttled.length > 0, "200 lists at once: some throttled");
        assert.ok(answers.every((a) => a.status === "fulfilled" || (a.reason as Error).name === "RequestThrottledException"));
        await new Promise((resolve) => setTimeout(resolve, 1100)); // a quota is per second: the next tests start afresh
    });

    it("IAM: the digest function reads evidence snapshots only (aws:ResourceTag/dfir:evidence): a snapshot without the tag is AccessDenied", async () => {
        const id = snapshotIds[0] as string;
        sim.install();
        try {
            const asDigest = <T>(body: () => Promise<T>) => sim.runAs(sim.functionRoleArn("digest") as string, body);
            const list = () => client("ebs", { region: sim.region }).send(new ListSnapshotBlocksCommand({ SnapshotId: id, MaxResults: 100 }));
            await asDigest(list);
            // The analyst (an administrator of the account) takes the evidence tag off.
            await sim.invoke("ec2", "DeleteTags", { Resources: [id], Tags: [{ Key: "dfir:evidence" }] }, { accountId: sim.instanceAccountId, region: sim.region });
            await assert.rejects(asDigest(list), { name: "AccessDeniedException" });
        } finally {
            sim.uninstall();
        }
        assert.equal(sim.iamDenied.at(-1)?.action, "ebs:ListSnapshotBlocks");
    });

    it("only a completed snapshot can be read; a snapshot's content costs a few bytes of state whatever its size, and the block a changed byte wrote is listed", async () => {
        const slow = seedAccount({ finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), simOptions: { snapshotDurationMs: 3_600_000 } } as DrillOptions);
        const made = await slow.invoke("ec2", "CreateSnapshots", { InstanceSpecification: { InstanceId: slow.instanceId } }, { accountId: slow.instanceAccountId, region: slow.region });
        const pending = (made.Snapshots as { SnapshotId: string }[])[0]?.SnapshotId as string;
        await assert.rejects(slow.invoke("ebs", "ListSnapshotBlocks", { SnapshotId: pending }, { accountId: slow.instanceAccountId, region: slow.region }), (e: Error) => e.name === "ValidationException" && /not in the completed state/.test(e.message));
        const snapshot = sim.snapshots().find((s) => s.volumeSizeGiB === 100) as { snapshotId: string };
        const state = JSON.parse(JSON.stringify(sim.toJSON())) as { state: { accounts: Record<string, { regions: Record<string, { snapshots: Record<string, unknown> }> }> } };
        const stored = Object.values(state.state.accounts).flatMap((a) => Object.values(a.regions)).map((r) => r.snapshots[snapshot.snapshotId]).find(Boolean);
        assert.ok(stored && JSON.stringify(stored).length < 4096, "a 100 GiB snapshot is a small record");
        const changed = sim.tamperSnapshotBlock((snapshot as { snapshotId: string }).snapshotId, 7, 42);
        assert.equal(changed.block, 7);
        const listed = await call("ListSnapshotBlocks", { SnapshotId: changed.snapshotId, MaxResults: 100 });
        assert.ok((listed.Blocks as { BlockIndex: number }[]).some((b) => b.BlockIndex === 7), "a block written by the change is listed");
        assert.throws(() => sim.tamperSnapshotBlock("snap-0000000000000000f"), /no snapshot snap-0000000000000000f/);
    });
});

describe("disk digests in the workflow (after the seal, a Distributed Map over the chunks)", function () {
    this.timeout(180_000);

    it("the definition: after Notify, only when the disk branch completed; a DISTRIBUTED Map of STANDARD children, bounded concurrency, every failure caught; valid ASL", () => {
        const def = buildDefinition(drillTargets("111122223333", "us-east-1", "arn:aws:sns:us-east-1:111122223333:dfir")) as Record<string, any>;
        assert.ok(aslValidator(structuredClone(def)).isValid, aslValidator(structuredClone(def)).errorsText("\n"));
        assert.equal(def.States[STATES.notify].Next, STATES.digestNeeded);
        const map = def.States[STATES.digestChunks];
        assert.deepEqual(map.ItemProcessor.ProcessorConfig, { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" });
        assert.equal(map.MaxConcurrency, DIGEST_MAX_CONCURRENCY);
        assert.equal(map.Catch[0].Next, STATES.digestRecord);
        assert.equal(map.ItemProcessor.States[STATES.digestChunk].Catch[0].Next, STATES.digestChunkFailed);
        for (const s of [STATES.digestPlan, STATES.digestRecord]) assert.ok(def.States[s].Catch, `${s} caught`);
        assert.equal(def.States[STATES.digestRecord].Next, STATES.outcome);
        // Without the digest function, no digest state at all (the definition before this feature).
        const { digestFunctionArn: _, ...without } = drillTargets("111122223333", "us-east-1", "arn:aws:sns:us-east-1:111122223333:dfir");
        assert.ok(!JSON.stringify(buildDefinition(without)).includes("Digest"));
    });

    it("IAM: the EBS reads only on evidence snapshots (by tag), kms:Decrypt only through EBS; the state machine starts its own child executions", () => {
        const [reads, decrypt] = digestReadStatements({ partition: "aws", region: "us-east-1", accountId: "111122223333" });
        assert.deepEqual(reads?.Action, ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"]);
        assert.deepEqual(reads?.Condition, { StringEquals: { "aws:ResourceTag/dfir:evidence": "disk" } });
        assert.deepEqual(decrypt?.Condition, { StringLike: { "kms:ViaService": "ebs.us-east-1.amazonaws.com" } });
        const [start, follow] = distributedMapStatements(componentMachineScope({ partition: "aws", region: "us-east-1", accountId: "111122223333" }, "dfir"));
        assert.equal(start?.Resource, "arn:aws:states:us-east-1:111122223333:stateMachine:dfir-response*");
        assert.deepEqual(follow?.Action, ["states:DescribeExecution", "states:StopExecution"]);
    });

    it("a drilled case: sealed and notified first, then every evidence snapshot digested chunk by chunk and the record written under COMPLIANCE; nothing denied", async () => {
        const { report, sim } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.iamDenied, []);
        const states = report.executions[0]?.states.map((s) => s.name) ?? [];
        assert.ok(states.indexOf(STATES.notify) < states.indexOf(STATES.digestPlan), "the digest never delays the seal or its notification");
        const chunks = sim.snapshots().reduce((n, s) => n + Math.ceil((s.volumeSizeGiB * 2048) / CHUNK_BLOCKS), 0);
        assert.equal(states.filter((s) => s === STATES.digestChunk).length, chunks, "one Map item per chunk");
        const digests = report.evidence.diskDigests;
        assert.ok(digests, "a digest record");
        assert.equal(digests.status, "complete");
        assert.equal(digests.mode, "COMPLIANCE");
        assert.deepEqual(digests.snapshots.map((s) => s.snapshotId).sort(), report.evidence.snapshots.map((s) => s.snapshotId).sort());
        assert.ok(digests.snapshots.every((s) => s.status === "digested" && /^[0-9a-f]{64}$/.test(s.digest ?? "") && (s.writtenBlocks ?? 0) > 0));
        // Every block read was checked against GetSnapshotBlock's checksum and nothing else read the snapshots.
        const reads = sim.calls.filter((c) => c.action === "ebs:GetSnapshotBlock");
        assert.equal(reads.length, digests.snapshots.reduce((n, s) => n + (s.writtenBlocks ?? 0), 0), "one read per written block");
    });

    it("large-disk: a 1,000 GiB data volume is 125 chunks, each digested inside the function's deployed budget; the parent history does not hold the children's", async () => {
        const { report } = await drill({ scenario: "large-disk" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const states = report.executions[0]?.states.map((s) => s.name) ?? [];
        assert.equal(states.filter((s) => s === STATES.digestChunk).length, 126);
        assert.equal(report.evidence.diskDigests?.status, "complete", JSON.stringify(report.evidence.diskDigests?.snapshots.filter((s) => s.status !== "digested")));
        assert.ok(report.historyEvents < 300, `${report.historyEvents} events in the parent's history`);
        assert.deepEqual(report.iamDenied, []);
    });

    it("a failure is recorded as such, the sealed case unchanged: ListSnapshotBlocks refused -> 'failed', one chunk refused -> that snapshot failed (partial)", async () => {
        const refused = await drill({ simOptions: { memoryBytes: 256 * 1024, faults: [{ action: "ebs:ListSnapshotBlocks", error: "AccessDeniedException", status: 403, times: 1000 }] } } as Partial<DrillOptions>);
        assert.equal(refused.report.status, "SUCCEEDED", "the case as sealed");
        assert.equal(refused.report.evidence.diskDigests?.status, "failed");
        assert.match(refused.report.evidence.diskDigests?.error ?? "", /^planning failed: AccessDeniedException/);
        const oneChunk = await drill({ simOptions: { memoryBytes: 256 * 1024, faults: [{ action: "ebs:GetSnapshotBlock", error: "ValidationException", times: 1 }] } } as Partial<DrillOptions>);
        const d = oneChunk.report.evidence.diskDigests;
        assert.equal(d?.status, "partial");
        assert.equal(d?.snapshots.filter((s) => s.status === "failed").length, 1);
        assert.match(d?.snapshots.find((s) => s.status === "failed")?.error ?? "", /^chunk \d+: ValidationException/);
        // Throttling is retried: the digest completes.
        const throttled = await drill({ simOptions: { memoryBytes: 256 * 1024, faults: [{ action: "ebs:GetSnapshotBlock", error: "RequestThrottledException", times: 2 }] } } as Partial<DrillOptions>);
        assert.equal(throttled.report.evidence.diskDigests?.status, "complete");
    });

    it("the digest record is signed like the manifest; a key that cannot sign leaves the record standing, its signature recorded missing, and verify --deep says so", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-deep-unsigned-"));
        try {
            const { report, sim } = await drill({ scenario: "signing-key-disabled" });
            assert.equal(report.status, "PARTIAL", report.reason);
            assert.equal(report.evidence.diskDigests?.status, "complete", "the digests stand without their signature");
            assert.deepEqual(report.iamDenied, []);
            sim.saveState(dir);
            const out = await dfir(["verify", report.caseId as string, "--simulated", dir, "--json", "--deep"]);
            assert.equal(out.code, 1);
            const verified = JSON.parse(out.stdout);
            assert.equal(verified.diskDigests.signature.valid, false);
            assert.ok(
                verified.problems.some((p: string) => p.startsWith(`${verified.diskDigests.key}: signature: no signature was made: not signed: DisabledException`)),
                verified.problems.join("\n"),
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("contract: after drill --state DIR, verify --deep gives each snapshot its digest and digestMatches; one changed byte of one block makes it exit 1 naming the snapshot and the chunk", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-deep-"));
        try {
            const { report, sim } = await drill();
            sim.saveState(dir);
            const caseId = report.caseId as string;
            const ok = await dfir(["verify", caseId, "--simulated", dir, "--json", "--deep"]);
            assert.equal(ok.code, 0, ok.stdout);
            const verified = JSON.parse(ok.stdout);
            const evidence = verified.snapshots.filter((s: { location: string }) => s.location === "instance account");
            assert.ok(evidence.length >= 2);
            for (const s of evidence) {
                assert.match(s.digest, /^[0-9a-f]{64}$/);
                assert.equal(s.digestMatches, true);
                assert.equal(s.digest, report.evidence.diskDigests?.snapshots.find((x) => x.snapshotId === s.snapshotId)?.digest);
            }
            assert.equal(verified.diskDigests.status, "complete");
            // Signed as the manifest is: the signature record beside it, checked against the signing key's public key.
            assert.equal(verified.diskDigests.signature.valid, true, JSON.stringify(verified.diskDigests.signature));
            assert.equal(verified.diskDigests.signature.key, `${verified.diskDigests.key}.sig.json`);
            assert.equal(verified.diskDigests.signature.keyId, verified.signature.keyId, "the manifest's key");
            // The drill's own hook changes one byte of one block of the kept snapshot.
            const target = report.evidence.snapshots[1]?.snapshotId as string;
            const command = parseDrillCommand(["--state", dir, "--tamper-block", `${target}:16390:9`], () => fs.readFileSync(DEFAULT_FINDING, "utf8"));
            assert.deepEqual(command.tamper, { snapshotId: target, block: 16390, offset: 9 });
            const { SimulatedAccount } = await import("../drill/sim");
            const kept = SimulatedAccount.loadState(dir);
            kept.tamperSnapshotBlock(target, 16390, 9);
            kept.saveState(dir);
            const bad = await dfir(["verify", caseId, "--simulated", dir, "--json", "--deep"]);
            assert.equal(bad.code, 1);
            const failed = JSON.parse(bad.stdout);
            const changed = failed.snapshots.find((s: { snapshotId: string }) => s.snapshotId === target);
            assert.equal(changed.digestMatches, false);
            assert.ok(failed.problems.some((p: string) => p.startsWith(`${target} `) && /content digest \w+ differs from the recorded/.test(p)), failed.problems.join("\n"));
            assert.ok(failed.problems.some((p: string) => p.startsWith(`${target} `) && /chunk 1 \(blocks 16384-32767/.test(p)), "the chunk named");
            assert.ok(failed.snapshots.filter((s: { snapshotId: string; location: string }) => s.snapshotId !== target && s.location === "instance account").every((s: { digestMatches: boolean }) => s.digestMatches === true), "the other snapshot still matches");
            // Without --deep nothing reads the content: the custody checks still pass.
            assert.equal((await dfir(["verify", caseId, "--simulated", dir, "--json"])).code, 0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
