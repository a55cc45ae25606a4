// The policy pack's config for one stack, derived from its stack file, and the policy violations
// of a preview or update, read from the engine's events. `review` and `deploy` run the pack
// (policy/) with this config; `npm run dockyard -- policy <stack>` writes it for plain
// `pulumi preview --policy-pack policy --policy-pack-config <file>` runs.
import * as fs from "fs";
import * as path from "path";
import { environmentSchema } from "../config/schema";
import { DEFAULT_LEVELS, RULES, Rule, RuleSettings } from "../policy/rules";
import { Violation } from "./report";

export type Level = "mandatory" | "advisory" | "disabled";
/** What `--policy-pack-config` takes: rule → its level and settings. */
export type PackConfig = Record<string, { enforcementLevel: Level } & RuleSettings>;

/** Problems with a stack file's `policy:` section. */
export class PolicyConfigError extends Error {}

/**
 * The pack config of a stack. Production stacks (`production: true`) get every rule mandatory and
 * no version tags; other stacks get the pack's defaults (security rules mandatory, the rest
 * advisory, production-only rules off). The stack file's `policy:` section overrides levels and
 * names the exceptions, by stack-file service name; here they become Docker names (with the prefix).
 */
export function packConfig(rawEnvironment: unknown): PackConfig {
    const parsed = environmentSchema.safeParse(rawEnvironment);
    // A stack file the program will refuse anyway still gets its production level.
    const env = parsed.success ? parsed.data : undefined;
    const production = env ? env.production : (rawEnvironment as any)?.production === true;
    const settings = env?.policy ?? {};
    const dockerName = (name: string) => (env?.prefix ? `${env.prefix}-${name}` : name);
    const known = new Set([...Object.keys(env?.services ?? {}), ...(env?.registry && "selfHosted" in env.registry ? ["registry"] : [])]);

    const problems: string[] = [];
    const names = (key: string, list: readonly string[] | undefined): string[] => {
        for (const n of list ?? []) {
            if (!known.has(n)) problems.push(`policy.${key}: expected the name of one of the services (${[...known].join(", ")}), got ${JSON.stringify(n)}`);
        }
        return (list ?? []).map(dockerName);
    };
    const level = (rule: Rule): Level => {
        if (production) return "mandatory";
        if (rule === Rule.DeclaredPublicPorts && settings.publicPorts) return "advisory";
        return DEFAULT_LEVELS[rule] as Level;
    };

    const config: PackConfig = {};
    for (const rule of RULES) config[rule] = { enforcementLevel: level(rule) };
    Object.assign(config[Rule.ImageByDigest], { allowVersionTags: !production });
    Object.assign(config[Rule.NoSecretsInEnv], { allowVariables: [...(settings.allowEnvNames ?? [])] });
    Object.assign(config[Rule.NoPrivileged], { allow: names("allowPrivileged", settings.allowPrivileged) });
    Object.assign(config[Rule.NoDockerSocket], { allow: names("allowDockerSocket", settings.allowDockerSocket) });
    Object.assign(config[Rule.NoHostNetwork], { allow: names("allowHostNetwork", settings.allowHostNetwork) });
    const publicPorts = Object.fromEntries(Object.entries(settings.publicPorts ?? {}).map(([svc, ports]) => [names("publicPorts", [svc])[0], ports]));
    Object.assign(config[Rule.DeclaredPublicPorts], { public: publicPorts });
    for (const [rule, l] of Object.entries(settings.rules ?? {})) {
        if (!(RULES as readonly string[]).includes(rule)) {
            problems.push(`policy.rules.${rule}: unknown rule; the rules are ${RULES.join(", ")}`);
            continue;
        }
        config[rule].enforcementLevel = l;
    }
    if (problems.length) throw new PolicyConfigError(`invalid policy settings in the stack file:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return config;
}

/** Write the stack's pack config to `<dir>/<stack>.json`; returns the file. */
export function writePackConfig(dir: string, stack: string, rawEnvironment: unknown): string {
    const file = path.join(dir, `${stack}.json`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, JSON.stringify(packConfig(rawEnvironment), null, 2) + "\n");
    return file;
}

/** Policy violations from Automation API engine events (`policyEvent`), once each, mandatory first. */
export function violationsFrom(events: readonly any[]): Violation[] {
    const seen = new Set<string>();
    const out: Violation[] = [];
    for (const e of events) {
        const p = e?.policyEvent;
        if (!p) continue;
        // The pack prefixes the rule's description on its own line; keep the specific message.
        const message = String(p.message ?? "").split("\n").slice(1).join(" ").trim() || String(p.message ?? "").trim();
        const v: Violation = {
            rule: p.policyName,
            level: p.enforcementLevel === "mandatory" ? "mandatory" : "advisory",
            resource: p.resourceUrn ? String(p.resourceUrn).split("::").pop()! : "(stack)",
            message,
        };
        const key = JSON.stringify(v);
        if (!seen.has(key)) {
            seen.add(key);
            out.push(v);
        }
    }
    return out.sort((a, b) => (a.level === b.level ? 0 : a.level === "mandatory" ? -1 : 1));
}
