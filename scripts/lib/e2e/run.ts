/**
 * The real-AWS end-to-end run (`npm run e2e`, docs/e2e.md): deploy the test stack, launch a target instance, start a
 * response on it, wait for the sealed case, verify it, release it, and delete what may be deleted. Every AWS client,
 * the Pulumi stack, the `dfir` command and the clock come in through {@link E2eDeps}, so test/e2e.test.ts runs the
 * whole sequence against mocks: it cannot run here (no AWS account, no Pulumi CLI).
 *
 * Whatever fails, the target instance and its role are deleted (unless `--keep`), and the report says which steps
 * ran, which failed, and what is left in the account.
 */
import {
    DescribeInstancesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, ModifyInstanceAttributeCommand, RunInstancesCommand,
    TerminateInstancesCommand, type EC2Client,
} from "@aws-sdk/client-ec2";
import {
    AddRoleToInstanceProfileCommand, AttachRolePolicyCommand, CreateInstanceProfileCommand, CreateRoleCommand, DeleteInstanceProfileCommand,
    DeleteRoleCommand, DeleteRolePolicyCommand, DetachRolePolicyCommand, ListRolePoliciesCommand, RemoveRoleFromInstanceProfileCommand, type IAMClient,
} from "@aws-sdk/client-iam";
import { DescribeInstanceInformationCommand, GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { partitionOf } from "../../../core/containmentPolicies";
import { e2eStackConfig, type E2eOptions } from "./options";

/** The test stack, as the Automation API gives it (scripts/lib/e2e/pulumiStack.ts). */
export interface E2eStack {
    /** `pulumi up` with this configuration; the stack's outputs, plain values. */
    up(config: Record<string, { value: string }>): Promise<Record<string, unknown>>;
}

export interface E2eDeps {
    openStack(name: string): Promise<E2eStack>;
    ec2: EC2Client;
    ssm: SSMClient;
    iam: IAMClient;
    sts: STSClient;
    /** `dfir ARGS...` in-process (cli/index.ts runDfir): exit code and output. */
    dfir(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
    sleep(ms: number): Promise<void>;
    now(): Date;
    log(line: string): void;
}

export interface E2eStep {
    name: string;
    ok: boolean;
    seconds: number;
    detail?: string;
}

export interface E2eReport {
    ok: boolean;
    region: string;
    stack: string;
    runId: string;
    instanceId?: string;
    caseId?: string;
    caseStatus?: string;
    steps: E2eStep[];
    /** What stays in the account, one line each (the stack, locked evidence, anything a cleanup step could not delete). */
    left: string[];
}

/** The public parameter of the current Amazon Linux 2023 AMI (x86_64), which comes with the SSM agent installed. */
export const AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
const SSM_MANAGED_POLICY = "policy/AmazonSSMManagedInstanceCore";
/** How long to wait out IAM's eventual consistency for a new instance profile (RunInstances refuses it until then). */
const PROFILE_RETRIES = 12;
const POLL_MS = 15_000;

class StepFailure extends Error {}

/** Runs the whole sequence; never throws for a failed step (the report says which), only for a bug. */
export async function runE2e(options: E2eOptions, deps: E2eDeps): Promise<E2eReport> {
    const started = deps.now();
    const runId = started.toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
    const report: E2eReport = { ok: false, region: options.region, stack: options.stack, runId, steps: [], left: [] };
    const partition = partitionOf(options.region);
    const roleName = `dfir-e2e-target-${runId}`;
    const created = { role: false, policy: false, profile: false, inProfile: false };

    const step = async <T>(name: string, body: () => Promise<T>, detail?: (value: T) => string): Promise<T> => {
        const t = deps.now().getTime();
        deps.log(`e2e: ${name} ...`);
        try {
            const value = await body();
            const text = detail?.(value);
            report.steps.push({ name, ok: true, seconds: (deps.now().getTime() - t) / 1000, ...(text ? { detail: text } : {}) });
            deps.log(`e2e: ${name}: ok${text ? ` (${text})` : ""}`);
            return value;
        } catch (error) {
            const text = error instanceof Error ? error.message.split("\n")[0] : String(error);
            report.steps.push({ name, ok: false, seconds: (deps.now().getTime() - t) / 1000, detail: text });
            deps.log(`e2e: ${name}: FAILED: ${text}`);
            throw new StepFailure(text);
        }
    };
    const until = async <T>(what: string, minutes: number, probe: () => Promise<T | undefined>): Promise<T> => {
        const deadline = deps.now().getTime() + minutes * 60_000;
        for (;;) {
            const value = await probe();
            if (value !== undefined) return value;
            if (deps.now().getTime() >= deadline) throw new Error(`${what}: not within ${minutes} minute(s)`);
            await deps.sleep(POLL_MS);
        }
    };

    try {
        const identity = await step("credentials", () => deps.sts.send(new GetCallerIdentityCommand({})), (id) => `${id.Arn} in ${id.Account}`);
        const where = await step("VPC and subnet", async () => {
            const vpcs = await deps.ec2.send(new DescribeVpcsCommand(options.vpcId ? { VpcIds: [options.vpcId] } : { Filters: [{ Name: "is-default", Values: ["true"] }] }));
            const vpcId = vpcs.Vpcs?.[0]?.VpcId;
            if (!vpcId) throw new Error(options.vpcId ? `${options.vpcId} not found in ${options.region}` : `no default VPC in ${options.region}: give --vpc`);
            const subnets = (await deps.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }))).Subnets ?? [];
            const sorted = subnets.filter((s) => s.SubnetId).sort((a, b) => `${a.AvailabilityZone}${a.SubnetId}`.localeCompare(`${b.AvailabilityZone}${b.SubnetId}`));
            if (sorted.length === 0) throw new Error(`${vpcId} has no subnet`);
            return { vpcId, subnetId: sorted[0].SubnetId as string, azs: new Set(sorted.map((s) => s.AvailabilityZone)).size };
        }, (w) => `${w.vpcId}, subnet ${w.subnetId}, ${w.azs} AZ(s)`);

        const outputs = await step("deploy the test stack", async () => {
            const stack = await deps.openStack(options.stack);
            const out = await stack.up(e2eStackConfig(options, where.vpcId));
            for (const key of ["stateMachineArn", "casesTableName", "evidenceBucket"]) {
                if (typeof out[key] !== "string" || out[key] === "") throw new Error(`the stack has no ${key} output`);
            }
            return out as { stateMachineArn: string; casesTableName: string; evidenceBucket: string };
        }, (o) => `state machine ${o.stateMachineArn}`);
        report.left.push(`the test stack ${options.stack}: pulumi destroy --stack ${options.stack} (it keeps the evidence and access-trail buckets and the two KMS keys: delete them once the 1-day retention has passed)`);

        const profileName = await step("target role and instance profile", async () => {
            await deps.iam.send(new CreateRoleCommand({
                RoleName: roleName,
                Description: "aws-dfir e2e target instance (SSM only)",
                AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
                Tags: [{ Key: "dfir:e2e", Value: runId }],
            }));
            created.role = true;
            await deps.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: `arn:${partition}:iam::aws:${SSM_MANAGED_POLICY}` }));
            created.policy = true;
            await deps.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: roleName, Tags: [{ Key: "dfir:e2e", Value: runId }] }));
            created.profile = true;
            await deps.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: roleName, RoleName: roleName }));
            created.inProfile = true;
            return roleName;
        }, (n) => n);

        const instanceId = await step("launch the target instance", async () => {
            const ami = (await deps.ssm.send(new GetParameterCommand({ Name: AL2023_AMI_PARAMETER }))).Parameter?.Value;
            if (!ami) throw new Error(`${AL2023_AMI_PARAMETER} has no value`);
            for (let attempt = 1; ; attempt++) {
                try {
                    const run = await deps.ec2.send(new RunInstancesCommand({
                        ImageId: ami, InstanceType: options.instanceType as never, MinCount: 1, MaxCount: 1, SubnetId: where.subnetId,
                        IamInstanceProfile: { Name: profileName },
                        MetadataOptions: { HttpTokens: "required" },
                        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "dfir-e2e-target" }, { Key: "dfir:e2e", Value: runId }] }],
                    }));
                    const id = run.Instances?.[0]?.InstanceId;
                    if (!id) throw new Error("RunInstances returned no instance");
                    return id;
                } catch (error) {
                    // A new instance profile is refused until IAM has propagated it ("Invalid IAM Instance Profile name"):
                    // IAM User Guide, "Troubleshooting IAM", changes I make are not always immediately visible.
                    const e = error as { name?: string; message?: string };
                    if (attempt < PROFILE_RETRIES && e.name === "InvalidParameterValue" && /iam instance profile/i.test(e.message ?? "")) {
                        await deps.sleep(10_000);
                        continue;
                    }
                    throw error;
                }
            }
        }, (id) => id);
        report.instanceId = instanceId;

        await step("target running and online in SSM", () => until("the target online in SSM", 15, async () => {
            const described = await deps.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
            if (described.Reservations?.[0]?.Instances?.[0]?.State?.Name !== "running") return undefined;
            const info = await deps.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [instanceId] }] }));
            return info.InstanceInformationList?.[0]?.PingStatus === "Online" ? true : undefined;
        }));

        const account = ["--region", options.region, "--table", outputs.casesTableName];
        await step("start the response (dfir respond)", async () => {
            const run = await deps.dfir(["respond", instanceId, "--reason", `aws-dfir e2e run ${runId}`, "--state-machine", outputs.stateMachineArn, ...account, "--json"]);
            if (run.code !== 0) throw new Error(`dfir respond exited ${run.code}: ${run.stderr.trim()}`);
            const started = JSON.parse(run.stdout) as { executionArn?: string; verdict?: { decision?: string; reason?: string } };
            if (started.verdict?.decision !== "respond" || !started.executionArn) throw new Error(`dfir respond started nothing: ${started.verdict?.reason ?? run.stdout.trim()}`);
            return started.executionArn;
        }, (arn) => arn);

        const sealed = await step("case sealed", () => until("the case sealed", options.caseTimeoutMinutes, async () => {
            const run = await deps.dfir(["cases", "--json", ...account]);
            if (run.code !== 0) throw new Error(`dfir cases exited ${run.code}: ${run.stderr.trim()}`);
            const mine = (JSON.parse(run.stdout) as { caseId: string; instanceId?: string; status: string; sealedAt?: string }[])
                .find((c) => c.instanceId === instanceId);
            return mine?.sealedAt ? mine : undefined;
        }), (c) => `${c.caseId}: ${c.status}`);
        report.caseId = sealed.caseId;
        report.caseStatus = sealed.status;
        report.left.push(`the evidence of case ${sealed.caseId}: objects in ${outputs.evidenceBucket} and locked snapshots, until their 1-day retention ends`);

        await step("dfir verify", async () => {
            const run = await deps.dfir(["verify", sealed.caseId, "--json", ...account]);
            const verified = run.stdout.trim() ? (JSON.parse(run.stdout) as { ok?: boolean; problems?: string[] }) : undefined;
            if (run.code !== 0 || verified?.ok !== true) throw new Error(`dfir verify exited ${run.code}: ${verified?.problems?.[0] ?? run.stderr.trim()}`);
        });
        await step("dfir release --yes", async () => {
            const run = await deps.dfir(["release", sealed.caseId, "--yes", "--json", ...account]);
            if (run.code !== 0) throw new Error(`dfir release exited ${run.code}: ${run.stderr.trim() || run.stdout.trim()}`);
        });
        report.ok = sealed.status === "SUCCEEDED";
        if (!report.ok) report.steps.push({ name: "case status", ok: false, seconds: 0, detail: `sealed as ${sealed.status}, expected SUCCEEDED` });
    } catch (error) {
        if (!(error instanceof StepFailure)) throw error;
    } finally {
        if (options.keep) {
            if (report.instanceId) report.left.push(`the target instance ${report.instanceId} (--keep)`);
            if (created.role) report.left.push(`the role and instance profile ${roleName} (--keep)`);
        } else {
            await cleanUp(deps, report, roleName, partition, created);
        }
    }
    return report;
}

/** Deletes the target instance and its role, each step on its own: one that fails is named in `left`, the rest go on. */
async function cleanUp(deps: E2eDeps, report: E2eReport, roleName: string, partition: string, created: { role: boolean; policy: boolean; profile: boolean; inProfile: boolean }): Promise<void> {
    const attempt = async (what: string, body: () => Promise<unknown>) => {
        try {
            await body();
        } catch (error) {
            report.left.push(`${what}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
        }
    };
    const instanceId = report.instanceId;
    if (instanceId) {
        await attempt(`the target instance ${instanceId} (not terminated)`, async () => {
            // Containment turns termination protection on; release turns it off, unless release did not run. A protected
            // instance cannot be terminated (EC2 User Guide, "Enable termination protection for an instance").
            await deps.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: false } }));
            await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
        });
    }
    if (created.inProfile) await attempt(`role ${roleName} in its instance profile`, () => deps.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: roleName, RoleName: roleName })));
    if (created.profile) await attempt(`instance profile ${roleName}`, () => deps.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: roleName })));
    if (created.policy) await attempt(`the SSM policy on role ${roleName}`, () => deps.iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: `arn:${partition}:iam::aws:${SSM_MANAGED_POLICY}` })));
    if (created.role) {
        await attempt(`role ${roleName}`, async () => {
            // The response's credential revocation puts an inline deny on the instance's role; release takes it off,
            // unless release did not run. A role with an inline policy cannot be deleted (IAM API Reference, DeleteRole:
            // inline policies, attached managed policies and instance profiles must be removed first).
            const inline = (await deps.iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
            for (const PolicyName of inline) await deps.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName }));
            await deps.iam.send(new DeleteRoleCommand({ RoleName: roleName }));
        });
    }
}
