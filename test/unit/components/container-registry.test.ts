import * as assert from "assert";
import * as bcrypt from "bcryptjs";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, errorOf, isSecretValue, one, resetRecorder, reveal, settle, valueOf } from "../harness";

describe("Container", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    it("runs one container with safe defaults, bound to loopback, replaced stop-first only when it publishes ports", async () => {
        const net = new c.Network("lan", { driver: c.NetworkDriver.Bridge });
        const ct = new c.Container("web", {
            image: "web:1", ports: [{ target: 8080 }], networks: [net], env: { A: "1" },
            healthCheck: { command: ["true"] }, limits: { memory: "128m", cpus: 0.5 },
        });
        await valueOf(ct.containerName);
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:container:Container", "web").urn), ["docker:index/container:Container web-container"]);
        const child = one("docker:index/container:Container", "web-container");
        assert.deepStrictEqual(child.inputs, {
            image: "web:1",
            envs: ["A=1"],
            networksAdvanced: [{ name: "lan" }],
            ports: [{ internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" }],
            healthcheck: { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" },
            restart: "unless-stopped",
            memory: 128,
            cpus: "0.5",
            labels: [{ label: "dockyard.managed", value: "true" }, { label: "dockyard.component", value: "web" }],
            readOnly: false,
            privileged: false,
            wait: true,
            waitTimeout: 120,
            mustRun: true,
        });
        assert.strictEqual(child.deleteBeforeReplace, true);
        assert.deepStrictEqual(await valueOf(ct.endpoints), ["127.0.0.1:8080"]);
    });

    it("starts the replacement first when no port is published", async () => {
        await valueOf(new c.Container("worker", { image: "w:1" }).containerName);
        await settle();
        const child = one("docker:index/container:Container", "worker-container");
        assert.deepStrictEqual([child.deleteBeforeReplace, child.inputs.wait], [false, false]);
    });

    it("rejects a port twice, a bad restart policy and an overlay network that is not attachable", () => {
        const net = new c.Network("o", { attachable: false });
        assert.strictEqual(errorOf(() => new c.Container("x", { image: "i", restart: "sometimes" as any, ports: [{ target: 80 }, { target: 80 }], networks: [net] })), [
            'Container "x" has 3 invalid argument problems:',
            '  - restart: expected one of "no", "on-failure", "always", "unless-stopped", got "sometimes"',
            "  - ports[1]: 127.0.0.1:80/tcp is already published by ports[0]; publish each port once",
            "  - networks[0]: plain containers can join bridge networks or attachable overlay networks only",
        ].join("\n"));
    });
});

describe("Registry", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    it("external with credentials: checks the login once, keeps the password and pull auth secret", async () => {
        const r = new c.Registry("ghcr", { kind: c.RegistryKind.External, server: "ghcr.io", username: "bot", password: "pw-123" });
        assert.strictEqual(await valueOf(r.ready), "ghcr.io");
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:registry:Registry", "ghcr").urn), ["command:local:Command ghcr-login"]);
        assert.strictEqual(await pulumi.isSecret(r.password), true);
        assert.strictEqual(await pulumi.isSecret(r.serviceAuth), true);
        assert.deepStrictEqual(await valueOf(r.serviceAuth), { serverAddress: "ghcr.io", username: "bot", password: "pw-123" });
        const login = one("command:local:Command", "ghcr-login");
        assert.ok(isSecretValue(login.inputs.environment));
        assert.strictEqual(reveal(login.inputs.environment).REGISTRY_PASSWORD, "pw-123");
    });

    it("external anonymous: no children, no pull auth", async () => {
        const r = new c.Registry("hub", { kind: c.RegistryKind.External, server: "registry.example.com:5000" });
        assert.strictEqual(await valueOf(r.serviceAuth), undefined);
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:registry:Registry", "hub").urn), []);
    });

    it("self-hosted with auth and TLS: a volume, three secrets and a stop-first service", async () => {
        const r = new c.Registry("reg", {
            kind: c.RegistryKind.SelfHosted, username: "admin", password: "s3cret", tls: { certificate: "CERT", key: "KEY" }, port: 5443,
        });
        assert.strictEqual(await valueOf(r.server), "127.0.0.1:5443");
        await valueOf(r.ready);
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:registry:Registry", "reg").urn), [
            "dockyard:swarm:Secret reg-htpasswd",
            "dockyard:swarm:Secret reg-tls-cert",
            "dockyard:swarm:Secret reg-tls-key",
            "dockyard:swarm:Service reg",
            "dockyard:volume:Volume reg-data",
        ]);
        const svc = one("docker:index/service:Service", "reg-service").inputs;
        assert.deepStrictEqual(svc.taskSpec.containerSpec.env, {
            REGISTRY_HTTP_ADDR: "0.0.0.0:5443",
            REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry",
            REGISTRY_STORAGE_DELETE_ENABLED: "true",
            REGISTRY_AUTH: "htpasswd",
            REGISTRY_AUTH_HTPASSWD_REALM: "reg registry",
            REGISTRY_AUTH_HTPASSWD_PATH: "/run/secrets/htpasswd",
            REGISTRY_HTTP_TLS_CERTIFICATE: "/run/secrets/tls.crt",
            REGISTRY_HTTP_TLS_KEY: "/run/secrets/tls.key",
        });
        assert.deepStrictEqual(svc.taskSpec.containerSpec.mounts, [{ type: "volume", source: "reg-data", target: "/var/lib/registry", readOnly: false }]);
        assert.deepStrictEqual([svc.updateConfig.order, svc.rollbackConfig.order], ["stop-first", "stop-first"]);
        const htpasswd = one("docker:index/secret:Secret", "reg-htpasswd-secret").inputs.data;
        assert.ok(isSecretValue(htpasswd));
        const line = Buffer.from(reveal(htpasswd), "base64").toString();
        assert.ok(line.startsWith("admin:$2b$10$") && line.endsWith("\n"), line);
        assert.ok(bcrypt.compareSync("s3cret", line.trim().slice("admin:".length)));
    });

    it("makes the same htpasswd line for the same password, so the secret does not rotate", () => {
        assert.strictEqual(c.htpasswdLine("admin", "pw"), c.htpasswdLine("admin", "pw"));
        assert.notStrictEqual(c.htpasswdLine("admin", "pw"), c.htpasswdLine("admin", "pw2"));
    });

    it("rejects half credentials and a server with a scheme", () => {
        assert.strictEqual(errorOf(() => new c.Registry("r", { kind: c.RegistryKind.External, server: "https://ghcr.io", username: "bot" })), [
            'Registry "r" has 2 invalid argument problems:',
            "  - username/password: give both or neither",
            '  - server: expected a registry host such as "ghcr.io" or "registry.example.com:5000" (no scheme, no path), got "https://ghcr.io"',
        ].join("\n"));
    });

    it("turns a registry's 401 into a message that names the registry and says authentication failed", () => {
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        fs.writeFileSync(path.join(bin, "docker"), '#!/bin/sh\ncat >/dev/null\necho "Error response from daemon: Get \\"https://ghcr.io/v2/\\": unauthorized: authentication required" >&2\nexit 1\n', { mode: 0o755 });
        const r = spawnSync("sh", ["-c", c.LOGIN_SCRIPT], {
            env: { PATH: `${bin}:${process.env.PATH}`, REGISTRY_SERVER: "ghcr.io", REGISTRY_USERNAME: "bot", REGISTRY_PASSWORD: "wrong" },
            encoding: "utf8",
        });
        fs.rmSync(bin, { recursive: true });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, "dockyard: authentication to registry ghcr.io failed for user bot: check the username and password\n");
        assert.ok(!r.stderr.includes("wrong"));
    });
});
