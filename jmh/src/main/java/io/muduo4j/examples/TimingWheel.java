package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.TcpConnection;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * muduo's timing wheel for idle connections ({@code examples/idleconnection}): a circle of
 * buckets and one repeating timer per loop, instead of a timer per connection.
 *
 * <p>The wheel has {@code ticks + 1} buckets and a cursor that one loop timer advances every
 * {@code idle / ticks}. A connection's entry sits in the bucket that was current when it last
 * received bytes; {@link #touch} moves it to the current bucket (nothing moves when it is there
 * already, the common case for a busy connection). When the cursor comes round to a bucket
 * again, every entry still in it has been idle for more than {@code idle} (and at most one tick
 * more) and is expired. muduo keeps shared pointers in the buckets and expires a connection when
 * the last one drops; moving one entry per connection gives the same result with one entry each.
 *
 * <p>Loop thread only: one wheel per loop, for the connections of that loop.
 */
public final class TimingWheel implements AutoCloseable {
    /** One connection's place in the wheel. */
    public static final class Entry {
        final TcpConnection conn;
        int bucket;

        Entry(TcpConnection conn, int bucket) {
            this.conn = conn;
            this.bucket = bucket;
        }
    }

    private static final int EXPIRED = -1;

    private final EventLoop loop;
    private final List<Set<Entry>> buckets;
    private final Consumer<TcpConnection> onIdle;
    private final long timerId;
    private Set<Entry> spare = new HashSet<>();
    private int cursor;

    /**
     * A wheel on {@code loop}, ticking every {@code idleMillis / ticks}.
     *
     * @param loop the loop; the wheel is used on its thread only
     * @param idleMillis how long a connection may stay idle
     * @param ticks resolution: a connection is expired at most {@code idleMillis / ticks} late
     * @param onIdle runs for each expired connection, on the loop
     */
    public TimingWheel(EventLoop loop, long idleMillis, int ticks, Consumer<TcpConnection> onIdle) {
        if (idleMillis <= 0 || ticks <= 0 || idleMillis / ticks == 0) {
            throw new IllegalArgumentException("need idleMillis >= ticks > 0: " + idleMillis + ", " + ticks);
        }
        this.loop = loop;
        this.onIdle = onIdle;
        this.buckets = new ArrayList<>(ticks + 1);
        for (int i = 0; i <= ticks; i++) {
            buckets.add(new HashSet<>());
        }
        this.timerId = loop.runEvery(idleMillis / ticks, TimeUnit.MILLISECONDS, this::tick);
    }

    /**
     * Starts watching {@code conn}.
     *
     * @param conn a connection of this wheel's loop
     * @return its entry, for {@link #touch} and {@link #remove}
     */
    public Entry add(TcpConnection conn) {
        loop.assertInLoopThread();
        Entry e = new Entry(conn, cursor);
        buckets.get(cursor).add(e);
        return e;
    }

    /**
     * The connection was active: it moves to the current bucket.
     *
     * @param e its entry
     */
    public void touch(Entry e) {
        if (e.bucket != cursor && e.bucket != EXPIRED) {
            buckets.get(e.bucket).remove(e);
            e.bucket = cursor;
            buckets.get(cursor).add(e);
        }
    }

    /**
     * Stops watching (the connection went down).
     *
     * @param e its entry
     */
    public void remove(Entry e) {
        if (e.bucket != EXPIRED) {
            buckets.get(e.bucket).remove(e);
            e.bucket = EXPIRED;
        }
    }

    /** @return connections watched now */
    public int size() {
        int n = 0;
        for (Set<Entry> b : buckets) {
            n += b.size();
        }
        return n;
    }

    /** Advances the cursor and expires what the new current bucket still holds. */
    private void tick() {
        cursor = (cursor + 1) % buckets.size();
        Set<Entry> expired = buckets.get(cursor);
        buckets.set(cursor, spare); // onIdle may touch or remove entries: give it an empty bucket
        for (Entry e : expired) {
            e.bucket = EXPIRED;
            onIdle.accept(e.conn);
        }
        expired.clear();
        spare = expired;
    }

    /** Cancels the timer. Any thread while the loop runs. */
    @Override
    public void close() {
        loop.cancel(timerId);
    }
}
