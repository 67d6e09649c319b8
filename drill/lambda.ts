/**
 * The drill's Lambda: each simulated invocation is held to what its function gets as deployed (core/lambda.ts), so a
 * design that cannot finish inside a real Lambda fails in the drill as it would in AWS, with `Sandbox.Timedout`.
 *
 * What is modelled: the time a function spends on the bytes it reads from S3. The drill runs the handlers on this
 * machine at full speed; a Lambda function of M MB gets M / 1,769 of one vCPU ("Configure Lambda function memory",
 * Lambda Developer Guide). Every byte an invocation reads from a GetObject body (or a GetSnapshotBlock's BlockData) is charged at this machine's sha256
 * speed (measured once per process: reading back evidence means hashing it) scaled to that share; once the charge
 * passes the function's timeout, the read fails, every later AWS call of that invocation fails unapplied, and the
 * invocation ends `Sandbox.Timedout` whatever the handler made of it. Network time and the rest of the handler's CPU
 * are not charged, so the model is optimistic: what it kills, a real Lambda could not finish either. A 512 MB
 * function hashing at ~1.3 GB/s here gets ~0.38 GB/s: its 300 s read ~110 GB, a quarter of what a 256 GiB image
 * needs, while an 8 MiB image costs it a few milliseconds.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { cpuShare, FUNCTION_LIMITS, type LimitedFunction } from "../core/lambda";
import { LAMBDA_TIMEOUTS } from "../core/definition";
import type { SimulatedAccount } from "./sim";

/** One running invocation's account of what it read. */
interface Invocation {
    label: string;
    fn: LimitedFunction;
    budgetBytes: number;
    bytesPerSecond: number;
    readBytes: number;
    timedOut: boolean;
}

/** The model's settings for one simulated account. */
export interface LambdaModelOptions {
    /** sha256 bytes per second of one full core. @default measured on this machine */
    hashBytesPerSecond?: number;
}

const scope = new AsyncLocalStorage<Invocation>();
const installed = new WeakMap<SimulatedAccount, { hashBytesPerSecond: number }>();
let measured: number | undefined;

/** This machine's sha256 speed on one core (bytes/s): the best of three passes over 64 MiB, measured once. */
export function measuredHashBytesPerSecond(): number {
    if (measured !== undefined) return measured;
    const block = Buffer.alloc(64 * 1024 * 1024, 0x5a);
    let best = 0;
    for (let i = 0; i < 3; i++) {
        const started = process.hrtime.bigint();
        createHash("sha256").update(block).digest();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        best = Math.max(best, block.length / Math.max(seconds, 1e-6));
    }
    measured = best;
    return measured;
}

/**
 * Hold `sim`'s Lambda invocations to their budgets (once per account: a kept `--state` account is installed once).
 * The S3 object bodies and EBS snapshot blocks read inside an invocation are charged to it; calls of an invocation
 * that timed out fail.
 */
export function installLambdaModel(sim: SimulatedAccount, options: LambdaModelOptions = {}): void {
    const hashBytesPerSecond = options.hashBytesPerSecond ?? measuredHashBytesPerSecond();
    const known = installed.get(sim);
    if (known) {
        known.hashBytesPerSecond = hashBytesPerSecond;
        return;
    }
    installed.set(sim, { hashBytesPerSecond });
    sim.addHook({
        action: "*",
        when: "before",
        run: () => {
            const invocation = scope.getStore();
            if (invocation?.timedOut) throw killed(invocation);
        },
    });
    // Bodies a function reads and hashes are charged to its invocation's time budget: S3 objects (memory images,
    // manifests) and, for the disk digests, snapshot blocks (EBS direct APIs).
    const chargeBody = (action: string, field: string) => sim.addHook({
        action,
        when: "after",
        run: (call) => {
            const invocation = scope.getStore();
            const output = call.output as Record<string, unknown> | undefined;
            if (invocation && output?.[field] !== undefined) output[field] = charged(output[field] as ChargeableBody, invocation);
        },
    });
    chargeBody("s3:GetObject", "Body");
    chargeBody("ebs:GetSnapshotBlock", "BlockData");
}

/**
 * Run one invocation of `fn` (its handler, in `invoke`) under its deployed budget. Without an installed model the
 * invocation simply runs.
 */
export async function runAsLambda<T>(sim: SimulatedAccount, fn: string, label: string, invoke: () => Promise<T>): Promise<T> {
    const model = installed.get(sim);
    if (!model || !(fn in FUNCTION_LIMITS)) return invoke();
    const { timeoutSeconds, memoryMb } = FUNCTION_LIMITS[fn as LimitedFunction];
    const bytesPerSecond = model.hashBytesPerSecond * cpuShare(memoryMb);
    const invocation: Invocation = { label, fn: fn as LimitedFunction, budgetBytes: timeoutSeconds * bytesPerSecond, bytesPerSecond, readBytes: 0, timedOut: false };
    let result: T;
    try {
        result = await scope.run(invocation, invoke);
    } catch (error) {
        if (invocation.timedOut) throw timedOut(invocation);
        throw error;
    }
    if (invocation.timedOut) throw timedOut(invocation);
    return result;
}

type ChargeableBody = AsyncIterable<Uint8Array | string> & {
    transformToByteArray?: () => Promise<Uint8Array>;
    transformToString?: (encoding?: string) => Promise<string>;
};

/** The body, every byte read from it charged to `invocation`. */
function charged(body: ChargeableBody, invocation: Invocation): Readable {
    const charge = (bytes: number): void => {
        invocation.readBytes += bytes;
        if (invocation.readBytes > invocation.budgetBytes) {
            invocation.timedOut = true;
            throw killed(invocation);
        }
    };
    const stream = Readable.from(
        (async function* () {
            for await (const chunk of body) {
                charge(typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.byteLength);
                yield chunk;
            }
        })(),
        { objectMode: false },
    );
    return Object.assign(stream, {
        transformToByteArray: async () => {
            const bytes = (await body.transformToByteArray?.()) ?? new Uint8Array();
            charge(bytes.byteLength);
            return bytes;
        },
        transformToString: async (encoding?: string) => {
            const text = (await body.transformToString?.(encoding)) ?? "";
            charge(Buffer.byteLength(text));
            return text;
        },
        transformToWebStream: () => Readable.toWeb(stream) as unknown as ReadableStream,
    });
}

function killed(invocation: Invocation): Error {
    return Object.assign(new Error(`drill: ${invocation.label} was killed (its Lambda timed out)`), { name: "DrillKilled" });
}

function timedOut(invocation: Invocation): Error {
    const { timeoutSeconds, memoryMb } = FUNCTION_LIMITS[invocation.fn];
    const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
    return Object.assign(
        new Error(
            `${invocation.label}: Task timed out after ${timeoutSeconds}.00 seconds (drill: it read ${gb(invocation.readBytes)} from S3 and was still reading; ` +
                `a ${memoryMb} MB function hashes about ${gb(invocation.bytesPerSecond)}/s, ${gb(invocation.budgetBytes)} in its ${timeoutSeconds} s)`,
        ),
        { name: LAMBDA_TIMEOUTS[0] },
    );
}
