import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";

export interface GuardDutyDetectionArgs {
    /**
     * How often GuardDuty re-publishes updates of an existing finding to EventBridge. New findings arrive
     * within about 5 minutes whatever this says; the default of the service is SIX_HOURS.
     * @default "FIFTEEN_MINUTES"
     */
    readonly findingPublishingFrequency?: "FIFTEEN_MINUTES" | "ONE_HOUR" | "SIX_HOURS";
    /** Malware Protection for EC2: scan the EBS volumes of instances with findings. @default true */
    readonly ebsMalwareProtection?: boolean;
    /** Runtime Monitoring, with GuardDuty managing the security agent on EC2. @default false */
    readonly runtimeMonitoring?: boolean;
    /** Extra tags. @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The region's GuardDuty detector. A region has at most one: adopt an existing detector with `pulumi import`
 * or leave it unmanaged (stack config `dfir:manageDetector: false`). Features are written with an explicit
 * status either way, so turning one off in config turns it off in the account.
 */
export class GuardDutyDetection extends pulumi.ComponentResource {
    public readonly detectorId: pulumi.Output<string>;

    constructor(name: string, args: GuardDutyDetectionArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:detection:GuardDutyDetection", name, {}, opts);
        const frequency = args.findingPublishingFrequency ?? "FIFTEEN_MINUTES";
        const status = (on: boolean) => (on ? "ENABLED" : "DISABLED");

        const detector = new aws.guardduty.Detector(name, {
            enable: true,
            findingPublishingFrequency: frequency,
            tags: args.tags,
        }, { parent: this });

        new aws.guardduty.DetectorFeature(`${name}-ebs-malware-protection`, {
            detectorId: detector.id,
            name: "EBS_MALWARE_PROTECTION",
            status: status(args.ebsMalwareProtection ?? true),
        }, { parent: this });

        const runtime = args.runtimeMonitoring ?? false;
        new aws.guardduty.DetectorFeature(`${name}-runtime-monitoring`, {
            detectorId: detector.id,
            name: "RUNTIME_MONITORING",
            status: status(runtime),
            additionalConfigurations: [{ name: "EC2_AGENT_MANAGEMENT", status: status(runtime) }],
        }, { parent: this });

        this.detectorId = detector.id;
        this.registerOutputs({ detectorId: this.detectorId });
    }
}
