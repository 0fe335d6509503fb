#!/usr/bin/env bash
# Accept path with 2 I/O loops: the base loop's acceptor (classic) against one SO_REUSEPORT
# listener per I/O loop (per-loop), the EchoServer program at its defaults otherwise (JDK 25,
# AUTO = epoll), C's connect_bench in echo1 mode (connect, 1 byte echoed, RST close: the server's
# accept, hand-off and registration are inside each sample), fresh server per round, interleaved.
# Usage: run.sh CONNECT_BENCH [ROUNDS]   (from the repository root, after mvn -B package -DskipTests)
set -euo pipefail
CB=$1; ROUNDS=${2:-3}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
OUT=perf-results/reuseport-accept
for r in $(seq 1 "$ROUNDS"); do
  for mode in classic per-loop; do
    P=false; [ $mode = per-loop ] && P=true
    $JAVA --add-opens java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED \
      -Dmuduo4j.bench.acceptorPerLoop=$P -cp jmh/target/benchmarks.jar io.muduo4j.bench.EchoServer \
      --port 0 --threads 2 > /tmp/reuseport-server.out 2>&1 &
    pid=$!
    for i in $(seq 1 100); do grep -q "listening on" /tmp/reuseport-server.out && break; sleep 0.1; done
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' /tmp/reuseport-server.out)
    line=$("$CB" 127.0.0.1 "$port" 20000 echo1 3000 | grep '^RESULT')
    echo "round $r $mode $(head -1 /tmp/reuseport-server.out | sed 's/.*(//; s/).*//') $line" | tee -a $OUT/results.txt
    kill $pid; wait $pid 2>/dev/null || true
  done
done
