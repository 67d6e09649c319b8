/**
 * The forensic workstation writes only to encrypted volumes: analysts extract and copy evidence onto them. Advisory
 * by default, like the evidence buckets' KMS encryption (confidentiality at rest is defence in depth; containment and
 * chain of custody are the mandatory rules).
 *
 * Every EBS volume of the workstation must say `encrypted: true`. A volume's encryption is fixed when it is created
 * and "depends on whether your account is enabled for encryption by default, and on the encryption state of the
 * snapshot, if you choose to use one" (Amazon EBS User Guide, "Create an Amazon EBS volume",
 * https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-volume.html; EC2 API Reference,
 * "EnableEbsEncryptionByDefault": the setting is per account and Region). Checked:
 * - its root volume (`rootBlockDevice.encrypted`, or every EBS mapping of its launch template);
 * - its `ebsBlockDevices`, and its launch template's `blockDeviceMappings[].ebs` (where the provider keeps "true");
 * - every `ebs.Volume` attached to it by an `ec2.VolumeAttachment`.
 * A device or volume made from a snapshot and not saying `encrypted` follows the snapshot, which the pack cannot
 * see (a launch template may not even set it then: EC2 API, "LaunchTemplateEbsBlockDeviceRequest"): an advisory
 * note, not a violation; `encrypted: false` is a violation. Not counted: the account's EBS encryption by default (a
 * region setting the stack may not own) and the AMI's own snapshot encryption. Instance store volumes are not EBS
 * and have no such setting. The volumes `dfir attach` creates at run time are encrypted (cli/attach.ts).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { asList, finding, isObject, isUnknown, knownString, Problems, TYPES, unknown, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { flag, launchTemplateOf, onlyWithInstances, workstationView, workstationFindings, type WorkstationView } from "../lib/workstation";

export const NAME = "workstation-encrypted-volumes";

/**
 * One EBS device or volume (`encrypted`, `snapshotId`): a violation unless it says encrypted; a note when it comes
 * from a snapshot and leaves encryption to it. `fix` is how to say encrypted for this kind of resource.
 */
function judgeDevice(what: string, encryptedValue: unknown, snapshotId: unknown, fix: string, p: Problems): void {
    const encrypted = flag(encryptedValue);
    if (encrypted === "unknown") return void p.unknownValue(`the encryption of ${what}`);
    if (encrypted === true) return;
    if (encrypted === undefined && snapshotId !== undefined && snapshotId !== null && snapshotId !== "") {
        const snapshot = knownString(snapshotId);
        return void p.unknownNote(`${what} is made from snapshot ${snapshot ?? "(unknown)"} and leaves encryption to it: cannot tell whether it is encrypted — use an encrypted snapshot, or ${fix}`);
    }
    p.violation(`${what} is not encrypted — ${fix}`);
}

function checkWorkstation(view: WorkstationView, instance: RuleResource, p: Problems): void {
    const props = instance.props;
    const template = launchTemplateOf(view, instance);
    if (template !== undefined && template.found.length === 0) {
        p.unknownNote(template.ref === undefined
            ? "cannot check its launch template's volumes during preview: the template is unknown"
            : `launch template ${template.ref} is not a resource of this stack: cannot check its volumes`);
    }
    // The launch template's EBS mappings: each must be encrypted; together they may encrypt the root volume.
    let templateEbs = 0;
    for (const t of template?.found ?? []) {
        const mappings = t.props.blockDeviceMappings;
        if (isUnknown(mappings)) { p.unknownValue(`the block device mappings of launch template ${t.name}`); continue; }
        for (const m of asList(mappings).filter(isObject)) {
            if (m.ebs === undefined || m.ebs === null) continue;
            templateEbs++;
            const ebs = isObject(m.ebs) ? m.ebs : {};
            const device = `${knownString(m.deviceName) ?? "an EBS mapping"} of launch template ${t.name}`;
            judgeDevice(device, isUnknown(m.ebs) ? m.ebs : ebs.encrypted, ebs.snapshotId, `set ebs.encrypted: "true"`, p);
        }
    }

    const root = props.rootBlockDevice;
    const rootEncrypted = isUnknown(root) ? "unknown" : isObject(root) ? flag(root.encrypted) : undefined;
    if (rootEncrypted === "unknown") p.unknownValue("rootBlockDevice.encrypted");
    else if (rootEncrypted !== true && !(rootEncrypted === undefined && templateEbs > 0)) {
        p.violation("its root volume is not encrypted — set rootBlockDevice.encrypted: true");
    }

    const ebs = props.ebsBlockDevices;
    if (isUnknown(ebs)) p.unknownValue("ebsBlockDevices");
    for (const device of asList(ebs).filter(isObject)) {
        judgeDevice(`EBS block device ${knownString(device.deviceName) ?? "(no device name)"}`, device.encrypted, device.snapshotId, "set encrypted: true", p);
    }

    const ids = [knownString(props.id)].filter((v): v is string => v !== undefined);
    for (const attachment of view.index.linked(instance, [TYPES.volumeAttachment], "instanceId", ids)) {
        const volumes = view.resolve(attachment.props.volumeId, attachment.propertyDependencies?.volumeId, [TYPES.volume]);
        if (volumes.length === 0) {
            const known = knownString(attachment.props.volumeId);
            p.unknownNote(known === undefined
                ? `cannot check the volume attachment ${attachment.name} attaches during preview: volumeId is unknown`
                : `volume ${known} (attached by ${attachment.name}) is not a resource of this stack: cannot check its encryption`);
        }
        for (const volume of volumes) {
            judgeDevice(`volume ${volume.name} (attached by ${attachment.name})`, volume.props.encrypted, volume.props.snapshotId, "create it with encrypted: true", p);
        }
    }
}

/** The rule, as a pure function of the stack: one finding per workstation instance. */
export function checkWorkstationEncryptedVolumes(resources: Iterable<RuleResource>): Finding[] {
    const view = workstationView(resources);
    const findings = workstationFindings(view, checkWorkstation);
    if (view.workstations.length === 0) return findings;
    for (const r of view.index.unresolved([TYPES.volumeAttachment], "instanceId")) {
        findings.push(finding(r, unknown(`cannot tell whether volume attachment ${r.name} attaches a volume to the forensic workstation during preview: its instanceId is unknown`)));
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "The forensic workstation's volumes are encrypted",
    description:
        "The forensic workstation's root volume, EBS block devices, launch template EBS mappings and attached ebs.Volumes all set encrypted: true.",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["ec2", "ebs", "encryption", "workstation"],
    remediationSteps:
        "Set rootBlockDevice.encrypted: true (components/forensicWorkstation.ts does) and encrypted: true on every ebsBlockDevices " +
        "entry, launch template blockDeviceMappings ebs and aws.ebs.Volume attached to the workstation.",
    validateStack: onlyWithInstances((args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkWorkstationEncryptedVolumes(resources), "the stack has no forensic workstation")),
};
