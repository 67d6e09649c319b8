/**
 * What the engine knows about the stack a pack analyzes: project and stack names, the stack's config (every
 * value a string, as `PULUMI_CONFIG` carries it), the stack tags; and where the resources come from when no
 * `--resources` file is given (`stack:resources` per `Pulumi.<stack>.yaml`).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { InputError, type StackFacts } from "./resources";
import { TS_REGISTER } from "../tsRegister";

export interface StackContext extends StackFacts {
    organization?: string;
    /** `PULUMI_CONFIG` / ConfigureStack config: `"<namespace>:<key>"` -> string. */
    config: Record<string, string>;
    /** Keys whose values are secrets (`secure:` values are listed here and left out of `config`: no key to decrypt). */
    configSecretKeys: string[];
    tags: Record<string, string>;
    dryRun: boolean;
}

function loadYaml(file: string): unknown {
    try {
        return yaml.load(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new InputError(`${file}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
}

export interface Project {
    name: string;
    runtime: string;
    description?: string;
}

export function readProject(dir: string): Project {
    const doc = loadYaml(path.join(dir, "Pulumi.yaml")) as { name?: unknown; runtime?: unknown; description?: unknown } | null;
    if (!doc || typeof doc.name !== "string" || doc.name === "") throw new InputError(`${path.join(dir, "Pulumi.yaml")}: no project name`);
    const runtime = typeof doc.runtime === "string" ? doc.runtime : (doc.runtime as { name?: unknown } | undefined)?.name;
    return {
        name: doc.name,
        runtime: typeof runtime === "string" ? runtime : "nodejs",
        ...(typeof doc.description === "string" && doc.description !== "" ? { description: doc.description } : {}),
    };
}

/** The stacks of a project directory: the NAME of every `Pulumi.NAME.yaml`, sorted. */
export function listStacks(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/** The stack context the engine would pass for `stack` of the project in `dir` (a preview: dryRun). */
export function readStackContext(dir: string, stack: string): StackContext {
    const project = readProject(dir);
    const file = ["yaml", "yml"].map((ext) => path.join(dir, `Pulumi.${stack}.${ext}`)).find((candidate) => fs.existsSync(candidate));
    if (!file) throw new InputError(`no Pulumi.${stack}.yaml in ${dir}`);
    const doc = loadYaml(file) as { config?: Record<string, unknown> } | null;
    const config: Record<string, string> = {};
    const configSecretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(doc?.config ?? {})) {
        // A bare key belongs to the project's namespace, as in the CLI.
        const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
        if (typeof value === "object" && value !== null && "secure" in value) {
            configSecretKeys.push(key);
            continue;
        }
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return { ...adhocContext({ stack, project: project.name }, project), config, configSecretKeys };
}

/** A context with no stack file behind it (a `--resources` file without `--stack`). */
export function adhocContext(facts: StackFacts, project?: Project): StackContext {
    const tags: Record<string, string> = { "pulumi:project": facts.project, "pulumi:runtime": project?.runtime ?? "nodejs" };
    if (project?.description) tags["pulumi:description"] = project.description;
    return { stack: facts.stack, project: facts.project, config: {}, configSecretKeys: [], tags, dryRun: true };
}

/**
 * The environment the engine gives a Node.js pack (`constructEnv`): the caller's environment, plus the stack
 * facts, each set only when non-empty.
 */
export function packEnvironment(base: NodeJS.ProcessEnv, context: StackContext | undefined): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base, PULUMI_NODEJS_TYPESCRIPT: "true" };
    const set = (key: string, value: string | undefined) => {
        if (value !== undefined && value !== "") env[key] = value;
    };
    if (context) {
        set("PULUMI_CONFIG", JSON.stringify(context.config));
        for (const prefix of ["PULUMI_NODEJS_", "PULUMI_"]) {
            set(`${prefix}ORGANIZATION`, context.organization);
            set(`${prefix}PROJECT`, context.project);
            set(`${prefix}STACK`, context.stack);
            set(`${prefix}DRY_RUN`, String(context.dryRun));
        }
    }
    return env;
}

/**
 * `npm run -s stack:resources -- --stack NAME`, run directly (same node, same loader) from the project
 * directory. Resolves with its stdout; rejects with InputError carrying its last stderr line.
 */
export function runStackResources(dir: string, stack: string, nodePath = process.execPath): Promise<string> {
    const script = path.join(dir, "scripts", "stack-resources.ts");
    if (!fs.existsSync(script)) return Promise.reject(new InputError(`stack:resources is not available (${script} does not exist)`));
    return new Promise((resolve, reject) => {
        const child = spawn(nodePath, ["-r", TS_REGISTER, script, "--stack", stack], {
            cwd: dir,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", (error) => reject(new InputError(`stack:resources --stack ${stack} failed: ${error.message}`)));
        child.on("close", (code) => {
            if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
            const last = lastLine(Buffer.concat(err).toString("utf8")) ?? `exit code ${code}`;
            reject(new InputError(`stack:resources --stack ${stack} failed: ${last}`));
        });
    });
}

/**
 * The line of a process's stderr that says what went wrong: colour codes removed, the last "...Error: ..." line
 * if there is one (a crash's message, not its last stack frame or the closing brace of a dumped error object),
 * else the last line that is neither blank, a stack frame ("at ...") nor only punctuation.
 */
export function lastLine(text: string): string | undefined {
    const lines = text
        .replace(/\u001b\[[0-9;]*m/g, "")
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "" && !/^at\s/.test(line) && !/^[\s{}[\]()<>,;]*$/.test(line));
    const errors = lines.filter((line) => /^[A-Za-z]*Error\b/.test(line));
    return errors[errors.length - 1] ?? lines[lines.length - 1];
}
