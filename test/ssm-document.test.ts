import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CAPTURE_MAX_PART_BYTES, CAPTURE_MIN_PART_BYTES, CAPTURE_PLANNED_PARTS, capturePartSize } from "../core/memoryParts";
import {
    AVML_VERSION,
    CAPTURE_EXIT_CODES,
    CAPTURE_TIMEOUT_SECONDS,
    MEMORY_DOCUMENT_PARAMETERS,
    MEMORY_PARAMETER_ENV,
    MEMORY_PARAMETER_PATTERNS,
    memoryCaptureDocument,
    memoryCommandParameters,
    memoryKeyPrefix,
    memoryObjectKeys,
    readCaptureScript,
    type MemoryDocumentParameter,
} from "../core/ssmDocument";
import { AVML_ELF_MACHINE } from "../core/avml";
import { makeAvmlStandIn } from "../scripts/lib/avmlStandIn";

const REPO = path.resolve(__dirname, "..");
const SCRIPT = path.join(REPO, "functions", "memory", "capture.sh");
/** The PATH behind the stand-ins: system tools only (never the developer's own `aws`). */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const BUCKET = "dfir-evidence-123456789012-eu-west-1";
const CASE_ID = "i-0123456789abcdef0-3f2a9c1b7d4e";
const INSTANCE_ID = "i-0123456789abcdef0";
const REGION = "eu-west-1";
const AVML_KEY = "tools/avml-test";

/** Absolute path of a command on the system PATH, or null. */
function which(command: string): string | null {
    const result = spawnSync("/bin/sh", ["-c", `command -v ${command}`], { env: { PATH: SYSTEM_PATH }, encoding: "utf8" });
    const found = result.stdout.trim();
    return result.status === 0 && found.startsWith("/") ? found : null;
}

const BASH = which("bash") ?? "/bin/bash";

/** shellcheck's path; in CI its absence fails the test, elsewhere the test is skipped with a message. */
function requireShellcheck(context: Mocha.Context): string {
    const found = which("shellcheck");
    if (found !== null) return found;
    if (process.env.CI) assert.fail("shellcheck required in CI (apt-get install -y shellcheck)");
    console.log("      (shellcheck is not installed: skipped; apt-get install -y shellcheck)");
    context.skip();
}

function sha256(data: Buffer | string): string {
    return createHash("sha256").update(data).digest("hex");
}

const memoryBytesMade = new Map<number, Buffer>();

/**
 * N deterministic, non-repeating bytes (a sha256 chain): the stand-in avml's "memory", made once per size (~0.1 s
 * each, and every harness needs one; nothing writes to it).
 */
function memoryBytes(size: number): Buffer {
    const made = memoryBytesMade.get(size);
    if (made) return made;
    const out = Buffer.alloc(size);
    memoryBytesMade.set(size, out);
    let block = createHash("sha256").update("aws-dfir memory").digest();
    for (let offset = 0; offset < size; offset += block.length) {
        block.copy(out, offset, 0, Math.min(block.length, size - offset));
        block = createHash("sha256").update(block).digest();
    }
    return out;
}

/**
 * The stand-in avml's behaviour (scripts/lib/avmlStandIn.ts: a copy of this machine's bash, checked as avml v0.20.0
 * checks its command line). It records each run in the call log and writes the "memory" to FILENAME, as avml writes
 * its image there.
 */
const FAKE_AVML = `line=$(printf 'avml'; printf '\\t%s' "\${avml_argv[@]}")
printf '%s\\n' "$line" >>"$FAKE_LOG"
case "\${FAKE_AVML_MODE:-ok}" in
    ok) cat -- "$FAKE_AVML_DATA" >"$avml_out" ;;
    fail-mid)
        head -c "$(($(wc -c <"$FAKE_AVML_DATA") / 2))" -- "$FAKE_AVML_DATA" >"$avml_out"
        echo "avml: unable to read memory" >&2
        exit 1
        ;;
    fail-start)
        echo "Error: unable to create memory snapshot from source: /proc/kcore" >&2
        exit 1
        ;;
    empty) : >"$avml_out" ;;
esac
`;

/**
 * The stand-in aws: \`--version\` (FAKE_AWS_VERSION) and \`s3 cp\`. A download copies from
 * FAKE_S3_ROOT/<bucket>/<key>; an upload from stdin reads the stream into an "incomplete upload" and only moves it
 * to its key at end-of-stream, like a multipart upload completed by aws when stdin ends. FAKE_AWS_IMAGE /
 * FAKE_AWS_SIDECAR make the .lime / .json upload fail before reading (fail-early) or after reading everything
 * (fail-late). The image upload also does what S3 and the real CLI do with its parts: it cuts the stream as
 * s3transfer does (\`multipart_chunksize\` from AWS_CONFIG_FILE, default 8 MiB, doubled while --expected-size needs
 * more than 10,000 parts, kept within 5 MiB..5 GiB) and, with --checksum-algorithm SHA256, keeps each part's
 * sha256 as S3 computes it from the bytes, in <key>.s3-parts (one hex digest a line); the config it was given is
 * copied to <key>.aws-config.
 */
const FAKE_AWS = `#!/usr/bin/env bash
set -euo pipefail
# One write per line: avml logs to the same file at the same time (several printf calls could interleave with it).
line=$(printf 'aws'; printf '\\t%s' "$@")
printf '%s\\n' "$line" >>"$FAKE_LOG"
if [[ $# -eq 1 && $1 == --version ]]; then
    echo "\${FAKE_AWS_VERSION:-aws-cli/2.27.50 Python/3.13.4 Linux/6.1.0 exe/x86_64.amzn.2023}"
    exit 0
fi
if [[ \${1-} != s3 || \${2-} != cp || $# -lt 4 ]]; then
    echo "fake aws: unsupported: $*" >&2
    exit 2
fi
src=$3
dst=$4
location() { printf '%s/%s' "$FAKE_S3_ROOT" "\${1#s3://}"; }
if [[ $src == - ]]; then
    case $dst in
        *.lime) mode=\${FAKE_AWS_IMAGE:-ok} ;;
        *) mode=\${FAKE_AWS_SIDECAR:-ok} ;;
    esac
    if [[ $mode == fail-early ]]; then
        echo "upload failed: AccessDenied" >&2
        exit 1
    fi
    mkdir -p "$FAKE_S3_ROOT/.incomplete"
    part=$(mktemp "$FAKE_S3_ROOT/.incomplete/upload.XXXXXX")
    cat >"$part"
    if [[ $mode == fail-late ]]; then
        echo "upload failed: CompleteMultipartUpload InternalError" >&2
        exit 1
    fi
    target=$(location "$dst")
    mkdir -p "$(dirname "$target")"
    if [[ $dst == *.lime ]]; then
        chunk=8388608
        if [[ -n \${AWS_CONFIG_FILE-} ]]; then
            cp -- "$AWS_CONFIG_FILE" "$target.aws-config"
            configured=$(sed -n 's/^[[:space:]]*multipart_chunksize[[:space:]]*=[[:space:]]*\\([0-9][0-9]*\\)[[:space:]]*$/\\1/p' "$AWS_CONFIG_FILE")
            chunk=\${configured:-$chunk}
        fi
        expected=""
        algorithm=""
        args=("$@")
        for ((i = 0; i < $#; i++)); do
            case \${args[i]} in
                --expected-size) expected=\${args[i + 1]} ;;
                --checksum-algorithm) algorithm=\${args[i + 1]} ;;
            esac
        done
        if [[ -n $expected ]]; then
            while (((expected + chunk - 1) / chunk > 10000)); do chunk=$((chunk * 2)); done
        fi
        if ((chunk < 5242880)); then chunk=5242880; fi
        if ((chunk > 5368709120)); then chunk=5368709120; fi
        if [[ $algorithm == SHA256 ]]; then
            split -b "$chunk" --filter=sha256sum <"$part" | cut -c1-64 >"$target.s3-parts"
        fi
    fi
    mv -- "$part" "$target"
else
    source=$(location "$src")
    if [[ ! -f $source ]]; then
        echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"\${src#s3://*/}\\" does not exist" >&2
        exit 1
    fi
    cp -- "$source" "$dst"
fi
`;

interface Harness {
    root: string;
    bin: string;
    s3: string;
    ram: string;
    cwd: string;
    home: string;
    tmp: string;
    log: string;
    data: Buffer;
    dataPath: string;
    avmlSha256: string;
    /** The stand-in avml's environment (BASH_ENV, DFIR_SOURCE_ROOT) and its memory sources' root. */
    avmlEnv: Record<string, string>;
    sources: string;
}

function writeExecutable(file: string, text: string): void {
    fs.writeFileSync(file, text, { mode: 0o755 });
}

/** A fresh world per test: stand-ins, a fake bucket holding the stand-in avml, and empty RAM/cwd/home/tmp dirs. */
function makeHarness(dataSize = 1_572_864 + 123): Harness {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-capture-"));
    const dirs = Object.fromEntries(["bin", "s3", "ram", "cwd", "home", "tmp"].map((name) => [name, path.join(root, name)]));
    for (const dir of Object.values(dirs)) fs.mkdirSync(dir);
    writeExecutable(path.join(dirs.bin, "aws"), FAKE_AWS);
    const avml = makeAvmlStandIn(path.join(root, "avml"), FAKE_AVML);
    const avmlObject = path.join(dirs.s3, BUCKET, ...AVML_KEY.split("/"));
    fs.mkdirSync(path.dirname(avmlObject), { recursive: true });
    fs.writeFileSync(avmlObject, avml.bytes, { mode: 0o644 });
    const data = memoryBytes(dataSize);
    const dataPath = path.join(root, "memory.bin");
    fs.writeFileSync(dataPath, data);
    return {
        root,
        bin: dirs.bin,
        s3: dirs.s3,
        ram: dirs.ram,
        cwd: dirs.cwd,
        home: dirs.home,
        tmp: dirs.tmp,
        log: path.join(root, "calls.log"),
        data,
        dataPath,
        avmlSha256: avml.sha256,
        avmlEnv: avml.env,
        sources: avml.sourceRoot,
    };
}

type Env = Record<string, string | undefined>;

/** The environment the SSM document would set, pointing at the harness. */
function captureEnv(h: Harness, overrides: Env = {}): Record<string, string> {
    const env: Env = {
        PATH: `${h.bin}:${SYSTEM_PATH}`,
        HOME: h.home,
        TMPDIR: h.tmp,
        FAKE_LOG: h.log,
        FAKE_S3_ROOT: h.s3,
        FAKE_AVML_DATA: h.dataPath,
        ...h.avmlEnv,
        DFIR_BUCKET: BUCKET,
        DFIR_KEY_PREFIX: memoryKeyPrefix(CASE_ID),
        DFIR_AVML_KEY: AVML_KEY,
        DFIR_AVML_SHA256: h.avmlSha256,
        DFIR_REGION: REGION,
        DFIR_INSTANCE_ID: INSTANCE_ID,
        DFIR_RAM_DIR: h.ram,
        ...overrides,
    };
    return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

interface RunResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

function run(file: string, h: Harness, overrides: Env = {}): RunResult {
    const result = spawnSync(BASH, [file], { cwd: h.cwd, env: captureEnv(h, overrides), encoding: "utf8", timeout: 30_000 });
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runCapture(h: Harness, overrides: Env = {}): RunResult {
    return run(SCRIPT, h, overrides);
}

/** The stand-ins' calls, in order: [command, ...argv]. */
function calls(h: Harness): string[][] {
    if (!fs.existsSync(h.log)) return [];
    return fs.readFileSync(h.log, "utf8").split("\n").filter((line) => line !== "").map((line) => line.split("\t"));
}

function uploads(h: Harness): string[][] {
    return calls(h).filter((call) => call[0] === "aws" && call[3] === "-");
}

function avmlRuns(h: Harness): string[][] {
    return calls(h).filter((call) => call[0] === "avml");
}

function objectPath(h: Harness, key: string): string {
    return path.join(h.s3, BUCKET, ...key.split("/"));
}

const KEYS = memoryObjectKeys(CASE_ID, INSTANCE_ID);

/** Nothing written where the script has no business: cwd, HOME, TMPDIR, and the RAM dir once it is done. */
function assertNoStrayWrites(h: Harness): void {
    for (const [name, dir] of [["cwd", h.cwd], ["HOME", h.home], ["TMPDIR", h.tmp], ["RAM dir", h.ram]] as const) {
        assert.deepEqual(fs.readdirSync(dir), [], `${name} must be left empty`);
    }
}

/** The script's refusal: the expected code and exactly one stderr line starting "capture:". */
function assertRefused(result: RunResult, code: number, mention: string | RegExp): void {
    assert.equal(result.status, code, `exit ${result.status}, stderr: ${result.stderr}`);
    const lines = result.stderr.split("\n").filter((line) => line !== "");
    const ours = lines.filter((line) => line.startsWith("capture: "));
    assert.equal(ours.length, 1, `one capture: line expected, stderr: ${result.stderr}`);
    if (typeof mention === "string") assert.ok(ours[0].includes(mention), `"${ours[0]}" should mention ${mention}`);
    else assert.match(ours[0], mention);
    assert.equal(result.stdout, "", "no sidecar on stdout");
}

function assertNoCapture(h: Harness): void {
    assert.equal(fs.existsSync(objectPath(h, KEYS.image)), false, "no image object may be completed");
    assert.equal(fs.existsSync(objectPath(h, KEYS.sidecar)), false, "no sidecar may claim a capture");
}

/** Shell variables `readonly NAME=value` / `readonly NAME='value'` of the script. */
function scriptReadonly(text: string, prefix: string): Map<string, string> {
    const found = new Map<string, string>();
    for (const match of text.matchAll(new RegExp(`^readonly (${prefix}[A-Z0-9_]+)=(?:'([^']*)'|(\\S+))$`, "gm"))) {
        found.set(match[1], match[2] ?? match[3]);
    }
    return found;
}

function camelToShout(name: string): string {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

describe("memory capture script (functions/memory/capture.sh)", () => {
    let h: Harness;

    beforeEach(() => {
        h = makeHarness();
    });

    afterEach(() => {
        fs.rmSync(h.root, { recursive: true, force: true });
    });

    describe("shellcheck", () => {
        it("the script passes shellcheck -s bash", function () {
            const shellcheck = requireShellcheck(this);

            const result = spawnSync(shellcheck, ["-s", "bash", SCRIPT], { encoding: "utf8" });

            assert.equal(result.status, 0, result.stdout + result.stderr);
        });

        it("the document's assembled runCommand (exports + body) passes shellcheck -s bash", function () {
            const shellcheck = requireShellcheck(this);
            const file = path.join(h.root, "runCommand.sh");
            fs.writeFileSync(file, memoryCaptureDocument(readCaptureScript()).mainSteps[0].inputs.runCommand.join("\n") + "\n");

            const result = spawnSync(shellcheck, ["-s", "bash", file], { encoding: "utf8" });

            assert.equal(result.status, 0, result.stdout + result.stderr);
        });
    });

    describe("a successful capture", () => {
        it("uploads exactly avml's bytes, and a sidecar whose sha256 and bytes are the image's", () => {
            const result = runCapture(h);

            assert.equal(result.status, CAPTURE_EXIT_CODES.ok, result.stderr);
            const image = fs.readFileSync(objectPath(h, KEYS.image));
            assert.ok(image.equals(h.data), `image differs: ${image.length} bytes vs ${h.data.length}`);
            const sidecar = JSON.parse(fs.readFileSync(objectPath(h, KEYS.sidecar), "utf8")) as Record<string, unknown>;
            assert.deepEqual(Object.keys(sidecar), ["sha256", "bytes", "avmlSha256", "instanceId", "startedAt", "finishedAt", "partSize", "partCount", "parts"]);
            assert.equal(sidecar.sha256, sha256(image));
            assert.equal(sidecar.bytes, image.length);
            assert.equal(sidecar.avmlSha256, h.avmlSha256);
            assert.equal(sidecar.instanceId, INSTANCE_ID);
            for (const field of ["startedAt", "finishedAt"] as const) {
                assert.match(String(sidecar[field]), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
            }
            assert.ok(Date.parse(String(sidecar.startedAt)) <= Date.parse(String(sidecar.finishedAt)));
            const { parts, ...summary } = sidecar;
            assert.deepEqual(parts, [sha256(image)], "one part: the image is smaller than a part");
            assert.deepEqual(JSON.parse(result.stdout), summary, "the sidecar without its part list is printed on stdout");
        });

        it("cuts the image into the parts S3 checksums: the part size from MemTotal, written to the CLI's config, each part's sha256 in the sidecar", () => {
            const big = makeHarness(20 * 1024 * 1024 + 123);
            try {
                const result = runCapture(big);

                assert.equal(result.status, 0, result.stderr);
                const image = fs.readFileSync(objectPath(big, KEYS.image));
                assert.ok(image.equals(big.data));
                const sidecar = JSON.parse(fs.readFileSync(objectPath(big, KEYS.sidecar), "utf8")) as { partSize: number; partCount: number; parts: string[] };
                assert.equal(sidecar.partSize, capturePartSize(os.totalmem()), "core/memoryParts.ts's rule over this host's MemTotal");
                const slices: string[] = [];
                for (let offset = 0; offset < image.length; offset += sidecar.partSize) slices.push(sha256(image.subarray(offset, offset + sidecar.partSize)));
                assert.deepEqual(sidecar.parts, slices, "each part's sha256, in order");
                assert.equal(sidecar.partCount, slices.length);
                const stored = fs.readFileSync(`${objectPath(big, KEYS.image)}.s3-parts`, "utf8").trim().split("\n");
                assert.deepEqual(stored, sidecar.parts, "the checksums S3 keeps for the CLI's parts are the sidecar's");
                const config = fs.readFileSync(`${objectPath(big, KEYS.image)}.aws-config`, "utf8");
                assert.match(config, new RegExp(`^\\s+multipart_chunksize = ${sidecar.partSize}$`, "m"));
                assert.match(config, /^\s+preferred_transfer_client = classic$/m);
                const upload = uploads(big).find((call) => call[4].endsWith(".lime")) as string[];
                assert.equal(upload[upload.indexOf("--checksum-algorithm") + 1], "SHA256");
                assertNoStrayWrites(big);
            } finally {
                fs.rmSync(big.root, { recursive: true, force: true });
            }
        });

        it("fetches avml into the RAM dir, runs `avml acquire --source /proc/kcore <FIFO in the RAM dir>` once, streams with --expected-size >= MemTotal", () => {
            const result = runCapture(h);

            assert.equal(result.status, 0, result.stderr);
            const log = calls(h);
            assert.equal(log.length, 5, JSON.stringify(log));
            const [version, download, sidecar] = [log[0], log[1], log[4]];
            assert.deepEqual(version, ["aws", "--version"]);
            const avml = log.filter((call) => call[0] === "avml");
            const image = log.slice(2, 4).find((call) => call[0] === "aws");
            assert.equal(avml.length, 1, "avml runs once");
            const [, subcommand, flag, source, destination] = avml[0];
            assert.deepEqual([subcommand, flag, source, avml[0].length], ["acquire", "--source", "/proc/kcore", 5], JSON.stringify(avml[0]));
            assert.ok(destination.startsWith(h.ram + path.sep) && destination.endsWith(".fifo"), `avml writes into a FIFO in the RAM dir, got ${destination}`);
            assert.ok(image !== undefined);
            assert.deepEqual(download.slice(0, 3), ["aws", "s3", "cp"]);
            assert.equal(download[3], `s3://${BUCKET}/${AVML_KEY}`);
            assert.ok(download[4].startsWith(h.ram + path.sep), `avml must be fetched into the RAM dir, got ${download[4]}`);
            assert.deepEqual(image.slice(3, 5), ["-", `s3://${BUCKET}/${KEYS.image}`]);
            const expected = image.indexOf("--expected-size");
            assert.ok(expected > 0, `--expected-size missing: ${image.join(" ")}`);
            assert.match(image[expected + 1], /^\d+$/);
            assert.ok(Number(image[expected + 1]) >= os.totalmem(), `expected size ${image[expected + 1]} < MemTotal ${os.totalmem()}`);
            assert.equal(image[image.indexOf("--region") + 1], REGION);
            assert.deepEqual(sidecar.slice(3, 5), ["-", `s3://${BUCKET}/${KEYS.sidecar}`]);
            assert.equal(sidecar[sidecar.indexOf("--region") + 1], REGION);
        });

        it("on a noexec RAM dir (CIS-hardened /dev/shm), runs avml from a private tmpfs it mounts and unmounts", function () {
            const noexec = path.join(h.root, "noexec");
            fs.mkdirSync(noexec);
            const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "noexec,size=16m", "dfir-test", noexec], { env: { PATH: SYSTEM_PATH }, encoding: "utf8" });
            if (mount.status !== 0) {
                console.log(`      (cannot mount a tmpfs here, needs root: skipped; ${(mount.stderr ?? String(mount.error)).trim()})`);
                this.skip();
            }
            try {
                const result = runCapture(h, { DFIR_RAM_DIR: noexec });

                assert.equal(result.status, 0, result.stderr);
                assert.ok(fs.readFileSync(objectPath(h, KEYS.image)).equals(h.data));
                assert.deepEqual(fs.readdirSync(noexec), [], "work dir removed");
                const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").filter((line) => line.includes(h.root));
                assert.deepEqual(mounts.map((line) => line.split(" ")[1]), [noexec], "the private exec tmpfs is unmounted");
            } finally {
                spawnSync("umount", ["-R", noexec], { env: { PATH: SYSTEM_PATH } });
            }
        });

        it("writes nothing outside the RAM dir (left empty) and the bucket: not cwd, HOME or TMPDIR", () => {
            const result = runCapture(h);

            assert.equal(result.status, 0, result.stderr);
            assertNoStrayWrites(h);
        });
    });

    describe("avml is checked before it runs", () => {
        it("a sha256 mismatch exits avml-hash-mismatch and never runs avml, nor uploads anything", () => {
            const result = runCapture(h, { DFIR_AVML_SHA256: sha256("some other build") });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlHashMismatch, "differs from the pinned");
            assert.deepEqual(avmlRuns(h), []);
            assert.deepEqual(uploads(h), []);
            assertNoStrayWrites(h);
        });

        it("a tampered object (one byte changed, same key) is refused the same way", () => {
            fs.appendFileSync(objectPath(h, AVML_KEY), "\necho pwned >>\"$FAKE_LOG\"\n");

            const result = runCapture(h);

            assertRefused(result, CAPTURE_EXIT_CODES.avmlHashMismatch, "not running it");
            assert.deepEqual(calls(h).map((call) => call.slice(0, 2)), [["aws", "--version"], ["aws", "s3"]], "only the CLI's version and the download ran");
        });

        it("avml missing in the bucket exits avml-download-failed, nothing run or uploaded", () => {
            const result = runCapture(h, { DFIR_AVML_KEY: "tools/avml-absent" });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlDownloadFailed, "s3://" + BUCKET + "/tools/avml-absent");
            assert.deepEqual(avmlRuns(h), []);
            assert.deepEqual(uploads(h), []);
            assertNoStrayWrites(h);
        });

        it("an empty avml object exits avml-download-failed", () => {
            fs.writeFileSync(objectPath(h, AVML_KEY), "");

            const result = runCapture(h, { DFIR_AVML_SHA256: sha256("") });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlDownloadFailed, "empty");
            assert.deepEqual(avmlRuns(h), []);
        });

        /** This machine's build name (`uname -m`) and the other one. */
        const here = os.arch() === "arm64" ? "aarch64" : "x86_64";
        const other = here === "x86_64" ? "aarch64" : "x86_64";

        it(`the other machine's build (ELF e_machine of ${other}, pinned hash matching) exits avml-wrong-architecture and never runs`, () => {
            const build = fs.readFileSync(objectPath(h, AVML_KEY));
            build.writeUInt16LE(AVML_ELF_MACHINE[other], 18);
            fs.writeFileSync(objectPath(h, AVML_KEY), build);

            const result = runCapture(h, { DFIR_AVML_SHA256: sha256(build) });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlWrongArchitecture, `is not the ${here} build of avml`);
            assert.deepEqual(avmlRuns(h), []);
            assert.deepEqual(uploads(h), []);
            assertNoStrayWrites(h);
        });

        it(`this machine's build on a machine that says it is ${other} (uname -m) exits avml-wrong-architecture`, () => {
            writeExecutable(path.join(h.bin, "uname"), `#!/bin/sh\ncase "$1" in -m) echo ${other} ;; *) echo Linux ;; esac\n`);

            const result = runCapture(h);

            assertRefused(result, CAPTURE_EXIT_CODES.avmlWrongArchitecture, `is not the ${other} build of avml`);
            assert.deepEqual(avmlRuns(h), []);
        });

        it("a machine avml has no build for (uname -m armv7l) exits avml-wrong-architecture", () => {
            writeExecutable(path.join(h.bin, "uname"), "#!/bin/sh\ncase \"$1\" in -m) echo armv7l ;; *) echo Linux ;; esac\n");

            const result = runCapture(h);

            assertRefused(result, CAPTURE_EXIT_CODES.avmlWrongArchitecture, "no avml build for this machine (uname -m: armv7l)");
            assert.deepEqual(avmlRuns(h), []);
        });

        it("a file that is not an ELF executable (the pinned hash matching) is refused the same way", () => {
            fs.writeFileSync(objectPath(h, AVML_KEY), "#!/bin/sh\necho not avml\n");

            const result = runCapture(h, { DFIR_AVML_SHA256: sha256("#!/bin/sh\necho not avml\n") });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlWrongArchitecture, "not running it");
            assert.deepEqual(avmlRuns(h), []);
        });
    });

    describe("the memory source is probed once, as avml's probe_single_source does", () => {
        const sourceFile = (name: string, bytes: number) => {
            const file = path.join(h.sources, ...name.split("/").filter(Boolean));
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, Buffer.alloc(bytes));
        };

        for (const [what, setup, expected] of [
            ["/proc/kcore absent, /dev/crash readable", () => sourceFile("/dev/crash", 0), "/dev/crash"],
            ["/proc/kcore of 0x2000 bytes (locked down), /dev/mem readable", () => { sourceFile("/proc/kcore", 0x2000); sourceFile("/dev/mem", 0); }, "/dev/mem"],
            ["/proc/kcore absent, /dev/crash and /dev/mem readable", () => { sourceFile("/dev/crash", 0); sourceFile("/dev/mem", 0); }, "/dev/crash"],
        ] as const) {
            it(`${what}: --source ${expected}`, () => {
                fs.rmSync(path.join(h.sources, "proc", "kcore"));
                setup();

                const result = runCapture(h);

                assert.equal(result.status, 0, result.stderr);
                assert.deepEqual(avmlRuns(h).map((call) => call.slice(1, 4)), [["acquire", "--source", expected]]);
            });
        }

        it("no readable source (kernel lockdown, strict /dev/mem) exits no-memory-source before fetching or running anything", () => {
            fs.rmSync(path.join(h.sources, "proc", "kcore"));

            const result = runCapture(h);

            assertRefused(result, CAPTURE_EXIT_CODES.noMemorySource, "no memory source");
            // Only the CLI's version was read (its check comes first): nothing fetched, nothing run.
            assert.deepEqual(calls(h), [["aws", "--version"]]);
            assertNoStrayWrites(h);
        });
    });

    describe("the avml stand-in behaves as v0.20.0 does", () => {
        const standIn = (...args: string[]) => {
            const file = path.join(h.root, "bin-avml", "avml");
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, fs.readFileSync(objectPath(h, AVML_KEY)), { mode: 0o755 });
            return spawnSync(file, args, { env: captureEnv(h), encoding: "utf8", timeout: 30_000 });
        };

        it("refuses a symlinked destination such as /dev/stdout (O_NOFOLLOW), and the v0.11 command line", () => {
            const link = path.join(h.root, "link");
            fs.symlinkSync(path.join(h.root, "target"), link);

            const symlinked = standIn("acquire", "--source", "/proc/kcore", link);
            const old = standIn("/dev/stdout");

            assert.equal(symlinked.status, 1);
            assert.match(symlinked.stderr, /Too many levels of symbolic links/);
            assert.equal(fs.existsSync(path.join(h.root, "target")), false);
            assert.equal(old.status, 2);
            assert.match(old.stderr, /unrecognized subcommand/);
        });
    });

    describe("failures during the stream never leave a capture that looks complete", () => {
        it("avml failing mid-stream exits avml-failed; the upload is aborted: no image object, no sidecar", () => {
            const result = runCapture(h, { FAKE_AVML_MODE: "fail-mid" });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlFailed, "avml failed (exit 1)");
            assert.equal(uploads(h).length, 1, "the image upload had started");
            assertNoCapture(h);
            assertNoStrayWrites(h);
        });

        it("avml failing before any byte exits avml-failed, nothing completed", () => {
            const result = runCapture(h, { FAKE_AVML_MODE: "fail-start" });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlFailed, "avml failed");
            assertNoCapture(h);
        });

        it("avml succeeding with no data exits avml-failed, nothing completed", () => {
            const result = runCapture(h, { FAKE_AVML_MODE: "empty" });

            assertRefused(result, CAPTURE_EXIT_CODES.avmlFailed, "no data");
            assertNoCapture(h);
        });

        it("the image upload failing at once exits upload-failed, no sidecar", () => {
            const result = runCapture(h, { FAKE_AWS_IMAGE: "fail-early" });

            assertRefused(result, CAPTURE_EXIT_CODES.uploadFailed, "image upload");
            assertNoCapture(h);
            assertNoStrayWrites(h);
        });

        it("the image upload failing at its end exits upload-failed, no sidecar", () => {
            const result = runCapture(h, { FAKE_AWS_IMAGE: "fail-late" });

            assertRefused(result, CAPTURE_EXIT_CODES.uploadFailed, "aws exit 1");
            assert.equal(avmlRuns(h).length, 1);
            assertNoCapture(h);
        });

        it("the sidecar upload failing exits upload-failed (the image stays; nothing on stdout)", () => {
            const result = runCapture(h, { FAKE_AWS_SIDECAR: "fail-early" });

            assertRefused(result, CAPTURE_EXIT_CODES.uploadFailed, "sidecar upload");
            assert.ok(fs.readFileSync(objectPath(h, KEYS.image)).equals(h.data));
            assert.equal(fs.existsSync(objectPath(h, KEYS.sidecar)), false);
        });

        for (const [mode, behaviour] of [
            ["fail", 'if [[ $# -eq 0 ]]; then exit 1; fi'],
            ["malformed", 'if [[ $# -eq 0 ]]; then cat >/dev/null; echo "not-a-hash  -"; exit 0; fi'],
        ] as const) {
            it(`the stream's sha256 ${mode === "fail" ? "failing" : "being malformed"} exits hash-size-missing; the upload is aborted`, () => {
                const shim = path.join(h.root, "shim");
                fs.mkdirSync(shim);
                writeExecutable(path.join(shim, "sha256sum"), `#!/usr/bin/env bash\n${behaviour}\nexec ${which("sha256sum")} "$@"\n`);

                const result = runCapture(h, { PATH: `${shim}:${h.bin}:${SYSTEM_PATH}` });

                assertRefused(result, CAPTURE_EXIT_CODES.hashSizeMissing, mode === "fail" ? "sha256sum exit 1" : "malformed");
                assert.equal(avmlRuns(h).length, 1, "avml's own hash check still passed (files are hashed normally)");
                assertNoCapture(h);
                assertNoStrayWrites(h);
            });
        }

        it("the part hashing failing exits hash-size-missing; the upload is aborted", () => {
            const shim = path.join(h.root, "shim");
            fs.mkdirSync(shim);
            writeExecutable(path.join(shim, "split"), `#!/usr/bin/env bash\nif [[ " $* " == *" --filter=sha256sum "* ]]; then cat >/dev/null; exit 4; fi\nexec ${which("split")} "$@"\n`);

            const result = runCapture(h, { PATH: `${shim}:${h.bin}:${SYSTEM_PATH}` });

            assertRefused(result, CAPTURE_EXIT_CODES.hashSizeMissing, "split exit 4");
            assertNoCapture(h);
            assertNoStrayWrites(h);
        });

        it("a part digest missing (fewer digests than parts) exits hash-size-missing; the upload is aborted", () => {
            const shim = path.join(h.root, "shim");
            fs.mkdirSync(shim);
            writeExecutable(path.join(shim, "split"), `#!/usr/bin/env bash\nif [[ " $* " == *" --filter=sha256sum "* ]]; then cat >/dev/null; exit 0; fi\nexec ${which("split")} "$@"\n`);

            const result = runCapture(h, { PATH: `${shim}:${h.bin}:${SYSTEM_PATH}` });

            assertRefused(result, CAPTURE_EXIT_CODES.hashSizeMissing, "part digests are missing or malformed");
            assertNoCapture(h);
        });

        it("the stream's byte count failing exits hash-size-missing", () => {
            const shim = path.join(h.root, "shim");
            fs.mkdirSync(shim);
            writeExecutable(path.join(shim, "wc"), `#!/usr/bin/env bash\nif [[ $# -eq 1 && $1 == -c ]] && [[ ! -t 0 ]] && [[ -p /dev/stdin ]]; then exit 3; fi\nexec ${which("wc")} "$@"\n`);

            const result = runCapture(h, { PATH: `${shim}:${h.bin}:${SYSTEM_PATH}` });

            assertRefused(result, CAPTURE_EXIT_CODES.hashSizeMissing, "wc exit 3");
            assertNoCapture(h);
        });
    });

    describe("refusals before anything runs", () => {
        const BAD: [string, string | undefined][] = [
            ["DFIR_KEY_PREFIX", "cases/x;touch PWNED/memory/"],
            ["DFIR_KEY_PREFIX", "cases/x;id/memory/"],
            ["DFIR_KEY_PREFIX", "cases/x|id/memory/"],
            ["DFIR_KEY_PREFIX", "cases/$(touch PWNED)/memory/"],
            ["DFIR_KEY_PREFIX", "cases/x'$(touch PWNED)'/memory/"],
            ["DFIR_KEY_PREFIX", "cases/x/memory/\ntouch PWNED"],
            ["DFIR_KEY_PREFIX", "cases/x/memory"],
            ["DFIR_KEY_PREFIX", "cases/../memory/"],
            ["DFIR_KEY_PREFIX", "cases/x/y/memory/"],
            ["DFIR_KEY_PREFIX", "evidence/x/memory/"],
            ["DFIR_KEY_PREFIX", undefined],
            ["DFIR_BUCKET", "Evidence"],
            ["DFIR_BUCKET", "ev idence"],
            ["DFIR_BUCKET", "ab"],
            ["DFIR_BUCKET", ""],
            ["DFIR_AVML_KEY", "tools/../avml"],
            ["DFIR_AVML_KEY", "avml"],
            ["DFIR_AVML_SHA256", "A".repeat(64)],
            ["DFIR_AVML_SHA256", "a".repeat(63)],
            ["DFIR_REGION", "eu-west-1;id"],
            ["DFIR_REGION", "EU-WEST-1"],
            ["DFIR_INSTANCE_ID", "i-123"],
            ["DFIR_INSTANCE_ID", `${INSTANCE_ID} `],
        ];
        for (const [name, value] of BAD) {
            it(`${name}=${JSON.stringify(value)} exits bad-parameters before running anything`, () => {
                const result = runCapture(h, { [name]: value });

                assertRefused(result, CAPTURE_EXIT_CODES.badParameters, name);
                assert.deepEqual(calls(h), [], "no aws or avml call");
                assert.equal(fs.existsSync(path.join(h.cwd, "PWNED")), false);
                assertNoStrayWrites(h);
            });
        }

        it("not Linux (uname says Darwin) exits not-linux", () => {
            writeExecutable(path.join(h.bin, "uname"), "#!/bin/sh\necho Darwin\n");

            const result = runCapture(h);

            assertRefused(result, CAPTURE_EXIT_CODES.notLinux, "not Linux (uname -s: Darwin)");
            assert.deepEqual(calls(h), []);
        });

        for (const version of ["aws-cli/1.18.147 Python/2.7.18 Linux/4.14.355 botocore/1.18.6", "aws-cli/1.34.9 Python/3.9", "aws-cli/2.17.60 Python/3.12.6 Linux/6.1", "not a version"]) {
            it(`an aws CLI without s3 cp --checksum-algorithm (${version.split(" ")[0]}) exits aws-cli-missing before anything runs`, () => {
                const result = runCapture(h, { FAKE_AWS_VERSION: version });

                assertRefused(result, CAPTURE_EXIT_CODES.awsCliMissing, version.startsWith("aws-cli/") ? "has no s3 cp --checksum-algorithm" : "cannot read the aws CLI's version");
                assert.deepEqual(calls(h), [["aws", "--version"]]);
                assertNoStrayWrites(h);
            });
        }

        for (const version of ["aws-cli/1.35.0 Python/3.12.6 Linux/6.1 botocore/1.35.0", "aws-cli/2.18.0 Python/3.12.6 Linux/6.1"]) {
            it(`an aws CLI with it (${version.split(" ")[0]}) captures`, () => {
                const result = runCapture(h, { FAKE_AWS_VERSION: version });

                assert.equal(result.status, 0, result.stderr);
            });
        }

        it("a split without --filter exits hash-size-missing before anything runs", () => {
            const shim = path.join(h.root, "shim");
            fs.mkdirSync(shim);
            writeExecutable(path.join(shim, "split"), "#!/usr/bin/env bash\necho \"split: unrecognized option '--filter'\" >&2\nexit 1\n");

            const result = runCapture(h, { PATH: `${shim}:${h.bin}:${SYSTEM_PATH}` });

            assertRefused(result, CAPTURE_EXIT_CODES.hashSizeMissing, "split has no --filter");
            assert.deepEqual(calls(h), [["aws", "--version"]]);
            assertNoStrayWrites(h);
        });

        it("no aws CLI on PATH exits aws-cli-missing", () => {
            const bare = path.join(h.root, "bare");
            fs.mkdirSync(bare);
            fs.symlinkSync(which("uname") ?? "/bin/uname", path.join(bare, "uname"));

            const result = runCapture(h, { PATH: bare });

            assertRefused(result, CAPTURE_EXIT_CODES.awsCliMissing, "aws CLI is not on PATH");
            assert.deepEqual(calls(h), []);
        });

        it("an unusable RAM dir exits no-ram-dir", () => {
            const result = runCapture(h, { DFIR_RAM_DIR: path.join(h.root, "absent") });

            assertRefused(result, CAPTURE_EXIT_CODES.noRamDir, "not a writable directory");
            assert.deepEqual(calls(h), [["aws", "--version"]], "nothing but the CLI's version");
        });
    });

    describe("the script and core/ssmDocument.ts agree", () => {
        const text = fs.readFileSync(SCRIPT, "utf8");

        it("every parameter pattern is the script's RE_* for its variable, character for character", () => {
            const patterns = scriptReadonly(text, "RE_");

            for (const name of MEMORY_DOCUMENT_PARAMETERS) {
                const variable = MEMORY_PARAMETER_ENV[name].replace(/^DFIR_/, "RE_");
                assert.equal(patterns.get(variable), MEMORY_PARAMETER_PATTERNS[name], `${variable} vs ${name}`);
                assert.ok(text.includes(`require ${MEMORY_PARAMETER_ENV[name]} "$${variable}"`), `the script checks ${MEMORY_PARAMETER_ENV[name]} with ${variable}`);
            }
        });

        it("CAPTURE_EXIT_CODES are the script's EXIT_* values and its header table", () => {
            const codes = scriptReadonly(text, "EXIT_");

            assert.deepEqual(
                [...codes.entries()].sort(),
                Object.entries(CAPTURE_EXIT_CODES).map(([name, code]) => [`EXIT_${camelToShout(name)}`, String(code)]).sort(),
            );
            for (const [name, code] of Object.entries(CAPTURE_EXIT_CODES)) {
                const row = new RegExp(`^#\\s+${code}\\s+${camelToShout(name).toLowerCase().replace(/_/g, "-")}\\s`, "m");
                assert.match(text, row, `header table row for ${name}`);
            }
        });

        it("the part-size constants are core/memoryParts.ts's", () => {
            const constants = scriptReadonly(text, "CAPTURE_");

            assert.deepEqual(Object.fromEntries(constants), {
                CAPTURE_MIN_PART_BYTES: String(CAPTURE_MIN_PART_BYTES),
                CAPTURE_MAX_PART_BYTES: String(CAPTURE_MAX_PART_BYTES),
                CAPTURE_PLANNED_PARTS: String(CAPTURE_PLANNED_PARTS),
            });
        });

        it("the script names the pinned avml version", () => {
            assert.ok(text.includes(`avml: pinned to ${AVML_VERSION}`));
        });

        it("the script's ELF machine per `uname -m` is AVML_ELF_MACHINE (e_machine as two little-endian bytes)", () => {
            const table = Object.fromEntries([...text.matchAll(/^\s+(\w+)\) want_machine=([0-9a-f]{4}) ;;$/gm)].map((m) => [m[1], m[2]]));
            assert.deepEqual(table, Object.fromEntries(Object.entries(AVML_ELF_MACHINE).map(([build, machine]) => {
                const bytes = Buffer.alloc(2);
                bytes.writeUInt16LE(machine);
                return [build, bytes.toString("hex")];
            })));
        });
    });
});

describe("memory capture document (core/ssmDocument.ts)", () => {
    const script = readCaptureScript();
    const document = memoryCaptureDocument(script);
    const step = document.mainSteps[0];
    const runCommand = step.inputs.runCommand.join("\n");

    it("is a schema 2.2 Command document with one Linux-only aws:runShellScript step and a 3 h timeout", () => {
        assert.equal(document.schemaVersion, "2.2");
        assert.equal(document.mainSteps.length, 1);
        assert.equal(step.action, "aws:runShellScript");
        assert.deepEqual(step.precondition, { StringEquals: ["platformType", "Linux"] });
        assert.equal(step.inputs.timeoutSeconds, CAPTURE_TIMEOUT_SECONDS);
        assert.equal(CAPTURE_TIMEOUT_SECONDS, 3 * 3600);
    });

    it("declares exactly the six parameters, each a String with a description and an anchored allowedPattern", () => {
        assert.deepEqual(Object.keys(document.parameters), ["Bucket", "KeyPrefix", "AvmlKey", "AvmlSha256", "Region", "InstanceId"]);
        for (const [name, parameter] of Object.entries(document.parameters)) {
            assert.equal(parameter.type, "String", name);
            assert.ok(parameter.description.length > 10, name);
            assert.equal(parameter.allowedPattern, MEMORY_PARAMETER_PATTERNS[name as MemoryDocumentParameter]);
            assert.ok(parameter.allowedPattern.startsWith("^") && parameter.allowedPattern.endsWith("$"), name);
        }
    });

    it("exports each parameter, single-quoted, as its DFIR_* variable, then embeds the script body unchanged", () => {
        const lines = step.inputs.runCommand;
        assert.equal(lines[0], "#!/bin/bash");
        for (const name of MEMORY_DOCUMENT_PARAMETERS) {
            assert.ok(lines.includes(`export ${MEMORY_PARAMETER_ENV[name]}='{{ ${name} }}'`), name);
        }
        const body = script.split("\n").slice(1);
        while (body[body.length - 1] === "") body.pop();
        assert.deepEqual(lines.slice(lines.length - body.length), body);
        const references = runCommand.match(/\{\{[^}]*\}\}/g) ?? [];
        assert.deepEqual(references.sort(), MEMORY_DOCUMENT_PARAMETERS.map((name) => `{{ ${name} }}`).sort(), "no other {{ }} for SSM to interpret");
    });

    it("carries no credentials, and fits SSM's 64 KB document limit", () => {
        assert.doesNotMatch(runCommand, /AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AKIA[0-9A-Z]{16}|aws_secret|--profile/i);
        assert.doesNotMatch(Object.keys(document.parameters).join(" "), /key id|secret|token|password|credential/i);
        assert.ok(Buffer.byteLength(JSON.stringify(document)) < 64 * 1024);
    });

    it("refuses a script with {{, which SSM would substitute", () => {
        assert.throws(() => memoryCaptureDocument("#!/usr/bin/env bash\necho ok\necho '{{ Bucket }}'\n"), /line 3 contains "\{\{"/);
    });

    it("the patterns accept real values and reject hostile ones (JavaScript, like the script)", () => {
        const good: Record<MemoryDocumentParameter, string[]> = {
            Bucket: [BUCKET, "abc", "a.b-c"],
            KeyPrefix: [memoryKeyPrefix(CASE_ID), "cases/case-2025-0001/memory/"],
            AvmlKey: ["tools/avml-v0.11.0", AVML_KEY],
            AvmlSha256: ["0".repeat(64)],
            Region: ["us-east-1", "us-gov-west-1", "ap-southeast-4", "cn-north-1", "eusc-de-east-1"],
            InstanceId: ["i-01234567", INSTANCE_ID],
        };
        const bad: Record<MemoryDocumentParameter, string[]> = {
            Bucket: ["x'; touch /tmp/p; '", "-abc", "abc-", "a".repeat(64), "ABC"],
            KeyPrefix: ["cases/x'; id; '/memory/", "cases/x/memory/\n", "cases/.hidden/memory/", "cases//memory/", "cases/x y/memory/"],
            AvmlKey: ["tools/avml'", "tools/", "tools/a/b", "/tools/avml"],
            AvmlSha256: ["0".repeat(65), "g".repeat(64), `${"0".repeat(64)}\n`],
            Region: ["us-east-1'", "us-east", "useast1"],
            InstanceId: ["i-0123456789ABCDEF0", "i-0123456789abcdef", "x-01234567"],
        };

        for (const name of MEMORY_DOCUMENT_PARAMETERS) {
            const pattern = new RegExp(MEMORY_PARAMETER_PATTERNS[name]);
            for (const value of good[name]) assert.ok(pattern.test(value), `${name} should accept ${JSON.stringify(value)}`);
            for (const value of bad[name]) assert.ok(!pattern.test(value), `${name} should reject ${JSON.stringify(value)}`);
        }
    });

    describe("run as SSM would run it (parameters substituted into runCommand, then bash)", () => {
        let h: Harness;

        beforeEach(() => {
            h = makeHarness(65_536 + 7);
        });

        afterEach(() => {
            fs.rmSync(h.root, { recursive: true, force: true });
        });

        function substituted(values: Record<MemoryDocumentParameter, string>): string {
            const file = path.join(h.root, "_script.sh");
            const text = step.inputs.runCommand.join("\n").replace(/\{\{ (\w+) \}\}/g, (_, name: MemoryDocumentParameter) => values[name]);
            fs.writeFileSync(file, text + "\n", { mode: 0o700 });
            return file;
        }

        it("captures like the script itself: image = avml's bytes, sidecar hashes match", () => {
            const parameters = memoryCommandParameters({
                bucket: BUCKET, caseId: CASE_ID, instanceId: INSTANCE_ID, avmlKey: AVML_KEY, avmlSha256: h.avmlSha256, region: REGION,
            });
            const values = Object.fromEntries(Object.entries(parameters).map(([name, [value]]) => [name, value])) as Record<MemoryDocumentParameter, string>;
            const file = substituted(values);
            const env = Object.fromEntries(Object.keys(MEMORY_PARAMETER_ENV).map((name) => [MEMORY_PARAMETER_ENV[name as MemoryDocumentParameter], undefined]));

            const result = run(file, h, env);

            assert.equal(result.status, 0, result.stderr);
            const image = fs.readFileSync(objectPath(h, KEYS.image));
            assert.ok(image.equals(h.data));
            const sidecar = JSON.parse(fs.readFileSync(objectPath(h, KEYS.sidecar), "utf8")) as { sha256: string; bytes: number };
            assert.equal(sidecar.sha256, sha256(image));
            assert.equal(sidecar.bytes, image.length);
            assertNoStrayWrites(h);
        });
    });
});

describe("memory object layout and command parameters", () => {
    it("memoryObjectKeys: cases/<caseId>/memory/<instanceId>.lime and .lime.json", () => {
        assert.deepEqual(memoryObjectKeys(CASE_ID, INSTANCE_ID), {
            prefix: `cases/${CASE_ID}/memory/`,
            image: `cases/${CASE_ID}/memory/${INSTANCE_ID}.lime`,
            sidecar: `cases/${CASE_ID}/memory/${INSTANCE_ID}.lime.json`,
        });
    });

    it("memoryObjectKeys refuses ids the document would reject", () => {
        assert.throws(() => memoryObjectKeys("../x", INSTANCE_ID), /does not give a KeyPrefix/);
        assert.throws(() => memoryObjectKeys("a/b", INSTANCE_ID), /does not give a KeyPrefix/);
        assert.throws(() => memoryObjectKeys(CASE_ID, "i-xyz"), /not an EC2 instance id/);
    });

    it("memoryCommandParameters gives SendCommand's {Name: [value]} and names every parameter that does not match", () => {
        const input = { bucket: BUCKET, caseId: CASE_ID, instanceId: INSTANCE_ID, avmlKey: AVML_KEY, avmlSha256: "a".repeat(64), region: REGION };

        assert.deepEqual(memoryCommandParameters(input), {
            Bucket: [BUCKET], KeyPrefix: [`cases/${CASE_ID}/memory/`], AvmlKey: [AVML_KEY], AvmlSha256: ["a".repeat(64)], Region: [REGION], InstanceId: [INSTANCE_ID],
        });
        assert.throws(() => memoryCommandParameters({ ...input, bucket: "B", region: "x" }), (error: Error) =>
            error.message.includes("Bucket does not match") && error.message.includes("Region does not match") && !error.message.includes("InstanceId"));
    });
});
