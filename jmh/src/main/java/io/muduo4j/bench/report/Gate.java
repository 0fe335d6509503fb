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
 * Rules checked against a run: ratio rules between implementations measured in the same run, and
 * allocation rules. One rule per line ({@code #} starts a comment).
 *
 * <p>Ratio rules ({@code jmh/targets.txt}, {@code --check}/{@code --gate}):
 * <pre>
 *   SELECTOR  IMPL_A/IMPL_B  OP  THRESHOLD
 *   RoundTrip.callerThread                muduo_blocking/netty_nio &lt;= 0.7
 *   PingPong.pingpong[connections=10]     muduo_blocking/netty_nio &gt;= 1.2
 * </pre>
 * SELECTOR is {@code Class.method} (class without the {@code Benchmark} suffix), optionally
 * {@code :mode} (avgt, sample, thrpt, ss; default: avgt, then sample, then thrpt, then ss, whichever
 * the run has) and {@code [param=value,...]} to restrict the parameter cases. The ratio is of the
 * headline figure (time per op, or MiB/s for ping-pong), for every matching case; OP is one of
 * {@code <= < >= >}. The verdict uses the ratio's 95% interval over forks ({@link Stats#ratio}):
 * <b>met</b> when the whole interval satisfies the rule, <b>missed</b> when the whole interval violates
 * it, <b>inconclusive</b> when the interval contains the threshold or there is no interval (fewer than
 * 2 forks), and also inconclusive when either side is flagged by the steady-state check
 * ({@link Stats#drift}): a trend over the iterations breaks the interval's assumption. In a CI smoke run no ratio is evaluated: <b>not measured (CI smoke)</b>. A gate fails on
 * <b>missed</b> and on <b>no data</b> only.
 *
 * <p>Allocation rules ({@code jmh/ci-alloc.txt}, {@code --alloc}):
 * <pre>
 *   SELECTOR  IMPL  &lt;=  BYTES
 *   RoundTrip.onLoop   muduo_*   &lt;= 64
 * </pre>
 * IMPL is a label or a prefix ending in {@code *}. The figure is {@code gc.alloc.rate.norm}: bytes per
 * operation, for ping-pong bytes per block echoed ({@link Result#allocPerOp}). A rule fails when any
 * matching case allocates more, or when no case has allocation data.
 */
final class Gate {
    private static final Pattern RULE = Pattern.compile(
            "^(\\S+)\\s+([a-z0-9_]+)/([a-z0-9_]+)\\s*(<=|>=|<|>)\\s*([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$");
    private static final Pattern ALLOC_RULE = Pattern.compile(
            "^(\\S+)\\s+([a-z0-9_]+\\*?|\\*)\\s*<=\\s*([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$");
    private static final Pattern SELECTOR = Pattern.compile("^([A-Za-z0-9_]+\\.[A-Za-z0-9_]+)(?::([a-z]+))?(?:\\[([^\\]]*)\\])?$");
    static final List<String> MODE_PREFERENCE = List.of("avgt", "sample", "thrpt", "ss");

    /** The outcome of a ratio rule for one case. */
    enum Verdict {
        MET("met"), MISSED("**missed**"), INCONCLUSIVE("inconclusive"), NOT_MEASURED("not measured (CI smoke)"),
        NO_DATA("**no data**");

        final String label;

        Verdict(String label) {
            this.label = label;
        }

        /** Whether a gate fails on this verdict. */
        boolean fails() {
            return this == MISSED || this == NO_DATA;
        }
    }

    /** Benchmark, optional mode and parameter filter. */
    static final class Selector {
        final String benchmark;
        final String mode; // null = preferred
        final Map<String, String> filter;

        Selector(String benchmark, String mode, Map<String, String> filter) {
            this.benchmark = benchmark;
            this.mode = mode;
            this.filter = filter;
        }

        static Selector parse(String text, String where) {
            Matcher s = SELECTOR.matcher(text);
            if (!s.matches()) {
                throw new IllegalArgumentException(where + ": bad selector '" + text
                        + "' (expected Class.method[:mode][param=value,...])");
            }
            String mode = s.group(2);
            if (mode != null && !MODE_PREFERENCE.contains(mode)) {
                throw new IllegalArgumentException(where + ": unknown mode '" + mode + "' (avgt, sample, thrpt, ss)");
            }
            Map<String, String> filter = new LinkedHashMap<>();
            if (s.group(3) != null && !s.group(3).isBlank()) {
                for (String kv : s.group(3).split(",")) {
                    String[] p = kv.trim().split("=", 2);
                    if (p.length != 2) {
                        throw new IllegalArgumentException(where + ": bad parameter filter '" + kv + "'");
                    }
                    filter.put(p[0].trim(), p[1].trim());
                }
            }
            return new Selector(s.group(1), mode, filter);
        }

        /** Matching results grouped by case label, then implementation, in display order. */
        Map<String, Map<String, Result>> cases(List<Result> results) {
            String m = chooseMode(results, benchmark, mode);
            Map<String, Map<String, Result>> cases = new LinkedHashMap<>();
            for (Result r : Report.sorted(results)) {
                if (!r.benchmark.equals(benchmark) || !r.mode.equals(m)) {
                    continue;
                }
                boolean match = true;
                for (Map.Entry<String, String> f : filter.entrySet()) {
                    if (!f.getValue().equals(r.params.get(f.getKey()))) {
                        match = false;
                    }
                }
                if (match) {
                    cases.computeIfAbsent(r.caseLabel(), k -> new LinkedHashMap<>()).put(r.impl, r);
                }
            }
            return cases;
        }

        String describe(List<Result> results) {
            String m = chooseMode(results, benchmark, mode);
            return benchmark + (m != null ? " (" + m + ")" : "") + (filter.isEmpty() ? "" : " " + filter);
        }
    }

    static final class Rule {
        final String text;
        final Selector selector;
        final String a;
        final String b;
        final String op;
        final double threshold;

        Rule(String text, Selector selector, String a, String b, String op, double threshold) {
            this.text = text;
            this.selector = selector;
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

        /** met if both ends of the interval hold, missed if neither does, else inconclusive. */
        Verdict verdict(Stats.Estimate ratio, boolean smoke) {
            if (Double.isNaN(ratio.value)) {
                return Verdict.NO_DATA;
            }
            if (smoke) {
                return Verdict.NOT_MEASURED;
            }
            if (!ratio.hasInterval()) {
                return Verdict.INCONCLUSIVE;
            }
            boolean lo = holds(ratio.lo);
            boolean hi = holds(ratio.hi);
            if (lo && hi) {
                return Verdict.MET;
            }
            if (!lo && !hi) {
                return Verdict.MISSED;
            }
            return Verdict.INCONCLUSIVE;
        }
    }

    /** The outcome of one ratio rule for one parameter case. */
    static final class Check {
        final Rule rule;
        final String caseLabel;
        final Stats.Estimate ratio;
        final Verdict verdict;
        final String note;

        Check(Rule rule, String caseLabel, Stats.Estimate ratio, Verdict verdict, String note) {
            this.rule = rule;
            this.caseLabel = caseLabel;
            this.ratio = ratio;
            this.verdict = verdict;
            this.note = note;
        }
    }

    static final class AllocRule {
        final String text;
        final Selector selector;
        final String impl;
        final double maxBytes;

        AllocRule(String text, Selector selector, String impl, double maxBytes) {
            this.text = text;
            this.selector = selector;
            this.impl = impl;
            this.maxBytes = maxBytes;
        }

        boolean matches(String label) {
            if (impl.endsWith("*")) {
                return label.startsWith(impl.substring(0, impl.length() - 1));
            }
            return impl.equals(label);
        }
    }

    /** The outcome of one allocation rule for one case and implementation. */
    static final class AllocCheck {
        final AllocRule rule;
        final String caseLabel;
        final String impl;
        final double bytes; // NaN = no data
        final boolean ok;

        AllocCheck(AllocRule rule, String caseLabel, String impl, double bytes, boolean ok) {
            this.rule = rule;
            this.caseLabel = caseLabel;
            this.impl = impl;
            this.bytes = bytes;
            this.ok = ok;
        }
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    static List<Rule> parse(Path file) throws IOException {
        List<Rule> rules = new ArrayList<>();
        int lineNo = 0;
        for (String raw : lines(file)) {
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
            rules.add(new Rule(line.replaceAll("\\s+", " "), Selector.parse(m.group(1), file + ":" + lineNo),
                    m.group(2), m.group(3), m.group(4), Double.parseDouble(m.group(5))));
        }
        return rules;
    }

    static List<AllocRule> parseAlloc(Path file) throws IOException {
        List<AllocRule> rules = new ArrayList<>();
        int lineNo = 0;
        for (String raw : lines(file)) {
            lineNo++;
            String line = raw.replaceFirst("#.*$", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            Matcher m = ALLOC_RULE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException(file + ":" + lineNo + ": cannot parse allocation rule '" + line
                        + "' (expected e.g. 'RoundTrip.onLoop muduo_* <= 64')");
            }
            rules.add(new AllocRule(line.replaceAll("\\s+", " "), Selector.parse(m.group(1), file + ":" + lineNo),
                    m.group(2), Double.parseDouble(m.group(3))));
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

    /** Ratio rules; {@code smoke}: a CI smoke run, where no ratio is evaluated. */
    static List<Check> evaluate(List<Rule> rules, List<Result> results, boolean smoke) {
        List<Check> checks = new ArrayList<>();
        Stats.Estimate none = new Stats.Estimate(Double.NaN, Double.NaN, Double.NaN, 0);
        for (Rule rule : rules) {
            Map<String, Map<String, Result>> cases = rule.selector.cases(results);
            if (cases.isEmpty()) {
                checks.add(new Check(rule, "-", none, Verdict.NO_DATA, "no results for " + rule.selector.describe(results)));
                continue;
            }
            for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
                Result a = c.getValue().get(rule.a);
                Result b = c.getValue().get(rule.b);
                if (a == null || b == null) {
                    checks.add(new Check(rule, c.getKey(), none, Verdict.NO_DATA, "no result for " + (a == null ? rule.a : rule.b)));
                    continue;
                }
                Stats.Estimate ratio = ratio(a, b);
                Verdict v = rule.verdict(ratio, smoke);
                String note = v == Verdict.NO_DATA ? "no usable score" : !ratio.hasInterval() && !smoke
                        ? "fewer than 2 forks: no interval" : "";
                String drifting = drifting(a, b);
                if ((v == Verdict.MET || v == Verdict.MISSED) && drifting != null) {
                    v = Verdict.INCONCLUSIVE; // the interval assumes steady iterations; a trend breaks that
                    note = drifting;
                }
                checks.add(new Check(rule, c.getKey(), ratio, v, note));
            }
        }
        return checks;
    }

    /** Which side of a ratio is not steady, or null when both are. */
    static String drifting(Result a, Result b) {
        StringBuilder why = new StringBuilder();
        for (Result r : List.of(a, b)) {
            Stats.Drift d = r.drift();
            if (d.flagged) {
                why.append(why.length() == 0 ? "not steady: " : ", ").append(r.impl).append(' ').append(d.label());
            }
        }
        return why.length() == 0 ? null : why.toString();
    }

    /** a/b of the headline figure, with the interval over forks. */
    static Stats.Estimate ratio(Result a, Result b) {
        if (a.iterations.isEmpty() || b.iterations.isEmpty()) {
            double r = b.headline() > 0 ? a.headline() / b.headline() : Double.NaN;
            return new Stats.Estimate(r, Double.NaN, Double.NaN, 1);
        }
        return Stats.ratio(a.forkMeans(), b.forkMeans());
    }

    static List<AllocCheck> evaluateAlloc(List<AllocRule> rules, List<Result> results) {
        List<AllocCheck> checks = new ArrayList<>();
        for (AllocRule rule : rules) {
            int before = checks.size();
            for (Map.Entry<String, Map<String, Result>> c : rule.selector.cases(results).entrySet()) {
                for (Map.Entry<String, Result> e : c.getValue().entrySet()) {
                    if (!rule.matches(e.getKey())) {
                        continue;
                    }
                    double bytes = e.getValue().allocPerOp();
                    checks.add(new AllocCheck(rule, c.getKey(), e.getKey(), bytes, bytes <= rule.maxBytes));
                }
            }
            if (checks.size() == before) {
                checks.add(new AllocCheck(rule, "-", rule.impl, Double.NaN, false));
            }
        }
        return checks;
    }

    static String format(double ratio) {
        return Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.2f", ratio);
    }

    /** "0.83 [0.78, 0.88]", or "0.83 (no interval)". */
    static String format(Stats.Estimate e) {
        if (Double.isNaN(e.value)) {
            return "n/a";
        }
        if (!e.hasInterval()) {
            return format(e.value) + " (no interval)";
        }
        return format(e.value) + " [" + format(e.lo) + ", " + format(e.hi) + "]";
    }
}
