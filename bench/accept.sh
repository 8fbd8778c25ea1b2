#!/usr/bin/env bash
# bench/accept.sh - accept rate of Postern and of Postfix with 1, 20 and 100 sessions and
# 2 KB and 100 KB messages, side by side in alternating rounds.
#
# The mail is relayed (not held) to smtp-sink over SMTP by both MTAs; the accept rate is
# MESSAGES / the time until smtp-source has its last 250. Each round then waits until the
# MTA has delivered everything, so that a round never competes with the previous one's
# deliveries; the relay rate and the CPU per message of that round are printed too.
# The ceiling is smtp-source straight to smtp-sink with the same sessions and size.
#
# Usage: [DB=h2|postgresql] [ROUNDS=3] [WARMUP=200] [SESSIONS_LIST="1 20 100"] [SIZES="2048 102400"]
#        [WILDFLY=DIR] [EAR=FILE] bench/accept.sh [MESSAGES=1000]
. "$(dirname "$0")/lib.sh"
MESSAGES=${1:-1000}
SESSIONS_LIST=${SESSIONS_LIST:-1 20 100}
SIZES=${SIZES:-2048 102400}
bench_init "$@"
echo "load: $MESSAGES messages per round for each of sessions {$SESSIONS_LIST} x size {$SIZES}; mail relayed to smtp-sink (not held)"

sinks_start
mtas_start "$ROUTES"
warm_up

declare -A acc rel cpu
for size in $SIZES; do
  for s in $SESSIONS_LIST; do
    for r in $(seq 1 "$ROUNDS"); do
      for mta in postern postfix; do
        relay_round $mta "$MESSAGES" "$s" "$size"
        printf 'round %d %-7s sessions %3d size %6d  accept %5s msg/s  (relay %5s msg/s, cpu %6s ms/msg)\n' \
          "$r" $mta "$s" "$size" "$ACCEPT" "$RELAY" "$CPU"
        acc[$mta.$s.$size]+=" $ACCEPT"; rel[$mta.$s.$size]+=" $RELAY"; cpu[$mta.$s.$size]+=" $CPU"
      done
    done
  done
done

echo
echo "accept rate, medians over $ROUNDS rounds of $MESSAGES messages (msg/s; Postern on $DB):"
printf '%8s %6s %8s %8s %6s %8s %10s %10s\n' sessions size postern postfix ratio ceiling 'cpu postern' 'cpu postfix'
for size in $SIZES; do
  for s in $SESSIONS_LIST; do
    a=$(median ${acc[postern.$s.$size]}); b=$(median ${acc[postfix.$s.$size]})
    printf '%8d %6d %8s %8s %6s %8s %10s %10s\n' "$s" "$size" "$a" "$b" "$(ratio "$a" "$b")" \
      "$(ceiling "$s" "$MESSAGES" "$size")" "$(median ${cpu[postern.$s.$size]})" "$(median ${cpu[postfix.$s.$size]})"
  done
done
echo "(ratio = Postern/Postfix, above 1 Postern is faster; cpu in ms per message, accept to last delivery)"
