package io.muduo4j.bench;

/**
 * The implementations every benchmark compares, used as a JMH {@code @Param} ("impl").
 *
 * <p>On a 2-core machine a spinning loop on both ends plus the spinning JMH thread would leave no
 * core for anyone else, so {@link #MUDUO_SPINNING} spins on the <em>client</em> side only (the side
 * the measuring thread talks to: that is where the cross-thread hop and the read wake-up happen)
 * while the in-process server loops block, exactly as in {@link #MUDUO_BLOCKING}. System
 * properties {@code muduo4j.bench.spinLayout=shared} (server and client on one spinning loop) and
 * {@code muduo4j.bench.idle=busy|noop|yield|backoff} try the alternatives. See {@code jmh/README.md}.
 */
public enum Impl {
    /** muduo4j, server and client loops in blocking mode. */
    MUDUO_BLOCKING,
    /** muduo4j, client loops spinning (Agrona idle strategy), server loops blocking. */
    MUDUO_SPINNING,
    /** Netty 4.2, {@code MultiThreadIoEventLoopGroup} + {@code NioIoHandler}. */
    NETTY_NIO,
    /** Netty 4.2, {@code MultiThreadIoEventLoopGroup} + native {@code EpollIoHandler}. */
    NETTY_EPOLL,
    /** Plain JDK blocking {@code SocketChannel}, one thread per connection. */
    JDK;

    /**
     * A fresh peer for the in-process benchmarks. {@code callerSpins}: the JMH thread spins while it
     * waits (connect, caller-thread round trip), which is when {@code spinLayout=shared} applies.
     */
    Peer newPeer(boolean callerSpins) {
        switch (this) {
            case MUDUO_BLOCKING:
                return MuduoPeer.forBenchmark(false, callerSpins);
            case MUDUO_SPINNING:
                return MuduoPeer.forBenchmark(true, callerSpins);
            case NETTY_NIO:
                return new NettyPeer(NettyPeer.Transport.NIO);
            case NETTY_EPOLL:
                return new NettyPeer(NettyPeer.Transport.EPOLL);
            case JDK:
                return new JdkPeer();
            default:
                throw new AssertionError(this);
        }
    }

    /** Lower-case label used in reports and ratio gates, e.g. {@code muduo_blocking}. */
    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
