package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The loop thread allocates nothing in steady state, and neither does a thread that hands the
 * loop a pre-built task: asserted exactly with
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of each thread that does the
 * work, read on that thread, in windows of {@value #WINDOW} operations (see
 * {@link AllocationWindows}): after a warm-up that ends with {@value #CLEAN_TO_START} consecutive
 * clean windows (at least {@value #MIN_WARMUP}, at most {@value #MAX_WARMUP} windows, else the
 * test fails), each of the next {@value #MEASURED} windows ({@value #MEASURED} x {@value #WINDOW}
 * operations) must be exactly 0 bytes.
 */
@Timeout(120)
class ZeroGarbageTest {
    static final int WINDOW = 10_000;
    static final int MIN_WARMUP = 8;
    static final int CLEAN_TO_START = 3;
    static final int MAX_WARMUP = 60;
    static final int MEASURED = 10;
    static final long WAIT_SECONDS = 60;

    @BeforeAll
    static void enableAllocationCounting() {
        AllocationWindows.enableCounting();
    }

    static AllocationWindows meter(String what) {
        return new AllocationWindows(what, WINDOW, MIN_WARMUP, CLEAN_TO_START, MAX_WARMUP, MEASURED);
    }

    /** An idle strategy that meters each idle-loop iteration and yields. No string literals (see AllocationWindows.Verdict). */
    static final class MeteringIdle implements IdleStrategy {
        final AllocationWindows meter;

        MeteringIdle(AllocationWindows meter) {
            this.meter = meter;
        }

        @Override
        public void idle(int workCount) {
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
        MeteringIdle idle = new MeteringIdle(meter("idle spinning iterations, loop thread"));
        try (EventLoopThread t = new EventLoopThread("zg-idle", EventLoopOptions.spinning(idle), null)) {
            t.startLoop();
            idle.meter.assertEveryMeasuredWindowClean(WAIT_SECONDS);
        }
    }

    enum Submit { RUN_IN_LOOP, QUEUE_IN_LOOP }

    /**
     * The calling thread's side: submits {@code task} and ticks its meter until both meters are
     * done or the deadline passes. Its own class without string literals, so that its C2 compile,
     * requested while it is metered, resolves none on the calling thread.
     */
    static final class Submitter {
        private Submitter() {
        }

        static void submit(EventLoop loop, Submit how, Runnable task, AllocationWindows onLoop,
                AllocationWindows onCaller, long deadline) {
            if (how == Submit.RUN_IN_LOOP) {
                while (!(onLoop.finished() && onCaller.finished()) && System.nanoTime() - deadline < 0) {
                    loop.runInLoop(task);
                    onCaller.tick();
                }
            } else {
                while (!(onLoop.finished() && onCaller.finished()) && System.nanoTime() - deadline < 0) {
                    loop.queueInLoop(task);
                    onCaller.tick();
                }
            }
        }
    }

    /**
     * The calling thread submits the same task object over and over; both the loop thread (which
     * runs it) and the calling thread (which queues it, and in blocking mode wakes the selector)
     * are metered, each over its own windows of operations.
     */
    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"BLOCKING, RUN_IN_LOOP", "BLOCKING, QUEUE_IN_LOOP", "SPINNING, RUN_IN_LOOP", "SPINNING, QUEUE_IN_LOOP"})
    void crossThreadSubmissionOfPrebuiltTaskAllocatesNothing(EventLoop.WaitMode mode, Submit how) throws Exception {
        AllocationWindows onLoop = meter("cross-thread " + how + " tasks (" + mode + "), loop thread");
        AllocationWindows onCaller = meter("cross-thread " + how + " (" + mode + "), calling thread");
        Runnable task = onLoop::tick;
        try (EventLoopThread t = new EventLoopThread("zg-task", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            Submitter.submit(loop, how, task, onLoop, onCaller, deadline);
            onCaller.assertEveryMeasuredWindowClean(0);
            onLoop.assertEveryMeasuredWindowClean(WAIT_SECONDS);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void repeatingTimerFiresAllocateNothing(EventLoop.WaitMode mode) throws Exception {
        AllocationWindows fixedRate = meter("fixed-rate timer fires (" + mode + "), loop thread");
        AllocationWindows fixedDelay = meter("fixed-delay timer fires (" + mode + "), loop thread");
        try (EventLoopThread t = new EventLoopThread("zg-timer", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            // A 1 ns period is always due: the timer fires (and is re-armed) once per iteration.
            long rate = loop.runEvery(1, TimeUnit.NANOSECONDS, fixedRate::tick);
            fixedRate.assertEveryMeasuredWindowClean(WAIT_SECONDS);
            loop.cancel(rate);
            long delay = loop.runWithFixedDelay(1, TimeUnit.NANOSECONDS, fixedDelay::tick);
            fixedDelay.assertEveryMeasuredWindowClean(WAIT_SECONDS);
            loop.cancel(delay);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void inLoopScheduleCancelPairAllocatesNothing(EventLoop.WaitMode mode) throws Exception {
        AllocationWindows meter = meter("in-loop runAfter+cancel pairs (" + mode + "), loop thread");
        Runnable never = () -> {
            throw new AssertionError("cancelled timer ran");
        };
        try (EventLoopThread t = new EventLoopThread("zg-cancel", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            // One runAfter+cancel pair per loop iteration, from a task that re-queues itself.
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
            meter.assertEveryMeasuredWindowClean(WAIT_SECONDS);
            assertEquals(0, LoopTestSupport.call(loop, loop::pendingTimers));
        }
    }
}
