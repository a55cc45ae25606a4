// What the unit tests of the Compose mapping read of an import: its findings as lines, and the
// problems Dockyard's own validation finds in the stack it wrote.
import { parseEnvironment } from "../../config/parse";
import type { ComposeImport } from "../../ops/compose";

/** Each finding as `<severity> <path>: <why>`. */
export const findings = (r: ComposeImport) => r.findings.map((f) => `${f.severity} ${f.path}: ${f.why}`);

/** parseEnvironment's problems for the mapped stack (every secret key set), or none. */
export function problems(r: ComposeImport): readonly string[] {
    try {
        parseEnvironment(JSON.parse(JSON.stringify(r.environment)), { keys: { isSecret: () => true }, projectDir: "/" });
        return [];
    } catch (e) {
        return (e as { problems: readonly string[] }).problems;
    }
}
