/**
 * Evidence snapshots are locked (issue 17, item 1): whoever creates the disk evidence may lock it. Every IAM policy
 * that allows `ec2:CreateSnapshots` (the snapshot function's role, a member's responder role: core/iam.ts
 * `snapshotStatements`) also allows `ec2:LockSnapshot` on snapshots and denies it nowhere: the snapshot step locks
 * each evidence snapshot in compliance mode for the evidence retention right after creating it
 * (core/snapshotLock.ts), and without the permission every snapshot stays deletable by the account's
 * administrators (the case records the `disk lock` gap). Mandatory.
 *
 * What it reads: `aws.iam.RolePolicy` and `aws.iam.Policy` documents (a JSON string or an object). Actions match as
 * IAM matches them (case-insensitive, `*` and `?` wildcards); a statement with `NotAction` is read as not granting.
 * A Resource of `*` or one naming snapshots (`:snapshot/`) counts. Conditions are not judged (the program's own
 * narrows the lock to evidence snapshots by tag). During preview an unknown document cannot be told to grant
 * CreateSnapshots: when no known document grants it and some are unknown, each response function (environment with
 * EVIDENCE_BUCKET) gets an advisory note, never a pass.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ENV } from "../../core/workflow";
import { parsePolicyDocument, statementLabel } from "../lib/iamDocument";
import { asList, finding, isObject, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";

export const NAME = "evidence-snapshot-lock";

const POLICY_TYPES: readonly string[] = [TYPES.iamRolePolicy, TYPES.iamPolicy];
const CREATE = "ec2:CreateSnapshots";
const LOCK = "ec2:LockSnapshot";

/** Whether an IAM action pattern covers `action` (IAM: case-insensitive, `*` any run, `?` one character). */
export function actionMatches(pattern: string, action: string): boolean {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
    return regex.test(action);
}

const actionsOf = (s: Record<string, unknown>) => asList(s.Action).filter((a): a is string => typeof a === "string");
const onSnapshots = (s: Record<string, unknown>) => asList(s.Resource).some((r) => typeof r === "string" && (r === "*" || /:snapshot\/|^arn:[^:]+:ec2:\*/.test(r)));

/** The rule, as a pure function of the stack: one finding per policy that allows CreateSnapshots. */
export function checkEvidenceSnapshotLock(resources: Iterable<RuleResource>): Finding[] {
    const all = [...resources];
    const findings: Finding[] = [];
    let unknownDocuments = 0;
    for (const r of all.filter((x) => POLICY_TYPES.includes(x.type))) {
        const parsed = parsePolicyDocument(r.props.policy);
        if (parsed.kind === "unknown") unknownDocuments += 1;
        if (parsed.kind !== "document") continue;
        const allows = parsed.statements.filter((s) => s.Effect === "Allow");
        if (!allows.some((s) => actionsOf(s).some((a) => actionMatches(a, CREATE)))) continue;
        const p = new Problems();
        if (!allows.some((s) => actionsOf(s).some((a) => actionMatches(a, LOCK)) && onSnapshots(s))) {
            p.violation(`it allows ${CREATE} but not ${LOCK} on snapshots: the evidence snapshots it creates cannot be locked (each case records the 'disk lock' gap) — add an Allow of ${LOCK} on arn:aws:ec2:<region>::snapshot/* (core/iam.ts snapshotStatements, LockEvidenceSnapshots)`);
        }
        parsed.statements.forEach((s, i) => {
            if (s.Effect === "Deny" && actionsOf(s).some((a) => actionMatches(a, LOCK))) p.violation(`its ${statementLabel(s, i)} denies ${LOCK} — remove ${LOCK} from the deny`);
        });
        findings.push(finding(r, p.verdict(`policy ${r.name}`)));
    }
    if (findings.length === 0 && unknownDocuments > 0) {
        for (const fn of all.filter((x) => x.type === TYPES.lambdaFunction)) {
            const env = fn.props.environment;
            const variables = isObject(env) ? env.variables : undefined;
            if (!isObject(variables) || !Object.prototype.hasOwnProperty.call(variables, ENV.evidenceBucket)) continue;
            findings.push(finding(fn, new Problems().unknownNote(`cannot check during preview that the evidence snapshots get locked: ${unknownDocuments} IAM policy document(s) are unknown`).verdict(`function ${fn.name}`)));
        }
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence snapshots can be locked",
    description:
        `Every IAM policy that allows ${CREATE} also allows ${LOCK} on snapshots and denies it nowhere: the snapshot step locks each ` +
        "evidence snapshot in compliance mode for the evidence retention (EBS snapshot lock), so nobody can delete it.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["ebs", "evidence", "chain-of-custody"],
    remediationSteps:
        `Add ${LOCK} on arn:aws:ec2:<region>::snapshot/* (conditioned on aws:ResourceTag/dfir:evidence) to every role that creates evidence ` +
        "snapshots, as core/iam.ts snapshotStatements does, and remove it from any Deny.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkEvidenceSnapshotLock(resources), "no IAM policy of the stack creates snapshots"),
};
