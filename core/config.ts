/**
 * Stack configuration: the one place that knows which `dfir:*` keys exist, their types and defaults.
 *
 * `index.ts` hands it every `dfir:` key Pulumi has for the stack (values arrive as strings, objects as JSON);
 * tests hand it the parsed `Pulumi.<stack>.yaml`. Anything unknown or malformed stops `pulumi preview` with a
 * one-line message that names the key, before a single resource is registered.
 */
import { AVML_BUILDS, AVML_RELEASE_ASSETS, AVML_VERSION, type AvmlBuild } from "./avml";
import { regionProblem } from "./regions";
import { validateTriageOptions } from "./triage";
import { ACCOUNT_ID, ROLE_ARN } from "./ids";

export const CONFIG_NAMESPACE = "dfir";

/**
 * The validated, defaulted configuration of a stack: single-account (`vpcId`: one VPC, the stack's own account
 * and `aws:region`) or multi-account (`hub` + `members`, gathered in `multiAccount`; see `core/plan.ts` for the
 * (account, region) targets they make). The two are told apart by `multiAccount`, so code that handles one kind
 * cannot be handed the other unnoticed.
 */
export type DfirConfig = SingleAccountConfig | MultiAccountStackConfig;

/** One account, one region, one VPC. */
export interface SingleAccountConfig extends CommonConfig {
    /** VPC whose instances can be isolated. */
    readonly vpcId: string;
    readonly multiAccount?: undefined;
}

/** A hub and its member accounts; VPCs come per member and region. */
export interface MultiAccountStackConfig extends CommonConfig {
    readonly vpcId?: undefined;
    /** The hub and its member accounts (keys `hub`, `members`, `organization`, `responderRoleName`, `copySnapshotsToHub`, `analystRoleArns`). */
    readonly multiAccount: MultiAccountConfig;
}

/** Settings of every stack. */
export interface CommonConfig {
    /** Lowest GuardDuty severity that triggers a response. @default 7 */
    readonly minSeverity: number;
    /** Respond to GuardDuty sample findings (CreateSampleFindings). @default false */
    readonly allowSamples: boolean;
    /** Default Object Lock (COMPLIANCE) retention of evidence, in days. @default 365 */
    readonly evidenceRetentionDays: number;
    /** The only principal allowed to delete object versions or change the lock configuration. @default none */
    readonly breakGlassRoleArn?: string;
    /** Create the S3 gateway and SSM interface endpoints the isolation group needs. @default true */
    readonly createEndpoints: boolean;
    /** Security group of existing SSM interface endpoints (required when createEndpoints is false). */
    readonly endpointSecurityGroupId?: string;
    /** Subnets for new interface endpoints, at most one per AZ. @default one discovered subnet per AZ */
    readonly endpointSubnetIds?: readonly string[];
    /** Route tables for a new S3 gateway endpoint. @default every route table of the VPC */
    readonly endpointRouteTableIds?: readonly string[];
    /** Create and manage the region's GuardDuty detector (false when one exists already). @default true */
    readonly manageDetector: boolean;
    /** GuardDuty Malware Protection for EC2 (EBS scans) on the managed detector. @default true */
    readonly ebsMalwareProtection: boolean;
    /** GuardDuty Runtime Monitoring (with agent management for EC2) on the managed detector. @default false */
    readonly runtimeMonitoring: boolean;
    /** E-mail address subscribed to the notification topic. @default none */
    readonly notificationEmail?: string;
    /** Retention of the workflow's and functions' CloudWatch log groups, in days. @default 365 */
    readonly logRetentionDays: number;
    /** Apply an all-open "untrack" group before the isolation group, cutting existing connections. @default true */
    readonly untrackConnections: boolean;
    /** How long an approval request (instance tagged dfir:approval=required) waits, in seconds. @default 3600 */
    readonly approvalTimeoutSeconds: number;
    /** What an unanswered approval request does: contain, or evidence only. @default "contain" */
    readonly approvalDefault: "contain" | "skip";
    /** Give up waiting for snapshots after this many hours. @default 24 */
    readonly snapshotCapHours: number;
    /** Give up waiting for the memory image after this many minutes. @default 180 */
    readonly memoryCapMinutes: number;
    /**
     * Local paths of the pinned avml builds (core/avml.ts AVML_VERSION), staged in the evidence bucket's tools/ prefix:
     * `x86_64` (release asset `avml`) and `aarch64` (`avml-aarch64`, for Graviton), either or both. Each instance
     * is sent the build of its own architecture. @default none: memory is reported missing
     */
    readonly avml?: AvmlPaths;
    /** Also create the deny-modify-isolated-instances SCP (organization management account only). @default false */
    readonly isolatedInstanceScp: boolean;
    /** Default tags of every resource, besides `dfir:managed-by=aws-dfir` (reserved). @default none (key absent) */
    readonly tags?: Readonly<Record<string, string>>;
    /** The forensic workstation (components/forensicWorkstation.ts). @default none (key absent): no workstation */
    readonly workstation?: WorkstationConfig;
}

/** Local paths of the avml builds to stage, by build (`uname -m` name). At least one. */
export type AvmlPaths = Readonly<Partial<Record<AvmlBuild, string>>>;

/**
 * The forensic workstation: an isolated analysis VPC (no internet route, SSM through endpoints) and one instance
 * reading the evidence store of its region. Volumes are made from snapshots in the snapshots' own region, so the
 * workstation serves the cases of its region only (docs/analyst-guide.md: "dfir attach").
 */
export interface WorkstationConfig {
    /** The image (e.g. a SIFT build) in the workstation's region: `ami-` + 8 or 17 hex digits. */
    readonly amiId: string;
    /** @default "m5.xlarge" */
    readonly instanceType: string;
    /** An Availability Zone of the workstation's region. @default the region's first available AZ */
    readonly availabilityZone?: string;
    /** The analysis VPC's range (one private subnet takes all of it). @default "10.254.0.0/24" */
    readonly cidr: string;
    /** Size of the root volume in GiB (memory images are downloaded there). @default the AMI's */
    readonly rootVolumeGiB?: number;
    /**
     * Multi-account only: the hub region it is deployed in (one of `hub.regions`), in the hub account.
     * @default hub.homeRegion. Absent in a single-account stack (the stack's region).
     */
    readonly region?: string;
}

export const WORKSTATION_DEFAULTS = { instanceType: "m5.xlarge", cidr: "10.254.0.0/24" } as const;

/** A multi-account, multi-region stack: one forensics hub account, the member accounts it protects. */
export interface MultiAccountConfig {
    readonly hub: HubConfig;
    /** In the order written; the plan sorts (provider names never depend on this order). */
    readonly members: readonly MemberConfig[];
    readonly organization?: OrganizationConfig;
    /** The role the hub's functions assume in each member account (created there by the stack). @default "dfir-responder" */
    readonly responderRoleName: string;
    /**
     * Copy a member instance's evidence snapshots into the hub, re-encrypted with the hub region's evidence key
     * (a share key per member region is created for the hand-over). @default false
     */
    readonly copySnapshotsToHub: boolean;
    /**
     * The roles the analysts run `dfir` as (exact role ARNs, usually the hub's): every member's responder role
     * trusts them too, with the same session name as the functions, so `dfir plan`, `verify` and `release` reach a
     * member account's instance. @default none: the responder trusts the hub's functions only
     */
    readonly analystRoleArns: readonly string[];
}

export interface HubConfig {
    /** The forensics/security account: evidence stores, case table, workflows. */
    readonly accountId: string;
    /** Where evidence stores and workflows live, one of each per region; every member region is one of these. */
    readonly regions: readonly string[];
    /** Account-wide resources (IAM) and organization-wide settings are deployed from here. @default regions[0] */
    readonly homeRegion: string;
    /** Role Pulumi assumes in the hub. @default none: the ambient credentials, which must be the hub account's */
    readonly deployRoleArn?: string;
}

export interface MemberConfig {
    readonly accountId: string;
    /**
     * Role Pulumi assumes in the member (`arn:aws:iam::<accountId>:role/...`). Required, except for the hub's own
     * account listed as a member, where it may be omitted and otherwise must equal `hub.deployRoleArn` (one
     * provider per account and region).
     */
    readonly deployRoleArn?: string;
    /** A label for people (notifications, outputs); never part of a resource name. */
    readonly name?: string;
    /** Per region (each one of hub.regions): the VPCs to prepare for isolation, or "all" (discovered at deploy time). */
    readonly regions: Readonly<Record<string, { readonly vpcs: readonly string[] | "all" }>>;
}

export interface OrganizationConfig {
    /** The AWS Organizations id (`o-` + 10 to 32 characters). Required when delegatedAdmin is true. */
    readonly id?: string;
    /** The hub is GuardDuty's delegated administrator: member detectors and findings come through the organization. @default false */
    readonly delegatedAdmin: boolean;
    /** GuardDuty auto-enable for organization members (delegatedAdmin only). @default "ALL" */
    readonly autoEnable: "ALL" | "NEW" | "NONE";
}

/** The `dfir:` keys a stack file may set (the multi-account ones are gathered in `DfirConfig.multiAccount`). */
export type DfirConfigKey = keyof CommonConfig | "vpcId" | "hub" | "members" | "organization" | "responderRoleName" | "copySnapshotsToHub" | "analystRoleArns";

type KeyParser = (raw: unknown, key: string) => unknown;

/** CloudWatch Logs accepts only these retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const fail = (key: string, what: string): never => {
    throw new Error(`config ${CONFIG_NAMESPACE}:${key} ${what}`);
};

const str = (pattern: RegExp, example: string): KeyParser => (raw, key) => {
    if (typeof raw !== "string" || !pattern.test(raw)) fail(key, `must look like ${example}, got ${JSON.stringify(raw)}`);
    return raw;
};

const bool: KeyParser = (raw, key) => {
    if (raw === true || raw === "true") return true;
    if (raw === false || raw === "false") return false;
    return fail(key, `must be true or false, got ${JSON.stringify(raw)}`);
};

const num = (min: number, max: number, integer: boolean): KeyParser => (raw, key) => {
    const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        fail(key, `must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    }
    return n;
};

const list = (item: KeyParser): KeyParser => (raw, key) => {
    let value = raw;
    if (typeof raw === "string") {
        try {
            value = JSON.parse(raw);
        } catch {
            fail(key, `must be a list, got ${JSON.stringify(raw)}`);
        }
    }
    if (!Array.isArray(value) || value.length === 0) return fail(key, `must be a non-empty list, got ${JSON.stringify(raw)}`);
    return value.map((v) => item(v, key));
};

const VPC_ID = /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SG_ID = /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const MEMBER_NAME = /^[\w .@+-]{1,64}$/;

/** Pulumi hands objects and lists over as JSON strings; a YAML-parsed file hands them over parsed. */
const fromJson = (raw: unknown, key: string, what: string): unknown => {
    if (typeof raw !== "string") return raw;
    try {
        return JSON.parse(raw);
    } catch {
        return fail(key, `must be ${what}, got ${JSON.stringify(raw)}`);
    }
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An object with known fields only; `required` fields must be present. */
const record = (raw: unknown, key: string, what: string, known: readonly string[], required: readonly string[] = []): Record<string, unknown> => {
    const value = fromJson(raw, key, what);
    if (!isObject(value)) return fail(key, `must be ${what}, got ${JSON.stringify(raw)}`);
    for (const field of Object.keys(value)) {
        if (!known.includes(field)) fail(`${key}.${field}`, `is not a known field (known: ${known.join(", ")})`);
    }
    for (const field of required) {
        if (value[field] === undefined || value[field] === null) fail(`${key}.${field}`, "is required");
    }
    return value;
};

/** An object whose field names are data (regions, tag names). */
const openRecord = (raw: unknown, key: string, what: string): Record<string, unknown> => {
    const value = fromJson(raw, key, what);
    return isObject(value) ? value : fail(key, `must be ${what}, got ${JSON.stringify(raw)}`);
};

/** Account ids stay strings: an unquoted YAML number loses leading zeros (012345678901 becomes 12345678901). */
const accountId: KeyParser = (raw, key) => {
    if (typeof raw === "number") fail(key, `must be a 12-digit string, got the number ${raw} (quote it: YAML numbers lose leading zeros)`);
    return str(ACCOUNT_ID, "a 12-digit account id, 123456789012")(raw, key);
};

const ROLE_EXAMPLE = "arn:aws:iam::123456789012:role/dfir-deploy";
const roleAccount = (arn: string): string => arn.split(":")[4];

/** A known AWS region; a typo names the region it is close to. */
const region: KeyParser = (raw, key) => {
    if (typeof raw !== "string") return fail(key, `must be an AWS region like us-east-1, got ${JSON.stringify(raw)}`);
    const problem = regionProblem(raw);
    return problem ? fail(key, `${JSON.stringify(raw)} ${problem}`) : raw;
};

const regionList = (raw: unknown, key: string): string[] => {
    const regions = list(region)(raw, key) as string[];
    const dup = regions.find((r, i) => regions.indexOf(r) !== i);
    if (dup) fail(key, `lists ${dup} twice`);
    return regions;
};

const parseHub: KeyParser = (raw, key): HubConfig => {
    const v = record(raw, key, "an object {accountId, regions, homeRegion?, deployRoleArn?}", ["accountId", "regions", "homeRegion", "deployRoleArn"], ["accountId", "regions"]);
    const id = accountId(v.accountId, `${key}.accountId`) as string;
    const regions = regionList(v.regions, `${key}.regions`);
    const homeRegion = v.homeRegion === undefined ? regions[0] : (region(v.homeRegion, `${key}.homeRegion`) as string);
    if (!regions.includes(homeRegion)) fail(`${key}.homeRegion`, `must be one of ${CONFIG_NAMESPACE}:${key}.regions (${regions.join(", ")}), got ${homeRegion}`);
    let deployRoleArn: string | undefined;
    if (v.deployRoleArn !== undefined) {
        deployRoleArn = str(ROLE_ARN, ROLE_EXAMPLE)(v.deployRoleArn, `${key}.deployRoleArn`) as string;
        if (roleAccount(deployRoleArn) !== id) fail(`${key}.deployRoleArn`, `must be a role of the hub account ${id}, got ${deployRoleArn}`);
    }
    return { accountId: id, regions, homeRegion, ...(deployRoleArn ? { deployRoleArn } : {}) };
};

const parseVpcs = (raw: unknown, key: string): readonly string[] | "all" => {
    const bad = () => fail(key, `must be a list of VPC ids or "all", got ${JSON.stringify(raw)}`);
    if (raw === "all") return "all";
    const value = typeof raw === "string" && raw.trim().startsWith("[") ? fromJson(raw, key, 'a list of VPC ids or "all"') : raw;
    if (!Array.isArray(value) || value.length === 0 || !value.every((id) => typeof id === "string" && VPC_ID.test(id))) return bad();
    const dup = value.find((id, i) => value.indexOf(id) !== i);
    if (dup) fail(key, `lists ${dup} twice`);
    return value as string[];
};

/** Members are checked alone here; against the hub (regions, the hub's own account) in parseDfirConfig. */
const parseMembers: KeyParser = (raw, key): MemberConfig[] => {
    const value = fromJson(raw, key, "a list of member accounts");
    if (!Array.isArray(value) || value.length === 0) return fail(key, `must be a non-empty list of member accounts, got ${JSON.stringify(raw)}`);
    const seen = new Map<string, number>();
    return value.map((item, i): MemberConfig => {
        const at = `${key}[${i}]`;
        const v = record(item, at, "an object {accountId, deployRoleArn, regions, name?}", ["accountId", "deployRoleArn", "regions", "name"], ["accountId", "regions"]);
        const id = accountId(v.accountId, `${at}.accountId`) as string;
        if (seen.has(id)) fail(`${at}.accountId`, `${id} is already ${key}[${seen.get(id)}] (one entry per account; list its regions there)`);
        seen.set(id, i);
        let deployRoleArn: string | undefined;
        if (v.deployRoleArn !== undefined) {
            deployRoleArn = str(ROLE_ARN, ROLE_EXAMPLE)(v.deployRoleArn, `${at}.deployRoleArn`) as string;
            if (roleAccount(deployRoleArn) !== id) fail(`${at}.deployRoleArn`, `must be a role of the member's account ${id}, got ${deployRoleArn}`);
        }
        const name = v.name === undefined ? undefined : (str(MEMBER_NAME, "a label of up to 64 letters, digits, spaces or ._@+-, prod-web")(v.name, `${at}.name`) as string);
        const rv = openRecord(v.regions, `${at}.regions`, 'an object {"<region>": {vpcs: [...] | "all"}}');
        if (Object.keys(rv).length === 0) fail(`${at}.regions`, "must name at least one region");
        const regions: Record<string, { vpcs: readonly string[] | "all" }> = {};
        for (const [name, settings] of Object.entries(rv)) {
            region(name, `${at}.regions.${name}`);
            const s = record(settings, `${at}.regions.${name}`, '{vpcs: [...] | "all"}', ["vpcs"], ["vpcs"]);
            regions[name] = { vpcs: parseVpcs(s.vpcs, `${at}.regions.${name}.vpcs`) };
        }
        return { accountId: id, ...(deployRoleArn ? { deployRoleArn } : {}), ...(name ? { name } : {}), regions };
    });
};

const parseOrganization: KeyParser = (raw, key): OrganizationConfig => {
    const v = record(raw, key, "an object {id?, delegatedAdmin?, autoEnable?}", ["id", "delegatedAdmin", "autoEnable"]);
    const id = v.id === undefined ? undefined : (str(ORG_ID, "o-abcdefghij")(v.id, `${key}.id`) as string);
    const delegatedAdmin = v.delegatedAdmin === undefined ? false : (bool(v.delegatedAdmin, `${key}.delegatedAdmin`) as boolean);
    if (delegatedAdmin && !id) fail(`${key}.delegatedAdmin`, `requires ${CONFIG_NAMESPACE}:${key}.id (the organization the hub administers GuardDuty for)`);
    if (v.autoEnable !== undefined && !delegatedAdmin) fail(`${key}.autoEnable`, `applies only when ${CONFIG_NAMESPACE}:${key}.delegatedAdmin is true`);
    const autoEnable = v.autoEnable ?? "ALL";
    if (autoEnable !== "ALL" && autoEnable !== "NEW" && autoEnable !== "NONE") fail(`${key}.autoEnable`, `must be ALL, NEW or NONE, got ${JSON.stringify(v.autoEnable)}`);
    return { ...(id ? { id } : {}), delegatedAdmin, autoEnable: autoEnable as OrganizationConfig["autoEnable"] };
};

const parseTags: KeyParser = (raw, key): Record<string, string> => {
    const v = openRecord(raw, key, "an object of tag names to string values");
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(v)) {
        if (name === MANAGED_BY_TAG) fail(`${key}.${name}`, `is reserved (every resource carries ${MANAGED_BY_TAG}=${MANAGED_BY_VALUE})`);
        if (name.length === 0 || name.length > 128 || /^aws:/i.test(name)) fail(`${key}.${name}`, "must be a tag name of 1 to 128 characters not starting with aws:");
        if (typeof value !== "string" || value.length > 256) fail(`${key}.${name}`, `must be a string of at most 256 characters, got ${JSON.stringify(value)}`);
        out[name] = value as string;
    }
    return out;
};

/** An AMI id: `ami-` and 8 or 17 lower-case hex digits. */
export const AMI_ID = /^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;

/**
 * Why a CIDR cannot be the workstation VPC's range (undefined when it can): IPv4 `a.b.c.d/n` with n from 16 to 28
 * (what a VPC accepts), no host bits set, inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16. Pure.
 */
export function workstationCidrProblem(cidr: string): string | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m) return "must be an IPv4 CIDR like 10.254.0.0/24";
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255)) return "must be an IPv4 CIDR like 10.254.0.0/24";
    if (prefix < 16 || prefix > 28) return "must have a prefix length from /16 to /28 (a VPC's range)";
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((address & mask) >>> 0 !== address) {
        const network = [24, 16, 8, 0].map((s) => ((address & mask) >>> s) & 255).join(".");
        return `has host bits set (the network is ${network}/${prefix})`;
    }
    const inside = (base: number, bits: number) => ((address & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0) === base >>> 0;
    if (!(inside(0x0a000000, 8) || inside(0xac100000, 12) || inside(0xc0a80000, 16))) return "must be a private range (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)";
    return undefined;
}

/** `dfir:workstation` alone; its region is checked against the stack's kind and hub in parseDfirConfig. */
const parseWorkstation: KeyParser = (raw, key): WorkstationConfig => {
    const v = record(raw, key, "an object {amiId, instanceType?, availabilityZone?, cidr?, rootVolumeGiB?, region?}",
        ["amiId", "instanceType", "availabilityZone", "cidr", "rootVolumeGiB", "region"], ["amiId"]);
    const amiId = str(AMI_ID, "ami- and 8 or 17 hex digits, ami-0123456789abcdef0")(v.amiId, `${key}.amiId`) as string;
    const instanceType = v.instanceType === undefined ? WORKSTATION_DEFAULTS.instanceType : (str(INSTANCE_TYPE, "an EC2 instance type, m5.xlarge")(v.instanceType, `${key}.instanceType`) as string);
    const availabilityZone = v.availabilityZone === undefined ? undefined : (str(AVAILABILITY_ZONE, "an Availability Zone name, us-east-1a")(v.availabilityZone, `${key}.availabilityZone`) as string);
    let cidr: string = WORKSTATION_DEFAULTS.cidr;
    if (v.cidr !== undefined) {
        if (typeof v.cidr !== "string") fail(`${key}.cidr`, `must be an IPv4 CIDR like 10.254.0.0/24, got ${JSON.stringify(v.cidr)}`);
        const problem = workstationCidrProblem(v.cidr as string);
        if (problem) fail(`${key}.cidr`, `${problem}, got ${JSON.stringify(v.cidr)}`);
        cidr = v.cidr as string;
    }
    const rootVolumeGiB = v.rootVolumeGiB === undefined ? undefined : (num(8, 16384, true)(v.rootVolumeGiB, `${key}.rootVolumeGiB`) as number);
    const where = v.region === undefined ? undefined : (region(v.region, `${key}.region`) as string);
    return {
        amiId,
        instanceType,
        ...(availabilityZone ? { availabilityZone } : {}),
        cidr,
        ...(rootVolumeGiB !== undefined ? { rootVolumeGiB } : {}),
        ...(where ? { region: where } : {}),
    };
};

/** The tag every resource of the stack carries (`core/plan.ts` merges it into each provider's default tags). */
export const MANAGED_BY_TAG = "dfir:managed-by";
export const MANAGED_BY_VALUE = "aws-dfir";

/**
 * The largest poll caps the configuration allows (a case may wait this long for its snapshots, and for its memory
 * image); the history-quota test and the drill's long-snapshot scenario run at these.
 */
export const CAP_LIMITS = {
    snapshotCapHours: { min: 1, max: 168 },
    memoryCapMinutes: { min: 5, max: 720 },
} as const;

const PARSERS: Record<DfirConfigKey, KeyParser> = {
    vpcId: str(VPC_ID, "vpc-0123456789abcdef0"),
    minSeverity: num(1, 10, false),
    allowSamples: bool,
    evidenceRetentionDays: num(1, 36500, true),
    breakGlassRoleArn: str(ROLE_ARN, "arn:aws:iam::123456789012:role/dfir-break-glass"),
    createEndpoints: bool,
    endpointSecurityGroupId: str(SG_ID, "sg-0123456789abcdef0"),
    endpointSubnetIds: list(str(SUBNET_ID, "subnet-0123456789abcdef0")),
    endpointRouteTableIds: list(str(ROUTE_TABLE_ID, "rtb-0123456789abcdef0")),
    manageDetector: bool,
    ebsMalwareProtection: bool,
    runtimeMonitoring: bool,
    notificationEmail: str(EMAIL, "soc@example.com"),
    untrackConnections: bool,
    approvalTimeoutSeconds: num(60, 7 * 24 * 3600, true),
    approvalDefault: (raw, key) => (raw === "contain" || raw === "skip" ? raw : fail(key, `must be contain or skip, got ${JSON.stringify(raw)}`)),
    snapshotCapHours: num(CAP_LIMITS.snapshotCapHours.min, CAP_LIMITS.snapshotCapHours.max, false),
    memoryCapMinutes: num(CAP_LIMITS.memoryCapMinutes.min, CAP_LIMITS.memoryCapMinutes.max, true),
    avml: (raw, key): AvmlPaths => {
        const v = record(raw, key, `an object of avml builds to local file paths, {${AVML_BUILDS.join(", ")}}`, [...AVML_BUILDS], []);
        const out: Partial<Record<AvmlBuild, string>> = {};
        for (const build of AVML_BUILDS) {
            const path = v[build];
            if (path === undefined) continue;
            if (typeof path !== "string" || path.trim() === "") fail(`${key}.${build}`, `must be the path of the ${AVML_RELEASE_ASSETS[build]} release asset, got ${JSON.stringify(path)}`);
            out[build] = path as string;
        }
        if (Object.keys(out).length === 0) fail(key, `must name at least one build (${AVML_BUILDS.join(", ")})`);
        return out;
    },
    isolatedInstanceScp: bool,
    logRetentionDays: (raw, key) => {
        const n = num(1, 3653, true)(raw, key) as number;
        if (!LOG_RETENTION_DAYS.includes(n)) fail(key, `must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${n}`);
        return n;
    },
    tags: parseTags,
    hub: parseHub,
    members: parseMembers,
    organization: parseOrganization,
    responderRoleName: str(ROLE_NAME, "an IAM role name, dfir-responder"),
    copySnapshotsToHub: bool,
    analystRoleArns: list(str(ROLE_ARN, "arn:aws:iam::123456789012:role/dfir-analyst")),
    workstation: parseWorkstation,
};

/** Keys the stack no longer accepts, with what replaced them (one line each). */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
    avmlPath:
        `is replaced by ${CONFIG_NAMESPACE}:avml.x86_64 and ${CONFIG_NAMESPACE}:avml.aarch64 (avml ${AVML_VERSION}, one build per architecture; docs/deploy.md): ` +
        `pulumi config rm ${CONFIG_NAMESPACE}:avmlPath && pulumi config set --path '${CONFIG_NAMESPACE}:avml.x86_64' ./avml && pulumi config set --path '${CONFIG_NAMESPACE}:avml.aarch64' ./avml-aarch64`,
};

/** Every key the stack accepts, for messages and docs. */
export const CONFIG_KEYS = Object.keys(PARSERS) as DfirConfigKey[];

/**
 * Validate and default the stack's `dfir:` configuration.
 * @param raw keys without the `dfir:` prefix; values as Pulumi gives them (strings) or as YAML parsed them.
 * @throws Error with a one-line message naming the offending key (unknown key, bad value, missing VPC id,
 *   conflicting settings).
 */
export function parseDfirConfig(raw: Readonly<Record<string, unknown>>): DfirConfig {
    for (const key of Object.keys(raw)) {
        const retired = RETIRED_KEYS[key];
        if (retired !== undefined) throw new Error(`config ${CONFIG_NAMESPACE}:${key} ${retired}`);
        if (!(key in PARSERS)) {
            throw new Error(`unknown config key ${CONFIG_NAMESPACE}:${key} (known keys: ${CONFIG_KEYS.join(", ")})`);
        }
    }
    const given = (key: DfirConfigKey) => raw[key] !== undefined && raw[key] !== null && raw[key] !== "";
    const multi = given("members") || given("hub");
    if (given("vpcId") && given("members")) {
        throw new Error(`config ${CONFIG_NAMESPACE}:vpcId and ${CONFIG_NAMESPACE}:members are mutually exclusive (a single-account stack names its one VPC; a multi-account stack names VPCs per member and region)`);
    }
    if (!multi && !given("vpcId")) {
        throw new Error(`missing required config ${CONFIG_NAMESPACE}:vpcId: set the VPC to protect with \`pulumi config set ${CONFIG_NAMESPACE}:vpcId vpc-...\` (or ${CONFIG_NAMESPACE}:hub and ${CONFIG_NAMESPACE}:members for a multi-account stack)`);
    }
    const v: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        if (value !== undefined && value !== null) v[key] = PARSERS[key as DfirConfigKey](value, key);
    }
    const multiConfig = multi ? multiAccount(v) : undefined;
    const workstation = v.workstation === undefined ? undefined : placeWorkstation(v.workstation as WorkstationConfig, multiConfig);
    const common: CommonConfig = {
        minSeverity: (v.minSeverity as number | undefined) ?? 7,
        allowSamples: (v.allowSamples as boolean | undefined) ?? false,
        evidenceRetentionDays: (v.evidenceRetentionDays as number | undefined) ?? 365,
        breakGlassRoleArn: v.breakGlassRoleArn as string | undefined,
        createEndpoints: (v.createEndpoints as boolean | undefined) ?? true,
        endpointSecurityGroupId: v.endpointSecurityGroupId as string | undefined,
        endpointSubnetIds: v.endpointSubnetIds as string[] | undefined,
        endpointRouteTableIds: v.endpointRouteTableIds as string[] | undefined,
        manageDetector: (v.manageDetector as boolean | undefined) ?? true,
        ebsMalwareProtection: (v.ebsMalwareProtection as boolean | undefined) ?? true,
        runtimeMonitoring: (v.runtimeMonitoring as boolean | undefined) ?? false,
        notificationEmail: v.notificationEmail as string | undefined,
        logRetentionDays: (v.logRetentionDays as number | undefined) ?? 365,
        untrackConnections: (v.untrackConnections as boolean | undefined) ?? true,
        approvalTimeoutSeconds: (v.approvalTimeoutSeconds as number | undefined) ?? 3600,
        approvalDefault: (v.approvalDefault as "contain" | "skip" | undefined) ?? "contain",
        snapshotCapHours: (v.snapshotCapHours as number | undefined) ?? 24,
        memoryCapMinutes: (v.memoryCapMinutes as number | undefined) ?? 180,
        ...(v.avml !== undefined ? { avml: v.avml as AvmlPaths } : {}),
        isolatedInstanceScp: (v.isolatedInstanceScp as boolean | undefined) ?? false,
        // Absent, not undefined, when unset: a single-account config keeps exactly the keys it always had.
        ...(v.tags !== undefined ? { tags: v.tags as Record<string, string> } : {}),
        ...(workstation ? { workstation } : {}),
    };
    const config: DfirConfig = multiConfig ? { ...common, multiAccount: multiConfig } : { vpcId: v.vpcId as string, ...common };
    if (multi) {
        // Keys that describe the one VPC of a single-account stack have no meaning per member and region yet.
        for (const key of ["endpointSecurityGroupId", "endpointSubnetIds", "endpointRouteTableIds"] as const) {
            if (given(key)) throw new Error(`config ${CONFIG_NAMESPACE}:${key} names resources of the one VPC of ${CONFIG_NAMESPACE}:vpcId and conflicts with ${CONFIG_NAMESPACE}:members`);
        }
        if (!config.createEndpoints) {
            throw new Error(`config ${CONFIG_NAMESPACE}:createEndpoints=false needs one VPC's endpoint group (${CONFIG_NAMESPACE}:endpointSecurityGroupId) and is not supported with ${CONFIG_NAMESPACE}:members`);
        }
        if (config.isolatedInstanceScp) {
            throw new Error(`config ${CONFIG_NAMESPACE}:isolatedInstanceScp is not supported with ${CONFIG_NAMESPACE}:members: an SCP belongs to the organization's management account (deploy MemberAccess's deny policy per account instead; docs/limitations.md)`);
        }
    } else {
        for (const key of ["organization", "responderRoleName", "copySnapshotsToHub", "analystRoleArns"] as const) {
            if (given(key)) throw new Error(`config ${CONFIG_NAMESPACE}:${key} applies only to a multi-account stack (${CONFIG_NAMESPACE}:hub and ${CONFIG_NAMESPACE}:members)`);
        }
    }
    if (!config.createEndpoints && !config.endpointSecurityGroupId) {
        throw new Error(`config ${CONFIG_NAMESPACE}:endpointSecurityGroupId is required when ${CONFIG_NAMESPACE}:createEndpoints is false (the group of the VPC's existing SSM endpoints)`);
    }
    if (config.createEndpoints && config.endpointSecurityGroupId) {
        throw new Error(`config ${CONFIG_NAMESPACE}:endpointSecurityGroupId conflicts with ${CONFIG_NAMESPACE}:createEndpoints=true (set createEndpoints to false to use existing endpoints)`);
    }
    if (!config.manageDetector && (raw.ebsMalwareProtection !== undefined || raw.runtimeMonitoring !== undefined)) {
        throw new Error(`config ${CONFIG_NAMESPACE}:ebsMalwareProtection and ${CONFIG_NAMESPACE}:runtimeMonitoring apply only when ${CONFIG_NAMESPACE}:manageDetector is true`);
    }
    validateTriageOptions({ minSeverity: config.minSeverity, allowSamples: config.allowSamples });
    return config;
}

/**
 * The workstation against the kind of stack: a single-account stack's is in its own region (no `region` field);
 * a multi-account stack's in a hub region (default the home region), its AZ in that region.
 */
function placeWorkstation(workstation: WorkstationConfig, multi: MultiAccountConfig | undefined): WorkstationConfig {
    const key = `${CONFIG_NAMESPACE}:workstation`;
    if (!multi) {
        if (workstation.region !== undefined) {
            throw new Error(`config ${key}.region applies only to a multi-account stack (a single-account stack's workstation is in the stack's region, aws:region)`);
        }
        return workstation;
    }
    const { regions, homeRegion } = multi.hub;
    const where = workstation.region ?? homeRegion;
    if (!regions.includes(where)) {
        throw new Error(`config ${key}.region must be one of ${CONFIG_NAMESPACE}:hub.regions (${regions.join(", ")}), got ${where}: the workstation reads the evidence store of its own region`);
    }
    checkWorkstationZone(workstation, where);
    return { ...workstation, region: where };
}

/**
 * The workstation's `availabilityZone`, when given, is a zone of its region (`us-east-1` -> `us-east-1a`..). A
 * single-account stack's region (aws:region) is known only when the plan is made, so the plan calls this too.
 * @throws Error (one line) naming the key, the zone and the region.
 */
export function checkWorkstationZone(workstation: WorkstationConfig, region: string): void {
    if (workstation.availabilityZone !== undefined && !new RegExp(`^${region}[a-z]$`).test(workstation.availabilityZone)) {
        throw new Error(`config ${CONFIG_NAMESPACE}:workstation.availabilityZone ${workstation.availabilityZone} is not in the workstation's region ${region}`);
    }
}

/** hub, members and organization, each parsed alone, checked against each other. */
function multiAccount(v: Record<string, unknown>): MultiAccountConfig {
    const hub = v.hub as HubConfig | undefined;
    const members = v.members as MemberConfig[] | undefined;
    if (!hub) throw new Error(`config ${CONFIG_NAMESPACE}:members requires ${CONFIG_NAMESPACE}:hub (the account and regions that hold the evidence stores and workflows)`);
    if (!members) throw new Error(`config ${CONFIG_NAMESPACE}:hub requires ${CONFIG_NAMESPACE}:members (at least one account to protect; list the hub itself for its own workloads)`);
    members.forEach((member, i) => {
        const at = `members[${i}]`;
        for (const region of Object.keys(member.regions)) {
            // Memory lands in the instance's region: one evidence store, so one hub region, per member region.
            if (!hub.regions.includes(region)) fail(`${at}.regions.${region}`, `is not one of ${CONFIG_NAMESPACE}:hub.regions (${hub.regions.join(", ")}): evidence stays in the instance's region`);
        }
        if (member.accountId === hub.accountId) {
            if (member.deployRoleArn !== undefined && member.deployRoleArn !== hub.deployRoleArn) {
                fail(`${at}.deployRoleArn`, `must equal ${CONFIG_NAMESPACE}:hub.deployRoleArn (${hub.deployRoleArn ?? "unset: ambient credentials"}) or be omitted: ${member.accountId} is the hub account (one provider per account and region)`);
            }
        } else if (member.deployRoleArn === undefined) {
            fail(`${at}.deployRoleArn`, `is required: the role Pulumi assumes in ${member.accountId}, like arn:aws:iam::${member.accountId}:role/dfir-deploy`);
        }
    });
    return {
        hub,
        members,
        ...(v.organization !== undefined ? { organization: v.organization as OrganizationConfig } : {}),
        responderRoleName: (v.responderRoleName as string | undefined) ?? "dfir-responder",
        copySnapshotsToHub: (v.copySnapshotsToHub as boolean | undefined) ?? false,
        analystRoleArns: [...new Set((v.analystRoleArns as string[] | undefined) ?? [])],
    };
}

/**
 * Select the `dfir:` keys of a Pulumi config map (`pulumi.runtime.allConfig()`, keys `namespace:key`) and strip
 * the namespace; keys of other namespaces (aws:region, pulumi:...) are left to their owners.
 */
export function dfirKeys(all: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const prefix = `${CONFIG_NAMESPACE}:`;
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
    }
    return out;
}
