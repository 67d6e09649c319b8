import { strict as assert } from "node:assert";
import { ACCOUNT, one, recorded, resourcesOf, ROUTE_TABLES, S3_PREFIX_LIST, settle, valueOf, VPC } from "./support/pulumi-mocks";
import { EvidenceStore } from "../components/evidenceStore";
import { GuardDutyDetection } from "../components/guardDutyDetection";
import { IsolationNetwork } from "../components/isolationNetwork";
import { ResponseWorkflow } from "../components/responseWorkflow";
import { buildDefinition } from "../core/definition";
import { EVIDENCE_TAMPER_ACTIONS, type PolicyDocument } from "../core/iam";
import { isolationRuleProblems } from "../core/isolation";
import { buildEventPattern } from "../core/pattern";

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
        assert.equal(children.length, 8);
        for (const child of children) assert.equal(child.parent, "dfir:storage:EvidenceStore::t-ev-parent", child.name);
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
        assert.equal(recorded.filter((r) => r.type === T.ingress && r.name.startsWith("t-iso-")).length, 0);
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
            .filter((r) => r.type === T.egress && r.name.startsWith("t-iso-existing-"))
            .map((r) => r.inputs.prefixListId ?? r.inputs.referencedSecurityGroupId)
            .sort();
        assert.deepEqual(targets, [S3_PREFIX_LIST, "sg-0fffffffffffffff0"].sort());
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

    it("routes findings with a numeric severity pattern generated from its options", async () => {
        new ResponseWorkflow("t-wf", { isolationGroups: groups });
        await settle();

        const pattern = JSON.parse(one(T.rule, "t-wf-findings").inputs.eventPattern) as any;
        assert.deepEqual(pattern.detail.severity, [{ numeric: [">=", 7] }]);
        assert.deepEqual(pattern.detail.resource.resourceType, ["Instance"]);
        assert.deepEqual(pattern, buildEventPattern({ minSeverity: 7, allowSamples: false }));
    });

    it("follows a configured minimum severity in both the rule and the guard function", async () => {
        new ResponseWorkflow("t-wf-sev", { isolationGroups: groups, minSeverity: 8.5, allowSamples: true });
        await settle();

        assert.deepEqual(JSON.parse(one(T.rule, "t-wf-sev-findings").inputs.eventPattern).detail.severity, [{ numeric: [">=", 8.5] }]);
        assert.deepEqual(one(T.fn, "t-wf-sev-triage").inputs.environment.variables, { MIN_SEVERITY: "8.5", ALLOW_SAMPLES: "true" });
    });

    it("retries delivery and parks undeliverable findings in an encrypted dead-letter queue that raises an alarm", async () => {
        new ResponseWorkflow("t-wf-dlq", { isolationGroups: groups });
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
        new ResponseWorkflow("t-wf-sm", { isolationGroups: groups });
        await settle();

        const machine = one(T.machine, "t-wf-sm-response").inputs;
        assert.equal(machine.type, "STANDARD");
        assert.equal(machine.loggingConfiguration.level, "ALL");
        assert.equal(machine.loggingConfiguration.includeExecutionData, true);
        assert.match(machine.loggingConfiguration.logDestination, /^arn:aws:logs:.*:\*$/);
        assert.equal(machine.tracingConfiguration.enabled, true);
        const fnArn = (n: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${n}`;
        assert.deepEqual(JSON.parse(machine.definition), buildDefinition({
            triageFunctionArn: fnArn("t-wf-sm-triage"),
            containFunctionArn: fnArn("t-wf-sm-contain"),
            topicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:t-wf-sm-notifications`,
        }));
    });

    it("ships bundled nodejs22.x functions, the contain one knowing each VPC's isolation group", async () => {
        new ResponseWorkflow("t-wf-fn", { isolationGroups: groups });
        await settle();

        for (const name of ["t-wf-fn-triage", "t-wf-fn-contain"]) {
            const fn = one(T.fn, name).inputs;
            assert.equal(fn.runtime, "nodejs22.x");
            assert.equal(fn.handler, "index.handler");
            assert.equal(fn.tracingConfig.mode, "Active");
        }
        const contain = one(T.fn, "t-wf-fn-contain").inputs;
        assert.deepEqual(JSON.parse(contain.environment.variables.ISOLATION_GROUPS), groups);
    });

    it("gives the contain function only what it needs: no wildcard actions, modify scoped to isolation groups", async () => {
        new ResponseWorkflow("t-wf-iam", { isolationGroups: groups });
        await settle();

        const policy = policyOf(one(T.rolePolicy, "t-wf-iam-contain"));
        const actions = actionsOf(policy);
        assert.ok(!actions.some((a) => a === "*" || a.endsWith(":*")), actions.join(","));
        assert.ok(!actions.includes("ec2:ModifyInstanceAttribute"));
        const intoGroups = policy.Statement.find((s) => s.Sid === "OnlyIntoIsolationGroups");
        assert.deepEqual(intoGroups?.Condition, { StringEquals: { "aws:ResourceTag/dfir:role": "isolation" } });
        assert.equal(intoGroups?.Resource, `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/*`);
        const wildcards = policy.Statement.filter((s) => s.Resource === "*").flatMap((s) => ([] as string[]).concat(s.Action));
        assert.deepEqual(wildcards.sort(), ["ec2:DescribeInstances", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]);
    });

    it("lets EventBridge start only its own state machine, and only from this account", async () => {
        new ResponseWorkflow("t-wf-events", { isolationGroups: groups });
        await settle();

        const policy = policyOf(one(T.rolePolicy, "t-wf-events-events"));
        assert.deepEqual(policy.Statement.map((s) => [s.Action, s.Resource]), [
            ["states:StartExecution", `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:t-wf-events-response`],
        ]);
        const trust = JSON.parse(one(T.role, "t-wf-events-events").inputs.assumeRolePolicy) as PolicyDocument;
        assert.deepEqual(trust.Statement[0].Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
    });

    it("subscribes an e-mail address only when one is configured", async () => {
        new ResponseWorkflow("t-wf-mail", { isolationGroups: groups, notificationEmail: "soc@example.com" });
        new ResponseWorkflow("t-wf-nomail", { isolationGroups: groups });
        await settle();

        assert.equal(one(T.subscription, "t-wf-mail-email").inputs.endpoint, "soc@example.com");
        assert.equal(recorded.filter((r) => r.type === T.subscription && r.name.startsWith("t-wf-nomail")).length, 0);
    });

    it("encrypts the topic with its own key, which CloudWatch alarms may use", async () => {
        new ResponseWorkflow("t-wf-kms", { isolationGroups: groups });
        await settle();

        const topic = one(T.topic, "t-wf-kms-notifications").inputs;
        assert.equal(topic.kmsMasterKeyId, `arn:aws:kms:us-east-1:${ACCOUNT}:key/t-wf-kms-notifications`);
        const keyPolicy = policyOf(one(T.key, "t-wf-kms-notifications"));
        assert.ok(keyPolicy.Statement.some((s) => (s.Principal as { Service?: string })?.Service === "cloudwatch.amazonaws.com"));
    });

    it("rejects a minimum severity outside 1-10 before creating anything", async () => {
        assert.throws(() => new ResponseWorkflow("t-wf-bad", { isolationGroups: groups, minSeverity: 11 }), /minSeverity/);
        await settle();
        assert.deepEqual(recorded.filter((r) => r.name.startsWith("t-wf-bad") && !r.type.startsWith("dfir:")), []);
    });
});
