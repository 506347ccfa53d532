#!/usr/bin/env bash
# Builds the ccinfer gateway image (packages/node/Dockerfile) from the packed packages.
#   scripts/build-gateway-image.sh [--tag IMAGE] [--context-only DIR]
#     --tag IMAGE         image name (default ccinfer-gateway:<version of @ccinfer/node>)
#     --context-only DIR  write the build context (Dockerfile + tarballs) to DIR and stop (no docker needed)
# DOCKER=podman selects another OCI builder with the same command line.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(node -p "require('./packages/node/package.json').version")"
tag="ccinfer-gateway:$version"
context=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="${2:?--tag needs an image name}"; shift 2 ;;
    --context-only) context="${2:?--context-only needs a directory}"; shift 2 ;;
    *) echo "build-gateway-image: unknown option $1" >&2; exit 2 ;;
  esac
done

keep=1
if [ -z "$context" ]; then context="$(mktemp -d)"; keep=0; fi
cleanup() { [ "$keep" = 1 ] || rm -rf "$context"; }
trap cleanup EXIT
mkdir -p "$context"

pnpm run build
for pkg in core verifier node; do
  # pnpm pack rewrites workspace:* to the packages' versions, as a publish would.
  pnpm --filter "@ccinfer/$pkg" pack --pack-destination "$context" >/dev/null
done
cp packages/node/Dockerfile "$context/"
ls "$context"

if [ "$keep" = 1 ]; then
  echo "build-gateway-image: build context in $context"
  exit 0
fi
"${DOCKER:-docker}" build --tag "$tag" "$context"
echo "build-gateway-image: built $tag"
