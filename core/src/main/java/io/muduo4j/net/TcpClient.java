package io.muduo4j.net;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
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
 * <p>Two ways to connect. {@link #connect()} starts connecting on the loop and returns at once;
 * the connection shows up in the connection callback, and failed attempts are retried.
 * {@link #connectNow()} connects on the calling thread and returns the established connection,
 * which that thread may use at once (its {@code send} writes to the socket directly); the loop
 * registers it for reading with one queued task and at most one wake-up, and then calls the up
 * callback. It is the one for a connection pool or a thread that needs a connection before it goes
 * on, and it is as cheap as a blocking JDK connect.
 *
 * <p>{@link #close()} ends the client in any state (connecting, connected, waiting to retry): it
 * is idempotent and asynchronous, and its future completes once no socket of the client is open
 * and no timer of it is pending. A closed client cannot connect again. After the loop has ended
 * the close (and the stop of a connect attempt) is done without it, but only once the loop's final
 * drain, which may still close the connection, is over.
 */
public final class TcpClient extends ConnectionSettings {
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static final VarHandle CONNECTION;

    static {
        try {
            CONNECTION = MethodHandles.lookup().findVarHandle(TcpClient.class, "connection", TcpConnection.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    private final String name;
    private final Connector connector;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final ConnectionCallback removeConnection = this::removeConnection;
    private final Runnable closeTask = this::closeInLoop;
    private final Runnable disconnectTask = this::disconnectInLoop;
    private final DestroyQueue closedConnections; // closed connections, destroyed by the client itself

    private volatile boolean retry;
    private volatile boolean wantConnect;
    private volatile boolean closing;
    private volatile TcpConnection connection;

    /**
     * A client of {@code serverAddress}; nothing happens until {@link #connect()}.
     *
     * @param loop the loop the connector and the connection live on
     * @param serverAddress the address to connect to
     * @param name the client's name, in logs and connection names
     */
    public TcpClient(EventLoop loop, InetSocketAddress serverAddress, String name) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.name = Objects.requireNonNull(name, "name");
        this.closedConnections = new DestroyQueue(loop);
        this.connector = new Connector(loop, Objects.requireNonNull(serverAddress, "serverAddress"), this::newConnection);
        // A client keeps reading replies while its requests queue up (see TcpConnection#setUpstream).
        options.selfBackPressure = false;
    }

    /**
     * The client's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The loop the client lives on.
     *
     * @return the loop
     */
    public EventLoop loop() {
        return loop;
    }

    @Override
    Transport transportForOptions() {
        return loop.transport();
    }

    /**
     * The address connected to.
     *
     * @return the server address
     */
    public InetSocketAddress serverAddress() {
        return connector.serverAddress();
    }

    /**
     * Told of every failed connect attempt.
     *
     * @param cb the connect-failed callback
     */
    public void setConnectFailedCallback(ConnectFailedCallback cb) {
        connector.setConnectFailedCallback(cb);
    }

    /**
     * Back-off between failed attempts: from {@code initialMs} doubling to {@code maxMs} (500 ms and 30 s by default).
     *
     * @param initialMs the first delay in milliseconds
     * @param maxMs the largest delay in milliseconds
     */
    public void setRetryDelays(long initialMs, long maxMs) {
        connector.setRetryDelays(initialMs, maxMs);
    }

    /**
     * An attempt not completed in this time is closed and retried, and a {@link #connectNow()} fails;
     * 0 disables (default 30 s).
     *
     * @param ms the connect timeout in milliseconds
     */
    public void setConnectTimeoutMs(long ms) {
        connector.setConnectTimeoutMs(ms);
    }

    /**
     * Randomises each retry delay down by up to this fraction (0 = none, the default).
     *
     * @param fraction the jitter, from 0 to 1
     */
    public void setRetryJitter(double fraction) {
        connector.setJitter(fraction);
    }

    /**
     * Gives up after this many failed attempts in a row (0 = never, the default).
     *
     * @param n the attempt limit
     */
    public void setMaxAttempts(int n) {
        connector.setMaxAttempts(n);
    }

    /**
     * Reconnect after an established connection closes.
     *
     * @param on whether to reconnect (default false)
     */
    public void enableRetry(boolean on) {
        this.retry = on;
    }

    /**
     * Whether the client reconnects after an established connection closes.
     *
     * @return true when retry is enabled
     */
    public boolean retryEnabled() {
        return retry;
    }

    /**
     * The current connection, or null.
     *
     * @return the connection, or null when none is up
     */
    public TcpConnection connection() {
        return connection;
    }

    /**
     * Connects on the calling thread and returns the established connection: the caller may
     * {@code send} on it at once. One attempt, no retry: a refused, unreachable or timed-out connect
     * (the connect timeout, see {@link #setConnectTimeoutMs}) throws, with nothing left open, and
     * the {@link ConnectFailedCallback} is not called. The connection is the client's
     * {@link #connection()} until it closes; it is not reconnected when it closes. Its callbacks
     * run on the loop as for {@link #connect()}: the up callback once the loop has registered it
     * (usually after this method returned), then messages, then the down callback.
     *
     * <p>Threading: any thread but a loop's own (this call waits for the handshake; on a loop use
     * {@link #connect()}). The wait is a non-blocking connect and, when the handshake is not over
     * at once, checks parked 20 µs to 1 ms apart, so a remote server's connection is seen at most
     * about 1 ms late; an interrupt ends the wait with an {@link java.io.InterruptedIOException}.
     * Nothing is allocated for it beyond the connection and the JDK's socket.
     *
     * @return the established connection
     * @throws IOException the connect failed ({@link java.net.ConnectException} when refused,
     *         {@link java.net.SocketTimeoutException} after the connect timeout)
     * @throws IllegalStateException the client is closed or has a connection or a {@link #connect()}
     *         in progress, or the caller is a loop thread
     * @throws java.nio.channels.UnresolvedAddressException the server address is not resolved
     */
    public TcpConnection connectNow() throws IOException {
        if (EventLoop.current() != null) {
            throw new IllegalStateException("connectNow() waits for the handshake: on a loop thread use connect()");
        }
        checkCanConnectNow();
        InetSocketAddress server = connector.serverAddress();
        Poller p = loop.poller();
        // The socket is opened straight into its connection; a failed connect drops both (and its id).
        TcpConnection conn = new TcpConnection(loop, NEXT_ID.getAndIncrement(), name);
        Connector.connectOnCaller(p, conn, server, connector.connectTimeoutMs());
        try {
            options.applySocketOptions(p, conn);
            conn.configure(options);
            conn.setCloseCallback(removeConnection);
            checkCanConnectNow();
        } catch (IOException | RuntimeException e) {
            p.close(conn);
            throw e;
        }
        if (!CONNECTION.compareAndSet(this, null, conn)) {
            p.close(conn);
            throw new IllegalStateException("client " + name + " got a connection meanwhile");
        }
        if (!conn.establishFromCaller()) {
            CONNECTION.compareAndSet(this, conn, null);
            throw new IllegalStateException("the loop of client " + name + " has ended");
        }
        if (closing) {
            // close() raced this call; its task may have run before the connection was published.
            conn.forceClose();
            throw new IllegalStateException("client " + name + " is closed");
        }
        return conn;
    }

    private void checkCanConnectNow() {
        if (closing) {
            throw new IllegalStateException("client " + name + " is closed");
        }
        if (connection != null) {
            throw new IllegalStateException("client " + name + " has a connection already");
        }
        if (wantConnect) {
            throw new IllegalStateException("client " + name + " is connecting (connect() was called)");
        }
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
            loop.whenEnded(connector::closeOffLoop); // the loop has ended: nothing there will retry
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
            loop.whenEnded(connector::closeOffLoop); // the loop has ended: nothing there will retry
        }
    }

    /**
     * Closes the client in any state; see the class comment. Any thread, callbacks included (the
     * close runs in a later task of the loop, never inside the caller's callback); idempotent;
     * returns the same future each time.
     *
     * @return a future completed once no socket or timer of the client is left
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
            // The loop has ended: close what is left without it, once its final drain (which may
            // still close the connection) is over.
            loop.whenEnded(this::closeOffLoop);
        }
        return closed;
    }

    /** The loop has ended: nothing will run there again, so what is left is closed from here. */
    private void closeOffLoop() {
        TcpConnection c = connection;
        if (c != null) {
            c.closeSocketForOwner();
        }
        closedConnections.closeSocketsOffLoop();
        connector.closeOffLoop();
        closed.complete(null);
    }

    /**
     * Whether {@link #close()} has completed.
     *
     * @return true once the close future is done
     */
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
        closedConnections.run();
        closed.complete(null);
    }

    private void newConnection(Channel connectorChannel) {
        Poller p = loop.poller();
        try {
            options.applySocketOptions(p, connectorChannel);
        } catch (IOException e) {
            connectorChannel.detach();
            p.close(connectorChannel);
            connector.connectionClosed();
            if (wantConnect && !closing) {
                connector.restart();
            }
            return;
        }
        TcpConnection conn = new TcpConnection(loop, NEXT_ID.getAndIncrement(), name);
        connectorChannel.transferTo(conn);
        conn.configure(options);
        conn.setCloseCallback(removeConnection);
        if (!CONNECTION.compareAndSet(this, null, conn)) {
            // A connectNow() from another thread won the race: one connection per client.
            conn.detach();
            p.close(conn);
            connector.connectionClosed();
            return;
        }
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
        closedConnections.add(conn); // destroyed in a later task, not inside its own close
        connector.connectionClosed();
        if (!closing && retry && wantConnect) {
            connector.restart();
        }
    }

    @Override
    public String toString() {
        return "TcpClient[" + name + " -> " + connector.serverAddress() + "]";
    }
}
