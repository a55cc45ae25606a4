// Every shape of service Swarm accepts either converges in normal time or fails fast with the
// reason, on one node and on the three-node cluster: one row per shape, each a few deploys (and
// changes made by hand with the docker CLI between them), each deploy's result and time bound
// asserted. A shape Dockyard cannot wait for (a Swarm job) is refused before any resource.
import * as assert from "assert";
import {
    Cluster, ServiceProject, cluster, clusterMissing, eventually, pluginMissing, requireOrSkip, serviceProject, sh, swarmMissing,
} from "../integration/prereqs";

/** A deploy of the row's service: its arguments, and `true` (succeeds) or the pattern its failure output matches. */
interface Deploy { readonly deploy: object; readonly result: true | RegExp; readonly within: number; readonly unchanged?: true }
/** A change made by hand between deploys, given the docker CLI of the engine and the service's name. */
interface ByHand { readonly byHand: string; readonly run: (docker: (args: string[]) => string, name: string) => Promise<void> | void }
interface Row { readonly shape: string; readonly steps: ReadonlyArray<Deploy | ByHand>; readonly after?: (docker: (args: string[]) => string, name: string) => void }

const sleeper = { command: ["sleep", "3600"], restart: { delay: "1s" }, update: { monitor: "2s", delay: "0s" } };
/** Seconds a deploy of one service takes here at most, converged or failed: well below its 90 s wait. */
const NORMAL = 40;

/** The parts of a service's spec the Docker provider keeps when it is no longer sent them. */
const KEPT = "{{json .Spec.TaskTemplate.Resources}} {{json .Spec.TaskTemplate.Placement}} {{json .Spec.TaskTemplate.ContainerSpec.Init}} " +
    "{{json .Spec.TaskTemplate.ContainerSpec.StopGracePeriod}} {{json .Spec.TaskTemplate.ContainerSpec.DNSConfig}} {{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}";
let plainSpec = "";

/** Its tasks Swarm wants running, and those running. */
function counts(docker: (args: string[]) => string, name: string) {
    const lines = docker(["service", "ps", "--filter", "desired-state=running", "--format", "{{.CurrentState}}", name]).split("\n").filter(Boolean);
    return { wanted: lines.length, running: lines.filter((l) => l.startsWith("Running")).length };
}
const updateState = (docker: (args: string[]) => string, name: string) =>
    docker(["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", name]).trim();

const ONE_NODE: Row[] = [
    { shape: "replicas: 0 (a worker kept for later scaling)", steps: [{ deploy: { ...sleeper, replicas: 0 }, result: true, within: NORMAL }],
        after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 0, running: 0 }) },
    { shape: "scaled 3 → 0 → 3", steps: [
        { deploy: { ...sleeper, replicas: 3 }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 0 }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 3 }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 3, running: 3 }) },
    { shape: "replicated, a constraint no node satisfies", steps: [
        { deploy: { ...sleeper, constraints: ["node.labels.dockyard-shape==nowhere"] }, within: NORMAL,
            result: /did not converge: no node can run it: no suitable node \(scheduling constraints not satisfied on 1 node\); its constraints: node\.labels\.dockyard-shape==nowhere/ },
    ] },
    { shape: "an update of service labels only (Swarm rolls nothing out)", steps: [
        { deploy: { ...sleeper, labels: { "shape.rev": "1" } }, result: true, within: NORMAL },
        { deploy: { ...sleeper, labels: { "shape.rev": "2" } }, result: true, within: NORMAL },
    ] },
    { shape: "a deploy after a `docker service update` that changed nothing", steps: [
        { deploy: sleeper, result: true, within: NORMAL },
        { byHand: "docker service update (no change)", run: (d, n) => void d(["service", "update", "--detach", "--quiet", n]) },
        { deploy: { ...sleeper, labels: { "shape.rev": "2" } }, result: true, within: NORMAL },
    ] },
    { shape: "restart condition none, tasks that exit 0 (a one-shot task), then an update of it", steps: [
        { deploy: { command: ["sh", "-c", "echo v1"], replicas: 2, restart: { condition: "none" } }, result: true, within: NORMAL },
        { deploy: { command: ["sh", "-c", "echo v2"], replicas: 2, restart: { condition: "none" } }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(JSON.parse(d(["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Command}}", n])), ["sh", "-c", "echo v2"]) },
    { shape: "restart condition none, a task that fails", steps: [
        { deploy: { command: ["sh", "-c", "echo one-shot-broke; exit 3"], restart: { condition: "none" } }, within: NORMAL,
            result: /did not converge: 1 task failed and Swarm starts no other \(its restart condition is none\)[\s\S]*exit code 3[\s\S]*one-shot-broke/ },
    ] },
    { shape: "restart on-failure with maxAttempts 1, a task that fails (Swarm restarts it once)", steps: [
        { deploy: { command: ["sh", "-c", "exit 3"], restart: { condition: "on-failure", maxAttempts: 1, delay: "0s" } }, within: NORMAL,
            result: /did not converge: 1 task failed and Swarm starts no other \(its restart policy restarts a task at most 1 time\)[\s\S]*exit code 3/ },
    ], after: (d, n) => assert.deepStrictEqual(d(["service", "ps", "--format", "{{.CurrentState}}", n]).split("\n").filter(Boolean).map((l) => l.split(" ")[0]), ["Failed", "Failed"]) },
    { shape: "tasks that keep exiting 0 under restart condition any", steps: [
        { deploy: { command: ["true"], restart: { condition: "any", delay: "0s" } }, within: NORMAL,
            result: /did not converge: its tasks keep exiting \(\d+ exited with code 0 in one slot\) and its restart condition any starts them again; for a one-shot task set the restart condition to none/ },
    ] },
    { shape: "a health check, then every health check turned off (disable)", steps: [
        { deploy: { ...sleeper, healthCheck: { command: ["true"], interval: "1s", startPeriod: "0s" } }, result: true, within: NORMAL },
        { deploy: { ...sleeper, healthCheck: { disable: true } }, result: true, within: NORMAL },
    ], after: (d, n) => {
        assert.deepStrictEqual(JSON.parse(d(["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}", n])), { Test: ["NONE"] });
        const [container] = d(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${n}`]).split("\n").filter(Boolean);
        assert.strictEqual(d(["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}no health{{end}}", container]).trim(), "no health");
    } },
    { shape: "a host-mode port published on one Swarm picks (published \"any\"), deployed twice", steps: [
        { deploy: { ...sleeper, endpointMode: "dnsrr", ports: [{ target: 9090, published: "any", mode: "host" }] }, result: true, within: NORMAL },
        { deploy: { ...sleeper, endpointMode: "dnsrr", ports: [{ target: 9090, published: "any", mode: "host" }] }, result: true, within: NORMAL, unchanged: true },
    ], after: (d, n) => {
        const [task] = d(["service", "ps", "-q", "--filter", "desired-state=running", n]).split("\n").filter(Boolean);
        const [port] = JSON.parse(d(["inspect", "--type", "task", "--format", "{{json .Status.PortStatus.Ports}}", task]));
        assert.strictEqual(port.TargetPort, 9090);
        assert.ok(port.PublishedPort > 0, JSON.stringify(port));
    } },
    { shape: "a fixed host port changed to published \"any\" (the provider keeps the old port: said at once)", steps: [
        { deploy: { ...sleeper, endpointMode: "dnsrr", ports: [{ target: 9090, published: 19091, mode: "host" }] }, result: true, within: NORMAL },
        { deploy: { ...sleeper, endpointMode: "dnsrr", ports: [{ target: 9090, published: "any", mode: "host" }] }, within: NORMAL,
            result: /did not converge: its port 9090\/tcp should be published on one Swarm picks \(published "any"\), but it is still on 19091: the Docker provider keeps a published port it once set/ },
    ] },
    { shape: "a Swarm job (mode replicated-job), refused before any resource", steps: [
        { deploy: { ...sleeper, mode: "replicated-job" }, within: NORMAL,
            result: /- mode: unknown key; a service is replicated \(`replicas: N`\) or `global: true`; Swarm jobs \(replicated-job, global-job\) are not supported/ },
    ], after: (d, n) => assert.strictEqual(d(["service", "ls", "-q", "--filter", `name=${n}`]).trim(), "") },
    { shape: "an update after one paused by hand", steps: [
        { deploy: sleeper, result: true, within: NORMAL },
        // Restarted at once, the crashing task often races the next rollout: Swarm's restart and its
        // rollout each start a task in the slot, and the wait has Swarm reconcile the service.
        { byHand: "docker service update to a crashing command restarted at once, paused on failure", run: async (d, n) => {
            d(["service", "update", "--detach", "--quiet", "--update-failure-action", "pause", "--update-monitor", "3s", "--restart-delay", "0s", "--args", "sh -c 'exit 3'", n]);
            await eventually("Swarm to pause the update", () => updateState(d, n) === "paused", 60_000);
        } },
        { deploy: { ...sleeper, env: { REV: "2" } }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 1, running: 1 }) },
    { shape: "an update after one rolled back by hand", steps: [
        { deploy: sleeper, result: true, within: NORMAL },
        { deploy: { ...sleeper, env: { REV: "2" } }, result: true, within: NORMAL },
        { byHand: "docker service rollback", run: (d, n) => void d(["service", "rollback", "--detach", "--quiet", n]) },
        { deploy: { ...sleeper, env: { REV: "3" } }, result: true, within: NORMAL },
    ], after: (d, n) => assert.match(d(["service", "inspect", "--format", "{{json .Spec.TaskTemplate.ContainerSpec.Env}}", n]), /"REV=3"/) },
    { shape: "replicas changed together with the image", steps: [
        { deploy: { ...sleeper, replicas: 1 }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 3, image: "dyshape/busybox:b" }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 2, image: "dockyard/busybox:1.35.0" }, result: true, within: NORMAL },
    ], after: (d, n) => {
        assert.deepStrictEqual(counts(d, n), { wanted: 2, running: 2 });
        assert.strictEqual(d(["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", n]).trim(), "dockyard/busybox:1.35.0");
    } },
    { shape: "maxReplicasPerNode 1 with 1 replica, its image updated (stop-first by default), then 2 on one node (one task has no node)", steps: [
        { deploy: { ...sleeper, replicas: 1, maxReplicasPerNode: 1 }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 1, maxReplicasPerNode: 1, image: "dyshape/busybox:b" }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 2, maxReplicasPerNode: 1 }, within: NORMAL,
            result: /did not converge: no node can run it: no suitable node \(max replicas per node limit exceed/ },
    ] },
    // The Docker provider keeps a block it is no longer sent (kreuzwerker's Optional + Computed):
    // Dockyard sends each one always, as Swarm has it for a service that never had the setting.
    { shape: "every setting the provider would keep, set and then removed (the service is as one that never had them), deployed again unchanged", steps: [
        { deploy: { ...sleeper }, result: true, within: NORMAL },
        { byHand: "record the spec of a service without the settings", run: (d, n) => void (plainSpec = d(["service", "inspect", "--format", KEPT, n])) },
        { deploy: { ...sleeper, constraints: ["node.role==manager"], maxReplicasPerNode: 2, limits: { memory: "64m", cpus: 0.5 }, reservations: { memory: "16m" }, init: true, stopGracePeriod: "7s", dns: { nameservers: ["10.0.0.53"] }, healthCheck: { command: ["true"], interval: "2s" } }, result: true, within: NORMAL },
        { deploy: { ...sleeper }, result: true, within: NORMAL },
        { deploy: { ...sleeper }, result: true, within: NORMAL, unchanged: true },
    ], after: (d, n) => assert.strictEqual(d(["service", "inspect", "--format", KEPT, n]), plainSpec) },
];

/** On the cluster (manager zone a, worker1 zone b, worker2 zone c): global services where a constraint leaves 0, 1 or every node. */
const CLUSTER: Row[] = [
    { shape: "global, a constraint no node satisfies (no task at all)", steps: [
        { deploy: { ...sleeper, global: true, constraints: ["node.labels.zone==nowhere"] }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 0, running: 0 }) },
    { shape: "global, a constraint one node satisfies", steps: [
        { deploy: { ...sleeper, global: true, constraints: ["node.hostname==worker1"] }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 1, running: 1 }) },
    { shape: "3 replicas, maxReplicasPerNode 1: one task on each node", steps: [
        { deploy: { ...sleeper, replicas: 3, maxReplicasPerNode: 1 }, result: true, within: NORMAL },
    ], after: (d, n) => {
        const nodes = d(["service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}", n]).split("\n").filter(Boolean);
        assert.deepStrictEqual(new Set(nodes).size, 3, nodes.join(","));
    } },
    { shape: "global on every node, then narrowed to one, then to none", steps: [
        { deploy: { ...sleeper, global: true }, result: true, within: NORMAL },
        { deploy: { ...sleeper, global: true, constraints: ["node.role==manager"] }, result: true, within: NORMAL },
        { deploy: { ...sleeper, global: true, constraints: ["node.labels.zone==nowhere"] }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 0, running: 0 }) },
    { shape: "replicas: 0 on the cluster, then 3", steps: [
        { deploy: { ...sleeper, replicas: 0 }, result: true, within: NORMAL },
        { deploy: { ...sleeper, replicas: 3 }, result: true, within: NORMAL },
    ], after: (d, n) => assert.deepStrictEqual(counts(d, n), { wanted: 3, running: 3 }) },
    { shape: "replicated, a constraint no node of three satisfies", steps: [
        { deploy: { ...sleeper, constraints: ["node.labels.zone==nowhere"] }, within: NORMAL,
            result: /did not converge: no node can run it: no suitable node \(scheduling constraints not satisfied on 3 nodes\); its constraints: node\.labels\.zone==nowhere/ },
    ] },
];

/** Run each row as its own stack, `sh-<n>`, destroyed afterwards. */
function rows(table: Row[], project: () => ServiceProject, docker: () => (args: string[]) => string) {
    table.forEach((row, i) => {
        it(`${row.shape}: ${row.steps.filter((s): s is Deploy => "deploy" in s).map((s) => (s.result === true ? "converges" : "fails")).join(", then ")}, each within its bound`, async () => {
            const name = `sh-${i + 1}`;
            try {
                for (const step of row.steps) {
                    if ("byHand" in step) {
                        await step.run(docker(), name);
                        continue;
                    }
                    const r = project().up(name, step.deploy);
                    // When Swarm's restart raced the rollout (two tasks in one slot), the wait says so and has Swarm reconcile.
                    const nudged = r.out.split("\n").filter((l) => /asking it to reconcile the service/.test(l));
                    for (const l of nudged) assert.match(l, new RegExp(`dockyard: service ${name}: Swarm runs task ${name}\\.\\d+ twice \\(its restart of a failed task likely raced the rollout\\); asking it to reconcile the service with an update that changes nothing$`));
                    if (nudged.length) console.log(`      (${name}: Swarm ran a task twice in one slot; the wait had it reconcile the service)`);
                    if (step.result === true) assert.strictEqual(r.code, 0, r.out);
                    else {
                        assert.notStrictEqual(r.code, 0, r.out);
                        assert.match(r.out, step.result);
                    }
                    // A deploy of what is already deployed changes nothing (no difference read back from Swarm).
                    if (step.unchanged) assert.doesNotMatch(r.out, /\b(updated|replaced|created|deleted)\b/, r.out);
                    assert.ok(r.seconds < step.within, `the deploy took ${r.seconds} s, more than ${step.within} s`);
                }
                row.after?.(docker(), name);
            } finally {
                project().destroy(name);
            }
        });
    });
}

describe("e2e: every service shape converges or fails fast, on one node", function () {
    this.timeout(20 * 60_000);
    let project: ServiceProject;
    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        project = serviceProject();
        // A second name for the image: another image reference, so another task spec.
        sh("docker", ["tag", "dockyard/busybox:1.35.0", "dyshape/busybox:b"]);
    });
    after(() => {
        project?.cleanup();
        if (project) sh("docker", ["rmi", "dyshape/busybox:b"]);
    });
    rows(ONE_NODE, () => project, () => (args) => sh("docker", args));
});

describe("e2e: every service shape converges or fails fast, on the three-node cluster", function () {
    this.timeout(30 * 60_000);
    let c: Cluster;
    let project: ServiceProject;
    before(function () {
        requireOrSkip(this, clusterMissing(), pluginMissing("docker"), pluginMissing("command"));
        c = cluster();
        // The workers get the test image straight from the manager (these rows are about placement, not registries).
        for (const worker of c.nodes.filter((n) => n.role === "worker")) {
            sh("sh", ["-c", `docker -H ${c.dockerHost} save dockyard/busybox:1.35.0 | docker -H ${worker.dockerHost} load -q`]);
        }
        project = serviceProject({ DOCKER_HOST: c.dockerHost });
    });
    after(() => {
        project?.cleanup();
        c?.down();
    });
    rows(CLUSTER, () => project, () => (args) => c.docker(args));
});
