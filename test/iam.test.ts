/**
 * The drill evaluates IAM (drill/sim/iam): every simulated call is authorized against the policies the program
 * deploys, as the role it runs as. Every scenario ends as it did and with nothing denied; a role missing a
 * permission the response needs shows the denied call and fails the step as AWS would; resource, trust and key
 * policies decide as AWS decides; and no deployed code path imports the (AGPL) evaluator.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateSnapshotsCommand, CreateTagsCommand, ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { runDrill, seedAccount, type DrillReport } from "../drill/run";
import { SCENARIOS, type ScenarioName } from "../drill/scenarios";
import { SimulatedAccount } from "../drill/sim";
import { client, setClientCustomizer } from "../functions/lib/aws";
import { clearIamCaches, evaluateThroughRunSimulation, observeEvaluations, type IamDecision, type IamRequest } from "../drill/sim/iam/index";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";
import { handler as memoryHandler } from "../functions/memory/index";
import { analystAccessRoleArn } from "../core/memberPolicies";

const REPO = path.resolve(__dirname, "..");
const finding = (): unknown => JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8"));
const SMALL = { memoryBytes: 256 * 1024 };

/** Each scenario's status as it ended before IAM was evaluated (the reason's first words). */
const BEFORE: Record<ScenarioName, [string, RegExp]> = {
    "ssm-offline": ["PARTIAL", /^memory missing: ssm-agent-offline/],
    "snapshot-error": ["PARTIAL", /^disk missing: SnapshotFailedError/],
    throttling: ["SUCCEEDED", /^isolated; evidence complete$/],
    "instance-terminated": ["FAILED", /^containment failed: InstanceTerminatedError/],
    "already-isolated": ["SUCCEEDED", /^already isolated; evidence complete$/],
    "in-asg": ["SUCCEEDED", /^isolated; evidence complete$/],
    "approval-required": ["SUCCEEDED", /^isolated; evidence complete$/],
    "approval-timeout": ["SUCCEEDED", /^isolated; evidence complete$/],
    "approval-denied": ["PARTIAL", /^evidence only \(containment not approved \(drill-responder\)\); memory missing: capture-failed: Failed exit 13/],
    "cross-account": ["SUCCEEDED", /^isolated; evidence complete$/],
    "cross-account-role-missing": ["FAILED", /^case not opened: CrossAccountRoleError: cannot assume arn:aws:iam::\d{12}:role\/dfir-responder: AccessDenied/],
    "copy-to-hub": ["SUCCEEDED", /^isolated; evidence complete$/],
    "copy-to-hub-failed": ["PARTIAL", /^disk copy to hub: SnapshotCopyFailedError/],
    windows: ["PARTIAL", /^memory missing: windows: avml is Linux-only/],
    "memory-hash-mismatch": ["PARTIAL", /^memory missing: HashMismatchError/],
    "revocation-at-scale": ["SUCCEEDED", /^isolated; evidence complete$/],
    "spot-instance": ["PARTIAL", /^containment incomplete: ec2:ModifyInstanceAttribute \S+ failed \(UnsupportedOperation: Modifying 'disableApiTermination' is not supported for spot instances/],
    "ip-target-group": ["SUCCEEDED", /^isolated; evidence complete$/],
    "nat-tracked-flow": ["SUCCEEDED", /^isolated; evidence complete$/],
    "multi-vpc-eni": ["SUCCEEDED", /^isolated; evidence complete$/],
    "agent-cached-credentials": ["SUCCEEDED", /^isolated; evidence complete$/],
    "long-snapshot": ["SUCCEEDED", /^isolated; evidence complete$/],
    "volume-tag-overflow": ["SUCCEEDED", /^isolated; evidence complete$/],
    "cmk-volume": ["SUCCEEDED", /^isolated; evidence complete$/],
    "cmk-volume-no-iam": ["PARTIAL", /^disk copy to hub: SnapshotCopyFailedError: copy into the hub failed: KMS key arn:aws:kms:\S+:key\/\S+ \(the source snapshot's\): its key policy does not let the account's IAM policies use it/],
    graviton: ["SUCCEEDED", /^isolated; evidence complete$/],
    "huge-memory": ["SUCCEEDED", /^isolated; evidence complete$/],
    "evidence-deleted": ["SUCCEEDED", /^isolated; evidence complete$/],
    "signing-key-disabled": ["PARTIAL", /^isolated; evidence complete; manifest signature: not signed: DisabledException/],
    "evidence-read": ["SUCCEEDED", /^isolated; evidence complete$/],
    "large-disk": ["SUCCEEDED", /^isolated; evidence complete$/],
};

describe("drill: IAM evaluated on every call, as the program deploys it", function () {
    this.timeout(60000);

    /**
     * Denials a scenario is about, made by a policy the program does not deploy: cmk-volume-no-iam's volume key,
     * whose key policy does not let the account's IAM policies use it (EBS's use of it for the member copy).
     */
    const DENIED_BY_DESIGN: Partial<Record<ScenarioName, (d: DrillReport["iamDenied"][number]) => boolean>> = {
        "cmk-volume-no-iam": (d) => (d.call === "ec2:CopySnapshot" || d.call === "ebs:GetSnapshotBlock") && /^kms:/.test(d.action) && /^implicit deny: the resource policy key policy of arn:aws:kms:\S+:key\/\S+ does not allow it$/.test(d.reason),
    };

    for (const scenario of SCENARIOS) {
        it(`${scenario}: ends as before, nothing denied${DENIED_BY_DESIGN[scenario] ? " but by the customer's key policy" : ""}`, async () => {
            const report = await runDrill({ finding: finding(), scenario, simOptions: SMALL });
            const [status, reason] = BEFORE[scenario];
            assert.equal(report.status, status, report.reason);
            assert.match(report.reason, reason);
            const byDesign = DENIED_BY_DESIGN[scenario];
            if (byDesign) assert.ok(report.iamDenied.length > 0, "the scenario's denial happened");
            assert.deepEqual(report.iamDenied.filter((d) => !byDesign?.(d)), [], JSON.stringify(report.iamDenied, null, 1));
        });
    }

    it("every call ran as a deployed role: the functions' own, the state machine's, the responder's after AssumeRole", async () => {
        const sim = seedAccount({ finding: finding(), scenario: "cross-account", simOptions: SMALL });
        const report = await runDrill({ finding: finding(), scenario: "cross-account", sim });
        assert.equal(report.status, "SUCCEEDED");
        const principals = new Set(sim.calls.map((c) => (c as { principal?: string }).principal));
        const home = sim.homeAccountId;
        const member = sim.instanceAccountId;
        assert.ok(principals.has(`arn:aws:iam::${home}:role/dfir-response-${sim.region}-case`), [...principals].join(" "));
        assert.ok(principals.has(`arn:aws:iam::${home}:role/dfir-response-${sim.region}-seal`));
        assert.ok(principals.has(`arn:aws:iam::${home}:role/dfir-response-${sim.region}-state-machine`), "the notification is the state machine's");
        assert.ok(principals.has(`arn:aws:iam::${member}:role/dfir-responder`));
        assert.ok(!principals.has(undefined), "no call without a principal");
        assert.ok(!principals.has(sim.analystRoleArn), "no call of the drill ran as the analyst");
    });
});

describe("drill: a role without a permission the response needs", function () {
    this.timeout(60000);
    let report: DrillReport;

    before(async () => {
        const sim = seedAccount({ finding: finding(), simOptions: SMALL });
        // The snapshot function's role loses its CreateSnapshots statement (as a hand edit would leave it).
        const role = sim.functionRoleArn("snapshot") as string;
        const name = role.split("/").pop() as string;
        const policy = JSON.parse(sim.rolePolicies(name, sim.homeAccountId)[name] as string) as { Statement: { Sid?: string }[] };
        assert.ok(policy.Statement.some((st) => st.Sid === "CreateSnapshots"));
        policy.Statement = policy.Statement.filter((st) => st.Sid !== "CreateSnapshots");
        sim.setRolePolicy(role, name, JSON.stringify(policy));
        report = await runDrill({ finding: finding(), sim });
    });

    it("lists the denied call with the role, the action, the resource and why", () => {
        assert.ok(report.iamDenied.length >= 1);
        const denied = report.iamDenied[0];
        assert.equal(denied.call, "ec2:CreateSnapshots");
        assert.equal(denied.action, "ec2:CreateSnapshots");
        assert.match(denied.principal, /:role\/dfir-response-snapshot$/);
        assert.match(denied.resource, /^arn:aws:ec2:[a-z0-9-]+:\d{12}:instance\/i-/);
        assert.match(denied.reason, /^implicit deny: no statement of dfir-response-snapshot\/dfir-response-snapshot allows it$/);
    });

    it("fails the call as EC2 does (UnauthorizedOperation) and the case is PARTIAL with disk evidence missing", () => {
        const call = report.calls.find((c) => c.action === "ec2:CreateSnapshots");
        assert.ok(call && !call.ok);
        assert.match(call.error ?? "", /^UnauthorizedOperation: You are not authorized to perform this operation\./);
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /disk missing: UnauthorizedOperation/);
    });
});

describe("simulator: resource, trust and key policies decide as AWS decides", function () {
    this.timeout(60000);
    let sim: SimulatedAccount | undefined;
    afterEach(() => {
        sim?.uninstall();
        sim = undefined;
        setClientCustomizer(undefined);
    });

    it("the evidence bucket denies deleting a version to every caller but the break-glass role", async () => {
        const breakGlass = "arn:aws:iam::123456789012:role/dfir-break-glass";
        sim = SimulatedAccount.fromFinding(finding(), { ...SMALL, accountId: "123456789012", breakGlassRoleArn: breakGlass });
        sim.install();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        const put = await s3.send(new PutObjectCommand({ Bucket, Key: "cases/c1/x.json", Body: "{}" }));
        await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket, Key: "cases/c1/x.json", VersionId: put.VersionId })), (e: Error) => {
            assert.equal(e.name, "AccessDenied");
            assert.match(e.message, /explicit deny: resource policy .*DenyEvidenceTampering/);
            return true;
        });
        assert.equal(sim.iamDenied.at(-1)?.action, "s3:DeleteObjectVersion");
        // The break-glass role passes the bucket policy; Object Lock (COMPLIANCE) still refuses.
        await assert.rejects(sim.runAs(breakGlass, () => s3.send(new DeleteObjectCommand({ Bucket, Key: "cases/c1/x.json", VersionId: put.VersionId }))), (e: Error) => {
            assert.match(e.message, /object lock/i);
            return true;
        });
    });

    it("a missing key reads 404 only to a caller allowed s3:ListBucket on it (s3:prefix = the key), 403 otherwise", async () => {
        sim = SimulatedAccount.fromFinding(finding(), SMALL);
        sim.install();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        const status = async (role: string | undefined, command: HeadObjectCommand | GetObjectCommand): Promise<number | undefined> => {
            try {
                await sim!.runAs(role as string, () => s3.send(command as HeadObjectCommand));
                return 200;
            } catch (error) {
                return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
            }
        };
        const memory = sim.functionRoleArn("memory");
        // The memory function may list tools/ only: a missing build is 404; it reads cases/ but may not list it: 403.
        assert.equal(await status(memory, new HeadObjectCommand({ Bucket, Key: "tools/avml-x86_64-0000000000000000" })), 404);
        assert.equal(await status(memory, new GetObjectCommand({ Bucket, Key: "tools/avml-x86_64-0000000000000000" })), 404);
        assert.equal(await status(memory, new HeadObjectCommand({ Bucket, Key: "cases/c1/memory/i-0.lime" })), 403);
        assert.equal(await status(memory, new GetObjectCommand({ Bucket, Key: "cases/c1/memory/i-0.lime" })), 403);
        assert.equal(await status(memory, new HeadObjectCommand({ Bucket, Key: sim.deployment.avml.x86_64!.key })), 200);
        // The analyst, an administrator, may list anything.
        assert.equal(await status(sim.analystRoleArn, new HeadObjectCommand({ Bucket, Key: "cases/c1/memory/i-0.lime" })), 404);
        assert.deepEqual(sim.iamDenied, [], "S3 hiding a missing key is not a denial of the call");
    });

    it("the memory preflight tells a build missing from the bucket (avml-not-staged) from one it may not see (avml-not-readable)", async () => {
        sim = SimulatedAccount.fromFinding(finding(), SMALL);
        const env = { ...sim.environment(), AVML_X86_64_KEY: "tools/avml-x86_64-0000000000000000" };
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        const log = console.log;
        Object.assign(process.env, env);
        console.log = () => undefined;
        sim.install();
        try {
            const memory = sim.functionRoleArn("memory") as string;
            const event = {
                action: "start",
                caseId: "c1",
                target: sim.target(),
                instance: { instanceId: sim.instanceId, platform: "linux", architecture: "x86_64" },
                evidence: { bucket: sim.deployment.evidenceBucket, prefix: "cases/c1/" },
            };
            assert.deepEqual(await sim.runAs(memory, () => memoryHandler(event)), { status: "missing", reason: "avml-not-staged" });
            // Without its ListBucket grant, S3 answers 403 for the same missing key.
            const name = memory.split("/").pop() as string;
            const policy = JSON.parse(sim.rolePolicies(name, sim.homeAccountId)[name] as string) as { Statement: { Sid?: string }[] };
            assert.ok(policy.Statement.some((st) => st.Sid === "TellMissingToolFromForbidden"));
            policy.Statement = policy.Statement.filter((st) => st.Sid !== "TellMissingToolFromForbidden");
            sim.setRolePolicy(memory, name, JSON.stringify(policy));
            assert.deepEqual(await sim.runAs(memory, () => memoryHandler(event)), { status: "missing", reason: "avml-not-readable" });
            assert.equal(sim.calls.filter((c) => c.action === "ssm:SendCommand").length, 0, "nothing sent");
        } finally {
            console.log = log;
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    });

    it("Contain may move an interface into a response group only (a group tagged dfir:role isolation or untrack)", async () => {
        sim = SimulatedAccount.fromFinding(finding(), SMALL);
        sim.install();
        const ec2 = client("ec2", { region: sim.region });
        const instance = sim.instance();
        const eni = instance.networkInterfaces[0].networkInterfaceId;
        const other = instance.networkInterfaces[0].groupIds[0];
        await assert.rejects(sim.runAs(sim.functionRoleArn("contain"), () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [other] }))), (e: Error) => {
            assert.equal(e.name, "UnauthorizedOperation");
            return true;
        });
        assert.equal(sim.iamDenied.at(-1)?.resource, `arn:aws:ec2:${sim.region}:${sim.instanceAccountId}:security-group/${other}`);
        const isolation = sim.deployment.isolationGroups[instance.vpcId];
        await sim.runAs(sim.functionRoleArn("contain"), () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [isolation] })));
        // The triage function may not touch instances at all.
        await assert.rejects(sim.runAs(sim.functionRoleArn("triage"), () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [isolation] }))), /UnauthorizedOperation|not authorized/);
    });

    it("the snapshot function may add a volume's tags to an evidence snapshot after creation, never a dfir:* key, never on another snapshot", async () => {
        sim = SimulatedAccount.fromFinding(finding(), SMALL);
        sim.install();
        const ec2 = client("ec2", { region: sim.region });
        const asSnapshot = <T>(f: () => Promise<T>) => sim!.runAs(sim!.functionRoleArn("snapshot"), f);
        const made = await asSnapshot(() => ec2.send(new CreateSnapshotsCommand({
            InstanceSpecification: { InstanceId: sim!.instanceId },
            TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "dfir:case-id", Value: "c1" }, { Key: "dfir:instance-id", Value: sim!.instanceId }, { Key: "dfir:evidence", Value: "disk" }] }],
        })));
        const evidence = String(made.Snapshots?.[0]?.SnapshotId);
        const tag = (id: string, Key: string) => asSnapshot(() => ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "Name", Value: "n" }, { Key, Value: "v" }] })));
        await tag(evidence, "volume:dfir:case-id");
        for (const key of ["dfir:case-id", "dfir:source-snapshot"]) {
            await assert.rejects(tag(evidence, key), (e: Error) => e.name === "UnauthorizedOperation");
            assert.equal(sim.iamDenied.at(-1)?.action, "ec2:CreateTags");
        }
        // A snapshot that is not evidence (here: taken without the case's tags, by the analyst).
        const other = String((await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } }))).Snapshots?.[0]?.SnapshotId);
        await assert.rejects(tag(other, "team"), (e: Error) => e.name === "UnauthorizedOperation");
        assert.equal(sim.snapshots().find((v) => v.snapshotId === evidence)?.tags["dfir:case-id"], "c1");
    });

    it("a member's responder role admits only the hub's member-acting function roles (trust policy), with the functions' session name", async () => {
        sim = SimulatedAccount.fromFinding(finding(), { ...SMALL, crossAccount: true });
        sim.install();
        const roleArn = sim.target().roleArn as string;
        const sts = client("sts", { region: sim.region });
        const assume = (RoleSessionName: string) => sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName, DurationSeconds: 3600 }));
        await sim.runAs(sim.functionRoleArn("metadata"), () => assume("aws-dfir-responder"));
        for (const [who, session] of [["triage", "aws-dfir-responder"], ["seal", "aws-dfir-responder"], ["contain", "someone-else"]] as const) {
            await assert.rejects(sim.runAs(sim.functionRoleArn(who), () => assume(session)), (e: Error) => {
                assert.equal(e.name, "AccessDenied", who);
                return true;
            });
        }
        assert.match(sim.iamDenied.at(-1)?.reason ?? "", /trust policy/);
        // The analysts (dfir:analystRoleArns) never assume the responder role, whatever the session name: they have
        // the member's analyst access role, with what plan, verify and release need.
        await assert.rejects(assume("aws-dfir-responder"), /AccessDenied/);
        const accessArn = analystAccessRoleArn("aws", sim.instanceAccountId);
        await sts.send(new AssumeRoleCommand({ RoleArn: accessArn, RoleSessionName: "dfir-cli", DurationSeconds: 3600 }));
        await assert.rejects(sim.runAs(sim.functionRoleArn("contain"), () => sts.send(new AssumeRoleCommand({ RoleArn: accessArn, RoleSessionName: "aws-dfir-responder" }))), /AccessDenied/);
    });
});

describe("simulator: the evaluator's fast path answers as its public runSimulation does", function () {
    this.timeout(60000);

    it("every decision of a cross-account copy-to-hub drill, and of a denied one, is runSimulation's", async () => {
        const seen: [IamRequest, IamDecision][] = [];
        clearIamCaches();
        observeEvaluations((r, d) => seen.push([r, d]));
        try {
            await runDrill({ finding: finding(), scenario: "copy-to-hub", simOptions: SMALL });
            await runDrill({ finding: finding(), scenario: "in-asg", simOptions: SMALL });
            const sim = seedAccount({ finding: finding(), simOptions: SMALL });
            const role = sim.functionRoleArn("contain") as string;
            sim.setRolePolicy(role, role.split("/").pop() as string, JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:Describe*", Resource: "*" }] }));
            await runDrill({ finding: finding(), sim });
        } finally {
            observeEvaluations(undefined);
        }
        assert.ok(seen.length > 100, `${seen.length} decisions`);
        assert.ok(seen.some(([, d]) => !d.allowed), "some denied");
        for (const [request, decision] of seen) {
            const slow = await evaluateThroughRunSimulation(request);
            assert.equal(decision.result, slow.result, `${request.action} on ${request.resource} as ${request.principalArn}`);
        }
    });
});

describe("the IAM evaluator stays out of what is deployed", () => {
    /** Every repository module reachable by static imports from the entry points, and every package they import. */
    function reachable(entries: string[]): { files: Set<string>; packages: Set<string> } {
        const files = new Set<string>();
        const packages = new Set<string>();
        const queue = entries.map((e) => path.join(REPO, e));
        while (queue.length > 0) {
            const file = queue.pop() as string;
            if (files.has(file)) continue;
            files.add(file);
            const text = fs.readFileSync(file, "utf8");
            for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|require\(\s*["']([^"']+)["']\s*\)|import\(\s*["']([^"']+)["']\s*\)/g)) {
                const spec = (m[1] ?? m[2] ?? m[3]) as string;
                if (!spec.startsWith(".")) {
                    packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string));
                    continue;
                }
                const base = path.resolve(path.dirname(file), spec);
                const hit = [`${base}.ts`, path.join(base, "index.ts"), base].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
                if (hit && hit.endsWith(".ts")) queue.push(hit);
            }
        }
        return { files, packages };
    }

    it("no module of the program, the policy pack or a Lambda handler reaches @cloud-copilot (AGPL) or the drill", () => {
        const handlers = fs.readdirSync(path.join(REPO, "functions")).filter((d) => fs.existsSync(path.join(REPO, "functions", d, "index.ts"))).map((d) => `functions/${d}/index.ts`);
        assert.ok(handlers.length >= 7, handlers.join(", "));
        const { files, packages } = reachable(["index.ts", "policy/index.ts", ...handlers]);
        assert.ok(files.size > 20, "the walk follows imports");
        assert.ok(packages.has("@pulumi/pulumi"), "packages are seen");
        assert.deepEqual([...packages].filter((p) => p.startsWith("@cloud-copilot")), []);
        assert.deepEqual([...files].map((f) => path.relative(REPO, f)).filter((f) => f.startsWith("drill/")), []);
        // And the evaluator is a devDependency only.
        const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
        assert.deepEqual(Object.keys(pkg.dependencies).filter((d) => d.startsWith("@cloud-copilot")), []);
        assert.ok(pkg.devDependencies["@cloud-copilot/iam-simulate"]);
    });
});
