/**
 * Reading IAM policy documents as resources carry them: a JSON string (usual) or an object, possibly unknown
 * during preview, with `Statement` an object or a list and `Action`/`Principal` values a string or a list.
 */
import { asList, isObject, isUnknown } from "./model";

export type ParsedDocument =
    | { readonly kind: "absent" }
    | { readonly kind: "unknown" }
    | { readonly kind: "invalid"; readonly reason: string }
    | { readonly kind: "document"; readonly statements: readonly Record<string, unknown>[] };

export function parsePolicyDocument(value: unknown): ParsedDocument {
    if (value === undefined || value === null || value === "") return { kind: "absent" };
    if (isUnknown(value)) return { kind: "unknown" };
    let doc: unknown = value;
    if (typeof value === "string") {
        try {
            doc = JSON.parse(value);
        } catch (error) {
            return { kind: "invalid", reason: `not valid JSON (${(error as Error).message})` };
        }
    }
    if (!isObject(doc)) return { kind: "invalid", reason: "not a JSON object" };
    if (isUnknown(doc.Statement)) return { kind: "unknown" };
    const statements = asList(doc.Statement);
    if (!statements.every(isObject)) return { kind: "invalid", reason: "a statement is not an object" };
    return { kind: "document", statements: statements as Record<string, unknown>[] };
}

/** How a statement is named in messages: its Sid, else its position. */
export function statementLabel(statement: Record<string, unknown>, position: number): string {
    return typeof statement.Sid === "string" && statement.Sid !== "" ? `statement ${statement.Sid}` : `statement #${position + 1}`;
}

/** Action patterns that grant every action, or every action of a service: "*", "s3:*", "*:*". */
export function isWildcardAction(action: string): boolean {
    return action === "*" || /^[^:]+:\*$/.test(action);
}

/**
 * Why a condition value is not a fixed value, or undefined when it is one. Amazon S3 counts a policy as
 * non-public only when it grants access to "fixed values (values that don't contain a wildcard or an AWS Identity
 * and Access Management Policy Variable)" ("Blocking public access to your Amazon S3 storage" > "The meaning of
 * public", Amazon S3 User Guide). Wildcards are `*` and `?` (StringLike/ArnLike, "IAM JSON policy elements:
 * Condition operators"); a policy variable is `${...}` ("IAM policy elements: Variables and tags"), including
 * `${*}`, `${?}` and `${$}`, which are taken as not fixed too. Numbers and booleans are fixed.
 */
export function notFixedBecause(value: unknown): string | undefined {
    if (typeof value === "number" || typeof value === "boolean") return undefined;
    if (typeof value !== "string") return "not a string";
    if (value.includes("${")) return "a policy variable";
    if (/[*?]/.test(value)) return "a wildcard";
    return undefined;
}
