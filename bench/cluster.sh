#!/usr/bin/env bash
# bench/cluster.sh - relay throughput of 1, 2 and 3 Postern nodes on one PostgreSQL queue,
# beside one Postfix, in the same run on this machine.
#
# The nodes are WildFly servers of their own (node1, node2, node3: base directories in WORK,
# ports offset by BENCH_OFFSET + 100 * i, smtpd on BENCH_PORTS + 40 + i), all on one private
# PostgreSQL 15 cluster (synchronous_commit on), relaying to one smtp-sink. Node 1 starts,
# is measured, then node 2 joins, and node 3: each measured setting has every node warmed
# up. Per round, MESSAGES messages of SIZE bytes are split evenly over the nodes (one
# smtp-source per node, SESSIONS sessions in all) and the round ends when the nodes' mail
# logs together show every message sent. The same main.cf goes to one Postfix (durable: it
# fsyncs every queue file), measured in the same rounds as the reference. CPU per message is
# every node's JVM plus PostgreSQL (Postern) or master and children (Postfix).
#
# On this 2-core machine the nodes share the cores, so more nodes do not mean more
# capacity: the figures say what running several nodes costs or gains here, not what
# several machines would do.
#
# Usage: [ROUNDS=3] [WARMUP=2000] [NODES="1 2 3"] bench/cluster.sh [MESSAGES=2000] [SESSIONS=20] [SIZE=2048]
DB=postgresql
WARMUP=${WARMUP:-2000}
PG_MAX_CONNECTIONS=200  # three nodes of up to 40 pooled connections each, and their lock sessions
. "$(dirname "$0")/lib.sh"
MESSAGES=${1:-2000}
SESSIONS=${2:-20}
SIZE=${3:-2048}
NODES=${NODES:-1 2 3}
bench_init "$@"
echo "load: $MESSAGES messages of $SIZE bytes over $SESSIONS sessions per round, split over the nodes, relayed to smtp-sink"

MAIN_CF="relayhost = [127.0.0.1]:$SINK_PORT
cluster_heartbeat_interval = 2s"
declare -a NODE_SH NODE_PID NODE_LOG NODE_PORT
node_port() { echo $((BENCH_PORTS + 40 + $1)); }

# node_start I - node I on its own base directory and config, joined to the shared queue
node_start() {
  local i=$1 base=$WORK/node$1 config=$WORK/config$1 home out=$WORK/node$1.out j
  mkdir -p "$config"
  printf '%s\n' "message_size_limit = 10240000" "$MAIN_CF" > "$config/main.cf"
  printf '%s\n' "127.0.0.1:$(node_port "$i") inet n - n - - smtpd" > "$config/master.cf"
  home=$(postern_home "$base")
  export POSTERN_DB_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/postern POSTERN_DB_USER=postern POSTERN_DB_PASSWORD=bench
  JBOSS_HOME=$home "$home/bin/standalone.sh" -c standalone-full.xml -Djboss.server.base.dir="$base" \
    -Dpostern.config.dir="$config" -Djboss.socket.binding.port-offset=$((BENCH_OFFSET + 100 * i)) \
    -Djboss.node.name=node$i ${POSTERN_OPTS:-} > "$out" 2>&1 &
  NODE_SH[$i]=$!
  _bench_pids+=("${NODE_SH[$i]}")
  for j in $(seq 1 360); do
    grep -q -E "WFLYSRV0025|WFLYSRV0026" "$out" && break
    kill -0 "${NODE_SH[$i]}" 2>/dev/null || break
    sleep 0.5
  done
  NODE_PID[$i]=$(pgrep -P "${NODE_SH[$i]}" java || true)
  grep -q "WFLYSRV0025" "$out" && [ -n "${NODE_PID[$i]}" ] || die "node$i did not start cleanly; see $out"
  wait_port "$(node_port "$i")" 10 || die "node$i does not listen on $(node_port "$i")"
  NODE_LOG[$i]=$base/log/mail.log
  log "node$i up: pid ${NODE_PID[$i]}, smtpd 127.0.0.1:$(node_port "$i")"
}

nodes_stop() {
  local i
  set +e  # at exit: a node already gone must not stop the rest of the cleanup
  for i in "${!NODE_SH[@]}"; do pkill -P "${NODE_SH[$i]}" 2>/dev/null; kill "${NODE_SH[$i]}" 2>/dev/null; done
  for i in "${!NODE_SH[@]}"; do wait "${NODE_SH[$i]}" 2>/dev/null; done
  NODE_SH=()
}
trap 'nodes_stop; bench_cleanup' EXIT

# sent_all N - status=sent lines in the mail logs of nodes 1..N
sent_all() {
  local n=0 i
  for i in $(seq 1 "$1"); do n=$((n + $(count_in "${NODE_LOG[$i]}" 'status=sent'))); done
  echo $n
}

# cpu_all N - CPU ms of nodes 1..N and PostgreSQL
cpu_all() {
  local t=0 i m c
  for i in $(seq 1 "$1"); do t=$(awk -v a="$t" -v b="$(_stat_ms "${NODE_PID[$i]}" 0)" 'BEGIN { print a + b }'); done
  m=$(head -1 "$WORK/pg/data/postmaster.pid")
  t=$(awk -v a="$t" -v b="$(_stat_ms "$m" 1)" 'BEGIN { print a + b }')
  for c in $(pgrep -P "$m"); do t=$(awk -v a="$t" -v b="$(_stat_ms "$c" 1)" 'BEGIN { print a + b }'); done
  echo "$t"
}

# cluster_round N M - M messages split over nodes 1..N; sets ACCEPT, RELAY, CPU
cluster_round() {
  local n=$1 m=$2 before c0 t0 ta i pids=() s
  before=$(sent_all "$n"); c0=$(cpu_all "$n"); t0=$(now)
  s=$(( (SESSIONS + n - 1) / n ))
  for i in $(seq 1 "$n"); do
    smtp-source -s "$s" -m $((m / n)) -l "$SIZE" -f bench@example.org -t sink@example.net 127.0.0.1:"$(node_port "$i")" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || die "smtp-source failed"; done
  ta=$(elapsed "$t0")
  local end=$(( $(date +%s) + 120 + m / 5 ))
  while [ "$(sent_all "$n")" -lt $((before + m / n * n)) ]; do
    [ "$(date +%s)" -lt "$end" ] || die "only $(( $(sent_all "$n") - before )) of $m sent after the round's time"
    sleep 0.1
  done
  RELAY=$(rate $((m / n * n)) "$(elapsed "$t0")")
  ACCEPT=$(rate $((m / n * n)) "$ta")
  CPU=$(awk -v a="$c0" -v b="$(cpu_all "$n")" -v x=$((m / n * n)) 'BEGIN { printf "%.2f", (b - a) / x }')
}

sinks_start
postfix_config "$MAIN_CF"
postfix_start
relay_round postfix "$WARMUP" 20 "$SIZE" sink@example.net
log "warm-up postfix: relay $RELAY msg/s"

declare -A acc rel cpu
started=0
for n in $NODES; do
  while [ "$started" -lt "$n" ]; do
    started=$((started + 1))
    node_start "$started"
  done
  cluster_round "$n" "$WARMUP"
  log "warm-up with $n node(s): relay $RELAY msg/s"
  for r in $(seq 1 "$ROUNDS"); do
    cluster_round "$n" "$MESSAGES"
    printf 'round %d postern %d node(s)  accept %5s msg/s  relay %5s msg/s  cpu %6s ms/msg\n' "$r" "$n" "$ACCEPT" "$RELAY" "$CPU"
    acc[$n]+=" $ACCEPT"; rel[$n]+=" $RELAY"; cpu[$n]+=" $CPU"
    relay_round postfix "$MESSAGES" "$SESSIONS" "$SIZE" sink@example.net
    printf 'round %d postfix          accept %5s msg/s  relay %5s msg/s  cpu %6s ms/msg\n' "$r" "$ACCEPT" "$RELAY" "$CPU"
    acc[pf]+=" $ACCEPT"; rel[pf]+=" $RELAY"; cpu[pf]+=" $CPU"
  done
done

echo
echo "medians ($MESSAGES x $SIZE bytes, $SESSIONS sessions; Postern nodes on one PostgreSQL, Postfix alone):"
printf '%-16s %8s %8s %10s %14s\n' setting accept relay 'cpu ms/msg' 'relay/Postfix'
for n in $NODES; do
  printf '%-16s %8s %8s %10s %14s\n' "postern $n node(s)" "$(median ${acc[$n]})" "$(median ${rel[$n]})" \
    "$(median ${cpu[$n]})" "$(ratio "$(median ${rel[$n]})" "$(median ${rel[pf]})")"
done
printf '%-16s %8s %8s %10s\n' postfix "$(median ${acc[pf]})" "$(median ${rel[pf]})" "$(median ${cpu[pf]})"
echo "(rates in msg/s; all on $(nproc) cpus of one machine)"
