import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, isSecretValue, mockState, one, registered, resetRecorder, reveal, settle, valueOf } from "../harness";
import { cleanTempDirs, labels, problemText, rejection, tempDir, urnOfError } from "./helpers";
import type * as components from "../../../components";

const DOCKER_CONTAINER = "docker:index/container:Container";

describe("Container", () => {
    let c: typeof components;
    before(async () => {
        c = await import("../../../components");
        mockState("command:local:Command", (args) => (args.name.endsWith("-build") ? { stdout: "app:c-123\n" } : { stdout: "" }));
    });
    after(() => {
        mockState("command:local:Command", undefined);
        cleanTempDirs();
    });
    beforeEach(resetRecorder);

    async function build(name: string, args: components.ContainerArgs) {
        const ct = new c.Container(name, args);
        await valueOf(ct.containerName);
        await valueOf(ct.imageRef);
        await settle();
        const child = one(DOCKER_CONTAINER, `${name}-container`);
        return { ct, child, spec: child.inputs, component: one("dockyard:container:Container", name) };
    }

    describe("defaults", () => {
        it("creates exactly one Docker container, parented to the component", async () => {
            const { component, child } = await build("worker", { image: "w:1" });
            assert.deepStrictEqual(childrenOf(component.urn), [`${DOCKER_CONTAINER} worker-container`]);
            assert.strictEqual(child.parent, component.urn);
            assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:container:Container worker", `${DOCKER_CONTAINER} worker-container`]);
            assert.deepStrictEqual(child.dependencies, []);
        });

        it("restarts unless stopped, unprivileged, without waiting, and sends nothing that was not asked for", async () => {
            const { ct, spec } = await build("worker", { image: "w:1" });
            assert.deepStrictEqual(spec, {
                image: "w:1",
                ports: [],
                restart: "unless-stopped",
                labels: labels("worker"),
                readOnly: false,
                privileged: false,
                wait: false,
                waitTimeout: 120,
                mustRun: true,
            });
            for (const key of ["entrypoints", "command", "envs", "networksAdvanced", "mounts", "healthcheck", "memory", "cpus", "user", "name"]) {
                assert.strictEqual(key in spec, false, `${key} is absent`);
            }
            assert.deepStrictEqual(await valueOf(ct.endpoints), []);
            assert.strictEqual(await valueOf(ct.imageRef), "w:1");
        });

        it("starts the replacement before removing the old container when no port is published", async () => {
            const { child } = await build("worker", { image: "w:1" });
            assert.strictEqual(child.deleteBeforeReplace, false);
        });
    });

    describe("ports", () => {
        it("binds to 127.0.0.1 by default and removes the old container first (deleteBeforeReplace)", async () => {
            const { ct, child, spec } = await build("web", { image: "web:1", ports: [{ target: 8080 }] });
            assert.deepStrictEqual(spec.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
            assert.strictEqual(child.deleteBeforeReplace, true);
            assert.deepStrictEqual(await valueOf(ct.endpoints), ["127.0.0.1:8080"]);
        });

        it("publishes on another host port, address and protocol when asked", async () => {
            const { ct, spec } = await build("dns", {
                image: "dns:1",
                ports: [{ target: 53, published: 5353, protocol: "udp" }, { target: 8080, published: 80, hostIp: "0.0.0.0" }],
            });
            assert.deepStrictEqual(spec.ports, [
                { internal: 53, external: 5353, ip: "127.0.0.1", protocol: "udp" },
                { internal: 8080, external: 80, ip: "0.0.0.0", protocol: "tcp" },
            ]);
            assert.deepStrictEqual(await valueOf(ct.endpoints), ["127.0.0.1:5353", "0.0.0.0:80"]);
        });

        it("accepts one host port on two addresses, and once per protocol", async () => {
            const { spec } = await build("web", {
                image: "web:1",
                ports: [{ target: 80 }, { target: 80, hostIp: "10.0.0.5" }, { target: 80, protocol: "udp" }],
            });
            assert.deepStrictEqual(spec.ports.map((p: any) => `${p.ip}:${p.external}/${p.protocol}`), ["127.0.0.1:80/tcp", "10.0.0.5:80/tcp", "127.0.0.1:80/udp"]);
        });
    });

    describe("health", () => {
        it("waits for a health check when there is one, filling the defaults", async () => {
            const { spec } = await build("web", { image: "web:1", healthCheck: { command: ["wget", "-q", "-O-", "http://127.0.0.1/"] } });
            assert.deepStrictEqual(spec.healthcheck, { tests: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1/"], interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" });
            assert.deepStrictEqual([spec.wait, spec.waitTimeout], [true, 120]);
        });

        it("runs a shell-string check with CMD-SHELL and takes its timings", async () => {
            const { spec } = await build("web", { image: "web:1", healthCheck: { command: "curl -f localhost || exit 1", interval: "2s", timeout: "1s", retries: 5, startPeriod: "30s" } });
            assert.deepStrictEqual(spec.healthcheck, { tests: ["CMD-SHELL", "curl -f localhost || exit 1"], interval: "2s", timeout: "1s", retries: 5, startPeriod: "30s" });
            assert.strictEqual(spec.wait, true);
        });
    });

    describe("health, disabled", () => {
        it("turns the image's health check off and waits for no health", async () => {
            const { spec } = await build("web", { image: "web:1", healthCheck: { disable: true } });
            assert.deepStrictEqual(spec.healthcheck, { tests: ["NONE"] });
            assert.strictEqual(spec.wait, false);
        });
    });

    describe("wiring", () => {
        it("maps command to the entrypoint and args to the command, env to NAME=value", async () => {
            const { spec } = await build("job", { image: "j:1", command: ["/bin/job"], args: ["--once"], env: { MODE: "batch", N: "3" }, user: "1000", readOnlyRootFilesystem: true });
            assert.deepStrictEqual(
                { entrypoints: spec.entrypoints, command: spec.command, envs: spec.envs, user: spec.user, readOnly: spec.readOnly },
                { entrypoints: ["/bin/job"], command: ["--once"], envs: ["MODE=batch", "N=3"], user: "1000", readOnly: true },
            );
        });

        it("keeps a secret env value secret", async () => {
            const { spec } = await build("job", { image: "j:1", env: { TOKEN: pulumi.secret("t0k") } });
            assert.strictEqual(isSecretValue(spec.envs), true);
            assert.deepStrictEqual(reveal(spec.envs), ["TOKEN=t0k"]);
        });

        it("joins bridge and attachable overlay networks by name, and orders after them, the volume and the image", async () => {
            const lan = new c.Network("lan", { driver: c.NetworkDriver.Bridge });
            const mesh = new c.Network("mesh");
            const vol = new c.Volume("data");
            const image = new c.Image("app", { context: tempDir({ Dockerfile: "FROM scratch\n" }), repository: "app" });
            const { ct, child, spec } = await build("app", {
                image,
                networks: [lan, mesh],
                mounts: [
                    { volume: vol, target: "/data" },
                    { hostPath: "/etc/ssl/certs", target: "/etc/ssl/certs", readOnly: true },
                    { tmpfs: "16m", target: "/tmp" },
                ],
            });
            assert.deepStrictEqual(spec.networksAdvanced, [{ name: "lan" }, { name: "mesh" }]);
            assert.deepStrictEqual(spec.mounts, [
                { type: "volume", source: "data", target: "/data", readOnly: false },
                { type: "bind", source: "/etc/ssl/certs", target: "/etc/ssl/certs", readOnly: true },
                { type: "tmpfs", target: "/tmp", readOnly: false, tmpfsOptions: { sizeBytes: 16 * 1024 * 1024 } },
            ]);
            assert.strictEqual(spec.image, "app:c-123");
            assert.strictEqual(await valueOf(ct.imageRef), "app:c-123");
            assert.deepStrictEqual([...child.dependencies].sort(), [
                one("command:local:Command", "app-build").urn,
                one("command:local:Command", "app-prune").urn,
                one("docker:index/network:Network", "lan-network").urn,
                one("docker:index/network:Network", "mesh-network").urn,
                one("docker:index/volume:Volume", "data-volume").urn,
                one("command:local:Command", "data-node").urn,
            ].sort());
        });

        it("sets limits in whole MiB and CPUs as text, a restart policy and labels", async () => {
            const { spec } = await build("web", { image: "web:1", limits: { memory: "128m", cpus: 0.5 }, restart: c.RestartPolicy.OnFailure, labels: { tier: "web" } });
            assert.deepStrictEqual(
                { memory: spec.memory, cpus: spec.cpus, restart: spec.restart, labels: spec.labels },
                { memory: 128, cpus: "0.5", restart: "on-failure", labels: labels("web", { tier: "web" }) },
            );
        });

        it("rounds a memory limit that is not whole MiB down", async () => {
            const { spec } = await build("web", { image: "web:1", limits: { memory: "1500k" } });
            assert.strictEqual(spec.memory, 1);
            assert.strictEqual("cpus" in spec, false);
        });

        it("allows the Docker socket only when allowDockerSocket is set", async () => {
            const { spec } = await build("ci", { image: "ci:1", allowDockerSocket: true, mounts: [{ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock" }] });
            assert.deepStrictEqual(spec.mounts, [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: false }]);
            assert.strictEqual(spec.privileged, false);
        });
    });

    describe("validation", () => {
        async function rejectedOnly(name: string, make: () => components.ContainerArgs, problems: string[]) {
            const args = make();
            await settle();
            resetRecorder();
            const err = rejection(() => new c.Container(name, args));
            assert.ok(err instanceof pulumi.ResourceError);
            assert.strictEqual(err.message, problemText("Container", name, problems));
            assert.strictEqual(await urnOfError(err), `urn:pulumi:unittest::dockyard::dockyard:container:Container::${name}`);
            await settle();
            assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), [`dockyard:container:Container ${name}`]);
        }

        it("rejects a port twice, a bad restart policy and an overlay network that is not attachable", () =>
            rejectedOnly("x", () => ({
                image: "i", restart: "sometimes" as any, ports: [{ target: 80 }, { target: 80 }], networks: [new c.Network("o", { attachable: false })],
            }), [
                'restart: expected one of "no", "on-failure", "always", "unless-stopped", got "sometimes"',
                "ports[1]: 127.0.0.1:80/tcp is already published by ports[0]; publish each port once",
                "networks[0]: plain containers can join bridge networks or attachable overlay networks only",
            ]));

        it("rejects bad port numbers", () =>
            rejectedOnly("x", () => ({ image: "i", ports: [{ target: 0, published: 65536 }] }), [
                "ports[0].target: expected a port from 1 to 65535, got 0",
                "ports[0].published: expected a port from 1 to 65535, got 65536",
            ]));

        it("rejects the Docker socket without allowDockerSocket, two mounts on one path and a bad env name", () =>
            rejectedOnly("x", () => ({
                image: "i",
                env: { "BAD NAME": "x" },
                mounts: [{ hostPath: "/var/run/docker.sock", target: "/sock" }, { tmpfs: "1m", target: "/sock" }],
            }), [
                `env.BAD NAME: expected a variable name without '=' or spaces, such as LOG_LEVEL or discovery.type, got "BAD NAME"`,
                'mounts[0].hostPath: "/var/run/docker.sock" is the Docker socket, which gives root on the node; set allowDockerSocket: true if that is intended',
                'mounts[1]: target "/sock" is already used by mounts[0]; each path can be mounted once',
            ]));

        it("rejects a bad health check", () =>
            rejectedOnly("x", () => ({ image: "i", healthCheck: { command: "  ", interval: "10 seconds" } }), [
                'healthCheck.command: expected a non-empty command array or shell string, got "  "',
                'healthCheck.interval: expected a duration such as "500ms", "10s" or "1m30s", got "10 seconds"',
            ]));

        it("rejects a memory limit under 1 MiB, which the engine would take as no limit", () =>
            rejectedOnly("x", () => ({ image: "i", limits: { memory: "512k" } }), [
                'limits.memory: expected at least "1m" (containers take whole MiB), got "512k"',
            ]));

        it("rejects bad limits", () =>
            rejectedOnly("x", () => ({ image: "i", limits: { memory: "lots", cpus: -1 } }), [
                "limits.cpus: expected a positive number of CPUs such as 0.5, got -1",
                'limits.memory: expected a size in bytes or a string such as "256m" or "1g", got "lots"',
            ]));

        it("names the component's name, not a serviceName it does not have, when the name is unusable", () =>
            rejectedOnly("my app", () => ({ image: "i" }), [
                `name: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "my app"`,
            ]));
    });
});
