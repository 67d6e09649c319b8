/**
 * The simulated world: the state plus the helpers every service needs (clock, deterministic ids, lookups across
 * accounts and regions, the event timeline). Services are functions over a `World`; the public
 * `SimulatedAccount` wraps one and adds the SDK plumbing, recording and persistence.
 */
import { createHash } from "node:crypto";
import { awsError, type SimService } from "./errors";
import type { IamDenial } from "./iam/index";
import {
    emptyAccount,
    emptyRegion,
    type AccountState,
    type InstanceState,
    type RegionState,
    type SessionState,
    type SimState,
} from "./state";

/** What a service handler knows about the call it serves. */
export interface CallContext {
    service: SimService;
    /** The bare API name, e.g. "DescribeInstances". */
    operation: string;
    /** IAM-style, e.g. "ec2:DescribeInstances". */
    action: string;
    /** The account the caller's credentials act on. */
    accountId: string;
    region: string;
    caller: SessionState;
}

/** A service operation: applies the call's effect to the world and returns the SDK output (without $metadata). */
export type Handler<I = any, O = unknown> = (world: World, ctx: CallContext, input: I) => O | Promise<O>;

export const EC2_ID = /^(i|eni|sg|vpc|subnet|vol|snap|ami|r|eni-attach|iip-assoc|acl|aclassoc|rtb|rtbassoc|nat|igw|vpce|pcx|eigw)-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export class World {
    /** Wall-clock origin of `CallRecord.atMs` / `WorldEvent.atMs` (this process, this object; see `restartCallClock`). */
    startedAtWall = Date.now();
    /** Every call (or call from an instance) IAM denied in this session, in order. Not persisted, like the calls. */
    readonly iamDenied: IamDenial[] = [];

    constructor(readonly state: SimState) {}

    /** Simulator clock, epoch milliseconds: the wall clock plus whatever `advance()` added. */
    now(): number {
        return Date.now() + this.state.clockOffsetMs;
    }

    /** Milliseconds of wall clock since this object was created. */
    elapsedWall(): number {
        return Date.now() - this.startedAtWall;
    }

    /** Move the simulator clock forward (the drill skips Wait states this way); never backwards. */
    advance(ms: number): void {
        if (!(ms >= 0)) throw new Error(`simulator: advance(${ms}) must be a non-negative number of milliseconds`);
        this.state.clockOffsetMs += ms;
    }

    /** A deterministic hex string: the n-th value of `kind` for this world's seed. */
    private nextHex(kind: string, length: number): string {
        const n = (this.state.counters[kind] ?? 0) + 1;
        this.state.counters[kind] = n;
        let out = "";
        for (let block = 0; out.length < length; block++) {
            out += createHash("sha256").update(`${this.state.seed}:${kind}:${n}:${block}`).digest("hex");
        }
        return out.slice(0, length);
    }

    /** A new EC2-style id (`vol-0123...`, 17 hex digits), deterministic per seed. */
    id(prefix: string): string {
        return `${prefix}-${this.nextHex(prefix, 17)}`;
    }

    /** A deterministic UUID-shaped id (SSM command ids, activity ids, request ids). */
    uuid(kind: string): string {
        const h = this.nextHex(`uuid:${kind}`, 32);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    }

    /** A deterministic upper-case alphanumeric token (IAM unique ids, access keys, S3 version ids). */
    token(kind: string, length: number, alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"): string {
        const hex = this.nextHex(`token:${kind}`, length * 2);
        let out = "";
        for (let i = 0; i < length; i++) out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
        return out;
    }

    account(accountId: string): AccountState {
        let account = this.state.accounts[accountId];
        if (!account) {
            account = emptyAccount(accountId);
            this.state.accounts[accountId] = account;
        }
        return account;
    }

    /** The region's state in an account (created empty on first use: every region "exists"). */
    region(accountId: string, region: string): RegionState {
        const account = this.account(accountId);
        let r = account.regions[region];
        if (!r) {
            r = emptyRegion();
            account.regions[region] = r;
        }
        return r;
    }

    /** Every (account, region, state) triple, for views that search by id. */
    *allRegions(): Generator<{ accountId: string; region: string; state: RegionState }> {
        for (const account of Object.values(this.state.accounts)) {
            for (const [region, state] of Object.entries(account.regions)) yield { accountId: account.accountId, region, state };
        }
    }

    /** Find an instance anywhere (views and scenario hooks; API calls only see their own account and region). */
    findInstance(instanceId: string): { accountId: string; region: string; instance: InstanceState; state: RegionState } | undefined {
        for (const r of this.allRegions()) {
            const instance = r.state.instances[instanceId];
            if (instance) return { accountId: r.accountId, region: r.region, instance, state: r.state };
        }
        return undefined;
    }

    /** Record something the world did by itself (for the drill's timeline). */
    event(kind: string, detail: string, at = this.now()): void {
        this.state.events.push({ atMs: this.elapsedWall(), simTime: new Date(at).toISOString(), kind, detail });
    }

    /** An AWS-shaped error for the current call's service. */
    error(ctx: CallContext, code: string, message: string, status?: number, extra?: Record<string, unknown>): Error {
        return awsError(ctx.service, code, message, status, extra);
    }
}

/** Tags as EC2 returns them. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
    return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** A required input member; absent -> the service's own validation error. */
export function required<T>(world: World, ctx: CallContext, value: T | undefined | null, name: string): T {
    if (value === undefined || value === null || (typeof value === "string" && value === "")) {
        const code = ctx.service === "ec2" ? "MissingParameter" : ctx.service === "dynamodb" || ctx.service === "ssm" ? "ValidationException" : "ValidationError";
        throw world.error(ctx, code, `The request must contain the parameter ${name}`);
    }
    return value;
}
