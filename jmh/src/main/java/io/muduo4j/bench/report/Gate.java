package io.muduo4j.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ratio thresholds between implementations measured in the same run. One rule per line
 * ({@code #} starts a comment):
 * <pre>
 *   SELECTOR  IMPL_A/IMPL_B  OP  THRESHOLD
 *   RoundTrip.callerThread                muduo_blocking/netty_nio &lt;= 0.7
 *   Connect.connect:avgt                  muduo_blocking/jdk       &lt;= 1.5
 *   PingPong.pingpong[connections=10]     muduo_blocking/netty_nio &gt;= 1.2
 * </pre>
 * SELECTOR is {@code Class.method} (class without the {@code Benchmark} suffix), optionally
 * {@code :mode} (avgt, sample, thrpt, ss; default: avgt, then sample, then thrpt, then ss, whichever
 * the run has) and {@code [param=value,...]} to restrict the parameter cases. The ratio is of the
 * headline figure (time per op, or MiB/s for ping-pong), computed for every matching case; OP is
 * one of {@code <= < >= >}. IMPL_A and IMPL_B are implementation labels as measured; there is
 * no "best of" pseudo-implementation. A rule fails when any case violates it or when the run has no data
 * for it.
 */
final class Gate {
    private static final Pattern RULE = Pattern.compile(
            "^(\\S+)\\s+([a-z0-9_]+)/([a-z0-9_]+)\\s*(<=|>=|<|>)\\s*([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$");
    private static final Pattern SELECTOR = Pattern.compile("^([A-Za-z0-9_]+\\.[A-Za-z0-9_]+)(?::([a-z]+))?(?:\\[([^\\]]*)\\])?$");
    static final List<String> MODE_PREFERENCE = List.of("avgt", "sample", "thrpt", "ss");

    static final class Rule {
        final String text;
        final String benchmark;
        final String mode; // null = preferred
        final Map<String, String> filter;
        final String a;
        final String b;
        final String op;
        final double threshold;

        Rule(String text, String benchmark, String mode, Map<String, String> filter, String a, String b, String op,
             double threshold) {
            this.text = text;
            this.benchmark = benchmark;
            this.mode = mode;
            this.filter = filter;
            this.a = a;
            this.b = b;
            this.op = op;
            this.threshold = threshold;
        }

        boolean holds(double ratio) {
            switch (op) {
                case "<=":
                    return ratio <= threshold;
                case "<":
                    return ratio < threshold;
                case ">=":
                    return ratio >= threshold;
                case ">":
                    return ratio > threshold;
                default:
                    throw new AssertionError(op);
            }
        }
    }

    /** The outcome of one rule for one parameter case. */
    static final class Check {
        final Rule rule;
        final String caseLabel;
        final double ratio; // NaN = no data
        final boolean ok;
        final String note;

        Check(Rule rule, String caseLabel, double ratio, boolean ok, String note) {
            this.rule = rule;
            this.caseLabel = caseLabel;
            this.ratio = ratio;
            this.ok = ok;
            this.note = note;
        }
    }

    static List<Rule> parse(Path file) throws IOException {
        List<Rule> rules = new ArrayList<>();
        int lineNo = 0;
        for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNo++;
            String line = raw.replaceFirst("#.*$", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            Matcher m = RULE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": cannot parse rule '" + line
                        + "' (expected e.g. 'RoundTrip.callerThread muduo_blocking/netty_nio <= 0.7')");
            }
            Matcher s = SELECTOR.matcher(m.group(1));
            if (!s.matches()) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": bad selector '" + m.group(1)
                        + "' (expected Class.method[:mode][param=value,...])");
            }
            String mode = s.group(2);
            if (mode != null && !MODE_PREFERENCE.contains(mode)) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": unknown mode '" + mode + "' (avgt, sample, thrpt, ss)");
            }
            Map<String, String> filter = new LinkedHashMap<>();
            if (s.group(3) != null && !s.group(3).isBlank()) {
                for (String kv : s.group(3).split(",")) {
                    String[] p = kv.trim().split("=", 2);
                    if (p.length != 2) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": bad parameter filter '" + kv + "'");
                    }
                    filter.put(p[0].trim(), p[1].trim());
                }
            }
            rules.add(new Rule(line.replaceAll("\\s+", " "), s.group(1), mode, filter, m.group(2), m.group(3), m.group(4),
                    Double.parseDouble(m.group(5))));
        }
        return rules;
    }

    static String chooseMode(List<Result> results, String benchmark, String wanted) {
        if (wanted != null) {
            return wanted;
        }
        for (String mode : MODE_PREFERENCE) {
            for (Result r : results) {
                if (r.benchmark.equals(benchmark) && r.mode.equals(mode)) {
                    return mode;
                }
            }
        }
        return null;
    }

    private static Double value(Map<String, Result> byImpl, String impl) {
        Result r = byImpl.get(impl);
        return r == null ? null : r.headline();
    }

    static List<Check> evaluate(List<Rule> rules, List<Result> results) {
        List<Check> checks = new ArrayList<>();
        for (Rule rule : rules) {
            String mode = chooseMode(results, rule.benchmark, rule.mode);
            Map<String, Map<String, Result>> cases = new LinkedHashMap<>();
            for (Result r : Report.sorted(results)) {
                if (!r.benchmark.equals(rule.benchmark) || !r.mode.equals(mode)) {
                    continue;
                }
                boolean match = true;
                for (Map.Entry<String, String> f : rule.filter.entrySet()) {
                    if (!f.getValue().equals(r.params.get(f.getKey()))) {
                        match = false;
                    }
                }
                if (match) {
                    cases.computeIfAbsent(r.caseLabel(), k -> new LinkedHashMap<>()).put(r.impl, r);
                }
            }
            if (cases.isEmpty()) {
                checks.add(new Check(rule, "-", Double.NaN, false, "no results for " + rule.benchmark
                        + (mode != null ? " (" + mode + ")" : "") + (rule.filter.isEmpty() ? "" : " " + rule.filter)));
                continue;
            }
            for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
                Double a = value(c.getValue(), rule.a);
                Double b = value(c.getValue(), rule.b);
                if (a == null || b == null || !(b > 0) || a.isNaN()) {
                    checks.add(new Check(rule, c.getKey(), Double.NaN, false,
                            "no result for " + (a == null ? rule.a : rule.b)));
                    continue;
                }
                double ratio = a / b;
                checks.add(new Check(rule, c.getKey(), ratio, rule.holds(ratio), mode));
            }
        }
        return checks;
    }

    static String format(double ratio) {
        return Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.2f", ratio);
    }
}
