import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { WORKSTATION_DEFAULTS, type WorkstationConfig } from "../core/config";
import { AMI_ID } from "../core/ids";
import { serviceTrustPolicy, ssmManagedInstanceCoreArn } from "../core/iam";
import { TAGS } from "../core/tags";
import { workstationEndpointPolicy, workstationPolicy } from "../core/workstation";
import { createVpcEndpoints, createIsolationEgressRules } from "./isolationNetwork";

export interface ForensicWorkstationArgs {
    /** The image to run (e.g. a SIFT build), in the workstation's region. */
    readonly amiId: string;
    /** @default "m5.xlarge" */
    readonly instanceType?: string;
    /** The Availability Zone of the subnet and instance (volumes for analysis are created there). @default the region's first AZ */
    readonly availabilityZone?: string;
    /** The analysis VPC's range; its one subnet takes all of it. @default "10.254.0.0/24" */
    readonly cidr?: string;
    /** Root volume size in GiB. @default the AMI's */
    readonly rootVolumeGiB?: number;
    /** The evidence buckets the instance may read (its region's: the S3 gateway endpoint serves no other region). */
    readonly evidenceBucketArns: pulumi.Input<string>[];
    /** Their KMS keys (memory images and metadata are encrypted with them). */
    readonly evidenceKeyArns: pulumi.Input<string>[];
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

/** The component's args from the stack's `dfir:workstation` and the evidence store it reads (one place for both stacks). */
export function workstationArgs(config: WorkstationConfig, store: { bucketArn: pulumi.Input<string>; keyArn: pulumi.Input<string> }): ForensicWorkstationArgs {
    return {
        amiId: config.amiId,
        instanceType: config.instanceType,
        availabilityZone: config.availabilityZone,
        cidr: config.cidr,
        rootVolumeGiB: config.rootVolumeGiB,
        evidenceBucketArns: [store.bucketArn],
        evidenceKeyArns: [store.keyArn],
    };
}

const json = <T>(d: pulumi.Output<T>) => d.apply((v) => JSON.stringify(v));

/**
 * An isolated analysis workstation (docs/analyst-guide.md: "dfir attach"): its own VPC with one private subnet and no way out —
 * no internet gateway, no NAT, a route table with only the local route and the S3 gateway endpoint — the SSM
 * interface endpoints (ssm, ssmmessages, ec2messages, private DNS) as the only way in (Session Manager: no ingress
 * at all), and one instance from the given image. Its security group admits nothing and lets out only HTTPS to the
 * endpoints' group and the S3 prefix list: the isolation group's exact rule set (`core/isolation.ts`), tagged
 * `dfir:role=workstation` so the policy pack holds it to the isolation rules. Its role reads the evidence
 * (`core/workstation.ts`) and nothing else; the S3 endpoint's policy lets only the evidence buckets (and the SSM
 * agent's regional buckets) through. IMDSv2 only, root volume encrypted.
 *
 * The instance is tagged `dfir:role=workstation`: `dfir attach CASE` finds it by that tag, creates volumes from the
 * case's snapshots in its Availability Zone and attaches them.
 */
export class ForensicWorkstation extends pulumi.ComponentResource {
    public readonly instanceId: pulumi.Output<string>;
    public readonly availabilityZone: pulumi.Output<string>;
    public readonly securityGroupId: pulumi.Output<string>;
    public readonly vpcId: pulumi.Output<string>;
    public readonly subnetId: pulumi.Output<string>;
    public readonly endpointSecurityGroupId: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;

    constructor(name: string, args: ForensicWorkstationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:analysis:ForensicWorkstation", name, {}, opts);
        if (!AMI_ID.test(args.amiId)) throw new Error(`ForensicWorkstation ${name}: amiId must look like ami-0123456789abcdef0, got ${JSON.stringify(args.amiId)}`);
        if (!args.evidenceBucketArns?.length || !args.evidenceKeyArns?.length) {
            throw new Error(`ForensicWorkstation ${name}: evidenceBucketArns and evidenceKeyArns must each name at least one ARN`);
        }
        const parent = { parent: this };
        const tags = { ...args.tags };
        const cidr = args.cidr ?? WORKSTATION_DEFAULTS.cidr;
        const region = aws.getRegionOutput({}, parent).region;
        const partition = aws.getPartitionOutput({}, parent).partition;

        // Availability Zones proper (no Local or Wavelength Zones); the first by name unless one is configured.
        const zones = aws.getAvailabilityZonesOutput({ state: "available", filters: [{ name: "zone-type", values: ["availability-zone"] }] }, parent);
        const availabilityZone = pulumi.all([zones.names, region]).apply(([names, r]) => {
            if (args.availabilityZone === undefined) {
                const first = [...names].sort()[0];
                if (!first) throw new Error(`ForensicWorkstation ${name}: region ${r} lists no available Availability Zone`);
                return first;
            }
            if (!names.includes(args.availabilityZone)) {
                throw new Error(`config dfir:workstation.availabilityZone ${args.availabilityZone} is not an available Availability Zone of ${r} (${[...names].sort().join(", ")})`);
            }
            return args.availabilityZone;
        });

        const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: cidr,
            // Private DNS of the interface endpoints needs both.
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: { ...tags, Name: name },
        }, parent);
        // The VPC's default group loses its rules: anything launched here by hand admits and reaches nothing.
        new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], tags: { ...tags, Name: `${name}-default` } }, parent);
        const subnet = new aws.ec2.Subnet(`${name}-subnet`, {
            vpcId: vpc.id,
            cidrBlock: cidr,
            availabilityZone,
            mapPublicIpOnLaunch: false,
            tags: { ...tags, Name: name },
        }, parent);
        // No routes: the local route is implicit, the S3 gateway endpoint adds its own; `routes: []` keeps anything
        // else (an internet or NAT gateway route added by hand) out at the next `pulumi up`.
        const routeTable = new aws.ec2.RouteTable(`${name}-routes`, { vpcId: vpc.id, routes: [], tags: { ...tags, Name: name } }, parent);
        new aws.ec2.RouteTableAssociation(`${name}-routes-subnet`, { subnetId: subnet.id, routeTableId: routeTable.id }, parent);

        // The endpoints admit HTTPS from the VPC's range only (the VPC has no other range).
        const endpointGroup = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
            vpcId: vpc.id,
            description: "aws-dfir workstation: SSM interface endpoints, HTTPS from the analysis VPC",
            ingress: [{ description: "HTTPS from the analysis VPC", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr] }],
            egress: [],
            tags: { ...tags, [TAGS.role]: TAGS.roleEndpoints },
        }, parent);
        const { s3, interfaceEndpoints } = createVpcEndpoints(name, {
            vpcId: vpc.id,
            region,
            routeTableIds: [routeTable.id],
            subnetIds: [subnet.id],
            securityGroupId: endpointGroup.id,
            s3Policy: json(pulumi.all([partition, region, pulumi.all(args.evidenceBucketArns)]).apply(([p, r, buckets]) => workstationEndpointPolicy(p, r, buckets))),
            tags,
        }, parent);

        // The isolation group's rule set, as separate rule resources (never inline as well).
        const group = new aws.ec2.SecurityGroup(`${name}-sg`, {
            vpcId: vpc.id,
            description: "aws-dfir workstation: no ingress (Session Manager); HTTPS egress to S3 and the SSM endpoints only",
            revokeRulesOnDelete: true,
            tags: { ...tags, [TAGS.role]: TAGS.roleWorkstation },
        }, parent);
        const rules = createIsolationEgressRules(`${name}-sg`, group.id, { s3PrefixListId: s3.prefixListId, endpointSecurityGroupId: endpointGroup.id },
            { ...tags, [TAGS.role]: TAGS.roleWorkstation }, this);

        const role = new aws.iam.Role(`${name}-role`, {
            description: "aws-dfir forensic workstation: Systems Manager, and read-only access to the evidence",
            assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")),
            tags,
        }, parent);
        const ssm = new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: role.name, policyArn: partition.apply(ssmManagedInstanceCoreArn) }, parent);
        const evidence = new aws.iam.RolePolicy(`${name}-evidence`, {
            role: role.id,
            policy: json(pulumi.all([pulumi.all(args.evidenceBucketArns), pulumi.all(args.evidenceKeyArns)]).apply(([b, k]) => workstationPolicy(b, k))),
        }, parent);
        const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);

        const instance = new aws.ec2.Instance(`${name}-instance`, {
            ami: args.amiId,
            instanceType: args.instanceType ?? WORKSTATION_DEFAULTS.instanceType,
            subnetId: subnet.id,
            vpcSecurityGroupIds: [group.id],
            associatePublicIpAddress: false,
            iamInstanceProfile: profile.name,
            metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
            rootBlockDevice: {
                encrypted: true,
                volumeType: "gp3",
                deleteOnTermination: true,
                ...(args.rootVolumeGiB !== undefined ? { volumeSize: args.rootVolumeGiB } : {}),
            },
            tags: { ...tags, Name: name, [TAGS.role]: TAGS.roleWorkstation },
        }, {
            ...parent,
            // The SSM agent registers at first boot: the endpoints, the egress to them and the role come first.
            dependsOn: [...interfaceEndpoints, ...rules, ssm, evidence],
        });

        this.instanceId = instance.id;
        this.availabilityZone = availabilityZone;
        this.securityGroupId = group.id;
        this.vpcId = vpc.id;
        this.subnetId = subnet.id;
        this.endpointSecurityGroupId = endpointGroup.id;
        this.roleArn = role.arn;
        this.registerOutputs({
            instanceId: this.instanceId,
            availabilityZone: this.availabilityZone,
            securityGroupId: this.securityGroupId,
            vpcId: this.vpcId,
            subnetId: this.subnetId,
            endpointSecurityGroupId: this.endpointSecurityGroupId,
            roleArn: this.roleArn,
        });
    }
}
