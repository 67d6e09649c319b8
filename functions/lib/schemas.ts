/**
 * The shapes the functions' events share, declared once with zod (the types derive from them), and the one
 * formatter that turns a failed parse into the project's one-line problems: `<path> must be ..., got <value>`.
 *
 * Events are parsed, not trusted: every problem is collected so a bad event is fixed in one round, and only known
 * fields are kept where a schema is an object (a record passed on as is is a loose object, and says so).
 * Every leaf carries its own "must be ..." text (zod's `error`), so the formatter only adds the path and the value.
 */
// A namespace import with static member access only: esbuild keeps only the members used (the `z` object would
// bring every locale of zod into each bundle).
import * as z from "zod";
import { INSTANCE_ID_PATTERN } from "../../core/triage";
import type { InstanceRecord, Target } from "../../core/workflow";
import { InvalidRequestError, type ErrorContext } from "./errors";
import { ACCOUNT_ID, INSTANCE_PROFILE_ARN, REGION, ROLE_ARN } from "../../core/ids";
import { type Declares, matchingString, pathText as corePathText, problemLine, valueAt } from "../../core/schema";

export { type Assignable, type Declares, sentence } from "../../core/schema";

/** EC2 rejects tag values longer than this; the case id becomes a tag value. */
export const MAX_TAG_VALUE_LENGTH = 256;
/** Evidence case ids become S3 key segments and tag values: no slashes, no whitespace, bounded. */
export const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ENI_ID = /^eni-[0-9a-f]{8,17}$/;

// ---------------------------------------------------------------------------------------------------------------
// Leaves: each names what it must be.

/** A string that matches `pattern`, or the problem `must be <what>`. */
export const matching = (pattern: RegExp, what: string) => matchingString(pattern, `must be ${what}`);
export const nonEmpty = (what = "a non-empty string") => z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
export const bool = (what = "a boolean") => z.boolean({ error: `must be ${what}` });
export const strings = () => z.array(z.string({ error: "must be a string" }), { error: "must be an array of strings" });
/** A time `Date.parse` reads (the state machine passes ISO 8601). */
export const isoTime = (message = "must be an ISO time") =>
    z.string({ error: message }).refine((value) => !Number.isNaN(Date.parse(value)), { error: message });

// ---------------------------------------------------------------------------------------------------------------
// Shared records.

/** Where the instance lives; `roleArn` only when present (null counts as absent). */
export const TargetSchema = z
    .object(
        {
            accountId: matching(ACCOUNT_ID, "12 digits"),
            region: matching(REGION, "an AWS region"),
            instanceId: matching(INSTANCE_ID_PATTERN, "an EC2 instance id"),
            roleArn: matching(ROLE_ARN, "a role ARN").nullish(),
        },
        { error: "must be an object {accountId, region, instanceId, roleArn?}" },
    )
    .transform(({ roleArn, ...target }): Target => (roleArn ? { ...target, roleArn } : target));

const InterfaceSchema = z.object(
    {
        networkInterfaceId: matching(ENI_ID, "a network interface id"),
        groups: strings(),
        deviceIndex: z.number({ error: "must be a non-negative integer" }).int({ error: "must be a non-negative integer" }).min(0, { error: "must be a non-negative integer" }),
        ipv6Addresses: strings(),
        privateIpAddresses: strings().optional(),
        // Recorded by newer OpenCase versions: the interface's own VPC, subnet and addresses.
        vpcId: nonEmpty().optional(),
        subnetId: nonEmpty().optional(),
        publicIp: nonEmpty().optional(),
    },
    { error: "must be an object" },
);

const VolumeSchema = z.object(
    { volumeId: nonEmpty(), deviceName: nonEmpty(), deleteOnTermination: bool(), root: bool() },
    { error: "must be an object" },
);

const PLATFORM = z.enum(["linux", "windows"], { error: 'must be "linux" or "windows"' });

/** The instance record as OpenCase built it (and the case table keeps it): only its known fields are kept. */
export const InstanceRecordSchema = z
    .object(
        {
            instanceId: matching(INSTANCE_ID_PATTERN, "an EC2 instance id"),
            state: nonEmpty(),
            platform: PLATFORM,
            architecture: nonEmpty().optional(),
            vpcId: z.string({ error: "must be a string" }),
            networkInterfaces: z.array(InterfaceSchema, { error: "must be an array" }),
            volumes: z.array(VolumeSchema, { error: "must be an array" }),
            tags: z.record(z.string(), z.string({ error: "must be a string" }), { error: "must be an object" }),
            disableApiTermination: bool(),
            disableApiStop: bool(),
            shutdownBehavior: nonEmpty(),
            subnetId: nonEmpty().optional(),
            availabilityZone: nonEmpty().optional(),
            imageId: nonEmpty().optional(),
            launchTime: nonEmpty().optional(),
            iamInstanceProfile: z
                .object({ arn: matching(INSTANCE_PROFILE_ARN, "an instance profile ARN"), associationId: nonEmpty() }, { error: "must be an object" })
                .nullish(),
        },
        { error: "must be the case's instance record" },
    )
    .transform(({ iamInstanceProfile, ...record }): InstanceRecord => (iamInstanceProfile ? { ...record, iamInstanceProfile } : record));

/**
 * The instance record as the evidence steps receive it: only what they use is checked (its id, its platform), and
 * the record is passed on as the case recorded it.
 */
export const EvidenceInstanceSchema = z
    .looseObject({ instanceId: z.string({ error: "must be an EC2 instance id" }), platform: PLATFORM }, { error: "must be the case's instance record" })
    .transform((record) => record as unknown as InstanceRecord);

/** `{bucket, prefix}` of the case's evidence; a missing prefix is "". */
export const EvidenceLocationSchema = z.object(
    { bucket: nonEmpty("a bucket name"), prefix: z.string({ error: "must be a string" }).optional().transform((p) => p ?? "") },
    { error: "must be {bucket, prefix} with a bucket name" },
);

/** An evidence step's case id (it becomes an S3 key segment and a tag value). */
export const EvidenceCaseIdSchema = matching(CASE_ID, "1-128 characters of letters, digits, '.', '_' or '-'");

/** The `error` of a union on `action`: an event that is no object says so; one with another action names the actions. */
export const actionError = (actions: string) => (issue: { code: string }) => (issue.code === "invalid_type" ? "must be an object" : `must be ${actions}`);

/** The instance record schema declares every field of InstanceRecord (e.g. `architecture`, which the memory step needs). */
export const INSTANCE_RECORD_DECLARED: Declares<z.input<typeof InstanceRecordSchema>, InstanceRecord> = true;

// ---------------------------------------------------------------------------------------------------------------
// Problems.

/** A short, safe rendering of a bad value for an error message (never the whole value: events can be large). */
export function preview(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    if (value === null) return "null";
    return Array.isArray(value) ? "array" : typeof value;
}

/** `a.b[0].c` of an issue path ("event" for the event itself). */
export const pathText = (path: readonly PropertyKey[]): string => corePathText(path) || "event";

/** One line per issue: `<path> <must be ...>, got <value>`, or `<path> <sentence>` (core/schema.ts problemLine). */
export function problemsOf(error: z.ZodError, input: unknown): string[] {
    return error.issues.map((issue) => problemLine(pathText(issue.path), issue, preview(valueAt(input, issue.path))));
}

/** The case and instance a raw event names, for an error's context even when the event is refused. */
export type ContextOf = (input: unknown) => ErrorContext;

/**
 * Parses `input` with `schema`; every problem at once as one {@link InvalidRequestError} (`invalid <step>
 * request: ...`) carrying the case context the raw event names.
 */
export function parseEvent<S extends z.ZodType>(schema: S, input: unknown, step: string | undefined, contextOf: ContextOf): z.output<S> {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw new InvalidRequestError(problemsOf(result.error, input), contextOf(input), step);
}

/** The string at `path` of a raw event, if it is one. */
export function stringAt(input: unknown, ...path: string[]): string | undefined {
    const value = valueAt(input, path);
    return typeof value === "string" && value !== "" ? value : undefined;
}
