/**
 * The seam between @pulumi/policy and the pure rules: arguments in, reports out. Type-only imports, so rule
 * modules load without the policy runtime (and without starting a pack).
 */
import type {
    PolicyProviderResource, PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs,
} from "@pulumi/policy";
import type { Finding, RuleProvider, RuleResource, Verdict } from "./model";

/**
 * @pulumi/policy hands rules its properties wrapped in a proxy that throws on the first unknown value it
 * meets, which would abort the whole policy (every resource of a stack rule) with one generic "can't run
 * during preview" note. The rules check unknowns themselves, per value, so they read the plain object under
 * the proxy (the proxy's own escape hatch, `__getSpecialProxyTarget`). Plain objects pass through.
 */
const PROXY_TARGET = "__getSpecialProxyTarget";

export function plainProps(props: Record<string, unknown> | undefined): Record<string, unknown> {
    if (props === undefined || props === null) return {};
    const target = (props as Record<string, unknown>)[PROXY_TARGET];
    return typeof target === "object" && target !== null ? (target as Record<string, unknown>) : props;
}

/** The engine's provider of a resource (its properties read under the proxy, as a resource's are). */
function fromProvider(provider: PolicyProviderResource | undefined): RuleProvider | undefined {
    return provider === undefined || provider === null || !provider.urn ? undefined : { urn: provider.urn, props: plainProps(provider.props) };
}

/** A stack resource (AnalyzeStack: outputs, with relations as objects) as a rule resource (relations as URNs). */
export function fromPolicyResource(r: PolicyResource): RuleResource {
    const propertyDependencies: Record<string, string[]> = {};
    for (const [prop, deps] of Object.entries(r.propertyDependencies ?? {})) propertyDependencies[prop] = deps.map((d) => d.urn);
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: plainProps(r.props),
        parent: r.parent?.urn ?? r.opts?.parent,
        dependencies: (r.dependencies ?? []).map((d) => d.urn),
        propertyDependencies,
        provider: fromProvider(r.provider),
    };
}

/** A resource being analyzed (Analyze: inputs) as a rule resource. */
export function fromResourceArgs(args: ResourceValidationArgs): RuleResource {
    return {
        type: args.type, name: args.name, urn: args.urn, props: plainProps(args.props), parent: args.opts?.parent,
        provider: fromProvider(args.provider),
    };
}

/**
 * Report a note at advisory level whatever the policy's own level. @pulumi/policy 1.21's reportViolation also
 * takes a diagnostic object whose `enforcementLevel` overrides the policy's (server.js, makeReportViolationFun);
 * it is not in the published typings, hence the cast. This is how a mandatory rule says "cannot check X during
 * preview" without blocking the preview.
 */
export function reportAdvisory(report: ReportViolation, message: string, urn?: string): void {
    (report as unknown as (diagnostic: { message: string; urn?: string; enforcementLevel: "advisory" }) => void)(
        { message, urn, enforcementLevel: "advisory" },
    );
}

/** Report a stack rule's findings: violations at the policy's level, unknowns as advisory notes. */
export function reportFindings(findings: readonly Finding[], report: ReportViolation): void {
    for (const f of findings) {
        if (f.verdict.status === "violation") report(f.verdict.message, f.urn);
        else if (f.verdict.status === "unknown") reportAdvisory(report, f.verdict.message, f.urn);
    }
}

/** Report a resource rule's verdict; not-applicable goes back to the engine as such. */
export function reportVerdict(verdict: Verdict, args: ResourceValidationArgs, report: ReportViolation): void {
    switch (verdict.status) {
        case "violation":
            report(verdict.message);
            return;
        case "unknown":
            reportAdvisory(report, verdict.message);
            return;
        case "not-applicable":
            args.notApplicable(verdict.reason);
            return;
        case "compliant":
            return;
    }
}

/** Run a stack rule under @pulumi/policy: adapt, check, report (or mark the policy not applicable). */
export function runStackRule<C>(
    args: StackValidationArgs, report: ReportViolation, configOf: (raw: Record<string, unknown>) => C,
    check: (resources: readonly RuleResource[], config: C) => Finding[], nothingToCheck: string,
): void {
    const config = configOf(args.getConfig<Record<string, unknown>>());
    const findings = check(args.resources.map(fromPolicyResource), config);
    if (findings.length === 0) args.notApplicable(nothingToCheck);
    reportFindings(findings, report);
}

/** Run a resource rule under @pulumi/policy. */
export function runResourceRule<C>(
    args: ResourceValidationArgs, report: ReportViolation, configOf: (raw: Record<string, unknown>) => C,
    check: (resource: RuleResource, config: C) => Verdict,
): void {
    reportVerdict(check(fromResourceArgs(args), configOf(args.getConfig<Record<string, unknown>>())), args, report);
}

/**
 * The validateResource of a rule about ONE resource type. @pulumi/policy (server.js, makeAnalyzeRpcFun) skips a
 * policy whose validateResource names its type (`__pulumiType`, read by policy.js getPulumiType; what its own
 * validateResourceOfType sets) for every resource of another type before deserializing that resource's properties,
 * and records the policy not applicable without a thrown NotApplicableError. An untyped rule pays both for every
 * resource of the stack: on 5,000 resources, the largest part of the pack's cost beside a pack with no policy.
 * Set directly, so rule modules keep loading without the policy runtime.
 */
export function typedResourceRule<C>(
    type: string, configOf: (raw: Record<string, unknown>) => C, check: (resource: RuleResource, config: C) => Verdict,
): (args: ResourceValidationArgs, report: ReportViolation) => void {
    const validate = (args: ResourceValidationArgs, report: ReportViolation) => runResourceRule(args, report, configOf, check);
    return Object.assign(validate, { __pulumiType: type });
}

/** Config validation helpers: the engine validates against the schema; these guard direct callers. */
export function numberSetting(raw: Record<string, unknown>, key: string, fallback: number, policy: string): number {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${policy}: config ${key} must be a number, got ${JSON.stringify(value)}`);
    return value;
}

export function listSetting<T extends string | number>(
    raw: Record<string, unknown>, key: string, fallback: readonly T[], itemType: "string" | "number", policy: string,
): T[] {
    const value = raw[key];
    if (value === undefined || value === null) return [...fallback];
    if (!Array.isArray(value) || !value.every((v) => typeof v === itemType)) {
        throw new Error(`${policy}: config ${key} must be a list of ${itemType}s, got ${JSON.stringify(value)}`);
    }
    return value as T[];
}
