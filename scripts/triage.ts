/**
 * `npm run -s triage -- [FILE...] [--min-severity N] [--allow-samples]`
 *
 * Prints one JSON TriageDecision per event, in input order, to stdout. Each FILE holds one event, a JSON array
 * of events, or newline-delimited JSON events; with no FILE, every event of the repository's fixture set
 * (`fixtures/guardduty/*.json`, in name order). Exit 0 on success; exit 2 with one line on stderr and nothing on
 * stdout for bad input (unreadable file, malformed JSON, unknown flag, bad flag value).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { InputError, parseEvents, readInput } from "../core/events";
import { triage, validateTriageOptions, type TriageOptions } from "../core/triage";
import { guardDutyFixtureFiles } from "./lib/fixtures";

export { InputError, parseEvents };

/** What one CLI run prints and returns, computed without touching the process. */
export interface CliResult {
    exitCode: 0 | 2;
    stdout: string;
    stderr: string;
}

function parseMinSeverity(raw: string | undefined): number | undefined {
    if (raw === undefined) return undefined;
    const problem = new InputError("--min-severity needs a number between 1 and 10");
    if (!/^\d+(?:\.\d+)?$/.test(raw)) throw problem;
    try {
        return validateTriageOptions({ minSeverity: Number(raw) }).minSeverity;
    } catch {
        throw problem;
    }
}

function parseCommandLine(argv: string[]): { files: string[]; options: TriageOptions } {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: { "min-severity": { type: "string" }, "allow-samples": { type: "boolean" } },
            allowPositionals: true,
            strict: true,
        });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message.startsWith("Option '--min-severity ")) throw new InputError("--min-severity needs a number between 1 and 10");
        // parseArgs goes on to explain how to pass a positional starting with "-": keep its first sentence.
        const first = message.split(/\n|\. /)[0].replace(/\.$/, "");
        throw new InputError(first.charAt(0).toLowerCase() + first.slice(1));
    }
    const { values, positionals } = parsed;
    const minSeverity = parseMinSeverity(values["min-severity"]);
    const options = validateTriageOptions({
        ...(minSeverity === undefined ? {} : { minSeverity }),
        allowSamples: values["allow-samples"] === true,
    });
    return { files: positionals.length > 0 ? positionals : guardDutyFixtureFiles(), options };
}

/**
 * The whole CLI as a function of its arguments and a file reader, so it is testable without spawning. Every
 * file is read and parsed before anything is printed: on bad input stdout stays empty.
 */
export function runTriageCli(argv: string[], read: (file: string) => string): CliResult {
    try {
        const { files, options } = parseCommandLine(argv);
        const events = files.flatMap((file) => parseEvents(readInput(read, file), file));
        const stdout = events.map((event) => `${JSON.stringify(triage(event, options))}\n`).join("");
        return { exitCode: 0, stdout, stderr: "" };
    } catch (error) {
        if (!(error instanceof InputError)) throw error;
        return { exitCode: 2, stdout: "", stderr: `triage: ${error.message.replace(/\s*\n\s*/g, " ")}\n` };
    }
}

if (require.main === module) {
    const result = runTriageCli(process.argv.slice(2), (file) => readFileSync(file, "utf8"));
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
}
