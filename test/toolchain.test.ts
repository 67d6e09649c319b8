import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const repo = path.resolve(__dirname, "..");

describe("toolchain", () => {
    it("runs the tests on Node 22 or later, whatever the machine's own Node is", () => {
        const major = Number(process.versions.node.split(".")[0]);
        assert.ok(major >= 22, `npm scripts ran on Node ${process.versions.node}; the node devDependency should provide 22`);
    });

    it("pins Node 22 in engines, .nvmrc and the node devDependency alike", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
        assert.equal(pkg.engines.node, ">=22");
        assert.match(pkg.devDependencies.node, /^\^22\./);
        assert.equal(fs.readFileSync(path.join(repo, ".nvmrc"), "utf8").trim(), "22");
    });

    it("does not depend on @pulumi/awsx (its Vpc is a remote component, opaque under mocks: docs/analyst-guide.md)", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
        for (const deps of [pkg.dependencies, pkg.devDependencies]) assert.equal(deps?.["@pulumi/awsx"], undefined);
        const lock = JSON.parse(fs.readFileSync(path.join(repo, "package-lock.json"), "utf8"));
        assert.equal(lock.packages["node_modules/@pulumi/awsx"], undefined, "the lock file still installs it");
    });

    it("imports @pulumi/aws through components/aws.ts only (its root makes tsc read every AWS service's declarations)", () => {
        const offenders: string[] = [];
        const walk = (dir: string): void => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "bin") continue;
                const file = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(file);
                else if (entry.name.endsWith(".ts") && /from\s+["']@pulumi\/aws["']|import\(["']@pulumi\/aws["']\)/.test(fs.readFileSync(file, "utf8"))) {
                    offenders.push(path.relative(repo, file));
                }
            }
        };
        walk(repo);
        assert.deepEqual(offenders, []);
    });

    it("transpiles TypeScript with swc under ts-node (tsc --noEmit checks types apart), but not for `pulumi up`", () => {
        // This very process was started by mocha through scripts/register-ts.js.
        const service = (process as unknown as Record<symbol, { options: { swc?: boolean; transpileOnly?: boolean } } | undefined>)[Symbol.for("ts-node.register.instance")];
        assert.equal(service?.options.swc, true, "ts-node runs with swc");
        assert.equal(service?.options.transpileOnly, true);
        assert.ok(process.env.NODE_COMPILE_CACHE, "the compile cache is passed on to child processes");
        // Pulumi loads the project's ts-node with tsconfig.json: swc there would turn off its type check of the program.
        const tsconfig = JSON.parse(fs.readFileSync(path.join(repo, "tsconfig.json"), "utf8"));
        assert.equal(tsconfig["ts-node"], undefined);
        const pkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
        for (const [name, script] of Object.entries(pkg.scripts as Record<string, string>)) {
            if (/^node .*\.ts\b/.test(script)) assert.match(script, /^node -r \.\/scripts\/register-ts\.js /, name);
        }
    });
});
