import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { errorData, invocationLogger, log } from "../functions/lib/log";
import { InvalidRequestError } from "../functions/lib/errors";

const ROOT = path.join(__dirname, "..");

/** Runs `code` in a fresh node (the Logger reads its level when the module loads) and returns its stdout lines. */
function linesOf(code: string, env: Record<string, string>): string[] {
    const out = execFileSync(process.execPath, ["-r", "./scripts/register-ts.js", "-e", code], {
        cwd: ROOT,
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: "", AWS_LAMBDA_LOG_LEVEL: "", ...env },
        encoding: "utf8",
    });
    return out.split("\n").filter((line) => line !== "");
}

describe("functions' logs (Powertools Logger, functions/lib/log.ts)", () => {
    let lines: string[];
    const realLog = console.log;
    beforeEach(() => {
        lines = [];
        console.log = (line: unknown) => void lines.push(String(line));
    });
    afterEach(() => {
        console.log = realLog;
    });

    it("writes one JSON object per line through console.log, with the invocation's keys and error data", () => {
        const logger = invocationLogger({ caseId: "case-1", instanceId: "i-0123456789abcdef0" }, { awsRequestId: "req-1" });
        logger.info("step done", { objects: 2 });
        logger.error("step failed", { error: errorData(new InvalidRequestError(["target must be an object, got null"], { caseId: "case-1" }, "memory")) });
        log("WARN", "inner module line", { caseId: "case-2" });
        assert.equal(lines.length, 3);
        assert.ok(lines.every((line) => !line.includes("\n")));
        const [info, error, warn] = lines.map((line) => JSON.parse(line));
        assert.deepEqual([info.level, info.message, info.caseId, info.instanceId, info.requestId, info.objects], ["INFO", "step done", "case-1", "i-0123456789abcdef0", "req-1", 2]);
        assert.equal(typeof info.timestamp, "string");
        assert.equal(error.level, "ERROR");
        // JSON drops the undefined instanceId; the error's own fields (problems, ids) stay for a log query.
        assert.deepEqual(error.error, {
            caseId: "case-1",
            problems: ["target must be an object, got null"],
            name: "InvalidRequestError",
            message: "invalid memory request: target must be an object, got null",
        });
        assert.deepEqual([warn.level, warn.message, warn.caseId], ["WARN", "inner module line", "case-2"]);
    });

    it("keeps each invocation's keys to its own lines (concurrent invocations in one process, as in the drill)", () => {
        const first = invocationLogger({ caseId: "case-a" });
        const second = invocationLogger({ caseId: "case-b" });
        first.appendKeys({ instanceId: "i-0aaaaaaaaaaaaaaaa" });
        second.info("b");
        first.info("a");
        const [b, a] = lines.map((line) => JSON.parse(line));
        assert.deepEqual([b.caseId, b.instanceId], ["case-b", undefined]);
        assert.deepEqual([a.caseId, a.instanceId], ["case-a", "i-0aaaaaaaaaaaaaaaa"]);
    });

    it("takes its level from POWERTOOLS_LOG_LEVEL (the component sets it), or from AWS_LAMBDA_LOG_LEVEL", function () {
        this.timeout(60_000);
        const code = 'const { log } = require("./functions/lib/log"); log("INFO", "info line"); log("WARN", "warn line"); log("ERROR", "error line");';
        const messages = (env: Record<string, string>) => linesOf(code, env).map((line) => JSON.parse(line).message);
        assert.deepEqual(messages({ POWERTOOLS_LOG_LEVEL: "INFO" }), ["info line", "warn line", "error line"]);
        assert.deepEqual(messages({ POWERTOOLS_LOG_LEVEL: "ERROR" }), ["error line"]);
        assert.deepEqual(messages({ AWS_LAMBDA_LOG_LEVEL: "WARN" }), ["warn line", "error line"]);
    });

    it("in Lambda, prints through Powertools' own console on stdout, never the runtime's patched console.log", function () {
        this.timeout(60_000);
        // The Lambda runtime patches console.log (under the JSON log format it would wrap each record once more).
        const code = 'console.log = () => { throw new Error("the runtime console was used"); }; const { log } = require("./functions/lib/log"); log("INFO", "in lambda", { caseId: "c-1" });';
        const [line, ...rest] = linesOf(code, { AWS_LAMBDA_FUNCTION_NAME: "aws-dfir-contain", POWERTOOLS_LOG_LEVEL: "INFO" });
        assert.deepEqual(rest, []);
        const record = JSON.parse(line);
        assert.equal(record.message, "in lambda");
        assert.equal(record.caseId, "c-1");
    });
});
