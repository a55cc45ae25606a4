import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Labels, Problems, brand, childName, hasBrand, known, labelList, rejectIfAny, shortHash } from "./internal";

/** Swarm object names (secrets, configs): the name gets a 13-character suffix and Swarm allows 64. */
export const SwarmObjectName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,49}$/, { error: "expected 1-50 letters, digits, '_', '.' or '-', starting with a letter or digit" });

/**
 * Name of a Swarm object whose data cannot change: `<name>-<hash of the data>`. A new value gets a
 * new name, so the new object is created, services switch to it in a rolling update, and only then is
 * the old one deleted. The hash is salted with the name and reveals nothing usable about a
 * high-entropy value; it is not secret itself, so previews stay readable.
 */
export function contentAddressedName(name: string, data: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.unsecret(pulumi.output(data).apply((d) => `${name}-${shortHash(["dockyard", name, d])}`));
}

/** The checks Secret and Config share: the name, non-empty data and labels. */
export function checkSwarmObject(kind: string, name: string, args: { data: pulumi.Input<string>; labels?: Readonly<Record<string, string>> }, shownData: unknown): readonly string[] {
    const p = new Problems(kind, name);
    p.schema(z.strictObject({ name: SwarmObjectName, labels: Labels.optional() }), { name, labels: args.labels });
    if (known(args.data)) p.check(args.data.length > 0, "data", shownData, kind === "Secret" ? "a non-empty value" : "non-empty file content");
    return p.list;
}

export interface SecretArgs {
    /**
     * The secret's value. It is always treated as a Pulumi secret, whether or not it was given as one.
     */
    readonly data: pulumi.Input<string>;
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A Swarm secret. Services mount it as a file under `/run/secrets`. Changing `data` is a rotation:
 * a new secret is created, services roll over to it, then the old one is removed.
 */
export class Secret extends pulumi.ComponentResource {
    /** True for a Secret of any copy of this library. */
    static isInstance(v: unknown): v is Secret {
        return hasBrand(v, "Secret");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: SecretArgs): readonly string[] {
        return checkSwarmObject("Secret", name, args, "[secret]");
    }

    /** The Docker name of the current version (`<name>-<hash>`). */
    public readonly secretName: pulumi.Output<string>;
    /** The Docker id of the current version. */
    public readonly secretId: pulumi.Output<string>;
    public readonly secret: docker.Secret;
    /** The component's name; the default file name when mounted. */
    public readonly logicalName: string;

    constructor(name: string, args: SecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:Secret", name, {}, opts);
        brand(this, "Secret");
        rejectIfAny(this, "Secret", name, Secret.check(name, args));
        this.logicalName = name;

        const data = pulumi.secret(args.data);
        this.secret = new docker.Secret(
            childName(name, "secret"),
            {
                name: contentAddressedName(name, data),
                data: data.apply((d) => Buffer.from(d, "utf8").toString("base64")),
                labels: labelList(name, args.labels),
            },
            // Create the new version before deleting the old one: services switch over in between.
            { parent: this, deleteBeforeReplace: false },
        );
        this.secretName = this.secret.name;
        this.secretId = this.secret.id;
        this.registerOutputs({ secretName: this.secretName, secretId: this.secretId });
    }
}
