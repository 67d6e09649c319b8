/**
 * The simulator's IAM decision: one request (principal, action, one resource, request context) evaluated against
 * the principal's identity policies and the resource's policy (bucket, key or trust policy) by
 * `@cloud-copilot/iam-simulate` (AGPL-3.0-or-later: a devDependency of the drill only, never imported by deployed
 * code; docs/testing.md says why). Same-account and cross-account rules, every condition operator, explicit deny
 * over allow, KMS key policies and role trust policies are the evaluator's.
 *
 * Cheap per call: each distinct policy document is parsed and validated once per process, and each decision is
 * kept by its inputs. Only the context keys the policies in play name can change a decision, so the cache key (and
 * the context handed over) holds only those: the clock-dependent keys (`aws:TokenIssueTime`, `aws:CurrentTime`) do
 * not defeat the cache unless a policy reads them.
 */
import * as path from "node:path";
import { allowedContextKeysForRequest, getDenialReasons, isConditionKeyArray, isWildcardOnlyAction, runSimulation, typeForContextKey } from "@cloud-copilot/iam-simulate";
import {
    createValidatedPolicy, loadPolicy, validateIdentityPolicy, validateResourcePolicy, validateTrustPolicy, type Policy, type ValidatedPolicy,
} from "@cloud-copilot/iam-policy";

/**
 * The evaluator's own engine, below `runSimulation`: `runSimulation` re-derives the action's resource type from the
 * ARN on every request (pattern intersection over the Service Authorization Reference, about a millisecond), which
 * this module derives once per action and kind of resource instead. These files are internal to the package, whose
 * version is pinned exactly in package.json; test/iam.test.ts holds this path to `runSimulation`'s answers.
 */
const ENGINE_DIR = path.dirname(require.resolve("@cloud-copilot/iam-simulate"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engine = require(path.join(ENGINE_DIR, "core_engine/CoreSimulatorEngine.js")) as { authorize: (request: unknown) => { result: string } & Parameters<typeof getDenialReasons>[0] };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AwsRequestImpl } = require(path.join(ENGINE_DIR, "request/request.js")) as { AwsRequestImpl: new (...args: unknown[]) => unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { RequestContextImpl } = require(path.join(ENGINE_DIR, "requestContext.js")) as { RequestContextImpl: new (values: Record<string, string | string[]>) => unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DiscoveryContextKeyConstraints } = require(path.join(ENGINE_DIR, "context_keys/discoveryContextKeyConstraints.js")) as { DiscoveryContextKeyConstraints: new (c: unknown[]) => unknown };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { normalizeContextKeyCase } = require(path.join(ENGINE_DIR, "context_keys/contextKeys.js")) as { normalizeContextKeyCase: (key: string) => Promise<string> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { expandShortArn } = require(path.join(ENGINE_DIR, "util/resourceStrings.js")) as { expandShortArn: (arn: string) => string };

/** One policy in play, as deployed: its name (the resource's or the policy's) and its JSON document. */
export interface NamedPolicy {
    name: string;
    document: string;
}

export interface IamRequest {
    /** The caller: a role ARN (the evaluator reads `aws:PrincipalArn` from it) or an assumed-role session ARN. */
    principal: string;
    /** The role ARN behind the principal (`aws:PrincipalArn`). */
    principalArn: string;
    action: string;
    resource: string;
    /** The account owning the resource (cross-account rules). */
    resourceAccount: string;
    context: Record<string, string | string[]>;
    identityPolicies: readonly NamedPolicy[];
    /** The resource's own policy: a bucket, key or trust policy. */
    resourcePolicy?: NamedPolicy & { kind: "resource" | "trust" };
}

export interface IamDecision {
    allowed: boolean;
    /** Allowed | ExplicitlyDenied | ImplicitlyDenied */
    result: string;
    /** Why not, in one line: the denying statements, or which side grants nothing. */
    reason?: string;
}

interface Parsed {
    validated: ValidatedPolicy<{ name: string }>;
    loaded: Policy<{ name: string }>;
    /** Condition keys and policy variables the document names, lower case. */
    keys: Set<string>;
}

const parsed = new Map<string, Parsed>();
const decisions = new Map<string, IamDecision>();

/** Called with every decision the engine makes (not the cached ones): tests compare them with `runSimulation`'s. */
let observer: ((request: IamRequest, decision: IamDecision) => void) | undefined;
export function observeEvaluations(fn: ((request: IamRequest, decision: IamDecision) => void) | undefined): void {
    observer = fn;
}

/** Counters (tests and the benchmark note read them): evaluations run and answered from the cache. */
export const iamStats = { evaluated: 0, cached: 0 };

function parse(policy: NamedPolicy, kind: "identity" | "resource" | "trust"): Parsed {
    const key = `${kind}\u0000${policy.name}\u0000${policy.document}`;
    let hit = parsed.get(key);
    if (hit) return hit;
    const document = JSON.parse(policy.document) as unknown;
    const validate = kind === "identity" ? validateIdentityPolicy : kind === "trust" ? validateTrustPolicy : validateResourcePolicy;
    const validated = createValidatedPolicy(document, validate, { name: policy.name });
    if (validated.errors.length > 0) {
        // A document IAM would refuse never reached AWS: the deployment itself would have failed.
        throw new Error(`simulator: the deployed policy ${policy.name} is not valid IAM: ${JSON.stringify(validated.errors)}`);
    }
    const keys = new Set<string>();
    const walk = (node: unknown, inCondition: boolean): void => {
        if (typeof node === "string") {
            for (const m of node.matchAll(/\$\{([^}]+)\}/g)) keys.add((m[1] as string).toLowerCase());
            return;
        }
        if (Array.isArray(node)) {
            for (const x of node) walk(x, inCondition);
            return;
        }
        if (node && typeof node === "object") {
            for (const [k, v] of Object.entries(node)) {
                if (inCondition && v !== null && typeof v === "object" && !Array.isArray(v)) {
                    for (const conditionKey of Object.keys(v)) keys.add(conditionKey.toLowerCase());
                }
                walk(v, inCondition || k === "Condition");
            }
        }
    };
    walk(document, false);
    hit = { validated, loaded: loadPolicy(validated, { name: policy.name }) as Policy<{ name: string }>, keys };
    parsed.set(key, hit);
    return hit;
}

/** Does a context key (as given) matter to a policy naming these keys? */
function named(key: string, keys: Set<string>): boolean {
    return keys.has(key.toLowerCase());
}

/** The kind of resource an ARN names, for caching what depends only on that (`ec2:instance`, `s3:object`). */
function resourceKind(arn: string): string {
    if (arn === "*") return "*";
    const parts = arn.split(":");
    const service = parts[2] ?? "";
    const rest = parts.slice(5).join(":");
    if (service === "s3") return `s3:${rest.includes("/") ? "object" : "bucket"}`;
    if (service === "sns" || service === "sqs") return `${service}:topic-or-queue`;
    return `${service}:${rest.split(/[/:]/)[0]}`;
}

const allowedKeys = new Map<string, Promise<Set<string>>>();
const keyTypes = new Map<string, Promise<{ name: string; array: boolean }>>();

/**
 * The request context as `runSimulation` hands it to the engine: only the keys the action and its resource type
 * take (global keys included), names in their canonical case, multivalued keys as lists, single-valued as one value.
 */
async function validContext(service: string, action: string, resource: string, context: Record<string, string | string[]>): Promise<Record<string, string | string[]>> {
    const kind = `${service}:${action}|${resourceKind(resource)}`;
    let allowed = allowedKeys.get(kind);
    if (!allowed) {
        allowed = allowedContextKeysForRequest(service, action, resource, false, undefined).then((keys) => new Set(keys));
        allowedKeys.set(kind, allowed);
    }
    const keys = await allowed;
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(context)) {
        const lower = key.toLowerCase();
        const slash = lower.indexOf("/");
        const variable = slash > 0 && [...keys].some((k) => k.startsWith(lower.slice(0, slash + 1)));
        if (!keys.has(lower) && !variable) continue;
        let type = keyTypes.get(lower);
        if (!type) {
            type = Promise.all([typeForContextKey(lower), normalizeContextKeyCase(key)]).then(([t, name]) => ({ name, array: isConditionKeyArray(t) }));
            keyTypes.set(lower, type);
        }
        const { name, array } = await type;
        out[name] = array ? [value].flat() : Array.isArray(value) ? (value[0] as string) : value;
    }
    return out;
}

/**
 * The same decision through the evaluator's public `runSimulation` (validation, resource type from the ARN,
 * context normalisation on every call): test/iam.test.ts holds {@link evaluate}'s fast path to it.
 */
export async function evaluateThroughRunSimulation(request: IamRequest): Promise<IamDecision> {
    const identity = request.identityPolicies.map((p) => ({ p, parsed: parse(p, "identity") }));
    const resource = request.resourcePolicy ? parse(request.resourcePolicy, request.resourcePolicy.kind) : undefined;
    const result = await runSimulation({
        request: { principal: request.principal, action: request.action, resource: { resource: request.resource, accountId: request.resourceAccount }, contextVariables: request.context },
        identityPolicies: identity.map(({ p, parsed: x }) => ({ name: p.name, policy: x.validated })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resource ? { resourcePolicy: resource.validated } : {}),
    }, { simulationMode: "Strict" });
    if (result.resultType !== "single") throw new Error(`simulator: runSimulation: ${JSON.stringify(result.resultType === "error" ? result.errors : result.resultType)}`);
    return { allowed: result.overallResult === "Allowed", result: result.overallResult };
}

/** The decision for one request (cached by everything it depends on). */
export async function evaluate(request: IamRequest): Promise<IamDecision> {
    const identity = request.identityPolicies.map((p) => ({ p, parsed: parse(p, "identity") }));
    const resource = request.resourcePolicy ? parse(request.resourcePolicy, request.resourcePolicy.kind) : undefined;
    const keys = new Set<string>();
    for (const { parsed: x } of identity) for (const k of x.keys) keys.add(k);
    if (resource) for (const k of resource.keys) keys.add(k);
    // Only what a policy in play reads can change the decision.
    const context: Record<string, string | string[]> = {};
    for (const k of Object.keys(request.context).sort()) if (named(k, keys)) context[k] = request.context[k] as string | string[];
    const cacheKey = JSON.stringify([
        request.principal, request.action, request.resource, request.resourceAccount, context,
        request.identityPolicies.map((p) => [p.name, p.document]),
        request.resourcePolicy ? [request.resourcePolicy.kind, request.resourcePolicy.name, request.resourcePolicy.document] : null,
    ]);
    const hit = decisions.get(cacheKey);
    if (hit) {
        iamStats.cached += 1;
        return hit;
    }
    iamStats.evaluated += 1;
    const [service, action] = request.action.split(":") as [string, string];
    const wildcardOnly = await isWildcardOnlyAction(service, action);
    if (wildcardOnly !== (request.resource === "*")) {
        // A request the evaluator cannot state (a wildcard-only action on a resource, or the reverse) is a mapping bug.
        throw new Error(`simulator: cannot evaluate ${request.action} on ${request.resource}: ${wildcardOnly ? "the action takes no resource" : "the action needs a resource"}`);
    }
    const values = await validContext(service, action, request.resource, context);
    const analysis = engine.authorize({
        request: new AwsRequestImpl(request.principal, { resource: expandShortArn(request.resource), accountId: request.resourceAccount }, request.action, new RequestContextImpl(values), wildcardOnly),
        sessionPolicy: undefined,
        identityPolicies: identity.map(({ parsed: x }) => x.loaded),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: resource?.loaded,
        permissionBoundaries: undefined,
        vpcEndpointPolicies: undefined,
        simulationParameters: { simulationMode: "Strict", discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
        serviceSettings: { s3: { blockPublicAccess: undefined } },
    });
    const decision: IamDecision = { allowed: analysis.result === "Allowed", result: analysis.result };
    if (!decision.allowed) decision.reason = denialReason(analysis, request);
    observer?.(request, decision);
    decisions.set(cacheKey, decision);
    return decision;
}

function denialReason(analysis: Parameters<typeof getDenialReasons>[0], request: IamRequest): string {
    const reasons = getDenialReasons(analysis);
    const parts = reasons.map((r) => {
        if (r.denialType === "Explicit") {
            const statement = r.statementId ?? `statement ${r.statementIndex}`;
            return `explicit deny: ${r.policyType} policy ${r.policyIdentifier ?? request.resourcePolicy?.name ?? ""} ${statement}`.replace(/\s+/g, " ").trim();
        }
        const which = r.policyType === "identity"
            ? `no statement of ${request.identityPolicies.length === 0 ? "any policy (the role has none)" : request.identityPolicies.map((p) => p.name).join(", ")} allows it`
            : r.policyType === "resource"
                ? `the ${request.resourcePolicy?.kind === "trust" ? "trust" : "resource"} policy ${request.resourcePolicy?.name ?? ""} does not allow it`
                : `${r.policyType} does not allow it`;
        return `implicit deny: ${which}`;
    });
    return parts.length > 0 ? [...new Set(parts)].join("; ") : "implicit deny: no statement allows it";
}

let warm: Promise<void> | undefined;

/**
 * Load what the evaluator reads from disk (the Service Authorization Reference of each service the simulator
 * serves, the global condition keys) once per process, before a drill starts its clock: the first calls of a run
 * then take no longer than the later ones.
 */
export function warmUp(): Promise<void> {
    warm ??= (async () => {
        const actions: [string, string][] = [["ec2", "DescribeInstances"], ["s3", "GetObject"], ["dynamodb", "GetItem"], ["ssm", "SendCommand"], ["iam", "PassRole"], ["sts", "AssumeRole"], ["autoscaling", "DetachInstances"], ["elasticloadbalancing", "DeregisterTargets"], ["sns", "Publish"], ["kms", "Decrypt"]];
        await Promise.all(actions.map(async ([service, action]) => {
            await isWildcardOnlyAction(service, action);
            await typeForContextKey(`${service}:nonexistent`).catch(() => undefined);
        }));
        await typeForContextKey("aws:PrincipalArn");
    })();
    return warm;
}

/** Forget every cached decision and parsed policy (tests measuring the first-time cost). */
export function clearIamCaches(): void {
    parsed.clear();
    decisions.clear();
}
