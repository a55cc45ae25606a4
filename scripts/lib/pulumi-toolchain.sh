#!/usr/bin/env bash
# Make the Pulumi CLI, its Node.js language host and the command provider plugin available offline.
#
#   bash scripts/lib/pulumi-toolchain.sh
#
# Uses `pulumi` from PATH when there is one. Otherwise builds the pinned CLI and language host with Go
# from the Go module proxy (wrapper modules in scripts/toolchain/) into a cache outside the repo, keyed
# by version, so later runs are instant; scripts/lib/toolchain-path.sh puts them on PATH. Then makes
# sure the analyzer plugin for policy packs and the command provider are installed as Pulumi plugins.
# Prints nothing when all is in place.
#
# Environment:
#   DOCKYARD_CACHE=<dir>        cache for built tools (default ${XDG_CACHE_HOME:-~/.cache}/dockyard)
#   PULUMI_HOME                 where plugins are installed (Pulumi's default: ~/.pulumi)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/toolchain-path.sh
source "$root/scripts/lib/toolchain-path.sh"

# Pins. The CLI directory name is repeated in toolchain-path.sh.
PULUMI_VERSION=v3.248.0     # github.com/pulumi/pulumi/pkg/v3, see scripts/toolchain/pulumi/go.mod
HOST_VERSION=v3.68.0        # Node.js language host, see scripts/toolchain/nodejs-host/go.mod
COMMAND_VERSION=1.2.1       # github.com/pulumi/pulumi-command/provider, see scripts/toolchain/command/go.mod
COMMAND_MODULE=github.com/pulumi/pulumi-command/provider
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

cli_dir="$DOCKYARD_CACHE/pulumi-$PULUMI_VERSION/bin"
cmd_dir="$DOCKYARD_CACHE/pulumi-command-v$COMMAND_VERSION/bin"
log_dir="$DOCKYARD_CACHE/logs"

export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 && return 0
  fail "cannot set up Pulumi: no \`pulumi\` on PATH and no Go to build it with.
dockyard: fix one of:
dockyard:   - install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put it on PATH, or
dockyard:   - install Go 1.25 or later (https://go.dev/dl/) so setup can build Pulumi ${PULUMI_VERSION}."
}

# Go settings for every build: resolve modules from go.mod (never vendor/), no VCS stamping, no cgo
# (static binaries, no C compiler needed), no go.work from around the build directory. GOPROXY,
# GOSUMDB, GOTOOLCHAIN and the build cache stay as the machine has them.
go_env() { env GOFLAGS="-mod=mod -buildvcs=false" GOWORK=off CGO_ENABLED=0 "$@"; }

# The first line of a Go log that says what went wrong.
reason() {
  local line
  line="$(grep -v -E '^go: (downloading|finding|extracting|added|upgraded)' "$1" |
    grep -m1 -E '403 Forbidden|404 Not Found|410 Gone|not available|unknown revision|^go: |: error|cannot |undefined: |no space left|signal: killed' || true)"
  [ -n "$line" ] || line="$(tail -n 1 "$1")"
  echo "${line:0:240}"
}

tmp=""
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# build <wrapper module dir> <main package> <output file> <log> <ldflags>: builds a temporary copy of
# the wrapper module, so that -mod=mod never edits the files in the repo.
build() {
  local wrapper="$1" pkg="$2" out="$3" log="$4" ldflags="$5" mod
  mod="$tmp/mod.$(basename "$out")"
  mkdir -p "$mod"
  cp "$wrapper"/go.mod "$wrapper"/*.go "$mod"/
  if [ -f "$wrapper/go.sum" ]; then cp "$wrapper/go.sum" "$mod/"; fi
  (cd "$mod" && go_env go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$pkg") >"$log" 2>&1
}

cli_ok() {
  [ -x "$cli_dir/pulumi" ] && [ -x "$cli_dir/pulumi-language-nodejs" ] &&
    [ "$("$cli_dir/pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]
}

# A `pulumi` on PATH other than the one this script builds.
other_pulumi=""
IFS=: read -r -a path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  if [ "$d" != "$cli_dir" ] && [ -n "$d" ] && [ -x "$d/pulumi" ] && [ ! -d "$d/pulumi" ]; then
    other_pulumi="$d/pulumi"
    break
  fi
done

# 1. The CLI and the Node.js language host.
checked=""
# The Node.js language host, built into $tmp (see build above).
build_host() {
  local log="$log_dir/build-pulumi-language-nodejs.log"
  build "$root/scripts/toolchain/nodejs-host" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "$tmp/pulumi-language-nodejs" "$log" "-X $VERSION_VAR=$HOST_VERSION" ||
    fail "building the Node.js language host failed: $(reason "$log"); log: $log"
}

if cli_ok; then
  checked=1
elif [ -n "$other_pulumi" ] && [ ! -e "$cli_dir/pulumi" ]; then
  # An installed CLI. Official installs ship the language hosts next to it; build one only if missing.
  if [ ! -x "$(dirname "$other_pulumi")/pulumi-language-nodejs" ] && ! command -v pulumi-language-nodejs >/dev/null 2>&1; then
    need_go
    mkdir -p "$log_dir"
    tmp="$(mktemp -d "$DOCKYARD_CACHE/.build.XXXXXX")"
    say "building the Pulumi Node.js language host $HOST_VERSION with Go (first run only, ~2 min)"
    build_host
    mkdir -p "$cli_dir"
    mv -f "$tmp/pulumi-language-nodejs" "$cli_dir/"
    source "$root/scripts/lib/toolchain-path.sh"
  fi
else
  need_go
  gover="$(cd / && go env GOVERSION 2>/dev/null)" || gover=""
  if [[ "$gover" =~ ^go1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 21 ]; then
    fail "Go $gover is too old to build Pulumi $PULUMI_VERSION; install Go 1.25 or later (https://go.dev/dl/)"
  fi
  mkdir -p "$log_dir"
  tmp="$(mktemp -d "$DOCKYARD_CACHE/.build.XXXXXX")"
  say "building the Pulumi CLI $PULUMI_VERSION and Node.js language host with Go (first run only, ~10-15 min on 2 cores)"
  build_host
  build "$root/scripts/toolchain/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "$tmp/pulumi" "$log_dir/build-pulumi.log" "-X $VERSION_VAR=$PULUMI_VERSION" ||
    fail "building the Pulumi CLI failed: $(reason "$log_dir/build-pulumi.log"); log: $log_dir/build-pulumi.log"
  got="$("$tmp/pulumi" version 2>&1 || true)"
  [ "$got" = "$PULUMI_VERSION" ] || fail "the built Pulumi CLI reports version '${got:0:80}', not $PULUMI_VERSION"
  mkdir -p "$cli_dir"
  # Each rename is atomic; the CLI goes last, so an interrupted run never leaves a cache that passes cli_ok.
  mv -f "$tmp/pulumi-language-nodejs" "$cli_dir/"
  mv -f "$tmp/pulumi" "$cli_dir/"
  source "$root/scripts/lib/toolchain-path.sh"
fi

# Scripts from the @pulumi/pulumi npm package that belong next to the CLI this script built
# (pulumi-resource-pulumi-nodejs runs `pulumi.dynamic` providers). Skipped until `npm ci` has run.
if [ -x "$cli_dir/pulumi" ]; then
  for f in pulumi-resource-pulumi-nodejs pulumi-analyzer-policy; do
    src="$root/node_modules/@pulumi/pulumi/$f"
    if [ -f "$src" ] && [ ! -x "$cli_dir/$f" ]; then
      cp "$src" "$cli_dir/.$f.tmp" && chmod 0755 "$cli_dir/.$f.tmp" && mv -f "$cli_dir/.$f.tmp" "$cli_dir/$f"
    fi
  done
fi

command -v pulumi >/dev/null 2>&1 || fail "no \`pulumi\` on PATH after set-up; remove $DOCKYARD_CACHE and run again"
[ -n "$checked" ] || pulumi version >/dev/null 2>&1 || fail "\`$(command -v pulumi) version\` does not run; remove $DOCKYARD_CACHE and run again"

# 2. The analyzer plugin that runs Node.js policy packs (policy/PulumiPolicy.yaml: runtime
# dockyard-nodejs), installed as a plugin like any other, so the CLI finds it without a warning.
# Reinstalled when the script in the repository changes.
install_analyzer() {
  local name=policy-dockyard-nodejs version=1.0.0 src dest log
  src="$root/scripts/lib/pulumi-analyzer-$name"
  dest="${PULUMI_HOME:-$HOME/.pulumi}/plugins/analyzer-$name-v$version/pulumi-analyzer-$name"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then return 0; fi
  log="$log_dir/plugin-install-analyzer.log"
  mkdir -p "$log_dir"
  pulumi plugin install analyzer "$name" "$version" --file "$src" --reinstall >"$log" 2>&1 ||
    fail "\`pulumi plugin install analyzer $name $version --file $src\` failed: $(reason "$log"); log: $log"
}
install_analyzer

# 3. The command provider, installed as a plugin (into $PULUMI_HOME, ~/.pulumi by default).
command_installed() {
  pulumi plugin ls 2>/dev/null | grep -Eq "^command +resource +${COMMAND_VERSION//./\\.}( |$)"
}
command_installed && exit 0

# Not fatal: everything else works without the provider, and the set-up and tests name what they skip.
command_missing() {
  cat >&2 <<EOF
dockyard: WARNING: could not build the Pulumi command provider $COMMAND_VERSION: $1
dockyard:   to install it, do one of:
dockyard:   - pulumi plugin install resource command $COMMAND_VERSION                  (a machine with internet access)
dockyard:   - pulumi plugin install resource command $COMMAND_VERSION --file <binary>  (a binary built elsewhere)
EOF
  exit 0
}

if [ ! -x "$cmd_dir/pulumi-resource-command" ]; then
  command -v go >/dev/null 2>&1 || command_missing "no Go on PATH (install Go 1.25 or later: https://go.dev/dl/)"
  mkdir -p "$log_dir"
  [ -n "$tmp" ] || tmp="$(mktemp -d "$DOCKYARD_CACHE/.build.XXXXXX")"
  log="$log_dir/build-pulumi-resource-command.log"
  ldflags="-X $COMMAND_MODULE/pkg/version.Version=$COMMAND_VERSION"
  say "building the Pulumi command provider $COMMAND_VERSION with Go (first run only, ~2-5 min)"
  if ! build "$root/scripts/toolchain/command" "$COMMAND_MODULE/cmd/pulumi-resource-command" \
    "$tmp/pulumi-resource-command" "$log" "$ldflags"; then
    why="$(reason "$log")"
    if grep -qE '403 Forbidden|404 Not Found|410 Gone|not available|unknown revision' "$log"; then
      why="the Go module proxy does not serve $COMMAND_MODULE"
    fi
    command_missing "$why (log: $log)"
  fi
  mkdir -p "$cmd_dir"
  mv -f "$tmp/pulumi-resource-command" "$cmd_dir/"
fi

log="$log_dir/plugin-install-command.log"
mkdir -p "$log_dir"
pulumi plugin install resource command "$COMMAND_VERSION" --file "$cmd_dir/pulumi-resource-command" >"$log" 2>&1 ||
  fail "\`pulumi plugin install resource command $COMMAND_VERSION --file $cmd_dir/pulumi-resource-command\` failed: $(reason "$log"); log: $log"
command_installed || fail "the command provider $COMMAND_VERSION was installed but \`pulumi plugin ls\` does not list it; log: $log"
