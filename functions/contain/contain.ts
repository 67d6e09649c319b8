/**
 * Containment of one EC2 instance, from the case record OpenCase built. Kept free of Lambda concerns so tests,
 * the handler and the drill drive it alike; SDK clients come from the factory (`functions/lib/aws.ts`), per
 * target, so cross-account works and the drill can attach its simulated account.
 *
 * What it does, and when (a "slot" is one round of AWS calls issued together; nothing here awaits one call
 * before issuing another it does not depend on):
 * - slot 1 (issued at once): every interface to the VPC's all-open "untrack" group (so established connections
 *   become untracked and the next change cuts them); termination and stop protection, shutdown behaviour `stop`,
 *   DeleteOnTermination=false on every volume (four ModifyInstanceAttribute calls: the API takes one attribute
 *   per call); DescribeAutoScalingInstances; DescribeTargetGroups (first page); GetInstanceProfile of the recorded
 *   profile; the instance profile swap to the capture profile.
 * - slot 2: every interface to the isolation group — each right after its own untrack change, all in parallel;
 *   DetachInstances (ShouldDecrementDesiredCapacity=false), further target group pages, the revocation policy.
 * - slot 3 and later: the `dfir:*` tags once every interface is isolated; target health and deregistration.
 * Later work never delays the isolation slot: the branches run concurrently and only the tags wait for it.
 *
 * Repeats (`case.isNew` false) and already-isolated instances re-assert everything idempotently; interfaces are
 * then changed only where the current state (re-read for a repeat: the case record holds the groups from before
 * the first containment, and re-applying the all-open group to an isolated interface would re-open it) is not
 * already the isolation group alone.
 *
 * Partial failure: when some interfaces do not reach the isolation group, everything else is still applied (the
 * protections, the detach and the revocation make the instance safer whatever the network state), the case id is
 * tagged, and then a {@link PartialContainmentError} carries every action. When EC2 answers a change with
 * IncorrectInstanceState / InvalidInstanceID.NotFound and the instance is confirmed gone, an
 * {@link InstanceTerminatedError} carries them instead.
 */
import {
    AssociateIamInstanceProfileCommand,
    CreateTagsCommand,
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstancesCommand,
    ModifyInstanceAttributeCommand,
    ModifyNetworkInterfaceAttributeCommand,
    ReplaceIamInstanceProfileAssociationCommand,
    type EC2Client,
    type ModifyInstanceAttributeCommandInput,
} from "@aws-sdk/client-ec2";
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from "@aws-sdk/client-auto-scaling";
import {
    DeregisterTargetsCommand,
    DescribeTargetGroupsCommand,
    DescribeTargetHealthCommand,
    type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetInstanceProfileCommand } from "@aws-sdk/client-iam";
import { TAGS } from "../../core/tags";
import type { ActionRecord, CaseOpened, ContainmentResult, InterfaceContainment } from "../../core/workflow";
import { assessedPaths, type InterfaceAssessment, type SuspectInterface } from "../../core/networkCut";
import { isInstanceAddressTarget, type AddressHolder } from "../../core/targets";
import { cutEstablishedFlows, removeEntries, type NetworkCutResult } from "./network";
import { assertAssumable, autoscalingClient, dynamodbClient, ec2Client, elbv2Client, iamClient } from "../lib/aws";
import {
    InstanceTerminatedError,
    NoIsolationGroupError,
    PartialContainmentError,
    UnsupportedNetworkLayoutError,
    errorText,
    type InterfaceFailure,
} from "../lib/containmentErrors";
import type { ContainEvent } from "./event";
import { partitionOf } from "../../core/containmentPolicies";
import { addInstance, revocationPolicyName } from "../../core/revocation";
import { readRevocation, revocationLockKey, withRevocationLock, writeRevocation } from "./revocation";
import type { ContainSettings } from "./settings";
import { now as clockNow } from "../lib/clock";

/**
 * EC2 error names that, on a change, mean the instance may be gone (confirmed with one DescribeInstances). An
 * interface that vanished mid-run is one: interfaces are deleted with their instance (delete on termination).
 */
export const TERMINATION_SIGNALS = new Set(["IncorrectInstanceState", "InvalidInstanceID.NotFound", "InvalidNetworkInterfaceID.NotFound"]);
/** States in which there is nothing left to contain. */
const GONE_STATES = new Set(["terminated", "shutting-down"]);
/** ASG lifecycle states in which DetachInstances is pointless or refused. */
const NO_DETACH_STATES = new Set(["Detaching", "Detached"]);

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * The action log of one run. Every AWS change is recorded when its answer arrives (ok or not); reads are
 * recorded only when they fail (then the change they lead to could not be made). Notes (`dfir:*` actions)
 * record what configuration made the run skip.
 */
class ActionLog {
    readonly records: ActionRecord[] = [];
    /** First EC2 error suggesting the instance is gone, if any. */
    terminationSignal?: string;

    constructor(private readonly now: () => Date) {}

    at(): string {
        return this.now().toISOString();
    }

    note(action: string, target: string, detail: string): void {
        this.records.push({ action, target, at: this.at(), ok: true, detail });
    }

    /** Issue a change now (synchronously: the request leaves before this returns) and record its answer. */
    async change<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<Outcome<T>> {
        try {
            const value = await send();
            this.records.push({ action, target, at: this.at(), ok: true, detail });
            return { ok: true, value };
        } catch (error) {
            this.failed(action, target, detail, error);
            return { ok: false, error };
        }
    }

    /** Issue a read now; record it only if it fails. */
    async read<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<Outcome<T>> {
        try {
            return { ok: true, value: await send() };
        } catch (error) {
            this.failed(action, target, detail, error);
            return { ok: false, error };
        }
    }

    /** Record a failure unless this very error is already recorded (a step inside a larger action failed). */
    failedUnlessLogged(action: string, target: string, detail: string, error: unknown): void {
        if (typeof error === "object" && error !== null && this.logged.has(error)) return;
        this.failed(action, target, detail, error);
    }

    private readonly logged = new WeakSet<object>();

    private failed(action: string, target: string, detail: string, error: unknown): void {
        if (error instanceof Error && TERMINATION_SIGNALS.has(error.name)) this.terminationSignal ??= error.name;
        if (typeof error === "object" && error !== null) this.logged.add(error);
        this.records.push({ action, target, at: this.at(), ok: false, detail, error: errorText(error) });
    }
}

/** The network state containment decides from: the case record (new case) or a fresh read (repeat). */
interface NetworkState {
    interfaces: Array<{ id: string; groups: string[]; vpcId: string; subnetId?: string; ipv4: string[]; ipv6: string[]; publicIp?: string }>;
    tags: Record<string, string>;
    association?: { arn: string; associationId: string };
    /** Set when the instance is gone ("terminated", "shutting-down", "not-found"). */
    gone?: string;
}

interface NetworkOutcome {
    isolated: string[];
    notIsolated: InterfaceFailure[];
    /** Interfaces in a VPC the deployment did not prepare (no isolation group there): left as they are, recorded. */
    unprepared: Array<{ id: string; vpcId: string }>;
    /** Interfaces this run changed (0: nothing to do). */
    changed: number;
    isolatedAt?: string;
    alreadyIsolated: boolean;
}

/**
 * Contains the case's instance (see the module comment for the order of calls) and returns every action.
 * Throws, before any change: NoIsolationGroupError, UnsupportedNetworkLayoutError, CrossAccountRoleError; after
 * changes: PartialContainmentError, InstanceTerminatedError (both carrying `actions`).
 */
export async function containCase(event: ContainEvent, settings: ContainSettings): Promise<ContainmentResult> {
    const c: CaseOpened = event.case;
    const { target, instance: record, caseId } = c;
    const instanceId = target.instanceId;
    const context = { instanceId, caseId };
    const now = settings.now ?? clockNow;
    const log = new ActionLog(now);

    if (c.skipContainment) {
        log.note(
            "dfir:SkipContainment",
            instanceId,
            `${c.skipReason ?? `instance tagged ${TAGS.skip}=true`}: evidence only, no containment change made`,
        );
        return { caseId, instanceId, status: "skipped", reason: c.skipReason ?? `${TAGS.skip}=true`, actions: log.records };
    }

    // Everything that can refuse the case is checked before any change.
    if (record.vpcId === "") throw new UnsupportedNetworkLayoutError(context, "the case record has no VPC id");
    if (record.networkInterfaces.length === 0) {
        throw new UnsupportedNetworkLayoutError(context, "the case record lists no network interface");
    }
    const vpcId = record.vpcId;
    // Security groups belong to one VPC: each interface gets its own VPC's isolation (and untrack) group. An
    // interface from a VPC the deployment did not prepare is recorded and left; with none prepared, nothing starts.
    const groupsOf = (vpc: string): { isolation?: string; untrack?: string } => {
        const isolation = Object.hasOwn(settings.isolationGroups, vpc) ? settings.isolationGroups[vpc] : undefined;
        const untrack = Object.hasOwn(settings.untrackGroups, vpc) ? settings.untrackGroups[vpc] : undefined;
        return { ...(isolation ? { isolation } : {}), ...(untrack && untrack !== isolation ? { untrack } : {}) };
    };
    const recordedVpcs = [...new Set([vpcId, ...record.networkInterfaces.map((eni) => eni.vpcId ?? vpcId)])];
    if (!recordedVpcs.some((vpc) => groupsOf(vpc).isolation !== undefined)) throw new NoIsolationGroupError(context, vpcId);
    const isolationGroupId = groupsOf(vpcId).isolation;
    const untrackGroupId = groupsOf(vpcId).untrack;
    const captureProfileArn = settings.captureProfileArn
        ? inAccount(settings.captureProfileArn, target.accountId)
        : undefined;
    // A missing member role ends here with a CrossAccountRoleError naming it, not in a record of failed calls.
    if (target.roleArn) await assertAssumable(target);

    const where = { region: target.region, roleArn: target.roleArn };
    const ec2 = ec2Client(where);
    const autoscaling = autoscalingClient(where);
    const elbv2 = elbv2Client(where);
    const iam = iamClient(where);

    // A new case's record was read moments ago by OpenCase: use it, no read before the first change.
    const state: Promise<NetworkState> = c.isNew
        ? Promise.resolve(stateFromRecord(c))
        : readCurrentState(ec2, instanceId);
    // Observed here so a failed read never becomes an unhandled rejection while the other branches run.
    const stateOutcome = state.then(
        (value): Outcome<NetworkState> => ({ ok: true, value }),
        (error): Outcome<NetworkState> => ({ ok: false, error }),
    );

    const network = state.then(async (s) => {
        if (s.gone !== undefined) return undefined;
        const outcome = await isolateInterfaces(s);
        await tagInstance(s, outcome);
        return outcome;
    });
    // The network ACL rules (functions/contain/network.ts): reads with the first change, rules with the isolation.
    const cut = state.then((s) => (s.gone === undefined ? cutFlows(s) : undefined));
    const swap = state.then((s) => (s.gone === undefined ? swapProfile(s) : undefined));
    const branches = [
        network,
        cut,
        swap,
        protect(),
        detachFromAutoScaling(),
        deregisterFromTargetGroups(),
        revokeSessions(swap),
    ];
    await Promise.allSettled(branches);

    const current = await stateOutcome;
    if (!current.ok) throw current.error;
    const flowsCut = await cut.catch((error: unknown): NetworkCutResult => {
        // A failed action (the case is PARTIAL); its interfaces are recorded not assessed, so possibly open.
        log.failedUnlessLogged("dfir:CutEstablishedFlows", instanceId, "network ACL rules cutting the established flows", error);
        return { entries: [], interfaces: [], forensicProblems: [] };
    });
    // The deny went in but the SSM channel's allow did not: the memory capture may not reach the instance.
    for (const problem of flowsCut?.forensicProblems ?? []) {
        log.failedUnlessLogged("dfir:KeepForensicChannel", problem.split(":")[0] as string, "the SSM channel's allow rule beside the deny", new Error(problem));
    }
    const gone = current.value.gone ?? (await confirmGone());
    if (gone !== undefined) {
        // The addresses go back to the pool with the instance: rules naming them would block whoever gets them next.
        if (flowsCut && flowsCut.entries.length > 0) await removeEntries(ec2, flowsCut.entries, log);
        throw new InstanceTerminatedError(context, gone, log.records);
    }
    const outcome = await network;
    if (outcome === undefined) throw new Error("unreachable: network branch skipped on a present instance");
    const interfaces = interfaceRecords(current.value, outcome, flowsCut?.interfaces ?? []);
    const networkAclEntries = flowsCut?.entries ?? [];
    if (outcome.notIsolated.length > 0) {
        throw new PartialContainmentError(context, {
            isolationGroupId: isolationGroupId ?? "",
            ...(untrackGroupId ? { untrackGroupId } : {}),
            isolated: outcome.isolated,
            notIsolated: outcome.notIsolated,
            actions: log.records,
            interfaces,
            networkAclEntries,
        });
    }
    const result: ContainmentResult = {
        caseId,
        instanceId,
        status: outcome.alreadyIsolated ? "already-isolated" : "isolated",
        ...(isolationGroupId ? { isolationGroupId } : {}),
        actions: log.records,
        interfaces,
        networkAclEntries,
    };
    if (untrackGroupId) result.untrackGroupId = untrackGroupId;
    if (outcome.isolatedAt !== undefined) result.isolatedAt = outcome.isolatedAt;
    return result;

    /** Every interface's record: its VPC and group, isolated or not, and its paths (open ones make the case PARTIAL). */
    function interfaceRecords(s: NetworkState, o: NetworkOutcome, assessed: InterfaceAssessment[]): InterfaceContainment[] {
        return s.interfaces.map((eni) => {
            const group = groupsOf(eni.vpcId).isolation;
            const isolated = o.isolated.includes(eni.id);
            const paths = group === undefined ? [] : assessedPaths(assessed, eni.id);
            const all = group === undefined
                ? [{ path: "not-isolated", open: true, reason: `its VPC ${eni.vpcId} was not prepared by the deployment (no isolation group in ISOLATION_GROUPS): its groups and network ACLs are as they were` }, ...paths]
                : isolated ? paths : [{ path: "not-isolated", open: true, reason: "not moved into the isolation group" }, ...paths];
            return {
                networkInterfaceId: eni.id,
                vpcId: eni.vpcId,
                ...(eni.subnetId ? { subnetId: eni.subnetId } : {}),
                ...(group ? { isolationGroupId: group } : {}),
                isolated,
                possiblyOpen: all.some((p) => p.open),
                paths: all,
            };
        });
    }

    /**
     * Network ACL rules that cut the established flows of the interfaces in prepared VPCs (an old record without
     * addresses is completed by one DescribeInstances first).
     */
    async function cutFlows(s: NetworkState): Promise<NetworkCutResult> {
        const known = s.interfaces.every((eni) => eni.subnetId !== undefined && eni.ipv4.length > 0);
        const full = known ? s : await readCurrentState(ec2, instanceId);
        const suspects: SuspectInterface[] = full.interfaces
            .filter((eni) => groupsOf(eni.vpcId).isolation !== undefined && eni.subnetId !== undefined)
            .map((eni) => ({
                networkInterfaceId: eni.id,
                vpcId: eni.vpcId,
                subnetId: eni.subnetId as string,
                ipv4: eni.ipv4,
                ipv6: eni.ipv6,
                ...(eni.publicIp ? { publicIpv4: eni.publicIp } : {}),
            }));
        if (suspects.length === 0) return { entries: [], interfaces: [], forensicProblems: [] };
        return cutEstablishedFlows(ec2, suspects, log);
    }

    /**
     * Untrack then isolate every interface not already isolated, each with its own VPC's groups; per interface in
     * order, across them in parallel. Interfaces of unprepared VPCs are left and recorded.
     */
    async function isolateInterfaces(s: NetworkState): Promise<NetworkOutcome> {
        const unprepared = s.interfaces.filter((eni) => groupsOf(eni.vpcId).isolation === undefined).map((eni) => ({ id: eni.id, vpcId: eni.vpcId }));
        const preparable = s.interfaces.filter((eni) => groupsOf(eni.vpcId).isolation !== undefined);
        const toChange = preparable.filter((eni) => !isOnlyIn(eni.groups, groupsOf(eni.vpcId).isolation as string));
        const isolated = preparable.filter((eni) => isOnlyIn(eni.groups, groupsOf(eni.vpcId).isolation as string)).map((eni) => eni.id);
        for (const vpc of new Set(toChange.map((eni) => eni.vpcId))) {
            if (groupsOf(vpc).untrack !== undefined) continue;
            log.note(
                "dfir:CutConnectionTracking",
                vpc,
                `not done: no untrack group for ${vpc} in UNTRACK_GROUPS; established (tracked) connections may survive isolation`,
            );
        }
        for (const { id, vpcId: vpc } of unprepared) {
            log.note("dfir:IsolateInterface", id, `not done: ${vpc} has no isolation group in ISOLATION_GROUPS (the deployment did not prepare that VPC)`);
        }
        const results = await Promise.all(
            toChange.map(async (eni) => {
                const previous = eni.groups.join(",") || "none";
                const { isolation, untrack } = groupsOf(eni.vpcId) as { isolation: string; untrack?: string };
                if (untrack !== undefined && !isOnlyIn(eni.groups, untrack)) {
                    // Isolation follows whatever the answer: an isolated interface with tracked flows beats an open one.
                    await log.change(
                        "ec2:ModifyNetworkInterfaceAttribute",
                        eni.id,
                        `untrack group ${untrack} (previous groups ${previous})`,
                        () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [untrack] })),
                    );
                }
                const moved = await log.change(
                    "ec2:ModifyNetworkInterfaceAttribute",
                    eni.id,
                    `isolation group ${isolation}`,
                    () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [isolation] })),
                );
                return { id: eni.id, moved };
            }),
        );
        const notIsolated: InterfaceFailure[] = [];
        for (const { id, moved } of results) {
            if (moved.ok) isolated.push(id);
            else notIsolated.push({ networkInterfaceId: id, error: errorText(moved.error) });
        }
        const statusTagged = s.tags[TAGS.status] === TAGS.statusIsolated;
        const alreadyIsolated = toChange.length === 0 && unprepared.length === 0 && statusTagged;
        const outcome: NetworkOutcome = { isolated, notIsolated, unprepared, changed: toChange.length, alreadyIsolated };
        if (notIsolated.length === 0) {
            outcome.isolatedAt = alreadyIsolated ? (s.tags[TAGS.isolatedAt] ?? log.at()) : log.at();
        }
        return outcome;
    }

    /**
     * The `dfir:*` tags, only once the outcome is known. Complete isolation: case id, status and time on the
     * instance, and the same on its interfaces in a second call issued with it (the guard-rail policy keys off
     * the interfaces' tags too; separate, so a missing permission on interfaces never costs the instance's tags).
     * Partial: the case id only, on the instance — the status tag is reserved for complete isolation. Nothing
     * when already tagged.
     */
    async function tagInstance(s: NetworkState, outcome: NetworkOutcome): Promise<void> {
        if (outcome.alreadyIsolated) return;
        const complete = outcome.notIsolated.length === 0 && outcome.unprepared.length === 0;
        const tags = complete
            ? [
                  { Key: TAGS.caseId, Value: caseId },
                  { Key: TAGS.status, Value: TAGS.statusIsolated },
                  { Key: TAGS.isolatedAt, Value: outcome.isolatedAt ?? log.at() },
              ]
            : [{ Key: TAGS.caseId, Value: caseId }];
        const detail = tags.map((t) => `${t.Key}=${t.Value}`).join(" ");
        const interfaces = complete ? s.interfaces.map((eni) => eni.id) : [];
        await Promise.all([
            log.change("ec2:CreateTags", instanceId, detail, () =>
                ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags })),
            ),
            ...(interfaces.length > 0
                ? [
                      log.change("ec2:CreateTags", interfaces.join(","), detail, () =>
                          ec2.send(new CreateTagsCommand({ Resources: interfaces, Tags: tags })),
                      ),
                  ]
                : []),
        ]);
    }

    /**
     * Termination and stop protection, shutdown behaviour `stop`, volumes kept on termination. On a Spot instance EC2
     * refuses both protections ("You can't enable termination protection for Spot Instances", likewise stop
     * protection: EC2 User Guide): sent all the same, the refusal is the record, and the case is PARTIAL, since a
     * Spot instance can still be interrupted.
     */
    async function protect(): Promise<void> {
        // The Attribute + Value form: it sets `ec2:Attribute`, which Contain's policy allows only for these three.
        const changes: Array<[string, Omit<ModifyInstanceAttributeCommandInput, "InstanceId">]> = [
            [`DisableApiTermination=true (recorded ${record.disableApiTermination})`, { Attribute: "disableApiTermination", Value: "true" }],
            [`DisableApiStop=true (recorded ${record.disableApiStop})`, { Attribute: "disableApiStop", Value: "true" }],
            [
                `InstanceInitiatedShutdownBehavior=stop (recorded ${record.shutdownBehavior})`,
                { Attribute: "instanceInitiatedShutdownBehavior", Value: "stop" },
            ],
        ];
        if (record.volumes.length > 0) {
            changes.push([
                `DeleteOnTermination=false for ${record.volumes.map((v) => `${v.volumeId} (${v.deviceName})`).join(", ")}`,
                {
                    BlockDeviceMappings: record.volumes.map((v) => ({
                        DeviceName: v.deviceName,
                        Ebs: { DeleteOnTermination: false },
                    })),
                },
            ]);
        }
        await Promise.all(
            changes.map(([detail, input]) =>
                log.change("ec2:ModifyInstanceAttribute", instanceId, detail, () =>
                    ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, ...input })),
                ),
            ),
        );
    }

    /** Out of its Auto Scaling group (which would otherwise replace or terminate it), keeping capacity. */
    async function detachFromAutoScaling(): Promise<void> {
        const found = await log.read("autoscaling:DescribeAutoScalingInstances", instanceId, "Auto Scaling membership", () =>
            autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })),
        );
        if (!found.ok) return;
        const membership = (found.value.AutoScalingInstances ?? []).find((i) => i.InstanceId === instanceId);
        if (membership?.AutoScalingGroupName === undefined) return;
        const group = membership.AutoScalingGroupName;
        const lifecycle = membership.LifecycleState ?? "unknown";
        if (NO_DETACH_STATES.has(lifecycle)) return;
        await log.change(
            "autoscaling:DetachInstances",
            group,
            `${instanceId} (lifecycle ${lifecycle}), ShouldDecrementDesiredCapacity=false`,
            () =>
                autoscaling.send(
                    new DetachInstancesCommand({
                        AutoScalingGroupName: group,
                        InstanceIds: [instanceId],
                        ShouldDecrementDesiredCapacity: false,
                    }),
                ),
        );
    }

    /**
     * Out of every target group it is registered in (with the ports it is registered on). DescribeTargetHealth
     * with a Targets filter also answers for groups the instance is not in (state `unused`, reason
     * `Target.NotRegistered`): registered means any other reason. `unused` alone is not "not registered" (a
     * registered target of a group no load balancer uses is `unused`/`Target.NotInUse` and must still go), and a
     * `draining` target is already being deregistered.
     *
     * Target groups of type `ip` hold addresses, not the instance id ("If the target type is ip, specify an IP
     * address": ELBv2 API, TargetDescription), possibly from another VPC (then with an Availability Zone, which
     * deregistration must repeat): every `ip` group is read whole and the instance's private addresses taken out.
     * DeregisterTargets "returns successfully" for a target that does not exist (ELBv2 API Reference, DeregisterTargets), so an `ip` deregistration is read
     * back, and a target still registered afterwards is a failed action.
     */
    async function deregisterFromTargetGroups(): Promise<void> {
        const groups: TargetGroup[] = [];
        let marker: string | undefined;
        do {
            const page = await log.read("elasticloadbalancing:DescribeTargetGroups", instanceId, "target groups", () =>
                elbv2.send(new DescribeTargetGroupsCommand(marker ? { Marker: marker } : {})),
            );
            if (!page.ok) return;
            groups.push(...(page.value.TargetGroups ?? []));
            marker = page.value.NextMarker;
        } while (marker);
        // Instance-type groups of the instance's VPC can hold it by id; ip-type groups of any VPC by address.
        const byId = groups.filter(
            (g) => g.TargetGroupArn && (g.TargetType ?? "instance") === "instance" && (g.VpcId ?? vpcId) === vpcId,
        );
        const byAddress = groups.filter((g) => g.TargetGroupArn && g.TargetType === "ip");
        const holders: AddressHolder[] = record.networkInterfaces.map((eni) => ({ vpcId: eni.vpcId ?? vpcId, addresses: [...(eni.privateIpAddresses ?? []), ...eni.ipv6Addresses] }));
        const hasAddresses = holders.some((h) => h.addresses.length > 0);
        await Promise.all([
            ...byId.map(async (g) => {
                const arn = g.TargetGroupArn as string;
                const health = await log.read("elasticloadbalancing:DescribeTargetHealth", arn, `registration of ${instanceId}`, () =>
                    elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: instanceId }] })),
                );
                if (!health.ok) return;
                const registered = (health.value.TargetHealthDescriptions ?? []).filter(
                    (d) =>
                        d.Target?.Id === instanceId &&
                        d.TargetHealth?.Reason !== "Target.NotRegistered" &&
                        d.TargetHealth?.State !== "draining",
                );
                if (registered.length === 0) return;
                const targets = registered.map((d) => ({ Id: instanceId, ...(d.Target?.Port !== undefined ? { Port: d.Target.Port } : {}) }));
                await log.change(
                    "elasticloadbalancing:DeregisterTargets",
                    arn,
                    `${instanceId} port(s) ${targets.map((t) => t.Port ?? "default").join(",")}`,
                    () => elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: targets })),
                );
            }),
            ...(!hasAddresses ? [] : byAddress.map((g) => deregisterAddresses(g.TargetGroupArn as string, g.VpcId, holders))),
        ]);
    }

    /** The instance's addresses out of one `ip` target group (core/targets.ts decides which), read back to confirm. */
    async function deregisterAddresses(arn: string, groupVpcId: string | undefined, holders: readonly AddressHolder[]): Promise<void> {
        const registeredIn = async () => {
            const health = await log.read("elasticloadbalancing:DescribeTargetHealth", arn, `addresses of ${instanceId}`, () =>
                elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
            );
            if (!health.ok) return undefined;
            return (health.value.TargetHealthDescriptions ?? []).filter(
                (d) => d.Target?.Id !== undefined && d.TargetHealth?.State !== "draining"
                    && isInstanceAddressTarget(groupVpcId, { id: d.Target.Id, ...(d.Target.AvailabilityZone ? { availabilityZone: d.Target.AvailabilityZone } : {}) }, holders),
            );
        };
        const registered = await registeredIn();
        if (!registered || registered.length === 0) return;
        const targets = registered.map((d) => ({
            Id: d.Target?.Id as string,
            ...(d.Target?.Port !== undefined ? { Port: d.Target.Port } : {}),
            ...(d.Target?.AvailabilityZone !== undefined ? { AvailabilityZone: d.Target.AvailabilityZone } : {}),
        }));
        const detail = `${instanceId}: ${targets.map((t) => `${t.Id}:${t.Port ?? "default"}`).join(", ")}`;
        const sent = await log.change("elasticloadbalancing:DeregisterTargets", arn, detail, () =>
            elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: targets })),
        );
        if (!sent.ok) return;
        const still = await registeredIn();
        if (still && still.length > 0) {
            log.failedUnlessLogged("dfir:ConfirmDeregistered", arn, detail, new Error(`still registered after DeregisterTargets: ${still.map((d) => `${d.Target?.Id}:${d.Target?.Port}`).join(", ")}`));
        }
    }

    /** The capture profile replaces (or, without one, becomes) the instance's profile. */
    async function swapProfile(s: NetworkState): Promise<void> {
        if (captureProfileArn === undefined) {
            log.note(
                "dfir:SwapInstanceProfile",
                instanceId,
                "not done: no capture profile configured (CAPTURE_PROFILE_ARN); the instance keeps its role and can obtain new sessions of it",
            );
            return;
        }
        const association = s.association;
        if (association?.arn === captureProfileArn) return;
        if (association) {
            await log.change(
                "ec2:ReplaceIamInstanceProfileAssociation",
                association.associationId,
                `capture profile ${captureProfileArn} (was ${association.arn})`,
                () =>
                    ec2.send(
                        new ReplaceIamInstanceProfileAssociationCommand({
                            AssociationId: association.associationId,
                            IamInstanceProfile: { Arn: captureProfileArn },
                        }),
                    ),
            );
        } else {
            await log.change("ec2:AssociateIamInstanceProfile", instanceId, `capture profile ${captureProfileArn} (had none)`, () =>
                ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: captureProfileArn } })),
            );
        }
    }

    /**
     * Deny every session of the recorded profile's role(s) issued to this instance before now, in each role's one
     * revocation policy (core/revocation.ts; under the role's lock in the case table when CASES_TABLE is set). The
     * time is taken once the swap has answered, so old-role sessions the instance could still obtain before the
     * swap are covered; the profile read runs concurrently with the swap, so this costs no extra round. A failure is
     * one failed action of the record (the case is then PARTIAL), never only a log line.
     */
    async function revokeSessions(swapDone: Promise<unknown>): Promise<void> {
        const original = record.iamInstanceProfile;
        if (original === undefined || original.arn === captureProfileArn) return;
        const profileName = original.arn.slice(original.arn.lastIndexOf("/") + 1);
        const [profile] = await Promise.all([
            log.read("iam:GetInstanceProfile", original.arn, "roles to revoke", () =>
                iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName })),
            ),
            swapDone.catch(() => undefined),
        ]);
        if (!profile.ok) return;
        const roles = profile.value.InstanceProfile?.Roles ?? [];
        const issuedBefore = now();
        const detail = `deny the sessions of ${instanceId} issued before ${issuedBefore.toISOString()}`;
        await Promise.all(
            roles.map(async (role) => {
                const roleName = role.RoleName;
                if (!roleName) return;
                const ref = { partition: partitionOf(target.region), accountId: target.accountId, roleName };
                const work = async (assertHeld?: () => void) => {
                    const current = await readRevocation(iam, log, ref);
                    const groups = addInstance(current.groups, instanceId, issuedBefore, now());
                    await writeRevocation(iam, log, ref, current, groups, `${revocationPolicyName(roleName)}: ${detail}`, assertHeld ? { assertHeld } : {});
                };
                try {
                    if (settings.revocationLock) {
                        // The case table is the function's own (the hub's), whatever account the instance is in.
                        const { table, region, ...clock } = settings.revocationLock;
                        const dynamodb = dynamodbClient({ region: region ?? target.region });
                        const lock = { dynamodb, table, holder: caseId, ...clock };
                        await withRevocationLock(lock, revocationLockKey(target.accountId, roleName), work);
                    } else {
                        await work();
                    }
                } catch (error) {
                    log.failedUnlessLogged("dfir:RevokeSessions", role.Arn ?? roleName, detail, error);
                }
            }),
        );
    }

    /** After an EC2 termination signal: is the instance really gone? One DescribeInstances decides. */
    async function confirmGone(): Promise<string | undefined> {
        if (log.terminationSignal === undefined) return undefined;
        try {
            const current = await readCurrentState(ec2, instanceId);
            return current.gone;
        } catch {
            // EC2 said the instance does not exist and cannot be read now: believe it.
            return log.terminationSignal === "InvalidInstanceID.NotFound" ? "not-found" : undefined;
        }
    }
}

/** The network state recorded when the case opened. */
function stateFromRecord(c: CaseOpened): NetworkState {
    const s: NetworkState = {
        interfaces: c.instance.networkInterfaces.map((eni) => ({
            id: eni.networkInterfaceId,
            groups: eni.groups,
            vpcId: eni.vpcId ?? c.instance.vpcId,
            // Older records name only the primary interface's subnet.
            ...(eni.subnetId ?? (eni.deviceIndex === 0 ? c.instance.subnetId : undefined) ? { subnetId: eni.subnetId ?? c.instance.subnetId } : {}),
            ipv4: eni.privateIpAddresses ?? [],
            ipv6: eni.ipv6Addresses,
            ...(eni.publicIp ? { publicIp: eni.publicIp } : {}),
        })),
        tags: c.instance.tags,
    };
    if (c.instance.iamInstanceProfile) s.association = c.instance.iamInstanceProfile;
    return s;
}

/** The instance as it is now (a repeat: the record holds the groups from before the first containment). */
async function readCurrentState(ec2: EC2Client, instanceId: string): Promise<NetworkState> {
    const [described, associations] = await Promise.all([
        ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })).catch((error: unknown) => {
            if (error instanceof Error && error.name === "InvalidInstanceID.NotFound") return undefined;
            throw error;
        }),
        ec2
            .send(
                new DescribeIamInstanceProfileAssociationsCommand({
                    Filters: [
                        { Name: "instance-id", Values: [instanceId] },
                        { Name: "state", Values: ["associated"] },
                    ],
                }),
            ),
    ]);
    const instance = (described?.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .find((i) => i.InstanceId === instanceId);
    if (instance === undefined) return { interfaces: [], tags: {}, gone: "not-found" };
    const stateName = instance.State?.Name;
    if (stateName !== undefined && GONE_STATES.has(stateName)) return { interfaces: [], tags: {}, gone: stateName };
    const state: NetworkState = {
        interfaces: (instance.NetworkInterfaces ?? []).flatMap((eni) =>
            eni.NetworkInterfaceId
                ? [{
                      id: eni.NetworkInterfaceId,
                      groups: (eni.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
                      vpcId: eni.VpcId ?? instance.VpcId ?? "",
                      ...(eni.SubnetId ? { subnetId: eni.SubnetId } : {}),
                      ipv4: (eni.PrivateIpAddresses ?? []).flatMap((a) => (a.PrivateIpAddress ? [a.PrivateIpAddress] : [])),
                      ipv6: (eni.Ipv6Addresses ?? []).flatMap((a) => (a.Ipv6Address ? [a.Ipv6Address] : [])),
                      ...(eni.Association?.PublicIp ? { publicIp: eni.Association.PublicIp } : {}),
                  }]
                : [],
        ),
        tags: Object.fromEntries((instance.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? ""]] : []))),
    };
    const association = associations.IamInstanceProfileAssociations?.find((a) => a.InstanceId === instanceId);
    if (association?.AssociationId && association.IamInstanceProfile?.Arn) {
        state.association = { arn: association.IamInstanceProfile.Arn, associationId: association.AssociationId };
    }
    return state;
}

function isOnlyIn(groups: readonly string[], securityGroupId: string): boolean {
    return groups.length === 1 && groups[0] === securityGroupId;
}

/**
 * The capture profile in the instance's account: an instance profile can only be associated with instances of
 * its own account, so a multi-account deployment creates it under the same name in every member account (like
 * the responder role) and CAPTURE_PROFILE_ARN names one of them.
 */
export function inAccount(profileArn: string, accountId: string): string {
    return profileArn.replace(/^(arn:[^:]+:iam::)\d{12}(:)/, `$1${accountId}$2`);
}
