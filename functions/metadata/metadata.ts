/**
 * Metadata evidence: what EC2 says about the instance at response time — its description, its network
 * interfaces, the serial console output and a console screenshot — each stored as one Object-Locked object under
 * `cases/<caseId>/metadata/` with its sha256. Items are independent and collected in parallel; one that cannot be
 * had (a screenshot on an instance type without one, an empty console) is recorded as missing with the reason,
 * and only a step with nothing at all collected fails.
 */
import {
    DescribeInstancesCommand,
    DescribeNetworkInterfacesCommand,
    GetConsoleOutputCommand,
    GetConsoleScreenshotCommand,
    type EC2Client,
    type NetworkInterface,
} from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import { casePrefix, type EvidenceObject, type InstanceRecord, type MetadataEvidence, type Target } from "../../core/workflow";
import {
    errorText,
    putLockedObject,
    parseStepEvent,
    sameInstance,
    STEP_WITH_EVIDENCE,
} from "../lib/evidence";
import * as z from "zod";
import {  } from "../lib/schemas";
import { log } from "../lib/log";
import { MetadataCaptureFailedError } from "../lib/evidenceErrors";

/** `{caseId, target, instance, evidence}`: the evidence branch input. */
/** `{caseId, target, instance, evidence: {bucket, prefix}}`. */
export const MetadataEventSchema = z.object(STEP_WITH_EVIDENCE, { error: "must be an object {caseId, target, instance, evidence}" }).superRefine(sameInstance);

export type MetadataEvent = z.infer<typeof MetadataEventSchema>;

/**
 * The metadata step's result. Beyond the contract's {@link MetadataEvidence}, `collectedAt` records when the
 * collection ran (the manifest's action log needs a time; the contract has no field for it).
 */
export type MetadataResult = MetadataEvidence & { collectedAt: string };

export interface MetadataSettings {
    /** Object Lock COMPLIANCE retain-until of every object. */
    retainUntil: Date;
    now: () => Date;
}

export interface MetadataClients {
    /** EC2 in the instance's account. */
    ec2: EC2Client;
    /** S3 of the evidence bucket. */
    s3: S3Client;
}

/** Got nothing worth storing (not an error of the call): becomes a missing item with this reason. */
class NothingToStore extends Error {
    override name = "NothingToStore";
}

/** One item: its name (as in `missing`), its object name under the metadata prefix, and how to get its bytes. */
interface MetadataItem {
    item: string;
    file: string;
    contentType: string;
    collect: (ec2: EC2Client, instanceId: string) => Promise<Uint8Array | string>;
}

/** The items, in the order they are reported. */
export const METADATA_ITEMS: readonly MetadataItem[] = [
    {
        item: "instance",
        file: "instance.json",
        contentType: "application/json",
        collect: async (ec2, instanceId) => {
            const { $metadata: _, ...out } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
            const found = (out.Reservations ?? []).some((r) => (r.Instances ?? []).some((i) => i.InstanceId === instanceId));
            if (!found) throw new NothingToStore(`DescribeInstances did not return ${instanceId}`);
            return `${JSON.stringify(out, null, 2)}\n`;
        },
    },
    {
        item: "network-interfaces",
        file: "network-interfaces.json",
        contentType: "application/json",
        collect: async (ec2, instanceId) => {
            const interfaces: NetworkInterface[] = [];
            let NextToken: string | undefined;
            do {
                const page = await ec2.send(
                    new DescribeNetworkInterfacesCommand({
                        Filters: [{ Name: "attachment.instance-id", Values: [instanceId] }],
                        ...(NextToken ? { NextToken } : {}),
                    }),
                );
                interfaces.push(...(page.NetworkInterfaces ?? []));
                NextToken = page.NextToken;
            } while (NextToken);
            return `${JSON.stringify({ NetworkInterfaces: interfaces }, null, 2)}\n`;
        },
    },
    {
        item: "console-output",
        file: "console-output.txt",
        contentType: "text/plain; charset=utf-8",
        collect: async (ec2, instanceId) => {
            // Latest: the most recent output (Nitro), rather than the buffer as of the last boot/stop.
            const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
            if (!out.Output) throw new NothingToStore("no console output available");
            // Kept as the bytes EC2 returned (decoded from base64), not re-encoded as text.
            return Buffer.from(out.Output, "base64");
        },
    },
    {
        item: "console-screenshot",
        file: "console-screenshot.jpg",
        contentType: "image/jpeg",
        collect: async (ec2, instanceId) => {
            // WakeUp stays off: the response observes the console, it does not interact with it.
            const out = await ec2.send(new GetConsoleScreenshotCommand({ InstanceId: instanceId, WakeUp: false }));
            if (!out.ImageData) throw new NothingToStore("no screenshot returned");
            return Buffer.from(out.ImageData, "base64");
        },
    },
];

export function parseMetadataEvent(input: unknown): MetadataEvent {
    return parseStepEvent("metadata", MetadataEventSchema, input);
}

/** The metadata prefix of a case. */
export function metadataPrefix(caseId: string): string {
    return `${casePrefix(caseId)}metadata/`;
}

/**
 * Collects every item in parallel (a slow screenshot must not delay the rest) and stores each as it arrives.
 * Throws {@link MetadataCaptureFailedError} only when nothing at all was stored.
 */
export async function collectMetadata(clients: MetadataClients, event: MetadataEvent, settings: MetadataSettings): Promise<MetadataResult> {
    const { caseId, target, evidence } = event;
    const context = { caseId, instanceId: target.instanceId };
    const collectedAt = settings.now().toISOString();

    const outcomes = await Promise.allSettled(
        METADATA_ITEMS.map(async (item): Promise<EvidenceObject> => {
            const body = await item.collect(clients.ec2, target.instanceId);
            return putLockedObject(clients.s3, {
                bucket: evidence.bucket,
                key: `${metadataPrefix(caseId)}${item.file}`,
                body,
                contentType: item.contentType,
                retainUntil: settings.retainUntil,
                metadata: { "case-id": caseId, "instance-id": target.instanceId, item: item.item },
            });
        }),
    );

    const objects: EvidenceObject[] = [];
    const missing: MetadataEvidence["missing"] = [];
    outcomes.forEach((outcome, index) => {
        const { item } = METADATA_ITEMS[index];
        if (outcome.status === "fulfilled") {
            objects.push(outcome.value);
        } else {
            const reason = outcome.reason instanceof NothingToStore ? outcome.reason.message : errorText(outcome.reason);
            missing.push({ item, reason });
            log("WARN", "metadata item missing", { ...context, item, reason });
        }
    });
    if (objects.length === 0) throw new MetadataCaptureFailedError(context, missing);
    return { objects, missing, collectedAt };
}
