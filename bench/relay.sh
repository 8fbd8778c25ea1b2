#!/usr/bin/env bash
# bench/relay.sh - relay end to end through Postern and through Postfix, side by side.
#
# Both MTAs get the same main.cf values and relay to the same sinks: sink@smtp.test goes
# over SMTP to smtp-sink, sink@lmtp.test over LMTP to smtp-sink -L (transport_maps,
# lmtp:inet:127.0.0.1:PORT). Postfix's smtp-source sends MESSAGES messages of SIZE bytes
# over SESSIONS sessions, in alternating rounds (Postern, Postfix, Postern, ...). Per round:
# the accept rate (msg/s until smtp-source has its last 250), the relay rate (msg/s until
# the MTA's mail log shows the last status=sent) and the MTA's CPU per relayed message (ms,
# from /proc/PID/stat: the WildFly JVM; Postfix's master with all its children). Then
# medians, ratios Postern/Postfix, and the ceiling (smtp-source straight to smtp-sink).
# Both are durable: Postfix fsyncs each queue file; Postern's queue is on H2 or, with
# DB=postgresql, on a private PostgreSQL 15 cluster (synchronous_commit on).
#
# Usage: [DB=h2|postgresql] [ROUNDS=3] [WARMUP=200] [PROTOS="smtp lmtp"] [WILDFLY=DIR] [EAR=FILE]
#        bench/relay.sh [MESSAGES=2000] [SESSIONS=20] [SIZE=2048]
. "$(dirname "$0")/lib.sh"
MESSAGES=${1:-2000}
SESSIONS=${2:-20}
SIZE=${3:-2048}
PROTOS=${PROTOS:-smtp lmtp}
bench_init "$@"
echo "load: $MESSAGES messages of $SIZE bytes over $SESSIONS sessions per round, relayed to smtp-sink (SMTP) / smtp-sink -L (LMTP)"

sinks_start
mtas_start "$ROUTES"
warm_up

declare -A acc rel cpu
for proto in $PROTOS; do
  for r in $(seq 1 "$ROUNDS"); do
    for mta in postern postfix; do
      relay_round $mta "$MESSAGES" "$SESSIONS" "$SIZE" "sink@$proto.test"
      printf 'round %d %-7s %-4s accept %5s msg/s  relay %5s msg/s  cpu %6s ms/msg\n' "$r" $mta $proto "$ACCEPT" "$RELAY" "$CPU"
      acc[$mta.$proto]+=" $ACCEPT"; rel[$mta.$proto]+=" $RELAY"; cpu[$mta.$proto]+=" $CPU"
    done
  done
done

echo
echo "medians over $ROUNDS rounds ($MESSAGES x $SIZE bytes, $SESSIONS sessions; Postern on $DB):"
printf '%-5s %-8s %8s %8s %10s\n' proto mta accept relay 'cpu ms/msg'
for proto in $PROTOS; do
  for mta in postern postfix; do
    printf '%-5s %-8s %8s %8s %10s\n' $proto $mta "$(median ${acc[$mta.$proto]})" "$(median ${rel[$mta.$proto]})" "$(median ${cpu[$mta.$proto]})"
  done
  printf '%-5s %-8s %8s %8s %10s\n' $proto ratio \
    "$(ratio "$(median ${acc[postern.$proto]})" "$(median ${acc[postfix.$proto]})")" \
    "$(ratio "$(median ${rel[postern.$proto]})" "$(median ${rel[postfix.$proto]})")" \
    "$(ratio "$(median ${cpu[postern.$proto]})" "$(median ${cpu[postfix.$proto]})")"
  lm=; [ $proto = lmtp ] && lm=-L
  printf '%-5s %-8s %8s   (smtp-source straight to smtp-sink %s)\n' $proto ceiling "$(ceiling "$SESSIONS" "$MESSAGES" "$SIZE" $lm)" "$lm"
done
echo "(rates in msg/s; ratio = Postern/Postfix: above 1 Postern is faster, for cpu below 1 Postern is cheaper)"
