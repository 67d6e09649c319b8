/**
 * Analysts in member accounts (issue 18 item 2): `dfir plan / verify / release` on a member's case act through the
 * member's analyst access role (core/memberPolicies.ts `memberAnalystAccessPolicy`, created by MemberAccess from
 * `dfir:analystRoleArns`), scoped to what those commands need; the responder role trusts only the hub's functions.
 * Before, the analysts assumed the responder role, and `dfir release` of a member's case failed there: it may put
 * interfaces only into the response's groups (not back into their own) and never drop a profile.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main, type Io } from "../cli/index";
import { denyModifyIsolatedPolicy, ISOLATED_INSTANCE_ACTIONS } from "../core/containmentPolicies";
import { analystAccessRoleArn, analystAccessTrustPolicy, memberAnalystAccessPolicy, responderTrustPolicy } from "../core/memberPolicies";
import { runDrill, seedAccount } from "../drill/run";

const FINDING = path.join(__dirname, "..", "fixtures", "guardduty", "CryptoCurrency_EC2_BitcoinTool.B_DNS.json");
const MEMBER = "222222222222";

async function dfir(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false };
    const code = await main(argv, io);
    return { code, stdout, stderr };
}

const actionsOf = (st: { Action: string | string[] }) => ([] as string[]).concat(st.Action);

describe("the analyst access role of a member account (what dfir plan, verify and release need)", () => {
    const policy = memberAnalystAccessPolicy("aws", MEMBER);
    const allowed = policy.Statement.filter((st) => st.Effect === "Allow").flatMap(actionsOf);

    it("allows nothing the response itself does: no snapshots, no commands on instances, no revocation written, no termination", () => {
        for (const action of ["ec2:CreateSnapshots", "ec2:LockSnapshot", "ssm:SendCommand", "iam:AttachRolePolicy", "iam:CreatePolicy", "ec2:TerminateInstances", "ec2:StopInstances", "ec2:CreateNetworkAclEntry", "autoscaling:DetachInstances", "s3:PutObject"]) {
            assert.ok(!allowed.includes(action), action);
        }
        assert.ok(!allowed.some((a) => a.includes("*")), "no wildcard action");
    });

    it("changes instances and interfaces only when tagged dfir:status=isolated; groups, ACL entries, volumes, the profile's role and the revocation policies otherwise", () => {
        const writes = policy.Statement.filter((st) => st.Effect === "Allow" && actionsOf(st).some((a) => !/:(Describe|Get|List|Decrypt)/.test(a)));
        const onInstances = writes.filter((st) => ([] as string[]).concat(st.Resource ?? []).some((r) => /:(instance|network-interface)\/\*$/.test(r)));
        assert.ok(onInstances.length > 0);
        for (const st of onInstances) assert.deepEqual(st.Condition, { StringEquals: { "aws:ResourceTag/dfir:status": "isolated" } }, st.Sid);
        const others = Object.fromEntries(writes.filter((st) => !onInstances.includes(st)).map((st) => [st.Sid, st.Resource]));
        assert.deepEqual(others, {
            ReleaseIntoOriginalGroups: `arn:aws:ec2:*:${MEMBER}:security-group/*`,
            ReleaseVolumesDeleteOnTermination: `arn:aws:ec2:*:${MEMBER}:volume/*`,
            ReleaseNetworkAclEntries: `arn:aws:ec2:*:${MEMBER}:network-acl/*`,
            RestoreOriginalProfileRole: `arn:aws:iam::${MEMBER}:role/*`,
            PruneRevocationPolicies: `arn:aws:iam::${MEMBER}:policy/dfir/revoke/*`,
        });
        const passRole = policy.Statement.find((st) => st.Sid === "RestoreOriginalProfileRole");
        assert.deepEqual(passRole?.Condition, { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
    });

    it("is trusted by exactly the hub's analyst roles (an organization's only); the responder role no longer trusts them", () => {
        assert.throws(() => analystAccessTrustPolicy([]), /at least one analyst role ARN/);
        assert.throws(() => analystAccessTrustPolicy(["arn:aws:iam::111111111111:role/*"]), /wildcard/);
        assert.throws(() => analystAccessTrustPolicy(["arn:aws:iam::111111111111:root"]), /not an exact IAM role ARN/);
        const trust = responderTrustPolicy({ partition: "aws", hubAccountId: "111111111111", roleNamePrefixes: ["dfir-response-us-east-1-"] });
        assert.equal(trust.Statement.length, 1);
        assert.deepEqual(trust.Statement[0]?.Condition?.ArnLike, { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/dfir-response-us-east-1-*" });
    });

    it("is exempt from the isolation guard as the responder is (release undoes what the guard protects)", () => {
        const guard = denyModifyIsolatedPolicy(["arn:aws:iam::222222222222:role/dfir-responder", analystAccessRoleArn("aws", MEMBER)]);
        const deny = guard.Statement.find((st) => actionsOf(st).includes(ISOLATED_INSTANCE_ACTIONS[0]));
        assert.deepEqual(deny?.Condition?.ArnNotLike, { "aws:PrincipalArn": ["arn:aws:iam::222222222222:role/dfir-responder", `arn:aws:iam::${MEMBER}:role/dfir-analyst-access`] });
    });
});

describe("dfir release and verify of a member's case through its analyst access role (the drill)", function () {
    this.timeout(180_000);

    it("plan of a member's finding reads the member's instance through the analyst access role (nothing denied)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-member-plan-"));
        try {
            const finding = JSON.parse(fs.readFileSync(FINDING, "utf8"));
            const sim = seedAccount({ finding, account: MEMBER } as never);
            sim.saveState(dir);
            // The finding as the member's GuardDuty reports it.
            const event = { ...finding, account: MEMBER, detail: { ...finding.detail, accountId: MEMBER } };
            event.detail.resource.instanceDetails.instanceId = sim.instanceId;
            const file = path.join(dir, "finding.json");
            fs.writeFileSync(file, JSON.stringify(event));
            const planned = await dfir(["plan", "--finding", file, "--simulated", dir, "--json"]);
            assert.equal(planned.code, 0, planned.stdout + planned.stderr);
            const result = JSON.parse(planned.stdout) as { target?: { accountId: string }; facts?: { ssm: string; record?: unknown }; wouldFail: string[] };
            assert.equal(result.target?.accountId, MEMBER);
            assert.equal(result.facts?.ssm, "Online", JSON.stringify(result.wouldFail));
            assert.ok(result.facts?.record, "the member's instance was read");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    for (const scenario of [undefined, "agent-cached-credentials"] as const) {
        it(`${scenario ?? "default"}: release --yes undoes every step in the member (groups, profile, protections, ACL entries${scenario ? ", the revocation" : ""}); verify --deep reads its snapshots; nothing denied`, async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-member-release-"));
            try {
                const options = { finding: JSON.parse(fs.readFileSync(FINDING, "utf8")), account: MEMBER, ...(scenario ? { scenario } : {}), simOptions: { memoryBytes: 256 * 1024 } } as never;
                const sim = seedAccount(options);
                const report = await runDrill({ ...(options as object), sim } as never);
                assert.equal(report.status, "SUCCEEDED", report.reason);
                sim.saveState(dir);
                const released = await dfir(["release", report.caseId as string, "--simulated", dir, "--yes", "--json"]);
                assert.equal(released.code, 0, released.stdout + released.stderr);
                const result = JSON.parse(released.stdout) as { ok: boolean; steps: { ok: boolean | null; step?: { kind: string }; kind?: string }[] };
                assert.equal(result.ok, true);
                const kinds = result.steps.map((s) => s.step?.kind ?? s.kind);
                for (const kind of ["groups", "attribute", "network-acl-entry", ...(scenario ? ["profile", "revocation"] : ["profile-removed"])]) assert.ok(kinds.includes(kind), `${kind} in ${kinds.join(",")}`);
                assert.ok(result.steps.every((s) => s.ok !== false), JSON.stringify(result.steps));
                const verified = await dfir(["verify", report.caseId as string, "--simulated", dir, "--json", "--deep"]);
                assert.equal(verified.code, 0, verified.stdout);
                const v = JSON.parse(verified.stdout) as { snapshots: { location: string; locked?: boolean; digestMatches?: boolean; unchecked?: string }[] };
                const member = v.snapshots.filter((s) => s.location === "instance account");
                assert.ok(member.length >= 2 && member.every((s) => s.locked === true && s.digestMatches === true && !s.unchecked));
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    }
});
