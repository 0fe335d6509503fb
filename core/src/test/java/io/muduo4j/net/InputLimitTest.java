package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Input back-pressure: a peer keeps writing to an application that does not consume. Past the
 * input limit the connection stops reading ({@link TcpConnection#isInputPaused()}), the input
 * buffer stays bounded, and the peer's writes block in TCP flow control. {@code startRead()}
 * without consuming changes nothing; after the application consumed, {@code startRead()} resumes
 * and every byte arrives, in order.
 */
@Timeout(30)
class InputLimitTest {
    private static final int LIMIT = 64 * 1024;
    /** The limit plus one read's worth (the buffer's free tail and the 64 KiB scratch), with room for growth. */
    private static final int BOUND = 4 * LIMIT;
    private static final long TOTAL = 16L << 20;
    private static final long SEED = 11;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void pausesPastTheLimitAndResumesAfterConsuming(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Long> all = new CompletableFuture<>();
        AtomicLong maxBuffered = new AtomicLong();
        long[] consumed = new long[1];
        boolean[] consuming = new boolean[1]; // loop thread only
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("limit-base");
            TcpServer server = TcpTestSupport.server(loops, base, "limit", 1, s -> {
                s.setInputLimit(LIMIT);
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    maxBuffered.accumulateAndGet(b.readableBytes(), Math::max);
                    if (consuming[0]) {
                        consume(b, consumed, all);
                    }
                });
            });
            AtomicLong written = new AtomicLong();
            CompletableFuture<Void> writerDone = new CompletableFuture<>();
            try (SocketChannel peer = SocketChannel.open()) {
                peer.setOption(StandardSocketOptions.SO_SNDBUF, 64 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                Thread writer = new Thread(() -> {
                    try {
                        for (long pos = 0; pos < TOTAL; pos += 64 * 1024) {
                            ByteBuffer b = ByteBuffer.wrap(TcpTestSupport.streamBytes(SEED, pos, 64 * 1024));
                            while (b.hasRemaining()) {
                                peer.write(b);
                            }
                            written.set(pos + 64 * 1024);
                        }
                        writerDone.complete(null);
                    } catch (Throwable e) {
                        writerDone.completeExceptionally(e);
                    }
                }, "limit-writer");
                writer.setDaemon(true);
                writer.start();

                TcpTestSupport.awaitAtMost(() -> {
                    try {
                        return onLoop(conn.loop(), conn::isInputPaused) ? 0 : 1;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, 0, "input paused");
                awaitStalled(written, writerDone);
                int buffered = onLoop(conn.loop(), () -> conn.inputBuffer().readableBytes());
                assertTrue(buffered >= LIMIT, "paused below the limit: " + buffered);
                assertTrue(maxBuffered.get() <= BOUND, "input buffer grew to " + maxBuffered.get());
                assertTrue(written.get() < TOTAL, "the writer was never held back");

                // startRead() alone does not resume while the buffer is over the limit.
                conn.startRead();
                assertTrue(onLoop(conn.loop(), conn::isInputPaused), "resumed without consuming");
                assertEquals(buffered, (int) onLoop(conn.loop(), () -> conn.inputBuffer().readableBytes()));

                // Consume, then resume.
                onLoop(conn.loop(), () -> {
                    consuming[0] = true;
                    consume(conn.inputBuffer(), consumed, all);
                    return null;
                });
                conn.startRead();
                assertEquals(TOTAL, (long) get(all, 20, "all bytes after resuming"));
                get(writerDone, "writer");
                assertTrue(!onLoop(conn.loop(), conn::isInputPaused));
                assertTrue(maxBuffered.get() <= BOUND, "input buffer grew to " + maxBuffered.get());
            }
            server.close();
        }
    }

    private static void consume(Buffer b, long[] consumed, CompletableFuture<Long> all) {
        long bad = TcpTestSupport.firstMismatch(SEED, consumed[0], b.readableView());
        if (bad >= 0) {
            all.completeExceptionally(new AssertionError("input differs at byte " + bad));
        }
        consumed[0] += b.readableBytes();
        b.retrieveAll();
        if (consumed[0] >= TOTAL) {
            all.complete(consumed[0]);
        }
    }

    /** Waits until the writer has made no progress for 300 ms (blocked by flow control), or fails. */
    private static void awaitStalled(AtomicLong written, CompletableFuture<Void> done) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TcpTestSupport.WAIT_SECONDS);
        long last = -1;
        long since = System.nanoTime();
        while (true) {
            if (done.isDone()) {
                fail("the writer finished all " + TOTAL + " bytes: nothing held it back");
            }
            long w = written.get();
            long now = System.nanoTime();
            if (w != last) {
                last = w;
                since = now;
            } else if (now - since > TimeUnit.MILLISECONDS.toNanos(300)) {
                return;
            }
            if (now - deadline > 0) {
                fail("the writer never stalled (wrote " + w + ")");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }
}
