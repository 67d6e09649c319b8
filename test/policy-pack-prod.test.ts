import { strict as assert } from "node:assert";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";
import { stackResources } from "./support/stack-resources";

/**
 * The real pack over the Analyzer gRPC protocol against the multi-account example stack (Pulumi.prod.yaml): every
 * resource goes through an explicit provider of its (account, region), and the guarantees hold in every member
 * account as in the hub. One mutated member isolation rule proves the rules read member resources too.
 */
const MEMBER_GROUP = "dfir-222222222222-us-east-1-vpc-0123456789abcdef0";

type Resource = { type: string; name: string; urn: string; provider: string; props: Record<string, any> };

describe("policy pack over gRPC: the multi-account prod stack", function () {
    this.timeout(120000);
    let stack: Resource[];
    let result: CheckResult;

    before(async () => {
        stack = stackResources<Resource>("prod");
        for (const r of stack) if (r.type === "aws:lambda/function:Function") delete r.props.code;
        const rule = stack.find((r) => r.name === `${MEMBER_GROUP}-isolation-s3`) as Resource;
        const broken: Resource = { ...structuredClone(rule), name: `${MEMBER_GROUP}-isolation-anywhere`, urn: `${rule.urn}-anywhere` };
        delete broken.props.prefixListId;
        broken.props.cidrIpv4 = "0.0.0.0/0";
        [result] = await policyCheck({ resources: { raw: [...stack, broken], source: "prod + one mutation" }, stack: "prod" });
    });

    it("sends explicit providers only: no default provider in a stack that disables it", () => {
        const providers = stack.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.name);
        assert.equal(providers.length, 5);
        assert.ok(providers.every((n) => /^aws-\d{12}-[a-z0-9-]+$/.test(n)), providers.join(","));
        const custom = stack.filter((r) => r.type.startsWith("aws:"));
        assert.deepEqual(custom.filter((r) => !/[:$]pulumi:providers:aws::aws-\d{12}-[a-z0-9-]+::/.test(r.provider)).map((r) => r.name), []);
    });

    it("finds nothing wrong with the stack itself, and catches the one broken member rule", () => {
        assert.ok(result.resources > 200, `${result.resources} resources`);
        const found = result.violations.map((v) => `${v.enforcementLevel} ${v.policy} @ ${v.name}`);
        assert.deepEqual(found, [`mandatory isolation-group-egress-endpoints-only @ ${MEMBER_GROUP}-isolation-anywhere`]);
    });
});
