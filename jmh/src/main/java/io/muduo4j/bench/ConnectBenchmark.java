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
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Connect-establish latency: from starting a connect to the established-connection callback (for
 * the JDK: {@code connect()} returning), then an abortive close, against the same
 * implementation's in-process echo server on 127.0.0.1.
 *
 * <p>The client closes with SO_LINGER 0, so the connection ends with a RST: neither side enters
 * TIME_WAIT, and a run of any length never exhausts the ephemeral port range (a normal close
 * would leave one TIME_WAIT socket per connect for 60 s, about 28k ports by default). The close
 * is only initiated inside the measured operation (it is asynchronous for the reactors, one
 * {@code close(2)} for the JDK).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.SampleTime, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 15, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {BenchJvm.ADD_OPENS, BenchJvm.MISC, BenchJvm.NATIVE_ACCESS, BenchJvm.XMS, BenchJvm.XMX, BenchJvm.BOX_CACHE,
        BenchJvm.NO_LEAK_DETECTION})
public class ConnectBenchmark {
    @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "MUDUO_EPOLL", "NETTY_NIO", "NETTY_EPOLL", "NETTY_EPOLL_BUSY", "NETTY_IO_URING", "JDK", "JDK_VIRTUAL"})
    public Impl impl;

    private Peer.Server server;
    private Peer.ConnectProbe probe;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Peer peer = impl.newPeer(true);
        server = peer.startServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        probe = peer.connectProbe(server.address());
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

    /** The most connections the client may be ahead of the server's closes (see {@link Peer.Server#connectionsClosed()}). */
    static final int SERVER_LAG = 64;
    private long connects;

    /**
     * One connect. When the server has fallen {@value #SERVER_LAG} connections behind, the
     * operation first waits for it, so what is measured is the client's connect at a rate the
     * server sustains, never a SYN dropped by a full backlog (a 1 s retransmission). The check is
     * one volatile read while the server keeps up; every implementation gets it. The wait yields: on 2 cores a spinning client would take the CPU from the server it waits for.
     */
    @Benchmark
    public void connect() throws IOException {
        while (connects - server.connectionsClosed() >= SERVER_LAG) {
            Thread.yield(); // 2 cores: leave the CPU to the server it waits for
        }
        connects++;
        probe.connectOnce();
    }
}
