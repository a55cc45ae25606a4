#!/usr/bin/env bash
# Build the local base images every Dockyard build starts from, since no image can be pulled:
#   dockyard/busybox:1.35.0   FROM scratch + Debian's static busybox (applets as symlinks in
#                             /bin), /etc/passwd and /etc/group with the non-root user `app`
#                             (uid/gid 10001), /tmp (1777) and /home/app
#   dockyard/registry:2.8.2   dockyard/busybox + Debian's docker-registry binary as
#                             /bin/registry (dynamically linked against glibc: its loader and
#                             libc are copied to the paths ldd lists) and /etc/docker/registry/config.yml (:5000, filesystem
#                             storage in /var/lib/registry). It keeps busybox so that a health
#                             check (`wget -q -O /dev/null http://127.0.0.1:5000/`) can run in it.
# Images that already exist are left alone (remove one to rebuild it). Each new image gets a
# smoke test (`docker run --rm`) and is removed again if that fails.
#
#   bash scripts/lib/base-image.sh      (after scripts/lib/docker-engine.sh)
set -euo pipefail
fail() { echo "dockyard: $*" >&2; exit 1; }
busybox_ref=dockyard/busybox:1.35.0
registry_ref=dockyard/registry:2.8.2
# Debian's docker.io has no buildx; the Docker 28 CLI then needs DOCKER_BUILDKIT=0 to use the
# legacy builder without complaint. Where buildx is installed, BuildKit builds these the same.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

ctx=""
cleanup() { [ -z "$ctx" ] || rm -rf "$ctx"; }
trap cleanup EXIT
exists() { docker image inspect "$1" >/dev/null 2>&1; }

# build REF: build $ctx as REF; only a failing build's output is shown.
build() {
  local out
  out="$(docker build -t "$1" --label dockyard.base=true "$ctx" 2>&1)" ||
    fail "building $1 failed:
$(printf '%s\n' "$out" | grep -v -e DEPRECATED -e 'legacy builder' -e BuildKit -e 'environment-variable' | tail -n 15)"
}
# smoke REF CMD...: run CMD in a throwaway container; remove REF and fail when it does not work.
smoke() {
  local ref="$1" out; shift
  out="$(docker run --rm "$@" 2>&1)" || { docker rmi -f "$ref" >/dev/null 2>&1 || true; fail "the new $ref does not work: $out"; }
}

if ! exists "$busybox_ref"; then
  [ -x /bin/busybox ] || fail "no /bin/busybox: install Debian's busybox-static (bash scripts/lib/docker-engine.sh does)"
  # A dynamically linked busybox (Debian's `busybox` package) would not run FROM scratch.
  if ldd /bin/busybox >/dev/null 2>&1; then fail "/bin/busybox is dynamically linked: install Debian's busybox-static instead of busybox"; fi
  ctx="$(mktemp -d "${TMPDIR:-/tmp}/dockyard-base.XXXXXX")"
  cp /bin/busybox "$ctx/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ctx/passwd"
  printf 'root:x:0:\napp:x:10001:\nnogroup:x:65534:\n' >"$ctx/group"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY passwd group /etc/
RUN mkdir -p /tmp /root /home/app /usr/bin /sbin /usr/sbin && chmod 1777 /tmp && chown 10001:10001 /home/app
ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin
CMD ["sh"]
DOCKERFILE
  build "$busybox_ref"
  smoke "$busybox_ref" --user app "$busybox_ref" sh -c 'id -u | grep -qx 10001 && wget --help >/dev/null 2>&1 && touch /tmp/x'
  echo "dockyard: built base image $busybox_ref"
  cleanup; ctx=""
fi

if ! exists "$registry_ref"; then
  [ -x /usr/bin/docker-registry ] || fail "no /usr/bin/docker-registry: install Debian's docker-registry (bash scripts/lib/docker-engine.sh does)"
  ctx="$(mktemp -d "${TMPDIR:-/tmp}/dockyard-base.XXXXXX")"
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/var/lib/registry" "$ctx/rootfs/etc/docker/registry"
  cp /usr/bin/docker-registry "$ctx/rootfs/bin/registry"
  # Debian builds it with cgo: it needs glibc's loader and libc. Copy exactly what ldd names, to
  # the same paths (nothing when a build of it is static).
  { ldd /usr/bin/docker-registry 2>/dev/null || true; } | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
  done
  cat >"$ctx/rootfs/etc/docker/registry/config.yml" <<'CONFIG'
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
CONFIG
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $busybox_ref
COPY rootfs/ /
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
DOCKERFILE
  build "$registry_ref"
  smoke "$registry_ref" "$registry_ref" --version
  echo "dockyard: built base image $registry_ref"
fi
