/** Program scale under mocks: scripts/bench-program.ts spawned with `--json` (its own process per size). */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { TS_REGISTER } from "../tsRegister";

const SCRIPT = path.resolve(__dirname, "..", "..", "bench-program.ts");

export interface ProgramBench {
    programSeconds: Record<string, number>;
    rows: { memberRegions: number; resources: number; seconds: number }[];
}

export function benchProgram(sizes: number[]): ProgramBench {
    const child = spawnSync(process.execPath, ["-r", TS_REGISTER, SCRIPT, "--sizes", sizes.join(","), "--json"], {
        cwd: path.resolve(__dirname, "..", "..", ".."),
        encoding: "utf8",
        maxBuffer: 1 << 26,
    });
    if (child.status !== 0) throw new Error(`bench-program failed: ${(child.stderr || "").trim().split("\n").slice(-2).join(" ")}`);
    const out = JSON.parse(child.stdout.trim().split("\n").pop() as string) as ProgramBench;
    return { programSeconds: out.programSeconds, rows: out.rows };
}
