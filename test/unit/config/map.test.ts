// The mapping from stack config to component arguments, key by key: each test asserts the exact
// arguments a component receives, so changing any mapping fails a test.
import * as assert from "assert";
import * as path from "path";
import { Factory, checkingFactory, describeSource, mapEnvironment, parseEnvironment } from "../../../config";

const PROJECT = path.resolve(__dirname, "../../..");
const KEYS = { isSecret: () => true };

interface Made {
    readonly kind: string;
    readonly name: string;
    readonly at: string;
    readonly args: any;
    /** What a service is ordered after. */
    readonly after?: readonly string[];
}

/** A factory that records what it is asked to make and returns a labelled stand-in. */
function recorder(): { factory: Factory; made: Made[]; one(kind: string, name: string): any } {
    const made: Made[] = [];
    const make = (kind: string) => (name: string, args: any, at: string, after?: readonly any[]) => {
        made.push({ kind, name, at, args, ...(after ? { after: after.map((a) => a.standIn) } : {}) });
        return { standIn: `${kind} ${name}` } as any;
    };
    const factory: Factory = {
        registry: make("registry"), network: make("network"), volume: make("volume"), secret: make("secret"),
        config: make("config"), image: make("image"), nodeLabels: make("nodeLabels"), service: make("service"),
    };
    const one = (kind: string, name: string) => {
        const hits = made.filter((m) => m.kind === kind && m.name === name);
        assert.strictEqual(hits.length, 1, `expected one ${kind} ${name}; made: ${made.map((m) => `${m.kind} ${m.name}`).join(", ")}`);
        return hits[0].args;
    };
    return { factory, made, one };
}

/** Parse (as the program does) and map with a recorder; secrets become visible placeholders. */
function mapped(raw: unknown, pins: Record<string, string> = {}) {
    const env = parseEnvironment(raw, { keys: KEYS, projectDir: PROJECT, pins });
    const r = recorder();
    const out = mapEnvironment(env, { projectDir: PROJECT, pins, secret: (source) => `<secret ${describeSource(source)}>` }, r.factory);
    return { ...r, out };
}

const ref = (kind: string, name: string) => ({ standIn: `${kind} ${name}` });

/** An environment that uses every key the stack file has. */
function everything(): any {
    return {
        prefix: "acme",
        production: true,
        registry: { external: { server: "registry.example.com:5000", username: "deploy", passwordFromConfig: "registryPassword", verifyCredentials: false } },
        networks: {
            front: { driver: "overlay", attachable: false, internal: true, subnet: "10.20.0.0/24", gateway: "10.20.0.1", encrypted: true, labels: { tier: "front" } },
        },
        volumes: { data: { deletion: "protect", driver: "local", driverOptions: { type: "tmpfs", device: "tmpfs" }, labels: { keep: "yes" }, backup: { quiesce: "stop" } } },
        secrets: { token: { fromConfig: "appToken" } },
        configs: { conf: { data: "key: value\n" } },
        backupBeforeDeploy: true,
        backupDir: "backups",
        policy: { rules: { "image-by-digest": "mandatory" }, allowEnvNames: ["TOKEN_URL"], publicPorts: { web: [80] } },
        nodes: { worker1: { labels: { zone: "b", disk: "ssd" } }, "db-1": { labels: { "dockyard.volumes": "true" } } },
        images: {
            app: { context: "app", dockerfile: "Dockerfile", repository: "shop/app", tag: "v1.2", buildArgs: { A: "x", N: 1, B: true }, target: "release", testTarget: "test", platform: "linux/amd64", keep: 3 },
        },
        defaults: {
            replicas: 2, endpointMode: "dnsrr", publishMode: "host", convergeTimeout: "3m",
            update: { parallelism: 2, delay: "1s", order: "stop-first" },
            rollback: { monitor: "9s" },
            limits: { cpus: 1, memory: "512m" },
            reservations: { cpus: 0.1, memory: "64m" },
            requireHealthCheck: true,
        },
        services: {
            web: {
                image: "app",
                replicas: 3,
                command: ["/app/bin/app"],
                args: ["web", "--verbose"],
                env: { KV_URL: "http://kv:8080", WORKERS: 4, DEBUG: false },
                ports: [{ target: 8080, published: 80, protocol: "tcp" }, { target: 9090, mode: "host", protocol: "udp" }],
                networks: ["front"],
                mounts: [
                    { volume: "data", target: "/data", readOnly: true },
                    { hostPath: "/srv/static", target: "/static" },
                    { tmpfs: "64m", target: "/tmp" },
                ],
                secrets: ["token", { name: "token", target: "token.txt", uid: "101", mode: 0o400 }],
                configs: [{ name: "conf", target: "/etc/app.yaml", gid: "102", mode: 0o440 }],
                healthCheck: { command: "wget -q -O- http://127.0.0.1:8080/healthz", interval: "5s", timeout: "2s", retries: 4, startPeriod: "7s" },
                update: { monitor: "20s", failureAction: "pause" },
                rollback: { parallelism: 0, order: "start-first" },
                restart: { condition: "any", delay: "3s", maxAttempts: 5, window: "1m" },
                limits: { memory: "256m" },
                reservations: { cpus: 0.25 },
                constraints: ["node.role==worker"],
                preferences: ["spread=node.labels.zone"],
                labels: { team: "web" },
                user: "1000:1000",
                readOnlyRootFilesystem: true,
                convergeTimeout: "4m",
            },
            cache: {
                image: "redis@sha256:" + "c".repeat(64),
                global: true,
                healthCheck: { command: ["redis-cli", "ping"] },
            },
        },
    };
}

describe("mapEnvironment", () => {
    describe("an environment that uses every key", () => {
        let m: ReturnType<typeof mapped>;
        before(() => (m = mapped(everything())));

        it("makes exactly these components, in dependency order, each from its stack-file path", () => {
            assert.deepStrictEqual(m.made.map((x) => `${x.kind} ${x.name} ${x.at}`), [
                "registry acme-registry registry.external",
                "network acme-front networks.front",
                "volume acme-data volumes.data",
                "secret acme-token secrets.token",
                "config acme-conf configs.conf",
                "image acme-app images.app",
                "nodeLabels node-worker1 nodes.worker1",
                "nodeLabels node-db-1 nodes.db-1",
                "service acme-web services.web",
                "service acme-cache services.cache",
            ]);
        });

        it("nodes: the labels of each node, unprefixed (they belong to the cluster), and every service ordered after them", () => {
            assert.deepStrictEqual(m.one("nodeLabels", "node-worker1"), { node: "worker1", labels: { zone: "b", disk: "ssd" } });
            assert.deepStrictEqual(m.one("nodeLabels", "node-db-1"), { node: "db-1", labels: { "dockyard.volumes": "true" } });
            for (const s of m.made.filter((x) => x.kind === "service")) assert.deepStrictEqual(s.after, ["nodeLabels node-worker1", "nodeLabels node-db-1"]);
        });

        it("registry.external: server, username, verifyCredentials, and the password from its secret config key", () => {
            assert.deepStrictEqual(m.one("registry", "acme-registry"), {
                kind: "external", server: "registry.example.com:5000", username: "deploy", verifyCredentials: false, password: "<secret config key registryPassword>",
            });
        });

        it("networks: every setting as given", () => {
            assert.deepStrictEqual(m.one("network", "acme-front"), {
                driver: "overlay", attachable: false, internal: true, subnet: "10.20.0.0/24", gateway: "10.20.0.1", encrypted: true, labels: { tier: "front" },
            });
        });

        it("volumes: every setting as given, except `backup` (for the ops tooling, not the component)", () => {
            assert.deepStrictEqual(m.one("volume", "acme-data"), {
                deletion: "protect", driver: "local", driverOptions: { type: "tmpfs", device: "tmpfs" }, labels: { keep: "yes" },
            });
        });

        it("secrets: the value of the named secret config key; configs: the data", () => {
            assert.deepStrictEqual(m.one("secret", "acme-token"), { data: "<secret config key appToken>" });
            assert.deepStrictEqual(m.one("config", "acme-conf"), { data: "key: value\n" });
        });

        it("secrets: each source kind asks the loader for exactly that source, the command with its defaults", () => {
            const raw = everything();
            raw.secrets = {
                token: { config: "appToken" }, old: { fromConfig: "appToken" }, env: { env: "APP_TOKEN" }, file: { file: "/run/keys/t" },
                cmd: { command: ["op", "read", "op://prod/app/token"] }, trimmed: { command: ["pass", "show", "app"], trim: true, timeout: "5s" },
            };
            const asked: unknown[] = [];
            mapEnvironment(parseEnvironment(raw, { keys: KEYS, projectDir: PROJECT }), { projectDir: PROJECT, pins: {}, secret: (s) => (asked.push(s), "x") }, recorder().factory);
            assert.deepStrictEqual(asked, [
                { kind: "config", key: "registryPassword" },
                { kind: "config", key: "appToken" },
                { kind: "config", key: "appToken" },
                { kind: "env", name: "APP_TOKEN" },
                { kind: "file", path: "/run/keys/t" },
                { kind: "command", argv: ["op", "read", "op://prod/app/token"], trim: false, timeout: "30s" },
                { kind: "command", argv: ["pass", "show", "app"], trim: true, timeout: "5s" },
            ]);
        });

        it("images: every build setting, the context resolved from the project, and the registry", () => {
            assert.deepStrictEqual(m.one("image", "acme-app"), {
                context: path.join(PROJECT, "app"), dockerfile: "Dockerfile", repository: "shop/app", tag: "v1.2",
                buildArgs: { A: "x", N: 1, B: true }, target: "release", testTarget: "test", platform: "linux/amd64", keep: 3,
                registry: ref("registry", "acme-registry"),
            });
        });

        it("services: every setting, references resolved to components, the environment's defaults under the service's own", () => {
            assert.deepStrictEqual(m.one("service", "acme-web"), {
                image: ref("image", "acme-app"),
                replicas: 3,
                command: ["/app/bin/app"],
                args: ["web", "--verbose"],
                env: { KV_URL: "http://kv:8080", WORKERS: "4", DEBUG: "false" },
                ports: [{ target: 8080, published: 80, protocol: "tcp", mode: "host" }, { target: 9090, mode: "host", protocol: "udp" }],
                networks: [ref("network", "acme-front")],
                aliases: ["web"],
                mounts: [
                    { volume: ref("volume", "acme-data"), target: "/data", readOnly: true },
                    { volume: undefined, hostPath: "/srv/static", target: "/static" },
                    { volume: undefined, tmpfs: "64m", target: "/tmp" },
                ],
                secrets: [{ secret: ref("secret", "acme-token"), target: "token" }, { secret: ref("secret", "acme-token"), target: "token.txt", uid: "101", mode: 0o400 }],
                configs: [{ config: ref("config", "acme-conf"), target: "/etc/app.yaml", gid: "102", mode: 0o440 }],
                healthCheck: { command: "wget -q -O- http://127.0.0.1:8080/healthz", interval: "5s", timeout: "2s", retries: 4, startPeriod: "7s" },
                update: { parallelism: 2, delay: "1s", order: "stop-first", monitor: "20s", failureAction: "pause" },
                rollback: { monitor: "9s", parallelism: 0, order: "start-first" },
                restart: { condition: "any", delay: "3s", maxAttempts: 5, window: "1m" },
                endpointMode: "dnsrr",
                limits: { memory: "256m" },
                reservations: { cpus: 0.25 },
                constraints: ["node.role==worker"],
                preferences: ["spread=node.labels.zone"],
                labels: { team: "web" },
                user: "1000:1000",
                readOnlyRootFilesystem: true,
                convergeTimeout: "4m",
                registry: ref("registry", "acme-registry"),
            });
        });

        it("services: an image reference is deployed as written; global services take no default replicas; defaults fill the rest", () => {
            assert.deepStrictEqual(m.one("service", "acme-cache"), {
                image: "redis@sha256:" + "c".repeat(64),
                global: true,
                replicas: undefined,
                healthCheck: { command: ["redis-cli", "ping"] },
                update: { parallelism: 2, delay: "1s", order: "stop-first" },
                rollback: { monitor: "9s" },
                endpointMode: "dnsrr",
                ports: undefined,
                limits: { cpus: 1, memory: "512m" },
                reservations: { cpus: 0.1, memory: "64m" },
                convergeTimeout: "3m",
                env: undefined,
                networks: undefined,
                aliases: undefined,
                mounts: undefined,
                secrets: undefined,
                configs: undefined,
                registry: ref("registry", "acme-registry"),
            });
        });

        it("returns the components by their stack-file names", () => {
            assert.deepStrictEqual(Object.keys(m.out.services), ["web", "cache"]);
            assert.deepStrictEqual(m.out.networks.front, ref("network", "acme-front"));
            assert.deepStrictEqual(m.out.images.app, ref("image", "acme-app"));
            assert.deepStrictEqual(m.out.registry, ref("registry", "acme-registry"));
        });
    });

    it("volumes: `backup` (true or { quiesce }) never reaches the Volume component; the stack-level ops keys make nothing", () => {
        const m = mapped({
            backupBeforeDeploy: true,
            backupDir: ".dockyard/backups",
            policy: { allowPrivileged: ["web"] },
            volumes: { db: { backup: true }, files: { driver: "local", backup: { quiesce: "pause" } }, plain: {} },
            services: { web: { image: "nginx:1.27", mounts: [{ volume: "db", target: "/db" }, { volume: "files", target: "/files" }, { volume: "plain", target: "/plain" }] } },
        });
        assert.deepStrictEqual(m.made.map((x) => `${x.kind} ${x.name}`), ["volume db", "volume files", "volume plain", "service web"]);
        assert.deepStrictEqual(m.one("volume", "db"), {});
        assert.deepStrictEqual(m.one("volume", "files"), { driver: "local" });
        assert.deepStrictEqual(m.one("volume", "plain"), {});
        for (const name of ["db", "files", "plain"]) assert.ok(!("backup" in m.one("volume", name)), `volume ${name} got a backup key`);
    });

    it("registry.selfHosted: every setting, and no password without one", () => {
        const m = mapped({
            registry: { selfHosted: { port: 5001, publishMode: "host", endpointMode: "dnsrr", image: "dockyard/registry:2.8.2", address: "127.0.0.1:5001", constraints: ["node.role==manager"] } },
            services: { web: { image: "nginx:1.27" } },
        });
        assert.deepStrictEqual(m.one("registry", "registry"), {
            kind: "self-hosted", port: 5001, publishMode: "host", endpointMode: "dnsrr", image: "dockyard/registry:2.8.2",
            address: "127.0.0.1:5001", constraints: ["node.role==manager"], password: undefined,
        });
    });

    it("without a prefix: names as written and no aliases", () => {
        const m = mapped({ networks: { n: {} }, services: { web: { image: "nginx:1.27", networks: ["n"] } } });
        assert.deepStrictEqual(m.made.map((x) => x.name), ["n", "web"]);
        assert.strictEqual(m.one("service", "web").aliases, undefined);
    });

    it("with a prefix, a service that joins no network gets no aliases (which would need one)", () => {
        const m = mapped({ prefix: "p", services: { solo: { image: "nginx:1.27" } } });
        assert.strictEqual(m.one("service", "p-solo").aliases, undefined);
    });

    it("a pinned image is deployed by its recorded reference and not built", () => {
        const pinned = "127.0.0.1:5000/shop/app@sha256:" + "a".repeat(64);
        const m = mapped({ images: { app: { context: "app", repository: "shop/app" } }, services: { web: { image: "app" } } }, { app: pinned });
        assert.deepStrictEqual(m.made.map((x) => x.kind), ["service"]);
        assert.strictEqual(m.one("service", "web").image, pinned);
        assert.strictEqual(m.out.images.app, pinned);
    });

    it("the checking factory reports the library's own problems under stack-file paths, and creates nothing", () => {
        const problems: string[] = [];
        const env = parseEnvironment({ services: { web: { image: "nginx:1.27" } } }, { keys: KEYS, projectDir: PROJECT });
        mapEnvironment({ ...env, prefix: "x".repeat(20), services: { ["y".repeat(50)]: env.services.web } }, { projectDir: PROJECT, pins: {}, secret: () => "s" }, checkingFactory(problems));
        assert.deepStrictEqual(problems, [
            `services.${"y".repeat(50)}.name: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "${"x".repeat(20)}-${"y".repeat(50)}"`,
        ]);
    });
});
