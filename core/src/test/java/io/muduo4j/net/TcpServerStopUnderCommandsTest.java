package io.muduo4j.net;

import static io.muduo4j.net.TcpTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link TcpServer#stop()} while other threads hammer cross-thread commands ({@code send},
 * {@code startRead}, {@code stopRead}, {@code shutdown}) on its connections and new connections
 * keep arriving: once the stop's future completes, {@code connectionCount()} is 0, every
 * connection got exactly one down callback and its socket is closed, and in the end no socket of
 * the process is left open, many times over, in a bounded time.
 *
 * <p>The race this is about: a command sets its bit in the connection's command word and only then
 * queues the connection's task; a close that found a bit already set used to rely on that task,
 * which the stop could outrun (its completion ran first, the I/O loops ended, the late offer was
 * refused and the connection was never closed). To make the window between the bit and the offer
 * wide, the I/O loops have a task queue of 2, kept full by filler threads while the stop runs: a
 * commander that set the first bit then spins in {@code queueInLoop} until there is room, and is
 * refused if the loop ends first.
 *
 * <p>Each commanded connection was first sent more than its peer (which never reads) takes, so the
 * loop owns its output and a cross-thread {@code send} stages its bytes and posts, never writing
 * itself: a direct write that fails posts its error while holding the connection's staging lock,
 * and under a full queue that post can wait for a loop that waits for the lock (a deadlock of
 * {@code TcpConnection} outside this test's subject). The connections that keep arriving get no
 * commands for the same reason.
 */
@Timeout(120)
class TcpServerStopUnderCommandsTest {
    private static final int ITERATIONS = 15;
    private static final int CONNECTIONS = 4;
    private static final int COMMANDERS = 2;
    private static final int FILLERS = 2;
    private static final int WARM_UP_OPS = 10; // per thread, before the close
    private static final int IO_THREADS = 2;
    private static final byte[] BULK = new byte[8 << 20];

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void stopClosesEveryConnectionWhileCommandsAreInFlight(EventLoop.WaitMode mode) throws Exception {
        TcpTestSupport.warmUpDescriptors();
        int socketsBefore = TcpTestSupport.openSockets();
        long commandsTotal = 0;
        long refusedTotal = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            long[] counts = oneStop(mode, "stop-cmd-" + mode + "-" + it);
            commandsTotal += counts[0];
            refusedTotal += counts[1];
        }
        TcpTestSupport.awaitAtMost(TcpTestSupport::openSockets, socketsBefore, "sockets after " + ITERATIONS + " stops");
        System.out.printf("[TcpServerStopUnderCommandsTest] %s: %d stops, %d cross-thread commands, %d filler tasks"
                + " refused by ended loops%n", mode, ITERATIONS, commandsTotal, refusedTotal);
    }

    /** One server, stopped under fire; returns {commands issued, filler tasks refused}. */
    private static long[] oneStop(EventLoop.WaitMode mode, String name) throws Exception {
        Map<Long, AtomicInteger> downs = new ConcurrentHashMap<>();
        List<TcpConnection> conns = new CopyOnWriteArrayList<>();
        CountDownLatch allUp = new CountDownLatch(CONNECTIONS);
        List<SocketChannel> peers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong commands = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong arrivals = new AtomicLong();
        List<Throwable> threadErrors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start(name + "-base");
            TcpServer server = new TcpServer(base, TcpTestSupport.ANY_LOCAL_PORT, name);
            server.setThreadNum(IO_THREADS);
            server.setLoopOptions(loops.loopOptions().taskQueueCapacity(2));
            server.setConnectionCallback(c -> {
                if (c.connected()) {
                    downs.put(c.id(), new AtomicInteger());
                    if (conns.size() < CONNECTIONS) {
                        c.send(BULK); // more than the peer takes: the loop owns the output from now on
                    }
                    conns.add(c);
                    allUp.countDown();
                } else {
                    downs.get(c.id()).incrementAndGet();
                }
            });
            server.start();
            InetSocketAddress addr = server.listenAddress();
            try {
                for (int i = 0; i < CONNECTIONS; i++) {
                    SocketChannel p = SocketChannel.open();
                    peers.add(p);
                    p.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
                    p.connect(addr);
                }
                LoopTestSupport.await(allUp, "connections up");
                List<TcpConnection> targets = List.copyOf(conns);
                CountDownLatch busy = new CountDownLatch(COMMANDERS + FILLERS);
                byte[] one = {1};
                for (int t = 0; t < COMMANDERS; t++) {
                    threads.add(new Thread(() -> {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        long n = 0;
                        while (running.get()) {
                            TcpConnection c = targets.get(r.nextInt(targets.size()));
                            switch (r.nextInt(16)) {
                                case 0:
                                    c.shutdown();
                                    break;
                                case 1: case 2: case 3: case 4: case 5:
                                    c.send(one);
                                    break;
                                case 6: case 7: case 8: case 9: case 10:
                                    c.stopRead();
                                    break;
                                default:
                                    c.startRead();
                                    break;
                            }
                            if (++n == WARM_UP_OPS) {
                                busy.countDown();
                            }
                        }
                        commands.addAndGet(n);
                        if (n < WARM_UP_OPS) {
                            busy.countDown();
                        }
                    }, name + "-commander-" + t));
                }
                Set<EventLoop> ioLoops = ConcurrentHashMap.newKeySet();
                for (TcpConnection c : targets) {
                    ioLoops.add(c.loop());
                }
                List<EventLoop> loopTargets = List.copyOf(ioLoops);
                Runnable noop = () -> { };
                for (int t = 0; t < FILLERS; t++) {
                    EventLoop target = loopTargets.get(t % loopTargets.size());
                    threads.add(new Thread(() -> {
                        long n = 0;
                        try {
                            while (running.get()) {
                                target.execute(noop);
                                if (++n == WARM_UP_OPS) {
                                    busy.countDown();
                                }
                            }
                        } catch (RejectedExecutionException e) {
                            refused.incrementAndGet(); // the loop ended: its queue pressure is over
                        }
                        if (n < WARM_UP_OPS) {
                            busy.countDown();
                        }
                    }, name + "-filler-" + t));
                }
                // Connections keep arriving (and leaving) meanwhile: some are established, or still
                // to be, on their I/O loop when the stop's close-all runs there.
                threads.add(new Thread(() -> {
                    while (running.get()) {
                        try (SocketChannel s = SocketChannel.open(addr)) {
                            arrivals.incrementAndGet();
                        } catch (java.io.IOException e) {
                            return; // refused: the listener is gone
                        }
                        // Paced (not a synchronisation): each arrival's establish competes for the
                        // full queue too, and the base loop, which posts them, has the stop to run.
                        java.util.concurrent.locks.LockSupport.parkNanos(500_000);
                    }
                }, name + "-arrivals"));
                for (Thread t : threads) {
                    t.setUncaughtExceptionHandler((th, e) -> threadErrors.add(e));
                    t.start();
                }
                LoopTestSupport.await(busy, "commanders and fillers at work");

                get(server.stop(), "stop under cross-thread commands");
                assertEquals(0, server.connectionCount(), name + ": connections after the stop completed ("
                        + arrivals.get() + " arrivals)");
                for (TcpConnection c : conns) {
                    assertFalse(c.loop().poller().isOpen(c), name + ": socket of " + c + " open after the stop completed");
                    assertTrue(c.disconnected(), c + " after the stop");
                    assertEquals(1, downs.get(c.id()).get(), "down callbacks of " + c);
                }
            } finally {
                running.set(false);
                for (Thread t : threads) {
                    LoopTestSupport.join(t);
                }
                for (SocketChannel p : peers) {
                    p.close();
                }
            }
            assertTrue(threadErrors.isEmpty(), "commander or filler threads failed: " + threadErrors);
        }
        return new long[] {commands.get(), refused.get()};
    }
}
