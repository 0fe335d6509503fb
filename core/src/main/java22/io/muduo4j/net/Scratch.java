package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One thread's native scratch memory for the system calls: the errno capture and the structures
 * the kernel reads or fills (socket option values, the eventfd counter, an epoll_event, iovecs, a
 * msghdr, a sockaddr). Allocated once per thread, so no call allocates for them.
 *
 * <p>Threading: used by its thread only, one call at a time ({@link #current()} is the only way
 * to get one); freed by the GC with the thread's {@link ThreadLocal} entry.
 */
final class Scratch {
    static final long OPTVAL = 0; // int, or struct linger (8)
    static final long OPTLEN = 8; // socklen_t
    static final long ADDRLEN = 12; // socklen_t
    static final long COUNTER = 16; // eventfd's uint64
    static final long EVENT = 24; // struct epoll_event (12 or 16)
    static final long IOV = 48; // struct iovec[2]
    static final long MSGHDR = 80; // struct msghdr (56 on LP64)
    static final long SOCKADDR = 144; // struct sockaddr_storage
    static final long SIZE = SOCKADDR + Sockaddr.SOCKADDR_STORAGE_SIZE;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    final MemorySegment capture;
    final MemorySegment mem;
    final long base;
    final Sockaddr sockaddr;

    private Scratch() {
        Arena arena = Arena.ofAuto();
        capture = arena.allocate(Downcalls.CAPTURE_LAYOUT);
        mem = arena.allocate(SIZE, 16);
        base = mem.address();
        sockaddr = new Sockaddr(mem, SOCKADDR);
        // The msghdr points at the iovecs for good; sendv2 only rewrites the iovecs.
        mem.set(JAVA_LONG, MSGHDR + 16, base + IOV); // msg_iov
        mem.set(JAVA_LONG, MSGHDR + 24, 2L); // msg_iovlen
    }

    /**
     * The calling thread's scratch.
     *
     * @throws IllegalStateException with {@link Downcalls#unavailableReason()} when the system
     *                               calls cannot be used in this JVM
     */
    static Scratch current() {
        if (!Downcalls.AVAILABLE) {
            throw new IllegalStateException(Downcalls.unavailableReason());
        }
        return SCRATCH.get();
    }

    /** The errno the last call through {@link #capture} stored. */
    int errno() {
        return capture.get(JAVA_INT, Downcalls.ERRNO_OFFSET);
    }

    /** Fills the two iovecs at {@link #IOV} (which the msghdr at {@link #MSGHDR} points at). */
    void iovecs(long address1, int length1, long address2, int length2) {
        mem.set(JAVA_LONG, IOV, address1);
        mem.set(JAVA_LONG, IOV + 8, length1);
        mem.set(JAVA_LONG, IOV + 16, address2);
        mem.set(JAVA_LONG, IOV + 24, length2);
    }
}
