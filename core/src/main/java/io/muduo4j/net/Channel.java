package io.muduo4j.net;

import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One socket of one {@link EventLoop}: its interest set and the callbacks its readiness events go
 * to. muduo's {@code Channel}.
 *
 * <p>A Channel does not own its socket: closing the socket is its owner's job. It registers lazily,
 * on the first interest, and tells the loop's poller only when the interest actually changes (each
 * change is an {@code epoll_ctl}). Inside the library a channel is also the socket's handle for the
 * loop's transport (a NIO channel or a raw descriptor, see {@link Transport}); the public
 * constructor takes a NIO {@link SelectableChannel} and needs a loop on the {@link Transport#NIO}
 * transport.
 *
 * <p><b>Threading:</b> every method except the getters is loop-only and checks it
 * ({@link EventLoop#assertInLoopThread()}). Callbacks run on the loop thread. A callback that throws
 * is passed to the error callback, or, when there is none, reported through the loop's
 * error reporting; the loop keeps running either way.
 *
 * <p>Interest bits are {@link SelectionKey}'s, whatever the transport: "reading" is
 * {@code OP_ACCEPT} for a listening socket and {@code OP_READ} otherwise; "writing" is
 * {@code OP_WRITE}; {@link #enableConnecting()} asks for {@code OP_CONNECT}, whose readiness goes to
 * the write callback.
 */
public final class Channel extends Pollable {
    private Runnable readCallback;
    private Runnable writeCallback;
    private Runnable closeCallback;
    private Consumer<Throwable> errorCallback;

    /**
     * Creates a channel for {@code selectable}, which must be non-blocking; registers nothing yet.
     *
     * @param loop the loop whose selector the channel registers with; it must run the
     *             {@link Transport#NIO} transport
     * @param selectable the non-blocking socket
     * @throws UnsupportedOperationException when the loop runs another transport
     */
    public Channel(EventLoop loop, SelectableChannel selectable) {
        super(loop);
        Objects.requireNonNull(selectable, "selectable");
        if (loop.transport() != Transport.NIO) {
            throw new UnsupportedOperationException("event loop " + loop.name() + " runs the " + loop.transport()
                    + " transport; a NIO channel needs a loop made with EventLoopOptions.transport(Transport.NIO)");
        }
        this.selectable = selectable;
        if (selectable instanceof ServerSocketChannel) {
            setListening();
        }
    }

    /** Creates a channel with no socket yet; the poller opens or accepts one into it. */
    Channel(EventLoop loop) {
        super(loop);
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
     * The NIO socket this channel watches.
     *
     * @return the socket, or null when none is attached or the loop's transport is not NIO
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
     * Called when the poller reports the registration invalid (the socket was closed elsewhere).
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
        interestAdd(readOp());
    }

    /** Removes reading from the interest set. */
    public void disableReading() {
        interestRemove(readOp());
    }

    /** Adds {@code OP_WRITE} to the interest set. */
    public void enableWriting() {
        interestAdd(SelectionKey.OP_WRITE);
    }

    /** Removes {@code OP_WRITE} from the interest set. */
    public void disableWriting() {
        interestRemove(SelectionKey.OP_WRITE);
    }

    /** Asks for {@code OP_CONNECT}: a pending non-blocking connect finished (either way). */
    public void enableConnecting() {
        interestAdd(SelectionKey.OP_CONNECT);
    }

    /** Clears the interest set; the channel stays registered. */
    public void disableAll() {
        interestSet(0);
    }

    /**
     * Whether the interest set has {@code OP_WRITE} or {@code OP_CONNECT}.
     *
     * @return true when writing or connecting is wanted
     */
    public boolean isWriting() {
        return wantsWrite();
    }

    /**
     * Whether the interest set has reading.
     *
     * @return true when reading is wanted
     */
    public boolean isReading() {
        return wantsRead();
    }

    /**
     * Whether the interest set is empty.
     *
     * @return true when no event is wanted
     */
    public boolean isNoneEvent() {
        return interest() == 0;
    }

    /**
     * The interest set as {@link SelectionKey} {@code OP_*} bits.
     *
     * @return the interest bits
     */
    public int interestOps() {
        return interest();
    }

    /**
     * Deregisters from the poller. The socket stays open. A NIO channel cannot be registered again
     * with the same selector until the next select has run, so code that hands a socket on to a
     * new owner uses {@code transferTo} instead.
     */
    public void remove() {
        detach();
    }

    @Override
    void handleEvent(int ready) {
        try {
            if (ready == Poller.INVALID) {
                if (closeCallback != null) {
                    closeCallback.run();
                }
                return;
            }
            if ((ready & readOp()) != 0 && readCallback != null) {
                readCallback.run();
            }
            // The read callback may have closed the socket, handed it on or dropped the interest.
            if ((ready & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0 && wantsWrite()
                    && writeCallback != null) {
                writeCallback.run();
            }
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
