package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static io.muduo4j.net.LoopTestSupport.join;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A task queued before {@code loop()} starts runs promptly once it starts, whether it was queued
 * by the owner thread itself (muduo issue 260: it waited up to the 10 s poll) or by another
 * thread. "Promptly" is checked against a latch timeout well below the 10 s select cap.
 */
@Timeout(20)
class TaskQueuedBeforeLoopStartTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void taskQueuedByTheOwnerBeforeLoopRunsPromptly(EventLoop.WaitMode mode) throws Exception {
        CountDownLatch ran = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            try {
                loop.queueInLoop(() -> {
                    ran.countDown();
                    loop.quit();
                });
                loop.loop();
            } finally {
                loop.close();
            }
        }, "before-start-owner");
        t.start();
        await(ran, "a task the owner queued before loop()");
        join(t);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void taskQueuedFromAnotherThreadBeforeLoopRunsPromptly(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<EventLoop> created = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            try {
                created.complete(loop);
                go.await();
                loop.loop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                loop.close();
            }
        }, "before-start-cross");
        t.start();
        EventLoop loop = created.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        CountDownLatch ran = new CountDownLatch(2);
        loop.runInLoop(ran::countDown); // not on the loop thread: queued
        loop.runAfter(0, TimeUnit.MILLISECONDS, ran::countDown);
        go.countDown();
        await(ran, "a task and a timer queued from another thread before loop()");
        loop.quit();
        join(t);
    }
}
