#!/usr/bin/env bash
# bench/crash.sh [TIMES] - kill -9 under load on H2 and on PostgreSQL, TIMES runs (1) of
# CrashIT and PostgresCrashIT: each run starts a server of its own, loads it with four
# clients and kills its JVM when half of the round's messages are acknowledged, five times
# in a row (each restart also delivers what the rounds before left), then starts it a last
# time and counts at the sink every message that got a 250. Prints, per run and database,
# acknowledged per round / arrived / lost / delivered twice. A lost message fails the run
# (the test asserts it). Needs a build (mvn -B -DskipTests install) and PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
TIMES=${1:-1}
echo "== crash: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $TIMES runs; machine: $(nproc) cpus, kernel $(uname -r)"
for i in $(seq 1 "$TIMES"); do
  out=$(mvn -B -o -pl ear verify -Dit.test='CrashIT,PostgresCrashIT' -Dsurefire.skip=true 2>&1) \
    || { echo "$out" | tail -40; echo "run $i: FAILED"; exit 1; }
  grep -h "^CrashIT (" ear/target/failsafe-reports/*-output.txt | sed "s/^/run $i: /"
done
