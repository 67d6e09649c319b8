/**
 * Issue 16, classes 1 and 2 of the policy pack: which buckets and groups the guarantees apply to.
 *
 * 1. Membership by tag only: a bucket the response writes evidence to (a function's EVIDENCE_BUCKET) or a group it
 *    isolates with (ISOLATION_GROUPS) is held to the rules whatever its tags, read by value or, during preview,
 *    through the propertyDependencies of the function's `environment`; untrack groups (UNTRACK_GROUPS) are all-open
 *    by design and held to nothing; a `dfir:role` set through the provider's `defaultTags` counts, and when it
 *    cannot be known the pack says so.
 * 2. Links that point elsewhere: a configuration (lock, public access block, versioning, encryption) or a group
 *    rule whose KNOWN target names another resource does not count for the one it merely depends on.
 *
 * Every case is a small resource set written as a user would get it from @pulumi/aws v7 (names, ids, the engine's
 * unknown placeholder during preview, propertyDependencies), each one change away from a compliant set. The same
 * sets run in-process on the rule functions and through the real pack over gRPC (one pack process for all).
 */
import { strict as assert } from "node:assert";
import { UNKNOWN_STRING, type Finding, type RuleResource } from "../policy/lib/model";
import { StackIndex } from "../policy/lib/stackIndex";
import { BUCKET_LINKS, evidenceMembershipOf } from "../policy/lib/buckets";
import { effectiveTag, evidenceUse, groupUse } from "../policy/lib/membership";
import { GROUP_RULE_LINK } from "../policy/lib/sgRules";
import * as kms from "../policy/rules/evidence-bucket-kms-encryption";
import * as lock from "../policy/rules/evidence-bucket-object-lock";
import * as versioning from "../policy/rules/evidence-bucket-versioning";
import * as egress from "../policy/rules/isolation-group-egress-endpoints-only";
import * as ingress from "../policy/rules/isolation-group-no-ingress";
import * as pab from "../policy/rules/s3-public-access-block";
import { policyCheck } from "../scripts/policy-check";
import type { CheckResult } from "../scripts/lib/analyzer/check";
import { stackResources } from "./support/stack-resources";


const U = UNKNOWN_STRING;
const T = {
    provider: "pulumi:providers:aws",
    bucket: "aws:s3/bucket:Bucket",
    lock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    pab: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    fn: "aws:lambda/function:Function",
    sg: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egressRule: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
};
const STACK_URN = "urn:pulumi:membership::membership::";
const urnOf = (type: string, name: string) => `${STACK_URN}${type}::${name}`;
const VPC = "vpc-0123456789abcdef0";
const S3_PREFIX_LIST = "pl-63a5400a";

/** A resource in the resources-file format of `policy:check` (links by name). */
interface Spec {
    type: string;
    name: string;
    props: Record<string, unknown>;
    deps?: Record<string, string[]>;
    provider?: string;
}

// ----------------------------------------------------------------------------------------------------------------
// Builders
// ----------------------------------------------------------------------------------------------------------------
type Config = "lock" | "versioning" | "sse" | "pab";

interface BucketOptions {
    tags?: Record<string, string>;
    /** A new bucket during preview: its id and name unknown, and so the configurations' `bucket`. */
    preview?: boolean;
    /** Inputs only (an auto-named bucket as `stack:resources` prints it): no id, no name; configurations name `name`. */
    inputsOnly?: boolean;
    omit?: Config[];
    /** Replace the `bucket` of one configuration (a known value naming elsewhere). */
    pointing?: Partial<Record<Config, string>>;
    /** Extra dependencies of one configuration's `bucket`. */
    alsoDependsOn?: Partial<Record<Config, string[]>>;
    bucketProps?: Record<string, unknown>;
    provider?: string;
}

/** A bucket and its four configurations, each compliant, linked by value and by dependency as the engine sends them. */
function bucketWith(name: string, o: BucketOptions = {}): Spec[] {
    const ref = o.preview ? U : name;
    const ids = o.inputsOnly ? {} : { id: ref, bucket: ref };
    const bucket: Spec = {
        type: T.bucket, name,
        props: { ...ids, objectLockEnabled: true, ...(o.tags ? { tags: o.tags } : {}), ...o.bucketProps },
        ...(o.provider ? { provider: o.provider } : {}),
    };
    const configs: [Config, string, Record<string, unknown>][] = [
        ["lock", T.lock, { rule: { defaultRetention: { mode: "COMPLIANCE", days: 365 } } }],
        ["versioning", T.versioning, { versioningConfiguration: { status: "Enabled" } }],
        ["sse", T.sse, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] }],
        ["pab", T.pab, { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }],
    ];
    return [bucket, ...configs.filter(([kind]) => !o.omit?.includes(kind)).map(([kind, type, props]): Spec => ({
        type, name: `${name}-${kind}`,
        props: { bucket: o.pointing?.[kind] ?? ref, ...props },
        deps: { bucket: [name, ...(o.alsoDependsOn?.[kind] ?? [])] },
    }))];
}

/** A Lambda function with an environment (or an unknown one) that comes from `deps`. */
function fn(name: string, variables: Record<string, unknown> | typeof U, deps: string[]): Spec {
    return {
        type: T.fn, name,
        props: { runtime: "nodejs22.x", environment: variables === U ? U : { variables } },
        ...(deps.length > 0 ? { deps: { environment: deps } } : {}),
    };
}

/** A Lambda function whose code carries the group maps in its settings file (core/workflow.ts SETTINGS_FILE), as Contain's does. */
function fnWithFile(name: string, file: Record<string, unknown> | typeof U, deps: string[]): Spec {
    const code = file === U ? U : { assets: { "index.js": { text: "exports.handler=()=>{}" }, "settings.json": { text: JSON.stringify(file) } } };
    return {
        type: T.fn, name,
        props: { runtime: "nodejs22.x", environment: { variables: { EVIDENCE_BUCKET: "elsewhere" } }, code },
        ...(deps.length > 0 ? { deps: { code: deps } } : {}),
    };
}

const groupsJson = (map: Record<string, string>) => JSON.stringify(map);

interface GroupOptions {
    tags?: Record<string, string>;
    preview?: boolean;
    inputsOnly?: boolean;
    /** Inline ingress: SSH from anywhere. */
    openInline?: boolean;
    provider?: string;
    props?: Record<string, unknown>;
}

const groupId = (name: string) => `sg-${name}`;

function group(name: string, o: GroupOptions = {}): Spec {
    const id = o.inputsOnly ? {} : { id: o.preview ? U : groupId(name) };
    return {
        type: T.sg, name,
        props: {
            ...id, vpcId: VPC, description: name,
            ...(o.tags ? { tags: o.tags } : {}),
            ...(o.openInline ? { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] } : {}),
            ...o.props,
        },
        ...(o.provider ? { provider: o.provider } : {}),
    };
}

/** The isolation rule set (core/isolation.ts) on `groupName`: TCP 443 to the S3 prefix list and the endpoints' group. */
function isolationRules(groupName: string, ref: string, tags?: Record<string, string>): Spec[] {
    return [
        { type: T.egressRule, name: `${groupName}-s3`, props: { securityGroupId: ref, ipProtocol: "tcp", fromPort: 443, toPort: 443, prefixListId: S3_PREFIX_LIST, ...(tags ? { tags } : {}) }, deps: { securityGroupId: [groupName] } },
        { type: T.egressRule, name: `${groupName}-endpoints`, props: { securityGroupId: ref, ipProtocol: "tcp", fromPort: 443, toPort: 443, referencedSecurityGroupId: "sg-endpoints", ...(tags ? { tags } : {}) }, deps: { securityGroupId: [groupName] } },
    ];
}

/** The untrack rule set (components/isolationNetwork.ts): all traffic in and out, IPv4 (IPv6 is the same). */
function allOpenRules(groupName: string, ref: string, tags?: Record<string, string>, deps: string[] = [groupName]): Spec[] {
    return [
        { type: T.ingressRule, name: `${groupName}-in`, props: { securityGroupId: ref, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", ...(tags ? { tags } : {}) }, deps: { securityGroupId: deps } },
        { type: T.egressRule, name: `${groupName}-out`, props: { securityGroupId: ref, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", ...(tags ? { tags } : {}) }, deps: { securityGroupId: deps } },
    ];
}

function provider(name: string, defaultTags?: unknown): Spec {
    return {
        type: T.provider, name,
        props: { region: "us-east-1", version: "7.0.0", ...(defaultTags === undefined ? {} : { defaultTags: defaultTags === U ? U : JSON.stringify(defaultTags) }) },
    };
}

const EV = { "dfir:role": "evidence" };
const ISO = { "dfir:role": "isolation" };
const UNTRACK = { "dfir:role": "untrack" };

// ----------------------------------------------------------------------------------------------------------------
// The cases: `mandatory` is every mandatory violation expected ("<policy> @ <resource>"), `notes` advisory notes
// that must be there (a preview that cannot tell), `held` what the rules must have judged (applies-to checks).
// ----------------------------------------------------------------------------------------------------------------
interface Case {
    id: string;
    title: string;
    build: (p: string) => Spec[];
    mandatory: (p: string) => string[];
    notes?: (p: string) => string[];
    /** Advisory-rule violations expected (versioning, encryption). */
    advisory?: (p: string) => string[];
}

const LOCK = lock.NAME;
const PAB = pab.NAME;
const NO_INGRESS = ingress.NAME;
const EGRESS = egress.NAME;

const CASES: Case[] = [
    // ---- Class 1: buckets --------------------------------------------------------------------------------------
    {
        id: "b-value-good", title: "an untagged bucket named in EVIDENCE_BUCKET, fully locked: compliant (and judged)",
        build: (p) => [...bucketWith(`${p}-ev`), fn(`${p}-fn`, { EVIDENCE_BUCKET: `${p}-ev` }, [`${p}-ev`])],
        mandatory: () => [],
    },
    {
        id: "b-value-nolock", title: "an untagged bucket named in EVIDENCE_BUCKET without a lock configuration",
        build: (p) => [...bucketWith(`${p}-ev`, { omit: ["lock"] }), fn(`${p}-fn`, { EVIDENCE_BUCKET: `${p}-ev` }, [`${p}-ev`])],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-value-nodep", title: "EVIDENCE_BUCKET names the bucket with no dependency recorded (a hard-coded name)",
        build: (p) => [...bucketWith(`${p}-ev`, { omit: ["lock"] }), fn(`${p}-fn`, { EVIDENCE_BUCKET: `${p}-ev` }, [])],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-dep-good", title: "preview: EVIDENCE_BUCKET unknown, the environment comes from a new locked bucket: compliant",
        build: (p) => [...bucketWith(`${p}-ev`, { preview: true }), fn(`${p}-fn`, { EVIDENCE_BUCKET: U }, [`${p}-ev`])],
        mandatory: () => [],
    },
    {
        id: "b-dep-nolock", title: "preview: EVIDENCE_BUCKET unknown, comes from an untagged bucket without a lock",
        build: (p) => [...bucketWith(`${p}-ev`, { preview: true, omit: ["lock"] }), fn(`${p}-fn`, { EVIDENCE_BUCKET: U }, [`${p}-ev`])],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-dep-unlocked", title: "preview: the bucket EVIDENCE_BUCKET comes from has Object Lock off",
        build: (p) => [...bucketWith(`${p}-ev`, { preview: true, bucketProps: { objectLockEnabled: false } }), fn(`${p}-fn`, { EVIDENCE_BUCKET: U }, [`${p}-ev`])],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-value-wins", title: "EVIDENCE_BUCKET known: only the bucket it names is evidence, not every bucket the environment comes from",
        build: (p) => [
            ...bucketWith(`${p}-ev`), ...bucketWith(`${p}-logs`, { omit: ["lock"], bucketProps: { objectLockEnabled: false } }),
            fn(`${p}-fn`, { EVIDENCE_BUCKET: `${p}-ev`, LOGS: `${p}-logs` }, [`${p}-ev`, `${p}-logs`]),
        ],
        mandatory: () => [],
    },
    {
        id: "b-not-response", title: "a function without EVIDENCE_BUCKET does not make its bucket evidence",
        build: (p) => [...bucketWith(`${p}-data`, { omit: ["lock"], bucketProps: { objectLockEnabled: false } }), fn(`${p}-fn`, { DATA_BUCKET: `${p}-data` }, [`${p}-data`])],
        mandatory: () => [],
    },
    {
        id: "b-unknown-env", title: "preview: a function's whole environment is unknown: its buckets get a note, not a pass",
        build: (p) => [...bucketWith(`${p}-data`, { omit: ["lock"] }), fn(`${p}-fn`, U, [`${p}-data`])],
        mandatory: () => [],
        notes: (p) => [`${LOCK} @ ${p}-data`],
    },
    {
        id: "b-inputs-only", title: "inputs only (no ids): EVIDENCE_BUCKET names no known bucket; the bucket the environment comes from is held",
        build: (p) => [...bucketWith(`${p}-ev`, { inputsOnly: true, omit: ["lock"] }), fn(`${p}-fn`, { EVIDENCE_BUCKET: `${p}-ev` }, [`${p}-ev`])],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-default-tags", title: "dfir:role=evidence only through the provider's defaultTags (tagsAll unknown at preview)",
        build: (p) => [provider(`${p}-aws`, { tags: EV }), ...bucketWith(`${p}-ev`, { omit: ["lock"], provider: `${p}-aws`, bucketProps: { tagsAll: U } })],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-default-tags-good", title: "dfir:role=evidence through defaultTags, fully locked: compliant",
        build: (p) => [provider(`${p}-aws`, { tags: EV }), ...bucketWith(`${p}-ev`, { provider: `${p}-aws`, bucketProps: { tagsAll: U } })],
        mandatory: () => [],
    },
    {
        id: "b-default-tags-unknown", title: "preview: the provider's defaultTags and the bucket's tagsAll unknown: a note, not a pass",
        build: (p) => [provider(`${p}-aws`, U), ...bucketWith(`${p}-ev`, { omit: ["lock"], provider: `${p}-aws`, bucketProps: { tagsAll: U } })],
        mandatory: () => [],
        notes: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "b-default-tags-other", title: "the provider's known defaultTags have no dfir:role: tagsAll unknown says nothing more",
        build: (p) => [provider(`${p}-aws`, { tags: { team: "x" } }), ...bucketWith(`${p}-logs`, { omit: ["lock"], provider: `${p}-aws`, bucketProps: { tagsAll: U, objectLockEnabled: false } })],
        mandatory: () => [],
    },
    {
        id: "b-own-tag-wins", title: "the resource's own dfir:role overrides the provider's default",
        build: (p) => [provider(`${p}-aws`, { tags: EV }), ...bucketWith(`${p}-logs`, { omit: ["lock"], provider: `${p}-aws`, tags: { "dfir:role": "logs" }, bucketProps: { objectLockEnabled: false } })],
        mandatory: () => [],
    },

    // ---- Class 1: security groups -----------------------------------------------------------------------------
    {
        id: "g-value-good", title: "an untagged group named in ISOLATION_GROUPS with the isolation rule set: compliant (and judged)",
        build: (p) => [group(`${p}-sg`), ...isolationRules(`${p}-sg`, groupId(`${p}-sg`)), fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }), UNTRACK_GROUPS: "{}" }, [`${p}-sg`])],
        mandatory: () => [],
    },
    {
        id: "g-file-open", title: "an untagged group named in ISOLATION_GROUPS of the code's settings file admits SSH inline",
        build: (p) => [group(`${p}-sg`, { openInline: true }), ...isolationRules(`${p}-sg`, groupId(`${p}-sg`)), fnWithFile(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }), UNTRACK_GROUPS: "{}" }, [`${p}-sg`])],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },
    {
        id: "g-file-unknown", title: "preview: a function's code (its settings file) is unknown: the groups it comes from get a note, as with an unknown environment",
        build: (p) => [group(`${p}-sg`, { openInline: true }), fnWithFile(`${p}-fn`, U, [`${p}-sg`])],
        mandatory: () => [],
        notes: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },
    {
        id: "g-file-garbled", title: "a settings file that is not JSON: the groups the code comes from get a note, never a pass",
        build: (p) => {
            const f = fnWithFile(`${p}-fn`, {}, [`${p}-sg`]);
            const code = { assets: { "index.js": { text: "x" }, "settings.json": { text: "{not json" } } };
            return [group(`${p}-sg`, { openInline: true }), { ...f, props: { ...f.props, code } }];
        },
        mandatory: () => [],
        notes: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },
    {
        id: "g-value-open", title: "an untagged group named in ISOLATION_GROUPS admits SSH inline",
        build: (p) => [group(`${p}-sg`, { openInline: true }), ...isolationRules(`${p}-sg`, groupId(`${p}-sg`)), fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }), UNTRACK_GROUPS: "{}" }, [`${p}-sg`])],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },
    {
        id: "g-value-egress", title: "an untagged group named in ISOLATION_GROUPS reaches 0.0.0.0/0 on 443",
        build: (p) => [
            group(`${p}-sg`), isolationRules(`${p}-sg`, groupId(`${p}-sg`))[1],
            { type: T.egressRule, name: `${p}-sg-web`, props: { securityGroupId: groupId(`${p}-sg`), ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }, deps: { securityGroupId: [`${p}-sg`] } },
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }) }, [`${p}-sg`]),
        ],
        mandatory: (p) => [`${EGRESS} @ ${p}-sg-web`],
    },
    {
        id: "g-untrack-tag-as-isolation", title: "a group tagged dfir:role=untrack named in ISOLATION_GROUPS is an isolation group",
        build: (p) => [group(`${p}-sg`, { tags: UNTRACK }), ...allOpenRules(`${p}-sg`, groupId(`${p}-sg`), UNTRACK), fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }) }, [`${p}-sg`])],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg-in`, `${EGRESS} @ ${p}-sg-out`],
    },
    {
        id: "g-untrack-legit", title: "the untrack group named in UNTRACK_GROUPS is all-open by design: not an isolation group",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`), ISO),
            group(`${p}-unt`, { tags: UNTRACK }), ...allOpenRules(`${p}-unt`, groupId(`${p}-unt`), UNTRACK),
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-iso`) }), UNTRACK_GROUPS: groupsJson({ [VPC]: groupId(`${p}-unt`) }) }, [`${p}-iso`, `${p}-unt`]),
        ],
        mandatory: () => [],
    },
    {
        id: "g-untrack-untagged", title: "an untagged all-open group named only in UNTRACK_GROUPS is held to nothing either",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`), ISO),
            group(`${p}-unt`), ...allOpenRules(`${p}-unt`, groupId(`${p}-unt`)),
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-iso`) }), UNTRACK_GROUPS: groupsJson({ [VPC]: groupId(`${p}-unt`) }) }, [`${p}-iso`, `${p}-unt`]),
        ],
        mandatory: () => [],
    },
    {
        id: "g-both-maps", title: "a group named in both maps is an isolation group",
        build: (p) => [
            group(`${p}-sg`, { tags: UNTRACK }), ...allOpenRules(`${p}-sg`, groupId(`${p}-sg`), UNTRACK),
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }), UNTRACK_GROUPS: groupsJson({ [VPC]: groupId(`${p}-sg`) }) }, [`${p}-sg`]),
        ],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg-in`, `${EGRESS} @ ${p}-sg-out`],
    },
    {
        id: "g-preview-untagged", title: "preview: both maps unknown; an untagged group they come from is held to the isolation rules",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO, preview: true }), ...isolationRules(`${p}-iso`, U, ISO),
            group(`${p}-x`, { preview: true, openInline: true }),
            fn(`${p}-fn`, { ISOLATION_GROUPS: U, UNTRACK_GROUPS: U }, [`${p}-iso`, `${p}-x`]),
        ],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-x`],
    },
    {
        id: "g-preview-untrack-tagged", title: "preview: both maps unknown; a group tagged untrack they come from gets a note",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO, preview: true }), ...isolationRules(`${p}-iso`, U, ISO),
            group(`${p}-unt`, { tags: UNTRACK, preview: true }), ...allOpenRules(`${p}-unt`, U, UNTRACK),
            fn(`${p}-fn`, { ISOLATION_GROUPS: U, UNTRACK_GROUPS: U }, [`${p}-iso`, `${p}-unt`]),
        ],
        mandatory: () => [],
        notes: (p) => [`${NO_INGRESS} @ ${p}-unt`, `${EGRESS} @ ${p}-unt`],
    },
    {
        id: "g-preview-no-untrack", title: "preview: ISOLATION_GROUPS unknown, UNTRACK_GROUPS {}: every group the environment comes from isolates",
        build: (p) => [
            group(`${p}-sg`, { tags: UNTRACK, preview: true }), ...allOpenRules(`${p}-sg`, U, UNTRACK),
            fn(`${p}-fn`, { ISOLATION_GROUPS: U, UNTRACK_GROUPS: "{}" }, [`${p}-sg`]),
        ],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg-in`, `${EGRESS} @ ${p}-sg-out`],
    },
    {
        id: "g-preview-isolation-known", title: "preview: ISOLATION_GROUPS known, UNTRACK_GROUPS unknown: the other group is the untrack group",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`), ISO),
            group(`${p}-unt`, { tags: UNTRACK, preview: true }), ...allOpenRules(`${p}-unt`, U, UNTRACK),
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-iso`) }), UNTRACK_GROUPS: U }, [`${p}-iso`, `${p}-unt`]),
        ],
        mandatory: () => [],
    },
    {
        id: "g-inputs-only", title: "inputs only (no group ids): the ids the rules name tell the maps' groups apart",
        build: (p) => [
            group(`${p}-iso`, { inputsOnly: true }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`)), ...allOpenRules(`${p}-iso`, groupId(`${p}-iso`)).slice(0, 1),
            group(`${p}-unt`, { inputsOnly: true }), ...allOpenRules(`${p}-unt`, groupId(`${p}-unt`)),
            fn(`${p}-fn`, { ISOLATION_GROUPS: groupsJson({ [VPC]: groupId(`${p}-iso`) }), UNTRACK_GROUPS: groupsJson({ [VPC]: groupId(`${p}-unt`) }) }, [`${p}-iso`, `${p}-unt`]),
        ],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-iso-in`],
    },
    {
        id: "g-default-tags", title: "dfir:role=isolation only through the provider's defaultTags",
        build: (p) => [provider(`${p}-aws`, { tags: ISO }), group(`${p}-sg`, { openInline: true, provider: `${p}-aws`, props: { tagsAll: U } })],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },
    {
        id: "g-unknown-env", title: "preview: a function's whole environment is unknown: its groups get a note",
        build: (p) => [group(`${p}-sg`, { openInline: true }), fn(`${p}-fn`, U, [`${p}-sg`])],
        mandatory: () => [],
        notes: (p) => [`${NO_INGRESS} @ ${p}-sg`],
    },

    // ---- Class 2: links that point elsewhere -------------------------------------------------------------------
    {
        id: "c-lock-elsewhere", title: "a lock configuration depending on the evidence bucket but naming another bucket of the stack",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, pointing: { lock: `${p}-other` } }), ...bucketWith(`${p}-other`, { omit: ["lock"] })],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "c-lock-external", title: "a lock configuration depending on the evidence bucket but naming a bucket outside the stack",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, pointing: { lock: "someone-elses-bucket" } })],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "c-lock-elsewhere-preview", title: "preview: the evidence bucket's name unknown, its lock's known bucket names another bucket",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, preview: true, pointing: { lock: `${p}-other` } }), ...bucketWith(`${p}-other`, { omit: ["lock"] })],
        mandatory: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "c-lock-ambiguous", title: "preview: a lock whose unknown bucket comes from two buckets counts for neither (a note)",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, preview: true, alsoDependsOn: { lock: [`${p}-other`] } }), ...bucketWith(`${p}-other`, { preview: true, omit: ["lock"] })],
        mandatory: () => [],
        notes: (p) => [`${LOCK} @ ${p}-ev`],
    },
    {
        id: "c-pab-elsewhere", title: "a public access block depending on the bucket but naming another one",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, pointing: { pab: `${p}-other` } }), ...bucketWith(`${p}-other`, { omit: ["lock"] })],
        mandatory: (p) => [`${PAB} @ ${p}-ev`],
    },
    {
        id: "c-versioning-elsewhere", title: "versioning and encryption depending on the evidence bucket but naming another one",
        build: (p) => [...bucketWith(`${p}-ev`, { tags: EV, pointing: { versioning: `${p}-other`, sse: `${p}-other` } }), ...bucketWith(`${p}-other`, { omit: ["lock"] })],
        mandatory: () => [],
        advisory: (p) => [`${versioning.NAME} @ ${p}-ev`, `${kms.NAME} @ ${p}-ev`],
    },
    {
        id: "c-rule-elsewhere", title: "an ingress rule depending on the isolation group but naming another group is not the isolation group's",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`), ISO), group(`${p}-web`),
            { type: T.ingressRule, name: `${p}-web-https`, props: { securityGroupId: groupId(`${p}-web`), ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }, deps: { securityGroupId: [`${p}-iso`] } },
        ],
        mandatory: () => [],
    },
    {
        id: "c-rule-value-wins", title: "an ingress rule naming the isolation group but depending on another group is the isolation group's",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO }), ...isolationRules(`${p}-iso`, groupId(`${p}-iso`), ISO), group(`${p}-web`),
            { type: T.ingressRule, name: `${p}-iso-ssh`, props: { securityGroupId: groupId(`${p}-iso`), ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }, deps: { securityGroupId: [`${p}-web`] } },
        ],
        mandatory: (p) => [`${NO_INGRESS} @ ${p}-iso-ssh`],
    },
    {
        id: "c-rule-elsewhere-preview", title: "preview: the isolation group's id unknown, a rule depending on it names another group",
        build: (p) => [
            group(`${p}-iso`, { tags: ISO, preview: true }), ...isolationRules(`${p}-iso`, U, ISO), group(`${p}-web`),
            { type: T.ingressRule, name: `${p}-web-https`, props: { securityGroupId: groupId(`${p}-web`), ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }, deps: { securityGroupId: [`${p}-iso`] } },
        ],
        mandatory: () => [],
    },
];

// ----------------------------------------------------------------------------------------------------------------
// In-process
// ----------------------------------------------------------------------------------------------------------------
/** Specs as rule resources: URNs from names, links resolved, the provider's inputs attached. */
function toRule(specs: readonly Spec[]): RuleResource[] {
    const byName = new Map(specs.map((s) => [s.name, s]));
    const urn = (name: string) => {
        const s = byName.get(name);
        if (!s) throw new Error(`no resource named ${name}`);
        return urnOf(s.type, s.name);
    };
    return specs.map((s) => {
        const prov = s.provider === undefined ? undefined : byName.get(s.provider);
        return {
            type: s.type, name: s.name, urn: urnOf(s.type, s.name), props: structuredClone(s.props),
            propertyDependencies: Object.fromEntries(Object.entries(s.deps ?? {}).map(([k, names]) => [k, names.map(urn)])),
            ...(prov ? { provider: { urn: urnOf(prov.type, prov.name), props: prov.props } } : {}),
        };
    });
}

const MANDATORY: [string, (rs: RuleResource[]) => Finding[]][] = [
    [LOCK, (rs) => lock.checkEvidenceBucketObjectLock(rs)],
    [PAB, (rs) => pab.checkS3PublicAccessBlock(rs)],
    [NO_INGRESS, (rs) => ingress.checkIsolationGroupNoIngress(rs)],
    [EGRESS, (rs) => egress.checkIsolationGroupEgress(rs)],
];
const ADVISORY: [string, (rs: RuleResource[]) => Finding[]][] = [
    [versioning.NAME, (rs) => versioning.checkEvidenceBucketVersioning(rs)],
    [kms.NAME, (rs) => kms.checkEvidenceBucketKmsEncryption(rs)],
];

function run(rules: typeof MANDATORY, rs: RuleResource[], status: "violation" | "unknown"): string[] {
    return rules.flatMap(([name, check]) => check(rs).filter((f) => f.verdict.status === status).map((f) => `${name} @ ${f.name}`)).sort();
}

const messages = (findings: readonly Finding[]) =>
    findings.map((f) => `${f.name}: ${f.verdict.status === "violation" || f.verdict.status === "unknown" ? f.verdict.message : f.verdict.status}`);
const statuses = (findings: readonly Finding[]) => findings.map((f) => [f.name, f.verdict.status]).sort();

describe("policy pack membership (issue 16, classes 1 and 2)", () => {
    describe("in-process, one case per resource set", () => {
        for (const c of CASES) {
            it(`${c.id}: ${c.title}`, () => {
                const rs = toRule(c.build(c.id));
                assert.deepEqual(run(MANDATORY, rs, "violation"), c.mandatory(c.id).sort(), "mandatory violations");
                const notes = run([...MANDATORY, ...ADVISORY], rs, "unknown");
                for (const n of c.notes?.(c.id) ?? []) assert.ok(notes.includes(n), `missing note ${n}; got ${notes.join(", ")}`);
                if (c.advisory) assert.deepEqual(run(ADVISORY, rs, "violation"), c.advisory(c.id).sort());
            });
        }
    });

    describe("class 1: what each rule applies to, and what it says", () => {
        const build = (id: string) => toRule(CASES.find((c) => c.id === id)!.build(id));

        it("judges an untagged bucket the response writes to, and names why in the message", () => {
            assert.deepEqual(statuses(lock.checkEvidenceBucketObjectLock(build("b-value-good"))), [["b-value-good-ev", "compliant"]]);
            assert.deepEqual(statuses(versioning.checkEvidenceBucketVersioning(build("b-dep-good"))), [["b-dep-good-ev", "compliant"]]);
            assert.deepEqual(messages(lock.checkEvidenceBucketObjectLock(build("b-value-nolock"))), [
                "b-value-nolock-ev: evidence bucket b-value-nolock-ev (function b-value-nolock-fn writes evidence to it (EVIDENCE_BUCKET \"b-value-nolock-ev\")): " +
                "it has no BucketObjectLockConfiguration — add one with rule.defaultRetention {mode: \"COMPLIANCE\", days: 365} or longer",
            ]);
            assert.match(messages(lock.checkEvidenceBucketObjectLock(build("b-dep-nolock")))[0], /EVIDENCE_BUCKET, unknown during preview, comes from it/);
        });

        it("leaves alone the buckets a known EVIDENCE_BUCKET does not name, and functions without it", () => {
            assert.deepEqual(statuses(lock.checkEvidenceBucketObjectLock(build("b-value-wins"))), [["b-value-wins-ev", "compliant"]]);
            assert.deepEqual(lock.checkEvidenceBucketObjectLock(build("b-not-response")), []);
            assert.deepEqual(lock.checkEvidenceBucketObjectLock(build("b-default-tags-other")), []);
        });

        it("says why it cannot tell during preview", () => {
            assert.deepEqual(messages(lock.checkEvidenceBucketObjectLock(build("b-unknown-env"))), [
                "b-unknown-env-data: bucket b-unknown-env-data: cannot check whether it is an evidence bucket during preview: the environment of function " +
                "b-unknown-env-fn, which comes in part from it, is unknown (it may name it in EVIDENCE_BUCKET)",
            ]);
            assert.deepEqual(messages(lock.checkEvidenceBucketObjectLock(build("b-default-tags-unknown"))), [
                "b-default-tags-unknown-ev: bucket b-default-tags-unknown-ev: cannot check whether it is an evidence bucket during preview: " +
                "its tagsAll (the provider's default tags merged in) is unknown and so are its provider's defaultTags",
            ]);
        });

        it("reads dfir:role from tags, then the provider's defaultTags, then tagsAll", () => {
            const r = (props: Record<string, unknown>, providerProps?: Record<string, unknown>): RuleResource => ({
                type: T.bucket, name: "b", urn: urnOf(T.bucket, "b"), props, ...(providerProps ? { provider: { urn: urnOf(T.provider, "p"), props: providerProps } } : {}),
            });
            const evidenceDefaults = { defaultTags: JSON.stringify({ tags: EV }) };
            assert.deepEqual(effectiveTag(r({ tags: EV })), { unknown: false, value: "evidence" });
            assert.deepEqual(effectiveTag(r({ tagsAll: U }, evidenceDefaults)), { unknown: false, value: "evidence" });
            assert.deepEqual(effectiveTag(r({ tagsAll: U }, { defaultTags: { tags: EV } })), { unknown: false, value: "evidence" }, "an object, not JSON");
            assert.deepEqual(effectiveTag(r({ tags: { "dfir:role": "logs" } }, evidenceDefaults)), { unknown: false, value: "logs" });
            assert.deepEqual(effectiveTag(r({ tagsAll: EV })), { unknown: false, value: "evidence" });
            assert.deepEqual(effectiveTag(r({ tagsAll: U }, { region: "us-east-1" })), { unknown: false }, "a provider without defaultTags");
            assert.equal(effectiveTag(r({ tagsAll: U })).unknown, true, "no provider known, tagsAll unknown");
            assert.equal(effectiveTag(r({ tagsAll: U }, { defaultTags: U })).unknown, true);
            assert.equal(effectiveTag(r({ tags: U })).unknown, true);
            assert.equal(effectiveTag(r({ tagsAll: U }, { defaultTags: JSON.stringify({ tags: { "dfir:role": U } }) })).unknown, true);
            assert.deepEqual(effectiveTag(r({})), { unknown: false });
        });

        it("judges an untagged group the response isolates with, and names why", () => {
            const good = build("g-value-good");
            assert.deepEqual(statuses(ingress.checkIsolationGroupNoIngress(good)), [["g-value-good-sg", "compliant"]]);
            assert.deepEqual(statuses(egress.checkIsolationGroupEgress(good)).map(([n]) => n), ["g-value-good-sg", "g-value-good-sg-endpoints", "g-value-good-sg-s3"]);
            assert.deepEqual(messages(ingress.checkIsolationGroupNoIngress(build("g-value-open"))), [
                "g-value-open-sg: isolation group (function g-value-open-fn isolates instances with it (ISOLATION_GROUPS)) g-value-open-sg: it admits ingress through 1 inline rule " +
                "(tcp 22 from 0.0.0.0/0) — remove the ingress blocks: an isolation group (function g-value-open-fn isolates instances with it (ISOLATION_GROUPS)) must admit nothing",
            ]);
        });

        it("holds untrack groups to nothing: neither isolation rule applies to them", () => {
            for (const id of ["g-untrack-legit", "g-untrack-untagged"]) {
                const rs = build(id);
                assert.deepEqual(statuses(ingress.checkIsolationGroupNoIngress(rs)), [[`${id}-iso`, "compliant"]], id);
                const use = groupUse(new StackIndex(rs, [GROUP_RULE_LINK]));
                assert.deepEqual([...use.untrack.keys()], [urnOf(T.sg, `${id}-unt`)]);
                assert.deepEqual([...use.isolation.keys()], [urnOf(T.sg, `${id}-iso`)]);
            }
        });

        it("notes a group tagged untrack whose use cannot be told at preview", () => {
            const notes = messages(ingress.checkIsolationGroupNoIngress(build("g-preview-untrack-tagged"))).filter((m) => m.startsWith("g-preview-untrack-tagged-unt:"));
            assert.deepEqual(notes, [
                "g-preview-untrack-tagged-unt: security group g-preview-untrack-tagged-unt: cannot check whether it is an isolation group during preview: it is tagged " +
                "dfir:role=untrack, but function g-preview-untrack-tagged-fn, whose ISOLATION_GROUPS and UNTRACK_GROUPS are unknown, may name it in either",
            ]);
        });

        it("tells the maps' groups apart in a list of inputs (no ids), through the ids their rules name", () => {
            const rs = build("g-inputs-only");
            const use = groupUse(new StackIndex(rs, [GROUP_RULE_LINK]));
            assert.deepEqual([...use.isolation.keys()], [urnOf(T.sg, "g-inputs-only-iso")]);
            assert.deepEqual([...use.untrack.keys()], [urnOf(T.sg, "g-inputs-only-unt")]);
            const ev = toRule(CASES.find((c) => c.id === "b-inputs-only")!.build("x"));
            const index = new StackIndex(ev, BUCKET_LINKS);
            assert.deepEqual(evidenceMembershipOf(ev[0], evidenceUse(index)).kind, "evidence");
            assert.deepEqual(evidenceMembershipOf(ev[0]).kind, "other", "without the response's use, an untagged bucket is not evidence");
        });
    });

    describe("the project's own stacks, as stack:resources prints them (inputs, no ids)", function () {
        this.timeout(120000);
        let prod: RuleResource[];

        before(() => {
            type Raw = { type: string; name: string; urn: string; parent: string; props: Record<string, unknown>; propertyDependencies: Record<string, string[]>; provider: string };
            const raw = stackResources<Raw>("prod");
            const byUrn = new Map(raw.map((r) => [r.urn, r]));
            prod = raw.map((r) => {
                const prov = byUrn.get(r.provider.slice(0, r.provider.lastIndexOf("::")));
                return {
                    type: r.type, name: r.name, urn: r.urn, props: r.props, parent: r.parent || undefined, propertyDependencies: r.propertyDependencies,
                    ...(prov ? { provider: { urn: prov.urn, props: prov.props } } : {}),
                };
            });
        });

        const names = (m: ReadonlyMap<string, unknown>) => [...m.keys()].map((u) => u.split("::").pop() as string).sort();

        it("finds every region's evidence bucket, and each VPC's isolation and untrack groups, in the functions' environment and Contain's settings file", () => {
            const use = groupUse(new StackIndex(prod, [GROUP_RULE_LINK]));
            const groups = prod.filter((r) => r.type === T.sg).map((r) => r.name);
            assert.deepEqual(names(use.isolation), groups.filter((n) => n.endsWith("-isolation")).sort());
            assert.deepEqual(names(use.untrack), groups.filter((n) => n.endsWith("-untrack")).sort());
            assert.equal(use.undecided.size, 0);
            assert.equal(use.isolation.size, 6, "two hub regions' and a member's VPCs");
            const ev = evidenceUse(new StackIndex(prod, BUCKET_LINKS));
            assert.deepEqual(names(ev.evidence), ["dfir-evidence-eu-west-1", "dfir-evidence-us-east-1"]);
        });

        it("catches isolationGroups given an IsolationNetwork's untrackSecurityGroupId (a plausible slip)", () => {
            const vpc = "dfir-222222222222-us-east-1-vpc-0123456789abcdef0";
            // The maps are in Contain's settings file (core/workflow.ts SETTINGS_FILE), beside its handler.
            type Code = { assets?: Record<string, { text?: string }> };
            const slipped = prod.map((r) => {
                const code = r.props.code as Code | undefined;
                const file = code?.assets?.["settings.json"]?.text;
                if (r.type !== T.fn || !file?.includes(`sg-${vpc}-isolation`)) return r;
                const vars = JSON.parse(file) as Record<string, string>;
                const text = JSON.stringify({ ...vars, ISOLATION_GROUPS: vars.ISOLATION_GROUPS.replace(`sg-${vpc}-isolation`, `sg-${vpc}-untrack`) });
                return { ...r, props: { ...r.props, code: { ...code, assets: { ...code?.assets, "settings.json": { ...code?.assets?.["settings.json"], text } } } } };
            });
            assert.notDeepEqual(slipped, prod, "the slip is made");
            assert.deepEqual(run(MANDATORY, prod, "violation"), []);
            assert.deepEqual(run(MANDATORY, slipped, "violation"), [
                `${EGRESS} @ ${vpc}-untrack-egress-v4`, `${EGRESS} @ ${vpc}-untrack-egress-v6`,
                `${NO_INGRESS} @ ${vpc}-untrack-ingress-v4`, `${NO_INGRESS} @ ${vpc}-untrack-ingress-v6`,
            ]);
        });
    });

    describe("class 2: which links count", () => {
        it("says nothing counts for the bucket when its only lock names another bucket", () => {
            const rs = toRule(CASES.find((c) => c.id === "c-lock-elsewhere")!.build("x"));
            const index = new StackIndex(rs, BUCKET_LINKS);
            const ev = rs.find((r) => r.name === "x-ev")!;
            const other = rs.find((r) => r.name === "x-other")!;
            assert.deepEqual(index.linked(ev, [T.lock], "bucket").map((r) => r.name), []);
            assert.deepEqual(index.pointingElsewhere(ev, [T.lock], "bucket").map((r) => r.name), ["x-ev-lock"]);
            assert.deepEqual(index.linked(other, [T.lock], "bucket").map((r) => r.name), ["x-ev-lock"], "it counts for the bucket it names");
        });

        it("keeps the dependency when the value names nothing known and the bucket's own name is unknown (inputs only)", () => {
            const rs = toRule(bucketWith("y-ev", { inputsOnly: true, tags: EV }));
            assert.deepEqual(statuses(lock.checkEvidenceBucketObjectLock(rs)), [["y-ev", "compliant"]]);
        });

        it("notes a lock that may belong to either of two buckets", () => {
            const rs = toRule(CASES.find((c) => c.id === "c-lock-ambiguous")!.build("z"));
            assert.deepEqual(messages(lock.checkEvidenceBucketObjectLock(rs)), [
                "z-ev: evidence bucket z-ev: cannot tell whether lock configuration z-ev-lock belongs to it during preview: its bucket is unknown and comes from several buckets",
            ]);
        });
    });

    describe("through the real pack over gRPC", function () {
        this.timeout(120000);
        let result: CheckResult;

        before(async () => {
            const specs = CASES.flatMap((c) => c.build(c.id));
            const raw = specs.map((s) => ({
                type: s.type, name: s.name, urn: urnOf(s.type, s.name), props: s.props,
                ...(s.deps ? { propertyDependencies: s.deps } : {}),
                ...(s.provider ? { provider: s.provider } : {}),
            }));
            // These sets exercise other rules; evidence-access-trail (mandatory) has its own cases (test/access-trail.test.ts, test/policy-pack-grpc.test.ts).
            [result] = await policyCheck({ resources: { raw, source: "membership cases" }, config: { "evidence-access-trail": { enforcementLevel: "disabled", properties: {} } } });
        });

        const at = (v: { policy: string; name: string }) => `${v.policy} @ ${v.name}`;
        const caseOf = (name: string) => CASES.find((c) => name === c.id || name.startsWith(`${c.id}-`))?.id;

        it("reports exactly the expected mandatory violations of every case, and none on the compliant sets", () => {
            // The sets' response functions name no signing key: manifest-signing-key (issue 17) is tested on its own
            // (test/policy-signing.test.ts), not on these membership sets.
            const got = result.violations.filter((v) => v.enforcementLevel === "mandatory" && v.phase === "stack" && v.policy !== "manifest-signing-key").map(at).sort();
            const expected = CASES.flatMap((c) => c.mandatory(c.id)).sort();
            assert.deepEqual(got, expected);
            const analyzeMandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory" && v.phase !== "stack");
            assert.deepEqual(analyzeMandatory.map(at), [], "resource rules flag nothing");
            for (const c of CASES.filter((k) => k.mandatory(k.id).length === 0)) {
                assert.ok(!got.some((g) => caseOf(g.split(" @ ")[1]) === c.id), `false positive on ${c.id}`);
            }
        });

        it("reports the notes of the cases that cannot be told at preview as advisory", () => {
            const advisory = result.violations.filter((v) => v.enforcementLevel === "advisory").map(at);
            for (const c of CASES) for (const n of c.notes?.(c.id) ?? []) assert.ok(advisory.includes(n), `missing advisory ${n}`);
            for (const c of CASES) for (const n of c.advisory?.(c.id) ?? []) assert.ok(advisory.includes(n), `missing advisory violation ${n}`);
        });

        it("sees the provider's defaultTags the engine sends with each resource", () => {
            const v = result.violations.find((x) => x.policy === LOCK && x.name === "b-default-tags-ev");
            assert.match(v?.message ?? "", /no BucketObjectLockConfiguration/);
        });
    });
});
