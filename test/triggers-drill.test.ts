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
