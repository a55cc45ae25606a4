// The cluster harness (scripts/cluster.sh): three engines in their own network namespaces form a
// Swarm, images reach the workers only through a registry on the manager, placement follows the
// node labels, a lost worker comes back, and `down` leaves nothing behind on the machine.
import * as assert from "assert";
import * as fs from "fs";
import { BASE_IMAGES, Cluster, cluster, clusterMissing, eventually, httpGet, machineEnv, requireOrSkip, sh } from "./prereqs";

const EXPECTED = [
    { name: "manager", address: "10.213.0.11", role: "manager", labels: { zone: "a" } },
    { name: "worker1", address: "10.213.0.12", role: "worker", labels: { zone: "b" } },
    { name: "worker2", address: "10.213.0.13", role: "worker", labels: { zone: "c" } },
];

/** What must stay the same on the machine's own engine: its Swarm and its dockerd. */
function machineEngine(): string {
    const info = sh("docker", ["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.Cluster.ID}} {{.Swarm.NodeAddr}} {{.Swarm.Nodes}} {{.Swarm.Managers}}"], { env: machineEnv() }).trim();
    return `${info} dockerd ${fs.readFileSync("/var/run/docker.pid", "utf8").trim()}`;
}

/** Whatever of the harness is still on the machine, by kind (all empty after `down`). */
function leftovers(): Record<string, string[]> {
    const processes: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
            if (cmd.includes("dockyard-cluster")) processes.push(`${pid} ${cmd}`);
        } catch { /* gone meanwhile */ }
    }
    const cgroups = ["", ...fs.readdirSync("/sys/fs/cgroup").map((h) => `${h}/`)].map((h) => `/sys/fs/cgroup/${h}dockyard-cluster`).filter((d) => fs.existsSync(d));
    return {
        namespaces: sh("ip", ["netns", "list"]).split("\n").filter((l) => l.startsWith("dockyard-")),
        links: sh("ip", ["-o", "link", "show"]).split("\n").map((l) => l.split(": ")[1] ?? "").filter((l) => l.startsWith("dockyard-") || l.startsWith("dy-")),
        processes,
        mounts: fs.readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes("dockyard-cluster")),
        directories: ["/var/lib/dockyard-cluster", "/run/dockyard-cluster"].filter((d) => fs.existsSync(d)),
        cgroups,
        iptables: sh("iptables", ["-S", "FORWARD"]).split("\n").filter((l) => l.includes("dockyard")),
    };
}

describe("cluster harness (scripts/cluster.sh, real engines)", function () {
    this.timeout(120_000);
    let c: Cluster | undefined;
    let machineBefore: string;

    before(function () {
        requireOrSkip(this, clusterMissing());
        machineBefore = machineEngine();
        c = cluster();
    });
    after(() => c?.down());

    it("has three Ready nodes, each with its own hostname, address (not 127.0.0.1), role and zone label", () => {
        assert.deepStrictEqual(c!.nodes.map(({ name, address, role, labels }) => ({ name, address, role, labels })), EXPECTED);
        const seen = c!.docker(["node", "ls", "--format", "{{.ID}}"]).trim().split("\n").map((id) =>
            c!.docker(["node", "inspect", "--format", "{{.Description.Hostname}} {{.Status.Addr}} {{.Status.State}} {{.Spec.Role}}", id]).trim()).sort();
        assert.deepStrictEqual(seen, EXPECTED.map((n) => `${n.name} ${n.address} ready ${n.role}`));
        // Each engine is in its own namespace, with its own hostname, and advertises its own address.
        for (const n of EXPECTED) {
            assert.strictEqual(c!.docker(["info", "--format", "{{.Name}} {{.Swarm.NodeAddr}} {{.Swarm.LocalNodeState}}"], n.name).trim(), `${n.name} ${n.address} active`);
        }
        assert.strictEqual(c!.dockerHost, "unix:///run/dockyard-cluster/manager/docker.sock");
    });

    it("has the base images on the manager only: workers get images through a registry", () => {
        const images = (node: string) => c!.docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], node).trim().split("\n").filter(Boolean).sort();
        assert.deepStrictEqual(images("manager"), [...BASE_IMAGES]);
        assert.deepStrictEqual(images("worker1"), []);
        assert.deepStrictEqual(images("worker2"), []);
    });

    it("runs a service where its zone constraint says, pulled from the manager's registry, reachable across nodes", async () => {
        const d = (args: string[], node?: string) => c!.docker(args, node);
        d(["service", "create", "-d", "-q", "--name", "dyc-registry", "--constraint", "node.role==manager", "--endpoint-mode", "dnsrr",
            "--publish", "mode=host,target=5000,published=5000", BASE_IMAGES[1]]);
        await eventuallyAsync("the registry to answer on 10.213.0.11:5000", () => httpGet("http://10.213.0.11:5000/v2/"), 30_000);
        const ref = "10.213.0.11:5000/dyc/busybox:1.35.0";
        d(["tag", BASE_IMAGES[0], ref]);
        d(["push", "-q", ref]);
        d(["network", "create", "-d", "overlay", "dyc-net"]);
        assert.match(d(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "dyc-net"]).trim(), /^10\.214\.\d+\.0\/24$/);
        d(["service", "create", "-q", "--name", "dyc-web", "--network", "dyc-net", "--endpoint-mode", "dnsrr", "--constraint", "node.labels.zone==b",
            "--publish", "mode=host,target=8080,published=8080", ref,
            "sh", "-c", "mkdir -p /tmp/www && echo web-on-$(cat /etc/hostname) > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]);
        d(["service", "create", "-q", "--name", "dyc-client", "--network", "dyc-net", "--endpoint-mode", "dnsrr", "--constraint", "node.labels.zone==c", ref, "sleep", "3600"]);
        const running = (svc: string) => d(["service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}", svc]).trim();
        assert.match(running("dyc-web"), /^worker1 Running /);
        assert.match(running("dyc-client"), /^worker2 Running /);
        // Host-mode port on the worker's own address, from this machine.
        const webTask = d(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=dyc-web"], "worker1").trim();
        assert.strictEqual((await eventuallyAsync("dyc-web on 10.213.0.12:8080", () => httpGet("http://10.213.0.12:8080/"), 30_000)).trim(), `web-on-${webTask.slice(0, 12)}`);
        // The overlay network across nodes (VXLAN over the bridge): worker2's task reaches worker1's
        // by its service name. (busybox's own nslookup and nc: its wget is not used across nodes.)
        const client = d(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=dyc-client"], "worker2").trim();
        const reply = d(["exec", client, "sh", "-c",
            "ip=$(nslookup dyc-web | awk '/^Name:/ { n = 1 } n && /^Address/ { print $2; exit }') && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 \"$ip\" 8080"], "worker2");
        assert.match(reply, /^HTTP\/1\.[01] 200 OK/);
        assert.strictEqual(reply.trim().split("\n").pop(), `web-on-${webTask.slice(0, 12)}`);
        // The workers got exactly the image they run, from the registry.
        assert.deepStrictEqual(d(["image", "ls", "--format", "{{.Repository}}"], "worker1").trim().split("\n"), ["10.213.0.11:5000/dyc/busybox"]);
    });

    it("a stopped worker goes Down, and comes back Ready as the same node when started", async () => {
        const id = c!.docker(["node", "inspect", "--format", "{{.ID}}", "worker2"]).trim();
        const state = () => c!.docker(["node", "inspect", "--format", "{{.Status.State}}", "worker2"]).trim();
        c!.stop("worker2");
        assert.throws(() => c!.docker(["info"], "worker2"), /Cannot connect to the Docker daemon|connect: no such file|Is the docker daemon running/);
        await eventually("worker2 to be Down", () => state() === "down", 60_000);
        c!.start("worker2");
        await eventually("worker2 to be Ready again", () => state() === "ready", 60_000);
        assert.deepStrictEqual(c!.docker(["node", "ls", "--format", "{{.ID}} {{.Hostname}}"]).trim().split("\n").filter((l) => l.includes("worker2")), [`${id} worker2`]);
        assert.strictEqual(c!.docker(["info", "--format", "{{.Swarm.NodeID}} {{.Swarm.NodeAddr}}"], "worker2").trim(), `${id} 10.213.0.13`);
    });

    it("down leaves no namespace, link, process, mount, directory, cgroup or rule, and the machine's engine untouched", () => {
        c!.down();
        c = undefined;
        assert.deepStrictEqual(leftovers(), { namespaces: [], links: [], processes: [], mounts: [], directories: [], cgroups: [], iptables: [] });
        assert.strictEqual(machineEngine(), machineBefore);
    });
});

/** Poll an async check until it resolves; its value, or the last error after the timeout. */
async function eventuallyAsync<T>(what: string, check: () => Promise<T>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            return await check();
        } catch (e) {
            if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}: ${(e as Error).message}`);
            await new Promise((r) => setTimeout(r, 1000));
        }
    }
}
