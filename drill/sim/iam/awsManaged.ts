/**
 * AWS managed policies the simulated accounts attach, as documents (data, not behaviour): what AWS publishes for
 * them in the AWS Managed Policy Reference. Only those a simulated call can meet are here.
 */

/**
 * AmazonSSMManagedInstanceCore (AWS Managed Policy Reference, version v3): what the SSM agent needs on an instance
 * — its heartbeat and associations (ssm:*), Session Manager (ssmmessages:*), Run Command delivery (ec2messages:*).
 * Both the instance's own role (its agent was online when the finding came) and the deployment's capture role
 * (components/captureProfile.ts attaches it) carry it.
 */
export const AMAZON_SSM_MANAGED_INSTANCE_CORE = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Action: [
                "ssm:DescribeAssociation",
                "ssm:GetDeployablePatchSnapshotForInstance",
                "ssm:GetDocument",
                "ssm:DescribeDocument",
                "ssm:GetManifest",
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:ListAssociations",
                "ssm:ListInstanceAssociations",
                "ssm:PutInventory",
                "ssm:PutComplianceItems",
                "ssm:PutConfigurePackageResult",
                "ssm:UpdateAssociationStatus",
                "ssm:UpdateInstanceAssociationStatus",
                "ssm:UpdateInstanceInformation",
            ],
            Resource: "*",
        },
        {
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
        },
        {
            Effect: "Allow",
            Action: [
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:GetEndpoint",
                "ec2messages:GetMessages",
                "ec2messages:SendReply",
            ],
            Resource: "*",
        },
    ],
});
