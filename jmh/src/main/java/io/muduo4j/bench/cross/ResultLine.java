package io.muduo4j.bench.cross;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * The {@code RESULT key=value key=value ...} line every client program prints last (ours and any
 * plug-in load generator). Only the last RESULT line of an output counts; tokens without {@code =}
 * are ignored, so a free-form word between the pairs does no harm.
 */
final class ResultLine {
    private final Map<String, String> values;

    private ResultLine(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** The last line of {@code output} that starts with {@code RESULT}, parsed; null if there is none. */
    static ResultLine parseLast(String output) {
        String last = null;
        for (String line : output.split("\\R")) {
            String t = line.trim();
            if (t.equals("RESULT") || t.startsWith("RESULT ")) {
                last = t;
            }
        }
        return last == null ? null : parse(last);
    }

    /** One RESULT line; throws {@link IllegalArgumentException} if it does not start with RESULT. */
    static ResultLine parse(String line) {
        String t = line.trim();
        if (!(t.equals("RESULT") || t.startsWith("RESULT "))) {
            throw new IllegalArgumentException("not a RESULT line: " + line);
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (String tok : t.substring("RESULT".length()).trim().split("\\s+")) {
            int eq = tok.indexOf('=');
            if (eq > 0) {
                m.put(tok.substring(0, eq), tok.substring(eq + 1));
            }
        }
        return new ResultLine(m);
    }

    Map<String, String> values() {
        return values;
    }

    String get(String key) {
        return values.get(key);
    }

    /**
     * The number under the first of {@code keys} that is present and numeric (so a figure can name
     * its own key first and a plug-in's more general key as a fallback); empty if none is.
     */
    OptionalDouble number(String... keys) {
        for (String k : keys) {
            String v = values.get(k);
            if (v != null) {
                try {
                    double d = Double.parseDouble(v);
                    if (!Double.isNaN(d)) {
                        return OptionalDouble.of(d);
                    }
                } catch (NumberFormatException e) {
                    // not a number: try the next key
                }
            }
        }
        return OptionalDouble.empty();
    }
}
