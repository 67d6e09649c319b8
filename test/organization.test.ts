/**
 * Several stacks in one organization (issue 18, item 3): each hub region's rules admit its member accounts only
 * (split over several rules when the accounts do not fit EventBridge's pattern size), triage agrees, the shard keeps
 * two stacks' hub names apart, `memberAccess: false` leaves the member roles to the owner stack, the owner grants the
 * stacks of `trustStacks` what they need (their `memberAccessGrants`), and `checkOrganization` finds what no single
 * stack can see.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { recorded, settle, type RecordedResource } from "./support/pulumi-mocks";
import { prodWith, stackConfig } from "./support/stack-config";
import { matches } from "./support/eventbridge-matcher";
import { dfirKeys, parseDfirConfig, type DfirConfig, type MultiAccountStackConfig } from "../core/config";
import { buildTriggerPatterns, buildTriggerRules, EVENT_PATTERN_MAX_CHARS, type EventPattern } from "../core/pattern";
import { triage } from "../core/triage";
import { ACCOUNTS_PER_STACK, checkOrganization, parseMemberAccessGrants, workflowRoleNamePrefixes } from "../core/organization";
import { evidenceBucketPolicy } from "../core/iam";
import { resourceQuotaProblems } from "../core/quotas";
import { deployMultiAccount } from "../components/multiAccountStack";
import { setStackReferenceOutputs } from "../scripts/lib/mock-program";

const HUB = "111111111111";
const PROD = stackConfig("prod");
const FIXTURES = path.resolve(__dirname, "..", "fixtures");
const load = (rel: string): any => JSON.parse(readFileSync(path.join(FIXTURES, rel), "utf8"));


async function run(config: MultiAccountStackConfig): Promise<{ resources: RecordedResource[]; outputs: Record<string, any> }> {
    const start = recorded.length;
    const outputs = await deployMultiAccount(config);
    await settle();
    return { resources: recorded.slice(start), outputs };
}

/** One event of each rule kind, about `account` (the fields each kind's rule filters on, and the resource ARN). */
function eventsOf(account: string): Record<string, any> {
    const gd = load("guardduty/CryptoCurrency_EC2_BitcoinTool.B_DNS.json");
    gd.account = account;
    gd.detail.accountId = account;
    const cred = load("triggers/GuardDuty_InstanceCredentialExfiltration.OutsideAWS.constructed.json");
    cred.account = account;
    cred.detail.accountId = account;
    const sh = load("securityhub/Imported_EDR_HIGH_AwsEc2Instance.constructed.json");
    for (const f of sh.detail.findings) {
        f.AwsAccountId = account;
        for (const r of f.Resources) r.Id = String(r.Id).replace(/:\d{12}:/, `:${account}:`);
    }
    const tag = load("triggers/Tag_Change_dfir_respond_contain.constructed.json");
    tag.account = account;
    tag.resources = tag.resources.map((arn: string) => arn.replace(/:\d{12}:/, `:${account}:`));
    return { guardduty: gd, "credential-exfiltration": cred, securityhub: sh, tag };
}

describe("organization: the account filter", () => {
    const accounts = ["222222222222", "333333333333"];

    it("each kind's rule admits exactly the listed accounts' events, and triage agrees (account-not-covered)", () => {
        const patterns = buildTriggerPatterns({ accountIds: accounts });
        for (const [account, covered] of [["222222222222", true], ["333333333333", true], ["444444444444", false]] as const) {
            for (const [kind, event] of Object.entries(eventsOf(account))) {
                const d = triage(event, { accountIds: accounts });
                assert.equal(matches(patterns[kind as keyof typeof patterns] as EventPattern, event), covered, `${kind} ${account}`);
                assert.equal(d.decision, covered ? "respond" : "ignore", `${kind} ${account}: ${d.reason}`);
                if (!covered) assert.match(d.reason, /^account-not-covered: account "444444444444"/);
                // Without the filter, every account's event is answered.
                assert.equal(triage(event).decision, "respond", `${kind} ${account} unfiltered`);
            }
        }
    });

    it("splits a kind's accounts over as few rules as fit EventBridge's pattern size, together admitting each once", () => {
        const many = Array.from({ length: 400 }, (_, i) => String(200000000000 + i));
        const rules = buildTriggerRules({ accountIds: many });
        for (const kind of ["guardduty", "credential-exfiltration", "securityhub", "tag"]) {
            const of = rules.filter((r) => r.kind === kind);
            assert.ok(of.length > 1, `${kind}: ${of.length} rule(s)`);
            assert.deepEqual(of.map((r) => r.part), of.map((_, i) => i + 1));
            for (const r of of) assert.ok(JSON.stringify(r.pattern).length <= EVENT_PATTERN_MAX_CHARS, `${kind} part ${r.part}`);
            // Each account's event is matched by exactly one of the kind's rules; the next part's first account is not in the previous.
            for (const account of [many[0], many[199], many[399]]) {
                const event = eventsOf(account)[kind];
                assert.equal(of.filter((r) => matches(r.pattern, event)).length, 1, `${kind} ${account}`);
            }
            assert.equal(of.filter((r) => matches(r.pattern, eventsOf("999999999999")[kind])).length, 0);
            // A rule fills up: one more account of the next part would not have fit.
            const first = of[0].pattern;
            assert.ok(JSON.stringify(first).length > EVENT_PATTERN_MAX_CHARS - 20, `${kind} part 1 is ${JSON.stringify(first).length} characters`);
        }
        assert.deepEqual(buildTriggerRules({}).map((r) => [r.kind, r.part]), [["guardduty", 1], ["credential-exfiltration", 1], ["securityhub", 1], ["tag", 1]]);
        assert.throws(() => buildTriggerRules({ accountIds: ["12345"] }), /accountIds must be 12-digit account ids/);
    });

    it("the prod stack's rules in each hub region admit that region's member accounts only", async () => {
        const { resources } = await run(prodWith());
        const rules = resources.filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.name.startsWith("dfir-response-"));
        assert.ok(rules.length >= 8, `${rules.length} rules`);
        const expected: Record<string, string[]> = { "us-east-1": ["222222222222", "333333333333"], "eu-west-1": ["222222222222"] };
        for (const r of rules) {
            const region = r.name.includes("eu-west-1") ? "eu-west-1" : "us-east-1";
            const p = JSON.parse(r.inputs.eventPattern);
            const listed = p.account ?? p.detail.accountId ?? p.detail.findings?.AwsAccountId;
            assert.deepEqual(listed, expected[region], r.name);
        }
        assert.ok(rules.some((r) => r.name === "dfir-response-us-east-1-findings"), "part 1 keeps the rule's name");
    });
});

describe("organization: shards, memberAccess and trustStacks", function () {
    this.timeout(120_000);
    const grantsOf = (shard: string, regions: string[]) => ({
        hubAccountId: HUB,
        roleNamePrefixes: workflowRoleNamePrefixes(shard, regions),
        evidenceBucketArns: regions.map((r) => `arn:aws:s3:::dfir-${shard}-evidence-${r}-abc1234`),
        evidenceKeyArns: regions.map((r) => `arn:aws:kms:${r}:${HUB}:key/0000-${shard}`),
    });

    it("a shard renames the hub's resources and the roles its signing key admits; member resources keep their names", async () => {
        const { resources, outputs } = await run(prodWith({ shard: "b" }));
        const hubNames = resources.filter((r) => r.type.startsWith("dfir:") && /-(us-east-1|eu-west-1)$/.test(r.name) && !/^dfir-\d{12}-/.test(r.name)).map((r) => r.name);
        assert.ok(hubNames.length > 0);
        for (const n of hubNames) assert.match(n, /^dfir-b-/, n);
        const trail = resources.find((r) => r.type === "aws:cloudtrail/trail:Trail");
        assert.match(String(trail?.inputs.name), /^dfir-b-access-trail-/);
        const key = resources.find((r) => r.type === "aws:kms/key:Key" && r.name.startsWith("dfir-b-evidence-us-east-1") && String(r.inputs.keyUsage) === "SIGN_VERIFY");
        assert.match(String(key?.inputs.policy), /role\/dfir-b-response-us-east-1-seal\*/);
        assert.ok(resources.some((r) => r.name === "dfir-222222222222-us-east-1"), "member regions keep their names");
        assert.deepEqual(await Promise.resolve(outputs.memberAccessGrants.roleNamePrefixes), ["dfir-b-response-eu-west-1-", "dfir-b-response-us-east-1-"]);
    });

    it("memberAccess false creates no member roles; the owner trusts and grants the stacks of trustStacks", async () => {
        const without = await run(prodWith({ memberAccess: false }));
        assert.deepEqual(without.resources.filter((r) => r.type === "dfir:access:MemberAccess").map((r) => r.name), []);
        assert.deepEqual(without.resources.filter((r) => r.type === "aws:iam/role:Role" && /^dfir-\d{12}-access/.test(r.name)).map((r) => r.name), []);

        setStackReferenceOutputs("acme/aws-dfir/org-b", { memberAccessGrants: grantsOf("b", ["ap-southeast-2"]) });
        const owner = await run(prodWith({ trustStacks: ["acme/aws-dfir/org-b"] }));
        const trust = JSON.parse(owner.resources.find((r) => r.name === "dfir-222222222222-access-responder" && r.type === "aws:iam/role:Role")?.inputs.assumeRolePolicy);
        assert.deepEqual(trust.Statement[0].Condition.ArnLike["aws:PrincipalArn"], [
            `arn:aws:iam::${HUB}:role/dfir-b-response-ap-southeast-2-*`,
            `arn:aws:iam::${HUB}:role/dfir-response-eu-west-1-*`,
            `arn:aws:iam::${HUB}:role/dfir-response-us-east-1-*`,
        ]);
        const capture = owner.resources.find((r) => r.name === "dfir-222222222222-access-capture" && r.type === "aws:iam/rolePolicy:RolePolicy");
        assert.match(String(capture?.inputs.policy), /dfir-b-evidence-ap-southeast-2-abc1234/);
        assert.match(String(capture?.inputs.policy), /key\/0000-b/);
    });

    it("a stack in trustStacks of another hub account, without grants or missing stops the program in one line", async () => {
        setStackReferenceOutputs("org-c", { memberAccessGrants: { ...grantsOf("c", ["us-west-2"]), hubAccountId: "999999999999" } });
        setStackReferenceOutputs("org-d", {});
        for (const [ref, message] of [
            ["org-c", /stack org-c has the hub account 999999999999, not this stack's 111111111111/],
            ["org-d", /stack org-d has no output memberAccessGrants/],
            ["org-missing", /no stack org-missing/],
        ] as const) {
            const before = recorded.length;
            await assert.rejects(run(prodWith({ trustStacks: [ref] })), message);
            // Read before anything is declared: an `up` creates nothing (the stack reference itself is only read).
            assert.deepEqual(recorded.slice(before).filter((r) => r.type !== "pulumi:pulumi:StackReference").map((r) => `${r.type} ${r.name}`), [], "nothing declared");
        }
        assert.throws(() => parseMemberAccessGrants("x", { hubAccountId: HUB, roleNamePrefixes: "no" }, HUB), /is not \{hubAccountId, roleNamePrefixes/);
    });

    it("refuses a bad shard, trustStacks without memberAccess, these keys in a single-account stack, and a hub region without members", async () => {
        assert.throws(() => prodWith({ shard: "B-1" }), /config dfir:shard must look like 1 to 10 lower-case letters/);
        assert.throws(() => prodWith({ shard: "response" }), /config dfir:shard must not be "response"/);
        assert.throws(() => prodWith({ memberAccess: false, trustStacks: ["x"] }), /config dfir:trustStacks applies only when dfir:memberAccess is true/);
        assert.throws(() => parseDfirConfig({ vpcId: "vpc-0123456789abcdef0", shard: "b" }), /config dfir:shard applies only to a multi-account stack/);
        const hub = { ...JSON.parse(PROD["dfir:hub"]), regions: ["us-east-1", "eu-west-1", "us-west-2"] };
        // At parse time, so `npm run stacks -- check` refuses it too.
        assert.throws(() => prodWith({ hub }), /config dfir:hub\.regions lists us-west-2, where no member account is/);
    });
});

describe("organization: what bounds one stack (the figures docs/many-accounts.md and README give)", () => {
    // The evidence bucket's policy names each member's capture role of its hub region (core/iam.ts evidenceBucketPolicy,
    // the document components/evidenceStore.ts writes): S3's 20 KB bounds a stack at about 124 member accounts there.
    const bucketPolicyProblems = (members: number) => {
        const captureRoles = Array.from({ length: members }, (_, i) => `arn:aws:iam::${String(200000000000 + i)}:role/dfir-capture`);
        const policy = evidenceBucketPolicy("arn:aws:s3:::dfir-evidence-us-east-1-1a2b3c4", `arn:aws:iam::${HUB}:role/dfir-break-glass`, captureRoles);
        return resourceQuotaProblems({ type: "aws:s3/bucketPolicy:BucketPolicy", name: "evidence", inputs: { policy: JSON.stringify(policy) } });
    };

    it("fits the recommended stacks with room, and 100 accounts per hub region; not 130", () => {
        assert.deepEqual(bucketPolicyProblems(ACCOUNTS_PER_STACK), []);
        assert.deepEqual(bucketPolicyProblems(100), []);
        assert.match(bucketPolicyProblems(130).map((p) => p.message).join("\n"), /S3 bucket policy size is [\d,]+ bytes, over AWS's limit of 20,480/);
    });
});

describe("organization: checkOrganization", () => {
    const member = (accountId: string, regions: string[]) => ({ accountId, deployRoleArn: `arn:aws:iam::${accountId}:role/dfir-deploy`, regions: Object.fromEntries(regions.map((r) => [r, { vpcs: "all" }])) });
    const stack = (name: string, over: Record<string, unknown>, hubRegions: string[], members: ReturnType<typeof member>[]): { name: string; config: DfirConfig } => ({
        name,
        config: parseDfirConfig({
            hub: JSON.stringify({ accountId: HUB, regions: hubRegions }),
            members: JSON.stringify(members),
            organization: JSON.stringify({ id: "o-abcdefghij", delegatedAdmin: true }),
            ...Object.fromEntries(Object.entries(over).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
        }),
    });

    it("a split by region: one owner trusting the other; a split by accounts sharing a hub region: distinct shards, one organization configuration", () => {
        const byRegion = [
            stack("us", { trustStacks: ["acme/aws-dfir/eu"] }, ["us-east-1"], [member("222222222222", ["us-east-1"]), member("333333333333", ["us-east-1"])]),
            stack("eu", { memberAccess: false }, ["eu-west-1"], [member("222222222222", ["eu-west-1"]), member("333333333333", ["eu-west-1"])]),
        ];
        assert.deepEqual(checkOrganization(byRegion), []);
        const byAccounts = [
            stack("a", { shard: "a" }, ["us-east-1"], [member("222222222222", ["us-east-1"])]),
            stack("b", { shard: "b", organization: { id: "o-abcdefghij", delegatedAdmin: true, configure: false } }, ["us-east-1"], [member("333333333333", ["us-east-1"])]),
        ];
        assert.deepEqual(checkOrganization(byAccounts), []);
    });

    it("names what a split by region gets wrong: no organization configuration, another project's stack trusted, analysts the owner's role does not trust", () => {
        const analysts = (arns: string[]) => ({ analystRoleArns: arns });
        const problems = checkOrganization([
            { ...stack("us", { trustStacks: ["acme/other-project/eu"], organization: { id: "o-abcdefghij", delegatedAdmin: true, configure: false }, ...analysts([`arn:aws:iam::${HUB}:role/us-analyst`]) }, ["us-east-1"], [member("222222222222", ["us-east-1"])]), project: "aws-dfir" },
            { ...stack("eu", { memberAccess: false, ...analysts([`arn:aws:iam::${HUB}:role/eu-analyst`]) }, ["eu-west-1"], [member("222222222222", ["eu-west-1"])]), project: "aws-dfir" },
        ]);
        assert.deepEqual(problems, [
            'no stack writes GuardDuty\'s organization configuration in us-east-1 ("us" sets dfir:organization.configure to false): set it true in one',
            'stack "us" creates the roles of account 222222222222, where stack "eu" acts too: add eu to its dfir:trustStacks',
            `stack "eu"'s analysts arn:aws:iam::${HUB}:role/eu-analyst cannot reach account 222222222222: its analyst access role is "us"'s (add them to that stack's dfir:analystRoleArns)`,
        ]);
    });

    it("names every conflict: overlap, same shard, no or two owners, an untrusted stack, a second organization configuration", () => {
        const problems = checkOrganization([
            stack("a", {}, ["us-east-1"], [member("222222222222", ["us-east-1"]), member("444444444444", ["us-east-1"])]),
            stack("b", {}, ["us-east-1"], [member("222222222222", ["us-east-1"]), member("333333333333", ["us-east-1"])]),
            stack("c", { memberAccess: false }, ["eu-west-1"], [member("555555555555", ["eu-west-1"]), member("444444444444", ["eu-west-1"])]),
        ]);
        assert.deepEqual(problems, [
            'account 222222222222 in us-east-1 is a member of stacks "a" and "b": both would respond to its findings (list it in one)',
            'stacks "a" and "b" both have hub account 111111111111\'s region us-east-1 and no shard: their resources would collide (give each a distinct dfir:shard)',
            'stacks "a" and "b" both write GuardDuty\'s organization configuration in us-east-1 (set dfir:organization.configure to false in all but one)',
            'stacks "a" and "b" both create the roles of account 222222222222 (MemberAccess; IAM names are per account): set dfir:memberAccess to false in all but one',
            'stack "a" creates the roles of account 444444444444, where stack "c" acts too: add c to its dfir:trustStacks',
            'no stack creates the roles of account 555555555555 (MemberAccess): "c" sets dfir:memberAccess to false',
        ]);
    });
});
