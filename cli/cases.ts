/**
 * `dfir cases [--open]`: the case registry (the workflow's DynamoDB table), one row per case: status, instance,
 * account and region, opened / sealed times, and what the seal recorded. Reads only.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { client } from "../functions/lib/aws";
import type { AnalystContext } from "./context";

type Attribute = { S?: string; L?: Attribute[]; M?: Record<string, Attribute> };
type Item = Record<string, Attribute>;

/** One case as the registry holds it. */
export interface CaseSummary {
    caseId: string;
    status: string;
    statusReason?: string;
    instanceId?: string;
    accountId?: string;
    region?: string;
    openedAt?: string;
    sealedAt?: string;
    /** When `dfir release` undid the containment. */
    releasedAt?: string;
    findings: number;
    manifest?: { bucket: string; key: string; sha256: string; versionId?: string; signature?: RecordedSignature };
}

/** A signature recorded on the case: where it is and the key that signed it, or why there is none. */
export type RecordedSignature = { key: string; versionId?: string; keyId: string } | { missing: string };

/**
 * The signature of the record named by `prefix` (`manifest`, `diskDigest`) as the case holds it (the attributes
 * functions/lib/signing.ts `signatureFields` writes), or undefined when none is recorded. Pure.
 */
export function recordedSignature(item: Readonly<Record<string, { S?: string } | undefined>>, prefix: string): RecordedSignature | undefined {
    const s = (name: string) => item[`${prefix}${name}`]?.S;
    const key = s("SignatureKey");
    const keyId = s("SigningKeyId");
    if (key && keyId) return { key, keyId, ...(s("SignatureVersionId") ? { versionId: s("SignatureVersionId") as string } : {}) };
    const missing = s("SignatureMissing");
    return missing ? { missing } : undefined;
}

/** A `CASE#` item as a summary; undefined for any other item (the open-case locks). Pure. */
export function caseSummary(item: Item): CaseSummary | undefined {
    const s = (name: string) => item[name]?.S;
    if (!s("pk")?.startsWith("CASE#")) return undefined;
    const target = item.target?.M ?? {};
    // The manifest's signature as the seal recorded it (core/signature.ts), or why there is none.
    const signature = recordedSignature(item, "manifest");
    const manifest = s("manifestKey") && s("manifestBucket") && s("manifestSha256")
        ? {
            bucket: s("manifestBucket") as string, key: s("manifestKey") as string, sha256: s("manifestSha256") as string,
            ...(s("manifestVersionId") ? { versionId: s("manifestVersionId") } : {}),
            ...(signature ? { signature } : {}),
        }
        : undefined;
    return {
        caseId: s("caseId") ?? (s("pk") as string).slice("CASE#".length),
        status: s("status") ?? "UNKNOWN",
        ...(s("statusReason") ? { statusReason: s("statusReason") } : {}),
        ...(target.instanceId?.S ? { instanceId: target.instanceId.S } : {}),
        ...(target.accountId?.S ? { accountId: target.accountId.S } : {}),
        ...(target.region?.S ? { region: target.region.S } : {}),
        ...(s("openedAt") ? { openedAt: s("openedAt") } : {}),
        ...(s("sealedAt") ? { sealedAt: s("sealedAt") } : {}),
        ...(s("releasedAt") ? { releasedAt: s("releasedAt") } : {}),
        findings: item.findingIds?.L?.length ?? 0,
        ...(manifest ? { manifest } : {}),
    };
}

/** Every case of the table (all pages), newest first; `open`: only cases not sealed yet. */
export async function listCases(ctx: AnalystContext, options: { open?: boolean } = {}): Promise<CaseSummary[]> {
    const dynamodb = client("dynamodb", { region: ctx.region });
    const cases: CaseSummary[] = [];
    let start: Item | undefined;
    do {
        const page = await dynamodb.send(new ScanCommand({ TableName: ctx.casesTable, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
        for (const item of (page.Items ?? []) as Item[]) {
            const summary = caseSummary(item);
            if (summary && (!options.open || summary.status === "OPEN")) cases.push(summary);
        }
        start = page.LastEvaluatedKey as Item | undefined;
    } while (start);
    return cases.sort((a, b) => (b.openedAt ?? "").localeCompare(a.openedAt ?? "") || a.caseId.localeCompare(b.caseId));
}
