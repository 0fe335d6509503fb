package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Shutdown joins the threads and closes each selector: after 1,000 {@link EventLoopThread}
 * start/stop cycles (and 100 three-thread pools) the process has the same open file descriptors
 * ({@code /proc/self/fd}) and the same live threads as before. The counts are polled until they
 * settle, with a deadline, never a fixed sleep. Descriptors and threads are compared as sets, so
 * something unrelated closing or ending meanwhile cannot hide a leak.
 */
@Timeout(60)
class ResourceLeakTest {
    private static final Path FDS = Path.of("/proc/self/fd");

    /** fd number -> what it points at (a leaked selector shows as anon_inode:[eventpoll] / [eventfd]). */
    private static Map<String, String> openFds() {
        try (Stream<Path> s = Files.list(FDS)) {
            Map<String, String> fds = new HashMap<>();
            for (Path p : s.collect(Collectors.toList())) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    continue; // the directory stream's own fd, already closed
                }
                fds.put(p.getFileName().toString(), target);
            }
            return fds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<Thread> liveThreads() {
        return new HashSet<>(Thread.getAllStackTraces().keySet());
    }

    private static Set<String> newEntries(Map<String, String> before, Map<String, String> after) {
        Set<String> added = new HashSet<>();
        after.forEach((fd, target) -> {
            if (!target.equals(before.get(fd))) {
                added.add(fd + " -> " + target);
            }
        });
        return added;
    }

    /** {@code threads} EventLoopThread start/stop cycles, then {@code pools} three-thread pool cycles. */
    private static void cycles(int threads, int pools) {
        for (int i = 0; i < threads; i++) {
            EventLoopThread t = new EventLoopThread("leak-cycle");
            EventLoop loop = t.startLoop();
            loop.runInLoop(() -> { });
            t.close();
        }
        EventLoop base = new EventLoop();
        try {
            for (int i = 0; i < pools; i++) {
                EventLoopThreadPool pool = new EventLoopThreadPool(base, "leak-pool");
                pool.setThreadNum(3);
                pool.start(null);
                pool.nextLoop().runInLoop(() -> { });
                pool.close();
            }
        } finally {
            base.close();
        }
    }

    @Test
    void startStopCyclesLeaveNoFileDescriptorsAndNoThreads() {
        assumeTrue(Files.isDirectory(FDS), "needs /proc/self/fd (Linux)");
        cycles(20, 2); // warm-up: lazily opened JDK resources and loaded classes are not leaks
        Map<String, String> fdsBefore = openFds();
        Set<Thread> threadsBefore = liveThreads();

        cycles(1_000, 100);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Map<String, String> fdsAfter;
        Set<Thread> newThreads;
        while (true) {
            fdsAfter = openFds();
            newThreads = liveThreads();
            newThreads.removeAll(threadsBefore);
            newThreads.removeIf(th -> !th.isAlive());
            boolean settled = newEntries(fdsBefore, fdsAfter).isEmpty() && fdsAfter.size() <= fdsBefore.size()
                    && newThreads.isEmpty();
            if (settled || System.nanoTime() - deadline > 0) {
                break;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        Set<String> leaked = newEntries(fdsBefore, fdsAfter);
        assertTrue(leaked.isEmpty(), leaked.size() + " file descriptors left open, e.g. "
                + leaked.stream().sorted().limit(10).collect(Collectors.toList()));
        assertTrue(fdsAfter.size() <= fdsBefore.size(),
                "open fds: " + fdsBefore.size() + " before, " + fdsAfter.size() + " after");
        assertEquals(Set.of(), newThreads, "threads left running");
        System.out.println("ResourceLeakTest: open fds " + fdsBefore.size() + " -> " + fdsAfter.size()
                + ", live threads " + threadsBefore.size() + " -> " + liveThreads().size());
    }
}
