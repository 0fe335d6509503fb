package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The peer's FIN on a connection that does not allow half-closure (the default) is a lingering
 * close: everything {@code send} accepted reaches the peer before the connection closes, or the
 * close cause says why it could not.
 */
@Timeout(60)
class PeerFinFlushTest {
    private static final int ECHO_TOTAL = 16 << 20;
    private static final int BLOB = 8 << 20;

    /** A client that sends 16 MiB and shuts its output right after the last byte gets all 16 MiB back, then EOF. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void echoOfEverythingSentBeforeTheFinArrivesThenEof(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-echo-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-echo", 1, s -> {
                s.setMessageCallback((c, b, t) -> c.send(b));
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        down.complete(c);
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                CompletableFuture<Void> written = new CompletableFuture<>();
                Thread writer = new Thread(() -> {
                    try {
                        for (int pos = 0; pos < ECHO_TOTAL; pos += 64 * 1024) {
                            ByteBuffer chunk = ByteBuffer.wrap(TcpTestSupport.streamBytes(7, pos, 64 * 1024));
                            while (chunk.hasRemaining()) {
                                peer.write(chunk);
                            }
                        }
                        peer.shutdownOutput();
                        written.complete(null);
                    } catch (Throwable e) {
                        written.completeExceptionally(e);
                    }
                }, "fin-echo-writer");
                writer.setDaemon(true);
                writer.start();
                long got = readToEof(peer, 7);
                get(written, "the writer");
                assertEquals(ECHO_TOTAL, got, "bytes echoed before EOF");
            }
            TcpConnection c = get(down, "the server's down callback");
            assertNull(c.closeCause(), "an orderly lingering close");
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /**
     * Bytes another thread's send staged (accepted, not yet written because the peer's window is
     * full) still reach a peer whose FIN arrived meanwhile.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void bytesStagedByAnotherThreadBeforeTheFinAreDelivered(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-staged-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-staged", 1, s -> s.setConnectionCallback(c -> {
                (c.connected() ? up : down).complete(c);
            }));
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                assertTrue(conn.send(TcpTestSupport.streamBytes(9, 0, BLOB)), "send from the test thread accepted");
                assertTrue(conn.queuedBytes() > 0, "some of the blob is still queued");
                peer.shutdownOutput();
                long got = readToEof(peer, 9);
                assertEquals(BLOB, got, "bytes delivered after our FIN");
            }
            assertNull(get(down, "the server's down callback").closeCause(), "an orderly lingering close");
            server.close();
        }
    }

    /** A peer that sends its FIN and never reads: after the close-flush timeout the connection is reset, the cause says so. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aFlushThatCannotFinishEndsAtTheTimeoutWithItsCause(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-timeout-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-timeout", 1, s -> {
                s.setCloseFlushTimeoutMs(300);
                s.setConnectionCallback(c -> {
                    // Not paused by its own back-pressure, so it reads the FIN while its output is
                    // queued (a paused connection sees the FIN when it reads again).
                    c.setUpstream(null);
                    (c.connected() ? up : down).complete(c);
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                assertTrue(conn.send(TcpTestSupport.streamBytes(3, 0, BLOB)));
                peer.shutdownOutput();
                TcpConnection closed = get(down, "the down callback after the timeout");
                Throwable cause = closed.closeCause();
                assertInstanceOf(SocketTimeoutException.class, cause, "close cause");
                assertTrue(cause.getMessage().contains("not flushed"), cause.getMessage());
                assertTrue(closed.queuedBytes() > 0, "bytes were left when it gave up");
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /** A peer that resets while its FIN's lingering flush runs: the write error is the close cause. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aResetDuringTheFlushIsTheCloseCause(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("fin-reset-base");
            TcpServer server = TcpTestSupport.server(loops, base, "fin-reset", 1, s ->
                    s.setConnectionCallback(c -> {
                        c.setUpstream(null); // reads the FIN while its output is queued, as above
                        (c.connected() ? up : down).complete(c);
                    }));
            SocketChannel peer = SocketChannel.open();
            TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
            peer.connect(server.listenAddress());
            TcpConnection conn = get(up, "server connection");
            assertTrue(conn.send(TcpTestSupport.streamBytes(4, 0, BLOB)));
            peer.shutdownOutput();
            // The server is lingering now: DISCONNECTING with output queued, no down callback yet.
            TcpTestSupport.awaitAtMost(() -> conn.state() == TcpConnection.State.DISCONNECTING ? 0 : 1, 0,
                    "the lingering state");
            assertTrue(!down.isDone(), "closed before the flush could finish");
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // RST
            Throwable cause = get(down, "the down callback after the reset").closeCause();
            assertNotNull(cause, "a reset during the flush is not an orderly close");
            assertInstanceOf(IOException.class, cause);
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /** Reads to EOF, checking stream {@code seed}; returns the count. Fails on a reset. */
    private static long readToEof(SocketChannel peer, long seed) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
        long got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        int n;
        while ((n = peer.read(in.clear())) >= 0) {
            in.flip();
            long bad = TcpTestSupport.firstMismatch(seed, got, in);
            assertEquals(-1, bad, "first wrong byte");
            got += n;
            assertTrue(System.nanoTime() < deadline, "still reading after 40 s: " + got);
        }
        return got;
    }
}
