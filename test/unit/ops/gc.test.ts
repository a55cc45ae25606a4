import * as assert from "assert";
import * as http from "http";
import type { Environment } from "../../../config/schema";
import { RegistryApi, gcTarget } from "../../../ops/gc-run";
import { DEFAULT_KEEP, NodeImage, StoredManifest, formatBytes, parseReference, planNode, planRegistry, planRepository, referencedDigests } from "../../../ops/gc";
import type { Release } from "../../../ops/releases";

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
/** Manifest n, created n minutes past ten (higher is newer). */
const m = (n: number, extra: Partial<StoredManifest> = {}): StoredManifest => ({ digest: d(n), tags: [`c-${n}`], created: `2026-12-06T10:${String(n).padStart(2, "0")}:00Z`, ...extra });
function release(number: number, refs: Record<string, string>, result: Release["result"] = "succeeded"): Release {
    return {
        number, time: "2026-12-06T10:00:00Z", result, kind: "deploy", environment: {}, images: refs,
        manifest: Object.fromEntries(Object.entries(refs).map(([k, ref]) => [k, { image: ref, specHash: "h" }])),
    };
}

describe("registry hygiene: what goes (ops/gc.ts)", () => {
    describe("planRepository", () => {
        const cases: Array<{ name: string; stored: StoredManifest[]; keep: number; referenced?: Record<string, number[]>; inUse?: string[]; kept: string[]; removed: string[] }> = [
            { name: "5 builds, keep 2: the 2 newest stay", stored: [m(1), m(2), m(3), m(4), m(5)], keep: 2, kept: [d(5), d(4)], removed: [d(3), d(2), d(1)] },
            { name: "listing order does not matter", stored: [m(3), m(5), m(1), m(4), m(2)], keep: 2, kept: [d(5), d(4)], removed: [d(3), d(2), d(1)] },
            { name: "fewer than keep: nothing goes", stored: [m(1), m(2)], keep: 5, kept: [d(2), d(1)], removed: [] },
            { name: "exactly keep: nothing goes", stored: [m(1), m(2)], keep: 2, kept: [d(2), d(1)], removed: [] },
            { name: "an empty repository", stored: [], keep: 2, kept: [], removed: [] },
            { name: "one a release references stays beyond keep", stored: [m(1), m(2), m(3), m(4), m(5)], keep: 2, referenced: { [d(1)]: [1, 3] }, kept: [d(5), d(4), d(1)], removed: [d(3), d(2)] },
            { name: "a referenced digest the registry no longer has changes nothing", stored: [m(1), m(2), m(3)], keep: 1, referenced: { [d(9)]: [2] }, kept: [d(3)], removed: [d(2), d(1)] },
            { name: "in use stays", stored: [m(1), m(2), m(3)], keep: 1, inUse: [d(2)], kept: [d(3), d(2)], removed: [d(1)] },
            { name: "unknown creation time counts as newest (kept)", stored: [m(1), m(2), m(3, { created: undefined })], keep: 1, kept: [d(3)], removed: [d(2), d(1)] },
            { name: "same time: ordered by digest, stable", stored: [m(2, { created: "2026-12-06T10:00:00Z" }), m(1, { created: "2026-12-06T10:00:00Z" })], keep: 1, kept: [d(1)], removed: [d(2)] },
            { name: "a platform manifest of a kept index stays", stored: [m(1), m(2), m(3, { children: [d(1)] })], keep: 1, kept: [d(3)], removed: [d(2)] },
        ];
        for (const c of cases) {
            it(c.name, () => {
                const plan = planRepository("shop/app", c.stored, c.keep, new Map(Object.entries(c.referenced ?? {})), new Set(c.inUse ?? []));
                assert.deepStrictEqual(plan.kept.map((k) => k.digest), c.kept);
                assert.deepStrictEqual(plan.remove.map((r) => r.digest), c.removed);
                assert.strictEqual(plan.repository, "shop/app");
                assert.strictEqual(plan.keep, c.keep);
            });
        }

        it("says why each is kept, with the releases that reference it", () => {
            const plan = planRepository("shop/app", [m(1), m(2), m(3)], 1, new Map([[d(3), [4]], [d(1), [2, 1]]]), new Set([d(1)]));
            assert.deepStrictEqual(plan.kept, [
                { digest: d(3), reasons: ["newest", "release"], releases: [4] },
                { digest: d(1), reasons: ["release", "in use"], releases: [1, 2] },
            ]);
        });

        it("refuses keep 0 (would delete what runs)", () => {
            assert.throws(() => planRepository("shop/app", [m(1)], 0, new Map()), { message: "keep for shop/app: expected a whole number of 1 or more, got 0" });
        });
    });

    describe("planRegistry", () => {
        it("several repositories, each with its own keep; a foreign repository is untouched", () => {
            const stored = new Map<string, StoredManifest[]>([
                ["shop/app", [m(1), m(2), m(3), m(4), m(5)]],
                ["shop/worker", [m(11), m(12), m(13)]],
                ["someone/else", [m(21), m(22), m(23)]],
            ]);
            const releases = [
                release(1, { app: `127.0.0.1:5000/shop/app@${d(1)}`, worker: `127.0.0.1:5000/shop/worker@${d(11)}` }),
                // A foreign repository's digest referenced under our name elsewhere does not make it ours.
                release(2, { app: `127.0.0.1:5000/shop/app@${d(5)}`, other: `127.0.0.1:5000/someone/else@${d(21)}` }),
            ];
            // A service runs d(2) (a failed release updated it): it stays.
            const running = [`127.0.0.1:5000/shop/app@${d(2)}`, `127.0.0.1:5000/someone/else@${d(22)}`, "nginx:1.27"];
            const plans = planRegistry(new Map([["shop/app", 2], ["shop/worker", 1], ["shop/new", DEFAULT_KEEP]]), stored, releases, running);
            assert.deepStrictEqual(plans.map((p) => ({ repository: p.repository, kept: p.kept.map((k) => k.digest), remove: p.remove.map((r) => r.digest) })), [
                { repository: "shop/app", kept: [d(5), d(4), d(2), d(1)], remove: [d(3)] },
                { repository: "shop/worker", kept: [d(13), d(11)], remove: [d(12)] },
                { repository: "shop/new", kept: [], remove: [] },
            ]);
        });
    });

    describe("referencedDigests", () => {
        it("collects digests of one repository from successful releases' images and services, any registry host, once per release", () => {
            const releases = [
                release(1, { app: `127.0.0.1:5000/shop/app@${d(1)}` }),
                release(2, { app: `10.213.0.11:5000/shop/app@${d(2)}`, web: `10.213.0.11:5000/shop/app@${d(2)}` }),
                release(3, { app: `127.0.0.1:5000/shop/app-extra@${d(3)}`, tagged: "127.0.0.1:5000/shop/app:v1", hub: "nginx:1.27" }),
                // Never a rollback target.
                release(4, { app: `127.0.0.1:5000/shop/app@${d(4)}` }, "failed"),
            ];
            assert.deepStrictEqual([...referencedDigests(releases, "shop/app")], [[d(1), [1]], [d(2), [2]]]);
        });
    });

    describe("parseReference", () => {
        const cases: Array<[string, ReturnType<typeof parseReference>]> = [
            ["127.0.0.1:5000/shop/app@sha256:ab", { registry: "127.0.0.1:5000", repository: "shop/app", digest: "sha256:ab" }],
            ["127.0.0.1:5000/shop/app:c-1", { registry: "127.0.0.1:5000", repository: "shop/app", tag: "c-1" }],
            ["ghcr.io/o/app:v1@sha256:ab", { registry: "ghcr.io", repository: "o/app", tag: "v1", digest: "sha256:ab" }],
            ["localhost/app", { registry: "localhost", repository: "app" }],
            ["shop/app:v2", { repository: "shop/app", tag: "v2" }],
            ["nginx", { repository: "nginx" }],
        ];
        for (const [ref, want] of cases) it(ref, () => assert.deepStrictEqual(parseReference(ref), want));
    });

    describe("planNode", () => {
        const plans = [planRepository("shop/app", [m(1), m(2), m(3)], 1, new Map([[d(1), [1]]]))]; // keeps 3 and 1
        const img = (name: string, digest: string | undefined, id: string, tag?: string): NodeImage => ({ name, digest, id, size: 10, tag });
        it("removes Dockyard's images the registry does not keep and no container uses; nothing else", () => {
            const images = [
                img("127.0.0.1:5000/shop/app", d(1), "i1"), // referenced by a release
                img("127.0.0.1:5000/shop/app", d(2), "i2"), // goes
                img("127.0.0.1:5000/shop/app", d(3), "i3"), // newest
                img("127.0.0.1:5000/shop/app", d(4), "i4"), // not kept, but a container uses it
                img("127.0.0.1:5000/shop/app", undefined, "i5", "c-5"), // built here, never pushed
                img("127.0.0.1:5000/shop/other", d(6), "i6"), // not a managed repository
                img("registry.example.com/shop/app", d(7), "i7"), // same path on another registry: not ours
                img("dockyard/busybox", undefined, "i8", "1.35.0"),
            ];
            assert.deepStrictEqual(planNode("127.0.0.1:5000", plans, images, new Set(["i4"])).map((i) => i.id), ["i2"]);
        });
    });

    it("formats sizes as docker does", () => {
        assert.deepStrictEqual([0, 999, 1000, 25_300_000, 1_234_000_000].map(formatBytes), ["0 B", "999 B", "1.00 kB", "25.3 MB", "1.23 GB"]);
    });
});

describe("registry hygiene: target and registry API (ops/gc-run.ts)", () => {
    const images = { app: { context: "app", repository: "shop/app", keep: 2 }, worker: { context: "w", repository: "shop/app" }, api: { context: "a", repository: "shop/api" } };
    it("self-hosted: the address nodes use, the prefixed service, each repository's keep (the larger when shared, else 5)", () => {
        const t = gcTarget({ prefix: "dev", registry: { selfHosted: { port: 5001 } }, images } as unknown as Environment);
        assert.deepStrictEqual({ ...t, managed: [...t!.managed] }, {
            server: "127.0.0.1:5001", url: "http://127.0.0.1:5001", username: undefined, service: "dev-registry",
            managed: [["shop/app", 5], ["shop/api", 5]],
        });
        const addressed = gcTarget({ registry: { selfHosted: { address: "10.213.0.11:5000", username: "ci" } }, images: { app: images.app } } as unknown as Environment);
        assert.deepStrictEqual({ ...addressed, managed: [...addressed!.managed] }, {
            server: "10.213.0.11:5000", url: "http://10.213.0.11:5000", username: "ci", service: "registry", managed: [["shop/app", 2]],
        });
    });
    it("external: HTTPS to its server, no service; no registry: nothing to clean", () => {
        const t = gcTarget({ registry: { external: { server: "ghcr.io", username: "bot" } }, images: { app: images.app } } as unknown as Environment);
        assert.deepStrictEqual({ ...t, managed: [...t!.managed] }, { server: "ghcr.io", url: "https://ghcr.io", username: "bot", managed: [["shop/app", 2]] });
        assert.strictEqual(gcTarget({ images } as unknown as Environment), undefined);
    });

    describe("against a fake registry", () => {
        let server: http.Server;
        let base: string;
        const seen: string[] = [];
        before(async () => {
            server = http.createServer((req, res) => {
                seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
                if (req.method === "DELETE" && req.url!.includes("/old/")) return void res.writeHead(405).end('{"errors":[{"code":"UNSUPPORTED"}]}');
                if (req.method === "DELETE" && req.url!.includes("/gone/")) return void res.writeHead(404).end();
                if (req.method === "DELETE") return void res.writeHead(202).end();
                if (req.url === "/v2/shop/app/tags/list?n=1000") return void res.writeHead(200, { Link: '</v2/shop/app/tags/list?n=1000&last=a>; rel="next"' }).end('{"tags":["a"]}');
                if (req.url === "/v2/shop/app/tags/list?n=1000&last=a") return void res.writeHead(200).end('{"tags":["b"]}');
                if (req.url === "/v2/locked/tags/list?n=1000") return void res.writeHead(401).end();
                // The token flow: a bearer challenge, a token for the scope given for the basic credentials.
                if (req.url!.startsWith("/token?")) {
                    const ok = req.headers.authorization === "Basic Ym90OnM=" && req.url === "/token?service=fake&scope=repository%3Atok%2Fapp%3Apull";
                    return void res.writeHead(ok ? 200 : 403).end(JSON.stringify({ token: "t0k" }));
                }
                if (req.url === "/v2/tok/app/tags/list?n=1000") {
                    if (req.headers.authorization === "Bearer t0k") return void res.writeHead(200).end('{"tags":["v1"]}');
                    return void res.writeHead(401, { "WWW-Authenticate": `Bearer realm="${base}/token",service="fake",scope="repository:tok/app:pull"` }).end();
                }
                res.writeHead(404).end('{"errors":[{"code":"NAME_UNKNOWN"}]}');
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        });
        after(() => server.close());

        it("follows tag pages, sends basic auth, knows an unknown repository as empty", async () => {
            const api = new RegistryApi(base, { username: "u", password: "p" });
            assert.deepStrictEqual(await api.tags("shop/app"), ["a", "b"]);
            assert.deepStrictEqual(await api.tags("shop/none"), []);
            assert.ok(seen.every((s) => s.endsWith(" Basic dTpw")), seen.join("\n"));
        });
        it("gets a bearer token from the realm a 401 names, with the credentials, once per scope", async () => {
            const api = new RegistryApi(base, { username: "bot", password: "s" });
            seen.length = 0;
            assert.deepStrictEqual(await api.tags("tok/app"), ["v1"]);
            assert.deepStrictEqual(await api.tags("tok/app"), ["v1"]);
            assert.deepStrictEqual(seen.map((l) => l.replace(/ \S+$/, "")), [
                "GET /v2/tok/app/tags/list?n=1000 Basic", "GET /token?service=fake&scope=repository%3Atok%2Fapp%3Apull Basic", "GET /v2/tok/app/tags/list?n=1000 Bearer",
                "GET /v2/tok/app/tags/list?n=1000 Basic", "GET /v2/tok/app/tags/list?n=1000 Bearer",
            ]);
            await assert.rejects(new RegistryApi(base, { username: "bot", password: "wrong" }).tags("tok/app"),
                { message: `registry ${base}: its token service ${base} refused a token for repository:tok/app:pull (403): check the registry's username and password` });
        });

        it("DELETE: 202 deleted, 404 gone, 405 UNSUPPORTED unsupported (a note, not an error); 401 names the credentials", async () => {
            const api = new RegistryApi(base);
            assert.deepStrictEqual([await api.delete("shop/app", d(1)), await api.delete("gone/app", d(1)), await api.delete("old/app", d(1))], ["deleted", "gone", "unsupported"]);
            await assert.rejects(api.tags("locked"), { message: `registry ${base} refused GET /v2/locked/tags/list?n=1000 (401): check the registry's username and password (none given)` });
        });
    });
});
