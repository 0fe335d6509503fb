package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cancel is exact: from inside the timer's own callback (a repeating timer is not re-armed), from
 * another thread (before it fires, and while it repeats), and after it fired (a no-op that touches
 * no other timer). "Will never fire again" is checked on the loop thread as "no longer pending",
 * so no test waits to see that nothing happens.
 */
@Timeout(30)
class TimerCancelTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void repeatingTimerCancelledFromItsOwnCallbackIsNotRearmed(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-self", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            for (boolean fixedRate : new boolean[] {true, false}) {
                AtomicInteger fires = new AtomicInteger();
                int[] pendingAfter = new int[1];
                CountDownLatch checked = new CountDownLatch(1);
                long[] id = new long[1];
                Runnable cb = () -> {
                    if (fires.incrementAndGet() == 3) {
                        loop.cancel(id[0]);
                        // Runs after this expiry pass, in the same iteration.
                        loop.queueInLoop(() -> {
                            pendingAfter[0] = loop.pendingTimers();
                            checked.countDown();
                        });
                    }
                };
                LoopTestSupport.run(loop, () -> id[0] = fixedRate
                        ? loop.runEvery(1, TimeUnit.NANOSECONDS, cb)
                        : loop.runWithFixedDelay(1, TimeUnit.NANOSECONDS, cb));
                await(checked, "the self-cancelling timer");
                LoopTestSupport.runIterations(loop, 5);
                assertEquals(0, pendingAfter[0], "cancelled from its own callback: not re-armed");
                assertEquals(3, fires.get(), "no fire after the self-cancel");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void cancelFromAnotherThreadBeforeItFires(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-cross", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            AtomicBoolean fired = new AtomicBoolean();
            CountDownLatch other = new CountDownLatch(1);
            long victim = loop.runAfter(20, TimeUnit.MILLISECONDS, () -> fired.set(true));
            loop.runAfter(40, TimeUnit.MILLISECONDS, other::countDown);
            loop.cancel(victim);
            // Queued behind the cancel by the same thread: the victim is gone when this runs.
            assertEquals(1, (int) LoopTestSupport.call(loop, loop::pendingTimers), "only the other timer left");
            await(other, "the timer that was not cancelled");
            assertFalse(fired.get(), "a timer cancelled from another thread fired");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void cancelARepeatingTimerFromAnotherThreadWhileItFires(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-cross-repeat", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            AtomicInteger fires = new AtomicInteger();
            long id = loop.runEvery(100, TimeUnit.MICROSECONDS, fires::incrementAndGet);
            LoopTestSupport.awaitTrue(() -> fires.get() >= 10, "ten fires");
            loop.cancel(id);
            int atCancel = LoopTestSupport.call(loop, () -> {
                assertEquals(0, loop.pendingTimers());
                return fires.get();
            });
            LoopTestSupport.runIterations(loop, 5);
            assertEquals(atCancel, fires.get(), "fired after the cancel reached the loop");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void cancelAfterItFiredIsANoOpThatSparesOtherTimers(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("cancel-spent", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch fired = new CountDownLatch(1);
            long spent = loop.runAfter(1, TimeUnit.MILLISECONDS, fired::countDown);
            await(fired, "the one-shot");
            CountDownLatch later = new CountDownLatch(2);
            loop.runAfter(5, TimeUnit.MILLISECONDS, later::countDown);
            long inLoopLater = LoopTestSupport.call(loop, () -> loop.runAfter(5, TimeUnit.MILLISECONDS, later::countDown));
            loop.cancel(spent);                          // from another thread
            LoopTestSupport.run(loop, () -> {
                loop.cancel(spent);                      // from the loop thread
                loop.cancel(spent);                      // twice
                loop.cancel(Long.MAX_VALUE);             // never issued
                loop.cancel(0);
            });
            await(later, "the timers scheduled after the spent one");
            assertFalse(spent == inLoopLater);
            assertEquals(0, (int) LoopTestSupport.call(loop, loop::pendingTimers));
        }
    }
}
