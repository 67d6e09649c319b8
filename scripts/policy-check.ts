/**
 * `npm run -s policy:check [-- --resources FILE] [--json] [--config FILE] [--stack NAME] [--pack DIR]
 *  [--timings] [--concurrency N] [--startup-timeout SECONDS]`
 *
 * Runs the policy pack (default `policy/`) the way the Pulumi engine runs it during a preview, over the Analyzer
 * gRPC protocol (see scripts/lib/analyzer/check.ts), on:
 * - with `--resources FILE`: that JSON array (the `stack:resources` format; `urn`, `parent`, dependencies
 *   optional). Stack facts come from `--stack NAME` (Pulumi.yaml + Pulumi.NAME.yaml) if given, else from the
 *   file's first URN, else "adhoc";
 * - without: every `Pulumi.*.yaml` stack (or just `--stack NAME`), its resources from `stack:resources`.
 * `--config FILE` is a `--policy-pack-config` file: `{"all": level, "<policy>": level | {enforcementLevel?, ...}}`.
 *
 * Output: a readable report ending `N resources, N policies, N mandatory violations, N advisory`; with `--json`
 * one line per violation `{"policy","urn","name","enforcementLevel","message"}`. `--timings` prints each
 * stack's phase timings on stderr. Exit 0 when no violation is mandatory, 1 when one is (or the check could not
 * complete), 2 on bad input (bad flag, malformed resources or config file, unknown policy in --config, a pack
 * that fails to start) with one line on stderr and nothing on stdout.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CheckError, runCheck, type CheckResult } from "./lib/analyzer/check";
import { parsePolicyPackConfig, type ConfigLayer } from "./lib/analyzer/config";
import { PackStartError, resolvePack } from "./lib/analyzer/pack";
import { exitCodeOf, humanReport, jsonLines, timingLine } from "./lib/analyzer/report";
import { inferStackFacts, InputError, normalizeResources, type Resource } from "./lib/analyzer/resources";
import { adhocContext, listStacks, readProject, readStackContext, runStackResources, type StackContext } from "./lib/analyzer/stack";

export const REPO = path.resolve(__dirname, "..");

export interface CliResult {
    exitCode: 0 | 1 | 2;
    stdout: string;
    stderr: string;
}

export interface PolicyCheckOptions {
    /** Project directory (Pulumi.yaml, Pulumi.*.yaml, scripts/stack-resources.ts). */
    projectDir?: string;
    packDir?: string;
    /** A resources file's path; without it every stack's resources come from stack:resources. */
    resourcesFile?: string;
    /** Already-parsed resources (instead of a file); `source` names them in errors. */
    resources?: { raw: unknown; source: string };
    stack?: string;
    configFile?: string;
    config?: ConfigLayer;
    concurrency?: number;
    startupTimeoutMs?: number;
    env?: NodeJS.ProcessEnv;
}

function readText(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new InputError(`${file}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (error as Error).message}`);
    }
}

function parseJson(text: string, source: string): unknown {
    try {
        return JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
        throw new InputError(`${source}: malformed JSON (${error instanceof Error ? error.message : String(error)})`);
    }
}

/**
 * The whole check, as a function: every input is read and validated (and every stack's resources produced)
 * before the first pack starts. Throws InputError / PackStartError (exit 2) or CheckError (exit 1).
 */
export async function policyCheck(options: PolicyCheckOptions = {}): Promise<CheckResult[]> {
    const projectDir = options.projectDir ?? REPO;
    const packDir = options.packDir ?? path.join(projectDir, "policy");
    resolvePack(packDir); // fail fast (exit 2) before producing any stack's resources
    const configSource = options.configFile ?? "--config";
    const userConfig = options.config ?? (options.configFile ? parsePolicyPackConfig(readText(options.configFile), options.configFile) : {});

    const runs: { context: StackContext; resources: Resource[] }[] = [];
    const given = options.resources ?? (options.resourcesFile ? { raw: parseJson(readText(options.resourcesFile), options.resourcesFile), source: options.resourcesFile } : undefined);
    if (given) {
        const facts = inferStackFacts(given.raw);
        const project = safeProject(projectDir);
        const context = options.stack ? readStackContext(projectDir, options.stack) : adhocContext(facts, project?.name === facts.project ? project : undefined);
        runs.push({ context, resources: normalizeResources(given.raw, given.source, context) });
    } else {
        const stacks = options.stack ? [options.stack] : listStacks(projectDir);
        if (stacks.length === 0) throw new InputError(`no Pulumi.*.yaml stack in ${projectDir}`);
        for (const stack of stacks) {
            const context = readStackContext(projectDir, stack);
            const source = `stack:resources --stack ${stack}`;
            const raw = parseJson(await runStackResources(projectDir, stack), source);
            runs.push({ context, resources: normalizeResources(raw, source, context) });
        }
    }

    const results: CheckResult[] = [];
    for (const run of runs) {
        results.push(
            await runCheck({
                packDir,
                resources: run.resources,
                context: run.context,
                userConfig,
                userConfigSource: configSource,
                concurrency: options.concurrency,
                startupTimeoutMs: options.startupTimeoutMs,
                env: options.env,
            }),
        );
    }
    return results;
}

function safeProject(dir: string) {
    try {
        return readProject(dir);
    } catch {
        return undefined;
    }
}

function positiveInteger(raw: string | undefined, flag: string): number | undefined {
    if (raw === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(raw)) throw new InputError(`${flag} needs a positive whole number`);
    return Number(raw);
}

export async function runPolicyCheckCli(argv: string[], base: PolicyCheckOptions = {}): Promise<CliResult> {
    try {
        let parsed;
        try {
            parsed = parseArgs({
                args: argv,
                options: {
                    resources: { type: "string" },
                    json: { type: "boolean" },
                    config: { type: "string" },
                    stack: { type: "string" },
                    pack: { type: "string" },
                    timings: { type: "boolean" },
                    concurrency: { type: "string" },
                    "startup-timeout": { type: "string" },
                },
                allowPositionals: false,
                strict: true,
            });
        } catch (error) {
            const first = (error instanceof Error ? error.message : String(error)).split(/\n|\. /)[0].replace(/\.$/, "");
            throw new InputError(first.charAt(0).toLowerCase() + first.slice(1));
        }
        const { values } = parsed;
        const startupSeconds = positiveInteger(values["startup-timeout"], "--startup-timeout");
        const results = await policyCheck({
            ...base,
            ...(values.resources !== undefined ? { resourcesFile: values.resources } : {}),
            ...(values.config !== undefined ? { configFile: values.config } : {}),
            ...(values.stack !== undefined ? { stack: values.stack } : {}),
            ...(values.pack !== undefined ? { packDir: path.resolve(values.pack) } : {}),
            ...(values.concurrency !== undefined ? { concurrency: positiveInteger(values.concurrency, "--concurrency") } : {}),
            ...(startupSeconds !== undefined ? { startupTimeoutMs: startupSeconds * 1000 } : {}),
        });
        return {
            exitCode: exitCodeOf(results),
            stdout: values.json ? jsonLines(results) : humanReport(results),
            stderr: values.timings ? results.map((result) => timingLine(result.stack, result.timings)).join("") : "",
        };
    } catch (error) {
        const oneLine = (message: string) => message.replace(/\s*\n\s*/g, " ");
        if (error instanceof InputError || error instanceof PackStartError) {
            return { exitCode: 2, stdout: "", stderr: `policy:check: ${oneLine(error.message)}\n` };
        }
        if (error instanceof CheckError) return { exitCode: 1, stdout: "", stderr: `policy:check: ${oneLine(error.message)}\n` };
        throw error;
    }
}

if (require.main === module) {
    runPolicyCheckCli(process.argv.slice(2)).then(
        (result) => {
            process.stdout.write(result.stdout);
            process.stderr.write(result.stderr);
            process.exitCode = result.exitCode;
        },
        (error: unknown) => {
            process.stderr.write(`policy:check: internal error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
