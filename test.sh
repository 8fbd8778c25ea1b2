#!/usr/bin/env bash
# Postern's whole test suite: unit tests, then the integration tests that deploy the EAR
# to the provisioned WildFly and talk to real peers (swaks, Dovecot LMTP, Postfix's
# smtp-sink, dnsmasq, unbound, PostgreSQL, strace, Chromium). Installs the Debian packages those peers come
# from when they are missing.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v swaks >/dev/null 2>&1 || need+=(swaks)
[ -x /usr/sbin/dovecot ] && [ -e /usr/lib/dovecot/lmtp ] || need+=(dovecot-core dovecot-lmtpd)
[ -x /usr/sbin/smtp-sink ] || need+=(postfix)
command -v dnsmasq >/dev/null 2>&1 || need+=(dnsmasq-base)
# SmtpDaneUnboundTest: a validating resolver (unbound) and a zone signer (ldns-keygen, ldns-signzone)
[ -x /usr/sbin/unbound ] || need+=(unbound)
[ -x /usr/bin/ldns-signzone ] && [ -x /usr/bin/ldns-keygen ] || need+=(ldnsutils)
command -v pflogsumm >/dev/null 2>&1 || need+=(pflogsumm)
# DurabilityIT traces the server's system calls (an fsync before every 250)
command -v strace >/dev/null 2>&1 || need+=(strace)
# the SMTP client's interop test with Python's aiosmtpd, and the benchmarks' sinks
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# ConsoleIT drives the console in headless Chromium through chromedriver (Selenium)
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || need+=(chromium chromium-driver)
# the PostgreSQL contract tests, PostgresCrashIT and DurabilityIT run a private cluster
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
if [ ${#need[@]} -gt 0 ]; then
  echo "test.sh: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # install without starting any daemon, and without Postfix's configuration dialog
  made_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=yes
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [ "$made_policy" = no ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

# under CI (CI=true) a test whose peer is missing fails instead of skipping (org.postern.test.Peers)
# then, only when the build and its tests pass, the bounded fuzzing of every parser (bench/fuzz.sh:
# about 10 s per Jazzer target, a table of executions and crashes); the exit status is the build's
# when it fails, else the fuzzing's. FUZZ_SECONDS=0 skips the fuzzing.
status=0
rm -f target/fuzz/summary.txt # the fuzzing figures of an earlier run must not be reported as this run's
mvn -B verify "$@" || status=$?
if [ "$status" -eq 0 ] && [ "${FUZZ_SECONDS:-10}" != 0 ]; then
  bench/fuzz.sh || status=$?
fi
# the reliability table (issue 13): cases per area, acknowledged messages lost and delivered
# twice in the kill -9 and outage runs, fuzzing executions and crashes
echo
bench/reliability.sh --report || [ "$status" -ne 0 ] || status=1
exit "$status"
