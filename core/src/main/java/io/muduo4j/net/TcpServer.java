package io.muduo4j.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP server: an acceptor in the base loop, connections spread round-robin over an
 * {@link EventLoopThreadPool} of I/O loops (or kept in the base loop with 0 threads). muduo's
 * {@code TcpServer}.
 *
 * <p><b>Threading:</b> set callbacks and options before {@link #start()}. {@code start()} may be
 * called from any thread and more than once; before it returns it binds and listens (a taken port
 * fails it with {@link UncheckedIOException}) and starts the I/O threads, then it registers the
 * listener in the base loop, which must be running (or run later) for connections to be accepted.
 * A start that fails releases what it took (the I/O threads already started are quit and joined,
 * the listening socket is closed) and throws; such a server is stopped ({@code stop()} and
 * {@code close()} complete at once) and cannot be started again. Each connection lives in one I/O
 * loop; it is established there and all its callbacks run there. Each I/O loop keeps the registry
 * of its own connections, so closing a connection never crosses threads.
 *
 * <p>{@link #stop()} closes the listener (the port is released), closes and destroys every
 * connection on its I/O loop (each gets its down callback once; the owner does this itself, it
 * never waits for a command posted to the connection) and stops the I/O threads; the returned
 * future completes when all that is done. Any thread, callbacks included. {@link #close()} is
 * {@code stop()} and, except on the server's own loop threads, waits for it: called on the base
 * loop's thread (while that loop runs) or on an I/O loop's thread, a message callback for example,
 * it starts the stop and returns at once, because the stop needs that very thread to go on. Called
 * after the base loop has ended the stop still does all that (the connections of an I/O loop that
 * has ended too are closed without a down callback, which could not run any more). A loop that has
 * terminated but still runs its final drain (the tasks accepted before it ended) is left to finish
 * it first: its part of the stop runs after that drain, never beside it.
 */
public final class TcpServer extends ConnectionSettings implements AutoCloseable {
    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final EventLoop loop;
    private final String name;
    private final InetSocketAddress requestedAddress;
    private final EventLoopThreadPool pool;
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private boolean reusePort;
    private boolean acceptorPerLoop;
    private int threadNum;
    private int backlog = 1024;

    private volatile boolean started;
    private volatile boolean stopping;
    private Acceptor acceptor;
    private volatile InetSocketAddress boundAddress; // asked of the listener once, at start()
    private volatile ServerIoSlot[] slots; // one per I/O loop (the base loop alone with 0 threads); set by start()
    private int nextLoop;
    private final ConnectionCallback removeConnection = this::removeConnection;
    private final ConnectionCallback establishInIoLoop = this::establishInIoLoop;
    private final Runnable startTask = this::startInLoop;
    private final Runnable stopTask = this::stopInLoop;

    /**
     * A server that will listen on {@code listenAddress}; nothing happens until {@link #start()}.
     *
     * @param loop the base loop, which accepts
     * @param listenAddress the address to bind (port 0 picks a free one)
     * @param name the server's name, in logs and thread names
     */
    public TcpServer(EventLoop loop, InetSocketAddress listenAddress, String name) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.requestedAddress = Objects.requireNonNull(listenAddress, "listenAddress");
        this.name = Objects.requireNonNull(name, "name");
        this.pool = new EventLoopThreadPool(loop, name + "-io-");
        options.connectionCallback = null;
        options.messageCallback = null;
    }

    /**
     * The server's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The base loop, which accepts.
     *
     * @return the base loop
     */
    public EventLoop loop() {
        return loop;
    }

    /**
     * The number of I/O threads, before {@link #start()}; connections are spread over them round-robin.
     *
     * @param n the number of I/O threads; 0 (the default) serves every connection on the base loop
     */
    public void setThreadNum(int n) {
        checkNotStarted();
        pool.setThreadNum(n);
        threadNum = n;
    }

    /**
     * One listening socket per I/O loop, before {@link #start()} (muduo's {@code kReusePort}):
     * each I/O loop listens on the address with {@code SO_REUSEPORT} and accepts its own
     * connections, which stay on it; the kernel spreads new connections over the listeners by a
     * hash of their addresses, so there is no hand-off from the base loop, which then accepts
     * nothing. Without I/O threads it changes nothing (the base loop accepts, as always). Port 0 is
     * resolved by the first listener and the others bind that port.
     *
     * @param on whether to listen on every I/O loop (default off: one acceptor in the base loop)
     */
    public void setAcceptorPerLoop(boolean on) {
        checkNotStarted();
        this.acceptorPerLoop = on;
    }

    /**
     * Options for the I/O loops (wait mode etc.).
     *
     * @param o the I/O loops' options
     */
    public void setLoopOptions(EventLoopOptions o) {
        checkNotStarted();
        pool.setLoopOptions(o);
    }

    /**
     * SO_REUSEPORT on the listening socket, before {@link #start()}.
     *
     * @param on whether to set it (default off)
     */
    public void setReusePort(boolean on) {
        checkNotStarted();
        this.reusePort = on;
    }

    /**
     * The listen backlog, before {@link #start()}.
     *
     * @param backlog the backlog (default 1024)
     */
    public void setBacklog(int backlog) {
        checkNotStarted();
        this.backlog = backlog;
    }

    private void checkNotStarted() {
        if (started) {
            throw new IllegalStateException("server " + name + " already started");
        }
    }

    /**
     * Binds, listens and starts the I/O threads; see the class comment. Any thread; idempotent.
     * Throws {@link UncheckedIOException} when the address cannot be bound (nothing is taken, and
     * {@code start()} may be tried again), and {@link IllegalStateException} when the I/O threads
     * cannot start or the base loop has ended (everything is released; the server is stopped).
     */
    public void start() {
        if (acceptorPerLoop && threadNum > 0) {
            startPerLoop();
            return;
        }
        Acceptor a;
        synchronized (this) {
            if (started) {
                return;
            }
            if (stopping) {
                throw new IllegalStateException("server " + name + " was stopped");
            }
            a = new Acceptor(loop, requestedAddress, reusePort, backlog, new Accepted());
            InetSocketAddress bound;
            try {
                bound = a.localAddress();
            } catch (UncheckedIOException e) {
                a.closeOffLoop();
                throw e;
            }
            try {
                pool.start(null); // synchronous: a failure is seen here
            } catch (Throwable e) {
                // The pool has quit and joined whatever it had started.
                a.closeOffLoop();
                stopping = true;
                stopped.complete(null);
                if (e instanceof Error) {
                    throw (Error) e;
                }
                throw new IllegalStateException("server " + name + " cannot start its I/O threads;"
                        + " the listener is closed and nothing is left running", e);
            }
            List<EventLoop> loops = pool.allLoops();
            for (EventLoop l : loops) {
                if (l.transport() != loop.transport()) {
                    a.closeOffLoop();
                    stopping = true;
                    pool.close();
                    stopped.complete(null);
                    throw transportMismatch(l);
                }
            }
            ServerIoSlot[] ss = new ServerIoSlot[loops.size()];
            for (int i = 0; i < ss.length; i++) {
                ss[i] = new ServerIoSlot(loops.get(i), connectionCount);
            }
            slots = ss;
            acceptor = a;
            boundAddress = bound;
            started = true;
        }
        RejectedExecutionException ended = null;
        if (loop.isInLoopThread() && loop.isTerminated()) {
            ended = new RejectedExecutionException("event loop " + loop + " has terminated");
        } else {
            try {
                loop.runInLoop(startTask);
            } catch (RejectedExecutionException e) {
                ended = e;
            }
        }
        if (ended != null) {
            // Nobody would ever accept: release it all (stop() takes its path for an ended loop).
            awaitStop(stop());
            throw new IllegalStateException("server " + name + ": its base loop " + loop
                    + " has ended; the server is stopped", ended);
        }
    }

    /**
     * {@link #start()} with {@link #setAcceptorPerLoop}: the I/O threads first (the listeners need
     * their loops), then a listener per I/O loop, each registered by a task of its loop. A bind
     * that fails then stops the server (its I/O threads are quit and joined) and throws
     * {@link UncheckedIOException}: unlike the base loop's single listener, it cannot be retried.
     */
    private void startPerLoop() {
        ServerIoSlot[] ss;
        synchronized (this) {
            if (started) {
                return;
            }
            if (stopping) {
                throw new IllegalStateException("server " + name + " was stopped");
            }
            try {
                pool.start(null);
            } catch (Throwable e) {
                stopping = true;
                stopped.complete(null);
                if (e instanceof Error) {
                    throw (Error) e;
                }
                throw new IllegalStateException("server " + name + " cannot start its I/O threads;"
                        + " nothing is left running", e);
            }
            List<EventLoop> loops = pool.allLoops();
            ss = new ServerIoSlot[loops.size()];
            InetSocketAddress bind = requestedAddress;
            InetSocketAddress bound = null;
            try {
                for (int i = 0; i < ss.length; i++) {
                    EventLoop l = loops.get(i);
                    if (l.transport() != loop.transport()) {
                        throw transportMismatch(l);
                    }
                    ss[i] = new ServerIoSlot(l, connectionCount);
                    ss[i].acceptor = new Acceptor(l, bind, true, backlog, new OwnLoopAccepted(i));
                    if (bound == null) {
                        bound = ss[i].acceptor.localAddress();
                        bind = bound; // port 0 resolved once: every other listener joins that port
                    }
                }
            } catch (RuntimeException | Error e) {
                for (ServerIoSlot s : ss) {
                    if (s != null && s.acceptor != null) {
                        s.acceptor.closeOffLoop(); // never registered: nothing of it runs on its loop
                    }
                }
                stopping = true;
                pool.close();
                stopped.complete(null);
                throw e;
            }
            slots = ss;
            boundAddress = bound;
            started = true;
        }
        for (ServerIoSlot s : ss) {
            Acceptor a = s.acceptor;
            try {
                s.loop.runInLoop(() -> {
                    if (!stopping) {
                        a.listen();
                    }
                });
            } catch (RejectedExecutionException e) {
                // That I/O loop has ended (a stop raced this start): the stop closes its listener.
            }
        }
    }

    private IllegalStateException transportMismatch(EventLoop l) {
        return new IllegalStateException("server " + name + ": I/O loop " + l.name() + " runs the " + l.transport()
                + " transport and the base loop " + loop.transport()
                + "; a socket belongs to one transport (set the same one in both loops' options)");
    }

    private void startInLoop() {
        if (!stopping) {
            acceptor.listen();
        }
    }

    /**
     * Whether {@link #start()} has been called.
     *
     * @return true once started
     */
    public boolean isStarted() {
        return started;
    }

    /**
     * The bound address (the real port when 0 was asked for). Any thread, after {@link #start()};
     * still the same address once the server has stopped. Kept from the start: asking the
     * listening socket from any thread could meet its descriptor closed by the stop, or its
     * number reused by another socket.
     *
     * @return the listening address
     * @throws IllegalStateException before a successful {@link #start()}
     */
    public InetSocketAddress listenAddress() {
        InetSocketAddress a = boundAddress;
        if (a == null) {
            throw new IllegalStateException("server " + name + " not started");
        }
        return a;
    }

    @Override
    Transport transportForOptions() {
        return loop.transport();
    }

    /**
     * Fills {@code into} with the counters of this server's loops summed: the base loop (which
     * accepts) and each I/O loop (which runs the connections), each once. A loop shared with
     * other servers or clients brings their work too: the counters are the loops', not the
     * server's alone. Before {@link #start()}, the base loop alone. Any thread; allocates nothing.
     *
     * @param into the snapshot to fill
     * @return {@code into}
     */
    public LoopMetrics metrics(LoopMetrics into) {
        into.clear();
        loop.addMetricsTo(into);
        ServerIoSlot[] ss = slots;
        if (ss != null) {
            for (ServerIoSlot s : ss) {
                if (s.loop != loop) {
                    s.loop.addMetricsTo(into);
                }
            }
        }
        return into;
    }

    /**
     * Connections currently open. Any thread.
     *
     * @return the number of open connections
     */
    public int connectionCount() {
        return connectionCount.get();
    }

    /**
     * The acceptor's handler: base loop. Connections go round-robin over the I/O loops; the loop is
     * chosen when the acceptor asks for the connection it accepts the next socket into. That
     * connection is made ahead of its socket and waits in the acceptor until one arrives: it holds
     * no socket and no buffer, nobody else knows it, and it is counted and registered only in
     * {@link #onNewConnection}; one the acceptor never uses (the server stopped) is just dropped.
     * Its id is taken when it is made, so ids skip the dropped ones (and those whose socket
     * options failed); they stay unique and increasing in accept order.
     */
    private final class Accepted implements Acceptor.NewConnectionHandler {
        @Override
        public Pollable newHandle() {
            ServerIoSlot[] ss = slots;
            int index = nextLoop;
            if (++nextLoop == ss.length) {
                nextLoop = 0;
            }
            TcpConnection conn = new TcpConnection(ss[index].loop, NEXT_ID.getAndIncrement(), name);
            conn.ownerSlot = index;
            return conn;
        }

        @Override
        public void onNewConnection(Pollable h) {
            newConnection((TcpConnection) h);
        }
    }

    /** The handler of an I/O loop's own listener ({@link #setAcceptorPerLoop}): its connections stay on it. */
    private final class OwnLoopAccepted implements Acceptor.NewConnectionHandler {
        private final int index;

        OwnLoopAccepted(int index) {
            this.index = index;
        }

        @Override
        public Pollable newHandle() {
            TcpConnection conn = new TcpConnection(slots[index].loop, NEXT_ID.getAndIncrement(), name);
            conn.ownerSlot = index;
            return conn;
        }

        @Override
        public void onNewConnection(Pollable h) {
            newConnection((TcpConnection) h);
        }
    }

    private void newConnection(TcpConnection conn) {
        Poller p = conn.loop().poller(); // socket calls: the same transport as the accepting loop's
        try {
            options.applySocketOptions(p, conn);
        } catch (IOException e) {
            p.close(conn); // reset before we got to it
            return;
        }
        conn.configure(options);
        conn.setCloseCallback(removeConnection);
        conn.setContext(null);
        connectionCount.incrementAndGet();
        registerLater(conn);
    }

    /*
     * The establish command is posted by the base loop and nobody else knows the connection yet,
     * so it is queued at once; a stop's close-all, queued by the base loop later, runs after it on
     * that I/O loop (tasks of one producer keep their order). So the close-all finds every
     * connection registered, and one established after it sees the stop and is destroyed.
     */
    private void registerLater(TcpConnection conn) {
        conn.setEstablishHook(establishInIoLoop);
        if (conn.loop().isInLoopThread()) {
            establishInIoLoop(conn);
        } else {
            conn.establishLater();
        }
    }

    /** Registers and establishes a new connection on its I/O loop (or drops it when stopping). */
    private void establishInIoLoop(TcpConnection conn) {
        if (stopping) {
            connectionCount.decrementAndGet();
            conn.connectDestroyed();
            return;
        }
        slots[conn.ownerSlot].add(conn);
        conn.connectEstablished();
    }

    /** The close hook of every connection: runs on its I/O loop, inside the connection's close. */
    private void removeConnection(TcpConnection conn) {
        slots[conn.ownerSlot].remove(conn);
    }

    /**
     * Asynchronous stop; see the class comment. Any thread, callbacks included; idempotent.
     *
     * @return a future completed once every connection is closed and the port released
     */
    public CompletableFuture<Void> stop() {
        synchronized (this) {
            if (stopping) {
                return stopped;
            }
            stopping = true;
            if (!started) {
                stopped.complete(null);
                return stopped;
            }
        }
        if (loop.isInLoopThread() && loop.isTerminated()) {
            stopEndedLoop(); // this thread's loop has ended (it may be in its last drain)
            return stopped;
        }
        try {
            // Queued even on the loop thread: never inside a callback of what it closes.
            loop.queueInLoop(stopTask);
        } catch (RejectedExecutionException e) {
            // Its final drain may still run the start task or close connections: not beside it.
            loop.whenEnded(this::stopEndedLoop);
        }
        return stopped;
    }

    /*
     * The base loop has ended (its tasks all ran, the start task included): close the listener from
     * here and still stop the I/O loops, whose connections and threads would otherwise outlive the
     * server. On the base loop's thread, or on any thread once its final drain is over.
     */
    private void stopEndedLoop() {
        if (acceptor != null) { // none with a listener per I/O loop: each slot closes its own
            acceptor.closeOffLoop();
        }
        stopIoLoops();
    }

    private void stopInLoop() {
        if (acceptor != null) {
            acceptor.close();
        }
        stopIoLoops();
    }

    /** Closes every connection on its I/O loop, then stops the pool. Base loop, or any thread once it ended. */
    private void stopIoLoops() {
        ServerIoSlot[] ss = slots;
        AtomicInteger remaining = new AtomicInteger(ss.length);
        Runnable slotDone = () -> {
            if (remaining.decrementAndGet() == 0) {
                finishStop();
            }
        };
        for (ServerIoSlot s : ss) {
            s.closeAll(slotDone);
        }
    }

    private void finishStop() {
        // Joining I/O threads from one of them would deadlock: do it from a short-lived thread.
        Thread t = new Thread(() -> {
            try {
                pool.close();
                stopped.complete(null);
            } catch (Throwable e) {
                stopped.completeExceptionally(e);
            }
        }, name + "-stopper");
        t.setDaemon(true);
        t.start();
    }

    /**
     * {@link #stop()}, then waits for it (at most 30 s) unless called on one of the server's own
     * loop threads: on the base loop's thread while that loop runs, or on an I/O loop's thread (a
     * callback, say), it returns at once and the stop completes asynchronously (its future is
     * {@link #stop()}'s). Throws {@link IllegalStateException} when the stop fails or does not
     * complete in time.
     */
    @Override
    public void close() {
        CompletableFuture<Void> f = stop();
        if (onOwnRunningLoopThread()) {
            return;
        }
        awaitStop(f);
    }

    /**
     * True on a thread whose waiting would hold up the stop: the base loop's while it runs, or any
     * I/O loop's (the stop ends by joining those threads).
     */
    private boolean onOwnRunningLoopThread() {
        EventLoop cur = EventLoop.current();
        if (cur == null) {
            return false;
        }
        if (cur == loop) {
            return !loop.isTerminated();
        }
        ServerIoSlot[] ss = slots;
        if (ss != null) {
            for (ServerIoSlot s : ss) {
                if (s.loop == cur) {
                    return true;
                }
            }
        }
        return false;
    }

    private void awaitStop(CompletableFuture<Void> f) {
        try {
            f.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("server " + name + " did not stop cleanly", e);
        }
    }

    @Override
    public String toString() {
        return "TcpServer[" + name + "]";
    }
}
