#!/usr/bin/env bash
# bench/fuzz.sh [SECONDS] - fuzz every Jazzer target (@FuzzTest) of lib, ra-smtp and ejb
# in turn, SECONDS each (FUZZ_SECONDS, default 10), and print one table: target,
# executions, crashes found. Exits 1 when a target found a crash or did not run.
#
# Why a script and one JVM per target: jazzer-junit fuzzes only one @FuzzTest per JVM
# (JAZZER_FUZZ=1 mvn test fuzzes the first and skips the rest: Jazzer issues #599, #933),
# and a Maven run per target would cost more than the fuzzing. So the modules' test
# classes and classpaths are built once (offline, no install), and each target runs in
# Jazzer's own launcher (com.code_intelligence.jazzer.Jazzer --target_class/--target_method,
# which runs the @FuzzTest through JUnit) with libFuzzer's -max_total_time.
#
# Inputs: each target starts from its seeds and regression inputs,
# src/test/resources/<package>/<Class>Inputs/<method>/, and from the corpus it grew in
# earlier runs (<module>/.cifuzz-corpus/, not in git). A crash is written into that inputs
# directory as crash-<sha1> (the script lists it): fix the parser, give the file a name
# that says what it is, and commit it; from then on `mvn test` runs it as a regression
# test. --keep_going: a target goes on after a crash, so a run reports every distinct
# crash (by stack), not only the first.
#
# Time: measured on 2 cores, 11 targets at 10 s: 255 s in all, so about 13 s per target
# beyond its fuzzing (JVM start, Jazzer's agent, JUnit, corpus loading) plus the build;
# with ejb's two targets, 13 targets: 364 s (while other builds shared the machine). So the
# targets run FUZZ_JOBS at a time (default: one per CPU), which about halves that.
# Only Postern's classes are instrumented (coverage and hooks). Runs as any user, root
# included; the native parts come inside the jazzer jar (Linux x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-${FUZZ_SECONDS:-10}}
# FUZZ_MODULES="ejb" fuzzes the targets of some modules only
read -r -a MODULES <<<"${FUZZ_MODULES:-lib ra-smtp ejb}"
LOGS=${FUZZ_LOGS:-target/fuzz}
mkdir -p "$LOGS"
echo "== fuzz: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), ${SECONDS_EACH}s per target; machine: $(nproc) cpus, $(java -version 2>&1 | head -1)"
start=$(date +%s)

# the test classes and each module's test classpath (sibling modules from the reactor's target/classes)
list=$(IFS=,; echo "${MODULES[*]}")
if ! out=$(mvn -B -o -q -pl "$list" -am test-compile dependency:build-classpath \
      -Dmdep.outputFile=target/fuzz.classpath -Dmdep.includeScope=test 2>&1); then
  echo "$out" | tail -40
  echo "fuzz: build FAILED"
  exit 1
fi

# targets: module, class, method of every @FuzzTest
targets=()
for m in "${MODULES[@]}"; do
  while IFS= read -r f; do
    cls=$(echo "${f#"$m"/src/test/java/}" | sed 's/\.java$//; s#/#.#g')
    for method in $(awk '/@FuzzTest/ { want = 1 } want && match($0, /void [A-Za-z0-9_]+\(/) {
                           print substr($0, RSTART + 5, RLENGTH - 6); want = 0 }' "$f"); do
      targets+=("$m $cls $method")
    done
  done < <(grep -rl --include='*FuzzTest.java' '@FuzzTest' "$m/src/test/java" | sort)
done

# fuzz - one target in its own JVM; its exit status goes to <log>.rc
fuzz() {
  local m=$1 cls=$2 method=$3 log=$4 rc=0
  local cp="target/test-classes:target/classes:$(cat "$m/target/fuzz.classpath")"
  (cd "$m" && timeout $((SECONDS_EACH + 120)) java -Xmx1g -cp "$cp" com.code_intelligence.jazzer.Jazzer \
      --target_class="$cls" --target_method="$method" --keep_going=100 \
      --instrumentation_includes='org.postern.**' --custom_hook_includes='org.postern.**' \
      -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=0 >"$log" 2>&1) || rc=$?
  echo "$rc" >"$log.rc"
}

# FUZZ_JOBS targets at a time (default: one per CPU; each target is one busy thread)
jobs_max=${FUZZ_JOBS:-$(nproc)}
for t in "${targets[@]}"; do
  read -r m cls method <<<"$t"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
    wait -n || true
  done
  rm -f "$PWD/$LOGS/$cls.$method.log.rc"
  fuzz "$m" "$cls" "$method" "$PWD/$LOGS/$cls.$method.log" &
done
wait || true

printf '\n%-62s %12s %8s\n' target executions crashes
status=0
total_execs=0
total_crashes=0
for t in "${targets[@]}"; do
  read -r m cls method <<<"$t"
  log="$PWD/$LOGS/$cls.$method.log"
  rc=$(cat "$log.rc" 2>/dev/null || echo missing)
  execs=$(LC_ALL=C sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -1)
  crashes=$(grep -ac 'Test unit written to' "$log" || true)
  name="${cls##*.}#$method"
  if [ -z "$execs" ]; then
    printf '%-62s %12s %8s  (no result, exit %s: %s)\n' "$name" - "$crashes" "$rc" "$log"
    status=1
    continue
  fi
  printf '%-62s %12s %8s\n' "$name" "$execs" "$crashes"
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + crashes))
  if [ "$crashes" -gt 0 ] || [ "$rc" != 0 ]; then
    status=1
    sed -n 's/.*Test unit written to /    crash input: /p' "$log"
    grep -a -m3 "^== Java Exception" "$log" | sed 's/^/    /'
  fi
done
printf '%-62s %12s %8s\n' "total (${#targets[@]} targets, $(( $(date +%s) - start )) s)" "$total_execs" "$total_crashes"
# for the reliability report (bench/reliability.sh --report)
printf 'targets=%s executions=%s crashes=%s seconds=%s status=%s\n' "${#targets[@]}" "$total_execs" \
  "$total_crashes" "$(( $(date +%s) - start ))" "$status" >"$LOGS/summary.txt"
[ "$status" -eq 0 ] || echo "fuzz: FAILED (a crash or a target without a result; logs in $LOGS/)"
exit "$status"
