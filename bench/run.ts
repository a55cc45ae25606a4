// Benchmarks: Dockyard (Pulumi + components) against plain Docker tooling, side by side in one run.
//
//   npm run bench                 # sizes 1, 10, 50
//   npm run bench -- 1 10         # chosen sizes
//
// Prints a Markdown table; bench/RESULTS.md keeps the figures of a run and the machine it ran on.
// Needs the Docker engine in Swarm mode, the Pulumi CLI and the Docker provider plugin.
import { spawnSync } from "child_process";
import * as os from "os";
import { ROOT, eventually, pluginMissing, sandbox, sh, swarmMissing } from "../test/integration/prereqs";

const IMAGE = "dockyard/busybox:1.35.0";
const LOOP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"];

function seconds(fn: () => void): number {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}
async function secondsAsync(fn: () => Promise<void>): Promise<number> {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

/** A Pulumi program of `n` Dockyard services like the compose file below. */
function program(prefix: string, n: number, extra = ""): string {
    return `
require("ts-node").register({ transpileOnly: true, compilerOptions: { module: "commonjs" } });
const dy = require(${JSON.stringify(ROOT)} + "/components");
const cfg = new (require("@pulumi/pulumi").Config)();
for (let i = 0; i < ${n}; i++) {
    new dy.Service("${prefix}" + i, {
        image: ${JSON.stringify(IMAGE)}, command: ${JSON.stringify(LOOP)},
        replicas: cfg.getNumber("replicas") ?? 1, env: { REV: cfg.get("rev") ?? "1" },
        endpointMode: dy.EndpointMode.Dnsrr,
        update: { delay: "1s", monitor: "2s" }, rollback: { delay: "1s", monitor: "2s" }, convergeTimeout: "5m",
        ${extra}
    });
}`;
}

function compose(prefix: string, n: number): string {
    const lines = ['version: "3.8"', "services:"];
    for (let i = 0; i < n; i++) {
        lines.push(
            `  ${prefix}${i}:`,
            `    image: ${IMAGE}`,
            `    command: ${JSON.stringify(LOOP)}`,
            "    environment: { REV: \"1\" }",
            "    deploy:",
            "      endpoint_mode: dnsrr",
            "      replicas: 1",
            "      restart_policy: { condition: on-failure, delay: 5s }",
            "      update_config: { parallelism: 1, delay: 1s, monitor: 2s, order: start-first, failure_action: rollback }",
        );
    }
    return lines.join("\n") + "\n";
}

/** Wait until every service whose name starts with `prefix` runs all its replicas. */
async function converged(prefix: string, count: number): Promise<void> {
    await eventually(`${count} ${prefix} services to converge`, () => {
        const rows = sh("docker", ["service", "ls", "--format", "{{.Name}} {{.Replicas}}"]).split("\n").filter((r) => r.includes(prefix));
        return rows.length === count && rows.every((r) => /\s(\d+)\/\1(\s|$)/.test(r));
    }, 600_000);
}

async function gone(prefix: string): Promise<void> {
    await eventually(`${prefix} tasks to stop`, () => !sh("docker", ["ps", "-a", "--format", "{{.Names}}"]).includes(prefix), 300_000);
}

interface Row { what: string; dockyard: number; docker: number }

async function scale(n: number): Promise<Row[]> {
    const prefix = `bn${n}x`;
    const box = sandbox({ "Pulumi.yaml": "name: bench\nruntime: nodejs\nmain: index.js\n", "index.js": program(prefix, n) }, "bench");
    try {
        box.pulumi(["stack", "init", "bench"]);
        const preview = seconds(() => box.pulumi(["preview"]));
        const up = seconds(() => box.pulumi(["up", "--yes", "--skip-preview"]));
        const noop = seconds(() => box.pulumi(["up", "--yes", "--skip-preview"]));
        box.pulumi(["destroy", "--yes", "--skip-preview"]);
        await gone(prefix);

        const file = `${box.dir}/compose.yml`;
        require("fs").writeFileSync(file, compose(`d${prefix}`, n));
        const deploy = await secondsAsync(async () => {
            sh("docker", ["stack", "deploy", "--resolve-image", "never", "-c", file, `d${prefix}`]);
            await converged(`d${prefix}`, n);
        });
        const redeploy = await secondsAsync(async () => {
            sh("docker", ["stack", "deploy", "--resolve-image", "never", "-c", file, `d${prefix}`]);
            await converged(`d${prefix}`, n);
        });
        sh("docker", ["stack", "rm", `d${prefix}`]);
        await gone(`d${prefix}`);
        // docker has no preview: compare with `docker stack config`, the closest dry step.
        const dryRun = seconds(() => sh("docker", ["stack", "config", "-c", file]));
        return [
            { what: `${n} services: plan (pulumi preview vs docker stack config)`, dockyard: preview, docker: dryRun },
            { what: `${n} services: deploy until converged`, dockyard: up, docker: deploy },
            { what: `${n} services: deploy again, nothing changed`, dockyard: noop, docker: redeploy },
        ];
    } finally {
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        spawnSync("docker", ["stack", "rm", `d${prefix}`]);
        box.cleanup();
    }
}

async function rollout(): Promise<Row[]> {
    const prefix = "brx";
    const box = sandbox({ "Pulumi.yaml": "name: bench\nruntime: nodejs\nmain: index.js\n", "index.js": program(prefix, 1, 'healthCheck: cfg.getBoolean("broken") ? { command: ["false"], interval: "1s", retries: 1, startPeriod: "0s" } : undefined,') }, "bench");
    const plain = "bpx0";
    try {
        box.pulumi(["stack", "init", "bench"]);
        box.pulumi(["config", "set", "replicas", "4"]);
        box.pulumi(["up", "--yes", "--skip-preview"]);
        box.pulumi(["config", "set", "rev", "2"]);
        const update = seconds(() => box.pulumi(["up", "--yes", "--skip-preview"]));
        box.pulumi(["config", "set", "rev", "3"]);
        box.pulumi(["config", "set", "broken", "true"]);
        const recover = seconds(() => box.pulumi(["up", "--yes", "--skip-preview"], { allowFailure: true }));

        sh("docker", ["service", "create", "-q", "--name", plain, "--replicas", "4", "--endpoint-mode", "dnsrr",
            "--update-parallelism", "1", "--update-delay", "1s", "--update-monitor", "2s", "--update-order", "start-first",
            "--update-failure-action", "rollback", "--rollback-delay", "1s", "--rollback-monitor", "2s", "--rollback-order", "start-first",
            "--env", "REV=1", IMAGE, ...LOOP]);
        const plainUpdate = seconds(() => sh("docker", ["service", "update", "-q", "--env-add", "REV=2", plain]));
        const plainRecover = await secondsAsync(async () => {
            spawnSync("docker", ["service", "update", "-q", "--env-add", "REV=3", "--health-cmd", "false", "--health-interval", "1s",
                "--health-retries", "1", "--health-start-period", "0s", plain]);
            await eventually("the plain service to roll back", () =>
                sh("docker", ["service", "inspect", "--format", "{{.UpdateStatus.State}}", plain]).trim() === "rollback_completed", 600_000);
        });
        return [
            { what: "4-replica rolling update (pulumi up vs docker service update)", dockyard: update, docker: plainUpdate },
            { what: "bad release until rolled back", dockyard: recover, docker: plainRecover },
        ];
    } finally {
        box.pulumi(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        spawnSync("docker", ["service", "rm", plain]);
        box.cleanup();
    }
}

/** Program start-up: the project's own preview with and without type checking, and an empty program. */
function startup(): Row[] {
    const empty = sandbox({ "Pulumi.yaml": "name: bench\nruntime: nodejs\nmain: index.js\n", "index.js": "" }, "bench");
    try {
        empty.pulumi(["stack", "init", "bench"]);
        const bare = Math.min(...[0, 1, 2].map(() => seconds(() => empty.pulumi(["preview"]))));
        const program = sandbox({ "Pulumi.yaml": "name: bench\nruntime: nodejs\nmain: index.ts\n", "index.ts": `import * as dy from ${JSON.stringify(ROOT + "/components")};\nnew dy.Network("bench-startup");\n` }, "bench");
        try {
            program.pulumi(["stack", "init", "bench"]);
            const timed = (transpileOnly: boolean) => {
                program.env.PULUMI_NODEJS_TRANSPILE_ONLY = String(transpileOnly);
                return Math.min(...[0, 1].map(() => seconds(() => program.pulumi(["preview"]))));
            };
            const checked = timed(false);
            const transpiled = timed(true);
            return [
                { what: "start-up: preview of a TypeScript program, type-checked vs empty JS program", dockyard: checked, docker: bare },
                { what: "start-up: the same, transpile-only (what Dockyard runs) vs empty JS program", dockyard: transpiled, docker: bare },
            ];
        } finally {
            program.cleanup();
        }
    } finally {
        empty.cleanup();
    }
}

async function main(): Promise<void> {
    const missing = [swarmMissing(), pluginMissing("docker"), pluginMissing("command")].filter(Boolean);
    if (missing.length) {
        console.error(`bench: cannot run: ${missing.join("; ")}`);
        process.exit(1);
    }
    const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
    const rows: Row[] = [...startup()];
    for (const n of sizes.length ? sizes : [1, 10, 50]) rows.push(...(await scale(n)));
    rows.push(...(await rollout()));
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    console.log(`Machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; ` +
        `Docker ${sh("docker", ["version", "--format", "{{.Server.Version}}"]).trim()}; Pulumi ${sh("pulumi", ["version"]).trim()}\n`);
    console.log("| measurement | Dockyard (s) | plain Docker / baseline (s) | ratio |");
    console.log("| --- | ---: | ---: | ---: |");
    for (const r of rows) console.log(`| ${r.what} | ${r.dockyard.toFixed(2)} | ${r.docker.toFixed(2)} | ${(r.dockyard / r.docker).toFixed(1)}× |`);
}

main().catch((e) => {
    console.error(`bench: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
});
