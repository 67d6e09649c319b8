/**
 * KMS, as far as the manifest's signature needs it: `Sign` and `GetPublicKey` on an asymmetric ECC_NIST_P256 /
 * SIGN_VERIFY key (seeded by drill/sim/seed.ts `seedSigningKey`, as EvidenceStore creates it). Follows the KMS API
 * Reference pages "Sign" and "GetPublicKey": the key named by id, ARN, alias name or alias ARN (another account's key
 * only by ARN); `NotFoundException` for an unknown key; `DisabledException` for a disabled key and
 * `KMSInvalidStateException` for one pending deletion ("Key states of AWS KMS keys"); `InvalidKeyUsageException` for
 * a key whose usage is not SIGN_VERIFY or an algorithm its spec does not support (ECC_NIST_P256: ECDSA_SHA_256 only);
 * messages of 0 to 4,096 bytes; with `MessageType: DIGEST` the message must be exactly the algorithm's digest length
 * (32 bytes for ECDSA_SHA_256): the page states the rule, not the error code, so `ValidationException` (KMS's common
 * validation error) is an assumption. The signature is DER-encoded ECDSA (drill/sim/ecdsa.ts) and the public key a
 * DER SubjectPublicKeyInfo, as KMS returns them. RAW messages are hashed with SHA-256 first. DryRun is not modelled.
 */
import { createHash } from "node:crypto";
import type { GetPublicKeyCommandInput, GetPublicKeyCommandOutput, SignCommandInput, SignCommandOutput } from "@aws-sdk/client-kms";
import { publicKeySpki, scalarFrom, signDigest } from "../ecdsa";
import type { KmsKeyState } from "../state";
import { required, type CallContext, type Handler, type World } from "../world";

type Out<T> = Omit<T, "$metadata">;

/** KMS's limit on a message to Sign (API Reference, Sign: "up to 4096 bytes"). */
const MAX_MESSAGE_BYTES = 4096;

/** The key a KeyId names (id, key ARN, alias name, alias ARN), in the caller's account and region unless an ARN says otherwise. */
export function findKey(world: World, ctx: CallContext, ref: string): KmsKeyState | undefined {
    const m = /^arn:aws[a-z-]*:kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/.exec(ref);
    const region = m ? (m[1] as string) : ctx.region;
    const accountId = m ? (m[2] as string) : ctx.accountId;
    const name = m ? `${m[3]}/${m[4]}` : ref;
    const keys = Object.values(world.region(accountId, region).kmsKeys ?? {});
    return keys.find((k) => (name.startsWith("alias/") ? k.aliases.includes(name) : k.keyId === name.replace(/^key\//, "")));
}

/** The private scalar of a simulated asymmetric key: derived from the world's seed and the key id (nothing secret is stored). */
function privateScalar(world: World, key: KmsKeyState): Buffer {
    return scalarFrom(createHash("sha256").update(`${world.state.seed}:kms-private:${key.keyId}`).digest());
}

/** The SubjectPublicKeyInfo (DER) of a simulated ECC_NIST_P256 key (also for seeding its stored PEM). */
export function simulatedPublicKey(world: World, key: KmsKeyState): Buffer {
    return publicKeySpki(privateScalar(world, key));
}

/** The key, usable now: found, enabled, not pending deletion. */
function usableKey(world: World, ctx: CallContext, ref: string): KmsKeyState {
    const key = findKey(world, ctx, ref);
    if (!key) throw world.error(ctx, "NotFoundException", `Invalid keyId ${ref}`);
    if (key.keyState === "Disabled") throw world.error(ctx, "DisabledException", `${key.arn} is disabled.`);
    if (key.keyState === "PendingDeletion") throw world.error(ctx, "KMSInvalidStateException", `${key.arn} is pending deletion.`);
    return key;
}

const Sign: Handler<SignCommandInput, Out<SignCommandOutput>> = (world, ctx, input) => {
    const key = usableKey(world, ctx, required(world, ctx, input.KeyId, "KeyId"));
    const message = Buffer.from(required(world, ctx, input.Message, "Message"));
    if (message.length < 1 || message.length > MAX_MESSAGE_BYTES) throw world.error(ctx, "ValidationException", `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length between 1 and ${MAX_MESSAGE_BYTES}`);
    if ((key.keyUsage ?? "ENCRYPT_DECRYPT") !== "SIGN_VERIFY") throw world.error(ctx, "InvalidKeyUsageException", `${key.arn} key usage is ${key.keyUsage ?? "ENCRYPT_DECRYPT"} which is not valid for Sign.`);
    if (key.keySpec !== "ECC_NIST_P256" || input.SigningAlgorithm !== "ECDSA_SHA_256") {
        throw world.error(ctx, "InvalidKeyUsageException", `Algorithm ${String(input.SigningAlgorithm)} is incompatible with key spec ${key.keySpec ?? "SYMMETRIC_DEFAULT"}.`);
    }
    const type = input.MessageType ?? "RAW";
    if (type === "DIGEST" && message.length !== 32) throw world.error(ctx, "ValidationException", `Digest is invalid length for algorithm ECDSA_SHA_256: ${message.length} bytes, expected 32.`);
    if (type !== "DIGEST" && type !== "RAW") throw world.error(ctx, "ValidationException", `MessageType ${type} is not valid for ECDSA_SHA_256.`);
    const digest = type === "DIGEST" ? message : createHash("sha256").update(message).digest();
    return { KeyId: key.arn, Signature: new Uint8Array(signDigest(privateScalar(world, key), digest)), SigningAlgorithm: "ECDSA_SHA_256" };
};

const GetPublicKey: Handler<GetPublicKeyCommandInput, Out<GetPublicKeyCommandOutput>> = (world, ctx, input) => {
    const key = usableKey(world, ctx, required(world, ctx, input.KeyId, "KeyId"));
    if (key.keySpec !== "ECC_NIST_P256") throw world.error(ctx, "UnsupportedOperationException", `${key.arn} is not an asymmetric KMS key.`);
    return {
        KeyId: key.arn,
        PublicKey: new Uint8Array(simulatedPublicKey(world, key)),
        KeySpec: "ECC_NIST_P256",
        CustomerMasterKeySpec: "ECC_NIST_P256",
        KeyUsage: "SIGN_VERIFY",
        SigningAlgorithms: ["ECDSA_SHA_256"],
    };
};

export const KMS_HANDLERS: Record<string, Handler> = { Sign, GetPublicKey };
