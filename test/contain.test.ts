import { strict as assert } from "node:assert";
import { ResponseError } from "../functions/lib/errors";
import {
    AutoScalingClient,
    DescribeAutoScalingInstancesCommand,
    DetachInstancesCommand,
} from "@aws-sdk/client-auto-scaling";
import {
    AssociateIamInstanceProfileCommand,
    CreateTagsCommand,
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstancesCommand,
    CreateNetworkAclEntryCommand,
    DescribeNetworkAclsCommand,
    DescribeNetworkInterfacesCommand,
    DescribeRouteTablesCommand,
    DescribeVpcEndpointsCommand,
    EC2Client,
    EC2ServiceException,
    ModifyInstanceAttributeCommand,
    ModifyNetworkInterfaceAttributeCommand,
    ReplaceIamInstanceProfileAssociationCommand,
    type Instance,
} from "@aws-sdk/client-ec2";
import {
    DeregisterTargetsCommand,
    DescribeTargetGroupsCommand,
    DescribeTargetHealthCommand,
    ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
    AttachRolePolicyCommand,
    CreatePolicyCommand,
    GetInstanceProfileCommand,
    GetPolicyCommand,
    IAMClient,
    NoSuchEntityException,
} from "@aws-sdk/client-iam";
import { parseRevocationDocument, revocationPolicyArn } from "../core/revocation";
import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import type { ActionRecord, CaseOpened } from "../core/workflow";
import { containCase } from "../functions/contain/contain";
import {
    ConfigurationError,
    ContainmentError,
    InstanceNotFoundError,
    InstanceTerminatedError,
    InvalidRequestError,
    NoIsolationGroupError,
    PartialContainmentError,
    UnsupportedNetworkLayoutError,
} from "../functions/lib/containmentErrors";
import { parseContainEvent } from "../functions/contain/event";
import { handler } from "../functions/contain/index";
import {
    caseFunctionPolicy,
    containFunctionPolicy,
    denyModifyIsolatedPolicy,
    denyModifyIsolatedScp,
    instanceArn,
    responderRolePolicy,
    SCP_MAX_CHARACTERS,
} from "../core/containmentPolicies";
import { containSettingsFromEnv, type ContainSettings } from "../functions/contain/settings";
import { withFileSettings } from "../functions/lib/settingsFile";
import { containSettingsFile, SETTINGS_FILE } from "../core/workflow";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CrossAccountRoleError, setClientCustomizer } from "../functions/lib/aws";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const REGION = "eu-west-1";
const INSTANCE_ID = "i-0123456789abcdef0";
const CASE_ID = "i-0123456789abcdef0-3f2a1b4c5d6e";
const VPC_ID = "vpc-0a1b2c3d4e5f60718";
const SUBNET_ID = "subnet-0123456789abcdef0";
const ISOLATION_SG = "sg-0aaaaaaaaaaaaaaaa";
const UNTRACK_SG = "sg-0bbbbbbbbbbbbbbbb";
const ENI_A = "eni-0000000000000000a";
const ENI_B = "eni-0000000000000000b";
const ENI_C = "eni-0000000000000000c";
const ENIS = [ENI_A, ENI_B, ENI_C];
const ORIGINAL_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/app/web-profile`;
const CAPTURE_PROFILE = `arn:aws:iam::${ACCOUNT}:instance-profile/dfir-capture`;
const ASSOCIATION_ID = "iip-assoc-0123456789abcdef0";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/web-role`;
const T0 = Date.parse("2025-01-02T03:04:05.000Z");

/** A new case: three interfaces (primary with two groups, IPv6 secondary, a third), two volumes, a profile. */
const BASE_CASE: CaseOpened = {
    caseId: CASE_ID,
    isNew: true,
    target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE_ID },
    findingIds: ["finding-1"],
    openedAt: "2025-01-02T03:04:00.000Z",
    instance: {
        instanceId: INSTANCE_ID,
        state: "running",
        platform: "linux",
        vpcId: VPC_ID,
        subnetId: SUBNET_ID,
        networkInterfaces: [
            { networkInterfaceId: ENI_A, groups: ["sg-0111111111111111a", "sg-0222222222222222b"], deviceIndex: 0, ipv6Addresses: [], vpcId: VPC_ID, subnetId: SUBNET_ID, privateIpAddresses: ["10.0.0.10"] },
            { networkInterfaceId: ENI_B, groups: ["sg-0333333333333333c"], deviceIndex: 1, ipv6Addresses: ["2600:1f18::10"], vpcId: VPC_ID, subnetId: SUBNET_ID, privateIpAddresses: ["10.0.0.11"] },
            { networkInterfaceId: ENI_C, groups: ["sg-0444444444444444d"], deviceIndex: 2, ipv6Addresses: [], vpcId: VPC_ID, subnetId: SUBNET_ID, privateIpAddresses: ["10.0.0.12"] },
        ],
        iamInstanceProfile: { arn: ORIGINAL_PROFILE, associationId: ASSOCIATION_ID },
        volumes: [
            { volumeId: "vol-0000000000000000a", deviceName: "/dev/xvda", deleteOnTermination: true, root: true },
            { volumeId: "vol-0000000000000000b", deviceName: "/dev/xvdf", deleteOnTermination: false, root: false },
        ],
        tags: { Name: "web-1" },
        disableApiTermination: false,
        disableApiStop: false,
        shutdownBehavior: "terminate",
    },
    approvalRequired: false,
    skipContainment: false,
    evidence: { bucket: "dfir-evidence", prefix: `cases/${CASE_ID}/` },
};

function caseFixture(): CaseOpened {
    return structuredClone(BASE_CASE);
}

/** A clock that advances one second per reading, so every action time is distinct and predictable in order. */
function ticking(): () => Date {
    let n = 0;
    return () => new Date(T0 + 1000 * n++);
}

function settings(overrides: Partial<ContainSettings> = {}): ContainSettings {
    return {
        isolationGroups: { [VPC_ID]: ISOLATION_SG },
        untrackGroups: { [VPC_ID]: UNTRACK_SG },
        captureProfileArn: CAPTURE_PROFILE,
        now: () => new Date(T0),
        ...overrides,
    };
}

function ec2Error(name: string, message = name): EC2ServiceException {
    return new EC2ServiceException({ name, message, $fault: "client", $metadata: { httpStatusCode: 400 } });
}

/** Resolves on the next turn of the event loop: every request issuable now has been issued. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Deferred {
    promise: Promise<object>;
    resolve: () => void;
    reject: (error: Error) => void;
}

function deferred(): Deferred {
    let resolve: () => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const promise = new Promise<object>((res, rej) => {
        resolve = () => res({});
        reject = rej;
    });
    return { promise, resolve, reject };
}

describe("contain", () => {
    let ec2: AwsClientStub<EC2Client>;
    let asg: AwsClientStub<AutoScalingClient>;
    let elb: AwsClientStub<ElasticLoadBalancingV2Client>;
    let iam: AwsClientStub<IAMClient>;
    let sts: AwsClientStub<STSClient>;

    beforeEach(() => {
        // Fresh client cache and stubs per test; anything not arranged fails loudly instead of returning undefined.
        setClientCustomizer(undefined);
        ec2 = mockClient(EC2Client);
        asg = mockClient(AutoScalingClient);
        elb = mockClient(ElasticLoadBalancingV2Client);
        iam = mockClient(IAMClient);
        sts = mockClient(STSClient);
        for (const stub of [ec2, asg, elb, iam, sts] as Array<AwsClientStub<any>>) {
            stub.onAnyCommand().rejects(new Error("Mock not implemented: unexpected command"));
        }
    });

    afterEach(() => {
        for (const stub of [ec2, asg, elb, iam, sts] as Array<AwsClientStub<any>>) stub.restore();
        setClientCustomizer(undefined);
    });

    /** Every change succeeds; not in an Auto Scaling group; no target groups; the profile has one role. */
    function arrangeHappy(): void {
        ec2.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
        ec2.on(ModifyInstanceAttributeCommand).resolves({});
        ec2.on(CreateTagsCommand).resolves({});
        ec2.on(ReplaceIamInstanceProfileAssociationCommand).resolves({});
        ec2.on(AssociateIamInstanceProfileCommand).resolves({});
        asg.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
        elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
        iam.on(GetInstanceProfileCommand).resolves({
            InstanceProfile: {
                InstanceProfileName: "web-profile",
                InstanceProfileId: "AIPA0",
                Arn: ORIGINAL_PROFILE,
                Path: "/app/",
                CreateDate: new Date(T0),
                Roles: [{ RoleName: "web-role", Arn: ROLE_ARN, RoleId: "AROA0", Path: "/", CreateDate: new Date(T0) }],
            },
        });
        // The role has no revocation policy yet: Contain creates it and attaches it.
        iam.on(GetPolicyCommand).rejects(new NoSuchEntityException({ message: "Policy does not exist", $metadata: {} }));
        iam.on(CreatePolicyCommand).resolves({});
        iam.on(AttachRolePolicyCommand).resolves({});
        arrangeNetwork();
    }

    /** The revocation policy documents Contain created. */
    function revocationsCreated() {
        return iam.commandCalls(CreatePolicyCommand).map((call) => call.args[0].input);
    }

    /**
     * The VPC as the network ACL step reads it: one ACL (AWS's default rules) serving the instance's subnet and a
     * public one, routes through a NAT gateway, no SSM endpoint, nobody else in the subnet; every rule accepted.
     */
    function arrangeNetwork(): void {
        const allow = (egress: boolean) => ({ RuleNumber: 100, Protocol: "-1", RuleAction: "allow" as const, Egress: egress, CidrBlock: "0.0.0.0/0" });
        ec2.on(DescribeNetworkAclsCommand).resolves({
            NetworkAcls: [{
                NetworkAclId: "acl-0000000000000000a",
                VpcId: VPC_ID,
                IsDefault: true,
                Entries: [allow(false), allow(true)],
                Associations: [{ SubnetId: SUBNET_ID }, { SubnetId: "subnet-0fffffffffffffff0" }],
            }],
        });
        ec2.on(DescribeRouteTablesCommand).resolves({
            RouteTables: [{ RouteTableId: "rtb-0000000000000000a", VpcId: VPC_ID, Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: "0.0.0.0/0", NatGatewayId: "nat-0000000000000000a" }] }],
        });
        ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
        ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: ENIS.map((id) => ({ NetworkInterfaceId: id, SubnetId: SUBNET_ID })) });
        ec2.on(CreateNetworkAclEntryCommand).resolves({});
    }

    /** Names of every command sent to any client, in order. */
    function allCommands(): string[] {
        return [ec2, asg, elb, iam, sts].flatMap((stub) =>
            (stub as AwsClientStub<any>).calls().map((call) => (call.args[0] as object).constructor.name),
        );
    }

    function interfaceInputs() {
        return ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((call) => call.args[0].input);
    }

    function actionsOf(records: ActionRecord[], action: string): ActionRecord[] {
        return records.filter((record) => record.action === action);
    }

    describe("containCase: a new case", () => {
        it("moves every interface to the untrack group, then to the isolation group, and tags when all are isolated", async () => {
            arrangeHappy();

            const result = await containCase({ case: caseFixture() }, settings());

            // Per interface: untrack first, isolation second (IPv6 interfaces alike).
            for (const eni of ENIS) {
                assert.deepEqual(
                    interfaceInputs().filter((input) => input.NetworkInterfaceId === eni).map((input) => input.Groups),
                    [[UNTRACK_SG], [ISOLATION_SG]],
                    eni,
                );
            }
            const tags = [
                { Key: "dfir:case-id", Value: CASE_ID },
                { Key: "dfir:status", Value: "isolated" },
                { Key: "dfir:isolated-at", Value: new Date(T0).toISOString() },
            ];
            // The instance, and its interfaces in a call of their own (issued together).
            assert.deepEqual(ec2.commandCalls(CreateTagsCommand).map((call) => call.args[0].input), [
                { Resources: [INSTANCE_ID], Tags: tags },
                { Resources: ENIS, Tags: tags },
            ]);
            assert.equal(result.status, "isolated");
            assert.equal(result.caseId, CASE_ID);
            assert.equal(result.instanceId, INSTANCE_ID);
            assert.equal(result.isolationGroupId, ISOLATION_SG);
            assert.equal(result.untrackGroupId, UNTRACK_SG);
            assert.equal(result.isolatedAt, new Date(T0).toISOString());
            assert.equal(ec2.commandCalls(DescribeInstancesCommand).length, 0, "a new case acts on the record: no re-read");
            const eniActions = actionsOf(result.actions, "ec2:ModifyNetworkInterfaceAttribute");
            assert.equal(eniActions.length, 6);
            assert.ok(eniActions.every((a) => a.ok && a.at === new Date(T0).toISOString()));
            assert.deepEqual(
                eniActions.filter((a) => a.target === ENI_A).map((a) => a.detail),
                [`untrack group ${UNTRACK_SG} (previous groups sg-0111111111111111a,sg-0222222222222222b)`, `isolation group ${ISOLATION_SG}`],
            );
            assert.ok(result.actions.every((a) => a.ok), JSON.stringify(result.actions.filter((a) => !a.ok)));
            assert.doesNotThrow(() => JSON.parse(JSON.stringify(result)));
        });

        it("issues every first-round change at once, isolates each interface right after its own untrack, tags last", async () => {
            arrangeHappy();
            const untrack = new Map(ENIS.map((eni) => [eni, deferred()]));
            const events: string[] = [];
            ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake((input) => {
                const step = input.Groups[0] === UNTRACK_SG ? "untrack" : "isolate";
                events.push(`${step} ${input.NetworkInterfaceId}`);
                return step === "untrack" ? untrack.get(input.NetworkInterfaceId)!.promise : Promise.resolve({});
            });
            ec2.on(ModifyInstanceAttributeCommand).callsFake(() => {
                events.push("protect");
                return Promise.resolve({});
            });
            ec2.on(CreateTagsCommand).callsFake(() => {
                events.push("tag");
                return Promise.resolve({});
            });

            const run = containCase({ case: caseFixture() }, settings());
            await flush();

            // Round 1 is out with no answer yet: every untrack change, the protections and the first reads/changes
            // of every other branch; no isolation change and no tag before the untrack answers.
            assert.deepEqual(events.filter((e) => e.startsWith("untrack")).sort(), ENIS.map((eni) => `untrack ${eni}`));
            assert.equal(events.filter((e) => e === "protect").length, 4);
            assert.equal(asg.commandCalls(DescribeAutoScalingInstancesCommand).length, 1);
            assert.equal(elb.commandCalls(DescribeTargetGroupsCommand).length, 1);
            assert.equal(iam.commandCalls(GetInstanceProfileCommand).length, 1);
            assert.equal(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length, 1);
            assert.ok(!events.some((e) => e.startsWith("isolate") || e === "tag"), events.join(" | "));

            // One interface's untrack answers: that interface (only) moves on to isolation.
            untrack.get(ENI_B)!.resolve();
            await flush();
            assert.deepEqual(events.filter((e) => e.startsWith("isolate")), [`isolate ${ENI_B}`]);
            assert.ok(!events.includes("tag"));

            untrack.get(ENI_A)!.resolve();
            untrack.get(ENI_C)!.resolve();
            const result = await run;

            assert.equal(result.status, "isolated");
            assert.deepEqual(events.slice(-2), ["tag", "tag"], "tags only after every interface is isolated");
            for (const eni of ENIS) {
                assert.ok(events.indexOf(`untrack ${eni}`) < events.indexOf(`isolate ${eni}`), eni);
            }
        });

        it("turns on termination and stop protection, shutdown behaviour stop, and keeps every volume on termination", async () => {
            arrangeHappy();

            const result = await containCase({ case: caseFixture() }, settings());

            assert.deepEqual(ec2.commandCalls(ModifyInstanceAttributeCommand).map((call) => call.args[0].input), [
                // The Attribute + Value form: it carries ec2:Attribute, which Contain's policy narrows to these three.
                { InstanceId: INSTANCE_ID, Attribute: "disableApiTermination", Value: "true" },
                { InstanceId: INSTANCE_ID, Attribute: "disableApiStop", Value: "true" },
                { InstanceId: INSTANCE_ID, Attribute: "instanceInitiatedShutdownBehavior", Value: "stop" },
                {
                    InstanceId: INSTANCE_ID,
                    BlockDeviceMappings: [
                        { DeviceName: "/dev/xvda", Ebs: { DeleteOnTermination: false } },
                        { DeviceName: "/dev/xvdf", Ebs: { DeleteOnTermination: false } },
                    ],
                },
            ]);
            const details = actionsOf(result.actions, "ec2:ModifyInstanceAttribute").map((a) => a.detail);
            assert.ok(details.includes("InstanceInitiatedShutdownBehavior=stop (recorded terminate)"), details.join(" | "));
            assert.ok(details.includes("DeleteOnTermination=false for vol-0000000000000000a (/dev/xvda), vol-0000000000000000b (/dev/xvdf)"));
        });

        it("detaches the instance from its Auto Scaling group without decrementing the desired capacity", async () => {
            arrangeHappy();
            asg.on(DescribeAutoScalingInstancesCommand).resolves({
                AutoScalingInstances: [
                    {
                        InstanceId: INSTANCE_ID,
                        AutoScalingGroupName: "web-asg",
                        AvailabilityZone: "eu-west-1a",
                        LifecycleState: "InService",
                        HealthStatus: "HEALTHY",
                        ProtectedFromScaleIn: false,
                    },
                ],
            });
            asg.on(DetachInstancesCommand).resolves({ Activities: [] });

            const result = await containCase({ case: caseFixture() }, settings());

            assert.deepEqual(asg.commandCalls(DescribeAutoScalingInstancesCommand)[0].args[0].input, { InstanceIds: [INSTANCE_ID] });
            assert.deepEqual(asg.commandCalls(DetachInstancesCommand).map((call) => call.args[0].input), [
                { AutoScalingGroupName: "web-asg", InstanceIds: [INSTANCE_ID], ShouldDecrementDesiredCapacity: false },
            ]);
            const [detach] = actionsOf(result.actions, "autoscaling:DetachInstances");
            assert.equal(detach.target, "web-asg");
            assert.equal(detach.ok, true);
        });

        it("does not detach an instance outside any group, or one already detaching", async () => {
            arrangeHappy();
            await containCase({ case: caseFixture() }, settings());
            assert.equal(asg.commandCalls(DetachInstancesCommand).length, 0);

            asg.on(DescribeAutoScalingInstancesCommand).resolves({
                AutoScalingInstances: [
                    {
                        InstanceId: INSTANCE_ID,
                        AutoScalingGroupName: "web-asg",
                        AvailabilityZone: "eu-west-1a",
                        LifecycleState: "Detaching",
                        HealthStatus: "HEALTHY",
                        ProtectedFromScaleIn: false,
                    },
                ],
            });
            await containCase({ case: caseFixture() }, settings());
            assert.equal(asg.commandCalls(DetachInstancesCommand).length, 0);
        });

        it("deregisters from registered target groups only, across pages, with the registered ports", async () => {
            arrangeHappy();
            const tg = (name: string) => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`;
            elb.on(DescribeTargetGroupsCommand).callsFake((input) =>
                Promise.resolve(
                    input.Marker === undefined
                        ? {
                              TargetGroups: [
                                  { TargetGroupArn: tg("web"), TargetType: "instance", VpcId: VPC_ID },
                                  { TargetGroupArn: tg("other"), TargetType: "instance", VpcId: VPC_ID },
                                  { TargetGroupArn: tg("by-ip"), TargetType: "ip", VpcId: VPC_ID },
                              ],
                              NextMarker: "page-2",
                          }
                        : {
                              TargetGroups: [
                                  { TargetGroupArn: tg("draining"), TargetType: "instance", VpcId: VPC_ID },
                                  { TargetGroupArn: tg("unused-lb"), TargetType: "instance", VpcId: VPC_ID },
                                  { TargetGroupArn: tg("other-vpc"), TargetType: "instance", VpcId: "vpc-0ffffffffffffffff" },
                              ],
                          },
                ),
            );
            const health: Record<string, object> = {
                // Registered on two ports.
                [tg("web")]: {
                    TargetHealthDescriptions: [
                        { Target: { Id: INSTANCE_ID, Port: 80 }, TargetHealth: { State: "healthy" } },
                        { Target: { Id: INSTANCE_ID, Port: 8080 }, TargetHealth: { State: "unhealthy", Reason: "Target.FailedHealthChecks" } },
                    ],
                },
                // What DescribeTargetHealth answers for an instance that is not registered.
                [tg("other")]: {
                    TargetHealthDescriptions: [
                        { Target: { Id: INSTANCE_ID }, TargetHealth: { State: "unused", Reason: "Target.NotRegistered" } },
                    ],
                },
                [tg("draining")]: {
                    TargetHealthDescriptions: [
                        { Target: { Id: INSTANCE_ID, Port: 443 }, TargetHealth: { State: "draining", Reason: "Target.DeregistrationInProgress" } },
                    ],
                },
                // Registered in a group no load balancer uses: "unused", but registered all the same.
                [tg("unused-lb")]: {
                    TargetHealthDescriptions: [
                        { Target: { Id: INSTANCE_ID, Port: 9000 }, TargetHealth: { State: "unused", Reason: "Target.NotInUse" } },
                    ],
                },
            };
            // The ip-type group holds addresses: the instance's (IPv4 of one interface, IPv6 of another) and a neighbour's.
            let ipReads = 0;
            const byIp = () => ({
                TargetHealthDescriptions: [
                    { Target: { Id: "10.0.0.10", Port: 443 }, TargetHealth: { State: ipReads > 1 ? "draining" : "healthy" } },
                    // Registered from outside the group's VPC ("all"): the same private address of another network.
                    { Target: { Id: "10.0.0.10", Port: 8443, AvailabilityZone: "all" }, TargetHealth: { State: "healthy" } },
                    { Target: { Id: "2600:1f18::10", Port: 443 }, TargetHealth: { State: ipReads > 1 ? "draining" : "healthy" } },
                    { Target: { Id: "10.0.9.9", Port: 443 }, TargetHealth: { State: "healthy" } },
                ],
            });
            elb.on(DescribeTargetHealthCommand).callsFake((input) => {
                if (input.TargetGroupArn === tg("by-ip")) {
                    ipReads += 1;
                    return Promise.resolve(byIp());
                }
                return Promise.resolve(health[input.TargetGroupArn]);
            });
            elb.on(DeregisterTargetsCommand).resolves({});

            const result = await containCase({ case: caseFixture() }, settings());

            assert.deepEqual(elb.commandCalls(DescribeTargetGroupsCommand).map((call) => call.args[0].input), [{}, { Marker: "page-2" }]);
            assert.deepEqual(
                elb.commandCalls(DescribeTargetHealthCommand).map((call) => call.args[0].input).sort((a, b) => a.TargetGroupArn!.localeCompare(b.TargetGroupArn!)),
                [
                    // The ip group read whole, before and after (DeregisterTargets succeeds even for a target it does not have).
                    { TargetGroupArn: tg("by-ip") },
                    { TargetGroupArn: tg("by-ip") },
                    ...[tg("draining"), tg("other"), tg("unused-lb"), tg("web")].map((arn) => ({ TargetGroupArn: arn, Targets: [{ Id: INSTANCE_ID }] })),
                ],
                "instance groups of other VPCs cannot hold the instance: not asked",
            );
            assert.deepEqual(
                elb.commandCalls(DeregisterTargetsCommand).map((call) => call.args[0].input).sort((a, b) => a.TargetGroupArn!.localeCompare(b.TargetGroupArn!)),
                [
                    { TargetGroupArn: tg("by-ip"), Targets: [{ Id: "10.0.0.10", Port: 443 }, { Id: "2600:1f18::10", Port: 443 }] },
                    { TargetGroupArn: tg("unused-lb"), Targets: [{ Id: INSTANCE_ID, Port: 9000 }] },
                    { TargetGroupArn: tg("web"), Targets: [{ Id: INSTANCE_ID, Port: 80 }, { Id: INSTANCE_ID, Port: 8080 }] },
                ],
            );
            assert.equal(actionsOf(result.actions, "elasticloadbalancing:DeregisterTargets").length, 3);
            assert.ok(result.actions.every((a) => a.ok), "confirmed deregistered");
        });

        it("revokes the instance's existing sessions on every role of its profile: the role's revocation policy, created and attached", async () => {
            arrangeHappy();
            const clock = ticking();

            const result = await containCase({ case: caseFixture() }, settings({ now: clock }));

            assert.deepEqual(iam.commandCalls(GetInstanceProfileCommand)[0].args[0].input, { InstanceProfileName: "web-profile" });
            const arn = revocationPolicyArn("aws", ACCOUNT, "web-role");
            const [created] = revocationsCreated();
            assert.equal(revocationsCreated().length, 1);
            assert.equal(created.PolicyName, "dfir-revoke-web-role");
            assert.equal(created.Path, "/dfir/revoke/");
            assert.deepEqual(iam.commandCalls(AttachRolePolicyCommand).map((call) => call.args[0].input), [{ RoleName: "web-role", PolicyArn: arn }]);
            const [create] = actionsOf(result.actions, "iam:CreatePolicy");
            const [swap] = actionsOf(result.actions, "ec2:ReplaceIamInstanceProfileAssociation");
            const issuedBefore = /issued before (\S+)$/.exec(create.detail ?? "")?.[1];
            assert.ok(issuedBefore !== undefined && issuedBefore >= swap.at, "the revocation time is taken after the swap answered");
            const document = JSON.parse(created.PolicyDocument!);
            assert.deepEqual(document.Statement, [
                {
                    Sid: document.Statement[0].Sid,
                    Effect: "Deny",
                    // Everything but the SSM agent's own channel (its cached credentials must still fetch the capture command).
                    NotAction: ["ec2messages:*", "ssmmessages:*", "ssm:UpdateInstanceInformation"],
                    Resource: "*",
                    Condition: {
                        DateLessThan: { "aws:TokenIssueTime": issuedBefore },
                        StringLike: { "ec2:SourceInstanceARN": [`*/${INSTANCE_ID}`] },
                    },
                },
            ]);
            assert.match(document.Statement[0].Sid, /^DfirRevoke\d{10}$/);
            assert.deepEqual(parseRevocationDocument(created.PolicyDocument!).map((g) => g.instanceIds), [[INSTANCE_ID]]);
            assert.equal(create.target, arn);
            assert.ok(actionsOf(result.actions, "iam:AttachRolePolicy")[0]?.ok);
            assert.ok(result.actions.every((a) => a.ok), "no failed action");
        });

        it("records an ip target DeregisterTargets left registered as a failed action", async () => {
            arrangeHappy();
            const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/by-ip/0123456789abcdef`;
            elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: arn, TargetType: "ip", VpcId: VPC_ID }] });
            elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: "10.0.0.10", Port: 443 }, TargetHealth: { State: "healthy" } }] });
            elb.on(DeregisterTargetsCommand).resolves({});

            const result = await containCase({ case: caseFixture() }, settings());

            const failed = result.actions.filter((a) => !a.ok);
            assert.deepEqual(failed.map((a) => [a.action, a.target]), [["dfir:ConfirmDeregistered", arn]]);
            assert.match(failed[0]?.error ?? "", /still registered after DeregisterTargets: 10\.0\.0\.10:443/);
        });

        it("records a revocation IAM refuses as a failed action (the case is then PARTIAL), and isolates all the same", async () => {
            arrangeHappy();
            iam.on(AttachRolePolicyCommand).rejects(Object.assign(new Error("Cannot exceed quota for PoliciesPerRole: 10"), { name: "LimitExceeded" }));

            const result = await containCase({ case: caseFixture() }, settings());

            assert.equal(result.status, "isolated");
            const failed = result.actions.filter((a) => !a.ok);
            assert.deepEqual(failed.map((a) => [a.action, a.error]), [["iam:AttachRolePolicy", "LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10"]]);
        });

        it("replaces the recorded profile association with the capture profile", async () => {
            arrangeHappy();

            const result = await containCase({ case: caseFixture() }, settings());

            assert.deepEqual(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).map((call) => call.args[0].input), [
                { AssociationId: ASSOCIATION_ID, IamInstanceProfile: { Arn: CAPTURE_PROFILE } },
            ]);
            assert.equal(ec2.commandCalls(AssociateIamInstanceProfileCommand).length, 0);
            assert.equal(actionsOf(result.actions, "ec2:ReplaceIamInstanceProfileAssociation")[0].detail, `capture profile ${CAPTURE_PROFILE} (was ${ORIGINAL_PROFILE})`);
        });

        it("associates the capture profile with an instance that had none, and has nothing to revoke", async () => {
            arrangeHappy();
            const c = caseFixture();
            delete c.instance.iamInstanceProfile;

            await containCase({ case: c }, settings());

            assert.deepEqual(ec2.commandCalls(AssociateIamInstanceProfileCommand).map((call) => call.args[0].input), [
                { InstanceId: INSTANCE_ID, IamInstanceProfile: { Arn: CAPTURE_PROFILE } },
            ]);
            assert.equal(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length, 0);
            assert.equal(iam.calls().length, 0);
        });

        it("uses the same-named capture profile of the instance's account for a member-account instance", async () => {
            arrangeHappy();
            const c = caseFixture();
            c.target.accountId = OTHER_ACCOUNT;

            await containCase({ case: c }, settings());

            assert.equal(
                ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)[0].args[0].input.IamInstanceProfile?.Arn,
                `arn:aws:iam::${OTHER_ACCOUNT}:instance-profile/dfir-capture`,
            );
        });

        it("records the swap as not done without a capture profile, and still revokes", async () => {
            arrangeHappy();

            const result = await containCase({ case: caseFixture() }, settings({ captureProfileArn: undefined }));

            assert.equal(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length, 0);
            assert.equal(ec2.commandCalls(AssociateIamInstanceProfileCommand).length, 0);
            const [note] = actionsOf(result.actions, "dfir:SwapInstanceProfile");
            assert.match(note.detail ?? "", /^not done: no capture profile configured \(CAPTURE_PROFILE_ARN\)/);
            assert.equal(revocationsCreated().length, 1);
            assert.equal(result.status, "isolated");
        });

        it("goes straight to isolation without an untrack group, recording that tracked connections were not cut", async () => {
            arrangeHappy();

            const result = await containCase({ case: caseFixture() }, settings({ untrackGroups: {} }));

            assert.deepEqual(interfaceInputs().map((input) => input.Groups), [[ISOLATION_SG], [ISOLATION_SG], [ISOLATION_SG]]);
            const [note] = actionsOf(result.actions, "dfir:CutConnectionTracking");
            assert.equal(note.target, VPC_ID);
            assert.match(note.detail ?? "", /^not done: no untrack group for vpc-0a1b2c3d4e5f60718 in UNTRACK_GROUPS/);
            assert.equal(result.untrackGroupId, undefined);
            assert.equal(result.status, "isolated");
        });

        it("skips interfaces already only in the isolation group, and untrack for one already only in the untrack group", async () => {
            arrangeHappy();
            const c = caseFixture();
            c.instance.networkInterfaces[1].groups = [ISOLATION_SG];
            c.instance.networkInterfaces[2].groups = [UNTRACK_SG];

            await containCase({ case: c }, settings());

            assert.deepEqual(interfaceInputs(), [
                { NetworkInterfaceId: ENI_A, Groups: [UNTRACK_SG] },
                { NetworkInterfaceId: ENI_C, Groups: [ISOLATION_SG] },
                { NetworkInterfaceId: ENI_A, Groups: [ISOLATION_SG] },
            ]);
        });

        it("still isolates an interface whose untrack change failed, and records the failure", async () => {
            arrangeHappy();
            ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_B, Groups: [UNTRACK_SG] }).rejects(ec2Error("InvalidGroup.NotFound"));

            const result = await containCase({ case: caseFixture() }, settings());

            assert.equal(result.status, "isolated");
            const failed = result.actions.filter((a) => !a.ok);
            assert.deepEqual(failed.map((a) => [a.target, a.detail, a.error]), [
                [ENI_B, `untrack group ${UNTRACK_SG} (previous groups sg-0333333333333333c)`, "InvalidGroup.NotFound: InvalidGroup.NotFound"],
            ]);
            assert.deepEqual(interfaceInputs().filter((i) => i.NetworkInterfaceId === ENI_B).map((i) => i.Groups), [[UNTRACK_SG], [ISOLATION_SG]]);
        });

        it("raises NoIsolationGroupError naming the VPC before any AWS call", async () => {
            arrangeHappy();

            await assert.rejects(
                containCase({ case: caseFixture() }, settings({ isolationGroups: { "vpc-0ffffffffffffffff": ISOLATION_SG } })),
                (error: unknown) => error instanceof NoIsolationGroupError && error.vpcId === VPC_ID,
            );
            assert.deepEqual(allCommands(), []);
        });

        it("refuses, before any AWS call, a record without interfaces or VPC", async () => {
            const noEni = caseFixture();
            noEni.instance.networkInterfaces = [];
            await assert.rejects(containCase({ case: noEni }, settings()), UnsupportedNetworkLayoutError);
            const noVpc = caseFixture();
            noVpc.instance.vpcId = "";
            await assert.rejects(containCase({ case: noVpc }, settings()), UnsupportedNetworkLayoutError);
            assert.deepEqual(allCommands(), []);
        });
    });

    describe("containCase: skip, already isolated, repeats", () => {
        it("makes no AWS call at all for an instance tagged dfir:skip=true", async () => {
            arrangeHappy();
            const c = caseFixture();
            c.skipContainment = true;
            c.instance.tags["dfir:skip"] = "true";
            c.target.roleArn = `arn:aws:iam::${ACCOUNT}:role/dfir-responder`;

            const result = await containCase({ case: c }, settings());

            assert.deepEqual(allCommands(), []);
            assert.deepEqual(result, {
                caseId: CASE_ID,
                instanceId: INSTANCE_ID,
                status: "skipped",
                reason: "dfir:skip=true",
                actions: [
                    {
                        action: "dfir:SkipContainment",
                        target: INSTANCE_ID,
                        at: new Date(T0).toISOString(),
                        ok: true,
                        detail: "instance tagged dfir:skip=true: evidence only, no containment change made",
                    },
                ],
            });
        });

        it("changes no interface of an instance already isolated and tagged, but re-asserts protections, detach and revocation", async () => {
            arrangeHappy();
            const c = caseFixture();
            for (const eni of c.instance.networkInterfaces) eni.groups = [ISOLATION_SG];
            c.instance.tags = { "dfir:case-id": "older-case", "dfir:status": "isolated", "dfir:isolated-at": "2025-01-01T00:00:00.000Z" };
            c.instance.iamInstanceProfile = { arn: CAPTURE_PROFILE, associationId: ASSOCIATION_ID };

            const result = await containCase({ case: c }, settings());

            assert.equal(result.status, "already-isolated");
            assert.equal(result.isolatedAt, "2025-01-01T00:00:00.000Z");
            assert.equal(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).length, 0);
            assert.equal(ec2.commandCalls(CreateTagsCommand).length, 0);
            assert.equal(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length, 0, "already on the capture profile");
            assert.equal(ec2.commandCalls(ModifyInstanceAttributeCommand).length, 4);
            assert.equal(asg.commandCalls(DescribeAutoScalingInstancesCommand).length, 1);
            assert.equal(actionsOf(result.actions, "dfir:CutConnectionTracking").length, 0);
        });

        it("tags (status isolated) an instance whose interfaces are isolated but which lacks the status tag", async () => {
            arrangeHappy();
            const c = caseFixture();
            for (const eni of c.instance.networkInterfaces) eni.groups = [ISOLATION_SG];

            const result = await containCase({ case: c }, settings());

            assert.equal(result.status, "isolated");
            assert.equal(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).length, 0);
            assert.equal(ec2.commandCalls(CreateTagsCommand).length, 2);
        });

        function currentInstance(groups: Record<string, string[]>, tags: Record<string, string>): Instance {
            return {
                InstanceId: INSTANCE_ID,
                State: { Code: 16, Name: "running" },
                VpcId: VPC_ID,
                Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
                NetworkInterfaces: ENIS.map((eni, index) => ({
                    NetworkInterfaceId: eni,
                    VpcId: VPC_ID,
                    Attachment: { DeviceIndex: index },
                    Groups: (groups[eni] ?? [ISOLATION_SG]).map((GroupId) => ({ GroupId })),
                })),
            };
        }

        it("re-reads a repeat's current state (never re-applying the open group) and re-asserts idempotently", async () => {
            arrangeHappy();
            const c = caseFixture();
            c.isNew = false;
            ec2.on(DescribeInstancesCommand).resolves({
                Reservations: [{ Instances: [currentInstance({}, { "dfir:case-id": CASE_ID, "dfir:status": "isolated", "dfir:isolated-at": "2025-01-02T03:04:06.000Z" })] }],
            });
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
                IamInstanceProfileAssociations: [
                    { AssociationId: "iip-assoc-0ffffffffffffffff", InstanceId: INSTANCE_ID, IamInstanceProfile: { Arn: CAPTURE_PROFILE, Id: "AIPB" }, State: "associated" },
                ],
            });

            const result = await containCase({ case: c }, settings());

            assert.equal(result.status, "already-isolated");
            assert.equal(result.isolatedAt, "2025-01-02T03:04:06.000Z");
            assert.deepEqual(ec2.commandCalls(DescribeInstancesCommand)[0].args[0].input, { InstanceIds: [INSTANCE_ID] });
            assert.deepEqual(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)[0].args[0].input, {
                Filters: [
                    { Name: "instance-id", Values: [INSTANCE_ID] },
                    { Name: "state", Values: ["associated"] },
                ],
            });
            assert.equal(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).length, 0, "the record's groups are pre-containment: not used");
            assert.equal(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand).length, 0);
            assert.equal(ec2.commandCalls(CreateTagsCommand).length, 0);
            assert.equal(ec2.commandCalls(ModifyInstanceAttributeCommand).length, 4);
            assert.deepEqual(revocationsCreated().map((c) => c.PolicyName), ["dfir-revoke-web-role"], "revocation re-asserted on the recorded (original) role");
        });

        it("finishes a repeat whose first run stopped half-way: an interface left in the untrack group is only isolated", async () => {
            arrangeHappy();
            const c = caseFixture();
            c.isNew = false;
            ec2.on(DescribeInstancesCommand).resolves({
                Reservations: [{ Instances: [currentInstance({ [ENI_C]: [UNTRACK_SG] }, { "dfir:case-id": CASE_ID })] }],
            });
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
                IamInstanceProfileAssociations: [
                    { AssociationId: "iip-assoc-0eeeeeeeeeeeeeeee", InstanceId: INSTANCE_ID, IamInstanceProfile: { Arn: ORIGINAL_PROFILE, Id: "AIPA" }, State: "associated" },
                ],
            });

            const result = await containCase({ case: c }, settings());

            assert.equal(result.status, "isolated");
            assert.deepEqual(interfaceInputs(), [{ NetworkInterfaceId: ENI_C, Groups: [ISOLATION_SG] }]);
            assert.deepEqual(ec2.commandCalls(ReplaceIamInstanceProfileAssociationCommand)[0].args[0].input, {
                AssociationId: "iip-assoc-0eeeeeeeeeeeeeeee",
                IamInstanceProfile: { Arn: CAPTURE_PROFILE },
            });
            assert.equal(ec2.commandCalls(CreateTagsCommand).length, 2);
        });
    });

    describe("containCase: failures", () => {
        it("applies everything else, tags the case id only, then raises PartialContainmentError carrying every action", async () => {
            arrangeHappy();
            ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_B, Groups: [ISOLATION_SG] }).rejects(
                ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."),
            );
            asg.on(DescribeAutoScalingInstancesCommand).resolves({
                AutoScalingInstances: [
                    { InstanceId: INSTANCE_ID, AutoScalingGroupName: "web-asg", AvailabilityZone: "eu-west-1a", LifecycleState: "InService", HealthStatus: "HEALTHY", ProtectedFromScaleIn: false },
                ],
            });
            asg.on(DetachInstancesCommand).resolves({});

            await assert.rejects(containCase({ case: caseFixture() }, settings()), (error: unknown) => {
                assert.ok(error instanceof PartialContainmentError);
                assert.ok(error instanceof ContainmentError);
                assert.equal(error.name, "PartialContainmentError");
                assert.deepEqual(error.isolated.sort(), [ENI_A, ENI_C]);
                assert.deepEqual(error.notIsolated, [
                    { networkInterfaceId: ENI_B, error: "UnauthorizedOperation: You are not authorized to perform this operation." },
                ]);
                // Everything else was still applied, and is in the record.
                for (const action of ["ec2:ModifyInstanceAttribute", "autoscaling:DetachInstances", "iam:CreatePolicy", "iam:AttachRolePolicy", "ec2:ReplaceIamInstanceProfileAssociation", "ec2:CreateTags"]) {
                    assert.ok(error.actions.some((a) => a.action === action && a.ok), action);
                }
                assert.equal(error.actions.filter((a) => !a.ok).length, 1);
                // The message alone (all a Step Functions Catch sees) is the record, on one line of JSON.
                assert.doesNotMatch(error.message, /\n/);
                const summary = JSON.parse(error.message);
                assert.equal(summary.message, `partial containment of ${INSTANCE_ID}: 1 interface(s) not isolated`);
                assert.equal(summary.caseId, CASE_ID);
                assert.equal(summary.isolationGroupId, ISOLATION_SG);
                assert.deepEqual(summary.actions, error.actions);
                assert.deepEqual(summary.notIsolated, error.notIsolated);
                return true;
            });
            // The status tag is reserved for complete isolation.
            assert.deepEqual(ec2.commandCalls(CreateTagsCommand).map((call) => call.args[0].input), [
                { Resources: [INSTANCE_ID], Tags: [{ Key: "dfir:case-id", Value: CASE_ID }] },
            ]);
        });

        it("raises InstanceTerminatedError with the actions so far when EC2 says the instance is gone mid-run", async () => {
            arrangeHappy();
            ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error("IncorrectInstanceState", `The instance '${INSTANCE_ID}' is not in a state from which it can be modified.`));
            ec2.on(ModifyNetworkInterfaceAttributeCommand, { Groups: [ISOLATION_SG] }).rejects(ec2Error("InvalidNetworkInterfaceID.NotFound"));
            ec2.on(ReplaceIamInstanceProfileAssociationCommand).rejects(ec2Error("IncorrectInstanceState"));
            ec2.on(DescribeInstancesCommand).resolves({
                Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Code: 48, Name: "terminated" } }] }],
            });
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });

            await assert.rejects(containCase({ case: caseFixture() }, settings()), (error: unknown) => {
                assert.ok(error instanceof InstanceTerminatedError);
                assert.equal(error.name, "InstanceTerminatedError");
                assert.equal(error.state, "terminated");
                const failed = error.actions.filter((a) => !a.ok);
                assert.ok(failed.some((a) => a.action === "ec2:ModifyInstanceAttribute" && /^IncorrectInstanceState: /.test(a.error ?? "")));
                assert.ok(error.actions.some((a) => a.action === "ec2:ModifyNetworkInterfaceAttribute" && a.ok), "the untrack changes landed before");
                assert.doesNotMatch(error.message, /\n/);
                const summary = JSON.parse(error.message);
                assert.equal(summary.state, "terminated");
                assert.deepEqual(summary.actions, error.actions);
                return true;
            });
            assert.equal(ec2.commandCalls(CreateTagsCommand).filter((c) => c.args[0].input.Tags?.some((t) => t.Key === "dfir:status")).length, 0);
        });

        it("keeps the instance's tags when tagging its interfaces is refused, recording the refusal", async () => {
            arrangeHappy();
            ec2.on(CreateTagsCommand, { Resources: ENIS }).rejects(ec2Error("UnauthorizedOperation"));

            const result = await containCase({ case: caseFixture() }, settings());

            assert.equal(result.status, "isolated");
            assert.deepEqual(result.actions.filter((a) => !a.ok).map((a) => [a.action, a.target]), [["ec2:CreateTags", ENIS.join(",")]]);
            assert.ok(result.actions.some((a) => a.action === "ec2:CreateTags" && a.target === INSTANCE_ID && a.ok));
        });

        it("raises InstanceTerminatedError for a repeat whose instance is gone, changing no interface", async () => {
            arrangeHappy();
            ec2.on(ModifyInstanceAttributeCommand).rejects(ec2Error("IncorrectInstanceState"));
            ec2.on(DescribeInstancesCommand).resolves({
                Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Code: 32, Name: "shutting-down" } }] }],
            });
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
            const c = caseFixture();
            c.isNew = false;

            await assert.rejects(containCase({ case: c }, settings()), (error: unknown) => error instanceof InstanceTerminatedError && error.state === "shutting-down");
            assert.equal(ec2.commandCalls(ModifyNetworkInterfaceAttributeCommand).length, 0);
            assert.equal(ec2.commandCalls(CreateTagsCommand).length, 0);
        });

        it("keeps going when IncorrectInstanceState comes from an instance that is still there", async () => {
            arrangeHappy();
            ec2.on(ModifyInstanceAttributeCommand, { Attribute: "disableApiStop" }).rejects(ec2Error("IncorrectInstanceState"));
            ec2.on(DescribeInstancesCommand).resolves({
                Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Code: 16, Name: "running" } }] }],
            });
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });

            const result = await containCase({ case: caseFixture() }, settings());

            assert.equal(result.status, "isolated");
            assert.deepEqual(result.actions.filter((a) => !a.ok).map((a) => a.detail), ["DisableApiStop=true (recorded false)"]);
        });

        it("records failed reads of the other branches without failing the containment", async () => {
            arrangeHappy();
            asg.on(DescribeAutoScalingInstancesCommand).rejects(new Error("AccessDenied"));
            elb.on(DescribeTargetGroupsCommand).rejects(new Error("AccessDenied"));
            iam.on(GetInstanceProfileCommand).rejects(new Error("NoSuchEntity"));

            const result = await containCase({ case: caseFixture() }, settings());

            assert.equal(result.status, "isolated");
            assert.deepEqual(result.actions.filter((a) => !a.ok).map((a) => a.action).sort(), [
                "autoscaling:DescribeAutoScalingInstances",
                "elasticloadbalancing:DescribeTargetGroups",
                "iam:GetInstanceProfile",
            ]);
        });

        it("ends with CrossAccountRoleError before any change when the member role cannot be assumed", async () => {
            arrangeHappy();
            const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`;
            sts.on(AssumeRoleCommand).rejects(new STSServiceException({ name: "AccessDenied", message: "not authorized to perform sts:AssumeRole", $fault: "client", $metadata: {} }));
            const c = caseFixture();
            c.target = { accountId: OTHER_ACCOUNT, region: REGION, instanceId: INSTANCE_ID, roleArn };

            await assert.rejects(containCase({ case: c }, settings()), (error: unknown) => {
                assert.ok(error instanceof CrossAccountRoleError);
                assert.equal(error.name, "CrossAccountRoleError");
                assert.equal(error.roleArn, roleArn);
                return true;
            });
            assert.deepEqual(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn), [roleArn]);
            assert.deepEqual(allCommands(), ["AssumeRoleCommand"]);
        });

        it("contains a member-account instance through the assumed role", async () => {
            arrangeHappy();
            const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`;
            sts.on(AssumeRoleCommand).resolves({
                Credentials: { AccessKeyId: "AKIA", SecretAccessKey: "secret", SessionToken: "token", Expiration: new Date(Date.now() + 3600_000) },
            });
            const c = caseFixture();
            c.target = { accountId: OTHER_ACCOUNT, region: REGION, instanceId: INSTANCE_ID, roleArn };

            const result = await containCase({ case: c }, settings());

            assert.equal(result.status, "isolated");
            assert.equal(sts.commandCalls(AssumeRoleCommand).length, 1);
            // The policy of the member's role, in the member's account.
            assert.deepEqual(iam.commandCalls(AttachRolePolicyCommand).map((call) => call.args[0].input.PolicyArn), [revocationPolicyArn("aws", OTHER_ACCOUNT, "web-role")]);
        });
    });

    describe("event and settings", () => {
        it("parses the OpenCase output as the event and keeps only known fields", () => {
            const event = { case: { ...caseFixture(), extra: 1 }, other: true };
            const parsed = parseContainEvent(event);
            assert.deepEqual(parsed, { case: caseFixture() });
        });

        it("keeps every field of the instance record, the optional ones too (the architecture the memory step needs)", () => {
            const fixture = caseFixture();
            const withArchitecture = { ...fixture, instance: { ...fixture.instance, architecture: "arm64" } };
            assert.equal(parseContainEvent({ case: withArchitecture }).case.instance.architecture, "arm64");
        });

        const bad: Array<[string, unknown, RegExp]> = [
            ["null", null, /event must be an object/],
            ["an event without case", { caseId: CASE_ID }, /\bcase must be an object, got undefined/],
            ["a bad instance id", { case: { ...caseFixture(), target: { ...BASE_CASE.target, instanceId: "i-XYZ" } } }, /case.target.instanceId/],
            ["a record of another instance", { case: { ...caseFixture(), instance: { ...BASE_CASE.instance, instanceId: "i-0fedcba9876543210" } } }, /differs from case.target.instanceId/],
            ["a long case id", { case: { ...caseFixture(), caseId: "c".repeat(257) } }, /at most 256/],
            ["a string isNew", { case: { ...caseFixture(), isNew: "yes" } }, /case.isNew must be a boolean/],
            ["bad interface groups", { case: { ...caseFixture(), instance: { ...BASE_CASE.instance, networkInterfaces: [{ networkInterfaceId: ENI_A, groups: "sg-1", deviceIndex: 0, ipv6Addresses: [] }] } } }, /groups must be an array of strings/],
        ];
        for (const [label, event, message] of bad) {
            it(`rejects ${label} with InvalidRequestError`, () => {
                assert.throws(() => parseContainEvent(event), (error: unknown) => error instanceof InvalidRequestError && message.test(error.message));
            });
        }

        it("reads ISOLATION_GROUPS (required), UNTRACK_GROUPS and CAPTURE_PROFILE_ARN (optional)", () => {
            assert.deepEqual(
                containSettingsFromEnv({
                    ISOLATION_GROUPS: JSON.stringify({ [VPC_ID]: ISOLATION_SG }),
                    UNTRACK_GROUPS: JSON.stringify({ [VPC_ID]: UNTRACK_SG }),
                    CAPTURE_PROFILE_ARN: CAPTURE_PROFILE,
                }),
                { isolationGroups: { [VPC_ID]: ISOLATION_SG }, untrackGroups: { [VPC_ID]: UNTRACK_SG }, captureProfileArn: CAPTURE_PROFILE },
            );
            assert.deepEqual(containSettingsFromEnv({ ISOLATION_GROUPS: JSON.stringify({ [VPC_ID]: ISOLATION_SG }) }), {
                isolationGroups: { [VPC_ID]: ISOLATION_SG },
                untrackGroups: {},
            });
        });

        it("reads the group maps from settings.json beside the handler (LAMBDA_TASK_ROOT); a variable set wins; a bad file is a ConfigurationError", () => {
            const dir = mkdtempSync(path.join(tmpdir(), "dfir-settings-"));
            try {
                // What the component writes (core/workflow.ts containSettingsFile), plus a key that does not belong there.
                const file = JSON.parse(containSettingsFile({ [VPC_ID]: ISOLATION_SG }, { [VPC_ID]: UNTRACK_SG })) as Record<string, string>;
                writeFileSync(path.join(dir, SETTINGS_FILE), JSON.stringify({ ...file, CASES_TABLE: "from-the-file" }));
                const env = withFileSettings({ LAMBDA_TASK_ROOT: dir, CAPTURE_PROFILE_ARN: CAPTURE_PROFILE });
                assert.equal(env.CASES_TABLE, undefined, "only the file's own variables are taken from it");
                assert.deepEqual(containSettingsFromEnv(env), { isolationGroups: { [VPC_ID]: ISOLATION_SG }, untrackGroups: { [VPC_ID]: UNTRACK_SG }, captureProfileArn: CAPTURE_PROFILE });
                const other = JSON.stringify({ "vpc-0fedcba9876543210": ISOLATION_SG });
                assert.deepEqual(containSettingsFromEnv(withFileSettings({ LAMBDA_TASK_ROOT: dir, ISOLATION_GROUPS: other })).isolationGroups, JSON.parse(other));
                assert.deepEqual(withFileSettings({ LAMBDA_TASK_ROOT: path.join(dir, "none") }), { LAMBDA_TASK_ROOT: path.join(dir, "none") });
                const bad = mkdtempSync(path.join(tmpdir(), "dfir-settings-bad-"));
                writeFileSync(path.join(bad, SETTINGS_FILE), "[1]");
                assert.throws(() => withFileSettings({ LAMBDA_TASK_ROOT: bad }), (e: unknown) => e instanceof ConfigurationError && e.variable === SETTINGS_FILE);
                rmSync(bad, { recursive: true, force: true });
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        });

        const badEnv: Array<[string, Record<string, string>, string]> = [
            ["missing isolation groups", {}, "ISOLATION_GROUPS"],
            ["empty isolation groups", { ISOLATION_GROUPS: "{}" }, "ISOLATION_GROUPS"],
            ["isolation groups not JSON", { ISOLATION_GROUPS: "vpc=sg" }, "ISOLATION_GROUPS"],
            ["swapped ids", { ISOLATION_GROUPS: JSON.stringify({ [ISOLATION_SG]: VPC_ID }) }, "ISOLATION_GROUPS"],
            ["an untrack array", { ISOLATION_GROUPS: JSON.stringify({ [VPC_ID]: ISOLATION_SG }), UNTRACK_GROUPS: "[]" }, "UNTRACK_GROUPS"],
            ["a role as capture profile", { ISOLATION_GROUPS: JSON.stringify({ [VPC_ID]: ISOLATION_SG }), CAPTURE_PROFILE_ARN: ROLE_ARN }, "CAPTURE_PROFILE_ARN"],
        ];
        for (const [label, env, variable] of badEnv) {
            it(`fails with a ConfigurationError naming ${variable} for ${label}`, () => {
                assert.throws(() => containSettingsFromEnv(env), (error: unknown) => error instanceof ConfigurationError && error.variable === variable);
            });
        }
    });

    describe("handler", () => {
        const NAMES = ["ISOLATION_GROUPS", "UNTRACK_GROUPS", "CAPTURE_PROFILE_ARN"];
        let saved: Record<string, string | undefined>;
        let savedLog: typeof console.log;
        let logged: Array<Record<string, unknown>>;

        beforeEach(() => {
            saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
            for (const name of NAMES) delete process.env[name];
            savedLog = console.log;
            logged = [];
            console.log = (line: unknown) => logged.push(JSON.parse(String(line)));
        });

        afterEach(() => {
            console.log = savedLog;
            for (const name of NAMES) {
                if (saved[name] === undefined) delete process.env[name];
                else process.env[name] = saved[name];
            }
        });

        it("reads its environment on every invocation (several configurations in one process)", async () => {
            arrangeHappy();
            process.env.ISOLATION_GROUPS = JSON.stringify({ [VPC_ID]: ISOLATION_SG });
            process.env.UNTRACK_GROUPS = JSON.stringify({ [VPC_ID]: UNTRACK_SG });
            const first = await handler({ case: caseFixture() }, { awsRequestId: "req-1" });
            process.env.ISOLATION_GROUPS = JSON.stringify({ [VPC_ID]: "sg-0cccccccccccccccc" });
            delete process.env.UNTRACK_GROUPS;
            const second = await handler({ case: caseFixture() });

            assert.equal(first.isolationGroupId, ISOLATION_SG);
            assert.equal(first.untrackGroupId, UNTRACK_SG);
            assert.equal(second.isolationGroupId, "sg-0cccccccccccccccc");
            assert.equal(second.untrackGroupId, undefined);
            const actionLines = logged.filter((line) => line.message === "containment action" && line.requestId === "req-1");
            assert.equal(actionLines.length, first.actions.length);
            assert.ok(actionLines.every((line) => line.caseId === CASE_ID && line.instanceId === INSTANCE_ID));
            const summary = logged.find((line) => line.message === "instance isolated");
            assert.equal(summary?.level, "INFO");
            assert.equal(summary?.status, "isolated");
        });

        it("fails with ConfigurationError (logged) and no AWS call on a bad environment", async () => {
            process.env.ISOLATION_GROUPS = "not json";

            await assert.rejects(handler({ case: caseFixture() }), (error: unknown) => error instanceof ConfigurationError && error.variable === "ISOLATION_GROUPS");
            assert.deepEqual(allCommands(), []);
            assert.equal(logged.at(-1)?.level, "ERROR");
        });

        it("rejects a malformed event with InvalidRequestError before any AWS call", async () => {
            process.env.ISOLATION_GROUPS = JSON.stringify({ [VPC_ID]: ISOLATION_SG });

            await assert.rejects(handler({ instanceId: INSTANCE_ID, caseId: CASE_ID }), InvalidRequestError);
            assert.deepEqual(allCommands(), []);
        });

        it("logs the actions of a partial containment and rethrows it unchanged", async () => {
            arrangeHappy();
            process.env.ISOLATION_GROUPS = JSON.stringify({ [VPC_ID]: ISOLATION_SG });
            ec2.on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: ENI_A }).rejects(ec2Error("UnauthorizedOperation"));

            await assert.rejects(handler({ case: caseFixture() }), PartialContainmentError);

            const failure = logged.find((line) => line.message === "containment failed");
            assert.equal(failure?.level, "ERROR");
            const error = failure?.error as { name: string; notIsolated: Array<{ networkInterfaceId: string }>; actions: ActionRecord[] };
            assert.equal(error.name, "PartialContainmentError");
            assert.deepEqual(error.notIsolated.map((item) => item.networkInterfaceId), [ENI_A]);
            assert.ok(error.actions.length > 0);
        });
    });

    describe("errors", () => {
        it("name every class after itself, so the state machine can catch by name", () => {
            const context = { instanceId: INSTANCE_ID, caseId: CASE_ID };
            const errors: Array<[ResponseError, string]> = [
                [new InvalidRequestError(["x"]), "InvalidRequestError"],
                [new ConfigurationError("X", "is bad"), "ConfigurationError"],
                [new InstanceNotFoundError(context), "InstanceNotFoundError"],
                [new InstanceTerminatedError(context, "terminated"), "InstanceTerminatedError"],
                [new NoIsolationGroupError(context, VPC_ID), "NoIsolationGroupError"],
                [new UnsupportedNetworkLayoutError(context, "x"), "UnsupportedNetworkLayoutError"],
                [new PartialContainmentError(context, { isolationGroupId: ISOLATION_SG, isolated: [], notIsolated: [], actions: [] }), "PartialContainmentError"],
            ];
            for (const [error, name] of errors) {
                assert.equal(error.name, name);
                assert.equal(error.constructor.name, name);
                assert.ok(error instanceof ResponseError && error instanceof Error);
                // Shared request/configuration errors come from functions/lib; containment's own are ContainmentErrors.
                if (!["InvalidRequestError", "ConfigurationError"].includes(name)) assert.ok(error instanceof ContainmentError, name);
                assert.match(String(error.stack), new RegExp(`^${name}: `));
            }
        });
    });

    describe("policies", () => {
        it("names the instance ARN of sessions in each partition", () => {
            assert.equal(instanceArn("cn-north-1", ACCOUNT, INSTANCE_ID), `arn:aws-cn:ec2:cn-north-1:${ACCOUNT}:instance/${INSTANCE_ID}`);
            assert.equal(instanceArn("us-gov-west-1", ACCOUNT, INSTANCE_ID), `arn:aws-us-gov:ec2:us-gov-west-1:${ACCOUNT}:instance/${INSTANCE_ID}`);
        });

        const responders = [`arn:aws:iam::${ACCOUNT}:role/dfir-contain`, `arn:aws:iam::*:role/dfir-responder`];

        it("denies undoing a containment on isolated instances to everyone but the responders", () => {
            const policy = denyModifyIsolatedPolicy(responders);
            assert.ok(policy.Statement.every((s) => s.Effect === "Deny"));
            for (const statement of policy.Statement) {
                assert.deepEqual(statement.Condition?.StringEquals, { "aws:ResourceTag/dfir:status": "isolated" });
                assert.deepEqual(statement.Condition?.ArnNotLike, { "aws:PrincipalArn": responders });
            }
            const instances = policy.Statement.find((s) => s.Sid === "DfirProtectIsolatedInstances");
            for (const action of [
                "ec2:TerminateInstances",
                "ec2:StopInstances",
                "ec2:ModifyInstanceAttribute",
                "ec2:ModifyNetworkInterfaceAttribute",
                "ec2:DetachVolume",
                "ec2:ReplaceIamInstanceProfileAssociation",
                "ec2:DisassociateIamInstanceProfile",
                "ec2:AttachNetworkInterface",
            ]) {
                assert.ok((instances?.Action as string[]).includes(action), action);
            }
            assert.equal(instances?.Resource, "arn:aws:ec2:*:*:instance/*");
            const tags = policy.Statement.find((s) => s.Sid === "DfirProtectResponseTags");
            assert.deepEqual(tags?.Action, ["ec2:CreateTags", "ec2:DeleteTags"]);
            assert.deepEqual(tags?.Condition?.["ForAnyValue:StringLike"], { "aws:TagKeys": ["dfir:*"] });
            assert.throws(() => denyModifyIsolatedPolicy([]), /responder/);
        });

        it("offers the same guard rail as an SCP within the SCP size limit", () => {
            const scp = denyModifyIsolatedScp(responders);
            const managed = denyModifyIsolatedPolicy(responders);
            assert.deepEqual(scp.Statement.map((s) => ({ ...s, Sid: undefined })), managed.Statement.map((s) => ({ ...s, Sid: undefined })));
            assert.ok(JSON.stringify(scp).length <= SCP_MAX_CHARACTERS);
            assert.throws(() => denyModifyIsolatedScp(Array.from({ length: 200 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/responder-${i}`)), /5120/);
        });

        it("gives the functions only named actions, `*` resources only where IAM has no resource-level permission", () => {
            const scope = { partition: "aws", region: REGION, accountId: ACCOUNT };
            const contain = containFunctionPolicy(scope, {
                captureRoleArns: [`arn:aws:iam::${ACCOUNT}:role/dfir-capture`],
                protectedRoleArns: [`arn:aws:iam::${ACCOUNT}:role/dfir-contain`],
                responderRoleArns: [`arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`],
                casesTableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/dfir-cases`,
            });
            // ModifyInstanceAttribute: the three protections by ec2:Attribute; the complex forms only without it.
            const byId = (sid: string) => contain.Statement.find((st) => st.Sid === sid);
            assert.deepEqual(byId("ProtectInstances")?.Condition, { StringEquals: { "ec2:Attribute": ["disableApiTermination", "disableApiStop", "instanceInitiatedShutdownBehavior"] } });
            assert.deepEqual(byId("KeepVolumesOnTermination")?.Condition, { Null: { "ec2:Attribute": "true" } });
            // Revocation: only policies under /dfir/revoke/, attached by iam:PolicyARN; no inline policy write at all.
            assert.deepEqual(byId("AttachOnlyRevocationPolicies")?.Condition, { ArnLike: { "iam:PolicyARN": `arn:aws:iam::${ACCOUNT}:policy/dfir/revoke/*` } });
            assert.ok(!contain.Statement.some((st) => [st.Action].flat().includes("iam:PutRolePolicy")));
            assert.deepEqual([byId("NeverWriteResponderRoles")?.Effect, byId("NeverWriteResponderRoles")?.Action], ["Deny", "iam:AttachRolePolicy"]);
            // The lock: its own items of the case table only.
            assert.deepEqual(byId("RevocationLock")?.Condition, { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["revocation-lock#*"] } });
            const openCase = caseFunctionPolicy(scope, { casesTableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/dfir-cases`, responderRoleArns: [`arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`] });
            const member = responderRolePolicy(scope);
            for (const policy of [contain, openCase, member]) {
                for (const statement of policy.Statement) {
                    const actions = [statement.Action].flat();
                    assert.ok(actions.every((a) => !a.includes("*")), `wildcard action in ${statement.Sid}`);
                    if ([statement.Resource].flat().includes("*")) {
                        assert.equal(statement.Sid, "DescribeNoResourceLevelPermission");
                        assert.ok(actions.every((a) => /:Describe/.test(a)), statement.Sid);
                    }
                }
            }
            const allowed = (policy: typeof contain) =>
                new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat()));
            for (const action of [
                "ec2:ModifyNetworkInterfaceAttribute",
                "ec2:ModifyInstanceAttribute",
                "ec2:CreateTags",
                "ec2:ReplaceIamInstanceProfileAssociation",
                "ec2:AssociateIamInstanceProfile",
                "autoscaling:DetachInstances",
                "elasticloadbalancing:DeregisterTargets",
                "iam:GetInstanceProfile",
                "iam:CreatePolicyVersion",
                "iam:AttachRolePolicy",
                "iam:PassRole",
                "sts:AssumeRole",
            ]) {
                assert.ok(allowed(contain).has(action), action);
            }
            for (const action of ["ec2:DescribeInstanceAttribute", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "sts:AssumeRole"]) {
                assert.ok(allowed(openCase).has(action), action);
            }
            assert.ok(allowed(member).has("ec2:DescribeInstanceAttribute") && allowed(member).has("ec2:ModifyInstanceAttribute"));
            const groups = contain.Statement.find((s) => s.Sid === "OnlyIntoResponseGroups");
            assert.deepEqual(groups?.Condition, { StringEquals: { "aws:ResourceTag/dfir:role": ["isolation", "untrack"] } });
            const pass = contain.Statement.find((s) => s.Sid === "PassCaptureRoleToEc2");
            assert.deepEqual(pass?.Condition, { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
            assert.deepEqual(contain.Statement.find((s) => s.Sid === "NeverWriteResponderRoles")?.Effect, "Deny");
        });
    });
});
