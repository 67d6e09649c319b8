/**
 * `dfir release CASE [--yes]`: undo containment from the state recorded when the case opened — original groups on
 * every interface, the original instance profile, termination / stop protection, shutdown behaviour and volume
 * delete-on-termination as they were, tags `dfir:status=released` — and record it: a release record under Object
 * Lock beside the manifest, the case item updated, the open-case lock removed. The evidence stays locked.
 *
 * The instance leaves its roles' revocation policies (core/revocation.ts; edited under the same lock as Contain):
 * removed once no credential issued before containment can still be valid ({@link REVOCATION_HOLD_HOURS} after
 * isolation); before that it keeps a statement of its own with exactly its containment time as cutoff, so the
 * sessions its restored profile now gets are not denied while the old ones still are (pruned by itself later). Auto Scaling and target-group membership is
 * not restored: putting a once-compromised instance back behind a load balancer is a human decision.
 *
 * The network ACL rules the case put to cut the instance's established flows (recorded in the sealed manifest, also
 * when containment failed part-way, and on the case item) are removed: exactly those, each only while the ACL
 * still holds that very rule (a rule someone replaced since is left, and said). They are removed even when the
 * instance is gone: its addresses return to the pool, and a rule naming them would block whoever gets them next.
 *
 * Refuses (exit 2, nothing changed) without a sealed case record. Without `--yes` it prints the plan and changes
 * nothing. `planRelease` is the pure decision; `release` reads, applies and records.
 */
import { DeleteItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
    CreateTagsCommand,
    DeleteNetworkAclEntryCommand,
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstanceAttributeCommand,
    DescribeInstancesCommand,
    DisassociateIamInstanceProfileCommand,
    ModifyInstanceAttributeCommand,
    ModifyNetworkInterfaceAttributeCommand,
    ReplaceIamInstanceProfileAssociationCommand,
    type Instance,
} from "@aws-sdk/client-ec2";
import { GetInstanceProfileCommand } from "@aws-sdk/client-iam";
import { GetObjectRetentionCommand } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { partitionOf } from "../core/containmentPolicies";
import { releaseInstance, REVOCATION_HOLD_HOURS, revocationPolicyArn } from "../core/revocation";
import { readRevocation, revocationLockKey, UNRECORDED_STEPS, withRevocationLock, writeRevocation } from "../functions/contain/revocation";
import type { Manifest } from "../core/manifest";
import { TAGS } from "../core/tags";
import type { InstanceRecord, NetworkAclEntryRecord, Target } from "../core/workflow";
import { sameEntry, type AclEntry } from "../core/networkCut";
import { describeAcls } from "../functions/contain/network";
import { caseKey } from "../functions/case/openCase";
import { client } from "../functions/lib/aws";
import { putLockedObject } from "../functions/lib/evidence";
import { instanceAccount, UsageError, type AnalystContext } from "./context";
import { readCaseRecord, readSealedManifest } from "./verify";

export { REVOCATION_HOLD_HOURS };

/** One change release makes (or would make), in order. */
export type ReleaseStep =
    | { kind: "groups"; networkInterfaceId: string; from: string[]; to: string[] }
    | { kind: "profile"; associationId: string; from: string; to: string }
    | { kind: "profile-removed"; associationId: string; from: string }
    | { kind: "attribute"; attribute: "disableApiTermination" | "disableApiStop" | "shutdownBehavior"; to: boolean | string }
    | { kind: "delete-on-termination"; volumes: { deviceName: string; volumeId: string; deleteOnTermination: boolean }[] }
    /** Out of the role's revocation policy; with `keepUntil`, into a statement of its own until then. */
    | { kind: "revocation"; roleName: string; policyArn: string; keepUntil?: string }
    | { kind: "network-acl-entry"; entry: NetworkAclEntryRecord }
    | { kind: "network-acl-entry-kept"; entry: NetworkAclEntryRecord; why: string }
    | { kind: "tags"; tags: Record<string, string> };

/** A network ACL rule as it is now (DescribeNetworkAcls), for comparison with the one the case recorded. */
export type CurrentAclEntry = AclEntry & { networkAclId: string };

/**
 * The steps that remove the network ACL rules the case put: each recorded rule still in its ACL exactly as put is
 * removed; one whose number now holds another rule is kept (someone replaced it); one already gone needs nothing.
 * Pure.
 */
export function planAclRemoval(recorded: readonly NetworkAclEntryRecord[], current: readonly CurrentAclEntry[]): ReleaseStep[] {
    return recorded.flatMap((entry): ReleaseStep[] => {
        const now = current.find((c) => c.networkAclId === entry.networkAclId && c.egress === entry.egress && c.ruleNumber === entry.ruleNumber);
        if (!now) return [];
        const cidr = (e: { cidrBlock?: string; ipv6CidrBlock?: string }) => e.cidrBlock ?? e.ipv6CidrBlock ?? "";
        return sameEntry(now, entry)
            ? [{ kind: "network-acl-entry", entry }]
            : [{ kind: "network-acl-entry-kept", entry, why: `rule ${entry.ruleNumber} now ${now.ruleAction === "deny" ? "denies" : "allows"} ${now.protocol === "-1" ? "all" : `protocol ${now.protocol}`} ${now.egress ? "to" : "from"} ${cidr(now)}: not the rule this case put` }];
    });
}

/** The instance as it is now, as far as release needs it. */
export interface CurrentInstance {
    state: string;
    interfaces: { networkInterfaceId: string; groups: string[] }[];
    profile?: { arn: string; associationId: string };
    disableApiTermination?: boolean;
    disableApiStop?: boolean;
    shutdownBehavior?: string;
    /** DeleteOnTermination of each attached volume, by device name. */
    deleteOnTermination: Record<string, boolean>;
    /** Roles of the original profile whose revocation policy lists the instance. */
    revokedRoles: string[];
    /** The account's ARN partition (revocation policy ARNs). */
    partition?: string;
    accountId?: string;
}

/** What release does, from the record and the instance now. Pure; steps already in the recorded state are skipped. */
export function planRelease(record: InstanceRecord, current: CurrentInstance, isolatedAt: string | undefined, now: Date): ReleaseStep[] {
    const steps: ReleaseStep[] = [];
    const same = (a: string[], b: string[]) => [...a].sort().join(",") === [...b].sort().join(",");
    for (const recorded of record.networkInterfaces) {
        const now_ = current.interfaces.find((i) => i.networkInterfaceId === recorded.networkInterfaceId);
        if (now_ && !same(now_.groups, recorded.groups)) steps.push({ kind: "groups", networkInterfaceId: recorded.networkInterfaceId, from: now_.groups, to: recorded.groups });
    }
    const original = record.iamInstanceProfile;
    if (original && current.profile && current.profile.arn !== original.arn) {
        steps.push({ kind: "profile", associationId: current.profile.associationId, from: current.profile.arn, to: original.arn });
    } else if (!original && current.profile) {
        steps.push({ kind: "profile-removed", associationId: current.profile.associationId, from: current.profile.arn });
    }
    if (current.disableApiTermination !== record.disableApiTermination) steps.push({ kind: "attribute", attribute: "disableApiTermination", to: record.disableApiTermination });
    if (current.disableApiStop !== record.disableApiStop) steps.push({ kind: "attribute", attribute: "disableApiStop", to: record.disableApiStop });
    if (current.shutdownBehavior !== record.shutdownBehavior) steps.push({ kind: "attribute", attribute: "shutdownBehavior", to: record.shutdownBehavior });
    const volumes = record.volumes
        .filter((v) => v.deviceName in current.deleteOnTermination && current.deleteOnTermination[v.deviceName] !== v.deleteOnTermination)
        .map((v) => ({ deviceName: v.deviceName, volumeId: v.volumeId, deleteOnTermination: v.deleteOnTermination }));
    if (volumes.length > 0) steps.push({ kind: "delete-on-termination", volumes });
    const until = isolatedAt ? new Date(Date.parse(isolatedAt) + REVOCATION_HOLD_HOURS * 3_600_000) : undefined;
    for (const roleName of current.revokedRoles) {
        const policyArn = revocationPolicyArn(current.partition ?? "aws", current.accountId ?? "", roleName);
        // Without a recorded isolation time the hold cannot be judged: keep the old sessions denied (from now).
        const keepUntil = until ?? new Date(now.getTime() + REVOCATION_HOLD_HOURS * 3_600_000);
        steps.push(now.getTime() >= keepUntil.getTime()
            ? { kind: "revocation", roleName, policyArn }
            : { kind: "revocation", roleName, policyArn, keepUntil: keepUntil.toISOString() });
    }
    steps.push({ kind: "tags", tags: { [TAGS.status]: TAGS.statusReleased, "dfir:released-at": now.toISOString() } });
    return steps;
}

/** One line per step, for people. */
export function describeStep(s: ReleaseStep): string {
    switch (s.kind) {
        case "groups": return `${s.networkInterfaceId}: groups ${s.from.join(",")} -> ${s.to.join(",")}`;
        case "profile": return `instance profile ${s.from} -> ${s.to}`;
        case "profile-removed": return `instance profile ${s.from} removed (the instance had none)`;
        case "attribute": return `${s.attribute} -> ${String(s.to)}`;
        case "delete-on-termination": return `DeleteOnTermination as recorded: ${s.volumes.map((v) => `${v.volumeId} (${v.deviceName}) ${v.deleteOnTermination}`).join(", ")}`;
        case "revocation": return s.keepUntil
            ? `revocation on role ${s.roleName}: keep denying the sessions issued before containment until ${s.keepUntil}, in a statement of its own (the restored profile's new sessions are not denied) — ${s.policyArn}`
            : `revocation on role ${s.roleName}: the instance removed from ${s.policyArn}`;
        case "network-acl-entry": return `${s.entry.networkAclId}: remove ${s.entry.egress ? "outbound" : "inbound"} rule ${s.entry.ruleNumber} (${s.entry.ruleAction} ${s.entry.cidrBlock ?? s.entry.ipv6CidrBlock}${s.entry.purpose === "forensic-allow" ? ", the SSM channel" : ""})`;
        case "network-acl-entry-kept": return `${s.entry.networkAclId}: leave ${s.entry.egress ? "outbound" : "inbound"} rule ${s.entry.ruleNumber}: ${s.why}`;
        case "tags": return `tags ${Object.entries(s.tags).map(([k, v]) => `${k}=${v}`).join(", ")}`;
    }
}

export interface ReleaseResult {
    caseId: string;
    instanceId: string;
    applied: boolean;
    steps: { step: ReleaseStep; description: string; ok?: boolean; error?: string }[];
    /** The release record under Object Lock (when applied). */
    record?: { bucket: string; key: string; versionId?: string; sha256: string };
    notRestored: string[];
    ok: boolean;
}

/** The sealed manifest (refused unless its bytes are those the seal hashed) and its retain-until. */
async function readManifest(ctx: AnalystContext, caseId: string, m: { bucket: string; key: string; versionId?: string; sha256: string }): Promise<{ manifest: Manifest; retainUntil?: Date }> {
    const manifest = await readSealedManifest(ctx, caseId, m);
    const s3 = client("s3", { region: ctx.region });
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: m.bucket, Key: m.key, ...(m.versionId ? { VersionId: m.versionId } : {}) })).catch(() => undefined);
    const until = retention?.Retention?.RetainUntilDate;
    return { manifest, ...(until ? { retainUntil: new Date(until) } : {}) };
}

/** The instance is terminated (or terminating) or unknown: only the network ACL rules are left to remove. */
class InstanceGone extends Error {}

/** The recorded rules' ACLs as they are now (an ACL deleted since has no rules to remove). */
async function readAcls(target: Target, recorded: readonly NetworkAclEntryRecord[]): Promise<CurrentAclEntry[]> {
    const ids = [...new Set(recorded.map((e) => e.networkAclId))];
    if (ids.length === 0) return [];
    const ec2 = client("ec2", instanceAccount(target, target.region));
    const acls = await describeAcls(ec2, { aclIds: ids });
    return acls.flatMap((acl) => acl.entries.map((e) => ({ ...e, networkAclId: acl.networkAclId })));
}

/** The rules the case put: from the sealed manifest (also a failed containment's), else from the case item. */
function recordedAclEntries(manifest: Manifest, item: Record<string, { S?: string }>): NetworkAclEntryRecord[] {
    if (manifest.containment?.networkAclEntries) return manifest.containment.networkAclEntries;
    try {
        return (JSON.parse(item.containmentNetwork?.S ?? "{}") as { networkAclEntries?: NetworkAclEntryRecord[] }).networkAclEntries ?? [];
    } catch (error) {
        // Unreadable, the case's rules would stay in the ACLs for good: say so, change nothing.
        throw new UsageError(`the case item's containmentNetwork is not JSON (${(error as Error).message.split("\n")[0]}): the network ACL rules the case put cannot be known; nothing changed`);
    }
}

async function readCurrent(target: Target, record: InstanceRecord): Promise<CurrentInstance> {
    const ec2 = client("ec2", instanceAccount(target, target.region));
    const iam = client("iam", instanceAccount(target, target.region));
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [record.instanceId] })).catch((error: { name?: string }) => {
        if (error.name === "InvalidInstanceID.NotFound") return { Reservations: [] };
        throw error;
    });
    const instance: Instance | undefined = described.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    if (!instance) throw new InstanceGone(`instance ${record.instanceId} no longer exists`);
    const state = instance.State?.Name ?? "unknown";
    if (state === "terminated" || state === "shutting-down") throw new InstanceGone(`instance ${record.instanceId} is ${state}`);
    const [associations, termination, stop, shutdown] = await Promise.all([
        ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "instance-id", Values: [record.instanceId] }] })),
        ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: record.instanceId, Attribute: "disableApiTermination" })),
        ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: record.instanceId, Attribute: "disableApiStop" })),
        ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: record.instanceId, Attribute: "instanceInitiatedShutdownBehavior" })),
    ]);
    const association = (associations.IamInstanceProfileAssociations ?? []).find((a) => a.State === "associated" || a.State === "associating");
    const revokedRoles: string[] = [];
    const partition = partitionOf(target.region);
    if (record.iamInstanceProfile) {
        const profileName = record.iamInstanceProfile.arn.slice(record.iamInstanceProfile.arn.lastIndexOf("/") + 1);
        const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }));
        for (const role of profile.InstanceProfile?.Roles ?? []) {
            if (!role.RoleName) continue;
            // Unreadable (refused, or holding a statement this project did not write): stop before any change, in one line.
            const revocation = await readRevocation(iam, UNRECORDED_STEPS, { partition, accountId: target.accountId, roleName: role.RoleName }).catch((error: unknown) => {
                throw new UsageError(`the revocation policy of role ${role.RoleName} cannot be read (${(error as Error).name}: ${(error as Error).message.split("\n")[0]}): nothing changed; see docs/limitations.md`);
            });
            if (revocation.groups.some((g) => g.instanceIds.includes(record.instanceId))) revokedRoles.push(role.RoleName);
        }
    }
    return {
        state,
        interfaces: (instance.NetworkInterfaces ?? []).map((n) => ({ networkInterfaceId: n.NetworkInterfaceId ?? "", groups: (n.Groups ?? []).map((g) => g.GroupId ?? "") })),
        ...(association?.IamInstanceProfile?.Arn && association.AssociationId ? { profile: { arn: association.IamInstanceProfile.Arn, associationId: association.AssociationId } } : {}),
        disableApiTermination: termination.DisableApiTermination?.Value,
        disableApiStop: stop.DisableApiStop?.Value,
        shutdownBehavior: shutdown.InstanceInitiatedShutdownBehavior?.Value,
        deleteOnTermination: Object.fromEntries((instance.BlockDeviceMappings ?? [])
            .filter((b) => b.DeviceName && b.Ebs?.DeleteOnTermination !== undefined)
            .map((b) => [b.DeviceName as string, b.Ebs?.DeleteOnTermination as boolean])),
        revokedRoles,
        partition,
        accountId: target.accountId,
    };
}

/** What the revocation step needs besides the step: the case table (its lock), the case's isolation time, the clock. */
interface ReleaseEnv {
    ctx: AnalystContext;
    caseId: string;
    isolatedAt?: string;
    now: () => Date;
}

async function apply(step: ReleaseStep, target: Target, instanceId: string, env: ReleaseEnv): Promise<void> {
    const ec2 = client("ec2", instanceAccount(target, target.region));
    const iam = client("iam", instanceAccount(target, target.region));
    switch (step.kind) {
        case "groups":
            await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: step.networkInterfaceId, Groups: step.to }));
            return;
        case "profile":
            await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: step.associationId, IamInstanceProfile: { Arn: step.to } }));
            return;
        case "profile-removed":
            await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: step.associationId }));
            return;
        case "attribute": {
            const input = step.attribute === "shutdownBehavior"
                ? { InstanceInitiatedShutdownBehavior: { Value: String(step.to) } }
                : step.attribute === "disableApiTermination" ? { DisableApiTermination: { Value: step.to as boolean } } : { DisableApiStop: { Value: step.to as boolean } };
            await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, ...input }));
            return;
        }
        case "delete-on-termination":
            await ec2.send(new ModifyInstanceAttributeCommand({
                InstanceId: instanceId,
                BlockDeviceMappings: step.volumes.map((v) => ({ DeviceName: v.deviceName, Ebs: { DeleteOnTermination: v.deleteOnTermination } })),
            }));
            return;
        case "revocation": {
            const role = { partition: partitionOf(target.region), accountId: target.accountId, roleName: step.roleName };
            const lock = { dynamodb: client("dynamodb", { region: env.ctx.region }), table: env.ctx.casesTable, holder: `release:${env.caseId}` };
            await withRevocationLock(lock, revocationLockKey(target.accountId, step.roleName), async (assertHeld) => {
                const current = await readRevocation(iam, UNRECORDED_STEPS, role);
                const isolatedAt = step.keepUntil ? new Date(env.isolatedAt ?? env.now().toISOString()) : undefined;
                const groups = releaseInstance(current.groups, instanceId, isolatedAt, env.now());
                await writeRevocation(iam, UNRECORDED_STEPS, role, current, groups, `release of ${instanceId}`, { attach: false, assertHeld });
            });
            return;
        }
        case "network-acl-entry":
            await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: step.entry.networkAclId, RuleNumber: step.entry.ruleNumber, Egress: step.entry.egress }));
            return;
        case "network-acl-entry-kept":
            return;
        case "tags":
            await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(step.tags).map(([Key, Value]) => ({ Key, Value })) }));
            return;
    }
}

/** Plan (and with `yes`, apply and record) the release of a case's instance. */
export async function release(ctx: AnalystContext, caseId: string, options: { yes: boolean; now?: () => Date }): Promise<ReleaseResult> {
    const now = options.now ?? (() => new Date());
    const { summary, item } = await readCaseRecord(ctx, caseId);
    if (!summary.manifest) throw new UsageError(`case ${caseId} is not sealed (status ${summary.status}): release refuses without a sealed case record`);
    const dynamodb = client("dynamodb", { region: ctx.region });
    const recordJson = item.instance?.S;
    if (!recordJson) throw new UsageError(`case ${caseId} has no recorded instance state to restore`);
    const record = JSON.parse(recordJson) as InstanceRecord;
    const { manifest, retainUntil } = await readManifest(ctx, caseId, summary.manifest);
    const target: Target = {
        accountId: manifest.target.accountId ?? summary.accountId ?? "",
        region: manifest.target.region ?? summary.region ?? ctx.region,
        instanceId: record.instanceId,
        ...(manifest.target.roleArn ? { roleArn: manifest.target.roleArn } : {}),
    };
    const recorded = recordedAclEntries(manifest, item as Record<string, { S?: string }>);
    const [current, acls] = await Promise.all([
        readCurrent(target, record).catch((error: unknown) => {
            if (!(error instanceof InstanceGone)) throw error;
            // Nothing of the instance to restore; its addresses may still be named in the ACLs.
            if (recorded.length === 0) throw new UsageError(`${error.message}: nothing to release`);
            return undefined;
        }),
        readAcls(target, recorded),
    ]);
    const aclSteps = planAclRemoval(recorded, acls);
    const instanceSteps = current ? planRelease(record, current, manifest.containment?.isolatedAt, now()) : [];
    // The tags stay last: they are applied once everything else has answered.
    const steps = [...instanceSteps.filter((x) => x.kind !== "tags"), ...aclSteps, ...instanceSteps.filter((x) => x.kind === "tags")];
    if (steps.length === 0) throw new UsageError(`instance ${record.instanceId} is gone and the network ACL rules of case ${caseId} are gone too: nothing to release`);
    const notRestored = ["Auto Scaling group and target-group membership (re-attach by hand after review)"];
    const result: ReleaseResult = { caseId, instanceId: record.instanceId, applied: false, steps: steps.map((step) => ({ step, description: describeStep(step) })), notRestored, ok: true };
    if (!options.yes) return result;

    result.applied = true;
    const env: ReleaseEnv = { ctx, caseId, now, ...(manifest.containment?.isolatedAt ? { isolatedAt: manifest.containment.isolatedAt } : {}) };
    // Interfaces, profile and attributes are independent: one round. Tags last, once the rest has answered.
    const body = result.steps.filter((s) => s.step.kind !== "tags");
    await Promise.all(body.map(async (s) => {
        try {
            await apply(s.step, target, record.instanceId, env);
            s.ok = true;
        } catch (error) {
            s.ok = false;
            s.error = `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
        }
    }));
    result.ok = body.every((s) => s.ok);
    const tags = result.steps.find((s) => s.step.kind === "tags");
    if (tags && result.ok) {
        try {
            await apply(tags.step, target, record.instanceId, env);
            tags.ok = true;
        } catch (error) {
            tags.ok = false;
            tags.error = `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
            result.ok = false;
        }
    }

    // The record: under Object Lock beside the manifest (same retention), then the case item and the lock.
    const releasedAt = now().toISOString();
    const releasedBy = (await client("sts", { region: ctx.region }).send(new GetCallerIdentityCommand({}))).Arn ?? "unknown";
    const s3 = client("s3", { region: ctx.region });
    const object = await putLockedObject(s3, {
        bucket: summary.manifest.bucket,
        key: `cases/${caseId}/release-${releasedAt.replace(/[:.]/g, "-")}.json`,
        body: JSON.stringify({ caseId, instanceId: record.instanceId, target, releasedAt, releasedBy, ok: result.ok, steps: result.steps, notRestored }, null, 2),
        contentType: "application/json",
        retainUntil: retainUntil ?? new Date(Date.parse(releasedAt) + 365 * 86_400_000),
        metadata: { "case-id": caseId, kind: "release" },
    });
    result.record = { bucket: object.bucket, key: object.key, sha256: object.sha256, ...(object.versionId ? { versionId: object.versionId } : {}) };
    await dynamodb.send(new UpdateItemCommand({
        TableName: ctx.casesTable,
        Key: { pk: { S: caseKey(caseId) } },
        ConditionExpression: "attribute_exists(pk)",
        UpdateExpression: "SET releasedAt = :at, releasedBy = :by, releaseOk = :ok, releaseRecordKey = :key, releaseRecordSha256 = :sha",
        ExpressionAttributeValues: { ":at": { S: releasedAt }, ":by": { S: releasedBy }, ":ok": { BOOL: result.ok }, ":key": { S: object.key }, ":sha": { S: object.sha256 } },
    }));
    if (result.ok) {
        // The instance may open a new case from now on; only this case's lock is removed.
        await dynamodb.send(new DeleteItemCommand({
            TableName: ctx.casesTable,
            Key: { pk: { S: `OPEN#${target.accountId}#${target.region}#${record.instanceId}` } },
            ConditionExpression: "attribute_not_exists(pk) OR caseId = :c",
            ExpressionAttributeValues: { ":c": { S: caseId } },
        }));
    }
    return result;
}
