#!/usr/bin/env bash
# roomq vs Socket.IO, side by side, same machine, same run, same client load.
# NOT part of the test suite (the smoke variant is: ctest -L smoke).
#
#   tests/bench/run.sh            # full run: 3 rounds, ~15 minutes here
#   BENCH_ROUNDS=1 BENCH_SCALE=0.1 tests/bench/run.sh   # a quick look
#
# For every scenario it starts a fresh server, runs roomq-loadgen against it
# with --server-pid set to the server's processes, stops it, and then does
# the same for the other server: roomq (roomq-broker + roomq-gateway, both
# PIDs counted) and the Socket.IO reference (node tests/e2e/reference/
# server.js, npm socket.io 4.8.x, one process). The order alternates from
# scenario to scenario and from round to round; every scenario runs
# BENCH_ROUNDS times (default 3) and the report gives medians with their
# range, since one run on a shared machine is noise. Results: tests/bench/results/results.md (table with
# every figure and the roomq/Socket.IO ratio), results.png (gnuplot chart),
# raw.jsonl (one loadgen JSON line per run).
#
# Environment: BENCH_BUILD_DIR (default <repo>/build-bench), BENCH_RESULTS
# (default tests/bench/results), BENCH_SCALE (client counts multiplier,
# default 1), BENCH_ROUNDS (default 3), BENCH_SKIP_BUILD (1: use the
# binaries already in BENCH_BUILD_DIR), BENCH_CASES (the cases to run,
# space-separated, e.g. "idle_10k held_15k"; default all), BENCH_BROKER (a roomq-broker binary
# to use instead of the build dir's), BENCH_THREADS (gateway io threads, default 2), BENCH_LOG_DIR
# (server logs, default $BENCH_RESULTS/logs, not committed), BENCH_WRITE_DELAYS (the
# gateway's --write-delay-ms values also run in steady_50 and latency_100, as targets
# roomq_wdN; default "5 10 20"; empty: none), BENCH_CAPACITY_RATES (the rates, msg/s
# into 1000 members, the capacity case tries in turn; default "10 20 40 80 160 320 640 1280 2560"),
# BENCH_CAPACITY_ROOM_RATES (the same for capacity_rooms, msg/s over 1,000 rooms of 10;
# default "250 500 1000 2000 4000 8000 16000").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
RESULTS=${BENCH_RESULTS:-$ROOT/tests/bench/results}
SCALE=${BENCH_SCALE:-1}
ROUNDS=${BENCH_ROUNDS:-3}
ROUND=1
THREADS=${BENCH_THREADS:-2}
LOGS=${BENCH_LOG_DIR:-$RESULTS/logs}
PING_MS=5000        # both servers: heartbeats actually happen in a short run
PING_TIMEOUT_MS=20000

log() { echo "[bench] $*" >&2; }
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s); if (v < 1) v = 1; print v }'; }

# --- what the run needs -------------------------------------------------------
if ! command -v gnuplot >/dev/null; then
  log "installing gnuplot (Debian gnuplot-nox) for the chart"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y gnuplot-nox >/dev/null || log "gnuplot unavailable: no chart"
fi
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
  log "using the binaries in $BUILD/bin as they are (BENCH_SKIP_BUILD=1)"
else
  log "building roomq-broker roomq-gateway roomq-loadgen roomq-bench-floor in $BUILD"
  [ -f "$BUILD/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target roomq-broker roomq-gateway roomq-loadgen roomq-bench-floor -j2 >/dev/null
fi
[ -d "$ROOT/tests/e2e/node_modules/socket.io" ] || (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund >/dev/null)
BIN=$BUILD/bin
BROKER_BIN=${BENCH_BROKER:-$BIN/roomq-broker}
mkdir -p "$RESULTS" "$LOGS"
RAW=$RESULTS/raw.jsonl
: >"$RAW"
ulimit -n "$(ulimit -Hn)"

# --- servers --------------------------------------------------------------------
SERVER_PIDS=()
PORT=""

# wait_line FILE REGEX SECONDS: prints the first match, fails at the deadline.
wait_line() {
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if grep -Eo "$2" "$1" 2>/dev/null | head -1 | grep .; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for /$2/ in $1"; return 1
}

# start_roomq NAME [GATEWAY-FLAGS...]
start_roomq() {
  local name=$1; shift
  "$BROKER_BIN" --pub-bind 'tcp://127.0.0.1:*' --sub-bind 'tcp://127.0.0.1:*' \
    >"$LOGS/$name.broker.log" 2>&1 &
  local broker=$!
  local line pub sub
  line=$(wait_line "$LOGS/$name.broker.log" 'listening pub=[^ ]+ sub=[^ ]+' 10)
  pub=$(sed -E 's/.*pub=([^ ]+).*/\1/' <<<"$line")
  sub=$(sed -E 's/.*sub=([^ ]+).*/\1/' <<<"$line")
  # Every loadgen client is 127.0.0.1 and stands for another user: the
  # per-address limits (handshakes, sessions) are off. A loadgen publisher
  # stands for many users too: the per-socket --message-rate (1000/s, which
  # the capacity cases pass) is off, as Socket.IO has none.
  "$BIN/roomq-gateway" --listen 127.0.0.1:0 --threads "$THREADS" --broker-pub "$pub" --broker-sub "$sub" \
    --ping-interval-ms $PING_MS --ping-timeout-ms $PING_TIMEOUT_MS --message-rate 0 \
    --handshake-rate 0 --max-sessions-per-address 0 --max-rooms-per-address 0 "$@" \
    >"$LOGS/$name.gateway.log" 2>&1 &
  local gateway=$!
  line=$(wait_line "$LOGS/$name.gateway.log" 'listening on http://[0-9.]+:[0-9]+' 10)
  PORT=${line##*:}
  SERVER_PIDS=("$broker" "$gateway")
}

start_reference() {
  local name=$1
  node "$ROOT/tests/e2e/reference/server.js" --listen 127.0.0.1:0 \
    --ping-interval-ms $PING_MS --ping-timeout-ms $PING_TIMEOUT_MS >"$LOGS/$name.reference.log" 2>&1 &
  SERVER_PIDS=("$!")
  local line
  line=$(wait_line "$LOGS/$name.reference.log" 'listening on http://[0-9.]+:[0-9]+' 10)
  PORT=${line##*:}
}

# The floor of fan-out (floor_server.cc): one write per member per message.
start_floor() {
  "$BIN/roomq-bench-floor" >"$LOGS/$1.floor.log" 2>&1 &
  SERVER_PIDS=("$!")
  local line
  line=$(wait_line "$LOGS/$1.floor.log" 'listening on http://[0-9.]+:[0-9]+' 10)
  PORT=${line##*:}
}

# SIGTERM, then SIGKILL after 10 s: a server that fell far behind (the
# Node reference at 200 msg/s) only sees SIGTERM once its event loop has
# drained the backlog, which can take minutes and measures nothing.
stop_servers() {
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 10))
  for pid in "${SERVER_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
trap stop_servers EXIT

# run_one TARGET SCENARIO LOADGEN-ARGS...: one server, one loadgen run, one
# JSON line (tagged with target and scenario) appended to raw.jsonl.
run_one() {
  local target=$1 scenario=$2; shift 2
  local name="$scenario.$target.r$ROUND"
  case $target in
    roomq) start_roomq "$name" ;;
    roomq_wd*) start_roomq "$name" --write-delay-ms "${target#roomq_wd}" ;;
    floor) start_floor "$name" ;;
    *) start_reference "$name" ;;
  esac
  sleep 1  # let the server finish starting (JIT, allocator) before the RSS baseline
  local pid_args=()
  for pid in "${SERVER_PIDS[@]}"; do pid_args+=(--server-pid "$pid"); done
  log "round $ROUND/$ROUNDS: $scenario on $target (port $PORT): roomq-loadgen $*"
  local out
  if out=$("$BIN/roomq-loadgen" --port "$PORT" "${pid_args[@]}" "$@" 2>"$LOGS/$name.loadgen.log"); then
    echo "$out" | sed '$d' >&2
    echo "$out" | tail -1 |
      sed "s/^{/{\"target\":\"$target\",\"case\":\"$scenario\",\"round\":$ROUND,/" >>"$RAW"
  else
    log "loadgen failed on $target: $(tail -3 "$LOGS/$name.loadgen.log")"
  fi
  stop_servers
}

ORDER_FLIP=0
# both SCENARIO ARGS...: roomq and the reference (and, for the one-room
# fan-out cases, the floor), the order rotating from call to call.
both() {
  local scenario=$1; shift
  if [ -n "${BENCH_CASES:-}" ] && [[ " $BENCH_CASES " != *" $scenario "* ]]; then return; fi
  local targets=(roomq socketio)
  case $scenario in fanout_cpu | latency_100 | steady_50) targets+=(floor) ;; esac
  case $scenario in latency_100 | steady_50)
    for delay in ${BENCH_WRITE_DELAYS-5 10 20}; do targets+=("roomq_wd$delay"); done ;;
  esac
  local n=${#targets[@]} i
  for ((i = 0; i < n; i++)); do
    run_one "${targets[$(((i + ORDER_FLIP) % n))]}" "$scenario" "$@"
  done
  ORDER_FLIP=$((1 - ORDER_FLIP))
}

# sustained TARGET CASE: the last run recorded is TARGET's CASE with p99 <= 50 ms,
# nothing lost and no publish skipped (loadgen skips, rather than delays, a
# publish the server pushes back on; a skipped one is not counted as lost).
sustained() {
  [ -s "$RAW" ] || return 1
  tail -1 "$RAW" | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.exit(r.target === process.argv[1] && r.case === process.argv[2] &&
                 r.p99_us <= 50000 && r.lost === 0 && r.publish_skipped === 0 &&
                 r.ready === r.connections ? 0 : 1);' "$1" "$2"
}

# capacity CASE SCENARIO-ARGS...: the largest steady rate a server sustains
# (p99 <= 50 ms, nothing lost), trying the rates of $CAPACITY_RATES in turn
# until a run fails; report.js divides that run's deliveries by its server CPU.
# Runs are named CASE_RATE.
capacity() {
  local case_name=$1; shift
  if [ -n "${BENCH_CASES:-}" ] && [[ " $BENCH_CASES " != *" $case_name "* ]]; then return; fi
  local targets=(roomq socketio) target rate
  ((ORDER_FLIP)) && targets=(socketio roomq)
  for target in "${targets[@]}"; do
    for rate in $CAPACITY_RATES; do
      run_one "$target" "${case_name}_$rate" "$@" --rate "$rate" --duration-s 10 --drain-s 2
      sustained "$target" "${case_name}_$rate" || break
    done
  done
  ORDER_FLIP=$((1 - ORDER_FLIP))
}

# spread_50k: 50,000 idle connections with heartbeats over three gateways and one
# broker, one loadgen per gateway (a process may hold 20,000 files here; the
# kernel shares ephemeral ports between the three destination ports). roomq
# only: the Socket.IO reference is one process and cannot hold them. Each
# gateway's RSS growth is its loadgen's server_rss_per_conn (target roomq_gwN).
spread_50k() {
  if [ -n "${BENCH_CASES:-}" ] && [[ " $BENCH_CASES " != *" held_50k_3gw "* ]]; then return; fi
  local name="held_50k_3gw.r$ROUND" per_gateway i
  per_gateway=$(scaled 16667)
  start_roomq "$name.gw1"
  local broker_pub broker_sub
  broker_pub=$(grep -Eo 'pub=[^ ]+' "$LOGS/$name.gw1.broker.log" | head -1 | cut -d= -f2)
  broker_sub=$(grep -Eo 'sub=[^ ]+' "$LOGS/$name.gw1.broker.log" | head -1 | cut -d= -f2)
  local ports=("$PORT") gateways=("${SERVER_PIDS[1]}") line
  for i in 2 3; do
    "$BIN/roomq-gateway" --listen 127.0.0.1:0 --threads "$THREADS" --broker-pub "$broker_pub" \
      --broker-sub "$broker_sub" --ping-interval-ms $PING_MS --ping-timeout-ms $PING_TIMEOUT_MS \
      --handshake-rate 0 --max-sessions-per-address 0 --max-rooms-per-address 0 \
      >"$LOGS/$name.gw$i.gateway.log" 2>&1 &
    SERVER_PIDS+=("$!")
    gateways+=("$!")
    line=$(wait_line "$LOGS/$name.gw$i.gateway.log" 'listening on http://[0-9.]+:[0-9]+' 10)
    ports+=("${line##*:}")
  done
  sleep 1
  log "round $ROUND/$ROUNDS: held_50k_3gw: 3 x $per_gateway connections (ports ${ports[*]})"
  local outs=() loadgens=()
  for i in 0 1 2; do
    outs+=("$LOGS/$name.gw$((i + 1)).out")
    "$BIN/roomq-loadgen" --port "${ports[$i]}" --server-pid "${gateways[$i]}" --scenario idle \
      --receivers "$per_gateway" --duration-s 60 --json-only \
      >"${outs[$i]}" 2>"$LOGS/$name.gw$((i + 1)).loadgen.log" &
    loadgens+=("$!")
  done
  for i in 0 1 2; do
    if wait "${loadgens[$i]}"; then
      tail -1 "${outs[$i]}" |
        sed "s/^{/{\"target\":\"roomq_gw$((i + 1))\",\"case\":\"held_50k_3gw\",\"round\":$ROUND,/" >>"$RAW"
    else
      log "loadgen for gateway $((i + 1)) failed: $(tail -3 "$LOGS/$name.gw$((i + 1)).loadgen.log")"
    fi
  done
  stop_servers
}

# --- scenarios (targets: README.md here) ----------------------------------------------
R1000=$(scaled 1000)
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  both fanout_cpu   --scenario fanout --receivers "$R1000" --publishers 1 --rate 200 --duration-s 10 --drain-s 5
  both latency_100  --scenario fanout --receivers "$R1000" --publishers 1 --rate 100 --duration-s 10 --drain-s 5
  both steady_50    --scenario fanout --receivers "$R1000" --publishers 1 --rate 50 --duration-s 10 --drain-s 5
  both rooms        --scenario rooms --receivers "$(scaled 2000)" --room-size 10 --publishers 2 --rate 500 \
                    --duration-s 10 --drain-s 5
  both idle_10k     --scenario idle --receivers "$(scaled 10000)" --duration-s 5
  both held_15k     --scenario idle --receivers "$(scaled 15000)" --duration-s 20
  CAPACITY_RATES=${BENCH_CAPACITY_RATES:-10 20 40 80 160 320 640 1280 2560}
  capacity capacity --scenario fanout --receivers "$R1000" --publishers 1
  CAPACITY_RATES=${BENCH_CAPACITY_ROOM_RATES:-250 500 1000 2000 4000 8000 16000}
  capacity capacity_rooms --scenario rooms --receivers "$(scaled 10000)" --room-size 10 --publishers 2
  spread_50k
  # The next round starts with the other server first, so every scenario
  # alternates across rounds whatever the number of scenarios.
  ORDER_FLIP=$((ROUND % 2))
done

# --- report ---------------------------------------------------------------------
node "$ROOT/tests/bench/report.js" "$RAW" "$RESULTS" "$SCALE"
if command -v gnuplot >/dev/null; then
  gnuplot "$RESULTS/chart.gp" && log "chart: $RESULTS/results.png"
fi
log "table: $RESULTS/results.md"
