import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import { childrenOf, isSecretValue, one, registered, resetRecorder, reveal, settle, valueOf } from "../harness";
import { labels, problemText, rejection, urnOfError } from "./helpers";
// Internals the package does not export, tested from their source.
import * as impl from "../../../components/secret";

const DOCKER_SECRET = "docker:index/secret:Secret";
const DOCKER_CONFIG = "docker:index/serviceConfig:ServiceConfig";

/** `<name>-<hash>`, computed here independently of the component. */
function expectedName(name: string, data: string): string {
    return `${name}-${crypto.createHash("sha256").update(`dockyard\0${name}\0${data}\0`).digest("hex").slice(0, 12)}`;
}

describe("Secret", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    async function build(name: string, data: pulumi.Input<string>, extra: Record<string, string> = {}) {
        const s = new c.Secret(name, { data, labels: extra });
        const secretName = await valueOf(s.secretName);
        await settle();
        return { s, secretName, component: one("dockyard:swarm:Secret", name), child: one(DOCKER_SECRET, `${name}-secret`) };
    }

    it("creates exactly one Swarm secret, parented to the component", async () => {
        const { component, child } = await build("token", "hunter2");
        assert.deepStrictEqual(childrenOf(component.urn), [`${DOCKER_SECRET} token-secret`]);
        assert.strictEqual(child.parent, component.urn);
        assert.deepStrictEqual(registered().map((r) => r.type), ["dockyard:swarm:Secret", DOCKER_SECRET]);
    });

    it("sends the data base64-encoded and as a Pulumi secret, under a content-addressed name", async () => {
        const { s, secretName, child } = await build("token", "hunter2", { rotation: "manual" });
        assert.match(secretName, /^token-[0-9a-f]{12}$/);
        assert.deepStrictEqual(Object.keys(child.inputs).sort(), ["data", "labels", "name"]);
        assert.strictEqual(isSecretValue(child.inputs.data), true);
        assert.strictEqual(reveal(child.inputs.data), "aHVudGVyMg==");
        assert.strictEqual(child.inputs.name, secretName);
        assert.strictEqual(isSecretValue(child.inputs.name), false);
        assert.deepStrictEqual(child.inputs.labels, labels("token", { rotation: "manual" }));
        assert.strictEqual(await valueOf(s.secretId), "token-secret-id");
        assert.strictEqual(s.logicalName, "token");
    });

    it("creates the new version before deleting the old one, and keeps the data secret in state", async () => {
        const { child } = await build("token", "hunter2");
        assert.strictEqual(child.deleteBeforeReplace, false);
        assert.deepStrictEqual(child.additionalSecretOutputs, ["data"]);
    });

    it("keeps secretName readable in previews (not secret) even when the data is a secret", async () => {
        const { s, child } = await build("token", pulumi.secret("hunter2"));
        assert.strictEqual(await pulumi.isSecret(s.secretName), false);
        assert.strictEqual(await pulumi.isSecret(s.secretId), false);
        assert.strictEqual(isSecretValue(child.inputs.data), true);
        assert.strictEqual(isSecretValue(child.inputs.name), false);
    });

    it("treats plain-text data as a secret too", async () => {
        const { child } = await build("token", "plain-text");
        assert.strictEqual(isSecretValue(child.inputs.data), true);
    });

    // Each construction below is its own test, as in separate deployments; all compare with the
    // name computed independently here.
    const v1 = expectedName("token", "v1");
    it("names the data <name>-<first 12 hex of sha256 over the salt, name and data>", async () => {
        assert.strictEqual((await build("token", "v1")).secretName, v1);
    });
    it("gives the same data the same name (no rotation when nothing changed)", async () => {
        assert.strictEqual((await build("token", "v1")).secretName, v1);
    });
    it("gives changed data a new name (a rotation)", async () => {
        const changed = (await build("token", "v2")).secretName;
        assert.strictEqual(changed, expectedName("token", "v2"));
        assert.notStrictEqual(changed, v1);
    });
    it("salts the hash with the name, so equal values under two names do not look equal", async () => {
        const other = (await build("other", "v1")).secretName;
        assert.strictEqual(other, expectedName("other", "v1"));
        assert.notStrictEqual(other.slice(-12), v1.slice(-12));
    });

    it("matches contentAddressedName, which Config shares", async () => {
        const { secretName } = await build("token", "v1");
        assert.strictEqual(secretName, await valueOf(impl.contentAddressedName("token", "v1")));
    });

    it("rejects empty data and a bad name without quoting the value, registering only the component", async () => {
        const err = rejection(() => new c.Secret("bad/name", { data: "" }));
        assert.ok(err instanceof pulumi.ResourceError);
        assert.strictEqual(err.message, problemText("Secret", "bad/name", [
            `name: expected 1-50 letters, digits, '_', '.' or '-', starting with a letter or digit, got "bad/name"`,
            'data: expected a non-empty value, got "[secret]"',
        ]));
        assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:swarm:Secret::bad/name");
        await settle();
        assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:swarm:Secret bad/name"]);
    });

    it("rejects a name too long for the hash suffix (over 50 characters)", () => {
        const long = "s".repeat(51);
        assert.strictEqual(rejection(() => new c.Secret(long, { data: "x" })).message, problemText("Secret", long, [
            `name: expected 1-50 letters, digits, '_', '.' or '-', starting with a letter or digit, got "${long}"`,
        ]));
    });

    it("accepts a 50-character name", async () => {
        const { secretName } = await build("s".repeat(50), "x");
        assert.strictEqual(secretName.length, 63);
    });
});

describe("Config", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    async function build(name: string, data: pulumi.Input<string>, extra?: Record<string, string>) {
        const cfg = new c.Config(name, { data, labels: extra });
        const configName = await valueOf(cfg.configName);
        await settle();
        return { cfg, configName, component: one("dockyard:swarm:Config", name), child: one(DOCKER_CONFIG, `${name}-config`) };
    }

    it("creates exactly one Swarm config with plain-text dataRaw and a content-addressed name", async () => {
        const { cfg, configName, component, child } = await build("nginx", "worker_processes 1;", { app: "web" });
        assert.deepStrictEqual(childrenOf(component.urn), [`${DOCKER_CONFIG} nginx-config`]);
        assert.strictEqual(child.parent, component.urn);
        assert.match(configName, /^nginx-[0-9a-f]{12}$/);
        assert.deepStrictEqual(child.inputs, { name: configName, dataRaw: "worker_processes 1;", labels: labels("nginx", { app: "web" }) });
        assert.strictEqual(isSecretValue(child.inputs.dataRaw), false);
        assert.strictEqual(child.deleteBeforeReplace, false);
        assert.strictEqual(await valueOf(cfg.configId), "nginx-config-id");
        assert.strictEqual(await pulumi.isSecret(cfg.configName), false);
    });

    it("uses the same name scheme as a Secret with the same name and data", async () => {
        const { configName } = await build("app", "a: 1");
        assert.strictEqual(configName, await valueOf(impl.contentAddressedName("app", "a: 1")));
    });

    const v1 = expectedName("nginx", "worker_processes 1;");
    it("names version 1 of the file by its content", async () => {
        assert.strictEqual((await build("nginx", "worker_processes 1;")).configName, v1);
    });
    it("keeps the name when the file is unchanged", async () => {
        assert.strictEqual((await build("nginx", "worker_processes 1;")).configName, v1);
    });
    it("changes the name when the file changes", async () => {
        const changed = (await build("nginx", "worker_processes 2;")).configName;
        assert.strictEqual(changed, expectedName("nginx", "worker_processes 2;"));
        assert.notStrictEqual(changed, v1);
    });

    it("keeps a secret file secret but its name readable", async () => {
        const { cfg, child } = await build("creds", pulumi.secret("user: x"));
        assert.strictEqual(isSecretValue(child.inputs.dataRaw), true);
        assert.strictEqual(await pulumi.isSecret(cfg.configName), false);
    });

    it("rejects empty content and a bad name, quoting the content, registering only the component", async () => {
        const err = rejection(() => new c.Config("-x", { data: "" }));
        assert.ok(err instanceof pulumi.ResourceError);
        assert.strictEqual(err.message, problemText("Config", "-x", [
            `name: expected 1-50 letters, digits, '_', '.' or '-', starting with a letter or digit, got "-x"`,
            'data: expected non-empty file content, got ""',
        ]));
        await settle();
        assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:swarm:Config -x"]);
    });
});
