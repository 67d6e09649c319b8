import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

const FUNCTIONS = path.join(__dirname, "..", "functions");
/** What two functions share lives in functions/lib (or core/), never in one of them. */
const SHARED = "lib";

/** Every module specifier of a TypeScript file: static and dynamic imports, re-exports, require. */
export function specifiersOf(source: string): string[] {
    const found: string[] = [];
    const patterns = [/\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g];
    for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
    return found;
}

function filesUnder(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? filesUnder(full) : /\.[cm]?[jt]s$/.test(entry.name) ? [full] : [];
    });
}

/** `owner` imports from a function folder other than its own: `file: specifier` for each. */
function crossings(owner: string): string[] {
    const bad: string[] = [];
    for (const file of filesUnder(path.join(FUNCTIONS, owner))) {
        for (const specifier of specifiersOf(fs.readFileSync(file, "utf8"))) {
            if (!specifier.startsWith(".")) continue;
            const target = path.relative(FUNCTIONS, path.resolve(path.dirname(file), specifier));
            const folder = target.split(path.sep)[0];
            if (target.startsWith("..") || folder === owner || folder === SHARED) continue;
            bad.push(`${path.relative(FUNCTIONS, file)}: ${specifier}`);
        }
    }
    return bad;
}

describe("functions do not import each other's modules", () => {
    const folders = fs.readdirSync(FUNCTIONS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

    it("finds every kind of import (the check can fail)", () => {
        const source = [
            'import { a } from "../contain/event";',
            'import type { B } from "../contain/errors";',
            'export { c } from "../snapshot/copy";',
            'import "../seal/seal";',
            'const d = require("../memory/memory");',
            'const e = await import("../metadata/metadata");',
        ].join("\n");
        assert.deepEqual(specifiersOf(source).sort(), ["../contain/errors", "../contain/event", "../memory/memory", "../metadata/metadata", "../seal/seal", "../snapshot/copy"]);
    });

    for (const owner of folders) {
        it(`functions/${owner}/ imports only its own modules, functions/${SHARED}/, core/ and packages`, () => {
            assert.deepEqual(crossings(owner), []);
        });
    }

    it("covers every function (a handler is functions/<name>/index.ts)", () => {
        for (const name of ["triage", "case", "contain", "snapshot", "memory", "metadata", "seal"]) assert.ok(folders.includes(name), name);
    });
});
