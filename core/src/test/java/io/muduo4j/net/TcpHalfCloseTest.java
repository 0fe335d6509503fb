package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Half-close in both directions: our {@link TcpConnection#shutdown()} sends the FIN only after
 * everything sent before it was written (from the loop or another thread) and keeps reading; the
 * peer's FIN either closes the connection once (default) or, with half-closure allowed, leaves it
 * open for sending until we shut down too.
 */
@Timeout(30)
class TcpHalfCloseTest {
    private static final int PAYLOAD = 4 << 20;

    static List<Arguments> modesAndThreads() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(Arguments.of(m, true));
            a.add(Arguments.of(m, false));
        }
        return a;
    }

    /** Reads {@code ch} to EOF, checking stream {@code seed}; returns the byte count. */
    static long readToEof(SocketChannel ch, long seed) throws Exception {
        ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
        long pos = 0;
        while (true) {
            b.clear();
            int n = ch.read(b);
            if (n < 0) {
                return pos;
            }
            b.flip();
            long bad = TcpTestSupport.firstMismatch(seed, pos, b);
            assertEquals(-1, bad, "stream " + seed + " differs at byte " + bad);
            pos += n;
        }
    }

    @ParameterizedTest(name = "{0}, from the loop: {1}")
    @MethodSource("modesAndThreads")
    void shutdownSendsFinAfterOutputDrainsAndKeepsReading(EventLoop.WaitMode mode, boolean fromLoop) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        CompletableFuture<String> afterFin = new CompletableFuture<>();
        byte[] payload = TcpTestSupport.streamBytes(7, 0, PAYLOAD);
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("hc-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        if (fromLoop) {
                            assertTrue(c.send(payload));
                            c.shutdown();
                            assertFalse(c.send(new byte[1]), "send after shutdown");
                        }
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        down.complete(null);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (b.readableBytes() >= 5) {
                        afterFin.complete(b.retrieveAllAsString(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                if (!fromLoop) {
                    // Staged cross-thread; the shutdown must wait for it, not only for the loop's output.
                    for (int off = 0; off < PAYLOAD; off += 64 * 1024) {
                        assertTrue(conn.send(payload, off, 64 * 1024));
                    }
                    conn.shutdown();
                    assertFalse(conn.send(new byte[1]), "send after shutdown");
                }
                assertEquals(PAYLOAD, readToEof(peer, 7), "bytes before the FIN");
                assertEquals(TcpConnection.State.DISCONNECTING, conn.state());
                // Our output is shut; our input is not.
                peer.write(ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                assertEquals("hello", get(afterFin, "bytes sent to a half-closed connection"));
                assertFalse(down.isDone(), "closed before the peer closed");
            }
            get(down, "down callback after the peer closed");
            onLoop(base, () -> null);
            TcpConnection conn = up.get();
            onLoop(conn.loop(), () -> null); // anything queued behind the close has run
            assertEquals(1, downs.get(), "down callbacks");
            assertNull(conn.closeCause());
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void peerFinWithHalfClosureAllowedKeepsSending(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> halfClosed = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        AtomicInteger requestBytes = new AtomicInteger();
        int half = PAYLOAD / 2;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("hc2-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc2", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        downs.incrementAndGet();
                        down.complete(null);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    requestBytes.addAndGet(b.readableBytes());
                    b.retrieveAll();
                });
                s.setAllowHalfClosure(true, c -> {
                    assertTrue(c.isPeerShutdown());
                    // the response, after the request's FIN: first half in the loop
                    assertTrue(c.send(TcpTestSupport.streamBytes(9, 0, half)));
                    halfClosed.complete(c);
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                peer.write(ByteBuffer.wrap(new byte[1000]));
                peer.shutdownOutput();
                TcpConnection conn = get(halfClosed, "half-close callback");
                assertEquals(1000, requestBytes.get(), "request bytes before the FIN");
                assertTrue(conn.connected(), "still connected after the peer's FIN");
                // second half from another thread, then our FIN
                assertTrue(conn.send(TcpTestSupport.streamBytes(9, half, half)));
                conn.shutdown();
                assertEquals(PAYLOAD, readToEof(peer, 9), "response bytes after the request's FIN");
                get(down, "close after both FINs");
                onLoop(conn.loop(), () -> null);
                assertEquals(1, downs.get(), "down callbacks");
                assertTrue(conn.disconnected());
                assertNull(conn.closeCause());
            }
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void peerFinWithoutHalfClosureClosesOnce(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("hc3-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc3", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        down.complete(null);
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                peer.shutdownOutput();
                get(down, "close on the peer's FIN");
                assertEquals(-1, peer.read(ByteBuffer.allocate(16)), "our side closed too");
                assertFalse(conn.send(new byte[] {1}), "send on a closed connection");
                conn.shutdown();
                conn.forceClose();
                onLoop(conn.loop(), () -> null);
                onLoop(conn.loop(), () -> null);
                assertEquals(1, downs.get(), "down callbacks");
                assertEquals(0, server.connectionCount());
            }
            server.close();
        }
    }

    static List<Arguments> modesAndLoops() {
        return modesAndThreads();
    }

    @ParameterizedTest(name = "{0}, client and server on the same loop: {1}")
    @MethodSource("modesAndLoops")
    void clientDisconnectHalfClosesAndStillReceives(EventLoop.WaitMode mode, boolean sameLoop) throws Exception {
        CompletableFuture<Void> clientDown = new CompletableFuture<>();
        CompletableFuture<Long> reply = new CompletableFuture<>();
        AtomicInteger clientDowns = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("hc4-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc4", sameLoop ? 0 : 1, s -> {
                s.setMessageCallback((c, b, t) -> b.retrieveAll());
                s.setAllowHalfClosure(true, c -> {
                    c.send(TcpTestSupport.streamBytes(3, 0, PAYLOAD));
                    c.shutdown();
                });
            });
            EventLoop clientLoop = sameLoop ? base : loops.start("hc4-client");
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "hc4-client");
            long[] got = new long[1];
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    c.send(new byte[100]);
                    client.disconnect(); // our FIN after the 100 bytes
                } else {
                    clientDowns.incrementAndGet();
                    clientDown.complete(null);
                }
            });
            client.setMessageCallback((c, b, t) -> {
                long bad = TcpTestSupport.firstMismatch(3, got[0], b.readableView());
                if (bad >= 0) {
                    reply.completeExceptionally(new AssertionError("reply differs at byte " + bad));
                }
                got[0] += b.readableBytes();
                b.retrieveAll();
                if (got[0] == PAYLOAD) {
                    reply.complete(got[0]);
                }
            });
            client.connect();
            assertEquals(PAYLOAD, (long) get(reply, "the reply to a half-closed client"));
            get(clientDown, "client close after the server's FIN");
            onLoop(clientLoop, () -> null);
            assertEquals(1, clientDowns.get());
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            get(client.close(), "client close");
            server.close();
        }
    }

    /**
     * {@code shutdown()} twice (and again after the FIN went out) is one half-close: the peer reads
     * everything sent before it and then EOF, our side keeps reading, nothing is reported. A send
     * after {@code shutdown()} has a defined result, from the loop and from another thread: every
     * variant returns false and takes nothing from the caller (a {@code ByteBuffer} keeps its
     * position, a {@code Buffer} its bytes), and no byte of it reaches the peer.
     */
    @ParameterizedTest(name = "{0}, from the loop: {1}")
    @MethodSource("modesAndThreads")
    void shutdownTwiceIsOneHalfCloseAndLaterSendsAreRefused(EventLoop.WaitMode mode, boolean fromLoop) throws Exception {
        int payload = 1 << 20;
        java.util.List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> refused = new CompletableFuture<>();
        CompletableFuture<String> afterFin = new CompletableFuture<>();
        CompletableFuture<Void> down = new CompletableFuture<>();
        AtomicInteger downs = new AtomicInteger();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("hc5-base");
            TcpServer server = TcpTestSupport.server(loops, base, "hc5", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        if (fromLoop) {
                            try {
                                assertTrue(c.send(TcpTestSupport.streamBytes(13, 0, payload)));
                                c.shutdown();
                                c.shutdown();
                                assertRefused(c);
                                refused.complete(null);
                            } catch (Throwable e) {
                                refused.completeExceptionally(e);
                            }
                        }
                        up.complete(c);
                    } else {
                        downs.incrementAndGet();
                        down.complete(null);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    if (b.readableBytes() >= 5) {
                        afterFin.complete(b.retrieveAllAsString(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                if (!fromLoop) {
                    assertTrue(conn.send(TcpTestSupport.streamBytes(13, 0, payload)));
                    conn.shutdown();
                    conn.shutdown();
                    assertRefused(conn);
                    refused.complete(null);
                }
                get(refused, "sends after shutdown()");
                assertEquals(payload, readToEof(peer, 13), "bytes before the FIN (none sent after shutdown())");
                conn.shutdown(); // once more, after the FIN went out
                onLoop(conn.loop(), () -> {
                    conn.shutdown();
                    assertRefused(conn);
                    return null;
                });
                assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "still at EOF");
                peer.write(ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
                assertEquals("hello", get(afterFin, "bytes sent to a connection shut down twice"));
                assertEquals(TcpConnection.State.DISCONNECTING, conn.state());
                assertFalse(down.isDone(), "a repeated shutdown() closed the connection");
            }
            get(down, "down callback after the peer closed");
            TcpConnection conn = up.get();
            onLoop(conn.loop(), () -> null);
            assertEquals(1, downs.get(), "down callbacks");
            assertNull(conn.closeCause());
            server.close();
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }

    private static void assertRefused(TcpConnection c) {
        assertFalse(c.send(new byte[] {1, 2, 3}), "send(byte[]) after shutdown()");
        assertFalse(c.send(new byte[8], 2, 3), "send(byte[], off, len) after shutdown()");
        ByteBuffer heap = ByteBuffer.wrap(new byte[] {4, 5});
        assertFalse(c.send(heap), "send(ByteBuffer) after shutdown()");
        assertEquals(0, heap.position(), "a refused send(ByteBuffer) consumed bytes");
        ByteBuffer direct = ByteBuffer.allocateDirect(4);
        assertFalse(c.send(direct), "send(direct ByteBuffer) after shutdown()");
        assertEquals(0, direct.position(), "a refused send(ByteBuffer) consumed bytes");
        Buffer buf = new Buffer();
        buf.append(new byte[] {6, 7, 8});
        assertFalse(c.send(buf), "send(Buffer) after shutdown()");
        assertEquals(3, buf.readableBytes(), "a refused send(Buffer) retrieved bytes");
    }
}
