package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The listening socket of a {@link TcpServer}, read in the server's base loop. Accepts each
 * connection, non-blocking, into an empty handle the new-connection handler gave it (for a server,
 * the connection itself, of the I/O loop it will live on) and hands it back; a handle that got no
 * connection is kept for the next one, so an accept costs no object beyond that handle.
 *
 * <p>How many per readiness event: accepting until {@code EAGAIN} costs one failing
 * {@code accept} per event, which for connections arriving one at a time is one system call in
 * every eighteen of a connection's life. So the acceptor takes one connection per event while they
 * arrive one at a time (the poller is level-triggered: a connection left pending makes the next
 * poll report the listener again), and every {@link #PROBE_EVERY}th event it accepts until
 * {@code EAGAIN}; when that finds more than one pending, it is a burst, and each event takes up to
 * {@link #MAX_ACCEPTS_PER_EVENT} until an event finds at most one.
 *
 * <h2>Accept failures</h2>
 * A failed {@code accept} leaves the pending connection in the backlog, which keeps the listener
 * readable: retried blindly, the loop would spin. What failed is told by what works next, never by
 * the exception's text:
 * <ol>
 *   <li>{@code accept} once more, the reserve untouched: a failure of that one connection (the
 *       peer aborted it, say) is over, and the next pending connection is taken as usual; no
 *       legitimate connection is closed for it.</li>
 *   <li>Failed again: close the descriptor held in reserve (on {@code /dev/null}, as muduo does)
 *       and {@code accept}. Success means descriptors ran out: that connection is closed at once
 *       (a polite refusal: the peer sees the close, not a hang) and the reserve is reopened.</li>
 *   <li>Failed even so, or no reserve could be (re)opened: stop reading the listener and resume
 *       after a back-off of {@link #MIN_PAUSE_MS} ms doubling to {@link #MAX_PAUSE_MS} ms, reset by
 *       the next connection accepted.</li>
 * </ol>
 * So each refused connection costs at most three {@code accept} calls, and a listener that keeps
 * failing is polled a bounded number of times per second. The loop neither spins nor dies, and
 * recovers when descriptors free up.
 *
 * <p>Logging: the first failure of a streak is logged once (WARNING, with the exception); the rest
 * of the streak is counted and summarised when it ends (the next connection accepted) and at most
 * once per {@link #SUMMARY_INTERVAL_SECONDS} s while it lasts, never a line per failure.
 *
 * <p>Threading: the constructor binds on the calling thread; everything else runs on the loop's
 * thread, except {@link #closeOffLoop()} once the loop has ended (its final drain over). The
 * counters are plain fields, exact on the loop thread.
 */
final class Acceptor {
    interface NewConnectionHandler {
        /**
         * An empty handle, of the loop the next connection will live on, to accept into. It may be
         * kept unused for as long as no connection is pending, and dropped unused when the
         * acceptor closes.
         */
        Pollable newHandle();

        /** {@code h}, a handle {@link #newHandle()} gave, holds a new accepted, non-blocking socket. */
        void onNewConnection(Pollable h);
    }

    /** The accept call, replaceable in tests to inject failures; the production path calls the poller directly. */
    @FunctionalInterface
    interface AcceptCall {
        boolean accept(Poller poller, Pollable listener, Pollable into) throws IOException;
    }

    static final int MAX_ACCEPTS_PER_EVENT = 64;
    static final int PROBE_EVERY = 8;
    static final long MIN_PAUSE_MS = 10;
    static final long MAX_PAUSE_MS = 1_000;
    static final long SUMMARY_INTERVAL_SECONDS = 10;
    private static final long SUMMARY_INTERVAL_NS = TimeUnit.SECONDS.toNanos(SUMMARY_INTERVAL_SECONDS);
    private static final System.Logger LOG = System.getLogger(Acceptor.class.getName());

    private final EventLoop loop;
    private final Poller poller;
    private final Channel channel;
    private final NewConnectionHandler handler;
    private final AcceptCall acceptCall; // null: the poller's accept itself
    private final Runnable resume = this::resume;
    private Pollable next; // where the next connection is accepted into
    private Object reserve;
    private boolean open = true;
    private boolean listening;
    private boolean paused;
    private long resumeTimer;
    private long pauseMs = MIN_PAUSE_MS;

    // the current failure streak
    private boolean failing;
    private long streakStartNanos;
    private long lastSummaryNanos;
    private long unloggedFailures;
    private long streakFailures;
    private long streakRefused;
    private long streakPauses;
    private IOException lastFailure;

    // counters (loop thread)
    private long readEvents;
    private boolean burst; // the last event that accepted until EAGAIN found more than one pending
    private int singleEvents; // events taken one connection at a time since the last probe
    private long acceptCalls;
    private long acceptFailures;
    private long refusedCount;
    private long pauseCount;
    private long logLines;
    private long lostLogLines;
    private Throwable lostLogCause;

    /** Binds and listens at once (so a taken port fails the caller), registers nothing yet. */
    Acceptor(EventLoop loop, InetSocketAddress addr, boolean reusePort, int backlog, NewConnectionHandler handler) {
        this(loop, addr, reusePort, backlog, handler, null);
    }

    /** As above, with {@code acceptCall} (null for the listener's own) in place of every {@code accept}. */
    Acceptor(EventLoop loop, InetSocketAddress addr, boolean reusePort, int backlog, NewConnectionHandler handler,
             AcceptCall acceptCall) {
        this.loop = loop;
        this.handler = handler;
        this.acceptCall = acceptCall;
        this.poller = loop.poller();
        channel = new Channel(loop);
        try {
            poller.listen(channel, addr, backlog, reusePort);
        } catch (IOException | UnsupportedOperationException e) {
            throw new UncheckedIOException("cannot listen on " + addr + ": " + e.getMessage(),
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
        reserve = poller.openReserve();
        channel.setReadCallback(this::handleRead);
    }

    InetSocketAddress localAddress() {
        try {
            return poller.localAddress(channel);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts accepting. Loop thread. */
    void listen() {
        loop.assertInLoopThread();
        listening = true;
        channel.enableReading();
    }

    /** Readiness events handled. */
    long readEvents() {
        return readEvents;
    }

    /** {@code accept} calls made, failed ones included. */
    long acceptCalls() {
        return acceptCalls;
    }

    /** {@code accept} calls that threw. */
    long acceptFailures() {
        return acceptFailures;
    }

    /** Connections accepted on the freed reserve and closed at once (descriptors ran out). */
    long refusedCount() {
        return refusedCount;
    }

    /** Times reading the listener was paused for a back-off. */
    long pauseCount() {
        return pauseCount;
    }

    /** Lines this acceptor logged about accept failures. */
    long logLines() {
        return logLines;
    }

    /** Lines the logging backend failed to take (see {@link #log}), and the last failure. */
    long lostLogLines() {
        return lostLogLines;
    }

    Throwable lostLogCause() {
        return lostLogCause;
    }

    /** The back-off the next pause would take. */
    long nextPauseMs() {
        return pauseMs;
    }

    boolean isPaused() {
        return paused;
    }

    boolean hasReserve() {
        return reserve != null;
    }

    /** Accepts into {@link #next}, taking a handle from the handler first when needed; null when none was pending. */
    private Pollable accept() throws IOException {
        acceptCalls++;
        Pollable into = next;
        if (into == null) {
            into = next = handler.newHandle();
        }
        AcceptCall a = acceptCall;
        if (!(a == null ? poller.accept(channel, into) : a.accept(poller, channel, into))) {
            return null;
        }
        next = null;
        loop.counters().increment(LoopCounters.ACCEPTED);
        return into;
    }

    private boolean isOpen() {
        return open && poller.isOpen(channel);
    }

    private void handleRead() {
        readEvents++;
        int max = 1;
        if (burst || ++singleEvents == PROBE_EVERY) {
            singleEvents = 0;
            max = MAX_ACCEPTS_PER_EVENT;
        }
        int got = 0;
        for (int i = 0; i < max; i++) {
            Pollable s;
            try {
                s = accept();
            } catch (IOException e) {
                if (!isOpen() || !recover(e)) {
                    break;
                }
                got++;
                continue;
            }
            if (s == null) {
                break;
            }
            got++;
            accepted(s);
        }
        if (max > 1) {
            burst = got > 1;
        }
    }

    private void accepted(Pollable s) {
        if (failing) {
            endStreak();
        }
        pauseMs = MIN_PAUSE_MS;
        handler.onNewConnection(s);
    }

    /**
     * After a failed accept; see the class comment. Returns true when this event may go on with the
     * next pending connection, false when it ends (nothing pending, or paused).
     */
    private boolean recover(IOException first) {
        failed(first);
        // 1. Once more, the reserve untouched.
        try {
            Pollable s = accept();
            if (s == null) {
                return false;
            }
            accepted(s);
            return true;
        } catch (IOException e) {
            if (!isOpen()) {
                return false;
            }
            failed(e);
        }
        // 2. Room for one descriptor: does accept work now?
        if (reserve != null) {
            poller.closeReserve(reserve);
            reserve = null;
            boolean refused = false;
            boolean gone = false;
            try {
                Pollable s = accept();
                if (s != null) {
                    poller.close(s); // descriptors ran out: refused politely
                    s.detachClosed();
                    next = s; // empty again: the next connection goes into it
                    refused = true;
                    refusedCount++;
                    streakRefused++;
                } else {
                    gone = true;
                }
            } catch (IOException e) {
                failed(e);
            }
            reserve = poller.openReserve();
            if (reserve != null && (refused || gone)) {
                return refused;
            }
            if (!isOpen()) {
                return false;
            }
        }
        // 3. Back off.
        pause();
        return false;
    }

    private void pause() {
        paused = true;
        pauseCount++;
        streakPauses++;
        channel.disableReading();
        resumeTimer = loop.runAfter(pauseMs, TimeUnit.MILLISECONDS, resume);
        pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS);
    }

    private void resume() {
        paused = false;
        resumeTimer = 0;
        if (!listening || !isOpen()) {
            return;
        }
        if (reserve == null) {
            reserve = poller.openReserve();
        }
        channel.enableReading();
    }

    private void failed(IOException e) {
        acceptFailures++;
        lastFailure = e;
        long now = System.nanoTime();
        if (!failing) {
            failing = true;
            streakStartNanos = now;
            lastSummaryNanos = now;
            streakFailures = 1;
            streakRefused = 0;
            streakPauses = 0;
            unloggedFailures = 0;
            log(System.Logger.Level.WARNING, "accept on " + describe() + " failed; retrying with back-off"
                    + " (further failures are summarised)", e);
            return;
        }
        streakFailures++;
        unloggedFailures++;
        if (now - lastSummaryNanos >= SUMMARY_INTERVAL_NS) {
            summarise(now, "still failing");
        }
    }

    private void endStreak() {
        if (unloggedFailures > 0) {
            summarise(System.nanoTime(), "accepting again");
        }
        failing = false;
        lastFailure = null;
    }

    private void summarise(long now, String what) {
        log(System.Logger.Level.WARNING, "accept on " + describe() + ": " + what + "; "
                + unloggedFailures + " more failures in the last "
                + TimeUnit.NANOSECONDS.toMillis(now - lastSummaryNanos) + " ms (" + streakFailures + " in "
                + TimeUnit.NANOSECONDS.toMillis(now - streakStartNanos) + " ms since the first, "
                + streakRefused + " connections refused, " + streakPauses + " pauses); latest: " + lastFailure, null);
        unloggedFailures = 0;
        lastSummaryNanos = now;
    }

    /**
     * Logs, counting the lines that got out. Out of descriptors the logging backend itself may
     * fail (loading what it needs can take a descriptor): that must not break the recovery, so a
     * failing log call costs the line, nothing else.
     */
    private void log(System.Logger.Level level, String message, Throwable t) {
        try {
            if (t != null) {
                LOG.log(level, message, t);
            } else {
                LOG.log(level, message);
            }
            logLines++;
        } catch (Throwable e) {
            EventLoop.rethrowIfFatal(e);
            lostLogLines++;
            lostLogCause = e;
        }
    }

    private String describe() {
        try {
            return String.valueOf(poller.localAddress(channel));
        } catch (IOException e) {
            return "a closed listener";
        }
    }

    /** Stops accepting and closes the listening socket (releases the port). Loop thread. */
    void close() {
        loop.assertInLoopThread();
        listening = false;
        if (resumeTimer != 0) {
            loop.cancel(resumeTimer);
            resumeTimer = 0;
        }
        channel.remove();
        closeSockets();
    }

    /** Closes without the loop (the loop never ran, or has ended and its final drain is over). */
    void closeOffLoop() {
        listening = false;
        closeSockets();
    }

    private void closeSockets() {
        open = false;
        next = null; // an unused spare holds no socket and is known to nobody else: let it go
        poller.close(channel);
        if (reserve != null) {
            poller.closeReserve(reserve);
            reserve = null;
        }
    }
}
