import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
    DEFAULT_TRIAGE_OPTIONS,
    INSTANCE_ID_PATTERN,
    severityLabel,
    triage,
    validateTriageOptions,
    type TriageDecision,
} from "../core/triage";
import { GUARDDUTY_FIXTURES } from "../scripts/lib/fixtures";

const FIXTURES = GUARDDUTY_FIXTURES;
const FIXTURE_FILES = readdirSync(FIXTURES).filter((name) => name.endsWith(".json")).sort();
const FIXTURE_VALUES = new Map(FIXTURE_FILES.map((name) => [name, JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8"))]));

/** A private copy of a fixture: tests may mutate it freely. */
function fixture(name: string): any {
    assert.ok(FIXTURE_VALUES.has(name), `no fixture ${name}`);
    return structuredClone(FIXTURE_VALUES.get(name));
}

/** A real, actionable High-severity envelope (i-052d01dc385deeeee), edited through its detail. */
function realEnvelopeWith(edit: (detail: any) => void): any {
    const event = fixture("Trojan_EC2_DNSDataExfiltration.json");
    edit(event.detail);
    return event;
}

function codeOf(decision: TriageDecision): string {
    return decision.reason.slice(0, decision.reason.indexOf(":"));
}

type Expected = [decision: "respond" | "ignore", code: string];

/** Every fixture with its default-options outcome (see fixtures/guardduty/INDEX.md for why). */
const EXPECTED: Record<string, Expected> = {
    "AttackSequence_IAM_CompromisedCredentials.json": ["ignore", "not-instance"],
    "Backdoor_EC2_DenialOfService.Tcp.json": ["ignore", "sample-finding"],
    "Behavior_EC2_NetworkPortUnusual.json": ["ignore", "severity-below-minimum"],
    "Canary_EC2_Stateless.IntegTest.json": ["ignore", "severity-below-minimum"],
    "CredentialAccess_RDS_AnomalousBehavior.SuccessfulLogin.json": ["ignore", "not-instance"],
    "CryptoCurrency_EC2_BitcoinTool.B_DNS.json": ["respond", "actionable"],
    "CryptoCurrency_EC2_BitcoinTool.B_DNS__real_lab39.json": ["respond", "actionable"],
    "Discovery_S3_MaliciousIPCaller.Custom.json": ["ignore", "not-instance"],
    "Execution_Container_SuspiciousFile.json": ["ignore", "not-instance"],
    "Execution_ECS_MaliciousFile.json": ["ignore", "not-instance"],
    "Exfiltration_IAMUser_AnomalousBehavior.json": ["ignore", "not-instance"],
    "PenTest_S3_ParrotLinux.json": ["ignore", "not-instance"],
    "Policy_IAMUser_RootCredentialUsage.json": ["ignore", "not-instance"],
    "Policy_Kubernetes_AdminAccessToDefaultServiceAccount.json": ["ignore", "not-instance"],
    "PrivilegeEscalation_Runtime_DockerSocketAccessed.json": ["ignore", "not-instance"],
    "Recon_EC2_PortProbeEMRUnprotectedPort.json": ["ignore", "severity-below-minimum"],
    "Recon_EC2_PortProbeUnprotectedPort.json": ["ignore", "severity-below-minimum"],
    "Recon_IAMUser_MaliciousIPCaller.Custom.json": ["ignore", "not-instance"],
    "Stealth_IAMUser_CloudTrailLoggingDisabled.json": ["ignore", "not-instance"],
    "Stealth_IAMUser_LoggingConfigurationModified.json": ["ignore", "not-instance"],
    "Stealth_IAMUser_PasswordPolicyChange.json": ["ignore", "not-instance"],
    "Trojan_EC2_DGADomainRequest.C_DNS.json": ["ignore", "sample-finding"],
    "Trojan_EC2_DNSDataExfiltration.json": ["respond", "actionable"],
    "Trojan_EC2_DriveBySourceTraffic_DNS.json": ["ignore", "sample-finding"],
    "Trojan_EC2_DropPoint_DNS.json": ["ignore", "severity-below-minimum"],
    "UnauthorizedAccess_EC2_MaliciousIPCaller.Custom.json": ["ignore", "severity-below-minimum"],
    "UnauthorizedAccess_EC2_MetadataDNSRebind.json": ["ignore", "sample-finding"],
    // Only `region` + `detail`: no source/detail-type, so the rule would never deliver it.
    "UnauthorizedAccess_EC2_SSHBruteForce.json": ["ignore", "not-guardduty"],
    "UnauthorizedAccess_EC2_TorIPCaller.json": ["ignore", "severity-below-minimum"],
    "UnauthorizedAccess_EC2_TorRelay.json": ["ignore", "sample-finding"],
};

/** Fixtures whose decision differs between the defaults and `options`, with the new reason code. */
function changedFrom(options: Parameters<typeof triage>[1]): Record<string, string> {
    const changed: Record<string, string> = {};
    for (const name of FIXTURE_FILES) {
        const before = triage(fixture(name));
        const after = triage(fixture(name), options);
        const outcome = `${after.decision} ${codeOf(after)}`;
        if (`${before.decision} ${codeOf(before)}` !== outcome) changed[name] = outcome;
    }
    return changed;
}

const DECISION_KEY_ORDER = ["decision", "reason", "trigger", "findingId", "findingType", "severity", "severityLabel", "accountId", "region", "instanceId", "product", "evidenceOnly", "requestedBy", "requestReason"];

/** Keys in the contract order, none of them holding undefined. */
function assertWellFormed(decision: TriageDecision, label: string): void {
    const keys = Object.keys(decision);
    assert.deepEqual(keys, DECISION_KEY_ORDER.filter((key) => keys.includes(key)), `${label}: key order`);
    assert.ok(keys.every((key) => key in decision && (decision as any)[key] !== undefined), `${label}: undefined value`);
    assert.ok(keys.every((key) => DECISION_KEY_ORDER.includes(key)), `${label}: unexpected key`);
    assert.match(decision.reason, /^[a-z]+(?:-[a-z]+)*: \S.*$/, `${label}: reason format`);
}

describe("triage: the 30 GuardDuty fixtures with default options", () => {
    it("the expected table lists exactly the fixture directory", () => {
        assert.equal(FIXTURE_FILES.length, 30);
        assert.deepEqual(Object.keys(EXPECTED).sort(), FIXTURE_FILES);
    });

    for (const [name, [decision, code]] of Object.entries(EXPECTED)) {
        it(`${name} -> ${decision} (${code})`, () => {
            const event = fixture(name);

            const result = triage(event);

            assert.equal(result.decision, decision, result.reason);
            assert.equal(codeOf(result), code, result.reason);
            assertWellFormed(result, name);
        });
    }

    it("a real finding yields every contract field, in order, from the finding's detail", () => {
        const event = fixture("Trojan_EC2_DNSDataExfiltration.json");

        const result = triage(event);

        assert.equal(
            JSON.stringify(result),
            JSON.stringify({
                decision: "respond",
                reason: "actionable: High severity 8 finding on instance i-052d01dc385deeeee",
                trigger: "guardduty",
                findingId: event.detail.id,
                findingType: "Trojan:EC2/DNSDataExfiltration",
                severity: 8,
                accountId: "000001111194",
                region: "ap-southeast-2",
                instanceId: "i-052d01dc385deeeee",
            }),
        );
    });

    it("a bare finding is treated as delivered: fields come from the finding itself", () => {
        const event = fixture("UnauthorizedAccess_EC2_TorRelay.json");

        const result = triage(event, { allowSamples: true });

        assert.deepEqual(result, {
            decision: "respond",
            reason: "actionable: High severity 8 finding on instance i-99999999",
            trigger: "guardduty",
            findingId: event.id,
            findingType: "UnauthorizedAccess:EC2/TorRelay",
            severity: 8,
            accountId: "111111111111",
            region: "eu-west-2",
            instanceId: "i-99999999",
        });
    });

    it("the finding's accountId is reported, never the envelope's delivering account", () => {
        const event = realEnvelopeWith((d) => (d.accountId = "222233334444"));
        event.account = "111122223333";

        assert.equal(triage(event).accountId, "222233334444");
    });

    it("region falls back to the envelope's when the detail has none", () => {
        const event = realEnvelopeWith((d) => delete d.region);
        event.region = "eu-central-1";

        assert.equal(triage(event).region, "eu-central-1");
    });
});

describe("triage: options change exactly the expected fixtures", () => {
    it("allowSamples turns only the High-severity Instance samples into respond", () => {
        const changed = changedFrom({ allowSamples: true });

        assert.deepEqual(changed, {
            "Backdoor_EC2_DenialOfService.Tcp.json": "respond actionable",
            "Trojan_EC2_DGADomainRequest.C_DNS.json": "respond actionable",
            "Trojan_EC2_DriveBySourceTraffic_DNS.json": "respond actionable",
            "UnauthorizedAccess_EC2_MetadataDNSRebind.json": "respond actionable",
            "UnauthorizedAccess_EC2_TorRelay.json": "respond actionable",
        });
    });

    it("minSeverity 5 moves the Medium Instance findings past the severity check", () => {
        const changed = changedFrom({ minSeverity: 5 });

        assert.deepEqual(changed, {
            "Behavior_EC2_NetworkPortUnusual.json": "ignore sample-finding",
            "Canary_EC2_Stateless.IntegTest.json": "respond actionable",
            "Trojan_EC2_DropPoint_DNS.json": "ignore sample-finding",
            "UnauthorizedAccess_EC2_MaliciousIPCaller.Custom.json": "ignore sample-finding",
            "UnauthorizedAccess_EC2_TorIPCaller.json": "ignore sample-finding",
        });
    });

    it("severity below minimum names both numbers", () => {
        assert.equal(triage(fixture("Recon_EC2_PortProbeUnprotectedPort.json"), { minSeverity: 5 }).reason, "severity-below-minimum: 2 < 5");
    });
});

describe("triage: severity", () => {
    it("Critical severities respond: there is no upper bound", () => {
        const results = [9.5, 10].map((severity) => triage(realEnvelopeWith((d) => (d.severity = severity))));

        assert.deepEqual(results.map((r) => r.decision), ["respond", "respond"]);
        assert.match(results[0].reason, /^actionable: Critical severity 9\.5 /);
        assert.equal(results[1].severity, 10);
    });

    it("6.9 is ignored; 7 and 7.0 (as JSON text) respond", () => {
        const text = JSON.stringify(fixture("Trojan_EC2_DNSDataExfiltration.json"));
        const withSeverity = (json: string) => JSON.parse(text.replace('"severity":8', `"severity":${json}`));
        assert.ok(text.includes('"severity":8'));

        const results = ["6.9", "7", "7.0"].map((json) => triage(withSeverity(json)));

        assert.deepEqual(results.map((r) => r.decision), ["ignore", "respond", "respond"]);
        assert.equal(results[0].reason, "severity-below-minimum: 6.9 < 7");
    });

    it("a fractional minSeverity is honoured", () => {
        const at = (severity: number) => triage(realEnvelopeWith((d) => (d.severity = severity)), { minSeverity: 7.5 }).decision;

        assert.deepEqual([7.4, 7.5].map(at), ["ignore", "respond"]);
    });

    it('a string "8", null or missing severity is ignored and left out of the decision', () => {
        const cases = [
            realEnvelopeWith((d) => (d.severity = "8")),
            realEnvelopeWith((d) => (d.severity = null)),
            realEnvelopeWith((d) => delete d.severity),
        ];

        const results = cases.map((event) => triage(event));

        assert.deepEqual(results.map(codeOf), ["severity-not-a-number", "severity-not-a-number", "severity-not-a-number"]);
        assert.equal(results[0].reason, 'severity-not-a-number: severity is the string "8"');
        assert.ok(results.every((r) => r.decision === "ignore" && !("severity" in r)));
    });

    it("severityLabel follows GuardDuty's levels at every boundary", () => {
        const labels = [1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityLabel);

        assert.deepEqual(labels, ["Low", "Low", "Medium", "Medium", "High", "High", "Critical", "Critical"]);
    });
});

describe("triage: resource type and instance id", () => {
    it("selects on resourceType, not on the presence of instanceDetails", () => {
        const lowerCase = realEnvelopeWith((d) => (d.resource.resourceType = "instance"));
        const missing = realEnvelopeWith((d) => delete d.resource.resourceType);

        assert.equal(triage(lowerCase).reason, 'not-instance: resourceType is "instance", expected "Instance"');
        assert.equal(triage(missing).reason, 'not-instance: resourceType is missing, expected "Instance"');
    });

    it("ignores malformed or missing instance ids", () => {
        const events: Record<string, any> = {
            "i-123": realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-123")),
            "i-ABCDEF12": realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-ABCDEF12")),
            instance: realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "instance")),
            "16 hex": realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-0123456789abcdef")),
            "trailing newline": realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-0123456789abcdef0\n")),
            number: realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = 12345678)),
            "no instanceId": realEnvelopeWith((d) => delete d.resource.instanceDetails.instanceId),
            "instanceDetails null": realEnvelopeWith((d) => (d.resource.instanceDetails = null)),
        };

        for (const [label, event] of Object.entries(events)) {
            const result = triage(event);

            assert.equal(result.decision, "ignore", label);
            assert.equal(codeOf(result), "invalid-instance-id", label);
        }
        assert.equal(triage(events["i-123"]).reason, 'invalid-instance-id: instanceDetails.instanceId is "i-123"');
        assert.equal(triage(events["no instanceId"]).reason, "invalid-instance-id: instanceDetails.instanceId is missing");
    });

    it("accepts 8- and 17-digit lower-case hex instance ids", () => {
        assert.ok(INSTANCE_ID_PATTERN.test("i-0123abcd"));
        assert.ok(INSTANCE_ID_PATTERN.test("i-0123456789abcdef0"));
        assert.ok(!INSTANCE_ID_PATTERN.test("i-0123456789abcdef0x"));
        assert.equal(triage(realEnvelopeWith((d) => (d.resource.instanceDetails.instanceId = "i-0123abcd"))).decision, "respond");
    });
});

describe("triage: sample flag", () => {
    it("detects the flag when it is only inside the additionalInfo.value JSON string", () => {
        const event = fixture("UnauthorizedAccess_EC2_TorRelay.json");
        delete event.service.additionalInfo.sample;
        assert.equal(event.service.additionalInfo.value, '{"sample":true}');

        assert.equal(codeOf(triage(event)), "sample-finding");
        assert.equal(triage(event, { allowSamples: true }).decision, "respond");
    });

    it("a value string with sample false, a non-object, or malformed JSON is not a sample flag", () => {
        for (const value of ['{"sample":false}', "true", "[1]", "null", '{"sample":', "{sample: true}", ""]) {
            const event = realEnvelopeWith((d) => (d.service.additionalInfo = { value, type: "default" }));

            const result = triage(event);

            assert.equal(result.decision, "respond", `value ${JSON.stringify(value)}`);
        }
    });

    it('only the boolean true counts: a string "true" sample flag is not a sample', () => {
        const flat = realEnvelopeWith((d) => (d.service.additionalInfo = { sample: "true" }));
        const encoded = realEnvelopeWith((d) => (d.service.additionalInfo = { value: '{"sample":"true"}' }));

        assert.equal(triage(flat).decision, "respond");
        assert.equal(triage(encoded).decision, "respond");
    });

    it("is checked after the instance id: a sample with a bad id reports the id", () => {
        const event = fixture("Trojan_EC2_DriveBySourceTraffic_DNS.json");
        event.detail.resource.instanceDetails.instanceId = "i-123";

        assert.equal(codeOf(triage(event)), "invalid-instance-id");
    });
});

describe("triage: envelope recognition", () => {
    it("an envelope must come from GuardDuty with detail-type GuardDuty Finding and an object detail", () => {
        const wrongSource = realEnvelopeWith(() => undefined);
        wrongSource.source = "aws.ec2";
        const wrongType = realEnvelopeWith(() => undefined);
        wrongType["detail-type"] = "GuardDuty Malware Protection Object Scan Result";
        const listDetail = realEnvelopeWith(() => undefined);
        listDetail.detail = [listDetail.detail];

        assert.equal(triage(wrongSource).reason, 'not-guardduty: source is the string "aws.ec2", expected "aws.guardduty"');
        assert.match(triage(wrongType).reason, /^not-guardduty: detail-type is the string "GuardDuty Malware/);
        assert.equal(triage(listDetail).reason, "not-guardduty: detail is an array, expected an object");
    });

    it("a bare object must carry GuardDuty's serviceName or arn to count as a finding", () => {
        const bare = fixture("UnauthorizedAccess_EC2_TorRelay.json");
        const arnOnly = fixture("UnauthorizedAccess_EC2_TorRelay.json");
        delete arnOnly.service.serviceName;
        const neither = fixture("UnauthorizedAccess_EC2_TorRelay.json");
        delete neither.service.serviceName;
        delete neither.arn;

        assert.equal(codeOf(triage(bare)), "sample-finding");
        assert.equal(codeOf(triage(arnOnly)), "sample-finding");
        assert.equal(codeOf(triage(neither)), "not-guardduty");
    });

    it("keys that are not the object's own (e.g. a JSON __proto__ key) never count", () => {
        const event = JSON.parse(
            '{"__proto__":{"source":"aws.guardduty","detail-type":"GuardDuty Finding"},' +
                '"detail":{"severity":8,"resource":{"__proto__":{"resourceType":"Instance"}}}}',
        );

        assert.equal(codeOf(triage(event)), "not-guardduty");
        assert.equal(Object.getPrototypeOf({}).source, undefined, "the JSON key must not have polluted Object.prototype");
    });
});

describe("triage: never throws on any JSON value", () => {
    const deepObject = JSON.parse('{"detail":'.repeat(5000) + "{}" + "}".repeat(5000));
    const deepArray = JSON.parse("[".repeat(5000) + "]".repeat(5000));
    const deepValueString = realEnvelopeWith((d) => (d.service.additionalInfo = { value: "[".repeat(200000) + "]".repeat(200000) }));
    const weird: Array<[string, unknown]> = [
        ["null", null],
        ["0", 0],
        ["-1.5", -1.5],
        ["true", true],
        ['""', ""],
        ['"aws.guardduty"', "aws.guardduty"],
        ["[]", []],
        ["{}", {}],
        ["[envelope]", [fixture("Trojan_EC2_DNSDataExfiltration.json")]],
        ["{detail:null}", { detail: null }],
        ["{detail:[]}", { detail: [] }],
        ["{source:null}", { source: null }],
        ["instanceDetails null", { source: "aws.guardduty", "detail-type": "GuardDuty Finding", detail: { resource: { resourceType: "Instance", instanceDetails: null } } }],
        ["resource string", { source: "aws.guardduty", "detail-type": "GuardDuty Finding", detail: { severity: 8, resource: "Instance" } }],
        ["service array", { source: "aws.guardduty", "detail-type": "GuardDuty Finding", detail: { service: [], resource: [] } }],
        ["additionalInfo null", realEnvelopeWith((d) => (d.service.additionalInfo = null))],
        ["value number", realEnvelopeWith((d) => (d.service.additionalInfo = { value: 1 }))],
        ["every field null", realEnvelopeWith((d) => Object.keys(d).forEach((k) => (d[k] = null)))],
        ["bare with serviceName only", { service: { serviceName: "guardduty" } }],
        ["deep object", deepObject],
        ["deep array", deepArray],
        ["deeply nested value string", deepValueString],
    ];

    it("returns a well-formed decision for every weird value", () => {
        for (const [label, value] of weird) {
            let result: TriageDecision | undefined;
            assert.doesNotThrow(() => (result = triage(value)), label);

            assert.ok(result !== undefined);
            assertWellFormed(result, label);
        }
    });

    it("ignores all of them except the real finding whose additionalInfo is merely odd", () => {
        const responders = weird.filter(([, value]) => triage(value).decision === "respond").map(([label]) => label);

        assert.deepEqual(responders, ["additionalInfo null", "value number", "deeply nested value string"]);
    });

    it("non-objects are ignored as not-an-object", () => {
        const reasons = [null, 0, "", [], true].map((value) => triage(value).reason);

        assert.deepEqual(reasons, [
            "not-an-object: got null",
            "not-an-object: got number 0",
            'not-an-object: got the string ""',
            "not-an-object: got an array",
            "not-an-object: got boolean true",
        ]);
    });

    it("every fixture decision is well formed with any options", () => {
        for (const name of FIXTURE_FILES) {
            for (const options of [{}, { minSeverity: 1, allowSamples: true }]) {
                assertWellFormed(triage(fixture(name), options), name);
            }
        }
    });
});

describe("validateTriageOptions", () => {
    it("fills defaults field by field", () => {
        const others = { credentialExfiltration: true, securityHub: { enabled: true, minLabel: "HIGH", products: [], includeGuardDuty: false }, tagTrigger: true, accountIds: [] };
        assert.deepEqual(validateTriageOptions({}), { minSeverity: 7, allowSamples: false, ...others });
        assert.deepEqual(validateTriageOptions({ minSeverity: 4.5 }), { minSeverity: 4.5, allowSamples: false, ...others });
        assert.deepEqual(validateTriageOptions({ allowSamples: true }), { minSeverity: 7, allowSamples: true, ...others });
        assert.deepEqual(validateTriageOptions({ securityHub: { minLabel: "CRITICAL" } }).securityHub, { ...others.securityHub, minLabel: "CRITICAL" });
        assert.deepEqual(DEFAULT_TRIAGE_OPTIONS, { minSeverity: 7, allowSamples: false, ...others });
        assert.ok(Object.isFrozen(DEFAULT_TRIAGE_OPTIONS));
    });

    it("accepts the bounds 1 and 10", () => {
        assert.equal(validateTriageOptions({ minSeverity: 1 }).minSeverity, 1);
        assert.equal(validateTriageOptions({ minSeverity: 10 }).minSeverity, 10);
    });

    it("rejects bad values with a one-line message naming the field", () => {
        const bad: Array<[unknown, RegExp]> = [
            [{ minSeverity: 0 }, /^minSeverity must be a number between 1 and 10/],
            [{ minSeverity: 10.1 }, /^minSeverity must be a number between 1 and 10/],
            [{ minSeverity: Number.NaN }, /^minSeverity must be a number between 1 and 10, got number NaN$/],
            [{ minSeverity: Number.POSITIVE_INFINITY }, /^minSeverity /],
            [{ minSeverity: "7" }, /^minSeverity must be a number between 1 and 10, got the string "7"$/],
            [{ allowSamples: "true" }, /^allowSamples must be a boolean/],
            [null, /^triage options must be an object$/],
        ];

        for (const [options, message] of bad) {
            assert.throws(
                () => validateTriageOptions(options as any),
                (error: unknown) => error instanceof Error && message.test(error.message) && !error.message.includes("\n"),
                JSON.stringify(options),
            );
        }
    });

    it("triage itself refuses bad options instead of deciding with them", () => {
        assert.throws(() => triage(fixture("Trojan_EC2_DNSDataExfiltration.json"), { minSeverity: 0 }), /minSeverity/);
    });
});
