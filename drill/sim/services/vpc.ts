/**
 * The VPC side of EC2 that containment reads and changes: subnets, network ACLs and their entries, route tables,
 * VPC endpoints. Request shapes, errors and quotas follow the EC2 API reference (CreateNetworkAclEntry,
 * ReplaceNetworkAclEntry, DeleteNetworkAclEntry, DescribeNetworkAcls, DescribeRouteTables, DescribeVpcEndpoints,
 * DescribeSubnets) and the VPC User Guide ("Network ACL rules", "Amazon VPC quotas").
 */
import type {
    CreateNetworkAclEntryCommandInput,
    DeleteNetworkAclEntryCommandInput,
    DescribeNetworkAclsCommandInput,
    DescribeNetworkAclsCommandOutput,
    DescribeRouteTablesCommandInput,
    DescribeRouteTablesCommandOutput,
    DescribeSubnetsCommandInput,
    DescribeSubnetsCommandOutput,
    DescribeVpcEndpointsCommandInput,
    DescribeVpcEndpointsCommandOutput,
    NetworkAcl,
    ReplaceNetworkAclEntryCommandInput,
    RouteTable,
    VpcEndpoint,
} from "@aws-sdk/client-ec2";
import { parseCidr } from "../../../core/cidr";
import type { NetworkAclEntryState, NetworkAclState, RegionState, RouteTableState } from "../state";
import { required, tagList, type CallContext, type Handler, type World } from "../world";
import { applyFilters } from "./ec2";

type Out<T> = Omit<T, "$metadata">;

/**
 * Rules per network ACL, per direction and per address family, the default `*` rule included (VPC User Guide,
 * "Amazon VPC quotas": "Rules per network ACL: 20 ... This is the one-way quota for a single network ACL ... enforced
 * separately for IPv4 rules and IPv6 rules ... includes the default deny rules"). Adjustable up to 40.
 */
export const NACL_RULES_QUOTA = 20;
/** The default `*` rules: 32767 (IPv4) and 32768 (IPv6); user rules are 1 to 32766. */
export const DEFAULT_RULE_IPV4 = 32767;
export const DEFAULT_RULE_IPV6 = 32768;
const MAX_RULE_NUMBER = 32766;

const PROTOCOL_NAMES: Record<string, string> = { all: "-1", tcp: "6", udp: "17", icmp: "1", icmpv6: "58" };

function regionOf(world: World, ctx: CallContext): RegionState {
    return world.region(ctx.accountId, ctx.region);
}

function aclOrThrow(world: World, ctx: CallContext, id: string | undefined): NetworkAclState {
    const aclId = required(world, ctx, id, "NetworkAclId");
    const acl = regionOf(world, ctx).networkAcls?.[aclId];
    if (!acl) throw world.error(ctx, "InvalidNetworkAclID.NotFound", `The networkAcl ID '${aclId}' does not exist`);
    return acl;
}

function aclView(acl: NetworkAclState): NetworkAcl {
    return {
        NetworkAclId: acl.networkAclId,
        VpcId: acl.vpcId,
        IsDefault: acl.isDefault,
        OwnerId: acl.ownerId,
        Entries: [...acl.entries]
            .sort((a, b) => Number(a.egress) - Number(b.egress) || a.ruleNumber - b.ruleNumber)
            .map((e) => ({
                RuleNumber: e.ruleNumber,
                Protocol: e.protocol,
                RuleAction: e.ruleAction,
                Egress: e.egress,
                ...(e.cidrBlock !== undefined ? { CidrBlock: e.cidrBlock } : {}),
                ...(e.ipv6CidrBlock !== undefined ? { Ipv6CidrBlock: e.ipv6CidrBlock } : {}),
                ...(e.portRange ? { PortRange: { From: e.portRange.from, To: e.portRange.to } } : {}),
                ...(e.icmpTypeCode ? { IcmpTypeCode: { Type: e.icmpTypeCode.type, Code: e.icmpTypeCode.code } } : {}),
            })),
        Associations: acl.associations.map((a) => ({ NetworkAclAssociationId: a.networkAclAssociationId, NetworkAclId: acl.networkAclId, SubnetId: a.subnetId })),
        Tags: tagList(acl.tags),
    };
}

const describeNetworkAcls: Handler<DescribeNetworkAclsCommandInput, Out<DescribeNetworkAclsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.NetworkAclIds ?? [];
    for (const id of ids) aclOrThrow(world, ctx, id);
    let acls = ids.length > 0 ? ids.map((id) => r.networkAcls?.[id] as NetworkAclState) : Object.values(r.networkAcls ?? {});
    acls = applyFilters(
        ctx,
        acls,
        input.Filters,
        {
            "vpc-id": (a) => a.vpcId,
            "network-acl-id": (a) => a.networkAclId,
            default: (a) => String(a.isDefault),
            "association.subnet-id": (a) => a.associations.map((x) => x.subnetId),
            "association.network-acl-id": (a) => (a.associations.length > 0 ? a.networkAclId : undefined),
            "owner-id": (a) => a.ownerId,
        },
        (a) => a.tags,
    );
    return { NetworkAcls: acls.map(aclView) };
};

/** The entry a Create or Replace request describes, validated as EC2 validates it. */
function entryOf(world: World, ctx: CallContext, input: CreateNetworkAclEntryCommandInput | ReplaceNetworkAclEntryCommandInput): NetworkAclEntryState {
    const ruleNumber = required(world, ctx, input.RuleNumber, "RuleNumber");
    if (!Number.isInteger(ruleNumber) || ruleNumber < 1 || ruleNumber > MAX_RULE_NUMBER) {
        throw world.error(ctx, "InvalidParameterValue", `Invalid value '${ruleNumber}' for ruleNumber. It must be an integer from 1 to ${MAX_RULE_NUMBER}.`);
    }
    if (typeof input.Egress !== "boolean") throw world.error(ctx, "MissingParameter", "The request must contain the parameter egress");
    const rawProtocol = String(required(world, ctx, input.Protocol, "Protocol")).toLowerCase();
    const protocol = PROTOCOL_NAMES[rawProtocol] ?? rawProtocol;
    if (!(protocol === "-1" || (/^\d{1,3}$/.test(protocol) && Number(protocol) <= 255))) {
        throw world.error(ctx, "InvalidParameterValue", `Invalid value '${input.Protocol}' for protocol.`);
    }
    const action = required(world, ctx, input.RuleAction, "RuleAction");
    if (action !== "allow" && action !== "deny") throw world.error(ctx, "InvalidParameterValue", `Invalid value '${action}' for ruleAction.`);
    const hasV4 = input.CidrBlock !== undefined;
    const hasV6 = input.Ipv6CidrBlock !== undefined;
    if (hasV4 === hasV6) {
        throw world.error(ctx, hasV4 ? "InvalidParameterCombination" : "MissingParameter", "Either cidrBlock or ipv6CidrBlock must be specified, not both.");
    }
    const cidr = (hasV4 ? input.CidrBlock : input.Ipv6CidrBlock) as string;
    const parsed = parseCidr(cidr);
    if (!parsed || parsed.family !== (hasV4 ? 4 : 6)) {
        throw world.error(ctx, "InvalidParameterValue", `Value (${cidr}) for parameter ${hasV4 ? "cidrBlock" : "ipv6CidrBlock"} is invalid. This is not a valid CIDR block.`);
    }
    const entry: NetworkAclEntryState = { ruleNumber, egress: input.Egress, ruleAction: action, protocol, ...(hasV4 ? { cidrBlock: cidr } : { ipv6CidrBlock: cidr }) };
    // TCP and UDP rules need a port range; other protocols allow every port (and ignore one given).
    if (protocol === "6" || protocol === "17") {
        const from = input.PortRange?.From;
        const to = input.PortRange?.To;
        if (from === undefined || to === undefined) throw world.error(ctx, "MissingParameter", "The request must contain the parameter portRange");
        if (from < 0 || to > 65535 || from > to) throw world.error(ctx, "InvalidParameterValue", `Invalid port range ${from}-${to}.`);
        entry.portRange = { from, to };
    }
    if (protocol === "1" || protocol === "58") {
        const type = input.IcmpTypeCode?.Type;
        const code = input.IcmpTypeCode?.Code;
        if (type === undefined || code === undefined) throw world.error(ctx, "MissingParameter", "The request must contain the parameter icmpTypeCode");
        entry.icmpTypeCode = { type, code };
    }
    return entry;
}

function family(entry: NetworkAclEntryState): 4 | 6 {
    return entry.ipv6CidrBlock !== undefined ? 6 : 4;
}

const createNetworkAclEntry: Handler<CreateNetworkAclEntryCommandInput, Record<string, never>> = (world, ctx, input) => {
    const acl = aclOrThrow(world, ctx, input.NetworkAclId);
    const entry = entryOf(world, ctx, input);
    if (acl.entries.some((e) => e.egress === entry.egress && e.ruleNumber === entry.ruleNumber)) {
        // Error codes for the Amazon EC2 API: NetworkAclEntryAlreadyExists ("The specified rule number already exists").
        throw world.error(ctx, "NetworkAclEntryAlreadyExists", `The network acl entry identified by ${entry.ruleNumber} already exists.`);
    }
    const same = acl.entries.filter((e) => e.egress === entry.egress && family(e) === family(entry)).length;
    if (same >= NACL_RULES_QUOTA) {
        throw world.error(ctx, "NetworkAclEntryLimitExceeded", `The maximum number of network acl entries (${NACL_RULES_QUOTA} per direction and address family, the default rule included) has been reached for ${acl.networkAclId}.`);
    }
    acl.entries.push(entry);
    return {};
};

const replaceNetworkAclEntry: Handler<ReplaceNetworkAclEntryCommandInput, Record<string, never>> = (world, ctx, input) => {
    const acl = aclOrThrow(world, ctx, input.NetworkAclId);
    const entry = entryOf(world, ctx, input);
    const index = acl.entries.findIndex((e) => e.egress === entry.egress && e.ruleNumber === entry.ruleNumber);
    if (index < 0) throw world.error(ctx, "InvalidNetworkAclEntry.NotFound", `The network acl entry identified by ${entry.ruleNumber} does not exist.`);
    acl.entries[index] = entry;
    return {};
};

const deleteNetworkAclEntry: Handler<DeleteNetworkAclEntryCommandInput, Record<string, never>> = (world, ctx, input) => {
    const acl = aclOrThrow(world, ctx, input.NetworkAclId);
    const ruleNumber = required(world, ctx, input.RuleNumber, "RuleNumber");
    if (typeof input.Egress !== "boolean") throw world.error(ctx, "MissingParameter", "The request must contain the parameter egress");
    if (ruleNumber < 1 || ruleNumber > MAX_RULE_NUMBER) {
        throw world.error(ctx, "InvalidParameterValue", `Invalid value '${ruleNumber}' for ruleNumber. It must be an integer from 1 to ${MAX_RULE_NUMBER}.`);
    }
    const index = acl.entries.findIndex((e) => e.egress === input.Egress && e.ruleNumber === ruleNumber);
    if (index < 0) throw world.error(ctx, "InvalidNetworkAclEntry.NotFound", `The network acl entry identified by ${ruleNumber} does not exist.`);
    acl.entries.splice(index, 1);
    return {};
};

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
export function routeTableOfSubnet(r: RegionState, vpcId: string, subnetId: string): RouteTableState | undefined {
    const tables = Object.values(r.routeTables ?? {}).filter((t) => t.vpcId === vpcId);
    return tables.find((t) => t.subnetIds.includes(subnetId)) ?? tables.find((t) => t.main);
}

function routeTableView(t: RouteTableState): RouteTable {
    return {
        RouteTableId: t.routeTableId,
        VpcId: t.vpcId,
        Associations: [
            ...(t.main ? [{ Main: true, RouteTableId: t.routeTableId, RouteTableAssociationId: `rtbassoc-${t.routeTableId.slice(4)}`, AssociationState: { State: "associated" as const } }] : []),
            ...t.subnetIds.map((subnetId) => ({ Main: false, RouteTableId: t.routeTableId, SubnetId: subnetId, RouteTableAssociationId: `rtbassoc-${subnetId.slice(7)}`, AssociationState: { State: "associated" as const } })),
        ],
        Routes: t.routes.map((route) => ({
            ...(route.destinationCidrBlock ? { DestinationCidrBlock: route.destinationCidrBlock } : {}),
            ...(route.destinationIpv6CidrBlock ? { DestinationIpv6CidrBlock: route.destinationIpv6CidrBlock } : {}),
            ...(route.destinationPrefixListId ? { DestinationPrefixListId: route.destinationPrefixListId } : {}),
            ...(route.gatewayId ? { GatewayId: route.gatewayId } : {}),
            ...(route.natGatewayId ? { NatGatewayId: route.natGatewayId } : {}),
            ...(route.egressOnlyInternetGatewayId ? { EgressOnlyInternetGatewayId: route.egressOnlyInternetGatewayId } : {}),
            ...(route.vpcPeeringConnectionId ? { VpcPeeringConnectionId: route.vpcPeeringConnectionId } : {}),
            ...(route.transitGatewayId ? { TransitGatewayId: route.transitGatewayId } : {}),
            State: "active" as const,
            Origin: route.gatewayId === "local" ? ("CreateRouteTable" as const) : ("CreateRoute" as const),
        })),
        Tags: tagList(t.tags),
    };
}

const describeRouteTables: Handler<DescribeRouteTablesCommandInput, Out<DescribeRouteTablesCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.RouteTableIds ?? [];
    for (const id of ids) {
        if (!r.routeTables?.[id]) throw world.error(ctx, "InvalidRouteTableID.NotFound", `The routeTable ID '${id}' does not exist`);
    }
    let tables = ids.length > 0 ? ids.map((id) => r.routeTables?.[id] as RouteTableState) : Object.values(r.routeTables ?? {});
    tables = applyFilters(
        ctx,
        tables,
        input.Filters,
        {
            "vpc-id": (t) => t.vpcId,
            "route-table-id": (t) => t.routeTableId,
            "association.subnet-id": (t) => t.subnetIds,
            "association.main": (t) => String(t.main),
        },
        (t) => t.tags,
    );
    return { RouteTables: tables.map(routeTableView) };
};

const describeVpcEndpoints: Handler<DescribeVpcEndpointsCommandInput, Out<DescribeVpcEndpointsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.VpcEndpointIds ?? [];
    for (const id of ids) {
        if (!r.vpcEndpoints?.[id]) throw world.error(ctx, "InvalidVpcEndpointId.NotFound", `The Vpc Endpoint Id '${id}' does not exist`);
    }
    let endpoints = ids.length > 0 ? ids.map((id) => r.vpcEndpoints?.[id] as NonNullable<RegionState["vpcEndpoints"]>[string]) : Object.values(r.vpcEndpoints ?? {});
    endpoints = applyFilters(ctx, endpoints, input.Filters, {
        "vpc-id": (e) => e.vpcId,
        "service-name": (e) => e.serviceName,
        "vpc-endpoint-type": (e) => e.type,
        "vpc-endpoint-id": (e) => e.vpcEndpointId,
        "vpc-endpoint-state": () => "available", // the filter value is lower case; the State field is "Available"
    });
    const out: VpcEndpoint[] = endpoints.map((e) => ({
        VpcEndpointId: e.vpcEndpointId,
        VpcEndpointType: e.type,
        VpcId: e.vpcId,
        ServiceName: e.serviceName,
        State: "Available",
        SubnetIds: [...e.subnetIds],
        NetworkInterfaceIds: [...e.networkInterfaceIds],
        RouteTableIds: [...e.routeTableIds],
        Groups: e.groupIds.map((GroupId) => ({ GroupId, GroupName: r.securityGroups[GroupId]?.groupName ?? GroupId })),
        PrivateDnsEnabled: e.type === "Interface",
    }));
    return { VpcEndpoints: out };
};

const describeSubnets: Handler<DescribeSubnetsCommandInput, Out<DescribeSubnetsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.SubnetIds ?? [];
    for (const id of ids) {
        if (!r.subnets?.[id]) throw world.error(ctx, "InvalidSubnetID.NotFound", `The subnet ID '${id}' does not exist`);
    }
    let subnets = ids.length > 0 ? ids.map((id) => r.subnets?.[id] as NonNullable<RegionState["subnets"]>[string]) : Object.values(r.subnets ?? {});
    subnets = applyFilters(
        ctx,
        subnets,
        input.Filters,
        { "vpc-id": (s) => s.vpcId, "subnet-id": (s) => s.subnetId, "availability-zone": (s) => s.availabilityZone },
        (s) => s.tags,
    );
    return {
        Subnets: subnets.map((s) => ({
            SubnetId: s.subnetId,
            VpcId: s.vpcId,
            AvailabilityZone: s.availabilityZone,
            CidrBlock: s.cidrBlock,
            State: "available",
            OwnerId: ctx.accountId,
            Tags: tagList(s.tags),
        })),
    };
};

export const VPC_HANDLERS: Record<string, Handler> = {
    DescribeNetworkAcls: describeNetworkAcls,
    CreateNetworkAclEntry: createNetworkAclEntry,
    ReplaceNetworkAclEntry: replaceNetworkAclEntry,
    DeleteNetworkAclEntry: deleteNetworkAclEntry,
    DescribeRouteTables: describeRouteTables,
    DescribeVpcEndpoints: describeVpcEndpoints,
    DescribeSubnets: describeSubnets,
};
