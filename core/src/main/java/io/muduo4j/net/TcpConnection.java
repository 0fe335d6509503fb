package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One established TCP connection, living on one {@link EventLoop} for its whole life. muduo's
 * {@code TcpConnection}.
 *
 * <h2>States</h2>
 * {@link State#CONNECTING} → {@link State#CONNECTED} (established on its loop, or on the thread
 * that called {@link TcpClient#connectNow()}, before its loop registers it) →
 * {@link State#DISCONNECTING} ({@link #shutdown()} or {@link #forceClose()} asked for, from any
 * thread, or the peer's FIN arrived) → {@link State#DISCONNECTED} (closed on its loop; exactly one
 * "down" callback). Every transition goes through {@link #transition(State, State)}; the ones other
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
public final class TcpConnection {
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

    private static final System.Logger LOG = System.getLogger(TcpConnection.class.getName());
    private static final VarHandle STATE;
    private static final VarHandle COMMANDS;
    private static final VarHandle QUEUED;
    private static final VarHandle EXCURSION;
    private static final VarHandle THROTTLES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(TcpConnection.class, "state", State.class);
            COMMANDS = l.findVarHandle(TcpConnection.class, "commands", int.class);
            QUEUED = l.findVarHandle(TcpConnection.class, "queued", long.class);
            EXCURSION = l.findVarHandle(TcpConnection.class, "excursion", Object.class);
            THROTTLES = l.findVarHandle(TcpConnection.class, "throttles", int.class);
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
    private static final int CMD_WATER = 1 << 6;
    private static final int CMD_DESTROY = 1 << 7;
    private static final int CMD_WRITE_ERROR = 1 << 8;
    private static final int CMD_OUTPUT_LIMIT = 1 << 9;

    // What a send appends from; a switch instead of three copies of the send path.
    private static final int SRC_ARRAY = 0;
    private static final int SRC_NIO = 1;
    private static final int SRC_BUFFER = 2;

    /** The excursion tag of a connection with no upstream to pause. */
    private static final Object NO_UPSTREAM = new Object();
    private static final ConnectionCallback NO_CONNECTION_CALLBACK = c -> { };
    private static final MessageCallback DISCARD = (c, b, t) -> b.retrieveAll();

    private final EventLoop loop;
    private final long id;
    private final String ownerName;
    private final Channel channel; // also the socket's handle for the loop's poller
    private volatile InetSocketAddress localAddress; // asked of the socket on first use
    private volatile InetSocketAddress peerAddress;
    private final Runnable commandTask = this::runCommands;
    private final Object pendingLock = new Object();

    private volatile State state = State.CONNECTING;
    private volatile int commands;
    private volatile long queued; // accepted by send, not yet taken by the socket
    // Non-null from reaching the high-water mark until back at low water: the upstream paused for
    // this excursion (or NO_UPSTREAM). Whoever sets it pauses that upstream, whoever clears it
    // releases the same one, so pauses and releases pair up whatever the threads.
    private volatile Object excursion;
    private volatile int throttles; // downstream connections above high water that pause this one's reading
    private volatile boolean wantReading = true;
    private volatile boolean staged; // pending holds bytes the loop has to take over; set under pendingLock
    private volatile TcpConnection upstream = this;
    private volatile Throwable closeCause;
    private volatile Throwable closeRequestCause; // why forceClose was asked for internally
    private volatile Throwable directWriteError;
    private volatile Object context;

    // loop-only
    private Buffer input;
    private Buffer output;
    private Buffer pending; // guarded by pendingLock; the staging area of sends not written directly
    private boolean spareAllowed; // guarded by pendingLock; adopted and unregistered: a send may take a spare
    private boolean outputIdle; // guarded by pendingLock; written by the loop only, see send()
    private boolean reading;
    private boolean inputPaused;
    private boolean highWaterSeen; // the high-water callback ran for the current excursion
    private boolean peerShutdown;
    private boolean outputShutdown;
    private boolean shutdownRequested;
    private boolean destroyed;
    private boolean adopted; // made CONNECTED by a connecting thread; the loop has yet to register it
    private boolean upCalled; // the up callback ran, so the down callback will
    private long flushTimer;
    private long flushMark; // bytesSent when the flush timer was armed
    private Runnable flushCheck; // made on the first lingering close of this connection only
    private long bytesReceived;
    private long bytesSent;

    // configuration (setup before establishment)
    private ConnectionCallback connectionCallback = NO_CONNECTION_CALLBACK;
    private MessageCallback messageCallback = DISCARD;
    private WriteCompleteCallback writeCompleteCallback;
    private HighWaterMarkCallback highWaterMarkCallback;
    private ConnectionCallback lowWaterMarkCallback;
    private ConnectionCallback halfCloseCallback;
    private ConnectionCallback outputLimitCallback;
    private ConnectionCallback closeCallback; // the owner's removal hook, last thing on close
    private ConnectionCallback establishHook; // the owner's registration, instead of connectEstablished
    int ownerSlot; // the owner's bookkeeping (a server's registry index)
    private long highWaterMark = ConnectionOptions.DEFAULT_HIGH_WATER_MARK;
    private long lowWaterMark = ConnectionOptions.DEFAULT_LOW_WATER_MARK;
    private long outputLimit = ConnectionOptions.DEFAULT_OUTPUT_LIMIT;
    private long closeFlushTimeoutMs = ConnectionOptions.DEFAULT_CLOSE_FLUSH_TIMEOUT_MS;
    private int inputLimit = ConnectionOptions.DEFAULT_INPUT_LIMIT;
    private boolean allowHalfClosure;

    /**
     * Wraps a connected, non-blocking socket: {@code channel} belongs to {@code loop} and holds it
     * (registered already when the connector's registration was handed over).
     */
    TcpConnection(EventLoop loop, long id, String ownerName, Channel channel) {
        this.loop = loop;
        this.id = id;
        this.ownerName = ownerName;
        this.channel = channel;
        this.channel.setReadCallback(this::handleRead);
        this.channel.setWriteCallback(this::handleWrite);
        this.channel.setCloseCallback(this::handleKeyInvalid);
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
     * Whether the state is {@link State#CONNECTED}.
     *
     * @return true while connected
     */
    public boolean connected() {
        return state == State.CONNECTED;
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
        synchronized (pendingLock) { // as close: a descriptor number is reused as soon as it is closed
            Poller p = loop.poller();
            if (!p.isOpen(channel)) {
                return null;
            }
            try {
                return peer ? p.remoteAddress(channel) : p.localAddress(channel);
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
     * Bytes accepted by {@code send} and not yet taken by the socket, from every thread. Any thread.
     *
     * @return the queued bytes
     */
    public long queuedBytes() {
        return queued;
    }

    /**
     * False from the moment the queued bytes reach the high-water mark until they are back at the
     * low-water mark (Netty's {@code isWritable}). Any thread: a producer on another thread asks this
     * before it sends.
     *
     * @return false from reaching the high-water mark until back at the low-water mark
     */
    public boolean isWritable() {
        return excursion == null;
    }

    /**
     * Bytes read from the socket so far (loop thread exact).
     *
     * @return the bytes received
     */
    public long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Bytes written to the socket so far: by the loop, and by other threads' direct writes (see
     * the class comment), so a read from any thread may lag behind the latest writes.
     *
     * @return the bytes sent
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

    private <T> void setOption(java.net.SocketOption<T> option, T value) {
        try {
            // Under the lock close takes: a descriptor number is reused as soon as it is closed.
            synchronized (pendingLock) {
                loop.poller().setOption(channel, option, value);
            }
        } catch (IOException e) {
            // Closed already: a setting on a closed connection has nothing left to affect.
            LOG.log(System.Logger.Level.DEBUG, "cannot set {0} on {1}: {2}", option, name(), e);
        }
    }

    // ------------------------------------------------------------------ lifecycle (loop)

    /**
     * The connecting thread's half of {@link TcpClient#connectNow()}: the connection is
     * {@link State#CONNECTED} from here (sends are written by the caller itself while the loop has
     * not seen it yet), and its registration is posted to the loop, which then reads and calls the
     * up callback. Returns false, with the connection closed and nothing
     * posted, when the loop has ended. Any thread but the loop's, once, on a new connection.
     * The staging buffer is the loop's to give: a send before the registration takes one of the
     * loop's spares ({@link BufferPool#takeSpare()}), so a connection that is not written to
     * before the loop sees it takes nothing from them.
     */
    boolean establishFromCaller() {
        synchronized (pendingLock) {
            spareAllowed = true;
            outputIdle = true;
        }
        adopted = true; // read by the loop after the post below
        transition(State.CONNECTING, State.CONNECTED);
        COMMANDS.getAndBitwiseOr(this, CMD_ESTABLISH);
        try {
            loop.queueInLoop(commandTask);
            return true;
        } catch (RejectedExecutionException e) {
            transition(State.CONNECTED, State.DISCONNECTED);
            closeSocket();
            return false;
        }
    }

    /** Established on its loop: enables reading and calls the connection callback (up). Loop thread. */
    void connectEstablished() {
        loop.assertInLoopThread();
        boolean fromCaller = adopted;
        adopted = false;
        State s = state;
        // An adopted connection is CONNECTED already, or DISCONNECTING when its owner closed it
        // before the loop got here: it is registered either way, and gets its up callback only
        // in the first case (see below).
        if (fromCaller ? s == State.DISCONNECTED : s != State.CONNECTING) {
            return; // destroyed before it was established (server stopping)
        }
        BufferPool pool = loop.buffers();
        try {
            input = pool.acquire();
            output = pool.acquire();
            synchronized (pendingLock) {
                if (pending == null) {
                    pending = pool.acquire();
                } else {
                    pool.refillSpares(); // a send before this took a spare
                }
                spareAllowed = false;
                if (!fromCaller) {
                    outputIdle = true;
                }
            }
        } catch (OutOfMemoryError e) {
            // No memory for this connection's buffers: refuse it, keep the loop.
            if (input != null && output == null) {
                pool.release(input);
                input = null;
            }
            transition(s, State.DISCONNECTED);
            closeCause = e;
            loop.reportError(e);
            ConnectionCallback cc = closeCallback;
            if (cc != null) {
                cc.onConnection(this);
            } else {
                destroyLater();
            }
            return;
        }
        // Buffers first: another thread may send the moment it sees CONNECTED.
        if (!fromCaller) {
            transition(State.CONNECTING, State.CONNECTED);
        }
        reading = true;
        channel.enableReading();
        if (state != State.CONNECTED) {
            // Shut down or closed by the thread that connected it before the loop got here: that
            // thread knows, and an up callback that sees connected() false would read as a down.
            return;
        }
        upCalled = true;
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
     * stopping), closes first, calling the down callback. Loop thread; once (later calls do nothing).
     */
    void connectDestroyed() {
        loop.assertInLoopThread();
        if (destroyed) {
            return;
        }
        if (adopted) {
            connectEstablished(); // registered first, so its up and down callbacks pair up (both or neither)
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
        cancelFlushTimer();
        endExcursion();
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
            spareAllowed = false;
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
        if (adopted) {
            connectEstablished(); // registered first, so its up and down callbacks pair up (both or neither)
        }
        handleClose(null);
        connectDestroyed();
    }

    /** Closes the socket under the lock direct writers hold, so none writes to a reused descriptor. Any thread. */
    private void closeSocket() {
        synchronized (pendingLock) {
            loop.poller().close(channel);
        }
    }

    // ------------------------------------------------------------------ commands from any thread

    /**
     * Sets command bits and queues the command task when the word was empty. Never call it while
     * holding {@code pendingLock}: on a full task queue it waits for the loop, which may itself be
     * waiting for that lock.
     */
    private void post(int bits) {
        int prev = (int) COMMANDS.getAndBitwiseOr(this, bits);
        if (prev == 0) {
            try {
                loop.queueInLoop(commandTask);
            } catch (RejectedExecutionException e) {
                // The loop has ended: nothing on this connection can run any more.
            }
        }
    }

    /**
     * The order commands of one batch run in: what a batch flushes and shuts down was sent before
     * the batch; a write-complete always happened before a high-water crossing in the same batch.
     */
    private static final int[] COMMAND_ORDER = {
        CMD_ESTABLISH, CMD_WRITE_ERROR, CMD_FLUSH, CMD_READING, CMD_SHUTDOWN, CMD_FORCE_CLOSE,
        CMD_WRITE_COMPLETE, CMD_WATER, CMD_OUTPUT_LIMIT, CMD_DESTROY,
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
                    failed(t);
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
                if (writeCompleteCallback != null && state != State.DISCONNECTED) {
                    writeCompleteCallback.onWriteComplete(this);
                }
                break;
            case CMD_WATER:
                reconcileWater();
                break;
            case CMD_OUTPUT_LIMIT:
                if (outputLimitCallback != null && state != State.DISCONNECTED) {
                    outputLimitCallback.onConnection(this);
                }
                break;
            default:
                connectDestroyed();
                break;
        }
    }

    /**
     * What a callback or a step of this connection threw, on the loop: reported; an
     * {@link OutOfMemoryError} also closes this connection (it is the one whose work failed), so
     * the loop and its other connections keep running.
     */
    private void failed(Throwable t) {
        EventLoop.rethrowIfFatal(t);
        loop.reportError(t);
        if (t instanceof OutOfMemoryError) {
            handleClose(t);
        }
    }

    // ------------------------------------------------------------------ send

    /**
     * Sends all of {@code data}. Any thread. Returns false (and sends nothing) unless connected and under the output limit.
     *
     * @param data the bytes, copied before return
     * @return true when the whole message was accepted
     */
    public boolean send(byte[] data) {
        return send(data, 0, data.length);
    }

    /**
     * Sends {@code len} bytes of {@code data} from {@code off}. Any thread; the bytes are copied before return.
     *
     * @param data the bytes
     * @param off index of the first byte
     * @param len number of bytes
     * @return true when the whole message was accepted
     */
    public boolean send(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        return send0(data, off, len, SRC_ARRAY);
    }

    /**
     * Sends {@code src}'s remaining bytes and consumes them (only when accepted). Any thread.
     *
     * @param src the bytes
     * @return true when the whole message was accepted
     */
    public boolean send(ByteBuffer src) {
        return send0(src, 0, src.remaining(), SRC_NIO);
    }

    /**
     * Sends {@code buf}'s readable bytes and retrieves them from it (only when accepted). Any
     * thread, but {@code buf} itself must not be used concurrently (it may be this connection's own
     * input buffer, as in an echo server).
     *
     * @param buf the bytes
     * @return true when the whole message was accepted
     */
    public boolean send(Buffer buf) {
        return send0(buf, 0, buf.readableBytes(), SRC_BUFFER);
    }

    private static void appendTo(Buffer dst, Object src, int off, int len, int kind) {
        switch (kind) {
            case SRC_ARRAY:
                dst.append((byte[]) src, off, len);
                break;
            case SRC_NIO:
                dst.append((ByteBuffer) src);
                break;
            default:
                Buffer b = (Buffer) src;
                dst.append(b);
                b.retrieveAll();
                break;
        }
    }

    private boolean send0(Object src, int off, int len, int kind) {
        if (state != State.CONNECTED || !reserve(len)) {
            return false;
        }
        boolean inLoop = loop.isInLoopThread();
        int toPost;
        try {
            if (inLoop && !staged && outputBusy()) {
                appendTo(output, src, off, len, kind);
                afterAppend();
                toPost = 0;
            } else {
                synchronized (pendingLock) {
                    if (pending == null && spareAllowed) {
                        pending = loop.buffers().takeSpare(); // sent before the loop registered it
                    }
                    if (pending == null || state != State.CONNECTED) {
                        unreserve(len);
                        return false;
                    }
                    appendTo(pending, src, off, len, kind);
                    toPost = writeDirectLocked();
                }
            }
        } catch (OutOfMemoryError e) {
            // Growing a buffer failed before anything was copied: the send is refused whole.
            unreserve(len);
            closeWith(e);
            return false;
        }
        if (inLoop && (toPost & CMD_FLUSH) != 0) {
            toPost &= ~CMD_FLUSH;
            try {
                flushPending();
            } catch (OutOfMemoryError e) {
                failed(e); // accepted, but the output could not grow: closed, the error its cause
            }
        }
        if (toPost != 0) {
            post(toPost);
        }
        checkHighWater();
        return true;
    }

    /**
     * Counts {@code len} more queued bytes unless that passes the output limit. A send on an empty
     * queue always passes, so one message larger than the limit still goes out: the limit bounds
     * what piles up behind a peer that does not read, not the size of a message. Any thread.
     */
    private boolean reserve(int len) {
        long limit = outputLimit;
        for (;;) {
            long q = queued;
            if (q != 0 && q + len > limit) {
                refused(q, len);
                return false;
            }
            if (QUEUED.compareAndSet(this, q, q + len)) {
                return true;
            }
        }
    }

    private void unreserve(int len) {
        QUEUED.getAndAdd(this, (long) -len);
    }

    private void refused(long queuedNow, int len) {
        if (outputLimitCallback != null) {
            post(CMD_OUTPUT_LIMIT);
        } else {
            closeWith(new OutputLimitExceededException(outputLimit, queuedNow, len));
        }
    }

    /**
     * The sender reached the high-water mark: unwritable now, and the upstream paused by this
     * thread at once (on its own loop that stops the very next read: a relay overshoots by one
     * read, not by a hop to another loop); the callbacks run on this connection's loop. Any thread.
     */
    private void checkHighWater() {
        if (queued >= highWaterMark && excursion == null) {
            TcpConnection up = upstream;
            Object tag = up != null ? up : NO_UPSTREAM;
            if (EXCURSION.compareAndSet(this, null, tag)) {
                if (up != null) {
                    up.throttle(1);
                }
                post(CMD_WATER);
            }
        }
    }

    /**
     * True while the loop owns the socket's output: bytes queued in the output buffer or
     * {@code OP_WRITE} armed. Then an in-loop send just appends; otherwise it goes the way of
     * every other sender, through {@code pendingLock}. Loop thread.
     */
    private boolean outputBusy() {
        return output != null && (output.readableBytes() != 0 || channel.isWriting());
    }

    /**
     * The sender's own write, under {@code pendingLock}, of what is staged: allowed only while
     * the loop has nothing queued or being written ({@code outputIdle}), so it can neither
     * overtake nor tear anyone's bytes. A thread other than the loop thus pays one {@code write}
     * system call instead of waking the loop (a context switch, most of the cost of a cross-thread
     * round trip). Returns the commands the caller posts once it has released the lock: a flush
     * when bytes are left staged for the loop (nobody writes directly until the loop has drained
     * them), a write-complete, a water-mark check, or the write error.
     */
    private int writeDirectLocked() {
        Buffer p = pending;
        if (!outputIdle) {
            staged = true;
            return CMD_FLUSH;
        }
        int n;
        try {
            n = loop.poller().write(channel, p);
        } catch (IOException e) {
            outputIdle = false;
            p.retrieveAll();
            directWriteError = e;
            return CMD_WRITE_ERROR; // the connection is closing; like a write the loop failed, the bytes are gone
        }
        bytesSent += n;
        long q = (long) QUEUED.getAndAdd(this, (long) -n) - n;
        int bits = 0;
        if (p.readableBytes() != 0) {
            outputIdle = false; // the loop owns the output from here until it drains
            staged = true;
            bits = CMD_FLUSH;
        } else if (writeCompleteCallback != null) {
            bits = CMD_WRITE_COMPLETE;
        }
        if (excursion != null && q <= lowWaterMark) {
            bits |= CMD_WATER;
        }
        return bits;
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
            staged = false;
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
        afterAppend();
    }

    /** After output grew: write at once unless OP_WRITE is armed (then the socket is full). */
    private void afterAppend() {
        if (!channel.isWriting() && state != State.DISCONNECTED) {
            writeOutput(true);
        }
    }

    /** One write of the output buffer; arms or disarms OP_WRITE; fires the drain callbacks. */
    private void writeOutput(boolean fromSend) {
        int n;
        try {
            n = loop.poller().write(channel, output);
        } catch (IOException e) {
            handleClose(e);
            return;
        }
        bytesSent += n;
        long q = (long) QUEUED.getAndAdd(this, (long) -n) - n;
        if (excursion != null && q <= lowWaterMark) {
            becameWritable();
            if (state == State.DISCONNECTED) {
                return; // closed by the low-water callback
            }
        }
        if (output.readableBytes() != 0) {
            if (!channel.isWriting()) {
                channel.enableWriting();
            }
            return;
        }
        if (channel.isWriting()) {
            channel.disableWriting();
        }
        if (!shutdownRequested && state == State.CONNECTED) {
            setOutputIdle(true);
        }
        // The FIN before the callback: a callback that throws cannot keep it from the peer.
        if (shutdownRequested && !outputShutdown) {
            shutdownOutputNow();
        }
        if (writeCompleteCallback != null && state != State.DISCONNECTED) {
            if (fromSend) {
                post(CMD_WRITE_COMPLETE); // not re-entrantly inside the caller's send
            } else {
                try {
                    writeCompleteCallback.onWriteComplete(this);
                } catch (Throwable t) {
                    failed(t);
                }
            }
        }
    }

    // ------------------------------------------------------------------ water marks (loop)

    /**
     * The loop's view of an excursion a send started or a direct write ended: runs the high-water
     * callback once per excursion, or ends an excursion that is already over.
     */
    private void reconcileWater() {
        if (state == State.DISCONNECTED) {
            endExcursion(); // started by a send that raced the close: release its upstream
            return;
        }
        if (excursion == null) {
            return;
        }
        long q = queued;
        if (q <= lowWaterMark) {
            becameWritable();
        } else if (!highWaterSeen) {
            highWaterSeen = true;
            if (highWaterMarkCallback != null) {
                highWaterMarkCallback.onHighWaterMark(this, q);
            }
        }
    }

    /** Back at low water: writable again; the low-water callback only after a high-water one. */
    private void becameWritable() {
        if (!endExcursion() || !highWaterSeen) {
            return;
        }
        highWaterSeen = false;
        if (lowWaterMarkCallback != null) {
            try {
                lowWaterMarkCallback.onConnection(this);
            } catch (Throwable t) {
                failed(t);
            }
        }
    }

    /** Clears the excursion and releases the upstream it paused; false when there was none. */
    private boolean endExcursion() {
        Object tag = excursion;
        if (tag == null || !EXCURSION.compareAndSet(this, tag, null)) {
            return false;
        }
        if (tag != NO_UPSTREAM) {
            ((TcpConnection) tag).throttle(-1);
        }
        return true;
    }

    /**
     * A downstream connection pauses ({@code +1}) or releases ({@code -1}) this one's reading. Any
     * thread. A release may overtake its pause (the two are made by different threads); the count
     * is then briefly negative, which pauses too, and the last change applied settles it.
     */
    private void throttle(int delta) {
        THROTTLES.getAndAdd(this, delta);
        if (loop.isInLoopThread()) {
            applyReading();
        } else {
            post(CMD_READING);
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
        if (state == State.DISCONNECTING && !shutdownRequested) {
            flushThenShut();
        }
    }

    /**
     * Writes everything accepted, then shuts the output down (and closes, when the peer has shut
     * down too); a flush that takes longer than the close-flush timeout resets the connection.
     * Loop thread, state DISCONNECTING.
     */
    private void flushThenShut() {
        shutdownRequested = true;
        // A sender that saw CONNECTED before the switch has finished under the lock by now;
        // whatever it staged goes out before the FIN, and nobody writes directly any more.
        setOutputIdle(false);
        flushPending(); // may drain everything and shut down already
        if (outputShutdown || state == State.DISCONNECTED) {
            return;
        }
        if (!channel.isWriting() && output.readableBytes() == 0) {
            shutdownOutputNow();
        } else if (closeFlushTimeoutMs > 0 && flushTimer == 0) {
            if (flushCheck == null) {
                flushCheck = this::checkFlushProgress; // the close path only, and only while output is queued
            }
            armFlushTimer();
        }
    }

    private void armFlushTimer() {
        flushMark = bytesSent;
        flushTimer = loop.runAfter(closeFlushTimeoutMs, TimeUnit.MILLISECONDS, flushCheck);
    }

    /** The close-flush timeout is a time without progress: a slow reader is waited for, a stuck one is not. */
    private void checkFlushProgress() {
        flushTimer = 0;
        if (state == State.DISCONNECTED || outputShutdown) {
            return;
        }
        if (bytesSent != flushMark) {
            armFlushTimer();
            return;
        }
        SocketTimeoutException cause = new SocketTimeoutException(queued + " bytes of output not flushed: no progress for "
                + closeFlushTimeoutMs + " ms while closing " + name() + "; connection reset");
        setOption(StandardSocketOptions.SO_LINGER, 0); // the peer learns that the stream was cut short
        handleClose(cause);
    }

    private void cancelFlushTimer() {
        if (flushTimer != 0) {
            loop.cancel(flushTimer);
            flushTimer = 0;
        }
    }

    private void shutdownOutputNow() {
        outputShutdown = true;
        cancelFlushTimer();
        if (peerShutdown) {
            handleClose(null); // both directions are done: the close sends our FIN
            return;
        }
        try {
            loop.poller().shutdownOutput(channel);
        } catch (IOException e) {
            handleClose(e);
        }
    }

    /** Closes now, dropping unsent output; the down callback runs on the loop. Any thread. */
    public void forceClose() {
        closeWith(null);
    }

    /** Asks for a forced close with {@code cause} as the close cause (the first cause asked for wins). Any thread. */
    private void closeWith(Throwable cause) {
        if (cause != null && closeRequestCause == null) {
            closeRequestCause = cause;
        }
        State s = state;
        if (s == State.CONNECTED && !transition(State.CONNECTED, State.DISCONNECTING)) {
            s = state;
        }
        if (s == State.CONNECTED || s == State.DISCONNECTING) {
            post(CMD_FORCE_CLOSE);
        }
    }

    /**
     * {@link #forceClose()} after a delay (muduo's pairing with {@link #shutdown()}). Any thread.
     *
     * @param delay the delay
     * @param unit its unit
     */
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
            handleClose(closeRequestCause);
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
        cancelFlushTimer();
        endExcursion(); // a closed downstream no longer holds its upstream back
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
        if (!upCalled) {
            return;
        }
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

    /**
     * Whether the channel is reading (loop thread exact).
     *
     * @return true while reading
     */
    public boolean isReading() {
        return reading;
    }

    /** Reads while wanted, not throttled by a downstream, and under the input limit. Loop thread. */
    private void applyReading() {
        if (state == State.DISCONNECTED || input == null || peerShutdown) {
            return;
        }
        if (wantReading && throttles == 0 && input.readableBytes() < inputLimit) {
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
            n = loop.poller().read(channel, input, loop.buffers().scratch());
        } catch (IOException e) {
            handleClose(e);
            return;
        } catch (OutOfMemoryError e) {
            failed(e);
            return;
        }
        if (n > 0) {
            bytesReceived += n;
            try {
                messageCallback.onMessage(this, input, System.nanoTime());
            } catch (Throwable t) {
                failed(t); // and still apply the input limit below: a throwing decoder must not unbound it
            }
            if (reading && state != State.DISCONNECTED && input.readableBytes() >= inputLimit) {
                inputPaused = true;
                reading = false;
                channel.disableReading();
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
        peerShutdown = true;
        reading = false;
        channel.disableReading();
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

    private void handleWrite() {
        if (!channel.isWriting() || output == null) {
            return;
        }
        writeOutput(false);
    }

    @Override
    public String toString() {
        return "TcpConnection[" + name() + " " + localAddress() + " -> " + peerAddress() + " " + state + "]";
    }

    /** Closes the socket without the loop (the owner's stop found the loop ended, or a close failed). */
    void closeSocketForOwner() {
        closeSocket();
    }

    /** The socket's channel, for tests that look at the socket. */
    Channel channelForOwner() {
        return channel;
    }
}
