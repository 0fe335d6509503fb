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
 * <p><b>Threading:</b> configure, then {@link #start} from any thread (it returns once every I/O
 * loop runs; with 0 threads and an init callback, from the base loop's thread, where the init
 * runs); hand out loops ({@link #nextLoop()}, {@link #loopForHash(int)}) from the base loop's
 * thread (checked). {@link #close()} may be called from any thread but the pool's own loop threads.
 */
public final class EventLoopThreadPool implements AutoCloseable {
    private final EventLoop baseLoop;
    private final String name;
    private int numThreads;
    private EventLoopOptions options = EventLoopOptions.blocking();
    private final List<EventLoopThread> threads = new ArrayList<>();
    private volatile List<EventLoop> loops = List.of(); // published once start() has them all
    private volatile boolean started;
    private int next;

    /**
     * A pool with no threads yet (see {@link #setThreadNum(int)}).
     *
     * @param baseLoop the loop that hands out loops, used alone when there are no threads
     * @param name prefix of the threads' names
     */
    public EventLoopThreadPool(EventLoop baseLoop, String name) {
        this.baseLoop = Objects.requireNonNull(baseLoop, "baseLoop");
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * The number of I/O threads, before {@link #start}.
     *
     * @param n the number of threads, {@code >= 0}; 0 serves everything on the base loop
     */
    public void setThreadNum(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("thread count must be >= 0: " + n);
        }
        checkNotStarted();
        this.numThreads = n;
    }

    /**
     * Options for the I/O loops (copied per loop). Their transport, unless these options name one,
     * is the base loop's.
     *
     * @param options the loops' options
     */
    public void setLoopOptions(EventLoopOptions options) {
        checkNotStarted();
        this.options = Objects.requireNonNull(options, "options");
    }

    private void checkNotStarted() {
        if (started) {
            throw new IllegalStateException("pool " + name + " already started");
        }
    }

    /**
     * Starts the threads and returns once every I/O loop runs; {@code init} (may be null) runs on
     * each I/O loop's thread before its loop starts, or on the base loop when there are none. Any
     * thread, once; with 0 threads and an {@code init}, the base loop's thread (checked). When a
     * thread or its loop cannot start (its constructor or {@code init} throws, no thread can be
     * created), the loops already started are quit and their threads joined before the failure is
     * thrown: nothing of the pool is left running, and it cannot be started again.
     *
     * @param init runs once on each loop before it serves, or null
     */
    public synchronized void start(Consumer<EventLoop> init) {
        if (numThreads == 0 && init != null) {
            baseLoop.assertInLoopThread();
        }
        checkNotStarted();
        started = true;
        List<EventLoop> running = new ArrayList<>(numThreads);
        // A socket belongs to the transport that opened it: the I/O loops run the base loop's,
        // unless the options name one.
        EventLoopOptions o = options.transport() == Transport.AUTO
                ? options.copy().transport(baseLoop.transport()) : options;
        try {
            for (int i = 0; i < numThreads; i++) {
                EventLoopThread t = new EventLoopThread(name + i, o, init);
                threads.add(t);
                running.add(t.startLoop());
            }
        } catch (Throwable e) {
            closeThreads(e);
            throw e;
        }
        loops = Collections.unmodifiableList(running);
        if (numThreads == 0 && init != null) {
            init.accept(baseLoop);
        }
    }

    /**
     * Whether {@link #start} has been called.
     *
     * @return true once started
     */
    public boolean started() {
        return started;
    }

    /**
     * The pool's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The loop that hands out loops.
     *
     * @return the base loop
     */
    public EventLoop baseLoop() {
        return baseLoop;
    }

    /**
     * Round-robin over the I/O loops; the base loop when there are none. Base loop thread only.
     *
     * @return the next loop
     */
    public EventLoop nextLoop() {
        baseLoop.assertInLoopThread();
        List<EventLoop> loops = this.loops;
        if (loops.isEmpty()) {
            return baseLoop;
        }
        EventLoop l = loops.get(next);
        if (++next == loops.size()) {
            next = 0;
        }
        return l;
    }

    /**
     * The same hash always gives the same loop (sharding by key). Base loop thread only.
     *
     * @param hash any int, e.g. a key's hash code
     * @return the loop for that hash
     */
    public EventLoop loopForHash(int hash) {
        baseLoop.assertInLoopThread();
        List<EventLoop> loops = this.loops;
        if (loops.isEmpty()) {
            return baseLoop;
        }
        return loops.get(Math.floorMod(hash, loops.size()));
    }

    /**
     * The I/O loops, or the base loop alone when there are none (or they failed to start). Any thread, after {@link #start}.
     *
     * @return an unmodifiable list of the loops
     */
    public List<EventLoop> allLoops() {
        List<EventLoop> l = loops;
        return l.isEmpty() ? List.of(baseLoop) : l;
    }

    /** Quits and joins every I/O thread (their selectors are closed). Idempotent. */
    @Override
    public synchronized void close() {
        for (EventLoopThread t : threads) {
            t.close();
        }
    }

    /** After a failed start: quits and joins what was started; a failure doing so is added to {@code cause}. */
    private void closeThreads(Throwable cause) {
        for (EventLoopThread t : threads) {
            try {
                t.close();
            } catch (Throwable e) {
                EventLoop.rethrowIfFatal(e);
                cause.addSuppressed(e);
            }
        }
        threads.clear();
    }
}
