import { one, registered, resetRecorder, settle, valueOf, mockState, childrenOf } from "../harness";
describe("scratch", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);
    it("x", async () => {
        mockState("command:local:Command", () => ({ stdout: "x\n127.0.0.1:5000/app@sha256:abc\n" }));
        const r = new c.Registry("hub", { kind: c.RegistryKind.External, server: "docker.io" });
        const img = new c.Image("app", { context: "/work/main/app", repository: "app", registry: r });
        const s = new c.Service("web", { image: img });
        await valueOf(s.serviceId);
        await settle();
        for (const x of registered()) console.log(x.type, x.name, JSON.stringify(x.inputs).slice(0, 300), x.dependencies, x.parent);
        mockState("command:local:Command", undefined);
    });
    it("bad", async () => {
        let err: any;
        try { new c.Service("s", { image: "i", replicas: 2, global: true }); } catch (e) { err = e; }
        console.log(err.constructor.name, JSON.stringify(err.message), err.resource?.constructor.name);
        await settle();
        console.log(registered().map((r) => r.type + " " + r.name));
    });
});
