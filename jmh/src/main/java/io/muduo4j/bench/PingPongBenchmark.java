package io.muduo4j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Throughput after muduo's {@code examples/pingpong}: {@code connections} sessions, each sends one
 * block of {@code size} bytes on connect, and client and server then echo whatever they read.
 * One server loop and one client loop (muduo's single-thread setup; this machine has 2 cores).
 *
 * <p>The client runs on its own loop; the JMH thread only samples the byte counters every
 * {@value #SAMPLE_MILLIS} ms while parked, so the primary score (samples/s) means nothing. The
 * results are the auxiliary counters: {@code mibPerSec} = bytes read by the client / seconds /
 * 2^20, exactly muduo's figure, {@code readsPerSec} (muduo's "messages read") and
 * {@code blocksPerSec} (whole blocks echoed). {@code gc.alloc.rate.norm} is per sample; the report
 * turns it into bytes per block.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 14, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {BenchJvm.ADD_OPENS, BenchJvm.MISC, BenchJvm.NATIVE_ACCESS, BenchJvm.XMS, BenchJvm.XMX, BenchJvm.BOX_CACHE,
        BenchJvm.NO_LEAK_DETECTION})
public class PingPongBenchmark {
    static final long SAMPLE_MILLIS = 10;
    private static final double MIB = 1024.0 * 1024.0;

    @Param({"MUDUO_BLOCKING", "MUDUO_SPINNING", "MUDUO_EPOLL", "NETTY_NIO", "NETTY_EPOLL", "NETTY_EPOLL_BUSY", "NETTY_IO_URING", "JDK", "JDK_VIRTUAL"})
    public Impl impl;

    @Param({"1", "10", "100"})
    public int connections;

    @Param({"4096", "16384", "65536"})
    public int size;

    private Peer.Server server;
    private Peer.PingPong pingPong;
    private long lastBytes;
    private long lastReads;
    private long lastBlocks;

    /** Rates over the iteration (JMH divides OPERATIONS counters by the iteration time). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Rates {
        public double mibPerSec;
        public long readsPerSec;
        public long blocksPerSec;

        @Setup(Level.Iteration)
        public void reset() {
            mibPerSec = 0;
            readsPerSec = 0;
            blocksPerSec = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Peer peer = impl.newPeer(false);
        server = peer.startServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        pingPong = peer.pingPong(server.address(), connections, size, 1, false);
    }

    @Setup(Level.Iteration)
    public void baseline() {
        lastBytes = pingPong.bytesRead();
        lastReads = pingPong.readCalls();
        lastBlocks = pingPong.blocks();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pingPong != null) {
            pingPong.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Benchmark
    public void pingpong(Rates r) {
        LockSupport.parkNanos(SAMPLE_MILLIS * 1_000_000L);
        long bytes = pingPong.bytesRead();
        long reads = pingPong.readCalls();
        long blocks = pingPong.blocks();
        r.mibPerSec += (bytes - lastBytes) / MIB;
        r.readsPerSec += reads - lastReads;
        r.blocksPerSec += blocks - lastBlocks;
        lastBytes = bytes;
        lastReads = reads;
        lastBlocks = blocks;
    }
}
