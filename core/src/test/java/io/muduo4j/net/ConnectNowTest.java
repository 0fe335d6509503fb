package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpClient#connectNow()}: the caller gets a connection that is established and usable at
 * once (a send before the loop has registered it arrives, and its echo comes back); the loop then
 * calls exactly one up callback, before any message, and one down callback (neither when the caller
 * closed it before the loop registered it); a refused or unanswered connect throws with nothing
 * left open; the calls it refuses say why.
 */
@Timeout(30)
class ConnectNowTest {
    private static TcpServer echo(TcpTestSupport.Loops loops, EventLoop base) {
        return TcpTestSupport.server(loops, base, "echo", 1, s -> s.setMessageCallback((c, b, t) -> c.send(b)));
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void callerSendsAtOnceAndCallbacksComeInOrder(EventLoop.WaitMode mode) throws Exception {
        List<String> events = new CopyOnWriteArrayList<>();
        CompletableFuture<String> reply = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("now-server");
            EventLoop clientLoop = loops.start("now-client");
            TcpServer server = echo(loops, base);
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "now");
            StringBuilder got = new StringBuilder();
            client.setConnectionCallback(c -> {
                assertTrue(clientLoop.isInLoopThread());
                events.add(c.connected() ? "up" : "down");
                if (!c.connected()) {
                    down.complete(null);
                }
            });
            client.setMessageCallback((c, b, t) -> {
                events.add("message");
                got.append(b.retrieveAllAsString(StandardCharsets.US_ASCII));
                if (got.length() >= 5) {
                    reply.complete(got.toString());
                }
            });

            TcpConnection conn = client.connectNow();
            assertTrue(conn.connected(), "state after connectNow: " + conn.state());
            assertSame(conn, client.connection());
            assertEquals(server.listenAddress().getPort(), conn.peerAddress().getPort());
            assertTrue(conn.send("hello".getBytes(StandardCharsets.US_ASCII)), "send right after connectNow");
            assertEquals("hello", get(reply, "echo of the first send"));

            conn.forceClose();
            get(down, "down callback");
            TcpTestSupport.onLoop(clientLoop, () -> null);
            assertEquals("up", events.get(0), "first callback: " + events);
            assertEquals("down", events.get(events.size() - 1), "last callback: " + events);
            assertEquals(1, events.stream().filter("up"::equals).count(), "up callbacks: " + events);
            assertEquals(1, events.stream().filter("down"::equals).count(), "down callbacks: " + events);
            TcpTestSupport.awaitAtMost(() -> client.connection() == null ? 0 : 1, 0, "the client's connection after close");

            // The same client connects again once the connection is gone.
            TcpConnection again = client.connectNow();
            assertTrue(again.connected());
            assertFalse(again == conn, "a connection object is never reused");
            get(client.close(), "client close");
            assertFalse(again.connected(), "connection after the client closed: " + again.state());
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void closedRightAfterConnectNowGetsBothCallbacksOrNeither(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("now2-server");
            EventLoop clientLoop = loops.start("now2-client");
            TcpServer server = echo(loops, base);
            for (int round = 0; round < 50; round++) {
                List<String> events = new CopyOnWriteArrayList<>();
                TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "now2-" + round);
                client.setConnectionCallback(c -> events.add(c.connected() ? "up" : "down"));
                TcpConnection conn = client.connectNow();
                switch (round % 3) {
                    case 0:
                        conn.forceClose();
                        break;
                    case 1:
                        conn.send(new byte[100]);
                        conn.shutdown();
                        break;
                    default:
                        client.close(); // the client's close task may run before the registration
                        break;
                }
                TcpTestSupport.awaitAtMost(() -> conn.state() == TcpConnection.State.DISCONNECTED ? 0 : 1, 0,
                        "the connection of round " + round + " to close");
                get(client.close(), "client close");
                TcpTestSupport.onLoop(clientLoop, () -> null);
                if (round % 3 == 2) {
                    // The client's close leaves it CONNECTED until the loop closes it: it came up.
                    assertEquals(List.of("up", "down"), events, "round " + round);
                } else {
                    assertTrue(events.equals(List.of()) || events.equals(List.of("up", "down")), "round " + round + ": " + events);
                }
            }
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void refusedConnectThrowsAndLeavesNothingOpen(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop clientLoop = loops.start("now3-client");
            int port = TcpTestSupport.freePort();
            int socketsBefore = TcpTestSupport.openSockets();
            List<Throwable> failed = new CopyOnWriteArrayList<>();
            TcpClient client = new TcpClient(clientLoop, new InetSocketAddress("127.0.0.1", port), "refused");
            client.setConnectFailedCallback((cause, attempt, next) -> failed.add(cause));
            for (int i = 0; i < 20; i++) {
                assertThrows(ConnectException.class, client::connectNow);
            }
            assertNull(client.connection());
            assertEquals(socketsBefore, TcpTestSupport.openSockets(), "sockets after 20 refused connects");
            TcpTestSupport.onLoop(clientLoop, () -> null);
            assertTrue(failed.isEmpty(), "the connect-failed callback is the connector's: " + failed);
            get(client.close(), "client close");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void unansweredConnectTimesOutAndInterruptEndsTheWait(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode);
             TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
            EventLoop clientLoop = loops.start("now4-client");
            int socketsBefore = TcpTestSupport.openSockets();
            TcpClient client = new TcpClient(clientLoop, listener.address, "unanswered");
            client.setConnectTimeoutMs(200);
            long t0 = System.nanoTime();
            SocketTimeoutException e = assertThrows(SocketTimeoutException.class, client::connectNow);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 199, "gave up after " + ms + " ms: " + e);
            assertTrue(e.getMessage().contains("200 ms"), e.getMessage());

            client.setConnectTimeoutMs(0); // no timeout: only the interrupt ends the wait
            Thread.currentThread().interrupt();
            try {
                assertThrows(InterruptedIOException.class, client::connectNow);
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
            } finally {
                Thread.interrupted();
            }
            assertEquals(socketsBefore, TcpTestSupport.openSockets(), "sockets after the failed connects");
            get(client.close(), "client close");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void refusedCallsSayWhy(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("now5-server");
            EventLoop clientLoop = loops.start("now5-client");
            TcpServer server = echo(loops, base);
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "refusals");

            CompletableFuture<Throwable> onLoop = new CompletableFuture<>();
            clientLoop.execute(() -> {
                try {
                    client.connectNow();
                    onLoop.complete(null);
                } catch (Throwable t) {
                    onLoop.complete(t);
                }
            });
            Throwable t = get(onLoop, "connectNow on the loop");
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("connect()"), "on the loop: " + t);

            TcpConnection conn = client.connectNow();
            IllegalStateException twice = assertThrows(IllegalStateException.class, client::connectNow);
            assertTrue(twice.getMessage().contains("has a connection"), twice.getMessage());
            assertSame(conn, client.connection());

            get(client.close(), "client close");
            IllegalStateException closed = assertThrows(IllegalStateException.class, client::connectNow);
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());

            TcpClient connecting = new TcpClient(clientLoop, server.listenAddress(), "connecting");
            connecting.connect();
            IllegalStateException busy = assertThrows(IllegalStateException.class, connecting::connectNow);
            // Connecting still, or connected already (on loopback the connector may be that fast).
            assertTrue(busy.getMessage().contains("connect()") || busy.getMessage().contains("has a connection"),
                    busy.getMessage());
            get(connecting.close(), "second client close");
            server.close();
        }
    }
}
