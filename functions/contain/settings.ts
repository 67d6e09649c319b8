/**
 * Contain's configuration from the environment, read on every invocation: one process may host several
 * configurations (the drill), and a bad deployment then fails each request with a {@link ConfigurationError}
 * naming the variable rather than crashing at init.
 */
import * as z from "zod";
import { ENV } from "../../core/workflow";
import { INSTANCE_PROFILE_ARN, SECURITY_GROUP_ID, TABLE_NAME, VPC_ID } from "../../core/ids";
import { anyValue, defined, fromEnv, optional, variable } from "../lib/settings";
import type { RevocationLock } from "./revocation";

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

const EXPECTED = 'a JSON object mapping VPC ids to security group ids, e.g. {"vpc-0123abcd":"sg-0123abcd"}';
const isGroupEntry = ([vpcId, groupId]: [string, unknown]) => VPC_ID.test(vpcId) && typeof groupId === "string" && SECURITY_GROUP_ID.test(groupId);

/**
 * A JSON object mapping VPC ids to security group ids. Required maps must be non-empty; an optional one may be
 * unset, empty, or `{}`.
 */
function groupMap(required: boolean) {
    const problem = (ctx: z.RefinementCtx, what: string, cause?: unknown): never => {
        ctx.addIssue({ code: "custom", message: `${what}; expected ${EXPECTED}`, params: { cause } });
        return z.NEVER;
    };
    return variable(z.string().optional()).transform((raw, ctx): Record<string, string> => {
        if (raw === undefined) return required ? problem(ctx, "is not set") : {};
        let map: unknown;
        try {
            map = JSON.parse(raw);
        } catch (error) {
            return problem(ctx, "is not valid JSON", error);
        }
        if (typeof map !== "object" || map === null || Array.isArray(map)) return problem(ctx, "is not a JSON object");
        const entries = Object.entries(map);
        if (required && entries.length === 0) return problem(ctx, "is an empty object");
        const bad = entries.filter((entry) => !isGroupEntry(entry)).map(([vpcId, groupId]) => `${JSON.stringify(vpcId)}: ${JSON.stringify(groupId)}`);
        return bad.length > 0 ? problem(ctx, `has invalid entries (${bad.join(", ")})`) : Object.fromEntries(entries as Array<[string, string]>);
    });
}

/** The variables Contain reads, in the order they are checked: ISOLATION_GROUPS (required), the others optional. */
const ContainEnv = z
    .object({
        [ENV.isolationGroups]: groupMap(true),
        [ENV.untrackGroups]: groupMap(false),
        [ENV.captureProfileArn]: optional(INSTANCE_PROFILE_ARN, "an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>)"),
        [ENV.casesTable]: optional(TABLE_NAME, "a DynamoDB table name"),
        /** Set by Lambda: the region of the function, hence of its case table. */
        AWS_REGION: anyValue(),
    })
    .transform((env): ContainSettings => {
        const table = env[ENV.casesTable];
        return defined({
            isolationGroups: env[ENV.isolationGroups],
            untrackGroups: env[ENV.untrackGroups],
            captureProfileArn: env[ENV.captureProfileArn],
            revocationLock: table === undefined ? undefined : defined({ table, region: env.AWS_REGION }),
        });
    });

/** Read and check ISOLATION_GROUPS (required), UNTRACK_GROUPS, CAPTURE_PROFILE_ARN and CASES_TABLE (optional). */
export function containSettingsFromEnv(env: NodeJS.ProcessEnv): ContainSettings {
    return fromEnv(ContainEnv, env);
}
