/**
 * One indexed pass over a stack's resources, so stack rules look relations up instead of scanning (a stack of
 * 5,000 resources is checked in linear time).
 *
 * A "link" is a property of a dependent resource that names another resource: `bucket` of a lock
 * configuration, `securityGroupId` of a rule. It is resolved two ways, unioned:
 * - through `propertyDependencies[prop]` containing the target's URN — what works during preview, when the
 *   target's id is still unknown;
 * - through the property's value equalling one of the target's known identifiers (id, bucket name) — what
 *   works when dependencies are not recorded (resources read from JSON, or test mocks).
 * A dependent whose property is unknown and has no dependency recorded cannot be placed: it is "unresolved",
 * and a rule that finds no link for a target reports that it cannot check, rather than a violation.
 */
import { isUnknown, type RuleResource } from "./model";

/** A property of dependents of some types that refers to another resource. */
export interface LinkSpec {
    readonly types: readonly string[];
    readonly prop: string;
}

const key = (type: string, prop: string) => `${type}|${prop}`;

function push<K, V>(map: Map<K, V[]>, k: K, v: V): void {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
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

    constructor(resources: Iterable<RuleResource>, links: readonly LinkSpec[] = []) {
        const specsByType = new Map<string, string[]>();
        for (const spec of links) for (const type of spec.types) push(specsByType, type, spec.prop);

        for (const r of resources) {
            this.byUrnMap.set(r.urn, r);
            push(this.byTypeMap, r.type, r);
            const props = specsByType.get(r.type);
            if (!props) continue;
            for (const prop of props) {
                const k = key(r.type, prop);
                const deps = r.propertyDependencies?.[prop] ?? [];
                for (const urn of deps) {
                    let targets = this.depLinks.get(k);
                    if (!targets) this.depLinks.set(k, (targets = new Map()));
                    push(targets, urn, r);
                }
                const value = r.props[prop];
                if (typeof value === "string" && value !== "" && !isUnknown(value)) {
                    let values = this.valueLinks.get(k);
                    if (!values) this.valueLinks.set(k, (values = new Map()));
                    push(values, value, r);
                } else if (isUnknown(value) && deps.length === 0) {
                    push(this.unresolvedLinks, k, r);
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

    /**
     * Dependents of `types` whose `prop` refers to `target`: by dependency on its URN, or by value equal to one
     * of `targetIds` (its known identifiers). Each dependent once, in stack order of discovery.
     */
    linked(target: RuleResource, types: readonly string[], prop: string, targetIds: readonly string[]): RuleResource[] {
        const seen = new Set<string>();
        const out: RuleResource[] = [];
        const add = (list: readonly RuleResource[] | undefined) => {
            for (const r of list ?? []) {
                if (!seen.has(r.urn)) {
                    seen.add(r.urn);
                    out.push(r);
                }
            }
        };
        for (const type of types) {
            const k = key(type, prop);
            add(this.depLinks.get(k)?.get(target.urn));
            const values = this.valueLinks.get(k);
            if (values) for (const id of targetIds) add(values.get(id));
        }
        return out;
    }

    /** Dependents of `types` whose `prop` is unknown with no dependency recorded: they could refer to anything. */
    unresolved(types: readonly string[], prop: string): RuleResource[] {
        return types.flatMap((t) => this.unresolvedLinks.get(key(t, prop)) ?? []);
    }
}
