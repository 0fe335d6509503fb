package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two loops posting to each other's full task queues never deadlock. Each loop is held in a task
 * that floods the other loop's queue (capacity 2) while that loop is held in the same kind of task:
 * a loop thread that waited for room, as any other producer does, would wait for a loop that waits
 * for it. A loop thread's tasks for a full queue are parked for the target instead; every task still
 * runs exactly once and in the order its loop posted it, also while tasks received post back (so
 * posts alternate between the queue and the parked tasks). The target's termination keeps its
 * rules: parked tasks accepted before it ran, later posts are refused.
 *
 * <p>Before the parking both loops spun in their posts for good: the first test failed by its
 * 30 s timeout. The loops are daemons with a bounded stop, so such a failure does not hang the run.
 */
@Timeout(90)
class CrossLoopFullQueueTest {
    private static final int CAPACITY = 2;
    private static final int FLOOD = 20_000;
    private static final int ECHO_EVERY = 7;
    private static final long DEADLOCK_SECONDS = 30;

    private static EventLoopOptions tiny(EventLoop.WaitMode mode) {
        return LoopTestSupport.options(mode).taskQueueCapacity(CAPACITY);
    }

    /** Checks, on the loop it runs on, that the tasks of one stream arrive 0, 1, 2, ... */
    private static final class Stream {
        final String name;
        final CompletableFuture<Void> complete = new CompletableFuture<>();
        final AtomicReference<String> violation;
        final int expected;
        int next; // the receiving loop's thread only

        Stream(String name, int expected, AtomicReference<String> violation) {
            this.name = name;
            this.expected = expected;
            this.violation = violation;
        }

        void arrived(int seq) {
            if (seq != next) {
                violation.compareAndSet(null, name + ": expected " + next + ", got " + seq);
            }
            next = seq + 1;
            if (next == expected) {
                complete.complete(null);
            }
        }
    }

    /**
     * On {@code self}'s thread: waits until the other loop is held too, then posts {@code FLOOD}
     * tasks to it; every {@code ECHO_EVERY}th of them, on arrival, posts a task back (the echo stream).
     */
    private static Runnable flood(EventLoop self, EventLoop other, CountDownLatch held, Stream forward, Stream echo,
            AtomicReference<String> problem) {
        return () -> {
            held.countDown();
            try {
                if (!held.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS)) {
                    problem.compareAndSet(null, "the other loop was never held");
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem.compareAndSet(null, "interrupted");
                return;
            }
            int[] echoes = new int[1]; // the other loop's thread only
            for (int i = 0; i < FLOOD; i++) {
                int seq = i;
                other.queueInLoop(() -> {
                    forward.arrived(seq);
                    if (seq % ECHO_EVERY == 0) {
                        int e = echoes[0]++;
                        self.queueInLoop(() -> echo.arrived(e)); // posted by the other loop's thread
                    }
                });
            }
        };
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void twoLoopsFloodingEachOthersFullQueuesBothFinishInOrder(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<String> violation = new AtomicReference<>();
        AtomicReference<String> problem = new AtomicReference<>();
        int echoes = (FLOOD + ECHO_EVERY - 1) / ECHO_EVERY;
        try (DaemonLoop a = DaemonLoop.start("cross-a-" + mode, tiny(mode));
             DaemonLoop b = DaemonLoop.start("cross-b-" + mode, tiny(mode))) {
            Stream toB = new Stream("a->b", FLOOD, violation);
            Stream toA = new Stream("b->a", FLOOD, violation);
            Stream echoToA = new Stream("echo b->a", echoes, violation);
            Stream echoToB = new Stream("echo a->b", echoes, violation);
            CountDownLatch held = new CountDownLatch(2);
            a.loop().queueInLoop(flood(a.loop(), b.loop(), held, toB, echoToA, problem));
            b.loop().queueInLoop(flood(b.loop(), a.loop(), held, toA, echoToB, problem));
            CompletableFuture<Void> all = CompletableFuture.allOf(toA.complete, toB.complete,
                    echoToA.complete, echoToB.complete);
            TcpTestSupport.get(all, DEADLOCK_SECONDS, "both loops to run all " + FLOOD + " tasks the other"
                    + " posted into a queue of " + CAPACITY + " (and the echoes); a deadlock never gets there");
            assertNull(problem.get());
            assertNull(violation.get());
            assertTrue(a.stop() && b.stop(), "both loops end");
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void tasksParkedForALoopThatQuitsAllRunAndLaterPostsAreRefused(EventLoop.WaitMode mode) throws Exception {
        AtomicReference<String> violation = new AtomicReference<>();
        try (DaemonLoop a = DaemonLoop.start("park-quit-a-" + mode, tiny(mode));
             DaemonLoop b = DaemonLoop.start("park-quit-b-" + mode, tiny(mode))) {
            Stream toB = new Stream("a->b", FLOOD, violation);
            CountDownLatch bHeld = new CountDownLatch(1);
            CountDownLatch posted = new CountDownLatch(1);
            CompletableFuture<Integer> queuedWhenQuitting = new CompletableFuture<>();
            b.loop().queueInLoop(() -> {
                bHeld.countDown();
                try {
                    assertTrue(posted.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS), "a posted");
                    queuedWhenQuitting.complete(b.loop().queueSize());
                } catch (Throwable t) {
                    queuedWhenQuitting.completeExceptionally(t);
                }
                b.loop().quit(); // the loop ends after this task: its final drain runs what was accepted
            });
            LoopTestSupport.await(bHeld, "b to be held");
            a.loop().queueInLoop(() -> {
                for (int i = 0; i < FLOOD; i++) {
                    int seq = i;
                    b.loop().queueInLoop(() -> toB.arrived(seq)); // all but 2 parked: b is held
                }
                posted.countDown();
            });
            int queued = TcpTestSupport.get(queuedWhenQuitting, "b's held task");
            assertEquals(FLOOD, queued, "a's tasks for b wait for b (queued and parked): a did not wait for b");
            TcpTestSupport.get(toB.complete, "every task accepted before b ended to run");
            assertNull(violation.get());
            LoopTestSupport.join(b.thread());
            assertTrue(b.loop().isTerminated());
            Throwable refused = TcpTestSupport.onLoop(a.loop(), () -> assertThrows(RejectedExecutionException.class,
                    () -> b.loop().queueInLoop(() -> { }), "a post from a loop thread to an ended loop"));
            assertTrue(refused.getMessage().contains("terminated"), refused.getMessage());
            assertTrue(a.stop(), "a ends");
        }
    }
}
