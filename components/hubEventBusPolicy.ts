import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { defaultEventBusArn, hubEventBusPolicy, normaliseAccountIds } from "../core/eventPolicies";

export interface HubEventBusPolicyArgs {
    /** Member accounts whose `FindingForwarder` sends to this bus. Required unless `organizationId` is given. @default [] */
    readonly memberAccountIds?: readonly string[];
    /**
     * Admit the forwarders of any account of this organization (`aws:PrincipalOrgID`); with `memberAccountIds`,
     * only those accounts of it. @default none
     */
    readonly organizationId?: string;
    /** The event sources the members forward (core/pattern.ts `triggerSources`). @default ["aws.guardduty"] */
    readonly sources?: readonly string[];
}

/**
 * Resource policy of the hub region's DEFAULT event bus, created in the hub account/region (its provider in
 * `opts`): `events:PutEvents` of GuardDuty events only, only from the listed member accounts (or organization).
 * Needed for `FindingForwarder` members only; organization members' findings reach the delegated administrator
 * without it.
 *
 * A bus has ONE resource policy and this resource owns it whole: statements added outside this stack (e.g.
 * `aws events put-permission`) are overwritten. List every account here instead.
 */
export class HubEventBusPolicy extends pulumi.ComponentResource {
    public readonly busArn: pulumi.Output<string>;

    constructor(name: string, args: HubEventBusPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:detection:HubEventBusPolicy", name, {}, opts);
        const members = normaliseAccountIds(args.memberAccountIds ?? []);
        if (members.length === 0 && args.organizationId === undefined) {
            throw new Error(`HubEventBusPolicy ${name}: give memberAccountIds or organizationId (the policy would admit nobody)`);
        }
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const region = aws.getRegionOutput({}, parent).region;
        const busArn = pulumi.all([partition, region, account]).apply(([p, r, a]) => defaultEventBusArn(p, r, a));

        new aws.cloudwatch.EventBusPolicy(name, {
            eventBusName: "default",
            policy: pulumi.all([partition, busArn]).apply(([p, b]) =>
                JSON.stringify(hubEventBusPolicy({ partition: p, busArn: b, memberAccountIds: members, organizationId: args.organizationId, sources: args.sources }))),
        }, parent);

        this.busArn = busArn;
        this.registerOutputs({ busArn: this.busArn });
    }
}
