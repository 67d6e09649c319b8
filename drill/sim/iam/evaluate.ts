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
import { getDenialReasons, runSimulation } from "@cloud-copilot/iam-simulate";
import { createValidatedPolicy, validateIdentityPolicy, validateResourcePolicy, validateTrustPolicy, type ValidatedPolicy } from "@cloud-copilot/iam-policy";

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
    /** Condition keys and policy variables the document names, lower case. */
    keys: Set<string>;
}

const parsed = new Map<string, Parsed>();
const decisions = new Map<string, IamDecision>();

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
    hit = { validated, keys };
    parsed.set(key, hit);
    return hit;
}

/** Does a context key (as given) matter to a policy naming these keys? */
function named(key: string, keys: Set<string>): boolean {
    return keys.has(key.toLowerCase());
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
    const result = await runSimulation({
        request: {
            principal: request.principal,
            action: request.action,
            resource: { resource: request.resource, accountId: request.resourceAccount },
            contextVariables: context,
        },
        identityPolicies: identity.map(({ p, parsed: x }) => ({ name: p.name, policy: x.validated })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resource ? { resourcePolicy: resource.validated } : {}),
    }, { simulationMode: "Strict" });
    if (result.resultType === "error") {
        // A request the evaluator cannot even state (unknown action, resource of no type the action takes) is a
        // mapping bug of the simulator: loud, never an answer.
        throw new Error(`simulator: cannot evaluate ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
    }
    if (result.resultType !== "single") throw new Error(`simulator: ${request.action} on ${request.resource} is not one concrete resource`);
    const decision: IamDecision = { allowed: result.overallResult === "Allowed", result: result.overallResult };
    if (!decision.allowed) decision.reason = denialReason(result.result.analysis, request);
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

/** Forget every cached decision and parsed policy (tests measuring the first-time cost). */
export function clearIamCaches(): void {
    parsed.clear();
    decisions.clear();
}
