/**
 * Cutting the established flows of a contained instance with network ACL entries: which ACLs get entries, which
 * entries, at which rule numbers, and which paths of each interface could still carry a flow afterwards. Pure: the
 * Contain function reads the VPC (ACLs, route tables, endpoints, the interfaces in the subnets), asks this module,
 * makes the calls, and records the assessment this module gives for what happened.
 *
 * Why network ACLs: changing security groups never ends a tracked connection, and flows through NAT gateways,
 * load balancers, interface endpoints and the like are tracked automatically, whatever the groups say; "adding a
 * network ACL that blocks traffic in either direction breaks existing connections" (EC2 User Guide, "Security
 * group connection tracking").
 *
 * What ACLs can and cannot do (VPC User Guide, "Network ACL rules"):
 * - a rule's CIDR is one-sided: inbound rules match the source, outbound rules the destination. The instance's
 *   own subnet's ACL therefore cannot single it out (its rules would match the remote side, for every instance of
 *   the subnet); the instance's addresses can be denied only in the ACLs of the OTHER subnets its packets enter or
 *   leave: inbound deny source = the instance, outbound deny destination = the instance. Such a rule touches no
 *   other instance, so it is safe in an ACL shared by many subnets (even one that also serves the instance's own
 *   subnet, where it simply never matches).
 * - ACLs are evaluated where traffic enters or leaves a subnet, never inside one: a flow with a peer in the same
 *   subnet cannot be cut. Nor can a flow that leaves the VPC straight from the instance's own subnet (internet
 *   gateway, egress-only internet gateway, VPC peering, virtual private gateway, gateway endpoints).
 * - rules are evaluated lowest number first and the first match decides, so the entries go below the first allow
 *   rule that would admit the instance's addresses; numbers are 1 to 32766 and unique per direction.
 * - quota: 20 rules per direction and address family, the default rule included (adjustable to 40): an ACL
 *   without room is left alone and its paths recorded as open.
 * The forensic channel: the SSM agent reaches the SSM interface endpoints (HTTPS), which may sit in another subnet.
 * An ACL serving an endpoint subnet gets allow rules for the instance (TCP 443 in, replies to 1024-65535 out)
 * before its deny rules. ACL rules cannot name a destination on inbound rules, so such an allow also admits the
 * instance's TCP 443 to every other subnet that ACL serves and to any other interface in the endpoint subnet:
 * those paths are recorded as open. (S3 is reached through a gateway endpoint: out of the instance's own subnet
 * only, never through an ACL these rules change.)
 */
import { cidrContains, parseAddress, sameCidr } from "./cidr";
import type { NetworkAclEntryRecord } from "./workflow";

/** The one-way quota of rules per network ACL, per address family, the default rule included (default value). */
export const DEFAULT_NACL_RULE_QUOTA = 20;
/** Rule numbers users may give (32767 and above are the default rules). */
export const MAX_RULE_NUMBER = 32766;
/** The forensic channel: HTTPS to the SSM interface endpoints, and their replies to the client's port range. */
export const FORENSIC_PORT = 443;
export const EPHEMERAL_PORTS = { from: 1024, to: 65535 } as const;
/** Protocol numbers as ACL entries carry them. */
export const ALL_PROTOCOLS = "-1";
export const TCP = "6";

/** One ACL rule as DescribeNetworkAcls returns it (the fields that matter here); a case's record adds where and why. */
export type AclEntry = Omit<NetworkAclEntryRecord, "networkAclId" | "networkInterfaceId" | "purpose">;

/** A network ACL: its rules and the subnets it serves. */
export interface AclView {
    networkAclId: string;
    vpcId: string;
    subnetIds: string[];
    entries: AclEntry[];
}

/** A route table: the subnets it serves (main: every subnet without an explicit association) and its route targets. */
export interface RouteTableView {
    routeTableId: string;
    vpcId: string;
    main: boolean;
    subnetIds: string[];
    routes: { destination: string; target: string }[];
}

/** A VPC endpoint of the instance's VPC. */
export interface EndpointView {
    vpcEndpointId: string;
    vpcId: string;
    serviceName: string;
    type: string;
    subnetIds: string[];
    networkInterfaceIds: string[];
}

/** One interface of the contained instance, as recorded or read. */
export interface SuspectInterface {
    networkInterfaceId: string;
    vpcId: string;
    subnetId: string;
    /** Every private IPv4 address (primary first). */
    ipv4: string[];
    ipv6: string[];
    /** A public IPv4 address (an Elastic IP or an auto-assigned one), if the interface has one. */
    publicIpv4?: string;
}

/** What the planner decides from (one response: every VPC of the instance's interfaces). */
export interface NetworkCutInput {
    interfaces: SuspectInterface[];
    /** The ACLs of those VPCs; a VPC whose ACLs could not be read is in `unreadable`. */
    acls: AclView[];
    routeTables: RouteTableView[];
    endpoints: EndpointView[];
    /** Every interface in each subnet of interest (the instance's subnets and the endpoint subnets). */
    subnetInterfaces: Record<string, string[]>;
    /** VPC id -> why its network could not be read. */
    unreadable?: Record<string, string>;
    /** Rules per direction and family an ACL may hold. @default DEFAULT_NACL_RULE_QUOTA */
    ruleQuota?: number;
}

/** A rule the response puts (or found already put by an earlier attempt of the same case). */
export interface PlannedEntry extends AclEntry {
    networkAclId: string;
    /** deny: the instance's address; forensic-allow: the SSM channel kept open before that deny. */
    purpose: "deny" | "forensic-allow";
    /** The interface whose address it names. */
    networkInterfaceId: string;
    /** Already in the ACL (an earlier attempt put it): not created again. */
    existing?: boolean;
}

/** The plan for one ACL. */
export interface AclPlan {
    networkAclId: string;
    vpcId: string;
    /** The subnets it serves other than the instance's own. */
    otherSubnetIds: string[];
    /** Every rule the ACL must hold, new and existing, in the order to create them (denies first). */
    entries: PlannedEntry[];
    /** The SSM endpoint subnets among them: the ACL gets forensic allow rules before its denies. */
    endpointSubnetIds: string[];
    /** Why the ACL is left alone (no room, no rule number): its paths stay open. */
    problem?: string;
}

/** What happened to one ACL's rules, for the assessment. */
export interface AclOutcome {
    networkAclId: string;
    /** Every deny rule is in place. */
    denied: boolean;
    /** Every forensic allow rule is in place (or none was needed). */
    forensicKept: boolean;
    /** Why not, one line. */
    problem?: string;
}

/** One way an interface's established flows could travel, and whether it is cut. */
export interface PathAssessment {
    /** other-subnets | same-subnet | internet-gateway | egress-only-internet-gateway | vpc-peering | vpn-gateway | gateway-endpoint | route */
    path: string;
    open: boolean;
    reason: string;
}

/** One interface's verdict. */
export interface InterfaceAssessment {
    networkInterfaceId: string;
    vpcId: string;
    subnetId: string;
    /** Some path could still carry an established flow. */
    possiblyOpen: boolean;
    paths: PathAssessment[];
}

const SSM_SERVICES = /\.(ssm|ssmmessages|ec2messages)$/;

/** The SSM interface endpoints of a VPC: the forensic channel the rules must keep. */
export function forensicEndpoints(endpoints: readonly EndpointView[], vpcId: string): EndpointView[] {
    return endpoints.filter((e) => e.vpcId === vpcId && e.type.toLowerCase() === "interface" && SSM_SERVICES.test(e.serviceName));
}

function family(address: string): 4 | 6 {
    return parseAddress(address)?.family === 6 ? 6 : 4;
}

function cidrOf(entry: AclEntry): string | undefined {
    return entry.cidrBlock ?? entry.ipv6CidrBlock;
}

/** The same rule (direction, action, protocol, block, ports), whatever its number. */
export function sameEntry(a: AclEntry, b: AclEntry): boolean {
    const x = cidrOf(a);
    const y = cidrOf(b);
    return a.egress === b.egress && a.ruleAction === b.ruleAction && a.protocol === b.protocol && x !== undefined && y !== undefined && sameCidr(x, y)
        && (a.portRange?.from ?? -1) === (b.portRange?.from ?? -1) && (a.portRange?.to ?? -1) === (b.portRange?.to ?? -1);
}

/** The single-address block of an address: `/32`, `/128`. */
function hostBlock(address: string): { cidrBlock: string } | { ipv6CidrBlock: string } {
    return family(address) === 4 ? { cidrBlock: `${address}/32` } : { ipv6CidrBlock: `${address.toLowerCase()}/128` };
}

/** Addresses of the instance in one VPC, with the interface each belongs to. */
function addressesIn(interfaces: readonly SuspectInterface[], vpcId: string): { address: string; networkInterfaceId: string }[] {
    return interfaces
        .filter((i) => i.vpcId === vpcId)
        .flatMap((i) => [...i.ipv4, ...i.ipv6].filter((a) => parseAddress(a) !== undefined).map((address) => ({ address, networkInterfaceId: i.networkInterfaceId })));
}

/**
 * The rules one ACL needs, and their numbers: for each address, in each direction, a deny below the first rule
 * that would allow the address (so it decides first), and where the ACL serves an endpoint subnet, a forensic
 * allow below that deny. Rules an earlier attempt put are adopted, never duplicated; numbers in use are never
 * reused. Leaves the ACL alone (with `problem`) when the rules do not fit its quota or no number is free.
 */
export function planAcl(
    acl: AclView,
    context: { interfaces: readonly SuspectInterface[]; endpointSubnetIds: readonly string[]; ruleQuota?: number },
): AclPlan {
    const suspectSubnets = new Set(context.interfaces.filter((i) => i.vpcId === acl.vpcId).map((i) => i.subnetId));
    const otherSubnetIds = acl.subnetIds.filter((s) => !suspectSubnets.has(s));
    const endpointSubnetIds = otherSubnetIds.filter((s) => context.endpointSubnetIds.includes(s));
    const plan: AclPlan = { networkAclId: acl.networkAclId, vpcId: acl.vpcId, otherSubnetIds, endpointSubnetIds, entries: [] };
    if (otherSubnetIds.length === 0) return plan;
    const needsAllow = endpointSubnetIds.length > 0;
    const quota = context.ruleQuota ?? DEFAULT_NACL_RULE_QUOTA;
    const addresses = addressesIn(context.interfaces, acl.vpcId);
    const wanted: PlannedEntry[] = [];
    for (const egress of [false, true]) {
        const existing = acl.entries.filter((e) => e.egress === egress);
        const used = new Set(existing.map((e) => e.ruleNumber));
        const take = (below: number): number | undefined => {
            for (let n = Math.min(below - 1, MAX_RULE_NUMBER); n >= 1; n--) if (!used.has(n)) {
                used.add(n);
                return n;
            }
            return undefined;
        };
        for (const { address, networkInterfaceId } of addresses) {
            const block = hostBlock(address);
            const deny: AclEntry = { ruleNumber: 0, egress, ruleAction: "deny", protocol: ALL_PROTOCOLS, ...block };
            const allow: AclEntry = egress
                ? { ruleNumber: 0, egress, ruleAction: "allow", protocol: TCP, ...block, portRange: { ...EPHEMERAL_PORTS } }
                : { ruleNumber: 0, egress, ruleAction: "allow", protocol: TCP, ...block, portRange: { from: FORENSIC_PORT, to: FORENSIC_PORT } };
            // The first rule that would let the address through (not one of ours): everything of ours goes below it.
            const firstAllow = existing
                .filter((e) => e.ruleAction === "allow" && !(needsAllow && sameEntry(e, allow)) && cidrOf(e) !== undefined && cidrContains(cidrOf(e) as string, address))
                .reduce((min, e) => Math.min(min, e.ruleNumber), MAX_RULE_NUMBER + 1);
            const found = existing.find((e) => sameEntry(e, deny) && e.ruleNumber < firstAllow);
            const denyNumber = found?.ruleNumber ?? take(firstAllow);
            if (denyNumber === undefined) {
                plan.problem = `no free rule number below ${firstAllow} (${egress ? "outbound" : "inbound"}) for ${address}`;
                return { ...plan, entries: [] };
            }
            wanted.push({ ...deny, ruleNumber: denyNumber, networkAclId: acl.networkAclId, purpose: "deny", networkInterfaceId, ...(found ? { existing: true } : {}) });
            if (needsAllow) {
                const foundAllow = existing.find((e) => sameEntry(e, allow) && e.ruleNumber < denyNumber);
                const allowNumber = foundAllow?.ruleNumber ?? take(denyNumber);
                if (allowNumber === undefined) {
                    plan.problem = `no free rule number below ${denyNumber} (${egress ? "outbound" : "inbound"}) for the forensic channel of ${address}`;
                    return { ...plan, entries: [] };
                }
                wanted.push({ ...allow, ruleNumber: allowNumber, networkAclId: acl.networkAclId, purpose: "forensic-allow", networkInterfaceId, ...(foundAllow ? { existing: true } : {}) });
            }
        }
        for (const fam of [4, 6] as const) {
            const now = existing.filter((e) => (e.ipv6CidrBlock !== undefined ? 6 : 4) === fam).length;
            const more = wanted.filter((w) => w.egress === egress && !w.existing && (w.ipv6CidrBlock !== undefined ? 6 : 4) === fam).length;
            if (more > 0 && now + more > quota) {
                plan.problem = `no room: ${egress ? "outbound" : "inbound"} IPv${fam} rules would be ${now + more}, over the quota of ${quota} (the default rule included)`;
                return { ...plan, entries: [] };
            }
        }
    }
    // Denies first: the forensic channel is cut for a moment rather than the instance admitted for one.
    plan.entries = [...wanted.filter((w) => w.purpose === "deny"), ...wanted.filter((w) => w.purpose === "forensic-allow")];
    return plan;
}

/** The plan for every ACL of the instance's VPCs. */
export function planNetworkCut(input: NetworkCutInput): AclPlan[] {
    const vpcs = [...new Set(input.interfaces.map((i) => i.vpcId))];
    return vpcs.flatMap((vpcId) => {
        if (input.unreadable?.[vpcId] !== undefined) return [];
        const context = {
            interfaces: input.interfaces,
            endpointSubnetIds: forensicEndpoints(input.endpoints, vpcId).flatMap((e) => e.subnetIds),
            ...(input.ruleQuota !== undefined ? { ruleQuota: input.ruleQuota } : {}),
        };
        return input.acls.filter((a) => a.vpcId === vpcId).map((acl) => planAcl(acl, context));
    });
}

/**
 * What an ACL's forensic allow rules admit besides the SSM endpoints (each an open path): an inbound rule cannot
 * name its destination, so "TCP 443 from the instance" reaches every subnet the ACL serves and every other
 * interface of the endpoint subnets.
 */
export function forensicAllowAdmits(plan: AclPlan, input: Pick<NetworkCutInput, "interfaces" | "endpoints" | "subnetInterfaces">): string[] {
    if (plan.endpointSubnetIds.length === 0) return [];
    const out: string[] = [];
    const others = plan.otherSubnetIds.filter((s) => !plan.endpointSubnetIds.includes(s));
    if (others.length > 0) out.push(`TCP 443 into ${others.join(", ")} (${plan.networkAclId} also serves them)`);
    const ours = new Set([...forensicEndpoints(input.endpoints, plan.vpcId).flatMap((e) => e.networkInterfaceIds), ...input.interfaces.map((i) => i.networkInterfaceId)]);
    for (const subnet of plan.endpointSubnetIds) {
        const strangers = (input.subnetInterfaces[subnet] ?? []).filter((id) => !ours.has(id));
        if (strangers.length > 0) out.push(`TCP 443 to ${strangers.join(", ")} (in the endpoint subnet ${subnet})`);
    }
    return out;
}

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
function routeTableOf(tables: readonly RouteTableView[], vpcId: string, subnetId: string): RouteTableView | undefined {
    const mine = tables.filter((t) => t.vpcId === vpcId);
    return mine.find((t) => t.subnetIds.includes(subnetId)) ?? mine.find((t) => t.main);
}

/** Paths that leave the VPC straight from the instance's own subnet, by route target (none of them crosses another subnet). */
function routePaths(iface: SuspectInterface, table: RouteTableView | undefined, endpoints: readonly EndpointView[]): PathAssessment[] {
    if (!table) return [];
    const out: PathAssessment[] = [];
    const seen = new Set<string>();
    const once = (key: string, path: PathAssessment) => {
        if (!seen.has(key)) {
            seen.add(key);
            out.push(path);
        }
    };
    const unsingled = "a network ACL rule matches only the remote address there, so none can single out this instance";
    for (const { destination, target } of table.routes) {
        const v6 = destination.includes(":");
        if (target === "local" || target.startsWith("nat-") || target.startsWith("tgw-") || target.startsWith("eni-")) continue; // into another subnet: the ACL rules apply
        if (target.startsWith("igw-")) {
            if (!v6 && iface.publicIpv4) once(`igw4`, { path: "internet-gateway", open: true, reason: `straight out through ${target} with public address ${iface.publicIpv4}: ${unsingled}` });
            if (v6 && iface.ipv6.length > 0) once(`igw6`, { path: "internet-gateway", open: true, reason: `IPv6 straight out through ${target}: ${unsingled}` });
        } else if (target.startsWith("eigw-")) {
            if (iface.ipv6.length > 0) once(target, { path: "egress-only-internet-gateway", open: true, reason: `IPv6 out through ${target} (automatically tracked): ${unsingled}` });
        } else if (target.startsWith("pcx-")) {
            once(target, { path: "vpc-peering", open: true, reason: `${destination} through ${target} leaves the VPC from the instance's own subnet: ${unsingled}` });
        } else if (target.startsWith("vgw-")) {
            once(target, { path: "vpn-gateway", open: true, reason: `${destination} through ${target} leaves the VPC from the instance's own subnet: ${unsingled}` });
        } else if (target.startsWith("vpce-")) {
            const endpoint = endpoints.find((e) => e.vpcEndpointId === target);
            // The S3 gateway endpoint is the forensic channel's upload path; a GWLB endpoint is an interface in a subnet.
            if (endpoint && (endpoint.serviceName.endsWith(".s3") || endpoint.type.toLowerCase() !== "gateway")) continue;
            once(target, { path: "gateway-endpoint", open: true, reason: `${endpoint?.serviceName ?? destination} through ${target} (a gateway endpoint: out of the instance's own subnet; DynamoDB's is automatically tracked): ${unsingled}` });
        } else {
            once(target, { path: "route", open: true, reason: `${destination} through ${target}: a route target this response does not analyse` });
        }
    }
    return out;
}

/**
 * Per interface, after the rules were (or were not) put: the paths an established flow could take and whether each
 * is cut. `outcomes` says what happened to each planned ACL (an ACL without an outcome was not attempted).
 */
export function assessInterfaces(input: NetworkCutInput, plans: readonly AclPlan[], outcomes: readonly AclOutcome[]): InterfaceAssessment[] {
    return input.interfaces.map((iface) => {
        const paths: PathAssessment[] = [];
        const unreadable = input.unreadable?.[iface.vpcId];
        if (unreadable !== undefined) {
            paths.push({ path: "other-subnets", open: true, reason: `the VPC's network could not be read (${unreadable}): no network ACL rule put` });
        } else {
            const mine = plans.filter((p) => p.vpcId === iface.vpcId && p.otherSubnetIds.length > 0);
            const problems: string[] = [];
            const denied: string[] = [];
            for (const plan of mine) {
                const outcome = outcomes.find((o) => o.networkAclId === plan.networkAclId);
                if (plan.problem !== undefined) problems.push(`${plan.networkAclId} (${plan.otherSubnetIds.join(", ")}): ${plan.problem}`);
                else if (!outcome) problems.push(`${plan.networkAclId} (${plan.otherSubnetIds.join(", ")}): not attempted`);
                else if (!outcome.denied) problems.push(`${plan.networkAclId} (${plan.otherSubnetIds.join(", ")}): ${outcome.problem ?? "deny rules not in place"}`);
                else {
                    denied.push(plan.networkAclId);
                    for (const also of forensicAllowAdmits(plan, input)) problems.push(`the forensic channel's allow rule in ${plan.networkAclId} admits ${also}`);
                }
            }
            // An address no rule can name, or a read that did not show the interface's own subnet in any ACL: the
            // plan cannot have covered it, so the path is open, never taken as cut.
            const unreadableAddresses = [...iface.ipv4, ...iface.ipv6].filter((a) => parseAddress(a) === undefined);
            if (unreadableAddresses.length > 0) problems.push(`addresses that cannot be read as IPv4/IPv6 (${unreadableAddresses.join(", ")}): no rule names them`);
            if (!input.acls.some((a) => a.vpcId === iface.vpcId && a.subnetIds.includes(iface.subnetId))) problems.push(`no network ACL read serves its subnet ${iface.subnetId}`);
            if (mine.length > 0 || problems.length > 0) {
                paths.push(problems.length > 0
                    ? { path: "other-subnets", open: true, reason: problems.join("; ") }
                    : { path: "other-subnets", open: false, reason: `every packet to or from its addresses is denied where it enters or leaves another subnet (${denied.join(", ")})` });
            }
        }
        const forensic = new Set(forensicEndpoints(input.endpoints, iface.vpcId).flatMap((e) => e.networkInterfaceIds));
        const own = new Set(input.interfaces.map((i) => i.networkInterfaceId));
        const neighbours = (input.subnetInterfaces[iface.subnetId] ?? []).filter((id) => !own.has(id) && !forensic.has(id));
        if (neighbours.length > 0) {
            paths.push({ path: "same-subnet", open: true, reason: `${neighbours.length} other interface(s) in ${iface.subnetId} (${neighbours.slice(0, 5).join(", ")}${neighbours.length > 5 ? ", ..." : ""}): network ACLs never filter traffic inside a subnet` });
        }
        if (unreadable === undefined) paths.push(...routePaths(iface, routeTableOf(input.routeTables, iface.vpcId, iface.subnetId), input.endpoints));
        return { networkInterfaceId: iface.networkInterfaceId, vpcId: iface.vpcId, subnetId: iface.subnetId, possiblyOpen: paths.some((p) => p.open), paths };
    });
}

/**
 * An interface's paths as the network ACL step assessed them; an interface it never looked at (no subnet recorded,
 * the step failed, the VPC skipped) is possibly open, never closed by default.
 */
export function assessedPaths(assessed: readonly InterfaceAssessment[], networkInterfaceId: string): PathAssessment[] {
    const found = assessed.find((a) => a.networkInterfaceId === networkInterfaceId);
    if (found) return found.paths;
    return [{ path: "other-subnets", open: true, reason: "not assessed: the network ACL step did not look at this interface (no subnet recorded, or the step failed): no network ACL rule is known to cut its flows" }];
}

/** Whether the forensic channel may be cut (a forensic allow rule failed where its deny went in). */
export function forensicChannelProblems(outcomes: readonly AclOutcome[]): string[] {
    return outcomes.filter((o) => o.denied && !o.forensicKept).map((o) => `${o.networkAclId}: ${o.problem ?? "the forensic allow rules are not in place"}`);
}
