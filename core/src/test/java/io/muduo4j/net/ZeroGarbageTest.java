package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The loop thread allocates nothing in steady state, measured exactly with
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of the loop thread, read on the
 * loop thread itself between two points after a JIT warm-up.
 */
@Timeout(60)
class ZeroGarbageTest {
    private static final int WARMUP = 50_000;
    private static final int MEASURED = 10_000;
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @BeforeAll
    static void enableAllocationCounting() {
        assertTrue(MX.isThreadAllocatedMemorySupported(), "JVM cannot count per-thread allocation");
        MX.setThreadAllocatedMemoryEnabled(true);
    }

    /**
     * Counts events on the loop thread and reads the loop thread's allocated bytes at event
     * {@code WARMUP} and at event {@code WARMUP + MEASURED}; the reading code itself allocates
     * nothing (primitive fields only, and the counter is primed once before the first reading).
     */
    static final class Meter {
        final CountDownLatch done = new CountDownLatch(1);
        long events;
        long threadId;
        long before;
        long after;

        /** Call on the loop thread once per event; returns true once the measured window is over. */
        boolean tick() {
            long n = ++events;
            if (n == WARMUP / 2) {
                threadId = Thread.currentThread().getId();
                MX.getThreadAllocatedBytes(threadId); // prime: a first call may allocate
            } else if (n == WARMUP) {
                before = MX.getThreadAllocatedBytes(threadId);
            } else if (n == WARMUP + MEASURED) {
                after = MX.getThreadAllocatedBytes(threadId);
                done.countDown();
                return true;
            }
            return n > WARMUP + MEASURED;
        }

        void assertZero(String what) throws InterruptedException {
            await(done, what);
            assertEquals(0, after - before, "bytes allocated by the loop thread over " + MEASURED + " " + what);
        }
    }

    /** An idle strategy that meters each idle-loop iteration and yields. */
    static final class MeteringIdle implements IdleStrategy {
        final Meter meter = new Meter();
        volatile boolean sawWork;

        @Override
        public void idle(int workCount) {
            if (workCount > 0) {
                sawWork = true;
            }
            meter.tick();
            Thread.yield();
        }

        @Override
        public void idle() {
            idle(0);
        }

        @Override
        public void reset() {
        }
    }

    @Test
    void idleSpinningIterationsAllocateNothing() throws Exception {
        MeteringIdle idle = new MeteringIdle();
        try (EventLoopThread t = new EventLoopThread("zg-idle", EventLoop.Options.spinning(idle), null)) {
            t.startLoop();
            idle.meter.assertZero("idle spinning iterations");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void crossThreadRunInLoopOfPrebuiltTaskAllocatesNothing(EventLoop.WaitMode mode) throws Exception {
        Meter meter = new Meter();
        Runnable task = meter::tick;
        try (EventLoopThread t = new EventLoopThread("zg-task", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            for (int i = 0; i < WARMUP + MEASURED; i++) {
                loop.runInLoop(task);
            }
            meter.assertZero("cross-thread runInLoop tasks (" + mode + ")");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void repeatingTimerFiresAllocateNothing(EventLoop.WaitMode mode) throws Exception {
        Meter fixedRate = new Meter();
        Meter fixedDelay = new Meter();
        try (EventLoopThread t = new EventLoopThread("zg-timer", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            // A 1 ns period is always due: the timer fires (and is re-armed) once per iteration.
            long rate = loop.runEvery(1, TimeUnit.NANOSECONDS, fixedRate::tick);
            long delay = loop.runWithFixedDelay(1, TimeUnit.NANOSECONDS, fixedDelay::tick);
            fixedRate.assertZero("fixed-rate timer fires (" + mode + ")");
            fixedDelay.assertZero("fixed-delay timer fires (" + mode + ")");
            loop.cancel(rate);
            loop.cancel(delay);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void inLoopScheduleCancelPairAllocatesNothing(EventLoop.WaitMode mode) throws Exception {
        Meter meter = new Meter();
        Runnable never = () -> {
            throw new AssertionError("cancelled timer ran");
        };
        try (EventLoopThread t = new EventLoopThread("zg-cancel", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            // One schedule+cancel pair per loop iteration, from a task that re-queues itself.
            loop.runInLoop(new Runnable() {
                @Override
                public void run() {
                    long id = loop.runAfter(1, TimeUnit.SECONDS, never);
                    loop.cancel(id);
                    if (!meter.tick()) {
                        loop.queueInLoop(this);
                    }
                }
            });
            meter.assertZero("in-loop runAfter+cancel pairs (" + mode + ")");
            assertEquals(0, LoopTestSupport.call(loop, loop::pendingTimers));
        }
    }
}
