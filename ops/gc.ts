// Registry hygiene, the rule only: which of Dockyard's images go, in the registry and on each node.
// No I/O here (ops/gc-run.ts talks to the registry and the engines), so every case is a table test.
//
// Per repository that the stack builds (its `images`, and only those), what is kept:
//   - the newest `keep` manifests (by the image's creation time; a manifest whose time is unknown
//     counts as newest, so it is kept),
//   - every manifest a successful recorded release references (so `rollback` to any release it
//     can go to works; a failed release is never a rollback target),
//   - every manifest a Swarm service runs (a failed release may have updated some services),
//   - on a node, every image a container there uses.
// Everything else of those repositories goes. Other repositories are never touched.
import type { Release } from "./releases";

/** How many builds of an image are kept when its `keep` is not set (the Image component's default). */
export const DEFAULT_KEEP = 5;

/** One manifest in a repository of the registry. */
export interface StoredManifest {
    readonly digest: string;
    readonly tags: readonly string[];
    /** The image's creation time (ISO 8601), from its config. */
    readonly created?: string;
    /** Bytes of its config and layers, as the manifest lists them (shared layers counted in each). */
    readonly size?: number;
    /** For an index (multi-platform image): its platform manifests, which go with it. */
    readonly children?: readonly string[];
}

export type KeepReason = "newest" | "release" | "in use";

export interface Kept {
    readonly digest: string;
    readonly reasons: readonly KeepReason[];
    /** The releases that reference it, when one does. */
    readonly releases: readonly number[];
}

export interface RepositoryPlan {
    readonly repository: string;
    readonly keep: number;
    readonly kept: readonly Kept[];
    readonly remove: readonly StoredManifest[];
}

/** A reference split into its parts: `[registry/]repository[:tag][@digest]`. */
export function parseReference(ref: string): { registry?: string; repository: string; tag?: string; digest?: string } {
    const [name, digest] = ref.split("@", 2);
    const slash = name.lastIndexOf("/");
    const colon = name.lastIndexOf(":");
    const tag = colon > slash ? name.slice(colon + 1) : undefined;
    const path = colon > slash ? name.slice(0, colon) : name;
    const first = path.split("/")[0];
    // Docker's rule: the first part is a registry when it has a dot or a port, or is localhost.
    const hasRegistry = path.includes("/") && (/[.:]/.test(first) || first === "localhost");
    return {
        ...(hasRegistry ? { registry: first } : {}),
        repository: hasRegistry ? path.slice(first.length + 1) : path,
        ...(tag !== undefined ? { tag } : {}),
        ...(digest !== undefined ? { digest } : {}),
    };
}

/**
 * Digest → the successful releases whose images or services reference it, for one repository (any
 * registry host). Failed releases are left out: `rollback` never goes to one.
 */
export function referencedDigests(releases: readonly Release[], repository: string): Map<string, number[]> {
    const found = new Map<string, number[]>();
    for (const r of releases) {
        if (r.result !== "succeeded") continue;
        const refs = [...Object.values(r.images ?? {}), ...Object.values(r.manifest ?? {}).map((s) => s.image)];
        for (const ref of new Set(refs)) {
            const p = parseReference(ref);
            if (p.repository !== repository || !p.digest) continue;
            const list = found.get(p.digest) ?? [];
            if (!list.includes(r.number)) list.push(r.number);
            found.set(p.digest, list);
        }
    }
    return found;
}

/** Newest first; unknown times first (kept), then by digest so the order never depends on listing order. */
function newestFirst(a: StoredManifest, b: StoredManifest): number {
    const ta = a.created ? Date.parse(a.created) : Infinity;
    const tb = b.created ? Date.parse(b.created) : Infinity;
    return ta !== tb ? tb - ta : a.digest.localeCompare(b.digest);
}

/** What goes from one repository: all but the newest `keep`, those releases reference, and `inUse`. */
export function planRepository(
    repository: string,
    stored: readonly StoredManifest[],
    keep: number,
    referenced: ReadonlyMap<string, readonly number[]>,
    inUse: ReadonlySet<string> = new Set(),
): RepositoryPlan {
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep for ${repository}: expected a whole number of 1 or more, got ${keep}`);
    const ordered = [...stored].sort(newestFirst);
    const kept: Kept[] = [];
    const remove: StoredManifest[] = [];
    ordered.forEach((m, i) => {
        const reasons: KeepReason[] = [];
        if (i < keep) reasons.push("newest");
        if (referenced.has(m.digest)) reasons.push("release");
        if (inUse.has(m.digest)) reasons.push("in use");
        if (reasons.length) kept.push({ digest: m.digest, reasons, releases: [...(referenced.get(m.digest) ?? [])].sort((a, b) => a - b) });
        else remove.push(m);
    });
    // A platform manifest that a kept index lists stays, even when it was listed on its own too.
    const keptChildren = new Set(ordered.filter((m) => kept.some((k) => k.digest === m.digest)).flatMap((m) => m.children ?? []));
    return { repository, keep, kept, remove: remove.filter((m) => !keptChildren.has(m.digest)) };
}

/**
 * The plan for a registry: one entry per managed repository (repository → its `keep`), in the
 * order given. Repositories in `stored` that are not managed are not looked at. `running`: the
 * image references Swarm services run now.
 */
export function planRegistry(
    managed: ReadonlyMap<string, number>,
    stored: ReadonlyMap<string, readonly StoredManifest[]>,
    releases: readonly Release[],
    running: readonly string[] = [],
): RepositoryPlan[] {
    const parsed = running.map(parseReference);
    return [...managed].map(([repository, keep]) => {
        const inUse = new Set(parsed.filter((p) => p.repository === repository && p.digest).map((p) => p.digest!));
        return planRepository(repository, stored.get(repository) ?? [], keep, referencedDigests(releases, repository), inUse);
    });
}

/** An image on a node's engine, as `docker image ls --digests` lists it. */
export interface NodeImage {
    /** `registry/repository`, as the node pulled it. */
    readonly name: string;
    readonly digest?: string;
    readonly tag?: string;
    readonly id: string;
    readonly size: number;
}

/**
 * The images to remove from one node: those of the managed repositories (by `server/repository`)
 * whose digest the registry plan does not keep and whose image no container on the node uses
 * (`usedIds`: image ids of every container, running or not). An image without a digest (built
 * here, never pushed) stays. Returns the images to remove.
 */
export function planNode(
    server: string,
    plans: readonly RepositoryPlan[],
    images: readonly NodeImage[],
    usedIds: ReadonlySet<string>,
): NodeImage[] {
    const keptOf = new Map(plans.map((p) => [`${server}/${p.repository}`, new Set(p.kept.map((k) => k.digest))]));
    return images.filter((img) => {
        const kept = keptOf.get(img.name);
        // Not Dockyard's, in use, or never pushed (nothing says which build it is): stays.
        if (!kept || usedIds.has(img.id) || img.digest === undefined) return false;
        return !kept.has(img.digest);
    });
}

/** Bytes in the units `docker` prints (kB = 1000 B). */
export function formatBytes(bytes: number): string {
    const units = ["B", "kB", "MB", "GB", "TB"];
    let n = bytes;
    let u = 0;
    while (n >= 1000 && u < units.length - 1) {
        n /= 1000;
        u++;
    }
    return `${u === 0 ? n : n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}
