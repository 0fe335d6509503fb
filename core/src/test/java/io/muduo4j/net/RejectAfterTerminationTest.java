package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Once the loop has ended, submissions are refused with {@link RejectedExecutionException}; a task
 * accepted before that (even after {@code quit()}) runs exactly once, so racing producers never
 * lose an accepted task.
 */
@Timeout(30)
class RejectAfterTerminationTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void submissionsFromAnotherThreadAfterTheEndAreRefused(EventLoop.WaitMode mode) throws Exception {
        EventLoopThread t = new EventLoopThread("reject-cross", LoopTestSupport.options(mode), null);
        EventLoop loop = t.startLoop();
        t.close();
        assertTrue(loop.isTerminated());
        Runnable task = () -> { };
        assertThrows(RejectedExecutionException.class, () -> loop.runInLoop(task));
        assertThrows(RejectedExecutionException.class, () -> loop.queueInLoop(task));
        assertThrows(RejectedExecutionException.class, () -> loop.execute(task));
        assertThrows(RejectedExecutionException.class, () -> loop.runAfter(1, TimeUnit.MILLISECONDS, task));
        assertThrows(RejectedExecutionException.class, () -> loop.runEvery(1, TimeUnit.MILLISECONDS, task));
        assertThrows(RejectedExecutionException.class, () -> loop.cancel(1));
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void queueInLoopOnTheOwnerThreadAfterTheEndIsRefused(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        Thread th = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            try {
                loop.quit();
                loop.loop();
                refused.complete(assertThrows(RejectedExecutionException.class, () -> loop.queueInLoop(() -> { })));
            } catch (Throwable e) {
                refused.completeExceptionally(e);
            } finally {
                loop.close();
            }
        }, "reject-owner");
        th.start();
        Throwable e = refused.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        assertTrue(e.getMessage().contains("terminated"), e.getMessage());
        join(th);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aLoopClosedWithoutRunningRefusesTasks(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<EventLoop> closed = new CompletableFuture<>();
        Thread th = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            loop.close();
            closed.complete(loop);
        }, "reject-never-ran");
        th.start();
        EventLoop loop = closed.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        join(th);
        assertTrue(loop.isTerminated() && loop.isClosed());
        assertThrows(RejectedExecutionException.class, () -> loop.runInLoop(() -> { }));
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void everyAcceptedTaskRunsExactlyOnceWhileTheLoopQuits(EventLoop.WaitMode mode) throws Exception {
        // A small queue so that some producers are waiting for room when the loop ends.
        EventLoopThread t = new EventLoopThread("reject-race", LoopTestSupport.options(mode).taskQueueCapacity(4), null);
        EventLoop loop = t.startLoop();
        AtomicLong ran = new AtomicLong();
        AtomicLong accepted = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        CountDownLatch started = new CountDownLatch(3);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            Thread th = new Thread(() -> {
                started.countDown();
                while (true) {
                    try {
                        loop.queueInLoop(ran::incrementAndGet);
                        accepted.incrementAndGet();
                    } catch (RejectedExecutionException e) {
                        refused.incrementAndGet();
                        return;
                    }
                }
            }, "reject-race-" + p);
            producers.add(th);
            th.start();
        }
        LoopTestSupport.await(started, "producers");
        LoopTestSupport.awaitTrue(() -> ran.get() > 10_000, "the loop to run tasks");
        loop.quit();
        join(t.thread());
        for (Thread th : producers) {
            join(th);
        }
        t.close();
        assertEquals(3, refused.get(), "each producer was eventually refused");
        assertEquals(accepted.get(), ran.get(), "every accepted task ran exactly once");
    }
}
