import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { triage } from "../core/triage";
import { InputError, parseEvents, runTriageCli } from "../scripts/triage";
import { TS_REGISTER } from "../scripts/lib/tsRegister";
import { GUARDDUTY_FIXTURES, guardDutyFixtureFiles } from "../scripts/lib/fixtures";

const REPO = path.resolve(__dirname, "..");
const FIXTURES = GUARDDUTY_FIXTURES;
const FIXTURE_PATHS = guardDutyFixtureFiles();

function fixture(file: string): unknown {
    return JSON.parse(readFileSync(file, "utf8"));
}

/** Runs the CLI exactly as `npm run triage` does (same node, same loader), from the repo root. */
function runCli(...args: string[]) {
    const result = spawnSync(process.execPath, ["-r", TS_REGISTER, "scripts/triage.ts", ...args], {
        cwd: REPO,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function lines(text: string): string[] {
    return text.split("\n").filter((line) => line !== "");
}

describe("parseEvents", () => {
    it("one JSON document is one event; a JSON array is its elements, in order", () => {
        assert.deepEqual(parseEvents('{"a":1}', "f"), [{ a: 1 }]);
        assert.deepEqual(parseEvents('[{"a":1},\n{"a":2},\nnull]', "f"), [{ a: 1 }, { a: 2 }, null]);
        assert.deepEqual(parseEvents("[]", "f"), []);
        assert.deepEqual(parseEvents('\uFEFF{"a":1}\n', "f"), [{ a: 1 }]);
    });

    it("newline-delimited JSON is one event per non-blank line (CRLF too; a line holding an array is one event)", () => {
        const text = '{"a":1}\r\n\r\n  {"a":2}\n[1,2]\n"x"\n';

        assert.deepEqual(parseEvents(text, "f"), [{ a: 1 }, { a: 2 }, [1, 2], "x"]);
    });

    it("reports the NDJSON line that is malformed", () => {
        assert.throws(() => parseEvents('{"a":1}\n{"a":2}\n{"a":\n{"a":4}', "events.ndjson"), {
            message: "events.ndjson: malformed JSON at line 3",
        });
    });

    it("reports a broken pretty-printed document at the line of the error", () => {
        const text = '{\n  "a": 1,\n  "b" 2\n}\n';

        assert.throws(() => parseEvents(text, "event.json"), (error: unknown) => {
            return error instanceof InputError && error.message === "event.json: malformed JSON at line 3";
        });
    });

    it("reports truncated and empty input", () => {
        assert.throws(() => parseEvents('{\n  "a": [1,\n', "cut.json"), { message: "cut.json: malformed JSON at line 3" });
        assert.throws(() => parseEvents(" \n\n", "empty.json"), { message: "empty.json: no JSON events (empty file)" });
    });
});

describe("runTriageCli (in process)", () => {
    it("reads every file before printing: a later unreadable file leaves stdout empty", () => {
        const read = (file: string) => {
            if (file === "good.json") return readFileSync(FIXTURE_PATHS[0], "utf8");
            throw Object.assign(new Error("permission denied"), { code: "EACCES" });
        };

        const result = runTriageCli(["good.json", "locked.json"], read);

        assert.deepEqual(result, { exitCode: 2, stdout: "", stderr: "triage: cannot read locked.json: EACCES\n" });
    });

    it("flags may come before or after the files", () => {
        const read = () => readFileSync(path.join(FIXTURES, "Trojan_EC2_DropPoint_DNS.json"), "utf8");

        const before = runTriageCli(["--allow-samples", "--min-severity", "5", "x.json"], read);
        const after = runTriageCli(["x.json", "--min-severity=5", "--allow-samples"], read);

        assert.equal(before.exitCode, 0);
        assert.equal(JSON.parse(before.stdout).decision, "respond");
        assert.equal(after.stdout, before.stdout);
    });

    it("rejects flag values outside 1-10 and flags that take no value", () => {
        const read = () => "{}";
        const stderrOf = (...argv: string[]) => runTriageCli(argv, read).stderr;

        assert.equal(stderrOf("x", "--min-severity", "0"), "triage: --min-severity needs a number between 1 and 10\n");
        assert.equal(stderrOf("x", "--min-severity", "10.5"), "triage: --min-severity needs a number between 1 and 10\n");
        assert.equal(stderrOf("x", "--min-severity"), "triage: --min-severity needs a number between 1 and 10\n");
        assert.equal(stderrOf("x", "--allow-samples=no"), "triage: option '--allow-samples' does not take an argument\n");
    });
});

describe("triage CLI (spawned)", () => {
    let tmp: string;

    before(() => {
        tmp = mkdtempSync(path.join(os.tmpdir(), "triage-cli-"));
    });

    after(() => {
        rmSync(tmp, { recursive: true, force: true });
    });

    it("prints one decision per fixture, in order, equal to triage()", () => {
        const expected = FIXTURE_PATHS.map((file) => JSON.stringify(triage(fixture(file))));

        const result = runCli(...FIXTURE_PATHS);

        assert.equal(result.stderr, "");
        assert.equal(result.status, 0);
        assert.equal(lines(result.stdout).length, 30);
        assert.deepEqual(lines(result.stdout), expected);
        assert.equal(expected.filter((line) => JSON.parse(line).decision === "respond").length, 3);
    });

    it("with no FILE triages the whole fixture set (fixtures/guardduty/*.json, in name order)", () => {
        const options = { minSeverity: 5, allowSamples: true };
        const expected = FIXTURE_PATHS.map((file) => JSON.stringify(triage(fixture(file), options)));

        const plain = runCli();
        const withOptions = runCli("--min-severity", "5", "--allow-samples");

        assert.equal(plain.status, 0, plain.stderr);
        assert.deepEqual(lines(plain.stdout), FIXTURE_PATHS.map((file) => JSON.stringify(triage(fixture(file)))));
        assert.equal(lines(plain.stdout).length, 30);
        assert.equal(withOptions.status, 0, withOptions.stderr);
        assert.deepEqual(lines(withOptions.stdout), expected);
    });

    it("--min-severity 5 --allow-samples change the decisions as triage() does with those options", () => {
        const options = { minSeverity: 5, allowSamples: true };
        const expected = FIXTURE_PATHS.map((file) => JSON.stringify(triage(fixture(file), options)));

        const result = runCli("--min-severity", "5", ...FIXTURE_PATHS, "--allow-samples");

        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(lines(result.stdout), expected);
        assert.equal(expected.filter((line) => JSON.parse(line).decision === "respond").length, 13);
    });

    it("reads a JSON array file and an NDJSON file as one line per event", () => {
        const events = [
            "Trojan_EC2_DNSDataExfiltration.json",
            "PenTest_S3_ParrotLinux.json",
            "UnauthorizedAccess_EC2_TorRelay.json",
        ].map((name) => fixture(path.join(FIXTURES, name)));
        const arrayFile = path.join(tmp, "events.json");
        const ndjsonFile = path.join(tmp, "events.ndjson");
        writeFileSync(arrayFile, JSON.stringify(events, null, 2));
        writeFileSync(ndjsonFile, events.map((event) => JSON.stringify(event)).join("\n") + "\n");
        const expected = events.map((event) => JSON.stringify(triage(event)));

        const result = runCli(arrayFile, ndjsonFile);

        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(lines(result.stdout), [...expected, ...expected]);
        assert.deepEqual(expected.map((line) => JSON.parse(line).decision), ["respond", "ignore", "ignore"]);
    });

    const badInput: Array<[string, () => string[], RegExp]> = [
        ["a missing file", () => [FIXTURE_PATHS[0], path.join(tmp, "missing.json")], /^triage: cannot read .*missing\.json: ENOENT$/],
        ["malformed JSON", () => [FIXTURE_PATHS[0], writeBroken()], /^triage: .*broken\.json: malformed JSON at line 3$/],
        ["an unknown flag", () => [FIXTURE_PATHS[0], "--min-sev", "5"], /^triage: unknown option '--min-sev'$/],
        ["--min-severity abc", () => [FIXTURE_PATHS[0], "--min-severity", "abc"], /^triage: --min-severity needs a number between 1 and 10$/],
    ];

    function writeBroken(): string {
        const file = path.join(tmp, "broken.json");
        writeFileSync(file, '{\n  "source": "aws.guardduty",\n  "detail" {}\n}\n');
        return file;
    }

    for (const [label, args, message] of badInput) {
        it(`exits 2 with one stderr line and no stdout for ${label}`, () => {
            const result = runCli(...args());

            assert.equal(result.status, 2);
            assert.equal(result.stdout, "");
            assert.equal(lines(result.stderr).length, 1, result.stderr);
            assert.match(result.stderr, /\n$/);
            assert.match(lines(result.stderr)[0], message);
        });
    }
});
