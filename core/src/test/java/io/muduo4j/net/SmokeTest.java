package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void loopRunsTasksAndTimersAndQuits() throws Exception {
        try (EventLoopThread t = new EventLoopThread("smoke")) {
            EventLoop loop = t.startLoop();
            CountDownLatch ran = new CountDownLatch(3);
            loop.runInLoop(ran::countDown);
            loop.runAfter(5, TimeUnit.MILLISECONDS, ran::countDown);
            long id = loop.runEvery(1, TimeUnit.MILLISECONDS, ran::countDown);
            assertTrue(ran.await(5, TimeUnit.SECONDS));
            loop.cancel(id);
        }
    }
}
