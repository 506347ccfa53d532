#!/usr/bin/env bash
# Installs what a fresh machine lacks, then builds. Idempotent, needs no stdin, runs as root or a user.
#   --quiet     print only what changes
#   --no-build     install only (tests run from the TypeScript sources)
#   --no-chromium  never install Chromium (only the browser tests need it; `npm run demo` passes this)
#   --no-haproxy   never install HAProxy (only the replicas test needs it; `npm run demo` passes this)
# A second run skips what is up to date: the install when the lockfile and manifests hash to the stamp in
# node_modules/.ccinfer-install, the build when the sources, configs and lockfile hash to node_modules/.ccinfer-build
# and every package has its dist/. CCINFER_FORCE_BOOTSTRAP=1 ignores the stamps.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0; build=1; chromium=1; haproxy=1
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --no-build) build=0 ;;
    --no-chromium) chromium=0 ;;
    --no-haproxy) haproxy=0 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "bootstrap: $*"; }

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>20||(a===20&&b>=19)?1:0)')
if [ "$node_ok" != 1 ]; then echo "bootstrap: Node >= 20.19 is required (found $(node --version))" >&2; exit 1; fi

PNPM_VERSION="$(node -p "require('./package.json').packageManager.split('@')[1]")"
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION"
  existing="$(command -v pnpm || true)"   # a corepack shim makes `npm i -g pnpm` fail with EEXIST
  if [ -n "$existing" ] && readlink -f "$existing" | grep -q corepack; then
    corepack disable --install-directory "$(dirname "$existing")" pnpm
  fi
  npm install -g --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null
  hash -r
fi

# A Debian package a test suite needs: `apt_install PACKAGE TIME WITHOUT` installs it as root, or says what
# happens WITHOUT it. One `apt-get update` per run at most.
apt_updated=0
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing $1 from apt ($2, once)"
    export DEBIAN_FRONTEND=noninteractive
    [ "$apt_updated" = 1 ] || apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt_updated=1
    apt-get -o DPkg::Lock::Timeout=300 install -y -q "$1" >/dev/null
  else
    echo "bootstrap: $1 not found and apt-get unavailable (not root?); $3" >&2
  fi
}

# Chromium for the browser suite (Debian's package; Playwright's own download is not reachable).
if [ "$chromium" = 1 ] && [ -z "${SKIP_BROWSER_TESTS:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium "about 30 s" "browser tests will be skipped"
fi

# HAProxy for the replicas test (packages/node/test/cli/replicas-haproxy.test.ts: three gateways behind a
# round-robin balancer). Without it that test fails and says how to install it.
if [ "$haproxy" = 1 ] && ! command -v haproxy >/dev/null 2>&1; then
  apt_install haproxy "a few seconds" "the replicas test will fail: install it with apt-get install -y haproxy"
fi

# Content hashes of what each step reads (sorted paths, then contents), compared with the stamp it left.
tree_hash() { find "$@" -type f -not -path '*/node_modules/*' -not -path '*/dist/*' -not -path '*/.tsbuild/*' -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1; }
up_to_date() { [ -z "${CCINFER_FORCE_BOOTSTRAP:-}" ] && [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

install_hash="$(tree_hash pnpm-lock.yaml pnpm-workspace.yaml package.json packages/*/package.json examples/*/package.json bench/package.json)"
if up_to_date node_modules/.ccinfer-install "$install_hash"; then
  say "dependencies up to date"
else
  say "pnpm install"
  if [ "$quiet" = 1 ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --frozen-lockfile; fi
  echo "$install_hash" > node_modules/.ccinfer-install
fi
if [ "$build" = 1 ]; then
  build_hash="$(tree_hash pnpm-lock.yaml tsconfig.base.json packages/*/package.json packages/*/tsconfig.json packages/*/tsup.config.ts packages/*/src packages/browser/build)"
  dists=1
  for p in packages/*/; do [ -f "$p/dist/index.js" ] || dists=0; done
  if [ "$dists" = 1 ] && up_to_date node_modules/.ccinfer-build "$build_hash"; then
    say "build up to date"
  else
    say "build"
    if [ "$quiet" = 1 ]; then pnpm run --silent build >/dev/null; else pnpm run build; fi
    echo "$build_hash" > node_modules/.ccinfer-build
  fi
fi
