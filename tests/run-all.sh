#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 clone: installs what is missing
# (apt, npm ci), builds, and runs every CTest suite.
#   tests/run-all.sh            everything (the README's test command; .ci/run calls it)
# Environment: ROOMQ_JOBS (build parallelism, default: cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${ROOMQ_JOBS:-$(nproc)}

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

step "dependencies"
deploy/install-deps.sh --test
if [[ -f tests/e2e/package-lock.json ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

step "build (default preset)"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"

step "tests (default preset)"
ctest --preset default -j "$jobs"

step "done"
