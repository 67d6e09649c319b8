/**
 * The real-AWS end-to-end run (`npm run e2e`, scripts/lib/e2e/): it cannot run here, so its steps run against mocked
 * AWS clients, a fake Pulumi stack and a fake `dfir`, on a fake clock.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { TS_REGISTER } from "../scripts/lib/tsRegister";
import { mockClient } from "aws-sdk-client-mock";
import {
    DescribeInstancesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client, ModifyInstanceAttributeCommand, RunInstancesCommand,
    TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
    AddRoleToInstanceProfileCommand, AttachRolePolicyCommand, CreateInstanceProfileCommand, CreateRoleCommand, DeleteInstanceProfileCommand,
    DeleteRoleCommand, DeleteRolePolicyCommand, DetachRolePolicyCommand, IAMClient, ListRolePoliciesCommand, RemoveRoleFromInstanceProfileCommand,
} from "@aws-sdk/client-iam";
import { DescribeInstanceInformationCommand, GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { dfirKeys, parseDfirConfig } from "../core/config";
import { e2ePlanText, e2eStackConfig, parseE2eArgs } from "../scripts/lib/e2e/options";
import { AL2023_AMI_PARAMETER, runE2e, type E2eDeps } from "../scripts/lib/e2e/run";

const REGION = "eu-west-1";
const INSTANCE = "i-0123456789abcdef0";
const OUTPUTS = { stateMachineArn: "arn:aws:states:eu-west-1:111122223333:stateMachine:dfir", casesTableName: "dfir-cases", evidenceBucket: "dfir-evidence-x" };

interface World {
    deps: E2eDeps;
    ec2: ReturnType<typeof mockClient>;
    iam: ReturnType<typeof mockClient>;
    ssm: ReturnType<typeof mockClient>;
    dfirCalls: string[][];
    configs: Record<string, { value: string }>[];
    slept: number[];
}

/** The mocks of the running test, restored after it. */
const mocks: { restore(): void }[] = [];

/** A world where every step succeeds unless `change` says otherwise. */
function world(change: { dfir?: (argv: string[], n: number) => { code: number; stdout: string; stderr?: string } | undefined; upFails?: boolean } = {}): World {
    const ec2 = mockClient(EC2Client);
    const iam = mockClient(IAMClient);
    const ssm = mockClient(SSMClient);
    const sts = mockClient(STSClient);
    mocks.push(ec2, iam, ssm, sts);
    sts.on(GetCallerIdentityCommand).resolves({ Account: "111122223333", Arn: "arn:aws:iam::111122223333:user/tester" });
    ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: "vpc-0123456789abcdef0" }] });
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [
        { SubnetId: "subnet-b", AvailabilityZone: "eu-west-1b" }, { SubnetId: "subnet-a", AvailabilityZone: "eu-west-1a" }, { SubnetId: "subnet-c", AvailabilityZone: "eu-west-1a" },
    ] });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: "ami-0abc" } });
    // IAM has not propagated the new profile at the first RunInstances, as happens in a real account.
    ec2.on(RunInstancesCommand)
        .rejectsOnce(Object.assign(new Error("Value (dfir-e2e-target-x) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"), { name: "InvalidParameterValue" }))
        .resolves({ Instances: [{ InstanceId: INSTANCE }] });
    ec2.on(DescribeInstancesCommand)
        .resolvesOnce({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: "pending" } }] }] })
        .resolves({ Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: "running" } }] }] });
    ssm.on(DescribeInstanceInformationCommand).resolvesOnce({ InstanceInformationList: [] }).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: "Online" }] });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ["dfir-revoke-sessions"] });
    const dfirCalls: string[][] = [];
    const configs: Record<string, { value: string }>[] = [];
    const slept: number[] = [];
    let clock = Date.parse("2026-12-07T10:00:00Z");
    const deps: E2eDeps = {
        openStack: async () => ({
            up: async (config) => {
                configs.push(config);
                if (change.upFails) throw new Error("pulumi up failed: 1 error");
                return { ...OUTPUTS };
            },
        }),
        ec2: new EC2Client({ region: REGION }),
        ssm: new SSMClient({ region: REGION }),
        iam: new IAMClient({ region: REGION }),
        sts: new STSClient({ region: REGION }),
        dfir: async (argv) => {
            dfirCalls.push(argv);
            const changed = change.dfir?.(argv, dfirCalls.length);
            if (changed) return { stderr: "", ...changed };
            switch (argv[0]) {
                case "respond": return { code: 0, stdout: `${JSON.stringify({ instanceId: argv[1], verdict: { decision: "respond", reason: "actionable: manual request" }, executionArn: `${OUTPUTS.stateMachineArn.replace(":stateMachine:", ":execution:")}:manual-1` })}\n`, stderr: "" };
                case "cases": {
                    const sealed = dfirCalls.filter((c) => c[0] === "cases").length > 1;
                    return { code: 0, stdout: JSON.stringify([{ caseId: "case-1", instanceId: INSTANCE, status: sealed ? "SUCCEEDED" : "OPEN", ...(sealed ? { sealedAt: "2026-12-07T10:20:00Z" } : {}) }]), stderr: "" };
                }
                case "verify": return { code: 0, stdout: JSON.stringify({ ok: true, problems: [] }), stderr: "" };
                case "release": return { code: 0, stdout: JSON.stringify({ ok: true }), stderr: "" };
                default: return { code: 2, stdout: "", stderr: `unknown ${argv[0]}` };
            }
        },
        sleep: async (ms) => {
            slept.push(ms);
            clock += ms;
        },
        now: () => new Date(clock),
        log: () => undefined,
    };
    return { deps, ec2, iam, ssm, dfirCalls, configs, slept };
}

const OPTIONS = parseE2eArgs(["--region", REGION, "--yes"]);

afterEach(() => {
    for (const mock of mocks.splice(0)) mock.restore();
});

describe("npm run e2e: the command line and the test stack", () => {
    it("needs a region; takes defaults; refuses bad values and unknown arguments with one line", () => {
        assert.deepEqual(parseE2eArgs(["--region", REGION]), { region: REGION, stack: `e2e-${REGION}`, instanceType: "t3.small", caseTimeoutMinutes: 60, keep: false, yes: false });
        assert.equal(parseE2eArgs([], { AWS_REGION: "us-east-2" }).region, "us-east-2");
        assert.equal(parseE2eArgs(["--region", REGION, "--avml", "tools/avml"], {}, () => true).avml, path.resolve("tools/avml"), "made absolute");
        const refusals: [string[], RegExp][] = [
            [[], /--region is required/],
            [["--region", "mars-1"], /--region "mars-1"/],
            [["--region", REGION, "--vpc", "vpc-1"], /is not a VPC id/],
            [["--region", REGION, "--case-timeout", "0"], /whole number of minutes/],
            [["--region", REGION, "--destroy"], /unknown argument "--destroy"/],
            [["--region"], /--region needs a value/],
            [["--region", REGION, "--region", REGION], /given twice/],
            [["--region", REGION, "--avml", "/no/such/avml"], /--avml "\/no\/such\/avml": no such file/],
        ];
        for (const [argv, pattern] of refusals) {
            assert.throws(() => parseE2eArgs(argv), (error: Error) => error.name === "E2eUsageError" && pattern.test(error.message) && !error.message.includes("\n"), argv.join(" "));
        }
    });

    it("configures a stack the program accepts: 1-day evidence, GuardDuty left alone, endpoints created, avml when given", () => {
        const flat = (c: Record<string, { value: string }>) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.value]));
        const config = parseDfirConfig(dfirKeys(flat(e2eStackConfig({ region: REGION, avml: "/tmp/avml" }, "vpc-0123456789abcdef0"))));
        assert.equal(config.evidenceRetentionDays, 1);
        assert.equal(config.manageDetector, false);
        assert.equal(config.createEndpoints, true);
        assert.equal(config.vpcId, "vpc-0123456789abcdef0");
        assert.deepEqual(config.avml, { x86_64: "/tmp/avml" });
        assert.equal(e2eStackConfig({ region: REGION }, "vpc-0123456789abcdef0")["dfir:avml"], undefined);
    });

    it("npm run e2e without --yes prints the plan and exits 0 without AWS credentials; bad input exits 2 with one line", () => {
        const run = (...args: string[]) => spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/e2e.ts", ...args], {
            cwd: path.join(__dirname, ".."), encoding: "utf8",
            env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? "" },
        });
        const plan = run("--region", REGION);
        assert.equal(plan.status, 0, plan.stderr);
        assert.equal(plan.stdout, "");
        assert.match(plan.stderr, /^aws-dfir end-to-end run in eu-west-1 \(stack e2e-eu-west-1, the default VPC\)/);
        assert.match(plan.stderr, /Nothing created\./);
        const bad = run("--region", REGION, "--vpc", "nope", "--yes");
        assert.deepEqual([bad.status, bad.stdout, bad.stderr], [2, "", 'e2e: --vpc "nope" is not a VPC id (vpc-...)\n']);
    });

    it("without --yes the plan says what is created, what stays (the locked evidence, the stack) and what is billed", () => {
        const text = e2ePlanText(parseE2eArgs(["--region", REGION]), 3);
        assert.match(text, /3 interface endpoints \(ssm, ssmmessages, ec2messages\) x 3 AZ\(s\)/);
        assert.match(text, /It does NOT destroy the test stack/);
        assert.match(text, /Nothing created\. Run again with --yes/);
    });
});

describe("npm run e2e: the run against mocked AWS", () => {
    it("deploys, launches, responds, waits for the sealed case, verifies, releases, then deletes the target and its role", async () => {
        const w = world();
        const report = await runE2e(OPTIONS, w.deps);

        assert.equal(report.ok, true, JSON.stringify(report.steps));
        assert.deepEqual(report.steps.map((s) => [s.name, s.ok]), [
            ["credentials", true], ["VPC and subnet", true], ["deploy the test stack", true], ["target role and instance profile", true],
            ["launch the target instance", true], ["target running and online in SSM", true], ["start the response (dfir respond)", true],
            ["case sealed", true], ["dfir verify", true], ["dfir release --yes", true],
        ]);
        assert.deepEqual([report.instanceId, report.caseId, report.caseStatus], [INSTANCE, "case-1", "SUCCEEDED"]);
        // The first AZ's first subnet; the default VPC asked for by its filter.
        assert.equal(w.ec2.commandCalls(RunInstancesCommand)[1].args[0].input.SubnetId, "subnet-a");
        assert.deepEqual(w.ec2.commandCalls(DescribeVpcsCommand)[0].args[0].input.Filters, [{ Name: "is-default", Values: ["true"] }]);
        assert.equal(w.ec2.commandCalls(RunInstancesCommand)[1].args[0].input.ImageId, "ami-0abc");
        assert.equal(w.ssm.commandCalls(GetParameterCommand)[0].args[0].input.Name, AL2023_AMI_PARAMETER);
        assert.equal(w.configs[0]["dfir:vpcId"].value, "vpc-0123456789abcdef0");
        // Every dfir command ran against the deployed stack's region and case table.
        assert.deepEqual(w.dfirCalls.map((c) => c[0]), ["respond", "cases", "cases", "verify", "release"]);
        for (const call of w.dfirCalls) assert.ok(call.join(" ").includes(`--region ${REGION} --table dfir-cases`), call.join(" "));
        assert.deepEqual(w.dfirCalls[0].slice(0, 2), ["respond", INSTANCE]);
        assert.equal(w.dfirCalls[0][w.dfirCalls[0].indexOf("--state-machine") + 1], OUTPUTS.stateMachineArn, "the deployed state machine");
        assert.match(report.steps[6]?.detail ?? "", /:execution:dfir:manual-1$/);
        assert.ok(w.dfirCalls[4].includes("--yes"));
        // Cleanup: termination protection off, terminated; the revocation's inline deny, the profile and the role deleted.
        assert.equal(w.ec2.commandCalls(ModifyInstanceAttributeCommand)[0].args[0].input.DisableApiTermination?.Value, false);
        assert.deepEqual(w.ec2.commandCalls(TerminateInstancesCommand)[0].args[0].input.InstanceIds, [INSTANCE]);
        assert.equal(w.iam.commandCalls(DeleteRolePolicyCommand)[0].args[0].input.PolicyName, "dfir-revoke-sessions");
        assert.deepEqual(
            [RemoveRoleFromInstanceProfileCommand, DeleteInstanceProfileCommand, DetachRolePolicyCommand, DeleteRoleCommand].map((command) => w.iam.commandCalls(command as never).length),
            [1, 1, 1, 1],
        );
        // What stays: the stack and the locked evidence, and nothing else.
        assert.equal(report.left.length, 2, report.left.join("\n"));
        assert.match(report.left[0], /the test stack e2e-eu-west-1/);
        assert.match(report.left[1], /evidence of case case-1/);
        assert.ok(w.slept.length >= 3, "waited for the profile, the instance and the case on the clock it was given");
    });

    it("a failed verification fails the run naming the problem; release is not run; the target is still deleted", async () => {
        const w = world({ dfir: (argv) => (argv[0] === "verify" ? { code: 1, stdout: JSON.stringify({ ok: false, problems: ["memory image: sha256 mismatch"] }) } : undefined) });
        const report = await runE2e(OPTIONS, w.deps);
        assert.equal(report.ok, false);
        const failed = report.steps.filter((s) => !s.ok);
        assert.deepEqual(failed.map((s) => [s.name, s.detail]), [["dfir verify", "dfir verify exited 1: memory image: sha256 mismatch"]]);
        assert.ok(!w.dfirCalls.some((c) => c[0] === "release"));
        assert.equal(w.ec2.commandCalls(TerminateInstancesCommand).length, 1);
        assert.equal(w.iam.commandCalls(DeleteRoleCommand).length, 1);
    });

    it("a respond the triage ignores starts nothing: the run fails there, naming why, and cleans up", async () => {
        const w = world({ dfir: (argv) => (argv[0] === "respond" ? { code: 0, stdout: JSON.stringify({ verdict: { decision: "ignore", reason: "manual-incomplete: no instance" } }) } : undefined) });
        const report = await runE2e(OPTIONS, w.deps);
        assert.equal(report.ok, false);
        assert.deepEqual(report.steps.filter((s) => !s.ok).map((s) => s.detail), ["dfir respond started nothing: manual-incomplete: no instance"]);
        assert.ok(!w.dfirCalls.some((c) => c[0] === "cases"));
        assert.equal(w.ec2.commandCalls(TerminateInstancesCommand).length, 1);
    });

    it("a case sealed PARTIAL is not a pass", async () => {
        const w = world({ dfir: (argv) => (argv[0] === "cases" ? { code: 0, stdout: JSON.stringify([{ caseId: "case-1", instanceId: INSTANCE, status: "PARTIAL", sealedAt: "x" }]) } : undefined) });
        const report = await runE2e(OPTIONS, w.deps);
        assert.equal(report.ok, false);
        assert.deepEqual(report.steps.at(-1), { name: "case status", ok: false, seconds: 0, detail: "sealed as PARTIAL, expected SUCCEEDED" });
    });

    it("a case never sealed fails after --case-timeout on the clock, and cleans up", async () => {
        const w = world({ dfir: (argv) => (argv[0] === "cases" ? { code: 0, stdout: "[]" } : undefined) });
        const report = await runE2e(parseE2eArgs(["--region", REGION, "--case-timeout", "5", "--yes"]), w.deps);
        assert.equal(report.ok, false);
        assert.deepEqual(report.steps.filter((s) => !s.ok).map((s) => s.detail), ["the case sealed: not within 5 minute(s)"]);
        assert.equal(w.ec2.commandCalls(TerminateInstancesCommand).length, 1);
    });

    it("a failed deploy creates nothing else and leaves nothing to delete", async () => {
        const w = world({ upFails: true });
        const report = await runE2e(OPTIONS, w.deps);
        assert.equal(report.ok, false);
        assert.deepEqual(report.steps.map((s) => [s.name, s.ok]), [["credentials", true], ["VPC and subnet", true], ["deploy the test stack", false]]);
        assert.equal(w.iam.commandCalls(CreateRoleCommand).length, 0);
        assert.equal(w.ec2.commandCalls(RunInstancesCommand).length, 0);
        assert.equal(w.ec2.commandCalls(TerminateInstancesCommand).length + w.iam.commandCalls(DeleteRoleCommand).length, 0);
        assert.deepEqual(report.left, []);
    });

    it("a cleanup step that fails is named in what is left; the others still run", async () => {
        const w = world();
        w.ec2.on(TerminateInstancesCommand).rejects(Object.assign(new Error("The instance may not be terminated."), { name: "OperationNotPermitted" }));
        const report = await runE2e(OPTIONS, w.deps);
        assert.ok(report.left.some((l) => l === `the target instance ${INSTANCE} (not terminated): The instance may not be terminated.`), report.left.join("\n"));
        assert.equal(w.iam.commandCalls(DeleteRoleCommand).length, 1);
    });

    it("--keep leaves the target and its role, and says so", async () => {
        const w = world();
        const report = await runE2e(parseE2eArgs(["--region", REGION, "--keep", "--yes"]), w.deps);
        assert.equal(report.ok, true);
        assert.equal(w.ec2.commandCalls(TerminateInstancesCommand).length + w.iam.commandCalls(DeleteRoleCommand).length, 0);
        assert.ok(report.left.some((l) => l.startsWith(`the target instance ${INSTANCE}`)));
        assert.ok(report.left.some((l) => /^the role and instance profile dfir-e2e-target-\d{14} \(--keep\)$/.test(l)));
    });

    it("creates the target's role for EC2 with only the SSM managed policy, and puts the role in the profile it launches with", async () => {
        const w = world();
        await runE2e(OPTIONS, w.deps);
        const role = w.iam.commandCalls(CreateRoleCommand)[0].args[0].input;
        assert.deepEqual(JSON.parse(role.AssumeRolePolicyDocument as string).Statement[0].Principal, { Service: "ec2.amazonaws.com" });
        assert.deepEqual(w.iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input.PolicyArn), ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]);
        const profile = w.iam.commandCalls(CreateInstanceProfileCommand)[0].args[0].input.InstanceProfileName;
        assert.equal(w.iam.commandCalls(AddRoleToInstanceProfileCommand)[0].args[0].input.InstanceProfileName, profile);
        assert.equal(w.ec2.commandCalls(RunInstancesCommand)[1].args[0].input.IamInstanceProfile?.Name, profile);
    });
});
