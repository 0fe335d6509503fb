package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Loop-only methods check the owner thread and throw an {@link IllegalStateException} naming both
 * the owner and the caller (and change nothing); the same calls work on the loop thread; the
 * any-thread methods work from anywhere, their tasks and timers running on the loop thread.
 */
@Timeout(20)
class LoopThreadAffinityTest {
    private static final String OWNER = "affinity-owner";

    private static void assertWrongThread(Executable call) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        String caller = Thread.currentThread().getName();
        assertTrue(e.getMessage().contains("'" + OWNER + "'"), "names the owner thread: " + e.getMessage());
        assertTrue(e.getMessage().contains("'" + caller + "'"), "names the calling thread: " + e.getMessage());
    }

    @Test
    void loopOnlyMethodsThrowNamingBothThreads() throws Exception {
        try (EventLoopThread t = new EventLoopThread(OWNER, EventLoopOptions.blocking().transport(Transport.NIO), null); Pipe.SourceChannel source = Pipe.open().source()) {
            EventLoop loop = t.startLoop();
            source.configureBlocking(false);
            Channel channel = new Channel(loop, source);
            assertFalse(loop.isInLoopThread());
            assertWrongThread(loop::assertInLoopThread);
            assertWrongThread(loop::loop);
            assertWrongThread(loop::doWork);
            assertWrongThread(loop::close);
            assertWrongThread(channel::enableReading);
            assertWrongThread(channel::enableWriting);
            assertWrongThread(channel::disableWriting);
            assertWrongThread(channel::disableAll);
            assertWrongThread(channel::remove);
            assertTrue(channel.isNoneEvent(), "a refused call changed nothing");
            assertNull(LoopTestSupport.call(loop, () -> source.keyFor(LoopTestSupport.selector(loop))),
                    "a refused call registered nothing");
            assertFalse(loop.isClosed());
            assertFalse(loop.isTerminated(), "a refused loop() or close() left the loop running");
            assertTrue(LoopTestSupport.call(loop, loop::isInLoopThread));
            // The same calls are fine on the loop thread, and take effect.
            LoopTestSupport.run(loop, () -> {
                loop.assertInLoopThread();
                channel.enableReading();
            });
            assertTrue(channel.isReading());
            SelectionKey key = LoopTestSupport.call(loop, () -> source.keyFor(LoopTestSupport.selector(loop)));
            assertNotNull(key, "enableReading on the loop thread registered the channel");
            assertEquals(SelectionKey.OP_READ, (int) LoopTestSupport.call(loop, key::interestOps));
            LoopTestSupport.run(loop, channel::remove);
            assertTrue(channel.isNoneEvent());
            assertFalse(key.isValid(), "remove on the loop thread cancelled the key");
        }
    }

    @Test
    void anyThreadMethodsWorkFromAnotherThread() throws Exception {
        try (EventLoopThread t = new EventLoopThread(OWNER)) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            assertFalse(loop.isInLoopThread());
            List<String> ran = new CopyOnWriteArrayList<>();
            List<Thread> ranOn = new CopyOnWriteArrayList<>();
            CountDownLatch busy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch timerRan = new CountDownLatch(1);
            // Keep the loop busy so what follows waits in its queue.
            loop.execute(() -> {
                busy.countDown();
                try {
                    release.await(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            await(busy, "the blocking task");
            loop.execute(() -> {
                ran.add("execute");
                ranOn.add(Thread.currentThread());
            });
            loop.runInLoop(() -> {
                ran.add("runInLoop");
                ranOn.add(Thread.currentThread());
            });
            loop.queueInLoop(() -> {
                ran.add("queueInLoop");
                ranOn.add(Thread.currentThread());
            });
            assertEquals(3, loop.queueSize(), "three tasks wait while the loop is busy");
            assertEquals(List.of(), ran, "from another thread, runInLoop and execute queue instead of running");
            long cancelled = loop.runAfter(1, TimeUnit.HOURS, () -> ran.add("cancelled timer"));
            loop.cancel(cancelled);
            long fired = loop.runAfter(1, TimeUnit.MILLISECONDS, () -> {
                ran.add("timer");
                ranOn.add(Thread.currentThread());
                timerRan.countDown();
            });
            assertNotEquals(cancelled, fired, "distinct timer ids");
            release.countDown();
            await(timerRan, "the timer scheduled from another thread");
            assertEquals(List.of("execute", "runInLoop", "queueInLoop", "timer"), ran,
                    "tasks in submission order on the loop, then the timer; the cancelled timer never");
            for (Thread th : ranOn) {
                assertSame(loopThread, th, "ran on the loop thread");
            }
            assertEquals(0, (int) LoopTestSupport.call(loop, loop::pendingTimers),
                    "the cancelled timer is gone, the one-shot one spent");
            assertEquals(0, (int) LoopTestSupport.call(loop, loop::queueSize));

            // A task from another thread wakes a loop blocked in select: one paid wakeup.
            LoopTestSupport.awaitSleeping(loop);
            long wakeups = loop.wakeupCount();
            CountDownLatch woke = new CountDownLatch(1);
            loop.queueInLoop(woke::countDown);
            assertEquals(wakeups + 1, loop.wakeupCount(), "the producer paid one Selector.wakeup()");
            await(woke, "the task that woke the loop");
        }
    }

    @Test
    void poolHandsOutLoopsOnlyOnTheBaseLoopThread() throws Exception {
        try (EventLoopThread base = new EventLoopThread(OWNER)) {
            EventLoop baseLoop = base.startLoop();
            EventLoopThreadPool pool = new EventLoopThreadPool(baseLoop, "affinity-pool");
            // 0 threads with an init: the base loop runs it, so that start is base-loop only.
            EventLoopThreadPool inline = new EventLoopThreadPool(baseLoop, "affinity-inline");
            assertWrongThread(() -> inline.start(loop -> { }));
            assertFalse(inline.started(), "a refused start() started nothing");
            pool.setThreadNum(2);
            assertWrongThread(pool::nextLoop);
            assertWrongThread(() -> pool.loopForHash(42));
            try {
                // On the base loop thread the same calls work.
                EventLoop[] handedOut = LoopTestSupport.call(baseLoop, () -> {
                    pool.start(null);
                    return new EventLoop[] {pool.nextLoop(), pool.nextLoop(), pool.nextLoop(),
                        pool.loopForHash(42), pool.loopForHash(42)};
                });
                assertTrue(pool.started());
                assertEquals(2, pool.allLoops().size());
                assertNotSame(baseLoop, handedOut[0], "an I/O loop, not the base loop");
                assertNotSame(handedOut[0], handedOut[1], "round robin over the two I/O loops");
                assertSame(handedOut[0], handedOut[2], "round robin wraps");
                assertSame(handedOut[3], handedOut[4], "the same hash, the same loop");
                assertTrue(pool.allLoops().contains(handedOut[3]));
            } finally {
                pool.close();
            }
        }
    }
}
