/**
 * OpenCase's configuration from the environment, read on every invocation (the drill hosts several
 * configurations in one process). A bad value fails the request with a ConfigurationError naming the variable.
 */
import * as z from "zod";
import { ENV } from "../../core/workflow";
import { ACCOUNT_ID, ROLE_NAME, TABLE_NAME } from "../../core/ids";
import { anyValue, defined, fromEnv, optional, required } from "../lib/settings";

/**
 * Account the functions run in. A finding from any other account is reached through the responder role
 * (RESPONDER_ROLE_NAME); unset, every account is treated as another one (a hub with no workloads of its own).
 */
export const HOME_ACCOUNT_ID_ENV = ENV.homeAccountId;
/** Same name as `ENV.responderRoleName`; repeated here so the two new-to-OpenCase names sit side by side. */
export const RESPONDER_ROLE_NAME_ENV = ENV.responderRoleName;

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

/** The variables OpenCase reads, in the order they are checked. */
const CaseEnv = z
    .object({
        [ENV.casesTable]: required(TABLE_NAME, "a DynamoDB table name"),
        [ENV.evidenceBucket]: required(BUCKET_NAME, "an S3 bucket name"),
        [RESPONDER_ROLE_NAME_ENV]: optional(ROLE_NAME, "an IAM role name"),
        [HOME_ACCOUNT_ID_ENV]: optional(ACCOUNT_ID, "a 12-digit account id"),
        /** Set by Lambda: the region of the function, hence of its case table. */
        AWS_REGION: anyValue(),
    })
    .transform(
        (env): CaseSettings =>
            defined({
                casesTable: env[ENV.casesTable],
                evidenceBucket: env[ENV.evidenceBucket],
                responderRoleName: env[RESPONDER_ROLE_NAME_ENV],
                homeAccountId: env[HOME_ACCOUNT_ID_ENV],
                tableRegion: env.AWS_REGION,
            }),
    );

export function caseSettingsFromEnv(env: NodeJS.ProcessEnv): CaseSettings {
    return fromEnv(CaseEnv, env);
}
