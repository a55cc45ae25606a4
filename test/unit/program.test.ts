// The whole program, run with mocks for each committed stack and for broken configs.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    Registration,
    isSecretValue,
    mockState,
    one,
    plaintextLeaks,
    ofType,
    registered,
    resetRecorder,
    reveal,
    setConfig,
    settle,
    valueOf,
} from "./harness";
import { stackEnvironment } from "./stacks";
import { LOGIN_SCRIPT } from "../../components/registry";

const TOKEN = "app-token-value-0123456789";
const REGISTRY_PASSWORD = "registry-password-value";
const DIGEST = "sha256:" + "ab".repeat(32);

/** Run index.ts afresh for one environment; returns its exports. */
async function runProgram(environment: unknown, secrets: Record<string, string> = { appToken: TOKEN, registryPassword: REGISTRY_PASSWORD }) {
    resetRecorder();
    setConfig({ environment, ...secrets }, Object.keys(secrets));
    delete require.cache[require.resolve("../../index")];
    const program = await import("../../index");
    await valueOf(program.releaseManifest);
    await settle();
    return program;
}


function countByType(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of registered()) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return counts;
}

function service(name: string): Registration {
    return one("docker:index/service:Service", `${name}-service`);
}

describe("program", function () {
    this.timeout(30_000);
    before(() => {
        // The build command prints the pushed digest as its last line.
        mockState("command:local:Command", (args) =>
            args.name.endsWith("-build") ? { stdout: `building\n${reveal(args.inputs.environment).IMAGE_REF.replace(/:[^:/]+$/, "")}@${DIGEST}` }
                : args.name === "web-converged" ? { stdout: '{"endpoints":["127.0.0.1:8080"]}\n' }
                : args.name.endsWith("-data-node") ? { stdout: "n0de1d\n" }
                : { stdout: "" },
        );
    });
    after(() => mockState("command:local:Command", undefined));

    describe("dev stack", () => {
        let program: typeof import("../../index");
        before(async () => {
            program = await runProgram(stackEnvironment("dev"));
        });

        it("registers exactly the expected resources", () => {
            assert.deepStrictEqual(countByType(), {
                "dockyard:registry:Registry": 1,
                "dockyard:volume:Volume": 2,
                "docker:index/volume:Volume": 2,
                "dockyard:swarm:Service": 3,
                "docker:index/service:Service": 3,
                "dockyard:network:Network": 1,
                "docker:index/network:Network": 1,
                "dockyard:swarm:Secret": 1,
                "docker:index/secret:Secret": 1,
                "dockyard:image:Image": 1,
                // app-build, app-prune, and a convergence wait per service
                "command:local:Command": 7,
            });
        });

        it("runs the registry as a child service on a host port with its own retained volume", () => {
            const registry = one("dockyard:registry:Registry", "registry");
            const svc = one("dockyard:swarm:Service", "registry");
            assert.strictEqual(svc.parent, registry.urn);
            const inputs = service("registry").inputs;
            assert.deepStrictEqual(inputs.endpointSpec, {
                mode: "dnsrr",
                ports: [{ targetPort: 5000, publishedPort: 5000, protocol: "tcp", publishMode: "host" }],
            });
            assert.strictEqual(inputs.taskSpec.containerSpec.image, "dockyard/registry:2.8.2");
            const volume = one("docker:index/volume:Volume", "registry-data-volume");
            assert.strictEqual(volume.retainOnDelete, true);
            assert.strictEqual(volume.protect, false);
        });

        it("deploys web and kv from the image built here, by digest", () => {
            const ref = `127.0.0.1:5000/dockyard/app@${DIGEST}`;
            assert.strictEqual(service("web").inputs.taskSpec.containerSpec.image, ref);
            assert.strictEqual(service("kv").inputs.taskSpec.containerSpec.image, ref);
            const build = one("command:local:Command", "app-build");
            assert.match(build.inputs.environment.IMAGE_REF, /^127\.0\.0\.1:5000\/dockyard\/app:c-[0-9a-f]{12}$/);
            assert.strictEqual(build.inputs.environment.TEST_TARGET, "test");
            assert.strictEqual(build.inputs.environment.BUILD_ARGS, "APP_VERSION=dev");
        });

        it("wires web: one replica, host port 8080, dnsrr, stop-first updates, secret file, health check", () => {
            const web = service("web").inputs;
            assert.deepStrictEqual(web.mode, { replicated: { replicas: 1 } });
            assert.deepStrictEqual(web.endpointSpec, {
                mode: "dnsrr",
                ports: [{ targetPort: 8080, publishedPort: 8080, protocol: "tcp", publishMode: "host" }],
            });
            assert.deepStrictEqual(web.updateConfig, {
                parallelism: 1, delay: "1s", monitor: "10s", maxFailureRatio: "0", order: "stop-first", failureAction: "rollback",
            });
            assert.deepStrictEqual(web.taskSpec.containerSpec.env, { KV_URL: "http://kv:8080" });
            assert.deepStrictEqual(
                web.taskSpec.containerSpec.secrets.map((s: any) => s.fileName),
                ["/run/secrets/app_token"],
            );
            assert.deepStrictEqual(web.taskSpec.containerSpec.healthcheck, {
                tests: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"],
                interval: "2s", timeout: "2s", retries: 3, startPeriod: "2s",
            });
            assert.strictEqual(one("command:local:Command", "web-converged").inputs.environment.TIMEOUT, "2m");
        });

        it("mounts the kv volume, keeps it on destroy, and keeps kv (and the registry) on the node holding its data", () => {
            const kv = service("kv").inputs;
            assert.deepStrictEqual(kv.taskSpec.placement, { constraints: ["node.id==n0de1d"], prefs: [], maxReplicas: 0 });
            assert.deepStrictEqual(service("registry").inputs.taskSpec.placement, { constraints: ["node.id==n0de1d"], prefs: [], maxReplicas: 0 });
            assert.deepStrictEqual(kv.taskSpec.containerSpec.mounts, [{ type: "volume", source: "kv-data", target: "/data", readOnly: false }]);
            assert.deepStrictEqual(kv.taskSpec.containerSpec.args, ["kv"]);
            assert.strictEqual(one("docker:index/volume:Volume", "kv-data-volume").retainOnDelete, true);
        });

        it("orders services after what they use", () => {
            const deps = service("web").dependencies;
            // Pulumi expands a component dependency to the component's custom resources.
            assert.deepStrictEqual([...deps].sort(), [
                one("command:local:Command", "app-build").urn,
                one("command:local:Command", "app-prune").urn,
                one("docker:index/network:Network", "backend-network").urn,
                one("docker:index/secret:Secret", "app_token-secret").urn,
            ].sort());
        });

        it("keeps the app token secret everywhere", () => {
            const secret = one("docker:index/secret:Secret", "app_token-secret");
            assert.ok(isSecretValue(secret.inputs.data));
            assert.strictEqual(reveal(secret.inputs.data), Buffer.from(TOKEN).toString("base64"));
            assert.deepStrictEqual(plaintextLeaks(TOKEN), []);
            assert.deepStrictEqual(plaintextLeaks(Buffer.from(TOKEN).toString("base64")), []);
        });

        it("exports endpoints, names and a release manifest", async () => {
            assert.deepStrictEqual(await valueOf(program.serviceEndpoints.web), ["127.0.0.1:8080"]);
            assert.deepStrictEqual(await valueOf(program.serviceEndpoints.kv), []);
            assert.deepStrictEqual(await valueOf(program.networkNames.backend), "backend");
            assert.deepStrictEqual(await valueOf(program.volumeNames["kv-data"]), "kv-data");
            const manifest = await valueOf(program.releaseManifest);
            assert.deepStrictEqual(Object.keys(manifest).sort(), ["kv", "web"]);
            assert.strictEqual(manifest.web.image, `127.0.0.1:5000/dockyard/app@${DIGEST}`);
            assert.match(manifest.web.specHash, /^[0-9a-f]{16}$/);
            assert.notStrictEqual(manifest.web.specHash, manifest.kv.specHash);
            assert.strictEqual(program.production, false);
            assert.strictEqual(await pulumi.isSecret(program.releaseManifest), false);
        });
    });

    describe("dev stack pinned to a recorded release", () => {
        const PINNED = `127.0.0.1:5000/dockyard/app@sha256:${"cd".repeat(32)}`;
        let program: typeof import("../../index");
        before(async () => {
            program = await runProgram(stackEnvironment("dev"), { appToken: TOKEN, releasePins: JSON.stringify({ app: PINNED }) } as any);
        });

        it("deploys the pinned digest and builds nothing", async () => {
            assert.deepStrictEqual(ofType("dockyard:image:Image"), []);
            assert.deepStrictEqual(ofType("command:local:Command").map((c) => c.name).sort(), ["kv-converged", "kv-data-node", "registry-converged", "registry-data-node", "web-converged"]);
            assert.strictEqual(service("web").inputs.taskSpec.containerSpec.image, PINNED);
            assert.strictEqual(service("kv").inputs.taskSpec.containerSpec.image, PINNED);
            assert.deepStrictEqual(await valueOf(program.imageRefs.app), PINNED);
            assert.deepStrictEqual(program.pinnedImages, { app: PINNED });
        });

        it("rejects a pin for an image the environment does not have", async () => {
            await assert.rejects(runProgram(stackEnvironment("dev"), { appToken: TOKEN, releasePins: JSON.stringify({ api: PINNED }) } as any), {
                message: 'invalid stack config (1 problem):\n  - releasePins.api: expected the name of one of the images (app), got "api"',
            });
        });
    });

    describe("dev stack with a prefix", () => {
        before(async () => {
            await runProgram({ ...stackEnvironment("dev"), prefix: "it" });
        });

        it("prefixes every Docker object name and keeps the short names as DNS aliases", () => {
            assert.deepStrictEqual(ofType("docker:index/service:Service").map((s) => s.inputs.name).sort(), ["it-kv", "it-registry", "it-web"]);
            assert.strictEqual(one("docker:index/network:Network", "it-backend-network").inputs.name, "it-backend");
            assert.strictEqual(one("docker:index/volume:Volume", "it-kv-data-volume").inputs.name, "it-kv-data");
            assert.match(one("docker:index/secret:Secret", "it-app_token-secret").inputs.name, /^it-app_token-[0-9a-f]{12}$/);
            const web = service("it-web").inputs.taskSpec;
            assert.deepStrictEqual(web.networksAdvanceds, [{ id: "it-backend-network-id", aliases: ["web"] }]);
            assert.deepStrictEqual(web.containerSpec.secrets.map((s: any) => s.fileName), ["/run/secrets/app_token"]);
            assert.deepStrictEqual(web.containerSpec.env, { KV_URL: "http://kv:8080" });
        });
    });

    for (const [stack, replicas, cpus, memoryMiB, monitor] of [
        ["staging", 2, 0.5e9, 256, "30s"],
        ["prod", 4, 1e9, 512, "60s"],
    ] as const) {
        describe(`${stack} stack`, () => {
            let program: typeof import("../../index");
            before(async () => {
                program = await runProgram(stackEnvironment(stack));
            });

            it("logs in to the external registry and builds, and runs no registry of its own", () => {
                assert.deepStrictEqual(ofType("command:local:Command").map((c) => c.name).sort(), ["app-build", "app-prune", "kv-converged", "kv-data-node", "registry-login", "web-converged"]);
                assert.deepStrictEqual(ofType("dockyard:swarm:Service").map((s) => s.name).sort(), ["kv", "web"]);
                const login = one("command:local:Command", "registry-login");
                // The password makes the whole environment secret.
                assert.ok(isSecretValue(login.inputs.environment));
                assert.deepStrictEqual(reveal(login.inputs.environment), {
                    DOCKYARD_SCRIPT: LOGIN_SCRIPT,
                    REGISTRY_SERVER: stack === "prod" ? "registry.example.com" : "registry.staging.example.com",
                    REGISTRY_USERNAME: "deploy",
                    REGISTRY_PASSWORD,
                });
            });

            it(`runs ${replicas} web replicas behind the routing mesh with limits and strict updates`, () => {
                const web = service("web").inputs;
                assert.deepStrictEqual(web.mode, { replicated: { replicas } });
                assert.deepStrictEqual(web.endpointSpec, {
                    mode: "vip",
                    ports: [{ targetPort: 8080, publishedPort: 80, protocol: "tcp", publishMode: "ingress" }],
                });
                assert.deepStrictEqual(web.taskSpec.resources, {
                    limits: { nanoCpus: cpus, memoryBytes: memoryMiB * 1024 ** 2 },
                    reservation: { nanoCpus: 0.1e9, memoryBytes: 64 * 1024 ** 2 },
                });
                assert.deepStrictEqual(web.updateConfig, {
                    parallelism: 1, delay: "10s", monitor, maxFailureRatio: "0", order: "start-first", failureAction: "rollback",
                });
                assert.deepStrictEqual(web.rollbackConfig.failureAction, "pause");
            });

            it("gives Swarm the pull credentials as a secret", () => {
                const auth = service("web").inputs.auth;
                assert.ok(isSecretValue(auth), JSON.stringify(auth));
                assert.deepStrictEqual(reveal(auth), {
                    serverAddress: stack === "prod" ? "registry.example.com" : "registry.staging.example.com",
                    username: "deploy",
                    password: REGISTRY_PASSWORD,
                });
                assert.deepStrictEqual(plaintextLeaks(REGISTRY_PASSWORD), []);
                assert.deepStrictEqual(plaintextLeaks(TOKEN), []);
            });

            it("protects the kv volume and pins kv to one node with stop-first updates", () => {
                const volume = one("docker:index/volume:Volume", "kv-data-volume");
                assert.strictEqual(volume.protect, true);
                const kv = service("kv").inputs;
                assert.deepStrictEqual(kv.mode, { replicated: { replicas: 1 } });
                assert.deepStrictEqual(kv.taskSpec.placement, { constraints: ["node.labels.dockyard.kv==true"], prefs: [], maxReplicas: 0 });
                assert.strictEqual(kv.updateConfig.order, "stop-first");
            });

            it("encrypts the overlay network", () => {
                assert.deepStrictEqual(one("docker:index/network:Network", "backend-network").inputs.options, { encrypted: "true" });
            });

            it(`marks production as ${stack === "prod"}`, () => {
                assert.strictEqual(program.production, stack === "prod");
            });
        });
    }

    describe("secrets from an environment variable, a file or a command", () => {
        const VALUE = "sourced-token-value-9876543210";
        const VAR = "DOCKYARD_UNIT_APP_TOKEN";
        let dir: string;
        before(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "program-sources-"));
            fs.writeFileSync(path.join(dir, "token"), VALUE);
        });
        after(() => {
            fs.rmSync(dir, { recursive: true });
            delete process.env[VAR];
        });
        /** The dev stack with app_token from `source`, run without any secret config key. */
        const runWith = (source: object) => {
            const env = stackEnvironment("dev");
            env.secrets.app_token = source;
            return runProgram(env, {});
        };
        const secretName = () => one("docker:index/secret:Secret", "app_token-secret").inputs.name as string;

        const kinds: Array<[string, () => object]> = [
            ["env", () => ((process.env[VAR] = VALUE), { env: VAR })],
            ["file", () => ({ file: path.join(dir, "token") })],
            ["command", () => ({ command: [process.execPath, "-e", `process.stdout.write(${JSON.stringify(`  ${VALUE}\n`)})`], trim: true })],
        ];
        for (const [kind, source] of kinds) {
            it(`${kind}: the value reaches the Swarm secret as a Pulumi secret and nowhere else`, async () => {
                const program = await runWith(source());
                const secret = one("docker:index/secret:Secret", "app_token-secret");
                assert.ok(isSecretValue(secret.inputs.data));
                assert.strictEqual(reveal(secret.inputs.data), Buffer.from(VALUE).toString("base64"));
                assert.deepStrictEqual(plaintextLeaks(VALUE), []);
                assert.deepStrictEqual(plaintextLeaks(Buffer.from(VALUE).toString("base64")), []);
                assert.ok(!JSON.stringify(await valueOf(program.releaseManifest)).includes(VALUE));
            });
        }

        it("an unchanged value keeps the secret's name (no change), whatever its source; a changed one is a rotation", async () => {
            process.env[VAR] = TOKEN;
            await runProgram(stackEnvironment("dev"));
            const fromConfig = secretName();
            await runWith({ env: VAR });
            assert.strictEqual(secretName(), fromConfig);
            process.env[VAR] = `${TOKEN}-rotated`;
            await runWith({ env: VAR });
            assert.notStrictEqual(secretName(), fromConfig);
            assert.match(secretName(), /^app_token-[0-9a-f]{12}$/);
            assert.deepStrictEqual(service("web").inputs.taskSpec.containerSpec.secrets.map((s: any) => s.secretName), [secretName()]);
        });

        it("a failing source stops the program before it registers any resource, naming the secret and the source", async () => {
            delete process.env[VAR];
            const env = stackEnvironment("dev");
            env.secrets.app_token = { env: VAR };
            env.secrets.key = { command: [process.execPath, "-e", "console.error('vault sealed'); process.exit(2)"] };
            await assert.rejects(runProgram(env, {}), {
                name: "SecretSourceError",
                message: `secret app_token: env ${VAR} is not set\n` +
                    `secret key: command ${JSON.stringify([process.execPath, "-e", "console.error('vault sealed'); process.exit(2)"])} exited with code 2; its stderr:\n    vault sealed\n` +
                    "nothing was changed: every secret is read before any resource is touched",
            });
            await settle();
            assert.deepStrictEqual(registered().length, 0);
        });
    });

    describe("bad config", () => {
        const cases: Array<[string, (env: any) => void, string]> = [
            ["an unknown key", (e) => (e.services.web.replcas = 2),
                'services.web.replcas: unknown key; did you mean "replicas"?'],
            ["a missing network", (e) => (e.services.web.networks = ["frontend"]),
                'services.web.networks[0]: expected the name of one of the networks (backend), got "frontend"'],
            ["a plaintext secret", (e) => (e.secrets.app_token = { value: "hunter2" }),
                "secrets.app_token.value: secret values may not be written in the stack file"],
            ["negative replicas", (e) => (e.services.kv.replicas = -1),
                "services.kv.replicas: expected a whole number, 0 or more, got -1"],
        ];
        for (const [what, change, expected] of cases) {
            it(`rejects ${what} before registering any resource`, async () => {
                const env = stackEnvironment("dev");
                change(env);
                await assert.rejects(runProgram(env), (e: Error) => {
                    assert.ok(e.message.startsWith("invalid stack config ("), e.message);
                    assert.ok(e.message.includes(expected), `${e.message}\nshould include\n${expected}`);
                    return true;
                });
                await settle();
                assert.deepStrictEqual(registered().map((r) => r.type), []);
            });
        }

        it("rejects a stack without its secret before registering any resource", async () => {
            await assert.rejects(runProgram(stackEnvironment("dev"), {}), {
                message: 'invalid stack config (1 problem):\n  - secrets.app_token.config: config key "appToken" is not set; run `pulumi config set --secret appToken <value>`',
            });
            await settle();
            assert.deepStrictEqual(registered().length, 0);
        });
    });
});
