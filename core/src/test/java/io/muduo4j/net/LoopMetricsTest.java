package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link LoopMetrics}: each counter counts what it says, exactly where the test can know the
 * figure (read on the loop thread, or awaited from outside: another thread's read may lag), and
 * reading allocates nothing. Runs on every transport.
 */
@Timeout(60)
class LoopMetricsTest {

    private static LoopMetrics on(EventLoop loop) throws Exception {
        return LoopTestSupport.call(loop, () -> loop.metrics(new LoopMetrics()));
    }

    @Test
    void tasksAreCountedOnePerTask() throws Exception {
        try (EventLoopThread t = new EventLoopThread("lm-tasks", EventLoopOptions.blocking(), null)) {
            EventLoop loop = t.startLoop();
            long before = on(loop).tasks();
            for (int i = 0; i < 100; i++) {
                loop.queueInLoop(() -> { });
            }
            on(loop);
            long after = on(loop).tasks();
            // A drain's tasks are counted when it ends. The third probe was queued after the
            // second had run, so it runs in a later drain than the 100 tasks and the second probe:
            // it sees them and the first probe, not itself.
            assertEquals(before + 102, after);
        }
    }

    @Test
    void timersAreCountedOnePerFiring() throws Exception {
        try (EventLoopThread t = new EventLoopThread("lm-timers", EventLoopOptions.blocking(), null)) {
            EventLoop loop = t.startLoop();
            long[] seen = new long[5];
            CountDownLatch done = new CountDownLatch(1);
            LoopMetrics m = new LoopMetrics();
            loop.runEvery(1, TimeUnit.MILLISECONDS, new Runnable() {
                int n;

                @Override
                public void run() {
                    if (n < seen.length) {
                        seen[n++] = loop.metrics(m).timers();
                        if (n == seen.length) {
                            done.countDown();
                        }
                    }
                }
            });
            LoopTestSupport.await(done, "5 firings");
            // One firing per pass, counted when the pass ends: inside firing k, k - 1 before it.
            for (int i = 1; i < seen.length; i++) {
                assertEquals(seen[0] + i, seen[i], "firing " + (i + 1) + " of " + java.util.Arrays.toString(seen));
            }
        }
    }

    @Test
    void queueHighWaterIsTheDepthADrainFound() throws Exception {
        try (EventLoopThread t = new EventLoopThread("lm-depth", EventLoopOptions.blocking(), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            loop.queueInLoop(() -> {
                entered.countDown();
                awaitQuietly(release);
            });
            LoopTestSupport.await(entered, "the holding task");
            for (int i = 0; i < 100; i++) {
                loop.queueInLoop(() -> { });
            }
            release.countDown();
            LoopMetrics m = on(loop);
            // The 100, and the probe when it was queued before the drain began.
            assertTrue(m.queueHighWater() == 100 || m.queueHighWater() == 101, "high-water " + m.queueHighWater());
            assertEquals(0, m.queueFull());
        }
    }

    @Test
    void aProducerThatFindsTheQueueFullIsCounted() throws Exception {
        EventLoopOptions o = EventLoopOptions.blocking().taskQueueCapacity(2);
        try (EventLoopThread t = new EventLoopThread("lm-full", o, null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            loop.queueInLoop(() -> {
                entered.countDown();
                awaitQuietly(release);
            });
            LoopTestSupport.await(entered, "the holding task");
            CountDownLatch ran = new CountDownLatch(3);
            Thread producer = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    loop.queueInLoop(ran::countDown); // the third waits for room
                }
            }, "lm-producer");
            producer.start();
            LoopMetrics m = new LoopMetrics();
            LoopTestSupport.awaitTrue(() -> loop.metrics(m).queueFull() == 1, "the producer to find the queue full");
            release.countDown();
            LoopTestSupport.await(ran, "the producer's tasks");
            LoopTestSupport.join(producer);
            assertEquals(1, on(loop).queueFull());
        }
    }

    @Test
    void connectionsBytesReadsAndWritesOnBothSides() throws Exception {
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("lm-base");
            EventLoop clientLoop = loops.start("lm-client");
            TcpServer server = TcpTestSupport.server(loops, base, "lm", 1,
                    s -> s.setMessageCallback((c, buf, at) -> c.send(buf)));
            TcpClient client = new TcpClient(clientLoop, server.listenAddress(), "lm-client");
            AtomicLong echoed = new AtomicLong();
            CompletableFuture<TcpConnection> up = new CompletableFuture<>();
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.complete(c);
                }
            });
            client.setMessageCallback((c, buf, at) -> {
                echoed.addAndGet(buf.readableBytes());
                buf.retrieveAll();
            });
            client.connect();
            TcpConnection conn = TcpTestSupport.get(up, "connect");
            byte[] message = new byte[100];
            for (int i = 1; i <= 10; i++) {
                assertTrue(conn.send(message), "send " + i);
                long want = 100L * i;
                LoopTestSupport.awaitTrue(() -> echoed.get() == want, "echo of message " + i);
            }
            LoopMetrics s = new LoopMetrics();
            LoopTestSupport.awaitTrue(() -> server.metrics(s).bytesOut() == 1000, "the server's writes to be counted");
            assertEquals(2, s.loops());
            assertEquals(1, s.accepted());
            assertEquals(1, s.connectionsOpened());
            assertEquals(1, s.connectionsOpen());
            assertEquals(1000, s.bytesIn());
            assertEquals(10, s.reads(), "one read per 100 B message: each waited for its echo");
            assertEquals(10, s.writes(), "the echo of each, written from the server's loop");
            LoopMetrics c = on(clientLoop);
            assertEquals(1, c.loops());
            assertEquals(0, c.accepted());
            assertEquals(1, c.connectionsOpen());
            assertEquals(1000, c.bytesIn());
            assertEquals(1000, c.bytesOut(), "the test thread's direct writes count on the connection's loop");
            assertEquals(10, c.writes());

            TcpTestSupport.get(client.close(), "client close");
            LoopTestSupport.awaitTrue(() -> server.metrics(s).connectionsClosed() == 1, "the server side to close");
            assertEquals(0, s.connectionsOpen());
            LoopMetrics after = on(clientLoop);
            assertEquals(1, after.connectionsClosed());
            assertEquals(0, after.connectionsOpen());
            server.close();
        }
    }

    @Test
    void eachFailedConnectAttemptIsCounted() throws Exception {
        try (EventLoopThread t = new EventLoopThread("lm-refused", EventLoopOptions.blocking(), null)) {
            EventLoop loop = t.startLoop();
            TcpClient client = new TcpClient(loop, new InetSocketAddress("127.0.0.1", TcpTestSupport.freePort()),
                    "lm-refused");
            client.setRetryDelays(1, 1);
            client.setMaxAttempts(3);
            long[] seen = new long[3];
            CountDownLatch failed = new CountDownLatch(3);
            LoopMetrics m = new LoopMetrics();
            client.setConnectFailedCallback((cause, attempt, next) -> {
                seen[attempt - 1] = loop.metrics(m).connectFailures();
                failed.countDown();
            });
            client.connect();
            LoopTestSupport.await(failed, "3 refused attempts");
            assertEquals(1, seen[0]);
            assertEquals(2, seen[1]);
            assertEquals(3, seen[2]);
            TcpTestSupport.get(client.close(), "client close");
        }
    }

    @Test
    void aBlockedLoopCountsItsWaitAsIdle() throws Exception {
        try (EventLoopThread t = new EventLoopThread("lm-idle", EventLoopOptions.blocking(), null)) {
            EventLoop loop = t.startLoop();
            LoopMetrics before = on(loop);
            CompletableFuture<LoopMetrics> fired = new CompletableFuture<>();
            long delayNs = TimeUnit.MILLISECONDS.toNanos(100);
            loop.runAfter(100, TimeUnit.MILLISECONDS, () -> fired.complete(loop.metrics(new LoopMetrics())));
            LoopMetrics at = fired.get(WAIT_SECONDS, TimeUnit.SECONDS);
            long idle = at.idleNanos() - before.idleNanos();
            // Nothing else to do: the loop slept in its poller until the timer was due.
            assertTrue(idle >= delayNs / 2, "idle " + idle + " ns across a 100 ms timer");
            assertTrue(idle <= at.elapsedNanos() - before.elapsedNanos(), "idle within the elapsed time");
            assertTrue(at.utilization() >= 0 && at.utilization() < 1, "utilization " + at.utilization());
        }
    }

    /**
     * Warm-up of at least 40,000 reads: the first C2 compile of a method of EventLoop and of
     * TcpServer resolves each class's string literals on the reading thread, once (seen as 688 B
     * near 7,000 reads and 1,128 B near 11,000).
     */
    @Test
    void readingMetricsAllocatesNothing() throws Exception {
        AllocationWindows.enableCounting();
        try (TcpTestSupport.Loops loops = new TcpTestSupport.Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("lm-alloc");
            TcpServer server = TcpTestSupport.server(loops, base, "lm-alloc", 2, s -> { });
            AllocationWindows w = new AllocationWindows("TcpServer.metrics and EventLoop.metrics", 1_000, 40, 3, 100, 5);
            Reader.run(w, server, base, new LoopMetrics());
            w.assertEveryMeasuredWindowClean(WAIT_SECONDS);
            server.close();
        }
    }

    /** The metered reads; no string literals here (see AllocationWindows). */
    static final class Reader {
        static volatile long sink;

        private Reader() {
        }

        static void run(AllocationWindows w, TcpServer server, EventLoop loop, LoopMetrics into) {
            w.endWindow();
            do {
                sink = server.metrics(into).bytesIn() + loop.metrics(into).tasks();
            } while (!w.tick());
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
