package io.muduo4j.net;

import static io.muduo4j.net.Downcalls.EPOLL_CREATE1;
import static io.muduo4j.net.Downcalls.EPOLL_CTL;
import static io.muduo4j.net.Downcalls.EPOLL_WAIT;
import static io.muduo4j.net.Downcalls.EVENTFD;
import static io.muduo4j.net.Downcalls.EVERYTHING;
import static io.muduo4j.net.Downcalls.READ;
import static io.muduo4j.net.Downcalls.WRITE;
import static io.muduo4j.net.Downcalls.result;
import static io.muduo4j.net.Downcalls.rethrow;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * The readiness calls of the epoll transport: {@code epoll_create1}, {@code epoll_ctl},
 * {@code epoll_wait} and the reading of the events it fills, and the {@code eventfd} the loop is
 * woken through. Results follow the {@link Syscalls} convention: the result ({@code >= 0}) or
 * {@code -errno}, nothing thrown.
 *
 * <p>Threading: every method may be called from any thread, concurrently (each uses the calling
 * thread's {@link Scratch}); an events array belongs to whoever passes it to {@link #epollWait}.
 */
final class EpollCalls {
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
    static final int EPOLL_CLOEXEC = Syscalls.O_CLOEXEC;
    static final int EFD_NONBLOCK = 0x800;
    static final int EFD_CLOEXEC = Syscalls.O_CLOEXEC;

    /**
     * Bytes of one {@code struct epoll_event}: x86_64 declares it {@code __attribute__((packed))}
     * (events at 0, data at 4), other architectures align data to 8.
     */
    static final int EPOLL_EVENT_SIZE = Downcalls.X86_64 ? 12 : 16;
    private static final int EPOLL_DATA_OFFSET = Downcalls.X86_64 ? 4 : 8;

    private EpollCalls() {
    }

    /** {@code epoll_create1(EPOLL_CLOEXEC)}: a descriptor or -errno. */
    static int epollCreate() {
        Scratch s = Scratch.current();
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
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.EPOLL_CTL);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
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
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.EPOLL_WAIT);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
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
        Scratch s = Scratch.current();
        try {
            return result((int) EVENTFD.invokeExact(s.capture, 0, EFD_NONBLOCK | EFD_CLOEXEC), s);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Adds 1 to the eventfd's counter (an 8-byte write), making it readable: 0 or -errno. */
    static int eventfdSignal(int fd) {
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.EVENTFD_WRITE);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
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
        if (Faults.ENABLED) {
            int f = Faults.inject(Faults.Call.EVENTFD_READ);
            if (f != 0) {
                return f;
            }
        }
        Scratch s = Scratch.current();
        try {
            long r = (long) READ.invokeExact(s.capture, fd, s.base + Scratch.COUNTER, 8L);
            return r < 0 ? -s.errno() : (int) Math.min(s.mem.get(JAVA_LONG, Scratch.COUNTER), Integer.MAX_VALUE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
