#!/bin/sh
# nginx resolves upstream host names once, at start, and refuses to start if
# one is unknown. Compose starts the gateways first but does not wait for
# them (and podman-compose ignores depends_on conditions), so wait until
# every upstream name resolves, then run nginx in the foreground.
set -eu
hosts=${ROOMQ_LB_UPSTREAMS:-"gateway1 gateway2"}
deadline=$(( $(date +%s) + ${ROOMQ_LB_WAIT_S:-60} ))
for h in $hosts; do
  until getent hosts "$h" >/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "roomq-lb: upstream $h does not resolve; starting anyway" >&2
      break
    fi
    sleep 0.5
  done
done
exec nginx -g 'daemon off;'
