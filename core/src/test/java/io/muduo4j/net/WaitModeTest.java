package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The two wait modes: {@code BLOCKING} sleeps in select until the next timer deadline (no
 * spinning, no wake-up needed for its own timers; the cap is muduo's 10 s); {@code SPINNING}
 * never blocks: it polls with {@code selectNow} and idles with the given Agrona
 * {@link IdleStrategy}, which sees each iteration's work count.
 */
@Timeout(20)
class WaitModeTest {

    /** Counts idle calls with and without work, and yields. */
    static final class CountingIdle implements IdleStrategy {
        final AtomicLong idleCalls = new AtomicLong();
        final AtomicLong busyCalls = new AtomicLong();
        final AtomicLong resets = new AtomicLong();

        @Override
        public void idle(int workCount) {
            (workCount > 0 ? busyCalls : idleCalls).incrementAndGet();
            if (workCount == 0) {
                Thread.yield();
            }
        }

        @Override
        public void idle() {
            idle(0);
        }

        @Override
        public void reset() {
            resets.incrementAndGet();
        }
    }

    @Test
    void blockingLoopSleepsUntilItsTimerDeadline() throws Exception {
        try (EventLoopThread t = new EventLoopThread("mode-blocking")) {
            EventLoop loop = t.startLoop();
            assertSame(EventLoop.WaitMode.BLOCKING, loop.waitMode());
            assertEquals(10_000, EventLoop.MAX_POLL_MS, "muduo's 10 s poll cap");
            CountDownLatch fired = new CountDownLatch(1);
            long[] iterations = new long[2];
            LoopTestSupport.run(loop, () -> {
                iterations[0] = loop.iterations();
                loop.runAfter(50, TimeUnit.MILLISECONDS, () -> {
                    iterations[1] = loop.iterations();
                    fired.countDown();
                });
            });
            long wakeups = loop.wakeupCount(); // the submission above may have woken it, not the timer
            await(fired, "a 50 ms timer");
            // One iteration to block until the deadline, perhaps one more for rounding.
            assertTrue(iterations[1] - iterations[0] <= 5,
                    "iterations while waiting 50 ms for a timer: " + (iterations[1] - iterations[0]));
            assertEquals(wakeups, loop.wakeupCount(), "its own timer needs no wake-up");
        }
    }

    @Test
    void spinningLoopPollsAndIdlesWithTheGivenStrategy() throws Exception {
        CountingIdle idle = new CountingIdle();
        try (EventLoopThread t = new EventLoopThread("mode-spinning", EventLoopOptions.spinning(idle), null)) {
            EventLoop loop = t.startLoop();
            assertSame(EventLoop.WaitMode.SPINNING, loop.waitMode());
            LoopTestSupport.awaitTrue(() -> idle.resets.get() >= 1, "the strategy to be reset when the loop starts");
            LoopTestSupport.awaitTrue(() -> idle.idleCalls.get() > 100, "idle iterations");
            long busyBefore = idle.busyCalls.get();
            CountDownLatch ran = new CountDownLatch(10);
            for (int i = 0; i < 10; i++) {
                loop.runInLoop(ran::countDown);
            }
            await(ran, "tasks on a spinning loop");
            LoopTestSupport.awaitTrue(() -> idle.busyCalls.get() > busyBefore, "an iteration reporting work");
            CountDownLatch fired = new CountDownLatch(1);
            loop.runAfter(2, TimeUnit.MILLISECONDS, fired::countDown);
            await(fired, "a timer on a spinning loop");
            assertEquals(0, loop.wakeupCount(), "a spinning loop is never woken");
        }
    }

    @Test
    void eachLoopAsksTheIdleFactoryOnce() {
        AtomicLong made = new AtomicLong();
        EventLoopOptions options = EventLoopOptions.spinning(() -> {
            made.incrementAndGet();
            return new CountingIdle();
        });
        EventLoop loop = new EventLoop(options);
        try {
            assertEquals(1, made.get(), "one strategy made for one loop");
        } finally {
            loop.close();
        }
    }
}
