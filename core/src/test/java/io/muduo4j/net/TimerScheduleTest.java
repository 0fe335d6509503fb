package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code runAt}, {@code runAfter}, {@code runEvery} and {@code runWithFixedDelay} work from any
 * thread, fire on the loop thread never before their {@code System.nanoTime()} deadline, in
 * deadline order, and return distinct primitive ids.
 */
@Timeout(30)
class TimerScheduleTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void oneShotTimersFromAnotherThreadFireOnTheLoopThreadNotEarly(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-cross", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            CompletableFuture<long[]> after = new CompletableFuture<>();
            CompletableFuture<long[]> at = new CompletableFuture<>();
            long scheduled = System.nanoTime();
            long deadline = scheduled + TimeUnit.MILLISECONDS.toNanos(3);
            long idAfter = loop.runAfter(2, TimeUnit.MILLISECONDS,
                    () -> after.complete(new long[] {System.nanoTime(), Thread.currentThread() == loopThread ? 1 : 0}));
            long idAt = loop.runAt(deadline,
                    () -> at.complete(new long[] {System.nanoTime(), Thread.currentThread() == loopThread ? 1 : 0}));
            assertNotEquals(idAfter, idAt);
            long[] a = after.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            long[] b = at.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(a[0] - scheduled >= TimeUnit.MILLISECONDS.toNanos(2), "runAfter fired early");
            assertTrue(b[0] - deadline >= 0, "runAt fired before its deadline");
            assertEquals(1, a[1], "on the loop thread");
            assertEquals(1, b[1], "on the loop thread");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void timersScheduledOnTheLoopThreadFireInDeadlineThenSchedulingOrder(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-order", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            List<String> fired = new ArrayList<>();
            CountDownLatch all = new CountDownLatch(5);
            LoopTestSupport.run(loop, () -> {
                long now = System.nanoTime();
                long ms = TimeUnit.MILLISECONDS.toNanos(1);
                loop.runAt(now + 3 * ms, () -> { fired.add("c"); all.countDown(); });
                loop.runAt(now + ms, () -> { fired.add("a1"); all.countDown(); });
                loop.runAt(now + 2 * ms, () -> { fired.add("b"); all.countDown(); });
                loop.runAt(now + ms, () -> { fired.add("a2"); all.countDown(); });
                loop.runAt(now - ms, () -> { fired.add("past"); all.countDown(); });
            });
            await(all, "five timers");
            assertEquals(List.of("past", "a1", "a2", "b", "c"), LoopTestSupport.call(loop, () -> List.copyOf(fired)));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void repeatingTimersFromAnyThreadKeepFiring(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-repeat", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch crossRate = new CountDownLatch(5);
            CountDownLatch crossDelay = new CountDownLatch(5);
            CountDownLatch loopRate = new CountDownLatch(5);
            CountDownLatch loopDelay = new CountDownLatch(5);
            long a = loop.runEvery(1, TimeUnit.MILLISECONDS, crossRate::countDown);
            long b = loop.runWithFixedDelay(1, TimeUnit.MILLISECONDS, crossDelay::countDown);
            long[] ids = LoopTestSupport.call(loop, () -> new long[] {
                loop.runEvery(1, TimeUnit.MILLISECONDS, loopRate::countDown),
                loop.runWithFixedDelay(1, TimeUnit.MILLISECONDS, loopDelay::countDown)});
            await(crossRate, "runEvery from another thread");
            await(crossDelay, "runWithFixedDelay from another thread");
            await(loopRate, "runEvery from the loop thread");
            await(loopDelay, "runWithFixedDelay from the loop thread");
            assertEquals(4, java.util.stream.LongStream.of(a, b, ids[0], ids[1]).distinct().count(), "distinct ids");
            loop.cancel(a);
            loop.cancel(b);
            LoopTestSupport.run(loop, () -> {
                loop.cancel(ids[0]);
                loop.cancel(ids[1]);
            });
            assertEquals(0, (int) LoopTestSupport.call(loop, loop::pendingTimers));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void fixedDelayIsMeasuredFromTheEndOfTheRun(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-delay", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            long delay = TimeUnit.MILLISECONDS.toNanos(2);
            long[] starts = new long[6];
            long[] ends = new long[6];
            int[] n = new int[1];
            CountDownLatch done = new CountDownLatch(1);
            long[] id = new long[1];
            id[0] = loop.runWithFixedDelay(2, TimeUnit.MILLISECONDS, () -> {
                int i = n[0]++;
                starts[i] = System.nanoTime();
                LoopTestSupport.busyWork(TimeUnit.MICROSECONDS.toNanos(1500)); // a run longer than most of a period
                ends[i] = System.nanoTime();
                if (i == starts.length - 1) {
                    loop.cancel(id[0]);
                    done.countDown();
                }
            });
            await(done, "six fixed-delay runs");
            for (int i = 1; i < starts.length; i++) {
                long gap = starts[i] - ends[i - 1];
                // A fixed-rate timer would start again 0.5 ms after the end of a 1.5 ms run.
                assertTrue(gap >= delay, "run " + i + " started " + gap + " ns after the previous ended");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void nonPositivePeriodsAreRefused(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("timer-args", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            assertThrows(IllegalArgumentException.class, () -> loop.runEvery(0, TimeUnit.MILLISECONDS, () -> { }));
            assertThrows(IllegalArgumentException.class, () -> loop.runWithFixedDelay(-1, TimeUnit.SECONDS, () -> { }));
            assertThrows(NullPointerException.class, () -> loop.runAfter(1, TimeUnit.SECONDS, null));
            CountDownLatch negative = new CountDownLatch(1);
            loop.runAfter(-5, TimeUnit.SECONDS, negative::countDown); // a negative delay means now
            await(negative, "a timer with a negative delay");
        }
    }
}
