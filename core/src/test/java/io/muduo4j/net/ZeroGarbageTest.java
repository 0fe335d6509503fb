package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.IdleStrategy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The loop thread allocates nothing in steady state, asserted exactly with
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of the loop thread, read on the
 * loop thread itself, over windows of {@value #WINDOW} consecutive operations after a warm-up of
 * {@value #WARMUP}.
 *
 * <p>Why several windows: HotSpot's {@code CompileBroker}, when a thread's invocation counter asks
 * for a C2 compile, first resolves every string literal of that method's class in the asking
 * thread (a {@code String} and its {@code byte[]}, 80 to ~900 bytes, once per class per JVM; seen
 * with JFR and {@code -XX:-UseTLAB} at the entry bytecode of {@code Long2LongHashMap.put},
 * {@code Poller.pollNow}, {@code YieldingIdleStrategy.idle} and the test's own methods). On a
 * loaded machine such a late compile request can land in the first window. It is not garbage
 * from the code under test and it never repeats, whereas a real per-operation allocation shows up
 * in every window. So the test passes on the first window of exactly 0 bytes and fails if none of
 * {@value #MAX_WINDOWS} consecutive windows is clean.
 */
@Timeout(60)
class ZeroGarbageTest {
    private static final int WARMUP = 50_000;
    private static final int WINDOW = 10_000;
    private static final int MAX_WINDOWS = 8;
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @BeforeAll
    static void enableAllocationCounting() {
        assertTrue(MX.isThreadAllocatedMemorySupported(), "JVM cannot count per-thread allocation");
        MX.setThreadAllocatedMemoryEnabled(true);
    }

    /**
     * Counts operations on the loop thread and reads the loop thread's allocated bytes at window
     * boundaries. Only primitive fields and a pre-sized array: the meter itself allocates nothing
     * (the counter is primed once, since a first call may allocate).
     */
    static final class Meter {
        final CountDownLatch done = new CountDownLatch(1);
        final long[] windows = new long[MAX_WINDOWS];
        volatile int windowsMeasured;
        volatile boolean finished;
        long events;
        long threadId;
        long windowStart;

        /** Call on the loop thread once per operation; returns true once a verdict is reached. */
        boolean tick() {
            if (finished) {
                return true;
            }
            long n = ++events;
            if (n == WARMUP / 2) {
                threadId = Thread.currentThread().getId();
                MX.getThreadAllocatedBytes(threadId);
            } else if (n >= WARMUP && (n - WARMUP) % WINDOW == 0) {
                long now = MX.getThreadAllocatedBytes(threadId);
                int ended = (int) ((n - WARMUP) / WINDOW);
                if (ended > 0) {
                    windows[ended - 1] = now - windowStart;
                    windowsMeasured = ended;
                    if (windows[ended - 1] == 0 || ended == MAX_WINDOWS) {
                        finished = true;
                        done.countDown();
                        return true;
                    }
                }
                windowStart = now;
            }
            return false;
        }

        void assertZero(String what) throws InterruptedException {
            await(done, what);
            int n = windowsMeasured;
            long[] seen = Arrays.copyOf(windows, n);
            if (seen[n - 1] != 0) {
                fail("loop thread allocated in each of " + n + " windows of " + WINDOW + " " + what
                        + ", bytes per window: " + Arrays.toString(seen));
            }
            if (n > 1) {
                System.out.println("ZeroGarbageTest: " + what + ": one-time allocations before the clean window: "
                        + Arrays.toString(seen));
            }
        }
    }

    /** An idle strategy that meters each idle-loop iteration and yields. */
    static final class MeteringIdle implements IdleStrategy {
        final Meter meter = new Meter();

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
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LoopTestSupport.WAIT_SECONDS);
            while (!meter.finished && System.nanoTime() - deadline < 0) {
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
            fixedRate.assertZero("fixed-rate timer fires (" + mode + ")");
            loop.cancel(rate);
            long delay = loop.runWithFixedDelay(1, TimeUnit.NANOSECONDS, fixedDelay::tick);
            fixedDelay.assertZero("fixed-delay timer fires (" + mode + ")");
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
            meter.assertZero("in-loop runAfter+cancel pairs (" + mode + ")");
            assertEquals(0, LoopTestSupport.call(loop, loop::pendingTimers));
        }
    }
}
