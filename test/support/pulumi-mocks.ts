/**
 * Pulumi mocks for the whole test process (mocks are global: set once, here). Every registered resource is
 * recorded with its resolved inputs and its parent, so tests assert on what the program asks AWS for.
 * Resource types and data-source calls the project does not use throw `Mock not implemented: <token>`:
 * a new dependency of the program must be mocked on purpose, never answered with a silent `{}`.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const VPC = { id: "vpc-0123456789abcdef0", cidrs: ["10.20.0.0/16", "100.64.0.0/20"] };
/** Two subnets in one AZ, one in another: endpoints must get exactly one per AZ. */
export const SUBNETS = [
    { id: "subnet-0bbbbbbbbbbbbbbbb", availabilityZone: "us-east-1a" },
    { id: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: "us-east-1a" },
    { id: "subnet-0cccccccccccccccc", availabilityZone: "us-east-1b" },
];
export const ROUTE_TABLES = ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"];
export const S3_PREFIX_LIST = "pl-63a5400a";

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** `type::name` of the parent resource, when one was given. */
    parent?: string;
}

export const recorded: RecordedResource[] = [];
const parents = new Map<string, string>();

const arn = (service: string, resource: string, region = REGION) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;

/** Outputs the provider would compute, per resource type we use. */
const COMPUTED: Record<string, (name: string, inputs: any) => Record<string, unknown>> = {
    "aws:kms/key:Key": (n) => ({ arn: arn("kms", `key/${n}`), keyId: n }),
    "aws:s3/bucket:Bucket": (n) => ({ bucket: n, arn: `arn:aws:s3:::${n}` }),
    "aws:s3/bucketVersioning:BucketVersioning": () => ({}),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": () => ({}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": () => ({}),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": () => ({}),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": () => ({}),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": () => ({}),
    "aws:s3/bucketPolicy:BucketPolicy": () => ({}),
    "aws:ec2/securityGroup:SecurityGroup": (n) => ({ arn: arn("ec2", `security-group/sg-${n}`) }),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": () => ({}),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": () => ({}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (_n, i) => (i.vpcEndpointType === "Gateway" ? { prefixListId: S3_PREFIX_LIST } : {}),
    "aws:guardduty/detector:Detector": () => ({}),
    "aws:guardduty/detectorFeature:DetectorFeature": () => ({}),
    "aws:sns/topic:Topic": (n) => ({ arn: arn("sns", n) }),
    "aws:sns/topicSubscription:TopicSubscription": () => ({}),
    "aws:cloudwatch/logGroup:LogGroup": (n, i) => ({ name: i.namePrefix ? `${i.namePrefix}abc` : n, arn: arn("logs", `log-group:${n}`) }),
    "aws:iam/role:Role": (n) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${n}`, name: n }),
    "aws:iam/rolePolicy:RolePolicy": () => ({}),
    "aws:lambda/function:Function": (n) => ({ arn: arn("lambda", `function:${n}`), name: n }),
    "aws:sfn/stateMachine:StateMachine": (n) => ({ arn: arn("states", `stateMachine:${n}`) }),
    "aws:sqs/queue:Queue": (n) => ({ arn: arn("sqs", n), url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${n}`, name: n }),
    "aws:sqs/queuePolicy:QueuePolicy": () => ({}),
    "aws:cloudwatch/eventRule:EventRule": (n) => ({ arn: arn("events", `rule/${n}`), name: n }),
    "aws:cloudwatch/eventTarget:EventTarget": () => ({}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": () => ({}),
    "aws:dynamodb/table:Table": (n) => ({ arn: arn("dynamodb", `table/${n}`), name: n }),
    "aws:ssm/document:Document": (n) => ({ arn: arn("ssm", `document/${n}`), name: n }),
    "aws:iam/instanceProfile:InstanceProfile": (n) => ({ arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${n}`, name: n }),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": () => ({}),
    "aws:iam/policy:Policy": (n) => ({ arn: `arn:aws:iam::${ACCOUNT}:policy/${n}` }),
    "aws:organizations/policy:Policy": (n) => ({ arn: `arn:aws:organizations::${ACCOUNT}:policy/o-test/service_control_policy/${n}` }),
    "aws:s3/bucketObjectv2:BucketObjectv2": () => ({}),
};

const CALLS: Record<string, (inputs: any) => Record<string, unknown>> = {
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "AIDTEST", id: ACCOUNT }),
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
    "aws:index/getRegion:getRegion": () => ({ region: REGION, name: REGION, id: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: "US East (N. Virginia)" }),
    "aws:ec2/getVpc:getVpc": (i) => {
        if (i.id !== VPC.id) throw new Error(`mock: no VPC ${i.id}`);
        return { id: VPC.id, cidrBlock: VPC.cidrs[0], cidrBlockAssociations: VPC.cidrs.map((c, k) => ({ associationId: `vpc-cidr-assoc-${k}`, cidrBlock: c, state: "associated" })) };
    },
    "aws:ec2/getSubnets:getSubnets": () => ({ id: REGION, ids: SUBNETS.map((s) => s.id) }),
    "aws:ec2/getSubnet:getSubnet": (i) => {
        const s = SUBNETS.find((x) => x.id === i.id);
        if (!s) throw new Error(`mock: no subnet ${i.id}`);
        return { ...s, vpcId: VPC.id };
    },
    "aws:ec2/getRouteTables:getRouteTables": () => ({ id: REGION, ids: ROUTE_TABLES }),
    "aws:ec2/getPrefixList:getPrefixList": (i) => ({ id: S3_PREFIX_LIST, name: i.name, cidrBlocks: ["3.5.0.0/19"] }),
};

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        const compute = COMPUTED[args.type];
        if (args.custom !== false && !compute && !args.type.startsWith("dfir:")) {
            throw new Error(`Mock not implemented: ${args.type}`);
        }
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, parent: parents.get(`${args.type}::${args.name}`) });
        const state = { ...args.inputs, ...(compute ? compute(args.name, args.inputs) : {}) };
        const id = state.id ?? (args.type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-${args.name}` : `${args.name}-id`);
        return { id, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        const answer = CALLS[args.token];
        if (!answer) throw new Error(`Mock not implemented: ${args.token}`);
        return answer(args.inputs);
    },
}, "aws-dfir", "test", true);

// Parents are not in MockResourceArgs; the mock monitor's registerResource request carries them, so read
// them there before the mocks are asked for the resource.
const settings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): { registerResource(req: any, cb: unknown): unknown };
    waitForRPCs(): Promise<void>;
};
const monitor = settings.getMonitor();
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: any, cb: unknown) => {
    const parent: string = req.getParent();
    if (parent) parents.set(`${req.getType()}::${req.getName()}`, typeAndName(parent));
    return registerResource(req, cb);
};

/** `type::name` of a URN (the type is the last of the qualified parent chain). */
function typeAndName(urn: string): string {
    const parts = urn.split("::");
    return `${parts[2].split("$").pop()}::${parts.slice(3).join("::")}`;
}

/** Wait until every registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
    // Not in the public typings: the SDK's own way to drain outstanding resource RPCs.
    await settings.waitForRPCs();
}

/** The resolved value of an output. */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T> {
    return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => { resolve(v as T); return v; }));
}

/** Resources recorded so far whose name starts with a prefix (each test uses its own component name). */
export function resourcesOf(prefix: string): RecordedResource[] {
    return recorded.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
}

/** Exactly one recorded resource of a type and name; fails loudly otherwise. */
export function one(type: string, name: string): RecordedResource {
    const hits = recorded.filter((r) => r.type === type && r.name === name);
    if (hits.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${hits.length}`);
    return hits[0];
}
