/**
 * The errors every response function shares. The state machine catches by `name`, so each class names itself;
 * the case context travels with the error into logs and the manifest.
 */
import { ERRORS } from "../../core/workflow";

/** Which case and instance an error belongs to, so a caught error can be tied back to its case. */
export interface ErrorContext {
    readonly caseId?: string;
    readonly instanceId?: string;
}

/** Base class of the functions' own errors (as opposed to AWS SDK errors passed through for retry). */
export class ResponseError extends Error {
    override name = "ResponseError";
    readonly caseId?: string;
    readonly instanceId?: string;

    constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
        super(message, options);
        this.caseId = context.caseId;
        this.instanceId = context.instanceId;
    }
}

/** The event is malformed. Raised before any AWS call; retrying cannot help. */
export class InvalidRequestError extends ResponseError {
    override name = ERRORS.invalidRequest;
    /** Every problem found, so a bad event is fixed in one round rather than one field at a time. */
    readonly problems: readonly string[];

    constructor(problems: readonly string[], context: ErrorContext = {}, step?: string) {
        super(`invalid ${step ? `${step} ` : ""}request: ${problems.join("; ")}`, context);
        this.problems = [...problems];
    }
}

/**
 * The function's own configuration (environment) is unusable. Raised per invocation, not at module load, so the
 * state machine gets a name and a message naming the variable instead of an opaque init failure.
 */
export class ConfigurationError extends ResponseError {
    override name = ERRORS.configuration;
    /** The environment variable at fault, so the operator knows what to fix. */
    readonly variable: string;

    constructor(variable: string, problem: string, options?: ErrorOptions) {
        super(`configuration error: environment variable ${variable} ${problem}`, {}, options);
        this.variable = variable;
    }
}
