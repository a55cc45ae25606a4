// The Compose mapping on real normalised Compose files (`docker stack config` output recorded under
// test/fixtures/compose/), each mapping asserted exactly, and every key it cannot map reported.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ConfigKeys, parseEnvironment } from "../../config/parse";
import { ComposeImport, DOCKER_HEALTH, SWARM_ROLLOUT, configKeyFor, mapCompose, splitImage } from "../../ops/compose";
import { markEnvironmentSources, renderStackFile, secretCommand } from "../../ops/import";
import { CASES, FIXTURES, RECORD_ENV, RECORD_ROOT, recordedPath } from "../fixtures/compose/cases";

/** What the import says about every one-shot service's rollouts (the text, as a user reads it). */
const ONE_SHOT_WARNING = "a one-shot service (restart condition none): Dockyard rolls it out with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every update of it, as Swarm counts its tasks' exit as a failure)";
const ONE_SHOT_ROLLBACK_WARNING = "a one-shot service (restart condition none): Dockyard rolls it back with failure_action continue and no monitor period, " +
    "and takes a task that exited 0 as done (docker stack deploy would pause every rollback of it, as Swarm counts its tasks' exit as a failure)";

/** Map a recorded fixture as if it were at RECORD_ROOT, reading its files from the repository. */
function importCase(name: string): ComposeImport {
    const c = CASES.find((x) => x.name === name)!;
    const dir = path.join(RECORD_ROOT, name);
    return mapCompose(JSON.parse(fs.readFileSync(recordedPath(c), "utf8")), {
        projectDir: dir,
        composeDir: dir,
        stack: name,
        env: RECORD_ENV,
        readFile: (f) => fs.readFileSync(path.join(FIXTURES, name, path.relative(dir, f)), "utf8"),
    });
}

/** The secret keys an import asks for, as set with --secret. */
const keysOf = (r: ComposeImport): ConfigKeys => ({ isSecret: (k) => (r.secrets.some((s) => s.key === k) ? true : undefined) });

const EXPECTED: Record<string, { environment: any; secrets: any[]; findings: string[] }> = {
    "dockercoins": {
        environment: {
                prefix: "dockercoins",
                registry: { external: { server: "127.0.0.1:5000" } },
                networks: { default: { attachable: false } },
                volumes: {},
                secrets: {},
                configs: {},
                images: {
                    hasher: { context: "dockercoins/hasher", repository: "hasher" },
                    rng: { context: "dockercoins/rng", repository: "rng" },
                    webui: { context: "dockercoins/webui", repository: "webui" },
                    worker: { context: "dockercoins/worker", repository: "worker" },
                },
                services: {
                    hasher: {
                        image: "hasher",
                        replicas: 7,
                        networks: ["default"],
                        healthCheck: {
                            command: "curl -f http://localhost/ || exit 1",
                            interval: "0s",
                            timeout: "0s",
                            retries: 0,
                            startPeriod: "0s",
                        },
                        update: { parallelism: 1, delay: "5s", monitor: "5s", maxFailureRatio: 0.5, failureAction: "rollback" },
                        restart: { condition: "any" },
                    },
                    redis: { image: "redis:latest", networks: ["default"], restart: { condition: "any" } },
                    rng: { image: "rng", global: true, networks: ["default"], restart: { condition: "any" } },
                    webui: {
                        image: "webui",
                        ports: [
                            { target: 80, published: 8000, protocol: "tcp", mode: "ingress" },
                        ],
                        networks: ["default"],
                        restart: { condition: "any" },
                    },
                    worker: { image: "worker", replicas: 10, networks: ["default"], restart: { condition: "any" } },
                },
            },
        secrets: [],
        findings: [
                "warning services.hasher.image",
                "warning services.redis.image",
                "warning services.rng.image",
                "warning services.webui.image",
                "warning services.worker.image",
                "warning services.hasher.image",
            ],
    },
    "flask-redis": {
        environment: {
                prefix: "flask-redis",
                networks: { default: { attachable: false } },
                volumes: {},
                secrets: {},
                configs: {},
                images: { web: { context: ".", repository: "flask-redis/web" } },
                services: {
                    redis: {
                        image: "redislabs/redismod:latest",
                        ports: [
                            { target: 6379, published: 6379, protocol: "tcp", mode: "ingress" },
                        ],
                        networks: ["default"],
                        restart: { condition: "any" },
                    },
                    web: {
                        image: "web",
                        ports: [
                            { target: 8000, published: 8000, protocol: "tcp", mode: "ingress" },
                        ],
                        networks: ["default"],
                        mounts: [
                            { target: "/code", hostPath: "/tmp/dockyard-compose-fixtures/flask-redis" },
                        ],
                        restart: { condition: "any" },
                    },
                },
            },
        secrets: [],
        findings: [
                "warning services.redis.image",
                "warning services.web.build",
                "warning services.web.volumes[0]",
                "warning services.web.depends_on",
            ],
    },
    "wordpress-secrets": {
        environment: {
                prefix: "wordpress-secrets",
                networks: { default: { attachable: false } },
                volumes: { db_data: { deletion: "retain" } },
                secrets: { db_password: { fromConfig: "dbPassword" }, db_root_password: { fromConfig: "dbRootPassword" } },
                configs: {},
                images: {},
                services: {
                    db: {
                        image: "mysql:8.0",
                        env: {
                            MYSQL_DATABASE: "wordpress",
                            MYSQL_PASSWORD_FILE: "/run/secrets/db_password",
                            MYSQL_ROOT_PASSWORD_FILE: "/run/secrets/db_root_password",
                            MYSQL_USER: "wordpress",
                        },
                        networks: ["default"],
                        mounts: [
                            { target: "/var/lib/mysql", volume: "db_data" },
                        ],
                        secrets: ["db_root_password", "db_password"],
                        // restart: always, which docker stack deploy reads when there is no deploy.restart_policy.
                        restart: { condition: "any" },
                    },
                    wordpress: {
                        image: "wordpress:latest",
                        env: {
                            WORDPRESS_DB_HOST: "db:3306",
                            WORDPRESS_DB_PASSWORD_FILE: "/run/secrets/db_password",
                            WORDPRESS_DB_USER: "wordpress",
                        },
                        ports: [
                            { target: 80, published: 8000, protocol: "tcp", mode: "ingress" },
                        ],
                        networks: ["default"],
                        secrets: ["db_password"],
                        restart: { condition: "any" },
                    },
                },
            },
        secrets: [
                {
                    secret: "db_password",
                    key: "dbPassword",
                    from: { file: "/tmp/dockyard-compose-fixtures/wordpress-secrets/db_password.txt" },
                },
                {
                    secret: "db_root_password",
                    key: "dbRootPassword",
                    from: { file: "/tmp/dockyard-compose-fixtures/wordpress-secrets/db_root_password.txt" },
                },
            ],
        findings: [
                "warning services.wordpress.image",
                "warning services.wordpress.depends_on",
            ],
    },
    "kitchen-sink": {
        environment: {
                prefix: "kitchen-sink",
                registry: { external: { server: "registry.example.com" } },
                networks: {
                    back: { driver: "overlay", internal: true, attachable: true, encrypted: true, subnet: "10.77.0.0/24", labels: { tier: "back" } },
                    front: { driver: "overlay", attachable: true },
                    default: { attachable: false },
                },
                volumes: {
                    data: {
                        deletion: "retain",
                        driver: "local",
                        driverOptions: { device: "tmpfs", type: "tmpfs" },
                        labels: { keep: "yes" },
                    },
                },
                secrets: { api_key: { env: "API_KEY" }, db_password: { fromConfig: "dbPassword" } },
                configs: { api_conf: { data: "listen: 8080\n" }, banner: { data: "Welcome to the shop" } },
                images: {
                    api: {
                        context: "api",
                        dockerfile: "Dockerfile.prod",
                        repository: "shop/api",
                        tag: "v7",
                        buildArgs: { VERSION: "1.2.3" },
                        target: "runtime",
                    },
                },
                services: {
                    api: {
                        image: "api",
                        replicas: 4,
                        command: ["/bin/api"],
                        args: ["serve", "--port", "8080"],
                        env: { FROM: "env-file", LOG_LEVEL: "debug", WORKERS: "4" },
                        ports: [
                            { target: 8080, published: 8080, protocol: "tcp", mode: "ingress" },
                            { target: 9090, published: 19090, protocol: "udp", mode: "host" },
                        ],
                        networks: ["back", "front"],
                        mounts: [
                            { target: "/srv/static", hostPath: "/tmp/dockyard-compose-fixtures/kitchen-sink/static", readOnly: true },
                            { target: "/tmp", tmpfs: 67108864 },
                            { target: "/var/lib/api", volume: "data" },
                        ],
                        secrets: [
                            "api_key",
                            { name: "db_password", target: "db.pass" },
                        ],
                        configs: [
                            { name: "api_conf", target: "/api_conf" },
                            { name: "banner", target: "/etc/banner.txt" },
                        ],
                        healthCheck: {
                            command: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"],
                            interval: "5s",
                            timeout: "2s",
                            retries: 5,
                            startPeriod: "10s",
                        },
                        update: {
                            parallelism: 2,
                            delay: "10s",
                            monitor: "30s",
                            maxFailureRatio: 0.1,
                            order: "start-first",
                            failureAction: "rollback",
                        },
                        rollback: { parallelism: 0, order: "stop-first" },
                        endpointMode: "vip",
                        limits: { cpus: 0.5, memory: 268435456 },
                        reservations: { cpus: 0.25, memory: 67108864 },
                        constraints: ["node.role == worker"],
                        labels: { team: "shop" },
                        restart: { condition: "on-failure", delay: "5s" },
                        user: "1000:1000",
                    },
                    cache: {
                        image: "redis:7.2@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                        args: ["redis-server", "--save", ""],
                        networks: ["back"],
                        aliases: ["kv"],
                        healthCheck: { command: "redis-cli ping", interval: "0s", timeout: "0s", retries: 0, startPeriod: "0s" },
                        endpointMode: "dnsrr",
                        preferences: ["spread=node.labels.zone"],
                        maxReplicasPerNode: 1,
                        restart: { condition: "any" },
                    },
                    legacy: {
                        image: "busybox:1.35.0",
                        global: true,
                        healthCheck: { disable: true },
                        ports: [{ target: 7000, published: "any", protocol: "tcp", mode: "ingress" }],
                        networks: ["default"],
                        mounts: [
                            { target: "/data", hostPath: "/var/lib/legacy" },
                        ],
                        containerLabels: { "com.example.kind": "legacy" },
                        restart: { condition: "any" },
                        readOnlyRootFilesystem: true,
                    },
                },
            },
        secrets: [
                {
                    secret: "db_password",
                    key: "dbPassword",
                    from: { file: "/tmp/dockyard-compose-fixtures/kitchen-sink/db_password.txt" },
                },
            ],
        findings: [
                "error networks.outside.external",
                "error volumes.shared.external",
                "warning services.api.volumes[0]",
                "warning services.api.env_file",
                "error services.legacy.environment.UNSET_VAR",
                "warning services.legacy.volumes[0]",
                "warning services.legacy.container_name",
                "warning services.legacy.depends_on",
                "error services.legacy.privileged",
                "warning services.api.image",
            ],
    },
    // Three files merged: the last file's environment value, replicas and resources win; each
    // service's own keys from each file are kept.
    overrides: {
        environment: {
            prefix: "overrides",
            networks: { default: { attachable: false } },
            volumes: {}, secrets: {}, configs: {}, images: {},
            services: {
                cache: {
                    image: "memcached:1.6.31",
                    args: ["memcached", "-m", "64"],
                    networks: ["default"],
                    reservations: { memory: 67108864 },
                    restart: { condition: "any" },
                },
                web: {
                    image: "shop/storefront:5.0.1",
                    replicas: 3,
                    env: { FEATURE_FLAGS: "checkout", LOG_LEVEL: "warn" },
                    ports: [{ target: 3000, published: 19114, mode: "ingress", protocol: "tcp" }],
                    networks: ["default"],
                    healthCheck: { command: ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/health"], interval: "5s", timeout: DOCKER_HEALTH.timeout, retries: DOCKER_HEALTH.retries, startPeriod: DOCKER_HEALTH.startPeriod },
                    update: { parallelism: 1, delay: "5s", order: "start-first" },
                    limits: { cpus: 1, memory: 268435456 },
                    restart: { condition: "any" },
                },
            },
        },
        secrets: [],
        findings: [],
    },
};

describe("compose import: the mapping of recorded Compose files", () => {
    for (const c of CASES) {
        describe(c.name, () => {
            const r = importCase(c.name);
            it("maps every service, network, volume, secret, config and image exactly", () => {
                const { defaults, ...rest } = r.environment;
                assert.deepStrictEqual(rest, EXPECTED[c.name].environment);
                assert.deepStrictEqual(defaults, { update: SWARM_ROLLOUT, rollback: SWARM_ROLLOUT });
            });
            it("sends every secret to a secret config key, never into the stack", () => {
                assert.deepStrictEqual(r.secrets, EXPECTED[c.name].secrets);
                const text = renderStackFile(r, c.files);
                for (const s of r.secrets) {
                    if ("file" in s.from) assert.ok(!text.includes(fs.readFileSync(path.join(FIXTURES, c.name, path.basename(s.from.file)), "utf8").trim()));
                }
            });
            it("reports exactly the keys it cannot map, with their paths", () => {
                assert.deepStrictEqual(r.findings.map((f) => `${f.severity} ${f.path}`), EXPECTED[c.name].findings);
            });
            it("produces a stack that parseEnvironment accepts", () => {
                // Build contexts are checked where they are in the repository (the recording's paths are elsewhere).
                assert.doesNotThrow(() => parseEnvironment(JSON.parse(JSON.stringify(r.environment)), { keys: keysOf(r), projectDir: path.join(FIXTURES, c.name) }));
            });
        });
    }
});

/** Map a one-service document in the normalised shape. */
function one(service: Record<string, unknown>, top: Record<string, unknown> = {}): ComposeImport {
    return mapCompose({ version: "3.8", services: { app: { image: "busybox:1.35.0", ...service } }, ...top }, {
        projectDir: "/p", composeDir: "/p/compose", stack: "shop", env: { GREETING: "hello" }, readFile: (f) => `content of ${f}`,
    });
}
const service = (r: ComposeImport) => r.environment.services.app;
const findings = (r: ComposeImport) => r.findings.map((f) => `${f.severity} ${f.path}: ${f.why}`);

describe("compose import: single mappings", () => {
    it("maps an exec health check; a timing left out is 0, the image's value else Docker's default, as docker stack deploy sends it", () => {
        const r = one({ healthcheck: { test: ["CMD", "wget", "-q", "http://127.0.0.1/"], interval: "2s" } });
        assert.deepStrictEqual(service(r).healthCheck, { command: ["wget", "-q", "http://127.0.0.1/"], interval: "2s", timeout: "0s", retries: 0, startPeriod: "0s" });
        assert.deepStrictEqual(DOCKER_HEALTH, { interval: "0s", timeout: "0s", retries: 0, startPeriod: "0s" });
        assert.deepStrictEqual(findings(r), []);
    });
    it("warns of a health check's start_interval, which the provider cannot set, and says why a pids limit stops", () => {
        const r = one({ healthcheck: { test: ["CMD", "true"], start_period: "30s", start_interval: "2s" }, deploy: { resources: { limits: { pids: 100 } } } });
        assert.deepStrictEqual(service(r).healthCheck, { command: ["true"], interval: "0s", timeout: "0s", retries: 0, startPeriod: "30s" });
        assert.deepStrictEqual(findings(r), [
            "warning services.app.healthcheck.start_interval: the Docker provider (5.2) cannot set it: during the start period the check runs every `interval` instead (only readiness comes later)",
            "error services.app.deploy.resources.limits.pids: the Docker provider (5.2) cannot set a service's pids limit: without it the number of processes is unlimited",
        ]);
    });
    it("maps a CMD-SHELL health check to a shell string", () => {
        assert.strictEqual(service(one({ healthcheck: { test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"] } })).healthCheck.command, "curl -f http://localhost/ || exit 1");
    });
    it("maps a disabled health check, either form, to disable (timings given with it are Docker's to ignore too)", () => {
        for (const healthcheck of [{ test: ["NONE"] }, { disable: true }, { disable: true, interval: "5s", test: ["CMD", "true"] }]) {
            const r = one({ healthcheck });
            assert.deepStrictEqual(service(r).healthCheck, { disable: true }, JSON.stringify(healthcheck));
            assert.deepStrictEqual(findings(r), []);
        }
    });
    it("maps deploy.restart_policy key by key; a condition left out is Swarm's any", () => {
        const r = one({ deploy: { restart_policy: { condition: "on-failure", delay: "10s", max_attempts: "3", window: "1m0s" } } });
        assert.deepStrictEqual(service(r).restart, { condition: "on-failure", delay: "10s", maxAttempts: 3, window: "1m0s" });
        assert.deepStrictEqual(findings(r), []);
        assert.deepStrictEqual(service(one({ deploy: { restart_policy: { delay: "2s" } } })).restart, { condition: "any", delay: "2s" });
    });
    it("writes Swarm's restart on any exit when no policy is given (Dockyard's own default is on failure only)", () => {
        const r = one({});
        assert.deepStrictEqual(service(r).restart, { condition: "any" });
        assert.deepStrictEqual(findings(r), []);
    });
    it("reads a service's restart: as docker stack deploy does when there is no deploy.restart_policy, but \"no\" as docker compose does", () => {
        const restart = (v: string) => service(one({ restart: v })).restart;
        assert.deepStrictEqual(["no", "always", "unless-stopped", "on-failure", "on-failure:3"].map(restart), [
            { condition: "none" }, { condition: "any" }, { condition: "any" }, { condition: "on-failure" }, { condition: "on-failure", maxAttempts: 3 },
        ]);
        assert.deepStrictEqual(findings(one({ restart: "sometimes" })), ['error services.app.restart: expected no, always, unless-stopped or on-failure[:<attempts>], got "sometimes"']);
        const both = one({ restart: "always", deploy: { restart_policy: { condition: "none" } } });
        assert.deepStrictEqual(service(both).restart, { condition: "none" });
        assert.deepStrictEqual(findings(both), [
            "warning services.app.restart: deploy.restart_policy is given, so docker stack deploy ignores it too",
            `warning services.app.deploy.update_config: ${ONE_SHOT_WARNING}`,
            `warning services.app.deploy.rollback_config: ${ONE_SHOT_ROLLBACK_WARNING}`,
        ]);
    });
    it("stops at a Swarm job mode, saying what to use instead; other unknown modes are named", () => {
        assert.deepStrictEqual(["replicated-job", "global-job", "sharded"].map((mode) => findings(one({ deploy: { mode } }))), [
            ['error services.app.deploy.mode: Dockyard services are replicated or global, got "replicated-job"; Swarm jobs are not supported (the Docker provider cannot create them): for a one-shot task use mode replicated with restart_policy condition none, which Dockyard takes as done when its tasks exit 0'],
            ['error services.app.deploy.mode: Dockyard services are replicated or global, got "global-job"; Swarm jobs are not supported (the Docker provider cannot create them): for a one-shot task use mode replicated with restart_policy condition none, which Dockyard takes as done when its tasks exit 0'],
            ['error services.app.deploy.mode: Dockyard services are replicated or global, got "sharded"'],
        ]);
    });
    it("reports restart policy keys and conditions it cannot map", () => {
        assert.deepStrictEqual(findings(one({ deploy: { restart_policy: { condition: "sometimes" } } })), [
            'error services.app.deploy.restart_policy.condition: expected one of none, on-failure, any, got "sometimes"',
        ]);
        assert.deepStrictEqual(findings(one({ deploy: { restart_policy: { condition: "any", backoff: "2x" } } })), [
            "error services.app.deploy.restart_policy.backoff: no Dockyard stack key for it",
        ]);
    });
    it("maps placement preferences and read_only", () => {
        const r = one({ read_only: true, deploy: { placement: { constraints: ["node.role == worker"], preferences: [{ spread: "node.labels.zone" }, { spread: "node.labels.rack" }] } } });
        assert.deepStrictEqual([service(r).constraints, service(r).preferences, service(r).readOnlyRootFilesystem],
            [["node.role == worker"], ["spread=node.labels.zone", "spread=node.labels.rack"], true]);
        assert.deepStrictEqual(findings(r), []);
        assert.strictEqual(service(one({ read_only: false })).readOnlyRootFilesystem, undefined);
        assert.deepStrictEqual(findings(one({ deploy: { placement: { preferences: [{ spread: "node.labels.zone", weight: 2 }, { pack: "x" }] } } })), [
            "error services.app.deploy.placement.preferences[0].weight: no Dockyard stack key for it",
            "error services.app.deploy.placement.preferences[1].spread: expected a label such as node.labels.zone, got undefined",
            "error services.app.deploy.placement.preferences[1].pack: no Dockyard stack key for it",
        ]);
    });
    it("maps network attachability (Compose's overlay networks are not attachable unless it says so) and a gateway", () => {
        const r = one({ networks: { a: null, b: null } }, {
            networks: {
                a: { driver: "overlay", attachable: true, ipam: { config: [{ subnet: "10.9.0.0/24", gateway: "10.9.0.1" }] } },
                b: { driver: "overlay" },
            },
        });
        assert.deepStrictEqual(r.environment.networks, {
            a: { driver: "overlay", attachable: true, subnet: "10.9.0.0/24", gateway: "10.9.0.1" },
            b: { driver: "overlay", attachable: false },
        });
        assert.deepStrictEqual(findings(r), []);
        assert.doesNotThrow(() => parseEnvironment(JSON.parse(JSON.stringify(r.environment))));
    });
    it("reports a gateway without a subnet, and a second subnet, with their paths", () => {
        const r = one({}, { networks: { a: { ipam: { config: [{ gateway: "10.9.0.1" }, { subnet: "10.8.0.0/24", gateway: "10.8.0.1", ip_range: "10.8.0.0/25" }] } } } });
        assert.deepStrictEqual(r.environment.networks.a, { attachable: false });
        assert.deepStrictEqual(findings(r), [
            "error networks.a.ipam.config[0].gateway: Dockyard sets a gateway only within the network's one subnet",
            "error networks.a.ipam.config[1]: no stack key for it yet (needs a stack schema addition: networks.<name>.subnets (more than one))",
            "error networks.a.ipam.config[1].gateway: Dockyard sets a gateway only within the network's one subnet",
            "error networks.a.ipam.config[1].ip_range: no stack key for it yet (needs a stack schema addition: networks.<name>.ipRange)",
        ]);
    });
    it("puts services that name no network on the default network, as docker stack deploy does", () => {
        const r = one({});
        assert.deepStrictEqual(r.environment.networks, { default: { attachable: false } });
        assert.deepStrictEqual(service(r).networks, ["default"]);
    });
    it("reports privileged as an error and depends_on as a warning", () => {
        assert.deepStrictEqual(findings(one({ privileged: true, depends_on: ["db"] })), [
            "error services.app.privileged: Dockyard runs no privileged containers (docker stack deploy ignores it too)",
            "warning services.app.depends_on: Swarm ignores it too: services start in any order and must retry their dependencies",
        ]);
    });
    it("maps secret targets under /run/secrets to file names and reports others", () => {
        const r = one({ secrets: [{ source: "a", target: "/run/secrets/a.txt" }, { source: "b", target: "/etc/b" }, { source: "c", mode: 256 }] },
            { secrets: { a: { file: "/p/compose/a" }, b: { file: "/p/compose/b" }, c: { file: "/p/compose/c" } } });
        // A target reported as unsupported is not written: the file is /run/secrets/<name>.
        assert.deepStrictEqual(service(r).secrets, [{ name: "a", target: "a.txt" }, "b", { name: "c", mode: 0o400 }]);
        assert.deepStrictEqual(findings(r), [
            'error services.app.secrets[1].target: no stack key for it yet (needs a stack schema addition: secret files outside /run/secrets), got "/etc/b"; without it the file is /run/secrets/b',
        ]);
    });
    it("maps a secret's and a config's owner and mode; root's and 0444 are Docker's defaults, left out", () => {
        const r = one({
            secrets: [{ source: "k", target: "tls.key", uid: "101", gid: "102", mode: 0o400 }, { source: "p", uid: "0", gid: "0", mode: 0o444 }],
            configs: [{ source: "n", target: "/etc/nginx/nginx.conf", uid: "101", mode: 0o440 }, { source: "m", target: "/m", mode: 0o444 }],
        }, { secrets: { k: { file: "/p/compose/k" }, p: { file: "/p/compose/p" } }, configs: { n: { file: "/p/compose/n" }, m: { file: "/p/compose/m" } } });
        assert.deepStrictEqual(service(r).secrets, [{ name: "k", target: "tls.key", uid: "101", gid: "102", mode: 0o400 }, "p"]);
        assert.deepStrictEqual(service(r).configs, [{ name: "n", target: "/etc/nginx/nginx.conf", uid: "101", mode: 0o440 }, { name: "m", target: "/m" }]);
        assert.deepStrictEqual(findings(r), []);
    });
    it("reads environment: secrets and configs back from the loader's marker", () => {
        const r = one({ configs: [{ source: "greeting" }] }, {
            secrets: { token: { file: "/p/compose/__dockyard_env__/TOKEN" } },
            configs: { greeting: { file: "/p/compose/__dockyard_env__/GREETING" } },
        });
        // A secret from the environment is an env: source: no config key to set.
        assert.deepStrictEqual(r.secrets, []);
        assert.deepStrictEqual(r.environment.secrets, { token: { env: "TOKEN" } });
        assert.deepStrictEqual(r.environment.configs, { greeting: { data: "hello" } });
        assert.deepStrictEqual(service(r).configs, [{ name: "greeting", target: "/greeting" }]);
    });
    it("leaves out external objects and every reference to them", () => {
        const r = one({ secrets: [{ source: "ext" }], networks: { outside: null } }, { secrets: { ext: { name: "ext", external: true } }, networks: { outside: { name: "outside", external: true } } });
        assert.deepStrictEqual(r.environment.secrets, {});
        assert.deepStrictEqual(r.environment.networks, {});
        assert.strictEqual(service(r).secrets, undefined);
        assert.strictEqual(service(r).networks, undefined);
        assert.deepStrictEqual(findings(r).map((f) => f.split(":")[0]), [
            "error networks.outside.external", "error secrets.ext.external", "error services.app.networks.outside", "error services.app.secrets[0]",
        ]);
    });
    it("writes build contexts relative to the project directory", () => {
        const r = one({ build: { context: "../app", args: { V: "1" } }, image: "ghcr.io/acme/app:1.0" });
        assert.deepStrictEqual(r.environment.images, { app: { context: "app", repository: "acme/app", tag: "1.0", buildArgs: { V: "1" } } });
        assert.deepStrictEqual(r.environment.registry, { external: { server: "ghcr.io" } });
        assert.strictEqual(service(r).image, "app");
    });
});

describe("compose import: helpers", () => {
    it("names secret config keys in camelCase", () => {
        assert.deepStrictEqual(["db_password", "api-key", "TOKEN", "1st"].map(configKeyFor), ["dbPassword", "apiKey", "tOKEN", "secret1st"]);
    });
    it("splits image references", () => {
        assert.deepStrictEqual(splitImage("127.0.0.1:5000/rng:latest"), { host: "127.0.0.1:5000", repository: "rng", tag: "latest" });
        assert.deepStrictEqual(splitImage("redis"), { host: undefined, repository: "redis" });
        assert.deepStrictEqual(splitImage("library/redis:7"), { host: undefined, repository: "library/redis", tag: "7" });
        assert.deepStrictEqual(splitImage("localhost/x@sha256:ab"), { host: "localhost", repository: "x" });
    });
    it("marks environment: secrets and configs for Docker's loader, and leaves other files alone", () => {
        assert.deepStrictEqual(markEnvironmentSources({ secrets: { a: { environment: "A" }, b: { file: "b" } } }), { secrets: { a: { file: "__dockyard_env__/A" }, b: { file: "b" } } });
        assert.strictEqual(markEnvironmentSources({ services: {} }), undefined);
    });
    it("prints the pulumi config set commands for secrets", () => {
        assert.strictEqual(secretCommand({ secret: "db_password", key: "dbPassword", from: { file: "/p/db password.txt" } }, "wp", "/p"),
            "npm run pulumi -- config set --secret dbPassword --stack wp < 'db password.txt'");
    });
});
