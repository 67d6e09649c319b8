import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
    CAPTURE_MAX_PART_BYTES,
    CAPTURE_MIN_PART_BYTES,
    CAPTURE_PLANNED_PARTS,
    captureExpectedSize,
    capturePartSize,
    comparePartRecord,
    partBytes,
    partCount,
    partRecordProblem,
    partsSha256,
    s3transferChunksize,
    S3_MAX_PARTS,
} from "../core/memoryParts";

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
const TIB = 1024 ** 4;
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

describe("memory image parts (core/memoryParts.ts)", () => {
    describe("capturePartSize: the script's part size, which the AWS CLI keeps", () => {
        const hosts = [512 * MIB, 1 * GIB, 4 * GIB, 16 * GIB, 64 * GIB, 256 * GIB, 768 * GIB, 2 * TIB, 12 * TIB, 24 * TIB];

        for (const memTotal of hosts) {
            it(`MemTotal ${memTotal / GIB} GiB: a power-of-two multiple of 8 MiB, at most 4 GiB, unchanged by s3transfer's ChunksizeAdjuster`, () => {
                const size = capturePartSize(memTotal);
                const expected = captureExpectedSize(memTotal);

                assert.ok(size >= CAPTURE_MIN_PART_BYTES && size <= CAPTURE_MAX_PART_BYTES, String(size));
                assert.equal(Math.log2(size / CAPTURE_MIN_PART_BYTES) % 1, 0, `${size} is 8 MiB x 2^k`);
                assert.equal(s3transferChunksize(size, expected), size, "the CLI uploads in exactly these parts");
                if (size < CAPTURE_MAX_PART_BYTES) assert.ok(partCount(expected, size) <= CAPTURE_PLANNED_PARTS, `${partCount(expected, size)} planned parts`);
                assert.ok(partCount(expected, size) <= S3_MAX_PARTS);
                if (size > CAPTURE_MIN_PART_BYTES) assert.ok(partCount(expected, size / 2) > CAPTURE_PLANNED_PARTS, "the smallest size that fits");
            });
        }

        it("a 256 GiB host: 128 MiB parts, 2,048 of them for its image (3 pages of GetObjectAttributes)", () => {
            assert.equal(capturePartSize(256 * GIB), 128 * MIB);
            assert.equal(partCount(256 * GIB, 128 * MIB), 2048);
        });

        it("the expected size is capture.sh's arithmetic (bash integers): MemTotal + MemTotal/4 + 256 MiB", () => {
            const memTotal = 1_000_003 * 1024;
            const bash = spawnSync("bash", ["-c", `m=${memTotal}; echo $((m + m / 4 + 268435456))`], { encoding: "utf8" });

            assert.equal(captureExpectedSize(memTotal), Number(bash.stdout.trim()));
        });
    });

    describe("s3transferChunksize (the CLI's ChunksizeAdjuster)", () => {
        it("doubles while more than 10,000 parts would be needed, then keeps within 5 MiB..5 GiB", () => {
            assert.equal(s3transferChunksize(8 * MIB, captureExpectedSize(256 * GIB)), 64 * MIB, "the CLI's default for a 256 GiB host");
            assert.equal(s3transferChunksize(8 * MIB, 80 * GIB), 16 * MIB);
            assert.equal(s3transferChunksize(1 * MIB, undefined), 5 * MIB);
            assert.equal(s3transferChunksize(8 * GIB, undefined), 5 * GIB);
        });
    });

    describe("partsSha256", () => {
        it("is the sha256 of the raw part digests concatenated in order (what split | cut | xxd -r -p | sha256sum gives)", () => {
            const digests = [sha("a"), sha("b"), sha("c")];
            const expected = createHash("sha256").update(Buffer.concat(digests.map((d) => Buffer.from(d, "hex")))).digest("hex");

            assert.equal(partsSha256(digests), expected);
            assert.notEqual(partsSha256([digests[1], digests[0], digests[2]]), expected, "order matters");
        });

        it("refuses a digest that is not 64 lower-case hex digits", () => {
            assert.throws(() => partsSha256([sha("a").toUpperCase()]), /not a sha256 in hex/);
        });
    });

    describe("partRecordProblem: a sidecar's part list, checked before anything is compared", () => {
        const good = { bytes: 20 * MIB + 1, partSize: 8 * MIB, parts: [sha("1"), sha("2"), sha("3")] };

        it("accepts a consistent record", () => {
            assert.equal(partRecordProblem(good), undefined);
        });

        const bad: [string, Record<string, unknown>, RegExp][] = [
            ["no bytes", { ...good, bytes: undefined }, /bytes is not a positive whole number/],
            ["bytes as text", { ...good, bytes: "20971521" }, /bytes is not/],
            ["a part size S3 refuses", { ...good, partSize: 4 * MIB }, /partSize is not a whole number of bytes from 5242880/],
            ["no parts", { ...good, parts: [] }, /parts is not a list of 1 to 10000/],
            ["a part that is not a digest", { ...good, parts: [sha("1"), "x", sha("3")] }, /parts\[1\] is not a sha256/],
            ["one digest too few", { ...good, parts: [sha("1"), sha("2")] }, /2 part digests for 20971521 bytes in parts of 8388608 \(expected 3\)/],
        ];
        for (const [what, record, problem] of bad) {
            it(`refuses ${what}`, () => {
                assert.match(partRecordProblem(record) ?? "", problem);
            });
        }
    });

    describe("comparePartRecord: the instance's record against S3's parts", () => {
        const record = { bytes: 20 * MIB + 1, partSize: 8 * MIB, parts: [sha("1"), sha("2"), sha("3")] };
        const stored = () => record.parts.map((digest, i) => ({ partNumber: i + 1, size: partBytes(record.bytes, record.partSize, i), sha256: digest }));

        it("agrees when size, count and every part agree", () => {
            assert.equal(comparePartRecord(record, record.bytes, stored()), undefined);
            assert.deepEqual(stored().map((p) => p.size), [8 * MIB, 8 * MIB, 4 * MIB + 1]);
        });

        it("names the object's size first, then the count", () => {
            assert.deepEqual(comparePartRecord(record, record.bytes - 1, stored()), { kind: "size", expectedBytes: record.bytes, actualBytes: record.bytes - 1 });
            assert.deepEqual(comparePartRecord(record, record.bytes, stored().slice(0, 2)), { kind: "count", expectedParts: 3, actualParts: 2 });
        });

        it("names the first part whose digest, size or number differs", () => {
            const changed = stored();
            changed[1] = { ...changed[1], sha256: sha("other") };
            assert.deepEqual(comparePartRecord(record, record.bytes, changed), {
                kind: "part",
                partNumber: 2,
                expected: { sha256: sha("2"), bytes: 8 * MIB },
                actual: { sha256: sha("other"), bytes: 8 * MIB },
            });
            const renumbered = stored();
            renumbered[2] = { ...renumbered[2], partNumber: 4 };
            assert.equal(comparePartRecord(record, record.bytes, renumbered)?.kind, "part");
            const unchecked = stored();
            delete (unchecked[0] as { sha256?: string }).sha256;
            assert.deepEqual(comparePartRecord(record, record.bytes, unchecked), { kind: "part", partNumber: 1, expected: { sha256: sha("1"), bytes: 8 * MIB }, actual: { sha256: "none", bytes: 8 * MIB } });
        });
    });
});
