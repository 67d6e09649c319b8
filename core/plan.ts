/**
 * The deployment plan: which (account, region) pairs a stack deploys to, through which provider, and what each
 * one holds. Pure: computed from the parsed `dfir:` config (`core/config.ts`), so the program, the tests and the
 * analyst tools agree on it.
 *
 * Stability: provider names are `aws-<accountId>-<region>` and the lists are sorted, so reordering members,
 * regions or VPCs in a stack file renames nothing (a renamed provider would replace every resource under it).
 */
import { checkWorkstationZone, CONFIG_NAMESPACE, MANAGED_BY_TAG, MANAGED_BY_VALUE, type DfirConfig, type OrganizationConfig } from "./config";

/** How GuardDuty findings of a member region reach the hub's workflow in that region. */
export type GuardDutyCoverage =
    /** The account has its own detector in the region (created unless `manageDetector` is false); a member account's
     * findings are forwarded by an EventBridge rule to the hub's bus in the same region. */
    | "own-detector"
    /** The hub is GuardDuty's delegated administrator: the organization enables the member's detector and the
     * findings arrive on the hub's bus. */
    | "organization";

/** One member account in one region: the VPCs to prepare for isolation and how its findings reach the hub. */
export interface MemberRegionPlan {
    /** Undefined only in a single-account plan (the ambient account). */
    readonly accountId?: string;
    readonly name?: string;
    readonly region: string;
    /** The target's provider (undefined in a single-account plan: the stack's default provider). */
    readonly providerName?: string;
    /** VPC ids in config order, or "all": every VPC of the account in the region, looked up at deploy time. */
    readonly vpcs: readonly string[] | "all";
    readonly guardDuty: GuardDutyCoverage;
    /** Forward the region's findings to the hub's event bus (own detector in an account other than the hub's). */
    readonly forwardFindingsTo?: { readonly accountId: string; readonly region: string };
    /**
     * `copySnapshotsToHub` reaches this region: a snapshot share key here, its evidence copied into the hub. Never
     * for the hub's own account (its instances' snapshots are already in the hub). Absent when not.
     */
    readonly shareSnapshots?: true;
}

/** One hub region: an evidence store, a case table and a workflow. */
export interface HubRegionPlan {
    readonly region: string;
    readonly providerName?: string;
    /** The hub's home region: account-wide resources (IAM) and organization-wide settings. */
    readonly home: boolean;
    /** Accounts with a member region here (sorted); the hub's own when it is listed as a member. */
    readonly memberAccountIds: readonly string[];
    /** Of those, the accounts whose rules forward findings to this region's bus (its bus policy admits them). */
    readonly forwardingAccountIds: readonly string[];
    /**
     * This stack writes the organization's GuardDuty configuration here as its delegated administrator (auto-enable,
     * features; the administrator's detector): false when another stack sharing the region does (`organization.configure`).
     */
    readonly guardDutyAdministrator: boolean;
}

/** One (account, region) pair: one `aws.Provider`. */
export interface DeploymentTarget {
    /**
     * The name of this target's `aws.Provider`: `aws-<accountId>-<region>`. Undefined for the one target of a
     * single-account plan, which deploys through the stack's default provider (`aws:region`, ambient
     * credentials), so existing single-account stacks keep the provider of every resource.
     */
    readonly providerName?: string;
    /** Undefined: whatever account the ambient credentials belong to (single-account plan). */
    readonly accountId?: string;
    readonly region: string;
    /** The provider's `assumeRoles[0].roleArn`; undefined: ambient credentials. */
    readonly assumeRoleArn?: string;
    /** The provider's `allowedAccountIds`: [accountId], so a wrong role or credentials fail before any change. */
    readonly allowedAccountIds?: readonly string[];
    /** The provider's `defaultTags.tags`: `dfir:managed-by=aws-dfir` and `dfir:tags`. */
    readonly defaultTags: Readonly<Record<string, string>>;
    /** Create a GuardDuty detector in this account and region (own-detector coverage, or the organization's
     * administrator in a hub region; never when `manageDetector` is false). */
    readonly createDetector: boolean;
    /**
     * Account-wide (IAM) resources of this account are deployed through this target's provider: the account's
     * target in the hub's home region, added when the account has nothing else there. Fixed by the home region
     * alone, so adding or removing a member region never moves (and so replaces) an account's roles.
     */
    readonly iam: boolean;
    /** Hub facet: evidence store and workflow live here. */
    readonly hub?: HubRegionPlan;
    /** Member facet: VPCs to prepare, detection. */
    readonly member?: MemberRegionPlan;
}

export interface DeploymentPlan {
    readonly mode: "single-account" | "multi-account";
    /** Undefined in a single-account plan (ambient). */
    readonly hubAccountId?: string;
    readonly homeRegion: string;
    /** Sorted by account, then region; one per (account, region). */
    readonly targets: readonly DeploymentTarget[];
    /** Sorted by region. */
    readonly hubRegions: readonly HubRegionPlan[];
    /** Sorted by account, then region. */
    readonly memberRegions: readonly MemberRegionPlan[];
    readonly organization?: OrganizationConfig;
    /** The role the hub's functions assume in member accounts; undefined in a single-account plan. */
    readonly responderRoleName?: string;
    /** Where the forensic workstation goes (`dfir:workstation`): the hub account, in one hub region. Absent without one. */
    readonly workstation?: WorkstationPlan;
}

/** The forensic workstation's place: one hub region (the stack's region in a single-account plan), the hub account. */
export interface WorkstationPlan {
    readonly region: string;
    /** The hub target's provider in that region (undefined in a single-account plan: the default provider). */
    readonly providerName?: string;
}

/** The ambient facts a single-account plan needs (outside `dfir:`). */
export interface AmbientSettings {
    /** The stack's `aws:region`. */
    readonly region?: string;
}

export const providerName = (accountId: string, region: string): string => `aws-${accountId}-${region}`;

/**
 * Name of a hub resource: `dfir-<what>-<region>`, or `dfir-<shard>-<what>-<region>` for a stack with a shard
 * (several stacks in one hub account). Pulumi's generated physical names, the access trail's name and the role-name
 * prefixes other policies trust all start with it.
 */
export const hubResourceName = (shard: string | undefined, what: string, region: string): string =>
    `dfir-${shard === undefined ? "" : `${shard}-`}${what}-${region}`;

const sortedTags = (tags: Readonly<Record<string, string>> | undefined): Record<string, string> => {
    const all: Record<string, string> = { ...tags, [MANAGED_BY_TAG]: MANAGED_BY_VALUE };
    return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
};

const byAccountRegion = <T extends { accountId?: string; region: string }>(a: T, b: T) =>
    (a.accountId ?? "").localeCompare(b.accountId ?? "") || a.region.localeCompare(b.region);

/**
 * The plan of a parsed config. A single-account config (`vpcId`) plans to one target with no provider name and no
 * role (the default provider, ambient credentials, `ambient.region`), which is both the hub and the member; a
 * multi-account config to one target per (account, region) of the hub and its members.
 * @throws Error (one line) when a single-account config has no region to plan for.
 */
export function planDeployment(config: DfirConfig, ambient: AmbientSettings = {}): DeploymentPlan {
    const defaultTags = sortedTags(config.tags);
    const multi = config.multiAccount;
    if (!multi) {
        const region = ambient.region;
        if (!region) throw new Error("config aws:region is required: the region of a single-account stack's one target");
        const hub: HubRegionPlan = { region, home: true, memberAccountIds: [], forwardingAccountIds: [], guardDutyAdministrator: false };
        const member: MemberRegionPlan = { region, vpcs: [config.vpcId], guardDuty: "own-detector" };
        if (config.workstation) checkWorkstationZone(config.workstation, region);
        return {
            mode: "single-account",
            homeRegion: region,
            targets: [{ region, defaultTags, createDetector: config.manageDetector, iam: true, hub, member }],
            hubRegions: [hub],
            memberRegions: [member],
            ...(config.workstation ? { workstation: { region } } : {}),
        };
    }

    const { hub, members, organization, responderRoleName } = multi;
    const delegated = organization?.delegatedAdmin === true;
    const memberRegions: MemberRegionPlan[] = members
        .flatMap((m) => Object.entries(m.regions).map(([region, { vpcs }]): MemberRegionPlan => {
            const ownHub = m.accountId === hub.accountId;
            return {
                accountId: m.accountId,
                ...(m.name ? { name: m.name } : {}),
                region,
                providerName: providerName(m.accountId, region),
                vpcs: vpcs === "all" ? "all" : [...vpcs],
                guardDuty: delegated ? "organization" : "own-detector",
                ...(!delegated && !ownHub ? { forwardFindingsTo: { accountId: hub.accountId, region } } : {}),
                ...(multi.copySnapshotsToHub && !ownHub ? { shareSnapshots: true as const } : {}),
            };
        }))
        .sort(byAccountRegion);

    const hubRegions: HubRegionPlan[] = [...hub.regions].sort().map((region) => {
        const here = memberRegions.filter((m) => m.region === region);
        return {
            region,
            providerName: providerName(hub.accountId, region),
            home: region === hub.homeRegion,
            memberAccountIds: here.map((m) => m.accountId as string),
            forwardingAccountIds: here.filter((m) => m.forwardFindingsTo).map((m) => m.accountId as string),
            // The organization's configuration is written by one stack per hub region (organization.configure).
            guardDutyAdministrator: delegated && organization?.configure !== false,
        };
    });

    const roleOf = new Map<string, string | undefined>([[hub.accountId, hub.deployRoleArn]]);
    for (const m of members) if (m.accountId !== hub.accountId) roleOf.set(m.accountId, m.deployRoleArn);

    const pairs = new Map<string, { accountId: string; region: string }>();
    for (const h of hubRegions) pairs.set(h.providerName as string, { accountId: hub.accountId, region: h.region });
    for (const m of memberRegions) pairs.set(m.providerName as string, { accountId: m.accountId as string, region: m.region });
    for (const accountId of roleOf.keys()) pairs.set(providerName(accountId, hub.homeRegion), { accountId, region: hub.homeRegion });

    const targets = [...pairs.entries()]
        .map(([name, { accountId, region }]): DeploymentTarget => {
            const hubFacet = accountId === hub.accountId ? hubRegions.find((h) => h.region === region) : undefined;
            const memberFacet = memberRegions.find((m) => m.accountId === accountId && m.region === region);
            const role = roleOf.get(accountId);
            // A detector where the account needs its own, or where the hub administers the organization's.
            const needsDetector = memberFacet?.guardDuty === "own-detector" || hubFacet?.guardDutyAdministrator === true;
            return {
                providerName: name,
                accountId,
                region,
                ...(role ? { assumeRoleArn: role } : {}),
                allowedAccountIds: [accountId],
                defaultTags,
                createDetector: config.manageDetector && needsDetector,
                iam: region === hub.homeRegion,
                ...(hubFacet ? { hub: hubFacet } : {}),
                ...(memberFacet ? { member: memberFacet } : {}),
            };
        })
        .sort(byAccountRegion);

    const workstationRegion = config.workstation?.region ?? hub.homeRegion;
    return {
        mode: "multi-account",
        hubAccountId: hub.accountId,
        homeRegion: hub.homeRegion,
        targets,
        hubRegions,
        memberRegions,
        ...(organization ? { organization } : {}),
        responderRoleName,
        // The config puts it in a hub region (default the home region); the hub has a target in every hub region.
        ...(config.workstation ? { workstation: { region: workstationRegion, providerName: providerName(hub.accountId, workstationRegion) } } : {}),
    };
}

/**
 * `pulumi:disable-default-providers` (outside `dfir:`) must list `aws` (or `*`) in a multi-account stack, so no
 * resource can land in whatever account ambient credentials point to; and must not in a single-account stack,
 * which deploys through the default provider.
 * @param all Pulumi's config map (`pulumi.runtime.allConfig()`, keys `namespace:key`, values strings) or a
 *   YAML-parsed stack file's `config:`.
 * @throws Error (one line) naming the key.
 */
export function checkDefaultProvidersDisabled(all: Readonly<Record<string, unknown>>): void {
    const key = "pulumi:disable-default-providers";
    let value = all[key];
    if (typeof value === "string") {
        try {
            value = JSON.parse(value);
        } catch {
            // Leave as is: rejected below.
        }
    }
    if (value !== undefined && !(Array.isArray(value) && value.every((v) => typeof v === "string"))) {
        throw new Error(`config ${key} must be a list of package names, like ["aws"], got ${JSON.stringify(all[key])}`);
    }
    const disabled = Array.isArray(value) && (value.includes("aws") || value.includes("*"));
    const multi = [`${CONFIG_NAMESPACE}:members`, `${CONFIG_NAMESPACE}:hub`].some((k) => all[k] !== undefined && all[k] !== null && all[k] !== "");
    if (multi && !disabled) {
        throw new Error(`config ${key} must list aws in a multi-account stack (${CONFIG_NAMESPACE}:members): every resource goes through an explicit provider, none to the account ambient credentials point to`);
    }
    if (!multi && disabled) {
        throw new Error(`config ${key} must not list aws in a single-account stack (${CONFIG_NAMESPACE}:vpcId): it deploys through the default provider`);
    }
}
