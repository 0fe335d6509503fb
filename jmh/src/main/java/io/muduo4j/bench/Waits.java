package io.muduo4j.bench;

import java.util.concurrent.TimeUnit;

/** Deadlines for the waits in the peers, so a broken connection fails a run instead of hanging it. */
final class Waits {
    /** How long any single wait in a benchmark may take before it is declared broken. */
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private Waits() {
    }

    static long deadline() {
        return System.nanoTime() + TIMEOUT_NANOS;
    }

    /** Throws if {@code deadline} has passed; call every few thousand spins, not every one. */
    static void check(long deadline, String what) {
        if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("timed out after " + TimeUnit.NANOSECONDS.toSeconds(TIMEOUT_NANOS)
                    + " s waiting for " + what);
        }
    }

    static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
