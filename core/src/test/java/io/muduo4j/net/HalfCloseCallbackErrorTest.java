package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: with half-closure allowed, a connection that has shut its output down closes when
 * the peer's FIN arrives, even if the half-close callback throws; otherwise it stays open (and
 * counted by its server) until the server stops.
 */
@Timeout(30)
class HalfCloseCallbackErrorTest {
    private static final int SO_TIMEOUT_MS = 5_000;
    private static final long CLOSE_SECONDS = 5;

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
    void peerFinAfterOurShutdownClosesAlthoughTheHalfCloseCallbackThrows(EventLoop.WaitMode mode) throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger halfCloses = new AtomicInteger();
        AtomicInteger downs = new AtomicInteger();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("hc-throw-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc-throw", 1, s -> {
                s.setAllowHalfClosure(true, c -> {
                    halfCloses.incrementAndGet();
                    throw new Boom("half-close");
                });
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        c.shutdown(); // our side first: nothing queued, so the FIN goes out at once
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        down.complete(null);
                    }
                });
            });
            try (Socket peer = new Socket()) {
                peer.connect(server.listenAddress(), SO_TIMEOUT_MS);
                peer.setSoTimeout(SO_TIMEOUT_MS);
                TcpConnection conn = TcpTestSupport.get(up, "the server connection");
                InputStream in = peer.getInputStream();
                try {
                    assertEquals(-1, in.read(), "the server's FIN");
                } catch (SocketTimeoutException e) {
                    fail("the server's shutdown() sent no FIN within " + SO_TIMEOUT_MS + " ms", e);
                }
                assertEquals(1, server.connectionCount(), "half-closed, still open");
                // Our FIN: both directions are done now.
                peer.shutdownOutput();
                try {
                    down.get(CLOSE_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    fail("no down callback within " + CLOSE_SECONDS + " s of the peer's FIN: connection " + conn.state()
                            + ", half-close callbacks " + halfCloses.get() + ", server connections "
                            + server.connectionCount(), e);
                }
                TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
                assertEquals(TcpConnection.State.DISCONNECTED, conn.state());
                assertEquals(1, halfCloses.get(), "half-close callbacks");
                assertEquals(1, downs.get(), "down callbacks");
                TcpTestSupport.awaitAtMost(() -> errors.stream().anyMatch(t -> t instanceof Boom) ? 0 : 1, 0,
                        "the report of the half-close callback's throw");
                assertTrue(conn.isPeerShutdown(), "the peer's FIN was seen");
            }
            server.close();
        }
    }
}
