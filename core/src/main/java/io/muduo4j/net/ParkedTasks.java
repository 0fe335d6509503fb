package io.muduo4j.net;

import java.util.ArrayDeque;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The tasks one running loop (the producer) posted to another loop (the target) while the target's
 * shared queue was full: parked here instead of waiting for room, because a loop thread that waits
 * for another loop can wait for a loop that waits for it. The target runs them itself, from its
 * drain, so nothing depends on the producer coming back to deliver them (it may be held in a task,
 * or blocked on the target). One per (producer, target) pair, kept by the target's
 * {@link TaskQueue}.
 *
 * <p>Order: once tasks are parked, the producer's later posts to the target are parked behind them,
 * never put into the shared queue ahead of them; and the target runs them only after the shared
 * queue's head has passed the {@linkplain #ready barrier}, the tail as it was when the first of them
 * was parked, so the producer's earlier posts into the shared queue run first. A parked task is
 * taken off and run before the target looks at the shared queue again, so a post the producer puts
 * into the shared queue once this is empty runs after it.
 *
 * <p>Threading: {@link #park} on the producer's loop thread, {@link #ready}, {@link #take} and
 * {@link #retireIfEmpty} on the target's; all under this object's monitor, held for the step
 * only (no task runs under it, so neither thread ever waits for the other's work).
 */
final class ParkedTasks {
    /** {@link #park}: the task went into the shared queue after all (it had room, and nothing was parked). */
    static final int OFFERED = 0;
    /** {@link #park}: the task is parked. */
    static final int PARKED = 1;
    /** {@link #park}: this was retired; the producer must get a new one from the target. */
    static final int RETIRED = 2;

    final EventLoop producer;
    private final TaskQueue target;
    private final ArrayDeque<Object> tasks = new ArrayDeque<>();
    private long barrier;
    private boolean retired;

    ParkedTasks(EventLoop producer, TaskQueue target) {
        this.producer = producer;
        this.target = target;
    }

    /** Producer's loop thread: parks {@code task} unless nothing is parked and {@code shared} takes it now. */
    synchronized int park(Object task, ManyToOneConcurrentArrayQueue<Object> shared) {
        if (retired) {
            return RETIRED;
        }
        if (tasks.isEmpty()) {
            if (shared.offer(task)) {
                return OFFERED;
            }
            barrier = shared.addedCount();
        }
        // Counted before the task is visible, so the target's count is never below what is parked.
        target.parkedChanged(1);
        tasks.addLast(task);
        return PARKED;
    }

    /** Target: how many tasks may run now, given the shared queue's head {@code sharedRemoved}. */
    synchronized int ready(long sharedRemoved) {
        return sharedRemoved >= barrier ? tasks.size() : 0;
    }

    /** Target: the oldest parked task, taken off (only after {@link #ready} counted it). */
    synchronized Object take() {
        Object t = tasks.pollFirst();
        target.parkedChanged(-1);
        return t;
    }

    /** Target: retires this when it is empty (its producer has ended); true when it did. */
    synchronized boolean retireIfEmpty() {
        if (tasks.isEmpty()) {
            retired = true;
        }
        return retired;
    }
}
