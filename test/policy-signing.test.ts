/**
 * Issue 17's mandatory rules: evidence-snapshot-lock (item 1: whoever creates evidence snapshots may lock them) and
 * manifest-signing-key (item 2: every evidence store has its ECC_NIST_P256 SIGN_VERIFY key and the response names it).
 * In-process on the rule functions (a compliant set, then one change per case), the project's stacks (nothing to
 * note), and through the real pack over gRPC: the prod stack plus every broken set, in ONE policyCheck call.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";
import { TS_REGISTER } from "../scripts/lib/tsRegister";
import { UNKNOWN_STRING as U, type Finding, type RuleResource, type Verdict } from "../policy/lib/model";
import * as snapshotLock from "../policy/rules/evidence-snapshot-lock";
import * as signing from "../policy/rules/manifest-signing-key";
import type { Resource } from "./support/stack-copies";

const REPO = path.resolve(__dirname, "..");
const T = {
    key: "aws:kms/key:Key",
    fn: "aws:lambda/function:Function",
    store: "dfir:storage:EvidenceStore",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    policy: "aws:iam/policy:Policy",
};
const ARN = "arn:aws:kms:us-east-1:111111111111:key/";

const urnOf = (type: string, name: string, parentType?: string) => `urn:pulumi:t::aws-dfir::${parentType ? `${parentType}$` : ""}${type}::${name}`;
function res(type: string, name: string, props: Record<string, unknown>, opts: { deps?: Record<string, string[]>; parent?: RuleResource } = {}): RuleResource {
    return {
        type, name, urn: urnOf(type, name, opts.parent?.type), props, propertyDependencies: opts.deps ?? {},
        ...(opts.parent ? { parent: opts.parent.urn } : {}),
    };
}
const messageOf = (v: Verdict) => (v.status === "violation" || v.status === "unknown" ? v.message : v.status);
const statuses = (f: readonly Finding[]) => f.map((x) => [x.name, x.verdict.status]).sort();
const only = (f: readonly Finding[], status: Verdict["status"]) => f.filter((x) => x.verdict.status === status).map((x) => `${x.name}: ${messageOf(x.verdict)}`);

describe(signing.NAME, () => {
    const store = res(T.store, "ev", {});
    const signer = (props: Record<string, unknown> = {}) => res(T.key, "ev-signing", { customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", ...props }, { parent: store });
    const evidenceKey = res(T.key, "ev-key", { enableKeyRotation: true }, { parent: store });
    const fn = (variables: Record<string, unknown>, deps: string[] = []) => res(T.fn, "wf-seal", { environment: { variables: { EVIDENCE_BUCKET: "ev", ...variables } } }, { deps: { environment: deps } });
    const check = (stack: RuleResource[]) => signing.checkManifestSigningKey(stack);

    it("passes the store with its signing key, and the response naming it by value (after an update) or by dependency (preview)", () => {
        const k = signer({ arn: `${ARN}sign`, id: "sign" });
        assert.deepEqual(statuses(check([store, evidenceKey, k, fn({ MANIFEST_SIGNING_KEY_ARN: `${ARN}sign` })])), [["ev", "compliant"], ["wf-seal", "compliant"]]);
        assert.deepEqual(statuses(check([store, evidenceKey, signer(), fn({ MANIFEST_SIGNING_KEY_ARN: U }, [evidenceKey.urn, signer().urn])])), [["ev", "compliant"], ["wf-seal", "compliant"]]);
        // Functions that are not the response's (no EVIDENCE_BUCKET) are not judged.
        assert.deepEqual(check([res(T.fn, "other", { environment: { variables: { A: "b" } } })]), []);
    });

    it("rejects a store without a signing key, or with a key of another spec or usage, saying what to create", () => {
        assert.deepEqual(only(check([store, evidenceKey]), "violation"), [
            'ev: evidence store ev: it has no manifest-signing key (its keys: ev-key) — give it an aws.kms.Key with customerMasterKeySpec: "ECC_NIST_P256" and keyUsage: "SIGN_VERIFY" (the seal signs each manifest\'s sha256 with it)',
        ]);
        assert.equal(only(check([store, signer({ customerMasterKeySpec: "RSA_2048" })]), "violation").length, 1);
        assert.equal(only(check([store, signer({ keyUsage: "ENCRYPT_DECRYPT" })]), "violation").length, 1);
    });

    it("rejects a response without MANIFEST_SIGNING_KEY_ARN, or naming a symmetric key", () => {
        assert.match(only(check([fn({})]), "violation")[0] as string, /^wf-seal: function wf-seal: MANIFEST_SIGNING_KEY_ARN is not set: the seal cannot sign the manifests/);
        const sym = res(T.key, "ev-key", { arn: `${ARN}enc` }, { parent: store });
        assert.match(only(check([fn({ MANIFEST_SIGNING_KEY_ARN: `${ARN}enc` }), sym]), "violation")[0] as string, /names ev-key is SYMMETRIC_DEFAULT \/ ENCRYPT_DECRYPT, not ECC_NIST_P256 \/ SIGN_VERIFY — name an aws\.kms\.Key/);
        assert.match(only(check([evidenceKey, fn({ MANIFEST_SIGNING_KEY_ARN: U }, [evidenceKey.urn])]), "violation")[0] as string, /comes from no key of the spec \(its environment depends on ev-key is SYMMETRIC_DEFAULT/);
    });

    it("notes what it cannot follow: a key outside the stack, an unknown value with no key dependency, unknown spec, unknown environment", () => {
        assert.match(only(check([fn({ MANIFEST_SIGNING_KEY_ARN: `${ARN}elsewhere` })]), "unknown")[0] as string, /names arn:aws:kms:\S+elsewhere, not a key of this stack: cannot check its key spec/);
        assert.match(only(check([fn({ MANIFEST_SIGNING_KEY_ARN: U })]), "unknown")[0] as string, /cannot check which key MANIFEST_SIGNING_KEY_ARN names during preview/);
        assert.match(only(check([store, signer({ keyUsage: U })]), "unknown")[0] as string, /cannot check the key spec and usage of ev-signing during preview/);
        assert.match(only(check([res(T.fn, "wf-x", { environment: U })]), "unknown")[0] as string, /environment is unknown/);
    });
});

describe(snapshotLock.NAME, () => {
    const doc = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: "2012-10-17", Statement });
    const create = { Sid: "CreateSnapshots", Effect: "Allow", Action: "ec2:CreateSnapshots", Resource: ["arn:aws:ec2:us-east-1:1:instance/*", "arn:aws:ec2:us-east-1::snapshot/*"] };
    const lock = { Sid: "LockEvidenceSnapshots", Effect: "Allow", Action: "ec2:LockSnapshot", Resource: "arn:aws:ec2:us-east-1::snapshot/*", Condition: { StringEquals: { "aws:ResourceTag/dfir:evidence": "disk" } } };
    const policy = (...statements: Record<string, unknown>[]) => res(T.rolePolicy, "wf-snapshot", { role: "wf-snapshot-role", policy: doc(...statements) });
    const check = (stack: RuleResource[]) => snapshotLock.checkEvidenceSnapshotLock(stack);

    it("passes a policy that creates and locks snapshots; ignores policies that create none", () => {
        assert.deepEqual(statuses(check([policy(create, lock)])), [["wf-snapshot", "compliant"]]);
        assert.deepEqual(statuses(check([policy({ ...create }, { ...lock, Action: ["ec2:Lock*"] })])), [["wf-snapshot", "compliant"]]);
        assert.deepEqual(check([res(T.policy, "other", { policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }) })]), []);
    });

    it("rejects creating without locking, locking something else, and a deny of the lock", () => {
        assert.match(only(check([policy(create)]), "violation")[0] as string, /^wf-snapshot: policy wf-snapshot: it allows ec2:CreateSnapshots but not ec2:LockSnapshot on snapshots: the evidence snapshots it creates cannot be locked/);
        assert.equal(only(check([policy(create, { ...lock, Resource: "arn:aws:ec2:us-east-1:1:volume/*" })]), "violation").length, 1);
        assert.match(only(check([policy({ ...create, Action: ["ec2:create*"] }, lock, { Sid: "NoLock", Effect: "Deny", Action: "ec2:LockSnapshot", Resource: "*" })]), "violation")[0] as string, /its statement NoLock denies ec2:LockSnapshot/);
    });

    it("notes an unknown document on the response functions when no known one creates snapshots", () => {
        const fn = res(T.fn, "wf-snapshot-fn", { environment: { variables: { EVIDENCE_BUCKET: "ev" } } });
        assert.match(only(check([res(T.rolePolicy, "p", { policy: U }), fn]), "unknown")[0] as string, /cannot check during preview that the evidence snapshots get locked: 1 IAM policy document\(s\) are unknown/);
        assert.deepEqual(statuses(check([res(T.rolePolicy, "p", { policy: U }), policy(create, lock), fn])), [["wf-snapshot", "compliant"]]);
    });
});

function stackResources(stack: string): Resource[] {
    const out = spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/stack-resources.ts", "--stack", stack], {
        cwd: REPO, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.equal(out.status, 0, out.stderr);
    const resources: Resource[] = JSON.parse(out.stdout);
    for (const r of resources) if (r.type === T.fn) delete r.props.code;
    return resources;
}

describe("issue 17's rules on the project's stacks, and over gRPC", function () {
    this.timeout(180_000);
    let prod: Resource[];
    let result: CheckResult;
    const expected: [string, string][] = [];

    before(async () => {
        prod = stackResources("prod");
        // Broken copies, each caught by exactly one rule: a response function without the signing key's ARN, and the
        // snapshot function's role policy without its lock statement.
        const seal = structuredClone(prod.find((r) => r.type === T.fn && r.name.endsWith("-seal")) as Resource);
        Object.assign(seal, { name: `${seal.name}-unsigned`, urn: `${seal.urn}-unsigned` });
        delete seal.props.environment.variables.MANIFEST_SIGNING_KEY_ARN;
        expected.push([signing.NAME, seal.name]);
        const snapshotPolicy = structuredClone(prod.find((r) => r.type === T.rolePolicy && /CreateSnapshots/.test(String(r.props.policy))) as Resource);
        Object.assign(snapshotPolicy, { name: `${snapshotPolicy.name}-unlocked`, urn: `${snapshotPolicy.urn}-unlocked` });
        const document = JSON.parse(snapshotPolicy.props.policy);
        document.Statement = document.Statement.filter((s: { Sid?: string }) => s.Sid !== "LockEvidenceSnapshots");
        snapshotPolicy.props.policy = JSON.stringify(document);
        expected.push([snapshotLock.NAME, snapshotPolicy.name]);
        [result] = await policyCheck({ resources: { raw: [...prod, seal, snapshotPolicy], source: "prod + issue 17 broken sets" }, stack: "prod" });
    });

    it("dev and prod: every evidence store, response function and snapshot policy judged, nothing to note", () => {
        for (const stack of ["dev", "prod"]) {
            const resources = (stack === "prod" ? prod : stackResources(stack)) as unknown as RuleResource[];
            const findings = [...signing.checkManifestSigningKey(resources), ...snapshotLock.checkEvidenceSnapshotLock(resources)];
            assert.deepEqual(findings.filter((f) => f.verdict.status !== "compliant").map((f) => `${f.name}: ${messageOf(f.verdict)}`), [], stack);
            const stores = resources.filter((r) => r.type === T.store).length;
            assert.ok(stores >= 1, stack);
            assert.equal(findings.filter((f) => f.type === T.store).length, stores, `${stack}: every evidence store`);
            // Who creates the disk evidence: the snapshot function (single account), each member's responder role (prod,
            // whose hub has no instances of its own).
            const creators = findings.filter((f) => f.type === T.rolePolicy).map((f) => f.name).sort();
            assert.deepEqual(creators, stack === "dev" ? ["dfir-response-snapshot"] : ["dfir-222222222222-access-responder", "dfir-333333333333-access-responder"], stack);
        }
    });

    it("the pack runs both rules, mandatory, and lands each violation on the broken copy only", () => {
        const names = result.policies.map((p) => p.name);
        for (const n of [signing.NAME, snapshotLock.NAME]) assert.ok(names.includes(n), n);
        const ours = result.violations.filter((v) => v.policy === signing.NAME || v.policy === snapshotLock.NAME);
        assert.deepEqual(ours.map((v) => [v.enforcementLevel, v.policy, v.name]).sort(), expected.map(([p, n]) => ["mandatory", p, n]).sort());
        const message = (policy: string) => ours.find((v) => v.policy === policy)?.message ?? "";
        assert.match(message(signing.NAME), /MANIFEST_SIGNING_KEY_ARN is not set/);
        assert.match(message(snapshotLock.NAME), /allows ec2:CreateSnapshots but not ec2:LockSnapshot/);
    });
});
