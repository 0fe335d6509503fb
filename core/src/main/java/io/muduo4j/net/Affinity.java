package io.muduo4j.net;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * CPU affinity of the calling thread, for {@link EventLoopOptions#cpuAffinity}: Linux's
 * {@code sched_setaffinity} through the FFM API on JDK 22+ ({@code NativeAffinity} in the jar's
 * {@code META-INF/versions/22}, looked up by name as {@link Pollers} looks up the epoll poller), so
 * the Java 17 code never links to it. Elsewhere every call fails with
 * {@link UnsupportedOperationException} saying why. Any thread; each call is about the caller.
 */
final class Affinity {
    static final int MAX_CPUS = 1024;
    private static final String NATIVE_CLASS = "io.muduo4j.net.NativeAffinity";
    private static final MethodHandle SET;
    private static final MethodHandle GET;
    private static final MethodHandle DESCRIBE;
    private static final String UNAVAILABLE;

    static {
        MethodHandle set = null;
        MethodHandle get = null;
        MethodHandle describe = null;
        String reason;
        try {
            Class<?> c = Class.forName(NATIVE_CLASS, true, Affinity.class.getClassLoader());
            MethodHandles.Lookup l = MethodHandles.lookup();
            reason = (String) l.findStatic(c, "unavailableReason", MethodType.methodType(String.class)).invoke();
            if (reason == null) {
                set = l.findStatic(c, "set", MethodType.methodType(int.class, int[].class));
                get = l.findStatic(c, "get", MethodType.methodType(int[].class, int[].class));
                describe = l.findStatic(c, "describe", MethodType.methodType(String.class, String.class, int.class));
            }
        } catch (ClassNotFoundException | LinkageError e) {
            reason = "CPU affinity needs JDK 22 or later (this is " + Runtime.version().feature()
                    + ") and the multi-release muduo4j-core jar";
        } catch (Throwable t) {
            reason = "CPU affinity could not load: " + t;
        }
        SET = set;
        GET = get;
        DESCRIBE = describe;
        UNAVAILABLE = reason == null ? null : "CPU affinity is not available: " + reason;
    }

    private Affinity() {
    }

    /** Why affinity cannot be set here, or null. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** A sorted copy of {@code cpus}, checked: not empty, each 0 to 1,023, no repeats. */
    static int[] checked(int[] cpus) {
        if (cpus == null || cpus.length == 0) {
            throw new IllegalArgumentException("CPU affinity: at least one CPU");
        }
        int[] c = cpus.clone();
        Arrays.sort(c);
        for (int i = 0; i < c.length; i++) {
            if (c[i] < 0 || c[i] >= MAX_CPUS) {
                throw new IllegalArgumentException("CPU affinity: CPU " + c[i] + " is not in 0.." + (MAX_CPUS - 1));
            }
            if (i > 0 && c[i] == c[i - 1]) {
                throw new IllegalArgumentException("CPU affinity: CPU " + c[i] + " given twice");
            }
        }
        return c;
    }

    /** Throws {@link UnsupportedOperationException} with the reason when affinity is unavailable. */
    static void requireAvailable() {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
    }

    /**
     * Pins the calling thread to {@code cpus} (as {@link #checked} returns them).
     *
     * @throws IllegalArgumentException when the kernel refuses the set (no CPU of it online and allowed)
     */
    static void pin(int[] cpus) {
        requireAvailable();
        int r;
        try {
            r = (int) SET.invokeExact(cpus);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (r < 0) {
            throw new IllegalArgumentException("cannot pin thread '" + Thread.currentThread().getName() + "' to CPUs "
                    + Arrays.toString(cpus) + ": " + describe("sched_setaffinity", -r));
        }
    }

    /** The CPUs the calling thread may run on, ascending. */
    static int[] current() {
        requireAvailable();
        int[] errno = new int[1];
        int[] cpus;
        try {
            cpus = (int[]) GET.invokeExact(errno);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (cpus == null) {
            throw new IllegalStateException(describe("sched_getaffinity", errno[0]));
        }
        return cpus;
    }

    private static String describe(String call, int errno) {
        try {
            return (String) DESCRIBE.invokeExact(call, errno);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Rethrows what a method handle threw (nothing checked is expected). */
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new IllegalStateException(t);
    }
}
