/**
 * Resources as `stack:resources` prints them, and renamed copies of a stack's resources (the gRPC pack tests break one
 * guarantee in a copy and expect exactly that copy to be caught).
 */
export type Resource = { type: string; name: string; urn: string; provider?: string; props: Record<string, any>; propertyDependencies?: Record<string, string[]> };

/** A renamed copy of every resource whose name starts with `prefix` (urns, names, ids and links alike). */
export function copyOf(resources: Resource[], prefix: string, suffix: string): Resource[] {
    const subset = resources.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
    return JSON.parse(JSON.stringify(subset).split(prefix).join(`${prefix}-${suffix}`));
}

/** The resource of that type and name, or an error naming it. */
export function find(rs: Resource[], type: string, name: string): Resource {
    const r = rs.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}`);
    return r;
}
