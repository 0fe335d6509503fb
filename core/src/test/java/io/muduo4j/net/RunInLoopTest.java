package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code runInLoop} runs inline on the loop thread and queues from elsewhere; {@code queueInLoop}
 * always queues, even on the loop thread; {@code execute} is {@code runInLoop}.
 */
@Timeout(20)
class RunInLoopTest {

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void runInLoopOnTheLoopThreadRunsInline(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("run-inline", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            List<String> order = LoopTestSupport.call(loop, () -> {
                List<String> o = new ArrayList<>();
                o.add("before");
                loop.runInLoop(() -> o.add("runInLoop"));
                loop.execute(() -> o.add("execute"));
                o.add("after");
                return o;
            });
            assertEquals(List.of("before", "runInLoop", "execute", "after"), order);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void queueInLoopOnTheLoopThreadQueues(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("queue-self", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            List<String> order = new ArrayList<>();
            CompletableFuture<Void> queuedRan = new CompletableFuture<>();
            LoopTestSupport.run(loop, () -> {
                order.add("before");
                loop.queueInLoop(() -> {
                    order.add("queued");
                    queuedRan.complete(null);
                });
                order.add("after");
            });
            queuedRan.get(LoopTestSupport.WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of("before", "after", "queued"), LoopTestSupport.call(loop, () -> List.copyOf(order)));
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void crossThreadSubmissionsRunOnTheLoopThreadInOrder(EventLoop.WaitMode mode) throws Exception {
        try (EventLoopThread t = new EventLoopThread("run-cross", LoopTestSupport.options(mode), null)) {
            EventLoop loop = t.startLoop();
            Thread loopThread = LoopTestSupport.loopThread(loop);
            List<Integer> order = new ArrayList<>();
            List<Thread> ranOn = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int n = i;
                Runnable task = () -> {
                    order.add(n);
                    ranOn.add(Thread.currentThread());
                };
                switch (i % 3) {
                    case 0 -> loop.runInLoop(task);
                    case 1 -> loop.queueInLoop(task);
                    default -> loop.execute(task);
                }
            }
            List<Integer> seen = LoopTestSupport.call(loop, () -> List.copyOf(order));
            assertEquals(300, seen.size());
            for (int i = 0; i < 300; i++) {
                assertEquals(i, seen.get(i), "FIFO per producer");
            }
            for (Thread th : LoopTestSupport.call(loop, () -> List.copyOf(ranOn))) {
                assertSame(loopThread, th);
            }
            assertNotSame(loopThread, Thread.currentThread());
        }
    }
}
