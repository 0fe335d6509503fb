package io.muduo4j.net;

import static io.muduo4j.net.LoopTestSupport.await;
import static io.muduo4j.net.LoopTestSupport.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Embeddable mode: a loop made with {@code bindOnStart()} is driven by the caller's thread as an
 * Agrona {@link Agent}: {@code doWork()} does one non-blocking iteration and returns the work
 * count, it composes with {@link AgentRunner} and {@link CompositeAgent}, and {@code quit()} ends
 * the runner (the loop terminates and closes).
 */
@Timeout(30)
class AgentModeTest {

    private static EventLoopOptions agentOptions(EventLoop.WaitMode mode) {
        return LoopTestSupport.nioOptions(mode).bindOnStart().name("agent-" + mode);
    }

    /**
     * What an {@link AgentRunner} passes to its error handler. The loop's own
     * {@link AgentTerminationException} after {@code quit()} is how the runner learns to stop
     * (Agrona reports it to the handler, once); anything else is an error of the test.
     */
    private static final class RunnerErrors implements org.agrona.ErrorHandler {
        final Queue<Throwable> all = new ConcurrentLinkedQueue<>();

        @Override
        public void onError(Throwable t) {
            all.add(t);
        }

        List<Throwable> terminations() {
            return all.stream().filter(t -> t instanceof AgentTerminationException).collect(Collectors.toList());
        }

        /** Asserts that nothing but at most one termination of {@code loop} was reported. */
        void assertOnlyTermination(EventLoop loop) {
            List<Throwable> unexpected = all.stream().filter(t -> !(t instanceof AgentTerminationException))
                    .collect(Collectors.toList());
            assertEquals(List.of(), unexpected, "errors reported to the AgentRunner");
            List<Throwable> terminations = terminations();
            assertTrue(terminations.size() <= 1, "one termination at most: " + terminations);
            for (Throwable t : terminations) {
                assertTrue(String.valueOf(t.getMessage()).contains(loop.name()), "the loop's own termination: " + t);
            }
        }
    }

    /** An agent that counts its doWork calls and does no work. */
    private static final class CountingAgent implements Agent {
        final AtomicLong calls = new AtomicLong();
        volatile boolean closed;

        @Override
        public int doWork() {
            calls.incrementAndGet();
            return 0;
        }

        @Override
        public void onClose() {
            closed = true;
        }

        @Override
        public String roleName() {
            return "counting";
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void doWorkRunsOneIterationOnTheCallerThreadAndReturnsTheWorkCount(EventLoop.WaitMode mode) throws Exception {
        BlockingQueue<Throwable> failure = new LinkedBlockingQueue<>();
        Thread driver = new Thread(() -> {
            EventLoop loop = new EventLoop(agentOptions(mode));
            try {
                assertFalse(loop.isInLoopThread(), "not bound before it starts");
                loop.onStart();
                assertTrue(loop.isInLoopThread());
                assertSame(loop, EventLoop.current());
                assertEquals(0, loop.doWork(), "idle");
                for (int i = 0; i < 3; i++) {
                    loop.queueInLoop(() -> { });
                }
                assertEquals(3, loop.doWork(), "three tasks");
                loop.runAt(System.nanoTime() - 1, () -> { });
                assertEquals(1, loop.doWork(), "one due timer");
                try (ChannelTestSupport pipe = new ChannelTestSupport()) {
                    Channel ch = new Channel(loop, pipe.watched);
                    ch.setReadCallback(pipe::drain);
                    ch.enableReading();
                    pipe.writeByte();
                    // The byte may take a moment to cross loopback: poll until the event is seen.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LoopTestSupport.WAIT_SECONDS);
                    int work;
                    while ((work = loop.doWork()) == 0 && System.nanoTime() - deadline < 0) {
                        Thread.onSpinWait();
                    }
                    assertEquals(1, work, "one ready channel");
                    ch.remove();
                }
                loop.doWork();
                assertEquals(0, loop.doWork(), "idle again");
                loop.quit();
                assertThrows(AgentTerminationException.class, loop::doWork);
                assertTrue(loop.isTerminated());
                loop.onClose();
                assertTrue(loop.isClosed());
                assertNull(EventLoop.current(), "closing unbinds the thread");
            } catch (Throwable e) {
                failure.add(e);
            }
        }, "agent-manual");
        driver.start();
        join(driver);
        Throwable e = failure.poll();
        if (e != null) {
            throw new AssertionError("driver thread failed", e);
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void agentRunnerDrivesTheLoopAndQuitEndsIt(EventLoop.WaitMode mode) throws Exception {
        EventLoop loop = new EventLoop(agentOptions(mode));
        RunnerErrors errors = new RunnerErrors();
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), errors, null, loop);
        Thread thread = AgentRunner.startOnThread(runner);
        try {
            Thread[] ranOn = new Thread[1];
            CountDownLatch ran = new CountDownLatch(2);
            loop.runInLoop(() -> {
                ranOn[0] = Thread.currentThread();
                ran.countDown();
            });
            loop.runAfter(1, TimeUnit.MILLISECONDS, ran::countDown);
            await(ran, "a task and a timer run by the AgentRunner");
            assertSame(thread, ranOn[0], "tasks run on the runner's thread");
            assertTrue(LoopTestSupport.call(loop, loop::isInLoopThread));
            loop.quit();
            join(thread);
            assertTrue(runner.isClosed(), "quit() ended the AgentRunner");
            assertTrue(loop.isTerminated());
            assertTrue(loop.isClosed(), "onClose closed the loop");
            errors.assertOnlyTermination(loop);
        } finally {
            runner.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void compositeAgentDrivesTheLoopBesideAnotherAgent(EventLoop.WaitMode mode) throws Exception {
        EventLoop loop = new EventLoop(agentOptions(mode));
        CountingAgent other = new CountingAgent();
        RunnerErrors errors = new RunnerErrors();
        AgentRunner runner = new AgentRunner(new YieldingIdleStrategy(), errors, null,
                new CompositeAgent(other, loop));
        Thread thread = AgentRunner.startOnThread(runner);
        try {
            CountDownLatch ran = new CountDownLatch(100);
            for (int i = 0; i < 100; i++) {
                loop.runInLoop(ran::countDown);
            }
            await(ran, "tasks run through a CompositeAgent");
            LoopTestSupport.awaitTrue(() -> other.calls.get() > 10, "the other agent to be driven too");
            assertSame(thread, LoopTestSupport.loopThread(loop));
            loop.quit();
            join(thread);
            assertTrue(loop.isTerminated());
            assertTrue(loop.isClosed());
            assertTrue(other.closed, "the composite closed its other agent too");
            assertTrue(runner.isClosed(), "quit() ended the AgentRunner");
            errors.assertOnlyTermination(loop);
        } finally {
            runner.close();
        }
    }

    @ParameterizedTest
    @EnumSource(EventLoop.WaitMode.class)
    void closingTheAgentRunnerTerminatesAndClosesTheLoop(EventLoop.WaitMode mode) throws Exception {
        EventLoop loop = new EventLoop(agentOptions(mode));
        RunnerErrors errors = new RunnerErrors();
        AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), errors, null, loop);
        Thread thread = AgentRunner.startOnThread(runner);
        assertSame(thread, LoopTestSupport.loopThread(loop), "the runner's thread drives the loop");
        assertFalse(loop.isTerminated());
        runner.close();
        join(thread);
        assertTrue(runner.isClosed());
        assertTrue(loop.isTerminated());
        assertTrue(loop.isClosed());
        assertEquals(List.of(), List.copyOf(errors.all), "errors reported to the AgentRunner (no quit(), no termination)");
    }
}
