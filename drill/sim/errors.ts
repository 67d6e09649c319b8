/**
 * Errors as the real SDK throws them. A simulated failure is an instance of the service's own exception class
 * (`EC2ServiceException`, or the modelled class such as `ConditionalCheckFailedException` / `NoSuchEntityException`
 * when the service models that code), with `name` = the AWS error code the SDK would report, `$fault`, and
 * `$metadata.httpStatusCode`. So handler code written against the SDK (`error.name === ...`, `instanceof
 * TransactionCanceledException`, reading `CancellationReasons`) behaves as it would against AWS.
 *
 * A call the simulator does not implement throws {@link SimulatorGapError} instead: a plain error, never
 * mistaken for an AWS answer, so gaps in the simulation are loud.
 */
import * as autoscaling from "@aws-sdk/client-auto-scaling";
import * as dynamodb from "@aws-sdk/client-dynamodb";
import * as ebs from "@aws-sdk/client-ebs";
import * as ec2 from "@aws-sdk/client-ec2";
import * as elbv2 from "@aws-sdk/client-elastic-load-balancing-v2";
import * as iam from "@aws-sdk/client-iam";
import * as kms from "@aws-sdk/client-kms";
import * as s3 from "@aws-sdk/client-s3";
import * as ssm from "@aws-sdk/client-ssm";
import * as sts from "@aws-sdk/client-sts";

/** The client factory's service names, plus SNS (the drill's notify states publish directly). */
export type SimService = "ec2" | "autoscaling" | "elbv2" | "iam" | "s3" | "ssm" | "sts" | "dynamodb" | "sns" | "kms" | "ebs";

/** IAM action prefix per service: call records and fault rules name actions the way IAM policies do. */
export const ACTION_PREFIX: Record<SimService, string> = {
    ec2: "ec2",
    autoscaling: "autoscaling",
    elbv2: "elasticloadbalancing",
    iam: "iam",
    s3: "s3",
    ssm: "ssm",
    sts: "sts",
    dynamodb: "dynamodb",
    sns: "sns",
    kms: "kms",
    ebs: "ebs",
};

/** SDK client class name -> service (for callers that only have the middleware context's `clientName`). */
export const CLIENT_SERVICE: Record<string, SimService> = {
    EC2Client: "ec2",
    AutoScalingClient: "autoscaling",
    ElasticLoadBalancingV2Client: "elbv2",
    IAMClient: "iam",
    S3Client: "s3",
    SSMClient: "ssm",
    STSClient: "sts",
    DynamoDBClient: "dynamodb",
    SNSClient: "sns",
    KMSClient: "kms",
    EBSClient: "ebs",
};

/** A part of AWS the simulator does not model. Deliberately not AWS-shaped. */
export class SimulatorGapError extends Error {
    override name = "SimulatorGapError";
}

/** `simulator: <service>:<Action> not implemented` (optionally naming the unsupported detail). */
export function notImplemented(action: string, detail?: string): SimulatorGapError {
    return new SimulatorGapError(`simulator: ${action}${detail ? ` ${detail}` : ""} not implemented`);
}

type ExceptionCtor = new (options: Record<string, unknown>) => Error;

interface ServiceErrors {
    base: ExceptionCtor;
    module: Record<string, unknown>;
}

const SERVICE_ERRORS: Partial<Record<SimService, ServiceErrors>> = {
    ec2: { base: ec2.EC2ServiceException as unknown as ExceptionCtor, module: ec2 as unknown as Record<string, unknown> },
    autoscaling: {
        base: autoscaling.AutoScalingServiceException as unknown as ExceptionCtor,
        module: autoscaling as unknown as Record<string, unknown>,
    },
    elbv2: {
        base: elbv2.ElasticLoadBalancingV2ServiceException as unknown as ExceptionCtor,
        module: elbv2 as unknown as Record<string, unknown>,
    },
    iam: { base: iam.IAMServiceException as unknown as ExceptionCtor, module: iam as unknown as Record<string, unknown> },
    s3: { base: s3.S3ServiceException as unknown as ExceptionCtor, module: s3 as unknown as Record<string, unknown> },
    ssm: { base: ssm.SSMServiceException as unknown as ExceptionCtor, module: ssm as unknown as Record<string, unknown> },
    sts: { base: sts.STSServiceException as unknown as ExceptionCtor, module: sts as unknown as Record<string, unknown> },
    dynamodb: {
        base: dynamodb.DynamoDBServiceException as unknown as ExceptionCtor,
        module: dynamodb as unknown as Record<string, unknown>,
    },
    kms: { base: kms.KMSServiceException as unknown as ExceptionCtor, module: kms as unknown as Record<string, unknown> },
    ebs: { base: ebs.EBSServiceException as unknown as ExceptionCtor, module: ebs as unknown as Record<string, unknown> },
};

let requestCounter = 0;

/** The modelled exception class the SDK maps a wire code to (`NoSuchEntity` -> `NoSuchEntityException`), if any. */
function modelled(errors: ServiceErrors, code: string): ExceptionCtor | undefined {
    for (const name of [code, `${code}Exception`, `${code}Fault`]) {
        const candidate = errors.module[name];
        if (typeof candidate === "function" && candidate.prototype instanceof errors.base) return candidate as ExceptionCtor;
    }
    return undefined;
}

/** Default HTTP status for an error code when the caller does not say. */
export function defaultStatus(code: string): number {
    // EC2 answers RequestLimitExceeded with 503, S3 SlowDown too.
    if (code === "ServiceUnavailable" || code === "SlowDown" || code === "RequestLimitExceeded") return 503;
    if (/^Internal/.test(code)) return 500;
    return 400;
}

/**
 * An error shaped like the one the SDK throws for `code` from `service`: the modelled exception class when the
 * service models the code (with `extra` fields such as `CancellationReasons`), else the service's base exception
 * with `name` = code.
 */
export function awsError(service: SimService, code: string, message: string, status = defaultStatus(code), extra: Record<string, unknown> = {}): Error {
    requestCounter += 1;
    const $metadata = {
        httpStatusCode: status,
        requestId: `sim-${String(requestCounter).padStart(8, "0")}`,
        attempts: 1,
        totalRetryDelay: 0,
    };
    const $fault = status >= 500 ? "server" : "client";
    const errors = SERVICE_ERRORS[service];
    let error: Error & Record<string, unknown>;
    const ctor = errors ? modelled(errors, code) : undefined;
    if (errors && ctor) {
        error = new ctor({ message, Message: message, $metadata, $fault, ...extra }) as Error & Record<string, unknown>;
    } else if (errors) {
        error = new errors.base({ name: code, message, $fault, $metadata }) as Error & Record<string, unknown>;
    } else {
        error = Object.assign(new Error(message), { name: code, $fault, $metadata }) as unknown as Error & Record<string, unknown>;
    }
    // Modelled constructors copy only their own members; make sure every extra (and the fault) is present.
    for (const [key, value] of Object.entries(extra)) if (error[key] === undefined) error[key] = value;
    error.$fault = $fault;
    error.$metadata = $metadata;
    return error;
}

/** Throttling error code of each service, as it really reports throttling (used by the `throttle` option). */
export const THROTTLING_CODE: Record<SimService, string> = {
    ec2: "RequestLimitExceeded",
    autoscaling: "Throttling",
    elbv2: "Throttling",
    iam: "Throttling",
    sts: "Throttling",
    s3: "SlowDown",
    ssm: "ThrottlingException",
    dynamodb: "ThrottlingException",
    sns: "Throttled",
    kms: "ThrottlingException",
    ebs: "RequestThrottledException",
};
