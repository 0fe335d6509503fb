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
 * {@code startRead}, {@code stopRead}, {@code shutdown}) on its connections: once the stop's future
 * completes, {@code connectionCount()} is 0, every connection got exactly one down callback and
 * its socket is closed, many times over, in a bounded time.
 *
 * <p>The race this is about: a command sets its bit in the connection's command word and only then
 * queues the connection's task; a close that found a bit already set used to rely on that task,
 * which the stop could outrun (its completion ran first, the I/O loops ended, the late offer was
 * refused and the connection was never closed). To make the window between the bit and the offer
 * wide, the I/O loops have a task queue of 2, kept full by filler threads while the stop runs: a
 * commander that set the first bit then spins in {@code queueInLoop} until there is room, and is
 * refused if the loop ends first.
 */
@Timeout(120)
class TcpServerStopUnderCommandsTest {
    private static final int ITERATIONS = 15;
    private static final int CONNECTIONS = 4;
    private static final int COMMANDERS = 2;
    private static final int FILLERS = 2;
    private static final int WARM_UP_OPS = 10; // per thread, before the close
    private static final int IO_THREADS = 2;

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
        List<Throwable> threadErrors = new CopyOnWriteArrayList<>();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(mode)) {
            EventLoop base = loops.start(name + "-base");
            TcpServer server = new TcpServer(base, TcpTestSupport.ANY_LOCAL_PORT, name);
            server.setThreadNum(IO_THREADS);
            server.setLoopOptions(loops.loopOptions().taskQueueCapacity(2));
            server.setConnectionCallback(c -> {
                if (c.connected()) {
                    downs.put(c.id(), new AtomicInteger());
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
                    peers.add(SocketChannel.open(addr));
                }
                LoopTestSupport.await(allUp, "connections up");
                CountDownLatch busy = new CountDownLatch(COMMANDERS + FILLERS);
                byte[] one = {1};
                for (int t = 0; t < COMMANDERS; t++) {
                    threads.add(new Thread(() -> {
                        ThreadLocalRandom r = ThreadLocalRandom.current();
                        long n = 0;
                        while (running.get()) {
                            TcpConnection c = conns.get(r.nextInt(conns.size()));
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
                for (TcpConnection c : conns) {
                    ioLoops.add(c.loop());
                }
                List<EventLoop> targets = List.copyOf(ioLoops);
                Runnable noop = () -> { };
                for (int t = 0; t < FILLERS; t++) {
                    EventLoop target = targets.get(t % targets.size());
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
                for (Thread t : threads) {
                    t.setUncaughtExceptionHandler((th, e) -> threadErrors.add(e));
                    t.start();
                }
                LoopTestSupport.await(busy, "commanders and fillers at work");

                get(server.stop(), "stop under cross-thread commands");
                assertEquals(0, server.connectionCount(), name + ": connections after the stop completed");
                for (TcpConnection c : conns) {
                    assertFalse(c.socketForOwner().isOpen(), name + ": socket of " + c + " open after the stop completed");
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
