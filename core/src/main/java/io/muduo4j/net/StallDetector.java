package io.muduo4j.net;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Finds loops held by one iteration longer than their bound: a task, timer or callback that
 * blocks or runs long. One daemon thread for the JVM, started by the first loop that asks for
 * detection ({@link EventLoopOptions#stallThreshold}); a loop without it is never looked at and
 * pays nothing.
 *
 * <p>How: every quarter of the smallest bound (1 ms to 100 ms) the thread reads each watched loop's
 * iteration count and whether its poller is waiting in the kernel. A loop that is not waiting and
 * has not finished an iteration since a check at least its bound ago is stalled; its thread's
 * stack is sampled then, and the stall is reported once, with how long it has lasted so far
 * (which the sampling period may understate by up to a period). The loop thread writes nothing
 * for this beyond what it writes anyway (its iteration count, the poller's waiting flag).
 *
 * <p>Threading: {@link #watch} and {@link #unwatch} from the loop thread, at start and end;
 * everything else, including the handlers, runs on the detector's thread.
 */
final class StallDetector implements Runnable {
    private static final System.Logger LOG = System.getLogger(StallDetector.class.getName());
    private static final long MIN_PERIOD_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_PERIOD_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long IDLE_PARK_NS = TimeUnit.SECONDS.toNanos(1);

    private static final class Holder {
        static final StallDetector INSTANCE = start();
    }

    /** One watched loop; its fields after the constructor's belong to the detector's thread. */
    static final class Watch {
        final EventLoop loop;
        final Thread thread;
        final long thresholdNs;
        final EventLoop.StallHandler handler;
        private long seenIteration = -1;
        private long since;
        private boolean reported;
        /** Checks of this loop so far (the detector's thread writes, tests read). */
        volatile long checks;

        Watch(EventLoop loop, Thread thread, long thresholdNs, EventLoop.StallHandler handler) {
            this.loop = loop;
            this.thread = thread;
            this.thresholdNs = thresholdNs;
            this.handler = handler;
        }

        void check(long now) {
            long it = loop.iterations();
            if (it != seenIteration || loop.poller().isWaiting()) {
                seenIteration = it;
                since = now;
                reported = false;
            } else if (!reported && now - since >= thresholdNs) {
                reported = true;
                StackTraceElement[] stack = thread.getStackTrace();
                // Read again after the sample: an iteration that ended meanwhile was no stall at that stack.
                if (loop.iterations() == it) {
                    loop.counters().addShared(LoopCounters.STALLS, 1);
                    report(now - since, stack);
                }
            }
            checks = checks + 1;
        }

        private void report(long stalledNs, StackTraceElement[] stack) {
            try {
                handler.onStall(loop, stalledNs, stack);
            } catch (Throwable t) {
                LoopErrors.rethrowIfFatal(t);
                LOG.log(System.Logger.Level.ERROR, "stall handler of event loop " + loop.name() + " threw", t);
            }
        }
    }

    private final CopyOnWriteArrayList<Watch> watches = new CopyOnWriteArrayList<>();
    private volatile Thread thread;

    private StallDetector() {
    }

    private static StallDetector start() {
        StallDetector d = new StallDetector();
        Thread t = new Thread(d, "muduo4j-stall-detector");
        t.setDaemon(true);
        d.thread = t;
        t.start();
        return d;
    }

    /** Loop thread, as the loop starts: watches it until {@link #unwatch}. */
    static Watch watch(EventLoop loop, long thresholdNs, EventLoop.StallHandler handler) {
        StallDetector d = Holder.INSTANCE;
        Watch w = new Watch(loop, Thread.currentThread(), thresholdNs, handler);
        d.watches.add(w);
        LockSupport.unpark(d.thread); // it may be parked for long with nothing to watch
        return w;
    }

    /** Loop thread, as the loop ends. */
    static void unwatch(Watch w) {
        Holder.INSTANCE.watches.remove(w);
    }

    @Override
    public void run() {
        while (true) {
            long period = IDLE_PARK_NS;
            for (Watch w : watches) {
                period = Math.min(period, Math.max(MIN_PERIOD_NS, Math.min(MAX_PERIOD_NS, w.thresholdNs / 4)));
            }
            LockSupport.parkNanos(this, period);
            long now = System.nanoTime();
            for (Watch w : watches) {
                try {
                    w.check(now);
                } catch (Throwable t) {
                    LoopErrors.rethrowIfFatal(t);
                    LOG.log(System.Logger.Level.ERROR, "stall check of event loop " + w.loop.name() + " failed", t);
                }
            }
        }
    }

    /** The default handler: a warning with the loop's name, the duration and the stack. */
    static void log(EventLoop loop, long stalledNs, StackTraceElement[] stack) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("event loop ").append(loop.name()).append(" stalled: one iteration has run for ")
                .append(TimeUnit.NANOSECONDS.toMillis(stalledNs)).append(" ms, in:");
        for (StackTraceElement e : stack) {
            sb.append("\n\tat ").append(e);
        }
        LOG.log(System.Logger.Level.WARNING, sb.toString());
    }
}
