import { strict as assert } from "node:assert";
import { recorded, settle, type RecordedResource } from "./support/pulumi-mocks";
import { devProgram } from "./support/dev-program";
import { stackConfig } from "./support/stack-config";
import { dfirKeys, parseDfirConfig, type MultiAccountStackConfig } from "../core/config";
import { actionsNeedingResources, NO_RESOURCE_LEVEL_ACTIONS } from "../core/resourceLevel";
import { deployMultiAccount } from "../components/multiAccountStack";
import { checkIamNoWildcardActions } from "../policy/rules/iam-no-wildcard-actions";

/**
 * Every identity policy both example stacks create: no wildcard action, and `"Resource": "*"` only for actions
 * without resource-level permissions — checked here over the captured stacks, and by the pack's advisory rule.
 */
const IDENTITY_POLICIES = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"];

type Statement = { Effect: string; Action: string | string[]; Resource?: string | string[] };

describe("IAM policies of the example stacks (dev and prod)", function () {
    this.timeout(120_000);
    let policies: RecordedResource[];

    before(async () => {
        const dev = (await devProgram()).resources;
        const start = recorded.length;
        await deployMultiAccount(parseDfirConfig(dfirKeys(stackConfig("prod"))) as MultiAccountStackConfig);
        await settle();
        policies = [...dev, ...recorded.slice(start)].filter((r) => IDENTITY_POLICIES.includes(r.type));
    });

    const statements = () => policies.flatMap((r) => (JSON.parse(r.inputs.policy).Statement as Statement[]).map((s) => ({ r, s })));

    it("grant no wildcard action", () => {
        assert.ok(policies.length > 30, `${policies.length} policies`);
        const wildcard = statements().filter(({ s }) => s.Effect === "Allow" && [s.Action].flat().some((a) => a === "*" || a.endsWith(":*")));
        assert.deepEqual(wildcard.map(({ r }) => r.name), []);
    });

    it("use \"Resource\": \"*\" for exactly the listed actions without resource-level permissions, no other", () => {
        const onStar = new Set(statements().filter(({ s }) => s.Effect === "Allow" && [s.Resource].flat().includes("*")).flatMap(({ s }) => [s.Action].flat()));
        assert.deepEqual([...onStar].sort(), [...NO_RESOURCE_LEVEL_ACTIONS].sort());
    });

    it("pass the pack's iam-no-wildcard-actions rule, which flags an action with resource-level permissions on *", () => {
        const verdicts = policies.map((r) => [r.name, checkIamNoWildcardActions({ type: r.type, name: r.name, urn: `urn:${r.name}`, props: r.inputs }).status]);
        assert.deepEqual(verdicts.filter(([, status]) => status !== "compliant"), []);
        const broad = { type: IDENTITY_POLICIES[0], name: "broad", urn: "urn:broad", props: { policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Read", Effect: "Allow", Action: ["s3:GetObject", "ec2:DescribeInstances"], Resource: "*" }] }) } };
        const verdict = checkIamNoWildcardActions(broad);
        assert.equal(verdict.status, "violation");
        assert.match(JSON.stringify(verdict), /statement Read allows s3:GetObject on every resource/);
        assert.deepEqual(actionsNeedingResources(["EC2:describeinstances", "kms:Decrypt"]), ["kms:Decrypt"]);
    });
});
