package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code runEvery} is fixed-rate on the monotonic clock: the n-th fire is due at
 * {@code start + n * period}, so the number of fires tracks elapsed / period with no cumulative
 * drift. To make drift impossible to miss, one run stalls the loop for 60 periods: a fixed-rate
 * timer catches up (the missed fires run back to back, one per iteration), a fixed-delay or
 * muduo-style "restart from now" timer stays 60+ fires behind forever, on top of the latency it
 * accumulates every period.
 *
 * <p>This is the suite's only timing assertion, and a coarse one: elapsed time is measured inside
 * the callback, the fire count is compared with elapsed / period over the last 100 ms of a 300 ms
 * window (taking the best moment, so a scheduling hiccup on a loaded machine is forgiven), with a
 * tolerance of 25 periods. The per-fire CPU cost is tiny, so the loop can catch up even when it
 * gets a small share of a busy machine.
 */
@Timeout(30)
class FixedRateDriftTest {
    private static final long PERIOD = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long WINDOW = TimeUnit.MILLISECONDS.toNanos(300);
    private static final long CHECKED = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long STALL = 60 * PERIOD;
    private static final long TOLERANCE_PERIODS = 25;

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void fireCountTracksElapsedOverPeriod(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("drift", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch done = new CountDownLatch(1);
            long[] state = new long[4]; // fires, smallest lag in the checked tail, earliest fire, id
            state[1] = Long.MAX_VALUE;
            state[2] = Long.MAX_VALUE;
            long start = System.nanoTime(); // <= the timer's own start, taken inside runEvery
            state[3] = loop.runEvery(PERIOD, TimeUnit.NANOSECONDS, () -> {
                long elapsed = System.nanoTime() - start;
                long fires = ++state[0];
                // The n-th fire is due at (timer start + n * period) >= start + n * period.
                state[2] = Math.min(state[2], elapsed - fires * PERIOD);
                if (elapsed >= WINDOW - CHECKED) {
                    // How many fires behind elapsed / period the timer is at this moment.
                    state[1] = Math.min(state[1], elapsed / PERIOD - fires);
                }
                if (fires == 10) {
                    LoopTestSupport.busyWork(STALL); // a slow callback: the loop misses 60 periods
                }
                if (elapsed >= WINDOW) {
                    loop.cancel(state[3]);
                    done.countDown();
                }
            });
            await(done, "the drift window");
            long[] s = LoopTestSupport.call(loop, state::clone);
            assertTrue(s[2] >= 0, "a fire came " + (-s[2]) + " ns before its due time");
            assertTrue(s[1] <= TOLERANCE_PERIODS, "fixed-rate timer stayed " + s[1] + " periods behind elapsed/period"
                    + " (" + s[0] + " fires in " + WINDOW / PERIOD + " periods): cumulative drift");
        }
    }
}
