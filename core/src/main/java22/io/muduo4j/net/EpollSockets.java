package io.muduo4j.net;

import static io.muduo4j.net.Errno.*;
import static io.muduo4j.net.Syscalls.*;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;

/**
 * The socket operations of the {@link Transport#EPOLL} transport on raw descriptors: what
 * {@link EpollPoller} answers for its handles' sockets, apart from the multiplexer itself. Each
 * method is a thin mapping of one or two {@link Syscalls} onto the {@link Poller} contract: a
 * would-block result ({@code EAGAIN}, {@code EINPROGRESS}) becomes a {@code false} or {@code 0},
 * an interrupted call is retried or reported as not done yet, and any other {@code errno} an
 * {@link IOException} naming the call (see {@link Errno}).
 *
 * <p>Threading: stateless; called on the loop thread of the handle, as every {@link Poller} method.
 */
final class EpollSockets {
    private static final boolean PREFER_IPV4 = Boolean.getBoolean("java.net.preferIPv4Stack");
    private static final InetAddress IPV6_ANY;

    static {
        try {
            IPV6_ANY = InetAddress.getByAddress(new byte[16]);
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private EpollSockets() {
    }

    private static int family(InetSocketAddress a) {
        if (a.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        InetAddress ip = a.getAddress();
        return ip instanceof Inet6Address ? AF_INET6 : AF_INET;
    }

    private static int fd(Pollable ch) throws ClosedChannelException {
        int fd = ch.fd;
        if (fd < 0) {
            throw new ClosedChannelException();
        }
        return fd;
    }

    private static void check(int r, String what) throws IOException {
        if (r < 0) {
            throw exception(what, r);
        }
    }

    /**
     * Listens as NIO does: an IPv4 wildcard ({@code 0.0.0.0}, {@code new InetSocketAddress(port)})
     * opens a dual-stack {@code AF_INET6} socket on {@code ::} that accepts IPv4 clients too (as
     * IPv4-mapped addresses, reported as IPv4), unless IPv6 is missing or
     * {@code java.net.preferIPv4Stack} is set; every {@code AF_INET6} listener clears
     * {@code IPV6_V6ONLY}, as the JDK does, so {@code ::} is dual-stack whatever the sysctl says.
     */
    static void listen(Pollable ch, InetSocketAddress address, int backlog, boolean reusePort) throws IOException {
        int family = family(address);
        int fd;
        if (family == AF_INET && address.getAddress().isAnyLocalAddress() && !PREFER_IPV4
                && (fd = socketStream(AF_INET6)) >= 0) {
            family = AF_INET6;
            address = new InetSocketAddress(IPV6_ANY, address.getPort());
        } else {
            fd = socketStream(family);
        }
        check(fd, "socket");
        try {
            if (family == AF_INET6) {
                check(setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0), "setsockopt(IPV6_V6ONLY)");
            }
            check(setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt(SO_REUSEADDR)");
            if (reusePort) {
                check(setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1), "setsockopt(SO_REUSEPORT)");
            }
            check(bind(fd, family, address), "bind " + address);
            check(Syscalls.listen(fd, backlog > 0 ? backlog : 50), "listen");
        } catch (IOException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
        ch.fd = fd;
        ch.setListening();
    }

    static boolean accept(Pollable listener, Pollable into) throws IOException {
        int lfd = fd(listener);
        for (;;) {
            int fd = Syscalls.accept(lfd);
            if (fd >= 0) {
                into.fd = fd;
                return true;
            }
            if (fd == -EAGAIN) {
                return false;
            }
            if (fd != -EINTR) {
                throw ioException("accept", fd);
            }
        }
    }

    static void open(Pollable ch, InetSocketAddress remote) throws IOException {
        // An unresolved address gets an IPv4 socket; its connect then fails, as on NIO.
        int fd = socketStream(remote.isUnresolved() ? AF_INET : family(remote));
        check(fd, "socket");
        ch.fd = fd;
    }

    static boolean connect(Pollable ch, InetSocketAddress remote) throws IOException {
        int r = Syscalls.connect(fd(ch), family(remote), remote);
        if (r == 0) {
            return true;
        }
        if (r == -EINPROGRESS || r == -EINTR) {
            return false;
        }
        throw exception("connect to " + remote, r);
    }

    static boolean finishConnect(Pollable ch, InetSocketAddress remote) throws IOException {
        // connect again: 0 once the handshake is over, EALREADY while it goes on, the failure
        // itself (ECONNREFUSED, ...) when it failed; one call where SO_ERROR plus getpeername is two.
        int r = Syscalls.connect(fd(ch), family(remote), remote);
        if (r == 0 || r == -EISCONN) {
            return true;
        }
        if (r == -EALREADY || r == -EINPROGRESS || r == -EINTR) {
            return false;
        }
        throw exception("connect to " + remote, r);
    }

    static boolean isSelfConnected(Pollable ch, InetSocketAddress remote) throws IOException {
        int fd = fd(ch);
        // Only a socket whose local port is the remote one can be connected to itself: one
        // getsockname that allocates nothing rules out the rest.
        int port = localPort(fd);
        if (port < 0) {
            throw exception("getsockname", port);
        }
        return port == remote.getPort() && Syscalls.localAddress(fd).equals(Syscalls.peerAddress(fd));
    }

    static int read(Pollable ch, Buffer dst, ByteBuffer scratchBuffer, long scratchAddress) throws IOException {
        int fd = fd(ch);
        int writable = dst.writableBytes();
        long r;
        if (writable >= scratchBuffer.capacity()) {
            r = Syscalls.read(fd, dst.writableAddress(), writable);
        } else {
            r = readv2(fd, dst.writableAddress(), writable, scratchAddress, scratchBuffer.capacity());
        }
        if (r <= 0) {
            if (r == 0) {
                return -1;
            }
            if (r == -EAGAIN || r == -EINTR) {
                return 0;
            }
            throw ioException("read", (int) r);
        }
        int n = (int) r;
        if (n <= writable) {
            dst.hasWritten(n);
        } else {
            dst.hasWritten(writable);
            scratchBuffer.limit(n - writable).position(0);
            dst.append(scratchBuffer);
        }
        return n;
    }


    static int write(Pollable ch, Buffer src) throws IOException {
        int fd = fd(ch);
        int len = src.readableBytes();
        if (len == 0) {
            return 0;
        }
        long r = send(fd, src.readableAddress(), len);
        if (r < 0) {
            if (r == -EAGAIN || r == -EINTR) {
                return 0;
            }
            throw ioException("write", (int) r);
        }
        src.retrieve((int) r);
        return (int) r;
    }

    static void shutdownOutput(Pollable ch) throws IOException {
        check(shutdown(fd(ch), SHUT_WR), "shutdown");
    }

    static <T> void setOption(Pollable ch, SocketOption<T> option, T value) throws IOException {
        int fd = fd(ch);
        int r;
        if (option == StandardSocketOptions.TCP_NODELAY) {
            r = setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, (Boolean) value ? 1 : 0);
        } else if (option == StandardSocketOptions.SO_KEEPALIVE) {
            r = setIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, (Boolean) value ? 1 : 0);
        } else if (option == StandardSocketOptions.SO_REUSEADDR) {
            r = setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, (Boolean) value ? 1 : 0);
        } else if (option == StandardSocketOptions.SO_REUSEPORT) {
            r = setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, (Boolean) value ? 1 : 0);
        } else if (option == StandardSocketOptions.SO_SNDBUF) {
            r = setIntOption(fd, SOL_SOCKET, SO_SNDBUF, (Integer) value);
        } else if (option == StandardSocketOptions.SO_RCVBUF) {
            r = setIntOption(fd, SOL_SOCKET, SO_RCVBUF, (Integer) value);
        } else if (option == StandardSocketOptions.SO_LINGER) {
            int seconds = (Integer) value;
            r = setLinger(fd, seconds >= 0, Math.max(seconds, 0));
        } else {
            throw new UnsupportedOperationException("socket option " + option + " on the epoll transport");
        }
        if (r < 0) {
            throw exception("setsockopt(" + option + ")", r); // the text built only for a failure
        }
    }

    static void setOption(Pollable ch, TcpOption option, int value) throws IOException {
        check(setIntOption(fd(ch), option.level, option.number, value), "setsockopt(" + option + ")");
    }

    static int getOption(Pollable ch, TcpOption option) throws IOException {
        int r = getIntOption(fd(ch), option.level, option.number);
        check(r, "getsockopt(" + option + ")");
        // Linux reports twice the buffer size it was given (the rest is its bookkeeping); the JDK
        // halves it, and so do we, so a size reads back as set on every transport.
        return option == TcpOption.SO_SNDBUF || option == TcpOption.SO_RCVBUF ? r / 2 : r;
    }

    static void tcpInfo(Pollable ch, TcpInfo into) throws IOException {
        check(Syscalls.tcpInfo(fd(ch), into), "getsockopt(TCP_INFO)");
    }

    static InetSocketAddress localAddress(Pollable ch) throws IOException {
        return Syscalls.localAddress(fd(ch));
    }

    static InetSocketAddress remoteAddress(Pollable ch) throws IOException {
        return Syscalls.peerAddress(fd(ch));
    }

    static boolean isOpen(Pollable ch) {
        return ch.fd >= 0;
    }

    static void close(Pollable ch) {
        int fd = ch.fd;
        if (fd >= 0) {
            ch.fd = -1; // before the close: the number may be reused the moment it is free
            Syscalls.close(fd);
        }
    }

    static Object openReserve() {
        int fd = openDevNull();
        return fd >= 0 ? Integer.valueOf(fd) : null;
    }

    static void closeReserve(Object reserve) {
        Syscalls.close((Integer) reserve);
    }
}
