#!/usr/bin/env bash
# Make sure a Docker engine answers (and is a Swarm manager), installing Debian's docker.io when
# there is none, plus the Debian packages the base images are made from (busybox-static,
# docker-registry). Idempotent and silent when everything is already there.
#
#   bash scripts/lib/docker-engine.sh
#
# An engine that already answers — local, or remote through DOCKER_HOST — is left alone.
# DOCKYARD_NO_SWARM=1 skips the Swarm initialisation. dockerd's log (when this script starts it)
# and apt's log go to ${DOCKYARD_CACHE:-~/.cache/dockyard}/.
#
# Findings on the machines this was written on (Debian 12, docker.io 20.10.24, kernel 6.x, root,
# no systemd, cgroup v1, / on ext4), which is why nothing below is tuned:
#  - storage driver: dockerd picks overlay2 by itself; where overlay2 cannot work (e.g.
#    /var/lib/docker on overlayfs, inside another container) it falls back to vfs by itself,
#    slower but correct, so no --storage-driver is forced.
#  - iptables: Debian defaults to iptables-nft, which works on these kernels. Only on a kernel
#    without nf_tables does dockerd die on its iptables chains; then, and only then, this script
#    switches the iptables alternative to iptables-legacy and retries once (see start_dockerd).
#  - cgroups: dockerd uses the cgroupfs driver with v1 or v2 as mounted; nothing to do. (Hosts
#    with no /sys/fs/cgroup at all need Debian's cgroupfs-mount; the error names it then.)
#  - docker.io pulls in containerd, runc, tini and iptables as dependencies; none of its
#    recommends (apparmor, git, xz-utils, cgroupfs-mount, ...) is needed for what Dockyard does
#    on a kernel without AppArmor. Where AppArmor is enabled, dockerd needs apparmor_parser,
#    so the apparmor package is added then.
#  - the Docker 28 CLI talks to the 20.10 engine at API 1.41 by itself; it has no buildx here,
#    so builds use the legacy builder (DOCKER_BUILDKIT=0, see base-image.sh).
#  - Swarm: `docker swarm init --advertise-addr 127.0.0.1` works; overlay networks and
#    endpoint_mode dnsrr work on one node. The kernel has no IPVS, so the ingress routing mesh
#    and VIP load balancing do not: publish ports in host mode and use endpoint_mode dnsrr.
set -euo pipefail
cache="${DOCKYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
log="$cache/dockerd.log"
aptlog="$cache/apt.log"
say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }
howto="install Docker Engine (https://docs.docker.com/engine/install/, or Debian's docker.io) and start it, or set DOCKER_HOST to a reachable engine (e.g. DOCKER_HOST=ssh://user@host)"

is_root() { [ "$(id -u)" = 0 ]; }
as_root() { if is_root; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
engine_answers() { docker info >/dev/null 2>&1; }
# A dockerd process that is alive (a zombie left under a PID 1 that does not reap, as in some
# containers, does not count).
alive() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
dockerd_running() {
  local p
  for p in $(pgrep -x dockerd 2>/dev/null); do alive "$p" && return 0; done
  return 1
}
# The lines of dockerd's log that say why it stopped (its fatal ones), else its last lines.
log_errors() {
  { grep -iE 'level=fatal|failed to start daemon|^failed' "$1" 2>/dev/null || tail -n 3 "$1" 2>/dev/null; } |
    tail -n 3 | sed 's/^/    /' || true
}

# 1. Debian packages. The engine is skipped when an engine answers or DOCKER_HOST points at one.
packages=()
if ! command -v dockerd >/dev/null 2>&1 && [ -z "${DOCKER_HOST:-}" ] && ! engine_answers; then
  packages+=(docker.io)
  if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then packages+=(apparmor); fi
fi
# Without dpkg there is no telling what is installed: everything counts as missing, and the
# message below says what to install by hand.
installed busybox-static || packages+=(busybox-static)
installed docker-registry || packages+=(docker-registry)
if [ ${#packages[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    fail "missing ${packages[*]} and no apt-get to install them; install Docker Engine (https://docs.docker.com/engine/install/), busybox-static and docker-registry, or set DOCKER_HOST to a reachable engine"
  is_root || sudo -n true 2>/dev/null ||
    fail "missing ${packages[*]}; installing them needs root: run \`sudo apt-get install ${packages[*]}\` and rerun"
  mkdir -p "$cache"
  say "installing Debian packages: ${packages[*]} (log: $aptlog)"
  apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$aptlog" 2>&1; }
  # apt-get update only when the package lists are missing or stale (the install fails then).
  if ! apt_install; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$aptlog" 2>&1 || true
    apt_install || fail "could not install ${packages[*]} with apt-get (is a Debian mirror reachable?). Last lines of $aptlog:
$(tail -n 5 "$aptlog" | sed 's/^/    /')"
  fi
fi

command -v docker >/dev/null 2>&1 || fail "no docker CLI on PATH; $howto"

# 2. The engine. dockerd is started in the background, detached from this shell, its log in the
#    cache; systemd's docker unit is used instead where systemd runs.
start_dockerd() {
  local pid
  say "starting dockerd (log: $log)"
  echo "=== $(date -u +%FT%TZ) dockyard starts dockerd" >>"$log"
  nohup setsid dockerd >>"$log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 60); do
    engine_answers && return 0
    alive "$pid" || return 1
    sleep 1
  done
  return 1
}

if ! engine_answers; then
  [ -z "${DOCKER_HOST:-}" ] || fail "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it or unset DOCKER_HOST"
  command -v dockerd >/dev/null 2>&1 || fail "no dockerd to start; $howto"
  is_root || fail "no Docker engine answers and starting dockerd needs root: start Docker yourself (e.g. \`sudo systemctl start docker\`), or run this as root, or $howto"
  [ -e /sys/fs/cgroup/cgroup.controllers ] || [ -d /sys/fs/cgroup/cpu ] || [ -d /sys/fs/cgroup/unified ] ||
    fail "no cgroup filesystem at /sys/fs/cgroup, which dockerd needs: install Debian's cgroupfs-mount (or mount cgroup2 there) and rerun"
  mkdir -p "$cache"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start docker >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do engine_answers && break; sleep 1; done
  fi
  if ! engine_answers && dockerd_running; then
    # Another run (or the package's init script) is starting it already: wait rather than start a
    # second daemon, which would fail on /var/run/docker.pid.
    for _ in $(seq 1 60); do engine_answers && break; sleep 1; done
  fi
  if ! engine_answers && ! start_dockerd; then
    # A kernel without nf_tables makes dockerd die setting up its iptables chains under Debian's
    # default iptables-nft; iptables-legacy then works. Switch and retry, only in that case.
    if tail -n 40 "$log" | grep -qiE 'iptables|nf_tables|NAT chain' && ! dockerd_running &&
       command -v iptables-legacy >/dev/null 2>&1 && iptables-legacy -t nat -L -n >/dev/null 2>&1 &&
       ! iptables-nft -t nat -L -n >/dev/null 2>&1; then
      say "iptables-nft does not work on this kernel; switching to iptables-legacy"
      update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
      update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
      start_dockerd || true
    fi
  fi
  engine_answers || fail "the Docker engine did not come up (dockerd $(dockerd_running && echo 'still not answering after 60s' || echo 'exited')).
  Its log: $log, which ends:
$(log_errors "$log")
  Fix what it reports, or $howto, then rerun."
fi

# 3. A single-node Swarm, advertised on loopback: nothing outside this machine can join by
#    accident (add nodes later with an --advertise-addr they can reach).
if [ "${DOCKYARD_NO_SWARM:-0}" != 1 ]; then
  swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true; }
  state="$(swarm_state)"
  # "pending" is a manager still starting (e.g. right after dockerd came up): give it a moment.
  for _ in $(seq 1 15); do [ "$state" = pending ] || break; sleep 1; state="$(swarm_state)"; done
  case "$state" in
    active) ;;
    inactive)
      say "initialising a single-node Swarm (set DOCKYARD_NO_SWARM=1 to skip)"
      out="$(docker swarm init --advertise-addr 127.0.0.1 2>&1)" ||
        fail "\`docker swarm init --advertise-addr 127.0.0.1\` failed: $out
  Run it by hand to see why, or set DOCKYARD_NO_SWARM=1 to use Docker without Swarm." ;;
    locked) fail "the Swarm on this engine is locked: run \`docker swarm unlock\`, then rerun" ;;
    *) fail "the engine's Swarm is in state '${state:-unknown}': see \`docker info\`; \`docker swarm leave --force\` resets a broken one" ;;
  esac
fi
