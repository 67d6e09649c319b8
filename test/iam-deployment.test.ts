/**
 * The drill authorizes every call against the policies the program deploys (drill/sim/iam/deployment.ts); this
 * holds the drill's documents to the ones the mocked Pulumi program registers, statement by statement, for the
 * same kind of stack: a hub with member accounts and copySnapshotsToHub (Pulumi.prod.yaml; the drill's
 * `copy-to-hub` scenario) and one account (Pulumi.dev.yaml; the plain drill). Resources and account ids differ
 * between the two worlds; the shape must not: each statement's Sid, effect, actions and condition keys.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { dfirKeys, parseDfirConfig, type MultiAccountStackConfig } from "../core/config";
import type { PolicyDocument } from "../core/iam";
import { deployMultiAccount } from "../components/multiAccountStack";
import { seedAccount } from "../drill/run";
import type { SimulatedAccount } from "../drill/sim";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";
import { devProgram } from "./support/dev-program";
import { recorded, settle, type RecordedResource } from "./support/pulumi-mocks";
import { stackConfig } from "./support/stack-config";

const FUNCTIONS = ["case", "contain", "snapshot", "memory", "metadata", "seal", "triage"];

/** Each statement's Sid, effect, sorted actions and sorted condition operator:key names; in Sid order. */
function shape(document: string): string[] {
    const doc = JSON.parse(document) as PolicyDocument;
    return doc.Statement.map((s) => {
        const actions = ([] as string[]).concat(s.Action ?? []).sort().join(",");
        const conditions = Object.entries(s.Condition ?? {}).flatMap(([op, keys]) => Object.keys(keys).map((k) => `${op}:${k}`)).sort().join(",");
        return `${s.Sid ?? "-"} ${s.Effect} [${actions}] {${conditions}}`;
    }).sort();
}

const rolePolicy = (resources: RecordedResource[], name: string): string => {
    const found = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === name);
    assert.ok(found, `the program registers the role policy ${name}`);
    return found.inputs.policy as string;
};

function drillWorld(scenario?: "copy-to-hub"): SimulatedAccount {
    return seedAccount({ finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), ...(scenario ? { scenario } : {}) });
}

describe("the drill's IAM is the program's IAM", function () {
    this.timeout(120_000);

    it("a hub with members and copySnapshotsToHub: every function role and the member responder role, statement by statement", async () => {
        const config = parseDfirConfig(dfirKeys(stackConfig("prod")));
        assert.ok(config.multiAccount?.copySnapshotsToHub, "the prod example copies snapshots into the hub");
        const start = recorded.length;
        await deployMultiAccount(config as MultiAccountStackConfig);
        await settle();
        const program = recorded.slice(start);
        const region = config.multiAccount.hub.regions[0] as string;
        const member = (config.multiAccount.members[0] as { accountId: string }).accountId;

        const sim = drillWorld("copy-to-hub");
        const simRegion = sim.region;
        for (const fn of FUNCTIONS) {
            const name = `dfir-response-${region}-${fn}`;
            const simName = `dfir-response-${simRegion}-${fn}`;
            assert.deepEqual(shape(sim.rolePolicies(simName, sim.homeAccountId)[simName] as string), shape(rolePolicy(program, name)), fn);
        }
        assert.deepEqual(
            shape(sim.rolePolicies("dfir-responder", sim.instanceAccountId)["dfir-responder"] as string),
            shape(rolePolicy(program, `dfir-${member}-access-responder`)),
            "member responder role",
        );
    });

    it("one account (Pulumi.dev.yaml): every function role, statement by statement", async () => {
        const { resources } = await devProgram();
        const sim = drillWorld();
        for (const fn of FUNCTIONS) {
            const name = `dfir-response-${fn}`;
            assert.deepEqual(shape(sim.rolePolicies(name, sim.homeAccountId)[name] as string), shape(rolePolicy(resources, name)), fn);
        }
    });
});
