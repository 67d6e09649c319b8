/**
 * `dfir verify CASE`: the chain-of-custody check. From the case record (sealed manifest location and hash) it
 * re-reads the manifest and every evidence object it lists, by version, streaming each through sha256 (memory images
 * are the size of the host's RAM: never buffered), and compares with the manifest (and, for the memory image, with
 * the hash the instance computed); it checks Object Lock mode and retain-until on every version it read, and the
 * snapshots' state, tags and EBS lock (compliance mode, core/snapshotLock.ts). Reads only. The decisions (what is a
 * problem) are pure functions below.
 */
import { GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { DescribeLockedSnapshotsCommand, DescribeSnapshotsCommand, type Snapshot } from "@aws-sdk/client-ec2";
import { lockProblem, lockRecordOf, type SnapshotLockRecord } from "../core/snapshotLock";
import { GetObjectCommand, GetObjectRetentionCommand } from "@aws-sdk/client-s3";
import { GetPublicKeyCommand } from "@aws-sdk/client-kms";
import { parseSignatureRecord, publicKeyObjectKey, verifySignatureRecord } from "../core/signature";
import { sha256Hex, sha256OfStreamWithParts, type ProgressCallback, type StreamPartsDigest } from "../core/hash";
import { countedHubCopies, DISK_COPY_GAP, type Manifest } from "../core/manifest";
import { TAGS } from "../core/tags";
import type { EvidenceObject, Target } from "../core/workflow";
import { caseKey } from "../functions/case/openCase";
import { BLOCK_BYTES, CHUNK_BLOCKS, chunkRange, chunkRanges, DIGEST_DEFINITION, diskDigest, type DigestRecord, type SnapshotDigest } from "../core/diskDigest";
import { digestChunk } from "../functions/digest/digest";
import { client } from "../functions/lib/aws";
import { readAccessTrail, type AccessSection } from "./accessTrail";
import { caseSummary, recordedSignature, type CaseSummary, type RecordedSignature } from "./cases";
import { instanceAccount, UsageError, type AnalystContext } from "./context";

/** An object's Object Lock as S3 reports it for one version. */
export interface LockState {
    mode?: string;
    retainUntil?: string;
}

export interface ObjectCheck {
    /** What the object is: manifest, memory, metadata. */
    role: "manifest" | "memory" | "metadata";
    bucket: string;
    key: string;
    versionId?: string;
    expectedSha256: string;
    /** The hash the instance computed (memory image only). */
    hostSha256?: string;
    /** Memory image only: its parts' digest as sealed (core/memoryParts.ts `partsSha256`), and as recomputed here. */
    expectedPartsSha256?: string;
    actualPartsSha256?: string;
    expectedBytes?: number;
    actualSha256?: string;
    actualBytes?: number;
    lock?: LockState;
    seconds?: number;
    problems: string[];
}

export interface SnapshotCheck {
    snapshotId: string;
    volumeId: string;
    /** Where it is: the instance's account (the evidence of record) or the hub's copy of it (`copySnapshotsToHub`). */
    location: "instance account" | "hub copy";
    /** For a hub copy: the member snapshot it copies. */
    copyOf?: string;
    state?: string;
    /**
     * The snapshot's EBS lock holds it for the retention: compliance mode, nobody can lift it (core/snapshotLock.ts);
     * hub copies are locked as the member snapshots are. Absent when the lock could not be read.
     */
    locked?: boolean;
    /** The lock as EC2 reports it now (DescribeLockedSnapshots). */
    lock?: SnapshotLockRecord;
    /** Not checked: the snapshot is in an account these credentials cannot read. */
    unchecked?: string;
    /** `--deep`: the content digest recomputed now through the EBS direct APIs (core/diskDigest.ts), and whether it is the recorded one. */
    digest?: string;
    digestMatches?: boolean;
    /** `--deep`: the digest the case's digest record holds for it. */
    recordedDigest?: string;
    problems: string[];
}

/** The sealed manifest's signature (core/signature.ts) as checked now. */
export interface SignatureReport {
    valid: boolean;
    /** The signature record beside the manifest. */
    key?: string;
    versionId?: string;
    /** The key that signed (the record's, and the case record's). */
    keyId?: string;
    algorithm?: string;
    /** Where the public key came from: KMS GetPublicKey, or the evidence bucket's stored copy. */
    publicKeySource?: string;
    lock?: LockState;
    problems: string[];
}

export interface VerifyReport {
    caseId: string;
    checkedAt: string;
    case: CaseSummary;
    target?: Partial<Target>;
    manifestStatus?: string;
    objects: ObjectCheck[];
    snapshots: SnapshotCheck[];
    /** The manifest's signature, checked with node:crypto against the signing key's public key. */
    signature?: SignatureReport;
    /** `--deep`: the case's digest record (functions/digest/record.ts) as read and checked. */
    diskDigests?: DigestRecordCheck;
    /** Every problem, one line each (objects', snapshots', the signature's and the case's own). */
    problems: string[];
    /** Checks that could not be made (not mismatches). */
    warnings: string[];
    /** Who read the case's evidence, and every attempt to delete it or change its retention (the access trail). */
    access?: AccessSection;
    ok: boolean;
}

/** The digest record as `verify --deep` read it: where, its sha256 as recorded on the case and as read, its lock, its status. */
export interface DigestRecordCheck {
    bucket: string;
    key: string;
    versionId?: string;
    expectedSha256: string;
    actualSha256?: string;
    lock?: LockState;
    status?: DigestRecord["status"];
    /** The record's signature (`<key>.sig.json`), checked as the manifest's is. */
    signature?: SignatureReport;
    problems: string[];
}

/**
 * Problems of one snapshot's recomputed chunk digests against the record's (pure): each chunk that differs is named
 * with its blocks (the smallest unit the record holds a digest of).
 */
export function digestProblems(recorded: SnapshotDigest, recomputedChunks: readonly string[]): string[] {
    const problems: string[] = [];
    if (recorded.digest === undefined) return [`no digest recorded (${recorded.status}${recorded.error ? `: ${recorded.error}` : ""})`];
    const recomputed = diskDigest(recomputedChunks);
    if (recomputed === recorded.digest) return [];
    problems.push(`content digest ${recomputed} differs from the recorded ${recorded.digest}`);
    recomputedChunks.forEach((c, k) => {
        if (c !== recorded.chunkDigests[k]) {
            const r = chunkRange(recorded.blocks, k);
            problems.push(`chunk ${k} (blocks ${r.first}-${r.end - 1}, bytes ${r.first * BLOCK_BYTES}-${r.end * BLOCK_BYTES - 1}) differs: ${c}, recorded ${recorded.chunkDigests[k] ?? "none"}`);
        }
    });
    return problems;
}

/** Called while an object streams: its key, bytes so far, its expected size. */
export type VerifyProgress = (event: { key: string; bytes: number; total?: number; done?: boolean }) => void;

/** Problems of one object's lock: COMPLIANCE, retained beyond `now`. Pure. */
export function lockProblems(lock: LockState | undefined, now: Date): string[] {
    if (!lock || (!lock.mode && !lock.retainUntil)) return ["no Object Lock retention on this version"];
    const problems: string[] = [];
    if (lock.mode !== "COMPLIANCE") problems.push(`Object Lock mode is ${lock.mode ?? "unset"}, not COMPLIANCE`);
    if (!lock.retainUntil || Number.isNaN(Date.parse(lock.retainUntil))) problems.push("no retain-until date");
    else if (Date.parse(lock.retainUntil) <= now.getTime()) problems.push(`retention ended ${lock.retainUntil}`);
    return problems;
}

/** Problems of one object's bytes against what the manifest (and the host) recorded. Pure. */
export function hashProblems(check: Pick<ObjectCheck, "expectedSha256" | "hostSha256" | "expectedBytes" | "actualSha256" | "actualBytes">): string[] {
    const problems: string[] = [];
    if (check.actualSha256 !== check.expectedSha256) problems.push(`sha256 ${check.actualSha256} does not match the manifest's ${check.expectedSha256}`);
    if (check.hostSha256 !== undefined && check.actualSha256 !== check.hostSha256) problems.push(`sha256 ${check.actualSha256} does not match the instance's ${check.hostSha256}`);
    if (check.expectedBytes !== undefined && check.actualBytes !== check.expectedBytes) problems.push(`${check.actualBytes} bytes, the manifest says ${check.expectedBytes}`);
    return problems;
}

/** Problems of one snapshot as EC2 describes it now; a hub copy must also name the snapshot it copies. Pure. */
export function snapshotProblems(described: Snapshot | undefined, caseId: string, instanceId: string | undefined, copyOf?: string): string[] {
    if (!described) return ["no longer exists"];
    const problems: string[] = [];
    if (described.State !== "completed") problems.push(`state ${described.State ?? "unknown"}, not completed`);
    const tag = (key: string) => described.Tags?.find((t) => t.Key === key)?.Value;
    if (tag(TAGS.caseId) !== caseId) problems.push(`tag ${TAGS.caseId} is ${tag(TAGS.caseId) ?? "missing"}, not ${caseId}`);
    if (instanceId && tag(TAGS.instanceId) !== instanceId) problems.push(`tag ${TAGS.instanceId} is ${tag(TAGS.instanceId) ?? "missing"}, not ${instanceId}`);
    if (copyOf !== undefined && tag(TAGS.sourceSnapshot) !== copyOf) problems.push(`tag ${TAGS.sourceSnapshot} is ${tag(TAGS.sourceSnapshot) ?? "missing"}, not ${copyOf}`);
    return problems;
}

const CASE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Read the case record (its summary and the item as stored); an unknown case is bad input (exit 2), not a mismatch. */
export async function readCaseRecord(ctx: AnalystContext, caseId: string): Promise<{ summary: CaseSummary; item: Record<string, AttributeValue> }> {
    if (!CASE_ID.test(caseId)) throw new UsageError(`${JSON.stringify(caseId)} is not a case id`);
    const dynamodb = client("dynamodb", { region: ctx.region });
    const out = await dynamodb.send(new GetItemCommand({ TableName: ctx.casesTable, Key: { pk: { S: caseKey(caseId) } }, ConsistentRead: true }));
    const summary = out.Item ? caseSummary(out.Item as never) : undefined;
    if (!out.Item || !summary) throw new UsageError(`no case ${caseId} in table ${ctx.casesTable} (${ctx.region}); \`dfir cases\` lists them`);
    return { summary, item: out.Item };
}

/** The sealed manifest as read by version: its bytes' sha256 and size, and the document (undefined: not JSON). */
export interface SealedManifestRead {
    sha256: string;
    bytes: number;
    /** The bytes read (what the signature is checked over). */
    body: Buffer;
    manifest?: Manifest;
}

/** Where the case record says the sealed manifest is, and the sha256 the seal recorded. */
type SealedManifestRef = { bucket: string; key: string; versionId?: string; sha256: string };

/**
 * Read a case's sealed manifest by version and hash its bytes. By default one whose bytes are not those the seal
 * hashed, or not JSON, is refused (a UsageError naming `dfir verify`); `{ refuse: false }` (verify itself) returns
 * what was read for the caller to report.
 */
export async function readSealedManifest(ctx: AnalystContext, caseId: string, m: SealedManifestRef): Promise<Manifest>;
export async function readSealedManifest(ctx: AnalystContext, caseId: string, m: SealedManifestRef, options: { refuse: false }): Promise<SealedManifestRead>;
export async function readSealedManifest(ctx: AnalystContext, caseId: string, m: SealedManifestRef, options: { refuse?: boolean } = {}): Promise<Manifest | SealedManifestRead> {
    const s3 = client("s3", { region: ctx.region });
    const got = await s3.send(new GetObjectCommand({ Bucket: m.bucket, Key: m.key, ...(m.versionId ? { VersionId: m.versionId } : {}) }));
    const body = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    let manifest: Manifest | undefined;
    try {
        manifest = JSON.parse(body.toString("utf8")) as Manifest;
    } catch {
        manifest = undefined;
    }
    const read: SealedManifestRead = { sha256: sha256Hex(body), bytes: body.length, body, ...(manifest ? { manifest } : {}) };
    if (options.refuse === false) return read;
    if (read.sha256 !== m.sha256 || !read.manifest) throw new UsageError(`the manifest of case ${caseId} (${m.key}) does not match the sha256 recorded at the seal: run \`dfir verify ${caseId}\``);
    return read.manifest;
}

/** Read the case record's summary ({@link readCaseRecord}). */
export async function readCase(ctx: AnalystContext, caseId: string): Promise<CaseSummary> {
    return (await readCaseRecord(ctx, caseId)).summary;
}

async function readObject(ctx: AnalystContext, o: EvidenceObject, partSize?: number, onProgress?: ProgressCallback): Promise<StreamPartsDigest> {
    const s3 = client("s3", { region: ctx.region });
    const out = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, ...(o.versionId ? { VersionId: o.versionId } : {}) }));
    return sha256OfStreamWithParts(out.Body as AsyncIterable<Uint8Array>, partSize, onProgress);
}

async function readLock(ctx: AnalystContext, o: Pick<EvidenceObject, "bucket" | "key" | "versionId">): Promise<LockState | undefined> {
    const s3 = client("s3", { region: ctx.region });
    try {
        const out = await s3.send(new GetObjectRetentionCommand({ Bucket: o.bucket, Key: o.key, ...(o.versionId ? { VersionId: o.versionId } : {}) }));
        return { mode: out.Retention?.Mode, retainUntil: out.Retention?.RetainUntilDate ? new Date(out.Retention.RetainUntilDate).toISOString() : undefined };
    } catch (error) {
        if ((error as { name?: string }).name === "NoSuchObjectLockConfiguration") return undefined;
        throw error;
    }
}

/** Verify one case: every check runs; the report says what matched and what did not. `deep`: the snapshots' content digests too. */
export async function verifyCase(ctx: AnalystContext, caseId: string, options: { onProgress?: VerifyProgress; now?: () => Date; trailBucket?: string; deep?: boolean; signingKey?: string } = {}): Promise<VerifyReport> {
    const now = options.now ?? (() => new Date());
    const { summary, item } = await readCaseRecord(ctx, caseId);
    const report: VerifyReport = { caseId, checkedAt: now().toISOString(), case: summary, objects: [], snapshots: [], problems: [], warnings: [], ok: false };
    if (!summary.manifest) {
        report.problems.push(`case ${caseId} has no sealed manifest (status ${summary.status}): nothing to verify yet`);
        return report;
    }

    // The manifest first: its bytes must be the ones the seal hashed, and it names everything else.
    const m = summary.manifest;
    const manifestCheck: ObjectCheck = { role: "manifest", bucket: m.bucket, key: m.key, ...(m.versionId ? { versionId: m.versionId } : {}), expectedSha256: m.sha256, problems: [] };
    report.objects.push(manifestCheck);
    const read = await readSealedManifest(ctx, caseId, m, { refuse: false });
    Object.assign(manifestCheck, { actualSha256: read.sha256, actualBytes: read.bytes, lock: await readLock(ctx, m) });
    manifestCheck.problems.push(...hashProblems(manifestCheck), ...lockProblems(manifestCheck.lock, now()));
    report.signature = await checkSignature(ctx, m, read.body, report, now(), options.signingKey);
    const manifest = read.manifest;
    if (!manifest) {
        report.problems.push(`manifest ${m.key} is not JSON`);
        return finish(report);
    }
    if (manifest.caseId !== caseId) manifestCheck.problems.push(`the manifest is of case ${manifest.caseId}, not ${caseId}`);
    report.manifestStatus = manifest.status;
    report.target = manifest.target;

    const memory = manifest.evidence?.memory;
    for (const o of manifest.evidence?.objects ?? []) {
        const isMemory = memory?.object?.key === o.key && memory.object.bucket === o.bucket;
        const check: ObjectCheck = {
            role: isMemory ? "memory" : "metadata",
            bucket: o.bucket,
            key: o.key,
            ...(o.versionId ? { versionId: o.versionId } : {}),
            expectedSha256: o.sha256,
            expectedBytes: o.bytes,
            ...(isMemory && memory?.hostSha256 ? { hostSha256: memory.hostSha256 } : {}),
            ...(isMemory && memory?.partsSha256 ? { expectedPartsSha256: memory.partsSha256 } : {}),
            problems: [],
        };
        // The memory image's part digest is recomputed in the same read, in the parts the capture cut.
        const partSize = isMemory && memory?.partsSha256 ? memory.partSize : undefined;
        report.objects.push(check);
        const started = Date.now();
        try {
            const digest = await readObject(ctx, o, partSize, (n) => options.onProgress?.({ key: o.key, bytes: n, total: o.bytes }));
            options.onProgress?.({ key: o.key, bytes: digest.bytes, total: o.bytes, done: true });
            check.actualSha256 = digest.sha256;
            check.actualBytes = digest.bytes;
            check.seconds = (Date.now() - started) / 1000;
            check.problems.push(...hashProblems(check));
            if (check.expectedPartsSha256 !== undefined) {
                check.actualPartsSha256 = digest.partsSha256;
                if (partSize === undefined) check.problems.push("the manifest records partsSha256 without partSize: the parts cannot be recomputed");
                else if (digest.partsSha256 !== check.expectedPartsSha256) {
                    check.problems.push(`partsSha256 ${digest.partsSha256} (parts of ${partSize} bytes) differs from the sealed ${check.expectedPartsSha256}`);
                }
            }
        } catch (error) {
            check.problems.push(`cannot read: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
        }
        check.lock = await readLock(ctx, o).catch(() => undefined);
        check.problems.push(...lockProblems(check.lock, now()));
    }

    const disk = manifest.evidence?.disk;
    const target = manifest.target ?? {};
    if (disk && disk.snapshots.length > 0 && target.region) {
        // The evidence of record, in the instance's account (through the case's role for a member).
        const where = instanceAccount(target, ctx.region);
        const checks = disk.snapshots.map((s): SnapshotCheck => ({ snapshotId: s.snapshotId, volumeId: s.volumeId, location: "instance account", problems: [] }));
        await checkSnapshots(where, checks, caseId, target, report);
        report.snapshots.push(...checks);
    }
    const copies = countedHubCopies(disk?.copy);
    if (copies.length > 0 && target.region) {
        // The hub's copies (copySnapshotsToHub) the seal recorded as completed: in the hub, readable with the
        // analyst's own credentials.
        const checks = copies.map((c): SnapshotCheck => ({ snapshotId: c.hubCopyId, volumeId: c.volumeId, location: "hub copy", copyOf: c.sourceSnapshotId, problems: [] }));
        await checkSnapshots({ region: target.region }, checks, caseId, target, report);
        report.snapshots.push(...checks);
    }
    // A copy the seal recorded as not completed is the recorded gap (the member snapshots are the evidence): not checked.
    for (const c of disk?.copy?.snapshots ?? []) {
        if (!c.hubCopyId || copies.includes(c as never)) continue;
        const unchecked = `hub copy ${c.hubCopyId} of ${c.sourceSnapshotId} recorded as ${c.hubCopyState ?? "not completed"} at the seal (${DISK_COPY_GAP} gap): not checked`;
        report.snapshots.push({ snapshotId: c.hubCopyId, volumeId: c.volumeId, location: "hub copy", copyOf: c.sourceSnapshotId, unchecked, problems: [] });
        report.warnings.push(unchecked);
    }
    for (const gap of manifest.evidence?.missing ?? []) report.warnings.push(`recorded as missing at the seal: ${gap.item}: ${gap.reason}`);
    // The access trail: unreadable is a warning; a deleted version of the evidence is a problem (cli/accessTrail.ts).
    report.access = await readAccessTrail(ctx, { trailBucket: options.trailBucket, evidenceBucket: m.bucket, caseId, since: summary.openedAt });
    report.problems.push(...report.access.problems);
    report.warnings.push(...report.access.warnings);
    if (options.deep) await verifyDigests(ctx, caseId, item, report, now, options.onProgress, options.signingKey);
    return finish(report);
}

/**
 * `--deep`: read the case's digest record (its sha256 must be the one recorded on the case, its version locked), then
 * recompute each evidence snapshot's content digest through the EBS direct APIs (functions/digest: the same chunk
 * reading the workflow's Map ran) and compare, chunk by chunk.
 */
async function verifyDigests(ctx: AnalystContext, caseId: string, item: Record<string, AttributeValue>, report: VerifyReport, now: () => Date, onProgress?: VerifyProgress, signingKey?: string): Promise<void> {
    const key = item.diskDigestKey?.S;
    const sha256 = item.diskDigestSha256?.S;
    const bucket = report.objects.find((o) => o.role === "manifest")?.bucket;
    if (!key || !sha256 || !bucket) {
        report.problems.push(`--deep: case ${caseId} has no disk digest record (${item.diskDigestStatus?.S ?? "none recorded"}): the snapshots' content cannot be verified`);
        return;
    }
    const versionId = item.diskDigestVersionId?.S;
    const check: DigestRecordCheck = { bucket, key, ...(versionId ? { versionId } : {}), expectedSha256: sha256, problems: [] };
    report.diskDigests = check;
    const s3 = client("s3", { region: ctx.region });
    let body: Buffer;
    try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
        body = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    } catch (error) {
        // The rest of the report (manifest, signature, trail) stands: the record that cannot be read is its problem.
        check.problems.push(`cannot read the digest record: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
        return;
    }
    check.actualSha256 = sha256Hex(body);
    if (check.actualSha256 !== sha256) check.problems.push(`sha256 ${check.actualSha256} does not match the ${sha256} recorded on the case`);
    check.lock = await readLock(ctx, { bucket, key, ...(versionId ? { versionId } : {}) }).catch(() => undefined);
    check.problems.push(...lockProblems(check.lock, now()));
    check.signature = await checkSignature(ctx, { bucket, key, signature: recordedSignature(item, "diskDigest") }, body, report, now(), signingKey);
    check.problems.push(...check.signature.problems.map((p) => `signature: ${p}`));
    let record: DigestRecord;
    try {
        record = JSON.parse(body.toString("utf8")) as DigestRecord;
    } catch {
        check.problems.push("not JSON");
        return;
    }
    if (typeof record !== "object" || record === null || !Array.isArray(record.snapshots)) {
        check.problems.push("not a digest record (no snapshots list)");
        return;
    }
    check.status = record.status;
    if (record.caseId !== caseId) check.problems.push(`the record is of case ${record.caseId}, not ${caseId}`);
    if (record.definition?.name !== DIGEST_DEFINITION || record.definition.chunkBlocks !== CHUNK_BLOCKS || record.definition.blockBytes !== BLOCK_BYTES) {
        check.problems.push(`the record's definition ${JSON.stringify(record.definition?.name)} is not ${DIGEST_DEFINITION} (this dfir recomputes only that one)`);
        return;
    }
    if (record.status !== "complete") report.warnings.push(`the disk digest record is ${record.status}${record.error ? `: ${record.error}` : ""}`);
    const target = report.target ?? {};
    const where = instanceAccount(target, ctx.region);
    const ebs = client("ebs", where);
    for (const c of report.snapshots.filter((x) => x.location === "instance account")) {
        const recorded = record.snapshots.find((r) => r.snapshotId === c.snapshotId);
        if (!recorded) {
            c.problems.push("no content digest in the disk digest record");
            continue;
        }
        if (recorded.digest !== undefined) c.recordedDigest = recorded.digest;
        if (recorded.status !== "digested") {
            report.warnings.push(`${c.snapshotId}: its content digest was not made (${recorded.error ?? recorded.status}): not verified`);
            continue;
        }
        try {
            const chunks: string[] = [];
            for (const range of chunkRanges(recorded.blocks)) {
                const result = await digestChunk(ebs, { action: "chunk", caseId, target: target as Target, snapshotId: c.snapshotId, chunk: range.chunk, blocks: recorded.blocks }, () => undefined);
                chunks.push(result.digest as string);
                onProgress?.({ key: `${c.snapshotId} (content)`, bytes: range.end * BLOCK_BYTES, total: recorded.blocks * BLOCK_BYTES, ...(range.end === recorded.blocks ? { done: true } : {}) });
            }
            c.digest = diskDigest(chunks);
            const problems = digestProblems(recorded, chunks);
            c.digestMatches = problems.length === 0;
            c.problems.push(...problems);
        } catch (error) {
            c.digestMatches = false;
            c.problems.push(`content digest not recomputed: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
        }
    }
}

/** Describe the snapshots of `checks` where they live and record each one's problems (or why it could not be checked). */
async function checkSnapshots(where: { region: string; roleArn?: string }, checks: SnapshotCheck[], caseId: string, target: Partial<Target>, report: VerifyReport): Promise<void> {
    const ec2 = client("ec2", where);
    const describe = async (ids: string[]): Promise<Snapshot[]> => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots ?? [];
    const notFound = (error: unknown) => (error as { name?: string }).name === "InvalidSnapshot.NotFound";
    let described: Snapshot[];
    try {
        try {
            described = await describe(checks.map((c) => c.snapshotId));
        } catch (error) {
            // One unknown id fails the whole call: ask per snapshot to tell which are gone.
            if (!notFound(error)) throw error;
            described = (await Promise.all(checks.map((c) => describe([c.snapshotId]).catch((e) => {
                if (notFound(e)) return [];
                throw e;
            })))).flat();
        }
    } catch (error) {
        const account = where.roleArn ? target.accountId ?? "the instance's account" : "this account";
        const unchecked = `cannot describe the ${checks[0]?.location ?? ""} snapshots in ${account} ${where.region}: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
        for (const c of checks) c.unchecked = unchecked;
        report.warnings.push(unchecked);
        return;
    }
    for (const c of checks) {
        const found = described.find((d) => d.SnapshotId === c.snapshotId);
        if (found?.State) c.state = found.State;
        c.problems.push(...snapshotProblems(found, caseId, target.instanceId, c.copyOf));
    }
    const evidence = checks.filter((c) => c.state !== undefined);
    if (evidence.length === 0) return;
    try {
        const out = await ec2.send(new DescribeLockedSnapshotsCommand({ SnapshotIds: evidence.map((c) => c.snapshotId) }));
        for (const c of evidence) {
            const info = (out.Snapshots ?? []).find((l) => l.SnapshotId === c.snapshotId);
            const lock = info ? lockRecordOf(info) : undefined;
            const problem = lockProblem(lock);
            c.locked = problem === undefined;
            if (lock) c.lock = lock;
            if (problem !== undefined) c.problems.push(problem);
        }
    } catch (error) {
        report.warnings.push(`cannot read the snapshot locks in ${where.roleArn ? target.accountId ?? "the instance's account" : "this account"} ${where.region}: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
    }
}

/**
 * The manifest's signature: the record the case names, read by version (locked COMPLIANCE like the manifest), checked
 * over the manifest's bytes as read with the signing key's public key: from KMS (GetPublicKey), else the copy the
 * evidence store keeps (`keys/manifest-signing-<key id>.pem`, a warning says so). A signature the seal could not make,
 * one that is not there, or one that does not verify is a problem naming the manifest.
 */
/**
 * `expectedKey`: the deployment's signing key (stack output manifestSigningKeyArns, `--signing-key`). The case
 * record and the signature record name their key, and whoever could rewrite both (and put a PEM beside them) could
 * name their own: a signature by any other key is a problem. Without it, a warning says the key was not checked.
 */
async function checkSignature(ctx: AnalystContext, m: { bucket: string; key: string; signature?: RecordedSignature }, body: Buffer, report: VerifyReport, now: Date, expectedKey?: string): Promise<SignatureReport> {
    const recorded = m.signature;
    if (!recorded) return { valid: false, problems: [`no signature recorded for ${m.key} (written before records were signed, or the case record lost it)`] };
    if ("missing" in recorded) return { valid: false, problems: [`no signature was made: ${recorded.missing}`] };
    const out: SignatureReport = { valid: false, key: recorded.key, ...(recorded.versionId ? { versionId: recorded.versionId } : {}), keyId: recorded.keyId, problems: [] };
    let text: string;
    try {
        const got = await client("s3", { region: ctx.region }).send(new GetObjectCommand({ Bucket: m.bucket, Key: recorded.key, ...(recorded.versionId ? { VersionId: recorded.versionId } : {}) }));
        text = await (got.Body as { transformToString(): Promise<string> }).transformToString();
    } catch (error) {
        out.problems.push(`cannot read the signature ${recorded.key}: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`);
        return out;
    }
    out.lock = await readLock(ctx, { bucket: m.bucket, key: recorded.key, ...(recorded.versionId ? { versionId: recorded.versionId } : {}) }).catch(() => undefined);
    out.problems.push(...lockProblems(out.lock, now).map((p) => `signature ${recorded.key}: ${p}`));
    const parsed = parseSignatureRecord(text);
    if ("problem" in parsed) {
        out.problems.push(parsed.problem);
        return out;
    }
    const record = parsed.record;
    out.algorithm = record.algorithm;
    if (record.keyId !== recorded.keyId) out.problems.push(`the signature record names key ${record.keyId}, the case record ${recorded.keyId}`);
    if (record.signed.key !== m.key) out.problems.push(`the signature record signs ${record.signed.key}, not ${m.key}`);
    if (expectedKey !== undefined && record.keyId !== expectedKey) {
        out.problems.push(`signed with ${record.keyId}, not the deployment's signing key ${expectedKey}`);
        return out;
    }
    if (expectedKey === undefined) {
        const warning = "the signing key was not checked against the deployment's (give --signing-key, the stack output manifestSigningKeyArns): a signature verifies with the key its own records name";
        if (!report.warnings.includes(warning)) report.warnings.push(warning);
    }
    const publicKey = await signingPublicKey(ctx, m.bucket, record.keyId, report);
    if ("problem" in publicKey) {
        out.problems.push(publicKey.problem);
        return out;
    }
    out.publicKeySource = publicKey.source;
    const check = verifySignatureRecord(body, record, publicKey.key);
    out.problems.push(...check.problems);
    out.valid = out.problems.length === 0;
    return out;
}

/** The signing key's public key: KMS GetPublicKey (in the key's region), else the evidence bucket's stored PEM. */
async function signingPublicKey(ctx: AnalystContext, bucket: string, keyId: string, report: VerifyReport): Promise<{ key: Uint8Array | string; source: string } | { problem: string }> {
    const region = /^arn:aws[a-z-]*:kms:([^:]+):/.exec(keyId)?.[1] ?? ctx.region;
    let kmsError: string;
    try {
        const out = await client("kms", { region }).send(new GetPublicKeyCommand({ KeyId: keyId }));
        if (out.PublicKey) return { key: out.PublicKey, source: `kms:GetPublicKey ${keyId}` };
        kmsError = "GetPublicKey returned no key";
    } catch (error) {
        kmsError = `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
    }
    const stored = publicKeyObjectKey(keyId);
    try {
        const got = await client("s3", { region: ctx.region }).send(new GetObjectCommand({ Bucket: bucket, Key: stored }));
        const pem = await (got.Body as { transformToString(): Promise<string> }).transformToString();
        report.warnings.push(`the signing key's public key is from s3://${bucket}/${stored}: KMS GetPublicKey failed (${kmsError})`);
        return { key: pem, source: `s3://${bucket}/${stored}` };
    } catch (error) {
        return { problem: `no public key for ${keyId}: GetPublicKey failed (${kmsError}), and s3://${bucket}/${stored} cannot be read (${(error as Error).name})` };
    }
}

function finish(report: VerifyReport): VerifyReport {
    for (const p of report.diskDigests?.problems ?? []) report.problems.push(`${report.diskDigests?.key}: ${p}`);
    for (const o of report.objects) for (const p of o.problems) report.problems.push(`${o.key}${o.versionId ? ` (version ${o.versionId})` : ""}: ${p}`);
    const manifest = report.objects.find((o) => o.role === "manifest");
    for (const p of report.signature?.problems ?? []) report.problems.push(`${manifest?.key ?? "manifest"}: signature: ${p}`);
    for (const s of report.snapshots) for (const p of s.problems) report.problems.push(`${s.snapshotId} (${s.volumeId}): ${p}`);
    report.ok = report.problems.length === 0;
    return report;
}
