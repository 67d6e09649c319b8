/**
 * The drill's simulated AWS, driven through REAL SDK v3 clients built by the handlers' factory
 * (`functions/lib/aws.ts`) after `install()`: every supported command's effect and its errors, latency,
 * fault injection, scenarios, seeding from every GuardDuty fixture, and persistence.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { DescribeAutoScalingInstancesCommand, DetachInstancesCommand } from "@aws-sdk/client-auto-scaling";
import {
    ConditionalCheckFailedException,
    GetItemCommand,
    PutItemCommand,
    TransactionCanceledException,
    TransactWriteItemsCommand,
    UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
    AssociateIamInstanceProfileCommand,
    CopySnapshotCommand,
    CreateSnapshotsCommand,
    CreateTagsCommand,
    DeleteTagsCommand,
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstanceAttributeCommand,
    DescribeInstancesCommand,
    DescribeNetworkInterfacesCommand,
    DescribeSecurityGroupsCommand,
    DescribeSnapshotsCommand,
    EC2ServiceException,
    GetConsoleOutputCommand,
    GetConsoleScreenshotCommand,
    ModifyInstanceAttributeCommand,
    ModifyNetworkInterfaceAttributeCommand,
    ModifySnapshotAttributeCommand,
    ReplaceIamInstanceProfileAssociationCommand,
    TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
    DeregisterTargetsCommand,
    DescribeTargetGroupsCommand,
    DescribeTargetHealthCommand,
    TargetGroupNotFoundException,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
    AttachRolePolicyCommand,
    CreatePolicyCommand,
    CreatePolicyVersionCommand,
    DeletePolicyVersionCommand,
    GetInstanceProfileCommand,
    GetPolicyCommand,
    GetPolicyVersionCommand,
    GetRolePolicyCommand,
    NoSuchEntityException,
    PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
    DeleteObjectCommand,
    GetObjectCommand,
    GetObjectRetentionCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    NoSuchKey,
    PutObjectCommand,
} from "@aws-sdk/client-s3";
import {
    CancelCommandCommand,
    DescribeInstanceInformationCommand,
    GetCommandInvocationCommand,
    ListCommandsCommand,
    SendCommandCommand,
    type Command,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { AvmlBuild } from "../core/avml";
import { caseIdFor } from "../core/case";
import { memberResponderPolicy } from "../core/memberPolicies";
import { CAPTURE_EXIT_CODES, memoryCommandParameters } from "../core/ssmDocument";
import type { CaseOpened, ContainmentResult, DiskEvidence } from "../core/workflow";
import { handler as openCaseHandler } from "../functions/case/index";
import { handler as containHandler } from "../functions/contain/index";
import { handler as memoryHandler, type MemoryResult } from "../functions/memory/index";
import { handler as snapshotHandler } from "../functions/snapshot/index";
import { assertAssumable, client, CrossAccountRoleError, type ClientTarget } from "../functions/lib/aws";
import {
    scenarioOptions,
    SimulatedAccount,
    SimulationSeedError,
    SimulatorGapError,
    STAND_IN_ACCOUNT,
    STDOUT_LIMIT,
    type SimOptions,
} from "../drill/sim";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const FIXTURES = GUARDDUTY_FIXTURES;
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as unknown;

/** A real finding: one interface, an instance profile, four tags. */
const REAL = "Trojan_EC2_DNSDataExfiltration";
/** A real finding without an instance profile and with a redacted account. */
const NO_PROFILE = "CryptoCurrency_EC2_BitcoinTool.B_DNS__real_lab39";
const MIB = 1024 * 1024;

/** Findings that name no instance: seeding them throws SimulationSeedError. */
const NO_INSTANCE = new Set([
    "AttackSequence_IAM_CompromisedCredentials",
    "CredentialAccess_RDS_AnomalousBehavior.SuccessfulLogin",
    "Execution_Container_SuspiciousFile",
    "Execution_ECS_MaliciousFile",
    "Policy_IAMUser_RootCredentialUsage",
    "Policy_Kubernetes_AdminAccessToDefaultServiceAccount",
    "Stealth_IAMUser_CloudTrailLoggingDisabled",
    "Stealth_IAMUser_LoggingConfigurationModified",
    "Stealth_IAMUser_PasswordPolicyChange",
]);

let current: SimulatedAccount | undefined;

/** Seed from a fixture and install; `afterEach` uninstalls. */
function start(options: SimOptions = {}, name = REAL): SimulatedAccount {
    current = SimulatedAccount.fromFinding(fixture(name), { memoryBytes: MIB, ...options });
    current.install();
    return current;
}

/** Where the seeded instance is (with the responder role when cross-account). */
function at(sim: SimulatedAccount): ClientTarget {
    return sim.target();
}

/** Asserts the promise rejects with an AWS-shaped error of that name (and status, when given). */
async function rejectsAws(promise: Promise<unknown>, name: string, status?: number): Promise<Error & Record<string, any>> {
    let caught: unknown;
    await assert.rejects(promise, (error: unknown) => {
        caught = error;
        return true;
    });
    const error = caught as Error & Record<string, any>;
    assert.equal(error.name, name, `expected ${name}, got ${error.name}: ${error.message}`);
    assert.ok(error.$metadata, "has $metadata");
    assert.ok(error.$fault === "client" || error.$fault === "server", "has $fault");
    if (status !== undefined) assert.equal(error.$metadata.httpStatusCode, status);
    return error;
}

async function sha256OfStream(body: unknown): Promise<{ sha256: string; bytes: number }> {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of body as Readable) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
    }
    return { sha256: hash.digest("hex"), bytes };
}

async function describe1(sim: SimulatedAccount) {
    const out = await client("ec2", at(sim)).send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    assert.ok(instance);
    return instance;
}

/** Swap the instance's profile for the capture profile (the memory upload needs it). */
async function useCaptureProfile(sim: SimulatedAccount): Promise<void> {
    const ec2 = client("ec2", at(sim));
    const current = sim.instance().profile;
    if (current) {
        await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: current.associationId, IamInstanceProfile: { Arn: sim.deployment.captureProfileArn } }));
    } else {
        await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: sim.instanceId, IamInstanceProfile: { Arn: sim.deployment.captureProfileArn } }));
    }
}

/** SendCommand of the project's memory document for case "c1", parameters built by core/ssmDocument.ts. */
async function captureMemory(sim: SimulatedAccount, overrides: { avmlSha256?: string; build?: AvmlBuild } = {}): Promise<string> {
    const staged = sim.deployment.avml[overrides.build ?? "x86_64"]!;
    const parameters = memoryCommandParameters({
        bucket: sim.deployment.evidenceBucket,
        caseId: "c1",
        instanceId: sim.instanceId,
        avmlKey: staged.key,
        avmlSha256: overrides.avmlSha256 ?? staged.sha256,
        region: sim.region,
    });
    const out = await client("ssm", at(sim)).send(
        new SendCommandCommand({
            DocumentName: sim.deployment.memoryDocument,
            InstanceIds: [sim.instanceId],
            Parameters: parameters,
            OutputS3BucketName: sim.deployment.evidenceBucket,
            OutputS3KeyPrefix: "cases/c1/ssm/",
            TimeoutSeconds: 600,
        }),
    );
    assert.ok(out.Command?.CommandId);
    return out.Command.CommandId;
}

afterEach(() => {
    current?.uninstall();
    current = undefined;
});

describe("simulator: installation", () => {
    it("puts simulated home credentials in the environment and restores the previous values", () => {
        const saved = { id: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN };
        process.env.AWS_ACCESS_KEY_ID = "AKIAORIGINAL";
        delete process.env.AWS_SESSION_TOKEN;
        try {
            const sim = start();
            assert.equal(process.env.AWS_ACCESS_KEY_ID, `ASIA${sim.homeAccountId}HOME`);
            assert.ok(process.env.AWS_SESSION_TOKEN);
            sim.install(); // idempotent
            sim.uninstall();
            assert.equal(process.env.AWS_ACCESS_KEY_ID, "AKIAORIGINAL");
            assert.equal(process.env.AWS_SESSION_TOKEN, undefined);
        } finally {
            if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
            else process.env.AWS_ACCESS_KEY_ID = saved.id;
            if (saved.token !== undefined) process.env.AWS_SESSION_TOKEN = saved.token;
        }
    });

    it("removes the customizer on uninstall; clients built while installed then refuse calls", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        assert.ok(ec2.middlewareStack.identify().some((m) => m.startsWith("awsDfirSimulator")));
        sim.uninstall();
        const fresh = client("ec2", at(sim));
        assert.ok(!fresh.middlewareStack.identify().some((m) => m.startsWith("awsDfirSimulator")));
        await assert.rejects(ec2.send(new DescribeInstancesCommand({})), /used after uninstall/);
    });

    it("short-circuits before serialisation, signing and HTTP", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const stack = ec2.middlewareStack as unknown as { add: (mw: unknown, options: Record<string, unknown>) => void };
        for (const step of ["serialize", "build", "finalizeRequest", "deserialize"]) {
            stack.add(() => async () => {
                throw new Error(`reached ${step}`);
            }, { step, name: `guard-${step}`, priority: "high" });
        }
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
        assert.equal(out.$metadata.httpStatusCode, 200);
    });

    it("refuses a second simulator while one is installed", () => {
        start();
        const other = SimulatedAccount.fromFinding(fixture(NO_PROFILE));
        assert.throws(() => other.install(), /another SimulatedAccount is installed/);
    });

    it("makes unimplemented commands loud", async () => {
        const sim = start();
        const error = await assert.rejects(client("ec2", at(sim)).send(new TerminateInstancesCommand({ InstanceIds: [sim.instanceId] })), (e: unknown) => {
            assert.ok(e instanceof SimulatorGapError);
            assert.equal((e as Error).message, "simulator: ec2:TerminateInstances not implemented");
            return true;
        });
        void error;
        assert.equal(sim.calls.at(-1)?.ok, false);
    });
});

describe("simulator: EC2", () => {
    it("DescribeInstances returns the seeded instance in the SDK's shape", async () => {
        const sim = start({ volumes: 3 });
        const i = await describe1(sim);
        assert.equal(i.InstanceId, "i-052d01dc385deeeee");
        assert.deepEqual(i.State, { Code: 16, Name: "running" });
        assert.equal(i.VpcId, "vpc-04d9d9f179efca5db");
        assert.equal(i.SubnetId, "subnet-05d6f8c70ad8afe57");
        assert.equal(i.Placement?.AvailabilityZone, "ap-southeast-2a");
        assert.equal(i.ImageId, "ami-0fb7513bcdc525c3b");
        assert.ok(i.LaunchTime instanceof Date);
        assert.equal(i.Platform, undefined);
        const eni = i.NetworkInterfaces?.[0];
        assert.equal(eni?.NetworkInterfaceId, "eni-0c4c86ce10aff3aa2");
        assert.equal(eni?.Attachment?.DeviceIndex, 0);
        assert.deepEqual(eni?.Groups, [{ GroupId: "sg-0bcaa095ddfa5002f", GroupName: "guardduty-demo-RedTeamSecurityGroup-G02ZDHTZBH2D" }]);
        assert.deepEqual(eni?.Ipv6Addresses, []);
        assert.match(String(i.IamInstanceProfile?.Arn), /^arn:aws:iam::000001111194:instance-profile\/guardduty-demo-RedTeamInstanceProfile-12V532PTT5LGZ$/);
        assert.equal(i.IamInstanceProfile?.Id, "AIPATYIYEQNPGQWY4VYCG");
        assert.equal(i.RootDeviceName, "/dev/xvda");
        assert.deepEqual(
            i.BlockDeviceMappings?.map((b) => [b.DeviceName, b.Ebs?.DeleteOnTermination]),
            [["/dev/xvda", true], ["/dev/sdf", false], ["/dev/sdg", false]],
        );
        assert.equal(i.Tags?.length, 4);
    });

    it("DescribeInstances on an unknown or malformed id fails like EC2", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const error = await rejectsAws(ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })), "InvalidInstanceID.NotFound", 400);
        assert.ok(error instanceof EC2ServiceException);
        assert.equal(error.$fault, "client");
        await rejectsAws(ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-nope"] })), "InvalidInstanceID.Malformed");
    });

    it("reads and changes instance attributes (protections, shutdown behaviour, delete-on-termination)", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const read = async (Attribute: "disableApiTermination" | "disableApiStop" | "instanceInitiatedShutdownBehavior") =>
            ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: sim.instanceId, Attribute }));
        assert.deepEqual((await read("disableApiTermination")).DisableApiTermination, { Value: false });
        assert.deepEqual((await read("instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior, { Value: "stop" });
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, DisableApiTermination: { Value: true } }));
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, DisableApiStop: { Value: true } }));
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, InstanceInitiatedShutdownBehavior: { Value: "terminate" } }));
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { DeleteOnTermination: false } }] }));
        assert.deepEqual((await read("disableApiStop")).DisableApiStop, { Value: true });
        const view = sim.instance();
        assert.equal(view.disableApiTermination, true);
        assert.equal(view.shutdownBehavior, "terminate");
        assert.equal(view.blockDevices[0]?.deleteOnTermination, false);
        await rejectsAws(
            ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, DisableApiTermination: { Value: true }, DisableApiStop: { Value: true } })),
            "InvalidParameterCombination",
        );
        await rejectsAws(
            ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: sim.instanceId, BlockDeviceMappings: [{ DeviceName: "/dev/sdz", Ebs: { DeleteOnTermination: false } }] })),
            "InvalidInstanceAttributeValue",
        );
    });

    it("lists interfaces by instance and moves one into the isolation group; bad groups are refused", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const listed = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [sim.instanceId] }] }));
        assert.equal(listed.NetworkInterfaces?.length, 1);
        const eni = listed.NetworkInterfaces?.[0];
        assert.equal(eni?.Attachment?.InstanceId, sim.instanceId);
        const iso = sim.deployment.isolationGroups[String(eni?.VpcId)];
        assert.ok(iso);
        await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni?.NetworkInterfaceId, Groups: [iso] }));
        assert.deepEqual(sim.instance().networkInterfaces[0]?.groupIds, [iso]);
        await rejectsAws(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni?.NetworkInterfaceId, Groups: ["sg-0123456789abcdef0"] })), "InvalidGroup.NotFound");
        // A group of another VPC (a second instance seeded in the same account and region).
        const other = sim.addInstanceFromFinding(fixture("CryptoCurrency_EC2_BitcoinTool.B_DNS"), { accountId: sim.instanceAccountId, region: sim.region });
        const otherVpc = sim.instance(other.instanceId).vpcId;
        await rejectsAws(
            ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni?.NetworkInterfaceId, Groups: [String(sim.deployment.isolationGroups[otherVpc])] })),
            "InvalidGroup.NotFound",
        );
        await rejectsAws(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-0123456789abcdef0"] })), "InvalidNetworkInterfaceID.NotFound");
    });

    it("tags and untags instances; aws: keys are reserved", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        await ec2.send(new CreateTagsCommand({ Resources: [sim.instanceId], Tags: [{ Key: "dfir:status", Value: "isolated" }, { Key: "dfir:case-id", Value: "c1" }] }));
        assert.equal(sim.instance().tags["dfir:status"], "isolated");
        await ec2.send(new DeleteTagsCommand({ Resources: [sim.instanceId], Tags: [{ Key: "dfir:case-id", Value: "other" }, { Key: "dfir:status" }] }));
        assert.equal(sim.instance().tags["dfir:status"], undefined);
        assert.equal(sim.instance().tags["dfir:case-id"], "c1", "a tag whose value differs is kept");
        await rejectsAws(ec2.send(new CreateTagsCommand({ Resources: [sim.instanceId], Tags: [{ Key: "aws:x", Value: "y" }] })), "InvalidParameterValue");
        await rejectsAws(ec2.send(new CreateTagsCommand({ Resources: ["i-0123456789abcdef0"], Tags: [{ Key: "k", Value: "v" }] })), "InvalidInstanceID.NotFound");
    });

    it("CreateSnapshots makes a crash-consistent set, pending then completed; tags copied and added", async () => {
        const sim = start({ volumes: 3 });
        const ec2 = client("ec2", at(sim));
        const made = await ec2.send(
            new CreateSnapshotsCommand({
                InstanceSpecification: { InstanceId: sim.instanceId, ExcludeBootVolume: false },
                CopyTagsFromSource: "volume",
                TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "dfir:case-id", Value: "c1" }] }],
            }),
        );
        assert.equal(made.Snapshots?.length, 3);
        assert.ok(made.Snapshots?.every((s) => s.State === "pending" && s.Progress === "0%"));
        const ids = made.Snapshots?.map((s) => String(s.SnapshotId)) ?? [];
        const described = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }));
        assert.ok(described.Snapshots?.every((s) => s.State === "completed" && s.Progress === "100%"));
        const tags = Object.fromEntries(described.Snapshots?.[0]?.Tags?.map((t) => [t.Key, t.Value]) ?? []);
        assert.equal(tags["dfir:case-id"], "c1");
        assert.match(String(tags.Name), /\/dev\/xvda$/);
        const noBoot = await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId, ExcludeBootVolume: true } }));
        assert.equal(noBoot.Snapshots?.length, 2);
        await rejectsAws(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ["snap-0123456789abcdef0"] })), "InvalidSnapshot.NotFound");
    });

    it("CreateSnapshots refuses, taking no snapshot, a copied volume tag the request sets too, and more than 50 user tags; tag limits of CreateTags and TagSpecifications", async () => {
        const workload = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`w${i}`, String(i)]));
        const sim = start({ volumeTags: { ...workload, "dfir:case-id": "old-case", "aws:backup:source-resource": "snap-0aaa" } });
        const ec2 = client("ec2", at(sim));
        const caseTags = (...keys: string[]) => [{ ResourceType: "snapshot" as const, Tags: keys.map((Key) => ({ Key, Value: "v" })) }];
        const create = (keys: string[], copy = true) => ec2.send(new CreateSnapshotsCommand({
            InstanceSpecification: { InstanceId: sim.instanceId }, ...(copy ? { CopyTagsFromSource: "volume" as const } : {}), TagSpecifications: caseTags(...keys),
        }));
        // Each volume: Name + 48 + dfir:case-id = 50 user tags (the aws: one does not count).
        assert.match((await rejectsAws(create(["dfir:case-id"]), "InvalidParameterValue")).message, /Tag 'dfir:case-id' is already defined/);
        await rejectsAws(create(["dfir:instance-id"]), "TagLimitExceeded");
        assert.deepEqual(sim.snapshots(), [], "no snapshot taken");
        // Without CopyTagsFromSource only the request's tags count; a request may set no key twice, nor more than 50.
        const plain = await create(["dfir:case-id", "dfir:instance-id"], false);
        assert.equal(plain.Snapshots?.length, 2);
        assert.deepEqual(plain.Snapshots?.[0]?.Tags?.map((t) => t.Key).sort(), ["dfir:case-id", "dfir:instance-id"]);
        assert.match((await rejectsAws(create(["k", "k"], false), "InvalidParameterValue")).message, /Duplicate tag key 'k'/);
        await rejectsAws(create(Array.from({ length: 51 }, (_, i) => `k${i}`), false), "TagLimitExceeded");
        assert.match((await rejectsAws(create(["x".repeat(129)], false), "InvalidParameterValue")).message, /maximum length of 128/);
        // CreateTags counts what the resource has and what it adds, aws: tags aside.
        const snapshot = String(plain.Snapshots?.[0]?.SnapshotId);
        await ec2.send(new CreateTagsCommand({ Resources: [snapshot], Tags: Array.from({ length: 48 }, (_, i) => ({ Key: `t${i}`, Value: "" })) }));
        await rejectsAws(ec2.send(new CreateTagsCommand({ Resources: [snapshot], Tags: [{ Key: "one-too-many", Value: "" }] })), "TagLimitExceeded");
        await ec2.send(new CreateTagsCommand({ Resources: [snapshot], Tags: [{ Key: "t0", Value: "changed" }] }));
    });

    it("snapshots take snapshotDurationMs of simulator time, end in error under snapshot-error, and paginate", async () => {
        const sim = start({ snapshotDurationMs: 60_000, pageSizes: { describeSnapshots: 1 } });
        const ec2 = client("ec2", at(sim));
        await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } }));
        sim.advance(30_000);
        const first = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
        assert.equal(first.Snapshots?.length, 1);
        assert.equal(first.Snapshots?.[0]?.State, "pending");
        assert.match(String(first.Snapshots?.[0]?.Progress), /^(49|50)%$/);
        assert.ok(first.NextToken);
        const second = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], NextToken: first.NextToken }));
        assert.equal(second.Snapshots?.length, 1);
        assert.equal(second.NextToken, undefined);
        sim.advance(30_000);
        assert.ok(sim.snapshots().every((s) => s.state === "completed"));
        sim.uninstall();

        const failing = start({ snapshotError: true });
        await client("ec2", at(failing)).send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: failing.instanceId } }));
        const out = await client("ec2", at(failing)).send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
        assert.ok(out.Snapshots?.length && out.Snapshots.every((s) => s.State === "error" && s.StateMessage));
    });

    it("copies snapshots in the region: across accounts only when shared, re-encrypted under the named key; aws/ebs snapshots cannot be shared", async () => {
        // EBS's copy mechanics, with inputs the deployed policies do not allow (drill/sim/iam is tested on its own).
        const sim = start({ crossAccount: true, copySnapshotsToHub: true, copyDurationMs: 60_000, iam: false });
        const memberAccount = sim.instanceAccountId;
        const member = client("ec2", at(sim));
        const hub = client("ec2", { region: sim.region });
        const made = await member.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } }));
        const source = String(made.Snapshots?.[0]?.SnapshotId);
        const shareAlias = `arn:aws:kms:${sim.region}:${memberAccount}:alias/dfir-snapshot-share`;
        const copyInput = (id: string, key?: string) => ({
            SourceSnapshotId: id, SourceRegion: sim.region, Encrypted: true, ...(key ? { KmsKeyId: key } : {}),
            TagSpecifications: [{ ResourceType: "snapshot" as const, Tags: [{ Key: "dfir:case-id", Value: "c1" }] }],
        });
        const share = (id: string, account = sim.homeAccountId) =>
            member.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: "createVolumePermission", OperationType: "add", UserIds: [account] }));

        // The evidence snapshot is under the member's aws/ebs key: EBS refuses to share it, and the hub cannot see it.
        await rejectsAws(share(source), "OperationNotPermitted");
        await rejectsAws(hub.send(new CopySnapshotCommand(copyInput(source))), "InvalidSnapshot.NotFound");
        await rejectsAws(member.send(new CopySnapshotCommand({ SourceSnapshotId: source, SourceRegion: sim.region, KmsKeyId: shareAlias })), "InvalidParameterDependency");
        await assert.rejects(member.send(new CopySnapshotCommand({ ...copyInput(source, shareAlias), SourceRegion: "eu-west-1" })), (e: unknown) =>
            e instanceof SimulatorGapError && /from another region/.test((e as Error).message));

        // The member's copy under the share key: pending for copyDurationMs, then completed, keyed and tagged.
        const memberCopy = String((await member.send(new CopySnapshotCommand(copyInput(source, shareAlias)))).SnapshotId);
        await share(memberCopy);
        await rejectsAws(hub.send(new CopySnapshotCommand(copyInput(memberCopy, sim.deployment.evidenceKeyArn))), "IncorrectState");
        sim.advance(60_000);
        const [described] = (await member.send(new DescribeSnapshotsCommand({ SnapshotIds: [memberCopy] }))).Snapshots ?? [];
        assert.equal(described.State, "completed");
        assert.equal(described.VolumeId, "vol-ffffffff");
        assert.match(String(described.KmsKeyId), new RegExp(`^arn:aws:kms:${sim.region}:${memberAccount}:key/`));
        assert.deepEqual(described.Tags, [{ Key: "dfir:case-id", Value: "c1" }]);

        // Shared with the hub: the hub copies it under its evidence key; another account still cannot.
        const hubCopy = String((await hub.send(new CopySnapshotCommand(copyInput(memberCopy, sim.deployment.evidenceKeyArn)))).SnapshotId);
        sim.advance(60_000);
        const [inHub] = (await hub.send(new DescribeSnapshotsCommand({ SnapshotIds: [hubCopy] }))).Snapshots ?? [];
        assert.equal(inHub.State, "completed");
        assert.equal(inHub.OwnerId, sim.homeAccountId);
        assert.equal(inHub.KmsKeyId, sim.deployment.evidenceKeyArn);
        const views = sim.snapshots();
        assert.deepEqual(views.find((v) => v.snapshotId === memberCopy)?.sharedWith, [sim.homeAccountId]);
        assert.deepEqual(views.find((v) => v.snapshotId === hubCopy)?.copyOf, { snapshotId: memberCopy, accountId: memberAccount });

        // An unknown key is accepted and the copy ends in error (EC2 resolves KmsKeyId asynchronously).
        const bad = String((await member.send(new CopySnapshotCommand(copyInput(source, "alias/no-such-key")))).SnapshotId);
        sim.advance(60_000);
        const [failed] = (await member.send(new DescribeSnapshotsCommand({ SnapshotIds: [bad] }))).Snapshots ?? [];
        assert.equal(failed.State, "error");
        assert.match(String(failed.StateMessage), /alias\/no-such-key/);
        // Encrypted snapshots are never public; ids must be accounts.
        await rejectsAws(member.send(new ModifySnapshotAttributeCommand({ SnapshotId: memberCopy, CreateVolumePermission: { Add: [{ Group: "all" }] } })), "InvalidParameter");
        await rejectsAws(share(memberCopy, "hub"), "InvalidParameterValue");
    });

    it("under copyError the copies of that side (here the hub) end in error, the other side's complete", async () => {
        const sim = start({ crossAccount: true, copySnapshotsToHub: true, copyError: "hub", iam: false });
        const member = client("ec2", at(sim));
        const hub = client("ec2", { region: sim.region });
        const made = await member.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } }));
        const shareAlias = `alias/dfir-snapshot-share`;
        const memberCopy = String((await member.send(new CopySnapshotCommand({ SourceSnapshotId: made.Snapshots?.[0]?.SnapshotId, SourceRegion: sim.region, Encrypted: true, KmsKeyId: shareAlias }))).SnapshotId);
        await member.send(new ModifySnapshotAttributeCommand({ SnapshotId: memberCopy, CreateVolumePermission: { Add: [{ UserId: sim.homeAccountId }] } }));
        const hubCopy = String((await hub.send(new CopySnapshotCommand({ SourceSnapshotId: memberCopy, SourceRegion: sim.region, Encrypted: true, KmsKeyId: sim.deployment.evidenceKeyArn }))).SnapshotId);
        const state = (id: string) => sim.snapshots().find((v) => v.snapshotId === id)?.state;
        assert.equal(state(memberCopy), "completed");
        assert.equal(state(hubCopy), "error");
    });

    it("returns console output and a JPEG screenshot; screenshots can be unsupported", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const output = await ec2.send(new GetConsoleOutputCommand({ InstanceId: sim.instanceId }));
        assert.match(Buffer.from(String(output.Output), "base64").toString("utf8"), new RegExp(sim.instanceId));
        const shot = await ec2.send(new GetConsoleScreenshotCommand({ InstanceId: sim.instanceId }));
        const jpeg = Buffer.from(String(shot.ImageData), "base64");
        assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
        assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9]);
        sim.uninstall();
        const unsupported = start({ screenshotUnsupported: true });
        await rejectsAws(client("ec2", at(unsupported)).send(new GetConsoleScreenshotCommand({ InstanceId: unsupported.instanceId })), "UnsupportedOperation");
    });

    it("replaces and associates instance profiles like EC2", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const listed = await ec2.send(
            new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "instance-id", Values: [sim.instanceId] }, { Name: "state", Values: ["associated"] }] }),
        );
        assert.equal(listed.IamInstanceProfileAssociations?.length, 1);
        const old = listed.IamInstanceProfileAssociations?.[0];
        const replaced = await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: old?.AssociationId, IamInstanceProfile: { Arn: sim.deployment.captureProfileArn } }));
        assert.equal(replaced.IamInstanceProfileAssociation?.IamInstanceProfile?.Arn, sim.deployment.captureProfileArn);
        assert.equal(sim.instance().profile?.arn, sim.deployment.captureProfileArn);
        const gone = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "state", Values: ["disassociated"] }] }));
        assert.deepEqual(gone.IamInstanceProfileAssociations?.map((a) => a.AssociationId), [old?.AssociationId]);
        await rejectsAws(ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: old?.AssociationId, IamInstanceProfile: { Arn: sim.deployment.captureProfileArn } })), "InvalidAssociationID.NotFound");
        await rejectsAws(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: sim.instanceId, IamInstanceProfile: { Arn: sim.deployment.captureProfileArn } })), "IncorrectState");
        const current = sim.instance().profile;
        await rejectsAws(
            ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: current?.associationId, IamInstanceProfile: { Arn: "arn:aws:iam::000001111194:instance-profile/nope" } })),
            "InvalidParameterValue",
        );
        sim.uninstall();

        const bare = start({}, NO_PROFILE);
        assert.equal(bare.instance().profile, null);
        await client("ec2", at(bare)).send(new AssociateIamInstanceProfileCommand({ InstanceId: bare.instanceId, IamInstanceProfile: { Arn: bare.deployment.captureProfileArn } }));
        assert.equal(bare.instance().profile?.arn, bare.deployment.captureProfileArn);
    });

    it("finds the isolation group by VPC and role tag", async () => {
        const sim = start();
        const ec2 = client("ec2", at(sim));
        const vpcId = sim.instance().vpcId;
        const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }, { Name: "tag:dfir:role", Values: ["isolation"] }] }));
        assert.deepEqual(out.SecurityGroups?.map((g) => g.GroupId), [sim.deployment.isolationGroups[vpcId]]);
        assert.deepEqual(out.SecurityGroups?.[0]?.IpPermissions, []);
        await rejectsAws(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })), "InvalidGroup.NotFound");
    });

    it("answers DryRun with DryRunOperation", async () => {
        const sim = start();
        await rejectsAws(client("ec2", at(sim)).send(new DescribeInstancesCommand({ DryRun: true })), "DryRunOperation", 412);
    });
});

describe("simulator: Auto Scaling and ELBv2 (in-asg)", () => {
    it("detaches the instance keeping capacity, and its target groups drain", async () => {
        const sim = start({ inAsg: true });
        const asg = client("autoscaling", at(sim));
        const found = await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [sim.instanceId] }));
        const group = found.AutoScalingInstances?.[0]?.AutoScalingGroupName;
        assert.equal(group, "dfir-drill-asg");
        const detached = await asg.send(new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [sim.instanceId], ShouldDecrementDesiredCapacity: false }));
        assert.match(String(detached.Activities?.[0]?.Cause), /keeping the capacity at 2/);
        const view = sim.instance();
        assert.equal(view.autoScaling?.inGroup, false);
        assert.equal(view.autoScaling?.desiredCapacity, 2);
        assert.deepEqual(view.autoScaling?.detachments.map((d) => d.decremented), [false]);
        assert.deepEqual(view.targetGroups.map((t) => t.state), ["draining", "draining"], "the group's two target groups drain");
        assert.equal((await asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [sim.instanceId] }))).AutoScalingInstances?.length, 0);
        await rejectsAws(asg.send(new DetachInstancesCommand({ AutoScalingGroupName: group, InstanceIds: [sim.instanceId], ShouldDecrementDesiredCapacity: false })), "ValidationError");
    });

    it("pages target groups one at a time and reports health per target; deregistration drains", async () => {
        const sim = start({ inAsg: true });
        const elb = client("elbv2", at(sim));
        const arns: string[] = [];
        let marker: string | undefined;
        let pages = 0;
        do {
            const page = await elb.send(new DescribeTargetGroupsCommand({ Marker: marker }));
            arns.push(...(page.TargetGroups?.map((g) => String(g.TargetGroupArn)) ?? []));
            marker = page.NextMarker;
            pages++;
        } while (marker);
        assert.equal(pages, 3);
        const states = [];
        for (const arn of arns) {
            const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: sim.instanceId }] }));
            states.push(health.TargetHealthDescriptions?.[0]?.TargetHealth);
        }
        assert.deepEqual(states.map((s) => s?.State), ["healthy", "unused", "healthy"]);
        assert.equal(states[1]?.Reason, "Target.NotRegistered");
        await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arns[0], Targets: [{ Id: sim.instanceId }] }));
        const after = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arns[0], Targets: [{ Id: sim.instanceId }] }));
        assert.equal(after.TargetHealthDescriptions?.[0]?.TargetHealth?.State, "draining");
        sim.advance(300_000);
        assert.equal(sim.instance().targetGroups[0]?.state, "unused");
        const error = await rejectsAws(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${arns[0]}x` })), "TargetGroupNotFoundException");
        assert.ok(error instanceof TargetGroupNotFoundException);
    });
});

describe("simulator: IAM and STS", () => {
    it("reads instance profiles and stores role policies (returned URL-encoded, as IAM does)", async () => {
        const sim = start();
        const iam = client("iam", at(sim));
        const name = "guardduty-demo-RedTeamInstanceProfile-12V532PTT5LGZ";
        const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
        assert.deepEqual(profile.InstanceProfile?.Roles?.map((r) => r.RoleName), [name]);
        const doc = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: { DateLessThan: { "aws:TokenIssueTime": "2025-01-01T00:00:00Z" } } }] });
        await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: "dfir-revoke", PolicyDocument: doc }));
        const read = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: "dfir-revoke" }));
        assert.equal(decodeURIComponent(String(read.PolicyDocument)), doc);
        assert.deepEqual(sim.rolePolicies(name), { "dfir-revoke": doc });
        const error = await rejectsAws(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "nope" })), "NoSuchEntityException", 404);
        assert.ok(error instanceof NoSuchEntityException);
        await rejectsAws(iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: "p", PolicyDocument: "{not json" })), "MalformedPolicyDocumentException");
        await rejectsAws(iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: "absent" })), "NoSuchEntityException");
    });

    it("keeps customer managed policies as IAM does: 6,144 characters, five versions, ten attached per role, URL-encoded documents", async () => {
        const sim = start();
        const iam = client("iam", at(sim));
        const role = "guardduty-demo-RedTeamInstanceProfile-12V532PTT5LGZ";
        const doc = (n: number) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: `S${n}`, Effect: "Deny", Action: "*", Resource: "*" }] });
        const created = await iam.send(new CreatePolicyCommand({ PolicyName: "p", Path: "/dfir/revoke/", PolicyDocument: doc(1) }));
        const arn = created.Policy?.Arn as string;
        assert.equal(arn, `arn:aws:iam::${sim.instanceAccountId}:policy/dfir/revoke/p`);
        await rejectsAws(iam.send(new CreatePolicyCommand({ PolicyName: "p", PolicyDocument: doc(1) })), "EntityAlreadyExistsException", 409);
        const big = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: { StringLike: { k: "x".repeat(6_144) } } }] });
        await rejectsAws(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: big, SetAsDefault: true })), "LimitExceededException", 409);
        for (let n = 2; n <= 5; n++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc(n), SetAsDefault: true }));
        await rejectsAws(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc(6), SetAsDefault: true })), "LimitExceededException", 409);
        await rejectsAws(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v5" })), "DeleteConflictException", 409);
        await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
        const v6 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: doc(6), SetAsDefault: true }));
        assert.equal(v6.PolicyVersion?.VersionId, "v6", "version numbers are never reused");
        const policy = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
        const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.Policy?.DefaultVersionId }));
        assert.equal(decodeURIComponent(String(version.PolicyVersion?.Document)), doc(6));
        await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
        await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
        assert.deepEqual(Object.keys(sim.attachedPolicies(role)), [arn], "attaching twice attaches once");
        for (let n = 2; n <= 10; n++) {
            const other = await iam.send(new CreatePolicyCommand({ PolicyName: `p${n}`, PolicyDocument: doc(n) }));
            await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: other.Policy?.Arn }));
        }
        const eleventh = await iam.send(new CreatePolicyCommand({ PolicyName: "p11", PolicyDocument: doc(11) }));
        await rejectsAws(iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: eleventh.Policy?.Arn })), "LimitExceededException", 409);
        await rejectsAws(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${sim.instanceAccountId}:policy/absent` })), "NoSuchEntityException", 404);
    });

    it("acts on the member account with credentials from AssumeRole", async () => {
        const sim = start({ crossAccount: true });
        // The responder role trusts the hub's member-acting function roles: act as Contain's.
        await sim.runAs(sim.functionRoleArn("contain"), () => actsOnMember(sim));
    });

    async function actsOnMember(sim: SimulatedAccount): Promise<void> {
        assert.notEqual(sim.homeAccountId, sim.instanceAccountId);
        const target = at(sim);
        assert.ok(target.roleArn);
        const home = await client("sts", { region: sim.region }).send(new GetCallerIdentityCommand({}));
        assert.equal(home.Account, sim.homeAccountId);
        const member = await client("sts", target).send(new GetCallerIdentityCommand({}));
        assert.equal(member.Account, sim.instanceAccountId);
        assert.match(String(member.Arn), /:assumed-role\/dfir-responder\/aws-dfir-responder$/);
        await describe1(sim);
        // Without the role the home account sees no such instance (asked as the hub's administrator: the hub's
        // function roles hold no grant on the hub's own instances where it has none).
        await sim.runAs(sim.analystRoleArn as string, () =>
            rejectsAws(client("ec2", { region: sim.region }).send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] })), "InvalidInstanceID.NotFound"));
        // The factory shares one credential provider per (role, region): one AssumeRole for sts and ec2 together.
        const assumes = sim.calls.filter((c) => c.action === "sts:AssumeRole");
        assert.equal(assumes.length, 1);
        assert.ok(assumes.every((c) => c.ok && c.accountId === sim.homeAccountId));
        await describe1(sim);
        assert.equal(sim.calls.filter((c) => c.action === "sts:AssumeRole").length, 1, "then cached");
    }

    it("denies AssumeRole when the member account has no responder role", async () => {
        const sim = start({ crossAccountRoleMissing: true });
        await assert.rejects(assertAssumable(at(sim)), (error: unknown) => {
            assert.ok(error instanceof CrossAccountRoleError);
            const cause = (error as Error & { cause?: Error }).cause;
            assert.equal(cause?.name, "AccessDenied");
            assert.match(String(cause?.message), /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::\d{12}:role\/dfir-responder/);
            return true;
        });
        const call = sim.calls.find((c) => c.action === "sts:AssumeRole");
        assert.equal(call?.ok, false);
        assert.equal(call?.errorName, "AccessDenied");
    });
});

describe("simulator: S3", () => {
    it("stores versions under Object Lock and streams them back (string, Buffer, Uint8Array and stream bodies)", async () => {
        const sim = start();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        const bodies: [string, unknown, Buffer][] = [
            ["a.txt", "hello", Buffer.from("hello")],
            ["b.bin", Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3])],
            ["c.bin", new Uint8Array([4, 5]), Buffer.from([4, 5])],
            ["d.bin", Readable.from([Buffer.alloc(70_000, 7), Buffer.alloc(10, 8)]), Buffer.concat([Buffer.alloc(70_000, 7), Buffer.alloc(10, 8)])],
        ];
        for (const [key, body, bytes] of bodies) {
            const put = await s3.send(new PutObjectCommand({ Bucket, Key: `cases/c1/${key}`, Body: body as string, Metadata: { "Case-Id": "c1" } }));
            assert.ok(put.VersionId);
            const got = await s3.send(new GetObjectCommand({ Bucket, Key: `cases/c1/${key}` }));
            assert.equal(got.ContentLength, bytes.length);
            assert.equal(got.VersionId, put.VersionId);
            assert.equal(got.ObjectLockMode, "COMPLIANCE");
            assert.deepEqual(got.Metadata, { "case-id": "c1" });
            const streamed = await sha256OfStream(got.Body);
            assert.equal(streamed.sha256, createHash("sha256").update(bytes).digest("hex"));
        }
        const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "cases/c1/a.txt" }));
        const days = ((head.ObjectLockRetainUntilDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
        assert.ok(days > 364.9 && days <= 365.01, `default retention 365 days, got ${days}`);
        const retention = await s3.send(new GetObjectRetentionCommand({ Bucket, Key: "cases/c1/a.txt" }));
        assert.equal(retention.Retention?.Mode, "COMPLIANCE");
        const text = await s3.send(new GetObjectCommand({ Bucket, Key: "cases/c1/a.txt" }));
        assert.equal(await text.Body?.transformToString(), "hello");
    });

    it("refuses an existing key with IfNoneMatch, and a wrong ChecksumSHA256", async () => {
        const sim = start();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        await s3.send(new PutObjectCommand({ Bucket, Key: "cases/c1/open", Body: "1", IfNoneMatch: "*" }));
        await rejectsAws(s3.send(new PutObjectCommand({ Bucket, Key: "cases/c1/open", Body: "2", IfNoneMatch: "*" })), "PreconditionFailed", 412);
        await rejectsAws(s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x", ChecksumSHA256: createHash("sha256").update("y").digest("base64") })), "BadDigest");
        const checksum = createHash("sha256").update("x").digest("base64");
        await s3.send(new PutObjectCommand({ Bucket, Key: "k", Body: "x", ChecksumSHA256: checksum }));
        assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: "k", ChecksumMode: "ENABLED" }))).ChecksumSHA256, checksum);
    });

    it("denies deleting a locked version until retain-until; a plain delete only adds a marker", async () => {
        // Object Lock alone: the deployed bucket policy denies every version delete first (test/iam.test.ts).
        const sim = start({ iam: false });
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        const put = await s3.send(new PutObjectCommand({ Bucket, Key: "cases/c1/manifest.json", Body: "{}" }));
        await rejectsAws(s3.send(new DeleteObjectCommand({ Bucket, Key: "cases/c1/manifest.json", VersionId: put.VersionId })), "AccessDenied", 403);
        const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: "cases/c1/manifest.json" }));
        assert.equal(marker.DeleteMarker, true);
        const error = await rejectsAws(s3.send(new GetObjectCommand({ Bucket, Key: "cases/c1/manifest.json" })), "NoSuchKey", 404);
        assert.ok(error instanceof NoSuchKey);
        await rejectsAws(s3.send(new HeadObjectCommand({ Bucket, Key: "cases/c1/manifest.json" })), "NotFound", 404);
        const old = await s3.send(new GetObjectCommand({ Bucket, Key: "cases/c1/manifest.json", VersionId: put.VersionId }));
        assert.equal(old.ContentLength, 2);
        sim.advance(366 * 86_400_000);
        await s3.send(new DeleteObjectCommand({ Bucket, Key: "cases/c1/manifest.json", VersionId: put.VersionId }));
        assert.deepEqual(sim.objectVersions(Bucket, "cases/c1/manifest.json").map((v) => v.deleteMarker), [true]);
        // GOVERNANCE can be bypassed, COMPLIANCE cannot.
        const gov = await s3.send(new PutObjectCommand({ Bucket, Key: "g", Body: "g", ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: new Date(sim.now().getTime() + 86_400_000) }));
        await rejectsAws(s3.send(new DeleteObjectCommand({ Bucket, Key: "g", VersionId: gov.VersionId })), "AccessDenied");
        await s3.send(new DeleteObjectCommand({ Bucket, Key: "g", VersionId: gov.VersionId, BypassGovernanceRetention: true }));
    });

    it("lists with a prefix, pages and delimiter; missing buckets and wrong regions fail", async () => {
        const sim = start();
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        for (const key of ["cases/a/1", "cases/a/2", "cases/b/1", "other"]) await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: key }));
        const keys: string[] = [];
        let token: string | undefined;
        do {
            const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "cases/", MaxKeys: 2, ContinuationToken: token }));
            keys.push(...(page.Contents?.map((c) => String(c.Key)) ?? []));
            token = page.NextContinuationToken;
        } while (token);
        assert.deepEqual(keys, ["cases/a/1", "cases/a/2", "cases/b/1"]);
        const folded = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "cases/", Delimiter: "/" }));
        assert.deepEqual(folded.CommonPrefixes?.map((p) => p.Prefix), ["cases/a/", "cases/b/"]);
        await rejectsAws(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "k" })), "NoSuchBucket", 404);
        await rejectsAws(client("s3", { region: "eu-central-1" }).send(new GetObjectCommand({ Bucket, Key: "other" })), "PermanentRedirect", 301);
    });
});

describe("simulator: DynamoDB", () => {
    const table = "dfir-cases";
    const key = { pk: { S: "instance#i-1" } };

    it("puts with attribute_not_exists and appends findings with a guarded UpdateItem", async () => {
        const sim = start();
        const ddb = client("dynamodb", { region: sim.region });
        const item = { ...key, caseId: { S: "c1" }, findingIds: { L: [{ S: "f1" }] }, isOpen: { BOOL: true } };
        await ddb.send(new PutItemCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
        const error = await rejectsAws(ddb.send(new PutItemCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" })), "ConditionalCheckFailedException");
        assert.ok(error instanceof ConditionalCheckFailedException);
        assert.deepEqual(error.Item, item);
        const append = (f: string) =>
            ddb.send(
                new UpdateItemCommand({
                    TableName: table,
                    Key: key,
                    UpdateExpression: "SET findingIds = list_append(if_not_exists(findingIds, :empty), :new), #u = :now",
                    ConditionExpression: "attribute_exists(pk) AND NOT contains(findingIds, :f)",
                    ExpressionAttributeNames: { "#u": "updatedAt" },
                    ExpressionAttributeValues: { ":empty": { L: [] }, ":new": { L: [{ S: f }] }, ":f": { S: f }, ":now": { S: "2025-01-01T00:00:00Z" } },
                    ReturnValues: "ALL_NEW",
                }),
            );
        const updated = await append("f2");
        assert.deepEqual(updated.Attributes?.findingIds, { L: [{ S: "f1" }, { S: "f2" }] });
        await rejectsAws(append("f2"), "ConditionalCheckFailedException");
        const read = await ddb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
        assert.deepEqual(read.Item?.findingIds, { L: [{ S: "f1" }, { S: "f2" }] });
        assert.deepEqual(sim.items(table).length, 1);
        assert.deepEqual(await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: "absent" } } })).then((o) => o.Item), undefined);
    });

    it("TransactWriteItems is all-or-nothing with CancellationReasons", async () => {
        const sim = start();
        const ddb = client("dynamodb", { region: sim.region });
        await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: "b" } } }));
        const put = (pk: string) => ({ Put: { TableName: table, Item: { pk: { S: pk }, v: { N: "1" } }, ConditionExpression: "attribute_not_exists(pk)" } });
        const error = await rejectsAws(ddb.send(new TransactWriteItemsCommand({ TransactItems: [put("a"), put("b")] })), "TransactionCanceledException");
        assert.ok(error instanceof TransactionCanceledException);
        assert.deepEqual(error.CancellationReasons?.map((r) => r.Code), ["None", "ConditionalCheckFailed"]);
        assert.deepEqual(sim.items(table).map((i) => i.pk), [{ S: "b" }], "nothing of the failed transaction was written");
        await ddb.send(new TransactWriteItemsCommand({ TransactItems: [put("a"), put("c")] }));
        assert.equal(sim.items(table).length, 3);
    });

    it("rejects what DynamoDB rejects and makes unsupported expressions loud", async () => {
        const sim = start();
        const ddb = client("dynamodb", { region: sim.region });
        await rejectsAws(
            ddb.send(new PutItemCommand({ TableName: table, Item: key, ConditionExpression: "attribute_not_exists(pk)", ExpressionAttributeValues: { ":unused": { S: "x" } } })),
            "ValidationException",
        );
        await rejectsAws(ddb.send(new UpdateItemCommand({ TableName: table, Key: key, UpdateExpression: "SET status = :s", ExpressionAttributeValues: { ":s": { S: "x" } } })), "ValidationException");
        await rejectsAws(ddb.send(new UpdateItemCommand({ TableName: table, Key: key, UpdateExpression: "SET pk = :s", ExpressionAttributeValues: { ":s": { S: "x" } } })), "ValidationException");
        await rejectsAws(ddb.send(new GetItemCommand({ TableName: "nope", Key: key })), "ResourceNotFoundException");
        for (const UpdateExpression of ["ADD n :one", "SET a.b = :one"]) {
            await assert.rejects(
                ddb.send(new UpdateItemCommand({ TableName: table, Key: key, UpdateExpression, ExpressionAttributeValues: { ":one": { N: "1" } } })),
                (e: unknown) => e instanceof SimulatorGapError && /simulator: unsupported expression/.test((e as Error).message),
            );
        }
    });
});

describe("simulator: SSM memory capture", () => {
    it("reports the agent online (Linux; Windows when asked; ConnectionLost under ssm-offline)", async () => {
        const info = async (options: SimOptions) => {
            const sim = start(options);
            const out = await client("ssm", at(sim)).send(new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [sim.instanceId] }] }));
            sim.uninstall();
            return out.InstanceInformationList?.[0];
        };
        assert.deepEqual([(await info({}))?.PingStatus, (await info({}))?.PlatformType], ["Online", "Linux"]);
        assert.equal((await info({ windows: true }))?.PlatformType, "Windows");
        assert.equal((await info({ ssmOffline: true }))?.PingStatus, "ConnectionLost");
    });

    it("writes an image whose streamed sha256 equals the sidecar's, plus the command output", async () => {
        const sim = start({ memoryBytes: 8 * MIB });
        await useCaptureProfile(sim);
        const commandId = await captureMemory(sim);
        const ssm = client("ssm", at(sim));
        const inv = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }));
        assert.equal(inv.Status, "Success");
        assert.equal(inv.ResponseCode, 0);
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        const key = `cases/c1/memory/${sim.instanceId}.lime`;
        const image = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
        const streamed = await sha256OfStream(image.Body);
        const sidecar = JSON.parse(String(await (await s3.send(new GetObjectCommand({ Bucket, Key: `${key}.json` }))).Body?.transformToString())) as Record<string, unknown>;
        assert.equal(streamed.bytes, 8 * MIB);
        assert.equal(sidecar.sha256, streamed.sha256);
        assert.equal(sidecar.bytes, 8 * MIB);
        assert.equal(sidecar.avmlSha256, sim.deployment.avml.x86_64!.sha256);
        assert.equal(sidecar.instanceId, sim.instanceId);
        assert.ok(typeof sidecar.startedAt === "string" && typeof sidecar.finishedAt === "string");
        assert.equal(sim.objectBody(Bucket, key).readUInt32LE(0), 0x4c694d45, "LiME magic");
        assert.ok(sim.objects(Bucket, `cases/c1/ssm/${commandId}/${sim.instanceId}/`).some((o) => o.key.endsWith("/stdout")));
        assert.match(String(inv.StandardOutputContent), new RegExp(streamed.sha256));
    });

    it("is InProgress for memoryDurationMs of simulator time; stdout is cut at 24,000 characters", async () => {
        const sim = start({ memoryDurationMs: 120_000, stdoutPaddingBytes: 30_000 });
        await useCaptureProfile(sim);
        const commandId = await captureMemory(sim);
        const ssm = client("ssm", at(sim));
        sim.advance(60_000);
        assert.equal((await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }))).Status, "InProgress");
        sim.advance(60_000);
        const done = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }));
        assert.equal(done.Status, "Success");
        assert.equal(done.StandardOutputContent?.length, STDOUT_LIMIT);
        const full = sim.objects(sim.deployment.evidenceBucket, "cases/c1/ssm/").find((o) => o.key.endsWith("/stdout"));
        assert.ok(full && full.bytes > STDOUT_LIMIT);
        // An overrunning capture can be cancelled (the memory step does so past its cap).
        const second = await captureMemory(sim);
        await ssm.send(new CancelCommandCommand({ CommandId: second, InstanceIds: [sim.instanceId] }));
        sim.advance(120_000);
        assert.equal((await ssm.send(new GetCommandInvocationCommand({ CommandId: second, InstanceId: sim.instanceId }))).Status, "Cancelled");
    });

    it("fails like capture.sh: no capture profile (13), wrong avml hash (14), another machine's build (19), avml-fails (15); lies under memory-hash-mismatch", async () => {
        const denied = start();
        const id1 = await captureMemory(denied);
        const r1 = await client("ssm", at(denied)).send(new GetCommandInvocationCommand({ CommandId: id1, InstanceId: denied.instanceId }));
        assert.deepEqual([r1.Status, r1.ResponseCode], ["Failed", CAPTURE_EXIT_CODES.avmlDownloadFailed]);
        assert.match(String(r1.StandardErrorContent), /Forbidden[\s\S]*capture: cannot fetch/);
        denied.uninstall();

        const pinned = start();
        await useCaptureProfile(pinned);
        const id3 = await captureMemory(pinned, { avmlSha256: "0".repeat(64) });
        const r3 = await client("ssm", at(pinned)).send(new GetCommandInvocationCommand({ CommandId: id3, InstanceId: pinned.instanceId }));
        assert.deepEqual([r3.Status, r3.ResponseCode], ["Failed", CAPTURE_EXIT_CODES.avmlHashMismatch]);
        pinned.uninstall();

        // A Graviton instance sent the x86_64 build: the script reads the ELF header and refuses (19), never running it.
        const graviton = start({ architecture: "arm64" });
        await useCaptureProfile(graviton);
        const id4 = await captureMemory(graviton, { build: "x86_64" });
        const r4 = await client("ssm", at(graviton)).send(new GetCommandInvocationCommand({ CommandId: id4, InstanceId: graviton.instanceId }));
        assert.deepEqual([r4.Status, r4.ResponseCode], ["Failed", CAPTURE_EXIT_CODES.avmlWrongArchitecture]);
        assert.match(String(r4.StandardErrorContent), /is not the aarch64 build of avml \(ELF machine x86_64\); not running it/);
        const id5 = await captureMemory(graviton, { build: "aarch64" });
        const r5 = await client("ssm", at(graviton)).send(new GetCommandInvocationCommand({ CommandId: id5, InstanceId: graviton.instanceId }));
        assert.equal(r5.Status, "Success", r5.StandardErrorContent);
        graviton.uninstall();

        const avml = start({ avmlFails: true });
        await useCaptureProfile(avml);
        const id2 = await captureMemory(avml);
        const r2 = await client("ssm", at(avml)).send(new GetCommandInvocationCommand({ CommandId: id2, InstanceId: avml.instanceId }));
        assert.deepEqual([r2.Status, r2.ResponseCode], ["Failed", CAPTURE_EXIT_CODES.avmlFailed]);
        assert.deepEqual(avml.objects(avml.deployment.evidenceBucket, "cases/c1/memory/"), []);
        avml.uninstall();

        const lying = start({ memoryHashMismatch: true });
        await useCaptureProfile(lying);
        await captureMemory(lying);
        const Bucket = lying.deployment.evidenceBucket;
        const key = `cases/c1/memory/${lying.instanceId}.lime`;
        const sidecar = JSON.parse(lying.objectBody(Bucket, `${key}.json`).toString("utf8")) as { sha256: string };
        assert.notEqual(sidecar.sha256, createHash("sha256").update(lying.objectBody(Bucket, key)).digest("hex"));
    });

    it("never delivers to an offline agent (TimedOut after TimeoutSeconds) and rejects bad requests", async () => {
        const sim = start({ ssmOffline: true });
        await useCaptureProfile(sim);
        const commandId = await captureMemory(sim);
        const ssm = client("ssm", at(sim));
        assert.equal((await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }))).Status, "Pending");
        sim.advance(600_000);
        const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }));
        assert.deepEqual([out.Status, out.StatusDetails], ["TimedOut", "DeliveryTimedOut"]);
        await rejectsAws(ssm.send(new GetCommandInvocationCommand({ CommandId: "00000000-0000-4000-a000-000000000000", InstanceId: sim.instanceId })), "InvocationDoesNotExist");
        await rejectsAws(ssm.send(new SendCommandCommand({ DocumentName: "nope", InstanceIds: [sim.instanceId] })), "InvalidDocument");
        await rejectsAws(ssm.send(new SendCommandCommand({ DocumentName: sim.deployment.memoryDocument, InstanceIds: [sim.instanceId], Parameters: { Bucket: ["bucket"] } })), "InvalidParameters");
        const good = memoryCommandParameters({ bucket: "bucket", caseId: "c1", instanceId: sim.instanceId, avmlKey: "tools/avml", avmlSha256: "0".repeat(64), region: sim.region });
        const error = await rejectsAws(
            ssm.send(new SendCommandCommand({ DocumentName: sim.deployment.memoryDocument, InstanceIds: [sim.instanceId], Parameters: { ...good, KeyPrefix: ["cases/c1/../x/"] } })),
            "InvalidParameters",
        );
        assert.match(error.message, /allowedPattern/);
        sim.uninstall();

        const windows = start({ windows: true });
        await rejectsAws(
            client("ssm", at(windows)).send(new SendCommandCommand({ DocumentName: windows.deployment.memoryDocument, InstanceIds: [windows.instanceId], Parameters: { Bucket: ["b"], KeyPrefix: ["p/"] } })),
            "UnsupportedPlatformType",
        );
    });
});

describe("simulator: SSM ListCommands", () => {
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const list = async (sim: SimulatedAccount, input: ConstructorParameters<typeof ListCommandsCommand>[0] = {}) =>
        client("ssm", at(sim)).send(new ListCommandsCommand(input));

    it("lists the commands sent, newest first, as SendCommand described them, with GetCommandInvocation's status", async () => {
        const sim = start({ memoryDurationMs: 100_000 });
        await useCaptureProfile(sim);
        const first = await captureMemory(sim);
        sim.advance(1_000);
        const second = await captureMemory(sim, { avmlSha256: "0".repeat(64) });
        const ssm = client("ssm", at(sim));
        const status = async (commandId: string) => (await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: sim.instanceId }))).Status;

        const out = await list(sim);
        assert.deepEqual(out.Commands?.map((c) => c.CommandId), [second, first]);
        assert.equal(out.NextToken, undefined);
        const [listedSecond, listedFirst] = out.Commands as Command[];
        assert.equal(listedFirst.DocumentName, sim.deployment.memoryDocument);
        assert.deepEqual(listedFirst.InstanceIds, [sim.instanceId]);
        assert.deepEqual(listedFirst.Parameters, memoryCommandParameters({
            bucket: sim.deployment.evidenceBucket, caseId: "c1", instanceId: sim.instanceId,
            avmlKey: sim.deployment.avml.x86_64!.key, avmlSha256: sim.deployment.avml.x86_64!.sha256, region: sim.region,
        }));
        assert.deepEqual(listedSecond.Parameters?.AvmlSha256, ["0".repeat(64)]);
        assert.ok(listedFirst.RequestedDateTime instanceof Date);
        // The simulator's clock is the wall clock plus what advance() added: 1 s apart, and a little more.
        const apart = listedSecond.RequestedDateTime!.getTime() - listedFirst.RequestedDateTime!.getTime();
        assert.ok(apart >= 1_000 && apart < 2_000, `${apart} ms apart`);
        assert.equal(listedFirst.OutputS3BucketName, sim.deployment.evidenceBucket);
        assert.equal(listedFirst.OutputS3KeyPrefix, "cases/c1/ssm/");
        assert.equal(listedFirst.Comment, "");
        assert.deepEqual([listedFirst.Status, await status(first)], ["Pending", "Pending"]);

        // Status follows the invocation as GetCommandInvocation derives it: InProgress, then Success / Failed.
        sim.advance(50_000);
        assert.deepEqual((await list(sim)).Commands?.map((c) => c.Status), ["InProgress", "InProgress"]);
        assert.equal(await status(first), "InProgress");
        sim.advance(60_000);
        const done = (await list(sim)).Commands as Command[];
        assert.deepEqual(done.map((c) => [c.CommandId, c.Status]), [[second, "Failed"], [first, "Success"]]);
        assert.deepEqual([await status(second), await status(first)], ["Failed", "Success"]);
        assert.deepEqual([done[1].CompletedCount, done[1].ErrorCount, done[0].ErrorCount], [1, 0, 1]);
    });

    it("keeps SendCommand's Comment; an agent that is offline shows the command Pending, then TimedOut", async () => {
        const sim = start({ ssmOffline: true });
        const ssm = client("ssm", at(sim));
        const parameters = memoryCommandParameters({
            bucket: sim.deployment.evidenceBucket, caseId: "c2", instanceId: sim.instanceId,
            avmlKey: sim.deployment.avml.x86_64!.key, avmlSha256: sim.deployment.avml.x86_64!.sha256, region: sim.region,
        });
        const sent = await ssm.send(new SendCommandCommand({
            DocumentName: sim.deployment.memoryDocument, InstanceIds: [sim.instanceId], Parameters: parameters, Comment: "aws-dfir memory capture, case c2", TimeoutSeconds: 600,
        }));
        const commandId = sent.Command?.CommandId as string;
        const one = async () => ((await list(sim, { CommandId: commandId })).Commands ?? [])[0];
        assert.deepEqual([(await one()).Comment, (await one()).Status], ["aws-dfir memory capture, case c2", "Pending"]);
        sim.advance(600_000);
        assert.deepEqual([(await one()).Status, (await one()).StatusDetails, (await one()).DeliveryTimedOutCount], ["TimedOut", "DeliveryTimedOut", 1]);
    });

    it("filters by DocumentName, InvokedAfter, InvokedBefore and CommandId, all applying", async () => {
        const sim = start({ crossAccount: true });
        await sim.runAs(sim.functionRoleArn("memory"), () => filtersApply(sim));
    });

    async function filtersApply(sim: SimulatedAccount): Promise<void> {
        await useCaptureProfile(sim);
        const a = await captureMemory(sim);
        sim.advance(10_000);
        const b = await captureMemory(sim);
        sim.advance(10_000);
        const c = await captureMemory(sim);
        const ids = async (input: ConstructorParameters<typeof ListCommandsCommand>[0]) => ((await list(sim, input)).Commands ?? []).map((x) => x.CommandId);

        assert.deepEqual(await ids({ Filters: [{ key: "DocumentName", value: sim.deployment.memoryDocument }] }), [c, b, a]);
        assert.deepEqual(await ids({ Filters: [{ key: "DocumentName", value: "AWS-RunShellScript" }] }), []);
        // InvokedAfter: requested at or after (whole seconds, as ListCommands' examples write them).
        const after = (await list(sim, { CommandId: b })).Commands?.[0]?.RequestedDateTime as Date;
        assert.deepEqual(await ids({ Filters: [{ key: "InvokedAfter", value: iso(after.getTime() - 1000) }] }), [c, b]);
        assert.deepEqual(await ids({ Filters: [{ key: "InvokedBefore", value: iso(after.getTime() + 1000) }] }), [b, a]);
        assert.deepEqual(
            await ids({ Filters: [
                { key: "DocumentName", value: sim.deployment.memoryDocument },
                { key: "InvokedAfter", value: iso(after.getTime() - 1000) },
                { key: "InvokedBefore", value: iso(after.getTime() + 1000) },
            ] }),
            [b],
        );
        assert.deepEqual(await ids({ CommandId: a }), [a]);
        assert.deepEqual(await ids({ CommandId: "00000000-0000-4000-a000-000000000000" }), []);
        assert.deepEqual(await ids({ CommandId: c, Filters: [{ key: "InvokedBefore", value: iso(after.getTime() + 1000) }] }), []);
        // Only the caller's account is listed: the hub's own credentials see none of the member's commands.
        assert.notEqual(sim.instanceAccountId, sim.homeAccountId);
        // (Asked as the hub's administrator: the memory role holds no grant on the hub's own commands where it has no instances.)
        await sim.runAs(sim.analystRoleArn as string, async () => {
            assert.deepEqual((await client("ssm", { region: sim.region }).send(new ListCommandsCommand({}))).Commands, []);
        });
    }

    it("pages with MaxResults (1..50, default 50) and NextToken; rejects bad input like the service, unmodelled input loudly", async () => {
        const sim = start({ memoryBytes: 1024 });
        await useCaptureProfile(sim);
        const sent: string[] = [];
        for (let i = 0; i < 53; i++) {
            sent.push(await captureMemory(sim));
            sim.advance(1_000);
        }
        const newestFirst = [...sent].reverse();
        const whole = await list(sim);
        assert.equal(whole.Commands?.length, 50, "50 by default");
        assert.ok(whole.NextToken);
        const rest = await list(sim, { NextToken: whole.NextToken });
        assert.deepEqual([...(whole.Commands ?? []), ...(rest.Commands ?? [])].map((c) => c.CommandId), newestFirst);
        assert.equal(rest.NextToken, undefined);

        const paged: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
            const out = await list(sim, { MaxResults: 20, NextToken: token });
            paged.push(...(out.Commands ?? []).map((c) => c.CommandId as string));
            token = out.NextToken;
            pages += 1;
        } while (token);
        assert.deepEqual([paged, pages], [newestFirst, 3]);

        await rejectsAws(list(sim, { MaxResults: 0 }), "ValidationException");
        await rejectsAws(list(sim, { MaxResults: 51 }), "ValidationException");
        await rejectsAws(list(sim, { NextToken: "not-a-token" }), "InvalidNextToken");
        await rejectsAws(list(sim, { Filters: [] }), "ValidationException");
        // A filter key outside the model's enum: refused by the request validation (drill/sim/shapes.ts) before the handler.
        const colour = await rejectsAws(list(sim, { Filters: [{ key: "Colour" as never, value: "blue" }] }), "ValidationException");
        assert.match(colour.message, /'filters\.1\.key' failed to satisfy constraint: Member must satisfy enum value set/);
        await rejectsAws(list(sim, { Filters: [{ key: "InvokedAfter", value: "yesterday" }] }), "ValidationException");
        await rejectsAws(list(sim, { CommandId: "short" }), "InvalidCommandId");
        await assert.rejects(list(sim, { Filters: [{ key: "Status", value: "Success" }] }), (e: unknown) => e instanceof SimulatorGapError && /ssm:ListCommands filter "Status"/.test(e.message));
        await assert.rejects(list(sim, { InstanceId: sim.instanceId }), (e: unknown) => e instanceof SimulatorGapError && /with InstanceId/.test(e.message));
    });
});

describe("simulator: SNS", () => {
    it("records published notifications; unknown topics fail", async () => {
        const sim = start();
        await sim.publish(sim.deployment.topicArn, "contained", "i-1 isolated");
        assert.deepEqual(sim.notifications.map((n) => [n.subject, n.message]), [["contained", "i-1 isolated"]]);
        assert.equal(sim.calls.at(-1)?.action, "sns:Publish");
        await rejectsAws(sim.publish(`${sim.deployment.topicArn}-nope`, "s", "m"), "NotFound");
    });
});

describe("simulator: latency and faults", () => {
    it("concurrent calls overlap and sequential calls add up", async () => {
        const latency = 20;
        const sim = start({ latencyMs: latency });
        const ec2 = client("ec2", at(sim));
        await ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] })); // warm up the client
        sim.restartCallClock();
        const before = sim.calls.length;
        const t0 = Date.now();
        await Promise.all([1, 2, 3].map(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }))));
        const concurrent = Date.now() - t0;
        const parallel = sim.calls.slice(before);
        assert.ok(Math.max(...parallel.map((c) => c.atMs)) - Math.min(...parallel.map((c) => c.atMs)) < latency / 2, "issued together");
        assert.ok(concurrent < latency * 2.5, `3 concurrent calls took ${concurrent} ms`);
        const t1 = Date.now();
        for (let i = 0; i < 3; i++) await ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
        const sequential = Date.now() - t1;
        const serial = sim.calls.slice(before + 3);
        assert.ok(sequential >= latency * 3 - 3, `3 sequential calls took ${sequential} ms`);
        for (let i = 1; i < serial.length; i++) {
            assert.ok((serial[i]?.atMs ?? 0) - (serial[i - 1]?.atMs ?? 0) >= latency - 3, "each starts after the previous answer");
        }
        assert.ok(serial.every((c) => (c.durationMs ?? 0) >= latency - 3));
    });

    it("throttles n times with the service's own code, then succeeds (SDK retry off: every failure reaches the caller)", async () => {
        const sim = start({ sdkRetries: false, throttle: [{ action: "ec2:DescribeInstances", times: 2 }], faults: [{ action: "s3:*", error: "InternalError", times: 1, after: 1 }] });
        const ec2 = client("ec2", at(sim));
        const send = () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
        await rejectsAws(send(), "RequestLimitExceeded", 503);
        await rejectsAws(send(), "RequestLimitExceeded", 503);
        await send();
        assert.deepEqual(sim.calls.map((c) => [c.ok, c.injected ?? false]), [[false, true], [false, true], [true, false]]);
        const s3 = client("s3", { region: sim.region });
        const Bucket = sim.deployment.evidenceBucket;
        await s3.send(new PutObjectCommand({ Bucket, Key: "1", Body: "1" }));
        const error = await rejectsAws(s3.send(new PutObjectCommand({ Bucket, Key: "2", Body: "2" })), "InternalError", 500);
        assert.equal(error.$fault, "server");
        await s3.send(new PutObjectCommand({ Bucket, Key: "3", Body: "3" }));
        assert.deepEqual(sim.objects(Bucket).map((o) => o.key).filter((k) => /^\d$/.test(k)), ["1", "3"], "an injected fault has no effect");
    });

    it("emulates the SDK's retry by default: throttles within maxAttempts are absorbed, each attempt recorded", async () => {
        // The functions' clients make MAX_ATTEMPTS (5) attempts.
        const sim = start({ throttle: [{ action: "ec2:DescribeInstances", times: 2 }, { action: "ec2:DescribeSnapshots", times: 5 }], faults: [{ action: "ec2:CreateTags", error: "InvalidParameterValue", times: 1 }] });
        const ec2 = client("ec2", at(sim));
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [sim.instanceId] }));
        assert.equal(out.$metadata.attempts, 3);
        assert.deepEqual(sim.calls.map((c) => [c.attempt, c.ok]), [[1, false], [2, false], [3, true]]);
        const exhausted = await rejectsAws(ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] })), "RequestLimitExceeded");
        assert.equal(exhausted.$metadata.attempts, 5, "five attempts, then the error reaches the caller");
        await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
        // A client error is not retried.
        const once = await rejectsAws(ec2.send(new CreateTagsCommand({ Resources: [sim.instanceId], Tags: [{ Key: "k", Value: "v" }] })), "InvalidParameterValue");
        assert.equal(once.$metadata.attempts, 1);
    });
});

describe("simulator: scenarios", () => {
    it("terminates the instance right after the first successful ModifyNetworkInterfaceAttribute", async () => {
        const sim = start(scenarioOptions("instance-terminated"));
        const ec2 = client("ec2", at(sim));
        const before = await describe1(sim);
        const eni = before.NetworkInterfaces?.[0];
        const iso = sim.deployment.isolationGroups[String(eni?.VpcId)];
        const untrack = sim.deployment.untrackGroups[String(eni?.VpcId)];
        await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni?.NetworkInterfaceId, Groups: [untrack as string] }));
        await rejectsAws(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni?.NetworkInterfaceId, Groups: [iso as string] })), "InvalidNetworkInterfaceID.NotFound");
        const after = await describe1(sim);
        assert.equal(after.State?.Name, "terminated");
        assert.deepEqual(after.NetworkInterfaces, []);
        await rejectsAws(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } })), "IncorrectInstanceState");
        assert.ok(sim.events.some((e) => e.kind === "instance-terminated"));
    });

    it("already-isolated: every interface only in the isolation group, tagged isolated", async () => {
        const sim = start(scenarioOptions("already-isolated"));
        const i = await describe1(sim);
        const iso = sim.deployment.isolationGroups[String(i.VpcId)];
        assert.deepEqual(i.NetworkInterfaces?.map((n) => n.Groups?.map((g) => g.GroupId)), [[iso]]);
        const tags = Object.fromEntries(i.Tags?.map((t) => [t.Key, t.Value]) ?? []);
        assert.equal(tags["dfir:status"], "isolated");
        assert.match(String(tags["dfir:case-id"]), new RegExp(`^${sim.instanceId}-[0-9a-f]{12}$`));
    });

    it("maps every drill scenario name to options and rejects unknown ones", () => {
        assert.deepEqual(scenarioOptions("in-asg"), { inAsg: true });
        assert.deepEqual(scenarioOptions("approval-required"), { extraTags: { "dfir:approval": "required" } });
        assert.throws(() => scenarioOptions("nope"), /unknown scenario "nope" \(known: /);
    });
});

describe("simulator: seeding from every GuardDuty fixture", () => {
    const names = readdirSync(FIXTURES)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.replace(/\.json$/, ""))
        .sort();

    it("holds all 30 fixtures", () => assert.equal(names.length, 30));

    for (const name of names) {
        if (NO_INSTANCE.has(name)) {
            it(`${name}: no instance -> SimulationSeedError`, () => {
                assert.throws(() => SimulatedAccount.fromFinding(fixture(name)), (e: unknown) => e instanceof SimulationSeedError && /no resource\.instanceDetails\.instanceId/.test((e as Error).message));
            });
            continue;
        }
        it(`${name}: seeds its instance, reachable through the SDK`, async () => {
            const sim = start({ volumes: 2 }, name);
            const i = await describe1(sim);
            assert.equal(i.State?.Name, "running");
            assert.ok(i.NetworkInterfaces && i.NetworkInterfaces.length >= 1);
            for (const eni of i.NetworkInterfaces) {
                assert.match(String(eni.VpcId), /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/);
                assert.ok(sim.deployment.isolationGroups[String(eni.VpcId)], "isolation group in the instance's VPC");
                assert.ok(eni.Groups && eni.Groups.length >= 1);
            }
            assert.equal(i.BlockDeviceMappings?.length, 2);
            assert.match(sim.instanceAccountId, /^\d{12}$/);
            const env = sim.environment();
            assert.ok(JSON.parse(String(env.ISOLATION_GROUPS))[String(i.VpcId)]);
        });
    }

    it("reports stand-ins for redacted accounts and placeholder ids", () => {
        const cado = SimulatedAccount.fromFinding(fixture("CryptoCurrency_EC2_BitcoinTool.B_DNS"));
        assert.deepEqual(cado.seedReport.accountIdMapping, { from: "111", to: STAND_IN_ACCOUNT });
        const lab = SimulatedAccount.fromFinding(fixture(NO_PROFILE));
        assert.deepEqual(lab.seedReport.accountIdMapping, { from: "XXXXXXXXXXXX", to: STAND_IN_ACCOUNT });
        const sample = SimulatedAccount.fromFinding(fixture("Trojan_EC2_DriveBySourceTraffic_DNS"));
        assert.ok(sample.seedReport.idMapping.GeneratedFindingVPCId?.startsWith("vpc-"));
        assert.ok(sample.seedReport.defaulted.some((d) => d.startsWith("availabilityZone")));
        const runtime = SimulatedAccount.fromFinding(fixture("PrivilegeEscalation_Runtime_DockerSocketAccessed"));
        assert.deepEqual(runtime.instance().networkInterfaces[0]?.groupIds, ["sg-abcd1234"], "a group listed twice is held once");
        assert.equal(runtime.seedReport.resourceType, "Container");
        // Same finding, same options -> same world.
        assert.deepEqual(SimulatedAccount.fromFinding(fixture(REAL)).deployment, SimulatedAccount.fromFinding(fixture(REAL)).deployment);
    });

    it("rejects inputs that are not findings", () => {
        assert.throws(() => SimulatedAccount.fromFinding(null), SimulationSeedError);
        assert.throws(() => SimulatedAccount.fromFinding({ detail: { resource: { instanceDetails: { instanceId: "i-bad" } } } }), /not a valid EC2 instance id/);
    });

    it("builds a deployment-only world with create()", () => {
        const sim = SimulatedAccount.create({ accountId: "111122223333", region: "eu-west-1" });
        assert.equal(sim.hasInstance, false);
        assert.equal(sim.deployment.evidenceBucket, "dfir-evidence-111122223333-eu-west-1");
        assert.throws(() => sim.instanceId, /no seeded instance/);
    });
});

describe("simulator: persistence", () => {
    async function busyWorld(): Promise<SimulatedAccount> {
        const sim = start({ inAsg: true, volumes: 2 });
        const ec2 = client("ec2", at(sim));
        await ec2.send(new CreateTagsCommand({ Resources: [sim.instanceId], Tags: [{ Key: "dfir:status", Value: "isolated" }] }));
        await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: sim.instanceId } }));
        await useCaptureProfile(sim);
        await captureMemory(sim);
        await client("dynamodb", { region: sim.region }).send(new PutItemCommand({ TableName: "dfir-cases", Item: { pk: { S: "x" }, n: { N: "1" } } }));
        sim.advance(1000);
        return sim;
    }

    function sameWorld(a: SimulatedAccount, b: SimulatedAccount): void {
        assert.deepEqual(b.instance(), a.instance());
        assert.deepEqual(b.snapshots(), a.snapshots());
        assert.deepEqual(b.objects(a.deployment.evidenceBucket), a.objects(a.deployment.evidenceBucket));
        assert.deepEqual(b.items("dfir-cases"), a.items("dfir-cases"));
        assert.deepEqual(b.deployment, a.deployment);
        assert.deepEqual(b.commands(), a.commands());
        const key = `cases/c1/memory/${a.instanceId}.lime`;
        assert.ok(b.objectBody(a.deployment.evidenceBucket, key).equals(a.objectBody(a.deployment.evidenceBucket, key)));
    }

    it("round-trips through toJSON / fromJSON, and keeps working", async () => {
        const sim = await busyWorld();
        sim.uninstall();
        const loaded = SimulatedAccount.fromJSON(JSON.parse(JSON.stringify(sim.toJSON())));
        sameWorld(sim, loaded);
        assert.equal(loaded.callHistory.length, sim.calls.length);
        current = loaded;
        loaded.install();
        const i = await describe1(loaded);
        assert.equal(i.Tags?.find((t) => t.Key === "dfir:status")?.Value, "isolated");
        assert.throws(() => SimulatedAccount.fromJSON({ format: "other" }), /not a aws-dfir-simulated-account/);
    });

    it("saves to a directory (large bodies as files) and refuses a tampered body", async () => {
        const sim = await busyWorld();
        sim.uninstall();
        const dir = mkdtempSync(join(tmpdir(), "dfir-sim-"));
        try {
            sim.saveState(dir);
            const files = readdirSync(join(dir, "objects"));
            assert.ok(files.length >= 2, "the image and avml are stored as files");
            sameWorld(sim, SimulatedAccount.loadState(dir));
            const victim = join(dir, "objects", files[0] as string);
            const bytes = readFileSync(victim);
            bytes[0] = (bytes[0] ?? 0) ^ 0xff;
            writeFileSync(victim, bytes);
            assert.throws(() => SimulatedAccount.loadState(dir), /does not match its recorded sha256/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("simulator: the committed handlers run against it", () => {
    /** Run with the simulator's environment, handler logs silenced, everything restored afterwards. */
    async function withEnvironment<T>(sim: SimulatedAccount, fn: () => Promise<T>): Promise<T> {
        const env = sim.environment();
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        const log = console.log;
        Object.assign(process.env, env);
        console.log = () => undefined;
        try {
            return await fn();
        } finally {
            console.log = log;
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    }

    it("case -> contain -> memory -> snapshots, cross-account, in an ASG", async () => {
        const sim = start({ crossAccount: true, inAsg: true });
        const finding = (fixture(REAL) as { detail: { id: string; type: string; severity: number } }).detail;
        await withEnvironment(sim, async () => {
            const verdict = {
                decision: "respond",
                findingId: finding.id,
                accountId: sim.instanceAccountId,
                region: sim.region,
                instanceId: sim.instanceId,
                caseId: caseIdFor(sim.instanceId, finding.id),
                findingType: finding.type,
                severity: finding.severity,
            };
            const opened = (await sim.runAs(sim.functionRoleArn("case"), () => openCaseHandler({ verdict, executionArn: "arn:aws:states:ap-southeast-2:210987654321:execution:sm:drill", target: sim.target() }))) as CaseOpened;
            assert.equal(opened.isNew, true);
            const contained = (await sim.runAs(sim.functionRoleArn("contain"), () => containHandler({ case: opened }))) as ContainmentResult;
            assert.equal(contained.status, "isolated");
            const iso = sim.deployment.isolationGroups[sim.instance().vpcId];
            assert.deepEqual(sim.instance().networkInterfaces.map((n) => n.groupIds), [[iso]]);
            assert.equal(sim.instance().autoScaling?.inGroup, false);
            assert.equal(sim.instance().profile?.arn, sim.deployment.captureProfileArn);
            const base = { caseId: opened.caseId, target: opened.target, instance: opened.instance, evidence: opened.evidence };
            const started = (await sim.runAs(sim.functionRoleArn("memory"), () => memoryHandler({ action: "start", ...base }))) as MemoryResult;
            assert.equal(started.status, "started");
            // A retried start (its Lambda killed after SendCommand) adopts the command: one capture, not two.
            const again = (await sim.runAs(sim.functionRoleArn("memory"), () => memoryHandler({ action: "start", ...base }))) as MemoryResult;
            assert.deepEqual([again.status, again.commandId], ["started", started.commandId]);
            assert.equal(sim.commands().length, 1);
            const memory = (await sim.runAs(sim.functionRoleArn("memory"), () => memoryHandler({ action: "check", ...base, memory: started }))) as MemoryResult;
            assert.equal(memory.status, "captured", memory.reason);
            assert.equal(memory.object?.sha256, memory.hostSha256);
            const disk = (await sim.runAs(sim.functionRoleArn("snapshot"), () => snapshotHandler({ action: "start", caseId: opened.caseId, target: opened.target, instance: opened.instance }))) as DiskEvidence;
            const done = (await sim.runAs(sim.functionRoleArn("snapshot"), () => snapshotHandler({ action: "check", caseId: opened.caseId, target: opened.target, disk }))) as DiskEvidence;
            assert.equal(done.done, true);
            assert.deepEqual(done.snapshots.map((x) => x.state), ["completed", "completed"]);
        });
        // The one expected refusal: the role has no revocation policy yet (GetPolicy answers NoSuchEntity), so Contain creates it.
        const refused = sim.calls.filter((c) => !c.ok);
        assert.deepEqual(refused.map((c) => `${c.action}: ${c.errorName}`), ["iam:GetPolicy: NoSuchEntityException"], refused.map((c) => `${c.action}: ${c.error}`).join("; "));
        assert.ok(sim.calls.some((c) => c.action === "sts:AssumeRole"));
        // The simulator does not evaluate identity policies: check here that the member's responder role, built by
        // the same code as the deployed one, grants every action the handlers took in the member account.
        const member = sim.instanceAccountId;
        const granted = new Set(memberResponderPolicy({ partition: "aws", region: "*", accountId: member }, {
            captureRoleArns: [`arn:aws:iam::${member}:role/dfir-capture`],
            protectedRoleArns: [`arn:aws:iam::${member}:role/dfir-responder`],
            memoryDocumentArns: [`arn:aws:ssm:*:${member}:document/${sim.deployment.memoryDocument}`],
            evidenceBucketArns: [`arn:aws:s3:::${sim.deployment.evidenceBucket}`],
        }).Statement.filter((st) => st.Effect === "Allow").flatMap((st) => ([] as string[]).concat(st.Action)));
        const taken = [...new Set(sim.calls.filter((c) => c.accountId === member && c.action !== "sts:AssumeRole").map((c) => c.action))];
        assert.ok(taken.includes("ssm:ListCommands"), taken.join(","));
        assert.deepEqual(taken.filter((a) => !granted.has(a)), []);
    });
});
