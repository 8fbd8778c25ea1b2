#!/usr/bin/env bash
# bench/latency.sh - end-to-end latency, p50 and p99, of Postern and Postfix at a fixed
# offered load: 25, 50 and 75% of Postfix's maximum relay rate, measured first in the
# same run (smtp-source, 20 sessions, 2 KB, relayed to smtp-sink).
#
# bench/latency.py sends at a fixed rate over up to 20 reused sessions, stamping each
# message with its scheduled send time (X-Bench-Sent); both MTAs relay lat.test over SMTP
# to latency.py's sink, which records arrival minus stamp. A round offers the load for
# SECONDS, then waits until the sink has every message; rounds alternate Postern, Postfix.
# When an MTA cannot keep up with the offered rate its queue grows and so does its latency:
# the "sink msg/s" column (messages / time until the last arrived) shows it.
#
# Usage: [DB=h2|postgresql] [ROUNDS=3] [WARMUP=200] [LOADS="25 50 75"] [WILDFLY=DIR] [EAR=FILE]
#        bench/latency.sh [SECONDS=10] [MAX_MESSAGES=2000]
. "$(dirname "$0")/lib.sh"
SECONDS_PER_ROUND=${1:-10}
MAX_MESSAGES=${2:-2000}
LOADS=${LOADS:-25 50 75}
bench_init "$@"
echo "load: $LOADS % of Postfix's maximum (measured with $MAX_MESSAGES messages), ${SECONDS_PER_ROUND} s per round, 2 KB, up to 20 sessions"

sinks_start
lat=$WORK/latencies.txt; : > "$lat"
bg python3 "$BENCH_TOP/bench/latency.py" sink $PYSINK_PORT "$lat"
wait_port $PYSINK_PORT 10 || die "latency sink did not start"
mtas_start "transport_maps = inline:{smtp.test=smtp:[127.0.0.1]:$SINK_PORT, lat.test=smtp:[127.0.0.1]:$PYSINK_PORT}"
warm_up

relay_round postfix "$MAX_MESSAGES" 20 2048
MAX=$RELAY
echo "Postfix maximum: relay $MAX msg/s (accept $ACCEPT msg/s), $MAX_MESSAGES messages, 20 sessions, 2 KB"

declare -A p50 p99 thr
for pct in $LOADS; do
  offered=$(awk -v m="$MAX" -v p="$pct" 'BEGIN { printf "%.0f", m * p / 100 }')
  [ "$offered" -ge 1 ] || offered=1
  for r in $(seq 1 "$ROUNDS"); do
    for mta in postern postfix; do
      skip=$(wc -l < "$lat")
      t0=$(now)
      out=$(python3 "$BENCH_TOP/bench/latency.py" send "$(mta_port $mta)" "$offered" "$SECONDS_PER_ROUND" 20 2048 2>>"$WORK/sender.err")
      sent=$(awk '{ print $2 }' <<< "$out")
      n=$(( $(printf '%.0f' "$(awk -v r="$offered" -v s="$SECONDS_PER_ROUND" 'BEGIN { print r * s }')") ))
      wait_count "$lat" . $((skip + sent)) $((120 + n / 5)) || true
      through=$(rate "$(( $(wc -l < "$lat") - skip ))" "$(elapsed "$t0")")
      st=$(python3 "$BENCH_TOP/bench/latency.py" stats "$lat" "$skip")
      printf 'round %d %-7s offered %4s msg/s (%s%%)  %s  | %s ms  sink %s msg/s\n' "$r" $mta "$offered" "$pct" "$out" "$st" "$through"
      p50[$mta.$pct]+=" $(awk '{ print $4 }' <<< "$st")"; p99[$mta.$pct]+=" $(awk '{ print $6 }' <<< "$st")"
      thr[$mta.$pct]+=" $through"
    done
  done
done

echo
echo "latency in ms, medians over $ROUNDS rounds of ${SECONDS_PER_ROUND} s (Postfix maximum $MAX msg/s; Postern on $DB):"
printf '%5s %8s %12s %12s %12s %12s %11s %11s\n' load offered 'postern p50' 'postfix p50' 'postern p99' 'postfix p99' 'ratio p50' 'ratio p99'
for pct in $LOADS; do
  a=$(median ${p50[postern.$pct]}); b=$(median ${p50[postfix.$pct]})
  c=$(median ${p99[postern.$pct]}); d=$(median ${p99[postfix.$pct]})
  printf '%4s%% %8s %12s %12s %12s %12s %11s %11s\n' "$pct" "$(awk -v m="$MAX" -v p="$pct" 'BEGIN { printf "%.0f", m * p / 100 }')" \
    "$a" "$b" "$c" "$d" "$(ratio "$a" "$b")" "$(ratio "$c" "$d")"
done
echo "(ratio = Postern/Postfix: below 1 Postern is faster)"
echo "ceiling: $(ceiling 20 "$MAX_MESSAGES" 2048) msg/s (smtp-source straight to smtp-sink, 20 sessions)"
