/** The benchmark suite's flags, result object, targets and BENCHMARKS.md renderer (pure: unit-tested). */
import { FUNCTION_NAMES } from "../../../components/bundle";
import type { DesignName } from "./baselines";
import { DESIGN_DESCRIPTIONS } from "./baselines";
import { ENI_COUNTS } from "./drill";
import type { ColdWarm, LatencyAssumptions, PathCost } from "./latency";
import type { MemoryVerifyRow } from "./memoryVerify";
import type { DiskDigestRow } from "./diskDigest";
import type { OrganizationBench } from "./organization";

export interface BenchFlags {
    json: boolean;
    quick: boolean;
    withTests: boolean;
}

/** Parse argv; a string is the one-line error (exit 2). */
export function parseFlags(argv: readonly string[]): BenchFlags | string {
    const flags: BenchFlags = { json: false, quick: false, withTests: false };
    for (const arg of argv) {
        if (arg === "--json") flags.json = true;
        else if (arg === "--quick") flags.quick = true;
        else if (arg === "--with-tests") flags.withTests = true;
        else return `bench: unknown option ${JSON.stringify(arg)} (options: --json, --quick, --with-tests)`;
    }
    if (flags.quick && flags.withTests) return "bench: --quick and --with-tests cannot go together";
    return flags;
}

export interface SlotPair {
    containSlots: Record<string, number | null>;
    isolateSlots: Record<string, number | null>;
    /** Modelled milliseconds to the first change and to complete isolation (scripts/lib/bench/latency.ts). */
    containMs: ColdWarm;
    isolateMs: ColdWarm;
}

/** Goal of issue 15: the first containment change within 1 s of execution start, every function cold. */
export const CONTAIN_COLD_TARGET_MS = 1000;

/** How the milliseconds were modelled (BENCHMARKS.md shows it). */
export interface LatencyReport {
    /** The ENI count of the runs priced. */
    enis: number;
    assumptions: LatencyAssumptions;
    /** Per function: environment + runtime + its module load at its deployed memory's CPU share. */
    coldStartMs: Record<string, number>;
    memoryMb: Record<string, number>;
    /** The states our design enters up to the first change. */
    containPath: string[];
    containCold: PathCost["parts"] | null;
    isolateCold: PathCost["parts"] | null;
    /** Options weighed for the first change, priced on the same path (scripts/bench.ts containOptions). */
    options: { option: string; cold: number; warm: number }[];
}

export interface BenchResult {
    machine: string;
    date: string;
    quick: boolean;
    latencyMs: number;
    containSlots: Record<string, number | null>;
    isolateSlots: Record<string, number | null>;
    containMs: ColdWarm;
    isolateMs: ColdWarm;
    latency: LatencyReport;
    baselines: Record<"sequential" | "memory-first", SlotPair & { evidenceSeconds: number }>;
    evidence: { snapshotDurationSeconds: number; memoryDurationSeconds: number; snapshotPollSeconds: number; memoryPollSeconds: number; branchSeconds: { disk: number; memory: number; metadata: number }; parallelSeconds: number; sequentialSeconds: number; sameEvidence: boolean; notSucceeded: string[] };
    evidenceParallelRatio: number;
    suspectDiskBytes: number;
    capture: { imageBytes: number; uploadedBytes: number; diskFiles: string[] };
    /** The memory function's verification at simulated image sizes (scripts/lib/bench/memoryVerify.ts). */
    memoryVerify: MemoryVerifyRow[];
    /** Disk content digests at simulated sizes (scripts/lib/bench/diskDigest.ts): measured, and modelled at the EBS direct APIs quotas. */
    diskDigest: DiskDigestRow[];
    policyResourcesPerSecond: Record<string, number>;
    policyEmptyResourcesPerSecond: Record<string, number>;
    policyRatios: Record<string, number>;
    policyOverheadRatio: number;
    /** Each pair's ratio at the largest size (policyOverheadRatio is their median). */
    policyRatioSamples: number[];
    analyzeStackSeconds: number;
    analyzeStackResources: number;
    packStartSeconds: number;
    emptyPackStartSeconds: number;
    programSeconds: Record<string, number>;
    programResources: Record<string, number>;
    /** An organization of A member accounts x 4 regions split into stacks, previewed under mocks (scripts/lib/bench/organization.ts). */
    organization: OrganizationBench;
    lambdaBundleBytes: Record<string, number>;
    lambdaInitMs: Record<string, number>;
    testSuiteSeconds: number | null;
    /** Why `npm test` failed ("exit 1", "signal SIGKILL"); null when it passed or did not run. */
    testSuiteFailure: string | null;
    seconds: number;
}

/** Every key the `--json` object must carry (the issue's contract). */
export const REQUIRED_KEYS = [
    "containSlots", "isolateSlots", "containMs", "isolateMs", "baselines", "evidenceParallelRatio", "suspectDiskBytes", "policyResourcesPerSecond",
    "policyOverheadRatio", "analyzeStackSeconds", "packStartSeconds", "programSeconds", "lambdaBundleBytes", "lambdaInitMs",
    "testSuiteSeconds", "machine", "memoryVerify", "diskDigest", "organization",
] as const;

/**
 * What is wrong with a result (missing keys, wrong types, impossible values): the suite refuses to report one
 * (exit 1), so CI's `--quick` run fails when a measurement breaks. Pure.
 */
export function resultProblems(out: Record<string, any>): string[] {
    const problems: string[] = [];
    for (const key of REQUIRED_KEYS) if (!(key in out)) problems.push(`missing ${key}`);
    if (problems.length > 0) return problems;
    const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
    for (const n of ENI_COUNTS.map(String)) {
        if (!num(out.containSlots[n]) || !num(out.isolateSlots[n])) problems.push(`no contain/isolate slot at ${n} ENIs`);
        for (const b of ["sequential", "memory-first"]) if (!num(out.baselines?.[b]?.isolateSlots?.[n])) problems.push(`no ${b} baseline slot at ${n} ENIs`);
    }
    const coldWarmOk = (v: any) => num(v?.cold) && num(v?.warm) && v.warm > 0 && v.cold >= v.warm;
    for (const key of ["containMs", "isolateMs"]) {
        if (!coldWarmOk(out[key])) problems.push(`${key} is not { cold, warm } with cold >= warm > 0`);
        for (const b of ["sequential", "memory-first"]) if (!coldWarmOk(out.baselines?.[b]?.[key])) problems.push(`no ${b} baseline ${key}`);
    }
    if (!(out.evidenceParallelRatio > 0 && out.evidenceParallelRatio <= 1)) problems.push(`evidenceParallelRatio ${out.evidenceParallelRatio} is not in (0, 1]`);
    const notSucceeded: unknown[] = Array.isArray(out.evidence?.notSucceeded) ? out.evidence.notSucceeded : [];
    for (const run of notSucceeded) problems.push(`drill run not SUCCEEDED: ${run}`);
    if (out.evidence?.sameEvidence !== true) problems.push("the drill designs did not seal the same evidence");
    if (out.suspectDiskBytes !== 0) problems.push(`suspectDiskBytes is ${out.suspectDiskBytes}, not 0`);
    // 0 bytes on the suspect's disk means nothing only if the image was captured: every byte must have been uploaded.
    const capture = out.capture ?? {};
    if (!(num(capture.imageBytes) && capture.imageBytes > 0 && capture.uploadedBytes === capture.imageBytes)) {
        problems.push(`the capture uploaded ${capture.uploadedBytes} of ${capture.imageBytes} image bytes`);
    }
    const verify: unknown[] = Array.isArray(out.memoryVerify) ? out.memoryVerify : [];
    if (verify.length === 0) problems.push("no memory verification time");
    for (const row of verify as Record<string, unknown>[]) {
        if (!(num(row.seconds) && (row.seconds as number) >= 0 && num(row.parts) && (row.parts as number) > 0 && num(row.attributeCalls) && (row.attributeCalls as number) > 0)) {
            problems.push(`memory verification at ${String(row.gib)} GiB not measured`);
        }
    }
    const digests: unknown[] = Array.isArray(out.diskDigest) ? out.diskDigest : [];
    if (digests.length === 0) problems.push("no disk digest time");
    for (const row of digests as Record<string, any>[]) {
        if (!(num(row.seconds) && num(row.writtenBlocks) && row.writtenBlocks > 0 && row.getCalls === row.writtenBlocks && num(row.modelled?.seconds) && row.modelled.seconds > 0)) {
            problems.push(`disk digest at ${String(row.gib)} GiB not measured`);
        }
    }
    if (!(Object.values(out.policyResourcesPerSecond ?? {}) as unknown[]).every((v) => num(v) && (v as number) > 0) || Object.keys(out.policyResourcesPerSecond).length === 0) problems.push("no policy throughput");
    if (!(out.policyOverheadRatio > 0)) problems.push("no policyOverheadRatio");
    if (!(out.analyzeStackSeconds >= 0) || !(out.packStartSeconds > 0)) problems.push("no AnalyzeStack or pack start-up time");
    if (!(Object.values(out.programSeconds ?? {}) as unknown[]).every((v) => num(v) && (v as number) > 0) || Object.keys(out.programSeconds).length === 0) problems.push("no program time");
    const orgRows: unknown[] = Array.isArray(out.organization?.rows) ? out.organization.rows : [];
    if (orgRows.length === 0) problems.push("no organization plan");
    for (const row of orgRows as Record<string, any>[]) {
        if (!(num(row.wallSeconds) && row.wallSeconds > 0 && num(row.cpuSeconds) && row.cpuSeconds > 0 && num(row.maxRssMiB) && row.maxRssMiB > 0 && num(row.resources) && row.resources > 0 && row.stacks > 0)) {
            problems.push(`organization plan of ${String(row.accounts)} accounts not measured`);
        }
    }
    if (Object.keys(out.lambdaBundleBytes).length !== FUNCTION_NAMES.length) problems.push(`${Object.keys(out.lambdaBundleBytes).length} Lambda bundles, not ${FUNCTION_NAMES.length}`);
    else for (const f of FUNCTION_NAMES) if (!(f in out.lambdaBundleBytes)) problems.push(`no Lambda bundle for ${f}`);
    for (const f of Object.keys(out.lambdaBundleBytes)) if (!(out.lambdaBundleBytes[f] > 0 && out.lambdaInitMs?.[f] > 0)) problems.push(`no bundle size or init time for ${f}`);
    if (out.testSuiteSeconds !== null && !num(out.testSuiteSeconds)) problems.push("testSuiteSeconds is neither a time nor null");
    if (typeof out.machine !== "string" || out.machine === "") problems.push("no machine");
    return problems;
}

export interface Target {
    what: string;
    target: string;
    measured: string;
    /** null: not measured in this run. */
    pass: boolean | null;
}

const flat = (slots: Record<string, number | null>) => {
    const values = Object.values(slots);
    return values.length > 0 && values.every((v) => v !== null && v === values[0]);
};

export function targets(r: BenchResult): Target[] {
    const out: Target[] = [
        { what: "contain slots flat as ENIs grow", target: `same slot at ${ENI_COUNTS.join(", ")} ENIs`, measured: Object.entries(r.containSlots).map(([k, v]) => `${k}: ${v}`).join(", "), pass: flat(r.containSlots) },
        { what: "isolate slots flat as ENIs grow", target: `same slot at ${ENI_COUNTS.join(", ")} ENIs`, measured: Object.entries(r.isolateSlots).map(([k, v]) => `${k}: ${v}`).join(", "), pass: flat(r.isolateSlots) },
        { what: "first containment change from execution start, every function cold (modelled)", target: `< ${CONTAIN_COLD_TARGET_MS} ms`, measured: `${r.containMs.cold} ms (warm ${r.containMs.warm} ms)`, pass: r.containMs.cold < CONTAIN_COLD_TARGET_MS },
        { what: "evidence wall time, parallel / sequential", target: "< 1", measured: String(r.evidenceParallelRatio), pass: r.evidenceParallelRatio < 1 },
        { what: "bytes written to the suspect's disk", target: "0", measured: String(r.suspectDiskBytes), pass: r.suspectDiskBytes === 0 },
        { what: "policy throughput, our pack / no-policy pack", target: ">= 0.80", measured: String(r.policyOverheadRatio), pass: r.policyOverheadRatio >= 0.8 },
        // The target is at 5,000 resources: a smaller run (--quick) does not pass or miss it.
        r.analyzeStackResources >= 5000
            ? { what: `AnalyzeStack of ${r.analyzeStackResources} resources`, target: "< 2 s", measured: `${r.analyzeStackSeconds} s`, pass: r.analyzeStackSeconds < 2 }
            : { what: `AnalyzeStack of ${r.analyzeStackResources} resources`, target: "< 2 s (at 5,000)", measured: `${r.analyzeStackSeconds} s (not measured at 5,000)`, pass: null },
        { what: "pack start-up to port", target: "<= 1.5 s", measured: `${r.packStartSeconds} s`, pass: r.packStartSeconds <= 1.5 },
    ];
    const largest = r.memoryVerify[r.memoryVerify.length - 1];
    out.push(
        largest
            ? { what: `memory verification of a ${largest.gib} GiB image (function timeout 300 s)`, target: "< 1 s", measured: `${largest.seconds} s, ${largest.attributeCalls} GetObjectAttributes calls`, pass: largest.seconds < 1 }
            : { what: "memory verification", target: "< 1 s", measured: "not measured", pass: null },
    );
    const at100 = r.programSeconds["100"];
    out.push({ what: "program at 100 member-regions", target: "< 20 s", measured: at100 === undefined ? "not measured" : `${at100} s`, pass: at100 === undefined ? null : at100 < 20 });
    const org = r.organization;
    const largestOrg = org.rows[org.rows.length - 1];
    out.push({
        what: "organization plan under mocks grows linearly (CPU seconds per account, largest vs smallest size)",
        target: "within 25%",
        measured: org.growth === null ? `one size only (${largestOrg?.accounts ?? 0} accounts)` : `x${org.growth.cpu} CPU, x${org.growth.wall} wall (${org.rows[0].accounts} -> ${largestOrg.accounts} accounts)`,
        pass: org.linear,
    });
    out.push({
        what: "`npm test` wall time",
        target: "< 90 s on 2 cores",
        measured: r.testSuiteSeconds === null ? "not measured in this run (`--with-tests`)" : r.testSuiteFailure ? `${r.testSuiteSeconds} s, but the suite FAILED (${r.testSuiteFailure})` : `${r.testSuiteSeconds} s`,
        // A failed suite is a miss however fast it failed (a typecheck error exits in seconds).
        pass: r.testSuiteSeconds === null ? null : !r.testSuiteFailure && r.testSuiteSeconds < 90,
    });
    return out;
}

const mark = (pass: boolean | null) => (pass === null ? "— not measured" : pass ? "✅ pass" : "❌ miss");
const cell = (v: number | null | undefined) => (v === null || v === undefined ? "—" : String(v));

/** "Time to contain in milliseconds": the modelled figures, how they are made, and every assumption. */
export function latencySection(r: BenchResult): string[] {
    const l = r.latency;
    const a = l.assumptions;
    const ms = (v: ColdWarm) => `${v.cold} | ${v.warm}`;
    const parts = (p: PathCost["parts"] | null) => (p ? `transitions ${p.transitions}, invokes ${p.invokes}, cold starts ${p.coldStarts}, AWS calls ${p.calls}, waits ${p.waits}` : "—");
    return [
        "## Time to contain in milliseconds (modelled)",
        "",
        `Each design's drill run at ${l.enis} ENIs, priced (\`scripts/lib/bench/latency.ts\`): every state entered before the change`,
        "costs a state transition, every Lambda Task an invoke; cold, each function on the way first starts an execution",
        "environment (runtime, then its module load as measured below divided by its memory's CPU share, 1,769 MB = one",
        "vCPU) and opens its first connection if it calls AWS; every call slot costs one AWS call; Wait states their",
        "simulated seconds; a Parallel state its slowest branch. Warm = no cold start. The Start state runs Triage beside",
        "warm-up invocations of OpenCase and Contain (core/definition.ts WARM_TASKS): cold, their environments start while",
        "Triage decides, and the path meets them started (each still opens its first connection). Memory-first waits for",
        "the memory capture before containing.",
        "",
        "| design | first change, cold ms | warm ms | isolated, cold ms | warm ms |",
        "|---|---|---|---|---|",
        `| **parallel** (this project) | ${ms(r.containMs)} | ${ms(r.isolateMs)} |`,
        `| sequential | ${ms(r.baselines.sequential.containMs)} | ${ms(r.baselines.sequential.isolateMs)} |`,
        `| memory-first | ${ms(r.baselines["memory-first"].containMs)} | ${ms(r.baselines["memory-first"].isolateMs)} |`,
        "",
        `Our path to the first change: ${l.containPath.join(" → ")}. Cold, to the first change: ${parts(l.containCold)}; to isolation: ${parts(l.isolateCold)} (ms).`,
        "",
        "Options for the first change, priced on the same path:",
        "",
        "| option | first change, cold ms | warm ms |",
        "|---|---|---|",
        ...l.options.map((o) => `| ${o.option} | ${o.cold} | ${o.warm} |`),
        "",
        "| function | memory MB | cold start ms (runtime + module load at its CPU share) |",
        "|---|---|---|",
        ...Object.keys(l.coldStartMs).map((f) => `| ${f} | ${cell(l.memoryMb[f])} | ${l.coldStartMs[f]} |`),
        "",
        "Sources and assumptions (AWS publishes the phases, not these durations; each assumed figure is marked):",
        "",
        "- Cold start phases: Lambda Developer Guide, \"Understanding the Lambda execution environment lifecycle\"",
        "  (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): Init runs the extensions, the",
        "  runtime and the function's static code; an idle environment is reused by the next invocation (warm).",
        "- **Assumed**: OpenCase's and Contain's invocations are served by the idle environments their warm-ups left",
        "  (Lambda reuses idle environments but does not say which environment serves an invocation, nor for how long an",
        "  idle one is kept). Where Lambda starts another environment instead, that function starts cold: the first change",
        "  then costs up to the \"without the warm-ups\" row below.",
        "- CPU in proportion to memory, one vCPU at 1,769 MB: Lambda Developer Guide, \"Configure Lambda function memory\"",
        "  (core/lambda.ts `LAMBDA_MB_PER_VCPU`). The module load is scaled by it, the conservative reading: AWS's",
        "  Serverless Land guide \"Effectively running Java on Serverless\" says on-demand functions get a full vCPU during",
        "  Init (https://serverlessland.com/content/service/lambda/guides/effectively-running-java-on-serverless/init-heavy-lifting),",
        "  the Developer Guide does not. At 1,769 MB (the functions on the path to the first change) both readings agree.",
        `- **Assumed** ${a.runtimeInitMs} ms for a new environment and the nodejs22.x runtime before our code loads (AWS`,
        "  documents the phases, not their durations; public hello-world Node.js measurements report 100-250 ms of Init).",
        `- **Assumed** ${a.stateTransitionMs} ms per Step Functions state transition and ${a.invokeMs} ms per Lambda invoke round trip`,
        "  (Standard workflows: AWS publishes no latency figure).",
        `- **Assumed** ${a.perCallMs} ms per AWS API call (the drill's per-call latency; AWS publishes none) and ${a.coldConnectMs} ms`,
        "  for a cold function's first connection (TCP + TLS to the regional endpoint).",
        "- Module load: measured on this machine (below, \"Lambda bundles\"), taken as one Lambda vCPU's speed.",
        "",
    ];
}

export function renderMarkdown(r: BenchResult): string {
    const lines: string[] = [];
    const push = (...l: string[]) => lines.push(...l);
    const enis = Object.keys(r.containSlots);
    push(
        "# Benchmarks",
        "",
        `Generated by \`npm run bench\` (do not edit by hand) on ${r.date}.`,
        "",
        `Machine: ${r.machine}. Whole run: ${r.seconds} s.`,
        "",
        "## Targets",
        "",
        "| figure | target | measured | |",
        "|---|---|---|---|",
        ...targets(r).map((t) => `| ${t.what} | ${t.target} | ${t.measured} | ${mark(t.pass)} |`),
        "",
        "## Time to contain (drill, call slots)",
        "",
        `The offline drill (\`drill/run.ts\`: the real handlers, the simulated account) with ${r.latencyMs} ms per AWS call. A call slot is one`,
        "round of concurrent AWS calls from execution start (`callSlots`); \"contain\" is the slot of the first change to the",
        "instance, \"isolated\" the slot in which the last interface went into the isolation group. Each baseline is a state",
        "machine of its own built from the same states (`scripts/lib/bench/baselines.ts`), run against the same handlers.",
        "",
        `| design | ${enis.map((n) => `contain @ ${n} ENI`).join(" | ")} | ${enis.map((n) => `isolated @ ${n} ENI`).join(" | ")} |`,
        `|---|${enis.map(() => "---").join("|")}|${enis.map(() => "---").join("|")}|`,
    );
    const rows: [DesignName, SlotPair][] = [["parallel", { containSlots: r.containSlots, isolateSlots: r.isolateSlots, containMs: r.containMs, isolateMs: r.isolateMs }], ["sequential", r.baselines.sequential], ["memory-first", r.baselines["memory-first"]]];
    // The sequential baseline rewrites the definition from Evidence on only: up to isolation it IS ours.
    const note: Partial<Record<DesignName, string>> = { sequential: "; containment identical to ours by construction" };
    for (const [design, s] of rows) {
        push(`| **${design}** (${(DESIGN_DESCRIPTIONS[design] + (note[design] ?? "")).replace(/\|/g, "\\|")}) | ${enis.map((n) => cell(s.containSlots[n])).join(" | ")} | ${enis.map((n) => cell(s.isolateSlots[n])).join(" | ")} |`);
    }
    const ratioRow = (name: "sequential" | "memory-first") => {
        const n = enis[enis.length - 1];
        const ours = r.isolateSlots[n];
        const theirs = r.baselines[name].isolateSlots[n];
        const by = name === "sequential" ? ", identical by construction: it differs from ours only from Evidence on" : "";
        return ours && theirs ? `${name}: isolated in slot ${theirs} vs ${ours} (${(theirs / ours).toFixed(2)}x ours${by})` : `${name}: —`;
    };
    push("", `Against the baselines at ${enis[enis.length - 1]} ENIs: ${ratioRow("sequential")}; ${ratioRow("memory-first")}.`, "");
    push(...latencySection(r));
    const e = r.evidence;
    push(
        "## Evidence wall time (simulated)",
        "",
        `Simulated snapshot completion ${e.snapshotDurationSeconds} s, memory capture ${e.memoryDurationSeconds} s; polls from every ${e.snapshotPollSeconds} s (disk) and ${e.memoryPollSeconds} s (memory), backing off with the step's age (core/polling.ts).`,
        "The drill skips Wait states and advances one simulator clock shared by every branch. Each design's evidence wall",
        "time is its own run's simulated clock total (parallel loops wait together; in series each wait counts alone);",
        "each branch's duration below is what its own loop waited where it runs alone (the sequential baseline's run).",
        "Every design sealed the same evidence: " + (e.sameEvidence ? "yes" : "**no**") + ".",
        "",
        "| branch | simulated seconds |",
        "|---|---|",
        `| disk (snapshots) | ${e.branchSeconds.disk} |`,
        `| memory | ${e.branchSeconds.memory} |`,
        `| metadata | ${e.branchSeconds.metadata} |`,
        "",
        "| design | evidence wall time (s) | vs parallel |",
        "|---|---|---|",
        `| parallel (ours) | ${e.parallelSeconds} | 1 |`,
        `| sequential | ${e.sequentialSeconds} | ${(e.sequentialSeconds / (e.parallelSeconds || 1)).toFixed(2)}x |`,
        `| memory-first | ${r.baselines["memory-first"].evidenceSeconds} | ${(r.baselines["memory-first"].evidenceSeconds / (e.parallelSeconds || 1)).toFixed(2)}x |`,
        "",
        `Ratio parallel / sequential: **${r.evidenceParallelRatio}**.`,
        "",
        "## Bytes written to the suspect's disk",
        "",
        "`functions/memory/capture.sh` with a stand-in avml and `aws`; HOME, TMPDIR and the working directory inside a",
        "\"suspect disk\" directory, the RAM dir elsewhere; files created or grown under the disk directory counted.",
        "",
        "| image bytes | uploaded bytes | bytes on the suspect's disk | files |",
        "|---|---|---|---|",
        `| ${r.capture.imageBytes} | ${r.capture.uploadedBytes} | ${r.suspectDiskBytes} | ${r.capture.diskFiles.length === 0 ? "none" : r.capture.diskFiles.join(", ")} |`,
        "",
        "## Memory verification at any size",
        "",
        "`verifyCapture` (the memory function's check once the capture command succeeded) against a simulated bucket holding",
        "an image of each size as its upload's parts (capture.sh's part size for that much RAM, SHA-256 part checksums) and",
        "its sidecar (`scripts/lib/bench/memoryVerify.ts`): it reads the sidecar and S3's part checksums, never the image.",
        "Median of 3; throughput is simulated image GiB verified per second. Before, the function re-hashed the image",
        "in its 512 MB / 300 s run (~0.3-0.4 GB/s here at its CPU share): ~100 GB at most, never 256 GiB.",
        "",
        "| image | part size | parts | GetObjectAttributes calls | seconds | GiB/s |",
        "|---|---|---|---|---|---|",
        ...r.memoryVerify.map((v) => `| ${v.gib} GiB | ${v.partSize / 2 ** 20} MiB | ${v.parts} | ${v.attributeCalls} | ${v.seconds} | ${v.gibPerSecond} |`),
        "",
        "## Disk content digests at any size",
        "",
        "The digest function's chunk reading (`digestChunk`: ListSnapshotBlocks, GetSnapshotBlock per written block with its",
        "checksum checked, the chunk digest) over every 8 GiB chunk of one simulated snapshot of each size, against the",
        "simulator's EBS direct APIs over real block bytes (sparse: one block in 2,048 written), then combined",
        "(`scripts/lib/bench/diskDigest.ts`). Measured: this machine, in process, no network. Modelled: a FULLY written disk",
        "in AWS at the EBS direct APIs quotas as assumed (GetSnapshotBlock 1,000/s per snapshot, 5,000/s per account;",
        "ListSnapshotBlocks 50/s per account; docs/limitations.md) with the Map's 10 children x 8 reads in flight at an",
        "assumed 100 ms a read. The per-block figures should stay flat whatever the size. Measured, each chunk also costs",
        "a fixed part whatever it holds (listing its 16,384 block indexes, combining their digests): on a sparse disk that",
        "part shows in the time per written block, which is why the one-chunk 8 GiB row reads lower; per block of the",
        "volume (written or not) is the figure to compare across sizes.",
        "",
        "| volume | chunks | written blocks | GetSnapshotBlock calls | measured s | ms / written block | µs / block of the volume | modelled s (fully written) | modelled s / GiB | modelled ms / block |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...r.diskDigest.map((d) => `| ${d.gib} GiB | ${d.chunks} | ${d.writtenBlocks} | ${d.getCalls} | ${d.seconds} | ${d.msPerWrittenBlock} | ${Math.round((d.seconds * 1e6 * 100) / d.blocks) / 100} | ${d.modelled.seconds} | ${d.modelled.secondsPerGiB} | ${d.modelled.msPerBlock} |`),
        "",
        "## Policy gate (Analyzer gRPC, the engine's sequence)",
        "",
        "Start, setup RPCs, Remediate + Analyze per resource (16 in flight), one AnalyzeStack; resources/second over the",
        "per-resource phase plus AnalyzeStack. Resources: copies of the dev stack's (`stack:resources --stack dev`), renamed,",
        "Lambda code stripped. Beside it, the same harness driving a pack with no policies (`scripts/lib/bench/empty-pack`).",
        "The two packs run back to back, who goes first alternating from one size to the next; at the largest size two",
        "pairs, interleaved (no-policy, ours, ours, no-policy), each throughput the median of its runs and the ratio the",
        `median of the pairs' ratios (${r.policyRatioSamples.join(", ")}). The ratio varies between runs on a shared machine`,
        "(the same size measured back to back can differ by a few tenths): read it as a range, not a figure to the third digit.",
        "",
        "| resources | our pack (res/s) | no-policy pack (res/s) | ratio |",
        "|---|---|---|---|",
        ...Object.keys(r.policyResourcesPerSecond).map((n) => `| ${n} | ${r.policyResourcesPerSecond[n]} | ${r.policyEmptyResourcesPerSecond[n]} | ${r.policyRatios[n]} |`),
        "",
        `AnalyzeStack of ${r.analyzeStackResources} resources: ${r.analyzeStackSeconds} s. Pack start-up to port (median of 3; 1 with --quick): ours ${r.packStartSeconds} s, no-policy pack ${r.emptyPackStartSeconds} s.`,
        "",
        "## Program scale under mocks",
        "",
        "`scripts/bench-program.ts --json`: the real program under the project's Pulumi mocks, one process per size.",
        "",
        "| member-regions | resources | seconds |",
        "|---|---|---|",
        ...Object.keys(r.programSeconds).map((n) => `| ${n} | ${cell(r.programResources[n])} | ${r.programSeconds[n]} |`),
        "",
        ...organizationSection(r.organization),
        "## Lambda bundles",
        "",
        "`bundleHandler` (esbuild, as deployed); cold init = `require` of the bundle in a fresh node process (median of 3).",
        "",
        "| function | bundle bytes | init ms |",
        "|---|---|---|",
        ...Object.keys(r.lambdaBundleBytes).map((f) => `| ${f} | ${r.lambdaBundleBytes[f]} | ${r.lambdaInitMs[f]} |`),
        "",
        "## Test suite",
        "",
        r.testSuiteSeconds === null
            ? "Not measured in this run: `npm test` takes minutes; run `npm run bench -- --with-tests` to time it (target < 90 s on 2 cores)."
            : r.testSuiteFailure
              ? `\`npm test\` **FAILED** (${r.testSuiteFailure}) after ${r.testSuiteSeconds} s: the suite did not pass, so its time is not a pass (target < 90 s on 2 cores).`
              : `\`npm test\`: ${r.testSuiteSeconds} s (target < 90 s on 2 cores).`,
        "",
    );
    return lines.join("\n");
}


/** "An organization of any size": the plan of A member accounts under mocks, split into stacks. */
export function organizationSection(o: OrganizationBench): string[] {
    const growth = o.growth === null
        ? "One size only: growth not judged."
        : `Per-account time, largest size / smallest: CPU x${o.growth.cpu}, wall x${o.growth.wall}: ${o.linear ? "**linear**" : "**not linear**"} (judged on CPU seconds, within 25%; wall time moves with whatever else the machine runs). ` +
          `The stacks are alike (${o.accountsPerStack} accounts each) and independent, so this shows the organization's cost is the number of stacks times one stack's, ` +
          "with no cost across stacks (processes, the driver, the checks across stacks); how one stack grows with its member-regions is the program row above.";
    return [
        "## An organization of any size (plan under mocks)",
        "",
        `A member accounts, each in ${o.regions.length} hub regions (${o.regions.join(", ")}) with \`vpcs: all\` (the mocks answer two VPCs`,
        `per account and region); hub 111111111111, GuardDuty delegated administrator; split into stacks of at most ${o.accountsPerStack}`,
        "accounts, each with its `dfir:shard` and `dfir:memberAccess: true` (`organization.configure` in the first only). The stack files are previewed by",
        `\`npm run stacks -- preview --mock\`'s runner (\`scripts/lib/bench/organization.ts\`): the real program under the mocks, one`,
        `process per stack, ${o.concurrency} at a time. CPU = user + system seconds of every stack's process; peak RSS = the largest`,
        "one stack's process reached.",
        "",
        "| accounts | member-regions | stacks | resources | wall s | CPU s | peak RSS MiB (one stack) | wall s / account | CPU s / account | resources / account |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ...o.rows.map((w) => `| ${w.accounts} | ${w.memberRegions} | ${w.stacks} | ${w.resources} | ${w.wallSeconds} | ${w.cpuSeconds} | ${w.maxRssMiB} | ${w.wallSecondsPerAccount} | ${w.cpuSecondsPerAccount} | ${w.resourcesPerAccount} |`),
        "",
        growth,
        "",
    ];
}
