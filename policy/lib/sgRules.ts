/**
 * Security group rules in every shape the AWS provider has them, adapted to core's `SgRule` (the shape of
 * `vpc.SecurityGroupIngressRule`/`EgressRule` arguments) so one function, `isolationRuleProblems` in
 * core/isolation.ts, decides what an isolation group may have. Also: which groups are isolation groups, and
 * which rule resources belong to them.
 */
import { isolationRuleProblems, type SgRule } from "../../core/isolation";
import { TAGS } from "../../core/tags";
import { effectiveTag, groupUse, type GroupUse } from "./membership";
import { asList, finding, isUnknown, listNames, TYPES, unknown, type Finding, type RuleResource } from "./model";
import { StackIndex, type LinkSpec } from "./stackIndex";

/** An adapted rule, or why it cannot be judged yet. */
export type AdaptedRule = { readonly rule: SgRule<unknown> } | { readonly unknownFields: readonly string[] };

/** A human label of a rule for messages, e.g. "tcp 443 to pl-63a5400a". */
export function describeRule(rule: SgRule<unknown>): string {
    const protocol = String(rule.ipProtocol);
    const ports = rule.fromPort === undefined ? "" : rule.fromPort === rule.toPort ? ` ${rule.fromPort}` : ` ${rule.fromPort}-${rule.toPort}`;
    const target = rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? rule.referencedSecurityGroupId;
    const toFrom = rule.direction === "egress" ? "to" : "from";
    return `${protocol === "-1" ? "all traffic" : protocol}${protocol === "-1" ? "" : ports}${target === undefined ? "" : ` ${toFrom} ${String(target)}`}`;
}

const numberOrUndefined = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** Unknown fields among those `isolationRuleProblems` judges (targets of allowed kinds are fine unknown). */
function unknownJudgedFields(fields: Record<string, unknown>): string[] {
    return Object.entries(fields).filter(([, v]) => isUnknown(v)).map(([k]) => k);
}

/** A `vpc.SecurityGroupIngressRule` / `EgressRule` resource. */
export function adaptVpcRule(direction: "ingress" | "egress", props: Readonly<Record<string, unknown>>): AdaptedRule {
    const unknownFields = unknownJudgedFields({ ipProtocol: props.ipProtocol, fromPort: props.fromPort, toPort: props.toPort, cidrIpv4: props.cidrIpv4, cidrIpv6: props.cidrIpv6 });
    if (unknownFields.length > 0) return { unknownFields };
    return {
        rule: {
            direction,
            ipProtocol: String(props.ipProtocol),
            fromPort: numberOrUndefined(props.fromPort),
            toPort: numberOrUndefined(props.toPort),
            cidrIpv4: props.cidrIpv4 ?? undefined,
            cidrIpv6: props.cidrIpv6 ?? undefined,
            prefixListId: props.prefixListId ?? undefined,
            referencedSecurityGroupId: props.referencedSecurityGroupId ?? undefined,
        },
    };
}

/**
 * An inline `ingress`/`egress` block of a SecurityGroup, or an `ec2.SecurityGroupRule` (same fields, the
 * source group under `sourceSecurityGroupId`): one SgRule per destination, since core judges one target per
 * rule. `self` refers to the group itself.
 */
export function adaptBlock(direction: "ingress" | "egress", block: Readonly<Record<string, unknown>>, selfId: string): AdaptedRule[] {
    const unknownFields = unknownJudgedFields({ protocol: block.protocol, fromPort: block.fromPort, toPort: block.toPort, cidrBlocks: block.cidrBlocks, ipv6CidrBlocks: block.ipv6CidrBlocks });
    for (const [field, list] of [["cidrBlocks", block.cidrBlocks], ["ipv6CidrBlocks", block.ipv6CidrBlocks]] as const) {
        if (Array.isArray(list) && list.some(isUnknown)) unknownFields.push(field);
    }
    if (unknownFields.length > 0) return [{ unknownFields }];
    const base = { direction, ipProtocol: String(block.protocol), fromPort: numberOrUndefined(block.fromPort), toPort: numberOrUndefined(block.toPort) };
    const targets: Partial<SgRule<unknown>>[] = [
        ...asList(block.cidrBlocks).map((c) => ({ cidrIpv4: c })),
        ...asList(block.ipv6CidrBlocks).map((c) => ({ cidrIpv6: c })),
        ...asList(block.prefixListIds).map((id) => ({ prefixListId: id })),
        ...asList(block.securityGroups).map((id) => ({ referencedSecurityGroupId: id })),
        ...asList(block.sourceSecurityGroupId).map((id) => ({ referencedSecurityGroupId: id })),
        ...(block.self === true ? [{ referencedSecurityGroupId: selfId }] : []),
    ];
    if (targets.length === 0) return [{ rule: base }];
    return targets.map((t) => ({ rule: { ...base, ...t } }));
}

/**
 * The `dfir:role` values held to the isolation contract: isolation groups, and the forensic workstation's group
 * (and their rules). The workstation's group is not an isolation group for containment (Contain never applies it,
 * its IAM names only isolation and untrack groups), but what it may admit and reach is the same: nothing in, HTTPS
 * out to the endpoints only — the instance it guards reads evidence that came from compromised hosts.
 */
export const ISOLATED_ROLES: readonly string[] = [TAGS.roleIsolation, TAGS.roleWorkstation];

/**
 * Whether a group (or a rule resource) is held to the isolation contract by its tag: "yes", "no", or "unknown"
 * (tags unknown). The tag is read from the resource's own tags, then its provider's default tags (membership.ts
 * `effectiveTag`). `use` (membership.ts `groupUse`) adds the groups the response isolates with, whatever their
 * tags, and the groups whose use cannot be told during preview ("unknown").
 */
export function isolationMembership(r: RuleResource, use?: GroupUse): "yes" | "no" | "unknown" {
    const role = effectiveTag(r, TAGS.role);
    if (!role.unknown && typeof role.value === "string" && ISOLATED_ROLES.includes(role.value)) return "yes";
    if (use?.isolation.has(r.urn)) return "yes";
    if (role.unknown || use?.undecided.has(r.urn)) return "unknown";
    return "no";
}

/** Groups held to the contract through the response's use only (not their tag), with why: for labels. */
const USE_LABELS = new WeakMap<RuleResource, string>();

/**
 * What to call a group (or a tagged rule's group) held to the contract in messages: "workstation group", "isolation
 * group", or for a group held only because the response isolates with it, "isolation group (<why>)".
 */
export function groupLabel(r: RuleResource): string {
    const role = effectiveTag(r, TAGS.role);
    if (!role.unknown && role.value === TAGS.roleWorkstation) return "workstation group";
    const why = USE_LABELS.get(r);
    return why === undefined ? "isolation group" : `isolation group (${why})`;
}

/** "an isolation group", "a workstation group". */
export const withArticle = (label: string): string => `${/^[aeiou]/.test(label) ? "an" : "a"} ${label}`;

/** Rule resources that may belong to a group through `securityGroupId`. */
export const RULE_TYPES = [TYPES.ingressRule, TYPES.egressRule, TYPES.securityGroupRule] as const;

/**
 * The link from a rule resource to its group: groups are the targets, so a known `securityGroupId` naming another
 * group wins over a dependency (stackIndex.ts).
 */
export const GROUP_RULE_LINK: LinkSpec = { types: RULE_TYPES, prop: "securityGroupId", targetTypes: [TYPES.securityGroup] };

/** A rule resource attached to an isolation group (or tagged as one of its rules), with its direction. */
export interface GroupRuleResource {
    readonly resource: RuleResource;
    /** The isolation group it belongs to, when linked (a tagged rule of an unknown group has none). */
    readonly group?: RuleResource;
    readonly direction: "ingress" | "egress" | "unknown";
}

export interface IsolationView {
    /** Isolation groups. */
    readonly groups: readonly RuleResource[];
    /** Groups whose tags (or whose use by the response) are unknown, so whether they isolate is unknown. */
    readonly undecidedGroups: readonly RuleResource[];
    /** Group URN -> why it is undecided (for the notes). */
    readonly undecidedWhy?: ReadonlyMap<string, string>;
    /** Rule resources of isolation groups (linked, or tagged dfir:role=isolation themselves). */
    readonly rules: readonly GroupRuleResource[];
    /** Rule resources that cannot be placed during preview (unknown group id, no recorded dependency). */
    readonly unresolvedRules: readonly RuleResource[];
}

function directionOf(r: RuleResource): "ingress" | "egress" | "unknown" {
    if (r.type === TYPES.ingressRule) return "ingress";
    if (r.type === TYPES.egressRule) return "egress";
    const type = r.props.type;
    return type === "ingress" || type === "egress" ? type : "unknown";
}

/** One indexed pass: the isolation groups of a stack and the rule resources that belong to them. */
export function isolationView(resources: Iterable<RuleResource>): IsolationView {
    const index = new StackIndex(resources, [GROUP_RULE_LINK]);
    const use = groupUse(index);
    const groups: RuleResource[] = [];
    const undecidedGroups: RuleResource[] = [];
    const undecidedWhy = new Map<string, string>();
    for (const sg of index.ofType(TYPES.securityGroup)) {
        const membership = isolationMembership(sg, use);
        if (membership === "yes") {
            groups.push(sg);
            const role = effectiveTag(sg, TAGS.role);
            const byTag = !role.unknown && typeof role.value === "string" && ISOLATED_ROLES.includes(role.value);
            const used = use.isolation.get(sg.urn);
            if (!byTag && used) USE_LABELS.set(sg, used.why);
        } else if (membership === "unknown") {
            undecidedGroups.push(sg);
            const role = effectiveTag(sg, TAGS.role);
            undecidedWhy.set(sg.urn, role.unknown ? role.why : use.undecided.get(sg.urn)?.why ?? "its tags are unknown");
        }
    }
    const seen = new Set<string>();
    const rules: GroupRuleResource[] = [];
    for (const group of groups) {
        for (const r of index.linked(group, RULE_TYPES, "securityGroupId")) {
            if (seen.has(r.urn)) continue;
            seen.add(r.urn);
            rules.push({ resource: r, group, direction: directionOf(r) });
        }
    }
    // The tag contract also marks an isolation group's separately declared rules: judge those even unlinked.
    for (const type of RULE_TYPES) {
        for (const r of index.ofType(type)) {
            if (seen.has(r.urn) || isolationMembership(r) !== "yes") continue;
            seen.add(r.urn);
            rules.push({ resource: r, direction: directionOf(r) });
        }
    }
    const unresolvedRules = groups.length + undecidedGroups.length === 0
        ? []
        : index.unresolved(RULE_TYPES, "securityGroupId").filter((r) => !seen.has(r.urn));
    return { groups, undecidedGroups, undecidedWhy, rules, unresolvedRules };
}

/** The note for rule resources whose group cannot be known yet. */
export function unresolvedNote(rules: readonly RuleResource[]): string {
    return `cannot tell whether security group rule${rules.length === 1 ? "" : "s"} ${listNames(rules.map((r) => r.name))} belong${rules.length === 1 ? "s" : ""} to an isolation group during preview: securityGroupId is unknown`;
}

/** Problems of one adapted rule against the isolation contract, as message fragments. */
export function adaptedRuleProblems(
    adapted: AdaptedRule, allowedPorts: readonly number[], allowedCidrs: readonly string[],
): { problems: string[] } | { unknownFields: readonly string[] } {
    if ("unknownFields" in adapted) return { unknownFields: adapted.unknownFields };
    return { problems: isolationRuleProblems(adapted.rule, allowedPorts, allowedCidrs) };
}


/** Advisory notes for the groups whose isolation role is unknown at preview (never a silent pass). */
export function undecidedGroupNotes(view: IsolationView): Finding[] {
    return view.undecidedGroups.map((sg) =>
        finding(sg, unknown(`security group ${sg.name}: cannot check whether it is an isolation group during preview: ${view.undecidedWhy?.get(sg.urn) ?? "its tags are unknown"}`)));
}
