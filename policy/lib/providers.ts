/**
 * What a resource's provider says about where the resource lives: the AWS account it deploys into, when the
 * provider's configuration states it.
 *
 * The engine hands each resource its provider (an explicit `aws.Provider`, or its default provider
 * `pulumi:providers:aws::default_<version>` configured from the stack's `aws:` settings). @pulumi/aws serializes
 * the provider's list and object inputs as JSON strings (`allowedAccountIds: "[\"111111111111\"]"`,
 * node_modules/@pulumi/aws/provider.js); stack config may hold them as arrays. Both are read.
 */
import { isObject, isUnknown, type RuleProvider, type RuleResource } from "./model";

/** The account a provider deploys into: a 12-digit id, "unknown" (a value unknown at preview), or undefined (not stated). */
export type AccountOf = string | "unknown" | undefined;

const ACCOUNT_ID = /^\d{12}$/;

/** A provider input as a JSON value: strings holding JSON lists/objects are parsed, anything else kept. */
function jsonValue(value: unknown): unknown {
    if (typeof value !== "string" || isUnknown(value)) return value;
    const text = value.trim();
    if (!text.startsWith("[") && !text.startsWith("{")) return value;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** The account of an IAM role ARN (`arn:<partition>:iam::<account>:role/...`). */
function roleAccount(arn: unknown): AccountOf {
    if (isUnknown(arn)) return "unknown";
    if (typeof arn !== "string") return undefined;
    const account = arn.split(":")[4];
    return account !== undefined && ACCOUNT_ID.test(account) ? account : undefined;
}

/**
 * The account a provider's configuration pins it to:
 * - `allowedAccountIds` with exactly one account (the provider refuses credentials of any other account);
 * - else the account of the last role of `assumeRoles` (the provider assumes them in order: the last one is the
 *   identity every call is made as), or of the older single `assumeRole`.
 * Neither stated (ambient credentials): undefined. A list of several allowed accounts states none of them.
 */
export function providerAccount(provider: RuleProvider | undefined): AccountOf {
    if (provider === undefined) return undefined;
    const props = provider.props;
    const allowed = jsonValue(props.allowedAccountIds);
    if (isUnknown(allowed)) return "unknown";
    if (Array.isArray(allowed)) {
        if (allowed.some(isUnknown)) return "unknown";
        if (allowed.length === 1 && typeof allowed[0] === "string" && ACCOUNT_ID.test(allowed[0])) return allowed[0];
    }
    const roles = jsonValue(props.assumeRoles);
    if (isUnknown(roles)) return "unknown";
    if (Array.isArray(roles) && roles.length > 0) {
        const last = roles[roles.length - 1];
        if (isUnknown(last)) return "unknown";
        return isObject(last) ? roleAccount(last.roleArn) : undefined;
    }
    const role = jsonValue(props.assumeRole);
    if (isUnknown(role)) return "unknown";
    return isObject(role) ? roleAccount(role.roleArn) : undefined;
}

/** Whether two resources go through the same provider (both through none counts as the same). */
export function sameProvider(a: RuleResource, b: RuleResource): boolean {
    return (a.provider?.urn ?? "") === (b.provider?.urn ?? "");
}

/** A provider as messages name it: its logical name (the URN's last part), or "the default provider". */
export function providerLabel(r: RuleResource): string {
    const urn = r.provider?.urn;
    if (urn === undefined) return "no provider";
    const name = urn.split("::").pop() ?? urn;
    return name.startsWith("default") ? `the default provider (${name})` : `provider ${name}`;
}
