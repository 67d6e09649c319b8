/**
 * AWS's size quotas (core/quotas.ts), each just under and just over its limit, measured the way AWS counts (bytes,
 * characters, characters without white space); the policy pack's stack rule over them; the mocks refusing, as AWS
 * would, a resource over a quota; and a hub region of 40 members fitting every quota since the group maps left the
 * functions' environment.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "../components/aws";
import { measure, QUOTAS, resourceQuotaProblems, stackQuotaProblems, type Quota, type QuotaResource } from "../core/quotas";
import { dfirKeys, parseDfirConfig } from "../core/config";
import { deployMultiAccount } from "../components/multiAccountStack";
import { checkServiceQuotas } from "../policy/rules/aws-service-quotas";
import { UNKNOWN_STRING, type RuleResource } from "../policy/lib/model";
import { scaleConfig } from "../scripts/bench-program";
import { recorded, registrations, settingsFileOf, settle, type RecordedResource } from "./support/pulumi-mocks";

/**
 * A policy document of exactly `size` in the quota's unit: `{"Version":"2012-10-17","Statement":[{"Sid":"<pad>"}]}`,
 * pretty-printed (its white space counts for bytes and characters, not for IAM), padded in the Sid.
 */
function documentOf(size: number, unit: Quota["unit"]): string {
    const text = (pad: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: pad, Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] }, null, 2);
    const base = measure(text(""), unit);
    const doc = text("a".repeat(size - base));
    assert.equal(measure(doc, unit), size);
    return doc;
}

const names = (problems: { message: string }[]) => problems.map((p) => p.message);

/** The per-resource document quotas: the resource type, the input holding the document, the quota. */
const DOCUMENTS: [string, string, Quota][] = [
    ["aws:iam/role:Role", "assumeRolePolicy", QUOTAS.roleTrustPolicy],
    ["aws:iam/rolePolicy:RolePolicy", "policy", QUOTAS.roleInlinePolicies],
    ["aws:iam/policy:Policy", "policy", QUOTAS.managedPolicy],
    ["aws:s3/bucketPolicy:BucketPolicy", "policy", QUOTAS.s3BucketPolicy],
    ["aws:cloudwatch/eventRule:EventRule", "eventPattern", QUOTAS.eventPattern],
    ["aws:cloudwatch/eventBusPolicy:EventBusPolicy", "policy", QUOTAS.eventBusPolicy],
    ["aws:kms/key:Key", "policy", QUOTAS.kmsKeyPolicy],
    ["aws:sfn/stateMachine:StateMachine", "definition", QUOTAS.stateMachineDefinition],
    ["aws:sqs/queuePolicy:QueuePolicy", "policy", QUOTAS.sqsPolicy],
    ["aws:sns/topic:Topic", "policy", QUOTAS.snsPolicy],
];

describe("AWS size quotas (core/quotas.ts)", () => {
    describe("measured the way AWS counts", () => {
        it("IAM does not count white space; S3 and KMS count UTF-8 bytes; EventBridge counts characters", () => {
            assert.equal(measure(' { "a" :\n\t"b c" } ', "characters-without-white-space"), 10);
            assert.equal(measure("é€", "bytes"), 5);
            assert.equal(measure("é€", "characters"), 2);
        });

        for (const [type, input, quota] of DOCUMENTS) {
            it(`${type} ${input}: ${quota.name} at ${quota.limit.toLocaleString("en-US")} ${quota.unit} passes, one more fails`, () => {
                const at = resourceQuotaProblems({ type, name: "r", inputs: { [input]: documentOf(quota.limit, quota.unit) } });
                assert.deepEqual(names(at), []);
                const over = resourceQuotaProblems({ type, name: "r", inputs: { [input]: documentOf(quota.limit + 1, quota.unit) } });
                assert.equal(over.length, 1);
                assert.equal(over[0].measured, quota.limit + 1);
                assert.equal(over[0].message,
                    `${type}::r (${input}): ${quota.name} is ${(quota.limit + 1).toLocaleString("en-US")} ` +
                    `${quota.unit === "characters-without-white-space" ? "characters without white space" : quota.unit}, ` +
                    `over AWS's limit of ${quota.limit.toLocaleString("en-US")} (${quota.page})`);
            });
        }

        it("a role trust policy counts no white space: 2,048 characters pretty-printed pass however long the text", () => {
            const doc = documentOf(QUOTAS.roleTrustPolicy.limit, "characters-without-white-space");
            assert.ok(doc.length > QUOTAS.roleTrustPolicy.limit);
            assert.deepEqual(resourceQuotaProblems({ type: "aws:iam/role:Role", name: "r", inputs: { assumeRolePolicy: doc } }), []);
        });

        it("a document given as an object is measured as compact JSON", () => {
            // {"Sid":"<pad>"} is 10 bytes around the pad.
            const policy = (pad: number) => ({ type: "aws:s3/bucketPolicy:BucketPolicy", name: "b", inputs: { policy: { Sid: "a".repeat(pad) } } });
            assert.deepEqual(resourceQuotaProblems(policy(QUOTAS.s3BucketPolicy.limit - 10)), []);
            assert.deepEqual(resourceQuotaProblems(policy(QUOTAS.s3BucketPolicy.limit - 9)).map((p) => p.measured), [QUOTAS.s3BucketPolicy.limit + 1]);
        });

        it("a Lambda function's environment: the UTF-8 bytes of its variables as compact JSON, 4,096 pass, 4,097 fail", () => {
            const fn = (value: string): QuotaResource => ({ type: "aws:lambda/function:Function", name: "f", inputs: { environment: { variables: { A: value } } } });
            // {"A":"<value>"} is 8 bytes around the value.
            assert.deepEqual(resourceQuotaProblems(fn("x".repeat(4088))), []);
            const over = resourceQuotaProblems(fn("x".repeat(4089)));
            assert.deepEqual(over.map((p) => [p.quota.name, p.measured]), [[QUOTAS.lambdaEnvironment.name, 4097]]);
            assert.match(over[0].message, /^aws:lambda\/function:Function::f: Lambda function environment variables \(all together\) is 4,097 bytes, over AWS's limit of 4,096 \(https:\/\/docs\.aws\.amazon\.com\/lambda\/latest\/dg\/gettingstarted-limits\.html\)$/);
            // A two-byte character counts two; a JSON value's quotes, escaped, count too.
            assert.equal(resourceQuotaProblems(fn(`${"x".repeat(4087)}é`)).length, 1);
            assert.equal(resourceQuotaProblems(fn(`${"x".repeat(4087)}"`)).length, 1);
            assert.deepEqual(resourceQuotaProblems({ type: "aws:lambda/function:Function", name: "f", inputs: {} }), []);
        });

        it("a role's own inlinePolicies are summed: 10,240 characters without white space pass, 10,241 fail", () => {
            const role = (a: number, b: number): QuotaResource => ({
                type: "aws:iam/role:Role", name: "r",
                inputs: { inlinePolicies: [{ name: "a", policy: documentOf(a, "characters-without-white-space") }, { name: "b", policy: documentOf(b, "characters-without-white-space") }] },
            });
            assert.deepEqual(resourceQuotaProblems(role(5120, 5120)), []);
            assert.deepEqual(resourceQuotaProblems(role(5120, 5121)).map((p) => p.measured), [10241]);
        });

        it("values unknown during a preview are skipped, never measured", () => {
            const isUnknown = (v: unknown) => v === UNKNOWN_STRING;
            const big = "x".repeat(5000);
            assert.deepEqual(resourceQuotaProblems({ type: "aws:lambda/function:Function", name: "f", inputs: { environment: { variables: { A: big, B: UNKNOWN_STRING } } } }, { isUnknown }), []);
            assert.deepEqual(resourceQuotaProblems({ type: "aws:kms/key:Key", name: "k", inputs: { policy: UNKNOWN_STRING } }, { isUnknown }), []);
            assert.equal(resourceQuotaProblems({ type: "aws:lambda/function:Function", name: "f", inputs: { environment: { variables: { A: big } } } }, { isUnknown }).length, 1);
        });

        it("a type no quota here applies to has no problems", () => {
            assert.deepEqual(resourceQuotaProblems({ type: "aws:s3/bucket:Bucket", name: "b", inputs: { policy: "x".repeat(100_000) } }), []);
        });
    });

    describe("counted across resources (stackQuotaProblems)", () => {
        const inline = (name: string, role: string, size: number, scope?: string): QuotaResource =>
            ({ type: "aws:iam/rolePolicy:RolePolicy", name, inputs: { role, policy: documentOf(size, "characters-without-white-space") }, scope });

        it("all inline policies of one role together: 10,240 pass, 10,241 fail, reported once on the first", () => {
            assert.deepEqual(stackQuotaProblems([inline("a", "role-1", 4000), inline("b", "role-1", 6240)]), []);
            const over = stackQuotaProblems([inline("a", "role-1", 4000), inline("b", "role-1", 3000), inline("c", "role-1", 3241)]);
            assert.deepEqual(names(over), [
                `aws:iam/rolePolicy:RolePolicy::a and 2 more inline policies of role role-1: ${QUOTAS.roleInlinePolicies.name} is 10,241 characters without white space, ` +
                `over AWS's limit of 10,240 (${QUOTAS.roleInlinePolicies.page})`,
            ]);
        });

        it("roles of the same name in two accounts (scopes), or two roles, are counted apart", () => {
            assert.deepEqual(stackQuotaProblems([inline("a", "role-1", 6000, "aws-1"), inline("b", "role-1", 6000, "aws-2")]), []);
            assert.deepEqual(stackQuotaProblems([inline("a", "role-1", 6000), inline("b", "role-2", 6000)]), []);
        });

        it("includes every resource's own problems, and does not report a lone oversized inline policy twice", () => {
            const problems = stackQuotaProblems([inline("a", "role-1", 10241), { type: "aws:kms/key:Key", name: "k", inputs: { policy: documentOf(32769, "bytes") } }]);
            assert.deepEqual(problems.map((p) => [p.resource, p.measured]), [["aws:iam/rolePolicy:RolePolicy::a", 10241], ["aws:kms/key:Key::k", 32769]]);
        });
    });

    describe("the policy pack's stack rule (aws-service-quotas)", () => {
        const rule = (type: string, name: string, props: Record<string, unknown>, extra: Partial<RuleResource> = {}): RuleResource =>
            ({ type, name, urn: `urn:pulumi:test::aws-dfir::${type}::${name}`, props, ...extra });

        it("links an inline policy to its role by the URN its role came from when the role's id is unknown (preview)", () => {
            const role = "urn:pulumi:test::aws-dfir::aws:iam/role:Role::r";
            const stack = ["a", "b"].map((n) => rule("aws:iam/rolePolicy:RolePolicy", n, { role: UNKNOWN_STRING, policy: documentOf(6000, "characters-without-white-space") }, { propertyDependencies: { role: [role] } }));
            const findings = checkServiceQuotas(stack);
            assert.deepEqual(findings.map((f) => [f.name, f.verdict.status]), [["a", "violation"]]);
            assert.match((findings[0].verdict as { message: string }).message, /and 1 more inline policies of role urn:pulumi:test::aws-dfir::aws:iam\/role:Role::r: IAM inline policies of one role \(sum of all\) is 12,000/);
            // Without a link and with the role unknown, nothing can be summed: no finding, no false alarm.
            assert.deepEqual(checkServiceQuotas(stack.map((r) => ({ ...r, propertyDependencies: {} }))), []);
        });

        it("reports a function over Lambda's 4 KB on that function, and nothing for one at 4 KB or unknown", () => {
            const fn = (name: string, value: string) => rule("aws:lambda/function:Function", name, { environment: { variables: { A: value } } });
            const findings = checkServiceQuotas([fn("ok", "x".repeat(4088)), fn("big", "x".repeat(4089)), fn("later", UNKNOWN_STRING)]);
            assert.deepEqual(findings.map((f) => [f.name, f.verdict.status]), [["big", "violation"]]);
        });
    });

    describe("the program under the mocks", function () {
        this.timeout(120_000);

        it("refuses the registration of a resource over its quota, as AWS refuses the create, naming the quota", async () => {
            const start = registrations.length;
            const big = new aws.lambda.Function("t-quota-env", {
                role: "arn:aws:iam::123456789012:role/r", runtime: "nodejs22.x", handler: "index.handler",
                code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler=()=>{}") }),
                environment: { variables: { BIG: "x".repeat(4100) } },
            });
            assert.ok(big);
            await settle().catch(() => undefined);
            const refused = registrations.slice(start).find((r) => r.name === "t-quota-env");
            assert.match(refused?.error ?? "", /Lambda function environment variables \(all together\) is 4,1\d\d bytes, over AWS's limit of 4,096/);
        });

        it("fits a hub region of 40 members with two VPCs each (the functions' environment broke Lambda's 4 KB at 10 before the group maps moved into Contain's settings file)", async () => {
            // scaleConfig's organization, the hub in one region, every member there (the mocks give each two VPCs).
            const config = scaleConfig(40);
            const members = JSON.parse(config["dfir:members"]) as { regions: Record<string, unknown> }[];
            for (const m of members) m.regions = { "us-east-1": { vpcs: "all" } };
            config["dfir:members"] = JSON.stringify(members);
            config["dfir:hub"] = JSON.stringify({ ...JSON.parse(config["dfir:hub"]), regions: ["us-east-1"] });
            const parsed = parseDfirConfig(dfirKeys(config));
            assert.ok(parsed.multiAccount);

            const start = registrations.length;
            const startRecorded = recorded.length;
            await deployMultiAccount(parsed);
            await settle();
            const refused = registrations.slice(start).filter((r) => r.error !== undefined);
            assert.deepEqual(refused.map((r) => `${r.name}: ${r.error}`), []);
            const mine = recorded.slice(startRecorded);
            // Counted across this run's resources only (the test process holds other runs' roles of the same names).
            const stack = stackQuotaProblems(mine.map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, scope: r.provider })));
            assert.deepEqual(stack.map((p) => p.message), []);
            // The largest environment is far from 4 KB; Contain's file holds all 80 groups.
            const functions = mine.filter((r) => r.type === "aws:lambda/function:Function");
            assert.equal(functions.length, 8);
            const sizes = functions.map((r) => Buffer.byteLength(JSON.stringify(r.inputs.environment.variables)));
            assert.ok(Math.max(...sizes) < 2048, `environments of ${sizes.join(", ")} bytes`);
            const contain = functions.find((r) => r.name.endsWith("-contain")) as RecordedResource;
            assert.equal(Object.keys(JSON.parse((await settingsFileOf(contain)).ISOLATION_GROUPS)).length, 80);
        });
    });
});
