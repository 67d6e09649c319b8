/**
 * The member responder role's trust (core/memberPolicies.ts `responderTrustPolicy`) through the kept IAM evaluator
 * the drill uses: the hub roles named by the prefixes may assume it under the functions' session name; any other
 * role of the hub account, a same-named role of another account and another session name may not.
 */
import { strict as assert } from "node:assert";
import { evaluate } from "../drill/sim/iam/evaluate";
import { RESPONDER_SESSION_NAME, responderTrustPolicy } from "../core/memberPolicies";
import { workflowRoleNamePrefixes } from "../core/organization";

const HUB = "111111111111";
const MEMBER = "222222222222";
const RESPONDER = `arn:aws:iam::${MEMBER}:role/dfir-responder`;
const allowAssume = { name: "hub", document: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }] }) };

describe("responder trust (evaluated)", () => {
    // This stack (no shard) in us-east-1 and eu-west-1; the stack with shard b (ap-southeast-2) acts there too.
    const trust = responderTrustPolicy({ partition: "aws", hubAccountId: HUB, roleNamePrefixes: [...workflowRoleNamePrefixes(undefined, ["us-east-1", "eu-west-1"]), ...workflowRoleNamePrefixes("b", ["ap-southeast-2"])] });
    const assume = (roleArn: string, sessionName = RESPONDER_SESSION_NAME) => {
        const account = roleArn.split(":")[4];
        const role = roleArn.split("/").pop() as string;
        return evaluate({
            principal: `arn:aws:sts::${account}:assumed-role/${role}/lambda`,
            principalArn: roleArn,
            action: "sts:AssumeRole",
            resource: RESPONDER,
            resourceAccount: MEMBER,
            context: { "aws:PrincipalArn": roleArn, "aws:PrincipalAccount": account, "sts:RoleSessionName": sessionName },
            identityPolicies: [allowAssume],
            resourcePolicy: { name: "trust", document: JSON.stringify(trust), kind: "trust" },
        });
    };

    it("admits this stack's workflow roles of the member's regions and a trusted stack's workflow roles", async () => {
        for (const role of ["dfir-response-us-east-1-contain-1a2b3c4", "dfir-response-eu-west-1-snapshot-9f8e7d6", "dfir-b-response-ap-southeast-2-memory-0a1b2c3"]) {
            const d = await assume(`arn:aws:iam::${HUB}:role/${role}`);
            assert.equal(d.allowed, true, `${role}: ${d.reason}`);
        }
    });

    it("refuses other hub roles, other regions of this stack, untrusted shards, other accounts and other session names", async () => {
        const refused = [
            `arn:aws:iam::${HUB}:role/dfir-analyst`,
            `arn:aws:iam::${HUB}:role/dfir-response-us-west-2-contain-1a2b3c4`,
            `arn:aws:iam::${HUB}:role/dfir-c-response-us-east-1-contain-1a2b3c4`,
            `arn:aws:iam::333333333333:role/dfir-response-us-east-1-contain-1a2b3c4`,
        ];
        for (const arn of refused) assert.equal((await assume(arn)).allowed, false, arn);
        assert.equal((await assume(`arn:aws:iam::${HUB}:role/dfir-response-us-east-1-contain-1a2b3c4`, "someone-else")).allowed, false);
    });
});
