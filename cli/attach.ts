/**
 * `dfir attach CASE [--workstation ID] [--yes]`: put a sealed case's disks in front of the forensic workstation.
 * For each evidence snapshot of the case (the hub's completed copy when the manifest has one: it lives in the hub,
 * readable with the analyst's own credentials), a new encrypted volume in the workstation's Availability Zone,
 * tagged as an analysis copy of that snapshot for this case and workstation, attached at a free device name; then
 * the read-only mount and the first Sleuthkit commands per volume, and the Volatility 3 commands for the memory
 * image. The evidence is never touched: the snapshots are only read (by EBS), the objects not at all, and the
 * attach is recorded on the case item only (`attachedVolumes`; `attachedAt`, `attachedBy` of the first attach;
 * `lastAttachedAt`, `lastAttachedBy` of the latest).
 *
 * Refuses (exit 2, one line, nothing changed) an unknown or unsealed case, a manifest that is not the sealed one,
 * no (or no unique) workstation, a workstation in another region than the snapshots (EBS makes a volume from a
 * snapshot only in its own region), and snapshots in a member account with no copy in the hub. Without `--yes` it
 * prints the plan and changes nothing. A re-run adopts the volumes it made before for this case and workstation.
 * The decisions are pure functions below (`chooseSnapshots`, `planAttach`, `freeDeviceNames`, the commands).
 */
import { UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import {
    AttachVolumeCommand,
    CreateVolumeCommand,
    DescribeInstancesCommand,
    DescribeSnapshotsCommand,
    DescribeVolumesCommand,
    type Instance,
    type Volume,
} from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { completedHubCopy, type Manifest } from "../core/manifest";
import { TAGS } from "../core/tags";
import { INSTANCE_ID_PATTERN } from "../core/triage";
import { caseKey } from "../functions/case/openCase";
import { client } from "../functions/lib/aws";
import { UsageError, type AnalystContext } from "./context";
import { readCaseRecord, readSealedManifest } from "./verify";

/** One snapshot of the case and the one a volume is made from (the hub's copy when completed). Pure data. */
export interface CaseSnapshot {
    /** The snapshot the volume is made from. */
    snapshotId: string;
    /** The account that owns it (the hub for a hub copy, else the instance's). */
    accountId?: string;
    /** The case's evidence snapshot of record (CreateSnapshots, in the instance's account). */
    evidenceSnapshotId: string;
    /** The instance's volume the evidence snapshot was taken of. */
    sourceVolumeId: string;
    /** Made from the hub's copy (copySnapshotsToHub). */
    hubCopy: boolean;
}

/** A volume made for this case and workstation earlier, as DescribeVolumes shows it. */
export interface ExistingVolume {
    volumeId: string;
    /** Its `dfir:source-snapshot` tag: the snapshot it was made from. */
    snapshotId: string;
    state: string;
    availabilityZone: string;
    attachment?: { instanceId: string; deviceName: string };
}

/** What attach does for one snapshot. */
export interface AttachStep extends CaseSnapshot {
    /** create: a new volume; attach: one made earlier, not attached yet; attached: already on the workstation. */
    action: "create" | "attach" | "attached";
    deviceName: string;
    /** Known for adopted volumes, and once created. */
    volumeId?: string;
    /** Where to mount it read-only on the workstation. */
    mountPoint: string;
    /** With --yes: done, or why not. */
    ok?: boolean;
    error?: string;
    /** The commands to start with (once the volume id is known). */
    commands?: string[];
}

export interface AttachResult {
    caseId: string;
    /** The contained instance the evidence is of. */
    instanceId?: string;
    workstation: { instanceId: string; region: string; availabilityZone: string; state: string };
    applied: boolean;
    steps: AttachStep[];
    /** The memory image of the case and the Volatility 3 commands, when it was captured. */
    memory?: { bucket: string; key: string; versionId?: string; sha256: string; bytes: number; commands: string[] };
    /** With --yes: what the case item now records. */
    recorded?: { attachedAt: string; attachedBy: string };
    /** With --yes: why the case item could not record the attach (the volumes are there all the same). */
    recordError?: string;
    notes: string[];
    ok: boolean;
}

/** Device names for EBS data volumes on Linux instances (AWS recommends /dev/sd[f-p]). */
export const ATTACH_DEVICE_NAMES: readonly string[] = "fghijklmnop".split("").map((c) => `/dev/sd${c}`);

/** The letter an EBS device name stands for (`/dev/sdf`, `/dev/xvdf` and `/dev/sdf1` are one slot), or undefined. */
const slotOf = (deviceName: string): string | undefined => /^\/dev\/(?:sd|xvd)([a-z])\d*$/.exec(deviceName)?.[1];

/** The first `count` of ATTACH_DEVICE_NAMES whose slot no used device takes. Pure; throws when there are not enough. */
export function freeDeviceNames(used: readonly string[], count: number): string[] {
    const taken = new Set(used.map(slotOf).filter((s): s is string => s !== undefined));
    const free = ATTACH_DEVICE_NAMES.filter((d) => !taken.has(slotOf(d) as string));
    if (free.length < count) throw new UsageError(`the workstation has ${free.length} free device name(s) of ${ATTACH_DEVICE_NAMES[0]}-${ATTACH_DEVICE_NAMES.at(-1)}, ${count} needed: detach volumes of earlier cases first`);
    return free.slice(0, count);
}

/**
 * The snapshots to make volumes from, in the manifest's order: per evidence snapshot its completed hub copy
 * (`evidence.disk.copy`, copySnapshotsToHub) or else the snapshot itself. Pure.
 */
export function chooseSnapshots(manifest: Pick<Manifest, "evidence" | "target">): CaseSnapshot[] {
    const disk = manifest.evidence?.disk;
    return (disk?.snapshots ?? []).map((s) => {
        const copy = completedHubCopy(disk?.copy, s.snapshotId);
        const accountId = copy ? disk?.copy?.hubAccountId : manifest.target?.accountId;
        return {
            snapshotId: copy?.hubCopyId ?? s.snapshotId,
            ...(accountId ? { accountId } : {}),
            evidenceSnapshotId: s.snapshotId,
            sourceVolumeId: s.volumeId,
            hubCopy: copy !== undefined,
        };
    });
}

/**
 * What to do per snapshot, given the volumes made earlier for this case and workstation: keep one already attached
 * to the workstation, attach one that is not (yet) attached, make the others; new attachments take free device
 * names in order. Pure; throws a UsageError when a volume made for this case is attached to another instance.
 */
export function planAttach(snapshots: readonly CaseSnapshot[], existing: readonly ExistingVolume[], workstation: { instanceId: string; deviceNames: readonly string[] }): AttachStep[] {
    const adopted = snapshots.map((s) => {
        const mine = existing.filter((v) => v.snapshotId === s.snapshotId && v.state !== "deleting" && v.state !== "deleted" && v.state !== "error");
        return mine.find((v) => v.attachment?.instanceId === workstation.instanceId) ?? mine.find((v) => !v.attachment) ?? mine[0];
    });
    const elsewhere = adopted.find((v) => v?.attachment && v.attachment.instanceId !== workstation.instanceId);
    if (elsewhere) throw new UsageError(`${elsewhere.volumeId}, made from ${elsewhere.snapshotId} for this case, is attached to ${elsewhere.attachment?.instanceId}, not the workstation ${workstation.instanceId}: detach it first`);
    const needed = adopted.filter((v) => !v?.attachment).length;
    const free = freeDeviceNames(workstation.deviceNames, needed);
    let next = 0;
    return snapshots.map((s, i) => {
        const volume = adopted[i];
        const base = { ...s, mountPoint: `/mnt/case/${s.evidenceSnapshotId}` };
        if (volume?.attachment) return { ...base, action: "attached", deviceName: volume.attachment.deviceName, volumeId: volume.volumeId };
        const deviceName = free[next++] as string;
        return volume ? { ...base, action: "attach", deviceName, volumeId: volume.volumeId } : { ...base, action: "create", deviceName };
    });
}

/** EBS NVMe devices carry the volume id without its dash as their serial (`lsblk -o NAME,SERIAL`). */
export const nvmeSerial = (volumeId: string) => volumeId.replace("-", "");

/** Commands with their comments aligned in one column (comment lines, starting with #, stay as they are). */
function block(lines: readonly (string | [string, string])[]): string[] {
    const width = Math.max(0, ...lines.filter((l): l is [string, string] => Array.isArray(l)).map(([c]) => c.length));
    return lines.map((l) => (Array.isArray(l) ? `${l[0].padEnd(width)}  # ${l[1]}` : l));
}

/**
 * The first commands on the workstation for one attached volume: find its NVMe device by serial (the attach device
 * name is not what the kernel calls it), make the block device read-only, read the partition table, mount the first
 * partition read-only without replaying its journal, and start a Sleuthkit timeline. Pure.
 */
export function diskCommands(step: Pick<AttachStep, "volumeId" | "deviceName" | "mountPoint" | "evidenceSnapshotId">): string[] {
    const serial = nvmeSerial(step.volumeId ?? "vol-?");
    const name = step.evidenceSnapshotId;
    return block([
        `# ${step.volumeId}, attached as ${step.deviceName}: the kernel of a Nitro instance names it /dev/nvme<N>n1; \`lsblk -o NAME,SERIAL\` shows the volume id as serial ${serial}`,
        `DEV=/dev/$(lsblk -dno NAME,SERIAL | awk '$2 == "${serial}" {print $1}')`,
        [`sudo blockdev --setro "$DEV"`, "the kernel refuses writes to the device"],
        [`sudo mmls "$DEV"`, `partition table (none: use "$DEV" where "\${DEV}p1" is below)`],
        `sudo mkdir -p ${step.mountPoint}`,
        [`sudo mount -o ro,noload,noexec "\${DEV}p1" ${step.mountPoint}`, "ext4; XFS: -o ro,norecovery,nouuid,noexec"],
        [`sudo fls -r -m / "\${DEV}p1" > ${name}.body`, "every file, deleted ones too, as a body file"],
        [`mactime -b ${name}.body -d -y -z UTC > ${name}.timeline.csv`, "the MAC-time timeline"],
    ]);
}

/**
 * The memory image's commands: fetch the sealed version, check its hash against the manifest's, then Volatility 3
 * (`vol`): the kernel banner first (Volatility needs the symbol table of that exact kernel, an ISF built with
 * dwarf2json from its debug symbols), then processes, shell history, sockets and open files. Pure.
 */
export function memoryCommands(o: { bucket: string; key: string; versionId?: string; sha256: string }, region: string, instanceId: string): string[] {
    const file = `${instanceId}.lime`;
    return block([
        `aws s3api get-object --region ${region} --bucket ${o.bucket} --key ${o.key}${o.versionId ? ` --version-id ${o.versionId}` : ""} ${file}`,
        [`echo "${o.sha256}  ${file}" | sha256sum -c -`, "the sealed manifest's hash"],
        [`vol -f ${file} banners.Banners`, "the kernel: its symbol table (ISF) goes under volatility3/symbols/linux/"],
        [`vol -f ${file} linux.pslist`, "processes"],
        [`vol -f ${file} linux.pstree`, "their tree"],
        [`vol -f ${file} linux.psaux`, "their command lines"],
        [`vol -f ${file} linux.bash`, "bash history in memory"],
        [`vol -f ${file} linux.sockstat`, "sockets (network connections)"],
        [`vol -f ${file} linux.lsof`, "open files"],
    ]);
}

const LIVE_STATES = ["pending", "running", "stopping", "stopped"];
const tagOf = (tags: { Key?: string; Value?: string }[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The workstation: the one given (it must carry the tag), or the one instance tagged dfir:role=workstation. */
async function findWorkstation(region: string, given: string | undefined): Promise<{ instance: Instance; ownerId?: string }> {
    const ec2 = client("ec2", { region });
    if (given !== undefined) {
        if (!INSTANCE_ID_PATTERN.test(given)) throw new UsageError(`--workstation ${JSON.stringify(given)} is not an instance id`);
        let out;
        try {
            out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [given] }));
        } catch (error) {
            if ((error as { name?: string }).name === "InvalidInstanceID.NotFound") throw new UsageError(`no instance ${given} in ${region} (the workstation is looked up in the case table's region)`);
            throw error;
        }
        const reservation = out.Reservations?.[0];
        const instance = reservation?.Instances?.[0];
        if (!instance) throw new UsageError(`no instance ${given} in ${region}`);
        if (tagOf(instance.Tags, TAGS.role) !== TAGS.roleWorkstation) throw new UsageError(`${given} is not tagged ${TAGS.role}=${TAGS.roleWorkstation}: attach only to the forensic workstation (dfir:workstation)`);
        if (!LIVE_STATES.includes(instance.State?.Name ?? "")) throw new UsageError(`the workstation ${given} is ${instance.State?.Name}`);
        return { instance, ownerId: reservation?.OwnerId };
    }
    const out = await ec2.send(new DescribeInstancesCommand({
        Filters: [{ Name: `tag:${TAGS.role}`, Values: [TAGS.roleWorkstation] }, { Name: "instance-state-name", Values: LIVE_STATES }],
    }));
    const found = (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((instance) => ({ instance, ownerId: r.OwnerId })));
    if (found.length === 0) throw new UsageError(`no forensic workstation (an instance tagged ${TAGS.role}=${TAGS.roleWorkstation}) in ${region}: deploy one with dfir:workstation, or give --workstation ID`);
    if (found.length > 1) throw new UsageError(`${found.length} workstations in ${region} (${found.map((f) => f.instance.InstanceId).join(", ")}): choose one with --workstation ID`);
    return found[0];
}

async function existingVolumes(region: string, caseId: string, workstationId: string): Promise<ExistingVolume[]> {
    const ec2 = client("ec2", { region });
    const volumes: Volume[] = [];
    let token: string | undefined;
    do {
        const page = await ec2.send(new DescribeVolumesCommand({
            Filters: [
                { Name: `tag:${TAGS.caseId}`, Values: [caseId] },
                { Name: `tag:${TAGS.evidence}`, Values: [TAGS.evidenceAnalysisCopy] },
                { Name: `tag:${TAGS.workstation}`, Values: [workstationId] },
            ],
            ...(token ? { NextToken: token } : {}),
        }));
        volumes.push(...(page.Volumes ?? []));
        token = page.NextToken;
    } while (token);
    return volumes.map((v) => {
        const attachment = v.Attachments?.find((a) => a.State === "attached" || a.State === "attaching");
        return {
            volumeId: v.VolumeId as string,
            snapshotId: tagOf(v.Tags, TAGS.sourceSnapshot) ?? v.SnapshotId ?? "",
            state: v.State ?? "unknown",
            availabilityZone: v.AvailabilityZone ?? "",
            ...(attachment?.InstanceId && attachment.Device ? { attachment: { instanceId: attachment.InstanceId, deviceName: attachment.Device } } : {}),
        };
    });
}

/** Poll one volume until `done` says so (or the cap), returning it. */
async function waitVolume(region: string, volumeId: string, done: (v: Volume) => boolean, what: string, pollMs: number, capMs: number): Promise<Volume> {
    const ec2 = client("ec2", { region });
    const deadline = Date.now() + capMs;
    for (;;) {
        const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0];
        if (v && done(v)) return v;
        if (v?.State === "error") throw new Error(`${volumeId} is in state error`);
        if (Date.now() >= deadline) throw new Error(`${volumeId} is not ${what} after ${Math.round(capMs / 1000)} s (state ${v?.State ?? "unknown"})`);
        await sleep(pollMs);
    }
}

export interface AttachOptions {
    yes: boolean;
    /** `--workstation`: the instance id (it must be tagged dfir:role=workstation). */
    workstation?: string;
    /** Milliseconds between polls of a volume being created or attached. @default 2000 */
    pollMs?: number;
    /** Give up waiting for one volume after this long. @default 10 minutes */
    capMs?: number;
    now?: () => Date;
}

/** Plan (and with `yes`, make, attach and record) the analysis volumes of a case on the workstation. */
export async function attach(ctx: AnalystContext, caseId: string, options: AttachOptions): Promise<AttachResult> {
    const now = options.now ?? (() => new Date());
    const pollMs = options.pollMs ?? 2000;
    const capMs = options.capMs ?? 10 * 60_000;
    // The workstation serves its region's cases (dfir:workstation.region), and a case lives in its instance's region.
    const region = ctx.region;

    const { summary, item } = await readCaseRecord(ctx, caseId);
    if (!summary.manifest) throw new UsageError(`case ${caseId} is not sealed (status ${summary.status}): attach refuses without a sealed manifest`);
    const manifest = await readSealedManifest(ctx, caseId, summary.manifest);
    const snapshots = chooseSnapshots(manifest);
    if (snapshots.length === 0) {
        const why = manifest.evidence?.missing?.find((m) => m.item === "disk")?.reason;
        throw new UsageError(`case ${caseId} has no disk snapshots${why ? ` (disk: ${why})` : ""}: nothing to attach`);
    }
    const snapshotRegion = manifest.target?.region ?? summary.region ?? ctx.region;

    const { instance, ownerId } = await findWorkstation(region, options.workstation);
    const workstationId = instance.InstanceId as string;
    const zone = instance.Placement?.AvailabilityZone ?? "";
    if (region !== snapshotRegion) {
        throw new UsageError(`the workstation ${workstationId} is in ${region} but case ${caseId}'s snapshots are in ${snapshotRegion}: EBS makes a volume from a snapshot only in the snapshot's region; use a workstation in ${snapshotRegion} (dfir:workstation.region)`);
    }
    const foreign = snapshots.filter((s) => ownerId !== undefined && s.accountId !== undefined && s.accountId !== ownerId);
    if (foreign.length > 0) {
        throw new UsageError(`case ${caseId}'s snapshots (${foreign.map((s) => s.snapshotId).join(", ")}) are in account ${foreign[0].accountId} with no completed copy in the hub ${ownerId} (dfir:copySnapshotsToHub): the workstation's account cannot make volumes from them`);
    }

    // The snapshots must still be there and completed (read-only).
    const ec2 = client("ec2", { region });
    const ids = [...new Set(snapshots.map((s) => s.snapshotId))];
    let described;
    try {
        described = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots ?? [];
    } catch (error) {
        if ((error as { name?: string }).name === "InvalidSnapshot.NotFound") throw new UsageError(`a snapshot of case ${caseId} no longer exists or is not visible to this account: ${(error as Error).message.split("\n")[0]}`);
        throw error;
    }
    for (const id of ids) {
        const state = described.find((d) => d.SnapshotId === id)?.State;
        if (state !== "completed") throw new UsageError(`snapshot ${id} of case ${caseId} is ${state ?? "not visible"}, not completed: nothing attached`);
    }

    const existing = await existingVolumes(region, caseId, workstationId);
    const used = (instance.BlockDeviceMappings ?? []).map((b) => b.DeviceName ?? "").filter((d) => d !== "");
    const steps = planAttach(snapshots, existing, { instanceId: workstationId, deviceNames: used });
    const memoryObject = manifest.evidence?.memory?.status === "captured" ? manifest.evidence.memory.object : undefined;
    const result: AttachResult = {
        caseId,
        ...(manifest.target?.instanceId ? { instanceId: manifest.target.instanceId } : {}),
        workstation: { instanceId: workstationId, region, availabilityZone: zone, state: instance.State?.Name ?? "unknown" },
        applied: false,
        steps,
        ...(memoryObject ? {
            memory: {
                bucket: memoryObject.bucket, key: memoryObject.key, ...(memoryObject.versionId ? { versionId: memoryObject.versionId } : {}),
                sha256: memoryObject.sha256, bytes: memoryObject.bytes,
                commands: memoryCommands(memoryObject, ctx.region, manifest.target?.instanceId ?? "memory"),
            },
        } : {}),
        notes: [],
        ok: true,
    };
    if (!memoryObject) result.notes.push(`no memory image in the case (memory ${manifest.evidence?.memory?.status ?? "missing"}${manifest.evidence?.memory?.reason ? `: ${manifest.evidence.memory.reason}` : ""})`);
    for (const s of steps) if (s.action === "attached") s.commands = diskCommands(s);
    if (!options.yes) return result;

    // Who is attaching, read before any change: a failure here changes nothing (exit 3).
    const attachedBy = (await client("sts", { region: ctx.region }).send(new GetCallerIdentityCommand({}))).Arn ?? "unknown";
    result.applied = true;
    // Independent volumes: one round of creates, then each waits and attaches on its own.
    await Promise.all(steps.map(async (s) => {
        try {
            if (s.action === "attached") {
                s.ok = true;
                return;
            }
            if (s.action === "create") {
                // No fixed ClientToken: the SDK makes one per call (its retries reuse it), a re-run finds what it
                // made by tag (existingVolumes), and a volume the analyst deleted is made again, not "found".
                const created = await ec2.send(new CreateVolumeCommand({
                    SnapshotId: s.snapshotId,
                    AvailabilityZone: zone,
                    Encrypted: true,
                    VolumeType: "gp3",
                    TagSpecifications: [{
                        ResourceType: "volume",
                        Tags: [
                            { Key: "Name", Value: `${caseId} ${s.evidenceSnapshotId}` },
                            { Key: TAGS.caseId, Value: caseId },
                            { Key: TAGS.sourceSnapshot, Value: s.snapshotId },
                            { Key: TAGS.evidence, Value: TAGS.evidenceAnalysisCopy },
                            { Key: TAGS.workstation, Value: workstationId },
                            ...(manifest.target?.instanceId ? [{ Key: TAGS.instanceId, Value: manifest.target.instanceId }] : []),
                        ],
                    }],
                }));
                s.volumeId = created.VolumeId;
            }
            const volumeId = s.volumeId as string;
            await waitVolume(region, volumeId, (v) => v.State === "available", "available", pollMs, capMs);
            await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: workstationId, Device: s.deviceName }));
            await waitVolume(region, volumeId, (v) => v.Attachments?.some((a) => a.InstanceId === workstationId && a.State === "attached") === true, "attached", pollMs, capMs);
            s.ok = true;
            s.commands = diskCommands(s);
        } catch (error) {
            s.ok = false;
            s.error = `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
        }
    }));
    result.ok = steps.every((s) => s.ok);

    // The record: on the case item only (the evidence is not touched). Earlier attachments of other volumes stay.
    // The volumes exist whatever happens to the record: a failed write is said, with the volumes and commands.
    const attachedAt = now().toISOString();
    const dynamodb = client("dynamodb", { region: ctx.region });
    const mine = new Set(steps.map((s) => s.volumeId).filter((v): v is string => v !== undefined));
    const kept = (item.attachedVolumes?.L ?? []).filter((v) => !mine.has(v.M?.volumeId?.S ?? ""));
    const entry = (s: AttachStep): AttributeValue => ({
        M: {
            volumeId: { S: s.volumeId as string },
            snapshotId: { S: s.snapshotId },
            evidenceSnapshotId: { S: s.evidenceSnapshotId },
            deviceName: { S: s.deviceName },
            workstationId: { S: workstationId },
            availabilityZone: { S: zone },
            attached: { BOOL: s.ok === true },
        },
    });
    try {
        await dynamodb.send(new UpdateItemCommand({
            TableName: ctx.casesTable,
            Key: { pk: { S: caseKey(caseId) } },
            ConditionExpression: "attribute_exists(pk)",
            UpdateExpression: "SET attachedVolumes = :volumes, attachedAt = if_not_exists(attachedAt, :at), lastAttachedAt = :at, attachedBy = if_not_exists(attachedBy, :by), lastAttachedBy = :by",
            ExpressionAttributeValues: {
                ":volumes": { L: [...kept, ...steps.filter((s) => s.volumeId).map(entry)] },
                ":at": { S: attachedAt },
                ":by": { S: attachedBy },
            },
        }));
        result.recorded = { attachedAt, attachedBy };
    } catch (error) {
        result.recordError = `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
        result.ok = false;
    }
    return result;
}
