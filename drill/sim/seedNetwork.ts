/**
 * The network around a seeded instance, as a typical VPC has it and as the deployment adds to it:
 *
 * - per VPC: the instance's subnet(s), a public subnet with the internet gateway's route and a NAT gateway, the
 *   main route table sending 0.0.0.0/0 to that NAT gateway (the instance is private), the VPC's default network
 *   ACL (rules 100/101 allow everything, as AWS creates it) serving the instance's subnet AND the public subnet
 *   (one ACL shared by several subnets, the usual case), and a subnet for the SSM interface endpoints with an ACL
 *   of its own (the operator's `dfir:endpointSubnetIds`);
 * - per VPC the deployment prepared (`seedEndpoints`): the ssm, ssmmessages and ec2messages interface endpoints,
 *   one interface each in that subnet behind the endpoints' group (components/isolationNetwork.ts), and the S3
 *   gateway endpoint on every route table;
 * - the instance's established flows (`seedFlows`): the SSM agent's channel to its endpoint, and whatever the
 *   scenario adds (an attacker's session through the NAT gateway...), each tracked or not as AWS decides it when
 *   the flow starts (drill/sim/network.ts).
 */
import { addressFamily } from "../../core/cidr";
import { SSM_ENDPOINT_SERVICES } from "../../core/isolation";
import { allOpen, automaticallyTracked } from "./network";
import type { FlowPath, FlowState, NetworkAclEntryState, NetworkAclState, NetworkInterfaceState, RegionState, SubnetState } from "./state";
import type { World } from "./world";

/** One established flow of the instance at the start of a drill (besides the SSM agent's channel). */
export interface FlowOption {
    /**
     * nat-gateway: out through the VPC's NAT gateway; internet-gateway: straight out (the interface gets a public
     * address and its subnet the internet gateway's route); peer-subnet: a peer in another subnet of the VPC;
     * same-subnet: a peer in the instance's own subnet.
     */
    path: "nat-gateway" | "internet-gateway" | "peer-subnet" | "same-subnet";
    /** @default "tcp" */
    protocol?: "tcp" | "udp" | "icmp";
    /** The service port (the remote's for an outbound flow, the instance's for an inbound one). @default 443 */
    port?: number;
    /** Who opened it. @default "local" (the instance) */
    initiatedBy?: "local" | "remote";
    /** Which of the instance's interfaces (device index). @default 0 */
    networkInterface?: number;
    label?: string;
}

/** The remote end of the scenarios' sessions (TEST-NET-2, RFC 5737). */
export const ATTACKER_ADDRESS = "198.51.100.23";
const PROTOCOL_NUMBERS = { tcp: "6", udp: "17", icmp: "1" } as const;

/** What the world keeps per VPC to find its parts again. */
function vpcTag(vpcId: string, role: string): Record<string, string> {
    return { "dfir-drill:vpc": vpcId, "dfir-drill:role": role };
}

function subnetWithRole(r: RegionState, vpcId: string, role: string): SubnetState | undefined {
    return Object.values(r.subnets ?? {}).find((s) => s.vpcId === vpcId && s.tags["dfir-drill:role"] === role);
}

function allowAll(egress: boolean): NetworkAclEntryState[] {
    return [
        { ruleNumber: 100, egress, ruleAction: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0" },
        { ruleNumber: 101, egress, ruleAction: "allow", protocol: "-1", ipv6CidrBlock: "::/0" },
    ];
}

/** The `*` rules every network ACL ends with (shown by DescribeNetworkAcls, never removable). */
function defaultDeny(egress: boolean): NetworkAclEntryState[] {
    return [
        { ruleNumber: 32767, egress, ruleAction: "deny", protocol: "-1", cidrBlock: "0.0.0.0/0" },
        { ruleNumber: 32768, egress, ruleAction: "deny", protocol: "-1", ipv6CidrBlock: "::/0" },
    ];
}

function newAcl(world: World, vpcId: string, ownerId: string, isDefault: boolean, name: string): NetworkAclState {
    return {
        networkAclId: world.id("acl"),
        vpcId,
        isDefault,
        ownerId,
        entries: [...allowAll(false), ...allowAll(true), ...defaultDeny(false), ...defaultDeny(true)],
        associations: [],
        tags: { Name: name },
    };
}

function associate(world: World, acl: NetworkAclState, subnetId: string): void {
    if (!acl.associations.some((a) => a.subnetId === subnetId)) acl.associations.push({ networkAclAssociationId: world.id("aclassoc"), subnetId });
}

function newSubnet(world: World, r: RegionState, vpcId: string, availabilityZone: string, cidrBlock: string, role: string, name: string): SubnetState {
    const subnet: SubnetState = { subnetId: world.id("subnet"), vpcId, availabilityZone, cidrBlock, tags: { Name: name, ...vpcTag(vpcId, role) } };
    (r.subnets ??= {})[subnet.subnetId] = subnet;
    return subnet;
}

/** A /24 holding the address (subnet ranges are only informative here: the flows name their subnets). */
function slash24(address: string): string {
    const parts = address.split(".");
    return parts.length === 4 ? `${parts.slice(0, 3).join(".")}.0/24` : "10.0.0.0/24";
}

/** Options of {@link seedVpcNetwork}. */
export interface VpcNetworkOptions {
    /** Where the operator put the SSM endpoints: a subnet of their own (default), or the public subnet (sharing its ACL). */
    endpointSubnet?: "dedicated" | "public";
    /** Rules already in the default network ACL, per direction (IPv4), before rule 100. @default 0 */
    defaultAclRules?: number;
}

/**
 * The VPC around the instance's interfaces (see the module comment), created once per VPC; subnets the VPC does not
 * have yet are added to its default ACL and main route table.
 */
export function seedVpcNetwork(world: World, accountId: string, region: string, vpcId: string, interfaces: readonly NetworkInterfaceState[], options: VpcNetworkOptions = {}): void {
    const r = world.region(accountId, region);
    r.subnets ??= {};
    r.networkAcls ??= {};
    r.routeTables ??= {};
    r.natGateways ??= {};
    r.vpcEndpoints ??= {};
    r.flows ??= {};
    const zone = interfaces[0]?.availabilityZone ?? `${region}a`;
    let defaultAcl = Object.values(r.networkAcls).find((a) => a.vpcId === vpcId && a.isDefault);
    if (!defaultAcl) {
        defaultAcl = newAcl(world, vpcId, accountId, true, "default");
        // Rules an operator already added (a deny list, say), numbered below the allow-all rule 100.
        for (let i = 0; i < (options.defaultAclRules ?? 0); i++) {
            for (const egress of [false, true]) defaultAcl.entries.push({ ruleNumber: 10 + i, egress, ruleAction: "deny", protocol: "-1", cidrBlock: `192.0.2.${i}/32` });
        }
        r.networkAcls[defaultAcl.networkAclId] = defaultAcl;
        const internetGateway = world.id("igw");
        const publicSubnet = newSubnet(world, r, vpcId, zone, "10.255.0.0/24", "public", "public (NAT gateway)");
        associate(world, defaultAcl, publicSubnet.subnetId);
        const natEni: NetworkInterfaceState = {
            networkInterfaceId: world.id("eni"),
            vpcId,
            subnetId: publicSubnet.subnetId,
            availabilityZone: zone,
            privateIpAddress: "10.255.0.5",
            ipv6Addresses: [],
            groupIds: [],
            description: "Interface for NAT Gateway",
            tags: {},
            interfaceType: "nat_gateway",
            requesterManaged: true,
            publicIp: "203.0.113.10",
        };
        r.networkInterfaces[natEni.networkInterfaceId] = natEni;
        const natGatewayId = world.id("nat");
        r.natGateways[natGatewayId] = { natGatewayId, vpcId, subnetId: publicSubnet.subnetId, networkInterfaceId: natEni.networkInterfaceId, privateIp: natEni.privateIpAddress, publicIp: "203.0.113.10" };
        const main = { routeTableId: world.id("rtb"), vpcId, main: true, subnetIds: [], tags: { Name: "private (main)" }, routes: [{ destinationCidrBlock: "10.0.0.0/8", gatewayId: "local" }, { destinationCidrBlock: "0.0.0.0/0", natGatewayId }] };
        const publicTable = { routeTableId: world.id("rtb"), vpcId, main: false, subnetIds: [publicSubnet.subnetId], tags: { Name: "public" }, routes: [{ destinationCidrBlock: "10.0.0.0/8", gatewayId: "local" }, { destinationCidrBlock: "0.0.0.0/0", gatewayId: internetGateway }, { destinationIpv6CidrBlock: "::/0", gatewayId: internetGateway }] };
        r.routeTables[main.routeTableId] = main;
        r.routeTables[publicTable.routeTableId] = publicTable;
        if ((options.endpointSubnet ?? "dedicated") === "dedicated") {
            const endpoints = newSubnet(world, r, vpcId, zone, "10.255.1.0/24", "endpoints", "SSM endpoints");
            const acl = newAcl(world, vpcId, accountId, false, "SSM endpoints");
            associate(world, acl, endpoints.subnetId);
            r.networkAcls[acl.networkAclId] = acl;
        }
    }
    for (const eni of interfaces) {
        if (!r.subnets[eni.subnetId]) {
            r.subnets[eni.subnetId] = { subnetId: eni.subnetId, vpcId, availabilityZone: eni.availabilityZone, cidrBlock: slash24(eni.privateIpAddress), tags: { Name: "private (workload)" } };
        }
        if (!Object.values(r.networkAcls).some((a) => a.associations.some((x) => x.subnetId === eni.subnetId))) associate(world, defaultAcl, eni.subnetId);
    }
}

/**
 * The SSM interface endpoints and the S3 gateway endpoint the deployment creates in a VPC it prepared, behind the
 * endpoints' group: in the endpoints subnet (or the public one), one interface per endpoint.
 */
export function seedEndpoints(world: World, accountId: string, region: string, vpcId: string, endpointGroupId: string): void {
    const r = world.region(accountId, region);
    const subnet = subnetWithRole(r, vpcId, "endpoints") ?? subnetWithRole(r, vpcId, "public");
    if (!subnet || Object.values(r.vpcEndpoints ?? {}).some((e) => e.vpcId === vpcId)) return;
    r.vpcEndpoints ??= {};
    SSM_ENDPOINT_SERVICES.forEach((service, i) => {
        const vpcEndpointId = world.id("vpce");
        const eni: NetworkInterfaceState = {
            networkInterfaceId: world.id("eni"),
            vpcId,
            subnetId: subnet.subnetId,
            availabilityZone: subnet.availabilityZone,
            privateIpAddress: `${subnet.cidrBlock.split(".").slice(0, 3).join(".")}.${20 + i}`,
            ipv6Addresses: [],
            groupIds: [endpointGroupId],
            description: `VPC Endpoint Interface ${vpcEndpointId}`,
            tags: {},
            interfaceType: "vpc_endpoint",
            requesterManaged: true,
        };
        r.networkInterfaces[eni.networkInterfaceId] = eni;
        (r.vpcEndpoints as NonNullable<RegionState["vpcEndpoints"]>)[vpcEndpointId] = {
            vpcEndpointId,
            vpcId,
            serviceName: `com.amazonaws.${region}.${service}`,
            type: "Interface",
            subnetIds: [subnet.subnetId],
            networkInterfaceIds: [eni.networkInterfaceId],
            groupIds: [endpointGroupId],
            routeTableIds: [],
        };
    });
    const s3 = world.id("vpce");
    const tables = Object.values(r.routeTables ?? {}).filter((t) => t.vpcId === vpcId);
    r.vpcEndpoints[s3] = { vpcEndpointId: s3, vpcId, serviceName: `com.amazonaws.${region}.s3`, type: "Gateway", subnetIds: [], networkInterfaceIds: [], groupIds: [], routeTableIds: tables.map((t) => t.routeTableId) };
    for (const table of tables) table.routes.push({ destinationPrefixListId: "pl-63a5400a", gatewayId: s3 });
}

/** A peer interface (no instance modelled behind it) in a subnet, with an all-open group of its own. */
function seedPeer(world: World, r: RegionState, accountId: string, subnet: SubnetState, address: string): NetworkInterfaceState {
    const groupId = world.id("sg");
    r.securityGroups[groupId] = {
        groupId,
        groupName: "peer",
        description: "a workload peer of the suspect",
        vpcId: subnet.vpcId,
        ownerId: accountId,
        tags: {},
        ingress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        egress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    };
    const eni: NetworkInterfaceState = {
        networkInterfaceId: world.id("eni"),
        vpcId: subnet.vpcId,
        subnetId: subnet.subnetId,
        availabilityZone: subnet.availabilityZone,
        privateIpAddress: address,
        ipv6Addresses: [],
        groupIds: [groupId],
        description: "peer workload",
        tags: {},
    };
    r.networkInterfaces[eni.networkInterfaceId] = eni;
    return eni;
}

/** Adds a flow to the region, tracked or not as AWS decides when it starts. */
function addFlow(r: RegionState, eni: NetworkInterfaceState, spec: Omit<FlowState, "flowId" | "tracked" | "automaticallyTracked" | "networkInterfaceId" | "localAddress" | "establishedAt">, at: number): FlowState {
    const flows = (r.flows ??= {});
    const automatic = automaticallyTracked(spec.path, spec.protocol);
    const ipv6 = addressFamily(spec.remoteAddress) === 6;
    const flow: FlowState = {
        flowId: `flow-${Object.keys(flows).length + 1}`,
        networkInterfaceId: eni.networkInterfaceId,
        localAddress: ipv6 ? (eni.ipv6Addresses[0] ?? eni.privateIpAddress) : eni.privateIpAddress,
        ...spec,
        tracked: automatic || !allOpen(r, eni.groupIds, ipv6),
        automaticallyTracked: automatic,
        establishedAt: at,
    };
    flows[flow.flowId] = flow;
    return flow;
}

/**
 * The instance's flows at the start: the SSM agent's channel (when its agent is online and its VPC has the SSM
 * endpoints), then each scenario flow, building what its path needs (a public address and the internet gateway's
 * route, a peer interface).
 */
export function seedFlows(world: World, accountId: string, region: string, interfaces: readonly NetworkInterfaceState[], agentOnline: boolean, flows: readonly FlowOption[] = []): void {
    const r = world.region(accountId, region);
    const primary = interfaces.find((e) => e.attachment?.deviceIndex === 0) ?? interfaces[0];
    if (!primary) return;
    const at = world.now();
    const messages = Object.values(r.vpcEndpoints ?? {}).find((e) => e.vpcId === primary.vpcId && e.serviceName.endsWith(".ssmmessages"));
    const endpointEni = messages?.networkInterfaceIds.map((id) => r.networkInterfaces[id]).find((e) => e !== undefined);
    if (agentOnline && messages && endpointEni) {
        addFlow(r, primary, {
            label: "the SSM agent's control channel to the ssmmessages endpoint (the forensic channel)",
            forensic: true,
            localPort: 49_001,
            remoteAddress: endpointEni.privateIpAddress,
            remotePort: 443,
            protocol: "6",
            initiatedBy: "local",
            path: { kind: "interface-endpoint", vpcEndpointId: messages.vpcEndpointId, networkInterfaceId: endpointEni.networkInterfaceId },
        }, at);
    }
    flows.forEach((option, i) => {
        const eni = interfaces.find((e) => e.attachment?.deviceIndex === (option.networkInterface ?? 0)) ?? primary;
        const protocol = PROTOCOL_NUMBERS[option.protocol ?? "tcp"];
        const port = option.port ?? 443;
        const inbound = option.initiatedBy === "remote";
        const ephemeral = 50_000 + i;
        let path: FlowPath;
        let remoteAddress = ATTACKER_ADDRESS;
        switch (option.path) {
            case "nat-gateway": {
                const nat = Object.values(r.natGateways ?? {}).find((n) => n.vpcId === eni.vpcId);
                if (!nat) throw new Error(`simulator: no NAT gateway in ${eni.vpcId} for a flow through one`);
                path = { kind: "nat-gateway", natGatewayId: nat.natGatewayId };
                break;
            }
            case "internet-gateway": {
                const publicTable = Object.values(r.routeTables ?? {}).find((t) => t.vpcId === eni.vpcId && t.tags.Name === "public");
                const igw = publicTable?.routes.find((x) => x.gatewayId?.startsWith("igw-"))?.gatewayId;
                if (!publicTable || !igw) throw new Error(`simulator: no internet gateway in ${eni.vpcId}`);
                // A public instance: its subnet routes to the internet gateway and the interface has a public address.
                for (const table of Object.values(r.routeTables ?? {})) table.subnetIds = table.subnetIds.filter((s) => s !== eni.subnetId);
                publicTable.subnetIds.push(eni.subnetId);
                eni.publicIp ??= `203.0.113.${100 + (eni.attachment?.deviceIndex ?? 0)}`;
                path = { kind: "internet-gateway", internetGatewayId: igw };
                break;
            }
            case "peer-subnet":
            case "same-subnet": {
                let subnet = option.path === "same-subnet" ? r.subnets?.[eni.subnetId] : Object.values(r.subnets ?? {}).find((s) => s.vpcId === eni.vpcId && s.tags["dfir-drill:role"] === "peer");
                if (!subnet) {
                    subnet = newSubnet(world, r, eni.vpcId, eni.availabilityZone, "10.254.2.0/24", "peer", "private (another workload)");
                    const defaultAcl = Object.values(r.networkAcls ?? {}).find((a) => a.vpcId === eni.vpcId && a.isDefault);
                    if (defaultAcl) associate(world, defaultAcl, subnet.subnetId);
                }
                const peer = seedPeer(world, r, accountId, subnet, option.path === "same-subnet" ? `${eni.privateIpAddress.split(".").slice(0, 3).join(".")}.${200 + i}` : `10.254.2.${10 + i}`);
                remoteAddress = peer.privateIpAddress;
                path = { kind: "peer", networkInterfaceId: peer.networkInterfaceId };
                break;
            }
        }
        addFlow(r, eni, {
            label: option.label ?? `${inbound ? "inbound" : "outbound"} ${option.protocol ?? "tcp"}${protocol === "1" ? "" : ` ${port}`} via ${option.path}`,
            localPort: protocol === "1" ? 0 : inbound ? port : ephemeral,
            remoteAddress,
            remotePort: protocol === "1" ? 0 : inbound ? ephemeral : port,
            protocol,
            initiatedBy: inbound ? "remote" : "local",
            path,
        }, at);
    });
}
