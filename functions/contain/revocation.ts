/**
 * Writes a contained instance into its role's revocation policy (core/revocation.ts: what the policy says and
 * why it is one managed policy per role): read the policy, add the instance, prune what has expired, write a new
 * version, attach it to the role. Two containments on one role at once would each read the same version and the
 * later write would drop the other's instance, so the read-modify-write runs under a lock: an item of the case
 * table taken with a conditional write (DynamoDB's conditional PutItem is atomic), expiring by itself so a killed
 * Lambda never holds it for long, released with a conditional delete. Each step is one action of the caller's log.
 *
 * IAM calls: GetPolicy, GetPolicyVersion, ListPolicyVersions, DeletePolicyVersion (a managed policy keeps five
 * versions), CreatePolicy / CreatePolicyVersion, AttachRolePolicy (attaching a policy the role already has changes
 * nothing: IAM API Reference, AttachRolePolicy). The lock is a conditional PutItem, which DynamoDB applies
 * atomically (DynamoDB Developer Guide, "Condition expressions"). `dfir release` edits the same policy under the same lock ({@link withRevocationLock}).
 */
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
    AttachRolePolicyCommand,
    CreatePolicyCommand,
    CreatePolicyVersionCommand,
    DeletePolicyVersionCommand,
    GetPolicyCommand,
    GetPolicyVersionCommand,
    ListPolicyVersionsCommand,
    type IAMClient,
} from "@aws-sdk/client-iam";
import {
    parseRevocationDocument,
    renderRevocation,
    REVOCATION_LOCK_PREFIX,
    REVOCATION_POLICY_PATH,
    revocationPolicyArn,
    revocationPolicyName,
    type RevocationGroup,
} from "../../core/revocation";
import { TAGS } from "../../core/tags";

/** A managed policy keeps at most five versions (IAM User Guide, "IAM and AWS STS quotas": versions per managed policy). */
export const POLICY_VERSIONS_MAX = 5;

/** How long a lock holder may keep it before another may take it (a killed holder's lock expires by itself). */
export const LOCK_TTL_MS = 30_000;
/** How long to wait for the lock before giving up (the Contain function has 120 s in all). */
export const LOCK_WAIT_MS = 60_000;

/** The case-table key of a role's revocation lock. */
export function revocationLockKey(accountId: string, roleName: string): string {
    return `${REVOCATION_LOCK_PREFIX}${accountId}#${roleName}`;
}

export interface RevocationLock {
    dynamodb: DynamoDBClient;
    table: string;
    /** Who holds it: the execution and instance, for whoever looks at the table. */
    holder: string;
    /** @default Date.now */
    now?: () => number;
    /** @default setTimeout */
    sleep?: (ms: number) => Promise<void>;
}

/** Margin kept before the lock's expiry: no policy write starts later than this before it. */
export const LOCK_MARGIN_MS = 5_000;

/** The lock expired while its holder was still working (slow IAM, throttling): another may hold it now. */
export class RevocationLockLostError extends Error {
    override readonly name = "RevocationLockLostError";
}

/** The lock could not be had within {@link LOCK_WAIT_MS}. */
export class RevocationLockTimeoutError extends Error {
    override readonly name = "RevocationLockTimeoutError";
}

/**
 * Run `work` holding the role's revocation lock: a conditional put that succeeds only when no unexpired lock
 * exists, retried with full-jitter backoff up to {@link LOCK_WAIT_MS}; released (only if still ours) afterwards.
 */
export async function withRevocationLock<T>(lock: RevocationLock, key: string, work: (assertHeld: () => void) => Promise<T>): Promise<T> {
    const now = lock.now ?? Date.now;
    const sleep = lock.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const deadline = now() + LOCK_WAIT_MS;
    const token = `${lock.holder}#${now()}#${Math.random().toString(36).slice(2, 10)}`;
    let acquiredAt = 0;
    for (let attempt = 0; ; attempt++) {
        const at = now();
        try {
            await lock.dynamodb.send(new PutItemCommand({
                TableName: lock.table,
                Item: { pk: { S: key }, holder: { S: token }, expiresAt: { N: String(at + LOCK_TTL_MS) } },
                ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
                ExpressionAttributeValues: { ":now": { N: String(at) } },
            }));
            acquiredAt = at;
            break;
        } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === "ConditionalCheckFailedException")) throw error;
            if (at >= deadline) throw new RevocationLockTimeoutError(`the revocation lock ${key} stayed taken for ${LOCK_WAIT_MS / 1000} s`);
            await sleep(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
        }
    }
    // A write may start only while the lock is surely still ours (it expires by itself after LOCK_TTL_MS).
    const assertHeld = () => {
        if (now() > acquiredAt + LOCK_TTL_MS - LOCK_MARGIN_MS) throw new RevocationLockLostError(`the revocation lock ${key} ran out before the policy was written (took over ${(LOCK_TTL_MS - LOCK_MARGIN_MS) / 1000} s)`);
    };
    try {
        return await work(assertHeld);
    } finally {
        await lock.dynamodb.send(new DeleteItemCommand({
            TableName: lock.table,
            Key: { pk: { S: key } },
            ConditionExpression: "holder = :me",
            ExpressionAttributeValues: { ":me": { S: token } },
        })).catch(() => undefined); // expired and taken by another, or gone: it expires anyway
    }
}

/** One step of the caller's action log: a change (recorded whatever the answer) or a read (recorded on failure). */
export interface RevocationSteps {
    change<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
    read<T>(action: string, target: string, detail: string, send: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
}

/** Steps that record nothing: each call's answer, failures thrown (for callers that keep their own record). */
export const UNRECORDED_STEPS: RevocationSteps = {
    change: async (_a, _t, _d, send) => ({ ok: true, value: await send() }),
    read: async (_a, _t, _d, send) => ({ ok: true, value: await send() }),
};

/** Where the role's policy lives. */
export interface RoleRef {
    partition: string;
    accountId: string;
    roleName: string;
}

/** The role's revocation policy as it is now: its groups and version ids, or absent. */
export interface CurrentRevocation {
    exists: boolean;
    groups: RevocationGroup[];
    versionIds: string[];
    defaultVersionId?: string;
}

/** Read the policy (absent is fine; a document this project did not write is an error). */
export async function readRevocation(iam: IAMClient, steps: RevocationSteps, role: RoleRef): Promise<CurrentRevocation> {
    const arn = revocationPolicyArn(role.partition, role.accountId, role.roleName);
    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn })).catch((error: Error) => {
        if (error.name === "NoSuchEntity" || error.name === "NoSuchEntityException") return undefined;
        throw error;
    });
    if (!policy?.Policy?.DefaultVersionId) return { exists: false, groups: [], versionIds: [] };
    const defaultVersionId = policy.Policy.DefaultVersionId;
    const [version, versions] = await Promise.all([
        steps.read("iam:GetPolicyVersion", arn, `revocation policy ${defaultVersionId}`, () =>
            iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: defaultVersionId }))),
        steps.read("iam:ListPolicyVersions", arn, "revocation policy versions", () => iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))),
    ]);
    if (!version.ok) throw version.error;
    if (!versions.ok) throw versions.error;
    // IAM returns documents URL-encoded.
    const groups = parseRevocationDocument(decodeURIComponent(version.value.PolicyVersion?.Document ?? ""));
    return {
        exists: true,
        groups,
        versionIds: (versions.value.Versions ?? []).flatMap((v) => (v.VersionId ? [v.VersionId] : [])),
        defaultVersionId,
    };
}

/**
 * Write `groups` as the role's revocation policy (a new default version, the oldest other version deleted when
 * five exist) and attach it to the role. Returns the document written, or undefined when it was already that.
 */
export async function writeRevocation(
    iam: IAMClient,
    steps: RevocationSteps,
    role: RoleRef,
    current: CurrentRevocation,
    groups: RevocationGroup[],
    detail: string,
    options: { attach?: boolean; assertHeld?: () => void } = {},
): Promise<{ changed: boolean; size: number }> {
    const arn = revocationPolicyArn(role.partition, role.accountId, role.roleName);
    const rendered = renderRevocation(groups);
    if (!rendered.fits) {
        throw new Error(`the revocation policy of role ${role.roleName} would be ${rendered.size} characters, over IAM's 6,144 for a managed policy`);
    }
    const unchanged = current.exists && JSON.stringify(renderRevocation(current.groups).document) === JSON.stringify(rendered.document);
    if (!unchanged) options.assertHeld?.();
    if (!current.exists) {
        const created = await steps.change("iam:CreatePolicy", arn, detail, () =>
            iam.send(new CreatePolicyCommand({
                PolicyName: revocationPolicyName(role.roleName),
                Path: REVOCATION_POLICY_PATH,
                PolicyDocument: rendered.document,
                Description: `aws-dfir: denies the sessions of contained instances of role ${role.roleName} issued before their containment`,
                Tags: [{ Key: TAGS.role, Value: "revocation" }],
            })));
        if (!created.ok) throw created.error;
    } else if (!unchanged) {
        if (current.versionIds.length >= POLICY_VERSIONS_MAX) {
            const oldest = [...current.versionIds].filter((v) => v !== current.defaultVersionId).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))[0];
            if (oldest) {
                const deleted = await steps.change("iam:DeletePolicyVersion", arn, `oldest version ${oldest} (IAM keeps five)`, () =>
                    iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: oldest })));
                if (!deleted.ok) throw deleted.error;
            }
        }
        const versioned = await steps.change("iam:CreatePolicyVersion", arn, detail, () =>
            iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: rendered.document, SetAsDefault: true })));
        if (!versioned.ok) throw versioned.error;
    }
    if (options.attach === false) return { changed: !unchanged, size: rendered.size };
    const attached = await steps.change("iam:AttachRolePolicy", role.roleName, `${arn} (idempotent)`, () =>
        iam.send(new AttachRolePolicyCommand({ RoleName: role.roleName, PolicyArn: arn })));
    if (!attached.ok) throw attached.error;
    return { changed: !unchanged, size: rendered.size };
}
