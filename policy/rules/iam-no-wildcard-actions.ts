/**
 * No IAM policy the stack creates grants every action, or every action of a service: "*", "s3:*", or an
 * Allow with NotAction; and an Allow on `"Resource": "*"` names only actions without resource-level permissions
 * (`core/resourceLevel.ts`). Deny statements may use wildcards (the guard rails do). Advisory by default.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { actionsNeedingResources } from "../../core/resourceLevel";
import { isWildcardAction, parsePolicyDocument, statementLabel } from "../lib/iamDocument";
import { asList, isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { runResourceRule } from "../lib/pack";

export const NAME = "iam-no-wildcard-actions";

const POLICY_TYPES: readonly string[] = [TYPES.iamPolicy, TYPES.iamRolePolicy, TYPES.iamUserPolicy, TYPES.iamGroupPolicy];

function documentProblems(policy: unknown, what: string, p: Problems): void {
    const doc = parsePolicyDocument(policy);
    if (doc.kind === "absent") return;
    if (doc.kind === "unknown") return void p.unknownValue(`the document of ${what}`);
    if (doc.kind === "invalid") return void p.violation(`the document of ${what} cannot be read: ${doc.reason} — write it as a JSON policy document`);
    doc.statements.forEach((statement, i) => {
        const label = `${what} ${statementLabel(statement, i)}`;
        if (isUnknown(statement.Effect)) return void p.unknownValue(`the effect of ${label}`);
        if (statement.Effect !== "Allow") return;
        if (statement.NotAction !== undefined) {
            return void p.violation(`${label} allows every action but those in NotAction — list the actions it needs in Action`);
        }
        if (isUnknown(statement.Action)) return void p.unknownValue(`the actions of ${label}`);
        const actions = asList(statement.Action);
        if (actions.some(isUnknown)) p.unknownValue(`an action of ${label}`);
        const wildcards = actions.filter((a): a is string => typeof a === "string" && isWildcardAction(a.toLowerCase()));
        if (wildcards.length > 0) p.violation(`${label} allows ${wildcards.map((a) => JSON.stringify(a)).join(", ")} — list the actions it needs`);
        if (isUnknown(statement.Resource)) return void p.unknownValue(`the resources of ${label}`);
        if (asList(statement.Resource).includes("*")) {
            const scoped = actionsNeedingResources(actions.filter((a): a is string => typeof a === "string" && !isWildcardAction(a.toLowerCase())));
            if (scoped.length > 0) p.violation(`${label} allows ${scoped.join(", ")} on every resource — these actions take resource ARNs: name them`);
        }
    });
}

/** The rule, as a pure function of one resource's inputs. */
export function checkIamNoWildcardActions(r: RuleResource): Verdict {
    const p = new Problems();
    if (POLICY_TYPES.includes(r.type)) {
        documentProblems(r.props.policy, `${r.type.split(":").pop()} ${r.name}`, p);
    } else if (r.type === TYPES.iamRole) {
        const inline = r.props.inlinePolicies;
        if (isUnknown(inline)) p.unknownValue(`the inline policies of role ${r.name}`);
        for (const [i, entry] of asList(isUnknown(inline) ? [] : inline).entries()) {
            if (!isObject(entry)) continue;
            const name = typeof entry.name === "string" && entry.name !== "" ? entry.name : `#${i + 1}`;
            documentProblems(entry.policy, `role ${r.name} inline policy ${name}`, p);
        }
    } else {
        return notApplicable("not an IAM policy or role");
    }
    return p.verdict();
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "No wildcard IAM actions",
    description:
        "No IAM policy, role/user/group policy or role inline policy created by the stack has an Allow statement with Action \"*\" " +
        "or \"<service>:*\", or with NotAction, or Resource \"*\" for an action that has resource-level permissions. Deny statements do not count.",
    enforcementLevel: "advisory",
    severity: "high",
    tags: ["iam", "least-privilege"],
    remediationSteps:
        "Replace the wildcard with the actions the principal needs (core/iam.ts and core/containmentPolicies.ts list them per " +
        "function), scoped to the resources they act on.",
    validateResource: (args, report) => runResourceRule(args, report, () => undefined, (r) => checkIamNoWildcardActions(r)),
};
