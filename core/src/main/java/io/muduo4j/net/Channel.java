package io.muduo4j.net;

import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One registered {@link SelectableChannel} of one {@link EventLoop}: its interest set and the
 * callbacks its readiness events go to. muduo's {@code Channel}, over a NIO {@link SelectionKey}.
 *
 * <p>A Channel does not own its socket: closing the socket is its owner's job. The key is created
 * lazily, on the first interest, and {@code interestOps} is touched only when the interest actually
 * changes (each change is an {@code epoll_ctl} at the next select).
 *
 * <p><b>Threading:</b> every method except the getters is loop-only and checks it
 * ({@link EventLoop#assertInLoopThread()}). Callbacks run on the loop thread. A callback that throws
 * is passed to the error callback, or, when there is none, reported through the loop's
 * error reporting; the loop keeps running either way.
 *
 * <p>Interest mapping: "reading" is {@code OP_ACCEPT} for a {@link ServerSocketChannel} and
 * {@code OP_READ} otherwise; "writing" is {@code OP_WRITE}; {@link #enableConnecting()} asks for
 * {@code OP_CONNECT}, whose readiness goes to the write callback.
 */
public final class Channel {
    private final EventLoop loop;
    private SelectableChannel selectable;
    private SelectionKey key;
    private int interest;
    private int readOp;

    private Runnable readCallback;
    private Runnable writeCallback;
    private Runnable closeCallback;
    private Consumer<Throwable> errorCallback;

    /**
     * Creates a channel for {@code selectable}, which must be non-blocking; registers nothing yet.
     *
     * @param loop the loop whose selector the channel registers with
     * @param selectable the non-blocking socket
     */
    public Channel(EventLoop loop, SelectableChannel selectable) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.selectable = Objects.requireNonNull(selectable, "selectable");
        this.readOp = selectable instanceof ServerSocketChannel ? SelectionKey.OP_ACCEPT : SelectionKey.OP_READ;
    }

    /** Creates a channel with no socket yet; {@link #reset(SelectableChannel)} attaches one (for reuse). */
    Channel(EventLoop loop) {
        this.loop = Objects.requireNonNull(loop, "loop");
    }

    /**
     * The loop this channel belongs to.
     *
     * @return the owner loop
     */
    public EventLoop ownerLoop() {
        return loop;
    }

    /**
     * The socket this channel watches.
     *
     * @return the socket, or null when none is attached
     */
    public SelectableChannel selectable() {
        return selectable;
    }

    /**
     * Sets what runs when the socket is readable (or, for a server socket, acceptable).
     *
     * @param cb the read callback
     */
    public void setReadCallback(Runnable cb) {
        this.readCallback = cb;
    }

    /**
     * Sets what runs when the socket is writable or a pending connect finished.
     *
     * @param cb the write callback
     */
    public void setWriteCallback(Runnable cb) {
        this.writeCallback = cb;
    }

    /**
     * Called when the selector reports the key invalid (the socket was closed elsewhere).
     *
     * @param cb the close callback
     */
    public void setCloseCallback(Runnable cb) {
        this.closeCallback = cb;
    }

    /**
     * Receives what a read or write callback threw.
     *
     * @param cb the error callback
     */
    public void setErrorCallback(Consumer<Throwable> cb) {
        this.errorCallback = cb;
    }

    /** Adds reading ({@code OP_READ} or {@code OP_ACCEPT}) to the interest set. */
    public void enableReading() {
        update(interest | readOp);
    }

    /** Removes reading from the interest set. */
    public void disableReading() {
        update(interest & ~readOp);
    }

    /** Adds {@code OP_WRITE} to the interest set. */
    public void enableWriting() {
        update(interest | SelectionKey.OP_WRITE);
    }

    /** Removes {@code OP_WRITE} from the interest set. */
    public void disableWriting() {
        update(interest & ~SelectionKey.OP_WRITE);
    }

    /** Asks for {@code OP_CONNECT}: a pending non-blocking connect finished (either way). */
    public void enableConnecting() {
        update(interest | SelectionKey.OP_CONNECT);
    }

    /** Clears the interest set; the key stays registered. */
    public void disableAll() {
        update(0);
    }

    /**
     * Whether the interest set has {@code OP_WRITE} or {@code OP_CONNECT}.
     *
     * @return true when writing or connecting is wanted
     */
    public boolean isWriting() {
        return (interest & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0;
    }

    /**
     * Whether the interest set has reading.
     *
     * @return true when reading is wanted
     */
    public boolean isReading() {
        return (interest & readOp) != 0;
    }

    /**
     * Whether the interest set is empty.
     *
     * @return true when no event is wanted
     */
    public boolean isNoneEvent() {
        return interest == 0;
    }

    /**
     * The interest set as NIO {@code OP_*} bits.
     *
     * @return the interest bits
     */
    public int interestOps() {
        return interest;
    }

    /**
     * Deregisters from the selector (the key is cancelled). The socket stays open. A NIO channel
     * cannot be registered again with the same selector until the next select has run, so code
     * that hands a socket on to a new owner uses {@link #transferTo(Channel)} instead.
     */
    public void remove() {
        loop.assertInLoopThread();
        interest = 0;
        if (key != null) {
            key.cancel();
            key = null;
        }
    }

    /**
     * Moves this channel's socket and its selector registration to {@code successor} (which must
     * belong to the same loop and hold no socket), keeping the key alive: the way a connected
     * socket passes from the connector to its connection without deregistering. This channel is
     * left empty, with no interest.
     */
    void transferTo(Channel successor) {
        loop.assertInLoopThread();
        if (successor.loop != loop) {
            throw new IllegalArgumentException("successor belongs to another loop");
        }
        successor.selectable = selectable;
        successor.readOp = readOp;
        successor.key = key;
        successor.interest = interest;
        if (key != null) {
            key.attach(successor);
        }
        selectable = null;
        key = null;
        interest = 0;
    }

    /** Attaches a new socket to an empty (reused) channel. */
    void reset(SelectableChannel newSelectable) {
        loop.assertInLoopThread();
        if (key != null) {
            throw new IllegalStateException("channel still registered");
        }
        this.selectable = newSelectable;
        this.readOp = newSelectable instanceof ServerSocketChannel ? SelectionKey.OP_ACCEPT : SelectionKey.OP_READ;
        this.interest = 0;
    }

    /** Forgets the socket after it was closed or handed on; the channel may be {@link #reset} later. */
    void detach() {
        loop.assertInLoopThread();
        if (key != null) {
            key.cancel();
            key = null;
        }
        selectable = null;
        interest = 0;
    }

    private void update(int ops) {
        loop.assertInLoopThread();
        if (ops == interest) {
            return;
        }
        interest = ops;
        try {
            if (key == null) {
                if (ops != 0) {
                    key = selectable.register(loop.poller().selector(), ops, this);
                }
            } else {
                key.interestOps(ops);
            }
        } catch (ClosedChannelException | CancelledKeyException e) {
            // The socket was closed under us (forceClose racing an interest change). Nothing is
            // registered; the owner finds out through its own close path.
            interest = 0;
            key = null;
        }
    }

    void handleEvent(SelectionKey k) {
        try {
            if (!k.isValid()) {
                if (closeCallback != null) {
                    closeCallback.run();
                }
                return;
            }
            int ready = k.readyOps();
            if ((ready & readOp) != 0 && readCallback != null) {
                readCallback.run();
            }
            // The read callback may have closed the socket or handed the key on.
            if (k == key && k.isValid() && (ready & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0
                    && writeCallback != null) {
                writeCallback.run();
            }
        } catch (CancelledKeyException e) {
            // Closed by a callback between the check and the use; the owner already knows.
        } catch (Throwable t) {
            EventLoop.rethrowIfFatal(t);
            if (errorCallback != null) {
                try {
                    errorCallback.accept(t);
                } catch (Throwable t2) {
                    EventLoop.rethrowIfFatal(t2);
                    loop.reportError(t2);
                }
            } else {
                loop.reportError(t);
            }
        }
    }
}
