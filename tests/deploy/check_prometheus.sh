#!/usr/bin/env bash
# The Prometheus setup in deploy/prometheus/, statically: the rules name only
# metrics the binaries register (prometheus_metric_names.js), and, with
# Debian's promtool, the config and the rules load and the rules' unit tests
# (rules_test.yml) pass.
#
# Without promtool (Debian's prometheus package: deploy/install-deps.sh
# --test) it skips (exit 77) after the metric name check, unless CI=true,
# where a missing tool must not pass as a skipped test.
set -euo pipefail
cd "$(dirname "$0")/../.."
node tests/deploy/prometheus_metric_names.js

if ! command -v promtool >/dev/null; then
  if [[ "${CI:-}" == true ]]; then
    echo "check_prometheus: promtool not found (CI=true: failing; deploy/install-deps.sh --test installs it)"
    exit 1
  fi
  echo "check_prometheus: SKIPPED: promtool not found (apt-get install prometheus, or deploy/install-deps.sh --test)"
  exit 77
fi
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/rules.yml
promtool test rules deploy/prometheus/rules_test.yml
