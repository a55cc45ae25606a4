import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { brand, childName, hasBrand, labelList, rejectIfAny } from "./internal";
import { checkSwarmObject, contentAddressedName } from "./secret";

export interface ConfigArgs {
    /** The file content. Shown in previews: put anything sensitive in a `Secret` instead. */
    readonly data: pulumi.Input<string>;
    /**
     * Extra labels; Dockyard's ownership labels are always added.
     * @default none
     */
    readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A Swarm config: a non-secret file (nginx.conf, app.yaml) mounted into services. Changing `data`
 * creates a new version, rolls services over to it and then removes the old one.
 */
export class Config extends pulumi.ComponentResource {
    /** True for a Config of any copy of this library. */
    static isInstance(v: unknown): v is Config {
        return hasBrand(v, "Config");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: ConfigArgs): readonly string[] {
        return checkSwarmObject("Config", name, args, args.data);
    }

    /** The Docker name of the current version (`<name>-<hash>`). */
    public readonly configName: pulumi.Output<string>;
    /** The Docker id of the current version. */
    public readonly configId: pulumi.Output<string>;
    public readonly config: docker.ServiceConfig;

    constructor(name: string, args: ConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:Config", name, {}, opts);
        brand(this, "Config");
        rejectIfAny(this, "Config", name, Config.check(name, args));

        this.config = new docker.ServiceConfig(
            childName(name, "config"),
            {
                name: contentAddressedName(name, args.data),
                dataRaw: args.data,
                labels: labelList(name, args.labels),
            },
            { parent: this, deleteBeforeReplace: false },
        );
        this.configName = this.config.name;
        this.configId = this.config.id;
        this.registerOutputs({ configName: this.configName, configId: this.configId });
    }
}
