package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static io.muduo4j.net.LoopTestSupport.join;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code quit()} ends the loop from any thread, including the loop thread itself, and is sticky:
 * a quit issued before {@code loop()} started makes {@code loop()} return at once (muduo lost it).
 * Every wait here is far below the 10 s select cap, so a quit that failed to wake a blocked loop
 * fails the test.
 */
@Timeout(30)
class QuitTest {

    /** Runs a loop on a plain thread: create, hand the loop out, wait for {@code go}, then loop(). */
    private static Thread ownerThread(EventLoopOptions options, CompletableFuture<EventLoop> created,
            CountDownLatch go, String name) {
        Thread t = new Thread(() -> {
            EventLoop loop = new EventLoop(options);
            try {
                created.complete(loop);
                go.await();
                loop.loop();
            } catch (Throwable e) {
                created.completeExceptionally(e);
            } finally {
                loop.close();
            }
        }, name);
        t.start();
        return t;
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void quitFromAnotherThreadEndsARunningLoop(EventLoop.WaitMode mode) throws Exception {
        EventLoopThread t = new EventLoopThread("quit-cross", LoopTestSupport.options(mode), null);
        try {
            EventLoop loop = t.startLoop();
            LoopTestSupport.runIterations(loop, 2);
            if (mode == EventLoop.WaitMode.BLOCKING) {
                LoopTestSupport.awaitSleeping(loop);
            }
            loop.quit();
            assertTrue(loop.isQuitRequested());
            join(t.thread());
            assertTrue(loop.isTerminated());
            assertTrue(loop.isClosed(), "the loop thread closed the loop on its way out");
        } finally {
            t.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void quitFromTheLoopThreadEndsTheLoopAfterTheCurrentIteration(EventLoop.WaitMode mode) throws Exception {
        EventLoopThread t = new EventLoopThread("quit-self", LoopTestSupport.options(mode), null);
        try {
            EventLoop loop = t.startLoop();
            CountDownLatch sameIteration = new CountDownLatch(1);
            loop.runInLoop(() -> {
                loop.quit();
                assertFalse(loop.isTerminated(), "quit() does not end the loop mid-iteration");
                // Queued from the loop thread during the final iteration: still runs exactly once.
                loop.queueInLoop(sameIteration::countDown);
            });
            join(t.thread());
            assertTrue(loop.isTerminated());
            assertTrue(sameIteration.getCount() == 0, "task accepted before the loop ended ran");
        } finally {
            t.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void quitBeforeLoopFromTheOwnerThreadIsSticky(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<Boolean> returned = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            try {
                loop.quit();
                loop.loop(); // must return at once instead of blocking up to 10 s
                returned.complete(loop.isTerminated());
            } catch (Throwable e) {
                returned.completeExceptionally(e);
            } finally {
                loop.close();
            }
        }, "quit-before-self");
        t.start();
        assertTrue(returned.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS));
        join(t);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void quitBeforeLoopFromAnotherThreadIsSticky(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<EventLoop> created = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        Thread t = ownerThread(LoopTestSupport.options(mode), created, go, "quit-before-cross");
        EventLoop loop = created.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        assertFalse(loop.isTerminated());
        loop.quit();
        go.countDown();
        join(t);
        assertTrue(loop.isTerminated());
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void aLoopRunsOnlyOnce(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<Throwable> second = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            EventLoop loop = new EventLoop(LoopTestSupport.options(mode));
            try {
                loop.quit();
                loop.loop();
                second.complete(assertThrows(IllegalStateException.class, loop::loop));
            } catch (Throwable e) {
                second.completeExceptionally(e);
            } finally {
                loop.close();
            }
        }, "quit-run-once");
        t.start();
        Throwable e = second.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        assertTrue(e.getMessage().contains("runs once"), e.getMessage());
        join(t);
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void quitWakesALoopBlockedWithOnlyAFarTimer(EventLoop.WaitMode mode) throws Exception {
        CompletableFuture<EventLoop> created = new CompletableFuture<>();
        CountDownLatch go = new CountDownLatch(1);
        Thread t = ownerThread(LoopTestSupport.options(mode), created, go, "quit-far-timer");
        EventLoop loop = created.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
        CountDownLatch running = new CountDownLatch(1);
        loop.runInLoop(() -> {
            loop.runAfter(1, TimeUnit.HOURS, () -> { });
            running.countDown();
        });
        go.countDown();
        await(running, "loop start");
        if (mode == EventLoop.WaitMode.BLOCKING) {
            LoopTestSupport.awaitSleeping(loop);
        }
        loop.quit();
        join(t);
        assertSame(Thread.State.TERMINATED, t.getState());
    }
}
