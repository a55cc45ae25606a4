import * as assert from "assert";
import { childrenOf, isSecretValue, one, registered, resetRecorder, reveal, settle, valueOf } from "../harness";

describe("harness smoke", () => {
    let c: typeof import("../../../components");
    before(async () => {
        c = await import("../../../components");
    });
    beforeEach(resetRecorder);

    it("records a secret and its parent", async () => {
        const s = new c.Secret("token", { data: "hunter2" });
        await valueOf(s.secretName);
        await settle();
        const child = one("docker:index/secret:Secret", "token-secret");
        const comp = one("dockyard:swarm:Secret", "token");
        assert.strictEqual(child.parent, comp.urn);
        assert.ok(isSecretValue(child.inputs.data), JSON.stringify(child.inputs));
        assert.strictEqual(reveal(child.inputs.data), Buffer.from("hunter2").toString("base64"));
        assert.deepStrictEqual(childrenOf(comp.urn), ["docker:index/secret:Secret token-secret"]);
        console.log(registered().map((r) => r.type + " " + r.name + " " + JSON.stringify(r.inputs.name)));
    });
});
