package io.muduo4j.net;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An {@link EventLoop} on a daemon thread whose stop waits a bounded time: for tests whose failure
 * mode is a loop that hangs for good (a deadlock), where {@link EventLoopThread#close()} would
 * join forever and a non-daemon thread would keep the test JVM alive.
 */
final class DaemonLoop implements AutoCloseable {
    private final Thread thread;
    private final EventLoop loop;

    private DaemonLoop(Thread thread, EventLoop loop) {
        this.thread = thread;
        this.loop = loop;
    }

    /** Starts a loop made from {@code options} (named {@code name}) on a new daemon thread. */
    static DaemonLoop start(String name, EventLoopOptions options) throws Exception {
        CompletableFuture<EventLoop> started = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            EventLoop l;
            try {
                l = new EventLoop(options.name(name)); // bound to this thread
            } catch (Throwable e) {
                started.completeExceptionally(e);
                return;
            }
            started.complete(l);
            try {
                l.loop();
            } finally {
                l.close();
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return new DaemonLoop(t, TcpTestSupport.get(started, "loop " + name + " to start"));
    }

    EventLoop loop() {
        return loop;
    }

    Thread thread() {
        return thread;
    }

    /**
     * Quits the loop and waits at most {@link LoopTestSupport#WAIT_SECONDS} for its thread; returns
     * whether it ended (a hung loop does not, and is left behind as a daemon).
     */
    boolean stop() throws InterruptedException {
        loop.quit();
        thread.join(TimeUnit.SECONDS.toMillis(LoopTestSupport.WAIT_SECONDS));
        return !thread.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
