// Dockyard's promises on a real three-node Swarm (scripts/cluster.sh: manager, worker1, worker2,
// each its own engine in its own network namespace): the sample app spread over the nodes, placement
// by node labels from the stack file, the key-value store kept on the node that holds its volume,
// a rolling update under load, a worker drained and a worker lost in the middle of a rollout, and a
// secret rotated on a service that runs on every node. Images reach the workers only through the
// stack's registry on the manager's address. Figures (requests answered and failed, time to converge)
// are printed.
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import {
    Cluster, Sandbox, cluster, clusterMissing, editEnvironment, eventually, httpGet, pluginMissing, projectSandbox, readEnvironment, requireOrSkip,
} from "../integration/prereqs";
import { ROLLOUT_INTERRUPTED } from "@dockyard/components";

const WEB_REPLICAS = 3;
/** As stacks/Pulumi.cluster.yaml publishes it. */
const EDGE_PORT = 8081;

// The static busybox's wget can crash resolving names; its nc does not, so HTTP is spoken with nc.
const HTTP_GET = (host: string, urlPath: string) => `printf 'GET ${urlPath} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 8080`;

describe("e2e: a three-node Swarm (scripts/cluster.sh)", function () {
    this.timeout(30 * 60_000);
    const prefix = "dyc";
    let c: Cluster;
    let box: Sandbox;

    const docker = (args: string[]) => c.docker(args);
    const json = (args: string[]) => JSON.parse(docker(args));
    const service = (name: string) => `${prefix}-${name}`;

    /** The service's tasks, with the node each runs on and the container's hostname. */
    function tasks(name: string, desired = "running") {
        const ids = docker(["service", "ps", "-q", "--no-trunc", "--filter", `desired-state=${desired}`, service(name)]).split("\n").filter(Boolean);
        if (!ids.length) return [];
        const hostOf = new Map(c.nodes.map((n) => [json(["node", "inspect", n.name])[0].ID, n.name]));
        return (json(["inspect", "--type", "task", ...ids]) as any[]).map((t) => ({
            node: hostOf.get(t.NodeID) ?? t.NodeID,
            state: t.Status.State as string,
            container: String(t.Status.ContainerStatus?.ContainerID ?? "").slice(0, 12),
            address: String((t.NetworksAttachments ?? []).find((a: any) => a.Network.Spec.Name === service("backend"))?.Addresses?.[0] ?? "").replace(/\/\d+$/, ""),
        }));
    }
    /** Container hostname → node, for every web task there has been. */
    function nodeOfContainer(): Map<string, string> {
        return new Map(["running", "shutdown"].flatMap((d) => tasks("web", d)).map((t) => [t.container, t.node]));
    }

    /** Run Dockyard's deploy; returns its result and how long it took. */
    function deploy() {
        const start = Date.now();
        const r = box.dockyard(["deploy", "it"]);
        return { ...r, seconds: (Date.now() - start) / 1000 };
    }
    /** Start Dockyard's deploy in the background; resolves with its exit code and output. */
    function deployInBackground(): { child: ChildProcess; exited: () => boolean; done: Promise<{ code: number; output: string; seconds: number }> } {
        const start = Date.now();
        let exited = false;
        const child = spawn(path.join(box.dir, "node_modules/.bin/ts-node"), ["--transpile-only", "ops/cli.ts", "deploy", "it"], { cwd: box.dir, env: box.env });
        let output = "";
        child.stdout!.on("data", (d) => (output += d));
        child.stderr!.on("data", (d) => (output += d));
        const done = new Promise<{ code: number; output: string; seconds: number }>((resolve) =>
            child.once("exit", (code) => {
                exited = true;
                resolve({ code: code ?? -1, output, seconds: (Date.now() - start) / 1000 });
            }));
        return { child, exited: () => exited, done };
    }
    /** Wait until Swarm is rolling web out; fails at once when the deploy ended before that. */
    async function rolloutStarted(run: ReturnType<typeof deployInBackground>): Promise<void> {
        await eventually("web's rollout to start", () => {
            if (run.exited()) throw new Error("the deploy ended before web's rollout started");
            return docker(["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", service("web")]).startsWith("updating");
        }, 600_000);
    }

    /**
     * Run `action` while a container on the manager, on the stack's overlay network, asks the web
     * service (DNS round-robin over its tasks on every node) for its version in a loop. Returns the
     * action's result, the answered and failed requests, and the answers per node.
     */
    async function underLoad<T>(action: () => Promise<T>): Promise<{ result: T; ok: number; failed: number; perNode: Record<string, number> }> {
        const name = `${prefix}-load`;
        // The load container runs on the manager's own engine; its files are read back with docker cp.
        docker(["run", "-d", "--name", name, "--network", service("backend"), "dockyard/busybox:1.35.0", "sh", "-c",
            `ok=0; fail=0; : > /tmp/hosts; while [ ! -f /tmp/stop ]; do r="$(${HTTP_GET("web", "/")} | tail -n 1)"; ` +
            `case "$r" in "dockyard sample app "*) ok=$((ok+1)); echo "\${r##*host=}" >> /tmp/hosts ;; *) fail=$((fail+1)) ;; esac; echo "$ok $fail" > /tmp/count; done; touch /tmp/done; exec sleep 600`]);
        const read = (file: string) => {
            const r = spawnSync("docker", ["-H", c.dockerHost, "exec", name, "cat", file], { encoding: "utf8" });
            return r.status === 0 ? r.stdout : "";
        };
        const count = () => (read("/tmp/count").trim() || "0 0").split(" ").map(Number);
        try {
            await eventually("the load generator to get answers", () => count()[0] > 10, 120_000);
            const result = await action();
            docker(["exec", name, "touch", "/tmp/stop"]);
            // It stays up after its loop, so that its files can be read.
            await eventually("the load generator to stop", () => spawnSync("docker", ["-H", c.dockerHost, "exec", name, "test", "-f", "/tmp/done"]).status === 0, 60_000);
            const [ok, failed] = count();
            const nodes = nodeOfContainer();
            const perNode: Record<string, number> = {};
            for (const host of read("/tmp/hosts").split("\n").filter(Boolean)) {
                const node = nodes.get(host.trim().slice(0, 12)) ?? "unknown";
                perNode[node] = (perNode[node] ?? 0) + 1;
            }
            return { result, ok, failed, perNode };
        } finally {
            spawnSync("docker", ["-H", c.dockerHost, "rm", "-f", name]);
        }
    }

    /** What each web task answers on `urlPath`, asked directly at its overlay address. */
    function askEachTask(urlPath: string): Array<{ node: string; answer: string }> {
        return tasks("web").map((t) => ({
            node: t.node,
            answer: docker(["run", "--rm", "--network", service("backend"), "dockyard/busybox:1.35.0", "sh", "-c", `${HTTP_GET(t.address, urlPath)} | tail -n 1`]).trim(),
        }));
    }

    before(function () {
        requireOrSkip(this, clusterMissing(), pluginMissing("docker"), pluginMissing("command"));
        c = cluster();
        // The committed cluster stack, as a user would deploy it (its ports are the nodes' own).
        box = projectSandbox(prefix, {}, "cluster");
        box.env.DOCKER_HOST = c.dockerHost;
        // Its registry is addressed by the manager's address, which every node can reach.
        assert.strictEqual(readEnvironment(box).registry.selfHosted.address, `${c.node("manager").address}:5000`);
        box.pulumi(["stack", "init", "it", "--secrets-provider", "passphrase"]);
        box.pulumi(["config", "set", "--secret", "appToken"], { input: "cluster-token" });
    });

    after(function () {
        if (box) box.cleanup();
        // The whole cluster goes, with every service, volume and image of the stack.
        if (c) c.down();
    });

    it("deploys the sample app across the cluster: web spread over the nodes, edge where its label is, kv with its volume", async () => {
        const r = deploy();
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        console.log(`      deploy of the sample app on 3 nodes: converged in ${r.seconds.toFixed(1)} s`);
        const web = tasks("web");
        assert.strictEqual(web.length, WEB_REPLICAS);
        assert.deepStrictEqual(web.map((t) => t.node).sort(), ["manager", "worker1", "worker2"]);
        assert.deepStrictEqual(tasks("edge").map((t) => t.node), ["worker1"]);
        // The Swarm node label was set by the stack file's nodes section.
        assert.strictEqual(json(["node", "inspect", "worker1"])[0].Spec.Labels.tier, "edge");
        // kv and the registry hold node-local volumes: pinned to the node holding them (the
        // manager, whose engine Dockyard deploys through).
        const managerId = json(["node", "inspect", "manager"])[0].ID;
        for (const name of ["kv", "registry"]) {
            assert.deepStrictEqual(tasks(name).map((t) => t.node), ["manager"], name);
            assert.deepStrictEqual(json(["service", "inspect", service(name)])[0].Spec.TaskTemplate.Placement.Constraints, [`node.id==${managerId}`], name);
        }
        // The workers got the app only from the stack's registry, by digest.
        const ref = json(["service", "inspect", service("web")])[0].Spec.TaskTemplate.ContainerSpec.Image as string;
        assert.match(ref, /^10\.213\.0\.11:5000\/dockyard\/app@sha256:[0-9a-f]{64}$/);
        for (const worker of ["worker1", "worker2"]) {
            const images = c.docker(["image", "ls", "--format", "{{.Repository}}"], worker).split("\n").filter(Boolean);
            assert.deepStrictEqual([...new Set(images)], ["10.213.0.11:5000/dockyard/app"], worker);
        }
        // Endpoints are where the port answers: worker1's address, reachable from here.
        const outputs = JSON.parse(box.pulumi(["stack", "output", "--json"]).stdout);
        assert.deepStrictEqual(outputs.serviceEndpoints.edge, [`${c.node("worker1").address}:${EDGE_PORT}`]);
        assert.match(await httpGet(`http://${outputs.serviceEndpoints.edge[0]}/`), /^dockyard sample app version=dev host=/);
    });

    it("rolls web out under continuous load with no failed request, the load answered on every node", async () => {
        const { result, ok, failed, perNode } = await underLoad(async () => {
            editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v2"));
            return deploy();
        });
        console.log(`      rolling update on 3 nodes: ${ok} requests answered, ${failed} failed; answers per node ${JSON.stringify(perNode)}; converged in ${result.seconds.toFixed(1)} s`);
        assert.strictEqual(result.code, 0, result.stdout + result.stderr);
        assert.ok(ok > 50, `only ${ok} requests were made`);
        assert.strictEqual(failed, 0);
        assert.deepStrictEqual(Object.keys(perNode).sort(), ["manager", "worker1", "worker2"]);
        assert.deepStrictEqual(askEachTask("/").map((a) => a.answer.replace(/ host=.*$/, "")), Array(WEB_REPLICAS).fill("dockyard sample app version=v2"));
    });

    it("completes a rollout while a worker is drained in the middle of it, failing no request", async () => {
        try {
            const { result, ok, failed } = await underLoad(async () => {
                editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v3"));
                const run = deployInBackground();
                await rolloutStarted(run);
                docker(["node", "update", "--availability", "drain", "worker2"]);
                return run.done;
            });
            // Swarm counts a new task the drain stopped as failed and may roll back; the deploy then says
            // the rollout was interrupted, not failed, and deploys once more.
            const again = result.output.includes(ROLLOUT_INTERRUPTED) ? " (Swarm rolled back over a task the drain stopped; deployed once more)" : "";
            console.log(`      rollout with worker2 drained midway: ${ok} requests answered, ${failed} failed; converged in ${result.seconds.toFixed(1)} s${again}`);
            assert.strictEqual(result.code, 0, result.output);
            assert.strictEqual(failed, 0);
            const web = tasks("web");
            assert.strictEqual(web.length, WEB_REPLICAS);
            assert.ok(web.every((t) => t.node !== "worker2" && t.state === "running"), JSON.stringify(web));
            assert.deepStrictEqual(askEachTask("/").map((a) => a.answer.replace(/ host=.*$/, "")), Array(WEB_REPLICAS).fill("dockyard sample app version=v3"));
        } finally {
            docker(["node", "update", "--availability", "active", "worker2"]);
        }
    });

    it("reports what happened when a worker is lost mid-rollout, and converges on the next deploy once it is back", async () => {
        editEnvironment(box, (env) => (env.images.app.buildArgs.APP_VERSION = "v4"));
        const run = deployInBackground();
        await rolloutStarted(run);
        // After the drain worker2 runs no web task, so the spread puts the rollout's new tasks there.
        c.stop("worker2");
        const lost = await run.done;
        // Dockyard's own lines ("dockyard: ..."), not Pulumi's resource lines ("dockyard:swarm:...").
        const said = [...new Set(lost.output.split("\n").filter((l) => /dockyard: [a-z]/.test(l)).map((l) => l.trim()))].slice(0, 10).join("\n");
        console.log(`      rollout with worker2 lost midway: deploy exited ${lost.code} after ${lost.seconds.toFixed(1)} s, saying:\n${said.replace(/^/gm, "        ")}`);
        if (lost.code !== 0) {
            // A failed rollout says why, in Dockyard's words, not a stack trace.
            assert.match(lost.output, /dockyard: service dyc-web did not converge: |dockyard: deploy failed/, said);
            assert.doesNotMatch(lost.output, /\n\s+at .*\(.*\.js:\d+:\d+\)/);
            // ...and names the lost node.
            assert.match(said, /node worker2/, said);
        }
        c.start("worker2");
        await eventually("worker2 to be ready again", () => json(["node", "inspect", "worker2"])[0].Status.State === "ready", 180_000);
        const again = deploy();
        console.log(`      the next deploy with worker2 back: exited ${again.code}, converged in ${again.seconds.toFixed(1)} s`);
        assert.strictEqual(again.code, 0, again.stdout + again.stderr);
        const web = tasks("web");
        assert.strictEqual(web.filter((t) => t.state === "running").length, WEB_REPLICAS, JSON.stringify(web));
        assert.deepStrictEqual(askEachTask("/").map((a) => a.answer.replace(/ host=.*$/, "")), Array(WEB_REPLICAS).fill("dockyard sample app version=v4"));
        assert.strictEqual(box.pulumi(["preview", "--expect-no-changes"], { allowFailure: true }).code, 0);
    });

    it("rotates the secret of a service on every node: each task reads the new value, no request fails, the old secret is gone", async () => {
        // Spread again over all three nodes (worker2 came back empty).
        docker(["service", "update", "--quiet", "--force", "--detach=false", service("web")]);
        const before = docker(["secret", "ls", "--format", "{{.Name}}"]).split("\n").filter((s) => s.startsWith(`${prefix}-app_token`));
        const { result, ok, failed } = await underLoad(async () => {
            box.pulumi(["config", "set", "--secret", "appToken"], { input: "cluster-token-rotated" });
            return deploy();
        });
        console.log(`      secret rotation on 3 nodes: ${ok} requests answered, ${failed} failed; converged in ${result.seconds.toFixed(1)} s`);
        assert.strictEqual(result.code, 0, result.stdout + result.stderr);
        assert.strictEqual(failed, 0);
        const sha = crypto.createHash("sha256").update("cluster-token-rotated").digest("hex");
        const answers = askEachTask("/secret-check");
        assert.deepStrictEqual(answers.map((a) => a.answer), Array(WEB_REPLICAS).fill(`app_token present sha256=${sha}`));
        assert.ok(new Set(answers.map((a) => a.node)).size >= 2, `web ran on ${answers.map((a) => a.node).join(", ")}`);
        const after = docker(["secret", "ls", "--format", "{{.Name}}"]).split("\n").filter((s) => s.startsWith(`${prefix}-app_token`));
        assert.strictEqual(after.length, 1);
        assert.notDeepStrictEqual(after, before);
    });
    it("deploys a worker kept at replicas: 0 and a global service placed by zone in normal time, records them succeeded, and rolls back", () => {
        const sleeper = { image: "app", command: ["sleep", "3600"] };
        editEnvironment(box, (env) => {
            env.services.idle = { ...sleeper, replicas: 0 };
            env.services.agent = { ...sleeper, global: true, constraints: ["node.labels.zone==b"] };
        });
        const latest = () => box.dockyard(["releases", "it"]).stdout.trim().split("\n").filter((l) => /^\d/.test(l)).pop() ?? "";
        const first = deploy();
        assert.strictEqual(first.code, 0, first.stdout + first.stderr);
        assert.ok(first.seconds < 180, `the deploy took ${first.seconds} s`);
        assert.match(latest(), /^\d+ +\S+ \S+ +succeeded deploy /);
        const release = latest().split(" ")[0];
        assert.deepStrictEqual(tasks("agent").map((t) => `${t.node} ${t.state}`), ["worker1 running"]);
        assert.deepStrictEqual(tasks("idle"), []);
        // Widened to two zones: two nodes run it.
        editEnvironment(box, (env) => (env.services.agent.constraints = ["node.labels.zone!=a"]));
        const second = deploy();
        assert.strictEqual(second.code, 0, second.stdout + second.stderr);
        assert.deepStrictEqual(tasks("agent").map((t) => t.node).sort(), ["worker1", "worker2"]);
        const back = box.dockyard(["rollback", "it", "--yes"]);
        assert.strictEqual(back.code, 0, back.stdout + back.stderr);
        assert.ok(back.stdout.includes(`dockyard: rolling it back to release ${release}`), back.stdout);
        assert.match(latest(), /^\d+ +\S+ \S+ +succeeded rollback /);
        assert.deepStrictEqual(tasks("agent").map((t) => `${t.node} ${t.state}`), ["worker1 running"]);
    });
});
