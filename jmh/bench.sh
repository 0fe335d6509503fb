#!/usr/bin/env bash
# The one benchmark command of muduo4j: builds, runs the JMH suite (muduo4j beside Netty 4.2 NIO,
# epoll, epoll with a busy-polling client loop, io_uring, and JDK sockets with platform and, on
# JDK 21+, virtual threads, all in the same run), and writes into the output directory:
#   jmh-result.json  JMH's JSON result of all the suite's JMH invocations (-prof gc included), slimmed by
#                    io.muduo4j.bench.report.SlimResult: sample-mode rows without their per-sample
#                    histograms (the iteration means and JMH's percentiles stay: all the report reads).
#                    The full JSON goes to jmh/target/raw-results/<output dir>/jmh-result.json (not committed)
#   jmh-output.txt   JMH's human-readable output
#   planned-runs.txt the runs the plan expected, one key a line (the report lists those without a result)
#   machine.txt      CPU model, cores, memory, kernel, JDK, commit, load at start
#   command.txt      the exact commands
#   README.md        scores with 95% intervals over forks, muduo4j/peer ratios with intervals and
#                    verdicts, steady-state flags, allocation per operation
#   chart.png        bar charts of latency and throughput per implementation
#
# Usage: jmh/bench.sh [--quick | --ci] [--gate FILE] [--alloc FILE] [--out DIR] [--no-build] [-- JMH_ARGS...]
#        jmh/bench.sh --report-only [--out DIR] [--quick | --ci] [--gate FILE] [--alloc FILE] [--no-build]
#   (default)    the headline suite, 3 forks, into perf-results/ (about 45 min on 2 cores with JDK 17,
#                about 57 with JDK 22+; the estimate is printed before it starts)
#   --quick      the headline cases, 1 fork, short warm-up (about 5 min): NOT FOR CLAIMS, no intervals;
#                output into jmh/target/perf-results-quick/
#   --ci         every benchmark and parameter once, 1 fork, 0.5 s warm-up + 0.5 s (about 5 min); gates only
#                failed benchmarks and allocation (jmh/ci-alloc.txt); ratios are "not measured (CI smoke)";
#                output into jmh/target/perf-results-ci/
#   --gate FILE  ratio rules (format of jmh/targets.txt): exit 3 when a rule is missed, i.e. its 95%
#                interval lies entirely on the wrong side of the threshold, or has no data;
#                "inconclusive" is printed and does not fail
#   --alloc FILE allocation rules (format of jmh/ci-alloc.txt): exit 4 when one is exceeded
#                (--ci uses jmh/ci-alloc.txt unless --alloc is given)
#   --out DIR    output directory instead of the default
#   --no-build   use the existing jmh/target/benchmarks.jar
#   --plan       print the plan and the time estimate, run nothing
#   --report-only  run no benchmark: regenerate README.md and chart.png of the output directory from the
#                files kept there (jmh-result.json, machine.txt, command.txt, planned-runs.txt) and the
#                current jmh/targets.txt; the mode (title, smoke, --ci's allocation gate) is machine.txt's
#                unless --quick or --ci is given; exit status as after a run
#   -- ARGS      run one JMH invocation with ARGS instead of the suite's plan, e.g.
#                -- -p impl=JDK,NETTY_NIO RoundTrip; the mode's fork and iteration options apply
#                unless ARGS set them (do not pass -jvmArgsAppend: it would replace the benchmarks'
#                --add-opens; use -jvmArgsPrepend)
# Java: $JAVA_HOME/bin/java if JAVA_HOME is set, else java on the PATH; JMH forks the benchmark
# JVMs with the same java. Example: JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 jmh/bench.sh
# Exit status: 0 ok; 1 the build failed, JMH wrote no results, or a planned benchmark run has no
# result (it failed); 2 bad arguments; 3 a --gate rule missed; 4 an allocation rule exceeded.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { awk 'NR > 1 && /^set -euo pipefail/ { exit } NR > 1' "$ROOT/jmh/bench.sh" | sed 's/^# \{0,1\}//'; }
cd "$ROOT"

MODE=full
GATE=""
ALLOC=""
OUT=""
BUILD=1
PLAN_ONLY=0
REPORT_ONLY=0
MODE_GIVEN=0
EXTRA=()
USER_ARGS=0
ORIG_ARGS=("$@")
abspath() { [ -f "$1" ] || { echo "bench.sh: file '$1' not found" >&2; exit 2; }; echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) MODE=ci; MODE_GIVEN=1 ;;
    --quick) MODE=quick; MODE_GIVEN=1 ;;
    --gate) [ $# -ge 2 ] || { echo "bench.sh: --gate needs a file" >&2; exit 2; }; GATE="$(abspath "$2")"; shift ;;
    --alloc) [ $# -ge 2 ] || { echo "bench.sh: --alloc needs a file" >&2; exit 2; }; ALLOC="$(abspath "$2")"; shift ;;
    --out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a directory" >&2; exit 2; }; OUT="$2"; shift ;;
    --no-build) BUILD=0 ;;
    --plan) PLAN_ONLY=1 ;;
    --report-only) REPORT_ONLY=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); USER_ARGS=1; break ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$REPORT_ONLY" = 1 ] && { [ "$PLAN_ONLY" = 1 ] || [ "$USER_ARGS" = 1 ]; }; then
  echo "bench.sh: --report-only runs nothing: it takes neither --plan nor JMH arguments" >&2; exit 2
fi
if [ -z "$OUT" ]; then
  case "$MODE" in
    ci) OUT="jmh/target/perf-results-ci" ;;
    quick) OUT="jmh/target/perf-results-quick" ;;
    *) OUT="perf-results" ;;
  esac
fi
if [ "$REPORT_ONLY" = 1 ]; then
  [ -f "$OUT/jmh-result.json" ] || { echo "bench.sh: $OUT/jmh-result.json missing: no run to report on" >&2; exit 1; }
  # the run's own mode, unless given: a CI run regenerated as a full one would evaluate its ratios
  if [ "$MODE_GIVEN" = 0 ] && [ -f "$OUT/machine.txt" ]; then
    RUN_MODE=$(sed -n 's/^mode: *//p' "$OUT/machine.txt" | head -1)
    case "$RUN_MODE" in full|quick|ci) MODE="$RUN_MODE" ;; esac
  fi
fi
if [ "$MODE" = ci ] && [ -z "$ALLOC" ]; then ALLOC="$ROOT/jmh/ci-alloc.txt"; fi
# --plan writes nothing into the output directory: its results and machine.txt stay as they are.
if [ "$PLAN_ONLY" = 1 ]; then OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT; fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

START=$(date +%s)
JAR="$ROOT/jmh/target/benchmarks.jar"
if [ "$BUILD" = 1 ]; then
  echo "== build: mvn -B -q -DskipTests package"
  mvn -B -q -DskipTests package
fi
[ -f "$JAR" ] || { echo "bench.sh: $JAR missing (build first)" >&2; exit 1; }

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# The report, from what the output directory keeps (after a run, and with --report-only).
run_report() {
  local report=("$JAVA" -Djava.awt.headless=true -cp "$JAR" io.muduo4j.bench.report.Report
    --json "$OUT/jmh-result.json" --out "$OUT" --machine "$OUT/machine.txt" --command "$OUT/command.txt"
    --check "$ROOT/jmh/targets.txt")
  [ ! -f "$OUT/planned-runs.txt" ] || report+=(--expect "$OUT/planned-runs.txt")
  case "$MODE" in
    ci) report+=(--smoke --title "muduo4j benchmarks: CI smoke run (not measurements)"
          --note "CI mode: every benchmark once, 1 fork, 0.5 s warm-up, 0.5 s measured. It shows that each benchmark runs and what it allocates; its timings are not measurements and no ratio is evaluated.") ;;
    quick) report+=(--title "muduo4j benchmarks: quick run (not for claims)"
          --note "Quick mode: the headline cases, 1 fork, short warm-up. No intervals, so every verdict is inconclusive; use the default suite for figures.") ;;
  esac
  [ -z "$GATE" ] || report+=(--gate "$GATE")
  [ -z "$ALLOC" ] || report+=(--alloc "$ALLOC")
  "${report[@]}"
}
if [ "$REPORT_ONLY" = 1 ]; then
  echo "== report ($MODE mode) from the files in ${OUT#$ROOT/}/; no benchmark runs"
  set +e
  run_report
  STATUS=$?
  set -e
  exit "$STATUS"
fi

# Before machine.txt is rewritten: when the output directory is tracked (perf-results/), the
# redirect below would otherwise make every run look like one of uncommitted changes.
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
{
  echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "cores:      $(nproc) online ($(grep -c '^processor' /proc/cpuinfo) logical in /proc/cpuinfo)"
  echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel:     $(uname -srmo)"
  echo "os:         $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown)"
  echo "jdk:        $("$JAVA" -version 2>&1 | tr '\n' ' ' | sed 's/ *$//') ($(command -v "$JAVA" || echo "$JAVA"))"
  echo "commit:     $COMMIT"
  echo "load avg:   $(cut -d' ' -f1-3 /proc/loadavg) at start"
  echo "mode:       $MODE"
} > "$OUT/machine.txt"
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD1" -v c="$(nproc)" 'BEGIN { exit !(l > c / 4) }'; then
  echo "== WARNING: load average $LOAD1 on $(nproc) cores at start: other work competes with the benchmarks (recorded in machine.txt)"
fi

# JDK_VIRTUAL needs virtual threads (JDK 21+), MUDUO_EPOLL the FFM API (JDK 22+). On an older JVM
# the benchmarks run the other impls: IMPL_FILTER for those whose list has the JDK peers, LOOP_FILTER
# for those with loop implementations only (RoundTrip.onLoop, ConnectOnLoop).
JAVA_SPEC=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
IMPL_FILTER=()
LOOP_FILTER=()
LOOP_IMPLS=NETTY_NIO,NETTY_EPOLL,NETTY_EPOLL_BUSY,NETTY_IO_URING
if [ "${JAVA_SPEC%%.*}" -lt 21 ] 2>/dev/null; then
  echo "== JDK $JAVA_SPEC has no virtual threads and no FFM API: JDK_VIRTUAL and MUDUO_EPOLL left out of this run"
  IMPL_FILTER=(-p impl=MUDUO_BLOCKING,MUDUO_SPINNING,$LOOP_IMPLS,JDK)
  LOOP_FILTER=(-p impl=MUDUO_BLOCKING,MUDUO_SPINNING,$LOOP_IMPLS)
elif [ "${JAVA_SPEC%%.*}" -lt 22 ] 2>/dev/null; then
  echo "== JDK $JAVA_SPEC has no final FFM API: MUDUO_EPOLL left out of this run"
  IMPL_FILTER=(-p impl=MUDUO_BLOCKING,MUDUO_SPINNING,$LOOP_IMPLS,JDK,JDK_VIRTUAL)
  LOOP_FILTER=(-p impl=MUDUO_BLOCKING,MUDUO_SPINNING,$LOOP_IMPLS)
fi
F=("${IMPL_FILTER[@]+"${IMPL_FILTER[@]}"}")
L=("${LOOP_FILTER[@]+"${LOOP_FILTER[@]}"}")

# The plan: one JMH invocation per line of INVOCATIONS (arguments separated by spaces). The default
# suite's forks, warm-up and measurement are the benchmark classes' annotations (see jmh/README.md).
B=io.muduo4j.bench
INVOCATIONS=()
case "$MODE" in
  full)
    INVOCATIONS+=("-bm sample ${F[*]:-} $B.ConnectBenchmark")
    INVOCATIONS+=("${L[*]:-} $B.ConnectOnLoopBenchmark")
    INVOCATIONS+=("${F[*]:-} $B.RoundTripBenchmark.callerThread")
    INVOCATIONS+=("${L[*]:-} $B.RoundTripBenchmark.onLoop")
    INVOCATIONS+=("-p size=16384 ${F[*]:-} $B.PingPongBenchmark")
    ;;
  quick)
    Q="-f 1 -wi 2 -w 500ms -i 3 -r 500ms"
    INVOCATIONS+=("-f 1 -wi 6 -w 500ms -i 3 -r 500ms -bm sample ${F[*]:-} $B.ConnectBenchmark")
    INVOCATIONS+=("$Q ${L[*]:-} $B.ConnectOnLoopBenchmark")
    INVOCATIONS+=("$Q ${F[*]:-} $B.RoundTripBenchmark.callerThread")
    INVOCATIONS+=("$Q ${L[*]:-} $B.RoundTripBenchmark.onLoop")
    INVOCATIONS+=("$Q -p size=16384 ${F[*]:-} $B.PingPongBenchmark")
    ;;
  ci)
    C="-f 1 -wi 1 -w 500ms -i 1 -r 500ms"
    # The benchmarks with their own impl lists (no JDK peers) run without the JDK-version filter.
    INVOCATIONS+=("$C ${F[*]:-} -e $B.RoundTripBenchmark.onLoop,$B.ConnectOnLoopBenchmark")
    INVOCATIONS+=("$C ${L[*]:-} $B.RoundTripBenchmark.onLoop $B.ConnectOnLoopBenchmark")
    ;;
esac
if [ "$USER_ARGS" = 1 ]; then
  # one invocation: the mode's options that ARGS do not set, then ARGS
  MODE_OPTS=()
  case "$MODE" in quick) MODE_OPTS=(-f 1 -wi 2 -w 500ms -i 3 -r 500ms) ;; ci) MODE_OPTS=(-f 1 -wi 1 -w 500ms -i 1 -r 500ms) ;; esac
  KEEP=()
  i=0
  while [ $i -lt ${#MODE_OPTS[@]} ]; do
    opt="${MODE_OPTS[$i]}"; val="${MODE_OPTS[$((i + 1))]}"
    set_by_user=0
    for a in "${EXTRA[@]}"; do [ "$a" = "$opt" ] && set_by_user=1; done
    [ "$set_by_user" = 1 ] || KEEP+=("$opt" "$val")
    i=$((i + 2))
  done
  USER_IMPL=0
  for a in "${EXTRA[@]}"; do case "$a" in impl=*) USER_IMPL=1 ;; esac; done
  [ "$USER_IMPL" = 1 ] || KEEP+=("${IMPL_FILTER[@]+"${IMPL_FILTER[@]}"}")
  USER_INV=("${KEEP[@]+"${KEEP[@]}"}" "${EXTRA[@]}")
  INVOCATIONS=(__USER__)
fi

PARTS="$OUT/.parts"
rm -rf "$PARTS"; mkdir -p "$PARTS"
EXPECT="$PARTS/expected.txt"
: > "$EXPECT"
rm -f "$OUT/jmh-result.json" "$OUT/jmh-output.txt" "$OUT/planned-runs.txt"
{
  printf 'jmh/bench.sh'; [ ${#ORIG_ARGS[@]} -eq 0 ] || printf ' %q' "${ORIG_ARGS[@]}"; printf '\n'
  printf '# which ran (java: %s):\n' "$JAVA"
} > "$OUT/command.txt"

echo "== plan ($MODE mode; estimate from forks x (warm-up + measurement + JVM start)):"
TOTAL_EST=0
args_of() { if [ "$1" = __USER__ ]; then ARGS=("${USER_INV[@]}"); else read -r -a ARGS <<< "$1"; fi; }
for inv in "${INVOCATIONS[@]}"; do
  args_of "$inv"
  "$JAVA" -cp "$JAR" io.muduo4j.bench.report.Plan --expect "$EXPECT" --seconds "$PARTS/seconds.txt" -- "${ARGS[@]}" \
    || { echo "bench.sh: cannot plan JMH arguments: ${ARGS[*]}" >&2; exit 2; }
  TOTAL_EST=$((TOTAL_EST + $(cat "$PARTS/seconds.txt")))
done
if [ "$TOTAL_EST" -lt 120 ]; then EST_TEXT="about $TOTAL_EST s"; else EST_TEXT="about $(( (TOTAL_EST + 30) / 60 )) min ($TOTAL_EST s)"; fi
echo "== estimated benchmark time: $EST_TEXT, build not included; started $(date "+%H:%M")"
if [ "$PLAN_ONLY" = 1 ]; then rm -rf "$PARTS"; exit 0; fi
[ "$MODE" = quick ] && echo "== QUICK MODE: 1 fork, short warm-up: not for claims"
[ "$MODE" = ci ] && echo "== CI MODE: smoke run: ratios are not measured; gates: failed benchmarks, allocation"

JMH_FAILED=0
n=0
for inv in "${INVOCATIONS[@]}"; do
  n=$((n + 1))
  args_of "$inv"
  JMH_CMD=("$JAVA" -jar "$JAR" -prof gc -foe false -rf json -rff "$PARTS/part-$n.json" "${ARGS[@]}")
  printf '%q ' "${JMH_CMD[@]}" | sed "s|$ROOT/||g; s|$OUT/.parts/|<out>/|g; s| $||" >> "$OUT/command.txt"; printf '\n' >> "$OUT/command.txt"
  echo "== benchmarks $n/${#INVOCATIONS[@]} ($MODE): ${ARGS[*]}"
  set +e
  "${JMH_CMD[@]}" 2>&1 | tee -a "$OUT/jmh-output.txt"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" != 0 ]; then echo "bench.sh: JMH exited with $rc" >&2; JMH_FAILED=1; fi
done
PART_FILES=()
for f in "$PARTS"/part-*.json; do [ -s "$f" ] && PART_FILES+=("$f"); done
[ ${#PART_FILES[@]} -gt 0 ] || { echo "bench.sh: JMH wrote no results" >&2; exit 1; }

# The full JSON (megabytes of per-sample histograms) stays under jmh/target/, never committed; the
# output directory keeps the slim one, and the report is made from that, as --report-only makes it.
case "$OUT" in
  "$ROOT") RAW_DIR="$ROOT/jmh/target/raw-results/root" ;;
  "$ROOT"/*) RAW_DIR="$ROOT/jmh/target/raw-results/${OUT#$ROOT/}" ;;
  *) RAW_DIR="$ROOT/jmh/target/raw-results/external$OUT" ;;
esac
echo "== results: full JSON in ${RAW_DIR#$ROOT/}/jmh-result.json, slim JSON in ${OUT#$ROOT/}/jmh-result.json"
"$JAVA" -cp "$JAR" io.muduo4j.bench.report.SlimResult --full "$RAW_DIR/jmh-result.json" --out "$OUT/jmh-result.json" \
  "${PART_FILES[@]}" || { echo "bench.sh: SlimResult failed; JMH's results are in $PARTS" >&2; exit 1; }
{
  echo "# The runs jmh/bench.sh planned (io.muduo4j.bench.report.Plan), one key a line: the report lists those without a result."
  cat "$EXPECT"
} > "$OUT/planned-runs.txt"
echo "== report"
set +e
run_report
STATUS=$?
set -e
rm -rf "$PARTS"
if [ "$STATUS" = 0 ] && [ "$JMH_FAILED" = 1 ]; then STATUS=1; fi
echo "== done in $(( $(date +%s) - START )) s (estimated $TOTAL_EST s + build); results in ${OUT#$ROOT/}/; exit $STATUS"
exit "$STATUS"
