import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ACCOUNT, one, recorded, resourcesOf, ROUTE_TABLES, S3_PREFIX_LIST, settle, valueOf, VPC } from "./support/pulumi-mocks";
import { EvidenceStore } from "../components/evidenceStore";
import { GuardDutyDetection } from "../components/guardDutyDetection";
import { IsolationNetwork } from "../components/isolationNetwork";
import { ResponseWorkflow } from "../components/responseWorkflow";
import { buildDefinition } from "../core/definition";
import { EVIDENCE_TAMPER_ACTIONS, type PolicyDocument } from "../core/iam";
import { isolationRuleProblems } from "../core/isolation";
import { buildEventPattern, buildTriggerPatterns } from "../core/pattern";

const T = {
    bucket: "aws:s3/bucket:Bucket",
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    key: "aws:kms/key:Key",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    endpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
    detector: "aws:guardduty/detector:Detector",
    feature: "aws:guardduty/detectorFeature:DetectorFeature",
    rule: "aws:cloudwatch/eventRule:EventRule",
    target: "aws:cloudwatch/eventTarget:EventTarget",
    machine: "aws:sfn/stateMachine:StateMachine",
    fn: "aws:lambda/function:Function",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    role: "aws:iam/role:Role",
    queue: "aws:sqs/queue:Queue",
    topic: "aws:sns/topic:Topic",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
};

const policyOf = (r: { inputs: Record<string, any> }, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);
const actionsOf = (d: PolicyDocument) => d.Statement.flatMap((s) => ([] as string[]).concat(s.Action));

describe("EvidenceStore", () => {
    it("locks every object in COMPLIANCE mode for 365 days by default, with versioning and its own rotating key", async () => {
        const store = new EvidenceStore("t-ev-default");
        await valueOf(store.bucketArn);
        await settle();

        const bucket = one(T.bucket, "t-ev-default");
        assert.equal(bucket.inputs.objectLockEnabled, true);
        assert.equal(bucket.inputs.forceDestroy, false);
        assert.equal(bucket.inputs.tags["dfir:role"], "evidence");
        const lock = one(T.lock, "t-ev-default-lock");
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 365 } });
        assert.equal(one(T.versioning, "t-ev-default-versioning").inputs.versioningConfiguration.status, "Enabled");
        const key = one(T.key, "t-ev-default-key");
        assert.equal(key.inputs.enableKeyRotation, true);
        const sse = one(T.sse, "t-ev-default-sse").inputs.rules[0];
        assert.equal(sse.applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
        assert.equal(sse.applyServerSideEncryptionByDefault.kmsMasterKeyId, await valueOf(store.keyArn));
    });

    it("has an asymmetric ECC_NIST_P256 SIGN_VERIFY key for the manifests, only the named signers may Sign, its public key stored locked in the bucket and exported", async () => {
        const store = new EvidenceStore("t-ev-sign", { manifestSignerRoleNamePrefixes: ["dfir-response-seal"] });
        const pem = await valueOf(store.signingPublicKeyPem);
        await settle();
        const key = one(T.key, "t-ev-sign-signing");
        assert.equal(key.inputs.customerMasterKeySpec, "ECC_NIST_P256");
        assert.equal(key.inputs.keyUsage, "SIGN_VERIFY");
        assert.equal(key.inputs.enableKeyRotation, undefined, "AWS cannot rotate an asymmetric key");
        const deny = policyOf(key).Statement.find((st) => st.Effect === "Deny");
        assert.deepEqual(deny, {
            Sid: "OnlyTheSealSigns", Effect: "Deny", Principal: { AWS: "*" }, Action: "kms:Sign", Resource: "*",
            Condition: { ArnNotLike: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/dfir-response-seal*` } },
        });
        const object = one("aws:s3/bucketObjectv2:BucketObjectv2", "t-ev-sign-signing-public-key").inputs;
        assert.equal(object.key, "keys/manifest-signing-t-ev-sign-signing.pem");
        assert.equal(object.content, pem);
        assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
        assert.equal(await valueOf(store.signingKeyArn), `arn:aws:kms:us-east-1:${ACCOUNT}:key/t-ev-sign-signing`);
    });

    it("aborts incomplete multipart uploads (failed memory captures) after a week", async () => {
        new EvidenceStore("t-ev-lc");
        await settle();

        const rule = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "t-ev-lc-lifecycle").inputs.rules[0];
        assert.deepEqual([rule.status, rule.abortIncompleteMultipartUpload.daysAfterInitiation], ["Enabled", 7]);
        assert.equal(rule.expiration, undefined, "evidence never expires by lifecycle");
    });

    it("blocks all four kinds of public access", async () => {
        new EvidenceStore("t-ev-pab");
        await settle();

        const pab = one(T.pab, "t-ev-pab-public-access").inputs;
        assert.deepEqual(
            [pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets],
            [true, true, true, true],
        );
    });

    it("takes the retention from its args", async () => {
        new EvidenceStore("t-ev-30", { retentionDays: 30 });
        await settle();

        assert.equal(one(T.lock, "t-ev-30-lock").inputs.rule.defaultRetention.days, 30);
    });

    it("denies insecure transport and tampering to everyone but the break-glass role", async () => {
        const breakGlass = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
        new EvidenceStore("t-ev-bg", { breakGlassRoleArn: breakGlass });
        await settle();

        const policy = policyOf(one(T.bucketPolicy, "t-ev-bg-policy"));
        const tls = policy.Statement.find((s) => s.Sid === "DenyInsecureTransport");
        assert.deepEqual(tls?.Condition, { Bool: { "aws:SecureTransport": "false" } });
        const tamper = policy.Statement.find((s) => s.Sid === "DenyEvidenceTampering");
        assert.equal(tamper?.Effect, "Deny");
        assert.deepEqual(tamper?.Action, [...EVIDENCE_TAMPER_ACTIONS]);
        assert.deepEqual(tamper?.Condition, { ArnNotEquals: { "aws:PrincipalArn": breakGlass } });
    });

    it("denies tampering to everyone when no break-glass role is configured", async () => {
        new EvidenceStore("t-ev-nobg");
        await settle();

        const tamper = policyOf(one(T.bucketPolicy, "t-ev-nobg-policy")).Statement.find((s) => s.Sid === "DenyEvidenceTampering");
        assert.equal(tamper?.Condition, undefined);
        assert.equal(tamper?.Principal, "*");
    });

    it("parents every child to the component", async () => {
        new EvidenceStore("t-ev-parent");
        await settle();

        const children = resourcesOf("t-ev-parent").filter((r) => r.type !== "dfir:storage:EvidenceStore");
        assert.equal(children.length, 11);
        for (const child of children) assert.equal(child.parent, "dfir:storage:EvidenceStore::t-ev-parent", child.name);
    });

    /** A file that starts as a 64-bit little-endian ELF for `machine` (e_machine at byte 18). */
    const elf = (machine: number, rest: string): Buffer => {
        const header = Buffer.alloc(64);
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(header);
        header.writeUInt16LE(2, 16);
        header.writeUInt16LE(machine, 18);
        return Buffer.concat([header, Buffer.from(rest)]);
    };
    const avmlFiles = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-avml-"));
        const files = { x86_64: path.join(dir, "avml"), aarch64: path.join(dir, "avml-aarch64") };
        fs.writeFileSync(files.x86_64, elf(0x3e, "pretend x86_64 avml"));
        fs.writeFileSync(files.aarch64, elf(0xb7, "pretend aarch64 avml"));
        return files;
    };

    it("stages each avml build under tools/ with its sha256, for the memory step to send by architecture and check", async () => {
        const files = avmlFiles();
        const sha = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

        const store = new EvidenceStore("t-ev-avml", { avml: files });
        await settle();

        for (const build of ["x86_64", "aarch64"] as const) {
            const tool = one("aws:s3/bucketObjectv2:BucketObjectv2", `t-ev-avml-avml-${build}`).inputs;
            assert.equal(tool.key, `tools/avml-${build}-${sha(files[build]).slice(0, 16)}`);
            assert.deepEqual(tool.metadata, { sha256: sha(files[build]) });
            assert.equal(store.avml[build]?.sha256, sha(files[build]));
            assert.equal(await valueOf(store.avml[build]?.key), tool.key);
        }
    });

    it("stages only the builds given", async () => {
        const store = new EvidenceStore("t-ev-avml-one", { avml: { aarch64: avmlFiles().aarch64 } });
        await settle();

        assert.deepEqual(Object.keys(store.avml), ["aarch64"]);
        assert.equal(recorded.filter((r) => r.name.startsWith("t-ev-avml-one-avml-")).length, 1);
    });

    it("fails on an unreadable avml path, naming it", () => {
        assert.throws(() => new EvidenceStore("t-ev-noavml", { avml: { x86_64: "/nonexistent/avml" } }), /t-ev-noavml: cannot read avml.x86_64 \/nonexistent\/avml/);
    });

    it("refuses a file that is not its build (swapped, or not an ELF executable), naming both", () => {
        const files = avmlFiles();
        assert.throws(() => new EvidenceStore("t-ev-swapped", { avml: { x86_64: files.aarch64 } }), /t-ev-swapped: avml.x86_64 \S+avml-aarch64 is the aarch64 build \(ELF header\); expected the avml release asset of avml v0\.20\.0/);
        const script = path.join(path.dirname(files.x86_64), "script");
        fs.writeFileSync(script, "#!/bin/sh\n");
        assert.throws(() => new EvidenceStore("t-ev-script", { avml: { aarch64: script } }), /t-ev-script: avml.aarch64 \S+ is not an ELF executable .* expected the avml-aarch64 release asset/);
    });

    it("rejects a retention that is not a whole number of days, naming the field", () => {
        assert.throws(() => new EvidenceStore("t-ev-bad", { retentionDays: 0 }), /t-ev-bad: retentionDays must be a whole number/);
    });
});

describe("IsolationNetwork", () => {
    it("creates an isolation group with no inline rules and only two HTTPS egress rules, to S3 and the endpoints", async () => {
        const net = new IsolationNetwork("t-iso", { vpcId: VPC.id });
        const sgId = await valueOf(net.securityGroupId);
        await settle();

        const group = one(T.sg, "t-iso-isolation");
        assert.equal(group.inputs.tags["dfir:role"], "isolation");
        assert.equal(group.inputs.ingress, undefined);
        assert.equal(group.inputs.egress, undefined);
        const rules = recorded.filter((r) => r.type === T.egress && r.name.startsWith("t-iso-isolation-"));
        assert.equal(rules.length, 2);
        assert.deepEqual(recorded.filter((r) => [T.ingress, T.egress].includes(r.type) && r.inputs.securityGroupId === sgId).map((r) => r.name).sort(), rules.map((r) => r.name).sort());
        for (const rule of rules) {
            assert.equal(rule.inputs.securityGroupId, sgId);
            assert.deepEqual(isolationRuleProblems({ direction: "egress", ...rule.inputs } as never), [], rule.name);
            assert.equal(rule.inputs.cidrIpv4, undefined);
            assert.equal(rule.inputs.cidrIpv6, undefined);
            assert.equal(rule.inputs.tags["dfir:role"], "isolation");
        }
        const endpointSg = await valueOf(net.endpointSecurityGroupId);
        assert.deepEqual(
            rules.map((r) => r.inputs.prefixListId ?? r.inputs.referencedSecurityGroupId).sort(),
            [S3_PREFIX_LIST, endpointSg].sort(),
        );
    });

    it("creates the S3 gateway and the three SSM interface endpoints, one subnet per AZ", async () => {
        new IsolationNetwork("t-iso-ep", { vpcId: VPC.id });
        await settle();

        const s3 = one(T.endpoint, "t-iso-ep-s3").inputs;
        assert.equal(s3.vpcEndpointType, "Gateway");
        assert.equal(s3.serviceName, "com.amazonaws.us-east-1.s3");
        assert.deepEqual(s3.routeTableIds, ROUTE_TABLES);
        for (const service of ["ssm", "ssmmessages", "ec2messages"]) {
            const ep = one(T.endpoint, `t-iso-ep-${service}`).inputs;
            assert.equal(ep.serviceName, `com.amazonaws.us-east-1.${service}`);
            assert.equal(ep.vpcEndpointType, "Interface");
            assert.equal(ep.privateDnsEnabled, true);
            assert.deepEqual(ep.subnetIds, ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc"]);
        }
    });

    it("admits HTTPS to the endpoints from every range of the VPC, since private DNS serves all its instances", async () => {
        new IsolationNetwork("t-iso-cidr", { vpcId: VPC.id });
        await settle();

        const group = one(T.sg, "t-iso-cidr-endpoints").inputs;
        assert.equal(group.ingress.length, 1);
        assert.deepEqual(group.ingress[0].cidrBlocks, VPC.cidrs);
        assert.deepEqual([group.ingress[0].protocol, group.ingress[0].fromPort, group.ingress[0].toPort], ["tcp", 443, 443]);
    });

    it("uses existing endpoints when told to, creating none", async () => {
        new IsolationNetwork("t-iso-existing", { vpcId: VPC.id, createEndpoints: false, endpointSecurityGroupId: "sg-0fffffffffffffff0" });
        await settle();

        assert.equal(recorded.filter((r) => r.type === T.endpoint && r.name.startsWith("t-iso-existing")).length, 0);
        const targets = recorded
            .filter((r) => r.type === T.egress && r.name.startsWith("t-iso-existing-isolation-"))
            .map((r) => r.inputs.prefixListId ?? r.inputs.referencedSecurityGroupId)
            .sort();
        assert.deepEqual(targets, [S3_PREFIX_LIST, "sg-0fffffffffffffff0"].sort());
    });

    it("creates the all-open untrack group (every protocol, both directions, IPv4 and IPv6) tagged untrack", async () => {
        const net = new IsolationNetwork("t-iso-untrack", { vpcId: VPC.id, createEndpoints: false, endpointSecurityGroupId: "sg-0fffffffffffffff0" });
        await settle();

        assert.equal(one(T.sg, "t-iso-untrack-untrack").inputs.tags["dfir:role"], "untrack");
        const rules = recorded.filter((r) => r.name.startsWith("t-iso-untrack-untrack-"));
        assert.deepEqual(rules.map((r) => [r.type.split(":").pop(), r.inputs.ipProtocol, r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6]).sort(), [
            ["SecurityGroupEgressRule", "-1", "0.0.0.0/0"], ["SecurityGroupEgressRule", "-1", "::/0"],
            ["SecurityGroupIngressRule", "-1", "0.0.0.0/0"], ["SecurityGroupIngressRule", "-1", "::/0"],
        ]);
        assert.match(await valueOf(net.untrackSecurityGroupId), /^sg-/);
    });

    it("creates no untrack group when connection untracking is turned off", async () => {
        const net = new IsolationNetwork("t-iso-nountrack", { vpcId: VPC.id, createEndpoints: false, endpointSecurityGroupId: "sg-0fffffffffffffff0", untrackGroup: false });
        await settle();

        assert.equal(recorded.filter((r) => r.name.startsWith("t-iso-nountrack-untrack")).length, 0);
        assert.equal(net.untrackSecurityGroupId, undefined);
    });

    it("refuses conflicting endpoint settings with a message naming the fields", () => {
        assert.throws(() => new IsolationNetwork("t-iso-bad1", { vpcId: VPC.id, createEndpoints: false }), /endpointSecurityGroupId is required/);
        assert.throws(() => new IsolationNetwork("t-iso-bad2", { vpcId: VPC.id, endpointSecurityGroupId: "sg-0fffffffffffffff0" }), /conflict/);
    });
});

describe("GuardDutyDetection", () => {
    it("enables the detector, publishing every 15 minutes, with EBS malware protection on and runtime monitoring off", async () => {
        new GuardDutyDetection("t-gd");
        await settle();

        const detector = one(T.detector, "t-gd").inputs;
        assert.equal(detector.enable, true);
        assert.equal(detector.findingPublishingFrequency, "FIFTEEN_MINUTES");
        assert.equal(one(T.feature, "t-gd-ebs-malware-protection").inputs.status, "ENABLED");
        assert.equal(one(T.feature, "t-gd-ebs-malware-protection").inputs.name, "EBS_MALWARE_PROTECTION");
        const runtime = one(T.feature, "t-gd-runtime-monitoring").inputs;
        assert.equal(runtime.name, "RUNTIME_MONITORING");
        assert.equal(runtime.status, "DISABLED");
    });

    it("turns runtime monitoring with EC2 agent management on, and malware protection off, when asked", async () => {
        new GuardDutyDetection("t-gd-rt", { runtimeMonitoring: true, ebsMalwareProtection: false });
        await settle();

        const runtime = one(T.feature, "t-gd-rt-runtime-monitoring").inputs;
        assert.equal(runtime.status, "ENABLED");
        assert.deepEqual(runtime.additionalConfigurations, [{ name: "EC2_AGENT_MANAGEMENT", status: "ENABLED" }]);
        assert.equal(one(T.feature, "t-gd-rt-ebs-malware-protection").inputs.status, "DISABLED");
    });
});

describe("ResponseWorkflow", () => {
    const groups = { [VPC.id]: "sg-0123456789abcdef0" };
    const evidence = {
        bucketName: "evidence-bucket",
        bucketArn: "arn:aws:s3:::evidence-bucket",
        keyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/evidence`,
        signingKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/signing`,
        retentionDays: 365,
    };
    const base = { isolationGroups: groups, untrackGroups: { [VPC.id]: "sg-0fedcba9876543210" }, evidence };
    const FUNCTIONS = ["triage", "case", "contain", "snapshot", "memory", "metadata", "seal", "digest"];

    it("routes findings with a numeric severity pattern generated from its options", async () => {
        new ResponseWorkflow("t-wf", base);
        await settle();

        const pattern = JSON.parse(one(T.rule, "t-wf-findings").inputs.eventPattern) as any;
        assert.deepEqual(pattern.detail.severity, [{ numeric: [">=", 7] }]);
        assert.deepEqual(pattern.detail.resource.resourceType, ["Instance"]);
        assert.deepEqual(pattern, buildEventPattern({ minSeverity: 7, allowSamples: false }));
    });

    it("has one rule per other trigger kind, its pattern from the same options, targeting the state machine; the guard gets the same options", async () => {
        new ResponseWorkflow("t-wf-trig", { ...base, triggers: { securityHub: { minLabel: "CRITICAL", products: ["Example EDR"] }, tagTrigger: false } });
        await settle();

        const patterns = buildTriggerPatterns({ securityHub: { minLabel: "CRITICAL", products: ["Example EDR"] }, tagTrigger: false });
        for (const kind of ["credential-exfiltration", "securityhub"] as const) {
            assert.deepEqual(JSON.parse(one(T.rule, `t-wf-trig-${kind}`).inputs.eventPattern), patterns[kind], kind);
            assert.deepEqual(one(T.target, `t-wf-trig-${kind}`).inputs.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
        }
        assert.equal(recorded.filter((r) => r.type === T.rule && r.name === "t-wf-trig-tag").length, 0);
        const env = one(T.fn, "t-wf-trig-triage").inputs.environment.variables;
        assert.equal(env.TAG_TRIGGER, "false");
        assert.deepEqual(JSON.parse(env.SECURITY_HUB), { enabled: true, minLabel: "CRITICAL", products: ["Example EDR"], includeGuardDuty: false });
    });

    it("follows a configured minimum severity in both the rule and the guard function", async () => {
        new ResponseWorkflow("t-wf-sev", { ...base, minSeverity: 8.5, allowSamples: true });
        await settle();

        assert.deepEqual(JSON.parse(one(T.rule, "t-wf-sev-findings").inputs.eventPattern).detail.severity, [{ numeric: [">=", 8.5] }]);
        const env = one(T.fn, "t-wf-sev-triage").inputs.environment.variables;
        assert.equal(env.MIN_SEVERITY, "8.5");
        assert.equal(env.ALLOW_SAMPLES, "true");
    });

    it("retries delivery and parks undeliverable findings in an encrypted dead-letter queue that raises an alarm", async () => {
        new ResponseWorkflow("t-wf-dlq", base);
        await settle();

        const target = one(T.target, "t-wf-dlq-findings").inputs;
        const queue = one(T.queue, "t-wf-dlq-dead-letters");
        assert.equal(target.deadLetterConfig.arn, `arn:aws:sqs:us-east-1:${ACCOUNT}:t-wf-dlq-dead-letters`);
        assert.deepEqual(target.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
        assert.equal(target.arn, `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:t-wf-dlq-response`);
        assert.equal(queue.inputs.sqsManagedSseEnabled, true);
        const alarm = one(T.alarm, "t-wf-dlq-undelivered-findings").inputs;
        assert.deepEqual(alarm.dimensions, { QueueName: "t-wf-dlq-dead-letters" });
        assert.deepEqual(alarm.alarmActions, [`arn:aws:sns:us-east-1:${ACCOUNT}:t-wf-dlq-notifications`]);
    });

    it("deploys a Standard state machine with full logging, X-Ray and exactly the core definition", async () => {
        new ResponseWorkflow("t-wf-sm", { ...base, approvalTimeoutSeconds: 600, approvalDefault: "skip" });
        await settle();

        const machine = one(T.machine, "t-wf-sm-response").inputs;
        assert.equal(machine.type, "STANDARD");
        assert.equal(machine.loggingConfiguration.level, "ALL");
        assert.equal(machine.loggingConfiguration.includeExecutionData, true);
        assert.match(machine.loggingConfiguration.logDestination, /^arn:aws:logs:.*:\*$/);
        assert.equal(machine.tracingConfiguration.enabled, true);
        const fnArn = (n: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:t-wf-sm-${n}`;
        const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:t-wf-sm-notifications`;
        assert.deepEqual(JSON.parse(machine.definition), buildDefinition({
            triageFunctionArn: fnArn("triage"),
            caseFunctionArn: fnArn("case"),
            containFunctionArn: fnArn("contain"),
            snapshotFunctionArn: fnArn("snapshot"),
            memoryFunctionArn: fnArn("memory"),
            metadataFunctionArn: fnArn("metadata"),
            sealFunctionArn: fnArn("seal"),
            digestFunctionArn: fnArn("digest"),
            topicArn,
            approvalTopicArn: topicArn,
        }, { approvalTimeoutSeconds: 600, approvalDefault: "skip" }));
    });

    it("ships eight bundled nodejs22.x functions configured through the workflow's environment contract", async () => {
        new ResponseWorkflow("t-wf-fn", { ...base, snapshotCapHours: 2, memoryCapMinutes: 30 });
        await settle();

        for (const name of FUNCTIONS) {
            const fn = one(T.fn, `t-wf-fn-${name}`).inputs;
            assert.equal(fn.runtime, "nodejs22.x", name);
            assert.equal(fn.handler, "index.handler");
            assert.equal(fn.tracingConfig.mode, "Active");
            assert.equal(fn.code.__pulumiArchive, true, `${name} ships an archive (its bundle is tested in bundle.test.ts)`);
        }
        const env = one(T.fn, "t-wf-fn-contain").inputs.environment.variables;
        // The group maps grow per VPC: not in any environment (4 KB in all), in Contain's settings.json beside its handler.
        for (const name of FUNCTIONS) {
            const vars = one(T.fn, `t-wf-fn-${name}`).inputs.environment.variables;
            assert.deepEqual([vars.ISOLATION_GROUPS, vars.UNTRACK_GROUPS], [undefined, undefined], name);
        }
        // The mocks get the archive object itself: its assets and their text are promises.
        const files = await one(T.fn, "t-wf-fn-contain").inputs.code.assets;
        assert.deepEqual(Object.keys(files).sort(), ["index.js", "settings.json"]);
        const file = JSON.parse(await files["settings.json"].text);
        assert.deepEqual(JSON.parse(file.ISOLATION_GROUPS), groups);
        assert.deepEqual(JSON.parse(file.UNTRACK_GROUPS), base.untrackGroups);
        assert.deepEqual(Object.keys(await one(T.fn, "t-wf-fn-snapshot").inputs.code.assets), ["index.js"]);
        assert.equal(env.EVIDENCE_BUCKET, "evidence-bucket");
        assert.equal(env.CASES_TABLE, "t-wf-fn-cases");
        assert.equal(env.MEMORY_DOCUMENT, "t-wf-fn-memory-capture");
        assert.equal(env.CAPTURE_PROFILE_ARN, `arn:aws:iam::${ACCOUNT}:instance-profile/t-wf-fn-capture`);
        assert.equal(env.SNAPSHOT_CAP_SECONDS, "7200");
        assert.equal(env.MEMORY_CAP_SECONDS, "1800");
        for (const name of FUNCTIONS) {
            const variables = one(T.fn, `t-wf-fn-${name}`).inputs.environment.variables;
            assert.equal(variables.POWERTOOLS_LOG_LEVEL, "INFO", `${name} logs at INFO (Powertools Logger)`);
            assert.equal(variables.POWERTOOLS_SERVICE_NAME, `aws-dfir-${name}`, `${name} names itself in its log lines`);
        }
        for (const name of ["AVML_X86_64_KEY", "AVML_X86_64_SHA256", "AVML_AARCH64_KEY", "AVML_AARCH64_SHA256", "AVML_KEY"]) {
            assert.equal(env[name], undefined, `${name}: no avml staged, memory will be reported missing, not attempted`);
        }
    });

    it("hands each staged avml build to the functions as AVML_<BUILD>_KEY / _SHA256, and only those staged", async () => {
        const aarch64 = { key: "tools/avml-aarch64-0123456789abcdef", sha256: "b".repeat(64) };
        new ResponseWorkflow("t-wf-avml", { ...base, evidence: { ...evidence, avml: { aarch64 } } });
        await settle();

        const env = one(T.fn, "t-wf-avml-memory").inputs.environment.variables;
        assert.equal(env.AVML_AARCH64_KEY, aarch64.key);
        assert.equal(env.AVML_AARCH64_SHA256, aarch64.sha256);
        assert.equal(env.AVML_X86_64_KEY, undefined);
        assert.equal(env.AVML_X86_64_SHA256, undefined);
    });

    it("gives no function a wildcard action, and `*` resources only to actions without resource-level permissions", async () => {
        new ResponseWorkflow("t-wf-iam", base);
        await settle();

        const noResourceLevel = new Set([
            "ec2:DescribeInstances", "ec2:DescribeInstanceAttribute", "ec2:DescribeIamInstanceProfileAssociations",
            "ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeNetworkInterfaces", "autoscaling:DescribeAutoScalingInstances",
            "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth",
            "ssm:DescribeInstanceInformation", "ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:CancelCommand", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
            "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints",
            // The snapshot step adopts an earlier attempt's snapshot locks.
            "ec2:DescribeLockedSnapshots",
        ]);
        for (const name of FUNCTIONS) {
            const policy = policyOf(one(T.rolePolicy, `t-wf-iam-${name}`));
            const actions = actionsOf(policy);
            assert.ok(!actions.some((a) => a === "*" || a.endsWith(":*")), `${name}: ${actions.join(",")}`);
            const wildcard = policy.Statement.filter((st) => st.Resource === "*").flatMap((st) => ([] as string[]).concat(st.Action));
            for (const a of wildcard) assert.ok(noResourceLevel.has(a), `${name} grants ${a} on *`);
        }
    });

    it("lets the contain function move interfaces only into isolation or untrack groups, and pass only the capture role", async () => {
        new ResponseWorkflow("t-wf-contain", base);
        await settle();

        const policy = policyOf(one(T.rolePolicy, "t-wf-contain-contain"));
        const intoGroups = policy.Statement.find((st) => st.Sid === "OnlyIntoResponseGroups");
        assert.deepEqual(intoGroups?.Condition, { StringEquals: { "aws:ResourceTag/dfir:role": ["isolation", "untrack"] } });
        assert.equal(intoGroups?.Resource, `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/*`);
        const pass = policy.Statement.find((st) => st.Sid === "PassCaptureRoleToEc2");
        assert.deepEqual(pass?.Resource, [`arn:aws:iam::${ACCOUNT}:role/t-wf-contain-capture`]);
        assert.deepEqual(pass?.Condition, { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
        const protectedRoles = policy.Statement.find((st) => st.Sid === "NeverWriteResponderRoles");
        assert.deepEqual([protectedRoles?.Effect, protectedRoles?.Resource], ["Deny", [`arn:aws:iam::${ACCOUNT}:role/t-wf-contain-*`]]);
        assert.ok(!actionsOf(policy).includes("ec2:TerminateInstances"));
    });

    it("keeps cases in a retained, point-in-time-recoverable table and ships the deny-modify-isolated policy", async () => {
        new ResponseWorkflow("t-wf-cases", { ...base, isolatedInstanceScp: true });
        await settle();

        const table = one("aws:dynamodb/table:Table", "t-wf-cases-cases").inputs;
        assert.equal(table.hashKey, "pk");
        assert.equal(table.pointInTimeRecovery.enabled, true);
        assert.equal(table.deletionProtectionEnabled, true);
        const deny = policyOf(one("aws:iam/policy:Policy", "t-wf-cases-deny-modify-isolated"));
        for (const statement of deny.Statement) {
            assert.equal(statement.Effect, "Deny");
            assert.deepEqual(statement.Condition?.StringEquals, { "aws:ResourceTag/dfir:status": "isolated" });
            assert.deepEqual(statement.Condition?.ArnNotLike, { "aws:PrincipalArn": [`arn:aws:iam::${ACCOUNT}:role/t-wf-cases-contain`] });
        }
        assert.ok(actionsOf(deny).includes("ec2:TerminateInstances"));
        const scp = one("aws:organizations/policy:Policy", "t-wf-cases-deny-modify-isolated-scp").inputs;
        assert.equal(scp.type, "SERVICE_CONTROL_POLICY");
        assert.deepEqual(actionsOf(JSON.parse(scp.content)), actionsOf(deny));
    });

    it("creates the memory-capture SSM document and a capture profile limited to tools and memory uploads", async () => {
        new ResponseWorkflow("t-wf-ssm", base);
        await settle();

        const doc = one("aws:ssm/document:Document", "t-wf-ssm-memory-capture").inputs;
        assert.equal(doc.documentType, "Command");
        assert.equal(JSON.parse(doc.content).schemaVersion, "2.2");
        const capture = policyOf(one(T.rolePolicy, "t-wf-ssm-capture"));
        assert.deepEqual(actionsOf(capture).sort(), ["kms:Decrypt", "kms:GenerateDataKey", "s3:GetObject", "s3:PutObject"]);
        assert.equal(one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "t-wf-ssm-capture-ssm").inputs.policyArn, "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    });

    it("lets EventBridge start only its own state machine, and only from this account", async () => {
        new ResponseWorkflow("t-wf-events", base);
        await settle();

        const policy = policyOf(one(T.rolePolicy, "t-wf-events-events"));
        assert.deepEqual(policy.Statement.map((st) => [st.Action, st.Resource]), [
            ["states:StartExecution", `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:t-wf-events-response`],
        ]);
        const trust = JSON.parse(one(T.role, "t-wf-events-events").inputs.assumeRolePolicy) as PolicyDocument;
        assert.deepEqual(trust.Statement[0].Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
    });

    it("subscribes an e-mail address only when one is configured", async () => {
        new ResponseWorkflow("t-wf-mail", { ...base, notificationEmail: "soc@example.com" });
        new ResponseWorkflow("t-wf-nomail", base);
        await settle();

        assert.equal(one(T.subscription, "t-wf-mail-email").inputs.endpoint, "soc@example.com");
        assert.equal(recorded.filter((r) => r.type === T.subscription && r.name.startsWith("t-wf-nomail")).length, 0);
    });

    it("encrypts the topic with its own key, which CloudWatch alarms may use", async () => {
        new ResponseWorkflow("t-wf-kms", base);
        await settle();

        const topic = one(T.topic, "t-wf-kms-notifications").inputs;
        assert.equal(topic.kmsMasterKeyId, `arn:aws:kms:us-east-1:${ACCOUNT}:key/t-wf-kms-notifications`);
        const keyPolicy = policyOf(one(T.key, "t-wf-kms-notifications"));
        assert.ok(keyPolicy.Statement.some((st) => (st.Principal as { Service?: string })?.Service === "cloudwatch.amazonaws.com"));
    });

    it("rejects a minimum severity outside 1-10 before creating anything", async () => {
        assert.throws(() => new ResponseWorkflow("t-wf-bad", { ...base, minSeverity: 11 }), /minSeverity/);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("t-wf-bad") && !r.type.startsWith("dfir:")), []);
    });
});
