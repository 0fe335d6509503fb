package io.muduo4j.net;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * N I/O loops on their own threads beside a base loop, handed out round-robin
 * ({@link #nextLoop()}) or by hash ({@link #loopForHash(int)}). With 0 threads every call returns
 * the base loop. muduo's {@code EventLoopThreadPool}.
 *
 * <p><b>Threading:</b> configure, {@link #start}, then hand out loops from the base loop's thread
 * (checked). {@link #close()} may be called from any thread but the pool's own loop threads.
 */
public final class EventLoopThreadPool implements AutoCloseable {
    private final EventLoop baseLoop;
    private final String name;
    private int numThreads;
    private EventLoop.Options options = EventLoop.Options.blocking();
    private final List<EventLoopThread> threads = new ArrayList<>();
    private final List<EventLoop> loops = new ArrayList<>();
    private volatile boolean started;
    private int next;

    public EventLoopThreadPool(EventLoop baseLoop, String name) {
        this.baseLoop = Objects.requireNonNull(baseLoop, "baseLoop");
        this.name = Objects.requireNonNull(name, "name");
    }

    public void setThreadNum(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("thread count must be >= 0: " + n);
        }
        checkNotStarted();
        this.numThreads = n;
    }

    /** Options for the I/O loops (copied per loop). */
    public void setLoopOptions(EventLoop.Options options) {
        checkNotStarted();
        this.options = Objects.requireNonNull(options, "options");
    }

    private void checkNotStarted() {
        if (started) {
            throw new IllegalStateException("pool " + name + " already started");
        }
    }

    /** Starts the threads; {@code init} (may be null) runs on each I/O loop, or on the base loop when there are none. */
    public void start(Consumer<EventLoop> init) {
        baseLoop.assertInLoopThread();
        checkNotStarted();
        started = true;
        for (int i = 0; i < numThreads; i++) {
            EventLoopThread t = new EventLoopThread(name + i, options, init);
            threads.add(t);
            loops.add(t.startLoop());
        }
        if (numThreads == 0 && init != null) {
            init.accept(baseLoop);
        }
    }

    public boolean started() {
        return started;
    }

    public String name() {
        return name;
    }

    public EventLoop baseLoop() {
        return baseLoop;
    }

    /** Round-robin over the I/O loops; the base loop when there are none. Base loop thread only. */
    public EventLoop nextLoop() {
        baseLoop.assertInLoopThread();
        if (loops.isEmpty()) {
            return baseLoop;
        }
        EventLoop l = loops.get(next);
        if (++next == loops.size()) {
            next = 0;
        }
        return l;
    }

    /** The same hash always gives the same loop (sharding by key). Base loop thread only. */
    public EventLoop loopForHash(int hash) {
        baseLoop.assertInLoopThread();
        if (loops.isEmpty()) {
            return baseLoop;
        }
        return loops.get(Math.floorMod(hash, loops.size()));
    }

    /** The I/O loops, or the base loop alone when there are none. */
    public List<EventLoop> allLoops() {
        return loops.isEmpty() ? List.of(baseLoop) : Collections.unmodifiableList(loops);
    }

    /** Quits and joins every I/O thread (their selectors are closed). Idempotent. */
    @Override
    public void close() {
        for (EventLoopThread t : threads) {
            t.close();
        }
    }
}
