/**
 * `npm run bench [-- --json] [--quick] [--with-tests]`
 *
 * The benchmark suite (not timed tests): every figure measured in one run, on this machine.
 * - time to contain in the drill (call slots to the first change and to complete isolation at 1, 3, 8 ENIs), for
 *   the deployed definition and two baseline designs run as state machines of their own (scripts/lib/bench/baselines.ts);
 * - time to contain in milliseconds, cold and warm (scripts/lib/bench/latency.ts): each design's path in the drill
 *   priced with the functions' measured module load, their deployed memory and the stated per-hop latencies;
 * - evidence wall time (simulated) parallel vs sequential, and bytes the memory capture writes to the suspect's disk;
 * - the memory function's verification time at 1, 16 and 256 GiB images (simulated sizes, the real verification);
 * - disk content digest time per GiB and per block at 8, 100 and 1,000 GiB (simulated, the real chunk reading; and
 *   modelled at the EBS direct APIs quotas: scripts/lib/bench/diskDigest.ts);
 * - the policy gate over gRPC (our pack beside a pack with no policies), AnalyzeStack time, pack start-up;
 * - program scale under mocks (scripts/bench-program.ts --json); Lambda bundle sizes and cold init;
 * - an organization of 250, 500 and 1,000 member accounts in 4 regions, split into stacks and previewed under mocks
 *   through the stacks driver (scripts/lib/bench/organization.ts; 40 accounts with --quick);
 * - `npm test` wall time only with `--with-tests` (null otherwise).
 * The full run rewrites BENCHMARKS.md; `--quick` (CI's smoke run: smallest sizes, no test suite) only prints.
 * Output: a summary, or with `--json` one object. Exit 0 when measured (missed targets are reported, not a
 * failure), 1 when a measurement could not be taken, 2 on a bad flag (one line on stderr).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DrillBench } from "./lib/bench/drill";
import { ASSUMPTIONS, coldStartMs, coldWarm, pathMs, without, type FunctionCost } from "./lib/bench/latency";
import { START_BRANCHES, STATES } from "../core/definition";
import { FUNCTION_LIMITS } from "../core/lambda";
import type { DesignName } from "./lib/bench/baselines";
import { parseFlags, renderMarkdown, resultProblems, targets, type BenchFlags, type BenchResult, type LatencyReport, type SlotPair } from "./lib/bench/report";

const REPO = path.resolve(__dirname, "..");
export const BENCHMARKS_FILE = path.join(REPO, "BENCHMARKS.md");

export function machine(): string {
    const cpus = os.cpus();
    return `${cpus.length} x ${cpus[0]?.model?.trim() ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.versions.node}`;
}

/** Why a child process failed ("exit 1", "signal SIGKILL", the spawn error), or null when it exited 0. */
export function suiteFailure(child: { status: number | null; signal?: NodeJS.Signals | null; error?: Error }): string | null {
    if (child.error) return child.error.message.split("\n")[0];
    if (child.status === 0) return null;
    return child.status === null ? `signal ${child.signal ?? "unknown"}` : `exit ${child.status}`;
}

export async function runBench(flags: BenchFlags, progress: (line: string) => void = () => {}): Promise<BenchResult> {
    // Loaded here, not at the top: the drill, the pack harness and the program under mocks take seconds to load, and
    // a bad flag is answered before any of it (main).
    const { benchDrill } = await import("./lib/bench/drill");
    const { benchCapture } = await import("./lib/bench/capture");
    const { benchMemoryVerify } = await import("./lib/bench/memoryVerify");
    const { benchDiskDigest } = await import("./lib/bench/diskDigest");
    const { benchPolicy } = await import("./lib/bench/policy");
    const { benchProgram } = await import("./lib/bench/program");
    const { benchLambda } = await import("./lib/bench/lambda");
    const { benchOrganization } = await import("./lib/bench/organization");
    const started = Date.now();
    const quick = flags.quick;

    progress("drill: containment and evidence, 3 designs x ENI counts");
    const drill = await benchDrill(quick ? { snapshotDurationMs: 120_000, memoryDurationMs: 60_000 } : {});
    progress("memory capture: bytes on the suspect's disk");
    const capture = benchCapture(quick ? 4 * 1024 * 1024 : 64 * 1024 * 1024);
    progress("memory verification at 1, 16 and 256 GiB (simulated)");
    const memoryVerify = await benchMemoryVerify([1, 16, 256]);
    progress(`disk content digests at ${quick ? "8 and 100" : "8, 100 and 1,000"} GiB (simulated)`);
    const diskDigest = await benchDiskDigest(quick ? [8, 100] : [8, 100, 1000]);
    progress("policy gate over gRPC");
    const policy = await benchPolicy(quick ? [100] : [100, 1000, 5000], quick ? 1 : 3);
    progress("program scale under mocks");
    const program = benchProgram(quick ? [1, 10] : [1, 10, 50, 100]);
    const organization = await benchOrganization(quick ? [40] : [250, 500, 1000], progress);
    progress("lambda bundles and cold init");
    const lambda = benchLambda(quick ? 1 : 3);
    let testSuiteSeconds: number | null = null;
    let testSuiteFailure: string | null = null;
    if (flags.withTests) {
        progress("npm test");
        const t = Date.now();
        const child = spawnSync("npm", ["test"], { cwd: REPO, stdio: ["ignore", "ignore", "ignore"] });
        testSuiteSeconds = Math.round((Date.now() - t) / 100) / 10;
        testSuiteFailure = suiteFailure(child);
        if (testSuiteFailure !== null) progress(`npm test FAILED (${testSuiteFailure}): its time is not a pass`);
    }

    const model = modelLatency(drill, lambda.initMs);
    const e = drill.evidence;
    const slots = (design: "sequential" | "memory-first") => ({
        containSlots: drill.containSlots[design],
        isolateSlots: drill.isolateSlots[design],
        evidenceSeconds: design === "sequential" ? e.sequentialSeconds : e.memoryFirstSeconds,
        ...model.ms[design],
    });
    return {
        machine: machine(),
        date: new Date().toISOString(),
        quick,
        latencyMs: drill.options.latencyMs,
        containSlots: drill.containSlots.parallel,
        isolateSlots: drill.isolateSlots.parallel,
        containMs: model.ms.parallel.containMs,
        isolateMs: model.ms.parallel.isolateMs,
        latency: model.latency,
        baselines: { sequential: slots("sequential"), "memory-first": slots("memory-first") },
        evidence: {
            snapshotDurationSeconds: drill.options.snapshotDurationMs / 1000,
            memoryDurationSeconds: drill.options.memoryDurationMs / 1000,
            snapshotPollSeconds: drill.options.snapshotPollSeconds,
            memoryPollSeconds: drill.options.memoryPollSeconds,
            branchSeconds: e.branchSeconds,
            parallelSeconds: e.parallelSeconds,
            sequentialSeconds: e.sequentialSeconds,
            sameEvidence: e.sameEvidence,
            notSucceeded: e.notSucceeded,
        },
        evidenceParallelRatio: e.parallelRatio,
        suspectDiskBytes: capture.suspectDiskBytes,
        capture: { imageBytes: capture.imageBytes, uploadedBytes: capture.uploadedBytes, diskFiles: capture.diskFiles },
        memoryVerify,
        diskDigest,
        policyResourcesPerSecond: policy.resourcesPerSecond,
        policyEmptyResourcesPerSecond: policy.emptyResourcesPerSecond,
        policyRatios: policy.ratios,
        policyOverheadRatio: policy.overheadRatio,
        policyRatioSamples: policy.largestRatioSamples,
        analyzeStackSeconds: policy.analyzeStackSeconds,
        analyzeStackResources: policy.analyzeStackResources,
        packStartSeconds: policy.packStartSeconds,
        emptyPackStartSeconds: policy.emptyPackStartSeconds,
        programSeconds: program.programSeconds,
        programResources: Object.fromEntries(program.rows.map((row) => [String(row.memberRegions), row.resources])),
        organization,
        lambdaBundleBytes: lambda.bundleBytes,
        lambdaInitMs: lambda.initMs,
        testSuiteSeconds,
        testSuiteFailure,
        seconds: Math.round((Date.now() - started) / 100) / 10,
    };
}

/**
 * Time to contain in milliseconds for every design (scripts/lib/bench/latency.ts): each design's drill run with the
 * most ENIs (the slots are flat; the most is the worst if they are not), priced with the functions' measured module
 * load (`initMs`) and deployed memory (core/lambda.ts).
 */
export function modelLatency(drill: DrillBench, initMs: Record<string, number>): { ms: Record<DesignName, Pick<SlotPair, "containMs" | "isolateMs">>; latency: LatencyReport } {
    const functions: Record<string, FunctionCost> = Object.fromEntries(
        Object.entries(initMs).map(([fn, ms]) => [fn, { moduleInitMs: ms, memoryMb: FUNCTION_LIMITS[fn as keyof typeof FUNCTION_LIMITS].memoryMb }]),
    );
    const mostEnis = Math.max(...drill.options.eniCounts);
    const runOf = (design: DesignName) => drill.runs.find((run) => run.design === design && run.enis === mostEnis);
    const priced = (design: DesignName) => {
        const run = runOf(design);
        if (!run?.containPath || !run.isolatePath) throw new Error(`${design}: the drill run reached no containment change to price`);
        return { containMs: coldWarm(run.containPath, functions), isolateMs: coldWarm(run.isolatePath, functions) };
    };
    const ours = runOf("parallel");
    return {
        ms: { parallel: priced("parallel"), sequential: priced("sequential"), "memory-first": priced("memory-first") },
        latency: {
            enis: mostEnis,
            assumptions: ASSUMPTIONS,
            coldStartMs: Object.fromEntries(Object.entries(functions).map(([fn, f]) => [fn, Math.round(coldStartMs(f))])),
            memoryMb: Object.fromEntries(Object.entries(functions).map(([fn, f]) => [fn, f.memoryMb])),
            containPath: ours?.containPath?.steps.map((s) => s.state) ?? [],
            containCold: ours?.containPath ? pathMs(ours.containPath, functions, true).parts : null,
            isolateCold: ours?.isolatePath ? pathMs(ours.isolatePath, functions, true).parts : null,
            options: containOptions(ours?.containPath ?? null, functions),
        },
    };
}

/**
 * Options weighed for the first change, priced on our own path: as deployed (Triage beside the warm-ups of OpenCase
 * and Contain), the design before (no warm-ups: each function on the way starts cold when the path reaches it), and
 * the warm-ups with Triage decided inside OpenCase as well (not taken: OpenCase would then carry the triage
 * guard, and a failed OpenCase would leave no verdict to seal the case by).
 */
export function containOptions(path: import("./lib/bench/latency").CriticalPath | null, functions: Record<string, FunctionCost>): { option: string; cold: number; warm: number }[] {
    if (path === null) return [];
    const noWarmups = without(path, START_BRANCHES.flat().filter((s) => s !== STATES.triage));
    const noTriage = without(path, [STATES.triage, STATES.actionable]);
    const price = (p: typeof path) => ({ cold: pathMs(p, functions, true).ms, warm: pathMs(p, functions, false).ms });
    return [
        { option: "as deployed: OpenCase and Contain warmed while Triage decides", ...price(path) },
        { option: "without the warm-ups (each function starts cold when the path reaches it)", ...price(noWarmups) },
        { option: "warm-ups, and triage decided inside OpenCase (not taken)", ...price(noTriage) },
    ];
}

/** The plain-text summary (without `--json`). */
export function summary(r: BenchResult): string {
    const lines = [`aws-dfir benchmarks${r.quick ? " (--quick)" : ""} on ${r.machine}`, ""];
    lines.push(`time to contain (ms, modelled): first change cold ${r.containMs.cold} / warm ${r.containMs.warm}; isolated cold ${r.isolateMs.cold} / warm ${r.isolateMs.warm}`);
    for (const t of targets(r)) lines.push(`${t.pass === null ? "  -" : t.pass ? "  ok" : "MISS"}  ${t.what}: ${t.measured} (target ${t.target})`);
    if (r.testSuiteFailure) lines.push("", `npm test FAILED (${r.testSuiteFailure}): the test suite did not pass`);
    lines.push("", `evidence: parallel ${r.evidence.parallelSeconds} s vs sequential ${r.evidence.sequentialSeconds} s (simulated)`);
    lines.push(`policy res/s: ${JSON.stringify(r.policyResourcesPerSecond)} (no-policy pack ${JSON.stringify(r.policyEmptyResourcesPerSecond)})`);
    lines.push(`memory verification: ${r.memoryVerify.map((v) => `${v.gib} GiB ${v.seconds} s (${v.attributeCalls} calls)`).join(", ")}`);
    lines.push(`disk digests: ${r.diskDigest.map((d) => `${d.gib} GiB ${d.seconds} s (${d.msPerWrittenBlock} ms/written block; modelled fully written ${d.modelled.seconds} s, ${d.modelled.secondsPerGiB} s/GiB)`).join(", ")}`);
    lines.push(`program seconds: ${JSON.stringify(r.programSeconds)}`);
    const org = r.organization;
    lines.push(`organization under mocks: ${org.rows.map((w) => `${w.accounts} accounts ${w.stacks} stacks ${w.wallSeconds} s wall, ${w.cpuSeconds} CPU s, peak ${w.maxRssMiB} MiB`).join("; ")}${org.growth ? `; per account x${org.growth.cpu} CPU (${org.linear ? "linear" : "NOT linear"})` : ""}`);
    lines.push(`lambda bytes: ${JSON.stringify(r.lambdaBundleBytes)}; init ms: ${JSON.stringify(r.lambdaInitMs)}`);
    return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
    const flags = parseFlags(argv);
    if (typeof flags === "string") {
        process.stderr.write(`${flags}\n`);
        return 2;
    }
    const result = await runBench(flags, (line) => process.stderr.write(`bench: ${line}\n`));
    const problems = resultProblems(result as unknown as Record<string, unknown>);
    if (problems.length > 0) {
        process.stderr.write(`bench: broken measurement: ${problems.join("; ")}\n`);
        return 1;
    }
    if (!flags.quick) {
        fs.writeFileSync(BENCHMARKS_FILE, renderMarkdown(result));
        process.stderr.write(`bench: wrote ${path.relative(process.cwd(), BENCHMARKS_FILE) || BENCHMARKS_FILE}\n`);
    }
    process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : summary(result));
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            process.stderr.write(`bench: could not measure: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
