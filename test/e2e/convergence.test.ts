// `pulumi up` succeeds only when Swarm reports each changed service converged, and a service that
// does not converge fails the update with the reason, from the engine: task state and error, exit
// code, health-check output, log lines, the constraint no node satisfies.
import * as assert from "assert";
import { ServiceProject, eventually, pluginMissing, requireOrSkip, serviceProject, sh, swarmMissing } from "../integration/prereqs";

const sleeper = { command: ["sleep", "3600"], restart: { delay: "1s" } };
const fastRollout = { monitor: "15s", delay: "0s", order: "start-first" };

describe("e2e: convergence by Swarm's own word, and why it failed", function () {
    this.timeout(20 * 60_000);
    let project: ServiceProject;
    before(function () {
        requireOrSkip(this, swarmMissing(), pluginMissing("docker"), pluginMissing("command"));
        project = serviceProject();
    });
    after(() => project?.cleanup());
    const up = (name: string, service: object) => project.up(name, service);
    const destroy = (name: string) => project.destroy(name);

    it("a first deploy whose health check never passes fails, naming the health check and its last output; the service stays for inspection", () => {
        const name = "cv-unhealthy";
        try {
            const r = up(name, { ...sleeper, healthCheck: { command: "echo probe-says-no; exit 1", interval: "1s", timeout: "1s", retries: 2, startPeriod: "0s" } });
            assert.notStrictEqual(r.code, 0, r.out);
            assert.match(r.out, /dockyard: service cv-unhealthy did not converge: \d+ tasks failed and none is running/);
            assert.match(r.out, /health check exited 1: probe-says-no/);
            // Not deleted on a failed first create, unlike the provider's own wait.
            assert.strictEqual(sh("docker", ["service", "ls", "-q", "--filter", `name=${name}`]).trim().length > 0, true);
        } finally {
            destroy(name);
        }
    });

    it("an update to a release whose container exits at once fails, naming Swarm's rollback, the exit code and the log line; the old release keeps running", () => {
        const name = "cv-crash";
        try {
            assert.strictEqual(up(name, { ...sleeper, update: fastRollout }).code, 0);
            const r = up(name, { command: ["sh", "-c", "echo crash-marker-7; exit 3"], restart: { delay: "1s" }, update: fastRollout });
            assert.notStrictEqual(r.code, 0, r.out);
            assert.match(r.out, /dockyard: service cv-crash did not converge: Swarm (rolled|is rolling) the update back/);
            assert.match(r.out, /exit code 3/);
            assert.match(r.out, /crash-marker-7/);
            const spec = JSON.parse(sh("docker", ["service", "inspect", name]))[0].Spec.TaskTemplate.ContainerSpec;
            assert.deepStrictEqual(spec.Command ?? spec.Args, ["sleep", "3600"]);
        } finally {
            destroy(name);
        }
    });

    it("an update whose tasks start healthy and fail later fails the deploy with Swarm's rollback", () => {
        const name = "cv-late";
        try {
            const healthy = { command: "true", interval: "1s", timeout: "1s", retries: 1, startPeriod: "0s" };
            assert.strictEqual(up(name, { ...sleeper, replicas: 2, healthCheck: healthy, update: fastRollout }).code, 0);
            const started = Date.now();
            const r = up(name, { command: ["sh", "-c", "sleep 6; echo late-failure-marker; exit 2"], replicas: 2, restart: { delay: "1s" }, healthCheck: healthy, update: fastRollout });
            assert.notStrictEqual(r.code, 0, r.out);
            // The tasks were running (and healthy) for seconds before they failed.
            assert.ok(Date.now() - started > 6000);
            assert.match(r.out, /dockyard: service cv-late did not converge: Swarm (rolled|is rolling) the update back/);
            assert.match(r.out, /exit code 2/);
        } finally {
            destroy(name);
        }
    });

    it("a global service whose tasks run for a moment, then fail, fails the deploy, naming the exit code", () => {
        const name = "cv-global";
        try {
            const r = up(name, { global: true, command: ["sh", "-c", "sleep 2; echo global-crash; exit 4"], restart: { delay: "1s" } });
            assert.notStrictEqual(r.code, 0, r.out);
            assert.match(r.out, /dockyard: service cv-global did not converge: \d+ tasks failed/);
            assert.match(r.out, /exit code 4/);
        } finally {
            destroy(name);
        }
    });

    it("a service constrained to a node label no node has fails at once, naming the constraint", () => {
        const name = "cv-nowhere";
        try {
            const started = Date.now();
            const r = up(name, { ...sleeper, constraints: ["node.labels.dockyard-test==nowhere"] });
            assert.notStrictEqual(r.code, 0, r.out);
            assert.match(r.out, /did not converge: no node can run it: no suitable node \(scheduling constraints not satisfied on \d+ nodes?\); its constraints: node\.labels\.dockyard-test==nowhere/);
            assert.ok(Date.now() - started < 60_000, "failed without waiting for the timeout");
        } finally {
            destroy(name);
        }
    });

    it("a healthy global service converges", async () => {
        const name = "cv-global-ok";
        try {
            const r = up(name, { global: true, ...sleeper });
            assert.strictEqual(r.code, 0, r.out);
            await eventually("its one task running", () => sh("docker", ["service", "ps", "-q", "--filter", "desired-state=running", name]).trim().split("\n").length === 1);
        } finally {
            destroy(name);
        }
    });

    it("invalid component arguments print as their message alone: no stack trace, no dumped object, no colour codes", () => {
        const name = "cv-invalid";
        try {
            const r = up(name, { replicas: -1, ports: [{ target: 80 }, { target: 80 }] });
            assert.notStrictEqual(r.code, 0);
            assert.ok(r.out.includes([
                `Service "${name}" has 2 invalid argument problems:`,
                "      - replicas: expected a whole number, 0 or more, got -1",
                "      - ports[1]: port 80/tcp is already published by ports[0]; publish each port once",
            ].join("\n")), r.out);
            assert.doesNotMatch(r.out, /^\s+at .+\(.*:\d+:\d+\)$/m, "no stack trace");
            assert.doesNotMatch(r.out, /\u001b\[/, "no ANSI colour codes");
            assert.doesNotMatch(r.out, /__pulumi|ComponentResource \{|_transformations/, "no dumped resource object");
        } finally {
            destroy(name);
        }
    });

    it("an update whose health check fails is rolled back and says which check failed; the next good update converges", () => {
        const name = "cv-sick";
        const check = (marker: string) => ({ command: `test -e /tmp/ok || { echo ${marker}; exit 1; }`, interval: "1s", timeout: "1s", retries: 2, startPeriod: "0s" });
        const healthy = (version: string) => ({ command: ["sh", "-c", `touch /tmp/ok; echo ${version}; sleep 3600`], restart: { delay: "1s" }, update: fastRollout, healthCheck: check("never") });
        try {
            assert.strictEqual(up(name, healthy("v1")).code, 0);
            const r = up(name, { command: ["sh", "-c", "echo v2; sleep 3600"], restart: { delay: "1s" }, update: fastRollout, healthCheck: check("sick-marker") });
            assert.notStrictEqual(r.code, 0, r.out);
            assert.match(r.out, /dockyard: service cv-sick did not converge: Swarm (rolled|is rolling) the update back/);
            assert.match(r.out, /health check exited 1: sick-marker/, r.out);
            const next = up(name, healthy("v3"));
            assert.strictEqual(next.code, 0, next.out);
        } finally {
            destroy(name);
        }
    });
});
