/**
 * Stack configuration: the one place that knows which `dfir:*` keys exist, their types and defaults.
 *
 * `index.ts` hands it every `dfir:` key Pulumi has for the stack (values arrive as strings, objects as JSON);
 * tests hand it the parsed `Pulumi.<stack>.yaml`. Anything unknown or malformed stops `pulumi preview` with a
 * one-line message that names the key, before a single resource is registered.
 */
import { validateTriageOptions } from "./triage";

export const CONFIG_NAMESPACE = "dfir";

/** The validated, defaulted configuration of one single-account, single-region stack. */
export interface DfirConfig {
    /** VPC whose instances can be isolated. Required. */
    readonly vpcId: string;
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
    /** Local path of the pinned avml binary to stage in the evidence bucket's tools/ prefix. @default none: memory is reported missing */
    readonly avmlPath?: string;
    /** Also create the deny-modify-isolated-instances SCP (organization management account only). @default false */
    readonly isolatedInstanceScp: boolean;
}

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
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const PARSERS: Record<keyof DfirConfig, KeyParser> = {
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
    snapshotCapHours: num(1, 168, false),
    memoryCapMinutes: num(5, 720, true),
    avmlPath: (raw, key) => (typeof raw === "string" && raw.trim() !== "" ? raw : fail(key, "must be a file path")),
    isolatedInstanceScp: bool,
    logRetentionDays: (raw, key) => {
        const n = num(1, 3653, true)(raw, key) as number;
        if (!LOG_RETENTION_DAYS.includes(n)) fail(key, `must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${n}`);
        return n;
    },
};

/** Every key the stack accepts, for messages and docs. */
export const CONFIG_KEYS = Object.keys(PARSERS) as (keyof DfirConfig)[];

/**
 * Validate and default the stack's `dfir:` configuration.
 * @param raw keys without the `dfir:` prefix; values as Pulumi gives them (strings) or as YAML parsed them.
 * @throws Error with a one-line message naming the offending key (unknown key, bad value, missing VPC id,
 *   conflicting settings).
 */
export function parseDfirConfig(raw: Readonly<Record<string, unknown>>): DfirConfig {
    for (const key of Object.keys(raw)) {
        if (!(key in PARSERS)) {
            throw new Error(`unknown config key ${CONFIG_NAMESPACE}:${key} (known keys: ${CONFIG_KEYS.join(", ")})`);
        }
    }
    if (raw.vpcId === undefined || raw.vpcId === "") {
        throw new Error(`missing required config ${CONFIG_NAMESPACE}:vpcId: set the VPC to protect with \`pulumi config set ${CONFIG_NAMESPACE}:vpcId vpc-...\``);
    }
    const v: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
        if (value !== undefined && value !== null) v[key] = PARSERS[key as keyof DfirConfig](value, key);
    }
    const config: DfirConfig = {
        vpcId: v.vpcId as string,
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
        avmlPath: v.avmlPath as string | undefined,
        isolatedInstanceScp: (v.isolatedInstanceScp as boolean | undefined) ?? false,
    };
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
