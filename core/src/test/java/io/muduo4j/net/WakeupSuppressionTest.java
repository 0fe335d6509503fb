package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A producer pays {@code Selector.wakeup()} only when the loop is (about to be) blocked: a burst
 * of 10,000 cross-thread submissions to an awake loop costs at most a handful of wake-ups
 * ({@link EventLoop#wakeupCount()}), and none at all to a spinning loop.
 */
@Timeout(30)
class WakeupSuppressionTest {
    private static final int BURST = 10_000;

    @Test
    void burstToABusyBlockingLoopCostsAtMostAHandfulOfWakeups() throws Exception {
        // Room for the whole burst, so the producer never waits for the busy loop.
        EventLoopOptions options = EventLoopOptions.blocking().taskQueueCapacity(2 * BURST);
        try (EventLoopThread t = new EventLoopThread("wakeup-busy", options, null)) {
            EventLoop loop = t.startLoop();
            AtomicBoolean producerDone = new AtomicBoolean();
            CountDownLatch busy = new CountDownLatch(1);
            // The loop is awake for the whole burst: it runs a task that spins until the producer finished.
            loop.runInLoop(() -> {
                busy.countDown();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LoopTestSupport.WAIT_SECONDS);
                while (!producerDone.get() && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                }
            });
            await(busy, "the loop to be busy");
            long before = loop.wakeupCount();
            CountDownLatch ran = new CountDownLatch(BURST);
            Runnable task = ran::countDown;
            for (int i = 0; i < BURST; i++) {
                loop.runInLoop(task);
            }
            long duringBurst = loop.wakeupCount() - before;
            producerDone.set(true);
            await(ran, "the burst to run");
            long total = loop.wakeupCount() - before;
            assertTrue(total <= 3, "wake-ups for " + BURST + " submissions to an awake loop: " + total
                    + " (" + duringBurst + " during the burst)");
        }
    }

    @Test
    void burstToASpinningLoopCostsNoWakeup() throws Exception {
        EventLoopOptions options = EventLoopOptions.spinning(new YieldingIdleStrategy());
        try (EventLoopThread t = new EventLoopThread("wakeup-spin", options, null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch ran = new CountDownLatch(BURST);
            Runnable task = ran::countDown;
            for (int i = 0; i < BURST; i++) {
                loop.runInLoop(task);
            }
            await(ran, "the burst to run");
            loop.quit();
            LoopTestSupport.join(t.thread());
            assertEquals(0, loop.wakeupCount(), "a spinning loop is never woken");
        }
    }
}
