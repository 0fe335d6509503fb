package io.muduo4j.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The floor a reactor has to approach: plain JDK blocking {@link SocketChannel}s, one thread per
 * connection. Direct buffers, so the JDK does not copy through its temporary buffer cache.
 * <ul>
 *   <li>Platform threads ({@code virtual == false}): the server's connection threads come from a
 *       cached pool, so a connect benchmark measures sockets, not {@code Thread.start}; each keeps
 *       its 64 KiB buffer in a thread-local.</li>
 *   <li>Virtual threads ({@code virtual == true}, JDK 21+): a new virtual thread per server
 *       connection and per ping-pong session, as virtual threads are meant to be used (never
 *       pooled); the 64 KiB buffers are recycled through a queue. The accept loop stays on one
 *       platform thread. Reached by reflection ({@code Thread.ofVirtual()},
 *       {@code Executors.newThreadPerTaskExecutor}) so this compiles with {@code --release 17}.</li>
 * </ul>
 * The client side of the connect and caller-thread round-trip benchmarks is the JMH thread itself
 * in both cases.
 */
final class JdkPeer implements Peer {
    private static final int MAX_BLOCK = 1 << 20;

    private final boolean virtual;

    /** @param virtual one virtual thread per connection; requires JDK 21+ ({@link #virtualThreadsAvailable()}) */
    JdkPeer(boolean virtual) {
        if (virtual && !virtualThreadsAvailable()) {
            throw new UnsupportedOperationException("virtual threads need JDK 21+, this is "
                    + System.getProperty("java.version"));
        }
        this.virtual = virtual;
    }

    @Override
    public String name() {
        return virtual ? "jdk-virtual" : "jdk";
    }

    static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Whether {@code Thread.ofVirtual()} exists (JDK 21+). */
    static boolean virtualThreadsAvailable() {
        try {
            Thread.class.getMethod("ofVirtual");
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** {@code Thread.ofVirtual().name(prefix + "-", 1).factory()}, by reflection. */
    static ThreadFactory virtualThreads(String prefix) {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
            builder = ofVirtual.getMethod("name", String.class, long.class).invoke(builder, prefix + "-", 1L);
            return (ThreadFactory) ofVirtual.getMethod("factory").invoke(builder);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("virtual threads need JDK 21+", e);
        }
    }

    /** {@code Executors.newThreadPerTaskExecutor(factory)}, by reflection (JDK 21+). */
    static ExecutorService threadPerTask(ThreadFactory factory) {
        try {
            return (ExecutorService) Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class)
                    .invoke(null, factory);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("virtual threads need JDK 21+", e);
        }
    }

    /**
     * A socket of the server address's own family: {@code SocketChannel.open()} would make a
     * dual-stack IPv6 socket and pay an {@code IPV6_V6ONLY} system call per connect (muduo4j's
     * connects do not either), the JDK at its best.
     */
    static SocketChannel open(InetSocketAddress server) throws IOException {
        return open(server, true);
    }

    /** {@link #open(InetSocketAddress)}, with {@code TCP_NODELAY} only when {@code noDelay}. */
    static SocketChannel open(InetSocketAddress server, boolean noDelay) throws IOException {
        SocketChannel ch = server.getAddress() instanceof java.net.Inet4Address
                ? SocketChannel.open(java.net.StandardProtocolFamily.INET) : SocketChannel.open();
        try {
            if (noDelay) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            ch.connect(server);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ------------------------------------------------------------------ server

    static final class EchoServerImpl implements Server {
        private static final ThreadLocal<ByteBuffer> BUFFER =
                ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64 * 1024));
        private final ServerSocketChannel listener;
        private final boolean virtual;
        private final ExecutorService workers;
        private final ConcurrentLinkedQueue<ByteBuffer> buffers = new ConcurrentLinkedQueue<>();
        private final Thread acceptor;
        private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicLong closed = new java.util.concurrent.atomic.AtomicLong();
        private final InetSocketAddress address;

        EchoServerImpl(InetSocketAddress bind, boolean virtual) throws IOException {
            this.virtual = virtual;
            workers = virtual ? threadPerTask(virtualThreads("jdk-virtual-echo"))
                    : Executors.newCachedThreadPool(daemonThreads("jdk-echo"));
            listener = ServerSocketChannel.open();
            try {
                listener.bind(bind, 1024);
            } catch (IOException e) {
                listener.close();
                workers.shutdownNow();
                throw e;
            }
            address = (InetSocketAddress) listener.getLocalAddress();
            acceptor = new Thread(this::acceptLoop, "jdk-echo-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private void acceptLoop() {
            while (listener.isOpen()) {
                SocketChannel ch;
                try {
                    ch = listener.accept();
                } catch (IOException e) {
                    return; // closed
                }
                try {
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    open.add(ch);
                    workers.execute(() -> echo(ch));
                } catch (IOException | RuntimeException e) {
                    open.remove(ch);
                    closeQuietly(ch);
                }
            }
        }

        private void echo(SocketChannel ch) {
            ByteBuffer buf = virtual ? buffers.poll() : BUFFER.get();
            if (buf == null) {
                buf = ByteBuffer.allocateDirect(64 * 1024);
            }
            try {
                buf.clear();
                while (ch.read(buf) >= 0) {
                    buf.flip();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    buf.clear();
                }
            } catch (IOException e) {
                // reset by peer (SO_LINGER 0 clients) or closed by close()
            } finally {
                open.remove(ch);
                closeQuietly(ch);
                closed.incrementAndGet();
                if (virtual) {
                    buffers.offer(buf);
                }
            }
        }

        @Override
        public long connectionsClosed() {
            return closed.get();
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public void close() {
            closeQuietly(listener);
            for (SocketChannel ch : open) {
                closeQuietly(ch);
            }
            workers.shutdownNow();
            try {
                acceptor.join(2000);
                workers.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public Server startServer(InetSocketAddress bind, int ioThreads) throws IOException {
        return new EchoServerImpl(bind, virtual);
    }

    // ------------------------------------------------------------------ connect

    @Override
    public boolean supportsLoopConnect() {
        return false;
    }

    @Override
    public ConnectProbe connectProbe(InetSocketAddress server, ConnectStart start, boolean echo1) {
        if (start != ConnectStart.CALLER) {
            throw new UnsupportedOperationException(name() + " has no loop: a connect can only be started from the "
                    + "caller thread (--start caller)");
        }
        ByteBuffer one = ByteBuffer.allocateDirect(1);
        return new ConnectProbe() {
            @Override
            public long connectOnce() throws IOException {
                long t0 = System.nanoTime();
                SocketChannel ch = open(server, echo1); // returns once established
                long span;
                try {
                    if (echo1) {
                        one.clear().put((byte) 'x').flip();
                        while (one.hasRemaining()) {
                            ch.write(one);
                        }
                        one.clear();
                        while (one.hasRemaining()) {
                            if (ch.read(one) < 0) {
                                throw new EOFException("server closed before echoing");
                            }
                        }
                    }
                    span = System.nanoTime() - t0;
                    ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                } finally {
                    ch.close(); // RST
                }
                return span;
            }

            @Override
            public void close() {
            }
        };
    }

    // ------------------------------------------------------------------ round trip

    static final class RoundTripImpl implements RoundTrip {
        private final SocketChannel ch;
        private final ByteBuffer out;
        private final ByteBuffer in;

        RoundTripImpl(InetSocketAddress server, int size) throws IOException {
            ch = open(server);
            out = ByteBuffer.allocateDirect(size);
            while (out.hasRemaining()) {
                out.put((byte) 'x');
            }
            in = ByteBuffer.allocateDirect(size);
        }

        @Override
        public void callerThread() throws IOException {
            out.clear();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            in.clear();
            while (in.hasRemaining()) {
                if (ch.read(in) < 0) {
                    throw new EOFException("server closed the connection");
                }
            }
        }

        @Override
        public boolean supportsOnLoop() {
            return false;
        }

        /**
         * There is no loop: the socket's own thread (the caller) does the {@code n} round trips. The
         * benchmarks leave the JDK out of {@code onLoop}; this only keeps a {@code -p impl=JDK}
         * override from failing the run.
         */
        @Override
        public void onLoop(int n) {
            try {
                for (int i = 0; i < n; i++) {
                    callerThread();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            closeQuietly(ch);
        }
    }

    @Override
    public RoundTrip roundTrip(InetSocketAddress server, int size) throws IOException {
        return new RoundTripImpl(server, size);
    }

    // ------------------------------------------------------------------ ping-pong

    static final class PingPongImpl extends PingPongSession.Group {
        private final SocketChannel[] channels;
        private final Thread[] threads;

        PingPongImpl(InetSocketAddress server, int connections, int blockSize, boolean recordRtt, boolean virtual)
                throws IOException {
            super(connections, blockSize, recordRtt);
            if (blockSize > MAX_BLOCK) {
                throw new IllegalArgumentException("block size over " + MAX_BLOCK);
            }
            channels = new SocketChannel[connections];
            threads = new Thread[connections];
            CountDownLatch up = new CountDownLatch(connections);
            ThreadFactory factory = virtual ? virtualThreads("jdk-virtual-pingpong") : null;
            try {
                for (int i = 0; i < connections; i++) {
                    channels[i] = open(server);
                }
                for (int i = 0; i < connections; i++) {
                    SocketChannel ch = channels[i];
                    PingPongSession s = sessions[i];
                    Runnable session = () -> run(ch, s, up);
                    if (factory != null) {
                        threads[i] = factory.newThread(session);
                    } else {
                        threads[i] = new Thread(session, "jdk-pingpong-" + i);
                        threads[i].setDaemon(true);
                    }
                    threads[i].start();
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

        private static void run(SocketChannel ch, PingPongSession s, CountDownLatch up) {
            ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(s.blockSize, 64 * 1024));
            try {
                buf.limit(s.blockSize);
                s.started();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                up.countDown();
                buf.clear();
                int n;
                while ((n = ch.read(buf)) >= 0) {
                    s.onRead(n);
                    buf.flip();
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    buf.clear();
                }
            } catch (IOException e) {
                // closed by close()
            } finally {
                closeQuietly(ch);
            }
        }

        @Override
        public void close() {
            for (SocketChannel c : channels) {
                closeQuietly(c);
            }
            for (Thread t : threads) {
                if (t != null) {
                    try {
                        t.join(2000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    @Override
    public PingPong pingPong(InetSocketAddress server, int connections, int blockSize, int threads, boolean recordRtt)
            throws IOException {
        return new PingPongImpl(server, connections, blockSize, recordRtt, virtual);
    }
}
