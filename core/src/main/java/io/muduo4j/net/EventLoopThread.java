package io.muduo4j.net;

import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * A named thread running one {@link EventLoop}. {@link #startLoop()} starts it and returns the loop
 * once it runs (after the optional init callback ran on the new thread); {@link #close()} quits the
 * loop, joins the thread, and the thread closes the loop's selector on its way out, so nothing is
 * left behind. Any thread may call either; both are idempotent.
 */
public final class EventLoopThread implements AutoCloseable {
    private final String name;
    private final EventLoopOptions options;
    private final Consumer<EventLoop> init;
    private final CountDownLatch started = new CountDownLatch(1);
    private Thread thread;
    private volatile EventLoop loop;
    private volatile Throwable startFailure;

    /**
     * A thread that will run a blocking-mode loop.
     *
     * @param name the thread's and the loop's name
     */
    public EventLoopThread(String name) {
        this(name, EventLoopOptions.blocking(), null);
    }

    /**
     * {@code options} are copied; {@code init} (may be null) runs on the new thread before the loop starts.
     *
     * @param name the thread's and the loop's name
     * @param options the loop's options
     * @param init runs on the new thread with its loop before the loop starts, or null
     */
    public EventLoopThread(String name, EventLoopOptions options, Consumer<EventLoop> init) {
        this.name = Objects.requireNonNull(name, "name");
        this.options = Objects.requireNonNull(options, "options").copy().name(name);
        this.init = init;
    }

    /**
     * Starts the thread (once) and blocks until its loop runs; returns that loop.
     *
     * @return the running loop
     */
    public synchronized EventLoop startLoop() {
        if (thread == null) {
            thread = new Thread(this::run, name);
            thread.start();
        }
        boolean interrupted = false;
        while (true) {
            try {
                started.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable f = startFailure;
        if (f != null) {
            throw new IllegalStateException("event loop thread " + name + " failed to start", f);
        }
        return loop;
    }

    /**
     * The loop, or null before {@link #startLoop()}.
     *
     * @return the loop, or null
     */
    public EventLoop loop() {
        return loop;
    }

    /**
     * The thread that runs the loop.
     *
     * @return the thread, or null before {@link #startLoop()}
     */
    public Thread thread() {
        return thread;
    }

    private void run() {
        EventLoop l;
        try {
            l = new EventLoop(options);
        } catch (Throwable t) {
            startFailure = t;
            started.countDown();
            return;
        }
        try {
            if (init != null) {
                init.accept(l);
            }
        } catch (Throwable t) {
            startFailure = t;
            l.close();
            started.countDown();
            return;
        }
        loop = l;
        // The loop drains tasks queued before it starts, so counting down first is safe.
        started.countDown();
        try {
            l.loop();
        } finally {
            l.close();
        }
    }

    /** Quits the loop, waits for the thread to end. Idempotent; must not be called on the loop thread itself. */
    @Override
    public synchronized void close() {
        Thread t = thread;
        if (t == null) {
            return;
        }
        if (Thread.currentThread() == t) {
            throw new IllegalStateException("EventLoopThread " + name + " cannot join itself; call quit() on its loop");
        }
        EventLoop l = loop;
        if (l != null) {
            l.quit();
        }
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
