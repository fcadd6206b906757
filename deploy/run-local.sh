#!/usr/bin/env bash
# Installs what is missing (apt), builds roomq, and runs the stack locally
# without Docker: one broker, one gateway serving the browser chat on
# http://127.0.0.1:8080, and the echo service. Ctrl-C stops everything.
#   deploy/run-local.sh [--listen HOST:PORT]
# Environment: ROOMQ_JOBS (build parallelism, default: cores).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
listen=127.0.0.1:8080
if [[ "${1:-}" == "--listen" && -n "${2:-}" ]]; then listen=$2; fi

deploy/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "${ROOMQ_JOBS:-$(nproc)}" \
  --target roomq-broker roomq-gateway roomq-echo roomq roomq_web

bin=build/bin
pids=()
cleanup() {
  trap - INT TERM EXIT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$bin/roomq-broker" & pids+=($!)
"$bin/roomq-gateway" --listen "$listen" --config clients/examples/echo/gateway.yaml & pids+=($!)
"$bin/roomq-echo" & pids+=($!)

echo "roomq is up: chat at http://$listen  (Ctrl-C stops the stack)"
echo "  try: $bin/roomq sub --ns / --room general   and   $bin/roomq pub --ns / --room general --event 'chat message' '\"hi\"'"
wait -n "${pids[@]}"
