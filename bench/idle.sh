#!/usr/bin/env bash
# bench/idle.sh - many idle sessions: what each costs Postern's JVM, how fast greetings come
# while 200 clients connect at once, and the accept rate while the idle sessions are held.
#
# A round, per MTA: the accept rate with no idle sessions (smtp-source, 20 sessions, 2 KB,
# relayed to smtp-sink); the memory in use (Postern: heap used after a full GC from
# jcmd GC.heap_info, and the JVM's RSS; Postfix: the PSS of all its processes); then
# bench/idle.py opens IDLE sessions that read the greeting and stay silent; the memory
# again (per idle session: the difference / sessions held); the greeting rate of 200
# clients connecting at once; the accept rate while the idle sessions are held.
# ulimit -n is raised for both MTAs to 65536 or the hard limit. Postfix runs one smtpd process per session
# and its default_process_limit is 100, so Postfix is given min(IDLE, POSTFIX_PROCS - 25)
# idle sessions (25 processes left for the load); POSTFIX_PROCS=N raises its limit (a
# process per session: some MB each). Postern's heap: POSTERN_HEAP (default -Xms64m -Xmx2g).
#
# Usage: [DB=h2|postgresql] [ROUNDS=3] [WARMUP=200] [POSTFIX_PROCS=100] [POSTERN_HEAP=...]
#        [WILDFLY=DIR] [EAR=FILE] bench/idle.sh [IDLE=10000] [MESSAGES=1000]
. "$(dirname "$0")/lib.sh"
IDLE=${1:-10000}
MESSAGES=${2:-1000}
POSTFIX_PROCS=${POSTFIX_PROCS:-100}
POSTERN_HEAP=${POSTERN_HEAP:--Xms64m -Xmx2g}
POSTFIX_EXTRA="default_process_limit = $POSTFIX_PROCS"
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536
ulimit -n $(( hard < 65536 ? hard : 65536 ))   # as high as this process may go
[ "$IDLE" -lt $(( $(ulimit -n) - 1000 )) ] || echo "idle.sh: warning: ulimit -n $(ulimit -n) is tight for $IDLE sessions" >&2
bench_init "$@"
PF_IDLE=$(( IDLE < POSTFIX_PROCS - 25 ? IDLE : POSTFIX_PROCS - 25 ))
echo "load: $IDLE idle sessions on Postern, $PF_IDLE on Postfix (default_process_limit = $POSTFIX_PROCS); \
$MESSAGES messages x 2 KB over 20 sessions relayed to smtp-sink; 200 clients at once for the greeting rate; \
Postern heap $POSTERN_HEAP; ulimit -n $(ulimit -n)"

sinks_start
mtas_start "$ROUTES"
warm_up

# mem_kb MTA - Postern: "heap_used_kB rss_kB" after a full GC; Postfix: "- pss_kB" of all processes
mem_kb() {
  if [ "$1" = postern ]; then
    jcmd "$POSTERN_PID" GC.run >/dev/null; sleep 1
    echo "$(jcmd "$POSTERN_PID" GC.heap_info | grep -m1 -o 'used [0-9]*K' | tr -dc 0-9) \
$(awk '/VmRSS/ { print $2 }' "/proc/$POSTERN_PID/status")"
  else
    local m p t=0
    m=$(postfix_master)
    for p in $m $(pgrep -P "$m"); do
      t=$((t + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
    done
    echo "- $t"
  fi
}
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (a == "-" || n == 0) print "-"; else printf "%.1f", (b - a) / n }'; }

declare -A acc0 acc1 heap rss greet
for r in $(seq 1 "$ROUNDS"); do
  for mta in postern postfix; do
    n=$IDLE; [ $mta = postfix ] && n=$PF_IDLE
    relay_round $mta "$MESSAGES" 20 2048; a0=$ACCEPT
    read -r h0 r0 <<< "$(mem_kb $mta)"
    hold_out=$WORK/hold.$mta.$r
    bg python3 "$BENCH_TOP/bench/idle.py" hold "$(mta_port $mta)" "$n" 120 > "$hold_out"; holder=$BG_PID
    wait_count "$hold_out" held 1 180
    held=$(awk '{ print $4 }' "$hold_out")   # greeted sessions
    read -r h1 r1 <<< "$(mem_kb $mta)"
    g=$(python3 "$BENCH_TOP/bench/idle.py" greet "$(mta_port $mta)" 200)
    relay_round $mta "$MESSAGES" 20 2048; a1=$ACCEPT
    kill $holder; wait $holder 2>/dev/null || true
    hp=$(per "$h0" "$h1" "$held"); rp=$(per "$r0" "$r1" "$held")
    printf 'round %d %-7s accept %5s msg/s idle-free | %s | heap %s kB/session, memory %s kB/session | %s | accept %5s msg/s while held\n' \
      "$r" $mta "$a0" "$(cat "$hold_out")" "$hp" "$rp" "$g" "$a1"
    acc0[$mta]+=" $a0"; acc1[$mta]+=" $a1"; heap[$mta]+=" $hp"; rss[$mta]+=" $rp"
    greet[$mta]+=" $(grep -o '= [0-9]*' <<< "$g" | tr -dc 0-9)"
    sleep 2   # let the server see the held sessions go
  done
done

echo
echo "idle sessions, medians over $ROUNDS rounds (Postern: $IDLE idle, heap $POSTERN_HEAP; Postfix: $PF_IDLE idle, $POSTFIX_PROCS processes; Postern on $DB):"
printf '%-8s %12s %12s %14s %16s %14s\n' mta 'accept idle0' 'accept held' 'heap kB/sess' 'memory kB/sess' 'greetings/s'
for mta in postern postfix; do
  printf '%-8s %12s %12s %14s %16s %14s\n' $mta "$(median ${acc0[$mta]})" "$(median ${acc1[$mta]})" \
    "$(median ${heap[$mta]})" "$(median ${rss[$mta]})" "$(median ${greet[$mta]})"
done
printf '%-8s %12s %12s %14s %16s %14s\n' ratio "$(ratio "$(median ${acc0[postern]})" "$(median ${acc0[postfix]})")" \
  "$(ratio "$(median ${acc1[postern]})" "$(median ${acc1[postfix]})")" - \
  "$(ratio "$(median ${rss[postern]})" "$(median ${rss[postfix]})")" \
  "$(ratio "$(median ${greet[postern]})" "$(median ${greet[postfix]})")"
echo "(memory: Postern's JVM RSS, Postfix's summed PSS, difference per held session; ratio = Postern/Postfix)"
echo "ceiling: $(ceiling 20 "$MESSAGES" 2048) msg/s (smtp-source straight to smtp-sink, 20 sessions)"
