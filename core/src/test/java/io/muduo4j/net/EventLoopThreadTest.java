package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link EventLoopThread}: {@code startLoop()} returns a loop that is already running on a new
 * named thread, after the init callback ran on that thread; {@code close()} quits, joins and
 * closes, and both are idempotent.
 */
@Timeout(20)
class EventLoopThreadTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void startLoopReturnsARunningLoopAfterInitRanOnTheLoopThread(EventLoop.WaitMode mode) throws Exception {
        List<Object> init = new ArrayList<>();
        EventLoopThread t = new EventLoopThread("elt-start", LoopTestSupport.options(mode), loop -> {
            init.add(Thread.currentThread());
            init.add(EventLoop.current());
            init.add(loop.isInLoopThread());
        });
        try {
            assertNull(t.loop());
            EventLoop loop = t.startLoop();
            Thread loopThread = t.thread();
            assertEquals("elt-start", loopThread.getName());
            assertEquals("elt-start", loop.name());
            assertSame(loopThread, init.get(0), "init ran on the loop thread");
            assertSame(loop, init.get(1), "init saw the thread's loop");
            assertEquals(true, init.get(2));
            assertSame(loop, t.startLoop(), "startLoop is idempotent");
            assertSame(loop, t.loop());
            assertFalse(loop.isInLoopThread());
            // Running: it runs tasks without anything else being done.
            assertSame(loopThread, LoopTestSupport.loopThread(loop));
            assertFalse(loop.isTerminated());
        } finally {
            t.close();
        }
        assertFalse(t.thread().isAlive(), "close() joined the thread");
        assertTrue(t.loop().isTerminated());
        assertTrue(t.loop().isClosed(), "the selector is closed");
        t.close(); // idempotent
    }

    @Test
    void failingInitMakesStartLoopThrowAndLeavesNothingRunning() throws Exception {
        EventLoopThread t = new EventLoopThread("elt-init-fails", EventLoopOptions.blocking(), loop -> {
            throw new IllegalArgumentException("init failed");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, t::startLoop);
        assertEquals("init failed", e.getCause().getMessage());
        LoopTestSupport.join(t.thread());
        t.close();
    }

    @Test
    void closeWithoutStartAndCloseFromTheLoopThread() throws Exception {
        new EventLoopThread("elt-never-started").close();
        try (EventLoopThread t = new EventLoopThread("elt-self-close")) {
            EventLoop loop = t.startLoop();
            Throwable e = LoopTestSupport.call(loop, () -> {
                try {
                    t.close();
                    return null;
                } catch (IllegalStateException x) {
                    return x;
                }
            });
            assertTrue(e instanceof IllegalStateException, "a loop thread cannot join itself");
        }
    }
}
