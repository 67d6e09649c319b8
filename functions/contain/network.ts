/**
 * Contain's network ACL step: read the VPCs of the instance's interfaces, put the rules core/networkCut.ts plans
 * (deny the instance's addresses where its packets enter or leave another subnet, keeping the SSM channel), and
 * return what was put and, per interface, which paths could still carry an established flow. It runs beside the
 * security group changes and never delays them: its reads go out with the first change, its rules with the
 * isolation.
 *
 * Concurrency: another containment (another instance) may take a rule number between our read and our write.
 * EC2 then answers NetworkAclEntryAlreadyExists; that ACL is read again and planned again (what this run already
 * put is adopted, not repeated), up to {@link ATTEMPTS} times.
 */
import {
    CreateNetworkAclEntryCommand,
    DeleteNetworkAclEntryCommand,
    DescribeNetworkAclsCommand,
    DescribeNetworkInterfacesCommand,
    DescribeRouteTablesCommand,
    DescribeVpcEndpointsCommand,
    type EC2Client,
    type NetworkAcl,
} from "@aws-sdk/client-ec2";
import {
    assessInterfaces,
    forensicChannelProblems,
    forensicEndpoints,
    planAcl,
    planNetworkCut,
    type AclOutcome,
    type AclPlan,
    type AclView,
    type EndpointView,
    type InterfaceAssessment,
    type NetworkCutInput,
    type PlannedEntry,
    type RouteTableView,
    type SuspectInterface,
} from "../../core/networkCut";
import type { NetworkAclEntryRecord } from "../../core/workflow";

/** Rounds of create / re-read when a concurrent containment took a rule number. */
const ATTEMPTS = 3;

/** What this step needs of Contain's action log (records every change; reads only when they fail). */
export interface StepLog {
    change<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
    read<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
}

/** The step's result: the rules in place for this case, and every interface's paths. */
export interface NetworkCutResult {
    entries: NetworkAclEntryRecord[];
    interfaces: InterfaceAssessment[];
    /** ACLs where the deny went in but the SSM channel's allow did not: the forensic channel may be cut. */
    forensicProblems: string[];
}

function errorName(error: unknown): string {
    return error instanceof Error ? error.name : "Error";
}

function errorLine(error: unknown): string {
    return error instanceof Error ? `${error.name}: ${error.message.split("\n")[0]}` : String(error);
}

/**
 * An ACL as DescribeNetworkAcls answers it, read strictly: an ACL or rule missing what every one has (its id, VPC,
 * rule number, action, protocol) is an error naming it, never a rule 0 or an "allow" read as "deny".
 */
export function aclView(acl: NetworkAcl): AclView {
    const id = acl.NetworkAclId;
    if (!id || !acl.VpcId) throw new Error(`DescribeNetworkAcls returned an ACL without ${id ? "VpcId" : "NetworkAclId"}`);
    return {
        networkAclId: id,
        vpcId: acl.VpcId,
        subnetIds: (acl.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
        entries: (acl.Entries ?? []).map((e) => {
            if (!Number.isInteger(e.RuleNumber) || (e.RuleAction !== "allow" && e.RuleAction !== "deny") || !e.Protocol) {
                throw new Error(`${id}: a rule without a whole RuleNumber, an allow/deny RuleAction or a Protocol (${JSON.stringify({ RuleNumber: e.RuleNumber, RuleAction: e.RuleAction, Protocol: e.Protocol })})`);
            }
            return {
                ruleNumber: e.RuleNumber as number,
                egress: e.Egress === true,
                ruleAction: e.RuleAction,
                protocol: e.Protocol,
                ...(e.CidrBlock !== undefined ? { cidrBlock: e.CidrBlock } : {}),
                ...(e.Ipv6CidrBlock !== undefined ? { ipv6CidrBlock: e.Ipv6CidrBlock } : {}),
                ...(e.PortRange?.From !== undefined && e.PortRange.To !== undefined ? { portRange: { from: e.PortRange.From, to: e.PortRange.To } } : {}),
            };
        }),
    };
}

/** Every page of a describe call. */
async function pages<T extends { NextToken?: string }>(send: (token: string | undefined) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    const seen = new Set<string>();
    do {
        const page = await send(token);
        out.push(page);
        token = page.NextToken;
        // A token handed back twice would loop for ever: stop, with what was read.
        if (token !== undefined && seen.has(token)) break;
        if (token !== undefined) seen.add(token);
    } while (token);
    return out;
}

/**
 * ACLs by VPC, by id, or by ids as a filter (`aclIds`: an ACL deleted since is simply absent rather than an
 * error), every page (DescribeNetworkAcls paginates with NextToken: EC2 API Reference).
 */
export function describeAcls(ec2: EC2Client, filter: { vpcIds?: string[]; aclId?: string; aclIds?: string[] }): Promise<AclView[]> {
    const select = filter.aclId
        ? { NetworkAclIds: [filter.aclId] }
        : { Filters: [filter.aclIds ? { Name: "network-acl-id", Values: filter.aclIds } : { Name: "vpc-id", Values: filter.vpcIds ?? [] }] };
    return pages((NextToken) =>
        ec2.send(new DescribeNetworkAclsCommand({
            ...select,
            ...(NextToken ? { NextToken } : {}),
        })),
    ).then((all) => all.flatMap((p) => (p.NetworkAcls ?? []).map(aclView)));
}

function describeRouteTables(ec2: EC2Client, vpcIds: string[]): Promise<RouteTableView[]> {
    return pages((NextToken) => ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: "vpc-id", Values: vpcIds }], ...(NextToken ? { NextToken } : {}) }))).then((all) =>
        all.flatMap((p) => (p.RouteTables ?? []).map((t) => ({
            routeTableId: t.RouteTableId ?? "",
            vpcId: t.VpcId ?? "",
            main: (t.Associations ?? []).some((a) => a.Main === true),
            subnetIds: (t.Associations ?? []).flatMap((a) => (a.SubnetId ? [a.SubnetId] : [])),
            routes: (t.Routes ?? []).map((r) => ({
                destination: r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock ?? r.DestinationPrefixListId ?? "",
                target: r.NatGatewayId ?? r.EgressOnlyInternetGatewayId ?? r.VpcPeeringConnectionId ?? r.TransitGatewayId ?? r.NetworkInterfaceId ?? r.LocalGatewayId ?? r.CarrierGatewayId ?? r.CoreNetworkArn ?? r.GatewayId ?? "unknown",
            })),
        }))),
    );
}

function describeEndpoints(ec2: EC2Client, vpcIds: string[]): Promise<EndpointView[]> {
    return pages((NextToken) => ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: "vpc-id", Values: vpcIds }], ...(NextToken ? { NextToken } : {}) }))).then((all) =>
        all.flatMap((p) => (p.VpcEndpoints ?? []).map((e) => ({
            vpcEndpointId: e.VpcEndpointId ?? "",
            vpcId: e.VpcId ?? "",
            serviceName: e.ServiceName ?? "",
            type: String(e.VpcEndpointType ?? ""),
            subnetIds: e.SubnetIds ?? [],
            networkInterfaceIds: e.NetworkInterfaceIds ?? [],
        }))),
    );
}

/** Every interface in these subnets, by subnet. */
async function interfacesIn(ec2: EC2Client, subnetIds: string[]): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = Object.fromEntries(subnetIds.map((s) => [s, []]));
    if (subnetIds.length === 0) return out;
    const all = await pages((NextToken) => ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: subnetIds }], ...(NextToken ? { NextToken } : {}) })));
    for (const eni of all.flatMap((p) => p.NetworkInterfaces ?? [])) {
        if (eni.SubnetId && eni.NetworkInterfaceId) (out[eni.SubnetId] ??= []).push(eni.NetworkInterfaceId);
    }
    return out;
}

function describeEntry(e: PlannedEntry): string {
    const cidr = e.cidrBlock ?? e.ipv6CidrBlock;
    const ports = e.portRange ? ` port ${e.portRange.from === e.portRange.to ? e.portRange.from : `${e.portRange.from}-${e.portRange.to}`}` : "";
    const what = e.purpose === "deny" ? `deny all ${e.egress ? "to" : "from"} ${cidr}` : `allow TCP${ports} ${e.egress ? "to" : "from"} ${cidr} (the SSM channel, before the deny)`;
    return `rule ${e.ruleNumber} ${e.egress ? "outbound" : "inbound"}: ${what} (${e.networkInterfaceId})`;
}

function record(e: PlannedEntry): NetworkAclEntryRecord {
    return {
        networkAclId: e.networkAclId,
        ruleNumber: e.ruleNumber,
        egress: e.egress,
        ruleAction: e.ruleAction,
        protocol: e.protocol,
        ...(e.cidrBlock !== undefined ? { cidrBlock: e.cidrBlock } : {}),
        ...(e.ipv6CidrBlock !== undefined ? { ipv6CidrBlock: e.ipv6CidrBlock } : {}),
        ...(e.portRange ? { portRange: { ...e.portRange } } : {}),
        networkInterfaceId: e.networkInterfaceId,
        purpose: e.purpose,
    };
}

/**
 * Read, plan, put, assess. Never throws: a failed read or write is in the action log and makes the paths it leaves
 * uncut open in the assessment.
 */
export async function cutEstablishedFlows(ec2: EC2Client, interfaces: SuspectInterface[], log: StepLog): Promise<NetworkCutResult> {
    const vpcIds = [...new Set(interfaces.map((i) => i.vpcId))];
    const ownSubnets = [...new Set(interfaces.map((i) => i.subnetId))];
    const target = vpcIds.join(",");
    const [acls, tables, endpoints, neighbours] = await Promise.all([
        log.read("ec2:DescribeNetworkAcls", target, "network ACLs of the instance's VPCs", () => describeAcls(ec2, { vpcIds })),
        log.read("ec2:DescribeRouteTables", target, "routes out of the instance's subnets", () => describeRouteTables(ec2, vpcIds)),
        log.read("ec2:DescribeVpcEndpoints", target, "the SSM endpoints to keep reachable", () => describeEndpoints(ec2, vpcIds)),
        log.read("ec2:DescribeNetworkInterfaces", ownSubnets.join(","), "other interfaces in the instance's subnets", () => interfacesIn(ec2, ownSubnets)),
    ]);
    const unreadable: Record<string, string> = {};
    // Without the ACLs nothing can be planned; without the endpoints, deny rules could cut the SSM channel.
    for (const failed of [acls, endpoints]) if (!failed.ok) for (const vpcId of vpcIds) unreadable[vpcId] ??= errorLine(failed.error);
    const input: NetworkCutInput = {
        interfaces,
        acls: acls.ok ? acls.value : [],
        routeTables: tables.ok ? tables.value : [],
        endpoints: endpoints.ok ? endpoints.value : [],
        subnetInterfaces: neighbours.ok ? neighbours.value : Object.fromEntries(ownSubnets.map((s) => [s, ["(unknown: DescribeNetworkInterfaces failed)"]])),
        unreadable,
    };
    const plans = planNetworkCut(input);
    const endpointSubnets = [...new Set(vpcIds.flatMap((v) => forensicEndpoints(input.endpoints, v).flatMap((e) => e.subnetIds)))].filter((s) => !ownSubnets.includes(s));
    const [applied, endpointNeighbours] = await Promise.all([
        Promise.all(plans.map((plan) => applyPlan(ec2, plan, input, log))),
        log.read("ec2:DescribeNetworkInterfaces", endpointSubnets.join(","), "other interfaces beside the SSM endpoints", () => interfacesIn(ec2, endpointSubnets)),
    ]);
    const subnetInterfaces = { ...input.subnetInterfaces };
    if (endpointNeighbours.ok) Object.assign(subnetInterfaces, endpointNeighbours.value);
    else for (const s of endpointSubnets) subnetInterfaces[s] = ["(unknown: DescribeNetworkInterfaces failed)"];
    const finalPlans = applied.map((a) => a.plan);
    return {
        entries: applied.flatMap((a) => a.inPlace.map(record)),
        interfaces: assessInterfaces({ ...input, subnetInterfaces }, finalPlans, applied.map((a) => a.outcome)),
        forensicProblems: forensicChannelProblems(applied.map((a) => a.outcome)),
    };
}

/** Entries of both lists, each once (by ACL, direction and rule number). */
function union(a: readonly PlannedEntry[], b: readonly PlannedEntry[]): PlannedEntry[] {
    const key = (e: PlannedEntry) => `${e.networkAclId}|${e.egress}|${e.ruleNumber}`;
    const seen = new Set(a.map(key));
    return [...a, ...b.filter((e) => !seen.has(key(e)))];
}

/** Put one ACL's rules; on a rule number taken meanwhile, read the ACL again and plan it again. */
async function applyPlan(ec2: EC2Client, first: AclPlan, input: NetworkCutInput, log: StepLog): Promise<{ plan: AclPlan; outcome: AclOutcome; inPlace: PlannedEntry[] }> {
    let plan = first;
    const outcome: AclOutcome = { networkAclId: plan.networkAclId, denied: false, forensicKept: false };
    if (plan.otherSubnetIds.length === 0 || plan.problem !== undefined) return { plan, outcome: { ...outcome, ...(plan.problem ? { problem: plan.problem } : {}) }, inPlace: [] };
    // What this run put, whatever a re-plan says later: all of it is the case's to remove on release.
    const created: PlannedEntry[] = [];
    for (let attempt = 1; ; attempt++) {
        const todo = plan.entries.filter((e) => !e.existing);
        const results = await Promise.all(todo.map((e) =>
            log.change("ec2:CreateNetworkAclEntry", e.networkAclId, describeEntry(e), () =>
                ec2.send(new CreateNetworkAclEntryCommand({
                    NetworkAclId: e.networkAclId,
                    RuleNumber: e.ruleNumber,
                    Egress: e.egress,
                    RuleAction: e.ruleAction,
                    Protocol: e.protocol,
                    ...(e.cidrBlock !== undefined ? { CidrBlock: e.cidrBlock } : {}),
                    ...(e.ipv6CidrBlock !== undefined ? { Ipv6CidrBlock: e.ipv6CidrBlock } : {}),
                    ...(e.portRange ? { PortRange: { From: e.portRange.from, To: e.portRange.to } } : {}),
                })),
            ).then((r) => ({ entry: e, result: r })),
        ));
        for (const { entry, result } of results) {
            if (!result.ok) continue;
            entry.existing = true;
            created.push(entry);
        }
        const failed = results.filter((r) => !r.result.ok).map((r) => ({ entry: r.entry, error: (r.result as { error: unknown }).error }));
        const taken = failed.filter((f) => errorName(f.error) === "NetworkAclEntryAlreadyExists");
        if (failed.length === 0 || taken.length < failed.length || attempt >= ATTEMPTS) {
            const inPlace = union(created, plan.entries.filter((e) => e.existing));
            const problems = failed.map((f) => `rule ${f.entry.ruleNumber}: ${errorLine(f.error)}`);
            const missing = (purpose: PlannedEntry["purpose"]) => plan.entries.some((e) => e.purpose === purpose && !e.existing);
            return {
                plan,
                inPlace,
                outcome: {
                    networkAclId: plan.networkAclId,
                    denied: !missing("deny"),
                    forensicKept: !missing("forensic-allow"),
                    ...(problems.length > 0 ? { problem: problems.join("; ") } : {}),
                },
            };
        }
        // A concurrent containment took numbers: read this ACL again; what we put is adopted, the rest renumbered.
        const again = await log.read("ec2:DescribeNetworkAcls", plan.networkAclId, "re-read after a rule number was taken", () => describeAcls(ec2, { aclId: plan.networkAclId }));
        const acl = again.ok ? again.value[0] : undefined;
        if (!acl) return { plan, inPlace: created, outcome: { ...outcome, problem: "could not read the ACL again after a rule number was taken" } };
        plan = planAcl(acl, {
            interfaces: input.interfaces,
            endpointSubnetIds: forensicEndpoints(input.endpoints, acl.vpcId).flatMap((e) => e.subnetIds),
            ...(input.ruleQuota !== undefined ? { ruleQuota: input.ruleQuota } : {}),
        });
        if (plan.problem !== undefined) return { plan, inPlace: created, outcome: { ...outcome, problem: plan.problem } };
    }
}

/**
 * Remove rules this case put (the instance turned out to be gone: its addresses return to the pool, and a rule
 * naming them would block the next instance to get one). Failures are in the action log.
 */
export async function removeEntries(ec2: EC2Client, entries: readonly NetworkAclEntryRecord[], log: StepLog): Promise<void> {
    await Promise.all(entries.map((e) =>
        log.change("ec2:DeleteNetworkAclEntry", e.networkAclId, `rule ${e.ruleNumber} ${e.egress ? "outbound" : "inbound"} (${e.cidrBlock ?? e.ipv6CidrBlock}): the instance is gone`, () =>
            ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: e.networkAclId, RuleNumber: e.ruleNumber, Egress: e.egress })),
        ),
    ));
}
