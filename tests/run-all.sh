#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 clone: installs what is missing
# (apt, npm ci), builds, and runs every suite:
#   1. default preset: unit, layers (wrong-way includes refused), lint (clang-format;
#      clang-tidy over what changed since tests/lint/tidy_base, tests/lint/check_tidy.sh),
#      integration, smoke, e2e (Node + socket.io-client), browser (chromium), fault (short)
#   2. asan preset: unit + integration under AddressSanitizer + UBSan (clang)
#   3. tsan preset: unit + integration under ThreadSanitizer (clang), against
#      Debian's Abseil source built under TSan (tests/tsan/build-abseil.sh)
#   4. fuzz: every libFuzzer target over its committed corpus for ROOMQ_FUZZ_SECONDS (default 15)
#   5. deploy (label slow;deploy): the docker compose stack through podman, when run
#      as root with the compose-up recipe at ../shared/tools/compose-up (as in CI)
# Every build treats compiler warnings as errors (ROOMQ_WERROR). clang-tidy over the
# whole tree is label tidy, left out here: ctest --preset lint.
# Environment: ROOMQ_JOBS (parallelism, default: cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${ROOMQ_JOBS:-$(nproc)}

step() { printf '\n== %s (%ss)\n' "$*" "$SECONDS"; }

# What the sanitizer stages leave out: they run the unit and integration tests.
sanitizer_skips="e2e|browser|slow|deploy|smoke|fuzz|reference|lint|layers|fault"

step "dependencies"
deploy/install-deps.sh --test
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

step "build (default preset)"
cmake --preset default -DROOMQ_WERROR=ON >/dev/null
cmake --build --preset default -j "$jobs"

step "tests (default preset)"
ctest --preset default -j "$jobs" -LE "deploy|tidy"

step "build (asan preset)"
cmake --preset asan -DROOMQ_WERROR=ON >/dev/null
cmake --build --preset asan -j "$jobs"

step "tests (asan preset: unit + integration)"
ctest --preset asan -j "$jobs" -LE "$sanitizer_skips"

step "build (tsan preset: Debian's Abseil, then roomq, under ThreadSanitizer)"
tests/tsan/build-abseil.sh build-tsan-abseil
cmake --preset tsan -DROOMQ_WERROR=ON >/dev/null
cmake --build --preset tsan -j "$jobs"

step "tests (tsan preset: unit + integration)"
ctest --preset tsan -j "$jobs" -LE "$sanitizer_skips"

step "fuzz"
tests/fuzz/run.sh

if [[ $(id -u) -eq 0 && -x "$root/../shared/tools/compose-up/run.sh" ]]; then
  step "deploy: the compose stack through podman (label deploy)"
  ctest --preset default -L deploy
else
  step "deploy: skipped (needs root and ../shared/tools/compose-up; run: ctest --preset default -L deploy)"
fi

step "done"
