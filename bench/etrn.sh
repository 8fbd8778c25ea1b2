#!/usr/bin/env bash
# bench/etrn.sh - ETRN drain: COUNT deferred messages released by one `ETRN later.test`,
# Postern and Postfix side by side in alternating rounds.
#
# As in Postfix's ETRN howto: later.test is in relay_domains (so in fast_flush_domains)
# and its transport etrn-only (master.cf: etrn-only unix - - n - - smtp, next hop the
# smtp-sink) is in defer_transports, so mail for it is deferred ("deferred transport")
# until someone flushes. A round sends COUNT messages with smtp-source (20 sessions,
# 2 KB), waits until the mail log shows all of them deferred, then sends `ETRN later.test`
# and times until the log shows all of them sent. Printed per round: the injection rate,
# the drain time and rate, the MTA's CPU per drained message.
#
# Usage: [DB=h2|postgresql] [ROUNDS=3] [WILDFLY=DIR] [EAR=FILE] bench/etrn.sh [COUNT=10000]
. "$(dirname "$0")/lib.sh"
COUNT=${1:-10000}
WARMUP=0
bench_init "$@"
echo "load: $COUNT messages of 2048 bytes to later.test per round (20 sessions), deferred by defer_transports, then ETRN later.test"

sinks_start
mtas_start "relay_domains = later.test
defer_transports = etrn-only
transport_maps = inline:{later.test=etrn-only:[127.0.0.1]:$SINK_PORT}" \
  "etrn-only unix - - n - - smtp" "etrn-only unix - - n - - smtp"

# etrn PORT DOMAIN - the server's reply to ETRN DOMAIN
etrn() {
  python3 - "$1" "$2" <<'PY'
import smtplib, sys
c = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)
c.ehlo('bench.test')
code, msg = c.docmd('ETRN', sys.argv[2])
print(code, msg.decode())
c.quit()
PY
}

declare -A inj drain cpu
for r in $(seq 1 "$ROUNDS"); do
  for mta in postern postfix; do
    logf=$(mta_log $mta)
    d0=$(count_in "$logf" 'status=deferred'); s0=$(count_in "$logf" 'status=sent')
    t0=$(now)
    smtp-source -s 20 -m "$COUNT" -l 2048 -f bench@example.org -t customer@later.test 127.0.0.1:"$(mta_port $mta)"
    ti=$(elapsed "$t0")
    wait_count "$logf" 'status=deferred' $((d0 + COUNT)) $((120 + COUNT / 5))
    [ "$(count_in "$logf" 'status=sent')" -eq "$s0" ] || die "$mta delivered later.test mail before ETRN"
    c0=$(cpu_ms $mta); t0=$(now)
    reply=$(etrn "$(mta_port $mta)" later.test)
    wait_count "$logf" 'status=sent' $((s0 + COUNT)) $((120 + COUNT / 5))
    td=$(elapsed "$t0")
    c=$(awk -v a="$c0" -v b="$(cpu_ms $mta)" -v n="$COUNT" 'BEGIN { printf "%.2f", (b - a) / n }')
    printf 'round %d %-7s inject %5s msg/s  ETRN reply "%s"  drain %7.2f s = %5s msg/s  cpu %6s ms/msg\n' \
      "$r" $mta "$(rate "$COUNT" "$ti")" "$reply" "$td" "$(rate "$COUNT" "$td")" "$c"
    inj[$mta]+=" $(rate "$COUNT" "$ti")"; drain[$mta]+=" $td"; cpu[$mta]+=" $c"
  done
done

echo
echo "ETRN drain of $COUNT messages, medians over $ROUNDS rounds (Postern on $DB):"
printf '%-8s %12s %10s %12s %12s\n' mta 'inject msg/s' 'drain s' 'drain msg/s' 'cpu ms/msg'
for mta in postern postfix; do
  d=$(median ${drain[$mta]})
  printf '%-8s %12s %10s %12s %12s\n' $mta "$(median ${inj[$mta]})" "$d" "$(rate "$COUNT" "$d")" "$(median ${cpu[$mta]})"
done
printf '%-8s %12s %10s %12s %12s\n' ratio "$(ratio "$(median ${inj[postern]})" "$(median ${inj[postfix]})")" \
  "$(ratio "$(median ${drain[postern]})" "$(median ${drain[postfix]})")" \
  "$(ratio "$(median ${drain[postfix]})" "$(median ${drain[postern]})")" \
  "$(ratio "$(median ${cpu[postern]})" "$(median ${cpu[postfix]})")"
echo "ceiling: $(ceiling 20 "$COUNT" 2048) msg/s (smtp-source straight to smtp-sink, 20 sessions)"
echo "(ratio = Postern/Postfix; for drain s below 1 and for drain msg/s above 1 Postern is faster)"
