/**
 * `npm run -s bench:program [-- --sizes 1,10,50,100] [--json]`
 *
 * Program scale benchmark (not a test): the real program (`index.ts`) under the project's Pulumi mocks, as a
 * preview, for a hub with N member-regions (N member accounts, alternately in us-east-1 and eu-west-1, each with
 * `vpcs: all`, which the mocks answer with two VPCs). Each size runs in its own process (mocks are global to a
 * process): wall time from the program's start to the last registration settled, and resources registered.
 * Reports the marginal cost of each added member-region between sizes (the first size carries the fixed cost:
 * loading, bundling the seven handlers, the hub's two regions), so linear growth shows as a flat column.
 *
 * A size whose program AWS would refuse fails with one line: a registration the mocks refused (a resource over an AWS
 * size quota, core/quotas.ts) or a quota counted across resources (`quotaProblems()`, e.g. a role's inline policies).
 *
 * Internal mode (one size, used by the driver): `--one N` prints one JSON line {memberRegions, resources, seconds}.
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { parseArgs } from "node:util";

const HUB = "111111111111";
const REGIONS = ["us-east-1", "eu-west-1"];

/** The stack config (as Pulumi hands it over: strings) of a hub with `n` member-regions. */
export function scaleConfig(n: number): Record<string, string> {
    const members = Array.from({ length: n }, (_, i) => {
        const accountId = String(200000000000 + i);
        return { accountId, deployRoleArn: `arn:aws:iam::${accountId}:role/dfir-deploy`, regions: { [REGIONS[i % REGIONS.length]]: { vpcs: "all" } } };
    });
    return {
        "aws:region": REGIONS[0],
        "pulumi:disable-default-providers": JSON.stringify(["aws"]),
        // Only regions with a member: a hub region without one is refused (its rules would admit every account).
        "dfir:hub": JSON.stringify({ accountId: HUB, regions: REGIONS.slice(0, Math.min(n, REGIONS.length)), deployRoleArn: `arn:aws:iam::${HUB}:role/dfir-deploy` }),
        "dfir:members": JSON.stringify(members),
        "dfir:organization": JSON.stringify({ id: "o-abcdefghij", delegatedAdmin: true }),
    };
}

async function one(n: number): Promise<void> {
    const { installMocks } = await import("./lib/mock-program");
    const pulumi = await import("@pulumi/pulumi");
    const program = installMocks({ project: "aws-dfir", stack: "bench", region: REGIONS[0], preview: true });
    pulumi.runtime.setAllConfig(scaleConfig(n));
    const started = process.hrtime.bigint();
    // A refused registration also rejects the program and every output built on it (some of them unhandled, which
    // would end the process first): keep the first rejection, report the refused registration.
    let programError: unknown;
    process.on("unhandledRejection", (error: unknown) => {
        programError ??= error;
    });
    await pulumi.runtime.runInPulumiStack(async () => {
        const entry = require("../index") as () => Promise<unknown>;
        return entry();
    }).catch((error: unknown) => {
        programError = error;
    });
    await program.settle();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const failed = program.registrations.filter((r) => r.error !== undefined);
    if (failed.length > 0) throw new Error(`${failed.length} registration(s) failed, first ${failed[0].type} ${failed[0].name}: ${failed[0].error}`);
    // What AWS would refuse counted across resources (core/quotas.ts): the run is not a deployable stack.
    const overQuota = program.quotaProblems();
    if (overQuota.length > 0) throw new Error(`${overQuota.length} AWS quota problem(s), first ${overQuota[0].message}`);
    if (programError !== undefined) throw programError;
    process.stdout.write(`${JSON.stringify({ memberRegions: n, resources: program.registrations.length, seconds: Number(seconds.toFixed(2)) })}\n`);
}

interface Row {
    memberRegions: number;
    resources: number;
    seconds: number;
}

function driver(sizes: number[], json: boolean): number {
    const rows: Row[] = [];
    for (const n of sizes) {
        const child = spawnSync(process.execPath, [...process.execArgv, __filename, "--one", String(n)], { encoding: "utf8", maxBuffer: 1 << 26 });
        if (child.status !== 0) {
            process.stderr.write(`bench:program: ${n} member-regions failed: ${(child.stderr || "").trim().split("\n").slice(-3).join(" ")}\n`);
            return 1;
        }
        rows.push(JSON.parse(child.stdout.trim().split("\n").pop() as string) as Row);
    }
    const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, Node ${process.versions.node}`;
    if (json) {
        process.stdout.write(`${JSON.stringify({ machine, programSeconds: Object.fromEntries(rows.map((r) => [String(r.memberRegions), r.seconds])), rows })}\n`);
        return 0;
    }
    process.stdout.write(`program under mocks (${machine})\n\nmember-regions  resources  seconds  ms per added member-region  resources per added member-region\n`);
    rows.forEach((r, i) => {
        const prev = rows[i - 1];
        const added = prev ? r.memberRegions - prev.memberRegions : 0;
        const ms = prev && added > 0 ? ((r.seconds - prev.seconds) * 1000 / added).toFixed(0) : "-";
        const res = prev && added > 0 ? ((r.resources - prev.resources) / added).toFixed(1) : "-";
        process.stdout.write(`${String(r.memberRegions).padStart(14)}  ${String(r.resources).padStart(9)}  ${r.seconds.toFixed(2).padStart(7)}  ${ms.padStart(26)}  ${res.padStart(33)}\n`);
    });
    return 0;
}

if (require.main === module) {
    let values;
    try {
        ({ values } = parseArgs({ options: { sizes: { type: "string" }, json: { type: "boolean" }, one: { type: "string" } }, strict: true }));
    } catch (error) {
        process.stderr.write(`bench:program: ${(error as Error).message.split("\n")[0]}\n`);
        process.exit(2);
    }
    const whole = (s: string) => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 500 ? Number(s) : NaN);
    if (values.one !== undefined) {
        const n = whole(values.one);
        if (Number.isNaN(n)) {
            process.stderr.write("bench:program: --one needs a whole number from 1 to 500\n");
            process.exit(2);
        }
        one(n).catch((error) => {
            process.stderr.write(`${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
            process.exitCode = 1;
        });
    } else {
        const sizes = (values.sizes ?? "1,10,50,100").split(",").map(whole);
        if (sizes.some(Number.isNaN)) {
            process.stderr.write("bench:program: --sizes needs a comma-separated list of whole numbers from 1 to 500\n");
            process.exit(2);
        }
        process.exitCode = driver(sizes, values.json === true);
    }
}
