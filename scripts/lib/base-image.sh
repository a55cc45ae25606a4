#!/usr/bin/env bash
# Build the local base images every Dockyard build starts from, since no image can be pulled here:
#   dockyard/busybox:1.35.0   FROM scratch + Debian's static busybox, a non-root user `app`
#   dockyard/registry:2.8.2   FROM scratch + Debian's docker-registry binary
# Skips images that already exist.
set -euo pipefail
fail() { echo "dockyard: $*" >&2; exit 1; }
# The legacy builder works without buildx, which Debian's docker.io does not ship.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0

build() {
  local ref="$1" ctx="$2"
  docker build -q -t "$ref" --label dockyard.base=true "$ctx" >/dev/null || fail "building $ref failed"
  echo "dockyard: built base image $ref"
}

if ! docker image inspect dockyard/busybox:1.35.0 >/dev/null 2>&1; then
  [ -x /bin/busybox ] || fail "no /bin/busybox; install Debian's busybox-static"
  ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
  cp /bin/busybox "$ctx/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$ctx/passwd"
  printf 'root:x:0:\napp:x:10001:\nnogroup:x:65534:\n' > "$ctx/group"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY passwd group /etc/
RUN mkdir -p /tmp /home/app /usr/bin /sbin /usr/sbin && chmod 1777 /tmp && chown 10001:10001 /home/app
ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin
CMD ["sh"]
DOCKERFILE
  build dockyard/busybox:1.35.0 "$ctx"
  rm -rf "$ctx"; trap - EXIT
fi

if ! docker image inspect dockyard/registry:2.8.2 >/dev/null 2>&1; then
  [ -x /usr/bin/docker-registry ] || fail "no /usr/bin/docker-registry; install Debian's docker-registry"
  ctx="$(mktemp -d)"; trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/lib"
  cp /usr/bin/docker-registry "$ctx/registry"
  # The binary needs glibc's loader and libc; copy exactly what ldd names.
  ldd /usr/bin/docker-registry | grep -o '/[^ ]*' | while read -r lib; do cp -L "$lib" "$ctx/lib/$(basename "$lib")"; done
  cat > "$ctx/config.yml" <<'CONFIG'
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
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM dockyard/busybox:1.35.0
COPY lib/ /lib/x86_64-linux-gnu/
RUN mkdir -p /lib64 /var/lib/registry /etc/docker/registry && ln -s /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2
COPY registry /bin/registry
COPY config.yml /etc/docker/registry/config.yml
VOLUME ["/var/lib/registry"]
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/docker/registry/config.yml"]
DOCKERFILE
  build dockyard/registry:2.8.2 "$ctx"
fi
