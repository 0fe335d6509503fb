package io.muduo4j.bench;

/**
 * The implementations every benchmark compares, used as a JMH {@code @Param} ("impl").
 *
 * <p>On a 2-core machine a spinning loop on both ends plus the spinning JMH thread would need three
 * cores. So where the JMH thread spins while it waits (connect, caller-thread round trip)
 * {@link #MUDUO_SPINNING} runs the server and the client on <em>one</em> spinning loop, the way a
 * latency-sensitive user with one spare core would deploy it (and as Netty's own epoll channel
 * benchmark does); where the JMH thread parks (on-loop round trip, ping-pong) the client loop spins
 * and the server loop blocks. {@code -Dmuduo4j.bench.spinLayout=split} keeps client and server
 * apart everywhere; {@code muduo4j.bench.idle=busy|noop|yield|backoff} picks the idle strategy.
 * {@link #MUDUO_BLOCKING} is the like-for-like comparison with the other implementations' layout.
 * See {@code jmh/README.md}.
 */
public enum Impl {
    /** muduo4j, server and client loops in blocking mode. */
    MUDUO_BLOCKING,
    /** muduo4j, spinning loops (Agrona idle strategy); see the class comment for the layout. */
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
