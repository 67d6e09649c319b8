/**
 * The resources a policy check runs on: the JSON array `stack:resources` prints (or a hand-written file in the
 * same format), validated and normalised. Pure.
 *
 * Each element: `{"type","name","urn"?,"parent"?,"props"?,"dependencies"?,"propertyDependencies"?,"provider"?,
 * "options"?}`. `urn` is synthesized as `urn:pulumi:<stack>::<project>::<type>::<name>` when absent (stack and
 * project default to "adhoc"). `parent`, `dependencies[]`, `propertyDependencies{}[]` and `provider` name another
 * resource by urn or, in hand-written files, by its unique `name`; `provider` may also be a provider reference
 * (`<urn>::<id>`). `options` (or the same keys at the top level): `protect`, `ignoreChanges`,
 * `deleteBeforeReplace`, `additionalSecretOutputs`, `aliases`, `customTimeouts{create,update,delete}` (seconds).
 * Property values follow the wire conventions of `./wire` (secrets, unknowns).
 */
import { marshalProperties, WireError, type Wire } from "./wire";

export class InputError extends Error {}

export interface ResourceOptions {
    protect: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace?: boolean;
    additionalSecretOutputs: string[];
    aliases: string[];
    customTimeouts: { create: number; update: number; delete: number };
}

export interface Resource {
    type: string;
    name: string;
    urn: string;
    parent?: string;
    /** Wire form, internal (`__`) keys kept: they are dropped per RPC as the engine does. */
    props: { [key: string]: Wire };
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    /** The URN of the resource's provider (a provider reference's id removed). */
    provider?: string;
    options: ResourceOptions;
}

export interface StackFacts {
    stack: string;
    project: string;
}

export const ADHOC: StackFacts = { stack: "adhoc", project: "adhoc" };

const URN_PREFIX = "urn:pulumi:";

export interface ParsedUrn {
    stack: string;
    project: string;
    qualifiedType: string;
    type: string;
    name: string;
}

/** `urn:pulumi:<stack>::<project>::<parent types $ type>::<name>` (the name may itself contain "::"). */
export function parseUrn(urn: string): ParsedUrn | undefined {
    if (!urn.startsWith(URN_PREFIX)) return undefined;
    const parts = urn.slice(URN_PREFIX.length).split("::");
    if (parts.length < 4 || parts[2] === "") return undefined;
    const [stack, project, qualifiedType, ...rest] = parts;
    const types = qualifiedType.split("$");
    return { stack, project, qualifiedType, type: types[types.length - 1], name: rest.join("::") };
}

export function makeUrn(facts: StackFacts, type: string, name: string): string {
    return `${URN_PREFIX}${facts.stack}::${facts.project}::${type}::${name}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, at: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) throw new InputError(`${at} must be a list of strings`);
    return value as string[];
}

function optionalString(value: unknown, at: string): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") throw new InputError(`${at} must be a string`);
    return value;
}

function seconds(value: unknown, at: string): number {
    if (value === undefined || value === null) return 0;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new InputError(`${at} must be a number of seconds`);
    return value;
}

function parseOptions(raw: Record<string, unknown>, at: string): ResourceOptions {
    const given = raw.options === undefined ? {} : raw.options;
    if (!isObject(given)) throw new InputError(`${at}.options must be an object`);
    const pick = (key: string) => (given[key] !== undefined ? given[key] : raw[key]);
    const protect = pick("protect");
    if (protect !== undefined && typeof protect !== "boolean") throw new InputError(`${at}.protect must be true or false`);
    const dbr = pick("deleteBeforeReplace");
    if (dbr !== undefined && dbr !== null && typeof dbr !== "boolean") throw new InputError(`${at}.deleteBeforeReplace must be true or false`);
    const timeouts = pick("customTimeouts") ?? {};
    if (!isObject(timeouts)) throw new InputError(`${at}.customTimeouts must be an object`);
    const options: ResourceOptions = {
        protect: protect === true,
        ignoreChanges: stringList(pick("ignoreChanges"), `${at}.ignoreChanges`),
        additionalSecretOutputs: stringList(pick("additionalSecretOutputs"), `${at}.additionalSecretOutputs`),
        aliases: stringList(pick("aliases"), `${at}.aliases`),
        customTimeouts: {
            create: seconds(timeouts.create, `${at}.customTimeouts.create`),
            update: seconds(timeouts.update, `${at}.customTimeouts.update`),
            delete: seconds(timeouts.delete, `${at}.customTimeouts.delete`),
        },
    };
    if (typeof dbr === "boolean") options.deleteBeforeReplace = dbr;
    return options;
}

/** The stack facts a resource list implies: its first URN's stack and project, else `fallback`. */
export function inferStackFacts(raw: unknown, fallback: StackFacts = ADHOC): StackFacts {
    if (!Array.isArray(raw)) return fallback;
    for (const item of raw) {
        const parsed = isObject(item) && typeof item.urn === "string" ? parseUrn(item.urn) : undefined;
        if (parsed) return { stack: parsed.stack, project: parsed.project };
    }
    return fallback;
}

/** Parses the text of a resources file (`source` names it in errors). */
export function parseResourcesText(text: string, source: string, facts?: StackFacts): Resource[] {
    let raw: unknown;
    try {
        raw = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
        throw new InputError(`${source}: malformed JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    return normalizeResources(raw, source, facts);
}

/** Validates and normalises a resource list; throws InputError naming the first problem. */
export function normalizeResources(raw: unknown, source: string, facts: StackFacts = inferStackFacts(raw)): Resource[] {
    if (!Array.isArray(raw)) throw new InputError(`${source}: expected a JSON array of resources`);
    const drafts = raw.map((item, i) => {
        const at = `${source}: resources[${i}]`;
        if (!isObject(item)) throw new InputError(`${at} must be an object`);
        if (typeof item.type !== "string" || item.type === "") throw new InputError(`${at}.type must be a non-empty string`);
        if (typeof item.name !== "string" || item.name === "") throw new InputError(`${at}.name must be a non-empty string`);
        const givenUrn = optionalString(item.urn, `${at}.urn`);
        if (givenUrn !== undefined && !parseUrn(givenUrn)) throw new InputError(`${at}.urn is not a Pulumi URN: ${JSON.stringify(givenUrn)}`);
        const props = item.props === undefined || item.props === null ? {} : item.props;
        if (!isObject(props)) throw new InputError(`${at}.props must be an object`);
        const propertyDependencies = item.propertyDependencies ?? {};
        if (!isObject(propertyDependencies)) throw new InputError(`${at}.propertyDependencies must be an object of lists`);
        let wireProps: { [key: string]: Wire };
        try {
            wireProps = marshalProperties(props, { skipInternalKeys: false }, `${at}.props`);
        } catch (error) {
            if (error instanceof WireError) throw new InputError(error.message);
            throw error;
        }
        return {
            at,
            type: item.type,
            name: item.name,
            urn: givenUrn ?? makeUrn(facts, item.type, item.name),
            parent: optionalString(item.parent, `${at}.parent`),
            dependencies: stringList(item.dependencies, `${at}.dependencies`),
            propertyDependencies: Object.fromEntries(
                Object.entries(propertyDependencies).map(([key, list]) => [key, stringList(list, `${at}.propertyDependencies.${key}`)]),
            ),
            provider: optionalString(item.provider, `${at}.provider`),
            props: wireProps,
            options: parseOptions(item, at),
        };
    });

    const byUrn = new Set<string>();
    const byName = new Map<string, string[]>();
    for (const draft of drafts) {
        if (byUrn.has(draft.urn)) throw new InputError(`${draft.at}: duplicate urn ${draft.urn}`);
        byUrn.add(draft.urn);
        byName.set(draft.name, [...(byName.get(draft.name) ?? []), draft.urn]);
    }
    const resolve = (ref: string, at: string): string => {
        if (ref.startsWith(URN_PREFIX)) return ref;
        const urns = byName.get(ref) ?? [];
        if (urns.length === 1) return urns[0];
        throw new InputError(urns.length === 0 ? `${at}: no resource named ${JSON.stringify(ref)}` : `${at}: ${urns.length} resources are named ${JSON.stringify(ref)}; use its urn`);
    };
    const resolveProvider = (ref: string, at: string): string => {
        if (!ref.startsWith(URN_PREFIX)) return resolve(ref, at);
        if (byUrn.has(ref)) return ref;
        const cut = ref.lastIndexOf("::");
        const withoutId = ref.slice(0, cut);
        if (byUrn.has(withoutId)) return withoutId;
        // A reference to a provider not in the list: `<urn>::<id>` has five "::"-separated parts.
        return ref.slice(URN_PREFIX.length).split("::").length >= 5 ? withoutId : ref;
    };

    return drafts.map((draft): Resource => {
        const resource: Resource = {
            type: draft.type,
            name: draft.name,
            urn: draft.urn,
            props: draft.props,
            dependencies: draft.dependencies.map((ref, j) => resolve(ref, `${draft.at}.dependencies[${j}]`)),
            propertyDependencies: Object.fromEntries(
                Object.entries(draft.propertyDependencies).map(([key, list]) => [
                    key,
                    list.map((ref, j) => resolve(ref, `${draft.at}.propertyDependencies.${key}[${j}]`)),
                ]),
            ),
            options: draft.options,
        };
        if (draft.parent !== undefined) resource.parent = resolve(draft.parent, `${draft.at}.parent`);
        if (draft.provider !== undefined) resource.provider = resolveProvider(draft.provider, `${draft.at}.provider`);
        return resource;
    });
}
