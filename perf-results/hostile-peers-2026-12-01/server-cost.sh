#!/bin/bash
# Server cost, old (661ed7e) vs new EchoServer at defaults, the same C clients, interleaved rounds.
J="java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -XX:AutoBoxCacheMax=65536"
declare -A JAR=([old]=/tmp/old/jmh/target/benchmarks.jar [new]=/work/main/jmh/target/benchmarks.jar)
for round in 1 2 3; do
  for srv in old new; do
    $J -cp ${JAR[$srv]} io.muduo4j.bench.EchoServer --port 0 > /tmp/srv.out 2>&1 &
    pid=$!
    for i in $(seq 50); do grep -q listening /tmp/srv.out && break; sleep 0.1; done
    port=$(sed -n 's/listening on 127.0.0.1://p' /tmp/srv.out)
    rtt=$(/tmp/cfloor/pingpong_client 127.0.0.1 $port 1 16 5 2 | grep RESULT)
    thr=$(/tmp/cfloor/pingpong_client 127.0.0.1 $port 16 16384 5 2 | grep RESULT)
    acc=$(/tmp/cfloor/connect_bench 127.0.0.1 $port 20000 echo1 2000 | grep RESULT)
    echo "round=$round server=$srv | $rtt | $thr | $acc"
    kill $pid; wait $pid 2>/dev/null
  done
done
