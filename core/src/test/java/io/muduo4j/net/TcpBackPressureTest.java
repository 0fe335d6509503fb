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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Back-pressure against a peer (a raw blocking socket) that stops reading, ten times, while the
 * server sends it 100 MiB from its loop in 64 KiB sends: the sender obeys the high-water callback
 * by pausing and resumes on the low-water callback (or on write-complete). The high-water callback
 * fires each time the peer stops, the output buffer never holds more than the high-water mark plus
 * one send (nor grows its capacity past that), and once the peer reads again every byte arrives in
 * order, followed by the FIN.
 */
@Timeout(60)
class TcpBackPressureTest {
    private static final long TOTAL = 100L << 20;
    private static final int CHUNK = 64 * 1024;
    private static final long HIGH = 1 << 20;
    private static final long LOW = 256 * 1024;
    private static final long PHASE = 10L << 20;
    /** The stream repeats with this period, which no chunk or read size divides. */
    private static final int PERIOD = (1 << 20) + 7;

    enum Resume { LOW_WATER, WRITE_COMPLETE }

    static List<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (EventLoop.WaitMode m : EventLoop.WaitMode.values()) {
            for (Resume r : Resume.values()) {
                a.add(Arguments.of(m, r));
            }
        }
        return a;
    }

    /** The sender, on the connection's loop: one send per run, re-queued until paused or done. */
    static final class Pump implements Runnable {
        final TcpConnection conn;
        final byte[] pattern;
        final AtomicLong maxOutput;
        final CompletableFuture<Void> finished = new CompletableFuture<>();
        long sent;
        boolean paused;
        boolean scheduled;

        Pump(TcpConnection conn, byte[] pattern, AtomicLong maxOutput) {
            this.conn = conn;
            this.pattern = pattern;
            this.maxOutput = maxOutput;
        }

        void schedule() {
            if (!scheduled && !paused && sent < TOTAL) {
                scheduled = true;
                conn.loop().queueInLoop(this);
            }
        }

        @Override
        public void run() {
            scheduled = false;
            if (paused || sent >= TOTAL) {
                return;
            }
            int n = (int) Math.min(CHUNK, TOTAL - sent);
            if (!conn.send(pattern, (int) (sent % PERIOD), n)) {
                finished.completeExceptionally(new AssertionError("send refused at " + sent));
                return;
            }
            sent += n;
            maxOutput.accumulateAndGet(conn.queuedBytes(), Math::max);
            if (sent >= TOTAL) {
                conn.shutdown();
                finished.complete(null);
            } else {
                schedule();
            }
        }
    }

    @ParameterizedTest(name = "{0}, resuming on {1}")
    @MethodSource("cases")
    void aPeerThatStopsReadingBoundsTheSenderAndGetsEveryByte(EventLoop.WaitMode mode, Resume resume) throws Exception {
        byte[] once = TcpTestSupport.streamBytes(17, 0, PERIOD);
        byte[] pattern = new byte[PERIOD + CHUNK];
        System.arraycopy(once, 0, pattern, 0, PERIOD);
        System.arraycopy(once, 0, pattern, PERIOD, CHUNK);
        AtomicLong maxOutput = new AtomicLong();
        AtomicLong maxQueuedAtHighWater = new AtomicLong();
        AtomicInteger highWaters = new AtomicInteger();
        AtomicInteger resumes = new AtomicInteger();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        CompletableFuture<Pump> pumpStarted = new CompletableFuture<>();
        Pump[] pump = new Pump[1];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode, (l, t) -> errors.add(t))) {
            EventLoop base = loops.start("bp-base");
            TcpServer server = TcpTestSupport.server(loops, base, "bp", 1, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        pump[0] = new Pump(c, pattern, maxOutput);
                        pump[0].schedule();
                        pumpStarted.complete(pump[0]);
                    }
                });
                s.setHighWaterMarkCallback((c, queued) -> {
                    maxQueuedAtHighWater.accumulateAndGet(queued, Math::max);
                    pump[0].paused = true;
                    highWaters.incrementAndGet();
                }, HIGH);
                if (resume == Resume.LOW_WATER) {
                    s.setLowWaterMarkCallback(c -> {
                        resumes.incrementAndGet();
                        pump[0].paused = false;
                        pump[0].schedule();
                    }, LOW);
                } else {
                    s.setWriteCompleteCallback(c -> {
                        if (pump[0].paused) {
                            resumes.incrementAndGet();
                            pump[0].paused = false;
                            pump[0].schedule();
                        }
                    });
                }
            });
            try (SocketChannel peer = SocketChannel.open()) {
                peer.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                peer.connect(server.listenAddress());
                Pump p = get(pumpStarted, "the sender");
                ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
                long got = 0;
                int phase = 0;
                while (true) {
                    // Stop reading until the sender has hit the high-water mark (or sent everything).
                    int expected = ++phase;
                    TcpTestSupport.awaitAtMost(() -> highWaters.get() >= expected || p.finished.isDone() ? 0 : 1, 0,
                            "high-water callback #" + expected + " while the peer is not reading");
                    long phaseEnd = got + PHASE;
                    int n = 0;
                    while (got < phaseEnd && (n = peer.read(in.clear())) >= 0) {
                        in.flip();
                        for (int i = 0; i < n; i++) {
                            if (in.get(i) != pattern[(int) ((got + i) % PERIOD)]) {
                                throw new AssertionError("byte " + (got + i) + " differs");
                            }
                        }
                        got += n;
                    }
                    if (n < 0) {
                        break;
                    }
                }
                assertEquals(TOTAL, got, "bytes before the FIN");
                get(p.finished, "the sender");
            }
            long bound = HIGH + CHUNK;
            System.out.printf("TcpBackPressureTest %s/%s: %d high-water callbacks, %d resumes, max queued %d%n",
                    mode, resume, highWaters.get(), resumes.get(), maxOutput.get());
            assertTrue(highWaters.get() >= 9, "high-water callbacks: " + highWaters.get());
            assertTrue(resumes.get() >= highWaters.get() - 1, "resumes " + resumes.get() + " for " + highWaters.get() + " high waters");
            assertTrue(maxOutput.get() <= bound, "output held " + maxOutput.get() + " bytes, bound " + bound);
            assertTrue(maxQueuedAtHighWater.get() <= bound, "queued at high water: " + maxQueuedAtHighWater.get());
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
        assertTrue(errors.isEmpty(), "errors reported: " + errors);
    }
}
