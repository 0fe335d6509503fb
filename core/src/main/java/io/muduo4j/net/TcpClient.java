package io.muduo4j.net;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP client: a {@link Connector} and at most one {@link TcpConnection}, both on one loop.
 * muduo's {@code TcpClient}.
 *
 * <p><b>Threading:</b> set callbacks and options before {@link #connect()}. {@link #connect()},
 * {@link #disconnect()}, {@link #stop()}, {@link #close()} and {@link #connection()} may be called
 * from any thread. The connection is established on the client's loop thread and all callbacks
 * run there.
 *
 * <p>Failed connect attempts are retried by the connector (see its settings; the
 * {@link ConnectFailedCallback} reports every failure). {@link #enableRetry(boolean)} decides
 * something else: whether to reconnect after an <em>established</em> connection closes. After a
 * connection closed without retry, {@link #connect()} connects anew with the same client.
 *
 * <p>{@link #close()} ends the client in any state (connecting, connected, waiting to retry): it
 * is idempotent and asynchronous, and its future completes once no socket of the client is open
 * and no timer of it is pending. A closed client cannot connect again.
 */
public final class TcpClient {
    private static final AtomicLong NEXT_ID = new AtomicLong(1);

    private final EventLoop loop;
    private final String name;
    private final Connector connector;
    private final ConnectionOptions options = new ConnectionOptions();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final ConnectionCallback removeConnection = this::removeConnection;
    private final Runnable closeTask = this::closeInLoop;
    private final Runnable disconnectTask = this::disconnectInLoop;
    private final Runnable destroyClosed = this::destroyClosed;
    /**
     * Closed connections waiting for their destroy, which the client runs itself (a reused task)
     * instead of posting it to the connection: a posted command can merge into another thread's
     * command that is not queued yet, which the end of the loop could then refuse. Loop thread.
     */
    private final ArrayDeque<TcpConnection> closedConnections = new ArrayDeque<>();

    private volatile boolean retry;
    private volatile boolean wantConnect;
    private volatile boolean closing;
    private volatile TcpConnection connection;

    public TcpClient(EventLoop loop, InetSocketAddress serverAddress, String name) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.name = Objects.requireNonNull(name, "name");
        this.connector = new Connector(loop, Objects.requireNonNull(serverAddress, "serverAddress"), this::newConnection);
        // A client keeps reading replies while its requests queue up (see TcpConnection#setUpstream).
        options.selfBackPressure = false;
    }

    public String name() {
        return name;
    }

    public EventLoop loop() {
        return loop;
    }

    public InetSocketAddress serverAddress() {
        return connector.serverAddress();
    }

    public void setConnectionCallback(ConnectionCallback cb) {
        options.connectionCallback = cb;
    }

    public void setMessageCallback(MessageCallback cb) {
        options.messageCallback = cb;
    }

    public void setWriteCompleteCallback(WriteCompleteCallback cb) {
        options.writeCompleteCallback = cb;
    }

    public void setHighWaterMarkCallback(HighWaterMarkCallback cb, long mark) {
        options.highWaterMarkCallback = cb;
        options.highWaterMark = mark;
    }

    public void setLowWaterMarkCallback(ConnectionCallback cb, long mark) {
        options.lowWaterMarkCallback = cb;
        options.lowWaterMark = mark;
    }

    public void setAllowHalfClosure(boolean allow, ConnectionCallback cb) {
        options.allowHalfClosure = allow;
        options.halfCloseCallback = cb;
    }

    public void setInputLimit(int bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("input limit must be > 0");
        }
        options.inputLimit = bytes;
    }

    /** TCP_NODELAY on the connection (default on). */
    public void setTcpNoDelay(boolean on) {
        options.tcpNoDelay = on;
    }

    public void setKeepAlive(boolean on) {
        options.keepAlive = on;
    }

    /**
     * The most a connection queues for a peer that does not read (default 4 MiB, never below the
     * high-water mark): a {@code send} that would pass it is refused whole and returns false. Then
     * {@code onLimit} runs on the connection's loop; when it is null the connection is closed with
     * an {@link OutputLimitExceededException} as its cause.
     */
    public void setOutputLimit(long bytes, ConnectionCallback onLimit) {
        options.setOutputLimit(bytes, onLimit);
    }

    /**
     * How long output still queued when a connection closes (the peer's FIN, or
     * {@code shutdown()}) may go without any of it reaching the peer (default 30 s; 0 = no limit).
     * Past it the connection is reset and its close cause is a {@link java.net.SocketTimeoutException}.
     */
    public void setCloseFlushTimeoutMs(long ms) {
        options.setCloseFlushTimeoutMs(ms);
    }

    /** Told of every failed connect attempt. */
    public void setConnectFailedCallback(ConnectFailedCallback cb) {
        connector.setConnectFailedCallback(cb);
    }

    /** Back-off between failed attempts: from {@code initialMs} doubling to {@code maxMs} (500 ms and 30 s by default). */
    public void setRetryDelays(long initialMs, long maxMs) {
        connector.setRetryDelays(initialMs, maxMs);
    }

    /** An attempt not completed in this time is closed and retried; 0 disables (default 30 s). */
    public void setConnectTimeoutMs(long ms) {
        connector.setConnectTimeoutMs(ms);
    }

    /** Randomises each retry delay down by up to this fraction (0 = none, the default). */
    public void setRetryJitter(double fraction) {
        connector.setJitter(fraction);
    }

    /** Gives up after this many failed attempts in a row (0 = never, the default). */
    public void setMaxAttempts(int n) {
        connector.setMaxAttempts(n);
    }

    /** Reconnect after an established connection closes. */
    public void enableRetry(boolean on) {
        this.retry = on;
    }

    public boolean retryEnabled() {
        return retry;
    }

    /** The current connection, or null. */
    public TcpConnection connection() {
        return connection;
    }

    /** Starts connecting. Any thread. Throws {@link IllegalStateException} once closed. */
    public void connect() {
        if (closing) {
            throw new IllegalStateException("client " + name + " is closed");
        }
        wantConnect = true;
        connector.start();
    }

    /**
     * Stops wanting a connection: a connect in progress is closed and a pending retry cancelled
     * (as {@link #stop()}), and the established connection, if any, is half-closed once its output
     * drains ({@link TcpConnection#shutdown()}); it is not reconnected when it closes, retry
     * enabled or not. {@link #connect()} connects anew afterwards. Any thread; after the loop ended
     * it only closes an attempt left open.
     */
    public void disconnect() {
        wantConnect = false;
        TcpConnection c = connection;
        if (c != null) {
            c.shutdown(); // at once: sends from other threads after this call are refused
        }
        try {
            connector.stop();
            // A connection the connector handed over after the read above is up by the time this runs.
            loop.runInLoop(disconnectTask);
        } catch (RejectedExecutionException e) {
            connector.closeOffLoop(); // the loop has ended: nothing there will retry
        }
    }

    private void disconnectInLoop() {
        TcpConnection c = connection;
        if (c != null && !wantConnect) { // not if connect() was called again meanwhile
            c.shutdown();
        }
    }

    /**
     * Stops connecting (cancels a pending retry, closes an attempt in progress); leaves an
     * established connection alone. Any thread; after the loop ended it only closes an attempt
     * left open.
     */
    public void stop() {
        wantConnect = false;
        try {
            connector.stop();
        } catch (RejectedExecutionException e) {
            connector.closeOffLoop(); // the loop has ended: nothing there will retry
        }
    }

    /**
     * Closes the client in any state; see the class comment. Any thread, callbacks included (the
     * close runs in a later task of the loop, never inside the caller's callback); idempotent;
     * returns the same future each time.
     */
    public CompletableFuture<Void> close() {
        if (closing) {
            return closed;
        }
        closing = true;
        wantConnect = false;
        try {
            connector.close(); // also against a connect() racing this from another thread
            loop.queueInLoop(closeTask);
        } catch (RejectedExecutionException e) {
            // The loop has ended: nothing will run there again, so close what is left from here.
            TcpConnection c = connection;
            if (c != null) {
                Acceptor.closeQuietly(c.socketForOwner());
            }
            for (TcpConnection d : closedConnections) {
                Acceptor.closeQuietly(d.socketForOwner());
            }
            closedConnections.clear();
            connector.closeOffLoop();
            closed.complete(null);
        }
        return closed;
    }

    public boolean isClosed() {
        return closed.isDone();
    }

    /*
     * After the connector's stop (queued before this, or run in-line): no connection can come up
     * any more, and one handed over before is already here. Closes and destroys it now, in this
     * task, without a command posted to it.
     */
    private void closeInLoop() {
        TcpConnection c = connection;
        if (c != null) {
            c.closeAndDestroyInLoop(); // down callback, then removeConnection
        }
        destroyClosed();
        closed.complete(null);
    }

    private void newConnection(SocketChannel socket, Channel connectorChannel) {
        InetSocketAddress local;
        InetSocketAddress peer;
        try {
            if (options.tcpNoDelay) {
                socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            if (options.keepAlive) {
                socket.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            }
            local = (InetSocketAddress) socket.getLocalAddress();
            peer = (InetSocketAddress) socket.getRemoteAddress();
        } catch (IOException e) {
            connectorChannel.detach();
            Acceptor.closeQuietly(socket);
            connector.connectionClosed();
            if (wantConnect && !closing) {
                connector.restart();
            }
            return;
        }
        Channel ch = new Channel(loop);
        connectorChannel.transferTo(ch);
        TcpConnection conn = new TcpConnection(loop, NEXT_ID.getAndIncrement(), name, socket, ch, local, peer);
        conn.configure(options);
        conn.setCloseCallback(removeConnection);
        connection = conn;
        conn.connectEstablished();
        if (closing) {
            conn.forceClose();
        }
    }

    /** The connection's close hook: runs on the loop, inside the connection's close. */
    private void removeConnection(TcpConnection conn) {
        loop.assertInLoopThread();
        if (connection == conn) {
            connection = null;
        }
        closedConnections.addLast(conn);
        if (closedConnections.size() == 1) {
            try {
                loop.queueInLoop(destroyClosed); // not inside the connection's own close
            } catch (RejectedExecutionException e) {
                destroyClosed(); // cannot happen on a running loop; never leave the socket open
            }
        }
        connector.connectionClosed();
        if (!closing && retry && wantConnect) {
            connector.restart();
        }
    }

    private void destroyClosed() {
        TcpConnection c;
        while ((c = closedConnections.pollFirst()) != null) {
            try {
                c.connectDestroyed();
            } catch (Throwable t) {
                EventLoop.rethrowIfFatal(t);
                loop.reportError(t);
                Acceptor.closeQuietly(c.socketForOwner());
            }
        }
    }

    @Override
    public String toString() {
        return "TcpClient[" + name + " -> " + connector.serverAddress() + "]";
    }
}
