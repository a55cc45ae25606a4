// Helpers shared by the component tests. Import "../harness" before this module in a test file.
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RUN_SCRIPT } from "../../../components/internal";

/** The ownership labels every Docker object gets, followed by any extra ones. */
export function labels(component: string, extra: Record<string, string> = {}) {
    return [
        { label: "dockyard.managed", value: "true" },
        { label: "dockyard.component", value: component },
        ...Object.entries(extra).map(([label, value]) => ({ label, value })),
    ];
}

/** The whole message of a multi-problem error, as `Problems.throwIfAny` formats it. */
export function problemText(kind: string, name: string, problems: readonly string[]): string {
    const noun = problems.length === 1 ? "problem" : "problems";
    return [`${kind} "${name}" has ${problems.length} invalid argument ${noun}:`, ...problems.map((p) => `  - ${p}`)].join("\n");
}

/** The error a constructor throws; fails when it throws nothing. */
export function rejection(fn: () => unknown): Error {
    try {
        fn();
    } catch (e) {
        return e as Error;
    }
    throw new Error("expected an error, but none was thrown");
}

/** The URN a ResourceError is tied to. */
export function urnOfError(e: Error): Promise<string> {
    const resource = (e as pulumi.ResourceError).resource;
    if (!resource) throw new Error(`error is not tied to a resource: ${e.message}`);
    return new Promise((resolve) => resource.urn.apply(resolve));
}

const tempDirs: string[] = [];

/** A temporary directory holding the given files (paths relative to it); removed by `cleanTempDirs`. */
export function tempDir(files: Record<string, string> = {}, prefix = "dockyard-test-"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    tempDirs.push(dir);
    for (const [name, content] of Object.entries(files)) writeFile(dir, name, content);
    return dir;
}

export function writeFile(dir: string, name: string, content: string): void {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
}

export function cleanTempDirs(): void {
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * How the fake `docker` behaves. Each call is logged (arguments only) to the calls file; anything a
 * call reads on stdin and the DOCKER_BUILDKIT / DOCKER_CONFIG it sees are logged too.
 */
export interface FakeDockerBehaviour {
    /** `docker buildx version` succeeds (BuildKit available). @default false */
    readonly buildx?: boolean;
    /** Output of `docker image ls` (with `\n` between lines). @default empty */
    readonly imageList?: string;
    /** Output of `docker image inspect`. @default empty */
    readonly repoDigests?: string;
    /** Every call whose first two arguments (or first argument) equal this fails, e.g. "login", "image rm". */
    readonly fail?: string;
    /** What the failing call prints on stderr. */
    readonly failOutput?: string;
    /** Only the first this many calls matching `fail` fail. @default every one */
    readonly failTimes?: number;
}

export interface ScriptRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
    /** Arguments of each docker call, in order. */
    readonly calls: string[][];
    /** What each call read on stdin, by call index (only calls that read it: login). */
    readonly stdin: Record<number, string>;
    /** `DOCKER_BUILDKIT` and `DOCKER_CONFIG` as each call saw them ("unset" when not set). */
    readonly env: Array<{ buildkit: string; config: string }>;
    /** The DOCKER_CONFIG directories the calls saw still exist after the script ended. */
    readonly leftoverConfigDirs: string[];
}

const FAKE_DOCKER = `#!/bin/sh
n=$(wc -l < "$FAKE_DIR/calls" | tr -d ' ')
printf '%s\\t' "$@" >> "$FAKE_DIR/calls"; echo >> "$FAKE_DIR/calls"
echo "\${DOCKER_BUILDKIT-unset} \${DOCKER_CONFIG-unset}" >> "$FAKE_DIR/env"
if [ "$1" = login ]; then cat > "$FAKE_DIR/stdin.$n"; fi
if [ -n "\${FAKE_FAIL:-}" ] && { [ "$1 \${2:-}" = "$FAKE_FAIL" ] || [ "$1" = "$FAKE_FAIL" ]; }; then
  echo >> "$FAKE_DIR/failed"
  if [ -z "\${FAKE_FAIL_TIMES:-}" ] || [ "$(wc -l < "$FAKE_DIR/failed")" -le "$FAKE_FAIL_TIMES" ]; then
    printf '%b' "\${FAKE_FAIL_OUTPUT:-}" >&2; exit 1
  fi
fi
case "$1 \${2:-}" in
  "buildx version") [ "\${FAKE_BUILDX:-}" = yes ] || exit 1 ;;
  "image ls") printf '%b' "\${FAKE_IMAGE_LIST:-}" ;;
  "image inspect") printf '%b' "\${FAKE_REPO_DIGESTS:-}" ;;
esac
exit 0
`;

/**
 * Run one of the components' scripts exactly as a Dockyard command does (`sh -c "$DOCKYARD_SCRIPT"`
 * with the script in the environment, under `/bin/sh -c` as the command provider runs it), with a
 * fake `docker` first on PATH.
 */
export function runScript(script: string, env: Record<string, string>, behaviour: FakeDockerBehaviour = {}): ScriptRun {
    const dir = tempDir({}, "fake-docker-");
    fs.writeFileSync(path.join(dir, "docker"), FAKE_DOCKER, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "calls"), "");
    fs.writeFileSync(path.join(dir, "env"), "");
    const r = spawnSync("/bin/sh", ["-c", RUN_SCRIPT], {
        cwd: dir,
        encoding: "utf8",
        env: {
            PATH: `${dir}:${process.env.PATH}`,
            FAKE_DIR: dir,
            FAKE_BUILDX: behaviour.buildx ? "yes" : "",
            FAKE_IMAGE_LIST: behaviour.imageList ?? "",
            FAKE_REPO_DIGESTS: behaviour.repoDigests ?? "",
            FAKE_FAIL: behaviour.fail ?? "",
            FAKE_FAIL_OUTPUT: behaviour.failOutput ?? "",
            FAKE_FAIL_TIMES: behaviour.failTimes === undefined ? "" : String(behaviour.failTimes),
            DOCKYARD_SCRIPT: script,
            ...env,
        },
    });
    const lines = (file: string) => fs.readFileSync(path.join(dir, file), "utf8").split("\n").filter((l) => l !== "");
    const calls = lines("calls").map((l) => l.split("\t").slice(0, -1));
    const stdin: Record<number, string> = {};
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith("stdin."))) {
        stdin[Number(f.slice("stdin.".length))] = fs.readFileSync(path.join(dir, f), "utf8");
    }
    const seen = lines("env").map((l) => {
        const [buildkit, config] = l.split(" ");
        return { buildkit, config };
    });
    const leftoverConfigDirs = [...new Set(seen.map((e) => e.config))].filter((d) => d !== "unset" && fs.existsSync(d));
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, stdin, env: seen, leftoverConfigDirs };
}
