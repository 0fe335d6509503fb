package io.muduo4j.net;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The calling thread's CPU affinity through {@code sched_setaffinity}/{@code sched_getaffinity}
 * (glibc's {@code cpu_set_t}: 1,024 CPUs as a bit mask). Found by name from {@link Affinity}, so the
 * Java 17 code never links to it. Rare calls (a loop thread's start): each takes a mask from a
 * confined arena and frees it.
 */
final class NativeAffinity {
    static final int MAX_CPUS = 1024;
    private static final long MASK_BYTES = MAX_CPUS / 8;

    private NativeAffinity() {
    }

    /** Why this cannot be used here, or null. */
    static String unavailableReason() {
        return Downcalls.unavailableReason();
    }

    /** The text for a failed call's errno, as {@code "sched_setaffinity: Invalid argument (EINVAL)"}. */
    static String describe(String call, int errno) {
        return Errno.message(call, errno);
    }

    /** Pins the calling thread to {@code cpus} (each 0 to 1,023); 0 or -errno. */
    static int set(int[] cpus) {
        Scratch s = Scratch.current();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            for (int cpu : cpus) {
                long word = cpu >>> 6;
                long bits = mask.getAtIndex(JAVA_LONG, word);
                mask.setAtIndex(JAVA_LONG, word, bits | (1L << (cpu & 63)));
            }
            return Downcalls.result((int) Downcalls.SCHED_SETAFFINITY.invokeExact(s.capture, 0, MASK_BYTES,
                    mask.address()), s);
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }

    /** The CPUs the calling thread may run on, ascending; null with {@code errno[0]} set on failure. */
    static int[] get(int[] errno) {
        Scratch s = Scratch.current();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES, 8);
            int r = Downcalls.result((int) Downcalls.SCHED_GETAFFINITY.invokeExact(s.capture, 0, MASK_BYTES,
                    mask.address()), s);
            if (r < 0) {
                errno[0] = -r;
                return null;
            }
            int n = 0;
            for (long w = 0; w < MASK_BYTES / 8; w++) {
                n += Long.bitCount(mask.getAtIndex(JAVA_LONG, w));
            }
            int[] cpus = new int[n];
            int i = 0;
            for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
                if ((mask.getAtIndex(JAVA_LONG, cpu >>> 6) & (1L << (cpu & 63))) != 0) {
                    cpus[i++] = cpu;
                }
            }
            return cpus;
        } catch (Throwable t) {
            throw Downcalls.rethrow(t);
        }
    }
}
