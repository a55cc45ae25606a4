#!/usr/bin/env bash
# Run a command in Dockyard's local environment: the Pulumi toolchain on PATH, this machine's local
# file backend and the passphrase secrets provider (scripts/lib/local-backend.sh). Settings already
# in the environment win, so PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN, PULUMI_CONFIG_PASSPHRASE(_FILE)
# and DOCKER_HOST point the same commands at other backends and engines.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/toolchain-path.sh
[ -f "$root/scripts/lib/toolchain-path.sh" ] && source "$root/scripts/lib/toolchain-path.sh"
# shellcheck source=lib/local-backend.sh
source "$root/scripts/lib/local-backend.sh"
export PULUMI_SKIP_UPDATE_CHECK=true
# Plugins come from `npm run setup`; never try to download one mid-deploy.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# `npm test` type-checks the program (tsc --noEmit); Pulumi runs only transpile it, which starts
# previews and updates much faster (see bench/RESULTS.md). Set it to false to type-check every run.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
# The program uses the component library as a package (components/dist), as any other project
# would: rebuild it when its sources are newer than the build.
if [ -f "$root/components/package.json" ] && [ -d "$root/node_modules/typescript" ]; then
  if [ ! -f "$root/components/dist/index.js" ] || [ -n "$(find "$root/components" -maxdepth 1 -name '*.ts' -newer "$root/components/dist/index.js" -print -quit)" ]; then
    "$root/node_modules/.bin/tsc" -p "$root/components/tsconfig.json" >&2 || { echo "dockyard: building the component library (components/) failed" >&2; exit 1; }
  fi
fi
exec "$@"
