package io.muduo4j.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The cross-thread task queue of one {@link EventLoop}, with the wake-up protocol that goes with
 * it. The policy (never drop, producers wait on a full queue, the loop thread overflows, another
 * loop's thread parks, rejection once the loop has ended) is the one the {@link EventLoop} class
 * comment states.
 *
 * <p>Threading: {@link #offerFromOtherThread}, {@link #wakeIfSleeping}, {@link #wakeupCount} and
 * {@link #parkedChanged} from any thread; everything else from the loop thread only. This class
 * checks nothing: the loop decides which offer a caller gets and calls the rest from its own
 * thread (or, for a loop closed before it was ever bound to one, from the closing thread).
 *
 * <p>Parked tasks ({@link ParkedTasks}): a running loop's thread that finds the shared queue full
 * does not wait, it parks the task for this loop, which runs it from its drain after the shared
 * queue's tasks. The count of parked tasks is one volatile word, so a producer with nothing parked
 * and a drain with nothing to take pay one read of it.
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
    private static final VarHandle PARKED;
    private static final ParkedTasks[] NONE = new ParkedTasks[0];

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            WAKE_STATE = l.findVarHandle(TaskQueue.class, "wakeState", int.class);
            SUBMITTERS = l.findVarHandle(TaskQueue.class, "submitters", int.class);
            WAKEUPS = l.findVarHandle(TaskQueue.class, "wakeups", long.class);
            PARKED = l.findVarHandle(TaskQueue.class, "parked", int.class);
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
    private volatile int parked; // tasks in the parked sets, counted before they are visible there
    private volatile ParkedTasks[] parkedSets = NONE; // one per producing loop; replaced under this
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
            loop.counters().addShared(LoopCounters.QUEUE_FULL, 1);
        }
        overflow.addLast(task);
    }

    /**
     * Any thread but the loop's: waits (yielding, and waking the loop so it drains) while the
     * shared queue is full, or parks the task when the caller runs another loop; throws
     * {@link RejectedExecutionException} once the loop has ended.
     */
    void offerFromOtherThread(Object task) {
        // Counted in before the termination check: the loop's final drain waits for every
        // producer that got past it, so an accepted task is never left behind.
        SUBMITTERS.getAndAdd(this, 1);
        try {
            if (loop.isTerminated()) {
                throw rejected();
            }
            // With nothing parked no producing loop has tasks here that this one could overtake.
            if (parked != 0 || !shared.offer(task)) {
                offerSlowly(task);
            }
        } finally {
            SUBMITTERS.getAndAdd(this, -1);
        }
        wakeIfSleeping();
    }

    /** The queue is full, or tasks are parked: a running loop's thread parks, any other waits. */
    private void offerSlowly(Object task) {
        loop.counters().addShared(LoopCounters.QUEUE_FULL, 1);
        EventLoop from = EventLoop.current();
        if (from != null && from.mustNotWait()) {
            park(from, task);
            return;
        }
        while (!shared.offer(task)) {
            wakeIfSleeping();
            Thread.yield();
            if (loop.isTerminated()) {
                throw rejected();
            }
        }
    }

    /**
     * On {@code from}'s thread, counted in as a submitter: into the shared queue only while
     * nothing of {@code from} is parked here, else parked behind what is.
     */
    private void park(EventLoop from, Object task) {
        while (true) {
            ParkedTasks set = parkedSetOf(from);
            if (set == null) {
                if (shared.offer(task)) {
                    return;
                }
                set = addParkedSet(from);
            }
            if (set.park(task, shared) != ParkedTasks.RETIRED) {
                return;
            }
            // Retired by this loop's drain (from is in its own final drain): the drain takes it
            // out of the list next, then a new set is made.
            Thread.onSpinWait();
        }
    }

    private ParkedTasks parkedSetOf(EventLoop producer) {
        for (ParkedTasks s : parkedSets) {
            if (s.producer == producer) {
                return s;
            }
        }
        return null;
    }

    private synchronized ParkedTasks addParkedSet(EventLoop producer) {
        ParkedTasks s = parkedSetOf(producer);
        if (s == null) {
            ParkedTasks[] old = parkedSets;
            ParkedTasks[] sets = Arrays.copyOf(old, old.length + 1);
            s = new ParkedTasks(producer, this);
            sets[old.length] = s;
            parkedSets = sets;
        }
        return s;
    }

    private synchronized void removeParkedSet(ParkedTasks s) {
        ParkedTasks[] old = parkedSets;
        ParkedTasks[] sets = new ParkedTasks[old.length - 1];
        int j = 0;
        for (ParkedTasks p : old) {
            if (p != s) {
                sets[j++] = p;
            }
        }
        parkedSets = sets;
    }

    /** Any thread, under a parked set's monitor: the count of parked tasks changed by {@code delta}. */
    void parkedChanged(int delta) {
        PARKED.getAndAdd(this, delta);
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

    /** Loop thread: whether a task waits, in either queue or parked by another loop. */
    boolean hasPending() {
        return !shared.isEmpty() || !overflow.isEmpty() || parked != 0;
    }

    /** Loop thread: whether this loop is running its final drain (its tasks may still post). */
    boolean inFinalDrain() {
        return finalDrain;
    }

    /**
     * Runs the tasks queued when it began (shared queue first, then the tasks other loops parked,
     * then the overflow); returns how many. Loop thread.
     */
    int drain() {
        // Counted before anything runs: what the drained tasks queue waits for the next iteration,
        // and the loop thread's own tasks keep their order (those in the shared queue are older).
        int extra = overflow.size();
        int n = 0;
        if (!shared.isEmpty()) {
            int size = shared.size();
            loop.counters().max(LoopCounters.QUEUE_HIGH_WATER, size);
            n = shared.drain(runner, size);
        }
        if (parked != 0) {
            n += runParked();
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
     * Runs, per producing loop, the tasks it had parked when their turn came, oldest first, each
     * taken off before it runs; retires the empty set of a loop that has ended.
     */
    private int runParked() {
        long removed = shared.removedCount();
        int n = 0;
        for (ParkedTasks s : parkedSets) {
            int ready = s.ready(removed);
            for (int i = 0; i < ready; i++) {
                loop.runTask(s.take());
            }
            n += ready;
            if (ready == 0 && s.producer.isTerminated() && s.retireIfEmpty()) {
                removeParkedSet(s);
            }
        }
        return n;
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
     * Tasks waiting: the shared queue's and the parked ones (approximate off the loop thread), plus
     * the overflow's when {@code onLoopThread} (it is the loop thread's own, unsafe to read elsewhere).
     */
    int size(boolean onLoopThread) {
        return shared.size() + parked + (onLoopThread ? overflow.size() : 0);
    }

    /** Any thread: how many times a producer paid a poller wake-up. */
    long wakeupCount() {
        return wakeups;
    }
}
