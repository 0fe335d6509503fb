package io.muduo4j.bench.report;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * What a JMH command line would run, without running it: the runs (benchmark x mode x parameter
 * case), forks and iterations, from the jar's benchmark list and the same options JMH parses, and an
 * estimate of the wall-clock time. {@code jmh/bench.sh} prints it before starting and passes the run
 * keys to {@link Report} ({@code --expect}), which reports every planned run without a result as a
 * failed benchmark.
 *
 * <pre>
 *   java -cp benchmarks.jar io.muduo4j.bench.report.Plan [--expect FILE] [--seconds FILE] [--overhead SECONDS] -- JMH_ARGS...
 * </pre>
 * The estimate per fork is warm-up + measurement time + a fixed overhead (JVM start, set-up, tear-down;
 * {@value #DEFAULT_OVERHEAD_S} s by default, measured on the 2-core development VM).
 */
public final class Plan {
    static final double DEFAULT_OVERHEAD_S = 1.5;
    // JMH's defaults when neither the annotations nor the command line say otherwise
    private static final int DEFAULT_FORKS = 5;
    private static final int DEFAULT_ITERATIONS = 5;
    private static final TimeValue DEFAULT_TIME = TimeValue.seconds(10);

    /** One planned run: a benchmark in one mode with one parameter combination. */
    static final class Run {
        final String key;
        final String group;
        final int forks;
        final int warmupIterations;
        final double warmupSeconds;
        final int iterations;
        final double measurementSeconds;

        Run(String key, String group, int forks, int warmupIterations, double warmupSeconds, int iterations,
            double measurementSeconds) {
            this.key = key;
            this.group = group;
            this.forks = forks;
            this.warmupIterations = warmupIterations;
            this.warmupSeconds = warmupSeconds;
            this.iterations = iterations;
            this.measurementSeconds = measurementSeconds;
        }

        double seconds(double overhead) {
            return forks * (warmupIterations * warmupSeconds + iterations * measurementSeconds + overhead);
        }

        String config() {
            return String.format(Locale.ROOT, "%d fork%s, warm-up %d x %s s, measurement %d x %s s", forks,
                    forks == 1 ? "" : "s", warmupIterations, trim(warmupSeconds), iterations, trim(measurementSeconds));
        }
    }

    private static String trim(double s) {
        return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
    }

    private static double seconds(TimeValue t) {
        return t.convertTo(TimeUnit.NANOSECONDS) / 1e9;
    }

    static List<Run> plan(String... jmhArgs) throws CommandLineOptionException {
        CommandLineOptions o = new CommandLineOptions(jmhArgs);
        List<String> includes = new ArrayList<>(o.getIncludes());
        if (includes.isEmpty()) {
            includes.add(".*");
        }
        BenchmarkList list = BenchmarkList.defaultList();
        List<Run> runs = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (BenchmarkListEntry e : list.find(OutputFormatFactory.createFormatInstance(
                new PrintStream(PrintStream.nullOutputStream()), VerboseMode.SILENT), includes, o.getExcludes())) {
            List<Mode> modes = new ArrayList<>();
            if (!o.getBenchModes().isEmpty()) {
                modes.addAll(o.getBenchModes());
            } else if (e.getMode() == Mode.All) {
                for (Mode m : Mode.values()) {
                    if (m != Mode.All) {
                        modes.add(m);
                    }
                }
            } else {
                modes.add(e.getMode());
            }
            // parameter cases: the annotation's values, replaced by -p for the parameters the benchmark has
            List<Map<String, String>> cases = new ArrayList<>();
            cases.add(new TreeMap<>());
            if (e.getParams().hasValue()) {
                for (Map.Entry<String, String[]> p : new TreeMap<>(e.getParams().get()).entrySet()) {
                    Collection<String> values = o.getParameter(p.getKey()).hasValue()
                            ? o.getParameter(p.getKey()).get() : List.of(p.getValue());
                    List<Map<String, String>> next = new ArrayList<>();
                    for (Map<String, String> c : cases) {
                        for (String v : values) {
                            Map<String, String> n = new TreeMap<>(c);
                            n.put(p.getKey(), v);
                            next.add(n);
                        }
                    }
                    cases = next;
                }
            }
            String shortName = Result.shortName(e.getUsername());
            for (Mode m : modes) {
                boolean ss = m == Mode.SingleShotTime;
                int forks = o.getForkCount().orElse(e.getForks().orElse(DEFAULT_FORKS));
                int wi = o.getWarmupIterations().orElse(e.getWarmupIterations().orElse(ss ? 0 : DEFAULT_ITERATIONS));
                double w = ss ? 0 : seconds(o.getWarmupTime().orElse(e.getWarmupTime().orElse(DEFAULT_TIME)));
                int i = o.getMeasurementIterations().orElse(e.getMeasurementIterations().orElse(ss ? 1 : DEFAULT_ITERATIONS));
                double r = ss ? 0 : seconds(o.getMeasurementTime().orElse(e.getMeasurementTime().orElse(DEFAULT_TIME)));
                for (Map<String, String> c : cases) {
                    if (!seen.add(Result.key(shortName, m.shortLabel(), c))) {
                        continue; // -bm maps several annotated modes onto one: JMH runs it once
                    }
                    runs.add(new Run(Result.key(shortName, m.shortLabel(), c), shortName + ":" + m.shortLabel(),
                            Math.max(forks, 1), wi, w, i, r));
                }
            }
        }
        return runs;
    }

    /** "about 23 min (1,380 s)". */
    static String duration(double seconds) {
        if (seconds < 120) {
            return String.format(Locale.ROOT, "about %.0f s", seconds);
        }
        return String.format(Locale.ROOT, "about %.0f min (%,.0f s)", seconds / 60, seconds);
    }

    /** Prints one line per benchmark group and the total; returns the estimated seconds. */
    static double describe(List<Run> runs, double overhead, PrintStream out) {
        Map<String, List<Run>> groups = new LinkedHashMap<>();
        for (Run r : runs) {
            groups.computeIfAbsent(r.group + " | " + r.config(), k -> new ArrayList<>()).add(r);
        }
        double total = 0;
        int forks = 0;
        for (Map.Entry<String, List<Run>> g : groups.entrySet()) {
            double s = 0;
            for (Run r : g.getValue()) {
                s += r.seconds(overhead);
                forks += r.forks;
            }
            total += s;
            String[] parts = g.getKey().split(" \\| ", 2);
            out.printf(Locale.ROOT, "   %-28s %3d runs x %s: %s%n", parts[0], g.getValue().size(), parts[1], duration(s));
        }
        out.printf(Locale.ROOT, "   total: %d runs, %d forks, %s (%.1f s per fork for JVM start and set-up)%n",
                runs.size(), forks, duration(total), overhead);
        return total;
    }

    public static void main(String[] args) throws Exception {
        Path expect = null;
        Path secondsFile = null;
        double overhead = DEFAULT_OVERHEAD_S;
        int i = 0;
        for (; i < args.length; i++) {
            if (args[i].equals("--expect") && i + 1 < args.length) {
                expect = Path.of(args[++i]);
            } else if (args[i].equals("--seconds") && i + 1 < args.length) {
                secondsFile = Path.of(args[++i]);
            } else if (args[i].equals("--overhead") && i + 1 < args.length) {
                overhead = Double.parseDouble(args[++i]);
            } else if (args[i].equals("--")) {
                i++;
                break;
            } else {
                System.err.println("Plan: unknown argument " + args[i]
                        + " (usage: Plan [--expect FILE] [--seconds FILE] [--overhead SECONDS] -- JMH_ARGS...)");
                System.exit(2);
            }
        }
        String[] jmh = java.util.Arrays.copyOfRange(args, i, args.length);
        List<Run> runs;
        try {
            runs = plan(jmh);
        } catch (CommandLineOptionException ex) {
            System.err.println("Plan: bad JMH arguments: " + ex.getMessage());
            System.exit(2);
            return;
        }
        double total = describe(runs, overhead, System.out);
        if (secondsFile != null) {
            Files.writeString(secondsFile, String.valueOf(Math.round(total)), StandardCharsets.UTF_8);
        }
        if (expect != null) {
            StringBuilder sb = new StringBuilder();
            for (Run r : runs) {
                sb.append(r.key).append('\n');
            }
            Files.writeString(expect, sb.toString(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    private Plan() {
    }
}
