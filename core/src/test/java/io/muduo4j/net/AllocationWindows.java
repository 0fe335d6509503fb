package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Exact per-thread allocation of a repeated operation, in windows of a fixed number of
 * operations, read with {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes(threadId)}
 * of every thread that does the work.
 *
 * <p>Two phases. <b>Warm-up</b>: windows are measured until {@code cleanToStart} consecutive
 * windows allocated exactly 0 bytes on every thread (and at least {@code minWarmup} windows have
 * passed); if that does not happen within {@code maxWarmup} windows the verdict is a failure.
 * The warm-up absorbs HotSpot's one-time costs: when a thread's invocation counter first asks for
 * a compile of a method, the {@code CompileBroker} resolves the string literals of its class on
 * that thread (80 to ~900 bytes once per class per JVM), and early deoptimisations
 * re-materialise scalar-replaced objects. <b>Measured</b>: the next {@code measured} windows, every
 * one of which must be exactly 0 bytes on every thread. So an allocation that happens once per
 * window, however small, fails the test (the warm-up never becomes clean), and so does one that
 * happens once, after the warm-up, unless it is the one restart below.
 *
 * <p><b>One restart.</b> The string-literal resolution above also comes, once per class and JVM,
 * from the first C2 compile request of any method of a library class, on the thread whose counter
 * asked: a method that runs rarely (once per connection or per close) can ask late, after the
 * warm-up, and the thread then allocates a few hundred bytes of {@code String}s once. Seen with
 * JFR ({@code -XX:-UseTLAB}): two {@code String}s and their {@code byte[]}s (136 B) at the entry of
 * {@code ConnectionCore.handleEvent} on a client loop, and single windows of 560 to 688 B on the
 * client loop in the measured phase of the high-descriptor echo in about 3 runs in 8. So the first
 * measured window that is not clean sends the meter back to warm-up once (the clean run starts
 * over, with a fresh warm-up budget) and the verdict reports it; a second one fails. An allocation
 * per operation, or one every few windows, still fails: it dirties the new warm-up or the new
 * measured windows too.
 *
 * <p>The meter is driven by one thread: {@link #tick()} once per operation (a window ends every
 * {@code window} ticks) or {@link #endWindow()} at the end of each window. That thread reads the
 * counters of all measured threads (by default only itself) at each boundary; the first boundary
 * only primes the counters. The boundary code is the same in both phases (only fields decide
 * where a window's bytes are filed), and the meter itself allocates nothing after its first
 * boundary.
 *
 * <p>Code that runs per operation on a measured thread (this meter, a test's driving loop) keeps
 * no string literals in its class: the clean-window rule cannot foresee a compile request that
 * comes after the warm-up, and one does come late for a driving loop (an OSR compile needs some
 * 100,000 back-edges, more when the compile queue is long). Seen with JFR
 * ({@code -XX:-UseTLAB}, {@code jdk.ObjectAllocationOutsideTLAB}): 272 to 464 B of
 * {@code String}s and their {@code byte[]}s, allocated at the driving loop of a test method in
 * the sixth measured window, the test class's literals being resolved. Hence {@link Verdict}
 * holds this class's strings, and the tests drive from string-free nested classes.
 */
final class AllocationWindows {
    static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Asserts that the JVM counts per-thread allocation, and turns the counting on. */
    static void enableCounting() {
        Verdict.enableCounting();
    }

    final String what;
    final int window;
    final int cleanToStart;
    final int minWarmup;
    final int maxWarmup;
    final int measured;
    final CountDownLatch done = new CountDownLatch(1);

    private String[] names;
    private long[] tids;
    private long[] last;
    /** [thread][window]: bytes of each window, warm-up ones first. */
    private long[][] bytes;
    private long ops;
    private boolean primed;
    /** Windows ended so far. */
    private int windows;
    private int cleanRun;
    /** Index of the first measured window; maxWarmup + 1 while warming up. */
    private int measureFrom;
    private int end;
    /** The warm-up fails when this many windows ended with no clean run (moved on by the restart). */
    private int budget;
    /** The measured window that sent the meter back to warm-up, or -1. */
    private int restartedAt = -1;
    private volatile boolean finished;
    private volatile boolean warmupFailed;
    private volatile long negativeCounter;
    /** Appended to a failure message (null: nothing). */
    private volatile String note;

    AllocationWindows(String what, int window, int minWarmup, int cleanToStart, int maxWarmup, int measured) {
        Verdict.checkConfiguration(window, minWarmup, cleanToStart, maxWarmup, measured);
        this.what = what;
        this.window = window;
        this.cleanToStart = cleanToStart;
        this.minWarmup = minWarmup;
        this.maxWarmup = maxWarmup;
        this.measured = measured;
        this.measureFrom = Integer.MAX_VALUE;
        this.end = Integer.MAX_VALUE;
        this.budget = maxWarmup;
    }

    /**
     * The threads to measure (read by id from the driving thread); call before the first boundary.
     * Without it, the driving thread measures itself.
     */
    AllocationWindows threads(String[] threadNames, long[] threadIds) {
        Verdict.checkThreads(threadNames, threadIds);
        this.names = threadNames.clone();
        init(threadIds.clone());
        return this;
    }

    private void init(long[] ids) {
        tids = ids;
        last = new long[ids.length];
        bytes = new long[ids.length][2 * (maxWarmup + measured)]; // room for the one restart
    }

    /** A hint appended to a failure message. */
    AllocationWindows note(String hint) {
        this.note = hint;
        return this;
    }

    boolean finished() {
        return finished;
    }

    /** True once the warm-up is over (from the driving thread; a plain read). */
    boolean measuring() {
        return windows >= measureFrom;
    }

    /** The index of the measured window that sent the meter back to warm-up, or -1 (after the verdict). */
    int restartedAt() {
        return restartedAt;
    }

    /** Operations ticked so far (driving thread). */
    long ops() {
        return ops;
    }

    /** Once per operation, on the driving thread; true once the verdict is reached. */
    boolean tick() {
        if (finished) {
            return true;
        }
        if (++ops % window != 0) {
            return false;
        }
        return endWindow();
    }

    /**
     * Ends a window (the first call only primes the counters), on the driving thread; true once
     * the verdict is reached.
     */
    boolean endWindow() {
        if (finished) {
            return true;
        }
        if (tids == null) {
            names = Verdict.selfName();
            init(new long[] {Thread.currentThread().getId()});
        }
        long[] ids = tids;
        int w = windows;
        boolean clean = true;
        for (int t = 0; t < ids.length; t++) {
            long now = MX.getThreadAllocatedBytes(ids[t]);
            if (now < 0) {
                negativeCounter = ids[t];
            }
            long b = now - last[t];
            last[t] = now;
            bytes[t][w] = b;
            clean &= b == 0;
        }
        if (!primed) {
            primed = true; // window 0 is overwritten by the first real window
            return false;
        }
        windows = ++w;
        // Warm-up bookkeeping runs in the measured phase too (and is then ignored): the same
        // branches every time.
        cleanRun = clean ? cleanRun + 1 : 0;
        if (cleanRun >= cleanToStart && w >= minWarmup && w < measureFrom) {
            measureFrom = w;
            end = w + measured;
        }
        if (!clean && w > measureFrom && w <= end && restartedAt < 0) {
            restartedAt = w - 1; // the window just ended: back to warm-up, once
            measureFrom = Integer.MAX_VALUE;
            end = Integer.MAX_VALUE;
            budget = w + maxWarmup;
        } else if (w >= end) {
            finish();
        } else if (w >= budget && w < measureFrom) {
            warmupFailed = true;
            finish();
        }
        return finished;
    }

    private void finish() {
        finished = true;
        done.countDown();
    }

    /**
     * Waits for the verdict and asserts it: a clean warm-up within the budget, then every measured
     * window exactly 0 bytes on every thread. Prints a one-line summary.
     */
    void assertEveryMeasuredWindowClean(long timeoutSeconds) throws InterruptedException {
        Verdict.assertClean(this, timeoutSeconds);
    }

    /**
     * Everything with a string literal lives here, not in the metering class: when a thread's
     * counter asks HotSpot for a C2 compile of a method, the string literals of that method's
     * class are resolved (allocated) on that thread, and the metering methods are compiled while
     * they meter. The metering class (like the test's driving code) has none to resolve.
     */
    static final class Verdict {
        private Verdict() {
        }

        static void checkConfiguration(int window, int minWarmup, int cleanToStart, int maxWarmup, int measured) {
            if (window <= 0 || cleanToStart <= 0 || minWarmup < cleanToStart || maxWarmup < minWarmup
                    || measured <= 0) {
                throw new IllegalArgumentException("bad window configuration");
            }
        }

        static void enableCounting() {
            assertTrue(MX.isThreadAllocatedMemorySupported(), "JVM cannot count per-thread allocation");
            MX.setThreadAllocatedMemoryEnabled(true);
        }

        static String[] selfName() {
            return new String[] {Thread.currentThread().getName()};
        }

        static void checkThreads(String[] threadNames, long[] threadIds) {
            if (threadNames.length != threadIds.length) {
                throw new IllegalArgumentException("a name per thread");
            }
        }

        static void assertClean(AllocationWindows m, long timeoutSeconds) throws InterruptedException {
            assertTrue(m.done.await(timeoutSeconds, TimeUnit.SECONDS), "timed out after " + timeoutSeconds
                    + " s measuring " + m.what + ": " + m.windows + " windows of " + m.window + " ended");
            if (m.negativeCounter != 0) {
                fail("no allocation counter for thread " + m.negativeCounter + " (" + m.what + ")");
            }
            if (m.warmupFailed) {
                fail(m.what + ": never " + m.cleanToStart + " consecutive clean windows of " + m.window
                        + " operations within the warm-up budget of " + m.maxWarmup + " windows"
                        + (m.restartedAt >= 0 ? " (after the restart at window " + (m.restartedAt + 1) + ")" : "")
                        + "; bytes per window: "
                        + describe(m, 0, m.windows) + note(m));
            }
            StringBuilder dirty = new StringBuilder();
            for (int t = 0; t < m.tids.length; t++) {
                for (int w = m.measureFrom; w < m.end; w++) {
                    if (m.bytes[t][w] != 0) {
                        dirty.append(m.names[t]).append(" window ").append(w - m.measureFrom + 1).append(": ")
                                .append(m.bytes[t][w]).append(" B; ");
                    }
                }
            }
            if (dirty.length() > 0) {
                fail(m.what + ": allocation in measured windows of " + m.window + " operations (every one must be 0): "
                        + dirty + restart(m) + " all measured windows: " + describe(m, m.measureFrom, m.end) + "; warm-up: "
                        + describe(m, 0, m.measureFrom) + note(m));
            }
            System.out.println("[AllocationWindows] " + m.what + ": " + m.measured + " windows x " + m.window
                    + " operations = 0 B on " + String.join(", ", m.names) + "; warm-up " + m.measureFrom
                    + " windows: " + describe(m, 0, m.measureFrom) + restart(m));
        }

        private static String restart(AllocationWindows m) {
            return m.restartedAt < 0 ? "" : " [window " + (m.restartedAt + 1) + " of the run, a measured one, was not clean (a one-off:"
                    + " see the class comment), the measurement restarted from warm-up there]";
        }

        private static String note(AllocationWindows m) {
            return m.note == null ? "" : " " + m.note;
        }

        static String describe(AllocationWindows m, int from, int to) {
            StringBuilder sb = new StringBuilder();
            for (int t = 0; t < m.tids.length; t++) {
                if (t > 0) {
                    sb.append("; ");
                }
                sb.append(m.names[t]).append(' ').append(Arrays.toString(Arrays.copyOfRange(m.bytes[t], from, to)));
            }
            return sb.toString();
        }
    }
}
