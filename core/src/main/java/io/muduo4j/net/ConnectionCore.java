package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.util.concurrent.RejectedExecutionException;
import io.muduo4j.net.TcpConnection.State;

/**
 * The state of one {@link TcpConnection}, the bottom of the layers it is made of (one object, so a
 * connection costs one allocation): its fields, the state machine's one transition method, the
 * command word through which other threads reach the loop, and the dispatch of its socket's
 * readiness (the connection is its own {@link Pollable}: the poller calls {@link #handleEvent}).
 * The connection's monitor ({@code synchronized (this)}) is the send lock: it serialises direct
 * writes, staging and the socket's close; nobody waits for the loop while holding it. {@link ConnectionOutput} adds the send
 * path and back-pressure, {@link ConnectionLifecycle} establishing, the commands and closing, and
 * {@link TcpConnection} the public surface and input. Threading as in {@link TcpConnection}.
 */
abstract class ConnectionCore extends Pollable {
    static final System.Logger LOG = System.getLogger(TcpConnection.class.getName());
    static final VarHandle STATE;
    static final VarHandle COMMANDS;
    static final VarHandle QUEUED;
    static final VarHandle EXCURSION;
    static final VarHandle THROTTLES;
    static final VarHandle CLOSE_TIMERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(ConnectionCore.class, "state", State.class);
            COMMANDS = l.findVarHandle(ConnectionCore.class, "commands", int.class);
            QUEUED = l.findVarHandle(ConnectionCore.class, "queued", long.class);
            EXCURSION = l.findVarHandle(ConnectionCore.class, "excursion", Object.class);
            THROTTLES = l.findVarHandle(ConnectionCore.class, "throttles", int.class);
            CLOSE_TIMERS = l.findVarHandle(ConnectionCore.class, "closeTimers", CloseTimers.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final int CMD_ESTABLISH = 1;
    static final int CMD_FLUSH = 1 << 1;
    static final int CMD_READING = 1 << 2;
    static final int CMD_SHUTDOWN = 1 << 3;
    static final int CMD_FORCE_CLOSE = 1 << 4;
    static final int CMD_WRITE_COMPLETE = 1 << 5;
    static final int CMD_WATER = 1 << 6;
    static final int CMD_DESTROY = 1 << 7;
    static final int CMD_WRITE_ERROR = 1 << 8;
    static final int CMD_OUTPUT_LIMIT = 1 << 9;

    /** The excursion tag of a connection with no upstream to pause. */
    static final Object NO_UPSTREAM = new Object();
    static final ConnectionCallback NO_CONNECTION_CALLBACK = c -> { };
    static final MessageCallback DISCARD = (c, b, t) -> b.retrieveAll();

    final long id;
    final String ownerName;
    volatile InetSocketAddress localAddress; // asked of the socket on first use
    volatile InetSocketAddress peerAddress;

    volatile State state = State.CONNECTING;
    volatile int commands;
    volatile long queued; // accepted by send, not yet taken by the socket
    // Non-null from reaching the high-water mark until back at low water: the upstream paused for
    // this excursion (or NO_UPSTREAM). Whoever sets it pauses that upstream, whoever clears it
    // releases the same one, so pauses and releases pair up whatever the threads.
    volatile Object excursion;
    volatile int throttles; // downstream connections above high water that pause this one's reading
    volatile boolean wantReading = true;
    volatile boolean staged; // pending holds bytes the loop has to take over; set under the monitor
    volatile TcpConnection upstream;
    volatile Throwable closeCause;
    volatile Throwable closeRequestCause; // why forceClose was asked for internally
    volatile boolean forceCloseRequested; // a forced close is on its way: a peer's FIN no longer starts a lingering one
    volatile Throwable directWriteError;
    volatile Object context;
    volatile boolean resetOnClose; // SO_LINGER 0 at the close (abort, flush timeout); the closing thread applies it

    // loop-only
    Buffer input;
    Buffer output;
    Buffer pending; // guarded by the monitor; the staging area of sends not written directly
    boolean spareAllowed; // guarded by the monitor; adopted and unregistered: a send may take a spare
    // Guarded by the monitor: true while the loop has no output queued or being written, so a
    // sender may write directly (writeDirectLocked). Set by the loop at the establishment and when
    // its output drains, and by the connecting thread of connectNow(); cleared by the loop when it
    // takes the output over (a flush, a lingering close) and by a sender on any thread whose
    // direct write left bytes staged or failed. Not loop-only, whatever the group it sits in.
    boolean outputIdle;
    boolean reading;
    boolean inputPaused;
    boolean highWaterSeen; // the high-water callback ran for the current excursion
    boolean peerShutdown;
    boolean outputShutdown;
    boolean shutdownRequested;
    boolean destroyed;
    boolean adopted; // made CONNECTED by a connecting thread; the loop has yet to register it
    static final byte UP_NOT_CALLED = 0;
    static final byte UP_CALLING = 1; // loop thread: in the up callback (connected() reads true there)
    static final byte UP_CALLED = 2;
    byte up; // UP_*: once the up callback ran, the down callback will (one byte: the object stays 248 B)
    long flushTimer;
    long flushMark; // bytesSent when the flush timer was armed
    volatile CloseTimers closeTimers; // made on the first close that arms a timer; most never do
    long bytesReceived;
    long bytesSent;

    // configuration (setup before establishment)
    ConnectionCallback connectionCallback = NO_CONNECTION_CALLBACK;
    MessageCallback messageCallback = DISCARD;
    WriteCompleteCallback writeCompleteCallback;
    HighWaterMarkCallback highWaterMarkCallback;
    ConnectionCallback lowWaterMarkCallback;
    ConnectionCallback halfCloseCallback;
    ConnectionCallback outputLimitCallback;
    ConnectionCallback closeCallback; // the owner's removal hook, last thing on close
    ConnectionCallback establishHook; // the owner's registration, instead of connectEstablished
    int ownerSlot; // the owner's bookkeeping (a server's registry index)
    long highWaterMark = ConnectionOptions.DEFAULT_HIGH_WATER_MARK;
    long lowWaterMark = ConnectionOptions.DEFAULT_LOW_WATER_MARK;
    long outputLimit = ConnectionOptions.DEFAULT_OUTPUT_LIMIT;
    long closeFlushTimeoutMs = ConnectionOptions.DEFAULT_CLOSE_FLUSH_TIMEOUT_MS;
    int inputLimit = ConnectionOptions.DEFAULT_INPUT_LIMIT;
    boolean allowHalfClosure;

    /**
     * A connection of {@code loop} with no socket yet: the poller accepts or opens one into it, or
     * a connector's registration is handed over to it ({@link #transferTo}).
     */
    ConnectionCore(EventLoop loop, long id, String ownerName) {
        super(loop);
        this.id = id;
        this.ownerName = ownerName;
        this.upstream = (TcpConnection) this; // a server connection is its own upstream until configured
    }

    /**
     * The socket's readiness, from the poller: read, then write, as a {@link Channel} dispatches
     * to its callbacks; what escapes goes to the loop's error reporting. Loop thread.
     */
    @Override
    final void handleEvent(int ready) {
        try {
            if (ready == Poller.INVALID) {
                handleKeyInvalid();
                return;
            }
            if ((ready & SelectionKey.OP_READ) != 0) {
                handleRead();
            }
            // The read may have closed the connection or dropped the write interest.
            if ((ready & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0 && wantsWrite()) {
                handleWrite();
            }
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            loop.reportError(t);
        }
    }

    /** A reset (or another pending error) while not reading or writing closes now, with it as the cause. */
    @Override
    final boolean pendingError(IOException cause) {
        try {
            handleClose(cause);
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            loop.reportError(t);
        }
        return true;
    }

    /**
     * Posted, not closed inline: the interest change that failed may be part of establishing or
     * writing, which carry on after it; they find the connection closing.
     */
    @Override
    final void registrationFailed(IOException cause) {
        loop.reportError(cause);
        closeWith(cause);
    }

    /**
     * The one place states change. Returns false when the state was not {@code from}.
     * Allowed: CONNECTING→CONNECTED, CONNECTING→DISCONNECTED, CONNECTED→DISCONNECTING,
     * CONNECTED→DISCONNECTED, DISCONNECTING→DISCONNECTED.
     */
    boolean transition(State from, State to) {
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

    <T> void setOption(java.net.SocketOption<T> option, T value) {
        try {
            // Under the lock close takes: a descriptor number is reused as soon as it is closed.
            synchronized (this) {
                loop.poller().setOption(this, option, value);
            }
        } catch (IOException e) {
            // Closed already: a setting on a closed connection has nothing left to affect.
            LOG.log(System.Logger.Level.DEBUG, "cannot set {0} on {1}: {2}", option, name(), e);
        }
    }

    /**
     * Sets a socket option of this connection. Any thread.
     *
     * @param option the option
     * @param value  its value (0 or 1 for a flag)
     * @return true when set, false when the connection's socket is closed already
     * @throws UnsupportedOperationException when this connection's transport cannot set it
     * @throws IllegalArgumentException      for a value the option never takes, or one the kernel refuses
     */
    public boolean setOption(TcpOption option, int value) {
        option.checkSupported(loop.transport());
        option.checkValue(value);
        try {
            synchronized (this) { // close takes it: a descriptor number is reused as soon as it is closed
                loop.poller().setOption(this, option, value);
            }
            return true;
        } catch (java.nio.channels.ClosedChannelException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot set " + option + " to " + value + " on " + name() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Reads a socket option of this connection (a flag reads 0 or 1). Any thread.
     *
     * @param option the option
     * @return its value
     * @throws UnsupportedOperationException when this connection's transport cannot read it
     * @throws IllegalStateException         when the connection's socket is closed
     */
    public int getOption(TcpOption option) {
        option.checkSupported(loop.transport());
        try {
            synchronized (this) {
                return loop.poller().getOption(this, option);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + option + " of " + name() + ": " + e, e);
        }
    }

    /**
     * Fills {@code into} with the kernel's TCP state of this connection (rtt, cwnd, retransmits,
     * bytes acked and received...), allocating nothing. Native transports only; any thread.
     *
     * @param into the snapshot to fill
     * @return true when filled; false on NIO (the JDK exposes no TCP_INFO) or once the socket is closed
     */
    public boolean tcpInfo(TcpInfo into) {
        try {
            synchronized (this) {
                return loop.poller().tcpInfo(this, into);
            }
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Closes the socket under the lock direct writers hold, so none writes to a reused descriptor;
     * with a reset when {@link #resetOnClose} was asked for. Any thread.
     */
    void closeSocket() {
        synchronized (this) {
            if (resetOnClose) {
                setOption(StandardSocketOptions.SO_LINGER, 0);
            }
            loop.poller().close(this);
        }
    }

    // ------------------------------------------------------------------ commands from any thread

    /**
     * Sets command bits and queues the connection for its commands when the word was empty. Never call it while
     * holding the connection's monitor: on a full task queue it waits for the loop, which may itself be
     * waiting for that lock.
     */
    void post(int bits) {
        int prev = (int) COMMANDS.getAndBitwiseOr(this, bits);
        if (prev == 0) {
            try {
                loop.queueCommands(this);
            } catch (RejectedExecutionException e) {
                // The loop has ended: nothing on this connection can run any more.
            }
        }
    }

    /**
     * What a callback or a step of this connection threw, on the loop: reported; an
     * {@link OutOfMemoryError} also closes this connection (it is the one whose work failed), so
     * the loop and its other connections keep running.
     */
    void failed(Throwable t) {
        EventLoop.rethrowIfFatal(t);
        loop.reportError(t);
        if (t instanceof OutOfMemoryError) {
            handleClose(t);
        }
    }

    /** This connection as the public type the callbacks take (the only subclass is {@link TcpConnection}). */
    final TcpConnection self() {
        return (TcpConnection) this;
    }

    /** {@code owner#id}; built on each call. */
    abstract String name();

    // ------------------------------------------------------------------ what the layers above implement

    abstract void handleRead();

    abstract void handleWrite();

    abstract void handleKeyInvalid();

    abstract void runCommands();

    abstract void handleClose(Throwable cause);

    abstract void closeWith(Throwable cause);

    abstract void applyReading();

    abstract void shutdownOutputNow();
}
