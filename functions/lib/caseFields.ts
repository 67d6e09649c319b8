/**
 * Record string fields on an existing case (the seal's manifest fields, the digest step's record fields): one
 * conditional SET, never creating a case. Both steps call it after their evidence is stored under Object Lock, so a
 * missing case record is logged and the step goes on: the evidence already written is never lost to the record.
 */
import { UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { awsErrorIs } from "./evidence";

/** Set `fields` on case `caseId`; false when the case record does not exist (nothing written). */
export async function setCaseFields(dynamodb: DynamoDBClient, table: string, caseId: string, fields: Readonly<Record<string, string>>): Promise<boolean> {
    const names = Object.keys(fields);
    try {
        await dynamodb.send(new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: `CASE#${caseId}` } },
            ConditionExpression: "attribute_exists(#pk)",
            UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(", ")}`,
            ExpressionAttributeNames: { "#pk": "pk", ...Object.fromEntries(names.map((n, i) => [`#f${i}`, n])) },
            ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, { S: fields[n] as string }])),
        }));
        return true;
    } catch (error) {
        if (awsErrorIs(error, ["ConditionalCheckFailedException"])) return false;
        throw error;
    }
}
