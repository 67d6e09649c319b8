/**
 * One policy check of one stack, through the Analyzer gRPC protocol exactly as the engine drives a pack during
 * `pulumi preview --policy-pack DIR`:
 *
 *   start the pack (stack facts in its environment) -> Handshake (UNIMPLEMENTED tolerated) -> ConfigureStack ->
 *   GetPluginInfo -> GetAnalyzerInfo -> Configure (reconciled config: every policy with a level and properties)
 *   -> per resource Remediate then Analyze (inputs, with any remediation applied; at most `concurrency` resources
 *   in flight) -> one AnalyzeStack (every resource, with parent and dependencies) -> Cancel (UNIMPLEMENTED
 *   tolerated) -> stop the process.
 *
 * Phases are timed (start-up to port, setup RPCs, the per-resource phase with per-resource latencies,
 * AnalyzeStack) and returned for the benchmark suite.
 */
import { performance } from "node:perf_hooks";
import type * as GrpcJs from "@grpc/grpc-js";
import type * as AnalyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type * as StructPb from "google-protobuf/google/protobuf/struct_pb";
import { reconcileConfig, type ConfigLayer, type EnforcementLevel, type PolicyConfig, type PolicyInfo } from "./config";
import { loadProtos, resolvePack, startPack, type Protos, type RunningPack } from "./pack";
import { parseUrn, type Resource } from "./resources";
import { lastLine, packEnvironment, type StackContext } from "./stack";
import { marshalProperties, type Wire } from "./wire";

/** The check could not be completed (an RPC failed, the pack crashed): exit 1. */
export class CheckError extends Error {}

export interface Violation {
    policy: string;
    urn: string;
    name: string;
    type: string;
    enforcementLevel: EnforcementLevel;
    message: string;
    description: string;
    /** Which RPC reported it: a resource policy (analyze), a remediation's diagnostic (remediate), a stack policy. */
    phase: "analyze" | "remediate" | "stack";
}

export interface Remediation {
    policy: string;
    urn: string;
    name: string;
}

export interface LatencySummary {
    count: number;
    meanMs: number;
    p50Ms: number;
    p95Ms: number;
    maxMs: number;
}

export interface Timings {
    /** Spawn to the port on stdout. */
    startupMs: number;
    /** Connect, Handshake, ConfigureStack, GetPluginInfo, GetAnalyzerInfo, Configure. */
    setupMs: number;
    /** The whole Remediate + Analyze phase (wall clock). */
    resourcesMs: number;
    resourcesPerSecond: number;
    /** Remediate + Analyze latency of each resource. */
    perResource: LatencySummary;
    /** Building the AnalyzeStack request (marshalling every resource). */
    analyzeStackBuildMs: number;
    /** The AnalyzeStack call itself. */
    analyzeStackMs: number;
    /** Cancel and stopping the process. */
    shutdownMs: number;
    totalMs: number;
}

export interface CheckResult {
    stack: string;
    project: string;
    pack: { name: string; version: string; pluginVersion: string };
    policies: PolicyInfo[];
    /** What Configure sent. */
    config: Record<string, PolicyConfig>;
    resources: number;
    /** Resource violations in input order, then stack violations. */
    violations: Violation[];
    remediations: Remediation[];
    timings: Timings;
}

export interface CheckOptions {
    packDir: string;
    resources: Resource[];
    context: StackContext;
    /** The parsed `--config` file. */
    userConfig?: ConfigLayer;
    userConfigSource?: string;
    /** Resources in flight at once (default 16). */
    concurrency?: number;
    /** How long the pack may take to print its port (default 120 s: a TypeScript pack type-checks first). */
    startupTimeoutMs?: number;
    /** Base environment of the pack (default process.env). */
    env?: NodeJS.ProcessEnv;
    nodePath?: string;
}

/** grpc message limits as the engine and the pack set them. */
const MAX_MESSAGE_BYTES = 400 * 1024 * 1024;
const ENGINE_ADDRESS = "127.0.0.1:0";

function levelName(protos: Protos, level: number): EnforcementLevel {
    const E = protos.analyzer.EnforcementLevel;
    switch (level) {
        case E.ADVISORY:
            return "advisory";
        case E.MANDATORY:
            return "mandatory";
        case E.REMEDIATE:
            return "remediate";
        case E.DISABLED:
            return "disabled";
        default:
            throw new CheckError(`the pack sent an unknown enforcement level ${level}`);
    }
}

function levelValue(protos: Protos, level: EnforcementLevel): AnalyzerPb.EnforcementLevel {
    const E = protos.analyzer.EnforcementLevel;
    return { advisory: E.ADVISORY, mandatory: E.MANDATORY, remediate: E.REMEDIATE, disabled: E.DISABLED }[level];
}

function summarize(latencies: number[]): LatencySummary {
    if (latencies.length === 0) return { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, maxMs: 0 };
    const sorted = [...latencies].sort((a, b) => a - b);
    const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    const round = (ms: number) => Math.round(ms * 1000) / 1000;
    return {
        count: sorted.length,
        meanMs: round(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
        p50Ms: round(pick(0.5)),
        p95Ms: round(pick(0.95)),
        maxMs: round(sorted[sorted.length - 1]),
    };
}

const ms = (start: number) => Math.round((performance.now() - start) * 10) / 10;

/** A promise-returning wrapper over the generated client's unary methods. */
class Rpc {
    constructor(
        private readonly protos: Protos,
        private readonly client: GrpcJs.Client,
        private readonly pack: RunningPack,
    ) {}

    call<Res>(method: string, request: unknown, tolerateUnimplemented = false): Promise<Res | undefined> {
        const fn = (this.client as unknown as Record<string, Function>)[method];
        return new Promise((resolve, reject) => {
            fn.call(this.client, request, (error: GrpcJs.ServiceError | null, response: Res) => {
                if (!error) return resolve(response);
                if (tolerateUnimplemented && error.code === this.protos.grpc.status.UNIMPLEMENTED) return resolve(undefined);
                reject(this.failure(method, error));
            });
        });
    }

    private failure(method: string, error: GrpcJs.ServiceError): CheckError {
        const exit = this.pack.exit();
        if (exit) {
            const why = lastLine(this.pack.stderrTail()) ?? `exited with ${exit.signal ?? `code ${exit.code}`}`;
            return new CheckError(`${method}: the policy pack died: ${why}`);
        }
        // A policy that throws comes back as UNKNOWN with the stack in `details`: keep its first line or two.
        const details = (error.details || error.message).split("\n").map((line) => line.trim()).filter((line) => line !== "");
        return new CheckError(`${method} failed: ${details.slice(0, 2).join(" ")}`);
    }
}

/** Runs `tasks` with at most `limit` in flight; resolves when all have, rejects on the first failure. */
async function pool<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async () => {
        while (!failed && next < items.length) {
            const index = next++;
            try {
                await task(items[index], index);
            } catch (error) {
                failed = true;
                throw error;
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

export async function runCheck(options: CheckOptions): Promise<CheckResult> {
    const total = performance.now();
    const resolved = resolvePack(options.packDir);
    const protos = loadProtos(resolved.pulumiDir);
    const { analyzer: pb, Struct, Empty, grpc } = protos;
    const context = options.context;

    let started = performance.now();
    const pack = await startPack(resolved, packEnvironment(options.env ?? process.env, context), options.startupTimeoutMs ?? 120_000, options.nodePath);
    const startupMs = ms(started);

    const client = new protos.service.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    });
    const rpc = new Rpc(protos, client, pack);
    try {
        // ---- setup ----
        started = performance.now();
        await new Promise<void>((resolve, reject) =>
            client.waitForReady(Date.now() + 15_000, (error) => (error ? reject(new CheckError(`could not connect to the policy pack on port ${pack.port}: ${error.message}`)) : resolve())),
        );

        const handshake = new pb.AnalyzerHandshakeRequest();
        handshake.setEngineAddress(ENGINE_ADDRESS);
        handshake.setRootDirectory(resolved.dir);
        handshake.setProgramDirectory(resolved.dir);
        await rpc.call("handshake", handshake, true);

        const configureStack = new pb.AnalyzerStackConfigureRequest();
        configureStack.setStack(context.stack);
        configureStack.setProject(context.project);
        if (context.organization) configureStack.setOrganization(context.organization);
        configureStack.setDryRun(context.dryRun);
        for (const [key, value] of Object.entries(context.config)) configureStack.getConfigMap().set(key, value);
        configureStack.setConfigSecretKeysList(context.configSecretKeys);
        for (const [key, value] of Object.entries(context.tags)) configureStack.getTagsMap().set(key, value);
        await rpc.call("configureStack", configureStack, true);

        const pluginInfo = await rpc.call<{ getVersion(): string }>("getPluginInfo", new Empty());
        const info = (await rpc.call<AnalyzerPb.AnalyzerInfo>("getAnalyzerInfo", new Empty()))!;

        const policies: PolicyInfo[] = info.getPoliciesList().map((policy) => {
            const schema = info.getSupportsconfig() ? policy.getConfigschema() : undefined;
            const type = policy.getPolicyType();
            return {
                name: policy.getName(),
                description: policy.getDescription(),
                enforcementLevel: levelName(protos, policy.getEnforcementlevel()),
                type: type === pb.PolicyType.POLICY_TYPE_RESOURCE ? "resource" : type === pb.PolicyType.POLICY_TYPE_STACK ? "stack" : "unknown",
                ...(schema
                    ? { configSchema: { properties: (schema.getProperties()?.toJavaScript() ?? {}) as Record<string, Record<string, unknown>>, required: schema.getRequiredList() } }
                    : {}),
            };
        });
        const initial: ConfigLayer = {};
        info.getInitialconfigMap().forEach((entry: AnalyzerPb.PolicyConfig, name: string) => {
            // As the engine: every entry has a level (proto3's default ADVISORY when the pack set only properties).
            initial[name] = { enforcementLevel: levelName(protos, entry.getEnforcementlevel()), properties: (entry.getProperties()?.toJavaScript() ?? {}) as Record<string, unknown> };
        });
        const config = reconcileConfig(policies, initial, options.userConfig ?? {}, options.userConfigSource);

        if (policies.length > 0) {
            const configure = new pb.ConfigureAnalyzerRequest();
            for (const [name, entry] of Object.entries(config)) {
                const policyConfig = new pb.PolicyConfig();
                policyConfig.setEnforcementlevel(levelValue(protos, entry.enforcementLevel));
                policyConfig.setProperties(Struct.fromJavaScript(entry.properties as Record<string, never>));
                configure.getPolicyconfigMap().set(name, policyConfig);
            }
            await rpc.call("configure", configure);
        }
        const setupMs = ms(started);

        // ---- per resource: Remediate, then Analyze ----
        const resources = options.resources;
        const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
        const struct = (props: { [key: string]: Wire }, skipInternalKeys: boolean) =>
            Struct.fromJavaScript(marshalProperties(props, { skipInternalKeys }) as Record<string, never>);
        const providerOf = (resource: Resource): AnalyzerPb.AnalyzerProviderResource | undefined => {
            if (!resource.provider) return undefined;
            const known = byUrn.get(resource.provider);
            const parsed = parseUrn(resource.provider);
            const provider = new pb.AnalyzerProviderResource();
            provider.setUrn(resource.provider);
            provider.setType(known?.type ?? parsed?.type ?? "");
            provider.setName(parsed?.name ?? known?.name ?? "");
            provider.setProperties(struct(known?.props ?? {}, true));
            return provider;
        };
        const optionsOf = (resource: Resource): AnalyzerPb.AnalyzerResourceOptions => {
            const o = resource.options;
            const out = new pb.AnalyzerResourceOptions();
            out.setProtect(o.protect);
            out.setIgnorechangesList(o.ignoreChanges);
            out.setDeletebeforereplace(o.deleteBeforeReplace ?? false);
            out.setDeletebeforereplacedefined(o.deleteBeforeReplace !== undefined);
            out.setAdditionalsecretoutputsList(o.additionalSecretOutputs);
            out.setAliasesList(o.aliases);
            const timeouts = new pb.AnalyzerResourceOptions.CustomTimeouts();
            timeouts.setCreate(o.customTimeouts.create);
            timeouts.setUpdate(o.customTimeouts.update);
            timeouts.setDelete(o.customTimeouts.delete);
            out.setCustomtimeouts(timeouts);
            if (resource.parent) out.setParent(resource.parent);
            return out;
        };
        const request = (resource: Resource, properties: StructPb.Struct) => {
            const req = new pb.AnalyzeRequest();
            req.setType(resource.type);
            req.setName(resource.name);
            req.setUrn(resource.urn);
            req.setProperties(properties);
            req.setOptions(optionsOf(resource));
            const provider = providerOf(resource);
            if (provider) req.setProvider(provider);
            return req;
        };
        const diagnostic = (d: AnalyzerPb.AnalyzeDiagnostic, urn: string, phase: Violation["phase"]): Violation => {
            const level = levelName(protos, d.getEnforcementlevel());
            const target = byUrn.get(urn);
            return {
                policy: d.getPolicyname(),
                urn,
                name: target?.name ?? (urn === "" ? "" : parseUrn(urn)?.name ?? ""),
                type: target?.type ?? (urn === "" ? "" : parseUrn(urn)?.type ?? ""),
                // As the engine: a violation still reported at "remediate" is mandatory.
                enforcementLevel: level === "remediate" ? "mandatory" : level,
                message: d.getMessage(),
                description: d.getDescription(),
                phase,
            };
        };

        const perResource: Violation[][] = resources.map(() => []);
        const remediationsPer: Remediation[][] = resources.map(() => []);
        // Each resource's properties as AnalyzeStack sends them (skipping `__` keys). Marshalling is the client's
        // main cost with large inputs (a Lambda's inlined code: ~150 ms per 2.4 MB Struct), so a Struct is built
        // once and shared: Remediate's (internal keys kept) is Analyze's when there are no `__` keys, and
        // Analyze's is AnalyzeStack's. None is mutated after it is built.
        const stackStructs: StructPb.Struct[] = new Array(resources.length);
        const latencies: number[] = [];
        started = performance.now();
        await pool(resources, Math.max(1, options.concurrency ?? 16), async (resource, index) => {
            const begun = performance.now();
            let props = resource.props;
            const hasInternalKeys = Object.keys(props).some((key) => key.startsWith("__"));
            const remediateStruct = struct(props, false);
            let analyzeStruct: StructPb.Struct | undefined = hasInternalKeys ? undefined : remediateStruct;
            const remediated = await rpc.call<AnalyzerPb.RemediateResponse>("remediate", request(resource, remediateStruct), true);
            for (const r of remediated?.getRemediationsList() ?? []) {
                if (r.getDiagnostic() !== "") {
                    perResource[index].push({
                        policy: r.getPolicyname(),
                        urn: resource.urn,
                        name: resource.name,
                        type: resource.type,
                        enforcementLevel: "advisory",
                        message: r.getDiagnostic(),
                        description: r.getDescription(),
                        phase: "remediate",
                    });
                } else if (r.hasProperties()) {
                    props = r.getProperties()!.toJavaScript() as { [key: string]: Wire };
                    analyzeStruct = undefined;
                    remediationsPer[index].push({ policy: r.getPolicyname(), urn: resource.urn, name: resource.name });
                }
            }
            analyzeStruct ??= struct(props, true);
            stackStructs[index] = analyzeStruct;
            const analyzed = (await rpc.call<AnalyzerPb.AnalyzeResponse>("analyze", request(resource, analyzeStruct)))!;
            // The engine reports every Analyze diagnostic against the resource it asked about.
            for (const d of analyzed.getDiagnosticsList()) perResource[index].push(diagnostic(d, resource.urn, "analyze"));
            latencies.push(performance.now() - begun);
        });
        const resourcesMs = ms(started);

        // ---- AnalyzeStack ----
        started = performance.now();
        const stackRequest = new pb.AnalyzeStackRequest();
        stackRequest.setResourcesList(
            resources.map((resource, index) => {
                const r = new pb.AnalyzerResource();
                r.setType(resource.type);
                r.setName(resource.name);
                r.setUrn(resource.urn);
                r.setProperties(stackStructs[index]);
                r.setOptions(optionsOf(resource));
                const provider = providerOf(resource);
                if (provider) r.setProvider(provider);
                if (resource.parent) r.setParent(resource.parent);
                if (resource.dependencies.length > 0) r.setDependenciesList(resource.dependencies);
                for (const [key, urns] of Object.entries(resource.propertyDependencies)) {
                    if (urns.length === 0) continue;
                    const deps = new pb.AnalyzerPropertyDependencies();
                    deps.setUrnsList(urns);
                    r.getPropertydependenciesMap().set(key, deps);
                }
                return r;
            }),
        );
        const analyzeStackBuildMs = ms(started);
        started = performance.now();
        const stackResponse = await rpc.call<AnalyzerPb.AnalyzeResponse>("analyzeStack", stackRequest, true);
        const analyzeStackMs = ms(started);
        const stackViolations = (stackResponse?.getDiagnosticsList() ?? []).map((d) => diagnostic(d, d.getUrn(), "stack"));

        // ---- shutdown ----
        started = performance.now();
        await rpc.call("cancel", new Empty(), true);
        client.close();
        await pack.stop();
        const shutdownMs = ms(started);

        return {
            stack: context.stack,
            project: context.project,
            pack: { name: info.getName(), version: resolved.version ?? info.getVersion(), pluginVersion: pluginInfo?.getVersion() ?? "" },
            policies,
            config,
            resources: resources.length,
            violations: [...perResource.flat(), ...stackViolations],
            remediations: remediationsPer.flat(),
            timings: {
                startupMs,
                setupMs,
                resourcesMs,
                resourcesPerSecond: resourcesMs > 0 ? Math.round((resources.length / resourcesMs) * 1000) : 0,
                perResource: summarize(latencies),
                analyzeStackBuildMs,
                analyzeStackMs,
                shutdownMs,
                totalMs: ms(total),
            },
        };
    } finally {
        client.close();
        await pack.stop();
    }
}
