/**
 * Isolation groups admit nothing: no inline `ingress`, and no ingress rule resource
 * (`vpc.SecurityGroupIngressRule`, `ec2.SecurityGroupRule` of type ingress) attached to them. Whatever an
 * isolation group admits reaches a compromised instance. Mandatory.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    asList, finding, isObject, isUnknown, knownString, Problems, TYPES, unknown, violation, type Finding, type RuleResource,
} from "../lib/model";
import { runStackRule } from "../lib/pack";
import { adaptBlock, adaptVpcRule, describeRule, groupLabel, isolationView, withArticle, undecidedGroupNotes, unresolvedNote } from "../lib/sgRules";

export const NAME = "isolation-group-no-ingress";

const fix = (label: string) => `remove it: ${withArticle(label)} must admit nothing`;

/** The rule, as a pure function of the stack: a finding per isolation group and per ingress rule resource of one. */
export function checkIsolationGroupNoIngress(resources: Iterable<RuleResource>): Finding[] {
    const view = isolationView(resources);
    const findings: Finding[] = undecidedGroupNotes(view);
    for (const sg of view.groups) {
        const p = new Problems();
        const ingress = sg.props.ingress;
        if (isUnknown(ingress)) p.unknownValue("its inline ingress rules");
        else {
            const blocks = asList(ingress).filter(isObject);
            if (blocks.length > 0) {
                const selfId = knownString(sg.props.id) ?? "self";
                const labels = blocks.flatMap((b) => adaptBlock("ingress", b, selfId)).map((a) => ("rule" in a ? describeRule(a.rule) : "a rule with unknown fields"));
                p.violation(`it admits ingress through ${blocks.length} inline rule${blocks.length === 1 ? "" : "s"} (${labels.join(", ")}) — remove the ingress blocks: ${withArticle(groupLabel(sg))} must admit nothing`);
            }
        }
        findings.push(finding(sg, p.verdict(`${groupLabel(sg)} ${sg.name}`)));
    }
    for (const rule of view.rules) {
        const r = rule.resource;
        const kind = r.type.split(":").pop() ?? "rule";
        const label = groupLabel(rule.group ?? r);
        const owner = rule.group === undefined ? `${kind} ${r.name}, tagged as ${withArticle(label)}'s rule,` : `${label} ${rule.group.name}`;
        if (rule.direction === "ingress") {
            const adapted = r.type === TYPES.ingressRule ? adaptVpcRule("ingress", r.props) : adaptBlock("ingress", r.props, "self")[0];
            const described = "rule" in adapted ? ` (${describeRule(adapted.rule)})` : "";
            const through = rule.group === undefined ? "" : ` through ${kind} ${r.name}`;
            findings.push(finding(r, violation(`${owner} admits ingress${through}${described} — ${fix(label)}`)));
        } else if (rule.direction === "unknown") {
            findings.push(finding(r, unknown(`${kind} ${r.name}: cannot check whether it is an ingress rule of an isolation group during preview: its type is unknown`)));
        }
    }
    const unresolvedIngress = view.unresolvedRules.filter((r) => r.type !== TYPES.egressRule && r.props.type !== "egress");
    for (const r of unresolvedIngress) findings.push(finding(r, unknown(unresolvedNote([r]))));
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Isolation groups admit nothing",
    description:
        "A security group tagged dfir:role=isolation (or dfir:role=workstation, the forensic workstation's group), or named in a function's ISOLATION_GROUPS, has no " +
        "inline ingress and no SecurityGroupIngressRule or ingress SecurityGroupRule attached to it.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["ec2", "isolation", "containment"],
    remediationSteps:
        "Remove every ingress rule from the isolation group (inline ingress blocks and separate ingress rule resources). " +
        "Responders reach an isolated instance through SSM, which needs no ingress.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkIsolationGroupNoIngress(resources), "the stack has no isolation group"),
};
