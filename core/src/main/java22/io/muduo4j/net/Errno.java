package io.muduo4j.net;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;

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

    private Errno() {
    }

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
     * {@code "connect: Connection refused (ECONNREFUSED)"}. A reset ({@code ECONNRESET}) or a
     * broken pipe ({@code EPIPE}) is an {@link IOException} without a stack trace.
     */
    static IOException exception(String what, int errno) {
        int e = Math.abs(errno);
        if (e == ECONNRESET || e == EPIPE) {
            return peerEnded(what, e);
        }
        String text = description(e);
        String message = text == null ? what + ": " + errnoName(e) : what + ": " + text + " (" + errnoName(e) + ")";
        return switch (e) {
            case ECONNREFUSED, ETIMEDOUT -> new ConnectException(message);
            case EADDRINUSE, EADDRNOTAVAIL -> new BindException(message);
            case ENETUNREACH, EHOSTUNREACH -> new NoRouteToHostException(message);
            default -> new IOException(message);
        };
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

    /** An {@link IOException} without a stack trace (see {@link #peerEnded}). */
    static final class PeerEndedException extends IOException {
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
