#!/bin/bash
# The compose stack's entrypoint: CURVE keys on first start, then the
# process with its key flags.
#
#   curve-entry.sh broker BINARY [ARGS...]   a broker (both of a failover pair)
#   curve-entry.sh NAME   BINARY [ARGS...]   a node (gateway, service)
#
# Each container mounts two volumes:
#   /keys/own      its own, mounted by no one else (but the other broker of
#                  the pair): NAME.key (secret, 0600) and NAME.pub, made by
#                  `roomq keygen` when NAME.key is missing (the first start;
#                  after a rotation)
#   /keys/public   shared, public keys only: broker.pub, and nodes/NAME.pub
#                  for every node, which is the broker's --curve-clients dir
# So a node holds its own secret key and the broker's public key, the broker
# its own secret key and the nodes' public keys, and no secret key leaves the
# volume it was made in.
#
# The broker reads its client keys once, at start: it waits until every node
# named in ROOMQ_CURVE_NODES has published its key. A node waits for
# broker.pub. Each publishes its own key before it waits, so the first start
# needs no ordering. Gives up (exit 1; the restart policy tries again) after
# ROOMQ_CURVE_WAIT_S seconds (default 120).
set -euo pipefail

name=$1
binary=$2
shift 2
own=/keys/own
public=/keys/public
wait_s=${ROOMQ_CURVE_WAIT_S:-120}

umask 077
# The two brokers of a failover pair share one /keys/own (one key pair for
# both): the first to start makes it, the other waits on the lock and
# finds it.
exec 9>"$own/.keygen.lock"
flock 9
if [[ ! -s "$own/$name.key" ]]; then
  # A pair cut short by a crash during the first start is made again.
  rm -f "$own/$name.key" "$own/$name.pub"
  /opt/roomq/bin/roomq keygen "$own/$name" >/dev/null
  echo "curve-entry: made a new key pair for $name" >&2
fi
flock -u 9
exec 9>&-

# Published by rename, so a reader never sees half a key.
publish() {
  local target=$1
  mkdir -p "$(dirname "$target")"
  cp "$own/$name.pub" "$target.tmp"
  chmod 0644 "$target.tmp"
  mv -f "$target.tmp" "$target"
}

wait_for() {
  local deadline=$((SECONDS + wait_s)) file
  for file in "$@"; do
    until [[ -s "$file" ]]; do
      if ((SECONDS >= deadline)); then
        echo "curve-entry: $name: no $file after ${wait_s} s" >&2
        exit 1
      fi
      sleep 0.2
    done
  done
}

if [[ "$name" == broker ]]; then
  publish "$public/broker.pub"
  mkdir -p "$public/nodes"
  expected=()
  for node in ${ROOMQ_CURVE_NODES:-}; do expected+=("$public/nodes/$node.pub"); done
  wait_for "${expected[@]}"
  exec "$binary" "$@" --curve-secret-key "$own/$name.key" --curve-clients "$public/nodes"
fi

publish "$public/nodes/$name.pub"
wait_for "$public/broker.pub"
exec "$binary" "$@" --curve-server-key "$public/broker.pub" --curve-secret-key "$own/$name.key"
