/**
 * The project's own stacks as `npm run stack:resources -- --stack NAME` prints them, for the test files that judge them
 * (the pack over gRPC, the membership and egress rules). Each run of the command runs the whole program under mocks in a
 * process of its own (about 2.5 s of CPU); five files asked for the same two stacks, so the output is produced once per
 * set of inputs and kept in `node_modules/.cache/stack-resources/`, named by the sha256 of everything it depends on: the
 * program's sources (index.ts, components/, core/, functions/, scripts/), the stack's config files, tsconfig.json and
 * the lock file. Any change to them produces it anew. Two test workers asking at once may both produce it; each writes
 * a file of its own and renames it into place, so a reader never sees half of one.
 * test/stack-resources.test.ts runs the command itself, every time.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { TS_REGISTER } from "../../scripts/lib/tsRegister";

const REPO = path.join(__dirname, "..", "..");
const CACHE = path.join(REPO, "node_modules", ".cache", "stack-resources");
const SOURCE_DIRS = ["components", "core", "functions", "scripts"];
const SOURCE_FILE = /\.(ts|js|sh|json|ya?ml)$/;

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) return filesUnder(full);
        return SOURCE_FILE.test(entry.name) ? [full] : [];
    });
}

/** The sha256 of every input of `stack:resources --stack <stack>`, each file by its path and bytes. */
export function stackInputsSha256(stack: string, repo = REPO): string {
    const files = [
        ...["index.ts", "tsconfig.json", "package-lock.json", "Pulumi.yaml", `Pulumi.${stack}.yaml`].map((f) => path.join(repo, f)),
        ...SOURCE_DIRS.flatMap((dir) => filesUnder(path.join(repo, dir))),
    ].sort();
    const hash = createHash("sha256");
    for (const file of files) {
        hash.update(`${path.relative(repo, file)}\0`);
        hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "(absent)");
        hash.update("\0");
    }
    return hash.digest("hex");
}

/** The command's stdout for `stack` (its JSON text): from the cache when its inputs are unchanged, else run now. */
export function stackResourcesText(stack: string): string {
    const file = path.join(CACHE, `${stack}-${stackInputsSha256(stack)}.json`);
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    const out = spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/stack-resources.ts", "--stack", stack], {
        cwd: REPO, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    if (out.status !== 0) throw new Error(`stack:resources --stack ${stack} exited ${out.status ?? out.signal}: ${out.stderr}`);
    JSON.parse(out.stdout); // only a whole answer is kept
    fs.mkdirSync(CACHE, { recursive: true });
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, out.stdout);
    fs.renameSync(partial, file);
    for (const old of fs.readdirSync(CACHE)) if (old.startsWith(`${stack}-`) && old.endsWith(".json") && path.join(CACHE, old) !== file) fs.rmSync(path.join(CACHE, old), { force: true });
    return out.stdout;
}

/** The stack's resources, parsed anew for each caller (callers mutate them). */
export function stackResources<T = Record<string, any>>(stack: string): T[] {
    return JSON.parse(stackResourcesText(stack)) as T[];
}
