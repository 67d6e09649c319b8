/**
 * `npm run e2e`: the decisions of the real-AWS end-to-end run, as pure functions (docs/e2e.md): its command line,
 * the test stack's configuration, what it creates, what it costs and what it cannot delete. The run itself is
 * scripts/lib/e2e/run.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { regionProblem } from "../../../core/regions";
import { SSM_ENDPOINT_SERVICES } from "../../../core/isolation";

/** Bad input: one line on stderr, exit 2, nothing created. */
export class E2eUsageError extends Error {
    override name = "E2eUsageError";
}

export interface E2eOptions {
    region: string;
    /** The Pulumi stack deployed for the run. @default `e2e-<region>` */
    stack: string;
    /** The VPC the target instance and the isolation group live in. @default the region's default VPC */
    vpcId?: string;
    /** avml v0.20.0's x86_64 release asset: without it the memory evidence is reported missing (case PARTIAL). */
    avml?: string;
    instanceType: string;
    /** Minutes to wait for the case to be sealed. */
    caseTimeoutMinutes: number;
    /** Leave the target instance and its role (for a look by hand). */
    keep: boolean;
    /** Without it: print the plan and what it costs, create nothing. */
    yes: boolean;
}

const VPC_ID = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

export const E2E_USAGE = "usage: npm run e2e -- --region REGION [--vpc VPC_ID] [--stack NAME] [--avml FILE] [--instance-type TYPE] [--case-timeout MINUTES] [--keep] [--yes]";

/**
 * The command line; every problem is one E2eUsageError line, before anything is created. `--avml` must name a
 * readable file (made absolute: `pulumi up` reads it from the project directory).
 */
export function parseE2eArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}, isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile()): E2eOptions {
    const values = new Map<string, string>();
    const flags = new Set<string>();
    const WITH_VALUE = ["--region", "--vpc", "--stack", "--avml", "--instance-type", "--case-timeout"];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--keep" || arg === "--yes") flags.add(arg);
        else if (WITH_VALUE.includes(arg)) {
            const value = argv[i + 1];
            if (value === undefined || value.startsWith("--")) throw new E2eUsageError(`${arg} needs a value`);
            if (values.has(arg)) throw new E2eUsageError(`${arg} given twice`);
            values.set(arg, value);
            i++;
        } else throw new E2eUsageError(`unknown argument ${JSON.stringify(arg)}; ${E2E_USAGE}`);
    }
    const region = values.get("--region") ?? env.AWS_REGION;
    if (!region) throw new E2eUsageError(`--region is required (or AWS_REGION); ${E2E_USAGE}`);
    const problem = regionProblem(region);
    if (problem) throw new E2eUsageError(`--region ${JSON.stringify(region)} ${problem}`);
    const vpcId = values.get("--vpc");
    if (vpcId !== undefined && !VPC_ID.test(vpcId)) throw new E2eUsageError(`--vpc ${JSON.stringify(vpcId)} is not a VPC id (vpc-...)`);
    const stack = values.get("--stack") ?? `e2e-${region}`;
    if (!STACK_NAME.test(stack)) throw new E2eUsageError(`--stack ${JSON.stringify(stack)} is not a Pulumi stack name`);
    const instanceType = values.get("--instance-type") ?? "t3.small";
    if (!INSTANCE_TYPE.test(instanceType)) throw new E2eUsageError(`--instance-type ${JSON.stringify(instanceType)} is not an EC2 instance type`);
    const avml = values.get("--avml");
    if (avml !== undefined && !isFile(avml)) throw new E2eUsageError(`--avml ${JSON.stringify(avml)}: no such file (avml v0.20.0's x86_64 release asset)`);
    const timeout = values.get("--case-timeout") ?? "60";
    if (!/^[1-9]\d{0,3}$/.test(timeout)) throw new E2eUsageError(`--case-timeout needs a whole number of minutes (1-9999), got ${JSON.stringify(timeout)}`);
    return {
        region,
        stack,
        ...(vpcId ? { vpcId } : {}),
        ...(avml !== undefined ? { avml: path.resolve(avml) } : {}),
        instanceType,
        caseTimeoutMinutes: Number(timeout),
        keep: flags.has("--keep"),
        yes: flags.has("--yes"),
    };
}

/**
 * The test stack's configuration (`pulumi config` keys as the Automation API sets them): the single-account stack
 * in the run's region and VPC, evidence kept the shortest the config allows (1 day: the Object Lock and snapshot
 * lock cannot be shortened or lifted, so this is also how long the evidence outlives the run), GuardDuty left
 * alone (`manageDetector: false`: the account's detector, if any, stays as it is; the run starts the response with
 * `dfir respond`, not with a finding), endpoints created so the contained instance still reaches SSM.
 */
export function e2eStackConfig(options: Pick<E2eOptions, "region" | "avml">, vpcId: string): Record<string, { value: string }> {
    const config: Record<string, string> = {
        "aws:region": options.region,
        "dfir:vpcId": vpcId,
        "dfir:evidenceRetentionDays": "1",
        "dfir:manageDetector": "false",
        "dfir:createEndpoints": "true",
        "dfir:logRetentionDays": "1",
    };
    if (options.avml) config["dfir:avml"] = JSON.stringify({ x86_64: options.avml });
    return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, { value }]));
}

/** What the run creates, what it deletes at the end, and what stays (and why), as lines for the plan. */
export function e2ePlanText(options: E2eOptions, availabilityZones = 0): string {
    const azs = availabilityZones > 0 ? `${availabilityZones}` : "one per subnet of the VPC";
    return [
        `aws-dfir end-to-end run in ${options.region} (stack ${options.stack}${options.vpcId ? `, VPC ${options.vpcId}` : ", the default VPC"})`,
        "",
        "It creates:",
        `  - the test stack (pulumi up through the Automation API): the response workflow, its functions, the case table, the`,
        `    evidence bucket (Object Lock COMPLIANCE, 1 day) and key, the isolation group, ${SSM_ENDPOINT_SERVICES.length} interface endpoints (${SSM_ENDPOINT_SERVICES.join(", ")}) x ${azs} AZ(s) and the S3 gateway endpoint`,
        `  - one target instance (${options.instanceType}, Amazon Linux 2023 from the public SSM parameter) with a role and instance profile for SSM`,
        "It then starts a response on the target (`dfir respond`), waits for the case to be sealed, runs `dfir verify` and `dfir release --yes`.",
        "",
        "At the end it deletes the target instance, its role and profile" + (options.keep ? " (not with --keep)." : "."),
        "It does NOT destroy the test stack (you may want to look at the case first). When you are done:",
        `  pulumi destroy --stack ${options.stack}`,
        "It keeps, by design, the evidence bucket, the access trail's bucket and both KMS keys (retainOnDelete: evidence",
        "outlives its stack); their objects and the case's snapshots are locked for the 1-day retention (nobody can lift",
        "a COMPLIANCE lock). After a day, delete the snapshots tagged dfir:case-id, empty and delete the two buckets, and",
        "schedule the two keys' deletion.",
        "",
        "What it costs (billed by AWS at the region's prices; see the pricing pages):",
        `  - interface endpoints: ${SSM_ENDPOINT_SERVICES.length} x AZs x every hour the stack stands (partial hours billed as full) - the largest item`,
        "    while the stack stays up; destroy it when the retention ends",
        `  - the target instance: ${options.instanceType} on-demand for the run (about 20-60 minutes) and its 8 GiB gp3 root volume`,
        "  - EBS snapshot storage of the evidence snapshot (8 GiB at most) for the lock's day, and until you delete it",
        "  - the customer managed KMS keys (the evidence key, the asymmetric manifest-signing key), billed per month",
        "    prorated, and their requests",
        "  - the access trail: CloudTrail data events on the evidence bucket (per 100,000 events) and its log files,",
        "    locked for the same day",
        "  - Lambda, Step Functions (standard: per state transition), DynamoDB on demand, S3 requests and storage: cents",
        "",
        options.yes ? "Proceeding (--yes)." : "Nothing created. Run again with --yes to proceed.",
    ].join("\n");
}
