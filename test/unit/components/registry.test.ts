import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as bcrypt from "bcryptjs";
import { childrenOf, isSecretValue, one, plaintextLeaks, registered, resetRecorder, reveal, settle, valueOf } from "../harness";
import { cleanTempDirs, labels, problemText, rejection, runScript, urnOfError } from "./helpers";
// Internals the package does not export, tested from their source.
import * as impl from "../../../components/registry";

const COMMAND = "command:local:Command";
const REGISTRY = "dockyard:registry:Registry";
const DOCKER_SERVICE = "docker:index/service:Service";
const DOCKER_SECRET = "docker:index/secret:Secret";


describe("Registry", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);
    after(cleanTempDirs);

    describe("external", () => {
        async function build(name: string, args: Omit<import("../../../components").ExternalRegistryArgs, "kind">) {
            const r = new c.Registry(name, { kind: c.RegistryKind.External, ...args });
            await valueOf(r.ready);
            await valueOf(r.serviceAuth);
            await settle();
            return { r, component: one(REGISTRY, name) };
        }

        it("with credentials: one login command, whose environment is secret, and secret outputs", async () => {
            const { r, component } = await build("ghcr", { server: "ghcr.io", username: "bot", password: "pw-123" });
            assert.deepStrictEqual(childrenOf(component.urn), [`${COMMAND} ghcr-login`]);
            assert.deepStrictEqual(registered().map((x) => `${x.type} ${x.name}`), [`${REGISTRY} ghcr`, `${COMMAND} ghcr-login`]);
            const login = one(COMMAND, "ghcr-login");
            assert.strictEqual(login.parent, component.urn);
            assert.deepStrictEqual(Object.keys(login.inputs).sort(), ["create", "environment", "logging", "triggers"]);
            assert.strictEqual(login.inputs.create, 'sh -c "$DOCKYARD_SCRIPT"');
            assert.strictEqual(login.inputs.logging, "stderr");
            assert.deepStrictEqual(login.inputs.triggers, ["ghcr.io", "bot"]);
            assert.strictEqual(isSecretValue(login.inputs.environment), true);
            assert.deepStrictEqual(reveal(login.inputs.environment), {
                DOCKYARD_SCRIPT: impl.LOGIN_SCRIPT,
                REGISTRY_SERVER: "ghcr.io",
                REGISTRY_USERNAME: "bot",
                REGISTRY_PASSWORD: "pw-123",
            });
            assert.deepStrictEqual(login.additionalSecretOutputs, ["environment"]);
            assert.deepStrictEqual(plaintextLeaks("pw-123"), []);

            assert.strictEqual(r.kind, "external");
            assert.strictEqual(r.service, undefined);
            assert.strictEqual(await valueOf(r.server), "ghcr.io");
            assert.strictEqual(await valueOf(r.ready), "ghcr.io");
            assert.strictEqual(await valueOf(r.username), "bot");
            assert.deepStrictEqual({ value: await valueOf(r.password), secret: await pulumi.isSecret(r.password) }, { value: "pw-123", secret: true });
            assert.deepStrictEqual(
                { value: await valueOf(r.serviceAuth), secret: await pulumi.isSecret(r.serviceAuth) },
                { value: { serverAddress: "ghcr.io", username: "bot", password: "pw-123" }, secret: true },
            );
        });

        it("keeps a password given as a secret secret, and the user name readable", async () => {
            const { r } = await build("ghcr", { server: "ghcr.io", username: "bot", password: pulumi.secret("pw-123") });
            assert.strictEqual(await pulumi.isSecret(r.password), true);
            assert.strictEqual(await pulumi.isSecret(r.username), false);
            assert.strictEqual(isSecretValue(one(COMMAND, "ghcr-login").inputs.environment), true);
        });

        it("anonymous: no children, no pull credentials, ready at once", async () => {
            const { r, component } = await build("hub", { server: "registry.example.com:5000" });
            assert.deepStrictEqual(childrenOf(component.urn), []);
            assert.deepStrictEqual(registered().map((x) => `${x.type} ${x.name}`), [`${REGISTRY} hub`]);
            assert.strictEqual(await valueOf(r.serviceAuth), undefined);
            assert.strictEqual(await valueOf(r.password), undefined);
            assert.strictEqual(await valueOf(r.username), undefined);
            assert.strictEqual(await valueOf(r.ready), "registry.example.com:5000");
        });

        it("anonymous with verifyCredentials false: no children either", async () => {
            const { component } = await build("hub", { server: "docker.io", verifyCredentials: false });
            assert.deepStrictEqual(childrenOf(component.urn), []);
        });

        it("with credentials but verifyCredentials false: no login command, pull credentials still secret", async () => {
            const { r, component } = await build("ecr", { server: "123.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", password: "tok", verifyCredentials: false });
            assert.deepStrictEqual(childrenOf(component.urn), []);
            assert.deepStrictEqual(registered().map((x) => x.type), [REGISTRY]);
            assert.strictEqual(await valueOf(r.ready), "123.dkr.ecr.eu-west-1.amazonaws.com");
            assert.deepStrictEqual(
                { value: await valueOf(r.serviceAuth), secret: await pulumi.isSecret(r.serviceAuth) },
                { value: { serverAddress: "123.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", password: "tok" }, secret: true },
            );
        });

        it("rejects half credentials, a server with a scheme and a user name with ':', all at once", async () => {
            const err = rejection(() => new c.Registry("r", { kind: c.RegistryKind.External, server: "https://ghcr.io", username: "a:b" }));
            assert.ok(err instanceof pulumi.ResourceError);
            assert.strictEqual(err.message, problemText("Registry", "r", [
                "username/password: give both or neither",
                'server: expected a registry host such as "ghcr.io" or "registry.example.com:5000" (no scheme, no path), got "https://ghcr.io"',
                `username: expected a user name without ':' or spaces, got "a:b"`,
            ]));
            assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:registry:Registry::r");
            await settle();
            assert.deepStrictEqual(registered().map((x) => `${x.type} ${x.name}`), [`${REGISTRY} r`]);
        });

        it("rejects verifyCredentials without credentials (the login could only fail)", () => {
            assert.strictEqual(rejection(() => new c.Registry("r", { kind: c.RegistryKind.External, server: "ghcr.io", verifyCredentials: true })).message,
                problemText("Registry", "r", ["verifyCredentials: true needs username and password; anonymous access has nothing to verify"]));
        });

        it("rejects an unknown kind and reports nothing else", () => {
            assert.strictEqual(rejection(() => new c.Registry("r", { kind: "cloud", server: "x y" } as any)).message,
                problemText("Registry", "r", ['kind: expected one of "external", "self-hosted", got "cloud"']));
        });
    });

    describe("self-hosted", () => {
        async function build(name: string, args: Omit<import("../../../components").SelfHostedRegistryArgs, "kind"> = {}) {
            const r = new c.Registry(name, { kind: c.RegistryKind.SelfHosted, ...args });
            await valueOf(r.ready);
            await valueOf(r.serviceAuth);
            await settle();
            return { r, component: one(REGISTRY, name), service: one(DOCKER_SERVICE, `${name}-service`) };
        }

        it("anonymous: a retained data volume and a registry service on 127.0.0.1:5000", async () => {
            const { r, component, service } = await build("reg");
            assert.deepStrictEqual(childrenOf(component.urn), ["dockyard:swarm:Service reg", "dockyard:volume:Volume reg-data"]);
            const svcComponent = one("dockyard:swarm:Service", "reg");
            assert.strictEqual(service.parent, svcComponent.urn);
            assert.deepStrictEqual(childrenOf(svcComponent.urn), [`${COMMAND} reg-converged`, `${DOCKER_SERVICE} reg-service`]);
            const volume = one("docker:index/volume:Volume", "reg-data-volume");
            assert.deepStrictEqual([volume.inputs.name, volume.retainOnDelete, volume.protect], ["reg-data", true, false]);
            assert.deepStrictEqual(registered().map((x) => x.type).sort(), [
                COMMAND, COMMAND, DOCKER_SERVICE, "docker:index/volume:Volume", REGISTRY, "dockyard:swarm:Service", "dockyard:volume:Volume",
            ]);

            const spec = service.inputs;
            assert.strictEqual(spec.name, "reg");
            assert.strictEqual("auth" in spec, false);
            assert.deepStrictEqual(spec.taskSpec.containerSpec, {
                image: "dockyard/registry:2.8.2",
                env: {
                    REGISTRY_HTTP_ADDR: "0.0.0.0:5000",
                    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry",
                    REGISTRY_STORAGE_DELETE_ENABLED: "true",
                },
                readOnly: false,
                secrets: [],
                mounts: [{ type: "volume", source: "reg-data", target: "/var/lib/registry", readOnly: false }],
                healthcheck: { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:5000/ || exit 1"], interval: "5s", timeout: "3s", retries: 3, startPeriod: "5s" },
                stopGracePeriod: "0s", init: false, dnsConfig: { nameservers: [] },
            });
            assert.deepStrictEqual(spec.endpointSpec, { mode: "vip", ports: [{ targetPort: 5000, publishedPort: 5000, protocol: "tcp", publishMode: "ingress" }] });
            assert.deepStrictEqual(spec.updateConfig, { parallelism: 1, delay: "5s", monitor: "30s", maxFailureRatio: "0", order: "stop-first", failureAction: "rollback" });
            assert.deepStrictEqual(spec.rollbackConfig, { parallelism: 1, delay: "5s", monitor: "30s", maxFailureRatio: "0", order: "stop-first", failureAction: "pause" });
            assert.deepStrictEqual(spec.labels, labels("reg"));
            assert.deepStrictEqual(service.dependencies, [one("docker:index/volume:Volume", "reg-data-volume").urn, one(COMMAND, "reg-data-node").urn]);

            assert.strictEqual(r.kind, "self-hosted");
            assert.strictEqual(r.service instanceof c.Service, true);
            assert.strictEqual(await valueOf(r.server), "127.0.0.1:5000");
            assert.strictEqual(await valueOf(r.ready), "127.0.0.1:5000");
            assert.strictEqual(await valueOf(r.serviceAuth), undefined);
        });

        it("with credentials: an htpasswd secret mounted at /run/secrets/htpasswd and basic auth turned on", async () => {
            const { r, component, service } = await build("reg", { username: "admin", password: "s3cret" });
            assert.deepStrictEqual(childrenOf(component.urn), [
                "dockyard:swarm:Secret reg-htpasswd",
                "dockyard:swarm:Service reg",
                "dockyard:volume:Volume reg-data",
            ]);
            const secret = one(DOCKER_SECRET, "reg-htpasswd-secret");
            const c0 = service.inputs.taskSpec.containerSpec;
            assert.deepStrictEqual(c0.env, {
                REGISTRY_HTTP_ADDR: "0.0.0.0:5000",
                REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry",
                REGISTRY_STORAGE_DELETE_ENABLED: "true",
                REGISTRY_AUTH: "htpasswd",
                REGISTRY_AUTH_HTPASSWD_REALM: "reg registry",
                REGISTRY_AUTH_HTPASSWD_PATH: "/run/secrets/htpasswd",
            });
            assert.deepStrictEqual(c0.secrets, [{
                secretId: "reg-htpasswd-secret-id",
                secretName: secret.inputs.name,
                fileName: "/run/secrets/htpasswd",
                fileUid: "0",
                fileGid: "0",
                fileMode: 0o444,
            }]);
            assert.match(secret.inputs.name, /^reg-htpasswd-[0-9a-f]{12}$/);

            assert.strictEqual(isSecretValue(secret.inputs.data), true);
            const line = Buffer.from(reveal(secret.inputs.data), "base64").toString("utf8");
            assert.strictEqual(line, impl.htpasswdLine("admin", "s3cret"));
            assert.match(line, /^admin:\$2b\$10\$[./A-Za-z0-9]{53}\n$/);
            assert.strictEqual(bcrypt.compareSync("s3cret", line.trim().slice("admin:".length)), true);
            assert.strictEqual(bcrypt.compareSync("wrong", line.trim().slice("admin:".length)), false);
            assert.deepStrictEqual(plaintextLeaks("s3cret"), []);

            assert.deepStrictEqual(
                { value: await valueOf(r.serviceAuth), secret: await pulumi.isSecret(r.serviceAuth) },
                { value: { serverAddress: "127.0.0.1:5000", username: "admin", password: "s3cret" }, secret: true },
            );
            assert.strictEqual(await pulumi.isSecret(r.password), true);
            assert.deepStrictEqual([...service.dependencies].sort(), [
                secret.urn,
                one("docker:index/volume:Volume", "reg-data-volume").urn,
                one(COMMAND, "reg-data-node").urn,
            ].sort());
        });

        it("with TLS: certificate and key as two more secrets, the TLS env vars and an HTTPS health check", async () => {
            const { component, service } = await build("reg", { tls: { certificate: "CERT", key: "KEY" }, port: 5443 });
            assert.deepStrictEqual(childrenOf(component.urn), [
                "dockyard:swarm:Secret reg-tls-cert",
                "dockyard:swarm:Secret reg-tls-key",
                "dockyard:swarm:Service reg",
                "dockyard:volume:Volume reg-data",
            ]);
            const cert = one(DOCKER_SECRET, "reg-tls-cert-secret");
            const key = one(DOCKER_SECRET, "reg-tls-key-secret");
            assert.deepStrictEqual([reveal(cert.inputs.data), reveal(key.inputs.data)], [Buffer.from("CERT").toString("base64"), Buffer.from("KEY").toString("base64")]);
            assert.deepStrictEqual([isSecretValue(cert.inputs.data), isSecretValue(key.inputs.data)], [true, true]);
            const spec = service.inputs.taskSpec.containerSpec;
            assert.deepStrictEqual(spec.env, {
                REGISTRY_HTTP_ADDR: "0.0.0.0:5443",
                REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry",
                REGISTRY_STORAGE_DELETE_ENABLED: "true",
                REGISTRY_HTTP_TLS_CERTIFICATE: "/run/secrets/tls.crt",
                REGISTRY_HTTP_TLS_KEY: "/run/secrets/tls.key",
            });
            assert.deepStrictEqual(spec.secrets.map((s: any) => [s.secretId, s.fileName]), [
                ["reg-tls-cert-secret-id", "/run/secrets/tls.crt"],
                ["reg-tls-key-secret-id", "/run/secrets/tls.key"],
            ]);
            assert.deepStrictEqual(spec.healthcheck.tests, ["CMD-SHELL", "wget -q -O /dev/null --no-check-certificate https://127.0.0.1:5443/ || exit 1"]);
            assert.deepStrictEqual(service.inputs.endpointSpec.ports, [{ targetPort: 5443, publishedPort: 5443, protocol: "tcp", publishMode: "ingress" }]);
        });

        it("credentials and TLS together: three secrets, htpasswd first", async () => {
            const { component, service } = await build("reg", { username: "admin", password: "pw", tls: { certificate: "C", key: "K" } });
            assert.deepStrictEqual(childrenOf(component.urn).filter((x) => x.startsWith("dockyard:swarm:Secret")), [
                "dockyard:swarm:Secret reg-htpasswd",
                "dockyard:swarm:Secret reg-tls-cert",
                "dockyard:swarm:Secret reg-tls-key",
            ]);
            assert.deepStrictEqual(service.inputs.taskSpec.containerSpec.secrets.map((s: any) => s.fileName),
                ["/run/secrets/htpasswd", "/run/secrets/tls.crt", "/run/secrets/tls.key"]);
        });

        it("uses a given volume, image, address, port, publish mode, endpoint mode and constraints", async () => {
            const store = new c.Volume("images", { deletion: c.VolumeDeletion.Protect });
            const { r, component, service } = await build("reg", {
                volume: store,
                image: "registry:2",
                address: "registry.internal:6000",
                port: 6000,
                publishMode: c.PublishMode.Host,
                endpointMode: c.EndpointMode.Dnsrr,
                constraints: ["node.labels.registry==true"],
            });
            assert.deepStrictEqual(childrenOf(component.urn), ["dockyard:swarm:Service reg"]);
            const spec = service.inputs;
            assert.strictEqual(spec.taskSpec.containerSpec.image, "registry:2");
            assert.deepStrictEqual(spec.taskSpec.containerSpec.mounts, [{ type: "volume", source: "images", target: "/var/lib/registry", readOnly: false }]);
            assert.deepStrictEqual(spec.taskSpec.placement, { constraints: ["node.labels.registry==true"], prefs: [], maxReplicas: 0 });
            assert.deepStrictEqual(spec.endpointSpec, { mode: "dnsrr", ports: [{ targetPort: 6000, publishedPort: 6000, protocol: "tcp", publishMode: "host" }] });
            assert.strictEqual(spec.taskSpec.containerSpec.env.REGISTRY_HTTP_ADDR, "0.0.0.0:6000");
            assert.strictEqual(await valueOf(r.server), "registry.internal:6000");
        });

        it("rejects a bad port, address and publish mode together, registering only the component", async () => {
            const err = rejection(() => new c.Registry("r", {
                kind: c.RegistryKind.SelfHosted, port: 70000, address: "http://x", publishMode: "mesh" as any, password: "p",
            }));
            assert.strictEqual(err.message, problemText("Registry", "r", [
                "username/password: give both or neither",
                "port: expected a port from 1 to 65535, got 70000",
                'publishMode: expected one of "ingress", "host", got "mesh"',
                'address: expected a registry host such as "ghcr.io" or "registry.example.com:5000" (no scheme, no path), got "http://x"',
            ]));
            await settle();
            assert.deepStrictEqual(registered().map((x) => `${x.type} ${x.name}`), [`${REGISTRY} r`]);
        });
    });

    describe("htpasswdLine", () => {
        it("is deterministic for the same user and password, so the secret does not rotate", () => {
            assert.strictEqual(impl.htpasswdLine("admin", "pw"), impl.htpasswdLine("admin", "pw"));
        });
        it("changes with the password and with the user", () => {
            const base = impl.htpasswdLine("admin", "pw");
            assert.notStrictEqual(impl.htpasswdLine("admin", "pw2"), base);
            assert.notStrictEqual(impl.htpasswdLine("root", "pw").slice("root:".length), base.slice("admin:".length));
        });
        it("is one bcrypt line that verifies with bcryptjs", () => {
            const line = impl.htpasswdLine("ci-bot", "correct horse battery staple");
            assert.match(line, /^ci-bot:\$2b\$10\$[./A-Za-z0-9]{53}\n$/);
            assert.strictEqual(bcrypt.compareSync("correct horse battery staple", line.slice("ci-bot:".length, -1)), true);
        });
    });

    describe("login script (run against a fake docker)", () => {
        const env = { REGISTRY_SERVER: "ghcr.io", REGISTRY_USERNAME: "bot", REGISTRY_PASSWORD: "pw-123" };

        it("logs in once with the password on stdin and a throw-away Docker config, silently", () => {
            const r = runScript(impl.LOGIN_SCRIPT, env);
            assert.deepStrictEqual([r.status, r.stdout, r.stderr], [0, "", ""]);
            assert.deepStrictEqual(r.calls, [["login", "--username", "bot", "--password-stdin", "ghcr.io"]]);
            assert.deepStrictEqual(r.stdin, { 0: "pw-123" });
            assert.notStrictEqual(r.env[0].config, "unset");
            assert.deepStrictEqual(r.leftoverConfigDirs, [], "the temporary Docker config is removed");
        });

        it("turns a 401 into one line naming the registry and user, without the password", () => {
            const r = runScript(impl.LOGIN_SCRIPT, { ...env, REGISTRY_PASSWORD: "wrong" }, {
                fail: "login",
                failOutput: 'Error response from daemon: Get "https://ghcr.io/v2/": unauthorized: authentication required\n',
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stdout, "");
            assert.strictEqual(r.stderr, "dockyard: authentication to registry ghcr.io failed for user bot: check the username and password\n");
            assert.deepStrictEqual(r.leftoverConfigDirs, []);
        });

        it("gives the same message when the script runs under bash instead of sh", () => {
            const r = runScript('exec bash --norc -c "$LOGIN"', { ...env, LOGIN: impl.LOGIN_SCRIPT, REGISTRY_PASSWORD: "wrong" }, {
                fail: "login",
                failOutput: "Error response from daemon: login attempt to https://ghcr.io/v2/ failed with status: 401 Unauthorized\n",
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, "dockyard: authentication to registry ghcr.io failed for user bot: check the username and password\n");
            assert.deepStrictEqual(r.calls, [["login", "--username", "bot", "--password-stdin", "ghcr.io"]]);
        });

        it("recognises Docker Hub's wording for wrong credentials", () => {
            const r = runScript(impl.LOGIN_SCRIPT, { ...env, REGISTRY_SERVER: "docker.io" }, {
                fail: "login",
                failOutput: "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": incorrect username or password\n",
            });
            assert.deepStrictEqual([r.status, r.stderr], [1, "dockyard: authentication to registry docker.io failed for user bot: check the username and password\n"]);
        });

        it("passes any other failure through with the registry named", () => {
            const r = runScript(impl.LOGIN_SCRIPT, { ...env, REGISTRY_SERVER: "registry.example.com:5000" }, {
                fail: "login",
                failOutput: "Error response from daemon: Get \"https://registry.example.com:5000/v2/\": dial tcp: lookup registry.example.com: no such host\n",
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, 'dockyard: cannot log in to registry registry.example.com:5000: Error response from daemon: Get "https://registry.example.com:5000/v2/": dial tcp: lookup registry.example.com: no such host\n');
        });
    });
});
