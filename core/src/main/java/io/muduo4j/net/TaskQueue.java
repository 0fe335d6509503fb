package io.muduo4j.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The cross-thread task queue of one {@link EventLoop}, with the wake-up protocol that goes with
 * it. The policy (never drop, producers wait on a full queue, the loop thread overflows, rejection
 * once the loop has ended) is the one the {@link EventLoop} class comment states.
 *
 * <p>Threading: {@link #offerFromOtherThread}, {@link #wakeIfSleeping} and {@link #wakeupCount}
 * from any thread; everything else from the loop thread only. This class checks nothing: the
 * loop decides which offer a caller gets and calls the rest from its own thread (or, for a
 * loop closed before it was ever bound to one, from the closing thread).
 *
 * <p>The wake-up state word: the loop publishes {@code SLEEPING} before its last look at the queue
 * and a blocking poll; a producer offers and then reads the word. Both are volatile accesses, so
 * one of the two always sees the other, and of several producers the one whose compare-and-set
 * wins pays the only wake-up.
 */
final class TaskQueue {
    private static final int AWAKE = 0;
    private static final int SLEEPING = 1;

    private static final VarHandle WAKE_STATE;
    private static final VarHandle SUBMITTERS;
    private static final VarHandle WAKEUPS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WAKE_STATE = l.findVarHandle(TaskQueue.class, "wakeState", int.class);
            SUBMITTERS = l.findVarHandle(TaskQueue.class, "submitters", int.class);
            WAKEUPS = l.findVarHandle(TaskQueue.class, "wakeups", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    // Elements are Runnables, or connections whose commands are due (see EventLoop.runTask): a
    // connection queues itself, so posting its commands needs no task object of its own.
    private final ManyToOneConcurrentArrayQueue<Object> shared;
    private final ArrayDeque<Object> overflow = new ArrayDeque<>();
    private final Consumer<Object> runner;

    private volatile int wakeState = AWAKE;
    private volatile int submitters;
    private volatile long wakeups;
    private boolean finalDrain;
    private long ownSharedMark; // the shared queue's tail after the loop thread's last own offer to it
    private long overflowBarrier; // overflow runs once the shared queue's head has passed this

    /**
     * Made before the loop opens its poller (so a failure here leaves no poller open), which is
     * why the poller is looked up on the loop at each wake-up rather than held.
     *
     * @param loop     the owner: its termination state decides rejection, its {@code runTask} runs
     *                 each task, its poller is woken when a producer finds it asleep
     * @param capacity the shared queue's capacity (Agrona rounds it up to a power of two)
     */
    TaskQueue(EventLoop loop, int capacity) {
        this.loop = loop;
        this.shared = new ManyToOneConcurrentArrayQueue<>(capacity);
        this.runner = loop::runTask;
    }

    /** Loop thread: never waits; a full shared queue sends the task to the overflow queue. */
    void offerFromLoop(Object task) {
        if (loop.isTerminated() && !finalDrain) {
            throw rejected();
        }
        if (overflow.isEmpty()) {
            if (shared.offer(task)) {
                ownSharedMark = shared.addedCount();
                return;
            }
            // Own tasks still in the shared queue go first, even when a drain stops early at
            // a slot a producer has claimed but not filled yet.
            overflowBarrier = ownSharedMark;
        }
        overflow.addLast(task);
    }

    /**
     * Any thread but the loop's: waits (yielding, and waking the loop so it drains) while the
     * shared queue is full; throws {@link RejectedExecutionException} once the loop has ended.
     */
    void offerFromOtherThread(Object task) {
        // Counted in before the termination check: the loop's final drain waits for every
        // producer that got past it, so an accepted task is never left behind.
        SUBMITTERS.getAndAdd(this, 1);
        try {
            if (loop.isTerminated()) {
                throw rejected();
            }
            while (!shared.offer(task)) {
                wakeIfSleeping();
                Thread.yield();
                if (loop.isTerminated()) {
                    throw rejected();
                }
            }
        } finally {
            SUBMITTERS.getAndAdd(this, -1);
        }
        wakeIfSleeping();
    }

    private RejectedExecutionException rejected() {
        return new RejectedExecutionException("event loop " + loop.name() + " has terminated; task refused");
    }

    /** Any thread: wakes the loop's poller if the loop is asleep in it, at most once per sleep. */
    void wakeIfSleeping() {
        if (wakeState == SLEEPING && WAKE_STATE.compareAndSet(this, SLEEPING, AWAKE)) {
            WAKEUPS.getAndAdd(this, 1L);
            loop.poller().wakeup();
        }
    }

    /**
     * Loop thread, just before its last look at the queue ahead of a blocking poll. The caller
     * must call {@link #markAwake()} after that poll, or at once if the look found work.
     */
    void markSleeping() {
        wakeState = SLEEPING;
    }

    /** Loop thread: ends what {@link #markSleeping()} began (a producer may have done it already). */
    void markAwake() {
        wakeState = AWAKE;
    }

    /** Loop thread: whether a task waits, in either queue. */
    boolean hasPending() {
        return !shared.isEmpty() || !overflow.isEmpty();
    }

    /**
     * Runs the tasks queued when it began (shared queue first, then the overflow); returns how many.
     * Loop thread.
     */
    int drain() {
        // Counted before anything runs: what the drained tasks queue waits for the next iteration,
        // and the loop thread's own tasks keep their order (those in the shared queue are older).
        int extra = overflow.size();
        int n = 0;
        if (!shared.isEmpty()) {
            n = shared.drain(runner, shared.size());
        }
        if (extra > 0 && shared.removedCount() < overflowBarrier) {
            extra = 0; // an own task queued before them is still in the shared queue
        }
        for (int i = 0; i < extra; i++) {
            loop.runTask(overflow.poll());
        }
        return n + extra;
    }

    /**
     * Loop thread, once the loop is terminated (so producers are being refused): runs every task
     * accepted before that, waiting for producers caught between their check and their offer.
     * Tasks those tasks queue from the loop thread are accepted and run too.
     */
    void drainAfterTermination() {
        finalDrain = true;
        try {
            while (submitters != 0 || hasPending()) {
                if (drain() == 0) {
                    Thread.onSpinWait();
                }
            }
        } finally {
            finalDrain = false;
        }
    }

    /**
     * Tasks waiting: the shared queue's (approximate off the loop thread), plus the overflow's
     * when {@code onLoopThread} (it is the loop thread's own, unsafe to read elsewhere).
     */
    int size(boolean onLoopThread) {
        return shared.size() + (onLoopThread ? overflow.size() : 0);
    }

    /** Any thread: how many times a producer paid a poller wake-up. */
    long wakeupCount() {
        return wakeups;
    }
}
