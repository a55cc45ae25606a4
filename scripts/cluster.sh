#!/usr/bin/env bash
# A three-node Docker Swarm on this machine, for tests and for trying Dockyard on a cluster:
# one manager and two workers, each a dockerd in its own network namespace (and hostname) with
# its own address on a private bridge. The machine's own engine is never touched.
#
#   npm run cluster -- up [--fresh]   bring the cluster up (idempotent: a healthy cluster is kept,
#                                     anything else, or --fresh, is removed and made again)
#   npm run cluster -- down           remove everything it made (idempotent)
#   eval "$(npm run -s cluster -- env)"   point docker (and Dockyard) at the manager; it also
#                                     exports DOCKYARD_CLUSTER_MANAGER (its address) and
#                                     DOCKYARD_CLUSTER_NODES ('manager=10.213.0.11 worker1=...')
#                                     and DOCKYARD_NODE_HOSTS (each node's engine, for `gc`)
#   npm run -s cluster -- env <node>  the same, with DOCKER_HOST at that node's own engine
#   npm run cluster -- status         nodes, roles, addresses, labels, state
#   npm run cluster -- stop <node>    lose a machine: its link goes down, then SIGKILL to every
#                                     process of that node (engine, containerd, shims, tasks)
#   npm run cluster -- start <node>   boot it again on the same data root: it rejoins the Swarm
#
# Needs root, iproute2 (ip), util-linux (nsenter, unshare), dockerd, and the base images
# dockyard/busybox:1.35.0 and dockyard/registry:2.8.2 on the machine's engine (`npm run setup`).
#
# The cluster (constants below, change them here only):
#   bridge dockyard-br0 with 10.213.0.1/24 in the root namespace (this machine reaches the nodes)
#   node     role     address      hostname  labels  network namespace
#   manager  manager  10.213.0.11  manager   zone=a  dockyard-manager
#   worker1  worker   10.213.0.12  worker1   zone=b  dockyard-worker1
#   worker2  worker   10.213.0.13  worker2   zone=c  dockyard-worker2
#   each engine: --data-root /var/lib/dockyard-cluster/<node>, --exec-root, pidfile and socket
#   under /run/dockyard-cluster/<node>, containers under the cgroup /dockyard-cluster/<node>,
#   log in ${DOCKYARD_CACHE:-~/.cache/dockyard}/cluster/<node>.log (kept by `down`).
#   Swarm: advertised and listening on each node's own address; overlay networks from
#   10.214.0.0/16 (--default-addr-pool), so they never overlap the nodes' subnet.
#   DOCKER_HOST is the manager's socket, unix:///run/dockyard-cluster/manager/docker.sock.
#
# Images reach the workers only through a registry, as on a real cluster: the base images are
# loaded into the manager alone (builds run there). A registry served by the stack on the
# manager's address speaks plain HTTP, which Docker allows only for 127.0.0.0/8 unless told
# otherwise, so every engine here runs with --insecure-registry 10.213.0.0/24. A real cluster
# needs the same: TLS on the registry, or an "insecure-registries" entry in each node's
# /etc/docker/daemon.json.
#
# Findings on the machine this was written on (Debian 12, docker.io 20.10.24, kernel without
# IPVS, cgroup v1, iptables-nft), which is why it is done this way:
#  - the engines are entered with `nsenter --net=/run/netns/...`, not `ip netns exec`, which
#    remounts /sys and hides the cgroup mounts dockerd needs; `unshare --uts` gives each its own
#    hostname, which becomes its Swarm node name.
#  - inside a namespace dockerd makes its own docker0 (172.17.0.0/16) and docker_gwbridge and its
#    own iptables chains, as on a fresh machine; nothing to change there.
#  - br_netfilter is on (bridge-nf-call-iptables=1) and the machine's dockerd sets the root
#    namespace's FORWARD policy to DROP, which would drop the Swarm traffic between nodes (2377,
#    gossip 7946, VXLAN 4789/udp) crossing the bridge: one FORWARD rule accepts traffic from the
#    bridge to the bridge (comment "dockyard-cluster"), removed by `down`.
#  - no IPVS: no ingress routing mesh or VIPs. Publish ports in host mode (reach them at the
#    node's address) and use endpoint_mode dnsrr, as on the machine's engine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

nodes=(manager worker1 worker2)
declare -A addr=([manager]=10.213.0.11 [worker1]=10.213.0.12 [worker2]=10.213.0.13)
declare -A zone=([manager]=a [worker1]=b [worker2]=c)
manager=manager
bridge=dockyard-br0
bridge_addr=10.213.0.1
subnet=10.213.0.0/24
prefixlen=24
addr_pool=10.214.0.0/16
data=/var/lib/dockyard-cluster
run=/run/dockyard-cluster
cgroup_name=dockyard-cluster
fwd_rule=(-i "$bridge" -o "$bridge" -m comment --comment dockyard-cluster -j ACCEPT)
base_images=(dockyard/busybox:1.35.0 dockyard/registry:2.8.2)
cache="${DOCKYARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
logs="$cache/cluster"

say() { echo "dockyard: $*"; }
fail() { echo "dockyard: $*" >&2; exit 1; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

netns() { echo "dockyard-$1"; }
veth() { echo "dy-$1"; }                        # the root-namespace end; the node's end is eth0
sock() { echo "unix://$run/$1/docker.sock"; }
log() { echo "$logs/$1.log"; }
# docker against one node's engine (never the machine's own: -H wins over DOCKER_HOST).
on() { local node="$1"; shift; docker -H "$(sock "$node")" "$@"; }
# docker against the machine's own engine: DOCKER_HOST as set, unless it points at this cluster.
machine_docker() {
  if [[ "${DOCKER_HOST:-}" == *"$run/"* ]]; then env -u DOCKER_HOST docker "$@"; else docker "$@"; fi
}
is_node() { local n; for n in "${nodes[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
answers() { on "$1" info >/dev/null 2>&1; }
alive() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# The lines of a node's log that say why its engine stopped, else its last lines.
log_errors() {
  { grep -iE 'level=(fatal|error)|failed to start daemon|^failed' "$1" 2>/dev/null || tail -n 3 "$1" 2>/dev/null; } |
    tail -n 3 | sed 's/^/    /' || true
}

# --- processes, mounts, cgroups --------------------------------------------------------------

# Every process of a node: those in its network namespace, those started with its directories
# (dockerd, containerd and the shims name them), and all their descendants (task containers, in
# network namespaces of their own). Patterns reach awk through the environment, so no process
# scanning here names them on its own command line.
node_pids() {
  local node="$1" ino=""
  [ -e "/run/netns/$(netns "$node")" ] && ino="$(stat -L -c %i "/run/netns/$(netns "$node")" 2>/dev/null || true)"
  { stat -L -c 'ns %i %n' /proc/[0-9]*/ns/net 2>/dev/null || true; ps -e -o pid=,ppid=,args= 2>/dev/null | sed 's/^/ps /'; } |
    DY_INO="$ino" DY_RUN="$run/$node/" DY_DATA="$data/$node" DY_SELF="$$" awk '
      $1 == "ns" { split($3, f, "/"); if (ENVIRON["DY_INO"] != "" && $2 == ENVIRON["DY_INO"]) seed[f[3]] = 1; next }
      {
        pid = $2; parent[pid] = $3
        if (index($0, ENVIRON["DY_RUN"]) || index($0, ENVIRON["DY_DATA"] " ") || index($0, ENVIRON["DY_DATA"] "/") || substr($0, length($0) - length(ENVIRON["DY_DATA"]) + 1) == ENVIRON["DY_DATA"]) seed[pid] = 1
      }
      END {
        for (p in seed) mine[p] = 1
        do { grew = 0; for (p in parent) if (!(p in mine) && (parent[p] in mine)) { mine[p] = 1; grew = 1 } } while (grew)
        for (p in mine) if (p != 1 && p != ENVIRON["DY_SELF"] && (p in parent)) print p
      }'
}

# SIGKILL every process of a node and wait until they are gone.
kill_node() {
  local node="$1" pids p left
  for _ in $(seq 1 20); do
    pids="$(node_pids "$node")" || fail "could not list the processes of node $node (ps, stat /proc/*/ns/net)"
    left=""
    for p in $pids; do alive "$p" && left="$left $p"; done
    [ -n "$left" ] || return 0
    # shellcheck disable=SC2086
    kill -9 $left 2>/dev/null || true
    sleep 0.5
  done
  fail "processes of node $node survive SIGKILL:$left ($(ps -o pid=,args= -p "${left// /,}" 2>/dev/null | head -n 3 | tr '\n' ';'))"
}

# Unmount everything under the given directories, deepest first.
unmount_under() {
  local m
  awk '{ print $2 }' /proc/self/mounts | DY_DIRS="$*" awk '
    BEGIN { n = split(ENVIRON["DY_DIRS"], d, " ") }
    { for (i = 1; i <= n; i++) if ($0 == d[i] || index($0, d[i] "/") == 1) { print; break } }' |
    sort -r | while read -r m; do
      m="$(printf '%b' "$m")"                   # /proc/mounts escapes spaces as \040
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
  if awk '{ print $2 }' /proc/self/mounts | grep -qE "^($(echo "$*" | sed 's/ /|/g'))(/|$)"; then
    fail "could not unmount everything under $*: see \`grep dockyard-cluster /proc/mounts\`"
  fi
}

# Remove a node's container cgroups (left behind by SIGKILL), deepest first, in every hierarchy.
remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/$cgroup_name/$1 /sys/fs/cgroup/*/$cgroup_name/$1; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
remove_cgroup_roots() {
  local d
  for d in /sys/fs/cgroup/$cgroup_name /sys/fs/cgroup/*/$cgroup_name; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
  done
}

# --- network ---------------------------------------------------------------------------------

fwd_rule_present() { iptables -C FORWARD "${fwd_rule[@]}" 2>/dev/null; }

make_network() {
  ip link add "$bridge" type bridge || fail "could not create the bridge $bridge (ip link add ... type bridge)"
  ip addr add "$bridge_addr/$prefixlen" dev "$bridge"
  ip link set "$bridge" up
  if ! fwd_rule_present; then
    iptables -I FORWARD 1 "${fwd_rule[@]}" || fail "could not add the FORWARD rule for $bridge (iptables -I FORWARD 1 ${fwd_rule[*]})"
  fi
  local node ns
  for node in "${nodes[@]}"; do
    ns="$(netns "$node")"
    ip netns add "$ns" || fail "could not create the network namespace $ns (ip netns add)"
    ip link add "$(veth "$node")" type veth peer name "$(veth "$node")-n" ||
      fail "could not create the veth pair $(veth "$node") for node $node"
    ip link set "$(veth "$node")-n" netns "$ns"
    ip link set "$(veth "$node")" master "$bridge" up
    nsenter --net="/run/netns/$ns" sh -ec "
      ip link set lo up
      ip link set $(veth "$node")-n name eth0
      ip addr add ${addr[$node]}/$prefixlen dev eth0
      ip link set eth0 up" || fail "could not configure the network of node $node (namespace $ns)"
  done
}

remove_network() {
  local node
  for node in "${nodes[@]}"; do
    ip link del "$(veth "$node")" 2>/dev/null || true
    [ ! -e "/run/netns/$(netns "$node")" ] || ip netns del "$(netns "$node")" 2>/dev/null ||
      fail "could not remove the network namespace $(netns "$node") (ip netns del)"
  done
  ip link del "$bridge" 2>/dev/null || true
  while fwd_rule_present; do iptables -D FORWARD "${fwd_rule[@]}"; done
}

# --- engines ---------------------------------------------------------------------------------

# Start a node's dockerd in its namespace, with its own hostname; wait until it answers.
start_engine() {
  local node="$1" pid
  mkdir -p "$data/$node" "$run/$node" "$logs"
  echo "=== $(date -u +%FT%TZ) dockyard cluster starts the engine of $node" >>"$(log "$node")"
  nohup setsid nsenter --net="/run/netns/$(netns "$node")" unshare --uts sh -c '
    hostname "$0" && exec dockerd "$@"' "$node" \
    --data-root "$data/$node" --exec-root "$run/$node/exec" --pidfile "$run/$node/docker.pid" \
    --host "$(sock "$node")" --cgroup-parent "/$cgroup_name/$node" \
    --insecure-registry "$subnet" --label "dockyard.cluster.node=$node" \
    >>"$(log "$node")" 2>&1 </dev/null 9<&- &   # fd 9 is this script's lock: not the engine's
  pid=$!
  for _ in $(seq 1 60); do
    answers "$node" && return 0
    alive "$pid" || break
    sleep 0.5
  done
  fail "the engine of node $node did not come up ($(alive "$pid" && echo 'not answering after 30s' || echo 'it exited')).
  Its log: $(log "$node"), which ends:
$(log_errors "$(log "$node")")"
}

# Wait until the manager lists every node Ready.
wait_ready() {
  local ready
  for _ in $(seq 1 "${1:-60}"); do
    ready="$(on "$manager" node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | awk '$2 == "Ready" { print $1 }' | sort | tr '\n' ' ')"
    [ "$ready" = "$(printf '%s\n' "${nodes[@]}" | sort | tr '\n' ' ')" ] && return 0
    sleep 1
  done
  return 1
}

# hostname role address state availability labels..., one line per node, from the manager.
node_table() {
  # shellcheck disable=SC2046
  on "$manager" node inspect --format '{{.Description.Hostname}} {{.Spec.Role}} {{.Status.Addr}} {{.Status.State}} {{.Spec.Availability}} {{range $k, $v := .Spec.Labels}}{{$k}}={{$v}} {{end}}' \
    $(on "$manager" node ls -q) | sort
}

healthy() {
  local node
  for node in "${nodes[@]}"; do answers "$node" || return 1; done
  wait_ready 1
}

# --- subcommands -----------------------------------------------------------------------------

require_root() {
  [ "$(id -u)" = 0 ] || fail "the cluster harness needs root (network namespaces, iptables, three dockerd): run it as root, e.g. \`sudo npm run cluster -- $1\`"
  local tool missing=()
  for tool in ip nsenter unshare iptables dockerd docker; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] || fail "missing ${missing[*]}: install iproute2, util-linux, iptables and Docker (\`npm run setup\` installs Docker)"
}

down() {
  local node
  for node in "${nodes[@]}"; do kill_node "$node"; done
  unmount_under "$data" "$run"
  for node in "${nodes[@]}"; do remove_cgroups "$node"; done
  remove_cgroup_roots
  remove_network
  rm -rf "$data" "$run"
}

up() {
  local fresh="$1" node token t machine_missing=()
  if [ "$fresh" = 0 ] && [ -d "$run" ] && healthy; then
    say "the cluster is already up (\`up --fresh\` makes a new one)"
    status
    return 0
  fi
  for t in "${base_images[@]}"; do machine_docker image inspect "$t" >/dev/null 2>&1 || machine_missing+=("$t"); done
  [ ${#machine_missing[@]} -eq 0 ] ||
    fail "the machine's engine has no ${machine_missing[*]}, which the cluster's manager starts from: run \`bash scripts/lib/base-image.sh\` (or \`npm run setup\`)"
  if [ -d "$run" ] || [ -d "$data" ] || ip link show "$bridge" >/dev/null 2>&1 || ip netns list | grep -q '^dockyard-'; then
    say "removing the leftovers of an earlier cluster"
    down
  fi
  mkdir -p "$logs"
  for node in "${nodes[@]}"; do : >"$(log "$node")"; done
  say "starting 3 engines on $bridge ($subnet): ${nodes[*]}"
  make_network
  for node in "${nodes[@]}"; do start_engine "$node"; done

  say "loading ${base_images[*]} into the manager (the workers get images only through a registry)"
  machine_docker save "${base_images[@]}" | on "$manager" load >/dev/null ||
    fail "could not copy ${base_images[*]} from the machine's engine into the manager (docker save | docker load)"

  on "$manager" swarm init --advertise-addr "${addr[$manager]}" --listen-addr "${addr[$manager]}:2377" \
    --data-path-addr "${addr[$manager]}" --default-addr-pool "$addr_pool" --default-addr-pool-mask-length 24 >/dev/null ||
    fail "docker swarm init on the manager failed; its log: $(log "$manager")"
  token="$(on "$manager" swarm join-token -q worker)"
  for node in "${nodes[@]}"; do
    [ "$node" = "$manager" ] && continue
    on "$node" swarm join --token "$token" --advertise-addr "${addr[$node]}" --listen-addr "${addr[$node]}:2377" \
      --data-path-addr "${addr[$node]}" "${addr[$manager]}:2377" >/dev/null ||
      fail "node $node could not join the Swarm at ${addr[$manager]}:2377; its log: $(log "$node"), which ends:
$(log_errors "$(log "$node")")"
  done
  wait_ready 60 || fail "not every node became Ready within 60s:
$(on "$manager" node ls 2>&1 | sed 's/^/    /')
  logs: $logs/<node>.log"
  for node in "${nodes[@]}"; do
    on "$manager" node update --label-add "zone=${zone[$node]}" "$node" >/dev/null
  done
  # Every node must advertise its own address, never loopback.
  local name role address rest
  while read -r name role address rest; do
    [ "$address" = "${addr[$name]:-}" ] || fail "node $name advertises $address, not ${addr[$name]:-its own address}"
  done < <(node_table)
  say "cluster up"
  status
}

status() {
  local n
  if ! [ -d "$run" ] || ! answers "$manager"; then
    say "no cluster is running (\`npm run cluster -- up\` starts one)"
    for n in "${nodes[@]}"; do [ -e "/run/netns/$(netns "$n")" ] && say "  leftover: namespace $(netns "$n") (\`npm run cluster -- down\` removes it)"; done
    return 0
  fi
  printf '  %-8s %-8s %-12s %-6s %-8s %s\n' NODE ROLE ADDRESS STATE AVAIL LABELS
  node_table | while read -r name role address state avail labels; do
    printf '  %-8s %-8s %-12s %-6s %-8s %s\n' "$name" "$role" "$address" "$state" "$avail" "$labels"
  done
  echo "  DOCKER_HOST=$(sock "$manager")   (eval \"\$(npm run -s cluster -- env)\")"
  echo "  each node's engine: unix://$run/<node>/docker.sock; plain-HTTP registries allowed on $subnet"
}

# The exports for `eval`: DOCKER_HOST is the manager's engine, or the named node's own.
env_cmd() {
  local node="${1:-$manager}" n list="" engines=""
  answers "$node" || fail "no cluster is running (\`npm run cluster -- up\` starts one)$([ "$node" = "$manager" ] || echo ", or node $node is stopped")"
  for n in "${nodes[@]}"; do list="$list $n=${addr[$n]}"; engines="$engines $n=$(sock "$n")"; done
  echo "export DOCKER_HOST=$(sock "$node")"
  echo "export DOCKYARD_CLUSTER_MANAGER=${addr[$manager]}"
  echo "export DOCKYARD_CLUSTER_NODES='${list# }'"
  echo "export DOCKYARD_NODE_HOSTS='${engines# }'"
  echo "# plain-HTTP registries are allowed on $subnet; \`npm run -s cluster -- env <node>\` gives a node's own engine"
}

stop_node() {
  local node="$1"
  [ -d "$run/$node" ] || fail "node $node is not running (no $run/$node)"
  # The link first, so that the node falls silent like a lost machine, then every process.
  ip link set "$(veth "$node")" down
  kill_node "$node"
  say "node $node stopped (link down, every process killed); \`npm run cluster -- start $node\` boots it again"
}

start_node() {
  local node="$1"
  [ -e "/run/netns/$(netns "$node")" ] || fail "node $node has no namespace: is the cluster up? (\`npm run cluster -- up\`)"
  answers "$node" && { say "node $node is already running"; return 0; }
  # A boot: nothing of the lost engine survives but its data root.
  kill_node "$node"
  unmount_under "$data/$node" "$run/$node"
  remove_cgroups "$node"
  rm -rf "${run:?}/$node"
  ip link set "$(veth "$node")" up
  start_engine "$node"
  say "node $node started; it rejoins the Swarm by itself (\`npm run cluster -- status\`)"
}

# One cluster.sh changing the cluster at a time (fd 9, closed for the engines it starts).
lock() {
  mkdir -p "$logs"
  exec 9<"$logs"
  flock -w 300 9 || fail "another cluster.sh is still changing the cluster (waited 300s)"
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    fresh=0
    for a in "$@"; do case "$a" in --fresh) fresh=1 ;; *) fail "up: unknown option $a (try --help)" ;; esac; done
    require_root up
    lock
    up "$fresh" ;;
  down)
    require_root down
    lock
    down
    say "cluster removed (engine logs kept in $logs)" ;;
  env)
    [ $# -eq 0 ] || { [ $# -eq 1 ] && is_node "$1"; } || fail "env takes no node (the manager) or one of: ${nodes[*]}"
    env_cmd "$@" ;;
  status) status ;;
  stop|start)
    [ $# -eq 1 ] && is_node "$1" || fail "$cmd needs one node: ${nodes[*]}"
    require_root "$cmd $1"
    lock
    if [ "$cmd" = stop ]; then stop_node "$1"; else start_node "$1"; fi ;;
  -h|--help|help) usage ;;
  "") usage; exit 2 ;;
  *) fail "unknown subcommand $cmd (try --help)" ;;
esac
