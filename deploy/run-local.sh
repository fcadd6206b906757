#!/usr/bin/env bash
# Installs what is missing (apt), builds roomq, and runs the stack locally
# without Docker: one broker, one gateway serving the browser chat on
# http://127.0.0.1:8080, and the echo service. The gateway has the compose
# stack's namespace policy (clients/examples/echo/gateway.yaml), so both
# answer a client alike. Ctrl-C stops everything.
#   deploy/run-local.sh [--listen HOST:PORT] [--broker-pub ENDPOINT] [--broker-sub ENDPOINT]
# --broker-pub/--broker-sub: where the broker binds and the gateway and the
# service connect; by default tcp://127.0.0.1:5555 and :5556, where the
# roomq CLI looks without flags.
# Environment: ROOMQ_JOBS (build parallelism, default: cores);
# ROOMQ_SKIP_BUILD=1 installs and builds nothing and runs the binaries in
# ROOMQ_BIN_DIR (default build/bin), as tests/deploy/run_local.test.js does.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
listen=127.0.0.1:8080
broker_pub=tcp://127.0.0.1:5555
broker_sub=tcp://127.0.0.1:5556
usage() {
  echo "usage: deploy/run-local.sh [--listen HOST:PORT] [--broker-pub ENDPOINT] [--broker-sub ENDPOINT]" >&2
  exit 2
}
while (($# > 0)); do
  [[ $# -ge 2 && -n "$2" ]] || usage
  case "$1" in
    --listen) listen=$2 ;;
    --broker-pub) broker_pub=$2 ;;
    --broker-sub) broker_sub=$2 ;;
    *) usage ;;
  esac
  shift 2
done

bin=${ROOMQ_BIN_DIR:-build/bin}
if [[ "${ROOMQ_SKIP_BUILD:-}" == 1 ]]; then
  for b in roomq-broker roomq-gateway roomq-echo; do
    [[ -x "$bin/$b" ]] || { echo "run-local: no $bin/$b (ROOMQ_SKIP_BUILD=1 builds nothing)" >&2; exit 1; }
  done
else
  deploy/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default -j "${ROOMQ_JOBS:-$(nproc)}" \
    --target roomq-broker roomq-gateway roomq-echo roomq roomq_web
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap cleanup INT TERM EXIT

nodes=(--broker-pub "$broker_pub" --broker-sub "$broker_sub")
"$bin/roomq-broker" --pub-bind "$broker_pub" --sub-bind "$broker_sub" & pids+=($!)
"$bin/roomq-gateway" --listen "$listen" --config clients/examples/echo/gateway.yaml "${nodes[@]}" & pids+=($!)
"$bin/roomq-echo" "${nodes[@]}" & pids+=($!)

cli=""
[[ "$broker_pub $broker_sub" == "tcp://127.0.0.1:5555 tcp://127.0.0.1:5556" ]] \
  || cli=" --broker-pub $broker_pub --broker-sub $broker_sub"
echo "roomq is up: chat at http://$listen  (Ctrl-C stops the stack)"
echo "  try: $bin/roomq sub$cli --ns / --room general   and   $bin/roomq pub$cli --ns / --room general --event 'chat message' '\"hi\"'"
wait -n "${pids[@]}"
