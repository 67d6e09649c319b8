/**
 * Structured logs of every function: the Powertools Logger (@aws-lambda-powertools/logger), one JSON object per
 * line on stdout (CloudWatch Logs Insights parses it; the drill and the tests capture it, see `--logs`).
 *
 * Level: POWERTOOLS_LOG_LEVEL (set by components/responseWorkflow.ts), or AWS_LAMBDA_LOG_LEVEL when the function's
 * logging config sets one (the Logger reads both); service: POWERTOOLS_SERVICE_NAME (the function's name).
 * Each invocation logs through {@link invocationLogger}: a child carrying the case's correlation keys (caseId,
 * instanceId...) as persistent keys and the Lambda context (request id, function name, cold start), so concurrent
 * invocations in one process (the drill) never share keys. Modules below the handlers log with {@link log}, passing
 * their case context as data.
 */
import { Logger, type LogItem } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import { ResponseError } from "./errors";

/**
 * The Powertools Logger. In Lambda it prints as Powertools does: through a Console of its own on the process's
 * stdout, not the runtime's patched `console`, which under the functions' JSON log format would wrap each record
 * once more as the `message` of a runtime record (Powertools' `setConsole`, aws-powertools PR #748). Outside Lambda
 * (the drill, the tests: no AWS_LAMBDA_FUNCTION_NAME) each record is one line through `console.log`, where the
 * drill captures it.
 */
class LineLogger extends Logger {
    protected override printLog(level: number, item: LogItem): void {
        if (process.env.AWS_LAMBDA_FUNCTION_NAME) {
            super.printLog(level, item);
            return;
        }
        item.prepareForPrint();
        console.log(JSON.stringify(item.getAttributes(), this.getJsonReplacer()));
    }

    protected override createLogger(options?: ConstructorOptions): Logger {
        return new LineLogger(options);
    }
}

/** The functions' logger (one per bundle: each Lambda runs one function). */
export const logger: Logger = new LineLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME?.trim() || "aws-dfir" });

export type LogLevel = "INFO" | "WARN" | "ERROR";

/** One structured log line: a fixed message plus data (the case's ids among it). */
export function log(level: LogLevel, message: string, data: Record<string, unknown> = {}): void {
    if (level === "ERROR") logger.error(message, data);
    else if (level === "WARN") logger.warn(message, data);
    else logger.info(message, data);
}

/**
 * The part of the Lambda context the handlers use (a local type keeps the bundles free of aws-lambda typings);
 * a full context also gives the Logger the function's name, ARN and memory.
 */
export interface InvocationContext {
    readonly awsRequestId?: string;
    readonly functionName?: string;
    readonly functionVersion?: string;
    readonly invokedFunctionArn?: string;
    readonly memoryLimitInMB?: string;
}

/**
 * The logger of one invocation: every line carries `keys` (the correlation keys the raw event names, so even a
 * refused event is traceable) and, with a Lambda context, its request id (`requestId` and Powertools'
 * `function_request_id`) and function.
 */
export function invocationLogger(keys: Record<string, string>, context?: InvocationContext): Logger {
    const child = logger.createChild({ persistentKeys: { ...keys, ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}) } });
    // addContext reads only the fields declared above (the rest of the Lambda Context is not logged).
    if (context?.functionName && context.awsRequestId) child.addContext(context as Parameters<Logger["addContext"]>[0]);
    return child;
}

/** An error as log data: name, message and, for our errors, their context fields (ids, problems, actions). */
export function errorData(error: unknown): Record<string, unknown> {
    if (!(error instanceof Error)) return { name: "NonError", message: String(error) };
    // Own fields of our errors are their context; `cause` is not enumerable.
    const fields = error instanceof ResponseError ? { ...error } : {};
    return { ...fields, name: error.name, message: error.message };
}
