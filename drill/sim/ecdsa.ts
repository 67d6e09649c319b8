/**
 * ECDSA over P-256 of a given digest, for the simulated KMS `Sign` with `MessageType: DIGEST` (KMS signs the
 * digest as given, skipping the hash step). node:crypto has no sign-a-prehashed-digest call (`crypto.sign` hashes
 * its input, even with a null algorithm for EC keys), so the signature is computed here: the curve operations through
 * node's ECDH (the public point of a scalar k is k·G), the rest with BigInt (SEC 1 v2, 4.1.3). Simulator only: the
 * nonce is derived from the key and the digest (HMAC-SHA256, like RFC 6979 in spirit, not its exact procedure), so
 * a drill is reproducible; real KMS nonces are its own. Output: DER `SEQUENCE { INTEGER r, INTEGER s }` (RFC 3279),
 * as KMS returns it. test/signature.test.ts checks these signatures with node:crypto's verify.
 */
import { createECDH, createHmac, createPrivateKey, createPublicKey } from "node:crypto";

/** The order of P-256's base point (SEC 2, secp256r1 n). */
const N = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

const toBig = (b: Buffer): bigint => BigInt(`0x${b.toString("hex") || "0"}`);
const to32 = (x: bigint): Buffer => Buffer.from(x.toString(16).padStart(64, "0"), "hex");

function mod(a: bigint, m: bigint): bigint {
    const r = a % m;
    return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
    let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
    while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [s0, s1] = [s1, s0 - q * s1];
    }
    return mod(s0, m);
}

/** A private scalar in [1, n-1] from seed bytes (the simulator derives keys from its seed). */
export function scalarFrom(seed: Buffer): Buffer {
    return to32(mod(toBig(seed), N - 1n) + 1n);
}

/** The SubjectPublicKeyInfo (DER) of a P-256 private scalar. */
export function publicKeySpki(d: Buffer): Buffer {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey();
    const b64u = (b: Buffer) => b.toString("base64url");
    const jwk = { kty: "EC", crv: "P-256", x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)), d: b64u(d) };
    return createPublicKey(createPrivateKey({ key: jwk, format: "jwk" })).export({ format: "der", type: "spki" }) as Buffer;
}

/** DER INTEGER of a non-negative value. */
function derInteger(x: bigint): Buffer {
    const hex = x.toString(16);
    let bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, "hex");
    if ((bytes[0] as number) >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ECDSA P-256 signature (DER) of a 32-byte digest with private scalar `d`. */
export function signDigest(d: Buffer, digest: Buffer): Buffer {
    if (digest.length !== 32) throw new Error(`a P-256 SHA-256 digest is 32 bytes, got ${digest.length}`);
    const z = toBig(digest);
    const x = toBig(d);
    for (let counter = 0; ; counter += 1) {
        const k = mod(toBig(createHmac("sha256", d).update(digest).update(String(counter)).digest()), N);
        if (k === 0n) continue;
        const ecdh = createECDH("prime256v1");
        ecdh.setPrivateKey(to32(k));
        const r = mod(toBig(ecdh.getPublicKey().subarray(1, 33)), N);
        if (r === 0n) continue;
        const s = mod(inverse(k, N) * (z + r * x), N);
        if (s === 0n) continue;
        const body = Buffer.concat([derInteger(r), derInteger(s)]);
        return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    }
}
