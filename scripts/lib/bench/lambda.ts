/**
 * Lambda bundles: each handler bundled exactly as deployed (components/bundle.ts `bundleHandler`), its size in
 * bytes, and its cold init measured locally: a fresh node process requiring the bundled index.js (the time of
 * the `require` alone, the module load Lambda's init phase does), median of `runs` processes.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundleHandler, FUNCTION_NAMES } from "../../../components/bundle";

const PROBE = `const { performance } = require("node:perf_hooks");
const t = performance.now();
const m = require(process.argv[1]);
const ms = performance.now() - t;
if (typeof m.handler !== "function") { console.error("no handler export"); process.exit(3); }
process.stdout.write(JSON.stringify({ ms }));`;

export interface LambdaBench {
    bundleBytes: Record<string, number>;
    initMs: Record<string, number>;
    runs: number;
}

export function benchLambda(runs = 3): LambdaBench {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-bench-lambda-"));
    try {
        const bundleBytes: Record<string, number> = {};
        const initMs: Record<string, number> = {};
        for (const name of FUNCTION_NAMES) {
            const code = bundleHandler(name);
            bundleBytes[name] = Buffer.byteLength(code);
            const file = path.join(dir, name, "index.js");
            fs.mkdirSync(path.dirname(file));
            fs.writeFileSync(file, code);
            const samples: number[] = [];
            for (let i = 0; i < runs; i++) {
                // A clean environment: no ts-node, no NODE_OPTIONS; cwd outside the repo (nothing to resolve there).
                const child = spawnSync(process.execPath, ["-e", PROBE, file], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1" } });
                if (child.status !== 0) throw new Error(`${name}: loading the bundle failed: ${(child.stderr || "").trim().split("\n").slice(-2).join(" ")}`);
                samples.push((JSON.parse(child.stdout) as { ms: number }).ms);
            }
            samples.sort((a, b) => a - b);
            initMs[name] = Math.round(samples[Math.floor(samples.length / 2)] * 10) / 10;
        }
        return { bundleBytes, initMs, runs };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
