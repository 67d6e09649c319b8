/**
 * Every KMS key that protects or signs evidence rotates its key material. Advisory by default (defence in depth,
 * like the evidence buckets' KMS encryption): a key that never rotates is not a breach, but one compromised key
 * material then exposes every object it ever encrypted.
 *
 * Which keys protect evidence — recognised by what they do, not only by their tags:
 * - keys of the tag contract: tagged `dfir:role=evidence`, or created inside an `EvidenceStore`;
 * - the key an evidence bucket encrypts with: `kmsMasterKeyId` of a `BucketServerSideEncryptionConfiguration`
 *   linked to an evidence bucket (or of the bucket's deprecated inline `serverSideEncryptionConfiguration`);
 * - the key the response's functions copy evidence snapshots under: the Lambda environment variable
 *   `HUB_SNAPSHOT_KEY_ARN` (core/workflow.ts ENV.hubSnapshotKeyArn);
 * - a member region's snapshot share key: the key behind the alias `alias/dfir-snapshot-share`
 *   (core/memberPolicies.ts SNAPSHOT_SHARE_KEY_ALIAS), which the functions address it by.
 * References resolve through the key's known ids (id, key id, ARN), through aliases (name, ARN, `targetKeyId`), and
 * at preview through the referencing property's dependencies. The notification topic's key and the dead-letter
 * queues are not evidence keys: they carry case status and GuardDuty events, not evidence (docs: policy/README.md).
 * The program's manifest-signing key (ECC_NIST_P256, in each EvidenceStore: core/signature.ts) is judged as an
 * asymmetric key: no rotation asked, none allowed; a signing key of the tag contract is judged like any other.
 *
 * What AWS allows (AWS KMS API Reference, "EnableKeyRotation",
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html): "Automatic key rotation is
 * supported only on symmetric encryption KMS keys. You cannot enable automatic rotation of asymmetric KMS keys, HMAC
 * KMS keys, KMS keys with imported key material, or KMS keys in a custom key store. To enable or disable automatic
 * rotation of a set of related multi-Region keys, set the property on the primary key." AWS managed keys (aws/s3)
 * rotate every year by themselves. So:
 * - a symmetric key in AWS KMS's own store needs `enableKeyRotation: true`;
 * - an asymmetric or HMAC key (a signing key) cannot rotate at all: not demanded; `enableKeyRotation: true` on one
 *   is a violation, since AWS refuses it (rotate such a key by creating a new one and moving the alias);
 * - a symmetric key with imported material (`kms.ExternalKey`) or in a custom key store cannot rotate automatically
 *   while an AWS-generated key can: a violation for an evidence key (use an `aws.kms.Key` with rotation);
 * - a replica key (`kms.ReplicaKey`) rotates with its primary: the primary is judged.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { SNAPSHOT_SHARE_KEY_ALIAS } from "../../core/memberPolicies";
import { ENV } from "../../core/workflow";
import { BUCKET_LINKS, configsOf, evidenceMembership } from "../lib/buckets";
import { asList, finding, isObject, isUnknown, knownString, listNames, Problems, tagOf, TYPES, typeOfUrn, unknown, urnHasAncestorType, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { StackIndex } from "../lib/stackIndex";
import { TAGS } from "../../core/tags";

export const NAME = "kms-evidence-key-rotation";

/** Key resource types: keys proper, and the aliases that name them. */
const KEY_TYPES: readonly string[] = [TYPES.kmsKey, TYPES.kmsExternalKey, TYPES.kmsReplicaKey, TYPES.kmsReplicaExternalKey];
const REFERENCE_TYPES: readonly string[] = [...KEY_TYPES, TYPES.kmsAlias];

/** The AWS managed key S3 uses when `aws:kms` names no key, and its alias: AWS rotates it every year. */
const AWS_MANAGED_ALIAS = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/aws\//;

/** Keys in the stack, indexed once by every identifier a reference may use. */
class Keys {
    private readonly byId = new Map<string, RuleResource[]>();

    constructor(readonly index: StackIndex) {
        for (const type of REFERENCE_TYPES) {
            for (const r of index.ofType(type)) {
                for (const id of [r.props.id, r.props.arn, r.props.keyId, type === TYPES.kmsAlias ? r.props.name : undefined]) {
                    const known = knownString(id);
                    if (known === undefined) continue;
                    const list = this.byId.get(known);
                    if (list) list.push(r);
                    else this.byId.set(known, [r]);
                }
            }
        }
    }

    /**
     * The key resources a reference names: by its known value, else (preview) through the dependencies of the
     * property it sits in. Aliases are followed to their target. Empty when it names nothing in the stack.
     */
    resolve(value: unknown, deps: readonly string[], seen: Set<string> = new Set()): RuleResource[] {
        const known = knownString(value);
        let hits = known === undefined ? [] : this.byId.get(known) ?? [];
        if (hits.length === 0) hits = deps.map((u) => this.index.byUrn(u)).filter((r): r is RuleResource => r !== undefined && REFERENCE_TYPES.includes(r.type));
        const keys: RuleResource[] = [];
        for (const hit of hits) {
            if (seen.has(hit.urn)) continue;
            seen.add(hit.urn);
            if (hit.type === TYPES.kmsAlias) keys.push(...this.resolve(hit.props.targetKeyId, hit.propertyDependencies?.targetKeyId ?? [], seen));
            else keys.push(hit);
        }
        return keys;
    }
}

/** Why each key is an evidence key, by key URN; and notes on references that cannot be followed. */
interface Roles {
    readonly reasons: Map<string, string[]>;
    readonly notes: Finding[];
}

function addReason(roles: Roles, key: RuleResource, reason: string): void {
    const list = roles.reasons.get(key.urn);
    if (!list) roles.reasons.set(key.urn, [reason]);
    else if (!list.includes(reason)) list.push(reason);
}

/** Follow one reference from `from` (for notes) and record `reason` on every key it names. */
function follow(keys: Keys, roles: Roles, from: RuleResource, value: unknown, deps: readonly string[], reason: string, what: string): void {
    const known = knownString(value);
    if (known !== undefined && AWS_MANAGED_ALIAS.test(known)) return; // AWS rotates AWS managed keys every year
    const found = keys.resolve(value, deps);
    for (const key of found) addReason(roles, key, reason);
    if (found.length > 0) return;
    roles.notes.push(finding(from, unknown(known === undefined
        ? `${what}: cannot check the rotation of its KMS key during preview: the key is unknown`
        : `${what}: KMS key ${known} is not a resource of this stack: cannot check its rotation — declare it in the stack, or make sure it has automatic rotation enabled`)));
}

/** The KMS key ids a bucket SSE configuration names (rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId). */
function sseKeyRefs(rules: unknown): { unknownRules: boolean; refs: unknown[] } {
    if (isUnknown(rules)) return { unknownRules: true, refs: [] };
    const refs: unknown[] = [];
    let unknownRules = false;
    for (const rule of asList(rules)) {
        if (isUnknown(rule)) { unknownRules = true; continue; }
        const byDefault = isObject(rule) ? rule.applyServerSideEncryptionByDefault : undefined;
        if (isUnknown(byDefault)) { unknownRules = true; continue; }
        if (!isObject(byDefault)) continue;
        const algorithm = byDefault.sseAlgorithm;
        if (isUnknown(algorithm)) { unknownRules = true; continue; }
        if (algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") continue; // AES256: no KMS key
        const key = byDefault.kmsMasterKeyId;
        if (key === undefined || key === null || key === "") continue; // the AWS managed aws/s3 key: AWS rotates it
        refs.push(key);
    }
    return { unknownRules, refs };
}

/** Every key of the stack that protects or signs evidence, with why. */
function evidenceKeys(index: StackIndex, keys: Keys): Roles {
    const roles: Roles = { reasons: new Map(), notes: [] };

    // The tag contract.
    for (const key of index.ofTypes(KEY_TYPES)) {
        if (typeOfUrn(key.parent) === TYPES.evidenceStore || urnHasAncestorType(key.urn, TYPES.evidenceStore)) addReason(roles, key, "belongs to an EvidenceStore");
        const role = tagOf(key.props, TAGS.role);
        if (!role.unknown && role.value === TAGS.roleEvidence) addReason(roles, key, "is tagged dfir:role=evidence");
    }

    // The evidence buckets' default encryption.
    for (const bucket of index.ofTypes(TYPES.buckets)) {
        if (evidenceMembership(bucket) !== "evidence") continue; // unknown membership: the bucket rules note it
        const reason = `encrypts evidence bucket ${bucket.name}`;
        const inline = bucket.props.serverSideEncryptionConfiguration;
        if (isObject(inline)) {
            const { refs } = sseKeyRefs(inline.rule);
            for (const ref of refs) follow(keys, roles, bucket, ref, bucket.propertyDependencies?.serverSideEncryptionConfiguration ?? [], reason, `evidence bucket ${bucket.name}`);
        }
        const p = new Problems(); // configsOf's note on unplaceable configurations is the encryption rule's to make
        for (const sse of configsOf(index, bucket, TYPES.encryptions, p, "encryption configuration") ?? []) {
            const { unknownRules, refs } = sseKeyRefs(sse.props.rules);
            if (unknownRules) roles.notes.push(finding(sse, unknown(`encryption configuration ${sse.name} of evidence bucket ${bucket.name}: cannot check which KMS key it uses during preview: its rules are unknown`)));
            for (const ref of refs) follow(keys, roles, sse, ref, sse.propertyDependencies?.rules ?? [], reason, `encryption configuration ${sse.name} of evidence bucket ${bucket.name}`);
        }
    }

    // The key the response copies evidence snapshots under.
    for (const fn of index.ofType(TYPES.lambdaFunction)) {
        const environment = fn.props.environment;
        const variables = isObject(environment) ? environment.variables : undefined;
        if (!isObject(variables) || !Object.prototype.hasOwnProperty.call(variables, ENV.hubSnapshotKeyArn)) continue;
        // The environment's dependencies are the whole block's: its keys are taken as this variable's (the
        // response's functions name no other key).
        follow(keys, roles, fn, variables[ENV.hubSnapshotKeyArn], fn.propertyDependencies?.environment ?? [],
            `encrypts the response's copies of evidence snapshots (${ENV.hubSnapshotKeyArn})`, `function ${fn.name}`);
    }

    // The member regions' snapshot share keys, which the functions find by their alias.
    for (const alias of index.ofType(TYPES.kmsAlias)) {
        if (alias.props.name !== SNAPSHOT_SHARE_KEY_ALIAS) continue;
        follow(keys, roles, alias, alias.props.targetKeyId, alias.propertyDependencies?.targetKeyId ?? [], `re-encrypts evidence snapshots for the hub (${SNAPSHOT_SHARE_KEY_ALIAS})`, `alias ${alias.name}`);
    }
    return roles;
}

const SYMMETRIC = "SYMMETRIC_DEFAULT";

/** The rotation problems of one key (for a replica: of its primary); `self` names it in messages. */
function judgeKey(key: RuleResource, keys: Keys, p: Problems, self = "it"): void {
    if (key.type === TYPES.kmsReplicaKey || key.type === TYPES.kmsReplicaExternalKey) {
        const primaries = keys.resolve(key.props.primaryKeyArn, key.propertyDependencies?.primaryKeyArn ?? []).filter((k) => k.urn !== key.urn);
        if (primaries.length === 0) {
            const arn = knownString(key.props.primaryKeyArn);
            p.unknownNote(arn === undefined
                ? "cannot check the rotation of its primary key during preview: primaryKeyArn is unknown (a replica rotates with its primary)"
                : `its primary key ${arn} is not a resource of this stack: cannot check its rotation (a replica rotates with its primary)`);
            return;
        }
        for (const primary of primaries) judgeKey(primary, keys, p, `its primary key ${primary.name}`);
        return;
    }
    const spec = key.type === TYPES.kmsExternalKey ? key.props.keySpec : key.props.customerMasterKeySpec;
    if (isUnknown(spec)) return void p.unknownValue(`the key spec of ${self === "it" ? key.name : self}`);
    const symmetric = spec === undefined || spec === null || spec === SYMMETRIC;
    const rotation = key.props.enableKeyRotation;
    if (!symmetric) {
        // Asymmetric (signing, or RSA/SM2 encryption) and HMAC keys: AWS has no rotation for them.
        if (rotation === true) p.violation(`${self} is a ${String(spec)} key, which AWS cannot rotate: EnableKeyRotation is refused — remove enableKeyRotation; rotate it by creating a new key and moving its alias`);
        return;
    }
    if (key.type === TYPES.kmsExternalKey) {
        return void p.violation(`${self} has imported key material, which AWS cannot rotate automatically — use an aws.kms.Key (AWS-generated material) with enableKeyRotation: true`);
    }
    for (const store of ["customKeyStoreId", "xksKeyId"] as const) {
        const value = key.props[store];
        if (isUnknown(value)) return void p.unknownValue(`${store} of ${self === "it" ? key.name : self}`);
        if (knownString(value) !== undefined) {
            return void p.violation(`${self} is in a custom key store (${store}), where AWS cannot rotate keys automatically — use a key in AWS KMS's own store with enableKeyRotation: true`);
        }
    }
    if (isUnknown(rotation)) return void p.unknownValue(`enableKeyRotation of ${self === "it" ? key.name : self}`);
    if (rotation !== true) {
        p.violation(`${self} does not rotate — set enableKeyRotation: true (AWS then rotates its key material every year, or every rotationPeriodInDays)`);
    }
}

/** The rule, as a pure function of the stack: one finding per evidence key, and notes on keys it cannot follow. */
export function checkKmsEvidenceKeyRotation(resources: Iterable<RuleResource>): Finding[] {
    const index = new StackIndex(resources, BUCKET_LINKS);
    const keys = new Keys(index);
    const roles = evidenceKeys(index, keys);
    const findings: Finding[] = [...roles.notes];
    for (const [urn, reasons] of roles.reasons) {
        const key = index.byUrn(urn) as RuleResource;
        const p = new Problems();
        judgeKey(key, keys, p);
        findings.push(finding(key, p.verdict(`evidence key ${key.name} (${reasons.join("; ")})`)));
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "KMS keys that protect evidence rotate",
    description:
        "Every KMS key that protects or signs evidence (tagged dfir:role=evidence or in an EvidenceStore, an evidence bucket's " +
        "default encryption key, the response's HUB_SNAPSHOT_KEY_ARN, the alias/dfir-snapshot-share key) has enableKeyRotation: true; " +
        "asymmetric and HMAC keys, which AWS cannot rotate, must not ask for it; imported or custom-key-store keys cannot rotate automatically.",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["kms", "evidence", "encryption"],
    remediationSteps:
        "Set enableKeyRotation: true on the aws.kms.Key (optionally rotationPeriodInDays, 90-2560); for a replica key set it on " +
        "the primary. Encrypt evidence with an AWS-generated symmetric key in AWS KMS's own store; for an asymmetric signing key " +
        "leave rotation off and rotate by creating a new key and moving its alias.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkKmsEvidenceKeyRotation(resources), "the stack has no key that protects evidence"),
};
