#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each over its
# committed seed corpus for a bounded time; exits non-zero on any crash,
# leak, sanitizer report or timeout. tests/run-all.sh calls it.
#   tests/fuzz/run.sh
# Environment:
#   ROOMQ_FUZZ_SECONDS  seconds per target (default 15)
#   ROOMQ_FUZZ_BUILD    build directory (default <repo>/build-fuzz)
#   ROOMQ_JOBS          build and run parallelism (default: cores)
# A crash leaves its input as crash-* in <build>/tests/fuzz/fuzz_work/<target>/;
# reproduce with <build>/bin/<target>_fuzz <that file>.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${ROOMQ_FUZZ_BUILD:-$root/build-fuzz}
seconds=${ROOMQ_FUZZ_SECONDS:-15}
jobs=${ROOMQ_JOBS:-$(nproc)}
targets=(engineio_packet_fuzz socketio_packet_fuzz envelope_fuzz config_fuzz ws_frame_fuzz
         record_format_fuzz jwt_fuzz broker_config_fuzz)

command -v clang++ >/dev/null || { echo "tests/fuzz/run.sh: clang++ not found (apt-get install clang)" >&2; exit 1; }
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOMQ_FUZZ=ON -DROOMQ_SANITIZE=ON \
  -DROOMQ_BUILD_TESTS=ON -DROOMQ_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
ctest --test-dir "$build" -L fuzz -j "$jobs" --output-on-failure --no-tests=error
