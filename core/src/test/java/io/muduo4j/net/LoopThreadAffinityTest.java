package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.Pipe;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Loop-only methods check the owner thread and throw an {@link IllegalStateException} naming both
 * the owner and the caller; the any-thread methods work from anywhere.
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
        try (EventLoopThread t = new EventLoopThread(OWNER); Pipe.SourceChannel source = Pipe.open().source()) {
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
            assertFalse(loop.isClosed());
            assertTrue(LoopTestSupport.call(loop, loop::isInLoopThread));
            // The same calls are fine on the loop thread.
            LoopTestSupport.run(loop, () -> {
                loop.assertInLoopThread();
                channel.enableReading();
                channel.remove();
            });
        }
    }

    @Test
    void anyThreadMethodsWorkFromAnotherThread() throws Exception {
        try (EventLoopThread t = new EventLoopThread(OWNER)) {
            EventLoop loop = t.startLoop();
            loop.execute(() -> { });
            loop.runInLoop(() -> { });
            loop.queueInLoop(() -> { });
            long id = loop.runAfter(1, TimeUnit.HOURS, () -> { });
            loop.cancel(id);
            loop.wakeupCount();
            loop.queueSize();
            LoopTestSupport.runIterations(loop, 2);
        }
    }

    @Test
    void poolHandsOutLoopsOnlyOnTheBaseLoopThread() throws Exception {
        try (EventLoopThread base = new EventLoopThread(OWNER)) {
            EventLoop baseLoop = base.startLoop();
            EventLoopThreadPool pool = new EventLoopThreadPool(baseLoop, "affinity-pool");
            assertWrongThread(() -> pool.start(loop -> { })); // 0 threads with an init: the base loop runs it
            assertWrongThread(pool::nextLoop);
            assertWrongThread(() -> pool.loopForHash(42));
        }
    }
}
