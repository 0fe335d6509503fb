package io.muduo4j.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;

/**
 * One established TCP connection, living on one {@link EventLoop} for its whole life. muduo's
 * {@code TcpConnection}.
 *
 * <h2>States</h2>
 * {@link State#CONNECTING} → {@link State#CONNECTED} (established on its loop, or on the thread
 * that called {@link TcpClient#connectNow()}, before its loop registers it) →
 * {@link State#DISCONNECTING} ({@link #shutdown()} or {@link #forceClose()} asked for, from any
 * thread, or the peer's FIN arrived) → {@link State#DISCONNECTED} (closed on its loop; exactly one
 * "down" callback). Every transition goes through one method ({@code ConnectionCore.transition}); the ones other
 * threads make are a compare-and-set.
 *
 * <h2>Threading</h2>
 * {@code send}, {@link #shutdown()}, {@link #forceClose()}, {@link #abort()},
 * {@link #startRead()}/{@link #stopRead()}, {@link #setUpstream}, the socket option setters and the
 * getters may be called from any thread. A call from another thread becomes a bit in a command word
 * and at most one queued task per burst, so it allocates nothing. A {@code send} from another thread
 * while the connection's output is idle is written by the calling thread itself: one {@code write}
 * system call under a per-connection lock, and the loop is not woken; what the socket does not take
 * at once is staged for the loop. No thread ever waits for task-queue space while holding that lock.
 * Callbacks run on the loop thread; none runs after the down callback. Callback setters are for
 * setup, before the connection is established (the owning server or client sets them).
 *
 * <p>That lock is the connection object's own monitor (so a connection costs no lock object): it
 * belongs to the library. Applications must not synchronize on a {@code TcpConnection}; a thread
 * that held its monitor would stall every sender of that connection, and its loop's flushes.
 *
 * <h2>Ordering</h2>
 * Each {@code send} is written contiguously (never interleaved with another {@code send}). A send
 * that <em>happens-before</em> another (program order in one thread, or a hand-off such as
 * {@code loop.execute(() -> conn.send(b))} after {@code conn.send(a)}) goes out first.
 * {@link #shutdown()} sends its FIN after every byte sent before it.
 *
 * <p>A {@code TcpConnection} object is never reused for another socket: a handle kept after the
 * connection closed stays attached to that closed connection, and every command on it is ignored
 * ({@code send} returns false).
 *
 * <h2>Output and back-pressure</h2>
 * <em>Queued</em> bytes ({@link #queuedBytes()}) are those {@code send} accepted and the socket has
 * not taken yet, whichever thread sent them. When they reach the high-water mark (default 64 KiB)
 * the connection becomes unwritable ({@link #isWritable()} false) and the high-water callback runs
 * (posted, never inside {@code send}); when they fall back to the low-water mark (default 32 KiB)
 * it becomes writable again and the low-water callback runs. The two alternate, starting with high
 * water; an excursion that is over before the high-water callback ran calls neither. While a
 * connection is unwritable its <em>upstream</em> does not read. A server's connection is its own
 * upstream by default, so an echo or request/response server stops reading a peer that does not
 * read its replies and TCP throttles that peer. A client's connection has none by default: a
 * client that streams requests must go on reading the replies, or two such peers would wait for
 * each other. A relay sets each side's upstream to the other side.
 *
 * <p>When the queued bytes plus a message would pass the output limit (default 4 MiB; never below
 * the high-water mark), {@code send} refuses the whole message and returns false: nothing of it is
 * queued. (A message sent while nothing is queued is always accepted, however large.) Then the output-limit callback runs
 * on the loop; without one, the connection is closed and {@link #closeCause()} is an
 * {@link OutputLimitExceededException} (a stream with a hole in it is worse than a closed one).
 *
 * <h2>Closing</h2>
 * With half-closure not allowed (the default), the peer's FIN starts a lingering close: the
 * connection stops accepting sends, writes everything already accepted (the output buffer and bytes
 * staged by other threads), then closes. {@link #shutdown()} likewise sends its FIN only after
 * everything queued. If that flush makes no progress for the close-flush timeout (default 30 s)
 * the connection is reset and {@link #closeCause()} is a {@link SocketTimeoutException}; a peer that
 * resets meanwhile makes the write error the cause. An {@link OutOfMemoryError} while growing one
 * of the connection's buffers, or thrown by one of its callbacks, closes that connection with the
 * error as its cause; the loop and the other connections run on.
 *
 * <h2>Input</h2>
 * One scattering read per readiness event into the input buffer's free tail plus the loop's
 * 64 KiB scratch. When the input buffer holds more than the input limit, reading stops until the
 * application calls {@link #startRead()} after consuming, so a peer that sends to an application
 * that never reads cannot grow memory without bound; that holds even when the message callback
 * throws.
 */
public final class TcpConnection extends ConnectionLifecycle {
    /** Connection states; see the class comment. */
    public enum State {
        /** Created for an accepted or connected socket, not yet established on its loop. */
        CONNECTING,
        /** Established: sends are accepted. */
        CONNECTED,
        /** Closing: a shutdown or force-close was asked for, or the peer's FIN arrived. */
        DISCONNECTING,
        /** Closed on its loop (exactly one down callback). */
        DISCONNECTED
    }

    TcpConnection(EventLoop loop, long id, String ownerName) {
        super(loop, id, ownerName);
    }

    // ------------------------------------------------------------------ identity and state

    /**
     * Process-unique id (never reused).
     *
     * @return the id
     */
    public long id() {
        return id;
    }

    /**
     * {@code owner#id}; built on each call.
     *
     * @return the connection's name
     */
    public String name() {
        return ownerName + "#" + id;
    }

    /**
     * The loop this connection lives on; all its callbacks run there.
     *
     * @return the loop
     */
    public EventLoop loop() {
        return loop;
    }

    /**
     * The current state (see the class comment).
     *
     * @return the state
     */
    public State state() {
        return state;
    }

    /**
     * Whether the state is {@link State#CONNECTED}; and, in the connection callback on the loop
     * thread, whether this is its up call: true there even when another thread has begun closing
     * the connection meanwhile (its down call follows), so {@code if (c.connected())} tells up from
     * down in the callback whatever other threads do.
     *
     * @return true while connected
     */
    public boolean connected() {
        return state == State.CONNECTED || (up == UP_CALLING && loop.isInLoopThread());
    }

    /**
     * Whether the state is {@link State#DISCONNECTED}.
     *
     * @return true once closed
     */
    public boolean disconnected() {
        return state == State.DISCONNECTED;
    }

    /**
     * Why the connection closed: null for an orderly close (EOF, shutdown, forceClose), else the
     * I/O error, the {@link SocketTimeoutException} of an unfinished close flush, the
     * {@link OutputLimitExceededException} or the {@link OutOfMemoryError}.
     *
     * @return the cause, or null
     */
    public Throwable closeCause() {
        return closeCause;
    }

    /**
     * This end's address. Asked of the socket on the first call (a connection nobody asks costs
     * no system call for it) and kept; any thread.
     *
     * @return the local address, or null when first asked once the socket is closed (after the
     *         down callback)
     */
    public InetSocketAddress localAddress() {
        InetSocketAddress a = localAddress;
        if (a == null) {
            a = localAddress = address(false);
        }
        return a;
    }

    /**
     * The other end's address; asked of the socket on the first call and kept, as
     * {@link #localAddress()}. Any thread.
     *
     * @return the peer address, or null when first asked once the socket is closed
     */
    public InetSocketAddress peerAddress() {
        InetSocketAddress a = peerAddress;
        if (a == null) {
            a = peerAddress = address(true);
        }
        return a;
    }

    private InetSocketAddress address(boolean peer) {
        synchronized (this) { // as close: a descriptor number is reused as soon as it is closed
            Poller p = loop.poller();
            if (!p.isOpen(this)) {
                return null;
            }
            try {
                return peer ? p.remoteAddress(this) : p.localAddress(this);
            } catch (IOException e) {
                return null; // reset or closed meanwhile
            }
        }
    }

    /**
     * Attaches any object to the connection (muduo's {@code setContext}).
     *
     * @param context the object, or null
     */
    public void setContext(Object context) {
        this.context = context;
    }

    /**
     * The object attached by {@link #setContext(Object)}.
     *
     * @return the context, or null
     */
    public Object context() {
        return context;
    }

    /**
     * The input buffer; loop thread only, and only while connected.
     *
     * @return the input buffer
     */
    public Buffer inputBuffer() {
        loop.assertInLoopThread();
        return input;
    }

    /**
     * Bytes read from the socket so far (loop thread exact).
     *
     * @return the bytes received
     */
    public long bytesReceived() {
        return bytesReceived;
    }

    // ------------------------------------------------------------------ configuration

    void setConnectionCallback(ConnectionCallback cb) {
        this.connectionCallback = cb != null ? cb : NO_CONNECTION_CALLBACK;
    }

    void setMessageCallback(MessageCallback cb) {
        this.messageCallback = cb != null ? cb : DISCARD;
    }

    void setWriteCompleteCallback(WriteCompleteCallback cb) {
        this.writeCompleteCallback = cb;
    }

    void setCloseCallback(ConnectionCallback cb) {
        this.closeCallback = cb;
    }

    /** When set, an {@link #establishLater()} runs this hook on the loop, which establishes or destroys. */
    void setEstablishHook(ConnectionCallback hook) {
        this.establishHook = hook;
    }

    void configure(ConnectionOptions o) {
        setConnectionCallback(o.connectionCallback);
        setMessageCallback(o.messageCallback);
        setWriteCompleteCallback(o.writeCompleteCallback);
        this.highWaterMarkCallback = o.highWaterMarkCallback;
        this.lowWaterMarkCallback = o.lowWaterMarkCallback;
        long high = Math.max(1, o.highWaterMark);
        this.highWaterMark = high;
        // A low mark at or above the high one would make every excursion end where it starts.
        this.lowWaterMark = o.lowWaterMark < high ? Math.max(0, o.lowWaterMark) : high / 2;
        this.outputLimit = Math.max(o.outputLimit, high);
        this.outputLimitCallback = o.outputLimitCallback;
        this.closeFlushTimeoutMs = o.closeFlushTimeoutMs;
        this.halfCloseCallback = o.halfCloseCallback;
        this.allowHalfClosure = o.allowHalfClosure;
        this.inputLimit = o.inputLimit;
        this.upstream = o.selfBackPressure ? this : null;
    }

    /**
     * The connection whose reading pauses while this one is unwritable (see the class comment):
     * by default this connection itself on a server and none on a client; the other side in a
     * relay; null for none. Any thread; takes effect at the next high-water crossing.
     *
     * @param upstream the connection to pause, or null
     */
    public void setUpstream(TcpConnection upstream) {
        this.upstream = upstream;
    }

    // ------------------------------------------------------------------ socket options

    /**
     * Sets TCP_NODELAY. Any thread; ignored once closed.
     *
     * @param on whether to disable Nagle's algorithm
     */
    public void setTcpNoDelay(boolean on) {
        setOption(StandardSocketOptions.TCP_NODELAY, on);
    }

    /**
     * Sets SO_KEEPALIVE. Any thread; ignored once closed.
     *
     * @param on whether to enable TCP keep-alive
     */
    public void setKeepAlive(boolean on) {
        setOption(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    // ------------------------------------------------------------------ reading

    /** Resumes reading (also after the input limit paused it). Any thread. */
    public void startRead() {
        wantReading = true;
        post(CMD_READING);
    }

    /** Stops reading until {@link #startRead()}. Any thread. */
    public void stopRead() {
        wantReading = false;
        post(CMD_READING);
    }

    /**
     * Whether the connection is reading (loop thread exact).
     *
     * @return true while reading
     */
    public boolean isReading() {
        return reading;
    }

    /** Reads while wanted, not throttled by a downstream, and under the input limit. Loop thread. */
    @Override
    void applyReading() {
        if (state == State.DISCONNECTED || input == null || peerShutdown) {
            return;
        }
        if (wantReading && throttles == 0 && input.readableBytes() < inputLimit) {
            inputPaused = false;
            if (!reading) {
                reading = true;
                interestAdd(SelectionKey.OP_READ);
            }
        } else if (reading) {
            reading = false;
            interestRemove(SelectionKey.OP_READ);
        }
    }

    @Override
    void handleRead() {
        int n;
        try {
            n = loop.poller().read(this, input, loop.buffers().scratch());
        } catch (IOException e) {
            handleClose(e);
            return;
        } catch (OutOfMemoryError e) {
            failed(e);
            return;
        }
        if (n > 0) {
            bytesReceived += n;
            LoopCounters c = loop.counters();
            c.add(LoopCounters.BYTES_IN, n);
            c.increment(LoopCounters.READS);
            try {
                messageCallback.onMessage(this, input, System.nanoTime());
            } catch (Throwable t) {
                failed(t); // and still apply the input limit below: a throwing decoder must not unbound it
            }
            if (reading && state != State.DISCONNECTED && input.readableBytes() >= inputLimit) {
                inputPaused = true;
                reading = false;
                interestRemove(SelectionKey.OP_READ);
            }
        } else if (n < 0) {
            try {
                handlePeerShutdown();
            } catch (Throwable t) {
                failed(t); // an OOM taking staged bytes over for the lingering close closes now
            }
        }
    }

    private void handlePeerShutdown() {
        if (state == State.DISCONNECTED) {
            return;
        }
        if (forceCloseRequested) {
            // The forced close asked for before this FIN was read has not run yet: it closes now,
            // its output dropped, rather than a lingering close flushing it.
            handleClose(closeRequestCause);
            return;
        }
        peerShutdown = true;
        reading = false;
        interestRemove(SelectionKey.OP_READ);
        if (allowHalfClosure) {
            if (halfCloseCallback != null) {
                try {
                    halfCloseCallback.onConnection(this);
                } catch (Throwable t) {
                    failed(t);
                }
            }
            if (outputShutdown) {
                handleClose(null);
            }
            return;
        }
        // A lingering close: what send() accepted still reaches the peer, then the connection closes.
        if (state == State.CONNECTED) {
            transition(State.CONNECTED, State.DISCONNECTING);
        }
        if (state != State.DISCONNECTING) {
            return;
        }
        if (outputShutdown) {
            handleClose(null);
        } else if (!shutdownRequested) {
            flushThenShut();
        }
        // else a shutdown() is flushing already; its end closes, the peer being shut down
    }

    /**
     * True after the peer's FIN arrived.
     *
     * @return whether the peer has shut down its output
     */
    public boolean isPeerShutdown() {
        return peerShutdown;
    }

    /**
     * True when reading is paused because the input buffer reached the input limit.
     *
     * @return whether the input limit paused reading
     */
    public boolean isInputPaused() {
        return inputPaused;
    }

    @Override
    void handleWrite() {
        if (!wantsWrite() || output == null) {
            return;
        }
        writeOutput(false);
    }

    @Override
    public String toString() {
        return "TcpConnection[" + name() + " " + localAddress() + " -> " + peerAddress() + " " + state + "]";
    }
}
