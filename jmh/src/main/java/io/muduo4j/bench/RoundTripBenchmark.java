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
 * Round-trip latency over one connection to the same implementation's in-process echo server:
 * 16 B, 256 B and 4 KiB messages, one in flight.
 * <ul>
 *   <li>{@link #callerThread}: the JMH thread sends one message and waits for the whole echo. The
 *       path timed is not the same for every implementation, because each does a send from a
 *       foreign thread its own way:
 *       <ul>
 *         <li>muduo4j ({@link Impl#MUDUO_BLOCKING}, {@link Impl#MUDUO_SPINNING}):
 *             {@code TcpConnection.send} from the JMH thread writes the socket itself when the
 *             connection's output is empty (it is, one message in flight), so there is <em>no</em>
 *             hop into the client loop on the way out. The client loop reads the echo and bumps a
 *             volatile counter, on which the JMH thread spins ({@code Thread.onSpinWait}). Timed:
 *             {@code write(2)} on the JMH thread, the server loop's echo, the client loop's wake-up
 *             (blocking: out of {@code epoll_wait}; spinning: its next poll) and read, and the
 *             counter's visibility to the JMH thread.</li>
 *         <li>Netty (all transports): {@code channel.writeAndFlush} from the JMH thread queues a
 *             task on the client event loop and wakes it (an eventfd write, unless the loop
 *             busy-polls, {@link Impl#NETTY_EPOLL_BUSY}); the loop thread then writes the socket
 *             (io_uring: submits the send). The echo comes back as for muduo4j: read on the client
 *             loop, a volatile counter the JMH thread spins on. Timed: the hop into the client loop
 *             and back, plus the same socket work.</li>
 *         <li>JDK ({@link Impl#JDK}, {@link Impl#JDK_VIRTUAL}): the JMH thread owns the blocking
 *             socket and simply writes and then reads it (blocking in {@code read(2)}); there is no
 *             client loop and no cross-thread hand-over on the client side. The two differ only in
 *             the server's connection thread (platform or virtual).</li>
 *       </ul></li>
 *   <li>{@link #onLoop}: the client loop sends the next message from its read callback; the JMH
 *       thread hands a batch of {@value #BATCH} round trips to the loop and parks until the loop
 *       reports it done (parking, not spinning, leaves the second core to the two loops). The hop
 *       and the final wake-up are amortised over the batch. Not for {@link Impl#JDK} and
 *       {@link Impl#JDK_VIRTUAL}, which have no loop: the parameter list leaves them out, so the
 *       run never fails on them.</li>
 * </ul>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 14, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {BenchJvm.ADD_OPENS, BenchJvm.MISC, BenchJvm.NATIVE_ACCESS, BenchJvm.XMS, BenchJvm.XMX, BenchJvm.BOX_CACHE,
        BenchJvm.NO_LEAK_DETECTION})
public class RoundTripBenchmark {
    /** Round trips per {@link #onLoop} invocation. */
    public static final int BATCH = 100;

    abstract static class Base {
        Peer.Server server;
        Peer.RoundTrip roundTrip;

        void start(Impl impl, int size, boolean callerSpins) throws IOException {
            Peer peer = impl.newPeer(callerSpins);
            server = peer.startServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            roundTrip = peer.roundTrip(server.address(), size);
        }

        void stop() {
            if (roundTrip != null) {
                roundTrip.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    @State(Scope.Benchmark)
    public static class CallerThread extends Base {
        @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "MUDUO_EPOLL", "NETTY_NIO", "NETTY_EPOLL", "NETTY_EPOLL_BUSY", "NETTY_IO_URING", "JDK", "JDK_VIRTUAL"})
        public Impl impl;

        @Param({"16", "256", "4096"})
        public int size;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(impl, size, true);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stop();
        }
    }

    @State(Scope.Benchmark)
    public static class OnLoop extends Base {
        @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "MUDUO_EPOLL", "NETTY_NIO", "NETTY_EPOLL", "NETTY_EPOLL_BUSY", "NETTY_IO_URING"})
        public Impl impl;

        @Param({"16", "256", "4096"})
        public int size;

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            start(impl, size, false);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stop();
        }
    }

    /**
     * Eighteen warm-up iterations, four more than the class's: with as many as on-loop, Netty epoll and
     * io_uring at 16 B were still 18-25% faster in the last measured iteration than in the first
     * (perf-results/README.md of 8f9a3e9), their JIT not yet settled on the cross-thread write path.
     */
    @Benchmark
    @Warmup(iterations = 18, time = 500, timeUnit = TimeUnit.MILLISECONDS)
    public void callerThread(CallerThread s) throws IOException {
        s.roundTrip.callerThread();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OperationsPerInvocation(BATCH)
    public void onLoop(OnLoop s) {
        s.roundTrip.onLoop(BATCH);
    }
}
