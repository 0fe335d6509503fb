package io.muduo4j.net;

import java.util.ArrayDeque;
import java.util.concurrent.RejectedExecutionException;

/**
 * Connections an owner (a server's I/O loop share, a client) has closed and not destroyed yet. The
 * owner destroys them itself, with one reused task of the loop, instead of posting a destroy
 * command to each connection: a posted command can merge into another thread's command that is not
 * queued yet, and a stop could outrun it. Loop thread only, except {@link #closeSocketsOffLoop()}
 * once the loop has ended.
 */
final class DestroyQueue implements Runnable {
    private final EventLoop loop;
    private final ArrayDeque<TcpConnection> closed = new ArrayDeque<>();

    DestroyQueue(EventLoop loop) {
        this.loop = loop;
    }

    /** Destroys {@code conn} in a later task, not inside its own close. Loop thread. */
    void add(TcpConnection conn) {
        closed.addLast(conn);
        if (closed.size() == 1) {
            try {
                loop.queueInLoop(this);
            } catch (RejectedExecutionException e) {
                run(); // cannot happen on a running loop; never leave the socket open
            }
        }
    }

    /** Destroys every queued connection now; one whose destroy fails still has its socket closed. Loop thread. */
    @Override
    public void run() {
        TcpConnection c;
        while ((c = closed.pollFirst()) != null) {
            try {
                c.connectDestroyed();
            } catch (Throwable t) {
                EventLoop.rethrowIfFatal(t);
                loop.reportError(t);
                c.closeSocketForOwner();
            }
        }
    }

    /** The loop has ended: closes the queued connections' sockets from the calling thread. */
    void closeSocketsOffLoop() {
        for (TcpConnection c : closed) {
            c.closeSocketForOwner();
        }
        closed.clear();
    }
}
