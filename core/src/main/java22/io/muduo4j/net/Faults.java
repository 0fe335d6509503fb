package io.muduo4j.net;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The epoll transport's fault-injection seam: a test makes any of its system calls fail, once,
 * a number of times or until cleared, with any {@code errno}, on one thread or on all, and checks
 * the outcome (SQLite's and FoundationDB's way of reaching the error paths that a working kernel
 * never takes). A failed call is not made, except {@code close}, which Linux completes even when
 * it reports an error: the descriptor is closed and the error returned.
 *
 * <p>Off unless the system property {@code muduo4j.faults} is {@code true} when this class is
 * initialised: {@link #ENABLED} is then a constant false, and every {@code if (Faults.ENABLED)} in
 * {@link Syscalls} and {@link EpollCalls} is compiled away. The tests turn it on for the whole
 * suite, so the allocation tests run with the checks in place (they allocate nothing).
 *
 * <p>Threading: any thread; a plan set before a call on another thread is seen by it (the plans
 * are in an {@link AtomicReferenceArray}).
 */
final class Faults {
    /** The calls that can be made to fail. */
    enum Call {
        SOCKET, BIND, LISTEN, ACCEPT, CONNECT, GETSOCKOPT, SETSOCKOPT, GETSOCKNAME, GETPEERNAME,
        READ, READV, SEND, SENDMSG, SHUTDOWN, CLOSE, EPOLL_CTL, EPOLL_WAIT, EVENTFD_READ, EVENTFD_WRITE
    }

    static final boolean ENABLED = Boolean.getBoolean("muduo4j.faults");

    private static final AtomicReferenceArray<Plan> PLANS = new AtomicReferenceArray<>(Call.values().length);

    /** One call's failure: which errno, how many more times (-1: until cleared), on which thread (null: any). */
    private static final class Plan {
        final int errno;
        final AtomicInteger left;
        final Thread thread;
        final AtomicInteger hits = new AtomicInteger();

        Plan(int errno, int times, Thread thread) {
            this.errno = errno;
            this.left = new AtomicInteger(times);
            this.thread = thread;
        }
    }

    private Faults() {
    }

    /**
     * From now on, {@code call} fails with {@code errno} (positive) the next {@code times} times
     * ({@code -1}: until {@link #clear}), made by {@code thread} (null: by any thread).
     */
    static void fail(Call call, int errno, int times, Thread thread) {
        if (!ENABLED) {
            throw new IllegalStateException("fault injection is off: run with -Dmuduo4j.faults=true");
        }
        PLANS.set(call.ordinal(), new Plan(Math.abs(errno), times, thread));
    }

    /** How many calls the current plan for {@code call} has failed so far. */
    static int hits(Call call) {
        Plan p = PLANS.get(call.ordinal());
        return p == null ? 0 : p.hits.get();
    }

    /** Every call succeeds again. */
    static void clear() {
        for (int i = 0; i < PLANS.length(); i++) {
            PLANS.set(i, null);
        }
    }

    /** {@code -errno} when this call is to fail, else 0. Only called under {@code if (ENABLED)}. */
    static int inject(Call call) {
        Plan p = PLANS.get(call.ordinal());
        if (p == null || (p.thread != null && p.thread != Thread.currentThread())) {
            return 0;
        }
        AtomicInteger left = p.left;
        for (;;) {
            int n = left.get();
            if (n == 0) {
                return 0;
            }
            if (n < 0 || left.compareAndSet(n, n - 1)) {
                p.hits.incrementAndGet();
                return -p.errno;
            }
        }
    }
}
