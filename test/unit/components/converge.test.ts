// The convergence wait's own failures, against a fake docker: one line that names the service and
// the command that failed, never a stack trace.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONVERGE_SCRIPT, ROLLOUT_INTERRUPTED, WAIT_MODULE, waitForService, waitProblem } from "../../../components/converge";

/** The wait as its own process, from its source (the package's build may be older than the source under test). */
const WAIT_SOURCE = `(${waitForService.toString()})()`;
/** This project, which installs the package as any project does. */
const PROJECT = path.resolve(__dirname, "../../..");

/** Run the wait against a fake docker that answers each command from `answers` (JSON, by its first words). */
function runAgainst(answers: Record<string, unknown>, timeout = "5s", inspect?: (tmp: string) => void) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
    try {
        fs.writeFileSync(path.join(dir, "answers.json"), JSON.stringify(answers));
        fs.writeFileSync(path.join(dir, "docker"), `#!${process.execPath}
const fs = require("fs");
const all = require(${JSON.stringify(path.join(dir, "answers.json"))});
const args = process.argv.slice(2).join(" ");
fs.appendFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, args + "\\n");
// Once the service was updated, the engine answers from \`afterUpdate\` where it has an answer.
const updated = fs.readFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, "utf8").split("\\n").some((c) => c.startsWith("service update"));
const answers = updated && all.afterUpdate ? { ...all, ...all.afterUpdate } : all;
const key = Object.keys(answers).find((k) => args.startsWith(k));
if (!key) { process.stderr.write("fake docker: no answer for " + args + "\\n"); process.exit(1); }
const a = answers[key];
process.stdout.write(typeof a === "string" ? a : JSON.stringify(a));
`, { mode: 0o755 });
        // Its shared-poll records go under its own TMPDIR, never the machine's.
        const r = spawnSync(process.execPath, ["-e", WAIT_SOURCE], {
            encoding: "utf8",
            env: { PATH: `${dir}:${process.env.PATH}`, TMPDIR: dir, SERVICE_ID: "web-id", SERVICE_NAME: "web", TIMEOUT: timeout },
        });
        inspect?.(dir);
        return r;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("convergence wait", () => {
    it("prints where the service answers: every ready node for the routing mesh, the task's nodes for host mode", () => {
        const template = { ContainerSpec: { Image: "web:1" } };
        const at = "2026-11-24T10:00:00Z";
        const node = (ID: string, Addr: string, State: string, Labels = {}) => ({ ID, Status: { State, Addr }, Spec: { Labels } });
        const r = runAgainst({
            "service inspect web-id": [{
                ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "completed", StartedAt: at },
                Spec: { Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: template, UpdateConfig: { Monitor: 30e9 }, EndpointSpec: { Ports: [
                    { TargetPort: 8080, PublishedPort: 80, PublishMode: "ingress" },
                    { TargetPort: 9090, PublishedPort: 9090, PublishMode: "host" },
                ] } },
            }],
            "service ps -q --no-trunc web-id": "t1\nt2\n",
            "inspect --type task t1 t2": ["n1", "n2"].map((n, i) => ({ ID: `t${i + 1}`, ServiceID: "web-id", NodeID: n, Spec: template, DesiredState: "running", Status: { State: "running" }, UpdatedAt: at })),
            "node ls -q": "n1\nn2\nn3\nn4\nn5\n",
            "node inspect n1 n2 n3 n4 n5": [
                node("n1", "10.213.0.11", "ready"),
                // A manager listening on every address: where it answers is its manager address.
                { ...node("n5", "0.0.0.0", "ready"), ManagerStatus: { Addr: "10.213.0.10:2377" } },
                node("n2", "10.213.0.12", "ready", { "dockyard.address": "edge.example.com" }),
                node("n3", "10.213.0.13", "down"),
                node("n4", "fd00::4", "ready"),
            ],
        }, "5s", (tmp) => {
            // The shared poll's directory is private, and the wait left no record behind.
            const [shared] = fs.readdirSync(tmp).filter((f) => f.startsWith("dockyard-converge-"));
            assert.strictEqual(fs.statSync(path.join(tmp, shared)).mode & 0o777, 0o700);
            assert.deepStrictEqual(fs.readdirSync(path.join(tmp, shared)).sort(), ["waiting"]);
            assert.deepStrictEqual(fs.readdirSync(path.join(tmp, shared, "waiting")), []);
        });
        assert.strictEqual(r.stderr, "");
        assert.strictEqual(r.status, 0);
        assert.strictEqual(r.stdout, JSON.stringify({ endpoints: [
            "10.213.0.10:80", "10.213.0.11:80", "10.213.0.11:9090", "[fd00::4]:80", "edge.example.com:80", "edge.example.com:9090",
        ] }) + "\n");
    });

    it("prints the ports Swarm picked for published \"any\": the service's through the routing mesh, each task's in host mode", () => {
        const template = { ContainerSpec: { Image: "web:1" } };
        const at = "2026-11-24T10:00:00Z";
        const node = (ID: string, Addr: string) => ({ ID, Status: { State: "ready", Addr }, Spec: { Labels: {} } });
        const task = (ID: string, NodeID: string, port: number) => ({ ID, ServiceID: "web-id", NodeID, Spec: template, DesiredState: "running", UpdatedAt: at,
            Status: { State: "running", PortStatus: { Ports: [{ TargetPort: 9090, PublishedPort: port, Protocol: "tcp", PublishMode: "host" }] } } });
        const r = runAgainst({
            "service inspect web-id": [{
                ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "completed", StartedAt: at },
                Spec: { Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: template, UpdateConfig: { Monitor: 30e9 }, EndpointSpec: { Ports: [
                    { TargetPort: 80, PublishMode: "ingress" },
                    { TargetPort: 9090, PublishMode: "host" },
                ] } },
                Endpoint: { Ports: [
                    { TargetPort: 80, PublishedPort: 30001, Protocol: "tcp", PublishMode: "ingress" },
                    { TargetPort: 9090, Protocol: "tcp", PublishMode: "host" },
                ] },
            }],
            "service ps -q --no-trunc web-id": "t1\nt2\n",
            "inspect --type task t1 t2": [task("t1", "n1", 32768), task("t2", "n2", 32771)],
            "node ls -q": "n1\nn2\n",
            "node inspect n1 n2": [node("n1", "10.213.0.11"), node("n2", "10.213.0.12")],
        });
        assert.strictEqual(r.stderr, "");
        assert.strictEqual(r.stdout, JSON.stringify({ endpoints: ["10.213.0.11:30001", "10.213.0.11:32768", "10.213.0.12:30001", "10.213.0.12:32771"] }) + "\n");
    });

    it("fails at once when a port asked to be left to Swarm is still published on a fixed port (the provider kept it)", () => {
        const template = { ContainerSpec: { Image: "web:1" } };
        const at = "2026-11-24T10:00:00Z";
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        try {
            fs.writeFileSync(path.join(dir, "docker"), `#!/bin/sh\necho '${JSON.stringify([{ ID: "web-id", UpdatedAt: at, Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: template,
                EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: "tcp", PublishMode: "host" }, { TargetPort: 90, PublishedPort: 0, Protocol: "tcp", PublishMode: "host" }] } } }])}'\n`, { mode: 0o755 });
            const r = spawnSync(process.execPath, ["-e", WAIT_SOURCE], {
                encoding: "utf8",
                env: { PATH: `${dir}:${process.env.PATH}`, TMPDIR: dir, SERVICE_ID: "web-id", SERVICE_NAME: "web", TIMEOUT: "5s",
                    ANY_PORTS: JSON.stringify([{ target: 80, protocol: "tcp" }, { target: 90, protocol: "tcp" }]) },
            });
            assert.strictEqual(r.status, 1);
            assert.strictEqual(r.stderr, 'dockyard: service web did not converge: its port 80/tcp should be published on one Swarm picks (published "any"), but it is still on 8080: the Docker provider keeps a published port it once set. Deploy once without that port, then with it again (or give a published port)\n');
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("names a node that is down when its tasks keep the rollout from finishing", () => {
        const template = { ContainerSpec: { Image: "web:2" } };
        const at = "2026-11-24T10:00:00Z";
        const r = runAgainst({
            "service inspect web-id": [{
                ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "updating", StartedAt: at },
                Spec: { Mode: { Replicated: { Replicas: 2 } }, TaskTemplate: template },
            }],
            "service ps -q --no-trunc web-id": "t1\nt2\n",
            "inspect --type task t1 t2": [
                { ID: "t1", ServiceID: "web-id", Slot: 1, NodeID: "n1", Spec: template, DesiredState: "running", Status: { State: "running" }, UpdatedAt: at },
                { ID: "t2", ServiceID: "web-id", Slot: 2, NodeID: "n2", Spec: template, DesiredState: "running", Status: { State: "assigned", Message: "assigned" }, UpdatedAt: at },
            ],
            "node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} n2": "worker2 down active\n",
        }, "1s");
        assert.strictEqual(r.status, 1);
        assert.deepStrictEqual(r.stderr.split("\n").slice(0, 2), [
            "dockyard: service web did not converge: not converged after 1s: 1 of 2 tasks running, update updating; node worker2 is down and holds tasks Swarm is waiting for (bring it back, or `docker node rm` it)",
            "  task web.2 (t2) on node worker2 (down): assigned (assigned)",
        ]);
    });

    it("names a down node that holds an old task the rollout waits to stop, even with every new task running", () => {
        const template = { ContainerSpec: { Image: "web:2" } };
        const old = { ContainerSpec: { Image: "web:1" } };
        const at = "2026-11-24T10:00:00Z";
        const r = runAgainst({
            "service inspect web-id": [{
                ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "updating", StartedAt: at },
                Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: template },
            }],
            "service ps -q --no-trunc web-id": "t1\nt2\n",
            "inspect --type task t1 t2": [
                { ID: "t1", ServiceID: "web-id", Slot: 1, NodeID: "n1", Spec: template, DesiredState: "running", Status: { State: "running" }, UpdatedAt: at },
                { ID: "t2", ServiceID: "web-id", Slot: 1, NodeID: "n2", Spec: old, DesiredState: "shutdown", Status: { State: "running" }, UpdatedAt: at },
            ],
            "node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} n1": "manager ready active\n",
            "node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} n2": "worker2 down active\n",
        }, "1s");
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr.split("\n")[0],
            "dockyard: service web did not converge: not converged after 1s: 1 of 1 tasks running, update updating; node worker2 is down and holds tasks Swarm is waiting for (bring it back, or `docker node rm` it)");
    });

    it("says a rollout was interrupted, not failed, when Swarm rolled back over a task its node's drain stopped", () => {
        const template = { ContainerSpec: { Image: "web:2" } };
        const old = { ContainerSpec: { Image: "web:1" } };
        const at = "2026-11-24T10:00:00Z";
        const culprit = "wpra51capcsrh9ne2dshpqxmu";
        const answers = {
            "service inspect web-id": [{
                ID: "web-id", UpdatedAt: at,
                UpdateStatus: { State: "rollback_completed", StartedAt: at, Message: `update rolled back due to failure or early termination of task ${culprit}` },
                Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: old },
            }],
            [`inspect --type task ${culprit}`]: [{ ID: culprit, Slot: 2, NodeID: "n2", Spec: template, DesiredState: "shutdown", Status: { State: "shutdown", Message: "shutdown" } }],
            "node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} n2": "worker2 ready drain\n",
            "service ps -q --no-trunc web-id": "",
        };
        const r = runAgainst(answers);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, `dockyard: service web: ${ROLLOUT_INTERRUPTED}: its task web.2 (wpra51capcsr) was stopped because node worker2 is being drained, and Swarm rolled the update back; deploying again finishes it\n`);
        // The same task failing on an active node is the release's failure, reported as such.
        const failed = runAgainst({
            ...answers,
            [`inspect --type task ${culprit}`]: [{ ...answers[`inspect --type task ${culprit}`][0], Status: { State: "failed", Err: "task: non-zero exit (3)" } }],
            "node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} n2": "worker2 ready active\n",
        });
        assert.strictEqual(failed.status, 1);
        assert.match(failed.stderr, /^dockyard: service web did not converge: Swarm rolled the update back \(update rolled back due to failure or early termination of task wpra51capcsrh9ne2dshpqxmu\)\n/);
    });

    it("says in one line why it cannot follow the rollout when the engine does not answer", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        try {
            fs.writeFileSync(path.join(dir, "docker"), "#!/bin/sh\necho 'Error response from daemon: service web-id not found' >&2\nexit 1\n", { mode: 0o755 });
            // As the tests run it (its source) and as a deploy runs it: the step's script, from the
            // project directory, loading the wait from the installed package (components/dist).
            for (const [script, cwd] of [[WAIT_SOURCE, dir], [CONVERGE_SCRIPT, PROJECT]]) {
                const r = spawnSync(process.execPath, ["-e", script], {
                    encoding: "utf8", cwd,
                    env: { PATH: `${dir}:${process.env.PATH}`, DOCKER_HOST: `unix://${dir}/docker.sock`, TMPDIR: dir, SERVICE_ID: "web-id", SERVICE_NAME: "web", TIMEOUT: "5s" },
                });
                assert.strictEqual(r.stderr,
                    "dockyard: service web: could not follow its rollout: `docker service inspect web-id` failed: Error response from daemon: service web-id not found\n");
                assert.strictEqual(r.status, 1);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("keeps only a loader in the deploy's state, which says in one line why it cannot load the wait, as the Service says before deploying", () => {
        assert.ok(CONVERGE_SCRIPT.length < 700, `${CONVERGE_SCRIPT.length} characters`);
        assert.strictEqual(require(require.resolve(WAIT_MODULE, { paths: [PROJECT] })).waitForService.toString(), waitForService.toString(),
            `${WAIT_MODULE} is not the built wait: run \`npm run build\``);
        assert.strictEqual(waitProblem(PROJECT), undefined);
        const pkg = (version: string, exports: object) => JSON.stringify({ name: "@dockyard/components", version, main: "index.js", exports });
        const projects: Array<[string, Record<string, string>, string]> = [
            ["nothing installed", {}, "@dockyard/components is not installed there; install it in the project the deploy runs from"],
            ["an older package, without the wait's entry", {
                "node_modules/@dockyard/components/package.json": pkg("0.2.0", { ".": "./index.js" }),
                "node_modules/@dockyard/components/index.js": "",
            }, "the @dockyard/components installed there predates the wait's module; install the version the program uses"],
            ["an entry without the wait", {
                "node_modules/@dockyard/components/package.json": pkg("9.9.9", { ".": "./index.js", "./wait": "./wait.js" }),
                "node_modules/@dockyard/components/index.js": "",
                "node_modules/@dockyard/components/wait.js": "exports.other = 1;",
            }, "it has no waitForService"],
        ];
        for (const [what, files, why] of projects) {
            const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "no-project-")));
            try {
                for (const [file, content] of Object.entries(files)) {
                    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
                    fs.writeFileSync(path.join(dir, file), content);
                }
                const r = spawnSync(process.execPath, ["-e", CONVERGE_SCRIPT], { encoding: "utf8", cwd: dir, env: { PATH: process.env.PATH, SERVICE_ID: "web-id" } });
                assert.strictEqual(r.stderr, `dockyard: cannot load the convergence wait (@dockyard/components/wait) from ${dir}: ${why}\n`, what);
                assert.strictEqual(r.status, 1, what);
                // Resolving alone cannot see a module's exports: the Service's own check stops at the first two.
                assert.strictEqual(waitProblem(dir), why === "it has no waitForService" ? undefined : `cannot load the convergence wait (@dockyard/components/wait) from ${dir}: ${why}`, what);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    });

    /** Run the wait against a fake docker that reports a new service (no rollout) whose one task is running. */
    function waitForNewService(monitorNs: number | undefined): { status: number | null; seconds: number } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        try {
            const template = { ContainerSpec: { Image: "app@sha256:1" } };
            const service = [{ ID: "web-id", UpdatedAt: new Date().toISOString(), Spec: { TaskTemplate: template, Mode: { Replicated: { Replicas: 1 } }, UpdateConfig: monitorNs === undefined ? {} : { Monitor: monitorNs } } }];
            const task = [{ ID: "t1", ServiceID: "web-id", Slot: 1, UpdatedAt: new Date().toISOString(), DesiredState: "running", Spec: template, Status: { State: "running" } }];
            fs.writeFileSync(path.join(dir, "service.json"), JSON.stringify(service));
            fs.writeFileSync(path.join(dir, "task.json"), JSON.stringify(task));
            fs.writeFileSync(path.join(dir, "docker"), [
                "#!/bin/sh",
                'case "$1 $2" in',
                `  "service inspect") cat ${dir}/service.json ;;`,
                '  "service ps") echo t1 ;;',
                `  "inspect --type") cat ${dir}/task.json ;;`,
                "  *) exit 1 ;;",
                "esac",
            ].join("\n") + "\n", { mode: 0o755 });
            const started = Date.now();
            const r = spawnSync(process.execPath, ["-e", WAIT_SOURCE], {
                encoding: "utf8",
                env: { PATH: `${dir}:${process.env.PATH}`, DOCKER_HOST: `unix://${dir}/docker.sock`, TMPDIR: dir, SERVICE_ID: "web-id", SERVICE_NAME: "web", TIMEOUT: "1m" },
            });
            return { status: r.status, seconds: (Date.now() - started) / 1000 };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }

    it("takes a new service as converged once its tasks have run for the update monitor period, as docker service create does", function () {
        this.timeout(20_000);
        const r = waitForNewService(1e9);
        assert.strictEqual(r.status, 0);
        assert.ok(r.seconds >= 1 && r.seconds < 3, `waited ${r.seconds} s for a 1 s monitor`);
    });

    it("waits for many services with one shared poll of the engine, not one per service, node states included", async function () {
        this.timeout(30_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
        try {
            // A fake docker that logs every call and knows services s0..s5, each with one running task
            // and one Swarm is stopping on node n1, which is down (so it cannot stop it: no wait for it).
            fs.writeFileSync(path.join(dir, "docker"), `#!${process.execPath}
const fs = require("fs");
const a = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(path.join(dir, "calls.log"))}, a.join(" ") + "\\n");
const template = { ContainerSpec: { Image: "app@sha256:1" } };
const ids = a.filter((x) => /^(s|t-s|u-s)\\d$/.test(x));
if (a[0] === "service" && a[1] === "inspect") console.log(JSON.stringify(ids.map((id) => ({ ID: id, UpdatedAt: "2020-01-01T00:00:00Z", Spec: { TaskTemplate: template, Mode: { Replicated: { Replicas: 1 } }, UpdateConfig: { Monitor: 1e9 } } }))));
else if (a[0] === "service" && a[1] === "ps") console.log(ids.flatMap((id) => ["t-" + id, "u-" + id]).join("\\n"));
else if (a[0] === "inspect") console.log(JSON.stringify(ids.map((t) => ({ ID: t, ServiceID: t.slice(2), NodeID: t.startsWith("u") ? "n1" : "n2", Slot: t.startsWith("u") ? 2 : 1, UpdatedAt: "2020-01-01T00:00:00Z", DesiredState: t.startsWith("u") ? "shutdown" : "running", Spec: template, Status: { State: "running" } }))));
else if (a[0] === "node" && a[1] === "ls") console.log("n1 Down\\nn2 Ready");
else process.exit(1);
`, { mode: 0o755 });
            const waits = [0, 1, 2, 3, 4, 5].map((i) => new Promise<number | null>((resolve) => {
                const child = spawn(process.execPath, ["-e", WAIT_SOURCE], {
                    stdio: "ignore",
                    env: { PATH: `${dir}:${process.env.PATH}`, DOCKER_HOST: `unix://${dir}/docker.sock`, TMPDIR: dir, SERVICE_ID: `s${i}`, SERVICE_NAME: `s${i}`, TIMEOUT: "1m" },
                });
                child.on("exit", resolve);
            }));
            assert.deepStrictEqual(await Promise.all(waits), [0, 0, 0, 0, 0, 0]);
            const calls = fs.readFileSync(path.join(dir, "calls.log"), "utf8").split("\n").filter((c) => c.startsWith("service ps"));
            // Alone, each wait would list its tasks at least 3 times in the 1 s monitor period: 18 calls.
            assert.ok(calls.length <= 8, `${calls.length} task listings:\n${calls.join("\n")}`);
            assert.ok(calls.some((c) => ["s0", "s1", "s2", "s3", "s4", "s5"].every((id) => c.split(" ").includes(id))), calls.join("\n"));
            const all = fs.readFileSync(path.join(dir, "calls.log"), "utf8").split("\n");
            assert.deepStrictEqual(all.filter((c) => c.startsWith("node inspect")), []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("waits no longer than Docker's default monitor, 5 s, when the update monitor is longer or unset", function () {
        this.timeout(30_000);
        for (const monitor of [30e9, undefined]) {
            const r = waitForNewService(monitor);
            assert.strictEqual(r.status, 0);
            assert.ok(r.seconds >= 5 && r.seconds < 7, `waited ${r.seconds} s with monitor ${monitor}`);
        }
    });
});

describe("convergence wait: every shape Swarm accepts", () => {
    const template = (restart?: object) => ({ ContainerSpec: { Image: "app:1" }, ...(restart ? { RestartPolicy: restart } : {}) });
    const at = new Date(Date.now() - 60_000).toISOString();
    /** `seconds` after `at` (in the future when more than 60). */
    const later = (seconds: number) => new Date(Date.parse(at) + seconds * 1000).toISOString();
    const task = (id: string, spec: object, place: { Slot?: number; NodeID?: string }, DesiredState: string, Status: object) =>
        ({ ID: id, ServiceID: "web-id", NodeID: "n1", ...place, Spec: spec, DesiredState, Status, CreatedAt: at, UpdatedAt: at });
    const node = (id: string, state: string) => ({ [`node inspect --format {{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}} ${id}`]: `host-${id} ${state} active\n` });
    /** A fake engine: the service (replicated with `replicas`, or global) and its tasks. */
    const engine = (mode: object, spec: object, tasks: any[], extra: Record<string, unknown> = {}) => ({
        "service inspect web-id": [{ ID: "web-id", UpdatedAt: at, Spec: { Mode: mode, TaskTemplate: spec, UpdateConfig: { Monitor: 1e9 } } }],
        "service ps -q --no-trunc web-id": tasks.map((t) => t.ID).join("\n"),
        ...(tasks.length ? { [`inspect --type task ${tasks.map((t) => t.ID).join(" ")}`]: tasks } : {}),
        ...extra,
    });
    const running = { State: "running" };
    const exited0 = { State: "complete", ContainerStatus: { ExitCode: 0 } };
    const exited3 = { State: "failed", Err: "task: non-zero exit (3)", ContainerStatus: { ExitCode: 3 } };
    const none = template({ Condition: "none" });
    const once = template({ Condition: "on-failure", MaxAttempts: 1 });
    const windowed = template({ Condition: "on-failure", MaxAttempts: 1, Window: 10e9 });
    const rows: Array<{ shape: string; answers: Record<string, unknown>; status: number; stderr?: string; within: [number, number]; timeout?: string }> = [
        { shape: "replicas: 0, no task", answers: engine({ Replicated: { Replicas: 0 } }, template(), []), status: 0, within: [0, 10], timeout: "30s" },
        { shape: "scaled to 0, a task still stopping on a ready node", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 0 } }, template(), [task("t1", template(), { Slot: 1 }, "shutdown", running)], node("n1", "ready")),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 0 tasks running, 1 still stopping" },
        { shape: "scaled to 0, the last task on a node that is down", status: 0, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 0 } }, template(), [task("t1", template(), { Slot: 1 }, "shutdown", running)], node("n1", "down")) },
        { shape: "scaled 3 to 1 before Swarm stopped the other two", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, template(), [1, 2, 3].map((i) => task(`t${i}`, template(), { Slot: i }, "running", running))),
            stderr: "dockyard: service web did not converge: not converged after 1s: 3 of 1 tasks running" },
        { shape: "global, no node eligible (no task)", answers: engine({ Global: {} }, template(), []), status: 0, within: [2, 3.5], timeout: "10s" },
        { shape: "global, its one task failed and the next waiting out its restart delay", status: 1, within: [1, 3],
            answers: engine({ Global: {} }, template(), [task("t1", template(), { NodeID: "n1" }, "shutdown", exited3), task("t2", template(), { NodeID: "n1" }, "ready", { State: "ready" })]),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 0 tasks running" },
        { shape: "global, two nodes running", status: 0, within: [1, 2.5],
            answers: engine({ Global: {} }, template(), [task("t1", template(), { NodeID: "n1" }, "running", running), task("t2", template(), { NodeID: "n2" }, "running", running)]) },
        { shape: "restart none, every task exited 0", status: 0, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 2 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited0), task("t2", none, { Slot: 2 }, "shutdown", exited0)]) },
        { shape: "restart on-failure, the task exited 0", status: 0, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 1 } }, template({ Condition: "on-failure" }), [task("t1", template({ Condition: "on-failure" }), { Slot: 1 }, "shutdown", exited0)]) },
        { shape: "restart none, a task failed", status: 1, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 2 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited0), task("t2", none, { Slot: 2 }, "shutdown", exited3)]),
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart condition is none)" },
        // Swarm restarts a task MaxAttempts times: the place has failed for good at MaxAttempts + 1 failures.
        { shape: "restart on-failure with max 1 attempt, its task failed twice", status: 1, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 1 } }, template({ Condition: "on-failure", MaxAttempts: 1 }), ["t1", "t2"].map((id) => task(id, template({ Condition: "on-failure", MaxAttempts: 1 }), { Slot: 1 }, "shutdown", exited3))),
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart policy restarts a task at most 1 time)" },
        { shape: "restart on-failure with max 2 attempts, its task failed twice (Swarm starts a third)", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, template({ Condition: "on-failure", MaxAttempts: 2 }), ["t1", "t2"].map((id) => task(id, template({ Condition: "on-failure", MaxAttempts: 2 }), { Slot: 1 }, "shutdown", exited3))),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running" },
        // Swarm counts the restarts created within the window before the failed task ended.
        { shape: "restart on-failure with max 1 attempt within 10 s, its restart failed 30 s after it started (Swarm starts another)", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, windowed, [
                { ...task("t1", windowed, { Slot: 1 }, "shutdown", { ...exited3, Timestamp: later(0) }), CreatedAt: later(-5) },
                { ...task("t2", windowed, { Slot: 1 }, "shutdown", { ...exited3, Timestamp: later(30) }), CreatedAt: later(0) },
            ]),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running" },
        { shape: "restart on-failure with max 1 attempt within 10 s, its restart failed 5 s after it started", status: 1, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 1 } }, windowed, [
                { ...task("t1", windowed, { Slot: 1 }, "shutdown", { ...exited3, Timestamp: later(0) }), CreatedAt: later(-12) },
                { ...task("t2", windowed, { Slot: 1 }, "shutdown", { ...exited3, Timestamp: later(5) }), CreatedAt: later(0) },
            ]),
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart policy restarts a task at most 1 time)" },
        // After a change that starts no task, the restart of a task from before it is the new version's first.
        { shape: "restart on-failure with max 1 attempt, a change of labels, then the old task and its restart failed", status: 1, within: [0, 10], timeout: "30s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, once, [
                task("t1", once, { Slot: 1 }, "shutdown", exited3),
                { ...task("t2", once, { Slot: 1 }, "shutdown", exited3), CreatedAt: later(20) },
            ]), "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(10), Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: once, UpdateConfig: { Monitor: 1e9 } } }] },
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart policy restarts a task at most 1 time)" },
        { shape: "restart any with max 1 attempt, its task exited 0 twice (Swarm starts no other)", status: 0, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 1 } }, template({ Condition: "any", MaxAttempts: 1 }), ["t1", "t2"].map((id) => task(id, template({ Condition: "any", MaxAttempts: 1 }), { Slot: 1 }, "shutdown", exited0))) },
        // A rollout can rebuild a slot: a task a rollout replaced is no failure, and its successor no restart.
        { shape: "restart on-failure with max 1 attempt, a task replaced by a rollout, then its successor failed", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, once, [
                { ...task("t1", { ContainerSpec: { Image: "app:0" }, RestartPolicy: { Condition: "on-failure", MaxAttempts: 1 } }, { Slot: 1 }, "shutdown", { State: "shutdown" }), CreatedAt: later(-30) },
                task("t2", once, { Slot: 1 }, "shutdown", exited3),
            ]),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running" },
        { shape: "an update of tasks that exit 0 under restart on-failure, which Swarm rolled back", status: 1, within: [0, 10], timeout: "30s",
            answers: {
                ...engine({ Replicated: { Replicas: 1 } }, template({ Condition: "on-failure" }), [
                    task("t1", template({ Condition: "on-failure" }), { Slot: 1 }, "shutdown", exited0),
                    task("t2", { ContainerSpec: { Image: "app:2" }, RestartPolicy: { Condition: "on-failure" } }, { Slot: 1 }, "shutdown", exited0),
                ]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "rollback_completed", StartedAt: at, Message: "rollback completed" },
                    Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: template({ Condition: "on-failure" }) } }],
            },
            stderr: "dockyard: service web did not converge: Swarm rolled the update back (rollback completed); the new tasks exited with code 0 during the rollout, which Swarm counts as a failure: for a one-shot service set the restart condition to none" },
        { shape: "a completed rollout with no monitor period (a one-shot service's), its task running", status: 0, within: [5, 7], timeout: "10s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [task("t1", none, { Slot: 1 }, "running", running)]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "completed", StartedAt: at }, Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none } }] } },
        { shape: "a completed rollout with no monitor period, its task crashing just after", status: 1, within: [0, 10], timeout: "30s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited3)]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: at, UpdateStatus: { State: "completed", StartedAt: at }, Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none } }] },
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart condition is none)" },
        { shape: "restart any, tasks that keep exiting 0", status: 1, within: [0, 10], timeout: "30s",
            answers: engine({ Replicated: { Replicas: 1 } }, template(), ["t1", "t2", "t3"].map((id) => task(id, template(), { Slot: 1 }, "shutdown", exited0))),
            stderr: "dockyard: service web did not converge: its tasks keep exiting (3 exited with code 0 in one slot) and its restart condition any starts them again; for a one-shot task set the restart condition to none" },
        { shape: "restart any, three slots whose tasks exited 0 once each (Swarm restarting them)", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 3 } }, template(), [1, 2, 3].map((i) => task(`t${i}`, template(), { Slot: i }, "shutdown", exited0))),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 3 tasks running" },
        // A timeout with no task of the current spec names what there is instead.
        { shape: "no task of the current spec, one of an earlier spec running", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, template(), [task("t1", { ContainerSpec: { Image: "app:0" } }, { Slot: 1 }, "running", running)]),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running; Swarm has started no task of its current spec (1 task of earlier specs)" },
        { shape: "replicas: 1 and no task at all", status: 1, within: [1, 3],
            answers: engine({ Replicated: { Replicas: 1 } }, template(), []),
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running; Swarm has started no task for it" },
        // Tasks from before the change: the service was updated after them.
        { shape: "an update back to a one-shot's earlier spec, its old tasks completed, the new not yet started", status: 1, within: [1, 3],
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited0)]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(3600), Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none, UpdateConfig: { Monitor: 1e9 } } }] },
            stderr: "dockyard: service web did not converge: not converged after 1s: 0 of 1 tasks running" },
        { shape: "an update back to a one-shot's earlier spec, its old tasks completed, no new one started within 2 s (they stand)", status: 0, within: [2, 3.5], timeout: "10s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited0)]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(3600), Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none, UpdateConfig: { Monitor: 1e9 } } }] } },
        // Swarm moves UpdatedAt on when a rollout completes: its tasks were created before that.
        { shape: "a rollout Swarm completed before the wait began, its new task failed under restart none", status: 1, within: [0, 10], timeout: "30s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [{ ...task("t1", none, { Slot: 1 }, "shutdown", exited3), CreatedAt: later(1) }]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(1.5), UpdateStatus: { State: "completed", StartedAt: later(0), CompletedAt: later(1.5) },
                    Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none, UpdateConfig: { Monitor: 0 } } }] },
            stderr: "dockyard: service web did not converge: 1 task failed and Swarm starts no other (its restart condition is none)" },
        { shape: "a change that starts no task, to a one-shot service whose task completed before it (it stands after 2 s)", status: 0, within: [2, 3.5], timeout: "10s",
            answers: { ...engine({ Replicated: { Replicas: 1 } }, none, [task("t1", none, { Slot: 1 }, "shutdown", exited0)]),
                "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(30), Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: none, UpdateConfig: { Monitor: 1e9 } } }] } },
        { shape: "an update back to an earlier spec whose old tasks failed, its new task running", status: 0, within: [1, 2.5],
            answers: { ...engine({ Replicated: { Replicas: 1 } }, template(), [
                ...["t1", "t2", "t3"].map((id) => task(id, template(), { Slot: 1 }, "shutdown", exited3)),
                { ...task("t4", template(), { Slot: 1 }, "running", running), CreatedAt: later(3600) },
            ]), "service inspect web-id": [{ ID: "web-id", UpdatedAt: later(3600), Spec: { Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: template(), UpdateConfig: { Monitor: 1e9 } } }] } },
    ];
    // Swarm's restart of a failed task can race a rollout: both start a task of the new spec in one
    // slot, and Swarm removes the extra one only when it next reconciles the service.
    const rollout = (State: string, StartedAt: string, CompletedAt?: string, mode: object = { Replicated: { Replicas: 1 } }, Monitor = 1e9) => ({ "service inspect web-id": [{
        ID: "web-id", UpdatedAt: CompletedAt ?? StartedAt, UpdateStatus: { State, StartedAt, ...(CompletedAt ? { CompletedAt } : {}) },
        Spec: { Mode: mode, TaskTemplate: template(), UpdateConfig: { Monitor } } }] });
    const twice = [task("t1", template(), { Slot: 1 }, "running", running), task("t2", template(), { Slot: 1 }, "running", running)];
    const crowded = { ...engine({ Replicated: { Replicas: 1 } }, template(), twice, { "service update": "web-id\n" }), ...rollout("completed", later(0), later(1.5)) };
    const nudge = "dockyard: service web: Swarm runs task web.1 twice (its restart of a failed task likely raced the rollout); asking it to reconcile the service with an update that changes nothing";
    const updates = (tmp: string) => fs.readFileSync(path.join(tmp, "calls.log"), "utf8").split("\n").filter((c) => c.startsWith("service update"));
    it("two tasks of the current spec in one slot after a completed rollout: asks Swarm once to reconcile the service (an update that changes nothing), then follows that rollout", function () {
        this.timeout(20_000);
        let calls: string[] = [];
        const started = Date.now();
        const r = runAgainst({ ...crowded, afterUpdate: {
            [`inspect --type task t1 t2`]: [task("t1", template(), { Slot: 1 }, "running", running), task("t2", template(), { Slot: 1 }, "shutdown", { State: "shutdown" })],
            ...rollout("completed", later(5), later(6)),
        } }, "30s", (tmp) => { calls = updates(tmp); });
        const seconds = (Date.now() - started) / 1000;
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stderr, nudge + "\n");
        assert.deepStrictEqual(calls, ["service update --detach --quiet --no-resolve-image web-id"]);
        // (2 s before it asks; then the rollout it asked for has completed.)
        assert.ok(seconds >= 2 && seconds <= 10, `took ${seconds} s`);
    });
    it("two tasks of the current spec in one slot that Swarm keeps when asked: fails at the timeout saying so, having asked once", function () {
        this.timeout(20_000);
        let calls: string[] = [];
        const r = runAgainst(crowded, "4s", (tmp) => { calls = updates(tmp); });
        assert.strictEqual(r.status, 1);
        assert.deepStrictEqual(r.stderr.split("\n").slice(0, 2), [nudge,
            "dockyard: service web did not converge: not converged after 4s: 2 of 1 tasks running, update completed; Swarm still runs task web.1 twice after it was asked to reconcile the service (`docker service update --force web` replaces every task)"]);
        assert.deepStrictEqual(calls, ["service update --detach --quiet --no-resolve-image web-id"]);
    });
    it("a request to reconcile that the engine refuses: warns with the engine's reason and keeps waiting", function () {
        this.timeout(20_000);
        const refusing: Record<string, unknown> = { ...crowded };
        delete refusing["service update"];
        const r = runAgainst(refusing, "4s");
        assert.strictEqual(r.status, 1);
        assert.deepStrictEqual(r.stderr.split("\n").slice(0, 3), [nudge,
            "dockyard: service web: could not ask Swarm to reconcile it: `docker service update --detach --quiet --no-resolve-image web-id` failed: fake docker: no answer for service update --detach --quiet --no-resolve-image web-id; still waiting",
            "dockyard: service web did not converge: not converged after 4s: 2 of 1 tasks running, update completed; Swarm still runs task web.1 twice after it was asked to reconcile the service (`docker service update --force web` replaces every task)"]);
    });
    it("the rollout asked for still running at the timeout: says it is the one Dockyard asked for", function () {
        this.timeout(20_000);
        const r = runAgainst({ ...crowded, afterUpdate: {
            [`inspect --type task t1 t2`]: [task("t1", template(), { Slot: 1 }, "running", running), task("t2", template(), { Slot: 1 }, "shutdown", { State: "shutdown" })],
            ...rollout("updating", later(5)),
        } }, "4s");
        assert.strictEqual(r.status, 1);
        assert.deepStrictEqual(r.stderr.split("\n").slice(0, 2), [nudge,
            "dockyard: service web did not converge: not converged after 4s: 1 of 1 tasks running, update updating (the one Dockyard asked for to have Swarm reconcile the service)"]);
    });
    it("two tasks of the current spec in one slot while a rollout is under way: Swarm's own rollout, nothing asked", function () {
        this.timeout(20_000);
        let calls: string[] = [];
        const r = runAgainst({ ...crowded, ...rollout("updating", later(0)) }, "4s", (tmp) => { calls = updates(tmp); });
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr.split("\n")[0], "dockyard: service web did not converge: not converged after 4s: 2 of 1 tasks running, update updating");
        assert.deepStrictEqual(calls, []);
    });
    it("a global service's tasks (they have no slot) running for a monitor period longer than the wait's hold: converges, nothing asked", function () {
        this.timeout(20_000);
        let calls: string[] = [];
        const tasks = [task("t1", template(), { NodeID: "n1" }, "running", running), task("t2", template(), { NodeID: "n2" }, "running", running)];
        const r = runAgainst({ ...engine({ Global: {} }, template(), tasks), "service inspect web-id": [{ ID: "web-id", UpdatedAt: at, Spec: { Mode: { Global: {} }, TaskTemplate: template(), UpdateConfig: { Monitor: 4e9 } } }] },
            "30s", (tmp) => { calls = updates(tmp); });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stderr, "");
        assert.deepStrictEqual(calls, []);
    });
    it("at the timeout, shows the tasks Swarm has when none is of the current spec", function () {
        this.timeout(20_000);
        const r = runAgainst(engine({ Replicated: { Replicas: 1 } }, template(), [
            task("t1", { ContainerSpec: { Image: "app:0" } }, { Slot: 1 }, "running", running),
            { ...task("t2", { ContainerSpec: { Image: "app:0" } }, { Slot: 1 }, "shutdown", { State: "rejected", Err: "No such image: app:0" }), UpdatedAt: later(5) },
        ], { "service logs": "" }), "1s");
        assert.strictEqual(r.status, 1);
        assert.deepStrictEqual(r.stderr.split("\n").slice(1, 3), [
            "  task web.1 (t2): rejected: No such image: app:0",
            "  task web.1 (t1): running",
        ]);
    });
    // A result "at once" is bounded at 10 s under a 30 s timeout: well apart from the timeout on a busy machine.
    for (const row of rows) {
        it(`${row.shape}: ${row.status === 0 ? "converges" : "fails"} within ${row.within[0]}-${row.within[1]} s`, function () {
            this.timeout(20_000);
            const started = Date.now();
            // A row that converges is given time to on a busy machine; its bound still says how soon it did.
            const r = runAgainst(row.answers, row.timeout ?? (row.status === 0 ? "30s" : "1s"));
            const seconds = (Date.now() - started) / 1000;
            assert.strictEqual(r.status, row.status, r.stderr);
            if (row.stderr) assert.strictEqual(r.stderr.split("\n")[0], row.stderr);
            else assert.strictEqual(r.stderr, "");
            assert.ok(seconds >= row.within[0] && seconds <= row.within[1], `took ${seconds} s`);
        });
    }
});
