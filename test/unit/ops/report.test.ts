// The review renderer and danger rules, on previews recorded from the real engine (test/fixtures).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PreviewJson, renderMarkdown, review } from "../../../ops/report";

function fixture(name: string): PreviewJson {
    return JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../fixtures/preview", `${name}.json`), "utf8"));
}

describe("review", () => {
    it("no changes: exit 0 and a one-line report", () => {
        const r = review(fixture("dev-nochange"), { stack: "dev", production: false });
        assert.deepStrictEqual([r.exitCode, r.changes.length, r.dangers.length], [0, 0, 0]);
        assert.strictEqual(renderMarkdown(r), "## Dockyard review of `dev`\n\nNo changes.\n");
    });

    it("first deploy: every Docker object is a create, grouped by component, exit 2", () => {
        const r = review(fixture("dev-create"), { stack: "dev", production: false });
        assert.strictEqual(r.exitCode, 2);
        assert.deepStrictEqual(r.counts, { create: 9, update: 0, replace: 0, delete: 0 });
        assert.deepStrictEqual(r.changes.map((c) => `${c.component}/${c.resource}`).sort(), [
            "app/app-build", "app/app-prune", "app_token/app_token-secret", "backend/backend-network", "kv-data/kv-data-volume",
            "kv/kv-service", "registry-data/registry-data-volume", "registry/registry-service", "web/web-service",
        ]);
        assert.deepStrictEqual(r.dangers, []);
    });

    it("a new app release: services update in place with old and new image shown, exit 2", () => {
        const r = review(fixture("dev-release"), { stack: "dev", production: false });
        assert.strictEqual(r.exitCode, 2);
        assert.deepStrictEqual(r.counts, { create: 0, update: 2, replace: 2, delete: 0 });
        const web = r.changes.find((c) => c.resource === "web-service")!;
        assert.deepStrictEqual(web, {
            component: "web",
            resource: "web-service",
            type: "docker:index/service:Service",
            change: "update",
            properties: [{
                path: "taskSpec.containerSpec.image",
                kind: "update",
                old: "127.0.0.1:5000/dockyard/app@sha256:e829a9ba5385…",
                new: "(known after the update)",
            }],
        });
        const md = renderMarkdown(r);
        assert.ok(md.includes("| web | web-service (docker Service) | update in place | `taskSpec.containerSpec.image`: 127.0.0.1:5000/dockyard/app@sha256:e829a9ba5385… → (known after the update) |"), md);
        assert.ok(md.includes("`environment.BUILD_ARGS`: APP_VERSION=dev → APP_VERSION=v2"), md);
        assert.ok(!md.includes("Dangerous"), md);
    });

    it("a replaced volume is dangerous: exit 3 and flagged first", () => {
        const r = review(fixture("dev-danger"), { stack: "dev", production: false });
        assert.strictEqual(r.exitCode, 3);
        assert.deepStrictEqual(r.dangers, [
            { resource: "kv-data-volume", reason: "volume replaced: the Docker volume changes and its data does not follow" },
        ]);
        const md = renderMarkdown(r);
        assert.ok(md.indexOf("### :warning: Dangerous changes") < md.indexOf("| Component |"), md);
        assert.ok(md.endsWith("Exit code 3: dangerous changes.\n"), md);
    });

    it("every change to production is flagged", () => {
        const r = review(fixture("dev-release"), { stack: "prod", production: true });
        assert.strictEqual(r.exitCode, 3);
        assert.deepStrictEqual(r.dangers, [{ resource: "prod", reason: "4 changes to production" }]);
    });

    it("a replaced service is downtime; a deleted one removes a workload", () => {
        const base = fixture("dev-release");
        const web = base.steps!.find((s) => s.urn.endsWith("web-service"))!;
        const r = review({ steps: [{ ...web, op: "replace" }, { ...web, op: "delete", urn: web.urn.replace("web-service", "old-service") }] }, { stack: "dev", production: false });
        assert.deepStrictEqual(r.dangers, [
            { resource: "web-service", reason: "replaced instead of updated in place: expect downtime while the old one stops and the new one starts" },
            { resource: "old-service", reason: "a running workload is removed" },
        ]);
    });

    it("drift: a recorded resource created again was removed outside Dockyard; a refresh that found differences was changed outside", () => {
        const base = fixture("dev-release");
        const web = base.steps!.find((s) => s.urn.endsWith("web-service"))!;
        const net = { ...web, urn: web.urn.replace("web-service", "backend-network").replace("service:Service", "network:Network"), op: "create", oldState: undefined,
            newState: { ...web.newState, type: "docker:index/network:Network" }, detailedDiff: null };
        const r = review({
            steps: [
                { ...web, op: "refresh", diffReasons: ["labels"] },
                { ...web, op: "update" },
                net,
            ],
        }, { stack: "dev", production: false, recorded: new Set([web.urn, net.urn]) });
        assert.deepStrictEqual(r.changes.map((c) => [c.resource, c.change, c.drift]), [
            ["web-service", "update", "changed outside Dockyard (labels): put back"],
            ["backend-network", "create", "removed outside Dockyard: created again"],
        ]);
        assert.strictEqual(r.exitCode, 2);
        const md = renderMarkdown(r);
        assert.ok(md.includes([
            "### Drift: changed outside Dockyard",
            "",
            "- `web-service` (docker Service): changed outside Dockyard (labels): put back",
            "- `backend-network` (docker Network): removed outside Dockyard: created again",
        ].join("\n")), md);
        assert.ok(md.includes("| backend-network (docker Network) | create (drift) |"), md);
        // A resource that is new to the stack is no drift.
        assert.strictEqual(review({ steps: [net] }, { stack: "dev", production: false, recorded: new Set() }).changes[0].drift, undefined);
    });

    it("errors win: exit 1 with the engine's messages", () => {
        const r = review({ steps: [], diagnostics: [{ message: "error: boom\n", severity: "error" }, { message: "fine", severity: "warning" }] }, { stack: "dev", production: false });
        assert.deepStrictEqual([r.exitCode, r.errors], [1, ["error: boom"]]);
        assert.ok(renderMarkdown(r).includes("### Errors: the preview failed\n\n- error: boom\n"));
    });

    it("shows a changed secret as [secret], never its value", () => {
        const secretStep = fixture("dev-create").steps!.find((s) => s.urn.endsWith("app_token-secret"))!;
        assert.strictEqual((secretStep.newState!.inputs as any).data, "[secret]", "the engine masks secrets in previews");
        const r = review({ steps: [{ ...secretStep, op: "update", oldState: secretStep.newState, detailedDiff: { data: { kind: "update" } } }] }, { stack: "dev", production: false });
        assert.deepStrictEqual(r.changes[0].properties, [{ path: "data", kind: "update", old: "[secret]", new: "[secret]" }]);
        assert.ok(renderMarkdown(r).includes("| app_token | app_token-secret (docker Secret) | update in place | `data`: [secret] → [secret] |"));
    });
});
