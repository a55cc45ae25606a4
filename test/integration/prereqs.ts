// What the integration and end-to-end suites need, and a loud skip when something is truly missing.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as yaml from "js-yaml";
import * as path from "path";
import { LOCK_WAIT_MINUTES, claimPrefix, dropClaims, removeLeftovers, takeLock } from "./test-runs";

export { claimPrefix } from "./test-runs";

export const ROOT = path.resolve(__dirname, "../..");

/** Run a command and return its stdout; throws with stderr on failure. */
export function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): string {
    const r = spawnSync(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        input: opts.input,
        encoding: "utf8",
        timeout: opts.timeoutMs ?? 10 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
}

function works(cmd: string, args: string[], env?: NodeJS.ProcessEnv): boolean {
    try {
        execFileSync(cmd, args, { stdio: "ignore", timeout: 30_000, env: env ?? process.env });
        return true;
    } catch {
        return false;
    }
}

/** Why the Docker engine cannot be used, or undefined when it answers. */
export function dockerMissing(): string | undefined {
    return works("docker", ["info"]) ? undefined : "no Docker engine answers `docker info` (run `npm run setup`, or set DOCKER_HOST)";
}

/** Why Swarm cannot be used, or undefined when this engine is an active Swarm manager. */
export function swarmMissing(): string | undefined {
    const missing = dockerMissing();
    if (missing) return missing;
    const state = sh("docker", ["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"]).trim();
    return state === "active true" ? undefined : `the Docker engine is not a Swarm manager (state: ${state}); run \`docker swarm init\``;
}

/** Why the local base image the suites run cannot be used, or undefined when it is there. */
export function baseImageMissing(): string | undefined {
    try {
        sh("docker", ["image", "inspect", BASE_IMAGES[0]]);
        return undefined;
    } catch {
        return `the local base image ${BASE_IMAGES[0]} is missing (run \`npm run setup\`)`;
    }
}

/** Why the docker CLI cannot normalise Compose files (`docker stack config`), or undefined. */
export function dockerCliMissing(): string | undefined {
    return works("docker", ["stack", "config", "--help"]) ? undefined : "no Docker CLI with `docker stack config`";
}

/** The base images the cluster's manager starts from (scripts/lib/base-image.sh builds them). */
export const BASE_IMAGES = ["dockyard/busybox:1.35.0", "dockyard/registry:2.8.2"] as const;

/** The environment for the machine's own engine: DOCKER_HOST as set, unless it points at the cluster. */
export function machineEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    if (env.DOCKER_HOST?.includes("/run/dockyard-cluster/")) delete env.DOCKER_HOST;
    return env;
}

/**
 * Why the three-node cluster of scripts/cluster.sh cannot be brought up on this machine, or
 * undefined: it needs root, iproute2, util-linux, iptables, dockerd and the base images on the
 * machine's engine.
 */
export function clusterMissing(): string | undefined {
    if (process.getuid?.() !== 0) return "the cluster harness (scripts/cluster.sh) needs root: network namespaces, iptables and three dockerd";
    const tools = ["ip", "nsenter", "unshare", "iptables", "flock", "dockerd", "docker"].filter((t) => !works("sh", ["-c", `command -v ${t}`]));
    if (tools.length) return `the cluster harness needs ${tools.join(", ")} on PATH (iproute2, util-linux, iptables, Docker: \`npm run setup\` installs Docker)`;
    if (!works("docker", ["info"], machineEnv())) return "no Docker engine answers `docker info` on this machine (run `npm run setup`)";
    const images = BASE_IMAGES.filter((image) => !works("docker", ["image", "inspect", image], machineEnv()));
    if (images.length) return `the machine's engine has no ${images.join(", ")}, which the cluster's manager starts from (run \`bash scripts/lib/base-image.sh\`)`;
    return undefined;
}

/** One node of the cluster, as the manager and the harness describe it. */
export interface ClusterNode {
    /** Its hostname, which is also its Swarm node name: `manager`, `worker1`, `worker2`. */
    readonly name: string;
    /** The address it advertises to the Swarm and publishes host-mode ports on (10.213.0.x). */
    readonly address: string;
    readonly role: "manager" | "worker";
    /** Its node labels, e.g. { zone: "b" }. */
    readonly labels: Record<string, string>;
    /** Its own engine, e.g. to look at its images or exec into its task containers. */
    readonly dockerHost: string;
}

/** A running cluster of scripts/cluster.sh (see `cluster()`). */
export interface Cluster {
    /** The manager's engine: the one control endpoint, for docker and Dockyard alike. */
    readonly dockerHost: string;
    /** process.env with DOCKER_HOST set to the manager, for spawning docker, pulumi or Dockyard. */
    readonly env: NodeJS.ProcessEnv;
    /** Manager first, then the workers. */
    readonly nodes: readonly ClusterNode[];
    node(name: string): ClusterNode;
    /** Run docker against one node's own engine (the manager by default); returns its stdout. */
    docker(args: string[], node?: string): string;
    /** Lose a machine: its link goes down and every process of it is killed (SIGKILL). */
    stop(node: string): void;
    /** Boot a stopped node again on the same data root; it rejoins the Swarm by itself. */
    start(node: string): void;
    /** Remove the whole cluster (idempotent). */
    down(): void;
}

const CLUSTER_SH = path.join(ROOT, "scripts/cluster.sh");
let runningCluster: Cluster | undefined;

/** Run scripts/cluster.sh; its own messages go to stderr, which is kept for a failure. */
function clusterSh(args: string[]): string {
    return sh("bash", [CLUSTER_SH, ...args], { env: machineEnv(), timeoutMs: 5 * 60_000 });
}

/**
 * The three-node cluster (manager, worker1, worker2), brought up once per test process: a new one
 * (`up --fresh`), so that nothing of an earlier run, or of someone's own use of the cluster, is in
 * it. Check `clusterMissing()` first; call `down()` when done.
 */
export function cluster(): Cluster {
    if (runningCluster) return runningCluster;
    clusterSh(["up", "--fresh"]);
    const exportsOf = (node?: string) => {
        const found: Record<string, string> = {};
        for (const m of clusterSh(["env", ...(node ? [node] : [])]).matchAll(/^export (\w+)='?([^'\n]*)'?$/gm)) found[m[1]] = m[2];
        return found;
    };
    const exports = exportsOf();
    const dockerHost = exports.DOCKER_HOST;
    const env = { ...process.env, DOCKER_HOST: dockerHost };
    const nodes = exports.DOCKYARD_CLUSTER_NODES.split(" ").map((entry): ClusterNode => {
        const [name, address] = entry.split("=");
        const spec = JSON.parse(sh("docker", ["node", "inspect", "--format", "{{json .Spec}}", name], { env })) as { Role: "manager" | "worker"; Labels?: Record<string, string> };
        return { name, address, role: spec.Role, labels: spec.Labels ?? {}, dockerHost: exportsOf(name).DOCKER_HOST };
    });
    const node = (name: string) => {
        const found = nodes.find((n) => n.name === name);
        if (!found) throw new Error(`no cluster node ${name}; the nodes are ${nodes.map((n) => n.name).join(", ")}`);
        return found;
    };
    runningCluster = {
        dockerHost, env, nodes, node,
        docker: (args, name = "manager") => sh("docker", ["-H", node(name).dockerHost, ...args], { env }),
        stop: (name) => void clusterSh(["stop", node(name).name]),
        start: (name) => void clusterSh(["start", node(name).name]),
        down: () => {
            clusterSh(["down"]);
            runningCluster = undefined;
        },
    };
    return runningCluster;
}

/** Why the Pulumi CLI and Node.js language host cannot be used, or undefined. */
export function pulumiMissing(): string | undefined {
    if (!works("pulumi", ["version"])) return "no `pulumi` CLI on PATH (run `npm run setup`; tests must run through `npm test`)";
    if (!works("which", ["pulumi-language-nodejs"])) return "no `pulumi-language-nodejs` language host next to the CLI (run `npm run setup`)";
    return undefined;
}

/** The provider plugin each installed Pulumi package asks the engine for: its npm version. */
export function providerVersion(pkg: "docker" | "command"): string {
    return (require(`@pulumi/${pkg}/package.json`) as { version: string }).version;
}

/**
 * Why the provider plugin the installed `@pulumi/<name>` package needs is unavailable, or undefined
 * when `pulumi plugin ls` lists it. With no version of it installed the suite skips (loudly); with
 * another version installed it fails, so a version bump can never turn real suites into skips.
 */
export function pluginMissing(name: "docker" | "command"): string | undefined {
    const missing = pulumiMissing();
    if (missing) return missing;
    const version = providerVersion(name);
    const plugins = (JSON.parse(sh("pulumi", ["plugin", "ls", "--json"]) || "[]") as Array<{ name: string; kind: string; version: string }>)
        .filter((p) => p.name === name && p.kind === "resource");
    if (plugins.some((p) => p.version === version)) return undefined;
    if (plugins.length) {
        throw new Error(`@pulumi/${name} ${version} needs the provider plugin ${name} ${version}, but only ${plugins.map((p) => p.version).join(", ")} is installed; ` +
            `install it: pulumi plugin install resource ${name} ${version} [--file <binary>]`);
    }
    return `the Pulumi provider plugin resource ${name} ${version} is not installed`;
}

/** Suites that ran against the real engine, counted for the summary `npm test` prints. */
const realEngine = { suites: new Set<Mocha.Suite>(), passed: 0, failed: 0, skipped: [] as string[] };

/**
 * Mocha root hooks (see .mocharc.json): a run with real-engine suites takes the machine's test lock
 * and removes what an interrupted run left (see test-runs.ts); count real-engine tests and say how
 * many ran.
 */
export const mochaHooks = {
    async beforeAll(this: Mocha.Context) {
        const files = this.test?.parent?.suites.map((s) => s.file ?? "") ?? [];
        if (!files.some((f) => /test[\\/](integration|e2e)[\\/]/.test(f))) return;
        this.timeout((LOCK_WAIT_MINUTES + 5) * 60_000);
        await takeLock();
        for (const line of await removeLeftovers()) console.log(`  ${line}`);
    },
    afterEach(this: Mocha.Context) {
        let suite: Mocha.Suite | undefined = this.currentTest?.parent;
        while (suite && !realEngine.suites.has(suite)) suite = suite.parent;
        if (!suite || this.currentTest?.isPending()) return;
        if (this.currentTest?.state === "passed") realEngine.passed++;
        else if (this.currentTest?.state === "failed") realEngine.failed++;
    },
    afterAll(this: Mocha.Context) {
        this.timeout(10 * 60_000);
        dropClaims();
        if (realEngine.suites.size === 0 && realEngine.skipped.length === 0) return;
        console.log(`\n  dockyard: ${realEngine.passed + realEngine.failed} real-engine tests ran (${realEngine.passed} passed, ${realEngine.failed} failed) in ${realEngine.suites.size} suites; ${realEngine.skipped.length} suites skipped${realEngine.skipped.length ? `: ${realEngine.skipped.join("; ")}` : ""}\n`);
    },
};

/** Skip the suite (loudly) unless every prerequisite is there. Call from `before`. */
export function requireOrSkip(ctx: Mocha.Context, ...reasons: Array<string | undefined>): void {
    // Distinct: one missing CLI makes every plugin check say the same thing.
    const missing = [...new Set(reasons.filter((r): r is string => r !== undefined))];
    const suite = ctx.currentTest?.parent ?? ctx.test?.parent;
    const title = suite?.fullTitle() ?? "suite";
    if (missing.length === 0) {
        if (suite) realEngine.suites.add(suite);
        return;
    }
    realEngine.skipped.push(title);
    console.log(`\n  !!! SKIPPING "${title}": ${missing.join("; ")}\n`);
    ctx.skip();
}

/** A throw-away Pulumi project directory with its own file backend and passphrase. */
export interface Sandbox {
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
    pulumi(args: string[], opts?: { input?: string; allowFailure?: boolean }): { code: number; stdout: string; stderr: string };
    /** Run Dockyard's own CLI (ops/cli.ts) in the sandbox, as `npm run dockyard -- <args>` would. */
    dockyard(args: string[], env?: NodeJS.ProcessEnv): { code: number; stdout: string; stderr: string };
    cleanup(): void;
}

/**
 * A directory with the given files, its own file backend and passphrase. It uses this project's
 * node_modules unless `ownModules` (a project that installs its own).
 */
export function sandbox(files: Record<string, string>, stack = "it", opts: { ownModules?: boolean } = {}): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-it-"));
    fs.mkdirSync(path.join(dir, "state"));
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
    if (!opts.ownModules && !fs.existsSync(path.join(dir, "node_modules"))) fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "integration-test",
        PULUMI_CONFIG_PASSPHRASE_FILE: "",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_STACK: stack,
    };
    const pulumi = (args: string[], opts: { input?: string; allowFailure?: boolean } = {}) => {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: dir, env, input: opts.input, encoding: "utf8", timeout: 15 * 60_000, maxBuffer: 64 * 1024 * 1024,
        });
        if (r.error) throw r.error;
        const res = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
        if (res.code !== 0 && !opts.allowFailure) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}:\n${res.stderr}\n${res.stdout}`);
        return res;
    };
    const dockyard = (args: string[], runEnv: NodeJS.ProcessEnv = env) => {
        const r = spawnSync(path.join(dir, "node_modules/.bin/ts-node"), ["--transpile-only", "ops/cli.ts", ...args], {
            cwd: dir, env: runEnv, encoding: "utf8", timeout: 15 * 60_000,
        });
        return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    return { dir, env, pulumi, dockyard, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** What a copy of this project's program needs: the program, the library, the tooling and the sample app. */
export const PROGRAM_FILES = ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "config", "app", "ops", "policy"] as const;

/** Poll until `check` returns true (Swarm removes networks and tasks asynchronously). */
export async function eventually(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (check()) return;
        await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

/** The body of a GET that answers 200; rejects with the URL and the status, or after 5 s. */
export function httpGet(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
        http.get(url, { timeout: 5000 }, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        }).on("error", reject).on("timeout", function (this: http.ClientRequest) { this.destroy(new Error(`${url}: timed out`)); });
    });
}

/** Docker objects whose name starts with `prefix`, by kind. */
export function dockerObjects(prefix: string): Record<string, string[]> {
    const names = (args: string[]) => sh("docker", args).split("\n").filter((n) => n.startsWith(prefix)).sort();
    return {
        services: names(["service", "ls", "--format", "{{.Name}}"]),
        secrets: names(["secret", "ls", "--format", "{{.Name}}"]),
        configs: names(["config", "ls", "--format", "{{.Name}}"]),
        networks: names(["network", "ls", "--format", "{{.Name}}"]),
        volumes: names(["volume", "ls", "--format", "{{.Name}}"]),
        containers: names(["ps", "-a", "--format", "{{.Names}}"]),
    };
}

/** The id of a running task container of a Swarm service. */
export function taskContainer(service: string): string {
    const ids = sh("docker", ["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`]).trim().split("\n").filter(Boolean);
    if (ids.length === 0) throw new Error(`no running task for service ${service}`);
    return ids[0];
}

/** Remove the volumes a test left behind on purpose (retained volumes), waiting until Swarm lets go. */
export async function removeVolumes(prefix: string): Promise<void> {
    await eventually(`the ${prefix} volumes to be released`, () => {
        for (const v of dockerObjects(prefix).volumes) {
            try {
                sh("docker", ["volume", "rm", "-f", v]);
            } catch {
                return false;
            }
        }
        return true;
    });
}

/**
 * A copy of this project's program (not its state) with a stack `it` made from the committed stack
 * `from` (dev by default): every Docker object prefixed, the web and registry ports moved when given,
 * so that a running dev stack is not disturbed.
 */
export function projectSandbox(prefix: string, ports: { web?: number; registry?: number }, from = "dev"): Sandbox {
    claimPrefix(`${prefix}-`);
    const box = sandbox({});
    for (const item of PROGRAM_FILES) {
        fs.cpSync(path.join(ROOT, item), path.join(box.dir, item), { recursive: true });
    }
    fs.mkdirSync(path.join(box.dir, "stacks"));
    // Only the environment: never this clone's own encryption salt or secrets, which `npm run setup`
    // adds to stacks/Pulumi.dev.yaml and which the sandbox's passphrase could not decrypt.
    const source = yaml.load(fs.readFileSync(path.join(ROOT, `stacks/Pulumi.${from}.yaml`), "utf8")) as any;
    fs.writeFileSync(path.join(box.dir, "stacks/Pulumi.it.yaml"), yaml.dump({ config: { "dockyard:environment": source.config["dockyard:environment"] } }));
    editEnvironment(box, (env) => {
        env.prefix = prefix;
        if (ports.registry !== undefined) env.registry.selfHosted.port = ports.registry;
        if (ports.web !== undefined) env.services.web.ports[0].published = ports.web;
    });
    box.env.DOCKYARD_RELEASES_DIR = path.join(box.dir, ".dockyard");
    return box;
}

const stackFile = (box: Sandbox) => path.join(box.dir, "stacks/Pulumi.it.yaml");

/** The `it` stack's environment as its stack file holds it. */
export function readEnvironment(box: Sandbox): any {
    return (yaml.load(fs.readFileSync(stackFile(box), "utf8")) as any).config["dockyard:environment"];
}

/** Change the `it` stack's environment in its stack file, keeping what Pulumi added to the file. */
export function editEnvironment(box: Sandbox, change: (env: any) => void): void {
    const doc = yaml.load(fs.readFileSync(stackFile(box), "utf8")) as any;
    change(doc.config["dockyard:environment"]);
    fs.writeFileSync(stackFile(box), yaml.dump(doc));
}

/** A project whose program is one Dockyard Service, its name and arguments set per stack. */
export interface ServiceProject {
    readonly box: Sandbox;
    /** Deploy `service` (Service arguments, busybox by default) as stack and service `name`. */
    up(name: string, service: object): { code: number; out: string; seconds: number };
    /** Destroy stack `name` and remove it; never fails. */
    destroy(name: string): void;
    cleanup(): void;
}

const SERVICE_PROGRAM = `const pulumi = require("@pulumi/pulumi");
const dy = require("@dockyard/components");
const cfg = new pulumi.Config();
new dy.Service(cfg.require("name"), { image: "dockyard/busybox:1.35.0", convergeTimeout: "90s", ...cfg.requireObject("service") });
`;

/** A `ServiceProject` (check `swarmMissing()` and `pluginMissing()` first); `env` is added to the sandbox's (e.g. a DOCKER_HOST). */
export function serviceProject(env: NodeJS.ProcessEnv = {}): ServiceProject {
    const box = sandbox({
        "Pulumi.yaml": "name: converge\nruntime: nodejs\n",
        "package.json": JSON.stringify({ name: "converge", main: "index.js" }),
        "index.js": SERVICE_PROGRAM,
    }, "unused");
    Object.assign(box.env, env);
    return {
        box,
        up(name, service) {
            const started = Date.now();
            claimPrefix(name, env.DOCKER_HOST);
            box.env.PULUMI_STACK = name;
            box.pulumi(["stack", "select", "--create", name]);
            box.pulumi(["config", "set", "name", name]);
            box.pulumi(["config", "set", "service", JSON.stringify(service)]);
            const r = box.pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true });
            return { code: r.code, out: `${r.stdout}\n${r.stderr}`, seconds: (Date.now() - started) / 1000 };
        },
        destroy(name) {
            box.env.PULUMI_STACK = name;
            box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
            box.pulumi(["stack", "rm", "--yes", "--force", name], { allowFailure: true });
        },
        cleanup: () => box.cleanup(),
    };
}
