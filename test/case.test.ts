import { strict as assert } from "node:assert";
import {
    ConditionalCheckFailedException,
    DynamoDBClient,
    GetItemCommand,
    TransactionCanceledException,
    TransactWriteItemsCommand,
    UpdateItemCommand,
    type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstanceAttributeCommand,
    DescribeInstancesCommand,
    EC2Client,
    EC2ServiceException,
    type Instance,
} from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import type { InstanceRecord } from "../core/workflow";
import { parseOpenCaseEvent, type OpenCaseEvent } from "../functions/case/event";
import { handler } from "../functions/case/index";
import { openCase, targetFor } from "../functions/case/openCase";
import { buildInstanceRecord, caseFlags } from "../functions/case/record";
import { caseSettingsFromEnv, HOME_ACCOUNT_ID_ENV, type CaseSettings } from "../functions/case/settings";
import {
    CaseClosedError,
    CaseRecordMissingError,
    ConfigurationError,
    InstanceNotFoundError,
    InstanceTerminatedError,
    InvalidRequestError,
} from "../functions/lib/containmentErrors";
import { CrossAccountRoleError, setClientCustomizer } from "../functions/lib/aws";

const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const REGION = "eu-west-1";
const INSTANCE_ID = "i-0123456789abcdef0";
const CASE_ID = "i-0123456789abcdef0-3f2a1b4c5d6e";
const OTHER_CASE_ID = "i-0123456789abcdef0-aaaaaaaaaaaa";
const FINDING_ID = "60c2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";
const EXECUTION_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:execution:dfir-response:exec-2`;
const TABLE = "dfir-cases";
const BUCKET = "dfir-evidence-eu-west-1";
const VPC_ID = "vpc-0a1b2c3d4e5f60718";
const OTHER_VPC_ID = "vpc-0b1b2c3d4e5f60718";
const PROFILE_ARN = `arn:aws:iam::${ACCOUNT}:instance-profile/web-profile`;
const LOCK_PK = `OPEN#${ACCOUNT}#${REGION}#${INSTANCE_ID}`;
const NOW = "2025-01-02T03:04:05.000Z";

/** The instance as EC2 describes it: interfaces out of device order, an IPv6 secondary, two volumes, Windows. */
const BASE_INSTANCE: Instance = {
    InstanceId: INSTANCE_ID,
    State: { Code: 16, Name: "running" },
    // EC2 answers lower-case "windows" (the SDK's enum spells it "Windows"; both are read alike).
    Platform: "windows" as Instance["Platform"],
    VpcId: VPC_ID,
    SubnetId: "subnet-0123456789abcdef0",
    Placement: { AvailabilityZone: "eu-west-1a" },
    ImageId: "ami-0123456789abcdef0",
    LaunchTime: new Date("2024-12-01T00:00:00.000Z"),
    RootDeviceName: "/dev/sda1",
    IamInstanceProfile: { Arn: PROFILE_ARN, Id: "AIPA0" },
    Tags: [
        { Key: "Name", Value: "web-1" },
        { Key: "dfir:approval", Value: "required" },
    ],
    BlockDeviceMappings: [
        { DeviceName: "/dev/sda1", Ebs: { VolumeId: "vol-0000000000000000a", DeleteOnTermination: true, Status: "attached" } },
        { DeviceName: "xvdf", Ebs: { VolumeId: "vol-0000000000000000b", DeleteOnTermination: false, Status: "attached" } },
    ],
    NetworkInterfaces: [
        {
            // A multi-VPC attachment: this interface comes from another VPC of the zone.
            NetworkInterfaceId: "eni-0000000000000000b",
            VpcId: OTHER_VPC_ID,
            SubnetId: "subnet-0bbbbbbbbbbbbbbbb",
            Attachment: { DeviceIndex: 1 },
            PrivateIpAddress: "10.20.0.10",
            PrivateIpAddresses: [{ PrivateIpAddress: "10.20.0.11", Primary: false }, { PrivateIpAddress: "10.20.0.10", Primary: true }],
            Ipv6Addresses: [{ Ipv6Address: "2600:1f18::10" }],
            Groups: [{ GroupId: "sg-0333333333333333c", GroupName: "app" }],
        },
        {
            NetworkInterfaceId: "eni-0000000000000000a",
            VpcId: VPC_ID,
            SubnetId: "subnet-0123456789abcdef0",
            PrivateIpAddress: "10.0.0.10",
            Association: { PublicIp: "203.0.113.7" },
            Attachment: { DeviceIndex: 0 },
            Groups: [
                { GroupId: "sg-0111111111111111a", GroupName: "web" },
                { GroupId: "sg-0222222222222222b", GroupName: "ssh" },
            ],
        },
    ],
};

const EXPECTED_RECORD: InstanceRecord = {
    instanceId: INSTANCE_ID,
    state: "running",
    platform: "windows",
    vpcId: VPC_ID,
    networkInterfaces: [
        // Each interface's own VPC and subnet, every private address (primary first), a public address when it has one.
        { networkInterfaceId: "eni-0000000000000000a", groups: ["sg-0111111111111111a", "sg-0222222222222222b"], deviceIndex: 0, ipv6Addresses: [], vpcId: VPC_ID, subnetId: "subnet-0123456789abcdef0", privateIpAddresses: ["10.0.0.10"], publicIp: "203.0.113.7" },
        { networkInterfaceId: "eni-0000000000000000b", groups: ["sg-0333333333333333c"], deviceIndex: 1, ipv6Addresses: ["2600:1f18::10"], vpcId: OTHER_VPC_ID, subnetId: "subnet-0bbbbbbbbbbbbbbbb", privateIpAddresses: ["10.20.0.10", "10.20.0.11"] },
    ],
    volumes: [
        { volumeId: "vol-0000000000000000a", deviceName: "/dev/sda1", deleteOnTermination: true, root: true },
        { volumeId: "vol-0000000000000000b", deviceName: "xvdf", deleteOnTermination: false, root: false },
    ],
    tags: { Name: "web-1", "dfir:approval": "required" },
    disableApiTermination: true,
    disableApiStop: false,
    shutdownBehavior: "terminate",
    subnetId: "subnet-0123456789abcdef0",
    availabilityZone: "eu-west-1a",
    imageId: "ami-0123456789abcdef0",
    launchTime: "2024-12-01T00:00:00.000Z",
    iamInstanceProfile: { arn: PROFILE_ARN, associationId: "iip-assoc-0123456789abcdef0" },
};

function event(overrides: Partial<OpenCaseEvent> = {}): OpenCaseEvent {
    return {
        verdict: { findingId: FINDING_ID, accountId: ACCOUNT, region: REGION, instanceId: INSTANCE_ID, caseId: CASE_ID },
        executionArn: EXECUTION_ARN,
        ...overrides,
    };
}

function settings(overrides: Partial<CaseSettings> = {}): CaseSettings {
    return { casesTable: TABLE, evidenceBucket: BUCKET, tableRegion: REGION, now: () => new Date(NOW), ...overrides };
}

function ec2Error(name: string): EC2ServiceException {
    return new EC2ServiceException({ name, message: name, $fault: "client", $metadata: { httpStatusCode: 400 } });
}

/** The case item as OpenCase writes it (for the repeat paths). */
function caseItem(record: InstanceRecord, findingIds: string[], executionArn: string): Record<string, AttributeValue> {
    return {
        pk: { S: `CASE#${OTHER_CASE_ID}` },
        caseId: { S: OTHER_CASE_ID },
        target: { M: { accountId: { S: ACCOUNT }, region: { S: REGION }, instanceId: { S: INSTANCE_ID } } },
        instance: { S: JSON.stringify(record) },
        findingIds: { L: findingIds.map((S) => ({ S })) },
        status: { S: "OPEN" },
        openedAt: { S: "2025-01-01T00:00:00.000Z" },
        executionArn: { S: executionArn },
    };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("case", () => {
    let ec2: AwsClientStub<EC2Client>;
    let ddb: AwsClientStub<DynamoDBClient>;
    let sts: AwsClientStub<STSClient>;

    beforeEach(() => {
        setClientCustomizer(undefined);
        ec2 = mockClient(EC2Client);
        ddb = mockClient(DynamoDBClient);
        sts = mockClient(STSClient);
        for (const stub of [ec2, ddb, sts] as Array<AwsClientStub<any>>) {
            stub.onAnyCommand().rejects(new Error("Mock not implemented: unexpected command"));
        }
    });

    afterEach(() => {
        for (const stub of [ec2, ddb, sts] as Array<AwsClientStub<any>>) stub.restore();
        setClientCustomizer(undefined);
    });

    /** EC2 answers with the instance; the attributes as in EXPECTED_RECORD; no lock unless `lock` given. */
    function arrangeReads(instance: Instance = structuredClone(BASE_INSTANCE), lock?: Record<string, AttributeValue>): void {
        ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
        ec2.on(DescribeInstanceAttributeCommand, { Attribute: "disableApiTermination" }).resolves({ DisableApiTermination: { Value: true } });
        ec2.on(DescribeInstanceAttributeCommand, { Attribute: "disableApiStop" }).resolves({ DisableApiStop: { Value: false } });
        ec2.on(DescribeInstanceAttributeCommand, { Attribute: "instanceInitiatedShutdownBehavior" }).resolves({
            InstanceInitiatedShutdownBehavior: { Value: "terminate" },
        });
        ec2.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
            IamInstanceProfileAssociations: [
                { AssociationId: "iip-assoc-0123456789abcdef0", InstanceId: INSTANCE_ID, IamInstanceProfile: { Arn: PROFILE_ARN, Id: "AIPA0" }, State: "associated" },
            ],
        });
        ddb.on(GetItemCommand, { Key: { pk: { S: LOCK_PK } } }).resolves(lock ? { Item: lock } : {});
    }

    function ddbCommands(): string[] {
        return ddb.calls().map((call) => (call.args[0] as object).constructor.name);
    }

    describe("openCase", () => {
        it("opens a new case: lock and record in one conditional transaction, after every read at once", async () => {
            arrangeReads();
            ddb.on(TransactWriteItemsCommand).resolves({});

            const opened = await openCase(event(), settings());

            assert.deepEqual(opened, {
                caseId: CASE_ID,
                isNew: true,
                target: { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE_ID },
                findingIds: [FINDING_ID],
                openedAt: NOW,
                instance: EXPECTED_RECORD,
                approvalRequired: true,
                skipContainment: false,
                evidence: { bucket: BUCKET, prefix: `cases/${CASE_ID}/` },
            });
            assert.deepEqual(
                ec2.commandCalls(DescribeInstanceAttributeCommand).map((call) => call.args[0].input),
                ["disableApiTermination", "disableApiStop", "instanceInitiatedShutdownBehavior"].map((Attribute) => ({ InstanceId: INSTANCE_ID, Attribute })),
            );
            assert.deepEqual(ec2.commandCalls(DescribeIamInstanceProfileAssociationsCommand)[0].args[0].input, {
                Filters: [
                    { Name: "instance-id", Values: [INSTANCE_ID] },
                    { Name: "state", Values: ["associated"] },
                ],
            });
            assert.deepEqual(ddb.commandCalls(GetItemCommand)[0].args[0].input, { TableName: TABLE, Key: { pk: { S: LOCK_PK } }, ConsistentRead: true });
            const [transaction] = ddb.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input);
            const [lockPut, casePut] = transaction.TransactItems!.map((item) => item.Put!);
            assert.deepEqual(lockPut, {
                TableName: TABLE,
                Item: { pk: { S: LOCK_PK }, caseId: { S: CASE_ID }, openedAt: { S: NOW } },
                ConditionExpression: "attribute_not_exists(pk)",
            });
            assert.equal(casePut.TableName, TABLE);
            assert.equal(casePut.ConditionExpression, "attribute_not_exists(pk)", "a closed case is never overwritten");
            const { instance, ...rest } = casePut.Item!;
            assert.deepEqual(JSON.parse(instance.S!), EXPECTED_RECORD);
            assert.deepEqual(rest, {
                pk: { S: `CASE#${CASE_ID}` },
                caseId: { S: CASE_ID },
                target: { M: { accountId: { S: ACCOUNT }, region: { S: REGION }, instanceId: { S: INSTANCE_ID } } },
                findingIds: { L: [{ S: FINDING_ID }] },
                status: { S: "OPEN" },
                openedAt: { S: NOW },
                executionArn: { S: EXECUTION_ARN },
                trigger: { M: { kind: { S: "guardduty" }, evidenceOnly: { BOOL: false } } },
            });
            assert.deepEqual(ddbCommands(), ["GetItemCommand", "TransactWriteItemsCommand"]);
        });

        it("issues the six reads before any answers, and writes only after all of them", async () => {
            arrangeReads();
            let release: () => void = () => undefined;
            const gate = new Promise<void>((resolve) => (release = resolve));
            const issued: string[] = [];
            const slow = <T>(name: string, value: T) => async () => {
                issued.push(name);
                await gate;
                return value;
            };
            ec2.on(DescribeInstancesCommand).callsFake(slow("instances", { Reservations: [{ Instances: [structuredClone(BASE_INSTANCE)] }] }));
            ec2.on(DescribeInstanceAttributeCommand).callsFake(slow("attribute", {}));
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(slow("associations", {}));
            ddb.on(GetItemCommand).callsFake(slow("lock", {}));
            ddb.on(TransactWriteItemsCommand).resolves({});

            const run = openCase(event(), settings());
            await flush();
            assert.deepEqual(issued.sort(), ["associations", "attribute", "attribute", "attribute", "instances", "lock"]);
            assert.equal(ddb.commandCalls(TransactWriteItemsCommand).length, 0);
            release();
            const opened = await run;
            assert.equal(opened.isNew, true);
        });

        it("adds a repeat's finding to the open case and answers with the recorded instance (no transaction)", async () => {
            const current = structuredClone(BASE_INSTANCE);
            current.NetworkInterfaces![1].Groups = [{ GroupId: "sg-0aaaaaaaaaaaaaaaa" }];
            const recorded: InstanceRecord = { ...structuredClone(EXPECTED_RECORD), tags: { Name: "web-1", "dfir:skip": "true" } };
            arrangeReads(current, { pk: { S: LOCK_PK }, caseId: { S: OTHER_CASE_ID }, openedAt: { S: "2025-01-01T00:00:00.000Z" } });
            ddb.on(UpdateItemCommand).resolves({
                Attributes: caseItem(recorded, ["first-finding", FINDING_ID], "arn:aws:states:eu-west-1:111122223333:execution:dfir-response:exec-1"),
            });

            const opened = await openCase(event(), settings());

            assert.deepEqual(ddb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input), [
                {
                    TableName: TABLE,
                    Key: { pk: { S: `CASE#${OTHER_CASE_ID}` } },
                    UpdateExpression: "SET findingIds = list_append(findingIds, :new)",
                    ConditionExpression: "attribute_exists(pk) AND NOT contains(findingIds, :finding)",
                    ExpressionAttributeValues: { ":new": { L: [{ S: FINDING_ID }] }, ":finding": { S: FINDING_ID } },
                    ReturnValues: "ALL_NEW",
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                },
            ]);
            assert.equal(ddb.commandCalls(TransactWriteItemsCommand).length, 0);
            assert.equal(opened.isNew, false);
            assert.equal(opened.caseId, OTHER_CASE_ID);
            assert.deepEqual(opened.findingIds, ["first-finding", FINDING_ID]);
            assert.equal(opened.openedAt, "2025-01-01T00:00:00.000Z");
            assert.deepEqual(opened.instance, recorded, "the recorded instance, not the current one");
            assert.equal(opened.skipContainment, true);
            assert.equal(opened.approvalRequired, false);
            assert.deepEqual(opened.evidence, { bucket: BUCKET, prefix: `cases/${OTHER_CASE_ID}/` });
        });

        it("answers a re-delivered finding from the item the failed condition returns (nothing appended twice)", async () => {
            arrangeReads(undefined, { pk: { S: LOCK_PK }, caseId: { S: OTHER_CASE_ID }, openedAt: { S: "2025-01-01T00:00:00.000Z" } });
            ddb.on(UpdateItemCommand).rejects(
                new ConditionalCheckFailedException({
                    message: "The conditional request failed",
                    $metadata: {},
                    Item: caseItem(EXPECTED_RECORD, [FINDING_ID], "arn:aws:states:eu-west-1:111122223333:execution:dfir-response:exec-1"),
                }),
            );

            const opened = await openCase(event(), settings());

            assert.equal(opened.isNew, false);
            assert.deepEqual(opened.findingIds, [FINDING_ID]);
            assert.deepEqual(ddbCommands(), ["GetItemCommand", "UpdateItemCommand"]);
        });

        it("still answers isNew to the execution that opened the case (a retried invocation)", async () => {
            arrangeReads(undefined, { pk: { S: LOCK_PK }, caseId: { S: CASE_ID }, openedAt: { S: NOW } });
            ddb.on(UpdateItemCommand).rejects(
                new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {}, Item: caseItem(EXPECTED_RECORD, [FINDING_ID], EXECUTION_ARN) }),
            );

            const opened = await openCase(event(), settings());

            assert.equal(opened.isNew, true);
        });

        it("takes the repeat path when a concurrent delivery wins the race (transaction cancelled on the lock)", async () => {
            arrangeReads();
            let lockReads = 0;
            ddb.on(GetItemCommand, { Key: { pk: { S: LOCK_PK } } }).callsFake(async () =>
                lockReads++ === 0 ? {} : { Item: { pk: { S: LOCK_PK }, caseId: { S: OTHER_CASE_ID }, openedAt: { S: NOW } } },
            );
            ddb.on(TransactWriteItemsCommand).rejects(
                new TransactionCanceledException({
                    message: "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]",
                    $metadata: {},
                    CancellationReasons: [{ Code: "ConditionalCheckFailed", Message: "The conditional request failed" }, { Code: "None" }],
                }),
            );
            ddb.on(UpdateItemCommand).resolves({ Attributes: caseItem(EXPECTED_RECORD, ["winner-finding", FINDING_ID], "arn:aws:states:eu-west-1:111122223333:execution:dfir-response:exec-1") });

            const opened = await openCase(event(), settings());

            assert.equal(opened.isNew, false);
            assert.equal(opened.caseId, OTHER_CASE_ID);
            assert.deepEqual(ddbCommands(), ["GetItemCommand", "TransactWriteItemsCommand", "GetItemCommand", "UpdateItemCommand"]);
            assert.deepEqual(ddb.commandCalls(GetItemCommand)[1].args[0].input, { TableName: TABLE, Key: { pk: { S: LOCK_PK } }, ConsistentRead: true });
        });

        it("refuses to reopen or overwrite a closed case of the same id (CaseClosedError)", async () => {
            arrangeReads();
            ddb.on(TransactWriteItemsCommand).rejects(
                new TransactionCanceledException({
                    message: "Transaction cancelled [None, ConditionalCheckFailed]",
                    $metadata: {},
                    CancellationReasons: [{ Code: "None" }, { Code: "ConditionalCheckFailed", Item: { status: { S: "RELEASED" } } }],
                }),
            );

            await assert.rejects(openCase(event(), settings()), (error: unknown) => {
                assert.ok(error instanceof CaseClosedError);
                assert.equal(error.name, "CaseClosedError");
                assert.equal(error.status, "RELEASED");
                return true;
            });
        });

        it("raises CaseRecordMissingError when the lock names a case the table does not hold", async () => {
            arrangeReads(undefined, { pk: { S: LOCK_PK }, caseId: { S: OTHER_CASE_ID }, openedAt: { S: NOW } });
            ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));
            ddb.on(GetItemCommand, { Key: { pk: { S: `CASE#${OTHER_CASE_ID}` } } }).resolves({});

            await assert.rejects(openCase(event(), settings()), CaseRecordMissingError);
        });

        it("raises InstanceNotFoundError and writes nothing for an unknown instance", async () => {
            arrangeReads();
            ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
            await assert.rejects(openCase(event(), settings()), (error: unknown) => error instanceof InstanceNotFoundError && error.name === "InstanceNotFoundError");

            ec2.on(DescribeInstancesCommand).rejects(ec2Error("InvalidInstanceID.NotFound"));
            ec2.on(DescribeInstanceAttributeCommand).rejects(ec2Error("InvalidInstanceID.NotFound"));
            await assert.rejects(openCase(event(), settings()), InstanceNotFoundError);
            assert.deepEqual(ddbCommands(), ["GetItemCommand", "GetItemCommand"]);
        });

        for (const state of ["terminated", "shutting-down"]) {
            it(`raises InstanceTerminatedError and writes nothing for a ${state} instance`, async () => {
                const instance = structuredClone(BASE_INSTANCE);
                instance.State = { Code: 48, Name: state as "terminated" };
                arrangeReads(instance);

                await assert.rejects(openCase(event(), settings()), (error: unknown) => {
                    assert.ok(error instanceof InstanceTerminatedError);
                    assert.equal(error.state, state);
                    assert.equal(JSON.parse(error.message).message, `instance ${INSTANCE_ID} is ${state}`);
                    return true;
                });
                assert.deepEqual(ddbCommands(), ["GetItemCommand"]);
            });
        }

        it("lets other read errors through unchanged (the state machine retries them)", async () => {
            arrangeReads();
            const throttled = ec2Error("RequestLimitExceeded");
            ec2.on(DescribeIamInstanceProfileAssociationsCommand).rejects(throttled);

            await assert.rejects(openCase(event(), settings()), (error: unknown) => error === throttled);
            assert.equal(ddb.commandCalls(TransactWriteItemsCommand).length, 0);
        });

        it("reads a member-account instance through the responder role, and fails with CrossAccountRoleError when it cannot", async () => {
            const roleArn = `arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`;
            arrangeReads();
            sts.on(AssumeRoleCommand).rejects(new STSServiceException({ name: "AccessDenied", message: "denied", $fault: "client", $metadata: {} }));
            const e = event();
            e.verdict.accountId = OTHER_ACCOUNT;

            await assert.rejects(
                openCase(e, settings({ responderRoleName: "dfir-responder", homeAccountId: ACCOUNT })),
                (error: unknown) => error instanceof CrossAccountRoleError && error.roleArn === roleArn,
            );
            assert.deepEqual(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn), [roleArn]);
            assert.equal(ddb.commandCalls(TransactWriteItemsCommand).length, 0);

            setClientCustomizer(undefined);
            sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: "A", SecretAccessKey: "S", SessionToken: "T", Expiration: new Date(Date.now() + 3600_000) } });
            ddb.on(TransactWriteItemsCommand).resolves({});
            ddb.on(GetItemCommand, { Key: { pk: { S: `OPEN#${OTHER_ACCOUNT}#${REGION}#${INSTANCE_ID}` } } }).resolves({});
            const opened = await openCase(e, settings({ responderRoleName: "dfir-responder", homeAccountId: ACCOUNT }));
            assert.deepEqual(opened.target, { accountId: OTHER_ACCOUNT, region: REGION, instanceId: INSTANCE_ID, roleArn });
            const casePut = ddb.commandCalls(TransactWriteItemsCommand)[0].args[0].input.TransactItems![1].Put!;
            assert.deepEqual(casePut.Item!.target.M!.roleArn, { S: roleArn });
            assert.equal(ddb.commandCalls(TransactWriteItemsCommand)[0].args[0].input.TransactItems![0].Put!.Item!.pk.S, `OPEN#${OTHER_ACCOUNT}#${REGION}#${INSTANCE_ID}`);
        });
    });

    describe("targetFor", () => {
        const verdict = event().verdict;
        it("uses the responder role only for another account, when a role name is configured", () => {
            assert.deepEqual(targetFor(verdict, {}), { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE_ID });
            assert.deepEqual(targetFor(verdict, { responderRoleName: "dfir-responder", homeAccountId: ACCOUNT }), {
                accountId: ACCOUNT,
                region: REGION,
                instanceId: INSTANCE_ID,
            });
            assert.equal(
                targetFor({ ...verdict, accountId: OTHER_ACCOUNT }, { responderRoleName: "dfir-responder", homeAccountId: ACCOUNT }).roleArn,
                `arn:aws:iam::${OTHER_ACCOUNT}:role/dfir-responder`,
            );
            assert.equal(targetFor({ ...verdict, accountId: OTHER_ACCOUNT }, { homeAccountId: ACCOUNT }).roleArn, undefined);
            // No home account: every account is another one.
            assert.equal(targetFor(verdict, { responderRoleName: "dfir-responder" }).roleArn, `arn:aws:iam::${ACCOUNT}:role/dfir-responder`);
            assert.equal(
                targetFor({ ...verdict, accountId: OTHER_ACCOUNT, region: "cn-north-1" }, { responderRoleName: "r" }).roleArn,
                `arn:aws-cn:iam::${OTHER_ACCOUNT}:role/r`,
            );
        });
    });

    describe("record", () => {
        it("defaults what EC2 may omit: Linux, no profile, no volumes, device index by position", () => {
            const record = buildInstanceRecord(
                {
                    InstanceId: INSTANCE_ID,
                    State: { Code: 80, Name: "stopped" },
                    NetworkInterfaces: [{ NetworkInterfaceId: "eni-0000000000000000a", VpcId: VPC_ID }],
                },
                { disableApiTermination: false, disableApiStop: false, shutdownBehavior: "stop" },
            );
            assert.deepEqual(record, {
                instanceId: INSTANCE_ID,
                state: "stopped",
                platform: "linux",
                vpcId: VPC_ID,
                networkInterfaces: [{ networkInterfaceId: "eni-0000000000000000a", groups: [], deviceIndex: 0, ipv6Addresses: [], vpcId: VPC_ID, privateIpAddresses: [] }],
                volumes: [],
                tags: {},
                disableApiTermination: false,
                disableApiStop: false,
                shutdownBehavior: "stop",
            });
        });

        it("records DescribeInstances' Architecture as given (the memory step picks the avml build from it)", () => {
            const protections = { disableApiTermination: false, disableApiStop: false, shutdownBehavior: "stop" };
            for (const architecture of ["arm64", "x86_64", "x86_64_mac"] as const) {
                const record = buildInstanceRecord({ InstanceId: INSTANCE_ID, Architecture: architecture, NetworkInterfaces: [] }, protections);
                assert.equal(record.architecture, architecture);
            }
            assert.equal("architecture" in buildInstanceRecord({ InstanceId: INSTANCE_ID, NetworkInterfaces: [] }, protections), false);
        });

        it("reads the approval and skip tags leniently", () => {
            const flags = (tags: Record<string, string>) => caseFlags({ ...EXPECTED_RECORD, tags });
            assert.deepEqual(flags({ "dfir:skip": "True " }), { approvalRequired: false, skipContainment: true });
            assert.deepEqual(flags({ "dfir:approval": "REQUIRED" }), { approvalRequired: true, skipContainment: false });
            assert.deepEqual(flags({ "dfir:skip": "false", "dfir:approval": "no" }), { approvalRequired: false, skipContainment: false });
        });
    });

    describe("event, settings and handler", () => {
        const NAMES = ["CASES_TABLE", "EVIDENCE_BUCKET", "RESPONDER_ROLE_NAME", HOME_ACCOUNT_ID_ENV, "AWS_REGION"];
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

        it("parses the event, keeping a target decided upstream only when it names the verdict's instance", () => {
            const raw = { verdict: { decision: "respond", reason: "actionable: x", severity: 8, ...event().verdict }, executionArn: EXECUTION_ARN };
            assert.deepEqual(parseOpenCaseEvent(raw), { verdict: { ...event().verdict, severity: 8 }, executionArn: EXECUTION_ARN });
            const target = { accountId: ACCOUNT, region: REGION, instanceId: INSTANCE_ID, roleArn: `arn:aws:iam::${ACCOUNT}:role/r` };
            assert.deepEqual(parseOpenCaseEvent({ ...raw, target }).target, target);
            assert.throws(() => parseOpenCaseEvent({ ...raw, target: { ...target, instanceId: "i-0fedcba9876543210" } }), /differs from verdict.instanceId/);
            assert.throws(() => parseOpenCaseEvent({ ...raw, verdict: { ...raw.verdict, decision: "ignore" } }), InvalidRequestError);
            assert.throws(() => parseOpenCaseEvent({ verdict: raw.verdict }), /executionArn must be an ARN/);
            assert.throws(() => parseOpenCaseEvent(null), InvalidRequestError);
        });

        it("reads CASES_TABLE and EVIDENCE_BUCKET (required), RESPONDER_ROLE_NAME and HOME_ACCOUNT_ID (optional)", () => {
            assert.deepEqual(
                caseSettingsFromEnv({ CASES_TABLE: TABLE, EVIDENCE_BUCKET: BUCKET, RESPONDER_ROLE_NAME: "dfir-responder", HOME_ACCOUNT_ID: ACCOUNT, AWS_REGION: REGION }),
                { casesTable: TABLE, evidenceBucket: BUCKET, responderRoleName: "dfir-responder", homeAccountId: ACCOUNT, tableRegion: REGION },
            );
            for (const [env, variable] of [
                [{ EVIDENCE_BUCKET: BUCKET }, "CASES_TABLE"],
                [{ CASES_TABLE: TABLE }, "EVIDENCE_BUCKET"],
                [{ CASES_TABLE: TABLE, EVIDENCE_BUCKET: BUCKET, HOME_ACCOUNT_ID: "12" }, "HOME_ACCOUNT_ID"],
                [{ CASES_TABLE: TABLE, EVIDENCE_BUCKET: BUCKET, RESPONDER_ROLE_NAME: "role/with/slash" }, "RESPONDER_ROLE_NAME"],
            ] as Array<[Record<string, string>, string]>) {
                assert.throws(() => caseSettingsFromEnv(env), (error: unknown) => error instanceof ConfigurationError && error.variable === variable, variable);
            }
        });

        it("opens the case from the environment of each invocation and logs it", async () => {
            arrangeReads();
            ddb.on(TransactWriteItemsCommand).resolves({});
            process.env.CASES_TABLE = TABLE;
            process.env.EVIDENCE_BUCKET = BUCKET;

            const opened = await handler({ verdict: { decision: "respond", ...event().verdict }, executionArn: EXECUTION_ARN }, { awsRequestId: "req-1" });
            process.env.EVIDENCE_BUCKET = "other-bucket";
            ddb.on(GetItemCommand, { Key: { pk: { S: LOCK_PK } } }).resolves({});
            const second = await handler({ verdict: { decision: "respond", ...event().verdict }, executionArn: EXECUTION_ARN });

            assert.equal(opened.evidence.bucket, BUCKET);
            assert.equal(second.evidence.bucket, "other-bucket");
            const line = logged.find((l) => l.message === "case opened" && l.requestId === "req-1");
            assert.equal(line?.caseId, CASE_ID);
            assert.equal(line?.level, "INFO");
        });

        it("fails with ConfigurationError, logged, before any AWS call without its table", async () => {
            process.env.EVIDENCE_BUCKET = BUCKET;
            await assert.rejects(handler({ verdict: { decision: "respond", ...event().verdict }, executionArn: EXECUTION_ARN }), ConfigurationError);
            assert.equal(ec2.calls().length + ddb.calls().length, 0);
            assert.equal(logged.at(-1)?.level, "ERROR");
        });
    });
});
