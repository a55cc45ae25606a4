import * as assert from "assert";
import { stackEnvironment } from "../stacks";
import { ConfigError, ConfigKeys, effectiveService, parseEnvironment, shortHashOf } from "../../../config";


const secretKeys: ConfigKeys = { isSecret: (k: string) => (["appToken", "registryPassword"].includes(k) ? true : undefined) };

/** A minimal valid environment to break one piece at a time. */
function base(): any {
    return {
        networks: { backend: {} },
        volumes: { data: {} },
        secrets: { token: { fromConfig: "appToken" } },
        images: { app: { context: "app", repository: "dockyard/app" } },
        services: {
            api: {
                image: "app",
                networks: ["backend"],
                secrets: ["token"],
                mounts: [{ volume: "data", target: "/data" }],
                ports: [{ target: 8080 }],
            },
        },
    };
}

function problemsOf(raw: unknown, keys = secretKeys): string[] {
    try {
        parseEnvironment(raw, { keys });
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return [...(e as ConfigError).problems];
    }
    throw new Error("expected the config to be rejected");
}

describe("parseEnvironment", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`accepts the committed ${stack} stack`, () => {
            const env = parseEnvironment(stackEnvironment(stack), { keys: secretKeys });
            assert.deepStrictEqual(Object.keys(env.services).sort(), ["kv", "web"]);
        });
    }

    it("accepts the committed cluster stack: node labels, an edge service placed by them, web spread over zones", () => {
        const env = parseEnvironment(stackEnvironment("cluster"), { keys: secretKeys });
        assert.deepStrictEqual(Object.keys(env.services).sort(), ["edge", "kv", "web"]);
        assert.deepStrictEqual(env.nodes, { worker1: { labels: { tier: "edge" } } });
        assert.deepStrictEqual(env.services.edge.constraints, ["node.labels.tier==edge"]);
        assert.deepStrictEqual(env.services.web.preferences, ["spread=node.labels.zone"]);
    });

    it("applies defaults then per-service overrides", () => {
        const env = parseEnvironment(stackEnvironment("staging"), { keys: secretKeys });
        const kv = effectiveService(env, "kv");
        const web = effectiveService(env, "web");
        assert.strictEqual(web.replicas, 2);
        assert.strictEqual(kv.replicas, 1);
        assert.deepStrictEqual(kv.update, { parallelism: 1, delay: "10s", monitor: "30s", maxFailureRatio: 0, order: "stop-first", failureAction: "rollback" });
        assert.deepStrictEqual(web.limits, { cpus: 0.5, memory: "256m" });
    });

    it("gives a one-shot service (restart condition none) every rollout default but the failure action and monitor, which are the library's for it", () => {
        const raw = base();
        raw.defaults = { update: { parallelism: 2, monitor: "10s", failureAction: "rollback" }, rollback: { failureAction: "pause", delay: "1s" } };
        raw.services.migrate = { image: "app", restart: { condition: "none" } };
        const env = parseEnvironment(raw, { keys: secretKeys });
        assert.deepStrictEqual(effectiveService(env, "migrate").update, { parallelism: 2 });
        assert.deepStrictEqual(effectiveService(env, "migrate").rollback, { delay: "1s" });
        assert.deepStrictEqual(effectiveService(env, "api").update, { parallelism: 2, monitor: "10s", failureAction: "rollback" });
        // Set on the service itself, a failure action Swarm would apply to every exit is refused.
        raw.services.migrate.update = { failureAction: "rollback" };
        assert.deepStrictEqual(problemsOf(raw), [
            'services.migrate.update.failureAction: "rollback" cannot judge a one-shot service (restart.condition "none"): Swarm counts a task that exits during a rollout as failed, even with code 0; ' +
                'leave it unset or set "continue", and Dockyard\'s wait judges the tasks (a task that exited 0 is done)',
        ]);
    });

    it("fills environment-level defaults", () => {
        const env = parseEnvironment(base(), { keys: secretKeys });
        assert.strictEqual(env.production, false);
        assert.deepStrictEqual(env.configs, {});
        assert.deepStrictEqual(env.defaults, {});
        // The library applies its own defaults (1 replica) to what the stack file leaves unset.
        assert.strictEqual(effectiveService(env, "api").replicas, undefined);
    });

    const cases: Array<[string, (raw: any) => void, string[], ConfigKeys?]> = [
        ["negative replicas", (r) => (r.services.api.replicas = -1), ["services.api.replicas: expected a whole number, 0 or more, got -1"]],
        ["replicas of the wrong type", (r) => (r.services.api.replicas = "two"), ["services.api.replicas: expected a whole number, 0 or more, got \"two\""]],
        ["a misspelt key", (r) => (r.services.api.replcas = 2), [
            'services.api.replcas: unknown key; did you mean "replicas"? accepted keys are replicas, global, command, args, ports, endpointMode, healthCheck, restart, limits, reservations, constraints, preferences, maxReplicasPerNode, labels, update, rollback, convergeTimeout, user, readOnlyRootFilesystem, allowDockerSocket, stopGracePeriod, stopSignal, capabilities, init, sysctls, hostname, workdir, containerLabels, extraHosts, dns, logging, image, env, networks, aliases, mounts, secrets, configs',
        ]],
        ["a Swarm job mode, which Dockyard cannot create", (r) => (r.services.api.mode = "replicated-job"), [
            "services.api.mode: unknown key; a service is replicated (`replicas: N`) or `global: true`; Swarm jobs (replicated-job, global-job) are not supported, " +
                "as the Docker provider cannot create them: for a one-shot task use `restart: { condition: none }`, with which Dockyard takes a task that exited 0 as done",
        ]],
        ["an unknown top-level key", (r) => (r.servces = {}), [
            'servces: unknown key; did you mean "services"? accepted keys are prefix, production, registry, networks, volumes, secrets, configs, images, defaults, nodes, services, backupBeforeDeploy, backupDir, policy, gc',
        ]],
        ["gc that is not a boolean", (r) => { r.gc = "yes"; r.registry = { selfHosted: {} }; }, [
            'gc: expected true or false (run registry hygiene after each successful deploy), got "yes"',
        ]],
        ["gc without a registry", (r) => (r.gc = true), [
            "gc: true needs a registry to clean (`registry: { selfHosted: {} }` or `{ external: ... }`); without one, images stay on the building engine, where each image's `keep` prunes them",
        ]],
        ["a missing network", (r) => (r.services.api.networks = ["frontend"]), [
            'services.api.networks[0]: expected the name of one of the networks (backend), got "frontend"',
        ]],
        ["a missing volume", (r) => (r.services.api.mounts = [{ volume: "cache", target: "/cache" }]), [
            'services.api.mounts[0].volume: expected the name of one of the volumes (data), got "cache"',
        ]],
        ["a missing secret", (r) => (r.services.api.secrets = ["nope"]), ['services.api.secrets[0]: expected the name of one of the secrets (token), got "nope"']],
        ["a missing image", (r) => (r.services.api.image = "ap"), [
            'services.api.image: expected the name of one of the images (app) or a reference such as "nginx:1.27", got "ap"',
        ]],
        ["a port published twice", (r) => (r.services.worker = { image: "busybox:1.36", ports: [{ target: 9000, published: 8080 }] }), [
            "services.worker.ports[0]: port 8080/tcp is already published by services.api.ports[0]; publish each port once",
        ]],
        ["a plaintext secret value", (r) => (r.secrets.token = { value: "hunter2" }), [
            "secrets.token.value: secret values may not be written in the stack file; name their source instead: " +
                "run `pulumi config set --secret token <value>` and set secrets.token.config: token, or use env, file or command",
            'secrets.token.config: config key "token" is not set; run `pulumi config set --secret token <value>`',
        ]],
        ["a plaintext secret value beside a source", (r) => (r.secrets.token = { value: "hunter2", env: "TOKEN" }), [
            "secrets.token.value: secret values may not be written in the stack file; name their source instead: " +
                "run `pulumi config set --secret token <value>` and set secrets.token.config: token, or use env, file or command",
        ]],
        ["a secret without a source", (r) => (r.secrets.token = {}), [
            "secrets.token: expected one source: config (a secret config key), env (an environment variable), file (a file) or command (a program and its arguments), got {}",
        ]],
        ["a secret with only a command's settings", (r) => (r.secrets.token = { trim: true }), [
            "secrets.token: expected one source: config (a secret config key), env (an environment variable), file (a file) or command (a program and its arguments), got {\"trim\":true}",
            "secrets.token.trim: expected trim only with a command source (it is about the command's run), got true",
        ]],
        ["a secret with two sources", (r) => (r.secrets.token = { env: "APP_TOKEN", file: "/run/keys/app_token" }), [
            'secrets.token: has 2 sources (env and file); keep exactly one of config, env, file or command, got {"env":"APP_TOKEN","file":"/run/keys/app_token"}',
        ]],
        ["a secret with config and its older spelling", (r) => (r.secrets.token = { config: "appToken", fromConfig: "appToken" }), [
            'secrets.token: has 2 sources (config and fromConfig); keep exactly one of config, env, file or command, got {"config":"appToken","fromConfig":"appToken"}',
        ]],
        ["a timeout on an env source", (r) => (r.secrets.token = { env: "APP_TOKEN", timeout: "5s" }), [
            'secrets.token.timeout: expected timeout only with a command source (it is about the command\'s run), got "5s"',
        ]],
        ["an env source that is no variable name", (r) => (r.secrets.token = { env: "APP TOKEN" }), [
            'secrets.token.env: expected the name of an environment variable of the process that previews or deploys, such as "APP_TOKEN", got "APP TOKEN"',
        ]],
        ["an empty file source", (r) => (r.secrets.token = { file: "" }), [
            'secrets.token.file: expected the path of a file (relative to the project directory), such as "/run/keys/app_token", got ""',
        ]],
        ["a command written as one string", (r) => (r.secrets.token = { command: "op read op://prod/app/token" }), [
            'secrets.token.command: expected a program and its arguments, such as ["op", "read", "op://prod/app/token"], run without a shell, got "op read op://prod/app/token"',
        ]],
        ["an empty command", (r) => (r.secrets.token = { command: [] }), [
            'secrets.token.command: expected a program and its arguments, such as ["op", "read", "op://prod/app/token"], run without a shell, got []',
        ]],
        ["a command with an empty argument, a bad trim and a bad timeout", (r) => (r.secrets.token = { command: ["op", ""], trim: "yes", timeout: "30" }), [
            'secrets.token.command[1]: expected a non-empty argument, got ""',
            'secrets.token.trim: expected true or false, got "yes"',
            'secrets.token.timeout: expected a duration such as "500ms", "10s" or "1m30s", got "30"',
        ]],
        ["a zero timeout", (r) => (r.secrets.token = { command: ["op"], timeout: "0s" }), [
            'secrets.token.timeout: expected a duration longer than 0s, got "0s"',
        ]],
        ["an unknown key in a secret", (r) => (r.secrets.token = { env: "APP_TOKEN", trimm: true }), [
            'secrets.token.trimm: unknown key; did you mean "trim"? accepted keys are config, fromConfig, env, file, command, trim, timeout',
        ]],
        ["a secret key stored in plaintext", () => undefined, [
            'secrets.token.fromConfig: config key "appToken" is stored in plaintext; set it again with `pulumi config set --secret appToken <value>`',
        ], { isSecret: () => false }],
        ["a secret key stored in plaintext, named with config", (r) => (r.secrets.token = { config: "appToken" }), [
            'secrets.token.config: config key "appToken" is stored in plaintext; set it again with `pulumi config set --secret appToken <value>`',
        ], { isSecret: () => false }],
        ["a bad duration", (r) => (r.services.api.healthCheck = { command: "true", interval: "10 seconds" }), [
            'services.api.healthCheck.interval: expected a duration such as "500ms", "10s" or "1m30s", got "10 seconds"',
        ]],
        ["an enum outside its values", (r) => (r.services.api.endpointMode = "round-robin"), [
            'services.api.endpointMode: expected one of "vip", "dnsrr", got "round-robin"',
        ]],
        ["dnsrr with an ingress port", (r) => (r.services.api.endpointMode = "dnsrr"), [
            'services.api.ports[0].mode: endpointMode "dnsrr" cannot publish through the ingress routing mesh; set mode "host" on every port',
        ]],
        ["replicas with global", (r) => Object.assign(r.services.api, { global: true, replicas: 2 }), [
            "services.api.replicas: 2 cannot be combined with global: true; remove one of them",
        ]],
        ["a missing health check where one is required", (r) => (r.defaults = { requireHealthCheck: true }), [
            "services.api.healthCheck: expected a health check (defaults.requireHealthCheck is true in this environment), got nothing",
        ]],
        ["a secret's owner that is not a numeric id", (r) => (r.services.api.secrets = [{ name: "token", uid: "www-data", gid: -1 }]), [
            'services.api.secrets[0].uid: expected a numeric uid such as 101, got "www-data"',
            "services.api.secrets[0].gid: expected a numeric gid such as 101, got -1",
        ]],
        ["a disabled health check where one is required", (r) => { r.defaults = { requireHealthCheck: true }; r.services.api.healthCheck = { disable: true }; }, [
            "services.api.healthCheck: expected a health check (defaults.requireHealthCheck is true in this environment), got disable: true",
        ]],
        ["a relative mount target", (r) => (r.services.api.mounts[0].target = "data"), [
            'services.api.mounts[0].target: expected an absolute path such as "/data", got "data"',
        ]],
        ["a node label key Dockyard keeps for itself", (r) => (r.nodes = { worker1: { labels: { "dockyard.labels": "x", zone: "a" } } }), [
            'nodes.worker1.labels.dockyard.labels: expected a key other than "dockyard.labels", which Dockyard keeps for itself, got "dockyard.labels"',
        ]],
        ["a node name that is no hostname", (r) => (r.nodes = { "worker 1": { labels: { zone: "a" } } }), [
            'nodes.worker 1.node: expected a Swarm node\'s hostname or id, such as "worker1", got "worker 1"',
        ]],
        ["no services", (r) => (r.services = {}), ["services: expected at least one service, got {}"]],
    ];
    for (const [what, change, expected, keys] of cases) {
        it(`rejects ${what}`, () => {
            const raw = base();
            change(raw);
            assert.deepStrictEqual(problemsOf(raw, keys ?? secretKeys), expected);
        });
    }

    it("accepts every secret source, reading none of them", () => {
        const raw = base();
        raw.secrets = {
            token: { config: "appToken" }, env: { env: "NOT_SET_ANYWHERE_0" }, file: { file: "/nonexistent/key" },
            cmd: { command: ["/nonexistent/program"], trim: true, timeout: "1m30s" },
        };
        assert.deepStrictEqual(parseEnvironment(raw, { keys: secretKeys }).secrets, raw.secrets);
    });

    it("reports every problem at once", () => {
        const raw = base();
        raw.services.api.replicas = -1;
        raw.services.api.networks = ["frontend"];
        raw.volumes.data.deletion = "never";
        assert.deepStrictEqual(problemsOf(raw), [
            'volumes.data.deletion: expected one of "retain", "protect", "delete", got "never"',
            "services.api.replicas: expected a whole number, 0 or more, got -1",
        ]);
    });

    it("formats the error with one problem per line", () => {
        const raw = base();
        raw.services.api.replicas = -1;
        assert.throws(() => parseEnvironment(raw, { keys: secretKeys }), {
            name: "ConfigError",
            message: "invalid stack config (1 problem):\n  - services.api.replicas: expected a whole number, 0 or more, got -1",
        });
    });
});

describe("shortHashOf", () => {
    it("ignores key order and undefined values but not content", () => {
        assert.strictEqual(shortHashOf({ a: 1, b: [1, 2], c: undefined }), shortHashOf({ b: [1, 2], a: 1 }));
        assert.notStrictEqual(shortHashOf({ a: 1 }), shortHashOf({ a: 2 }));
        assert.match(shortHashOf({}), /^[0-9a-f]{16}$/);
    });
});
