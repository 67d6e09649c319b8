/**
 * Reading a Pulumi project the way the CLI hands it to a program: the project file, and a stack's `config:` map
 * with every value a string (objects and lists as JSON). Used by `npm run stack:resources` and the tests.
 * Kept free of the Pulumi SDK so commands can reject bad input before loading it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";

/** The parsed `Pulumi.yaml` of a project directory. */
export interface ProjectFile {
    name: string;
    /** The program's path relative to the project directory (Pulumi's `main`), "." by default. */
    main: string;
}

export function readProject(dir: string): ProjectFile {
    const doc = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as { name?: unknown; main?: unknown } | undefined;
    if (!doc || typeof doc.name !== "string" || doc.name === "") throw new Error(`${path.join(dir, "Pulumi.yaml")} has no project name`);
    return { name: doc.name, main: typeof doc.main === "string" && doc.main !== "" ? doc.main : "." };
}

/** The path of a stack's settings file in a project directory. */
export function stackFile(dir: string, stack: string): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

/** A stack file's `config:` map as Pulumi hands it to a program: every value a string, objects as JSON. */
export function readStackConfig(file: string): Record<string, string> {
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null | undefined;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}
