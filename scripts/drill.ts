/**
 * `npm run -s drill -- [--finding FILE] [--json] [--volumes N] [--interfaces N] [--latency-ms N] [--repeat N [--concurrent]] [--scenario NAME] [--account ID] [--state DIR] [--workstation] [--logs]` | `--state DIR --tamper-block SNAPSHOT[:BLOCK[:OFFSET]]`
 *
 * Runs the deployed state machine definition in an ASL interpreter against a simulated account seeded from
 * the finding (ARCHITECTURE.md: command contracts); the FILE may also hold any other trigger's event (Security Hub
 * ASFF, credential exfiltration, tag change: the instance it names is seeded, `drill/run.ts` `seedFindingOf`). Without `--finding` it drills DEFAULT_FINDING, a real
 * GuardDuty finding of the repository's fixtures (said in one line on stderr, so that `--json` stays one object). Prints a timeline, or with --json one report object.
 * Exit 0 when the response ended SUCCEEDED, PARTIAL or IGNORED; 1 when it ended FAILED; 2 on bad input
 * (one line on stderr, nothing on stdout). `--logs` copies the functions' structured log lines to stderr.
 *
 * `--account ID` (12 digits): the finding is from account ID. The event delivered to the workflow says so
 * (`account`, `detail.accountId`, whatever the file said, redacted ids included), the instance lives in ID and
 * the functions run in the drill's hub account 210987654321 (DRILL_HUB_ACCOUNT). Any other ID is a member
 * account: the response goes through one AssumeRole of `arn:aws:iam::ID:role/dfir-responder` (as the
 * `cross-account` scenario, for that account), and with `--scenario cross-account-role-missing` the member has
 * no such role and the run ends FAILED, sealed in the hub with the role named. `--account 210987654321` is a
 * same-account response (no role assumed); it cannot go with `--scenario cross-account[-role-missing]` or
 * `copy-to-hub[-failed]` (a member's snapshots copied into the hub). Every other scenario works for a member
 * account. The timeline's `account:` line and the report's `account` object
 * say which account, the hub and the role assumed (or why not).
 *
 * `--state DIR` with `--account`: a kept world remembers the account it was seeded for. Reloaded without
 * `--account` it is used as it is (the event is delivered for its account again); with `--account` the kept
 * world's instance must be in that account with the drill's hub, else bad input (exit 2, one line), nothing
 * run and the directory left unchanged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { InputError, parseEvents, readInput } from "../core/events";
import { accountProblem, DRILL_HUB_ACCOUNT, keptAccountProblem, runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { parseScenario } from "../drill/scenarios";
import { SimulatedAccount, SimulationSeedError } from "../drill/sim";
import { formatTimeline } from "../drill/timeline";
import { DEFAULT_FINDING } from "./lib/fixtures";

/** The one-line usage. */
export const USAGE = `drill [--finding FILE] [--json] [--volumes N] [--interfaces N] [--latency-ms N] [--repeat N [--concurrent]] [--scenario NAME] [--account ID] [--state DIR] [--workstation] [--logs]; --account ID: the finding is from account ID (12 digits), handled from the hub ${DRILL_HUB_ACCOUNT} through arn:aws:iam::ID:role/dfir-responder, or same-account when ID is ${DRILL_HUB_ACCOUNT}`;

export interface DrillCommand {
    options: DrillOptions;
    /** The finding file drilled, and whether it was the default (no `--finding`). */
    findingFile: string;
    defaultFinding: boolean;
    json: boolean;
    stateDir?: string;
    /** `--tamper-block SNAPSHOT[:BLOCK[:OFFSET]]` (with `--state DIR`): change that byte of the kept simulated snapshot, run nothing. */
    tamper?: { snapshotId: string; block: number; offset: number };
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
                concurrent: { type: "boolean" },
                scenario: { type: "string" },
                account: { type: "string" },
                state: { type: "string" },
                workstation: { type: "boolean" },
                logs: { type: "boolean" },
                "tamper-block": { type: "string" },
            },
            strict: true,
            allowPositionals: false,
        }));
    } catch (error) {
        const first = (error instanceof Error ? error.message : String(error)).split(/\n|\. /)[0].replace(/\.$/, "");
        throw new InputError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    if (values.finding === "") throw new InputError(`--finding needs a FILE (usage: ${USAGE})`);
    const findingFile = values.finding ?? DEFAULT_FINDING;
    const events = parseEvents(readInput(read, findingFile), findingFile);
    if (events.length !== 1) throw new InputError(`${findingFile}: holds ${events.length} events; the drill takes exactly one`);
    let scenario;
    try {
        scenario = parseScenario(values.scenario);
    } catch (error) {
        throw new InputError((error as Error).message);
    }
    const accountError = accountProblem(values.account, scenario);
    if (accountError) throw new InputError(accountError);
    if (values.concurrent && values.repeat === undefined) throw new InputError("--concurrent applies only with --repeat N (the deliveries it runs at once)");
    const options: DrillOptions = {
        finding: events[0],
        volumes: wholeNumber(values.volumes, "--volumes", 1, 16) ?? 2,
        interfaces: wholeNumber(values.interfaces, "--interfaces", 1, 15),
        latencyMs: wholeNumber(values["latency-ms"], "--latency-ms", 0, 5000) ?? 0,
        repeat: wholeNumber(values.repeat, "--repeat", 1, 100) ?? 1,
        ...(values.concurrent ? { concurrent: true } : {}),
        ...(scenario ? { scenario } : {}),
        ...(values.account !== undefined ? { account: values.account } : {}),
        ...(values.workstation ? { workstation: true } : {}),
        ...(values.logs ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    };
    let tamper: DrillCommand["tamper"];
    if (values["tamper-block"] !== undefined) {
        const m = /^(snap-[0-9a-f]+)(?::(\d+))?(?::(\d+))?$/.exec(values["tamper-block"]);
        if (!m) throw new InputError(`--tamper-block needs SNAPSHOT[:BLOCK[:OFFSET]] (a snapshot id, a block index, a byte offset in the block), got ${JSON.stringify(values["tamper-block"])}`);
        if (!values.state) throw new InputError("--tamper-block changes a kept simulated account: give --state DIR");
        tamper = { snapshotId: m[1] as string, block: Number(m[2] ?? 0), offset: Number(m[3] ?? 0) };
    }
    return {
        ...(tamper ? { tamper } : {}),
        options,
        findingFile,
        defaultFinding: values.finding === undefined,
        json: values.json === true,
        ...(values.state ? { stateDir: values.state } : {}),
    };
}

/**
 * A kept simulated account; a damaged or foreign state file, or one kept for another `--account`, is bad
 * input, named in one line.
 */
function loadKeptAccount(dir: string, account: string | undefined): SimulatedAccount {
    let sim;
    try {
        sim = SimulatedAccount.loadState(dir);
    } catch (error) {
        throw new InputError(`cannot load the simulated account from ${path.join(dir, "state.json")}: ${(error as Error).message.split("\n")[0]}`);
    }
    const problem = keptAccountProblem(sim, account);
    if (problem) throw new InputError(`${path.join(dir, "state.json")}: ${problem}`);
    return sim;
}

async function main(): Promise<number> {
    let command: DrillCommand;
    try {
        command = parseDrillCommand(process.argv.slice(2), (file) => fs.readFileSync(file, "utf8"));
        if (command.defaultFinding && !command.tamper) {
            process.stderr.write(`drill: no --finding given: drilling ${path.relative(process.cwd(), command.findingFile) || command.findingFile} (a real GuardDuty finding)\n`);
        }
        if (command.stateDir) {
            // Made (or found) before the run: a path that cannot be a directory is bad input, not a crash at the end.
            try {
                fs.mkdirSync(command.stateDir, { recursive: true });
            } catch (error) {
                throw new InputError(`--state ${command.stateDir} cannot be used as a directory: ${(error as Error).message.split("\n")[0]}`);
            }
        }
        if (command.tamper) {
            if (!command.stateDir || !fs.existsSync(path.join(command.stateDir, "state.json"))) throw new InputError(`--tamper-block: no simulated account in --state ${command.stateDir ?? ""}`);
            const sim = loadKeptAccount(command.stateDir, undefined);
            let changed;
            try {
                changed = sim.tamperSnapshotBlock(command.tamper.snapshotId, command.tamper.block, command.tamper.offset);
            } catch (error) {
                throw new InputError(`--tamper-block: ${(error as Error).message}`);
            }
            sim.saveState(command.stateDir);
            process.stdout.write(`${JSON.stringify({ tampered: changed })}\n`);
            return 0;
        }
        if (command.stateDir && fs.existsSync(path.join(command.stateDir, "state.json"))) {
            command.options.sim = loadKeptAccount(command.stateDir, command.options.account);
            // A kept account gains the workstation when asked (it keeps the one it has).
            if (command.options.workstation) command.options.sim.addWorkstation();
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
        if (!(error instanceof SimulationSeedError || error instanceof InputError)) throw error;
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
