package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: the input limit holds when the message callback throws. A decoder that rejects
 * every input (never consumes, throws each time) must still get its connection's reading paused
 * once the input buffer reaches the limit, so a peer that keeps sending cannot grow the buffer
 * without bound: it ends up blocked in TCP flow control.
 */
@Timeout(30)
class ThrowingDecoderInputLimitTest {
    private static final int LIMIT = 16 * 1024;
    /**
     * The limit plus one read: the buffer's free tail (under its capacity, which growth keeps
     * within about twice what it holds) and the loop's 64 KiB scratch; with slack.
     */
    private static final long BOUND = 2L * LIMIT + 2L * BufferPool.SCRATCH_SIZE;
    /** What the peer tries to send: far more than the socket buffers of both sides hold. */
    private static final long TOTAL = 64L << 20;

    private static final java.util.logging.Logger LOOP_LOG = java.util.logging.Logger.getLogger(EventLoop.class.getName());
    private static java.util.logging.Level savedLevel;

    @BeforeAll
    static void quietLoopLog() {
        savedLevel = LOOP_LOG.getLevel();
        LOOP_LOG.setLevel(java.util.logging.Level.SEVERE); // every read reports the decoder's throw
    }

    @AfterAll
    static void restoreLoopLog() {
        LOOP_LOG.setLevel(savedLevel);
    }

    static final class BadInput extends RuntimeException {
        BadInput(int readable) {
            super("cannot decode " + readable + " bytes", null, false, false);
        }
    }

    /** The connection's input state, read on its loop. */
    record Input(boolean paused, boolean reading, long buffered, boolean connected) {
        static Input of(TcpConnection c) {
            Buffer in = c.inputBuffer();
            return new Input(c.isInputPaused(), c.isReading(), in == null ? -1 : in.readableBytes(), c.connected());
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void readingPausesAtTheLimitAlthoughTheMessageCallbackThrows(EventLoop.WaitMode mode) throws Exception {
        AtomicInteger reported = new AtomicInteger();
        AtomicInteger decodes = new AtomicInteger();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> {
            if (t instanceof BadInput) {
                reported.incrementAndGet();
            }
        })) {
            EventLoop base = loops.start("bad-decoder-base");
            TcpServer server = TcpTestSupport.server(loops, base, "bad-decoder", 1, s -> {
                s.setInputLimit(LIMIT);
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
                s.setMessageCallback((c, b, t) -> {
                    decodes.incrementAndGet();
                    throw new BadInput(b.readableBytes()); // consumes nothing
                });
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                peer.configureBlocking(false);
                TcpConnection conn = get(up, "the server connection");
                EventLoop io = conn.loop();
                ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
                long sent = 0;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LoopTestSupport.WAIT_SECONDS);
                Input seen = null;
                // Send until the socket takes no more; each time it is full, look at the server side.
                while (sent < TOTAL) {
                    chunk.clear();
                    int n = peer.write(chunk);
                    sent += n;
                    if (n > 0) {
                        continue;
                    }
                    seen = onLoop(io, () -> Input.of(conn));
                    if (seen.paused() || seen.buffered() > BOUND) {
                        break;
                    }
                    if (System.nanoTime() - deadline > 0) {
                        fail("timed out after " + LoopTestSupport.WAIT_SECONDS + " s: " + seen + " after " + sent + " bytes sent");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // let the server read
                }
                if (seen == null || sent >= TOTAL) {
                    seen = onLoop(io, () -> Input.of(conn));
                }
                assertTrue(seen.buffered() <= BOUND, "the input buffer holds " + seen.buffered() + " bytes, more than the limit "
                        + LIMIT + " plus one read (" + BOUND + "), after the peer sent " + sent + " bytes; " + seen);
                assertTrue(seen.paused(), "reading paused at the input limit: " + seen + ", peer sent " + sent);
                assertTrue(sent < TOTAL, "the peer got blocked by flow control (sent " + sent + ")");

                // The peer stays blocked: nothing more is read however long it tries.
                long bufferedAtPause = seen.buffered();
                for (int i = 0; i < 3; i++) {
                    chunk.clear();
                    sent += peer.write(chunk);
                    LoopTestSupport.runIterations(io, 3);
                }
                Input later = onLoop(io, () -> Input.of(conn));
                assertEquals(new Input(true, false, bufferedAtPause, true), later,
                        "still paused, nothing more read, still connected (the decoder's throws are reported, not fatal)");
                assertTrue(later.buffered() >= LIMIT, "paused only at the limit: " + later);
                assertEquals(decodes.get(), reported.get(), "every throw of the decoder reported");
                assertTrue(decodes.get() >= 1);
            }
            server.close(); // the paused connection does not read the peer's close: the stop closes it
            assertEquals(0, server.connectionCount(), "server connections after the stop");
        }
    }
}
