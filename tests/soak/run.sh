#!/bin/sh
# The soak test: 60 s of connect/disconnect churn plus steady
# traffic against roomq-broker + roomq-gateway, then a leak verdict
# (README.md here). Not part of tests/run-all.sh.
#
#   tests/soak/run.sh                       # build/bin, 60 s
#   ROOMQ_BIN_DIR=/path/bin tests/soak/run.sh --duration-s 120 --clients 500
#
# Exit 0 = no leak, 1 = leak (or the run failed), 2 = usage.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/../e2e/node_modules/socket.io-client" ]; then
  (cd "$here/../e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node "$here/soak.js" "$@"
