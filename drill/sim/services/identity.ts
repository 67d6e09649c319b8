/**
 * IAM (instance profiles, roles' inline policies) and STS (AssumeRole across accounts, GetCallerIdentity).
 *
 * Credentials the simulator issues encode the account they act as (`ASIA<12-digit account><4 chars>`) and are
 * remembered as sessions, so a client built with assumed-role credentials acts on the member account, exactly as
 * the real credentials would route it.
 */
import type {
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
import type { RoleState, SessionState } from "../state";
import { required, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

/** IAM's limit on the aggregate size of a role's inline policies (characters, whitespace not counted). */
const ROLE_INLINE_POLICY_LIMIT = 10_240;
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
    const document = required(world, ctx, input.PolicyDocument, "PolicyDocument");
    let parsed: unknown;
    try {
        parsed = JSON.parse(document);
    } catch {
        throw world.error(ctx, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
    if (typeof parsed !== "object" || parsed === null || !("Statement" in parsed)) {
        throw world.error(ctx, "MalformedPolicyDocument", "Syntax errors in policy.");
    }
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
    PutRolePolicy: putRolePolicy,
    GetRolePolicy: getRolePolicy,
    DeleteRolePolicy: deleteRolePolicy,
};

export const STS_HANDLERS: Record<string, Handler> = {
    AssumeRole: assumeRole,
    GetCallerIdentity: getCallerIdentity,
};
