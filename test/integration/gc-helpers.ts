// What the registry hygiene suites share (test/integration/gc.test.ts, test/e2e/gc-cluster.test.ts):
// a registry service as the Registry component runs it, builds pushed to it, release records.
import * as fs from "fs";
import * as path from "path";
import { Release, appendRelease, readReleases } from "../../ops/releases";

/** The registry service as the Registry component makes it (components/registry.ts), on `docker`. */
export function startRegistry(docker: (args: string[]) => string, name: string, port: number, opts: { constraint?: string } = {}): void {
    docker(["service", "create", "--quiet", "--detach", "--name", name,
        "--env", `REGISTRY_HTTP_ADDR=0.0.0.0:${port}`, "--env", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry", "--env", "REGISTRY_STORAGE_DELETE_ENABLED=true",
        "--health-cmd", `wget -q -O /dev/null http://127.0.0.1:${port}/ || exit 1`, "--health-interval", "5s", "--health-timeout", "3s", "--health-retries", "3", "--health-start-period", "5s",
        "--update-order", "stop-first", "--endpoint-mode", "dnsrr", "--publish", `mode=host,target=${port},published=${port}`,
        "--mount", `type=volume,source=${name}-data,target=/var/lib/registry`, ...(opts.constraint ? ["--constraint", opts.constraint] : []),
        "dockyard/registry:2.8.2"]);
}

/** Build `count` distinct images of `repo` (a second apart, so their creation times differ) and push them; their digests, oldest first. */
export async function pushBuilds(docker: (args: string[]) => string, ref: string, tags: string[], dir: string): Promise<string[]> {
    const digests: string[] = [];
    for (const tag of tags) {
        fs.writeFileSync(path.join(dir, "Dockerfile"), `FROM dockyard/busybox:1.35.0\nRUN echo ${ref}:${tag} > /build\n`);
        docker(["build", "-q", "-t", `${ref}:${tag}`, dir]);
        docker(["push", "-q", `${ref}:${tag}`]);
        const digest = docker(["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", `${ref}:${tag}`]).split("\n").find((d) => d.startsWith(`${ref}@`))!;
        digests.push(digest.slice(ref.length + 1));
        await new Promise((r) => setTimeout(r, 1100));
    }
    return digests;
}

/** Records of releases 1..n, release i deploying `refs[i-1]`, failed where `failed` says. */
export function recordReleases(projectDir: string, stack: string, refs: string[], failed: number[]): Release[] {
    refs.forEach((ref, i) => appendRelease(projectDir, stack, {
        time: new Date().toISOString(), result: failed.includes(i + 1) ? "failed" : "succeeded", kind: "deploy", environment: {},
        images: { app: ref }, manifest: { web: { image: ref, specHash: "h" } },
    }));
    return readReleases(projectDir, stack);
}
