/**
 * IAM documents of a member account (one whose instances the hub's workflow responds to), as pure functions:
 * the responder role's trust and permissions, and the forensic-capture role's permissions. Built from the same
 * statement builders as the hub's own functions (`core/iam.ts`, `core/containmentPolicies.ts`), so the member
 * grants exactly what the functions do there through the role. Every `"Resource": "*"` is there because the
 * action has no resource-level permission.
 */
import { responderRolePolicy, type ResponderScope } from "./containmentPolicies";
import {
    captureStatements, digestReadStatements, memberSnapshotShareStatements, memoryCommandStatements, metadataReadStatements, snapshotStatements,
    type PolicyDocument, type PolicyStatement,
} from "./iam";
import { ROLE_ARN } from "./ids";
import { TAGS } from "./tags";

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });

/** Name of the responder role in every member account (the functions build its ARN from the account id). */
export const DEFAULT_RESPONDER_ROLE_NAME = "dfir-responder";
/** Name of the capture role and instance profile in every member account (Contain swaps the account in the hub's ARN). */
export const DEFAULT_CAPTURE_PROFILE_NAME = "dfir-capture";
/** Name of the memory-capture SSM document in every member region (SendCommand names it, not its ARN). */
export const DEFAULT_MEMORY_DOCUMENT_NAME = "dfir-memory-capture";
/**
 * Alias of the KMS key each member region re-encrypts its evidence snapshots with to share them with the hub
 * (`copySnapshotsToHub`; created by MemberRegion): snapshots under the default `aws/ebs` key cannot be shared.
 * The snapshot function names the key by this alias, so the same name is used in every member region.
 */
export const SNAPSHOT_SHARE_KEY_ALIAS = "alias/dfir-snapshot-share";

/** The share key of a member region, as the snapshot function gives it to CopySnapshot (an alias ARN). */
export function snapshotShareKeyAliasArn(partition: string, region: string, accountId: string): string {
    return `arn:${partition}:kms:${region}:${accountId}:${SNAPSHOT_SHARE_KEY_ALIAS}`;
}

/** The session name the functions give AssumeRole (`functions/lib/aws.ts`); the trust requires it. */
export const RESPONDER_SESSION_NAME = "aws-dfir-responder";
/** How long the functions ask for (`DurationSeconds` in `functions/lib/aws.ts`), and the role's maximum. */
export const RESPONDER_MAX_SESSION_SECONDS = 3600;

/** An IAM role ARN with no wildcard: `arn:<partition>:iam::<12 digits>:role/<path/name>`. */
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** Why a hub role ARN cannot be trusted (a wildcard, an account root, not a role), or undefined when it can. */
export function hubRoleArnProblem(arn: string): string | undefined {
    if (arn.includes("*") || arn.includes("?")) return `${arn} contains a wildcard`;
    if (!ROLE_ARN.test(arn)) return `${arn} is not an exact IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`;
    return undefined;
}

/** Options of {@link responderTrustPolicy}. */
export interface ResponderTrustOptions {
    /** Also require the caller to belong to this AWS Organization (`aws:PrincipalOrgID`). */
    organizationId?: string;
}

/** Whom a responder role trusts: roles of the hub account whose names start with one of the prefixes. */
export interface ResponderTrustees {
    readonly partition: string;
    readonly hubAccountId: string;
    /**
     * Name prefixes of the hub roles that may assume it: a response workflow's `<workflow>-` (its function roles are
     * named `<workflow>-<function>-<7 random characters>` by Pulumi), e.g. `dfir-response-us-east-1-` for a region
     * of this stack or `dfir-b-response-` for every region of the stack with shard b.
     */
    readonly roleNamePrefixes: readonly string[];
}

const ROLE_NAME_PREFIX = /^[\w+=,.@-]{1,63}-$/;

/**
 * Trust of the member's responder role: `sts:AssumeRole` by the hub account's roles named by `roleNamePrefixes`
 * (`aws:PrincipalArn` ArnLike `arn:<p>:iam::<hub>:role/<prefix>*`; never an account root alone: the IAM User Guide's
 * "AWS global condition context keys" gives, for a role session, the role's ARN as `aws:PrincipalArn`, and its
 * "IAM JSON policy elements: Principal" lets an account principal be narrowed by conditions), only with the
 * functions' session name (so CloudTrail in the member names every responder session the same way), and, in an
 * organization, only from a principal of that organization.
 *
 * Name patterns, not the roles' exact ARNs: IAM caps a role trust policy at 2,048 characters by default (IAM User
 * Guide, "IAM and AWS STS quotas": role trust policy length, adjustable to 4,096), and the exact ARNs of the six
 * member-acting functions of four hub regions already take about 2,000; several stacks sharing the account (their
 * shards) would not fit at all. What a pattern admits beyond the member-acting functions (the workflow's other
 * roles) has no sts:AssumeRole on the hub side, whose identity policies name the member's responder role exactly.
 * Whoever can create roles in the hub account could name one to match: as before, the hub account's IAM
 * administrators are inside the trust boundary (they can change the functions' code too). Throws on an empty or
 * malformed prefix list. Analysts never assume it: they have their own role, {@link memberAnalystAccessPolicy}.
 */
export function responderTrustPolicy(trustees: ResponderTrustees, options: ResponderTrustOptions = {}): PolicyDocument {
    const { partition, hubAccountId, roleNamePrefixes } = trustees;
    if (roleNamePrefixes.length === 0) throw new Error("roleNamePrefixes: at least one hub role-name prefix is required");
    if (!/^\d{12}$/.test(hubAccountId)) throw new Error(`hubAccountId: ${hubAccountId} is not a 12-digit account id`);
    const bad = roleNamePrefixes.find((prefix) => !ROLE_NAME_PREFIX.test(prefix));
    if (bad !== undefined) throw new Error(`roleNamePrefixes: ${JSON.stringify(bad)} is not a role-name prefix ending in "-" (no wildcard)`);
    if (options.organizationId !== undefined && !ORGANIZATION_ID.test(options.organizationId)) {
        throw new Error(`organizationId: ${options.organizationId} is not an organization id (o-...)`);
    }
    const equals: Record<string, string> = { "sts:RoleSessionName": RESPONDER_SESSION_NAME };
    if (options.organizationId) equals["aws:PrincipalOrgID"] = options.organizationId;
    const patterns = [...new Set(roleNamePrefixes)].sort().map((prefix) => `arn:${partition}:iam::${hubAccountId}:role/${prefix}*`);
    return doc({
        Sid: "HubResponseFunctionsOnly",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${hubAccountId}:root` },
        Action: "sts:AssumeRole",
        Condition: { ArnLike: { "aws:PrincipalArn": patterns.length === 1 ? patterns[0] : patterns }, StringEquals: equals },
    });
}

/** What the member's responder role acts on besides the account's instances. */
export interface MemberResponderOptions {
    /** The capture role(s) Contain passes to EC2 with the profile swap. */
    captureRoleArns: readonly string[];
    /**
     * Roles the session revocation must never attach its deny to: at least the responder role itself and the
     * capture role (a deny there would cut the response off from itself).
     */
    protectedRoleArns: readonly string[];
    /** The memory-capture document(s) SendCommand may run (exact ARNs). */
    memoryDocumentArns: readonly string[];
    /** The hub's evidence bucket(s) the capture command writes its output to (SendCommand's OutputS3BucketName). */
    evidenceBucketArns: readonly string[];
    /**
     * `copySnapshotsToHub`: the responder also copies evidence snapshots under the account's share keys (exact key
     * ARNs, one per member region) and shares those copies with the hub account. @default none: no copy
     */
    snapshotShare?: { hubAccountId: string; shareKeyArns: readonly string[] };
}

/**
 * The member's responder role: everything the functions do in the member account through it — OpenCase's reads
 * and Contain's changes (`responderRolePolicy`), the snapshot step (CreateSnapshots, tags at creation,
 * DescribeSnapshots; with `snapshotShare`, CopySnapshot under the share key and sharing those copies with the hub
 * only), the memory step (SendCommand of the capture document only, on instances, output to the hub's evidence
 * buckets; list commands to find
 * one an earlier attempt sent; follow and cancel the command) and the metadata step (describe the instance and its interfaces, console output and screenshot).
 * Evidence is written by the hub's own roles, so the role has no S3 permission, and KMS only on the share keys.
 * Every `*`-resource action is folded into one statement (IAM requires unique Sids; the builders each name theirs `...NoResourceLevelPermission`).
 *
 * `s.region` may be `*`: IAM is global and one role serves every region the hub responds in.
 */
export function memberResponderPolicy(s: ResponderScope, options: MemberResponderOptions): PolicyDocument {
    if (options.captureRoleArns.length === 0) throw new Error("captureRoleArns: at least one capture role ARN is required");
    if (options.protectedRoleArns.length === 0) throw new Error("protectedRoleArns: at least the responder role's ARN is required");
    if (options.memoryDocumentArns.length === 0) throw new Error("memoryDocumentArns: at least one document ARN is required");
    if (options.evidenceBucketArns.length === 0) throw new Error("evidenceBucketArns: at least one evidence bucket ARN is required");
    const statements = [
        ...responderRolePolicy(s, { captureRoleArns: options.captureRoleArns, protectedRoleArns: options.protectedRoleArns }).Statement,
        ...snapshotStatements(s),
        ...memoryCommandStatements(s, options.memoryDocumentArns, [...new Set(options.evidenceBucketArns)]),
        ...metadataReadStatements(s),
        ...digestReadStatements(s),
        ...(options.snapshotShare ? memberSnapshotShareStatements(s, options.snapshotShare.hubAccountId, options.snapshotShare.shareKeyArns) : []),
    ];
    const unscoped = (st: PolicyStatement) => st.Effect === "Allow" && st.Resource === "*" && st.Condition === undefined;
    const noResourceLevel: PolicyStatement = {
        Sid: "NoResourceLevelPermission",
        Effect: "Allow",
        Action: [...new Set(statements.filter(unscoped).flatMap((st) => ([] as string[]).concat(st.Action)))],
        Resource: "*",
    };
    return doc(noResourceLevel, ...statements.filter((st) => !unscoped(st)));
}

/** ARN of the memory-capture document of that name in every region of one account. */
export function memoryDocumentArnPattern(partition: string, accountId: string, documentName: string): string {
    return `arn:${partition}:ssm:*:${accountId}:document/${documentName}`;
}

/**
 * The member's capture role (on contained instances): read the hub's pinned tools, write memory images and SSM
 * command output to the hub's evidence buckets, encrypt with their keys. Same statements as the hub's own
 * capture role (`capturePolicy`), for lists of stores. The hub's bucket and key policies must admit the role too.
 */
export function memberCapturePolicy(evidenceBucketArns: readonly string[], evidenceKeyArns: readonly string[]): PolicyDocument {
    if (evidenceBucketArns.length === 0) throw new Error("evidenceBucketArns: at least one evidence bucket ARN is required");
    if (evidenceKeyArns.length === 0) throw new Error("evidenceKeyArns: at least one evidence key ARN is required");
    return doc(...captureStatements([...new Set(evidenceBucketArns)], [...new Set(evidenceKeyArns)]));
}

/** What a member account's responder role is deployed with (MemberAccess): its own ARN, the capture role, the document name. */
export interface MemberResponderDeployment {
    partition: string;
    accountId: string;
    responderRoleArn: string;
    captureRoleArn: string;
    memoryDocumentName: string;
    /** The hub's evidence buckets (the capture command's output goes there). */
    evidenceBucketArns: readonly string[];
    /** `copySnapshotsToHub` for this account: the hub account and the account's share keys (one per member region). */
    snapshotShare?: { hubAccountId: string; shareKeyArns: readonly string[] };
}

/**
 * The responder role's inline policy exactly as MemberAccess deploys it (MemberAccess and the drill's simulated
 * deployment both call this): every region (`*`), the revocation never reaching the role itself (self-escalation)
 * or the capture role, the memory document of that name in every region of the account.
 */
export function memberResponderRolePolicy(d: MemberResponderDeployment): PolicyDocument {
    return memberResponderPolicy({ partition: d.partition, region: "*", accountId: d.accountId }, {
        captureRoleArns: [d.captureRoleArn],
        protectedRoleArns: [d.responderRoleArn, d.captureRoleArn],
        memoryDocumentArns: [memoryDocumentArnPattern(d.partition, d.accountId, d.memoryDocumentName)],
        evidenceBucketArns: d.evidenceBucketArns,
        ...(d.snapshotShare ? { snapshotShare: d.snapshotShare } : {}),
    });
}

/**
 * Name of the analysts' role in every member account (MemberAccess creates it when `dfir:analystRoleArns` names the
 * hub's analyst principals): what `dfir plan`, `dfir verify` and `dfir release` assume for a member's case
 * (cli/context.ts `memberAccessRoleArn`). Not the responder role: an analyst gets what release and verify need,
 * never what the response does (snapshots, commands on instances, revoking sessions).
 */
export const ANALYST_ACCESS_ROLE_NAME = "dfir-analyst-access";

/** The analyst access role of a member account. */
export function analystAccessRoleArn(partition: string, accountId: string): string {
    return `arn:${partition}:iam::${accountId}:role/${ANALYST_ACCESS_ROLE_NAME}`;
}

/**
 * Trust of a member's analyst access role: `sts:AssumeRole` for exactly the hub's analyst roles (no wildcard, no
 * account root), and in an organization only from a principal of it. Throws on an empty list or a bad ARN.
 */
export function analystAccessTrustPolicy(analystRoleArns: readonly string[], options: { organizationId?: string } = {}): PolicyDocument {
    const analysts = [...new Set(analystRoleArns)];
    if (analysts.length === 0) throw new Error("analystRoleArns: at least one analyst role ARN is required");
    const problems = analysts.map(hubRoleArnProblem).filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new Error(`analystRoleArns: ${problems.join("; ")}`);
    if (options.organizationId !== undefined && !ORGANIZATION_ID.test(options.organizationId)) {
        throw new Error(`organizationId: ${options.organizationId} is not an organization id (o-...)`);
    }
    return doc({
        Sid: "HubAnalystsOnly",
        Effect: "Allow",
        Principal: { AWS: analysts },
        Action: "sts:AssumeRole",
        ...(options.organizationId ? { Condition: { StringEquals: { "aws:PrincipalOrgID": options.organizationId } } } : {}),
    });
}

/**
 * What the analysts' commands do in a member account, and nothing else (every region: IAM is global):
 * - `dfir plan`, `dfir verify`, `dfir release` read: instances, their attributes, profile associations, interfaces,
 *   groups, network ACLs, snapshots and their locks, SSM's view of the instance, Auto Scaling and target groups
 *   (no resource-level permissions: `*`); the instance profiles and the revocation policies (`dfir/revoke/*`).
 * - `dfir verify --deep` reads the evidence snapshots' blocks through the EBS direct APIs (evidence snapshots only).
 * - `dfir release` undoes a containment, only on an instance or interface tagged `dfir:status=isolated`: the
 *   interfaces' original groups back (any group of the account: the originals are the instance's own), the
 *   protections, shutdown behaviour and volumes' delete-on-termination as recorded, the original instance profile (disassociate, associate or
 *   replace, and `iam:PassRole` of its role to EC2: which role that is, only the case knows), its `dfir:*` tags; the
 *   network ACL entries Contain added (DeleteNetworkAclEntry: ACLs carry no instance tag); and the prune of the
 *   revocation policy's statement for the instance (a new version of `dfir/revoke/*`).
 * Nothing that makes evidence, runs commands on instances or revokes sessions. The isolation guard (deny policy, SCP)
 * exempts this role beside the responder role (MemberAccess, ResponseWorkflow).
 */
export function memberAnalystAccessPolicy(partition: string, accountId: string): PolicyDocument {
    const s = { partition, region: "*", accountId };
    const arn = (type: string) => `arn:${partition}:ec2:*:${accountId}:${type}/*`;
    const isolated = { StringEquals: { [`aws:ResourceTag/${TAGS.status}`]: TAGS.statusIsolated } };
    return doc(
        {
            Sid: "ReadNoResourceLevelPermission",
            Effect: "Allow",
            Action: [
                "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls", "ec2:DescribeSnapshots",
                "ec2:DescribeLockedSnapshots", "ssm:DescribeInstanceInformation", "autoscaling:DescribeAutoScalingInstances",
                "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
            ],
            Resource: "*",
        },
        { Sid: "ReadInstanceProfiles", Effect: "Allow", Action: "iam:GetInstanceProfile", Resource: `arn:${partition}:iam::${accountId}:instance-profile/*` },
        ...digestReadStatements(s).map((st) => ({ ...st, Sid: `Verify${st.Sid}` })),
        {
            Sid: "ReleaseIsolatedInstancesAndInterfaces",
            Effect: "Allow",
            Action: [
                "ec2:ModifyNetworkInterfaceAttribute", "ec2:ModifyInstanceAttribute", "ec2:DisassociateIamInstanceProfile",
                "ec2:AssociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation", "ec2:CreateTags", "ec2:DeleteTags",
            ],
            Resource: [arn("instance"), arn("network-interface")],
            Condition: isolated,
        },
        { Sid: "ReleaseIntoOriginalGroups", Effect: "Allow", Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: arn("security-group") },
        // Delete-on-termination back as recorded: ModifyInstanceAttribute's block device mappings are also authorized
        // on the volumes (the instance itself must still be isolated, above).
        { Sid: "ReleaseVolumesDeleteOnTermination", Effect: "Allow", Action: "ec2:ModifyInstanceAttribute", Resource: arn("volume") },
        { Sid: "ReleaseNetworkAclEntries", Effect: "Allow", Action: "ec2:DeleteNetworkAclEntry", Resource: arn("network-acl") },
        {
            Sid: "RestoreOriginalProfileRole",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: `arn:${partition}:iam::${accountId}:role/*`,
            Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        },
        {
            Sid: "PruneRevocationPolicies",
            Effect: "Allow",
            Action: ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion"],
            Resource: `arn:${partition}:iam::${accountId}:policy/dfir/revoke/*`,
        },
    );
}
