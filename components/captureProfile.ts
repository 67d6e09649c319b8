import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy, ssmManagedInstanceCoreArn } from "../core/iam";

/** What {@link createCaptureProfile} needs besides the owner component. */
export interface CaptureProfileArgs {
    /** Fixed IAM name of the role and its profile (multi-account: the functions derive the ARN); auto-named without. */
    readonly name?: string;
    readonly description: string;
    /** The role's inline policy (JSON): tools read, memory write, the evidence keys (`core/iam.ts` captureStatements). */
    readonly policy: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/**
 * The forensic-capture role and instance profile Contain swaps onto a contained instance: EC2 trust, the
 * AmazonSSMManagedInstanceCore managed policy (to run the capture document), and the given inline policy. One
 * definition for the one-account workflow and every account's `MemberAccess`; the children are named
 * `<owner>-capture` (role, inline policy, profile) and `<owner>-capture-ssm` under the owner, as they always were.
 */
export function createCaptureProfile(owner: string, args: CaptureProfileArgs, parent: pulumi.Resource): { roleArn: pulumi.Output<string>; profileArn: pulumi.Output<string> } {
    const opts = { parent };
    const role = new aws.iam.Role(`${owner}-capture`, {
        ...(args.name ? { name: args.name } : {}),
        description: args.description,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ec2.amazonaws.com")),
        tags: args.tags,
    }, opts);
    new aws.iam.RolePolicyAttachment(`${owner}-capture-ssm`, {
        role: role.name,
        policyArn: pulumi.output(args.partition).apply(ssmManagedInstanceCoreArn),
    }, opts);
    new aws.iam.RolePolicy(`${owner}-capture`, { role: role.id, policy: args.policy }, opts);
    const profile = new aws.iam.InstanceProfile(`${owner}-capture`, { ...(args.name ? { name: args.name } : {}), role: role.name, tags: args.tags }, opts);
    return { roleArn: role.arn, profileArn: profile.arn };
}
