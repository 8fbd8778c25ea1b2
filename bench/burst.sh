#!/usr/bin/env bash
# bench/burst.sh [CLIENTS] - connection bursts: CLIENTS clients (200) connect to Postern at
# once, each from its own loopback address (127.0.9.1 ...), so that the server looks up
# CLIENTS different client names (smtpd_peername_lookup = yes, Postfix's default) before
# it greets; then the same burst again, whose names are now cached (NXDOMAIN too). A
# dnsmasq on 127.0.0.1 answers the PTR queries (NXDOMAIN for every in-addr.arpa name, as
# for addresses without a reverse name); Postern is pointed at it with
# -Dpostern.dns.servers. For comparison, the same burst from 127.0.0.1 alone (one name).
#
# Postern only: Postfix's smtpd asks the system resolver (/etc/resolv.conf), which is not
# on loopback here, and benchmarks send traffic to loopback only.
# Environment: as lib.sh (WILDFLY, EAR, BENCH_OFFSET, BENCH_PORTS); ROUNDS bursts of each kind.
source "$(dirname "$0")/lib.sh"
CLIENTS=${1:-200}
bench_init "$@"
command -v dnsmasq >/dev/null || die "dnsmasq missing (apt-get install dnsmasq-base)"
DNS_PORT=$((BENCH_PORTS + 53))
bg dnsmasq --keep-in-foreground --port=$DNS_PORT --listen-address=127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --local=/in-addr.arpa/ --log-facility=$WORK/dnsmasq.log --log-queries
echo "load: $CLIENTS clients at once from 127.0.9.1-$CLIENTS (distinct names, dnsmasq NXDOMAIN) and from 127.0.0.1"
postern_config "smtpd_peername_lookup = yes"
POSTERN_OPTS="-Dpostern.dns.servers=127.0.0.1:$DNS_PORT" postern_start
python3 "$BENCH_TOP/bench/idle.py" greet $POSTERN_PORT 20 > /dev/null  # warm-up, one name
for r in $(seq 1 "$ROUNDS"); do
  before=$(grep -c 'query\[PTR\]' "$WORK/dnsmasq.log" 2>/dev/null || true)
  first=$(python3 "$BENCH_TOP/bench/idle.py" greet $POSTERN_PORT "$CLIENTS" 127.$((9 + r)).$r)
  mid=$(grep -c 'query\[PTR\]' "$WORK/dnsmasq.log" 2>/dev/null || true)
  again=$(python3 "$BENCH_TOP/bench/idle.py" greet $POSTERN_PORT "$CLIENTS" 127.$((9 + r)).$r)
  after=$(grep -c 'query\[PTR\]' "$WORK/dnsmasq.log" 2>/dev/null || true)
  local_only=$(python3 "$BENCH_TOP/bench/idle.py" greet $POSTERN_PORT "$CLIENTS")
  echo "round $r distinct names: $first (PTR queries $((mid - before)))"
  echo "round $r same names again: $again (PTR queries $((after - mid)))"
  echo "round $r from 127.0.0.1: $local_only"
done
