/**
 * The forensic workstation has no public address. It reads evidence that came from compromised hosts; the pack
 * already holds its security group to the isolation contract (nothing in, HTTPS to the endpoints out, mandatory),
 * and a public address would leave that group as the only thing between the workstation and the internet.
 * Mandatory, like the group's own rules.
 *
 * What gives an instance a public address (Amazon EC2 API Reference, "InstanceNetworkInterfaceSpecification",
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceNetworkInterfaceSpecification.html:
 * AssociatePublicIpAddress "can only be assigned to a network interface for eth0, and can only be assigned to a new
 * network interface, not an existing one ... If launching into a default subnet, the default value is true"; and
 * "ModifySubnetAttribute": MapPublicIpOnLaunch, AssignIpv6AddressOnCreation):
 * - `associatePublicIpAddress: true` (on the instance, or on its launch template's network interface);
 * - left unset, the subnet decides: `mapPublicIpOnLaunch: true`, or no subnet at all (the default VPC's default
 *   subnet, which assigns one). An explicit `associatePublicIpAddress: false` overrides the subnet; an existing
 *   network interface as eth0 never gets one at launch;
 * - an Elastic IP: `ec2.Eip` with `instance` or `networkInterface`, or an `ec2.EipAssociation` with `instanceId` or
 *   `networkInterfaceId`, naming the workstation or one of its network interfaces;
 * - IPv6 addresses, which are globally unique ("the IPv6 globally unique address" of a network interface):
 *   `ipv6AddressCount` > 0, `ipv6Addresses`, `enablePrimaryIpv6`, the subnet's `assignIpv6AddressOnCreation`.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { asList, finding, isObject, isUnknown, knownString, Problems, TYPES, unknown, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { flag, launchTemplateOf, onlyWithInstances, workstationView, workstationFindings, type WorkstationView } from "../lib/workstation";

export const NAME = "workstation-no-public-ip";

/** Network interfaces the instance is given (existing ones), as references with their property's dependencies. */
function interfaceRefs(instance: RuleResource): { value: unknown; deps?: readonly string[]; primary: boolean }[] {
    const refs: { value: unknown; deps?: readonly string[]; primary: boolean }[] = [];
    const primary = instance.props.primaryNetworkInterface;
    if (isObject(primary) && primary.networkInterfaceId !== undefined) {
        refs.push({ value: primary.networkInterfaceId, deps: instance.propertyDependencies?.primaryNetworkInterface, primary: true });
    }
    for (const ni of asList(instance.props.networkInterfaces)) {
        if (isObject(ni) && ni.networkInterfaceId !== undefined) {
            refs.push({ value: ni.networkInterfaceId, deps: instance.propertyDependencies?.networkInterfaces, primary: ni.deviceIndex === 0 });
        }
    }
    return refs;
}

function checkIpv6(owner: string, props: Readonly<Record<string, unknown>>, p: Problems): void {
    const count = props.ipv6AddressCount;
    if (isUnknown(count) || isUnknown(props.ipv6Addresses) || isUnknown(props.enablePrimaryIpv6)) p.unknownValue(`the IPv6 addresses of ${owner}`);
    if (typeof count === "number" && count > 0) p.violation(`${owner} asks for ${count} IPv6 address${count === 1 ? "" : "es"} (globally unique, public) — remove ipv6AddressCount`);
    if (Array.isArray(props.ipv6Addresses) && props.ipv6Addresses.length > 0) p.violation(`${owner} has IPv6 addresses (globally unique, public) — remove ipv6Addresses`);
    if (props.enablePrimaryIpv6 === true) p.violation(`${owner} enables a primary IPv6 address (globally unique, public) — remove enablePrimaryIpv6`);
}

/** The subnet's launch-time address attributes, where the instance leaves them to it. */
function checkSubnet(view: WorkstationView, subnetRef: unknown, deps: readonly string[] | undefined, publicV4Open: boolean, p: Problems): void {
    if (subnetRef === undefined || subnetRef === null || subnetRef === "") {
        if (publicV4Open) {
            p.violation("it names no subnet, so it launches in the default VPC's default subnet, which assigns a public IPv4 address — set subnetId to a private subnet and associatePublicIpAddress: false");
        }
        return;
    }
    const subnets = view.resolve(subnetRef, deps, [TYPES.subnet]);
    if (subnets.length === 0) {
        const known = knownString(subnetRef);
        if (publicV4Open) {
            p.unknownNote(known === undefined
                ? "cannot check whether its subnet assigns public IPv4 addresses during preview: subnetId is unknown — set associatePublicIpAddress: false"
                : `subnet ${known} is not a resource of this stack: cannot tell whether it assigns public IPv4 addresses — set associatePublicIpAddress: false`);
        }
        return;
    }
    for (const subnet of subnets) {
        const map = flag(subnet.props.mapPublicIpOnLaunch);
        if (publicV4Open && map === "unknown") p.unknownValue(`mapPublicIpOnLaunch of subnet ${subnet.name}`);
        else if (publicV4Open && map === true) {
            p.violation(`subnet ${subnet.name} assigns a public IPv4 address at launch (mapPublicIpOnLaunch: true) — set associatePublicIpAddress: false on the instance, or mapPublicIpOnLaunch: false on the subnet`);
        }
        const v6 = flag(subnet.props.assignIpv6AddressOnCreation);
        if (v6 === "unknown") p.unknownValue(`assignIpv6AddressOnCreation of subnet ${subnet.name}`);
        else if (v6 === true) p.violation(`subnet ${subnet.name} assigns IPv6 addresses (globally unique, public) to what launches in it — set assignIpv6AddressOnCreation: false`);
    }
}

/** Elastic IPs and associations that name `target` (an instance or a network interface) through `props`. */
function elasticIps(view: WorkstationView, target: RuleResource, eipProp: string, assocProp: string): RuleResource[] {
    const ids = [knownString(target.props.id)].filter((v): v is string => v !== undefined);
    return [...view.index.linked(target, [TYPES.eip], eipProp, ids), ...view.index.linked(target, [TYPES.eipAssociation], assocProp, ids)];
}

function checkWorkstation(view: WorkstationView, instance: RuleResource, p: Problems): void {
    const props = instance.props;
    const template = launchTemplateOf(view, instance);
    if (template !== undefined && template.found.length === 0) {
        p.unknownNote(template.ref === undefined
            ? "cannot check its launch template during preview: the template is unknown"
            : `launch template ${template.ref} is not a resource of this stack: cannot check whether its network interfaces ask for a public address`);
    }
    const templateInterfaces = (template?.found ?? []).flatMap((t) => {
        if (isUnknown(t.props.networkInterfaces)) {
            p.unknownValue(`the network interfaces of launch template ${t.name}`);
            return [];
        }
        return asList(t.props.networkInterfaces).filter(isObject).map((ni) => ({ template: t, ni }));
    });

    // Public IPv4 at launch.
    const own = flag(props.associatePublicIpAddress);
    const fromTemplate = templateInterfaces.map(({ template: t, ni }) => ({ t, value: flag(ni.associatePublicIpAddress) }));
    const interfaces = interfaceRefs(instance);
    if (own === "unknown") p.unknownValue("associatePublicIpAddress");
    else if (own === true) p.violation("associatePublicIpAddress is true — set it to false");
    else if (own !== false) {
        for (const { t, value } of fromTemplate) {
            if (value === "unknown") p.unknownValue(`associatePublicIpAddress of launch template ${t.name}`);
            else if (value === true) p.violation(`its launch template ${t.name} asks for a public IPv4 address (networkInterfaces associatePublicIpAddress) — set it to "false"`);
        }
    }
    const explicitlyOff = own === false || (own === undefined && fromTemplate.length > 0 && fromTemplate.every(({ value }) => value === false));
    const existingPrimary = interfaces.some((i) => i.primary);
    const templateSubnet = templateInterfaces.map(({ ni }) => ni.subnetId).find((s) => s !== undefined && s !== null);
    const subnetRef = props.subnetId ?? templateSubnet;
    const subnetDeps = props.subnetId !== undefined ? instance.propertyDependencies?.subnetId : undefined;
    const publicV4Open = own !== true && own !== "unknown" && !explicitlyOff && !existingPrimary;
    if (!existingPrimary) checkSubnet(view, subnetRef, subnetDeps, publicV4Open, p);

    // IPv6 (the instance's own, and its launch template's interfaces).
    checkIpv6("it", props, p);
    for (const { template: t, ni } of templateInterfaces) checkIpv6(`launch template ${t.name}`, ni, p);

    // Elastic IPs on the instance or on one of its network interfaces.
    const eips = elasticIps(view, instance, "instance", "instanceId");
    const ids = [knownString(props.id)].filter((v): v is string => v !== undefined);
    const attached = view.index.linked(instance, [TYPES.networkInterfaceAttachment], "instanceId", ids)
        .map((a) => ({ value: a.props.networkInterfaceId, deps: a.propertyDependencies?.networkInterfaceId }));
    for (const ref of [...interfaces, ...attached]) {
        for (const eni of view.resolve(ref.value, ref.deps, [TYPES.networkInterface])) eips.push(...elasticIps(view, eni, "networkInterface", "networkInterfaceId"));
    }
    for (const eip of new Set(eips)) {
        p.violation(`${eip.type === TYPES.eip ? "Elastic IP" : "Elastic IP association"} ${eip.name} gives it a public address — remove it`);
    }
}

/** The rule, as a pure function of the stack: one finding per workstation instance. */
export function checkWorkstationNoPublicIp(resources: Iterable<RuleResource>): Finding[] {
    const view = workstationView(resources);
    const findings = workstationFindings(view, checkWorkstation);
    if (view.workstations.length === 0) return findings;
    // Associations that cannot be placed at preview could give any workstation an address.
    const unplaced = [
        ...view.index.unresolved([TYPES.eip], "instance"), ...view.index.unresolved([TYPES.eip], "networkInterface"),
        ...view.index.unresolved([TYPES.eipAssociation], "instanceId"), ...view.index.unresolved([TYPES.eipAssociation], "networkInterfaceId"),
    ];
    for (const r of new Set(unplaced)) {
        findings.push(finding(r, unknown(`cannot tell whether ${r.type === TYPES.eip ? "Elastic IP" : "Elastic IP association"} ${r.name} gives the forensic workstation a public address during preview: its instance or network interface is unknown`)));
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "The forensic workstation has no public address",
    description:
        "The forensic workstation (an instance in a ForensicWorkstation, tagged dfir:role=workstation, or behind a workstation group) " +
        "gets no public IPv4 address (associatePublicIpAddress, its subnet's mapPublicIpOnLaunch or the default subnet, its launch " +
        "template), no Elastic IP (on it or its network interfaces) and no IPv6 address.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["ec2", "isolation", "workstation"],
    remediationSteps:
        "Launch the workstation in its private subnet with associatePublicIpAddress: false (components/forensicWorkstation.ts does), " +
        "keep mapPublicIpOnLaunch and assignIpv6AddressOnCreation false on that subnet, and associate no Elastic IP with it or its " +
        "network interfaces; reach it with Session Manager through the SSM endpoints.",
    validateStack: onlyWithInstances((args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkWorkstationNoPublicIp(resources), "the stack has no forensic workstation")),
};
