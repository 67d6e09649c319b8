import { strict as assert } from "node:assert";
import { buildDefinition } from "../core/definition";
import { drillTargets } from "../drill/run";
import { SimulatedAccount } from "../drill/sim";

describe("what the analyst tools rely on", () => {
    it("no Task of the definition writes ResultPath \"$\" (the drill's interpreter mishandles it; omitted means the same)", () => {
        const definition = buildDefinition(drillTargets("123456789012", "us-east-1", "arn:aws:sns:us-east-1:123456789012:t"));
        const explicitRoot: string[] = [];
        const walk = (states: Record<string, any>) => {
            for (const [name, state] of Object.entries(states)) {
                if (state.Type === "Task" && state.ResultPath === "$") explicitRoot.push(name);
                for (const branch of state.Branches ?? []) walk(branch.States);
            }
        };
        walk((definition as { States: Record<string, unknown> }).States);
        assert.deepEqual(explicitRoot, []);
    });

    it("the simulated DynamoDB scans every item in key order, in Limit pages with LastEvaluatedKey, filter after the limit", async () => {
        const sim = SimulatedAccount.create();
        const table = sim.deployment.casesTable;
        for (const pk of ["CASE#b", "OPEN#x", "CASE#a"]) {
            await sim.invoke("dynamodb", "PutItem", { TableName: table, Item: { pk: { S: pk } } });
        }
        const first = await sim.invoke("dynamodb", "Scan", { TableName: table, Limit: 2 });
        assert.deepEqual((first.Items as any[]).map((i) => i.pk.S), ["CASE#a", "CASE#b"]);
        assert.deepEqual(first.LastEvaluatedKey, { pk: { S: "CASE#b" } });
        const second = await sim.invoke("dynamodb", "Scan", {
            TableName: table, Limit: 2, ExclusiveStartKey: first.LastEvaluatedKey,
            FilterExpression: "begins_with(pk, :p)", ExpressionAttributeValues: { ":p": { S: "CASE#" } },
        });
        assert.deepEqual([second.Items, second.Count, second.ScannedCount, second.LastEvaluatedKey], [[], 0, 1, undefined]);
    });
});
