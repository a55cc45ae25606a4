// Turns `pulumi preview --json` into a review: what changes per component, what is dangerous, and
// an exit code like `nomad job plan` (0 no changes, 2 changes, 3 dangerous changes; 1 is an error).
// Pure: reads nothing but its arguments.

/** The parts of `pulumi preview --json` this reads. */
export interface PreviewJson {
    steps?: Array<{
        op: string;
        urn: string;
        oldState?: { type?: string; custom?: boolean; parent?: string; inputs?: Record<string, unknown> };
        newState?: { type?: string; custom?: boolean; parent?: string; inputs?: Record<string, unknown> };
        diffReasons?: string[];
        replaceReasons?: string[];
        detailedDiff?: Record<string, { kind: string }> | null;
    }>;
    diagnostics?: Array<{ urn?: string; message: string; severity: string }>;
    changeSummary?: Record<string, number>;
}

export type ChangeKind = "create" | "update" | "replace" | "delete";

export interface PropertyChange {
    readonly path: string;
    readonly kind: string;
    readonly old?: string;
    readonly new?: string;
}

export interface Change {
    /** The Dockyard component (or top-level resource) it belongs to. */
    readonly component: string;
    readonly resource: string;
    readonly type: string;
    readonly change: ChangeKind;
    readonly properties: readonly PropertyChange[];
    /** Set when the change puts back what was changed or removed outside Dockyard. */
    readonly drift?: string;
}

export interface Danger {
    readonly resource: string;
    readonly reason: string;
}

/** A violation of a rule of the policy pack (policy/), as `review` reports it. */
export interface Violation {
    readonly rule: string;
    readonly level: "mandatory" | "advisory";
    /** The resource's name (the last part of its URN), or "(stack)". */
    readonly resource: string;
    readonly message: string;
}

export interface Review {
    readonly stack: string;
    readonly production: boolean;
    readonly changes: readonly Change[];
    readonly dangers: readonly Danger[];
    /** Policy violations; a mandatory one makes the review dangerous (exit 3). */
    readonly violations: readonly Violation[];
    readonly errors: readonly string[];
    readonly counts: Readonly<Record<ChangeKind, number>>;
    /** 0 no changes, 1 errors, 2 changes, 3 dangerous changes or a mandatory policy violation. */
    readonly exitCode: 0 | 1 | 2 | 3;
}

/** Pulumi's marker for values only known after the update. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const OPS: Record<string, ChangeKind | undefined> = {
    create: "create",
    update: "update",
    // A replacement also emits create-replacement and delete-replaced steps: count it once.
    replace: "replace",
    delete: "delete",
    "discard": "delete",
};

const DATA_TYPES = new Set(["docker:index/volume:Volume"]);
const WORKLOAD_TYPES = new Set(["docker:index/service:Service", "docker:index/container:Container"]);

function lastSegment(urn: string | undefined): string {
    return urn ? urn.split("::").pop()! : "";
}

/** The value at a detailedDiff path such as `taskSpec.containerSpec.image` or `labels[2]`. */
function at(value: unknown, path: string): unknown {
    let v: any = value;
    for (const part of path.match(/[^.[\]]+/g) ?? []) {
        if (v === null || v === undefined) return undefined;
        v = v[/^\d+$/.test(part) ? Number(part) : part];
    }
    return v;
}

/** A short, review-friendly rendering of a property value. */
export function showValue(v: unknown): string | undefined {
    if (v === undefined) return undefined;
    if (v === UNKNOWN) return "(known after the update)";
    if (v === "[secret]") return "[secret]";
    const text = typeof v === "string" ? v : JSON.stringify(v, (k, x) => (k === "__defaults" ? undefined : x === UNKNOWN ? "(known after the update)" : x));
    const short = text.replace(/sha256:([0-9a-f]{12})[0-9a-f]{52}/g, "sha256:$1…");
    return short.length > 120 ? `${short.slice(0, 117)}...` : short;
}

/**
 * The review of a preview. `recorded` are the URNs in the stack's state before the preview: a
 * recorded resource the preview creates again was removed outside Dockyard (drift). A refresh step
 * that found differences is drift too: the object was changed outside Dockyard. `violations` are
 * the policy pack's findings; a mandatory one makes the review exit 3.
 */
export function review(preview: PreviewJson, opts: { stack: string; production: boolean; recorded?: ReadonlySet<string>; violations?: readonly Violation[] }): Review {
    const violations = opts.violations ?? [];
    const mandatory = violations.filter((v) => v.level === "mandatory").length;
    // A mandatory violation fails the preview; that failure is the violation, not an error.
    const errors = (preview.diagnostics ?? []).filter((d) => d.severity === "error").map((d) => d.message.trim())
        .filter((m) => !(mandatory && /^(preview|update) failed$/.test(m)));
    const changes: Change[] = [];
    const changedOutside = new Map<string, readonly string[]>();
    for (const step of preview.steps ?? []) {
        if (step.op === "refresh") {
            if (step.diffReasons?.length) changedOutside.set(step.urn, step.diffReasons);
            continue;
        }
        const change = OPS[step.op];
        const state = step.newState ?? step.oldState;
        if (!change || !state || state.custom !== true) continue; // components and the stack are logical only
        const type = state.type ?? "";
        if (type.startsWith("pulumi:providers:")) continue;
        const properties = Object.entries(step.detailedDiff ?? {})
            .map(([path, d]) => ({
                path,
                kind: d.kind,
                old: showValue(at(step.oldState?.inputs, path)),
                new: showValue(at(step.newState?.inputs, path)),
            }))
            // Provider normalisations (an empty map added, nothing on either side) are noise.
            .filter((p) => !(p.old === undefined && (p.new === undefined || /^(\[\]|\{\})$/.test(p.new))));
        const removed = change === "create" && opts.recorded?.has(step.urn);
        const changed = changedOutside.get(step.urn);
        const drift = removed ? "removed outside Dockyard: created again" : changed ? `changed outside Dockyard (${changed.join(", ")}): put back` : undefined;
        changes.push({ component: lastSegment(state.parent) || lastSegment(step.urn), resource: lastSegment(step.urn), type, change, properties, ...(drift ? { drift } : {}) });
    }

    const dangers: Danger[] = [];
    for (const c of changes) {
        if (DATA_TYPES.has(c.type) && (c.change === "replace" || c.change === "delete")) {
            dangers.push({ resource: c.resource, reason: `volume ${c.change === "replace" ? "replaced" : "deleted"}: the Docker volume changes and its data does not follow` });
        }
        if (WORKLOAD_TYPES.has(c.type) && c.change === "replace") {
            dangers.push({ resource: c.resource, reason: "replaced instead of updated in place: expect downtime while the old one stops and the new one starts" });
        }
        if (WORKLOAD_TYPES.has(c.type) && c.change === "delete") {
            dangers.push({ resource: c.resource, reason: "a running workload is removed" });
        }
    }
    if (opts.production && changes.length > 0) {
        dangers.push({ resource: opts.stack, reason: `${changes.length} change${changes.length === 1 ? "" : "s"} to production` });
    }

    const counts = { create: 0, update: 0, replace: 0, delete: 0 };
    for (const c of changes) counts[c.change]++;
    const exitCode = errors.length ? 1 : dangers.length || mandatory ? 3 : changes.length ? 2 : 0;
    return { stack: opts.stack, production: opts.production, changes, dangers, violations, errors, counts, exitCode };
}

const VERB: Record<ChangeKind, string> = { create: "create", update: "update in place", replace: "**replace**", delete: "**delete**" };

function shortType(type: string): string {
    return type.replace(/^docker:index\/\w+:/, "docker ").replace(/^command:local:Command$/, "command");
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Markdown for a pull-request comment. */
export function renderMarkdown(r: Review): string {
    const out: string[] = [];
    const summary = (Object.entries(r.counts) as Array<[ChangeKind, number]>)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} to ${k === "update" ? "update in place" : k}`)
        .join(", ");
    out.push(`## Dockyard review of \`${r.stack}\`${r.production ? " (production)" : ""}`, "");
    if (r.errors.length) {
        out.push("### Errors: the preview failed", "", ...r.errors.map((e) => `- ${cell(e)}`), "");
    }
    if (r.violations.length) {
        out.push("### :no_entry: Policy violations", "", ...r.violations.map((v) => `- **${v.level}** \`${v.rule}\` on \`${v.resource}\`: ${cell(v.message)}`), "");
    }
    if (r.changes.length === 0 && !r.errors.length) {
        out.push("No changes.");
        if (r.exitCode === 3) out.push("", "Exit code 3: a mandatory policy is violated.");
        return out.join("\n") + "\n";
    }
    if (r.dangers.length) {
        out.push("### :warning: Dangerous changes", "", ...r.dangers.map((d) => `- \`${d.resource}\`: ${d.reason}`), "");
    }
    const drifted = r.changes.filter((c) => c.drift);
    if (drifted.length) {
        out.push("### Drift: changed outside Dockyard", "", ...drifted.map((c) => `- \`${c.resource}\` (${shortType(c.type)}): ${c.drift}`), "");
    }
    if (summary) out.push(`**${summary}**`, "");
    if (r.changes.length) out.push("| Component | Resource | Change | What changes |", "| --- | --- | --- | --- |");
    for (const c of r.changes) {
        const what = c.properties.length
            ? c.properties.map((p) => (p.old !== undefined && p.new !== undefined ? `\`${p.path}\`: ${p.old} → ${p.new}` : p.new !== undefined ? `\`${p.path}\`: + ${p.new}` : p.old !== undefined ? `\`${p.path}\`: − ${p.old}` : `\`${p.path}\``)).join("<br>")
            : "";
        out.push(`| ${cell(c.component)} | ${cell(c.resource)} (${shortType(c.type)}) | ${VERB[c.change]}${c.drift ? " (drift)" : ""} | ${cell(what)} |`);
    }
    out.push("", `Exit code ${r.exitCode}: ${["no changes", "error", "changes", r.dangers.length ? "dangerous changes" : "a mandatory policy is violated"][r.exitCode]}.`);
    return out.join("\n") + "\n";
}
