/**
 * Errors raised by the contain function.
 *
 * The state machine catches Lambda errors by their `name` (Step Functions sees it as the error type), so every
 * class sets `name` to a string literal rather than relying on `constructor.name`, which a minifying bundler
 * would rename. The message becomes the Catch `Cause`, so messages are self-contained single lines.
 */

/** Identifies the containment attempt an error belongs to, so a caught error can be tied back to its case. */
export interface ContainmentContext {
  readonly instanceId?: string;
  readonly caseId?: string;
}

/** Base class: lets callers and the state machine treat every containment failure alike when they need to. */
export class ContainmentError extends Error {
  override name = "ContainmentError";
  readonly instanceId?: string;
  readonly caseId?: string;

  constructor(message: string, context: ContainmentContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.instanceId = context.instanceId;
    this.caseId = context.caseId;
  }
}

/**
 * The event or request is malformed. Retrying cannot help, so the state machine should not retry this one;
 * it is raised before any AWS call.
 */
export class InvalidRequestError extends ContainmentError {
  override name = "InvalidRequestError";
  /** Every problem found, so a bad event is fixed in one round rather than one field at a time. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], context: ContainmentContext = {}) {
    super(`invalid containment request: ${problems.join("; ")}`, context);
    this.problems = [...problems];
  }
}

/**
 * The function's own configuration (environment) is unusable. Raised at invocation time rather than at module
 * load so the failure reaches the state machine with a name and a message instead of an opaque init error.
 */
export class ConfigurationError extends ContainmentError {
  override name = "ConfigurationError";
  /** The environment variable at fault, so the operator knows what to fix. */
  readonly variable: string;

  constructor(variable: string, problem: string, options?: ErrorOptions) {
    super(`configuration error: environment variable ${variable} ${problem}`, {}, options);
    this.variable = variable;
  }
}

/** EC2 does not know the instance (already gone, or a finding from another account or region). Nothing changed. */
export class InstanceNotFoundError extends ContainmentError {
  override name = "InstanceNotFoundError";

  constructor(context: ContainmentContext & { readonly instanceId: string }, options?: ErrorOptions) {
    super(`instance ${context.instanceId} not found`, context, options);
  }
}

/** The instance is terminated or terminating: there is nothing left to contain. Nothing changed. */
export class InstanceTerminatedError extends ContainmentError {
  override name = "InstanceTerminatedError";
  readonly state: string;

  constructor(context: ContainmentContext & { readonly instanceId: string }, state: string) {
    super(`instance ${context.instanceId} is ${state}`, context);
    this.state = state;
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
 * The instance's network interfaces do not fit the single-VPC model containment relies on (interfaces in
 * several VPCs, an interface without an id or VPC, or no interface at all). Raised before any change.
 */
export class UnsupportedNetworkLayoutError extends ContainmentError {
  override name = "UnsupportedNetworkLayoutError";

  constructor(context: ContainmentContext & { readonly instanceId: string }, problem: string) {
    super(`cannot contain instance ${context.instanceId}: ${problem}`, context);
  }
}

/** An interface moved to the isolation group, with the groups it had, so containment can later be reversed. */
export interface InterfaceChange {
  networkInterfaceId: string;
  previousGroups: string[];
}

/** An interface whose move failed: it still has its previous groups (as far as EC2 reported them). */
export interface InterfaceFailure {
  networkInterfaceId: string;
  previousGroups: string[];
  error: string;
}

/** What a partial containment did, carried by {@link PartialContainmentError} as fields and in its message. */
export interface PartialContainmentDetails {
  readonly vpcId: string;
  readonly securityGroupId: string;
  readonly changed: InterfaceChange[];
  readonly failed: InterfaceFailure[];
  readonly alreadyIsolated: string[];
  /** Whether the best-effort `dfir:case-id` tag was written. */
  readonly caseTagged: boolean;
}

/**
 * Some interfaces were moved to the isolation group and others were not. The instance is then in a mixed
 * state, and this error is the only record of which interfaces moved and what their groups were: its message
 * is a one-line JSON summary (Step Functions passes only the name and the message on to a Catch), and the same
 * data is available as fields to in-process callers.
 */
export class PartialContainmentError extends ContainmentError implements PartialContainmentDetails {
  override name = "PartialContainmentError";
  readonly vpcId: string;
  readonly securityGroupId: string;
  readonly changed: InterfaceChange[];
  readonly failed: InterfaceFailure[];
  readonly alreadyIsolated: string[];
  readonly caseTagged: boolean;

  constructor(
    context: ContainmentContext & { readonly instanceId: string; readonly caseId: string },
    details: PartialContainmentDetails,
    options?: ErrorOptions,
  ) {
    const summary = {
      instanceId: context.instanceId,
      caseId: context.caseId,
      vpcId: details.vpcId,
      securityGroupId: details.securityGroupId,
      changed: details.changed,
      failed: details.failed,
      alreadyIsolated: details.alreadyIsolated,
      caseTagged: details.caseTagged,
    };
    super(
      `partial containment of ${context.instanceId}: ${details.failed.length} interface(s) not isolated: ` +
        JSON.stringify(summary),
      context,
      options,
    );
    this.vpcId = details.vpcId;
    this.securityGroupId = details.securityGroupId;
    this.changed = details.changed;
    this.failed = details.failed;
    this.alreadyIsolated = details.alreadyIsolated;
    this.caseTagged = details.caseTagged;
  }
}
