/**
 * What the rules see and return. Rules are pure functions of `RuleResource`s (one resource, or all of a stack)
 * returning `Verdict`s; `pack.ts` adapts @pulumi/policy's arguments to this shape and verdicts to reports, so
 * nothing here needs the policy runtime, and tests call the rules directly.
 */

/** One resource: its type, logical name, URN and properties, with links to other resources as URNs. */
export interface RuleResource {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Inputs (resource rules, at Analyze) or outputs (stack rules, at AnalyzeStack); plain JSON values. */
    readonly props: Readonly<Record<string, unknown>>;
    /** URN of the parent resource, when there is one. */
    readonly parent?: string;
    readonly dependencies?: readonly string[];
    /** Property name -> URNs of the resources that property's value came from. */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    /**
     * The provider the resource is created through, as the engine names it: an explicit `aws.Provider` or the
     * engine's default provider (`pulumi:providers:aws::default_<version>`). Absent for components and for
     * resources read from JSON without one.
     */
    readonly provider?: RuleProvider;
}

/** A provider: its URN and its configuration (inputs: region, allowedAccountIds, assumeRoles, ... as the engine keeps them). */
export interface RuleProvider {
    readonly urn: string;
    readonly props: Readonly<Record<string, unknown>>;
}

/**
 * The outcome of a rule for one resource. `unknown` means a value the rule needs is not known yet (preview):
 * it is reported as an advisory note, never treated as a pass.
 */
export type Verdict =
    | { readonly status: "compliant" }
    | { readonly status: "not-applicable"; readonly reason: string }
    | { readonly status: "violation"; readonly message: string }
    | { readonly status: "unknown"; readonly message: string };

/** A stack rule's verdict on one resource it applies to. */
export interface Finding {
    readonly urn: string;
    readonly name: string;
    readonly type: string;
    readonly verdict: Verdict;
}

export const compliant = (): Verdict => ({ status: "compliant" });
export const notApplicable = (reason: string): Verdict => ({ status: "not-applicable", reason });
export const violation = (message: string): Verdict => ({ status: "violation", message });
export const unknown = (message: string): Verdict => ({ status: "unknown", message });

export const finding = (r: RuleResource, verdict: Verdict): Finding => ({ urn: r.urn, name: r.name, type: r.type, verdict });

/**
 * Problems found on one resource. Definite problems make a violation (unknown values beside them add
 * nothing: the resource must change anyway); only unknowns make an advisory note.
 */
export class Problems {
    private readonly violations: string[] = [];
    private readonly unknowns: string[] = [];

    /** A definite problem, phrased as "<what is wrong> — <what to change>" (or core's "...; ..."). */
    violation(text: string): this {
        this.violations.push(text);
        return this;
    }

    /** A value the check needs is unknown (preview). */
    unknownValue(what: string): this {
        this.unknowns.push(`cannot check ${what} during preview: value unknown`);
        return this;
    }

    /** Any other reason the check cannot conclude during preview. */
    unknownNote(text: string): this {
        this.unknowns.push(text);
        return this;
    }

    /**
     * `subject` names the resource, e.g. "evidence bucket dfir-evidence", and prefixes the message; leave it out
     * when every problem names its resource already.
     */
    verdict(subject?: string): Verdict {
        const prefix = subject === undefined ? "" : `${subject}: `;
        if (this.violations.length > 0) return violation(`${prefix}${this.violations.join("; ")}`);
        if (this.unknowns.length > 0) return unknown(`${prefix}${this.unknowns.join("; ")}`);
        return compliant();
    }
}

/** Resource types the rules read. Legacy `...V2` S3 types are treated like the current ones. */
export const TYPES = {
    buckets: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    lockConfigs: [
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
    ],
    versionings: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
    encryptions: [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ],
    publicAccessBlocks: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    accountPublicAccessBlock: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    bucketAcls: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
    objects: ["aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject"],
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    stateMachine: "aws:sfn/stateMachine:StateMachine",
    detector: "aws:guardduty/detector:Detector",
    eventRule: "aws:cloudwatch/eventRule:EventRule",
    iamPolicy: "aws:iam/policy:Policy",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
    iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    iamRole: "aws:iam/role:Role",
    evidenceStore: "dfir:storage:EvidenceStore",
    lambdaFunction: "aws:lambda/function:Function",
    /** Resources that put a canned ACL or grants on S3 objects they write (s3-no-public-acl). */
    objectCopy: "aws:s3/objectCopy:ObjectCopy",
    bucketLoggings: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
    iotTopicRule: "aws:iot/topicRule:TopicRule",
    dmsS3Endpoint: "aws:dms/s3Endpoint:S3Endpoint",
    fileShares: ["aws:storagegateway/nfsFileShare:NfsFileShare", "aws:storagegateway/smbFileShare:SmbFileShare"],
    mediaLiveChannel: "aws:medialive/channel:Channel",
    // Prefix lists an egress rule may name (isolation-group-egress-endpoints-only).
    managedPrefixList: "aws:ec2/managedPrefixList:ManagedPrefixList",
    managedPrefixListEntry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
    vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    // KMS keys and what names them (kms-evidence-key-rotation).
    kmsKey: "aws:kms/key:Key",
    kmsReplicaKey: "aws:kms/replicaKey:ReplicaKey",
    kmsExternalKey: "aws:kms/externalKey:ExternalKey",
    kmsReplicaExternalKey: "aws:kms/replicaExternalKey:ReplicaExternalKey",
    kmsAlias: "aws:kms/alias:Alias",
    // The forensic workstation and what gives it addresses and volumes (workstation-* rules).
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    subnet: "aws:ec2/subnet:Subnet",
    eip: "aws:ec2/eip:Eip",
    eipAssociation: "aws:ec2/eipAssociation:EipAssociation",
    networkInterface: "aws:ec2/networkInterface:NetworkInterface",
    networkInterfaceAttachment: "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
    volume: "aws:ebs/volume:Volume",
    volumeAttachment: "aws:ec2/volumeAttachment:VolumeAttachment",
    forensicWorkstation: "dfir:analysis:ForensicWorkstation",
    // The evidence access trail (evidence-access-trail).
    trail: "aws:cloudtrail/trail:Trail",
} as const;

/**
 * The engine's placeholders for values unknown during preview, one per value type (the same strings
 * @pulumi/policy and the engine's MarshalProperties use). A property holding one of these is unknown.
 */
export const UNKNOWN_VALUES: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

/** The placeholder of an unknown string (what the engine sends for most unknowns). */
export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
    return typeof value === "string" && UNKNOWN_VALUES.has(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A known, non-empty string, or undefined. */
export function knownString(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" && !isUnknown(value) ? value : undefined;
}

/** The type of a URN (`urn:pulumi:<stack>::<project>::<parent types$type>::<name>`), without parent types. */
export function typeOfUrn(urn: string | undefined): string | undefined {
    if (urn === undefined) return undefined;
    const qualified = urn.split("::")[2];
    return qualified?.split("$").pop();
}

/** Whether the URN's qualified type names `type` as an ancestor (the parent chain is part of a URN). */
export function urnHasAncestorType(urn: string, type: string): boolean {
    const qualified = urn.split("::")[2];
    return qualified !== undefined && qualified.split("$").slice(0, -1).includes(type);
}

/**
 * A tag's value. Tags come from `tags` (the resource's own); `tagsAll` (provider default tags merged in) is
 * read only when `tags` does not have the key. When `tagsAll` is itself unknown — every new resource, during
 * preview — it is ignored rather than making every tag unknown: the tag contract puts `dfir:role` on the
 * resource itself. Only an unknown `tags` (or an unknown value of the key) is unknown. Which buckets and groups the
 * rules apply to is decided with membership.ts `effectiveTag` instead, which also reads the provider's defaultTags.
 */
export type TagValue = { readonly unknown: true } | { readonly unknown: false; readonly value?: string };

export function tagOf(props: Readonly<Record<string, unknown>>, key: string): TagValue {
    const tags = props.tags;
    if (isUnknown(tags)) return { unknown: true };
    for (const source of [tags, props.tagsAll]) {
        if (isObject(source) && Object.prototype.hasOwnProperty.call(source, key)) {
            const value = source[key];
            if (isUnknown(value)) return { unknown: true };
            return { unknown: false, value: typeof value === "string" ? value : undefined };
        }
    }
    return { unknown: false };
}

/** A JSON value as a list: a single value is a list of one, absent is empty. */
export function asList(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** Resource names, quoted for a message: "a, b and 3 more". */
export function listNames(names: readonly string[], max = 3): string {
    if (names.length <= max) return names.join(", ");
    return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}
