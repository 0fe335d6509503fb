package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stopping and closing a {@link TcpClient} in each of its states: connecting (a connect that
 * hangs against a full backlog), waiting to retry (a long retry delay after a refusal) and
 * connected. {@code stop()} ends connecting but leaves an established connection alone;
 * {@code close()} ends everything, its future completes, and no socket and no timer of the
 * client is left (sockets counted in {@code /proc/self/fd}, timers on the loop).
 */
@Timeout(30)
class TcpClientStopTest {
    enum How { STOP_THEN_CLOSE, CLOSE }

    static Connector connectorOf(TcpClient c) throws ReflectiveOperationException {
        Field f = TcpClient.class.getDeclaredField("connector");
        f.setAccessible(true);
        return (Connector) f.get(c);
    }

    private static void assertNothingLeft(EventLoop loop, int socketsBefore) throws Exception {
        TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after the client stopped");
        assertEquals(0, onLoop(loop, loop::pendingTimers), "timers left on the client's loop");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void whileConnecting(EventLoop.WaitMode mode) throws Exception {
        for (How how : How.values()) {
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode);
                 TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
                EventLoop loop = loops.start("stop-connecting");
                int socketsBefore = TcpTestSupport.openSockets();
                List<Throwable> failures = new CopyOnWriteArrayList<>();
                TcpClient client = new TcpClient(loop, listener.address, "stop-connecting");
                client.setConnectTimeoutMs(0); // hang until stopped
                client.setConnectFailedCallback((cause, attempt, next) -> failures.add(cause));
                Connector connector = connectorOf(client);
                client.connect();
                assertEquals(Connector.State.CONNECTING, onLoop(loop, connector::state));
                assertEquals(socketsBefore + 1, TcpTestSupport.openSockets(), "the attempt's socket");
                if (how == How.STOP_THEN_CLOSE) {
                    client.stop();
                    assertEquals(Connector.State.DISCONNECTED, onLoop(loop, connector::state), how.name());
                    assertNothingLeft(loop, socketsBefore);
                }
                get(client.close(), "close " + how);
                assertNothingLeft(loop, socketsBefore);
                assertTrue(failures.isEmpty(), "failures reported for a stopped attempt: " + failures);
                assertEquals(Connector.State.DISCONNECTED, onLoop(loop, connector::state));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void whileWaitingToRetry(EventLoop.WaitMode mode) throws Exception {
        InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
        for (How how : How.values()) {
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
                EventLoop loop = loops.start("stop-retry");
                int socketsBefore = TcpTestSupport.openSockets();
                CompletableFuture<Long> firstFailure = new CompletableFuture<>();
                AtomicInteger failures = new AtomicInteger();
                TcpClient client = new TcpClient(loop, refused, "stop-retry");
                client.setRetryDelays(10_000, 20_000);
                client.setConnectFailedCallback((cause, attempt, next) -> {
                    failures.incrementAndGet();
                    firstFailure.complete(next);
                });
                Connector connector = connectorOf(client);
                client.connect();
                assertEquals(10_000L, get(firstFailure, "first refusal"));
                assertTrue(onLoop(loop, connector::retryPending), "a retry is pending");
                assertEquals(1, onLoop(loop, loop::pendingTimers));
                if (how == How.STOP_THEN_CLOSE) {
                    client.stop();
                    assertFalse(onLoop(loop, connector::retryPending), "retry still pending after stop()");
                    assertNothingLeft(loop, socketsBefore);
                    // stop() is not the end: connect() again starts over (and is refused again)
                    client.connect();
                    TcpTestSupport.awaitAtMost(() -> 2 - failures.get(), 0, "a second attempt after connect()");
                }
                get(client.close(), "close " + how);
                assertFalse(onLoop(loop, connector::retryPending), "retry still pending after close()");
                assertNothingLeft(loop, socketsBefore);
                assertThrows(IllegalStateException.class, client::connect, "connect() after close()");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void whileConnected(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("stop-connected-base");
            EventLoop loop = loops.start("stop-connected");
            AtomicInteger serverDowns = new AtomicInteger();
            TcpServer server = TcpTestSupport.server(loops, base, "stop-connected", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        serverDowns.incrementAndGet();
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            int socketsBefore = TcpTestSupport.openSockets();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            CompletableFuture<Void> down = new CompletableFuture<>();
            AtomicInteger downs = new AtomicInteger();
            CompletableFuture<Void> echoed = new CompletableFuture<>();
            TcpClient client = new TcpClient(loop, server.listenAddress(), "stop-connected");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                } else {
                    downs.incrementAndGet();
                    down.complete(null);
                }
            });
            client.setMessageCallback((c, b, t) -> {
                b.retrieveAll();
                echoed.complete(null);
            });
            client.connect();
            TcpConnection conn = get(up, "connection");
            client.stop(); // stops connecting only
            onLoop(loop, () -> null);
            assertTrue(conn.connected(), "stop() closed an established connection");
            assertSame(conn, client.connection());
            assertTrue(conn.send(new byte[] {1, 2, 3}));
            get(echoed, "echo after stop()");

            CompletableFuture<Void> closed = client.close();
            assertSame(closed, client.close(), "close() is idempotent");
            get(closed, "close while connected");
            assertTrue(down.isDone(), "the down callback ran before close() completed");
            assertTrue(conn.disconnected());
            assertEquals(1, downs.get());
            TcpTestSupport.awaitAtMost(() -> 1 - serverDowns.get(), 0, "the server saw the close");
            assertNothingLeft(loop, socketsBefore);
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void closeFromItsOwnCallbacks(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("self-close-base");
            EventLoop loop = loops.start("self-close");
            TcpServer server = TcpTestSupport.server(loops, base, "self-close", 1, s -> { });
            int socketsBefore = TcpTestSupport.openSockets();
            // close() from the up callback
            CompletableFuture<CompletableFuture<Void>> closing = new CompletableFuture<>();
            TcpClient a = new TcpClient(loop, server.listenAddress(), "self-close-up");
            a.setConnectionCallback(c -> {
                if (c.connected()) {
                    closing.complete(a.close());
                }
            });
            a.connect();
            get(get(closing, "up callback"), "close from the up callback");
            // close() from the failure callback; connect and stop in one loop task (muduo's TcpClient_reg1)
            InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
            TcpClient b = new TcpClient(loop, refused, "self-close-failed");
            CompletableFuture<CompletableFuture<Void>> closingB = new CompletableFuture<>();
            b.setConnectFailedCallback((cause, attempt, next) -> closingB.complete(b.close()));
            b.connect();
            get(get(closingB, "failure callback"), "close from the failure callback");
            TcpClient c = new TcpClient(loop, refused, "connect-stop");
            onLoop(loop, () -> {
                c.connect();
                c.stop();
                return null;
            });
            get(c.close(), "close after connect+stop in one task");
            assertNothingLeft(loop, socketsBefore);
            server.close();
        }
    }
}
