/**
 * Every case manifest is signed (issue 17, item 2): every evidence store has its manifest-signing key, an asymmetric
 * KMS key with key spec ECC_NIST_P256 and key usage SIGN_VERIFY (core/signature.ts), and the response's functions
 * name such a key in `MANIFEST_SIGNING_KEY_ARN` (core/workflow.ts ENV), the key the seal signs each manifest's sha256
 * with. Mandatory: without it a manifest's integrity rests on the hash in the case table alone, which whoever can
 * write that table can change, and no third party can check a downloaded manifest.
 *
 * What it reads:
 * - each `EvidenceStore` component: a child `aws.kms.Key` (its parent) with `customerMasterKeySpec: "ECC_NIST_P256"`
 *   and `keyUsage: "SIGN_VERIFY"` (AWS KMS Developer Guide, "Asymmetric key specs": ECC_NIST_P256 signs with
 *   ECDSA_SHA_256);
 * - each Lambda function whose environment names an `EVIDENCE_BUCKET` (the response's functions: they share one
 *   environment): its `MANIFEST_SIGNING_KEY_ARN` resolves to a key of the stack of that spec and usage, by value
 *   (the key's id, ARN or key id), else (preview, or a resource list of inputs only) through the environment's
 *   dependencies on keys. A key outside the stack, or a value that cannot be followed, is an advisory note, never a pass.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { SIGNING_KEY_SPEC, SIGNING_KEY_USAGE } from "../../core/signature";
import { ENV } from "../../core/workflow";
import { finding, isObject, isUnknown, knownString, listNames, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";

export const NAME = "manifest-signing-key";

const FIX = `an aws.kms.Key with customerMasterKeySpec: "${SIGNING_KEY_SPEC}" and keyUsage: "${SIGNING_KEY_USAGE}"`;

/** Why a key is not a manifest-signing key (undefined: it is one); `unknown` when its spec or usage is unknown. */
function keyProblem(key: RuleResource): { unknown: string } | { problem: string } | undefined {
    const spec = key.props.customerMasterKeySpec ?? key.props.keySpec;
    const usage = key.props.keyUsage;
    if (isUnknown(spec) || isUnknown(usage)) return { unknown: `the key spec and usage of ${key.name}` };
    if (spec === SIGNING_KEY_SPEC && usage === SIGNING_KEY_USAGE) return undefined;
    return { problem: `${key.name} is ${String(spec ?? "SYMMETRIC_DEFAULT")} / ${String(usage ?? "ENCRYPT_DECRYPT")}, not ${SIGNING_KEY_SPEC} / ${SIGNING_KEY_USAGE}` };
}

/** An evidence store's signing key: one of its child keys of the spec. */
function judgeStore(store: RuleResource, keys: readonly RuleResource[]): Finding {
    const p = new Problems();
    const children = keys.filter((k) => k.parent === store.urn);
    const judged = children.map((k) => keyProblem(k));
    if (!judged.some((j) => j === undefined)) {
        const unknowns = judged.filter((j): j is { unknown: string } => j !== undefined && "unknown" in j);
        if (unknowns.length > 0) for (const u of unknowns) p.unknownValue(u.unknown);
        else p.violation(`it has no manifest-signing key${children.length > 0 ? ` (its keys: ${listNames(children.map((k) => k.name))})` : ""} — give it ${FIX} (the seal signs each manifest's sha256 with it)`);
    }
    return finding(store, p.verdict(`evidence store ${store.name}`));
}

/** A response function's MANIFEST_SIGNING_KEY_ARN: a key of the stack of the spec. */
function judgeFunction(fn: RuleResource, variables: Record<string, unknown>, keys: readonly RuleResource[]): Finding {
    const p = new Problems();
    const value = variables[ENV.manifestSigningKeyArn];
    if (value === undefined || value === null || value === "") {
        p.violation(`${ENV.manifestSigningKeyArn} is not set: the seal cannot sign the manifests (every case would record its signature missing) — set it to the ARN of the evidence store's signing key, ${FIX}`);
        return finding(fn, p.verdict(`function ${fn.name}`));
    }
    const known = knownString(value);
    const byValue = known === undefined ? [] : keys.filter((k) => [k.props.id, k.props.arn, k.props.keyId].some((id) => knownString(id) === known));
    const deps = new Set(fn.propertyDependencies?.environment ?? []);
    const candidates = byValue.length > 0 ? byValue : keys.filter((k) => deps.has(k.urn));
    const judged = candidates.map((k) => ({ key: k, problem: keyProblem(k) }));
    if (judged.some((j) => j.problem === undefined)) return finding(fn, p.verdict());
    const unknowns = judged.filter((j) => j.problem !== undefined && "unknown" in j.problem);
    if (byValue.length > 0 && unknowns.length === 0) {
        p.violation(`${ENV.manifestSigningKeyArn} names ${judged.map((j) => (j.problem as { problem: string }).problem).join("; ")} — name ${FIX}`);
    } else if (unknowns.length > 0) {
        for (const u of unknowns) p.unknownValue((u.problem as { unknown: string }).unknown);
    } else if (candidates.length > 0) {
        p.violation(`${ENV.manifestSigningKeyArn} comes from no key of the spec (its environment depends on ${judged.map((j) => (j.problem as { problem: string }).problem).join("; ")}) — name ${FIX}`);
    } else {
        p.unknownNote(known === undefined
            ? `cannot check which key ${ENV.manifestSigningKeyArn} names during preview: its value is unknown`
            : `${ENV.manifestSigningKeyArn} names ${known}, not a key of this stack: cannot check its key spec — declare it in the stack (${FIX})`);
    }
    return finding(fn, p.verdict(`function ${fn.name}`));
}

/** The rule, as a pure function of the stack: one finding per evidence store and per response function. */
export function checkManifestSigningKey(resources: Iterable<RuleResource>): Finding[] {
    const all = [...resources];
    const keys = all.filter((r) => r.type === TYPES.kmsKey);
    const findings: Finding[] = [];
    for (const store of all.filter((r) => r.type === TYPES.evidenceStore)) findings.push(judgeStore(store, keys));
    for (const fn of all.filter((r) => r.type === TYPES.lambdaFunction)) {
        const environment = fn.props.environment;
        if (isUnknown(environment) || (isObject(environment) && isUnknown(environment.variables))) {
            findings.push(finding(fn, new Problems().unknownNote("cannot check whether it is a response function (EVIDENCE_BUCKET) during preview: its environment is unknown").verdict(`function ${fn.name}`)));
            continue;
        }
        const variables = isObject(environment) ? environment.variables : undefined;
        if (!isObject(variables) || !Object.prototype.hasOwnProperty.call(variables, ENV.evidenceBucket)) continue;
        findings.push(judgeFunction(fn, variables, keys));
    }
    return findings;
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Case manifests are signed with an ECC_NIST_P256 key",
    description:
        `Every EvidenceStore has a manifest-signing KMS key (customerMasterKeySpec ${SIGNING_KEY_SPEC}, keyUsage ${SIGNING_KEY_USAGE}), ` +
        `and every response function (environment with ${ENV.evidenceBucket}) names such a key of the stack in ${ENV.manifestSigningKeyArn}: ` +
        "the seal signs each manifest's sha256 with it, so anyone can check a manifest with the public key.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["kms", "evidence", "chain-of-custody"],
    remediationSteps:
        `Create the signing key in the EvidenceStore (aws.kms.Key with customerMasterKeySpec "${SIGNING_KEY_SPEC}", keyUsage "${SIGNING_KEY_USAGE}", ` +
        `no key rotation: AWS cannot rotate asymmetric keys) and pass its ARN to the ResponseWorkflow (evidence.signingKeyArn), which sets ${ENV.manifestSigningKeyArn}.`,
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkManifestSigningKey(resources), "the stack has no evidence store and no response function"),
};
