import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, isSecretValue, mockState, one, registered, resetRecorder, reveal, settle, valueOf } from "../harness";
import { cleanTempDirs, labels, problemText, rejection, tempDir, urnOfError } from "./helpers";
import type * as components from "../../../components";
import { CONVERGE_SCRIPT } from "../../../components/converge";

const DOCKER_SERVICE = "docker:index/service:Service";
const UPDATE_DEFAULTS = { parallelism: 1, delay: "5s", monitor: "30s", maxFailureRatio: "0", order: "start-first", failureAction: "rollback" };
const ROLLBACK_DEFAULTS = { ...UPDATE_DEFAULTS, failureAction: "pause" };
const RESTART_DEFAULTS = { condition: "on-failure", delay: "5s", maxAttempts: 0, window: "0s" };
const MiB = 1024 * 1024;
/**
 * What the service sends for each setting it was not given, as Swarm has it for a service that never had
 * the setting: the Docker provider keeps a block it is no longer sent, so a removed setting would stay.
 */
const UNSET_CONTAINER = { healthcheck: { tests: [] }, stopGracePeriod: "0s", init: false, dnsConfig: { nameservers: [] } };
const UNSET_TASK = { resources: {}, placement: { constraints: [], prefs: [], maxReplicas: 0 } };

describe("Service", () => {
    let c: typeof components;
    before(async () => {
        c = await import("../../../components");
        mockState("command:local:Command", (args) => ({
            stdout: args.name.endsWith("-build") ? "127.0.0.1:5000/app@sha256:abc\n"
                : args.name.endsWith("-node") ? "n0de1d\n"
                : args.name.endsWith("-converged") ? '{"endpoints":["10.213.0.11:80","10.213.0.12:9090"]}\n'
                : "",
        }));
    });
    after(() => {
        mockState("command:local:Command", undefined);
        cleanTempDirs();
    });
    beforeEach(resetRecorder);

    async function build(name: string, args: components.ServiceArgs) {
        const svc = new c.Service(name, args);
        await valueOf(svc.serviceId);
        await valueOf(svc.imageRef);
        await settle();
        const child = one(DOCKER_SERVICE, `${name}-service`);
        return { svc, child, spec: child.inputs, component: one("dockyard:swarm:Service", name) };
    }

    describe("defaults", () => {
        it("creates one Docker service and the wait for its convergence, parented to the component", async () => {
            const { component, child } = await build("web", { image: "nginx@sha256:abc" });
            assert.deepStrictEqual(childrenOf(component.urn), ["command:local:Command web-converged", `${DOCKER_SERVICE} web-service`]);
            assert.strictEqual(child.parent, component.urn);
            assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:swarm:Service web", `${DOCKER_SERVICE} web-service`, "command:local:Command web-converged"]);
            assert.deepStrictEqual(child.dependencies, []);
            // Swarm fills in the image's platforms under a placement; keeping them is no change.
            assert.deepStrictEqual(child.ignoreChanges, ["taskSpec.placement.platforms"]);
        });

        it("waits for Swarm's own word on convergence after every change of the spec, instead of the provider's check", async () => {
            const { child, spec } = await build("web", { image: "nginx@sha256:abc" });
            assert.strictEqual("convergeConfig" in spec, false);
            const wait = one("command:local:Command", "web-converged");
            assert.deepStrictEqual(wait.dependencies, [child.urn]);
            assert.strictEqual(wait.inputs.create, 'node -e "$DOCKYARD_SCRIPT"');
            const { DOCKYARD_SCRIPT, SPEC, ...rest } = wait.inputs.environment;
            assert.deepStrictEqual(rest, { SERVICE_ID: "web-service-id", SERVICE_NAME: "web", TIMEOUT: "5m" });
            // A loader of the installed package's wait, not the wait itself: 12 KB less per service in the state.
            assert.strictEqual(DOCKYARD_SCRIPT, CONVERGE_SCRIPT);
            assert.match(SPEC, /^[0-9a-f]{16}$/);
            // A different spec gives a different SPEC, which runs the wait again.
            resetRecorder();
            await build("web2", { image: "nginx@sha256:abd" });
            assert.notStrictEqual(one("command:local:Command", "web2-converged").inputs.environment.SPEC, SPEC);
        });

        it("applies the safe defaults, sends the blocks the provider would keep as Swarm has them unset, and nothing else that was not asked for", async () => {
            const { svc, spec } = await build("web", { image: "nginx@sha256:abc" });
            assert.deepStrictEqual(spec, {
                name: "web",
                labels: labels("web"),
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    // No stop grace period unless given (0s): the provider's destroy waits only that long (see ServiceArgs).
                    containerSpec: { image: "nginx@sha256:abc", readOnly: false, ...UNSET_CONTAINER },
                    restartPolicy: RESTART_DEFAULTS,
                    ...UNSET_TASK,
                },
                endpointSpec: { mode: "vip" },
                updateConfig: UPDATE_DEFAULTS,
                rollbackConfig: ROLLBACK_DEFAULTS,
            });
            for (const key of ["commands", "args", "env", "secrets", "configs", "mounts", "user"]) {
                assert.strictEqual(key in spec.taskSpec.containerSpec, false, `containerSpec.${key} is absent`);
            }
            assert.strictEqual("networksAdvanceds" in spec.taskSpec, false, "taskSpec.networksAdvanceds is absent");
            assert.strictEqual("auth" in spec, false);
            assert.strictEqual("ports" in spec.endpointSpec, false);
            assert.deepStrictEqual(await valueOf(svc.endpoints), []);
            assert.strictEqual(await valueOf(svc.imageRef), "nginx@sha256:abc");
            assert.strictEqual(await valueOf(svc.serviceName), "web");
            assert.strictEqual(await valueOf(svc.serviceId), "web-service-id");
        });

        it("keeps the documented defaults for rollout, restart and health keys given as undefined", async () => {
            const { spec } = await build("web", {
                image: "i",
                update: { parallelism: undefined, delay: undefined, monitor: undefined, maxFailureRatio: undefined, order: undefined, failureAction: undefined },
                rollback: { failureAction: undefined, maxFailureRatio: undefined },
                restart: { condition: undefined, delay: undefined, maxAttempts: undefined, window: undefined },
                healthCheck: { command: ["true"], interval: undefined, timeout: undefined, retries: undefined, startPeriod: undefined },
            });
            assert.deepStrictEqual(spec.updateConfig, UPDATE_DEFAULTS);
            assert.deepStrictEqual(spec.rollbackConfig, ROLLBACK_DEFAULTS);
            assert.deepStrictEqual(spec.taskSpec.restartPolicy, RESTART_DEFAULTS);
            assert.deepStrictEqual(spec.taskSpec.containerSpec.healthcheck, { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" });
        });

        it("a health check without a command keeps the image's, with its timings", async () => {
            const { spec } = await build("web", { image: "i", healthCheck: { interval: "2s" } });
            assert.deepStrictEqual(spec.taskSpec.containerSpec.healthcheck, { interval: "2s", timeout: "5s", retries: 3, startPeriod: "10s" });
        });
    });

    describe("wiring", () => {
        it("mounts secrets at /run/secrets/<name>, configs at their targets, and orders after them", async () => {
            const token = new c.Secret("app_token", { data: "t" });
            const conf = new c.Config("appconf", { data: "a: 1" });
            const { svc, child, spec } = await build("api", {
                image: "api@sha256:1",
                secrets: [{ secret: token }, { secret: token, target: "copy", mode: 0o400, uid: "10001", gid: "10002" }],
                configs: [{ config: conf, target: "/etc/api.yaml" }, { config: conf, target: "/etc/api-ro.yaml", uid: "101", gid: "102", mode: 0o440 }],
            });
            const secretName = await valueOf(token.secretName);
            const configName = await valueOf(conf.configName);
            assert.deepStrictEqual(spec.taskSpec.containerSpec.secrets, [
                { secretId: "app_token-secret-id", secretName, fileName: "/run/secrets/app_token", fileUid: "0", fileGid: "0", fileMode: 0o444 },
                { secretId: "app_token-secret-id", secretName, fileName: "/run/secrets/copy", fileUid: "10001", fileGid: "10002", fileMode: 0o400 },
            ]);
            assert.deepStrictEqual(spec.taskSpec.containerSpec.configs, [
                { configId: "appconf-config-id", configName, fileName: "/etc/api.yaml", fileUid: "0", fileGid: "0", fileMode: 0o444 },
                { configId: "appconf-config-id", configName, fileName: "/etc/api-ro.yaml", fileUid: "101", fileGid: "102", fileMode: 0o440 },
            ]);
            assert.strictEqual("env" in spec.taskSpec.containerSpec, false, "secrets are files, not env vars");
            assert.deepStrictEqual([...child.dependencies].sort(), [
                one("docker:index/secret:Secret", "app_token-secret").urn,
                one("docker:index/serviceConfig:ServiceConfig", "appconf-config").urn,
            ].sort());
            assert.strictEqual(await pulumi.isSecret(svc.serviceName), false);
        });

        it("mounts volumes, binds and tmpfs with their options, and orders after the volume", async () => {
            const vol = new c.Volume("data");
            const { child, spec } = await build("db", {
                image: "db:1",
                mounts: [
                    { volume: vol, target: "/data" },
                    { volume: vol, target: "/backup", readOnly: true },
                    { hostPath: "/srv/static", target: "/static", readOnly: true },
                    { tmpfs: "64m", target: "/tmp" },
                    { tmpfs: 4096, target: "/run/cache" },
                    { tmpfs: {}, target: "/scratch" },
                    { tmpfs: { mode: 0o1770 }, target: "/run/app" },
                    { volume: vol, target: "/seed", noCopy: true },
                ],
            });
            assert.deepStrictEqual(spec.taskSpec.containerSpec.mounts, [
                { type: "volume", source: "data", target: "/data", readOnly: false },
                { type: "volume", source: "data", target: "/backup", readOnly: true },
                { type: "bind", source: "/srv/static", target: "/static", readOnly: true },
                { type: "tmpfs", target: "/tmp", readOnly: false, tmpfsOptions: { sizeBytes: 64 * MiB } },
                { type: "tmpfs", target: "/run/cache", readOnly: false, tmpfsOptions: { sizeBytes: 4096 } },
                // No size: unlimited, as Docker's tmpfs is by default.
                { type: "tmpfs", target: "/scratch", readOnly: false },
                { type: "tmpfs", target: "/run/app", readOnly: false, tmpfsOptions: { mode: 0o1770 } },
                { type: "volume", source: "data", target: "/seed", readOnly: false, volumeOptions: { noCopy: true } },
            ]);
            assert.deepStrictEqual(child.dependencies, [one("docker:index/volume:Volume", "data-volume").urn, one("command:local:Command", "data-node").urn]);
            // The node-local volume pins the service, once however often it is mounted.
            assert.deepStrictEqual(spec.taskSpec.placement, { constraints: ["node.id==n0de1d"], prefs: [], maxReplicas: 0 });
        });

        it("pins a service to the node holding its node-local volumes; its own constraints replace the pin; a network filesystem pins nothing", async () => {
            const local = new c.Volume("data");
            const nfs = new c.Volume("shared", { driverOptions: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" } });
            const { spec } = await build("db", {
                image: "db:1",
                preferences: ["spread=node.labels.zone"],
                mounts: [{ volume: nfs, target: "/shared" }, { volume: local, target: "/data" }],
            });
            assert.deepStrictEqual(spec.taskSpec.placement, { constraints: ["node.id==n0de1d"], prefs: ["node.labels.zone"], maxReplicas: 0 });
            const { spec: placed } = await build("db2", { image: "db:1", constraints: ["node.labels.disk==ssd"], mounts: [{ volume: local, target: "/data" }] });
            assert.deepStrictEqual(placed.taskSpec.placement, { constraints: ["node.labels.disk==ssd"], prefs: [], maxReplicas: 0 });
            const { spec: onlyShared } = await build("reader", { image: "r:1", mounts: [{ volume: nfs, target: "/shared" }] });
            assert.deepStrictEqual(onlyShared.taskSpec.placement, UNSET_TASK.placement);
        });

        it("allows the Docker socket only when allowDockerSocket is set", async () => {
            const { spec } = await build("agent", {
                image: "agent:1", allowDockerSocket: true, mounts: [{ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }],
            });
            assert.deepStrictEqual(spec.taskSpec.containerSpec.mounts, [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }]);
        });

        it("joins networks by id with the aliases on each, and orders after them", async () => {
            const front = new c.Network("front");
            const back = new c.Network("back");
            const { child, spec } = await build("web", { image: "w:1", networks: [front, back], aliases: ["web", "www"] });
            assert.deepStrictEqual(spec.taskSpec.networksAdvanceds, [
                { id: "front-network-id", aliases: ["web", "www"] },
                { id: "back-network-id", aliases: ["web", "www"] },
            ]);
            assert.deepStrictEqual([...child.dependencies].sort(), [
                one("docker:index/network:Network", "back-network").urn,
                one("docker:index/network:Network", "front-network").urn,
            ].sort());
        });

        it("joins networks without aliases when none are given", async () => {
            const { spec } = await build("web", { image: "w:1", networks: [new c.Network("front")] });
            assert.deepStrictEqual(spec.taskSpec.networksAdvanceds, [{ id: "front-network-id" }]);
        });

        it("publishes ingress ports by default, and host-mode ports when asked", async () => {
            const { svc, spec } = await build("web", {
                image: "w:1",
                ports: [{ target: 8080, published: 80 }, { target: 9090, mode: c.PublishMode.Host, protocol: "udp" }, { target: 53, protocol: "udp" }],
            });
            assert.deepStrictEqual(spec.endpointSpec, {
                mode: "vip",
                ports: [
                    { targetPort: 8080, publishedPort: 80, protocol: "tcp", publishMode: "ingress" },
                    { targetPort: 9090, publishedPort: 9090, protocol: "udp", publishMode: "host" },
                    { targetPort: 53, publishedPort: 53, protocol: "udp", publishMode: "ingress" },
                ],
            });
            // Where the ports answer is what the convergence wait found (its stdout), not a guess.
            assert.deepStrictEqual(await valueOf(svc.endpoints), ["10.213.0.11:80", "10.213.0.12:9090"]);
        });

        it("leaves the published port to Swarm for published \"any\", and reports where Swarm put it", async () => {
            const { svc, spec } = await build("web", {
                image: "w:1",
                ports: [{ target: 80, published: "any" }, { target: 80, published: "any", protocol: "udp" }, { target: 9090, published: "any", mode: c.PublishMode.Host }],
            });
            assert.deepStrictEqual(spec.endpointSpec.ports, [
                { targetPort: 80, protocol: "tcp", publishMode: "ingress" },
                { targetPort: 80, protocol: "udp", publishMode: "ingress" },
                { targetPort: 9090, protocol: "tcp", publishMode: "host" },
            ]);
            assert.deepStrictEqual(await valueOf(svc.endpoints), ["10.213.0.11:80", "10.213.0.12:9090"]);
            // Two ports Swarm picks never collide, whatever their targets.
            assert.deepStrictEqual(c.Service.check("w", { image: "w:1", ports: [{ target: 80, published: "any" }, { target: 80, published: "any" }, { target: 80 }] }), []);
            assert.deepStrictEqual(c.Service.check("w", { image: "w:1", ports: [{ target: 80, published: "auto" as any }] }), [
                'ports[0].published: expected a port from 1 to 65535, or "any" for one Swarm picks, got "auto"',
            ]);
        });

        it("runs one task per node in global mode, with dnsrr and host ports", async () => {
            const { spec } = await build("agent", {
                image: "agent:1", global: true, endpointMode: c.EndpointMode.Dnsrr, ports: [{ target: 9100, mode: c.PublishMode.Host }],
            });
            assert.deepStrictEqual(spec.mode, { global: true });
            assert.deepStrictEqual(spec.endpointSpec, { mode: "dnsrr", ports: [{ targetPort: 9100, publishedPort: 9100, protocol: "tcp", publishMode: "host" }] });
        });

        it("uses dnsrr without ports", async () => {
            const { spec } = await build("db", { image: "db:1", endpointMode: c.EndpointMode.Dnsrr });
            assert.deepStrictEqual(spec.endpointSpec, { mode: "dnsrr" });
        });

        it("takes replicas, including 0 (scaled down)", async () => {
            assert.deepStrictEqual((await build("a", { image: "i", replicas: 3 })).spec.mode, { replicated: { replicas: 3 } });
            resetRecorder();
            assert.deepStrictEqual((await build("b", { image: "i", replicas: 0 })).spec.mode, { replicated: { replicas: 0 } });
        });

        it("passes command, args, env, user, read-only root and a custom service name", async () => {
            const { svc, spec } = await build("api", {
                image: "api:1", serviceName: "shop-api", command: ["/bin/api"], args: ["--port", "8080"], env: { MODE: "prod", LOG_LEVEL: "info" },
                user: "10001", readOnlyRootFilesystem: true, labels: { team: "shop" },
            });
            assert.strictEqual(spec.name, "shop-api");
            assert.deepStrictEqual(spec.labels, labels("api", { team: "shop" }));
            assert.deepStrictEqual(spec.taskSpec.containerSpec, {
                image: "api:1", commands: ["/bin/api"], args: ["--port", "8080"], env: { MODE: "prod", LOG_LEVEL: "info" }, user: "10001", readOnly: true,
                ...UNSET_CONTAINER,
            });
            assert.strictEqual(await valueOf(svc.serviceName), "shop-api");
        });

        it("passes the container settings Compose files give: stop, capabilities, init, sysctls, host name, workdir, labels, hosts, DNS and logging", async () => {
            const { spec } = await build("db", {
                image: "db:1", stopGracePeriod: "1m30s", stopSignal: "SIGINT", capabilities: { add: ["NET_ADMIN", "CAP_SYS_TIME"], drop: ["ALL"] }, init: true,
                sysctls: { "net.core.somaxconn": 1024 }, hostname: "db-host", workdir: "/srv", containerLabels: { tier: "back" },
                extraHosts: [{ host: "gw", ip: "10.0.0.1" }], dns: { nameservers: ["10.0.0.2"], search: ["corp"] },
                logging: { driver: "json-file", options: { "max-size": "10m" } },
            });
            assert.deepStrictEqual(spec.taskSpec.containerSpec, {
                image: "db:1", readOnly: false, stopGracePeriod: "1m30s", stopSignal: "SIGINT",
                // Written as Docker writes them, with the CAP_ prefix.
                capAdds: ["CAP_NET_ADMIN", "CAP_SYS_TIME"], capDrops: ["ALL"], init: true,
                sysctl: { "net.core.somaxconn": "1024" }, hostname: "db-host", dir: "/srv", labels: [{ label: "tier", value: "back" }],
                hosts: [{ host: "gw", ip: "10.0.0.1" }], dnsConfig: { nameservers: ["10.0.0.2"], searches: ["corp"] }, healthcheck: UNSET_CONTAINER.healthcheck,
            });
            assert.deepStrictEqual(spec.taskSpec.logDriver, { name: "json-file", options: { "max-size": "10m" } });
        });

        it("refuses bad container settings, naming each with what is accepted", async () => {
            assert.deepStrictEqual(c.Service.check("db", {
                image: "db:1", stopGracePeriod: "soon", stopSignal: "TERM", capabilities: { add: ["net admin"] },
                sysctls: { somaxconn: "1" }, workdir: "srv", dns: { nameservers: [] },
            }), [
                'stopGracePeriod: expected a duration such as "500ms", "10s" or "1m30s", got "soon"',
                'stopSignal: expected a signal such as "SIGTERM", "SIGQUIT" or "9", got "TERM"',
                'capabilities.add[0]: expected a capability such as "NET_ADMIN" or "CAP_NET_ADMIN", or "ALL", got "net admin"',
                'sysctls.somaxconn: expected a kernel parameter such as "net.core.somaxconn", got "somaxconn"',
                'workdir: expected an absolute path such as "/data", got "srv"',
                "dns.nameservers: expected at least one name server, got []",
            ]);
        });

        it("runs a shell-string health check with CMD-SHELL and an exec array with CMD, filling the defaults", async () => {
            const shell = await build("a", { image: "i", healthCheck: { command: "wget -q -O- http://127.0.0.1:8080/healthz", interval: "2s" } });
            assert.deepStrictEqual(shell.spec.taskSpec.containerSpec.healthcheck, {
                tests: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/healthz"], interval: "2s", timeout: "5s", retries: 3, startPeriod: "10s",
            });
            resetRecorder();
            const exec = await build("b", { image: "i", healthCheck: { command: ["curl", "-f", "http://localhost/"], timeout: "1s", retries: 5, startPeriod: "1m30s" } });
            assert.deepStrictEqual(exec.spec.taskSpec.containerSpec.healthcheck, {
                tests: ["CMD", "curl", "-f", "http://localhost/"], interval: "10s", timeout: "1s", retries: 5, startPeriod: "1m30s",
            });
        });

        it("turns every health check off, the image's own included, with disable (Docker's test NONE)", async () => {
            const off = await build("a", { image: "i", healthCheck: { disable: true } });
            assert.deepStrictEqual(off.spec.taskSpec.containerSpec.healthcheck, { tests: ["NONE"] });
        });

        it("refuses disable with anything it would leave unused, and disable other than true", async () => {
            assert.deepStrictEqual(c.Service.check("db", { image: "db:1", healthCheck: { disable: true, command: "true", retries: 2 } }), [
                "healthCheck.command: disable: true runs no health check, so command has nothing to apply to; remove one of the two",
                "healthCheck.retries: disable: true runs no health check, so retries has nothing to apply to; remove one of the two",
            ]);
            assert.deepStrictEqual(c.Service.check("db", { image: "db:1", healthCheck: { disable: false as any } }), [
                "healthCheck.disable: expected true (leave it out to keep a health check), got false",
            ]);
        });

        it("converts resources to nanoCpus and memoryBytes, sending only what was given (an empty block when nothing is)", async () => {
            const both = await build("a", { image: "i", limits: { cpus: 0.5, memory: "256m" }, reservations: { cpus: 0.25, memory: 64 * MiB } });
            assert.deepStrictEqual(both.spec.taskSpec.resources, {
                limits: { nanoCpus: 500_000_000, memoryBytes: 256 * MiB },
                reservation: { nanoCpus: 250_000_000, memoryBytes: 64 * MiB },
            });
            resetRecorder();
            const limitsOnly = await build("b", { image: "i", limits: { memory: "1g" } });
            assert.deepStrictEqual(limitsOnly.spec.taskSpec.resources, { limits: { memoryBytes: 1024 * MiB } });
            resetRecorder();
            const cpuReservation = await build("c", { image: "i", reservations: { cpus: 2 } });
            assert.deepStrictEqual(cpuReservation.spec.taskSpec.resources, { reservation: { nanoCpus: 2_000_000_000 } });
            resetRecorder();
            assert.deepStrictEqual((await build("d", { image: "i" })).spec.taskSpec.resources, {});
        });

        it("passes placement constraints and preferences (as the provider's spread descriptors), each empty (0 replicas per node: no limit) when not given", async () => {
            assert.deepStrictEqual((await build("a", { image: "i", constraints: ["node.role==worker", "node.labels.zone!=b"] })).spec.taskSpec.placement,
                { constraints: ["node.role==worker", "node.labels.zone!=b"], prefs: [], maxReplicas: 0 });
            resetRecorder();
            assert.deepStrictEqual((await build("b", { image: "i", preferences: ["spread=node.labels.zone"] })).spec.taskSpec.placement,
                { constraints: [], prefs: ["node.labels.zone"], maxReplicas: 0 });
            resetRecorder();
            assert.deepStrictEqual((await build("c", { image: "i", replicas: 4, maxReplicasPerNode: 2 })).spec.taskSpec.placement, { constraints: [], prefs: [], maxReplicas: 2 });
        });

        it("rolls out stop-first with maxReplicasPerNode unless told otherwise: a start-first task finds no room on a full node", async () => {
            const { spec } = await build("a", { image: "i", replicas: 2, maxReplicasPerNode: 1 });
            assert.deepStrictEqual(spec.updateConfig, { ...UPDATE_DEFAULTS, order: "stop-first" });
            assert.deepStrictEqual(spec.rollbackConfig, { ...ROLLBACK_DEFAULTS, order: "stop-first" });
            resetRecorder();
            const told = await build("b", { image: "i", maxReplicasPerNode: 2, update: { order: c.UpdateOrder.StartFirst } });
            assert.deepStrictEqual([told.spec.updateConfig.order, told.spec.rollbackConfig.order], ["start-first", "stop-first"]);
        });

        it("refuses maxReplicasPerNode on a global service and when not a positive whole number", () => {
            assert.deepStrictEqual(c.Service.check("a", { image: "i", global: true, maxReplicasPerNode: 1 }), [
                "maxReplicasPerNode: 1 cannot be combined with global: true, which runs one task per node; remove one of them",
            ]);
            assert.strictEqual(c.Service.check("a", { image: "i", maxReplicasPerNode: 0 }).length, 1);
            assert.match(c.Service.check("a", { image: "i", maxReplicasPerNode: 0 })[0], /^maxReplicasPerNode: expected .*, got 0$/);
        });

        it("overrides rollout and restart policies key by key", async () => {
            const { spec } = await build("web", {
                image: "i",
                update: { parallelism: 2, maxFailureRatio: 0.25, order: c.UpdateOrder.StopFirst },
                rollback: { parallelism: 0, failureAction: c.FailureAction.Continue, delay: "1s" },
                restart: { condition: c.RestartCondition.Any, maxAttempts: 3, window: "2m" },
                convergeTimeout: "1m",
            });
            assert.deepStrictEqual(spec.updateConfig, { ...UPDATE_DEFAULTS, parallelism: 2, maxFailureRatio: "0.25", order: "stop-first" });
            assert.deepStrictEqual(spec.rollbackConfig, { ...ROLLBACK_DEFAULTS, parallelism: 0, failureAction: "continue", delay: "1s" });
            assert.deepStrictEqual(spec.taskSpec.restartPolicy, { condition: "any", delay: "5s", maxAttempts: 3, window: "2m" });
            assert.strictEqual(one("command:local:Command", "web-converged").inputs.environment.TIMEOUT, "1m");
        });
    });

    describe("one-shot services (restart condition none)", () => {
        it("rolls them out without a monitor period and continuing on failure, which Swarm would count their tasks' exit as, and keeps every other default", async () => {
            const { spec } = await build("migrate", { image: "i", restart: { condition: c.RestartCondition.None } });
            assert.deepStrictEqual(spec.updateConfig, { ...UPDATE_DEFAULTS, monitor: "0s", failureAction: "continue" });
            assert.deepStrictEqual(spec.rollbackConfig, { ...ROLLBACK_DEFAULTS, monitor: "0s", failureAction: "continue" });
            assert.deepStrictEqual(spec.taskSpec.restartPolicy, { ...RESTART_DEFAULTS, condition: "none" });
            // Any other restart condition keeps the defaults.
            for (const condition of [c.RestartCondition.OnFailure, c.RestartCondition.Any]) {
                const other = await build(`web-${condition}`, { image: "i", restart: { condition } });
                assert.deepStrictEqual(other.spec.updateConfig, UPDATE_DEFAULTS);
                assert.deepStrictEqual(other.spec.rollbackConfig, ROLLBACK_DEFAULTS);
            }
        });
    });

    describe("images and registries", () => {
        it("runs an Image by digest, after its build and prune, with its registry's pull credentials as a secret", async () => {
            const registry = new c.Registry("reg", { kind: c.RegistryKind.External, server: "127.0.0.1:5000", username: "u", password: "pw" });
            const image = new c.Image("app", { context: tempDir({ Dockerfile: "FROM scratch\n" }), repository: "app", registry });
            const { svc, child, spec } = await build("web", { image });
            assert.strictEqual(spec.taskSpec.containerSpec.image, "127.0.0.1:5000/app@sha256:abc");
            assert.strictEqual(await valueOf(svc.imageRef), "127.0.0.1:5000/app@sha256:abc");
            assert.deepStrictEqual([...child.dependencies].sort(), [one("command:local:Command", "app-build").urn, one("command:local:Command", "app-prune").urn].sort());
            assert.strictEqual(isSecretValue(spec.auth), true);
            assert.deepStrictEqual(reveal(spec.auth), { serverAddress: "127.0.0.1:5000", username: "u", password: "pw" });
        });

        it("prefers an explicitly given registry for pull credentials", async () => {
            const pull = new c.Registry("mirror", { kind: c.RegistryKind.External, server: "mirror.example.com", username: "m", password: "mp", verifyCredentials: false });
            const { spec } = await build("web", { image: "mirror.example.com/app@sha256:1", registry: pull });
            assert.deepStrictEqual(reveal(spec.auth), { serverAddress: "mirror.example.com", username: "m", password: "mp" });
        });

        it("takes an image reference known only at deployment time", async () => {
            const { svc, spec } = await build("web", { image: pulumi.output("nginx@sha256:def") });
            assert.strictEqual(spec.taskSpec.containerSpec.image, "nginx@sha256:def");
            assert.strictEqual(await valueOf(svc.imageRef), "nginx@sha256:def");
        });
    });

    describe("validation", () => {
        type Case = [what: string, args: (c: typeof components) => components.ServiceArgs, problems: string[]];
        const cases: Case[] = [
            ["replicas with global mode", () => ({ image: "i", replicas: 2, global: true }),
                ["replicas: 2 cannot be combined with global: true; remove one of them"]],
            ["negative replicas", () => ({ image: "i", replicas: -1 }),
                ["replicas: expected a whole number, 0 or more, got -1"]],
            ["a service name that is not a Docker name", () => ({ image: "i", serviceName: "my service" }),
                [`serviceName: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "my service"`]],
            ["an env var name with '='", () => ({ image: "i", env: { "LOG=LEVEL": "x" } }),
                [`env.LOG=LEVEL: expected a variable name without '=' or spaces, such as LOG_LEVEL or discovery.type, got "LOG=LEVEL"`]],
            ["two mounts on one target", () => ({ image: "i", mounts: [{ hostPath: "/a", target: "/data" }, { tmpfs: 1024, target: "/data" }] }),
                ['mounts[1]: target "/data" is already used by mounts[0]; each path can be mounted once']],
            ["a config on a secret's path", (c) => ({
                image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }) }], configs: [{ config: new c.Config("cf", { data: "x" }), target: "/run/secrets/pw" }],
            }), ['configs[0]: target "/run/secrets/pw" is already used by secrets[0]; each path can be mounted once']],
            ["one secret mounted twice under its own name", (c) => {
                const s = new c.Secret("pw", { data: "x" });
                return { image: "i", secrets: [{ secret: s }, { secret: s }] };
            }, ['secrets[1]: target "/run/secrets/pw" is already used by secrets[0]; each path can be mounted once']],
            ["a mount with two sources and a relative target", (c) => ({ image: "i", mounts: [{ volume: new c.Volume("v"), hostPath: "/x", target: "data" }] }),
                ['mounts[0].target: expected an absolute path such as "/data", got "data"', "mounts[0]: give exactly one of volume, hostPath or tmpfs (got 2)"]],
            ["a mount with no source", () => ({ image: "i", mounts: [{ target: "/data" }] }),
                ["mounts[0]: give exactly one of volume, hostPath or tmpfs (got 0)"]],
            ["a relative host path and a bad tmpfs size", () => ({ image: "i", mounts: [{ hostPath: "srv", target: "/a" }, { tmpfs: "lots", target: "/b" }] }),
                ['mounts[0].hostPath: expected an absolute path such as "/data", got "srv"', 'mounts[1].tmpfs: expected a size in bytes or a string such as "256m" or "1g", got "lots"']],
            ["a port published twice", () => ({ image: "i", ports: [{ target: 80 }, { target: 8080, published: 80 }] }),
                ["ports[1]: port 80/tcp is already published by ports[0]; publish each port once"]],
            ["bad port numbers, mode and protocol", () => ({ image: "i", ports: [{ target: 0, published: 70000, mode: "mesh" as any, protocol: "sctp" as any }] }),
                [
                    "ports[0].target: expected a port from 1 to 65535, got 0",
                    'ports[0].published: expected a port from 1 to 65535, got 70000',
                    'ports[0].protocol: expected "tcp" or "udp", got "sctp"',
                    'ports[0].mode: expected one of "ingress", "host", got "mesh"',
                ]],
            ["a secret target that is a path", (c) => ({ image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }), target: "/etc/passwd" }] }),
                ['secrets[0].target: expected a file name under /run/secrets such as "db_password" (no "/"), got "/etc/passwd"']],
            ["a secret target with a slash", (c) => ({ image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }), target: "a/b" }] }),
                ['secrets[0].target: expected a file name under /run/secrets such as "db_password" (no "/"), got "a/b"']],
            ["a secret target of ..", (c) => ({ image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }), target: ".." }] }),
                ['secrets[0].target: expected a file name under /run/secrets such as "db_password" (no "/"), got ".."']],
            ["bad file modes and a relative config target", (c) => ({
                image: "i", secrets: [{ secret: new c.Secret("pw", { data: "x" }), mode: 0o1000 }], configs: [{ config: new c.Config("cf", { data: "x" }), target: "etc/app.yaml", mode: -1 }],
            }), [
                "secrets[0].mode: expected a file mode from 0 to 0o777, got 512",
                'configs[0].target: expected an absolute path such as "/data", got "etc/app.yaml"',
                "configs[0].mode: expected a file mode from 0 to 0o777, got -1",
            ]],
            ["a config's owner that is not text", (c) => ({
                image: "i", configs: [{ config: new c.Config("cf", { data: "x" }), target: "/etc/app.yaml", uid: 101 as any, gid: "" }],
            }), [
                'configs[0].uid: expected a numeric uid such as "101", got 101',
                'configs[0].gid: expected a numeric gid such as "101", got ""',
            ]],
            // Docker resolves no user names for a mounted file: a name would fail the deploy on the node.
            ["owners of mounted files that are names or not whole numbers", (c) => ({
                image: "i",
                secrets: [{ secret: new c.Secret("pw", { data: "x" }), uid: "www-data", gid: "-1" }],
                configs: [{ config: new c.Config("cf", { data: "x" }), target: "/etc/app.yaml", uid: "1.5", gid: "nogroup" }],
            }), [
                'secrets[0].uid: expected a numeric uid such as "101", got "www-data"',
                'secrets[0].gid: expected a numeric gid such as "101", got "-1"',
                'configs[0].uid: expected a numeric uid such as "101", got "1.5"',
                'configs[0].gid: expected a numeric gid such as "101", got "nogroup"',
            ]],
            ["a health check interval that is not a duration", () => ({ image: "i", healthCheck: { command: ["true"], interval: "10 seconds" } }),
                ['healthCheck.interval: expected a duration such as "500ms", "10s" or "1m30s", got "10 seconds"']],
            ["an empty health check and bad timings", () => ({ image: "i", healthCheck: { command: [], timeout: "5", startPeriod: "1d", retries: -1 } }),
                [
                    "healthCheck.command: expected a non-empty command array or shell string, got []",
                    'healthCheck.timeout: expected a duration such as "500ms", "10s" or "1m30s", got "5"',
                    "healthCheck.retries: expected a whole number, 0 or more, got -1",
                    'healthCheck.startPeriod: expected a duration such as "500ms", "10s" or "1m30s", got "1d"',
                ]],
            ["the Docker socket without allowDockerSocket", () => ({ image: "i", mounts: [{ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock" }] }),
                ['mounts[0].hostPath: "/var/run/docker.sock" is the Docker socket, which gives root on the node; set allowDockerSocket: true if that is intended']],
            ["the Docker socket at /run/docker.sock", () => ({ image: "i", mounts: [{ hostPath: "/run/docker.sock", target: "/docker.sock" }] }),
                ['mounts[0].hostPath: "/run/docker.sock" is the Docker socket, which gives root on the node; set allowDockerSocket: true if that is intended']],
            ["the Docker socket spelled with a double slash", () => ({ image: "i", mounts: [{ hostPath: "//var/run//docker.sock/", target: "/docker.sock" }] }),
                ['mounts[0].hostPath: "//var/run//docker.sock/" is the Docker socket, which gives root on the node; set allowDockerSocket: true if that is intended']],
            ["the root directory, which holds the Docker socket (read-only does not help)", () => ({ image: "i", mounts: [{ hostPath: "/", target: "/host", readOnly: true }] }),
                ['mounts[0].hostPath: "/" holds the Docker socket (/var/run/docker.sock), which gives root on the node; set allowDockerSocket: true if that is intended']],
            ["dnsrr with an ingress port", () => ({ image: "i", endpointMode: c.EndpointMode.Dnsrr, ports: [{ target: 80 }] }),
                ['ports[0].mode: endpointMode "dnsrr" cannot publish through the ingress routing mesh; set mode "host" on every port']],
            ["an unknown endpoint mode", () => ({ image: "i", endpointMode: "rr" as any }),
                ['endpointMode: expected one of "vip", "dnsrr", got "rr"']],
            ["a rollback that rolls back", () => ({ image: "i", rollback: { failureAction: c.FailureAction.Rollback } }),
                ['rollback.failureAction: a failed rollback cannot itself be rolled back; use "pause" or "continue"']],
            ["a one-shot service whose rollouts would roll back or pause when its tasks exit",
                () => ({ image: "i", restart: { condition: c.RestartCondition.None }, update: { failureAction: c.FailureAction.Rollback }, rollback: { failureAction: c.FailureAction.Pause } }),
                [
                    'update.failureAction: "rollback" cannot judge a one-shot service (restart.condition "none"): Swarm counts a task that exits during a rollout as failed, even with code 0; leave it unset or set "continue", and Dockyard\'s wait judges the tasks (a task that exited 0 is done)',
                    'rollback.failureAction: "pause" cannot judge a one-shot service (restart.condition "none"): Swarm counts a task that exits during a rollout as failed, even with code 0; leave it unset or set "continue", and Dockyard\'s wait judges the tasks (a task that exited 0 is done)',
                ]],
            ["bad rollout values", () => ({ image: "i", update: { parallelism: 1.5, delay: "soon", monitor: "30", maxFailureRatio: 2, order: "random" as any, failureAction: "retry" as any } }),
                [
                    "update.parallelism: expected a whole number, 0 or more, got 1.5",
                    'update.delay: expected a duration such as "500ms", "10s" or "1m30s", got "soon"',
                    'update.monitor: expected a duration such as "500ms", "10s" or "1m30s", got "30"',
                    "update.maxFailureRatio: expected a number from 0 to 1, got 2",
                    'update.order: expected one of "start-first", "stop-first", got "random"',
                    'update.failureAction: expected one of "rollback", "pause", "continue", got "retry"',
                ]],
            ["a bad restart policy and converge timeout", () => ({ image: "i", restart: { condition: "always" as any, delay: "x", window: "y", maxAttempts: -1 }, convergeTimeout: "forever" }),
                [
                    'restart.condition: expected one of "none", "on-failure", "any", got "always"',
                    'restart.delay: expected a duration such as "500ms", "10s" or "1m30s", got "x"',
                    "restart.maxAttempts: expected a whole number, 0 or more, got -1",
                    'restart.window: expected a duration such as "500ms", "10s" or "1m30s", got "y"',
                    'convergeTimeout: expected a duration such as "500ms", "10s" or "1m30s", got "forever"',
                ]],
            ["reservations above limits", () => ({ image: "i", limits: { memory: "128m" }, reservations: { memory: "1g" } }),
                ['reservations.memory: "1g" is more than limits.memory "128m"; reserve at most the limit']],
            ["bad resource values", () => ({ image: "i", limits: { cpus: 0, memory: "lots" }, reservations: { cpus: -1 } }),
                [
                    "limits.cpus: expected a positive number of CPUs such as 0.5, got 0",
                    'limits.memory: expected a size in bytes or a string such as "256m" or "1g", got "lots"',
                    "reservations.cpus: expected a positive number of CPUs such as 0.5, got -1",
                ]],
            ["a bridge network", (c) => ({ image: "i", networks: [new c.Network("lan", { driver: c.NetworkDriver.Bridge })] }),
                [`networks[0]: services need overlay networks, but this one's driver is "bridge"`]],
            ["aliases without networks, and a bad alias", () => ({ image: "i", aliases: ["ok", "not ok"] }),
                [
                    `aliases[1]: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "not ok"`,
                    "aliases: names are given on networks, but the service joins none; add networks",
                ]],
            ["a malformed placement constraint", () => ({ image: "i", constraints: ["node.role=manager"] }),
                ['constraints[0]: expected a constraint such as "node.role==manager", got "node.role=manager"']],
        ];

        for (const [what, makeArgs, problems] of cases) {
            it(`rejects ${what}, with the exact message and no resource but the component`, async () => {
                const args = makeArgs(c);
                await settle();
                resetRecorder();
                const err = rejection(() => new c.Service("s", args));
                assert.ok(err instanceof pulumi.ResourceError);
                assert.strictEqual(err.message, problemText("Service", "s", problems));
                assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:swarm:Service::s");
                await settle();
                assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:swarm:Service s"]);
            });
        }

        it("reports every problem in one error: each value, then the rules between values, then files and mounts", () => {
            const err = rejection(() => new c.Service("web", {
                image: "i",
                replicas: 2,
                global: true,
                mounts: [{ hostPath: "/var/run/docker.sock", target: "/sock" }, { tmpfs: "1m", target: "/sock" }],
                ports: [{ target: 80 }, { target: 80 }],
                endpointMode: c.EndpointMode.Dnsrr,
                healthCheck: { command: ["true"], interval: "10 seconds" },
                rollback: { failureAction: c.FailureAction.Rollback },
                limits: { memory: "64m" },
                reservations: { memory: "128m" },
            }));
            assert.strictEqual(err.message, [
                'Service "web" has 9 invalid argument problems:',
            '  - healthCheck.interval: expected a duration such as "500ms", "10s" or "1m30s", got "10 seconds"',
            "  - replicas: 2 cannot be combined with global: true; remove one of them",
            '  - ports[0].mode: endpointMode "dnsrr" cannot publish through the ingress routing mesh; set mode "host" on every port',
            "  - ports[1]: port 80/tcp is already published by ports[0]; publish each port once",
            '  - ports[1].mode: endpointMode "dnsrr" cannot publish through the ingress routing mesh; set mode "host" on every port',
            '  - rollback.failureAction: a failed rollback cannot itself be rolled back; use "pause" or "continue"',
            '  - reservations.memory: "128m" is more than limits.memory "64m"; reserve at most the limit',
            '  - mounts[0].hostPath: "/var/run/docker.sock" is the Docker socket, which gives root on the node; set allowDockerSocket: true if that is intended',
            '  - mounts[1]: target "/sock" is already used by mounts[0]; each path can be mounted once',
        ].join("\n"));
        });

        it("refuses to deploy a service whose rollout it could not watch: the wait's module is not installed where the deploy runs", async () => {
            const dir = tempDir();
            const cwd = process.cwd();
            await settle();
            resetRecorder();
            process.chdir(dir);
            let err: Error;
            try {
                err = rejection(() => new c.Service("web", { image: "nginx@sha256:abc" }));
            } finally {
                process.chdir(cwd);
            }
            assert.ok(err instanceof pulumi.ResourceError);
            assert.strictEqual(err.message,
                `Service "web": cannot load the convergence wait (@dockyard/components/wait) from ${dir}: @dockyard/components is not installed there; install it in the project the deploy runs from`);
            assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:swarm:Service::web");
            await settle();
            assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:swarm:Service web"]);
        });

        it("blames the component's name when no serviceName is given and the name is unusable", () => {
            assert.strictEqual(rejection(() => new c.Service("my svc", { image: "i" })).message, problemText("Service", "my svc", [
                `name: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "my svc"`,
            ]));
        });

        it("accepts an unusable component name when serviceName is given", async () => {
            const { spec } = await build("my svc", { image: "i", serviceName: "my-svc" });
            assert.strictEqual(spec.name, "my-svc");
        });

        it("accepts the same port number once per protocol", async () => {
            const { spec } = await build("dns", { image: "i", ports: [{ target: 53 }, { target: 53, protocol: "udp" }] });
            assert.deepStrictEqual(spec.endpointSpec.ports.map((p: any) => `${p.publishedPort}/${p.protocol}`), ["53/tcp", "53/udp"]);
        });
    });
});
