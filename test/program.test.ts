import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { settingsFileOf, valueOf, VPC, type RecordedResource } from "./support/pulumi-mocks";
import { devProgram } from "./support/dev-program";
import { stackConfig } from "./support/stack-config";
import { dfirKeys, parseDfirConfig } from "../core/config";
import { isolationRuleProblems } from "../core/isolation";

describe("the program with Pulumi.dev.yaml", () => {
    let outputs: Record<string, pulumi.Output<unknown> | undefined>;
    let resources: RecordedResource[];

    before(async () => {
        // The real entry point, with the example stack's config, exactly as `pulumi up` runs it.
        ({ outputs, resources } = await devProgram());
    });

    const ofProgram = () => resources;

    it("keeps the example stack config valid and pointed at a VPC", () => {
        const config = parseDfirConfig(dfirKeys(stackConfig("dev")));
        assert.equal(config.vpcId, VPC.id);
        assert.equal(config.minSeverity, 7);
    });

    it("deploys detection, one evidence store and its access trail, the VPC's isolation network and the response workflow", () => {
        const components = ofProgram().filter((r) => r.type.startsWith("dfir:")).map((r) => `${r.type}::${r.name}`).sort();
        assert.deepEqual(components, [
            "dfir:detection:GuardDutyDetection::dfir-detector",
            "dfir:network:IsolationNetwork::dfir-isolation",
            "dfir:response:ResponseWorkflow::dfir-response",
            "dfir:storage:EvidenceStore::dfir-evidence",
            "dfir:storage:EvidenceTrail::dfir-access-trail",
        ]);
    });

    it("puts every AWS resource under one of those components", () => {
        const loose = ofProgram().filter((r) => !r.type.startsWith("dfir:") && !r.parent?.startsWith("dfir:"));
        assert.deepEqual(loose.map((r) => r.name), []);
    });

    it("wires the workflow to the isolation group it created for the configured VPC", async () => {
        const sg = await valueOf(outputs.isolationSecurityGroupId as pulumi.Output<string>);
        const contain = resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "dfir-response-contain");
        assert.deepEqual(JSON.parse((await settingsFileOf(contain as RecordedResource)).ISOLATION_GROUPS), { [VPC.id]: sg });
    });

    it("opens no isolation-group rule that the isolation check rejects; 0.0.0.0/0 only on the untrack group", () => {
        const isolation = ofProgram().filter((r) => r.name.startsWith("dfir-isolation-isolation-"));
        assert.equal(isolation.length, 2);
        for (const r of isolation) assert.deepEqual(isolationRuleProblems({ direction: "egress", ...r.inputs } as never), []);
        const open = ofProgram().filter((r) => JSON.stringify(r.inputs).match(/0\.0\.0\.0\/0|::\/0/));
        assert.deepEqual(open.map((r) => r.name).sort(), [
            "dfir-isolation-untrack-egress-v4", "dfir-isolation-untrack-egress-v6",
            "dfir-isolation-untrack-ingress-v4", "dfir-isolation-untrack-ingress-v6",
        ]);
        for (const r of open) assert.equal(r.inputs.tags["dfir:role"], "untrack");
    });

    it("exports the evidence bucket, the state machine and the topic", async () => {
        assert.equal(await valueOf(outputs.evidenceBucket as pulumi.Output<string>), "dfir-evidence");
        assert.match(await valueOf(outputs.stateMachineArn as pulumi.Output<string>), /^arn:aws:states:/);
        assert.match(await valueOf(outputs.notificationTopicArn as pulumi.Output<string>), /^arn:aws:sns:/);
    });
});
