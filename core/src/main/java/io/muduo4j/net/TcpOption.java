package io.muduo4j.net;

import java.net.SocketOption;
import java.net.StandardSocketOptions;
import jdk.net.ExtendedSocketOptions;

/**
 * The socket options of a TCP connection that muduo4j sets by name, each an {@code int} (flags
 * 0 or 1), with Linux's level and number for the native transports and the JDK's option, where
 * the JDK has one, for NIO. {@link TcpConnection#setOption}, {@link TcpServer#setConnectionOption}
 * and {@link TcpClient#setConnectionOption} refuse an option the transport cannot set with
 * {@link UnsupportedOperationException} naming the transport, never silently.
 *
 * <p>On NIO: the JDK has no {@code TCP_USER_TIMEOUT}, {@code TCP_NOTSENT_LOWAT} or
 * {@code SO_BUSY_POLL}; the keep-alive timings and {@code TCP_QUICKACK} come from
 * {@code jdk.net.ExtendedSocketOptions}, which has them on Linux.
 */
public enum TcpOption {
    /** Send buffer size in bytes. Linux reserves twice what it is given; it reads back as given, as the JDK reports it. */
    SO_SNDBUF(1, 7, false, StandardSocketOptions.SO_SNDBUF),
    /** Receive buffer size in bytes, read back as given (see {@link #SO_SNDBUF}). */
    SO_RCVBUF(1, 8, false, StandardSocketOptions.SO_RCVBUF),
    /** 1: send segments at once (no Nagle delay). muduo4j's connections have it on by default. */
    TCP_NODELAY(6, 1, true, StandardSocketOptions.TCP_NODELAY),
    /** 1: send keep-alive probes on an idle connection. */
    SO_KEEPALIVE(1, 9, true, StandardSocketOptions.SO_KEEPALIVE),
    /** Seconds of idleness before the first keep-alive probe. */
    TCP_KEEPIDLE(6, 4, false, ExtendedSocketOptions.TCP_KEEPIDLE),
    /** Seconds between keep-alive probes. */
    TCP_KEEPINTVL(6, 5, false, ExtendedSocketOptions.TCP_KEEPINTERVAL),
    /** Unanswered keep-alive probes before the connection is dropped. */
    TCP_KEEPCNT(6, 6, false, ExtendedSocketOptions.TCP_KEEPCOUNT),
    /** Milliseconds that sent data may stay unacknowledged before the connection is dropped (0: the kernel's default). */
    TCP_USER_TIMEOUT(6, 18, false, null),
    /** Bytes of unsent data above which the socket does not report writable (less queued in the kernel). */
    TCP_NOTSENT_LOWAT(6, 25, false, null),
    /** 1: acknowledge at once rather than delayed (the kernel may turn it off again). */
    TCP_QUICKACK(6, 12, true, ExtendedSocketOptions.TCP_QUICKACK),
    /** Microseconds to busy-poll the device queue on a blocking read (needs CAP_NET_ADMIN to raise). */
    SO_BUSY_POLL(1, 46, false, null),
    /** The IPv4 type-of-service byte (DSCP and ECN) of outgoing packets. */
    IP_TOS(0, 1, false, StandardSocketOptions.IP_TOS);

    static final TcpOption[] VALUES = values();

    /** Linux's {@code setsockopt} level and option number. */
    final int level;
    final int number;
    /** 0 or 1, mapped to a {@code Boolean} for the JDK. */
    final boolean flag;
    /** The JDK's option, or null when NIO cannot set it. */
    final SocketOption<?> jdk;

    TcpOption(int level, int number, boolean flag, SocketOption<?> jdk) {
        this.level = level;
        this.number = number;
        this.flag = flag;
        this.jdk = jdk;
    }

    /** Throws {@link UnsupportedOperationException} unless {@code transport} can set this option. */
    void checkSupported(Transport transport) {
        if (transport == Transport.NIO && jdk == null) {
            throw new UnsupportedOperationException(this + " cannot be set on the NIO transport: the JDK has no such"
                    + " socket option (the epoll transport has it)");
        }
    }

    /** Throws {@link IllegalArgumentException} for a value this option never takes. */
    void checkValue(int value) {
        if (flag ? value != 0 && value != 1 : value < 0) {
            throw new IllegalArgumentException(this + ": " + value + (flag ? " (0 or 1)" : " (must be >= 0)"));
        }
    }
}
