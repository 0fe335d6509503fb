package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * muduo's {@code TcpClient_reg1..3}: a client stopped or closed right after {@code connect()} (in
 * the same loop task, in the same drain as the connect attempt, from another thread at once or
 * after a random spin), while it waits to retry (1 ms delays against a port with no listener), from
 * inside its own up, failure and down callbacks, and while its loop is quitting
 * ({@link EventLoopThread#close()} racing {@link TcpClient#close()}). Against a port with no
 * listener and against a server. Nothing throws or is reported, every close future completes, every
 * connection that came up goes down exactly once, no callback runs after the close completed, and
 * afterwards no timer is pending and no socket is left open.
 */
@Timeout(90)
class TcpClientRaceTest {
    private static final int ROUNDS = 60;
    private static final int QUIT_ROUNDS = 40;

    enum Target { NO_LISTENER, LISTENER }

    enum Variant {
        CONNECT_STOP_IN_ONE_TASK,
        CONNECT_THEN_QUEUED_STOP,
        CONNECT_THEN_QUEUED_CLOSE,
        CONNECT_CLOSE_IN_ONE_TASK,
        CONNECT_CLOSE_FROM_ANOTHER_THREAD,
        CONNECT_SPIN_CLOSE_FROM_ANOTHER_THREAD,
        CONNECT_STOP_CONNECT_CLOSE,
        STOP_IN_UP_OR_FAILURE,
        CLOSE_IN_UP_OR_FAILURE,
        RECONNECT_IN_DOWN_THEN_CLOSE,
    }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (Target t : Target.values()) {
                a.add(Arguments.of(m, t));
            }
        }
        return a;
    }

    /** What one client saw. */
    static final class Observed {
        final List<String> violations;
        final Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        final AtomicInteger ups = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();
        final CompletableFuture<Void> event = new CompletableFuture<>(); // first up or failure
        final AtomicInteger reconnects = new AtomicInteger();

        Observed(List<String> violations) {
            this.violations = violations;
        }

        void after(String what) {
            if (closed.get()) {
                violations.add(what + " after the close completed");
            }
        }

        CompletableFuture<Void> close(TcpClient c) {
            CompletableFuture<Void> f = c.close();
            f.whenComplete((v, t) -> closed.set(true));
            return f;
        }
    }

    private static TcpClient client(EventLoop loop, InetSocketAddress addr, String name, Variant v, Observed o) {
        TcpClient c = new TcpClient(loop, addr, name);
        c.setRetryDelays(1, 4);
        c.setConnectionCallback(conn -> {
            o.after("connection callback");
            if (conn.connected()) {
                o.ups.incrementAndGet();
                o.downs.put(conn.id(), new AtomicInteger());
                if (v == Variant.STOP_IN_UP_OR_FAILURE) {
                    c.stop();
                } else if (v == Variant.CLOSE_IN_UP_OR_FAILURE) {
                    o.close(c);
                } else if (v == Variant.RECONNECT_IN_DOWN_THEN_CLOSE) {
                    if (o.reconnects.get() == 0) {
                        conn.forceClose();
                    } else {
                        o.close(c);
                    }
                }
                if (v != Variant.RECONNECT_IN_DOWN_THEN_CLOSE || o.reconnects.get() > 0) {
                    o.event.complete(null); // (the test closes after this; a reconnect must come before)
                }
            } else {
                AtomicInteger n = o.downs.get(conn.id());
                if (n == null || n.incrementAndGet() != 1) {
                    o.violations.add("down callback #" + (n == null ? "?" : n.get()) + " of " + conn);
                }
                if (v == Variant.RECONNECT_IN_DOWN_THEN_CLOSE && o.reconnects.getAndIncrement() == 0) {
                    c.connect();
                }
            }
        });
        c.setConnectFailedCallback((cause, attempt, next) -> {
            o.after("failure callback");
            if (v == Variant.STOP_IN_UP_OR_FAILURE) {
                c.stop();
            } else if (v == Variant.CLOSE_IN_UP_OR_FAILURE || v == Variant.RECONNECT_IN_DOWN_THEN_CLOSE) {
                o.close(c);
            }
            o.event.complete(null);
        });
        return c;
    }

    private static void drive(EventLoop loop, TcpClient c, Variant v, Observed o) throws Exception {
        switch (v) {
            case CONNECT_STOP_IN_ONE_TASK:
                onLoop(loop, () -> {
                    c.connect();
                    c.stop();
                    return null;
                });
                break;
            case CONNECT_THEN_QUEUED_STOP:
                onLoop(loop, () -> {
                    c.connect(); // queues the attempt; the stop runs right after it, in the same drain
                    loop.queueInLoop(c::stop);
                    return null;
                });
                break;
            case CONNECT_THEN_QUEUED_CLOSE:
                onLoop(loop, () -> {
                    c.connect();
                    loop.queueInLoop(() -> o.close(c));
                    return null;
                });
                break;
            case CONNECT_CLOSE_IN_ONE_TASK:
                onLoop(loop, () -> {
                    c.connect();
                    return o.close(c);
                });
                break;
            case CONNECT_CLOSE_FROM_ANOTHER_THREAD:
                c.connect();
                o.close(c);
                break;
            case CONNECT_SPIN_CLOSE_FROM_ANOTHER_THREAD:
                c.connect();
                LoopTestSupport.busyWork(ThreadLocalRandom.current().nextLong(TimeUnit.MICROSECONDS.toNanos(3_000)));
                o.close(c);
                break;
            case CONNECT_STOP_CONNECT_CLOSE:
                c.connect();
                c.stop();
                c.connect();
                LoopTestSupport.busyWork(ThreadLocalRandom.current().nextLong(TimeUnit.MICROSECONDS.toNanos(500)));
                o.close(c);
                break;
            default: // the callbacks act
                c.connect();
                get(o.event, "an up or failure callback");
                break;
        }
        get(o.close(c), "close of " + c + " (" + v + ")");
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void stopOrCloseRightAfterConnectDuringRetryAndFromCallbacks(EventLoop.WaitMode mode, Target target) throws Exception {
        List<String> violations = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("race-base");
            EventLoop loop = loops.start("race-client");
            int socketsBefore = TcpTestSupport.openSockets();
            TcpServer server = null;
            InetSocketAddress addr;
            if (target == Target.LISTENER) {
                server = TcpTestSupport.server(loops, base, "race", 1, s -> s.setMessageCallback((c, b, t) -> c.send(b)));
                addr = server.listenAddress();
            } else {
                addr = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
            }
            List<Observed> all = new ArrayList<>();
            Variant[] variants = Variant.values();
            for (int round = 0; round < ROUNDS; round++) {
                Variant v = variants[round % variants.length];
                Observed o = new Observed(violations);
                all.add(o);
                TcpClient c = client(loop, addr, "race-" + round, v, o);
                drive(loop, c, v, o);
                assertTrue(c.isClosed());
            }
            LoopTestSupport.runIterations(loop, 3);
            for (Observed o : all) {
                for (Map.Entry<Long, AtomicInteger> e : o.downs.entrySet()) {
                    assertEquals(1, e.getValue().get(), "down callbacks of connection " + e.getKey());
                }
            }
            assertTrue(violations.isEmpty(), "violations: " + violations);
            assertEquals(0, onLoop(loop, loop::pendingTimers), "timers left on the client loop");
            if (server != null) {
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                server.close();
            }
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after " + ROUNDS + " clients");
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }

    /**
     * {@link EventLoopThread#close()} and {@link TcpClient#close()} from two threads at once, with
     * the client connecting, connected, or waiting to retry. The close future completes either
     * way (on the loop, or from the closing thread when the loop has ended), neither call throws,
     * and every socket of the client is closed. After the loop ended, {@code stop()},
     * {@code disconnect()} and {@code close()} are harmless and {@code connect()} is refused with
     * an {@link IllegalStateException}.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("cases")
    void closeWhileItsLoopQuits(EventLoop.WaitMode mode, Target target) throws Exception {
        List<String> violations = new CopyOnWriteArrayList<>();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("quit-race-base");
            int socketsBefore = TcpTestSupport.openSockets();
            TcpServer server = null;
            InetSocketAddress addr;
            if (target == Target.LISTENER) {
                server = TcpTestSupport.server(loops, base, "quit-race", 1, s -> s.setMessageCallback((c, b, t) -> c.send(b)));
                addr = server.listenAddress();
            } else {
                addr = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
            }
            for (int round = 0; round < QUIT_ROUNDS; round++) {
                EventLoopThread lt = new EventLoopThread("quit-race-" + round, loops.loopOptions(), null);
                EventLoop loop = lt.startLoop();
                Observed o = new Observed(violations);
                TcpClient c = client(loop, addr, "quit-race-" + round, Variant.CONNECT_CLOSE_FROM_ANOTHER_THREAD, o);
                c.connect();
                if (round % 2 == 1) {
                    get(o.event, "an up or failure callback");
                }
                CyclicBarrier go = new CyclicBarrier(2);
                CompletableFuture<CompletableFuture<Void>> closing = new CompletableFuture<>();
                Thread closer = new Thread(() -> {
                    try {
                        go.await(5, TimeUnit.SECONDS);
                        closing.complete(c.close());
                    } catch (Throwable e) {
                        thrown.add(e);
                        closing.completeExceptionally(e);
                    }
                }, "quit-race-closer");
                closer.start();
                go.await(5, TimeUnit.SECONDS);
                if (round % 4 >= 2) {
                    LoopTestSupport.busyWork(ThreadLocalRandom.current().nextLong(TimeUnit.MICROSECONDS.toNanos(200)));
                }
                try {
                    lt.close();
                } catch (Throwable e) {
                    thrown.add(e);
                }
                LoopTestSupport.join(closer);
                get(get(closing, "close() returned"), "the close future of round " + round);
                assertTrue(loop.isTerminated());
                try {
                    c.stop();
                    c.disconnect();
                    get(c.close(), "close() again after the loop ended");
                } catch (Throwable e) {
                    thrown.add(e);
                }
                try {
                    c.connect();
                    violations.add("connect() after close() was accepted");
                } catch (IllegalStateException expected) {
                    // closed
                }
            }
            assertTrue(thrown.isEmpty(), "thrown: " + thrown);
            assertTrue(violations.isEmpty(), "violations: " + violations);
            if (server != null) {
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                server.close();
            }
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after " + QUIT_ROUNDS + " rounds");
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }

    /**
     * {@code connect()} and {@code close()} from two threads at once, many times, against a
     * listener that never answers (an attempt that started hangs until closed): whichever wins,
     * once the close future completed the client has no attempt open, no retry pending and never
     * starts one. A probabilistic test: the losing interleaving is a window of a few instructions.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(EventLoop.WaitMode.class)
    void connectRacingCloseLeavesNothingConnecting(EventLoop.WaitMode mode) throws Exception {
        int rounds = 3000;
        List<String> violations = new CopyOnWriteArrayList<>();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t));
             TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
            EventLoop loop = loops.start("connect-close-race");
            int socketsBefore = TcpTestSupport.openSockets();
            java.util.concurrent.atomic.AtomicReference<TcpClient> current = new java.util.concurrent.atomic.AtomicReference<>();
            CyclicBarrier go = new CyclicBarrier(2);
            CyclicBarrier done = new CyclicBarrier(2);
            Thread connector = new Thread(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        go.await(5, TimeUnit.SECONDS);
                        LoopTestSupport.busyWork(ThreadLocalRandom.current().nextLong(20_000));
                        try {
                            current.get().connect();
                        } catch (IllegalStateException closedAlready) {
                            // close() won
                        }
                        done.await(5, TimeUnit.SECONDS);
                    }
                } catch (Exception e) {
                    violations.add("connector thread: " + e);
                }
            }, "connect-close-race-connector");
            connector.setDaemon(true);
            connector.start();
            for (int i = 0; i < rounds; i++) {
                TcpClient c = new TcpClient(loop, listener.address, "ccr-" + i);
                c.setConnectTimeoutMs(0);
                c.setRetryDelays(1, 1);
                current.set(c);
                go.await(5, TimeUnit.SECONDS);
                LoopTestSupport.busyWork(ThreadLocalRandom.current().nextLong(20_000)); // a random skew
                CompletableFuture<Void> closed = c.close();
                done.await(5, TimeUnit.SECONDS);
                get(closed, "close of round " + i);
                Connector con = TcpClientStopTest.connectorOf(c);
                int round = i;
                onLoop(loop, () -> {
                    if (con.state() != Connector.State.DISCONNECTED || con.retryPending()) {
                        violations.add("round " + round + ": connector " + con.state() + ", retry pending " + con.retryPending()
                                + " after close()");
                    }
                    return null;
                });
            }
            LoopTestSupport.join(connector);
            LoopTestSupport.runIterations(loop, 3);
            assertTrue(violations.isEmpty(), "violations: " + violations);
            assertEquals(0, onLoop(loop, loop::pendingTimers), "timers left");
            TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after " + rounds + " rounds");
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }
}
