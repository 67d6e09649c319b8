/**
 * Bytes the memory capture writes to the suspect's disk: functions/memory/capture.sh run as in
 * test/ssm-document.test.ts (a stand-in avml, scripts/lib/avmlStandIn.ts, that writes N bytes to its output, a stand-in `aws s3 cp` that reads
 * the upload from stdin into a fake bucket), with the "suspect disk" a directory that HOME, TMPDIR and the working
 * directory point into, the RAM dir, the bucket and the stand-ins elsewhere. Every file under the disk directory
 * is listed (size) before and after; bytes of files created or grown during the capture are counted.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { memoryKeyPrefix, memoryObjectKeys } from "../../../core/ssmDocument";
import { makeAvmlStandIn } from "../avmlStandIn";

const REPO = path.resolve(__dirname, "..", "..", "..");
const SCRIPT = path.join(REPO, "functions", "memory", "capture.sh");
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const BUCKET = "dfir-evidence-123456789012-eu-west-1";
const CASE_ID = "i-0123456789abcdef0-3f2a9c1b7d4e";
const INSTANCE_ID = "i-0123456789abcdef0";
const AVML_KEY = "tools/avml-bench";

/** The stand-in avml's behaviour (scripts/lib/avmlStandIn.ts): BENCH_IMAGE_BYTES zero bytes into FILENAME. */
const FAKE_AVML = `head -c "$BENCH_IMAGE_BYTES" /dev/zero >"$avml_out"
`;

const FAKE_AWS = `#!/usr/bin/env bash
set -euo pipefail
if [[ $# -eq 1 && $1 == --version ]]; then
    echo "aws-cli/2.27.50 Python/3.13.4 Linux/6.1.0 exe/x86_64.amzn.2023"
    exit 0
fi
src=$3
dst=$4
location() { printf '%s/%s' "$FAKE_S3_ROOT" "\${1#s3://}"; }
if [[ $src == - ]]; then
    target=$(location "$dst")
    mkdir -p "$(dirname "$target")"
    cat >"$target"
else
    cp -- "$(location "$src")" "$dst"
fi
`;

export interface CaptureBench {
    imageBytes: number;
    uploadedBytes: number;
    suspectDiskBytes: number;
    /** Files created or grown under the suspect disk (relative paths). */
    diskFiles: string[];
    exitCode: number | null;
    seconds: number;
}

function sizes(dir: string): Map<string, number> {
    const out = new Map<string, number>();
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) walk(full);
            else out.set(path.relative(dir, full), fs.lstatSync(full).size);
        }
    };
    walk(dir);
    return out;
}

export function benchCapture(imageBytes: number): CaptureBench {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-bench-capture-"));
    try {
        const dirs = Object.fromEntries(["bin", "s3", "ram", "disk", "disk/home", "disk/tmp", "disk/cwd"].map((name) => [name, path.join(root, name)]));
        for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dirs.bin, "aws"), FAKE_AWS, { mode: 0o755 });
        const avmlObject = path.join(dirs.s3, BUCKET, ...AVML_KEY.split("/"));
        fs.mkdirSync(path.dirname(avmlObject), { recursive: true });
        const avml = makeAvmlStandIn(path.join(root, "avml"), FAKE_AVML);
        fs.writeFileSync(avmlObject, avml.bytes, { mode: 0o644 });
        const before = sizes(dirs.disk);
        const started = process.hrtime.bigint();
        const result = spawnSync("bash", [SCRIPT], {
            cwd: dirs["disk/cwd"],
            encoding: "utf8",
            timeout: 300_000,
            env: {
                PATH: `${dirs.bin}:${SYSTEM_PATH}`,
                HOME: dirs["disk/home"],
                TMPDIR: dirs["disk/tmp"],
                FAKE_S3_ROOT: dirs.s3,
                ...avml.env,
                BENCH_IMAGE_BYTES: String(imageBytes),
                DFIR_BUCKET: BUCKET,
                DFIR_KEY_PREFIX: memoryKeyPrefix(CASE_ID),
                DFIR_AVML_KEY: AVML_KEY,
                DFIR_AVML_SHA256: avml.sha256,
                DFIR_REGION: "eu-west-1",
                DFIR_INSTANCE_ID: INSTANCE_ID,
                DFIR_RAM_DIR: dirs.ram,
            },
        });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (result.error) throw result.error;
        if (result.status !== 0) throw new Error(`capture.sh exited ${result.status}: ${(result.stderr || "").trim().split("\n").slice(-2).join(" ")}`);
        const after = sizes(dirs.disk);
        let suspectDiskBytes = 0;
        const diskFiles: string[] = [];
        for (const [file, size] of after) {
            const grown = size - (before.get(file) ?? 0);
            if (grown > 0 || !before.has(file)) {
                suspectDiskBytes += Math.max(0, grown);
                diskFiles.push(file);
            }
        }
        const image = path.join(dirs.s3, BUCKET, ...memoryObjectKeys(CASE_ID, INSTANCE_ID).image.split("/"));
        return {
            imageBytes,
            uploadedBytes: fs.existsSync(image) ? fs.statSync(image).size : 0,
            suspectDiskBytes,
            diskFiles,
            exitCode: result.status,
            seconds: Math.round(seconds * 1000) / 1000,
        };
    } finally {
        fs.rmSync(root, { recursive: true, force: true });
    }
}
