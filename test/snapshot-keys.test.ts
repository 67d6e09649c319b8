import { strict as assert } from "node:assert";
import { isKeyNotAccessible, KEY_NOT_ACCESSIBLE, sourceKeyCause } from "../core/snapshotKeys";

const ACCOUNT = "222222222222";
const KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

describe("sourceKeyCause: why a member copy could not use its source snapshot's key", () => {
    it("recognizes EC2's state message, whatever its case, and nothing else", () => {
        assert.ok(isKeyNotAccessible(KEY_NOT_ACCESSIBLE));
        assert.ok(isKeyNotAccessible("given key id is not accessible"));
        assert.ok(!isKeyNotAccessible("The snapshot copy could not be completed"));
    });

    it("a key of the account: names the key first, and that its key policy does not let the account's IAM policies use it", () => {
        const cause = sourceKeyCause(KEY, ACCOUNT);
        assert.ok(cause.startsWith(`KMS key ${KEY} (the source snapshot's): its key policy does not let the account's IAM policies use it`), cause);
        assert.match(cause, new RegExp(`"Enable IAM User Permissions" statement for arn:aws:iam::${ACCOUNT}:root`));
        assert.match(cause, /or denies the role, or the key is not enabled/);
        // The partition is the key's.
        assert.match(sourceKeyCause(KEY.replace("arn:aws:", "arn:aws-cn:"), ACCOUNT), /arn:aws-cn:iam::222222222222:root/);
    });

    it("a key of another account: the responder role may use only its own account's keys", () => {
        const other = KEY.replace(ACCOUNT, "333333333333");
        assert.equal(sourceKeyCause(other, ACCOUNT), `KMS key ${other} (the source snapshot's) is account 333333333333's: the responder role may use only account ${ACCOUNT}'s keys`);
    });

    it("the AWS managed aws/ebs key (usable through EC2): the share key is the one refused", () => {
        assert.match(sourceKeyCause(`arn:aws:kms:us-east-1:${ACCOUNT}:alias/aws/ebs`, ACCOUNT), /AWS managed key aws\/ebs.*the share key is the one/);
    });

    it("no key, or not a key ARN: says what is known and claims nothing more", () => {
        assert.match(sourceKeyCause(undefined, ACCOUNT), /^the source snapshot's KMS key is not known/);
        assert.match(sourceKeyCause("", ACCOUNT), /^the source snapshot's KMS key is not known/);
        assert.equal(sourceKeyCause("1234abcd", ACCOUNT), "KMS key 1234abcd (the source snapshot's) is not usable by the responder role");
    });
});
