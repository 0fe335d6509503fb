package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The stall detector ({@link EventLoopOptions#stallThreshold}): a task or an I/O callback that
 * holds the loop past the threshold is reported once, with the loop, a duration of at least the
 * threshold and the stack it was in; a loop asleep in its poller is not; a loop without a
 * threshold is not watched at all. Runs on every transport.
 */
@Timeout(60)
class StallDetectorTest {
    static final long THRESHOLD_MS = 40;

    /** What the handler saw. */
    static final class Stall {
        final EventLoop loop;
        final long nanos;
        final StackTraceElement[] stack;

        Stall(EventLoop loop, long nanos, StackTraceElement[] stack) {
            this.loop = loop;
            this.nanos = nanos;
            this.stack = stack;
        }

        boolean inMethod(String name) {
            for (StackTraceElement e : stack) {
                if (e.getMethodName().equals(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static EventLoopOptions detecting(List<Stall> into) {
        return EventLoopOptions.blocking().stallThreshold(THRESHOLD_MS, TimeUnit.MILLISECONDS)
                .stallHandler((loop, nanos, stack) -> into.add(new Stall(loop, nanos, stack)));
    }

    /** The watch of {@code loop}, from the loop thread (null when not watched). */
    private static StallDetector.Watch watchOf(EventLoop loop) throws Exception {
        return LoopTestSupport.call(loop, () -> {
            java.lang.reflect.Field f = EventLoop.class.getDeclaredField("stallWatch");
            f.setAccessible(true);
            return (StallDetector.Watch) f.get(loop);
        });
    }

    /** Waits until the detector has checked {@code w} {@code n} more times. */
    private static void awaitChecks(StallDetector.Watch w, int n) {
        long target = w.checks + n;
        LoopTestSupport.awaitTrue(() -> w.checks >= target, n + " stall checks");
    }

    @Test
    void aTaskThatHoldsTheLoopIsReportedOnceWithItsStack() throws Exception {
        List<Stall> stalls = new CopyOnWriteArrayList<>();
        try (EventLoopThread t = new EventLoopThread("stall-task", detecting(stalls), null)) {
            EventLoop loop = t.startLoop();
            StallDetector.Watch w = watchOf(loop);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> held = new CompletableFuture<>();
            loop.queueInLoop(() -> holdTheLoop(release, held));
            LoopTestSupport.awaitTrue(() -> !stalls.isEmpty(), "the stall to be reported");
            awaitChecks(w, 8); // two thresholds' worth of further checks while still held
            assertEquals(1, stalls.size(), "reported once per stall");
            release.countDown();
            held.get(WAIT_SECONDS, TimeUnit.SECONDS);
            Stall s = stalls.get(0);
            assertTrue(s.loop == loop);
            assertTrue(s.nanos >= TimeUnit.MILLISECONDS.toNanos(THRESHOLD_MS), s.nanos + " ns");
            assertTrue(s.inMethod("holdTheLoop"), "the stack names the task: " + java.util.Arrays.toString(s.stack));
            assertEquals(1, loop.metrics(new LoopMetrics()).stalls());

            // The next stall is a new one.
            CountDownLatch again = new CountDownLatch(1);
            loop.queueInLoop(() -> holdTheLoop(again, new CompletableFuture<>()));
            LoopTestSupport.awaitTrue(() -> stalls.size() == 2, "the second stall to be reported");
            again.countDown();
        }
    }

    @Test
    void aLoopAsleepInItsPollerIsNoStall() throws Exception {
        List<Stall> stalls = new CopyOnWriteArrayList<>();
        try (EventLoopThread t = new EventLoopThread("stall-idle", detecting(stalls), null)) {
            EventLoop loop = t.startLoop();
            StallDetector.Watch w = watchOf(loop);
            long iterations = loop.iterations();
            LoopTestSupport.awaitSleeping(loop);
            awaitChecks(w, 12); // three thresholds and more with no iteration
            assertEquals(iterations, loop.iterations(), "the loop slept throughout");
            assertEquals(0, stalls.size());
        }
    }

    @Test
    void aMessageCallbackThatHoldsTheLoopIsReported() throws Exception {
        List<Stall> stalls = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Void> held = new CompletableFuture<>();
        try (EventLoopThread t = new EventLoopThread("stall-io", detecting(stalls), null)) {
            EventLoop loop = t.startLoop();
            TcpServer server = new TcpServer(loop, TcpTestSupport.ANY_LOCAL_PORT, "stall-io");
            server.setMessageCallback((c, buf, at) -> {
                buf.retrieveAll();
                holdTheLoop(release, held);
            });
            server.start();
            InetSocketAddress address = server.listenAddress();
            try (SocketChannel ch = SocketChannel.open(address)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
                LoopTestSupport.awaitTrue(() -> !stalls.isEmpty(), "the stall to be reported");
                release.countDown();
                held.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            Stall s = stalls.get(0);
            assertTrue(s.inMethod("holdTheLoop") && s.inMethod("handleRead"),
                    "the stack is the callback's, under the read: " + java.util.Arrays.toString(s.stack));
            server.close();
        }
    }

    @Test
    void aLoopWithoutAThresholdIsNotWatched() throws Exception {
        try (EventLoopThread t = new EventLoopThread("stall-off", EventLoopOptions.blocking(), null)) {
            assertNull(watchOf(t.startLoop()));
        }
    }

    @Test
    void aThresholdBelowOneMillisecondIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EventLoopOptions.blocking().stallThreshold(500, TimeUnit.MICROSECONDS));
        assertTrue(e.getMessage().contains("at least 1 ms"), e.getMessage());
    }

    private static void holdTheLoop(CountDownLatch release, CompletableFuture<Void> held) {
        try {
            if (!release.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                held.completeExceptionally(new AssertionError("never released"));
                return;
            }
            held.complete(null);
        } catch (InterruptedException e) {
            held.completeExceptionally(e);
        }
    }
}
