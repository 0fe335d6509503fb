package io.muduo4j.net;

/**
 * A snapshot of one loop's counters, or the sum of several loops' ({@link #add}), filled by
 * {@link EventLoop#metrics(LoopMetrics)} or {@link TcpServer#metrics(LoopMetrics)}: what an
 * Inspector page or a metrics exporter reads. Reading allocates nothing: the caller keeps one
 * snapshot and refills it.
 *
 * <p>Threading: a loop's counters may be read from any thread. Each value is whole and counts
 * from the loop's creation, but values read from another thread while the loop runs may lag a
 * little behind one another (they are not one atomic snapshot). A snapshot object itself is not
 * thread-safe: one thread fills and reads it.
 *
 * <p>Where a figure is counted: bytes and reads in, bytes and writes out, connections opened and
 * closed on the loop that runs the connections (a server's I/O loops); accepted connections on the
 * loop that accepts (a server's base loop); failed connects on a client's loop.
 */
public final class LoopMetrics {
    private int loops;
    private long elapsedNanos;
    private long idleNanos;
    private long iterations;
    private long tasks;
    private long timers;
    private long queueHighWater;
    private long queueFull;
    private long wakeups;
    private long opened;
    private long closed;
    private long accepted;
    private long connectFailures;
    private long bytesIn;
    private long reads;
    private long bytesOut;
    private long writes;
    private long stalls;

    /** An empty snapshot. */
    public LoopMetrics() {
    }

    /**
     * Clears this snapshot (no loops in it).
     *
     * @return this
     */
    public LoopMetrics clear() {
        loops = 0;
        elapsedNanos = idleNanos = iterations = tasks = timers = queueHighWater = queueFull = wakeups = 0;
        opened = closed = accepted = connectFailures = bytesIn = reads = bytesOut = writes = stalls = 0;
        return this;
    }

    /** Adds one loop's counters (the loop's fill path). */
    void add(LoopCounters c, long wakeupCount, long now) {
        loops++;
        elapsedNanos += now - c.startNanos;
        idleNanos += c.get(LoopCounters.IDLE_NANOS);
        iterations += c.get(LoopCounters.ITERATIONS);
        tasks += c.get(LoopCounters.TASKS);
        timers += c.get(LoopCounters.TIMERS);
        queueHighWater = Math.max(queueHighWater, c.get(LoopCounters.QUEUE_HIGH_WATER));
        queueFull += c.getShared(LoopCounters.QUEUE_FULL);
        wakeups += wakeupCount;
        // Closed first: read the other way round, a connection closed between the reads would
        // count as closed but not opened, and the open count could go below zero.
        closed += c.get(LoopCounters.CLOSED);
        opened += c.get(LoopCounters.OPENED);
        accepted += c.get(LoopCounters.ACCEPTED);
        connectFailures += c.get(LoopCounters.CONNECT_FAILURES);
        bytesIn += c.get(LoopCounters.BYTES_IN);
        reads += c.get(LoopCounters.READS);
        bytesOut += c.get(LoopCounters.BYTES_OUT) + c.getShared(LoopCounters.DIRECT_BYTES_OUT);
        writes += c.get(LoopCounters.WRITES) + c.getShared(LoopCounters.DIRECT_WRITES);
        stalls += c.getShared(LoopCounters.STALLS);
    }

    /**
     * Adds another snapshot to this one (sums; the queue high-water is the higher of the two).
     *
     * @param other the snapshot to add
     * @return this
     */
    public LoopMetrics add(LoopMetrics other) {
        loops += other.loops;
        elapsedNanos += other.elapsedNanos;
        idleNanos += other.idleNanos;
        iterations += other.iterations;
        tasks += other.tasks;
        timers += other.timers;
        queueHighWater = Math.max(queueHighWater, other.queueHighWater);
        queueFull += other.queueFull;
        wakeups += other.wakeups;
        opened += other.opened;
        closed += other.closed;
        accepted += other.accepted;
        connectFailures += other.connectFailures;
        bytesIn += other.bytesIn;
        reads += other.reads;
        bytesOut += other.bytesOut;
        writes += other.writes;
        stalls += other.stalls;
        return this;
    }

    /**
     * How many loops this snapshot sums.
     *
     * @return how many loops this snapshot sums
     */
    public int loops() {
        return loops;
    }

    /**
     * Nanoseconds since the loops were created, summed over the loops.
     *
     * @return nanoseconds since the loops were created, summed over the loops
     */
    public long elapsedNanos() {
        return elapsedNanos;
    }

    /**
     * Time spent waiting: blocked in the poller (blocking mode) or in the idle strategy after an
     * iteration without work (spinning mode and an Agrona agent's runner do their own idling and
     * are not seen), summed over the loops.
     *
     * @return idle nanoseconds
     */
    public long idleNanos() {
        return idleNanos;
    }

    /**
     * {@link #elapsedNanos()} less {@link #idleNanos()}: running, or not yet started.
     *
     * @return {@link #elapsedNanos()} less {@link #idleNanos()}: running, or not yet started
     */
    public long busyNanos() {
        return elapsedNanos - idleNanos;
    }

    /**
     * Busy time over elapsed time, 0 to 1 (0 when nothing elapsed).
     *
     * @return busy time over elapsed time, 0 to 1 (0 when nothing elapsed)
     */
    public double utilization() {
        return elapsedNanos <= 0 ? 0 : (double) busyNanos() / elapsedNanos;
    }

    /**
     * Loop iterations (poll, timers, tasks).
     *
     * @return loop iterations (poll, timers, tasks)
     */
    public long iterations() {
        return iterations;
    }

    /**
     * Tasks run (queued with runInLoop/queueInLoop/execute, and the library's own).
     *
     * @return tasks run (queued with runInLoop/queueInLoop/execute, and the library's own)
     */
    public long tasks() {
        return tasks;
    }

    /**
     * Timer callbacks run.
     *
     * @return timer callbacks run
     */
    public long timers() {
        return timers;
    }

    /**
     * The most tasks found in the shared queue at the start of a drain.
     *
     * @return the most tasks found in the shared queue at the start of a drain
     */
    public long queueHighWater() {
        return queueHighWater;
    }

    /**
     * Submissions from other threads that found the shared task queue full (and waited or parked).
     *
     * @return submissions from other threads that found the shared task queue full (and waited or parked)
     */
    public long queueFull() {
        return queueFull;
    }

    /**
     * Poller wake-ups paid by producers that found the loop asleep.
     *
     * @return poller wake-ups paid by producers that found the loop asleep
     */
    public long wakeups() {
        return wakeups;
    }

    /**
     * Connections open now (established and not yet closed).
     *
     * @return connections open now (established and not yet closed)
     */
    public long connectionsOpen() {
        return opened - closed;
    }

    /**
     * Connections established on these loops since they were created.
     *
     * @return connections established on these loops since they were created
     */
    public long connectionsOpened() {
        return opened;
    }

    /**
     * Connections closed.
     *
     * @return connections closed
     */
    public long connectionsClosed() {
        return closed;
    }

    /**
     * Connections accepted.
     *
     * @return connections accepted
     */
    public long accepted() {
        return accepted;
    }

    /**
     * Connect attempts that failed (each retry counts).
     *
     * @return connect attempts that failed (each retry counts)
     */
    public long connectFailures() {
        return connectFailures;
    }

    /**
     * Bytes read from sockets.
     *
     * @return bytes read from sockets
     */
    public long bytesIn() {
        return bytesIn;
    }

    /**
     * Reads that delivered bytes to a message callback.
     *
     * @return reads that delivered bytes to a message callback
     */
    public long reads() {
        return reads;
    }

    /**
     * Bytes written to sockets, by the loop and by senders' direct writes.
     *
     * @return bytes written to sockets, by the loop and by senders' direct writes
     */
    public long bytesOut() {
        return bytesOut;
    }

    /**
     * Socket writes that wrote at least a byte, by the loop and by senders' direct writes.
     *
     * @return socket writes that wrote at least a byte, by the loop and by senders' direct writes
     */
    public long writes() {
        return writes;
    }

    /**
     * Stalls reported by the stall detector (see {@link EventLoopOptions#stallThreshold}).
     *
     * @return stalls reported by the stall detector (see {@link EventLoopOptions#stallThreshold})
     */
    public long stalls() {
        return stalls;
    }

    @Override
    public String toString() {
        return "LoopMetrics[loops=" + loops + ", utilization=" + String.format("%.3f", utilization())
                + ", iterations=" + iterations + ", tasks=" + tasks + ", timers=" + timers
                + ", queueHighWater=" + queueHighWater + ", queueFull=" + queueFull + ", wakeups=" + wakeups
                + ", connectionsOpen=" + connectionsOpen() + ", opened=" + opened + ", closed=" + closed
                + ", accepted=" + accepted + ", connectFailures=" + connectFailures + ", bytesIn=" + bytesIn
                + ", reads=" + reads + ", bytesOut=" + bytesOut + ", writes=" + writes + ", stalls=" + stalls + "]";
    }
}
