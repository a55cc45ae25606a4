import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Problems, childName, isDockerName, known, labelList, shortHash } from "./internal";

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
 * Name of a Swarm object whose data cannot change: `<name>-<hash of the data>`. A new value gets a
 * new name, so the new object is created, services switch to it in a rolling update, and only then is
 * the old one deleted. The hash is salted with the name and reveals nothing usable about a
 * high-entropy value; it is not secret itself, so previews stay readable.
 */
export function contentAddressedName(name: string, data: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.unsecret(pulumi.output(data).apply((d) => `${name}-${shortHash(["dockyard", name, d])}`));
}

/** The name checks shared by Secret and Config. */
export function checkSwarmObjectName(problems: Problems, name: string): void {
    // The name gets a 13-character suffix and Swarm allows 64 characters.
    problems.check(isDockerName(name) && name.length <= 50, "name", name, "1-50 letters, digits, '_', '.' or '-'");
}

/**
 * A Swarm secret. Services mount it as a file under `/run/secrets`. Changing `data` is a rotation:
 * a new secret is created, services roll over to it, then the old one is removed.
 */
export class Secret extends pulumi.ComponentResource {
    /** The Docker name of the current version (`<name>-<hash>`). */
    public readonly secretName: pulumi.Output<string>;
    /** The Docker id of the current version. */
    public readonly secretId: pulumi.Output<string>;
    public readonly secret: docker.Secret;
    /** The component's name; the default file name when mounted. */
    public readonly logicalName: string;

    constructor(name: string, args: SecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:Secret", name, {}, opts);
        this.logicalName = name;
        const problems = new Problems("Secret", name);
        checkSwarmObjectName(problems, name);
        if (known(args.data)) problems.check(args.data.length > 0, "data", "[secret]", "a non-empty value");
        problems.throwIfAny(this);

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
