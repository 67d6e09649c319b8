/**
 * No bucket policy lets anyone in: no Allow statement for a wildcard principal ("*", {"AWS": "*"},
 * NotPrincipal, or a Federated identity provider) unless a condition pins the caller to an organization,
 * account, principal, VPC, endpoint or the access points of an account, with fixed values (a wildcard or a
 * policy variable pins nothing: `conditionPinning`). Deny statements with "*" (the evidence bucket's tamper and TLS guards) are what they
 * should be. Mandatory.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { notFixedBecause, parsePolicyDocument, statementLabel } from "../lib/iamDocument";
import { asList, isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { runResourceRule } from "../lib/pack";

export const NAME = "s3-no-public-bucket-policy";

/**
 * The condition keys the message suggests (compared case-insensitively, like every key below). Kept short: the
 * full list of keys that pin a statement is `PINNING_CONDITION_KEYS`.
 */
export const RESTRICTING_CONDITION_KEYS = [
    "aws:SourceVpce", "aws:SourceVpc", "aws:PrincipalOrgID", "aws:SourceAccount", "aws:SourceArn", "aws:PrincipalAccount",
];

/**
 * Condition keys that pin a wildcard-principal Allow to a known caller when they hold fixed values — the keys
 * Amazon S3 itself accepts as making a bucket policy non-public ("Blocking public access to your Amazon S3
 * storage" > "The meaning of public", Amazon S3 User Guide: a fixed AWS principal "(e.g. aws:PrincipalOrgID)",
 * aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, s3:DataAccessPointArn,
 * s3:DataAccessPointAccount), less the ones this pack deliberately does not accept (policy/README.md):
 * aws:SourceIp (anyone in the range, with no credentials), aws:userid and
 * s3:x-amz-server-side-encryption-aws-kms-key-id. aws:PrincipalAccount and aws:PrincipalArn name the principal as
 * aws:PrincipalOrgID does. s3:DataAccessPointAccount / s3:DataAccessPointArn delegate access control to the access
 * points of an account ("Configuring IAM policies for using access points" > "Delegating access control to access
 * points", Amazon S3 User Guide): access then goes through those access points' own policies and block public
 * access settings, so the bucket policy is not public.
 */
export const PINNING_CONDITION_KEYS = [
    "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn",
    "aws:SourceVpce", "aws:SourceVpc",
    "aws:SourceAccount", "aws:SourceOwner", "aws:SourceArn",
    "s3:DataAccessPointAccount", "s3:DataAccessPointArn",
];
const PINNING_KEYS = new Map(PINNING_CONDITION_KEYS.map((k) => [k.toLowerCase(), k]));

/**
 * Operators that require the key to be present and to equal / match one of the values. Negations are true for
 * every other caller, `...IfExists` is true when the key is absent, and `ForAllValues:` is true when the key is
 * absent ("IAM JSON policy elements: Condition operators"; "Set operators for multivalued context keys"), so none
 * of them pins. `ForAnyValue:` is false when the key is absent and, on these single-valued keys, tests the one
 * value like the plain operator: it pins with fixed values (AWS advises against set operators on single-valued
 * keys; they are read for what they do).
 */
const PINNING_OPERATORS = new Set(["stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"]);

/**
 * An s3:DataAccessPointArn value may wildcard the access point's name and stay non-public "as long as the account
 * id is fixed" (S3 User Guide, "The meaning of public"): `arn:aws:s3:us-west-2:123456789012:accesspoint/*` is every
 * access point of that account in that Region. The partition, Region and account must be fixed.
 */
const ACCESS_POINT_PREFIX = /^arn:aws[a-z-]*:s3:[a-z0-9-]+:\d{12}:accesspoint\/$/;

function accessPointArnFixed(value: unknown): boolean {
    if (typeof value !== "string" || value.includes("${")) return false;
    const cut = value.indexOf(":accesspoint/");
    return cut > 0 && ACCESS_POINT_PREFIX.test(value.slice(0, cut + ":accesspoint/".length));
}

/**
 * "yes" / "federated" / "no" / "unknown": whether a principal value includes everyone. A `Federated` principal is
 * anyone the identity provider vouches for: S3 reads `{"Federated": "graph.facebook.com"}` as public ("The meaning
 * of public", Amazon S3 User Guide), so it needs a pin like "*".
 */
function wildcardPrincipal(principal: unknown): "yes" | "federated" | "no" | "unknown" {
    if (isUnknown(principal)) return "unknown";
    if (principal === "*") return "yes";
    if (!isObject(principal)) return "no";
    const values = Object.values(principal).flatMap(asList);
    if (values.includes("*")) return "yes";
    if (values.some(isUnknown)) return "unknown";
    const federated = Object.entries(principal).find(([key]) => key.toLowerCase() === "federated");
    return federated !== undefined && asList(federated[1]).length > 0 ? "federated" : "no";
}

/** How a statement's condition holds up: it pins the caller, might (a value unknown at preview), or does not (and why). */
type Pinning = { readonly pins: true } | { readonly pins: "unknown"; readonly what: string } | { readonly pins: false; readonly reasons: readonly string[] };

/**
 * Whether a condition block pins the caller: some pinning key under a pinning operator with only fixed values
 * (several keys or operators are ANDed, so one pin is enough). Near misses — a pinning key under an operator that
 * does not pin, or with a wildcard or policy variable — are returned as reasons for the message.
 */
export function conditionPinning(condition: unknown): Pinning {
    if (!isObject(condition)) return { pins: false, reasons: [] };
    const reasons: string[] = [];
    let unknownWhat: string | undefined;
    for (const [rawOperator, keys] of Object.entries(condition)) {
        if (isUnknown(keys)) {
            unknownWhat ??= `the ${rawOperator} condition`;
            continue;
        }
        if (!isObject(keys)) continue;
        const lower = rawOperator.toLowerCase();
        const operator = lower.startsWith("foranyvalue:") ? lower.slice("foranyvalue:".length) : lower;
        for (const [rawKey, values] of Object.entries(keys)) {
            const key = PINNING_KEYS.get(rawKey.toLowerCase());
            if (key === undefined) continue;
            if (lower.startsWith("forallvalues:")) {
                reasons.push(`${rawOperator} on ${key} also holds when the key is absent`);
                continue;
            }
            if (operator.endsWith("ifexists")) {
                reasons.push(`${rawOperator} on ${key} also holds when the key is absent`);
                continue;
            }
            if (!PINNING_OPERATORS.has(operator)) {
                reasons.push(`${rawOperator} on ${key} does not require a value`);
                continue;
            }
            if (isUnknown(values)) {
                unknownWhat ??= `the ${key} condition`;
                continue;
            }
            const list = asList(values);
            if (list.length === 0) continue;
            if (list.some(isUnknown)) {
                unknownWhat ??= `a value of the ${key} condition`;
                continue;
            }
            const loose = list
                .map((v) => ({ v, why: key === "s3:DataAccessPointArn" && accessPointArnFixed(v) ? undefined : notFixedBecause(v) }))
                .filter((x) => x.why !== undefined);
            if (loose.length === 0) return { pins: true };
            for (const { v, why } of loose) reasons.push(`${key} ${JSON.stringify(v)} is ${why}`);
        }
    }
    if (unknownWhat !== undefined) return { pins: "unknown", what: unknownWhat };
    return { pins: false, reasons };
}

/** Problems of one policy document (a BucketPolicy's, or a bucket's deprecated inline `policy`). */
export function publicStatementProblems(policy: unknown, what: string, p: Problems): void {
    const doc = parsePolicyDocument(policy);
    if (doc.kind === "absent") return;
    if (doc.kind === "unknown") return void p.unknownValue(`the policy of ${what}`);
    if (doc.kind === "invalid") return void p.violation(`the policy of ${what} cannot be read: ${doc.reason} — write it as a JSON policy document`);
    doc.statements.forEach((statement, i) => {
        const label = `${what} ${statementLabel(statement, i)}`;
        if (isUnknown(statement.Effect)) return void p.unknownValue(`the effect of ${label}`);
        if (statement.Effect !== "Allow") return;
        const everyone = statement.NotPrincipal !== undefined ? "yes" : wildcardPrincipal(statement.Principal);
        if (everyone === "unknown") return void p.unknownValue(`the principal of ${label}`);
        if (everyone === "no") return;
        if (isUnknown(statement.Condition)) return void p.unknownValue(`the condition of ${label}`);
        const pinning = conditionPinning(statement.Condition);
        if (pinning.pins === true) return;
        if (pinning.pins === "unknown") return void p.unknownValue(`${pinning.what} of ${label}`);
        const who = statement.NotPrincipal !== undefined
            ? "every principal but those in NotPrincipal"
            : everyone === "federated" ? "any federated identity of its identity provider" : "any principal (\"*\")";
        const why = pinning.reasons.length > 0 ? ` (${pinning.reasons.join("; ")})` : "";
        p.violation(
            `${label} allows ${who} without a restricting condition${why} — name the principals, or add a StringEquals/ArnEquals ` +
            `condition on ${RESTRICTING_CONDITION_KEYS.join(", ")}${why ? " with fixed values (no *, ? or ${...})" : ""}`,
        );
    });
}

/** The rule, as a pure function of one resource's inputs. */
export function checkS3NoPublicBucketPolicy(r: RuleResource): Verdict {
    const p = new Problems();
    if (r.type === TYPES.bucketPolicy) publicStatementProblems(r.props.policy, `bucket policy ${r.name}`, p);
    else if ((TYPES.buckets as readonly string[]).includes(r.type)) publicStatementProblems(r.props.policy, `bucket ${r.name}`, p);
    else return notApplicable("not a bucket policy or bucket");
    return p.verdict();
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "No public bucket policies",
    description:
        "No bucket policy (BucketPolicy, or a bucket's inline policy) has an Allow statement for a wildcard principal (\"*\", " +
        "{\"AWS\": \"*\"}, NotPrincipal, a Federated principal) without a StringEquals/StringLike/ArnEquals/ArnLike condition holding fixed values (no wildcard, " +
        "no policy variable) on aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, aws:SourceVpce, aws:SourceVpc, " +
        "aws:SourceAccount, aws:SourceOwner, aws:SourceArn, s3:DataAccessPointAccount or s3:DataAccessPointArn.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Name the principals the statement is for, or add a condition such as {StringEquals: {\"aws:PrincipalOrgID\": \"o-...\"}} " +
        "or {StringEquals: {\"aws:SourceVpce\": \"vpce-...\"}}; Deny statements may keep Principal \"*\".",
    validateResource: (args, report) => runResourceRule(args, report, () => undefined, (r) => checkS3NoPublicBucketPolicy(r)),
};
