/**
 * The EBS direct APIs' read side over the simulated snapshots' real bytes (drill/sim/disk.ts): ListSnapshotBlocks
 * and GetSnapshotBlock, as the EBS direct APIs reference and the EBS user guide ("Frequently asked questions for EBS
 * direct APIs", "Read Amazon EBS snapshots using EBS direct APIs") describe them:
 * - only a `completed` snapshot can be read ("The snapshot can be accessed only if it has a completed status");
 * - ListSnapshotBlocks lists the written blocks only, unique and in numerical order, from StartingBlockIndex (or the
 *   page NextToken names, which then wins), MaxResults 100 to 10,000 (under 100: "the API will return at least 100
 *   results"), with each block's BlockToken, the tokens' ExpiryTime (block tokens: seven days; page tokens: 60
 *   minutes), VolumeSize (GiB) and BlockSize 524,288;
 * - GetSnapshotBlock returns BlockData with DataLength, Checksum (base64 SHA-256 of the data) and ChecksumAlgorithm
 *   SHA256, for a BlockToken that ListSnapshotBlocks gave for that snapshot and index;
 * - throttling (RequestThrottledException) above the EBS direct APIs quotas the simulator assumes (AWS General
 *   Reference, "Amazon EBS endpoints and quotas": GetSnapshotBlock 1,000 requests per second per snapshot and 5,000
 *   per account; ListSnapshotBlocks 50 per second per account — the quota table itself was not retrieved by this
 *   project's search; the numbers are recorded in docs/limitations.md as assumed).
 * Assumed, not documented: a snapshot not completed answers ValidationException (reason INVALID_SNAPSHOT_ID); a
 * snapshot of another account (shared or not) is not found (EBS direct APIs do not read public snapshots; whether
 * they read shared ones is not modelled); an absent MaxResults lists up to 10,000.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { BLOCK_BYTES, BLOCKS_PER_GIB } from "../../../core/diskDigest";
import { blockBytes, contentOf, writtenBlocks } from "../disk";
import type { SnapshotState } from "../state";
import { required, type CallContext, type Handler, type World } from "../world";

const BLOCK_TOKEN_DAYS = 7;
const PAGE_TOKEN_MINUTES = 60;
/** Requests per second (see the module comment). */
export const EBS_QUOTAS = { getSnapshotBlockPerSnapshot: 1000, getSnapshotBlockPerAccount: 5000, listSnapshotBlocksPerAccount: 50 } as const;

/** The caller's own snapshot in its region, completed; otherwise EBS's error. */
function readableSnapshot(world: World, ctx: CallContext, id: string): SnapshotState {
    if (!/^snap-[0-9a-f]+$/.test(id)) throw world.error(ctx, "ValidationException", `1 validation error detected: Value '${id}' at 'snapshotId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^snap-[0-9a-f]+$`, 400, { Reason: "INVALID_SNAPSHOT_ID" });
    const s = world.region(ctx.accountId, ctx.region).snapshots[id];
    if (!s) throw world.error(ctx, "ResourceNotFoundException", `The snapshot '${id}' does not exist.`, 404, { Reason: "SNAPSHOT_NOT_FOUND" });
    const now = world.now();
    if (now < s.doneAt || s.outcome !== "completed") {
        throw world.error(ctx, "ValidationException", `The snapshot '${id}' is not in the completed state.`, 400, { Reason: "INVALID_SNAPSHOT_ID" });
    }
    return s;
}

function find(world: World, ctx: CallContext) {
    return (snapshotId: string): SnapshotState | undefined => {
        for (const r of world.allRegions()) if (r.state.snapshots[snapshotId]) return r.state.snapshots[snapshotId];
        return undefined;
    };
}

/** Tokens are opaque to callers: here base64 of what they stand for (the pattern ^[A-Za-z0-9+/=]+$, at most 256). */
function token(fields: Record<string, string | number>): string {
    return Buffer.from(JSON.stringify(fields)).toString("base64");
}
function untoken(text: unknown): Record<string, unknown> | undefined {
    if (typeof text !== "string" || !/^[A-Za-z0-9+/=]+$/.test(text)) return undefined;
    try {
        const parsed = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as unknown;
        return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

/** Per-second request counts on the simulator's clock (not persisted: a quota is a rate). */
const windows = new WeakMap<World, Map<string, { second: number; count: number }>>();
function throttle(world: World, ctx: CallContext, key: string, limit: number, reason: "ACCOUNT_THROTTLED" | "RESOURCE_LEVEL_THROTTLE"): void {
    let byKey = windows.get(world);
    if (!byKey) windows.set(world, (byKey = new Map()));
    const second = Math.floor(world.now() / 1000);
    const w = byKey.get(key);
    if (!w || w.second !== second) {
        byKey.set(key, { second, count: 1 });
        return;
    }
    w.count += 1;
    if (w.count > limit) throw world.error(ctx, "RequestThrottledException", `Rate exceeded: more than ${limit} ${ctx.operation} requests per second (${reason === "ACCOUNT_THROTTLED" ? "account" : "snapshot"})`, 400, { Reason: reason });
}

const ListSnapshotBlocks: Handler = (world, ctx, input) => {
    const id = String(required(world, ctx, input.SnapshotId, "SnapshotId"));
    throttle(world, ctx, `list:${ctx.accountId}:${ctx.region}`, EBS_QUOTAS.listSnapshotBlocksPerAccount, "ACCOUNT_THROTTLED");
    const s = readableSnapshot(world, ctx, id);
    const max = input.MaxResults === undefined ? 10_000 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max > 10_000) throw world.error(ctx, "ValidationException", `Value '${input.MaxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000`, 400, { Reason: "INVALID_PARAMETER_VALUE" });
    const now = world.now();
    let from = input.StartingBlockIndex === undefined ? 0 : Number(input.StartingBlockIndex);
    if (input.NextToken !== undefined) {
        const page = untoken(input.NextToken);
        if (!page || page.s !== id || typeof page.i !== "number" || typeof page.e !== "number" || page.e < now) {
            throw world.error(ctx, "ValidationException", "The pagination token is not valid (or has expired).", 400, { Reason: "INVALID_PAGE_TOKEN" });
        }
        from = page.i;
    }
    if (!Number.isInteger(from) || from < 0) throw world.error(ctx, "ValidationException", `Value '${from}' at 'startingBlockIndex' failed to satisfy constraint: Member must have value greater than or equal to 0`, 400, { Reason: "INVALID_PARAMETER_VALUE" });
    const total = s.volumeSizeGiB * BLOCKS_PER_GIB;
    const content = contentOf(s, find(world, ctx));
    const limit = Math.max(100, max);
    const indexes = writtenBlocks(content, from, total, limit);
    const expiry = now + BLOCK_TOKEN_DAYS * 86_400_000;
    const last = indexes[indexes.length - 1];
    const more = indexes.length === limit && last !== undefined && writtenBlocks(content, last + 1, total, 1).length > 0;
    return {
        Blocks: indexes.map((i) => ({ BlockIndex: i, BlockToken: token({ s: id, i, e: expiry }) })),
        ExpiryTime: new Date(expiry),
        VolumeSize: s.volumeSizeGiB,
        BlockSize: BLOCK_BYTES,
        ...(more ? { NextToken: token({ s: id, i: (last as number) + 1, e: now + PAGE_TOKEN_MINUTES * 60_000 }) } : {}),
    };
};

const GetSnapshotBlock: Handler = (world, ctx, input) => {
    const id = String(required(world, ctx, input.SnapshotId, "SnapshotId"));
    const index = Number(required(world, ctx, input.BlockIndex, "BlockIndex"));
    const blockToken = required(world, ctx, input.BlockToken, "BlockToken");
    throttle(world, ctx, `get:${ctx.accountId}:${ctx.region}`, EBS_QUOTAS.getSnapshotBlockPerAccount, "ACCOUNT_THROTTLED");
    throttle(world, ctx, `get:${id}`, EBS_QUOTAS.getSnapshotBlockPerSnapshot, "RESOURCE_LEVEL_THROTTLE");
    const s = readableSnapshot(world, ctx, id);
    const t = untoken(blockToken);
    if (!t || t.s !== id || t.i !== index || typeof t.e !== "number" || t.e < world.now()) {
        throw world.error(ctx, "ValidationException", "The block token is not valid for this snapshot and block index (or has expired).", 400, { Reason: "INVALID_BLOCK_TOKEN" });
    }
    const bytes = blockBytes(contentOf(s, find(world, ctx)), index);
    return {
        BlockData: blockStream(bytes),
        DataLength: bytes.length,
        Checksum: createHash("sha256").update(bytes).digest("base64"),
        ChecksumAlgorithm: "SHA256",
    };
};

/** A body as the SDK gives a streaming blob: async-iterable, with `transformToByteArray`. */
function blockStream(bytes: Buffer): Readable & { transformToByteArray: () => Promise<Uint8Array> } {
    const stream = Readable.from([bytes], { objectMode: false });
    return Object.assign(stream, { transformToByteArray: async () => new Uint8Array(bytes) });
}

export const EBS_HANDLERS: Record<string, Handler> = { ListSnapshotBlocks, GetSnapshotBlock };
