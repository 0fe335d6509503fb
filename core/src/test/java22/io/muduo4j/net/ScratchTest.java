package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Virtual threads share their carrier's {@link Scratch} (a virtual thread per request that sends
 * or connects would otherwise allocate one each), platform threads keep their own, and the system
 * calls made from many virtual threads at once still see their own results.
 */
@Timeout(60)
class ScratchTest {
    private static final int VIRTUAL_THREADS = 2_000;
    /** The default scheduler's largest pool (jdk.virtualThreadScheduler.maxPoolSize). */
    private static final int MAX_CARRIERS = 256;

    @Test
    void virtualThreadsUseTheirCarriersScratchPlatformThreadsTheirOwn() throws Exception {
        assertTrue(Syscalls.AVAILABLE, Syscalls::unavailableReason);
        assertTrue(Scratch.perCarrier(), "the test JVM opens jdk.internal.misc, so scratches are per carrier");

        Set<Scratch> seen = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < VIRTUAL_THREADS; i++) {
                done.add(vts.submit(() -> seen.add(Scratch.current())));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        assertTrue(seen.size() <= MAX_CARRIERS, seen.size() + " scratches for " + VIRTUAL_THREADS + " virtual threads");

        Scratch mine = Scratch.current();
        assertEquals(mine, Scratch.current(), "one scratch per platform thread");
        CompletableFuture<Scratch> other = new CompletableFuture<>();
        Thread t = new Thread(() -> other.complete(Scratch.current()), "scratch-other");
        t.start();
        assertNotSame(mine, other.get(10, TimeUnit.SECONDS), "two platform threads share a scratch");
        t.join(10_000);
    }

    /** Every virtual thread signals and drains an eventfd of its own: the counts it reads are its own. */
    @Test
    void systemCallsFromManyVirtualThreadsSeeTheirOwnResults() throws Exception {
        assertTrue(Syscalls.AVAILABLE, Syscalls::unavailableReason);
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                int signals = 1 + (i % 7);
                done.add(vts.submit(() -> {
                    int fd = EpollCalls.eventfd();
                    if (fd < 0) {
                        failed.incrementAndGet();
                        return;
                    }
                    try {
                        for (int k = 0; k < signals; k++) {
                            if (EpollCalls.eventfdSignal(fd) != 0) {
                                failed.incrementAndGet();
                            }
                            Thread.yield(); // let others onto this carrier between the calls
                        }
                        if (EpollCalls.eventfdDrain(fd) != signals) {
                            wrong.incrementAndGet();
                        }
                        if (EpollCalls.eventfdDrain(fd) != -Errno.EAGAIN) {
                            wrong.incrementAndGet(); // drained: EAGAIN, read through the errno capture
                        }
                    } finally {
                        Syscalls.close(fd);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        }
        assertEquals(0, failed.get(), "failed eventfd calls");
        assertEquals(0, wrong.get(), "drains that read another thread's count or errno");
    }
}
