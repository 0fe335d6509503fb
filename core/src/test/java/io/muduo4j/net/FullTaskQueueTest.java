package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * With a tiny cross-thread queue (capacity 2) that is full nearly all the time, no task is
 * dropped, none runs twice, each producer's tasks run in order, nothing deadlocks, and the loop
 * thread itself can queue while the queue is full (it never waits for itself).
 */
@Timeout(40)
class FullTaskQueueTest {
    private static final int PRODUCERS = 4;
    private static final int PER_PRODUCER = 5_000;

    private static EventLoopOptions tiny(EventLoop.WaitMode mode) {
        return LoopTestSupport.options(mode).taskQueueCapacity(2);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void manyProducersOnAFullQueueLoseNothingAndKeepOrder(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("full-queue", tiny(mode), null)) {
            EventLoop loop = t.startLoop();
            int[] next = new int[PRODUCERS];         // loop thread only
            int[] loopNext = new int[1];             // loop-thread tasks, loop thread only
            int[] loopQueued = new int[1];
            AtomicReference<String> violation = new AtomicReference<>();
            CountDownLatch all = new CountDownLatch(PRODUCERS * PER_PRODUCER);
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                int producer = p;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < PER_PRODUCER; i++) {
                        int seq = i;
                        loop.queueInLoop(() -> {
                            if (next[producer] != seq) {
                                violation.compareAndSet(null, "producer " + producer + " expected " + next[producer]
                                        + " got " + seq);
                            }
                            next[producer] = seq + 1;
                            if (seq % 100 == 0) {
                                // The loop thread queues while the shared queue is full.
                                for (int k = 0; k < 3; k++) {
                                    int mine = loopQueued[0]++;
                                    loop.queueInLoop(() -> {
                                        if (loopNext[0] != mine) {
                                            violation.compareAndSet(null, "loop task expected " + loopNext[0]
                                                    + " got " + mine);
                                        }
                                        loopNext[0] = mine + 1;
                                    });
                                }
                            }
                            all.countDown();
                        });
                    }
                }, "full-queue-producer-" + p);
                producers.add(th);
            }
            producers.forEach(Thread::start);
            await(all, "every task of " + PRODUCERS + " producers through a queue of capacity 2");
            for (Thread th : producers) {
                LoopTestSupport.join(th);
            }
            int[] counts = LoopTestSupport.call(loop, () -> new int[] {loopQueued[0], loopNext[0]});
            assertEquals(null, violation.get());
            int[] finalNext = LoopTestSupport.call(loop, next::clone);
            for (int p = 0; p < PRODUCERS; p++) {
                assertEquals(PER_PRODUCER, finalNext[p], "tasks run for producer " + p);
            }
            assertEquals(counts[0], counts[1], "every task the loop thread queued ran, once, in order");
            assertTrue(counts[0] > 0);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void loopThreadQueueingIntoAFullQueueNeitherBlocksNorDrops(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("full-queue-self", tiny(mode), null)) {
            EventLoop loop = t.startLoop();
            List<Integer> ran = new ArrayList<>();
            CompletableFuture<Void> last = new CompletableFuture<>();
            int queuedBeforeReturn = LoopTestSupport.call(loop, () -> {
                for (int i = 0; i < 100; i++) {
                    int n = i;
                    loop.queueInLoop(() -> {
                        ran.add(n);
                        if (n == 99) {
                            last.complete(null);
                        }
                    });
                }
                return loop.queueSize(); // returned: the loop thread did not wait for itself
            });
            assertEquals(100, queuedBeforeReturn, "100 tasks held although the shared queue holds 2");
            last.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            List<Integer> seen = LoopTestSupport.call(loop, () -> List.copyOf(ran));
            assertEquals(100, seen.size());
            for (int i = 0; i < 100; i++) {
                assertEquals(i, seen.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void producerBlockedOnAFullQueueIsReleasedWhenTheLoopDrains(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("full-queue-wait", tiny(mode), null)) {
            EventLoop loop = t.startLoop();
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch holding = new CountDownLatch(1);
            loop.runInLoop(() -> {
                holding.countDown();
                try {
                    hold.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            await(holding, "the loop to be busy");
            CountDownLatch ran = new CountDownLatch(10);
            CompletableFuture<Void> producerDone = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 10; i++) {
                    loop.queueInLoop(ran::countDown); // the 3rd waits for room
                }
            });
            LoopTestSupport.awaitTrue(() -> loop.queueSize() == 2, "the queue to fill up");
            assertTrue(!producerDone.isDone(), "a producer waits on a full queue instead of dropping");
            hold.countDown();
            producerDone.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            await(ran, "all ten tasks");
        }
    }
}
