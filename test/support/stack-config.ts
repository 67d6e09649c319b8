import * as path from "node:path";
import { readStackConfig, stackFile } from "../../scripts/lib/stack-config";
import { dfirKeys, parseDfirConfig, type MultiAccountStackConfig } from "../../core/config";

export const REPO = path.resolve(__dirname, "..", "..");

/** A stack file's `config:` map as Pulumi hands it to a program: every value a string, objects as JSON. */
export function stackConfig(stack: string): Record<string, string> {
    return readStackConfig(stackFile(REPO, stack));
}

/**
 * The prod example's multi-account config with some dfir: keys replaced or (undefined) removed, values as Pulumi
 * hands them (objects as JSON strings), parsed by the program's own parser.
 */
export function prodWith(overrides: Record<string, unknown> = {}): MultiAccountStackConfig {
    const raw: Record<string, unknown> = dfirKeys(stackConfig("prod"));
    for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete raw[k];
        else raw[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const config = parseDfirConfig(raw);
    if (!config.multiAccount) throw new Error("Pulumi.prod.yaml is not a multi-account stack");
    return config;
}
