import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { AVML_BUILDS, AVML_RELEASE_ASSETS, AVML_VERSION, elfBuild, type AvmlBuild } from "../core/avml";
import type { AvmlPaths } from "../core/config";
import { lockedBucket } from "./lockedBucket";
import { evidenceBucketPolicy, evidenceKeyPolicy, manifestSigningKeyPolicy } from "../core/iam";
import { publicKeyObjectKey, SIGNING_KEY_SPEC, SIGNING_KEY_USAGE } from "../core/signature";
import { TAGS } from "../core/tags";

export interface EvidenceStoreArgs {
    /**
     * Default Object Lock retention (COMPLIANCE mode) of every object written, in days.
     * @default 365
     */
    readonly retentionDays?: number;
    /**
     * The only principal allowed to delete object versions, bypass governance retention or change the lock
     * configuration. Without it nobody may.
     * @default undefined
     */
    readonly breakGlassRoleArn?: pulumi.Input<string>;
    /**
     * Local paths of the pinned avml builds (`x86_64`, `aarch64`: core/avml.ts). Each is checked to be its build (ELF
     * header) and staged as `tools/avml-<build>-<sha256 prefix>` with its sha256 in the object's metadata; the memory
     * step sends each instance its architecture's build and checks that hash before the instance runs it.
     * @default undefined: no tool staged, memory evidence is reported missing
     */
    readonly avml?: AvmlPaths;
    /**
     * Capture roles of member accounts (exact ARNs, `arn:aws:iam::<member>:role/dfir-capture`) that upload memory
     * images here from contained instances: the bucket and key policies admit them for tools read and memory
     * write only. They need not exist yet (the policies name the accounts, narrowed by `aws:PrincipalArn`).
     * @default [] (the key keeps the default key policy)
     */
    readonly memberCaptureRoleArns?: readonly string[];
    /**
     * Names of the roles that sign manifests with the store's signing key, as prefixes (the seal function's role is
     * `<workflow>-seal` plus Pulumi's suffix): the key policy denies `kms:Sign` to every other principal.
     * @default [] (the account's IAM policies decide who signs)
     */
    readonly manifestSignerRoleNamePrefixes?: readonly string[];
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The evidence bucket of one region: Object Lock in COMPLIANCE mode (enabled at creation: it cannot be added
 * later without a support token), versioned, encrypted with its own rotating KMS key, no public access, TLS
 * only, and tamper actions denied to all but a break-glass role.
 */
export class EvidenceStore extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucketArn: pulumi.Output<string>;
    public readonly keyArn: pulumi.Output<string>;
    /** The asymmetric key (ECC_NIST_P256, SIGN_VERIFY) the seal signs manifests with (core/signature.ts). */
    public readonly signingKeyArn: pulumi.Output<string>;
    /** Its public key (PEM), also stored in the bucket at `keys/manifest-signing-<key id>.pem`. */
    public readonly signingPublicKeyPem: pulumi.Output<string>;
    public readonly retentionDays: number;
    /** The staged avml builds (key and sha256 of each), those given. */
    public readonly avml: Partial<Record<AvmlBuild, { key: pulumi.Output<string>; sha256: string }>> = {};

    constructor(name: string, args: EvidenceStoreArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:storage:EvidenceStore", name, {}, opts);
        const retentionDays = args.retentionDays ?? 365;
        if (!Number.isInteger(retentionDays) || retentionDays < 1) {
            throw new Error(`EvidenceStore ${name}: retentionDays must be a whole number of days >= 1, got ${retentionDays}`);
        }
        this.retentionDays = retentionDays;
        const tags = { ...args.tags, [TAGS.role]: TAGS.roleEvidence };
        // Evidence outlives the stack: deleting the stack must never delete the bucket or its key.
        const keep = { parent: this, retainOnDelete: true };

        const writers = [...(args.memberCaptureRoleArns ?? [])].sort();
        const keyPolicy = writers.length === 0 ? undefined : pulumi
            .all([aws.getPartitionOutput({}, { parent: this }).partition, aws.getCallerIdentityOutput({}, { parent: this }).accountId])
            .apply(([p, a]) => JSON.stringify(evidenceKeyPolicy(p, a, writers)));
        const key = new aws.kms.Key(`${name}-key`, {
            description: `aws-dfir evidence encryption (${name})`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            ...(keyPolicy ? { policy: keyPolicy } : {}),
            tags,
        }, keep);

        const { bucket, versioning, lock, publicAccess } = lockedBucket(this, name, {
            retentionDays,
            // Bucket keys cut KMS requests (and cost) for multi-GB multipart memory uploads.
            encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true },
            tags,
        });

        // An aborted memory capture leaves an incomplete multipart upload: invisible, but billed until removed.
        new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
            bucket: bucket.id,
            rules: [{
                id: "abort-incomplete-uploads",
                status: "Enabled",
                filter: { prefix: "cases/" },
                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            }],
        }, { parent: this, dependsOn: [versioning] });

        // After the lock configuration: the policy denies changing it.
        new aws.s3.BucketPolicy(`${name}-policy`, {
            bucket: bucket.id,
            policy: pulumi.all([bucket.arn, args.breakGlassRoleArn]).apply(([arn, role]) =>
                JSON.stringify(evidenceBucketPolicy(arn, role, writers))),
        }, { parent: this, dependsOn: [lock, publicAccess] });

        for (const build of AVML_BUILDS) {
            const file = args.avml?.[build];
            if (file === undefined) continue;
            let bytes: Buffer;
            try {
                bytes = fs.readFileSync(file);
            } catch (error) {
                throw new Error(`EvidenceStore ${name}: cannot read avml.${build} ${file}: ${(error as Error).message}`);
            }
            const built = elfBuild(bytes);
            if ("problem" in built) throw new Error(`EvidenceStore ${name}: avml.${build} ${file} ${built.problem}; expected the ${AVML_RELEASE_ASSETS[build]} release asset of avml ${AVML_VERSION}`);
            if (built.build !== build) {
                throw new Error(`EvidenceStore ${name}: avml.${build} ${file} is the ${built.build} build (ELF header); expected the ${AVML_RELEASE_ASSETS[build]} release asset of avml ${AVML_VERSION}`);
            }
            const sha256 = createHash("sha256").update(bytes).digest("hex");
            // Content-addressed key: a new binary is a new object; the old one stays (it is locked anyway).
            const tool = new aws.s3.BucketObjectv2(`${name}-avml-${build}`, {
                bucket: bucket.id,
                key: `tools/avml-${build}-${sha256.slice(0, 16)}`,
                source: new pulumi.asset.FileAsset(file),
                metadata: { sha256 },
                contentType: "application/octet-stream",
            }, { parent: this, dependsOn: [lock] });
            this.avml[build] = { key: tool.key, sha256 };
        }

        // The manifests' signing key: asymmetric, so KMS cannot rotate it (KMS API Reference, EnableKeyRotation);
        // its public key lets anyone check a manifest offline. Kept like the evidence it vouches for.
        const signingKey = new aws.kms.Key(`${name}-signing`, {
            description: `aws-dfir manifest signing (${name})`,
            customerMasterKeySpec: SIGNING_KEY_SPEC,
            keyUsage: SIGNING_KEY_USAGE,
            deletionWindowInDays: 30,
            policy: pulumi
                .all([aws.getPartitionOutput({}, { parent: this }).partition, aws.getCallerIdentityOutput({}, { parent: this }).accountId])
                .apply(([p, a]) => JSON.stringify(manifestSigningKeyPolicy(p, a, args.manifestSignerRoleNamePrefixes ?? []))),
            tags,
        }, keep);
        const publicKey = aws.kms.getPublicKeyOutput({ keyId: signingKey.arn }, { parent: this });
        new aws.s3.BucketObjectv2(`${name}-signing-public-key`, {
            bucket: bucket.id,
            key: signingKey.keyId.apply(publicKeyObjectKey),
            content: publicKey.publicKeyPem,
            contentType: "application/x-pem-file",
        }, { parent: this, dependsOn: [lock] });

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.keyArn = key.arn;
        this.signingKeyArn = signingKey.arn;
        this.signingPublicKeyPem = publicKey.publicKeyPem;
        this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, keyArn: this.keyArn, signingKeyArn: this.signingKeyArn, signingPublicKeyPem: this.signingPublicKeyPem });
    }
}
