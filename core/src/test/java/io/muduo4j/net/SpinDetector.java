package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Asserts that a blocking-mode loop with nothing to do stays asleep: its iterations over a window
 * stay under a small bound. A loop that an unwanted event keeps waking (a hang-up the poller
 * reports whatever the interest) makes hundreds of thousands of iterations a second; an idle one
 * makes one per wake-up, a few for the two exact readings taken here. The window is a measurement,
 * not a synchronisation: nothing waits for anything to happen in it.
 */
final class SpinDetector {
    /** Iterations an idle loop may make in the window: the readings' own tasks, a timer or two. */
    static final long MAX_IDLE_ITERATIONS = 50;
    static final long WINDOW_MS = 300;

    private SpinDetector() {
    }

    /** Fails when {@code loop} (blocking mode) iterates more than {@link #MAX_IDLE_ITERATIONS} in {@link #WINDOW_MS}. */
    static void assertIdle(EventLoop loop, String what) throws Exception {
        if (loop.waitMode() != EventLoop.WaitMode.BLOCKING) {
            throw new IllegalArgumentException("a spinning loop iterates by design: " + loop);
        }
        long before = TcpTestSupport.onLoop(loop, loop::iterations);
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(WINDOW_MS));
        long after = TcpTestSupport.onLoop(loop, loop::iterations);
        long n = after - before;
        assertTrue(n <= MAX_IDLE_ITERATIONS, what + ": loop " + loop.name() + " iterated " + n + " times in "
                + WINDOW_MS + " ms with nothing to do (at most " + MAX_IDLE_ITERATIONS + " expected): it spins");
    }
}
