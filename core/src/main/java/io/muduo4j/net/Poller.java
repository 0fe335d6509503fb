package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;

/**
 * The transport seam: one {@link EventLoop}'s multiplexer, and the socket calls of the sockets on
 * it. muduo's {@code Poller} base, one subclass per transport ({@link NioPoller}; {@code EpollPoller}
 * on JDK 22+); the loop, {@link Channel}, {@link TcpConnection}, {@link Acceptor} and
 * {@link Connector} see only this.
 *
 * <p>A socket is held by its {@link Pollable} (a {@link Channel}, or the connection itself: the
 * handle is a NIO channel or a descriptor, whichever the transport uses), so a connection costs no
 * socket object of ours, nor a handle object besides the connection.
 * Interest and readiness are {@link java.nio.channels.SelectionKey} {@code OP_*} bits whatever
 * the transport; a poller reports an error or hang-up as readiness for what the channel asked
 * for, so the callback's own call sees the error.
 *
 * <p><b>Threading:</b> {@link #poll}, {@link #pollNow}, {@link #update}, {@link #remove},
 * {@link #transfer} and {@link #close()}: the loop thread. {@link #wakeup()} and every socket call:
 * any thread (a caller-thread connect, a direct write), on a socket that thread may use at that
 * moment (the connection's lock serialises direct writes against the loop's).
 */
abstract class Poller implements AutoCloseable {
    /** Readiness of a channel whose registration died (its socket was closed elsewhere). */
    static final int INVALID = 1 << 30;

    private static final VarHandle WAITING;

    static {
        try {
            WAITING = MethodHandles.lookup().findVarHandle(Poller.class, "waiting", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Written by the loop thread (opaque: a plain store on x86), read by the stall detector:
    // true while a blocking poll waits in the kernel, so a quiet loop is not taken for a stalled one.
    private boolean waiting;

    /** Loop thread, before a blocking {@link #poll}: the loop is about to wait. */
    final void waitBegins() {
        WAITING.setOpaque(this, true);
    }

    /** Loop thread: the wait is over (dispatch begins, or the poll returned). */
    final void waitEnds() {
        WAITING.setOpaque(this, false);
    }

    /** Any thread: whether the loop is waiting in a blocking poll (not running a callback). */
    final boolean isWaiting() {
        return (boolean) WAITING.getOpaque(this);
    }

    /** The transport this poller runs ({@link Transport#NIO} or {@link Transport#EPOLL}). */
    abstract Transport transport();

    // ------------------------------------------------------------------ multiplexing (loop thread)

    /** Blocks at most {@code timeoutMs} (&gt; 0) and dispatches ready channels; returns how many. */
    abstract int poll(long timeoutMs) throws IOException;

    /** Dispatches the channels ready now, without blocking. */
    abstract int pollNow() throws IOException;

    /** Wakes a {@link #poll} in progress, or makes the next one return at once. Any thread. */
    abstract void wakeup();

    abstract boolean isOpen();

    /**
     * Makes {@code ops} the interest of {@code ch} (was {@code oldOps}): registers on the first
     * non-empty interest, modifies afterwards. A socket closed under the channel leaves it
     * unregistered with no interest; the owner finds out through its own close path.
     */
    abstract void update(Pollable ch, int oldOps, int ops);

    /** Deregisters {@code ch}; its socket stays open. */
    abstract void remove(Pollable ch);

    /** {@code to} takes over {@code from}'s socket and registration (same loop); {@code from} is left empty. */
    abstract void transfer(Pollable from, Pollable to);

    @Override
    public abstract void close() throws IOException;

    // ------------------------------------------------------------------ sockets (any thread)

    /** Opens a non-blocking listening socket on {@code ch}, bound to {@code address}. */
    abstract void listen(Pollable ch, InetSocketAddress address, int backlog, boolean reusePort) throws IOException;

    /**
     * Accepts one pending connection of {@code listener} into the empty channel {@code into}
     * (non-blocking); false when none is pending.
     */
    abstract boolean accept(Pollable listener, Pollable into) throws IOException;

    /**
     * Opens a non-blocking stream socket on {@code ch} in {@code remote}'s address family (a
     * dual-stack socket would cost an {@code IPV6_V6ONLY} call and map every IPv4 address).
     */
    abstract void open(Pollable ch, InetSocketAddress remote) throws IOException;

    /** Starts a connect; true when it finished at once (as on loopback). */
    abstract boolean connect(Pollable ch, InetSocketAddress remote) throws IOException;

    /** True when the pending connect to {@code remote} has finished; throws its error when it failed. */
    abstract boolean finishConnect(Pollable ch, InetSocketAddress remote) throws IOException;

    /** Whether the socket connected to {@code remote} is connected to itself (local address = {@code remote}). */
    abstract boolean isSelfConnected(Pollable ch, InetSocketAddress remote) throws IOException;

    /**
     * One read into {@code dst}'s writable tail and then {@code scratch} (see
     * {@link Buffer#readFrom}); the bytes read, 0 when none is available, -1 at end of stream.
     */
    abstract int read(Pollable ch, Buffer dst, ByteBuffer scratch) throws IOException;

    /** One write of {@code src}'s readable bytes, retrieving what the socket took; returns that count. */
    abstract int write(Pollable ch, Buffer src) throws IOException;

    abstract void shutdownOutput(Pollable ch) throws IOException;

    abstract <T> void setOption(Pollable ch, SocketOption<T> option, T value) throws IOException;

    /**
     * Sets a {@link TcpOption} (checked supported by the caller). An {@link IOException} for a
     * closed socket ({@link java.nio.channels.ClosedChannelException}) or a value the kernel refuses.
     */
    abstract void setOption(Pollable ch, TcpOption option, int value) throws IOException;

    /** Reads a {@link TcpOption} (checked supported by the caller). */
    abstract int getOption(Pollable ch, TcpOption option) throws IOException;

    /** Fills {@code into} from the socket's TCP_INFO; false when the transport cannot read it. */
    abstract boolean tcpInfo(Pollable ch, TcpInfo into) throws IOException;

    abstract InetSocketAddress localAddress(Pollable ch) throws IOException;

    abstract InetSocketAddress remoteAddress(Pollable ch) throws IOException;

    /** Whether {@code ch} holds an open socket. */
    abstract boolean isOpen(Pollable ch);

    /**
     * Closes {@code ch}'s socket (idempotent, never throws: a failing close has nothing left to
     * undo). The channel keeps its handle, so a later call on it fails as on a closed socket.
     */
    abstract void close(Pollable ch);

    /**
     * Opens a descriptor held in reserve for the accept path's out-of-descriptors recovery
     * (muduo's idle descriptor on {@code /dev/null}); null when none can be opened.
     */
    abstract Object openReserve();

    abstract void closeReserve(Object reserve);
}
