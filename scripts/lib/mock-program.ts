/**
 * The one definition of the Pulumi mocks this project runs its program under: the test suite
 * (`test/support/pulumi-mocks.ts`) and `npm run stack:resources` (`scripts/stack-resources.ts`) both install them
 * from here, so the two can never disagree about what a resource computes or what a data source answers.
 *
 * - COMPUTED (`computedOutputs(region, account)`): the outputs the provider would compute, per resource type the
 *   program uses.
 * - CALLS (`dataSourceCalls(region, account)`): the answers of the data sources (invokes) the program calls.
 * Anything else throws `Mock not implemented: <token>`: a new dependency of the program must be mocked on purpose,
 * never answered with a silent `{}`.
 *
 * Answers are per provider, as AWS would give them per account and region:
 * - An explicit `aws.Provider` (`pulumi:providers:aws`, id `<name>-id`, state = its inputs) stands for the
 *   account `allowedAccountIds[0]` (else ACCOUNT) and the region `region` (else the region given to
 *   `installMocks`). Its inputs are read in the SDK's wire form (non-string values JSON-encoded) or plain.
 * - Every resource and invoke is answered from the tables of its provider's (account, region): ARNs, URLs,
 *   `getCallerIdentity`, `getRegion`, the VPC inventory. No provider reference means the default provider:
 *   ACCOUNT in the `installMocks` region. A reference to a provider the mocks never saw throws (a program bug).
 * - The VPC inventory (`vpcsIn(account, region)`): ACCOUNT has VPC in every region (with `subnetsOf(region)` and
 *   ROUTE_TABLES); account 222222222222 has exactly the two VPCs of `examples/Pulumi.prod.yaml` in us-east-1;
 *   every other (account, region) has two generated VPCs (deterministic ids and CIDRs). Subnets (two in AZ a,
 *   one in AZ b) and route tables of the other VPCs are derived from the account, region and VPC id.
 *   `getVpc` of an id not in the inventory of its provider's account and region throws
 *   `mock: no VPC <id> in account <account> region <region>`: a VPC named in the wrong region fails at preview.
 *   `getVpcs` lists the inventory; `getSubnets` (by its `vpc-id` filter) and `getRouteTables` (by `vpcId`) answer
 *   for the VPCs named, `getSubnet` with the subnet's own `vpcId`.
 * - `getAvailabilityZones` answers three zones, `<region>a` to `<region>c`.
 * - `guardduty.getDetector` answers an enabled detector with a deterministic id (`detectorIdOf(account, region)`).
 * - A data source that throws rejects the program's invoke with the error's message (carried as gRPC `details`).
 *
 * Every registration is also captured from the mock monitor's `registerResource` request (parent, provider,
 * dependencies and property dependencies are not in `MockResourceArgs`), together with the URN and id the mock
 * monitor answers with. Recorded resources name their explicit provider (`provider`: the provider's name).
 *
 * Mocks are global to a process: install them once.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { publicKeySpki, scalarFrom } from "../../drill/sim/ecdsa";
import { publicKeyPem } from "../../core/signature";

/** The account of the default provider (a single-account stack). */
export const ACCOUNT = "123456789012";
/** ACCOUNT's one VPC, in every region. */
export const VPC = { id: "vpc-0123456789abcdef0", cidrs: ["10.20.0.0/16", "100.64.0.0/20"] };
/** The route tables of ACCOUNT's VPC. */
export const ROUTE_TABLES = ["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"];
export const S3_PREFIX_LIST = "pl-63a5400a";
/** The provider type whose registrations the mocks accept (and answer per account and region). */
export const AWS_PROVIDER_TYPE = "pulumi:providers:aws";

export interface MockSubnet {
    id: string;
    availabilityZone: string;
}

export interface MockVpc {
    id: string;
    cidrs: string[];
}

/** Two subnets in one AZ, one in another: endpoints must get exactly one per AZ. (ACCOUNT's VPC, per region.) */
export function subnetsOf(region: string): MockSubnet[] {
    return [
        { id: "subnet-0bbbbbbbbbbbbbbbb", availabilityZone: `${region}a` },
        { id: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: `${region}a` },
        { id: "subnet-0cccccccccccccccc", availabilityZone: `${region}b` },
    ];
}

/** The first `length` hex digits of sha256(seed). */
function hexOf(seed: string, length = 16): string {
    return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** VPCs with fixed ids (those of examples/Pulumi.prod.yaml), by `account/region`. */
const FIXED_VPCS: Readonly<Record<string, readonly MockVpc[]>> = {
    "222222222222/us-east-1": [
        { id: "vpc-0123456789abcdef0", cidrs: ["10.1.0.0/16"] },
        { id: "vpc-0fedcba9876543210", cidrs: ["10.2.0.0/16"] },
    ],
};

/**
 * The VPCs of an account in a region: ACCOUNT has VPC in every region; 222222222222 has the two VPCs of the
 * example prod stack in us-east-1; any other (account, region) has two generated VPCs, `vpc-0` + 16 hex digits
 * of sha256(`<account>/<region>/<i>`), with distinct `10.<n>.0.0/16` ranges.
 */
export function vpcsIn(account: string, region: string): MockVpc[] {
    if (account === ACCOUNT) return [{ id: VPC.id, cidrs: [...VPC.cidrs] }];
    const fixed = FIXED_VPCS[`${account}/${region}`];
    if (fixed) return fixed.map((v) => ({ id: v.id, cidrs: [...v.cidrs] }));
    const base = parseInt(hexOf(`${account}/${region}`, 2), 16) & 0xfe;
    return [0, 1].map((i) => ({ id: `vpc-0${hexOf(`${account}/${region}/${i}`)}`, cidrs: [`10.${base | i}.0.0/16`] }));
}

/** The inventory VPC `vpcId` of an account in a region; throws the message `getVpc` fails with otherwise. */
function vpcOf(account: string, region: string, vpcId: unknown): MockVpc {
    const vpc = vpcsIn(account, region).find((v) => v.id === vpcId);
    if (!vpc) throw new Error(`mock: no VPC ${vpcId} in account ${account} region ${region}`);
    return vpc;
}

/**
 * The subnets of an inventory VPC: two in AZ a, one in AZ b. ACCOUNT's VPC has `subnetsOf(region)`; the others
 * `subnet-0` + 16 hex digits of sha256(`<account>/<region>/<vpc id>/subnet/<k>`). Throws for a VPC not in
 * `vpcsIn(account, region)`.
 */
export function subnetsIn(account: string, region: string, vpcId: string): MockSubnet[] {
    vpcOf(account, region, vpcId);
    if (account === ACCOUNT) return subnetsOf(region);
    return ["a", "a", "b"].map((az, k) => ({ id: `subnet-0${hexOf(`${account}/${region}/${vpcId}/subnet/${k}`)}`, availabilityZone: `${region}${az}` }));
}

/** The route tables of an inventory VPC: ROUTE_TABLES for ACCOUNT's VPC, two derived ids for the others. */
export function routeTablesIn(account: string, region: string, vpcId: string): string[] {
    vpcOf(account, region, vpcId);
    if (account === ACCOUNT) return [...ROUTE_TABLES];
    return [0, 1].map((k) => `rtb-0${hexOf(`${account}/${region}/${vpcId}/rtb/${k}`)}`);
}

/** The GuardDuty detector id of an account in a region (32 hex digits, as GuardDuty's). */
export function detectorIdOf(account: string, region: string): string {
    return hexOf(`${account}/${region}/guardduty-detector`, 32);
}

export type ComputedTable = Record<string, (name: string, inputs: any) => Record<string, unknown>>;
export type CallTable = Record<string, (inputs: any) => Record<string, unknown>>;

/** Outputs the provider would compute, per resource type we use, in an account (default ACCOUNT) and region. */
export function computedOutputs(region: string, account: string = ACCOUNT): ComputedTable {
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
    return {
        "aws:kms/key:Key": (n) => ({ arn: arn("kms", `key/${n}`), keyId: n }),
        "aws:kms/alias:Alias": (n, i) => ({ arn: arn("kms", String(i.name ?? `alias/${n}`)), targetKeyArn: arn("kms", `key/${i.targetKeyId}`) }),
        "aws:s3/bucket:Bucket": (n) => ({ bucket: n, arn: `arn:aws:s3:::${n}` }),
        "aws:s3/bucketVersioning:BucketVersioning": () => ({}),
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": () => ({}),
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": () => ({}),
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": () => ({}),
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": () => ({}),
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": () => ({}),
        "aws:s3/bucketPolicy:BucketPolicy": () => ({}),
        "aws:cloudtrail/trail:Trail": (n, i) => ({ arn: arn("cloudtrail", `trail/${String(i.name ?? n)}`), homeRegion: region }),
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
        "aws:iam/role:Role": (n, i) => ({ arn: `arn:aws:iam::${account}:role/${i.name ?? n}`, name: i.name ?? n }),
        "aws:iam/rolePolicy:RolePolicy": () => ({}),
        "aws:lambda/function:Function": (n) => ({ arn: arn("lambda", `function:${n}`), name: n }),
        "aws:sfn/stateMachine:StateMachine": (n) => ({ arn: arn("states", `stateMachine:${n}`) }),
        "aws:sqs/queue:Queue": (n) => ({ arn: arn("sqs", n), url: `https://sqs.${region}.amazonaws.com/${account}/${n}`, name: n }),
        "aws:sqs/queuePolicy:QueuePolicy": () => ({}),
        "aws:cloudwatch/eventRule:EventRule": (n) => ({ arn: arn("events", `rule/${n}`), name: n }),
        "aws:cloudwatch/eventTarget:EventTarget": () => ({}),
        "aws:cloudwatch/metricAlarm:MetricAlarm": () => ({}),
        "aws:dynamodb/table:Table": (n) => ({ arn: arn("dynamodb", `table/${n}`), name: n }),
        "aws:ssm/document:Document": (n) => ({ arn: arn("ssm", `document/${n}`), name: n }),
        "aws:iam/instanceProfile:InstanceProfile": (n, i) => ({ arn: `arn:aws:iam::${account}:instance-profile/${i.name ?? n}`, name: i.name ?? n }),
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": () => ({}),
        "aws:iam/policy:Policy": (n) => ({ arn: `arn:aws:iam::${account}:policy/${n}` }),
        "aws:organizations/policy:Policy": (n) => ({ arn: `arn:aws:organizations::${account}:policy/o-test/service_control_policy/${n}` }),
        "aws:s3/bucketObjectv2:BucketObjectv2": () => ({}),
        // The forensic workstation's own VPC (ids as the mocks make them: `<name>-id`).
        "aws:ec2/vpc:Vpc": (n) => ({ arn: arn("ec2", `vpc/${n}-id`), ownerId: account, defaultSecurityGroupId: `sg-${n}-default`, mainRouteTableId: `${n}-main-rtb`, defaultNetworkAclId: `${n}-acl` }),
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (n) => ({ arn: arn("ec2", `security-group/sg-${n}`), ownerId: account }),
        "aws:ec2/subnet:Subnet": (n) => ({ arn: arn("ec2", `subnet/${n}-id`), ownerId: account }),
        "aws:ec2/routeTable:RouteTable": (n) => ({ arn: arn("ec2", `route-table/${n}-id`), ownerId: account }),
        "aws:ec2/routeTableAssociation:RouteTableAssociation": () => ({}),
        "aws:ec2/instance:Instance": (n, i) => ({ arn: arn("ec2", `instance/${n}-id`), privateIp: "10.254.0.10", primaryNetworkInterfaceId: `${n}-eni`, instanceState: "running", availabilityZone: i.availabilityZone ?? `${region}a` }),
    };
}

/** The VPC ids an invoke names: its `vpcId`, or the values of its `vpc-id` filters; undefined for none. */
function vpcIdsNamed(inputs: any): string[] | undefined {
    if (typeof inputs?.vpcId === "string") return [inputs.vpcId];
    const filters: any[] = Array.isArray(inputs?.filters) ? inputs.filters : [];
    const ids = filters.filter((f) => f?.name === "vpc-id").flatMap((f) => (Array.isArray(f.values) ? f.values : []));
    return ids.length > 0 ? ids : undefined;
}

/** Answers of the data sources the program calls, in an account (default ACCOUNT) and region. */
export function dataSourceCalls(region: string, account: string = ACCOUNT): CallTable {
    const vpcs = vpcsIn(account, region);
    /** The inventory VPCs an invoke names (all of them when it names none); throws for one not in the inventory. */
    const vpcsNamed = (inputs: any) => (vpcIdsNamed(inputs) ?? vpcs.map((v) => v.id)).map((id) => vpcOf(account, region, id));
    const subnets = vpcs.flatMap((v) => subnetsIn(account, region, v.id).map((s) => ({ ...s, vpcId: v.id })));
    const detectorId = detectorIdOf(account, region);
    return {
        "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: "AIDTEST", id: account }),
        "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
        // A real P-256 public key per key (derived from the key id named), as GetPublicKey gives an ECC_NIST_P256 key's.
        "aws:kms/getPublicKey:getPublicKey": (i) => {
            const der = publicKeySpki(scalarFrom(createHash("sha256").update(`mock-kms:${String(i.keyId)}`).digest()));
            const keyId = String(i.keyId).startsWith("arn:") ? String(i.keyId) : `arn:aws:kms:${region}:${account}:key/${String(i.keyId)}`;
            return {
                id: keyId, arn: keyId, keyId, publicKey: der.toString("base64"), publicKeyPem: publicKeyPem(der),
                customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", signingAlgorithms: ["ECDSA_SHA_256"], encryptionAlgorithms: [],
            };
        },
        "aws:index/getRegion:getRegion": () => ({ region, name: region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: `mock region ${region}` }),
        "aws:ec2/getVpc:getVpc": (i) => {
            const vpc = vpcOf(account, region, i.id);
            return { id: vpc.id, cidrBlock: vpc.cidrs[0], cidrBlockAssociations: vpc.cidrs.map((c, k) => ({ associationId: `vpc-cidr-assoc-${k}`, cidrBlock: c, state: "associated" })) };
        },
        // Filters and tags are tolerated, not applied: the answer is every VPC of the inventory.
        "aws:ec2/getVpcs:getVpcs": () => ({ id: region, ids: vpcs.map((v) => v.id) }),
        "aws:ec2/getSubnets:getSubnets": (i) => ({ id: region, ids: vpcsNamed(i).flatMap((v) => subnetsIn(account, region, v.id).map((s) => s.id)) }),
        "aws:ec2/getSubnet:getSubnet": (i) => {
            const s = subnets.find((x) => x.id === i.id);
            if (!s) throw new Error(`mock: no subnet ${i.id}`);
            return s;
        },
        "aws:ec2/getRouteTables:getRouteTables": (i) => ({ id: region, ids: vpcsNamed(i).flatMap((v) => routeTablesIn(account, region, v.id)) }),
        // Three zones, a to c, in every region (filters tolerated, not applied).
        "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
            id: region,
            names: ["a", "b", "c"].map((z) => `${region}${z}`),
            zoneIds: [1, 2, 3].map((k) => `${region.split("-").map((p) => p[0]).join("")}${region.slice(-1)}-az${k}`),
            groupNames: [region],
            state: "available",
        }),
        "aws:ec2/getPrefixList:getPrefixList": (i) => ({ id: S3_PREFIX_LIST, name: i.name, cidrBlocks: ["3.5.0.0/19"] }),
        "aws:guardduty/getDetector:getDetector": (i) => {
            if (i.id !== undefined && i.id !== detectorId) throw new Error(`mock: no GuardDuty detector ${i.id} in account ${account} region ${region}`);
            return {
                id: detectorId,
                arn: `arn:aws:guardduty:${region}:${account}:detector/${detectorId}`,
                region,
                status: "ENABLED",
                findingPublishingFrequency: "FIFTEEN_MINUTES",
                serviceRoleArn: `arn:aws:iam::${account}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`,
                features: [],
                tags: {},
            };
        },
    };
}

/** A resource as the mocks saw it: resolved inputs, its parent as `type::name`, and its explicit provider. */
export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** `type::name` of the parent resource, when one was given. */
    parent?: string;
    /** The name of the explicit `aws.Provider` it was registered with (e.g. `aws-222222222222-us-east-1`); absent for the default provider. */
    provider?: string;
}

/** An explicit `aws.Provider` the mocks registered, and the account and region it answers for. */
export interface MockProvider {
    name: string;
    urn: string;
    id: string;
    /** `allowedAccountIds[0]`, else ACCOUNT. */
    account: string;
    /** Its `region`, else the region given to `installMocks`. */
    region: string;
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
    /** Every explicit `aws.Provider` registered so far, by URN. */
    readonly providers: ReadonlyMap<string, MockProvider>;
    /** Wait until every registration the program started has reached the mocks. */
    settle(): Promise<void>;
}

export interface MockOptions {
    project: string;
    stack: string;
    /** Region of the default provider (and of an explicit provider without `region`): the region the data sources
     *  answer with and the ARNs the mocks compute in, for resources and invokes without an explicit provider. */
    region: string;
    /** Run as a preview (`pulumi preview`, where policies run). */
    preview: boolean;
}

// Not in the public typings: the SDK's monitor and its own way to drain outstanding resource RPCs.
interface Settings {
    getMonitor(): { registerResource(req: any, cb: (err: unknown, resp: any) => void): unknown };
    waitForRPCs(): Promise<void>;
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A provider input as plain JSON: secrets unwrapped, JSON-encoded lists and objects (the SDK's wire form) decoded. */
function plainInput(value: unknown): unknown {
    if (value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG) {
        return plainInput((value as Record<string, unknown>).value);
    }
    if (typeof value === "string" && /^\s*[[{]/.test(value)) {
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    }
    return value;
}

/** The account and region an `aws.Provider`'s inputs (wire form or plain) stand for. */
function providerTarget(inputs: Record<string, unknown>, defaultRegion: string): { account: string; region: string } {
    const ids = plainInput(inputs.allowedAccountIds);
    const first = plainInput(Array.isArray(ids) ? ids[0] : ids);
    const region = plainInput(inputs.region);
    return {
        account: typeof first === "string" && first !== "" ? first : ACCOUNT,
        region: typeof region === "string" && region !== "" ? region : defaultRegion,
    };
}

/** `type::name` of a URN (the type is the last of the qualified parent chain). */
export function typeAndName(urn: string): string {
    const parts = urn.split("::");
    return `${parts[2].split("$").pop()}::${parts.slice(3).join("::")}`;
}

/** The type of `pulumi.StackReference` (read, not created: the mocks answer it like a resource). */
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
const stackOutputs = new Map<string, Record<string, unknown>>();

/**
 * The outputs a `pulumi.StackReference(name)` reads under the mocks (another stack of the organization, deployed).
 * A reference to a stack not given here fails like one to a stack that does not exist.
 */
export function setStackReferenceOutputs(name: string, outputs: Record<string, unknown>): void {
    stackOutputs.set(name, outputs);
}

let installed = false;

/** Install the mocks for this process (once) and start capturing registrations. */
export function installMocks(options: MockOptions): MockProgram {
    if (installed) throw new Error("Pulumi mocks are already installed in this process");
    installed = true;
    const recorded: RecordedResource[] = [];
    const registrations: Registration[] = [];
    const parents = new Map<string, string>();
    const providers = new Map<string, MockProvider>();

    // One pair of tables per (account, region), built when first asked for.
    const tables = new Map<string, { computed: ComputedTable; calls: CallTable }>();
    const tablesOf = (account: string, region: string) => {
        const key = `${account}/${region}`;
        let t = tables.get(key);
        if (!t) tables.set(key, (t = { computed: computedOutputs(region, account), calls: dataSourceCalls(region, account) }));
        return t;
    };
    /** The explicit provider a reference `<urn>::<id>` names; undefined for none (the default provider). */
    const providerOf = (ref: string | undefined): MockProvider | undefined => {
        if (!ref) return undefined;
        const cut = ref.lastIndexOf("::");
        const found = providers.get(ref) ?? (cut > 0 ? providers.get(ref.slice(0, cut)) : undefined);
        if (!found) {
            throw new Error(`mock: unknown provider ${ref}: the mocks registered no ${AWS_PROVIDER_TYPE} with that URN (a bug in the program)`);
        }
        return found;
    };
    const tablesFor = (provider: MockProvider | undefined) => tablesOf(provider?.account ?? ACCOUNT, provider?.region ?? options.region);

    pulumi.runtime.setMocks({
        newResource(args: pulumi.runtime.MockResourceArgs) {
            if (args.type === STACK_REFERENCE_TYPE) {
                const outputs = stackOutputs.get(args.name);
                if (!outputs) throw new Error(`mock: no stack ${args.name} (setStackReferenceOutputs names the stacks that exist)`);
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs, parent: parents.get(`${args.type}::${args.name}`) });
                return { id: args.name, state: { name: args.name, outputs, secretOutputNames: [] } };
            }
            const provider = providerOf(args.provider);
            const compute = tablesFor(provider).computed[args.type];
            if (args.custom !== false && !compute && !args.type.startsWith("dfir:") && args.type !== AWS_PROVIDER_TYPE) {
                throw new Error(`Mock not implemented: ${args.type}`);
            }
            const record: RecordedResource = { type: args.type, name: args.name, inputs: args.inputs, parent: parents.get(`${args.type}::${args.name}`) };
            if (provider) record.provider = provider.name;
            recorded.push(record);
            const state = { ...args.inputs, ...(compute ? compute(args.name, args.inputs) : {}) };
            const id = state.id ?? (args.type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-${args.name}` : `${args.name}-id`);
            return { id, state };
        },
        call(args: pulumi.runtime.MockCallArgs) {
            try {
                const answer = tablesFor(providerOf(args.provider)).calls[args.token];
                if (!answer) throw new Error(`Mock not implemented: ${args.token}`);
                return answer(args.inputs);
            } catch (error) {
                // The SDK rejects a failed invoke with the gRPC error's `details`, not its message: carry the message
                // there, or the program sees an empty error (e.g. for a VPC id in the wrong region).
                const e = error instanceof Error ? error : new Error(String(error));
                (e as Error & { details?: string }).details ??= e.message;
                throw e;
            }
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
                // Remembered before the SDK learns the provider's URN, so before anything can reference it.
                if (registration.type === AWS_PROVIDER_TYPE && registration.custom) {
                    const urn = registration.urn as string;
                    providers.set(urn, { name: registration.name, urn, id: registration.id ?? "", ...providerTarget(registration.object, options.region) });
                }
            }
            cb(err, resp);
        });
    };

    return { recorded, registrations, providers, settle: () => settings.waitForRPCs() };
}
