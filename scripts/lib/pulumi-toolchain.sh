#!/usr/bin/env bash
# Make the Pulumi CLI, the Node.js language host and the command provider available offline.
#
# Uses `pulumi` from PATH when there is one. Otherwise builds pinned versions with Go from the Go
# module proxy (wrapper modules in scripts/toolchain/) into a cache outside the repo, keyed by
# version, so later runs are instant. Prints nothing when everything is already in place.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=toolchain-path.sh
source "$root/scripts/lib/toolchain-path.sh"

PULUMI_VERSION=v3.248.0
HOST_VERSION=v3.68.0
COMMAND_VERSION=1.2.1
# The provider module has no tags of its own: this is the commit tagged v1.2.1 upstream.
COMMAND_MODULE=github.com/pulumi/pulumi-command/provider
COMMAND_PSEUDO=v0.0.0-20260303235922-7f3eb6f3b77c

export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The checksum database is not reachable here; the committed go.sum files verify the downloads.
export GOFLAGS=-mod=mod GOSUMDB=off GOTOOLCHAIN=local

say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 && return 0
  fail "cannot set up Pulumi: no \`pulumi\` on PATH and no Go to build it with.
dockyard: fix one of:
dockyard:   - install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put it on PATH, or
dockyard:   - install Go 1.25 or later (https://go.dev/dl/) so setup can build Pulumi ${PULUMI_VERSION}."
}

# build <wrapper dir> <main package> <output dir> <binary name> <ldflags>
build() {
  local wrapper="$1" pkg="$2" out="$3" bin="$4" ldflags="$5" tmp log
  mkdir -p "$out"
  tmp="$(mktemp -d "$out/.build.XXXXXX")"
  log="$DOCKYARD_CACHE/build-$bin.log"
  if ! (cd "$wrapper" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/$bin" "$pkg") >"$log" 2>&1; then
    rm -rf "$tmp"
    return 1
  fi
  mv -f "$tmp/$bin" "$out/$bin"
  rm -rf "$tmp"
}

mkdir -p "$DOCKYARD_CACHE"

# 1. The CLI and the language host.
if ! command -v pulumi >/dev/null 2>&1; then
  need_go
  cli_dir="$DOCKYARD_CACHE/pulumi-$PULUMI_VERSION/bin"
  say "building the Pulumi CLI $PULUMI_VERSION with Go (first run only; about 10-20 minutes on 2 cores)"
  build "$root/scripts/toolchain/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$cli_dir" pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" ||
    fail "building the Pulumi CLI failed; see $DOCKYARD_CACHE/build-pulumi.log"
  source "$root/scripts/lib/toolchain-path.sh"
fi
# The CLI looks for its language hosts next to itself first.
cli_bin="$(dirname "$(command -v pulumi)")"
if [ ! -x "$cli_bin/pulumi-language-nodejs" ]; then
  need_go
  [ -w "$cli_bin" ] || fail "no pulumi-language-nodejs next to $(command -v pulumi); reinstall the Pulumi CLI"
  say "building the Pulumi Node.js language host (sdk $HOST_VERSION) with Go (first run only)"
  build "$root/scripts/toolchain/nodejs-host" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "$cli_bin" pulumi-language-nodejs "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$HOST_VERSION" ||
    fail "building the Node.js language host failed; see $DOCKYARD_CACHE/build-pulumi-language-nodejs.log"
fi
pulumi version >/dev/null 2>&1 || fail "\`pulumi version\` does not run; remove $DOCKYARD_CACHE and run setup again"

# Dynamic providers run through this script from the SDK; it must sit next to the language host.
if [ -f "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" ] && [ ! -x "$cli_bin/pulumi-resource-pulumi-nodejs" ] && [ -w "$cli_bin" ]; then
  install -m 0755 "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$cli_bin/"
fi

# 2. The command provider, registered as a plugin.
if ! pulumi plugin ls 2>/dev/null | grep -Eq "^command +resource +$COMMAND_VERSION( |$)"; then
  cmd_dir="$DOCKYARD_CACHE/pulumi-command-v$COMMAND_VERSION/bin"
  if [ ! -x "$cmd_dir/pulumi-resource-command" ]; then
    need_go
    wrapper="$(mktemp -d)"
    cat > "$wrapper/go.mod" <<EOF
module dockyard.local/toolchain/command

go 1.25.0

require $COMMAND_MODULE $COMMAND_PSEUDO
EOF
    say "building the Pulumi command provider $COMMAND_VERSION with Go (first run only)"
    if ! (cd "$wrapper" && go mod download "$COMMAND_MODULE" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1) ||
       ! build "$wrapper" "$COMMAND_MODULE/cmd/pulumi-resource-command" "$cmd_dir" pulumi-resource-command \
            "-X $COMMAND_MODULE/pkg/version.Version=$COMMAND_VERSION"; then
      rm -rf "$wrapper"
      cat >&2 <<EOF
dockyard: WARNING: the Pulumi command provider $COMMAND_VERSION could not be built: the Go module proxy
dockyard: reachable here does not serve $COMMAND_MODULE@$COMMAND_PSEUDO.
dockyard: Image builds and the tests that need it will be skipped until it is installed:
dockyard:   pulumi plugin install resource command $COMMAND_VERSION                 (machine with internet access)
dockyard:   pulumi plugin install resource command $COMMAND_VERSION --file <binary> (a binary you built or copied)
EOF
      exit 0
    fi
    rm -rf "$wrapper"
  fi
  pulumi plugin install resource command "$COMMAND_VERSION" --file "$cmd_dir/pulumi-resource-command" >/dev/null ||
    fail "registering the command provider with \`pulumi plugin install\` failed"
fi
