import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Problems, RUN_SCRIPT, brand, childName, expected, hasBrand, rejectIfAny } from "./internal";

/** The node label that lists the label keys Dockyard set on a node, so a later change removes only its own. */
export const NODE_LABELS_KEY = "dockyard.labels";

const LABEL_KEY_HINT = "a label key of letters, digits, '.', '_' or '-', such as \"zone\" or \"disk.type\"";
const LabelKey = z.string(expected(LABEL_KEY_HINT)).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, expected(LABEL_KEY_HINT))
    .refine((k) => k !== NODE_LABELS_KEY, expected(`a key other than "${NODE_LABELS_KEY}", which Dockyard keeps for itself`));
const LABEL_VALUE_HINT = "a label value on one line";
const LabelValue = z.string(expected(LABEL_VALUE_HINT)).regex(/^[^\n\r]*$/, expected(LABEL_VALUE_HINT));
const NODE_HINT = 'a Swarm node\'s hostname or id, such as "worker1"';

/** A node's settings, as the stack file's `nodes.<hostname>` takes them. */
export const NodeSettingsSchema = z.strictObject({
    /**
     * Labels for placement: a service's constraint `node.labels.zone==b` or preference
     * `spread=node.labels.zone`. Other labels of the node are left alone; a key given here is
     * Dockyard's from then on (set, and removed when dropped). One stack should label a node:
     * the record of the keys Dockyard set is one per node.
     */
    labels: z.record(LabelKey, LabelValue),
});
export type NodeSettings = z.input<typeof NodeSettingsSchema>;

export interface NodeLabelsArgs extends NodeSettings {
    /** The node's hostname (as `docker node ls` shows it) or id. */
    readonly node: string;
}

// Sets the wanted labels and removes those Dockyard set before and no longer wants; the keys it
// manages are kept in the node label NODE_LABELS_KEY. With LABELS empty (on delete) it removes all of its own.
export const LABEL_SCRIPT = `set -eu
if ! docker node inspect "$NODE" >/dev/null 2>&1; then
  # Removing the labels of a node that has left the Swarm: nothing left to remove.
  [ -n "$LABELS" ] || exit 0
  echo "dockyard: node $NODE is not in this Swarm; its nodes: $(docker node ls --format '{{.Hostname}}' | tr '\\n' ' ')" >&2
  exit 1
fi
# The keys the node has now: one removed by hand is not removed again (docker refuses that).
have=" $(docker node inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}} {{end}}' "$NODE") "
old="$(docker node inspect --format '{{index .Spec.Labels "${NODE_LABELS_KEY}"}}' "$NODE")"
[ "$old" != "<no value>" ] || old=""
keys=""
set --
while IFS= read -r kv; do
  [ -n "$kv" ] || continue
  set -- "$@" --label-add "$kv"
  keys="$keys \${kv%%=*}"
done <<EOF
$LABELS
EOF
for k in $old; do
  case " $keys " in *" $k "*) ;; *) case "$have" in *" $k "*) set -- "$@" --label-rm "$k" ;; esac ;; esac
done
if [ -n "$keys" ]; then set -- "$@" --label-add "${NODE_LABELS_KEY}=\${keys# }"
elif [ -n "$old" ]; then set -- "$@" --label-rm "${NODE_LABELS_KEY}"
fi
[ "$#" -eq 0 ] || docker node update "$@" "$NODE" >/dev/null
`;

/**
 * Labels on one Swarm node, for placement constraints and preferences. Changing them updates the
 * node in place (services whose constraints no longer match move, as Swarm decides); removing the
 * component removes exactly the labels it set.
 */
export class NodeLabels extends pulumi.ComponentResource {
    /** True for a NodeLabels of any copy of this library. */
    static isInstance(v: unknown): v is NodeLabels {
        return hasBrand(v, "NodeLabels");
    }

    /** Every problem with these arguments (empty when they are valid); the constructor throws them. */
    static check(name: string, args: NodeLabelsArgs): readonly string[] {
        const p = new Problems("NodeLabels", name);
        const { node, ...settings } = args;
        p.schema(z.strictObject({ node: z.string(expected(NODE_HINT)).regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, expected(NODE_HINT)) }), { node });
        p.schema(NodeSettingsSchema, settings);
        return p.list;
    }

    /** The node the labels are on. */
    public readonly node: string;
    /** Sets the labels (and removes them when the component is removed). */
    public readonly command: command.local.Command;

    constructor(name: string, args: NodeLabelsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dockyard:swarm:NodeLabels", name, {}, opts);
        brand(this, "NodeLabels");
        rejectIfAny(this, "NodeLabels", name, NodeLabels.check(name, args));
        this.node = args.node;
        const labels = Object.entries(args.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join("\n");
        this.command = new command.local.Command(
            childName(name, "labels"),
            {
                create: RUN_SCRIPT,
                // On delete the command runs with its last inputs: an empty LABELS removes Dockyard's own.
                delete: `LABELS= ${RUN_SCRIPT}`,
                environment: { DOCKYARD_SCRIPT: LABEL_SCRIPT, NODE: args.node, LABELS: labels },
                logging: "stderr",
            },
            { parent: this },
        );
        this.registerOutputs({ node: this.node });
    }
}
