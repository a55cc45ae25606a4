import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as bcrypt from "bcryptjs";
import * as crypto from "crypto";
import { z } from "zod";
import { Port, Problems, RUN_SCRIPT, Text, brand, childName, enumValues, hasBrand, knownPart, oneOf, rejectIfAny } from "./internal";
import { Secret } from "./secret";
import { Constraint, EndpointMode, PublishMode, SecretMount, Service, UpdateOrder } from "./service";
import { Volume, VolumeDeletion } from "./volume";

export enum RegistryKind {
    /** A registry someone else runs (Docker Hub, GHCR, ECR, Harbor...). */
    External = "external",
    /** A registry Dockyard runs as a Swarm service on the cluster, with a persistent volume. */
    SelfHosted = "self-hosted",
}

const HOST_HINT = 'a registry host such as "ghcr.io" or "registry.example.com:5000" (no scheme, no path)';
const Host = z.string({ error: `expected ${HOST_HINT}` }).regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i, { error: `expected ${HOST_HINT}` });
const UserName = z.string().regex(/^[^:\s]+$/, { error: "expected a user name without ':' or spaces" });

/** Settings of a registry someone else runs, as the stack file and `ExternalRegistryArgs` take them. */
export const ExternalRegistrySettingsSchema = z.strictObject({
    /** Registry host (and port), e.g. `"ghcr.io"` or `"registry.example.com:5000"`. */
    server: Host,
    /** @default anonymous access */
    username: UserName.optional(),
    /**
     * Log in once during `pulumi up` so wrong credentials fail early with a clear message.
     * @default true when credentials are given
     */
    verifyCredentials: z.boolean().optional(),
});

/** Settings of a registry Dockyard runs, as the stack file and `SelfHostedRegistryArgs` take them. */
export const SelfHostedRegistrySettingsSchema = z.strictObject({
    /**
     * Registry image to run (Docker's `registry:2` or compatible).
     * @default "dockyard/registry:2.8.2", built locally by `npm run setup`
     */
    image: Text("an image reference").optional(),
    /** @default Registry.defaultPort (5000) */
    port: Port.optional(),
    /**
     * How the port is published.
     * @default PublishMode.Ingress - reachable on every node of the Swarm
     */
    publishMode: oneOf(PublishMode).optional(),
    /** @default EndpointMode.Vip */
    endpointMode: oneOf(EndpointMode).optional(),
    /**
     * Address nodes and the deploying machine use to reach it. Docker trusts plain HTTP only for
     * 127.0.0.0/8; any other address needs `tls` (or the nodes' `insecure-registries`).
     * @default "127.0.0.1:<port>"
     */
    address: Host.optional(),
    /** Basic-auth user. Needs `password`. @default no authentication */
    username: UserName.optional(),
    /**
     * Placement constraints. They replace the pin to the node holding its (node-local) data volume,
     * so place it where that data is. @default pinned to the node holding its data volume
     */
    constraints: z.array(Constraint).optional(),
});

export interface ExternalRegistryArgs extends Omit<z.input<typeof ExternalRegistrySettingsSchema>, "username"> {
    readonly kind: RegistryKind.External;
    /** @default anonymous access */
    readonly username?: pulumi.Input<string>;
    /** Stored as a Pulumi secret whether or not it was given as one. @default anonymous access */
    readonly password?: pulumi.Input<string>;
}

export interface SelfHostedRegistryArgs extends Omit<z.input<typeof SelfHostedRegistrySettingsSchema>, "username" | "image"> {
    readonly kind: RegistryKind.SelfHosted;
    /** @default "dockyard/registry:2.8.2", built locally by `npm run setup` */
    readonly image?: pulumi.Input<string>;
    /** Basic-auth user. Needs `password`. @default no authentication */
    readonly username?: pulumi.Input<string>;
    /** Basic-auth password, kept secret. @default no authentication */
    readonly password?: pulumi.Input<string>;
    /** PEM certificate and key to serve HTTPS. @default plain HTTP */
    readonly tls?: { readonly certificate: pulumi.Input<string>; readonly key: pulumi.Input<string> };
    /**
     * Where the images live.
     * @default a new Volume named `<name>-data`, retained when the stack is destroyed
     */
    readonly volume?: Volume;
}

export type RegistryArgs = ExternalRegistryArgs | SelfHostedRegistryArgs;

/** Credentials in the shape Swarm services take for pulling (`docker.Service` `auth`). */
export interface RegistryAuth {
    serverAddress: string;
    username?: string;
    password?: string;
}

/** Deterministic htpasswd line (bcrypt) so an unchanged password does not rotate the secret. */
export function htpasswdLine(username: string, password: string): string {
    const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const digest = crypto.createHash("sha256").update(`dockyard-htpasswd\0${username}\0${password}`).digest();
    const salt = Array.from(digest.subarray(0, 22), (b) => alphabet[b % 64]).join("");
    return `${username}:${bcrypt.hashSync(password, `$2b$10$${salt}`)}\n`;
}

/** Shell that logs in with a throw-away Docker config and turns failures into a clear message. */
export const LOGIN_SCRIPT = [
    'set -eu',
    'export DOCKER_CONFIG="$(mktemp -d)"; trap \'rm -rf "$DOCKER_CONFIG"\' EXIT',
    'if ! out=$(printf "%s" "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USERNAME" --password-stdin "$REGISTRY_SERVER" 2>&1); then',
    '  case "$out" in',
    '    *nauthorized*|*"incorrect username or password"*|*denied*|*401*) echo "dockyard: authentication to registry $REGISTRY_SERVER failed for user $REGISTRY_USERNAME: check the username and password" >&2 ;;',
    '    *) echo "dockyard: cannot log in to registry $REGISTRY_SERVER: $out" >&2 ;;',
    '  esac',
    '  exit 1',
    'fi',
].join("\n");

/** The plain settings of a self-hosted registry's Service. */
function registryService(args: SelfHostedRegistryArgs) {
    const port = args.port ?? Registry.defaultPort;
    const wget = `wget -q -O /dev/null ${args.tls ? "--no-check-certificate https" : "http"}://127.0.0.1:${port}/ || exit 1`;
    return {
        image: args.image ?? "dockyard/registry:2.8.2",
        ports: [{ target: port, published: port, mode: args.publishMode ?? PublishMode.Ingress }],
        endpointMode: args.endpointMode,
        constraints: args.constraints,
        healthCheck: { command: wget, interval: "5s", timeout: "3s", retries: 3, startPeriod: "5s" },
        // One registry writes to the volume at a time.
        update: { order: UpdateOrder.StopFirst },
        rollback: { order: UpdateOrder.StopFirst },
    };
}

/**
 * Where images are pushed and pulled from: an external registry with credentials, or a registry
 * Dockyard runs on the cluster. Pass it to `Image` (push) and `Service` (pull credentials).
 */
export class Registry extends pulumi.ComponentResource {
    /** The port a self-hosted registry listens on and publishes unless told otherwise. */
    static readonly defaultPort = 5000;

    /** True for a Registry of any copy of this library. */
    static isInstance(v: unknown): v is Registry {
        return hasBrand(v, "Registry");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: RegistryArgs): readonly string[] {
        const p = new Problems("Registry", name);
        const kind = (args as { kind?: unknown }).kind;
        if (!Object.values(RegistryKind).includes(kind as RegistryKind)) {
            p.add("kind", kind, `one of ${enumValues(RegistryKind)}`);
            return p.list;
        }
        if ((args.username === undefined) !== (args.password === undefined)) p.conflict("username/password: give both or neither");
        if (args.kind === RegistryKind.External) {
            const { kind: _k, password: _p, ...settings } = args;
            p.schema(ExternalRegistrySettingsSchema, knownPart(settings));
            if (args.verifyCredentials && args.username === undefined) {
                p.conflict("verifyCredentials: true needs username and password; anonymous access has nothing to verify");
            }
        } else {
            const { kind: _k, password: _p, tls: _t, volume: _v, ...settings } = args;
            p.schema(SelfHostedRegistrySettingsSchema, knownPart(settings));
            // The registry runs as a Service: its settings must make a valid one.
            if (p.list.length === 0) Service.check(name, registryService(args)).forEach((problem) => p.conflict(`service: ${problem}`));
        }
        return p.list;
    }

    public readonly kind: RegistryKind;
    /** `host[:port]` to prefix image repositories with. */
    public readonly server: pulumi.Output<string>;
    /** Login user, if any. */
    public readonly username: pulumi.Output<string | undefined>;
    /** Login password, if any; always secret. */
    public readonly password: pulumi.Output<string | undefined>;
    /** Credentials for Swarm to pull with, or undefined for anonymous pulls. Secret. */
    public readonly serviceAuth: pulumi.Output<RegistryAuth | undefined>;
    /** The registry service, when self-hosted. */
    public readonly service?: Service;
    /** Resolves once the registry is ready to take pushes (self-hosted running, credentials verified). */
    public readonly ready: pulumi.Output<string>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:registry:Registry", name, {}, opts);
        brand(this, "Registry");
        rejectIfAny(this, "Registry", name, Registry.check(name, args));
        this.kind = args.kind;
        this.username = pulumi.output(args.username);
        this.password = args.password === undefined ? pulumi.output(undefined) : pulumi.secret(args.password);

        if (args.kind === RegistryKind.External) {
            this.server = pulumi.output(args.server);
            const verify = args.verifyCredentials ?? args.username !== undefined;
            this.ready = verify
                ? new command.local.Command(
                      childName(name, "login"),
                      {
                          create: RUN_SCRIPT,
                          environment: {
                              DOCKYARD_SCRIPT: LOGIN_SCRIPT,
                              REGISTRY_SERVER: args.server,
                              REGISTRY_USERNAME: this.username.apply((u) => u ?? ""),
                              REGISTRY_PASSWORD: this.password.apply((p) => p ?? ""),
                          },
                          triggers: [args.server, this.username],
                          logging: "stderr",
                      },
                      { parent: this, additionalSecretOutputs: ["environment"] },
                  ).stdout.apply(() => args.server)
                : pulumi.output(args.server);
        } else {
            const port = args.port ?? Registry.defaultPort;
            this.server = pulumi.output(args.address ?? `127.0.0.1:${port}`);
            const volume = args.volume ?? new Volume(childName(name, "data"), { deletion: VolumeDeletion.Retain }, { parent: this });
            const secrets: SecretMount[] = [];
            const env: Record<string, pulumi.Input<string>> = {
                REGISTRY_HTTP_ADDR: `0.0.0.0:${port}`,
                REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: "/var/lib/registry",
                REGISTRY_STORAGE_DELETE_ENABLED: "true",
            };
            if (args.username !== undefined) {
                const htpasswd = pulumi
                    .all([args.username, this.password])
                    .apply(([u, p]) => htpasswdLine(u, p ?? ""));
                secrets.push({ secret: new Secret(childName(name, "htpasswd"), { data: htpasswd }, { parent: this }), target: "htpasswd" });
                Object.assign(env, {
                    REGISTRY_AUTH: "htpasswd",
                    REGISTRY_AUTH_HTPASSWD_REALM: `${name} registry`,
                    REGISTRY_AUTH_HTPASSWD_PATH: "/run/secrets/htpasswd",
                });
            }
            if (args.tls) {
                secrets.push({ secret: new Secret(childName(name, "tls-cert"), { data: args.tls.certificate }, { parent: this }), target: "tls.crt" });
                secrets.push({ secret: new Secret(childName(name, "tls-key"), { data: args.tls.key }, { parent: this }), target: "tls.key" });
                Object.assign(env, {
                    REGISTRY_HTTP_TLS_CERTIFICATE: "/run/secrets/tls.crt",
                    REGISTRY_HTTP_TLS_KEY: "/run/secrets/tls.key",
                });
            }
            this.service = new Service(
                name,
                { ...registryService(args), env, secrets, mounts: [{ volume, target: "/var/lib/registry" }] },
                { parent: this },
            );
            this.ready = pulumi.all([this.service.serviceId, this.server]).apply(([, s]) => s);
        }
        this.serviceAuth = pulumi.secret(
            pulumi.all([this.server, this.username, this.password]).apply(([serverAddress, username, password]) =>
                username === undefined ? undefined : { serverAddress, username, password: password ?? "" },
            ),
        );
        this.registerOutputs({
            server: this.server,
            username: this.username,
            password: this.password,
            serviceAuth: this.serviceAuth,
            ready: this.ready,
        });
    }
}
