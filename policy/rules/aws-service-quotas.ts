/**
 * What the stack asks AWS for fits AWS's size quotas (core/quotas.ts, the same checks the Pulumi mocks refuse
 * registrations by): a Lambda function's environment variables (4 KB together), a role's trust policy (2,048
 * characters without white space) and all its inline policies together (10,240), managed policies (6,144), S3 bucket
 * policies (20 KB), EventBridge event patterns (2,048 characters) and event bus policies (10,240), KMS key policies
 * (32 KB), state machine definitions (1 MB), SQS (8,192 bytes) and SNS (30 KB) policies. Each quota names its AWS
 * page. Mandatory: a stack over a quota fails half-way through `pulumi up`, on the first resource AWS refuses.
 *
 * Values unknown during a preview (a document or an environment built from outputs of resources not created yet)
 * cannot be measured: they are skipped, as is an inline policy whose role is unknown and not linked by
 * propertyDependencies. A stack the preview sees fully (the program's documents are built from known names and
 * config) is checked whole.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { QUOTA_TYPES, stackQuotaProblems, type QuotaResource } from "../../core/quotas";
import { finding, isUnknown, violation, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";

export const NAME = "aws-service-quotas";

const RELEVANT = new Set(QUOTA_TYPES);

/** A rule resource as core/quotas.ts reads it: its provider scopes it; an inline policy's role is the URN it came from. */
function quotaResource(r: RuleResource): QuotaResource {
    const role = r.propertyDependencies?.role?.[0];
    return { type: r.type, name: r.name, inputs: r.props, scope: r.provider?.urn, ...(role !== undefined ? { role } : {}) };
}

/** The rule, as a pure function of the stack: one violation per quota problem, on the resource it names. */
export function checkServiceQuotas(resources: readonly RuleResource[]): Finding[] {
    const relevant = resources.filter((r) => RELEVANT.has(r.type));
    const byKey = new Map(relevant.map((r) => [`${r.type}::${r.name}`, r]));
    return stackQuotaProblems(relevant.map(quotaResource), { isUnknown }).map((p) => {
        const r = byKey.get(p.resource) as RuleResource;
        return finding(r, violation(p.message));
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "The stack fits AWS's size quotas",
    description:
        "Lambda environment variables (4 KB), IAM role trust policies (2,048 characters) and inline policies per role (10,240), managed policies " +
        "(6,144), S3 bucket policies (20 KB), EventBridge event patterns (2,048) and event bus policies (10,240), KMS key policies (32 KB), state " +
        "machine definitions (1 MB), SQS (8 KB) and SNS (30 KB) policies stay under AWS's limits, measured the way AWS counts them.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["quotas", "lambda", "iam", "s3", "eventbridge"],
    remediationSteps:
        "Move what grows with the organization out of the limited document: e.g. a Lambda function reads per-VPC maps from a table or " +
        "parameter instead of its environment, a role's policy names resources by a pattern or tag condition instead of listing each ARN.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkServiceQuotas(resources), "the stack has no resource an AWS size quota applies to"),
};
