/**
 * The other triggers end to end: the drill runs the deployed definition on the ASFF, credential-exfiltration and
 * tag fixtures; `dfir respond` starts the simulated response on a kept account and the case records who and why.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { main } from "../cli/index";
import { runDrill, seedAccount } from "../drill/run";
import { SimulatedAccount } from "../drill/sim";
import { client } from "../functions/lib/aws";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { respond } from "../cli/respond";
import { openContext } from "../cli/context";
import { triage } from "../core/triage";

const REPO = path.resolve(__dirname, "..");
const load = (rel: string): unknown => JSON.parse(fs.readFileSync(path.join(REPO, "fixtures", rel), "utf8"));
/** A GuardDuty sample finding on instance i-99999999: triage ignores it, so the kept account has the instance and no case. */
const SAMPLE = "guardduty/Trojan_EC2_DriveBySourceTraffic_DNS.json";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false });
    return { code, stdout, stderr };
}

/** The case record and the sealed manifest of a kept account's case. */
async function caseOf(dir: string, caseId: string): Promise<{ item: Record<string, any>; manifest: any }> {
    const sim = SimulatedAccount.loadState(dir);
    sim.install();
    try {
        const ddb = client("dynamodb", { region: sim.deployment.region }) as DynamoDBClient;
        const item = (await ddb.send(new GetItemCommand({ TableName: sim.deployment.casesTable, Key: { pk: { S: `CASE#${caseId}` } } }))).Item as Record<string, any>;
        const s3 = client("s3", { region: sim.deployment.region }) as S3Client;
        const object = await s3.send(new GetObjectCommand({ Bucket: item.manifestBucket.S, Key: item.manifestKey.S }));
        return { item, manifest: JSON.parse(await object.Body!.transformToString()) };
    } finally {
        sim.uninstall();
    }
}

describe("triggers: the drill on the new fixtures", () => {
    const cases: Array<[string, string, string]> = [
        ["securityhub/Imported_EDR_HIGH_AwsEc2Instance.constructed.json", "securityhub", "SUCCEEDED"],
        ["triggers/GuardDuty_InstanceCredentialExfiltration.OutsideAWS.constructed.json", "credential-exfiltration", "SUCCEEDED"],
        ["triggers/Tag_Change_dfir_respond_contain.constructed.json", "tag", "SUCCEEDED"],
    ];
    for (const [file, trigger, status] of cases) {
        it(`${file}: ${trigger} response ends ${status}, every call allowed`, async () => {
            const report = await runDrill({ finding: load(file) });
            assert.equal(report.status, status, report.reason);
            assert.deepEqual(report.iamDenied, []);
            assert.equal(report.containment?.isolated, true);
        });
    }

    it("dfir:respond=evidence takes evidence and never contains (the case says why)", async () => {
        const report = await runDrill({ finding: load("triggers/Tag_Change_dfir_respond_evidence.constructed.json") });
        assert.match(report.reason, /^evidence only \(dfir:respond=evidence\)/);
        assert.equal(report.containment?.isolated, false);
        // The evidence was taken: every volume snapshotted and completed, the manifest sealed.
        assert.ok(report.evidence.snapshots.length > 0 && report.evidence.snapshots.every((s) => s.state === "completed"), JSON.stringify(report.evidence.snapshots));
        assert.ok(report.evidence.manifest, "the manifest is sealed");
        assert.deepEqual(report.iamDenied, []);
    });
});

describe("dfir respond", () => {
    let kept: string;
    const dirs: string[] = [];
    const copy = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-respond-"));
        fs.cpSync(kept, dir, { recursive: true });
        dirs.push(dir);
        return dir;
    };
    before(async () => {
        kept = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-respond-kept-"));
        const options = { finding: load(SAMPLE) };
        const sim = seedAccount(options);
        const report = await runDrill({ ...options, sim });
        assert.equal(report.status, "IGNORED");
        sim.saveState(kept);
    });
    after(() => {
        for (const dir of [kept, ...dirs]) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("--simulated: starts a response that ends sealed; the case record and the manifest hold the manual trigger, who and why", async () => {
        const dir = copy();
        const result = await run(["respond", "i-99999999", "--simulated", dir, "--reason", "test", "--json"]);
        assert.equal(result.code, 0, result.stderr);
        const out = JSON.parse(result.stdout);
        assert.equal(out.status, "SUCCEEDED", out.statusReason);
        assert.equal(out.verdict.trigger, "manual");
        assert.match(out.requestedBy, /^arn:aws:(sts|iam)::\d{12}:/);
        const { item, manifest } = await caseOf(dir, out.caseId);
        assert.equal(item.status.S, "SUCCEEDED");
        assert.equal(item.trigger.M.kind.S, "manual");
        assert.equal(item.trigger.M.requestedBy.S, out.requestedBy);
        assert.equal(item.trigger.M.reason.S, "test");
        assert.equal(manifest.findings.verdict.trigger, "manual");
        assert.equal(manifest.findings.verdict.requestReason, "test");
        assert.equal(manifest.findings.event.source, "dfir.manual");
    });

    it("on an instance whose case is still open (not released): the request joins that case, and says which", async () => {
        const dir = copy();
        const first = JSON.parse((await run(["respond", "i-99999999", "--simulated", dir, "--reason", "first", "--json"])).stdout);
        assert.equal(first.status, "SUCCEEDED", first.statusReason);
        const again = await run(["respond", "i-99999999", "--simulated", dir, "--reason", "again", "--json"]);
        assert.equal(again.code, 0, again.stderr);
        const out = JSON.parse(again.stdout);
        assert.match(out.statusReason, /^finding added to the open case/);
        assert.equal(out.caseId, first.caseId, "the open case it joined, not a new id");
        const { item } = await caseOf(dir, first.caseId);
        assert.ok(item.findingIds.L.some((f: { S: string }) => f.S === out.verdict.findingId), "the request's id among the case's findings");
    });

    it("--evidence-only: evidence without containment, through the case's skipContainment", async () => {
        const dir = copy();
        const result = await run(["respond", "i-99999999", "--simulated", dir, "--evidence-only", "--json"]);
        const out = JSON.parse(result.stdout);
        assert.match(out.statusReason, /^evidence only \(dfir respond --evidence-only\)/);
        const { item, manifest } = await caseOf(dir, out.caseId);
        assert.equal(item.trigger.M.evidenceOnly.BOOL, true);
        assert.equal(manifest.containment.status, "skipped");
    });

    it("bad input: one line, exit 2, nothing run", async () => {
        const dir = copy();
        for (const [args, message] of [
            [["respond", "i-nope", "--simulated", dir], /is not an EC2 instance id/],
            [["respond", "i-0123456789abcdef0", "--simulated", dir], /instance i-0123456789abcdef0 not found/],
            [["respond", "i-99999999", "--simulated", dir, "--reason", " "], /--reason needs a text/],
            [["respond", "i-99999999", "--region", "us-east-1", "--table", "dfir-cases"], /no state machine/],
        ] as const) {
            const result = await run([...args]);
            assert.equal(result.code, 2, result.stderr);
            assert.match(result.stderr, message);
            assert.equal(result.stdout, "");
        }
        assert.deepEqual(fs.readFileSync(path.join(dir, "state.json")), fs.readFileSync(path.join(kept, "state.json")));
    });

    it("the npm script contract: npm run -s dfir -- respond i-... --simulated DIR --reason test", () => {
        const dir = copy();
        const r = spawnSync("npm", ["run", "-s", "dfir", "--", "respond", "i-99999999", "--simulated", dir, "--reason", "test"], { cwd: REPO, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /requested by arn:aws:/);
        assert.match(r.stdout, /reason: test/);
        assert.match(r.stdout, /: SUCCEEDED \(/);
    });
});

describe("dfir respond against a real account (clients mocked)", () => {
    // Mocked only while these tests run (mockClient patches the clients' prototypes).
    let sts: AwsClientStub<STSClient>;
    let ec2: AwsClientStub<EC2Client>;
    let sfn: AwsClientStub<SFNClient>;
    before(() => {
        sts = mockClient(STSClient);
        ec2 = mockClient(EC2Client);
        sfn = mockClient(SFNClient);
    });
    after(() => {
        sts.restore();
        ec2.restore();
        sfn.restore();
    });

    it("starts the deployed state machine with the manual request the triage accepts, naming the caller", async () => {
        const caller = "arn:aws:sts::123456789012:assumed-role/analyst/alice";
        sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012", Arn: caller });
        ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: "i-0123456789abcdef0" }] }] });
        sfn.on(StartExecutionCommand).resolves({ executionArn: "arn:aws:states:eu-west-1:123456789012:execution:dfir-response:manual-x" });
        const ctx = openContext({ region: "eu-west-1", table: "dfir-cases" }, {});
        const machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:dfir-response";
        const result = await respond(ctx, { instanceId: "i-0123456789abcdef0", evidenceOnly: true, reason: "EDR alert 42", stateMachineArn: machine });

        assert.equal(result.executionArn, "arn:aws:states:eu-west-1:123456789012:execution:dfir-response:manual-x");
        const call = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
        assert.equal(call.stateMachineArn, machine);
        assert.match(call.name!, /^manual-[0-9a-f-]{36}$/);
        const verdict = triage(JSON.parse(call.input!));
        assert.equal(verdict.decision, "respond");
        assert.equal(verdict.trigger, "manual");
        assert.equal(verdict.requestedBy, caller);
        assert.equal(verdict.requestReason, "EDR alert 42");
        assert.equal(verdict.evidenceOnly, true);
        assert.equal(verdict.accountId, "123456789012");
        assert.equal(verdict.region, "eu-west-1");
    });

    it("refuses an instance the caller's account does not have, before starting anything", async () => {
        sfn.resetHistory();
        sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/bob" });
        ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error("not found"), { name: "InvalidInstanceID.NotFound" }));
        const ctx = openContext({ region: "eu-west-1", table: "dfir-cases" }, {});
        await assert.rejects(respond(ctx, { instanceId: "i-0123456789abcdef0", evidenceOnly: false, stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:x" }), /not found in 123456789012 eu-west-1/);
        assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
    });
});
