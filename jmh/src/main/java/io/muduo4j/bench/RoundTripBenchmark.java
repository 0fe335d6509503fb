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
 *   <li>{@link #callerThread}: the JMH thread sends and spins (with {@code Thread.onSpinWait}) on a
 *       volatile counter until the echo has arrived: the cross-thread hop into the client loop is
 *       included, which is what an application thread embedding the library sees. For the JDK the
 *       JMH thread owns the blocking socket and simply writes and reads.</li>
 *   <li>{@link #onLoop}: the client loop sends the next message from its read callback; the JMH
 *       thread hands a batch of {@value #BATCH} round trips to the loop and parks until the loop
 *       reports it done (parking, not spinning, leaves the second core to the two loops). The hop
 *       and the final wake-up are amortised over the batch. Not for {@link Impl#JDK}, which has no
 *       loop: its parameter list leaves it out, so the run never fails on it.</li>
 * </ul>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchJvm.ADD_OPENS, BenchJvm.MISC, BenchJvm.XMS, BenchJvm.XMX, BenchJvm.BOX_CACHE,
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
        @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "NETTY_NIO", "NETTY_EPOLL", "JDK"})
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
        @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "NETTY_NIO", "NETTY_EPOLL"})
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

    @Benchmark
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
