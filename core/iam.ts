/**
 * IAM and resource policy documents, as pure functions of the ARNs they name. Components serialise them;
 * tests read them without Pulumi. Every `"Resource": "*"` below is there because the action has no
 * resource-level permission (named beside it), never for convenience.
 */
import { assumeResponderStatement, caseFunctionPolicy, containFunctionPolicy } from "./containmentPolicies";
import { TAGS } from "./tags";
import { CASE_TAG_NAMESPACE } from "./snapshotTags";

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: unknown;
    Action: string | string[];
    /** Absent only in trust policies, where IAM rejects it. */
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });

/** Where a stack's resources live: the pieces of every ARN it writes. */
export interface Scope {
    partition: string;
    region: string;
    accountId: string;
}

/**
 * Trust policy for a role assumed by an AWS service. With `sourceAccount` (Step Functions, EventBridge: both
 * send it) only that account's resources can make the service assume the role — the confused-deputy guard.
 * Lambda execution roles take no such condition: Lambda does not send the key when it assumes them.
 */
export function serviceTrustPolicy(service: string, sourceAccount?: string): PolicyDocument {
    const statement: PolicyStatement = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
    if (sourceAccount) statement.Condition = { StringEquals: { "aws:SourceAccount": sourceAccount } };
    return doc(statement);
}

/** Lambda's own log writing, to its one log group. */
export function logWritePolicy(logGroupArn: string): PolicyDocument {
    return doc({
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
    });
}

/** X-Ray segments: PutTraceSegments/PutTelemetryRecords have no resource-level permission. */
export const xrayWrite: PolicyStatement = {
    Sid: "XRayNoResourceLevelPermission",
    Effect: "Allow",
    Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    Resource: "*",
};

/** What the response functions act on, besides the instance's account. */
export interface ResponseResources {
    casesTableArn: string;
    evidenceBucketArn: string;
    evidenceKeyArn: string;
    memoryDocumentArn: string;
    captureRoleArn: string;
    /** The responder roles of the member accounts (exact ARNs) the functions assume; absent or empty in a single-account stack. */
    responderRoleArns?: readonly string[];
    /** The VPCs with an isolation group (ISOLATION_GROUPS' keys): Contain's network ACL rules are scoped to them. */
    vpcIds?: readonly string[];
    /**
     * `copySnapshotsToHub`: the snapshot function copies member snapshots into this account, reading them under
     * the members' share keys (exact key ARNs of this region) and encrypting under `evidenceKeyArn`. Absent: no copy.
     */
    snapshotCopy?: { memberShareKeyArns: readonly string[] };
    /**
     * Whether the functions' own account has instances to respond to (a member region here). False for a hub
     * account that is no member in this region: its roles then get none of the instance grants only members need
     * (they act there through the member's responder role). @default true
     */
    ownInstances?: boolean;
    /** The region's manifest-signing key (core/signature.ts): the seal may `kms:Sign` with it, nothing else. Absent: none. */
    manifestSigningKeyArn?: string;
}

/** The own-account instance statements, or none for a hub that has no instances of its own here. */
const own = (r: ResponseResources, statements: PolicyStatement[]): PolicyStatement[] => (r.ownInstances === false ? [] : statements);

const ec2Arn = (s: Scope, type: string) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:${type}/*`;

/** Cross-account: assume the responder roles of the member accounts (their trust policies name us). */
function assumeResponder(r: ResponseResources): PolicyStatement[] {
    return r.responderRoleArns?.length ? [assumeResponderStatement(r.responderRoleArns)] : [];
}

/** Reads with no resource-level permission (EC2, Auto Scaling, ELBv2 and SSM describe/list APIs). */
const describe = (sid: string, actions: string[]): PolicyStatement => ({ Sid: `${sid}NoResourceLevelPermission`, Effect: "Allow", Action: actions, Resource: "*" });

/** A policy's `Resource` or `Action`: one value as a string (as IAM shows it), several as a list. */
export const oneOrMany = (xs: readonly string[]): string | string[] => (xs.length === 1 ? xs[0] : [...xs]);

/** The AWS managed policy that lets Systems Manager (Session Manager, Run Command) manage an instance. */
export const SSM_MANAGED_INSTANCE_CORE = "AmazonSSMManagedInstanceCore";
export const ssmManagedInstanceCoreArn = (partition: string) => `arn:${partition}:iam::aws:policy/${SSM_MANAGED_INSTANCE_CORE}`;

/** Every snapshot of a region (a new snapshot has no id to name before it exists). */
const snapshotsOf = (s: Scope) => `arn:${s.partition}:ec2:${s.region}::snapshot/*`;

/**
 * What the snapshot step does in the instance's account: one crash-consistent CreateSnapshots per instance,
 * tagged with the case at creation, each snapshot then locked (LockSnapshot, DescribeLockedSnapshots to adopt a lock
 * an earlier attempt set), then DescribeSnapshots to follow them. The volumes' own tags are read
 * (DescribeVolumes) and copied to their snapshots after creation (core/snapshotTags.ts): CreateTags on evidence
 * snapshots only (`aws:ResourceTag/dfir:evidence` = disk, which they carry from creation), and never a key of the
 * case's namespace `dfir:*` (every key of the request, `ForAllValues:StringNotLike`): the case's tags are set at
 * creation only, and cannot be changed by this.
 */
export function snapshotStatements(s: Scope): PolicyStatement[] {
    return [
        describe("Describe", ["ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeLockedSnapshots"]),
        {
            Sid: "CreateSnapshots",
            Effect: "Allow",
            Action: "ec2:CreateSnapshots",
            Resource: [ec2Arn(s, "instance"), ec2Arn(s, "volume"), snapshotsOf(s)],
        },
        {
            Sid: "TagSnapshotsAtCreation",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { "ec2:CreateAction": "CreateSnapshots" } },
        },
        {
            // Each evidence snapshot locked in compliance mode (core/snapshotLock.ts): evidence snapshots only, which
            // carry `dfir:evidence` = disk from creation (LockSnapshot takes aws:ResourceTag on the snapshot:
            // Service Authorization Reference, Amazon EC2). The hub's copies: hubSnapshotCopyStatements.
            Sid: "LockEvidenceSnapshots",
            Effect: "Allow",
            Action: "ec2:LockSnapshot",
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { [`aws:ResourceTag/${TAGS.evidence}`]: TAGS.evidenceDisk } },
        },
        {
            Sid: "CopyVolumeTagsToEvidenceSnapshots",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: snapshotsOf(s),
            Condition: {
                StringEquals: { [`aws:ResourceTag/${TAGS.evidence}`]: TAGS.evidenceDisk },
                "ForAllValues:StringNotLike": { "aws:TagKeys": [`${CASE_TAG_NAMESPACE}*`] },
            },
        },
    ];
}

/**
 * What EBS needs of a KMS key to read or write an encrypted snapshot copy for the caller (EBS user guide, "Share
 * the KMS key used to encrypt a shared snapshot"): describe, decrypt, re-encrypt, data keys, and grants only
 * for EBS itself (`kms:GrantIsForAWSResource`), never a grant a principal could use directly.
 */
export const SNAPSHOT_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncrypt*", "kms:GenerateDataKey*"] as const;

/** The two statements of {@link SNAPSHOT_KEY_ACTIONS} plus grants-for-EBS on the given keys (identity policies). */
export function snapshotKeyStatements(sid: string, keyArns: readonly string[]): PolicyStatement[] {
    if (keyArns.length === 0) return [];
    const Resource = keyArns.length === 1 ? keyArns[0] : [...keyArns];
    return [
        { Sid: sid, Effect: "Allow", Action: [...SNAPSHOT_KEY_ACTIONS], Resource },
        { Sid: `${sid}Grants`, Effect: "Allow", Action: "kms:CreateGrant", Resource, Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } },
    ];
}

/**
 * Copies of evidence snapshots, made by CopySnapshot: EC2 authorizes CopySnapshot on the NEW snapshot only (the
 * service authorization reference: "resource-level permissions ... apply to the new snapshot only"), with the
 * request's tags as its condition keys. So the copy is allowed only when it is tagged, at creation, as this kind of
 * evidence copy, and tags may be set only by that CopySnapshot.
 */
function copySnapshotStatements(s: Scope, sid: string, kind: string): PolicyStatement[] {
    return [
        {
            Sid: sid,
            Effect: "Allow",
            Action: "ec2:CopySnapshot",
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { [`aws:RequestTag/${TAGS.evidence}`]: kind } },
        },
        {
            Sid: `Tag${sid}AtCreation`,
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { "ec2:CreateAction": "CopySnapshot" } },
        },
    ];
}

/**
 * The hub's half of `copySnapshotsToHub`, on the snapshot function: copy the members' shared snapshots into the
 * hub (tagged as hub copies at creation), reading them under the members' share keys and encrypting under the
 * region's evidence key. DescribeSnapshots (following the copies) is already in {@link snapshotStatements}.
 */
export function hubSnapshotCopyStatements(s: Scope, evidenceKeyArn: string, memberShareKeyArns: readonly string[]): PolicyStatement[] {
    return [
        // Following its own copies needs DescribeSnapshots in the hub, also where the hub has no instances of its own;
        // locking them (as the member snapshots are) DescribeLockedSnapshots and LockSnapshot on hub copies only.
        describe("DescribeHubCopies", ["ec2:DescribeSnapshots", "ec2:DescribeLockedSnapshots"]),
        {
            Sid: "LockHubCopies",
            Effect: "Allow",
            Action: "ec2:LockSnapshot",
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { [`aws:ResourceTag/${TAGS.evidence}`]: TAGS.evidenceHubCopy } },
        },
        ...copySnapshotStatements(s, "CopyMemberSnapshotsIntoHub", TAGS.evidenceHubCopy),
        ...snapshotKeyStatements("EncryptHubCopiesWithEvidenceKey", [evidenceKeyArn]),
        ...snapshotKeyStatements("ReadMemberCopiesWithShareKeys", [...new Set(memberShareKeyArns)].sort()),
    ];
}

/**
 * What EBS needs of the key a snapshot is encrypted under to copy it, as the caller (EBS User Guide, "Requirements
 * for Amazon EBS encryption" and "Copy an Amazon EBS snapshot"): describe it, decrypt and re-encrypt from it, and
 * grants for EBS itself only. Reading only: nothing is ever encrypted under such a key.
 */
export const SOURCE_KEY_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"] as const;

/**
 * The member's volumes may be under any customer managed key of the account: its evidence snapshots are, and the
 * member copy (CopySnapshot under the share key) needs that key. The responder role may use every key of the account
 * for that, but only through EC2 (`kms:ViaService` = `ec2.<region>.amazonaws.com`, KMS Developer Guide, "AWS KMS
 * condition keys": never a direct KMS call), for reading ({@link SOURCE_KEY_ACTIONS}) and grants for AWS resources.
 * An IAM policy grants use of a key only when the key's policy lets the account's IAM policies do so (the default key
 * policy's "Enable IAM User Permissions" statement; KMS Developer Guide, "Key policies in AWS KMS"): a key whose
 * policy does not is still refused, and EBS ends the copy in error ("Given key ID is not accessible"). Keys of other
 * accounts are not granted. (`kms:CallerAccount` would add nothing: the role is of this account.)
 */
export function memberVolumeKeyStatements(s: Scope): PolicyStatement[] {
    const Resource = `arn:${s.partition}:kms:${s.region}:${s.accountId}:key/*`;
    const viaEc2 = { StringLike: { "kms:ViaService": `ec2.${s.region}.amazonaws.com` } };
    return [
        { Sid: "ReadEvidenceUnderAccountKeysThroughEc2", Effect: "Allow", Action: [...SOURCE_KEY_ACTIONS], Resource, Condition: viaEc2 },
        {
            Sid: "ReadEvidenceUnderAccountKeysThroughEc2Grants",
            Effect: "Allow",
            Action: "kms:CreateGrant",
            Resource,
            Condition: { ...viaEc2, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
    ];
}

/**
 * The member's half of `copySnapshotsToHub`, on the responder role: copy the evidence snapshots re-encrypted
 * under the share key (tagged as share copies at creation), reading them under whatever key of the account their
 * volumes use ({@link memberVolumeKeyStatements}), and share exactly those copies (resource tag) with exactly the
 * hub account (`ec2:Add/userId`, every added id the hub, no group such as `all`).
 */
export function memberSnapshotShareStatements(s: Scope, hubAccountId: string, shareKeyArns: readonly string[]): PolicyStatement[] {
    if (!/^\d{12}$/.test(hubAccountId)) throw new Error(`hubAccountId must be 12 digits, got ${hubAccountId}`);
    if (shareKeyArns.length === 0) throw new Error("shareKeyArns: at least one share key ARN is required");
    return [
        ...copySnapshotStatements(s, "CopyEvidenceSnapshotsToShare", TAGS.evidenceShareCopy),
        {
            Sid: "ShareCopiesWithHubOnly",
            Effect: "Allow",
            Action: "ec2:ModifySnapshotAttribute",
            Resource: snapshotsOf(s),
            Condition: {
                StringEquals: { [`aws:ResourceTag/${TAGS.evidence}`]: TAGS.evidenceShareCopy },
                "ForAllValues:StringEquals": { "ec2:Add/userId": [hubAccountId] },
                Null: { "ec2:Add/userId": "false", "ec2:Add/group": "true" },
            },
        },
        ...snapshotKeyStatements("UseShareKey", [...new Set(shareKeyArns)].sort()),
        ...memberVolumeKeyStatements(s),
    ];
}

/** Disk evidence: one crash-consistent CreateSnapshots per instance, tagged at creation (and the hub copy, when on). */
export function snapshotPolicy(s: Scope, r: ResponseResources, logGroupArn: string): PolicyDocument {
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        ...own(r, snapshotStatements(s)),
        ...(r.snapshotCopy ? hubSnapshotCopyStatements(s, r.evidenceKeyArn, r.snapshotCopy.memberShareKeyArns) : []),
        ...assumeResponder(r),
    );
}

/**
 * Key policy of a member region's share key (`copySnapshotsToHub`): the account administers it through IAM (its
 * responder role gets its use there); the hub's snapshot function roles of that region may use it to copy the
 * shared snapshots — the hub account's root as principal (always valid) narrowed to exactly those roles by
 * `aws:PrincipalArn`, and grants only for EBS.
 */
export function snapshotShareKeyPolicy(partition: string, accountId: string, hubSnapshotRoleArns: readonly string[]): PolicyDocument {
    if (hubSnapshotRoleArns.length === 0) throw new Error("hubSnapshotRoleArns: at least one hub snapshot role ARN is required");
    const who = exactRolePrincipals(hubSnapshotRoleArns);
    return doc(
        accountAdministersKey(partition, accountId),
        { Sid: "HubSnapshotFunctionsCopy", Effect: "Allow", ...who, Action: [...SNAPSHOT_KEY_ACTIONS], Resource: "*" },
        {
            Sid: "HubSnapshotFunctionsGrantToEbs",
            Effect: "Allow",
            ...who,
            Action: "kms:CreateGrant",
            Resource: "*",
            Condition: { ...who.Condition, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
    );
}

/**
 * What the memory step does in the instance's account: check the agent, find a capture an earlier attempt already
 * sent (`ssm:ListCommands`, which has no resource-level permission), run the capture document (only the given
 * document ARNs) on instances with its output written to the evidence bucket(s), follow and cancel the command.
 * SendCommand is authorized on every resource it names: the document, each instance and the `OutputS3BucketName`
 * bucket (Service Authorization Reference, "Actions, resources, and condition keys for AWS Systems Manager":
 * SendCommand's resource types bucket, document, instance, managed-instance).
 */
export function memoryCommandStatements(s: Scope, memoryDocumentArns: string | readonly string[], outputBucketArns: string | readonly string[]): PolicyStatement[] {
    const buckets = ([] as string[]).concat(outputBucketArns);
    if (buckets.length === 0) throw new Error("memoryCommandStatements: at least one output (evidence) bucket ARN is required");
    return [
        describe("Describe", ["ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:ListCommands"]),
        {
            Sid: "RunCaptureDocumentOnInstances",
            Effect: "Allow",
            Action: "ssm:SendCommand",
            Resource: [...([] as string[]).concat(memoryDocumentArns), ec2Arn(s, "instance"), ...buckets],
        },
        // CancelCommand has no resource-level permission (SSM authorization reference).
        describe("Cancel", ["ssm:CancelCommand"]),
    ];
}

/**
 * Memory evidence: check the agent, run the project's document, verify the image from its sidecar and the part
 * checksums S3 kept (GetObjectAttributes without a version id: s3:GetObject and s3:GetObjectAttributes).
 */
export function memoryPolicy(s: Scope, r: ResponseResources, logGroupArn: string): PolicyDocument {
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        ...own(r, memoryCommandStatements(s, r.memoryDocumentArn, r.evidenceBucketArn)),
        {
            // HeadObject of a missing key answers 404 only to a caller allowed s3:ListBucket on it, 403 otherwise
            // (S3 API Reference, HeadObject, "Permissions"): a staged avml that is missing must read as missing
            // (avml-not-staged), not as forbidden. Listing limited to the tools.
            Sid: "TellMissingToolFromForbidden",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: r.evidenceBucketArn,
            Condition: { StringLike: { "s3:prefix": "tools/*" } },
        },
        {
            Sid: "ReadToolsAndMemoryEvidence",
            Effect: "Allow",
            Action: "s3:GetObject",
            Resource: [`${r.evidenceBucketArn}/tools/*`, `${r.evidenceBucketArn}/cases/*`],
        },
        { Sid: "ReadMemoryImagePartChecksums", Effect: "Allow", Action: "s3:GetObjectAttributes", Resource: `${r.evidenceBucketArn}/cases/*/memory/*` },
        { Sid: "DecryptEvidence", Effect: "Allow", Action: "kms:Decrypt", Resource: r.evidenceKeyArn },
        ...assumeResponder(r),
    );
}

/** Writing locked evidence objects under cases/ (metadata and the manifest). */
const writeEvidence = (r: ResponseResources): PolicyStatement[] => [
    {
        Sid: "WriteLockedEvidence",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:PutObjectRetention"],
        Resource: `${r.evidenceBucketArn}/cases/*`,
    },
    { Sid: "EncryptEvidence", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: r.evidenceKeyArn },
];

/** What the metadata step reads in the instance's account: the instance, its interfaces, its console. */
export function metadataReadStatements(s: Scope): PolicyStatement[] {
    return [
        describe("Describe", ["ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces"]),
        { Sid: "ReadConsole", Effect: "Allow", Action: ["ec2:GetConsoleOutput", "ec2:GetConsoleScreenshot"], Resource: ec2Arn(s, "instance") },
    ];
}

/** Metadata evidence: describe the instance and its interfaces, read its console; store it all locked. */
export function metadataPolicy(s: Scope, r: ResponseResources, logGroupArn: string): PolicyDocument {
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        ...own(r, metadataReadStatements(s)),
        ...writeEvidence(r),
        ...assumeResponder(r),
    );
}

/** Seal: write the locked manifest and record the case's final status. */
export function sealPolicy(r: ResponseResources, logGroupArn: string): PolicyDocument {
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        ...writeEvidence(r),
        // A retried seal reads back the manifest it already wrote (the key exists: If-None-Match failed).
        { Sid: "ReadBackManifest", Effect: "Allow", Action: "s3:GetObject", Resource: `${r.evidenceBucketArn}/cases/*` },
        { Sid: "CaseRegistry", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: r.casesTableArn },
        ...manifestSigningStatements(r),
    );
}

/**
 * Signing a manifest's sha256 with the region's signing key (KMS `Sign`, core/signature.ts), only with the algorithm
 * and message type the manifest's signature uses (`kms:SigningAlgorithm`, `kms:MessageType`: KMS Developer Guide,
 * "AWS KMS condition keys").
 */
export function manifestSigningStatements(r: Pick<ResponseResources, "manifestSigningKeyArn">): PolicyStatement[] {
    if (!r.manifestSigningKeyArn) return [];
    return [{
        Sid: "SignManifestDigest",
        Effect: "Allow",
        Action: "kms:Sign",
        Resource: r.manifestSigningKeyArn,
        Condition: { StringEquals: { "kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "DIGEST" } },
    }];
}

/** The response functions that sign with the evidence store's key: the seal its manifest, the digest step its record. */
export const SIGNING_FUNCTIONS: readonly ResponseFunction[] = ["seal", "digest"];

/**
 * The name prefixes of a workflow's signing roles (`<workflow>-<function>`: ResponseWorkflow names each function's
 * role so, and Pulumi adds a suffix), the only principals the signing key's policy lets sign.
 */
export function signerRoleNamePrefixes(workflowName: string): string[] {
    return SIGNING_FUNCTIONS.map((fn) => `${workflowName}-${fn}`);
}

/**
 * Key policy of an evidence store's manifest-signing key: the account administers it through IAM (so analysts'
 * IAM policies can allow `kms:GetPublicKey`), and nobody signs with it but the roles named by `signerRoleNamePrefixes`
 * (the seal function's role, `<workflow>-seal...`, whose generated name starts with it): a deny on `kms:Sign` for
 * any other principal of any account, so an IAM policy granting `kms:*` elsewhere cannot forge a manifest's signature.
 * Without prefixes: the account administers it, no deny.
 */
export function manifestSigningKeyPolicy(partition: string, accountId: string, signerRoleNamePrefixes: readonly string[] = []): PolicyDocument {
    const patterns = [...new Set(signerRoleNamePrefixes)].sort().map((prefix) => `arn:${partition}:iam::${accountId}:role/${prefix}*`);
    return doc(
        accountAdministersKey(partition, accountId),
        ...(patterns.length === 0 ? [] : [{
            Sid: "OnlyTheSealSigns",
            Effect: "Deny" as const,
            Principal: { AWS: "*" },
            Action: "kms:Sign",
            Resource: "*",
            Condition: { ArnNotLike: { "aws:PrincipalArn": oneOrMany(patterns) } },
        }]),
    );
}

/**
 * The forensic-capture instance profile's role, swapped onto a contained instance: SSM (to run the capture
 * document), the pinned tools, and writing memory images. It is shared by every contained instance, so it is
 * scoped to memory keys of any case, not one case (docs/limitations.md); Object Lock keeps it from altering
 * anything already written.
 */
export function capturePolicy(evidenceBucketArn: string, evidenceKeyArn: string): PolicyDocument {
    return doc(...captureStatements([evidenceBucketArn], [evidenceKeyArn]));
}

/**
 * The capture role's statements for any number of evidence buckets and keys (a member account's capture role
 * uploads to the hub's stores): read the pinned tools, write memory images and command output (the `memory/` and
 * `ssm/` folders of any case), encrypt with the keys. A single bucket or key is written as a string, as IAM shows it.
 */
export function captureStatements(bucketArns: readonly string[], keyArns: readonly string[]): PolicyStatement[] {
    if (bucketArns.length === 0 || keyArns.length === 0) throw new Error("at least one evidence bucket ARN and one key ARN are required");
    return [
        { Sid: "ReadPinnedTools", Effect: "Allow", Action: "s3:GetObject", Resource: oneOrMany(bucketArns.map((b) => `${b}/tools/*`)) },
        { Sid: "WriteMemoryImages", Effect: "Allow", Action: "s3:PutObject", Resource: bucketArns.flatMap((b) => [`${b}/cases/*/memory/*`, `${b}/cases/*/ssm/*`]) },
        { Sid: "EncryptEvidence", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: oneOrMany([...keyArns]) },
    ];
}

/** The triage function only writes its logs and traces. */
export function triagePolicy(logGroupArn: string): PolicyDocument {
    return doc(...logWritePolicy(logGroupArn).Statement, xrayWrite);
}

/**
 * The state machine: invoke its two functions, publish to its (encrypted) topic, deliver its logs and traces.
 * CloudWatch Logs delivery actions have no resource-level permission (Step Functions documents `*`).
 */
export function stateMachinePolicy(functionArns: string[], topicArns: string[], topicKeyArn: string, ownMachine?: DistributedMapScope): PolicyDocument {
    return doc(
        ...(ownMachine ? distributedMapStatements(ownMachine) : []),
        {
            Sid: "InvokeOwnFunctions",
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: functionArns.flatMap((a) => [a, `${a}:*`]),
        },
        { Sid: "Notify", Effect: "Allow", Action: "sns:Publish", Resource: topicArns },
        { Sid: "NotifyEncrypted", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: topicKeyArn },
        {
            Sid: "LogDeliveryNoResourceLevelPermission",
            Effect: "Allow",
            Action: [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            Resource: "*",
        },
        {
            Sid: "XRayNoResourceLevelPermission",
            Effect: "Allow",
            Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            Resource: "*",
        },
    );
}

/** The state machine a Distributed Map runs in: its ARN, or a pattern of it (`stateMachine:<component>-response*`, the name Pulumi gives it). */
export interface DistributedMapScope {
    stateMachineArn: string;
    /** Its executions (`execution:<machine>:*`). */
    executionArns: string;
}

/**
 * A Distributed Map (the disk digests' DigestChunks) runs each item as a child execution of the state machine itself:
 * its role starts them (`states:StartExecution` on the state machine) and follows or stops them
 * (`states:DescribeExecution`, `states:StopExecution` on its executions): Step Functions developer guide, "IAM
 * policies for using Distributed Map states".
 */
export function distributedMapStatements(m: DistributedMapScope): PolicyStatement[] {
    return [
        { Sid: "DistributedMapStartsChildExecutions", Effect: "Allow", Action: "states:StartExecution", Resource: m.stateMachineArn },
        { Sid: "DistributedMapFollowsChildExecutions", Effect: "Allow", Action: ["states:DescribeExecution", "states:StopExecution"], Resource: m.executionArns },
    ];
}

/** The Distributed Map scope of a component's state machine (named `<component>-response` plus Pulumi's suffix). */
export function componentMachineScope(s: Scope, component: string): DistributedMapScope {
    return {
        stateMachineArn: `arn:${s.partition}:states:${s.region}:${s.accountId}:stateMachine:${component}-response*`,
        executionArns: `arn:${s.partition}:states:${s.region}:${s.accountId}:execution:${component}-response*:*`,
    };
}

/**
 * The disk digests' reads in the instance's account (functions/digest): the EBS direct APIs' ListSnapshotBlocks and
 * GetSnapshotBlock on evidence snapshots only (`aws:ResourceTag/dfir:evidence` = disk: both actions take the snapshot
 * resource and aws:ResourceTag, Service Authorization Reference, "Actions, resources, and condition keys for Amazon
 * Elastic Block Store"; EBS user guide, "Control access to EBS direct APIs using IAM"). An encrypted snapshot needs
 * `kms:Decrypt` on its key ("Frequently asked questions for EBS direct APIs"): the account's keys, through EBS only
 * (`kms:ViaService` = `ebs.<region>.amazonaws.com`: an assumption, docs/limitations.md).
 */
export function digestReadStatements(s: Scope): PolicyStatement[] {
    return [
        {
            Sid: "ReadEvidenceSnapshotBlocks",
            Effect: "Allow",
            Action: ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"],
            Resource: snapshotsOf(s),
            Condition: { StringEquals: { [`aws:ResourceTag/${TAGS.evidence}`]: TAGS.evidenceDisk } },
        },
        {
            Sid: "DecryptEvidenceSnapshotBlocksThroughEbs",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: `arn:${s.partition}:kms:${s.region}:${s.accountId}:key/*`,
            Condition: { StringLike: { "kms:ViaService": `ebs.${s.region}.amazonaws.com` } },
        },
    ];
}

/** Disk digests: read the evidence snapshots' blocks (own account, or through the responder role), write the locked digest record, record it on the case. */
export function digestPolicy(s: Scope, r: ResponseResources, logGroupArn: string): PolicyDocument {
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        ...own(r, digestReadStatements(s)),
        ...writeEvidence(r),
        // A retried record step reads back the record it already wrote (the key exists: If-None-Match failed).
        { Sid: "ReadBackDigestRecord", Effect: "Allow", Action: "s3:GetObject", Resource: `${r.evidenceBucketArn}/cases/*` },
        { Sid: "CaseRegistry", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: r.casesTableArn },
        // The record is signed as the manifest is (functions/lib/signing.ts).
        ...manifestSigningStatements(r),
        ...assumeResponder(r),
    );
}

/** EventBridge starts executions of exactly one state machine. */
export function startExecutionPolicy(stateMachineArn: string): PolicyDocument {
    return doc({ Sid: "StartResponse", Effect: "Allow", Action: "states:StartExecution", Resource: stateMachineArn });
}

/** The dead-letter queue accepts events only from the response rule. */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string | readonly string[]): PolicyDocument {
    const rules = typeof ruleArn === "string" ? ruleArn : ruleArn.length === 1 ? ruleArn[0] : [...ruleArn];
    return doc({
        Sid: "FromResponseRuleOnly",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": rules } },
    });
}

/** The actions that could shorten or remove the evidence's protection. */
export const EVIDENCE_TAMPER_ACTIONS = [
    "s3:BypassGovernanceRetention",
    "s3:DeleteObjectVersion",
    "s3:PutBucketObjectLockConfiguration",
] as const;

/**
 * Evidence bucket policy: TLS only, and nobody but the break-glass role may delete versions, bypass governance
 * retention or change the lock configuration. Without a break-glass role the deny covers everyone (COMPLIANCE
 * retention already binds root; this also stops anyone shortening the *default* retention for new evidence).
 */
export function evidenceBucketPolicy(bucketArn: string, breakGlassRoleArn?: string, memberCaptureRoleArns: readonly string[] = []): PolicyDocument {
    const tamper: PolicyStatement = {
        Sid: "DenyEvidenceTampering",
        Effect: "Deny",
        Principal: "*",
        Action: [...EVIDENCE_TAMPER_ACTIONS],
        Resource: [bucketArn, `${bucketArn}/*`],
    };
    if (breakGlassRoleArn) tamper.Condition = { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } };
    return doc(
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        tamper,
        ...memberCaptureBucketStatements(bucketArn, memberCaptureRoleArns),
    );
}

/** The 12-digit account of an exact IAM role ARN. */
const roleAccountId = (roleArn: string): string => {
    const account = roleArn.split(":")[4];
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn) || roleArn.includes("*")) throw new Error(`${roleArn} is not an exact IAM role ARN`);
    return account;
};

/** A key policy's first statement: the account administers the key through IAM (what the default key policy says). */
function accountAdministersKey(partition: string, accountId: string): PolicyStatement {
    return { Sid: "AccountAdministersThroughIam", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" };
}

/**
 * Who may act cross-account: the roles' account roots as principals (always valid, unlike a role that may not
 * exist yet, which IAM rejects as an invalid principal), narrowed to exactly those roles by `aws:PrincipalArn`
 * (members' capture roles on the hub's store and key, the hub's snapshot roles on a member's share key).
 */
function exactRolePrincipals(roleArns: readonly string[]): Pick<PolicyStatement, "Principal" | "Condition"> {
    const roles = [...new Set(roleArns)].sort();
    const partition = roles[0].split(":")[1];
    const roots = [...new Set(roles.map((r) => `arn:${partition}:iam::${roleAccountId(r)}:root`))];
    return { Principal: { AWS: roots.length === 1 ? roots[0] : roots }, Condition: { ArnEquals: { "aws:PrincipalArn": roles.length === 1 ? roles[0] : roles } } };
}

/**
 * The bucket-policy half of a member's capture role writing to the hub's evidence store (its IAM half is
 * `captureStatements`): read the pinned tools, write memory images and command output. Nothing else: no list,
 * no read of evidence, no delete.
 */
export function memberCaptureBucketStatements(bucketArn: string, captureRoleArns: readonly string[]): PolicyStatement[] {
    if (captureRoleArns.length === 0) return [];
    const who = exactRolePrincipals(captureRoleArns);
    return [
        { Sid: "MemberCaptureReadsPinnedTools", Effect: "Allow", ...who, Action: "s3:GetObject", Resource: `${bucketArn}/tools/*` },
        { Sid: "MemberCaptureWritesMemory", Effect: "Allow", ...who, Action: "s3:PutObject", Resource: [`${bucketArn}/cases/*/memory/*`, `${bucketArn}/cases/*/ssm/*`] },
    ];
}

/**
 * Key policy of an evidence store's KMS key when member accounts write to it: the account administers the key
 * through IAM (the default key policy), and the members' capture roles may encrypt (and decrypt, which a multipart
 * upload needs) with it.
 */
export function evidenceKeyPolicy(partition: string, accountId: string, memberCaptureRoleArns: readonly string[]): PolicyDocument {
    return doc(
        accountAdministersKey(partition, accountId),
        ...(memberCaptureRoleArns.length === 0 ? [] : [{
            Sid: "MemberCaptureEncrypts",
            Effect: "Allow" as const,
            ...exactRolePrincipals(memberCaptureRoleArns),
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: "*",
        }]),
    );
}

/**
 * Key policy of the notification topic's KMS key. The AWS-managed `aws/sns` key cannot be used: its policy
 * admits no service principal, so CloudWatch alarms could not publish to the topic. The account keeps
 * administration through IAM; CloudWatch may only encrypt for this account's alarms.
 */
export function notificationKeyPolicy(partition: string, accountId: string): PolicyDocument {
    return doc(
        accountAdministersKey(partition, accountId),
        {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
    );
}

/** The response workflow's Lambda functions (one role each). */
export type ResponseFunction = "triage" | "case" | "contain" | "snapshot" | "memory" | "metadata" | "seal" | "digest";
export const RESPONSE_FUNCTIONS: readonly ResponseFunction[] = ["triage", "case", "contain", "snapshot", "memory", "metadata", "seal", "digest"];
/** The functions that act in member accounts (through the responder role): whose roles a responder role trusts. */
export const MEMBER_ACTING_FUNCTIONS: readonly ResponseFunction[] = ["case", "contain", "snapshot", "memory", "metadata", "digest"];

/** Log writing and traces first, then the function's own statements (what every function role gets). */
function withLogs(d: PolicyDocument, logGroupArn: string): PolicyDocument {
    return { ...d, Statement: [...logWritePolicy(logGroupArn).Statement, xrayWrite, ...d.Statement] };
}

/**
 * The inline policy of one response function's role, exactly as the ResponseWorkflow component `component` deploys
 * it (the component and the drill's simulated deployment both call this). Contain never writes a role of the
 * component itself (`role/<component>-*`: the responders' own roles).
 */
export function responseFunctionPolicy(fn: ResponseFunction, component: string, s: Scope, r: ResponseResources, logGroupArn: string): PolicyDocument {
    switch (fn) {
        case "triage":
            return triagePolicy(logGroupArn);
        case "case":
            return withLogs(caseFunctionPolicy(s, { casesTableArn: r.casesTableArn, responderRoleArns: r.responderRoleArns, ownInstances: r.ownInstances }), logGroupArn);
        case "contain":
            return withLogs(containFunctionPolicy(s, {
                ownInstances: r.ownInstances,
                captureRoleArns: [r.captureRoleArn],
                // The responders' own roles (every role the component names) are never a revocation target.
                protectedRoleArns: [`arn:${s.partition}:iam::${s.accountId}:role/${component}-*`],
                responderRoleArns: r.responderRoleArns,
                casesTableArn: r.casesTableArn,
                ...(r.vpcIds ? { vpcIds: r.vpcIds } : {}),
            }), logGroupArn);
        case "snapshot":
            return snapshotPolicy(s, r, logGroupArn);
        case "memory":
            return memoryPolicy(s, r, logGroupArn);
        case "metadata":
            return metadataPolicy(s, r, logGroupArn);
        case "seal":
            return sealPolicy(r, logGroupArn);
        case "digest":
            return digestPolicy(s, r, logGroupArn);
    }
}
