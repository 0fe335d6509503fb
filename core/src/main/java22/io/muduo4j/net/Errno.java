package io.muduo4j.net;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.SocketException;

/**
 * The errno values the epoll transport tells apart, their names, glibc's texts for them, and the
 * exception the JDK's own sockets would throw for each. The system calls ({@link Syscalls},
 * {@link EpollCalls}) return {@code -errno}; everything here accepts either sign.
 *
 * <p>Threading: stateless; any thread.
 */
final class Errno {
    // Linux values, the same on x86_64 and aarch64 (the differences are on alpha, mips, parisc, sparc).
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EIO = 5;
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
    static final int ENOSPC = 28;
    static final int EPROTO = 71;
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

    private Errno() {
    }

    /** {@code EAGAIN} and the like for the values here, {@code "errno N"} for others; accepts -errno too. */
    static String errnoName(int errno) {
        int e = Math.abs(errno);
        String name = switch (e) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
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
            case ENOSPC -> "ENOSPC";
            case EPROTO -> "EPROTO";
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
            case EIO -> "Input/output error";
            case EBADF -> "Bad file descriptor";
            case EAGAIN -> "Resource temporarily unavailable";
            case ENOMEM -> "Cannot allocate memory";
            case EACCES -> "Permission denied";
            case EFAULT -> "Bad address";
            case EINVAL -> "Invalid argument";
            case ENFILE -> "Too many open files in system";
            case EMFILE -> "Too many open files";
            case EPIPE -> "Broken pipe";
            case ENOSPC -> "No space left on device";
            case EPROTO -> "Protocol error";
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
     * The exception the JDK's own sockets throw for {@code errno} (accepts -errno too) from a
     * socket call ({@code socket}, {@code bind}, {@code listen}, {@code connect} and its
     * completion, {@code setsockopt}, {@code getsockname}, {@code shutdown}): the classes of the
     * JDK's {@code handleSocketError} (libnio's {@code Net.c}), so that a caller that decides by
     * class ({@code Connector.isFatal}) decides the same on every transport.
     * <ul>
     *   <li>{@link ConnectException}: {@code ECONNREFUSED}, {@code ETIMEDOUT}, {@code ENOTCONN};</li>
     *   <li>{@link NoRouteToHostException}: {@code EHOSTUNREACH};</li>
     *   <li>{@link BindException}: {@code EADDRINUSE}, {@code EADDRNOTAVAIL}, {@code EACCES};</li>
     *   <li>{@link ProtocolException}: {@code EPROTO};</li>
     *   <li>{@link SocketException} for every other value ({@code EPERM}, {@code EAFNOSUPPORT},
     *       {@code ENETUNREACH}, {@code EMFILE}, {@code ENOBUFS}, ...);</li>
     *   <li>a reset ({@code ECONNRESET}) or a broken pipe ({@code EPIPE}): a {@link SocketException}
     *       without a stack trace, as {@link #ioException}.</li>
     * </ul>
     * The message reads {@code "connect: Connection refused (ECONNREFUSED)"}.
     */
    static IOException exception(String what, int errno) {
        int e = Math.abs(errno);
        if (e == ECONNRESET || e == EPIPE) {
            return peerEnded(what, e);
        }
        String message = message(what, e);
        return switch (e) {
            case ECONNREFUSED, ETIMEDOUT, ENOTCONN -> new ConnectException(message);
            case EHOSTUNREACH -> new NoRouteToHostException(message);
            case EADDRINUSE, EADDRNOTAVAIL, EACCES -> new BindException(message);
            case EPROTO -> new ProtocolException(message);
            default -> new SocketException(message);
        };
    }

    /**
     * The exception the JDK throws for {@code errno} from a data or descriptor call ({@code read},
     * {@code write}, {@code accept}, {@code close}, the multiplexer's calls): an
     * {@link IOException} with the text of the error ({@code accept: Too many open files (EMFILE)}),
     * and for a reset or a broken pipe a {@link SocketException} without a stack trace (the JDK's
     * read throws {@code SocketException("Connection reset")}).
     */
    static IOException ioException(String what, int errno) {
        int e = Math.abs(errno);
        if (e == ECONNRESET || e == EPIPE) {
            return peerEnded(what, e);
        }
        return new IOException(message(what, e));
    }

    static String message(String what, int e) {
        String text = description(e);
        return text == null ? what + ": " + errnoName(e) : what + ": " + text + " (" + errnoName(e) + ")";
    }

    /**
     * A peer's reset or a write after it: routine for a server (every client that closes with
     * SO_LINGER 0 ends so), so it costs one small object and no stack walk. The stack would only
     * show the loop's read or write path, the same for every connection; the message says which
     * call failed and why. Constant messages for the two calls of the data path.
     */
    private static IOException peerEnded(String what, int errno) {
        String message;
        if (errno == ECONNRESET) {
            message = what.equals("read") ? "read: Connection reset by peer (ECONNRESET)"
                    : what.equals("write") ? "write: Connection reset by peer (ECONNRESET)"
                    : what + ": Connection reset by peer (ECONNRESET)";
        } else {
            message = what.equals("write") ? "write: Broken pipe (EPIPE)" : what + ": Broken pipe (EPIPE)";
        }
        return new PeerEndedException(message);
    }

    /** A {@link SocketException} without a stack trace (see {@link #peerEnded}). */
    static final class PeerEndedException extends SocketException {
        private static final long serialVersionUID = 1L;

        PeerEndedException(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
