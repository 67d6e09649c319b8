import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { forwarderRolePolicy, forwardingTarget } from "../core/eventPolicies";
import { deadLetterQueuePolicy, serviceTrustPolicy, type PolicyDocument } from "../core/iam";
import { buildTriggerRules } from "../core/pattern";
import { validateTriageOptions, type TriageOptionsInput } from "../core/triage";

export interface FindingForwarderArgs {
    /** The hub account running the response (`ResponseWorkflow`) in this region. */
    readonly hubAccountId: pulumi.Input<string>;
    /**
     * The hub's region. Must be this forwarder's own region (the member region, where its detector reports):
     * the response keeps memory and disk evidence in the instance's region. A different value fails the
     * deployment with both regions named.
     */
    readonly hubRegion: string;
    /** Lowest GuardDuty severity forwarded: use the hub's value. @default 7 */
    readonly minSeverity?: number;
    /** Forward GuardDuty sample findings: use the hub's value. @default false */
    readonly allowSamples?: boolean;
    /**
     * The hub's other triggers: their events are forwarded too (credential exfiltration and Security Hub findings
     * of this member region, tag changes of its instances), one rule each, same patterns as the hub's. A member
     * whose Security Hub findings already reach the hub through a Security Hub administrator may deliver the same
     * finding twice: both name the same case (case id from instance and finding id) and the second joins it.
     * @default all on
     */
    readonly triggers?: Pick<TriageOptionsInput, "credentialExfiltration" | "securityHub" | "tagTrigger">;
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

const json = (d: pulumi.Input<PolicyDocument>) => pulumi.output(d).apply((v) => JSON.stringify(v));

/**
 * For a member account (and region) OUTSIDE a GuardDuty organization, running its own detector: relays the
 * findings the hub responds to into the hub's default event bus in the same region, where the hub's own
 * response rule picks them up. Created in the MEMBER account/region (its provider in `opts`); the hub admits
 * the account with `HubEventBusPolicy`. Members of a GuardDuty organization need none of this: the delegated
 * administrator receives their findings directly (`GuardDutyOrganization`).
 *
 * The rules' patterns are `buildTriggerRules` of the same triage options as the hub's rule, so a member forwards
 * exactly what the hub would act on. Delivery uses a role allowed `events:PutEvents` on that one bus, retries
 * for a day, then parks the event in a dead-letter queue in the member account (SSE on) rather than lose it.
 */
export class FindingForwarder extends pulumi.ComponentResource {
    public readonly ruleArn: pulumi.Output<string>;
    public readonly hubBusArn: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;
    public readonly deadLetterQueueUrl: pulumi.Output<string>;

    constructor(name: string, args: FindingForwarderArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:detection:FindingForwarder", name, {}, opts);
        const options = validateTriageOptions({ minSeverity: args.minSeverity, allowSamples: args.allowSamples, ...args.triggers });
        const tags = { ...args.tags };
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const region = aws.getRegionOutput({}, parent).region;

        // The member region is the provider's, known only once the data source answers: a mismatch fails
        // here, before the rule's target or its role policy can be created.
        const hubBusArn = pulumi.all([partition, account, region, args.hubAccountId]).apply(([p, a, r, hub]) =>
            forwardingTarget({ partition: p, memberAccountId: a, memberRegion: r, hubAccountId: hub, hubRegion: args.hubRegion }));

        // One rule per trigger kind, from the same options as the hub's (core/pattern.ts buildTriggerRules; no
        // account filter: a member forwards only its own account's events). The GuardDuty one keeps `-findings`.
        const triggerRules = buildTriggerRules(options).map((r) => {
            const ruleName = `${name}-${r.kind === "guardduty" ? "findings" : r.kind}${r.part > 1 ? `-${r.part}` : ""}`;
            return {
                ruleName,
                rule: new aws.cloudwatch.EventRule(ruleName, {
                    description: r.kind === "guardduty"
                        ? `aws-dfir: forward GuardDuty instance findings of severity >= ${options.minSeverity} to the hub`
                        : `aws-dfir: forward ${r.kind} trigger events to the hub`,
                    eventPattern: JSON.stringify(r.pattern),
                    tags,
                }, parent),
            };
        });
        const rule = triggerRules[0].rule;
        const role = new aws.iam.Role(`${name}-forward`, {
            description: `aws-dfir: EventBridge forwards findings to the hub bus (${name})`,
            assumeRolePolicy: json(account.apply((a) => serviceTrustPolicy("events.amazonaws.com", a))),
            tags,
        }, parent);
        const rolePolicy = new aws.iam.RolePolicy(`${name}-forward`, {
            role: role.id,
            policy: json(hubBusArn.apply(forwarderRolePolicy)),
        }, parent);

        const dlq = new aws.sqs.Queue(`${name}-dead-letters`, {
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
            tags,
        }, parent);
        new aws.sqs.QueuePolicy(`${name}-dead-letters`, {
            queueUrl: dlq.url,
            policy: json(pulumi.all([dlq.arn, ...triggerRules.map((t) => t.rule.arn)]).apply(([q, ...r]) => deadLetterQueuePolicy(q, r))),
        }, parent);

        for (const { ruleName, rule: triggerRule } of triggerRules) {
            new aws.cloudwatch.EventTarget(ruleName, {
                rule: triggerRule.name,
                arn: hubBusArn,
                roleArn: role.arn,
                // Same delivery guarantee as the hub's own rule: a throttled or briefly denied PutEvents (bus policy
                // not yet updated) is retried for a day, then the event waits in the dead-letter queue.
                retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
                deadLetterConfig: { arn: dlq.arn },
            }, { parent: this, dependsOn: [rolePolicy] });
        }

        this.ruleArn = rule.arn;
        this.hubBusArn = hubBusArn;
        this.roleArn = role.arn;
        this.deadLetterQueueUrl = dlq.url;
        this.registerOutputs({
            ruleArn: this.ruleArn,
            hubBusArn: this.hubBusArn,
            roleArn: this.roleArn,
            deadLetterQueueUrl: this.deadLetterQueueUrl,
        });
    }
}
