package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TcpConnection#abort()} resets the connection (SO_LINGER 0 before the close), whether it is
 * called on the connection's loop or on another thread: the peer's read fails with a reset
 * instead of seeing an orderly end of stream, and the down callback runs. On a connection that has
 * closed already it is ignored, as every command on a closed handle: an abort in the down callback
 * of a graceful close leaves that close graceful.
 */
@Timeout(30)
class AbortResetsTest {
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void thePeerSeesAResetNotAnEndOfStream(boolean fromLoop) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("abort-base");
            TcpServer server = TcpTestSupport.server(loops, base, "abort", 1, s ->
                    s.setConnectionCallback(c -> (c.connected() ? up : down).complete(c)));
            try (Socket peer = new Socket()) {
                peer.connect(server.listenAddress(), 5_000);
                peer.setSoTimeout(10_000);
                TcpConnection conn = get(up, "the server connection");
                if (fromLoop) {
                    conn.loop().execute(conn::abort);
                } else {
                    conn.abort();
                }
                assertEquals(conn, get(down, "the down callback"));
                InputStream in = peer.getInputStream();
                SocketException e = assertThrows(SocketException.class, in::read,
                        "the peer read an end of stream: no reset was sent");
                assertEquals("Connection reset", e.getMessage());
            }
            server.close();
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anAbortInTheDownCallbackOfAGracefulCloseIsIgnored(boolean sentBefore) throws Exception {
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        CompletableFuture<TcpConnection.State> stateAfterAbort = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("abort-down-base");
            TcpServer server = TcpTestSupport.server(loops, base, "abort-down", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        c.abort();
                        stateAfterAbort.complete(c.state());
                        down.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> c.send(b));
            });
            try (Socket peer = new Socket()) {
                peer.connect(server.listenAddress(), 5_000);
                peer.setSoTimeout(10_000);
                InputStream in = peer.getInputStream();
                if (sentBefore) {
                    peer.getOutputStream().write(7);
                    assertEquals(7, in.read(), "the echo");
                }
                // The peer's FIN: the server's lingering close ends with its own FIN, then the
                // down callback aborts the connection that is closed already.
                peer.shutdownOutput();
                get(down, "the down callback");
                assertEquals(TcpConnection.State.DISCONNECTED, get(stateAfterAbort, "the state after abort()"));
                assertEquals(-1, in.read(), "the peer's read after the graceful close (a reset throws instead)");
            }
            server.close();
        }
    }
}
