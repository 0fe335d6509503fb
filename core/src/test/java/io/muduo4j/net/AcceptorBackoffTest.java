package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@link Acceptor}'s handling of accept failures, whatever the exception says: failures are
 * injected through its accept seam with messages that name no cause. A failure that persists
 * pauses the listener with a back-off doubling from {@value Acceptor#MIN_PAUSE_MS} ms (a bounded
 * number of accept calls and readiness events, no spin) and is logged once, then summarised once
 * when accepting works again (and the back-off is reset); a single failure moves on to the next
 * pending connection without closing anything; failures that the freed reserve descriptor cures
 * (running out of descriptors) refuse each pending connection politely, at three accept calls
 * each, without pausing. Log lines are counted by the acceptor and, independently, by a
 * {@code java.util.logging} handler.
 */
@Timeout(30)
class AcceptorBackoffTest {
    private static final InetSocketAddress LOCAL = TcpTestSupport.ANY_LOCAL_PORT;
    private static final Logger JUL = Logger.getLogger(Acceptor.class.getName());

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final List<Socket> clients = new ArrayList<>();
    private final List<SocketChannel> handed = new CopyOnWriteArrayList<>();

    @BeforeEach
    void captureLog() {
        JUL.addHandler(capture);
    }

    @AfterEach
    void release() throws IOException {
        JUL.removeHandler(capture);
        for (Socket s : clients) {
            s.close();
        }
        for (SocketChannel s : handed) {
            s.close();
        }
    }

    private Socket connect(InetSocketAddress addr) throws IOException {
        Socket s = new Socket();
        clients.add(s);
        s.connect(addr, 5_000); // completes in the backlog, accepted or not
        s.setSoTimeout(5_000);
        return s;
    }

    private static <T> T on(EventLoop loop, java.util.concurrent.Callable<T> c) throws Exception {
        return onLoop(loop, c);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void persistentFailureBacksOffAndIsLoggedOnce(EventLoop.WaitMode mode) throws Exception {
        AtomicBoolean failing = new AtomicBoolean(true);
        AtomicInteger n = new AtomicInteger();
        CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode).onTransport(Transport.NIO)) {
            EventLoop loop = loops.start("acceptor-backoff");
            Acceptor acceptor = new Acceptor(loop, LOCAL, false, 16, LoopTestSupport.nioHandler(loop, s -> {
                handed.add(s);
                accepted.complete(s);
            }), (p, listener, into) -> {
                if (failing.get()) {
                    throw new IOException("injected failure " + n.incrementAndGet() + " (no known cause)");
                }
                return p.accept(listener, into);
            });
            try {
                onLoop(loop, () -> {
                    acceptor.listen();
                    return null;
                });
                long t0 = System.nanoTime();
                connect(acceptor.localAddress());
                int pauses = 6;
                LoopTestSupport.awaitTrue(() -> {
                    try {
                        return on(loop, acceptor::pauseCount) >= pauses;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, pauses + " pauses");
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                long[] c = on(loop, () -> new long[] {acceptor.pauseCount(), acceptor.acceptCalls(),
                    acceptor.acceptFailures(), acceptor.readEvents(), acceptor.logLines(), acceptor.nextPauseMs(),
                    acceptor.refusedCount()});
                long p = c[0];
                System.out.printf("[AcceptorBackoffTest] %s: %d pauses in %d ms, %d accept calls, %d read events,"
                        + " %d log lines, next pause %d ms%n", mode, p, elapsedMs, c[1], c[3], c[4], c[5]);
                // The first five pauses (10 + 20 + 40 + 80 + 160 ms) had run out before the sixth began.
                assertTrue(elapsedMs >= 310, "6 pauses after only " + elapsedMs + " ms: no back-off");
                assertTrue(p <= 8, "pauses " + p + " in " + elapsedMs + " ms");
                assertEquals(Math.min(Acceptor.MIN_PAUSE_MS << p, Acceptor.MAX_PAUSE_MS), c[5], "doubling back-off");
                assertTrue(c[3] <= p + 1, "read events " + c[3] + " for " + p + " pauses: the listener was polled while paused");
                assertTrue(c[1] <= 3 * c[3], "accept calls " + c[1] + " for " + c[3] + " read events");
                assertEquals(c[1], c[2], "every call failed");
                assertEquals(0, c[6], "a connection was refused, though the reserve did not help");
                assertEquals(1, c[4], "log lines during the streak");
                assertEquals(1, records.size(), "log records during the streak: " + records.size());
                assertTrue(records.get(0).getThrown() != null, "the first failure is logged with its exception");
                assertTrue(handed.isEmpty());

                // Accepting works again: the pending connection is taken after the current pause.
                failing.set(false);
                get(accepted, "the pending connection once accept works");
                long[] after = on(loop, () -> new long[] {acceptor.logLines(), acceptor.nextPauseMs(),
                    acceptor.isPaused() ? 1 : 0});
                assertEquals(2, after[0], "one summary when the streak ended");
                assertEquals(2, records.size());
                assertTrue(records.get(1).getMessage().contains("accepting again"), records.get(1).getMessage());
                assertEquals(Acceptor.MIN_PAUSE_MS, after[1], "back-off reset by the accepted connection");
                assertEquals(0, after[2]);
            } finally {
                onLoop(loop, () -> {
                    acceptor.close();
                    return null;
                });
            }
            assertEquals(0, on(loop, loop::pendingTimers), "resume timer left after close()");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void singleFailureMovesOnToTheNextConnection(EventLoop.WaitMode mode) throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode).onTransport(Transport.NIO)) {
            EventLoop loop = loops.start("acceptor-transient");
            Acceptor acceptor = new Acceptor(loop, LOCAL, false, 16, LoopTestSupport.nioHandler(loop, handed::add), (p, listener, into) -> {
                if (calls.incrementAndGet() == 1) {
                    throw new IOException("something odd");
                }
                return p.accept(listener, into);
            });
            try {
                InetSocketAddress addr = acceptor.localAddress();
                Socket a = connect(addr);
                Socket b = connect(addr);
                onLoop(loop, () -> {
                    acceptor.listen();
                    return null;
                });
                LoopTestSupport.awaitTrue(() -> handed.size() == 2, "both connections handed over");
                long[] c = on(loop, () -> new long[] {acceptor.acceptFailures(), acceptor.refusedCount(),
                    acceptor.pauseCount(), acceptor.logLines()});
                assertEquals(1, c[0], "failures");
                assertEquals(0, c[1], "a legitimate connection was refused for a single failure");
                assertEquals(0, c[2], "paused for a single failure");
                assertEquals(1, c[3], "log lines");
                assertEquals(1, records.size());
                for (SocketChannel s : handed) {
                    assertTrue(s.isOpen());
                }
                // Both connections are really served: nothing closed them.
                a.getOutputStream().write(1);
                b.getOutputStream().write(2);
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4);
                for (SocketChannel s : handed) {
                    s.configureBlocking(true);
                    buf.clear();
                    assertEquals(1, s.read(buf), "byte from the client");
                }
            } finally {
                onLoop(loop, () -> {
                    acceptor.close();
                    return null;
                });
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void failuresCuredByTheReserveRefuseConnectionsPolitely(EventLoop.WaitMode mode) throws Exception {
        int pending = 3;
        Acceptor[] self = new Acceptor[1];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode).onTransport(Transport.NIO)) {
            EventLoop loop = loops.start("acceptor-reserve");
            // "Out of descriptors" while the reserve is held, told by nothing but what works.
            Acceptor acceptor = new Acceptor(loop, LOCAL, false, 16, LoopTestSupport.nioHandler(loop, handed::add), (p, listener, into) -> {
                if (self[0].hasReserve()) {
                    throw new IOException("no reason given");
                }
                return p.accept(listener, into);
            });
            self[0] = acceptor;
            try {
                InetSocketAddress addr = acceptor.localAddress();
                List<Socket> refused = new ArrayList<>();
                for (int i = 0; i < pending; i++) {
                    refused.add(connect(addr));
                }
                onLoop(loop, () -> {
                    acceptor.listen();
                    return null;
                });
                for (Socket s : refused) {
                    assertEquals(-1, s.getInputStream().read(), "the refused peer sees the close");
                }
                LoopTestSupport.runIterations(loop, 3);
                long[] c = on(loop, () -> new long[] {acceptor.refusedCount(), acceptor.acceptCalls(),
                    acceptor.readEvents(), acceptor.pauseCount(), acceptor.logLines(), acceptor.hasReserve() ? 1 : 0});
                assertEquals(pending, c[0], "refused");
                assertTrue(c[2] <= pending, "read events " + c[2]);
                assertTrue(c[1] <= 3L * c[0] + 3L * c[2], "accept calls " + c[1] + " for " + c[0]
                        + " refusals in " + c[2] + " read events");
                assertEquals(0, c[3], "paused although the reserve helped");
                assertEquals(1, c[4], "log lines");
                assertEquals(1, records.size());
                assertEquals(1, c[5], "the reserve is held again");
                assertTrue(handed.isEmpty(), "a connection was handed over while out of descriptors");
                assertFalse(on(loop, acceptor::isPaused));
            } finally {
                onLoop(loop, () -> {
                    acceptor.close();
                    return null;
                });
            }
        }
    }
}
