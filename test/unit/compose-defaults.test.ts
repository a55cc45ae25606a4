// Compose import, issue 20 part B: what `docker stack deploy` accepts, the import accepts, taking
// Docker's or Swarm's default for whatever a Compose file leaves out; each mapped value passes
// Dockyard's validation. And the README's table of Compose keys is the importer's own list.
// Pure: normalised documents as `docker stack config` prints them.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ComposeImport, DELIBERATE_DIFFERENCES, DEPLOY_KEYS, SERVICE_KEYS, mapCompose } from "../../ops/compose";
import { findings, problems } from "./compose-check";

function map(services: Record<string, any>, rest: Record<string, any> = {}): ComposeImport {
    return mapCompose({ version: "3.13", services, ...rest }, { projectDir: "/p", composeDir: "/p", stack: "shop", env: {}, readFile: () => "" });
}
const app = (settings: Record<string, any>) => ({ app: { image: "busybox:1.35.0", ...settings } });

describe("compose import: Docker's defaults for what a Compose file leaves out", () => {
    it("mounts a tmpfs without a size as Docker does (unlimited), and one with a size at that size", () => {
        const r = map(app({ volumes: [{ type: "tmpfs", target: "/tmp" }, { type: "tmpfs", target: "/run", tmpfs: { size: 67108864 } }] }));
        assert.deepStrictEqual(findings(r), []);
        assert.deepStrictEqual(r.environment.services.app.mounts, [{ target: "/tmp", tmpfs: {} }, { target: "/run", tmpfs: 67108864 }]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("mounts a service-level tmpfs as docker compose does, with its size and mode, and says docker stack deploy leaves it out", () => {
        const r = map(app({ tmpfs: ["/scratch", "/run/app:size=64m,mode=1770"] }));
        const note = "mounted as a tmpfs, as docker compose does (docker stack deploy leaves a service-level tmpfs out)";
        assert.deepStrictEqual(findings(r), [`warning services.app.tmpfs[0]: ${note}`, `warning services.app.tmpfs[1]: ${note}`]);
        assert.deepStrictEqual(r.environment.services.app.mounts, [{ target: "/scratch", tmpfs: {} }, { target: "/run/app", tmpfs: { size: "64m", mode: 0o1770 } }]);
        assert.deepStrictEqual(problems(r), []);
        assert.deepStrictEqual(findings(map(app({ tmpfs: "/x:uid=1000" }))), [
            'error services.app.tmpfs[0]: expected <path>[:size=<bytes, or such as 64m>,mode=<octal such as 1770>], got "/x:uid=1000"',
        ]);
    });

    it("takes a health check of timings only as Docker does: the image's command and, for what it leaves out, the image's timings (0)", () => {
        const r = map(app({ healthcheck: { interval: "5s" } }));
        assert.deepStrictEqual(findings(r), []);
        assert.deepStrictEqual(r.environment.services.app.healthCheck, { interval: "5s", timeout: "0s", retries: 0, startPeriod: "0s" });
        assert.deepStrictEqual(problems(r), []);
    });

    it("maps limits without reservations, reservations without limits, and long-syntax ports with a protocol or mode only", () => {
        const r = map({
            a: { image: "i:1", deploy: { resources: { limits: { memory: "536870912" } } }, ports: [{ target: 53, published: 1053, protocol: "udp" }] },
            b: { image: "i:1", deploy: { resources: { reservations: { cpus: "0.25" } } }, ports: [{ target: 80, published: 8080, mode: "host" }] },
        });
        assert.deepStrictEqual(findings(r), []);
        const { a, b } = r.environment.services;
        assert.deepStrictEqual([a.limits, a.reservations, a.ports, b.limits, b.reservations, b.ports], [
            { memory: 536870912 }, undefined, [{ target: 53, published: 1053, protocol: "udp" }],
            undefined, { cpus: 0.25 }, [{ target: 80, published: 8080, mode: "host" }],
        ]);
        assert.deepStrictEqual(problems(r), []);
    });

    it("maps nocopy, read_only, init, stop_grace_period, stop_signal, sysctls, labels, hostname, working_dir, logging, extra_hosts and dns", () => {
        const r = map(app({
            volumes: [{ type: "volume", source: "data", target: "/data", volume: { nocopy: true } }],
            read_only: true, init: true, stop_grace_period: "1m30s", stop_signal: "SIGINT", sysctls: { "net.core.somaxconn": "1024" },
            labels: { tier: "back" }, hostname: "db-host", working_dir: "/srv", logging: { driver: "json-file", options: { "max-size": "10m" } },
            extra_hosts: ["gw:10.0.0.1", "v6=::1"], dns: ["10.0.0.2"], dns_search: "corp",
        }), { volumes: { data: {} } });
        assert.deepStrictEqual(findings(r), []);
        const { image: _i, networks: _n, restart: _r, ...s } = r.environment.services.app;
        assert.deepStrictEqual(s, {
            mounts: [{ target: "/data", volume: "data", noCopy: true }],
            readOnlyRootFilesystem: true, init: true, stopGracePeriod: "1m30s", stopSignal: "SIGINT", sysctls: { "net.core.somaxconn": "1024" },
            containerLabels: { tier: "back" }, hostname: "db-host", workdir: "/srv", logging: { driver: "json-file", options: { "max-size": "10m" } },
            extraHosts: [{ host: "gw", ip: "10.0.0.1" }, { host: "v6", ip: "::1" }], dns: { nameservers: ["10.0.0.2"], search: ["corp"] },
        });
        assert.deepStrictEqual(problems(r), []);
    });

    it("maps network aliases that are the same on each network; aliases that differ stop, naming both", () => {
        const same = map(app({ networks: { a: { aliases: ["db", "pg"] }, b: { aliases: ["pg", "db"] } } }), { networks: { a: {}, b: {} } });
        assert.deepStrictEqual([findings(same), same.environment.services.app.aliases, problems(same)], [[], ["db", "pg"], []]);
        const differ = map(app({ networks: { a: { aliases: ["db"] }, b: null } }), { networks: { a: {}, b: {} } });
        assert.deepStrictEqual(findings(differ), [
            'error services.app.networks.b.aliases: Dockyard gives a service the same aliases on each of its networks; services.app.networks.a has ["db"], this one []',
        ]);
    });

    it("stops at ulimits, which the Docker provider cannot set, and names the accepted forms for a value of another form", () => {
        assert.deepStrictEqual(findings(map(app({ ulimits: { nproc: 65535, nofile: { soft: 20000, hard: 40000 }, memlock: { max: -1 } } }))), [
            `error services.app.ulimits.nproc: ${SERVICE_KEYS.ulimits.note}`,
            `error services.app.ulimits.nofile: ${SERVICE_KEYS.ulimits.note}`,
            'error services.app.ulimits.memlock: expected <name>: <limit> (soft and hard the same) or <name>: { soft: <limit>, hard: <limit> }, got {"max":-1}',
        ]);
    });

    it("warns about the settings docker stack deploy ignores too, and stops at dns_search without dns", () => {
        assert.deepStrictEqual(findings(map(app({ shm_size: "268435456", security_opt: ["no-new-privileges"], dns_search: ["corp"] }))), [
            "error services.app.dns_search: Dockyard sets a resolver's search domains and options only with its name servers: give dns as well",
            `warning services.app.shm_size: ${SERVICE_KEYS.shm_size.note}`,
            `warning services.app.security_opt: ${SERVICE_KEYS.security_opt.note}`,
        ]);
    });
});

describe("README: the table of Compose keys is the importer's own list", () => {
    it("lists every service and deploy key with what the import does and why, as ops/compose.ts does", () => {
        const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
        const rows = [...readme.matchAll(/^\| `((?:deploy\.)?[a-z_]+)` \| (mapped|warned|stops) \| (.*) \|$/gm)].map(([, key, handling, note]) => [key, handling, note]);
        const expected = [
            ...Object.entries(SERVICE_KEYS).map(([k, r]) => [k, r.handling, r.note]),
            ...Object.entries(DEPLOY_KEYS).map(([k, r]) => [`deploy.${k}`, r.handling, r.note]),
        ];
        assert.deepStrictEqual(rows, expected);
    });
});

describe("README: the deliberate differences from docker stack deploy are the code's list", () => {
    it("lists each of DELIBERATE_DIFFERENCES, in its order, with its key", () => {
        const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
        const section = readme.slice(readme.indexOf("except these deliberate differences"));
        const items = [...section.slice(0, section.indexOf("\n\n", section.indexOf("\n- "))).matchAll(/^- (.*) \(`(\w+)`\)$/gm)].map(([, text, key]) => [key, text]);
        assert.deepStrictEqual(items, Object.entries(DELIBERATE_DIFFERENCES));
    });
});
