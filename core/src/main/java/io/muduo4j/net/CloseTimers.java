package io.muduo4j.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import io.muduo4j.net.TcpConnection.State;

/**
 * The timers of one connection's close: the close-flush timeout's progress check (this object is
 * its task) and the delayed close of {@link TcpConnection#forceCloseWithDelay}. Made on the first
 * close that arms one; most connections never do, so the connection pays a reference for them.
 * The delayed close is tracked so that a connection which closes before the delay is over cancels
 * it, instead of leaving a timer that holds the closed connection for the rest of the delay.
 *
 * <p>Threading: {@link #armDelayed} on any thread; everything else on the connection's loop.
 */
final class CloseTimers implements Runnable {
    private static final VarHandle DELAYED;
    private static final long ARMING = -1;

    static {
        try {
            DELAYED = MethodHandles.lookup().findVarHandle(CloseTimers.class, "delayed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ConnectionLifecycle conn;
    // The delayed close: 0 for none, ARMING while a caller schedules it, else its timer's id.
    // Whoever takes the id (back to 0) is the one who cancels it.
    private volatile long delayed;

    CloseTimers(ConnectionLifecycle conn) {
        this.conn = conn;
    }

    /** The close-flush timeout's check. Loop thread. */
    @Override
    public void run() {
        conn.checkFlushProgress();
    }

    /**
     * Arms the delayed close, unless one is armed already (that one's delay stands). Nothing is
     * armed once the loop has ended: nothing could run there. Any thread.
     */
    void armDelayed(long delay, TimeUnit unit) {
        if (!DELAYED.compareAndSet(this, 0L, ARMING)) {
            return;
        }
        long id;
        try {
            id = conn.loop.runAfter(delay, unit, this::delayOver);
        } catch (RejectedExecutionException e) {
            DELAYED.compareAndSet(this, ARMING, 0L);
            return;
        }
        // The close may have run meanwhile. It writes the state, then looks here; this thread
        // writes here, then looks at the state: one of the two sees the other and cancels.
        if (!DELAYED.compareAndSet(this, ARMING, id)
                || (conn.state == State.DISCONNECTED && DELAYED.compareAndSet(this, id, 0L))) {
            cancel(id);
        }
    }

    /** The delay is over: closes, dropping unsent output. Loop thread. */
    private void delayOver() {
        long t = delayed;
        if (t > 0) {
            DELAYED.compareAndSet(this, t, 0L); // this timer's own id: one is armed at a time
        }
        conn.forceCloseInLoop();
    }

    /** The connection closed: the delayed close has nothing left to do. Loop thread. */
    void cancelDelayed() {
        if (delayed != 0) {
            long t = (long) DELAYED.getAndSet(this, 0L);
            if (t > 0) {
                conn.loop.cancel(t); // ARMING instead: the arming thread finds it taken, cancels its own
            }
        }
    }

    private void cancel(long id) {
        try {
            conn.loop.cancel(id);
        } catch (RejectedExecutionException e) {
            // The loop has ended: its timers never run.
        }
    }
}
