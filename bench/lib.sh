# bench/lib.sh - shared by the benchmark scripts of bench/; sourced, never run.
#
# Gives: the machine header, a private Postern (the provisioned WildFly on a base directory
# of its own, ports offset), a private Postfix (its Debian package, an instance of its own
# under bench/target), smtp-sink, an optional private PostgreSQL cluster, CPU time of each
# MTA from /proc, timing, medians and ratios. Everything started here is stopped at exit
# by bench_cleanup (installed as the EXIT trap by bench_init).
#
# Environment (all optional):
#   WILDFLY=DIR        provisioned WildFly (default: wildfly-config/target/wildfly-*/)
#   EAR=FILE           Postern's ear (default: ear/target/postern.ear)
#   DB=h2|postgresql   Postern's queue database (default h2)
#   ROUNDS=N           rounds per MTA, alternating Postern, Postfix, ... (default 3)
#   WARMUP=N           messages sent to each MTA before the first round, not counted (default 10000:
#                      Postern's JVM is still getting faster after 3000; see bench/RESULTS.md)
#   BENCH_OFFSET=N     WildFly port offset (default 500: management on 10490)
#   BENCH_PORTS=N      base of the loopback listener ports (default 14000)
#   POSTERN_HEAP=OPTS  the WildFly JVM's sizing (JBOSS_JAVA_SIZING; standalone.conf: -Xms64m -Xmx512m)
#   POSTFIX_EXTRA=...  main.cf lines for Postfix alone (e.g. default_process_limit = 1000)
#   POSTERN_OPTS=...   more arguments for Postern's standalone.sh (e.g. -Dpostern.dns.servers=127.0.0.1:14053)
# bench/target/NAME (logs, both MTAs' files) is removed at the start of a run and kept after it.
#
# Ports (BENCH_PORTS + ...): 25 Postern smtpd, 27 Postfix smtpd, 26 smtp-sink (SMTP),
# 24 smtp-sink -L (LMTP), 28 Python sink, 29 ceiling sink, 432 PostgreSQL.

set -euo pipefail
BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_NAME=$(basename "$0" .sh)
WORK=$BENCH_TOP/bench/target/$BENCH_NAME
WILDFLY=${WILDFLY:-$(ls -d "$BENCH_TOP"/wildfly-config/target/wildfly-*/ 2>/dev/null | head -1)}
WILDFLY=${WILDFLY%/}
EAR=${EAR:-$BENCH_TOP/ear/target/postern.ear}
DB=${DB:-h2}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-10000}
BENCH_OFFSET=${BENCH_OFFSET:-500}
BENCH_PORTS=${BENCH_PORTS:-14000}
POSTERN_PORT=$((BENCH_PORTS + 25))
POSTFIX_PORT=$((BENCH_PORTS + 27))
SINK_PORT=$((BENCH_PORTS + 26))
LMTP_SINK_PORT=$((BENCH_PORTS + 24))
PYSINK_PORT=$((BENCH_PORTS + 28))
CEIL_PORT=$((BENCH_PORTS + 29))
PG_PORT=$((BENCH_PORTS + 432))
MGMT_PORT=$((9990 + BENCH_OFFSET))
PG_BIN=/usr/lib/postgresql/15/bin
PG_JAR=${PG_JAR:-$HOME/.m2/repository/org/postgresql/postgresql/42.7.8/postgresql-42.7.8.jar}
CLK_TCK=$(getconf CLK_TCK)

_bench_pids=()        # background helpers (sinks, clients) to kill at exit
POSTERN_SH=           # pid of standalone.sh
POSTERN_PID=          # pid of the WildFly JVM
PF=$WORK/postfix      # the Postfix instance's config directory

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

# bench_init "$@" - check prerequisites, make WORK, install the trap, print the header
bench_init() {
  [ -n "$WILDFLY" ] && [ -x "$WILDFLY/bin/standalone.sh" ] \
    || die "no provisioned WildFly (build first: mvn -B -DskipTests install, or WILDFLY=DIR)"
  [ -f "$EAR" ] || die "no ear at $EAR (build first, or EAR=FILE)"
  command -v smtp-source >/dev/null && command -v postfix >/dev/null \
    || die "smtp-source or postfix missing (apt-get install postfix)"
  case $DB in h2|postgresql) ;; *) die "DB must be h2 or postgresql";; esac
  rm -rf "$WORK"; mkdir -p "$WORK"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  bench_header "$@"
}

# bench_header ARGS - the machine, the date, the exact command, the builds under test
bench_header() {
  local disk
  disk=$(df -P "$WORK" | awk 'NR == 2 { print $1 }')
  echo "== $BENCH_NAME: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "command: $(for v in DB ROUNDS WARMUP WILDFLY EAR; do printf '%s=%q ' "$v" "${!v}"; done)$0 $*"
  echo "machine: $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), \
$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, kernel $(uname -r)"
  local dev=${disk#/dev/} t0
  dev=$(basename "$(readlink -f "/sys/class/block/$dev/.." 2>/dev/null)" 2>/dev/null | grep -v '^block$' || echo "$dev")
  t0=$(now); dd if=/dev/zero of="$WORK/dsync.test" bs=4k count=200 oflag=dsync 2>/dev/null; rm -f "$WORK/dsync.test"
  echo "disk: $disk, rotational=$(cat "/sys/block/$dev/queue/rotational" 2>/dev/null || echo '?'),\
 filesystem $(df -PT "$WORK" | awk 'NR == 2 { print $2 }'), 4 KiB O_DSYNC write: $(awk -v t="$(elapsed "$t0")" 'BEGIN { printf "%.2f", t * 1000 / 200 }') ms"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "postern: $(sha256sum "$EAR" | cut -c1-12) $EAR; $(git -C "$BENCH_TOP" log -1 --format='tree %h %cd' --date=short 2>/dev/null || true)"
  echo "postfix: $(postconf -d -h mail_version 2>/dev/null), java: $(java -version 2>&1 | head -1)"
  echo "postern queue: $DB; rounds: $ROUNDS per MTA, alternating; warm-up: $WARMUP messages each"
}

bench_cleanup() {
  local rc=$?
  set +e
  postern_stop
  [ -f "$PF/main.cf" ] && postfix -c "$PF" stop >/dev/null 2>&1
  local p
  for p in "${_bench_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${_bench_pids[@]}"; do wait "$p" 2>/dev/null; done
  pg_stop
  return $rc
}

# bg CMD... - run CMD in the background, killed at exit; its pid is in $BG_PID
bg() { "$@" & BG_PID=$!; _bench_pids+=("$BG_PID"); }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
# median NUMBERS... - the median (mean of the middle two for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
  else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

wait_port() {  # wait_port PORT SECONDS
  local i
  for i in $(seq 1 $(($2 * 5))); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done
  return 1
}

# count_in FILE PATTERN - lines matching (0 when the file is missing)
count_in() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# wait_count FILE PATTERN COUNT TIMEOUT - until COUNT lines match; fails after TIMEOUT s
wait_count() {
  local end=$(( $(date +%s) + $4 )) n
  while :; do
    n=$(count_in "$1" "$2")
    [ "$n" -ge "$3" ] && return 0
    [ "$(date +%s)" -lt "$end" ] || { echo "$BENCH_NAME: only $n of $3 '$2' in $1 after $4 s" >&2; return 1; }
    sleep 0.1
  done
}

# ---- sinks

# sink_start [ARGS...] - smtp-sink on SINK_PORT (LMTP one on LMTP_SINK_PORT too)
sinks_start() {
  bg smtp-sink -u nobody 127.0.0.1:$SINK_PORT 256
  bg smtp-sink -u nobody -L 127.0.0.1:$LMTP_SINK_PORT 256
  wait_port $SINK_PORT 10 && wait_port $LMTP_SINK_PORT 10 || die "smtp-sink did not start"
}

# ceiling SESSIONS MESSAGES SIZE [-L] - smtp-source straight into a fresh smtp-sink: msg/s
ceiling() {
  local s=$1 m=$2 l=$3 lm=${4:-} t0 p
  smtp-sink -u nobody $lm 127.0.0.1:$CEIL_PORT 256 & p=$!
  wait_port $CEIL_PORT 10
  t0=$(now)
  smtp-source $lm -s "$s" -m "$m" -l "$l" -f bench@example.org -t sink@example.net 127.0.0.1:$CEIL_PORT
  rate "$m" "$(elapsed "$t0")"
  kill $p; wait $p 2>/dev/null || true
}

# ---- Postern

# postern_config MAIN_CF_LINES [MASTER_CF_LINES] - Postern's main.cf and master.cf in WORK
postern_config() {
  mkdir -p "$WORK/postern-config"
  printf '%s\n' "message_size_limit = 10240000" "$1" > "$WORK/postern-config/main.cf"
  printf '%s\n' "127.0.0.1:$POSTERN_PORT inet n - n - - smtpd" "${2:-}" > "$WORK/postern-config/master.cf"
}

# postern_home BASE - prepare BASE (a fresh copy of WILDFLY's standalone/ with the EAR) and, with
# DB=postgresql, the private cluster and configure-postgresql.cli on BASE; prints the WildFly
# home to start it from (WILDFLY itself, or with DB=postgresql a hard-linked copy of WILDFLY's
# modules with the driver module added, so that WILDFLY itself is not changed)
postern_home() {
  local base=$1 home=$WILDFLY i
  rm -rf "$base"; cp -r "$WILDFLY/standalone" "$base"
  rm -rf "$base"/data "$base"/log "$base"/tmp "$base"/deployments/postern.ear*
  cp "$EAR" "$base/deployments/"
  if [ "$DB" = postgresql ]; then
    pg_start >&2
    home=$WORK/wildfly-home
    if [ ! -d "$home" ]; then
      mkdir -p "$home"
      for i in "$WILDFLY"/*; do
        case $(basename "$i") in
          standalone) ;;
          modules) cp -al "$i" "$home/" 2>/dev/null || cp -r "$i" "$home/";;
          *) ln -s "$i" "$home/";;
        esac
      done
    fi
    # `module add` refuses a module that is there: each base is configured from the start (bench/cluster.sh has several)
    rm -rf "$home/modules/org/postgresql"
    [ -f "$PG_JAR" ] || die "no PostgreSQL driver at $PG_JAR (PG_JAR=FILE)"
    JBOSS_HOME=$home "$home/bin/jboss-cli.sh" -Djboss.server.base.dir="$base" -Dpostgresql.jar="$PG_JAR" \
      --file="$BENCH_TOP/wildfly-config/src/main/cli/configure-postgresql.cli" > "$base.configure-postgresql.out" 2>&1 \
      || die "configure-postgresql.cli failed; see $base.configure-postgresql.out"
    export POSTERN_DB_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/postern POSTERN_DB_USER=postern POSTERN_DB_PASSWORD=bench
  fi
  echo "$home"
}

# postern_start - the provisioned WildFly on a base directory of its own (WORK/postern-server),
# ports offset by BENCH_OFFSET, with the config from postern_config; sets POSTERN_PID.
postern_start() {
  local base=$WORK/postern-server home i
  home=$(postern_home "$base")
  [ "$DB" != postgresql ] || export POSTERN_DB_URL=jdbc:postgresql://127.0.0.1:$PG_PORT/postern POSTERN_DB_USER=postern POSTERN_DB_PASSWORD=bench
  [ -z "${POSTERN_HEAP:-}" ] || export JBOSS_JAVA_SIZING=$POSTERN_HEAP
  JBOSS_HOME=$home "$home/bin/standalone.sh" -c standalone-full.xml -Djboss.server.base.dir="$base" \
    -Dpostern.config.dir="$WORK/postern-config" -Djboss.socket.binding.port-offset=$BENCH_OFFSET ${POSTERN_OPTS:-} \
    > "$WORK/postern.out" 2>&1 &
  POSTERN_SH=$!
  for i in $(seq 1 240); do
    grep -q -E "WFLYSRV0025|WFLYSRV0026" "$WORK/postern.out" && break
    kill -0 $POSTERN_SH 2>/dev/null || break
    sleep 0.5
  done
  POSTERN_PID=$(pgrep -P $POSTERN_SH java || true)
  grep -q "WFLYSRV0025" "$WORK/postern.out" && [ -n "$POSTERN_PID" ] \
    || die "Postern did not start cleanly; see $WORK/postern.out"
  wait_port $POSTERN_PORT 10 || die "Postern does not listen on $POSTERN_PORT"
  POSTERN_LOG=$base/log/mail.log
  log "postern up: pid $POSTERN_PID, smtpd 127.0.0.1:$POSTERN_PORT, management 127.0.0.1:$MGMT_PORT"
}

postern_stop() {
  [ -n "${POSTERN_SH:-}" ] || return 0
  local i
  "$WILDFLY/bin/jboss-cli.sh" --connect --controller=127.0.0.1:$MGMT_PORT command=:shutdown >/dev/null 2>&1 || true
  for i in $(seq 1 60); do kill -0 "$POSTERN_PID" 2>/dev/null || break; sleep 0.5; done
  kill "$POSTERN_PID" 2>/dev/null && sleep 2
  kill -9 "$POSTERN_PID" 2>/dev/null || true
  wait "$POSTERN_SH" 2>/dev/null || true
  POSTERN_SH= POSTERN_PID=
}

# ---- Postfix

# postfix_config MAIN_CF_LINES [MASTER_CF_LINES] - an instance of its own in WORK/postfix,
# the same main.cf values as Postern's plus what a private instance needs
postfix_config() {
  mkdir -p "$PF/queue" "$PF/data"
  cat > "$PF/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
inet_interfaces = 127.0.0.1
mydestination =
alias_maps =
local_recipient_maps =
mynetworks = 127.0.0.0/8
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
message_size_limit = 10240000
$1
${POSTFIX_EXTRA:-}
CF
  sed -E -e "s/^smtp +inet .*/127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd/" \
    -e "s/^([^ #][^ ]* +[^ ]+ +[^ ]+ +[^ ]+ +)y /\\1n /" /usr/share/postfix/master.cf.dist > "$PF/master.cf"
  [ -z "${2:-}" ] || printf '%s\n' "$2" >> "$PF/master.cf"
  chown postfix "$PF/data"
}

postfix_start() {
  postfix -c "$PF" check >/dev/null 2>&1 || true
  postfix -c "$PF" start >/dev/null 2>&1 || die "postfix did not start (postfix -c $PF check)"
  wait_port $POSTFIX_PORT 20 || die "Postfix does not listen on $POSTFIX_PORT"
  POSTFIX_LOG=$PF/maillog
  log "postfix up: master pid $(postfix_master), smtpd 127.0.0.1:$POSTFIX_PORT"
}
postfix_stop() { postfix -c "$PF" stop >/dev/null 2>&1 || true; }
postfix_master() { sed -n 's/ //gp' "$PF/queue/pid/master.pid" 2>/dev/null | head -1; }

# ---- CPU time, in milliseconds, from /proc/PID/stat (utime stime cutime cstime)
_stat_ms() {  # _stat_ms PID WITH_CHILDREN(0|1)
  awk -v c="$2" -v hz="$CLK_TCK" '{ sub(/^.*\) /, ""); t = $12 + $13; if (c) t += $14 + $15; print t * 1000 / hz }' \
    "/proc/$1/stat" 2>/dev/null || echo 0
}
# cpu_ms postern|postfix - the JVM's own CPU (plus PostgreSQL's with DB=postgresql); Postfix: master with its reaped children
# plus every live child (smtpd, cleanup, qmgr, smtp, postlogd, ...)
cpu_ms() {
  local m t c
  if [ "$1" = postern ]; then
    t=$(_stat_ms "$POSTERN_PID" 0)
    # with DB=postgresql the database's work is Postern's too: the postmaster and its backends
    m=$(head -1 "$WORK/pg/data/postmaster.pid" 2>/dev/null || true)
    [ -n "$m" ] || { echo "$t"; return; }
  else
    m=$(postfix_master); t=0
  fi
  t=$(awk -v a="$t" -v b="$(_stat_ms "$m" 1)" 'BEGIN { print a + b }')
  for c in $(pgrep -P "$m"); do t=$(awk -v a="$t" -v b="$(_stat_ms "$c" 1)" 'BEGIN { print a + b }'); done
  echo "$t"
}

# ---- PostgreSQL: a private cluster, fsync and synchronous_commit on as shipped
pg_start() {
  [ -f "$WORK/pg/data/postmaster.pid" ] && return 0
  mkdir -p "$WORK/pg"; chown postgres "$WORK/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-instructions >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -w -l "$WORK/pg/server.log" \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/pg -c max_connections=${PG_MAX_CONNECTIONS:-100}" start >/dev/null
  runuser -u postgres -- "$PG_BIN/psql" -q -h 127.0.0.1 -p $PG_PORT -U postgres \
    -c "create role postern login password 'bench'" -c "create database postern owner postern"
}
pg_stop() {
  [ -f "$WORK/pg/data/postmaster.pid" ] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

# ---- the two MTAs side by side

# the next hops: sink@smtp.test to smtp-sink, sink@lmtp.test to smtp-sink -L
ROUTES="transport_maps = inline:{smtp.test=smtp:[127.0.0.1]:$SINK_PORT, lmtp.test=lmtp:inet:127.0.0.1:$LMTP_SINK_PORT}"

# mtas_start MAIN_CF_LINES [POSTERN_MASTER_LINES] [POSTFIX_MASTER_LINES] - both up, same main.cf
mtas_start() {
  postern_config "$1" "${2:-}"
  postfix_config "$1" "${3:-}"
  postern_start
  postfix_start
}
mta_port() { if [ "$1" = postern ]; then echo $POSTERN_PORT; else echo $POSTFIX_PORT; fi; }
mta_log() { if [ "$1" = postern ]; then echo "$POSTERN_LOG"; else echo "$POSTFIX_LOG"; fi; }
sent_count() { count_in "$(mta_log "$1")" 'status=sent'; }

# relay_round MTA MESSAGES SESSIONS SIZE [TO] - smtp-source into MTA, wait until the log shows
# every message sent; sets ACCEPT (msg/s until the last 250), RELAY (msg/s until the last
# status=sent) and CPU (ms of the MTA's CPU per message, accept to last delivery)
relay_round() {
  local mta=$1 m=$2 s=$3 l=$4 to=${5:-sink@smtp.test} before c0 t0 ta
  before=$(sent_count "$mta"); c0=$(cpu_ms "$mta"); t0=$(now)
  smtp-source -s "$s" -m "$m" -l "$l" -f bench@example.org -t "$to" 127.0.0.1:"$(mta_port "$mta")"
  ta=$(elapsed "$t0")
  wait_count "$(mta_log "$mta")" 'status=sent' $((before + m)) $((120 + m / 5))
  RELAY=$(rate "$m" "$(elapsed "$t0")")
  ACCEPT=$(rate "$m" "$ta")
  CPU=$(awk -v a="$c0" -v b="$(cpu_ms "$mta")" -v n="$m" 'BEGIN { printf "%.2f", (b - a) / n }')
}

# warm_up - WARMUP messages through each MTA (JIT, pools, caches), not counted
warm_up() {
  [ "$WARMUP" -gt 0 ] || return 0
  local mta
  for mta in postern postfix; do relay_round $mta "$WARMUP" 20 2048; log "warm-up $mta: relay $RELAY msg/s"; done
}
