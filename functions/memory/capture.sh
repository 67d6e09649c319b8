#!/usr/bin/env bash
# shellcheck shell=bash
#
# aws-dfir memory capture: stream this instance's physical memory to the evidence bucket with avml, hashing and
# counting it on the way, without writing the image (or avml) to the instance's disk.
#
# Runs as root on the (isolated) instance from the project's SSM Command document (core/ssmDocument.ts), which
# exports the DFIR_* variables from its parameters and then runs this file's body. It can also be run directly
# (test/ssm-document.test.ts does, with stand-in `aws` and `avml` commands). It uses the instance profile: no
# credentials are ever passed in.
#
# Inputs (environment; each is re-validated here even though the document's allowedPattern already did):
#   DFIR_BUCKET       evidence bucket name
#   DFIR_KEY_PREFIX   cases/<caseId>/memory/
#   DFIR_AVML_KEY     S3 key of the staged avml binary (tools/...)
#   DFIR_AVML_SHA256  expected sha256 of that binary, 64 lower-case hex
#   DFIR_REGION       the bucket's region
#   DFIR_INSTANCE_ID  this instance's id (names the objects)
#   DFIR_RAM_DIR      optional, default /dev/shm: where avml and the small work files live. The default must be
#                     tmpfs/ramfs (checked). An override is trusted to be RAM-backed: it exists for tests, which
#                     point it at a temporary directory. Not a document parameter.
#   DFIR_SOURCE_ROOT  optional, default empty: a directory the memory-source probe looks under (<root>/proc/kcore,
#                     <root>/dev/crash, <root>/dev/mem); avml is still told the real path. It exists for tests,
#                     which have no /proc/kcore of their own. Not a document parameter.
#
# Output: s3://BUCKET/PREFIX<instanceId>.lime (LiME image, multipart upload from stdin, every part with its
#         SHA-256, which S3 checks on arrival and keeps) and s3://BUCKET/PREFIX<instanceId>.lime.json, the sidecar
#         {"sha256","bytes","avmlSha256","instanceId","startedAt","finishedAt","partSize","partCount","parts"}:
#         the whole image's sha256 and size, and the sha256 of each part of partSize bytes in order, all computed
#         from the stream as it went by (core/memoryParts.ts; the memory step compares the parts with S3's). The
#         sidecar without its "parts" list is printed on stdout.
#         The image object is only completed when avml, the hashes and the byte count all succeeded: on any
#         failure the upload is killed before its end of stream, so no object (only an incomplete multipart
#         upload, invisible and removed by the bucket's lifecycle rule) exists under the image key.
#
# avml: pinned to v0.20.0, one static build per machine (release assets `avml` for x86_64, `avml-aarch64` for
# aarch64); the staged binary is pinned by DFIR_AVML_SHA256 and must be this machine's build (checked below from its
# ELF header against `uname -m`). What was checked, in microsoft/avml at the v0.20.0 tag,
# 21a645608af7c635a3fc5c3ce939b87152c553a9:
#   - Cargo.toml: version = "0.20.0" (clap 4.6 derive, elf 0.8, libc).
#   - src/bin/avml/main.rs: subcommands `acquire`, `convert`, `upload`, `stream`; the bare `avml FILENAME` of
#     v0.11 is gone. src/bin/avml/acquire.rs: `avml acquire [--compress] [--source SOURCE] [--max-disk-usage*]
#     [--url|--sas-url ...] FILENAME`; run() = iomem::parse, Snapshot::new(FILENAME).source(..).create(), and
#     nothing is uploaded without --url / --sas-url.
#   - src/image.rs (Image::open_dst, since 61ba9fe416c552c16c644a24bc1d0596a4fe686f, PR #754, v0.17.0): the
#     destination is opened write/create/truncate with O_NOFOLLOW, so `/dev/stdout` (a symlink to /proc/self/fd/1)
#     fails with ELOOP, as do /proc/self/fd/1 and /dev/fd/1. A FIFO is not a symlink: it opens (O_TRUNC is
#     ignored on a FIFO) and is only ever written sequentially (write_all, no seek on the destination).
#   - src/snapshot.rs: Snapshot::create() with an explicit --source reads that one source and never another; without
#     one it probes a single source only when the destination is literally "/dev/stdout" (probe_single_source:
#     /proc/kcore if larger than 0x2000 bytes and readable, else /dev/crash, else /dev/mem) and otherwise tries
#     /dev/crash, then /proc/kcore, then /dev/mem, each from the start of a re-opened destination. Into a FIFO a
#     restart would append a second image to the first one's partial bytes, so this script probes exactly as
#     probe_single_source does and passes --source. Disk-usage checks run only with --max-disk-usage*.
#   - src/snapshot.rs find_kcore_blocks (41cb00f74c85266f579d7c2705fadc9b21b2bbdf, PR #789, v0.18.0): a System RAM
#     range that straddles a gap between /proc/kcore PT_LOAD segments is copied in full; v0.11.0 silently dropped
#     the part after the gap.
#   So: `avml acquire --source <probed> <FIFO in RAM>`, and a relay from that FIFO into the stream. No --compress
#   (the LiME output is what Volatility reads; compressed output needs `avml convert` first).
#
# Exit codes (exported as CAPTURE_EXIT_CODES in core/ssmDocument.ts; a test keeps both equal):
#   code  name                    meaning
#   0     ok                      image and sidecar uploaded
#   10    bad-parameters          a DFIR_* input is missing or does not match its pattern; nothing was run
#   11    not-linux               uname is not Linux, or /proc/meminfo has no MemTotal
#   12    aws-cli-missing         no `aws` command on PATH, or one without `s3 cp --checksum-algorithm`
#                                 (older than 1.35.0 / 2.18.0)
#   13    avml-download-failed    s3://BUCKET/AVML_KEY could not be fetched (missing, denied, empty)
#   14    avml-hash-mismatch      the fetched avml's sha256 differs from DFIR_AVML_SHA256; it was not run
#   15    avml-failed             avml exited non-zero or produced no data; the image upload was aborted
#   16    upload-failed           the image or sidecar upload failed (aws exited non-zero)
#   17    hash-size-missing       the streamed sha256, byte count or part digests are missing or malformed
#                                 (upload aborted), or no GNU split with --filter to hash parts (nothing run)
#   18    no-ram-dir              no RAM-backed work directory (DFIR_RAM_DIR unusable, /dev/shm not tmpfs)
#   19    avml-wrong-architecture the fetched avml is not this machine's build (ELF e_machine vs uname -m); not run
#   20    no-memory-source        no source avml can read: /proc/kcore absent or locked down, /dev/crash and
#                                 /dev/mem not readable (kernel lockdown, CONFIG_STRICT_DEVMEM); avml was not run
#   other                         an unexpected command failure (set -e), or a signal (128+n)
set -euo pipefail
export LC_ALL=C
umask 077

# shellcheck disable=SC2034  # the status of a normal end (see the last lines); kept for the table and the test
readonly EXIT_OK=0
readonly EXIT_BAD_PARAMETERS=10
readonly EXIT_NOT_LINUX=11
readonly EXIT_AWS_CLI_MISSING=12
readonly EXIT_AVML_DOWNLOAD_FAILED=13
readonly EXIT_AVML_HASH_MISMATCH=14
readonly EXIT_AVML_FAILED=15
readonly EXIT_UPLOAD_FAILED=16
readonly EXIT_HASH_SIZE_MISSING=17
readonly EXIT_NO_RAM_DIR=18
readonly EXIT_AVML_WRONG_ARCHITECTURE=19
readonly EXIT_NO_MEMORY_SOURCE=20

# Parameter patterns: the same text as the document's allowedPattern (core/ssmDocument.ts; a test keeps them
# equal): anchors, bracket classes, groups, alternation and counts only, read alike by bash, JavaScript and SSM.
# None admits a quote, space, `$`, `;`, backslash or newline.
readonly RE_BUCKET='^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'
readonly RE_KEY_PREFIX='^cases/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/memory/$'
readonly RE_AVML_KEY='^tools/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'
readonly RE_AVML_SHA256='^[0-9a-f]{64}$'
readonly RE_REGION='^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$'
readonly RE_INSTANCE_ID='^i-([0-9a-f]{8}|[0-9a-f]{17})$'

readonly RE_HEX64='^[0-9a-f]{64}$'
readonly RE_COUNT='^[0-9]+$'
readonly RE_ISO_TIME='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
readonly RE_PART_LINE='^[0-9a-f]{64}  -$'

# The image's parts (core/memoryParts.ts, CAPTURE_* there; a test keeps them equal): the smallest part, the largest,
# and how many parts the expected size is cut into at most (S3 allows 10,000).
readonly CAPTURE_MIN_PART_BYTES=8388608
readonly CAPTURE_MAX_PART_BYTES=4294967296
readonly CAPTURE_PLANNED_PARTS=5000

# One line on stderr, then the given exit code (the EXIT trap cleans up first).
die() {
    local code=$1
    shift
    printf 'capture: %s\n' "$*" >&2
    exit "$code"
}

# Checks one input against its pattern; the message names the variable, never echoes the value (it may be
# hostile).
require() {
    local name=$1 pattern=$2
    local value=${!name-}
    if [[ -z $value ]]; then
        die "$EXIT_BAD_PARAMETERS" "$name is missing"
    fi
    if ! [[ $value =~ $pattern ]]; then
        die "$EXIT_BAD_PARAMETERS" "$name does not match $pattern"
    fi
}

work=""
exec_mount=""
aws_pid=""
hash_pid=""
count_pid=""
parts_pid=""

# Runs on every exit. An upload still in flight is killed while this shell still holds the write end of its
# stream (fd 9): it never sees end-of-stream, so it never completes the object with partial data.
cleanup() {
    local rc=$?
    if [[ -n $aws_pid ]]; then
        kill -TERM "$aws_pid" 2>/dev/null || true
        wait "$aws_pid" 2>/dev/null || true
    fi
    local pid
    for pid in $hash_pid $count_pid $parts_pid; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    if [[ -n $exec_mount ]]; then
        umount "$exec_mount" 2>/dev/null || umount -l "$exec_mount" 2>/dev/null || true
    fi
    if [[ -n $work ]]; then
        cd /
        rm -rf -- "$work" 2>/dev/null || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Refuse before doing anything: parameters, platform, tools, RAM.
require DFIR_BUCKET "$RE_BUCKET"
require DFIR_KEY_PREFIX "$RE_KEY_PREFIX"
require DFIR_AVML_KEY "$RE_AVML_KEY"
require DFIR_AVML_SHA256 "$RE_AVML_SHA256"
require DFIR_REGION "$RE_REGION"
require DFIR_INSTANCE_ID "$RE_INSTANCE_ID"
readonly bucket=$DFIR_BUCKET
readonly key_prefix=$DFIR_KEY_PREFIX
readonly avml_key=$DFIR_AVML_KEY
readonly avml_sha256=$DFIR_AVML_SHA256
readonly region=$DFIR_REGION
readonly instance_id=$DFIR_INSTANCE_ID
readonly image_key="${key_prefix}${instance_id}.lime"
readonly sidecar_key="${image_key}.json"

kernel=$(uname -s 2>/dev/null || true)
if [[ $kernel != Linux ]]; then
    die "$EXIT_NOT_LINUX" "not Linux (uname -s: ${kernel:-unknown}); avml captures Linux memory only"
fi
if ! command -v aws >/dev/null 2>&1; then
    die "$EXIT_AWS_CLI_MISSING" "the aws CLI is not on PATH ($PATH)"
fi
# The image is uploaded with --checksum-algorithm SHA256: S3 then checks every part's SHA-256 on arrival and keeps it,
# which is what the memory step verifies. `aws s3 cp` has the option from CLI 1.35.0 and 2.18.0 (aws/aws-cli,
# "Flexible checksums for S3 high-level commands", October 2024); an older CLI would refuse it mid-capture.
aws_version=$(aws --version 2>&1 || true)
if ! [[ $aws_version =~ ^aws-cli/([0-9]+)\.([0-9]+)\.[0-9]+ ]]; then
    die "$EXIT_AWS_CLI_MISSING" "cannot read the aws CLI's version (aws --version: ${aws_version:0:80})"
fi
cli_major=${BASH_REMATCH[1]}
cli_minor=${BASH_REMATCH[2]}
if ! ((cli_major > 2 || (cli_major == 2 && cli_minor >= 18) || (cli_major == 1 && cli_minor >= 35))); then
    die "$EXIT_AWS_CLI_MISSING" "aws CLI ${aws_version%% *} has no s3 cp --checksum-algorithm (needs 1.35.0 or 2.18.0 and later)"
fi

# The one memory source avml will read, probed as avml's own probe_single_source does (see the header): the
# destination is a FIFO, which avml cannot rewind to restart from another source.
source_root=${DFIR_SOURCE_ROOT:-}
readable() { { : <"$1"; } 2>/dev/null; }
kcore_bytes=$(stat -L -c %s "$source_root/proc/kcore" 2>/dev/null || true)
if [[ $kcore_bytes =~ $RE_COUNT ]] && ((kcore_bytes > 8192)) && readable "$source_root/proc/kcore"; then
    avml_source=/proc/kcore
elif readable "$source_root/dev/crash"; then
    avml_source=/dev/crash
elif readable "$source_root/dev/mem"; then
    avml_source=/dev/mem
else
    die "$EXIT_NO_MEMORY_SOURCE" "no memory source: /proc/kcore is absent or locked down (${kcore_bytes:-no} bytes), /dev/crash and /dev/mem are not readable"
fi
readonly avml_source

ram_dir=${DFIR_RAM_DIR:-/dev/shm}
if [[ -z ${DFIR_RAM_DIR:-} ]]; then
    fs_type=$(stat -f -c %T "$ram_dir" 2>/dev/null || true)
    if [[ $fs_type != tmpfs && $fs_type != ramfs ]]; then
        die "$EXIT_NO_RAM_DIR" "$ram_dir is not RAM-backed (file system: ${fs_type:-none}); refusing to write to disk"
    fi
fi
if [[ ! -d $ram_dir || ! -w $ram_dir ]]; then
    die "$EXIT_NO_RAM_DIR" "RAM directory $ram_dir is not a writable directory"
fi
if ! work=$(mktemp -d "$ram_dir/dfir-capture.XXXXXXXX" 2>/dev/null); then
    work=""
    die "$EXIT_NO_RAM_DIR" "cannot create a work directory in $ram_dir"
fi
# Anything written relative to the working directory lands in RAM too (SSM starts us in its own directory on
# disk).
cd "$work"
# Each part is hashed by `split --filter` (GNU coreutils 8.13 and later): refused up front if this split has none.
if ! printf 'x' | split -b 1 --filter='cat >/dev/null' 2>/dev/null; then
    die "$EXIT_HASH_SIZE_MISSING" "split has no --filter (GNU coreutils 8.13 or later is needed to hash the image's parts)"
fi

mem_kb=$(awk '$1 == "MemTotal:" { print $2; exit }' /proc/meminfo 2>/dev/null || true)
if ! [[ $mem_kb =~ $RE_COUNT ]]; then
    die "$EXIT_NOT_LINUX" "cannot read MemTotal from /proc/meminfo"
fi
# The LiME image holds every "System RAM" range of /proc/iomem plus 32-byte headers: a little more than MemTotal
# (which leaves out memory the kernel reserved). --expected-size only sizes the multipart parts (at most 10,000 of
# them), so overestimating is cheap and underestimating fails large captures: +25% + 256 MiB.
mem_bytes=$((mem_kb * 1024))
expected_size=$((mem_bytes + mem_bytes / 4 + 268435456))
# The part size is fixed here, not left to the CLI: the smallest 8 MiB x 2^k that cuts the expected size into at most
# CAPTURE_PLANNED_PARTS parts, at most 4 GiB (core/memoryParts.ts capturePartSize). The CLI uploads a stream in
# parts of its configured multipart_chunksize, doubled only while --expected-size would need more than 10,000 of
# them (s3transfer's ChunksizeAdjuster, in aws-cli v1 and v2): never the case here, so the parts hashed below are
# exactly the parts S3 checksums. The CLI holds about 15 parts in memory (0.3% of RAM at 5,000 parts).
part_size=$CAPTURE_MIN_PART_BYTES
while (((expected_size + part_size - 1) / part_size > CAPTURE_PLANNED_PARTS && part_size < CAPTURE_MAX_PART_BYTES)); do
    part_size=$((part_size * 2))
done
# The CLI reads it from a config file of its own, in RAM: the part size, and the classic transfer client (v2's
# automatic choice can be the CRT client, which sizes parts its own way). Only the image upload uses it.
aws_config="$work/aws-config"
printf '[default]\ns3 =\n    multipart_chunksize = %s\n    preferred_transfer_client = classic\n' "$part_size" >"$aws_config"

# 2. Fetch avml into RAM and check it before it ever runs.
avml_bin="$work/avml"
if ! aws s3 cp "s3://${bucket}/${avml_key}" "$avml_bin" --region "$region" --only-show-errors >&2; then
    die "$EXIT_AVML_DOWNLOAD_FAILED" "cannot fetch s3://${bucket}/${avml_key}"
fi
if [[ ! -s $avml_bin ]]; then
    die "$EXIT_AVML_DOWNLOAD_FAILED" "s3://${bucket}/${avml_key} is empty or missing after download"
fi

# Prints the sha256 of a file, or nothing.
file_sha256() {
    local line
    line=$(sha256sum -- "$1" 2>/dev/null) || return 0
    printf '%s' "${line%% *}"
}

actual_sha256=$(file_sha256 "$avml_bin")
if [[ $actual_sha256 != "$avml_sha256" ]]; then
    die "$EXIT_AVML_HASH_MISMATCH" "avml sha256 ${actual_sha256:-unreadable} differs from the pinned $avml_sha256; not running it"
fi
# This machine's build only (a kernel refuses another machine's ELF with ENOEXEC): the ELF header's class (64-bit),
# data (little-endian) and e_machine (bytes 18-19, little-endian) against `uname -m`. Same values as
# AVML_ELF_MACHINE in core/avml.ts (a test keeps them equal).
machine=$(uname -m 2>/dev/null || true)
case $machine in
    x86_64) want_machine=3e00 ;;
    aarch64) want_machine=b700 ;;
    *) die "$EXIT_AVML_WRONG_ARCHITECTURE" "no avml build for this machine (uname -m: ${machine:-unknown}); builds exist for x86_64 and aarch64" ;;
esac
elf_header=$(od -An -v -tx1 -N20 -- "$avml_bin" 2>/dev/null | tr -d ' \n' || true)
if [[ ${elf_header:0:12} != 7f454c460201 || ${elf_header:36:4} != "$want_machine" ]]; then
    die "$EXIT_AVML_WRONG_ARCHITECTURE" "s3://${bucket}/${avml_key} is not the $machine build of avml (ELF header ${elf_header:-unreadable}: want 64-bit little-endian, e_machine $want_machine); not running it"
fi
chmod 0700 "$avml_bin"
if [[ ! -x $avml_bin ]]; then
    # $ram_dir is mounted noexec (CIS-hardened images do this to /dev/shm): mount a small private tmpfs that
    # allows exec inside the work directory (still RAM), copy avml there and check it again.
    avml_bytes=$(wc -c <"$avml_bin")
    mkdir -m 0700 "$work/exec"
    if ! mount -t tmpfs -o "size=$((avml_bytes / 1048576 + 16))m,mode=0700,nosuid,nodev,exec" dfir-capture "$work/exec"; then
        die "$EXIT_NO_RAM_DIR" "$ram_dir is noexec and a private tmpfs could not be mounted"
    fi
    exec_mount="$work/exec"
    cp -- "$avml_bin" "$exec_mount/avml"
    avml_bin="$exec_mount/avml"
    chmod 0700 "$avml_bin"
    actual_sha256=$(file_sha256 "$avml_bin")
    if [[ $actual_sha256 != "$avml_sha256" || ! -x $avml_bin ]]; then
        die "$EXIT_AVML_HASH_MISMATCH" "avml copy in $exec_mount is not the pinned binary or not executable"
    fi
fi

# 3. Stream: avml -> tee -> {sha256sum, wc -c, split | sha256sum per part, aws s3 cp -}. Each consumer reads its
# own FIFO (in RAM) and runs as a background job whose exit status is collected with `wait`, which process
# substitutions would not give. This shell holds the upload FIFO's write end on fd 9 until every check passed:
# only then does aws see end-of-stream and complete the multipart upload.
upload_fifo="$work/upload.fifo"
hash_fifo="$work/hash.fifo"
count_fifo="$work/count.fifo"
parts_fifo="$work/parts.fifo"
mkfifo -m 0600 "$upload_fifo" "$hash_fifo" "$count_fifo" "$parts_fifo"

sha256sum <"$hash_fifo" >"$work/image.sha256" &
hash_pid=$!
wc -c <"$count_fifo" >"$work/image.bytes" &
count_pid=$!
# One `sha256sum` per part, run one after the other by split: one "<hex>  -" line per part, in order.
split -b "$part_size" -a 5 -d --filter='sha256sum' <"$parts_fifo" >"$work/image.parts" &
parts_pid=$!
env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE AWS_CONFIG_FILE="$aws_config" \
    aws s3 cp - "s3://${bucket}/${image_key}" --expected-size "$expected_size" --checksum-algorithm SHA256 \
    --region "$region" --only-show-errors <"$upload_fifo" >&2 &
aws_pid=$!
exec 9>"$upload_fifo"

# avml writes its image into a FIFO (it refuses a symlinked destination such as /dev/stdout; see the header) and
# cat relays that FIFO to stdout. Status: avml's when it failed, else the relay's.
avml_fifo="$work/avml.fifo"
mkfifo -m 0600 "$avml_fifo"
run_avml() {
    local relay_pid avml_rc=0 relay_rc=0
    cat -- "$avml_fifo" &
    relay_pid=$!
    "$avml_bin" acquire --source "$avml_source" "$avml_fifo" || avml_rc=$?
    # Should avml have exited without opening the FIFO (no source, /proc/iomem unreadable...), the relay waits in
    # open() for a writer: a read-write open is a writer that never blocks, and closing it gives that reader
    # end-of-file. Repeated while the relay lives, as it may reach open() only after one such open; harmless while
    # it drains what avml wrote.
    while kill -0 "$relay_pid" 2>/dev/null; do
        : 1<>"$avml_fifo"
        sleep 0.2
    done
    wait "$relay_pid" || relay_rc=$?
    if ((avml_rc != 0)); then
        return "$avml_rc"
    fi
    return "$relay_rc"
}

started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
set +e
run_avml 9>&- | tee -- "$hash_fifo" "$count_fifo" "$parts_fifo" >&9
pipe_status=("${PIPESTATUS[@]}")
set -e
avml_rc=${pipe_status[0]}
tee_rc=${pipe_status[1]}

# Should tee have died before opening a FIFO, its reader would wait forever in open(): a read-write open is a
# writer that never blocks, and closing it gives that reader end-of-file. Harmless when the readers are done.
: 1<>"$hash_fifo"
: 1<>"$count_fifo"
: 1<>"$parts_fifo"
hash_rc=0
wait "$hash_pid" || hash_rc=$?
hash_pid=""
count_rc=0
wait "$count_pid" || count_rc=$?
count_pid=""
parts_rc=0
wait "$parts_pid" || parts_rc=$?
parts_pid=""

image_sha256=""
image_bytes=""
if [[ -f $work/image.sha256 ]]; then
    read -r image_sha256 _ <"$work/image.sha256" || true
fi
if [[ -f $work/image.bytes ]]; then
    read -r image_bytes _ <"$work/image.bytes" || true
fi
part_lines=()
if [[ -f $work/image.parts ]]; then
    mapfile -t part_lines <"$work/image.parts"
fi
parts_ok=1
for line in "${part_lines[@]}"; do
    if ! [[ $line =~ $RE_PART_LINE ]]; then
        parts_ok=0
        break
    fi
done
part_count=${#part_lines[@]}
measured=0
if ((hash_rc == 0 && count_rc == 0 && parts_rc == 0 && parts_ok == 1)) && [[ $image_sha256 =~ $RE_HEX64 && $image_bytes =~ $RE_COUNT ]] &&
    ((part_count == (image_bytes + part_size - 1) / part_size)); then
    measured=1
fi

if ((avml_rc == 0 && tee_rc == 0 && measured == 1)) && ((image_bytes > 0)); then
    # Everything checked: close the stream so aws completes the upload, and wait for its verdict.
    exec 9>&-
    upload_rc=0
    wait "$aws_pid" || upload_rc=$?
    aws_pid=""
    if ((upload_rc != 0)); then
        die "$EXIT_UPLOAD_FAILED" "image upload to s3://${bucket}/${image_key} failed (aws exit $upload_rc)"
    fi
else
    # Something failed: kill the upload before it sees end-of-stream, so no object is completed.
    killed=0
    if kill -TERM "$aws_pid" 2>/dev/null; then
        killed=1
    fi
    upload_rc=0
    wait "$aws_pid" || upload_rc=$?
    aws_pid=""
    exec 9>&-
    if ((upload_rc != 0)) && ! ((killed == 1 && upload_rc == 143)); then
        die "$EXIT_UPLOAD_FAILED" "image upload to s3://${bucket}/${image_key} failed (aws exit $upload_rc); avml exit $avml_rc"
    fi
    if ((hash_rc != 0 || count_rc != 0 || parts_rc != 0)); then
        die "$EXIT_HASH_SIZE_MISSING" "hashing or counting the stream failed (sha256sum exit $hash_rc, wc exit $count_rc, split exit $parts_rc); upload aborted"
    fi
    if ((avml_rc != 0)); then
        die "$EXIT_AVML_FAILED" "avml failed (exit $avml_rc); upload aborted"
    fi
    if ((tee_rc != 0)); then
        die "$EXIT_UPLOAD_FAILED" "the stream to the upload broke (tee exit $tee_rc); upload aborted"
    fi
    if ((measured == 1)); then
        die "$EXIT_AVML_FAILED" "avml produced no data; upload aborted"
    fi
    die "$EXIT_HASH_SIZE_MISSING" "the stream's sha256, byte count or part digests are missing or malformed; upload aborted"
fi
finished_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if ! [[ $started_at =~ $RE_ISO_TIME && $finished_at =~ $RE_ISO_TIME ]]; then
    die "$EXIT_HASH_SIZE_MISSING" "cannot read the clock for the sidecar"
fi

# 4. The sidecar: every field was validated above, so plain printf is valid JSON (at most 10,000 part digests:
# under 700 KB).
summary=$(printf '{"sha256":"%s","bytes":%s,"avmlSha256":"%s","instanceId":"%s","startedAt":"%s","finishedAt":"%s","partSize":%s,"partCount":%s' \
    "$image_sha256" "$image_bytes" "$avml_sha256" "$instance_id" "$started_at" "$finished_at" "$part_size" "$part_count")
part_digests=("${part_lines[@]%%  -}")
parts_json=$(printf '"%s",' "${part_digests[@]}")
if ! printf '%s,"parts":[%s]}\n' "$summary" "${parts_json%,}" | aws s3 cp - "s3://${bucket}/${sidecar_key}" --region "$region" \
    --content-type application/json --only-show-errors >&2; then
    die "$EXIT_UPLOAD_FAILED" "sidecar upload to s3://${bucket}/${sidecar_key} failed (the image is uploaded)"
fi
# Also on stdout, for GetCommandInvocation, without the part list (the object above is the record). The script's
# status is then EXIT_OK; it has no top-level `exit` here because shellcheck 0.9.0 then misreports the EXIT trap's
# handler as unreachable (SC2317).
printf '%s}\n' "$summary"
