// Registry hygiene on the three-node cluster (scripts/cluster.sh): the registry on the manager's
// address, five builds of one repository pulled by every node, release records (two failed), keep 2.
// After `gc`, exactly the right manifests are in the registry and exactly the right images on each
// node: what a Swarm service runs stays everywhere, what a container on a node uses stays there,
// nothing of a foreign repository goes, and release 1 (older than the newest 2) still pulls.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Environment } from "../../config/schema";
import { RegistryApi, gcTarget, runGc } from "../../ops/gc-run";
import { pushBuilds, recordReleases, startRegistry } from "../integration/gc-helpers";
import { Cluster, cluster, clusterMissing, eventually, requireOrSkip } from "../integration/prereqs";

describe("e2e: registry hygiene on a three-node Swarm (scripts/cluster.sh)", function () {
    this.timeout(15 * 60_000);
    const prefix = "gcc";
    let c: Cluster;
    let dir: string;
    let server: string;
    const saved = { DOCKER_HOST: process.env.DOCKER_HOST, DOCKYARD_NODE_HOSTS: process.env.DOCKYARD_NODE_HOSTS };

    before(function () {
        requireOrSkip(this, clusterMissing());
        c = cluster();
        server = `${c.node("manager").address}:5000`;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-gcc-"));
    });

    after(function () {
        process.env.DOCKER_HOST = saved.DOCKER_HOST;
        if (saved.DOCKER_HOST === undefined) delete process.env.DOCKER_HOST;
        process.env.DOCKYARD_NODE_HOSTS = saved.DOCKYARD_NODE_HOSTS;
        if (saved.DOCKYARD_NODE_HOSTS === undefined) delete process.env.DOCKYARD_NODE_HOSTS;
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        // The whole cluster goes, with its registry, services and images.
        if (c) c.down();
    });

    it("after 5 releases with keep 2: exactly the right digests remain in the registry and on each node", async () => {
        const d = (args: string[], node?: string) => c.docker(args, node);
        startRegistry((args) => d(args), `${prefix}-registry`, 5000, { constraint: "node.role==manager" });
        const api = new RegistryApi(`http://${server}`);
        await eventually("the registry on the manager's address", () => {
            try {
                return d(["run", "--rm", "--network", "host", "dockyard/busybox:1.35.0", "wget", "-q", "-O", "-", `http://${server}/v2/`]).trim() === "{}";
            } catch {
                return false;
            }
        }, 60_000);
        const ref = `${server}/${prefix}/app`;
        const foreign = `${server}/${prefix}/foreign`;
        const digests = await pushBuilds((args) => d(args), ref, ["c-1", "c-2", "c-3", "c-4", "c-5"], dir);
        const [foreignDigest] = await pushBuilds((args) => d(args), foreign, ["1"], dir);
        // Every node pulled every build, as nodes do over a stack's life.
        for (const node of ["worker1", "worker2"]) for (const digest of [...digests]) d(["pull", "-q", `${ref}@${digest}`], node);
        d(["pull", "-q", `${foreign}@${foreignDigest}`], "worker1");
        // Release 2's image still runs in a service (a failed release can leave one updated), on worker1.
        d(["service", "create", "--quiet", "--detach=false", "--name", `${prefix}-old`, "--constraint", "node.hostname==worker1", `${ref}@${digests[1]}`, "sleep", "3600"]);
        // A container started by hand on worker2 uses build 3.
        d(["run", "-d", "--name", `${prefix}-byhand`, `${ref}@${digests[2]}`, "sleep", "3600"], "worker2");
        // Releases 2 and 3 failed; 1, 4 and 5 succeeded.
        const releases = recordReleases(dir, "it", digests.map((x) => `${ref}@${x}`), [2, 3]);

        process.env.DOCKER_HOST = c.dockerHost;
        process.env.DOCKYARD_NODE_HOSTS = ["worker1", "worker2"].map((n) => `${n}=${c.node(n).dockerHost}`).join(" ");
        const env = { prefix, registry: { selfHosted: { address: server, port: 5000 } }, images: { app: { context: "app", repository: `${prefix}/app`, keep: 2 } } } as unknown as Environment;
        const log: string[] = [];
        const r = await runGc(gcTarget(env)!, releases, { dryRun: false, log: (m) => log.push(m) });

        // The registry: the newest 2 (5, 4), release 1's, and the one a service runs (2). Build 3 went.
        assert.deepStrictEqual(r.deleted, 1, log.join("\n"));
        assert.deepStrictEqual((await api.tags(`${prefix}/app`)).sort(), ["c-1", "c-2", "c-4", "c-5"]);
        assert.deepStrictEqual(await api.tags(`${prefix}/foreign`), ["1"]);
        assert.ok(r.registryFreed! > 0, log.join("\n"));
        assert.deepStrictEqual(r.unreachedNodes, []);
        // Each node: what the registry keeps; worker2 also build 3, which a container there uses.
        const digestsOn = (node: string, image: string) =>
            d(["image", "ls", "--digests", "--format", "{{.Digest}}", image], node).split("\n").filter((x) => x && x !== "<none>").sort();
        const kept = [digests[0], digests[1], digests[3], digests[4]].sort();
        assert.deepStrictEqual(digestsOn("manager", ref), kept);
        assert.deepStrictEqual(digestsOn("worker1", ref), kept);
        assert.deepStrictEqual(digestsOn("worker2", ref), [...kept, digests[2]].sort());
        assert.deepStrictEqual(digestsOn("worker1", foreign), [foreignDigest]);
        assert.ok(log.some((l) => /^node worker1: removing 1 image, up to \d/.test(l)), log.join("\n"));
        assert.ok(log.some((l) => /^node worker1: freed up to \d/.test(l)), log.join("\n"));

        // Release 1, older than the newest 2, still pulls on a node that no longer has it.
        d(["image", "rm", `${ref}@${digests[0]}`], "worker2");
        d(["pull", "-q", `${ref}@${digests[0]}`], "worker2");
        // Build 3 is gone from the registry: a node cannot pull it any more.
        assert.throws(() => d(["pull", "-q", `${ref}@${digests[2]}`], "worker1"), /not found|unknown|manifest/i);
    });
});
