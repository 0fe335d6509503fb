package io.muduo4j.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * The front of one loop's {@link TimerQueue} for callers on any thread: timer ids are minted at
 * once, on the calling thread, so {@code runAfter} and friends return without waiting for the
 * loop; the heap itself is touched on the loop thread only, directly when the caller is the loop
 * thread (nothing allocated), else through a {@link Command} queued behind everything the caller
 * queued before.
 *
 * <p>Threading: every method may be called from any thread.
 */
final class TimerScheduler {
    private static final VarHandle NEXT_ID;

    static {
        try {
            NEXT_ID = MethodHandles.lookup().findVarHandle(TimerScheduler.class, "nextId", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    private final TimerQueue timers;
    private volatile long nextId = 1;

    TimerScheduler(EventLoop loop, TimerQueue timers) {
        this.loop = loop;
        this.timers = timers;
    }

    /**
     * Schedules {@code task} at {@code deadline} ({@link System#nanoTime()} base) with
     * {@code period} as {@link TimerQueue} reads it (0 once, &gt; 0 fixed rate, &lt; 0 fixed delay).
     *
     * @return the new timer's id
     */
    long schedule(long deadline, long period, Runnable task) {
        Objects.requireNonNull(task, "task");
        long id = (long) NEXT_ID.getAndAdd(this, 1L);
        if (loop.isInLoopThread()) {
            timers.schedule(id, deadline, period, task);
        } else {
            loop.queueInLoop(new Command(timers, id, deadline, period, task));
        }
        return id;
    }

    /** Cancels timer {@code id}: at once on the loop thread, else queued (see {@link EventLoop#cancel}). */
    void cancel(long id) {
        if (loop.isInLoopThread()) {
            timers.cancel(id);
        } else {
            loop.queueInLoop(new Command(timers, id, 0, 0, null));
        }
    }

    /** A period or delay checked to be positive. */
    static long positive(long nanos) {
        if (nanos <= 0) {
            throw new IllegalArgumentException("period must be > 0");
        }
        return nanos;
    }

    /** A schedule (task set) or a cancel (task null) carried from another thread to the loop's. */
    private static final class Command implements Runnable {
        private final TimerQueue timers;
        private final long id;
        private final long deadline;
        private final long period;
        private final Runnable task;

        Command(TimerQueue timers, long id, long deadline, long period, Runnable task) {
            this.timers = timers;
            this.id = id;
            this.deadline = deadline;
            this.period = period;
            this.task = task;
        }

        @Override
        public void run() {
            if (task == null) {
                timers.cancel(id);
            } else {
                timers.schedule(id, deadline, period, task);
            }
        }
    }
}
