// Every stack that validates deploys: generated environments run through the whole program under
// mocks. Either the program builds every component (no component rejects what validation
// accepted), or it stops with a ConfigError before registering any resource.
import * as assert from "assert";
import fc from "fast-check";
import { mockState, ofType, registered, resetRecorder, reveal, setConfig, settle } from "./harness";

const DIGEST = "sha256:" + "ab".repeat(32);

async function run(environment: unknown): Promise<{ error?: Error }> {
    resetRecorder();
    setConfig({ environment, appToken: "t0ken", registryPassword: "pw" }, ["appToken", "registryPassword"]);
    delete require.cache[require.resolve("../../index")];
    try {
        const program = await import("../../index");
        await new Promise((resolve) => program.releaseManifest.apply(resolve));
        await settle();
        return {};
    } catch (error) {
        await settle();
        return { error: error as Error };
    }
}

const NETWORKS = ["backend", "front"];
const VOLUMES = ["data", "cache"];
const SECRETS = ["token", "key"];
const CONFIGS = ["conf"];
/** Present half of the time. */
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
/** Present one time in six: for settings that are often wrong in combination. */
const rarely = <T>(a: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: a, weight: 1 });
const subset = (names: string[]) => fc.subarray(names, { minLength: 0 });

const rollout = fc.record({
    order: maybe(fc.constantFrom("start-first", "stop-first")),
    failureAction: maybe(fc.constantFrom("rollback", "pause", "continue")),
    parallelism: maybe(fc.constantFrom(0, 1, 2)),
    delay: maybe(fc.constantFrom("1s", "500ms", "1m30s")),
}, { requiredKeys: [] });

const service = fc.record({
    image: fc.constantFrom("app", "nginx:1.27", "redis@sha256:" + "c".repeat(64)),
    replicas: maybe(fc.constantFrom(0, 1, 3)),
    global: rarely(fc.boolean()),
    ports: rarely(fc.array(fc.record({
        target: fc.constantFrom(80, 8080),
        published: rarely(fc.constantFrom(80, 8081, 9000)),
        mode: maybe(fc.constantFrom("host", "ingress")),
        protocol: maybe(fc.constantFrom("tcp", "udp")),
    }, { requiredKeys: ["target"] }), { maxLength: 1 })),
    networks: maybe(subset(NETWORKS)),
    mounts: maybe(fc.array(fc.oneof(
        fc.record({ volume: fc.constantFrom(...VOLUMES), target: fc.constantFrom("/data", "/cache"), readOnly: maybe(fc.boolean()) }),
        fc.record({ tmpfs: fc.constantFrom("1m", "64m"), target: fc.constantFrom("/tmp", "/data") }),
        fc.record({ hostPath: fc.constantFrom("/srv", "/srv", "/var/run/docker.sock"), target: fc.constantFrom("/srv", "/sock") }),
    ), { maxLength: 1 })),
    secrets: maybe(fc.array(fc.oneof(fc.constantFrom(...SECRETS), fc.record({ name: fc.constantFrom(...SECRETS), target: maybe(fc.constantFrom("t.txt", "token")) })), { maxLength: 2 })),
    configs: rarely(fc.array(fc.record({ name: fc.constantFrom(...CONFIGS), target: fc.constantFrom("/etc/app.yaml", "/run/secrets/token") }), { maxLength: 1 })),
    healthCheck: maybe(fc.record({ command: fc.constantFrom<string | string[]>("true", ["wget", "-q", "http://127.0.0.1/"]), interval: maybe(fc.constantFrom("2s", "1m")) }, { requiredKeys: ["command"] })),
    endpointMode: rarely(fc.constantFrom("vip", "dnsrr")),
    update: maybe(rollout),
    rollback: maybe(rollout),
    limits: maybe(fc.record({ memory: maybe(fc.constantFrom("64m", "1g")), cpus: maybe(fc.constantFrom(0.5, 2)) }, { requiredKeys: [] })),
    reservations: rarely(fc.record({ memory: maybe(fc.constantFrom("32m", "128m")) }, { requiredKeys: [] })),
    constraints: maybe(fc.array(fc.constantFrom("node.role==manager", "node.labels.zone!=b"), { maxLength: 1 })),
    user: maybe(fc.constantFrom("app", "1000:1000")),
    env: maybe(fc.dictionary(fc.constantFrom("A", "B_1", "LOG_LEVEL"), fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()), { maxKeys: 2 })),
}, { requiredKeys: ["image"] });

const environment = fc.record({
    prefix: maybe(fc.constantFrom("dev", "a-twenty-char-prefix")),
    production: maybe(fc.boolean()),
    registry: maybe(fc.oneof(
        fc.record({ external: fc.record({ server: fc.constant("registry.example.com"), username: maybe(fc.constant("deploy")), passwordFromConfig: maybe(fc.constant("registryPassword")) }, { requiredKeys: ["server"] }) }),
        fc.record({ selfHosted: fc.record({ port: maybe(fc.constantFrom(5000, 8080)), publishMode: maybe(fc.constantFrom("host", "ingress")), endpointMode: maybe(fc.constantFrom("vip", "dnsrr")) }, { requiredKeys: [] }) }),
    )),
    networks: fc.constant(NETWORKS).chain((names) => fc.tuple(...names.map(() => fc.record({
        driver: rarely(fc.constantFrom("overlay", "bridge")),
        encrypted: maybe(fc.boolean()),
        attachable: maybe(fc.boolean()),
        subnet: maybe(fc.constant("10.30.0.0/24")),
        gateway: rarely(fc.constant("10.30.0.1")),
    }, { requiredKeys: [] }))).map((settings) => Object.fromEntries(names.map((n, i) => [n, settings[i]])))),
    volumes: fc.constant(VOLUMES).map((names) => Object.fromEntries(names.map((n) => [n, { deletion: "retain" }]))),
    secrets: fc.constant(SECRETS).map((names) => Object.fromEntries(names.map((n) => [n, { fromConfig: "appToken" }]))),
    configs: fc.constant(CONFIGS).map((names) => Object.fromEntries(names.map((n) => [n, { data: "k: v\n" }]))),
    images: fc.constantFrom(true, true, true, false).map((on) => (on ? { app: { context: "app", repository: "shop/app", testTarget: "test" } } : {})),
    defaults: fc.record({
        replicas: maybe(fc.constantFrom(1, 2)),
        endpointMode: rarely(fc.constantFrom("vip", "dnsrr")),
        publishMode: maybe(fc.constantFrom("host", "ingress")),
        requireHealthCheck: rarely(fc.boolean()),
        update: maybe(rollout),
    }, { requiredKeys: [] }),
    services: fc.dictionary(fc.constantFrom("web", "kv", "w".repeat(45), "db.main"), service, { minKeys: 1, maxKeys: 3 }),
}, { requiredKeys: ["services"] });

/** Drop undefined keys, as a YAML stack file would never contain them. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

describe("generated environments", function () {
    this.timeout(120_000);
    before(() =>
        mockState("command:local:Command", (args) =>
            args.name.endsWith("-build") ? { stdout: `${reveal(args.inputs.environment).IMAGE_REF.replace(/:[^:/]+$/, "")}@${DIGEST}` } : { stdout: "" }));
    after(() => mockState("command:local:Command", undefined));

    it("either deploy every service, or stop with a ConfigError before registering anything", async () => {
        let deployed = 0;
        let rejected = 0;
        await fc.assert(
            fc.asyncProperty(environment.map(plain), async (env) => {
                const { error } = await run(env);
                if (error) {
                    rejected++;
                    assert.strictEqual(error.name, "ConfigError", `not a config error: ${error.stack}`);
                    assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), [], `registered before the config error:\n${error.message}`);
                } else {
                    deployed++;
                    const selfHosted = env.registry && "selfHosted" in env.registry ? 1 : 0;
                    assert.strictEqual(ofType("docker:index/service:Service").length, Object.keys(env.services).length + selfHosted);
                }
            }),
            { numRuns: 150, seed: 20261123 },
        );
        if (process.env.SHOW_COUNTS) console.log(`deployed ${deployed}, rejected ${rejected}`);
        // The generator must exercise both outcomes, and deploy often enough to mean something.
        assert.ok(deployed >= 20, `only ${deployed} of ${deployed + rejected} generated environments were valid`);
        assert.ok(rejected >= 20, `only ${rejected} of ${deployed + rejected} generated environments were invalid`);
    });
});
