package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A repeating timer that is behind (its period is shorter than the loop can keep up with) runs at
 * most once per expiry pass: it can neither starve the other due timers nor the task queue.
 */
@Timeout(30)
class TimerFairnessTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void overloadedFixedRateTimerDoesNotStarveOtherTimers(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-fair", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch oneShot = new CountDownLatch(1);
            CountDownLatch fixedDelay = new CountDownLatch(100);
            LoopTestSupport.run(loop, () -> {
                // Always due, and never catching up: a fixed-rate deadline advances 1 ns per fire.
                loop.runEvery(1, TimeUnit.NANOSECONDS, () -> { });
                loop.runAfter(100, TimeUnit.MILLISECONDS, oneShot::countDown);
                loop.runWithFixedDelay(1, TimeUnit.MICROSECONDS, fixedDelay::countDown);
            });
            await(oneShot, "a one-shot timer due behind an overloaded fixed-rate timer");
            await(fixedDelay, "100 fires of a fixed-delay timer beside an overloaded fixed-rate timer");
            // Nor does it starve the task queue.
            LoopTestSupport.run(loop, () -> { });
        }
    }
}
