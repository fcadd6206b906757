#!/usr/bin/env bash
# Builds Debian 12's own Abseil source package under ThreadSanitizer into a
# prefix, for the tsan preset (CMakePresets.json).
#
#   tests/tsan/build-abseil.sh PREFIX
#
# Why: absl::Mutex is implemented in libabsl_synchronization, and Debian's
# build of it is not instrumented, so TSan cannot see its lock and unlock and
# reports every hand-off through it as a race. The source is Debian's
# (`apt-get source abseil`, the same version and patches as libabsl-dev); a
# deb-src entry for bookworm is added when none is configured. Idempotent: a
# finished prefix is kept. Parallelism: $ROOMQ_JOBS (default: cores).
set -euo pipefail
prefix=${1:?usage: build-abseil.sh PREFIX}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
version=$(dpkg-query -W -f='${Version}' libabsl-dev)
stamp=$prefix/.roomq-tsan-abseil-$version
if [[ -f $stamp ]]; then
  echo "build-abseil: $prefix has Abseil $version under TSan"
  exit 0
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "build-abseil: adding a deb-src entry for bookworm"
  $sudo tee /etc/apt/sources.list.d/roomq-deb-src.sources >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  $sudo apt-get update -qq
fi
command -v dpkg-source >/dev/null || {
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends dpkg-dev
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The installed version's source; the newest one when the mirror no longer
# has it (the prefix is self-contained: its headers come with it).
(cd "$work" && { apt-get source -qq "abseil=$version" || apt-get source -qq abseil; } >/dev/null)
source_dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'abseil-*' | head -1)
[[ -n $source_dir ]] || { echo "build-abseil: apt-get source abseil gave no source tree"; exit 1; }

# The same C++ standard as roomq: absl::string_view and friends are aliases of
# the std types only when the standard has them.
cmake -S "$source_dir" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_STANDARD=20 -DABSL_PROPAGATE_CXX_STD=ON -DBUILD_TESTING=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_C_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$work/build" -j "${ROOMQ_JOBS:-$(nproc)}"
cmake --install "$work/build" >/dev/null
touch "$stamp"
echo "build-abseil: Abseil $version under TSan in $prefix"
