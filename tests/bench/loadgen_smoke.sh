#!/usr/bin/env bash
# CTest smoke (label smoke): roomq-broker + roomq-gateway (or, with
# `floor`, roomq-bench-floor) on free loopback ports, roomq-loadgen with 20
# receivers for 2 s. Asserts only that the harness works: clients became
# ready, messages were delivered, the JSON line parses. No timing
# assertions.  Usage: loadgen_smoke.sh BIN_DIR [roomq|floor]
set -euo pipefail
BIN=$1
SERVER=${2:-roomq}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_line() {  # FILE REGEX: first match within 10 s
  for _ in $(seq 100); do
    if grep -Eo "$2" "$1" | head -1 | grep .; then return 0; fi
    sleep 0.1
  done
  echo "no /$2/ in $1:" >&2; cat "$1" >&2; return 1
}

if [ "$SERVER" = floor ]; then
  "$BIN/roomq-bench-floor" >"$WORK/floor.log" 2>&1 &
  PIDS+=($!)
  line=$(wait_line "$WORK/floor.log" 'listening on http://[0-9.]+:[0-9]+')
else
  "$BIN/roomq-broker" --pub-bind 'tcp://127.0.0.1:*' --sub-bind 'tcp://127.0.0.1:*' >"$WORK/broker.log" 2>&1 &
  PIDS+=($!)
  line=$(wait_line "$WORK/broker.log" 'listening pub=[^ ]+ sub=[^ ]+')
  pub=$(sed -E 's/.*pub=([^ ]+).*/\1/' <<<"$line")
  sub=$(sed -E 's/.*sub=([^ ]+).*/\1/' <<<"$line")
  "$BIN/roomq-gateway" --listen 127.0.0.1:0 --threads 1 --broker-pub "$pub" --broker-sub "$sub" \
    --ping-interval-ms 500 >"$WORK/gateway.log" 2>&1 &
  PIDS+=($!)
  line=$(wait_line "$WORK/gateway.log" 'listening on http://[0-9.]+:[0-9]+')
fi
port=${line##*:}
server_pids=()
for pid in "${PIDS[@]}"; do server_pids+=(--server-pid "$pid"); done

json=$("$BIN/roomq-loadgen" --port "$port" --scenario fanout --receivers 20 --publishers 1 --rate 50 \
  --duration-s 2 --drain-s 3 "${server_pids[@]}" --json-only)
echo "$json"
node -e '
  const r = JSON.parse(process.argv[1]);
  const fail = (m) => { console.error("smoke: " + m); process.exit(1); };
  if (r.scenario !== "fanout") fail("scenario " + r.scenario);
  if (r.ready !== 21) fail("ready " + r.ready + " of 21");
  if (!(r.published > 0)) fail("nothing published");
  if (!(r.delivered > 0)) fail("nothing delivered");
  if (!(r.server_rss_held > 0)) fail("no server RSS sampled");
  console.log("smoke: ok, delivered " + r.delivered);
' "$json"
