import dockerignore from "@balena/dockerignore";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { PositiveInt, Problems, RUN_SCRIPT, Text, brand, childName, hasBrand, rejectIfAny, shortHash } from "./internal";
import type { Registry } from "./registry";

const REPOSITORY_HINT = 'a lower-case repository path without registry or tag, such as "shop/api"';
const BUILD_ARG = z.union([z.string(), z.number(), z.boolean()], { error: "expected a text value" })
    .refine((v) => !/\s/.test(String(v)), { error: "expected a value without spaces" });

/** An image's build settings, as the stack file and `ImageArgs` take them. */
export const ImageSettingsSchema = z.strictObject({
    /** Build context directory. */
    context: Text("a build context directory"),
    /**
     * Dockerfile path, relative to `context`.
     * @default "Dockerfile"
     */
    dockerfile: Text("a Dockerfile path").optional(),
    /** Repository name without registry or tag, e.g. `"shop/api"`. */
    repository: z.string({ error: `expected ${REPOSITORY_HINT}` }).regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, { error: `expected ${REPOSITORY_HINT}` }),
    /**
     * Immutable tag, such as a git sha or a release version. Never `latest`.
     * @default "c-" + a hash of the context, Dockerfile, build args, target and platform
     */
    tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, { error: "expected a Docker tag (letters, digits, '_', '.', '-')" })
        .refine((t) => t !== "latest", { error: 'expected an immutable tag such as a version or git sha, not "latest" (or leave tag unset for a content hash)' }).optional(),
    /**
     * Build arguments. Numbers and booleans are passed as text.
     * @default none
     */
    buildArgs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected a build argument name of letters, digits and '_'" }), BUILD_ARG).optional(),
    /** Stage to build. @default the Dockerfile's last stage */
    target: Text("a stage name").optional(),
    /**
     * A stage that runs the test suite (`RUN` steps that fail when tests fail). It is built before
     * the image, and a failure fails `pulumi up` before anything is pushed.
     * @default none
     */
    testTarget: Text("a stage name").optional(),
    /** e.g. `"linux/amd64"`. @default the engine's platform */
    platform: Text("a platform such as \"linux/amd64\"").optional(),
    /**
     * Number of this image's builds kept on the building engine for rollback; older ones that
     * Dockyard built (and only those) are removed after each build.
     * @default 5
     */
    keep: PositiveInt.optional(),
});
export type ImageSettings = z.input<typeof ImageSettingsSchema>;

export interface ImageArgs extends ImageSettings {
    /**
     * Registry to push to. Without one the image stays on the building engine (fine for one host).
     * @default none: not pushed
     */
    readonly registry?: Registry;
}

/** Everything in `context` that a build would see (after `.dockerignore`), hashed with the build options. */
export function contextHash(args: Pick<ImageArgs, "context" | "dockerfile" | "buildArgs" | "target" | "platform" | "testTarget">): string {
    const root = path.resolve(args.context);
    const ignoreFile = path.join(root, ".dockerignore");
    const ignoreText = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8") : "";
    const ig = dockerignore({ ignorecase: false }).add(ignoreText);
    // A `!pattern` can bring back files inside an ignored directory, so such directories are searched too.
    const reincludes = /^\s*!/m.test(ignoreText);
    const parts: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const full = path.join(dir, entry.name);
            const rel = path.relative(root, full).split(path.sep).join("/");
            const ignored = ig.ignores(rel);
            if (entry.isDirectory()) {
                if (!ignored || reincludes) walk(full);
            } else if (entry.isFile() && !ignored) {
                const mode = fs.statSync(full).mode & 0o111 ? "x" : "-";
                parts.push(`${rel}\0${mode}\0${shortHash([fs.readFileSync(full).toString("binary")], 64)}`);
            }
        }
    };
    walk(root);
    const dockerfile = path.resolve(root, args.dockerfile ?? "Dockerfile");
    parts.push(`dockerfile\0${fs.readFileSync(dockerfile, "utf8")}`);
    parts.push(JSON.stringify([Object.fromEntries(Object.entries(args.buildArgs ?? {}).map(([k, v]) => [k, String(v)])), args.target ?? "", args.platform ?? "", args.testTarget ?? ""]));
    return shortHash(parts, 12);
}

/** The build-test-push script; all inputs arrive as environment variables. Quiet unless a step fails. */
export const BUILD_SCRIPT = [
    "set -eu",
    // The legacy builder takes over only where BuildKit's buildx is not installed.
    'docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0',
    'log="$(mktemp)"; trap \'rm -f "$log"\' EXIT',
    // step WHAT COMMAND...: run quietly; on failure say what failed and show the end of its output.
    'step() { what="$1"; shift; if ! "$@" >"$log" 2>&1; then echo "dockyard: $what failed:" >&2; grep -v -e DEPRECATED -e "legacy builder" -e "BuildKit is currently disabled" -e "environment-variable" "$log" | tail -n 30 >&2; exit 1; fi; }',
    'set -- --label "dockyard.image=$IMAGE_OWNER" -f "$DOCKERFILE"',
    '[ -z "${PLATFORM:-}" ] || set -- "$@" --platform "$PLATFORM"',
    'for a in $BUILD_ARGS; do set -- "$@" --build-arg "$a"; done',
    'if [ -n "${TEST_TARGET:-}" ]; then',
    '  step "the tests in stage $TEST_TARGET of $IMAGE_REF (nothing was pushed)" docker build --force-rm "$@" --target "$TEST_TARGET" "$CONTEXT"',
    "fi",
    '[ -z "${TARGET:-}" ] || set -- "$@" --target "$TARGET"',
    'step "building $IMAGE_REF" docker build --force-rm "$@" -t "$IMAGE_REF" "$CONTEXT"',
    'if [ -z "${REGISTRY_SERVER:-}" ]; then echo "$IMAGE_REF"; exit 0; fi',
    'if [ -n "${REGISTRY_USERNAME:-}" ]; then',
    '  export DOCKER_CONFIG="$(mktemp -d)"; trap \'rm -rf "$log" "$DOCKER_CONFIG"\' EXIT',
    '  if ! out=$(printf "%s" "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY_SERVER" 2>&1); then',
    '    case "$out" in',
    '      *nauthorized*|*"incorrect username or password"*|*denied*|*401*) echo "dockyard: authentication to registry $REGISTRY_SERVER failed for user $REGISTRY_USERNAME: check the username and password" >&2 ;;',
    '      *) echo "dockyard: cannot log in to registry $REGISTRY_SERVER: $out" >&2 ;;',
    "    esac",
    "    exit 1",
    "  fi",
    "fi",
    // A registry that is briefly read-only or restarting (its garbage collection, `dockyard gc`)
    // refuses pushes: a push is tried again, PUSH_ATTEMPTS times in all, waiting a little longer
    // each time (3 s, 6 s... about a minute in all), then fails with the registry's last answer.
    'attempt=1; attempts="${PUSH_ATTEMPTS:-7}"',
    'until docker push "$IMAGE_REF" >"$log" 2>&1; do',
    '  if [ "$attempt" -ge "$attempts" ]; then echo "dockyard: pushing $IMAGE_REF to $REGISTRY_SERVER failed ($attempts attempts):" >&2; tail -n 30 "$log" >&2; exit 1; fi',
    '  wait=$((attempt * ${PUSH_RETRY_SECONDS:-3})); why="$(grep -v -E "^(The push refers|[0-9a-f]{12}: )" "$log" | tr -s "\\r\\n" "  " | sed "s/ *$//" | tail -c 300)"',
    '  case "$why" in *" 405 "*|*nsupported*) why="$why; the registry is read-only, probably for its garbage collection" ;; esac',
    // printf, not echo: dash's echo would turn a "\\n" in the registry's answer into a line break.
    '  printf "%s\\n" "dockyard: pushing $IMAGE_REF to $REGISTRY_SERVER failed (attempt $attempt of $attempts: $why); trying again in ${wait}s" >&2',
    '  sleep "$wait"; attempt=$((attempt + 1))',
    'done',
    'digest=$(docker image inspect --format \'{{range .RepoDigests}}{{println .}}{{end}}\' "$IMAGE_REF" | grep "^${IMAGE_REF%:*}@" | head -n 1)',
    '[ -n "$digest" ] || { echo "dockyard: $IMAGE_REF was pushed but the registry reported no digest" >&2; exit 1; }',
    'echo "$digest"',
].join("\n");

/**
 * Removes this image's builds beyond the newest `KEEP`, and dangling layers it left; nothing else.
 * Clean-up never fails a deploy: the engine runs one prune at a time (images built in parallel
 * collide), so a busy prune is tried again a few times, then left for the next build with a warning.
 */
export const PRUNE_SCRIPT = [
    "set -u",
    'docker image ls --filter "label=dockyard.image=$IMAGE_OWNER" --format "{{.Repository}}:{{.Tag}}" \\',
    '  | grep -v "<none>" | awk -v keep="$KEEP" "NR > keep" | while read -r ref; do',
    '    docker image rm "$ref" >/dev/null 2>&1 && echo "dockyard: removed old image $ref" >&2 || true',
    "  done",
    "for attempt in 1 2 3 4 5; do",
    '  if out=$(docker image prune -f --filter "label=dockyard.image=$IMAGE_OWNER" 2>&1); then exit 0; fi',
    "  sleep 1",
    "done",
    'echo "dockyard: warning: could not prune dangling layers of $IMAGE_OWNER (left for the next build): $out" >&2',
    "exit 0",
].join("\n");

/**
 * A Docker image built from a context, tagged immutably, optionally tested during the build and
 * pushed to a Registry. Services deploy `imageRef` (`repo@sha256:...` once pushed). An unchanged
 * context builds and pushes nothing.
 */
export class Image extends pulumi.ComponentResource {
    /** True for an Image of any copy of this library. */
    static isInstance(v: unknown): v is Image {
        return hasBrand(v, "Image");
    }

    /**
     * Every problem with these arguments (empty when they are valid), including a context or
     * Dockerfile that does not exist; the constructor throws them.
     */
    static check(name: string, args: ImageArgs): readonly string[] {
        const p = new Problems("Image", name);
        const { registry: _registry, ...settings } = args;
        if (typeof args.context === "string" && args.context.length > 0) {
            const context = path.resolve(args.context);
            const contextOk = fs.existsSync(context) && fs.statSync(context).isDirectory();
            p.check(contextOk, "context", args.context, "an existing directory");
            if (contextOk) {
                const dockerfile = path.resolve(context, args.dockerfile ?? "Dockerfile");
                p.check(fs.existsSync(dockerfile), "dockerfile", args.dockerfile ?? "Dockerfile", `a Dockerfile inside ${args.context}`);
            }
        }
        p.schema(ImageSettingsSchema, settings);
        if (args.testTarget !== undefined && args.testTarget === args.target) {
            p.conflict(`testTarget: ${JSON.stringify(args.testTarget)} is also the target; the test stage must be a separate stage`);
        }
        return p.list;
    }

    /** What to deploy: `registry/repo@sha256:...` when pushed, `repo:tag` when local only. */
    public readonly imageRef: pulumi.Output<string>;
    /** `registry/repo:tag` (or `repo:tag` when local only). */
    public readonly taggedRef: pulumi.Output<string>;
    /** The immutable tag. */
    public readonly tag: string;
    /** The registry it is pushed to, if any. */
    public readonly registry?: Registry;
    public readonly build: command.local.Command;
    public readonly prune: command.local.Command;

    constructor(name: string, args: ImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:image:Image", name, {}, opts);
        brand(this, "Image");
        rejectIfAny(this, "Image", name, Image.check(name, args));

        this.tag = args.tag ?? `c-${contextHash(args)}`;
        this.registry = args.registry;
        const repo = args.registry ? pulumi.interpolate`${args.registry.server}/${args.repository}` : pulumi.output(args.repository);
        this.taggedRef = pulumi.interpolate`${repo}:${this.tag}`;
        const owner = `${pulumi.getProject()}.${pulumi.getStack()}.${name}`;

        this.build = new command.local.Command(
            childName(name, "build"),
            {
                create: RUN_SCRIPT,
                environment: {
                    DOCKYARD_SCRIPT: BUILD_SCRIPT,
                    IMAGE_REF: this.taggedRef,
                    IMAGE_OWNER: owner,
                    CONTEXT: path.resolve(args.context),
                    DOCKERFILE: path.resolve(args.context, args.dockerfile ?? "Dockerfile"),
                    BUILD_ARGS: Object.entries(args.buildArgs ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(" "),
                    TARGET: args.target ?? "",
                    TEST_TARGET: args.testTarget ?? "",
                    PLATFORM: args.platform ?? "",
                    REGISTRY_SERVER: args.registry?.ready ?? "",
                    REGISTRY_USERNAME: args.registry ? args.registry.username.apply((u) => u ?? "") : "",
                    REGISTRY_PASSWORD: args.registry ? args.registry.password.apply((p) => p ?? "") : "",
                },
                // A new tag is a new build; the same tag is never built twice.
                triggers: [this.taggedRef],
                logging: "stderr",
            },
            { parent: this, additionalSecretOutputs: ["environment"], deleteBeforeReplace: false },
        );
        this.imageRef = this.build.stdout.apply((out) => out.trim().split("\n").pop() ?? "");

        this.prune = new command.local.Command(
            childName(name, "prune"),
            {
                create: RUN_SCRIPT,
                environment: { DOCKYARD_SCRIPT: PRUNE_SCRIPT, IMAGE_OWNER: owner, KEEP: String(args.keep ?? 5) },
                triggers: [this.imageRef],
                logging: "stderr",
            },
            { parent: this, dependsOn: [this.build] },
        );
        this.registerOutputs({ imageRef: this.imageRef, taggedRef: this.taggedRef });
    }
}
