package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * Regression: no write-complete, high-water, low-water or output-limit callback after a
 * connection's down callback. A
 * cross-thread send posts its write-complete (a small send written at once by the sending
 * thread) or its high-water crossing (a large send the socket cannot take); a {@code forceClose()}
 * or {@code abort()} right behind it joins the same command batch, where the close runs first. Many
 * connections over several rounds; in half of the rounds the I/O loops are held while the sends
 * and closes are made, so that every pair lands in one batch, in the others they race the loops.
 */
@Timeout(60)
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
        assertNoCallbackAfterDown(events);
    }

    /** Each connection had exactly one down callback, and it was its last callback. */
    private static void assertNoCallbackAfterDown(Map<Long, List<String>> events) {
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

    private static final int RACERS = 12;
    private static final long LOW_WATER = 32 * 1024;
    private static final long OUTPUT_LIMIT = 256 * 1024;

    /**
     * No low-water or output-limit callback after the down callback. Output-limit connections: a
     * send of {@code LARGE} (accepted, the queue being empty) and a second send that the limit
     * refuses (it posts the output-limit command), then a {@code forceClose()} or {@code abort()}
     * right behind. Low-water connections: a send of {@code LARGE} and its high-water callback,
     * then the peer starts to drain it and the connection is closed, by this thread at once (held
     * rounds) or by the peer's reader once it has read a threshold spread over the first half of
     * the drain, so that closes land before, near and after the low-water moment. In each round two more connections, one of
     * each kind, are not raced: they must get their callback (the callbacks are wired and run),
     * then are closed.
     */
    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void noLowWaterOrOutputLimitCallbackAfterTheDownCallback(EventLoop.WaitMode mode) throws Exception {
        Map<Long, List<String>> events = new ConcurrentHashMap<>();
        LinkedBlockingQueue<TcpConnection> ups = new LinkedBlockingQueue<>();
        AtomicInteger downs = new AtomicInteger();
        byte[] small = new byte[SMALL];
        byte[] large = new byte[LARGE];
        int perRound = RACERS + 2;
        int lowWaterBeforeDown = 0;
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start("after-down-water-base");
            TcpServer server = TcpTestSupport.server(loops, base, "after-down-water", 2, s -> {
                s.setConnectionCallback(c -> {
                    if (c.connected()) {
                        events.put(c.id(), Collections.synchronizedList(new ArrayList<>()));
                        ups.add(c);
                    } else {
                        events.get(c.id()).add("down");
                        downs.incrementAndGet();
                    }
                });
                s.setHighWaterMarkCallback((c, q) -> events.get(c.id()).add("high-water"), HIGH_WATER);
                s.setLowWaterMarkCallback(c -> events.get(c.id()).add("low-water"), LOW_WATER);
                s.setOutputLimit(OUTPUT_LIMIT, c -> events.get(c.id()).add("output-limit"));
            });
            Set<EventLoop> ioLoops = new LinkedHashSet<>();
            List<Thread> readers = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
                boolean holdLoops = round % 2 == 0;
                List<Socket> peers = new ArrayList<>();
                try {
                    for (int i = 0; i < perRound; i++) {
                        Socket p = new Socket();
                        peers.add(p);
                        p.setReceiveBufferSize(16 * 1024); // reads only when a reader is started
                        p.connect(server.listenAddress(), (int) TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
                    }
                    List<TcpConnection> conns = new ArrayList<>();
                    for (int i = 0; i < perRound; i++) {
                        TcpConnection c = ups.poll(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                        assertTrue(c != null, "connection " + i + " of round " + round + " came up");
                        conns.add(c);
                        ioLoops.add(c.loop());
                    }
                    // Peers connect in order, but the accepted connections may come up in another
                    // order: pair each connection with its peer by port.
                    List<Socket> peerOf = new ArrayList<>();
                    for (TcpConnection c : conns) {
                        peerOf.add(peers.stream().filter(p -> p.getLocalPort() == c.peerAddress().getPort())
                                .findFirst().orElseThrow());
                    }
                    // Odd indexes (and the last control) are low-water connections: above high water first.
                    for (int i = 1; i < perRound; i += 2) {
                        assertTrue(conns.get(i).send(large), "send of " + LARGE + " bytes on " + conns.get(i).name());
                    }
                    for (int i = 1; i < perRound; i += 2) {
                        List<String> ev = events.get(conns.get(i).id());
                        TcpTestSupport.awaitAtMost(() -> ev.contains("high-water") ? 0 : 1, 0,
                                "premise: the high-water callback of " + conns.get(i).name());
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
                    for (int i = 0; i < RACERS; i++) {
                        TcpConnection c = conns.get(i);
                        boolean force = (i / 2) % 2 == 0;
                        Runnable close = force ? c::forceClose : c::abort;
                        if (i % 2 == 0) {
                            assertTrue(c.send(large), "send of " + LARGE + " bytes on " + c.name());
                            assertFalse(c.send(small), "premise: the output limit refuses the second send on " + c.name());
                            close.run();
                        } else if (holdLoops) {
                            readers.add(reader(peerOf.get(i), Long.MAX_VALUE, null));
                            close.run();
                        } else {
                            // Thresholds spread over the first half of the drain: the kernel buffers
                            // megabytes, so the low-water moment comes early in what the peer reads.
                            long threshold = (long) (LARGE / 2) * (round * RACERS + i) / (ROUNDS * RACERS);
                            readers.add(reader(peerOf.get(i), threshold, close));
                        }
                    }
                    release.countDown();
                    int expected = downsBefore + RACERS;
                    TcpTestSupport.awaitAtMost(() -> expected - downs.get(), 0, "down callbacks of round " + round);

                    // The controls: each gets its callback, then is closed.
                    TcpConnection limitControl = conns.get(RACERS);
                    TcpConnection waterControl = conns.get(RACERS + 1);
                    assertTrue(limitControl.send(large));
                    assertFalse(limitControl.send(small), "premise: the output limit refuses the second send");
                    readers.add(reader(peerOf.get(RACERS + 1), Long.MAX_VALUE, null));
                    List<String> limitEvents = events.get(limitControl.id());
                    List<String> waterEvents = events.get(waterControl.id());
                    TcpTestSupport.awaitAtMost(() -> limitEvents.contains("output-limit") ? 0 : 1, 0,
                            "the output-limit callback of the control " + limitControl.name());
                    TcpTestSupport.awaitAtMost(() -> waterEvents.contains("low-water") ? 0 : 1, 0,
                            "the low-water callback of the control " + waterControl.name());
                    limitControl.forceClose();
                    waterControl.forceClose();
                    TcpTestSupport.awaitAtMost(() -> expected + 2 - downs.get(), 0, "down callbacks of the controls");
                    // Whatever the closes left queued on the loops runs before these hops end.
                    for (EventLoop io : ioLoops) {
                        LoopTestSupport.runIterations(io, 3);
                    }
                    for (int i = 1; i < RACERS; i += 2) {
                        if (events.get(conns.get(i).id()).contains("low-water")) {
                            lowWaterBeforeDown++;
                        }
                    }
                } finally {
                    for (Socket p : peers) {
                        p.close();
                    }
                }
            }
            for (Thread r : readers) {
                r.join(TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
                assertFalse(r.isAlive(), r.getName() + " still reading after its socket was closed");
            }
            TcpTestSupport.awaitAtMost(server::connectionCount, 0, "server connections");
            server.close();
        }
        System.out.println("NoCallbackAfterDownTest " + mode + ": " + lowWaterBeforeDown + " of " + (ROUNDS * RACERS / 2)
                + " raced low-water connections had their low-water callback before the down callback");
        assertEquals(ROUNDS * perRound, events.size(), "connections recorded");
        assertNoCallbackAfterDown(events);
    }

    /**
     * A daemon thread that reads {@code peer} until EOF or a reset, and runs {@code atThreshold}
     * once it has read {@code threshold} bytes. The socket ends the read when it is closed.
     */
    private static Thread reader(Socket peer, long threshold, Runnable atThreshold) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            boolean fired = false;
            try {
                java.io.InputStream in = peer.getInputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got += n;
                    if (!fired && got >= threshold && atThreshold != null) {
                        fired = true;
                        atThreshold.run();
                    }
                }
            } catch (java.io.IOException e) {
                // reset by the abort, or closed at the end of the round: the read is over
            }
            if (!fired && atThreshold != null) {
                atThreshold.run(); // the stream ended first: close anyway, so the round's downs add up
            }
        }, "after-down-reader-" + peer.getLocalPort());
        t.setDaemon(true);
        t.start();
        return t;
    }
}
