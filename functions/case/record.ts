/**
 * The instance record of a case (core/workflow.ts `InstanceRecord`), built from what EC2 said when the case
 * opened. Pure: the reads happen in openCase.ts. It is what release restores from (groups of every interface,
 * protections, shutdown behaviour, DeleteOnTermination of every volume, the profile association) and what
 * Contain acts on, so it is built once and never re-read for the same case.
 */
import type { IamInstanceProfileAssociation, Instance } from "@aws-sdk/client-ec2";
import { TAGS } from "../../core/tags";
import type { InstanceRecord, InterfaceRecord, VolumeRecord } from "../../core/workflow";

/** The three attributes DescribeInstances does not return (one DescribeInstanceAttribute call each). */
export interface InstanceProtections {
    disableApiTermination: boolean;
    disableApiStop: boolean;
    shutdownBehavior: string;
}

/**
 * Every interface (primary and secondary, sorted by device index) with its groups and IPv6 addresses; EBS volumes
 * from the block device mappings (root = the device named by RootDeviceName); tags as a map; Windows only when EC2
 * says `Platform: windows` (EC2 omits Platform for every other OS).
 */
export function buildInstanceRecord(
    instance: Instance,
    protections: InstanceProtections,
    association?: IamInstanceProfileAssociation,
): InstanceRecord {
    const interfaces: InterfaceRecord[] = (instance.NetworkInterfaces ?? [])
        .flatMap((eni, index) =>
            eni.NetworkInterfaceId
                ? [
                      {
                          networkInterfaceId: eni.NetworkInterfaceId,
                          groups: (eni.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
                          deviceIndex: eni.Attachment?.DeviceIndex ?? index,
                          ipv6Addresses: (eni.Ipv6Addresses ?? []).flatMap((a) => (a.Ipv6Address ? [a.Ipv6Address] : [])),
                          // Its own VPC (a multi-VPC attachment brings an interface of another VPC), subnet and
                          // addresses: what Contain isolates it with and denies in network ACLs.
                          ...(eni.VpcId ? { vpcId: eni.VpcId } : {}),
                          ...(eni.SubnetId ? { subnetId: eni.SubnetId } : {}),
                          privateIpAddresses: privateAddresses(eni),
                          ...(eni.Association?.PublicIp ? { publicIp: eni.Association.PublicIp } : {}),
                      },
                  ]
                : [],
        )
        .sort((a, b) => a.deviceIndex - b.deviceIndex);
    const volumes: VolumeRecord[] = (instance.BlockDeviceMappings ?? []).flatMap((m) =>
        m.Ebs?.VolumeId && m.DeviceName
            ? [
                  {
                      volumeId: m.Ebs.VolumeId,
                      deviceName: m.DeviceName,
                      deleteOnTermination: m.Ebs.DeleteOnTermination ?? false,
                      root: m.DeviceName === instance.RootDeviceName,
                  },
              ]
            : [],
    );
    const record: InstanceRecord = {
        instanceId: instance.InstanceId ?? "",
        state: instance.State?.Name ?? "unknown",
        platform: (instance.Platform ?? "").toLowerCase() === "windows" ? "windows" : "linux",
        vpcId: instance.VpcId ?? instance.NetworkInterfaces?.find((eni) => eni.VpcId)?.VpcId ?? "",
        networkInterfaces: interfaces,
        volumes,
        tags: Object.fromEntries((instance.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? ""]] : []))),
        disableApiTermination: protections.disableApiTermination,
        disableApiStop: protections.disableApiStop,
        shutdownBehavior: protections.shutdownBehavior,
    };
    // Which avml build the memory step sends (core/avml.ts avmlBuildFor).
    if (instance.Architecture) record.architecture = instance.Architecture;
    if (instance.SubnetId) record.subnetId = instance.SubnetId;
    if (instance.Placement?.AvailabilityZone) record.availabilityZone = instance.Placement.AvailabilityZone;
    if (instance.ImageId) record.imageId = instance.ImageId;
    if (instance.LaunchTime) record.launchTime = new Date(instance.LaunchTime).toISOString();
    if (association?.AssociationId && association.IamInstanceProfile?.Arn) {
        record.iamInstanceProfile = { arn: association.IamInstanceProfile.Arn, associationId: association.AssociationId };
    }
    return record;
}

/** Every private IPv4 address of an interface, the primary first. */
function privateAddresses(eni: NonNullable<Instance["NetworkInterfaces"]>[number]): string[] {
    const listed = (eni.PrivateIpAddresses ?? []).flatMap((a) => (a.PrivateIpAddress ? [{ address: a.PrivateIpAddress, primary: a.Primary === true }] : []));
    const all = listed.length > 0 ? listed : eni.PrivateIpAddress ? [{ address: eni.PrivateIpAddress, primary: true }] : [];
    return [...all.filter((a) => a.primary), ...all.filter((a) => !a.primary)].map((a) => a.address);
}

/** Tag values are compared trimmed and case-insensitively: `True`, `true ` and `true` all mean true. */
function tagIs(tags: Record<string, string>, key: string, value: string): boolean {
    return (tags[key] ?? "").trim().toLowerCase() === value;
}

/** `dfir:approval=required`: containment waits for a human. `dfir:skip=true`: evidence only, never contained. */
export function caseFlags(record: InstanceRecord): { approvalRequired: boolean; skipContainment: boolean } {
    return {
        approvalRequired: tagIs(record.tags, TAGS.approval, "required"),
        skipContainment: tagIs(record.tags, TAGS.skip, "true"),
    };
}
