/**
 * Cross-account delivery of GuardDuty findings to the hub: the member's forwarding rule writes into the hub
 * region's default event bus, which admits only the listed member accounts. Pure functions of the ids and ARNs
 * they name; `components/findingForwarder.ts` and `components/hubEventBusPolicy.ts` serialise them, tests read
 * them without Pulumi. No wildcard action anywhere.
 */
import { GUARDDUTY_SOURCE } from "./finding";
import type { PolicyDocument } from "./iam";
import { ACCOUNT_ID, REGION } from "./ids";

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** The one action a member may perform on the hub's bus, and the forwarder's role on it. */
export const FORWARD_ACTION = "events:PutEvents";

function checkAccountId(field: string, value: string): void {
    if (!ACCOUNT_ID.test(value)) throw new Error(`${field} must be a 12-digit AWS account id, got "${value}"`);
}

/**
 * ARN of an account's default event bus in a region (`arn:aws:events:<region>:<account>:event-bus/default`).
 * Throws on a malformed account id or region.
 */
export function defaultEventBusArn(partition: string, region: string, accountId: string): string {
    checkAccountId("accountId", accountId);
    if (!REGION.test(region)) throw new Error(`region must be an AWS region name such as us-east-1, got "${region}"`);
    return `arn:${partition}:events:${region}:${accountId}:event-bus/default`;
}

/** Where a member's forwarding rule lives and where it sends. */
export interface ForwardingRoute {
    readonly partition: string;
    /** The member account and region the rule (and the GuardDuty detector it listens to) live in. */
    readonly memberAccountId: string;
    readonly memberRegion: string;
    readonly hubAccountId: string;
    readonly hubRegion: string;
}

/**
 * The hub bus a member region forwards to. The hub must be in the member's own region: the response captures
 * memory and snapshots into the hub region's evidence bucket and runs SSM against the instance from there, so
 * a cross-region route would move evidence out of the instance's region (and SSM/EC2 calls would miss it).
 * A hub equal to the member would make the rule re-deliver into the bus it listens on. Throws naming both
 * values in either case.
 */
export function forwardingTarget(route: ForwardingRoute): string {
    checkAccountId("hubAccountId", route.hubAccountId);
    checkAccountId("memberAccountId", route.memberAccountId);
    if (route.hubRegion !== route.memberRegion) {
        throw new Error(
            `hubRegion ${route.hubRegion} differs from the member region ${route.memberRegion}: findings must reach the hub ` +
            `in the instance's own region (deploy a hub in ${route.memberRegion}, or forward to the hub's ${route.memberRegion} bus)`,
        );
    }
    if (route.hubAccountId === route.memberAccountId) {
        throw new Error(
            `hubAccountId ${route.hubAccountId} is the member account ${route.memberAccountId} itself: the hub's own response rule ` +
            `already sees this account's findings, and a rule targeting its own bus would loop`,
        );
    }
    return defaultEventBusArn(route.partition, route.hubRegion, route.hubAccountId);
}

/** The forwarding rule's role: `events:PutEvents` on exactly the hub's bus, nothing else. */
export function forwarderRolePolicy(hubBusArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "ForwardFindingsToHub", Effect: "Allow", Action: FORWARD_ACTION, Resource: hubBusArn }],
    };
}

export interface HubBusPolicyOptions {
    readonly partition: string;
    /** ARN of the hub's default bus (the policy's only resource). */
    readonly busArn: string;
    /** Accounts allowed to put events. Required unless `organizationId` is given; with it, narrows the org. */
    readonly memberAccountIds?: readonly string[];
    /** Admit any account of this organization (`aws:PrincipalOrgID`), narrowed by `memberAccountIds` if listed. */
    readonly organizationId?: string;
    /** The `events:source` values admitted (every trigger's source the members forward). @default ["aws.guardduty"] */
    readonly sources?: readonly string[];
}

/** Member account ids, checked, de-duplicated and sorted (a stable document: no diff when the order changes). */
export function normaliseAccountIds(ids: readonly string[]): string[] {
    ids.forEach((id, i) => checkAccountId(`memberAccountIds[${i}]`, id));
    return [...new Set(ids)].sort();
}

/**
 * Resource policy of the hub's default bus: `events:PutEvents` only, only on that bus, only for GuardDuty
 * events (`events:source`; the `aws.` sources cannot be forged through PutEvents, so what members can send is
 * exactly what their forwarding rules relay), and only from the listed accounts — as account principals, or,
 * when an organization id is given, any principal of that organization (`aws:PrincipalOrgID`), further limited
 * to the listed accounts (`aws:PrincipalAccount`) when some are. Throws when neither is given or an id is
 * malformed.
 */
export function hubEventBusPolicy(o: HubBusPolicyOptions): PolicyDocument {
    const accounts = normaliseAccountIds(o.memberAccountIds ?? []);
    if (o.organizationId !== undefined && !ORGANIZATION_ID.test(o.organizationId)) {
        throw new Error(`organizationId must look like o-abcd123456, got "${o.organizationId}"`);
    }
    if (accounts.length === 0 && o.organizationId === undefined) {
        throw new Error("memberAccountIds is empty and no organizationId is given: the bus policy would admit nobody");
    }
    const source = { "ForAllValues:StringEquals": { "events:source": o.sources && o.sources.length > 0 ? [...new Set(o.sources)].sort() : [GUARDDUTY_SOURCE] } };
    const statement = o.organizationId === undefined
        ? {
            Principal: { AWS: accounts.map((a) => `arn:${o.partition}:iam::${a}:root`) },
            Condition: source,
        }
        : {
            Principal: "*",
            Condition: {
                ...source,
                StringEquals: {
                    "aws:PrincipalOrgID": o.organizationId,
                    ...(accounts.length > 0 ? { "aws:PrincipalAccount": accounts } : {}),
                },
            },
        };
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "MemberFindingsToHub", Effect: "Allow", Action: FORWARD_ACTION, Resource: o.busArn, ...statement }],
    };
}
