/**
 * Why a member's evidence snapshot could not be copied for the hub because of its KMS key, as a pure decision.
 *
 * EC2 does not refuse a CopySnapshot whose caller may not use a key: "the operation fails silently and the snapshot
 * copy receives the 'Given key ID is not accessible' status message" (EBS User Guide, "Copy an Amazon EBS
 * snapshot"), naming no key. The member copy is made by the responder role, reading the source snapshot under its
 * volume's key and writing under the member's share key. The role's own policy lets EC2 use every key of its account
 * for reading (core/iam.ts memberVolumeKeyStatements) and the share key (whose policy the stack writes, enabling
 * the account's IAM policies). So a source key of the account that EBS cannot use is one whose key policy does not
 * let the account's IAM policies use it (no "Enable IAM User Permissions" statement for the account, nor one for the
 * role: KMS Developer Guide, "Key policies in AWS KMS", "Default key policy"), or that denies the role, or that is
 * not enabled; a key of another account is not granted at all. Without a KMS client the function cannot tell these
 * apart further: the cause names the key and says so.
 */

/** EC2's StateMessage of a copy whose caller may not use a key it needs (EBS User Guide, "Copy an Amazon EBS snapshot"). */
export const KEY_NOT_ACCESSIBLE = "Given key ID is not accessible";

/** Whether a copy's failure is EC2's "key not accessible". */
export function isKeyNotAccessible(message: string): boolean {
    return message.toLowerCase().includes(KEY_NOT_ACCESSIBLE.toLowerCase());
}

const KEY_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;

/**
 * The cause of a member copy's "key not accessible", from the source snapshot's key (its `KmsKeyId`, as
 * DescribeSnapshots gives it; undefined when it gave none) and the member's account. Names the key first.
 */
export function sourceKeyCause(sourceKeyId: string | undefined, accountId: string): string {
    if (sourceKeyId === undefined || sourceKeyId === "") {
        return "the source snapshot's KMS key is not known (DescribeSnapshots named none): the key it is under, or the share key, is not usable by the responder role";
    }
    const arn = KEY_ARN.exec(sourceKeyId);
    if (!arn) return `KMS key ${sourceKeyId} (the source snapshot's) is not usable by the responder role`;
    const [, partition, , keyAccount, kind, name] = arn;
    if (keyAccount !== accountId) {
        return `KMS key ${sourceKeyId} (the source snapshot's) is account ${keyAccount}'s: the responder role may use only account ${accountId}'s keys`;
    }
    if (kind === "alias" && name === "aws/ebs") {
        return `the source snapshot is under the AWS managed key aws/ebs, which the account may use through EC2: the share key is the one the responder role could not use`;
    }
    return `KMS key ${sourceKeyId} (the source snapshot's): its key policy does not let the account's IAM policies use it `
        + `(no "Enable IAM User Permissions" statement for arn:${partition}:iam::${accountId}:root, nor one for the responder role), `
        + "or denies the role, or the key is not enabled; the responder role's own policy lets EC2 use the account's keys";
}
