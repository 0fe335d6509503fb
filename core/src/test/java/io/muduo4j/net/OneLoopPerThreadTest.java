package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A thread owns at most one loop; a second one in the same thread is refused with a message that says so. */
@Timeout(10)
class OneLoopPerThreadTest {

    @Test
    void secondLoopInSameThreadThrowsSayingSo() {
        EventLoop first = new EventLoop();
        try {
            assertSame(first, EventLoop.current());
            IllegalStateException e = assertThrows(IllegalStateException.class, EventLoop::new);
            String thread = Thread.currentThread().getName();
            assertTrue(e.getMessage().contains("one loop per thread"), e.getMessage());
            assertTrue(e.getMessage().contains(thread), "message names the thread: " + e.getMessage());
            assertTrue(e.getMessage().contains(first.name()), "message names the existing loop: " + e.getMessage());
            assertSame(first, EventLoop.current(), "the refused loop did not replace the first");
        } finally {
            first.close();
        }
        assertNull(EventLoop.current(), "close() unbinds the thread");
        EventLoop second = new EventLoop();
        assertSame(second, EventLoop.current(), "after close() the thread may own a new loop");
        second.close();
    }

    @Test
    void agentLoopRefusesToBindToAThreadThatOwnsALoop() {
        EventLoop owned = new EventLoop();
        EventLoop agent = new EventLoop(EventLoopOptions.blocking().bindOnStart());
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, agent::onStart);
            assertTrue(e.getMessage().contains("one loop per thread"), e.getMessage());
            assertSame(owned, EventLoop.current());
        } finally {
            agent.close();
            owned.close();
        }
    }

    @Test
    void eachLoopThreadOwnsItsOwnLoop() throws Exception {
        try (EventLoopThread a = new EventLoopThread("one-per-thread-a");
                EventLoopThread b = new EventLoopThread("one-per-thread-b")) {
            EventLoop la = a.startLoop();
            EventLoop lb = b.startLoop();
            assertSame(la, LoopTestSupport.call(la, EventLoop::current));
            assertSame(lb, LoopTestSupport.call(lb, EventLoop::current));
            assertNull(EventLoop.current(), "the test thread owns no loop");
        }
    }
}
