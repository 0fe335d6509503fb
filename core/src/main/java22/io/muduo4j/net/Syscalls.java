package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Linux system calls for a native epoll transport, through {@code java.lang.foreign} (JDK 22+):
 * no JNI, no library of our own; the functions are glibc's, found by
 * {@link Linker#defaultLookup()}.
 *
 * <p><b>Results.</b> Every call returns its result ({@code >= 0}) or {@code -errno}; nothing
 * throws on the hot path. errno is captured by the downcall itself
 * ({@link Linker.Option#captureCallState}), so nothing the JVM does between the call and our read
 * can overwrite it.
 *
 * <p><b>Memory.</b> Buffers are passed as raw addresses ({@code long}): every {@code void*} is
 * declared {@code JAVA_LONG}, which is the same register and width on the LP64 ABIs supported here
 * (x86_64, aarch64), so a call with an address wraps nothing. The caller owns that memory (a
 * direct {@link ByteBuffer}, see {@link #address}) and keeps it alive during the call. Structures
 * the kernel reads or fills (sockaddr, iovec, msghdr, epoll_event, socket option values, the
 * eventfd counter) live in native scratch memory of the calling thread, allocated once per
 * thread; after that, no call allocates on the Java heap, except {@link #localAddress},
 * {@link #peerAddress} and {@link #exception} (which return new objects) and {@link #bind} /
 * {@link #connect} with an {@link InetAddress} other than the one the thread used last (its bytes
 * are fetched once; {@code InetAddress} has no allocation-free accessor).
 *
 * <p><b>Critical calls.</b> The short calls that never block on a non-blocking descriptor are
 * linked with {@link Linker.Option#critical critical(false)}: the thread stays in Java state, no
 * state transition and no safepoint poll on return (about 4.5 ns less per call on JDK 25, x86_64;
 * small beside the system call itself). A critical call holds off safepoints (GC pauses of every
 * thread) while it runs, so the descriptors passed to them must be non-blocking (every one this
 * class creates is), and {@link #epollWait} (blocks by design), {@link #close} (with
 * {@code SO_LINGER} on and a timeout, Linux blocks in close even on a non-blocking socket) and
 * {@link #openDevNull} are not critical. JDK 22 and 23 reject {@code critical} combined with
 * {@code captureCallState} (allowed from JDK 24, JDK-8336768); there the same handles are linked
 * without {@code critical}. See {@link #criticalLinked()}.
 *
 * <p><b>Availability.</b> {@link #AVAILABLE} is false, and {@link #unavailableReason()} says
 * why, off Linux, on another architecture, when a function is missing, or when native access is
 * not enabled for this class's module. The class loads in every case; with {@code AVAILABLE}
 * false every system call throws {@link IllegalStateException} and the memory helpers must not
 * be used, so callers check it once and fall back to NIO.
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
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int SHUT_RD = 0;
    static final int SHUT_WR = 1;
    static final int SHUT_RDWR = 2;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EEXIST = 17;
    static final int EFAULT = 14;
    static final int EINVAL = 22;
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int EPIPE = 32;
    static final int ENOTSOCK = 88;
    static final int EOPNOTSUPP = 95;
    static final int EAFNOSUPPORT = 97;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;
    static final int ENETUNREACH = 101;
    static final int ECONNABORTED = 103;
    static final int ECONNRESET = 104;
    static final int ENOBUFS = 105;
    static final int EISCONN = 106;
    static final int ENOTCONN = 107;
    static final int ETIMEDOUT = 110;
    static final int ECONNREFUSED = 111;
    static final int EHOSTUNREACH = 113;
    static final int EALREADY = 114;
    static final int EINPROGRESS = 115;

    static final int EPOLLIN = 0x001;
    static final int EPOLLPRI = 0x002;
    static final int EPOLLOUT = 0x004;
    static final int EPOLLERR = 0x008;
    static final int EPOLLHUP = 0x010;
    static final int EPOLLRDHUP = 0x2000;
    static final int EPOLLET = 0x80000000;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    static final int EPOLL_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = O_CLOEXEC;

    private static final String ARCH = System.getProperty("os.arch", "");
    private static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");

    /**
     * Bytes of one {@code struct epoll_event}: x86_64 declares it {@code __attribute__((packed))}
     * (events at 0, data at 4), other architectures align data to 8.
     */
    static final int EPOLL_EVENT_SIZE = X86_64 ? 12 : 16;
    private static final int EPOLL_DATA_OFFSET = X86_64 ? 4 : 8;

    private static final int SOCKADDR_IN_SIZE = 16;
    private static final int SOCKADDR_IN6_SIZE = 28;
    private static final int SOCKADDR_STORAGE_SIZE = 128;
    private static final ValueLayout.OfShort NET_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /** Why linking was not attempted, or null. Computed first: later fields depend on it. */
    private static final String PRECONDITION = precondition();
    private static final Binder BINDER = new Binder(PRECONDITION);

    private static final MethodHandle SOCKET = BINDER.fast("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle BIND = BINDER.fast("bind", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    private static final MethodHandle CONNECT = BINDER.fast("connect", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    private static final MethodHandle LISTEN = BINDER.fast("listen", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle ACCEPT4 =
            BINDER.fast("accept4", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SETSOCKOPT =
            BINDER.fast("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    private static final MethodHandle GETSOCKOPT =
            BINDER.fast("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle GETSOCKNAME =
            BINDER.fast("getsockname", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle GETPEERNAME =
            BINDER.fast("getpeername", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle READ = BINDER.fast("read", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle WRITE = BINDER.fast("write", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle READV = BINDER.fast("readv", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SEND =
            BINDER.fast("send", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SENDMSG = BINDER.fast("sendmsg", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SHUTDOWN = BINDER.fast("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle CLOSE = BINDER.slow("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CREATE1 = BINDER.fast("epoll_create1", JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CTL =
            BINDER.fast("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle EPOLL_WAIT =
            BINDER.slow("epoll_wait", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
    private static final MethodHandle EVENTFD = BINDER.fast("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    /** open(2) is variadic: the mode is passed as the first variadic argument, as C would. */
    private static final MethodHandle OPEN = BINDER.variadic("open", 2, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);

    private static final long ERRNO_OFFSET = BINDER.errnoOffset();
    private static final MemoryLayout CAPTURE_LAYOUT = BINDER.captureLayout();
    /** The whole address space as one segment, to read epoll_event arrays at raw addresses. */
    private static final MemorySegment EVERYTHING = BINDER.everything();
    /** "/dev/null\0", kept for the life of the class. */
    private static final MemorySegment DEV_NULL = BINDER.cString("/dev/null");

    private static final boolean CRITICAL = BINDER.criticalLinked;
    private static final String REASON = BINDER.failure;

    /** Whether the system calls can be used in this JVM (see {@link #unavailableReason()}). */
    static final boolean AVAILABLE = REASON == null;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Syscalls() {
    }

    /** Why {@link #AVAILABLE} is false (naming the missing JVM flag when that is why), or null. */
    static String unavailableReason() {
        return REASON;
    }

    /** Whether the short calls were linked critical (false on JDK 22 and 23, see the class comment). */
    static boolean criticalLinked() {
        return CRITICAL;
    }

    private static String precondition() {
        String os = System.getProperty("os.name", "");
        if (!os.equals("Linux")) {
            return "native transport needs Linux, this is " + os;
        }
        if (!X86_64 && !ARCH.equals("aarch64")) {
            return "native transport supports x86_64 and aarch64 Linux, this is " + ARCH;
        }
        Module m = Syscalls.class.getModule();
        if (!m.isNativeAccessEnabled()) {
            String who = m.isNamed() ? m.getName() : "ALL-UNNAMED";
            return "native access is not enabled for " + (m.isNamed() ? "module " + who : "the class path")
                    + ": add --enable-native-access=" + who + " to the java command line"
                    + (m.isNamed() ? "" : " (or 'Enable-Native-Access: ALL-UNNAMED' to an executable jar's manifest)");
        }
        return null;
    }

    // ---------------------------------------------------------------- sockets

    /** {@code socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)}: a descriptor or -errno. */
    static int socketStream(int family) {
        Scratch s = scratch();
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
        Scratch s = scratch();
        int len = s.encode(family, a);
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
     * {@link #EPOLLOUT}, then read {@link #SO_ERROR}), or -errno. The address is encoded as in
     * {@link #bind}.
     *
     * @throws IllegalArgumentException if {@code a} is unresolved
     */
    static int connect(int fd, int family, InetSocketAddress a) {
        Scratch s = scratch();
        int len = s.encode(family, a);
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
        Scratch s = scratch();
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
        Scratch s = scratch();
        try {
            return result((int) ACCEPT4.invokeExact(s.capture, listenFd, 0L, 0L, SOCK_NONBLOCK | SOCK_CLOEXEC), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, &value, sizeof(int))}: 0 or -errno. */
    static int setIntOption(int fd, int level, int name, int value) {
        Scratch s = scratch();
        s.mem.set(JAVA_INT, Scratch.OPTVAL, value);
        try {
            return result((int) SETSOCKOPT.invokeExact(s.capture, fd, level, name, s.base + Scratch.OPTVAL, 4), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The value of an int socket option that is never negative ({@link #SO_ERROR}'s pending error,
     * which reading clears; buffer sizes; flags as 0 or 1), or -errno.
     */
    static int getIntOption(int fd, int level, int name) {
        Scratch s = scratch();
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
        Scratch s = scratch();
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
        Scratch s = scratch();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, SOCKADDR_STORAGE_SIZE);
        try {
            int r = (int) GETPEERNAME.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
            if (r == 0) {
                return 1;
            }
            int e = s.errno();
            return e == ENOTCONN ? 0 : -e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The socket's local port ({@code getsockname}), or -errno. Allocates nothing. */
    static int localPort(int fd) {
        Scratch s = scratch();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, SOCKADDR_STORAGE_SIZE);
        try {
            int r = (int) GETSOCKNAME.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
            if (r < 0) {
                return -s.errno();
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        // sin_port and sin6_port sit at the same offset, in network byte order
        int hi = s.mem.get(JAVA_BYTE, Scratch.SOCKADDR + 2) & 0xFF;
        int lo = s.mem.get(JAVA_BYTE, Scratch.SOCKADDR + 3) & 0xFF;
        return (hi << 8) | lo;
    }

    private static InetSocketAddress name(MethodHandle h, String what, int fd) throws IOException {
        Scratch s = scratch();
        s.mem.set(JAVA_INT, Scratch.ADDRLEN, SOCKADDR_STORAGE_SIZE);
        int r;
        try {
            r = (int) h.invokeExact(s.capture, fd, s.base + Scratch.SOCKADDR, s.base + Scratch.ADDRLEN);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw exception(what, s.errno());
        }
        return s.decode(what);
    }

    // ---------------------------------------------------------------- data

    /** {@code read(fd, address, length)}: bytes read, 0 at end of stream, or -errno ({@code -EAGAIN}). */
    static long read(int fd, long address, int length) {
        Scratch s = scratch();
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
        Scratch s = scratch();
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
        Scratch s = scratch();
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
        Scratch s = scratch();
        s.iovecs(address1, length1, address2, length2);
        try {
            return result((long) SENDMSG.invokeExact(s.capture, fd, s.base + Scratch.MSGHDR, MSG_NOSIGNAL), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code shutdown(fd, how)} ({@link #SHUT_WR} sends a FIN after the queued data): 0 or -errno. */
    static int shutdown(int fd, int how) {
        Scratch s = scratch();
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
        Scratch s = scratch();
        try {
            return result((int) CLOSE.invokeExact(s.capture, fd), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code open("/dev/null", O_RDONLY | O_CLOEXEC)}: a spare descriptor to give up on EMFILE, or -errno. */
    static int openDevNull() {
        Scratch s = scratch();
        try {
            return result((int) OPEN.invokeExact(s.capture, DEV_NULL.address(), O_RDONLY | O_CLOEXEC, 0), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---------------------------------------------------------------- epoll, eventfd

    /** {@code epoll_create1(EPOLL_CLOEXEC)}: a descriptor or -errno. */
    static int epollCreate() {
        Scratch s = scratch();
        try {
            return result((int) EPOLL_CREATE1.invokeExact(s.capture, EPOLL_CLOEXEC), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code epoll_ctl(epfd, op, fd, {events, data})}: 0 or -errno. {@code data} comes back with
     * every event of {@code fd} (see {@link #eventData}); ignored for {@link #EPOLL_CTL_DEL}.
     */
    static int epollCtl(int epfd, int op, int fd, int events, long data) {
        Scratch s = scratch();
        s.mem.set(JAVA_INT, Scratch.EVENT, events);
        s.mem.set(JAVA_LONG_UNALIGNED, Scratch.EVENT + EPOLL_DATA_OFFSET, data);
        try {
            return result((int) EPOLL_CTL.invokeExact(s.capture, epfd, op, fd, s.base + Scratch.EVENT), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code epoll_wait}: blocks up to {@code timeoutMs} (-1: no limit, 0: not at all) and fills
     * {@code maxEvents} entries of {@link #EPOLL_EVENT_SIZE} bytes at {@code eventsAddress}; the
     * number filled, or -errno ({@code -EINTR} after a signal: call again).
     */
    static int epollWait(int epfd, long eventsAddress, int maxEvents, int timeoutMs) {
        Scratch s = scratch();
        try {
            return result((int) EPOLL_WAIT.invokeExact(s.capture, epfd, eventsAddress, maxEvents, timeoutMs), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The events mask of entry {@code i} of an array {@link #epollWait} filled. */
    static int eventMask(long eventsAddress, int i) {
        return EVERYTHING.get(JAVA_INT_UNALIGNED, eventsAddress + (long) i * EPOLL_EVENT_SIZE);
    }

    /** The data of entry {@code i} of an array {@link #epollWait} filled, as given to {@link #epollCtl}. */
    static long eventData(long eventsAddress, int i) {
        return EVERYTHING.get(JAVA_LONG_UNALIGNED, eventsAddress + (long) i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
    }

    /** {@code eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)}: a descriptor or -errno. */
    static int eventfd() {
        Scratch s = scratch();
        try {
            return result((int) EVENTFD.invokeExact(s.capture, 0, EFD_NONBLOCK | EFD_CLOEXEC), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds 1 to the eventfd's counter (an 8-byte write), making it readable: 0 or -errno. */
    static int eventfdSignal(int fd) {
        Scratch s = scratch();
        s.mem.set(JAVA_LONG, Scratch.COUNTER, 1L);
        try {
            long r = (long) WRITE.invokeExact(s.capture, fd, s.base + Scratch.COUNTER, 8L);
            return r < 0 ? -s.errno() : 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Reads and resets the eventfd's counter: the count of signals since the last drain (at most
     * {@link Integer#MAX_VALUE}), or -errno ({@code -EAGAIN}: none).
     */
    static int eventfdDrain(int fd) {
        Scratch s = scratch();
        try {
            long r = (long) READ.invokeExact(s.capture, fd, s.base + Scratch.COUNTER, 8L);
            return r < 0 ? -s.errno() : (int) Math.min(s.mem.get(JAVA_LONG, Scratch.COUNTER), Integer.MAX_VALUE);
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

    // ---------------------------------------------------------------- errors

    /** {@code EAGAIN} and the like for the values here, {@code "errno N"} for others; accepts -errno too. */
    static String errnoName(int errno) {
        int e = Math.abs(errno);
        String name = switch (e) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EBADF -> "EBADF";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EEXIST -> "EEXIST";
            case EFAULT -> "EFAULT";
            case EINVAL -> "EINVAL";
            case ENFILE -> "ENFILE";
            case EMFILE -> "EMFILE";
            case EPIPE -> "EPIPE";
            case ENOTSOCK -> "ENOTSOCK";
            case EOPNOTSUPP -> "EOPNOTSUPP";
            case EAFNOSUPPORT -> "EAFNOSUPPORT";
            case EADDRINUSE -> "EADDRINUSE";
            case EADDRNOTAVAIL -> "EADDRNOTAVAIL";
            case ENETUNREACH -> "ENETUNREACH";
            case ECONNABORTED -> "ECONNABORTED";
            case ECONNRESET -> "ECONNRESET";
            case ENOBUFS -> "ENOBUFS";
            case EISCONN -> "EISCONN";
            case ENOTCONN -> "ENOTCONN";
            case ETIMEDOUT -> "ETIMEDOUT";
            case ECONNREFUSED -> "ECONNREFUSED";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            case EALREADY -> "EALREADY";
            case EINPROGRESS -> "EINPROGRESS";
            default -> null;
        };
        return name != null ? name : "errno " + e;
    }

    /** glibc's strerror text for the values here, null for others. */
    private static String description(int errno) {
        return switch (errno) {
            case EPERM -> "Operation not permitted";
            case ENOENT -> "No such file or directory";
            case EINTR -> "Interrupted system call";
            case EBADF -> "Bad file descriptor";
            case EAGAIN -> "Resource temporarily unavailable";
            case ENOMEM -> "Cannot allocate memory";
            case EACCES -> "Permission denied";
            case EFAULT -> "Bad address";
            case EINVAL -> "Invalid argument";
            case ENFILE -> "Too many open files in system";
            case EMFILE -> "Too many open files";
            case EPIPE -> "Broken pipe";
            case ENOTSOCK -> "Socket operation on non-socket";
            case EOPNOTSUPP -> "Operation not supported";
            case EAFNOSUPPORT -> "Address family not supported by protocol";
            case EADDRINUSE -> "Address already in use";
            case EADDRNOTAVAIL -> "Cannot assign requested address";
            case ENETUNREACH -> "Network is unreachable";
            case ECONNABORTED -> "Software caused connection abort";
            case ECONNRESET -> "Connection reset by peer";
            case ENOBUFS -> "No buffer space available";
            case EISCONN -> "Transport endpoint is already connected";
            case ENOTCONN -> "Transport endpoint is not connected";
            case ETIMEDOUT -> "Connection timed out";
            case ECONNREFUSED -> "Connection refused";
            case EHOSTUNREACH -> "No route to host";
            case EALREADY -> "Operation already in progress";
            case EINPROGRESS -> "Operation now in progress";
            default -> null;
        };
    }

    /**
     * The exception the JDK's own sockets would throw for {@code errno} (accepts -errno too):
     * {@link ConnectException} for a refused or timed-out connect, {@link BindException} for an
     * address in use or not available, {@link NoRouteToHostException} for an unreachable host or
     * network, {@link IOException} otherwise; the message reads
     * {@code "connect: Connection refused (ECONNREFUSED)"}.
     */
    static IOException exception(String what, int errno) {
        int e = Math.abs(errno);
        String text = description(e);
        String message = text == null ? what + ": " + errnoName(e) : what + ": " + text + " (" + errnoName(e) + ")";
        return switch (e) {
            case ECONNREFUSED, ETIMEDOUT -> new ConnectException(message);
            case EADDRINUSE, EADDRNOTAVAIL -> new BindException(message);
            case ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(message);
            default -> new IOException(message);
        };
    }

    // ---------------------------------------------------------------- internals

    private static Scratch scratch() {
        if (!AVAILABLE) {
            throw new IllegalStateException(REASON);
        }
        return SCRATCH.get();
    }

    private static int result(int r, Scratch s) {
        return r < 0 ? -s.errno() : r;
    }

    private static long result(long r, Scratch s) {
        return r < 0 ? -s.errno() : r;
    }

    /** A downcall throws nothing checked; anything else is a bug here, passed on as it is. */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    /**
     * One thread's native scratch memory: the errno capture and the structures the kernel reads
     * or fills. Used by its thread only, one call at a time; freed by the GC with the thread's
     * {@link ThreadLocal} entry.
     */
    private static final class Scratch {
        static final long OPTVAL = 0; // int, or struct linger (8)
        static final long OPTLEN = 8; // socklen_t
        static final long ADDRLEN = 12; // socklen_t
        static final long COUNTER = 16; // eventfd's uint64
        static final long EVENT = 24; // struct epoll_event (12 or 16)
        static final long IOV = 48; // struct iovec[2]
        static final long MSGHDR = 80; // struct msghdr (56 on LP64)
        static final long SOCKADDR = 144; // struct sockaddr_storage
        static final long SIZE = SOCKADDR + SOCKADDR_STORAGE_SIZE;

        final MemorySegment capture;
        final MemorySegment mem;
        final long base;
        /** The address whose bytes are in {@link #addressBytes}; null until the first encode. */
        private InetAddress encoded;
        private final byte[] addressBytes = new byte[16];
        private int addressLength;

        Scratch() {
            Arena arena = Arena.ofAuto();
            capture = arena.allocate(CAPTURE_LAYOUT);
            mem = arena.allocate(SIZE, 16);
            base = mem.address();
            // The msghdr points at the iovecs for good; sendv2 only rewrites the iovecs.
            mem.set(JAVA_LONG, MSGHDR + 16, base + IOV); // msg_iov
            mem.set(JAVA_LONG, MSGHDR + 24, 2L); // msg_iovlen
        }

        int errno() {
            return capture.get(JAVA_INT, ERRNO_OFFSET);
        }

        void iovecs(long address1, int length1, long address2, int length2) {
            mem.set(JAVA_LONG, IOV, address1);
            mem.set(JAVA_LONG, IOV + 8, length1);
            mem.set(JAVA_LONG, IOV + 16, address2);
            mem.set(JAVA_LONG, IOV + 24, length2);
        }

        /** Writes the sockaddr for a socket of {@code family}: its length, or -EAFNOSUPPORT. */
        int encode(int family, InetSocketAddress a) {
            InetAddress ip = a.getAddress();
            if (ip == null) {
                throw new IllegalArgumentException("unresolved address: " + a);
            }
            boolean v4 = ip instanceof Inet4Address;
            if (family != AF_INET6 && (family != AF_INET || !v4)) {
                return -EAFNOSUPPORT;
            }
            if (ip != encoded) {
                byte[] b = ip.getAddress();
                System.arraycopy(b, 0, addressBytes, 0, b.length);
                addressLength = b.length;
                encoded = ip;
            }
            long sa = SOCKADDR;
            mem.set(NET_SHORT, sa + 2, (short) a.getPort());
            if (family == AF_INET) {
                mem.set(JAVA_SHORT, sa, (short) AF_INET);
                copyAddress(sa + 4, 0, 4);
                mem.set(JAVA_LONG, sa + 8, 0L); // sin_zero
                return SOCKADDR_IN_SIZE;
            }
            mem.set(JAVA_SHORT, sa, (short) AF_INET6);
            mem.set(JAVA_INT, sa + 4, 0); // sin6_flowinfo
            if (addressLength == 4) { // IPv4-mapped: ::ffff:a.b.c.d
                mem.set(JAVA_LONG, sa + 8, 0L);
                mem.set(JAVA_SHORT, sa + 16, (short) 0);
                mem.set(JAVA_SHORT, sa + 18, (short) 0xffff);
                copyAddress(sa + 20, 0, 4);
                mem.set(JAVA_INT, sa + 24, 0);
            } else {
                copyAddress(sa + 8, 0, 16);
                mem.set(JAVA_INT, sa + 24, ((Inet6Address) ip).getScopeId());
            }
            return SOCKADDR_IN6_SIZE;
        }

        private void copyAddress(long offset, int from, int count) {
            for (int i = 0; i < count; i++) {
                mem.set(JAVA_BYTE, offset + i, addressBytes[from + i]);
            }
        }

        /** The address getsockname or getpeername left in the sockaddr. */
        InetSocketAddress decode(String what) throws IOException {
            long sa = SOCKADDR;
            int family = mem.get(JAVA_SHORT, sa);
            int port = mem.get(NET_SHORT, sa + 2) & 0xffff;
            byte[] b;
            int scope = 0;
            if (family == AF_INET) {
                b = new byte[4];
                MemorySegment.copy(mem, JAVA_BYTE, sa + 4, b, 0, 4);
            } else if (family == AF_INET6) {
                b = new byte[16];
                MemorySegment.copy(mem, JAVA_BYTE, sa + 8, b, 0, 16);
                scope = mem.get(JAVA_INT, sa + 24);
            } else {
                throw new IOException(what + ": address family " + family + " is not IP");
            }
            // getByAddress turns an IPv4-mapped IPv6 address into an Inet4Address.
            InetAddress ip = scope == 0 ? InetAddress.getByAddress(b) : Inet6Address.getByAddress(null, b, scope);
            return new InetSocketAddress(ip, port);
        }
    }

    /**
     * Links the handles during class initialisation and records the first failure instead of
     * throwing, so the class always loads. With a precondition unmet it links nothing.
     */
    private static final class Binder {
        private final Linker linker;
        private final SymbolLookup libc;
        private final Linker.Option capture;
        String failure;
        boolean criticalLinked;

        Binder(String precondition) {
            failure = precondition;
            Linker l = null;
            SymbolLookup lookup = null;
            Linker.Option c = null;
            if (failure == null) {
                try {
                    l = Linker.nativeLinker();
                    lookup = l.defaultLookup();
                    c = Linker.Option.captureCallState("errno");
                } catch (RuntimeException e) {
                    failure = "no native linker: " + e;
                }
            }
            linker = l;
            libc = lookup;
            capture = c;
            criticalLinked = failure == null && criticalAccepted();
        }

        /** JDK 22 and 23 throw IllegalArgumentException for critical with captureCallState. */
        @SuppressWarnings("restricted") // only reached with native access enabled
        private boolean criticalAccepted() {
            Optional<MemorySegment> close = libc.find("close");
            if (close.isEmpty()) {
                return false; // reported by the link of close
            }
            try {
                linker.downcallHandle(close.get(), FunctionDescriptor.of(JAVA_INT, JAVA_INT), capture,
                        Linker.Option.critical(false));
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        MethodHandle fast(String name, MemoryLayout ret, MemoryLayout... args) {
            return criticalLinked
                    ? link(name, ret, args, capture, Linker.Option.critical(false))
                    : link(name, ret, args, capture);
        }

        MethodHandle slow(String name, MemoryLayout ret, MemoryLayout... args) {
            return link(name, ret, args, capture);
        }

        MethodHandle variadic(String name, int firstVariadic, MemoryLayout ret, MemoryLayout... args) {
            return link(name, ret, args, capture, Linker.Option.firstVariadicArg(firstVariadic));
        }

        @SuppressWarnings("restricted") // only reached with native access enabled
        private MethodHandle link(String name, MemoryLayout ret, MemoryLayout[] args, Linker.Option... options) {
            if (failure != null) {
                return null;
            }
            Optional<MemorySegment> symbol = libc.find(name);
            if (symbol.isEmpty()) {
                failure = "function " + name + " not found in the C library";
                return null;
            }
            try {
                return linker.downcallHandle(symbol.get(), FunctionDescriptor.of(ret, args), options);
            } catch (RuntimeException e) {
                failure = "cannot link " + name + ": " + e;
                return null;
            }
        }

        long errnoOffset() {
            if (failure != null) {
                return 0;
            }
            StructLayout state = Linker.Option.captureStateLayout();
            return state.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        }

        MemoryLayout captureLayout() {
            return failure != null ? JAVA_INT : Linker.Option.captureStateLayout();
        }

        @SuppressWarnings("restricted") // only reached with native access enabled
        MemorySegment everything() {
            return failure != null ? null : MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
        }

        MemorySegment cString(String s) {
            return failure != null ? null : Arena.global().allocateFrom(s);
        }
    }
}
