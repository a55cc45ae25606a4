#!/usr/bin/env bash
# Make sure a Docker engine answers (and is a Swarm manager), installing Debian's docker.io when
# there is none. An engine that already answers — local, or remote through DOCKER_HOST — is left
# alone. DOCKYARD_NO_SWARM=1 skips the Swarm initialisation.
set -euo pipefail
cache="${DOCKYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
log="$cache/dockerd.log"
say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }

# Debian packages the project needs besides the engine: static busybox for the images it builds,
# and the registry binary for the self-hosted registry image.
packages=()
command -v dockerd >/dev/null 2>&1 || [ -n "${DOCKER_HOST:-}" ] || packages+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || packages+=(busybox-static)
dpkg -s docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
if [ ${#packages[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "missing ${packages[*]} and no apt-get to install them; install Docker Engine (https://docs.docker.com/engine/install/), busybox-static and docker-registry, or set DOCKER_HOST to a reachable engine"
  say "installing Debian packages: ${packages[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" iptables >/dev/null 2>&1 ||
    fail "could not install ${packages[*]} with apt-get (are you root, and is a Debian mirror reachable?)"
fi

if ! docker info >/dev/null 2>&1; then
  [ -z "${DOCKER_HOST:-}" ] || fail "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it or unset DOCKER_HOST"
  command -v dockerd >/dev/null 2>&1 || fail "no dockerd to start; install Docker Engine"
  [ "$(id -u)" = 0 ] || fail "no Docker engine answers and starting dockerd needs root; start Docker (e.g. \`sudo systemctl start docker\`) and rerun"
  mkdir -p "$cache"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start docker >/dev/null 2>&1 || true
  fi
  if ! docker info >/dev/null 2>&1; then
    say "starting dockerd (log: $log)"
    nohup setsid dockerd >>"$log" 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not come up within 60s; see $log (last lines: $(tail -n 3 "$log" 2>/dev/null | tr '\n' ' '))"
fi

if [ "${DOCKYARD_NO_SWARM:-0}" != 1 ]; then
  state="$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)"
  if [ "$state" = inactive ]; then
    say "initialising a single-node Swarm (set DOCKYARD_NO_SWARM=1 to skip)"
    # Loopback: nothing outside this machine can join by accident; add nodes with --advertise-addr later.
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null || fail "docker swarm init failed; run it by hand to see why"
  fi
fi
