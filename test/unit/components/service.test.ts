import * as assert from "assert";
import { childrenOf, errorOf, one, registered, resetRecorder, settle, valueOf } from "../harness";

const LABELS = (name: string) => [{ label: "dockyard.managed", value: "true" }, { label: "dockyard.component", value: name }];

describe("Service", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    async function inputsOf(svc: import("../../../components").Service, name: string) {
        await valueOf(svc.serviceId);
        await settle();
        return one("docker:index/service:Service", `${name}-service`);
    }

    it("applies the safe defaults and sends nothing that was not asked for", async () => {
        const svc = new c.Service("web", { image: "nginx@sha256:abc" });
        const child = await inputsOf(svc, "web");
        assert.deepStrictEqual(childrenOf(one("dockyard:swarm:Service", "web").urn), ["docker:index/service:Service web-service"]);
        assert.deepStrictEqual(child.inputs, {
            name: "web",
            labels: LABELS("web"),
            mode: { replicated: { replicas: 1 } },
            taskSpec: {
                containerSpec: { image: "nginx@sha256:abc", readOnly: false },
                restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 0, window: "0s" },
            },
            endpointSpec: { mode: "vip" },
            updateConfig: { parallelism: 1, delay: "5s", monitor: "30s", maxFailureRatio: "0", order: "start-first", failureAction: "rollback" },
            rollbackConfig: { parallelism: 1, delay: "5s", monitor: "30s", maxFailureRatio: "0", order: "start-first", failureAction: "pause" },
            convergeConfig: { delay: "2s", timeout: "5m" },
        });
        assert.deepStrictEqual(await valueOf(svc.endpoints), []);
        assert.strictEqual(await valueOf(svc.imageRef), "nginx@sha256:abc");
    });

    it("wires secrets, configs, networks, mounts, ports, health, resources and placement", async () => {
        const token = new c.Secret("app_token", { data: "t" });
        const conf = new c.Config("appconf", { data: "a: 1" });
        const net = new c.Network("backend");
        const vol = new c.Volume("data");
        const svc = new c.Service("api", {
            image: "api@sha256:1",
            serviceName: "shop-api",
            replicas: 3,
            command: ["/bin/api"],
            args: ["--port", "8080"],
            env: { MODE: "prod" },
            secrets: [{ secret: token }, { secret: token, target: "copy", mode: 0o400, uid: "10001", gid: "10001" }],
            configs: [{ config: conf, target: "/etc/api.yaml" }],
            networks: [net],
            mounts: [
                { volume: vol, target: "/data" },
                { hostPath: "/srv/static", target: "/static", readOnly: true },
                { tmpfs: "64m", target: "/tmp" },
            ],
            ports: [{ target: 8080, published: 80 }, { target: 9090, mode: c.PublishMode.Host, protocol: "udp" }],
            healthCheck: { command: "wget -q -O- http://127.0.0.1:8080/healthz", interval: "2s" },
            limits: { cpus: 0.5, memory: "256m" },
            reservations: { memory: 64 * 1024 * 1024 },
            constraints: ["node.role==worker"],
            update: { parallelism: 2, maxFailureRatio: 0.25 },
            convergeTimeout: "1m",
            user: "10001",
            readOnlyRootFilesystem: true,
        });
        const child = await inputsOf(svc, "api");
        const secretName = await valueOf(token.secretName);
        const configName = await valueOf(conf.configName);
        const task = child.inputs.taskSpec;
        assert.strictEqual(child.inputs.name, "shop-api");
        assert.deepStrictEqual(child.inputs.mode, { replicated: { replicas: 3 } });
        assert.deepStrictEqual(task.containerSpec.commands, ["/bin/api"]);
        assert.deepStrictEqual(task.containerSpec.args, ["--port", "8080"]);
        assert.deepStrictEqual(task.containerSpec.env, { MODE: "prod" });
        assert.deepStrictEqual(task.containerSpec.secrets, [
            { secretId: "app_token-secret-id", secretName, fileName: "/run/secrets/app_token", fileUid: "0", fileGid: "0", fileMode: 0o444 },
            { secretId: "app_token-secret-id", secretName, fileName: "/run/secrets/copy", fileUid: "10001", fileGid: "10001", fileMode: 0o400 },
        ]);
        assert.deepStrictEqual(task.containerSpec.configs, [{ configId: "appconf-config-id", configName, fileName: "/etc/api.yaml", fileMode: 0o444 }]);
        assert.deepStrictEqual(task.containerSpec.mounts, [
            { type: "volume", source: "data", target: "/data", readOnly: false },
            { type: "bind", source: "/srv/static", target: "/static", readOnly: true },
            { type: "tmpfs", target: "/tmp", readOnly: false, tmpfsOptions: { sizeBytes: 64 * 1024 * 1024 } },
        ]);
        assert.deepStrictEqual(task.containerSpec.healthcheck, {
            tests: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "5s", retries: 3, startPeriod: "10s",
        });
        assert.deepStrictEqual([task.containerSpec.user, task.containerSpec.readOnly], ["10001", true]);
        assert.deepStrictEqual(task.networksAdvanceds, [{ id: "backend-network-id" }]);
        assert.deepStrictEqual(task.resources, { limits: { nanoCpus: 500_000_000, memoryBytes: 256 * 1024 * 1024 }, reservation: { memoryBytes: 64 * 1024 * 1024 } });
        assert.deepStrictEqual(task.placement, { constraints: ["node.role==worker"] });
        assert.deepStrictEqual(child.inputs.endpointSpec, {
            mode: "vip",
            ports: [
                { targetPort: 8080, publishedPort: 80, protocol: "tcp", publishMode: "ingress" },
                { targetPort: 9090, publishedPort: 9090, protocol: "udp", publishMode: "host" },
            ],
        });
        assert.deepStrictEqual(child.inputs.updateConfig, { parallelism: 2, delay: "5s", monitor: "30s", maxFailureRatio: "0.25", order: "start-first", failureAction: "rollback" });
        assert.deepStrictEqual(child.inputs.convergeConfig, { delay: "2s", timeout: "1m" });
        assert.deepStrictEqual(await valueOf(svc.endpoints), ["localhost:80", "localhost:9090"]);
        // Ordered after everything it uses (expanded to their Docker objects).
        assert.deepStrictEqual([...child.dependencies].sort(), [
            one("docker:index/network:Network", "backend-network").urn,
            one("docker:index/secret:Secret", "app_token-secret").urn,
            one("docker:index/serviceConfig:ServiceConfig", "appconf-config").urn,
            one("docker:index/volume:Volume", "data-volume").urn,
        ].sort());
    });

    it("runs one task per node in global mode, with dnsrr and host ports", async () => {
        const child = await inputsOf(new c.Service("agent", {
            image: "agent:1", global: true, endpointMode: c.EndpointMode.Dnsrr, ports: [{ target: 9100, mode: c.PublishMode.Host }],
        }), "agent");
        assert.deepStrictEqual(child.inputs.mode, { global: true });
        assert.strictEqual(child.inputs.endpointSpec.mode, "dnsrr");
    });

    const rejected: Array<[string, () => unknown, string[]]> = [
        ["replicas with global mode", () => new c.Service("s", { image: "i", replicas: 2, global: true }),
            ["replicas: 2 cannot be combined with global: true; remove one of them"]],
        ["two mounts on one target", () => new c.Service("s", { image: "i", mounts: [{ hostPath: "/a", target: "/data" }, { tmpfs: 1024, target: "/data" }] }),
            ['mounts[1]: target "/data" is already used by mounts[0]; each path can be mounted once']],
        ["a port published twice", () => new c.Service("s", { image: "i", ports: [{ target: 80 }, { target: 8080, published: 80 }] }),
            ["ports[1]: port 80/tcp is already published by ports[0]; publish each port once"]],
        ["a secret target that is a path", () => new c.Service("s", { image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }), target: "/etc/passwd" }] }),
            ['secrets[0].target: expected a file name under /run/secrets such as "db_password" (no "/"), got "/etc/passwd"']],
        ["a health check interval that is not a duration", () => new c.Service("s", { image: "i", healthCheck: { command: ["true"], interval: "10 seconds", retries: 0 } }),
            ['healthCheck.interval: expected a duration such as "500ms", "10s" or "1m30s", got "10 seconds"', "healthCheck.retries: expected a whole number of 1 or more, got 0"]],
        ["the Docker socket without allowDockerSocket", () => new c.Service("s", { image: "i", mounts: [{ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock" }] }),
            ['mounts[0].hostPath: "/var/run/docker.sock" is the Docker socket, which gives the service root on the node; set allowDockerSocket: true if that is intended']],
        ["dnsrr with an ingress port", () => new c.Service("s", { image: "i", endpointMode: c.EndpointMode.Dnsrr, ports: [{ target: 80 }] }),
            ['endpointMode: "dnsrr" cannot publish ports through the ingress routing mesh; set mode: PublishMode.Host on every port']],
        ["a rollback that rolls back", () => new c.Service("s", { image: "i", rollback: { failureAction: c.FailureAction.Rollback } }),
            ['rollback.failureAction: a failed rollback cannot itself be rolled back; use "pause" or "continue"']],
        ["reservations above limits", () => new c.Service("s", { image: "i", limits: { memory: "128m" }, reservations: { memory: "1g" } }),
            ['reservations.memory: "1g" is more than limits.memory "128m"; reserve at most the limit']],
        ["a bridge network", () => new c.Service("s", { image: "i", networks: [new c.Network("lan", { driver: c.NetworkDriver.Bridge })] }),
            ['networks[0]: services need overlay networks, but this one\'s driver is "bridge"']],
        ["a relative mount and a bad ratio", () => new c.Service("s", { image: "i", mounts: [{ hostPath: "/x", target: "data" }], update: { maxFailureRatio: 2 } }),
            ['mounts[0].target: expected an absolute path such as "/data", got "data"', "update.maxFailureRatio: expected a number from 0 to 1, got 2"]],
    ];
    for (const [what, make, problems] of rejected) {
        it(`rejects ${what}, creating no Docker service`, async () => {
            const noun = problems.length === 1 ? "problem" : "problems";
            assert.strictEqual(errorOf(make), [`Service "s" has ${problems.length} invalid argument ${noun}:`, ...problems.map((p) => `  - ${p}`)].join("\n"));
            await settle();
            assert.deepStrictEqual(registered().filter((r) => r.type === "docker:index/service:Service").length, 0);
        });
    }
});
