/**
 * Contain's configuration from the environment, read on every invocation: one process may host several
 * configurations (the drill), and a bad deployment then fails each request with a {@link ConfigurationError}
 * naming the variable rather than crashing at init.
 */
import { ENV } from "../../core/workflow";
import { ConfigurationError } from "../lib/containmentErrors";
import type { RevocationLock } from "./revocation";

const VPC_ID = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
/** DynamoDB table names: 3-255 of [a-zA-Z0-9_.-]. */
const TABLE_NAME = /^[\w.-]{3,255}$/;
const INSTANCE_PROFILE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/;

/** Deployment-specific inputs, passed in rather than read inside the logic so it stays testable. */
export interface ContainSettings {
    /** vpcId -> isolation security group id. One group per VPC because a security group belongs to one VPC. */
    isolationGroups: Readonly<Record<string, string>>;
    /** vpcId -> all-open "untrack" group, applied first so established (tracked) connections are cut. */
    untrackGroups: Readonly<Record<string, string>>;
    /** Instance profile swapped onto the instance (same name in every member account; see Contain). */
    captureProfileArn?: string;
    /** Clock for action times and tags; injectable so tests are deterministic. @default the functions' clock (functions/lib/clock.ts) */
    now?: () => Date;
    /**
     * The case table that holds each role's revocation lock (functions/contain/revocation.ts), and its region
     * (absent: the target's, as in the drill). Without it the revocation policy is read and written unlocked:
     * right for one containment at a time only.
     */
    revocationLock?: { table: string; region?: string } & Pick<RevocationLock, "now" | "sleep">;
}

/** Read and check ISOLATION_GROUPS (required), UNTRACK_GROUPS and CAPTURE_PROFILE_ARN (optional). */
export function containSettingsFromEnv(env: NodeJS.ProcessEnv): ContainSettings {
    const settings: ContainSettings = {
        isolationGroups: groupMap(ENV.isolationGroups, env[ENV.isolationGroups], true),
        untrackGroups: groupMap(ENV.untrackGroups, env[ENV.untrackGroups], false),
    };
    const profile = env[ENV.captureProfileArn];
    if (profile !== undefined && profile.trim() !== "") {
        if (!INSTANCE_PROFILE_ARN.test(profile)) {
            throw new ConfigurationError(
                ENV.captureProfileArn,
                `is not an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>): ${JSON.stringify(profile)}`,
            );
        }
        settings.captureProfileArn = profile;
    }
    const table = env[ENV.casesTable];
    if (table !== undefined && table.trim() !== "") {
        if (!TABLE_NAME.test(table)) throw new ConfigurationError(ENV.casesTable, `is not a DynamoDB table name: ${JSON.stringify(table)}`);
        const region = env.AWS_REGION;
        settings.revocationLock = { table, ...(region !== undefined && region.trim() !== "" ? { region } : {}) };
    }
    return settings;
}

/**
 * A JSON object mapping VPC ids to security group ids. Required maps must be non-empty; an optional one may be
 * unset, empty, or `{}`.
 */
function groupMap(variable: string, raw: string | undefined, required: boolean): Record<string, string> {
    const expected = 'a JSON object mapping VPC ids to security group ids, e.g. {"vpc-0123abcd":"sg-0123abcd"}';
    if (raw === undefined || raw.trim() === "") {
        if (!required) return {};
        throw new ConfigurationError(variable, `is not set; expected ${expected}`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch (error) {
        throw new ConfigurationError(variable, `is not valid JSON; expected ${expected}`, { cause: error });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new ConfigurationError(variable, `is not a JSON object; expected ${expected}`);
    }
    const entries = Object.entries(parsed);
    if (required && entries.length === 0) {
        throw new ConfigurationError(variable, `is an empty object; expected ${expected}`);
    }
    const bad = entries
        .filter(([vpcId, groupId]) => !(VPC_ID.test(vpcId) && typeof groupId === "string" && SECURITY_GROUP_ID.test(groupId)))
        .map(([vpcId, groupId]) => `${JSON.stringify(vpcId)}: ${JSON.stringify(groupId)}`);
    if (bad.length > 0) {
        throw new ConfigurationError(variable, `has invalid entries (${bad.join(", ")}); expected ${expected}`);
    }
    return Object.fromEntries(entries as Array<[string, string]>);
}
