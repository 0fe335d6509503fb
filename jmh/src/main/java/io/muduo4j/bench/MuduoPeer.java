package io.muduo4j.bench;

import io.muduo4j.net.Buffer;
import io.muduo4j.net.EventLoop;
import io.muduo4j.net.EventLoopOptions;
import io.muduo4j.net.EventLoopThread;
import io.muduo4j.net.TcpClient;
import io.muduo4j.net.TcpConnection;
import io.muduo4j.net.TcpServer;
import io.muduo4j.net.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * muduo4j: {@link TcpServer} / {@link TcpClient} on {@link EventLoopThread}s, in blocking or spinning
 * mode per side. The benchmarks spin at most on the client side (see {@link Impl}); the
 * {@code EchoServer} program can spin on the server side.
 */
final class MuduoPeer implements Peer {
    /**
     * Idle strategy of spinning loops: {@code busy} (default, {@link BusySpinIdleStrategy}: a
     * PAUSE per idle poll), {@code noop}, {@code yield} ({@link YieldingIdleStrategy}) or
     * {@code backoff}. System property {@code muduo4j.bench.idle}.
     */
    static final String IDLE = System.getProperty("muduo4j.bench.idle", "busy");
    /** Stall detection on every loop, for measuring what it costs (0 = off, the default). */
    static final long STALL_MS = Long.getLong("muduo4j.bench.stallMs", 0);
    /** CPUs to pin loops to, one per loop in the order they are made, cycling (empty = no pinning). */
    static final int[] CPUS = cpus(System.getProperty("muduo4j.bench.cpus", ""));
    private static final java.util.concurrent.atomic.AtomicInteger NEXT_CPU = new java.util.concurrent.atomic.AtomicInteger();

    private static int[] cpus(String list) {
        return list.isBlank() ? new int[0]
                : java.util.Arrays.stream(list.split(",")).mapToInt(x -> Integer.parseInt(x.trim())).toArray();
    }

    private final boolean spinServer;
    private final boolean spinClient;
    private final boolean oneLoop;
    private final Transport transport;
    private EventLoopThread sharedThread;
    private int sharedRefs;

    /**
     * @param oneLoop run the server and every client of this peer on one shared loop thread
     *                (spinning if either side spins), instead of a loop thread each
     */
    MuduoPeer(boolean spinServer, boolean spinClient, boolean oneLoop, Transport transport) {
        this.spinServer = spinServer;
        this.spinClient = spinClient;
        this.oneLoop = oneLoop;
        this.transport = transport;
    }

    /**
     * Benchmarks: the server on a blocking loop of its own, the client on another loop (spinning in
     * MUDUO_SPINNING), like every other implementation (see {@link Impl}). Only the explicit opt-in
     * {@code -Dmuduo4j.bench.spinLayout=shared} puts server and client on one spinning loop, in
     * MUDUO_SPINNING where the measuring thread spins ({@code callerSpins}); no target uses it.
     */
    static MuduoPeer forBenchmark(boolean spinClient, boolean callerSpins, Transport transport) {
        boolean shared = spinClient && callerSpins
                && "shared".equals(System.getProperty("muduo4j.bench.spinLayout", "split"));
        return new MuduoPeer(false, spinClient, shared, transport);
    }

    /** A loop thread from this peer: its own, or the shared one (reference-counted). */
    final class LoopRef {
        private final EventLoopThread thread;
        private boolean released;

        LoopRef(EventLoopThread thread) {
            this.thread = thread;
        }

        EventLoop loop() {
            return thread.loop();
        }

        void release() {
            if (released) {
                return;
            }
            released = true;
            if (!oneLoop) {
                thread.close();
                return;
            }
            synchronized (MuduoPeer.this) {
                if (--sharedRefs == 0) {
                    sharedThread.close();
                    sharedThread = null;
                }
            }
        }
    }

    private LoopRef acquire(String name, boolean spin) {
        if (!oneLoop) {
            EventLoopThread t = new EventLoopThread(name, options(spin, transport), null);
            t.startLoop();
            return new LoopRef(t);
        }
        synchronized (this) {
            if (sharedThread == null) {
                sharedThread = new EventLoopThread("muduo4j-shared", options(spinServer || spinClient, transport), null);
                sharedThread.startLoop();
            }
            sharedRefs++;
            return new LoopRef(sharedThread);
        }
    }

    static IdleStrategy idleStrategy(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "busy":
                return new BusySpinIdleStrategy();
            case "noop":
                return new NoOpIdleStrategy();
            case "yield":
                return new YieldingIdleStrategy();
            case "backoff":
                return new BackoffIdleStrategy();
            default:
                throw new IllegalArgumentException("unknown idle strategy '" + name + "' (busy|noop|yield|backoff)");
        }
    }

    static EventLoopOptions options(boolean spin, Transport transport) {
        EventLoopOptions o = spin ? EventLoopOptions.spinning(() -> idleStrategy(IDLE)) : EventLoopOptions.blocking();
        if (STALL_MS > 0) {
            o.stallThreshold(STALL_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        if (CPUS.length > 0) {
            o.cpuAffinity(CPUS[Math.floorMod(NEXT_CPU.getAndIncrement(), CPUS.length)]);
        }
        return o.transport(transport);
    }

    @Override
    public String name() {
        return "muduo4j-" + transport.resolve().name().toLowerCase(Locale.ROOT) + "-" + (spinServer ? "spinning" : "blocking") + "-server-"
                + (spinClient ? "spinning" : "blocking") + "-client" + (oneLoop ? "-one-loop" : "");
    }

    private LoopRef clientThread(String name) {
        return acquire(name, spinClient);
    }

    // ------------------------------------------------------------------ server

    @Override
    public Server startServer(InetSocketAddress bind, int ioThreads) throws IOException {
        LoopRef base = acquire("muduo4j-echo", spinServer);
        EventLoop loop = base.loop();
        TcpServer server = new TcpServer(loop, bind, "echo");
        if (ioThreads > 1) {
            server.setThreadNum(ioThreads);
            // Opt-in: one SO_REUSEPORT listener per I/O loop instead of the base loop's acceptor.
            server.setAcceptorPerLoop(Boolean.getBoolean("muduo4j.bench.acceptorPerLoop"));
            server.setLoopOptions(options(spinServer, transport));
        }
        server.setTcpNoDelay(true);
        server.setMessageCallback((conn, buf, receiveNanos) -> conn.send(buf));
        java.util.concurrent.atomic.AtomicLong closed = new java.util.concurrent.atomic.AtomicLong();
        server.setConnectionCallback(conn -> {
            if (!conn.connected()) {
                closed.incrementAndGet();
            }
        });
        InetSocketAddress address;
        try {
            server.start();
            address = server.listenAddress();
        } catch (UncheckedIOException e) {
            server.close();
            base.release();
            throw e.getCause();
        } catch (RuntimeException e) {
            server.close();
            base.release();
            throw e;
        }
        return new Server() {
            @Override
            public InetSocketAddress address() {
                return address;
            }

            @Override
            public long connectionsClosed() {
                return closed.get();
            }

            @Override
            public void close() {
                server.close();
                base.release();
            }
        };
    }

    // ------------------------------------------------------------------ connect

    /** One reusable client of the connect probe; its callbacks count ups and downs. */
    static final class ProbeClient {
        final TcpClient client;
        volatile long ups;
        volatile long downs;
        volatile long echoed;
        volatile Throwable failure;

        /** {@code noDelay}: TCP_NODELAY, for probes that send (a connect-only probe does not, as C's connect_bench). */
        ProbeClient(EventLoop loop, InetSocketAddress server, String name, boolean noDelay) {
            client = new TcpClient(loop, server, name);
            client.setTcpNoDelay(noDelay);
            client.setConnectionCallback(conn -> {
                if (conn.connected()) {
                    ups = ups + 1;
                } else {
                    downs = downs + 1;
                }
            });
            client.setMessageCallback((conn, buf, receiveNanos) -> {
                int n = buf.readableBytes();
                buf.retrieve(n);
                echoed = echoed + n;
            });
            client.setConnectFailedCallback((cause, attempt, nextDelayMs) -> failure = cause);
            client.setMaxAttempts(1);
        }

        /** Sends one byte on {@code conn} and spins until its echo has arrived. */
        void echoOneByte(TcpConnection conn, long deadline) throws IOException {
            long target = echoed + 1;
            if (!conn.send(ONE_BYTE)) {
                throw new IOException("connection to " + client.serverAddress() + " closed before the echo");
            }
            int spins = 0;
            while (echoed < target) {
                if ((++spins & 0xfff) == 0) {
                    if (!conn.connected()) {
                        throw new IOException("connection to " + client.serverAddress() + " closed before the echo");
                    }
                    Waits.check(deadline, "muduo4j 1-byte echo");
                }
                Thread.onSpinWait();
            }
        }
    }

    private static final byte[] ONE_BYTE = {'x'};

    /**
     * A ring of {@link TcpClient}s reused round-robin: a client may connect again only after its
     * previous connection has closed, so with several clients the abortive close of connection
     * {@code i} proceeds on the loop while connection {@code i+1} is being established, as it does
     * for the other implementations, whose close is asynchronous too.
     */
    static final class ConnectProbeImpl implements ConnectProbe {
        private static final int RING = 4;
        private final LoopRef thread;
        private final ProbeClient[] ring = new ProbeClient[RING];
        private final boolean echo1;
        private int next;

        ConnectProbeImpl(MuduoPeer peer, InetSocketAddress server, boolean echo1) {
            this.echo1 = echo1;
            thread = peer.clientThread("muduo4j-connect");
            for (int i = 0; i < RING; i++) {
                ring[i] = new ProbeClient(thread.loop(), server, "connect-" + i, echo1);
            }
        }

        @Override
        public long connectOnce() throws IOException {
            ProbeClient c = ring[next];
            next = (next + 1) & (RING - 1);
            long deadline = Waits.deadline();
            int spins = 0;
            long ups = c.ups;
            while (c.downs != ups) { // the previous connection of this client is still closing
                if ((++spins & 0xfff) == 0) {
                    Waits.check(deadline, "muduo4j close");
                }
                Thread.onSpinWait();
            }
            long t0 = System.nanoTime();
            c.client.connect();
            while (c.ups == ups) {
                if ((++spins & 0xfff) == 0) {
                    Throwable f = c.failure;
                    if (f != null) {
                        c.failure = null;
                        throw new IOException("connect to " + c.client.serverAddress() + " failed", f);
                    }
                    Waits.check(deadline, "muduo4j connect");
                }
                Thread.onSpinWait();
            }
            TcpConnection conn = c.client.connection();
            if (conn != null && echo1) {
                c.echoOneByte(conn, deadline);
            }
            long span = System.nanoTime() - t0;
            if (conn != null) {
                conn.abort(); // SO_LINGER 0: RST, asynchronous
            }
            return span;
        }

        @Override
        public void close() {
            for (ProbeClient c : ring) {
                c.client.close().orTimeout(5, TimeUnit.SECONDS).join();
            }
            thread.release();
        }
    }

    /**
     * {@link ConnectStart#LOOP}: the connects are started on the client loop with the public API
     * ({@link TcpClient#connect()} from a task, then from the previous connection's established
     * callback), over a ring of clients as in {@link ConnectProbeImpl}. A client whose previous
     * connection is still closing is started from its down callback instead. All state but the
     * counters the caller waits on is confined to the loop thread.
     */
    static final class LoopConnectProbe implements ConnectProbe {
        private static final int RING = 4;
        private final LoopRef thread;
        private final TcpClient[] ring = new TcpClient[RING];
        // loop thread
        private final boolean[] busy = new boolean[RING];
        private int next;
        private int waitingFor = -1;
        private int remaining;
        private Histogram hist;
        private long started;
        // cross-thread
        private volatile long done;
        private volatile Throwable failure;
        private volatile Thread waiter;

        LoopConnectProbe(MuduoPeer peer, InetSocketAddress server) {
            thread = peer.clientThread("muduo4j-connect-loop");
            for (int i = 0; i < RING; i++) {
                int idx = i;
                TcpClient c = new TcpClient(thread.loop(), server, "connect-loop-" + i);
                c.setMaxAttempts(1);
                c.setConnectionCallback(conn -> {
                    if (conn.connected()) {
                        onUp(idx, conn);
                    } else {
                        onDown(idx);
                    }
                });
                c.setConnectFailedCallback((cause, attempt, nextDelayMs) -> {
                    failure = cause;
                    wake();
                });
                ring[i] = c;
            }
        }

        private void onUp(int idx, TcpConnection conn) {
            long now = System.nanoTime();
            busy[idx] = true;
            if (hist != null) {
                hist.recordValue(Math.min(now - started, PingPongSession.MAX_RTT_NANOS));
            }
            conn.abort(); // SO_LINGER 0: RST
            done = done + 1;
            if (--remaining > 0) {
                startNext();
            } else {
                wake();
            }
        }

        private void onDown(int idx) {
            busy[idx] = false;
            if (waitingFor == idx) {
                waitingFor = -1;
                startNext();
            }
        }

        private void startNext() {
            int i = next;
            if (busy[i]) {
                waitingFor = i; // its previous connection is still closing: start it from onDown
                return;
            }
            next = (i + 1) & (RING - 1);
            started = System.nanoTime();
            ring[i].connect();
        }

        private void wake() {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        @Override
        public long connectOnce() throws IOException {
            long t0 = System.nanoTime();
            connectBatch(1, null);
            return System.nanoTime() - t0;
        }

        @Override
        public void connectBatch(int n, Histogram h) throws IOException {
            if (n <= 0) {
                return;
            }
            long target = done + n;
            waiter = Thread.currentThread();
            thread.loop().runInLoop(() -> {
                hist = h;
                remaining = n;
                startNext();
            });
            long seen = done;
            long deadline = Waits.deadline();
            while (done < target) {
                Throwable f = failure;
                if (f != null) {
                    failure = null;
                    throw new IOException("connect to " + ring[0].serverAddress() + " failed", f);
                }
                long d = done;
                if (d != seen) { // progress: the deadline applies to each connect, not the batch
                    seen = d;
                    deadline = Waits.deadline();
                }
                Waits.check(deadline, "muduo4j connect on the loop");
                LockSupport.parkNanos(this, 1_000_000L);
            }
            waiter = null;
        }

        @Override
        public void close() {
            for (TcpClient c : ring) {
                c.close().orTimeout(5, TimeUnit.SECONDS).join();
            }
            thread.release();
        }
    }

    @Override
    public boolean supportsLoopConnect() {
        return true;
    }

    /**
     * {@link ConnectStart#CALLER} is {@link ConnectNowProbe} (TcpClient.connectNow() on the caller
     * thread); {@link ConnectStart#CLASSIC} is {@link ConnectProbeImpl} (TcpClient.connect() from the
     * caller thread, which queues the attempt to the loop); {@link ConnectStart#LOOP} is
     * {@link LoopConnectProbe}.
     */
    @Override
    public ConnectProbe connectProbe(InetSocketAddress server, ConnectStart start, boolean echo1) {
        switch (start) {
            case LOOP:
                if (echo1) {
                    throw new UnsupportedOperationException("the 1-byte echo probe starts connects from the caller thread only");
                }
                return new LoopConnectProbe(this, server);
            case CLASSIC:
                return new ConnectProbeImpl(this, server, echo1);
            default:
                return new ConnectNowProbe(this, server, echo1);
        }
    }

    /**
     * {@code TcpClient.connectNow()} from the measuring thread, over a ring of clients (one
     * connection per client: a client connects again once the loop has closed its last one). The
     * caller holds the established connection when connectNow returns; the echo byte is written by
     * the caller itself.
     */
    static final class ConnectNowProbe implements ConnectProbe {
        private static final int RING = 64;
        private final LoopRef thread;
        private final ProbeClient[] ring = new ProbeClient[RING];
        private final boolean echo1;
        private int next;

        ConnectNowProbe(MuduoPeer peer, InetSocketAddress server, boolean echo1) {
            this.echo1 = echo1;
            thread = peer.clientThread("muduo4j-connect");
            for (int i = 0; i < RING; i++) {
                ring[i] = new ProbeClient(thread.loop(), server, "connect-" + i, echo1);
            }
        }

        @Override
        public long connectOnce() throws IOException {
            ProbeClient c = ring[next];
            next = (next + 1) & (RING - 1);
            long deadline = Waits.deadline();
            int spins = 0;
            while (c.client.connection() != null) { // the loop has not closed this client's last connection yet
                if ((++spins & 0xfff) == 0) {
                    Waits.check(deadline, "muduo4j close");
                }
                Thread.onSpinWait();
            }
            long t0 = System.nanoTime();
            TcpConnection conn = c.client.connectNow();
            if (echo1) {
                c.echoOneByte(conn, deadline);
            }
            long span = System.nanoTime() - t0;
            conn.abort(); // SO_LINGER 0: RST, asynchronous
            return span;
        }

        @Override
        public void connectBatch(int n, Histogram h) {
            throw new UnsupportedOperationException("a caller-started probe connects one at a time (connectOnce)");
        }

        @Override
        public void close() {
            for (ProbeClient c : ring) {
                c.client.close().orTimeout(5, TimeUnit.SECONDS).join();
            }
            thread.release();
        }
    }

    // ------------------------------------------------------------------ round trip

    static final class RoundTripImpl implements RoundTrip {
        private final LoopRef thread;
        private final TcpClient client;
        private final TcpConnection conn;
        private final byte[] payload;
        private final int size;
        private final Runnable startBatch = this::startBatch;
        // loop thread
        private int remaining;
        // cross-thread
        private volatile long completed;
        private volatile int batchSize;
        private volatile Thread waiter;
        private volatile boolean closed;

        RoundTripImpl(MuduoPeer peer, InetSocketAddress server, int size) throws IOException {
            this.size = size;
            this.payload = new byte[size];
            Arrays.fill(payload, (byte) 'x');
            thread = peer.clientThread("muduo4j-roundtrip");
            client = new TcpClient(thread.loop(), server, "roundtrip");
            client.setTcpNoDelay(true);
            CountDownLatch up = new CountDownLatch(1);
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    up.countDown();
                } else {
                    closed = true;
                    wake();
                }
            });
            client.setMessageCallback(this::onMessage);
            client.setMaxAttempts(1);
            TcpConnection c = null;
            try {
                client.connect();
                if (!up.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("could not connect to " + server);
                }
                c = client.connection();
                if (c == null) {
                    throw new IOException("connection to " + server + " closed at once");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                client.close().orTimeout(5, TimeUnit.SECONDS).join();
                thread.release();
                throw new IOException("interrupted", e);
            } catch (IOException | RuntimeException e) {
                client.close().orTimeout(5, TimeUnit.SECONDS).join();
                thread.release();
                throw e;
            }
            conn = c;
        }

        private void wake() {
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        private void onMessage(TcpConnection c, Buffer buf, long receiveNanos) {
            if (buf.readableBytes() < size) {
                return;
            }
            buf.retrieve(size);
            if (remaining > 1) {
                remaining--;
                c.send(payload);
            } else {
                remaining = 0;
                completed = completed + 1;
                wake();
            }
        }

        @Override
        public void callerThread() {
            long target = completed + 1;
            if (!conn.send(payload)) {
                throw new IllegalStateException("connection closed");
            }
            long deadline = Waits.deadline();
            int spins = 0;
            while (completed < target) {
                if ((++spins & 0xfff) == 0) {
                    checkOpen();
                    Waits.check(deadline, "muduo4j echo");
                }
                Thread.onSpinWait();
            }
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("connection closed");
            }
        }

        private void startBatch() {
            remaining = batchSize;
            conn.send(payload);
        }

        @Override
        public boolean supportsOnLoop() {
            return true;
        }

        @Override
        public void onLoop(int n) {
            long target = completed + 1;
            waiter = Thread.currentThread();
            batchSize = n;
            conn.loop().runInLoop(startBatch);
            long deadline = Waits.deadline();
            while (completed < target) {
                checkOpen();
                Waits.check(deadline, "muduo4j batch");
                LockSupport.parkNanos(this, 1_000_000L);
            }
            waiter = null;
        }

        @Override
        public void close() {
            client.close().orTimeout(5, TimeUnit.SECONDS).join();
            thread.release();
        }
    }

    @Override
    public RoundTrip roundTrip(InetSocketAddress server, int size) throws IOException {
        return new RoundTripImpl(this, server, size);
    }

    // ------------------------------------------------------------------ ping-pong

    static final class PingPongImpl extends PingPongSession.Group {
        private final LoopRef[] threads;
        private final TcpClient[] clients;

        PingPongImpl(MuduoPeer peer, InetSocketAddress server, int connections, int blockSize, int threadCount,
                     boolean recordRtt) throws IOException {
            super(connections, blockSize, recordRtt);
            threads = new LoopRef[Math.max(1, threadCount)];
            clients = new TcpClient[connections];
            byte[] block = new byte[blockSize];
            CountDownLatch up = new CountDownLatch(connections);
            try {
                for (int i = 0; i < threads.length; i++) {
                    threads[i] = peer.clientThread("muduo4j-pingpong-" + i);
                }
                for (int i = 0; i < connections; i++) {
                    PingPongSession s = sessions[i];
                    TcpClient c = new TcpClient(threads[i % threads.length].loop(), server, "pingpong-" + i);
                    c.setTcpNoDelay(true);
                    c.setConnectionCallback(conn -> {
                        if (conn.connected()) {
                            s.started();
                            conn.send(block);
                            up.countDown();
                        }
                    });
                    c.setMessageCallback((conn, buf, receiveNanos) -> {
                        s.onRead(buf.readableBytes());
                        conn.send(buf); // echo, as muduo's pingpong client does
                    });
                    c.setMaxAttempts(1);
                    clients[i] = c;
                    c.connect();
                }
                if (!up.await(10, TimeUnit.SECONDS)) {
                    throw new IOException("ping-pong sessions did not all start");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted", e);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            for (TcpClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
            for (TcpClient c : clients) {
                if (c != null) {
                    c.close().orTimeout(5, TimeUnit.SECONDS).join();
                }
            }
            for (LoopRef t : threads) {
                if (t != null) {
                    t.release();
                }
            }
        }
    }

    @Override
    public PingPong pingPong(InetSocketAddress server, int connections, int blockSize, int threads, boolean recordRtt)
            throws IOException {
        return new PingPongImpl(this, server, connections, blockSize, threads, recordRtt);
    }
}
