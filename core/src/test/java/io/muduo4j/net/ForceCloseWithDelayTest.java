package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TcpConnection#forceCloseWithDelay}'s timer belongs to the connection: a connection that
 * closes before the delay is over cancels it (it used to stay pending for the whole delay, holding
 * the closed connection), whichever thread armed it; and a call after the connection's loop has
 * ended is a defined no-op beyond refusing further sends (it used to throw
 * {@link java.util.concurrent.RejectedExecutionException}).
 */
@Timeout(30)
class ForceCloseWithDelayTest {
    @ParameterizedTest(name = "armed on the loop: {0}")
    @ValueSource(booleans = {false, true})
    void aCloseBeforeTheDelayCancelsTheTimer(boolean fromLoop) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("delay-cancel-base");
            TcpServer server = TcpTestSupport.server(loops, base, "delay-cancel", 1, s ->
                    s.setConnectionCallback(c -> (c.connected() ? up : down).complete(c)));
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "the server connection");
                EventLoop loop = conn.loop();
                int before = onLoop(loop, loop::pendingTimers);
                if (fromLoop) {
                    onLoop(loop, () -> {
                        conn.forceCloseWithDelay(1, TimeUnit.HOURS);
                        return null;
                    });
                } else {
                    conn.forceCloseWithDelay(1, TimeUnit.HOURS);
                }
                assertEquals(before + 1, (int) onLoop(loop, loop::pendingTimers), "timers once the delayed close is armed");
                conn.forceClose();
                assertEquals(conn, get(down, "the down callback"));
                assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "the peer sees the close");
                onLoop(loop, () -> null); // a cancel made off the loop has arrived
                assertEquals(before, (int) onLoop(loop, loop::pendingTimers),
                        "timers after the connection closed (the hour-long delayed close is still pending)");
            }
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void afterTheLoopEndedItRefusesSendsAndDoesNotThrow(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> serverUp = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("delay-ended-server");
            TcpServer server = TcpTestSupport.server(loops, base, "delay-ended-server", 1, s ->
                    s.setConnectionCallback(c -> {
                        if (c.connected()) {
                            serverUp.complete(c);
                        }
                    }));
            TcpConnection conn;
            TcpClient client;
            try (EventLoopThread clientThread = new EventLoopThread("delay-ended-client", loops.loopOptions(), null)) {
                client = new TcpClient(clientThread.startLoop(), server.listenAddress(), "delay-ended");
                conn = client.connectNow();
                onLoop(conn.loop(), () -> null); // registered
            } // the client's loop ends here, its connection still open
            TcpConnection serverSide = get(serverUp, "the server connection");

            conn.forceCloseWithDelay(10, TimeUnit.MILLISECONDS);
            assertNotEquals(TcpConnection.State.CONNECTED, conn.state(), "state after forceCloseWithDelay");
            assertFalse(conn.send(new byte[] {1}), "send after forceCloseWithDelay");
            conn.forceCloseWithDelay(10, TimeUnit.MILLISECONDS); // again: still nothing thrown

            // Nothing is left to run it: the owner's close closes the socket.
            get(client.close(), "the client's close after its loop ended");
            TcpTestSupport.awaitAtMost(() -> serverSide.disconnected() ? 0 : 1, 0, "the server side to see the close");
            server.close();
        }
    }
}
