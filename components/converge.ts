// Waiting for a Swarm service to converge, by Swarm's own word, and saying why when it does not.
//
// `waitForService` runs in its own Node.js process (a `command.local.Command`, so it shows in
// previews and runs wherever the deploy runs, against whatever DOCKER_HOST points at). It asks the
// engine, through the docker CLI, for the service's update status and its tasks, every half second:
// - a rolling update has converged when Swarm reports its update status `completed`;
// - a new service (or a change that starts no rollout) when every task it wants has been running
//   for the service's update monitor period, at most 5 seconds, as `docker service create` checks
//   (for a task with a health check, running means healthy), and the tasks Swarm is stopping have
//   stopped; a task that exited 0 counts as done when the restart policy starts no other (a one-shot
//   task), so `replicas: 0`, a one-shot service and a global service no node is eligible for converge;
// - it has failed when Swarm pauses or rolls the update back, when tasks keep failing, when a task
//   failed and the restart policy starts no other (after MaxAttempts restarts), when one place's
//   tasks keep exiting under the policy `any`, when no node can take a task, or when the timeout passes.
// Only tasks created since the service's last change count as failed or done for it (an update back
// to an earlier spec matches that spec's old tasks), unless no newer task replaces them within 2 s.
// On success it prints where the service answers (`{"endpoints": [...]}`, the Service's `endpoints`).
// On failure it prints, per task, the node it was on, the state and error, exit code, last health-check results and the
// last lines of the task's log, and exits 1, which fails `pulumi up`.
//
// Where the deploy runs, `CONVERGE_SCRIPT` (a few hundred bytes, kept in each wait step's inputs)
// loads this module from the installed package (`@dockyard/components/wait`) and runs the function;
// the function itself (12 KB) stays out of the state. It uses nothing from outside its own body, so
// the unit tests can run its source text as it stands.

import { createRequire } from "module";
import * as path from "path";

/* eslint-disable */
export function waitForService(): void {
    const { execFileSync } = require("child_process") as typeof import("child_process");
    const env = process.env;
    const id = env.SERVICE_ID ?? "";
    const name = env.SERVICE_NAME ?? id;
    const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    const ms = (d: string) => [...d.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)].reduce((t, m) => t + Number(m[1]) * units[m[2]], 0);
    const timeout = ms(env.TIMEOUT || "5m");
    const started = Date.now();
    // Anything that breaks while following the rollout (the engine unreachable, the service
    // removed) ends the wait with one line that says so, not a stack trace.
    process.on("uncaughtException", (e) => {
        process.stderr.write(`dockyard: service ${name}: could not follow its rollout: ${e.message}\n`);
        process.exit(1);
    });

    const docker = (args: string[], timeoutMs = 20_000): string => {
        try {
            return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
        } catch (e: any) {
            throw new Error(`\`docker ${args.join(" ")}\` failed: ${String(e.stderr || e.message).trim().split("\n")[0]}`);
        }
    };
    const json = (args: string[]) => JSON.parse(docker(args));
    const sleep = (n: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, n);

    const service = () => json(["service", "inspect", id])[0];
    const tasks = (): any[] => {
        const ids = docker(["service", "ps", "-q", "--no-trunc", id]).split("\n").filter(Boolean);
        return ids.length ? json(["inspect", "--type", "task", ...ids]) : [];
    };
    const short = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}...` : s);

    /** A task's node: its hostname and state (`ready`, `down`...); undefined when it left the Swarm. */
    const nodeOf = (nodeId: string | undefined): { host: string; state: string; availability: string } | undefined => {
        if (!nodeId) return undefined;
        try {
            const [host, state, availability] = docker(["node", "inspect", "--format", "{{.Description.Hostname}} {{.Status.State}} {{.Spec.Availability}}", nodeId], 5000).trim().split(" ");
            return { host, state, availability };
        } catch {
            return undefined;
        }
    };

    // One poll shared by every wait against the same engine (a deploy of 50 services runs 50 waits
    // at once, and a docker command per service every half second would keep 2 cores busy): a wait
    // that wakes to find no record newer than the one it used last takes a lock and asks the engine
    // about every service still waited for, with three docker commands in all, and leaves each
    // service's record in a file of its own; the others read theirs. A wait uses only records taken
    // after it started, and polls alone when the shared poll fails (a service removed meanwhile).
    // The directory is the user's own (0700, refused if anyone else owns it or it is a link), and
    // the records carry no environment values (they may be secrets): a hash of them stands in.
    const fs = require("fs") as typeof import("fs");
    const path = require("path") as typeof import("path");
    const POLL_MS = 500;
    const hash = (s: string) => require("crypto").createHash("sha256").update(s).digest("hex");
    const engine = hash(`${env.DOCKER_HOST ?? ""}|${env.DOCKER_CONTEXT ?? ""}|${env.DOCKER_CONFIG ?? ""}|${process.getuid?.() ?? ""}`).slice(0, 12);
    const dir = path.join(require("os").tmpdir(), `dockyard-converge-${engine}`);
    const lock = path.join(dir, "lock");
    let shared = false;
    try {
        fs.mkdirSync(path.join(dir, "waiting"), { recursive: true, mode: 0o700 });
        const st = fs.lstatSync(dir);
        shared = st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
    } catch {
        // No shared poll: this wait polls alone.
    }
    process.on("exit", () => {
        if (!shared) return;
        fs.rmSync(path.join(dir, "waiting", id), { force: true });
        fs.rmSync(path.join(dir, `${id}.json`), { force: true });
    });
    const redact = (spec: any) => {
        const c = spec?.ContainerSpec;
        if (c?.Env) c.Env = [`sha256:${hash(JSON.stringify(c.Env))}`];
        return spec;
    };
    const age = (f: string) => { try { return Date.now() - fs.statSync(f).mtimeMs; } catch { return Infinity; } };
    const own = () => ({ svc: service(), all: tasks() });
    const poll = () => {
        const ids = fs.readdirSync(path.join(dir, "waiting")).filter((w) => age(path.join(dir, "waiting", w)) < 10 * POLL_MS);
        const at = Date.now();
        const services: any[] = json(["service", "inspect", ...ids]);
        const taskIds = docker(["service", "ps", "-q", "--no-trunc", ...ids]).split("\n").filter(Boolean);
        const all: any[] = taskIds.length ? json(["inspect", "--type", "task", ...new Set(taskIds)]) : [];
        for (const t of all) redact(t.Spec);
        // Node states, for every wait's question whether a node can stop its tasks (not one node inspect per wait).
        let nodes: Record<string, string> | undefined;
        try {
            nodes = Object.fromEntries(docker(["node", "ls", "--format", "{{.ID}} {{.Status}}"]).split("\n").filter(Boolean).map((l) => l.split(" ")).map(([n, st]) => [n, st.toLowerCase()]));
        } catch {
            // Not a manager's answer: each wait asks about its nodes itself.
        }
        for (const svc of services) {
            redact(svc.Spec?.TaskTemplate);
            delete svc.PreviousSpec;
            const file = path.join(dir, `${svc.ID}.json`);
            fs.writeFileSync(`${file}.${process.pid}`, JSON.stringify({ at, svc, all: all.filter((t) => t.ServiceID === svc.ID), nodes }), { mode: 0o600 });
            fs.renameSync(`${file}.${process.pid}`, file);
        }
    };
    let seen = 0;
    const observe = (): { svc: any; all: any[]; nodes?: Record<string, string> } => {
        if (!shared) return own();
        fs.writeFileSync(path.join(dir, "waiting", id), "", { mode: 0o600 });
        const mine = path.join(dir, `${id}.json`);
        for (let tries = 0; tries < 40; tries++) {
            try {
                const snap = JSON.parse(fs.readFileSync(mine, "utf8"));
                if (snap.at >= started && snap.at > seen) {
                    seen = snap.at;
                    return snap;
                }
            } catch {
                // No record yet (or one being replaced): poll, or wait for the poll under way.
            }
            if (age(lock) > 20 * POLL_MS) fs.rmSync(lock, { recursive: true, force: true });
            let leader = false;
            try {
                fs.mkdirSync(lock);
                leader = true;
                poll();
            } catch {
                if (leader) return own();
            } finally {
                if (leader) fs.rmSync(lock, { recursive: true, force: true });
            }
            if (!leader) sleep(50);
        }
        return own();
    };

    /** Everything the engine knows about why a task is not running, in a few lines. */
    const explain = (t: any): string[] => {
        const st = t.Status ?? {};
        const where = nodeOf(t.NodeID);
        const node = where ? ` on node ${where.host}${where.state === "ready" ? "" : ` (${where.state})`}` : "";
        const out = [`task ${name}.${t.Slot ?? t.NodeID?.slice(0, 12) ?? ""} (${String(t.ID).slice(0, 12)})${node}: ${st.State}${st.Err ? `: ${st.Err}` : st.Message ? ` (${st.Message})` : ""}`];
        const code = st.ContainerStatus?.ExitCode;
        if (code !== undefined && code !== 0 && st.State !== "running") out.push(`  exit code ${code}`);
        const container = st.ContainerStatus?.ContainerID;
        if (container) {
            try {
                const c = json(["container", "inspect", container])[0];
                const health = (c.State?.Health?.Log ?? []).slice(-3);
                for (const h of health) out.push(`  health check exited ${h.ExitCode}: ${short(String(h.Output ?? "").trim().replace(/\s+/g, " ")) || "(no output)"}`);
            } catch {
                // The container is on another node or already gone: the task's own record has to do.
            }
        }
        try {
            const log = docker(["service", "logs", "--raw", "--tail", "5", String(t.ID)], 5000).trim().split("\n").filter(Boolean);
            if (log.length) out.push("  last log lines:", ...log.map((l) => `    ${short(l)}`));
        } catch {
            // No logs for tasks that never started.
        }
        return out;
    };

    const fail = (reason: string, culprits: any[]): never => {
        const lines = [`dockyard: service ${name} did not converge: ${reason}`];
        for (const t of culprits.slice(0, 3)) lines.push(...explain(t).map((l) => `  ${l}`));
        process.stderr.write(lines.join("\n") + "\n");
        process.exit(1);
    };

    /**
     * Success: print where the service answers, `{"endpoints": ["address:port", ...]}`, and exit 0.
     * A port published through the routing mesh answers on every node; a host-mode port on the
     * nodes running a task. A node's address is its label `dockyard.address` when set (a public
     * name, say), else the address it has in the Swarm.
     */
    const converged = (svc: any, running: any[]): never => {
        // The ports as Swarm published them (with the port it picked for one published "any"), else as asked.
        const ports: any[] = svc.Endpoint?.Ports?.length ? svc.Endpoint.Ports : svc.Spec?.EndpointSpec?.Ports ?? [];
        const endpoints = new Set<string>();
        if (ports.length) {
            const ids = docker(["node", "ls", "-q"]).split("\n").filter(Boolean);
            const nodes: any[] = ids.length ? json(["node", "inspect", ...ids]) : [];
            // A manager's Status.Addr can be 0.0.0.0 (listening on every address): its manager address says where.
            const address = (n: any) => {
                const status = n.Status?.Addr && n.Status.Addr !== "0.0.0.0" ? n.Status.Addr : undefined;
                const manager = n.ManagerStatus?.Addr ? String(n.ManagerStatus.Addr).replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1") : undefined;
                const a: string = n.Spec?.Labels?.["dockyard.address"] || status || manager || "localhost";
                return a.includes(":") && !a.startsWith("[") ? `[${a}]` : a;
            };
            const byId = new Map(nodes.map((n) => [n.ID, n]));
            for (const p of ports) {
                if (p.PublishMode !== "host") {
                    if (p.PublishedPort) for (const n of nodes.filter((n) => n.Status?.State === "ready")) endpoints.add(`${address(n)}:${p.PublishedPort}`);
                    continue;
                }
                // Host mode: on each node running a task, at the port that task's node gave it when Swarm
                // picked one (the n-th such port of a target and protocol is the task's n-th).
                const same = (x: any) => x.TargetPort === p.TargetPort && (x.Protocol ?? "tcp") === (p.Protocol ?? "tcp");
                const nth = ports.filter((x) => x.PublishMode === "host" && same(x)).indexOf(p);
                for (const t of running) {
                    const n = byId.get(t.NodeID);
                    const own = (t.Status?.PortStatus?.Ports ?? []).filter(same)[nth];
                    const port = p.PublishedPort || own?.PublishedPort;
                    if (n && port) endpoints.add(`${address(n)}:${port}`);
                }
            }
        }
        require("fs").writeSync(1, JSON.stringify({ endpoints: [...endpoints].sort() }) + "\n");
        process.exit(0);
    };

    /**
     * Swarm counts a new task that its node's drain (or loss) stopped as a failed one, and rolls the
     * update back. That is no verdict on the release: say so (ROLLOUT_INTERRUPTED, which Dockyard's
     * deploy acts on by deploying once more) once Swarm has finished rolling back, and exit 1.
     */
    const interruption = (update: any): void => {
        if (update.State !== "rollback_started" && update.State !== "rollback_completed") return;
        const id = /task ([a-z0-9]{25})/.exec(update.Message ?? "")?.[1];
        if (!id) return;
        let task: any;
        try {
            task = json(["inspect", "--type", "task", id])[0];
        } catch {
            return;
        }
        const where = nodeOf(task.NodeID);
        const stopped = task.Status?.State === "shutdown" && !task.Status?.Err && task.DesiredState === "shutdown";
        if (!stopped || !where || (where.availability !== "drain" && where.state === "ready")) return;
        while (/^(rollback_started|updating)$/.test(service().UpdateStatus?.State ?? "") && Date.now() - started < timeout) sleep(POLL_MS);
        const why = where.availability === "drain" ? `node ${where.host} is being drained` : `node ${where.host} is ${where.state}`;
        process.stderr.write(`dockyard: service ${name}: the rollout was interrupted, not failed: its task ${name}.${task.Slot ?? ""} (${id.slice(0, 12)}) was stopped because ${why}, and Swarm rolled the update back; deploying again finishes it\n`);
        process.exit(1);
    };

    // The update status at the start belongs to an earlier rollout when it began before the last
    // change to the service; any other status (now or later) is this change's rollout.
    const first = service();
    // A port asked to be left to Swarm that the service still publishes on a fixed port: the Docker
    // provider keeps a published port it once set (it reads the port back as its own), so a port
    // changed to "any", or one that took the place of a removed port, keeps the old number.
    const anyPorts: Array<{ target: number; protocol: string }> = env.ANY_PORTS ? JSON.parse(env.ANY_PORTS) : [];
    const specPorts: any[] = first.Spec?.EndpointSpec?.Ports ?? [];
    const pinned = anyPorts.map((a) => specPorts.find((p) => p.TargetPort === a.target && (p.Protocol ?? "tcp") === a.protocol && p.PublishedPort > 0)).filter(Boolean);
    if (pinned.length) {
        fail(`its port${pinned.length === 1 ? "" : "s"} ${pinned.map((p) => `${p.TargetPort}/${p.Protocol ?? "tcp"}`).join(", ")} should be published on one Swarm picks (published "any"), ` +
            `but ${pinned.length === 1 ? "it is" : "they are"} still on ${pinned.map((p) => p.PublishedPort).join(", ")}: the Docker provider keeps a published port it once set. ` +
            `Deploy once without ${pinned.length === 1 ? "that port" : "those ports"}, then with ${pinned.length === 1 ? "it" : "them"} again (or give a published port)`, []);
    }
    // (Swarm moves UpdatedAt on when it completes a rollout, at its CompletedAt: that one is this change's.)
    const near = (a: string | undefined, b: string | undefined) => Math.abs(Date.parse(a ?? "") - Date.parse(b ?? "")) <= 1000;
    const stale = first.UpdateStatus && Date.parse(first.UpdateStatus.StartedAt) < Date.parse(first.UpdatedAt) - 1000 && !near(first.UpdateStatus.CompletedAt, first.UpdatedAt)
        ? first.UpdateStatus.StartedAt : undefined;
    // A task runs the current version when its spec is the service's task template (Docker fills
    // in the template's default runtime, which tasks do not repeat).
    const specOf = (spec: any) => JSON.stringify({ ...spec, Runtime: undefined });

    // Without a rollout for Swarm to monitor (a new service, or a change that replaces no task), the
    // same tasks must stay running for the update monitor period, the time Swarm itself watches a
    // new task before it counts it healthy, and `docker service create` waits before it reports a
    // service converged: a task that starts and crashes at once is running for an instant. Longer
    // monitors (Dockyard's default is 30 s) are cut to Docker's default monitor, 5 s, the window
    // `docker service create` uses when none is set.
    const DOCKER_DEFAULT_MONITOR_MS = 5000;
    const STABLE_MS = Math.min(first.Spec?.UpdateConfig?.Monitor / 1e6 || DOCKER_DEFAULT_MONITOR_MS, DOCKER_DEFAULT_MONITOR_MS);
    const EMPTY_GLOBAL_MS = 2000;
    // What the restart policy does with a task that ended: `none` leaves every ended task ended,
    // `on-failure` one that exited 0, and `MaxAttempts` is how many times Swarm restarts a place's
    // task per version of the service (within `Window` when one is set), as its restart supervisor
    // counts: the place's first task and MaxAttempts restarts.
    const restart = first.Spec?.TaskTemplate?.RestartPolicy ?? {};
    const condition: string = restart.Condition ?? "any";
    const attempts: number = restart.MaxAttempts ?? 0;
    const restartWindow: number = (restart.Window ?? 0) / 1e6;
    // Tasks of this change are created after the change: the service's update as the wait first
    // sees it (Swarm moves UpdatedAt on itself as a rollout starts and ends; the rollout's start is
    // the earlier mark then). Both times are the manager's clock. A task from before the change that
    // has ended (a one-shot's, or one that failed) says nothing about it until Swarm has had time to
    // start the tasks the change calls for: an update back to an earlier spec matches that spec's old
    // tasks. HOLD_MS after the wait began (on this machine's clock; Swarm's orchestrator reacts in
    // milliseconds) with no newer task in its place, it stands: a change that starts no task leaves
    // the old ones as they were.
    const changed = Math.min(Date.parse(first.UpdatedAt ?? "") || 0, first.UpdateStatus && !stale ? Date.parse(first.UpdateStatus.StartedAt) || Infinity : Infinity);
    const HOLD_MS = 2000;
    // Exits 0 in one place under the policy `any` that make a one-shot task: Swarm starts it again each time.
    const KEEPS_EXITING = 3;
    // Whether a node is ready: from the shared poll, else asked at most every few seconds (many waits may ask about one node).
    const readiness = new Map<string, { ready: boolean; at: number }>();
    let polled: Record<string, string> | undefined;
    const nodeReady = (nodeId: string): boolean => {
        if (polled?.[nodeId]) return polled[nodeId] === "ready";
        const known = readiness.get(nodeId);
        if (known && Date.now() - known.at < 3000) return known.ready;
        const ready = nodeOf(nodeId)?.state === "ready";
        readiness.set(nodeId, { ready, at: Date.now() });
        return ready;
    };
    let stable = { ids: "", since: 0 };
    let pendingSince = 0;
    let crowdedSince = 0;
    let nudged = false;
    for (;;) {
        const { svc, all, nodes } = observe();
        polled = nodes;
        const template = specOf(svc.Spec.TaskTemplate);
        const current = all.filter((t) => specOf(t.Spec) === template).sort((a, b) => Date.parse(b.UpdatedAt) - Date.parse(a.UpdatedAt));
        const created = (t: any) => Date.parse(t.CreatedAt ?? t.UpdatedAt) || 0;
        const fresh = (t: any) => created(t) >= changed;
        const failing = (t: any) => ["failed", "rejected"].includes(t.Status?.State) || (t.Status?.State === "shutdown" && t.Status?.Err);
        // The failures of this change (earlier ones of the same spec are another change's).
        const failed = current.filter((t) => failing(t) && fresh(t));
        const wanted = current.filter((t) => t.DesiredState === "running");
        const running = wanted.filter((t) => t.Status?.State === "running");
        const update = svc.UpdateStatus && svc.UpdateStatus.StartedAt !== stale ? svc.UpdateStatus : undefined;
        const replicas: number | undefined = svc.Spec?.Mode?.Replicated?.Replicas;
        // A task's place: its slot (replicated) or its node (global). The latest task of each place
        // says how that place ended: a task that completed (exit 0) stays done unless the policy is
        // `any`; a failed one stays failed when the policy starts no other.
        const placeOf = (t: any) => (replicas === undefined ? `node ${t.NodeID}` : `slot ${t.Slot}`);
        const latest = new Map<string, any>();
        for (const t of [...current].sort((a, b) => created(a) - created(b))) latest.set(placeOf(t), t);
        const standing = (t: any) => fresh(t) || Date.now() - started >= HOLD_MS;
        const ended = [...latest.values()].filter((t) => t.DesiredState !== "running" && standing(t));
        // Whether Swarm restarts nothing in `t`'s place after it ended. A restart is a task that
        // follows one that ended by itself in its place (not one a rollout or the orchestrator
        // replaced); Swarm counts them per version of the service (a restart after a change is the
        // new version's first), and within the window before `t` ended when one is set.
        const selfEnded = (t: any) => t.Status?.State === "complete" || failing(t);
        const versionOf = (t: any) => `${specOf(t.Spec)}|${fresh(t)}`;
        const given = (t: any) => {
            if (condition === "none") return true;
            if (!attempts) return false;
            const seq = all.filter((x) => placeOf(x) === placeOf(t)).sort((a, b) => created(a) - created(b));
            if (seq[seq.length - 1] !== t) return false;
            let restarts: any[] = [];
            for (let i = 1; i < seq.length; i++) {
                if (!selfEnded(seq[i - 1])) continue;
                if (restarts.length && versionOf(restarts[0]) !== versionOf(seq[i])) restarts = [];
                restarts.push(seq[i]);
            }
            if (!restarts.includes(t)) return false;
            const end = Date.parse(t.Status?.Timestamp ?? "") || created(t);
            return restarts.filter((r) => !restartWindow || created(r) > end - restartWindow).length >= attempts;
        };
        const done = ended.filter((t) => t.Status?.State === "complete" && (condition !== "any" || given(t)));
        const finished = ended.filter((t) => failing(t) && given(t));

        if (update && update.State !== "updating" && update.State !== "completed") {
            interruption(update);
            const what: Record<string, string> = {
                paused: "Swarm paused the update",
                rollback_started: "Swarm is rolling the update back",
                rollback_paused: "Swarm paused the rollback of the update",
                rollback_completed: "Swarm rolled the update back",
            };
            // The tasks that failed are those of the version Swarm abandoned: not the current spec.
            // (A task stopped for failing its health check may have exited 0 and carry no error.)
            const newer = all.filter((t) => specOf(t.Spec) !== template && t.Status?.State !== "running")
                .sort((a, b) => Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt));
            // Swarm counts a task that exits 0 during the rollout as a failure too: a one-shot task under another policy.
            const exited = newer.some((t) => t.Status?.State === "complete") && condition !== "none"
                ? "; the new tasks exited with code 0 during the rollout, which Swarm counts as a failure: for a one-shot service set the restart condition to none" : "";
            fail(`${what[update.State] ?? `update ${update.State}`}${update.Message ? ` (${update.Message})` : ""}${exited}`, newer.length ? newer : failed);
        }
        // (During a rollout, Swarm's own update monitor judges the new tasks.)
        if (finished.length && update?.State !== "updating") {
            const policy = condition === "none" ? "its restart condition is none" : `its restart policy restarts a task at most ${attempts} ${attempts === 1 ? "time" : "times"}`;
            fail(`${finished.length} ${finished.length === 1 ? "task" : "tasks"} failed and Swarm starts no other (${policy})`, finished);
        }
        // Tasks Swarm is stopping (a scale-down, a node no longer eligible) on nodes that can stop them:
        // asked of the nodes only once everything else has settled (a rollout always has tasks stopping).
        const lingering = () => all.filter((t) => t.DesiredState !== "running" && t.Status?.State === "running" && nodeReady(t.NodeID));
        // Replicated: as many tasks running or done as replicas (0 included). Global: every task it
        // wants, running; none at all when no node is eligible.
        const settled = running.length + done.length;
        // A place whose latest task Swarm still means to run (one in its restart delay is `ready`, not
        // `running`) is not settled: a global service crash-looping on a node has not converged.
        const unsettled = [...latest.values()].some((t) => !["shutdown", "remove"].includes(t.DesiredState) && t.Status?.State !== "running");
        // Two tasks of the current spec running in one slot: Swarm's restart of a failed task likely
        // raced a rollout (each started one). Swarm removes the extra task only when it next
        // reconciles the service, on a change to it: after HOLD_MS, ask for that once with an update
        // that changes nothing. Swarm then runs a rollout of that slot alone: it stops the extra task,
        // replaces none, and takes its update delay and monitor period, which this wait follows as
        // any rollout. (Its previous spec is then the current one: a rollback goes nowhere.)
        const bySlot = new Map<number, number>();
        for (const t of replicas === undefined ? [] : running) bySlot.set(t.Slot, (bySlot.get(t.Slot) ?? 0) + 1);
        const crowded = [...bySlot].filter(([, n]) => n > 1);
        const copies = crowded.map(([slot, n]) => `task ${name}.${slot} ${n === 2 ? "twice" : `${n} times`}`).join(", ");
        if (crowded.length && (!update || update.State === "completed")) {
            crowdedSince ||= Date.now();
            if (!nudged && Date.now() - crowdedSince >= HOLD_MS) {
                nudged = true;
                process.stderr.write(`dockyard: service ${name}: Swarm runs ${copies} (its restart of a failed task likely raced the rollout); ` +
                    "asking it to reconcile the service with an update that changes nothing\n");
                try {
                    docker(["service", "update", "--detach", "--quiet", "--no-resolve-image", id]);
                } catch (e: any) {
                    process.stderr.write(`dockyard: service ${name}: could not ask Swarm to reconcile it: ${e.message}; still waiting\n`);
                }
            }
        } else crowdedSince = 0;
        const allRunning = (replicas === undefined ? running.length === wanted.length && !unsettled : settled >= replicas && running.length <= replicas) && !lingering().length;
        // A completed rollout has watched its new tasks for its monitor period; one with a shorter
        // period (a one-shot service's is 0) has not, and is watched here as a change without one.
        const monitored = (svc.Spec?.UpdateConfig?.Monitor ?? 0) / 1e6 >= STABLE_MS;
        if (allRunning && update?.State === "completed" && (monitored || !running.length)) converged(svc, running);
        // Without a rollout: the same tasks for the monitor period while any runs (one that crashes at
        // once is running for an instant), none for a moment when a global service has no task (the
        // orchestrator places them just after a change), at once when everything wanted is done.
        const window = running.length ? STABLE_MS : replicas === undefined ? EMPTY_GLOBAL_MS : 0;
        const ids = allRunning && (!update || update.State === "completed") ? `settled:${[...running, ...done].map((t) => t.ID).sort().join(",")}` : "";
        if (ids !== stable.ids) stable = { ids, since: Date.now() };
        if (ids && Date.now() - stable.since >= window) converged(svc, running);

        // No node can take a task: that will not change by waiting (a constraint, a busy host port).
        const stuck = wanted.filter((t) => t.Status?.State === "pending" && /no suitable node/.test(t.Status?.Err ?? ""));
        if (stuck.length) {
            pendingSince ||= Date.now();
            const placement = svc.Spec?.TaskTemplate?.Placement?.Constraints ?? [];
            if (Date.now() - pendingSince > 3000) fail(`no node can run it: ${stuck[0].Status.Err}${placement.length ? `; its constraints: ${placement.join(", ")}` : ""}`, stuck);
        } else pendingSince = 0;
        if (!update && failed.length >= 3) {
            fail(`${failed.length} tasks failed${running.length ? `; ${running.length} of ${replicas ?? wanted.length} running` : " and none is running"}`, failed);
        }
        // Tasks that exit 0 under the policy `any` are started again and again: a one-shot task, once
        // one place has exited KEEPS_EXITING times since the change.
        const completed = current.filter((t) => t.Status?.State === "complete" && fresh(t));
        const exits = Math.max(0, ...[...latest.keys()].map((p) => completed.filter((t) => placeOf(t) === p).length));
        if (!update && condition === "any" && exits >= KEEPS_EXITING && settled < (replicas ?? wanted.length)) {
            fail(`its tasks keep exiting (${exits} exited with code 0 in one ${replicas === undefined ? "node" : "slot"}) and its restart condition any starts them again; for a one-shot task set the restart condition to none`, completed);
        }
        if (Date.now() - started > timeout) {
            const waiting = wanted.filter((t) => t.Status?.State !== "running");
            // A node that is down holding tasks of the service, new ones to start or old ones to stop
            // (which a rollout waits for), is the likeliest reason: say so.
            const unsettled = all.filter((t) => !["shutdown", "failed", "rejected", "complete", "orphaned", "remove"].includes(t.Status?.State));
            const lost = [...new Set([...new Set(unsettled.map((t) => t.NodeID))].map(nodeOf).filter((n) => n && n.state !== "ready").map((n) => `${n!.host} is ${n!.state}`))];
            // With no task of the current spec to show, the service's latest tasks say what Swarm did instead.
            const others = all.filter((t) => specOf(t.Spec) !== template);
            const latestFirst = [...all].sort((a, b) => Date.parse(b.UpdatedAt) - Date.parse(a.UpdatedAt));
            fail(`not converged after ${env.TIMEOUT}: ${running.length} of ${replicas ?? wanted.length} tasks running${update ? `, update ${update.State}${nudged && !crowded.length && update.State === "updating" ? " (the one Dockyard asked for to have Swarm reconcile the service)" : ""}` : ""}` +
                (lingering().length ? `, ${lingering().length} still stopping` : "") +
                (nudged && crowded.length ? `; Swarm still runs ${copies} after it was asked to reconcile the service (\`docker service update --force ${name}\` replaces every task)` : "") +
                (!current.length && others.length ? `; Swarm has started no task of its current spec (${others.length} ${others.length === 1 ? "task" : "tasks"} of earlier specs)` : "") +
                (!all.length && (replicas ?? 1) > 0 ? "; Swarm has started no task for it" : "") +
                (lost.length ? `; node ${lost.join(", node ")} and holds tasks Swarm is waiting for (bring it back, or \`docker node rm\` it)` : ""),
                failed.length ? failed : waiting.length ? waiting : latestFirst);
        }
        sleep(POLL_MS);
    }
}

/** The package entry (`exports` in components/package.json) the wait is loaded from. */
export const WAIT_MODULE = "@dockyard/components/wait";

/** Why the wait cannot be loaded from a directory, by Node's error code (the loader's and `waitProblem`'s words). */
const WAIT_UNAVAILABLE: Record<string, string> = {
    MODULE_NOT_FOUND: "@dockyard/components is not installed there; install it in the project the deploy runs from",
    ERR_PACKAGE_PATH_NOT_EXPORTED: "the @dockyard/components installed there predates the wait's module; install the version the program uses",
};

/**
 * `node -e` source that runs `waitForService` from the package installed where the deploy runs
 * (resolved from the project directory, which the command provider runs in), and says in one line
 * why when it cannot.
 */
export const CONVERGE_SCRIPT =
    `const m=${JSON.stringify(WAIT_MODULE)},why=${JSON.stringify(WAIT_UNAVAILABLE)};let w;try{w=require(m)}catch(e){w=e}` +
    `if(typeof(w&&w.waitForService)!=="function"){process.stderr.write("dockyard: cannot load the convergence wait ("+m+") from "+process.cwd()+": "+` +
    `(why[w&&w.code]||String(w&&w.message||"it has no waitForService").split("\\n")[0])+"\\n");process.exit(1)}w.waitForService()`;

/**
 * Why the wait's module cannot be loaded from `dir` (the project directory), or undefined when it
 * can: a Service checks this before it touches Swarm, so a deploy that could not watch its rollout
 * fails at its preview instead.
 */
export function waitProblem(dir: string): string | undefined {
    try {
        // As `node -e` in `dir` resolves it: from a module there, not from this package (which would find itself).
        createRequire(path.join(dir, "[dockyard]")).resolve(WAIT_MODULE);
        return undefined;
    } catch (e: any) {
        return `cannot load the convergence wait (${WAIT_MODULE}) from ${dir}: ${WAIT_UNAVAILABLE[e?.code] ?? String(e?.message).split("\n")[0]}`;
    }
}

/** What the wait says when a node's drain or loss, not the release, made Swarm roll an update back. */
export const ROLLOUT_INTERRUPTED = "the rollout was interrupted, not failed";
