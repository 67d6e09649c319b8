/**
 * Packets in the simulated VPCs: which established flows of an instance could still pass, evaluated packet by
 * packet against the network ACLs and security groups as they are now. Nothing here changes the world.
 *
 * What is modelled, and the AWS page each rule follows:
 * - Network ACLs are evaluated per packet where traffic enters or leaves a subnet, never for traffic inside a
 *   subnet; rules in ascending number, the first match decides; inbound rules match the packet's source, outbound
 *   rules its destination; ports are the destination port; the `*` rule denies (VPC User Guide, "Control subnet
 *   traffic with network ACLs" / "Network ACL rules"). They are stateless: a reply is a packet like any other.
 * - Security groups and connection tracking (EC2 User Guide, "Security group connection tracking"): a tracked
 *   flow is allowed in both directions whatever the groups now say ("When you change a security group rule, its
 *   tracked connections are not immediately interrupted"); an untracked flow is "immediately interrupted if the
 *   rule that enables the flow is removed or modified", so each of its packets is checked against the current
 *   rules. Whether a flow is tracked is decided when it is established: untracked only for TCP/UDP whose groups
 *   allowed all traffic both ways and whose path is not automatically tracked; ICMP is always tracked. AWS does
 *   not document a tracked flow becoming untracked when the groups later change to all-open, so it never does
 *   here (the response's "untrack" step gets no credit).
 * - Idle timeouts are not modelled: the flows here are active (an attacker's session keeps itself alive), and an
 *   idle timeout never ends an active flow.
 * - The peer's own security groups are not evaluated (they are not the response's to change); a new flow (the
 *   SSM agent reaching its endpoint) is checked against both sides' groups.
 */
import { cidrContains } from "../../core/cidr";
import type {
    FlowPath,
    FlowState,
    IpPermissionState,
    NetworkAclEntryState,
    NetworkAclState,
    NetworkInterfaceState,
    RegionState,
    SecurityGroupState,
} from "./state";

/** The S3 prefix list of the drill's region and a few of its ranges (us-east-1's com.amazonaws.us-east-1.s3). */
export const PREFIX_LISTS: Readonly<Record<string, readonly string[]>> = {
    "pl-63a5400a": ["52.216.0.0/15", "54.231.0.0/16", "3.5.0.0/19"],
};
/** An address of S3 in that prefix list (where the memory image goes, through the gateway endpoint). */
export const S3_ADDRESS = "52.217.10.20";
/** First port of the ephemeral range a client picks its source port from. */
const EPHEMERAL = 49152;

/** One packet, as network ACLs and security groups see it. */
export interface Packet {
    src: string;
    dst: string;
    /** "6" TCP, "17" UDP, "1" ICMP. */
    protocol: string;
    /** Destination port (TCP/UDP). */
    port?: number;
}

/** Where a packet crosses a subnet boundary: leaving it (egress rules) or entering it (ingress rules). */
interface Crossing {
    subnetId: string;
    egress: boolean;
    packet: Packet;
}

/** Why a packet is dropped (or undefined when it passes). */
export type Verdict = string | undefined;

/** The network ACL serving a subnet, if the world models one. */
export function aclOfSubnet(r: RegionState, subnetId: string): NetworkAclState | undefined {
    return Object.values(r.networkAcls ?? {}).find((acl) => acl.associations.some((a) => a.subnetId === subnetId));
}

function entryMatches(entry: NetworkAclEntryState, packet: Packet): boolean {
    const address = entry.egress ? packet.dst : packet.src;
    const cidr = entry.cidrBlock ?? entry.ipv6CidrBlock;
    if (cidr === undefined || !cidrContains(cidr, address)) return false;
    if (entry.protocol === "-1") return true;
    if (entry.protocol !== packet.protocol) return false;
    // TCP and UDP rules have a port range (the destination port); ICMP rules a type and code (any here).
    if ((packet.protocol === "6" || packet.protocol === "17") && entry.portRange) {
        return packet.port !== undefined && packet.port >= entry.portRange.from && packet.port <= entry.portRange.to;
    }
    return true;
}

/** The first matching rule of the ACL in the packet's direction decides (VPC User Guide, "Network ACL rules"). */
export function aclVerdict(acl: NetworkAclState, egress: boolean, packet: Packet): { allowed: boolean; ruleNumber: number } {
    const rules = acl.entries.filter((e) => e.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber);
    for (const rule of rules) if (entryMatches(rule, packet)) return { allowed: rule.ruleAction === "allow", ruleNumber: rule.ruleNumber };
    return { allowed: false, ruleNumber: 32767 };
}

function crossingVerdict(r: RegionState, c: Crossing): Verdict {
    const acl = aclOfSubnet(r, c.subnetId);
    if (!acl) return undefined; // a world without network ACLs (saved before they were modelled) filters nothing
    const { allowed, ruleNumber } = aclVerdict(acl, c.egress, c.packet);
    if (allowed) return undefined;
    return `${acl.networkAclId} ${c.egress ? "outbound" : "inbound"} rule ${ruleNumber === 32767 ? "*" : ruleNumber} denies ${c.packet.src} -> ${c.packet.dst}${c.packet.port !== undefined ? `:${c.packet.port}` : ""} (subnet ${c.subnetId})`;
}

/** The subnet boundaries a packet between two subnets crosses: out of one, into the other (none inside one subnet). */
function between(fromSubnet: string, toSubnet: string, packet: Packet): Crossing[] {
    if (fromSubnet === toSubnet) return [];
    return [
        { subnetId: fromSubnet, egress: true, packet },
        { subnetId: toSubnet, egress: false, packet },
    ];
}

/** The crossings of both directions of a flow (requests and replies alike: ACLs are stateless). */
function crossings(r: RegionState, flow: FlowState, local: NetworkInterfaceState): Crossing[] | string {
    const out: Packet = { src: flow.localAddress, dst: flow.remoteAddress, protocol: flow.protocol, ...(flow.protocol !== "1" ? { port: flow.remotePort } : {}) };
    const back: Packet = { src: flow.remoteAddress, dst: flow.localAddress, protocol: flow.protocol, ...(flow.protocol !== "1" ? { port: flow.localPort } : {}) };
    const path = flow.path;
    switch (path.kind) {
        case "internet-gateway":
            return [{ subnetId: local.subnetId, egress: true, packet: out }, { subnetId: local.subnetId, egress: false, packet: back }];
        case "nat-gateway": {
            const nat = r.natGateways?.[path.natGatewayId];
            if (!nat) return `NAT gateway ${path.natGatewayId} is gone`;
            // Inside the VPC the packets keep the instance's address; the NAT gateway translates them to its own
            // towards the internet gateway (VPC User Guide, "NAT gateways").
            const translatedOut: Packet = { ...out, src: nat.privateIp };
            const translatedBack: Packet = { ...back, dst: nat.privateIp, ...(back.port !== undefined ? { port: EPHEMERAL + 1 } : {}) };
            return [
                ...between(local.subnetId, nat.subnetId, out),
                { subnetId: nat.subnetId, egress: true, packet: translatedOut },
                { subnetId: nat.subnetId, egress: false, packet: translatedBack },
                ...between(nat.subnetId, local.subnetId, back),
            ];
        }
        case "peer":
        case "interface-endpoint": {
            const peer = r.networkInterfaces[path.networkInterfaceId];
            if (!peer) return `peer interface ${path.networkInterfaceId} is gone`;
            return [...between(local.subnetId, peer.subnetId, out), ...between(peer.subnetId, local.subnetId, back)];
        }
    }
}

/** Whether a security group rule admits the packet (for `egress`, its destination; else its source). */
function ruleMatches(r: RegionState, rule: IpPermissionState, egress: boolean, packet: Packet): boolean {
    if (rule.IpProtocol !== "-1" && rule.IpProtocol !== "all") {
        const protocol = rule.IpProtocol === "tcp" ? "6" : rule.IpProtocol === "udp" ? "17" : rule.IpProtocol === "icmp" ? "1" : rule.IpProtocol;
        if (protocol !== packet.protocol) return false;
        if (packet.port !== undefined && rule.FromPort !== undefined && rule.ToPort !== undefined && rule.FromPort !== -1) {
            if (packet.port < rule.FromPort || packet.port > rule.ToPort) return false;
        }
    }
    const peer = egress ? packet.dst : packet.src;
    if ((rule.IpRanges ?? []).some((range) => cidrContains(range.CidrIp, peer))) return true;
    if ((rule.Ipv6Ranges ?? []).some((range) => cidrContains(range.CidrIpv6, peer))) return true;
    if ((rule.PrefixListIds ?? []).some((pl) => (PREFIX_LISTS[pl.PrefixListId] ?? []).some((cidr) => cidrContains(cidr, peer)))) return true;
    // A referenced group admits the addresses of the interfaces in it.
    return (rule.UserIdGroupPairs ?? []).some((pair) =>
        Object.values(r.networkInterfaces).some((eni) => eni.groupIds.includes(pair.GroupId) && addressesOf(eni).includes(peer)),
    );
}

/** Whether any of the groups admits the packet in that direction. */
function groupsAdmit(r: RegionState, groupIds: readonly string[], egress: boolean, packet: Packet): boolean {
    return groupIds
        .map((id) => r.securityGroups[id])
        .filter((g): g is SecurityGroupState => g !== undefined)
        .some((g) => (egress ? g.egress : g.ingress).some((rule) => ruleMatches(r, rule, egress, packet)));
}

/** Every address of an interface (private IPv4s and IPv6). */
export function addressesOf(eni: NetworkInterfaceState): string[] {
    return [eni.privateIpAddress, ...(eni.secondaryPrivateIps ?? []), ...eni.ipv6Addresses];
}

/**
 * Why a flow can no longer pass (its first dropped packet), or undefined when every packet of it still passes.
 * Tracked flows pass the security groups whatever they say now; untracked ones are re-checked against them.
 */
export function flowVerdict(r: RegionState, flow: FlowState): Verdict {
    const local = r.networkInterfaces[flow.networkInterfaceId];
    if (!local) return `interface ${flow.networkInterfaceId} is gone`;
    if (!flow.tracked) {
        const out: Packet = { src: flow.localAddress, dst: flow.remoteAddress, protocol: flow.protocol, port: flow.remotePort };
        const back: Packet = { src: flow.remoteAddress, dst: flow.localAddress, protocol: flow.protocol, port: flow.localPort };
        if (!groupsAdmit(r, local.groupIds, true, out)) return `untracked, and the interface's groups (${local.groupIds.join(",")}) no longer allow ${out.dst}:${out.port} out`;
        if (!groupsAdmit(r, local.groupIds, false, back)) return `untracked, and the interface's groups (${local.groupIds.join(",")}) no longer allow ${back.src} in`;
    }
    const path = crossings(r, flow, local);
    if (typeof path === "string") return path;
    for (const c of path) {
        const verdict = crossingVerdict(r, c);
        if (verdict) return verdict;
    }
    return undefined;
}

/** Whether a path is tracked whatever the groups say (EC2 User Guide, "Automatically tracked connections"). */
export function automaticallyTracked(path: FlowPath, protocol: string): boolean {
    return protocol === "1" || path.kind === "nat-gateway" || path.kind === "interface-endpoint";
}

/** Whether the groups allow all traffic in both directions for this family (the only configuration that untracks). */
export function allOpen(r: RegionState, groupIds: readonly string[], ipv6: boolean): boolean {
    const open = (rules: IpPermissionState[]) =>
        rules.some((rule) => (rule.IpProtocol === "-1" || rule.IpProtocol === "all") && (ipv6 ? (rule.Ipv6Ranges ?? []).some((x) => x.CidrIpv6 === "::/0") : (rule.IpRanges ?? []).some((x) => x.CidrIp === "0.0.0.0/0")));
    const groups = groupIds.map((id) => r.securityGroups[id]).filter((g): g is SecurityGroupState => g !== undefined);
    return groups.some((g) => open(g.ingress)) && groups.some((g) => open(g.egress));
}

/**
 * Whether a new TCP connection from the interface to `dst` on `port` could be made now, through the subnets given
 * (`dstSubnet` undefined: out of the interface's subnet, to S3 or the internet): the interface's egress rules and,
 * for a peer interface, its ingress rules (the reply of a new tracked flow needs no rule), and every ACL crossing
 * both ways. Returns why not, or undefined.
 */
export function newConnectionVerdict(r: RegionState, eni: NetworkInterfaceState, dst: string, port: number, peer?: NetworkInterfaceState): Verdict {
    const src = eni.privateIpAddress;
    const out: Packet = { src, dst, protocol: "6", port };
    const back: Packet = { src: dst, dst: src, protocol: "6", port: EPHEMERAL };
    if (!groupsAdmit(r, eni.groupIds, true, out)) return `the groups of ${eni.networkInterfaceId} (${eni.groupIds.join(",")}) do not allow ${dst}:${port} out`;
    if (peer && !groupsAdmit(r, peer.groupIds, false, out)) return `the groups of ${peer.networkInterfaceId} do not allow ${src} in on ${port}`;
    const path: Crossing[] = peer
        ? [...between(eni.subnetId, peer.subnetId, out), ...between(peer.subnetId, eni.subnetId, back)]
        : [{ subnetId: eni.subnetId, egress: true, packet: out }, { subnetId: eni.subnetId, egress: false, packet: back }];
    for (const c of path) {
        const verdict = crossingVerdict(r, c);
        if (verdict) return verdict;
    }
    return undefined;
}

/**
 * The forensic channel of an instance: its SSM agent reaching each SSM interface endpoint of its VPC (HTTPS) and
 * S3 through the gateway endpoint (the memory upload). Why it is cut, or undefined when it works (also when the
 * world does not model the VPC's endpoints: nothing to check).
 */
export function forensicChannelVerdict(r: RegionState, eni: NetworkInterfaceState): Verdict {
    const endpoints = Object.values(r.vpcEndpoints ?? {}).filter((e) => e.vpcId === eni.vpcId && e.type === "Interface" && /\.(ssm|ssmmessages|ec2messages)$/.test(e.serviceName));
    for (const endpoint of endpoints) {
        // Private DNS answers with the endpoint's interface in the instance's zone when there is one.
        const interfaces = endpoint.networkInterfaceIds.map((id) => r.networkInterfaces[id]).filter((e): e is NetworkInterfaceState => e !== undefined);
        const target = interfaces.find((e) => e.availabilityZone === eni.availabilityZone) ?? interfaces[0];
        if (!target) continue;
        const verdict = newConnectionVerdict(r, eni, target.privateIpAddress, 443, target);
        if (verdict) return `${endpoint.serviceName} endpoint: ${verdict}`;
    }
    const s3 = Object.values(r.vpcEndpoints ?? {}).some((e) => e.vpcId === eni.vpcId && e.type === "Gateway" && e.serviceName.endsWith(".s3"));
    if (s3) {
        const verdict = newConnectionVerdict(r, eni, S3_ADDRESS, 443);
        if (verdict) return `S3 gateway endpoint: ${verdict}`;
    }
    return undefined;
}
