package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: {@code shutdown()} with output still queued sends its FIN when the output drains on
 * {@code OP_WRITE}, and a write-complete callback that throws at that moment must neither keep the
 * FIN from the peer (which would wait forever, the connection stuck in DISCONNECTING) nor go
 * unreported.
 */
@Timeout(30)
class ShutdownAfterThrowingWriteCompleteTest {
    /** Far more than the socket buffers hold: the output drains on OP_WRITE, after the peer starts reading. */
    private static final int PAYLOAD = 8 << 20;
    private static final long SEED = 23;
    private static final int SO_TIMEOUT_MS = 5_000;

    private static final java.util.logging.Logger LOOP_LOG = java.util.logging.Logger.getLogger(EventLoop.class.getName());
    private static java.util.logging.Level savedLevel;

    @BeforeAll
    static void quietLoopLog() {
        savedLevel = LOOP_LOG.getLevel();
        LOOP_LOG.setLevel(java.util.logging.Level.SEVERE); // the reported throws are expected
    }

    @AfterAll
    static void restoreLoopLog() {
        LOOP_LOG.setLevel(savedLevel);
    }

    static final class Boom extends RuntimeException {
        Boom(String what) {
            super(what);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void finReachesThePeerAlthoughTheWriteCompleteCallbackThrows(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger writeCompletes = new AtomicInteger();
        AtomicBoolean accepted = new AtomicBoolean();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection.State> down = new CompletableFuture<>();
        byte[] payload = TcpTestSupport.streamBytes(SEED, 0, PAYLOAD);
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("wc-throw-base");
            TcpServer server = TcpTestSupport.server(loops, base, "wc-throw", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        // Queued behind a peer that does not read yet, then the half-close.
                        accepted.set(c.send(payload));
                        c.shutdown();
                        up.complete(c);
                    } else {
                        down.complete(c.state());
                    }
                });
                s.setWriteCompleteCallback(c -> {
                    writeCompletes.incrementAndGet();
                    throw new Boom("write-complete");
                });
            });
            try (Socket peer = new Socket()) {
                peer.setReceiveBufferSize(32 * 1024);
                peer.connect(server.listenAddress(), SO_TIMEOUT_MS);
                peer.setSoTimeout(SO_TIMEOUT_MS);
                TcpConnection conn = get(up, "the server connection");
                assertTrue(accepted.get(), "the payload was accepted");
                InputStream in = peer.getInputStream();
                byte[] buf = new byte[256 * 1024];
                long pos = 0;
                while (pos < PAYLOAD) {
                    int n = in.read(buf);
                    assertTrue(n > 0, "EOF after " + pos + " of " + PAYLOAD + " bytes");
                    long bad = TcpTestSupport.firstMismatch(SEED, pos, ByteBuffer.wrap(buf, 0, n));
                    assertEquals(-1, bad, "payload differs at byte " + bad);
                    pos += n;
                }
                int last;
                try {
                    last = in.read();
                } catch (SocketTimeoutException e) {
                    fail("no FIN within " + SO_TIMEOUT_MS + " ms after all " + PAYLOAD + " bytes (connection "
                            + conn.state() + "); the throwing write-complete callback kept it from the peer", e);
                    return;
                }
                assertEquals(-1, last, "end of stream after the payload");
                assertTrue(writeCompletes.get() >= 1, "the write-complete callback ran");
            }
            // The peer's close ends the half-closed connection.
            assertEquals(TcpConnection.State.DISCONNECTED, get(down, "the down callback"));
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            TcpTestSupport.awaitAtMost(() -> errors.stream().anyMatch(t -> t instanceof Boom) ? 0 : 1, 0,
                    "the report of the write-complete callback's throw");
            server.close();
        }
    }
}
