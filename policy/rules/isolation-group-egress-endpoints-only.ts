/**
 * Isolation groups let out only what evidence capture needs: TCP on the allowed ports (443) to prefix lists
 * (the S3 gateway endpoint) and security groups (the SSM interface endpoints' group) — never a CIDR unless
 * allow-listed, never protocol -1. Inline `egress` blocks, `vpc.SecurityGroupEgressRule`s and egress
 * `ec2.SecurityGroupRule`s are all judged by core's `isolationRuleProblems`, the one definition of
 * "isolated" the component and its tests use. Mandatory.
 *
 * A prefix list is a set of CIDRs a rule names as one destination (Amazon VPC User Guide, "Consolidate and manage
 * network CIDR blocks with managed prefix lists", https://docs.aws.amazon.com/vpc/latest/userguide/managed-prefix-lists.html):
 * a rule to a prefix list reaches every entry of the list. So the list a rule names is judged too:
 * - the prefix list of an S3 gateway endpoint of the stack (the endpoint's `prefixListId`: the AWS-managed
 *   `com.amazonaws.<region>.s3` list, "AWS-managed prefix lists", same guide) is allowed; a gateway endpoint of
 *   another service (DynamoDB) is not what an isolated instance may reach;
 * - a customer-managed `ec2.ManagedPrefixList` of the stack is judged by its entries (inline `entries` and
 *   `ec2.ManagedPrefixListEntry` resources): every CIDR must be in `allowedCidrs`, as a rule's own CIDR must;
 *   0.0.0.0/0 or ::/0 among them is egress to the internet. Entries unknown at preview: an advisory note;
 * - an id that names no resource of the stack (a list looked up with `getPrefixList`, shared through RAM, or made
 *   elsewhere) cannot be checked: its entries are not in the stack. It gets an advisory note, never a silent pass,
 *   unless it is in `allowedPrefixListIds` (e.g. the region's S3 list, which `IsolationNetwork` with
 *   `createEndpoints: false` looks up by name).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ISOLATION_EGRESS_PORTS, isAllowedCidr, isWholeInternet } from "../../core/isolation";
import { asList, finding, isObject, isUnknown, knownString, listNames, Problems, TYPES, unknown, type Finding, type RuleResource } from "../lib/model";
import { listSetting, runStackRule } from "../lib/pack";
import { adaptBlock, adaptedRuleProblems, adaptVpcRule, describeRule, groupLabel, isolationView, withArticle, undecidedGroupNotes, unresolvedNote, type AdaptedRule } from "../lib/sgRules";
import { StackIndex } from "../lib/stackIndex";

export const NAME = "isolation-group-egress-endpoints-only";

export interface EgressConfig {
    /** TCP ports an isolation group may reach (each rule one port). */
    readonly allowedPorts: readonly number[];
    /** CIDRs an isolation group may reach (directly, or as entries of a customer-managed prefix list it names). */
    readonly allowedCidrs: readonly string[];
    /**
     * Prefix-list ids that name no resource of the stack and that an isolation group may reach without a note (the
     * region's S3 prefix list when the stack looks it up instead of creating the gateway endpoint). Default [].
     */
    readonly allowedPrefixListIds?: readonly string[];
}

export const DEFAULTS: Required<EgressConfig> = { allowedPorts: [...ISOLATION_EGRESS_PORTS], allowedCidrs: [], allowedPrefixListIds: [] };

export function egressConfig(raw: Record<string, unknown>): Required<EgressConfig> {
    return {
        allowedPorts: listSetting<number>(raw, "allowedPorts", DEFAULTS.allowedPorts, "number", NAME),
        allowedCidrs: listSetting<string>(raw, "allowedCidrs", DEFAULTS.allowedCidrs, "string", NAME),
        allowedPrefixListIds: listSetting<string>(raw, "allowedPrefixListIds", DEFAULTS.allowedPrefixListIds, "string", NAME),
    };
}

// ---------------------------------------------------------------------------------------------------------
// Prefix lists
// ---------------------------------------------------------------------------------------------------------

/** A gateway endpoint's service name for S3 (`com.amazonaws.<region>.s3`; China regions are prefixed `cn.`). */
const S3_SERVICE = /^(cn\.)?com\.amazonaws\.[a-z0-9-]+\.s3$/;

/** The stack's prefix lists, indexed once: what a rule's prefix-list id can name. */
interface PrefixLists {
    readonly index: StackIndex;
    /** Known id -> customer-managed lists with that id, and gateway endpoints whose `prefixListId` it is. */
    readonly byId: ReadonlyMap<string, readonly RuleResource[]>;
}

function prefixLists(resources: readonly RuleResource[]): PrefixLists {
    const index = new StackIndex(resources, [{ types: [TYPES.managedPrefixListEntry], prop: "prefixListId" }]);
    const byId = new Map<string, RuleResource[]>();
    const add = (id: string | undefined, r: RuleResource) => {
        if (id === undefined) return;
        const list = byId.get(id);
        if (list) list.push(r);
        else byId.set(id, [r]);
    };
    for (const r of index.ofType(TYPES.managedPrefixList)) add(knownString(r.props.id), r);
    for (const r of index.ofType(TYPES.vpcEndpoint)) add(knownString(r.props.prefixListId), r);
    return { index, byId };
}

const PREFIX_LIST_TYPES: readonly string[] = [TYPES.managedPrefixList, TYPES.vpcEndpoint];

/**
 * The CIDRs of a customer-managed prefix list of the stack — its inline `entries` and the `ManagedPrefixListEntry`
 * resources linked to it — with what cannot be read at preview noted on `p`.
 */
function entriesOf(list: RuleResource, lists: PrefixLists, p: Problems, subject: string): string[] {
    const cidrs: string[] = [];
    const entries = list.props.entries;
    if (isUnknown(entries)) p.unknownValue(`the entries of prefix list ${list.name} (${subject})`);
    else {
        for (const entry of asList(entries)) {
            const cidr = isObject(entry) ? entry.cidr : undefined;
            if (typeof cidr === "string" && !isUnknown(cidr)) cidrs.push(cidr);
            else if (isUnknown(entry) || isUnknown(cidr)) p.unknownValue(`an entry of prefix list ${list.name} (${subject})`);
        }
    }
    const ids = [knownString(list.props.id)].filter((v): v is string => v !== undefined);
    for (const entry of lists.index.linked(list, [TYPES.managedPrefixListEntry], "prefixListId", ids)) {
        const cidr = knownString(entry.props.cidr);
        if (cidr !== undefined) cidrs.push(cidr);
        else p.unknownValue(`the cidr of prefix list entry ${entry.name} (${subject})`);
    }
    const unplaced = lists.index.unresolved([TYPES.managedPrefixListEntry], "prefixListId");
    if (unplaced.length > 0) {
        p.unknownNote(`cannot tell whether prefix list entr${unplaced.length === 1 ? "y" : "ies"} ${listNames(unplaced.map((r) => r.name))} add${unplaced.length === 1 ? "s" : ""} to prefix list ${list.name} (${subject}) during preview: prefixListId is unknown`);
    }
    return cidrs;
}

/**
 * Judge the prefix list a rule names (`value`, the rule's prefixListId, with `deps` the URNs its property came
 * from): by the list's known id, else by the property's dependencies (preview, when a new list's id is unknown).
 */
function judgePrefixList(value: unknown, deps: readonly string[], label: string, lists: PrefixLists, config: Required<EgressConfig>, p: Problems): void {
    const known = knownString(value);
    let targets: readonly RuleResource[] = known === undefined ? [] : lists.byId.get(known) ?? [];
    if (targets.length === 0) {
        targets = deps.map((urn) => lists.index.byUrn(urn)).filter((r): r is RuleResource => r !== undefined && PREFIX_LIST_TYPES.includes(r.type));
    }
    if (targets.length === 0) {
        if (known === undefined) p.unknownValue(`the prefix list of ${label}`);
        else if (!config.allowedPrefixListIds.includes(known)) {
            p.unknownNote(
                `${label} names prefix list ${known}, which is not a resource of this stack: its entries cannot be checked — ` +
                "if it is the region's S3 prefix list (com.amazonaws.<region>.s3), add its id to allowedPrefixListIds; otherwise " +
                "declare the list in the stack (or use the S3 gateway endpoint's prefixListId)",
            );
        }
        return;
    }
    for (const target of targets) {
        if (target.type === TYPES.vpcEndpoint) {
            const service = target.props.serviceName;
            if (isUnknown(service)) p.unknownValue(`the service of VPC endpoint ${target.name}, whose prefix list ${label} names`);
            else if (typeof service !== "string" || !S3_SERVICE.test(service)) {
                p.violation(`${label} reaches the prefix list of VPC endpoint ${target.name} (${String(service)}) — an isolation group may reach only the S3 gateway endpoint's prefix list and the endpoints' group`);
            }
            continue;
        }
        const outside = entriesOf(target, lists, p, label).filter((cidr) => !isAllowedCidr(cidr, config.allowedCidrs));
        if (outside.length > 0) {
            const shown = [...new Set(outside)].map((c) => (isWholeInternet(c) ? `${c} (the internet)` : c));
            p.violation(
                `${label} reaches customer-managed prefix list ${target.name}, whose entries include ${listNames(shown, 5)} — ` +
                "remove those entries (a CIDR an isolation group may reach must be in allowedCidrs) or point the rule at the S3 " +
                "gateway endpoint's prefix list",
            );
        }
    }
}

/** The prefix-list destination of an adapted rule, if it has one (adaptBlock makes one rule per destination). */
function prefixListTargets(a: AdaptedRule): unknown[] {
    return "rule" in a && a.rule.prefixListId !== undefined && a.rule.prefixListId !== null ? [a.rule.prefixListId] : [];
}

/**
 * Judge adapted rules; `label` names each in messages. `deps` are the URNs the rules' prefix-list property came
 * from (`prefixListId`, `prefixListIds`, or a group's whole `egress`).
 */
function judge(
    adapted: readonly AdaptedRule[], label: (a: AdaptedRule) => string, config: Required<EgressConfig>, p: Problems,
    lists: PrefixLists, deps: readonly string[],
): void {
    for (const a of adapted) {
        const result = adaptedRuleProblems(a, config.allowedPorts, config.allowedCidrs);
        if ("unknownFields" in result) p.unknownValue(`${result.unknownFields.join(", ")} of ${label(a)}`);
        else if (result.problems.length > 0) p.violation(`${label(a)} ${result.problems.join("; ")}`);
        for (const value of prefixListTargets(a)) judgePrefixList(value, deps, label(a), lists, config, p);
    }
}

/** A rule for messages; a destination unknown at preview shows as "(unknown)", not as the engine's placeholder. */
const shown = <T>(v: T): T | string => (isUnknown(v) ? "(unknown)" : v);
const describe = (a: AdaptedRule) => ("rule" in a
    ? ` (${describeRule({ ...a.rule, prefixListId: shown(a.rule.prefixListId), referencedSecurityGroupId: shown(a.rule.referencedSecurityGroupId) })})`
    : "");

/** The rule, as a pure function of the stack: a finding per isolation group and per egress rule resource of one. */
export function checkIsolationGroupEgress(resources: Iterable<RuleResource>, config: EgressConfig = DEFAULTS): Finding[] {
    const all = [...resources];
    const settings: Required<EgressConfig> = { ...DEFAULTS, ...config, allowedPrefixListIds: config.allowedPrefixListIds ?? DEFAULTS.allowedPrefixListIds };
    const view = isolationView(all);
    // Only stacks with an isolation group pay for the prefix-list index.
    const lists = view.groups.length + view.rules.length > 0 ? prefixLists(all) : prefixLists([]);
    const findings: Finding[] = undecidedGroupNotes(view);
    for (const sg of view.groups) {
        const p = new Problems();
        const egress = sg.props.egress;
        if (isUnknown(egress)) p.unknownValue("its inline egress rules");
        else {
            const selfId = knownString(sg.props.id) ?? "self";
            asList(egress).filter(isObject).forEach((block, i) => {
                judge(adaptBlock("egress", block, selfId), (a) => `inline egress rule #${i + 1}${describe(a)}`, settings, p, lists, sg.propertyDependencies?.egress ?? []);
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
            const deps = r.propertyDependencies?.[r.type === TYPES.egressRule ? "prefixListId" : "prefixListIds"] ?? [];
            judge(adapted, (a) => (rule.group === undefined ? `egress${describe(a)}` : `egress rule ${r.name}${describe(a)}`), settings, p, lists, deps);
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
        "Every egress rule of a security group tagged dfir:role=isolation or dfir:role=workstation, or named in a function's ISOLATION_GROUPS (inline egress, SecurityGroupEgressRule, egress " +
        "SecurityGroupRule) is TCP on an allowed port (default 443) to a prefix list or a security group; no CIDR unless in " +
        "allowedCidrs; never protocol -1. A prefix list must be an S3 gateway endpoint's, or a customer-managed list whose every " +
        "entry is in allowedCidrs.",
    enforcementLevel: "mandatory",
    severity: "critical",
    tags: ["ec2", "isolation", "containment"],
    remediationSteps:
        "Replace the rule with TCP 443 egress to the S3 gateway endpoint's prefix list (prefixListId) and to the SSM interface " +
        "endpoints' security group (referencedSecurityGroupId), as core/isolation.ts isolationEgressRules builds them; never " +
        "0.0.0.0/0, ::/0 or protocol -1, and no customer-managed prefix list with an entry outside allowedCidrs.",
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
                description: "CIDRs an isolation group may reach (the same block, however written), directly or as prefix-list entries, e.g. a forensic collector's address.",
            },
            allowedPrefixListIds: {
                type: "array",
                items: { type: "string" },
                default: [...DEFAULTS.allowedPrefixListIds],
                description: "Prefix-list ids that are not resources of the stack and that isolation groups may reach without a note, e.g. the region's S3 prefix list when the stack looks it up.",
            },
        },
    },
    validateStack: (args, report) =>
        runStackRule(args, report, egressConfig, checkIsolationGroupEgress, "the stack has no isolation group"),
};
