package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The listening socket of a {@link TcpServer}, read in the server's base loop. Hands each
 * accepted connection, non-blocking, to the new-connection handler.
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
 * thread, except {@link #closeOffLoop()} once the loop has ended. The counters are plain fields,
 * exact on the loop thread.
 */
final class Acceptor {
    interface NewConnectionHandler {
        void onNewConnection(SocketChannel socket);
    }

    /** The accept call, replaceable in tests to inject failures; the production path calls the listener directly. */
    @FunctionalInterface
    interface AcceptCall {
        SocketChannel accept(ServerSocketChannel listener) throws IOException;
    }

    static final int MAX_ACCEPTS_PER_EVENT = 64;
    static final int PROBE_EVERY = 8;
    static final long MIN_PAUSE_MS = 10;
    static final long MAX_PAUSE_MS = 1_000;
    static final long SUMMARY_INTERVAL_SECONDS = 10;
    private static final long SUMMARY_INTERVAL_NS = TimeUnit.SECONDS.toNanos(SUMMARY_INTERVAL_SECONDS);
    private static final System.Logger LOG = System.getLogger(Acceptor.class.getName());
    private static final Path DEV_NULL = Path.of("/dev/null");

    private final EventLoop loop;
    private final ServerSocketChannel server;
    private final Channel channel;
    private final NewConnectionHandler handler;
    private final AcceptCall acceptCall; // null: server.accept() itself
    private final Runnable resume = this::resume;
    private FileChannel reserve;
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
        try {
            server = ServerSocketChannel.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a listening socket", e);
        }
        try {
            server.configureBlocking(false);
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            server.bind(addr, backlog);
        } catch (IOException | UnsupportedOperationException e) {
            closeQuietly(server);
            throw new UncheckedIOException("cannot listen on " + addr + ": " + e.getMessage(),
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
        reserve = openReserve();
        channel = new Channel(loop, server);
        channel.setReadCallback(this::handleRead);
    }

    InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) server.getLocalAddress();
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

    private SocketChannel accept() throws IOException {
        acceptCalls++;
        AcceptCall a = acceptCall;
        return a == null ? server.accept() : a.accept(server);
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
            SocketChannel s;
            try {
                s = accept();
            } catch (IOException e) {
                if (!server.isOpen() || !recover(e)) {
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

    private void accepted(SocketChannel s) {
        if (failing) {
            endStreak();
        }
        pauseMs = MIN_PAUSE_MS;
        try {
            s.configureBlocking(false);
        } catch (IOException e) {
            closeQuietly(s);
            return;
        }
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
            SocketChannel s = accept();
            if (s == null) {
                return false;
            }
            accepted(s);
            return true;
        } catch (IOException e) {
            if (!server.isOpen()) {
                return false;
            }
            failed(e);
        }
        // 2. Room for one descriptor: does accept work now?
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
            boolean refused = false;
            boolean gone = false;
            try {
                SocketChannel s = accept();
                if (s != null) {
                    closeQuietly(s); // descriptors ran out: refused politely
                    refused = true;
                    refusedCount++;
                    streakRefused++;
                } else {
                    gone = true;
                }
            } catch (IOException e) {
                failed(e);
            }
            reserve = openReserve();
            if (reserve != null && (refused || gone)) {
                return refused;
            }
            if (!server.isOpen()) {
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
        if (!listening || !server.isOpen()) {
            return;
        }
        if (reserve == null) {
            reserve = openReserve();
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
            return String.valueOf(server.getLocalAddress());
        } catch (IOException e) {
            return "a closed listener";
        }
    }

    private static FileChannel openReserve() {
        try {
            return FileChannel.open(DEV_NULL, StandardOpenOption.READ);
        } catch (IOException e) {
            return null;
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
        closeQuietly(server);
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
        }
    }

    /** Closes without the loop (the loop never ran or has ended). */
    void closeOffLoop() {
        listening = false;
        closeQuietly(server);
        if (reserve != null) {
            closeQuietly(reserve);
            reserve = null;
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing useful to do about a failing close
        }
    }
}
