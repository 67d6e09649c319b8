/**
 * A stand-in for avml v0.20.0 that functions/memory/capture.sh accepts as this machine's build, for the tests and
 * the capture benchmark that run the script (test/ssm-document.test.ts, scripts/lib/bench/capture.ts).
 *
 * capture.sh refuses a binary whose ELF header is not `uname -m`'s, so a shell script cannot stand in. The stand-in
 * is a copy of this machine's bash (a real ELF executable of the right machine) named `avml`; what it does comes
 * from the file BASH_ENV names, which every non-interactive bash reads first. Only the copy acts on it (its `$BASH`
 * ends in `/avml`); capture.sh's own bash and the other stand-ins, which read it too, go on unaffected.
 *
 * The command line is checked as avml v0.20.0 checks it (src/bin/avml/main.rs and acquire.rs at
 * 21a645608af7c635a3fc5c3ce939b87152c553a9): the `acquire` subcommand, `--source` one of /proc/kcore, /dev/crash,
 * /dev/mem, one FILENAME; and the destination is refused when it is a symlink, as Image::open_dst's O_NOFOLLOW
 * refuses `/dev/stdout` (src/image.rs). `body` then runs with `avml_out` (FILENAME), `avml_source` and `avml_argv`
 * (the command line as given, subcommand first) set.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const PROLOGUE = `# The avml stand-in (scripts/lib/avmlStandIn.ts). Only the bash copy named avml acts on this file.
[[ \${BASH##*/} == avml ]] || return 0
set -euo pipefail
avml_argv=("$0" "$@")
if [[ $0 != acquire ]]; then
    printf "error: unrecognized subcommand '%s'\\n" "$0" >&2
    exit 2
fi
avml_source=""
avml_out=""
while (($# > 0)); do
    case $1 in
        --source)
            avml_source=\${2-}
            shift 2 || shift
            ;;
        -*)
            printf "error: unexpected argument '%s' found\\n" "$1" >&2
            exit 2
            ;;
        *)
            if [[ -n $avml_out ]]; then
                printf "error: unexpected argument '%s' found\\n" "$1" >&2
                exit 2
            fi
            avml_out=$1
            shift
            ;;
    esac
done
if [[ -z $avml_out ]]; then
    echo "error: the following required arguments were not provided: <FILENAME>" >&2
    exit 2
fi
case $avml_source in
    "" | /proc/kcore | /dev/crash | /dev/mem) ;;
    *)
        printf "error: invalid value '%s' for '--source <SOURCE>'\\n" "$avml_source" >&2
        exit 2
        ;;
esac
if [[ -L $avml_out ]]; then
    echo "Error: unable to create memory snapshot: io error: unable to create snapshot file: Too many levels of symbolic links (os error 40)" >&2
    exit 1
fi
`;

export interface AvmlStandIn {
    /** The binary to stage (a copy of this machine's bash). */
    bytes: Buffer;
    sha256: string;
    /** Environment capture.sh must run with: BASH_ENV (the behaviour) and DFIR_SOURCE_ROOT (a readable proc/kcore). */
    env: { BASH_ENV: string; DFIR_SOURCE_ROOT: string };
    /** The directory DFIR_SOURCE_ROOT names (holds proc/kcore, 16 KiB). */
    sourceRoot: string;
}

/** This machine's bash, as a file path (the one on the system PATH). */
export function systemBash(): string {
    const found = spawnSync("/bin/sh", ["-c", "command -v bash"], { env: { PATH: "/usr/local/bin:/usr/bin:/bin" }, encoding: "utf8" }).stdout.trim();
    if (!found.startsWith("/")) throw new Error("avml stand-in: no bash on /usr/local/bin:/usr/bin:/bin");
    return fs.realpathSync(found);
}

/**
 * Writes the stand-in's behaviour file and a source root (`proc/kcore` of 16 KiB, larger than avml's 0x2000-byte
 * threshold) under `dir`, and returns the binary to stage with its hash and the environment to run capture.sh in.
 */
export function makeAvmlStandIn(dir: string, body: string): AvmlStandIn {
    fs.mkdirSync(dir, { recursive: true });
    const behaviour = path.join(dir, "avml-stand-in.bash");
    fs.writeFileSync(behaviour, `${PROLOGUE}${body.endsWith("\n") ? body : `${body}\n`}exit 0\n`, { mode: 0o644 });
    const sourceRoot = path.join(dir, "sources");
    fs.mkdirSync(path.join(sourceRoot, "proc"), { recursive: true });
    fs.writeFileSync(path.join(sourceRoot, "proc", "kcore"), Buffer.alloc(16 * 1024));
    const bytes = fs.readFileSync(systemBash());
    return {
        bytes,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        env: { BASH_ENV: behaviour, DFIR_SOURCE_ROOT: sourceRoot },
        sourceRoot,
    };
}
