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

/**
 * Access denied as each service answers it (each service's API Reference, "Common errors" / "Error codes": EC2
 * UnauthorizedOperation; Query APIs AccessDenied; JSON APIs AccessDeniedException; SNS AuthorizationError).
 */
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
    // KMS API Reference, "Common Errors": AccessDeniedException (400).
    kms: { code: "AccessDeniedException", status: 400 },
    // EBS direct APIs: AccessDeniedException, HTTP 403 (EBS direct APIs reference, Errors).
    ebs: { code: "AccessDeniedException", status: 403 },
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

/**
 * How long the SSM agent keeps the credentials it fetched: its workers pin them for 30 minutes and its refresher
 * rotates at half their one-hour trusted life (amazon-ssm-agent: ec2roleprovider/ec2_role_provider.go
 * RetrieveWithContext, core/app/credentialrefresher), and nothing re-fetches them when AWS refuses them.
 */
export const AGENT_CREDENTIAL_CACHE_MS = 30 * 60_000;
/** After an AccessDenied the agent's refresher sleeps up to 30 minutes before it tries again (credentialrefresher_deps.go): the worst case is modelled. */
export const AGENT_ACCESS_DENIED_BACKOFF_MS = 30 * 60_000;

/**
 * The session the instance's SSM agent signs with now: while its profile association is younger than the agent's
 * credential cache, the previous association's role, issued just before that association ended (the agent fetched
 * it earlier and has not fetched again); otherwise the current role's. Undefined without any profile.
 */
export function agentSession(world: World, accountId: string, region: string, instanceId: string): ReturnType<typeof instanceSession> {
    const current = instanceSession(world, accountId, region, instanceId);
    const r = world.region(accountId, region);
    const instance = r.instances[instanceId];
    const association = instance?.associationId ? r.profileAssociations[instance.associationId] : undefined;
    if (!current || !association) return current;
    const since = association.associatedAt ?? association.at;
    if (world.now() - since >= AGENT_CREDENTIAL_CACHE_MS) return current;
    const previous = Object.values(r.profileAssociations)
        .filter((a) => a.instanceId === instanceId && a.state === "disassociated" && a.at <= since)
        .sort((a, b) => b.at - a.at)[0];
    if (!previous) return current;
    const iam = world.account(accountId).iam;
    const roleName = Object.values(iam.instanceProfiles).find((p) => p.arn === previous.profileArn)?.roleNames[0];
    const role = roleName ? iam.roles[roleName] : undefined;
    if (!role) return current;
    return {
        ...current,
        arn: `arn:${partitionOf(region)}:sts::${accountId}:assumed-role/${role.roleName}/${instanceId}`,
        userId: `${role.roleId}:${instanceId}`,
        roleArn: role.arn,
        issuedAt: previous.at - 1,
    };
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
