import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

const STACKS = path.resolve(__dirname, "../../stacks");

/** The environment object of a committed stack file (a fresh copy each call). */
export function stackEnvironment(stack: string): any {
    const doc = yaml.load(fs.readFileSync(path.join(STACKS, `Pulumi.${stack}.yaml`), "utf8")) as any;
    return doc.config["dockyard:environment"];
}
