import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import {
    addInstance,
    bucketSid,
    MANAGED_POLICY_MAX_CHARACTERS,
    parseRevocationDocument,
    pruneGroups,
    releaseInstance,
    renderRevocation,
    REVOCATION_HOLD_HOURS,
    revocationPolicyArn,
    revokes,
    type RevocationGroup,
} from "../core/revocation";
import { LOCK_TTL_MS, LOCK_WAIT_MS, RevocationLockLostError, RevocationLockTimeoutError, withRevocationLock } from "../functions/contain/revocation";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { isInstanceAddressTarget } from "../core/targets";
import { PRIOR_REVOCATIONS } from "../drill/scenarios";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

const HOUR = 3_600_000;
const T = new Date("2026-12-06T10:15:00.000Z");
const id = (n: number) => `i-${n.toString(16).padStart(17, "0")}`;
const at = (hours: number) => new Date(T.getTime() + hours * HOUR);

describe("session revocation: the role's one revocation policy (core/revocation.ts)", () => {
    it("gathers containments of one six-hour bucket in one statement whose cutoff is the latest; another bucket gets its own", () => {
        let groups: RevocationGroup[] = [];
        groups = addInstance(groups, id(1), T, T);
        groups = addInstance(groups, id(2), at(1), at(1));
        groups = addInstance(groups, id(3), at(6), at(6));
        assert.deepEqual(groups.map((g) => [g.sid, g.cutoff, g.instanceIds]), [
            ["DfirRevoke2026120606", at(1).toISOString(), [id(1), id(2)]],
            ["DfirRevoke2026120612", at(6).toISOString(), [id(3)]],
        ]);
        assert.equal(bucketSid(new Date("2026-12-06T23:59:59Z")), "DfirRevoke2026120618");
    });

    it("denies exactly sessions issued before the cutoff, of listed instances only", () => {
        const groups = addInstance([], id(1), T, T);
        assert.ok(revokes(groups, id(1), T));
        assert.ok(!revokes(groups, id(1), new Date(T.getTime() + 1)), "a session issued after containment is not denied");
        assert.ok(!revokes(groups, id(2), T), "another instance on the role is untouched");
    });

    it("renders a document IAM takes (Deny, both conditions) and reads it back; refuses a statement it did not write", () => {
        const groups = addInstance(addInstance([], id(1), T, T), id(2), T, T);
        const { document } = renderRevocation(groups);
        const doc = JSON.parse(document);
        assert.deepEqual([doc.Statement[0].Effect, doc.Statement[0].NotAction, doc.Statement[0].Action], ["Deny", ["ec2messages:*", "ssmmessages:*", "ssm:UpdateInstanceInformation"], undefined]);
        assert.deepEqual(doc.Statement[0].Condition, {
            DateLessThan: { "aws:TokenIssueTime": T.toISOString() },
            StringLike: { "ec2:SourceInstanceARN": [`*/${id(1)}`, `*/${id(2)}`] },
        });
        assert.deepEqual(parseRevocationDocument(document), groups);
        const tampered = JSON.stringify({ ...doc, Statement: [...doc.Statement, { Sid: "Mine", Effect: "Allow", Action: "*", Resource: "*" }] });
        assert.throws(() => parseRevocationDocument(tampered), /did not write \("Mine"\)/);
        assert.deepEqual(parseRevocationDocument(renderRevocation([]).document), [], "an emptied policy denies nothing and reads back empty");
    });

    it("prunes a statement once its cutoff is older than the hold, never before", () => {
        const groups = addInstance([], id(1), T, T);
        assert.equal(pruneGroups(groups, at(REVOCATION_HOLD_HOURS - 0.01)).length, 1);
        assert.equal(pruneGroups(groups, at(REVOCATION_HOLD_HOURS)).length, 0);
    });

    it("holds 220 instances contained within the hold on one role, spread over three buckets, under IAM's 6,144 characters", () => {
        let groups: RevocationGroup[] = [];
        // One containment every 3 minutes over 11 hours: three buckets live.
        for (let i = 0; i < 220; i++) groups = addInstance(groups, id(i), at(i * 0.05), at(i * 0.05));
        const { size, fits } = renderRevocation(groups);
        assert.ok(fits, `${size} characters`);
        assert.ok(size <= MANAGED_POLICY_MAX_CHARACTERS);
        assert.equal(groups.length, 3);
        assert.equal(groups.flatMap((g) => g.instanceIds).length, 220);
        // One more bucket's worth does not fit: the write is refused before IAM is asked (the case then PARTIAL).
        for (let i = 220; i < 260; i++) groups = addInstance(groups, id(i), at(11), at(11));
        assert.equal(renderRevocation(groups).fits, false);
    });

    it("release: within the hold the instance keeps a statement of its own with its own cutoff; after it, it is gone", () => {
        const contained = addInstance(addInstance([], id(1), T, T), id(2), at(2), at(2));
        const released = releaseInstance(contained, id(1), T, at(3));
        assert.deepEqual(released.map((g) => [g.sid, g.cutoff, g.instanceIds]), [
            ["DfirRevoke2026120612", at(2).toISOString(), [id(2)]],
            ["DfirRevokeReleased202612061015", T.toISOString(), [id(1)]],
        ]);
        assert.ok(revokes(released, id(1), T) && !revokes(released, id(1), at(1)), "old sessions denied, the restored profile's new ones not");
        assert.deepEqual(releaseInstance(contained, id(1), T, at(REVOCATION_HOLD_HOURS + 1)).flatMap((g) => g.instanceIds), [id(2)]);
    });

    it("never denies a listed instance less than its own containment time, whatever the order of additions (property)", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 11 * 60 })), { minLength: 1, maxLength: 40 }), (adds) => {
                let groups: RevocationGroup[] = [];
                for (const [n, minutes] of adds) {
                    const when = new Date(T.getTime() + minutes * 60_000);
                    groups = addInstance(groups, id(n), when, when);
                }
                const first = new Map<number, number>();
                for (const [n, minutes] of adds) first.set(n, Math.max(first.get(n) ?? 0, minutes));
                for (const [n, minutes] of first) assert.ok(revokes(groups, id(n), new Date(T.getTime() + minutes * 60_000)), id(n));
                assert.deepEqual(parseRevocationDocument(renderRevocation(groups).document), groups);
            }),
        );
    });

    it("names the policy under /dfir/revoke/, per role", () => {
        assert.equal(revocationPolicyArn("aws", "123456789012", "web-role"), "arn:aws:iam::123456789012:policy/dfir/revoke/dfir-revoke-web-role");
    });
});

describe("which ip targets are the instance's (core/targets.ts)", () => {
    const holders = [{ vpcId: "vpc-a", addresses: ["10.0.0.10"] }];
    it("in a group of its own VPC: its address registered without a zone; with `all` it is another network's", () => {
        assert.equal(isInstanceAddressTarget("vpc-a", { id: "10.0.0.10" }, holders), true);
        assert.equal(isInstanceAddressTarget("vpc-a", { id: "10.0.0.10", availabilityZone: "all" }, holders), false);
        assert.equal(isInstanceAddressTarget("vpc-a", { id: "10.0.0.11" }, holders), false);
    });
    it("in a group of another VPC: only registered from outside (`all`); the same address inside that VPC is another machine", () => {
        assert.equal(isInstanceAddressTarget("vpc-b", { id: "10.0.0.10" }, holders), false);
        assert.equal(isInstanceAddressTarget("vpc-b", { id: "10.0.0.10", availabilityZone: "all" }, holders), true);
    });
});

describe("session revocation: the role's lock in the case table", () => {
    let ddb: ReturnType<typeof mockClient>;
    before(() => {
        ddb = mockClient(DynamoDBClient);
    });
    afterEach(() => ddb.reset());
    // The mock patches every DynamoDBClient of the process: gone before the drills below.
    after(() => ddb.restore());

    it("takes the lock with a conditional put, works, and releases only its own lock", async () => {
        ddb.on(PutItemCommand).resolves({});
        ddb.on(DeleteItemCommand).resolves({});
        const clock = 1_000;
        const result = await withRevocationLock({ dynamodb: new DynamoDBClient({}), table: "cases", holder: "case-1", now: () => clock }, "revocation-lock#1#r", async () => "done");
        assert.equal(result, "done");
        const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
        assert.equal(put.ConditionExpression, "attribute_not_exists(pk) OR expiresAt < :now");
        assert.deepEqual(put.Item?.expiresAt, { N: String(clock + LOCK_TTL_MS) });
        const del = ddb.commandCalls(DeleteItemCommand)[0].args[0].input;
        assert.equal(del.ConditionExpression, "holder = :me");
        assert.deepEqual(del.ExpressionAttributeValues?.[":me"], put.Item?.holder);
    });

    it("refuses a policy write once the lock may have expired under it (slow IAM): a named error, not a silent overwrite", async () => {
        ddb.on(PutItemCommand).resolves({});
        ddb.on(DeleteItemCommand).resolves({});
        let clock = 0;
        const lock = { dynamodb: new DynamoDBClient({}), table: "cases", holder: "case-3", now: () => clock };
        await assert.rejects(
            withRevocationLock(lock, "revocation-lock#1#r", async (assertHeld) => {
                assertHeld(); // fresh: fine
                clock += LOCK_TTL_MS; // the reads took the whole lifetime of the lock
                assertHeld();
            }),
            (e: Error) => e instanceof RevocationLockLostError && /ran out before the policy was written/.test(e.message),
        );
    });

    it("waits while another holds it, and gives up with a named error past the wait (nothing done)", async () => {
        ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: "taken", $metadata: {} }));
        let clock = 0;
        let worked = false;
        await assert.rejects(
            withRevocationLock(
                { dynamodb: new DynamoDBClient({}), table: "cases", holder: "case-2", now: () => clock, sleep: async (ms) => { clock += Math.max(ms, 500); } },
                "revocation-lock#1#r",
                async () => { worked = true; },
            ),
            (e: Error) => e instanceof RevocationLockTimeoutError && /stayed taken/.test(e.message),
        );
        assert.equal(worked, false);
        assert.ok(clock >= LOCK_WAIT_MS);
        assert.equal(ddb.commandCalls(DeleteItemCommand).length, 0, "a lock never taken is never released");
    });
});

describe("drill: revocation at scale, Spot instances, ip target groups", function () {
    this.timeout(120_000);
    const run = async (scenario: DrillOptions["scenario"]) => {
        const options: DrillOptions = { finding: JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8")), scenario, simOptions: { memoryBytes: 256 * 1024 } };
        const sim = seedAccount(options);
        const started = new Date();
        return { report: await runDrill({ ...options, sim }), sim, started };
    };

    it(`revocation-at-scale: the ${PRIOR_REVOCATIONS + 1}th instance on its role is revoked, beside the ${PRIOR_REVOCATIONS} before it`, async () => {
        const { report, sim, started } = await run("revocation-at-scale");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const policies = Object.entries(sim.attachedPolicies("app-profile"));
        assert.equal(policies.length, 1, "one revocation policy on the role");
        const [arn, document] = policies[0] as [string, string];
        assert.equal(arn, revocationPolicyArn("aws", sim.instanceAccountId, "app-profile"));
        const groups = parseRevocationDocument(document);
        assert.equal(groups.flatMap((g) => g.instanceIds).length, PRIOR_REVOCATIONS + 1);
        assert.ok(revokes(groups, sim.instanceId, started), "the instance's sessions from before the response are denied");
        const writes = sim.calls.filter((c) => /^iam:(CreatePolicy|CreatePolicyVersion|AttachRolePolicy)$/.test(c.action) && c.atMs >= 0);
        assert.ok(writes.length > 0 && writes.every((c) => c.ok), "every revocation write of the response answered ok");
        assert.deepEqual(report.calls.filter((c) => !c.ok), [], "no failed call in the response");
    });

    it("spot-instance: EC2 refuses the two protections; recorded, the case PARTIAL with the reason, everything else done", async () => {
        const { report, sim } = await run("spot-instance");
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /^containment incomplete: ec2:ModifyInstanceAttribute \S+ failed \(UnsupportedOperation: Modifying 'disableApiTermination' is not supported for spot instances\.\); ec2:ModifyInstanceAttribute \S+ failed \(UnsupportedOperation: Modifying 'disableApiStop'/);
        const instance = sim.instance();
        assert.equal(instance.instanceLifecycle, "spot");
        assert.equal(instance.shutdownBehavior, "stop");
        assert.equal(instance.tags["dfir:status"], "isolated");
        assert.ok(report.evidence.manifest && report.evidence.memory, "sealed, with memory evidence");
        assert.deepEqual(report.containment?.openFlows, [], "every established flow cut");
    });

    it("agent-cached-credentials: the agent's old-role credentials still fetch the capture command after the revocation; memory evidence with its sha256, nothing denied", async () => {
        const { report, sim } = await run("agent-cached-credentials");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.iamDenied, [], "the agent's ec2messages:GetMessages is not refused");
        assert.match(report.evidence.memory?.sha256 ?? "", /^[0-9a-f]{64}$/);
        // The revocation is in force for everything else the old sessions could do.
        const document = Object.values(sim.attachedPolicies("app-profile"))[0] as string;
        assert.ok(parseRevocationDocument(document).some((g) => g.instanceIds.includes(sim.instanceId)));
    });

    it("ip-target-group: the instance's address is deregistered from the ip target group of its VPC; a neighbour's, and the same address in another VPC, are left", async () => {
        const { report, sim } = await run("ip-target-group");
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const deregistered = sim.calls.filter((c) => c.action === "elasticloadbalancing:DeregisterTargets");
        assert.equal(deregistered.length, 1, "only the group of its own VPC");
        const [target] = (deregistered[0]?.input as { Targets: { Id: string; Port: number; AvailabilityZone?: string }[] }).Targets;
        assert.deepEqual([target?.Port, target?.AvailabilityZone], [8443, undefined]);
        assert.match(target?.Id ?? "", /^\d+\.\d+\.\d+\.\d+$/);
        assert.notEqual(target?.Id, "10.99.0.7", "the neighbour's address stays");
        // The same private address in another, unpeered VPC's group is another machine: left registered.
        const states = Object.fromEntries(sim.instance().targetGroups.map((t) => [t.name, t.state]));
        assert.equal(states["dfir-drill-ip-tg"], "draining");
        assert.notEqual(states["dfir-drill-ip-other-vpc"], "draining");
    });
});
