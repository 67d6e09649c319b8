/**
 * S3 with what chain of custody depends on: versioning, Object Lock (bucket default retention and per-version
 * mode / retain-until, enforced on version deletion), conditional writes (`IfNoneMatch: "*"`), SHA-256
 * checksums, multipart objects (kept as their parts, with per-part checksums) and streamed reads. Bucket names are
 * global; each bucket belongs to one account and region.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type {
    GetObjectAttributesParts,
    DeleteObjectCommandInput,
    DeleteObjectCommandOutput,
    GetObjectCommandInput,
    GetObjectCommandOutput,
    GetObjectAttributesCommandInput,
    GetObjectAttributesCommandOutput,
    GetObjectRetentionCommandInput,
    GetObjectRetentionCommandOutput,
    HeadObjectCommandInput,
    HeadObjectCommandOutput,
    ListObjectsV2CommandInput,
    ListObjectsV2CommandOutput,
    PutObjectCommandInput,
    PutObjectCommandOutput,
} from "@aws-sdk/client-s3";
import { awsError, notImplemented } from "../errors";
import { bufferDigest, concatSha256 } from "../digest";
import { firstDenied } from "../iam/index";
import { authorizationsFor } from "../iam/requests";
import type { BucketState, ObjectPartState, ObjectVersionState, SessionState } from "../state";
import { required, type CallContext, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

const DAY_MS = 86_400_000;
/** S3's limit on user-defined metadata (keys plus values, UTF-8). */
const METADATA_LIMIT = 2048;
const STREAM_CHUNK = 64 * 1024;
const PART_STREAM_CHUNK = 1024 * 1024;
/** GetObjectAttributes' largest page of parts ("Amazon S3 multipart upload limits": 1,000 parts per list). */
const S3_PARTS_PAGE = 1000;

/** Reads any body the SDK accepts (string, Buffer, Uint8Array, Node or web stream, Blob) completely. */
export async function readBody(action: string, body: unknown): Promise<Buffer> {
    if (body === undefined || body === null) return Buffer.alloc(0);
    if (typeof body === "string") return Buffer.from(body, "utf8");
    if (Buffer.isBuffer(body)) return Buffer.from(body);
    if (body instanceof Uint8Array) return Buffer.from(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    if (typeof Blob !== "undefined" && body instanceof Blob) return Buffer.from(await body.arrayBuffer());
    if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<unknown>) {
            chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk as Uint8Array));
        }
        return Buffer.concat(chunks);
    }
    throw notImplemented(action, `with a Body of type ${Object.prototype.toString.call(body)}`);
}

/** The pieces an object's bytes are stored in: its body, or its parts' bodies in order. */
function storedPieces(version: ObjectVersionState): readonly Buffer[] {
    if (version.parts) return version.parts.map((p) => p.body);
    return [version.body ?? Buffer.alloc(0)];
}

/** Bytes `start` to `end` (inclusive) of pieces stored one after the other, as views (nothing copied), `chunk` at most. */
function* rangeChunks(pieces: readonly Buffer[], start: number, end: number, chunk: number): Generator<Buffer> {
    let offset = 0;
    for (const piece of pieces) {
        const pieceEnd = offset + piece.length;
        if (pieceEnd > start && offset <= end) {
            const from = Math.max(start, offset) - offset;
            const to = Math.min(end + 1, pieceEnd) - offset;
            for (let i = from; i < to; i += chunk) yield piece.subarray(i, Math.min(to, i + chunk));
        }
        offset = pieceEnd;
        if (offset > end) return;
    }
}

/**
 * The SDK's streaming body: a Node Readable with the SDK's `transformTo*` helpers, produced lazily from `pieces`
 * (one Buffer, or a multipart object's parts): 64 KiB chunks, 1 MiB from parts (a 256 GiB image is streamed, never
 * held whole). `range` limits it to bytes start..end inclusive.
 */
export function bodyStream(pieces: Buffer | readonly Buffer[], range?: [number, number]): Readable & {
    transformToByteArray: () => Promise<Uint8Array>;
    transformToString: (encoding?: string) => Promise<string>;
    transformToWebStream: () => ReadableStream;
} {
    const list = Buffer.isBuffer(pieces) ? [pieces] : pieces;
    const total = list.reduce((n, b) => n + b.length, 0);
    const [start, end] = range ?? [0, total - 1];
    const chunk = Buffer.isBuffer(pieces) ? STREAM_CHUNK : PART_STREAM_CHUNK;
    const stream = Readable.from(rangeChunks(list, start, end, chunk), { objectMode: false });
    const whole = (): Buffer => Buffer.concat([...rangeChunks(list, start, end, PART_STREAM_CHUNK)]);
    return Object.assign(stream, {
        transformToByteArray: async () => new Uint8Array(whole()),
        transformToString: async (encoding?: string) => whole().toString((encoding === "utf-8" || !encoding ? "utf8" : encoding) as BufferEncoding),
        transformToWebStream: () => Readable.toWeb(stream) as unknown as ReadableStream,
    });
}

function bucketOrThrow(world: World, ctx: CallContext, name: string | undefined): BucketState {
    const bucketName = required(world, ctx, name, "Bucket");
    const bucket = world.state.buckets[bucketName];
    if (!bucket) throw world.error(ctx, "NoSuchBucket", "The specified bucket does not exist", 404, { BucketName: bucketName });
    if (bucket.region !== ctx.region) {
        throw world.error(
            ctx,
            "PermanentRedirect",
            `The bucket you are attempting to access must be addressed using the specified endpoint (bucket region ${bucket.region}, client region ${ctx.region}).`,
            301,
        );
    }
    return bucket;
}

function latest(bucket: BucketState, key: string): ObjectVersionState | undefined {
    const versions = bucket.objects[key];
    return versions?.[versions.length - 1];
}

/** Options of an object write (API or the simulated agent). */
export interface PutOptions {
    contentType?: string;
    metadata?: Record<string, string>;
    lockMode?: "COMPLIANCE" | "GOVERNANCE";
    retainUntil?: number;
    checksumSha256?: string;
}

/**
 * Store a new version (the effect of PutObject, also used by seeding and the simulated SSM agent). The bucket's
 * default retention applies when the write names none.
 */
export function putVersion(world: World, bucket: BucketState, key: string, body: Buffer, options: PutOptions = {}): ObjectVersionState {
    const version = newVersion(world, bucket, {
        size: body.length,
        etag: `"${createHash("md5").update(body).digest("hex")}"`,
        sha256: createHash("sha256").update(body).digest("hex"),
        contentType: options.contentType,
        metadata: options.metadata,
        lockMode: options.lockMode,
        retainUntil: options.retainUntil,
    });
    version.body = body;
    if (options.checksumSha256 !== undefined) version.checksumSha256 = options.checksumSha256;
    return storeVersion(bucket, key, version);
}

/** A new version's record (not yet stored): its id, time, metadata and retention (the bucket's default when none is named). */
function newVersion(
    world: World,
    bucket: BucketState,
    o: { size: number; etag: string; sha256: string; contentType?: string; metadata?: Record<string, string>; lockMode?: "COMPLIANCE" | "GOVERNANCE"; retainUntil?: number },
): ObjectVersionState {
    const now = world.now();
    const version: ObjectVersionState = {
        versionId: bucket.versioning ? world.token("s3-version", 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") : "null",
        deleteMarker: false,
        lastModified: now,
        size: o.size,
        etag: o.etag,
        sha256: o.sha256,
        contentType: o.contentType ?? "binary/octet-stream",
        metadata: Object.fromEntries(Object.entries(o.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    if (o.lockMode) {
        version.lockMode = o.lockMode;
        version.retainUntil = o.retainUntil;
    } else if (bucket.objectLock) {
        version.lockMode = bucket.objectLock.mode;
        version.retainUntil = now + bucket.objectLock.days * DAY_MS;
    }
    return version;
}

/** Make `version` the key's current one (an unversioned bucket keeps only it). */
function storeVersion(bucket: BucketState, key: string, version: ObjectVersionState): ObjectVersionState {
    const versions = bucket.objects[key] ?? [];
    if (!bucket.versioning) versions.length = 0;
    versions.push(version);
    bucket.objects[key] = versions;
    return version;
}

/** "Amazon S3 multipart upload limits" (S3 User Guide). */
const MAX_PARTS = 10_000;
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
const MAX_OBJECT_BYTES = 48.8 * 1024 ** 4;

/**
 * A multipart upload as the AWS CLI drives it (CreateMultipartUpload, UploadPart per part, CompleteMultipartUpload
 * with every part), for what runs on a simulated instance: the memory capture's `aws s3 cp -` (drill/sim/services/
 * ssm.ts). Not an API of the simulator: no function of the program makes these calls, and the instance's uploads
 * are authorized when its command is sent. Follows "Uploading and copying objects using multipart upload" and
 * "Checking object integrity in Amazon S3" (S3 User Guide): part numbers 1 to 10,000; every part but the last at
 * least 5 MiB, none over 5 GiB (EntityTooSmall / EntityTooLarge); created with ChecksumAlgorithm SHA256, each part's
 * SHA-256 is computed by S3 from the bytes received, a part whose sent checksum differs is refused (BadDigest), and
 * the checksum is kept per part; the object's checksum is then COMPOSITE (`<base64 sha256 of the parts' digests>-N`).
 * A part's Buffer is kept as is (identical parts may share one): the caller never writes it again.
 */
export class MultipartUpload {
    private readonly uploaded = new Map<number, ObjectPartState>();
    private done = false;

    constructor(
        private readonly world: World,
        private readonly bucket: BucketState,
        readonly key: string,
        private readonly options: { checksumAlgorithm?: "SHA256"; contentType?: string } = {},
    ) {}

    /** UploadPart. `checksumSha256`: the base64 x-amz-checksum-sha256 the client sent (the CLI computes it from the part). */
    uploadPart(partNumber: number, body: Buffer, checksumSha256?: string): ObjectPartState {
        if (this.done) throw s3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", 404);
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
            throw s3Error("InvalidArgument", `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`);
        }
        if (body.length > MAX_PART_BYTES) throw s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        const computed = bufferDigest(body, "sha256").toString("base64");
        if (checksumSha256 !== undefined && checksumSha256 !== computed) {
            throw s3Error("BadDigest", "The SHA256 you specified did not match the calculated checksum.");
        }
        const part: ObjectPartState = { body, etag: `"${bufferDigest(body, "md5").toString("hex")}"` };
        if (this.options.checksumAlgorithm === "SHA256") part.checksumSha256 = computed;
        this.uploaded.set(partNumber, part);
        return part;
    }

    /** CompleteMultipartUpload with every uploaded part, in part-number order: the new object version. */
    complete(): ObjectVersionState {
        if (this.done) throw s3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", 404);
        const numbers = [...this.uploaded.keys()].sort((a, b) => a - b);
        if (numbers.length === 0) throw s3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
        const parts = numbers.map((n) => this.uploaded.get(n) as ObjectPartState);
        parts.slice(0, -1).forEach((part) => {
            if (part.body.length < MIN_PART_BYTES) throw s3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
        });
        const size = parts.reduce((n, p) => n + p.body.length, 0);
        if (size > MAX_OBJECT_BYTES) throw s3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        this.done = true;
        const etagOfParts = createHash("md5");
        for (const part of parts) etagOfParts.update(Buffer.from(part.etag.slice(1, -1), "hex"));
        // The simulator's own sha256 of the bytes is computed when first asked ({@link objectSha256}).
        const version = newVersion(this.world, this.bucket, { size, etag: `"${etagOfParts.digest("hex")}-${parts.length}"`, sha256: "", contentType: this.options.contentType });
        version.parts = parts;
        if (this.options.checksumAlgorithm === "SHA256") {
            const composite = createHash("sha256");
            for (const part of parts) composite.update(Buffer.from(part.checksumSha256 as string, "base64"));
            version.checksumSha256 = `${composite.digest("base64")}-${parts.length}`;
            version.checksumType = "COMPOSITE";
        }
        return storeVersion(this.bucket, this.key, version);
    }
}

/**
 * The simulator's own hex sha256 of a version's bytes (not an S3 API value). A multipart object's is computed on first
 * use and kept: hashing a 256 GiB image takes minutes, and nothing but a view of the world needs it.
 */
export function objectSha256(version: ObjectVersionState): string {
    if (version.sha256 === "" && version.parts) version.sha256 = concatSha256(version.parts.map((p) => p.body));
    return version.sha256;
}

function s3Error(code: string, message: string, status?: number): Error {
    return awsError("s3", code, message, status);
}

const putObject: Handler<PutObjectCommandInput, Out<PutObjectCommandOutput>> = async (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    if (input.ObjectLockLegalHoldStatus !== undefined) throw notImplemented(ctx.action, "with ObjectLockLegalHoldStatus");
    if (input.WriteOffsetBytes !== undefined) throw notImplemented(ctx.action, "with WriteOffsetBytes");
    const body = await readBody(ctx.action, input.Body);
    if (input.ContentLength !== undefined && input.ContentLength !== body.length) {
        throw world.error(ctx, "IncompleteBody", `You did not provide the number of bytes specified by the Content-Length HTTP header (${input.ContentLength} declared, ${body.length} sent)`);
    }
    // Conditions are evaluated against the version current when the write lands (after the body arrived).
    const current = latest(bucket, key);
    const exists = current !== undefined && !current.deleteMarker;
    if (input.IfNoneMatch !== undefined) {
        if (input.IfNoneMatch !== "*") throw notImplemented(ctx.action, `with IfNoneMatch "${input.IfNoneMatch}"`);
        if (exists) throw world.error(ctx, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, { Condition: "If-None-Match" });
    }
    if (input.IfMatch !== undefined) {
        if (!exists) throw world.error(ctx, "NoSuchKey", "The specified key does not exist.", 404, { Key: key });
        if (current.etag !== input.IfMatch) throw world.error(ctx, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412, { Condition: "If-Match" });
    }
    if ((input.ObjectLockMode === undefined) !== (input.ObjectLockRetainUntilDate === undefined)) {
        throw world.error(ctx, "InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied");
    }
    if (input.ObjectLockMode !== undefined && !bucket.objectLock) {
        throw world.error(ctx, "InvalidRequest", "Bucket is missing Object Lock Configuration");
    }
    const retainUntil = input.ObjectLockRetainUntilDate !== undefined ? new Date(input.ObjectLockRetainUntilDate).getTime() : undefined;
    if (retainUntil !== undefined && !(retainUntil > world.now())) {
        throw world.error(ctx, "InvalidArgument", "The retain until date must be in the future!");
    }
    const sha256 = createHash("sha256").update(body).digest("base64");
    if (input.ChecksumSHA256 !== undefined && input.ChecksumSHA256 !== sha256) {
        throw world.error(ctx, "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
    }
    if (input.ContentMD5 !== undefined && input.ContentMD5 !== createHash("md5").update(body).digest("base64")) {
        throw world.error(ctx, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    }
    const metadata = input.Metadata ?? {};
    const metadataSize = Object.entries(metadata).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (metadataSize > METADATA_LIMIT) throw world.error(ctx, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.");
    const wantsChecksum = input.ChecksumSHA256 !== undefined || input.ChecksumAlgorithm === "SHA256";
    const version = putVersion(world, bucket, key, body, {
        contentType: input.ContentType,
        metadata,
        lockMode: input.ObjectLockMode,
        retainUntil,
        checksumSha256: wantsChecksum ? sha256 : undefined,
    });
    const out: Out<PutObjectCommandOutput> = { ETag: version.etag, VersionId: bucket.versioning ? version.versionId : undefined, Size: version.size };
    if (version.checksumSha256) {
        out.ChecksumSHA256 = version.checksumSha256;
        out.ChecksumType = "FULL_OBJECT";
    }
    if (input.ServerSideEncryption) out.ServerSideEncryption = input.ServerSideEncryption;
    return out;
};

/** The version a read names (or the current one), with S3's errors for each way it can be missing. */
function readable(world: World, ctx: CallContext, bucket: BucketState, key: string, versionId: string | undefined, head: boolean): ObjectVersionState {
    const notFound = (code: string, message: string): Error => (head ? world.error(ctx, "NotFound", "Not Found", 404) : world.error(ctx, code, message, 404, { Key: key }));
    if (versionId === undefined) {
        const current = latest(bucket, key);
        if (!current || current.deleteMarker) throw notFound("NoSuchKey", "The specified key does not exist.");
        return current;
    }
    const version = bucket.objects[key]?.find((v) => v.versionId === versionId);
    if (!version) throw notFound("NoSuchVersion", "The specified version does not exist.");
    if (version.deleteMarker) throw world.error(ctx, "MethodNotAllowed", "The specified method is not allowed against this resource.", 405);
    return version;
}

function describeVersion(version: ObjectVersionState, checksumMode: string | undefined): Out<HeadObjectCommandOutput> {
    const out: Out<HeadObjectCommandOutput> = {
        ContentLength: version.size,
        ContentType: version.contentType,
        ETag: version.etag,
        VersionId: version.versionId === "null" ? undefined : version.versionId,
        LastModified: new Date(version.lastModified),
        Metadata: { ...version.metadata },
        AcceptRanges: "bytes",
    };
    if (version.lockMode) {
        out.ObjectLockMode = version.lockMode;
        out.ObjectLockRetainUntilDate = new Date(version.retainUntil ?? 0);
    }
    if (checksumMode === "ENABLED" && version.checksumSha256) {
        out.ChecksumSHA256 = version.checksumSha256;
        out.ChecksumType = version.checksumType ?? "FULL_OBJECT";
    }
    return out;
}

function parseRange(world: World, ctx: CallContext, range: string, size: number): [number, number] {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range);
    if (!match || (match[1] === "" && match[2] === "")) throw notImplemented(ctx.action, `Range "${range}"`);
    let start: number;
    let end: number;
    if (match[1] === "") {
        start = Math.max(0, size - Number(match[2]));
        end = size - 1;
    } else {
        start = Number(match[1]);
        end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    }
    if (start >= size || start > end) throw world.error(ctx, "InvalidRange", "The requested range is not satisfiable", 416);
    return [start, end];
}

/**
 * A read of a key with no current version: S3 answers 404 only to a caller allowed s3:ListBucket on the bucket,
 * otherwise 403, so that a caller who may not list cannot learn which keys exist (S3 API Reference, GetObject and
 * HeadObject, "Permissions"). The ListBucket check is made as for a listing of the key itself (`s3:prefix` = the
 * key), so a grant limited by an `s3:prefix` condition covers the keys it would list (AWS documents no other context
 * for it; Ceph RGW matched AWS this way, ceph/ceph#68577). Only when IAM is evaluated (the drill always does).
 */
async function refuseUnlisted(world: World, ctx: CallContext, bucket: BucketState, key: string, versionId: string | undefined, head: boolean): Promise<void> {
    if (versionId !== undefined || !ctx.caller.roleArn || !world.state.deployment.iam) return;
    const current = latest(bucket, key);
    if (current && !current.deleteMarker) return;
    const list: CallContext = { ...ctx, operation: "ListObjectsV2", action: "s3:ListBucket" };
    const denied = await firstDenied(world, ctx.caller as SessionState & { roleArn: string }, ctx.region, await authorizationsFor(world, list, { Bucket: bucket.name, Prefix: key }));
    if (denied) throw head ? world.error(ctx, "Forbidden", "Forbidden", 403) : world.error(ctx, "AccessDenied", "Access Denied", 403);
}

const getObject: Handler<GetObjectCommandInput, Promise<Out<GetObjectCommandOutput>>> = async (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    if (input.PartNumber !== undefined) throw notImplemented(ctx.action, "with PartNumber");
    await refuseUnlisted(world, ctx, bucket, key, input.VersionId, false);
    const version = readable(world, ctx, bucket, key, input.VersionId, false);
    if (input.IfMatch !== undefined && input.IfMatch !== version.etag) {
        throw world.error(ctx, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412);
    }
    const pieces = version.parts ? storedPieces(version) : (version.body ?? Buffer.alloc(0));
    const head = describeVersion(version, input.ChecksumMode);
    if (input.Range !== undefined) {
        const [start, end] = parseRange(world, ctx, input.Range, version.size);
        delete head.ChecksumSHA256;
        return { ...head, ContentLength: end - start + 1, ContentRange: `bytes ${start}-${end}/${version.size}`, Body: bodyStream(pieces, [start, end]) as unknown as GetObjectCommandOutput["Body"] };
    }
    return { ...head, Body: bodyStream(pieces) as unknown as GetObjectCommandOutput["Body"] };
};

const headObject: Handler<HeadObjectCommandInput, Promise<Out<HeadObjectCommandOutput>>> = async (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    await refuseUnlisted(world, ctx, bucket, key, input.VersionId, true);
    return describeVersion(readable(world, ctx, bucket, key, input.VersionId, true), input.ChecksumMode);
};

const listObjectsV2: Handler<ListObjectsV2CommandInput, Out<ListObjectsV2CommandOutput>> = (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const prefix = input.Prefix ?? "";
    const delimiter = input.Delimiter;
    const maxKeys = Math.max(0, Math.min(input.MaxKeys ?? 1000, world.state.behaviour.pageSizes.listObjectsV2));
    let after = input.StartAfter ?? "";
    if (input.ContinuationToken !== undefined) {
        const decoded = Buffer.from(input.ContinuationToken, "base64").toString("utf8");
        if (!decoded.startsWith("sim:")) throw world.error(ctx, "InvalidArgument", "The continuation token provided is incorrect");
        after = decoded.slice(4);
    }
    const keys = Object.keys(bucket.objects)
        .filter((k) => k.startsWith(prefix) && !latest(bucket, k)?.deleteMarker && (bucket.objects[k]?.length ?? 0) > 0)
        .sort();
    // Entries in key order: objects, or common prefixes when a delimiter folds them.
    const entries: { key: string; prefix?: string }[] = [];
    const seenPrefixes = new Set<string>();
    for (const key of keys) {
        const rest = key.slice(prefix.length);
        const cut = delimiter ? rest.indexOf(delimiter) : -1;
        if (delimiter && cut >= 0) {
            const common = prefix + rest.slice(0, cut + delimiter.length);
            if (seenPrefixes.has(common)) continue;
            seenPrefixes.add(common);
            entries.push({ key: common, prefix: common });
        } else entries.push({ key });
    }
    const remaining = entries.filter((e) => e.key > after);
    const page = remaining.slice(0, maxKeys);
    const truncated = remaining.length > page.length;
    const contents = page
        .filter((e) => e.prefix === undefined)
        .map((e) => {
            const v = latest(bucket, e.key) as ObjectVersionState;
            return {
                Key: e.key,
                LastModified: new Date(v.lastModified),
                ETag: v.etag,
                Size: v.size,
                StorageClass: "STANDARD" as const,
                ...(v.checksumSha256 ? { ChecksumAlgorithm: ["SHA256" as const], ChecksumType: v.checksumType ?? ("FULL_OBJECT" as const) } : {}),
            };
        });
    const commonPrefixes = page.filter((e) => e.prefix !== undefined).map((e) => ({ Prefix: e.prefix }));
    const out: Out<ListObjectsV2CommandOutput> = {
        Name: bucket.name,
        Prefix: prefix,
        MaxKeys: maxKeys,
        KeyCount: page.length,
        IsTruncated: truncated,
    };
    if (contents.length > 0) out.Contents = contents;
    if (commonPrefixes.length > 0) out.CommonPrefixes = commonPrefixes;
    if (delimiter !== undefined) out.Delimiter = delimiter;
    if (input.ContinuationToken !== undefined) out.ContinuationToken = input.ContinuationToken;
    if (input.StartAfter !== undefined) out.StartAfter = input.StartAfter;
    if (truncated) out.NextContinuationToken = Buffer.from(`sim:${page[page.length - 1]?.key ?? ""}`).toString("base64");
    return out;
};

/**
 * GetObjectAttributes (S3 API Reference; `GetObjectAttributesParts`, `ObjectPart`): the requested attributes of a
 * version. `ObjectParts` only for a multipart object: `TotalPartsCount`, and `Parts` (number, size, checksum), at
 * most `MaxParts` (1,000 at most, the default) after `PartNumberMarker`, only when the upload had an additional
 * checksum; a single PUT has no ObjectParts. `Checksum` when the object has one (a multipart object's is COMPOSITE).
 */
const getObjectAttributes: Handler<GetObjectAttributesCommandInput, Out<GetObjectAttributesCommandOutput>> = (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    const attributes = new Set(required(world, ctx, input.ObjectAttributes, "ObjectAttributes"));
    const version = readable(world, ctx, bucket, key, input.VersionId, false);
    const out: Out<GetObjectAttributesCommandOutput> = { LastModified: new Date(version.lastModified) };
    if (version.versionId !== "null") out.VersionId = version.versionId;
    if (attributes.has("ETag")) out.ETag = version.etag.replace(/^"|"$/g, "");
    if (attributes.has("ObjectSize")) out.ObjectSize = version.size;
    if (attributes.has("StorageClass")) out.StorageClass = "STANDARD";
    if (attributes.has("Checksum") && version.checksumSha256) out.Checksum = { ChecksumSHA256: version.checksumSha256, ChecksumType: version.checksumType ?? "FULL_OBJECT" };
    if (attributes.has("ObjectParts") && version.parts) {
        const pageSize = Math.min(S3_PARTS_PAGE, world.state.behaviour.pageSizes.getObjectAttributesParts ?? S3_PARTS_PAGE);
        const requested = input.MaxParts ?? S3_PARTS_PAGE;
        if (!Number.isInteger(requested) || requested < 0) throw world.error(ctx, "InvalidArgument", "Argument max-parts must be an integer between 0 and 2147483647");
        const marker = input.PartNumberMarker === undefined ? 0 : Number(input.PartNumberMarker);
        if (!Number.isInteger(marker) || marker < 0) throw world.error(ctx, "InvalidArgument", "Argument part-number-marker must be an integer between 0 and 2147483647");
        const max = Math.min(requested, pageSize);
        const after = version.parts.map((part, i) => ({ part, number: i + 1 })).filter((p) => p.number > marker);
        const page = after.slice(0, max);
        const truncated = after.length > page.length;
        const parts: GetObjectAttributesParts = {
            TotalPartsCount: version.parts.length,
            PartNumberMarker: String(marker),
            MaxParts: max,
            IsTruncated: truncated,
        };
        if (truncated) parts.NextPartNumberMarker = String(page[page.length - 1]?.number ?? marker);
        if (version.checksumSha256) parts.Parts = page.map(({ part, number }) => ({ PartNumber: number, Size: part.body.length, ...(part.checksumSha256 ? { ChecksumSHA256: part.checksumSha256 } : {}) }));
        out.ObjectParts = parts;
    }
    return out;
};

const getObjectRetention: Handler<GetObjectRetentionCommandInput, Out<GetObjectRetentionCommandOutput>> = (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    if (!bucket.objectLock) throw world.error(ctx, "InvalidRequest", "Bucket is missing Object Lock Configuration");
    const version = readable(world, ctx, bucket, key, input.VersionId, false);
    if (!version.lockMode) {
        throw world.error(ctx, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", 404);
    }
    return { Retention: { Mode: version.lockMode, RetainUntilDate: new Date(version.retainUntil ?? 0) } };
};

const deleteObject: Handler<DeleteObjectCommandInput, Out<DeleteObjectCommandOutput>> = (world, ctx, input) => {
    const bucket = bucketOrThrow(world, ctx, input.Bucket);
    const key = required(world, ctx, input.Key, "Key");
    const versions = bucket.objects[key] ?? [];
    if (input.VersionId !== undefined) {
        const index = versions.findIndex((v) => v.versionId === input.VersionId);
        // Deleting a version that does not exist succeeds and changes nothing.
        if (index < 0) return { VersionId: input.VersionId };
        const version = versions[index] as ObjectVersionState;
        const locked = version.lockMode !== undefined && (version.retainUntil ?? 0) > world.now();
        const bypass = version.lockMode === "GOVERNANCE" && input.BypassGovernanceRetention === true;
        if (locked && !bypass) throw world.error(ctx, "AccessDenied", "Access Denied because object protected by object lock.", 403);
        versions.splice(index, 1);
        if (versions.length === 0) delete bucket.objects[key];
        return version.deleteMarker ? { VersionId: version.versionId, DeleteMarker: true } : { VersionId: version.versionId };
    }
    if (!bucket.versioning) {
        delete bucket.objects[key];
        return {};
    }
    // Versioned bucket, no version named: S3 adds a delete marker; every version (and its lock) stays.
    const marker: ObjectVersionState = {
        versionId: world.token("s3-version", 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"),
        deleteMarker: true,
        lastModified: world.now(),
        size: 0,
        etag: "",
        sha256: "",
        metadata: {},
    };
    versions.push(marker);
    bucket.objects[key] = versions;
    return { DeleteMarker: true, VersionId: marker.versionId };
};

export const S3_HANDLERS: Record<string, Handler> = {
    PutObject: putObject,
    GetObject: getObject,
    HeadObject: headObject,
    ListObjectsV2: listObjectsV2,
    GetObjectRetention: getObjectRetention,
    GetObjectAttributes: getObjectAttributes,
    DeleteObject: deleteObject,
};
