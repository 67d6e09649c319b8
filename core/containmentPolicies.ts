/**
 * IAM documents of containment, as pure functions (asserted on in tests; used by the component and by Contain):
 * - the inline policy Contain puts on an instance's role to revoke that instance's existing sessions;
 * - the guard rails that stop anyone but the responders from undoing a containment (managed policy and SCP);
 * - the least-privilege permissions of the OpenCase and Contain functions (or of the member-account responder
 *   role they assume).
 * Every `"Resource": "*"` is there because the action has no resource-level permission (named beside it).
 */
import type { PolicyDocument, PolicyStatement } from "./iam";
import { REVOCATION_LOCK_PREFIX, REVOCATION_POLICY_PATH } from "./revocation";
import { TAGS } from "./tags";

/**
 * The instance attributes Contain changes through ModifyInstanceAttribute's Attribute + Value form (the values of
 * `ec2:Attribute` its policy allows): termination and stop protection, shutdown behaviour.
 */
export const PROTECTION_ATTRIBUTES = ["disableApiTermination", "disableApiStop", "instanceInitiatedShutdownBehavior"] as const;

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });

/** The ARN partition of a region: GovCloud and China have their own, every other region is `aws`. */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    if (region.startsWith("us-iso-")) return "aws-iso";
    if (region.startsWith("us-isob-")) return "aws-iso-b";
    return "aws";
}

/** `arn:<partition>:ec2:<region>:<account>:instance/<id>`: the value of `ec2:SourceInstanceARN` in its sessions. */
export function instanceArn(region: string, accountId: string, instanceId: string): string {
    return `arn:${partitionOf(region)}:ec2:${region}:${accountId}:instance/${instanceId}`;
}

/**
 * The changes that would undo or damage a containment, on an instance tagged `dfir:status=isolated`: stop,
 * terminate or reboot it (memory evidence), change its attributes (protections, shutdown behaviour, groups of the
 * primary interface), swap or drop its profile, attach or detach interfaces (a new interface with an open group
 * bypasses isolation) and volumes, change its metadata options.
 */
export const ISOLATED_INSTANCE_ACTIONS = [
    "ec2:TerminateInstances",
    "ec2:StopInstances",
    "ec2:RebootInstances",
    "ec2:SendDiagnosticInterrupt",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyInstanceMetadataOptions",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:AttachNetworkInterface",
    "ec2:DetachNetworkInterface",
    "ec2:DetachVolume",
    "ec2:ReplaceIamInstanceProfileAssociation",
    "ec2:AssociateIamInstanceProfile",
    "ec2:DisassociateIamInstanceProfile",
] as const;

/** On interfaces tagged isolated (Contain tags them with the instance): their groups and attachment. */
export const ISOLATED_INTERFACE_ACTIONS = [
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:DetachNetworkInterface",
    "ec2:DeleteNetworkInterface",
] as const;

function isolatedGuardStatements(responderRoleArns: readonly string[], partition: string): PolicyStatement[] {
    if (responderRoleArns.length === 0) throw new Error("at least one responder role ARN is required");
    const isolated = { [`aws:ResourceTag/${TAGS.status}`]: TAGS.statusIsolated };
    const exceptResponders = { "aws:PrincipalArn": [...responderRoleArns] };
    const instances = `arn:${partition}:ec2:*:*:instance/*`;
    const interfaces = `arn:${partition}:ec2:*:*:network-interface/*`;
    return [
        {
            Sid: "DfirProtectIsolatedInstances",
            Effect: "Deny",
            Action: [...ISOLATED_INSTANCE_ACTIONS],
            Resource: instances,
            Condition: { StringEquals: isolated, ArnNotLike: exceptResponders },
        },
        {
            Sid: "DfirProtectIsolatedInterfaces",
            Effect: "Deny",
            Action: [...ISOLATED_INTERFACE_ACTIONS],
            Resource: interfaces,
            Condition: { StringEquals: isolated, ArnNotLike: exceptResponders },
        },
        {
            Sid: "DfirProtectResponseTags",
            Effect: "Deny",
            Action: ["ec2:CreateTags", "ec2:DeleteTags"],
            Resource: [instances, interfaces],
            Condition: {
                StringEquals: isolated,
                "ForAnyValue:StringLike": { "aws:TagKeys": ["dfir:*"] },
                ArnNotLike: exceptResponders,
            },
        },
    ];
}

/**
 * Managed policy: denies everything that would undo a containment on isolated instances and their interfaces to
 * every principal it is attached to except the responder roles (`aws:PrincipalArn`, which for an assumed role
 * is the role's ARN). Attach it to human and automation roles/groups, or use it as a permissions boundary; a
 * managed policy binds only the principals it is attached to — the SCP variant binds the whole account.
 */
export function denyModifyIsolatedPolicy(responderRoleArns: readonly string[], partition = "aws"): PolicyDocument {
    return doc(...isolatedGuardStatements(responderRoleArns, partition));
}

/** Largest SCP document AWS Organizations accepts, in characters. */
export const SCP_MAX_CHARACTERS = 5120;

/**
 * The same guard rail as a service control policy for member accounts: it binds every principal of the account,
 * root included (not service-linked roles, not the management account). Same statements as the managed policy:
 * SCPs accept Deny statements with resources and conditions, and `ArnNotLike aws:PrincipalArn` is the usual SCP
 * exception (SCPs take no `NotPrincipal`). Throws when the document would exceed the SCP size limit.
 */
export function denyModifyIsolatedScp(responderRoleArns: readonly string[], partition = "aws"): PolicyDocument {
    const scp = doc(
        ...isolatedGuardStatements(responderRoleArns, partition).map((s) => ({ ...s, Sid: `${s.Sid}Scp` })),
    );
    const size = JSON.stringify(scp).length;
    if (size > SCP_MAX_CHARACTERS) {
        throw new Error(`SCP would be ${size} characters, over the ${SCP_MAX_CHARACTERS} limit: fewer responder ARNs`);
    }
    return scp;
}

/** Where the functions act: the instance's account and region. */
export interface ResponderScope {
    partition: string;
    region: string;
    accountId: string;
}

/** `dfir:role` values of the groups Contain may put interfaces into. */
export const CONTAIN_GROUP_ROLES = [TAGS.roleIsolation, TAGS.roleUntrack] as const;

/** What OpenCase reads of the instance (in the instance's account). */
export function openCaseReadStatements(): PolicyStatement[] {
    return [
        {
            // DescribeInstances and DescribeIamInstanceProfileAssociations have no resource-level permission;
            // DescribeInstanceAttribute is kept with them (read-only, and `*` never fails where an ARN might).
            Sid: "DescribeNoResourceLevelPermission",
            Effect: "Allow",
            Action: ["ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations"],
            Resource: "*",
        },
    ];
}

/**
 * Up to this many prepared VPCs are named in the network ACL statement's `ec2:Vpc` condition; more would grow the
 * role's inline policies towards IAM's 10,240-character quota, and the statement then covers every ACL of the account.
 */
export const MAX_SCOPED_VPCS = 10;

/** Options of {@link containStatements}. */
export interface ContainPermissionOptions {
    /** Roles of the capture instance profile(s), passed to EC2 by the profile swap. */
    captureRoleArns?: readonly string[];
    /**
     * Roles the revocation must never attach its policy to (the responders' own roles, the capture role): a deny
     * on them could cut the response off from itself.
     */
    protectedRoleArns?: readonly string[];
    /**
     * The VPCs the deployment prepared (in the scope's account and region): network ACL rules only in their ACLs
     * (condition `ec2:Vpc`). Absent (a member's responder role serves VPCs it does not know): any ACL of the account.
     */
    vpcIds?: readonly string[];
}

/** What Contain does in the instance's account, each action scoped as far as IAM allows. */
export function containStatements(s: ResponderScope, options: ContainPermissionOptions = {}): PolicyStatement[] {
    const ec2 = (type: string) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:${type}/*`;
    const revocationPolicies = `arn:${s.partition}:iam::${s.accountId}:policy${REVOCATION_POLICY_PATH}*`;
    const statements: PolicyStatement[] = [
        {
            // None of these has a resource-level permission.
            Sid: "DescribeNoResourceLevelPermission",
            Effect: "Allow",
            Action: [
                "ec2:DescribeInstances",
                "ec2:DescribeIamInstanceProfileAssociations",
                // The network ACL step reads the VPC: its ACLs, routes, endpoints and the interfaces in its subnets.
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeRouteTables",
                "ec2:DescribeVpcEndpoints",
                "ec2:DescribeNetworkInterfaces",
                "autoscaling:DescribeAutoScalingInstances",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            Resource: "*",
        },
        {
            Sid: "ModifyInterfaces",
            Effect: "Allow",
            Action: "ec2:ModifyNetworkInterfaceAttribute",
            Resource: [ec2("network-interface"), ec2("instance")],
        },
        {
            Sid: "OnlyIntoResponseGroups",
            Effect: "Allow",
            Action: "ec2:ModifyNetworkInterfaceAttribute",
            Resource: ec2("security-group"),
            Condition: { StringEquals: { [`aws:ResourceTag/${TAGS.role}`]: [...CONTAIN_GROUP_ROLES] } },
        },
        {
            // Rules denying the instance's addresses (and keeping its SSM channel) in the ACLs of the other subnets
            // of its VPC; removed again if the instance turns out to be gone. Network ACL entries have no tags and
            // no condition key for their content: the ACL (and its VPC) is the narrowest scope IAM offers.
            Sid: "CutEstablishedFlows",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry"],
            Resource: ec2("network-acl"),
            ...(options.vpcIds && options.vpcIds.length > 0 && new Set(options.vpcIds).size <= MAX_SCOPED_VPCS
                ? { Condition: { ArnEquals: { "ec2:Vpc": [...new Set(options.vpcIds)].sort().map((id) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:vpc/${id}`) } } }
                : {}),
        },
        {
            // Only the protections (Contain sends them as Attribute + Value, which sets `ec2:Attribute`; EC2 User
            // Guide, "ec2:Attribute condition key"): never user data, instance type, kernel, source/dest check.
            Sid: "ProtectInstances",
            Effect: "Allow",
            Action: "ec2:ModifyInstanceAttribute",
            Resource: ec2("instance"),
            Condition: { StringEquals: { "ec2:Attribute": [...PROTECTION_ATTRIBUTES] } },
        },
        {
            // DeleteOnTermination=false is a BlockDeviceMappings change, a complex value for which EC2 sets no
            // `ec2:Attribute` (the key "supports only properties that are of a primitive data type ... or
            // AttributeValue objects that contain only a Value property"): allowed only when the key is absent, so
            // every Value-form change (user data, instance type, ...) stays refused. Of the complex forms left, the
            // primary interface's `Groups` is also authorized on the security groups named (Service Authorization
            // Reference, Amazon EC2: ModifyInstanceAttribute, resource type security-group), which this statement does
            // not name: only the block-device form passes.
            Sid: "KeepVolumesOnTermination",
            Effect: "Allow",
            Action: "ec2:ModifyInstanceAttribute",
            Resource: [ec2("instance"), ec2("volume")],
            Condition: { Null: { "ec2:Attribute": "true" } },
        },
        {
            Sid: "SwapInstanceProfile",
            Effect: "Allow",
            Action: ["ec2:ReplaceIamInstanceProfileAssociation", "ec2:AssociateIamInstanceProfile"],
            Resource: ec2("instance"),
        },
        {
            Sid: "TagContained",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: [ec2("instance"), ec2("network-interface")],
            Condition: { "ForAllValues:StringLike": { "aws:TagKeys": ["dfir:*"] } },
        },
        {
            Sid: "DetachFromAutoScaling",
            Effect: "Allow",
            Action: "autoscaling:DetachInstances",
            Resource: `arn:${s.partition}:autoscaling:${s.region}:${s.accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
        },
        {
            Sid: "DeregisterFromTargetGroups",
            Effect: "Allow",
            Action: "elasticloadbalancing:DeregisterTargets",
            Resource: `arn:${s.partition}:elasticloadbalancing:${s.region}:${s.accountId}:targetgroup/*/*`,
        },
        {
            Sid: "ReadInstanceProfiles",
            Effect: "Allow",
            Action: "iam:GetInstanceProfile",
            Resource: `arn:${s.partition}:iam::${s.accountId}:instance-profile/*`,
        },
        {
            // The revocation policies (core/revocation.ts) live under their own path: the only managed policies
            // Contain may create or change. It writes no inline policy anywhere (iam:PutRolePolicy cannot be
            // scoped to a policy's name or content).
            Sid: "WriteRevocationPolicies",
            Effect: "Allow",
            Action: [
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion",
                "iam:TagPolicy",
            ],
            Resource: revocationPolicies,
        },
        {
            // Attach to a role only those policies (`iam:PolicyARN`, a condition key of iam:AttachRolePolicy: Service
            // Authorization Reference, IAM); never detach, never anything else.
            Sid: "AttachOnlyRevocationPolicies",
            Effect: "Allow",
            Action: "iam:AttachRolePolicy",
            Resource: `arn:${s.partition}:iam::${s.accountId}:role/*`,
            Condition: { ArnLike: { "iam:PolicyARN": revocationPolicies } },
        },
    ];
    if (options.protectedRoleArns && options.protectedRoleArns.length > 0) {
        statements.push({
            Sid: "NeverWriteResponderRoles",
            Effect: "Deny",
            Action: "iam:AttachRolePolicy",
            Resource: [...options.protectedRoleArns],
        });
    }
    if (options.captureRoleArns && options.captureRoleArns.length > 0) {
        statements.push({
            Sid: "PassCaptureRoleToEc2",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: [...options.captureRoleArns],
            Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        });
    }
    return statements;
}

/**
 * Assume the responder role of exactly the member accounts this workflow serves (never `iam::*`: a hub function
 * must not be able to assume a same-named role in an account that is not one of its members).
 */
export function assumeResponderStatement(responderRoleArns: readonly string[]): PolicyStatement {
    if (responderRoleArns.length === 0 || responderRoleArns.some((a) => a.includes("*"))) {
        throw new Error(`responderRoleArns must be exact role ARNs, got ${JSON.stringify(responderRoleArns)}`);
    }
    const arns = [...new Set(responderRoleArns)].sort();
    return { Sid: "AssumeResponderRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: arns.length === 1 ? arns[0] : arns };
}

/**
 * The OpenCase function: read the instance (in its own account; through the responder role for member accounts)
 * and keep the case table (GetItem of the lock, TransactWriteItems of lock + case — authorised as PutItem per
 * item —, UpdateItem to append a finding). Log and trace permissions are the component's to add.
 */
export function caseFunctionPolicy(
    s: ResponderScope,
    options: { casesTableArn: string; responderRoleArns?: readonly string[]; ownInstances?: boolean },
): PolicyDocument {
    const statements: PolicyStatement[] = [
        // A hub with no instances of its own here reads instances only through the members' responder roles.
        ...(options.ownInstances === false ? [] : openCaseReadStatements()),
        {
            Sid: "CaseTable",
            Effect: "Allow",
            Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            Resource: options.casesTableArn,
        },
    ];
    if (options.responderRoleArns?.length) statements.push(assumeResponderStatement(options.responderRoleArns));
    return doc(...statements);
}

/**
 * The Contain function, acting in its own account (`s`), plus assuming the responder role for member accounts.
 * Log and trace permissions are the component's to add.
 */
export function containFunctionPolicy(
    s: ResponderScope,
    options: ContainPermissionOptions & { responderRoleArns?: readonly string[]; casesTableArn?: string; ownInstances?: boolean } = {},
): PolicyDocument {
    // A hub with no instances of its own here contains only through the members' responder roles.
    const statements = options.ownInstances === false ? [] : containStatements(s, options);
    if (options.casesTableArn) {
        // Each role's revocation lock (functions/contain/revocation.ts): its own items of the case table only.
        statements.push({
            Sid: "RevocationLock",
            Effect: "Allow",
            Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
            Resource: options.casesTableArn,
            Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${REVOCATION_LOCK_PREFIX}*`] } },
        });
    }
    if (options.responderRoleArns?.length) statements.push(assumeResponderStatement(options.responderRoleArns));
    return doc(...statements);
}

/** The member-account responder role: what both functions do there (its trust policy is the component's). */
export function responderRolePolicy(s: ResponderScope, options: ContainPermissionOptions = {}): PolicyDocument {
    const [reads, ...rest] = [...openCaseReadStatements(), ...containStatements(s, options)];
    // One Describe statement: the OpenCase reads folded into Contain's.
    const contain = rest.find((st) => st.Sid === "DescribeNoResourceLevelPermission");
    if (contain && Array.isArray(contain.Action) && Array.isArray(reads.Action)) {
        contain.Action = [...new Set([...reads.Action, ...contain.Action])];
        return doc(...rest);
    }
    return doc(reads, ...rest);
}
