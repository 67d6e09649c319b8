/**
 * Isolation groups let out only what evidence capture needs: TCP on the allowed ports (443) to prefix lists
 * (the S3 gateway endpoint) and security groups (the SSM interface endpoints' group) — never a CIDR unless
 * allow-listed, never protocol -1. Inline `egress` blocks, `vpc.SecurityGroupEgressRule`s and egress
 * `ec2.SecurityGroupRule`s are all judged by core's `isolationRuleProblems`, the one definition of
 * "isolated" the component and its tests use. Mandatory.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ISOLATION_EGRESS_PORTS } from "../../core/isolation";
import { asList, finding, isObject, isUnknown, knownString, Problems, TYPES, unknown, type Finding, type RuleResource } from "../lib/model";
import { listSetting, runStackRule } from "../lib/pack";
import { adaptBlock, adaptedRuleProblems, adaptVpcRule, describeRule, groupLabel, isolationView, withArticle, undecidedGroupNotes, unresolvedNote, type AdaptedRule } from "../lib/sgRules";

export const NAME = "isolation-group-egress-endpoints-only";

export interface EgressConfig {
    /** TCP ports an isolation group may reach (each rule one port). */
    readonly allowedPorts: readonly number[];
    /** CIDRs an isolation group may reach, exactly as written in the rule. */
    readonly allowedCidrs: readonly string[];
}

export const DEFAULTS: EgressConfig = { allowedPorts: [...ISOLATION_EGRESS_PORTS], allowedCidrs: [] };

export function egressConfig(raw: Record<string, unknown>): EgressConfig {
    return {
        allowedPorts: listSetting<number>(raw, "allowedPorts", DEFAULTS.allowedPorts, "number", NAME),
        allowedCidrs: listSetting<string>(raw, "allowedCidrs", DEFAULTS.allowedCidrs, "string", NAME),
    };
}

/** Judge adapted rules; `label` names each in messages. */
function judge(adapted: readonly AdaptedRule[], label: (a: AdaptedRule) => string, config: EgressConfig, p: Problems): void {
    for (const a of adapted) {
        const result = adaptedRuleProblems(a, config.allowedPorts, config.allowedCidrs);
        if ("unknownFields" in result) p.unknownValue(`${result.unknownFields.join(", ")} of ${label(a)}`);
        else if (result.problems.length > 0) p.violation(`${label(a)} ${result.problems.join("; ")}`);
    }
}

const describe = (a: AdaptedRule) => ("rule" in a ? ` (${describeRule(a.rule)})` : "");

/** The rule, as a pure function of the stack: a finding per isolation group and per egress rule resource of one. */
export function checkIsolationGroupEgress(resources: Iterable<RuleResource>, config: EgressConfig = DEFAULTS): Finding[] {
    const view = isolationView(resources);
    const findings: Finding[] = undecidedGroupNotes(view);
    for (const sg of view.groups) {
        const p = new Problems();
        const egress = sg.props.egress;
        if (isUnknown(egress)) p.unknownValue("its inline egress rules");
        else {
            const selfId = knownString(sg.props.id) ?? "self";
            asList(egress).filter(isObject).forEach((block, i) => {
                judge(adaptBlock("egress", block, selfId), (a) => `inline egress rule #${i + 1}${describe(a)}`, config, p);
            });
        }
        findings.push(finding(sg, p.verdict(`${groupLabel(sg)} ${sg.name}`)));
    }
    for (const rule of view.rules) {
        const r = rule.resource;
        const kind = r.type.split(":").pop() ?? "rule";
        const label = groupLabel(rule.group ?? r);
        const subject = rule.group === undefined ? `${kind} ${r.name} (tagged as ${withArticle(label)}'s rule)` : `${label} ${rule.group.name}`;
        const p = new Problems();
        if (rule.direction === "egress") {
            const adapted = r.type === TYPES.egressRule ? [adaptVpcRule("egress", r.props)] : adaptBlock("egress", r.props, "self");
            judge(adapted, (a) => (rule.group === undefined ? `egress${describe(a)}` : `egress rule ${r.name}${describe(a)}`), config, p);
        } else if (rule.direction === "unknown") {
            p.unknownValue(`whether ${kind} ${r.name} is an egress rule (its type)`);
        } else {
            continue; // ingress: isolation-group-no-ingress reports it
        }
        findings.push(finding(r, p.verdict(subject)));
    }
    const unresolvedEgress = view.unresolvedRules.filter((r) => r.type !== TYPES.ingressRule && r.props.type !== "ingress");
    for (const r of unresolvedEgress) findings.push(finding(r, unknown(unresolvedNote([r]))));
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Isolation groups reach only the evidence endpoints",
    description:
        "Every egress rule of a security group tagged dfir:role=isolation or dfir:role=workstation (inline egress, SecurityGroupEgressRule, egress " +
        "SecurityGroupRule) is TCP on an allowed port (default 443) to a prefix list or a security group; no CIDR unless in " +
        "allowedCidrs; never protocol -1.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["ec2", "isolation", "containment"],
    remediationSteps:
        "Replace the rule with TCP 443 egress to the S3 gateway endpoint's prefix list (prefixListId) and to the SSM interface " +
        "endpoints' security group (referencedSecurityGroupId), as core/isolation.ts isolationEgressRules builds them; never " +
        "0.0.0.0/0, ::/0 or protocol -1.",
    configSchema: {
        properties: {
            allowedPorts: {
                type: "array",
                items: { type: "integer", minimum: 0, maximum: 65535 },
                default: [...DEFAULTS.allowedPorts],
                description: "TCP ports an isolation group may reach; each rule must name a single one of them.",
            },
            allowedCidrs: {
                type: "array",
                items: { type: "string" },
                default: [...DEFAULTS.allowedCidrs],
                description: "CIDRs an isolation group may reach (exact match), e.g. a forensic collector's address.",
            },
        },
    },
    validateStack: (args, report) =>
        runStackRule(args, report, egressConfig, checkIsolationGroupEgress, "the stack has no isolation group"),
};
