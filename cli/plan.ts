/**
 * `dfir plan --finding FILE`: a dry run with read-only calls. Triage decides as the deployed guard would; then the
 * instance is read as OpenCase reads it (the same record builder), with what containment and evidence depend on:
 * Auto Scaling and target-group membership, the SSM agent, the VPC's isolation group (found by its `dfir:role` tag),
 * the staged avml. The result is what the workflow would do, in order, and what would fail. Changes nothing.
 * `planSteps` is the pure decision.
 */
import { DescribeAutoScalingInstancesCommand } from "@aws-sdk/client-auto-scaling";
import {
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstanceAttributeCommand,
    DescribeInstancesCommand,
    DescribeSecurityGroupsCommand,
} from "@aws-sdk/client-ec2";
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DescribeInstanceInformationCommand } from "@aws-sdk/client-ssm";
import { avmlBuildFor } from "../core/avml";
import { TAGS } from "../core/tags";
import { triage, type TriageDecision } from "../core/triage";
import type { InstanceRecord, Target } from "../core/workflow";
import { buildInstanceRecord, caseFlags } from "../functions/case/record";
import { client } from "../functions/lib/aws";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { instanceAccount, UsageError, type AnalystContext } from "./context";

/** What the reads found, besides the instance record. */
export interface PlanFacts {
    record: InstanceRecord;
    autoScalingGroup?: string;
    targetGroups: string[];
    ssm: "Online" | "ConnectionLost" | "not registered";
    /** The VPC's isolation and untrack groups (tagged `dfir:role`), if deployed. */
    isolationGroupId?: string;
    untrackGroupId?: string;
    /** The staged avml object key of the instance's architecture's build (`tools/avml-<build>-...`), if any. */
    avmlKey?: string;
}

export interface PlanStep {
    phase: "triage" | "case" | "approval" | "contain" | "evidence" | "seal";
    action: string;
    /** Why this step would fail or be skipped, when it would. */
    problem?: string;
}

export interface PlanResult {
    verdict: TriageDecision;
    target?: Target;
    facts?: PlanFacts;
    steps: PlanStep[];
    /** The steps' problems, one line each. */
    wouldFail: string[];
}

/** The workflow's steps for this instance, in order, with what would fail. Pure. */
export function planSteps(f: PlanFacts, evidenceOnly = false): PlanStep[] {
    const r = f.record;
    const { approvalRequired, skipContainment: tagged } = caseFlags(r);
    const skipContainment = tagged || evidenceOnly;
    const steps: PlanStep[] = [{ phase: "case", action: `open a case for ${r.instanceId} (one open case per instance; a repeat joins it)` }];
    if (approvalRequired) steps.push({ phase: "approval", action: `ask for approval (tag ${TAGS.approval}=required) and wait` });
    if (skipContainment) {
        steps.push({ phase: "contain", action: `no containment: ${tagged ? `tagged ${TAGS.skip}=true` : "the trigger asks for evidence only"} (evidence only)` });
    } else {
        const noGroup = f.isolationGroupId ? undefined : `no isolation group is deployed for ${r.vpcId}: containment fails (NoIsolationGroupError), evidence still collected`;
        if (f.untrackGroupId) steps.push({ phase: "contain", action: `every interface (${r.networkInterfaces.length}) into the untrack group ${f.untrackGroupId} for one call`, ...(noGroup ? { problem: noGroup } : {}) });
        steps.push({
            phase: "contain",
            action: `every interface into the isolation group ${f.isolationGroupId ?? "(none)"}: ${r.networkInterfaces.map((n) => `${n.networkInterfaceId} (now ${n.groups.join(",") || "no group"})`).join("; ")}`,
            ...(noGroup ? { problem: noGroup } : {}),
        });
        const addresses = r.networkInterfaces.reduce((n, eni) => n + (eni.privateIpAddresses?.length ?? 1) + eni.ipv6Addresses.length, 0);
        steps.push({
            phase: "contain",
            action: `deny its ${addresses} address(es) in the network ACLs of the other subnets of its VPC(s), so established flows (NAT gateway, load balancer, endpoint ones included) are cut; TCP 443 to the SSM endpoints allowed first`,
        });
        steps.push({ phase: "contain", action: `termination and stop protection on (now ${r.disableApiTermination} / ${r.disableApiStop}), shutdown behaviour stop (now ${r.shutdownBehavior}), volumes kept on termination` });
        if (f.autoScalingGroup) steps.push({ phase: "contain", action: `detach from Auto Scaling group ${f.autoScalingGroup} (capacity kept)` });
        if (f.targetGroups.length > 0) steps.push({ phase: "contain", action: `deregister from ${f.targetGroups.length} target group(s): ${f.targetGroups.join(", ")}` });
        steps.push({ phase: "contain", action: r.iamInstanceProfile ? `swap profile ${r.iamInstanceProfile.arn} for the capture profile; revoke the role's sessions issued before now` : "associate the capture profile (the instance has none)" });
        steps.push({ phase: "contain", action: `tag ${TAGS.status}=${TAGS.statusIsolated}, ${TAGS.caseId}` });
    }
    steps.push({ phase: "evidence", action: `snapshot ${r.volumes.length} EBS volume(s) in one crash-consistent set: ${r.volumes.map((v) => v.volumeId).join(", ") || "(none)"}`, ...(r.volumes.length === 0 ? { problem: "no EBS volume: disk evidence missing" } : {}) });
    const chosen = avmlBuildFor(r.architecture);
    const memoryProblem = r.platform === "windows" ? "Windows: avml cannot run, memory evidence missing"
        : "none" in chosen ? `no avml build for architecture ${chosen.architecture ?? "(not reported)"}: memory evidence missing`
        : f.ssm !== "Online" ? `SSM agent ${f.ssm}: memory evidence missing`
        : !f.avmlKey ? `no ${chosen.build} avml staged in the evidence bucket's tools/: memory evidence missing (avml-not-configured)`
        : skipContainment ? "evidence only: the instance keeps its own profile, which usually cannot write the memory image" : undefined;
    steps.push({ phase: "evidence", action: `memory image with avml (${f.avmlKey ?? "not staged"}) through SSM, streamed to the evidence bucket with its sha256`, ...(memoryProblem ? { problem: memoryProblem } : {}) });
    steps.push({ phase: "evidence", action: "metadata: instance, interfaces, console output, screenshot" });
    steps.push({ phase: "seal", action: "seal the manifest under Object Lock COMPLIANCE and notify" });
    return steps;
}

const attribute = (ec2: ReturnType<typeof client<"ec2">>, id: string, name: "disableApiTermination" | "disableApiStop" | "instanceInitiatedShutdownBehavior") =>
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: name }));

/** Read everything the plan needs (read-only calls). */
async function readFacts(ctx: AnalystContext, target: Target, bucket: string | undefined): Promise<PlanFacts> {
    const caller = ctx.sim ? ctx.sim.homeAccountId : (await client("sts", { region: ctx.region }).send(new GetCallerIdentityCommand({}))).Account;
    const where = instanceAccount(target, target.region, caller);
    const ec2 = client("ec2", where);
    const id = target.instanceId;
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })).catch((error: Error) => {
        if (/NotFound|Malformed/.test(error.name)) throw new UsageError(`instance ${id} does not exist in ${target.accountId} ${target.region}: the workflow would end FAILED (InstanceNotFoundError)`);
        throw error;
    });
    const instance = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
    if (!instance) throw new UsageError(`instance ${id} does not exist in ${target.accountId} ${target.region}: the workflow would end FAILED (InstanceNotFoundError)`);
    const [termination, stop, shutdown, associations, asg, ssm] = await Promise.all([
        attribute(ec2, id, "disableApiTermination"),
        attribute(ec2, id, "disableApiStop"),
        attribute(ec2, id, "instanceInitiatedShutdownBehavior"),
        ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "instance-id", Values: [id] }, { Name: "state", Values: ["associated"] }] })),
        client("autoscaling", where).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })),
        client("ssm", where).send(new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [id] }] })),
    ]);
    const record = buildInstanceRecord(instance, {
        disableApiTermination: termination.DisableApiTermination?.Value ?? false,
        disableApiStop: stop.DisableApiStop?.Value ?? false,
        shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value ?? "stop",
    }, associations.IamInstanceProfileAssociations?.find((a) => a.InstanceId === id));

    const elbv2 = client("elbv2", where);
    const groups = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    const targetGroups: string[] = [];
    for (const g of groups) {
        const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.TargetGroupArn }));
        if ((health.TargetHealthDescriptions ?? []).some((d) => d.Target?.Id === id)) targetGroups.push(g.TargetGroupName ?? g.TargetGroupArn ?? "?");
    }
    const tagged = async (role: string) => (await ec2.send(new DescribeSecurityGroupsCommand({
        Filters: [{ Name: "vpc-id", Values: [record.vpcId] }, { Name: `tag:${TAGS.role}`, Values: [role] }],
    }))).SecurityGroups?.[0]?.GroupId;
    const [isolationGroupId, untrackGroupId] = await Promise.all([tagged(TAGS.roleIsolation), tagged(TAGS.roleUntrack)]);
    let avmlKey: string | undefined;
    const chosen = avmlBuildFor(record.architecture);
    if (bucket && "build" in chosen) {
        // EvidenceStore's layout: tools/avml-<build>-<sha256 prefix>.
        const listed = await client("s3", { region: ctx.region }).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `tools/avml-${chosen.build}-` }));
        avmlKey = listed.Contents?.map((o) => o.Key as string).sort().pop();
    }
    const ping = ssm.InstanceInformationList?.find((i) => i.InstanceId === id)?.PingStatus;
    return {
        record,
        ...(asg.AutoScalingInstances?.[0]?.AutoScalingGroupName ? { autoScalingGroup: asg.AutoScalingInstances[0].AutoScalingGroupName } : {}),
        targetGroups,
        ssm: ping === "Online" ? "Online" : ping === undefined ? "not registered" : "ConnectionLost",
        ...(isolationGroupId ? { isolationGroupId } : {}),
        ...(untrackGroupId ? { untrackGroupId } : {}),
        ...(avmlKey ? { avmlKey } : {}),
    };
}

/** Dry run of the response to one finding event. `bucket`: the evidence bucket (to look for the staged avml). */
export async function planResponse(ctx: AnalystContext, event: unknown, options: { bucket?: string; minSeverity?: number; allowSamples?: boolean } = {}): Promise<PlanResult> {
    const verdict = triage(event, { minSeverity: options.minSeverity, allowSamples: options.allowSamples });
    if (verdict.decision !== "respond") return { verdict, steps: [{ phase: "triage", action: `ignore: ${verdict.reason}` }], wouldFail: [] };
    const target: Target = { accountId: verdict.accountId as string, region: verdict.region as string, instanceId: verdict.instanceId as string };
    const facts = await readFacts(ctx, target, options.bucket);
    const steps: PlanStep[] = [{ phase: "triage", action: `respond: ${verdict.reason}` }, ...planSteps(facts, verdict.evidenceOnly === true)];
    return { verdict, target, facts, steps, wouldFail: [...new Set(steps.flatMap((s) => (s.problem ? [s.problem] : [])))] };
}
