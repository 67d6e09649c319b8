/**
 * Property values the way the engine puts them on the wire to an analyzer: `MarshalProperties` with
 * `KeepUnknowns`, `KeepSecrets` and (for Analyze/AnalyzeStack, not Remediate) `SkipInternalKeys`, before
 * `Struct.fromJavaScript`. Pure: no gRPC, no protobuf.
 *
 * Conventions of a resources file (the same as the wire, so the output of `stack:resources` passes through):
 * - a secret is `{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": V}`;
 * - an unknown (a value only known after the update) is one of the SDK's sentinel strings, e.g.
 *   `"04da6b54-80e4-46f7-96ec-b56ff0331ba9"` for a string (`UNKNOWN` below); policies that read one get an
 *   advisory "can't run policy ... during preview" — inconclusive, not a pass;
 * - assets and archives keep their signature objects;
 * - a resource reference `{sig: "5cf8f…", urn, id?}` becomes its id when known, else its urn;
 * - an output value `{sig: "d0e6a…", value?, secret?}` becomes its value (a secret if marked), or an unknown.
 */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** The unknown sentinel the engine sends for a computed value (string-typed, as almost all are). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Every typed unknown sentinel the policy SDK recognises (boolean, number, string, array, asset, archive, object). */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    UNKNOWN,
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** A JSON value as google.protobuf.Struct carries it. */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

export class WireError extends Error {}

export function secret(value: Wire): Wire {
    return { [SIG_KEY]: SECRET_SIG, value };
}

export function isSecret(value: unknown): value is { value: Wire } {
    return isPlainObject(value) && value[SIG_KEY] === SECRET_SIG;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * One property value in wire form. `at` names the value in errors. `undefined` members of objects are dropped
 * (the engine treats them as absent); `undefined` in arrays becomes null; non-finite numbers are rejected (a
 * Struct cannot carry them).
 */
export function marshalValue(value: unknown, at: string): Wire {
    if (value === null || typeof value === "boolean" || typeof value === "string") return value;
    if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new WireError(`${at}: ${value} is not a JSON number`);
        return value;
    }
    if (Array.isArray(value)) return value.map((item, i) => (item === undefined ? null : marshalValue(item, `${at}[${i}]`)));
    if (!isPlainObject(value)) throw new WireError(`${at}: a ${typeof value} is not a property value`);
    const sig = value[SIG_KEY];
    if (sig !== undefined) {
        switch (sig) {
            case SECRET_SIG: {
                const inner = value.value === undefined ? null : marshalValue(value.value, `${at}.value`);
                // A secret of a secret is one secret, as in the engine's property model.
                return isSecret(inner) ? inner : secret(inner);
            }
            case ASSET_SIG:
            case ARCHIVE_SIG:
                return marshalObject(value, at);
            case RESOURCE_SIG: {
                const id = value.id;
                if (typeof id === "string" && id !== "") return id;
                if (typeof value.urn === "string" && value.urn !== "") return value.urn;
                throw new WireError(`${at}: a resource reference needs a urn`);
            }
            case OUTPUT_SIG: {
                let inner: Wire = value.value === undefined ? UNKNOWN : marshalValue(value.value, `${at}.value`);
                if (value.secret === true && !isSecret(inner)) inner = secret(inner);
                return inner;
            }
            default:
                throw new WireError(`${at}: unrecognized signature ${JSON.stringify(sig)}`);
        }
    }
    return marshalObject(value, at);
}

function marshalObject(value: Record<string, unknown>, at: string): { [key: string]: Wire } {
    const out: { [key: string]: Wire } = {};
    for (const [key, member] of Object.entries(value)) {
        if (member !== undefined) out[key] = marshalValue(member, `${at}.${key}`);
    }
    return out;
}

/**
 * A resource's property map in wire form. `skipInternalKeys` drops top-level keys starting with `__` (what the
 * engine does for Analyze, AnalyzeStack and the provider's inputs; Remediate keeps them).
 */
export function marshalProperties(props: Record<string, unknown>, options: { skipInternalKeys: boolean }, at = "props"): { [key: string]: Wire } {
    const out: { [key: string]: Wire } = {};
    for (const [key, member] of Object.entries(props)) {
        if (member === undefined) continue;
        if (options.skipInternalKeys && key.startsWith("__")) continue;
        out[key] = marshalValue(member, `${at}.${key}`);
    }
    return out;
}
