/**
 * The policy gate through the gRPC path (scripts/lib/analyzer, the engine's full sequence: start, setup RPCs,
 * Remediate + Analyze per resource, one AnalyzeStack), with the real pack (policy/) and with a pack that has no
 * policies (./empty-pack: the protocol's own ceiling), on N resources synthesized from the dev stack's own
 * (`stack:resources --stack dev`): copies renamed (names, URNs and every reference to them), Lambda code stripped.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { policyCheck } from "../../policy-check";
import { resolvePack, startPack } from "../analyzer/pack";
import { TS_REGISTER } from "../tsRegister";

const REPO = path.resolve(__dirname, "..", "..", "..");
export const REAL_PACK = path.join(REPO, "policy");
export const EMPTY_PACK = path.join(__dirname, "empty-pack");

interface RawResource {
    type: string;
    name: string;
    urn: string;
    parent?: string;
    props: Record<string, unknown>;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    provider?: string;
}

/** The dev stack's resources, as `npm run -s stack:resources -- --stack dev` prints them. */
export function devStackResources(): RawResource[] {
    const child = spawnSync(process.execPath, ["-r", TS_REGISTER, path.join(REPO, "scripts", "stack-resources.ts"), "--stack", "dev"], {
        cwd: REPO,
        encoding: "utf8",
        maxBuffer: 1 << 28,
    });
    if (child.status !== 0) throw new Error(`stack:resources --stack dev failed: ${(child.stderr || "").trim().split("\n").slice(-2).join(" ")}`);
    return JSON.parse(child.stdout) as RawResource[];
}

const isShared = (r: RawResource) => r.type === "pulumi:pulumi:Stack" || r.type.startsWith("pulumi:providers:");

/** A Lambda's inlined bundle replaced by a stub (the policies do not read it; marshalling it would dominate). */
function stripCode(props: Record<string, unknown>): Record<string, unknown> {
    const code = props.code as { assets?: Record<string, { text?: string }> } | undefined;
    if (!code?.assets) return props;
    const assets = Object.fromEntries(Object.entries(code.assets).map(([name, asset]) => [name, asset && typeof asset.text === "string" ? { ...asset, text: "exports.handler=async()=>{};" } : asset]));
    return { ...props, code: { ...code, assets } };
}

/**
 * `n` resources: the stack and its providers once, then the dev stack's other resources copied as often as needed
 * (copy k > 0 renamed `<name>-b<k>`, URNs and references with it), cut at n.
 */
export function synthesizeResources(base: RawResource[], n: number): RawResource[] {
    const shared = base.filter(isShared);
    const own = base.filter((r) => !isShared(r)).map((r) => ({ ...r, props: stripCode(r.props) }));
    if (own.length === 0) throw new Error("bench: the dev stack has no resources to copy");
    const out: RawResource[] = shared.slice(0, n);
    for (let k = 0; out.length < n; k++) {
        const rename = new Map<string, string>();
        if (k > 0) for (const r of own) rename.set(r.urn, `${r.urn}-b${k}`);
        const ref = (urn: string | undefined) => (urn === undefined ? undefined : rename.get(urn) ?? urn);
        for (const r of own) {
            if (out.length >= n) break;
            out.push({
                ...r,
                name: k > 0 ? `${r.name}-b${k}` : r.name,
                urn: ref(r.urn) as string,
                ...(r.parent !== undefined ? { parent: ref(r.parent) } : {}),
                ...(r.provider !== undefined ? { provider: ref(r.provider) } : {}),
                dependencies: (r.dependencies ?? []).map((d) => ref(d) as string),
                propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([key, urns]) => [key, urns.map((u) => ref(u) as string)])),
            });
        }
    }
    return out;
}

export interface GateRun {
    pack: "real" | "empty";
    resources: number;
    policies: number;
    violations: number;
    /** Remediate + Analyze of every resource, then AnalyzeStack (building the request and the call). */
    gateSeconds: number;
    resourcesPerSecond: number;
    analyzeStackSeconds: number;
    startupSeconds: number;
}

/** One full check of `resources` with one pack (stack facts: dev). */
export async function gateRun(pack: "real" | "empty", resources: RawResource[]): Promise<GateRun> {
    const [result] = await policyCheck({ packDir: pack === "real" ? REAL_PACK : EMPTY_PACK, resources: { raw: resources, source: `bench (${resources.length} resources)` }, stack: "dev" });
    const t = result.timings;
    const gateMs = t.resourcesMs + t.analyzeStackBuildMs + t.analyzeStackMs;
    return {
        pack,
        resources: result.resources,
        policies: result.policies.length,
        violations: result.violations.length,
        gateSeconds: round(gateMs / 1000, 3),
        resourcesPerSecond: Math.round((result.resources / gateMs) * 1000),
        analyzeStackSeconds: round(t.analyzeStackMs / 1000, 3),
        startupSeconds: round(t.startupMs / 1000, 3),
    };
}

/** Spawn to port, `times` times (median), for a pack; each process stopped at once. */
export async function packStartSeconds(pack: "real" | "empty", times = 3): Promise<{ median: number; samples: number[] }> {
    const resolved = resolvePack(pack === "real" ? REAL_PACK : EMPTY_PACK);
    const samples: number[] = [];
    for (let i = 0; i < times; i++) {
        const started = performance.now();
        const running = await startPack(resolved, { ...process.env }, 60_000);
        samples.push(round((performance.now() - started) / 1000, 3));
        await running.stop();
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)], samples };
}

export interface PolicyBench {
    sizes: number[];
    runs: GateRun[];
    resourcesPerSecond: Record<string, number>;
    emptyResourcesPerSecond: Record<string, number>;
    /**
     * Real / empty throughput, per size; `overheadRatio` is at the largest size: the median of `largestPairs`
     * pairs there (each pair's own ratio in `largestRatioSamples`), throughputs there the median of their runs.
     */
    ratios: Record<string, number>;
    overheadRatio: number;
    largestRatioSamples: number[];
    analyzeStackSeconds: number;
    analyzeStackResources: number;
    packStartSeconds: number;
    packStartSamples: number[];
    emptyPackStartSeconds: number;
}

/**
 * The order the two packs run in at each size: one pair per size, who goes first alternating from one size to the
 * next; at the largest size `largestPairs` pairs interleaved (empty, ours, ours, empty, ...), so neither pack always
 * enjoys a warmer (or pays for a busier) machine. Pure.
 */
export function runOrder(sizes: readonly number[], largestPairs = 2): { size: number; pack: "real" | "empty"; pair: number }[] {
    const largest = Math.max(...sizes);
    const out: { size: number; pack: "real" | "empty"; pair: number }[] = [];
    let emptyFirst = true;
    for (const size of sizes) {
        const pairs = size === largest ? Math.max(1, largestPairs) : 1;
        for (let pair = 0; pair < pairs; pair++) {
            for (const pack of emptyFirst ? (["empty", "real"] as const) : (["real", "empty"] as const)) out.push({ size, pack, pair });
            emptyFirst = !emptyFirst;
        }
    }
    return out;
}

export async function benchPolicy(sizes: number[], startSamples = 3, largestPairs = 2): Promise<PolicyBench> {
    const base = devStackResources();
    const runs: (GateRun & { pair: number })[] = [];
    let resources: RawResource[] = [];
    for (const step of runOrder(sizes, largestPairs)) {
        if (resources.length !== step.size) resources = synthesizeResources(base, step.size);
        runs.push({ ...(await gateRun(step.pack, resources)), pair: step.pair });
    }
    const at = (pack: "real" | "empty", n: string) => runs.filter((r) => r.pack === pack && String(r.resources) === n);
    const sizeKeys = [...new Set(runs.map((r) => String(r.resources)))];
    const of = (pack: "real" | "empty") => Object.fromEntries(sizeKeys.map((n) => [n, Math.round(median(at(pack, n).map((r) => r.resourcesPerSecond)))]));
    const real = of("real");
    const empty = of("empty");
    // Per size: the median of each pair's own ratio (ours and the no-policy pack measured back to back).
    const pairRatios = (n: string) => at("real", n).map((r) => r.resourcesPerSecond / (at("empty", n).find((e) => e.pair === r.pair) as GateRun).resourcesPerSecond);
    const ratios = Object.fromEntries(sizeKeys.map((n) => [n, round(median(pairRatios(n)), 3)]));
    const largest = String(Math.max(...sizes));
    const start = await packStartSeconds("real", startSamples);
    const emptyStart = await packStartSeconds("empty", startSamples);
    return {
        sizes,
        runs,
        resourcesPerSecond: real,
        emptyResourcesPerSecond: empty,
        ratios,
        overheadRatio: ratios[largest],
        largestRatioSamples: pairRatios(largest).map((v) => round(v, 3)),
        analyzeStackSeconds: round(median(at("real", largest).map((r) => r.analyzeStackSeconds)), 3),
        analyzeStackResources: Number(largest),
        packStartSeconds: start.median,
        packStartSamples: start.samples,
        emptyPackStartSeconds: emptyStart.median,
    };
}

/** The median (of an even count, the mean of the middle two). */
export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("bench: median of nothing");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(value: number, digits: number): number {
    const f = 10 ** digits;
    return Math.round(value * f) / f;
}
