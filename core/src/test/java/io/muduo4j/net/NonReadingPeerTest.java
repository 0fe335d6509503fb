package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Back-pressure at the defaults: an echo server (one line, {@code c.send(b)}) stops reading a peer
 * that sends and never reads, so TCP throttles that peer, the server holds about the high-water
 * mark for it, keeps it (no reset) and serves everyone else; a relay pauses the other side with
 * {@link TcpConnection#setUpstream}.
 */
@Timeout(60)
class NonReadingPeerTest {
    private static final long HIGH = 64 * 1024;
    private static final long BOUND = HIGH + 2 * 64 * 1024 + 8 * 1024; // high water plus one read and a send

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void anEchoServerAtItsDefaultsThrottlesAPeerThatNeverReads(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<TcpConnection> first = new AtomicReference<>();
        AtomicLong maxQueued = new AtomicLong();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("nonreader-base");
            TcpServer server = TcpTestSupport.server(loops, base, "nonreader", 1, s -> {
                s.setMessageCallback((c, b, t) -> {
                    c.send(b);
                    maxQueued.accumulateAndGet(c.queuedBytes(), Math::max);
                });
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        first.compareAndSet(null, c);
                    } else {
                        down.complete(c);
                    }
                });
            });
            try (SocketChannel hog = SocketChannel.open(server.listenAddress())) {
                hog.configureBlocking(false);
                TcpTestSupport.awaitAtMost(() -> first.get() == null ? 1 : 0, 0, "the hog's server connection");
                TcpConnection conn = first.get();
                // Push until the server has stopped reading and our own send buffer is full.
                ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
                long sent = 0;
                long deadline = System.nanoTime() + 20_000_000_000L;
                int zeroWrites = 0;
                while (zeroWrites < 1000 || onLoop(conn.loop(), conn::isReading)) {
                    for (int i = 0; i < out.capacity(); i++) {
                        out.put(i, TcpTestSupport.streamByte(11, sent + i));
                    }
                    out.clear();
                    int n = hog.write(out);
                    sent += n;
                    zeroWrites = n == 0 ? zeroWrites + 1 : 0;
                    assertTrue(sent < 256L << 20, "the server kept reading: " + sent + " bytes taken");
                    assertTrue(System.nanoTime() < deadline, "the peer was never throttled: " + sent + " bytes sent");
                }
                assertFalse(onLoop(conn.loop(), conn::isReading), "the server paused reading the hog");
                assertTrue(conn.connected(), "the hog is kept, not closed");
                assertTrue(conn.queuedBytes() <= BOUND, "queued for the hog: " + conn.queuedBytes());
                assertTrue(maxQueued.get() <= BOUND, "most ever queued: " + maxQueued.get());

                // Another client is served meanwhile.
                try (SocketChannel other = SocketChannel.open(server.listenAddress())) {
                    byte[] hello = "hello while a hog waits".getBytes();
                    other.write(ByteBuffer.wrap(hello));
                    ByteBuffer echo = ByteBuffer.allocate(hello.length);
                    while (echo.hasRemaining()) {
                        assertTrue(other.read(echo) >= 0, "EOF from the server");
                    }
                    assertEquals(new String(hello), new String(echo.array()));
                }

                // The hog reads at last: every byte it sent comes back, in order; it was never reset.
                hog.configureBlocking(true);
                hog.shutdownOutput();
                ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                int n;
                while ((n = hog.read(in.clear())) >= 0) {
                    in.flip();
                    assertEquals(-1, TcpTestSupport.firstMismatch(11, got, in), "first wrong byte");
                    got += n;
                }
                assertEquals(sent, got, "bytes echoed to the hog");
            }
            assertNull(get(down, "the hog's down callback").closeCause());
            server.close();
        }
    }

    /** A peer paused by the server's own back-pressure that resets is noticed at once, through the pending output. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aPausedPeerThatResetsIsClosedWithTheResetAsCause(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<TcpConnection> first = new AtomicReference<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("paused-reset-base");
            TcpServer server = TcpTestSupport.server(loops, base, "paused-reset", 1, s -> {
                s.setMessageCallback((c, b, t) -> c.send(b));
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        first.compareAndSet(null, c);
                    } else {
                        down.complete(c);
                    }
                });
            });
            SocketChannel hog = SocketChannel.open(server.listenAddress());
            hog.configureBlocking(false);
            TcpTestSupport.awaitAtMost(() -> first.get() == null ? 1 : 0, 0, "the hog's server connection");
            TcpConnection conn = first.get();
            ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (onLoop(conn.loop(), conn::isReading)) {
                hog.write(out.clear());
                assertTrue(System.nanoTime() < deadline, "the hog was never paused");
            }
            assertTrue(conn.queuedBytes() > 0, "output pending while paused");
            hog.setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
            hog.close(); // RST
            TcpConnection closed = get(down, "the down callback after the reset");
            assertTrue(closed.closeCause() instanceof java.io.IOException, "close cause: " + closed.closeCause());
            server.close();
        }
    }

    /**
     * A relay: bytes read on A are sent on B (another I/O loop) and B's upstream is A, so a
     * receiver at B's end that does not read pauses A, the relay holds about B's high-water mark,
     * and every byte arrives once the receiver reads.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aRelayPausesItsUpstreamWhileTheDownstreamIsFull(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<TcpConnection> sinkRef = new AtomicReference<>();
        AtomicReference<TcpConnection> sourceRef = new AtomicReference<>();
        AtomicLong maxQueued = new AtomicLong();
        AtomicLong refusals = new AtomicLong();
        long total = 64L << 20;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("relay-base");
            TcpServer server = TcpTestSupport.server(loops, base, "relay", 2, s -> {
                s.setConnectionCallback(c -> {
                    if (!c.connected()) {
                        return;
                    }
                    if (sinkRef.compareAndSet(null, c)) {
                        return;
                    }
                    TcpConnection sink = sinkRef.get();
                    sink.setUpstream(c); // the relay's one line of back-pressure
                    sourceRef.set(c);
                });
                s.setMessageCallback((c, b, t) -> {
                    TcpConnection sink = sinkRef.get();
                    if (c == sink) {
                        b.retrieveAll();
                        return;
                    }
                    if (!sink.send(b)) {
                        refusals.incrementAndGet();
                    }
                    maxQueued.accumulateAndGet(sink.queuedBytes(), Math::max);
                });
            });
            try (SocketChannel receiver = SocketChannel.open(server.listenAddress())) {
                TcpTestSupport.awaitAtMost(() -> sinkRef.get() == null ? 1 : 0, 0, "the sink connection");
                try (SocketChannel sender = SocketChannel.open(server.listenAddress())) {
                    TcpTestSupport.awaitAtMost(() -> sourceRef.get() == null ? 1 : 0, 0, "the source connection");
                    TcpConnection source = sourceRef.get();
                    assertTrue(source.loop() != sinkRef.get().loop(), "source and sink on different loops");
                    CompletableFuture<Long> written = new CompletableFuture<>();
                    Thread w = new Thread(() -> {
                        try {
                            long pos = 0;
                            while (pos < total) {
                                ByteBuffer chunk = ByteBuffer.wrap(TcpTestSupport.streamBytes(13, pos, 64 * 1024));
                                while (chunk.hasRemaining()) {
                                    sender.write(chunk);
                                }
                                pos += 64 * 1024;
                            }
                            written.complete(pos);
                        } catch (Throwable e) {
                            written.completeExceptionally(e);
                        }
                    }, "relay-writer");
                    w.setDaemon(true);
                    w.start();
                    // The receiver does not read yet: the source gets paused.
                    TcpTestSupport.awaitAtMost(() -> onLoopQuiet(source) ? 1 : 0, 0, "the source paused");
                    assertFalse(written.isDone(), "the writer got everything through a receiver that does not read");
                    ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
                    long got = 0;
                    while (got < total) {
                        int n = receiver.read(in.clear());
                        assertTrue(n > 0, "EOF after " + got);
                        in.flip();
                        assertEquals(-1, TcpTestSupport.firstMismatch(13, got, in), "first wrong byte");
                        got += n;
                    }
                    assertEquals(total, (long) get(written, "the writer"));
                }
            }
            assertTrue(maxQueued.get() <= BOUND, "the relay queued up to " + maxQueued.get());
            assertEquals(0, refusals.get(), "relay sends refused");
            server.close();
        }
    }

    private static boolean onLoopQuiet(TcpConnection c) {
        try {
            return onLoop(c.loop(), c::isReading);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
