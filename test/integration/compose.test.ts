// dockyard import against the real Docker CLI, Pulumi CLI and engine: the recorded fixtures are what
// `docker stack config` prints, the import writes a valid stack and sets its secrets, and what
// Dockyard deploys from an imported Compose file matches what `docker stack deploy` deploys.
import * as assert from "assert";
import * as dotenv from "dotenv";
import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { importCompose, normaliseCompose } from "../../ops/import";
import { CASES, FIXTURES, normaliseCase, recordedPath } from "../fixtures/compose/cases";
import { claimPrefix, dockerCliMissing, dockerObjects, eventually, pluginMissing, pulumiMissing, requireOrSkip, ROOT, Sandbox, sandbox, sh, swarmMissing } from "./prereqs";

describe("integration: compose import, recorded fixtures", function () {
    before(function () {
        requireOrSkip(this, dockerCliMissing());
    });
    for (const c of CASES) {
        it(`${c.name}: the recording is what docker stack config prints today`, () => {
            assert.strictEqual(normaliseCase(c), fs.readFileSync(recordedPath(c), "utf8"));
        });
    }
});

describe("integration: dockyard import writes a stack and sets its secrets", function () {
    this.timeout(5 * 60_000);
    let box: Sandbox;
    const lines: string[] = [];
    before(function () {
        requireOrSkip(this, dockerCliMissing(), pulumiMissing());
        box = sandbox({ "Pulumi.yaml": "name: dockyard\nruntime: nodejs\nstackConfigDir: stacks\n" });
    });
    after(() => box?.cleanup());

    it("fails on unsupported settings and writes nothing", () => {
        const out = importCompose({
            files: ["compose.yaml", "override.yaml"].map((f) => path.join(FIXTURES, "kitchen-sink", f)),
            stack: "ks", projectDir: box.dir, env: { ...box.env, API_KEY: "k", BANNER: "b" }, log: (l) => lines.push(l),
        });
        assert.strictEqual(out.exitCode, 1);
        assert.strictEqual(fs.existsSync(path.join(box.dir, "stacks/Pulumi.ks.yaml")), false);
        assert.strictEqual(lines.at(-1), "import: 4 settings cannot be imported without changing behaviour (listed above); nothing written. Pass --allow-unsupported to import without them.");
        assert.ok(lines.includes("unsupported: services.legacy.privileged: Dockyard runs no privileged containers (docker stack deploy ignores it too)"));
    });

    it("with --set-secrets, sets the secret config keys and keeps the values out of the stack file", () => {
        fs.cpSync(path.join(FIXTURES, "wordpress-secrets"), path.join(box.dir, "wp"), { recursive: true });
        const out = importCompose({ files: [path.join(box.dir, "wp/compose.yaml")], stack: "wp", projectDir: box.dir, env: box.env, setSecrets: true, log: () => undefined });
        assert.strictEqual(out.exitCode, 0);
        const file = fs.readFileSync(path.join(box.dir, "stacks/Pulumi.wp.yaml"), "utf8");
        assert.ok(!file.includes("fixture-db-password") && !file.includes("fixture-root-password"));
        const config = JSON.parse(box.pulumi(["config", "--json", "--show-secrets", "--stack", "wp"]).stdout);
        assert.deepStrictEqual(
            Object.fromEntries(Object.entries<any>(config).filter(([k]) => k !== "dockyard:environment").map(([k, v]) => [k, [v.value, v.secret]])),
            { "dockyard:dbPassword": ["fixture-db-password", true], "dockyard:dbRootPassword": ["fixture-root-password", true] },
        );
        assert.deepStrictEqual(JSON.parse(config["dockyard:environment"].value).secrets, { db_password: { fromConfig: "dbPassword" }, db_root_password: { fromConfig: "dbRootPassword" } });
    });

    it("a secret from environment: becomes an env: source, with no config key and its value read by no one at import", () => {
        fs.mkdirSync(path.join(box.dir, "envsecret"), { recursive: true });
        fs.writeFileSync(path.join(box.dir, "envsecret/compose.yaml"), [
            "services:", "  app:", "    image: busybox:1.35.0", "    secrets: [token, pass]",
            "secrets:", "  token:", "    environment: APP_TOKEN", "  pass:", "    file: ./pass.txt", "",
        ].join("\n"));
        fs.writeFileSync(path.join(box.dir, "envsecret/pass.txt"), "from-a-file");
        const log: string[] = [];
        const out = importCompose({ files: [path.join(box.dir, "envsecret/compose.yaml")], stack: "envs", projectDir: box.dir, cwd: box.dir, env: { ...box.env, APP_TOKEN: "value-from-env" }, log: (l) => log.push(l) });
        assert.strictEqual(out.exitCode, 0, log.join("\n"));
        const file = fs.readFileSync(path.join(box.dir, "stacks/Pulumi.envs.yaml"), "utf8");
        assert.ok(!file.includes("value-from-env") && !file.includes("from-a-file"));
        assert.match(file, /# Secret config keys to set: pass\n/);
        assert.deepStrictEqual(out.result?.environment.secrets, { token: { env: "APP_TOKEN" }, pass: { fromConfig: "pass" } });
        // Only the file's secret needs a config key.
        assert.deepStrictEqual(log.filter((l) => l.includes("config set")), ["  npm run pulumi -- config set --secret pass --stack envs < envsecret/pass.txt"]);
        // Unset at import is fine: the value is read at each preview and deploy, which fail naming it.
        const unset = importCompose({ files: [path.join(box.dir, "envsecret/compose.yaml")], stack: "envs2", projectDir: box.dir, cwd: box.dir, env: box.env, log: () => undefined });
        assert.strictEqual(unset.exitCode, 0);
    });
});

const SERVICES = ["web", "idle"];
const NS = 1e9;

/** What a side's service is compared with: its Docker name prefix, and for Dockyard's the deliberate differences it may show. */
interface Side {
    /** `<stack>_` for docker stack deploy, `<prefix>-` for Dockyard. */
    readonly prefix: string;
    /** Dockyard's side: take out what DELIBERATE_DIFFERENCES lists, as the Compose service says it applies. */
    readonly deliberate?: { readonly serviceTmpfs: readonly string[] };
}

/** Empty objects and lists, and undefined, dropped: both sides mean "none" by them. */
function pruned(v: any): any {
    if (Array.isArray(v)) return v.length ? v.map(pruned) : undefined;
    if (v && typeof v === "object") {
        const entries = Object.entries(v).map(([k, x]) => [k, pruned(x)] as const).filter(([, x]) => x !== undefined);
        return entries.length ? Object.fromEntries(entries) : undefined;
    }
    return v;
}
const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const withoutPrefix = (name: string, prefix: string) => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
const notOwnership = (labels: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries<string>(labels ?? {}).filter(([k]) => !k.startsWith("com.docker.stack") && !k.startsWith("dockyard")));

/**
 * The parts of `docker service inspect` both deployments should agree on, field by field, with the
 * spellings that mean the same made one (Swarm's defaults for what a spec leaves unset) and, on
 * Dockyard's side, the DELIBERATE_DIFFERENCES taken out.
 */
function comparable(name: string, side: Side = { prefix: "" }): any {
    const s = JSON.parse(sh("docker", ["service", "inspect", name]))[0].Spec;
    const c = s.TaskTemplate.ContainerSpec;
    const h = c.Healthcheck;
    const oneShot = s.TaskTemplate.RestartPolicy?.Condition === "none";
    // DELIBERATE_DIFFERENCES.oneShot: a one-shot service's rollouts continue, without a monitor period.
    const rollout = (r: any) => (oneShot ? { ...r, FailureAction: undefined, Monitor: undefined } : r);
    // DELIBERATE_DIFFERENCES.nodePin: the node holding a node-local volume's data.
    const constraints = (s.TaskTemplate.Placement?.Constraints ?? []).filter((x: string) => !(side.deliberate && /^node\.id==/.test(x)));
    // DELIBERATE_DIFFERENCES.names: Dockyard's secrets and configs carry a hash of their content.
    const objectName = (name: string) => withoutPrefix(name, side.prefix).replace(side.deliberate ? /-[0-9a-f]{12}$/ : /$^/, "");
    const networkName = (id: string) => withoutPrefix(sh("docker", ["network", "inspect", id, "--format", "{{.Name}}"]).trim(), side.prefix);
    return pruned({
        image: c.Image.split("@")[0],
        command: c.Command, args: c.Args, env: [...(c.Env ?? [])].sort(), user: c.User,
        // Dockyard always sets ReadOnly; docker stack deploy leaves it out when false.
        readOnly: c.ReadOnly ?? false,
        // No test: both inherit the image's. Timings left at 0 are Docker's defaults.
        // As sent: a timing left out is 0 on both sides (Docker's "the image's, else its default").
        healthcheck: h && Object.keys(h).length ? { Test: h.Test, Interval: h.Interval ?? 0, Timeout: h.Timeout ?? 0, Retries: h.Retries ?? 0, StartPeriod: h.StartPeriod ?? 0 } : undefined,
        // Unset is Swarm's 10 s; DELIBERATE_DIFFERENCES.stopGrace: Dockyard's 0 where Compose gives none.
        stopGracePeriod: side.deliberate ? c.StopGracePeriod || 10 * NS : c.StopGracePeriod ?? 10 * NS,
        stopSignal: c.StopSignal, init: c.Init ?? false, sysctls: c.Sysctls, capAdd: c.CapabilityAdd, capDrop: c.CapabilityDrop,
        hostname: c.Hostname, dir: c.Dir, hosts: c.Hosts, dns: c.DNSConfig, logDriver: s.TaskTemplate.LogDriver,
        containerLabels: notOwnership(c.Labels),
        mounts: (c.Mounts ?? [])
            // DELIBERATE_DIFFERENCES.serviceTmpfs: Dockyard mounts a service-level tmpfs.
            .filter((m: any) => !(side.deliberate && m.Type === "tmpfs" && side.deliberate.serviceTmpfs.includes(m.Target)))
            .map((m: any) => ({
                Type: m.Type, Source: m.Type === "volume" ? withoutPrefix(m.Source, side.prefix) : m.Source, Target: m.Target, ReadOnly: m.ReadOnly ?? false,
                NoCopy: m.VolumeOptions?.NoCopy ?? false, Tmpfs: m.TmpfsOptions,
            })).sort(byJson),
        // Object names differ by design (<stack>_x vs <prefix>-x); what the container sees must not.
        // Docker reads a relative secret file name under /run/secrets; Dockyard writes the full path.
        secrets: (c.Secrets ?? []).map((x: any) => ({ ...x.File, Name: path.posix.resolve("/run/secrets", x.File.Name), secret: objectName(x.SecretName) })).sort(byJson),
        configs: (c.Configs ?? []).map((x: any) => ({ ...x.File, config: objectName(x.ConfigName) })).sort(byJson),
        resources: s.TaskTemplate.Resources,
        // A Window of 0 (Dockyard) and none (docker stack deploy) both mean no window.
        restart: { Window: 0, ...s.TaskTemplate.RestartPolicy },
        constraints: [...constraints].sort(),
        preferences: s.TaskTemplate.Placement?.Preferences,
        networks: (s.TaskTemplate.Networks ?? []).map((n: any) => ({ network: networkName(n.Target), aliases: [...(n.Aliases ?? [])].sort() })).sort(byJson),
        mode: s.Mode,
        update: rollout(s.UpdateConfig),
        rollback: rollout(s.RollbackConfig),
        endpoint: { ...s.EndpointSpec, Ports: [...(s.EndpointSpec?.Ports ?? [])].sort(byJson) },
        // Each tool adds its own ownership labels (com.docker.stack.namespace, dockyard.*).
        labels: notOwnership(s.Labels),
    });
}

/** Every field in which two sides' services differ, as one line each. */
function differencesOf(services: readonly string[], fromStack: Record<string, any>, fromDockyard: Record<string, any>, at = ""): string[] {
    return services.flatMap((n) => [...new Set([...Object.keys(fromStack[n] ?? {}), ...Object.keys(fromDockyard[n] ?? {})])]
        .filter((k) => JSON.stringify(fromStack[n]?.[k]) !== JSON.stringify(fromDockyard[n]?.[k]))
        .map((k) => `${at}${n}.${k}: docker stack deploy ${JSON.stringify(fromStack[n]?.[k])} / Dockyard ${JSON.stringify(fromDockyard[n]?.[k])}`));
}

describe("integration: a Compose file deployed by docker stack deploy and by Dockyard", function () {
    this.timeout(20 * 60_000);
    const dir = path.join(FIXTURES, "ci-compare");
    let box: Sandbox | undefined;
    let fromStack: any;

    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        claimPrefix("ci-");
    });
    let deployed = false;
    after(async () => {
        if (deployed) sh("docker", ["stack", "rm", "ci-st"]);
        if (box) {
            box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
            box.cleanup();
        }
        if (deployed) {
            // Tasks stop within Swarm's 10 s grace period each; the networks go after them.
            await eventually("the ci- objects to be gone", () => Object.values(dockerObjects("ci-")).every((names) => names.length === 0), 150_000);
        }
    });

    it("docker stack deploy", async () => {
        deployed = true;
        sh("docker", ["stack", "deploy", "-c", path.join(dir, "compose.yaml"), "ci-st"]);
        fromStack = Object.fromEntries(SERVICES.map((n) => [n, comparable(`ci-st_${n}`, { prefix: "ci-st_" })]));
        sh("docker", ["stack", "rm", "ci-st"]);
        // Sequential, so both publish the same host port.
        await eventually("the ci-st stack to be gone", () => sh("docker", ["ps", "-q", "--filter", "label=com.docker.stack.namespace=ci-st"]).trim() === "" &&
            !sh("docker", ["network", "ls", "--format", "{{.Name}}"]).split("\n").includes("ci-st_back"));
    });

    it("Dockyard, from its import, deploys the same service", () => {
        box = sandbox({});
        for (const item of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "config"]) {
            fs.cpSync(path.join(ROOT, item), path.join(box.dir, item), { recursive: true });
        }
        const out = importCompose({ files: [path.join(dir, "compose.yaml")], stack: "ci-dy", projectDir: box.dir, out: path.join(box.dir, "stacks/Pulumi.it.yaml"), env: box.env, log: () => undefined });
        assert.strictEqual(out.exitCode, 0);
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "ciToken"], { input: fs.readFileSync(path.join(dir, "token.txt"), "utf8") });
        box.pulumi(["up", "--yes", "--skip-preview"]);
        const fromDockyard = Object.fromEntries(SERVICES.map((n) => [n, comparable(`ci-dy-${n}`, { prefix: "ci-dy-", deliberate: { serviceTmpfs: [] } })]));
        assert.deepStrictEqual(differencesOf(SERVICES, fromStack, fromDockyard), []);
        // The comparison compared something: the services as the Compose file describes them.
        const web = fromDockyard.web;
        assert.deepStrictEqual([web.mode, web.endpoint.Mode, web.env, web.labels, web.restart.Condition], [{ Replicated: { Replicas: 1 } }, "dnsrr", ["GREETING=hello"], { team: "ci" }, "on-failure"]);
        const idle = fromDockyard.idle;
        assert.deepStrictEqual([idle.readOnly, idle.preferences, idle.restart.Condition], [true, [{ Spread: { SpreadDescriptor: "node.labels.zone" } }], "any"]);
    });
});

/**
 * The corpus projects deployed by both tools on the real engine. Left out: the projects that build
 * images, the four that import only with --allow-unsupported (see compose-import.test.ts) and
 * secrets-files-env, whose `environment:` secret docker stack deploy refuses.
 */
const COMPARED = [
    "anchors-tmpfs", "dotenv-interpolation", "gitea-postgres", "haproxy-sysctls", "migration-job", "nginx-configs", "overrides",
    "prometheus-grafana", "rabbitmq-workers", "redis-command", "voting-app", "webapp-postgres", "wordpress-mysql",
];
/**
 * One image for every service of both sides: busybox that runs for any server (answering HTTP on
 * 127.0.0.1 on the ports the corpus's health checks ask, as busybox's shell runs its own wget), and
 * passes every check tool and migration.
 */
const CORPUS_IMAGE = "dockyard/compose-corpus:1";
const STUB = [
    "#!/bin/sh",
    "# Run as its own name: a health-check tool or a job passes at once; anything else is a server that runs until stopped.",
    'case "${0##*/}" in',
    '  entry) case "$1" in ""|-*) ;; *) if command -v "$1" >/dev/null 2>&1; then exec "$@"; fi ;; esac ;;',
    "  *) exit 0 ;;",
    "esac",
    "for port in 80 3000 8000 8080; do httpd -p 127.0.0.1:$port -h /www 2>/dev/null; done",
    "trap 'exit 0' TERM INT QUIT",
    "while :; do sleep 1; done",
    "",
].join("\n");
const STUB_DOCKERFILE = [
    "FROM dockyard/busybox:1.35.0",
    "COPY stub /stub/stub",
    "RUN chmod 755 /stub/stub && for n in entry wget curl pg_isready mysqladmin redis-cli rabbitmq-diagnostics migrate; do ln -s stub /stub/$n; done && \\",
    "    mkdir -p /www/api && touch /www/index.html /www/healthz /www/health /www/api/health",
    "ENV PATH=/stub:/bin:/sbin:/usr/bin:/usr/sbin",
    'ENTRYPOINT ["/stub/entry"]',
    'CMD ["serve"]',
    "",
].join("\n");

/** Run `pulumi` without blocking, so several stacks deploy at once. */
function pulumiAsync(box: Sandbox, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        const p = spawn("pulumi", [...args, "--non-interactive"], { cwd: box.dir, env: box.env });
        let out = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (out += d));
        p.on("error", reject);
        p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`pulumi ${args.join(" ")} exited ${code}:\n${out.slice(-4000)}`))));
    });
}
/** `f` over `items`, `n` at a time. */
async function inBatches<T>(items: readonly T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
    const queue = [...items];
    await Promise.all(Array.from({ length: n }, async () => {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) await f(item);
    }));
}

describe("integration: the Compose corpus deployed by docker stack deploy and by Dockyard, field by field", function () {
    this.timeout(15 * 60_000);
    let box: Sandbox | undefined;
    const projects = COMPARED.map((name, i) => ({ name, stack: `cx${i}s`, prefix: `cx${i}d` }));
    const docs: Record<string, any> = {};
    const fromStack: Record<string, Record<string, any>> = {};
    let touched = false;

    before(async function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        touched = true;
        await removeAll();
        for (const p of projects) claimPrefix(`${p.stack}_`), claimPrefix(`${p.prefix}-`);
        box = sandbox({ "stub-image/stub": STUB, "stub-image/Dockerfile": STUB_DOCKERFILE });
        sh("docker", ["build", "-q", "-t", CORPUS_IMAGE, path.join(box.dir, "stub-image")], { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
        for (const item of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "components", "config"]) {
            fs.cpSync(path.join(ROOT, item), path.join(box.dir, item), { recursive: true });
        }
        // Both sides run the same local image.
        for (const p of projects) {
            const dir = path.join(box.dir, "corpus", p.name);
            fs.cpSync(path.join(FIXTURES, p.name), dir, { recursive: true });
            for (const f of fs.readdirSync(dir).filter((f) => /^docker-compose.*\.yml$/.test(f))) {
                const file = path.join(dir, f);
                fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^(\s*image:\s*).*$/gm, `$1${CORPUS_IMAGE}`));
            }
        }
    });
    const filesOf = (name: string) => {
        const c = CASES.find((x) => x.name === name);
        return (c ? c.files : ["docker-compose.yml"]).map((f) => path.join(box!.dir, "corpus", name, f));
    };
    /** Whether no service, secret, config, network or container starting with one of `prefixes` is left (volumes are kept by both tools). */
    const gone = (prefixes: readonly string[]) => {
        const { volumes: _kept, ...objects } = dockerObjects("");
        return Object.values(objects).flat().every((n) => !prefixes.some((p) => n.startsWith(p)));
    };
    /** Remove what either side made (also what an interrupted run left): as docker stack rm does, faster than pulumi destroy. */
    async function removeAll(): Promise<void> {
        for (const p of projects) sh("docker", ["stack", "rm", p.stack]);
        // A secret goes once no task holds it: tried again.
        const ours = (names: string[]) => names.filter((n) => projects.some((p) => n.startsWith(`${p.prefix}-`)));
        const removeOurs = () => {
            for (const kind of ["service", "secret", "config", "network"]) {
                const names = ours(sh("docker", [kind, "ls", "--format", "{{.Name}}"]).split("\n"));
                try {
                    if (names.length) sh("docker", [kind, "rm", ...names]);
                } catch {
                    // Still in use by a task that is stopping.
                }
            }
        };
        await eventually("the corpus's services to be gone", () => (removeOurs(), gone(projects.flatMap((p) => [`${p.stack}_`, `${p.prefix}-`]))), 120_000);
        // Both tools keep volumes; these are the test's.
        const volumes = sh("docker", ["volume", "ls", "-q"]).split("\n").filter((v) => projects.some((p) => v.startsWith(`${p.stack}_`) || v.startsWith(`${p.prefix}-`)));
        if (volumes.length) sh("docker", ["volume", "rm", ...volumes]);
    }
    after(async () => {
        if (!touched) return;
        await removeAll();
        sh("docker", ["image", "rm", CORPUS_IMAGE]);
        box?.cleanup();
    });

    it("docker stack deploy, from the files its own loader reads (after the import's rewriting of what it refuses)", async () => {
        for (const p of projects) {
            // docker stack deploy reads no .env: its variables come from the shell, as `set -a; . ./.env` gives them.
            const dotenvFile = path.join(box!.dir, "corpus", p.name, ".env");
            const n = normaliseCompose(filesOf(p.name), { ...(fs.existsSync(dotenvFile) ? dotenv.parse(fs.readFileSync(dotenvFile)) : {}), ...box!.env });
            assert.ok(n.doc, `${p.name}: ${JSON.stringify(n.findings)}`);
            docs[p.name] = n.doc;
            const file = path.join(box!.dir, "corpus", `${p.name}.stack.json`);
            fs.writeFileSync(file, JSON.stringify(n.doc));
            sh("docker", ["stack", "deploy", "-c", file, p.stack]);
        }
        for (const p of projects) {
            fromStack[p.name] = Object.fromEntries(Object.keys(docs[p.name].services).map((svc) => [svc, comparable(`${p.stack}_${svc}`, { prefix: `${p.stack}_` })]));
            sh("docker", ["stack", "rm", p.stack]);
        }
        // Both publish the same host ports: one after the other.
        await eventually("the stacks to be gone", () => gone(projects.map((p) => `${p.stack}_`)), 120_000);
    });

    it("Dockyard, from its import of each project, deploys the same services, but for the deliberate differences", async () => {
        for (const p of projects) {
            box!.pulumi(["stack", "init", p.prefix, "--secrets-provider", "passphrase"]);
            const lines: string[] = [];
            const out = importCompose({ files: filesOf(p.name), stack: p.prefix, projectDir: box!.dir, env: box!.env, setSecrets: true, force: true, log: (l) => lines.push(l) });
            assert.strictEqual(out.exitCode, 0, lines.join("\n"));
        }
        await inBatches(projects, 4, (p) => pulumiAsync(box!, ["up", "--yes", "--skip-preview", "--stack", p.prefix]));
        const differences = projects.flatMap((p) => {
            const services = Object.keys(docs[p.name].services);
            const tmpfs = (svc: string) => [docs[p.name].services[svc].tmpfs ?? []].flat().map((t: string) => t.split(":")[0]);
            const fromDockyard = Object.fromEntries(services.map((svc) => [svc, comparable(`${p.prefix}-${svc}`, { prefix: `${p.prefix}-`, deliberate: { serviceTmpfs: tmpfs(svc) } })]));
            return differencesOf(services, fromStack[p.name], fromDockyard, `${p.name}/`);
        });
        assert.deepStrictEqual(differences, []);
        // The comparison compared something: what the corpus sets, as Swarm has it.
        const svc = (name: string, s: string) => fromStack[name][s];
        assert.deepStrictEqual(svc("nginx-configs", "nginx").mounts.map((m: any) => [m.Target, m.Tmpfs]), [["/var/cache/nginx", undefined], ["/var/run", { SizeBytes: 1048576 }]]);
        assert.deepStrictEqual([svc("haproxy-sysctls", "haproxy").capAdd, svc("haproxy-sysctls", "haproxy").capDrop, svc("haproxy-sysctls", "haproxy").sysctls],
            [["CAP_NET_BIND_SERVICE"], ["ALL"], { "net.ipv4.ip_unprivileged_port_start": "0" }]);
        assert.deepStrictEqual([svc("gitea-postgres", "gitea").stopGracePeriod, svc("gitea-postgres", "gitea").init, svc("redis-command", "redis").stopGracePeriod], [30 * NS, true, 10 * NS]);
        assert.deepStrictEqual(svc("rabbitmq-workers", "rabbitmq").networks, [{ network: "jobs", aliases: ["amqp", "broker", "rabbitmq"] }]);
    });
});
