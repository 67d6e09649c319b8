/**
 * Auto Scaling and Elastic Load Balancing v2, the parts the response uses to take an instance out of service:
 * which group holds it, detaching it (keeping or lowering capacity), which target groups route to it, and
 * deregistering it (targets drain for the deregistration delay, as on AWS).
 */
import type {
    AutoScalingInstanceDetails,
    DescribeAutoScalingInstancesCommandInput,
    DescribeAutoScalingInstancesCommandOutput,
    DetachInstancesCommandInput,
    DetachInstancesCommandOutput,
} from "@aws-sdk/client-auto-scaling";
import type {
    DeregisterTargetsCommandInput,
    DescribeTargetGroupsCommandInput,
    DescribeTargetGroupsCommandOutput,
    DescribeTargetHealthCommandInput,
    DescribeTargetHealthCommandOutput,
    TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { notImplemented } from "../errors";
import type { AutoScalingGroupState, RegionState, TargetGroupState, TargetState } from "../state";
import { required, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

/** Targets whose draining ended are no longer registered (applied lazily, whenever the world is looked at). */
export function settleTargets(world: World, r: RegionState): void {
    const now = world.now();
    for (const tg of Object.values(r.targetGroups)) {
        tg.targets = tg.targets.filter((t) => !(t.state === "draining" && (t.drainUntil ?? 0) <= now));
    }
}

/** Start draining every registration of an instance in the given target groups. */
function drain(world: World, r: RegionState, arns: string[], instanceId: string): void {
    const now = world.now();
    for (const arn of arns) {
        for (const target of r.targetGroups[arn]?.targets ?? []) {
            if (target.id === instanceId && target.state === "healthy") {
                target.state = "draining";
                target.drainUntil = now + world.state.behaviour.deregistrationDelayMs;
            }
        }
    }
}

const describeAutoScalingInstances: Handler<DescribeAutoScalingInstancesCommandInput, Out<DescribeAutoScalingInstancesCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    if (input.NextToken !== undefined) throw notImplemented(ctx.action, "with NextToken");
    const ids = input.InstanceIds;
    const out: AutoScalingInstanceDetails[] = [];
    for (const group of Object.values(r.autoScalingGroups)) {
        for (const instanceId of group.instanceIds) {
            if (ids && !ids.includes(instanceId)) continue;
            const instance = r.instances[instanceId];
            out.push({
                InstanceId: instanceId,
                InstanceType: instance?.instanceType ?? "t3.micro",
                AutoScalingGroupName: group.name,
                AvailabilityZone: instance?.availabilityZone ?? group.availabilityZones[0] ?? "",
                LifecycleState: "InService",
                HealthStatus: "HEALTHY",
                ProtectedFromScaleIn: false,
                LaunchTemplate: { LaunchTemplateId: group.launchTemplate.id, LaunchTemplateName: group.launchTemplate.name, Version: group.launchTemplate.version },
            });
        }
    }
    return { AutoScalingInstances: out };
};

const detachInstances: Handler<DetachInstancesCommandInput, Out<DetachInstancesCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    const name = required(world, ctx, input.AutoScalingGroupName, "AutoScalingGroupName");
    if (typeof input.ShouldDecrementDesiredCapacity !== "boolean") {
        throw world.error(
            ctx,
            "ValidationError",
            "1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null",
        );
    }
    const group: AutoScalingGroupState | undefined = r.autoScalingGroups[name];
    if (!group) throw world.error(ctx, "ValidationError", `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    const ids = input.InstanceIds ?? [];
    for (const id of ids) {
        if (!group.instanceIds.includes(id)) throw world.error(ctx, "ValidationError", `The instance ${id} is not part of Auto Scaling group ${name}.`);
    }
    const decrement = input.ShouldDecrementDesiredCapacity;
    const before = group.desired;
    const after = decrement ? before - ids.length : before;
    if (after < group.min) {
        throw world.error(ctx, "ValidationError", `Desired capacity:${after} must be between the specified min size:${group.min} and max size:${group.max}`);
    }
    const now = world.now();
    group.desired = after;
    group.instanceIds = group.instanceIds.filter((id) => !ids.includes(id));
    const activities = ids.map((id) => {
        group.detachments.push({ instanceId: id, decremented: decrement, at: now });
        drain(world, r, group.targetGroupArns, id);
        const capacity = decrement ? `shrinking the capacity from ${before} to ${after}` : `keeping the capacity at ${before}`;
        world.event("asg-detached", `${id} detached from ${name} (${decrement ? "capacity decremented" : "capacity kept: a replacement launches"})`, now);
        return {
            ActivityId: world.uuid("asg-activity"),
            AutoScalingGroupName: name,
            Description: `Detaching EC2 instance: ${id}`,
            Cause: `At ${new Date(now).toISOString()} instance ${id} was detached in response to a user request, ${capacity}.`,
            StartTime: new Date(now),
            StatusCode: "InProgress" as const,
            Progress: 50,
            Details: JSON.stringify({ "Availability Zone": r.instances[id]?.availabilityZone ?? "" }),
        };
    });
    return { Activities: activities };
};

function targetGroupOrThrow(world: World, ctx: Parameters<Handler>[1], arn: string | undefined): TargetGroupState {
    const id = required(world, ctx, arn, "TargetGroupArn");
    const tg = world.region(ctx.accountId, ctx.region).targetGroups[id];
    if (!tg) throw world.error(ctx, "TargetGroupNotFound", `Target groups '${id}' not found`);
    return tg;
}

const describeTargetGroups: Handler<DescribeTargetGroupsCommandInput, Out<DescribeTargetGroupsCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    let groups = Object.values(r.targetGroups);
    if (input.TargetGroupArns) {
        for (const arn of input.TargetGroupArns) if (!r.targetGroups[arn]) throw world.error(ctx, "TargetGroupNotFound", `Target groups '${arn}' not found`);
        groups = groups.filter((g) => input.TargetGroupArns?.includes(g.arn));
    }
    if (input.Names) {
        for (const name of input.Names) if (!groups.some((g) => g.name === name)) throw world.error(ctx, "TargetGroupNotFound", `One or more target groups not found`);
        groups = groups.filter((g) => input.Names?.includes(g.name));
    }
    if (input.LoadBalancerArn) groups = groups.filter((g) => g.loadBalancerArns.includes(input.LoadBalancerArn as string));
    const pageSize = Math.max(1, Math.min(input.PageSize ?? 400, world.state.behaviour.pageSizes.describeTargetGroups));
    let start = 0;
    if (input.Marker !== undefined) {
        const match = /^sim:(\d+)$/.exec(Buffer.from(input.Marker, "base64").toString("utf8"));
        if (!match) throw world.error(ctx, "ValidationError", `Invalid marker '${input.Marker}'`);
        start = Number(match[1]);
    }
    const page = groups.slice(start, start + pageSize);
    const nextMarker = start + pageSize < groups.length ? Buffer.from(`sim:${start + pageSize}`).toString("base64") : undefined;
    return {
        TargetGroups: page.map((g) => ({
            TargetGroupArn: g.arn,
            TargetGroupName: g.name,
            Protocol: g.protocol as "HTTP",
            Port: g.port,
            VpcId: g.vpcId,
            TargetType: g.targetType ?? "instance",
            HealthCheckProtocol: g.protocol as "HTTP",
            HealthCheckPort: "traffic-port",
            LoadBalancerArns: [...g.loadBalancerArns],
            IpAddressType: "ipv4",
        })),
        NextMarker: nextMarker,
    };
};

function healthOf(tg: TargetGroupState, target: TargetState | undefined, id: string, port: number | undefined): TargetHealthDescription {
    if (!target) {
        return {
            Target: { Id: id, Port: port ?? tg.port },
            HealthCheckPort: String(port ?? tg.port),
            TargetHealth: { State: "unused", Reason: "Target.NotRegistered", Description: "Target is not registered to the target group" },
        };
    }
    const health =
        target.state === "healthy"
            ? { State: "healthy" as const }
            : { State: "draining" as const, Reason: "Target.DeregistrationInProgress" as const, Description: "Target deregistration is in progress" };
    return {
        Target: { Id: target.id, Port: target.port, ...(target.availabilityZone ? { AvailabilityZone: target.availabilityZone } : {}) },
        HealthCheckPort: String(target.port),
        TargetHealth: health,
    };
}

const describeTargetHealth: Handler<DescribeTargetHealthCommandInput, Out<DescribeTargetHealthCommandOutput>> = (world, ctx, input) => {
    settleTargets(world, world.region(ctx.accountId, ctx.region));
    const tg = targetGroupOrThrow(world, ctx, input.TargetGroupArn);
    if (!input.Targets) return { TargetHealthDescriptions: tg.targets.map((t) => healthOf(tg, t, t.id, t.port)) };
    return {
        TargetHealthDescriptions: input.Targets.map((wanted) => {
            const id = wanted.Id ?? "";
            const target = tg.targets.find((t) => t.id === id && (wanted.Port === undefined || t.port === wanted.Port));
            return healthOf(tg, target, id, wanted.Port);
        }),
    };
};

const deregisterTargets: Handler<DeregisterTargetsCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    settleTargets(world, r);
    const tg = targetGroupOrThrow(world, ctx, input.TargetGroupArn);
    const targets = required(world, ctx, input.Targets, "Targets");
    const now = world.now();
    for (const wanted of targets) {
        for (const target of tg.targets) {
            if (target.id !== wanted.Id || (wanted.Port !== undefined && target.port !== wanted.Port)) continue;
            // An ip target registered with an Availability Zone is that target only with the same zone.
            if (target.availabilityZone !== undefined && wanted.AvailabilityZone !== target.availabilityZone) continue;
            if (target.state === "healthy") {
                target.state = "draining";
                target.drainUntil = now + world.state.behaviour.deregistrationDelayMs;
            }
        }
        // A target that is not registered: AWS accepts the call and changes nothing.
    }
    return {};
};

export const AUTOSCALING_HANDLERS: Record<string, Handler> = {
    DescribeAutoScalingInstances: describeAutoScalingInstances,
    DetachInstances: detachInstances,
};

export const ELBV2_HANDLERS: Record<string, Handler> = {
    DescribeTargetGroups: describeTargetGroups,
    DescribeTargetHealth: describeTargetHealth,
    DeregisterTargets: deregisterTargets,
};
