import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

export const REPO = path.resolve(__dirname, "..", "..");

/** A stack file's `config:` map as Pulumi hands it to a program: every value a string, objects as JSON. */
export function stackConfig(stack: string): Record<string, string> {
    const file = path.join(REPO, `Pulumi.${stack}.yaml`);
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}
