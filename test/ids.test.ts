import { strict as assert } from "node:assert";
import { ACCOUNT_ID, AMI_ID, REGION, ROLE_ARN, VPC_ID } from "../core/ids";
import { AWS_REGIONS } from "../core/regions";

describe("AWS identifier shapes (core/ids.ts, the one place they are checked)", () => {
    it("every region the project knows is a region name; look-alikes are not", () => {
        for (const region of [...AWS_REGIONS, "us-gov-west-1", "ap-southeast-10"]) assert.ok(REGION.test(region), region);
        for (const bad of ["us-east", "US-EAST-1", "useast1", "us-east-1a", "us-east-123", ""]) assert.equal(REGION.test(bad), false, bad);
    });

    it("account ids are exactly 12 digits; role ARNs name a role in any partition", () => {
        assert.ok(ACCOUNT_ID.test("123456789012"));
        for (const bad of ["12345678901", "1234567890123", "12345678901a"]) assert.equal(ACCOUNT_ID.test(bad), false, bad);
        for (const arn of ["arn:aws:iam::123456789012:role/dfir-responder", "arn:aws-us-gov:iam::123456789012:role/path/x"]) assert.ok(ROLE_ARN.test(arn), arn);
        for (const bad of ["arn:aws:iam::123456789012:user/x", "arn:aws:iam::12345:role/x", "arn:aws:iam::123456789012:role/*"]) assert.equal(ROLE_ARN.test(bad), false, bad);
    });

    it("EC2 resource ids are their prefix and 8 or 17 lower-case hex digits", () => {
        for (const id of ["vpc-12345678", "vpc-0123456789abcdef0"]) assert.ok(VPC_ID.test(id), id);
        for (const bad of ["vpc-1234567", "vpc-0123456789abcdef", "vpc-0123456789ABCDEF0", "sg-12345678", "vpc-123456789"]) assert.equal(VPC_ID.test(bad), false, bad);
        assert.ok(AMI_ID.test("ami-0123456789abcdef0") && !AMI_ID.test("ami-0123456789"));
    });
});
