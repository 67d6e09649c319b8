/**
 * Errors raised by the response functions (OpenCase and Contain).
 *
 * The state machine catches Lambda errors by their `name` (Step Functions sees it as the error type), so every
 * class sets `name` to a string literal rather than relying on `constructor.name`, which a minifying bundler
 * would rename. The message becomes the Catch `Cause`, so messages are self-contained single lines; errors that
 * carry a record of changes (partial containment, termination mid-run) make the message itself one line of JSON,
 * so a later step can `JSON.parse(JSON.parse(Cause).errorMessage)` and get every action back.
 */
import type { ActionRecord, InterfaceContainment, NetworkAclEntryRecord } from "../../core/workflow";

import { ResponseError, type ErrorContext } from "./errors";

export { ConfigurationError, InvalidRequestError } from "./errors";

/** Identifies the case an error belongs to, so a caught error can be tied back to its case. */
export type ContainmentContext = ErrorContext;

/** Base class of containment failures (OpenCase and Contain). */
export class ContainmentError extends ResponseError {
    override name = "ContainmentError";
}

/** EC2 does not know the instance (already gone, or a finding from another account or region). Nothing changed. */
export class InstanceNotFoundError extends ContainmentError {
    override name = "InstanceNotFoundError";

    constructor(context: ContainmentContext & { readonly instanceId: string }, options?: ErrorOptions) {
        super(`instance ${context.instanceId} not found`, context, options);
    }
}

/**
 * The instance is terminated or terminating: there is nothing (more) to contain. Raised before any change by
 * OpenCase, or mid-run by Contain when EC2 answers a change with IncorrectInstanceState / InvalidInstanceID.NotFound
 * and the instance turns out to be gone; then `actions` holds everything done (and tried) before, and the
 * message is one line of JSON carrying them.
 */
export class InstanceTerminatedError extends ContainmentError {
    override name = "InstanceTerminatedError";
    readonly state: string;
    readonly actions: ActionRecord[];

    constructor(
        context: ContainmentContext & { readonly instanceId: string },
        state: string,
        actions: ActionRecord[] = [],
        options?: ErrorOptions,
    ) {
        super(
            JSON.stringify({
                message: `instance ${context.instanceId} is ${state}`,
                instanceId: context.instanceId,
                caseId: context.caseId,
                state,
                actions,
            }),
            context,
            options,
        );
        this.state = state;
        this.actions = actions;
    }
}

/**
 * The instance's VPC has no isolation security group configured. Raised before any change, so the instance is
 * never half-handled for want of configuration; the fix is deploying an isolation group for that VPC.
 */
export class NoIsolationGroupError extends ContainmentError {
    override name = "NoIsolationGroupError";
    readonly vpcId: string;

    constructor(context: ContainmentContext & { readonly instanceId: string }, vpcId: string) {
        super(`no isolation security group configured for ${vpcId} (instance ${context.instanceId})`, context);
        this.vpcId = vpcId;
    }
}

/**
 * The instance's recorded network layout does not fit what containment relies on (no interface, no VPC id).
 * Raised before any change.
 */
export class UnsupportedNetworkLayoutError extends ContainmentError {
    override name = "UnsupportedNetworkLayoutError";

    constructor(context: ContainmentContext & { readonly instanceId: string }, problem: string) {
        super(`cannot contain instance ${context.instanceId}: ${problem}`, context);
    }
}

/** An interface that did not reach the isolation group, and why. */
export interface InterfaceFailure {
    networkInterfaceId: string;
    error: string;
}

/** What a partial containment did, carried by {@link PartialContainmentError} as fields and in its message. */
export interface PartialContainmentDetails {
    readonly isolationGroupId: string;
    readonly untrackGroupId?: string;
    /** Interfaces now only in the isolation group (changed by this run, or already there). */
    readonly isolated: string[];
    /** Interfaces that are not (their groups are whatever EC2 left them with: original, or the untrack group). */
    readonly notIsolated: InterfaceFailure[];
    /** Every action of the run, ok or not: protections, detach, revocation and tags were still attempted. */
    readonly actions: ActionRecord[];
    /** Per interface: VPC, isolated or not, and the paths that could still carry a flow. */
    readonly interfaces?: InterfaceContainment[];
    /** The network ACL rules the run put (a release removes them). */
    readonly networkAclEntries?: NetworkAclEntryRecord[];
}

/**
 * Some interfaces reached the isolation group and others did not. The instance is in a mixed state, and this
 * error is the record of it: its message is one line of JSON (Step Functions passes only the name and the
 * message on to a Catch) and the same data is available as fields to in-process callers. The instance's groups
 * before the response are in the case record (CaseOpened.instance), not here.
 */
export class PartialContainmentError extends ContainmentError implements PartialContainmentDetails {
    override name = "PartialContainmentError";
    // Declared, not initialized: the constructor sets them from `details` (each field once, in PartialContainmentDetails).
    declare readonly isolationGroupId: string;
    declare readonly untrackGroupId?: string;
    declare readonly isolated: string[];
    declare readonly notIsolated: InterfaceFailure[];
    declare readonly actions: ActionRecord[];
    declare readonly interfaces?: InterfaceContainment[];
    declare readonly networkAclEntries?: NetworkAclEntryRecord[];

    constructor(
        context: ContainmentContext & { readonly instanceId: string; readonly caseId: string },
        details: PartialContainmentDetails,
        options?: ErrorOptions,
    ) {
        const { isolationGroupId, untrackGroupId, isolated, notIsolated, actions, interfaces, networkAclEntries } = details;
        // Exactly the details' fields, an optional one only when given (a caller's extra keys are not carried).
        const fields = Object.fromEntries(
            Object.entries({ isolationGroupId, untrackGroupId, isolated, notIsolated, actions, interfaces, networkAclEntries }).filter(([, v]) => v !== undefined),
        ) as unknown as PartialContainmentDetails;
        super(
            JSON.stringify({
                message: `partial containment of ${context.instanceId}: ${notIsolated.length} interface(s) not isolated`,
                instanceId: context.instanceId,
                caseId: context.caseId,
                ...fields,
            }),
            context,
            options,
        );
        Object.assign(this, fields);
    }
}

/**
 * The case id of this finding names a case that exists but is no longer open (its open-case lock is gone: it was
 * released or closed). The record is never overwritten; the finding opens nothing. Nothing changed.
 */
export class CaseClosedError extends ContainmentError {
    override name = "CaseClosedError";
    readonly status?: string;

    constructor(context: ContainmentContext & { readonly caseId: string }, status: string | undefined) {
        super(
            `case ${context.caseId} already exists with status ${status ?? "unknown"} and no open-case lock: ` +
                "not reopened, not overwritten",
            context,
        );
        if (status !== undefined) this.status = status;
    }
}

/** The open-case lock names a case whose record is missing from the table (an inconsistent table). */
export class CaseRecordMissingError extends ContainmentError {
    override name = "CaseRecordMissingError";

    constructor(context: ContainmentContext & { readonly caseId: string }) {
        super(`open-case lock names case ${context.caseId} but the table holds no record of it`, context);
    }
}

/** `name: message` of anything thrown, for action records and logs. */
export function errorText(error: unknown): string {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
