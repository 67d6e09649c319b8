/**
 * Session revocation at scale: the one customer managed policy per workload role that denies the old sessions of
 * every instance contained on that role. Pure: the document, how an instance is added, released and pruned, and
 * whether the result fits IAM's limits. Contain writes it (functions/contain/revocation.ts), `dfir release` edits
 * it, the tests and the drill read it.
 *
 * Why one managed policy per role, not one inline policy per instance:
 * - IAM caps a role's inline policies at 10,240 characters in all (IAM quotas page; white space not counted): one
 *   ~200-character policy per instance fails after ~50 instances on one role.
 * - `iam:PutRolePolicy` cannot be scoped to a policy name or content (its only condition keys are
 *   iam:PermissionsBoundary and iam:RoleTemplateARN: Service Authorization Reference): granting it lets the holder
 *   write any inline policy, Allow included, onto any role it names. `iam:AttachRolePolicy` takes `iam:PolicyARN`,
 *   so the responder can attach only policies under {@link REVOCATION_POLICY_PATH}, which it alone writes.
 *
 * The document: one Deny statement (everything but the SSM agent's channel, {@link AGENT_CHANNEL_ACTIONS}) per six-hour bucket of containment times, denying sessions issued
 * before the bucket's latest containment time (`aws:TokenIssueTime`) to the instances listed
 * (`ec2:SourceInstanceARN`, matched on the instance id: `*` + `/i-0123…`, 24 characters an instance). Denying an
 * instance contained at T the sessions it got between T and the bucket's cutoff is safe: from T on the instance
 * holds the capture profile, whose role is another one, so the old role issues it nothing new; an instance
 * released from isolation is moved to a statement of its own with exactly its own cutoff ({@link releaseInstance}).
 * A statement is dropped once its cutoff is more than {@link REVOCATION_HOLD_HOURS} old: by then every credential
 * issued before it has expired (instance role credentials live at most 6 hours; twice that is kept).
 * About 220 instances fit in the 6,144 characters of a managed policy in any 12 hours, per role.
 */
/** A statement of the revocation policy: Deny, with NotAction (the general PolicyStatement type has Action only). */
export interface RevocationStatement {
    Sid: string;
    Effect: "Deny";
    NotAction?: string[];
    Action?: string;
    Resource: "*";
    Condition: Record<string, Record<string, string | string[]>>;
}

export interface RevocationPolicyDocument {
    Version: "2012-10-17";
    Statement: RevocationStatement[];
}

/** Instance role credentials live at most 6 h (IMDS); twice that, and none issued before containment is still valid. */
export const REVOCATION_HOLD_HOURS = 12;
/** The size of a customer managed policy, in characters without white space (IAM quotas page). */
export const MANAGED_POLICY_MAX_CHARACTERS = 6144;
/** IAM path of the revocation policies: the only policies the responder may create, change and attach. */
export const REVOCATION_POLICY_PATH = "/dfir/revoke/";
/** Case-table keys of the roles' revocation locks start with this (functions/contain/revocation.ts). */
export const REVOCATION_LOCK_PREFIX = "revocation-lock#";
/** Hours of containment times one statement gathers. */
export const BUCKET_HOURS = 6;

/**
 * What the deny leaves to the instance's old sessions: the SSM agent's own channel. The agent caches its
 * instance-profile credentials (about 30 minutes in its workers) and does not fetch new ones when AWS refuses them
 * (after an AccessDenied it waits 25-30 minutes: amazon-ssm-agent, ec2_role_provider.go and credentialrefresher),
 * so denying them everything would cut off the very channel the memory capture arrives by while the agent still
 * shows Online. `ec2messages` and `ssmmessages` are the agent's message channels (Run Command delivery and replies,
 * Session Manager); `ssm:UpdateInstanceInformation` its heartbeat. The window this leaves: whoever holds the old
 * credentials can act as that one instance's agent (read the commands sent to it, reply to them) — on an instance
 * whose root the attacker may hold anyway, and the memory image is verified against what S3 holds, not what the
 * agent says.
 */
export const AGENT_CHANNEL_ACTIONS = ["ec2messages:*", "ssmmessages:*", "ssm:UpdateInstanceInformation"] as const;

const BUCKET_SID = /^DfirRevoke(\d{10})$/;
const RELEASED_SID = /^DfirRevokeReleased(\d{12})$/;
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const HOUR = 3_600_000;

/** The revocation policy's name for a role (IAM names: 128 characters; role names are at most 64). */
export function revocationPolicyName(roleName: string): string {
    return `dfir-revoke-${roleName}`;
}

/** `arn:<partition>:iam::<account>:policy/dfir/revoke/dfir-revoke-<role>` */
export function revocationPolicyArn(partition: string, accountId: string, roleName: string): string {
    return `arn:${partition}:iam::${accountId}:policy${REVOCATION_POLICY_PATH}${revocationPolicyName(roleName)}`;
}

/** One statement's content: who, and sessions issued before when. */
export interface RevocationGroup {
    /** `DfirRevoke<yyyymmddhh of the bucket start>` or `DfirRevokeReleased<yyyymmddhhmm>`. */
    sid: string;
    /** ISO time: sessions issued before it are denied. */
    cutoff: string;
    instanceIds: string[];
}

/** The instance id an `ec2:SourceInstanceARN` pattern of this policy names. */
const patternOf = (instanceId: string) => `*/${instanceId}`;
const idOf = (pattern: string) => pattern.slice(pattern.lastIndexOf("/") + 1);

function stamp(time: Date, digits: number): string {
    return time.toISOString().replace(/[-:T]/g, "").slice(0, digits);
}

/** The bucket statement id of a containment time. */
export function bucketSid(time: Date): string {
    const start = new Date(Math.floor(time.getTime() / (BUCKET_HOURS * HOUR)) * BUCKET_HOURS * HOUR);
    return `DfirRevoke${stamp(start, 10)}`;
}

/** The policy document of these groups (empty groups are left out; a policy with no group denies nothing). */
export function revocationDocument(groups: readonly RevocationGroup[]): RevocationPolicyDocument {
    const live = groups.filter((g) => g.instanceIds.length > 0);
    const statements: RevocationStatement[] = live.map((g) => ({
        Sid: g.sid,
        Effect: "Deny",
        NotAction: [...AGENT_CHANNEL_ACTIONS],
        Resource: "*",
        Condition: {
            DateLessThan: { "aws:TokenIssueTime": g.cutoff },
            StringLike: { "ec2:SourceInstanceARN": [...new Set(g.instanceIds)].sort().map(patternOf) },
        },
    }));
    // IAM refuses a policy without statements: an emptied policy keeps one that can never match.
    if (statements.length === 0) {
        statements.push({
            Sid: "DfirRevokeNone",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { DateLessThan: { "aws:TokenIssueTime": "1970-01-01T00:00:00Z" } },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/**
 * The groups of a policy this module wrote; anything else in it is an error (the policy path is the project's:
 * a statement it did not write means someone else changed it, and Contain must not silently drop it).
 */
export function parseRevocationDocument(text: string): RevocationGroup[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch {
        throw new Error("revocation policy is not JSON");
    }
    const statements = (doc as { Statement?: unknown }).Statement;
    if (!Array.isArray(statements)) throw new Error("revocation policy has no Statement list");
    const groups: RevocationGroup[] = [];
    for (const s of statements as Array<Record<string, unknown>>) {
        const sid = typeof s.Sid === "string" ? s.Sid : "";
        if (sid === "DfirRevokeNone") continue;
        const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
        const cutoff = condition?.DateLessThan?.["aws:TokenIssueTime"];
        const patterns = condition?.StringLike?.["ec2:SourceInstanceARN"];
        const list = typeof patterns === "string" ? [patterns] : patterns;
        const notAction = s.NotAction;
        if (
            s.Effect !== "Deny" || s.Action !== undefined || JSON.stringify(notAction) !== JSON.stringify(AGENT_CHANNEL_ACTIONS) || s.Resource !== "*" ||
            !(BUCKET_SID.test(sid) || RELEASED_SID.test(sid)) || typeof cutoff !== "string" || Number.isNaN(Date.parse(cutoff)) ||
            !Array.isArray(list) || !list.every((p) => typeof p === "string" && p.startsWith("*/") && INSTANCE_ID.test(idOf(p)))
        ) {
            throw new Error(`revocation policy holds a statement this project did not write (${JSON.stringify(sid || s)})`);
        }
        groups.push({ sid, cutoff, instanceIds: (list as string[]).map(idOf) });
    }
    return groups;
}

/** Groups whose cutoff is more than the hold old are dropped: every credential issued before it has expired. */
export function pruneGroups(groups: readonly RevocationGroup[], now: Date): RevocationGroup[] {
    return groups.filter((g) => Date.parse(g.cutoff) + REVOCATION_HOLD_HOURS * HOUR > now.getTime());
}

/**
 * Add one instance contained at `issuedBefore` (the time its sessions are denied up to): into its bucket's statement,
 * whose cutoff becomes the later of the two. Pruned first. Idempotent.
 */
export function addInstance(groups: readonly RevocationGroup[], instanceId: string, issuedBefore: Date, now: Date): RevocationGroup[] {
    if (!INSTANCE_ID.test(instanceId)) throw new Error(`not an instance id: ${JSON.stringify(instanceId)}`);
    const kept = pruneGroups(groups, now).map((g) => ({ ...g, instanceIds: [...g.instanceIds] }));
    const sid = bucketSid(issuedBefore);
    const cutoff = issuedBefore.toISOString();
    const bucket = kept.find((g) => g.sid === sid);
    if (bucket) {
        if (!bucket.instanceIds.includes(instanceId)) bucket.instanceIds = [...bucket.instanceIds, instanceId].sort();
        if (Date.parse(bucket.cutoff) < issuedBefore.getTime()) bucket.cutoff = cutoff;
    } else {
        kept.push({ sid, cutoff, instanceIds: [instanceId] });
    }
    return kept.sort((a, b) => a.sid.localeCompare(b.sid));
}

/**
 * A released instance (`dfir release`): out of its bucket, whose later cutoff would deny the sessions its restored
 * profile now gets; while credentials from before its containment may still be valid (`isolatedAt` + the hold) it
 * keeps a statement of its own with exactly its own cutoff; after that it is removed.
 */
export function releaseInstance(groups: readonly RevocationGroup[], instanceId: string, isolatedAt: Date | undefined, now: Date): RevocationGroup[] {
    const kept = pruneGroups(groups, now)
        .map((g) => ({ ...g, instanceIds: g.instanceIds.filter((i) => i !== instanceId) }))
        .filter((g) => g.instanceIds.length > 0);
    if (isolatedAt && isolatedAt.getTime() + REVOCATION_HOLD_HOURS * HOUR > now.getTime()) {
        const sid = `DfirRevokeReleased${stamp(isolatedAt, 12)}`;
        kept.push({ sid, cutoff: isolatedAt.toISOString(), instanceIds: [instanceId] });
    }
    return mergeSameSid(kept).sort((a, b) => a.sid.localeCompare(b.sid));
}

/** Two released statements of the same minute with different seconds: one statement, the earlier cutoff (deny less, never more). */
function mergeSameSid(groups: RevocationGroup[]): RevocationGroup[] {
    const bySid = new Map<string, RevocationGroup>();
    for (const g of groups) {
        const seen = bySid.get(g.sid);
        if (!seen) bySid.set(g.sid, g);
        else {
            seen.instanceIds = [...new Set([...seen.instanceIds, ...g.instanceIds])];
            if (Date.parse(g.cutoff) < Date.parse(seen.cutoff)) seen.cutoff = g.cutoff;
        }
    }
    return [...bySid.values()];
}

/** Whether the instance's old sessions are denied by these groups (sessions issued before `issuedBefore`). */
export function revokes(groups: readonly RevocationGroup[], instanceId: string, issuedBefore: Date): boolean {
    return groups.some((g) => g.instanceIds.includes(instanceId) && Date.parse(g.cutoff) >= issuedBefore.getTime());
}

/** IAM's size of a policy document: characters without white space. */
export function policySize(document: string): number {
    return document.replace(/\s+/g, "").length;
}

/** The document as IAM will store it, or why it cannot be. */
export function renderRevocation(groups: readonly RevocationGroup[]): { document: string; size: number; fits: boolean } {
    const document = JSON.stringify(revocationDocument(groups));
    const size = policySize(document);
    return { document, size, fits: size <= MANAGED_POLICY_MAX_CHARACTERS };
}
