package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Regression: no write-complete or high-water callback after a connection's down callback. A
 * cross-thread send posts its write-complete (a small send written at once by the sending
 * thread) or its high-water crossing (a large send the socket cannot take); a {@code forceClose()}
 * or {@code abort()} right behind it joins the same command batch, where the close runs first. Many
 * connections over several rounds; in half of the rounds the I/O loops are held while the sends
 * and closes are made, so that every pair lands in one batch, in the others they race the loops.
 */
@Timeout(30)
class NoCallbackAfterDownTest {
    private static final int ROUNDS = 4;
    private static final int CONNECTIONS = 24;
    private static final int SMALL = 64;
    /** More than the kernel lets one socket buffer (4 MiB send buffer at most, a small receive window). */
    private static final int LARGE = 5 << 20;
    private static final long HIGH_WATER = 64 * 1024;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void noWriteCompleteOrHighWaterCallbackAfterTheDownCallback(EventLoop.WaitMode mode) throws Exception {
        Map<Long, List<String>> events = new ConcurrentHashMap<>();
        LinkedBlockingQueue<TcpConnection> ups = new LinkedBlockingQueue<>();
        AtomicInteger downs = new AtomicInteger();
        byte[] small = new byte[SMALL];
        byte[] large = new byte[LARGE];
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("after-down-base");
            TcpServer server = TcpTestSupport.server(loops, base, "after-down", 2, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        events.put(c.id(), Collections.synchronizedList(new ArrayList<>()));
                        ups.add(c);
                    } else {
                        events.get(c.id()).add("down");
                        downs.incrementAndGet();
                    }
                });
                s.setWriteCompleteCallback(c -> events.get(c.id()).add("write-complete"));
                s.setHighWaterMarkCallback((c, q) -> events.get(c.id()).add("high-water"), HIGH_WATER);
            });
            Set<EventLoop> ioLoops = new LinkedHashSet<>();
            for (int round = 0; round < ROUNDS; round++) {
                boolean holdLoops = round % 2 == 0;
                List<Socket> peers = new ArrayList<>();
                try {
                    for (int i = 0; i < CONNECTIONS; i++) {
                        Socket p = new Socket();
                        peers.add(p);
                        p.setReceiveBufferSize(16 * 1024); // and never reads
                        p.connect(server.listenAddress(), (int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
                    }
                    List<TcpConnection> conns = new ArrayList<>();
                    for (int i = 0; i < CONNECTIONS; i++) {
                        TcpConnection c = ups.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                        assertTrue(c != null, "connection " + i + " of round " + round + " came up");
                        conns.add(c);
                        ioLoops.add(c.loop());
                    }
                    int downsBefore = downs.get();
                    CountDownLatch release = new CountDownLatch(1);
                    if (holdLoops) {
                        CountDownLatch held = new CountDownLatch(ioLoops.size());
                        for (EventLoop io : ioLoops) {
                            io.execute(() -> {
                                held.countDown();
                                try {
                                    release.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            });
                        }
                        LoopTestSupport.await(held, "the I/O loops to be held");
                    }
                    for (int i = 0; i < conns.size(); i++) {
                        TcpConnection c = conns.get(i);
                        byte[] data = i % 12 == 0 ? large : small;
                        assertTrue(c.send(data), "send of " + data.length + " bytes on " + c.name());
                        if (i % 2 == 0) {
                            c.forceClose();
                        } else {
                            c.abort();
                        }
                    }
                    release.countDown();
                    int expected = downsBefore + CONNECTIONS;
                    TcpTestSupport.awaitAtMost(() -> expected - downs.get(), 0, "down callbacks of round " + round);
                    // Whatever the closes left queued on the loops runs before these hops end.
                    for (EventLoop io : ioLoops) {
                        LoopTestSupport.runIterations(io, 3);
                    }
                } finally {
                    for (Socket p : peers) {
                        p.close();
                    }
                }
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
        assertEquals(ROUNDS * CONNECTIONS, events.size(), "connections recorded");
        int late = 0;
        StringBuilder report = new StringBuilder();
        for (Map.Entry<Long, List<String>> e : events.entrySet()) {
            List<String> ev;
            synchronized (e.getValue()) {
                ev = List.copyOf(e.getValue());
            }
            int down = ev.indexOf("down");
            if (down < 0 || ev.lastIndexOf("down") != down) {
                fail("connection " + e.getKey() + " had " + (down < 0 ? "no" : "more than one") + " down callback: " + ev);
            }
            if (down != ev.size() - 1) {
                late++;
                if (report.length() < 2000) {
                    report.append("\n  #").append(e.getKey()).append(": ").append(ev);
                }
            }
        }
        if (late > 0) {
            fail(late + " of " + events.size() + " connections had a callback after their down callback:" + report);
        }
    }
}
