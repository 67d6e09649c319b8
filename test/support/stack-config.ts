import * as path from "node:path";
import { readStackConfig, stackFile } from "../../scripts/lib/stack-config";

export const REPO = path.resolve(__dirname, "..", "..");

/** A stack file's `config:` map as Pulumi hands it to a program: every value a string, objects as JSON. */
export function stackConfig(stack: string): Record<string, string> {
    return readStackConfig(stackFile(REPO, stack));
}
