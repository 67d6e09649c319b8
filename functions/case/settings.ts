/**
 * OpenCase's configuration from the environment, read on every invocation (the drill hosts several
 * configurations in one process). A bad value fails the request with a ConfigurationError naming the variable.
 */
import { ENV } from "../../core/workflow";
import { ConfigurationError } from "../lib/errors";
import { ACCOUNT_ID } from "../../core/ids";

/**
 * Account the functions run in. A finding from any other account is reached through the responder role
 * (RESPONDER_ROLE_NAME); unset, every account is treated as another one (a hub with no workloads of its own).
 * Not yet in `ENV` of core/workflow.ts (the lead adds it there).
 */
export const HOME_ACCOUNT_ID_ENV = ENV.homeAccountId;
/** Same name as `ENV.responderRoleName`; repeated here so the two new-to-OpenCase names sit side by side. */
export const RESPONDER_ROLE_NAME_ENV = ENV.responderRoleName;
/** Set by Lambda: the region of the function, hence of its case table. */
const AWS_REGION_ENV = "AWS_REGION";

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface CaseSettings {
    casesTable: string;
    evidenceBucket: string;
    responderRoleName?: string;
    homeAccountId?: string;
    /** Region of the case table; absent = the target's region (the drill, where AWS_REGION may be unset). */
    tableRegion?: string;
    /** Clock for openedAt; injectable so tests are deterministic. @default the functions' clock (functions/lib/clock.ts) */
    now?: () => Date;
}

function required(env: NodeJS.ProcessEnv, name: string, pattern: RegExp, what: string): string {
    const value = env[name];
    if (value === undefined || value.trim() === "") throw new ConfigurationError(name, `is not set; expected ${what}`);
    if (!pattern.test(value)) throw new ConfigurationError(name, `is not ${what}: ${JSON.stringify(value)}`);
    return value;
}

function optional(env: NodeJS.ProcessEnv, name: string, pattern: RegExp, what: string): string | undefined {
    const value = env[name];
    if (value === undefined || value.trim() === "") return undefined;
    if (!pattern.test(value)) throw new ConfigurationError(name, `is not ${what}: ${JSON.stringify(value)}`);
    return value;
}

export function caseSettingsFromEnv(env: NodeJS.ProcessEnv): CaseSettings {
    const settings: CaseSettings = {
        casesTable: required(env, ENV.casesTable, TABLE_NAME, "a DynamoDB table name"),
        evidenceBucket: required(env, ENV.evidenceBucket, BUCKET_NAME, "an S3 bucket name"),
    };
    const role = optional(env, RESPONDER_ROLE_NAME_ENV, ROLE_NAME, "an IAM role name");
    if (role !== undefined) settings.responderRoleName = role;
    const home = optional(env, HOME_ACCOUNT_ID_ENV, ACCOUNT_ID, "a 12-digit account id");
    if (home !== undefined) settings.homeAccountId = home;
    const region = env[AWS_REGION_ENV];
    if (region !== undefined && region.trim() !== "") settings.tableRegion = region;
    return settings;
}
