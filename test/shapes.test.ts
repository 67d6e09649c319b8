/**
 * The simulator checks every request against the service's model (drill/sim/shapes.ts), as the installed SDK v3
 * clients carry it: a request AWS would reject (a required member missing, a member of the wrong type, a value
 * outside the model's enum) fails here with the service's validation error, HTTP 400, recorded as a failed call.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PutItemCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateSnapshotsCommand, CreateVolumeCommand, DescribeInstancesCommand, ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { CreatePolicyCommand, GetInstanceProfileCommand, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { ListCommandsCommand } from "@aws-sdk/client-ssm";
import { client } from "../functions/lib/aws";
import { SimulatedAccount } from "../drill/sim";
import type { SimService } from "../drill/sim/errors";
import { HANDLERS } from "../drill/sim/services/index";
import { hasModel, MODEL_EXCEPTIONS, MODEL_PACKAGE, validateShape } from "../drill/sim/shapes";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const REAL = "Trojan_EC2_DNSDataExfiltration";
let current: SimulatedAccount | undefined;

function start(): SimulatedAccount {
    const finding = JSON.parse(readFileSync(join(GUARDDUTY_FIXTURES, `${REAL}.json`), "utf8")) as unknown;
    current = SimulatedAccount.fromFinding(finding, { memoryBytes: 1024 * 1024 });
    current.install();
    return current;
}

afterEach(() => {
    current?.uninstall();
    current = undefined;
});

async function rejects(promise: Promise<unknown>, name: string, member: RegExp): Promise<void> {
    let caught: (Error & Record<string, any>) | undefined;
    await assert.rejects(promise, (error: unknown) => {
        caught = error as Error & Record<string, any>;
        return true;
    });
    assert.ok(caught);
    assert.equal(caught.name, name, `expected ${name}, got ${caught.name}: ${caught.message}`);
    assert.equal(caught.$metadata?.httpStatusCode, 400);
    assert.equal(caught.$fault, "client");
    assert.match(caught.message, member);
}

describe("service models: coverage", () => {
    it("every simulated operation has a model in the installed SDK clients, or is an explained exception", () => {
        const missing: string[] = [];
        let modelled = 0;
        for (const [service, ops] of Object.entries(HANDLERS)) {
            for (const operation of Object.keys(ops)) {
                const action = `${service}:${operation}`;
                if (hasModel(service as SimService, operation)) {
                    modelled += 1;
                    assert.ok(!(action in MODEL_EXCEPTIONS), `${action} has a model: take it off the exception list`);
                } else if (!(action in MODEL_EXCEPTIONS)) {
                    missing.push(action);
                }
            }
        }
        assert.deepEqual(missing, [], "simulated operations without a model");
        assert.ok(modelled >= 60, `${modelled} operations modelled`);
        for (const action of Object.keys(MODEL_EXCEPTIONS)) {
            const [service, operation] = action.split(":") as [SimService, string];
            assert.ok(HANDLERS[service]?.[operation], `exception ${action} is not a simulated operation`);
            assert.equal(MODEL_PACKAGE[service], undefined, `${action}: its service's client is installed`);
        }
    });

    it("finds required members, types and enums in the models (nested too)", () => {
        assert.deepEqual(validateShape("ec2", "CreateSnapshots", { InstanceSpecification: { InstanceId: "i-1" } }), []);
        assert.deepEqual(
            validateShape("ec2", "CreateSnapshots", { InstanceSpecification: {} }).map((p) => [p.kind, p.path]),
            [["missing", "InstanceSpecification.InstanceId"]],
        );
        assert.deepEqual(
            validateShape("ec2", "CreateVolume", { AvailabilityZone: "us-east-1a", VolumeType: "gp9", Size: "8" }).map((p) => [p.kind, p.path]),
            [["type", "Size"], ["enum", "VolumeType"]],
        );
        assert.deepEqual(
            validateShape("ec2", "CreateSnapshots", { InstanceSpecification: { InstanceId: "i-1" }, TagSpecifications: [{ ResourceType: "snapshott", Tags: [{ Key: 1 }] }] }).map((p) => [p.kind, p.path]),
            [["enum", "TagSpecifications.1.ResourceType"], ["type", "TagSpecifications.1.Tags.1.Key"]],
        );
        // A DynamoDB AttributeValue is a union: exactly one member.
        assert.deepEqual(validateShape("dynamodb", "PutItem", { TableName: "t", Item: { a: { S: "x", N: "1" } } }).map((p) => p.path), ["Item.a"]);
        assert.deepEqual(validateShape("dynamodb", "PutItem", { TableName: "t", Item: { a: { L: [{ S: "x" }, { M: { b: { BOOL: true } } }] } } }), []);
        assert.deepEqual(validateShape("s3", "PutObject", { Bucket: "b", Key: "k", Body: Buffer.from("x"), StorageClass: "STANDARD" }), []);
    });
});

describe("service models: the simulator answers an invalid request as AWS does", () => {
    it("EC2: MissingParameter for a missing required member, InvalidParameterValue for a bad type or enum value", async () => {
        const sim = start();
        const ec2 = client("ec2", sim.target());
        await rejects(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: {} as never })), "MissingParameter", /InstanceSpecification\.InstanceId/);
        await rejects(ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", VolumeType: "gp9" as never })), "InvalidParameterValue", /gp9.*VolumeType/);
        await rejects(ec2.send(new DescribeInstancesCommand({ InstanceIds: sim.instanceId as never })), "InvalidParameterValue", /InstanceIds/);
        // A DryRun is validated too.
        await rejects(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: {} as never, DryRun: true })), "MissingParameter", /InstanceId/);
        const failed = sim.calls.at(-1);
        assert.equal(failed?.ok, false);
        assert.equal(failed?.errorName, "MissingParameter");
        // A valid request passes.
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
        assert.equal(out.Reservations?.[0]?.Instances?.[0]?.InstanceId, sim.instanceId);
        assert.equal(sim.calls.at(-1)?.ok, true);
    });

    it("is checked before IAM: an invalid request a role may not make fails validation, not as a denial", async () => {
        const sim = start();
        const ec2 = client("ec2", { region: sim.region });
        const denials = sim.iamDenied.length;
        // The triage function may not touch instances (test/iam.test.ts); without the interface id AWS answers MissingParameter.
        await rejects(sim.runAs(sim.functionRoleArn("triage"), () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ Groups: ["sg-1"] } as never))), "MissingParameter", /NetworkInterfaceId/);
        assert.equal(sim.iamDenied.length, denials);
        assert.equal(sim.calls.at(-1)?.errorName, "MissingParameter");
    });

    it("IAM: ValidationError naming the member", async () => {
        const sim = start();
        const iam = client("iam", sim.target());
        await rejects(iam.send(new CreatePolicyCommand({ PolicyName: "p" } as never)), "ValidationError", /'policyDocument'.*must not be null/);
        await rejects(iam.send(new PutRolePolicyCommand({ RoleName: "r", PolicyName: "p", PolicyDocument: { Version: "2012-10-17" } as never })), "ValidationError", /'policyDocument'.*string/);
        const name = "guardduty-demo-RedTeamInstanceProfile-12V532PTT5LGZ";
        const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
        assert.equal(profile.InstanceProfile?.InstanceProfileName, name);
    });

    it("DynamoDB: ValidationException for a missing key, a bad enum value, an attribute value of two types", async () => {
        const sim = start();
        const ddb = client("dynamodb", { region: sim.region });
        const TableName = "dfir-cases";
        await rejects(ddb.send(new GetItemCommand({ TableName } as never)), "ValidationException", /'key'.*must not be null/);
        await rejects(ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: "x" } }, ReturnValues: "ALL" as never })), "ValidationException", /'ALL' at 'returnValues'.*enum/);
        await rejects(ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: "x", N: "1" } as never } })), "ValidationException", /'item\.pk'/);
        await ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: "instance#i-1" }, caseId: { S: "c1" } } }));
        const read = await ddb.send(new GetItemCommand({ TableName, Key: { pk: { S: "instance#i-1" } } }));
        assert.equal(read.Item?.caseId?.S, "c1");
    });

    it("S3: InvalidRequest for a missing member, InvalidArgument for a bad value", async () => {
        const sim = start();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        await rejects(s3.send(new GetObjectCommand({ Bucket } as never)), "InvalidRequest", /Key/);
        await rejects(s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x", StorageClass: "COLD" as never })), "InvalidArgument", /StorageClass/);
        await s3.send(new PutObjectCommand({ Bucket, Key: "cases/c1/x", Body: "x" }));
    });

    it("SSM: ValidationException for a filter key outside the model's enum", async () => {
        const sim = start();
        const ssm = client("ssm", sim.target());
        await rejects(ssm.send(new ListCommandsCommand({ Filters: [{ key: "Colour" as never, value: "blue" }] })), "ValidationException", /'filters\.1\.key'/);
    });
});
