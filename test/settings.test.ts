import { strict as assert } from "node:assert";
import { caseSettingsFromEnv } from "../functions/case/settings";
import { containSettingsFromEnv } from "../functions/contain/settings";
import { positiveIntegerFromEnv, requiredFromEnv } from "../functions/lib/evidence";
import { ConfigurationError } from "../functions/lib/errors";
import { lockDaysFromEnv } from "../functions/snapshot/index";
import { parseDfirConfig } from "../core/config";
import { MAX_LOCK_DAYS } from "../core/snapshotLock";

/** The ConfigurationError a reader throws for `env`. */
function problem(read: () => unknown): ConfigurationError {
    try {
        read();
    } catch (error) {
        assert.ok(error instanceof ConfigurationError, String(error));
        return error;
    }
    return assert.fail("no ConfigurationError");
}

describe("the functions' settings from the environment (functions/lib/settings.ts)", () => {
    const GROUPS = JSON.stringify({ "vpc-0123abcd": "sg-0123abcd" });

    it("names the first variable at fault, in the order the settings list them, with what it expected", () => {
        assert.equal(problem(() => caseSettingsFromEnv({ CASES_TABLE: " ", EVIDENCE_BUCKET: "no" })).message,
            "configuration error: environment variable CASES_TABLE is not set; expected a DynamoDB table name");
        assert.equal(problem(() => caseSettingsFromEnv({ CASES_TABLE: "t-1", EVIDENCE_BUCKET: "b-1", HOME_ACCOUNT_ID: "12" })).message,
            'configuration error: environment variable HOME_ACCOUNT_ID is not a 12-digit account id: "12"');
    });

    it("treats a blank optional variable as unset, leaving its setting absent", () => {
        assert.deepEqual(caseSettingsFromEnv({ CASES_TABLE: "t-1", EVIDENCE_BUCKET: "b-1", RESPONDER_ROLE_NAME: "", AWS_REGION: " " }), { casesTable: "t-1", evidenceBucket: "b-1" });
        assert.deepEqual(containSettingsFromEnv({ ISOLATION_GROUPS: GROUPS, UNTRACK_GROUPS: " ", CASES_TABLE: "t-1" }),
            { isolationGroups: { "vpc-0123abcd": "sg-0123abcd" }, untrackGroups: {}, revocationLock: { table: "t-1" } });
    });

    it("says what is wrong with a group map, keeps the JSON error as the cause, and lists every bad entry", () => {
        const notJson = problem(() => containSettingsFromEnv({ ISOLATION_GROUPS: "vpc=sg" }));
        assert.match(notJson.message, /ISOLATION_GROUPS is not valid JSON; expected a JSON object mapping VPC ids/);
        assert.ok(notJson.cause instanceof SyntaxError);
        assert.ok(!("cause" in problem(() => containSettingsFromEnv({}))));
        assert.match(problem(() => containSettingsFromEnv({ ISOLATION_GROUPS: "{}" })).message, /ISOLATION_GROUPS is an empty object;/);
        assert.match(problem(() => containSettingsFromEnv({ ISOLATION_GROUPS: GROUPS, UNTRACK_GROUPS: '{"sg-0123abcd":"vpc-0123abcd","vpc-0123abcd":1}' })).message,
            /UNTRACK_GROUPS has invalid entries \("sg-0123abcd": "vpc-0123abcd", "vpc-0123abcd": 1\);/);
    });

    it("reads a positive whole number or its default, and a required value trimmed", () => {
        assert.equal(positiveIntegerFromEnv({}, "RETENTION_DAYS", 7), 7);
        assert.equal(positiveIntegerFromEnv({ RETENTION_DAYS: " 30 " }, "RETENTION_DAYS", 7), 30);
        assert.equal(problem(() => positiveIntegerFromEnv({ RETENTION_DAYS: "1.5" }, "RETENTION_DAYS", 7)).message,
            'configuration error: environment variable RETENTION_DAYS must be a positive whole number, got "1.5"');
        assert.equal(requiredFromEnv({ MEMORY_DOCUMENT: " doc " }, "MEMORY_DOCUMENT"), "doc");
        assert.equal(problem(() => requiredFromEnv({}, "MEMORY_DOCUMENT")).message, "configuration error: environment variable MEMORY_DOCUMENT is not set");
    });

    it("the snapshot step's retention must be a snapshot lock's duration: refused in one line before any call, as the stack config refuses it", () => {
        assert.equal(lockDaysFromEnv({ RETENTION_DAYS: String(MAX_LOCK_DAYS) }), MAX_LOCK_DAYS);
        assert.equal(lockDaysFromEnv({}), 365);
        assert.equal(problem(() => lockDaysFromEnv({ RETENTION_DAYS: String(MAX_LOCK_DAYS + 1) })).message,
            `configuration error: environment variable RETENTION_DAYS must be 1 to ${MAX_LOCK_DAYS} days (LockSnapshot's LockDuration), got ${MAX_LOCK_DAYS + 1}`);
        assert.throws(() => parseDfirConfig({ vpcId: "vpc-0123abcd", evidenceRetentionDays: MAX_LOCK_DAYS + 1 }), /dfir:evidenceRetentionDays must be a whole number from 1 to 36500/);
    });
});
