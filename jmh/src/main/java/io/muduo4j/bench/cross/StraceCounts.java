package io.muduo4j.bench.cross;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * System call counts from the summary {@code strace -c} writes (with {@code -f}: over all threads):
 *
 * <pre>
 * % time     seconds  usecs/call     calls    errors syscall
 * ------ ----------- ----------- --------- --------- ----------------
 *  93.00    3.393952        1332      2548       254 futex
 * ...
 * 100.00    3.649256         265     13741       618 total
 * </pre>
 * The errors column may be empty. Only the call counts are used (strace distorts the times).
 */
final class StraceCounts {
    private StraceCounts() {
    }

    /** Calls per system call name, without the {@code total} line. */
    static Map<String, Long> parse(String summary) {
        Map<String, Long> calls = new TreeMap<>();
        for (String line : summary.split("\\R")) {
            String t = line.trim();
            if (t.isEmpty() || t.startsWith("%") || t.startsWith("-")) {
                continue;
            }
            String[] f = t.split("\\s+");
            // pct seconds usecs/call calls [errors] name
            if (f.length < 5 || f.length > 6) {
                continue;
            }
            String name = f[f.length - 1];
            if (name.equals("total")) {
                continue;
            }
            try {
                Double.parseDouble(f[0]);
                calls.merge(name, Long.parseLong(f[3]), Long::sum);
            } catch (NumberFormatException e) {
                // not a table row
            }
        }
        return calls;
    }

    static long total(Map<String, Long> calls) {
        long s = 0;
        for (long v : calls.values()) {
            s += v;
        }
        return s;
    }

    /**
     * Calls per operation: {@code (large - small) / ops} per system call, for the difference of two
     * counted runs that differ only in the number of operations (the start-up and shutdown calls
     * cancel out). Sorted by count, largest first; names whose difference is not positive are left out.
     */
    static Map<String, Double> perOperation(Map<String, Long> small, Map<String, Long> large, double ops) {
        List<Map.Entry<String, Double>> rows = new ArrayList<>();
        for (Map.Entry<String, Long> e : large.entrySet()) {
            long d = e.getValue() - small.getOrDefault(e.getKey(), 0L);
            if (d > 0) {
                rows.add(Map.entry(e.getKey(), d / ops));
            }
        }
        rows.sort(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder())
                .thenComparing(Map.Entry.comparingByKey()));
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : rows) {
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
