package io.muduo4j.net;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Non-blocking connect with retry, for {@link TcpClient}. muduo's {@code Connector}, with its holes
 * closed: a connect timeout, a failure callback, jitter, an attempt limit, and {@link #stop()}
 * cancelling the pending retry timer.
 *
 * <p>States {@link State#DISCONNECTED} → {@link State#CONNECTING} → {@link State#CONNECTED}, loop
 * thread only. An attempt that connects at once (common on loopback) and one that completes later
 * on {@code OP_CONNECT} end in the same {@link #established()} path: self-connect check (local
 * address equal to the peer's, possible when the target is a free local port in the ephemeral
 * range), then the {@link Channel} holding the socket and its registration is handed to the
 * new-connection handler, which takes both over ({@link Pollable#transferTo} into its connection).
 *
 * <p>Errors: refused, unreachable, address not available, timeout, interrupted, self-connect and
 * running out of descriptors are transient and retried after a delay growing from
 * {@code initialDelayMs}, doubling up to {@code maxDelayMs}, optionally jittered; an unresolved or
 * unsupported address or a permission error is fatal: reported, no retry. Nothing is allocated of
 * the connector's own per attempt: the channel object and the tasks are reused.
 *
 * <p>{@link #start()} and {@link #stop()} may be called from any thread; everything else is loop
 * thread only.
 */
final class Connector {
    enum State { DISCONNECTED, CONNECTING, CONNECTED }

    interface NewConnectionHandler {
        /** {@code channel} holds the connected socket, still registered; the handler takes both over. */
        void onConnected(Channel channel);
    }

    private final EventLoop loop;
    private final InetSocketAddress serverAddress;
    private final Channel channel;
    private final NewConnectionHandler handler;
    private final Runnable startTask = this::startInLoop;
    private final Runnable freshStartTask = this::startFresh;
    private final Runnable stopTask = this::stopInLoop;
    private final Runnable timeoutTask = this::onTimeout;

    private volatile boolean connect;
    private volatile boolean closed; // terminal: the client closed; see close()
    private State state = State.DISCONNECTED;
    private boolean hasSocket; // the channel holds an attempt's socket; guarded by this for closeOffLoop
    private long retryTimer;
    private long timeoutTimer;
    private int attempt;
    private long delayMs;

    // settings (setup; read on the loop)
    private volatile long initialDelayMs = 500;
    private volatile long maxDelayMs = 30_000;
    private volatile long connectTimeoutMs = 30_000;
    private volatile double jitter;
    private volatile int maxAttempts;
    private volatile ConnectFailedCallback failedCallback;

    Connector(EventLoop loop, InetSocketAddress serverAddress, NewConnectionHandler handler) {
        this.loop = loop;
        this.serverAddress = serverAddress;
        this.handler = handler;
        this.channel = new Channel(loop);
        this.channel.setWriteCallback(this::handleWrite);
        this.delayMs = initialDelayMs;
    }

    void setRetryDelays(long initialMs, long maxMs) {
        if (initialMs <= 0 || maxMs < initialMs) {
            throw new IllegalArgumentException("need 0 < initial <= max: " + initialMs + ", " + maxMs);
        }
        this.initialDelayMs = initialMs;
        this.maxDelayMs = maxMs;
        this.delayMs = initialMs;
    }

    /** 0 disables the timeout. */
    void setConnectTimeoutMs(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("timeout must be >= 0");
        }
        this.connectTimeoutMs = ms;
    }

    long connectTimeoutMs() {
        return connectTimeoutMs;
    }

    /** Each delay is multiplied by a random factor in [1 - fraction, 1]. */
    void setJitter(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("jitter must be in [0, 1]: " + fraction);
        }
        this.jitter = fraction;
    }

    /** 0 means unlimited. */
    void setMaxAttempts(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("max attempts must be >= 0");
        }
        this.maxAttempts = n;
    }

    void setConnectFailedCallback(ConnectFailedCallback cb) {
        this.failedCallback = cb;
    }

    InetSocketAddress serverAddress() {
        return serverAddress;
    }

    State state() {
        return state;
    }

    int attempt() {
        return attempt;
    }

    boolean retryPending() {
        return retryTimer != 0;
    }

    /**
     * Starts connecting. Any thread. Always queued, even on the loop thread: a
     * {@code TcpClient.connect()} from a connection's down callback runs while this connector
     * still counts that connection ({@link State#CONNECTED}), and would be ignored if run inline.
     */
    void start() {
        connect = true;
        loop.queueInLoop(freshStartTask);
    }

    /**
     * {@link #start()} on the loop: a new series of attempts (numbered from 1, delays from the
     * initial one, the full attempt limit), also after the connector gave up or was stopped.
     */
    private void startFresh() {
        if (state == State.DISCONNECTED && connect) {
            attempt = 0;
            delayMs = initialDelayMs;
        }
        startInLoop();
    }

    /** Stops: cancels a pending retry, closes an attempt in progress. Any thread. */
    void stop() {
        connect = false;
        loop.runInLoop(stopTask);
    }

    /** After an established connection dropped: reconnect at once with the delay reset. Loop thread. */
    void restart() {
        loop.assertInLoopThread();
        state = State.DISCONNECTED;
        delayMs = initialDelayMs;
        attempt = 0;
        connect = true;
        startInLoop();
    }

    /**
     * Stops for good: {@link #stop()}, and no attempt starts afterwards, even one whose
     * {@link #start()} raced this call from another thread (it may have set {@code connect} again
     * after this cleared it). Any thread.
     */
    void close() {
        closed = true;
        stop();
    }

    private void startInLoop() {
        loop.assertInLoopThread();
        if (state != State.DISCONNECTED || !connect || closed) {
            return; // already connecting or connected, or stopped or closed meanwhile
        }
        cancelRetry();
        connectOnce();
    }

    private void connectOnce() {
        attempt++;
        Poller p = loop.poller();
        synchronized (this) {
            if (closed) {
                return; // closed from another thread with the loop gone (closeOffLoop)
            }
            try {
                p.open(channel, serverAddress);
            } catch (IOException e) {
                retry(e); // descriptors exhausted, most likely: transient
                return;
            }
            hasSocket = true; // published under the lock closeOffLoop takes
        }
        boolean connectedAtOnce;
        try {
            connectedAtOnce = p.connect(channel, serverAddress);
        } catch (UnresolvedAddressException | UnsupportedAddressTypeException | SecurityException e) {
            fail(e);
            return;
        } catch (IOException e) {
            if (isFatal(e)) {
                fail(e);
            } else {
                retry(e);
            }
            return;
        }
        state = State.CONNECTING;
        if (!connectedAtOnce) {
            // On loopback the handshake has usually finished inside connect() already: one poll
            // now spares a selector round and two interest changes, and reports a refusal at once.
            try {
                connectedAtOnce = p.finishConnect(channel, serverAddress);
            } catch (IOException e) {
                retry(e);
                return;
            }
        }
        if (connectedAtOnce) {
            established();
            return;
        }
        channel.enableConnecting();
        long t = connectTimeoutMs;
        if (t > 0) {
            timeoutTimer = loop.runAfter(t, TimeUnit.MILLISECONDS, timeoutTask);
        }
    }

    private void handleWrite() {
        if (state != State.CONNECTING) {
            return;
        }
        try {
            if (!loop.poller().finishConnect(channel, serverAddress)) {
                return; // spurious readiness
            }
        } catch (IOException e) {
            retry(e);
            return;
        }
        established();
    }

    private void established() {
        cancelTimeout();
        channel.disableAll();
        boolean self;
        try {
            self = mayBeSelfConnected(serverAddress) && loop.poller().isSelfConnected(channel, serverAddress);
        } catch (IOException e) {
            retry(e);
            return;
        }
        if (self) {
            retry(new ConnectException("self-connect to " + serverAddress + " (no listener on that ephemeral port)"));
            return;
        }
        state = State.CONNECTED;
        synchronized (this) {
            hasSocket = false; // the handler's from here
        }
        if (connect) {
            handler.onConnected(channel);
        } else {
            channel.detach();
            loop.poller().close(channel);
        }
    }

    private void onTimeout() {
        timeoutTimer = 0;
        if (state == State.CONNECTING) {
            retry(new SocketTimeoutException("connect to " + serverAddress + " timed out after " + connectTimeoutMs + " ms"));
        }
    }

    /** Closes the attempt and schedules the next one, if the client still wants it. */
    private void retry(Throwable cause) {
        loop.counters().increment(LoopCounters.CONNECT_FAILURES);
        closeAttempt();
        ConnectFailedCallback cb = failedCallback;
        int limit = maxAttempts;
        if (connect && (limit == 0 || attempt < limit)) {
            long d = delayMs;
            double j = jitter;
            if (j > 0) {
                d = Math.max(1, (long) (d * (1 - j * ThreadLocalRandom.current().nextDouble())));
            }
            delayMs = Math.min(delayMs * 2, maxDelayMs);
            // Told first, then scheduled: the delay runs from after the callback, and a callback
            // that stops the client leaves no retry behind. A callback that throws is reported
            // and the retry is still scheduled.
            notifyFailed(cb, cause, d);
            if (connect && state == State.DISCONNECTED && retryTimer == 0) {
                retryTimer = loop.runAfter(d, TimeUnit.MILLISECONDS, startTask);
            }
        } else {
            notifyFailed(cb, cause, -1);
        }
    }

    private void fail(Throwable cause) {
        loop.counters().increment(LoopCounters.CONNECT_FAILURES);
        closeAttempt();
        connect = false;
        notifyFailed(failedCallback, cause, -1);
    }

    /** Calls the failure callback, if any; what it throws goes to the loop's error reporting. */
    private void notifyFailed(ConnectFailedCallback cb, Throwable cause, long nextDelayMs) {
        if (cb == null) {
            return;
        }
        try {
            cb.onConnectFailed(cause, attempt, nextDelayMs);
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            loop.reportError(t);
        }
    }

    private void closeAttempt() {
        cancelTimeout();
        if (hasSocket) {
            channel.detach();
            synchronized (this) {
                hasSocket = false;
                loop.poller().close(channel);
            }
        }
        state = State.DISCONNECTED;
    }

    private void stopInLoop() {
        cancelRetry();
        if (state == State.CONNECTING) {
            closeAttempt();
        }
    }

    private void cancelRetry() {
        if (retryTimer != 0) {
            loop.cancel(retryTimer);
            retryTimer = 0;
        }
    }

    private void cancelTimeout() {
        if (timeoutTimer != 0) {
            loop.cancel(timeoutTimer);
            timeoutTimer = 0;
        }
    }

    /** The connection was handed on and has since closed: ready for {@link #restart()} or {@link #start()}. */
    void connectionClosed() {
        loop.assertInLoopThread();
        if (state == State.CONNECTED) {
            state = State.DISCONNECTED;
        }
    }

    /** Closes an attempt in progress from outside the loop (the loop has ended, its final drain over), for good. */
    void closeOffLoop() {
        synchronized (this) {
            closed = true;
            connect = false;
            if (hasSocket) {
                hasSocket = false;
                loop.poller().close(channel);
            }
        }
    }

    /** The longest a {@link #connectOnCaller} wait parks between two checks. */
    static final long MAX_CONNECT_PARK_NANOS = 1_000_000;

    /**
     * Connects {@code address} on the calling thread, with a non-blocking socket opened into the
     * empty handle {@code ch} (the connection to be); on failure the socket is closed and the error thrown. The connect is non-blocking: on
     * loopback the handshake is over when {@code connect} returns, and one {@code finishConnect}
     * sees it. Otherwise the thread checks again after parking 20 µs, doubling up to 1 ms (no
     * selector of its own, nothing allocated), until {@code timeoutMs} (0: none) or an interrupt
     * ({@link InterruptedIOException}, with the interrupt status kept). A self-connect (no
     * listener on a local ephemeral port; checked only for a port in {@link EphemeralPorts}) is a
     * {@link ConnectException}.
     */
    static void connectOnCaller(Poller p, Pollable ch, InetSocketAddress address, long timeoutMs) throws IOException {
        p.open(ch, address);
        boolean ok = false;
        try {
            if (!p.connect(ch, address) && !p.finishConnect(ch, address)) {
                long deadline = timeoutMs > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs) : 0;
                long park = 20_000;
                do {
                    if (Thread.interrupted()) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("connect to " + address + " interrupted");
                    }
                    long left = timeoutMs > 0 ? deadline - System.nanoTime() : park;
                    if (left <= 0) {
                        throw new SocketTimeoutException("connect to " + address + " timed out after " + timeoutMs + " ms");
                    }
                    LockSupport.parkNanos(Math.min(park, left));
                    park = Math.min(park * 2, MAX_CONNECT_PARK_NANOS);
                } while (!p.finishConnect(ch, address));
            }
            if (mayBeSelfConnected(address) && p.isSelfConnected(ch, address)) {
                throw new ConnectException("self-connect to " + address + " (no listener on that ephemeral port)");
            }
            ok = true;
        } finally {
            if (!ok) {
                p.close(ch);
            }
        }
    }

    /** Only a destination port the kernel could also give the socket itself makes a self-connect. */
    static boolean mayBeSelfConnected(InetSocketAddress address) {
        return EphemeralPorts.system().contains(address.getPort());
    }

    /** Permission and address errors cannot get better by retrying. */
    static boolean isFatal(IOException e) {
        if (e instanceof ConnectException || e instanceof NoRouteToHostException
                || e instanceof PortUnreachableException || e instanceof SocketTimeoutException) {
            return false;
        }
        String m = e.getMessage();
        if (m == null) {
            return false;
        }
        return e instanceof SocketException
                && (m.contains("Permission denied") || m.contains("Operation not permitted")
                    || m.contains("Protocol family unavailable") || m.contains("Address family not supported"));
    }
}
