import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { childrenOf, mockState, one, registered, resetRecorder, settle, valueOf } from "../harness";
import { labels, problemText, rejection, urnOfError } from "./helpers";

const VOLUME = "docker:index/volume:Volume";

describe("Volume", () => {
    let c: typeof import("../../../components");
    before(async () => (c = await import("../../../components")));
    beforeEach(resetRecorder);

    before(() => mockState("command:local:Command", (args) => ({ stdout: args.name.endsWith("-node") ? "n0de1d\n" : "" })));
    after(() => mockState("command:local:Command", undefined));

    async function build(name: string, args?: import("../../../components").VolumeArgs) {
        const v = new c.Volume(name, args);
        await valueOf(v.volumeName);
        await settle();
        return { v, component: one("dockyard:volume:Volume", name), child: one(VOLUME, `${name}-volume`) };
    }

    it("creates exactly one local Docker volume named after the component, and the look-up of the node holding it, parented to it", async () => {
        const { v, component, child } = await build("data");
        assert.deepStrictEqual(childrenOf(component.urn), ["command:local:Command data-node", `${VOLUME} data-volume`]);
        assert.strictEqual(child.parent, component.urn);
        assert.strictEqual(registered().length, 3);
        const lookup = one("command:local:Command", "data-node");
        assert.deepStrictEqual(lookup.inputs, { create: 'docker info --format "{{.Swarm.NodeID}}"', triggers: ["data-volume-id"] });
        assert.deepStrictEqual(lookup.dependencies, [child.urn]);
        assert.strictEqual(await valueOf(v.node!), "n0de1d");
        assert.deepStrictEqual(child.inputs, { name: "data", driver: "local", labels: labels("data") });
        assert.strictEqual(await valueOf(v.volumeName), "data");
        assert.strictEqual(await valueOf(v.volume.urn), child.urn);
    });

    it("retains the data by default: retainOnDelete true, protect false", async () => {
        const { child } = await build("data");
        assert.deepStrictEqual({ retainOnDelete: child.retainOnDelete, protect: child.protect }, { retainOnDelete: true, protect: false });
    });

    it("Retain given explicitly behaves as the default", async () => {
        const { child } = await build("data", { deletion: c.VolumeDeletion.Retain });
        assert.deepStrictEqual({ retainOnDelete: child.retainOnDelete, protect: child.protect }, { retainOnDelete: true, protect: false });
    });

    it("Protect: protect true (and still retained on delete)", async () => {
        const { child } = await build("db", { deletion: c.VolumeDeletion.Protect });
        assert.deepStrictEqual({ retainOnDelete: child.retainOnDelete, protect: child.protect }, { retainOnDelete: true, protect: true });
    });

    it("Delete: neither protected nor retained", async () => {
        const { child } = await build("scratch", { deletion: c.VolumeDeletion.Delete });
        assert.deepStrictEqual({ retainOnDelete: child.retainOnDelete, protect: child.protect }, { retainOnDelete: false, protect: false });
    });

    it("passes name, driver, driver options and extra labels (after the ownership labels)", async () => {
        const { v, child } = await build("db", {
            volumeName: "pg-data",
            driver: "local",
            driverOptions: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" },
            labels: { tier: "db", backup: "nightly" },
        });
        assert.deepStrictEqual(child.inputs, {
            name: "pg-data",
            driver: "local",
            driverOpts: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" },
            labels: labels("db", { tier: "db", backup: "nightly" }),
        });
        assert.strictEqual(await valueOf(v.volumeName), "pg-data");
    });

    it("accepts a driver known only at deployment time", async () => {
        const { child } = await build("remote", { driver: pulumi.output("rexray") });
        assert.strictEqual(child.inputs.driver, "rexray");
    });

    it("looks up no node for a volume other nodes can reach: a network filesystem or another driver", async () => {
        for (const [name, args] of [["nfs", { driverOptions: { type: "nfs", o: "addr=10.0.0.1", device: ":/export" } }], ["cloud", { driver: "rexray" }]] as const) {
            resetRecorder();
            const { v, component } = await build(name, args);
            assert.deepStrictEqual(childrenOf(component.urn), [`${VOLUME} ${name}-volume`]);
            assert.strictEqual(v.node, undefined);
        }
    });

    it("counts a driver known only at deployment time as node-local (a wrong pin costs placement, a missing one data)", () => {
        assert.strictEqual(c.isNodeLocal({ driver: pulumi.output("rexray") }), true);
        assert.strictEqual(c.isNodeLocal({ driverOptions: pulumi.output({ type: "nfs" }) }), true);
        assert.strictEqual(c.isNodeLocal({ driver: "local", driverOptions: { o: "size=1g" } }), true);
        assert.strictEqual(c.isNodeLocal({ driver: "local", driverOptions: { type: "cifs" } }), false);
        assert.strictEqual(c.isNodeLocal({ driver: "local", driverOptions: { type: "NFS4", device: ":/export" } }), false);
        assert.strictEqual(c.isNodeLocal({ driver: "local", driverOptions: { o: "addr=10.0.0.1,rw" } }), false);
        // A bind, a block device or a tmpfs keeps its data on the node.
        assert.strictEqual(c.isNodeLocal({ driver: "local", driverOptions: { type: "none", o: "bind", device: "/srv/data" } }), true);
        assert.strictEqual(c.isNodeLocal({ driverOptions: { type: "ext4", device: "/dev/sdb1" } }), true);
        assert.strictEqual(c.isNodeLocal({ driverOptions: { type: "tmpfs", device: "tmpfs" } }), true);
    });

    it("lets two volumes coexist (no hard-coded names)", async () => {
        new c.Volume("a");
        await build("b");
        assert.deepStrictEqual(registered().filter((r) => r.type === VOLUME).map((r) => r.inputs.name).sort(), ["a", "b"]);
    });

    it("rejects a bad name, deletion mode and empty driver together, registering only the component", async () => {
        const err = rejection(() => new c.Volume("v", { volumeName: "-bad name", deletion: "never" as any, driver: "" }));
        assert.ok(err instanceof pulumi.ResourceError);
        assert.strictEqual(err.message, problemText("Volume", "v", [
            `volumeName: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "-bad name"`,
            'driver: expected a volume driver name, got ""',
            'deletion: expected one of "retain", "protect", "delete", got "never"',
        ]));
        assert.strictEqual(await urnOfError(err), "urn:pulumi:unittest::dockyard::dockyard:volume:Volume::v");
        await settle();
        assert.deepStrictEqual(registered().map((r) => `${r.type} ${r.name}`), ["dockyard:volume:Volume v"]);
    });

    it("rejects a component name that is not a Docker name when no volumeName is given", () => {
        assert.strictEqual(rejection(() => new c.Volume("my data")).message, problemText("Volume", "my data", [
            `volumeName: expected 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit, got "my data"`,
        ]));
    });
});
