import { strict as assert } from "node:assert";
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../cli/index";
import {
    parseSignatureRecord, publicKeyObjectKey, publicKeyPem, signatureKey, verifySignature, verifySignatureRecord, withSignatureGap,
} from "../core/signature";
import { publicKeySpki, scalarFrom, signDigest } from "../drill/sim/ecdsa";
import { runDrill, seedAccount, type DrillOptions } from "../drill/run";
import { setClientCustomizer } from "../functions/lib/aws";
import { DEFAULT_FINDING } from "../scripts/lib/fixtures";

/**
 * The signed manifest (issue 17, item 2): the seal signs the manifest's sha256 with the evidence store's
 * ECC_NIST_P256 key (KMS Sign, MessageType DIGEST) and keeps the signature record beside it under Object Lock; `dfir
 * verify` checks it with node:crypto, and `dfir verify-manifest` checks a downloaded manifest offline.
 */
const finding = () => JSON.parse(fs.readFileSync(DEFAULT_FINDING, "utf8"));

async function drill(extra: Partial<DrillOptions> = {}) {
    const options = { finding: finding(), simOptions: { memoryBytes: 256 * 1024 }, ...extra } as DrillOptions;
    const sim = seedAccount(options);
    const report = await runDrill({ ...options, sim });
    return { report, sim };
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false });
    return { code, stdout, stderr };
}

const p256 = () => {
    const d = scalarFrom(createHash("sha256").update(String(Math.random())).digest());
    return { d, spki: publicKeySpki(d) };
};
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest();

describe("core/signature.ts: an ECDSA P-256 signature of a sha256, checked with node:crypto", () => {
    const key = p256();
    const manifest = Buffer.from('{"caseId":"c-1","status":"SUCCEEDED"}');
    const signature = signDigest(key.d, sha256(manifest));

    it("accepts the signature of a digest as the signature of the bytes (DIGEST mode), with the key as DER or PEM", () => {
        assert.deepEqual(verifySignature(manifest, signature, key.spki).problems, []);
        assert.equal(verifySignature(manifest, signature, publicKeyPem(key.spki)).valid, true);
    });

    it("refuses one changed byte, another key, a key of another curve, and bytes that are no DER signature", () => {
        const changed = Buffer.from(manifest);
        changed[5] ^= 1;
        assert.deepEqual(verifySignature(changed, signature, key.spki).problems, ["the signature does not match these bytes under this public key"]);
        assert.equal(verifySignature(manifest, signature, p256().spki).valid, false);
        const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ format: "pem", type: "spki" }).toString();
        assert.match(verifySignature(manifest, signature, p384).problems[0] as string, /not ECC_NIST_P256/);
        assert.match(verifySignature(manifest, signature, "not a key").problems[0] as string, /neither PEM nor DER/);
        assert.equal(verifySignature(manifest, Buffer.from("junk"), key.spki).valid, false);
    });

    it("checks a record: its shape, the sha256 it names, and its signature", () => {
        const record = {
            schemaVersion: "aws-dfir.signature/1", keyId: "arn:aws:kms:us-east-1:111111111111:key/k", algorithm: "ECDSA_SHA_256", messageType: "DIGEST",
            signed: { bucket: "b", key: "cases/c-1/manifest-x.json", sha256: sha256(manifest).toString("hex") }, signature: signature.toString("base64"), signedAt: "2026-12-07T00:00:00.000Z",
        };
        assert.deepEqual(verifySignatureRecord(manifest, JSON.stringify(record), key.spki), { valid: true, sha256: record.signed.sha256, keyId: record.keyId, algorithm: "ECDSA_SHA_256", problems: [] });
        const other = Buffer.from(manifest.toString().replace("SUCCEEDED", "SUCCEEDEX"));
        assert.deepEqual(verifySignatureRecord(other, record, key.spki).problems, [
            `the signature record signs sha256 ${record.signed.sha256}, these bytes are ${sha256(other).toString("hex")}`,
            "the signature does not match these bytes under this public key",
        ]);
        assert.match(verifySignatureRecord(manifest, { ...record, algorithm: "RSASSA_PSS_SHA_256" }, key.spki).problems[0] as string, /not ECDSA_SHA_256\/DIGEST/);
        assert.deepEqual(parseSignatureRecord("{"), { problem: "the signature record is not JSON" });
        assert.equal(signatureKey("cases/c/manifest-x.json"), "cases/c/manifest-x.json.sig.json");
        assert.equal(publicKeyObjectKey("arn:aws:kms:us-east-1:111111111111:key/1234"), "keys/manifest-signing-1234.pem");
    });

    it("a case whose manifest is not signed is never SUCCEEDED: the gap joins the reason", () => {
        assert.deepEqual(withSignatureGap("SUCCEEDED", "isolated; evidence complete", "not signed: DisabledException"), { status: "PARTIAL", reason: "isolated; evidence complete; manifest signature: not signed: DisabledException" });
        assert.deepEqual(withSignatureGap("FAILED", "containment failed: x", "y"), { status: "FAILED", reason: "containment failed: x; manifest signature: y" });
        assert.deepEqual(withSignatureGap("SUCCEEDED", "r", undefined), { status: "SUCCEEDED", reason: "r" });
    });
});

describe("the simulated KMS signing key, as the KMS Sign and GetPublicKey pages describe it", function () {
    this.timeout(60_000);
    const sign = (sim: ReturnType<typeof seedAccount>, input: Record<string, unknown>) => sim.invoke("kms", "Sign", input);
    const refused = async (p: Promise<unknown>) => p.then(() => "accepted", (e: Error) => e.name);

    it("signs a 32-byte digest as ECDSA_SHA_256 that node:crypto verifies against GetPublicKey's key; refuses other lengths, unknown and symmetric keys", async () => {
        const sim = seedAccount({ finding: finding(), simOptions: { iam: false } } as DrillOptions);
        const keyId = sim.environment().MANIFEST_SIGNING_KEY_ARN as string;
        const message = Buffer.from("a manifest");
        const out = await sign(sim, { KeyId: keyId, Message: sha256(message), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" });
        const pub = await sim.invoke("kms", "GetPublicKey", { KeyId: keyId });
        assert.equal(pub.KeySpec, "ECC_NIST_P256");
        assert.equal(pub.KeyUsage, "SIGN_VERIFY");
        assert.equal(out.KeyId, keyId);
        assert.equal(verifySignature(message, out.Signature as Uint8Array, pub.PublicKey as Uint8Array).valid, true);
        // RAW: KMS hashes first, so the same verifier accepts it too.
        const raw = await sign(sim, { KeyId: keyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" });
        assert.equal(verifySignature(message, raw.Signature as Uint8Array, pub.PublicKey as Uint8Array).valid, true);
        assert.equal(await refused(sign(sim, { KeyId: keyId, Message: sha256(message).subarray(1), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })), "ValidationException");
        assert.equal(await refused(sign(sim, { KeyId: keyId, Message: sha256(message), MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256" })), "InvalidKeyUsageException");
        assert.equal(await refused(sign(sim, { KeyId: "alias/nope", Message: sha256(message), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })), "NotFoundException");
        assert.equal(await refused(sign(sim, { KeyId: "alias/dfir-evidence", Message: sha256(message), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })), "InvalidKeyUsageException");
        assert.equal(await refused(sign(sim, { KeyId: keyId, Message: sha256(message), MessageType: "DIGEST" })), "ValidationException", "SigningAlgorithm is required (the model)");
    });

    it("refuses a disabled key (DisabledException)", async () => {
        const sim = seedAccount({ finding: finding(), simOptions: { iam: false, signingKeyDisabled: true } } as DrillOptions);
        const keyId = sim.environment().MANIFEST_SIGNING_KEY_ARN as string;
        assert.equal(await refused(sign(sim, { KeyId: keyId, Message: sha256(Buffer.from("m")), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })), "DisabledException");
    });

    it("as deployed: the analyst (an administrator of the hub) may read the public key but not sign (the key policy's deny)", async () => {
        const sim = seedAccount({ finding: finding() } as DrillOptions);
        const keyId = sim.environment().MANIFEST_SIGNING_KEY_ARN as string;
        assert.equal(await refused(sim.invoke("kms", "GetPublicKey", { KeyId: keyId })), "accepted");
        assert.equal(await refused(sign(sim, { KeyId: keyId, Message: sha256(Buffer.from("forged")), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" })), "AccessDeniedException");
   
        // The seal's role signs a digest, and only a digest (kms:MessageType); no other function's role signs at all.
        const digest = { KeyId: keyId, Message: sha256(Buffer.from("manifest")), MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" };
        const as = (fn: string, input: Record<string, unknown>) => refused(sim.runAs(sim.functionRoleArn(fn), () => sign(sim, input)));
        assert.equal(await as("seal", digest), "accepted");
        assert.equal(await as("seal", { ...digest, Message: Buffer.from("manifest"), MessageType: "RAW" }), "AccessDeniedException");
        assert.equal(await as("snapshot", digest), "AccessDeniedException");
    });
});

describe("the seal signs the manifest", function () {
    this.timeout(180_000);

    it("stores the signature record beside the manifest under COMPLIANCE, records it on the case, and it verifies with the stored public key", async () => {
        const { report, sim } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        assert.deepEqual(report.iamDenied, []);
        const m = report.evidence.manifest!;
        const signs = sim.calls.filter((c) => c.action === "kms:Sign");
        // The seal signs its manifest; the digest step, after it, its disk digest record (functions/lib/signing.ts).
        assert.deepEqual(signs.map((c) => [c.ok, c.principal?.split("/").pop()]), [[true, "dfir-response-seal"], [true, "dfir-response-digest"]]);
        const versions = sim.objectVersions(m.bucket, signatureKey(m.key));
        assert.equal(versions.length, 1);
        assert.equal(versions[0]?.lockMode, "COMPLIANCE");
        const record = JSON.parse(sim.objectBody(m.bucket, signatureKey(m.key)).toString("utf8"));
        assert.equal(record.signed.sha256, m.sha256);
        const keyId = sim.environment().MANIFEST_SIGNING_KEY_ARN as string;
        const pem = sim.objectBody(m.bucket, publicKeyObjectKey(keyId)).toString("utf8");
        assert.deepEqual(verifySignatureRecord(sim.objectBody(m.bucket, m.key), record, pem).problems, []);
    });

    it("a retried seal (its Lambda killed after the signature was stored) adopts the stored signature: one record, one version", async () => {
        // The seal's calls: PutObject (manifest), kms:Sign, PutObject (signature), then UpdateItem: killed before the last.
        const { report, sim } = await drill({ kill: { state: "Seal", afterCalls: 3 } } as Partial<DrillOptions>);
        assert.equal(report.status, "SUCCEEDED", report.reason);
        const m = report.evidence.manifest!;
        assert.equal(sim.objectVersions(m.bucket, signatureKey(m.key)).length, 1, "the first signature stands");
        assert.ok(sim.calls.some((c) => c.action === "s3:PutObject" && !c.ok && c.errorName === "PreconditionFailed"), "the retry met the stored records");
    });

    it("signing-key-disabled: the manifest is sealed all the same; the case is PARTIAL and says its signature is missing; dfir verify fails naming it", async () => {
        const { report, sim } = await drill({ scenario: "signing-key-disabled" });
        assert.equal(report.status, "PARTIAL");
        assert.match(report.reason, /; manifest signature: not signed: DisabledException: arn:aws:kms:\S+ is disabled\.$/);
        const m = report.evidence.manifest!;
        assert.ok(sim.objectBody(m.bucket, m.key).length > 0, "the manifest is there");
        assert.equal(sim.objectVersions(m.bucket, signatureKey(m.key)).length, 0, "no signature record");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-sig-"));
        try {
            sim.saveState(dir);
            const out = await run(["verify", report.caseId as string, "--simulated", dir, "--json"]);
            assert.equal(out.code, 1, out.stderr);
            const verified = JSON.parse(out.stdout);
            assert.deepEqual(verified.signature, { valid: false, problems: [`no signature was made: not signed: DisabledException: ${sim.environment().MANIFEST_SIGNING_KEY_ARN} is disabled.`] });
            assert.ok(verified.problems.includes(`${m.key}: signature: ${verified.signature.problems[0]}`));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("dfir verify and dfir verify-manifest check the signature", function () {
    this.timeout(180_000);
    let drilled: string;
    let caseId: string;
    let manifest: { bucket: string; key: string };
    const dirs: string[] = [];
    const copy = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-sig-"));
        fs.cpSync(drilled, dir, { recursive: true });
        dirs.push(dir);
        return dir;
    };
    /** Change one byte of the newest version of the object at `key` in a kept account's state file. */
    const flipByte = (dir: string, key: string, at: (body: Buffer) => number) => {
        const file = path.join(dir, "state.json");
        const doc = JSON.parse(fs.readFileSync(file, "utf8"));
        const versions = doc.state.buckets[manifest.bucket].objects[key];
        const last = versions[versions.length - 1];
        const body = Buffer.from(last.body.$b64, "base64");
        body[at(body)] ^= 0x01;
        last.body = { $b64: body.toString("base64") };
        fs.writeFileSync(file, JSON.stringify(doc));
    };

    before(async () => {
        const { report, sim } = await drill();
        assert.equal(report.status, "SUCCEEDED", report.reason);
        drilled = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-sig-drilled-"));
        sim.saveState(drilled);
        caseId = report.caseId as string;
        manifest = report.evidence.manifest!;
        // What a third party downloads: the manifest, its signature record, the public key.
        fs.writeFileSync(path.join(drilled, "manifest.json"), sim.objectBody(manifest.bucket, manifest.key));
        fs.writeFileSync(path.join(drilled, "manifest.sig.json"), sim.objectBody(manifest.bucket, signatureKey(manifest.key)));
        fs.writeFileSync(path.join(drilled, "public.pem"), sim.objectBody(manifest.bucket, publicKeyObjectKey(sim.environment().MANIFEST_SIGNING_KEY_ARN as string)));
    });
    after(() => {
        for (const dir of [drilled, ...dirs]) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("verify --json: signature valid, by the key the seal used, its record locked; one changed byte of the manifest: exit 1 naming it", async () => {
        const dir = copy();
        const html = path.join(dir, "report.html");
        const ok = await run(["verify", caseId, "--simulated", dir, "--json", "--html", html]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
        const report = JSON.parse(ok.stdout);
        assert.match(fs.readFileSync(html, "utf8"), /<h2>Manifest signature<\/h2>\n<table>.*\n<tr class="good"><td>ok<\/td><td class="wrap">cases\/\S+\.sig\.json<\/td>/);
        assert.equal(report.signature.valid, true);
        assert.equal(report.signature.algorithm, "ECDSA_SHA_256");
        assert.match(report.signature.keyId, /^arn:aws:kms:us-east-2:\d{12}:key\//);
        assert.equal(report.signature.lock.mode, "COMPLIANCE");
        assert.match(report.signature.publicKeySource, /^kms:GetPublicKey /);

        // Inside a string value, so the manifest is still JSON: only the hash and the signature can tell.
        flipByte(dir, manifest.key, (b) => b.indexOf("SUCCEEDED") + 2);
        const bad = await run(["verify", caseId, "--simulated", dir, "--json"]);
        assert.equal(bad.code, 1);
        const tampered = JSON.parse(bad.stdout);
        assert.equal(tampered.signature.valid, false);
        assert.ok(tampered.problems.some((p: string) => p.startsWith(manifest.key) && p.includes(": sha256 ")), tampered.problems.join("\n"));
        assert.ok(tampered.problems.includes(`${manifest.key}: signature: the signature does not match these bytes under this public key`), tampered.problems.join("\n"));
    });

    it("verify: a changed signature record is a problem naming the manifest", async () => {
        const dir = copy();
        flipByte(dir, signatureKey(manifest.key), (b) => b.indexOf('"signature":"') + 20);
        const out = await run(["verify", caseId, "--simulated", dir]);
        assert.equal(out.code, 1);
        assert.match(out.stdout, new RegExp(`MISMATCH: ${manifest.key.replace(/[.]/g, "\\.")}: signature: `));
    });

    it("verify: a signature by a key other than the deployment's is a problem, whatever the records name", async () => {
        // Whoever could rewrite the case record, the signature record and a PEM beside them could name their own key:
        // the deployment's key (--signing-key; in a simulated account, its deployment's) decides.
        const dir = copy();
        const file = path.join(dir, "state.json");
        const doc = JSON.parse(fs.readFileSync(file, "utf8"));
        const deployed = doc.state.deployment.manifestSigningKeyArn as string;
        const other = deployed.replace(/key\/.*$/, "key/00000000-0000-0000-0000-00000000beef");
        doc.state.deployment.manifestSigningKeyArn = other;
        fs.writeFileSync(file, JSON.stringify(doc));
        const out = await run(["verify", caseId, "--simulated", dir, "--json"]);
        assert.equal(out.code, 1);
        const report = JSON.parse(out.stdout);
        assert.equal(report.signature.valid, false);
        assert.ok(report.problems.includes(`${manifest.key}: signature: signed with ${deployed}, not the deployment's signing key ${other}`), report.problems.join("\n"));
        // Bad input: one line, exit 2, before any AWS call.
        const bad = await run(["verify", caseId, "--region", "us-east-1", "--table", "t-cases", "--signing-key", "alias/dfir"]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /--signing-key must be a KMS key ARN/);
    });

    it("verify-manifest: the downloaded manifest verifies offline with the public key alone, no AWS client made, no credentials", async () => {
        const made: string[] = [];
        setClientCustomizer((_c, service) => made.push(service));
        const saved = { ...process.env };
        for (const k of Object.keys(process.env)) if (/^AWS_/.test(k)) delete process.env[k];
        try {
            const f = (n: string) => path.join(drilled, n);
            const ok = await run(["verify-manifest", f("manifest.json"), "--signature", f("manifest.sig.json"), "--public-key", f("public.pem"), "--json"]);
            assert.equal(ok.code, 0, ok.stdout + ok.stderr);
            assert.equal(JSON.parse(ok.stdout).valid, true);
            // The bare signature too, DER and base64, and a DER public key.
            const record = JSON.parse(fs.readFileSync(f("manifest.sig.json"), "utf8"));
            fs.writeFileSync(f("sig.der"), Buffer.from(record.signature, "base64"));
            fs.writeFileSync(f("sig.b64"), `${record.signature}\n`);
            fs.writeFileSync(f("public.der"), createPublicKey(fs.readFileSync(f("public.pem"), "utf8")).export({ format: "der", type: "spki" }));
            for (const [sig, key] of [["sig.der", "public.pem"], ["sig.b64", "public.der"]]) {
                const bare = await run(["verify-manifest", f("manifest.json"), "--signature", f(sig as string), "--public-key", f(key as string)]);
                assert.equal(bare.code, 0, bare.stdout);
                assert.match(bare.stdout, /^VALID: /m);
            }
            const changed = fs.readFileSync(f("manifest.json"));
            changed[changed.indexOf("SUCCEEDED") + 2] ^= 0x01;
            fs.writeFileSync(f("changed.json"), changed);
            const bad = await run(["verify-manifest", f("changed.json"), "--signature", f("manifest.sig.json"), "--public-key", f("public.pem")]);
            assert.equal(bad.code, 1);
            assert.match(bad.stdout, /MISMATCH: the signature does not match these bytes under this public key/);
            const missing = await run(["verify-manifest", f("nope.json"), "--signature", f("manifest.sig.json"), "--public-key", f("public.pem")]);
            assert.equal(missing.code, 2);
            assert.match(missing.stderr, /^dfir: cannot read the manifest .*nope\.json: ENOENT\n$/);
            assert.deepEqual(made, [], "no AWS client was built");
        } finally {
            setClientCustomizer(undefined);
            Object.assign(process.env, saved);
        }
    });
});
