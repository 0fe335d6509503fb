package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The meter's verdicts, driven on the test thread with a 64 B array allocated in chosen windows of
 * one operation each: a dirty warm-up is absorbed, one dirty measured window restarts the
 * measurement once, a second one fails, and so does a dirty window every time.
 */
class AllocationWindowsTest {
    static final int MIN_WARMUP = 3;
    static final int CLEAN_TO_START = 3;
    static final int MAX_WARMUP = 20;
    static final int MEASURED = 5;

    @BeforeAll
    static void warmUp() {
        AllocationWindows.enableCounting();
        // Compile the meter and the JDK's counter path before any verdict is asked of it.
        AllocationWindows m = new AllocationWindows("warm-up", 1, 1, 1, 1, 30_000);
        Driver.run(m, new int[0]);
    }

    private static AllocationWindows meter() {
        return new AllocationWindows("64 B arrays", 1, MIN_WARMUP, CLEAN_TO_START, MAX_WARMUP, MEASURED);
    }

    @Test
    void aDirtyWarmUpIsAbsorbed() throws Exception {
        AllocationWindows m = meter();
        Driver.run(m, new int[] {0, 1});
        m.assertEveryMeasuredWindowClean(1);
        assertEquals(-1, m.restartedAt());
    }

    @Test
    void oneDirtyMeasuredWindowRestartsTheMeasurementOnce() throws Exception {
        AllocationWindows m = meter();
        // Warm-up: windows 0-2 clean, so 3-7 are measured; 5 is dirty.
        Driver.run(m, new int[] {5});
        m.assertEveryMeasuredWindowClean(1);
        assertEquals(5, m.restartedAt());
    }

    @Test
    void aSecondDirtyMeasuredWindowFails() {
        AllocationWindows m = meter();
        // 5 restarts; warm-up again over 6-8, measured 9-13; 11 is dirty.
        Driver.run(m, new int[] {5, 11});
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> m.assertEveryMeasuredWindowClean(1));
        assertTrue(e.getMessage().contains("window 3: 64 B"), e.getMessage());
        assertEquals(5, m.restartedAt());
    }

    @Test
    void aDirtyWindowEveryTimeNeverEndsTheWarmUp() {
        AllocationWindows m = meter();
        int[] every = new int[MAX_WARMUP + 1];
        for (int i = 0; i < every.length; i++) {
            every[i] = i;
        }
        Driver.run(m, every);
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> m.assertEveryMeasuredWindowClean(1));
        assertTrue(e.getMessage().contains("never 3 consecutive clean windows"), e.getMessage());
    }

    /** Drives a meter; no string literals here (see AllocationWindows). */
    static final class Driver {
        static volatile Object sink;

        private Driver() {
        }

        /** Ends windows until the verdict, allocating 64 B in the windows listed (ascending). */
        static void run(AllocationWindows m, int[] dirty) {
            m.endWindow(); // primes the counters
            int next = 0;
            for (int w = 0; ; w++) {
                if (next < dirty.length && dirty[next] == w) {
                    sink = new byte[48]; // 16 B header + 48 = 64 B
                    next++;
                }
                if (m.endWindow()) {
                    return;
                }
            }
        }
    }
}
