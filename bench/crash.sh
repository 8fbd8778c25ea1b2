#!/usr/bin/env bash
# bench/crash.sh [TIMES] - kill -9 under load, TIMES times in a row (5), on H2 and on
# PostgreSQL: each time CrashIT and PostgresCrashIT start a server of their own, load it
# with four clients, kill -9 its JVM when half of the messages are acknowledged, restart
# it on the same data and count at the sink every message that got a 250. Prints, per run
# and database, acknowledged / arrived / lost / delivered twice. A lost message fails the
# run (the test asserts it). Needs a build (mvn -B -DskipTests install) and PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
TIMES=${1:-5}
echo "== crash: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $TIMES runs; machine: $(nproc) cpus, kernel $(uname -r)"
for i in $(seq 1 "$TIMES"); do
  out=$(mvn -B -o -pl ear verify -Dit.test='CrashIT,PostgresCrashIT' -Dsurefire.skip=true 2>&1) \
    || { echo "$out" | tail -40; echo "run $i: FAILED"; exit 1; }
  grep -h "^CrashIT (" ear/target/failsafe-reports/*-output.txt | sed "s/^/run $i: /"
done
