package io.muduo4j.bench.report;

import java.util.Locale;

/**
 * The size budget of the committed benchmark results in {@code perf-results/}, in bytes of file
 * content (what {@code du -b} or {@code du --apparent-size} counts; git stores the files compressed).
 * A <em>result directory</em> is each directory directly under {@code perf-results/} with everything
 * in it, and the files directly in {@code perf-results/} (the default run's) taken together.
 * {@code PerfResultsBudgetTest} fails when the tree exceeds it; {@link Report} states it in every
 * README it writes.
 */
public final class SizeBudget {
    private static final long MIB = 1024 * 1024;
    /** No single file over this. The largest kept today: a JMH suite's jmh-output.txt, about 1.1 MB. */
    public static final long MAX_FILE = 2 * MIB;
    /** No result directory over this (a full JMH suite keeps about 2.2 MB: its log, slim JSON, chart). */
    public static final long MAX_RESULT_DIR = 4 * MIB;
    /** perf-results/ as a whole. */
    public static final long MAX_TOTAL = 16 * MIB;

    private SizeBudget() {
    }

    /** "no file over 2 MiB, no result directory over 4 MiB, perf-results/ at most 16 MiB". */
    public static String text() {
        return "no file over " + mib(MAX_FILE) + ", no result directory over " + mib(MAX_RESULT_DIR)
                + ", `perf-results/` at most " + mib(MAX_TOTAL) + " in all";
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%d MiB", bytes / MIB);
    }
}
