/**
 * Issue 16, class 6 and the two new rules, in the pack's own suite:
 * - isolation egress to a prefix list: the list a rule names is judged (customer-managed lists by their entries,
 *   gateway endpoints by their service, ids outside the stack noted);
 * - kms-evidence-key-rotation: every key that protects or signs evidence rotates (found by what it does);
 * - workstation-no-public-ip and workstation-encrypted-volumes.
 * In-process on the rule functions (a compliant set, then one change per case), and through the real pack over
 * gRPC: the prod stack plus every broken and good set, all in ONE policyCheck call.
 */
import { strict as assert } from "node:assert";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";
import { stackResources as sharedStackResources } from "./support/stack-resources";
import { UNKNOWN_STRING as U, UNKNOWN_VALUES, type Finding, type RuleResource, type Verdict } from "../policy/lib/model";
import * as egress from "../policy/rules/isolation-group-egress-endpoints-only";
import * as rotation from "../policy/rules/kms-evidence-key-rotation";
import * as publicIp from "../policy/rules/workstation-no-public-ip";
import * as volumes from "../policy/rules/workstation-encrypted-volumes";
import { isAllowedCidr, isolationRuleProblems, isWholeInternet } from "../core/isolation";
import { copyOf, find, type Resource } from "./support/stack-copies";

const UNKNOWN_BOOLEAN = [...UNKNOWN_VALUES][0];

const T = {
    sg: "aws:ec2/securityGroup:SecurityGroup",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    vpce: "aws:ec2/vpcEndpoint:VpcEndpoint",
    list: "aws:ec2/managedPrefixList:ManagedPrefixList",
    entry: "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
    bucket: "aws:s3/bucket:Bucket",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    key: "aws:kms/key:Key",
    replica: "aws:kms/replicaKey:ReplicaKey",
    external: "aws:kms/externalKey:ExternalKey",
    alias: "aws:kms/alias:Alias",
    fn: "aws:lambda/function:Function",
    instance: "aws:ec2/instance:Instance",
    subnet: "aws:ec2/subnet:Subnet",
    eip: "aws:ec2/eip:Eip",
    eipAssoc: "aws:ec2/eipAssociation:EipAssociation",
    eni: "aws:ec2/networkInterface:NetworkInterface",
    eniAttach: "aws:ec2/networkInterfaceAttachment:NetworkInterfaceAttachment",
    template: "aws:ec2/launchTemplate:LaunchTemplate",
    volume: "aws:ebs/volume:Volume",
    attach: "aws:ec2/volumeAttachment:VolumeAttachment",
    store: "dfir:storage:EvidenceStore",
    workstation: "dfir:analysis:ForensicWorkstation",
};

// ---------------------------------------------------------------------------------------------------------
// In-process helpers: hand-written resources as the engine sends them at preview (new resources' ids unknown,
// links as property dependencies) or after an update (ids known, links by value).
// ---------------------------------------------------------------------------------------------------------
const urnOf = (type: string, name: string, parentType?: string) => `urn:pulumi:t::aws-dfir::${parentType ? `${parentType}$` : ""}${type}::${name}`;

function res(type: string, name: string, props: Record<string, unknown>, opts: { deps?: Record<string, string[]>; parentType?: string } = {}): RuleResource {
    return { type, name, urn: urnOf(type, name, opts.parentType), props, propertyDependencies: opts.deps ?? {} };
}

const messageOf = (v: Verdict) => (v.status === "violation" || v.status === "unknown" ? v.message : v.status);
const byStatus = (findings: readonly Finding[], status: Verdict["status"]) =>
    findings.filter((f) => f.verdict.status === status).map((f) => `${f.name}: ${messageOf(f.verdict)}`).sort();
const violations = (f: readonly Finding[]) => byStatus(f, "violation");
const unknowns = (f: readonly Finding[]) => byStatus(f, "unknown");
const statuses = (f: readonly Finding[]) => f.map((x) => [x.name, x.verdict.status]).sort();

/** The one violation of a check: on `name`, matching every pattern. */
function oneViolation(findings: readonly Finding[], name: string, ...patterns: RegExp[]): string {
    const v = violations(findings);
    assert.equal(v.length, 1, `expected one violation, got:\n${v.join("\n")}`);
    assert.ok(v[0].startsWith(`${name}: `), v[0]);
    for (const p of patterns) assert.match(v[0], p);
    return v[0];
}
/** No violation, and exactly these unknown notes' resources (each matching its pattern). */
function onlyNotes(findings: readonly Finding[], expected: [string, RegExp][]): void {
    assert.deepEqual(violations(findings), []);
    const notes = unknowns(findings);
    assert.equal(notes.length, expected.length, notes.join("\n"));
    for (const [name, pattern] of expected) {
        const note = notes.find((n) => n.startsWith(`${name}: `));
        assert.ok(note, `no note on ${name}: ${notes.join("\n")}`);
        assert.match(note, pattern);
    }
}
const clean = (findings: readonly Finding[]) => {
    assert.deepEqual(violations(findings), []);
    assert.deepEqual(unknowns(findings), []);
};

// ---------------------------------------------------------------------------------------------------------
// Class 6: isolation egress to prefix lists
// ---------------------------------------------------------------------------------------------------------
describe("isolation egress to prefix lists (class 6)", () => {
    const check = (stack: RuleResource[], config?: egress.EgressConfig) => egress.checkIsolationGroupEgress(stack, config);

    /** An isolation group with the component's two rules: TCP 443 to the S3 gateway endpoint's list and to the endpoints' group. */
    const group = res(T.sg, "iso", { id: "sg-iso", tags: { "dfir:role": "isolation" } });
    const s3 = res(T.vpce, "iso-s3", { serviceName: "com.amazonaws.us-east-1.s3", vpcEndpointType: "Gateway", prefixListId: U });
    const base = (): RuleResource[] => [
        group,
        res(T.sg, "iso-endpoints", { id: "sg-endpoints" }),
        s3,
        res(T.egress, "iso-s3-rule", { securityGroupId: U, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: U }, { deps: { securityGroupId: [group.urn], prefixListId: [s3.urn] } }),
        res(T.egress, "iso-endpoints-rule", { securityGroupId: "sg-iso", ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: "sg-endpoints" }),
    ];
    /** A TCP 443 egress rule of the group naming a prefix list (known id, or unknown with the list as dependency). */
    const ruleTo = (name: string, prefixListId: unknown, deps: string[] = []) =>
        res(T.egress, name, { securityGroupId: "sg-iso", ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId }, { deps: deps.length ? { prefixListId: deps } : {} });
    const list = (name: string, props: Record<string, unknown>) => res(T.list, name, { addressFamily: "IPv4", maxEntries: 5, name, ...props });

    it("passes the component's rule set at preview (the S3 list reached through the endpoint's dependency) and after an update (by the endpoint's prefixListId)", () => {
        const preview = check(base());
        assert.deepEqual(statuses(preview), [["iso", "compliant"], ["iso-endpoints-rule", "compliant"], ["iso-s3-rule", "compliant"]]);
        const updated = base().map((r) => (r.name === "iso-s3" ? { ...r, props: { ...r.props, prefixListId: "pl-63a5400a" } }
            : r.name === "iso-s3-rule" ? { ...r, props: { ...r.props, securityGroupId: "sg-iso", prefixListId: "pl-63a5400a" }, propertyDependencies: {} } : r));
        clean(check(updated));
        // A China region's S3 endpoint service name.
        const china = updated.map((r) => (r.name === "iso-s3" ? { ...r, props: { ...r.props, serviceName: "cn.com.amazonaws.cn-north-1.s3" } } : r));
        clean(check(china));
    });

    it("rejects a customer-managed list with 0.0.0.0/0, reached by dependency (preview) or by its id", () => {
        const open = list("open", { id: U, entries: [{ cidr: "0.0.0.0/0", description: "anywhere" }] });
        oneViolation(check([...base(), open, ruleTo("iso-open", U, [open.urn])]), "iso-open",
            /egress rule iso-open \(tcp 443 to \(unknown\)\) reaches customer-managed prefix list open, whose entries include 0\.0\.0\.0\/0 \(the internet\) — remove those entries/);
        const known = list("open", { id: "pl-0aaaaaaaaaaaaaaaa", entries: [{ cidr: "0.0.0.0/0" }] });
        oneViolation(check([...base(), known, ruleTo("iso-open", "pl-0aaaaaaaaaaaaaaaa")]), "iso-open", /tcp 443 to pl-0aaaaaaaaaaaaaaaa\) reaches customer-managed prefix list open/);
    });

    it("rejects ::/0 and any CIDR outside allowedCidrs; accepts entries that are all allowed (however written) and an empty list", () => {
        const v6 = list("v6", { id: "pl-v6", addressFamily: "IPv6", entries: [{ cidr: "::/0" }] });
        oneViolation(check([...base(), v6, ruleTo("iso-v6", "pl-v6")]), "iso-v6", /include ::\/0 \(the internet\)/);
        const corp = list("corp", { id: "pl-corp", entries: [{ cidr: "10.0.0.0/8" }, { cidr: "192.168.1.0/24" }] });
        oneViolation(check([...base(), corp, ruleTo("iso-corp", "pl-corp")]), "iso-corp", /include 10\.0\.0\.0\/8, 192\.168\.1\.0\/24 — .*allowedCidrs/);
        const config = { allowedPorts: [443], allowedCidrs: ["10.0.0.0/8", "192.168.1.0/24"] };
        clean(check([...base(), corp, ruleTo("iso-corp", "pl-corp")], config));
        // One entry outside the allowed ones is enough.
        const more = list("corp", { id: "pl-corp", entries: [{ cidr: "10.0.0.0/8" }, { cidr: "203.0.113.0/24" }] });
        oneViolation(check([...base(), more, ruleTo("iso-corp", "pl-corp")], config), "iso-corp", /include 203\.0\.113\.0\/24 —/);
        const v6allowed = list("v6ok", { id: "pl-v6ok", addressFamily: "IPv6", entries: [{ cidr: "2001:DB8:0::/48" }] });
        clean(check([...base(), v6allowed, ruleTo("iso-v6ok", "pl-v6ok")], { allowedPorts: [443], allowedCidrs: ["2001:db8::/48"] }));
        clean(check([...base(), list("empty", { id: "pl-empty", entries: [] }), ruleTo("iso-empty", "pl-empty")]));
    });

    it("counts ManagedPrefixListEntry resources, linked by dependency or by the list's id", () => {
        const bare = list("bare", { id: U });
        const entry = res(T.entry, "bare-any", { prefixListId: U, cidr: "0.0.0.0/0" }, { deps: { prefixListId: [bare.urn] } });
        oneViolation(check([...base(), bare, entry, ruleTo("iso-bare", U, [bare.urn])]), "iso-bare", /prefix list bare, whose entries include 0\.0\.0\.0\/0/);
        const known = list("bare", { id: "pl-bare", entries: [{ cidr: "10.1.0.0/16" }] });
        const byValue = res(T.entry, "bare-any", { prefixListId: "pl-bare", cidr: "::/0" });
        oneViolation(check([...base(), known, byValue, ruleTo("iso-bare", "pl-bare")], { allowedPorts: [443], allowedCidrs: ["10.1.0.0/16"] }), "iso-bare", /include ::\/0 \(the internet\)/);
        // An entry of another list does not count for this one.
        const other = res(T.entry, "other-any", { prefixListId: "pl-other", cidr: "0.0.0.0/0" });
        clean(check([...base(), known, other, ruleTo("iso-bare", "pl-bare")], { allowedPorts: [443], allowedCidrs: ["10.1.0.0/16"] }));
    });

    it("judges inline egress blocks, egress SecurityGroupRules and tagged unlinked rules the same way", () => {
        const open = list("open", { id: "pl-open", entries: [{ cidr: "0.0.0.0/0" }] });
        const inline = base().map((r) => (r.name === "iso" ? { ...r, props: { ...r.props, egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: ["pl-open"] }] } } : r));
        oneViolation(check([...inline, open]), "iso", /isolation group iso: inline egress rule #1 \(tcp 443 to pl-open\) reaches customer-managed prefix list open/);
        // At preview the block's list id is unknown: the group's `egress` dependencies name the list.
        const preview = base().map((r) => (r.name === "iso" ? { ...r, props: { ...r.props, egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [U] }] }, propertyDependencies: { egress: [open.urn] } } : r));
        oneViolation(check([...preview, open]), "iso", /inline egress rule #1 \(tcp 443 to \(unknown\)\) reaches customer-managed prefix list open/);
        const legacy = res(T.sgRule, "iso-legacy", { type: "egress", securityGroupId: "sg-iso", protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [U] }, { deps: { prefixListIds: [open.urn] } });
        oneViolation(check([...base(), open, legacy]), "iso-legacy", /egress rule iso-legacy .* reaches customer-managed prefix list open/);
        const stray = res(T.egress, "stray", { securityGroupId: "sg-elsewhere", ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: "pl-open", tags: { "dfir:role": "isolation" } });
        oneViolation(check([...base(), open, stray]), "stray", /tagged as an isolation group's rule.*reaches customer-managed prefix list open/);
    });

    it("rejects another service's gateway endpoint list (DynamoDB)", () => {
        const ddb = res(T.vpce, "iso-ddb", { serviceName: "com.amazonaws.us-east-1.dynamodb", vpcEndpointType: "Gateway", prefixListId: U });
        oneViolation(check([...base(), ddb, ruleTo("iso-ddb-rule", U, [ddb.urn])]), "iso-ddb-rule", /prefix list of VPC endpoint iso-ddb \(com\.amazonaws\.us-east-1\.dynamodb\) — an isolation group may reach only the S3 gateway endpoint's prefix list/);
    });

    it("notes what it cannot check: entries, an entry's cidr or list unknown, a list id unknown, an endpoint's service unknown", () => {
        const unknownEntries = list("later", { id: U, entries: U });
        onlyNotes(check([...base(), unknownEntries, ruleTo("iso-later", U, [unknownEntries.urn])]), [["iso-later", /cannot check the entries of prefix list later \(egress rule iso-later .*\) during preview: value unknown/]]);
        const oneUnknown = list("later", { id: U, entries: [{ cidr: "10.0.0.0/8" }, { cidr: U }] });
        onlyNotes(check([...base(), oneUnknown, ruleTo("iso-later", U, [oneUnknown.urn])], { allowedPorts: [443], allowedCidrs: ["10.0.0.0/8"] }), [["iso-later", /cannot check an entry of prefix list later/]]);
        const bare = list("bare", { id: U });
        const entryCidr = res(T.entry, "bare-e", { prefixListId: U, cidr: U }, { deps: { prefixListId: [bare.urn] } });
        onlyNotes(check([...base(), bare, entryCidr, ruleTo("iso-bare", U, [bare.urn])]), [["iso-bare", /cannot check the cidr of prefix list entry bare-e/]]);
        const unplaced = res(T.entry, "somewhere", { prefixListId: U, cidr: "0.0.0.0/0" });
        onlyNotes(check([...base(), bare, unplaced, ruleTo("iso-bare", U, [bare.urn])]), [["iso-bare", /cannot tell whether prefix list entry somewhere adds to prefix list bare .* prefixListId is unknown/]]);
        onlyNotes(check([...base(), ruleTo("iso-nowhere", U)]), [["iso-nowhere", /cannot check the prefix list of egress rule iso-nowhere .* during preview: value unknown/]]);
        const vague = res(T.vpce, "iso-vague", { serviceName: U, prefixListId: U });
        onlyNotes(check([...base(), vague, ruleTo("iso-vague-rule", U, [vague.urn])]), [["iso-vague-rule", /cannot check the service of VPC endpoint iso-vague/]]);
    });

    it("keeps a definite violation beside an unknown", () => {
        const open = list("open", { id: "pl-open", entries: [{ cidr: "0.0.0.0/0" }, { cidr: U }] });
        oneViolation(check([...base(), open, ruleTo("iso-open", "pl-open")]), "iso-open", /0\.0\.0\.0\/0 \(the internet\)/);
    });

    it("notes a list id that names no resource of the stack (never a silent pass), unless it is in allowedPrefixListIds", () => {
        const foreign = [...base(), ruleTo("iso-foreign", "pl-0123456789abcdef0")];
        onlyNotes(check(foreign), [["iso-foreign", /names prefix list pl-0123456789abcdef0, which is not a resource of this stack: its entries cannot be checked — if it is the region's S3 prefix list .* add its id to allowedPrefixListIds/]]);
        clean(check(foreign, { allowedPorts: [443], allowedCidrs: [], allowedPrefixListIds: ["pl-0123456789abcdef0"] }));
        // The allow-list is for ids outside the stack: a stack list is still judged by its entries.
        const open = list("open", { id: "pl-open", entries: [{ cidr: "0.0.0.0/0" }] });
        oneViolation(check([...base(), open, ruleTo("iso-open", "pl-open")], { allowedPorts: [443], allowedCidrs: [], allowedPrefixListIds: ["pl-open"] }), "iso-open", /the internet/);
    });

    it("leaves lists of groups that are not isolation groups alone", () => {
        const open = list("open", { id: "pl-open", entries: [{ cidr: "0.0.0.0/0" }] });
        const web = res(T.sg, "web", { id: "sg-web", egress: [{ protocol: "-1", fromPort: 0, toPort: 0, prefixListIds: ["pl-open"] }] });
        clean(check([...base(), open, web]));
    });

    it("core: one test for a rule's own CIDR and a list's entries", () => {
        assert.ok(isAllowedCidr("2001:DB8::/32", ["2001:db8:0::/32"]));
        assert.ok(!isAllowedCidr("10.0.0.0/16", ["10.0.0.0/8"]), "exact blocks only, as for a rule's own CIDR");
        assert.ok(isWholeInternet("0.0.0.0/0") && isWholeInternet("::/0") && !isWholeInternet("10.0.0.0/8"));
        assert.deepEqual(isolationRuleProblems({ direction: "egress", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv6: "2001:DB8::/32" }, [443], ["2001:db8::/32"]), []);
    });
});

// ---------------------------------------------------------------------------------------------------------
// kms-evidence-key-rotation
// ---------------------------------------------------------------------------------------------------------
describe(rotation.NAME, () => {
    const check = (stack: RuleResource[]) => rotation.checkKmsEvidenceKeyRotation(stack);
    const ARN = "arn:aws:kms:us-east-1:111111111111:key/";

    /** An evidence bucket (in an EvidenceStore) encrypted at preview by a key reached through the SSE rules' dependency. */
    const key = (name: string, props: Record<string, unknown> = {}, parentType?: string) =>
        res(T.key, name, { description: name, enableKeyRotation: true, ...props }, { parentType });
    const bucket = res(T.bucket, "ev", { bucket: "ev", objectLockEnabled: true, tags: { "dfir:role": "evidence" } }, { parentType: T.store });
    const sseWith = (keyRef: unknown, deps: string[], name = "ev-sse") => res(T.sse, name, {
        bucket: U, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyRef }, bucketKeyEnabled: true }],
    }, { deps: { bucket: [bucket.urn], rules: deps } });
    const base = (k = key("ev-key", { tags: { "dfir:role": "evidence" } }, T.store)) => [bucket, k, sseWith(U, [k.urn])];

    it("passes the evidence store as built (one finding, on its key)", () => {
        assert.deepEqual(statuses(check(base())), [["ev-key", "compliant"]]);
    });

    it("rejects an evidence key without rotation, with the reasons it is one, and what to set", () => {
        oneViolation(check(base(key("ev-key", { enableKeyRotation: false, tags: { "dfir:role": "evidence" } }, T.store))), "ev-key",
            /evidence key ev-key \(belongs to an EvidenceStore; is tagged dfir:role=evidence; encrypts evidence bucket ev\): it does not rotate — set enableKeyRotation: true/);
    });

    it("finds evidence keys by what they do, whatever their tags and parents", () => {
        const plain = key("mine", { enableKeyRotation: false });
        // The evidence bucket's SSE key, by dependency (preview) ...
        oneViolation(check([bucket, plain, sseWith(U, [plain.urn])]), "mine", /\(encrypts evidence bucket ev\): it does not rotate/);
        // ... by ARN (after an update) ...
        const known = key("mine", { enableKeyRotation: false, arn: `${ARN}mine-id`, id: "mine-id" });
        oneViolation(check([bucket, known, sseWith(`${ARN}mine-id`, [])]), "mine", /encrypts evidence bucket ev/);
        // ... through an alias, by name or alias ARN ...
        const alias = res(T.alias, "mine-alias", { name: "alias/evidence", arn: "arn:aws:kms:us-east-1:111111111111:alias/evidence", targetKeyId: U }, { deps: { targetKeyId: [plain.urn] } });
        oneViolation(check([bucket, plain, alias, sseWith("alias/evidence", [])]), "mine", /encrypts evidence bucket ev/);
        oneViolation(check([bucket, plain, alias, sseWith("arn:aws:kms:us-east-1:111111111111:alias/evidence", [])]), "mine", /encrypts evidence bucket ev/);
        // ... the bucket's deprecated inline encryption ...
        const inline = { ...bucket, props: { ...bucket.props, serverSideEncryptionConfiguration: { rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms:dsse", kmsMasterKeyId: `${ARN}mine-id` } } } } };
        oneViolation(check([inline, known]), "mine", /encrypts evidence bucket ev/);
        // ... the key the response copies snapshots under (HUB_SNAPSHOT_KEY_ARN), known or unknown at preview ...
        const fn = (value: unknown, deps: string[]) => res(T.fn, "snapshot-fn", { environment: { variables: { EVIDENCE_BUCKET: "ev", HUB_SNAPSHOT_KEY_ARN: value } } }, { deps: { environment: deps } });
        oneViolation(check([known, fn(`${ARN}mine-id`, [])]), "mine", /\(encrypts the response's copies of evidence snapshots \(HUB_SNAPSHOT_KEY_ARN\)\)/);
        oneViolation(check([plain, bucket, fn(U, [bucket.urn, plain.urn])]), "mine", /HUB_SNAPSHOT_KEY_ARN/);
        // ... a member region's snapshot share key, behind alias/dfir-snapshot-share ...
        const share = res(T.alias, "share", { name: "alias/dfir-snapshot-share", targetKeyId: U }, { deps: { targetKeyId: [plain.urn] } });
        oneViolation(check([plain, share]), "mine", /re-encrypts evidence snapshots for the hub \(alias\/dfir-snapshot-share\)/);
        // ... and the tag contract alone, or an EvidenceStore parent alone.
        oneViolation(check([key("tagged", { enableKeyRotation: false, tags: { "dfir:role": "evidence" } })]), "tagged", /is tagged dfir:role=evidence/);
        oneViolation(check([key("child", { enableKeyRotation: false }, T.store)]), "child", /belongs to an EvidenceStore/);
    });

    it("leaves keys that protect no evidence alone: another bucket's, the notifications key, AWS managed keys", () => {
        const other = res(T.bucket, "logs", { bucket: "logs", tags: {} });
        const k = key("logs-key", { enableKeyRotation: false });
        const sse = res(T.sse, "logs-sse", { bucket: U, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: U } }] }, { deps: { bucket: [other.urn], rules: [k.urn] } });
        const topicKey = key("notifications", { enableKeyRotation: false });
        assert.deepEqual(check([other, k, sse, topicKey]), []);
        // aws:kms without a key, the aws/s3 alias and AES256: AWS managed or no KMS key at all.
        for (const byDefault of [{ sseAlgorithm: "aws:kms" }, { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/aws/s3" }, { sseAlgorithm: "AES256" }]) {
            assert.deepEqual(check([bucket, res(T.sse, "ev-sse", { bucket: "ev", rules: [{ applyServerSideEncryptionByDefault: byDefault }] })]), []);
        }
    });

    it("asymmetric and HMAC keys (signing) cannot rotate: not demanded, and refused when asked for", () => {
        for (const spec of ["RSA_2048", "ECC_NIST_P256", "HMAC_256"]) {
            const usage = spec.startsWith("HMAC") ? "GENERATE_VERIFY_MAC" : "SIGN_VERIFY";
            const signing = key("signer", { customerMasterKeySpec: spec, keyUsage: usage, tags: { "dfir:role": "evidence" } });
            oneViolation(check([signing]), "signer", new RegExp(`it is a ${spec} key, which AWS cannot rotate: EnableKeyRotation is refused — remove enableKeyRotation`));
            const { enableKeyRotation: _, ...without } = signing.props;
            assert.deepEqual(statuses(check([{ ...signing, props: without }])), [["signer", "compliant"]]);
        }
    });

    it("keys AWS cannot rotate automatically: imported material, custom key stores; a replica is judged by its primary", () => {
        const imported = res(T.external, "byok", { keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT", tags: { "dfir:role": "evidence" } });
        oneViolation(check([imported]), "byok", /has imported key material, which AWS cannot rotate automatically — use an aws\.kms\.Key/);
        const hsm = key("hsm", { customKeyStoreId: "cks-1234567890abcdef0", tags: { "dfir:role": "evidence" } });
        oneViolation(check([hsm]), "hsm", /is in a custom key store \(customKeyStoreId\)/);
        const primary = key("primary", { enableKeyRotation: false, multiRegion: true });
        const replica = res(T.replica, "replica", { primaryKeyArn: U }, { deps: { primaryKeyArn: [primary.urn] } });
        oneViolation(check([bucket, primary, replica, sseWith(U, [replica.urn])]), "replica", /evidence key replica \(encrypts evidence bucket ev\): its primary key primary does not rotate/);
        const rotating = key("primary", { enableKeyRotation: true, multiRegion: true });
        assert.deepEqual(statuses(check([bucket, rotating, replica, sseWith(U, [replica.urn])])), [["replica", "compliant"]]);
    });

    it("notes what it cannot check: rotation unknown, a key outside the stack, unknown SSE rules, an outside primary", () => {
        onlyNotes(check(base(key("ev-key", { enableKeyRotation: UNKNOWN_BOOLEAN }, T.store))), [["ev-key", /cannot check enableKeyRotation of ev-key during preview/]]);
        onlyNotes(check([bucket, sseWith(`${ARN}1234abcd-12ab-34cd-56ef-1234567890ab`, [])]), [["ev-sse", /KMS key arn:aws:kms:.* is not a resource of this stack: cannot check its rotation/]]);
        onlyNotes(check([bucket, res(T.sse, "ev-sse", { bucket: "ev", rules: U })]), [["ev-sse", /cannot check which KMS key it uses during preview: its rules are unknown/]]);
        const replica = res(T.replica, "replica", { primaryKeyArn: `${ARN}mrk-1234`, tags: { "dfir:role": "evidence" } });
        onlyNotes(check([replica]), [["replica", /its primary key .*mrk-1234 is not a resource of this stack/]]);
    });
});

// ---------------------------------------------------------------------------------------------------------
// The forensic workstation
// ---------------------------------------------------------------------------------------------------------
/** The workstation as ForensicWorkstation builds it, at preview: private subnet, no public IP, encrypted root. */
function workstationStack(change: (instance: Record<string, any>) => void = () => undefined, extra: RuleResource[] = []): RuleResource[] {
    const W = T.workstation;
    const subnet = res(T.subnet, "ws-subnet", { vpcId: U, cidrBlock: "10.254.0.0/24", mapPublicIpOnLaunch: false }, { parentType: W });
    const group = res(T.sg, "ws-sg", { vpcId: U, tags: { "dfir:role": "workstation" } }, { parentType: W });
    const props: Record<string, any> = {
        ami: "ami-0123456789abcdef0", instanceType: "m5.xlarge", subnetId: U, vpcSecurityGroupIds: [U], associatePublicIpAddress: false,
        rootBlockDevice: { encrypted: true, volumeType: "gp3", deleteOnTermination: true }, tags: { "dfir:role": "workstation" },
    };
    change(props);
    const instance = res(T.instance, "ws-instance", props, { parentType: W, deps: { subnetId: [subnet.urn], vpcSecurityGroupIds: [group.urn] } });
    return [subnet, group, instance, ...extra];
}
const INSTANCE_URN = urnOf(T.instance, "ws-instance", T.workstation);

describe(publicIp.NAME, () => {
    const check = (stack: RuleResource[]) => publicIp.checkWorkstationNoPublicIp(stack);

    it("passes the workstation as built", () => {
        assert.deepEqual(statuses(check(workstationStack())), [["ws-instance", "compliant"]]);
    });

    it("rejects associatePublicIpAddress: true", () => {
        oneViolation(check(workstationStack((p) => { p.associatePublicIpAddress = true; })), "ws-instance",
            /forensic workstation ws-instance \(created by a ForensicWorkstation\): associatePublicIpAddress is true — set it to false/);
    });

    it("left unset, the subnet decides: mapPublicIpOnLaunch, or no subnet at all (the default subnet); false overrides the subnet", () => {
        const publicSubnet = (s: RuleResource[]) => s.map((r) => (r.name === "ws-subnet" ? { ...r, props: { ...r.props, mapPublicIpOnLaunch: true } } : r));
        oneViolation(check(publicSubnet(workstationStack((p) => { delete p.associatePublicIpAddress; }))), "ws-instance", /subnet ws-subnet assigns a public IPv4 address at launch \(mapPublicIpOnLaunch: true\)/);
        assert.deepEqual(violations(check(publicSubnet(workstationStack()))), []);
        oneViolation(check(workstationStack((p) => { delete p.associatePublicIpAddress; delete p.subnetId; })), "ws-instance", /names no subnet, so it launches in the default VPC's default subnet/);
        // An existing network interface as eth0 never gets a public IPv4 address at launch.
        const eni = res(T.eni, "ws-eni", { subnetId: "subnet-x" });
        assert.deepEqual(violations(check(publicSubnet(workstationStack((p) => { delete p.associatePublicIpAddress; p.primaryNetworkInterface = { networkInterfaceId: U }; }, [eni])))), []);
    });

    it("rejects an Elastic IP on the workstation or on one of its network interfaces", () => {
        oneViolation(check(workstationStack(undefined, [res(T.eip, "ws-eip", { domain: "vpc", instance: U }, { deps: { instance: [INSTANCE_URN] } })])), "ws-instance", /Elastic IP ws-eip gives it a public address — remove it/);
        oneViolation(check(workstationStack((p) => { p.id = "i-0123"; }, [res(T.eipAssoc, "ws-assoc", { instanceId: "i-0123", allocationId: "eipalloc-1" })])), "ws-instance", /Elastic IP association ws-assoc gives it a public address/);
        const eni = res(T.eni, "ws-eni2", { subnetId: "subnet-x" });
        const attached = res(T.eniAttach, "ws-eni2-attach", { instanceId: U, networkInterfaceId: U, deviceIndex: 1 }, { deps: { instanceId: [INSTANCE_URN], networkInterfaceId: [eni.urn] } });
        const eip = res(T.eip, "ws-eni2-eip", { networkInterface: U }, { deps: { networkInterface: [eni.urn] } });
        oneViolation(check(workstationStack(undefined, [eni, attached, eip])), "ws-instance", /Elastic IP ws-eni2-eip gives it a public address/);
        const primary = res(T.eni, "ws-eni3", { id: "eni-3", subnetId: "subnet-x" });
        oneViolation(check(workstationStack((p) => { p.networkInterfaces = [{ deviceIndex: 0, networkInterfaceId: "eni-3" }]; }, [primary, res(T.eipAssoc, "ws-eni3-assoc", { networkInterfaceId: "eni-3" })])), "ws-instance", /Elastic IP association ws-eni3-assoc/);
        // An Elastic IP of another instance does not count.
        assert.deepEqual(violations(check(workstationStack(undefined, [res(T.eip, "web-eip", { instance: "i-web" })]))), []);
    });

    it("rejects IPv6 addresses (globally unique) on the instance or from its subnet", () => {
        oneViolation(check(workstationStack((p) => { p.ipv6AddressCount = 1; })), "ws-instance", /asks for 1 IPv6 address \(globally unique, public\)/);
        oneViolation(check(workstationStack((p) => { p.enablePrimaryIpv6 = true; })), "ws-instance", /enables a primary IPv6 address/);
        const v6subnet = workstationStack().map((r) => (r.name === "ws-subnet" ? { ...r, props: { ...r.props, assignIpv6AddressOnCreation: true } } : r));
        oneViolation(check(v6subnet), "ws-instance", /subnet ws-subnet assigns IPv6 addresses/);
    });

    it("reads its launch template's network interfaces", () => {
        const template = (ni: Record<string, unknown>) => res(T.template, "ws-template", { id: "lt-0123", name: "ws-template", networkInterfaces: [{ deviceIndex: 0, ...ni }] });
        oneViolation(check(workstationStack((p) => { delete p.associatePublicIpAddress; p.launchTemplate = { id: "lt-0123" }; }, [template({ associatePublicIpAddress: "true" })])), "ws-instance", /launch template ws-template asks for a public IPv4 address/);
        assert.deepEqual(violations(check(workstationStack((p) => { delete p.associatePublicIpAddress; delete p.subnetId; p.launchTemplate = { name: "ws-template" }; }, [template({ associatePublicIpAddress: "false" })]))), []);
        onlyNotes(check(workstationStack((p) => { p.launchTemplate = { id: "lt-elsewhere" }; })), [["ws-instance", /launch template lt-elsewhere is not a resource of this stack/]]);
    });

    it("finds the workstation by its tag or its group, and leaves other instances alone", () => {
        const tagged = res(T.instance, "analysis", { subnetId: "subnet-x", associatePublicIpAddress: true, tags: { "dfir:role": "workstation" } });
        oneViolation(check([tagged]), "analysis", /forensic workstation analysis \(tagged dfir:role=workstation\)/);
        const group = res(T.sg, "ws-sg", { id: "sg-ws", tags: { "dfir:role": "workstation" } });
        const behind = res(T.instance, "helper", { subnetId: "subnet-x", associatePublicIpAddress: true, vpcSecurityGroupIds: ["sg-ws"] });
        oneViolation(check([group, behind]), "helper", /forensic workstation helper \(behind workstation group ws-sg\)/);
        const web = res(T.instance, "web", { associatePublicIpAddress: true, tags: { role: "web" } });
        assert.deepEqual(check([web]), []);
    });

    it("notes what it cannot check", () => {
        onlyNotes(check(workstationStack((p) => { p.associatePublicIpAddress = UNKNOWN_BOOLEAN; })), [["ws-instance", /cannot check associatePublicIpAddress during preview/]]);
        const outsideSubnet = (change: (p: Record<string, any>) => void) => workstationStack(change)
            .map((r) => (r.type === T.instance ? { ...r, propertyDependencies: { vpcSecurityGroupIds: r.propertyDependencies?.vpcSecurityGroupIds ?? [] } } : r));
        onlyNotes(check(outsideSubnet((p) => { delete p.associatePublicIpAddress; p.subnetId = "subnet-0123456789abcdef0"; })), [["ws-instance", /subnet subnet-0123456789abcdef0 is not a resource of this stack: cannot tell whether it assigns public IPv4 addresses — set associatePublicIpAddress: false/]]);
        assert.deepEqual(statuses(check(outsideSubnet((p) => { p.subnetId = "subnet-0123456789abcdef0"; }))), [["ws-instance", "compliant"]]);
        onlyNotes(check(workstationStack(undefined, [res(T.eipAssoc, "somewhere", { instanceId: U })])), [["somewhere", /cannot tell whether Elastic IP association somewhere gives the forensic workstation a public address during preview/]]);
        onlyNotes(check([res(T.instance, "maybe", { tags: U })]), [["maybe", /cannot tell whether it is the forensic workstation during preview: its tags are unknown/]]);
    });
});

describe(volumes.NAME, () => {
    const check = (stack: RuleResource[]) => volumes.checkWorkstationEncryptedVolumes(stack);

    it("both workstation rules are skipped by @pulumi/policy on a stack without an ec2.Instance (and run on one with it)", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { getPulumiType } = require("@pulumi/policy/policy") as { getPulumiType: (f: unknown) => string | undefined };
        for (const p of [publicIp.policy, volumes.policy]) assert.equal(getPulumiType((p as { validateStack: unknown }).validateStack), T.instance, p.name);
        assert.equal(getPulumiType((rotation.policy as { validateStack: unknown }).validateStack), undefined, "the key rule reads every key type");
    });

    it("passes the workstation as built", () => {
        assert.deepEqual(statuses(check(workstationStack())), [["ws-instance", "compliant"]]);
    });

    it("rejects an unencrypted (or unset) root volume", () => {
        oneViolation(check(workstationStack((p) => { p.rootBlockDevice.encrypted = false; })), "ws-instance", /its root volume is not encrypted — set rootBlockDevice\.encrypted: true/);
        oneViolation(check(workstationStack((p) => { delete p.rootBlockDevice; })), "ws-instance", /root volume is not encrypted/);
    });

    it("rejects unencrypted EBS block devices; one made from a snapshot that leaves encryption to it is noted", () => {
        oneViolation(check(workstationStack((p) => { p.ebsBlockDevices = [{ deviceName: "/dev/sdf", volumeSize: 100 }]; })), "ws-instance", /EBS block device \/dev\/sdf is not encrypted — set encrypted: true/);
        assert.deepEqual(statuses(check(workstationStack((p) => { p.ebsBlockDevices = [{ deviceName: "/dev/sdf", encrypted: true }]; }))), [["ws-instance", "compliant"]]);
        onlyNotes(check(workstationStack((p) => { p.ebsBlockDevices = [{ deviceName: "/dev/sdf", snapshotId: "snap-0123" }]; })), [["ws-instance", /\/dev\/sdf is made from snapshot snap-0123 and leaves encryption to it/]]);
        oneViolation(check(workstationStack((p) => { p.ebsBlockDevices = [{ deviceName: "/dev/sdf", snapshotId: "snap-0123", encrypted: false }]; })), "ws-instance", /\/dev\/sdf is not encrypted/);
    });

    it("rejects an unencrypted ebs.Volume attached to it", () => {
        const volume = (props: Record<string, unknown>) => res(T.volume, "ws-data", { availabilityZone: "us-east-1a", size: 500, ...props });
        const attach = (v: RuleResource) => res(T.attach, "ws-data-attach", { deviceName: "/dev/sdg", instanceId: U, volumeId: U }, { deps: { instanceId: [INSTANCE_URN], volumeId: [v.urn] } });
        const plain = volume({});
        oneViolation(check(workstationStack(undefined, [plain, attach(plain)])), "ws-instance", /volume ws-data \(attached by ws-data-attach\) is not encrypted — create it with encrypted: true/);
        const encrypted = volume({ encrypted: true });
        assert.deepEqual(statuses(check(workstationStack(undefined, [encrypted, attach(encrypted)]))), [["ws-instance", "compliant"]]);
        const outside = res(T.attach, "ws-old-attach", { deviceName: "/dev/sdh", instanceId: U, volumeId: "vol-0123" }, { deps: { instanceId: [INSTANCE_URN] } });
        onlyNotes(check(workstationStack(undefined, [outside])), [["ws-instance", /volume vol-0123 \(attached by ws-old-attach\) is not a resource of this stack/]]);
        const unplaced = res(T.attach, "somewhere", { deviceName: "/dev/sdh", instanceId: U, volumeId: plain.urn });
        onlyNotes(check(workstationStack(undefined, [unplaced])), [["somewhere", /cannot tell whether volume attachment somewhere attaches a volume to the forensic workstation/]]);
    });

    it("reads its launch template's block device mappings (which may also encrypt the root)", () => {
        const template = (ebs: Record<string, unknown>) => res(T.template, "ws-template", { id: "lt-0123", blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs }] });
        oneViolation(check(workstationStack((p) => { p.launchTemplate = { id: "lt-0123" }; }, [template({ encrypted: "false" })])), "ws-instance", /\/dev\/xvda of launch template ws-template is not encrypted — set ebs\.encrypted: "true"/);
        assert.deepEqual(statuses(check(workstationStack((p) => { delete p.rootBlockDevice; p.launchTemplate = { id: "lt-0123" }; }, [template({ encrypted: "true" })]))), [["ws-instance", "compliant"]]);
    });

    it("notes an unknown root encryption", () => {
        onlyNotes(check(workstationStack((p) => { p.rootBlockDevice.encrypted = UNKNOWN_BOOLEAN; })), [["ws-instance", /cannot check rootBlockDevice\.encrypted during preview/]]);
    });
});

// ---------------------------------------------------------------------------------------------------------
// The project's own stacks (no false positive), then the real pack over gRPC
// ---------------------------------------------------------------------------------------------------------

function stackResources(stack: string): Resource[] {
    const resources = sharedStackResources<Resource>(stack);
    for (const r of resources) if (r.type === T.fn) delete r.props.code;
    return resources;
}


describe("the project's stacks pass the new checks with nothing to note", function () {
    this.timeout(120000);
    it("dev and prod: no violation and no note from class 6 or the new rules", () => {
        for (const stack of ["dev", "prod"]) {
            const resources = stackResources(stack) as unknown as RuleResource[];
            const findings = [
                ...egress.checkIsolationGroupEgress(resources), ...rotation.checkKmsEvidenceKeyRotation(resources),
                ...publicIp.checkWorkstationNoPublicIp(resources), ...volumes.checkWorkstationEncryptedVolumes(resources),
            ];
            assert.deepEqual(findings.filter((f) => f.verdict.status !== "compliant"), [], stack);
            const judged = new Set(findings.map((f) => f.type));
            assert.ok(judged.has(T.egress), stack);
            if (stack === "prod") {
                // The hub's evidence keys, their manifest-signing keys (asymmetric: judged, no rotation asked), every
                // member's share key, and the workstation.
                assert.equal(findings.filter((f) => f.type === T.key).length, 7);
                assert.equal(findings.filter((f) => f.type === T.instance).length, 2);
            }
        }
    });
});

describe("class 6 and the new rules over gRPC: the prod stack and broken and good sets, through one pack process", function () {
    this.timeout(180000);
    let result: CheckResult;
    const ISO = "dfir-222222222222-us-east-1-vpc-0123456789abcdef0-isolation";
    const WS = "dfir-workstation-us-east-1";
    const EV = "dfir-evidence-us-east-1";
    /** [level, policy, resource name] of every violation the sets must produce. */
    const expected: [string, string, string][] = [];

    before(async () => {
        const stack = stackResources("prod");
        const group = find(stack, T.sg, ISO);
        const s3Rule = find(stack, T.egress, `${ISO}-s3`);
        const added: Resource[] = [];
        const urn = (type: string, name: string) => `urn:pulumi:prod::aws-dfir::${type}::${name}`;
        const add = (type: string, name: string, props: Record<string, unknown>, propertyDependencies: Record<string, string[]> = {}, provider = s3Rule.provider): Resource => {
            const r: Resource = { type, name, urn: urn(type, name), provider, props, propertyDependencies };
            added.push(r);
            return r;
        };
        /** An egress rule of the member's isolation group naming a prefix list (unknown id, its list as dependency). */
        const ruleTo = (name: string, prefixListId: unknown, deps: string[] = []) =>
            add(T.egress, name, { securityGroupId: U, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId }, { securityGroupId: [group.urn], ...(deps.length ? { prefixListId: deps } : {}) });

        // Class 6, broken: a list with 0.0.0.0/0; a bare list given ::/0 by an entry resource; an inline block to a
        // private list; another service's gateway endpoint.
        const open = add(T.list, "g6-open-list", { addressFamily: "IPv4", maxEntries: 5, name: "open", entries: [{ cidr: "0.0.0.0/0" }] });
        ruleTo("g6-open-rule", U, [open.urn]);
        expected.push(["mandatory", egress.NAME, "g6-open-rule"]);
        const bare = add(T.list, "g6-entry-list", { addressFamily: "IPv6", maxEntries: 5, name: "bare" });
        add(T.entry, "g6-entry-any", { prefixListId: U, cidr: "::/0" }, { prefixListId: [bare.urn] });
        ruleTo("g6-entry-rule", U, [bare.urn]);
        expected.push(["mandatory", egress.NAME, "g6-entry-rule"]);
        add(T.list, "g6-inline-list", { id: "pl-0g6inline", addressFamily: "IPv4", maxEntries: 5, name: "corp", entries: [{ cidr: "10.0.0.0/8" }] });
        add(T.sg, "g6-inline", { vpcId: group.props.vpcId, tags: { "dfir:role": "isolation" }, egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: ["pl-0g6inline"] }] });
        expected.push(["mandatory", egress.NAME, "g6-inline"]);
        const ddb = add(T.vpce, "g6-ddb", { vpcId: group.props.vpcId, serviceName: "com.amazonaws.us-east-1.dynamodb", vpcEndpointType: "Gateway" });
        ruleTo("g6-ddb-rule", U, [ddb.urn]);
        expected.push(["mandatory", egress.NAME, "g6-ddb-rule"]);
        // Class 6, good: an empty list; an unknown-entries list and an id outside the stack are advisory notes.
        const empty = add(T.list, "g6-empty-list", { addressFamily: "IPv4", maxEntries: 5, name: "empty", entries: [] });
        ruleTo("g6-empty-rule", U, [empty.urn]);
        const later = add(T.list, "g6-later-list", { addressFamily: "IPv4", maxEntries: 5, name: "later", entries: U });
        ruleTo("g6-later-rule", U, [later.urn]);
        expected.push(["advisory", egress.NAME, "g6-later-rule"]);
        ruleTo("g6-foreign-rule", "pl-0123456789abcdef0");
        expected.push(["advisory", egress.NAME, "g6-foreign-rule"]);

        // Key rotation (advisory): an evidence store copy whose key does not rotate; a plain key an evidence
        // bucket's SSE uses; a signing key that asks for rotation.
        const norot = copyOf(stack, EV, "norot");
        find(norot, T.key, `${EV}-norot-key`).props.enableKeyRotation = false;
        added.push(...norot);
        expected.push(["advisory", rotation.NAME, `${EV}-norot-key`]);
        const byuse = copyOf(stack, EV, "byuse");
        const plainKey = add(T.key, "g6-plain-key", { description: "no tags, no store", enableKeyRotation: false }, {}, find(byuse, T.key, `${EV}-byuse-key`).provider);
        const sse = find(byuse, T.sse, `${EV}-byuse-sse`);
        sse.props.rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId = U;
        sse.propertyDependencies = { ...sse.propertyDependencies, rules: [plainKey.urn] };
        added.push(...byuse);
        expected.push(["advisory", rotation.NAME, "g6-plain-key"]);
        add(T.key, "g6-signer", { customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", enableKeyRotation: true, tags: { "dfir:role": "evidence" } });
        expected.push(["advisory", rotation.NAME, "g6-signer"]);
        add(T.key, "g6-signer-ok", { customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", tags: { "dfir:role": "evidence" } });

        // The workstation: a public IP, an Elastic IP, a public subnet (mandatory); an unencrypted root (advisory).
        const pub = copyOf(stack, WS, "pub");
        find(pub, T.instance, `${WS}-pub-instance`).props.associatePublicIpAddress = true;
        added.push(...pub);
        expected.push(["mandatory", publicIp.NAME, `${WS}-pub-instance`]);
        const eip = copyOf(stack, WS, "eip");
        const eipInstance = find(eip, T.instance, `${WS}-eip-instance`);
        added.push(...eip);
        add(T.eip, "g6-ws-eip", { domain: "vpc", instance: U }, { instance: [eipInstance.urn] }, eipInstance.provider);
        expected.push(["mandatory", publicIp.NAME, `${WS}-eip-instance`]);
        const subnet = copyOf(stack, WS, "subnet");
        find(subnet, T.subnet, `${WS}-subnet-subnet`).props.mapPublicIpOnLaunch = true;
        delete find(subnet, T.instance, `${WS}-subnet-instance`).props.associatePublicIpAddress;
        added.push(...subnet);
        expected.push(["mandatory", publicIp.NAME, `${WS}-subnet-instance`]);
        const plain = copyOf(stack, WS, "plain");
        find(plain, T.instance, `${WS}-plain-instance`).props.rootBlockDevice.encrypted = false;
        added.push(...plain);
        expected.push(["advisory", volumes.NAME, `${WS}-plain-instance`]);

        // These sets exercise other rules; evidence-access-trail (mandatory) has its own cases (test/access-trail.test.ts, test/policy-pack-grpc.test.ts).
        [result] = await policyCheck({ resources: { raw: [...stack, ...added], source: "prod + issue 16 class 6 and new-rule sets" }, stack: "prod", config: { "evidence-access-trail": { enforcementLevel: "disabled", properties: {} } } });
    });

    it("runs the new rules in the pack", () => {
        const names = result.policies.map((p) => p.name);
        for (const n of [rotation.NAME, publicIp.NAME, volumes.NAME, egress.NAME]) assert.ok(names.includes(n), n);
    });

    it("lands each violation on the right resource with the right policy and level; nothing else of these policies", () => {
        const got = result.violations.map((v) => `${v.enforcementLevel} ${v.policy} @ ${v.name}`);
        for (const [level, policy, name] of expected) assert.ok(got.includes(`${level} ${policy} @ ${name}`), `missing ${level} ${policy} @ ${name}; got:\n${got.join("\n")}`);
        const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory");
        for (const v of mandatory) assert.ok(expected.some(([l, p, n]) => l === "mandatory" && p === v.policy && n === v.name), `false positive: ${v.policy} on ${v.name}: ${v.message}`);
        const ours = new Set([egress.NAME, rotation.NAME, publicIp.NAME, volumes.NAME]);
        for (const v of result.violations.filter((x) => ours.has(x.policy))) {
            assert.ok(expected.some(([l, p, n]) => l === v.enforcementLevel && p === v.policy && n === v.name), `unexpected: ${v.enforcementLevel} ${v.policy} on ${v.name}: ${v.message}`);
        }
    });

    it("tells the engineer what to change", () => {
        const message = (policy: string, name: string) => result.violations.find((v) => v.policy === policy && v.name === name)?.message ?? "";
        assert.match(message(egress.NAME, "g6-open-rule"), /customer-managed prefix list g6-open-list, whose entries include 0\.0\.0\.0\/0 \(the internet\) — remove those entries/);
        assert.match(message(egress.NAME, "g6-foreign-rule"), /not a resource of this stack.*allowedPrefixListIds/);
        assert.match(message(rotation.NAME, "g6-plain-key"), /encrypts evidence bucket dfir-evidence-us-east-1-byuse\): it does not rotate — set enableKeyRotation: true/);
        assert.match(message(rotation.NAME, "g6-signer"), /ECC_NIST_P256 key, which AWS cannot rotate/);
        assert.match(message(publicIp.NAME, `${WS}-eip-instance`), /Elastic IP g6-ws-eip gives it a public address — remove it/);
        assert.match(message(publicIp.NAME, `${WS}-subnet-instance`), /mapPublicIpOnLaunch: true\) — set associatePublicIpAddress: false/);
        assert.match(message(volumes.NAME, `${WS}-plain-instance`), /root volume is not encrypted — set rootBlockDevice\.encrypted: true/);
    });
});
