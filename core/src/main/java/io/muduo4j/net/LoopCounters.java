package io.muduo4j.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The live counters behind {@link LoopMetrics}: one per loop. The loop thread is the only writer
 * of {@link #own} (a plain read of its last value, an opaque store: on x86 two plain moves, no
 * fence), so counting costs the hot path no atomic; other threads read with opaque loads, which
 * see each value whole, maybe a little late. What other threads count (a producer that found the
 * task queue full, a sender's direct write) goes to {@link #shared} with atomic adds, on other
 * cache lines than the loop's.
 */
final class LoopCounters {
    static final int ITERATIONS = 0;
    static final int IDLE_NANOS = 1;
    static final int TASKS = 2;
    static final int TIMERS = 3;
    static final int QUEUE_HIGH_WATER = 4;
    static final int OPENED = 5;
    static final int CLOSED = 6;
    static final int ACCEPTED = 7;
    static final int CONNECT_FAILURES = 8;
    static final int BYTES_IN = 9;
    static final int READS = 10;
    static final int BYTES_OUT = 11;
    static final int WRITES = 12;
    private static final int OWN = 13;

    /** Indices into {@link #shared}, each on a cache line of its own (8 longs apart, past a line of padding). */
    static final int QUEUE_FULL = 8;
    static final int DIRECT_BYTES_OUT = 16;
    static final int DIRECT_WRITES = 24;
    static final int STALLS = 32;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] own = new long[OWN];
    private final long[] shared = new long[40];
    final long startNanos = System.nanoTime();

    /** Loop thread. */
    void add(int counter, long n) {
        SLOT.setOpaque(own, counter, own[counter] + n);
    }

    /** Loop thread. */
    void increment(int counter) {
        SLOT.setOpaque(own, counter, own[counter] + 1);
    }

    /** Loop thread: raises {@code counter} to {@code value} if it is higher. */
    void max(int counter, long value) {
        if (value > own[counter]) {
            SLOT.setOpaque(own, counter, value);
        }
    }

    /** Any thread but the loop's. */
    void addShared(int counter, long n) {
        SLOT.getAndAdd(shared, counter, n);
    }

    /** Any thread. */
    long get(int counter) {
        return (long) SLOT.getOpaque(own, counter);
    }

    /** Any thread. */
    long getShared(int counter) {
        return (long) SLOT.getOpaque(shared, counter);
    }
}
