package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.agrona.concurrent.YieldingIdleStrategy;

/** Helpers shared by the reactor tests: loop options per wait mode, hopping onto a loop, bounded waits. */
final class LoopTestSupport {
    /** Upper bound of every wait in the tests; far below the 10 s select cap where that matters. */
    static final long WAIT_SECONDS = 5;

    private static final VarHandle TASKS;
    private static final VarHandle WAKE_STATE;

    static {
        try {
            TASKS = MethodHandles.privateLookupIn(EventLoop.class, MethodHandles.lookup())
                    .findVarHandle(EventLoop.class, "tasks", TaskQueue.class);
            WAKE_STATE = MethodHandles.privateLookupIn(TaskQueue.class, MethodHandles.lookup())
                    .findVarHandle(TaskQueue.class, "wakeState", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private LoopTestSupport() {
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Blocking mode, or spinning with a yielding idle strategy (the test machine has few cores). */
    static EventLoopOptions options(EventLoop.WaitMode mode) {
        return mode == EventLoop.WaitMode.BLOCKING
                ? EventLoopOptions.blocking()
                : EventLoopOptions.spinning(new YieldingIdleStrategy());
    }

    /** {@link #options} on the NIO transport: for tests that register NIO channels (pipes) themselves. */
    static EventLoopOptions nioOptions(EventLoop.WaitMode mode) {
        return options(mode).transport(Transport.NIO);
    }

    /** Runs {@code c} on the loop thread and returns its result (or rethrows what it threw). */
    static <T> T call(EventLoop loop, Callable<T> c) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.runInLoop(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw e;
        } catch (TimeoutException e) {
            throw new AssertionError("task did not run on " + loop + " within " + WAIT_SECONDS + " s", e);
        }
    }

    static void run(EventLoop loop, ThrowingRunnable r) throws Exception {
        call(loop, () -> {
            r.run();
            return null;
        });
    }

    /**
     * Lets the loop run {@code n} more full iterations (each with a poll): a task that re-queues
     * itself runs once per iteration, because tasks queued during a drain wait for the next one.
     */
    static void runIterations(EventLoop loop, int n) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.queueInLoop(new Runnable() {
            int left = n;

            @Override
            public void run() {
                if (--left <= 0) {
                    done.complete(null);
                } else {
                    loop.queueInLoop(this);
                }
            }
        });
        done.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** The thread a loop runs on, as seen from inside it. */
    static Thread loopThread(EventLoop loop) throws Exception {
        return call(loop, Thread::currentThread);
    }

    /** Waits until a blocking loop has announced it is about to block in select. */
    static void awaitSleeping(EventLoop loop) {
        TaskQueue tasks = (TaskQueue) TASKS.get(loop);
        awaitTrue(() -> (int) WAKE_STATE.getVolatile(tasks) == 1, "loop " + loop + " to block in select");
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "timed out waiting for " + what);
    }

    static void join(Thread t) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertTrue(!t.isAlive(), "thread " + t.getName() + " did not end within " + WAIT_SECONDS + " s");
    }

    /** Polls {@code condition} until it holds or the deadline passes (then fails). */
    static void awaitTrue(BooleanSupplier condition, String what) {
        awaitTrue(condition, what, WAIT_SECONDS);
    }

    static void awaitTrue(BooleanSupplier condition, String what, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + seconds + " s waiting for " + what);
            }
            LockSupport.parkNanos(100_000);
        }
    }

    /** Burns CPU on the calling thread for {@code nanos} (simulated work, not a wait). */
    static void busyWork(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /** The NIO selector of a loop on the NIO transport, for tests that look at its keys. */
    static java.nio.channels.Selector selector(EventLoop loop) {
        return ((NioPoller) loop.poller()).selector();
    }

    /** An acceptor handler that accepts into fresh channels of {@code loop} and hands on their NIO sockets. */
    static Acceptor.NewConnectionHandler nioHandler(EventLoop loop,
            java.util.function.Consumer<java.nio.channels.SocketChannel> sink) {
        return new Acceptor.NewConnectionHandler() {
            @Override
            public Pollable newHandle() {
                return new Channel(loop);
            }

            @Override
            public void onNewConnection(Pollable h) {
                sink.accept((java.nio.channels.SocketChannel) h.selectable);
            }
        };
    }
}
