#!/usr/bin/env bash
# bench/relay.sh - relay throughput of Postern and of Postfix on this machine, side by side.
#
# Each MTA receives MESSAGES messages of SIZE bytes from Postfix's smtp-source over
# SESSIONS parallel SMTP sessions and relays them to one smtp-sink (relayhost). The
# figures are: the accept rate (messages/s until smtp-source has its last 250) and the
# relay rate (messages/s until the last "status=sent" in the MTA's mail log), then the
# ratios Postern/Postfix. Both run with their durable defaults (Postern: H2 with
# WRITE_DELAY=0; Postfix: fsync per queue file).
#
# With DB=postgresql Postern's queue is on PostgreSQL instead (DESIGN: the production
# database, whose WAL flush groups concurrent commits): a private cluster on 127.0.0.1:13432
# in bench/target, switched to with wildfly-config's configure-postgresql.cli.
#
# Needs a build (mvn -B -DskipTests install) and the Debian package postfix (and
# postgresql-15 for DB=postgresql).
# Usage: [DB=h2|postgresql] bench/relay.sh [MESSAGES] [SESSIONS] [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${1:-2000}
SESSIONS=${2:-20}
SIZE=${3:-2048}
DB=${DB:-h2}
PG_BIN=/usr/lib/postgresql/15/bin PG_PORT=13432
TOP=$(pwd)
WORK=$TOP/bench/target
WILDFLY=$(ls -d "$TOP"/wildfly-config/target/wildfly-*/ 2>/dev/null | head -1)
EAR=$TOP/ear/target/postern.ear
SINK_PORT=13026 POSTERN_PORT=13025 POSTFIX_PORT=13027
[ -n "$WILDFLY" ] && [ -f "$EAR" ] || { echo "relay.sh: build first: mvn -B -DskipTests install" >&2; exit 2; }
command -v smtp-source >/dev/null || { echo "relay.sh: smtp-source missing (apt-get install postfix)" >&2; exit 2; }

rm -rf "$WORK"; mkdir -p "$WORK"
pids=()
stop_postern() {
  "$WILDFLY/bin/jboss-cli.sh" --connect --controller=127.0.0.1:10290 command=:shutdown >/dev/null 2>&1 || true
}
cleanup() {
  stop_postern
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -d "$WORK/postfix" ] && postfix -c "$WORK/postfix" stop >/dev/null 2>&1 || true
  [ -f "$WORK/pg/data/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# the sink both MTAs relay to
smtp-sink -u nobody 127.0.0.1:$SINK_PORT 256 &
pids+=($!)

now() { date +%s.%N; }
wait_sent() {  # wait_sent LOGFILE COUNT TIMEOUT
  local end=$(( $(date +%s) + $3 ))
  while [ "$(grep -c 'status=sent' "$1" 2>/dev/null || true)" -lt "$2" ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "relay.sh: only $(grep -c 'status=sent' "$1" || true) of $2 sent in $3 s" >&2; return 1; }
    sleep 0.2
  done
}
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

run_source() {  # run_source PORT -> prints elapsed seconds
  local t0 t1
  t0=$(now)
  smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f bench@example.org -t sink@example.net 127.0.0.1:$1
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

# ---- Postern: the provisioned WildFly on a base directory of its own, ports offset by 300
base=$WORK/postern-server
cp -r "$WILDFLY/standalone" "$base"
rm -rf "$base"/data "$base"/log "$base"/tmp "$base"/deployments/postern.ear*
cp "$EAR" "$base/deployments/"
mkdir -p "$WORK/postern-config"
cat > "$WORK/postern-config/main.cf" <<CF
relayhost = [127.0.0.1]:$SINK_PORT
message_size_limit = 10240000
CF
echo "127.0.0.1:$POSTERN_PORT inet n - n - - smtpd" > "$WORK/postern-config/master.cf"
if [ "$DB" = postgresql ]; then
  # a private cluster (fsync and synchronous_commit on, as shipped), and the documented switch
  mkdir -p "$WORK/pg"; chown postgres "$WORK/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-instructions >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -w -l "$WORK/pg/server.log" \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/pg -c max_connections=100" start >/dev/null
  runuser -u postgres -- "$PG_BIN/psql" -q -h 127.0.0.1 -p $PG_PORT -U postgres \
    -c "create role postern login password 'bench'" -c "create database postern owner postern"
  rm -rf "$WILDFLY/modules/org/postgresql"
  "$WILDFLY/bin/jboss-cli.sh" -Djboss.server.base.dir="$base" \
    -Dpostgresql.jar="$HOME/.m2/repository/org/postgresql/postgresql/42.7.8/postgresql-42.7.8.jar" \
    --file="$TOP/wildfly-config/src/main/cli/configure-postgresql.cli" > "$WORK/configure-postgresql.out" 2>&1
  export POSTERN_DB_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/postern POSTERN_DB_USER=postern POSTERN_DB_PASSWORD=bench
fi
"$WILDFLY/bin/standalone.sh" -c standalone-full.xml -Djboss.server.base.dir="$base" \
  -Dpostern.config.dir="$WORK/postern-config" -Djboss.socket.binding.port-offset=300 > "$WORK/postern.out" 2>&1 &
wf=$!
pids+=($wf)
for _ in $(seq 1 120); do grep -q "WFLYSRV0025" "$WORK/postern.out" && break; sleep 1; done
grep -q "WFLYSRV0025" "$WORK/postern.out" || { echo "relay.sh: Postern did not start; see $WORK/postern.out" >&2; exit 1; }
t0=$(now)
postern_accept=$(run_source $POSTERN_PORT)
wait_sent "$base/log/mail.log" "$MESSAGES" 600
postern_relay=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
stop_postern

# ---- Postfix: an instance of its own in $WORK/postfix
pf=$WORK/postfix
mkdir -p "$pf"
cat > "$pf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
inet_interfaces = 127.0.0.1
mydestination =
alias_maps =
local_recipient_maps =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
CF
sed -E -e "s/^smtp +inet .*/127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd/" \
  -e "s/^([^ #][^ ]* +[^ ]+ +[^ ]+ +[^ ]+ +)y /\\1n /" /usr/share/postfix/master.cf.dist > "$pf/master.cf"
mkdir -p "$pf/queue" "$pf/data"
chown postfix "$pf/data"
postfix -c "$pf" check >/dev/null 2>&1 || true
postfix -c "$pf" start >/dev/null
for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/$POSTFIX_PORT) 2>/dev/null && break; sleep 0.5; done
t0=$(now)
postfix_accept=$(run_source $POSTFIX_PORT)
wait_sent "$pf/maillog" "$MESSAGES" 600
postfix_relay=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
postfix -c "$pf" stop >/dev/null

printf '\n%d messages of %d bytes, %d sessions, relayed to smtp-sink; Postern on %s\n' "$MESSAGES" "$SIZE" \
  "$SESSIONS" "$DB"
printf '%-8s  accept %6s msg/s  relay %6s msg/s\n' Postern "$(rate "$MESSAGES" "$postern_accept")" "$(rate "$MESSAGES" "$postern_relay")"
printf '%-8s  accept %6s msg/s  relay %6s msg/s\n' Postfix "$(rate "$MESSAGES" "$postfix_accept")" "$(rate "$MESSAGES" "$postfix_relay")"
printf 'ratio Postern/Postfix: accept %s, relay %s\n' \
  "$(awk -v a="$postfix_accept" -v b="$postern_accept" 'BEGIN { printf "%.2f", a / b }')" \
  "$(awk -v a="$postfix_relay" -v b="$postern_relay" 'BEGIN { printf "%.2f", a / b }')"
