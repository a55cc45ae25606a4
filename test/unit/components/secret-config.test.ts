import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, errorOf, isSecretValue, one, resetRecorder, reveal, settle, valueOf } from "../harness";

describe("Secret", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    async function nameFor(data: string, name = "token") {
        const s = new c.Secret(name, { data });
        const secretName = await valueOf(s.secretName);
        await settle();
        return { s, secretName };
    }

    it("creates one Swarm secret with base64 data sent as a secret, created before the old one is deleted", async () => {
        const { s, secretName } = await nameFor("hunter2");
        assert.match(secretName, /^token-[0-9a-f]{12}$/);
        assert.deepStrictEqual(childrenOf(one("dockyard:swarm:Secret", "token").urn), ["docker:index/secret:Secret token-secret"]);
        const child = one("docker:index/secret:Secret", "token-secret");
        assert.ok(isSecretValue(child.inputs.data));
        assert.strictEqual(reveal(child.inputs.data), Buffer.from("hunter2").toString("base64"));
        assert.strictEqual(child.inputs.name, secretName);
        assert.strictEqual(child.deleteBeforeReplace, false);
        assert.deepStrictEqual(child.additionalSecretOutputs, ["data"], "the provider keeps the data secret in state");
        assert.strictEqual(s.logicalName, "token");
    });

    it("keeps its name readable in previews (not secret)", async () => {
        const s = new c.Secret("token", { data: pulumi.secret("hunter2") });
        assert.strictEqual(await pulumi.isSecret(s.secretName), false);
    });

    it("changes its name exactly when the data changes", async () => {
        const a = (await nameFor("v1")).secretName;
        resetRecorder();
        const b = (await nameFor("v1")).secretName;
        resetRecorder();
        const d = (await nameFor("v2")).secretName;
        assert.strictEqual(a, b);
        assert.notStrictEqual(a, d);
        resetRecorder();
        assert.notStrictEqual((await nameFor("v1", "other")).secretName.slice(-12), a.slice(-12), "the hash is salted with the name");
    });

    it("rejects empty data and bad names without quoting the value", () => {
        assert.strictEqual(errorOf(() => new c.Secret("bad/name", { data: "" })), [
            'Secret "bad/name" has 2 invalid argument problems:',
            "  - name: expected 1-50 letters, digits, '_', '.' or '-', got \"bad/name\"",
            '  - data: expected a non-empty value, got "[secret]"',
        ].join("\n"));
    });
});

describe("Config", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    it("creates one Swarm config with plain-text data and a content-addressed name", async () => {
        const cfg = new c.Config("nginx", { data: "worker_processes 1;" });
        const name = await valueOf(cfg.configName);
        await settle();
        assert.match(name, /^nginx-[0-9a-f]{12}$/);
        const child = one("docker:index/serviceConfig:ServiceConfig", "nginx-config");
        assert.strictEqual(child.parent, one("dockyard:swarm:Config", "nginx").urn);
        assert.deepStrictEqual(child.inputs, {
            name,
            dataRaw: "worker_processes 1;",
            labels: [{ label: "dockyard.managed", value: "true" }, { label: "dockyard.component", value: "nginx" }],
        });
        assert.strictEqual(child.deleteBeforeReplace, false);
        resetRecorder();
        assert.notStrictEqual(await valueOf(new c.Config("nginx", { data: "worker_processes 2;" }).configName), name);
    });
});
