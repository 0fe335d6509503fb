package io.muduo4j.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Turns a JMH JSON result file into {@code README.md} (muduo4j vs each peer as ratios, allocation
 * per operation, optional target checks) and {@code chart.png} (JFreeChart bar charts), and
 * optionally fails on a ratio gate. Used by {@code jmh/bench.sh}; run it headless
 * ({@code -Djava.awt.headless=true}).
 */
@Command(name = "Report", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Summarises a JMH JSON result: writes README.md and chart.png, prints the tables, "
                + "and exits 3 if a --gate rule is violated.")
public final class Report implements Callable<Integer> {
    static final List<String> IMPLS = List.of("muduo_blocking", "muduo_spinning", "muduo_epoll", "netty_nio", "netty_epoll",
            "netty_io_uring", "netty_epoll_busy", "jdk", "jdk_virtual");
    /**
     * The like-for-like ratios: each muduo4j mode against the peers of the same kind. Blocking
     * muduo4j against the peers whose loops block (or whose threads block in the kernel); spinning
     * muduo4j against Netty epoll whose client loop busy-polls too.
     */
    static final List<String[]> PAIRS = List.of(
            new String[] {"muduo_blocking", "netty_nio"},
            new String[] {"muduo_blocking", "netty_epoll"},
            new String[] {"muduo_blocking", "netty_io_uring"},
            new String[] {"muduo_blocking", "jdk"},
            new String[] {"muduo_blocking", "jdk_virtual"},
            new String[] {"muduo_spinning", "netty_epoll_busy"},
            new String[] {"muduo_epoll", "netty_nio"},
            new String[] {"muduo_epoll", "netty_epoll"},
            new String[] {"muduo_epoll", "netty_io_uring"},
            new String[] {"muduo_epoll", "jdk"});
    /** mb, ms, me: the short name of a muduo4j implementation in ratio columns. */
    static String abbreviation(String impl) {
        switch (impl) {
            case "muduo_blocking":
                return "mb";
            case "muduo_spinning":
                return "ms";
            default:
                return "me";
        }
    }

    static final List<String> BENCH_ORDER = List.of("Connect.connect", "RoundTrip.callerThread", "RoundTrip.onLoop",
            "PingPong.pingpong");

    @Option(names = "--json", required = true, paramLabel = "FILE",
            description = "JMH result (-rf json); repeat to merge several runs (each run's rows are kept as they are).")
    List<Path> json;

    @Option(names = "--merged", paramLabel = "FILE", description = "Write the rows of all --json files into this one JMH JSON file.")
    Path merged;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where README.md and chart.png go.")
    Path out;

    @Option(names = "--title", defaultValue = "muduo4j benchmark results", paramLabel = "TEXT", description = "README title.")
    String title;

    @Option(names = "--machine", paramLabel = "FILE", description = "Machine description to include (machine.txt).")
    Path machine;

    @Option(names = "--command", paramLabel = "FILE", description = "The exact command that produced the run (command.txt).")
    Path command;

    @Option(names = "--note", paramLabel = "TEXT", description = "A paragraph placed under the title.")
    String note;

    @Option(names = "--smoke", description = "A CI smoke run: no ratio is evaluated (\"not measured (CI smoke)\"), never \"met\".")
    boolean smoke;

    @Option(names = "--check", paramLabel = "FILE", description = "Ratio rules to report on (informational).")
    Path check;

    @Option(names = "--gate", paramLabel = "FILE", description = "Ratio rules to enforce: exit 3 if one is missed (or has no data).")
    Path gate;

    @Option(names = "--alloc", paramLabel = "FILE", description = "Allocation rules to enforce: exit 4 if one is exceeded.")
    Path alloc;

    @Option(names = "--expect", paramLabel = "FILE",
            description = "Runs that must have a result (one key a line, from Plan --expect): exit 1 if one is missing.")
    Path expect;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cl = new CommandLine(new Report());
        cl.setExecutionExceptionHandler((ex, c, p) -> {
            c.getErr().println("Report: error: " + ex);
            return 1;
        });
        System.exit(cl.execute(args));
    }

    /** Exit status: 0 all good, 1 a benchmark failed (no result), 3 a ratio rule missed, 4 an allocation rule exceeded. */
    @Override
    public Integer call() throws IOException {
        List<Result> results = new ArrayList<>();
        for (Path j : json) {
            results.addAll(Result.load(j));
        }
        if (merged != null) {
            merge(json, merged);
        }
        if (results.isEmpty()) {
            throw new IOException(json + " holds no results");
        }
        Files.createDirectories(out);
        String md = markdown(results);
        Files.writeString(out.resolve("README.md"), md, StandardCharsets.UTF_8);
        Charts.write(panels, IMPLS, out.resolve("chart.png"));
        System.out.println(md);
        System.out.println("wrote " + out.resolve("README.md") + " and " + out.resolve("chart.png"));
        return exitStatus();
    }

    private final List<Charts.Panel> panels = new ArrayList<>();
    List<String> missing = List.of();
    List<Gate.Check> gateChecks;
    List<Gate.AllocCheck> allocChecks;

    /** The README text; fills {@link #missing}, {@link #gateChecks} and {@link #allocChecks} as a side effect. */
    String markdown(List<Result> results) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# ").append(title).append("\n\n");
        if (note != null && !note.isBlank()) {
            md.append(note.trim()).append("\n\n");
        }
        md.append("Generated by `io.muduo4j.bench.report.Report` from ");
        for (int i = 0; i < json.size(); i++) {
            md.append(i == 0 ? "" : ", ").append('`').append(json.get(i).getFileName()).append('`');
        }
        md.append(" (").append(jmhSummary(results)).append("). Do not edit the numbers: re-run the command.\n\n");
        if (machine != null && Files.exists(machine)) {
            md.append("## Machine\n\n```\n").append(Files.readString(machine, StandardCharsets.UTF_8).trim()).append("\n```\n\n");
        }
        if (command != null && Files.exists(command)) {
            md.append("## Command\n\n```\n").append(Files.readString(command, StandardCharsets.UTF_8).trim()).append("\n```\n\n");
        }
        if (expect != null) {
            Set<String> have = new LinkedHashSet<>();
            for (Result r : results) {
                have.add(r.key());
            }
            List<String> miss = new ArrayList<>();
            for (String line : Files.readAllLines(expect, StandardCharsets.UTF_8)) {
                String k = line.trim();
                if (!k.isEmpty() && !k.startsWith("#") && !have.contains(k)) {
                    miss.add(k);
                }
            }
            missing = miss;
            md.append("## Benchmarks that failed\n\n");
            if (miss.isEmpty()) {
                md.append("None: every planned run (").append(have.size()).append(") has a result.\n\n");
            } else {
                md.append(miss.size()).append(" planned runs have no result (the benchmark failed; see jmh-output.txt):\n\n");
                for (String k : miss) {
                    md.append("- `").append(k).append("`\n");
                }
                md.append('\n');
            }
        }
        int minForks = results.stream().mapToInt(Result::forks).min().orElse(0);
        int maxForks = results.stream().mapToInt(Result::forks).max().orElse(0);
        md.append("## How to read\n\n")
                .append("- **Like for like.** Every implementation runs in the same topology: client and server on separate ")
                .append("loops or threads, against the same implementation's in-process echo server on 127.0.0.1, in the same run. ")
                .append("Each muduo4j mode is only divided by the peers of the same kind: `mb` = muduo_blocking by the peers whose ")
                .append("loops or threads block when idle (Netty NIO, epoll, io_uring, JDK, JDK virtual threads); `ms` = ")
                .append("muduo_spinning by Netty epoll whose client loop busy-polls (netty_epoll_busy); `me` = muduo_epoll (the native epoll transport, blocking loops, JDK 22+) by the blocking peers. No best-of-modes figure.\n")
                .append("- **Forks.** This run has ").append(minForks == maxForks ? String.valueOf(minForks) : minForks + " to " + maxForks)
                .append(" fork(s) per row. A fork is one JVM; each contributes its mean over the measured iterations. ")
                .append("Scores are the mean of the per-fork means ± the half-width of its 95% Student-t interval over forks; ")
                .append("with one fork there is no interval (\"1 fork\"), and such a figure is not for claims. ")
                .append("`sample` rows add (p50 / p99) of all samples of all forks pooled, as JMH computes them.\n")
                .append("- **Ratios** are muduo4j / peer of the headline figure, with a 95% interval [low, high]: the ratio of the ")
                .append("means of per-fork means, its interval on the log scale by the delta method with Welch-Satterthwaite ")
                .append("degrees of freedom (`jmh/README.md`, \"Statistics\"). For times (us/op) **below 1 means muduo4j is faster**; ")
                .append("for ping-pong throughput (MiB/s, bytes read / s / 2^20 as muduo computes it) **above 1 means muduo4j is faster**.\n")
                .append("- **Verdicts** (targets): *met* when the whole interval satisfies the target, *missed* when the whole ")
                .append("interval violates it, *inconclusive* when the interval contains the target or there is no interval")
                .append(smoke ? "; in this CI smoke run no ratio is evaluated: *not measured (CI smoke)*" : "").append(".\n")
                .append("- **Steady state**: per fork, the log scores of the measured iterations are regressed on their index; ")
                .append("\"falling X%\" / \"rising X%\" means the fitted score still changed by at least ")
                .append(String.format(Locale.ROOT, "%.0f%%", Stats.DRIFT_THRESHOLD * 100))
                .append(" from the first to the last measured iteration, significantly (5% level) over all forks, or that the first ")
                .append("measured iteration was off the others by ")
                .append(String.format(Locale.ROOT, "%.0f%%", Stats.FIRST_THRESHOLD * 100))
                .append(" or more in the same direction in every fork. Moving the way a warm-up moves (time falling, throughput ")
                .append("rising) means the warm-up was too short; moving the other way means the figure is unstable. Either makes ")
                .append("a verdict on that row *inconclusive*. ")
                .append("\"steady\" otherwise; \"n/a\" with fewer than 3 iterations. Flagged rows are listed under \"Steady state summary\".\n")
                .append("- Allocation is JMH `-prof gc` `gc.alloc.rate.norm` over all threads of the fork (client, ")
                .append("server, JMH): bytes per operation; for ping-pong bytes per block echoed.\n\n")
                .append("![chart](chart.png)\n\n");
        List<String> warming = new ArrayList<>();
        List<String> unstable = new ArrayList<>();
        for (Map.Entry<String, List<Result>> group : groups(results).entrySet()) {
            table(md, group.getValue(), warming, unstable);
        }
        md.append("## Steady state summary\n\n");
        if (warming.isEmpty() && unstable.isEmpty()) {
            md.append("No row is still falling or rising over its measured iterations.\n\n");
        }
        driftList(md, warming, " still improving over the measured iterations (the warm-up was too short for them):");
        driftList(md, unstable, " getting worse over the measured iterations (not a warm-up effect; unstable on this machine):");
        if (check != null) {
            section(md, "Targets (informational, from " + check.getFileName() + ")", Gate.evaluate(Gate.parse(check), results, smoke));
        }
        if (gate != null) {
            gateChecks = Gate.evaluate(Gate.parse(gate), results, smoke);
            section(md, "Ratio gate (" + gate.getFileName() + "): fails on missed or no data", gateChecks);
        }
        if (alloc != null) {
            allocChecks = Gate.evaluateAlloc(Gate.parseAlloc(alloc), results);
            md.append("## Allocation gate (").append(alloc.getFileName()).append(")\n\n| rule | case | impl | bytes | result |\n")
                    .append("|---|---|---|---:|---|\n");
            for (Gate.AllocCheck c : allocChecks) {
                md.append("| `").append(c.rule.text).append("` | ").append(c.caseLabel).append(" | ").append(c.impl)
                        .append(" | ").append(num(c.bytes)).append(" | ")
                        .append(c.ok ? "ok" : Double.isNaN(c.bytes) ? "**no data**" : "**exceeded**").append(" |\n");
            }
            md.append('\n');
        }
        files(md);
        return md.toString();
    }

    /** What is kept beside the README, how to regenerate it, and the size budget of committed results. */
    private void files(StringBuilder md) {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < json.size(); i++) {
            names.append(i == 0 ? "" : ", ").append('`').append(json.get(i).getFileName()).append('`');
        }
        md.append("## Files\n\n")
                .append("This report reads ").append(names).append(". `jmh/bench.sh` keeps JMH's JSON result there without ")
                .append("the per-sample histograms of `sample` rows: `io.muduo4j.bench.report.SlimResult` replaces each ")
                .append("`rawDataHistogram` by its iteration means (`rawData`) and keeps every other field, so nothing this ")
                .append("report shows is lost (its p50 / p99 are JMH's `scorePercentiles`); the full JSON it leaves under ")
                .append("`jmh/target/raw-results/` on the machine that ran it, never committed. ")
                .append("`jmh/bench.sh --report-only --out DIR` regenerates this README and `chart.png` from the files beside ")
                .append("them, with the current `jmh/targets.txt` (`jmh/README.md`, \"What gets written\"). ")
                .append("Size budget of the committed results in `perf-results/`, checked by `PerfResultsBudgetTest`: ")
                .append(SizeBudget.text()).append(".\n");
    }

    /** 1 if a planned run failed, else 4 if an allocation rule failed, else 3 if a ratio gate rule failed, else 0. */
    int exitStatus() {
        int status = 0;
        if (gateChecks != null) {
            long failed = gateChecks.stream().filter(c -> c.verdict.fails()).count();
            long inconclusive = gateChecks.stream().filter(c -> c.verdict == Gate.Verdict.INCONCLUSIVE
                    || c.verdict == Gate.Verdict.NOT_MEASURED).count();
            if (failed > 0) {
                System.err.println("ratio gate: " + failed + " of " + gateChecks.size() + " checks failed (missed or no data)");
                status = 3;
            } else {
                System.out.println("ratio gate: passed (" + gateChecks.size() + " checks, " + inconclusive
                        + " inconclusive or not measured: they do not fail the gate)");
            }
        }
        if (allocChecks != null) {
            long failed = allocChecks.stream().filter(c -> !c.ok).count();
            if (failed > 0) {
                System.err.println("allocation gate: " + failed + " of " + allocChecks.size() + " checks failed");
                status = 4;
            } else {
                System.out.println("allocation gate: all " + allocChecks.size() + " checks passed");
            }
        }
        if (!missing.isEmpty()) {
            System.err.println("benchmarks: " + missing.size() + " planned runs have no result (failed)");
            status = 1;
        }
        return status;
    }

    static void merge(List<Path> files, Path target) throws IOException {
        com.google.gson.JsonArray all = new com.google.gson.JsonArray();
        for (Path f : files) {
            all.addAll(com.google.gson.JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8)).getAsJsonArray());
        }
        Files.writeString(target, new com.google.gson.GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(all) + "\n", StandardCharsets.UTF_8);
    }

    private String jmhSummary(List<Result> results) throws IOException {
        com.google.gson.JsonArray a = com.google.gson.JsonParser.parseString(
                Files.readString(json.get(0), StandardCharsets.UTF_8)).getAsJsonArray();
        com.google.gson.JsonObject o = a.get(0).getAsJsonObject();
        Set<String> configs = new LinkedHashSet<>();
        for (Result r : results) {
            configs.add(r.config);
        }
        return "JMH " + o.get("jmhVersion").getAsString() + ", JDK " + o.get("jdkVersion").getAsString() + ", "
                + o.get("vmName").getAsString() + "; " + String.join("; ", configs);
    }

    /** Results in display order: benchmark, mode, numeric parameter values, implementation. */
    static List<Result> sorted(List<Result> results) {
        List<Result> l = new ArrayList<>(results);
        Comparator<Result> byBench = Comparator.comparingInt(r -> {
            int i = BENCH_ORDER.indexOf(r.benchmark);
            return i < 0 ? BENCH_ORDER.size() : i;
        });
        l.sort(byBench.thenComparing(r -> r.benchmark)
                .thenComparingInt(r -> Gate.MODE_PREFERENCE.indexOf(r.mode))
                .thenComparing(Report::paramKey)
                .thenComparingInt(r -> IMPLS.indexOf(r.impl)));
        return l;
    }

    private static String paramKey(Result r) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> p : r.params.entrySet()) {
            String v = p.getValue();
            sb.append(p.getKey()).append('=');
            sb.append(v.matches("\\d+") ? String.format("%012d", Long.parseLong(v)) : v).append(';');
        }
        return sb.toString();
    }

    private static Map<String, List<Result>> groups(List<Result> results) {
        Map<String, List<Result>> g = new LinkedHashMap<>();
        for (Result r : sorted(results)) {
            g.computeIfAbsent(r.benchmark + ":" + r.mode, k -> new ArrayList<>()).add(r);
        }
        return g;
    }

    private static String num(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String scoreCell(Result r) {
        if (r == null) {
            return "-";
        }
        Stats.Estimate e = r.estimate();
        StringBuilder sb = new StringBuilder(num(e.value));
        if (e.hasInterval()) {
            sb.append(" ± ").append(num((e.hi - e.lo) / 2));
        } else {
            sb.append(" (1 fork)");
        }
        if (r.mode.equals("sample") && !r.percentiles.isEmpty()) {
            sb.append(" (").append(num(r.percentiles.getOrDefault("50.0", Double.NaN)))
                    .append(" / ").append(num(r.percentiles.getOrDefault("99.0", Double.NaN))).append(')');
        }
        return sb.toString();
    }

    private static void header(StringBuilder md, Iterable<String> columns, int n) {
        md.append("| case |");
        for (String c : columns) {
            md.append(' ').append(c.isEmpty() ? "score" : c).append(" |"); // benchmarks without an impl parameter
        }
        md.append('\n').append("|---|").append("---:|".repeat(n)).append('\n');
    }

    private static void driftList(StringBuilder md, List<String> rows, String what) {
        if (rows.isEmpty()) {
            return;
        }
        md.append(rows.size()).append(" row(s)").append(what).append("\n\n");
        for (String u : rows) {
            md.append("- ").append(u).append('\n');
        }
        md.append('\n');
    }

    private void table(StringBuilder md, List<Result> rows, List<String> warming, List<String> unstable) {
        Result first = rows.get(0);
        boolean higher = first.higherIsBetter();
        Map<String, Map<String, Result>> cases = new LinkedHashMap<>();
        Set<String> impls = new LinkedHashSet<>();
        Set<String> configs = new LinkedHashSet<>();
        for (Result r : rows) {
            cases.computeIfAbsent(r.caseLabel(), k -> new LinkedHashMap<>()).put(r.impl, r);
            configs.add(r.config);
        }
        for (String i : IMPLS) {
            for (Result r : rows) {
                if (r.impl.equals(i)) {
                    impls.add(i);
                }
            }
        }
        for (Result r : rows) {
            impls.add(r.impl); // unknown implementations last
        }
        String unit = first.headlineUnit();
        md.append("## ").append(first.benchmark).append(" (").append(first.mode).append(", ").append(unit)
                .append(higher ? ", higher is better" : ", lower is better").append(")\n\n");
        md.append("Run with ").append(String.join("; ", configs)).append(".\n\n");
        // scores
        header(md, impls, impls.size());
        for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
            md.append("| ").append(c.getKey()).append(" |");
            for (String i : impls) {
                md.append(' ').append(scoreCell(c.getValue().get(i))).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
        // ratios
        List<String[]> pairs = new ArrayList<>();
        List<String> pairNames = new ArrayList<>();
        for (String[] pair : PAIRS) {
            if (impls.contains(pair[0]) && impls.contains(pair[1])) {
                pairs.add(pair);
                pairNames.add(abbreviation(pair[0]) + "/" + pair[1]);
            }
        }
        if (!pairs.isEmpty()) {
            md.append("Ratios muduo4j / peer with 95% interval").append(higher ? " (above 1 = muduo4j faster)" : " (below 1 = muduo4j faster)")
                    .append(smoke ? "; CI smoke run: not measurements" : "").append(":\n\n");
            header(md, pairNames, pairs.size());
            for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
                md.append("| ").append(c.getKey()).append(" |");
                for (String[] p : pairs) {
                    Result a = c.getValue().get(p[0]);
                    Result b = c.getValue().get(p[1]);
                    String cell = a == null || b == null ? "-" : smoke ? "not measured (CI smoke)" : Gate.format(Gate.ratio(a, b));
                    md.append(' ').append(cell).append(" |");
                }
                md.append('\n');
            }
            md.append('\n');
        }
        // steady state
        md.append("Steady state over the measured iterations:\n\n");
        header(md, impls, impls.size());
        for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
            md.append("| ").append(c.getKey()).append(" |");
            for (String i : impls) {
                Result r = c.getValue().get(i);
                String cell = "-";
                if (r != null) {
                    Stats.Drift d = r.drift();
                    cell = d.flagged ? "**" + d.label() + "**" : d.label();
                    if (d.flagged) {
                        (d.warming(higher) ? warming : unstable).add(first.benchmark + " (" + first.mode + ") " + c.getKey() + " " + i + ": " + d.label());
                    }
                }
                md.append(' ').append(cell).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
        // allocation
        boolean anyAlloc = rows.stream().anyMatch(r -> !Double.isNaN(r.allocPerOp()));
        if (anyAlloc) {
            md.append("Allocation (").append(first.allocUnit()).append("):\n\n");
            header(md, impls, impls.size());
            for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
                md.append("| ").append(c.getKey()).append(" |");
                for (String i : impls) {
                    Result r = c.getValue().get(i);
                    md.append(' ').append(r == null ? "-" : num(r.allocPerOp())).append(" |");
                }
                md.append('\n');
            }
            md.append('\n');
        }
        // one chart panel per benchmark, in its preferred mode (groups come sorted by mode preference)
        if (panels.stream().noneMatch(p -> p.title.startsWith(first.benchmark + " "))) {
            Map<String, Map<String, Double>> values = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, Result>> c : cases.entrySet()) {
                Map<String, Double> v = new LinkedHashMap<>();
                String label = c.getKey();
                for (Map.Entry<String, Result> e : c.getValue().entrySet()) {
                    v.put(e.getKey(), e.getValue().estimate().value);
                    label = e.getValue().shortCaseLabel();
                }
                values.put(label, v);
            }
            panels.add(new Charts.Panel(first.benchmark + " (" + first.mode + ", " + unit + ")"
                    + (higher ? ": higher is better" : ": lower is better"), unit, values));
        }
    }

    private static void section(StringBuilder md, String heading, List<Gate.Check> checks) {
        md.append("## ").append(heading).append("\n\n| rule | case | ratio [95% interval] | result |\n|---|---|---:|---|\n");
        for (Gate.Check c : checks) {
            md.append("| `").append(c.rule.text).append("` | ").append(c.caseLabel).append(" | ")
                    .append(Gate.format(c.ratio)).append(" | ").append(c.verdict.label)
                    .append(c.note.isEmpty() ? "" : " (" + c.note + ")").append(" |\n");
        }
        md.append('\n');
    }
}
