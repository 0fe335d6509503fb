package io.muduo4j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Connect-establish latency with the connect started on the client loop ({@link Peer.ConnectStart#LOOP}),
 * as a proxy opens an upstream connection inside a callback: one invocation hands a batch of
 * {@value #BATCH} connects to the client loop, which starts the first from a task and each next one
 * from the previous connection's established callback (abortive close right after), so the
 * per-connect score has no caller-to-loop hop in it but 1/{@value #BATCH} of one. The JDK peers
 * have no loop and are not in the list ({@link ConnectBenchmark} covers them, started from the caller).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(ConnectOnLoopBenchmark.BATCH)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 3, jvmArgsAppend = {BenchJvm.ADD_OPENS, BenchJvm.MISC, BenchJvm.NATIVE_ACCESS, BenchJvm.XMS, BenchJvm.XMX, BenchJvm.BOX_CACHE,
        BenchJvm.NO_LEAK_DETECTION})
public class ConnectOnLoopBenchmark {
    static final int BATCH = 50;

    @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "MUDUO_EPOLL", "NETTY_NIO", "NETTY_EPOLL", "NETTY_EPOLL_BUSY", "NETTY_IO_URING"})
    public Impl impl;

    private Peer.Server server;
    private Peer.ConnectProbe probe;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Peer peer = impl.newPeer(false);
        server = peer.startServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        probe = peer.connectProbe(server.address(), Peer.ConnectStart.LOOP, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (probe != null) {
            probe.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private long connects;

    /** A batch, once the server is at most {@link ConnectBenchmark#SERVER_LAG} closes behind (see there). */
    @Benchmark
    public void connectOnLoop() throws IOException {
        while (connects - server.connectionsClosed() >= ConnectBenchmark.SERVER_LAG) {
            Thread.yield(); // 2 cores: leave the CPU to the server it waits for
        }
        connects += BATCH;
        probe.connectBatch(BATCH, null);
    }
}
