/**
 * AWS size quotas on what the program creates, measured the way each service counts. One source for the Pulumi
 * mocks (scripts/lib/mock-program.ts: a registration that breaks a per-resource quota fails, as `pulumi up` would on
 * that resource; the whole stack is checked after it settles) and the policy pack (policy/rules/aws-service-quotas.ts:
 * a `pulumi preview` stops before `up` fails half-way).
 *
 * Resources are plain: a Pulumi type token, a name and the inputs (policy documents as JSON strings, as the program
 * passes them; an object is measured as compact JSON). Pure: no Pulumi, no AWS.
 *
 * Every quota names the AWS page it comes from. Not encoded (not found stated, or not used by the program): AWS
 * Organizations policy size, SNS TopicPolicy/SQS Queue `policy` beyond the types below, API Gateway, CloudWatch Logs
 * resource policies.
 */

/** One quota: what AWS limits, the limit, the unit it counts in and the page that states it. */
export interface Quota {
    readonly name: string;
    readonly limit: number;
    readonly unit: QuotaUnit;
    readonly page: string;
}

/**
 * How a size is counted: `bytes` (UTF-8 bytes of the text), `characters` (all characters) or
 * `characters-without-white-space` (IAM: "IAM does not count white space when calculating the size of a policy").
 */
export type QuotaUnit = "bytes" | "characters" | "characters-without-white-space";

const IAM_QUOTAS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html";
const EVENTBRIDGE_QUOTAS_PAGE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html";

export const QUOTAS = {
    // "Lambda quotas" (Function configuration, deployment, and execution): Function environment variables 4 KB, not
    // adjustable; "Working with Lambda environment variables": "The total size of all environment variables doesn't
    // exceed 4 KB". AWS's own error measures the variables map as JSON ("...exceeded the 4KB limit. String measured:
    // {"KEY":"value",...}", quoted in github-aws-runners/terraform-aws-github-runner#3594): we count the UTF-8 bytes of
    // the compact JSON of the map, and take 4 KB as 4,096 bytes.
    lambdaEnvironment: { name: "Lambda function environment variables (all together)", limit: 4096, unit: "bytes", page: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html" },
    // "IAM and AWS STS quotas": Role trust policy length, default 2,048 characters (adjustable); GetAccountSummary's
    // AssumeRolePolicySizeQuota is "in non-whitespace characters".
    roleTrustPolicy: { name: "IAM role trust policy length", limit: 2048, unit: "characters-without-white-space", page: IAM_QUOTAS_PAGE },
    // "IAM and AWS STS quotas", inline policies: "the total aggregate policy size (the sum size of all inline policies)
    // per entity cannot exceed" 10,240 characters for a role; "IAM does not count white space".
    roleInlinePolicies: { name: "IAM inline policies of one role (sum of all)", limit: 10240, unit: "characters-without-white-space", page: IAM_QUOTAS_PAGE },
    // "IAM and AWS STS quotas", managed policies: each managed policy cannot exceed 6,144 characters (white space not
    // counted).
    managedPolicy: { name: "IAM managed policy size", limit: 6144, unit: "characters-without-white-space", page: IAM_QUOTAS_PAGE },
    // S3 User Guide, "Bucket policies and user policies": "Bucket policies are limited to 20 KB in size." (20,480 bytes)
    s3BucketPolicy: { name: "S3 bucket policy size", limit: 20480, unit: "bytes", page: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html" },
    // "Amazon EventBridge quotas": Event pattern size, 2,048 (adjustable), "Maximum size of an event pattern, in
    // characters".
    eventPattern: { name: "EventBridge event pattern size", limit: 2048, unit: "characters", page: EVENTBRIDGE_QUOTAS_PAGE },
    // "Amazon EventBridge quotas": Event bus policy size, 10,240 (adjustable), "Maximum policy size, in characters".
    eventBusPolicy: { name: "EventBridge event bus policy size", limit: 10240, unit: "characters", page: EVENTBRIDGE_QUOTAS_PAGE },
    // KMS Developer Guide, "Key policies" (key policy format): up to 32 kilobytes (32,768 bytes); PutKeyPolicy: "The
    // policy size limit is 32 KiB (32768 bytes)".
    kmsKeyPolicy: { name: "KMS key policy size", limit: 32768, unit: "bytes", page: "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html" },
    // "Step Functions service quotas": Maximum size of a state machine definition, 1 MB, hard quota (taken as
    // 1,048,576 bytes).
    stateMachineDefinition: { name: "Step Functions state machine definition size", limit: 1048576, unit: "bytes", page: "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html" },
    // "Amazon SQS policy quotas": Bytes, 8,192.
    sqsPolicy: { name: "SQS queue policy size", limit: 8192, unit: "bytes", page: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html" },
    // "Amazon SNS API permissions: Actions and resources reference", Policy quotas: Bytes, 30 kb (30,720 bytes).
    snsPolicy: { name: "SNS topic policy size", limit: 30720, unit: "bytes", page: "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-language-api-permissions-reference.html" },
} as const satisfies Record<string, Quota>;

/** A resource as the checks read it: a Pulumi type token, its name and its inputs (plain values). */
export interface QuotaResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Readonly<Record<string, unknown>>;
    /**
     * Where quotas counted across resources are scoped: the account (provider) it is created in. Resources with the
     * same `scope` and the same role value belong to one IAM role. Absent: one default scope.
     */
    readonly scope?: string;
    /**
     * The role an `aws:iam/rolePolicy:RolePolicy` belongs to, when the caller knows it better than the `role` input
     * (the policy pack: the URN the `role` input came from, known at preview when the role's id is not).
     */
    readonly role?: string;
}

/** One quota broken by one resource (or by a group of resources, named by `resource`). */
export interface QuotaProblem {
    /** `type::name` of the resource (for an aggregate: of the first resource of the group). */
    readonly resource: string;
    readonly quota: Quota;
    readonly measured: number;
    /** One line: the resource, the quota, the measured size, the limit and the AWS page. */
    readonly message: string;
}

/** Options: how to recognise a value not known yet (a preview's placeholder), which is skipped, never measured. */
export interface QuotaOptions {
    readonly isUnknown?: (value: unknown) => boolean;
}

/** The size of a text in a unit. */
export function measure(text: string, unit: QuotaUnit): number {
    switch (unit) {
        case "bytes":
            return Buffer.byteLength(text, "utf8");
        case "characters":
            return [...text].length;
        case "characters-without-white-space":
            return [...text.replace(/\s/g, "")].length;
    }
}

const UNIT_TEXT: Record<QuotaUnit, string> = {
    bytes: "bytes",
    characters: "characters",
    "characters-without-white-space": "characters without white space",
};

function problem(resource: string, quota: Quota, measured: number, what = ""): QuotaProblem {
    const unit = UNIT_TEXT[quota.unit];
    return {
        resource,
        quota,
        measured,
        message: `${resource}${what}: ${quota.name} is ${measured.toLocaleString("en-US")} ${unit}, over AWS's limit of ` +
            `${quota.limit.toLocaleString("en-US")} (${quota.page})`,
    };
}

/** Anything that holds an unknown value, at any depth. */
function holdsUnknown(value: unknown, isUnknown: (v: unknown) => boolean): boolean {
    if (isUnknown(value)) return true;
    if (Array.isArray(value)) return value.some((v) => holdsUnknown(v, isUnknown));
    if (value !== null && typeof value === "object") return Object.values(value).some((v) => holdsUnknown(v, isUnknown));
    return false;
}

/** A document input as text: a string as given, an object as compact JSON; undefined when absent or unknown. */
function documentText(value: unknown, isUnknown: (v: unknown) => boolean): string | undefined {
    if (value === undefined || value === null || value === "" || holdsUnknown(value, isUnknown)) return undefined;
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Per resource type: the inputs holding one document each, and the quota on it. */
const DOCUMENT_QUOTAS: Readonly<Record<string, readonly { readonly input: string; readonly quota: Quota }[]>> = {
    "aws:iam/role:Role": [{ input: "assumeRolePolicy", quota: QUOTAS.roleTrustPolicy }],
    "aws:iam/rolePolicy:RolePolicy": [{ input: "policy", quota: QUOTAS.roleInlinePolicies }],
    "aws:iam/policy:Policy": [{ input: "policy", quota: QUOTAS.managedPolicy }],
    "aws:s3/bucketPolicy:BucketPolicy": [{ input: "policy", quota: QUOTAS.s3BucketPolicy }],
    "aws:cloudwatch/eventRule:EventRule": [{ input: "eventPattern", quota: QUOTAS.eventPattern }],
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": [{ input: "policy", quota: QUOTAS.eventBusPolicy }],
    "aws:kms/key:Key": [{ input: "policy", quota: QUOTAS.kmsKeyPolicy }],
    "aws:sfn/stateMachine:StateMachine": [{ input: "definition", quota: QUOTAS.stateMachineDefinition }],
    "aws:sqs/queuePolicy:QueuePolicy": [{ input: "policy", quota: QUOTAS.sqsPolicy }],
    "aws:sqs/queue:Queue": [{ input: "policy", quota: QUOTAS.sqsPolicy }],
    "aws:sns/topicPolicy:TopicPolicy": [{ input: "policy", quota: QUOTAS.snsPolicy }],
    "aws:sns/topic:Topic": [{ input: "policy", quota: QUOTAS.snsPolicy }],
};

/** The resource types any quota here applies to. */
export const QUOTA_TYPES: readonly string[] = [...Object.keys(DOCUMENT_QUOTAS), "aws:lambda/function:Function"];

/** A Lambda function's environment variables, measured as AWS's error message shows it (compact JSON of the map). */
function lambdaEnvironmentProblems(r: QuotaResource, isUnknown: (v: unknown) => boolean): QuotaProblem[] {
    const environment = r.inputs.environment as { variables?: unknown } | undefined;
    const variables = environment?.variables;
    if (variables === undefined || variables === null || typeof variables !== "object" || holdsUnknown(environment, isUnknown)) return [];
    const size = measure(JSON.stringify(variables), QUOTAS.lambdaEnvironment.unit);
    return size > QUOTAS.lambdaEnvironment.limit ? [problem(`${r.type}::${r.name}`, QUOTAS.lambdaEnvironment, size)] : [];
}

/** An `aws:iam/role:Role`'s own `inlinePolicies` (each `{name, policy}`), summed. */
function inlinePoliciesOfRole(r: QuotaResource, isUnknown: (v: unknown) => boolean): QuotaProblem[] {
    const list = r.inputs.inlinePolicies;
    if (!Array.isArray(list)) return [];
    const texts = list.map((p) => documentText((p as { policy?: unknown } | null)?.policy, isUnknown));
    const size = texts.reduce((sum, t) => sum + (t === undefined ? 0 : measure(t, QUOTAS.roleInlinePolicies.unit)), 0);
    return size > QUOTAS.roleInlinePolicies.limit ? [problem(`${r.type}::${r.name}`, QUOTAS.roleInlinePolicies, size, " (inlinePolicies)")] : [];
}

/**
 * The quotas one resource breaks on its own (what makes AWS refuse its create or update). Unknown values are
 * skipped. A type no quota here applies to has none.
 */
export function resourceQuotaProblems(r: QuotaResource, options: QuotaOptions = {}): QuotaProblem[] {
    const isUnknown = options.isUnknown ?? (() => false);
    if (r.type === "aws:lambda/function:Function") return lambdaEnvironmentProblems(r, isUnknown);
    const problems: QuotaProblem[] = [];
    for (const { input, quota } of DOCUMENT_QUOTAS[r.type] ?? []) {
        const text = documentText(r.inputs[input], isUnknown);
        if (text === undefined) continue;
        const size = measure(text, quota.unit);
        if (size > quota.limit) problems.push(problem(`${r.type}::${r.name}`, quota, size, ` (${input})`));
    }
    if (r.type === "aws:iam/role:Role") problems.push(...inlinePoliciesOfRole(r, isUnknown));
    return problems;
}

/** The role an inline policy belongs to, unique in the stack; undefined when unknown. */
function roleKey(r: QuotaResource, isUnknown: (v: unknown) => boolean): string | undefined {
    const role = r.role ?? r.inputs.role;
    if (typeof role !== "string" || role === "" || isUnknown(role)) return undefined;
    return `${r.scope ?? ""}\u0000${role}`;
}

/**
 * The quotas the stack breaks: every resource's own (resourceQuotaProblems), then those counted across resources:
 * all `aws:iam/rolePolicy:RolePolicy` documents of one role together against the role's inline policy quota (a
 * group whose single policy already broke it is not reported twice). Policies whose role or document is unknown are
 * left out of their role's sum.
 */
export function stackQuotaProblems(resources: readonly QuotaResource[], options: QuotaOptions = {}): QuotaProblem[] {
    const isUnknown = options.isUnknown ?? (() => false);
    const problems = resources.flatMap((r) => resourceQuotaProblems(r, options));
    const roles = new Map<string, { first: QuotaResource; size: number; count: number }>();
    for (const r of resources) {
        if (r.type !== "aws:iam/rolePolicy:RolePolicy") continue;
        const key = roleKey(r, isUnknown);
        const text = documentText(r.inputs.policy, isUnknown);
        if (key === undefined || text === undefined) continue;
        const group = roles.get(key) ?? { first: r, size: 0, count: 0 };
        group.size += measure(text, QUOTAS.roleInlinePolicies.unit);
        group.count += 1;
        roles.set(key, group);
    }
    for (const [key, group] of roles) {
        if (group.count < 2 || group.size <= QUOTAS.roleInlinePolicies.limit) continue;
        const role = key.split("\u0000")[1];
        problems.push(problem(`${group.first.type}::${group.first.name}`, QUOTAS.roleInlinePolicies, group.size, ` and ${group.count - 1} more inline policies of role ${role}`));
    }
    return problems;
}
