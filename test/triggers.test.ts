/**
 * The other triggers (issue 18): Security Hub (ASFF), GuardDuty instance-credential exfiltration, the dfir:respond
 * tag and the manual start, all through the one triage; their rules' patterns agree with triage on the fixtures.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { triage } from "../core/triage";
import { buildTriggerPatterns, triggerSources } from "../core/pattern";
import { manualEvent } from "../core/triggers";
import { hubEventBusPolicy } from "../core/eventPolicies";
import { runTriageCli } from "../scripts/triage";
import { matches as matchesPattern } from "./support/eventbridge-matcher";

const FIXTURES = path.resolve(__dirname, "..", "fixtures");
const load = (rel: string): any => JSON.parse(readFileSync(path.join(FIXTURES, rel), "utf8"));
const EDR = "securityhub/Imported_EDR_HIGH_AwsEc2Instance.constructed.json";
const OUTSIDE = "triggers/GuardDuty_InstanceCredentialExfiltration.OutsideAWS.constructed.json";
const INSIDE = "triggers/GuardDuty_InstanceCredentialExfiltration.InsideAWS.constructed.json";
const TAG_CONTAIN = "triggers/Tag_Change_dfir_respond_contain.constructed.json";
const TAG_EVIDENCE = "triggers/Tag_Change_dfir_respond_evidence.constructed.json";
const TAG_DOCS = "triggers/Tag_Change_on_Resource_ec2_instance.docs.json";
const code = (reason: string) => reason.split(":")[0];

/** The EDR fixture with its one finding changed by `change`. */
function edr(change: (f: any) => void): any {
    const e = load(EDR);
    change(e.detail.findings[0]);
    return e;
}

describe("triggers: Security Hub (ASFF)", () => {
    it("responds to a HIGH finding of any product on an AwsEc2Instance, naming instance, account, region and product", () => {
        const d = triage(load(EDR));
        assert.equal(d.decision, "respond");
        assert.equal(d.trigger, "securityhub");
        assert.equal(d.instanceId, "i-0c10c2c7863d1a356");
        assert.equal(d.accountId, "193043430472");
        assert.equal(d.region, "us-east-1");
        assert.equal(d.product, "Example EDR");
        assert.equal(d.severityLabel, "HIGH");
        assert.equal(triage(edr((f) => (f.Severity.Label = "CRITICAL"))).decision, "respond");
    });

    it("ignores below the threshold, other resource types, archived, suppressed and resolved records, samples", () => {
        const cases: Array<[string, (f: any) => void]> = [
            ["severity-below-minimum", (f) => (f.Severity.Label = "MEDIUM")],
            ["severity-below-minimum", (f) => (f.Severity.Label = "LOW")],
            ["not-instance", (f) => (f.Resources = [{ Type: "AwsS3Bucket", Id: "arn:aws:s3:::b" }])],
            ["record-archived", (f) => (f.RecordState = "ARCHIVED")],
            ["workflow-closed", (f) => (f.Workflow.Status = "SUPPRESSED")],
            ["workflow-closed", (f) => (f.Workflow.Status = "RESOLVED")],
            ["sample-finding", (f) => (f.Sample = true)],
            ["invalid-instance-id", (f) => (f.Resources[0].Id = "arn:aws:ec2:us-east-1:193043430472:instance/not-an-id")],
        ];
        for (const [expected, change] of cases) {
            const d = triage(edr(change));
            assert.equal(d.decision, "ignore", expected);
            assert.equal(code(d.reason), expected);
        }
        assert.equal(triage(edr((f) => (f.Workflow.Status = "NOTIFIED"))).decision, "respond");
    });

    it("GuardDuty's own findings through Security Hub are ignored (GuardDuty is a direct trigger), bare or delivered", () => {
        for (const file of ["securityhub/GuardDuty_SSHBruteForce_typical.asff.json", "securityhub/Imported_GuardDuty_SSHBruteForce_MEDIUM.constructed.json"]) {
            assert.equal(code(triage(load(file)).reason), "duplicate-of-guardduty", file);
        }
        // With includeGuardDuty the published MEDIUM finding is then below the HIGH threshold.
        assert.equal(code(triage(load("securityhub/GuardDuty_SSHBruteForce_typical.asff.json"), { securityHub: { includeGuardDuty: true } }).reason), "severity-below-minimum");
    });

    it("honours the configured products, threshold and switch", () => {
        assert.equal(code(triage(load(EDR), { securityHub: { products: ["Falcon"] } }).reason), "product-not-allowed");
        assert.equal(triage(load(EDR), { securityHub: { products: ["Example EDR"] } }).decision, "respond");
        assert.equal(code(triage(load(EDR), { securityHub: { minLabel: "CRITICAL" } }).reason), "severity-below-minimum");
        assert.equal(code(triage(load(EDR), { securityHub: { enabled: false } }).reason), "trigger-disabled");
        assert.throws(() => triage(load(EDR), { securityHub: { minLabel: "SEVERE" as never } }), /securityHub.minLabel must be one of/);
    });
});

describe("triggers: GuardDuty instance-credential exfiltration", () => {
    it("responds on the instance named by the role session name (.OutsideAWS and .InsideAWS)", () => {
        for (const file of [OUTSIDE, INSIDE]) {
            const d = triage(load(file));
            assert.equal(d.decision, "respond", file);
            assert.equal(d.trigger, "credential-exfiltration");
            assert.equal(d.instanceId, "i-0a1b2c3d4e5f60718");
        }
    });

    it("ignores below minSeverity, a session name that is not an instance id, and when switched off; other AccessKey findings stay not-instance", () => {
        const low = load(OUTSIDE);
        low.detail.severity = 5;
        assert.equal(code(triage(low).reason), "severity-below-minimum");
        const user = load(OUTSIDE);
        user.detail.resource.accessKeyDetails.principalId = "AIDACKCEVSQ6C2EXAMPLE";
        assert.equal(code(triage(user).reason), "invalid-instance-id");
        assert.equal(code(triage(load(OUTSIDE), { credentialExfiltration: false }).reason), "trigger-disabled");
        assert.equal(code(triage(load("guardduty/Stealth_IAMUser_PasswordPolicyChange.json")).reason), "not-instance");
    });
});

describe("triggers: the dfir:respond tag", () => {
    it("contain responds, evidence responds evidence-only, other changes and values are ignored", () => {
        assert.equal(triage(load(TAG_CONTAIN)).decision, "respond");
        assert.equal(triage(load(TAG_CONTAIN)).evidenceOnly, undefined);
        const evidence = triage(load(TAG_EVIDENCE));
        assert.equal(evidence.decision, "respond");
        assert.equal(evidence.evidenceOnly, true);
        assert.equal(code(triage(load(TAG_DOCS)).reason), "tag-not-changed");
        const other = load(TAG_CONTAIN);
        other.detail.tags["dfir:respond"] = "yes";
        assert.equal(code(triage(other).reason), "tag-value-unknown");
        const removed = load(TAG_CONTAIN);
        delete removed.detail.tags["dfir:respond"];
        assert.equal(code(triage(removed).reason), "tag-removed");
        const volume = load(TAG_CONTAIN);
        volume.detail["resource-type"] = "volume";
        assert.equal(code(triage(volume).reason), "not-instance");
        assert.equal(code(triage(load(TAG_CONTAIN), { tagTrigger: false }).reason), "trigger-disabled");
    });
});

describe("triggers: manual start", () => {
    const request = { requestId: "r-1", accountId: "123456789012", region: "us-east-1", instanceId: "i-0123456789abcdef0", requestedBy: "arn:aws:iam::123456789012:user/alice", reason: "test", evidenceOnly: false, time: "2026-12-07T00:00:00Z" };
    it("records who and why, and evidence-only", () => {
        const d = triage(manualEvent(request));
        assert.equal(d.decision, "respond");
        assert.equal(d.trigger, "manual");
        assert.equal(d.requestedBy, request.requestedBy);
        assert.equal(d.requestReason, "test");
        assert.equal(triage(manualEvent({ ...request, evidenceOnly: true })).evidenceOnly, true);
        assert.equal(code(triage(manualEvent({ ...request, instanceId: "i-xyz" })).reason), "invalid-instance-id");
    });
});

describe("triggers: the rules' patterns agree with triage", () => {
    const all = [EDR, OUTSIDE, INSIDE, TAG_CONTAIN, TAG_EVIDENCE, TAG_DOCS, "securityhub/Imported_GuardDuty_SSHBruteForce_MEDIUM.constructed.json"];
    it("every respond is matched by exactly its own kind's rule; the ignores here are matched by none", () => {
        const patterns = buildTriggerPatterns({});
        const kindOf: Record<string, string> = { securityhub: "securityhub", "credential-exfiltration": "credential-exfiltration", tag: "tag" };
        for (const file of all) {
            const event = load(file);
            const d = triage(event);
            const matched = Object.entries(patterns).filter(([, p]) => matchesPattern(p!, event)).map(([k]) => k);
            assert.deepEqual(matched, d.decision === "respond" ? [kindOf[d.trigger!]] : [], file);
        }
        for (const change of [(f: any) => (f.RecordState = "ARCHIVED"), (f: any) => (f.Workflow.Status = "SUPPRESSED"), (f: any) => (f.Severity.Label = "MEDIUM")]) {
            assert.equal(matchesPattern(patterns.securityhub!, edr(change)), false);
        }
    });

    it("a finding naming its product only in ProductFields: no rule matches it, and triage says so, unless nothing filters products", () => {
        const older = edr((f: any) => {
            f.ProductFields = { ...f.ProductFields, "aws/securityhub/ProductName": f.ProductName };
            delete f.ProductName;
        });
        for (const options of [{}, { securityHub: { products: [load(EDR).detail.findings[0].ProductName] } }]) {
            const d = triage(older, options);
            assert.equal(matchesPattern(buildTriggerPatterns(options).securityhub!, older), false);
            assert.equal(d.decision, "ignore");
            assert.match(d.reason, /^product-not-allowed: no top-level ProductName/);
        }
        // With GuardDuty's own findings included and no list, the rule has no product filter: both answer.
        const open = { securityHub: { includeGuardDuty: true } };
        assert.equal(matchesPattern(buildTriggerPatterns(open).securityhub!, older), true);
        assert.equal(triage(older, open).decision, "respond");
    });

    it("refuses options whose rule and triage could not agree: products of GuardDuty alone without includeGuardDuty, a securityHub that is not an object", () => {
        assert.throws(() => buildTriggerPatterns({ securityHub: { products: ["GuardDuty"] } }), /securityHub\.products lists only "GuardDuty"/);
        assert.doesNotThrow(() => buildTriggerPatterns({ securityHub: { products: ["GuardDuty"], includeGuardDuty: true } }));
        assert.throws(() => triage({}, { securityHub: "yes" as never }), /securityHub must be an object, got/);
    });

    it("switching a trigger off drops its rule; the hub bus admits every forwarded source", () => {
        assert.deepEqual(Object.keys(buildTriggerPatterns({ credentialExfiltration: false, tagTrigger: false, securityHub: { enabled: false } })), ["guardduty"]);
        assert.deepEqual(triggerSources({}), ["aws.guardduty", "aws.securityhub", "aws.tag"]);
        const policy = hubEventBusPolicy({ partition: "aws", busArn: "arn:aws:events:us-east-1:111111111111:event-bus/default", memberAccountIds: ["222222222222"], sources: triggerSources({}) });
        assert.deepEqual((policy.Statement[0] as any).Condition["ForAllValues:StringEquals"]["events:source"], ["aws.guardduty", "aws.securityhub", "aws.tag"]);
    });
});

describe("triggers: npm run triage contract", () => {
    it("decides respond for the ASFF, credential and tag fixtures, ignore for the others", () => {
        const read = (f: string) => readFileSync(f, "utf8");
        const decide = (rel: string) => JSON.parse(runTriageCli([path.join(FIXTURES, rel)], read).stdout).decision;
        for (const rel of [EDR, OUTSIDE, INSIDE, TAG_CONTAIN, TAG_EVIDENCE]) assert.equal(decide(rel), "respond", rel);
        for (const rel of [TAG_DOCS, "securityhub/GuardDuty_SSHBruteForce_typical.asff.json"]) assert.equal(decide(rel), "ignore", rel);
    });
});
