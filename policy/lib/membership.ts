/**
 * Which resources the guarantees apply to, whatever their tags: the buckets the response writes evidence to and
 * the security groups it isolates with, found where the response names them — the environment of its Lambda
 * functions (`core/workflow.ts` ENV, set by `components/responseWorkflow.ts`), with the variables the Contain
 * function's code carries in its settings file (`SETTINGS_FILE`: the group maps, too large for an environment of
 * 4 KB) read as if they were in it, and what the code came from counted with what the environment came from:
 * - `EVIDENCE_BUCKET`: the bucket every evidence object goes to. OpenCase records it in the case
 *   (functions/case/openCase.ts `evidence.bucket`) and every later step writes there: metadata, the memory image
 *   (the memory function passes it to the capture document as its `Bucket` parameter and as the command's output
 *   bucket), the sealed manifest (Seal falls back to EVIDENCE_BUCKET itself). Nothing else decides where evidence
 *   goes: the state machine definition names no bucket, the
 *   SSM document takes the bucket as a parameter, and the IAM policies that name it (the functions' roles, the
 *   capture profile, the workstation, member capture roles) only grant access — a policy naming another bucket
 *   grants access to a bucket no evidence is written to. Those are not read.
 * - `ISOLATION_GROUPS` (JSON {vpcId: sgId}): the groups Contain puts interfaces into. Held to the isolation rules.
 * - `UNTRACK_GROUPS` (JSON {vpcId: sgId}): the groups applied for one call before isolation. All-open BY DESIGN
 *   (components/isolationNetwork.ts: -1 to and from 0.0.0.0/0 and ::/0, so every flow is untracked; the trade-off
 *   is in docs/how-it-works.md, "The untrack step"), so the isolation rules do not apply to them, and no rule
 *   requires anything of them: they are recognised only so that they are not mistaken for isolation groups. A
 *   group named in both maps is an isolation group.
 *
 * Each is read by value when the environment's value is known (a bucket name; a JSON map whose ids are matched
 * against the groups' ids) and, when it is unknown (preview), through the engine's propertyDependencies of the
 * function's `environment`, which lists every resource any variable came from — buckets and groups alike, with
 * no word of which variable. So, with an unknown EVIDENCE_BUCKET, every bucket the environment depends on holds
 * evidence (no other variable of the response's environment comes from a bucket). With both group maps unknown,
 * a group the environment depends on may be an isolation or an untrack group: it is held to the isolation rules
 * unless it is tagged `dfir:role=untrack` (Contain may only put interfaces into groups tagged `isolation` or
 * `untrack`: core/containmentPolicies.ts CONTAIN_GROUP_ROLES, so an untagged untrack group could not work), and
 * a group so tagged gets an advisory "cannot tell" note rather than a silent pass.
 *
 * Tags: `dfir:role` is read from the resource's own `tags`, then from its provider's `defaultTags` (resource tags
 * take precedence over the provider's default tags: "Default Tags in the Terraform AWS Provider", HashiCorp),
 * then from `tagsAll`. During a preview `tagsAll` of a new resource is unknown; the provider's inputs usually are
 * known, so a tag set only through `defaultTags` is still seen. When neither tells, the role is unknown: an
 * advisory note, never "not evidence".
 */
import { TAGS } from "../../core/tags";
import { ENV, SETTINGS_FILE } from "../../core/workflow";
import { isObject, isUnknown, knownString, TYPES, type RuleResource } from "./model";
import { StackIndex } from "./stackIndex";

/** A resource's `dfir:role`, or why it cannot be known yet. */
export type RoleTag = { readonly unknown: true; readonly why: string } | { readonly unknown: false; readonly value?: string };

type TagMap = { readonly state: "known"; readonly tags: Readonly<Record<string, unknown>> } | { readonly state: "unknown" } | { readonly state: "absent" };

/** A tag map property: an object, a JSON string of one (provider inputs are JSON-encoded), unknown, or absent. */
function tagMap(value: unknown): TagMap {
    if (value === undefined || value === null) return { state: "absent" };
    if (isUnknown(value)) return { state: "unknown" };
    if (isObject(value)) return { state: "known", tags: value };
    if (typeof value === "string") {
        try {
            const parsed: unknown = JSON.parse(value);
            if (isObject(parsed)) return { state: "known", tags: parsed };
            if (parsed === null) return { state: "absent" };
        } catch {
            // not JSON: not a tag map we can read
        }
    }
    return { state: "unknown" };
}

/** The provider's `defaultTags.tags` (the input is `{tags: {...}}`, JSON-encoded in provider inputs). */
function providerDefaultTags(r: RuleResource): TagMap {
    if (r.provider === undefined) return { state: "unknown" };
    const outer = tagMap(r.provider.props.defaultTags);
    if (outer.state !== "known") return outer;
    return tagMap(outer.tags.tags);
}

/** A tag's value from a known map: the value, unknown, or absent (undefined). */
function lookup(map: Readonly<Record<string, unknown>>, key: string): RoleTag | undefined {
    if (!Object.prototype.hasOwnProperty.call(map, key)) return undefined;
    const value = map[key];
    if (isUnknown(value)) return { unknown: true, why: `its ${key} tag is unknown` };
    return { unknown: false, value: typeof value === "string" ? value : undefined };
}

/**
 * A tag's value as AWS will see it: the resource's own `tags`, else its provider's default tags, else `tagsAll`.
 * Unknown only when what decides is unknown (see the module comment).
 */
export function effectiveTag(r: RuleResource, key: string = TAGS.role): RoleTag {
    const own = tagMap(r.props.tags);
    if (own.state === "unknown") return { unknown: true, why: "its tags are unknown" };
    if (own.state === "known") {
        const hit = lookup(own.tags, key);
        if (hit) return hit;
    }
    const defaults = providerDefaultTags(r);
    if (defaults.state === "known") {
        const hit = lookup(defaults.tags, key);
        if (hit) return hit;
    }
    const all = tagMap(r.props.tagsAll);
    if (all.state === "known") return lookup(all.tags, key) ?? { unknown: false };
    if (defaults.state === "known" || defaults.state === "absent") return { unknown: false };
    if (all.state === "unknown") {
        return { unknown: true, why: `its tagsAll (the provider's default tags merged in) is unknown${r.provider === undefined ? "" : " and so are its provider's defaultTags"}` };
    }
    return { unknown: false };
}

/** The Lambda functions of a stack and the part of their environment the response reads. */
interface FunctionEnv {
    readonly fn: RuleResource;
    /** The environment (or its variables) is unknown: which variables it has cannot be told. */
    readonly unknownEnvironment: boolean;
    readonly variables: Readonly<Record<string, unknown>>;
    /** Resources the environment's values came from. */
    readonly deps: readonly RuleResource[];
}

function functionEnvs(index: StackIndex): FunctionEnv[] {
    const out: FunctionEnv[] = [];
    for (const fn of index.ofType(TYPES.lambdaFunction)) {
        const env = fn.props.environment;
        const deps = [...(fn.propertyDependencies?.environment ?? []), ...(fn.propertyDependencies?.code ?? [])]
            .map((u) => index.byUrn(u)).filter((r): r is RuleResource => r !== undefined);
        const envObject = Array.isArray(env) ? env[0] : env; // older providers: a list of one block
        const variables = isObject(envObject) ? envObject.variables : undefined;
        const file = settingsFileOf(fn.props.code);
        if (isUnknown(env) || isUnknown(envObject) || isUnknown(variables) || file === "unknown") out.push({ fn, unknownEnvironment: true, variables: {}, deps });
        else if (isObject(variables) || file !== undefined) out.push({ fn, unknownEnvironment: false, variables: { ...file, ...(isObject(variables) ? variables : {}) }, deps });
    }
    return out;
}

/**
 * The variables a function's code carries in core/workflow.ts SETTINGS_FILE (the group maps, too large for its
 * environment): "unknown" while the archive or the file's text is (a first preview), undefined without one. The
 * archive arrives as the engine serializes it: `{assets: {"<file>": {text}}}`.
 */
function settingsFileOf(code: unknown): Record<string, unknown> | "unknown" | undefined {
    if (isUnknown(code)) return "unknown";
    const assets = isObject(code) ? code.assets : undefined;
    if (isUnknown(assets)) return "unknown";
    const asset = isObject(assets) ? assets[SETTINGS_FILE] : undefined;
    if (asset === undefined) return undefined;
    const text = isObject(asset) ? asset.text : undefined;
    if (isUnknown(asset) || isUnknown(text)) return "unknown";
    // A file that cannot be read says nothing of which groups it names: treated as unknown (a note), never as none.
    if (typeof text !== "string") return "unknown";
    try {
        const parsed: unknown = JSON.parse(text);
        return isObject(parsed) ? parsed : "unknown";
    } catch {
        return "unknown";
    }
}

const has = (o: Readonly<Record<string, unknown>>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Why a resource is held to (or may be held to) a guarantee: for messages. */
export interface Use {
    readonly why: string;
}

/** Buckets the response writes evidence to, and those it may (unknown environments). */
export interface EvidenceUse {
    readonly evidence: ReadonlyMap<string, Use>;
    /** Bucket URN -> why it cannot be told during preview whether the response writes evidence there. */
    readonly undecided: ReadonlyMap<string, Use>;
}

/**
 * The buckets the stack's functions name in EVIDENCE_BUCKET. `index` must declare buckets as link targets
 * (buckets.ts BUCKET_LINKS) so that bucket names are looked up.
 */
export function evidenceUse(index: StackIndex): EvidenceUse {
    const evidence = new Map<string, Use>();
    const undecided = new Map<string, Use>();
    const mark = (map: Map<string, Use>, b: RuleResource, why: string) => {
        if (!map.has(b.urn)) map.set(b.urn, { why });
    };
    for (const { fn, unknownEnvironment, variables, deps } of functionEnvs(index)) {
        const buckets = deps.filter((r) => (TYPES.buckets as readonly string[]).includes(r.type));
        if (unknownEnvironment) {
            for (const b of buckets) mark(undecided, b, `the environment of function ${fn.name}, which comes in part from it, is unknown (it may name it in ${ENV.evidenceBucket})`);
            continue;
        }
        if (!has(variables, ENV.evidenceBucket)) continue;
        const value = variables[ENV.evidenceBucket];
        const name = knownString(value);
        if (name === undefined) {
            if (!isUnknown(value)) continue;
            for (const b of buckets) mark(evidence, b, `function ${fn.name} writes evidence to it (${ENV.evidenceBucket}, unknown during preview, comes from it)`);
            continue;
        }
        const named = index.named(name, TYPES.buckets);
        for (const b of named) mark(evidence, b, `function ${fn.name} writes evidence to it (${ENV.evidenceBucket} "${name}")`);
        if (named.length > 0) continue;
        // The name matches no bucket's known name: a bucket the environment comes from, whose own name is not
        // known (a list of inputs), may be it.
        for (const b of buckets) {
            if (index.identifiersOf(b).length === 0) mark(evidence, b, `function ${fn.name} writes evidence to it (${ENV.evidenceBucket} "${name}" comes from it)`);
        }
    }
    for (const urn of evidence.keys()) undecided.delete(urn);
    return { evidence, undecided };
}

/** How a group map variable reads: absent, unknown (or unreadable), or the group ids it names. */
type GroupMap = { readonly state: "absent" } | { readonly state: "unknown" } | { readonly state: "known"; readonly ids: ReadonlySet<string> };

function groupMap(variables: Readonly<Record<string, unknown>>, name: string): GroupMap {
    if (!has(variables, name)) return { state: "absent" };
    const raw = variables[name];
    if (isUnknown(raw)) return { state: "unknown" };
    if (typeof raw !== "string") return { state: "unknown" };
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw === "" ? "{}" : raw);
    } catch {
        return { state: "unknown" }; // Contain refuses it at run time (functions/contain/settings.ts); read its dependencies instead
    }
    if (!isObject(parsed)) return { state: "unknown" };
    return { state: "known", ids: new Set(Object.values(parsed).filter((v): v is string => typeof v === "string")) };
}

/** Security groups the response isolates with (or may), and its untrack groups. */
export interface GroupUse {
    readonly isolation: ReadonlyMap<string, Use>;
    readonly untrack: ReadonlyMap<string, Use>;
    /** Group URN -> why it cannot be told during preview whether it is an isolation group. */
    readonly undecided: ReadonlyMap<string, Use>;
}

/**
 * The groups the stack's functions name in ISOLATION_GROUPS and UNTRACK_GROUPS. `index` must declare security
 * groups as link targets (sgRules.ts) so that group ids are looked up.
 */
export function groupUse(index: StackIndex): GroupUse {
    const isolation = new Map<string, Use>();
    const untrack = new Map<string, Use>();
    const undecided = new Map<string, Use>();
    const mark = (map: Map<string, Use>, g: RuleResource, why: string) => {
        if (!map.has(g.urn)) map.set(g.urn, { why });
    };
    const I = ENV.isolationGroups;
    const U = ENV.untrackGroups;
    /** A group's id: its own, else (a list of inputs) the one its rules agree on. */
    const idOf = (g: RuleResource): string | undefined => index.identifiersOf(g)[0] ?? index.learnedIds(g)[0];
    /** Whether some id of a known map names no group of the stack (so it may be a group whose id is not known). */
    const unclaimed = (ids: ReadonlySet<string>) => [...ids].some((id) => index.named(id, [TYPES.securityGroup]).length === 0);

    for (const { fn, unknownEnvironment, variables, deps } of functionEnvs(index)) {
        const groups = deps.filter((r) => r.type === TYPES.securityGroup);
        if (unknownEnvironment) {
            for (const g of groups) mark(undecided, g, `the environment of function ${fn.name}, which comes in part from it, is unknown (it may name it in ${I})`);
            continue;
        }
        const iso = groupMap(variables, I);
        const unt = groupMap(variables, U);
        if (iso.state === "absent" && unt.state === "absent") continue;
        const byValue = [iso, unt].flatMap((m) => (m.state === "known" ? [...m.ids].flatMap((id) => index.named(id, [TYPES.securityGroup])) : []));
        for (const g of [...new Set([...groups, ...byValue])]) {
            const id = idOf(g);
            if (id !== undefined && iso.state === "known" && iso.ids.has(id)) {
                mark(isolation, g, `function ${fn.name} isolates instances with it (${I})`);
                continue;
            }
            if (id !== undefined && unt.state === "known" && unt.ids.has(id)) {
                mark(untrack, g, `function ${fn.name} names it in ${U}`);
                continue;
            }
            if (!groups.includes(g)) continue;
            // Named by dependency only: which map it is in is not known.
            const mayBe = (m: GroupMap) => m.state === "unknown" || (m.state === "known" && id === undefined && unclaimed(m.ids));
            const mayIsolate = mayBe(iso);
            const mayUntrack = mayBe(unt);
            if (mayIsolate && !mayUntrack) {
                mark(isolation, g, `function ${fn.name} isolates instances with it (${I}, ${iso.state === "unknown" ? "unknown during preview" : "read through its dependencies"}, comes from it)`);
            } else if (mayUntrack && !mayIsolate) {
                mark(untrack, g, `function ${fn.name} names it in ${U}`);
            } else if (mayIsolate && mayUntrack) {
                const role = effectiveTag(g);
                if (role.unknown) {
                    mark(undecided, g, `function ${fn.name}, whose ${I} and ${U} are unknown, may name it in either, and ${role.why}`);
                } else if (role.value === TAGS.roleUntrack) {
                    mark(undecided, g, `it is tagged ${TAGS.role}=${TAGS.roleUntrack}, but function ${fn.name}, whose ${I} and ${U} are unknown, may name it in either`);
                } else {
                    mark(isolation, g, `function ${fn.name} names it in ${I} or ${U} (unknown during preview); only a group tagged ${TAGS.role}=${TAGS.roleUntrack} can be an untrack group`);
                }
            }
        }
    }
    for (const urn of isolation.keys()) {
        untrack.delete(urn);
        undecided.delete(urn);
    }
    for (const urn of undecided.keys()) untrack.delete(urn);
    return { isolation, untrack, undecided };
}
