#!/usr/bin/env bash
# Installs what a fresh machine lacks, then builds. Idempotent, needs no stdin, runs as root or a user.
#   --quiet     print only what changes
#   --no-build  install only (tests run from the TypeScript sources)
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0; build=1
for arg in "$@"; do
  case "$arg" in
    --quiet) quiet=1 ;;
    --no-build) build=0 ;;
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

# Chromium for the browser suite (Debian's package; Playwright's own download is not reachable).
if [ -z "${SKIP_BROWSER_TESTS:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing chromium from apt (about 30 s, once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium >/dev/null
  else
    echo "bootstrap: chromium not found and apt-get unavailable; browser tests will be skipped" >&2
  fi
fi

say "pnpm install"
if [ "$quiet" = 1 ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --frozen-lockfile; fi
if [ "$build" = 1 ]; then
  say "build"
  if [ "$quiet" = 1 ]; then pnpm run --silent build >/dev/null; else pnpm run build; fi
fi
