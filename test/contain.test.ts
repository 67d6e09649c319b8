import { strict as assert } from "node:assert";
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  EC2ServiceException,
  ModifyNetworkInterfaceAttributeCommand,
  type Instance,
  type InstanceNetworkInterface,
} from "@aws-sdk/client-ec2";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { containInstance, type ContainRequest, type ContainSettings } from "../functions/contain/contain";
import {
  ConfigurationError,
  ContainmentError,
  InstanceNotFoundError,
  InstanceTerminatedError,
  InvalidRequestError,
  NoIsolationGroupError,
  PartialContainmentError,
  UnsupportedNetworkLayoutError,
} from "../functions/contain/errors";
import { handler } from "../functions/contain/index";

const INSTANCE_ID = "i-0123456789abcdef0";
const CASE_ID = "case-2025-0001";
const VPC_ID = "vpc-0a1b2c3d4e5f60718";
const OTHER_VPC_ID = "vpc-0ffffffffffffffff";
const ISOLATION_SG = "sg-0aaaaaaaaaaaaaaaa";
const NOW = "2025-01-02T03:04:05.000Z";
const PRIMARY_GROUPS = ["sg-0111111111111111a", "sg-0222222222222222b"];

/** A running instance with three interfaces: primary (IPv4), secondary (IPv6), and one already isolated. */
const BASE_INSTANCE: Instance = {
  InstanceId: INSTANCE_ID,
  State: { Code: 16, Name: "running" },
  VpcId: VPC_ID,
  Tags: [{ Key: "Name", Value: "web-1" }],
  NetworkInterfaces: [
    {
      NetworkInterfaceId: "eni-0000000000000000a",
      VpcId: VPC_ID,
      Attachment: { DeviceIndex: 0 },
      PrivateIpAddress: "10.0.1.10",
      Groups: [
        { GroupId: "sg-0111111111111111a", GroupName: "web" },
        { GroupId: "sg-0222222222222222b", GroupName: "ssh" },
      ],
    },
    {
      NetworkInterfaceId: "eni-0000000000000000b",
      VpcId: VPC_ID,
      Attachment: { DeviceIndex: 1 },
      Ipv6Addresses: [{ Ipv6Address: "2600:1f18::10" }],
      Groups: [{ GroupId: "sg-0333333333333333c", GroupName: "app" }],
    },
    {
      NetworkInterfaceId: "eni-0000000000000000c",
      VpcId: VPC_ID,
      Attachment: { DeviceIndex: 2 },
      Groups: [{ GroupId: ISOLATION_SG, GroupName: "dfir-isolation" }],
    },
  ],
};

function instanceFixture(): Instance {
  return structuredClone(BASE_INSTANCE);
}

function interfaces(instance: Instance): InstanceNetworkInterface[] {
  assert.ok(instance.NetworkInterfaces, "fixture has interfaces");
  return instance.NetworkInterfaces;
}

function request(): ContainRequest {
  return { instanceId: INSTANCE_ID, caseId: CASE_ID, findingId: "finding-1" };
}

function settings(): ContainSettings {
  return { isolationGroups: { [VPC_ID]: ISOLATION_SG }, now: () => new Date(NOW) };
}

function sdkError(name: string, message: string): EC2ServiceException {
  return new EC2ServiceException({ name, message, $fault: "client", $metadata: { httpStatusCode: 400 } });
}

describe("contain", () => {
  let ec2Mock: AwsClientStub<EC2Client>;
  const ec2 = new EC2Client({ region: "us-east-1" });

  beforeEach(() => {
    // A fresh stub per test; anything not explicitly arranged fails loudly instead of returning undefined.
    ec2Mock = mockClient(EC2Client);
    ec2Mock.onAnyCommand().rejects(new Error("Mock not implemented: unexpected EC2 command"));
  });

  afterEach(() => {
    ec2Mock.restore();
  });

  function describeReturns(instance: Instance): void {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
  }

  /** The commands actually sent, in order, by name. */
  function commandNames(): string[] {
    return ec2Mock.calls().map((call) => (call.args[0] as object).constructor.name);
  }

  function modifyInputs() {
    return ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand).map((call) => call.args[0].input);
  }

  function tagInputs() {
    return ec2Mock.commandCalls(CreateTagsCommand).map((call) => call.args[0].input);
  }

  describe("containInstance", () => {
    it("moves every interface not yet isolated to the isolation group and tags the instance", async () => {
      describeReturns(instanceFixture());
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await containInstance(ec2, request(), settings());

      assert.deepEqual(ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input, {
        InstanceIds: [INSTANCE_ID],
      });
      assert.deepEqual(modifyInputs(), [
        { NetworkInterfaceId: "eni-0000000000000000a", Groups: [ISOLATION_SG] },
        { NetworkInterfaceId: "eni-0000000000000000b", Groups: [ISOLATION_SG] },
      ]);
      assert.deepEqual(tagInputs(), [
        {
          Resources: [INSTANCE_ID],
          Tags: [
            { Key: "dfir:case-id", Value: CASE_ID },
            { Key: "dfir:status", Value: "isolated" },
            { Key: "dfir:isolated-at", Value: NOW },
          ],
        },
      ]);
      assert.deepEqual(commandNames(), [
        "DescribeInstancesCommand",
        "ModifyNetworkInterfaceAttributeCommand",
        "ModifyNetworkInterfaceAttributeCommand",
        "CreateTagsCommand",
      ]);
      assert.deepEqual(result, {
        instanceId: INSTANCE_ID,
        caseId: CASE_ID,
        vpcId: VPC_ID,
        securityGroupId: ISOLATION_SG,
        changed: [
          { networkInterfaceId: "eni-0000000000000000a", previousGroups: PRIMARY_GROUPS },
          { networkInterfaceId: "eni-0000000000000000b", previousGroups: ["sg-0333333333333333c"] },
        ],
        alreadyIsolated: ["eni-0000000000000000c"],
        tagged: true,
        isolatedAt: NOW,
        status: "isolated",
      });
    });

    it("issues the interface modifications in parallel, not one after another", async () => {
      describeReturns(instanceFixture());
      ec2Mock.on(CreateTagsCommand).resolves({});
      let inFlight = 0;
      let maxInFlight = 0;
      let releaseFirst: () => void = () => undefined;
      const firstReleased = new Promise<void>((resolve) => (releaseFirst = resolve));
      // Only a fallback so a sequential implementation fails the assertion below instead of hanging.
      const fallback = setTimeout(() => releaseFirst(), 200);
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000a" })
        .callsFake(async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await firstReleased;
          inFlight -= 1;
          return {};
        });
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000b" })
        .callsFake(async () => {
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          releaseFirst();
          inFlight -= 1;
          return {};
        });

      try {
        const result = await containInstance(ec2, request(), settings());
        assert.equal(result.changed.length, 2);
      } finally {
        clearTimeout(fallback);
      }

      assert.equal(maxInFlight, 2, "the second modification must be issued while the first is still pending");
      assert.equal(modifyInputs().length, 2);
    });

    it("contains a stopped instance too (only terminated and shutting-down instances are refused)", async () => {
      const instance = instanceFixture();
      instance.State = { Code: 80, Name: "stopped" };
      describeReturns(instance);
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await containInstance(ec2, request(), settings());

      assert.equal(result.status, "isolated");
      assert.equal(modifyInputs().length, 2);
      assert.equal(tagInputs().length, 1);
    });

    it("raises InstanceNotFoundError and changes nothing when DescribeInstances returns no reservation", async () => {
      ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

      await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => {
        assert.ok(error instanceof InstanceNotFoundError);
        assert.equal(error.name, "InstanceNotFoundError");
        assert.equal(error.instanceId, INSTANCE_ID);
        assert.equal(error.caseId, CASE_ID);
        return true;
      });
      assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
    });

    for (const code of ["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]) {
      it(`raises InstanceNotFoundError and changes nothing when EC2 answers ${code}`, async () => {
        const sdk = sdkError(code, `The instance ID '${INSTANCE_ID}' does not exist`);
        ec2Mock.on(DescribeInstancesCommand).rejects(sdk);

        await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => {
          assert.ok(error instanceof InstanceNotFoundError);
          assert.equal(error.cause, sdk);
          return true;
        });
        assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
      });
    }

    it("lets other DescribeInstances errors through unchanged (for the state machine to retry)", async () => {
      const throttled = sdkError("RequestLimitExceeded", "Request limit exceeded.");
      ec2Mock.on(DescribeInstancesCommand).rejects(throttled);

      await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => error === throttled);
      assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
    });

    for (const state of ["terminated", "shutting-down"] as const) {
      it(`raises InstanceTerminatedError and changes nothing for a ${state} instance`, async () => {
        const instance = instanceFixture();
        instance.State = { Code: state === "terminated" ? 48 : 32, Name: state };
        describeReturns(instance);

        await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => {
          assert.ok(error instanceof InstanceTerminatedError);
          assert.equal(error.name, "InstanceTerminatedError");
          assert.equal(error.state, state);
          return true;
        });
        assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
      });
    }

    it("makes no change when every interface is isolated and the instance is tagged (idempotent repeat)", async () => {
      const instance = instanceFixture();
      for (const eni of interfaces(instance)) eni.Groups = [{ GroupId: ISOLATION_SG, GroupName: "dfir-isolation" }];
      instance.Tags = [
        { Key: "dfir:case-id", Value: CASE_ID },
        { Key: "dfir:status", Value: "isolated" },
        { Key: "dfir:isolated-at", Value: "2025-01-01T00:00:00.000Z" },
      ];
      describeReturns(instance);

      const result = await containInstance(ec2, request(), settings());

      assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
      assert.deepEqual(result, {
        instanceId: INSTANCE_ID,
        caseId: CASE_ID,
        vpcId: VPC_ID,
        securityGroupId: ISOLATION_SG,
        changed: [],
        alreadyIsolated: ["eni-0000000000000000a", "eni-0000000000000000b", "eni-0000000000000000c"],
        tagged: false,
        isolatedAt: "2025-01-01T00:00:00.000Z",
        status: "already-isolated",
      });
    });

    it("only tags an instance whose interfaces are isolated but which lacks the status tag", async () => {
      const instance = instanceFixture();
      for (const eni of interfaces(instance)) eni.Groups = [{ GroupId: ISOLATION_SG, GroupName: "dfir-isolation" }];
      describeReturns(instance);
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await containInstance(ec2, request(), settings());

      assert.deepEqual(commandNames(), ["DescribeInstancesCommand", "CreateTagsCommand"]);
      assert.equal(result.status, "isolated");
      assert.equal(result.tagged, true);
      assert.deepEqual(result.changed, []);
    });

    it("modifies an interface that holds the isolation group alongside other groups", async () => {
      const instance = instanceFixture();
      interfaces(instance)[2].Groups = [{ GroupId: ISOLATION_SG }, { GroupId: "sg-0444444444444444d" }];
      describeReturns(instance);
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await containInstance(ec2, request(), settings());

      assert.deepEqual(
        modifyInputs().map((input) => input.NetworkInterfaceId),
        ["eni-0000000000000000a", "eni-0000000000000000b", "eni-0000000000000000c"],
      );
      assert.deepEqual(result.alreadyIsolated, []);
    });

    it("raises NoIsolationGroupError naming the VPC, before any change, for an unconfigured VPC", async () => {
      describeReturns(instanceFixture());
      const unconfigured: ContainSettings = { isolationGroups: { [OTHER_VPC_ID]: ISOLATION_SG } };

      await assert.rejects(containInstance(ec2, request(), unconfigured), (error: unknown) => {
        assert.ok(error instanceof NoIsolationGroupError);
        assert.equal(error.name, "NoIsolationGroupError");
        assert.equal(error.vpcId, VPC_ID);
        assert.match(error.message, new RegExp(VPC_ID));
        return true;
      });
      assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
    });

    it("refuses, before any change, an instance whose interfaces span two VPCs", async () => {
      const instance = instanceFixture();
      interfaces(instance)[1].VpcId = OTHER_VPC_ID;
      describeReturns(instance);
      const bothConfigured: ContainSettings = {
        isolationGroups: { [VPC_ID]: ISOLATION_SG, [OTHER_VPC_ID]: "sg-0bbbbbbbbbbbbbbbb" },
      };

      await assert.rejects(containInstance(ec2, request(), bothConfigured), (error: unknown) => {
        assert.ok(error instanceof UnsupportedNetworkLayoutError);
        assert.match(error.message, new RegExp(`${VPC_ID}.*${OTHER_VPC_ID}`));
        return true;
      });
      assert.deepEqual(commandNames(), ["DescribeInstancesCommand"]);
    });

    it("raises PartialContainmentError recording changed, failed and isolated ENIs when one modify fails", async () => {
      describeReturns(instanceFixture());
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000a" })
        .resolves({});
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000b" })
        .rejects(sdkError("UnauthorizedOperation", "You are not authorized to perform this operation."));
      ec2Mock.on(CreateTagsCommand).resolves({});

      await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => {
        assert.ok(error instanceof PartialContainmentError);
        assert.ok(error instanceof ContainmentError);
        assert.equal(error.name, "PartialContainmentError");
        assert.deepEqual(error.changed, [
          { networkInterfaceId: "eni-0000000000000000a", previousGroups: PRIMARY_GROUPS },
        ]);
        assert.deepEqual(error.failed, [
          {
            networkInterfaceId: "eni-0000000000000000b",
            previousGroups: ["sg-0333333333333333c"],
            error: "UnauthorizedOperation: You are not authorized to perform this operation.",
          },
        ]);
        assert.deepEqual(error.alreadyIsolated, ["eni-0000000000000000c"]);
        assert.equal(error.caseTagged, true);
        assert.ok(error.cause instanceof AggregateError);
        // The message alone (all a Step Functions Catch sees) must carry the record, on one line.
        assert.doesNotMatch(error.message, /\n/);
        const summary = JSON.parse(error.message.slice(error.message.indexOf("{")));
        assert.deepEqual(summary.changed, error.changed);
        assert.deepEqual(summary.failed, error.failed);
        assert.deepEqual(summary.alreadyIsolated, error.alreadyIsolated);
        assert.equal(summary.instanceId, INSTANCE_ID);
        assert.equal(summary.caseId, CASE_ID);
        assert.equal(summary.securityGroupId, ISOLATION_SG);
        return true;
      });
      assert.equal(modifyInputs().length, 2);
      // Only the case id: the status tag is reserved for complete isolation.
      assert.deepEqual(tagInputs(), [{ Resources: [INSTANCE_ID], Tags: [{ Key: "dfir:case-id", Value: CASE_ID }] }]);
    });

    it("records caseTagged=false in PartialContainmentError when the best-effort case tag fails too", async () => {
      describeReturns(instanceFixture());
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000a" })
        .rejects(sdkError("InvalidGroup.NotFound", "The security group does not exist"));
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000b" })
        .resolves({});
      ec2Mock.on(CreateTagsCommand).rejects(sdkError("UnauthorizedOperation", "not authorized"));

      await assert.rejects(containInstance(ec2, request(), settings()), (error: unknown) => {
        assert.ok(error instanceof PartialContainmentError);
        assert.equal(error.caseTagged, false);
        assert.deepEqual(
          error.changed.map((change) => change.networkInterfaceId),
          ["eni-0000000000000000b"],
        );
        assert.deepEqual(
          error.failed.map((failure) => failure.networkInterfaceId),
          ["eni-0000000000000000a"],
        );
        assert.match(error.message, /"caseTagged":false/);
        return true;
      });
      assert.equal(tagInputs().length, 1);
    });

    it("returns the record with tagged=false when tagging fails after every interface was isolated", async () => {
      describeReturns(instanceFixture());
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).rejects(sdkError("UnauthorizedOperation", "not authorized"));

      const result = await containInstance(ec2, request(), settings());

      assert.equal(result.status, "isolated");
      assert.equal(result.tagged, false);
      assert.equal(result.tagError, "UnauthorizedOperation: not authorized");
      assert.deepEqual(
        result.changed.map((change) => change.networkInterfaceId),
        ["eni-0000000000000000a", "eni-0000000000000000b"],
      );
    });

    const invalidRequests: Array<[string, unknown]> = [
      ["an upper-case instance id", { instanceId: "i-0123456789ABCDEF0", caseId: CASE_ID }],
      ["a short instance id", { instanceId: "i-0123", caseId: CASE_ID }],
      ["a 9-digit instance id", { instanceId: "i-012345678", caseId: CASE_ID }],
      ["a missing instance id", { caseId: CASE_ID }],
      ["an empty case id", { instanceId: INSTANCE_ID, caseId: "" }],
      ["a blank case id", { instanceId: INSTANCE_ID, caseId: "   " }],
      ["a numeric case id", { instanceId: INSTANCE_ID, caseId: 42 }],
      ["a case id longer than a tag value", { instanceId: INSTANCE_ID, caseId: "c".repeat(257) }],
      ["an empty finding id", { instanceId: INSTANCE_ID, caseId: CASE_ID, findingId: "" }],
    ];
    for (const [label, invalid] of invalidRequests) {
      it(`rejects ${label} with InvalidRequestError before any AWS call`, async () => {
        describeReturns(instanceFixture());

        await assert.rejects(
          containInstance(ec2, invalid as ContainRequest, settings()),
          (error: unknown) => error instanceof InvalidRequestError && error.name === "InvalidRequestError",
        );
        assert.deepEqual(commandNames(), []);
      });
    }

    it("accepts a short (8-digit) instance id", async () => {
      const instance = instanceFixture();
      instance.InstanceId = "i-0123abcd";
      describeReturns(instance);
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await containInstance(ec2, { instanceId: "i-0123abcd", caseId: CASE_ID }, settings());

      assert.equal(result.instanceId, "i-0123abcd");
      assert.deepEqual(tagInputs()[0]?.Resources, ["i-0123abcd"]);
    });
  });

  describe("errors", () => {
    it("name every class after itself, so the state machine can catch by name", () => {
      const context = { instanceId: INSTANCE_ID, caseId: CASE_ID };
      const errors: Array<[ContainmentError, string]> = [
        [new InvalidRequestError(["x"]), "InvalidRequestError"],
        [new ConfigurationError("X", "is bad"), "ConfigurationError"],
        [new InstanceNotFoundError(context), "InstanceNotFoundError"],
        [new InstanceTerminatedError(context, "terminated"), "InstanceTerminatedError"],
        [new NoIsolationGroupError(context, VPC_ID), "NoIsolationGroupError"],
        [new UnsupportedNetworkLayoutError(context, "x"), "UnsupportedNetworkLayoutError"],
        [
          new PartialContainmentError(context, {
            vpcId: VPC_ID,
            securityGroupId: ISOLATION_SG,
            changed: [],
            failed: [],
            alreadyIsolated: [],
            caseTagged: false,
          }),
          "PartialContainmentError",
        ],
      ];
      for (const [error, name] of errors) {
        assert.equal(error.name, name);
        assert.equal(error.constructor.name, name);
        assert.ok(error instanceof ContainmentError && error instanceof Error);
        assert.match(String(error.stack), new RegExp(`^${name}: `));
      }
    });
  });

  describe("handler", () => {
    const ENV = "ISOLATION_GROUPS";
    let savedEnv: string | undefined;
    let savedLog: typeof console.log;
    let logged: Array<Record<string, unknown>>;

    beforeEach(() => {
      savedEnv = process.env[ENV];
      savedLog = console.log;
      logged = [];
      console.log = (line: unknown) => logged.push(JSON.parse(String(line)));
    });

    afterEach(() => {
      console.log = savedLog;
      if (savedEnv === undefined) delete process.env[ENV];
      else process.env[ENV] = savedEnv;
    });

    const badEnvironments: Array<[string, string | undefined]> = [
      ["missing", undefined],
      ["empty", ""],
      ["not JSON", "vpc-0a1b2c3d4e5f60718=sg-0aaaaaaaaaaaaaaaa"],
      ["a JSON array", JSON.stringify([VPC_ID, ISOLATION_SG])],
      ["an empty object", "{}"],
      ["a non-string group", JSON.stringify({ [VPC_ID]: 5 })],
      ["swapped ids", JSON.stringify({ [ISOLATION_SG]: VPC_ID })],
    ];
    for (const [label, value] of badEnvironments) {
      it(`fails with a ConfigurationError naming ISOLATION_GROUPS when it is ${label}`, async () => {
        if (value === undefined) delete process.env[ENV];
        else process.env[ENV] = value;
        describeReturns(instanceFixture());

        await assert.rejects(handler(request()), (error: unknown) => {
          assert.ok(error instanceof ConfigurationError);
          assert.equal(error.name, "ConfigurationError");
          assert.equal(error.variable, ENV);
          assert.match(error.message, /ISOLATION_GROUPS/);
          return true;
        });
        assert.deepEqual(commandNames(), []);
        assert.equal(logged.at(-1)?.level, "ERROR");
      });
    }

    for (const [label, event] of [
      ["null", null],
      ["a string", INSTANCE_ID],
      ["an array", [INSTANCE_ID, CASE_ID]],
      ["an event without caseId", { instanceId: INSTANCE_ID }],
    ] as Array<[string, unknown]>) {
      it(`rejects ${label} as the event with InvalidRequestError before any AWS call`, async () => {
        process.env[ENV] = JSON.stringify({ [VPC_ID]: ISOLATION_SG });
        describeReturns(instanceFixture());

        await assert.rejects(handler(event), (error: unknown) => error instanceof InvalidRequestError);
        assert.deepEqual(commandNames(), []);
      });
    }

    it("contains with the configured group, returns the record and logs each changed interface", async () => {
      process.env[ENV] = JSON.stringify({ [VPC_ID]: ISOLATION_SG });
      describeReturns(instanceFixture());
      ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
      ec2Mock.on(CreateTagsCommand).resolves({});

      const result = await handler(request(), { awsRequestId: "req-1" });

      assert.equal(result.status, "isolated");
      assert.equal(result.securityGroupId, ISOLATION_SG);
      assert.deepEqual(
        modifyInputs().map((input) => input.Groups),
        [[ISOLATION_SG], [ISOLATION_SG]],
      );
      assert.equal(tagInputs().length, 1);
      const interfaceLines = logged.filter((line) => line.message === "isolated network interface");
      assert.deepEqual(
        interfaceLines.map((line) => [line.networkInterfaceId, line.previousGroups, line.caseId, line.instanceId]),
        [
          ["eni-0000000000000000a", PRIMARY_GROUPS, CASE_ID, INSTANCE_ID],
          ["eni-0000000000000000b", ["sg-0333333333333333c"], CASE_ID, INSTANCE_ID],
        ],
      );
      const summary = logged.find((line) => line.message === "instance isolated");
      assert.equal(summary?.level, "INFO");
      assert.equal(summary?.requestId, "req-1");
      assert.deepEqual(summary?.result, result);
    });

    it("rethrows a partial containment unchanged and logs the failed interfaces", async () => {
      process.env[ENV] = JSON.stringify({ [VPC_ID]: ISOLATION_SG });
      describeReturns(instanceFixture());
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000a" })
        .resolves({});
      ec2Mock
        .on(ModifyNetworkInterfaceAttributeCommand, { NetworkInterfaceId: "eni-0000000000000000b" })
        .rejects(sdkError("UnauthorizedOperation", "not authorized"));
      ec2Mock.on(CreateTagsCommand).resolves({});

      await assert.rejects(handler(request()), (error: unknown) => error instanceof PartialContainmentError);

      const failure = logged.find((line) => line.message === "containment failed");
      assert.equal(failure?.level, "ERROR");
      assert.equal(failure?.caseId, CASE_ID);
      const error = failure?.error as { name: string; failed: Array<{ networkInterfaceId: string }> };
      assert.equal(error.name, "PartialContainmentError");
      assert.deepEqual(
        error.failed.map((item) => item.networkInterfaceId),
        ["eni-0000000000000000b"],
      );
    });
  });
});
