import * as path from "node:path";

/** `node -r` this to run the repository's TypeScript (scripts/register-ts.js: ts-node with swc): absolute, any cwd. */
export const TS_REGISTER = path.join(__dirname, "..", "register-ts.js");
