package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link EventLoopThreadPool} with 0 (the base loop serves), 1 and 3 threads: round-robin
 * {@code nextLoop()}, stable {@code loopForHash()}, init on every I/O loop (or on the base loop),
 * and {@code close()} joins the threads. The base loop is owned by the test thread and not run:
 * handing out loops only needs its thread.
 */
@Timeout(20)
class EventLoopThreadPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3})
    void roundRobinHashAndClose(int threads) throws Exception {
        EventLoop base = new EventLoop();
        try {
            EventLoopThreadPool pool = new EventLoopThreadPool(base, "pool" + threads + "-");
            pool.setThreadNum(threads);
            List<Thread> initThreads = new CopyOnWriteArrayList<>();
            List<EventLoop> initLoops = new CopyOnWriteArrayList<>();
            assertFalse(pool.started());
            pool.start(loop -> {
                initThreads.add(Thread.currentThread());
                initLoops.add(loop);
            });
            try {
                assertTrue(pool.started());
                assertThrows(IllegalStateException.class, () -> pool.setThreadNum(2), "configuration is frozen");
                List<EventLoop> all = pool.allLoops();
                if (threads == 0) {
                    assertEquals(List.of(base), all);
                    assertEquals(List.of(base), initLoops, "init ran on the base loop");
                    assertEquals(List.of(Thread.currentThread()), initThreads);
                    for (int i = 0; i < 5; i++) {
                        assertSame(base, pool.nextLoop());
                        assertSame(base, pool.loopForHash(i * 7919));
                    }
                    return;
                }
                assertEquals(threads, all.size());
                assertEquals(Set.copyOf(all), Set.copyOf(initLoops), "init ran once per I/O loop");
                Set<Thread> loopThreads = new HashSet<>();
                for (int i = 0; i < threads; i++) {
                    EventLoop l = all.get(i);
                    assertNotSame(base, l);
                    Thread th = LoopTestSupport.loopThread(l);
                    assertEquals("pool" + threads + "-" + i, th.getName());
                    assertTrue(initThreads.contains(th), "init ran on the loop's own thread");
                    loopThreads.add(th);
                }
                assertEquals(threads, loopThreads.size(), "one thread per loop");
                // Round-robin: the same cycle, over and over.
                List<EventLoop> handedOut = new ArrayList<>();
                for (int i = 0; i < 3 * threads; i++) {
                    handedOut.add(pool.nextLoop());
                }
                for (int i = 0; i < handedOut.size(); i++) {
                    assertSame(all.get(i % threads), handedOut.get(i), "nextLoop #" + i);
                }
                // Hashing: stable, and a function of the hash only (negative hashes too).
                for (int h : new int[] {0, 1, 2, 3, 42, -1, -7, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
                    EventLoop l = pool.loopForHash(h);
                    assertSame(l, pool.loopForHash(h));
                    assertSame(all.get(Math.floorMod(h, threads)), l, "loopForHash(" + h + ")");
                }
            } finally {
                pool.close();
            }
            for (EventLoop l : pool.allLoops()) {
                if (l != base) {
                    assertTrue(l.isTerminated(), "close() quit every I/O loop");
                    assertTrue(l.isClosed(), "and closed its selector");
                }
            }
            pool.close(); // idempotent
        } finally {
            base.close();
        }
    }

    /** {@code start()} is synchronous and works from a thread other than the base loop's. */
    @Test
    void startFromAnotherThread() throws Exception {
        EventLoop base = new EventLoop();
        try {
            EventLoopThreadPool pool = new EventLoopThreadPool(base, "pool-other-");
            pool.setThreadNum(2);
            CompletableFuture<List<EventLoop>> loops = new CompletableFuture<>();
            Thread starter = new Thread(() -> {
                try {
                    pool.start(null);
                    loops.complete(pool.allLoops());
                } catch (Throwable t) {
                    loops.completeExceptionally(t);
                }
            }, "pool-starter");
            starter.start();
            List<EventLoop> all = loops.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            try {
                assertEquals(2, all.size());
                for (EventLoop l : all) {
                    assertNotSame(base, l);
                    assertTrue(LoopTestSupport.loopThread(l).isAlive(), "the loop runs when start() returns");
                }
                assertSame(all.get(0), pool.nextLoop());
            } finally {
                pool.close();
            }
            LoopTestSupport.join(starter);
        } finally {
            base.close();
        }
    }

    /**
     * A loop that cannot start (the third of four: its init throws) fails {@code start()} with its
     * cause, after the two loops already started were quit and their threads joined; the pool
     * cannot be started again and {@code close()} is fine.
     */
    @Test
    void failedStartQuitsAndJoinsWhatItStarted() throws Exception {
        EventLoop base = new EventLoop();
        try {
            EventLoopThreadPool pool = new EventLoopThreadPool(base, "pool-fail-");
            pool.setThreadNum(4);
            List<EventLoop> inits = new CopyOnWriteArrayList<>();
            List<Thread> initThreads = new CopyOnWriteArrayList<>();
            IllegalStateException boom = new IllegalStateException("init of the third loop fails");
            RuntimeException e = assertThrows(RuntimeException.class, () -> pool.start(loop -> {
                initThreads.add(Thread.currentThread());
                if (inits.size() == 2) {
                    throw boom;
                }
                inits.add(loop);
            }));
            Throwable c = e;
            while (c != null && c != boom) {
                c = c.getCause();
            }
            assertSame(boom, c, "the init's exception is the cause of " + e);
            assertEquals(2, inits.size(), "loops started before the failure");
            assertEquals(3, initThreads.size(), "no thread started after the failure");
            for (EventLoop l : inits) {
                assertTrue(l.isTerminated(), l + " quit by the failed start");
            }
            for (Thread t : initThreads) {
                assertFalse(t.isAlive(), t.getName() + " still alive after the failed start");
            }
            assertThrows(IllegalStateException.class, () -> pool.start(null), "start again");
            pool.close();
        } finally {
            base.close();
        }
    }
}
