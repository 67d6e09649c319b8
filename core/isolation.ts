/**
 * The isolation security group's rule set, and the check every rule of such a group must pass. The component
 * builds its rules from `isolationEgressRules`; the tests (and the policy pack) judge rules with
 * `isolationRuleProblems` — one definition of "isolated".
 */
import { parseCidr, sameCidr } from "./cidr";

/** Where isolated instances may still connect: S3 (evidence upload) and the SSM endpoints (memory capture). */
export interface IsolationTargets<T = string> {
    /** The S3 gateway endpoint's prefix list (the regional S3 prefix list). */
    s3PrefixListId: T;
    /** The security group of the VPC's ssm, ssmmessages and ec2messages interface endpoints. */
    endpointSecurityGroupId: T;
}

/** One rule, in the shape of `aws.vpc.SecurityGroupEgressRule` / `IngressRule` arguments. */
export interface SgRule<T = string> {
    direction: "ingress" | "egress";
    description?: string;
    ipProtocol: string;
    fromPort?: number;
    toPort?: number;
    cidrIpv4?: T;
    cidrIpv6?: T;
    prefixListId?: T;
    referencedSecurityGroupId?: T;
}

/**
 * Whether an isolation group may reach `cidr`: it is one of `allowedCidrs`, however written (`sameCidr`). The one
 * test for a rule's own CIDR and for the entries of a customer-managed prefix list a rule names.
 */
export function isAllowedCidr(cidr: string, allowedCidrs: readonly string[]): boolean {
    return allowedCidrs.some((allowed) => allowed === cidr || sameCidr(allowed, cidr));
}

/** Whether a CIDR is the whole address space of its family (0.0.0.0/0, ::/0): the internet. */
export function isWholeInternet(cidr: string): boolean {
    return parseCidr(cidr)?.prefix === 0;
}

/** HTTPS only: S3, SSM, SSM messages and EC2 messages all listen on 443. */
export const ISOLATION_EGRESS_PORTS: readonly number[] = [443];

/** The complete rule set of an isolation group: no ingress at all, TCP 443 egress to the two targets only. */
export function isolationEgressRules<T>(t: IsolationTargets<T>): (SgRule<T> & { key: string })[] {
    return [
        { key: "s3", direction: "egress", description: "HTTPS to S3 through the gateway endpoint (evidence upload)", ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: t.s3PrefixListId },
        { key: "endpoints", direction: "egress", description: "HTTPS to the SSM interface endpoints (memory capture)", ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: t.endpointSecurityGroupId },
    ];
}

/**
 * Why a rule does not belong on an isolation group (empty when it does). A rule passes only if it is egress,
 * TCP, within the allowed ports, and aimed at a prefix list or a security group — never a CIDR unless that
 * exact CIDR is allow-listed, never protocol -1 ("all").
 */
export function isolationRuleProblems(
    rule: Readonly<SgRule<unknown>>,
    allowedPorts: readonly number[] = ISOLATION_EGRESS_PORTS,
    allowedCidrs: readonly string[] = [],
): string[] {
    if (rule.direction === "ingress") return ["admits ingress; an isolation group must admit nothing"];
    const problems: string[] = [];
    const protocol = String(rule.ipProtocol).toLowerCase();
    if (protocol === "-1" || protocol === "all") problems.push("allows every protocol (-1)");
    else if (protocol !== "tcp" && protocol !== "6") problems.push(`allows protocol ${rule.ipProtocol}; only TCP is allowed`);
    if (protocol === "tcp" || protocol === "6") {
        const from = rule.fromPort;
        const to = rule.toPort;
        if (typeof from !== "number" || typeof to !== "number") problems.push("has no port range");
        else if (from !== to || !allowedPorts.includes(from)) {
            problems.push(`allows ports ${from}-${to}; only ${allowedPorts.join(", ")} are allowed`);
        }
    }
    for (const cidr of [rule.cidrIpv4, rule.cidrIpv6]) {
        if (cidr !== undefined && cidr !== null && !isAllowedCidr(String(cidr), allowedCidrs)) {
            problems.push(`allows egress to ${String(cidr)}; allow only the S3 prefix list and the endpoints' group`);
        }
    }
    const hasTarget = [rule.prefixListId, rule.referencedSecurityGroupId, rule.cidrIpv4, rule.cidrIpv6].some((v) => v !== undefined && v !== null);
    if (!hasTarget) problems.push("has no destination");
    return problems;
}

/** A subnet as the EC2 data sources describe it. */
export interface SubnetPlacement {
    id: string;
    availabilityZone: string;
}

/**
 * Subnets for interface endpoints: an endpoint takes at most one subnet per Availability Zone, and the choice
 * must be stable across runs (else every `pulumi up` would replace the endpoints). Lowest subnet id per AZ.
 */
export function onePerAvailabilityZone(subnets: readonly SubnetPlacement[]): string[] {
    const byAz = new Map<string, string>();
    for (const s of [...subnets].sort((a, b) => a.id.localeCompare(b.id))) {
        if (!byAz.has(s.availabilityZone)) byAz.set(s.availabilityZone, s.id);
    }
    return [...byAz.keys()].sort().map((az) => byAz.get(az) as string);
}

/** The interface endpoint services SSM Run Command needs on an instance without internet access. */
export const SSM_ENDPOINT_SERVICES = ["ssm", "ssmmessages", "ec2messages"] as const;
