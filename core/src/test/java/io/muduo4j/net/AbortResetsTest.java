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
 * instead of seeing an orderly end of stream, and the down callback runs.
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
}
