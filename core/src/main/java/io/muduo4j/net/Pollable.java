package io.muduo4j.net;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.Objects;

/**
 * One socket of one {@link EventLoop} as its {@link Poller} sees it: the transport's handle for the
 * socket, the interest set, and where readiness goes ({@link #handleEvent}). The base of
 * {@link Channel} and of the connection ({@code ConnectionCore}), so a connection is its own poller
 * handle and costs no second object for it.
 *
 * <p>The handle does not own its socket: closing it is its owner's job. It registers lazily, on the
 * first interest, and tells the poller only when the interest actually changes (each change is an
 * {@code epoll_ctl}). Interest bits are {@link SelectionKey}'s whatever the transport; the "read"
 * bit is {@code OP_ACCEPT} for a listening socket and {@code OP_READ} otherwise.
 *
 * <p>Every member is package-private and named so as not to collide with a subclass's public API
 * ({@code TcpConnection} has {@code isReading()}, {@code startRead()}, ...).
 *
 * <p><b>Threading:</b> the interest methods, {@link #detach()}, {@link #transferTo} and
 * {@link #handleEvent} are loop-only (the interest methods check it). The transport fields are the
 * poller's: its socket calls run on whichever thread may use the socket at that moment.
 */
abstract class Pollable {
    final EventLoop loop;
    // The socket handle, per transport; the poller's alone to read and write.
    SelectableChannel selectable; // NIO
    Object registration; // NIO: the SelectionKey; epoll: non-null while registered
    int fd = -1; // epoll: the descriptor
    int tag; // epoll: tells this registration of fd from an earlier one of the same number
    int armed; // epoll: the events the kernel has for fd (disarming is lazy)
    private int interest;
    private int readOp = SelectionKey.OP_READ;

    Pollable(EventLoop loop) {
        this.loop = Objects.requireNonNull(loop, "loop");
    }

    /**
     * Dispatches readiness {@code ready} ({@code OP_*} bits, or {@link Poller#INVALID} when the
     * registration died under the socket). Loop thread; throws nothing but what
     * {@link EventLoop#rethrowIfFatal} rethrows (the poller's dispatch would lose the rest of the batch).
     */
    abstract void handleEvent(int ready);

    /**
     * The transport found an error pending on the socket that the interest set does not cover:
     * epoll reports a peer's reset ({@code EPOLLERR}) whatever the interest, so a connection that
     * is not reading learns of it here instead of spinning on it. Returns true when the handle
     * closed for it; false leaves the socket to the poller, which then stops watching it until the
     * interest changes (NIO's behaviour: the error is seen when the handle asks again). Loop thread.
     */
    boolean pendingError(IOException cause) {
        return false;
    }

    /**
     * The kernel refused to watch the socket ({@code epoll_ctl} failed with {@code ENOSPC},
     * {@code ENOMEM}, ...): no event will ever come for it. Reported here; a connection also
     * closes with {@code cause} as its close cause. Loop thread, inside an interest change.
     */
    void registrationFailed(IOException cause) {
        loop.reportError(cause);
    }

    /** The interest set as {@code OP_*} bits. */
    final int interest() {
        return interest;
    }

    /** The bit that means "reading": {@code OP_ACCEPT} on a listening socket, else {@code OP_READ}. */
    final int readOp() {
        return readOp;
    }

    /** Whether the interest has the read bit. */
    final boolean wantsRead() {
        return (interest & readOp) != 0;
    }

    /** Whether the interest has {@code OP_WRITE} or {@code OP_CONNECT}. */
    final boolean wantsWrite() {
        return (interest & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0;
    }

    /** Adds {@code ops} to the interest. Loop thread. */
    final void interestAdd(int ops) {
        interestSet(interest | ops);
    }

    /** Removes {@code ops} from the interest. Loop thread. */
    final void interestRemove(int ops) {
        interestSet(interest & ~ops);
    }

    /** Makes {@code ops} the interest; tells the poller only on a change. Loop thread. */
    final void interestSet(int ops) {
        loop.assertInLoopThread();
        int old = interest;
        if (ops == old) {
            return;
        }
        interest = ops;
        loop.poller().update(this, old, ops);
    }

    /** Marks this handle as holding a listening socket: reading is {@code OP_ACCEPT}. */
    final void setListening() {
        readOp = SelectionKey.OP_ACCEPT;
    }

    /**
     * Deregisters, the socket staying open (its owner closes it next, or hands it on); the poller
     * may later open or accept another socket into this handle. A NIO socket cannot be registered
     * again with the same selector until the next select has run, so a socket that passes to a
     * new owner goes by {@link #transferTo} instead. Loop thread.
     */
    final void detach() {
        loop.assertInLoopThread();
        interest = 0;
        loop.poller().remove(this);
    }

    /** Forgets a socket that was closed before it was ever registered; any thread that owns the handle at the time. */
    final void detachClosed() {
        selectable = null;
        registration = null;
        fd = -1;
        interest = 0;
    }

    /** The poller found the socket closed under a registration: nothing is registered any more. */
    final void lostRegistration() {
        interest = 0;
    }

    /**
     * Moves this handle's socket and its registration to {@code successor} (same loop, no socket),
     * keeping the registration alive: the way a connected socket passes from the connector to its
     * connection without deregistering. This handle is left empty, with no interest. Loop thread.
     */
    final void transferTo(Pollable successor) {
        loop.assertInLoopThread();
        if (successor.loop != loop) {
            throw new IllegalArgumentException("successor belongs to another loop");
        }
        successor.readOp = readOp;
        successor.interest = interest;
        loop.poller().transfer(this, successor);
        interest = 0;
    }
}
