#!/usr/bin/env bash
# Runs one Node package's tests for ctest (tests/cdk, tests/orgsweep):
#   node_tests.sh PACKAGE_DIR [--build] [TEST_FILE...]
# --build compiles the TypeScript first (npm run build). Node >= 20 and the package's node_modules (npm ci) must be
# there: scripts/setup-node installs both. Anything missing fails with that hint, never a skip. node --test exits
# non-zero when a test fails, which fails the ctest entry.
set -euo pipefail
dir="$1"
shift
if ! command -v node >/dev/null 2>&1; then
  echo "node_tests: node is not on PATH; run scripts/setup-node" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "node_tests: node $(node --version) is too old (aws-cdk-lib needs >= 20); run scripts/setup-node" >&2
  exit 1
fi
if [ ! -d "$dir/node_modules" ]; then
  echo "node_tests: $dir/node_modules is missing; run scripts/setup-node (npm ci)" >&2
  exit 1
fi
cd "$dir"
if [ "${1:-}" = "--build" ]; then
  shift
  npm run --silent build
fi
if [ "$#" -gt 0 ]; then
  exec node --test --test-reporter=spec "$@"
fi
