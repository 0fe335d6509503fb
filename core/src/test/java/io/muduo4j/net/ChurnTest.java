package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 20,000 connect/echo/close cycles, {@value #PARALLEL} in flight, between {@link TcpClient}s on
 * two client loops and a {@link TcpServer} with two I/O threads. Each cycle echoes a message of
 * its own (checked byte for byte) and then ends in one of six ways, in turn: the client closes,
 * the client aborts (reset), the client half-closes, the server force-closes, the server aborts,
 * the server half-closes. Afterwards, compared with a baseline taken after a warm-up, the process
 * holds no more descriptors and threads (polled with a deadline while the last closes settle), its
 * heap after GC is back within {@value #HEAP_TOLERANCE_MIB} MiB of the baseline, and its direct
 * memory has grown by no more than the loops' buffer pools may hold.
 */
@Timeout(240)
class ChurnTest {
    private static final int CYCLES = 20_000;
    private static final int WARMUP = 1_000;
    private static final int PARALLEL = 8;
    private static final int CLIENT_LOOPS = 2;
    private static final int SERVER_IO_THREADS = 2;
    private static final int HEAP_TOLERANCE_MIB = 8;
    private static final int MAX_PAYLOAD = 600; // below Buffer.INITIAL_SIZE: no buffer grows

    /** How a cycle ends. */
    enum Ending { CLIENT_CLOSE, CLIENT_ABORT, CLIENT_SHUTDOWN, SERVER_FORCE_CLOSE, SERVER_ABORT, SERVER_SHUTDOWN }

    private static final Ending[] ENDINGS = Ending.values();

    /** Client to server: {@code [op:1][len:2][payload]}; the server echoes payloads only. */
    private static final byte OP_ECHO = 0;
    private static final byte OP_FORCE_CLOSE = 1;
    private static final byte OP_ABORT = 2;
    private static final byte OP_SHUTDOWN = 3;

    static int payloadLength(int cycle) {
        return 1 + (cycle * 131) % MAX_PAYLOAD;
    }

    static byte payloadByte(int cycle, int i) {
        return (byte) (cycle * 31 + i * 7 + (i >>> 3));
    }

    private static byte[] frame(byte op, int cycle) {
        int len = op == OP_ECHO ? payloadLength(cycle) : 0;
        byte[] f = new byte[3 + len];
        f[0] = op;
        f[1] = (byte) (len >>> 8);
        f[2] = (byte) len;
        for (int i = 0; i < len; i++) {
            f[3 + i] = payloadByte(cycle, i);
        }
        return f;
    }

    /** The server: echoes each frame's payload, then does what its op asks. I/O loop thread. */
    private static void serverMessage(TcpConnection c, Buffer b) {
        while (b.readableBytes() >= 3) {
            int len = ((b.getByte(1) & 0xFF) << 8) | (b.getByte(2) & 0xFF);
            if (b.readableBytes() < 3 + len) {
                return;
            }
            byte op = b.readInt8();
            b.retrieve(2);
            if (len > 0) {
                c.send(b.retrieveAsBytes(len));
            }
            switch (op) {
                case OP_FORCE_CLOSE:
                    c.forceClose();
                    break;
                case OP_ABORT:
                    c.abort();
                    break;
                case OP_SHUTDOWN:
                    c.shutdown();
                    break;
                default:
                    break;
            }
        }
    }

    /** One cycle's client side; its loop thread only. */
    private static final class Cycle {
        final int index;
        final Ending ending;
        final int length;
        int matched;

        Cycle(int index) {
            this.index = index;
            this.ending = ENDINGS[index % ENDINGS.length];
            this.length = payloadLength(index);
        }
    }

    /** Runs {@code cycles} cycles, {@link #PARALLEL} at a time; fails on any wrong echo or a cycle that hangs. */
    private static void cycles(EventLoop[] clientLoops, InetSocketAddress addr, int cycles, int firstIndex)
            throws Exception {
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AtomicIntegerArray downs = new AtomicIntegerArray(cycles);
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        CompletableFuture<Void> all = new CompletableFuture<>();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            int k = started.getAndIncrement();
            if (k >= cycles) {
                return;
            }
            int index = firstIndex + k;
            EventLoop loop = clientLoops[k % clientLoops.length];
            loop.execute(() -> {
                Cycle cy = new Cycle(index);
                TcpClient c = new TcpClient(loop, addr, "churn-" + index);
                c.setRetryDelays(10, 100);
                c.setConnectFailedCallback((cause, attempt, delay) -> errors.add("cycle " + index + " connect: " + cause));
                c.setConnectionCallback(conn -> {
                    if (conn.connected()) {
                        conn.send(frame(OP_ECHO, index));
                        return;
                    }
                    if (downs.incrementAndGet(k) != 1) {
                        errors.add("cycle " + index + ": a second down callback");
                    }
                    if (cy.matched != cy.length) {
                        errors.add("cycle " + index + " (" + cy.ending + "): closed after " + cy.matched + " of "
                                + cy.length + " echoed bytes, cause " + conn.closeCause());
                    }
                    c.close().whenComplete((v, t) -> {
                        if (t != null) {
                            all.completeExceptionally(t);
                        } else if (finished.incrementAndGet() == cycles) {
                            all.complete(null);
                        } else {
                            next[0].run();
                        }
                    });
                });
                c.setMessageCallback((conn, b, t) -> {
                    while (b.readableBytes() > 0) {
                        byte got = b.readInt8();
                        if (cy.matched >= cy.length || got != payloadByte(index, cy.matched)) {
                            errors.add("cycle " + index + ": wrong echo byte at " + cy.matched);
                            b.retrieveAll();
                            conn.forceClose();
                            return;
                        }
                        if (++cy.matched == cy.length) {
                            end(c, conn, cy);
                        }
                    }
                });
                c.connect();
            });
        };
        for (int i = 0; i < PARALLEL; i++) {
            next[0].run();
        }
        try {
            get(all, 120, cycles + " cycles (" + finished.get() + " done)");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; errors: " + first(errors), e);
        }
        assertTrue(errors.isEmpty(), errors.size() + " errors, first: " + first(errors));
    }

    private static String first(ConcurrentLinkedQueue<String> errors) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (String e : errors) {
            if (n++ == 10) {
                break;
            }
            sb.append("\n  ").append(e);
        }
        return sb.toString();
    }

    /** The echo is complete: end the cycle its way. Client loop thread. */
    private static void end(TcpClient c, TcpConnection conn, Cycle cy) {
        switch (cy.ending) {
            case CLIENT_CLOSE:
                c.close();
                break;
            case CLIENT_ABORT:
                conn.abort();
                break;
            case CLIENT_SHUTDOWN:
                conn.shutdown(); // the server sees EOF and closes; then we see EOF
                break;
            case SERVER_FORCE_CLOSE:
                conn.send(frame(OP_FORCE_CLOSE, cy.index));
                break;
            case SERVER_ABORT:
                conn.send(frame(OP_ABORT, cy.index));
                break;
            default:
                conn.send(frame(OP_SHUTDOWN, cy.index));
                break;
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void twentyThousandCyclesLeaveNoDescriptorThreadHeapOrDirectMemoryBehind(EventLoop.WaitMode mode) throws Exception {
        AtomicInteger ups = new AtomicInteger();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("churn-base");
            EventLoop[] clientLoops = new EventLoop[CLIENT_LOOPS];
            for (int i = 0; i < CLIENT_LOOPS; i++) {
                clientLoops[i] = loops.start("churn-client-" + i);
            }
            TcpServer server = TcpTestSupport.server(loops, base, "churn", SERVER_IO_THREADS, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        ups.incrementAndGet();
                    } else {
                        downs.incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> serverMessage(c, b));
            });
            InetSocketAddress addr = server.listenAddress();

            // Warm-up: lazily opened JDK descriptors, JIT, the buffer pools' working set.
            cycles(clientLoops, addr, WARMUP, 0);
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections after warm-up");
            TcpTestSupport.awaitAtMost(() -> ups.get() - downs.get(), 0, "server down callbacks after warm-up");
            int fdsBefore = TcpTestSupport.openFds();
            int threadsBefore = threadCount();
            long heapBefore = heapAfterGc();
            long directBefore = directMemory();
            long directCountBefore = directCount();

            long start = System.nanoTime();
            cycles(clientLoops, addr, CYCLES, WARMUP);
            long elapsed = System.nanoTime() - start;
            assertEquals(WARMUP + CYCLES, ups.get(), "connections the server saw");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections after the cycles");
            TcpTestSupport.awaitAtMost(() -> ups.get() - downs.get(), 0, "server down callbacks");
            TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after " + CYCLES + " cycles");
            TcpTestSupport.awaitAtMost(ChurnTest::threadCount, threadsBefore, "threads after " + CYCLES + " cycles");

            long heapLimit = heapBefore + HEAP_TOLERANCE_MIB * 1024L * 1024;
            long heapAfter = awaitAfterGc(ChurnTest::heapUsed, heapLimit, "heap used after GC (baseline " + heapBefore + ")");
            // Every loop (the base loop, the I/O loops, the client loops) has a pool of at most
            // BufferPool.MAX_POOLED buffers, here all of the initial size (no message is larger),
            // plus one read scratch: that is all the direct memory the cycles may have added.
            int poolLoops = 1 + SERVER_IO_THREADS + CLIENT_LOOPS;
            long poolBound = (long) poolLoops * ((long) BufferPool.MAX_POOLED
                    * (Buffer.INITIAL_SIZE + Buffer.CHEAP_PREPEND) + BufferPool.SCRATCH_SIZE);
            long directAfter = awaitAfterGc(ChurnTest::directMemory, directBefore + poolBound,
                    "direct memory (baseline " + directBefore + ", pool bound " + poolBound + ")");
            long directCountAfter = directCount();
            assertTrue(directCountAfter <= directCountBefore + (long) poolLoops * (BufferPool.MAX_POOLED + 1),
                    "direct buffers: " + directCountAfter + ", baseline " + directCountBefore);
            System.out.printf("[ChurnTest] %s: %d cycles in %d ms; fds %d -> %d, threads %d -> %d,"
                    + " heap %.1f -> %.1f MiB, direct %.1f -> %.1f MiB (%d -> %d buffers)%n",
                    mode, CYCLES, TimeUnit.NANOSECONDS.toMillis(elapsed), fdsBefore, TcpTestSupport.openFds(),
                    threadsBefore, threadCount(), heapBefore / 1048576.0, heapAfter / 1048576.0,
                    directBefore / 1048576.0, directAfter / 1048576.0, directCountBefore, directCountAfter);
            server.close();
        }
    }

    static int threadCount() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap used after a few full collections: the lowest reading. */
    static long heapAfterGc() {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            min = Math.min(min, heapUsed());
        }
        return min;
    }

    private static BufferPoolMXBean directPool() {
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (b.getName().equals("direct")) {
                return b;
            }
        }
        throw new AssertionError("no direct buffer pool bean");
    }

    static long directMemory() {
        return directPool().getMemoryUsed();
    }

    static long directCount() {
        return directPool().getCount();
    }

    /**
     * Collects until {@code reading} is at most {@code limit} (direct buffers are freed by their
     * cleaners after a collection, a moment later); fails after 10 tries spread over a deadline.
     */
    static long awaitAfterGc(LongSupplier reading, long limit, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TcpTestSupport.WAIT_SECONDS);
        long v = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            v = reading.getAsLong();
            if (v <= limit) {
                return v;
            }
            if (System.nanoTime() - deadline > 0) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // let the cleaner thread run
        }
        fail(what + ": " + v + ", limit " + limit);
        return v;
    }
}
