/**
 * The settings a function's code carries beside its handler (core/workflow.ts SETTINGS_FILE): read once per
 * execution environment (a deployment changes the code, hence the environment), merged under the environment.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { FILE_SETTINGS, SETTINGS_FILE } from "../../core/workflow";
import { ConfigurationError } from "./errors";

const cache = new Map<string, Record<string, string>>();

/**
 * The file's variables in `dir` (default: the function's code directory, LAMBDA_TASK_ROOT): {} when there is no file
 * (the drill, or a function deployed without one). A file that is not a JSON object of strings is a
 * {@link ConfigurationError} naming it.
 */
export function fileSettings(dir: string | undefined = process.env.LAMBDA_TASK_ROOT): Record<string, string> {
    if (dir === undefined || dir === "") return {};
    const file = path.join(dir, SETTINGS_FILE);
    const known = cache.get(file);
    if (known) return known;
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
        throw new ConfigurationError(SETTINGS_FILE, `(the file beside the handler) cannot be read: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new ConfigurationError(SETTINGS_FILE, "(the file beside the handler) is not JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
        throw new ConfigurationError(SETTINGS_FILE, "(the file beside the handler) is not a JSON object of strings");
    }
    // Only the variables that belong there: anything else in the file must not act as an unset variable.
    const settings = Object.fromEntries(Object.entries(parsed as Record<string, string>).filter(([k]) => (FILE_SETTINGS as readonly string[]).includes(k)));
    cache.set(file, settings);
    return settings;
}

/** The environment with the file's variables under it: a variable that is set wins. */
export function withFileSettings(env: NodeJS.ProcessEnv, dir?: string): NodeJS.ProcessEnv {
    return { ...fileSettings(dir ?? env.LAMBDA_TASK_ROOT), ...env };
}
