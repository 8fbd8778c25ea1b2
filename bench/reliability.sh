#!/usr/bin/env bash
# bench/reliability.sh [--report] - the reliability suite of issue 13 (hostile input and
# failures) and its table.
#
#   bench/reliability.sh           runs the suite through test.sh (which installs the peers):
#                                  the unit and real-peer tests and the integration tests of
#                                  bench/reliability_report.py's AREAS, then the fuzzing
#                                  (bench/fuzz.sh), then prints the table
#   bench/reliability.sh --report  prints the table from the reports the last run left
#                                  (test.sh does this after the whole suite)
#
# The table: per area the cases tried, passed, failed, skipped; the acknowledged messages
# of the kill -9 and outage runs, how many were lost (must be 0) and delivered twice; the
# fuzzing executions and crashes. Exit status 1 when any of those is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--report" ]; then
  units=$(python3 - <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("r", "bench/reliability_report.py")
r = importlib.util.module_from_spec(spec); spec.loader.exec_module(r)
names = [n for _, ns in r.AREAS for n in ns]
print(",".join(n for n in names if not n.endswith("IT")))
print(",".join(n for n in names if n.endswith("IT")))
PY
)
  unit=$(echo "$units" | sed -n 1p)
  it=$(echo "$units" | sed -n 2p)
  # stale reports of an earlier run must not count
  rm -rf ./*/target/surefire-reports ear/target/failsafe-reports target/fuzz/summary.txt
  status=0
  ./test.sh -Dtest="$unit" -Dit.test="$it" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dfailsafe.failIfNoSpecifiedTests=false || status=$?
  echo
  python3 bench/reliability_report.py || status=$?
  exit "$status"
fi
exec python3 bench/reliability_report.py "${@:2}"
