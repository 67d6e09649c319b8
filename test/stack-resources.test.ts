import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordedResource } from "./support/pulumi-mocks";
import { devProgram } from "./support/dev-program";
import type { StackResource } from "../scripts/stack-resources";
import { TS_REGISTER } from "../scripts/lib/tsRegister";
import { stackInputsSha256, stackResourcesText } from "./support/stack-resources";

const REPO = path.resolve(__dirname, "..");
const UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/**
 * The command exactly as `npm run stack:resources` runs it (same node, same loader), in `cwd` (the project
 * directory: the repository, or a temporary project).
 */
function runCommand(args: string[], cwd = REPO): Promise<Run> {
    return new Promise((resolve) => {
        execFile(process.execPath, ["-r", TS_REGISTER, path.join(REPO, "scripts/stack-resources.ts"), ...args], {
            cwd,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
            encoding: "utf8",
            maxBuffer: 512 * 1024 * 1024,
            timeout: 120_000,
        }, (error, stdout, stderr) => {
            resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
        });
    });
}

/** A temporary project directory: `Pulumi.yaml` (optionally with a `main`) and stack files. */
function tempProject(main: string | undefined, stacks: Record<string, string>, files: Record<string, string> = {}): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "stack-resources-"));
    writeFileSync(path.join(dir, "Pulumi.yaml"), `name: aws-dfir\nruntime: nodejs\n${main ? `main: ${main}\n` : ""}`);
    for (const [stack, text] of Object.entries(stacks)) writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    return dir;
}

function assertBadInput(run: Run, pattern: RegExp): void {
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stdout, "");
    const lines = run.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], /^stack:resources: /);
    assert.match(lines[0], pattern);
}

describe("npm run stack:resources -- --stack dev", () => {
    let run: Run;
    let resources: StackResource[];
    let inProcess: RecordedResource[];
    const byUrn = new Map<string, StackResource>();
    const only = (type: string, name: string): StackResource => {
        const hits = resources.filter((r) => r.type === type && r.name === name);
        assert.equal(hits.length, 1, `expected one ${type} named ${name}, found ${hits.length}`);
        return hits[0];
    };

    before(async function () {
        this.timeout(180_000);
        // One process for every assertion below (each run bundles the eight handlers: ~10 s); meanwhile the same
        // program runs in this process under the same mocks, as test/program.test.ts runs it.
        const spawned = runCommand(["--stack", "dev"]);
        inProcess = (await devProgram()).resources;
        run = await spawned;
        assert.equal(run.status, 0, run.stderr);
        resources = JSON.parse(run.stdout);
        for (const r of resources) byUrn.set(r.urn, r);
    });

    it("prints one JSON array on one line, and nothing else on stdout", () => {
        assert.ok(Array.isArray(resources));
        assert.equal(run.stdout.indexOf("\n"), run.stdout.length - 1);
        assert.ok(resources.length > 60, `${resources.length} resources`);
    });

    it("is what the tests' shared copy (test/support/stack-resources.ts) gives for dev", () => {
        assert.equal(stackResourcesText("dev"), run.stdout);
    });

    it("gives every record the contract's fields, with unique urns", () => {
        for (const r of resources) {
            assert.deepEqual(Object.keys(r).sort(), ["dependencies", "name", "parent", "propertyDependencies", "props", "provider", "type", "urn"], r.urn);
            for (const k of ["type", "name", "urn", "parent", "provider"] as const) assert.equal(typeof r[k], "string", `${r.urn} ${k}`);
            assert.equal(typeof r.props, "object", r.urn);
            assert.ok(Array.isArray(r.dependencies), r.urn);
            for (const urns of Object.values(r.propertyDependencies)) assert.ok(Array.isArray(urns) && urns.length > 0, r.urn);
            assert.ok(r.urn.startsWith("urn:pulumi:dev::aws-dfir::") && r.urn.endsWith(`::${r.name}`), r.urn);
            assert.equal(r.urn.split("::")[2].split("$").pop(), r.type, r.urn);
        }
        assert.equal(byUrn.size, resources.length);
    });

    it("registers exactly the resources the in-process program test registers, plus the stack and its default provider", () => {
        const names = inProcess.map((r) => `${r.type}::${r.name}`).sort();
        const spawned = resources.filter((r) => !r.type.startsWith("pulumi:")).map((r) => `${r.type}::${r.name}`).sort();
        assert.deepEqual(spawned, names);
        assert.deepEqual(resources.filter((r) => r.type.startsWith("pulumi:")).map((r) => `${r.type}::${r.name}`),
            ["pulumi:pulumi:Stack::aws-dfir-dev", "pulumi:providers:aws::default_7_48_0"]);
    });

    it("prints the inputs the mocks received as props", () => {
        const inputs = new Map(inProcess.map((r) => [`${r.type}::${r.name}`, r.inputs]));
        let compared = 0;
        for (const r of resources) {
            // Lambda code is an archive: the mocks get Asset objects, the record its wire form (checked below).
            if (r.type.startsWith("pulumi:") || r.type === "aws:lambda/function:Function") continue;
            assert.deepEqual(r.props, JSON.parse(JSON.stringify(inputs.get(`${r.type}::${r.name}`))), r.urn);
            compared++;
        }
        assert.ok(compared > 50);
        const contain = only("aws:lambda/function:Function", "dfir-response-contain");
        const code = contain.props.code as { [sig: string]: unknown; assets: Record<string, Record<string, unknown>> };
        assert.equal(code["4dabf18193072939515e22adb298388d"], "0def7320c3a5731c473e5ecbe6d01bc7");
        const index = code.assets["index.js"];
        assert.deepEqual(Object.keys(index).sort(), ["4dabf18193072939515e22adb298388d", "text"]);
        assert.match(index.text as string, /handler/);
    });

    it("roots the tree at the stack: the stack has no parent and every component's parent chain ends there", () => {
        const stack = resources[0];
        assert.equal(stack.type, "pulumi:pulumi:Stack");
        assert.equal(stack.urn, "urn:pulumi:dev::aws-dfir::pulumi:pulumi:Stack::aws-dfir-dev");
        assert.equal(stack.parent, "");
        for (const r of resources) {
            if (r.type.startsWith("pulumi:")) continue;
            const chain: string[] = [];
            for (let at: StackResource | undefined = r; at && at.parent !== ""; at = byUrn.get(at.parent)) {
                assert.ok(byUrn.has(at.parent), `${at.urn}: parent ${at.parent} not printed`);
                chain.push(at.parent);
            }
            assert.equal(chain[chain.length - 1], stack.urn, r.urn);
        }
        const components = resources.filter((r) => r.type.startsWith("dfir:"));
        assert.equal(components.length, 5);
        for (const c of components) assert.equal(c.parent, stack.urn, c.urn);
    });

    it("names only printed resources as dependencies", () => {
        for (const r of resources) {
            for (const urn of [...r.dependencies, ...Object.values(r.propertyDependencies).flat()]) assert.ok(byUrn.has(urn), `${r.urn} -> ${urn}`);
            for (const urns of Object.values(r.propertyDependencies)) for (const urn of urns) assert.ok(r.dependencies.includes(urn), `${r.urn} -> ${urn}`);
        }
    });

    it("links the evidence bucket's lock configuration and public access block to it through propertyDependencies.bucket", () => {
        const store = only("dfir:storage:EvidenceStore", "dfir-evidence");
        const bucket = only("aws:s3/bucket:Bucket", "dfir-evidence");
        const lock = only("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "dfir-evidence-lock");
        const block = only("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dfir-evidence-public-access");
        assert.equal(bucket.props.objectLockEnabled, true);
        assert.deepEqual(lock.propertyDependencies.bucket, [bucket.urn]);
        assert.deepEqual(block.propertyDependencies.bucket, [bucket.urn]);
        for (const r of [bucket, lock, block]) assert.equal(r.parent, store.urn);
        assert.deepEqual(lock.props.rule, { defaultRetention: { days: 365, mode: "COMPLIANCE" } });
        for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(block.props[k], true, k);
        // dependsOn: [versioning] is kept alongside the input dependency.
        assert.ok(lock.dependencies.includes(only("aws:s3/bucketVersioning:BucketVersioning", "dfir-evidence-versioning").urn));
    });

    it("points each isolation and untrack rule at its own group through propertyDependencies.securityGroupId", () => {
        const groups = { isolation: only("aws:ec2/securityGroup:SecurityGroup", "dfir-isolation-isolation"), untrack: only("aws:ec2/securityGroup:SecurityGroup", "dfir-isolation-untrack") };
        for (const [role, group] of Object.entries(groups)) {
            const rules = resources.filter((r) => r.type.startsWith("aws:vpc/securityGroup") && r.name.startsWith(`dfir-isolation-${role}-`));
            assert.ok(rules.length >= 2, role);
            for (const rule of rules) assert.deepEqual(rule.propertyDependencies.securityGroupId, [group.urn], rule.urn);
        }
    });

    it("sets the default aws provider on every custom resource, with the stack's region, and none on components", () => {
        const provider = only("pulumi:providers:aws", "default_7_48_0");
        assert.equal(provider.urn, "urn:pulumi:dev::aws-dfir::pulumi:providers:aws::default_7_48_0");
        assert.deepEqual(provider.props, { region: "us-east-1", version: "7.48.0" });
        assert.equal(provider.parent, "");
        assert.ok(resources.indexOf(provider) < resources.findIndex((r) => r.type.startsWith("aws:")));
        for (const r of resources) {
            const expected: string = r.type.startsWith("aws:") ? `${provider.urn}::${UNKNOWN_ID}` : "";
            assert.equal(r.provider, expected, r.urn);
        }
    });
});

describe("npm run stack:resources: bad input and failures", () => {
    const temps: string[] = [];
    after(() => {
        for (const dir of temps) rmSync(dir, { recursive: true, force: true });
    });

    it("exits 2 with one line and no output without --stack, or for a stack with no Pulumi.NAME.yaml", async () => {
        const [none, unknown] = await Promise.all([runCommand([]), runCommand(["--stack", "nope"])]);
        assertBadInput(none, /no --stack given/);
        assertBadInput(unknown, /no stack nope: Pulumi\.nope\.yaml not found \(stacks: .*\bdev\b/);
    });

    it("exits 2 on a config error of the program (unknown dfir: key) before registering anything", async () => {
        const dir = tempProject(REPO, {
            bad: "config:\n  aws:region: eu-west-1\n  dfir:vpcId: vpc-0123456789abcdef0\n  dfir:minSeverty: 5\n",
        });
        temps.push(dir);
        assertBadInput(await runCommand(["--stack", "bad"], dir), /unknown config key dfir:minSeverty \(known keys: /);
    });

    it("exits 1 with one line when the program registers a type the mocks do not implement", async () => {
        const aws = JSON.stringify(require.resolve("@pulumi/aws"));
        const dir = tempProject("program.js", {
            gap: "config:\n  aws:region: eu-west-1\n  dfir:vpcId: vpc-0123456789abcdef0\n",
        }, {
            "program.js": `const aws = require(${aws});\nnew aws.ec2.NatGateway("nat", { subnetId: "subnet-1" });\n`,
        });
        temps.push(dir);
        const run = await runCommand(["--stack", "gap"], dir);
        assert.equal(run.status, 1, run.stderr);
        assert.equal(run.stdout, "");
        assert.deepEqual(run.stderr.split("\n").filter((l) => l !== ""),
            ["stack:resources: 1 registration(s) failed, first aws:ec2/natGateway:NatGateway nat: Mock not implemented: aws:ec2/natGateway:NatGateway"]);
    });
});

describe("the tests' shared copy of a stack's resources (test/support/stack-resources.ts)", () => {
    it("is keyed by every input of the program: a changed source or stack config is another key, a doc is not", () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), "stack-inputs-"));
        try {
            const write = (file: string, text: string) => {
                mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
                writeFileSync(path.join(dir, file), text);
            };
            write("index.ts", "export {};\n");
            write("Pulumi.dev.yaml", "config: {}\n");
            write("core/a.ts", "export const a = 1;\n");
            const first = stackInputsSha256("dev", dir);
            write("docs/x.md", "notes\n");
            assert.equal(stackInputsSha256("dev", dir), first, "a doc is not an input");
            write("core/a.ts", "export const a = 2;\n");
            const changed = stackInputsSha256("dev", dir);
            assert.notEqual(changed, first, "a source under core/");
            write("Pulumi.prod.yaml", "config: {}\n");
            assert.equal(stackInputsSha256("dev", dir), changed, "another stack's config is not an input of dev");
            write("Pulumi.dev.yaml", "config: {a: 1}\n");
            assert.notEqual(stackInputsSha256("dev", dir), changed, "the stack's own config");
            write("functions/memory/capture.sh", "#!/bin/bash\n");
            assert.notEqual(stackInputsSha256("dev", dir), changed);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
