#!/usr/bin/env bash
# The cross-process benchmark matrix of muduo4j (issue 9, items 4-6): EchoServer, PingPongClient and
# ConnectClient of every implementation run as separate processes, every server against one client
# (server cost) and every client against one server (client cost), in interleaved rounds. Writes:
#   results.tsv   raw values, one line per round x section x impl x figure x metric
#   syscalls.tsv  system calls per operation (with --syscalls)
#   README.md     a table per figure: median and range over rounds, per-round ratios to a reference
#   chart.png     bar charts of the medians
#   machine.txt   CPU, cores, memory, kernel, JDK, commit, load at start
#   command.txt   the exact command
#   logs/         the output of every process
#
# Usage: jmh/crossproc.sh [--no-build] [--out DIR] [--quick] [--syscalls] [OPTIONS...]
#   --no-build     use the existing jmh/target/benchmarks.jar
#   --out DIR      output directory (default perf-results/cross-process)
#   --quick        CI smoke run (1 round, sub-second runs; well under 2 minutes): not measurements
#   --syscalls     also count system calls per operation under strace -f -c
#   every other option goes to io.muduo4j.bench.cross.CrossProcess, e.g. --rounds 5, --impls
#   muduo4j,netty-epoll, --server-cmd NAME='CMD {port}', --client-cmd NAME/KIND='CMD {host} {port} ...';
#   the full list: jmh/crossproc.sh --no-build --help. JAVA_HOME selects the JDK of every process.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD=1
OUT="perf-results/cross-process"
PASS=()
ORIG_ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --out) [ $# -ge 2 ] || { echo "crossproc.sh: --out needs a directory" >&2; exit 2; }; OUT="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$ROOT/jmh/crossproc.sh" | sed 's/^# \{0,1\}//'; [ "$BUILD" = 0 ] || exit 0; PASS+=("$1") ;;
    *) PASS+=("$1") ;;
  esac
  shift
done

JAR="$ROOT/jmh/target/benchmarks.jar"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
START=$(date +%s)
if [ "$BUILD" = 1 ]; then
  echo "== build: mvn -B -q -DskipTests package"
  mvn -B -q -DskipTests package
fi
[ -f "$JAR" ] || { echo "crossproc.sh: $JAR missing (build first, or drop --no-build)" >&2; exit 1; }
for a in "${PASS[@]+"${PASS[@]}"}"; do
  case "$a" in -h|--help|-V|--version) exec "$JAVA" -cp "$JAR" io.muduo4j.bench.cross.CrossProcess "$a" ;; esac
done

REPORT_ONLY=0
for a in "${PASS[@]+"${PASS[@]}"}"; do
  [ "$a" = --report-only ] && REPORT_ONLY=1
done

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# --report-only rebuilds README.md and chart.png from the run in OUT: its TSV files, machine and
# command stay as they are.
if [ "$REPORT_ONLY" = 0 ]; then
{
  echo "date:       $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "cpu:        $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "cores:      $(nproc) online ($(grep -c '^processor' /proc/cpuinfo) logical in /proc/cpuinfo)"
  echo "memory:     $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel:     $(uname -srmo)"
  echo "os:         $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown)"
  echo "jdk:        $("$JAVA" -version 2>&1 | tr '\n' ' ' | sed 's/ *$//')"
  echo "strace:     $(strace -V 2>/dev/null | head -1 || echo 'not installed')"
  echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
  echo "load avg:   $(cut -d' ' -f1-3 /proc/loadavg) at start"
} > "$OUT/machine.txt"
{
  printf 'jmh/crossproc.sh'; [ ${#ORIG_ARGS[@]} -eq 0 ] || printf ' %q' "${ORIG_ARGS[@]}"; printf '\n'
} > "$OUT/command.txt"
rm -rf "$OUT/logs" "$OUT/results.tsv" "$OUT/syscalls.tsv"
fi

set +e
"$JAVA" -Djava.awt.headless=true -cp "$JAR" io.muduo4j.bench.cross.CrossProcess --jar "$JAR" --out "$OUT" \
  --machine "$OUT/machine.txt" --command "$OUT/command.txt" "${PASS[@]+"${PASS[@]}"}"
RC=$?
set -e
echo "== crossproc.sh done in $(( $(date +%s) - START )) s (exit $RC); results in ${OUT#$ROOT/}/"
exit $RC
