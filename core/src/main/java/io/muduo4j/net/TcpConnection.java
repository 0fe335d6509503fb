package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One established TCP connection, living on one {@link EventLoop} for its whole life. muduo's
 * {@code TcpConnection}.
 *
 * <h2>States</h2>
 * {@link State#CONNECTING} → {@link State#CONNECTED} (established on its loop) →
 * {@link State#DISCONNECTING} ({@link #shutdown()} or {@link #forceClose()} asked for, from any
 * thread) → {@link State#DISCONNECTED} (closed on its loop; exactly one "down" callback). Every
 * transition goes through {@link #transition(State, State)}; the ones other threads make are a
 * compare-and-set.
 *
 * <h2>Threading</h2>
 * {@code send}, {@link #shutdown()}, {@link #forceClose()}, {@link #abort()},
 * {@link #startRead()}/{@link #stopRead()}, the socket option setters and the getters may be
 * called from any thread. A call from another thread becomes a bit in a command word and at most
 * one queued task per burst, so it allocates nothing. A {@code send} from another thread while the
 * connection's output is idle is written by the calling thread itself: one {@code write} system
 * call under a per-connection lock, and the loop is not woken; what the socket does not take at
 * once is staged for the loop. Bytes sent from one thread arrive in the order sent, and each
 * {@code send} is written contiguously (never interleaved with another thread's {@code send}).
 * Callbacks run on the loop thread. Callback setters are for setup, before
 * the connection is established (the owning server or client sets them).
 *
 * <p>A {@code TcpConnection} object is never reused for another socket: a handle kept after the
 * connection closed stays attached to that closed connection, and every command on it is ignored
 * ({@code send} returns false).
 *
 * <h2>Output</h2>
 * In the loop, bytes are appended to the output buffer and written at once when nothing was
 * queued; {@code OP_WRITE} is armed only while output is pending. When output crosses the
 * high-water mark upwards the high-water callback runs once; when it falls back to the low-water
 * mark the low-water callback runs; when it drains completely the write-complete callback runs.
 * The two water-mark callbacks alternate, starting with high water (Netty-style writability): a
 * dip below the high-water mark that does not reach the low-water mark is not a new crossing. The
 * high-water callback is posted (never run inside {@code send}); output that falls back to the
 * low-water mark before it ran calls neither.
 *
 * <h2>Input</h2>
 * One scattering read per readiness event into the input buffer's free tail plus the loop's
 * 64 KiB scratch. When the input buffer holds more than the input limit, reading stops until the
 * application calls {@link #startRead()} after consuming, so a peer that sends to an application
 * that never reads cannot grow memory without bound.
 */
public final class TcpConnection {
    /** Connection states; see the class comment. */
    public enum State { CONNECTING, CONNECTED, DISCONNECTING, DISCONNECTED }

    private static final System.Logger LOG = System.getLogger(TcpConnection.class.getName());
    private static final VarHandle STATE;
    private static final VarHandle COMMANDS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(TcpConnection.class, "state", State.class);
            COMMANDS = l.findVarHandle(TcpConnection.class, "commands", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int CMD_ESTABLISH = 1;
    private static final int CMD_FLUSH = 1 << 1;
    private static final int CMD_READING = 1 << 2;
    private static final int CMD_SHUTDOWN = 1 << 3;
    private static final int CMD_FORCE_CLOSE = 1 << 4;
    private static final int CMD_WRITE_COMPLETE = 1 << 5;
    private static final int CMD_HIGH_WATER = 1 << 6;
    private static final int CMD_DESTROY = 1 << 7;
    private static final int CMD_WRITE_ERROR = 1 << 8;

    private static final ConnectionCallback NO_CONNECTION_CALLBACK = c -> { };
    private static final MessageCallback DISCARD = (c, b, t) -> b.retrieveAll();

    private final EventLoop loop;
    private final long id;
    private final String ownerName;
    private final SocketChannel socket;
    private final Channel channel;
    private final InetSocketAddress localAddress;
    private final InetSocketAddress peerAddress;
    private final Runnable commandTask = this::runCommands;
    private final Object pendingLock = new Object();

    private volatile State state = State.CONNECTING;
    private volatile int commands;
    private volatile boolean wantReading = true;
    private volatile Throwable closeCause;
    private volatile Object context;

    // loop-only
    private Buffer input;
    private Buffer output;
    private Buffer pending; // guarded by pendingLock; the staging area of cross-thread sends
    private boolean outputIdle; // guarded by pendingLock; written by the loop only, see send()
    private volatile Throwable directWriteError;
    private boolean reading;
    private boolean inputPaused;
    private boolean aboveHighWater;
    private boolean highWaterPending; // the high-water callback is posted and has not run yet
    private boolean peerShutdown;
    private boolean destroyed;
    private boolean outputShutdown;
    private boolean shutdownRequested;
    private long highWaterQueued;
    private long bytesReceived;
    private long bytesSent;

    // configuration (setup before establishment)
    private ConnectionCallback connectionCallback = NO_CONNECTION_CALLBACK;
    private MessageCallback messageCallback = DISCARD;
    private WriteCompleteCallback writeCompleteCallback;
    private HighWaterMarkCallback highWaterMarkCallback;
    private ConnectionCallback lowWaterMarkCallback;
    private ConnectionCallback halfCloseCallback;
    private ConnectionCallback closeCallback; // the owner's removal hook, last thing on close
    private ConnectionCallback establishHook; // the owner's registration, instead of connectEstablished
    int ownerSlot; // the owner's bookkeeping (a server's registry index)
    private long highWaterMark = 64L * 1024 * 1024;
    private long lowWaterMark = 0;
    private int inputLimit = 64 * 1024 * 1024;
    private boolean allowHalfClosure;

    /**
     * Wraps a connected, non-blocking socket. {@code channel} belongs to {@code loop} and already
     * holds the socket (the connector's registration may be handed over), or is null for a fresh
     * one.
     */
    TcpConnection(EventLoop loop, long id, String ownerName, SocketChannel socket, Channel channel,
                  InetSocketAddress localAddress, InetSocketAddress peerAddress) {
        this.loop = loop;
        this.id = id;
        this.ownerName = ownerName;
        this.socket = socket;
        this.channel = channel != null ? channel : new Channel(loop, socket);
        this.localAddress = localAddress;
        this.peerAddress = peerAddress;
        this.channel.setReadCallback(this::handleRead);
        this.channel.setWriteCallback(this::handleWrite);
        this.channel.setCloseCallback(this::handleKeyInvalid);
    }

    // ------------------------------------------------------------------ identity and state

    /** Process-unique id (never reused). */
    public long id() {
        return id;
    }

    /** {@code owner#id}; built on each call. */
    public String name() {
        return ownerName + "#" + id;
    }

    public EventLoop loop() {
        return loop;
    }

    public State state() {
        return state;
    }

    public boolean connected() {
        return state == State.CONNECTED;
    }

    public boolean disconnected() {
        return state == State.DISCONNECTED;
    }

    /** Why the connection closed: null for an orderly close (EOF, shutdown, forceClose), else the I/O error. */
    public Throwable closeCause() {
        return closeCause;
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public InetSocketAddress peerAddress() {
        return peerAddress;
    }

    public void setContext(Object context) {
        this.context = context;
    }

    public Object context() {
        return context;
    }

    /** The input buffer; loop thread only, and only while connected. */
    public Buffer inputBuffer() {
        loop.assertInLoopThread();
        return input;
    }

    /** The output buffer; loop thread only, and only while connected. */
    public Buffer outputBuffer() {
        loop.assertInLoopThread();
        return output;
    }

    /** Bytes read from the socket so far (loop thread exact). */
    public long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Bytes written to the socket so far: by the loop, and by other threads' direct writes (see
     * the class comment), so a read from any thread may lag behind the latest writes.
     */
    public long bytesSent() {
        return bytesSent;
    }

    /**
     * The one place states change. Returns false when the state was not {@code from}.
     * Allowed: CONNECTING→CONNECTED, CONNECTING→DISCONNECTED, CONNECTED→DISCONNECTING,
     * CONNECTED→DISCONNECTED, DISCONNECTING→DISCONNECTED.
     */
    private boolean transition(State from, State to) {
        switch (to) {
            case CONNECTED:
                assert from == State.CONNECTING;
                break;
            case DISCONNECTING:
                assert from == State.CONNECTED;
                break;
            case DISCONNECTED:
                assert from != State.DISCONNECTED;
                break;
            default:
                throw new IllegalArgumentException("no transition into " + to);
        }
        return STATE.compareAndSet(this, from, to);
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
        this.highWaterMark = o.highWaterMark;
        this.lowWaterMarkCallback = o.lowWaterMarkCallback;
        this.lowWaterMark = o.lowWaterMark;
        this.halfCloseCallback = o.halfCloseCallback;
        this.allowHalfClosure = o.allowHalfClosure;
        this.inputLimit = o.inputLimit;
    }

    // ------------------------------------------------------------------ socket options

    public void setTcpNoDelay(boolean on) {
        setOption(StandardSocketOptions.TCP_NODELAY, on);
    }

    public void setKeepAlive(boolean on) {
        setOption(StandardSocketOptions.SO_KEEPALIVE, on);
    }

    private <T> void setOption(java.net.SocketOption<T> option, T value) {
        try {
            socket.setOption(option, value);
        } catch (IOException e) {
            // Closed already: a setting on a closed connection has nothing left to affect.
            LOG.log(System.Logger.Level.DEBUG, "cannot set {0} on {1}: {2}", option, name(), e);
        }
    }

    // ------------------------------------------------------------------ lifecycle (loop)

    /** Established on its loop: enables reading and calls the connection callback (up). Loop thread. */
    void connectEstablished() {
        loop.assertInLoopThread();
        if (state != State.CONNECTING) {
            return; // destroyed before it was established (server stopping)
        }
        BufferPool pool = loop.buffers();
        input = pool.acquire();
        output = pool.acquire();
        synchronized (pendingLock) {
            pending = pool.acquire();
            outputIdle = true;
        }
        // Buffers first: another thread may send the moment it sees CONNECTED.
        transition(State.CONNECTING, State.CONNECTED);
        reading = true;
        channel.enableReading();
        connectionCallback.onConnection(this);
    }

    /** Posts {@link #connectEstablished()} to the loop without allocating. */
    void establishLater() {
        post(CMD_ESTABLISH);
    }

    /** Posts {@link #connectDestroyed()} to the loop without allocating. */
    void destroyLater() {
        post(CMD_DESTROY);
    }

    /**
     * The last step: closes the socket and returns the buffers. If still open (the owner is
     * stopping), closes first, calling the down callback. Loop thread, once.
     */
    void connectDestroyed() {
        loop.assertInLoopThread();
        if (destroyed) {
            return;
        }
        destroyed = true;
        State s = state;
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            transition(s, State.DISCONNECTED);
            channel.disableAll();
            safeConnectionCallback();
        } else if (s == State.CONNECTING) {
            transition(s, State.DISCONNECTED);
        }
        channel.detach();
        closeSocket();
        BufferPool pool = loop.buffers();
        if (input != null) {
            pool.release(input);
            pool.release(output);
            input = null;
            output = null;
        }
        synchronized (pendingLock) {
            if (pending != null) {
                pool.release(pending);
                pending = null;
            }
        }
    }

    /**
     * The owner's stop: closes now if still open (down callback, then the owner's close hook) and
     * destroys at once, without a posted command, so no command in flight from another thread can
     * delay it. Loop thread; idempotent (a destroy posted earlier or later does nothing).
     */
    void closeAndDestroyInLoop() {
        loop.assertInLoopThread();
        handleClose(null);
        connectDestroyed();
    }

    private void closeSocket() {
        try {
            socket.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "close of {0} failed: {1}", name(), e);
        }
    }

    // ------------------------------------------------------------------ commands from any thread

    private void post(int bit) {
        int prev = (int) COMMANDS.getAndBitwiseOr(this, bit);
        if (prev == 0) {
            try {
                loop.queueInLoop(commandTask);
            } catch (RejectedExecutionException e) {
                // The loop has ended: nothing on this connection can run any more.
            }
        }
    }

    /**
     * The order commands of one batch run in. A write-complete in a batch always happened before a
     * high-water crossing in it (after a crossing output is pending, so a send cannot drain it).
     */
    private static final int[] COMMAND_ORDER = {
        CMD_ESTABLISH, CMD_WRITE_ERROR, CMD_FLUSH, CMD_READING, CMD_SHUTDOWN, CMD_FORCE_CLOSE,
        CMD_WRITE_COMPLETE, CMD_HIGH_WATER, CMD_DESTROY,
    };

    private void runCommands() {
        int bits = (int) COMMANDS.getAndSet(this, 0);
        for (int cmd : COMMAND_ORDER) {
            if ((bits & cmd) != 0) {
                // A callback that throws is reported; it must not cancel the rest of the batch
                // (a lost destroy would leak the socket).
                try {
                    runCommand(cmd);
                } catch (Throwable t) {
                    EventLoop.rethrowIfFatal(t);
                    loop.reportError(t);
                }
            }
        }
    }

    private void runCommand(int cmd) {
        switch (cmd) {
            case CMD_ESTABLISH:
                if (establishHook != null) {
                    establishHook.onConnection(this);
                } else {
                    connectEstablished();
                }
                break;
            case CMD_FLUSH:
                flushPending();
                break;
            case CMD_WRITE_ERROR:
                handleClose(directWriteError);
                break;
            case CMD_READING:
                applyReading();
                break;
            case CMD_SHUTDOWN:
                shutdownInLoop();
                break;
            case CMD_FORCE_CLOSE:
                forceCloseInLoop();
                break;
            case CMD_WRITE_COMPLETE:
                if (writeCompleteCallback != null) {
                    writeCompleteCallback.onWriteComplete(this);
                }
                break;
            case CMD_HIGH_WATER:
                if (highWaterPending) {
                    highWaterPending = false;
                    highWaterMarkCallback.onHighWaterMark(this, highWaterQueued);
                }
                break;
            default:
                connectDestroyed();
                break;
        }
    }

    // ------------------------------------------------------------------ send

    /** Sends all of {@code data}. Any thread. Returns false (and sends nothing) unless connected. */
    public boolean send(byte[] data) {
        return send(data, 0, data.length);
    }

    /** Sends {@code len} bytes of {@code data} from {@code off}. Any thread; the bytes are copied before return. */
    public boolean send(byte[] data, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, data.length);
        if (state != State.CONNECTED) {
            return false;
        }
        boolean inLoop = loop.isInLoopThread();
        if (inLoop && outputBusy()) {
            int old = output.readableBytes();
            output.append(data, off, len);
            afterAppend(old);
            return true;
        }
        synchronized (pendingLock) {
            if (pending == null || state != State.CONNECTED) {
                return false;
            }
            pending.append(data, off, len);
            if (writeDirectLocked()) {
                return true;
            }
        }
        staged(inLoop);
        return true;
    }

    /** Sends {@code src}'s remaining bytes and consumes them. Any thread. */
    public boolean send(ByteBuffer src) {
        if (state != State.CONNECTED) {
            return false;
        }
        boolean inLoop = loop.isInLoopThread();
        if (inLoop && outputBusy()) {
            int old = output.readableBytes();
            output.append(src);
            afterAppend(old);
            return true;
        }
        synchronized (pendingLock) {
            if (pending == null || state != State.CONNECTED) {
                return false;
            }
            pending.append(src);
            if (writeDirectLocked()) {
                return true;
            }
        }
        staged(inLoop);
        return true;
    }

    /**
     * Sends {@code buf}'s readable bytes and retrieves them from it. Any thread, but {@code buf}
     * itself must not be used concurrently (it may be this connection's own input buffer, as in an
     * echo server).
     */
    public boolean send(Buffer buf) {
        if (state != State.CONNECTED) {
            return false;
        }
        boolean inLoop = loop.isInLoopThread();
        if (inLoop && outputBusy()) {
            int old = output.readableBytes();
            output.append(buf);
            buf.retrieveAll();
            afterAppend(old);
            return true;
        }
        synchronized (pendingLock) {
            if (pending == null || state != State.CONNECTED) {
                return false;
            }
            pending.append(buf);
            buf.retrieveAll();
            if (writeDirectLocked()) {
                return true;
            }
        }
        staged(inLoop);
        return true;
    }

    /**
     * True while the loop owns the socket's output: bytes queued in the output buffer or
     * {@code OP_WRITE} armed. Then an in-loop send just appends; otherwise it goes the way of
     * every other sender, through {@code pendingLock}. Loop thread.
     */
    private boolean outputBusy() {
        return output.readableBytes() != 0 || channel.isWriting();
    }

    /** Bytes were left staged in {@code pending}: the loop takes them over (now, when this is the loop). */
    private void staged(boolean inLoop) {
        if (inLoop) {
            flushPending();
        } else {
            post(CMD_FLUSH);
        }
    }

    /**
     * The sender's own write, under {@code pendingLock}, of what is staged: allowed only while
     * the loop has nothing queued or being written ({@code outputIdle}), so it can neither
     * overtake nor tear anyone's bytes. A thread other than the loop thus pays one {@code write}
     * system call instead of waking the loop (a context switch, most of the cost of a cross-thread
     * round trip). Returns true when all was written; otherwise the rest stays staged for the loop,
     * and nobody writes directly until the loop has drained it.
     */
    private boolean writeDirectLocked() {
        Buffer p = pending;
        if (!outputIdle) {
            return false;
        }
        try {
            bytesSent += p.writeTo(socket);
        } catch (IOException e) {
            outputIdle = false;
            p.retrieveAll();
            directWriteError = e;
            post(CMD_WRITE_ERROR);
            return true; // the connection is closing; like a write the loop failed, the bytes are gone
        }
        if (p.readableBytes() != 0) {
            outputIdle = false; // the loop owns the output from here until it drains
            return false;
        }
        if (writeCompleteCallback != null) {
            post(CMD_WRITE_COMPLETE);
        }
        return true;
    }

    /** Tells other threads whether they may write directly; loop thread, only on a change. */
    private void setOutputIdle(boolean idle) {
        if (outputIdle != idle) {
            synchronized (pendingLock) {
                outputIdle = idle;
            }
        }
    }

    /**
     * Moves staged bytes behind the output buffer (a swap when it is empty) and takes the output
     * over from direct writers; then writes if nothing was queued. Loop thread.
     */
    private void flushPending() {
        if (output == null) {
            return;
        }
        int old = output.readableBytes();
        synchronized (pendingLock) {
            Buffer p = pending;
            if (p == null || p.readableBytes() == 0) {
                return;
            }
            if (old == 0) {
                pending = output;
                output = p;
            } else {
                output.append(p);
                p.retrieveAll();
            }
            outputIdle = false;
        }
        afterAppend(old);
    }

    /** After output grew from {@code oldLen}: high-water check, then write if nothing was pending. */
    private void afterAppend(int oldLen) {
        long newLen = output.readableBytes();
        if (oldLen < highWaterMark && newLen >= highWaterMark && highWaterMarkCallback != null
                && !aboveHighWater) { // once per excursion: a dip and re-crossing above low water is the same one
            aboveHighWater = true;
            highWaterQueued = newLen;
            highWaterPending = true;
            post(CMD_HIGH_WATER);
        }
        if (!channel.isWriting() && state != State.DISCONNECTED) {
            writeOutput(true);
        }
    }

    /** One write of the output buffer; arms or disarms OP_WRITE; fires the drain callbacks. */
    private void writeOutput(boolean fromSend) {
        int n;
        try {
            n = output.writeTo(socket);
        } catch (IOException e) {
            handleClose(e);
            return;
        }
        bytesSent += n;
        int left = output.readableBytes();
        if (aboveHighWater && left <= lowWaterMark) {
            aboveHighWater = false;
            if (highWaterPending) {
                // Drained before the (posted) high-water callback ran: the excursion is over
                // unseen, so neither callback runs; a low-water call first would invert the pair.
                highWaterPending = false;
            } else if (lowWaterMarkCallback != null) {
                lowWaterMarkCallback.onConnection(this);
            }
        }
        if (left == 0) {
            if (channel.isWriting()) {
                channel.disableWriting();
            }
            if (!shutdownRequested && state == State.CONNECTED) {
                setOutputIdle(true);
            }
            if (writeCompleteCallback != null) {
                if (fromSend) {
                    post(CMD_WRITE_COMPLETE); // not re-entrantly inside the caller's send
                } else {
                    writeCompleteCallback.onWriteComplete(this);
                }
            }
            if (shutdownRequested && !outputShutdown) {
                shutdownOutputNow();
            }
        } else if (!channel.isWriting()) {
            channel.enableWriting();
        }
    }

    // ------------------------------------------------------------------ shutdown and close

    /**
     * Half-closes: stops accepting sends and shuts the output down once everything sent before
     * (from any thread) has been written. Reading goes on until the peer closes. Any thread.
     */
    public void shutdown() {
        if (transition(State.CONNECTED, State.DISCONNECTING)) {
            post(CMD_FLUSH | CMD_SHUTDOWN);
        }
    }

    /*
     * Runs after the flush of the same command batch, so everything sent before shutdown() is in
     * the output buffer by now. The state alone cannot be the trigger: another thread switches it
     * to DISCONNECTING before its last sends have been flushed here.
     */
    private void shutdownInLoop() {
        if (state != State.DISCONNECTING || outputShutdown) {
            return;
        }
        shutdownRequested = true;
        // A sender that saw CONNECTED before the switch has finished under the lock by now;
        // whatever it staged goes out before the FIN, and nobody writes directly any more.
        flushPending();
        setOutputIdle(false);
        if (outputShutdown) {
            return;
        }
        if (!channel.isWriting() && (output == null || output.readableBytes() == 0)) {
            shutdownOutputNow();
        }
    }

    private void shutdownOutputNow() {
        outputShutdown = true;
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            handleClose(e);
            return;
        }
        if (peerShutdown) {
            handleClose(null); // both directions are done
        }
    }

    /** Closes now, dropping unsent output; the down callback runs on the loop. Any thread. */
    public void forceClose() {
        State s = state;
        if (s == State.CONNECTED) {
            if (!transition(State.CONNECTED, State.DISCONNECTING)) {
                s = state;
            }
        }
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            post(CMD_FORCE_CLOSE);
        }
    }

    /** {@link #forceClose()} after a delay (muduo's pairing with {@link #shutdown()}). Any thread. */
    public void forceCloseWithDelay(long delay, TimeUnit unit) {
        State s = state;
        if (s == State.CONNECTED) {
            transition(State.CONNECTED, State.DISCONNECTING);
        }
        if (state == State.DISCONNECTING) {
            loop.runAfter(delay, unit, () -> post(CMD_FORCE_CLOSE));
        }
    }

    /** Closes with a reset (SO_LINGER 0): unsent data is dropped and no TIME_WAIT is left behind. Any thread. */
    public void abort() {
        setOption(StandardSocketOptions.SO_LINGER, 0);
        forceClose();
    }

    private void forceCloseInLoop() {
        State s = state;
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            handleClose(null);
        }
    }

    /** Closes once: down callback, then the owner's removal hook. Loop thread. */
    private void handleClose(Throwable cause) {
        State s = state;
        if (s != State.CONNECTED && s != State.DISCONNECTING) {
            return;
        }
        if (!transition(s, State.DISCONNECTED)) {
            s = state; // a concurrent CONNECTED→DISCONNECTING; close from there
            if (s != State.DISCONNECTING || !transition(s, State.DISCONNECTED)) {
                return;
            }
        }
        // A direct write may have consumed the reset (ECONNRESET) that a later read then sees
        // only as EOF: the failed write is the real cause.
        closeCause = cause != null ? cause : directWriteError;
        channel.disableAll();
        safeConnectionCallback();
        ConnectionCallback cc = closeCallback;
        if (cc != null) {
            cc.onConnection(this);
        } else {
            destroyLater();
        }
    }

    private void safeConnectionCallback() {
        try {
            connectionCallback.onConnection(this);
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            loop.reportError(t);
        }
    }

    private void handleKeyInvalid() {
        handleClose(null);
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

    /** Whether the channel is reading (loop thread exact). */
    public boolean isReading() {
        return reading;
    }

    private void applyReading() {
        if (state == State.DISCONNECTED || input == null || peerShutdown) {
            return;
        }
        boolean want = wantReading;
        if (want) {
            if (input.readableBytes() >= inputLimit) {
                return; // still over the limit: the application has not consumed yet
            }
            inputPaused = false;
            if (!reading) {
                reading = true;
                channel.enableReading();
            }
        } else if (reading) {
            reading = false;
            channel.disableReading();
        }
    }

    private void handleRead() {
        int n;
        try {
            n = input.readFrom(socket, loop.buffers().scratch());
        } catch (IOException e) {
            handleClose(e);
            return;
        }
        if (n > 0) {
            bytesReceived += n;
            messageCallback.onMessage(this, input, System.nanoTime());
            if (input != null && input.readableBytes() >= inputLimit && reading) {
                inputPaused = true;
                reading = false;
                channel.disableReading();
            }
        } else if (n < 0) {
            handlePeerShutdown();
        }
    }

    private void handlePeerShutdown() {
        if (!allowHalfClosure || state == State.DISCONNECTED) {
            handleClose(null);
            return;
        }
        peerShutdown = true;
        reading = false;
        channel.disableReading();
        if (halfCloseCallback != null) {
            halfCloseCallback.onConnection(this);
        }
        if (outputShutdown) {
            handleClose(null);
        }
    }

    /** True after the peer's FIN arrived on a connection that allows half-closure. */
    public boolean isPeerShutdown() {
        return peerShutdown;
    }

    /** True when reading is paused because the input buffer reached the input limit. */
    public boolean isInputPaused() {
        return inputPaused;
    }

    private void handleWrite() {
        if (!channel.isWriting() || output == null) {
            return;
        }
        writeOutput(false);
    }

    @Override
    public String toString() {
        return "TcpConnection[" + name() + " " + localAddress + " -> " + peerAddress + " " + state + "]";
    }

    SocketChannel socketForOwner() {
        return socket;
    }
}
