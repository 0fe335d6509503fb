package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 10,000 connect/close cycles between {@link TcpClient}s and a {@link TcpServer}, 16 at a time,
 * closed in turn by the client ({@code close()}), by the server ({@code forceClose()}) and by a
 * server reset ({@code abort()}): afterwards the process has no more descriptors open than
 * before (counted in {@code /proc/self/fd}, polled with a deadline while the last closes settle),
 * and the server holds no connection.
 */
@Timeout(90)
class FdLeakTest {
    private static final int CYCLES = 10_000;
    private static final int PARALLEL = 16;
    private static final int WARMUP = 200;

    /** Runs {@code cycles} connect/close cycles, {@link #PARALLEL} at a time, driven on the client loop. */
    private static void cycles(EventLoop clientLoop, InetSocketAddress addr, int cycles) throws Exception {
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        Runnable[] next = new Runnable[1];
        next[0] = () -> {
            int i = started.getAndIncrement();
            if (i >= cycles) {
                return;
            }
            TcpClient c = new TcpClient(clientLoop, addr, "fd-" + i);
            c.setRetryDelays(10, 100);
            c.setConnectionCallback(conn -> {
                if (conn.connected()) {
                    if (i % 3 == 0) {
                        c.close();
                    } else {
                        conn.send(new byte[] {(byte) (i % 3)}); // asks the server to close
                    }
                    return;
                }
                // down, exactly once per cycle, whoever closed; the cycle ends when the close completes
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
            c.connect();
        };
        clientLoop.runInLoop(() -> {
            for (int k = 0; k < PARALLEL; k++) {
                next[0].run();
            }
        });
        get(all, 60, cycles + " cycles (" + finished.get() + " done)");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void noDescriptorLeftAfterTenThousandCycles(EventLoop.WaitMode mode) throws Exception {
        AtomicInteger ups = new AtomicInteger();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fd-base");
            EventLoop clientLoop = loops.start("fd-client");
            TcpServer server = TcpTestSupport.server(loops, base, "fd", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        ups.incrementAndGet();
                    } else {
                        downs.incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (b.readInt8() == 1) {
                        c.forceClose();
                    } else {
                        c.abort();
                    }
                });
            });
            cycles(clientLoop, server.listenAddress(), WARMUP); // lazily opened JDK descriptors
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections after warm-up");
            int fdsBefore = TcpTestSupport.openFds();
            int socketsBefore = TcpTestSupport.openSockets();

            long start = System.nanoTime();
            cycles(clientLoop, server.listenAddress(), CYCLES);
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after " + CYCLES + " cycles");
            TcpTestSupport.awaitAtMost(TcpTestSupport::openFds, fdsBefore, "descriptors after " + CYCLES + " cycles");
            System.out.printf("FdLeakTest %s: %d cycles in %d ms%n", mode, CYCLES, (System.nanoTime() - start) / 1_000_000);
            // A client of every third cycle closes as soon as it is up, so its connection can die before the
            // server has set it up (a socket option on a reset socket fails): the server then drops it with
            // no callback at all. That is rare (1 in 10,200 seen once); what must hold is no descriptor left
            // (above), every up matched by a down (below), and nearly every connection served.
            int total = WARMUP + CYCLES;
            assertTrue(ups.get() <= total && ups.get() >= total - total / 100, ups.get() + " up callbacks for " + total);
            TcpTestSupport.awaitAtMost(() -> ups.get() - downs.get(), 0, "server down callbacks");
            server.close();
        }
    }
}
