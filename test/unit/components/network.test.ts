import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, one, registered, resetRecorder, settle, valueOf } from "../harness";
import { labels, problemText, rejection, urnOfError } from "./helpers";

const NETWORK = "docker:index/network:Network";

describe("Network", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    async function build(name: string, args?: import("../../../components").NetworkArgs) {
        const n = new c.Network(name, args);
        await valueOf(n.networkId);
        await settle();
        return { n, component: one("dockyard:network:Network", name), child: one(NETWORK, `${name}-network`) };
    }

    it("defaults to an attachable, non-internal overlay network named after the component", async () => {
        const { n, component, child } = await build("backend");
        assert.deepStrictEqual(childrenOf(component.urn), [`${NETWORK} backend-network`]);
        assert.strictEqual(child.parent, component.urn);
        assert.strictEqual(registered().length, 2);
        assert.deepStrictEqual(child.inputs, {
            name: "backend",
            driver: "overlay",
            attachable: true,
            internal: false,
            labels: labels("backend"),
        });
        assert.deepStrictEqual([n.driver, n.attachable], ["overlay", true]);
        assert.strictEqual(await valueOf(n.networkName), "backend");
        assert.strictEqual(await valueOf(n.networkId), "backend-network-id");
    });

    it("overlay networks can be made non-attachable", async () => {
        const { n, child } = await build("svc-only", { attachable: false });
        assert.strictEqual(child.inputs.attachable, false);
        assert.strictEqual(n.attachable, false);
    });

    it("bridge networks send no attachable key and report themselves attachable", async () => {
        const { n, child } = await build("lan", { driver: c.NetworkDriver.Bridge });
        assert.deepStrictEqual(child.inputs, { name: "lan", driver: "bridge", internal: false, labels: labels("lan") });
        assert.strictEqual("attachable" in child.inputs, false);
        assert.deepStrictEqual([n.driver, n.attachable], ["bridge", true]);
    });

    it("a subnet becomes one IPAM config, with the gateway when given", async () => {
        const { child } = await build("lan", { driver: c.NetworkDriver.Bridge, subnet: "10.20.0.0/24", gateway: "10.20.0.1", internal: true });
        assert.deepStrictEqual(child.inputs, {
            name: "lan",
            driver: "bridge",
            internal: true,
            ipamConfigs: [{ subnet: "10.20.0.0/24", gateway: "10.20.0.1" }],
            labels: labels("lan"),
        });
    });

    it("a subnet without a gateway leaves the gateway to Docker", async () => {
        const { child } = await build("backend", { subnet: "10.30.0.0/16" });
        assert.deepStrictEqual(child.inputs.ipamConfigs, [{ subnet: "10.30.0.0/16" }]);
    });

    it("encrypts overlay traffic on request, and sends no options otherwise", async () => {
        const { child } = await build("secure", { encrypted: true, networkName: "prod-secure", labels: { env: "prod" } });
        assert.deepStrictEqual(child.inputs, {
            name: "prod-secure",
            driver: "overlay",
            attachable: true,
            internal: false,
            options: { encrypted: "true" },
            labels: labels("secure", { env: "prod" }),
        });
        resetRecorder();
        const plain = await build("plain", { encrypted: false });
        assert.strictEqual("options" in plain.child.inputs, false);
    });

    it("rejects every bad argument at once, registering only the component", async () => {
        const err = rejection(() => new c.Network("n", {
            networkName: "bad name",
            driver: c.NetworkDriver.Bridge,
            subnet: "10.0.0.300/24",
            gateway: "10.0.0.1",
            attachable: true,
            encrypted: true,
        }));
        assert.ok(err instanceof pulumi.ResourceError);
        assert.strictEqual(err.message, problemText("Network", "n", [
            `networkName: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "bad name"`,
            'subnet: expected an IPv4 CIDR such as "10.20.0.0/24", got "10.0.0.300/24"',
            'attachable: only overlay networks take it, but driver is "bridge"',
            'encrypted: only overlay networks can be encrypted, but driver is "bridge"',
        ]));
        assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:network:Network::n");
        await settle();
        assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:network:Network n"]);
    });

    it("rejects an unknown driver, a prefix length over 32, a bad gateway and a gateway without a subnet", () => {
        assert.strictEqual(rejection(() => new c.Network("a", { driver: "macvlan" as any, subnet: "10.0.0.0/33" })).message, problemText("Network", "a", [
            'driver: expected one of "bridge", "overlay", got "macvlan"',
            'subnet: expected an IPv4 CIDR such as "10.20.0.0/24", got "10.0.0.0/33"',
        ]));
        assert.strictEqual(rejection(() => new c.Network("b", { gateway: "10.0.0.256" })).message, problemText("Network", "b", [
            'gateway: expected an IPv4 address such as "10.20.0.1", got "10.0.0.256"',
            'gateway: "10.0.0.256" needs a subnet to live in; set subnet too',
        ]));
    });
});
