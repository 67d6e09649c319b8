/**
 * No bucket policy lets anyone in: no Allow statement for a wildcard principal ("*", {"AWS": "*"}, or
 * NotPrincipal) unless a condition pins the caller to this organization, account, VPC or endpoint. Deny
 * statements with "*" (the evidence bucket's tamper and TLS guards) are what they should be. Mandatory.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { parsePolicyDocument, statementLabel } from "../lib/iamDocument";
import { asList, isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { runResourceRule } from "../lib/pack";

export const NAME = "s3-no-public-bucket-policy";

/** Condition keys that restrict who can use a wildcard-principal statement (compared case-insensitively). */
export const RESTRICTING_CONDITION_KEYS = [
    "aws:SourceVpce", "aws:SourceVpc", "aws:PrincipalOrgID", "aws:SourceAccount", "aws:SourceArn", "aws:PrincipalAccount",
];
const RESTRICTING_KEYS = new Set(RESTRICTING_CONDITION_KEYS.map((k) => k.toLowerCase()));
/** Operators that require the key to equal/match the given values (negations and ...IfExists do not restrict). */
const RESTRICTING_OPERATORS = new Set(["stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"]);

/** "yes" / "no" / "unknown": whether a principal value includes everyone. */
function wildcardPrincipal(principal: unknown): "yes" | "no" | "unknown" {
    if (isUnknown(principal)) return "unknown";
    if (principal === "*") return "yes";
    if (!isObject(principal)) return "no";
    const values = Object.values(principal).flatMap(asList);
    if (values.includes("*")) return "yes";
    return values.some(isUnknown) ? "unknown" : "no";
}

/** Whether a condition block pins the caller with a restricting key (values unknown at preview still pin). */
function restrictsCaller(condition: unknown): boolean {
    if (!isObject(condition)) return false;
    for (const [rawOperator, keys] of Object.entries(condition)) {
        let operator = rawOperator.toLowerCase();
        if (operator.startsWith("forallvalues:")) continue; // true when the key is absent
        if (operator.startsWith("foranyvalue:")) operator = operator.slice("foranyvalue:".length);
        if (operator.endsWith("ifexists") || !RESTRICTING_OPERATORS.has(operator) || !isObject(keys)) continue;
        for (const [conditionKey, values] of Object.entries(keys)) {
            if (!RESTRICTING_KEYS.has(conditionKey.toLowerCase())) continue;
            const list = asList(values);
            if (list.length > 0 && !list.some((v) => v === "*")) return true;
        }
    }
    return false;
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
        if (restrictsCaller(statement.Condition)) return;
        const who = statement.NotPrincipal !== undefined ? "every principal but those in NotPrincipal" : "any principal (\"*\")";
        p.violation(
            `${label} allows ${who} without a restricting condition — name the principals, or add a StringEquals/ArnEquals ` +
            `condition on ${RESTRICTING_CONDITION_KEYS.join(", ")}`,
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
        "{\"AWS\": \"*\"}, NotPrincipal) without a condition on aws:SourceVpce, aws:SourceVpc, aws:PrincipalOrgID, aws:SourceAccount, " +
        "aws:SourceArn or aws:PrincipalAccount.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["s3", "public-access"],
    remediationSteps:
        "Name the principals the statement is for, or add a condition such as {StringEquals: {\"aws:PrincipalOrgID\": \"o-...\"}} " +
        "or {StringEquals: {\"aws:SourceVpce\": \"vpce-...\"}}; Deny statements may keep Principal \"*\".",
    validateResource: (args, report) => runResourceRule(args, report, () => undefined, (r) => checkS3NoPublicBucketPolicy(r)),
};
