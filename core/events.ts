/**
 * Reading GuardDuty events from files: one event, a JSON array of events, or newline-delimited events. Shared
 * by the triage and drill commands (and later the analyst CLI) so every command reads input the same way.
 */

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

/** Read a file with `read`, turning any failure into a one-line InputError naming the file. */
export function readInput(read: (file: string) => string, file: string): string {
    try {
        return read(file);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        throw new InputError(`cannot read ${file}: ${code ?? (error instanceof Error ? error.message : String(error))}`);
    }
}
