/**
 * EC2 as the response uses it: instances, their interfaces, security groups, volumes, crash-consistent snapshot
 * sets, snapshot copies (same region, across accounts only when shared) and sharing, console output and screenshot,
 * instance profile associations. Outputs are typed with the SDK's own
 * output types so a shape mistake is a compile error.
 */
import type {
    DeleteSnapshotCommandInput,
    DescribeLockedSnapshotsCommandInput,
    DescribeLockedSnapshotsCommandOutput,
    LockedSnapshotsInfo,
    LockSnapshotCommandInput,
    LockSnapshotCommandOutput,
    AttachVolumeCommandInput,
    AttachVolumeCommandOutput,
    CreateVolumeCommandInput,
    CreateVolumeCommandOutput,
    DescribeVolumesCommandInput,
    DescribeVolumesCommandOutput,
    Volume,
    AssociateIamInstanceProfileCommandInput,
    DisassociateIamInstanceProfileCommandInput,
    DisassociateIamInstanceProfileCommandOutput,
    AssociateIamInstanceProfileCommandOutput,
    CopySnapshotCommandInput,
    CopySnapshotCommandOutput,
    CreateSnapshotsCommandInput,
    CreateSnapshotsCommandOutput,
    CreateTagsCommandInput,
    DeleteTagsCommandInput,
    DescribeIamInstanceProfileAssociationsCommandInput,
    DescribeIamInstanceProfileAssociationsCommandOutput,
    DescribeInstanceAttributeCommandInput,
    DescribeInstanceAttributeCommandOutput,
    DescribeInstancesCommandInput,
    DescribeInstancesCommandOutput,
    DescribeNetworkInterfacesCommandInput,
    DescribeNetworkInterfacesCommandOutput,
    DescribeSecurityGroupsCommandInput,
    DescribeSecurityGroupsCommandOutput,
    DescribeSnapshotsCommandInput,
    DescribeSnapshotsCommandOutput,
    Filter,
    GetConsoleOutputCommandInput,
    GetConsoleOutputCommandOutput,
    GetConsoleScreenshotCommandInput,
    GetConsoleScreenshotCommandOutput,
    IamInstanceProfileAssociation,
    IamInstanceProfileSpecification,
    Instance,
    InstanceNetworkInterface,
    ModifyInstanceAttributeCommandInput,
    ModifyNetworkInterfaceAttributeCommandInput,
    ModifySnapshotAttributeCommandInput,
    NetworkInterface,
    ReplaceIamInstanceProfileAssociationCommandInput,
    ReplaceIamInstanceProfileAssociationCommandOutput,
    SecurityGroup,
    Snapshot,
} from "@aws-sdk/client-ec2";
import { notImplemented } from "../errors";
import { KEY_NOT_ACCESSIBLE } from "../../../core/snapshotKeys";
import { firstDenied } from "../iam/index";
import { ebsKeyUse, kmsKey } from "../iam/requests";
import type {
    InstanceProfileState,
    InstanceState,
    KmsKeyState,
    NetworkInterfaceState,
    ProfileAssociationState,
    RegionState,
    SnapshotState,
    VolumeState,
} from "../state";
import { EC2_ID, required, tagList, type CallContext, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

const STATE_CODES: Record<string, number> = {
    pending: 0,
    running: 16,
    "shutting-down": 32,
    terminated: 48,
    stopping: 64,
    stopped: 80,
};

/** Security groups per interface (the default quota): EC2 rejects a sixth. */
const MAX_GROUPS_PER_INTERFACE = 5;
/**
 * Tag restrictions of EC2 resources (EC2 User Guide, "Tag your Amazon EC2 resources", Tag restrictions): at most
 * 50 user tags per resource, keys of 1-128 and values of at most 256 characters, each key once per resource; the
 * `aws:` prefix (any case) is reserved: nobody may set such keys, and tags that AWS set with it do not count
 * against the 50.
 */
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

const isReservedTagKey = (key: string) => key.toLowerCase().startsWith("aws:");

/** The user tags of a tag map: what counts against {@link MAX_TAGS}. */
function userTagCount(tags: Record<string, string>): number {
    return Object.keys(tags).filter((k) => !isReservedTagKey(k)).length;
}

/**
 * Tags a request sets, as EC2 checks them before any effect: no empty, reserved or too long key, no too long value,
 * no key twice in one request ("Duplicate tag key ... specified", InvalidParameterValue), at most 50.
 */
function requestTagMap(world: World, ctx: CallContext, tags: readonly { Key?: string; Value?: string }[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const tag of tags) {
        const key = tag.Key ?? "";
        const value = tag.Value ?? "";
        if (key === "") throw world.error(ctx, "InvalidParameterValue", "Tag keys must not be empty");
        if (isReservedTagKey(key)) throw world.error(ctx, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
        if (key.length > MAX_TAG_KEY) throw world.error(ctx, "InvalidParameterValue", `Tag key exceeds the maximum length of ${MAX_TAG_KEY} characters`);
        if (value.length > MAX_TAG_VALUE) throw world.error(ctx, "InvalidParameterValue", `Tag value exceeds the maximum length of ${MAX_TAG_VALUE} characters`);
        if (key in out) throw world.error(ctx, "InvalidParameterValue", `Duplicate tag key '${key}' specified.`);
        out[key] = value;
    }
    if (Object.keys(out).length > MAX_TAGS) throw world.error(ctx, "TagLimitExceeded", `The maximum number of tags (${MAX_TAGS}) per resource would be exceeded`);
    return out;
}

function regionOf(world: World, ctx: CallContext): RegionState {
    return world.region(ctx.accountId, ctx.region);
}

function idKind(id: string): string | undefined {
    const match = EC2_ID.exec(id);
    return match ? match[1] : undefined;
}

/** Glob match of EC2 filter values (`*` and `?`). */
function globMatch(pattern: string, value: string): boolean {
    const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${escaped}$`).test(value);
}

type FilterFns<T> = Record<string, (item: T) => string | string[] | undefined>;

/**
 * EC2 filter semantics: AND across filters, OR across one filter's values, `tag:<key>` and `tag-key` when the
 * item has tags. A filter name the simulator does not know is a gap, not a silent pass.
 */
export function applyFilters<T>(ctx: CallContext, items: T[], filters: Filter[] | undefined, fns: FilterFns<T>, tags?: (item: T) => Record<string, string>): T[] {
    let out = items;
    for (const filter of filters ?? []) {
        const name = filter.Name ?? "";
        const values = filter.Values ?? [];
        let get: ((item: T) => string | string[] | undefined) | undefined = fns[name];
        if (!get && tags && name.startsWith("tag:")) {
            const key = name.slice(4);
            get = (item) => tags(item)[key];
        }
        if (!get && tags && name === "tag-key") get = (item) => Object.keys(tags(item));
        if (!get) throw notImplemented(ctx.action, `filter "${name}"`);
        const getter = get;
        out = out.filter((item) => {
            const raw = getter(item);
            const have = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
            return values.some((v) => have.some((h) => globMatch(v, h)));
        });
    }
    return out;
}

function instanceOrThrow(world: World, ctx: CallContext, instanceId: string | undefined): InstanceState {
    const id = required(world, ctx, instanceId, "InstanceId");
    if (idKind(id) !== "i") throw world.error(ctx, "InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
    const instance = regionOf(world, ctx).instances[id];
    if (!instance) throw world.error(ctx, "InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`);
    return instance;
}

function isGone(instance: InstanceState): boolean {
    return instance.state === "terminated" || instance.state === "shutting-down";
}

function requireLive(world: World, ctx: CallContext, instance: InstanceState): void {
    if (isGone(instance)) {
        throw world.error(
            ctx,
            "IncorrectInstanceState",
            `The instance '${instance.instanceId}' is not in a state from which the request can be performed (${instance.state}).`,
        );
    }
}

function currentAssociation(r: RegionState, instance: InstanceState): ProfileAssociationState | undefined {
    return instance.associationId ? r.profileAssociations[instance.associationId] : undefined;
}

function groupRefs(r: RegionState, groupIds: string[]): { GroupId: string; GroupName: string }[] {
    return groupIds.map((id) => ({ GroupId: id, GroupName: r.securityGroups[id]?.groupName ?? id }));
}

/** The interface's private IPv4 addresses as EC2 lists them: the primary first, then the secondary ones. */
function privateIpAddresses(eni: NetworkInterfaceState): { Primary: boolean; PrivateIpAddress: string; Association?: { PublicIp: string } }[] {
    return [
        { Primary: true, PrivateIpAddress: eni.privateIpAddress, ...(eni.publicIp ? { Association: { PublicIp: eni.publicIp } } : {}) },
        ...(eni.secondaryPrivateIps ?? []).map((PrivateIpAddress) => ({ Primary: false, PrivateIpAddress })),
    ];
}

function instanceInterface(r: RegionState, accountId: string, eni: NetworkInterfaceState): InstanceNetworkInterface {
    return {
        NetworkInterfaceId: eni.networkInterfaceId,
        VpcId: eni.vpcId,
        SubnetId: eni.subnetId,
        OwnerId: accountId,
        Status: "in-use",
        Description: eni.description,
        InterfaceType: eni.interfaceType ?? "interface",
        SourceDestCheck: true,
        PrivateIpAddress: eni.privateIpAddress,
        PrivateIpAddresses: privateIpAddresses(eni),
        ...(eni.publicIp ? { Association: { PublicIp: eni.publicIp, IpOwnerId: "amazon" } } : {}),
        Ipv6Addresses: eni.ipv6Addresses.map((Ipv6Address) => ({ Ipv6Address })),
        Groups: groupRefs(r, eni.groupIds),
        Attachment: eni.attachment
            ? {
                  AttachmentId: eni.attachment.attachmentId,
                  DeviceIndex: eni.attachment.deviceIndex,
                  NetworkCardIndex: 0,
                  Status: "attached",
                  DeleteOnTermination: eni.attachment.deleteOnTermination,
                  AttachTime: new Date(eni.attachment.attachedAt),
              }
            : undefined,
    };
}

/** One instance as DescribeInstances returns it. A terminated instance has no interfaces, volumes or VPC left. */
export function describeInstance(world: World, accountId: string, region: string, instance: InstanceState): Instance {
    const r = world.region(accountId, region);
    const gone = instance.state === "terminated";
    const enis = gone ? [] : instance.networkInterfaceIds.map((id) => r.networkInterfaces[id]).filter((e): e is NetworkInterfaceState => !!e);
    const primary = enis.find((e) => e.attachment?.deviceIndex === 0);
    const association = currentAssociation(r, instance);
    const out: Instance = {
        InstanceId: instance.instanceId,
        InstanceType: instance.instanceType as Instance["InstanceType"],
        ImageId: instance.imageId,
        State: { Code: STATE_CODES[instance.state] ?? 16, Name: instance.state as NonNullable<Instance["State"]>["Name"] },
        StateTransitionReason: instance.stateTransitionReason ?? "",
        PlatformDetails: instance.platform === "windows" ? "Windows" : "Linux/UNIX",
        Architecture: instance.architecture ?? "x86_64",
        Hypervisor: "xen",
        VirtualizationType: "hvm",
        LaunchTime: new Date(instance.launchTime),
        Placement: { AvailabilityZone: instance.availabilityZone, Tenancy: "default" },
        NetworkInterfaces: enis.map((e) => instanceInterface(r, accountId, e)),
        SecurityGroups: primary ? groupRefs(r, primary.groupIds) : [],
        BlockDeviceMappings: gone
            ? []
            : instance.blockDevices.map((b) => ({
                  DeviceName: b.deviceName,
                  Ebs: {
                      VolumeId: b.volumeId,
                      DeleteOnTermination: b.deleteOnTermination,
                      Status: "attached",
                      AttachTime: new Date(r.volumes[b.volumeId]?.attachment?.attachedAt ?? instance.launchTime),
                  },
              })),
        RootDeviceName: instance.rootDeviceName,
        RootDeviceType: "ebs",
        EbsOptimized: false,
        MetadataOptions: { State: "applied", HttpTokens: "required", HttpEndpoint: "enabled", HttpPutResponseHopLimit: 2 },
    };
    // EC2 answers lower-case "windows" (the SDK's enum says "Windows"; the wire value is what code sees).
    if (instance.platform === "windows") out.Platform = "windows" as Instance["Platform"];
    if (!gone) {
        out.VpcId = instance.vpcId;
        out.SubnetId = instance.subnetId;
        out.PrivateIpAddress = instance.privateIpAddress;
    }
    if (association && !gone) out.IamInstanceProfile = { Arn: association.profileArn, Id: association.profileId };
    if (instance.instanceLifecycle) out.InstanceLifecycle = instance.instanceLifecycle;
    if (Object.keys(instance.tags).length > 0) out.Tags = tagList(instance.tags);
    return out;
}

function reservationId(instanceId: string): string {
    // Stable per instance without storing it: the hex of the instance id, padded.
    const hex = instanceId.slice(2).padEnd(17, "0").slice(0, 17);
    return `r-${hex}`;
}

const describeInstances: Handler<DescribeInstancesCommandInput, Out<DescribeInstancesCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.InstanceIds ?? [];
    for (const id of ids) if (idKind(id) !== "i") throw world.error(ctx, "InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
    const missing = ids.filter((id) => !r.instances[id]);
    if (missing.length === 1) throw world.error(ctx, "InvalidInstanceID.NotFound", `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) throw world.error(ctx, "InvalidInstanceID.NotFound", `The instance IDs '${missing.join(", ")}' do not exist`);
    let instances = ids.length > 0 ? ids.map((id) => r.instances[id] as InstanceState) : Object.values(r.instances);
    instances = applyFilters(
        ctx,
        instances,
        input.Filters,
        {
            "instance-id": (i) => i.instanceId,
            "instance-state-name": (i) => i.state,
            "vpc-id": (i) => i.vpcId,
            "subnet-id": (i) => i.subnetId,
            "availability-zone": (i) => i.availabilityZone,
            "network-interface.network-interface-id": (i) => i.networkInterfaceIds,
        },
        (i) => i.tags,
    );
    return {
        Reservations: instances.map((i) => ({
            ReservationId: reservationId(i.instanceId),
            OwnerId: ctx.accountId,
            Groups: [],
            Instances: [describeInstance(world, ctx.accountId, ctx.region, i)],
        })),
    };
};

const describeInstanceAttribute: Handler<DescribeInstanceAttributeCommandInput, Out<DescribeInstanceAttributeCommandOutput>> = (world, ctx, input) => {
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    const attribute = required(world, ctx, input.Attribute, "Attribute");
    const base = { InstanceId: instance.instanceId };
    switch (attribute) {
        case "disableApiTermination":
            return { ...base, DisableApiTermination: { Value: instance.disableApiTermination } };
        case "disableApiStop":
            return { ...base, DisableApiStop: { Value: instance.disableApiStop } };
        case "instanceInitiatedShutdownBehavior":
            return { ...base, InstanceInitiatedShutdownBehavior: { Value: instance.shutdownBehavior } };
        default:
            throw notImplemented(ctx.action, `attribute "${attribute}"`);
    }
};

function booleanAttribute(world: World, ctx: CallContext, value: { Value?: boolean } | undefined, name: string): boolean {
    if (typeof value?.Value !== "boolean") throw world.error(ctx, "InvalidParameterValue", `Value for parameter ${name} must be a boolean`);
    return value.Value;
}

const modifyInstanceAttribute: Handler<ModifyInstanceAttributeCommandInput, Record<string, never>> = (world, ctx, input) => {
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    requireLive(world, ctx, instance);
    const r = regionOf(world, ctx);
    // `Attribute` goes with its `Value` (the form for primitive attributes); every other member stands alone.
    const given = Object.keys(input).filter((k) => k !== "InstanceId" && k !== "DryRun" && !(k === "Value" && input.Attribute !== undefined) && (input as unknown as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) {
        throw world.error(ctx, "InvalidParameterCombination", `Exactly one attribute must be modified per request; got ${given.join(", ") || "none"}`);
    }
    const which = given[0];
    // "You can't enable termination protection for Spot Instances" / "... stop protection ..." (EC2 User Guide);
    // EC2 answers UnsupportedOperation: "Modifying 'disableApiTermination' is not supported for spot instances."
    const protection = which === "Attribute" ? input.Attribute : which === "DisableApiTermination" ? "disableApiTermination" : which === "DisableApiStop" ? "disableApiStop" : undefined;
    if (instance.instanceLifecycle === "spot" && (protection === "disableApiTermination" || protection === "disableApiStop")) {
        throw world.error(ctx, "UnsupportedOperation", `Modifying '${protection}' is not supported for spot instances.`);
    }
    switch (which) {
        case "DisableApiTermination":
            instance.disableApiTermination = booleanAttribute(world, ctx, input.DisableApiTermination, "DisableApiTermination");
            return {};
        case "DisableApiStop":
            instance.disableApiStop = booleanAttribute(world, ctx, input.DisableApiStop, "DisableApiStop");
            return {};
        case "InstanceInitiatedShutdownBehavior": {
            const value = input.InstanceInitiatedShutdownBehavior?.Value;
            if (value !== "stop" && value !== "terminate") {
                throw world.error(ctx, "InvalidParameterValue", `Value (${String(value)}) for parameter instanceInitiatedShutdownBehavior is invalid.`);
            }
            instance.shutdownBehavior = value;
            return {};
        }
        case "BlockDeviceMappings": {
            for (const mapping of input.BlockDeviceMappings ?? []) {
                const device = instance.blockDevices.find((b) => b.deviceName === mapping.DeviceName);
                if (!device) {
                    throw world.error(ctx, "InvalidInstanceAttributeValue", `No device is currently mapped at ${String(mapping.DeviceName)}`);
                }
                if (typeof mapping.Ebs?.DeleteOnTermination === "boolean") device.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
            }
            return {};
        }
        case "Groups": {
            // As on EC2: only the primary interface changes (the trap the response avoids).
            const primary = instance.networkInterfaceIds.map((id) => r.networkInterfaces[id]).find((e) => e?.attachment?.deviceIndex === 0);
            if (primary) primary.groupIds = validateGroups(world, ctx, r, primary.vpcId, input.Groups ?? []);
            return {};
        }
        case "Attribute": {
            const value = input.Value;
            const flag = () => {
                if (value !== "true" && value !== "false") throw world.error(ctx, "InvalidParameterValue", `Value (${String(value)}) for parameter ${String(input.Attribute)} is invalid.`);
                return value === "true";
            };
            switch (input.Attribute) {
                case "disableApiTermination":
                    instance.disableApiTermination = flag();
                    return {};
                case "disableApiStop":
                    instance.disableApiStop = flag();
                    return {};
                case "instanceInitiatedShutdownBehavior":
                    if (value !== "stop" && value !== "terminate") throw world.error(ctx, "InvalidParameterValue", `Value (${String(value)}) is invalid.`);
                    instance.shutdownBehavior = value;
                    return {};
                default:
                    throw notImplemented(ctx.action, `Attribute "${String(input.Attribute)}"`);
            }
        }
        default:
            throw notImplemented(ctx.action, `with ${which}`);
    }
};

function describeInterface(ctx: CallContext, r: RegionState, eni: NetworkInterfaceState): NetworkInterface {
    return {
        NetworkInterfaceId: eni.networkInterfaceId,
        VpcId: eni.vpcId,
        SubnetId: eni.subnetId,
        AvailabilityZone: eni.availabilityZone,
        OwnerId: ctx.accountId,
        Status: eni.attachment || eni.requesterManaged ? "in-use" : "available",
        Description: eni.description,
        InterfaceType: (eni.interfaceType ?? "interface") as NetworkInterface["InterfaceType"],
        RequesterManaged: eni.requesterManaged ?? false,
        SourceDestCheck: true,
        PrivateIpAddress: eni.privateIpAddress,
        PrivateIpAddresses: privateIpAddresses(eni),
        ...(eni.publicIp ? { Association: { PublicIp: eni.publicIp, IpOwnerId: "amazon" } } : {}),
        Ipv6Addresses: eni.ipv6Addresses.map((Ipv6Address) => ({ Ipv6Address })),
        Groups: groupRefs(r, eni.groupIds),
        TagSet: tagList(eni.tags),
        Attachment: eni.attachment
            ? {
                  AttachmentId: eni.attachment.attachmentId,
                  InstanceId: eni.attachment.instanceId,
                  InstanceOwnerId: ctx.accountId,
                  DeviceIndex: eni.attachment.deviceIndex,
                  NetworkCardIndex: 0,
                  Status: "attached",
                  DeleteOnTermination: eni.attachment.deleteOnTermination,
                  AttachTime: new Date(eni.attachment.attachedAt),
              }
            : undefined,
    };
}

const describeNetworkInterfaces: Handler<DescribeNetworkInterfacesCommandInput, Out<DescribeNetworkInterfacesCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.NetworkInterfaceIds ?? [];
    for (const id of ids) {
        if (idKind(id) !== "eni") throw world.error(ctx, "InvalidNetworkInterfaceID.Malformed", `Invalid id: "${id}" (expecting "eni-...")`);
        if (!r.networkInterfaces[id]) throw world.error(ctx, "InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${id}' does not exist`);
    }
    let enis = ids.length > 0 ? ids.map((id) => r.networkInterfaces[id] as NetworkInterfaceState) : Object.values(r.networkInterfaces);
    enis = applyFilters(
        ctx,
        enis,
        input.Filters,
        {
            "attachment.instance-id": (e) => e.attachment?.instanceId,
            "attachment.device-index": (e) => (e.attachment ? String(e.attachment.deviceIndex) : undefined),
            "network-interface-id": (e) => e.networkInterfaceId,
            "vpc-id": (e) => e.vpcId,
            "subnet-id": (e) => e.subnetId,
            "group-id": (e) => e.groupIds,
            status: (e) => (e.attachment || e.requesterManaged ? "in-use" : "available"),
            "interface-type": (e) => e.interfaceType ?? "interface",
            "requester-managed": (e) => String(e.requesterManaged ?? false),
            "addresses.private-ip-address": (e) => [e.privateIpAddress, ...(e.secondaryPrivateIps ?? [])],
        },
        (e) => e.tags,
    );
    return { NetworkInterfaces: enis.map((e) => describeInterface(ctx, r, e)) };
};

/** Group ids must exist in this account and region and belong to the interface's VPC. */
function validateGroups(world: World, ctx: CallContext, r: RegionState, vpcId: string, groupIds: string[]): string[] {
    if (groupIds.length === 0) throw world.error(ctx, "MissingParameter", "The request must contain the parameter groupId");
    const unique = [...new Set(groupIds)];
    for (const id of unique) {
        if (idKind(id) !== "sg") throw world.error(ctx, "InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
        const group = r.securityGroups[id];
        if (!group || group.vpcId !== vpcId) {
            throw world.error(ctx, "InvalidGroup.NotFound", `The security group '${id}' does not exist in VPC '${vpcId}'`);
        }
    }
    if (unique.length > MAX_GROUPS_PER_INTERFACE) {
        throw world.error(ctx, "SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.");
    }
    return unique;
}

const modifyNetworkInterfaceAttribute: Handler<ModifyNetworkInterfaceAttributeCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const id = required(world, ctx, input.NetworkInterfaceId, "NetworkInterfaceId");
    if (idKind(id) !== "eni") throw world.error(ctx, "InvalidNetworkInterfaceID.Malformed", `Invalid id: "${id}" (expecting "eni-...")`);
    const eni = r.networkInterfaces[id];
    if (!eni) throw world.error(ctx, "InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${id}' does not exist`);
    const other = Object.keys(input).filter(
        (k) => !["NetworkInterfaceId", "DryRun", "Groups"].includes(k) && (input as unknown as Record<string, unknown>)[k] !== undefined,
    );
    if (other.length > 0) throw notImplemented(ctx.action, `with ${other.join(", ")}`);
    if (input.Groups === undefined) throw world.error(ctx, "MissingParameter", "The request must contain an attribute to modify");
    eni.groupIds = validateGroups(world, ctx, r, eni.vpcId, input.Groups);
    return {};
};

/** Finds a taggable resource's tag map, or throws the NotFound EC2 reports for its kind. */
function taggable(world: World, ctx: CallContext, r: RegionState, id: string): Record<string, string> {
    const kind = idKind(id);
    const lookups: Record<string, [Record<string, { tags: Record<string, string> }>, string, string]> = {
        i: [r.instances, "InvalidInstanceID.NotFound", `The instance ID '${id}' does not exist`],
        eni: [r.networkInterfaces, "InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${id}' does not exist`],
        sg: [r.securityGroups, "InvalidGroup.NotFound", `The security group '${id}' does not exist`],
        vol: [r.volumes, "InvalidVolume.NotFound", `The volume '${id}' does not exist.`],
        snap: [r.snapshots, "InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`],
    };
    const lookup = kind ? lookups[kind] : undefined;
    if (!lookup) {
        if (kind === undefined) throw world.error(ctx, "InvalidID", `The ID '${id}' is not valid`);
        throw notImplemented(ctx.action, `on ${kind}- resources`);
    }
    const [table, code, message] = lookup;
    const resource = table[id];
    if (!resource) throw world.error(ctx, code, message);
    return resource.tags;
}

const createTags: Handler<CreateTagsCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const resources = required(world, ctx, input.Resources, "ResourceId");
    const tags = requestTagMap(world, ctx, required(world, ctx, input.Tags, "Tag"));
    // Validate every resource first: EC2 applies all or nothing.
    const maps = resources.map((id) => taggable(world, ctx, r, id));
    for (const map of maps) {
        if (userTagCount({ ...map, ...tags }) > MAX_TAGS) throw world.error(ctx, "TagLimitExceeded", `The maximum number of tags (${MAX_TAGS}) per resource would be exceeded`);
    }
    for (const map of maps) Object.assign(map, tags);
    return {};
};

const deleteTags: Handler<DeleteTagsCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const resources = required(world, ctx, input.Resources, "ResourceId");
    const maps = resources.map((id) => taggable(world, ctx, r, id));
    for (const map of maps) {
        if (input.Tags === undefined) {
            // No Tags member: EC2 deletes every (non aws:) tag of the resource.
            for (const key of Object.keys(map)) if (!key.startsWith("aws:")) delete map[key];
            continue;
        }
        for (const tag of input.Tags) {
            const key = tag.Key ?? "";
            if (!(key in map)) continue;
            if (key.startsWith("aws:")) throw world.error(ctx, "InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use");
            if (tag.Value === undefined || tag.Value === map[key]) delete map[key];
        }
    }
    return {};
};

/** The AWS managed EBS key of an account and region (what an encrypted volume uses unless told otherwise). */
function defaultEbsKey(accountId: string, region: string): string {
    return `arn:aws:kms:${region}:${accountId}:alias/aws/ebs`;
}

function isDefaultEbsKey(arn: string | undefined): boolean {
    return arn === undefined || arn.endsWith(":alias/aws/ebs");
}

/** The snapshot's key, as EC2 reports it (old states: the owner's default key). */
function keyOf(s: SnapshotState, region: string): string | undefined {
    return s.encrypted ? s.kmsKeyId ?? defaultEbsKey(s.ownerId, region) : undefined;
}

/**
 * A KMS key as CopySnapshot's KmsKeyId names it: key id, key ARN, `alias/<name>` or alias ARN. Aliases and bare
 * ids are the caller's account and region; an ARN names its own. `alias/aws/ebs` is the AWS managed key.
 */
function resolveKey(world: World, ctx: CallContext, identifier: string): string | undefined {
    const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(identifier);
    const [region, accountId, kind, name] = arn ? [arn[1], arn[2], arn[3], arn[4]] : [ctx.region, ctx.accountId, identifier.startsWith("alias/") ? "alias" : "key", identifier.replace(/^alias\//, "")];
    if (kind === "alias" && name === "aws/ebs") return defaultEbsKey(accountId, region);
    const keys: Record<string, KmsKeyState> = world.state.accounts[accountId]?.regions[region]?.kmsKeys ?? {};
    const key = kind === "key" ? keys[name] : Object.values(keys).find((k) => k.aliases.includes(`alias/${name}`));
    return key?.arn;
}

function snapshotView(world: World, s: SnapshotState): Snapshot {
    const now = world.now();
    const done = now >= s.doneAt;
    const state = done ? s.outcome : "pending";
    const span = Math.max(1, s.doneAt - s.startTime);
    const progress = state === "completed" ? "100%" : state === "error" ? "0%" : `${Math.min(99, Math.floor(((now - s.startTime) / span) * 100))}%`;
    const out: Snapshot = {
        SnapshotId: s.snapshotId,
        VolumeId: s.volumeId,
        State: state,
        Progress: progress,
        StartTime: new Date(s.startTime),
        OwnerId: s.ownerId,
        Description: s.description,
        VolumeSize: s.volumeSizeGiB,
        Encrypted: s.encrypted,
        StorageTier: "standard",
        Tags: tagList(s.tags),
    };
    if (state === "error") out.StateMessage = s.stateMessage ?? "The snapshot could not be completed (simulated snapshot-error scenario)";
    const key = s.encrypted ? s.kmsKeyId : undefined;
    if (key) out.KmsKeyId = key;
    if (state === "completed") out.CompletionTime = new Date(s.doneAt);
    return out;
}

const createSnapshots: Handler<CreateSnapshotsCommandInput, Out<CreateSnapshotsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const spec = required(world, ctx, input.InstanceSpecification, "InstanceSpecification");
    const instance = instanceOrThrow(world, ctx, spec.InstanceId);
    requireLive(world, ctx, instance);
    if (input.CopyTagsFromSource !== undefined && input.CopyTagsFromSource !== "volume") {
        throw world.error(ctx, "InvalidParameterValue", `Value (${String(input.CopyTagsFromSource)}) for parameter CopyTagsFromSource is invalid.`);
    }
    if (input.OutpostArn !== undefined || input.Location !== undefined) throw notImplemented(ctx.action, "with OutpostArn/Location");
    const extraTags = specTags(world, ctx, input.TagSpecifications, "snapshot");
    const excluded = new Set(spec.ExcludeDataVolumeIds ?? []);
    for (const id of excluded) {
        if (!instance.blockDevices.some((b) => b.volumeId === id)) {
            throw world.error(ctx, "InvalidParameterValue", `The volume '${id}' is not attached to instance '${instance.instanceId}'`);
        }
    }
    const volumes = instance.blockDevices
        .filter((device) => {
            const root = device.deviceName === instance.rootDeviceName;
            return root ? !spec.ExcludeBootVolume : !excluded.has(device.volumeId);
        })
        .flatMap((device) => (r.volumes[device.volumeId] ? [r.volumes[device.volumeId] as VolumeState] : []));
    // CopyTagsFromSource=volume gives each snapshot its volume's tags and the request's: a request key the volume
    // already has fails the whole call ("Tag ... is already defined"), and so does a snapshot that would carry more
    // than 50 user tags (EC2 API Reference, CreateSnapshots; tag restrictions above). Either way no snapshot is taken.
    // The volume's aws: tags never count; whether EC2 copies them is not documented: not copied here. The code of
    // the clash is the one EC2 gives a duplicate key (InvalidParameterValue); its exact message is not documented.
    if (input.CopyTagsFromSource === "volume") {
        for (const volume of volumes) {
            const copied = Object.fromEntries(Object.entries(volume.tags).filter(([k]) => !isReservedTagKey(k)));
            const clash = Object.keys(extraTags).find((k) => k in copied);
            if (clash !== undefined) throw world.error(ctx, "InvalidParameterValue", `Tag '${clash}' is already defined: volume ${volume.volumeId} has it and CopyTagsFromSource copies it`);
            if (userTagCount({ ...copied, ...extraTags }) > MAX_TAGS) {
                throw world.error(ctx, "TagLimitExceeded", `The maximum number of tags (${MAX_TAGS}) per resource would be exceeded: the snapshot of ${volume.volumeId} would carry ${userTagCount(copied)} copied and ${userTagCount(extraTags)} requested tags`);
            }
        }
    }
    const now = world.now();
    const behaviour = world.state.behaviour;
    const made: SnapshotState[] = [];
    for (const volume of volumes) {
        const snapshot: SnapshotState = {
            snapshotId: world.id("snap"),
            volumeId: volume.volumeId,
            volumeSizeGiB: volume.sizeGiB,
            ownerId: ctx.accountId,
            description: input.Description ?? "",
            encrypted: volume.encrypted,
            // A snapshot is encrypted under its volume's key.
            ...(volume.encrypted ? { kmsKeyId: volume.kmsKeyId ?? defaultEbsKey(ctx.accountId, ctx.region) } : {}),
            tags: { ...(input.CopyTagsFromSource === "volume" ? Object.fromEntries(Object.entries(volume.tags).filter(([k]) => !isReservedTagKey(k))) : {}), ...extraTags },
            startTime: now,
            doneAt: now + behaviour.snapshotDurationMs,
            outcome: behaviour.snapshotError ? "error" : "completed",
        };
        r.snapshots[snapshot.snapshotId] = snapshot;
        made.push(snapshot);
    }
    return {
        Snapshots: made.map((s) => ({
            SnapshotId: s.snapshotId,
            VolumeId: s.volumeId,
            State: "pending",
            Progress: "0%",
            StartTime: new Date(s.startTime),
            VolumeSize: s.volumeSizeGiB,
            OwnerId: s.ownerId,
            Description: s.description,
            Encrypted: s.encrypted,
            AvailabilityZone: instance.availabilityZone,
            Tags: tagList(s.tags),
        })),
    };
};

/** Tags of a TagSpecifications list for `resourceType` (the only type the call may tag). */
function specTags(world: World, ctx: CallContext, specs: CopySnapshotCommandInput["TagSpecifications"], resourceType: string): Record<string, string> {
    const tags: Record<string, string> = {};
    for (const spec of specs ?? []) {
        if (spec.ResourceType !== resourceType) {
            throw world.error(ctx, "InvalidParameterValue", `'${String(spec.ResourceType)}' is not a valid taggable resource type for this operation.`);
        }
        for (const tag of spec.Tags ?? []) {
            if ((tag.Key ?? "") in tags) throw world.error(ctx, "InvalidParameterValue", `Duplicate tag key '${tag.Key ?? ""}' specified.`);
            tags[tag.Key ?? ""] = tag.Value ?? "";
        }
    }
    return requestTagMap(world, ctx, tagList(tags));
}

/**
 * A snapshot the caller can see in its region: its own, or another account's that is shared with it (or with
 * `all`). Anything else does not exist for the caller, as EC2 reports it.
 */
function visibleSnapshot(world: World, ctx: CallContext, id: string): SnapshotState | undefined {
    for (const { accountId, region, state } of world.allRegions()) {
        if (region !== ctx.region) continue;
        const s = state.snapshots[id];
        if (!s) continue;
        if (accountId === ctx.accountId) return s;
        const shared = s.createVolumePermissions ?? [];
        if (shared.includes(ctx.accountId) || shared.includes("all")) return s;
    }
    return undefined;
}

/**
 * Whether EBS, acting as the caller, may use the source snapshot's key (describe, grant, decrypt, re-encrypt from)
 * and the copy's key (describe, grant, data key, re-encrypt to), through EC2, by the caller's IAM policies and the
 * key's policy. A refusal does not fail CopySnapshot: "if you attempt to copy an encrypted snapshot without having
 * permissions to use the encryption key, the operation fails silently and the snapshot copy receives the 'Given key
 * ID is not accessible' status message" (EBS User Guide, "Copy an Amazon EBS snapshot"). It is listed with the IAM
 * denials (CloudTrail shows KMS's AccessDenied for the caller). Only where the world evaluates IAM.
 */
async function copyKeysDenied(world: World, ctx: CallContext, sourceKey: string | undefined, copyKey: string | undefined): Promise<boolean> {
    const caller = ctx.caller;
    if (!world.state.deployment.iam || !caller.roleArn) return false;
    const session = caller as typeof caller & { roleArn: string };
    const authorizations = [...ebsKeyUse(world, ctx, kmsKey(world, ctx, sourceKey), "from"), ...ebsKeyUse(world, ctx, kmsKey(world, ctx, copyKey), "to")];
    const denied = await firstDenied(world, session, ctx.region, authorizations);
    if (!denied) return false;
    const { authorization: a, reason } = denied;
    world.iamDenied.push({ atMs: world.elapsedWall(), call: ctx.action, action: a.action, resource: a.resource, principal: session.roleArn, accountId: ctx.accountId, region: ctx.region, reason });
    return true;
}

/**
 * CopySnapshot in the caller's region: its own snapshots, or another account's shared with it (createVolumePermission).
 * The source must be completed. An encrypted copy takes KmsKeyId (resolved as EC2 does, asynchronously: an unknown
 * key still starts the copy, which then ends in error) or the caller's default key; a key the caller may not use
 * ends the copy in error too ({@link copyKeysDenied}). Copies take `copyDurationMs`.
 */
const copySnapshot: Handler<CopySnapshotCommandInput, Promise<Out<CopySnapshotCommandOutput>>> = async (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const sourceId = required(world, ctx, input.SourceSnapshotId, "SourceSnapshotId");
    const sourceRegion = required(world, ctx, input.SourceRegion, "SourceRegion");
    if (sourceRegion !== ctx.region) throw notImplemented(ctx.action, `from another region (SourceRegion ${sourceRegion}, caller in ${ctx.region})`);
    for (const unsupported of ["DestinationOutpostArn", "PresignedUrl", "DestinationRegion", "CompletionDurationMinutes"] as const) {
        if ((input as unknown as Record<string, unknown>)[unsupported] !== undefined) throw notImplemented(ctx.action, `with ${unsupported}`);
    }
    if (idKind(sourceId) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${sourceId}" (expecting "snap-...")`);
    const source = visibleSnapshot(world, ctx, sourceId);
    if (!source) throw world.error(ctx, "InvalidSnapshot.NotFound", `The snapshot '${sourceId}' does not exist.`);
    const sourceState = snapshotView(world, source).State;
    if (sourceState !== "completed") throw world.error(ctx, "IncorrectState", `Snapshot '${sourceId}' is not in a state from which it can be copied (${sourceState}).`);
    if (input.KmsKeyId !== undefined && input.Encrypted !== true) {
        throw world.error(ctx, "InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.");
    }
    const tags = specTags(world, ctx, input.TagSpecifications, "snapshot");
    const encrypted = source.encrypted || input.Encrypted === true;
    let kmsKeyId: string | undefined;
    let stateMessage: string | undefined;
    if (encrypted) {
        if (input.KmsKeyId !== undefined) {
            kmsKeyId = resolveKey(world, ctx, input.KmsKeyId);
            if (!kmsKeyId) stateMessage = `The KMS key '${input.KmsKeyId}' does not exist or is not accessible.`;
        } else {
            kmsKeyId = source.ownerId === ctx.accountId ? keyOf(source, ctx.region) : defaultEbsKey(ctx.accountId, ctx.region);
        }
    }
    if (!stateMessage && encrypted && (await copyKeysDenied(world, ctx, keyOf(source, ctx.region), kmsKeyId))) stateMessage = KEY_NOT_ACCESSIBLE;
    const behaviour = world.state.behaviour;
    const side = ctx.accountId === world.state.homeAccountId ? "hub" : "member";
    if (!stateMessage && behaviour.copyError === side) stateMessage = `The snapshot copy could not be completed (simulated copy error in the ${side})`;
    const now = world.now();
    const copy: SnapshotState = {
        snapshotId: world.id("snap"),
        // EC2 reports copies with this placeholder volume id.
        volumeId: "vol-ffffffff",
        volumeSizeGiB: source.volumeSizeGiB,
        ownerId: ctx.accountId,
        description: input.Description ?? `[Copied ${sourceId} from ${sourceRegion}]`,
        encrypted,
        ...(kmsKeyId ? { kmsKeyId } : {}),
        tags,
        startTime: now,
        doneAt: now + (behaviour.copyDurationMs ?? behaviour.snapshotDurationMs),
        outcome: stateMessage ? "error" : "completed",
        ...(stateMessage ? { stateMessage } : {}),
        copyOf: { snapshotId: source.snapshotId, accountId: source.ownerId },
    };
    r.snapshots[copy.snapshotId] = copy;
    return { SnapshotId: copy.snapshotId, Tags: tagList(tags) };
};

/**
 * ModifySnapshotAttribute of createVolumePermission on the caller's own snapshot, in either request shape
 * (CreateVolumePermission Add/Remove, or OperationType with UserIds/GroupNames). As EBS: encrypted snapshots
 * cannot be made public, and snapshots under the AWS managed `aws/ebs` key cannot be shared at all.
 */
const modifySnapshotAttribute: Handler<ModifySnapshotAttributeCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const id = required(world, ctx, input.SnapshotId, "SnapshotId");
    if (idKind(id) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${id}" (expecting "snap-...")`);
    const snapshot = r.snapshots[id];
    if (!snapshot) throw world.error(ctx, "InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    const attribute = input.Attribute ?? (input.CreateVolumePermission ? "createVolumePermission" : undefined);
    if (attribute !== "createVolumePermission") throw notImplemented(ctx.action, `attribute ${String(attribute)}`);
    const entries = (list: { UserId?: string; Group?: string }[] | undefined) => (list ?? []).map((e) => e.UserId ?? e.Group ?? "");
    let add = entries(input.CreateVolumePermission?.Add);
    let remove = entries(input.CreateVolumePermission?.Remove);
    if (input.OperationType !== undefined) {
        const named = [...(input.UserIds ?? []), ...(input.GroupNames ?? [])];
        if (input.OperationType === "add") add = [...add, ...named];
        else if (input.OperationType === "remove") remove = [...remove, ...named];
        else throw world.error(ctx, "InvalidParameterValue", `Value (${String(input.OperationType)}) for parameter OperationType is invalid.`);
    }
    if (add.length > 0 && remove.length > 0) throw world.error(ctx, "InvalidParameterCombination", "You cannot both add and remove permissions in one request.");
    if (add.length === 0 && remove.length === 0) throw world.error(ctx, "MissingParameter", "The request must contain the parameter UserId or Group");
    for (const who of [...add, ...remove]) {
        if (who !== "all" && !/^\d{12}$/.test(who)) throw world.error(ctx, "InvalidParameterValue", `Invalid user id or group: '${who}'`);
    }
    if (add.includes("all") && snapshot.encrypted) throw world.error(ctx, "InvalidParameter", "Encrypted snapshots cannot be made public.");
    if (add.length > 0 && snapshot.encrypted && isDefaultEbsKey(snapshot.kmsKeyId)) {
        throw world.error(ctx, "OperationNotPermitted", `Snapshot '${id}' is encrypted with the AWS managed key aws/ebs and cannot be shared with other accounts.`);
    }
    const current = new Set(snapshot.createVolumePermissions ?? []);
    for (const who of add) current.add(who);
    for (const who of remove) current.delete(who);
    snapshot.createVolumePermissions = [...current].sort();
    return {};
};

function pageToken(index: number): string {
    return Buffer.from(`sim:${index}`).toString("base64");
}

function pageIndex(world: World, ctx: CallContext, token: string | undefined, code = "InvalidNextToken"): number {
    if (token === undefined) return 0;
    const match = /^sim:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
    if (!match) throw world.error(ctx, code, `The token '${token}' is invalid.`);
    return Number(match[1]);
}

const describeSnapshots: Handler<DescribeSnapshotsCommandInput, Out<DescribeSnapshotsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.SnapshotIds ?? [];
    for (const id of ids) {
        if (idKind(id) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${id}" (expecting "snap-...")`);
        if (!r.snapshots[id]) throw world.error(ctx, "InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
    }
    for (const owner of input.OwnerIds ?? []) {
        if (owner !== "self" && owner !== ctx.accountId) throw notImplemented(ctx.action, `OwnerIds "${owner}" (snapshot sharing)`);
    }
    if (input.RestorableByUserIds !== undefined) throw notImplemented(ctx.action, "with RestorableByUserIds");
    let snapshots = ids.length > 0 ? ids.map((id) => r.snapshots[id] as SnapshotState) : Object.values(r.snapshots);
    const views = snapshots.map((s) => ({ s, view: snapshotView(world, s) }));
    const filtered = applyFilters(
        ctx,
        views,
        input.Filters,
        {
            "snapshot-id": (v) => v.s.snapshotId,
            "volume-id": (v) => v.s.volumeId,
            status: (v) => v.view.State,
            "owner-id": (v) => v.s.ownerId,
            description: (v) => v.s.description,
        },
        (v) => v.s.tags,
    );
    snapshots = filtered.map((v) => v.s);
    const pageSize = Math.max(1, Math.min(input.MaxResults ?? Number.MAX_SAFE_INTEGER, world.state.behaviour.pageSizes.describeSnapshots));
    const start = pageIndex(world, ctx, input.NextToken);
    const page = filtered.slice(start, start + pageSize);
    const next = start + pageSize < filtered.length ? pageToken(start + pageSize) : undefined;
    return { Snapshots: page.map((v) => v.view), NextToken: next };
};

/** A deterministic console log: enough to look like a boot, naming the instance. */
function consoleText(instance: InstanceState): string {
    if (instance.platform === "windows") {
        return [
            `${new Date(instance.launchTime).toISOString()} Windows sysprep configuration complete.`,
            "Message: Waiting for meta-data accessibility...",
            "Message: Meta-data is now available.",
            `AMI Origin Name: ${instance.imageId}`,
            "Message: Windows is Ready to use",
            `Instance: ${instance.instanceId}`,
        ].join("\r\n");
    }
    return [
        "[    0.000000] Linux version 6.1.0-sim (simulator) #1 SMP",
        "[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz root=/dev/xvda1 console=ttyS0",
        "[    2.113000] systemd[1]: Reached target Multi-User System.",
        `cloud-init[1234]: Cloud-init v. 22.2.2 finished. Datasource DataSourceEc2. Instance ${instance.instanceId}`,
        "[   12.000000] amazon-ssm-agent[2001]: Starting Amazon SSM Agent",
    ].join("\n");
}

const getConsoleOutput: Handler<GetConsoleOutputCommandInput, Out<GetConsoleOutputCommandOutput>> = (world, ctx, input) => {
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    return {
        InstanceId: instance.instanceId,
        Output: Buffer.from(consoleText(instance), "utf8").toString("base64"),
        Timestamp: new Date(world.now()),
    };
};

/**
 * A tiny JPEG byte string: SOI, a JFIF APP0 segment, a comment naming the instance, EOI. It carries JPEG's magic
 * numbers (so content sniffing says image/jpeg) but no image data.
 */
export function tinyJpeg(instanceId: string): Buffer {
    const comment = Buffer.from(`aws-dfir simulated console screenshot of ${instanceId}`, "ascii");
    const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
    const com = Buffer.concat([Buffer.from([0xff, 0xfe, (comment.length + 2) >> 8, (comment.length + 2) & 0xff]), comment]);
    return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, com, Buffer.from([0xff, 0xd9])]);
}

const getConsoleScreenshot: Handler<GetConsoleScreenshotCommandInput, Out<GetConsoleScreenshotCommandOutput>> = (world, ctx, input) => {
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    requireLive(world, ctx, instance);
    if (world.state.behaviour.screenshotUnsupported) {
        throw world.error(ctx, "UnsupportedOperation", `The instance '${instance.instanceId}' does not support console screenshots.`);
    }
    return { InstanceId: instance.instanceId, ImageData: tinyJpeg(instance.instanceId).toString("base64") };
};

function associationView(a: ProfileAssociationState, stateOverride?: string): IamInstanceProfileAssociation {
    return {
        AssociationId: a.associationId,
        InstanceId: a.instanceId,
        IamInstanceProfile: { Arn: a.profileArn, Id: a.profileId },
        State: (stateOverride ?? a.state) as IamInstanceProfileAssociation["State"],
        Timestamp: new Date(a.at),
    };
}

const describeIamInstanceProfileAssociations: Handler<
    DescribeIamInstanceProfileAssociationsCommandInput,
    Out<DescribeIamInstanceProfileAssociationsCommandOutput>
> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.AssociationIds ?? [];
    for (const id of ids) {
        if (!r.profileAssociations[id]) throw world.error(ctx, "InvalidAssociationID.NotFound", `An association ID '${id}' does not exist.`);
    }
    let associations = ids.length > 0 ? ids.map((id) => r.profileAssociations[id] as ProfileAssociationState) : Object.values(r.profileAssociations);
    const asksForState = (input.Filters ?? []).some((f) => f.Name === "state");
    if (!asksForState && ids.length === 0) associations = associations.filter((a) => a.state !== "disassociated");
    associations = applyFilters(ctx, associations, input.Filters, { "instance-id": (a) => a.instanceId, state: (a) => a.state });
    return { IamInstanceProfileAssociations: associations.map((a) => associationView(a)) };
};

/** Resolves an instance profile by ARN or name in the caller's account (EC2 cannot use another account's). */
function resolveProfile(world: World, ctx: CallContext, spec: IamInstanceProfileSpecification | undefined): InstanceProfileState {
    const profiles = Object.values(world.account(ctx.accountId).iam.instanceProfiles);
    const found = spec?.Arn ? profiles.find((p) => p.arn === spec.Arn) : spec?.Name ? profiles.find((p) => p.name === spec.Name) : undefined;
    if (!found) {
        const what = spec?.Arn ? `Value (${spec.Arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN` : `Value (${String(spec?.Name)}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`;
        throw world.error(ctx, "InvalidParameterValue", what);
    }
    return found;
}

const replaceIamInstanceProfileAssociation: Handler<
    ReplaceIamInstanceProfileAssociationCommandInput,
    Out<ReplaceIamInstanceProfileAssociationCommandOutput>
> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const id = required(world, ctx, input.AssociationId, "AssociationId");
    const old = r.profileAssociations[id];
    if (!old || old.state !== "associated") throw world.error(ctx, "InvalidAssociationID.NotFound", `An association ID '${id}' does not exist.`);
    const profile = resolveProfile(world, ctx, input.IamInstanceProfile);
    const instance = r.instances[old.instanceId];
    const now = world.now();
    old.state = "disassociated";
    old.associatedAt ??= old.at;
    old.at = now;
    const association: ProfileAssociationState = {
        associationId: world.id("iip-assoc"),
        instanceId: old.instanceId,
        profileArn: profile.arn,
        profileId: profile.id,
        state: "associated",
        at: now,
    };
    r.profileAssociations[association.associationId] = association;
    if (instance) instance.associationId = association.associationId;
    return { IamInstanceProfileAssociation: associationView(association, "associating") };
};

/** Removes a profile association (the analyst's release takes the capture profile off an instance that had none). */
const disassociateIamInstanceProfile: Handler<
    DisassociateIamInstanceProfileCommandInput,
    Out<DisassociateIamInstanceProfileCommandOutput>
> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const id = required(world, ctx, input.AssociationId, "AssociationId");
    const old = r.profileAssociations[id];
    if (!old || old.state !== "associated") throw world.error(ctx, "InvalidAssociationID.NotFound", `An association ID '${id}' does not exist.`);
    old.state = "disassociated";
    old.at = world.now();
    const instance = r.instances[old.instanceId];
    if (instance && instance.associationId === id) delete instance.associationId;
    return { IamInstanceProfileAssociation: associationView(old, "disassociating") };
};

const associateIamInstanceProfile: Handler<AssociateIamInstanceProfileCommandInput, Out<AssociateIamInstanceProfileCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    requireLive(world, ctx, instance);
    if (currentAssociation(r, instance)?.state === "associated") {
        throw world.error(ctx, "IncorrectState", `There is an existing association for instance ${instance.instanceId}`);
    }
    const profile = resolveProfile(world, ctx, input.IamInstanceProfile);
    const association: ProfileAssociationState = {
        associationId: world.id("iip-assoc"),
        instanceId: instance.instanceId,
        profileArn: profile.arn,
        profileId: profile.id,
        state: "associated",
        at: world.now(),
    };
    r.profileAssociations[association.associationId] = association;
    instance.associationId = association.associationId;
    return { IamInstanceProfileAssociation: associationView(association, "associating") };
};

const describeSecurityGroups: Handler<DescribeSecurityGroupsCommandInput, Out<DescribeSecurityGroupsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    if (input.GroupNames !== undefined) throw notImplemented(ctx.action, "with GroupNames (EC2-Classic / default VPC)");
    const ids = input.GroupIds ?? [];
    for (const id of ids) {
        if (idKind(id) !== "sg") throw world.error(ctx, "InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
        if (!r.securityGroups[id]) throw world.error(ctx, "InvalidGroup.NotFound", `The security group '${id}' does not exist`);
    }
    let groups = ids.length > 0 ? ids.map((id) => r.securityGroups[id]).filter((g) => g !== undefined) : Object.values(r.securityGroups);
    groups = applyFilters(
        ctx,
        groups,
        input.Filters,
        { "vpc-id": (g) => g.vpcId, "group-id": (g) => g.groupId, "group-name": (g) => g.groupName, "owner-id": (g) => g.ownerId },
        (g) => g.tags,
    );
    const out: SecurityGroup[] = groups.map((g) => ({
        GroupId: g.groupId,
        GroupName: g.groupName,
        Description: g.description,
        VpcId: g.vpcId,
        OwnerId: g.ownerId,
        IpPermissions: structuredClone(g.ingress),
        IpPermissionsEgress: structuredClone(g.egress),
        Tags: tagList(g.tags),
    }));
    return { SecurityGroups: out };
};

/**
 * What terminating an instance does to the rest of the world: interfaces and delete-on-termination volumes
 * disappear, other volumes detach, the profile association ends, Auto Scaling and load balancers let go, the SSM
 * agent stops answering. The instance record stays (EC2 shows terminated instances for a while).
 */
export function terminateInstance(world: World, accountId: string, region: string, instanceId: string, reason: string): void {
    const r = world.region(accountId, region);
    const instance = r.instances[instanceId];
    if (!instance || instance.state === "terminated") return;
    const now = world.now();
    instance.state = "terminated";
    instance.stateTransitionReason = `${reason} (${new Date(now).toISOString()})`;
    instance.terminatedAt = now;
    for (const id of instance.networkInterfaceIds) {
        const eni = r.networkInterfaces[id];
        if (!eni) continue;
        if (eni.attachment?.deleteOnTermination) delete r.networkInterfaces[id];
        else delete eni.attachment;
    }
    for (const device of instance.blockDevices) {
        const volume = r.volumes[device.volumeId];
        if (!volume) continue;
        if (device.deleteOnTermination) delete r.volumes[device.volumeId];
        else {
            delete volume.attachment;
            volume.state = "available";
        }
    }
    const association = currentAssociation(r, instance);
    if (association) {
        association.state = "disassociated";
        association.at = now;
    }
    delete instance.associationId;
    for (const group of Object.values(r.autoScalingGroups)) {
        if (!group.instanceIds.includes(instanceId)) continue;
        group.instanceIds = group.instanceIds.filter((id) => id !== instanceId);
    }
    for (const tg of Object.values(r.targetGroups)) {
        for (const target of tg.targets) {
            if (target.id === instanceId && target.state === "healthy") {
                target.state = "draining";
                target.drainUntil = now + world.state.behaviour.deregistrationDelayMs;
            }
        }
    }
    if (instance.ssmPingStatus) instance.ssmPingStatus = "ConnectionLost";
    world.event("instance-terminated", `${instanceId} terminated: ${reason}`, now);
}


// ---------------------------------------------------------------- volumes (the analyst's `dfir attach`)

/** EBS device names EC2 accepts for an attachment on a Linux instance (`/dev/sd[f-p]` recommended). */
const DEVICE_NAME = /^\/dev\/(?:sd[a-z]|xvd[a-z]{1,2})\d{0,2}$/;
const VOLUME_TYPES = new Set(["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]);

/** Volumes whose `creating` time has passed become `available` (run before every call and view). */
export function settleVolumes(world: World, r: RegionState): void {
    const now = world.now();
    for (const v of Object.values(r.volumes)) {
        if (v.state === "creating" && now >= (v.availableAt ?? 0)) {
            v.state = "available";
            world.event("volume-available", `${v.volumeId} available in ${v.availabilityZone}`, v.availableAt ?? now);
        }
    }
}

function volumeView(v: VolumeState, accountId: string, region: string): Volume {
    const out: Volume = {
        VolumeId: v.volumeId,
        Size: v.sizeGiB,
        AvailabilityZone: v.availabilityZone,
        State: v.state as Volume["State"],
        CreateTime: new Date(v.createdAt),
        VolumeType: v.volumeType as Volume["VolumeType"],
        Encrypted: v.encrypted,
        SnapshotId: v.snapshotId ?? "",
        MultiAttachEnabled: false,
        Attachments: v.attachment
            ? [{ VolumeId: v.volumeId, InstanceId: v.attachment.instanceId, Device: v.attachment.deviceName, State: "attached", AttachTime: new Date(v.attachment.attachedAt), DeleteOnTermination: false }]
            : [],
    };
    if (v.encrypted) out.KmsKeyId = v.kmsKeyId ?? defaultEbsKey(accountId, region);
    if (Object.keys(v.tags).length > 0) out.Tags = tagList(v.tags);
    return out;
}

function volumeOrThrow(world: World, ctx: CallContext, volumeId: string | undefined): VolumeState {
    const id = required(world, ctx, volumeId, "VolumeId");
    if (idKind(id) !== "vol") throw world.error(ctx, "InvalidVolumeID.Malformed", `Invalid id: "${id}" (expecting "vol-...")`);
    const volume = regionOf(world, ctx).volumes[id];
    if (!volume) throw world.error(ctx, "InvalidVolume.NotFound", `The volume '${id}' does not exist.`);
    return volume;
}

/**
 * CreateVolume in an Availability Zone of the caller's region, from a snapshot the caller can see (its own, or shared
 * with it) that is completed, or empty with a Size. Encrypted when asked or when the snapshot is; the key is the one
 * given, else the snapshot's (own snapshots), else the caller's `aws/ebs`. `creating` for `volumeDurationMs`, then
 * `available`. A ClientToken seen before returns that volume (EC2's idempotency).
 */
const createVolume: Handler<CreateVolumeCommandInput, Out<CreateVolumeCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const known = new Set(["AvailabilityZone", "SnapshotId", "Size", "VolumeType", "Encrypted", "KmsKeyId", "TagSpecifications", "ClientToken", "DryRun"]);
    const unsupported = Object.keys(input).filter((k) => !known.has(k) && (input as unknown as Record<string, unknown>)[k] !== undefined);
    if (unsupported.length > 0) throw notImplemented(ctx.action, `with ${unsupported.join(", ")}`);
    if (input.ClientToken !== undefined) {
        const earlier = Object.values(r.volumes).find((v) => v.clientToken === input.ClientToken);
        if (earlier) return volumeView(earlier, ctx.accountId, ctx.region);
    }
    const zone = required(world, ctx, input.AvailabilityZone, "AvailabilityZone");
    if (!new RegExp(`^${ctx.region}[a-z]$`).test(zone)) throw world.error(ctx, "InvalidParameterValue", `Invalid availability zone: [${zone}]`);
    const volumeType = input.VolumeType ?? "gp2";
    if (!VOLUME_TYPES.has(volumeType)) throw world.error(ctx, "InvalidParameterValue", `Value (${volumeType}) for parameter volumeType is invalid.`);
    if (input.KmsKeyId !== undefined && input.Encrypted !== true) {
        throw world.error(ctx, "InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.");
    }
    let snapshot: SnapshotState | undefined;
    if (input.SnapshotId !== undefined) {
        if (idKind(input.SnapshotId) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${input.SnapshotId}" (expecting "snap-...")`);
        snapshot = visibleSnapshot(world, ctx, input.SnapshotId);
        if (!snapshot) throw world.error(ctx, "InvalidSnapshot.NotFound", `The snapshot '${input.SnapshotId}' does not exist.`);
        const state = snapshotView(world, snapshot).State;
        if (state !== "completed") throw world.error(ctx, "IncorrectState", `Snapshot is in invalid state - ${state}`);
    }
    const size = input.Size ?? snapshot?.volumeSizeGiB;
    if (size === undefined) throw world.error(ctx, "MissingParameter", "The request must contain the parameter size/snapshot");
    if (snapshot && size < snapshot.volumeSizeGiB) {
        throw world.error(ctx, "InvalidParameterValue", `Volume of ${size}GiB is too small; minimum is ${snapshot.volumeSizeGiB}GiB.`);
    }
    const encrypted = input.Encrypted === true || snapshot?.encrypted === true;
    let kmsKeyId: string | undefined;
    if (encrypted) {
        if (input.KmsKeyId !== undefined) {
            kmsKeyId = resolveKey(world, ctx, input.KmsKeyId);
            if (!kmsKeyId) throw world.error(ctx, "InvalidKMSKey.NotFound", `The KMS key '${input.KmsKeyId}' does not exist or is not accessible.`);
        } else if (snapshot?.encrypted) {
            kmsKeyId = keyOf(snapshot, ctx.region);
        } else {
            kmsKeyId = defaultEbsKey(ctx.accountId, ctx.region);
        }
    }
    const now = world.now();
    const volume: VolumeState = {
        volumeId: world.id("vol"),
        sizeGiB: size,
        availabilityZone: zone,
        volumeType,
        encrypted,
        state: "creating",
        createdAt: now,
        tags: specTags(world, ctx, input.TagSpecifications, "volume"),
        ...(snapshot ? { snapshotId: snapshot.snapshotId } : {}),
        ...(kmsKeyId ? { kmsKeyId } : {}),
        availableAt: now + (world.state.behaviour.volumeDurationMs ?? 0),
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
    };
    r.volumes[volume.volumeId] = volume;
    return volumeView(volume, ctx.accountId, ctx.region);
};

/**
 * AttachVolume: an `available` volume to a live instance of the caller's account in the same Availability Zone, at
 * a device name that is valid and free on the instance. The volume is `in-use`, the instance lists it (kept on
 * termination, as EC2 defaults for an attached volume).
 */
const attachVolume: Handler<AttachVolumeCommandInput, Out<AttachVolumeCommandOutput>> = (world, ctx, input) => {
    const volume = volumeOrThrow(world, ctx, input.VolumeId);
    const instance = instanceOrThrow(world, ctx, input.InstanceId);
    requireLive(world, ctx, instance);
    const device = required(world, ctx, input.Device, "Device");
    if (!DEVICE_NAME.test(device)) throw world.error(ctx, "InvalidParameterValue", `Value (${device}) for parameter device is invalid. ${device} is not a valid EBS device name.`);
    if (volume.availabilityZone !== instance.availabilityZone) {
        throw world.error(ctx, "InvalidVolume.ZoneMismatch", `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`);
    }
    if (volume.state === "in-use" || volume.attachment) throw world.error(ctx, "VolumeInUse", `${volume.volumeId} is already attached to an instance`);
    if (volume.state !== "available") throw world.error(ctx, "IncorrectState", `vol '${volume.volumeId}' is not 'available'.`);
    if (instance.blockDevices.some((b) => b.deviceName === device)) {
        throw world.error(ctx, "InvalidParameterValue", `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
    }
    const now = world.now();
    volume.state = "in-use";
    volume.attachment = { instanceId: instance.instanceId, deviceName: device, attachedAt: now };
    instance.blockDevices.push({ deviceName: device, volumeId: volume.volumeId, deleteOnTermination: false });
    return { VolumeId: volume.volumeId, InstanceId: instance.instanceId, Device: device, State: "attaching", AttachTime: new Date(now), DeleteOnTermination: false };
};

const describeVolumes: Handler<DescribeVolumesCommandInput, Out<DescribeVolumesCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    const ids = input.VolumeIds ?? [];
    for (const id of ids) volumeOrThrow(world, ctx, id);
    let volumes = ids.length > 0 ? ids.map((id) => r.volumes[id] as VolumeState) : Object.values(r.volumes);
    volumes = applyFilters(
        ctx,
        volumes,
        input.Filters,
        {
            "volume-id": (v) => v.volumeId,
            status: (v) => v.state,
            "availability-zone": (v) => v.availabilityZone,
            "snapshot-id": (v) => v.snapshotId,
            "attachment.instance-id": (v) => v.attachment?.instanceId,
            "attachment.device": (v) => v.attachment?.deviceName,
            "attachment.status": (v) => (v.attachment ? "attached" : undefined),
            encrypted: (v) => String(v.encrypted),
        },
        (v) => v.tags,
    );
    const pageSize = Math.max(1, Math.min(input.MaxResults ?? Number.MAX_SAFE_INTEGER, 500));
    const start = pageIndex(world, ctx, input.NextToken);
    const page = volumes.slice(start, start + pageSize);
    return { Volumes: page.map((v) => volumeView(v, ctx.accountId, ctx.region)), NextToken: start + pageSize < volumes.length ? pageToken(start + pageSize) : undefined };
};

// ---------------------------------------------------------------------------------------------------------------
// Snapshot lock. EC2 API Reference, "LockSnapshot" and "DescribeLockedSnapshots"; EBS User Guide, "Amazon EBS snapshot
// lock concepts" and "Considerations for Amazon EBS snapshot lock": a snapshot can be locked while pending or
// completed; a duration starts when it completes (a lock set on a pending snapshot has no expiry until then); a
// pending snapshot that fails loses its lock; compliance mode with no cooling-off period is final at once, with one
// it may be changed or removed until that period ends, then only lengthened; a locked snapshot cannot be deleted.

const DAY_MS = 86_400_000;

/** The lock's state and dates now, or undefined when the snapshot has none (or lost it: failed while pending). */
function lockView(world: World, s: SnapshotState): { state: "compliance" | "compliance-cooloff" | "governance" | "expired"; startsAt?: number; expiresAt?: number; coolOffEndsAt?: number } | undefined {
    const lock = s.lock;
    if (!lock) return undefined;
    const now = world.now();
    const completed = now >= s.doneAt && s.outcome === "completed";
    if (now >= s.doneAt && s.outcome === "error") return undefined;
    const startsAt = completed ? Math.max(lock.lockedAt, s.doneAt) : undefined;
    const expiresAt = lock.expiresAt ?? (startsAt !== undefined && lock.durationDays !== undefined ? startsAt + lock.durationDays * DAY_MS : undefined);
    const coolOffEndsAt = lock.coolOffHours !== undefined ? lock.lockedAt + lock.coolOffHours * 3_600_000 : undefined;
    if (expiresAt !== undefined && now >= expiresAt) return { state: "expired", startsAt, expiresAt };
    const state = lock.mode === "governance" ? "governance" : coolOffEndsAt !== undefined && now < coolOffEndsAt ? "compliance-cooloff" : "compliance";
    return { state, ...(startsAt !== undefined ? { startsAt } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}), ...(coolOffEndsAt !== undefined ? { coolOffEndsAt } : {}) };
}

export function lockedInfo(world: World, s: SnapshotState): LockedSnapshotsInfo | undefined {
    const view = lockView(world, s);
    const lock = s.lock;
    if (!view || !lock) return undefined;
    return {
        OwnerId: s.ownerId,
        SnapshotId: s.snapshotId,
        LockState: view.state,
        ...(lock.durationDays !== undefined ? { LockDuration: lock.durationDays } : {}),
        ...(lock.coolOffHours !== undefined ? { CoolOffPeriod: lock.coolOffHours } : {}),
        ...(view.coolOffEndsAt !== undefined ? { CoolOffPeriodExpiresOn: new Date(view.coolOffEndsAt) } : {}),
        LockCreatedOn: new Date(lock.lockedAt),
        ...(view.startsAt !== undefined ? { LockDurationStartTime: new Date(view.startsAt) } : {}),
        ...(view.expiresAt !== undefined ? { LockExpiresOn: new Date(view.expiresAt) } : {}),
    };
}

/**
 * A snapshot of the caller's account in the caller's region, or InvalidSnapshot.NotFound. Assumed, not read on an
 * AWS page: a snapshot another account shared with the caller (createVolumePermission) is not the caller's to lock
 * or delete. Nothing of ours locks or deletes a snapshot it does not own.
 */
function ownSnapshot(world: World, ctx: CallContext, id: string | undefined): SnapshotState {
    const snapshotId = required(world, ctx, id, "SnapshotId");
    if (idKind(snapshotId) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${snapshotId}" (expecting "snap-...")`);
    const s = regionOf(world, ctx).snapshots[snapshotId];
    if (!s || s.ownerId !== ctx.accountId) throw world.error(ctx, "InvalidSnapshot.NotFound", `The snapshot '${snapshotId}' does not exist.`);
    return s;
}

const lockSnapshot: Handler<LockSnapshotCommandInput, Out<LockSnapshotCommandOutput>> = (world, ctx, input) => {
    const s = ownSnapshot(world, ctx, input.SnapshotId);
    const state = snapshotView(world, s).State;
    if (state !== "pending" && state !== "completed") {
        throw world.error(ctx, "IncorrectState", `The snapshot '${s.snapshotId}' is in state ${state}: only a pending or completed snapshot can be locked.`);
    }
    const mode = input.LockMode;
    if (mode !== "compliance" && mode !== "governance") throw world.error(ctx, "InvalidParameterValue", `Value (${String(mode)}) for parameter LockMode is invalid.`);
    if ((input.LockDuration === undefined) === (input.ExpirationDate === undefined)) {
        throw world.error(ctx, "InvalidParameterCombination", "Specify either LockDuration or ExpirationDate, but not both.");
    }
    // Documented ranges: LockDuration 1-36,500 days, CoolOffPeriod 1-72 hours (compliance mode only).
    if (input.LockDuration !== undefined && (!Number.isInteger(input.LockDuration) || input.LockDuration < 1 || input.LockDuration > 36_500)) {
        throw world.error(ctx, "InvalidParameterValue", `LockDuration must be 1 to 36500 days, got ${input.LockDuration}.`);
    }
    if (input.CoolOffPeriod !== undefined) {
        if (mode !== "compliance") throw world.error(ctx, "InvalidParameterCombination", "CoolOffPeriod applies to compliance mode only.");
        if (!Number.isInteger(input.CoolOffPeriod) || input.CoolOffPeriod < 1 || input.CoolOffPeriod > 72) throw world.error(ctx, "InvalidParameterValue", `CoolOffPeriod must be 1 to 72 hours, got ${input.CoolOffPeriod}.`);
    }
    const now = world.now();
    const expiresAt = input.ExpirationDate !== undefined ? new Date(input.ExpirationDate).getTime() : undefined;
    if (expiresAt !== undefined && expiresAt <= now) throw world.error(ctx, "InvalidParameterValue", "ExpirationDate must be in the future.");
    const current = lockView(world, s);
    if (current?.state === "compliance" && s.lock) {
        // After the cooling-off period a compliance lock can only be lengthened (LockSnapshot: "you can only increase
        // the lock duration or extend the lock expiration date"): anything else, a same-length lock included, is refused.
        const longer = mode === "compliance" && input.CoolOffPeriod === undefined && (
            (input.LockDuration !== undefined && s.lock.durationDays !== undefined && input.LockDuration > s.lock.durationDays)
            || (expiresAt !== undefined && current.expiresAt !== undefined && expiresAt > current.expiresAt));
        if (!longer) throw world.error(ctx, "InvalidParameterValue", `The snapshot '${s.snapshotId}' is locked in compliance mode: its lock can only be extended.`);
    }
    s.lock = {
        mode,
        lockedAt: now,
        ...(input.LockDuration !== undefined ? { durationDays: input.LockDuration } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(input.CoolOffPeriod !== undefined ? { coolOffHours: input.CoolOffPeriod } : {}),
    };
    const info = lockedInfo(world, s) as LockedSnapshotsInfo;
    const { OwnerId: _owner, ...out } = info;
    return out;
};

const describeLockedSnapshots: Handler<DescribeLockedSnapshotsCommandInput, Out<DescribeLockedSnapshotsCommandOutput>> = (world, ctx, input) => {
    const r = regionOf(world, ctx);
    for (const id of input.SnapshotIds ?? []) {
        if (idKind(id) !== "snap") throw world.error(ctx, "InvalidSnapshotID.Malformed", `Invalid id: "${id}" (expecting "snap-...")`);
    }
    if ((input.Filters ?? []).some((f) => f.Name !== "lock-state")) throw notImplemented(ctx.action, "filters other than lock-state");
    const wanted = (input.Filters ?? []).flatMap((f) => f.Values ?? []);
    const ids = input.SnapshotIds;
    const infos = Object.values(r.snapshots)
        .filter((s) => s.ownerId === ctx.accountId && (ids === undefined || ids.includes(s.snapshotId)))
        .flatMap((s) => {
            const info = lockedInfo(world, s);
            return info && (wanted.length === 0 || wanted.includes(String(info.LockState))) ? [info] : [];
        });
    return { Snapshots: infos };
};

const deleteSnapshot: Handler<DeleteSnapshotCommandInput, Out<Record<string, never>>> = (world, ctx, input) => {
    const s = ownSnapshot(world, ctx, input.SnapshotId);
    const lock = lockView(world, s);
    // "A locked snapshot can't be deleted" (LockSnapshot), pending included. The error code EC2 gives is not on the
    // pages read: IncorrectState is assumed (nothing of ours reads it).
    if (lock && lock.state !== "expired") {
        throw world.error(ctx, "IncorrectState", `The snapshot '${s.snapshotId}' is locked (${lock.state}) and cannot be deleted.`);
    }
    delete regionOf(world, ctx).snapshots[s.snapshotId];
    return {};
};

export const EC2_HANDLERS: Record<string, Handler> = {
    LockSnapshot: lockSnapshot,
    DescribeLockedSnapshots: describeLockedSnapshots,
    DeleteSnapshot: deleteSnapshot,
    DescribeInstances: describeInstances,
    DescribeInstanceAttribute: describeInstanceAttribute,
    ModifyInstanceAttribute: modifyInstanceAttribute,
    DescribeNetworkInterfaces: describeNetworkInterfaces,
    ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
    CreateTags: createTags,
    DeleteTags: deleteTags,
    CreateSnapshots: createSnapshots,
    DescribeSnapshots: describeSnapshots,
    CopySnapshot: copySnapshot,
    ModifySnapshotAttribute: modifySnapshotAttribute,
    GetConsoleOutput: getConsoleOutput,
    GetConsoleScreenshot: getConsoleScreenshot,
    DescribeIamInstanceProfileAssociations: describeIamInstanceProfileAssociations,
    ReplaceIamInstanceProfileAssociation: replaceIamInstanceProfileAssociation,
    AssociateIamInstanceProfile: associateIamInstanceProfile,
    DisassociateIamInstanceProfile: disassociateIamInstanceProfile,
    DescribeSecurityGroups: describeSecurityGroups,
    CreateVolume: createVolume,
    AttachVolume: attachVolume,
    DescribeVolumes: describeVolumes,
};

/** For views: a snapshot's state as DescribeSnapshots would report it now. */
export { snapshotView };
