/**
 * Which targets of a load balancer target group are the contained instance's. Pure: Contain reads the groups and
 * their targets, this decides, Contain deregisters.
 *
 * A group of type `instance` names the instance by id. A group of type `ip` names addresses, and private addresses
 * repeat across VPCs: ELBv2 registers an address of the group's own VPC without an Availability Zone and an address
 * outside it (a peered VPC, on premises) with one, or `all` ("If the IP address is in a subnet of the VPC for the
 * target group, the Availability Zone is automatically detected and this parameter is optional. If the IP address
 * is outside the VPC, this parameter is required": ELBv2 API Reference, TargetDescription). So an address target is
 * the instance's only when the address is one of its interfaces' AND it sits on the right side of that VPC line:
 * in a group of the interface's own VPC, a target without `all`; in a group of another VPC, a target registered
 * from outside (`all`), which is the best the API lets anyone tell.
 */

/** One interface's addresses and VPC. */
export interface AddressHolder {
    vpcId: string;
    addresses: readonly string[];
}

/** A target as DescribeTargetHealth returns it. */
export interface TargetView {
    id: string;
    availabilityZone?: string;
}

/** Whether an `ip` group's target (in a group of `groupVpcId`) is one of the instance's addresses. */
export function isInstanceAddressTarget(groupVpcId: string | undefined, target: TargetView, interfaces: readonly AddressHolder[]): boolean {
    const outside = target.availabilityZone === "all";
    return interfaces.some((i) => i.addresses.includes(target.id) && (groupVpcId === undefined || (groupVpcId === i.vpcId) !== outside));
}
