package io.muduo4j.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import org.HdrHistogram.Histogram;

/**
 * One implementation's echo server and clients, behind the few operations the benchmarks and the
 * programs need. A peer is a factory: every object it returns owns its own threads and sockets and
 * releases them on {@code close()}. All sockets use TCP_NODELAY.
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

    /** Sequential connect-establish-close against {@code server}. */
    ConnectProbe connectProbe(InetSocketAddress server) throws IOException;

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

        @Override
        void close();
    }

    interface ConnectProbe extends AutoCloseable {
        /**
         * Starts a connect, waits until the connection is established (the implementation's
         * established-connection callback, or {@code connect()} returning for blocking sockets)
         * and initiates an abortive close (SO_LINGER 0: RST, no TIME_WAIT).
         */
        void connectOnce() throws IOException;

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

        @Override
        void close();
    }
}
