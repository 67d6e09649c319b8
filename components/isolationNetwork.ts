import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { isolationEgressRules, onePerAvailabilityZone, SSM_ENDPOINT_SERVICES } from "../core/isolation";
import { TAGS } from "../core/tags";

export interface IsolationNetworkArgs {
    /** The VPC whose instances this group isolates. */
    readonly vpcId: pulumi.Input<string>;
    /**
     * Create the S3 gateway endpoint and the ssm / ssmmessages / ec2messages interface endpoints. Set false when
     * the VPC has them already (a second private-DNS endpoint for a service fails), and name their group.
     * @default true
     */
    readonly createEndpoints?: boolean;
    /** Security group of the existing SSM interface endpoints; required when createEndpoints is false. */
    readonly endpointSecurityGroupId?: pulumi.Input<string>;
    /** Subnets for new interface endpoints, at most one per AZ. @default the lowest subnet id of each AZ */
    readonly endpointSubnetIds?: readonly pulumi.Input<string>[];
    /** Route tables for the new S3 gateway endpoint. @default every route table of the VPC */
    readonly endpointRouteTableIds?: readonly pulumi.Input<string>[];
    /**
     * Also create the all-open "untrack" group that containment applies for a moment before the isolation
     * group, so that established (tracked) connections are cut rather than kept alive (docs/how-it-works.md: Containment).
     * @default true
     */
    readonly untrackGroup?: boolean;
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The endpoints an isolated instance reaches AWS through: the S3 gateway endpoint `<prefix>-s3` (on the given
 * route tables, with an optional endpoint policy) and one interface endpoint `<prefix>-<service>` per SSM service
 * (private DNS, in the given subnets, behind the given group). Used by the isolation network of each VPC and by
 * the forensic workstation's VPC.
 */
export function createVpcEndpoints(
    prefix: string,
    args: {
        vpcId: pulumi.Input<string>;
        region: pulumi.Input<string>;
        routeTableIds: pulumi.Input<pulumi.Input<string>[]>;
        subnetIds: pulumi.Input<pulumi.Input<string>[]>;
        securityGroupId: pulumi.Input<string>;
        s3Policy?: pulumi.Input<string>;
        tags: Record<string, string>;
    },
    opts: pulumi.CustomResourceOptions,
): { s3: aws.ec2.VpcEndpoint; interfaceEndpoints: aws.ec2.VpcEndpoint[] } {
    const s3 = new aws.ec2.VpcEndpoint(`${prefix}-s3`, {
        vpcId: args.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${args.region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: args.routeTableIds,
        ...(args.s3Policy !== undefined ? { policy: args.s3Policy } : {}),
        tags: args.tags,
    }, opts);
    const interfaceEndpoints = SSM_ENDPOINT_SERVICES.map((service) => new aws.ec2.VpcEndpoint(`${prefix}-${service}`, {
        vpcId: args.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${args.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: args.subnetIds,
        securityGroupIds: [args.securityGroupId],
        tags: args.tags,
    }, opts));
    return { s3, interfaceEndpoints };
}

/**
 * The isolation rule set (`core/isolation.ts`: HTTPS to the S3 prefix list and to the endpoints' group, nothing
 * else) as separate egress rule resources named `<prefix>-<rule key>` on `groupId`: the isolation group of each VPC
 * and the forensic workstation's group. The group itself must have no inline rules.
 */
export function createIsolationEgressRules(
    prefix: string,
    groupId: pulumi.Input<string>,
    targets: { s3PrefixListId: pulumi.Input<string>; endpointSecurityGroupId: pulumi.Input<string> },
    tags: Record<string, string>,
    parent: pulumi.Resource,
): aws.vpc.SecurityGroupEgressRule[] {
    return isolationEgressRules(targets).map((rule) => new aws.vpc.SecurityGroupEgressRule(`${prefix}-${rule.key}`, {
        securityGroupId: groupId,
        description: rule.description,
        ipProtocol: rule.ipProtocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        prefixListId: rule.prefixListId,
        referencedSecurityGroupId: rule.referencedSecurityGroupId,
        tags,
    }, { parent }));
}

/**
 * The isolation security group of one VPC, and the endpoints that let an isolated instance still hand over
 * evidence: no ingress at all, egress only TCP 443 to the S3 prefix list and to the SSM endpoints' group.
 * Never 0.0.0.0/0 or ::/0. Rules are separate `vpc.SecurityGroupEgressRule` resources (never inline as well).
 */
export class IsolationNetwork extends pulumi.ComponentResource {
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly endpointSecurityGroupId: pulumi.Output<string>;
    public readonly s3PrefixListId: pulumi.Output<string>;
    public readonly vpcId: pulumi.Output<string>;
    /** The all-open group applied first to untrack connections; undefined when disabled. */
    public readonly untrackSecurityGroupId?: pulumi.Output<string>;

    constructor(name: string, args: IsolationNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:network:IsolationNetwork", name, {}, opts);
        const createEndpoints = args.createEndpoints ?? true;
        if (!createEndpoints && args.endpointSecurityGroupId === undefined) {
            throw new Error(`IsolationNetwork ${name}: endpointSecurityGroupId is required when createEndpoints is false`);
        }
        if (createEndpoints && args.endpointSecurityGroupId !== undefined) {
            throw new Error(`IsolationNetwork ${name}: endpointSecurityGroupId and createEndpoints=true conflict: use existing endpoints or create them, not both`);
        }
        const parent = { parent: this };
        const tags = { ...args.tags };
        const region = aws.getRegionOutput({}, parent).region;

        let endpointSecurityGroupId: pulumi.Output<string>;
        let s3PrefixListId: pulumi.Output<string>;
        if (createEndpoints) {
            const vpc = aws.ec2.getVpcOutput({ id: args.vpcId }, parent);
            // Private DNS makes every instance of the VPC use these endpoints, not only isolated ones: admit
            // HTTPS from all the VPC's ranges or SSM breaks for the healthy instances too. (Inline rules are
            // fine here: this is not an isolation group, and its whole rule set lives in this one resource.)
            const endpointGroup = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
                vpcId: args.vpcId,
                description: "aws-dfir: SSM interface endpoints, HTTPS from the VPC",
                ingress: [{
                    description: "HTTPS from the VPC's ranges",
                    protocol: "tcp",
                    fromPort: 443,
                    toPort: 443,
                    cidrBlocks: vpc.cidrBlockAssociations.apply((assocs) => assocs.map((a) => a.cidrBlock)),
                }],
                tags: { ...tags, [TAGS.role]: TAGS.roleEndpoints },
            }, parent);

            const routeTableIds = args.endpointRouteTableIds
                ? pulumi.all([...args.endpointRouteTableIds])
                : aws.ec2.getRouteTablesOutput({ vpcId: args.vpcId }, parent).ids;

            const subnetIds = args.endpointSubnetIds
                ? pulumi.all([...args.endpointSubnetIds])
                : aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [args.vpcId] }] }, parent).ids
                    .apply((ids) => Promise.all(ids.map((id) => aws.ec2.getSubnet({ id }, parent))))
                    .apply((subnets) => onePerAvailabilityZone(subnets.map((s) => ({ id: s.id, availabilityZone: s.availabilityZone }))));
            const { s3 } = createVpcEndpoints(name, { vpcId: args.vpcId, region, routeTableIds, subnetIds, securityGroupId: endpointGroup.id, tags }, parent);
            endpointSecurityGroupId = endpointGroup.id;
            s3PrefixListId = s3.prefixListId;
        } else {
            endpointSecurityGroupId = pulumi.output(args.endpointSecurityGroupId as pulumi.Input<string>);
            // The regional S3 prefix list is the same one an existing gateway endpoint routes.
            s3PrefixListId = aws.ec2.getPrefixListOutput({ name: pulumi.interpolate`com.amazonaws.${region}.s3` }, parent).id;
        }

        const isolation = new aws.ec2.SecurityGroup(`${name}-isolation`, {
            vpcId: args.vpcId,
            description: "aws-dfir isolation: no ingress; HTTPS egress to S3 and SSM endpoints only",
            // No inline rules: the provider removes the default allow-all egress, and the rules below are the
            // only ones. Rules are removed before the group on delete so it never blocks on references.
            revokeRulesOnDelete: true,
            tags: { ...tags, [TAGS.role]: TAGS.roleIsolation },
        }, parent);

        createIsolationEgressRules(`${name}-isolation`, isolation.id, { s3PrefixListId, endpointSecurityGroupId }, { ...tags, [TAGS.role]: TAGS.roleIsolation }, this);

        if (args.untrackGroup ?? true) {
            // Connection tracking stops only for flows that every rule admits, in both directions and for both
            // address families; flows untracked this way are then dropped by the isolation group.
            const untrack = new aws.ec2.SecurityGroup(`${name}-untrack`, {
                vpcId: args.vpcId,
                description: "aws-dfir untrack: all-open for one step, so the isolation group that follows cuts existing connections",
                revokeRulesOnDelete: true,
                tags: { ...tags, [TAGS.role]: TAGS.roleUntrack },
            }, parent);
            for (const direction of ["ingress", "egress"] as const) {
                for (const [family, cidr] of [["v4", "0.0.0.0/0"], ["v6", "::/0"]] as const) {
                    const Rule = direction === "ingress" ? aws.vpc.SecurityGroupIngressRule : aws.vpc.SecurityGroupEgressRule;
                    new Rule(`${name}-untrack-${direction}-${family}`, {
                        securityGroupId: untrack.id,
                        description: "all traffic: makes every flow untracked",
                        ipProtocol: "-1",
                        ...(family === "v4" ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
                        tags: { ...tags, [TAGS.role]: TAGS.roleUntrack },
                    }, parent);
                }
            }
            this.untrackSecurityGroupId = untrack.id;
        }

        this.securityGroupId = isolation.id;
        this.endpointSecurityGroupId = endpointSecurityGroupId;
        this.s3PrefixListId = s3PrefixListId;
        this.vpcId = pulumi.output(args.vpcId);
        this.registerOutputs({
            securityGroupId: this.securityGroupId,
            endpointSecurityGroupId: this.endpointSecurityGroupId,
            s3PrefixListId: this.s3PrefixListId,
            vpcId: this.vpcId,
            untrackSecurityGroupId: this.untrackSecurityGroupId,
        });
    }
}
