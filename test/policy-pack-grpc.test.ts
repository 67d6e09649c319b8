import { strict as assert } from "node:assert";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";
import { stackResources } from "./support/stack-resources";
import { copyOf, find, type Resource } from "./support/stack-copies";

/**
 * The real pack, spawned and called over the Analyzer gRPC protocol as the engine does, against the dev stack's
 * real resources and mutated copies of them: each copy breaks one guarantee and must be caught by the right rule,
 * on the right resource, with nothing else flagged. All copies go through one pack process.
 */




describe("policy pack over gRPC: the dev stack and mutated copies of it", function () {
    this.timeout(120000);
    let result: CheckResult;
    const expected: [string, string][] = [];

    before(async () => {
        const stack = stackResources<Resource>("dev");
        // The functions' bundled code is megabytes no rule reads.
        for (const r of stack) if (r.type === "aws:lambda/function:Function") delete r.props.code;

        const original = [...stack];
        // An evidence bucket's copy gets a copy of its access trail too (evidence-access-trail), unless `trail` is false.
        const trailOf = (suffix: string): Resource[] =>
            JSON.parse(JSON.stringify(copyOf(original, "dfir-access-trail", suffix)).split("dfir-evidence").join(`dfir-evidence-${suffix}`));
        const mutate = (prefix: string, suffix: string, policy: string, broken: string, change: (copy: Resource[]) => void, trail = true) => {
            const copy = [...copyOf(original, prefix, suffix), ...(prefix === "dfir-evidence" && trail ? trailOf(suffix) : [])];
            change(copy);
            stack.push(...copy);
            expected.push([policy, broken]);
        };
        const LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
        const BUCKET = "aws:s3/bucket:Bucket";
        mutate("dfir-evidence", "governance", "evidence-bucket-object-lock", "dfir-evidence-governance", (c) => {
            find(c, LOCK, "dfir-evidence-governance-lock").props.rule.defaultRetention.mode = "GOVERNANCE";
        });
        mutate("dfir-evidence", "short", "evidence-bucket-object-lock", "dfir-evidence-short", (c) => {
            find(c, LOCK, "dfir-evidence-short-lock").props.rule.defaultRetention.days = 30;
        });
        mutate("dfir-evidence", "nolock", "evidence-bucket-object-lock", "dfir-evidence-nolock", (c) => {
            c.splice(c.indexOf(find(c, LOCK, "dfir-evidence-nolock-lock")), 1);
        });
        mutate("dfir-evidence", "unlocked", "evidence-bucket-object-lock", "dfir-evidence-unlocked", (c) => {
            find(c, BUCKET, "dfir-evidence-unlocked").props.objectLockEnabled = false;
        });
        mutate("dfir-evidence", "public", "s3-public-access-block", "dfir-evidence-public", (c) => {
            find(c, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dfir-evidence-public-public-access").props.blockPublicPolicy = false;
        });
        mutate("dfir-evidence", "openpolicy", "s3-no-public-bucket-policy", "dfir-evidence-openpolicy-policy", (c) => {
            const policy = find(c, "aws:s3/bucketPolicy:BucketPolicy", "dfir-evidence-openpolicy-policy");
            const doc = JSON.parse(policy.props.policy);
            doc.Statement.push({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::dfir-evidence-openpolicy/*" });
            policy.props.policy = JSON.stringify(doc);
        });
        // The access trail (evidence-access-trail): none, one that logs writes only, one whose bucket is not locked.
        mutate("dfir-evidence", "untrailed", "evidence-access-trail", "dfir-evidence-untrailed", () => undefined, false);
        mutate("dfir-evidence", "writesonly", "evidence-access-trail", "dfir-evidence-writesonly", (c) => {
            find(c, "aws:cloudtrail/trail:Trail", "dfir-access-trail-writesonly-trail").props.advancedEventSelectors[0].fieldSelectors.push({ field: "readOnly", equals: ["false"] });
        });
        mutate("dfir-evidence", "trailunlocked", "evidence-access-trail", "dfir-evidence-trailunlocked", (c) => {
            find(c, BUCKET, "dfir-access-trail-trailunlocked").props.objectLockEnabled = false;
        });
        mutate("dfir-isolation", "ingress", "isolation-group-no-ingress", "dfir-isolation-ingress-isolation", (c) => {
            const egress = find(c, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "dfir-isolation-ingress-isolation-s3");
            c.push({ ...structuredClone(egress), type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name: "dfir-isolation-ingress-isolation-ssh", urn: `${egress.urn}-ssh`.replace("SecurityGroupEgressRule", "SecurityGroupIngressRule"), props: { ...egress.props, prefixListId: undefined, cidrIpv4: "10.0.0.0/8", fromPort: 22, toPort: 22 } });
        });
        mutate("dfir-isolation", "cidr", "isolation-group-egress-endpoints-only", "dfir-isolation-cidr-isolation", (c) => {
            const rule = find(c, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "dfir-isolation-cidr-isolation-s3");
            delete rule.props.prefixListId;
            rule.props.cidrIpv4 = "0.0.0.0/0";
        });
        mutate("dfir-isolation", "allproto", "isolation-group-egress-endpoints-only", "dfir-isolation-allproto-isolation", (c) => {
            const rule = find(c, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "dfir-isolation-allproto-isolation-endpoints");
            rule.props.ipProtocol = "-1";
            delete rule.props.fromPort;
            delete rule.props.toPort;
        });

        // AWS's size quotas (aws-service-quotas, core/quotas.ts): a function whose environment grew past Lambda's 4 KB.
        mutate("dfir-response-contain", "bigenv", "aws-service-quotas", "dfir-response-contain-bigenv", (c) => {
            const fn = find(c, "aws:lambda/function:Function", "dfir-response-contain-bigenv");
            fn.props.environment.variables.ISOLATION_GROUPS = JSON.stringify(Object.fromEntries(
                Array.from({ length: 100 }, (_, i) => [`vpc-0${String(i).padStart(16, "0")}`, `sg-0${String(i).padStart(16, "0")}`])));
        });
        [result] = await policyCheck({ resources: { raw: stack, source: "dev + mutations" }, stack: "dev" });
    });

    it("runs every policy of the pack over every resource", () => {
        assert.equal(result.pack.name, "aws-dfir");
        assert.ok(result.policies.length >= 10);
        assert.ok(result.resources > 100, `${result.resources} resources`);
    });

    it("catches each mutation with the right rule on the right resource, and flags nothing else as mandatory", () => {
        const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory");
        const got = new Set(mandatory.map((v) => `${v.policy} @ ${v.name}`));

        for (const [policy, name] of expected) {
            assert.ok([...got].some((g) => g.startsWith(`${policy} @ ${name}`)), `missing ${policy} on ${name}; got:\n${[...got].join("\n")}`);
        }
        for (const v of mandatory) {
            assert.ok(expected.some(([p, n]) => v.policy === p && v.name.startsWith(n)), `false positive: ${v.policy} on ${v.name}: ${v.message}`);
        }
    });

    it("tells the engineer what to change", () => {
        const governance = result.violations.find((v) => v.policy === "evidence-bucket-object-lock" && v.name === "dfir-evidence-governance");
        assert.match(governance?.message ?? "", /GOVERNANCE[\s\S]*COMPLIANCE/);
        const cidr = result.violations.find((v) => v.policy === "isolation-group-egress-endpoints-only" && v.name.startsWith("dfir-isolation-cidr"));
        assert.match(cidr?.message ?? "", /0\.0\.0\.0\/0/);
        const trail = (name: string) => result.violations.find((v) => v.policy === "evidence-access-trail" && v.name === name)?.message ?? "";
        assert.match(trail("dfir-evidence-writesonly"), /trail dfir-access-trail-writesonly-trail does not log GetObject, HeadObject on its objects/);
        assert.match(trail("dfir-evidence-trailunlocked"), /bucket dfir-access-trail-trailunlocked has no Object Lock/);
        const quota = result.violations.find((v) => v.policy === "aws-service-quotas" && v.name === "dfir-response-contain-bigenv");
        assert.match(quota?.message ?? "", /Lambda function environment variables \(all together\) is [\d,]+ bytes, over AWS's limit of 4,096 \(https:\/\/docs\.aws\.amazon\.com\/lambda\//);
    });
});
