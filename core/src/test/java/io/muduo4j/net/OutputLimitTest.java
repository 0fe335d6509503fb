package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static io.muduo4j.net.TcpTestSupport.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The output limit: a send that would pass it is refused whole; without an output-limit callback
 * the connection is closed with an {@link OutputLimitExceededException}, with one it stays open.
 * Bytes staged by other threads count, and {@link TcpConnection#isWritable()} tells any thread.
 */
@Timeout(60)
class OutputLimitTest {
    private static final int CHUNK = 64 * 1024;
    private static final long DEFAULT_LIMIT = 4L << 20;

    /** At the defaults a producer that ignores writability is stopped at 4 MiB and the connection closed with the cause. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void pastTheDefaultLimitASendIsRefusedWholeAndTheConnectionClosed(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<TcpConnection> down = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("limit-base");
            TcpServer server = TcpTestSupport.server(loops, base, "limit", 1, s ->
                    s.setConnectionCallback(c -> (c.connected() ? up : down).complete(c)));
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                long[] refusedAt = onLoop(conn.loop(), () -> {
                    byte[] chunk = new byte[CHUNK];
                    for (int i = 0; i < 10_000; i++) {
                        long before = conn.queuedBytes();
                        if (!conn.send(chunk)) {
                            return new long[] {before, conn.queuedBytes(), i};
                        }
                    }
                    return new long[] {-1, -1, -1};
                });
                assertTrue(refusedAt[2] > 0, "a send was refused");
                assertEquals(refusedAt[0], refusedAt[1], "the refused send queued nothing");
                assertTrue(refusedAt[0] <= DEFAULT_LIMIT && refusedAt[0] + CHUNK > DEFAULT_LIMIT,
                        "refused at " + refusedAt[0] + " queued bytes, limit " + DEFAULT_LIMIT);
                TcpConnection closed = get(down, "the down callback");
                OutputLimitExceededException e = assertInstanceOf(OutputLimitExceededException.class, closed.closeCause());
                assertEquals(DEFAULT_LIMIT, e.limit());
                assertEquals(CHUNK, e.refused());
                assertFalse(conn.send(new byte[1]), "a closed connection refuses");
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
    }

    /**
     * With an output-limit callback the connection stays open: the callback runs on the loop, the
     * refused bytes are not queued, and once the peer drains a send is accepted again. The sends
     * come from another thread (staged bytes count against the limit) and that thread sees
     * {@code isWritable()} turn false at the high-water mark.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void withACallbackTheConnectionStaysOpenAndStagedBytesCount(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        AtomicInteger limitCallbacks = new AtomicInteger();
        CompletableFuture<Boolean> callbackOnLoop = new CompletableFuture<>();
        long limit = 1L << 20;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("limit-cb-base");
            TcpServer server = TcpTestSupport.server(loops, base, "limit-cb", 1, s -> {
                s.setOutputLimit(limit, c -> {
                    limitCallbacks.incrementAndGet();
                    callbackOnLoop.complete(c.loop().isInLoopThread());
                });
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                TcpTestSupport.setSmallBuffers(peer, 16 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");
                CompletableFuture<long[]> producer = new CompletableFuture<>();
                Thread t = new Thread(() -> {
                    try {
                        long sent = 0;
                        boolean sawUnwritable = false;
                        while (true) {
                            long before = conn.queuedBytes();
                            byte[] next = TcpTestSupport.streamBytes(5, sent, CHUNK);
                            if (!conn.send(next)) {
                                producer.complete(new long[] {sent, before, sawUnwritable ? 1 : 0});
                                return;
                            }
                            sent += CHUNK;
                            sawUnwritable |= !conn.isWritable();
                            if (sent > 64L * limit) {
                                producer.complete(new long[] {sent, -1, 0});
                                return;
                            }
                        }
                    } catch (Throwable e) {
                        producer.completeExceptionally(e);
                    }
                }, "limit-producer");
                t.setDaemon(true);
                t.start();
                long[] r = get(producer, "the producer");
                assertTrue(r[1] >= 0, "never refused after " + r[0] + " bytes");
                assertTrue(r[1] <= limit, "queued " + r[1] + " beyond the limit " + limit);
                assertEquals(1, r[2], "the producer saw isWritable() false before the limit");
                assertTrue(get(callbackOnLoop, "the output-limit callback"), "callback on the loop thread");
                assertTrue(conn.connected(), "still connected with a callback set");
                // Drain: everything accepted arrives, in order, and the connection becomes writable.
                ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                while (got < r[0]) {
                    in.clear();
                    int n = peer.read(in);
                    assertTrue(n > 0, "EOF after " + got);
                    in.flip();
                    assertEquals(-1, TcpTestSupport.firstMismatch(5, got, in), "first wrong byte");
                    got += n;
                }
                assertEquals(r[0], got, "every accepted byte");
                TcpTestSupport.awaitAtMost(() -> conn.isWritable() ? 0 : 1, 0, "writable after the drain");
                assertEquals(0, conn.queuedBytes());
                assertTrue(conn.send(new byte[CHUNK]), "accepted again");
                assertTrue(limitCallbacks.get() >= 1);
            }
            server.close();
        }
    }

    /** A message larger than the limit, sent while nothing is queued, is accepted: the limit bounds the pile-up, not a message. */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aLargeMessageOnAnEmptyQueueIsAccepted(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        int big = 6 << 20;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("limit-big-base");
            TcpServer server = TcpTestSupport.server(loops, base, "limit-big", 1, s -> s.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            }));
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                assertTrue(conn.send(TcpTestSupport.streamBytes(6, 0, big)), "one 6 MiB message on an empty queue");
                ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                while (got < big) {
                    int n = peer.read(in.clear());
                    assertTrue(n > 0, "EOF after " + got);
                    in.flip();
                    assertEquals(-1, TcpTestSupport.firstMismatch(6, got, in));
                    got += n;
                }
                assertTrue(conn.connected(), "not closed for its size");
            }
            server.close();
        }
    }
}
