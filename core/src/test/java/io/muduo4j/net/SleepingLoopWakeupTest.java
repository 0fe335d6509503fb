package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A blocking loop asleep in select (no timer: it would sleep the whole 10 s cap) is woken promptly
 * by a cross-thread submission, and that costs exactly one wake-up.
 */
@Timeout(30)
class SleepingLoopWakeupTest {

    @Test
    void crossThreadTaskWakesASleepingLoopPromptlyWithOneWakeup() throws Exception {
        try (EventLoopThread t = new EventLoopThread("wakeup-sleeping")) {
            EventLoop loop = t.startLoop();
            for (int round = 0; round < 5; round++) {
                LoopTestSupport.awaitSleeping(loop);
                long before = loop.wakeupCount();
                CountDownLatch ran = new CountDownLatch(1);
                loop.runInLoop(ran::countDown);
                await(ran, "a task submitted to a sleeping loop (round " + round + ")");
                assertEquals(before + 1, loop.wakeupCount(), "one wake-up per submission to a sleeping loop");
            }
        }
    }

    @Test
    void crossThreadTimerWakesASleepingLoopToRecomputeItsTimeout() throws Exception {
        try (EventLoopThread t = new EventLoopThread("wakeup-timer")) {
            EventLoop loop = t.startLoop();
            LoopTestSupport.awaitSleeping(loop);
            CountDownLatch fired = new CountDownLatch(1);
            loop.runAfter(5, TimeUnit.MILLISECONDS, fired::countDown);
            await(fired, "a 5 ms timer scheduled while the loop slept with a 10 s timeout");
        }
    }
}
