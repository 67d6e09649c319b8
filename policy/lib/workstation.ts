/**
 * The forensic workstation (components/forensicWorkstation.ts) as the workstation rules see it: which instances
 * are the workstation, and the resources that give an instance addresses (subnets, Elastic IPs, network
 * interfaces, launch templates) and volumes (attachments, EBS volumes), indexed once per stack.
 *
 * An `ec2.Instance` is the workstation when it is created inside a `ForensicWorkstation`, tagged
 * `dfir:role=workstation` (what `dfir attach` finds it by), or runs behind a security group tagged
 * `dfir:role=workstation` (the group the pack already holds to the isolation contract).
 */
import { TAGS } from "../../core/tags";
import { finding, isObject, isUnknown, knownString, Problems, tagOf, TYPES, typeOfUrn, unknown, urnHasAncestorType, asList, type Finding, type RuleResource } from "./model";
import { StackIndex } from "./stackIndex";

export const INSTANCE_TYPES: readonly string[] = [TYPES.instance];

/**
 * Mark a workstation rule's `validateStack` with the instance type, so @pulumi/policy skips the rule (and the
 * per-policy decoding of every resource it does before calling it) on a stack without an `ec2.Instance`: the
 * `__pulumiType` its own `validateStackResourcesOfType` sets (server.js: "Fast check to see if the policy isn't
 * applicable"), without that helper's filtering, since the rules read subnets, Elastic IPs and volumes too.
 */
export function onlyWithInstances<F extends (...args: never[]) => unknown>(validateStack: F): F {
    return Object.assign(validateStack, { __pulumiType: TYPES.instance });
}

/** Links from address and volume resources to an instance or a network interface. */
const LINKS = [
    { types: [TYPES.eip], prop: "instance" },
    { types: [TYPES.eip], prop: "networkInterface" },
    { types: [TYPES.eipAssociation], prop: "instanceId" },
    { types: [TYPES.eipAssociation], prop: "networkInterfaceId" },
    { types: [TYPES.volumeAttachment], prop: "instanceId" },
    { types: [TYPES.networkInterfaceAttachment], prop: "instanceId" },
] as const;

export interface WorkstationView {
    readonly index: StackIndex;
    /** The workstation instances, each with why it is one. */
    readonly workstations: readonly { readonly instance: RuleResource; readonly why: string }[];
    /** Notes on instances that may be the workstation but cannot be told at preview. */
    readonly notes: readonly Finding[];
    /** Resources of `types` a reference names: by a known id (or name), else through the property's dependencies. */
    resolve(value: unknown, deps: readonly string[] | undefined, types: readonly string[]): RuleResource[];
}

/** Identifiers a reference may use for a resource: its id, and for a launch template its name. */
function idsOf(r: RuleResource): string[] {
    return [r.props.id, r.type === TYPES.launchTemplate ? r.props.name : undefined]
        .map(knownString).filter((v): v is string => v !== undefined);
}

export function workstationView(resources: Iterable<RuleResource>): WorkstationView {
    const index = new StackIndex(resources, LINKS);
    const byId = new Map<string, RuleResource[]>();
    for (const type of [TYPES.subnet, TYPES.networkInterface, TYPES.launchTemplate, TYPES.volume, TYPES.securityGroup]) {
        for (const r of index.ofType(type)) {
            for (const id of idsOf(r)) {
                const list = byId.get(id);
                if (list) list.push(r);
                else byId.set(id, [r]);
            }
        }
    }
    const resolve = (value: unknown, deps: readonly string[] | undefined, types: readonly string[]): RuleResource[] => {
        const known = knownString(value);
        const hits = known === undefined ? [] : (byId.get(known) ?? []).filter((r) => types.includes(r.type));
        if (hits.length > 0) return hits;
        return (deps ?? []).map((u) => index.byUrn(u)).filter((r): r is RuleResource => r !== undefined && types.includes(r.type));
    };

    const groupIsWorkstation = (sg: RuleResource) => {
        const role = tagOf(sg.props, TAGS.role);
        return !role.unknown && role.value === TAGS.roleWorkstation;
    };
    const workstations: { instance: RuleResource; why: string }[] = [];
    const notes: Finding[] = [];
    for (const instance of index.ofTypes(INSTANCE_TYPES)) {
        if (typeOfUrn(instance.parent) === TYPES.forensicWorkstation || urnHasAncestorType(instance.urn, TYPES.forensicWorkstation)) {
            workstations.push({ instance, why: "created by a ForensicWorkstation" });
            continue;
        }
        const role = tagOf(instance.props, TAGS.role);
        if (!role.unknown && role.value === TAGS.roleWorkstation) {
            workstations.push({ instance, why: "tagged dfir:role=workstation" });
            continue;
        }
        const groups = [
            ...asList(instance.props.vpcSecurityGroupIds).flatMap((id) => resolve(id, [], [TYPES.securityGroup])),
            ...resolve(undefined, instance.propertyDependencies?.vpcSecurityGroupIds, [TYPES.securityGroup]),
        ];
        const group = groups.find(groupIsWorkstation);
        if (group !== undefined) {
            workstations.push({ instance, why: `behind workstation group ${group.name}` });
            continue;
        }
        if (role.unknown) {
            notes.push(finding(instance, unknown(`instance ${instance.name}: cannot tell whether it is the forensic workstation during preview: its tags are unknown`)));
        }
    }
    return { index, workstations, notes, resolve };
}

/** A boolean the provider may hold as a string (launch templates keep "true" / "false"). */
export function flag(value: unknown): boolean | "unknown" | undefined {
    if (isUnknown(value)) return "unknown";
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    return undefined;
}

/** The launch template an instance names (`launchTemplate.id` / `.name`), if any: found, or the id it names. */
export function launchTemplateOf(view: WorkstationView, instance: RuleResource): { found: RuleResource[]; ref?: string; unknown: boolean } | undefined {
    const spec = instance.props.launchTemplate;
    if (spec === undefined || spec === null) return undefined;
    if (isUnknown(spec)) return { found: view.resolve(undefined, instance.propertyDependencies?.launchTemplate, [TYPES.launchTemplate]), unknown: true };
    if (!isObject(spec)) return undefined;
    const ref = knownString(spec.id) ?? knownString(spec.name);
    const found = [
        ...view.resolve(spec.id, [], [TYPES.launchTemplate]),
        ...view.resolve(spec.name, [], [TYPES.launchTemplate]),
    ];
    const all = found.length > 0 ? found : view.resolve(undefined, instance.propertyDependencies?.launchTemplate, [TYPES.launchTemplate]);
    return { found: [...new Set(all)], ref, unknown: ref === undefined && (isUnknown(spec.id) || isUnknown(spec.name)) };
}

/**
 * The findings of a workstation rule: the view's notes, then one finding per workstation instance, its problems
 * as `check` adds them. The loop both workstation rules share.
 */
export function workstationFindings(view: WorkstationView, check: (view: WorkstationView, instance: RuleResource, p: Problems) => void): Finding[] {
    const findings: Finding[] = [...view.notes];
    for (const { instance, why } of view.workstations) {
        const p = new Problems();
        check(view, instance, p);
        findings.push(finding(instance, p.verdict(`forensic workstation ${instance.name} (${why})`)));
    }
    return findings;
}
