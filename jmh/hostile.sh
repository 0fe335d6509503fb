#!/usr/bin/env bash
# Hostile-peer check of echo servers at their defaults: starts each server as a separate process,
# runs io.muduo4j.bench.HostileCheck against it (scenarios 1-6, with its pid for /proc), then runs
# scenario 7 (fd flood) against a second instance started under `ulimit -n 128`. Kills every server
# it started, on every exit path. All traffic is to 127.0.0.1.
#
# Usage: jmh/hostile.sh [options]
#   (default)         EchoServer --impl muduo4j with --threads 1 and with --threads 2
#   --impl I          an EchoServer implementation (muduo4j, netty-nio, netty-epoll, netty-io-uring, jdk, jdk-virtual); repeatable;
#                     replaces the default muduo4j (jdk and jdk-virtual run once: they ignore --threads)
#   --threads "1 2"   the EchoServer --threads values to run each impl with (default "1 2")
#   --server-cmd CMD  an outside server command, run as `bash -c "exec CMD"` (so its pid is the
#                     server's); it must print 'listening on HOST:PORT', or contain {port}, which is
#                     replaced by a free port the script then waits on; repeatable
#   --scenarios LIST  HostileCheck scenarios (default 1,2,3,4,5,6 plus the fd-flood run of 7);
#                     given explicitly, the flood run happens only if LIST contains 7
#   --no-flood        skip the ulimit -n 128 run of scenario 7
#   --no-relay        skip scenario 8 (paused-reset) against examples.TcpRelay; it runs by default
#                     when muduo4j is among the impls, and with --scenarios only if LIST contains 8;
#                     a relay on the epoll transport must also release the dead client's backend
#   --expect-transport T  fail a muduo4j server whose 'listening on' line does not name transport
#                     T (nio or epoll): the default, auto, falls back to nio where epoll cannot run
#   --seed S          HostileCheck --seed (default 1)
#   --self-test       instead: run HostileFlawedEcho with each single defect and check that the
#                     scenario meant to catch it FAILs, and that the flawless one PASSes everything
#   --build           build first (mvn -B -o -q package -DskipTests); default: use the existing jar
#   -h, --help
# The java is $JAVA_HOME/bin/java when JAVA_HOME is set, else java on the PATH; servers get
# --enable-native-access=ALL-UNNAMED (muduo4j's epoll transport on JDK 22+ needs it; JDK 17 accepts it).
# Exit status: 0 if every scenario passed (or SKIPped), 1 if any FAIL or a server did not start,
# 2 on bad arguments.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/jmh/target/benchmarks.jar"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
SERVER_JVM=(--add-opens java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -XX:AutoBoxCacheMax=65536)
CHECK_JVM=(-Xmx512m -XX:+UseSerialGC)
FLOOD_ULIMIT=128

usage() { sed -n '2,/^set -uo/p' "$ROOT/jmh/hostile.sh" | sed '$d' | sed 's/^# \{0,1\}//'; }
die2() { echo "hostile.sh: $*" >&2; exit 2; }

BUILD=0
IMPLS=()
THREADS="1 2"
SERVER_CMDS=()
SCENARIOS=""
FLOOD=1
RELAY=1
SEED=1
SELFTEST=0
EXPECT_TRANSPORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=1 ;;
    --impl) [ $# -ge 2 ] || die2 "--impl needs a value"
      case "$2" in muduo4j|netty-nio|netty-epoll|netty-io-uring|jdk|jdk-virtual) IMPLS+=("$2") ;; *) die2 "unknown impl '$2'" ;; esac; shift ;;
    --threads) [ $# -ge 2 ] || die2 "--threads needs a list"; THREADS="$2"; shift
      for t in $THREADS; do [[ "$t" =~ ^[0-9]+$ ]] || die2 "--threads: '$t' is not a number"; done ;;
    --server-cmd) [ $# -ge 2 ] || die2 "--server-cmd needs a command"; SERVER_CMDS+=("$2"); shift ;;
    --scenarios) [ $# -ge 2 ] || die2 "--scenarios needs a list"; SCENARIOS="$2"; shift ;;
    --no-flood) FLOOD=0 ;;
    --no-relay) RELAY=0 ;;
    --expect-transport) [ $# -ge 2 ] || die2 "--expect-transport needs a value"
      case "$2" in nio|epoll) EXPECT_TRANSPORT="$2" ;; *) die2 "--expect-transport: '$2' is not nio or epoll" ;; esac; shift ;;
    --seed) [ $# -ge 2 ] || die2 "--seed needs a value"; SEED="$2"; shift ;;
    --self-test) SELFTEST=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die2 "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# scenarios of the main run and whether the flood run happens
MAIN_SCEN="1,2,3,4,5,6"
if [ -n "$SCENARIOS" ]; then
  FLOOD_WANTED=0
  RELAY_WANTED=0
  MAIN_SCEN=""
  IFS=',' read -r -a _sc <<< "$SCENARIOS"
  for s in "${_sc[@]}"; do
    s="${s// /}"
    case "$s" in
      7|fd-flood) FLOOD_WANTED=1 ;;
      8|paused-reset) RELAY_WANTED=1 ;;
      all) MAIN_SCEN="${MAIN_SCEN:+$MAIN_SCEN,}1,2,3,4,5,6"; FLOOD_WANTED=1; RELAY_WANTED=1 ;;
      "") ;;
      *) MAIN_SCEN="${MAIN_SCEN:+$MAIN_SCEN,}$s" ;;
    esac
  done
  [ "$FLOOD_WANTED" = 1 ] || FLOOD=0
  [ "$RELAY_WANTED" = 1 ] || RELAY=0
fi

cd "$ROOT" || exit 1
if [ "$BUILD" = 1 ]; then
  echo "== build: mvn -B -o -q package -DskipTests"
  mvn -B -o -q package -DskipTests || { echo "hostile.sh: build failed" >&2; exit 1; }
fi
[ -f "$JAR" ] || { echo "hostile.sh: $JAR missing (run with --build)" >&2; exit 1; }

# scenario 4 opens 2,000 connections from the checker (and the server needs as many)
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
  ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hostile.XXXXXX")"
PIDS=()          # every process started in the background, killed on exit
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  PIDS=()
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "hostile.sh: interrupted" >&2; exit 130' INT
trap 'echo "hostile.sh: terminated" >&2; exit 143' TERM

forget() { local p="$1" q keep=(); for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done; PIDS=("${keep[@]}"); }

stop_server() {
  local p="$1"
  kill -TERM "$p" 2>/dev/null
  for _ in $(seq 25); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  forget "$p"
}

free_port() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 12000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

# start_server LABEL ULIMIT(or "") KIND ARG: KIND is "java" (ARG = EchoServer/HostileFlawedEcho args,
# class first) or "cmd" (ARG = outside command). Sets SRV_PID, SRV_PORT, SRV_LOG; returns 1 if it
# did not come up within 30 s.
start_server() {
  local label="$1" lim="$2" kind="$3" arg="$4" port="" cmd
  SRV_LOG="$WORK/server-$label.log"
  SRV_PID=""
  SRV_PORT=""
  if [ "$kind" = java ]; then
    # shellcheck disable=SC2086
    ( if [ -n "$lim" ]; then ulimit -n "$lim" || exit 97; fi
      exec "$JAVA" "${SERVER_JVM[@]}" -cp "$JAR" $arg ) >"$SRV_LOG" 2>&1 &
  else
    cmd="$arg"
    if [[ "$cmd" == *"{port}"* ]]; then
      port="$(free_port)" || { echo "hostile.sh: no free port found" >&2; return 1; }
      cmd="${cmd//\{port\}/$port}"
    fi
    ( if [ -n "$lim" ]; then ulimit -n "$lim" || exit 97; fi
      exec bash -c "exec $cmd" ) >"$SRV_LOG" 2>&1 &
  fi
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  local i line
  for i in $(seq 150); do
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
      echo "hostile.sh: server '$label' exited before listening; its output:" >&2
      sed 's/^/  | /' "$SRV_LOG" | head -20 >&2
      wait "$SRV_PID" 2>/dev/null; forget "$SRV_PID"
      return 1
    fi
    if [ -n "$port" ]; then
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then SRV_PORT="$port"; return 0; fi
    else
      line="$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$SRV_LOG" 2>/dev/null)"
      if [ -n "$line" ]; then SRV_PORT="${line##*:}"; return 0; fi
    fi
    sleep 0.2
  done
  echo "hostile.sh: server '$label' not listening after 30 s; its output:" >&2
  sed 's/^/  | /' "$SRV_LOG" | head -20 >&2
  stop_server "$SRV_PID"
  return 1
}

# run_check LABEL SCENARIOS [extra HostileCheck args]: prints the checker's lines prefixed by the
# label; sets CHECK_RC and CHECK_OUT.
run_check() {
  local label="$1" scen="$2"; shift 2
  CHECK_OUT="$WORK/check-$label.out"
  "$JAVA" "${CHECK_JVM[@]}" -cp "$JAR" io.muduo4j.bench.HostileCheck --host 127.0.0.1 --port "$SRV_PORT" \
    --pid "$SRV_PID" --seed "$SEED" --scenarios "$scen" "$@" >"$CHECK_OUT" 2>&1 &
  local cp=$!
  PIDS+=("$cp")
  wait "$cp"
  CHECK_RC=$?
  forget "$cp"
  sed "s/^/[$label] /" "$CHECK_OUT"
}

server_log_excerpt() {
  if [ -s "$SRV_LOG" ]; then
    echo "[$1] server output (last lines without stack frames):"
    grep -v -E '^\s+(at |\.\.\. [0-9]+ more)' "$SRV_LOG" | tail -n 6 | cut -c1-240 | sed 's/^/  | /'
  fi
}

# transport_ok LABEL KIND ARG: with --expect-transport, a muduo4j EchoServer must name that
# transport in its 'listening on' line (other servers are not checked).
transport_ok() {
  [ -n "$EXPECT_TRANSPORT" ] || return 0
  [ "$2" = java ] && [[ "$3" == *"--impl muduo4j"* ]] || return 0
  if grep -m1 'listening on' "$SRV_LOG" | grep -q "transport $EXPECT_TRANSPORT"; then return 0; fi
  echo "[$1] FAIL: expected transport $EXPECT_TRANSPORT: $(grep -m1 'listening on' "$SRV_LOG")" >&2
  return 1
}

FAILED=0
SUMMARY=()
T_ALL=$(date +%s)

# one configuration: LABEL KIND ARG(EchoServer args or command)
run_config() {
  local label="$1" kind="$2" arg="$3" t0 rc_main="-" rc_flood="-"
  [ -n "$MAIN_SCEN" ] || [ "$FLOOD" = 1 ] || return 0
  t0=$(date +%s)
  if [ -n "$MAIN_SCEN" ]; then
    echo "== $label: scenarios $MAIN_SCEN"
    if start_server "$label" "" "$kind" "$arg"; then
      echo "[$label] server pid $SRV_PID port $SRV_PORT, fd limit $(awk '/Max open files/ {print $4}' /proc/$SRV_PID/limits)"
      echo "[$label] $(grep -m1 'listening on' "$SRV_LOG")"
      if transport_ok "$label" "$kind" "$arg"; then
        run_check "$label" "$MAIN_SCEN"
        rc_main=$CHECK_RC
        [ "$CHECK_RC" = 0 ] || { FAILED=1; server_log_excerpt "$label"; }
      else
        FAILED=1; rc_main="wrong-transport"
      fi
      stop_server "$SRV_PID"
    else
      FAILED=1; rc_main="no-server"
    fi
  fi
  if [ "$FLOOD" = 1 ]; then
    echo "== $label: scenario 7 against a second instance under ulimit -n $FLOOD_ULIMIT"
    if start_server "$label-flood" "$FLOOD_ULIMIT" "$kind" "$arg"; then
      echo "[$label-flood] server pid $SRV_PID port $SRV_PORT, fd limit $(awk '/Max open files/ {print $4}' /proc/$SRV_PID/limits)"
      if transport_ok "$label-flood" "$kind" "$arg"; then
        run_check "$label-flood" 7
        rc_flood=$CHECK_RC
        [ "$CHECK_RC" = 0 ] || { FAILED=1; server_log_excerpt "$label-flood"; }
      else
        FAILED=1; rc_flood="wrong-transport"
      fi
      stop_server "$SRV_PID"
    else
      FAILED=1; rc_flood="no-server"
    fi
  fi
  local pass fail
  pass=$(cat "$WORK"/check-"$label".out "$WORK"/check-"$label"-flood.out 2>/dev/null | grep -c '^PASS ')
  fail=$(cat "$WORK"/check-"$label".out "$WORK"/check-"$label"-flood.out 2>/dev/null | grep -c '^FAIL ')
  local note=""
  [ "$rc_main" = no-server ] && note="$note [server did not start]"
  [ "$rc_flood" = no-server ] && note="$note [flood server did not start]"
  [ "$rc_main" = wrong-transport ] || [ "$rc_flood" = wrong-transport ] && note="$note [not transport $EXPECT_TRANSPORT]"
  SUMMARY+=("$(printf '%-28s %2d passed, %2d failed  (%ss)%s' "$label" "$pass" "$fail" "$(( $(date +%s) - t0 ))" "$note")")
}

# scenario 8 against examples.TcpRelay forwarding to a backend the checker plays (and never reads)
run_relay() {
  local label="muduo4j-relay" t0 bport rc="-" release=() note=""
  t0=$(date +%s)
  echo "== $label: scenario 8 (paused-reset) against TcpRelay"
  bport="$(free_port)" || { FAILED=1; SUMMARY+=("$(printf '%-28s no free backend port' "$label")"); return; }
  if start_server "$label" "" java "io.muduo4j.examples.TcpRelay --port 0 --backend-port $bport"; then
    echo "[$label] server pid $SRV_PID port $SRV_PORT, backend port $bport"
    echo "[$label] $(grep -m1 'listening on' "$SRV_LOG")"
    # where the kernel reports a paused socket's reset (epoll), the relay must give up its backend
    grep -m1 'listening on' "$SRV_LOG" | grep -q 'transport epoll' && release=(--expect-release)
    if [ -n "$EXPECT_TRANSPORT" ] && ! grep -m1 'listening on' "$SRV_LOG" | grep -q "transport $EXPECT_TRANSPORT"; then
      echo "[$label] FAIL: expected transport $EXPECT_TRANSPORT: $(grep -m1 'listening on' "$SRV_LOG")" >&2
      FAILED=1; rc="wrong-transport"; note=" [not transport $EXPECT_TRANSPORT]"
    else
      run_check "$label" 8 --backend-port "$bport" "${release[@]}"
      rc=$CHECK_RC
      [ "$CHECK_RC" = 0 ] || { FAILED=1; server_log_excerpt "$label"; }
    fi
    stop_server "$SRV_PID"
  else
    FAILED=1; note=" [server did not start]"
  fi
  local pass=0 fail=0
  if [ -f "$WORK/check-$label.out" ]; then
    pass=$(grep -c '^PASS ' "$WORK/check-$label.out"); fail=$(grep -c '^FAIL ' "$WORK/check-$label.out")
  fi
  SUMMARY+=("$(printf '%-28s %2d passed, %2d failed  (%ss)%s' "$label" "$pass" "$fail" "$(( $(date +%s) - t0 ))" "$note")")
}

# self-test: FLAW EXPECTED_FAIL_SCENARIO (none = everything passes)
self_test_one() {
  local flaw="$1" scen="$2" expect="$3" label="flawed-$1" lim="" name
  [ "$scen" = 7 ] && lim="$FLOOD_ULIMIT"
  echo "== self-test: HostileFlawedEcho --flaw $flaw, scenarios $scen, expect $expect"
  if ! start_server "$label-$scen" "$lim" java "io.muduo4j.bench.HostileFlawedEcho --port 0 --flaw $flaw"; then
    FAILED=1; SUMMARY+=("$(printf '%-28s server did not start' "$label")"); return
  fi
  run_check "$label-$scen" "$scen"
  stop_server "$SRV_PID"
  local fails passes verdict=ok
  fails=$(grep -c '^FAIL ' "$CHECK_OUT")
  passes=$(grep -c '^PASS ' "$CHECK_OUT")
  if [ "$expect" = PASS ]; then
    [ "$CHECK_RC" = 0 ] && [ "$fails" = 0 ] && [ "$passes" -gt 0 ] || verdict=WRONG
  else
    [ "$CHECK_RC" = 1 ] && [ "$fails" -ge 1 ] || verdict=WRONG
  fi
  [ "$verdict" = ok ] || FAILED=1
  SUMMARY+=("$(printf '%-28s scenarios %-12s expected %s, got %d PASS %d FAIL: %s' "$label" "$scen" "$expect" "$passes" "$fails" "$verdict")")
}

if [ "$SELFTEST" = 1 ]; then
  self_test_one none 1,2,3,4,5,6 PASS
  self_test_one none 7 PASS
  self_test_one corrupt 1 FAIL
  self_test_one drop-on-fin 2 FAIL
  self_test_one stall 3 FAIL
  self_test_one cap-1000 4 FAIL
  self_test_one leak-fd 5 FAIL
  self_test_one unbounded 6 FAIL
  self_test_one spin-on-emfile 7 FAIL
else
  [ ${#IMPLS[@]} -gt 0 ] || [ ${#SERVER_CMDS[@]} -gt 0 ] || IMPLS=(muduo4j)
  for impl in "${IMPLS[@]}"; do
    tlist="$THREADS"; case "$impl" in jdk|jdk-virtual) tlist=1 ;; esac
    for t in $tlist; do
      run_config "$impl-threads$t" java "io.muduo4j.bench.EchoServer --port 0 --impl $impl --threads $t"
    done
  done
  n=0
  for c in "${SERVER_CMDS[@]}"; do
    n=$((n + 1))
    run_config "server-cmd$n" cmd "$c"
  done
  if [ "$RELAY" = 1 ] && [[ " ${IMPLS[*]} " == *" muduo4j "* ]]; then
    run_relay
  fi
fi

echo "== summary ($(( $(date +%s) - T_ALL )) s)"
for l in "${SUMMARY[@]}"; do echo "  $l"; done
if [ "$FAILED" = 0 ]; then echo "hostile.sh: all passed"; else echo "hostile.sh: FAILURES (see above)"; fi
exit "$FAILED"
