/**
 * The project's stacks as the driver runs them: every `Pulumi.<name>.yaml` of the project directory (or the ones
 * named), each stack's config read the way the CLI hands it to the program, and its `dfir:` keys parsed with the
 * program's own `parseDfirConfig` (and planned, `planDeployment`) before anything runs. Any problem is a one-line `StacksInputError` (exit 2).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { dfirKeys, parseDfirConfig } from "../../../core/config";
import { checkOrganization } from "../../../core/organization";
import { checkDefaultProvidersDisabled, planDeployment } from "../../../core/plan";
import { readProject, readStackConfig, stackFile, type ProjectFile } from "../stack-config";
import type { StackSpec } from "./types";

/** Bad input: one line on stderr, exit 2, nothing run. */
export class StacksInputError extends Error {}

const SECURE = /^\{"secure":/;

/** The stack names of a project directory (its `Pulumi.<name>.yaml` files), sorted. */
export function projectStacks(dir: string): string[] {
    return fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

export function loadProject(dir: string): ProjectFile {
    try {
        return readProject(dir);
    } catch (error) {
        throw new StacksInputError(`no Pulumi project in ${dir}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
    }
}

/**
 * The stacks to run: `names` (each must have its file) or, when empty, every stack of the project; each one's
 * config parsed. `mock`: values the mocks cannot use (encrypted ones, no `aws:region`) are refused too.
 */
export function loadStacks(dir: string, project: ProjectFile, names: readonly string[], mock: boolean): StackSpec[] {
    const known = projectStacks(dir);
    const missing = names.find((n) => !known.includes(n));
    if (missing !== undefined) {
        throw new StacksInputError(`no stack ${missing}: ${path.basename(stackFile(dir, missing))} not found (stacks: ${known.join(", ") || "none"})`);
    }
    const chosen = names.length > 0 ? [...names] : known;
    if (chosen.length === 0) throw new StacksInputError(`no stacks: ${dir} has no Pulumi.<stack>.yaml`);
    return chosen.map((name) => loadStack(dir, project, name, mock));
}

function loadStack(dir: string, project: ProjectFile, name: string, mock: boolean): StackSpec {
    const file = stackFile(dir, name);
    const fail = (problem: string): never => {
        throw new StacksInputError(`stack ${name}: ${problem}`);
    };
    let raw: Record<string, string> = {};
    try {
        raw = readStackConfig(file);
    } catch (error) {
        fail(`${path.basename(file)}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
    }
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        // A dfir: value must be read before anything runs; an encrypted one cannot be (nor can the mocks use any).
        if (SECURE.test(value) && (mock || full.startsWith("dfir:"))) fail(`config ${full} is encrypted (secure): it cannot be read without the Pulumi CLI`);
        config[full] = value;
    }
    if (mock && !config["aws:region"]) fail(`${path.basename(file)} sets no aws:region`);
    let dfir;
    try {
        dfir = parseDfirConfig(dfirKeys(config));
        checkDefaultProvidersDisabled(config);
        // A multi-account stack's plan, as the program makes it (the checks across stacks plan it again).
        if (dfir.multiAccount) planDeployment(dfir);
    } catch (error) {
        fail((error instanceof Error ? error.message : String(error)).split("\n")[0]);
    }
    return { name, file, config, dfir: dfir as StackSpec["dfir"] };
}

/**
 * Problems across the stacks of one organization, each one line (core/organization.ts `checkOrganization`: an
 * (account, region) two stacks cover, two stacks with one shard in a hub region, an account whose MemberAccess no
 * stack or two stacks create, a missing trust, two organization configurations or bus policies in a hub region).
 */
export function organizationProblems(stacks: readonly StackSpec[], project?: string): string[] {
    return checkOrganization(stacks.map((s) => ({ name: s.name, config: s.dfir, ...(project !== undefined ? { project } : {}) })));
}
