/**
 * The mocks answer per provider: each explicit `aws.Provider` stands for its account and region, and every
 * resource and invoke made through it (directly, or inherited from a component's `providers`) is answered in
 * that account and region; the default provider is ACCOUNT in the mocks' region. The VPC inventory decides
 * which VPC ids exist where.
 */
import * as assert from "node:assert/strict";
import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, REGION, ROUTE_TABLES, SUBNETS, VPC, recorded, settle, valueOf } from "./support/pulumi-mocks";
import { detectorIdOf, routeTablesIn, subnetsIn, vpcsIn } from "../scripts/lib/mock-program";

const P222_USE1 = "t-mp-aws-222222222222-us-east-1";
const P222_EUW1 = "t-mp-aws-222222222222-eu-west-1";
const P333_EUW1 = "t-mp-aws-333333333333-eu-west-1";
const PROD_VPCS = ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"];

function provider(name: string, account: string, region: string): aws.Provider {
    return new aws.Provider(name, {
        region: region as aws.Region,
        allowedAccountIds: [account],
        assumeRoles: [{ roleArn: `arn:aws:iam::${account}:role/dfir-deploy` }],
        defaultTags: { tags: { "t-mp": "yes" } },
    });
}

const p222 = provider(P222_USE1, "222222222222", "us-east-1");
const p222eu = provider(P222_EUW1, "222222222222", "eu-west-1");
const p333 = provider(P333_EUW1, "333333333333", "eu-west-1");

/** The one recorded resource of a type and name. */
function recordOf(type: string, name: string) {
    const hits = recorded.filter((r) => r.type === type && r.name === name);
    assert.equal(hits.length, 1, `expected one ${type} named ${name}, found ${hits.length}`);
    return hits[0];
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (error) {
        return error as Error;
    }
    assert.fail("expected a rejection");
}

/** A provider of package aws whose inputs go out as given (aws.Provider JSON-encodes its non-string inputs). */
class PlainAwsProvider extends pulumi.ProviderResource {
    constructor(name: string, props: pulumi.Inputs) {
        super("aws", name, props);
    }
}

class TestComponent extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly account: pulumi.Output<string>;
    constructor(name: string, opts: pulumi.ComponentResourceOptions) {
        super("t-mp:test:Component", name, {}, opts);
        this.queue = new aws.sqs.Queue(`${name}-queue`, {}, { parent: this });
        this.account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        this.registerOutputs({});
    }
}

describe("mock program: per-provider answers", () => {
    it("accepts aws providers: id <name>-id, state = inputs, recorded without a provider of their own", async () => {
        assert.equal(await valueOf(p222.id), `${P222_USE1}-id`);
        await settle();
        const r = recordOf("pulumi:providers:aws", P222_USE1);
        assert.equal(r.provider, undefined);
        assert.equal(r.inputs.region, "us-east-1");
        assert.deepEqual(JSON.parse(r.inputs.allowedAccountIds), ["222222222222"]);
    });

    it("computes ARNs in the provider's account and region (IAM without a region)", async () => {
        const role222 = new aws.iam.Role("t-mp-role-222", { assumeRolePolicy: "{}" }, { provider: p222 });
        const queue222 = new aws.sqs.Queue("t-mp-queue-222", {}, { provider: p222 });
        const role333 = new aws.iam.Role("t-mp-role-333", { assumeRolePolicy: "{}", name: "named-333" }, { provider: p333 });
        const queue333 = new aws.sqs.Queue("t-mp-queue-333", {}, { provider: p333 });
        const key333 = new aws.kms.Key("t-mp-key-333", {}, { provider: p333 });

        assert.equal(await valueOf(role222.arn), "arn:aws:iam::222222222222:role/t-mp-role-222");
        assert.equal(await valueOf(queue222.arn), "arn:aws:sqs:us-east-1:222222222222:t-mp-queue-222");
        assert.equal(await valueOf(queue222.url), "https://sqs.us-east-1.amazonaws.com/222222222222/t-mp-queue-222");
        assert.equal(await valueOf(role333.arn), "arn:aws:iam::333333333333:role/named-333");
        assert.equal(await valueOf(queue333.arn), "arn:aws:sqs:eu-west-1:333333333333:t-mp-queue-333");
        assert.equal(await valueOf(queue333.url), "https://sqs.eu-west-1.amazonaws.com/333333333333/t-mp-queue-333");
        assert.equal(await valueOf(key333.arn), "arn:aws:kms:eu-west-1:333333333333:key/t-mp-key-333");

        await settle();
        assert.equal(recordOf("aws:iam/role:Role", "t-mp-role-222").provider, P222_USE1);
        assert.equal(recordOf("aws:sqs/queue:Queue", "t-mp-queue-222").provider, P222_USE1);
        assert.equal(recordOf("aws:iam/role:Role", "t-mp-role-333").provider, P333_EUW1);
        assert.equal(recordOf("aws:sqs/queue:Queue", "t-mp-queue-333").provider, P333_EUW1);
    });

    it("keeps ACCOUNT and the default region for resources and invokes without an explicit provider", async () => {
        const queue = new aws.sqs.Queue("t-mp-queue-default", {});
        const role = new aws.iam.Role("t-mp-role-default", { assumeRolePolicy: "{}" });
        assert.equal(await valueOf(queue.arn), `arn:aws:sqs:${REGION}:${ACCOUNT}:t-mp-queue-default`);
        assert.equal(await valueOf(role.arn), `arn:aws:iam::${ACCOUNT}:role/t-mp-role-default`);
        assert.equal(await valueOf(aws.getCallerIdentityOutput({}).accountId), ACCOUNT);
        assert.equal(await valueOf(aws.getRegionOutput({}).region), REGION);
        assert.deepEqual(await valueOf(aws.ec2.getVpcsOutput({}).ids), [VPC.id]);
        await settle();
        assert.equal(recordOf("aws:sqs/queue:Queue", "t-mp-queue-default").provider, undefined);
        assert.ok(!("provider" in recordOf("aws:sqs/queue:Queue", "t-mp-queue-default")));
    });

    it("answers getCallerIdentity and getRegion with the provider's account and region", async () => {
        assert.equal(await valueOf(aws.getCallerIdentityOutput({}, { provider: p222 }).accountId), "222222222222");
        assert.equal(await valueOf(aws.getCallerIdentityOutput({}, { provider: p333 }).accountId), "333333333333");
        assert.equal(await valueOf(aws.getRegionOutput({}, { provider: p222 }).region), "us-east-1");
        assert.equal(await valueOf(aws.getRegionOutput({}, { provider: p333 }).region), "eu-west-1");
        assert.equal(await valueOf(aws.getRegionOutput({}, { provider: p222eu }).region), "eu-west-1");
    });

    it("gives a component's children and invokes (with { parent }) the component's provider", async () => {
        const c = new TestComponent("t-mp-comp", { providers: [p333] });
        assert.equal(await valueOf(c.queue.arn), "arn:aws:sqs:eu-west-1:333333333333:t-mp-comp-queue");
        assert.equal(await valueOf(c.account), "333333333333");
        await settle();
        const q = recordOf("aws:sqs/queue:Queue", "t-mp-comp-queue");
        assert.equal(q.provider, P333_EUW1);
        assert.equal(q.parent, "t-mp:test:Component::t-mp-comp");
    });

    it("reads provider inputs in plain form too (a provider resource that does not JSON-encode them)", async () => {
        const plain = new PlainAwsProvider("t-mp-plain-444444444444-ap-south-1", {
            region: "ap-south-1",
            allowedAccountIds: ["444444444444"],
        });
        const queue = new aws.sqs.Queue("t-mp-queue-plain", {}, { provider: plain });
        assert.equal(await valueOf(queue.arn), "arn:aws:sqs:ap-south-1:444444444444:t-mp-queue-plain");
        // Neither account nor region given: ACCOUNT in the mocks' region.
        const bare = new PlainAwsProvider("t-mp-bare", {});
        assert.equal(await valueOf(aws.getCallerIdentityOutput({}, { provider: bare }).accountId), ACCOUNT);
        assert.equal(await valueOf(aws.getRegionOutput({}, { provider: bare }).region), REGION);
    });

    it("rejects a provider reference the mocks never registered", async () => {
        const resourcePb = require("@pulumi/pulumi/proto/resource_pb");
        const structPb = require("google-protobuf/google/protobuf/struct_pb");
        const settings = require("@pulumi/pulumi/runtime/settings");
        const req = new resourcePb.ResourceInvokeRequest();
        req.setTok("aws:index/getRegion:getRegion");
        req.setArgs(structPb.Struct.fromJavaScript({}));
        req.setProvider("urn:pulumi:test::aws-dfir::pulumi:providers:aws::t-mp-ghost::t-mp-ghost-id");
        const error = await new Promise<unknown>((resolve) => settings.getMonitor().invoke(req, (err: unknown) => resolve(err)));
        assert.ok(error instanceof Error);
        assert.match(error.message, /^mock: unknown provider urn:pulumi:test::aws-dfir::pulumi:providers:aws::t-mp-ghost::t-mp-ghost-id/);
    });
});

describe("mock program: VPC inventory", () => {
    it("has ACCOUNT's one VPC in every region, with today's subnets and route tables", () => {
        for (const region of ["us-east-1", "eu-west-1", "ap-southeast-2"]) {
            assert.deepEqual(vpcsIn(ACCOUNT, region), [VPC]);
        }
        assert.deepEqual(subnetsIn(ACCOUNT, REGION, VPC.id), SUBNETS);
        assert.deepEqual(routeTablesIn(ACCOUNT, REGION, VPC.id), ROUTE_TABLES);
    });

    it("has exactly the example prod stack's two VPCs for 222222222222 in us-east-1, and only there", () => {
        assert.deepEqual(vpcsIn("222222222222", "us-east-1").map((v) => v.id), PROD_VPCS);
        for (const region of ["eu-west-1", "us-west-2"]) {
            const ids = vpcsIn("222222222222", region).map((v) => v.id);
            assert.equal(ids.length, 2);
            for (const id of ids) assert.ok(!PROD_VPCS.includes(id), `${id} in ${region}`);
        }
    });

    it("generates two deterministic VPCs with distinct private CIDRs for any other account and region", () => {
        const a = vpcsIn("333333333333", "eu-west-1");
        assert.deepEqual(vpcsIn("333333333333", "eu-west-1"), a);
        assert.equal(a.length, 2);
        for (const v of a) {
            assert.match(v.id, /^vpc-0[0-9a-f]{16}$/);
            assert.ok(v.cidrs.length >= 1);
            for (const c of v.cidrs) assert.match(c, /^10\.\d{1,3}\.0\.0\/16$/);
        }
        assert.notEqual(a[0].id, a[1].id);
        assert.notDeepEqual(a[0].cidrs, a[1].cidrs);
        const other = vpcsIn("333333333333", "us-east-1").map((v) => v.id);
        assert.ok(!other.includes(a[0].id) && !other.includes(a[1].id));
        const otherAccount = vpcsIn("444444444444", "eu-west-1").map((v) => v.id);
        assert.ok(!otherAccount.includes(a[0].id) && !otherAccount.includes(a[1].id));
    });

    it("answers getVpcs from the inventory of the provider's account and region (filters tolerated)", async () => {
        assert.deepEqual(await valueOf(aws.ec2.getVpcsOutput({}, { provider: p222 }).ids), PROD_VPCS);
        assert.deepEqual(await valueOf(aws.ec2.getVpcsOutput({ filters: [{ name: "state", values: ["available"] }] }, { provider: p222 }).ids), PROD_VPCS);
        assert.deepEqual(await valueOf(aws.ec2.getVpcsOutput({}, { provider: p333 }).ids), vpcsIn("333333333333", "eu-west-1").map((v) => v.id));
        assert.deepEqual(await valueOf(aws.ec2.getVpcsOutput({}, { provider: p222eu }).ids), vpcsIn("222222222222", "eu-west-1").map((v) => v.id));
    });

    it("answers getVpc for an inventory VPC and rejects an id of another region or account", async () => {
        const found = await valueOf(aws.ec2.getVpcOutput({ id: "vpc-0fedcba9876543210" }, { provider: p222 }));
        assert.equal(found.id, "vpc-0fedcba9876543210");
        assert.equal(found.cidrBlock, vpcsIn("222222222222", "us-east-1")[1].cidrs[0]);
        const generated = vpcsIn("333333333333", "eu-west-1")[1];
        assert.equal((await valueOf(aws.ec2.getVpcOutput({ id: generated.id }, { provider: p333 }))).cidrBlock, generated.cidrs[0]);

        const wrongRegion = await rejection(aws.ec2.getVpc({ id: "vpc-0fedcba9876543210" }, { provider: p222eu }));
        assert.match(wrongRegion.message, /mock: no VPC vpc-0fedcba9876543210 in account 222222222222 region eu-west-1/);
        const wrongAccount = await rejection(aws.ec2.getVpc({ id: generated.id }, { provider: p222eu }));
        assert.match(wrongAccount.message, new RegExp(`mock: no VPC ${generated.id} in account 222222222222 region eu-west-1`));
    });

    it("answers getSubnets, getSubnet and getRouteTables per VPC, as the isolation network asks for them", async () => {
        for (const [p, account, region] of [[p222, "222222222222", "us-east-1"], [p333, "333333333333", "eu-west-1"]] as const) {
            for (const vpc of vpcsIn(account, region)) {
                const expected = subnetsIn(account, region, vpc.id);
                assert.equal(expected.length, 3);
                assert.deepEqual(expected.map((s) => s.availabilityZone), [`${region}a`, `${region}a`, `${region}b`]);
                const ids = await valueOf(aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpc.id] }] }, { provider: p }).ids);
                assert.deepEqual(ids, expected.map((s) => s.id));
                for (const s of expected) {
                    const subnet = await aws.ec2.getSubnet({ id: s.id }, { provider: p });
                    assert.equal(subnet.vpcId, vpc.id);
                    assert.equal(subnet.availabilityZone, s.availabilityZone);
                }
                const tables = await valueOf(aws.ec2.getRouteTablesOutput({ vpcId: vpc.id }, { provider: p }).ids);
                assert.deepEqual(tables, routeTablesIn(account, region, vpc.id));
                assert.equal(tables.length, 2);
            }
        }
        // The two VPCs of 222222222222 in us-east-1 have different subnets and route tables, and the one sharing
        // ACCOUNT's VPC id does not get ACCOUNT's.
        const [v1, v2] = vpcsIn("222222222222", "us-east-1");
        assert.notDeepEqual(subnetsIn("222222222222", "us-east-1", v1.id), subnetsIn("222222222222", "us-east-1", v2.id));
        assert.notDeepEqual(subnetsIn("222222222222", "us-east-1", VPC.id), SUBNETS);
        assert.notDeepEqual(routeTablesIn("222222222222", "us-east-1", VPC.id), ROUTE_TABLES);
        // The default provider keeps today's answers.
        assert.deepEqual(await valueOf(aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [VPC.id] }] }).ids), SUBNETS.map((s) => s.id));
        assert.deepEqual(await valueOf(aws.ec2.getRouteTablesOutput({ vpcId: VPC.id }).ids), ROUTE_TABLES);
        assert.equal((await aws.ec2.getSubnet({ id: SUBNETS[0].id })).vpcId, VPC.id);
        // A subnet of another account is not found through this one's provider.
        const foreign = subnetsIn("333333333333", "eu-west-1", vpcsIn("333333333333", "eu-west-1")[0].id)[0];
        assert.match((await rejection(aws.ec2.getSubnet({ id: foreign.id }, { provider: p222 }))).message, /mock: no subnet/);
        // A VPC outside the inventory has no subnets to list.
        assert.match((await rejection(aws.ec2.getSubnets({ filters: [{ name: "vpc-id", values: [VPC.id] }] }, { provider: p333 }))).message,
            /mock: no VPC vpc-0123456789abcdef0 in account 333333333333 region eu-west-1/);
    });
});

describe("mock program: GuardDuty detector", () => {
    it("answers getAvailabilityZones with three zones of the provider's region, and computes the workstation's VPC resources there", async () => {
        assert.deepEqual(await valueOf(aws.getAvailabilityZonesOutput({ state: "available" }, { provider: p222eu }).names), ["eu-west-1a", "eu-west-1b", "eu-west-1c"]);
        assert.deepEqual(await valueOf(aws.getAvailabilityZonesOutput({}).names), [`${REGION}a`, `${REGION}b`, `${REGION}c`]);
        const vpc = new aws.ec2.Vpc("t-mp-vpc", { cidrBlock: "10.254.0.0/24" }, { provider: p222eu });
        const instance = new aws.ec2.Instance("t-mp-vm", { ami: "ami-12345678", instanceType: "m5.xlarge" }, { provider: p222eu });
        assert.equal(await valueOf(vpc.arn), "arn:aws:ec2:eu-west-1:222222222222:vpc/t-mp-vpc-id");
        assert.equal(await valueOf(instance.arn), "arn:aws:ec2:eu-west-1:222222222222:instance/t-mp-vm-id");
        assert.equal(await valueOf(instance.availabilityZone), "eu-west-1a");
    });

    it("answers getDetector with a deterministic detector per account and region", async () => {
        const d222 = await valueOf(aws.guardduty.getDetectorOutput({}, { provider: p222 }));
        assert.equal(d222.id, detectorIdOf("222222222222", "us-east-1"));
        assert.match(d222.id, /^[0-9a-f]{32}$/);
        assert.equal(d222.status, "ENABLED");
        assert.equal(d222.findingPublishingFrequency, "FIFTEEN_MINUTES");
        assert.deepEqual(d222.features, []);
        assert.match(d222.serviceRoleArn, /^arn:aws:iam::222222222222:role\//);
        const d222eu = await valueOf(aws.guardduty.getDetectorOutput({}, { provider: p222eu }));
        const d333 = await valueOf(aws.guardduty.getDetectorOutput({}, { provider: p333 }));
        assert.notEqual(d222eu.id, d222.id);
        assert.notEqual(d333.id, d222eu.id);
        assert.match(d333.serviceRoleArn, /^arn:aws:iam::333333333333:role\//);
        assert.equal((await valueOf(aws.guardduty.getDetectorOutput({}, { provider: p222 }))).id, d222.id);
    });
});
