package io.muduo4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * Helpers of the TCP functional tests: loop options per wait mode, loop threads that close
 * themselves, descriptor counting through {@code /proc/self/fd}, a deterministic byte stream, and a
 * listener whose backlog is full.
 */
final class TcpTestSupport {
    static final InetSocketAddress ANY_LOCAL_PORT = new InetSocketAddress("127.0.0.1", 0);
    static final long WAIT_SECONDS = 10;
    private static final Path FD_DIR = Path.of("/proc/self/fd");

    static {
        // The JDK's first close of a socket creates a socket pair it keeps for good (the
        // "pre-close" descriptor of its dup2 close protocol); let it exist before anything counts.
        try {
            java.nio.channels.SocketChannel.open().close();
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private TcpTestSupport() {
    }

    /**
     * Blocking, or spinning with a backoff idle strategy (the test machine has 2 cores; a busy
     * spin would starve the other threads). A strategy per loop (strategies keep state), also
     * for the loops of a server's pool made from one {@code EventLoopOptions}.
     */
    static EventLoopOptions options(EventLoop.WaitMode mode) {
        return mode == EventLoop.WaitMode.BLOCKING
                ? EventLoopOptions.blocking()
                : EventLoopOptions.spinning(BackoffIdleStrategy::new);
    }

    /** Loop threads that are all closed (quit and joined) at the end of a try-with-resources. */
    static final class Loops implements AutoCloseable {
        private final List<EventLoopThread> threads = new ArrayList<>();
        private final EventLoop.WaitMode mode;
        private final EventLoop.ErrorHandler errorHandler;
        private Transport transport = Transport.AUTO;

        Loops(EventLoop.WaitMode mode) {
            this(mode, null);
        }

        Loops(EventLoop.WaitMode mode, EventLoop.ErrorHandler errorHandler) {
            this.mode = mode;
            this.errorHandler = errorHandler;
        }

        EventLoop start(String name) {
            EventLoopThread t = new EventLoopThread(name, loopOptions(), null);
            threads.add(t);
            return t.startLoop();
        }

        /** Options for further loops (a server's I/O loops), with this set's error handler. */
        EventLoopOptions loopOptions() {
            EventLoopOptions o = options(mode).transport(transport);
            if (errorHandler != null) {
                o.errorHandler(errorHandler);
            }
            return o;
        }

        /** Loops made from here on run {@code t} (tests that look at NIO sockets themselves need NIO). */
        Loops onTransport(Transport t) {
            this.transport = t;
            return this;
        }

        @Override
        public void close() {
            for (int i = threads.size() - 1; i >= 0; i--) {
                threads.get(i).close();
            }
        }
    }

    /** A started server on 127.0.0.1 with an ephemeral port; I/O loops in {@code loops}' mode. */
    static TcpServer server(Loops loops, EventLoop base, String name, int ioThreads, ServerSetup setup) {
        TcpServer s = new TcpServer(base, ANY_LOCAL_PORT, name);
        s.setThreadNum(ioThreads);
        s.setLoopOptions(loops.loopOptions());
        setup.configure(s);
        s.start();
        return s;
    }

    @FunctionalInterface
    interface ServerSetup {
        void configure(TcpServer s);
    }

    // ------------------------------------------------------------------ descriptors

    /** Open descriptors of this process. */
    static int openFds() {
        try (Stream<Path> s = Files.list(FD_DIR)) {
            return (int) s.count() - 1; // the directory stream's own descriptor
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Open sockets of this process (descriptors whose link reads {@code socket:[inode]}). */
    static int openSockets() {
        int n = 0;
        try (Stream<Path> s = Files.list(FD_DIR)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    if (Files.readSymbolicLink(p).toString().startsWith("socket:")) {
                        n++;
                    }
                } catch (IOException e) {
                    // closed while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    /** Polls {@code counter} until it is at most {@code max} (descriptors close asynchronously); fails at the deadline. */
    static void awaitAtMost(LongSupplier counter, long max, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        long n;
        while ((n = counter.getAsLong()) > max) {
            if (System.nanoTime() - deadline > 0) {
                fail(what + ": " + n + ", expected at most " + max + " within " + WAIT_SECONDS + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    // ------------------------------------------------------------------ waiting

    static <T> T get(Future<T> f, String what) throws Exception {
        return get(f, WAIT_SECONDS, what);
    }

    static <T> T get(Future<T> f, long seconds, String what) throws Exception {
        try {
            return f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("timed out after " + seconds + " s waiting for " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) {
                throw (Exception) c;
            }
            throw (Error) c;
        }
    }

    /** Runs {@code c} on {@code loop} and returns its result. */
    static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> c) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.runInLoop(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return get(f, "a task on " + loop);
    }

    // ------------------------------------------------------------------ data

    /** Byte {@code pos} of the deterministic test stream {@code seed}. */
    static byte streamByte(long seed, long pos) {
        long x = pos * 0x9E3779B97F4A7C15L + seed;
        x ^= x >>> 29;
        return (byte) (x ^ (x >>> 17));
    }

    /** {@code len} bytes of stream {@code seed} from {@code pos}. */
    static byte[] streamBytes(long seed, long pos, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = streamByte(seed, pos + i);
        }
        return b;
    }

    /** Checks that {@code buf}'s remaining bytes are stream {@code seed} from {@code pos}; returns the first mismatch or -1. */
    static long firstMismatch(long seed, long pos, ByteBuffer buf) {
        for (int i = buf.position(); i < buf.limit(); i++) {
            if (buf.get(i) != streamByte(seed, pos + i - buf.position())) {
                return pos + i - buf.position();
            }
        }
        return -1;
    }

    /** Reads {@code total} bytes from {@code in} and asserts they are stream {@code seed} from 0, in order. */
    static void readStream(java.io.InputStream in, long seed, long total) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long pos = 0;
        while (pos < total) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, total - pos));
            assertTrue(n > 0, "EOF after " + pos + " of " + total + " bytes");
            long bad = firstMismatch(seed, pos, ByteBuffer.wrap(buf, 0, n));
            assertEquals(-1, bad, "stream differs at byte " + bad);
            pos += n;
        }
    }

    /** A port with no listener (bound once, then released). */
    static int freePort() throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open()) {
            s.bind(ANY_LOCAL_PORT);
            return ((InetSocketAddress) s.getLocalAddress()).getPort();
        }
    }

    // ------------------------------------------------------------------ a listener that never answers

    /**
     * A listener with backlog 1 that never accepts, its queue filled by blocking connects: further
     * SYNs are dropped, so a connect to it neither succeeds nor fails until the client gives up.
     */
    static final class FullBacklogListener implements AutoCloseable {
        final ServerSocketChannel server;
        final InetSocketAddress address;
        private final List<Socket> fillers = new ArrayList<>();

        FullBacklogListener() throws IOException {
            server = ServerSocketChannel.open();
            server.bind(ANY_LOCAL_PORT, 1);
            address = (InetSocketAddress) server.getLocalAddress();
            for (int i = 0; i < 16; i++) {
                Socket s = new Socket();
                try {
                    s.connect(address, 300);
                } catch (SocketTimeoutException e) {
                    s.close();
                    return; // the queue is full: SYNs go unanswered
                }
                fillers.add(s);
            }
            close();
            throw new IllegalStateException("could not fill the backlog of " + address + " with 16 connects");
        }

        @Override
        public void close() throws IOException {
            for (Socket s : fillers) {
                s.close();
            }
            server.close();
        }
    }

    static void setSmallBuffers(java.nio.channels.NetworkChannel ch, int bytes) throws IOException {
        ch.setOption(StandardSocketOptions.SO_RCVBUF, bytes);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, bytes);
    }

    /**
     * One connection and one echo through a server, so the descriptors the JDK opens lazily on
     * first use exist before a test counts descriptors.
     */
    static void warmUpDescriptors() throws Exception {
        try (Loops loops = new Loops(EventLoop.WaitMode.BLOCKING)) {
            EventLoop base = loops.start("fd-warmup");
            TcpServer server = server(loops, base, "fd-warmup", 0, s -> s.setMessageCallback((c, b, t) -> c.send(b)));
            CompletableFuture<Void> echoed = new CompletableFuture<>();
            TcpClient client = new TcpClient(base, server.listenAddress(), "fd-warmup");
            client.setConnectionCallback(c -> {
                if (c.connected()) {
                    c.send(new byte[] {1});
                }
            });
            client.setMessageCallback((c, b, t) -> {
                b.retrieveAll();
                echoed.complete(null);
            });
            client.connect();
            get(echoed, "warm-up echo");
            get(client.close(), "warm-up client close");
            server.close();
        }
    }

    /** Writes {@code text} on a blocking socket and asserts that exactly it comes back. */
    static void assertEchoes(SocketChannel ch, String text) throws IOException {
        byte[] b = text.getBytes();
        ch.write(ByteBuffer.wrap(b));
        ByteBuffer in = ByteBuffer.allocate(b.length);
        while (in.hasRemaining()) {
            assertTrue(ch.read(in) >= 0, "EOF instead of the echo of '" + text + "'");
        }
        assertEquals(text, new String(in.array()));
    }
}
