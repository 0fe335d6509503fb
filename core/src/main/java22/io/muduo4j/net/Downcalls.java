package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The glibc functions of the epoll transport as {@code java.lang.foreign} downcall handles, found
 * by {@link Linker#defaultLookup()} and linked once, when this class initialises; the errno capture
 * that goes with them; and whether any of it is usable here. The calls themselves are
 * {@link Syscalls} (sockets, data, descriptors) and {@link EpollCalls} (epoll, eventfd).
 *
 * <p>All handles are linked here, in one place, because availability is all or nothing: the first
 * function that cannot be found or linked makes {@link #AVAILABLE} false for every call.
 *
 * <p><b>errno.</b> Every handle takes a capture segment first
 * ({@link Linker.Option#captureCallState}): the downcall itself stores errno there, so nothing the
 * JVM does between the call and our read can overwrite it. {@link #result} turns a failed call's
 * return into {@code -errno}.
 *
 * <p><b>Why the handles are not {@code final}.</b> With {@code captureCallState}, every call
 * slices the capture segment ({@code SharedUtils.checkCaptureSegment}), a new
 * {@code MemorySegment} that only C2's escape analysis removes, and only when the whole chain
 * from the handle to the slice's constructor (about ten frames of JDK code) is inlined into one
 * compilation. Through a {@code static final} handle, the call is inlined into whatever calls
 * {@link Syscalls}: from the loop down to a user callback that sends, that is past C2's depth
 * limit ({@code MaxInlineLevel}, 15), so in most JMH forks {@code asSlice} was left a real call
 * and every {@code epoll_wait}, {@code read} and {@code send} allocated its 40-byte slice (81 B
 * per round trip in JMH's {@code RoundTrip.onLoop}; {@code SyscallsTest} calls them twelve
 * frames deep to prove it gone). A handle C2 cannot constant-fold is a compilation
 * boundary instead: the caller makes one indirect call, and the handle's own (customised) lambda
 * form is compiled as a root of its own, shallow enough for the slice to be scalar-replaced
 * every time. The fields are written once, in the class initialiser, and never again.
 *
 * <p><b>Addresses.</b> Every {@code void*} is declared {@code JAVA_LONG}, which is the same
 * register and width on the LP64 ABIs supported here (x86_64, aarch64), so a call with an address
 * wraps nothing.
 *
 * <p><b>Critical calls.</b> The short calls that never block on a non-blocking descriptor are
 * linked with {@link Linker.Option#critical critical(false)}: the thread stays in Java state, no
 * state transition and no safepoint poll on return (about 4.5 ns less per call on JDK 25, x86_64;
 * small beside the system call itself). A critical call holds off safepoints (GC pauses of every
 * thread) while it runs, so the descriptors passed to them must be non-blocking (every one the
 * transport creates is), and {@code epoll_wait} (blocks by design), {@code close} (with
 * {@code SO_LINGER} on and a timeout, Linux blocks in close even on a non-blocking socket) and
 * {@code open} are not critical. JDK 22 and 23 reject {@code critical} combined with
 * {@code captureCallState} (allowed from JDK 24, JDK-8336768); there the same handles are linked
 * without {@code critical}. See {@link #criticalLinked()}.
 *
 * <p><b>Availability.</b> {@link #AVAILABLE} is false, and {@link #unavailableReason()} says
 * why, off Linux, on another architecture, when a function is missing, or when native access is
 * not enabled for this class's module. The class loads in every case; with {@code AVAILABLE}
 * false the handles are null and {@link Scratch#current()} throws {@link IllegalStateException}.
 *
 * <p>Threading: the handles may be invoked from any thread, concurrently.
 */
final class Downcalls {
    private static final String ARCH = System.getProperty("os.arch", "");
    static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");

    /** Why linking was not attempted, or null. Computed first: later fields depend on it. */
    private static final String PRECONDITION = precondition();
    private static final Binder BINDER = new Binder(PRECONDITION);

    // Not final on purpose (see the class comment): written here, once.

    static MethodHandle SOCKET = BINDER.fast("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    static MethodHandle BIND = BINDER.fast("bind", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    static MethodHandle CONNECT = BINDER.fast("connect", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    static MethodHandle LISTEN = BINDER.fast("listen", JAVA_INT, JAVA_INT, JAVA_INT);
    static MethodHandle ACCEPT4 =
            BINDER.fast("accept4", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
    static MethodHandle SETSOCKOPT =
            BINDER.fast("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT);
    static MethodHandle GETSOCKOPT =
            BINDER.fast("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle GETSOCKNAME =
            BINDER.fast("getsockname", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle GETPEERNAME =
            BINDER.fast("getpeername", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle READ = BINDER.fast("read", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle WRITE = BINDER.fast("write", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle READV = BINDER.fast("readv", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
    static MethodHandle SEND =
            BINDER.fast("send", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
    static MethodHandle SENDMSG = BINDER.fast("sendmsg", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
    static MethodHandle SHUTDOWN = BINDER.fast("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);
    static MethodHandle CLOSE = BINDER.slow("close", JAVA_INT, JAVA_INT);
    static MethodHandle EPOLL_CREATE1 = BINDER.fast("epoll_create1", JAVA_INT, JAVA_INT);
    static MethodHandle EPOLL_CTL =
            BINDER.fast("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    static MethodHandle EPOLL_WAIT =
            BINDER.slow("epoll_wait", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
    static MethodHandle EVENTFD = BINDER.fast("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    static MethodHandle SCHED_SETAFFINITY = BINDER.slow("sched_setaffinity", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    static MethodHandle SCHED_GETAFFINITY = BINDER.slow("sched_getaffinity", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG);
    /** open(2) is variadic: the mode is passed as the first variadic argument, as C would. */
    static MethodHandle OPEN = BINDER.variadic("open", 2, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);

    /** Where errno sits in a capture segment. */
    static final long ERRNO_OFFSET = BINDER.errnoOffset();
    /** The layout of one capture segment (see {@link Scratch}). */
    static final MemoryLayout CAPTURE_LAYOUT = BINDER.captureLayout();
    /** The whole address space as one segment, to read epoll_event arrays at raw addresses. */
    static final MemorySegment EVERYTHING = BINDER.everything();
    /** "/dev/null\0", kept for the life of the class. */
    static final MemorySegment DEV_NULL = BINDER.cString("/dev/null");

    private static final boolean CRITICAL = BINDER.criticalLinked;
    private static final String REASON = BINDER.failure;

    /** Whether the system calls can be used in this JVM (see {@link #unavailableReason()}). */
    static final boolean AVAILABLE = REASON == null;

    private Downcalls() {
    }

    /** Why {@link #AVAILABLE} is false (naming the missing JVM flag when that is why), or null. */
    static String unavailableReason() {
        return REASON;
    }

    /** Whether the short calls were linked critical (false on JDK 22 and 23, see the class comment). */
    static boolean criticalLinked() {
        return CRITICAL;
    }

    /** A call's int return as the convention has it: the result, or {@code -errno} when it failed. */
    static int result(int r, Scratch s) {
        return r < 0 ? -s.errno() : r;
    }

    /** A call's long return as the convention has it: the result, or {@code -errno} when it failed. */
    static long result(long r, Scratch s) {
        return r < 0 ? -s.errno() : r;
    }

    /** A downcall throws nothing checked; anything else is a bug here, passed on as it is. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    private static String precondition() {
        String os = System.getProperty("os.name", "");
        if (!os.equals("Linux")) {
            return "native transport needs Linux, this is " + os;
        }
        if (!X86_64 && !ARCH.equals("aarch64")) {
            return "native transport supports x86_64 and aarch64 Linux, this is " + ARCH;
        }
        Module m = Downcalls.class.getModule();
        if (!m.isNativeAccessEnabled()) {
            String who = m.isNamed() ? m.getName() : "ALL-UNNAMED";
            return "native access is not enabled for " + (m.isNamed() ? "module " + who : "the class path")
                    + ": add --enable-native-access=" + who + " to the java command line"
                    + (m.isNamed() ? "" : " (or 'Enable-Native-Access: ALL-UNNAMED' to an executable jar's manifest)");
        }
        return null;
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
