/**
 * `npm run -s drill -- --finding FILE [--json] [--volumes N] [--interfaces N] [--latency-ms N] [--repeat N] [--scenario NAME] [--state DIR] [--logs]`
 *
 * Runs the deployed state machine definition in an ASL interpreter against a simulated account seeded from
 * the finding (ARCHITECTURE.md: command contracts). Prints a timeline, or with --json one report object.
 * Exit 0 when the response ended SUCCEEDED, PARTIAL or IGNORED; 1 when it ended FAILED; 2 on bad input
 * (one line on stderr, nothing on stdout). `--logs` copies the functions' structured log lines to stderr.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { InputError, parseEvents, readInput } from "../core/events";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { parseScenario } from "../drill/scenarios";
import { SimulatedAccount, SimulationSeedError } from "../drill/sim";
import { formatTimeline } from "../drill/timeline";

export interface DrillCommand {
    options: DrillOptions;
    json: boolean;
    stateDir?: string;
}

function wholeNumber(raw: string | undefined, flag: string, min: number, max: number): number | undefined {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new InputError(`${flag} needs a whole number from ${min} to ${max}`);
    return n;
}

/** Parse the command line and read the finding; every problem is a one-line InputError. */
export function parseDrillCommand(argv: string[], read: (file: string) => string): DrillCommand {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            options: {
                finding: { type: "string" },
                json: { type: "boolean" },
                volumes: { type: "string" },
                interfaces: { type: "string" },
                "latency-ms": { type: "string" },
                repeat: { type: "string" },
                scenario: { type: "string" },
                state: { type: "string" },
                logs: { type: "boolean" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split(/\n|\. /)[0].replace(/\.$/, "");
        throw new InputError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    if (!values.finding) throw new InputError("--finding FILE is required (usage: drill --finding FILE [--json] [--volumes N] [--interfaces N] [--latency-ms N] [--repeat N] [--scenario NAME] [--state DIR])");
    const events = parseEvents(readInput(read, values.finding), values.finding);
    if (events.length !== 1) throw new InputError(`${values.finding}: holds ${events.length} events; the drill takes exactly one`);
    let scenario;
    try {
        scenario = parseScenario(values.scenario);
    } catch (error) {
        throw new InputError((error as Error).message);
    }
    const options: DrillOptions = {
        finding: events[0],
        volumes: wholeNumber(values.volumes, "--volumes", 1, 16) ?? 2,
        interfaces: wholeNumber(values.interfaces, "--interfaces", 1, 15),
        latencyMs: wholeNumber(values["latency-ms"], "--latency-ms", 0, 5000) ?? 0,
        repeat: wholeNumber(values.repeat, "--repeat", 1, 100) ?? 1,
        ...(scenario ? { scenario } : {}),
        ...(values.logs ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    };
    return { options, json: values.json === true, ...(values.state ? { stateDir: values.state } : {}) };
}

/** A kept simulated account; a damaged or foreign state file is bad input, named in one line. */
function loadKeptAccount(dir: string): SimulatedAccount {
    try {
        return SimulatedAccount.loadState(dir);
    } catch (error) {
        throw new InputError(`cannot load the simulated account from ${path.join(dir, "state.json")}: ${(error as Error).message.split("\n")[0]}`);
    }
}

async function main(): Promise<number> {
    let command: DrillCommand;
    try {
        command = parseDrillCommand(process.argv.slice(2), (file) => fs.readFileSync(file, "utf8"));
        if (command.stateDir && fs.existsSync(path.join(command.stateDir, "state.json"))) {
            command.options.sim = loadKeptAccount(command.stateDir);
        } else if (command.stateDir) {
            // Seeded here (not inside runDrill) so this very account can be saved; a finding that names no
            // instance seeds nothing and the drill reports it ignored.
            try {
                command.options.sim = seedAccount(command.options);
            } catch (error) {
                if (!(error instanceof SimulationSeedError)) throw error;
            }
        }
    } catch (error) {
        if (!(error instanceof InputError)) throw error;
        process.stderr.write(`drill: ${(error as Error).message.replace(/\s*\n\s*/g, " ")}\n`);
        return 2;
    }
    let report;
    try {
        report = await runDrill(command.options);
    } catch (error) {
        if (!(error instanceof SimulationSeedError)) throw error;
        process.stderr.write(`drill: ${error.message.replace(/\s*\n\s*/g, " ")}\n`);
        return 2;
    }
    if (command.stateDir && command.options.sim) command.options.sim.saveState(command.stateDir);
    process.stdout.write(command.json ? `${JSON.stringify(report)}\n` : formatTimeline(report));
    return report.status === "FAILED" ? 1 : 0;
}

if (require.main === module) {
    main().then((code) => {
        process.exitCode = code;
    });
}
