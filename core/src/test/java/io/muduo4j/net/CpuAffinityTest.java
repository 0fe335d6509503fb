package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link EventLoopOptions#cpuAffinity}: where it is available (JDK 22+, Linux, native access) the
 * loop's thread runs on exactly the CPUs asked for, read back with {@code sched_getaffinity} on
 * that thread, and a set the kernel refuses fails the construction with the CPUs and the error;
 * elsewhere construction fails with the reason. Bad sets fail at the option.
 */
@Timeout(30)
class CpuAffinityTest {

    private static int[] allowedCpus() throws Exception {
        CompletableFuture<int[]> f = new CompletableFuture<>();
        Thread t = new Thread(() -> f.complete(Affinity.current()), "cpu-probe");
        t.start();
        return f.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aLoopThreadRunsOnTheCpusAskedFor() throws Exception {
        if (Affinity.unavailableReason() != null) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new EventLoop(EventLoopOptions.blocking().cpuAffinity(0)));
            new EventLoop().close(); // refused before binding: this thread may still make a loop
            assertTrue(e.getMessage().startsWith("CPU affinity is not available: "), e.getMessage());
            return;
        }
        int[] allowed = allowedCpus();
        int last = allowed[allowed.length - 1];
        try (EventLoopThread t = new EventLoopThread("pinned", EventLoopOptions.blocking().cpuAffinity(last), null)) {
            EventLoop loop = t.startLoop();
            assertArrayEquals(new int[] {last}, LoopTestSupport.call(loop, Affinity::current));
        }
        if (allowed.length > 1) {
            int[] two = {allowed[0], last};
            try (EventLoopThread t = new EventLoopThread("pinned2", EventLoopOptions.blocking().cpuAffinity(last,
                    allowed[0]), null)) {
                assertArrayEquals(two, LoopTestSupport.call(t.startLoop(), Affinity::current));
            }
        }
        // The pinned loop's thread was its own: others are left where they were.
        assertArrayEquals(allowed, allowedCpus());
    }

    @Test
    void aSetTheKernelRefusesFailsTheLoopWithTheCpusAndTheError() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Affinity.unavailableReason() == null,
                "CPU affinity is unavailable here (the construction failure is tested above)");
        int[] allowed = allowedCpus();
        int notAllowed = -1;
        for (int c = 0, i = 0; c < Affinity.MAX_CPUS; c++) {
            if (i < allowed.length && allowed[i] == c) {
                i++;
            } else {
                notAllowed = c;
                break;
            }
        }
        int cpu = notAllowed;
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread th = new Thread(() -> {
            try {
                new EventLoop(EventLoopOptions.blocking().cpuAffinity(cpu)).close();
                failure.complete(null);
            } catch (Throwable e) {
                failure.complete(e);
            }
            // Refused before binding: this thread owns no loop and may make one.
            try {
                new EventLoop().close();
            } catch (Throwable e) {
                failure.obtrudeValue(e);
            }
        }, "cpu-refused");
        th.start();
        Throwable e = failure.get(5, TimeUnit.SECONDS);
        th.join(5_000);
        assertTrue(e instanceof IllegalArgumentException, "thrown: " + e);
        assertTrue(e.getMessage().contains("CPUs [" + cpu + "]") && e.getMessage().contains("EINVAL"), e.getMessage());
    }

    @Test
    void badSetsFailAtTheOption() {
        EventLoopOptions o = EventLoopOptions.blocking();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.cpuAffinity(-1)).getMessage()
                .contains("CPU -1 is not in 0..1023"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.cpuAffinity(1024)).getMessage()
                .contains("CPU 1024"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> o.cpuAffinity(1, 1)).getMessage()
                .contains("given twice"));
    }
}
