/** Every simulated operation, by service, and the lazy "time passes" step run before each call and view. */
import type { SimService } from "../errors";
import type { Handler, World } from "../world";
import { AUTOSCALING_HANDLERS, ELBV2_HANDLERS, settleTargets } from "./autoscaling";
import { DYNAMODB_HANDLERS } from "./dynamodb";
import { EBS_HANDLERS } from "./ebs";
import { EC2_HANDLERS, settleVolumes } from "./ec2";
import { IAM_HANDLERS, STS_HANDLERS } from "./identity";
import { KMS_HANDLERS } from "./kms";
import { S3_HANDLERS } from "./s3";
import { SNS_HANDLERS, SSM_HANDLERS, settleCommands } from "./ssm";
import { VPC_HANDLERS } from "./vpc";
import { deliverTrails } from "../trail";

export const HANDLERS: Record<SimService, Record<string, Handler>> = {
    ec2: { ...EC2_HANDLERS, ...VPC_HANDLERS },
    autoscaling: AUTOSCALING_HANDLERS,
    elbv2: ELBV2_HANDLERS,
    iam: IAM_HANDLERS,
    sts: STS_HANDLERS,
    s3: S3_HANDLERS,
    dynamodb: DYNAMODB_HANDLERS,
    ssm: SSM_HANDLERS,
    sns: SNS_HANDLERS,
    kms: KMS_HANDLERS,
    ebs: EBS_HANDLERS,
};

/** Apply whatever became due on the simulator clock: finished SSM invocations, targets done draining, volumes created. */
export function settle(world: World): void {
    settleCommands(world);
    for (const { state } of world.allRegions()) {
        settleTargets(world, state);
        settleVolumes(world, state);
    }
    deliverTrails(world);
}
