import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { WARMED, WARMUP_EVENT } from "../core/workflow";
import { bundleAll, bundleHandler, cacheDirFor, DEFAULT_BUNDLE_CACHE_DIR, FUNCTION_NAMES, literalSchemaKeys, readCache, SCHEMA_MODULE, type FunctionName } from "../components/bundle";

const FUNCTIONS = FUNCTION_NAMES;

/** Load a bundle the way the Lambda runtime does: one CommonJS file, nothing from this repo on the path. */
function load(code: string, name: string): Record<string, unknown> {
    const m = new Module(`/var/task/${name}/index.js`);
    m.filename = m.id;
    m.paths = [];
    (m as unknown as { _compile(code: string, filename: string): void })._compile(code, m.filename);
    return m.exports as Record<string, unknown>;
}

describe("Lambda bundles", () => {
    for (const name of FUNCTIONS) {
        it(`bundles ${name} into one self-contained CommonJS file exporting handler`, () => {
            const code = bundleHandler(name);

            const exported = load(code, name);

            assert.equal(typeof exported.handler, "function");
            assert.ok(code.length < 5 * 1024 * 1024, `${name} bundle is ${code.length} bytes`);
            assert.ok(!/require\("\.\.?\//.test(code), `${name} bundle requires a relative file`);
        });
    }
});

/** The SDK services each handler calls (STS for the cross-account AssumeRole): its bundle holds these clients, no other. */
const SERVICES: Record<FunctionName, string[]> = {
    triage: [],
    case: ["ec2", "sts", "dynamodb"],
    contain: ["ec2", "autoscaling", "elasticloadbalancingv2", "iam", "sts", "dynamodb"],
    snapshot: ["ec2", "sts"],
    memory: ["s3", "ssm", "sts"],
    metadata: ["ec2", "s3", "sts"],
    seal: ["s3", "sts", "dynamodb", "kms"],
    digest: ["s3", "sts", "dynamodb", "kms", "ebs"],
};
const ALL_SERVICES = ["ec2", "autoscaling", "elasticloadbalancingv2", "iam", "s3", "ssm", "sts", "dynamodb", "kms", "ebs"];

describe("Lambda bundles hold only the SDK clients their handler uses", () => {
    for (const name of FUNCTIONS) {
        it(`${name}: ${SERVICES[name].join(", ") || "no AWS service"}`, () => {
            const code = bundleHandler(name);
            // Each client's schemas name the service's Smithy namespace once ("com.amazonaws.ec2").
            const present = ALL_SERVICES.filter((s) => code.includes(`"com.amazonaws.${s}"`));
            assert.deepEqual(present, SERVICES[name]);
        });
    }

    it("drops the schemas no command of the bundle reaches (EC2's are 550 KB whole)", () => {
        const code = bundleHandler("snapshot");
        assert.ok(code.includes("CreateSnapshots"), "a command the handler sends is there");
        assert.ok(!code.includes("AcceptTransitGatewayVpcAttachment"), "an EC2 operation no handler sends is not");
        assert.ok(code.length < 1024 * 1024, `snapshot bundle is ${code.length} bytes`);
    });

    it("takes credentials from the environment only, as Lambda provides them: no web identity, process, SSO or container source", async () => {
        for (const name of FUNCTIONS) {
            const code = bundleHandler(name);
            // Markers of the default chain's other sources (each in the bundles before): web identity, a credential
            // process, SSO, the container endpoint. (AWS_PROFILE and the metadata address stay: region resolution
            // reads them too.)
            for (const marker of ["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "credential_process", "sso_start_url", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]) {
                assert.ok(!code.includes(marker), `${name} bundle still carries ${marker}`);
            }
        }
        const { defaultProvider } = await import("../functions/lib/lambdaCredentials");
        const saved = { ...process.env };
        try {
            Object.assign(process.env, { AWS_ACCESS_KEY_ID: "ASIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "token" });
            const credentials = await defaultProvider()();
            assert.deepEqual([credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken], ["ASIAEXAMPLE", "secret", "token"]);
            delete process.env.AWS_ACCESS_KEY_ID;
            await assert.rejects(defaultProvider()(), /Unable to find environment variable credentials/);
        } finally {
            for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
            Object.assign(process.env, saved);
        }
    });

    it("case and contain answer the Start state's warm-up at once, from their bundles, with no environment and no AWS call", async () => {
        for (const name of ["case", "contain"] as const) {
            const handler = load(bundleHandler(name), name).handler as (event: unknown) => Promise<unknown>;
            assert.deepEqual(await handler(WARMUP_EVENT), WARMED, name);
            // Anything beside the warm-up key is a real (here invalid) event, refused as such.
            await assert.rejects(handler({ ...WARMUP_EVENT, case: {} }), /invalid/, name);
        }
    });

    it("literalSchemaKeys writes a computed key of a top-level string constant as the string, nothing else", () => {
        const text = ['const _xN = "xmlName";', 'const _n = "not \\"simple\\"";', "export var A$ = [3, n0, _A, 0, { [_xN]: _t, [_n]: 1, [other]: 2 }];"].join("\n");
        const out = literalSchemaKeys(text);
        assert.match(out, /\{ "xmlName": _t, \[_n\]: 1, \[other\]: 2 \}/);
        assert.ok(SCHEMA_MODULE.test("/r/node_modules/@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js"));
        assert.ok(SCHEMA_MODULE.test("/r/node_modules/@aws-sdk/nested-clients/dist-es/submodules/sts/schemas/schemas_0.js"));
        assert.ok(!SCHEMA_MODULE.test("/r/node_modules/@aws-sdk/client-ec2/dist-cjs/schemas/schemas_0.js"));
    });
});

describe("Lambda bundles kept between processes", function () {
    this.timeout(120_000);
    let dir: string;
    const cacheFile = () => path.join(dir, "bundles.json");
    const readKept = () => JSON.parse(fs.readFileSync(cacheFile(), "utf8")) as { inputs: Record<string, string>; outputs: Record<string, string> };
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-bundles-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("keeps the set with every file esbuild read (the handlers, core, the SDK) and the lockfile, each with its sha256", () => {
        const built = bundleAll(dir);
        const kept = readKept();
        for (const name of FUNCTIONS) assert.equal(kept.outputs[name], built.get(name));
        for (const input of ["functions/memory/memory.ts", "core/workflow.ts", "package-lock.json"]) assert.match(kept.inputs[input] ?? "", /^[0-9a-f]{64}$/, input);
        assert.ok(Object.keys(kept.inputs).some((input) => input.startsWith("node_modules/@aws-sdk/client-ec2/")), "the SDK is an input");
    });

    it("uses the kept set while every input is unchanged; refuses it when an input changed, or when it is not a bundle set", () => {
        const kept = readKept();
        kept.outputs.case = "/* kept */";
        fs.writeFileSync(cacheFile(), JSON.stringify(kept));
        assert.equal(bundleAll(dir).get("case"), "/* kept */", "read from the cache");
        assert.equal(readCache(dir)?.get("case"), "/* kept */");

        // Each refusal is checked without building (a build takes seconds); the next test builds over one.
        const refused = (why: string, text: string) => {
            fs.writeFileSync(cacheFile(), text);
            assert.equal(readCache(dir), undefined, why);
        };
        refused("an input changed", JSON.stringify({ ...kept, inputs: { ...kept.inputs, "core/workflow.ts": "0".repeat(64) } }));
        refused("an input gone", JSON.stringify({ ...kept, inputs: { ...kept.inputs, "core/gone.ts": "0".repeat(64) } }));
        refused("another esbuild or options", JSON.stringify({ ...kept, key: "another esbuild" }));
        refused("a handler missing", JSON.stringify({ ...kept, outputs: { ...kept.outputs, seal: undefined } }));
        refused("truncated", "{\"key\": \"another esbuild\", ");
        fs.rmSync(cacheFile());
        assert.equal(readCache(dir), undefined, "no file");
    });

    it("builds anew over a refused set and keeps the new one; DFIR_BUNDLE_CACHE=off names no cache directory", () => {
        fs.writeFileSync(cacheFile(), "{\"key\": \"another esbuild\", ");
        const built = bundleAll(dir);
        assert.equal(typeof load(built.get("seal") as string, "seal").handler, "function");
        assert.equal(readKept().outputs.seal, built.get("seal"), "kept again");
        assert.equal(cacheDirFor("off"), undefined);
        assert.equal(cacheDirFor(undefined), DEFAULT_BUNDLE_CACHE_DIR);
        assert.equal(cacheDirFor(""), DEFAULT_BUNDLE_CACHE_DIR);
        assert.equal(cacheDirFor("rel/dir"), path.resolve("rel/dir"));
    });
});
