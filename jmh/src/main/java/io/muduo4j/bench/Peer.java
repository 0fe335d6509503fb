package io.muduo4j.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.HdrHistogram.Histogram;

/**
 * One implementation's echo server and clients, behind the few operations the benchmarks and the
 * programs need. A peer is a factory: every object it returns owns its own threads and sockets and
 * releases them on {@code close()}. Every socket that carries data uses TCP_NODELAY; a connect-only
 * probe sets no option of its own before its abortive close, as the C client {@code connect_bench}
 * (Netty's channels still set TCP_NODELAY by default).
 */
interface Peer {
    /** Display name. */
    String name();

    /**
     * Starts an echo server (echoes every byte back) bound to {@code bind} (port 0 allowed).
     * {@code ioThreads <= 1}: one loop accepts and does the I/O; {@code n > 1}: one acceptor loop
     * plus {@code n} I/O loops. Thread-per-connection servers ignore it.
     */
    Server startServer(InetSocketAddress bind, int ioThreads) throws IOException;

    /** Where a connect is started: see {@link #connectProbe(InetSocketAddress, ConnectStart, boolean)}. */
    enum ConnectStart {
        /**
         * The measuring thread starts each connect ({@link ConnectProbe#connectOnce()}): an embedding
         * application opening a connection from its own thread. muduo4j: {@code TcpClient.connectNow()}
         * (the connect runs on the caller, which holds the established connection when it returns).
         */
        CALLER,
        /**
         * muduo4j only: the measuring thread calls {@code TcpClient.connect()}, which queues the
         * attempt to the client loop, and waits for the established callback (muduo's way).
         */
        CLASSIC,
        /**
         * The client loop starts each connect ({@link ConnectProbe#connectBatch}): the next connect
         * is started on the loop thread from the previous connection's established callback, as a
         * proxy opens an upstream connection inside a callback. Only for peers with a loop.
         */
        LOOP
    }

    /** Sequential connect-establish-close against {@code server}, started from the caller thread. */
    default ConnectProbe connectProbe(InetSocketAddress server) throws IOException {
        return connectProbe(server, ConnectStart.CALLER, false);
    }

    /** Whether {@link ConnectStart#LOOP} probes exist (false for thread-per-connection sockets). */
    boolean supportsLoopConnect();

    /**
     * Sequential connect-establish-close against {@code server}.
     *
     * @param start {@link ConnectStart#CALLER}: use {@link ConnectProbe#connectOnce()};
     *              {@link ConnectStart#LOOP}: use {@link ConnectProbe#connectBatch}; LOOP throws
     *              {@link UnsupportedOperationException} where {@link #supportsLoopConnect()} is false
     * @param echo1 after the connection is established, send 1 byte and wait for its 1-byte echo
     *              before the abortive close (the server's accept path: accept, register, read,
     *              write, reset); CALLER only
     */
    ConnectProbe connectProbe(InetSocketAddress server, ConnectStart start, boolean echo1) throws IOException;

    /** One connection, {@code size}-byte messages echoed one at a time. */
    RoundTrip roundTrip(InetSocketAddress server, int size) throws IOException;

    /**
     * muduo's pingpong client: {@code connections} sessions spread over {@code threads} client
     * loops; each sends one {@code blockSize} block on connect and then echoes everything it reads.
     * Returns once every session is connected and has sent its first block.
     */
    PingPong pingPong(InetSocketAddress server, int connections, int blockSize, int threads, boolean recordRtt)
            throws IOException;

    interface Server extends AutoCloseable {
        InetSocketAddress address();

        /**
         * Connections this server has closed so far (any thread; the count may lag a little). A
         * connect benchmark waits while the server is too far behind: a client that connects faster
         * than the server accepts and closes fills the listen backlog, and then the kernel drops
         * SYNs and the connect waits out a 1 s retransmission.
         */
        long connectionsClosed();

        @Override
        void close();
    }

    interface ConnectProbe extends AutoCloseable {
        /**
         * Starts a connect, waits until the connection is established (the implementation's
         * established-connection callback, or {@code connect()} returning for blocking sockets)
         * and initiates an abortive close (SO_LINGER 0: RST, no TIME_WAIT).
         *
         * @return the connect's span in ns: from just before the connect starts (after any wait for
         *     this probe's previous close) to established, or to the echo in 1-byte-echo mode; the
         *     close is outside it. The span the C client {@code connect_bench} times, except that
         *     it opens its socket before its clock starts and every JVM peer here inside it.
         */
        long connectOnce() throws IOException;

        /**
         * {@link ConnectStart#LOOP} probes: {@code n} connects one after another, each started on the
         * client loop (the first from a task, the next from the previous connection's established
         * callback); each is timed on the loop from starting the connect to the established callback
         * and recorded in ns into {@code h} (null: not recorded); each is closed abortively right after.
         * The caller only waits until all {@code n} are done. CALLER probes throw
         * {@link UnsupportedOperationException}.
         */
        default void connectBatch(int n, Histogram h) throws IOException {
            throw new UnsupportedOperationException("this probe starts connects from the caller thread");
        }

        @Override
        void close();
    }

    interface RoundTrip extends AutoCloseable {
        /** The calling thread sends one message and spins until the whole echo has arrived. */
        void callerThread() throws IOException;

        /** Whether there is a loop to drive {@link #onLoop(int)} (false for thread-per-connection sockets). */
        boolean supportsOnLoop();

        /**
         * {@code n} round trips driven by the client loop itself (the next message is sent from the
         * read callback); the caller hands the batch over and waits until it is done.
         */
        void onLoop(int n);

        @Override
        void close();
    }

    interface PingPong extends AutoCloseable {
        /** Bytes read by all sessions so far. */
        long bytesRead();

        /** Read callbacks (muduo's "messages read") so far. */
        long readCalls();

        /** Whole blocks received so far (bytes read / block size, summed per session). */
        long blocks();

        /** Per-block round-trip times in ns merged over the sessions, or null if not recorded. */
        Histogram rtt();

        /**
         * Record round-trip times only for blocks that complete at or after {@code nanoTime}
         * ({@link System#nanoTime()} scale): the warm-up before it is not counted.
         */
        void recordRttFrom(long nanoTime);

        @Override
        void close();
    }
}
