// Benchmarks: Dockyard (Pulumi + the built @dockyard/components package) against plain Docker
// tooling, side by side in one run, like for like:
// - both sides deploy the same digest-pinned image from a local registry, and both resolve it the
//   same way (the Docker provider queries the registry on every service create; `docker stack
//   deploy` does too, with its default `--resolve-image always`);
// - both wait for the same thing: Swarm's update status `completed` where there is a rollout, every
//   task running, and (new services, which Swarm gives no update status) the same tasks running for
//   the stability window Dockyard's convergence wait uses (the update monitor, at most 5 s);
// - the two sides are interleaved (Dockyard, docker, docker, Dockyard, ...), and each figure is the
//   median of the runs with their min and max.
//
//   npm run bench                          # sizes 1 and 10, 3 runs each: a few minutes
//   npm run bench -- --full                # sizes 1, 10, 50 and 200, 3 runs each
//   npm run bench -- --sizes 50 --runs 1   # chosen sizes and runs
//   npm run bench -- --parallel 16         # another `pulumi up --parallel` than Dockyard's own
//   npm run bench -- --trace-dir /tmp/t    # also write `pulumi up --otel-traces` of every Dockyard deploy
//   npm run bench -- --only startup,scale,rollout
//   npm run bench -- --only scale --sizes 50,200 --prototype --prefix p21-
//                                          # also the prototype provider (bench/prototype/, issue 21), a third side
//                                          # interleaved with the other two; --prefix goes before every stack and service
//   npm run bench -- --only scale --prototype --sides prototype,docker   # some of the sides only
//   npm run bench -- --registry-port 15991  # the bench registry on another port than 15990
//
// Prints Markdown tables; bench/RESULTS.md keeps the figures of a run and the machine it ran on.
// Needs the Docker engine in Swarm mode, the Pulumi CLI and the provider plugins.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEPLOY_PARALLELISM } from "../ops/parallelism";
import { Sandbox, pluginMissing, sandbox, sh, swarmMissing } from "../test/integration/prereqs";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const FULL = flag("--full");
const SIZES = (option("--sizes")?.split(",") ?? (FULL ? ["1", "10", "50", "200"] : ["1", "10"])).map(Number);
const RUNS = Number(option("--runs") ?? 3);
const PARALLEL = Number(option("--parallel") ?? DEPLOY_PARALLELISM);
const TRACE_DIR = option("--trace-dir");
const ONLY = option("--only")?.split(",") ?? ["startup", "scale", "rollout"];
/** Also measure the prototype provider of bench/prototype/ (Swarm services through Dockyard's own provider). */
const PROTOTYPE = flag("--prototype");
/** Put before every stack and service name (other sessions share the engine). */
const PREFIX = option("--prefix") ?? "";
const PROTOTYPE_DIR = path.join(__dirname, "prototype");
/** The sides of the scale measurements, in their order in the first run. */
const SIDES = option("--sides")?.split(",") ?? ["dockyard", ...(PROTOTYPE ? ["prototype"] : []), "docker"];

const REGISTRY = { name: `${PREFIX}dockyard-bench-registry`, port: Number(option("--registry-port") ?? 15990) };
const SOURCE_IMAGE = "dockyard/busybox:1.35.0";
const LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];
/** The rollout policy of every benchmarked service, on both sides. */
const ROLLOUT = { parallelism: 1, delay: "1s", monitor: "2s" };
/** Dockyard's stability window for new services with this policy: the update monitor (at most 5 s). */
const STABLE_MS = Math.min(Number.parseFloat(ROLLOUT.monitor) * 1000, 5000);
const PROJECT = "name: bench\nruntime: nodejs\nmain: index.js\n";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e9;
function seconds(fn: () => void): number {
    const start = now();
    fn();
    return now() - start;
}

/** A registry of the bench's own with the bench image pushed to it; returns its digest-pinned reference. */
async function startRegistry(): Promise<string> {
    spawnSync("docker", ["rm", "-f", REGISTRY.name]);
    sh("docker", ["run", "-d", "--name", REGISTRY.name, "-p", `127.0.0.1:${REGISTRY.port}:5000`, "dockyard/registry:2.8.2"]);
    const repo = `127.0.0.1:${REGISTRY.port}/bench/busybox`;
    sh("docker", ["tag", SOURCE_IMAGE, `${repo}:1.35.0`]);
    for (let i = 0; ; i++) {
        const r = spawnSync("docker", ["push", `${repo}:1.35.0`], { encoding: "utf8" });
        if (r.status === 0) break;
        if (i === 20) throw new Error(`cannot push to the bench registry: ${r.stderr}`);
        await sleep(500);
    }
    const digests = sh("docker", ["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", `${repo}:1.35.0`]);
    const ref = digests.split("\n").find((d) => d.startsWith(`${repo}@`));
    if (!ref) throw new Error(`no digest for ${repo}`);
    return ref;
}

/** A Pulumi program of `n` Dockyard services, through the built package as any project uses it. */
function program(image: string, prefix: string, n: number): string {
    return `const dy = require("@dockyard/components");
const cfg = new (require("@pulumi/pulumi").Config)();
for (let i = 0; i < ${n}; i++) {
    new dy.Service("${prefix}" + i, {
        image: ${JSON.stringify(image)}, command: ${JSON.stringify(LOOP)},
        replicas: cfg.getNumber("replicas") ?? 1, env: { REV: cfg.get("rev") ?? "1" },
        endpointMode: dy.EndpointMode.Dnsrr,
        update: ${JSON.stringify(ROLLOUT)}, rollback: ${JSON.stringify(ROLLOUT)}, convergeTimeout: "10m",
    });
}`;
}

const ns = (d: string) => Math.round(Number.parseFloat(d) * 1e9);
/** The rollout policy as the Engine API takes it (durations in nanoseconds), as the Service component sends it. */
const engineRollout = (failureAction: string) => ({
    Parallelism: ROLLOUT.parallelism, Delay: ns(ROLLOUT.delay), Monitor: ns(ROLLOUT.monitor),
    MaxFailureRatio: 0, Order: "start-first", FailureAction: failureAction,
});

/**
 * The same services through the prototype provider: one `dockyard:swarm:Service` per service (an
 * Engine API ServiceSpec with what the Service component sends: its labels, its restart policy,
 * the same rollout policies), each the one child of a component, as the library's Service would be.
 */
function prototypeProgram(image: string, prefix: string, n: number): string {
    const restart = { Condition: "on-failure", Delay: ns("5s"), MaxAttempts: 0, Window: 0 };
    return `const pulumi = require("@pulumi/pulumi");
const cfg = new pulumi.Config();
class Service extends pulumi.ComponentResource {
    constructor(name, spec, opts) {
        super("dockyard:bench:Service", name, {}, opts);
        this.service = new pulumi.CustomResource("dockyard:swarm:Service", name + "-service",
            { spec, convergeTimeout: "10m", image: undefined, endpoints: undefined }, { parent: this });
        this.registerOutputs({});
    }
}
for (let i = 0; i < ${n}; i++) {
    const name = "${prefix}" + i;
    new Service(name, {
        Name: name,
        Labels: { "dockyard.managed": "true", "dockyard.component": name },
        Mode: { Replicated: { Replicas: cfg.getNumber("replicas") ?? 1 } },
        TaskTemplate: {
            ContainerSpec: { Image: ${JSON.stringify(image)}, Command: ${JSON.stringify(LOOP)}, Env: ["REV=" + (cfg.get("rev") ?? "1")], ReadOnly: false },
            RestartPolicy: ${JSON.stringify(restart)},
        },
        EndpointSpec: { Mode: "dnsrr" },
        UpdateConfig: ${JSON.stringify(engineRollout("rollback"))},
        RollbackConfig: ${JSON.stringify(engineRollout("pause"))},
    });
}`;
}

/** The project of the prototype's program: the provider plugin from bench/prototype/ (its `pulumi-resource-dockyard`). */
const prototypeProject = () => `${PROJECT}plugins:\n  providers:\n    - name: dockyard\n      path: ${JSON.stringify(PROTOTYPE_DIR)}\n`;

/** The same services as a compose file (restart and rollout policies as Dockyard's defaults). */
function compose(image: string, prefix: string, n: number): string {
    const lines = ['version: "3.8"', "services:"];
    for (let i = 0; i < n; i++) {
        lines.push(
            `  ${prefix}${i}:`,
            `    image: ${image}`,
            `    command: ${JSON.stringify(LOOP)}`,
            "    environment: { REV: \"1\" }",
            "    deploy:",
            "      endpoint_mode: dnsrr",
            "      replicas: 1",
            "      restart_policy: { condition: on-failure, delay: 5s }",
            `      update_config: { parallelism: 1, delay: ${ROLLOUT.delay}, monitor: ${ROLLOUT.monitor}, order: start-first, failure_action: rollback }`,
            `      rollback_config: { parallelism: 1, delay: ${ROLLOUT.delay}, monitor: ${ROLLOUT.monitor}, order: start-first, failure_action: pause }`,
        );
    }
    return lines.join("\n") + "\n";
}

/**
 * Wait until the stack's `n` services are converged by the rule Dockyard's wait applies to new
 * services: every task Swarm wants is running, and the same tasks stay running `stableMs`.
 * One `docker stack ps` per poll, every 0.2 s.
 */
async function stackConverged(stack: string, n: number, stableMs: number): Promise<void> {
    const deadline = Date.now() + 15 * 60_000;
    let stable = { ids: "", since: 0 };
    while (Date.now() < deadline) {
        const r = spawnSync("docker", ["stack", "ps", stack, "--filter", "desired-state=running", "--format", "{{.ID}} {{.Name}} {{.CurrentState}}"], { encoding: "utf8" });
        const rows = r.status === 0 ? r.stdout.split("\n").filter(Boolean) : [];
        const services = new Set(rows.map((row) => row.split(" ")[1].replace(/\.\d+$/, "")));
        const ok = services.size === n && rows.every((row) => row.split(" ")[2] === "Running");
        const ids = ok ? rows.map((row) => row.split(" ")[0]).sort().join(",") : "";
        if (ids !== stable.ids) stable = { ids, since: Date.now() };
        if (ids && Date.now() - stable.since >= stableMs) return;
        await sleep(200);
    }
    throw new Error(`stack ${stack} did not converge`);
}

async function gone(prefix: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
        const left = sh("docker", ["ps", "-a", "--format", "{{.Names}}"]).split("\n").filter((c) => c.startsWith(prefix));
        if (left.length === 0) return;
        await sleep(500);
    }
    throw new Error(`${prefix} tasks did not stop`);
}

interface Row { group: string; n?: number; what: string; dockyard: number[]; docker: number[]; prototype: number[]; baseline: string }
const rows: Row[] = [];
function record(group: string, n: number | undefined, what: string, baseline: string, dockyard?: number, docker?: number, prototype?: number): void {
    let row = rows.find((r) => r.group === group && r.n === n && r.what === what);
    if (!row) rows.push((row = { group, n, what, dockyard: [], docker: [], prototype: [], baseline }));
    if (dockyard !== undefined) row.dockyard.push(dockyard);
    if (docker !== undefined) row.docker.push(docker);
    if (prototype !== undefined) row.prototype.push(prototype);
}

let traceCount = 0;
/** `pulumi up`, with an OpenTelemetry trace when asked for. */
function up(box: Sandbox, label: string): number {
    const trace = TRACE_DIR ? [`--otel-traces`, `file://${path.join(TRACE_DIR, `${String(++traceCount).padStart(3, "0")}-${label}.json`)}`] : [];
    return seconds(() => box.pulumi(["up", "--yes", "--skip-preview", "--parallel", String(PARALLEL), ...trace]));
}

/**
 * Deploy `n` services with Dockyard (or with the prototype provider): until converged, again with
 * nothing changed, a preview with nothing changed.
 */
async function dockyardScale(image: string, n: number, run: number, prototype = false): Promise<void> {
    const prefix = `${PREFIX}${prototype ? "p" : ""}bn${n}r${run}x`;
    const box = prototype
        ? sandbox({ "Pulumi.yaml": prototypeProject(), "index.js": prototypeProgram(image, prefix, n) }, "bench")
        : sandbox({ "Pulumi.yaml": PROJECT, "index.js": program(image, prefix, n) }, "bench");
    const rec = (what: string, baseline: string, s: number) => prototype
        ? record("scale", n, what, baseline, undefined, undefined, s)
        : record("scale", n, what, baseline, s);
    const side = prototype ? "prototype-" : "";
    try {
        box.pulumi(["stack", "init", "bench"]);
        rec("deploy until converged", "docker stack deploy, then wait", up(box, `${side}up-${n}`));
        rec("deploy again, nothing changed", "docker stack deploy again", up(box, `${side}noop-${n}`));
        rec("preview, nothing changed", "docker stack config", seconds(() => box.pulumi(["preview", "--parallel", String(PARALLEL)])));
    } finally {
        box.pulumi(["destroy", "--yes", "--skip-preview", "--parallel", String(Math.max(PARALLEL, 32))], { allowFailure: true });
        box.cleanup();
        await gone(prefix);
    }
}

async function dockerScale(image: string, n: number, run: number): Promise<void> {
    const stack = `${PREFIX}dbn${n}r${run}x`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dockyard-bench-"));
    const file = path.join(dir, "compose.yml");
    fs.writeFileSync(file, compose(image, stack, n));
    try {
        let start = now();
        sh("docker", ["stack", "deploy", "-c", file, stack]);
        await stackConverged(stack, n, STABLE_MS);
        record("scale", n, "deploy until converged", "", undefined, now() - start);
        start = now();
        sh("docker", ["stack", "deploy", "-c", file, stack]);
        await stackConverged(stack, n, 0);
        record("scale", n, "deploy again, nothing changed", "", undefined, now() - start);
        // docker has no preview: `docker stack config`, the closest dry step, only parses the file.
        record("scale", n, "preview, nothing changed", "", undefined, seconds(() => sh("docker", ["stack", "config", "-c", file])));
    } finally {
        spawnSync("docker", ["stack", "rm", stack]);
        fs.rmSync(dir, { recursive: true, force: true });
        await gone(stack);
    }
}

/** Swarm's own record of a service's last rollout: seconds from its start to its completion. */
function swarmRollout(service: string): number {
    const u = JSON.parse(sh("docker", ["service", "inspect", "--format", "{{json .UpdateStatus}}", service]));
    if (u?.State !== "completed") throw new Error(`${service}: update ${u?.State}`);
    return (Date.parse(u.CompletedAt) - Date.parse(u.StartedAt)) / 1000;
}

/** A 4-replica rolling update: `pulumi up` against `docker service update` until Swarm reports it completed. */
async function rollout(image: string): Promise<void> {
    const prefix = "brx";
    const box = sandbox({ "Pulumi.yaml": PROJECT, "index.js": program(image, prefix, 1) }, "bench");
    const plain = "bpx0";
    try {
        box.pulumi(["stack", "init", "bench"]);
        box.pulumi(["config", "set", "replicas", "4"]);
        box.pulumi(["up", "--yes", "--skip-preview"]);
        sh("docker", ["service", "create", "-q", "-d", "--name", plain, "--replicas", "4", "--endpoint-mode", "dnsrr",
            "--update-parallelism", "1", "--update-delay", ROLLOUT.delay, "--update-monitor", ROLLOUT.monitor, "--update-order", "start-first",
            "--update-failure-action", "rollback", "--rollback-delay", ROLLOUT.delay, "--rollback-monitor", ROLLOUT.monitor, "--rollback-order", "start-first",
            "--env", "REV=1", image, ...LOOP]);
        for (let run = 0; run < RUNS; run++) {
            const rev = String(run + 2);
            const dockyardFirst = run % 2 === 0;
            const dockyard = () => {
                box.pulumi(["config", "set", "rev", rev]);
                record("rollout", undefined, "4-replica rolling update until Swarm reports it completed", "docker service update, then wait", up(box, "rollout"));
                record("rollout", undefined, "Swarm's own rollout time (UpdateStatus StartedAt to CompletedAt)", "", swarmRollout(`${prefix}0`));
            };
            const docker = async () => {
                const start = now();
                sh("docker", ["service", "update", "-q", "-d", "--env-add", `REV=${rev}`, plain]);
                while (sh("docker", ["service", "inspect", "--format", "{{.UpdateStatus.State}}", plain]).trim() !== "completed") await sleep(200);
                record("rollout", undefined, "4-replica rolling update until Swarm reports it completed", "", undefined, now() - start);
                record("rollout", undefined, "Swarm's own rollout time (UpdateStatus StartedAt to CompletedAt)", "", undefined, swarmRollout(plain));
            };
            if (dockyardFirst) { dockyard(); await docker(); } else { await docker(); dockyard(); }
        }
    } finally {
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        spawnSync("docker", ["service", "rm", plain]);
        box.cleanup();
    }
}

/** Program start-up: preview and up of a program that only loads the built library, against an empty JavaScript program. */
function startup(): void {
    const empty = sandbox({ "Pulumi.yaml": PROJECT, "index.js": "" }, "bench");
    const lib = sandbox({ "Pulumi.yaml": PROJECT, "index.js": 'require("@dockyard/components");\n' }, "bench");
    try {
        for (const box of [empty, lib]) box.pulumi(["stack", "init", "bench"]);
        for (let run = 0; run < RUNS; run++) {
            for (const cmd of ["preview", "up"]) {
                const what = `${cmd} of a program that loads the library`;
                const pulumiArgs = cmd === "up" ? ["up", "--yes", "--skip-preview"] : ["preview"];
                record("startup", undefined, what, `${cmd} of an empty JavaScript program`, seconds(() => lib.pulumi(pulumiArgs)));
                record("startup", undefined, what, "", undefined, seconds(() => empty.pulumi(pulumiArgs)));
            }
        }
    } finally {
        empty.cleanup();
        lib.cleanup();
    }
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[]) => xs.length === 0 ? "–" : xs.length === 1 ? xs[0].toFixed(2) : `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

function report(): void {
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(`\nMachine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; ` +
        `Docker ${sh("docker", ["version", "--format", "{{.Server.Version}}"]).trim()}; Pulumi ${sh("pulumi", ["version"]).trim()}; ` +
        `node ${process.version}; pulumi up --parallel ${PARALLEL}; ${RUNS} run(s) per figure: median (min–max)\n`);
    const ratioOf = (a: number[], b: number[]) => (a.length && b.length ? `${(median(a) / median(b)).toFixed(2)}×` : "");
    console.log(`| measurement | Dockyard (s) | baseline | baseline (s) | ratio of medians |${PROTOTYPE ? " prototype (s) | prototype / Dockyard | prototype / baseline |" : ""}`);
    console.log(`| --- | ---: | --- | ---: | ---: |${PROTOTYPE ? " ---: | ---: | ---: |" : ""}`);
    for (const r of rows) {
        const baseline = r.baseline || rows.find((o) => o.group === r.group && o.what === r.what && o.baseline)?.baseline || "";
        const label = r.n !== undefined ? `${r.n} services: ${r.what}` : r.what;
        const proto = PROTOTYPE ? ` ${fmt(r.prototype)} | ${ratioOf(r.prototype, r.dockyard)} | ${ratioOf(r.prototype, r.docker)} |` : "";
        console.log(`| ${label} | ${fmt(r.dockyard)} | ${baseline} | ${fmt(r.docker)} | ${ratioOf(r.dockyard, r.docker)} |${proto}`);
    }
    const rollout = rows.find((r) => r.group === "rollout" && r.what.startsWith("4-replica"));
    const swarm = rows.find((r) => r.group === "rollout" && r.what.startsWith("Swarm's own"));
    if (rollout?.dockyard.length && swarm?.docker.length) {
        console.log(`\nRolling update, Dockyard against Swarm's own rollout time of the plain service: ${(median(rollout.dockyard) / median(swarm.docker)).toFixed(2)}×`);
    }
    // Growth with the number of services: the cost of each service added between two sizes.
    const sizes = [...new Set(rows.filter((r) => r.group === "scale").map((r) => r.n!))].sort((a, b) => a - b);
    if (sizes.length > 1) {
        console.log(`\nGrowth, milliseconds per service added (Dockyard / docker${PROTOTYPE ? " / prototype" : ""}):\n`);
        console.log(`| measurement | ${sizes.slice(1).map((n, i) => `${sizes[i]} → ${n}`).join(" | ")} |`);
        console.log(`| --- | ${sizes.slice(1).map(() => "---:").join(" | ")} |`);
        for (const what of [...new Set(rows.filter((r) => r.group === "scale").map((r) => r.what))]) {
            const at = (n: number) => rows.find((r) => r.group === "scale" && r.n === n && r.what === what)!;
            const per = (side: "dockyard" | "docker" | "prototype", i: number) => !at(sizes[i + 1])[side].length || !at(sizes[i])[side].length ? "–" : ((median(at(sizes[i + 1])[side]) - median(at(sizes[i])[side])) / (sizes[i + 1] - sizes[i]) * 1000).toFixed(0);
            console.log(`| ${what} | ${sizes.slice(1).map((_, i) => `${per("dockyard", i)} / ${per("docker", i)}${PROTOTYPE ? ` / ${per("prototype", i)}` : ""}`).join(" | ")} |`);
        }
    }
}

async function main(): Promise<void> {
    const needsPlugins = SIDES.includes("dockyard") || ONLY.includes("rollout");
    const missing = [swarmMissing(), ...(needsPlugins ? [pluginMissing("docker"), pluginMissing("command")] : [])].filter(Boolean);
    if (missing.length) {
        console.error(`bench: cannot run: ${missing.join("; ")}`);
        process.exit(1);
    }
    if (TRACE_DIR) fs.mkdirSync(TRACE_DIR, { recursive: true });
    if (PROTOTYPE) sh(path.join(__dirname, "../node_modules/.bin/tsc"), ["-p", path.join(PROTOTYPE_DIR, "tsconfig.json")]);
    const image = await startRegistry();
    try {
        if (ONLY.includes("startup")) startup();
        if (ONLY.includes("scale")) {
            for (const n of SIZES) {
                for (let run = 0; run < RUNS; run++) {
                    console.error(`bench: ${n} services, run ${run + 1} of ${RUNS}`);
                    // Interleaved, the side that goes first alternating, so drift on a shared machine hits both
                    // (with the prototype, the three sides in turn: each goes first once in three runs).
                    const side = { dockyard: () => dockyardScale(image, n, run), prototype: () => dockyardScale(image, n, run, true), docker: () => dockerScale(image, n, run) };
                    const sides = SIDES.map((s) => side[s as keyof typeof side] ?? (() => { throw new Error(`--sides: no side ${JSON.stringify(s)}; the sides are ${Object.keys(side).join(", ")}`); })());
                    for (let k = 0; k < sides.length; k++) await sides[(k + run) % sides.length]();
                }
            }
        }
        if (ONLY.includes("rollout")) await rollout(image);
    } finally {
        spawnSync("docker", ["rm", "-f", REGISTRY.name]);
    }
    report();
}

main().catch((e) => {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
});
