/**
 * Stack configuration: the one place that knows which `dfir:*` keys exist, their types and defaults, each declared
 * once below as a zod schema (the exported types derive from them).
 *
 * `index.ts` hands it every `dfir:` key Pulumi has for the stack (values arrive as strings, objects and lists as
 * JSON text); tests hand it the parsed `Pulumi.<stack>.yaml`. Anything unknown or malformed stops `pulumi preview`
 * with a one-line message that names the key, before a single resource is registered.
 */
import * as z from "zod";
import { AVML_BUILDS, AVML_RELEASE_ASSETS, AVML_VERSION, type AvmlBuild } from "./avml";
import { ACCOUNT_ID, AMI_ID, ROLE_ARN, ROLE_NAME, ROUTE_TABLE_ID, SECURITY_GROUP_ID, SUBNET_ID, VPC_ID } from "./ids";
import { regionProblem } from "./regions";
import { MAX_LOCK_DAYS } from "./snapshotLock";
import { isSentence, matchingString, pathText, problemLine, sentence, valueAt } from "./schema";
import { validateTriageOptions } from "./triage";
import { SEVERITY_LABELS } from "./triggers";

export const CONFIG_NAMESPACE = "dfir";
/** A key as messages name it: `dfir:hub.regions`. */
const at = (key: string) => `${CONFIG_NAMESPACE}:${key}`;

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

export const WORKSTATION_DEFAULTS = { instanceType: "m5.xlarge", cidr: "10.254.0.0/24" } as const;

/** CloudWatch Logs accepts only these retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const MEMBER_NAME = /^[\w .@+-]{1,64}$/;
/** A Pulumi stack reference: `<stack>`, `<project>/<stack>` or `<organization>/<project>/<stack>`. */
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}(?:\/[A-Za-z0-9_.-]{1,100}){0,2}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;

// ---------------------------------------------------------------------------------------------------------------
// Leaves: each says what a value must be; `problemOf` adds the key and the value as the stack file gave it.

const like = (pattern: RegExp, example: string) => matchingString(pattern, `must look like ${example}`);
const roleArn = (name: string) => like(ROLE_ARN, `arn:aws:iam::123456789012:role/${name}`);
const roleAccount = (arn: string): string => arn.split(":")[4];
const twice = <T>(values: readonly T[]): T | undefined => values.find((v, i) => values.indexOf(v) !== i);

/** Ends a parse with a problem that says it all (a transform's values are not checked further). */
function fail(ctx: z.RefinementCtx, path: PropertyKey[], message: string): never {
    sentence(ctx, path, message);
    return z.NEVER;
}

/** true or false; Pulumi hands "true" or "false". */
const flag = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean({ error: "must be true or false" }));

/** A number from `min` to `max`; Pulumi hands "8.5". */
function num(min: number, max: number, whole = false) {
    const error = `must be ${whole ? "a whole number" : "a number"} from ${min} to ${max}`;
    const n = z.number({ error }).min(min, { error }).max(max, { error });
    return z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), whole ? n.int({ error }) : n);
}

/** Pulumi hands objects and lists over as JSON text (`when` says which strings are); a YAML-parsed file, parsed. */
function json<T extends z.ZodType>(schema: T, what: string, when = (_text: string) => true) {
    return z.preprocess((v, ctx) => {
        if (typeof v !== "string" || !when(v)) return v;
        try {
            return JSON.parse(v) as unknown;
        } catch {
            ctx.addIssue({ code: "custom", message: `must be ${what}` });
            return z.NEVER;
        }
    }, schema);
}

/** An object (or its JSON text) of exactly these fields; an unknown field is named, with the known ones. */
function object<S extends z.core.$ZodLooseShape>(what: string, shape: S) {
    const known = Object.keys(shape).join(", ");
    const error = (issue: z.core.$ZodRawIssue) => (issue.code === "unrecognized_keys" ? `.${issue.keys[0]} is not a known field (known: ${known})` : `must be ${what}`);
    return json(z.strictObject(shape, { error }), what);
}

/** A non-empty list (or its JSON text) of values `item` accepts (`once`: none twice); a bad value is named by the list's key. */
function list<T extends z.ZodType>(item: T, once = false) {
    const error = "must be a non-empty list";
    return json(z.array(z.unknown(), { error }).min(1, { error }), "a list").transform((values, ctx): z.output<T>[] => {
        const out: z.output<T>[] = [];
        for (const value of values) {
            const parsed = item.safeParse(value);
            if (!parsed.success) return fail(ctx, [], problemLine("", parsed.error.issues[0], JSON.stringify(value)));
            out.push(parsed.data);
        }
        const dup = once ? twice(out) : undefined;
        return dup === undefined ? out : fail(ctx, [], `lists ${dup} twice`);
    });
}

/** Account ids stay strings: an unquoted YAML number loses leading zeros (012345678901 becomes 12345678901). */
const AccountId = z.preprocess((v, ctx) => {
    if (typeof v === "number") sentence(ctx, [], `must be a 12-digit string, got the number ${v} (quote it: YAML numbers lose leading zeros)`);
    return v;
}, like(ACCOUNT_ID, "a 12-digit account id, 123456789012"));

/** A known AWS region; a typo names the region it is close to. */
const Region = z.string({ error: "must be an AWS region like us-east-1" }).superRefine((region, ctx) => {
    const problem = regionProblem(region);
    if (problem) sentence(ctx, [], `${JSON.stringify(region)} ${problem}`);
});

// ---------------------------------------------------------------------------------------------------------------
// Objects.

/** Local paths of the pinned avml builds (core/avml.ts AVML_VERSION), by build (`uname -m` name). At least one. */
const avmlPath = (build: AvmlBuild) => {
    const error = `must be the path of the ${AVML_RELEASE_ASSETS[build]} release asset`;
    return z.string({ error }).refine((path) => path.trim() !== "", { error }).optional();
};
const Avml = object(
    `an object of avml builds to local file paths, {${AVML_BUILDS.join(", ")}}`,
    Object.fromEntries(AVML_BUILDS.map((build) => [build, avmlPath(build)])) as Record<AvmlBuild, ReturnType<typeof avmlPath>>,
).transform((avml, ctx) => (Object.keys(avml).length > 0 ? avml : fail(ctx, [], `must name at least one build (${AVML_BUILDS.join(", ")})`)));
export type AvmlPaths = z.output<typeof Avml>;

const TAGS = "an object of tag names to string values";
const TagName = z.string().superRefine((name, ctx) => {
    if (name === MANAGED_BY_TAG) sentence(ctx, [], `is reserved (every resource carries ${MANAGED_BY_TAG}=${MANAGED_BY_VALUE})`);
    else if (name.length === 0 || name.length > 128 || /^aws:/i.test(name)) sentence(ctx, [], "must be a tag name of 1 to 128 characters not starting with aws:");
});
const TAG_VALUE = "must be a string of at most 256 characters";
const Tags = json(z.record(TagName, z.string({ error: TAG_VALUE }).max(256, { error: TAG_VALUE }), { error: `must be ${TAGS}` }), TAGS);

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

/**
 * The forensic workstation: an isolated analysis VPC (no internet route, SSM through endpoints) and one instance
 * reading the evidence store of its region. Volumes are made from snapshots in the snapshots' own region, so the
 * workstation serves the cases of its region only (docs/analyst-guide.md: "dfir attach"). Its region is checked
 * against the kind of stack and the hub when the keys are put together.
 */
const Workstation = object("an object {amiId, instanceType?, availabilityZone?, cidr?, rootVolumeGiB?, region?}", {
    /** The image (e.g. a SIFT build) in the workstation's region: `ami-` + 8 or 17 hex digits. */
    amiId: like(AMI_ID, "ami- and 8 or 17 hex digits, ami-0123456789abcdef0"),
    instanceType: like(INSTANCE_TYPE, "an EC2 instance type, m5.xlarge").default(WORKSTATION_DEFAULTS.instanceType),
    /** An Availability Zone of the workstation's region. @default the region's first available AZ */
    availabilityZone: like(AVAILABILITY_ZONE, "an Availability Zone name, us-east-1a").optional(),
    /** The analysis VPC's range (one private subnet takes all of it). */
    cidr: z
        .string({ error: "must be an IPv4 CIDR like 10.254.0.0/24" })
        .superRefine((cidr, ctx) => {
            const problem = workstationCidrProblem(cidr);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        })
        .default(WORKSTATION_DEFAULTS.cidr),
    /** Size of the root volume in GiB (memory images are downloaded there). @default the AMI's */
    rootVolumeGiB: num(8, 16384, true).optional(),
    /** Multi-account only: the hub region it is deployed in (one of `hub.regions`). @default hub.homeRegion */
    region: Region.optional(),
});
export type WorkstationConfig = z.output<typeof Workstation>;

/** Why the workstation's `availabilityZone`, when given, is not a zone of its region (`us-east-1` -> `us-east-1a`..). */
const zoneProblem = ({ availabilityZone }: WorkstationConfig, region: string): string | undefined =>
    availabilityZone === undefined || new RegExp(`^${region}[a-z]$`).test(availabilityZone) ? undefined : `${availabilityZone} is not in the workstation's region ${region}`;

/**
 * The workstation's `availabilityZone`, when given, is a zone of its region. A single-account stack's region
 * (aws:region) is known only when the plan is made, so the plan calls this too.
 * @throws Error (one line) naming the key, the zone and the region.
 */
export function checkWorkstationZone(workstation: WorkstationConfig, region: string): void {
    const problem = zoneProblem(workstation, region);
    if (problem) throw new Error(`config ${at("workstation.availabilityZone")} ${problem}`);
}

const Hub = object("an object {accountId, regions, homeRegion?, deployRoleArn?}", {
    /** The forensics/security account: evidence stores, case table, workflows. */
    accountId: AccountId,
    /** Where evidence stores and workflows live, one of each per region; every member region is one of these. */
    regions: list(Region, true),
    /** Account-wide resources (IAM) and organization-wide settings are deployed from here. @default regions[0] */
    homeRegion: Region.optional(),
    /** Role Pulumi assumes in the hub. @default none: the ambient credentials, which must be the hub account's */
    deployRoleArn: roleArn("dfir-deploy").optional(),
}).transform((hub, ctx) => {
    const homeRegion = hub.homeRegion ?? hub.regions[0];
    if (!hub.regions.includes(homeRegion)) return fail(ctx, ["homeRegion"], `must be one of ${at("hub.regions")} (${hub.regions.join(", ")}), got ${homeRegion}`);
    if (hub.deployRoleArn !== undefined && roleAccount(hub.deployRoleArn) !== hub.accountId) {
        return fail(ctx, ["deployRoleArn"], `must be a role of the hub account ${hub.accountId}, got ${hub.deployRoleArn}`);
    }
    return { ...hub, homeRegion };
});
export type HubConfig = z.output<typeof Hub>;

const VPCS = 'a list of VPC ids or "all"';
const isVpcs = (v: unknown) => v === "all" || (Array.isArray(v) && v.length > 0 && v.every((id) => typeof id === "string" && VPC_ID.test(id)));
/** The VPCs to prepare for isolation, or "all" (discovered at deploy time); none twice. */
const Vpcs = json(z.custom<string[] | "all">(isVpcs, { error: `must be ${VPCS}` }), VPCS, (text) => text.trim().startsWith("[")).transform((vpcs, ctx) => {
    const dup = vpcs === "all" ? undefined : twice(vpcs);
    return dup === undefined ? vpcs : fail(ctx, [], `lists ${dup} twice`);
});

/** A member account; checked against the hub (its regions, the hub's own account) when the keys are put together. */
const Member = object("an object {accountId, deployRoleArn, regions, name?}", {
    accountId: AccountId,
    /**
     * Role Pulumi assumes in the member (`arn:aws:iam::<accountId>:role/...`). Required, except for the hub's own
     * account listed as a member, where it may be omitted and otherwise must equal `hub.deployRoleArn` (one
     * provider per account and region).
     */
    deployRoleArn: roleArn("dfir-deploy").optional(),
    /** A label for people (notifications, outputs); never part of a resource name. */
    name: like(MEMBER_NAME, "a label of up to 64 letters, digits, spaces or ._@+-, prod-web").optional(),
    /** Per region (each one of hub.regions): the VPCs to prepare for isolation. */
    regions: json(
        z.record(Region, object('{vpcs: [...] | "all"}', { vpcs: Vpcs }), { error: 'must be an object {"<region>": {vpcs: [...] | "all"}}' }),
        'an object {"<region>": {vpcs: [...] | "all"}}',
    ).transform((regions, ctx) => (Object.keys(regions).length > 0 ? regions : fail(ctx, [], "must name at least one region"))),
}).transform((member, ctx) => {
    if (member.deployRoleArn === undefined || roleAccount(member.deployRoleArn) === member.accountId) return member;
    return fail(ctx, ["deployRoleArn"], `must be a role of the member's account ${member.accountId}, got ${member.deployRoleArn}`);
});
export type MemberConfig = z.output<typeof Member>;

/** A stack's shard: 1 to 10 lower-case letters and digits, starting with a letter; "response" is taken (`dfir-response-...`). */
const Shard = like(/^[a-z][a-z0-9]{0,9}$/, "1 to 10 lower-case letters or digits starting with a letter, org2").refine((v) => v !== "response", {
    error: 'must not be "response" (the unsharded stack\'s names start dfir-response-)',
});

const MEMBERS = "a non-empty list of member accounts";
/** In the order written; the plan sorts (provider names never depend on this order). One entry per account. */
const Members = json(z.array(Member, { error: `must be ${MEMBERS}` }).min(1, { error: `must be ${MEMBERS}` }), "a list of member accounts").transform((members, ctx) => {
    const ids = members.map((m) => m.accountId);
    const i = ids.findIndex((id, k) => ids.indexOf(id) !== k);
    return i < 0 ? members : fail(ctx, [i, "accountId"], `${ids[i]} is already members[${ids.indexOf(ids[i])}] (one entry per account; list its regions there)`);
});

const Organization = object("an object {id?, delegatedAdmin?, autoEnable?, configure?}", {
    /** The AWS Organizations id (`o-` + 10 to 32 characters). Required when delegatedAdmin is true. */
    id: like(ORG_ID, "o-abcdefghij").optional(),
    /** The hub is GuardDuty's delegated administrator: member detectors and findings come through the organization. */
    delegatedAdmin: flag.default(false),
    /** GuardDuty auto-enable for organization members (delegatedAdmin only). @default "ALL" */
    autoEnable: z.enum(["ALL", "NEW", "NONE"], { error: "must be ALL, NEW or NONE" }).optional(),
    /**
     * delegatedAdmin only: this stack writes GuardDuty's organization configuration (and the administrator's
     * detector) in its hub regions. False in all but one of the stacks that share a hub region: a region has one
     * organization configuration. @default true
     */
    configure: flag.optional(),
}).transform(({ autoEnable, configure, ...organization }, ctx) => {
    if (organization.delegatedAdmin && !organization.id) {
        return fail(ctx, ["delegatedAdmin"], `requires ${at("organization.id")} (the organization the hub administers GuardDuty for)`);
    }
    if (autoEnable !== undefined && !organization.delegatedAdmin) return fail(ctx, ["autoEnable"], `applies only when ${at("organization.delegatedAdmin")} is true`);
    if (configure !== undefined && !organization.delegatedAdmin) return fail(ctx, ["configure"], `applies only when ${at("organization.delegatedAdmin")} is true`);
    return { ...organization, autoEnable: autoEnable ?? "ALL", configure: configure ?? true };
});
export type OrganizationConfig = z.output<typeof Organization>;

// ---------------------------------------------------------------------------------------------------------------
// The keys.

/** Settings of every stack. */
const COMMON = {
    /** Lowest GuardDuty severity that triggers a response. */
    minSeverity: num(1, 10).default(7),
    /** Respond to GuardDuty sample findings (CreateSampleFindings). */
    allowSamples: flag.default(false),
    /** GuardDuty InstanceCredentialExfiltration.* findings respond on the instance (same minSeverity). */
    credentialExfiltration: flag.default(true),
    /** Security Hub (ASFF) findings on EC2 instances, any product (EDR partners) or the listed ones. @default enabled, HIGH */
    securityHub: object("an object with enabled, minLabel, products, includeGuardDuty", {
        enabled: flag.default(true),
        minLabel: z.enum(SEVERITY_LABELS, { error: `must be one of ${SEVERITY_LABELS.join(", ")}` }).default("HIGH"),
        products: list(z.string().min(1), true).optional(),
        includeGuardDuty: flag.default(false),
    }).optional(),
    /** Setting the tag dfir:respond=contain|evidence on an instance starts the response. */
    tagTrigger: flag.default(true),
    /** Default Object Lock (COMPLIANCE) retention of evidence, in days. */
    evidenceRetentionDays: num(1, MAX_LOCK_DAYS, true).default(365),
    /** The only principal allowed to delete object versions or change the lock configuration. @default none */
    breakGlassRoleArn: roleArn("dfir-break-glass").optional(),
    /** Create the S3 gateway and SSM interface endpoints the isolation group needs. */
    createEndpoints: flag.default(true),
    /** Security group of existing SSM interface endpoints (required when createEndpoints is false). */
    endpointSecurityGroupId: like(SECURITY_GROUP_ID, "sg-0123456789abcdef0").optional(),
    /** Subnets for new interface endpoints, at most one per AZ. @default one discovered subnet per AZ */
    endpointSubnetIds: list(like(SUBNET_ID, "subnet-0123456789abcdef0")).optional(),
    /** Route tables for a new S3 gateway endpoint. @default every route table of the VPC */
    endpointRouteTableIds: list(like(ROUTE_TABLE_ID, "rtb-0123456789abcdef0")).optional(),
    /** Create and manage the region's GuardDuty detector (false when one exists already). */
    manageDetector: flag.default(true),
    /** GuardDuty Malware Protection for EC2 (EBS scans) on the managed detector. */
    ebsMalwareProtection: flag.default(true),
    /** GuardDuty Runtime Monitoring (with agent management for EC2) on the managed detector. */
    runtimeMonitoring: flag.default(false),
    /** E-mail address subscribed to the notification topic. @default none */
    notificationEmail: like(EMAIL, "soc@example.com").optional(),
    /** Apply an all-open "untrack" group before the isolation group, cutting existing connections. */
    untrackConnections: flag.default(true),
    /** How long an approval request (instance tagged dfir:approval=required) waits, in seconds. */
    approvalTimeoutSeconds: num(60, 7 * 24 * 3600, true).default(3600),
    /** What an unanswered approval request does: contain, or evidence only. */
    approvalDefault: z.enum(["contain", "skip"], { error: "must be contain or skip" }).default("contain"),
    /** Give up waiting for snapshots after this many hours. */
    snapshotCapHours: num(CAP_LIMITS.snapshotCapHours.min, CAP_LIMITS.snapshotCapHours.max).default(24),
    /** Give up waiting for the memory image after this many minutes. */
    memoryCapMinutes: num(CAP_LIMITS.memoryCapMinutes.min, CAP_LIMITS.memoryCapMinutes.max, true).default(180),
    /**
     * The avml builds to stage in the evidence bucket's tools/ prefix: `x86_64` (release asset `avml`) and `aarch64`
     * (`avml-aarch64`, for Graviton), either or both. Each instance is sent the build of its own architecture.
     * @default none: memory is reported missing
     */
    avml: Avml.optional(),
    /** Also create the deny-modify-isolated-instances SCP (organization management account only). */
    isolatedInstanceScp: flag.default(false),
    /** Retention of the workflow's and functions' CloudWatch log groups, in days. */
    logRetentionDays: num(1, 3653, true)
        .transform((days, ctx) => (LOG_RETENTION_DAYS.includes(days) ? days : fail(ctx, [], `must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${days}`)))
        .default(365),
    /** Default tags of every resource, besides `dfir:managed-by=aws-dfir` (reserved). @default none (key absent) */
    tags: Tags.optional(),
    /** The forensic workstation (components/forensicWorkstation.ts). @default none (key absent): no workstation */
    workstation: Workstation.optional(),
};
const Common = z.object(COMMON);
export type CommonConfig = z.output<typeof Common>;

/** A multi-account, multi-region stack: one forensics hub account, the member accounts it protects. */
const MULTI = {
    hub: Hub,
    members: Members,
    organization: Organization.optional(),
    /** The role the hub's functions assume in each member account (created there by the stack). */
    responderRoleName: like(ROLE_NAME, "an IAM role name, dfir-responder").default("dfir-responder"),
    /**
     * Copy a member instance's evidence snapshots into the hub, re-encrypted with the hub region's evidence key
     * (a share key per member region is created for the hand-over).
     */
    copySnapshotsToHub: flag.default(false),
    /**
     * The roles the analysts run `dfir` as (exact role ARNs, usually the hub's): every member's responder role
     * trusts them too, with the same session name as the functions, so `dfir plan`, `verify` and `release` reach a
     * member account's instance. @default none: the responder trusts the hub's functions only
     */
    analystRoleArns: list(roleArn("dfir-analyst"))
        .transform((arns) => [...new Set(arns)])
        .default(() => []),
    /**
     * This stack's name among the stacks that share its hub account (docs/many-accounts.md: "Several stacks"): it
     * goes into the hub's resource names (`dfir-<shard>-response-<region>`, the access trail, the roles the signing
     * key and the member responder roles trust), so two stacks neither collide nor trust each other's functions.
     * @default none: the names of a stack that has the hub account to itself
     */
    shard: Shard.optional(),
    /**
     * Create `MemberAccess` (the responder, capture and analyst roles, the deny policy) in this stack's member
     * accounts. False when another stack sharing the organization creates it for the same accounts (IAM is global:
     * one stack per account may own those names); that stack names this one in `trustStacks`.
     */
    memberAccess: flag.default(true),
    /**
     * The other stacks that act in this stack's member accounts (`<stack>`, `<project>/<stack>` or
     * `<organization>/<project>/<stack>`, as `pulumi stack ls` names them; they are read by StackReference, so deploy
     * them first): the roles this stack creates there also trust their response functions and admit their evidence
     * buckets (their output `memberAccessGrants`). Only with `memberAccess` true. @default none
     */
    trustStacks: list(like(STACK_NAME, "a stack name, acme/aws-dfir/eu or eu"), true).optional(),
};
const MultiAccount = z.object(MULTI);
/** `trustStacks` defaults to [] when the keys are put together. */
export type MultiAccountConfig = Omit<z.output<typeof MultiAccount>, "trustStacks"> & { trustStacks: string[] };

/** Every key a stack file may set: one VPC (`vpcId`), or a hub and its members. */
const { workstation, ...SETTINGS } = COMMON;
const Keys = z.object({
    /** Single-account: the VPC whose instances can be isolated. */
    vpcId: like(VPC_ID, "vpc-0123456789abcdef0").optional(),
    ...SETTINGS,
    ...MULTI,
    hub: Hub.optional(),
    members: Members.optional(),
    workstation,
});

/** The `dfir:` keys a stack file may set (the multi-account ones are gathered in `DfirConfig.multiAccount`). */
export type DfirConfigKey = keyof typeof Keys.shape;
/** Every key the stack accepts, for messages and docs. */
export const CONFIG_KEYS = Object.keys(Keys.shape) as DfirConfigKey[];

/**
 * The validated, defaulted configuration of a stack: single-account (`vpcId`: one VPC, the stack's own account
 * and `aws:region`) or multi-account (`hub` + `members`, gathered in `multiAccount`; see `core/plan.ts` for the
 * (account, region) targets they make). The two are told apart by `multiAccount`, so code that handles one kind
 * cannot be handed the other unnoticed.
 */
export type DfirConfig = SingleAccountConfig | MultiAccountStackConfig;

/** One account, one region, one VPC. */
export interface SingleAccountConfig extends CommonConfig {
    readonly vpcId: string;
    readonly multiAccount?: undefined;
}

/** A hub and its member accounts; VPCs come per member and region. */
export interface MultiAccountStackConfig extends CommonConfig {
    readonly vpcId?: undefined;
    readonly multiAccount: MultiAccountConfig;
}

/** Keys the stack no longer accepts, with what replaced them (one line each). */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
    avmlPath:
        `is replaced by ${at("avml.x86_64")} and ${at("avml.aarch64")} (avml ${AVML_VERSION}, one build per architecture; docs/deploy.md): ` +
        `pulumi config rm ${at("avmlPath")} && pulumi config set --path '${at("avml.x86_64")}' ./avml && pulumi config set --path '${at("avml.aarch64")}' ./avml-aarch64`,
};

/**
 * Which keys are set, before any value is read: no retired or unknown key, and one VPC or members (not both).
 * Returns the keys set (a null value is unset).
 */
function keysSet(raw: Record<string, unknown>, ctx: z.RefinementCtx): Record<string, unknown> {
    for (const key of Object.keys(raw)) {
        if (key in RETIRED_KEYS) return fail(ctx, [key], RETIRED_KEYS[key]);
        if (!(key in Keys.shape)) return fail(ctx, [], `unknown config key ${at(key)} (known keys: ${CONFIG_KEYS.join(", ")})`);
    }
    const given = givenIn(raw);
    if (given("vpcId") && given("members")) {
        return fail(ctx, ["vpcId"], `and ${at("members")} are mutually exclusive (a single-account stack names its one VPC; a multi-account stack names VPCs per member and region)`);
    }
    if (!given("members") && !given("hub") && !given("vpcId")) {
        return fail(ctx, [], `missing required config ${at("vpcId")}: set the VPC to protect with \`pulumi config set ${at("vpcId")} vpc-...\` (or ${at("hub")} and ${at("members")} for a multi-account stack)`);
    }
    return Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== null));
}

const givenIn = (raw: Readonly<Record<string, unknown>>) => (key: DfirConfigKey) => raw[key] !== undefined && raw[key] !== null && raw[key] !== "";

/**
 * The keys, each valid alone, put together: the hub and its members, the workstation's place, the keys of the other
 * kind of stack, the endpoints, the detector's features. `raw` tells a key set from a default.
 */
function assemble(keys: z.output<typeof Keys>, raw: Readonly<Record<string, unknown>>, ctx: z.RefinementCtx): DfirConfig {
    const { vpcId, hub, members, organization, responderRoleName, copySnapshotsToHub, analystRoleArns, shard, memberAccess, trustStacks, ...common } = keys;
    const given = givenIn(raw);
    // The optional keys a configuration has always listed, unset (avml, tags and workstation are absent unless set).
    const config = { breakGlassRoleArn: undefined, endpointSecurityGroupId: undefined, endpointSubnetIds: undefined, endpointRouteTableIds: undefined, notificationEmail: undefined, ...common };
    if (members && !hub) return fail(ctx, ["members"], `requires ${at("hub")} (the account and regions that hold the evidence stores and workflows)`);
    if (hub && !members) return fail(ctx, ["hub"], `requires ${at("members")} (at least one account to protect; list the hub itself for its own workloads)`);
    if (hub && members) {
        for (const [i, member] of members.entries()) {
            // Memory lands in the instance's region: one evidence store, so one hub region, per member region.
            const outside = Object.keys(member.regions).find((region) => !hub.regions.includes(region));
            if (outside) return fail(ctx, ["members", i, "regions", outside], `is not one of ${at("hub.regions")} (${hub.regions.join(", ")}): evidence stays in the instance's region`);
            if (member.accountId !== hub.accountId && member.deployRoleArn === undefined) {
                return fail(ctx, ["members", i, "deployRoleArn"], `is required: the role Pulumi assumes in ${member.accountId}, like arn:aws:iam::${member.accountId}:role/dfir-deploy`);
            }
            if (member.accountId === hub.accountId && member.deployRoleArn !== undefined && member.deployRoleArn !== hub.deployRoleArn) {
                return fail(ctx, ["members", i, "deployRoleArn"],
                    `must equal ${at("hub.deployRoleArn")} (${hub.deployRoleArn ?? "unset: ambient credentials"}) or be omitted: ${member.accountId} is the hub account (one provider per account and region)`);
            }
        }
        // Each hub region's rules admit its member accounts only (core/pattern.ts): a region without one would need
        // rules that admit every account's findings.
        const empty = hub.regions.find((region) => !members.some((m) => region in m.regions));
        if (empty) {
            return fail(ctx, ["hub", "regions"], `lists ${empty}, where no member account is (no ${at("members")}[].regions.${empty}): its rules would admit every account's findings; add a member there or remove the region`);
        }
        if (config.workstation) {
            // A multi-account stack's workstation is in a hub region (default the home region), its AZ in that region.
            const region = config.workstation.region ?? hub.homeRegion;
            if (!hub.regions.includes(region)) {
                return fail(ctx, ["workstation", "region"], `must be one of ${at("hub.regions")} (${hub.regions.join(", ")}), got ${region}: the workstation reads the evidence store of its own region`);
            }
            const zone = zoneProblem(config.workstation, region);
            if (zone) return fail(ctx, ["workstation", "availabilityZone"], zone);
            config.workstation = { ...config.workstation, region };
        }
        // Keys that describe the one VPC of a single-account stack have no meaning per member and region yet.
        const oneVpc = (["endpointSecurityGroupId", "endpointSubnetIds", "endpointRouteTableIds"] as const).find(given);
        if (oneVpc) return fail(ctx, [oneVpc], `names resources of the one VPC of ${at("vpcId")} and conflicts with ${at("members")}`);
        if (!config.createEndpoints) {
            return fail(ctx, ["createEndpoints"], `=false needs one VPC's endpoint group (${at("endpointSecurityGroupId")}) and is not supported with ${at("members")}`);
        }
        if (config.isolatedInstanceScp) {
            return fail(ctx, ["isolatedInstanceScp"], `is not supported with ${at("members")}: an SCP belongs to the organization's management account (deploy MemberAccess's deny policy per account instead; docs/limitations.md)`);
        }
    } else {
        if (config.workstation?.region !== undefined) {
            return fail(ctx, ["workstation", "region"], "applies only to a multi-account stack (a single-account stack's workstation is in the stack's region, aws:region)");
        }
        const multiOnly = (["organization", "responderRoleName", "copySnapshotsToHub", "analystRoleArns", "shard", "memberAccess", "trustStacks"] as const).find(given);
        if (multiOnly) return fail(ctx, [multiOnly], `applies only to a multi-account stack (${at("hub")} and ${at("members")})`);
    }
    if (!config.createEndpoints && !config.endpointSecurityGroupId) {
        return fail(ctx, ["endpointSecurityGroupId"], `is required when ${at("createEndpoints")} is false (the group of the VPC's existing SSM endpoints)`);
    }
    if (config.createEndpoints && config.endpointSecurityGroupId) {
        return fail(ctx, ["endpointSecurityGroupId"], `conflicts with ${at("createEndpoints")}=true (set createEndpoints to false to use existing endpoints)`);
    }
    if (!config.manageDetector && (raw.ebsMalwareProtection !== undefined || raw.runtimeMonitoring !== undefined)) {
        return fail(ctx, ["ebsMalwareProtection"], `and ${at("runtimeMonitoring")} apply only when ${at("manageDetector")} is true`);
    }
    if (!hub || !members) return { vpcId: vpcId as string, ...config };
    if (trustStacks && !memberAccess) return fail(ctx, ["trustStacks"], `applies only when ${at("memberAccess")} is true (the stack that creates the member roles says whom they trust)`);
    return {
        ...config,
        multiAccount: {
            hub, members, ...(organization ? { organization } : {}), responderRoleName, copySnapshotsToHub, analystRoleArns,
            ...(shard !== undefined ? { shard } : {}), memberAccess, trustStacks: trustStacks ?? [],
        },
    };
}

/** The whole configuration: which keys are set, then each key alone, then the keys together. */
const configSchema = (raw: Readonly<Record<string, unknown>>) =>
    z.record(z.string(), z.unknown()).transform(keysSet).pipe(Keys.transform((keys, ctx) => assemble(keys, raw, ctx)));

/** The value at `path` as the stack file gave it (JSON text on the way is read, as the parser reads it). */
function givenAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let value = raw;
    for (const key of path) {
        if (typeof value === "string") {
            try {
                value = JSON.parse(value);
            } catch {
                return undefined;
            }
        }
        value = valueAt(value, [key]);
    }
    return value;
}

/** One line: `config dfir:<key> <must be ...>, got <the value as given>`, `... is required`, or a sentence. */
function problemOf(issue: z.core.$ZodIssue, raw: unknown): string {
    // A record's key (a member's region, a tag name) that its key schema refused.
    if (issue.code === "invalid_key") return problemOf({ ...issue.issues[0], path: issue.path } as z.core.$ZodIssue, raw);
    if (issue.path.length === 0) return issue.message;
    const where = `config ${at(pathText(issue.path))}`;
    const value = givenAt(raw, issue.path);
    if (issue.code === "unrecognized_keys") return `${where}${issue.message}`;
    if (value === undefined && !isSentence(issue)) return `${where} is required`;
    return problemLine(where, issue, JSON.stringify(value));
}

/**
 * Validate and default the stack's `dfir:` configuration.
 * @param raw keys without the `dfir:` prefix; values as Pulumi gives them (strings) or as YAML parsed them.
 * @throws Error with a one-line message naming the offending key (unknown key, bad value, missing VPC id,
 *   conflicting settings): the first problem in the order of the keys given.
 */
export function parseDfirConfig(raw: Readonly<Record<string, unknown>>): DfirConfig {
    const result = configSchema(raw).safeParse(raw);
    if (!result.success) {
        // The first problem in the order of the keys given; an object's unknown field before its fields' problems.
        const order = (issue: z.core.$ZodIssue) => 2 * Object.keys(raw).indexOf(String(issue.path[0])) - Number(issue.code === "unrecognized_keys");
        const [first] = result.error.issues.sort((a, b) => order(a) - order(b));
        throw new Error(problemOf(first, raw));
    }
    validateTriageOptions(triageOptionsOf(result.data));
    return result.data;
}

/** The triage options of a stack's configuration: the one place config keys become triage options. */
export function triageOptionsOf(c: Pick<DfirConfig, "minSeverity" | "allowSamples" | "credentialExfiltration" | "securityHub" | "tagTrigger">) {
    return {
        minSeverity: c.minSeverity,
        allowSamples: c.allowSamples,
        credentialExfiltration: c.credentialExfiltration,
        tagTrigger: c.tagTrigger,
        ...(c.securityHub ? { securityHub: { ...c.securityHub, products: c.securityHub.products ?? [] } } : {}),
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
