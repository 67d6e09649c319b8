/**
 * Several stacks in one organization (docs/many-accounts.md: "Several stacks"): what one stack hands the stack that
 * owns its member accounts' roles (`memberAccessGrants`, a stack output read by StackReference), and the checks
 * across the stacks' configurations that no single stack can make (`checkOrganization`, run by `npm run stacks`
 * before anything is previewed or deployed). Pure.
 */
import type { DfirConfig, MultiAccountStackConfig } from "./config";
import { hubResourceName, planDeployment } from "./plan";

/**
 * Member accounts per stack that the documentation and the benchmark use (each account in up to four hub regions,
 * two VPCs per account and region: about 3,600 resources). What bounds a stack: AWS's size quotas, first the
 * evidence bucket's policy (each member's capture role) at about 124 accounts per hub region (core/quotas.ts,
 * docs/limitations.md), and the program's memory, about 0.9 GB at this size under the mocks (BENCHMARKS.md, "An
 * organization of any size"). A guide, not a check: the quotas are checked (the mocks, the pack's aws-service-quotas).
 */
export const ACCOUNTS_PER_STACK = 25;

/** What the stack that creates a member account's roles must grant another stack acting there. */
export interface MemberAccessGrants {
    /** The hub account of the granting stack: it must be the owner's. */
    readonly hubAccountId: string;
    /** The name prefixes of the stack's response workflows' roles (`dfir[-<shard>]-response-<region>-`), one per hub region. */
    readonly roleNamePrefixes: readonly string[];
    /** The stack's evidence buckets (memory uploads from the member's instances, SendCommand output). */
    readonly evidenceBucketArns: readonly string[];
    /** Their KMS keys. */
    readonly evidenceKeyArns: readonly string[];
}

/** The role-name prefixes of a stack's response workflows: one per hub region. */
export function workflowRoleNamePrefixes(shard: string | undefined, hubRegions: readonly string[]): string[] {
    return [...hubRegions].sort().map((region) => `${hubResourceName(shard, "response", region)}-`);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string" && x !== "");

/**
 * Read another stack's `memberAccessGrants` output (`stack` names it in messages).
 * @throws Error (one line) when it is missing (the stack is not deployed, or by a version without it), malformed,
 *   or of another hub account.
 */
export function parseMemberAccessGrants(stack: string, value: unknown, hubAccountId: string): MemberAccessGrants {
    if (value === undefined || value === null) {
        throw new Error(`config dfir:trustStacks: stack ${stack} has no output memberAccessGrants (deploy it first, with this version of aws-dfir)`);
    }
    const v = value as Record<string, unknown>;
    if (typeof v !== "object" || typeof v.hubAccountId !== "string" || !isStrings(v.roleNamePrefixes) || !isStrings(v.evidenceBucketArns) || !isStrings(v.evidenceKeyArns)) {
        throw new Error(`config dfir:trustStacks: stack ${stack}'s output memberAccessGrants is not {hubAccountId, roleNamePrefixes, evidenceBucketArns, evidenceKeyArns}`);
    }
    if (v.hubAccountId !== hubAccountId) {
        throw new Error(`config dfir:trustStacks: stack ${stack} has the hub account ${v.hubAccountId}, not this stack's ${hubAccountId}`);
    }
    return { hubAccountId: v.hubAccountId, roleNamePrefixes: v.roleNamePrefixes, evidenceBucketArns: v.evidenceBucketArns, evidenceKeyArns: v.evidenceKeyArns };
}

/** One stack of the organization, as `npm run stacks` reads it: its name (`Pulumi.<name>.yaml`) and parsed configuration. */
export interface OrganizationStack {
    readonly name: string;
    readonly config: DfirConfig;
    /** The Pulumi project the stack belongs to: a `trustStacks` entry naming another project does not name it. */
    readonly project?: string;
}

const list = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(" and ");

/**
 * A `trustStacks` entry (`stack`, `project/stack`, `org/project/stack`) names the stack when its last segment is the
 * stack's name and the project segment, when given and the stack's project is known, is that project.
 */
function names(ref: string, stack: OrganizationStack): boolean {
    const parts = ref.split("/");
    if (parts[parts.length - 1] !== stack.name) return false;
    return parts.length < 2 || stack.project === undefined || parts[parts.length - 2] === stack.project;
}

/**
 * What is wrong with these stacks taken together (one line each, in a stable order; empty when nothing is):
 * - an (account, region) that two stacks both cover (both would contain the same instance);
 * - two stacks of one hub account with a hub region in common and the same shard (their names collide);
 * - a member account whose roles (`MemberAccess`) no stack, or two stacks, create;
 * - an owner that does not trust (`trustStacks`) another stack acting in its account, or uses another responder role name;
 * - a stack leaving the roles to an owner while copying snapshots to the hub (the share-key grants are the owner's);
 * - an analyst role of a stack that cannot reach an account whose roles (the analyst access role) another stack owns;
 * - two stacks writing one hub region's GuardDuty organization configuration, or none while one is its delegated
 *   administrator; two stacks writing its default bus policy.
 * Single-account stacks are left out: each has its account and region to itself.
 */
export function checkOrganization(stacks: readonly OrganizationStack[]): string[] {
    const multi = stacks.filter((s): s is { name: string; config: MultiAccountStackConfig } => s.config.multiAccount !== undefined);
    const problems: string[] = [];
    const plans = new Map(multi.map((s) => [s.name, planDeployment(s.config)]));

    // (account, region) -> stacks covering it.
    const coverage = new Map<string, string[]>();
    const accountStacks = new Map<string, string[]>();
    for (const s of multi) {
        for (const m of (plans.get(s.name) as ReturnType<typeof planDeployment>).memberRegions) {
            const key = `${m.accountId} ${m.region}`;
            coverage.set(key, [...(coverage.get(key) ?? []), s.name]);
            const a = m.accountId as string;
            if (!(accountStacks.get(a) ?? []).includes(s.name)) accountStacks.set(a, [...(accountStacks.get(a) ?? []), s.name]);
        }
    }
    for (const [key, by] of [...coverage.entries()].sort()) {
        if (by.length > 1) {
            const [account, region] = key.split(" ");
            problems.push(`account ${account} in ${region} is a member of stacks ${list(by)}: both would respond to its findings (list it in one)`);
        }
    }

    // Hub regions shared by stacks of one hub account.
    const hubRegions = new Map<string, { name: string; shard?: string; configure: boolean; delegated: boolean; forwarding: boolean }[]>();
    for (const s of multi) {
        const m = s.config.multiAccount;
        for (const h of (plans.get(s.name) as ReturnType<typeof planDeployment>).hubRegions) {
            const key = `${m.hub.accountId} ${h.region}`;
            hubRegions.set(key, [...(hubRegions.get(key) ?? []), { name: s.name, shard: m.shard, configure: h.guardDutyAdministrator, delegated: m.organization?.delegatedAdmin === true, forwarding: h.forwardingAccountIds.length > 0 }]);
        }
    }
    for (const [key, here] of [...hubRegions.entries()].sort()) {
        const [account, region] = key.split(" ");
        const shards = new Map<string, string[]>();
        for (const h of here) shards.set(h.shard ?? "", [...(shards.get(h.shard ?? "") ?? []), h.name]);
        for (const [shard, by] of shards) {
            if (by.length > 1) {
                problems.push(`stacks ${list(by)} both have hub account ${account}'s region ${region} ${shard ? `and the shard ${shard}` : "and no shard"}: their resources would collide (give each a distinct dfir:shard)`);
            }
        }
        const configuring = here.filter((h) => h.configure).map((h) => h.name);
        if (configuring.length > 1) {
            problems.push(`stacks ${list(configuring)} both write GuardDuty's organization configuration in ${region} (set dfir:organization.configure to false in all but one)`);
        }
        const delegated = here.filter((h) => h.delegated).map((h) => h.name);
        if (configuring.length === 0 && delegated.length > 0) {
            problems.push(`no stack writes GuardDuty's organization configuration in ${region} (${list(delegated)} ${delegated.length > 1 ? "all set" : "sets"} dfir:organization.configure to false): set it true in one`);
        }
        const forwarding = here.filter((h) => h.forwarding).map((h) => h.name);
        if (forwarding.length > 1) {
            problems.push(`stacks ${list(forwarding)} both write the default event bus policy of hub account ${account} in ${region} (a bus has one policy: keep that region's forwarding members in one stack, or use the organization's delegated administrator)`);
        }
    }

    // Each member account's roles: exactly one owner, trusting every other stack acting there.
    const byName = new Map(multi.map((s) => [s.name, s.config.multiAccount]));
    const stackNamed = new Map(multi.map((s) => [s.name, s as OrganizationStack]));
    for (const [account, by] of [...accountStacks.entries()].sort()) {
        const owners = by.filter((n) => byName.get(n)?.memberAccess);
        if (owners.length === 0) {
            problems.push(`no stack creates the roles of account ${account} (MemberAccess): ${list(by)} ${by.length > 1 ? "all set" : "sets"} dfir:memberAccess to false`);
            continue;
        }
        if (owners.length > 1) {
            problems.push(`stacks ${list(owners)} both create the roles of account ${account} (MemberAccess; IAM names are per account): set dfir:memberAccess to false in all but one`);
            continue;
        }
        const [owner] = owners;
        const o = byName.get(owner) as MultiAccountStackConfig["multiAccount"];
        for (const other of by.filter((n) => n !== owner)) {
            const c = byName.get(other) as MultiAccountStackConfig["multiAccount"];
            if (!o.trustStacks.some((ref) => names(ref, stackNamed.get(other) as OrganizationStack))) {
                problems.push(`stack ${JSON.stringify(owner)} creates the roles of account ${account}, where stack ${JSON.stringify(other)} acts too: add ${other} to its dfir:trustStacks`);
            }
            if (c.responderRoleName !== o.responderRoleName) {
                problems.push(`stack ${JSON.stringify(other)} assumes ${c.responderRoleName} in account ${account}, but ${JSON.stringify(owner)} creates ${o.responderRoleName} there (dfir:responderRoleName must match)`);
            }
            // The analyst access role is the owner's, trusted by its analystRoleArns only.
            const unreachable = c.analystRoleArns.filter((a) => !o.analystRoleArns.includes(a));
            if (unreachable.length > 0) {
                problems.push(`stack ${JSON.stringify(other)}'s analysts ${unreachable.join(", ")} cannot reach account ${account}: its analyst access role is ${JSON.stringify(owner)}'s (add them to that stack's dfir:analystRoleArns)`);
            }
            if (c.copySnapshotsToHub && account !== c.hub.accountId) {
                problems.push(`stack ${JSON.stringify(other)} copies snapshots to the hub from account ${account}, whose roles ${JSON.stringify(owner)} creates: not supported (the share-key grants are the owner's; set dfir:copySnapshotsToHub to false there)`);
            }
        }
    }
    return problems;
}
