#!/usr/bin/env bash
# Set up everything Dockyard needs on this machine, then preview and deploy the dev stack.
#
#   npm run setup                  # everything, ending with the dev stack deployed
#   npm run setup -- --no-deploy   # everything but the deploy (what CI runs)
#
# Idempotent and quiet when all is in place. Environment knobs:
#   DOCKYARD_NO_SWARM=1     do not initialise a single-node Swarm
#   DOCKYARD_CACHE=<dir>    where built tools are cached (default ~/.cache/dockyard)
#   DOCKYARD_STATE_DIR=<dir> this machine's stack state and passphrase (default ~/.local/state/dockyard)
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE(_FILE), DOCKER_HOST: see README.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

deploy=1
for arg in "$@"; do
  case "$arg" in
    --no-deploy) deploy=0 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }

# 1. npm dependencies, reinstalled only when the lock file changed.
lock_hash="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat node_modules/.dockyard-lock 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed; check that the npm registry is reachable"
  echo "$lock_hash" > node_modules/.dockyard-lock
fi
# The component library is a package the program imports built (components/dist).
npm run --silent build >/dev/null || fail "building the component library failed; run \`npm run build\` to see why"

# 2. A Docker engine (and Swarm), plus the local base images every build starts from.
bash scripts/lib/docker-engine.sh
bash scripts/lib/base-image.sh

# 3. The Pulumi CLI, the Node.js language host and the command provider.
bash scripts/lib/pulumi-toolchain.sh

# 4. Local state and secrets (scripts/lib/local-backend.sh): a file backend this machine's clones
#    share and a passphrase only this machine knows.
source scripts/lib/local-backend.sh
if [ -n "${DOCKYARD_PASSPHRASE_FILE:-}" ] && [ ! -f "$DOCKYARD_PASSPHRASE_FILE" ]; then
  (umask 077; mkdir -p "$(dirname "$DOCKYARD_PASSPHRASE_FILE")"; head -c 32 /dev/urandom | base64 | tr -d '\n' > "$DOCKYARD_PASSPHRASE_FILE")
  say "created $DOCKYARD_PASSPHRASE_FILE: it unlocks this machine's stack secrets, keep it"
  export PULUMI_CONFIG_PASSPHRASE_FILE="$DOCKYARD_PASSPHRASE_FILE"
fi

[ "$deploy" = 1 ] || exit 0

# 5. The dev stack: preview, then deploy.
run() { bash scripts/dockyard-env.sh "$@"; }
plugins="$(run pulumi plugin ls 2>/dev/null || true)"
missing=()
# Each provider plugin must match the version its installed npm package asks the engine for.
for name in docker command; do
  version="$(node -p "require('@pulumi/$name/package.json').version")"
  echo "$plugins" | grep -Eq "^$name +resource +${version//./\\.}( |$)" || missing+=("$name $version")
done
if [ ${#missing[@]} -gt 0 ]; then
  {
    echo "dockyard: NOT DEPLOYING the dev stack: these Pulumi provider plugins are not installed and this"
    echo "dockyard: machine cannot download them: ${missing[*]}. Everything else is set up."
    echo "dockyard: Install each, then run \`npm run setup\` again:"
    for m in "${missing[@]}"; do
      echo "dockyard:   pulumi plugin install resource $m                   (machine with internet access)"
      echo "dockyard:   pulumi plugin install resource $m --file <binary>   (a binary you built or copied)"
    done
  } >&2
  exit 0
fi
run pulumi stack select dev --create --secrets-provider passphrase >/dev/null
if ! run pulumi config get appToken >/dev/null 2>&1; then
  head -c 24 /dev/urandom | base64 | tr -d '\n' | run pulumi config set --secret appToken >/dev/null
  say "generated the dev stack's secret appToken"
fi
run pulumi preview --stack dev --diff
up_log="$(mktemp)"
if ! run pulumi up --stack dev --yes --skip-preview 2>&1 | tee "$up_log"; then
  if grep -Eq "Error response from daemon: .*already exists" "$up_log"; then
    {
      echo "dockyard: the deploy stopped on a name the engine already uses (above): an object with a dev stack"
      echo "dockyard: name exists that the state at $PULUMI_BACKEND_URL does not track: deployed from a clone"
      echo "dockyard: that keeps its own state (its .pulumi-state/), or made by hand. Run \`npm run pulumi -- destroy"
      echo "dockyard: --stack dev\` in the clone that deployed it, or remove the object with docker, then run"
      echo "dockyard: \`npm run setup\` again."
    } >&2
  fi
  rm -f "$up_log"
  exit 1
fi
rm -f "$up_log"
say "dev is up. Endpoints:"
run pulumi stack output serviceEndpoints --stack dev --json
say "try: curl http://localhost:8080/   (health: /healthz)"
