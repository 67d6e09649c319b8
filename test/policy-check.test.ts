/**
 * `policy:check` (scripts/policy-check.ts, scripts/lib/analyzer/): the pure parts (wire marshalling, resources,
 * config reconciliation, the report), then the harness over real gRPC against a fixture pack of its own
 * (test/fixtures/policy-pack-fixture, plain JS), so it is tested independently of the real pack in policy/.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CheckResult, Violation } from "../scripts/lib/analyzer/check";
import { defaultConfig, parsePolicyPackConfig, reconcileConfig, validate, type PolicyInfo } from "../scripts/lib/analyzer/config";
import { exitCodeOf, humanReport, jsonLines, totals } from "../scripts/lib/analyzer/report";
import { InputError, normalizeResources, parseResourcesText, parseUrn } from "../scripts/lib/analyzer/resources";
import { lastLine, packEnvironment, readStackContext } from "../scripts/lib/analyzer/stack";
import { marshalProperties, marshalValue, OUTPUT_SIG, RESOURCE_SIG, secret, SECRET_SIG, SIG_KEY, UNKNOWN, WireError } from "../scripts/lib/analyzer/wire";
import { policyCheck, runPolicyCheckCli } from "../scripts/policy-check";
import { TS_REGISTER } from "../scripts/lib/tsRegister";

const REPO = path.resolve(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures");
const PACK = path.join(FIXTURES, "policy-pack-fixture");
const BROKEN_PACK = path.join(FIXTURES, "policy-pack-broken");
const SILENT_PACK = path.join(FIXTURES, "policy-pack-silent");

const BUCKET = "aws:s3/bucket:Bucket";
const ECHO = "fixture:index:Echo";
const adhocUrn = (type: string, name: string) => `urn:pulumi:adhoc::adhoc::${type}::${name}`;

let tmp: string;

function writeJson(name: string, value: unknown): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
}

/** Runs the CLI exactly as `npm run policy:check` does (same node, same loader), from the repo root. */
function runCli(...args: string[]) {
    const result = spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/policy-check.ts", ...args], {
        cwd: REPO,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A stack, a bucket named "bad" and one named "good" that depends on it. */
const BUCKETS = [
    { type: "pulumi:pulumi:Stack", name: "adhoc-adhoc" },
    { type: BUCKET, name: "bad", props: { bucket: "bad" }, parent: "adhoc-adhoc" },
    { type: BUCKET, name: "good", props: { bucket: "good" }, parent: "adhoc-adhoc" },
];

async function check(resources: unknown[], config?: unknown, extra: Parameters<typeof policyCheck>[0] = {}): Promise<CheckResult> {
    const results = await policyCheck({
        packDir: PACK,
        resources: { raw: resources, source: "test" },
        ...(config === undefined ? {} : { config: parsePolicyPackConfig(JSON.stringify(config), "test-config") }),
        ...extra,
    });
    assert.equal(results.length, 1);
    return results[0];
}

function only(violations: Violation[], policy: string): Violation {
    const found = violations.filter((v) => v.policy === policy);
    assert.equal(found.length, 1, `expected one ${policy} violation, got ${JSON.stringify(violations, null, 1)}`);
    return found[0];
}

/** The JSON a fixture echo policy put after its description line. */
function echoed(v: Violation): any {
    return JSON.parse(v.message.split("\n").slice(1).join("\n"));
}

describe("policy:check wire marshalling", () => {
    it("keeps secrets (as the signature object) and unknown sentinels, drops undefined members", () => {
        const value = { a: secret("s"), b: UNKNOWN, c: undefined, d: [1, undefined, null], e: { f: true } };

        assert.deepEqual(marshalValue(value, "p"), { a: { [SIG_KEY]: SECRET_SIG, value: "s" }, b: UNKNOWN, d: [1, null, null], e: { f: true } });
    });

    it("turns resource references into their id (else urn) and output values into value, secret or unknown", () => {
        const urn = "urn:pulumi:s::p::aws:s3/bucket:Bucket::b";

        assert.equal(marshalValue({ [SIG_KEY]: RESOURCE_SIG, urn, id: "b-1" }, "p"), "b-1");
        assert.equal(marshalValue({ [SIG_KEY]: RESOURCE_SIG, urn, id: "" }, "p"), urn);
        assert.equal(marshalValue({ [SIG_KEY]: OUTPUT_SIG, value: 3 }, "p"), 3);
        assert.deepEqual(marshalValue({ [SIG_KEY]: OUTPUT_SIG, value: 3, secret: true }, "p"), secret(3));
        assert.equal(marshalValue({ [SIG_KEY]: OUTPUT_SIG }, "p"), UNKNOWN);
        assert.deepEqual(marshalValue(secret(secret("x") as never), "p"), secret("x"));
    });

    it("drops top-level __ keys only when asked (Analyze yes, Remediate no), never nested ones", () => {
        const props = { __defaults: [], a: { __inner: 1 } };

        assert.deepEqual(marshalProperties(props, { skipInternalKeys: true }), { a: { __inner: 1 } });
        assert.deepEqual(marshalProperties(props, { skipInternalKeys: false }), props);
    });

    it("rejects what a Struct cannot carry and unknown signatures, naming the value", () => {
        assert.throws(() => marshalValue({ x: Number.NaN }, "props"), { message: "props.x: NaN is not a JSON number" });
        assert.throws(() => marshalValue({ [SIG_KEY]: "nope" }, "props.y"), WireError);
    });
});

describe("policy:check resources", () => {
    it("synthesizes urn:pulumi:adhoc::adhoc::<type>::<name> and resolves parent/dependencies given by name", () => {
        const [stack, bad, good] = normalizeResources(
            [...BUCKETS.slice(0, 2), { ...BUCKETS[2], dependencies: ["bad"], propertyDependencies: { policy: ["bad"], empty: [] } }],
            "f",
        );

        assert.equal(stack.urn, adhocUrn("pulumi:pulumi:Stack", "adhoc-adhoc"));
        assert.equal(bad.parent, stack.urn);
        assert.deepEqual(good.dependencies, [bad.urn]);
        assert.deepEqual(good.propertyDependencies, { policy: [bad.urn], empty: [] });
        assert.deepEqual(good.props, { bucket: "good" });
        assert.equal(good.options.protect, false);
    });

    it("takes stack and project from the file's first urn; keeps given urns; strips a provider reference's id", () => {
        const provider = "urn:pulumi:dev::proj::pulumi:providers:aws::default_7";
        const resources = normalizeResources(
            [
                { type: "pulumi:providers:aws", name: "default_7", urn: provider },
                { type: BUCKET, name: "b", provider: `${provider}::${UNKNOWN}`, options: { protect: true, ignoreChanges: ["tags"] } },
                { type: BUCKET, name: "c", provider: `urn:pulumi:dev::proj::pulumi:providers:aws::other::id-1` },
            ],
            "f",
        );

        assert.equal(resources[1].urn, "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::b");
        assert.equal(resources[1].provider, provider);
        assert.equal(resources[2].provider, "urn:pulumi:dev::proj::pulumi:providers:aws::other");
        assert.deepEqual([resources[1].options.protect, resources[1].options.ignoreChanges], [true, ["tags"]]);
    });

    it("parses URNs, including parent type chains and names with ::", () => {
        assert.deepEqual(parseUrn("urn:pulumi:dev::aws-dfir::pulumi:pulumi:Stack$dfir:storage:EvidenceStore$aws:s3/bucket:Bucket::a::b"), {
            stack: "dev",
            project: "aws-dfir",
            qualifiedType: "pulumi:pulumi:Stack$dfir:storage:EvidenceStore$aws:s3/bucket:Bucket",
            type: "aws:s3/bucket:Bucket",
            name: "a::b",
        });
        assert.equal(parseUrn("arn:aws:s3:::b"), undefined);
    });

    it("rejects malformed input with the file and the first problem", () => {
        const cases: [string, string][] = [
            ["{", "f: malformed JSON"],
            ['{"type":"x"}', "f: expected a JSON array of resources"],
            ['[{"type":"x"}]', "f: resources[0].name must be a non-empty string"],
            ['[{"name":"x"}]', "f: resources[0].type must be a non-empty string"],
            ['[{"type":"t","name":"a","props":[]}]', "f: resources[0].props must be an object"],
            ['[{"type":"t","name":"a","dependencies":"b"}]', "f: resources[0].dependencies must be a list of strings"],
            ['[{"type":"t","name":"a","parent":"ghost"}]', 'f: resources[0].parent: no resource named "ghost"'],
            ['[{"type":"t","name":"a"},{"type":"t","name":"a"}]', "f: resources[1]: duplicate urn urn:pulumi:adhoc::adhoc::t::a"],
            ['[{"type":"t","name":"a","urn":"nope"}]', 'f: resources[0].urn is not a Pulumi URN: "nope"'],
            [`[{"type":"t","name":"a","props":{"x":{"${SIG_KEY}":"zz"}}}]`, 'f: resources[0].props.x: unrecognized signature "zz"'],
        ];
        for (const [text, message] of cases) {
            assert.throws(
                () => parseResourcesText(text, "f"),
                (error: unknown) => error instanceof InputError && error.message.startsWith(message),
                `${text} should fail with ${message}`,
            );
        }
    });
});

describe("policy:check config reconciliation", () => {
    const policies: PolicyInfo[] = [
        { name: "p1", description: "", enforcementLevel: "mandatory", type: "resource", configSchema: { properties: { max: { type: "integer", default: 5 }, mode: { type: "string", enum: ["a", "b"] } }, required: [] } },
        { name: "p2", description: "", enforcementLevel: "advisory", type: "stack" },
    ];

    it("parses --policy-pack-config: levels, objects with a level and properties; drops empty entries", () => {
        assert.deepEqual(parsePolicyPackConfig('{"all":"advisory","p1":{"enforcementLevel":"disabled","max":2},"p2":{}}', "c"), {
            all: { enforcementLevel: "advisory", properties: {} },
            p1: { enforcementLevel: "disabled", properties: { max: 2 } },
        });
        assert.deepEqual(parsePolicyPackConfig("  ", "c"), {});
    });

    it("rejects a bad level, a non-object file and properties on all", () => {
        assert.throws(() => parsePolicyPackConfig('{"p1":"strict"}', "c"), { message: 'c: "p1": "strict" is not an enforcement level (advisory, mandatory, remediate, disabled)' });
        assert.throws(() => parsePolicyPackConfig("[]", "c"), InputError);
        assert.throws(() => parsePolicyPackConfig('{"all":{"max":1}}', "c"), { message: 'c: "all": "all" takes only an enforcement level' });
    });

    it("starts from each policy's level and schema defaults: every policy gets a level and a properties object", () => {
        assert.deepEqual(defaultConfig(policies), {
            p1: { enforcementLevel: "mandatory", properties: { max: 5 } },
            p2: { enforcementLevel: "advisory", properties: {} },
        });
    });

    it("applies the pack's initial config, then the user's; all before the per-policy entries of its layer", () => {
        const initial = { p1: { enforcementLevel: "advisory" as const, properties: { max: 7 } }, ghost: { enforcementLevel: "mandatory" as const, properties: {} } };
        const user = parsePolicyPackConfig('{"p1":{"mode":"b"},"all":"disabled","p2":"mandatory"}', "c");

        assert.deepEqual(reconcileConfig(policies, initial, user), {
            p1: { enforcementLevel: "disabled", properties: { max: 7, mode: "b" } },
            p2: { enforcementLevel: "mandatory", properties: {} },
        });
    });

    it("rejects an unknown policy in --config and values the schema rejects", () => {
        assert.throws(() => reconcileConfig(policies, {}, parsePolicyPackConfig('{"p3":"advisory"}', "c.json"), "c.json"), {
            message: 'c.json: unknown policy "p3" (the pack has: p1, p2)',
        });
        assert.throws(() => reconcileConfig(policies, {}, parsePolicyPackConfig('{"p1":{"max":1.5,"mode":"z"}}', "c")), {
            message: 'invalid policy config: p1: max: expected integer, got number; p1: mode: must be one of "a", "b"',
        });
    });

    it("validates the JSON Schema subset packs use", () => {
        const schema = { type: "object", required: ["a"], additionalProperties: false, properties: { a: { type: "array", items: { type: "string", minLength: 2 } } } };

        assert.deepEqual(validate(schema, { a: ["xy"] }, ""), []);
        assert.deepEqual(validate(schema, { a: ["x"], b: 1 }, ""), ["a[0]: must be at least 2 characters", "b is not allowed"]);
        assert.deepEqual(validate(schema, {}, ""), ["a is required"]);
    });
});

describe("policy:check stack context", () => {
    it("reads a stack's config as PULUMI_CONFIG carries it and sets only non-empty stack facts in the env", () => {
        const context = readStackContext(REPO, "dev");
        const env = packEnvironment({ PATH: "/bin" }, context);

        assert.equal(context.project, "aws-dfir");
        assert.equal(context.config["aws:region"], "us-east-1");
        assert.equal(context.config["dfir:minSeverity"], "7");
        assert.deepEqual(
            [env.PULUMI_NODEJS_PROJECT, env.PULUMI_NODEJS_STACK, env.PULUMI_NODEJS_DRY_RUN, env.PULUMI_NODEJS_TYPESCRIPT, env.PATH],
            ["aws-dfir", "dev", "true", "true", "/bin"],
        );
        assert.equal(JSON.parse(env.PULUMI_CONFIG!)["dfir:vpcId"], "vpc-0123456789abcdef0");
        assert.equal("PULUMI_NODEJS_ORGANIZATION" in env, false);
    });

    it("reports a crashed process by its error line, not its last stack frame", () => {
        assert.equal(lastLine("boom\nError: it broke\n    at \u001b[90mx (y.js:1:1)\u001b[39m\n\n"), "Error: it broke");
        assert.equal(lastLine("error: [runtime] Running program failed:\n    Error: Cannot find module 'x'\n    at y\n{\n  code: 'MODULE_NOT_FOUND'\n}\n"), "Error: Cannot find module 'x'");
        assert.equal(lastLine("  * Your program looks like a TypeScript program.\n"), "* Your program looks like a TypeScript program.");
        assert.equal(lastLine("\n"), undefined);
    });
});

describe("policy:check report", () => {
    const result = (violations: Partial<Violation>[]): CheckResult =>
        ({
            stack: "s",
            project: "p",
            pack: { name: "pk", version: "1.0.0", pluginVersion: "1.21.0" },
            policies: [{ name: "a" }, { name: "b" }],
            resources: 4,
            remediations: [],
            violations: violations.map((v) => ({ policy: "a", urn: "u", name: "n", type: "t", enforcementLevel: "advisory", message: "m", description: "", phase: "analyze", ...v })),
        }) as unknown as CheckResult;

    it("ends the readable report with the totals line; exit 1 only with a mandatory violation", () => {
        const results = [result([{ enforcementLevel: "mandatory", message: "line1\nline2" }, {}]), result([{ urn: "", name: "" }])];

        assert.deepEqual(totals(results), { resources: 8, policies: 2, mandatory: 1, advisory: 2 });
        const text = humanReport(results);
        assert.match(text, /\n  mandatory a: n \(t\)\n      line1\n      line2\n/);
        assert.match(text, /\n  advisory  a: \(stack\)\n/);
        assert.equal(text.split("\n").at(-2), "8 resources, 2 policies, 1 mandatory violations, 2 advisory");
        assert.equal(exitCodeOf(results), 1);
        assert.equal(exitCodeOf([result([{}])]), 0);
    });

    it("prints one JSON line per violation with exactly policy, urn, name, enforcementLevel, message", () => {
        assert.equal(jsonLines([result([{ policy: "b" }])]), '{"policy":"b","urn":"u","name":"n","enforcementLevel":"advisory","message":"m"}\n');
        assert.equal(jsonLines([result([])]), "");
    });
});

describe("policy:check against a fixture pack over gRPC", function () {
    this.timeout(60_000);

    it("reports a resource violation against the resource asked about, with its level; sends the reconciled config", async () => {
        const result = await check(BUCKETS);

        assert.deepEqual(
            result.violations.map((v) => [v.policy, v.urn, v.name, v.type, v.enforcementLevel, v.phase]),
            [["fixture-no-bad-buckets", adhocUrn(BUCKET, "bad"), "bad", BUCKET, "mandatory", "analyze"]],
        );
        assert.equal(result.violations[0].message, 'Buckets must not use the forbidden name.\nbucket bad uses the forbidden name "bad"');
        assert.deepEqual(
            result.policies.map((p) => [p.name, p.type, p.enforcementLevel]),
            [
                ["fixture-no-bad-buckets", "resource", "mandatory"],
                ["fixture-remediate-tags", "resource", "remediate"],
                ["fixture-echo", "resource", "advisory"],
                ["fixture-throws", "resource", "advisory"],
                ["fixture-max-resources", "stack", "advisory"],
                ["fixture-stack-echo", "stack", "advisory"],
            ],
        );
        assert.deepEqual(result.config, {
            "fixture-no-bad-buckets": { enforcementLevel: "mandatory", properties: { forbiddenName: "bad" } }, // schema default
            "fixture-remediate-tags": { enforcementLevel: "remediate", properties: {} },
            "fixture-echo": { enforcementLevel: "advisory", properties: {} },
            "fixture-throws": { enforcementLevel: "advisory", properties: {} },
            // the pack's initial config over its schema default (100) and its default level (advisory)
            "fixture-max-resources": { enforcementLevel: "mandatory", properties: { maxResources: 3 } },
            "fixture-stack-echo": { enforcementLevel: "advisory", properties: { echo: false } },
        });
        assert.deepEqual([result.pack.name, result.pack.version, result.resources, result.stack, result.project], ["dfir-fixture", "0.0.1", 3, "adhoc", "adhoc"]);
        const t = result.timings;
        assert.ok(t.startupMs > 0 && t.totalMs >= t.startupMs + t.resourcesMs + t.analyzeStackMs, JSON.stringify(t));
        assert.equal(t.perResource.count, 3);
    });

    it("--config overrides a schema default property, then a level; a mandatory stack policy from the initial config", async () => {
        const renamed = await check(BUCKETS, { "fixture-no-bad-buckets": { forbiddenName: "good" } });
        assert.deepEqual(renamed.violations.map((v) => [v.name, v.enforcementLevel]), [["good", "mandatory"]]);

        const downgraded = await check([...BUCKETS, { type: BUCKET, name: "x1" }], { "fixture-no-bad-buckets": "advisory" });
        assert.deepEqual(
            downgraded.violations.map((v) => [v.policy, v.name, v.enforcementLevel]),
            [
                ["fixture-no-bad-buckets", "bad", "advisory"],
                ["fixture-max-resources", "", "mandatory"],
            ],
        );
        assert.equal(only(downgraded.violations, "fixture-max-resources").message, "A stack may not have too many resources.\n4 resources, more than 3");
        assert.equal(only(downgraded.violations, "fixture-max-resources").urn, "");
    });

    it('"all": "disabled" silences every policy, resource, stack and remediation; a policy entry then re-enables one', async () => {
        const many = [...BUCKETS, { type: ECHO, name: "e" }, { type: BUCKET, name: "x" }];

        const silent = await check(many, { all: "disabled" });
        assert.deepEqual([silent.violations, silent.remediations], [[], []]);
        assert.ok(Object.values(silent.config).every((entry) => entry.enforcementLevel === "disabled"));

        const one = await check(many, { all: "disabled", "fixture-no-bad-buckets": "mandatory" });
        assert.deepEqual(one.violations.map((v) => [v.policy, v.name]), [["fixture-no-bad-buckets", "bad"]]);
    });

    it("AnalyzeStack receives every resource with its parent, dependencies and property dependencies", async () => {
        const result = await check(
            [...BUCKETS.slice(0, 2), { ...BUCKETS[2], dependencies: ["bad"], propertyDependencies: { policy: ["bad"], none: [] } }],
            { "fixture-stack-echo": { echo: true }, "fixture-no-bad-buckets": "disabled" },
        );

        const echo = only(result.violations, "fixture-stack-echo");
        assert.deepEqual([echo.urn, echo.name, echo.phase], ["", "", "stack"]);
        assert.deepEqual(echoed(echo), [
            { name: "adhoc-adhoc", type: "pulumi:pulumi:Stack", parent: null, dependencies: [], propertyDependencies: {} },
            { name: "bad", type: BUCKET, parent: "adhoc-adhoc", dependencies: [], propertyDependencies: {} },
            { name: "good", type: BUCKET, parent: "adhoc-adhoc", dependencies: ["bad"], propertyDependencies: { policy: ["bad"] } },
        ]);
    });

    it("remediates before Analyze; Analyze sees inputs without __ keys, secrets unwrapped, options, provider, stack facts", async () => {
        const result = await check(
            [
                { type: "pulumi:providers:aws", name: "default", props: { region: "eu-west-1", __internal: "dropped" } },
                {
                    type: ECHO,
                    name: "e1",
                    provider: "default",
                    options: { protect: true, ignoreChanges: ["tags"], deleteBeforeReplace: true },
                    props: {
                        __internal: 1,
                        password: secret("s3cr3t"),
                        ref: { [SIG_KEY]: RESOURCE_SIG, urn: "urn:pulumi:dev::aws-dfir::aws:s3/bucket:Bucket::b", id: "b-123" },
                    },
                },
                { type: ECHO, name: "e2", props: { arn: UNKNOWN } },
            ],
            undefined,
            { stack: "dev", projectDir: REPO },
        );

        const [e1, e2Remediation, e2] = result.violations;
        assert.deepEqual([e1.policy, e1.urn, e1.enforcementLevel], ["fixture-echo", "urn:pulumi:dev::aws-dfir::fixture:index:Echo::e1", "advisory"]);
        const seen = echoed(e1);
        // Remediate got __internal (sawInternalKey) and added tags; Analyze got the result without __internal.
        assert.deepEqual(seen.props, { password: "s3cr3t", ref: "b-123", sawInternalKey: true, tags: { remediated: "yes" } });
        assert.deepEqual([seen.opts.protect, seen.opts.ignoreChanges, seen.opts.deleteBeforeReplace], [true, ["tags"], true]);
        assert.deepEqual(seen.provider, { urn: "urn:pulumi:dev::aws-dfir::pulumi:providers:aws::default", type: "pulumi:providers:aws", name: "default", props: { region: "eu-west-1" } });
        assert.deepEqual([seen.env.project, seen.env.stack, seen.env.dryRun, seen.env.typescript], ["aws-dfir", "dev", "true", "true"]);
        assert.equal(JSON.parse(seen.env.config)["aws:region"], "us-east-1");
        assert.deepEqual([seen.stackTags["pulumi:project"], seen.stackTags["pulumi:runtime"]], ["aws-dfir", "nodejs"]);
        assert.deepEqual(result.remediations, [{ policy: "fixture-remediate-tags", urn: "urn:pulumi:dev::aws-dfir::fixture:index:Echo::e1", name: "e1" }]);

        // An unknown input makes both the remediation and the policy inconclusive: advisory, never a pass.
        assert.deepEqual([e2Remediation.policy, e2Remediation.phase, e2Remediation.enforcementLevel], ["fixture-remediate-tags", "remediate", "advisory"]);
        assert.match(e2.message, /^can't run policy 'fixture-echo' from policy pack 'dfir-fixture@v0\.0\.1' during preview: string value at \.arn can't be known during preview$/);
        assert.equal(result.violations.length, 3);
    });

    it("keeps violations in input order with many resources in flight", async () => {
        const resources = Array.from({ length: 60 }, (_, i) => ({ type: BUCKET, name: `b${i}`, props: { bucket: i % 7 === 0 ? "bad" : `b${i}` } }));

        const result = await check(resources, { "fixture-max-resources": "disabled" }, { concurrency: 16 });
        assert.deepEqual(
            result.violations.map((v) => v.name),
            resources.filter((_, i) => i % 7 === 0).map((r) => r.name),
        );
    });
});

describe("policy:check command line", function () {
    this.timeout(60_000);
    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("--json prints one line per violation and exits 1 on a mandatory one", () => {
        const file = writeJson("buckets.json", BUCKETS);
        const { status, stdout, stderr } = runCli("--resources", file, "--pack", PACK, "--json", "--timings");

        assert.equal(status, 1, stderr);
        assert.deepEqual(stdout.trim().split("\n").map((line) => JSON.parse(line)), [
            {
                policy: "fixture-no-bad-buckets",
                urn: adhocUrn(BUCKET, "bad"),
                name: "bad",
                enforcementLevel: "mandatory",
                message: 'Buckets must not use the forbidden name.\nbucket bad uses the forbidden name "bad"',
            },
        ]);
        assert.match(stderr, /^policy:check timings stack=adhoc: startup [\d.]+ ms, .* AnalyzeStack [\d.]+ ms .*total [\d.]+ ms\n$/);
    });

    it("prints the readable report ending with the totals line; exit 0 when nothing is mandatory", () => {
        const resources = writeJson("good.json", [BUCKETS[0], BUCKETS[2]]);
        const config = writeJson("config.json", { "fixture-stack-echo": { echo: true } });
        const { status, stdout, stderr } = runCli("--resources", resources, "--pack", PACK, "--config", config);

        assert.equal(status, 0, stderr);
        assert.equal(stderr, "");
        const lines = stdout.trim().split("\n");
        assert.equal(lines[0], "stack adhoc (project adhoc): 2 resources, policy pack dfir-fixture@0.0.1");
        assert.equal(lines[1], "  advisory  fixture-stack-echo: (stack)");
        assert.equal(lines.at(-1), "2 resources, 6 policies, 0 mandatory violations, 1 advisory");
    });

    it("a pack that fails to start: exit 2, one line naming its error, nothing on stdout", () => {
        const file = writeJson("buckets.json", BUCKETS);
        const { status, stdout, stderr } = runCli("--resources", file, "--pack", BROKEN_PACK);

        assert.deepEqual([status, stdout, stderr], [2, "", "policy:check: policy pack failed to start: Error: fixture pack is broken on purpose\n"]);
    });

    it("bad input exits 2 with one line and no stdout, before any pack starts", async () => {
        const cases: [string[], RegExp][] = [
            [["--resources", writeJson("broken.json", "[{")], /^policy:check: .*broken\.json: malformed JSON/],
            [["--resources", writeJson("object.json", { type: BUCKET })], /object\.json: expected a JSON array of resources$/],
            [["--resources", writeJson("noname.json", [{ type: BUCKET }])], /noname\.json: resources\[0\]\.name must be a non-empty string$/],
            [["--resources", path.join(tmp, "missing.json")], /missing\.json: no such file$/],
            [["--resources", writeJson("ok.json", BUCKETS), "--config", writeJson("badlevel.json", { all: "loud" })], /"all": "loud" is not an enforcement level/],
            [["--resources", writeJson("ok.json", BUCKETS), "--concurrency", "0"], /--concurrency needs a positive whole number$/],
            [["--bogus"], /^policy:check: unknown option '--bogus'$/],
        ];
        for (const [args, pattern] of cases) {
            const result = await runPolicyCheckCli([...args, "--pack", PACK]);
            assert.equal(result.exitCode, 2, args.join(" "));
            assert.equal(result.stdout, "");
            assert.match(result.stderr.trimEnd(), pattern);
            assert.equal(result.stderr.split("\n").length, 2, result.stderr);
        }
        const noPack = await runPolicyCheckCli(["--resources", writeJson("ok.json", BUCKETS), "--pack", tmp]);
        assert.deepEqual([noPack.exitCode, noPack.stderr], [2, `policy:check: policy pack failed to start: no PulumiPolicy.yaml in ${tmp}\n`]);
    });

    it("an unknown policy or a value its schema rejects in --config: exit 2 once the pack has said what it has", async () => {
        const resources = writeJson("ok.json", BUCKETS);

        const unknown = await runPolicyCheckCli(["--resources", resources, "--pack", PACK, "--config", writeJson("unknown.json", { "no-such-policy": "advisory" })]);
        assert.equal(unknown.exitCode, 2);
        assert.match(unknown.stderr, /unknown\.json: unknown policy "no-such-policy" \(the pack has: fixture-echo, fixture-max-resources, /);

        const invalid = await runPolicyCheckCli(["--resources", resources, "--pack", PACK, "--config", writeJson("invalid.json", { "fixture-max-resources": { maxResources: "many" } })]);
        assert.deepEqual([invalid.exitCode, invalid.stdout, invalid.stderr], [2, "", "policy:check: invalid policy config: fixture-max-resources: maxResources: expected integer, got string\n"]);
    });

    it("a policy that throws fails the check: exit 1 with the policy's error, nothing on stdout", async () => {
        const resources = writeJson("throw.json", [...BUCKETS, { type: "fixture:index:Throw", name: "t" }]);
        const result = await runPolicyCheckCli(["--resources", resources, "--pack", PACK]);

        assert.deepEqual([result.exitCode, result.stdout], [1, ""]);
        assert.equal(
            result.stderr,
            "policy:check: analyze failed: Error validating resource with policy 'fixture-throws' from policy pack 'dfir-fixture@v0.0.1': Error: policy blew up on purpose\n",
        );
    });

    it("without --resources: every Pulumi.*.yaml stack, its resources from stack:resources, its facts to the pack", async () => {
        const result = await runPolicyCheckCli(["--pack", PACK, "--json"], { projectDir: path.join(FIXTURES, "policy-check-project") });

        assert.equal(result.exitCode, 1, result.stderr);
        const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
        assert.deepEqual(
            lines.map((v) => [v.policy, v.urn, v.enforcementLevel]),
            [
                ["fixture-no-bad-buckets", "urn:pulumi:alpha::fake::aws:s3/bucket:Bucket::bad", "mandatory"],
                ["fixture-echo", "urn:pulumi:alpha::fake::fixture:index:Echo::echo", "advisory"],
                ["fixture-echo", "urn:pulumi:beta::fake::fixture:index:Echo::echo", "advisory"],
            ],
        );
        const [alpha, beta] = [lines[1], lines[2]].map((v) => JSON.parse(v.message.split("\n")[1]));
        assert.deepEqual([alpha.env.stack, alpha.env.project, JSON.parse(alpha.env.config)], ["alpha", "fake", { "fake:color": "red", "fake:size": "3" }]);
        assert.deepEqual([beta.env.stack, JSON.parse(beta.env.config)], ["beta", { "fake:color": "blue" }]);
        assert.equal(alpha.stackTags["pulumi:description"], "Fake project for the policy:check tests");

        const one = await runPolicyCheckCli(["--pack", PACK, "--stack", "beta"], { projectDir: path.join(FIXTURES, "policy-check-project") });
        assert.equal(one.exitCode, 0, one.stderr);
        assert.equal(one.stdout.trim().split("\n").at(-1), "3 resources, 6 policies, 0 mandatory violations, 1 advisory");
    });

    it("a stack whose stack:resources fails, or that has no stack file: exit 2 with one line", async () => {
        const failing = await runPolicyCheckCli(["--pack", PACK], { projectDir: path.join(FIXTURES, "policy-check-project-failing") });
        assert.deepEqual(
            [failing.exitCode, failing.stdout, failing.stderr],
            [2, "", "policy:check: stack:resources --stack only failed: Error: Mock not implemented: aws:foo/bar:Baz\n"],
        );

        const missing = await runPolicyCheckCli(["--pack", PACK, "--stack", "nope"], { projectDir: path.join(FIXTURES, "policy-check-project") });
        assert.deepEqual([missing.exitCode, missing.stderr], [2, `policy:check: no Pulumi.nope.yaml in ${path.join(FIXTURES, "policy-check-project")}\n`]);
    });

    it("a pack that never prints its port: exit 2 after --startup-timeout", async () => {
        const result = await runPolicyCheckCli(["--resources", writeJson("ok.json", BUCKETS), "--pack", SILENT_PACK, "--startup-timeout", "2"]);

        assert.deepEqual([result.exitCode, result.stdout, result.stderr], [2, "", "policy:check: policy pack failed to start: no port printed within 2 s\n"]);
    });
});
