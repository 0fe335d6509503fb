#!/usr/bin/env bash
# The one benchmark command of muduo4j: builds, runs the JMH suite (muduo4j beside Netty 4.2 NIO,
# Netty 4.2 epoll and plain JDK sockets, all in the same run), and writes into the output directory:
#   jmh-result.json  JMH's JSON result (-prof gc included)
#   jmh-output.txt   JMH's human-readable output
#   machine.txt      CPU model, cores, memory, kernel, JDK, commit, load at start
#   command.txt      the exact command
#   README.md        summary tables: muduo4j / peer ratios and allocation per operation
#   chart.png        bar charts of latency and throughput per implementation
#
# Usage: jmh/bench.sh [--ci] [--gate FILE] [--out DIR] [--no-build] [-- JMH_ARGS...]
#   (default)    full suite into perf-results/ (about 12-14 minutes on 2 cores, build included)
#   --ci         every benchmark and parameter once, 1 s each, no warm-up (about 5 minutes);
#                output into jmh/target/perf-results-ci/ (build output, never committed)
#   --gate FILE  fail (exit 3) when a muduo4j/peer ratio rule in FILE is violated (see jmh/targets.txt)
#   --out DIR    output directory instead of the default
#   --no-build   use the existing jmh/target/benchmarks.jar
#   -- ARGS      extra JMH arguments, e.g. -- -p impl=JDK,NETTY_NIO RoundTrip
#                (do not pass -jvmArgsAppend: it would replace the benchmarks' --add-opens; use -jvmArgsPrepend)
# Exit status: non-zero if the build or any benchmark fails (JMH -foe true), 3 if the gate fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,20p' "$ROOT/jmh/bench.sh" | sed 's/^# \{0,1\}//'; }
cd "$ROOT"

MODE=full
GATE=""
OUT=""
BUILD=1
EXTRA=()
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) MODE=ci ;;
    --gate) [ $# -ge 2 ] || { echo "bench.sh: --gate needs a file" >&2; exit 2; }; GATE="$2"; shift ;;
    --out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a directory" >&2; exit 2; }; OUT="$2"; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$GATE" ]; then
  [ -f "$GATE" ] || { echo "bench.sh: gate file '$GATE' not found" >&2; exit 2; }
  GATE="$(cd "$(dirname "$GATE")" && pwd)/$(basename "$GATE")"
fi
if [ -z "$OUT" ]; then
  if [ "$MODE" = ci ]; then OUT="jmh/target/perf-results-ci"; else OUT="perf-results"; fi
fi
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

{
  echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "cores:      $(nproc) online ($(grep -c '^processor' /proc/cpuinfo) logical in /proc/cpuinfo)"
  echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel:     $(uname -srmo)"
  echo "os:         $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown)"
  echo "jdk:        $("$JAVA" -version 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
  echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
  echo "load avg:   $(cut -d' ' -f1-3 /proc/loadavg) at start"
} > "$OUT/machine.txt"

JMH_ARGS=(-prof gc -foe true -rf json -rff "$OUT/jmh-result.json")
if [ "$MODE" = ci ]; then
  JMH_ARGS+=(-f 1 -wi 0 -i 1 -r 1s)
fi
# JDK_VIRTUAL needs virtual threads (JDK 21+). On an older JVM, unless the caller chose the impls
# with -p impl=..., run every other impl. A global -p also applies to RoundTrip.onLoop, whose own
# list leaves the JDK out, so there the JDK runs its documented fallback (round trips on the caller).
JAVA_SPEC=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
USER_IMPL=0
for a in "${EXTRA[@]+"${EXTRA[@]}"}"; do
  case "$a" in impl=*) USER_IMPL=1 ;; esac
done
if [ "${JAVA_SPEC%%.*}" -lt 21 ] 2>/dev/null && [ "$USER_IMPL" = 0 ]; then
  echo "== JDK $JAVA_SPEC has no virtual threads: JDK_VIRTUAL left out of this run"
  JMH_ARGS+=(-p impl=MUDUO_BLOCKING,MUDUO_SPINNING,NETTY_NIO,NETTY_EPOLL,NETTY_EPOLL_BUSY,NETTY_IO_URING,JDK)
fi
JMH_ARGS+=("${EXTRA[@]+"${EXTRA[@]}"}")
JMH_CMD=("$JAVA" -jar "$JAR" "${JMH_ARGS[@]}")

{
  printf 'jmh/bench.sh'; [ ${#ORIG_ARGS[@]} -eq 0 ] || printf ' %q' "${ORIG_ARGS[@]}"; printf '\n'
  printf '# which ran:\n'
  printf '%q ' "${JMH_CMD[@]}" | sed "s|$ROOT/||g; s| $||"; printf '\n'
} > "$OUT/command.txt"

echo "== benchmarks ($MODE): ${JMH_CMD[*]}"
rm -f "$OUT/jmh-result.json"
"${JMH_CMD[@]}" 2>&1 | tee "$OUT/jmh-output.txt"
[ -s "$OUT/jmh-result.json" ] || { echo "bench.sh: JMH wrote no results" >&2; exit 1; }

REPORT=("$JAVA" -Djava.awt.headless=true -cp "$JAR" io.muduo4j.bench.report.Report
  --json "$OUT/jmh-result.json" --out "$OUT" --machine "$OUT/machine.txt" --command "$OUT/command.txt"
  --check "$ROOT/jmh/targets.txt")
if [ "$MODE" = ci ]; then
  REPORT+=(--title "muduo4j benchmarks: CI smoke run" --note "CI mode: every benchmark once, no warm-up, 1 s. The numbers only show that each benchmark runs; they are not measurements.")
fi
if [ -n "$GATE" ]; then REPORT+=(--gate "$GATE"); fi
echo "== report"
"${REPORT[@]}"
echo "== done in $(( $(date +%s) - START )) s; results in ${OUT#$ROOT/}/"
