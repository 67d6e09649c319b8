import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { snapshotShareKeyPolicy } from "../core/iam";
import { DEFAULT_MEMORY_DOCUMENT_NAME, SNAPSHOT_SHARE_KEY_ALIAS } from "../core/memberPolicies";
import { memoryCaptureDocument, readCaptureScript } from "../core/ssmDocument";
import { FindingForwarder, type FindingForwarderArgs } from "./findingForwarder";
import { IsolationNetwork } from "./isolationNetwork";

export interface MemberRegionArgs {
    /** The VPCs to prepare (ids known at construction: "all" is resolved by the caller with a data source). */
    readonly vpcIds: readonly string[];
    /** Also create each VPC's all-open "untrack" group. @default true */
    readonly untrackGroup?: boolean;
    /**
     * Name of the memory-capture SSM document, the same in every member region: the hub's memory function sends
     * it by name through the responder role, whose policy admits only this name. @default "dfir-memory-capture"
     */
    readonly memoryDocumentName?: string;
    /** Forward this region's findings to the hub's bus (a member outside a GuardDuty organization). @default none */
    readonly forwardTo?: { readonly hubAccountId: string; readonly hubRegion: string; readonly minSeverity: number; readonly allowSamples: boolean; readonly triggers?: FindingForwarderArgs["triggers"] };
    /**
     * `copySnapshotsToHub`: create the region's share key (alias `alias/dfir-snapshot-share`), which the responder
     * re-encrypts evidence snapshots with to share them with the hub, usable by exactly the hub's snapshot function
     * roles of this region (EBS cannot share snapshots under the default `aws/ebs` key). @default none: no key
     */
    readonly snapshotShare?: { readonly hubSnapshotRoleArns: pulumi.Input<pulumi.Input<string>[]> };
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * What one member account needs in one region for the hub's workflow there: each VPC's isolation network, the
 * memory-capture document, (outside a GuardDuty organization) the rule forwarding findings to the hub, and (with
 * `copySnapshotsToHub`) the KMS key evidence snapshots are re-encrypted with to be shared with the hub.
 * Created with the member's provider for that region in `opts`. The document is created per member region
 * rather than shared from the hub: SendCommand runs a shared document only by its full ARN and every document
 * version change would need re-sharing, and a per-account document keeps the responder role's permission to one
 * name in its own account.
 */
export class MemberRegion extends pulumi.ComponentResource {
    /** vpcId -> isolation group id, for the hub workflow's ISOLATION_GROUPS. */
    public readonly isolationGroups: pulumi.Output<Record<string, string>>;
    /** vpcId -> untrack group id (empty when untrack groups are off). */
    public readonly untrackGroups: pulumi.Output<Record<string, string>>;
    public readonly memoryDocumentName: pulumi.Output<string>;
    public readonly networks: readonly IsolationNetwork[];
    /** The share key's ARN (`snapshotShare`), for the responder's and the hub's policies; undefined without. */
    public readonly snapshotShareKeyArn?: pulumi.Output<string>;

    constructor(name: string, args: MemberRegionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:member:MemberRegion", name, {}, opts);
        const parent = { parent: this };
        const tags = { ...args.tags };
        const duplicate = args.vpcIds.find((id, i) => args.vpcIds.indexOf(id) !== i);
        if (duplicate) throw new Error(`MemberRegion ${name}: ${duplicate} is listed twice`);

        const document = new aws.ssm.Document(`${name}-memory-capture`, {
            name: args.memoryDocumentName ?? DEFAULT_MEMORY_DOCUMENT_NAME,
            documentType: "Command",
            documentFormat: "JSON",
            content: JSON.stringify(memoryCaptureDocument(readCaptureScript())),
            tags,
        }, parent);

        this.networks = [...args.vpcIds].sort().map((vpcId) => new IsolationNetwork(`${name}-${vpcId}`, {
            vpcId,
            createEndpoints: true,
            untrackGroup: args.untrackGroup ?? true,
            tags,
        }, parent));

        if (args.forwardTo) {
            new FindingForwarder(`${name}-forwarder`, {
                hubAccountId: args.forwardTo.hubAccountId,
                hubRegion: args.forwardTo.hubRegion,
                minSeverity: args.forwardTo.minSeverity,
                allowSamples: args.forwardTo.allowSamples,
                triggers: args.forwardTo.triggers,
                tags,
            }, parent);
        }

        if (args.snapshotShare) {
            const share = args.snapshotShare;
            const account = aws.getCallerIdentityOutput({}, parent).accountId;
            const partition = aws.getPartitionOutput({}, parent).partition;
            const key = new aws.kms.Key(`${name}-snapshot-share`, {
                description: "aws-dfir: re-encrypts this region's evidence snapshots to share them with the forensics hub",
                enableKeyRotation: true,
                deletionWindowInDays: 30,
                policy: pulumi.all([partition, account, pulumi.output(share.hubSnapshotRoleArns)])
                    .apply(([p, a, roles]) => JSON.stringify(snapshotShareKeyPolicy(p, a, roles))),
                tags,
            }, parent);
            new aws.kms.Alias(`${name}-snapshot-share`, { name: SNAPSHOT_SHARE_KEY_ALIAS, targetKeyId: key.keyId }, parent);
            this.snapshotShareKeyArn = key.arn;
        }

        const byVpc = (pick: (n: IsolationNetwork) => pulumi.Output<string> | undefined) =>
            pulumi.all(this.networks.flatMap((n) => {
                const id = pick(n);
                return id ? [pulumi.all([n.vpcId, id])] : [];
            })).apply((pairs) => Object.fromEntries(pairs));
        this.isolationGroups = byVpc((n) => n.securityGroupId);
        this.untrackGroups = byVpc((n) => n.untrackSecurityGroupId);
        this.memoryDocumentName = document.name;
        this.registerOutputs({
            isolationGroups: this.isolationGroups,
            untrackGroups: this.untrackGroups,
            memoryDocumentName: this.memoryDocumentName,
            ...(this.snapshotShareKeyArn ? { snapshotShareKeyArn: this.snapshotShareKeyArn } : {}),
        });
    }
}
