package io.muduo4j.net;

import static io.muduo4j.net.Downcalls.ACCEPT4;
import static io.muduo4j.net.Downcalls.BIND;
import static io.muduo4j.net.Downcalls.CLOSE;
import static io.muduo4j.net.Downcalls.CONNECT;
import static io.muduo4j.net.Downcalls.DEV_NULL;
import static io.muduo4j.net.Downcalls.GETPEERNAME;
import static io.muduo4j.net.Downcalls.GETSOCKNAME;
import static io.muduo4j.net.Downcalls.GETSOCKOPT;
import static io.muduo4j.net.Downcalls.LISTEN;
import static io.muduo4j.net.Downcalls.OPEN;
import static io.muduo4j.net.Downcalls.READ;
import static io.muduo4j.net.Downcalls.READV;
import static io.muduo4j.net.Downcalls.SEND;
import static io.muduo4j.net.Downcalls.SENDMSG;
import static io.muduo4j.net.Downcalls.SETSOCKOPT;
import static io.muduo4j.net.Downcalls.SHUTDOWN;
import static io.muduo4j.net.Downcalls.SOCKET;
import static io.muduo4j.net.Downcalls.result;
import static io.muduo4j.net.Downcalls.rethrow;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Linux system calls for a native epoll transport, through {@code java.lang.foreign} (JDK 22+):
 * no JNI, no library of our own; the functions are glibc's, linked by {@link Downcalls} (which
 * also says which calls are linked critical, and when the whole layer is unavailable). This class
 * has the socket and data calls; {@link EpollCalls} has epoll and eventfd, {@link Errno} the
 * errno values and the exceptions made of them.
 *
 * <p><b>Results.</b> Every call returns its result ({@code >= 0}) or {@code -errno}; nothing
 * throws on the hot path. errno is captured by the downcall itself, so nothing the JVM does
 * between the call and our read can overwrite it.
 *
 * <p><b>Memory.</b> Buffers are passed as raw addresses ({@code long}); the caller owns that
 * memory (a direct {@link ByteBuffer}, see {@link #address}) and keeps it alive during the call.
 * Structures the kernel reads or fills live in the calling thread's {@link Scratch}, allocated
 * once per thread; after that, no call allocates on the Java heap, except {@link #localAddress},
 * {@link #peerAddress} and {@link Errno#exception} (which return new objects) and {@link #bind} /
 * {@link #connect} with an {@link InetAddress} other than the one the thread used last (its bytes
 * are fetched once; {@code InetAddress} has no allocation-free accessor).
 *
 * <p><b>Availability.</b> With {@link #AVAILABLE} false every system call throws
 * {@link IllegalStateException} and {@link #address} must not be used, so callers check it once
 * and fall back to NIO.
 *
 * <p><b>Threading.</b> Every method may be called from any thread, concurrently. A descriptor's
 * lifetime is the caller's business: a call racing with {@link #close} of the same number may act
 * on whatever descriptor the kernel hands out next under that number.
 */
final class Syscalls {
    // Linux values, the same on x86_64 and aarch64 (the differences are on alpha, mips, parisc, sparc).
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_NONBLOCK = 0x800; // O_NONBLOCK
    static final int SOCK_CLOEXEC = 0x80000; // O_CLOEXEC
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SO_ERROR = 4;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_KEEPALIVE = 9;
    static final int SO_LINGER = 13;
    static final int SO_REUSEPORT = 15;
    static final int SO_DOMAIN = 39;
    static final int IPPROTO_TCP = 6;
    static final int TCP_NODELAY = 1;
    static final int TCP_INFO_OPT = 11;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int SHUT_RD = 0;
    static final int SHUT_WR = 1;
    static final int SHUT_RDWR = 2;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;

    /** Whether the system calls can be used in this JVM (see {@link #unavailableReason()}). */
    static final boolean AVAILABLE = Downcalls.AVAILABLE;

    private Syscalls() {
    }

    /** Why {@link #AVAILABLE} is false (naming the missing JVM flag when that is why), or null. */
    static String unavailableReason() {
        return Downcalls.unavailableReason();
    }

    // ---------------------------------------------------------------- sockets

    /** {@code socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)}: a descriptor or -errno. */
    static int socketStream(int family) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SOCKET);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((int) SOCKET.invokeExact(s.capture, family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code bind(fd, a)}: 0 or -errno. {@code family} is the socket's ({@link #AF_INET} or
     * {@link #AF_INET6}), which decides the sockaddr: an IPv4 address on an {@code AF_INET6}
     * socket becomes {@code ::ffff:a.b.c.d}; an IPv6 address on an {@code AF_INET} socket gives
     * {@code -EAFNOSUPPORT} without a call.
     *
     * @throws IllegalArgumentException if {@code a} is unresolved (resolving is not a system call)
     */
    static int bind(int fd, int family, InetSocketAddress a) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.BIND);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        int len = s.sockaddr.encode(family, a);
        if (len < 0) {
            return len;
        }
        try {
            return result((int) BIND.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, len), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code connect(fd, a)}: 0, or on a non-blocking socket usually {@code -EINPROGRESS} (wait for
     * {@link EpollCalls#EPOLLOUT}, then read {@link #SO_ERROR}), or -errno. The address is encoded as in
     * {@link #bind}.
     *
     * @throws IllegalArgumentException if {@code a} is unresolved
     */
    static int connect(int fd, int family, InetSocketAddress a) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.CONNECT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        int len = s.sockaddr.encode(family, a);
        if (len < 0) {
            return len;
        }
        try {
            return result((int) CONNECT.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, len), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code listen(fd, backlog)}: 0 or -errno. */
    static int listen(int fd, int backlog) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.LISTEN);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((int) LISTEN.invokeExact(s.capture, fd, backlog), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code accept4(listenFd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)}: the new descriptor, or
     * -errno ({@code -EAGAIN} when the queue is empty, {@code -EMFILE} when out of descriptors).
     * The peer's address is not fetched: {@link #peerAddress} when wanted.
     */
    static int accept(int listenFd) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.ACCEPT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((int) ACCEPT4.invokeExact(s.capture, listenFd, 0L, 0L, SOCK_NONBLOCK | SOCK_CLOEXEC), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, &value, sizeof(int))}: 0 or -errno. */
    static int setIntOption(int fd, int level, int name, int value) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SETSOCKOPT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.OPTVAL, value);
        try {
            return result((int) SETSOCKOPT.invokeExact(s.capture, fd, level, name, s.base + Scratch.OPTVAL, 4), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code getsockopt(fd, IPPROTO_TCP, TCP_INFO)} into {@code into}: 0 or -errno. Offsets of
     * Linux's {@code struct tcp_info} (uapi/linux/tcp.h); a field past the length the kernel
     * returned is left -1.
     */
    static int tcpInfo(int fd, TcpInfo into) {
        Scratch s = Scratch.current();
        MemorySegment m = s.mem;
        long b = Scratch.TCP_INFO;
        m.set(JAVA_INT, Scratch.OPTLEN, (int) Scratch.TCP_INFO_SIZE);
        int r;
        try {
            r = (int) GETSOCKOPT.invokeExact(s.capture, fd, IPPROTO_TCP, TCP_INFO_OPT, s.base + b, s.base + Scratch.OPTLEN);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            return -s.errno();
        }
        int len = m.get(JAVA_INT, Scratch.OPTLEN);
        into.state = len > 0 ? Byte.toUnsignedInt(m.get(JAVA_BYTE, b)) : -1;
        into.retransmits = len > 2 ? Byte.toUnsignedInt(m.get(JAVA_BYTE, b + 2)) : -1;
        into.rtoMicros = u32(m, b, len, 8);
        into.sndMss = u32(m, b, len, 16);
        into.unacked = u32(m, b, len, 24);
        into.lost = u32(m, b, len, 32);
        into.rttMicros = u32(m, b, len, 68);
        into.rttVarMicros = u32(m, b, len, 72);
        into.sndCwnd = u32(m, b, len, 80);
        into.totalRetrans = u32(m, b, len, 100);
        into.bytesAcked = u64(m, b, len, 120);
        into.bytesReceived = u64(m, b, len, 128);
        into.notSentBytes = u32(m, b, len, 144);
        into.minRttMicros = u32(m, b, len, 148);
        into.bytesSent = u64(m, b, len, 200);
        return 0;
    }

    private static long u32(MemorySegment m, long base, int len, int off) {
        return len >= off + 4 ? Integer.toUnsignedLong(m.get(JAVA_INT_UNALIGNED, base + off)) : -1;
    }

    private static long u64(MemorySegment m, long base, int len, int off) {
        return len >= off + 8 ? m.get(JAVA_LONG_UNALIGNED, base + off) : -1;
    }

    /**
     * The value of an int socket option that is never negative ({@link #SO_ERROR}'s pending error,
     * which reading clears; buffer sizes; flags as 0 or 1), or -errno.
     */
    static int getIntOption(int fd, int level, int name) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.GETSOCKOPT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.OPTVAL, 0);
        s.mem.set(JAVA_INT, Scratch.OPTLEN, 4);
        try {
            int r = (int) GETSOCKOPT.invokeExact(s.capture, fd, level, name, s.base + Scratch.OPTVAL,
                    s.base + Scratch.OPTLEN);
            return r < 0 ? -s.errno() : s.mem.get(JAVA_INT, Scratch.OPTVAL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code SO_LINGER}: {@code on} with 0 seconds makes {@link #close} reset the connection; with
     * more, close blocks up to that long. 0 or -errno.
     */
    static int setLinger(int fd, boolean on, int seconds) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SETSOCKOPT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.OPTVAL, on ? 1 : 0); // struct linger { int l_onoff; int l_linger; }
        s.mem.set(JAVA_INT, Scratch.OPTVAL + 4, seconds);
        try {
            return result((int) SETSOCKOPT.invokeExact(s.capture, fd, SOL_SOCKET, SO_LINGER,
                    s.base + Scratch.OPTVAL, 8), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The socket's own address ({@code getsockname}); allocates the result. */
    static InetSocketAddress localAddress(int fd) throws IOException {
        return name(GETSOCKNAME, "getsockname", fd);
    }

    /** The connected peer's address ({@code getpeername}); allocates the result. */
    static InetSocketAddress peerAddress(int fd) throws IOException {
        return name(GETPEERNAME, "getpeername", fd);
    }

    /**
     * Whether the socket is connected ({@code getpeername} succeeds): 1, 0 when it is not
     * ({@code ENOTCONN}: a connect still in progress), or -errno. Allocates nothing.
     */
    static int connected(int fd) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.GETPEERNAME);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, Sockaddr.SOCKADDR_STORAGE_SIZE);
        try {
            int r = (int) GETPEERNAME.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
            if (r == 0) {
                return 1;
            }
            int e = s.errno();
            return e == Errno.ENOTCONN ? 0 : -e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The socket's local port ({@code getsockname}), or -errno. Allocates nothing. */
    static int localPort(int fd) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.GETSOCKNAME);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, Sockaddr.SOCKADDR_STORAGE_SIZE);
        try {
            int r = (int) GETSOCKNAME.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
            if (r < 0) {
                return -s.errno();
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return s.sockaddr.port();
    }

    private static InetSocketAddress name(MethodHandle h, String what, int fd) throws IOException {
        if (Faults.ENABLED) {
            int f = Faults.inject(h == GETSOCKNAME ? Faults.Call.GETSOCKNAME : Faults.Call.GETPEERNAME);
            if (f != 0) {
                throw Errno.exception(what, f);
            }
        }
        Scratch s = Scratch.current();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, Sockaddr.SOCKADDR_STORAGE_SIZE);
        int r;
        try {
            r = (int) h.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw Errno.exception(what, s.errno());
        }
        return s.sockaddr.decode(what);
    }

    // ---------------------------------------------------------------- data

    /** {@code read(fd, address, length)}: bytes read, 0 at end of stream, or -errno ({@code -EAGAIN}). */
    static long read(int fd, long address, int length) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.READ);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((long) READ.invokeExact(s.capture, fd, address, (long) length), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code readv} into two regions in one call (a buffer's free tail, then a scratch buffer):
     * bytes read in total, filling the first region before the second; 0 at end of stream, or
     * -errno.
     */
    static long readv2(int fd, long address1, int length1, long address2, int length2) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.READV);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.iovecs(address1, length1, address2, length2);
        try {
            return result((long) READV.invokeExact(s.capture, fd, s.base + Scratch.IOV, 2), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code send(fd, address, length, MSG_NOSIGNAL)}: bytes sent, or -errno; a reset peer gives
     * {@code -ECONNRESET} or {@code -EPIPE}, never a SIGPIPE.
     */
    static long send(int fd, long address, int length) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SEND);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((long) SEND.invokeExact(s.capture, fd, address, (long) length, MSG_NOSIGNAL), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Gathering send of two regions ({@code sendmsg} with two iovecs and {@code MSG_NOSIGNAL}):
     * bytes sent in total, the first region's before the second's, or -errno.
     */
    static long sendv2(int fd, long address1, int length1, long address2, int length2) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SENDMSG);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        s.iovecs(address1, length1, address2, length2);
        try {
            return result((long) SENDMSG.invokeExact(s.capture, fd, s.base + Scratch.MSGHDR, MSG_NOSIGNAL), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code shutdown(fd, how)} ({@link #SHUT_WR} sends a FIN after the queued data): 0 or -errno. */
    static int shutdown(int fd, int how) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.SHUTDOWN);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            return result((int) SHUTDOWN.invokeExact(s.capture, fd, how), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code close(fd)}: 0 or -errno. The number is free for reuse at once, even on -errno
     * (Linux releases it before reporting, say, {@code -EINTR}): never retry.
     */
    static int close(int fd) {
        Scratch s = Scratch.current();
        try {
            int r = result((int) CLOSE.invokeExact(s.capture, fd), s);
            if (Faults.ENABLED && r == 0) {
                r = Faults.inject(Faults.Call.CLOSE); // closed all the same, as Linux does
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open("/dev/null", O_RDONLY | O_CLOEXEC)}: a spare descriptor to give up on EMFILE, or -errno. */
    static int openDevNull() {
        Scratch s = Scratch.current();
        try {
            return result((int) OPEN.invokeExact(s.capture, DEV_NULL.address(), O_RDONLY | O_CLOEXEC, 0), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------- memory

    /**
     * The native address of a direct buffer's index 0 (whatever its position). Allocates a
     * segment view: call once per buffer, at setup.
     */
    static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer: " + direct);
        }
        return MemorySegment.ofBuffer(direct).address() - direct.position();
    }
}
