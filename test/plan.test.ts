import { strict as assert } from "node:assert";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import { dfirKeys, parseDfirConfig, type DfirConfig } from "../core/config";
import { checkDefaultProvidersDisabled, planDeployment } from "../core/plan";
import { AWS_REGIONS, regionProblem } from "../core/regions";
import { readStackConfig } from "../scripts/lib/stack-config";
import { REPO, stackConfig } from "./support/stack-config";

const PROD_EXAMPLE = path.join(REPO, "Pulumi.prod.yaml");
const VPC = "vpc-0123456789abcdef0";
const HUB = "111111111111";
const role = (account: string) => `arn:aws:iam::${account}:role/dfir-deploy`;

/** A multi-account config in YAML-parsed form (objects, not JSON strings). */
function multi(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        hub: { accountId: HUB, regions: ["us-east-1", "eu-west-1"] },
        members: [
            { accountId: "222222222222", deployRoleArn: role("222222222222"), regions: { "us-east-1": { vpcs: [VPC] }, "eu-west-1": { vpcs: "all" } } },
            { accountId: "333333333333", deployRoleArn: role("333333333333"), regions: { "us-east-1": { vpcs: "all" } } },
        ],
        ...overrides,
    };
}
const plan = (raw: Record<string, unknown>) => planDeployment(parseDfirConfig(raw));
const names = (raw: Record<string, unknown>) => plan(raw).targets.map((t) => t.providerName);

describe("multi-account config and deployment plan", () => {
    describe("the example multi-account stack (Pulumi.prod.yaml)", () => {
        const all = readStackConfig(PROD_EXAMPLE);

        it("parses as Pulumi hands it over (objects as JSON strings) and as YAML parses it, to the same config", () => {
            const fromStrings = parseDfirConfig(dfirKeys(all));
            const parsed = (yaml.load(fs.readFileSync(PROD_EXAMPLE, "utf8")) as { config: Record<string, unknown> }).config;
            assert.deepEqual(parseDfirConfig(dfirKeys(parsed)), fromStrings);
            assert.deepEqual(fromStrings.multiAccount?.hub, {
                accountId: HUB, regions: ["us-east-1", "eu-west-1"], homeRegion: "us-east-1", deployRoleArn: role(HUB),
            });
            assert.deepEqual(fromStrings.multiAccount?.organization, { id: "o-abcdefghij", delegatedAdmin: true, autoEnable: "ALL", configure: true });
            assert.equal(fromStrings.multiAccount?.responderRoleName, "dfir-responder");
            assert.deepEqual(fromStrings.tags, { "cost-center": "security" });
            assert.equal(all["aws:region"], "us-east-1");
        });

        it("disables the default aws provider", () => {
            assert.doesNotThrow(() => checkDefaultProvidersDisabled(all));
        });

        it("plans the hub's two regions and each member region, all covered by the organization", () => {
            const p = planDeployment(parseDfirConfig(dfirKeys(all)));
            assert.equal(p.mode, "multi-account");
            assert.deepEqual(p.targets.map((t) => [t.providerName, t.assumeRoleArn, t.allowedAccountIds, t.createDetector, !!t.hub, !!t.member]), [
                ["aws-111111111111-eu-west-1", role(HUB), [HUB], true, true, false],
                ["aws-111111111111-us-east-1", role(HUB), [HUB], true, true, false],
                ["aws-222222222222-eu-west-1", role("222222222222"), ["222222222222"], false, false, true],
                ["aws-222222222222-us-east-1", role("222222222222"), ["222222222222"], false, false, true],
                ["aws-333333333333-us-east-1", role("333333333333"), ["333333333333"], false, false, true],
            ]);
            assert.deepEqual(p.hubRegions.map((h) => [h.region, h.home, h.memberAccountIds, h.guardDutyAdministrator]), [
                ["eu-west-1", false, ["222222222222"], true],
                ["us-east-1", true, ["222222222222", "333333333333"], true],
            ]);
            assert.deepEqual(p.memberRegions.map((m) => [m.accountId, m.region, m.vpcs, m.guardDuty, m.forwardFindingsTo]), [
                ["222222222222", "eu-west-1", "all", "organization", undefined],
                ["222222222222", "us-east-1", ["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"], "organization", undefined],
                ["333333333333", "us-east-1", "all", "organization", undefined],
            ]);
            for (const t of p.targets) assert.deepEqual(t.defaultTags, { "cost-center": "security", "dfir:managed-by": "aws-dfir" });
        });

        it("shares snapshots (copySnapshotsToHub, on in the example) from every member region of another account, never the hub's own", () => {
            const withHub = { ...dfirKeys(all), members: JSON.stringify([...JSON.parse(all["dfir:members"] as string), { accountId: HUB, regions: { "us-east-1": { vpcs: "all" } } }]) };
            const p = planDeployment(parseDfirConfig(withHub));
            assert.deepEqual(p.memberRegions.map((m) => [m.accountId, m.region, m.shareSnapshots]), [
                [HUB, "us-east-1", undefined],
                ["222222222222", "eu-west-1", true],
                ["222222222222", "us-east-1", true],
                ["333333333333", "us-east-1", true],
            ]);
            const off = planDeployment(parseDfirConfig({ ...withHub, copySnapshotsToHub: "false" }));
            assert.ok(off.memberRegions.every((m) => m.shareSnapshots === undefined));
        });

        it("is a multi-account config, which names no single VPC (the two kinds are told apart by multiAccount)", () => {
            const config = parseDfirConfig(dfirKeys(all));
            assert.ok(config.multiAccount);
            assert.ok(!("vpcId" in config));
        });

        it("gives each account its account-wide (IAM) target in the hub's home region, whatever its member regions", () => {
            const p = planDeployment(parseDfirConfig(dfirKeys(all)));
            assert.deepEqual(p.targets.filter((t) => t.iam).map((t) => t.providerName), [
                "aws-111111111111-us-east-1", "aws-222222222222-us-east-1", "aws-333333333333-us-east-1",
            ]);
            // (Another member keeps the home region a member region: a hub region without one is refused.)
            const euOnly = plan(multi({
                members: [
                    { accountId: "444444444444", deployRoleArn: role("444444444444"), regions: { "eu-west-1": { vpcs: "all" } } },
                    { accountId: "555555555555", deployRoleArn: role("555555555555"), regions: { "us-east-1": { vpcs: "all" } } },
                ],
            }));
            const home = euOnly.targets.find((t) => t.providerName === "aws-444444444444-us-east-1");
            assert.ok(home && home.iam && !home.member && !home.hub && !home.createDetector, "an IAM-only target in the home region");
        });
    });

    describe("targets", () => {
        it("one per (account, region), named aws-<account>-<region>, with the account's role and only that account allowed", () => {
            const p = plan(multi({ hub: { accountId: HUB, regions: ["us-east-1", "eu-west-1"], deployRoleArn: role(HUB) } }));
            assert.deepEqual(p.targets.map((t) => [t.providerName, t.accountId, t.region, t.assumeRoleArn, t.allowedAccountIds]), [
                ["aws-111111111111-eu-west-1", HUB, "eu-west-1", role(HUB), [HUB]],
                ["aws-111111111111-us-east-1", HUB, "us-east-1", role(HUB), [HUB]],
                ["aws-222222222222-eu-west-1", "222222222222", "eu-west-1", role("222222222222"), ["222222222222"]],
                ["aws-222222222222-us-east-1", "222222222222", "us-east-1", role("222222222222"), ["222222222222"]],
                ["aws-333333333333-us-east-1", "333333333333", "us-east-1", role("333333333333"), ["333333333333"]],
            ]);
            assert.equal(new Set(p.targets.map((t) => t.providerName)).size, p.targets.length);
        });

        it("uses the ambient credentials in the hub when it has no deployRoleArn (still only the hub account allowed)", () => {
            const hub = plan(multi()).targets.filter((t) => t.accountId === HUB);
            assert.equal(hub.length, 2);
            for (const t of hub) {
                assert.equal(t.assumeRoleArn, undefined);
                assert.deepEqual(t.allowedAccountIds, [HUB]);
            }
        });

        it("are the same, in the same order, whatever the order of members, regions and hub regions", () => {
            const base = multi();
            const members = base.members as Record<string, unknown>[];
            const reordered = multi({
                hub: { accountId: HUB, regions: ["eu-west-1", "us-east-1"], homeRegion: "us-east-1" },
                members: [members[1], { ...members[0], regions: { "eu-west-1": { vpcs: "all" }, "us-east-1": { vpcs: [VPC] } } }],
            });
            assert.deepEqual(plan(reordered), plan(base));
        });

        it("adding a member adds exactly its targets; adding a region adds exactly its targets", () => {
            const before = names(multi());
            const members = multi().members as unknown[];
            const withMember = names(multi({
                members: [...members, { accountId: "444444444444", deployRoleArn: role("444444444444"), regions: { "eu-west-1": { vpcs: "all" } } }],
            }));
            // Its region, and its account-wide target in the hub's home region (IAM).
            assert.deepEqual(withMember.filter((n) => !before.includes(n)), ["aws-444444444444-eu-west-1", "aws-444444444444-us-east-1"]);
            assert.deepEqual(before.filter((n) => !withMember.includes(n)), []);

            const regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
            const withRegion = names(multi({
                hub: { accountId: HUB, regions },
                members: [...members.slice(0, 1), { accountId: "333333333333", deployRoleArn: role("333333333333"), regions: { "us-east-1": { vpcs: "all" }, "ap-southeast-2": { vpcs: [VPC] } } }],
            }));
            assert.deepEqual(withRegion.filter((n) => !before.includes(n)).sort(), ["aws-111111111111-ap-southeast-2", "aws-333333333333-ap-southeast-2"]);
            assert.deepEqual(before.filter((n) => !withRegion.includes(n)), []);
        });

        it("merges dfir:managed-by=aws-dfir with dfir:tags into every target's default tags", () => {
            const p = plan(multi({ tags: '{"owner":"soc","env":"prod"}' }));
            for (const t of p.targets) assert.deepEqual(t.defaultTags, { "dfir:managed-by": "aws-dfir", env: "prod", owner: "soc" });
            for (const t of plan(multi()).targets) assert.deepEqual(t.defaultTags, { "dfir:managed-by": "aws-dfir" });
        });
    });

    describe("GuardDuty coverage", () => {
        it("without an organization: a detector per member region and a rule forwarding to the hub's bus in the same region", () => {
            const p = plan(multi());
            for (const m of p.memberRegions) {
                assert.equal(m.guardDuty, "own-detector");
                assert.deepEqual(m.forwardFindingsTo, { accountId: HUB, region: m.region });
            }
            assert.deepEqual(p.targets.map((t) => [t.providerName, t.createDetector]), [
                ["aws-111111111111-eu-west-1", false], ["aws-111111111111-us-east-1", false],
                ["aws-222222222222-eu-west-1", true], ["aws-222222222222-us-east-1", true], ["aws-333333333333-us-east-1", true],
            ]);
            assert.deepEqual(p.hubRegions.map((h) => [h.region, h.forwardingAccountIds, h.guardDutyAdministrator]), [
                ["eu-west-1", ["222222222222"], false], ["us-east-1", ["222222222222", "333333333333"], false],
            ]);
        });

        it("with the hub as delegated administrator: member regions covered by the organization, detectors in the hub regions", () => {
            const p = plan(multi({ organization: { id: "o-abcdefghij", delegatedAdmin: true } }));
            assert.deepEqual(p.organization, { id: "o-abcdefghij", delegatedAdmin: true, autoEnable: "ALL", configure: true });
            for (const m of p.memberRegions) assert.deepEqual([m.guardDuty, m.forwardFindingsTo], ["organization", undefined]);
            for (const t of p.targets) assert.equal(t.createDetector, t.accountId === HUB);
            for (const h of p.hubRegions) assert.deepEqual([h.guardDutyAdministrator, h.forwardingAccountIds], [true, []]);
        });

        it("an organization without delegated administration changes nothing in detection", () => {
            const p = plan(multi({ organization: { id: "o-abcdefghij" } }));
            assert.deepEqual(p.memberRegions.map((m) => m.guardDuty), ["own-detector", "own-detector", "own-detector"]);
        });

        it("manageDetector false: no detector anywhere, forwarding rules still planned", () => {
            const p = plan(multi({ manageDetector: "false" }));
            assert.deepEqual(p.targets.filter((t) => t.createDetector), []);
            assert.ok(p.memberRegions.every((m) => m.forwardFindingsTo));
        });

        it("the hub listed as a member: one target per region with both facets, its own detector, no forwarding to itself", () => {
            const members = multi().members as unknown[];
            const p = plan(multi({ members: [...members, { accountId: HUB, regions: { "us-east-1": { vpcs: [VPC] } } }] }));
            const hub = p.targets.find((t) => t.providerName === "aws-111111111111-us-east-1");
            assert.ok(hub?.hub && hub.member);
            assert.deepEqual([hub.member.guardDuty, hub.member.forwardFindingsTo, hub.createDetector], ["own-detector", undefined, true]);
            assert.deepEqual(hub.hub.memberAccountIds, [HUB, "222222222222", "333333333333"]);
            assert.deepEqual(hub.hub.forwardingAccountIds, ["222222222222", "333333333333"]);
            assert.equal(p.targets.length, 5);
        });
    });

    describe("the single-account config", () => {
        it("plans one target: the default provider (no name, no role, ambient account) in aws:region, hub and member at once", () => {
            const p = planDeployment(parseDfirConfig(dfirKeys(stackConfig("dev"))), { region: stackConfig("dev")["aws:region"] });
            assert.equal(p.mode, "single-account");
            assert.equal(p.targets.length, 1);
            const [t] = p.targets;
            assert.deepEqual([t.providerName, t.accountId, t.assumeRoleArn, t.allowedAccountIds, t.region], [undefined, undefined, undefined, undefined, "us-east-1"]);
            assert.deepEqual(t.member?.vpcs, [VPC]);
            assert.deepEqual([t.member?.guardDuty, t.member?.forwardFindingsTo, t.createDetector, t.hub?.home], ["own-detector", undefined, true, true]);
            assert.deepEqual(t.defaultTags, { "dfir:managed-by": "aws-dfir" });
        });

        it("needs aws:region to plan", () => {
            assert.throws(() => planDeployment(parseDfirConfig({ vpcId: VPC })), /^Error: config aws:region is required/);
        });

        it("refuses a workstation zone outside aws:region, once the region is known, with one line; takes one inside", () => {
            const config = parseDfirConfig({ vpcId: VPC, workstation: JSON.stringify({ amiId: "ami-0123456789abcdef0", availabilityZone: "eu-west-1a" }) });
            assert.throws(() => planDeployment(config, { region: "us-east-1" }), /^Error: config dfir:workstation\.availabilityZone eu-west-1a is not in the workstation's region us-east-1$/);
            assert.equal(planDeployment(config, { region: "eu-west-1" }).workstation?.region, "eu-west-1");
        });

        it("keeps exactly its old keys (no multiAccount, no tags unless set)", () => {
            const config: DfirConfig = parseDfirConfig({ vpcId: VPC });
            assert.ok(!("multiAccount" in config) && !("tags" in config));
            assert.equal(config.vpcId, VPC);
        });
    });

    describe("pulumi:disable-default-providers", () => {
        const withMembers = { "dfir:members": "[]", "dfir:hub": "{}" };
        it("is required to list aws (or *) in a multi-account stack", () => {
            assert.throws(() => checkDefaultProvidersDisabled(withMembers), /^Error: config pulumi:disable-default-providers must list aws in a multi-account stack/);
            assert.throws(() => checkDefaultProvidersDisabled({ ...withMembers, "pulumi:disable-default-providers": '["kubernetes"]' }), /must list aws/);
            assert.doesNotThrow(() => checkDefaultProvidersDisabled({ ...withMembers, "pulumi:disable-default-providers": '["aws"]' }));
            assert.doesNotThrow(() => checkDefaultProvidersDisabled({ ...withMembers, "pulumi:disable-default-providers": ["*"] }));
        });
        it("must not disable aws in a single-account stack, which deploys through the default provider", () => {
            assert.doesNotThrow(() => checkDefaultProvidersDisabled(stackConfig("dev")));
            assert.throws(() => checkDefaultProvidersDisabled({ "dfir:vpcId": VPC, "pulumi:disable-default-providers": '["aws"]' }), /must not list aws in a single-account stack/);
        });
        it("must be a list", () => {
            assert.throws(() => checkDefaultProvidersDisabled({ ...withMembers, "pulumi:disable-default-providers": "aws" }), /^Error: config pulumi:disable-default-providers must be a list of package names/);
        });
    });

    describe("validation: one line naming the key path", () => {
        const members = multi().members as Record<string, unknown>[];
        const bad: [string, Record<string, unknown>, RegExp][] = [
            ["vpcId together with members", multi({ vpcId: VPC }), /^config dfir:vpcId and dfir:members are mutually exclusive/],
            ["members without a hub", { members: members }, /^config dfir:members requires dfir:hub/],
            ["a hub without members", { hub: { accountId: HUB, regions: ["us-east-1"] } }, /^config dfir:hub requires dfir:members/],
            ["a hub account id of 11 digits", multi({ hub: { accountId: "11111111111", regions: ["us-east-1"] } }), /^config dfir:hub.accountId must look like a 12-digit account id/],
            ["an unquoted (numeric) account id", multi({ hub: { accountId: 111111111111, regions: ["us-east-1"] } }), /^config dfir:hub.accountId must be a 12-digit string, got the number 111111111111 \(quote it/],
            ["a hub without regions", multi({ hub: { accountId: HUB } }), /^config dfir:hub.regions is required/],
            ["a malformed hub region", multi({ hub: { accountId: HUB, regions: ["us-east"] } }), /^config dfir:hub.regions "us-east" is not a known AWS region \(did you mean us-east-1\?\)$/],
            ["a region typo", multi({ hub: { accountId: HUB, regions: ["us-east-1", "eu-wset-1"] } }), /^config dfir:hub.regions "eu-wset-1" is not a known AWS region \(did you mean eu-west-1\?\)$/],
            ["a hub region twice", multi({ hub: { accountId: HUB, regions: ["us-east-1", "us-east-1"] } }), /^config dfir:hub.regions lists us-east-1 twice/],
            ["a home region outside the hub regions", multi({ hub: { accountId: HUB, regions: ["us-east-1", "eu-west-1"], homeRegion: "us-west-2" } }), /^config dfir:hub.homeRegion must be one of dfir:hub.regions \(us-east-1, eu-west-1\), got us-west-2$/],
            ["an unknown hub field", multi({ hub: { accountId: HUB, regions: ["us-east-1"], region: "x" } }), /^config dfir:hub.region is not a known field \(known: accountId, regions, homeRegion, deployRoleArn\)/],
            ["a hub role of another account", multi({ hub: { accountId: HUB, regions: ["us-east-1", "eu-west-1"], deployRoleArn: role("222222222222") } }), /^config dfir:hub.deployRoleArn must be a role of the hub account 111111111111/],
            ["a hub that is not JSON", multi({ hub: "{accountId" }), /^config dfir:hub must be an object/],
            ["an empty member list", multi({ members: [] }), /^config dfir:members must be a non-empty list/],
            ["a member account id of letters", multi({ members: [{ ...members[0], accountId: "22222222222x" }] }), /^config dfir:members\[0\].accountId must look like a 12-digit account id/],
            ["a member account twice", multi({ members: [members[0], members[1], { ...members[0], regions: { "eu-west-1": { vpcs: "all" } } }] }), /^config dfir:members\[2\].accountId 222222222222 is already members\[0\]/],
            ["a member without deployRoleArn", multi({ members: [members[0], { accountId: "333333333333", regions: { "us-east-1": { vpcs: "all" } } }] }), /^config dfir:members\[1\].deployRoleArn is required: the role Pulumi assumes in 333333333333/],
            ["a member role of another account", multi({ members: [members[0], { ...members[1], deployRoleArn: role("222222222222") }] }), /^config dfir:members\[1\].deployRoleArn must be a role of the member's account 333333333333, got arn:aws:iam::222222222222:role\/dfir-deploy/],
            ["a member role that is a user", multi({ members: [{ ...members[0], deployRoleArn: "arn:aws:iam::222222222222:user/deploy" }] }), /^config dfir:members\[0\].deployRoleArn must look like arn:aws:iam::/],
            ["the hub as member with a different role", multi({ hub: { accountId: HUB, regions: ["us-east-1"] }, members: [{ accountId: HUB, deployRoleArn: role(HUB), regions: { "us-east-1": { vpcs: "all" } } }] }), /^config dfir:members\[0\].deployRoleArn must equal dfir:hub.deployRoleArn \(unset: ambient credentials\) or be omitted/],
            ["a member region outside the hub regions", multi({ members: [{ ...members[0], regions: { "us-east-1": { vpcs: "all" }, "ap-south-1": { vpcs: "all" } } }] }), /^config dfir:members\[0\].regions.ap-south-1 is not one of dfir:hub.regions \(us-east-1, eu-west-1\)/],
            ["a member without regions", multi({ members: [{ ...members[0], regions: {} }] }), /^config dfir:members\[0\].regions must name at least one region/],
            ["a malformed member region", multi({ members: [{ ...members[0], regions: { "east": { vpcs: "all" } } }] }), /^config dfir:members\[0\].regions.east "east" is not a known AWS region$/],
            ["vpcs that are neither a list nor all", multi({ members: [members[0], { ...members[1], regions: { "us-east-1": { vpcs: "some" } } }] }), /^config dfir:members\[1\].regions.us-east-1.vpcs must be a list of VPC ids or "all"/],
            ["a malformed VPC in the list", multi({ members: [{ ...members[0], regions: { "eu-west-1": { vpcs: ["vpc-1"] } } }] }), /^config dfir:members\[0\].regions.eu-west-1.vpcs must be a list of VPC ids or "all"/],
            ["an empty VPC list", multi({ members: [{ ...members[0], regions: { "eu-west-1": { vpcs: [] } } }] }), /^config dfir:members\[0\].regions.eu-west-1.vpcs must be a list of VPC ids or "all"/],
            ["a region without vpcs", multi({ members: [{ ...members[0], regions: { "eu-west-1": {} } }] }), /^config dfir:members\[0\].regions.eu-west-1.vpcs is required/],
            ["an unknown member field", multi({ members: [{ ...members[0], role: "x" }] }), /^config dfir:members\[0\].role is not a known field/],
            ["delegatedAdmin without an organization id", multi({ organization: { delegatedAdmin: true } }), /^config dfir:organization.delegatedAdmin requires dfir:organization.id/],
            ["a malformed organization id", multi({ organization: { id: "org-1" } }), /^config dfir:organization.id must look like o-abcdefghij/],
            ["autoEnable without delegatedAdmin", multi({ organization: { id: "o-abcdefghij", autoEnable: "ALL" } }), /^config dfir:organization.autoEnable applies only when dfir:organization.delegatedAdmin is true/],
            ["an unknown autoEnable", multi({ organization: { id: "o-abcdefghij", delegatedAdmin: "true", autoEnable: "SOME" } }), /^config dfir:organization.autoEnable must be ALL, NEW or NONE/],
            ["an organization in a single-account stack", { vpcId: VPC, organization: { id: "o-abcdefghij" } }, /^config dfir:organization applies only to a multi-account stack/],
            ["a responder role name in a single-account stack", { vpcId: VPC, responderRoleName: "r" }, /^config dfir:responderRoleName applies only to a multi-account stack/],
            ["a malformed responder role name", multi({ responderRoleName: "bad/name" }), /^config dfir:responderRoleName must look like an IAM role name/],
            ["the reserved managed-by tag", multi({ tags: { "dfir:managed-by": "me" } }), /^config dfir:tags.dfir:managed-by is reserved/],
            ["an aws: tag", multi({ tags: { "aws:x": "y" } }), /^config dfir:tags.aws:x must be a tag name/],
            ["a non-string tag value", multi({ tags: '{"n": 1}' }), /^config dfir:tags.n must be a string/],
            ["one VPC's endpoint group with members", multi({ createEndpoints: "false", endpointSecurityGroupId: "sg-0123456789abcdef0" }), /^config dfir:endpointSecurityGroupId names resources of the one VPC of dfir:vpcId and conflicts with dfir:members/],
            ["existing endpoints with members", multi({ createEndpoints: "false" }), /^config dfir:createEndpoints=false .* is not supported with dfir:members/],
        ];
        for (const [what, raw, message] of bad) {
            it(`fails on ${what}`, () => {
                assert.throws(() => parseDfirConfig(raw), (e: Error) => {
                    assert.match(e.message, message);
                    assert.ok(!e.message.includes("\n"), e.message);
                    return true;
                });
            });
        }

        it("accepts the same values as JSON strings (as Pulumi hands objects and lists over)", () => {
            const raw = multi({ organization: { id: "o-abcdefghij", delegatedAdmin: true, autoEnable: "NEW" }, tags: { a: "b" } });
            const strings = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, JSON.stringify(v)]));
            assert.deepEqual(parseDfirConfig(strings), parseDfirConfig(raw));
        });
    });
});

describe("known AWS regions (core/regions.ts)", () => {
    it("are exactly the regions of the provider's aws.Region list", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Region } = require("@pulumi/aws/types/enums") as { Region: Record<string, string> };
        assert.deepEqual([...AWS_REGIONS].sort(), Object.values(Region).sort());
    });

    it("name the near region of a typo, and none for a far one", () => {
        assert.equal(regionProblem("us-east-1"), undefined);
        assert.equal(regionProblem("us-eats-1"), "is not a known AWS region (did you mean us-east-1?)");
        assert.equal(regionProblem("mars-north-1"), "is not a known AWS region");
    });
});
