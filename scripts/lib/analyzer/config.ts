/**
 * Policy configuration the way the engine reconciles it before its one Configure call (pulumi
 * `ReconcilePolicyPackConfig`): for every policy, its default enforcement level and its schema's `default`s, then
 * the pack's initial config, then the user's `--policy-pack-config` file; `"all"` sets every policy's level
 * before the per-policy entries of the same layer apply. Every policy ends with a level AND a properties object
 * (possibly empty): an entry without a level becomes advisory in the pack, one without properties crashes it.
 * The result is validated against each policy's schema (the subset of JSON Schema packs use). Pure.
 *
 * Stricter than the engine, on purpose: a policy name the pack does not have, or `"all"` with properties, is an
 * error (the engine silently ignores both).
 */
import { InputError } from "./resources";

export const LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof LEVELS)[number];

export function isLevel(value: unknown): value is EnforcementLevel {
    return typeof value === "string" && (LEVELS as readonly string[]).includes(value);
}

export type JsonSchema = Record<string, unknown>;

export interface PolicyInfo {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    type: "resource" | "stack" | "unknown";
    configSchema?: { properties: Record<string, JsonSchema>; required: string[] };
}

/** One layer of config: what a file or the pack's initial config says about a policy (or "all"). */
export interface ConfigEntry {
    enforcementLevel?: EnforcementLevel;
    properties: Record<string, unknown>;
}
export type ConfigLayer = Record<string, ConfigEntry>;

/** What Configure sends for one policy. */
export interface PolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses a `--policy-pack-config` file: `{"all": level, "<policy>": level | {enforcementLevel?, ...props}}`. */
export function parsePolicyPackConfig(text: string, source: string): ConfigLayer {
    if (text.trim() === "") return {};
    let raw: unknown;
    try {
        raw = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
        throw new InputError(`${source}: malformed JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!isObject(raw)) throw new InputError(`${source}: expected a JSON object of policy names`);
    const layer: ConfigLayer = {};
    for (const [key, value] of Object.entries(raw)) {
        const at = `${source}: ${JSON.stringify(key)}`;
        if (typeof value === "string") {
            if (!isLevel(value)) throw new InputError(`${at}: ${JSON.stringify(value)} is not an enforcement level (${LEVELS.join(", ")})`);
            layer[key] = { enforcementLevel: value, properties: {} };
            continue;
        }
        if (!isObject(value)) throw new InputError(`${at}: must be an enforcement level or an object`);
        const { enforcementLevel, ...properties } = value;
        if (enforcementLevel !== undefined && !isLevel(enforcementLevel)) {
            throw new InputError(`${at}: ${JSON.stringify(enforcementLevel)} is not an enforcement level (${LEVELS.join(", ")})`);
        }
        if (key === "all" && Object.keys(properties).length > 0) throw new InputError(`${at}: "all" takes only an enforcement level`);
        if (enforcementLevel === undefined && Object.keys(properties).length === 0) continue; // the engine drops empty entries
        layer[key] = { ...(enforcementLevel === undefined ? {} : { enforcementLevel }), properties };
    }
    return layer;
}

/** Each policy's default level and schema defaults: the first layer. */
export function defaultConfig(policies: PolicyInfo[]): Record<string, PolicyConfig> {
    const result: Record<string, PolicyConfig> = {};
    for (const policy of policies) {
        const properties: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
            if (isObject(schema) && "default" in schema) properties[key] = structuredClone(schema.default);
        }
        result[policy.name] = { enforcementLevel: policy.enforcementLevel, properties };
    }
    return result;
}

/** Applies one layer; a name the pack lacks is an error when `strict` (the user's file), skipped otherwise. */
function applyLayer(result: Record<string, PolicyConfig>, layer: ConfigLayer, source: string, strict: boolean): void {
    for (const name of Object.keys(layer)) {
        if (strict && name !== "all" && !(name in result)) {
            throw new InputError(`${source}: unknown policy ${JSON.stringify(name)} (the pack has: ${Object.keys(result).sort().join(", ")})`);
        }
    }
    const all = layer.all?.enforcementLevel;
    if (all !== undefined) for (const entry of Object.values(result)) entry.enforcementLevel = all;
    for (const [name, given] of Object.entries(layer)) {
        const entry = result[name];
        if (name === "all" || entry === undefined) continue;
        if (given.enforcementLevel !== undefined) entry.enforcementLevel = given.enforcementLevel;
        Object.assign(entry.properties, structuredClone(given.properties));
    }
}

/**
 * The reconciled config, one entry per policy. `initial` is the pack's initial config as GetAnalyzerInfo reports
 * it (the engine reads a level from every entry there, ADVISORY when the pack set only properties); `user` is
 * the parsed `--config` file. Throws InputError for an unknown policy or a value the schema rejects.
 */
export function reconcileConfig(policies: PolicyInfo[], initial: ConfigLayer, user: ConfigLayer, userSource = "--config"): Record<string, PolicyConfig> {
    const result = defaultConfig(policies);
    applyLayer(result, initial, "the pack's initial config", false);
    applyLayer(result, user, userSource, true);
    const problems: string[] = [];
    for (const policy of policies) {
        if (!policy.configSchema) continue;
        const schema = { type: "object", properties: policy.configSchema.properties, required: policy.configSchema.required };
        for (const problem of validate(schema, result[policy.name].properties, "")) problems.push(`${policy.name}: ${problem}`);
    }
    if (problems.length > 0) throw new InputError(`invalid policy config: ${problems.join("; ")}`);
    return result;
}

function typeOf(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

function matchesType(value: unknown, type: unknown): boolean {
    const actual = typeOf(value);
    const accepts = (t: unknown) => t === actual || (t === "number" && actual === "integer");
    return Array.isArray(type) ? type.some(accepts) : accepts(type);
}

/**
 * The JSON Schema keywords policy config schemas use: type, enum, const, required, properties,
 * additionalProperties (false or a schema), items, minimum/maximum, minLength/maxLength, minItems/maxItems,
 * pattern. Unknown keywords are ignored. Returns one message per problem.
 */
export function validate(schema: JsonSchema, value: unknown, at: string): string[] {
    const where = at === "" ? "" : `${at}: `;
    const problems: string[] = [];
    if (schema.type !== undefined && !matchesType(value, schema.type)) {
        return [`${where}expected ${Array.isArray(schema.type) ? schema.type.join(" or ") : String(schema.type)}, got ${typeOf(value)}`];
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
        problems.push(`${where}must be one of ${schema.enum.map((option) => JSON.stringify(option)).join(", ")}`);
    }
    if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) problems.push(`${where}must be ${JSON.stringify(schema.const)}`);
    if (typeof value === "number") {
        if (typeof schema.minimum === "number" && value < schema.minimum) problems.push(`${where}must be >= ${schema.minimum}`);
        if (typeof schema.maximum === "number" && value > schema.maximum) problems.push(`${where}must be <= ${schema.maximum}`);
    }
    if (typeof value === "string") {
        if (typeof schema.minLength === "number" && value.length < schema.minLength) problems.push(`${where}must be at least ${schema.minLength} characters`);
        if (typeof schema.maxLength === "number" && value.length > schema.maxLength) problems.push(`${where}must be at most ${schema.maxLength} characters`);
        if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value)) problems.push(`${where}must match ${schema.pattern}`);
    }
    if (Array.isArray(value)) {
        if (typeof schema.minItems === "number" && value.length < schema.minItems) problems.push(`${where}must have at least ${schema.minItems} items`);
        if (typeof schema.maxItems === "number" && value.length > schema.maxItems) problems.push(`${where}must have at most ${schema.maxItems} items`);
        if (isObject(schema.items)) {
            const items = schema.items;
            value.forEach((item, i) => problems.push(...validate(items, item, `${at}[${i}]`)));
        }
    }
    if (isObject(value)) {
        const properties = isObject(schema.properties) ? schema.properties : {};
        for (const key of Array.isArray(schema.required) ? schema.required : []) {
            if (typeof key === "string" && !(key in value)) problems.push(`${at === "" ? "" : `${at}.`}${key} is required`);
        }
        for (const [key, member] of Object.entries(value)) {
            const path = at === "" ? key : `${at}.${key}`;
            const sub = properties[key];
            if (isObject(sub)) problems.push(...validate(sub, member, path));
            else if (schema.additionalProperties === false) problems.push(`${path} is not allowed`);
            else if (isObject(schema.additionalProperties)) problems.push(...validate(schema.additionalProperties, member, path));
        }
    }
    return problems;
}
