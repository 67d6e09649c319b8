/**
 * IAM in the simulated world: every call is authorized, before its effect, against the policies the program
 * deploys (`deployment.ts`), as the role the call really runs as, with the request context AWS would build
 * (`requests.ts`), by a kept IAM evaluator (`evaluate.ts`). A denied call fails with the service's own
 * access-denied error and is listed (`World.iamDenied`, the drill report's `iamDenied`).
 *
 * Who calls: a function's role while the drill runs that function (`SimulatedAccount.runAs`), the state machine's
 * role for its SDK integrations, the role a session was issued for after AssumeRole (whose trust policy was
 * evaluated too), the instance profile's role for what runs on an instance, and the analyst (`dfir-analyst`, an
 * administrator of the hub) for the `dfir` CLI and anything else outside a function.
 */
import { partitionOf } from "../../../core/containmentPolicies";
import { awsError, type SimService } from "../errors";
import type { SessionState } from "../state";
import type { CallContext, World } from "../world";
import { evaluate, type NamedPolicy } from "./evaluate";
import { authorizationsFor, callerContext, type Authorization } from "./requests";

export { deployIam, ANALYST_ROLE_NAME, workflowComponent } from "./deployment";
export { iamStats, clearIamCaches, warmUp, observeEvaluations, evaluateThroughRunSimulation, type IamRequest, type IamDecision } from "./evaluate";

/** A call (or one authorization of it) IAM denied. */
export interface IamDenial {
    /** Wall-clock ms since the simulator started its call clock (as `CallRecord.atMs`). */
    atMs: number;
    /** The API call, IAM-style (`ec2:CreateSnapshots`); `instance:` for what runs on an instance (`instance:aws s3 cp`). */
    call: string;
    /** The IAM action denied (the call's own, or one it needs: `ec2:CreateTags` at creation, `kms:Decrypt`, `iam:PassRole`). */
    action: string;
    resource: string;
    /** The role the call ran as. */
    principal: string;
    accountId: string;
    region: string;
    /** Which statement denied it, or which side grants nothing. */
    reason: string;
}

/** Access denied as each service answers it. */
const DENIED_CODE: Record<SimService, { code: string; status: number }> = {
    ec2: { code: "UnauthorizedOperation", status: 403 },
    s3: { code: "AccessDenied", status: 403 },
    iam: { code: "AccessDenied", status: 403 },
    sts: { code: "AccessDenied", status: 403 },
    autoscaling: { code: "AccessDenied", status: 403 },
    elbv2: { code: "AccessDenied", status: 403 },
    dynamodb: { code: "AccessDeniedException", status: 400 },
    ssm: { code: "AccessDeniedException", status: 400 },
    sns: { code: "AuthorizationError", status: 403 },
};

/** A role's identity policies as deployed and as changed since (inline, then attached managed ones). */
export function identityPolicies(world: World, roleArn: string): NamedPolicy[] {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(roleArn);
    const role = m ? world.state.accounts[m[1] as string]?.iam.roles[m[2] as string] : undefined;
    if (!role) return [];
    return [
        ...Object.entries(role.policies).map(([name, document]) => ({ name: `${role.roleName}/${name}`, document })),
        ...Object.entries(role.awsManagedPolicies ?? {}).map(([name, document]) => ({ name: `${role.roleName}/${name} (AWS managed)`, document })),
        // Customer managed policies attached since (the revocation policy): their default version.
        ...(role.attachedPolicies ?? []).flatMap((arn) => {
            const policy = world.state.accounts[m?.[1] as string]?.iam.managedPolicies?.[arn];
            const version = policy?.versions.find((v) => v.versionId === policy.defaultVersionId);
            return version ? [{ name: `${role.roleName}/${policy?.policyName} (managed)`, document: version.document }] : [];
        }),
    ];
}

/** The first denied authorization of a set, as the caller with these keys (undefined: all allowed). */
export async function firstDenied(
    world: World,
    session: SessionState & { roleArn: string },
    region: string,
    authorizations: readonly Authorization[],
    sourceInstanceArn?: string,
): Promise<{ authorization: Authorization; reason: string } | undefined> {
    const own = callerContext(session, region, world.now(), sourceInstanceArn);
    const policies = identityPolicies(world, session.roleArn);
    for (const a of authorizations) {
        const context = { ...own, ...(a.via ? { "aws:ViaAWSService": "true", "aws:CalledVia": [`${a.via}.amazonaws.com`] } : {}), ...a.context };
        const decision = await evaluate({
            principal: session.arn,
            principalArn: session.roleArn,
            action: a.action,
            resource: a.resource,
            resourceAccount: a.resourceAccount || session.accountId,
            context,
            identityPolicies: policies,
            ...(a.resourcePolicy ? { resourcePolicy: a.resourcePolicy } : {}),
        });
        if (!decision.allowed) return { authorization: a, reason: decision.reason ?? decision.result };
    }
    return undefined;
}

/**
 * Authorize one SDK call before its effect. Throws the service's access-denied error (and lists the denial) when
 * any authorization the call needs is denied.
 */
export async function authorizeCall(world: World, ctx: CallContext & { caller: SessionState & { roleArn: string } }, input: Record<string, unknown>, atMs: number): Promise<void> {
    const authorizations = await authorizationsFor(world, ctx, input);
    const denied = await firstDenied(world, ctx.caller, ctx.region, authorizations);
    if (!denied) return;
    const { authorization: a, reason } = denied;
    world.iamDenied.push({ atMs, call: ctx.action, action: a.action, resource: a.resource, principal: ctx.caller.roleArn, accountId: ctx.accountId, region: ctx.region, reason });
    const { code, status } = DENIED_CODE[ctx.service];
    const what = `User: ${ctx.caller.arn} is not authorized to perform: ${a.action} on resource: ${a.resource} because ${reason}`;
    const message = ctx.service === "ec2" ? `You are not authorized to perform this operation. ${what}` : what;
    throw awsError(ctx.service, code, message, status);
}

/** The session an instance's processes use: its profile's role, credentials issued when the profile was associated. */
export function instanceSession(world: World, accountId: string, region: string, instanceId: string): (SessionState & { roleArn: string; sourceInstanceArn: string }) | undefined {
    const r = world.region(accountId, region);
    const instance = r.instances[instanceId];
    const association = instance?.associationId ? r.profileAssociations[instance.associationId] : undefined;
    if (!association || association.state !== "associated") return undefined;
    const iam = world.account(accountId).iam;
    const profile = Object.values(iam.instanceProfiles).find((p) => p.arn === association.profileArn);
    const roleName = profile?.roleNames[0];
    const role = roleName ? iam.roles[roleName] : undefined;
    if (!role) return undefined;
    const p = partitionOf(region);
    return {
        accessKeyId: `ASIA${accountId}INST`,
        accountId,
        arn: `arn:${p}:sts::${accountId}:assumed-role/${role.roleName}/${instanceId}`,
        userId: `${role.roleId}:${instanceId}`,
        expiresAt: Number.MAX_SAFE_INTEGER,
        roleArn: role.arn,
        issuedAt: association.at,
        sourceInstanceArn: `arn:${p}:ec2:${region}:${accountId}:instance/${instanceId}`,
    };
}
