#!/usr/bin/env bash
# bench/profile.sh - where Postern's time goes during a relay run: a JFR recording
# (jcmd JFR.start settings=profile / JFR.dump) of the WildFly JVM while smtp-source sends
# MESSAGES messages over SESSIONS sessions that Postern relays to smtp-sink, then
# `jfr summary` and the hot methods (bench/jfrtop.py: self, total, per package).
# The recording is left in bench/target/profile/postern.jfr (open it with JDK Mission Control).
#
# Usage: [DB=h2|postgresql] [WARMUP=200] [WILDFLY=DIR] [EAR=FILE] bench/profile.sh [MESSAGES=2000] [SESSIONS=20] [SIZE=2048] [TOP=25]
. "$(dirname "$0")/lib.sh"
MESSAGES=${1:-2000}
SESSIONS=${2:-20}
SIZE=${3:-2048}
TOP_N=${4:-25}
bench_init "$@"
echo "load: $MESSAGES messages of $SIZE bytes over $SESSIONS sessions, relayed to smtp-sink; Postern only, under JFR"

sinks_start
postern_config "$ROUTES"
postern_start
if [ "$WARMUP" -gt 0 ]; then relay_round postern "$WARMUP" 20 2048; log "warm-up: relay $RELAY msg/s"; fi
jfr=$WORK/postern.jfr
jcmd "$POSTERN_PID" JFR.start name=bench settings=profile >/dev/null
relay_round postern "$MESSAGES" "$SESSIONS" "$SIZE"
jcmd "$POSTERN_PID" JFR.dump name=bench filename="$jfr" >/dev/null
jcmd "$POSTERN_PID" JFR.stop name=bench >/dev/null
echo "under JFR: accept $ACCEPT msg/s, relay $RELAY msg/s, cpu $CPU ms/msg; recording $jfr"
echo
jfr summary "$jfr" | sed -n '1,/^ *Event Type/p;/ExecutionSample\|GarbageCollection \|JavaMonitorEnter\|ThreadPark\|SocketRead\|FileForce\|FileWrite\|ObjectAllocationSample/p'
echo
python3 "$BENCH_TOP/bench/jfrtop.py" "$jfr" "$TOP_N"
