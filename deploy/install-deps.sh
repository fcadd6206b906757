#!/usr/bin/env bash
# Installs what roomq needs on Debian 12, from Debian's packages only.
#   deploy/install-deps.sh          build and run the stack
#   deploy/install-deps.sh --test   also what the test suite needs (clang, clang-tidy, dpkg-dev, chromium, redis, nats, node, promtool)
# Idempotent and quick when everything is already there; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libboost1.74-dev libboost-system1.74-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev libspdlog-dev libsimdjson-dev libssl-dev libcli11-dev libre2-dev
)
# npm fetches the pinned socket.io-client browser bundle at build time.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
if [[ "${1:-}" == "--test" ]]; then
  # prometheus for its promtool (tests/deploy/check_prometheus.sh); where
  # systemd runs, the package also starts a Prometheus server on :9090.
  packages+=(clang clang-format clang-tidy libclang-rt-14-dev dpkg-dev chromium redis-server libhiredis-dev nats-server libnats-dev procps
    prometheus)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
