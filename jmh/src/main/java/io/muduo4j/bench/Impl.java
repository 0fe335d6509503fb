package io.muduo4j.bench;

/**
 * The implementations every benchmark compares, used as a JMH {@code @Param} ("impl").
 *
 * <p>Every implementation runs in the same topology: the echo server on its own loop (thread), the
 * client on another loop (thread) of its own, and the JMH thread apart from both. Nothing shares a
 * loop between client and server. The JDK peers have no loop: each connection has its own thread on
 * the server side, and the client side runs on the JMH thread (round trip, connect) or on one thread
 * per session (ping-pong).
 *
 * <p>Comparisons are made between configurations of the same kind (see {@code jmh/targets.txt}):
 * <ul>
 *   <li>{@link #MUDUO_BLOCKING}, whose loops block in the kernel when idle, against
 *       {@link #NETTY_NIO}, {@link #NETTY_EPOLL}, {@link #NETTY_IO_URING}, {@link #JDK} and
 *       {@link #JDK_VIRTUAL};</li>
 *   <li>{@link #MUDUO_SPINNING}, whose client loop busy-polls (the server loop blocks), against
 *       {@link #NETTY_EPOLL_BUSY}, whose client loop busy-polls the same way (its server loop
 *       blocks).</li>
 * </ul>
 * On a 2-core machine the spinning client loop and a spinning JMH thread (connect, caller-thread
 * round trip) compete with the server loop for the cores; that holds for both spinning
 * implementations alike.
 *
 * <p>{@code -Dmuduo4j.bench.spinLayout=shared} is an explicit opt-in, used by no target and not
 * like-for-like with any peer: {@link #MUDUO_SPINNING} then runs server and client on one shared
 * spinning loop where the JMH thread spins. {@code -Dmuduo4j.bench.idle=busy|noop|yield|backoff}
 * picks the idle strategy of spinning muduo4j loops. See {@code jmh/README.md}.
 */
public enum Impl {
    /** muduo4j, server and client loops in blocking mode. */
    MUDUO_BLOCKING,
    /** muduo4j, spinning client loop (Agrona idle strategy), blocking server loop. */
    MUDUO_SPINNING,
    /**
     * muduo4j on its native epoll transport (FFM), server and client loops in blocking mode. JDK 22
     * and later only (as {@link #JDK_VIRTUAL}, it is left out of older runs). {@link #MUDUO_BLOCKING}
     * and {@link #MUDUO_SPINNING} run the NIO transport on every JDK.
     */
    MUDUO_EPOLL,
    /** Netty 4.2, {@code MultiThreadIoEventLoopGroup} + {@code NioIoHandler}. */
    NETTY_NIO,
    /** Netty 4.2, {@code MultiThreadIoEventLoopGroup} + native {@code EpollIoHandler}. */
    NETTY_EPOLL,
    /**
     * Netty 4.2 native epoll whose client loop busy-polls: a select strategy that never blocks
     * (a non-blocking {@code epoll_wait} on every pass); the server loop blocks as in {@link #NETTY_EPOLL}.
     */
    NETTY_EPOLL_BUSY,
    /** Netty 4.2, {@code MultiThreadIoEventLoopGroup} + native {@code IoUringIoHandler}. */
    NETTY_IO_URING,
    /** Plain JDK blocking {@code SocketChannel}, one platform thread per connection. */
    JDK,
    /**
     * Plain JDK blocking {@code SocketChannel}, one virtual thread per connection. JDK 21 and later
     * only: on an older JVM {@link #newPeer} throws {@link UnsupportedOperationException}, and
     * {@code jmh/bench.sh} leaves it out of the run.
     */
    JDK_VIRTUAL;

    /**
     * A fresh peer for the in-process benchmarks. {@code callerSpins}: the JMH thread spins while it
     * waits (connect, caller-thread round trip); only the opt-in {@code spinLayout=shared} looks at it.
     */
    Peer newPeer(boolean callerSpins) {
        switch (this) {
            case MUDUO_BLOCKING:
                return MuduoPeer.forBenchmark(false, callerSpins, io.muduo4j.net.Transport.NIO);
            case MUDUO_SPINNING:
                return MuduoPeer.forBenchmark(true, callerSpins, io.muduo4j.net.Transport.NIO);
            case MUDUO_EPOLL:
                if (!io.muduo4j.net.Transport.EPOLL.isAvailable()) {
                    throw new UnsupportedOperationException("MUDUO_EPOLL: " + io.muduo4j.net.Transport.unavailableReason());
                }
                return MuduoPeer.forBenchmark(false, callerSpins, io.muduo4j.net.Transport.EPOLL);
            case NETTY_NIO:
                return new NettyPeer(NettyPeer.Transport.NIO);
            case NETTY_EPOLL:
                return new NettyPeer(NettyPeer.Transport.EPOLL);
            case NETTY_EPOLL_BUSY:
                return new NettyPeer(NettyPeer.Transport.EPOLL_BUSY);
            case NETTY_IO_URING:
                return new NettyPeer(NettyPeer.Transport.IO_URING);
            case JDK:
                return new JdkPeer(false);
            case JDK_VIRTUAL:
                return new JdkPeer(true);
            default:
                throw new AssertionError(this);
        }
    }

    /** Lower-case label used in reports and ratio gates, e.g. {@code muduo_blocking}. */
    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
