/**
 * `npm run -s stack:resources -- --stack NAME`
 *
 * Runs the real program (the project's `main`, here `index.ts`) under the project's Pulumi mocks
 * (`scripts/lib/mock-program.ts`, the same ones the tests use) with the config of `Pulumi.NAME.yaml`, as a preview,
 * and prints every registered resource as ONE JSON array on stdout, in registration order:
 *
 *   {"type","name","urn","parent","props","dependencies","propertyDependencies","provider"}
 *
 * - `urn` as the mock monitor builds it: `urn:pulumi:<stack>::<project>::<qualified type chain>::<name>`.
 * - The root `pulumi:pulumi:Stack` resource (`<project>-<stack>`) is the first record; its `parent` is "".
 *   It is the parent of the top-level components.
 * - `props`: the inputs as the SDK sent them in the registerResource request (what the engine hands the
 *   analyzer's Analyze), as plain JSON: secrets are replaced by their plain value (policies see plain values
 *   too: @pulumi/policy unwraps them); assets and archives stay in their wire form (an object whose key
 *   `4dabf18193072939515e22adb298388d` is the asset or archive signature, with `text`/`path`/`uri`/`assets` as
 *   the SDK sent them, e.g. each Lambda's bundled `index.js` as text: ~2.4 MB per function); resource
 *   references become the referenced id, or its urn when the id is unknown; top-level `__` keys are dropped;
 *   unknown values (none under mocks) would stay as the engine's placeholder
 *   `04da6b54-80e4-46f7-96ec-b56ff0331ba9`.
 * - `dependencies`: every URN the request named (explicit `dependsOn` and the resources its inputs came from).
 * - `propertyDependencies`: `{input: [urn, ...]}` for inputs that came from other resources (empty lists
 *   omitted, as the engine's AnalyzeStack does).
 * - `provider`: for custom resources, the provider reference `<provider urn>::<provider id>`. The SDK leaves it
 *   empty when the default provider applies; the engine then registers `pulumi:providers:<package>` named
 *   `default_<version, . and - as _>` (no parent) with the package's `<package>:*` stack config and the
 *   version as inputs. This command does the same: such a provider record is emitted just before the first
 *   resource that uses it, with the id a preview gives a provider it has not created,
 *   `04da6b54-80e4-46f7-96ec-b56ff0331ba9`. Component resources, the stack and providers have `provider` "".
 *
 * The project is the current directory (as for the pulumi CLI; `npm run` runs in the repository root).
 * Exit 0 on success; 1 when a registration failed (e.g. `Mock not implemented: <type>`, or a resource over an AWS size
 * quota, core/quotas.ts), the stack breaks a quota counted across resources (`quotaProblems()`), or the program threw;
 * 2 with one line on stderr and nothing on stdout for bad input (no or unknown `--stack`, unknown option, a
 * config error from `parseDfirConfig`, an encrypted config value). Anything the SDK logs goes to stderr.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { readProject, readStackConfig, stackFile } from "./lib/stack-config";

const COMMAND = "stack:resources";
/** What the engine sends for a value not known during a preview (and the id of a provider not yet created). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";

/** One record of the output. */
export interface StackResource {
    type: string;
    name: string;
    urn: string;
    parent: string;
    props: Record<string, unknown>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    provider: string;
}

class InputError extends Error {}

function parseCommandLine(argv: string[]): string {
    let values;
    try {
        ({ values } = parseArgs({ args: argv, options: { stack: { type: "string" } }, strict: true, allowPositionals: false }));
    } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split(/\n|\. /)[0].replace(/\.$/, "");
        throw new InputError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    const stack = values.stack;
    if (stack === undefined) throw new InputError("no --stack given (usage: stack:resources -- --stack NAME)");
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new InputError(`bad stack name ${JSON.stringify(stack)}`);
    return stack;
}

/** The stack's config as the CLI hands it to the program; keys without a namespace belong to the project. */
function loadConfig(dir: string, project: string, stack: string): Record<string, string> {
    const file = stackFile(dir, stack);
    if (!fs.existsSync(file)) {
        const known = fs.readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s) => s !== undefined).sort();
        throw new InputError(`no stack ${stack}: ${path.basename(file)} not found (stacks: ${known.join(", ") || "none"})`);
    }
    let raw: Record<string, string>;
    try {
        raw = readStackConfig(file);
    } catch (error) {
        throw new InputError(`${path.basename(file)}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
    }
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(raw)) {
        const full = key.includes(":") ? key : `${project}:${key}`;
        if (/^\{"secure":/.test(value)) throw new InputError(`config ${full} is encrypted (secure): ${COMMAND} cannot decrypt stack secrets`);
        config[full] = value;
    }
    return config;
}

/** Inputs in wire form -> plain JSON the way the analyzer receives them. */
function plain(value: unknown, ids: ReadonlyMap<string, string>): unknown {
    if (Array.isArray(value)) return value.map((v) => plain(v, ids));
    if (value === null || typeof value !== "object") return value;
    const object = value as Record<string, unknown>;
    if (object[SIG_KEY] === SECRET_SIG) return plain(object.value, ids);
    if (object[SIG_KEY] === RESOURCE_SIG) {
        const urn = String(object.urn);
        const id = typeof object.id === "string" && object.id !== "" ? object.id : ids.get(urn);
        return id && id !== UNKNOWN ? id : urn;
    }
    // Assets and archives keep their wire form, without the SDK's own `__pulumiAsset`/`__pulumiArchive` markers.
    const signed = typeof object[SIG_KEY] === "string";
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) {
        if (!(signed && k.startsWith("__"))) out[k] = plain(v, ids);
    }
    return out;
}

/** The engine's name for the default provider of a package version. */
function defaultProviderName(version: string): string {
    return version ? `default_${version.replace(/[.+-]/g, "_")}` : "default";
}

async function run(argv: string[]): Promise<StackResource[]> {
    const stack = parseCommandLine(argv);
    const dir = process.cwd();
    let project;
    try {
        project = readProject(dir);
    } catch (error) {
        throw new InputError(`no Pulumi project here: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`);
    }
    const config = loadConfig(dir, project.name, stack);
    const region = config["aws:region"];
    if (!region) throw new InputError(`${path.basename(stackFile(dir, stack))} sets no aws:region`);

    // The program's own check, before anything is registered: a bad dfir: key is bad input, not a failure.
    const { dfirKeys, parseDfirConfig } = await import("../core/config");
    const { checkDefaultProvidersDisabled } = await import("../core/plan");
    try {
        parseDfirConfig(dfirKeys(config));
        checkDefaultProvidersDisabled(config);
    } catch (error) {
        throw new InputError((error instanceof Error ? error.message : String(error)).split("\n")[0]);
    }

    const { installMocks } = await import("./lib/mock-program");
    const pulumi = await import("@pulumi/pulumi");
    const program = installMocks({ project: project.name, stack, region, preview: true });
    pulumi.runtime.setAllConfig(config);
    const main = path.resolve(dir, project.main);
    // The root stack resource, exactly as the language host runs a program: its exports become stack outputs; an
    // exported function (the program's async entry point) is called and its result awaited.
    // A refused registration also rejects the program and every output built on it (some of them unhandled, which
    // would end the process first): keep the first rejection, report the refused registration.
    let programError: unknown;
    process.on("unhandledRejection", (error: unknown) => {
        programError ??= error;
    });
    await pulumi.runtime.runInPulumiStack(async () => {
        const exported = require(main);
        const entry = exported && Object.getOwnPropertyDescriptor(exported, "default") !== undefined ? exported.default : exported;
        return entry instanceof Function ? entry() : entry;
    }).catch((error: unknown) => {
        programError = error;
    });
    await program.settle();

    const failed = program.registrations.filter((r) => r.error !== undefined || r.urn === undefined);
    if (failed.length > 0) {
        throw new Error(`${failed.length} registration(s) failed, first ${failed[0].type} ${failed[0].name}: ${failed[0].error ?? "no answer"}`);
    }
    // Quotas counted across resources (core/quotas.ts, e.g. all inline policies of one role): AWS would refuse the stack.
    const overQuota = program.quotaProblems();
    if (overQuota.length > 0) throw new Error(`${overQuota.length} AWS quota problem(s), first ${overQuota[0].message}`);
    if (programError !== undefined) throw programError;

    const ids = new Map(program.registrations.map((r) => [r.urn as string, r.id ?? ""]));
    const resources: StackResource[] = [];
    const providers = new Set<string>();
    for (const r of program.registrations) {
        let provider = "";
        if (r.custom && !r.type.startsWith("pulumi:providers:")) {
            provider = r.provider;
            if (!provider) {
                const pkg = r.type.split(":")[0];
                const name = defaultProviderName(r.version);
                const urn = `urn:pulumi:${stack}::${project.name}::pulumi:providers:${pkg}::${name}`;
                provider = `${urn}::${UNKNOWN}`;
                if (!providers.has(urn)) {
                    providers.add(urn);
                    const props: Record<string, unknown> = {};
                    for (const [key, value] of Object.entries(config)) {
                        if (key.startsWith(`${pkg}:`)) props[key.slice(pkg.length + 1)] = value;
                    }
                    if (r.version) props.version = r.version;
                    resources.push({ type: `pulumi:providers:${pkg}`, name, urn, parent: "", props, dependencies: [], propertyDependencies: {}, provider: "" });
                }
            }
        }
        const props: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(r.object)) {
            if (!key.startsWith("__")) props[key] = plain(value, ids);
        }
        const propertyDependencies: Record<string, string[]> = {};
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            if (urns.length > 0) propertyDependencies[key] = urns;
        }
        resources.push({
            type: r.type,
            name: r.name,
            urn: r.urn as string,
            parent: r.parent,
            props,
            dependencies: r.dependencies,
            propertyDependencies,
            provider,
        });
    }
    return resources;
}

function main(): void {
    // Only the JSON goes to stdout: the SDK logs info/debug with console.log when no engine is attached.
    const toStderr = (...args: unknown[]) => console.error(...args);
    console.log = toStderr;
    console.info = toStderr;
    console.debug = toStderr;
    run(process.argv.slice(2)).then(
        (resources) => {
            process.stdout.write(`${JSON.stringify(resources)}\n`, () => process.exit(0));
        },
        (error: unknown) => {
            const message = (error instanceof Error ? error.message : String(error)).split("\n")[0];
            process.stderr.write(`${COMMAND}: ${message}\n`, () => process.exit(error instanceof InputError ? 2 : 1));
        },
    );
}

if (require.main === module) main();
