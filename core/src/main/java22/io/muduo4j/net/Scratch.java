package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One thread's native scratch memory for the system calls: the errno capture and the structures
 * the kernel reads or fills (socket option values, the eventfd counter, an epoll_event, iovecs, a
 * msghdr, a sockaddr). Allocated once per platform thread, so no call allocates for them.
 *
 * <p><b>Virtual threads</b> share their carrier's scratch: a virtual thread per request that sends
 * or connects would otherwise allocate a scratch (and native memory) each. That is sound because
 * a virtual thread leaves its carrier only where it blocks or parks, and no system-call wrapper
 * does either between {@link #current()} and its last read of the scratch (a downcall pins the
 * virtual thread while it runs). The carrier-local comes from the JDK's
 * {@code jdk.internal.misc.CarrierThreadLocal}, reached through the
 * {@code --add-opens java.base/jdk.internal.misc} that muduo4j needs anyway; without it, every
 * thread, virtual or not, gets a scratch of its own, as a plain {@link ThreadLocal} gives.
 *
 * <p>Threading: used by one thread at a time, one call at a time ({@link #current()} is the only
 * way to get one); freed by the GC with the thread's entry.
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
    static final long TCP_INFO = SOCKADDR + Sockaddr.SOCKADDR_STORAGE_SIZE; // struct tcp_info (up to 256)
    static final long TCP_INFO_SIZE = 256;
    static final long SIZE = TCP_INFO + TCP_INFO_SIZE;

    private static final ThreadLocal<Scratch> SCRATCH = carrierLocal();

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
        Scratch s = SCRATCH.get();
        if (s == null) {
            s = new Scratch();
            SCRATCH.set(s);
        }
        return s;
    }

    /** Whether virtual threads share their carrier's scratch here (see the class comment). */
    static boolean perCarrier() {
        return SCRATCH.getClass() != ThreadLocal.class;
    }

    @SuppressWarnings("unchecked")
    private static ThreadLocal<Scratch> carrierLocal() {
        try {
            Class<?> c = Class.forName("jdk.internal.misc.CarrierThreadLocal");
            if (Object.class.getModule().isOpen("jdk.internal.misc", Scratch.class.getModule())) {
                return (ThreadLocal<Scratch>) c.getConstructor().newInstance();
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // A JDK without it, or not open to this module: one scratch per thread.
        }
        return new ThreadLocal<>();
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
