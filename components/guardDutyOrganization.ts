import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";

/** How GuardDuty enrols organization members: every member, existing and new; new accounts only; none. */
export type AutoEnable = "ALL" | "NEW" | "NONE";
const AUTO_ENABLE: readonly AutoEnable[] = ["ALL", "NEW", "NONE"];

export interface GuardDutyOrganizationArgs {
    /** The hub's (delegated administrator's) detector in this region, e.g. `GuardDutyDetection.detectorId`. */
    readonly detectorId: pulumi.Input<string>;
    /** Which organization members GuardDuty enables in this region. @default "ALL" (existing and new) */
    readonly autoEnable?: AutoEnable;
    /** Malware Protection for EC2 on the members. @default true */
    readonly ebsMalwareProtection?: boolean;
    /** Runtime Monitoring, with GuardDuty managing the EC2 security agent, on the members. @default false */
    readonly runtimeMonitoring?: boolean;
    /**
     * Extra tags. The organization configuration resources take none; kept so hub components share one
     * argument shape. @default {}
     */
    readonly tags?: Record<string, string>;
}

/**
 * GuardDuty for a whole AWS Organization in ONE region, created in the hub account (the GuardDuty delegated
 * administrator) with that region's provider in `opts`. Repeat per region: organization configuration,
 * delegated administration and findings are all regional.
 *
 * - Members are enrolled per `autoEnable`; each feature is written with an explicit value: a feature that is
 *   on follows `autoEnable` (so "NEW" never reconfigures existing members), a feature that is off is "NONE".
 *   Turning a feature off here stops auto-enabling it; it does not switch it off in accounts already enabled.
 * - The administrator's detector settings apply to members: its `findingPublishingFrequency`
 *   (`GuardDutyDetection` sets FIFTEEN_MINUTES) is the members' frequency too, so repeat findings re-reach the
 *   response at the same pace as the hub's own.
 * - Member findings are delivered to the ADMINISTRATOR's EventBridge in the same region (with the member's
 *   `account` and `detail.accountId`): the hub's `ResponseWorkflow` rule in that region sees them with no
 *   forwarding and no bus policy. `FindingForwarder` is only for accounts outside the organization.
 * - Prerequisite: the organization's management account must first designate the hub as GuardDuty delegated
 *   administrator in this region — `GuardDutyDelegatedAdmin` below, deployed with the MANAGEMENT account's
 *   provider (a separate stack or provider), or once by hand:
 *   `aws guardduty enable-organization-admin-account --admin-account-id <hub> --region <region>`.
 *   Until then creating the organization configuration fails with an access error.
 */
export class GuardDutyOrganization extends pulumi.ComponentResource {
    public readonly detectorId: pulumi.Output<string>;
    public readonly autoEnable: AutoEnable;

    constructor(name: string, args: GuardDutyOrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:detection:GuardDutyOrganization", name, {}, opts);
        const autoEnable = args.autoEnable ?? "ALL";
        if (!AUTO_ENABLE.includes(autoEnable)) {
            throw new Error(`GuardDutyOrganization ${name}: autoEnable must be one of ${AUTO_ENABLE.join(", ")}, got "${autoEnable}"`);
        }
        const featureValue = (on: boolean): AutoEnable => (on ? autoEnable : "NONE");
        const runtime = featureValue(args.runtimeMonitoring ?? false);

        const configuration = new aws.guardduty.OrganizationConfiguration(name, {
            detectorId: args.detectorId,
            autoEnableOrganizationMembers: autoEnable,
        }, { parent: this });

        // Each feature is applied by its own UpdateOrganizationConfiguration call on this detector: run them one
        // after the other, after the members' setting, so concurrent updates of one configuration cannot conflict.
        const malware = new aws.guardduty.OrganizationConfigurationFeature(`${name}-ebs-malware-protection`, {
            detectorId: args.detectorId,
            name: "EBS_MALWARE_PROTECTION",
            autoEnable: featureValue(args.ebsMalwareProtection ?? true),
        }, { parent: this, dependsOn: [configuration] });
        new aws.guardduty.OrganizationConfigurationFeature(`${name}-runtime-monitoring`, {
            detectorId: args.detectorId,
            name: "RUNTIME_MONITORING",
            autoEnable: runtime,
            additionalConfigurations: [{ name: "EC2_AGENT_MANAGEMENT", autoEnable: runtime }],
        }, { parent: this, dependsOn: [malware] });

        this.detectorId = pulumi.output(args.detectorId);
        this.autoEnable = autoEnable;
        this.registerOutputs({ detectorId: this.detectorId });
    }
}

export interface GuardDutyDelegatedAdminArgs {
    /** The hub account to make GuardDuty delegated administrator of the organization in this region. */
    readonly adminAccountId: pulumi.Input<string>;
}

/**
 * Designates the hub as the organization's GuardDuty delegated administrator in ONE region. Must be created
 * with the organization MANAGEMENT account's provider (in `opts`) for that region, before the hub's
 * `GuardDutyOrganization`; repeat per region. The hub account cannot do this itself. Removing this resource
 * removes the delegation, which disassociates every member from the hub: protect it (`protect: true` in
 * `opts`) in production.
 */
export class GuardDutyDelegatedAdmin extends pulumi.ComponentResource {
    public readonly adminAccountId: pulumi.Output<string>;

    constructor(name: string, args: GuardDutyDelegatedAdminArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:detection:GuardDutyDelegatedAdmin", name, {}, opts);
        if (typeof args.adminAccountId === "string" && !/^\d{12}$/.test(args.adminAccountId)) {
            throw new Error(`GuardDutyDelegatedAdmin ${name}: adminAccountId must be a 12-digit AWS account id, got "${args.adminAccountId}"`);
        }
        const admin = new aws.guardduty.OrganizationAdminAccount(name, { adminAccountId: args.adminAccountId }, { parent: this });
        this.adminAccountId = admin.adminAccountId;
        this.registerOutputs({ adminAccountId: this.adminAccountId });
    }
}
