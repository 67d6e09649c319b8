import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { main } from "../cli/index";
import type { VerifyReport } from "../cli/verify";
import { verifyHtml } from "../cli/report";
import {
    accessByObject, accessFindings, evidenceAccesses, evidenceTrailSelectors, logFilesSince, parseTrailLog, parseTrailLogKey,
    selectorsLog, trailBucketPolicy, trailLogKey, TrailLogError, trailSelectorsFor, uncoveredEvents, type TrailRecord,
} from "../core/accessTrail";
import { UNKNOWN_STRING, type RuleResource } from "../policy/lib/model";
import { checkEvidenceAccessTrail } from "../policy/rules/evidence-access-trail";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { client } from "../functions/lib/aws";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";
import { dfirKeys, parseDfirConfig, type MultiAccountStackConfig } from "../core/config";
import { deployMultiAccount } from "../components/multiAccountStack";
import { devProgram } from "./support/dev-program";
import { recorded, settle, valueOf, type RecordedResource } from "./support/pulumi-mocks";
import { stackConfig } from "./support/stack-config";

/**
 * The evidence access trail (issue 17, item 4): every read of evidence objects and every attempt to delete them or
 * change their retention is logged by a CloudTrail trail into a locked bucket, and `dfir verify` shows who read what
 * when.
 */
const BUCKET = "dfir-evidence-111122223333-us-east-1";
const ARN = `arn:aws:s3:::${BUCKET}`;

function record(over: Partial<TrailRecord> & { key?: string; versionId?: string }): TrailRecord {
    const { key = "cases/c-1/memory/i-1.lime", versionId, ...rest } = over;
    return {
        eventTime: "2026-12-07T01:00:00Z",
        eventSource: "s3.amazonaws.com",
        eventName: "GetObject",
        userIdentity: { type: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/analyst/alice", sessionContext: { sessionIssuer: { arn: "arn:aws:iam::111122223333:role/analyst" } } },
        sourceIPAddress: "198.51.100.7",
        requestParameters: { bucketName: BUCKET, key, ...(versionId ? { versionId } : {}) },
        ...rest,
    };
}

describe("core/accessTrail.ts", () => {
    it("the trail's selectors log every read and write of the evidence bucket's objects, nothing of another bucket's", () => {
        const selectors = evidenceTrailSelectors([ARN]);
        assert.deepEqual(uncoveredEvents(selectors, ARN), []);
        assert.deepEqual(uncoveredEvents(selectors, "arn:aws:s3:::someone-else"), ["GetObject", "HeadObject", "DeleteObject", "DeleteObjects", "PutObjectRetention", "PutObjectLegalHold", "PutObject"]);
        // A bucket whose name merely starts like the evidence bucket's is not selected (the ARN prefix ends with "/").
        assert.equal(selectorsLog(selectors, { eventCategory: "Data", eventName: "GetObject", readOnly: true, resourceType: "AWS::S3::Object", resourceArn: `${ARN}-copy/x` }), false);
        // Write management events (a bucket policy change) are logged, read ones are not.
        assert.equal(selectorsLog(selectors, { eventCategory: "Management", eventName: "PutBucketPolicy", readOnly: false }), true);
        assert.equal(selectorsLog(selectors, { eventCategory: "Management", eventName: "GetBucketPolicy", readOnly: true }), false);
    });

    it("a selector limited to writes, or excluding GetObject, leaves reads unlogged", () => {
        const writesOnly = [{ fieldSelectors: [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.type", equals: ["AWS::S3::Object"] }, { field: "readOnly", equals: ["false"] }] }];
        assert.deepEqual(uncoveredEvents(writesOnly, ARN), ["GetObject", "HeadObject"]);
        const noGets = [{ fieldSelectors: [{ field: "eventCategory", equals: ["Data"] }, { field: "resources.type", equals: ["AWS::S3::Object"] }, { field: "eventName", notStartsWiths: ["Get"] }] }];
        assert.deepEqual(uncoveredEvents(noGets, ARN), ["GetObject"]);
    });

    it("the trail bucket's policy lets only this trail deliver (ACL check, bucket-owner-full-control under AWSLogs/<account>/), TLS only, no tampering", () => {
        const trail = "arn:aws:cloudtrail:us-east-1:111122223333:trail/dfir-access-trail";
        const doc = trailBucketPolicy("arn:aws:s3:::logs", trail, "111122223333", "arn:aws:iam::111122223333:role/break-glass");
        const sid = (s: string) => doc.Statement.find((x) => x.Sid === s);
        assert.deepEqual(sid("AWSCloudTrailAclCheck")?.Condition, { StringEquals: { "aws:SourceArn": trail } });
        assert.equal(sid("AWSCloudTrailWrite")?.Resource, "arn:aws:s3:::logs/AWSLogs/111122223333/*");
        assert.deepEqual(sid("AWSCloudTrailWrite")?.Condition, { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail } });
        assert.deepEqual(sid("DenyTrailTampering")?.Condition, { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/break-glass" } });
        assert.ok(sid("DenyInsecureTransport"));
    });

    it("log file keys as CloudTrail names them; digest files and strangers are not log files; files delivered before the case opened are skipped", () => {
        const key = trailLogKey("111122223333", "us-east-1", new Date("2026-12-07T01:05:00Z"), "Mu0KsOhtH1ar15ZZ");
        assert.equal(key, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/07/111122223333_CloudTrail_us-east-1_20261207T0105Z_Mu0KsOhtH1ar15ZZ.json.gz");
        assert.deepEqual(parseTrailLogKey(key), { accountId: "111122223333", region: "us-east-1", deliveredAt: "2026-12-07T01:05:00.000Z" });
        assert.equal(parseTrailLogKey("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/07/111122223333_CloudTrail-Digest_us-east-1_dfir_us-east-1_20261207T010500Z.json.gz"), undefined);
        const early = trailLogKey("111122223333", "us-east-1", new Date("2026-12-07T00:55:00Z"), "AAAAAAAAAAAAAAAA");
        assert.deepEqual(logFilesSince([key, early, "AWSLogs/other.txt"], new Date("2026-12-07T01:00:30Z")), [key]);
    });

    it("a copy of evidence to another bucket is a read of the evidence (its x-amz-copy-source), whatever the destination", () => {
        const copy = (source: string) => ({ ...record({ eventName: "CopyObject" }), requestParameters: { bucketName: "exfil-bucket", key: "loot.lime", "x-amz-copy-source": source } });
        const accesses = evidenceAccesses([
            copy(`${BUCKET}/cases/c-1/memory/i-1.lime?versionId=v7`),
            copy(`/${BUCKET}/${encodeURIComponent("cases/c-1/metadata/instance.json")}`),
            copy(`${BUCKET}/cases/other-case/memory/i-2.lime`),
            copy("%E0%A4%A"),
        ], BUCKET, "c-1");
        assert.deepEqual(accesses.map((a) => [a.kind, a.eventName, a.key, a.versionId]), [
            ["read", "CopyObject", "cases/c-1/memory/i-1.lime", "v7"],
            ["read", "CopyObject", "cases/c-1/metadata/instance.json", undefined],
        ]);
    });

    it("parses a gzip log file; refuses one that is not", () => {
        const gz = gzipSync(JSON.stringify({ Records: [record({}), { nonsense: true }] }));
        assert.equal(parseTrailLog("k", gz).length, 1);
        assert.throws(() => parseTrailLog("k", Buffer.from("plain")), TrailLogError);
        assert.throws(() => parseTrailLog("k", gzipSync("{}")), /k: no Records array/);
    });

    it("who read what when; a deleted version is a problem, a refused delete, a delete marker and a retention change are warnings", () => {
        const records = [
            record({}),
            record({ eventName: "HeadObject" }),
            record({ eventName: "GetObject", key: "cases/other-case/memory/i-2.lime" }),
            record({ eventName: "DeleteObject", versionId: "v1", errorCode: "AccessDenied", eventTime: "2026-12-07T01:01:00Z" }),
            record({ eventName: "DeleteObject", key: "cases/c-1/metadata/instance.json", eventTime: "2026-12-07T01:02:00Z" }),
            record({ eventName: "DeleteObject", key: "cases/c-1/metadata/instance.json", versionId: "v9", eventTime: "2026-12-07T01:03:00Z" }),
            record({ eventName: "PutObjectRetention", errorCode: "AccessDenied", eventTime: "2026-12-07T01:04:00Z" }),
            { ...record({}), requestParameters: { bucketName: "another-bucket", key: "cases/c-1/memory/i-1.lime" } },
            // A batch delete: the objects by resource ARN, their versions only in the request body.
            { ...record({ eventName: "DeleteObjects", eventTime: "2026-12-07T01:05:00Z" }), requestParameters: { bucketName: BUCKET, delete: "" }, resources: [{ type: "AWS::S3::Object", ARN: `arn:aws:s3:::${BUCKET}/cases/c-1/memory/i-1.lime` }] },
        ];
        const accesses = evidenceAccesses(records, BUCKET, "c-1");
        assert.equal(accesses.length, 7, "other case, other bucket left out");
        const byObject = accessByObject(accesses);
        assert.deepEqual(byObject.map((o) => [o.key, o.reads.length, o.changes.length]), [["cases/c-1/memory/i-1.lime", 1, 3], ["cases/c-1/metadata/instance.json", 0, 2]]);
        assert.equal(byObject[0]?.reads[0]?.who, "arn:aws:sts::111122223333:assumed-role/analyst/alice");
        assert.equal(byObject[0]?.reads[0]?.role, "arn:aws:iam::111122223333:role/analyst");
        const { problems, warnings } = accessFindings(accesses);
        assert.deepEqual(problems, ["version deleted: cases/c-1/metadata/instance.json (version v9): DeleteObject by arn:aws:sts::111122223333:assumed-role/analyst/alice from 198.51.100.7 at 2026-12-07T01:03:00Z"]);
        assert.equal(warnings.length, 4);
        assert.match(warnings[0] as string, /^attempted delete refused \(AccessDenied\): cases\/c-1\/memory\/i-1.lime \(version v1\)/);
        assert.match(warnings[1] as string, /^delete marker placed \(the versions remain\)/);
        assert.match(warnings[2] as string, /^attempted retention change refused/);
        // Never "the versions remain" for a batch delete: the trail does not say.
        assert.match(warnings[3] as string, /^batch delete naming it \(per-object results and versions are not in the trail/);
    });
});

async function drill(extra: Partial<DrillOptions> = {}) {
    const options = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), simOptions: { memoryBytes: 256 * 1024 }, ...extra } as DrillOptions;
    const sim = seedAccount(options);
    const report = await runDrill({ ...options, sim });
    return { report, sim };
}

async function verify(dir: string, caseId: string, extra: string[] = []): Promise<{ code: number; report: VerifyReport; text: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const io = { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), progress: false };
    const code = await main(["verify", caseId, "--simulated", dir, "--json", ...extra], io);
    const report = JSON.parse(stdout) as VerifyReport;
    stdout = "";
    await main(["verify", caseId, "--simulated", dir], io);
    return { code, report, text: stdout, stderr };
}

describe("the access trail in the drill, and dfir verify's access section", function () {
    this.timeout(180_000);
    const dirs: string[] = [];
    after(() => {
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });

    it("evidence-read: the hub's administrator read the memory image and tried to delete it; verify names who, what, when, from where, and the refused delete (a warning: the evidence held)", async () => {
        const { report, sim } = await drill({ scenario: "evidence-read" });
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.iamDenied, []);
        const deletes = sim.calls.filter((c) => c.action === "s3:DeleteObject");
        assert.deepEqual(deletes.map((c) => [c.ok, c.errorName]), [[false, "AccessDenied"]], "Object Lock refused the delete");
        // The analyst verifies the case ten minutes later (CloudTrail delivers about five minutes after a call).
        sim.advance(10 * 60_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-trail-"));
        dirs.push(dir);
        sim.saveState(dir);
        const out = await verify(dir, report.caseId as string);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.report.ok, true, out.report.problems.join("; "));
        const access = out.report.access;
        assert.ok(access && !access.unreachable, access?.unreachable);
        assert.ok(access.logFiles >= 1);
        const memory = access.objects.find((o) => /\/memory\/i-[0-9a-f]+\.lime$/.test(o.key));
        assert.ok(memory, JSON.stringify(access.objects.map((o) => o.key)));
        const read = memory.reads.find((r) => r.who === `arn:aws:sts::${sim.homeAccountId}:assumed-role/administrator/scenario`);
        assert.ok(read, JSON.stringify(memory.reads));
        assert.equal(read.eventName, "GetObject");
        assert.equal(read.from, "203.0.113.66");
        assert.equal(read.errorCode, undefined);
        const refused = memory.changes.find((c) => c.eventName === "DeleteObject");
        assert.equal(refused?.errorCode, "AccessDenied");
        assert.ok(out.report.warnings.some((w) => w.startsWith(`attempted delete refused (AccessDenied): ${memory.key} (version `)), out.report.warnings.join("\n"));
        assert.match(out.text, /read {4}cases\/.*\/memory\/.*: GetObject by arn:aws:sts::\d{12}:assumed-role\/administrator\/scenario from 203\.0\.113\.66 at /);
        assert.match(out.text, /delete {2}cases\/.*: DeleteObject by .* REFUSED AccessDenied/);
        const html = verifyHtml(out.report);
        assert.match(html, /<h2>Access \(trail s3:\/\/dfir-access-trail-/);
        assert.match(html, /<td>203\.0\.113\.66<\/td>/);
    });

    it("a plain response: right after the seal nothing is delivered yet (said, not a failure); ten minutes later the trail holds the response's own reads and writes, no one else's", async () => {
        const { report, sim } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const save = () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-trail-"));
            dirs.push(dir);
            sim.saveState(dir);
            return dir;
        };
        const early = await verify(save(), report.caseId as string);
        assert.equal(early.code, 0, early.stderr);
        assert.deepEqual([early.report.access?.logFiles, early.report.access?.objects], [0, []]);
        assert.match(early.text, /no access to this case's evidence recorded\n.*CloudTrail delivers about 5 minutes after a call, not guaranteed/);
        sim.advance(10 * 60_000);
        const out = await verify(save(), report.caseId as string);
        assert.equal(out.code, 0, out.stderr);
        const access = out.report.access;
        assert.ok(access && !access.unreachable);
        const reads = access.objects.flatMap((o) => o.reads);
        assert.ok(reads.every((r) => !r.who.includes("administrator")), JSON.stringify(reads));
        assert.ok(access.objects.some((o) => o.changes.some((c) => c.eventName === "PutObject" && c.who.includes("dfir-response-"))), "the response's writes are on record");
        assert.ok(reads.some((r) => r.eventName === "GetObject" && r.key.endsWith(".lime.json") && r.who.includes("dfir-response-memory")), "the memory step read the sidecar");
        assert.ok(access.objects.some((o) => o.key.includes("/manifest-") && o.changes.some((c) => c.eventName === "PutObject")), "the seal's manifest write");
        assert.deepEqual(out.report.warnings.filter((w) => /delete|retention|refused/.test(w)), []);
        assert.match(access.deliveredThrough ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/);
    });

    it("the simulator delivers a trail's records about 5 minutes after the call, as gzip log files under AWSLogs/<account>/CloudTrail/<region>/", async () => {
        const sim = seedAccount({ finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")) });
        const trailBucket = sim.deployment.accessTrailBucket as string;
        const evidence = sim.deployment.evidenceBucket;
        sim.install();
        try {
            const s3 = client("s3", { region: sim.region });
            const tool = Object.values(sim.deployment.avml)[0]?.key as string;
            await s3.send(new GetObjectCommand({ Bucket: evidence, Key: tool }));
            const list = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: trailBucket, Prefix: "AWSLogs/" }))).Contents ?? []).map((o) => o.Key as string);
            assert.deepEqual(await list(), [], "nothing delivered at once");
            sim.advance(4 * 60_000);
            assert.deepEqual(await list(), [], "nothing after 4 minutes");
            sim.advance(61_000);
            const keys = await list();
            assert.equal(keys.length, 1, "one log file after 5 minutes");
            const parsed = parseTrailLogKey(keys[0] as string);
            assert.equal(parsed?.accountId, sim.homeAccountId);
            assert.equal(parsed?.region, sim.region);
            const out = await s3.send(new GetObjectCommand({ Bucket: trailBucket, Key: keys[0] }));
            const records = parseTrailLog(keys[0] as string, await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
            assert.deepEqual(records.map((r) => [r.eventName, r.requestParameters?.key, r.eventCategory, r.readOnly]), [["GetObject", tool, "Data", true]]);
            assert.match(records[0]?.userIdentity?.arn ?? "", /:assumed-role\/dfir-analyst\//);
            // Locked like the evidence: the bucket's default COMPLIANCE retention.
            const head = sim.objects(trailBucket).find((o) => o.key === keys[0]);
            assert.equal(head?.lockMode, "COMPLIANCE");
            // The trail's own bucket is not logged (it is not selected): reading the file added nothing.
            sim.advance(10 * 60_000);
            assert.equal((await list()).length, 1);
        } finally {
            sim.uninstall();
        }
    });

    it("no trail bucket, or one that cannot be read: a warning, not a failed verification", async () => {
        const { report, sim } = await drill();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-trail-"));
        dirs.push(dir);
        sim.saveState(dir);
        const doc = JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"));
        doc.state.deployment.accessTrailBucket = "no-such-trail-bucket";
        fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(doc));
        const out = await verify(dir, report.caseId as string);
        assert.equal(out.code, 0, out.stderr);
        assert.equal(out.report.ok, true);
        assert.match(out.report.access?.unreachable ?? "", /^cannot list the access trail s3:\/\/no-such-trail-bucket: NoSuchBucket/);
        assert.ok(out.report.warnings.includes(out.report.access?.unreachable as string));
        let stderr = "";
        const refused = await main(["verify", report.caseId as string, "--simulated", dir, "--trail-bucket", "x"], { stdout: () => undefined, stderr: (t) => (stderr += t), progress: false });
        assert.equal(refused, 2);
        assert.match(stderr, /--simulated takes the access trail's bucket/);
    });
});

describe("EvidenceTrail in the programs (Pulumi mocks)", function () {
    this.timeout(120_000);
    const TRAIL = "aws:cloudtrail/trail:Trail";

    /** The trail, its bucket and the bucket's configuration resources of one EvidenceTrail component (by name). */
    function trailOf(resources: RecordedResource[], name: string) {
        const of = (type: string, n: string) => resources.find((r) => r.type === type && r.name === n) as RecordedResource;
        return {
            trail: of(TRAIL, `${name}-trail`),
            bucket: of("aws:s3/bucket:Bucket", name),
            lock: of("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", `${name}-lock`),
            versioning: of("aws:s3/bucketVersioning:BucketVersioning", `${name}-versioning`),
            publicAccess: of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${name}-public-access`),
            sse: of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${name}-sse`),
            policy: of("aws:s3/bucketPolicy:BucketPolicy", `${name}-policy`),
        };
    }

    function checkTrail(t: ReturnType<typeof trailOf>, evidenceBucketArn: string, retentionDays: number, trailName: string) {
        assert.ok(t.trail && t.bucket, "a trail and its bucket");
        assert.equal(t.trail.inputs.name, trailName);
        assert.equal(t.trail.inputs.enableLogFileValidation, true);
        assert.equal(t.trail.inputs.isMultiRegionTrail, false);
        assert.deepEqual(t.trail.inputs.advancedEventSelectors, evidenceTrailSelectors([evidenceBucketArn]));
        assert.deepEqual(uncoveredEvents(t.trail.inputs.advancedEventSelectors, evidenceBucketArn), []);
        assert.equal(t.bucket.inputs.objectLockEnabled, true);
        assert.deepEqual(t.lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: retentionDays } });
        assert.equal(t.versioning.inputs.versioningConfiguration.status, "Enabled");
        assert.deepEqual([t.publicAccess.inputs.blockPublicAcls, t.publicAccess.inputs.blockPublicPolicy, t.publicAccess.inputs.ignorePublicAcls, t.publicAccess.inputs.restrictPublicBuckets], [true, true, true, true]);
        assert.equal(t.sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
        const doc = JSON.parse(t.policy.inputs.policy);
        assert.deepEqual(doc.Statement.map((s: { Sid: string }) => s.Sid), ["AWSCloudTrailAclCheck", "AWSCloudTrailWrite", "DenyInsecureTransport", "DenyTrailTampering"]);
        assert.match(doc.Statement[0].Condition.StringEquals["aws:SourceArn"], new RegExp(`:cloudtrail:[a-z0-9-]+:\\d{12}:trail/${trailName}$`));
        assert.equal(t.bucket.inputs.tags["dfir:role"], "access-trail");
    }

    it("one account (Pulumi.dev.yaml): the evidence bucket's trail, locked for the evidence's retention; the stack outputs its bucket", async () => {
        const { outputs, resources } = await devProgram();
        const config = parseDfirConfig(dfirKeys(stackConfig("dev")));
        const evidence = resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name === "dfir-evidence") as RecordedResource;
        assert.ok(evidence);
        const t = trailOf(resources, "dfir-access-trail");
        const arn = (t.trail.inputs.advancedEventSelectors[0].fieldSelectors[2].startsWiths[0] as string).replace(/\/$/, "");
        assert.match(arn, /^arn:aws:s3:::dfir-evidence/);
        checkTrail(t, arn, config.evidenceRetentionDays, "dfir-access-trail");
        assert.equal(await valueOf(outputs.accessTrailBucket as never), t.bucket.inputs.bucket ?? await valueOf(outputs.accessTrailBucket as never));
        assert.equal(resources.filter((r) => r.type === TRAIL).length, 1);
    });

    it("a hub and members (Pulumi.prod.yaml): one trail per hub region, in that region, covering that region's evidence bucket", async () => {
        const config = parseDfirConfig(dfirKeys(stackConfig("prod"))) as MultiAccountStackConfig;
        const start = recorded.length;
        await deployMultiAccount(config);
        await settle();
        const prod = recorded.slice(start);
        const regions = config.multiAccount.hub.regions as string[];
        assert.equal(prod.filter((r) => r.type === TRAIL).length, regions.length);
        for (const region of regions) {
            const t = trailOf(prod, `dfir-access-trail-${region}`);
            assert.equal(t.trail.provider, `aws-${config.multiAccount.hub.accountId}-${region}`);
            const arn = (t.trail.inputs.advancedEventSelectors[0].fieldSelectors[2].startsWiths[0] as string).replace(/\/$/, "");
            assert.match(arn, new RegExp(`^arn:aws:s3:::dfir-evidence-${region}`));
            checkTrail(t, arn, config.evidenceRetentionDays, `dfir-access-trail-${region}`);
        }
    });

    it("the drill's trail bucket policy is the program's, statement by statement", async () => {
        const { resources } = await devProgram();
        const program = JSON.parse(trailOf(resources, "dfir-access-trail").policy.inputs.policy);
        const sim = seedAccount({ finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")) });
        type Doc = { Statement: { Sid?: string; Effect: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> }[] };
        const shape = (d: Doc) =>
            d.Statement.map((s) => `${s.Sid} ${s.Effect} ${([] as string[]).concat(s.Action).sort().join(",")} ${Object.entries(s.Condition ?? {}).flatMap(([op, k]) => Object.keys(k).map((x) => `${op}:${x}`)).sort().join(",")}`);
        const drilled = sim.bucketPolicy(sim.deployment.accessTrailBucket as string) as Doc;
        assert.deepEqual(shape(drilled), shape(program));
    });
});

describe("policy rule evidence-access-trail (in-process)", () => {
    const EVIDENCE_URN = "urn:pulumi:dev::aws-dfir::dfir:storage:EvidenceStore$aws:s3/bucket:Bucket::ev";
    const LOGS_URN = "urn:pulumi:dev::aws-dfir::dfir:storage:EvidenceTrail$aws:s3/bucket:Bucket::logs";
    const TRAIL_URN = "urn:pulumi:dev::aws-dfir::dfir:storage:EvidenceTrail$aws:cloudtrail/trail:Trail::trail";
    const LOCK_URN = "urn:pulumi:dev::aws-dfir::dfir:storage:EvidenceTrail$aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration::logs-lock";
    const EV_ARN = "arn:aws:s3:::ev-bucket";

    /** An evidence bucket, a trail covering it, and the trail's locked bucket; `change` breaks one thing. */
    function stack(change: (r: { evidence: RuleResource; trail: RuleResource; logs: RuleResource; lock: RuleResource }) => void = () => undefined): RuleResource[] {
        const evidence = { type: "aws:s3/bucket:Bucket", name: "ev", urn: EVIDENCE_URN, props: { id: "ev-bucket", bucket: "ev-bucket", arn: EV_ARN, objectLockEnabled: true }, parent: "urn:pulumi:dev::aws-dfir::dfir:storage:EvidenceStore::ev" } as RuleResource;
        const logs = { type: "aws:s3/bucket:Bucket", name: "logs", urn: LOGS_URN, props: { id: "logs-bucket", bucket: "logs-bucket", arn: "arn:aws:s3:::logs-bucket", objectLockEnabled: true, tags: { "dfir:role": "access-trail" } } } as RuleResource;
        const lock = { type: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", name: "logs-lock", urn: LOCK_URN, props: { bucket: "logs-bucket", rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } } } as RuleResource;
        const trail = { type: "aws:cloudtrail/trail:Trail", name: "trail", urn: TRAIL_URN, props: { s3BucketName: "logs-bucket", enableLogging: true, enableLogFileValidation: true, advancedEventSelectors: evidenceTrailSelectors([EV_ARN]) } } as RuleResource;
        const parts = { evidence, trail, logs, lock };
        change(parts as never);
        return [parts.evidence, parts.trail, parts.logs, parts.lock].filter(Boolean);
    }
    const verdictOf = (resources: RuleResource[]) => {
        const findings = checkEvidenceAccessTrail(resources);
        assert.equal(findings.length, 1, "one finding, on the evidence bucket");
        return findings[0]?.verdict as { status: string; message?: string };
    };
    const mutable = (r: RuleResource) => r as unknown as { props: Record<string, any>; propertyDependencies?: Record<string, string[]> };

    it("passes a trail that logs the evidence bucket's reads and writes into a COMPLIANCE-locked bucket; the trail bucket is no evidence bucket", () => {
        assert.deepEqual(verdictOf(stack()), { status: "compliant" });
    });

    it("passes basic event selectors (dataResources AWS::S3::Object, readWriteType All)", () => {
        const v = verdictOf(stack((s) => {
            mutable(s.trail).props.advancedEventSelectors = undefined;
            mutable(s.trail).props.eventSelectors = [{ readWriteType: "All", dataResources: [{ type: "AWS::S3::Object", values: [`${EV_ARN}/`] }] }];
        }));
        assert.deepEqual(v, { status: "compliant" });
    });

    it("flags: no trail; writes only; logging off; no log validation; a log bucket outside the stack; an unlocked or GOVERNANCE log bucket", () => {
        assert.match(verdictOf(stack((s) => void (s.trail = undefined as never))).message ?? "", /no CloudTrail trail in the stack logs who reads or deletes its objects/);
        const writes = verdictOf(stack((s) => { mutable(s.trail).props.advancedEventSelectors = [{ fieldSelectors: [...evidenceTrailSelectors([EV_ARN])[0]!.fieldSelectors, { field: "readOnly", equals: ["false"] }] }]; }));
        assert.equal(writes.status, "violation");
        assert.match(writes.message ?? "", /trail trail does not log GetObject, HeadObject on its objects/);
        assert.match(verdictOf(stack((s) => { mutable(s.trail).props.enableLogging = false; })).message ?? "", /trail trail is not logging/);
        assert.match(verdictOf(stack((s) => { mutable(s.trail).props.enableLogFileValidation = false; })).message ?? "", /no log file integrity validation/);
        assert.match(verdictOf(stack((s) => { mutable(s.trail).props.s3BucketName = "someone-elses-bucket"; })).message ?? "", /delivers to someone-elses-bucket, which is not in this stack/);
        assert.match(verdictOf(stack((s) => { mutable(s.logs).props.objectLockEnabled = false; })).message ?? "", /bucket logs has no Object Lock/);
        assert.match(verdictOf(stack((s) => { mutable(s.lock).props.rule.defaultRetention.mode = "GOVERNANCE"; })).message ?? "", /lock configuration logs-lock has GOVERNANCE default retention — use COMPLIANCE/);
        assert.match(verdictOf(stack((s) => void (s.lock = undefined as never))).message ?? "", /bucket logs has no BucketObjectLockConfiguration/);
    });

    it("preview: unknown ARNs are read through the trail's dependency on the evidence bucket alone; without one, an advisory note, never a pass", () => {
        const preview = (withDependency: boolean) => stack((s) => {
            mutable(s.evidence).props.arn = UNKNOWN_STRING;
            mutable(s.evidence).props.bucket = UNKNOWN_STRING;
            mutable(s.evidence).props.id = UNKNOWN_STRING;
            mutable(s.trail).props.advancedEventSelectors = trailSelectorsFor([UNKNOWN_STRING]);
            if (withDependency) mutable(s.trail).propertyDependencies = { advancedEventSelectors: [EVIDENCE_URN] };
        });
        assert.deepEqual(verdictOf(preview(true)), { status: "compliant" });
        const v = verdictOf(preview(false));
        assert.equal(v.status, "unknown");
        assert.match(v.message ?? "", /resources\.ARN values of trail trail's selectors/);
    });
});
