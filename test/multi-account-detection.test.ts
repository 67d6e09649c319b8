import { strict as assert } from "node:assert";
import type * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, one, REGION, resourcesOf, settle, valueOf } from "./support/pulumi-mocks";
import { FindingForwarder } from "../components/findingForwarder";
import { GuardDutyDelegatedAdmin, GuardDutyOrganization } from "../components/guardDutyOrganization";
import { HubEventBusPolicy } from "../components/hubEventBusPolicy";
import { defaultEventBusArn, forwarderRolePolicy, forwardingTarget, hubEventBusPolicy } from "../core/eventPolicies";
import type { PolicyDocument } from "../core/iam";
import { buildEventPattern } from "../core/pattern";

const T = {
    orgConfig: "aws:guardduty/organizationConfiguration:OrganizationConfiguration",
    orgFeature: "aws:guardduty/organizationConfigurationFeature:OrganizationConfigurationFeature",
    orgAdmin: "aws:guardduty/organizationAdminAccount:OrganizationAdminAccount",
    rule: "aws:cloudwatch/eventRule:EventRule",
    target: "aws:cloudwatch/eventTarget:EventTarget",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    queue: "aws:sqs/queue:Queue",
    queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    busPolicy: "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
};

/** The mocks' account is the member (forwarder) or the hub (bus policy); the other side is this one. */
const HUB = "210987654321";
const MEMBERS = ["333333333333", "111111111111"];
const HUB_BUS = `arn:aws:events:${REGION}:${HUB}:event-bus/default`;
const OWN_BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;

const policyOf = (r: { inputs: Record<string, any> }, field = "policy"): PolicyDocument => JSON.parse(r.inputs[field]);
const actionsOf = (d: PolicyDocument) => d.Statement.flatMap((s) => ([] as string[]).concat(s.Action));

/** The settled value of an output, rejecting when the output failed (valueOf never settles then). */
function settled<T>(o: pulumi.Output<T>): Promise<T> {
    return (o as unknown as { promise(): Promise<T> }).promise();
}

describe("GuardDutyOrganization", () => {
    it("auto-enables ALL members on the hub's detector, malware protection ALL and runtime monitoring NONE by default", async () => {
        new GuardDutyOrganization("t-gdo", { detectorId: "det-hub" });
        await settle();

        const config = one(T.orgConfig, "t-gdo").inputs;
        assert.deepEqual([config.detectorId, config.autoEnableOrganizationMembers], ["det-hub", "ALL"]);
        const malware = one(T.orgFeature, "t-gdo-ebs-malware-protection").inputs;
        assert.deepEqual([malware.detectorId, malware.name, malware.autoEnable], ["det-hub", "EBS_MALWARE_PROTECTION", "ALL"]);
        const runtime = one(T.orgFeature, "t-gdo-runtime-monitoring").inputs;
        assert.deepEqual([runtime.name, runtime.autoEnable], ["RUNTIME_MONITORING", "NONE"]);
        assert.deepEqual(runtime.additionalConfigurations, [{ name: "EC2_AGENT_MANAGEMENT", autoEnable: "NONE" }]);
        const children = resourcesOf("t-gdo").filter((r) => r.type !== "dfir:detection:GuardDutyOrganization");
        assert.deepEqual(children.map((r) => r.parent), Array(3).fill("dfir:detection:GuardDutyOrganization::t-gdo"));
    });

    it("gives features that are on the members' setting (NEW) and features that are off NONE", async () => {
        new GuardDutyOrganization("t-gdo-new", { detectorId: "det-hub", autoEnable: "NEW", runtimeMonitoring: true, ebsMalwareProtection: false });
        await settle();

        assert.equal(one(T.orgConfig, "t-gdo-new").inputs.autoEnableOrganizationMembers, "NEW");
        assert.equal(one(T.orgFeature, "t-gdo-new-ebs-malware-protection").inputs.autoEnable, "NONE");
        const runtime = one(T.orgFeature, "t-gdo-new-runtime-monitoring").inputs;
        assert.equal(runtime.autoEnable, "NEW");
        assert.deepEqual(runtime.additionalConfigurations, [{ name: "EC2_AGENT_MANAGEMENT", autoEnable: "NEW" }]);
    });

    it("rejects an unknown autoEnable value, naming the field", () => {
        assert.throws(() => new GuardDutyOrganization("t-gdo-bad", { detectorId: "d", autoEnable: "SOME" as "ALL" }), /autoEnable must be one of ALL, NEW, NONE, got "SOME"/);
    });

    it("GuardDutyDelegatedAdmin designates the hub account (management account side)", async () => {
        new GuardDutyDelegatedAdmin("t-gdo-admin", { adminAccountId: HUB });
        await settle();

        assert.equal(one(T.orgAdmin, "t-gdo-admin").inputs.adminAccountId, HUB);
        assert.throws(() => new GuardDutyDelegatedAdmin("t-gdo-admin-bad", { adminAccountId: "12345" }), /adminAccountId must be a 12-digit/);
    });
});

describe("FindingForwarder", () => {
    it("forwards with the hub rule's own pattern (numeric severity, instances) to the hub's default bus in the same region", async () => {
        const fwd = new FindingForwarder("t-fwd", { hubAccountId: HUB, hubRegion: REGION });
        assert.equal(await valueOf(fwd.hubBusArn), HUB_BUS);
        await settle();

        const pattern = JSON.parse(one(T.rule, "t-fwd-findings").inputs.eventPattern) as { detail: { severity: unknown } };
        assert.deepEqual(pattern, buildEventPattern({ minSeverity: 7, allowSamples: false }));
        assert.deepEqual(pattern.detail.severity, [{ numeric: [">=", 7] }]);
        const target = one(T.target, "t-fwd-findings").inputs;
        assert.equal(target.arn, HUB_BUS);
        assert.equal(target.rule, "t-fwd-findings");
        assert.equal(target.roleArn, `arn:aws:iam::${ACCOUNT}:role/t-fwd-forward`);
    });

    it("uses the same options as the hub for the pattern (minSeverity 8)", async () => {
        new FindingForwarder("t-fwd-sev", { hubAccountId: HUB, hubRegion: REGION, minSeverity: 8 });
        await settle();

        assert.deepEqual(JSON.parse(one(T.rule, "t-fwd-sev-findings").inputs.eventPattern), buildEventPattern({ minSeverity: 8, allowSamples: false }));
    });

    it("gives the rule a role that EventBridge of this account alone assumes, allowed PutEvents on exactly the hub bus", async () => {
        new FindingForwarder("t-fwd-role", { hubAccountId: HUB, hubRegion: REGION });
        await settle();

        const trust = policyOf(one(T.role, "t-fwd-role-forward"), "assumeRolePolicy");
        assert.deepEqual(trust.Statement, [{
            Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        }]);
        const policy = policyOf(one(T.rolePolicy, "t-fwd-role-forward"));
        assert.deepEqual(policy.Statement.map((s) => [s.Effect, s.Action, s.Resource]), [["Allow", "events:PutEvents", HUB_BUS]]);
        assert.deepEqual(policy, forwarderRolePolicy(HUB_BUS));
    });

    it("retries for a day, then dead-letters into an encrypted queue that accepts only its rules (one per trigger kind)", async () => {
        new FindingForwarder("t-fwd-dlq", { hubAccountId: HUB, hubRegion: REGION, tags: { team: "sec" } });
        await settle();

        const target = one(T.target, "t-fwd-dlq-findings").inputs;
        assert.deepEqual(target.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 });
        const queue = one(T.queue, "t-fwd-dlq-dead-letters").inputs;
        const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:t-fwd-dlq-dead-letters`;
        assert.deepEqual(target.deadLetterConfig, { arn: queueArn });
        assert.equal(queue.sqsManagedSseEnabled, true);
        assert.equal(queue.tags.team, "sec");
        const queuePolicy = policyOf(one(T.queuePolicy, "t-fwd-dlq-dead-letters"));
        assert.deepEqual(queuePolicy.Statement.map((s) => [s.Action, s.Resource, s.Condition]), [[
            "sqs:SendMessage", queueArn, { ArnEquals: { "aws:SourceArn": ["findings", "credential-exfiltration", "securityhub", "tag"].map((k) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/t-fwd-dlq-${k}`) } },
        ]]);
        for (const kind of ["credential-exfiltration", "securityhub", "tag"]) {
            const t = one(T.target, `t-fwd-dlq-${kind}`).inputs;
            assert.deepEqual(t.retryPolicy, { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 }, kind);
            assert.deepEqual(t.deadLetterConfig, { arn: queueArn }, kind);
        }
    });

    it("forwards only GuardDuty instance findings when the other triggers are off", async () => {
        new FindingForwarder("t-fwd-gd", { hubAccountId: HUB, hubRegion: REGION, triggers: { credentialExfiltration: false, tagTrigger: false, securityHub: { enabled: false } } });
        await settle();
        assert.deepEqual(resourcesOf("t-fwd-gd").filter((r) => r.type === T.target).map((r) => r.name), ["t-fwd-gd-findings"]);
    });

    it("fails when the hub region differs from the member region, naming both, and creates no target or role policy", async () => {
        const fwd = new FindingForwarder("t-fwd-region", { hubAccountId: HUB, hubRegion: "eu-west-1" });

        await assert.rejects(settled(fwd.hubBusArn), (e: Error) => /hubRegion eu-west-1/.test(e.message) && e.message.includes(`member region ${REGION}`));
        await settle();
        assert.deepEqual(resourcesOf("t-fwd-region").filter((r) => r.type === T.target || r.type === T.rolePolicy), []);
    });

    it("rejects a forwarder whose hub is its own account (the rule would loop)", () => {
        assert.throws(() => forwardingTarget({ partition: "aws", memberAccountId: ACCOUNT, memberRegion: REGION, hubAccountId: ACCOUNT, hubRegion: REGION }),
            new RegExp(`hubAccountId ${ACCOUNT} is the member account`));
        assert.throws(() => forwardingTarget({ partition: "aws", memberAccountId: ACCOUNT, memberRegion: "us-east-1", hubAccountId: HUB, hubRegion: "us-west-2" }),
            /hubRegion us-west-2 differs from the member region us-east-1/);
        assert.throws(() => forwardingTarget({ partition: "aws", memberAccountId: ACCOUNT, memberRegion: REGION, hubAccountId: "hub", hubRegion: REGION }),
            /hubAccountId must be a 12-digit AWS account id, got "hub"/);
    });
});

describe("HubEventBusPolicy", () => {
    it("allows PutEvents of GuardDuty events on the hub's default bus from exactly the listed member accounts", async () => {
        const hub = new HubEventBusPolicy("t-bus", { memberAccountIds: [...MEMBERS, MEMBERS[0]] });
        assert.equal(await valueOf(hub.busArn), OWN_BUS);
        await settle();

        const resource = one(T.busPolicy, "t-bus");
        assert.equal(resource.inputs.eventBusName, "default");
        const policy = policyOf(resource);
        assert.deepEqual(policy.Statement, [{
            Sid: "MemberFindingsToHub",
            Effect: "Allow",
            Action: "events:PutEvents",
            Resource: OWN_BUS,
            Principal: { AWS: ["arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"] },
            Condition: { "ForAllValues:StringEquals": { "events:source": ["aws.guardduty"] } },
        }]);
    });

    it("admits an organization's principals with aws:PrincipalOrgID, narrowed to listed accounts when given", async () => {
        new HubEventBusPolicy("t-bus-org", { organizationId: "o-abcd123456" });
        new HubEventBusPolicy("t-bus-org-narrow", { organizationId: "o-abcd123456", memberAccountIds: MEMBERS });
        await settle();

        const org = policyOf(one(T.busPolicy, "t-bus-org")).Statement;
        assert.equal(org.length, 1);
        assert.deepEqual([org[0].Principal, org[0].Action, org[0].Resource], ["*", "events:PutEvents", OWN_BUS]);
        assert.deepEqual(org[0].Condition, {
            "ForAllValues:StringEquals": { "events:source": ["aws.guardduty"] },
            StringEquals: { "aws:PrincipalOrgID": "o-abcd123456" },
        });
        const narrow = policyOf(one(T.busPolicy, "t-bus-org-narrow")).Statement[0];
        assert.deepEqual(narrow.Condition?.StringEquals, { "aws:PrincipalOrgID": "o-abcd123456", "aws:PrincipalAccount": ["111111111111", "333333333333"] });
    });

    it("refuses a policy that admits nobody, a malformed account id or organization id", () => {
        assert.throws(() => new HubEventBusPolicy("t-bus-empty", {}), /give memberAccountIds or organizationId/);
        assert.throws(() => new HubEventBusPolicy("t-bus-badacct", { memberAccountIds: ["1234"] }), /memberAccountIds\[0\] must be a 12-digit AWS account id, got "1234"/);
        assert.throws(() => hubEventBusPolicy({ partition: "aws", busArn: OWN_BUS, organizationId: "org-1" }), /organizationId must look like o-/);
    });
});

describe("event policies (core/eventPolicies)", () => {
    it("never grants a wildcard action, and grants only events:PutEvents", () => {
        const docs = [
            forwarderRolePolicy(HUB_BUS),
            hubEventBusPolicy({ partition: "aws", busArn: HUB_BUS, memberAccountIds: MEMBERS }),
            hubEventBusPolicy({ partition: "aws", busArn: HUB_BUS, organizationId: "o-abcd123456", memberAccountIds: MEMBERS }),
        ];
        for (const d of docs) {
            assert.deepEqual(actionsOf(d), ["events:PutEvents"]);
            assert.ok(actionsOf(d).every((a) => !a.includes("*")));
            assert.ok(d.Statement.every((s) => s.Effect === "Allow" && s.Resource === HUB_BUS));
        }
    });

    it("builds default-bus ARNs in the partition, and rejects malformed regions", () => {
        assert.equal(defaultEventBusArn("aws-us-gov", "us-gov-west-1", HUB), `arn:aws-us-gov:events:us-gov-west-1:${HUB}:event-bus/default`);
        assert.throws(() => defaultEventBusArn("aws", "useast1", HUB), /region must be an AWS region name/);
    });
});
