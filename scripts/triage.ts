/**
 * `npm run -s triage -- FILE... [--min-severity N] [--allow-samples]`
 *
 * Prints one JSON TriageDecision per event, in input order, to stdout. Each FILE holds one event, a JSON array
 * of events, or newline-delimited JSON events. Exit 0 on success; exit 2 with one line on stderr and nothing on
 * stdout for bad input (unreadable file, malformed JSON, unknown flag, bad flag value, no FILE).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { triage, validateTriageOptions, type TriageOptions } from "../core/triage";

/** Bad input from the user: reported as one line with exit code 2, unlike a bug, which keeps its stack trace. */
export class InputError extends Error {}

/** 1-based line of a character offset, for error messages people can jump to. */
function lineAt(text: string, offset: number): number {
    let line = 1;
    for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
    return line;
}

/** V8 reports "... in JSON at position N"; without a position the error is at the end of the text. */
function errorLine(text: string, error: unknown): number {
    const match = error instanceof Error ? /at position (\d+)/.exec(error.message) : null;
    return lineAt(text, match ? Number(match[1]) : text.length);
}

/**
 * The events in one file's text, in order. A text that is one JSON document is one event, or each element if
 * it is an array; otherwise each non-blank line must be one JSON event (NDJSON; a line holding an array is one
 * event). Throws InputError naming the file and line of the first malformed JSON; a malformed first line of a
 * multi-line text is reported at the document's error position, since that is most likely a broken
 * pretty-printed document rather than NDJSON.
 */
export function parseEvents(text: string, fileName: string): unknown[] {
    const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
    if (body.trim() === "") throw new InputError(`${fileName}: no JSON events (empty file)`);
    let documentError: unknown;
    try {
        const document: unknown = JSON.parse(body);
        return Array.isArray(document) ? document : [document];
    } catch (error) {
        documentError = error;
    }
    const lines = body.split("\n");
    const events: unknown[] = [];
    for (const [index, line] of lines.entries()) {
        if (line.trim() === "") continue;
        try {
            events.push(JSON.parse(line));
        } catch {
            const at = events.length === 0 ? errorLine(body, documentError) : index + 1;
            throw new InputError(`${fileName}: malformed JSON at line ${at}`);
        }
    }
    return events;
}

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
    if (positionals.length === 0) throw new InputError("no FILE given (usage: triage FILE... [--min-severity N] [--allow-samples])");
    const minSeverity = parseMinSeverity(values["min-severity"]);
    const options = validateTriageOptions({
        ...(minSeverity === undefined ? {} : { minSeverity }),
        allowSamples: values["allow-samples"] === true,
    });
    return { files: positionals, options };
}

function readWith(read: (file: string) => string, file: string): string {
    try {
        return read(file);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        throw new InputError(`cannot read ${file}: ${code ?? (error instanceof Error ? error.message : String(error))}`);
    }
}

/**
 * The whole CLI as a function of its arguments and a file reader, so it is testable without spawning. Every
 * file is read and parsed before anything is printed: on bad input stdout stays empty.
 */
export function runTriageCli(argv: string[], read: (file: string) => string): CliResult {
    try {
        const { files, options } = parseCommandLine(argv);
        const events = files.flatMap((file) => parseEvents(readWith(read, file), file));
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
