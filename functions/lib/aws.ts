/**
 * AWS SDK clients for the handlers, per target (region, optional cross-account role). One place decides how a
 * client is built, so the drill can attach its simulated account to every client the real handlers create
 * (`setClientCustomizer`) and cross-account access works the same in every handler.
 *
 * Handlers ask for a client by its accessor (`ec2Client`, `dynamodbClient`, ...), each naming one constructor, so a
 * handler's bundle holds only the SDK clients it uses (components/bundle.ts bundles the SDK's ES modules, which
 * esbuild tree-shakes: the packages declare `sideEffects: false`); STS is in every bundle, for the cross-account
 * AssumeRole. `client(name, target)` serves tools (drill, CLI, tests) and pulls in every client: a handler must not
 * use it (test/bundle.test.ts checks each bundle's SDK packages).
 */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EBSClient } from "@aws-sdk/client-ebs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { S3Client } from "@aws-sdk/client-s3";
import { SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { now as clockNow } from "./clock";

/** Temporary credentials, as the SDK's credential providers return them. */
interface AwsCredentialIdentity {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
}

/** Anything with a middleware stack: every SDK v3 client. */
export interface CustomizableClient {
    middlewareStack: { add: (...args: any[]) => void };
}

/** Called on every client right after it is built (the drill attaches its simulated account here). */
export type ClientCustomizer = (client: CustomizableClient, service: ServiceName) => void;

export type ServiceName = "ec2" | "autoscaling" | "elbv2" | "iam" | "s3" | "ssm" | "sts" | "dynamodb" | "kms" | "ebs";

let customizer: ClientCustomizer | undefined;
const cache = new Map<string, unknown>();
/** One credential provider per role and region: every service client of a target shares one AssumeRole. */
const providers = new Map<string, () => Promise<AwsCredentialIdentity>>();

/** Install (or remove, with undefined) the customizer and forget every cached client. */
export function setClientCustomizer(c: ClientCustomizer | undefined): void {
    customizer = c;
    cache.clear();
    providers.clear();
}

/** Where a client points: a region, and the role to assume there when the target is another account. */
export interface ClientTarget {
    region: string;
    roleArn?: string;
}

/** The role could not be assumed: the member account lacks the responder role, or it does not trust us. */
export class CrossAccountRoleError extends Error {
    override name = "CrossAccountRoleError";
    constructor(readonly roleArn: string, options?: { cause?: unknown }) {
        super(`cannot assume ${roleArn}: ${options?.cause instanceof Error ? `${options.cause.name}: ${options.cause.message}` : "unknown error"}`, options);
    }
}

type Ctor<C> = new (config: { region: string; credentials?: () => Promise<AwsCredentialIdentity>; maxAttempts?: number }) => C;

const CONSTRUCTORS = {
    ec2: EC2Client,
    autoscaling: AutoScalingClient,
    elbv2: ElasticLoadBalancingV2Client,
    iam: IAMClient,
    s3: S3Client,
    ssm: SSMClient,
    sts: STSClient,
    dynamodb: DynamoDBClient,
    kms: KMSClient,
    ebs: EBSClient,
} as const;

type ClientOf<S extends ServiceName> = InstanceType<(typeof CONSTRUCTORS)[S]>;

/**
 * Attempts per call (the SDK's standard retry mode: exponential backoff with jitter on throttling and transient
 * errors). Five rather than the SDK's three: an incident is when throttling is likeliest (many findings, many
 * responders at once), and a containment change that gives up after three throttles leaves the instance less
 * contained (a failed action, the case PARTIAL); the state machine's own Retry still follows a call that fails.
 */
export const MAX_ATTEMPTS = 5;

function build<C>(service: ServiceName, Ctor: Ctor<C>, region: string, credentials?: () => Promise<AwsCredentialIdentity>): C {
    const made = new Ctor({ region, maxAttempts: MAX_ATTEMPTS, ...(credentials ? { credentials } : {}) });
    customizer?.(made as unknown as CustomizableClient, service);
    return made;
}

/** Credentials of an assumed role, refreshed shortly before they expire. */
function assumedCredentials(region: string, roleArn: string): () => Promise<AwsCredentialIdentity> {
    let current: AwsCredentialIdentity | undefined;
    // Callers at the same moment (assertAssumable beside a handler's first reads) share one AssumeRole.
    let pending: Promise<AwsCredentialIdentity> | undefined;
    const assume = async (): Promise<AwsCredentialIdentity> => {
        const sts = stsClient({ region });
        try {
            const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "aws-dfir-responder", DurationSeconds: 3600 }));
            const c = out.Credentials;
            if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("AssumeRole returned no credentials");
            current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
            return current;
        } catch (error) {
            throw new CrossAccountRoleError(roleArn, { cause: error });
        }
    };
    return async () => {
        if (current?.expiration && current.expiration.getTime() - clockNow().getTime() > 5 * 60_000) return current;
        pending ??= assume().finally(() => {
            pending = undefined;
        });
        return pending;
    };
}

/** The credentials of a target: the assumed role's (one provider per role and region), or the function's own. */
function credentialsFor(target: ClientTarget): (() => Promise<AwsCredentialIdentity>) | undefined {
    if (!target.roleArn) return undefined;
    const providerKey = `${target.region}|${target.roleArn}`;
    const credentials = providers.get(providerKey) ?? assumedCredentials(target.region, target.roleArn);
    providers.set(providerKey, credentials);
    return credentials;
}

/** A (cached) client of one service at a target, built with that service's constructor. */
function clientWith<C>(service: ServiceName, Ctor: Ctor<C>, target: ClientTarget): C {
    const key = `${service}|${target.region}|${target.roleArn ?? ""}`;
    const hit = cache.get(key);
    if (hit) return hit as C;
    const made = build(service, Ctor, target.region, credentialsFor(target));
    cache.set(key, made);
    return made;
}

// One accessor per service: a handler's bundle holds the constructors of the accessors it calls, no other.
export const ec2Client = (target: ClientTarget): EC2Client => clientWith("ec2", EC2Client, target);
export const autoscalingClient = (target: ClientTarget): AutoScalingClient => clientWith("autoscaling", AutoScalingClient, target);
export const elbv2Client = (target: ClientTarget): ElasticLoadBalancingV2Client => clientWith("elbv2", ElasticLoadBalancingV2Client, target);
export const iamClient = (target: ClientTarget): IAMClient => clientWith("iam", IAMClient, target);
export const s3Client = (target: ClientTarget): S3Client => clientWith("s3", S3Client, target);
export const ssmClient = (target: ClientTarget): SSMClient => clientWith("ssm", SSMClient, target);
export const stsClient = (target: ClientTarget): STSClient => clientWith("sts", STSClient, target);
export const dynamodbClient = (target: ClientTarget): DynamoDBClient => clientWith("dynamodb", DynamoDBClient, target);
export const kmsClient = (target: ClientTarget): KMSClient => clientWith("kms", KMSClient, target);
export const ebsClient = (target: ClientTarget): EBSClient => clientWith("ebs", EBSClient, target);

/**
 * A (cached) client for a service named at run time, for tools (drill, CLI, tests): it references every
 * constructor, so a handler that called it would bundle every client; handlers use the accessors above.
 */
export function client<S extends ServiceName>(service: S, target: ClientTarget): ClientOf<S> {
    return clientWith(service, CONSTRUCTORS[service] as unknown as Ctor<ClientOf<S>>, target);
}

/**
 * Check a role can be assumed before any change is attempted, so a missing member role ends the step with a
 * CrossAccountRoleError naming the role rather than a failure halfway through.
 */
export async function assertAssumable(target: ClientTarget): Promise<void> {
    if (!target.roleArn) return;
    // Resolving the target's credentials runs AssumeRole once (then cached by the provider, which every client of
    // the target shares).
    await (credentialsFor(target) as () => Promise<AwsCredentialIdentity>)();
}
