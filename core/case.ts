/**
 * Case identity. A case groups everything done about one incident on one instance; its id is stamped on the
 * instance (`dfir:case-id`), on evidence keys and in notifications.
 */
import { createHash } from "node:crypto";

/**
 * A deterministic case id for a finding on an instance: GuardDuty re-publishes the same finding id every
 * publishing interval, and each delivery must land in the same case rather than open a new one.
 * Shape: `<instanceId>-<first 12 hex of sha256(findingId)>` — short enough for a tag value, an S3 key prefix
 * and an SNS subject, and free of characters any of them reject.
 */
export function caseIdFor(instanceId: string, findingId: string): string {
    const digest = createHash("sha256").update(findingId, "utf8").digest("hex").slice(0, 12);
    return `${instanceId}-${digest}`;
}
