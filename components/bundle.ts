import * as path from "node:path";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";

/** Names of the Lambda handlers under functions/<name>/index.ts. */
export type FunctionName = "triage" | "case" | "contain" | "snapshot" | "memory" | "metadata" | "seal";

const cache = new Map<FunctionName, string>();

/**
 * Bundle a handler with esbuild into one CommonJS file for nodejs22.x. The AWS SDK is bundled too rather than
 * taken from the runtime, so the code that runs is the code that was tested (pinned by the lockfile).
 * Cached per process: a multi-region program bundles each handler once.
 */
export function bundleHandler(name: FunctionName): string {
    const hit = cache.get(name);
    if (hit !== undefined) return hit;
    const result = esbuild.buildSync({
        entryPoints: [path.join(__dirname, "..", "functions", name, "index.ts")],
        bundle: true,
        platform: "node",
        target: "node22",
        format: "cjs",
        minify: true,
        legalComments: "none",
        write: false,
        logLevel: "silent",
    });
    const code = result.outputFiles[0].text;
    cache.set(name, code);
    return code;
}

/** The Lambda deployment package of a handler: `index.js` exporting `handler`. */
export function handlerArchive(name: FunctionName): pulumi.asset.AssetArchive {
    return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleHandler(name)) });
}
