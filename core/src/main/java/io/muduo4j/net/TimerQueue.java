package io.muduo4j.net;

import java.util.Arrays;
import org.agrona.collections.Long2LongHashMap;

/**
 * The timers of one loop: a binary min-heap of deadlines over parallel primitive arrays, with a
 * free list of slots and an id-to-slot map. Loop thread only.
 *
 * <p>Why not Agrona's {@code DeadlineTimerWheel}: the loop needs the exact earliest deadline to
 * size its select timeout, timer ids must be minted before the timer reaches the loop (calls from
 * other threads return at once), and a wheel's tick quantises deadlines. A heap gives exact
 * deadlines and O(log n) insert/cancel with nothing allocated once its arrays have grown.
 * Measured against the wheel ({@code TimerStructureBenchmark} in {@code jmh/}, results in
 * {@code perf-results/timer-structure/}): schedule+fire costs the same (about 20 ns each), but the
 * wheel's schedule+cancel is 3-7 ns against the heap's 48-108 ns with 16-4096 timers pending. Both
 * are far below one system call of the loop, so the heap's exactness is kept; a loop that lives on
 * timer churn would want the wheel.
 *
 * <p>Period: 0 is a one-shot, &gt; 0 fixed rate (next deadline = previous deadline + period, so
 * there is no cumulative drift), &lt; 0 fixed delay of {@code -period} after the run ends.
 *
 * <p>Cancellation is exact: a timer cancelled by another timer's callback in the same expiry pass
 * does not run (muduo issue 668), because timers are taken off the heap one at a time, each only
 * when it is about to run; a repeating timer cancelled from its own callback is not re-armed.
 */
final class TimerQueue {
    private static final long NONE = -1L;
    /** {@code heapIndex} of a repeating timer that fired in the current pass and waits to be re-armed. */
    private static final int REARM_PENDING = -1;
    /** {@code heapIndex} of such a timer cancelled before the pass ended. */
    private static final int REARM_CANCELLED = -2;

    private long[] deadlines;
    private long[] periods;
    private long[] ids;
    private Runnable[] tasks;
    private int[] heapIndex;
    private int[] heap;
    private int size;
    private int[] freeSlots;
    private int freeCount;
    private int[] rearm;
    private int rearmCount;
    private final Long2LongHashMap idToSlot = new Long2LongHashMap(64, 0.6f, NONE);

    private long runningId;
    private boolean runningCancelled;

    TimerQueue(int initialCapacity) {
        int cap = Math.max(4, initialCapacity);
        deadlines = new long[cap];
        periods = new long[cap];
        ids = new long[cap];
        tasks = new Runnable[cap];
        heapIndex = new int[cap];
        heap = new int[cap];
        freeSlots = new int[cap];
        rearm = new int[cap];
        for (int i = 0; i < cap; i++) {
            freeSlots[i] = cap - 1 - i;
        }
        freeCount = cap;
    }

    int size() {
        return idToSlot.size();
    }

    void schedule(long id, long deadline, long period, Runnable task) {
        if (freeCount == 0) {
            grow();
        }
        int slot = freeSlots[--freeCount];
        deadlines[slot] = deadline;
        periods[slot] = period;
        ids[slot] = id;
        tasks[slot] = task;
        idToSlot.put(id, slot);
        push(slot);
    }

    /** Returns true if the timer was pending (or running) and will not run (again). */
    boolean cancel(long id) {
        long s = idToSlot.get(id);
        if (s == NONE) {
            return false;
        }
        if (id == runningId) {
            runningCancelled = true;
            return true;
        }
        int slot = (int) s;
        int at = heapIndex[slot];
        if (at < 0) {
            heapIndex[slot] = REARM_CANCELLED;
            return true;
        }
        removeAt(at);
        release(slot);
        return true;
    }

    /** The earliest deadline, or {@link Long#MAX_VALUE} when no timer is pending. */
    long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : deadlines[heap[0]];
    }

    /**
     * Runs every timer due at {@code now}, earliest first. A repeating timer that is behind runs
     * once per pass: it goes back on the heap only when the pass ends, so it can starve neither
     * the other due timers nor I/O (the pass is also bounded by the number of timers at its start,
     * against callbacks that keep scheduling due timers).
     */
    int expire(long now, EventLoop loop) {
        int fired = 0;
        int budget = size;
        try {
            while (size > 0 && budget-- > 0) {
                int slot = heap[0];
                if (deadlines[slot] - now > 0) {
                    break;
                }
                removeAt(0);
                long id = ids[slot];
                runningId = id;
                runningCancelled = false;
                loop.runTask(tasks[slot]);
                runningId = 0;
                fired++;
                long period = periods[slot];
                if (period != 0 && !runningCancelled) {
                    deadlines[slot] = period > 0 ? deadlines[slot] + period : System.nanoTime() - period;
                    heapIndex[slot] = REARM_PENDING;
                    rearm[rearmCount++] = slot;
                } else {
                    release(slot);
                }
            }
        } finally {
            for (int i = 0; i < rearmCount; i++) {
                int slot = rearm[i];
                if (heapIndex[slot] == REARM_PENDING) {
                    push(slot);
                } else {
                    release(slot);
                }
            }
            rearmCount = 0;
        }
        return fired;
    }

    /** Drops every timer (the loop is ending). */
    void clear() {
        for (int i = 0; i < size; i++) {
            int slot = heap[i];
            tasks[slot] = null;
            freeSlots[freeCount++] = slot;
        }
        size = 0;
        idToSlot.clear();
    }

    private void release(int slot) {
        idToSlot.remove(ids[slot]);
        tasks[slot] = null;
        freeSlots[freeCount++] = slot;
    }

    private void grow() {
        int old = deadlines.length;
        int cap = old * 2;
        deadlines = Arrays.copyOf(deadlines, cap);
        periods = Arrays.copyOf(periods, cap);
        ids = Arrays.copyOf(ids, cap);
        tasks = Arrays.copyOf(tasks, cap);
        heapIndex = Arrays.copyOf(heapIndex, cap);
        heap = Arrays.copyOf(heap, cap);
        freeSlots = Arrays.copyOf(freeSlots, cap);
        rearm = Arrays.copyOf(rearm, cap);
        for (int i = cap - 1; i >= old; i--) {
            freeSlots[freeCount++] = i;
        }
    }

    private void push(int slot) {
        int i = size++;
        heap[i] = slot;
        heapIndex[slot] = i;
        siftUp(i);
    }

    private void removeAt(int i) {
        int last = --size;
        if (i != last) {
            int moved = heap[last];
            heap[i] = moved;
            heapIndex[moved] = i;
            siftDown(i);
            if (heap[i] == moved) {
                siftUp(i);
            }
        }
    }

    private boolean less(int a, int b) {
        long d = deadlines[a] - deadlines[b];
        return d < 0 || (d == 0 && ids[a] < ids[b]);
    }

    private void siftUp(int i) {
        int slot = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            int p = heap[parent];
            if (!less(slot, p)) {
                break;
            }
            heap[i] = p;
            heapIndex[p] = i;
            i = parent;
        }
        heap[i] = slot;
        heapIndex[slot] = i;
    }

    private void siftDown(int i) {
        int slot = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int c = heap[child];
            int right = child + 1;
            if (right < size && less(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!less(c, slot)) {
                break;
            }
            heap[i] = c;
            heapIndex[c] = i;
            i = child;
        }
        heap[i] = slot;
        heapIndex[slot] = i;
    }
}
