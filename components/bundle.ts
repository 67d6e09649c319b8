import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";

/** Names of the Lambda handlers under functions/<name>/index.ts. */
export type FunctionName = "triage" | "case" | "contain" | "snapshot" | "memory" | "metadata" | "seal" | "digest";
export const FUNCTION_NAMES: readonly FunctionName[] = ["triage", "case", "contain", "snapshot", "memory", "metadata", "seal", "digest"];

const ROOT = path.join(__dirname, "..");
/** Where bundles are kept between processes (`DFIR_BUNDLE_CACHE=off` turns it off; any other value is a directory). */
export const DEFAULT_BUNDLE_CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "aws-dfir-bundles");

const OPTIONS = {
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    legalComments: "none",
    write: false,
    // The SDK's ES modules (`module`) before its CommonJS build (`main`): esbuild tree-shakes ES modules, so a bundle keeps
    // only the clients and commands its handler uses (the @aws-sdk packages declare `sideEffects: false`).
    mainFields: ["module", "main"],
    // In Lambda the default credential chain always ends at the environment (functions/lib/lambdaCredentials.ts).
    alias: { "@aws-sdk/credential-provider-node": "./functions/lib/lambdaCredentials.ts" },
    logLevel: "silent",
} as const satisfies esbuild.BuildOptions;

/**
 * The SDK's generated schema modules (`@aws-sdk/<client>/dist-es/schemas/schemas_N.js`, one per service, 550 KB for
 * EC2) key their objects by top-level string constants (`{ [_xN]: _tGVA }` with `const _xN = "xmlName"`). esbuild
 * counts a computed key as a possible side effect, so it keeps every schema of the service, whichever commands the
 * handler sends. `literalSchemaKeys` writes each such key as its string (`{ "xmlName": _tGVA }`): the same object
 * (a `const` cannot change), and esbuild then drops the schemas no command of the bundle reaches.
 */
export const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/].+[\\/]dist-es[\\/](?:submodules[\\/][^\\/]+[\\/])?schemas[\\/]schemas_\d+\.js$/;

export function literalSchemaKeys(text: string): string {
    const strings = new Map<string, string>();
    for (const m of text.matchAll(/^const (_[A-Za-z0-9_]*) = ("[^"\\\n]*");$/gm)) strings.set(m[1], m[2]);
    return text.replace(/\[(_[A-Za-z0-9_]*)\]:/g, (whole: string, name: string) => strings.get(name) !== undefined ? `${strings.get(name)}:` : whole);
}

/** What a cached bundle set is valid for: esbuild's version, its options and the handlers (the inputs are checked apart). */
const CACHE_KEY = createHash("sha256").update(JSON.stringify({ esbuild: esbuild.version, options: OPTIONS, names: FUNCTION_NAMES, schemaKeys: literalSchemaKeys.toString() })).digest("hex");

/**
 * Files that decide how imports resolve without being read as code (an upgrade can point an import at another file
 * and leave every file read before unchanged): a kept set is also checked against them.
 */
const RESOLUTION_INPUTS = ["package-lock.json", "tsconfig.json"];

interface CacheFile {
    key: string;
    /** Every file esbuild read (paths relative to the repo root), with its sha256. */
    inputs: Record<string, string>;
    outputs: Record<FunctionName, string>;
}

let bundles: Map<FunctionName, string> | undefined;

/**
 * Bundle a handler with esbuild into one CommonJS file for nodejs22.x. The AWS SDK is bundled too rather than
 * taken from the runtime, so the code that runs is the code that was tested (pinned by the lockfile).
 * All handlers are bundled in one esbuild build (the SDK is parsed once), once per process (a multi-region program
 * asks for each handler per region), and kept on disk between processes: a kept set is used only when every file
 * esbuild read for it still has the same sha256 and esbuild and its options are the same, else it is built anew.
 */
export function bundleHandler(name: FunctionName): string {
    bundles ??= bundleAll(cacheDir());
    const code = bundles.get(name);
    if (code === undefined) throw new Error(`no Lambda handler named ${JSON.stringify(name)}`);
    return code;
}

function cacheDir(): string | undefined {
    return cacheDirFor(process.env.DFIR_BUNDLE_CACHE);
}

/** Where a DFIR_BUNDLE_CACHE setting keeps bundles: none for "off", the default when unset or empty. */
export function cacheDirFor(setting: string | undefined): string | undefined {
    if (setting === "off") return undefined;
    return setting === undefined || setting === "" ? DEFAULT_BUNDLE_CACHE_DIR : path.resolve(setting);
}

/** Every handler's bundle: from the cache in `dir` when it is still valid, else built (and kept there). */
export function bundleAll(dir: string | undefined): Map<FunctionName, string> {
    const kept = dir === undefined ? undefined : readCache(dir);
    if (kept !== undefined) return kept;
    const result = build();
    const outputs = {} as Record<FunctionName, string>;
    for (const [file, text] of Object.entries(result.outputs)) outputs[path.basename(file, ".js") as FunctionName] = text;
    for (const name of FUNCTION_NAMES) if (outputs[name] === undefined) throw new Error(`esbuild wrote no bundle for ${name}`);
    if (dir !== undefined) {
        const inputs: Record<string, string> = {};
        for (const input of [...result.inputs, ...RESOLUTION_INPUTS]) {
            if (fs.existsSync(path.join(ROOT, input))) inputs[input] = sha256File(path.join(ROOT, input));
        }
        writeCache(dir, { key: CACHE_KEY, inputs, outputs });
    }
    return new Map(FUNCTION_NAMES.map((name) => [name, outputs[name]]));
}

/** A build's bundles (output path -> code) and every file esbuild read (relative to the repo root). */
interface BuildResult {
    outputs: Record<string, string>;
    inputs: string[];
}

/**
 * The build runs in a child node process: `literalSchemaKeys` is an esbuild plugin, which only esbuild's
 * asynchronous API runs, and the Pulumi program asks for its handlers synchronously.
 */
function build(): BuildResult {
    const options = {
        ...OPTIONS,
        absWorkingDir: ROOT,
        entryPoints: FUNCTION_NAMES.map((name) => ({ in: path.join("functions", name, "index.ts"), out: name })),
        outdir: path.join(ROOT, "bin", "functions"),
        metafile: true,
    };
    const worker = `
const esbuild = require(${JSON.stringify(require.resolve("esbuild"))});
const fs = require("node:fs");
const literalSchemaKeys = ${literalSchemaKeys.toString()};
const options = ${JSON.stringify(options)};
const plugin = { name: "literal-schema-keys", setup(b) {
    b.onLoad({ filter: new RegExp(${JSON.stringify(SCHEMA_MODULE.source)}) }, (args) => ({ contents: literalSchemaKeys(fs.readFileSync(args.path, "utf8")), loader: "js" }));
} };
esbuild.build({ ...options, plugins: [plugin] }).then((r) => {
    const outputs = Object.fromEntries(r.outputFiles.map((f) => [f.path, f.text]));
    process.stdout.write(JSON.stringify({ outputs, inputs: Object.keys(r.metafile.inputs) }));
}, (e) => { process.stderr.write(String(e && e.message || e)); process.exitCode = 1; });`;
    const child = spawnSync(process.execPath, ["-e", worker], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "" } });
    if (child.status !== 0) throw new Error(`bundling the handlers failed: ${(child.error?.message ?? child.stderr ?? "").trim().split("\n").slice(0, 3).join(" ")}`);
    return JSON.parse(child.stdout) as BuildResult;
}

function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The kept bundles, or undefined when there are none or any input changed (a file unreadable counts as changed). */
export function readCache(dir: string): Map<FunctionName, string> | undefined {
    let cached: CacheFile;
    try {
        cached = JSON.parse(fs.readFileSync(path.join(dir, "bundles.json"), "utf8")) as CacheFile;
    } catch {
        return undefined;
    }
    if (cached?.key !== CACHE_KEY || typeof cached.inputs !== "object" || typeof cached.outputs !== "object") return undefined;
    for (const [input, sha256] of Object.entries(cached.inputs)) {
        try {
            if (sha256File(path.join(ROOT, input)) !== sha256) return undefined;
        } catch {
            return undefined;
        }
    }
    if (!FUNCTION_NAMES.every((name) => typeof cached.outputs[name] === "string")) return undefined;
    return new Map(FUNCTION_NAMES.map((name) => [name, cached.outputs[name]]));
}

/** Keep the bundles: written whole then renamed, so a concurrent reader sees the old set or the new one. Best effort. */
function writeCache(dir: string, content: CacheFile): void {
    const file = path.join(dir, "bundles.json");
    const temp = `${file}.${process.pid}.tmp`;
    try {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(temp, JSON.stringify(content));
        fs.renameSync(temp, file);
    } catch {
        fs.rmSync(temp, { force: true });
    }
}

/** The Lambda deployment package of a handler: `index.js` exporting `handler`. */
export function handlerArchive(name: FunctionName, files: Readonly<Record<string, string>> = {}): pulumi.asset.AssetArchive {
    const extra = Object.fromEntries(Object.entries(files).map(([file, text]) => [file, new pulumi.asset.StringAsset(text)]));
    return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleHandler(name)), ...extra });
}
