/**
 * Structured logging for the response handlers: one JSON object per line (CloudWatch Logs Insights parses it),
 * a fixed message plus data, with the case's correlation keys appended by the caller.
 */
import { ResponseError } from "../lib/errors";

export type Level = "INFO" | "WARN" | "ERROR";

export function log(level: Level, message: string, data: Record<string, unknown>): void {
    console.log(JSON.stringify({ level, message, ...data }));
}

/** An error as log data: name, message and, for our errors, their context fields (ids, problems, actions). */
export function errorData(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error)) return { name: "NonError", message: String(error) };
    // Own fields of our errors are their context; `cause` is not enumerable.
    const fields = error instanceof ResponseError ? { ...error } : {};
    return { ...fields, name: error.name, message: error.message };
}

/** The part of the Lambda context the handlers use; a local type keeps the bundle free of aws-lambda typings. */
export interface InvocationContext {
    readonly awsRequestId?: string;
}
