#!/usr/bin/env bash
# Voluntary context switches and CPU time of every thread of the given
# processes over a window, from /proc: where the wake-ups of a load go.
#   tests/bench/context_switches.sh SECONDS PID...
# Start it while a load runs (e.g. roomq-loadgen --scenario rooms against a
# gateway and broker); divide by the messages of the window for a per-message
# figure (tests/bench/README.md, "Profile: rooms of 10").
set -euo pipefail
window=$1; shift
snapshot() {
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*; do
      [ -r "$task/status" ] || continue
      printf '%s %s %s %s\n' "$pid" "${task##*/}" \
        "$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status")" \
        "$(awk '{print $14 + $15}' "$task/stat")"
    done
  done
}
before=$(snapshot "$@")
sleep "$window"
after=$(snapshot "$@")
ticks=$(getconf CLK_TCK)
printf '%-8s %-8s %-16s %10s %10s\n' pid tid thread switches cpu_ms
join -j1 <(awk '{print $1 "/" $2, $3, $4}' <<<"$before" | sort) \
  <(awk '{print $1 "/" $2, $3, $4}' <<<"$after" | sort) |
  while read -r key s1 c1 s2 c2; do
    pid=${key%/*}; tid=${key#*/}
    name=$(cat /proc/"$pid"/task/"$tid"/comm 2>/dev/null || echo '?')
    printf '%-8s %-8s %-16s %10d %10d\n' "$pid" "$tid" "$name" $((s2 - s1)) $(((c2 - c1) * 1000 / ticks))
  done
