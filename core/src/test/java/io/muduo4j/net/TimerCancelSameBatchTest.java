package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * muduo issue 668: a timer cancelled by another timer's callback in the same expiry batch must not
 * run. Both timers get the same {@code runAt} deadline, so they are due in the same pass; the
 * earlier-scheduled one (which runs first) cancels the other.
 */
@Timeout(20)
class TimerCancelSameBatchTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void victimDueInTheSameBatchDoesNotRun(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-batch", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            for (int round = 0; round < 20; round++) {
                AtomicBoolean victimRan = new AtomicBoolean();
                boolean[] checks = new boolean[2];
                CountDownLatch done = new CountDownLatch(1);
                long[] victim = new long[1];
                LoopTestSupport.run(loop, () -> {
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2);
                    loop.runAt(deadline, () -> {
                        checks[0] = loop.pendingTimers() == 2; // the victim is due and still pending
                        loop.cancel(victim[0]);
                        loop.queueInLoop(() -> { // after the expiry pass
                            checks[1] = loop.pendingTimers() == 0;
                            done.countDown();
                        });
                    });
                    victim[0] = loop.runAt(deadline, () -> victimRan.set(true));
                });
                await(done, "the cancelling timer");
                assertTrue(checks[0], "both timers were due in the same batch");
                assertTrue(checks[1], "the victim is gone");
                assertFalse(victimRan.get(), "a timer cancelled earlier in its batch ran (muduo #668), round " + round);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void repeatingVictimInTheSameBatchDoesNotRun(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-batch-repeat", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            AtomicBoolean victimRan = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            int[] pending = new int[1];
            long[] victim = new long[1];
            LoopTestSupport.run(loop, () -> {
                // Both already due at the next expiry pass; the one-shot's deadline is earlier.
                loop.runAt(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(1), () -> {
                    loop.cancel(victim[0]);
                    loop.queueInLoop(() -> {
                        pending[0] = loop.pendingTimers();
                        done.countDown();
                    });
                });
                victim[0] = loop.runEvery(1, TimeUnit.NANOSECONDS, () -> victimRan.set(true));
            });
            await(done, "the cancelling timer");
            assertEquals(0, pending[0]);
            assertFalse(victimRan.get(), "a repeating timer cancelled earlier in its batch ran");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void sameBatchScheduledFromAnotherThread(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-batch-cross", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            AtomicBoolean victimRan = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            long[] victim = new long[1];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
            loop.runAt(deadline, () -> {
                loop.cancel(victim[0]);
                loop.queueInLoop(done::countDown);
            });
            victim[0] = loop.runAt(deadline, () -> victimRan.set(true));
            await(done, "the cancelling timer");
            assertFalse(victimRan.get(), "a timer cancelled earlier in its batch ran");
        }
    }
}
