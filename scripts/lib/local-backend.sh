# Sourced, not run: where Dockyard keeps Pulumi state and the secrets passphrase when the
# environment names neither. Prints nothing. Expects $root (the project directory).
#
# State belongs to the machine, as the Docker engine it describes does: every clone on this machine
# sees the same stacks, so a second checkout updates the `dev` stack the first one deployed instead
# of colliding with its networks, services and ports. Pulumi makes the same choice for
# `pulumi login --local` (~/.pulumi); Dockyard keeps its own in $DOCKYARD_STATE_DIR.
DOCKYARD_STATE_DIR="${DOCKYARD_STATE_DIR:-${XDG_STATE_HOME:-${HOME:?dockyard: HOME is not set; set DOCKYARD_STATE_DIR to where stack state should live}/.local/state}/dockyard}"
export DOCKYARD_STATE_DIR
if [ -n "$(find "$root/.pulumi-state/.pulumi/stacks" \( -name '*.json' -o -name '*.json.gz' \) -print -quit 2>/dev/null)" ]; then
  # A clone set up by an earlier Dockyard keeps its stacks inside the project; it goes on using them.
  _dockyard_local="$root/.pulumi-state"
  DOCKYARD_PASSPHRASE_FILE="$root/.pulumi-passphrase"
else
  _dockyard_local="$DOCKYARD_STATE_DIR/backend"
  DOCKYARD_PASSPHRASE_FILE="$DOCKYARD_STATE_DIR/passphrase"
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  # Only this user reads the state (its secrets are encrypted, its resource names are not).
  (umask 077; mkdir -p "$_dockyard_local")
  export PULUMI_BACKEND_URL="file://$_dockyard_local"
fi
unset _dockyard_local
if [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ] || [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  unset DOCKYARD_PASSPHRASE_FILE
elif [ -f "$DOCKYARD_PASSPHRASE_FILE" ]; then
  # setup.sh creates it; until then, commands that need no secrets still run.
  export PULUMI_CONFIG_PASSPHRASE_FILE="$DOCKYARD_PASSPHRASE_FILE"
fi
