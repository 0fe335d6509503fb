package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * "Write before connected": a {@link TcpClient} has no send of its own; what it sends goes through
 * {@link TcpClient#connection()}, which is null before the connection is established (while an
 * attempt hangs, while it waits to retry after a refusal), is the new connection from its up
 * callback on (so a send there is the first byte on the wire and arrives), and is null again after
 * the connection closed. There is never a handle on which a send could be lost.
 */
@Timeout(30)
class TcpClientConnectionHandleTest {
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void connectionIsNullUntilEstablishedAndUsableFromTheUpCallback(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("handle-base");
            EventLoop loop = loops.start("handle-client");
            // 1. an attempt that hangs (full backlog)
            try (TcpTestSupport.FullBacklogListener listener = new TcpTestSupport.FullBacklogListener()) {
                TcpClient hanging = new TcpClient(loop, listener.address, "handle-hanging");
                hanging.setConnectTimeoutMs(0);
                hanging.connect();
                Connector connector = TcpClientStopTest.connectorOf(hanging);
                assertEquals(Connector.State.CONNECTING, onLoop(loop, connector::state));
                assertNull(hanging.connection(), "a connection before the connect completed");
                get(hanging.close(), "close while connecting");
                assertNull(hanging.connection());
            }
            // 2. waiting to retry after a refusal
            TcpClient refused = new TcpClient(loop, new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort()), "handle-refused");
            CompletableFuture<Void> failed = new CompletableFuture<>();
            refused.setRetryDelays(10_000, 10_000);
            refused.setConnectFailedCallback((cause, attempt, next) -> failed.complete(null));
            refused.connect();
            get(failed, "refusal");
            assertNull(refused.connection(), "a connection after a refusal");
            get(refused.close(), "close while waiting to retry");

            // 3. established: the up callback sees its connection through the client
            CompletableFuture<String> serverGot = new CompletableFuture<>();
            TcpServer server = TcpTestSupport.server(loops, base, "handle", 1, s -> s.setMessageCallback((c, b, t) -> {
                if (b.readableBytes() >= 5) {
                    serverGot.complete(b.retrieveAllAsString(StandardCharsets.US_ASCII));
                    c.shutdown();
                }
            }));
            TcpClient client = new TcpClient(loop, server.listenAddress(), "handle-client");
            AtomicReference<Object> seenInUp = new AtomicReference<>();
            AtomicReference<Object> seenInDown = new AtomicReference<>();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            CompletableFuture<Void> down = new CompletableFuture<>();
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    seenInUp.set(client.connection());
                    assertTrue(client.connection().send("first".getBytes(StandardCharsets.US_ASCII)));
                    up.complete(c);
                } else {
                    seenInDown.set(client.connection());
                    down.complete(null);
                }
            });
            client.connect();
            TcpConnection conn = get(up, "up callback");
            assertSame(conn, seenInUp.get(), "connection() in the up callback");
            assertEquals("first", get(serverGot, "the bytes sent from the up callback"));
            get(down, "down after the server's FIN");
            onLoop(loop, () -> null);
            assertNull(client.connection(), "connection() after the close");
            assertTrue(seenInDown.get() == null || seenInDown.get() == conn, "connection() in the down callback: " + seenInDown.get());
            get(client.close(), "client close");
            server.close();
        }
    }
}
