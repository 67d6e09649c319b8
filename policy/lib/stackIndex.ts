/**
 * One indexed pass over a stack's resources, so stack rules look relations up instead of scanning (a stack of
 * 5,000 resources is checked in linear time).
 *
 * A "link" is a property of a dependent resource that names another resource: `bucket` of a lock
 * configuration, `securityGroupId` of a rule. It is resolved two ways:
 * - through the property's value equalling one of the target's known identifiers (id, bucket name) — what
 *   works when dependencies are not recorded (resources read from JSON, or test mocks);
 * - through `propertyDependencies[prop]` containing the target's URN — what works during preview, when the
 *   target's id is still unknown. A dependency only says the value was computed from the target, not that it
 *   names it (`bucket: evidence.id.apply(() => "other-bucket")` depends on the evidence bucket and names
 *   another one), so a dependency whose KNOWN value names elsewhere does not count: the value wins when it
 *   differs from the target's own known identifiers, or (the target's identifiers being unknown) when it equals
 *   the identifier of another target of the link (`LinkSpec.targetTypes`). A known value that names nothing in
 *   the stack, on a target whose own identifiers are unknown, leaves the dependency to decide: nothing says it
 *   names elsewhere (a resource list of inputs only, without ids, is read this way).
 * A dependent whose property is unknown and has no dependency recorded cannot be placed: it is "unresolved",
 * and a rule that finds no link for a target reports that it cannot check, rather than a violation. A
 * dependent whose property is unknown and depends on several targets is "ambiguous": it may belong to any of
 * them (`isAmbiguous`).
 */
import { isUnknown, knownString, typeOfUrn, type RuleResource } from "./model";

/** A property of dependents of some types that refers to another resource. */
export interface LinkSpec {
    readonly types: readonly string[];
    readonly prop: string;
    /**
     * The types of resource the property names. With it, a known value equal to another such resource's
     * identifier wins over a dependency, and dependents depending on several of them are told apart.
     */
    readonly targetTypes?: readonly string[];
    /** A target's known identifiers (what the property's value equals when it names it). @default its known `id` */
    readonly identifiers?: (target: RuleResource) => string[];
}

const key = (type: string, prop: string) => `${type}|${prop}`;

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
}

/** A resource's known `id`, the default identifier of a link target. */
export function knownId(r: RuleResource): string[] {
    const id = knownString(r.props.id);
    return id === undefined ? [] : [id];
}

export class StackIndex {
    private readonly byUrnMap = new Map<string, RuleResource>();
    private readonly byTypeMap = new Map<string, RuleResource[]>();
    /** "<type>|<prop>" -> target URN -> dependents. */
    private readonly depLinks = new Map<string, Map<string, RuleResource[]>>();
    /** "<type>|<prop>" -> known value -> dependents. */
    private readonly valueLinks = new Map<string, Map<string, RuleResource[]>>();
    /** "<type>|<prop>" -> dependents that cannot be placed. */
    private readonly unresolvedLinks = new Map<string, RuleResource[]>();
    /** "<type>|<prop>" -> the spec that declared it. */
    private readonly specs = new Map<string, LinkSpec>();
    /** Target type -> how its identifiers are read. */
    private readonly identifierFns = new Map<string, (target: RuleResource) => string[]>();
    /** Known identifier -> URNs of the link targets that own it. */
    private readonly owners = new Map<string, string[]>();
    /** "<type>|<prop>|<dependent urn>" of dependents whose unknown value depends on several targets. */
    private readonly ambiguousLinks = new Set<string>();
    /** Target URN -> values of dependents that depend, for that property, on it alone (see `learnedIds`). */
    private readonly learned = new Map<string, Set<string>>();

    constructor(resources: Iterable<RuleResource>, links: readonly LinkSpec[] = []) {
        const specsByType = new Map<string, string[]>();
        for (const spec of links) {
            for (const type of spec.types) {
                push(specsByType, type, spec.prop);
                this.specs.set(key(type, spec.prop), spec);
            }
            for (const type of spec.targetTypes ?? []) this.identifierFns.set(type, spec.identifiers ?? knownId);
        }

        for (const r of resources) {
            this.byUrnMap.set(r.urn, r);
            push(this.byTypeMap, r.type, r);
            const identifiers = this.identifierFns.get(r.type);
            if (identifiers) for (const id of new Set(identifiers(r))) push(this.owners, id, r.urn);
            const props = specsByType.get(r.type);
            if (!props) continue;
            for (const prop of props) {
                const k = key(r.type, prop);
                const targetTypes = this.specs.get(k)?.targetTypes;
                const deps = r.propertyDependencies?.[prop] ?? [];
                for (const urn of deps) {
                    let targets = this.depLinks.get(k);
                    if (!targets) this.depLinks.set(k, (targets = new Map()));
                    push(targets, urn, r);
                }
                const targetDeps = targetTypes === undefined ? deps : deps.filter((u) => targetTypes.includes(typeOfUrn(u) ?? ""));
                const value = r.props[prop];
                if (typeof value === "string" && value !== "" && !isUnknown(value)) {
                    let values = this.valueLinks.get(k);
                    if (!values) this.valueLinks.set(k, (values = new Map()));
                    push(values, value, r);
                    if (targetTypes !== undefined && targetDeps.length === 1) {
                        const seen = this.learned.get(targetDeps[0]);
                        if (seen) seen.add(value);
                        else this.learned.set(targetDeps[0], new Set([value]));
                    }
                } else if (isUnknown(value)) {
                    if (deps.length === 0) push(this.unresolvedLinks, k, r);
                    else if (targetTypes !== undefined && new Set(targetDeps).size > 1) this.ambiguousLinks.add(`${k}|${r.urn}`);
                }
            }
        }
    }

    byUrn(urn: string | undefined): RuleResource | undefined {
        return urn === undefined ? undefined : this.byUrnMap.get(urn);
    }

    ofType(type: string): readonly RuleResource[] {
        return this.byTypeMap.get(type) ?? [];
    }

    ofTypes(types: readonly string[]): RuleResource[] {
        return types.flatMap((t) => this.ofType(t));
    }

    /** A link target's own known identifiers (empty for a resource of no declared target type). */
    identifiersOf(target: RuleResource): string[] {
        return this.identifierFns.get(target.type)?.(target) ?? [];
    }

    /** The link targets of `types` whose own known identifiers include `id`. */
    named(id: string, types: readonly string[]): RuleResource[] {
        return (this.owners.get(id) ?? []).map((u) => this.byUrnMap.get(u)).filter((r): r is RuleResource => r !== undefined && types.includes(r.type));
    }

    /**
     * What a target's identifier appears to be when its own is unknown: the one value that every dependent
     * depending on it alone (for a property with `targetTypes`) gives that property. Empty when there is none,
     * when they disagree, or when the value is another target's own identifier. Only a hint for reading values
     * (a map of group ids in an environment) in resource lists without ids: never used to decide a link.
     */
    learnedIds(target: RuleResource): string[] {
        const values = this.learned.get(target.urn);
        if (values === undefined || values.size !== 1) return [];
        const [value] = values;
        const owners = this.owners.get(value) ?? [];
        return owners.some((u) => u !== target.urn) ? [] : [value];
    }

    /**
     * Dependents of `types` whose `prop` refers to `target`: by value equal to one of `targetIds` (its known
     * identifiers; default: those of its link spec), or by dependency on its URN unless their known value names
     * elsewhere. Each dependent once, in stack order of discovery.
     */
    linked(target: RuleResource, types: readonly string[], prop: string, targetIds: readonly string[] = this.identifiersOf(target)): RuleResource[] {
        const seen = new Set<string>();
        const out: RuleResource[] = [];
        const add = (r: RuleResource) => {
            if (!seen.has(r.urn)) {
                seen.add(r.urn);
                out.push(r);
            }
        };
        for (const type of types) {
            const k = key(type, prop);
            for (const r of this.depLinks.get(k)?.get(target.urn) ?? []) {
                if (!this.namesElsewhere(r, prop, target, targetIds, this.specs.get(k))) add(r);
            }
            const values = this.valueLinks.get(k);
            if (values) for (const id of targetIds) for (const r of values.get(id) ?? []) add(r);
        }
        return out;
    }

    /**
     * Dependents of `types` that depend on `target` for `prop` but whose known value names another resource:
     * links that point elsewhere (for messages).
     */
    pointingElsewhere(target: RuleResource, types: readonly string[], prop: string, targetIds: readonly string[] = this.identifiersOf(target)): RuleResource[] {
        return types.flatMap((type) => {
            const k = key(type, prop);
            return (this.depLinks.get(k)?.get(target.urn) ?? []).filter((r) => this.namesElsewhere(r, prop, target, targetIds, this.specs.get(k)));
        });
    }

    /** Whether a dependent's `prop` is unknown and depends on several targets of its link (it may belong to any). */
    isAmbiguous(dependent: RuleResource, prop: string): boolean {
        return this.ambiguousLinks.has(`${key(dependent.type, prop)}|${dependent.urn}`);
    }

    /** Dependents of `types` whose `prop` is unknown with no dependency recorded: they could refer to anything. */
    unresolved(types: readonly string[], prop: string): RuleResource[] {
        return types.flatMap((t) => this.unresolvedLinks.get(key(t, prop)) ?? []);
    }

    /** Whether `dependent`'s known `prop` names something other than `target` (see the module comment). */
    private namesElsewhere(dependent: RuleResource, prop: string, target: RuleResource, targetIds: readonly string[], spec: LinkSpec | undefined): boolean {
        const value = knownString(dependent.props[prop]);
        if (value === undefined || targetIds.includes(value)) return false;
        if (targetIds.length > 0) return true;
        const targetTypes = spec?.targetTypes;
        if (targetTypes === undefined) return false;
        return (this.owners.get(value) ?? []).some((u) => u !== target.urn && targetTypes.includes(this.byUrnMap.get(u)?.type ?? ""));
    }
}
