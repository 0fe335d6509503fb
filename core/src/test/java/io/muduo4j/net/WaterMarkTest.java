package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Output flow control against a peer that stops reading: the server sends until its output crosses
 * the high-water mark (the callback runs once, with at least the mark queued); the peer then
 * drains everything, the low-water callback runs once output is down to its mark, and the
 * write-complete callback runs once output is empty, after it. Every byte arrives, in order.
 */
@Timeout(30)
class WaterMarkTest {
    private static final long HIGH = 1 << 20;
    private static final long LOW = 64 * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final long BOUND = 256L << 20;
    private static final long SEED = 5;

    record Event(char kind, long output) { }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            a.add(Arguments.of(m, true));
            a.add(Arguments.of(m, false));
        }
        return a;
    }

    @ParameterizedTest(name = "{0}, sent from the loop: {1}")
    @MethodSource("cases")
    void highLowAndWriteCompleteCallbacks(EventLoop.WaitMode mode, boolean fromLoop) throws Exception {
        List<Event> events = new CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Long> highWater = new CompletableFuture<>();
        CompletableFuture<Void> drained = new CompletableFuture<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("wm-base");
            TcpServer server = TcpTestSupport.server(loops, base, "wm", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
                s.setHighWaterMarkCallback((c, queued) -> {
                    events.add(new Event('H', queued));
                    highWater.complete(queued);
                }, HIGH);
                s.setLowWaterMarkCallback(c -> events.add(new Event('L', c.queuedBytes())), LOW);
                // The high-water callback is posted: a sender on another thread may run past the
                // default 4 MiB limit before it sees the callback on a loaded machine. The bound
                // of this test is BOUND, so the limit sits above it.
                s.setOutputLimit(BOUND + CHUNK, null);
                s.setWriteCompleteCallback(c -> {
                    events.add(new Event('W', c.queuedBytes()));
                    if (highWater.isDone()) {
                        drained.complete(null);
                    }
                });
            });
            try (SocketChannel peer = SocketChannel.open()) {
                peer.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                peer.connect(server.listenAddress());
                TcpConnection conn = get(up, "server connection");

                // Fill: the peer reads nothing yet.
                AtomicLong sent = new AtomicLong();
                if (fromLoop) {
                    CompletableFuture<Void> stopped = new CompletableFuture<>();
                    conn.loop().queueInLoop(new Runnable() {
                        @Override
                        public void run() {
                            if (highWater.isDone() || sent.get() >= BOUND) {
                                stopped.complete(null);
                                return;
                            }
                            conn.send(TcpTestSupport.streamBytes(SEED, sent.get(), CHUNK));
                            sent.addAndGet(CHUNK);
                            conn.loop().queueInLoop(this);
                        }
                    });
                    get(stopped, "sending until the high-water mark");
                } else {
                    while (!highWater.isDone() && sent.get() < BOUND) {
                        assertTrue(conn.send(TcpTestSupport.streamBytes(SEED, sent.get(), CHUNK)));
                        sent.addAndGet(CHUNK);
                    }
                }
                long queued = get(highWater, "high-water callback (sent " + sent.get() + ")");
                assertTrue(queued >= HIGH, "queued at the high-water callback: " + queued);
                assertTrue(events.stream().noneMatch(e -> e.kind == 'L'), "low water before draining: " + events);

                // Drain, checking every byte.
                long total = sent.get();
                ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                while (got < total) {
                    b.clear();
                    int n = peer.read(b);
                    assertTrue(n > 0, "EOF after " + got + " of " + total);
                    b.flip();
                    assertEquals(-1, TcpTestSupport.firstMismatch(SEED, got, b), "stream differs");
                    got += n;
                }
                get(drained, "write-complete after the drain");
                conn.shutdown();
                b.clear();
                assertEquals(-1, peer.read(b), "bytes beyond what was sent");
            }

            int h = -1;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).kind == 'H') {
                    assertEquals(-1, h, "high-water callback ran twice: " + events);
                    h = i;
                }
            }
            List<Event> after = events.subList(h + 1, events.size());
            assertEquals('L', after.get(0).kind, "low water first after the high water: " + events);
            assertTrue(after.get(0).output <= LOW, "output at the low-water callback: " + after.get(0));
            assertEquals(1, after.stream().filter(e -> e.kind == 'L').count(), "low-water callbacks: " + events);
            Event last = after.get(after.size() - 1);
            assertEquals('W', last.kind, "write-complete last: " + events);
            assertEquals(0, last.output);
            server.close();
        }
    }

    /**
     * The high-water callback is posted, so output can cross the mark and drain back below the
     * low-water mark before it runs (a fast reader); the low-water callback must still never
     * precede its high-water callback, or a relay that stops reading on high water and resumes on
     * low water stops for good. H and L must alternate, starting with H, and end paired.
     */
    static List<Arguments> modesAndSenders() {
        return cases();
    }

    @ParameterizedTest(name = "{0}, sent from the loop: {1}")
    @MethodSource("modesAndSenders")
    void lowWaterNeverPrecedesHighWater(EventLoop.WaitMode mode, boolean fromLoop) throws Exception {
        List<Event> events = new CopyOnWriteArrayList<>();
        CompletableFuture<TcpConnection> up = new CompletableFuture<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        int rounds = fromLoop ? 200 : 4000;
        int chunk = 16 * 1024;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("wm2-base");
            TcpServer server = TcpTestSupport.server(loops, base, "wm2", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        up.complete(c);
                    }
                });
                s.setHighWaterMarkCallback((c, queued) -> events.add(new Event('H', queued)), 4096);
                s.setLowWaterMarkCallback(c -> events.add(new Event('L', c.queuedBytes())), 1024);
                s.setOutputLimit(Long.MAX_VALUE, null); // bursts that ignore writability: this tests the callbacks' order
            });
            try (SocketChannel peer = SocketChannel.open(server.listenAddress())) {
                TcpConnection conn = get(up, "server connection");
                byte[] data = new byte[chunk];
                if (fromLoop) {
                    conn.loop().queueInLoop(new Runnable() {
                        int n;

                        @Override
                        public void run() {
                            conn.send(data);
                            if (++n < rounds) {
                                conn.loop().queueInLoop(this);
                            } else {
                                conn.shutdown();
                                done.complete(null);
                            }
                        }
                    });
                } else {
                    // Bursts from another thread: flushed output crosses the mark again and again,
                    // sometimes right after a high-water callback ran, while a fast reader drains it.
                    Thread sender = new Thread(() -> {
                        for (int n = 0; n < rounds; n++) {
                            conn.send(data);
                        }
                        conn.shutdown();
                        done.complete(null);
                    }, "wm2-sender");
                    sender.setDaemon(true);
                    sender.start();
                }
                ByteBuffer b = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                while (true) {
                    b.clear();
                    int n = peer.read(b);
                    if (n < 0) {
                        break;
                    }
                    got += n;
                }
                assertEquals((long) rounds * chunk, got);
                get(done, "sends");
                TcpTestSupport.onLoop(conn.loop(), () -> null);
            }
            char expect = 'H';
            for (Event e : events) {
                assertEquals(expect, e.kind, "callbacks out of order: " + events);
                expect = expect == 'H' ? 'L' : 'H';
            }
            assertEquals('H', expect, "a high-water callback without its low-water callback: " + events);
            server.close();
        }
    }
}
