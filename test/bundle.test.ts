import { strict as assert } from "node:assert";
import Module from "node:module";
import { bundleHandler, type FunctionName } from "../components/bundle";

const FUNCTIONS: FunctionName[] = ["triage", "case", "contain", "snapshot", "memory", "metadata", "seal"];

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
