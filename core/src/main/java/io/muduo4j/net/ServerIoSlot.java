package io.muduo4j.net;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * One I/O loop's share of a {@link TcpServer}: the registry of its open connections and the
 * connections closed but not destroyed yet. Each I/O loop keeps its own, so closing a connection
 * never crosses threads.
 *
 * <p><b>Threading:</b> its loop's thread only, except {@link #closeAll(Runnable)}, which the
 * server's stop calls from the base loop (or from any thread once the base loop has ended), and
 * which closes off the loop only once this slot's loop has ended: on the loop's thread in its
 * final drain, or after that drain ({@link EventLoop#whenEnded}), never beside it.
 */
final class ServerIoSlot {
    final EventLoop loop;
    private final Long2ObjectHashMap<TcpConnection> registry = new Long2ObjectHashMap<>();
    private final DestroyQueue closed;
    private final AtomicInteger connectionCount; // the server's, shared by all its slots
    /** This loop's own listener ({@link TcpServer#setAcceptorPerLoop}), or null; set before the slot is published. */
    Acceptor acceptor;

    ServerIoSlot(EventLoop loop, AtomicInteger connectionCount) {
        this.loop = loop;
        this.closed = new DestroyQueue(loop);
        this.connectionCount = connectionCount;
    }

    /** Registers a connection about to be established (already counted). Loop thread. */
    void add(TcpConnection conn) {
        registry.put(conn.id(), conn);
    }

    /** The close hook's part: unregisters and uncounts {@code conn}, destroyed in a later task. Loop thread. */
    void remove(TcpConnection conn) {
        registry.remove(conn.id());
        connectionCount.decrementAndGet();
        closed.add(conn);
    }

    /**
     * The stop's part for this loop: closes and destroys every connection in a task of the loop,
     * or, without callbacks, once the loop has ended (its final drain over); then runs
     * {@code whenDone} (on the loop, on the calling thread, or on the loop's thread after its drain).
     */
    void closeAll(Runnable whenDone) {
        Runnable offLoop = () -> {
            closeOffLoop();
            whenDone.run();
        };
        if (loop.isInLoopThread() && loop.isTerminated()) {
            offLoop.run(); // in the final drain (the base loop, with no I/O threads): nothing runs beside it
            return;
        }
        try {
            // Never in-line: not inside a callback of a connection it closes.
            loop.queueInLoop(() -> {
                closeAllInLoop();
                whenDone.run();
            });
        } catch (RejectedExecutionException e) {
            // Terminated: its final drain may still close connections, so the sockets are closed after it.
            loop.whenEnded(offLoop);
        }
    }

    /** The stop's close-all: closes and destroys every connection now, in this task. Loop thread. */
    private void closeAllInLoop() {
        if (acceptor != null) {
            acceptor.close(); // first: no connection accepted after the close-all began
        }
        if (!registry.isEmpty()) {
            TcpConnection[] open = registry.values().toArray(new TcpConnection[0]);
            for (TcpConnection c : open) {
                try {
                    c.closeAndDestroyInLoop(); // down callback, the server's removeConnection, destroy
                } catch (Throwable t) {
                    EventLoop.rethrowIfFatal(t);
                    loop.reportError(t);
                    c.closeSocketForOwner();
                    if (registry.remove(c.id()) != null) {
                        connectionCount.decrementAndGet();
                    }
                }
            }
        }
        closed.run();
    }

    /** The loop has ended (see {@link #closeAll}): closes the sockets from the calling thread, without callbacks. */
    private void closeOffLoop() {
        if (acceptor != null) {
            acceptor.closeOffLoop();
        }
        for (TcpConnection c : registry.values()) {
            c.closeSocketForOwner();
            connectionCount.decrementAndGet();
        }
        registry.clear();
        closed.closeSocketsOffLoop();
    }
}
