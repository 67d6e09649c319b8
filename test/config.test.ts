import { strict as assert } from "node:assert";
import * as path from "node:path";
import { CONFIG_KEYS, dfirKeys, parseDfirConfig } from "../core/config";
import { readStackConfig } from "../scripts/lib/stack-config";
import { REPO, stackConfig } from "./support/stack-config";

/** The multi-account example, outside the root until the program deploys dfir:members (policy:check runs every root Pulumi.*.yaml). */
const PROD_EXAMPLE = path.join(REPO, "Pulumi.prod.yaml");

const VPC = "vpc-0123456789abcdef0";

describe("stack config", () => {
    it("defaults everything but the VPC", () => {
        const config = parseDfirConfig({ vpcId: VPC });

        assert.deepEqual(config, {
            vpcId: VPC, minSeverity: 7, allowSamples: false, evidenceRetentionDays: 365, breakGlassRoleArn: undefined,
            createEndpoints: true, endpointSecurityGroupId: undefined, endpointSubnetIds: undefined,
            endpointRouteTableIds: undefined, manageDetector: true, ebsMalwareProtection: true,
            runtimeMonitoring: false, notificationEmail: undefined, logRetentionDays: 365,
            untrackConnections: true, approvalTimeoutSeconds: 3600, approvalDefault: "contain", snapshotCapHours: 24,
            memoryCapMinutes: 180, isolatedInstanceScp: false, credentialExfiltration: true, tagTrigger: true,
        });
    });

    it("reads the avml builds to stage (either or both; a Pulumi JSON string or a YAML object)", () => {
        assert.deepEqual(parseDfirConfig({ vpcId: VPC, avml: { x86_64: "./avml", aarch64: "./avml-aarch64" } }).avml, { x86_64: "./avml", aarch64: "./avml-aarch64" });
        assert.deepEqual(parseDfirConfig({ vpcId: VPC, avml: '{"aarch64":"./avml-aarch64"}' }).avml, { aarch64: "./avml-aarch64" });
    });

    it("refuses the retired dfir:avmlPath in one line naming the keys that replace it, and how to move", () => {
        assert.throws(() => parseDfirConfig({ vpcId: VPC, avmlPath: "./avml" }), (e: Error) =>
            !e.message.includes("\n") &&
            /^config dfir:avmlPath is replaced by dfir:avml\.x86_64 and dfir:avml\.aarch64 \(avml v0\.20\.0, one build per architecture; docs\/deploy\.md\): pulumi config rm dfir:avmlPath && pulumi config set --path 'dfir:avml\.x86_64' \.\/avml && pulumi config set --path 'dfir:avml\.aarch64' \.\/avml-aarch64$/.test(e.message));
    });

    it("reads Pulumi's string values: numbers, booleans and JSON lists", () => {
        const config = parseDfirConfig({
            vpcId: VPC, minSeverity: "8.5", allowSamples: "true", createEndpoints: "false",
            endpointSecurityGroupId: "sg-0123456789abcdef0", endpointSubnetIds: '["subnet-0123456789abcdef0"]',
        });

        assert.equal(config.minSeverity, 8.5);
        assert.equal(config.allowSamples, true);
        assert.equal(config.createEndpoints, false);
        assert.deepEqual(config.endpointSubnetIds, ["subnet-0123456789abcdef0"]);
    });

    it("fails on an unknown key, naming it", () => {
        assert.throws(() => parseDfirConfig({ vpcId: VPC, minSeverty: "7" }), /^Error: unknown config key dfir:minSeverty \(known keys: vpcId,/);
    });

    it("fails on a missing VPC id, naming the key and how to set it", () => {
        assert.throws(() => parseDfirConfig({}), /missing required config dfir:vpcId.*pulumi config set dfir:vpcId/);
        assert.throws(() => parseDfirConfig({ vpcId: "" }), /missing required config dfir:vpcId/);
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
        ["a malformed VPC id", { vpcId: "vpc-xyz" }, /dfir:vpcId must look like vpc-/],
        ["a severity above 10", { vpcId: VPC, minSeverity: "11" }, /dfir:minSeverity must be a number from 1 to 10/],
        ["a non-numeric severity", { vpcId: VPC, minSeverity: "high" }, /dfir:minSeverity/],
        ["a fractional retention", { vpcId: VPC, evidenceRetentionDays: "1.5" }, /dfir:evidenceRetentionDays must be a whole number/],
        ["a non-boolean flag", { vpcId: VPC, allowSamples: "yes" }, /dfir:allowSamples must be true or false/],
        ["a log retention CloudWatch refuses", { vpcId: VPC, logRetentionDays: "100" }, /dfir:logRetentionDays must be one of/],
        ["a subnet list that is not a list", { vpcId: VPC, endpointSubnetIds: "subnet-0123456789abcdef0" }, /dfir:endpointSubnetIds must be a list/],
        ["a bad subnet in the list", { vpcId: VPC, endpointSubnetIds: '["subnet-1"]' }, /dfir:endpointSubnetIds must look like subnet-/],
        ["a break-glass ARN that is not a role", { vpcId: VPC, breakGlassRoleArn: "arn:aws:iam::123456789012:user/bob" }, /dfir:breakGlassRoleArn/],
        ["existing endpoints without their group", { vpcId: VPC, createEndpoints: "false" }, /dfir:endpointSecurityGroupId is required/],
        ["an endpoint group while creating endpoints", { vpcId: VPC, endpointSecurityGroupId: "sg-0123456789abcdef0" }, /conflicts with dfir:createEndpoints=true/],
        ["avml with no build", { vpcId: VPC, avml: {} }, /dfir:avml must name at least one build \(x86_64, aarch64\)/],
        ["avml with an unknown build", { vpcId: VPC, avml: { arm64: "./avml-aarch64" } }, /dfir:avml\.arm64 is not a known field \(known: x86_64, aarch64\)/],
        ["avml with an empty path", { vpcId: VPC, avml: { x86_64: " " } }, /dfir:avml\.x86_64 must be the path of the avml release asset/],
        ["avml as a plain path", { vpcId: VPC, avml: "./avml" }, /dfir:avml must be an object of avml builds to local file paths/],
        ["an approval default that is neither contain nor skip", { vpcId: VPC, approvalDefault: "ask" }, /dfir:approvalDefault must be contain or skip/],
        ["an approval timeout under a minute", { vpcId: VPC, approvalTimeoutSeconds: "5" }, /dfir:approvalTimeoutSeconds must be a whole number from 60/],
        ["detector features without a managed detector", { vpcId: VPC, manageDetector: "false", runtimeMonitoring: "true" }, /apply only when dfir:manageDetector is true/],
    ];
    for (const [what, raw, message] of bad) {
        it(`fails on ${what} with a one-line message`, () => {
            assert.throws(() => parseDfirConfig(raw), (e: Error) => message.test(e.message) && !e.message.includes("\n"));
        });
    }

    describe("copySnapshotsToHub", () => {
        const hub = JSON.stringify({ accountId: "111111111111", regions: ["us-east-1"] });
        const members = JSON.stringify([{ accountId: "222222222222", deployRoleArn: "arn:aws:iam::222222222222:role/dfir-deploy", regions: { "us-east-1": { vpcs: "all" } } }]);
        const multi = (extra: Record<string, unknown> = {}) => parseDfirConfig({ hub, members, ...extra });

        it("defaults to false in a multi-account stack and reads Pulumi's string and YAML's boolean values", () => {
            assert.equal(multi().multiAccount?.copySnapshotsToHub, false);
            assert.equal(multi({ copySnapshotsToHub: "true" }).multiAccount?.copySnapshotsToHub, true);
            assert.equal(multi({ copySnapshotsToHub: true }).multiAccount?.copySnapshotsToHub, true);
            assert.equal(multi({ copySnapshotsToHub: "false" }).multiAccount?.copySnapshotsToHub, false);
        });

        it("is refused in a single-account stack (even false), in one line naming the key", () => {
            for (const value of ["true", "false", true]) {
                assert.throws(() => parseDfirConfig({ vpcId: VPC, copySnapshotsToHub: value }), (e: Error) =>
                    e.message === "config dfir:copySnapshotsToHub applies only to a multi-account stack (dfir:hub and dfir:members)");
            }
        });

        it("refuses a value that is not a boolean, in one line", () => {
            assert.throws(() => multi({ copySnapshotsToHub: "yes" }), (e: Error) =>
                e.message === 'config dfir:copySnapshotsToHub must be true or false, got "yes"' && !e.message.includes("\n"));
        });

        it("is on in the multi-account example (Pulumi.prod.yaml), which exercises it", () => {
            const prod = parseDfirConfig(dfirKeys(readStackConfig(PROD_EXAMPLE)));
            assert.equal(prod.multiAccount?.copySnapshotsToHub, true);
        });
    });

    it("keeps only the dfir namespace of Pulumi's config map", () => {
        assert.deepEqual(dfirKeys({ "aws:region": "us-east-1", "dfir:vpcId": VPC, "pulumi:tags": "{}" }), { vpcId: VPC });
    });

    it("documents every key in the example stacks together (single-account dev, multi-account prod), which both parse", () => {
        const dev = dfirKeys(stackConfig("dev"));
        const prod = dfirKeys(readStackConfig(PROD_EXAMPLE));
        const missing = CONFIG_KEYS.filter((k) => !(k in dev) && !(k in prod));
        // Optional keys that have no sensible example value in a generic stack file stay documented in docs/deploy.md
        // (and docs/many-accounts.md: shard and trustStacks belong to a stack that shares its organization with others).
        assert.deepEqual(missing.sort(), ["avml", "endpointRouteTableIds", "endpointSecurityGroupId", "endpointSubnetIds", "shard", "trustStacks"]);
        assert.doesNotThrow(() => parseDfirConfig(dev));
        assert.doesNotThrow(() => parseDfirConfig(prod));
    });
});
