package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A server or client closed from another thread after its loop has ended closes its connections'
 * sockets from that thread (no down callback can run any more); those connections are
 * {@link TcpConnection.State#DISCONNECTED} then, like any closed connection, so {@code send}
 * refuses. They used to stay CONNECTED, with {@code send} returning true on a closed socket.
 */
@Timeout(30)
class OffLoopCloseRefusesSendsTest {
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aServerClosedAfterItsLoopEnded(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        TcpServer server;
        TcpConnection conn;
        try (Socket peer = new Socket()) {
            try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
                EventLoop base = loops.start("offloop-server-base");
                server = TcpTestSupport.server(loops, base, "offloop-server", 0, s -> s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                }));
                peer.connect(server.listenAddress(), 5_000);
                peer.setSoTimeout(10_000);
                conn = get(up, "the server connection");
            } // the base loop, which serves the connection, ends here
            server.close();
            assertEquals(TcpConnection.State.DISCONNECTED, conn.state(), "state after the off-loop close");
            assertFalse(conn.send(new byte[] {1}), "send after the off-loop close");
            assertEquals(-1, peer.getInputStream().read(), "the peer sees the close");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aClientClosedAfterItsLoopEnded(EventLoop.WaitMode mode) throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("offloop-client-server");
            CompletableFuture<TcpConnection> serverDown = new CompletableFuture<>();
            TcpServer server = TcpTestSupport.server(loops, base, "offloop-client-server", 1, s -> s.setConnectionCallback(c -> {
                if (!c.connected()) {
                    serverDown.complete(c);
                }
            }));
            TcpClient client;
            TcpConnection conn;
            try (EventLoopThread clientThread = new EventLoopThread("offloop-client", loops.loopOptions(), null)) {
                client = new TcpClient(clientThread.startLoop(), server.listenAddress(), "offloop-client");
                conn = client.connectNow();
                onLoop(conn.loop(), () -> null); // registered
            } // the client's loop ends here
            get(client.close(), "the client's close");
            assertEquals(TcpConnection.State.DISCONNECTED, conn.state(), "state after the off-loop close");
            assertFalse(conn.send(new byte[] {1}), "send after the off-loop close");
            get(serverDown, "the server to see the client's close");
            server.close();
        }
    }
}
