import { readdirSync } from "node:fs";
import * as path from "node:path";

/**
 * The real GuardDuty finding events the project is tested and drilled against, kept in the repository
 * (`fixtures/guardduty/`, provenance in its INDEX.md). The one place their location is written: tests, the
 * drill, triage and the benchmarks take it from here.
 */
export const GUARDDUTY_FIXTURES = path.resolve(__dirname, "..", "..", "fixtures", "guardduty");

/**
 * The finding `npm run drill` responds to when no `--finding` is given: a real GuardDuty finding (2022,
 * `CryptoCurrency:EC2/BitcoinTool.B!DNS`, severity 8, ids redacted by its author) that triage acts on.
 */
export const DEFAULT_FINDING = path.join(GUARDDUTY_FIXTURES, "CryptoCurrency_EC2_BitcoinTool.B_DNS.json");

/** Every fixture event file, by absolute path, in name order (INDEX.md is not one). */
export function guardDutyFixtureFiles(): string[] {
    return readdirSync(GUARDDUTY_FIXTURES)
        .filter((name) => name.endsWith(".json"))
        .sort()
        .map((name) => path.join(GUARDDUTY_FIXTURES, name));
}
