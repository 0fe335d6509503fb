package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpClient#disconnect()} in each state: a connect in progress is closed, a pending retry is
 * cancelled (no socket and no timer of the client left, no failure reported for the stopped
 * attempt), and an established connection is half-closed as before (the peer sees our FIN and can
 * still send to us; the client does not reconnect, retry enabled or not). {@code connect()} works
 * again afterwards. It used to reach only an established connection.
 */
@Timeout(30)
class TcpClientDisconnectTest {

    private static void assertNothingLeft(EventLoop loop, int socketsBefore) throws Exception {
        TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after disconnect()");
        assertEquals(0, onLoop(loop, loop::pendingTimers), "timers left on the client's loop");
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void disconnectClosesAConnectInProgress(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode);
             TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
            EventLoop loop = loops.start("disconnect-connecting");
            int socketsBefore = TcpTestSupport.openSockets();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            TcpClient client = new TcpClient(loop, listener.address, "disconnect-connecting");
            client.setConnectTimeoutMs(0); // hangs until stopped
            client.setConnectFailedCallback((cause, attempt, next) -> failures.add(cause));
            Connector connector = TcpClientStopTest.connectorOf(client);
            client.connect();
            assertEquals(Connector.State.CONNECTING, onLoop(loop, connector::state));
            assertEquals(socketsBefore + 1, TcpTestSupport.openSockets(), "the attempt's socket");

            client.disconnect();
            assertEquals(Connector.State.DISCONNECTED, onLoop(loop, connector::state),
                    "disconnect() left the connect in progress");
            assertNothingLeft(loop, socketsBefore);
            assertTrue(failures.isEmpty(), "failures reported for a stopped attempt: " + failures);

            client.connect(); // not terminal
            assertEquals(Connector.State.CONNECTING, onLoop(loop, connector::state), "connect() after disconnect()");
            get(client.close(), "close");
            assertNothingLeft(loop, socketsBefore);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void disconnectCancelsAPendingRetry(EventLoop.WaitMode mode) throws Exception {
        InetSocketAddress refused = new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort());
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop loop = loops.start("disconnect-retry");
            int socketsBefore = TcpTestSupport.openSockets();
            CompletableFuture<Long> firstFailure = new CompletableFuture<>();
            AtomicInteger failures = new AtomicInteger();
            TcpClient client = new TcpClient(loop, refused, "disconnect-retry");
            client.setRetryDelays(10_000, 20_000);
            client.setConnectFailedCallback((cause, attempt, next) -> {
                failures.incrementAndGet();
                firstFailure.complete(next);
            });
            Connector connector = TcpClientStopTest.connectorOf(client);
            client.connect();
            assertEquals(10_000L, get(firstFailure, "first refusal"));
            assertTrue(onLoop(loop, connector::retryPending), "a retry is pending");

            client.disconnect();
            assertFalse(onLoop(loop, connector::retryPending), "retry still pending after disconnect()");
            assertNothingLeft(loop, socketsBefore);
            assertEquals(1, failures.get());

            client.setRetryDelays(10, 20);
            client.connect();
            TcpTestSupport.awaitAtMost(() -> 2 - failures.get(), 0, "an attempt after connect() again");
            get(client.close(), "close");
            assertNothingLeft(loop, socketsBefore);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void disconnectHalfClosesAnEstablishedConnection(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("disconnect-up-base");
            EventLoop loop = loops.start("disconnect-up");
            CompletableFuture<TcpConnection> peerFin = new CompletableFuture<>();
            byte[] bye = {'b', 'y', 'e'};
            TcpServer server = TcpTestSupport.server(loops, base, "disconnect-up", 1, s ->
                    s.setAllowHalfClosure(true, c -> {
                        // Our FIN arrived: the other direction is still open.
                        c.send(bye);
                        c.shutdown();
                        peerFin.complete(c);
                    }));
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            CompletableFuture<Void> down = new CompletableFuture<>();
            AtomicInteger ups = new AtomicInteger();
            AtomicInteger downs = new AtomicInteger();
            CompletableFuture<byte[]> received = new CompletableFuture<>();
            TcpClient client = new TcpClient(loop, server.listenAddress(), "disconnect-up");
            client.enableRetry(true);
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    ups.incrementAndGet();
                    up.complete(c);
                } else {
                    downs.incrementAndGet();
                    down.complete(null);
                }
            });
            client.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() >= bye.length) {
                    received.complete(b.retrieveAsBytes(b.readableBytes()));
                }
            });
            client.connect();
            TcpConnection conn = get(up, "connection");
            client.disconnect();
            get(peerFin, "the server to see our FIN");
            assertArrayEquals(bye, get(received, "bytes sent to us after our FIN"));
            get(down, "the close once both sides are done");
            assertTrue(conn.disconnected());
            LoopTestSupport.runIterations(loop, 3);
            assertEquals(1, ups.get(), "reconnected after disconnect()");
            assertEquals(1, downs.get());
            get(client.close(), "close");
            server.close();
        }
    }
}
