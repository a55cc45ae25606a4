import * as assert from "assert";
import { childrenOf, errorOf, one, registered, resetRecorder, settle, valueOf } from "../harness";

describe("Volume", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    it("creates one local volume named after the component, labelled, retained on delete", async () => {
        const v = new c.Volume("data");
        assert.strictEqual(await valueOf(v.volumeName), "data");
        await settle();
        const comp = one("dockyard:volume:Volume", "data");
        assert.deepStrictEqual(childrenOf(comp.urn), ["docker:index/volume:Volume data-volume"]);
        const vol = one("docker:index/volume:Volume", "data-volume");
        assert.deepStrictEqual(vol.inputs, {
            name: "data",
            driver: "local",
            labels: [{ label: "dockyard.managed", value: "true" }, { label: "dockyard.component", value: "data" }],
        });
        assert.deepStrictEqual([vol.retainOnDelete, vol.protect], [true, false]);
    });

    for (const [deletion, retain, protect] of [["protect", true, true], ["delete", false, false]] as const) {
        it(`deletion ${deletion}: retainOnDelete ${retain}, protect ${protect}`, async () => {
            const v = new c.Volume("db", { deletion: deletion as any, volumeName: "pg-data", driverOptions: { type: "tmpfs", device: "tmpfs" }, labels: { tier: "db" } });
            await valueOf(v.volumeName);
            await settle();
            const vol = one("docker:index/volume:Volume", "db-volume");
            assert.deepStrictEqual([vol.retainOnDelete, vol.protect], [retain, protect]);
            assert.strictEqual(vol.inputs.name, "pg-data");
            assert.deepStrictEqual(vol.inputs.driverOpts, { type: "tmpfs", device: "tmpfs" });
            assert.deepStrictEqual(vol.inputs.labels.at(-1), { label: "tier", value: "db" });
        });
    }

    it("rejects a bad name and deletion mode together, registering nothing below it", async () => {
        const msg = errorOf(() => new c.Volume("v", { volumeName: "-bad name", deletion: "never" as any }));
        assert.strictEqual(msg, [
            'Volume "v" has 2 invalid argument problems:',
            `  - volumeName: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "-bad name"`,
            '  - deletion: expected one of "retain", "protect", "delete", got "never"',
        ].join("\n"));
        await settle();
        assert.deepStrictEqual(registered().map((r) => r.type), ["dockyard:volume:Volume"]);
    });
});

describe("Network", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    it("defaults to an attachable overlay network", async () => {
        const n = new c.Network("backend");
        await valueOf(n.networkId);
        await settle();
        assert.deepStrictEqual(childrenOf(one("dockyard:network:Network", "backend").urn), ["docker:index/network:Network backend-network"]);
        assert.deepStrictEqual(one("docker:index/network:Network", "backend-network").inputs, {
            name: "backend",
            driver: "overlay",
            attachable: true,
            internal: false,
            labels: [{ label: "dockyard.managed", value: "true" }, { label: "dockyard.component", value: "backend" }],
        });
        assert.strictEqual(n.driver, "overlay");
    });

    it("bridge networks take a subnet and have no attachable key", async () => {
        const n = new c.Network("lan", { driver: c.NetworkDriver.Bridge, subnet: "10.20.0.0/24", gateway: "10.20.0.1", internal: true });
        await valueOf(n.networkId);
        await settle();
        const inputs = one("docker:index/network:Network", "lan-network").inputs;
        assert.strictEqual("attachable" in inputs, false);
        assert.deepStrictEqual(inputs.ipamConfigs, [{ subnet: "10.20.0.0/24", gateway: "10.20.0.1" }]);
        assert.strictEqual(inputs.internal, true);
        assert.strictEqual(n.attachable, true);
    });

    it("encrypts overlay traffic on request", async () => {
        const n = new c.Network("secure", { encrypted: true, attachable: false });
        await valueOf(n.networkId);
        await settle();
        const inputs = one("docker:index/network:Network", "secure-network").inputs;
        assert.deepStrictEqual([inputs.options, inputs.attachable], [{ encrypted: "true" }, false]);
    });

    it("rejects every bad argument at once", () => {
        const msg = errorOf(() => new c.Network("n", { driver: c.NetworkDriver.Bridge, subnet: "10.0.0.300/24", gateway: "10.0.0.1", attachable: true, encrypted: true }));
        assert.strictEqual(msg, [
            'Network "n" has 3 invalid argument problems:',
            '  - subnet: expected an IPv4 CIDR such as "10.20.0.0/24", got "10.0.0.300/24"',
            '  - attachable: only overlay networks take it, but driver is "bridge"',
            '  - encrypted: only overlay networks can be encrypted, but driver is "bridge"',
        ].join("\n"));
    });
});
