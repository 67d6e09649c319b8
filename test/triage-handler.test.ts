import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { caseIdFor } from "../core/case";
import { verdictFor } from "../functions/triage";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const FIXTURES = GUARDDUTY_FIXTURES;
const event = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), "utf8"));

describe("triage guard function", () => {
    it("gives an actionable finding its deterministic case id", () => {
        const verdict = verdictFor(event("Trojan_EC2_DNSDataExfiltration.json"), {});

        assert.equal(verdict.decision, "respond");
        assert.equal(verdict.caseId, caseIdFor("i-052d01dc385deeeee", verdict.findingId as string));
        assert.match(verdict.caseId as string, /^i-052d01dc385deeeee-[0-9a-f]{12}$/);
    });

    it("gives an ignored finding no case id", () => {
        const verdict = verdictFor(event("Trojan_EC2_DGADomainRequest.C_DNS.json"), {});

        assert.equal(verdict.decision, "ignore");
        assert.equal(verdict.caseId, undefined);
    });

    it("follows the deployed options in its environment", () => {
        const sample = event("Trojan_EC2_DGADomainRequest.C_DNS.json");

        assert.equal(verdictFor(sample, { ALLOW_SAMPLES: "true" }).decision, "respond");
        assert.equal(verdictFor(event("Trojan_EC2_DNSDataExfiltration.json"), { MIN_SEVERITY: "9" }).decision, "ignore");
    });

    it("fails loudly on a bad deployment value rather than deciding with it", () => {
        assert.throws(() => verdictFor(event("Trojan_EC2_DNSDataExfiltration.json"), { MIN_SEVERITY: "eleven" }), /minSeverity/);
    });
});
