/**
 * The one definition of the Pulumi mocks this project runs its program under: the test suite
 * (`test/support/pulumi-mocks.ts`) and `npm run stack:resources` (`scripts/stack-resources.ts`) both install them
 * from here, so the two can never disagree about what a resource computes or what a data source answers.
 *
 * - COMPUTED: the outputs the provider would compute, per resource type the program uses.
 * - CALLS: the answers of the data sources (invokes) the program calls.
 * Anything else throws `Mock not implemented: <token>`: a new dependency of the program must be mocked on purpose,
 * never answered with a silent `{}`.
 *
 * Every registration is also captured from the mock monitor's `registerResource` request (parent, provider,
 * dependencies and property dependencies are not in `MockResourceArgs`), together with the URN and id the mock
 * monitor answers with.
 *
 * Mocks are global to a process: install them once.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const VPC = { id: "vpc-0123456789abcdef0", cidrs: ["10.20.0.0/16", "100.64.0.0/20"] };
export const ROUTE_TABLES = ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"];
export const S3_PREFIX_LIST = "pl-63a5400a";

export interface MockSubnet {
    id: string;
    availabilityZone: string;
}

/** Two subnets in one AZ, one in another: endpoints must get exactly one per AZ. */
export function subnetsOf(region: string): MockSubnet[] {
    return [
        { id: "subnet-0bbbbbbbbbbbbbbbb", availabilityZone: `${region}a` },
        { id: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: `${region}a` },
        { id: "subnet-0cccccccccccccccc", availabilityZone: `${region}b` },
    ];
}

export type ComputedTable = Record<string, (name: string, inputs: any) => Record<string, unknown>>;
export type CallTable = Record<string, (inputs: any) => Record<string, unknown>>;

/** Outputs the provider would compute, per resource type we use. */
export function computedOutputs(region: string): ComputedTable {
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;
    return {
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
        "aws:guardduty/organizationConfiguration:OrganizationConfiguration": () => ({}),
        "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature": () => ({}),
        "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount": () => ({}),
        "aws:cloudwatch/eventBusPolicy:EventBusPolicy": () => ({}),
        "aws:sns/topic:Topic": (n) => ({ arn: arn("sns", n) }),
        "aws:sns/topicSubscription:TopicSubscription": () => ({}),
        "aws:cloudwatch/logGroup:LogGroup": (n, i) => ({ name: i.namePrefix ? `${i.namePrefix}abc` : n, arn: arn("logs", `log-group:${n}`) }),
        // An explicit `name` is the role's (and profile's) IAM name, as AWS names it; otherwise the resource name.
        "aws:iam/role:Role": (n, i) => ({ arn: `arn:aws:iam::${ACCOUNT}:role/${i.name ?? n}`, name: i.name ?? n }),
        "aws:iam/rolePolicy:RolePolicy": () => ({}),
        "aws:lambda/function:Function": (n) => ({ arn: arn("lambda", `function:${n}`), name: n }),
        "aws:sfn/stateMachine:StateMachine": (n) => ({ arn: arn("states", `stateMachine:${n}`) }),
        "aws:sqs/queue:Queue": (n) => ({ arn: arn("sqs", n), url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${n}`, name: n }),
        "aws:sqs/queuePolicy:QueuePolicy": () => ({}),
        "aws:cloudwatch/eventRule:EventRule": (n) => ({ arn: arn("events", `rule/${n}`), name: n }),
        "aws:cloudwatch/eventTarget:EventTarget": () => ({}),
        "aws:cloudwatch/metricAlarm:MetricAlarm": () => ({}),
        "aws:dynamodb/table:Table": (n) => ({ arn: arn("dynamodb", `table/${n}`), name: n }),
        "aws:ssm/document:Document": (n) => ({ arn: arn("ssm", `document/${n}`), name: n }),
        "aws:iam/instanceProfile:InstanceProfile": (n, i) => ({ arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${i.name ?? n}`, name: i.name ?? n }),
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": () => ({}),
        "aws:iam/policy:Policy": (n) => ({ arn: `arn:aws:iam::${ACCOUNT}:policy/${n}` }),
        "aws:organizations/policy:Policy": (n) => ({ arn: `arn:aws:organizations::${ACCOUNT}:policy/o-test/service_control_policy/${n}` }),
        "aws:s3/bucketObjectv2:BucketObjectv2": () => ({}),
    };
}

/** Answers of the data sources the program calls. */
export function dataSourceCalls(region: string): CallTable {
    const subnets = subnetsOf(region);
    return {
        "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "AIDTEST", id: ACCOUNT }),
        "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
        "aws:index/getRegion:getRegion": () => ({ region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: `mock region ${region}` }),
        "aws:ec2/getVpc:getVpc": (i) => {
            if (i.id !== VPC.id) throw new Error(`mock: no VPC ${i.id}`);
            return { id: VPC.id, cidrBlock: VPC.cidrs[0], cidrBlockAssociations: VPC.cidrs.map((c, k) => ({ associationId: `vpc-cidr-assoc-${k}`, cidrBlock: c, state: "associated" })) };
        },
        "aws:ec2/getSubnets:getSubnets": () => ({ id: region, ids: subnets.map((s) => s.id) }),
        "aws:ec2/getSubnet:getSubnet": (i) => {
            const s = subnets.find((x) => x.id === i.id);
            if (!s) throw new Error(`mock: no subnet ${i.id}`);
            return { ...s, vpcId: VPC.id };
        },
        "aws:ec2/getRouteTables:getRouteTables": () => ({ id: region, ids: ROUTE_TABLES }),
        "aws:ec2/getPrefixList:getPrefixList": (i) => ({ id: S3_PREFIX_LIST, name: i.name, cidrBlocks: ["3.5.0.0/19"] }),
    };
}

/** A resource as the mocks saw it: resolved inputs, and its parent as `type::name`. */
export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** `type::name` of the parent resource, when one was given. */
    parent?: string;
}

/** One `registerResource` request to the mock monitor, as sent, with the monitor's answer. */
export interface Registration {
    type: string;
    name: string;
    custom: boolean;
    /** Parent URN ("" for none). */
    parent: string;
    /** Provider reference `urn::id` as sent ("" when the engine would pick the default provider). */
    provider: string;
    /** Version of the resource's package as sent (selects the default provider). */
    version: string;
    /** The request's `object` Struct as JSON: the inputs in wire form (secrets, assets, references signed). */
    object: Record<string, unknown>;
    /** URNs of every resource this one depends on (explicit dependsOn and the sources of its inputs). */
    dependencies: string[];
    /** Input property -> URNs its value came from. */
    propertyDependencies: Record<string, string[]>;
    /** URN and id the mock monitor answered with (unset until it answers). */
    urn?: string;
    id?: string;
    /** Why the registration failed (e.g. `Mock not implemented: <type>`). */
    error?: string;
}

export interface MockProgram {
    /** Every resource the mocks were asked for, in the order asked. */
    readonly recorded: RecordedResource[];
    /** Every registration request, in the order the SDK sent them. */
    readonly registrations: Registration[];
    /** Wait until every registration the program started has reached the mocks. */
    settle(): Promise<void>;
}

export interface MockOptions {
    project: string;
    stack: string;
    /** Region the data sources answer with (and the ARNs the mocks compute). */
    region: string;
    /** Run as a preview (`pulumi preview`, where policies run). */
    preview: boolean;
}

// Not in the public typings: the SDK's monitor and its own way to drain outstanding resource RPCs.
interface Settings {
    getMonitor(): { registerResource(req: any, cb: (err: unknown, resp: any) => void): unknown };
    waitForRPCs(): Promise<void>;
}

/** `type::name` of a URN (the type is the last of the qualified parent chain). */
export function typeAndName(urn: string): string {
    const parts = urn.split("::");
    return `${parts[2].split("$").pop()}::${parts.slice(3).join("::")}`;
}

let installed = false;

/** Install the mocks for this process (once) and start capturing registrations. */
export function installMocks(options: MockOptions): MockProgram {
    if (installed) throw new Error("Pulumi mocks are already installed in this process");
    installed = true;
    const COMPUTED = computedOutputs(options.region);
    const CALLS = dataSourceCalls(options.region);
    const recorded: RecordedResource[] = [];
    const registrations: Registration[] = [];
    const parents = new Map<string, string>();

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
    }, options.project, options.stack, options.preview);

    // Parents, providers and dependencies are not in MockResourceArgs; the mock monitor's registerResource
    // request carries them, so read them there before the mocks are asked for the resource.
    const settings = require("@pulumi/pulumi/runtime/settings") as Settings;
    const monitor = settings.getMonitor();
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: (err: unknown, resp: any) => void) => {
        const registration: Registration = {
            type: req.getType(),
            name: req.getName(),
            custom: req.getCustom(),
            parent: req.getParent(),
            provider: req.getProvider(),
            version: req.getVersion(),
            object: req.getObject()?.toJavaScript() ?? {},
            dependencies: [...req.getDependenciesList()],
            propertyDependencies: {},
        };
        req.getPropertydependenciesMap().forEach((deps: any, key: string) => {
            registration.propertyDependencies[key] = [...deps.getUrnsList()];
        });
        registrations.push(registration);
        if (registration.parent) parents.set(`${registration.type}::${registration.name}`, typeAndName(registration.parent));
        return registerResource(req, (err, resp) => {
            if (err) registration.error = err instanceof Error ? err.message : String(err);
            else {
                registration.urn = resp.getUrn();
                registration.id = resp.getId();
            }
            cb(err, resp);
        });
    };

    return { recorded, registrations, settle: () => settings.waitForRPCs() };
}
