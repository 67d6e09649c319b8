/**
 * IAM (instance profiles, roles' inline policies) and STS (AssumeRole across accounts, GetCallerIdentity).
 *
 * Credentials the simulator issues encode the account they act as (`ASIA<12-digit account><4 chars>`) and are
 * remembered as sessions, so a client built with assumed-role credentials acts on the member account, exactly as
 * the real credentials would route it.
 */
import type {
    AttachRolePolicyCommandInput,
    CreatePolicyCommandInput,
    CreatePolicyCommandOutput,
    CreatePolicyVersionCommandInput,
    CreatePolicyVersionCommandOutput,
    DeletePolicyVersionCommandInput,
    DetachRolePolicyCommandInput,
    GetPolicyCommandInput,
    GetPolicyCommandOutput,
    GetPolicyVersionCommandInput,
    GetPolicyVersionCommandOutput,
    ListAttachedRolePoliciesCommandInput,
    ListAttachedRolePoliciesCommandOutput,
    ListPolicyVersionsCommandInput,
    ListPolicyVersionsCommandOutput,
    GetInstanceProfileCommandInput,
    GetInstanceProfileCommandOutput,
    GetRolePolicyCommandInput,
    GetRolePolicyCommandOutput,
    PutRolePolicyCommandInput,
    DeleteRolePolicyCommandInput,
} from "@aws-sdk/client-iam";
import type {
    AssumeRoleCommandInput,
    AssumeRoleCommandOutput,
    GetCallerIdentityCommandInput,
    GetCallerIdentityCommandOutput,
} from "@aws-sdk/client-sts";
import { notImplemented } from "../errors";
import type { ManagedPolicyState, RoleState, SessionState } from "../state";
import { required, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

/**
 * IAM quotas (IAM User Guide, "IAM and AWS STS quotas"; white space is not counted in policy sizes): a role's
 * inline policies together 10,240 characters; a customer managed policy 6,144; five versions of a managed policy;
 * ten managed policies attached to a role by default.
 */
const ROLE_INLINE_POLICY_LIMIT = 10_240;
const MANAGED_POLICY_LIMIT = 6_144;
const POLICY_VERSIONS_LIMIT = 5;
const ATTACHED_POLICIES_PER_ROLE = 10;
const POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):policy\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,128})$/;
const POLICY_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;
/** Default MaxSessionDuration of a role. */
const MAX_SESSION_SECONDS = 3600;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function roleOrThrow(world: World, ctx: Parameters<Handler>[1], roleName: string | undefined): RoleState {
    const name = required(world, ctx, roleName, "RoleName");
    const role = world.account(ctx.accountId).iam.roles[name];
    if (!role) throw world.error(ctx, "NoSuchEntity", `The role with name ${name} cannot be found.`, 404);
    return role;
}

const getInstanceProfile: Handler<GetInstanceProfileCommandInput, Out<GetInstanceProfileCommandOutput>> = (world, ctx, input) => {
    const name = required(world, ctx, input.InstanceProfileName, "InstanceProfileName");
    const iam = world.account(ctx.accountId).iam;
    const profile = iam.instanceProfiles[name];
    if (!profile) throw world.error(ctx, "NoSuchEntity", `Instance Profile ${name} cannot be found.`, 404);
    return {
        InstanceProfile: {
            InstanceProfileName: profile.name,
            InstanceProfileId: profile.id,
            Arn: profile.arn,
            Path: profile.path,
            CreateDate: new Date(profile.createdAt),
            Roles: profile.roleNames
                .map((n) => iam.roles[n])
                .filter((r): r is RoleState => r !== undefined)
                .map((r) => ({
                    RoleName: r.roleName,
                    RoleId: r.roleId,
                    Arn: r.arn,
                    Path: r.path,
                    CreateDate: new Date(r.createdAt),
                    AssumeRolePolicyDocument: encodeURIComponent(r.trustPolicy ?? JSON.stringify(trustPolicy(r))),
                })),
        },
    };
};

/** The trust policy a role's `trustedAccounts` stands for (returned URL-encoded, as IAM does). */
function trustPolicy(role: RoleState): unknown {
    return {
        Version: "2012-10-17",
        Statement: role.trustedAccounts.map((account) => ({
            Effect: "Allow",
            Principal: account === "ec2.amazonaws.com" ? { Service: account } : { AWS: `arn:aws:iam::${account}:root` },
            Action: "sts:AssumeRole",
        })),
    };
}

function policySize(document: string): number {
    return document.replace(/\s+/g, "").length;
}

const putRolePolicy: Handler<PutRolePolicyCommandInput, Record<string, never>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const policyName = required(world, ctx, input.PolicyName, "PolicyName");
    // One inline policy is at most the whole inline quota; all of them together too (below).
    const document = checkedDocument(world, ctx, required(world, ctx, input.PolicyDocument, "PolicyDocument"), ROLE_INLINE_POLICY_LIMIT);
    const others = Object.entries(role.policies).filter(([name]) => name !== policyName);
    const total = others.reduce((sum, [, doc]) => sum + policySize(doc), 0) + policySize(document);
    if (total > ROLE_INLINE_POLICY_LIMIT) {
        throw world.error(ctx, "LimitExceeded", `Maximum policy size of ${ROLE_INLINE_POLICY_LIMIT} bytes exceeded for role ${role.roleName}`, 409);
    }
    role.policies[policyName] = document;
    return {};
};

const getRolePolicy: Handler<GetRolePolicyCommandInput, Out<GetRolePolicyCommandOutput>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const policyName = required(world, ctx, input.PolicyName, "PolicyName");
    const document = role.policies[policyName];
    if (document === undefined) throw world.error(ctx, "NoSuchEntity", `The role policy with name ${policyName} cannot be found.`, 404);
    // IAM returns policy documents URL-encoded (RFC 3986); the SDK does not decode them.
    return { RoleName: role.roleName, PolicyName: policyName, PolicyDocument: encodeURIComponent(document) };
};

/** Removes an inline policy (the analyst's release removes the session revocation). */
const deleteRolePolicy: Handler<DeleteRolePolicyCommandInput, Record<string, never>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const policyName = required(world, ctx, input.PolicyName, "PolicyName");
    if (role.policies[policyName] === undefined) throw world.error(ctx, "NoSuchEntity", `The role policy with name ${policyName} cannot be found.`, 404);
    delete role.policies[policyName];
    return {};
};

/** A policy document IAM would accept as JSON with statements, or the MalformedPolicyDocument error. */
function checkedDocument(world: World, ctx: Parameters<Handler>[1], document: string, limit: number): string {
    let parsed: unknown;
    try {
        parsed = JSON.parse(document);
    } catch {
        throw world.error(ctx, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
    if (typeof parsed !== "object" || parsed === null || !("Statement" in parsed)) {
        throw world.error(ctx, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
    if (policySize(document) > limit) {
        throw world.error(ctx, "LimitExceeded", `Cannot exceed quota for PolicySize: ${limit}`, 409);
    }
    return document;
}

function managedPolicies(world: World, accountId: string): Record<string, ManagedPolicyState> {
    const iam = world.account(accountId).iam;
    iam.managedPolicies ??= {};
    return iam.managedPolicies;
}

/** The caller's account's policy a PolicyArn names, or NoSuchEntity (404). */
function policyOrThrow(world: World, ctx: Parameters<Handler>[1], policyArn: string | undefined): ManagedPolicyState {
    const arn = required(world, ctx, policyArn, "PolicyArn");
    if (!POLICY_ARN.test(arn)) throw world.error(ctx, "InvalidInput", `ARN ${arn} is not valid.`);
    const policy = managedPolicies(world, ctx.accountId)[arn];
    if (!policy) throw world.error(ctx, "NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`, 404);
    return policy;
}

const createPolicy: Handler<CreatePolicyCommandInput, Out<CreatePolicyCommandOutput>> = (world, ctx, input) => {
    const name = required(world, ctx, input.PolicyName, "PolicyName");
    const path = input.Path ?? "/";
    if (!POLICY_PATH.test(path)) throw world.error(ctx, "ValidationError", `1 validation error detected: Value '${path}' at 'path' failed to satisfy constraint`);
    const document = checkedDocument(world, ctx, required(world, ctx, input.PolicyDocument, "PolicyDocument"), MANAGED_POLICY_LIMIT);
    const arn = `arn:aws:iam::${ctx.accountId}:policy${path}${name}`;
    const policies = managedPolicies(world, ctx.accountId);
    // Names are unique per account, whatever the path.
    if (Object.values(policies).some((p) => p.policyName === name)) {
        throw world.error(ctx, "EntityAlreadyExists", `A policy called ${name} already exists. Duplicate names are not allowed.`, 409);
    }
    const now = world.now();
    const policy: ManagedPolicyState = {
        policyName: name,
        policyId: `ANPA${world.token("policy-id", 17)}`,
        arn,
        path,
        createdAt: now,
        defaultVersionId: "v1",
        versions: [{ versionId: "v1", document, createdAt: now }],
        nextVersion: 2,
    };
    policies[arn] = policy;
    return { Policy: policyView(world, ctx.accountId, policy) };
};

function attachmentCount(world: World, accountId: string, arn: string): number {
    return Object.values(world.account(accountId).iam.roles).filter((r) => (r.attachedPolicies ?? []).includes(arn)).length;
}

function policyView(world: World, accountId: string, p: ManagedPolicyState): NonNullable<GetPolicyCommandOutput["Policy"]> {
    return {
        PolicyName: p.policyName,
        PolicyId: p.policyId,
        Arn: p.arn,
        Path: p.path,
        DefaultVersionId: p.defaultVersionId,
        AttachmentCount: attachmentCount(world, accountId, p.arn),
        IsAttachable: true,
        CreateDate: new Date(p.createdAt),
        UpdateDate: new Date(p.versions.find((v) => v.versionId === p.defaultVersionId)?.createdAt ?? p.createdAt),
    };
}

const getPolicy: Handler<GetPolicyCommandInput, Out<GetPolicyCommandOutput>> = (world, ctx, input) => ({
    Policy: policyView(world, ctx.accountId, policyOrThrow(world, ctx, input.PolicyArn)),
});

const getPolicyVersion: Handler<GetPolicyVersionCommandInput, Out<GetPolicyVersionCommandOutput>> = (world, ctx, input) => {
    const policy = policyOrThrow(world, ctx, input.PolicyArn);
    const versionId = required(world, ctx, input.VersionId, "VersionId");
    const version = policy.versions.find((v) => v.versionId === versionId);
    if (!version) throw world.error(ctx, "NoSuchEntity", `Policy ${policy.arn} version ${versionId} does not exist or is not attachable.`, 404);
    return {
        PolicyVersion: {
            // IAM returns policy documents URL-encoded (RFC 3986); the SDK does not decode them.
            Document: encodeURIComponent(version.document),
            VersionId: version.versionId,
            IsDefaultVersion: version.versionId === policy.defaultVersionId,
            CreateDate: new Date(version.createdAt),
        },
    };
};

const listPolicyVersions: Handler<ListPolicyVersionsCommandInput, Out<ListPolicyVersionsCommandOutput>> = (world, ctx, input) => {
    const policy = policyOrThrow(world, ctx, input.PolicyArn);
    // Newest first, as IAM lists them.
    return {
        Versions: [...policy.versions].reverse().map((v) => ({
            VersionId: v.versionId,
            IsDefaultVersion: v.versionId === policy.defaultVersionId,
            CreateDate: new Date(v.createdAt),
        })),
        IsTruncated: false,
    };
};

const createPolicyVersion: Handler<CreatePolicyVersionCommandInput, Out<CreatePolicyVersionCommandOutput>> = (world, ctx, input) => {
    const policy = policyOrThrow(world, ctx, input.PolicyArn);
    const document = checkedDocument(world, ctx, required(world, ctx, input.PolicyDocument, "PolicyDocument"), MANAGED_POLICY_LIMIT);
    if (policy.versions.length >= POLICY_VERSIONS_LIMIT) {
        throw world.error(ctx, "LimitExceeded", `A managed policy can have up to ${POLICY_VERSIONS_LIMIT} versions. Before you create a new version, you must delete an existing version.`, 409);
    }
    const versionId = `v${policy.nextVersion}`;
    policy.nextVersion += 1;
    const createdAt = world.now();
    policy.versions.push({ versionId, document, createdAt });
    if (input.SetAsDefault === true) policy.defaultVersionId = versionId;
    return { PolicyVersion: { VersionId: versionId, IsDefaultVersion: input.SetAsDefault === true, CreateDate: new Date(createdAt) } };
};

const deletePolicyVersion: Handler<DeletePolicyVersionCommandInput, Record<string, never>> = (world, ctx, input) => {
    const policy = policyOrThrow(world, ctx, input.PolicyArn);
    const versionId = required(world, ctx, input.VersionId, "VersionId");
    if (versionId === policy.defaultVersionId) {
        throw world.error(ctx, "DeleteConflict", "Cannot delete the default version of a policy.", 409);
    }
    const index = policy.versions.findIndex((v) => v.versionId === versionId);
    if (index < 0) throw world.error(ctx, "NoSuchEntity", `Policy ${policy.arn} version ${versionId} does not exist.`, 404);
    policy.versions.splice(index, 1);
    return {};
};

/** Attaching a policy the role already has succeeds and changes nothing (IAM's behaviour). */
const attachRolePolicy: Handler<AttachRolePolicyCommandInput, Record<string, never>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const policy = policyOrThrow(world, ctx, input.PolicyArn);
    const attached = (role.attachedPolicies ??= []);
    if (attached.includes(policy.arn)) return {};
    if (attached.length >= ATTACHED_POLICIES_PER_ROLE) {
        throw world.error(ctx, "LimitExceeded", `Cannot exceed quota for PoliciesPerRole: ${ATTACHED_POLICIES_PER_ROLE}`, 409);
    }
    attached.push(policy.arn);
    return {};
};

const detachRolePolicy: Handler<DetachRolePolicyCommandInput, Record<string, never>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const arn = required(world, ctx, input.PolicyArn, "PolicyArn");
    const attached = role.attachedPolicies ?? [];
    if (!attached.includes(arn)) throw world.error(ctx, "NoSuchEntity", `Policy ${arn} was not found.`, 404);
    role.attachedPolicies = attached.filter((a) => a !== arn);
    return {};
};

const listAttachedRolePolicies: Handler<ListAttachedRolePoliciesCommandInput, Out<ListAttachedRolePoliciesCommandOutput>> = (world, ctx, input) => {
    const role = roleOrThrow(world, ctx, input.RoleName);
    const policies = managedPolicies(world, ctx.accountId);
    return {
        AttachedPolicies: (role.attachedPolicies ?? []).map((arn) => ({ PolicyArn: arn, PolicyName: policies[arn]?.policyName ?? arn.slice(arn.lastIndexOf("/") + 1) })),
        IsTruncated: false,
    };
};

/** Issue credentials acting as `arn` in `accountId`, remembered as a session. */
export function issueSession(world: World, accountId: string, arn: string, userId: string, seconds: number, roleArn?: string): SessionState {
    const accessKeyId = `ASIA${accountId}${world.token("akid", 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")}`;
    const session: SessionState = { accessKeyId, accountId, arn, userId, expiresAt: Date.now() + seconds * 1000, ...(roleArn ? { roleArn } : {}), issuedAt: world.now() };
    world.state.sessions[accessKeyId] = session;
    return session;
}

const assumeRole: Handler<AssumeRoleCommandInput, Out<AssumeRoleCommandOutput>> = (world, ctx, input) => {
    const roleArn = required(world, ctx, input.RoleArn, "RoleArn");
    const sessionName = required(world, ctx, input.RoleSessionName, "RoleSessionName");
    if (input.Policy !== undefined || input.PolicyArns !== undefined || input.SerialNumber !== undefined || input.ExternalId !== undefined) {
        throw notImplemented(ctx.action, "with session policies / MFA / ExternalId");
    }
    const match = ROLE_ARN.exec(roleArn);
    if (!match) {
        throw world.error(ctx, "ValidationError", `1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`);
    }
    if (!SESSION_NAME.test(sessionName)) {
        throw world.error(
            ctx,
            "ValidationError",
            `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
        );
    }
    const [, accountId, roleName] = match as unknown as [string, string, string];
    const role = world.state.accounts[accountId]?.iam.roles[roleName];
    // A deployed trust policy was evaluated (with the caller's permissions) before this handler runs; a role seeded
    // without one (states saved before IAM was modelled) admits the accounts it lists.
    if (!role || role.arn !== roleArn || (role.trustPolicy === undefined && !role.trustedAccounts.includes(ctx.caller.accountId))) {
        throw world.error(ctx, "AccessDenied", `User: ${ctx.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    }
    const seconds = input.DurationSeconds ?? MAX_SESSION_SECONDS;
    if (seconds < 900 || seconds > MAX_SESSION_SECONDS) {
        throw world.error(ctx, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    }
    const arn = `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`;
    const session = issueSession(world, accountId, arn, `${role.roleId}:${sessionName}`, seconds, role.arn);
    return {
        Credentials: {
            AccessKeyId: session.accessKeyId,
            SecretAccessKey: world.token("secret", 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            SessionToken: `sim/${world.token("session", 60, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")}`,
            // Wall clock, not the simulator clock: the client factory refreshes against Date.now().
            Expiration: new Date(session.expiresAt),
        },
        AssumedRoleUser: { AssumedRoleId: session.userId, Arn: arn },
        PackedPolicySize: 0,
    };
};

const getCallerIdentity: Handler<GetCallerIdentityCommandInput, Out<GetCallerIdentityCommandOutput>> = (_world, ctx) => ({
    UserId: ctx.caller.userId,
    Account: ctx.caller.accountId,
    Arn: ctx.caller.arn,
});

export const IAM_HANDLERS: Record<string, Handler> = {
    GetInstanceProfile: getInstanceProfile,
    CreatePolicy: createPolicy,
    GetPolicy: getPolicy,
    GetPolicyVersion: getPolicyVersion,
    ListPolicyVersions: listPolicyVersions,
    CreatePolicyVersion: createPolicyVersion,
    DeletePolicyVersion: deletePolicyVersion,
    AttachRolePolicy: attachRolePolicy,
    DetachRolePolicy: detachRolePolicy,
    ListAttachedRolePolicies: listAttachedRolePolicies,
    PutRolePolicy: putRolePolicy,
    GetRolePolicy: getRolePolicy,
    DeleteRolePolicy: deleteRolePolicy,
};

export const STS_HANDLERS: Record<string, Handler> = {
    AssumeRole: assumeRole,
    GetCallerIdentity: getCallerIdentity,
};
