package io.muduo4j.bench.cross;

import io.muduo4j.bench.report.Charts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** README.md (a table per figure: median and range over rounds, per-round ratios) and chart.png of a cross-process run. */
final class CrossReport {
    private CrossReport() {
    }

    static final class Context {
        final String reference;
        final String serverCostClient;
        final String clientCostServer;
        final boolean quick;
        final String setup;
        final String machine;
        final String command;

        Context(String reference, String serverCostClient, String clientCostServer, boolean quick, String setup,
                String machine, String command) {
            this.reference = reference;
            this.serverCostClient = serverCostClient;
            this.clientCostServer = clientCostServer;
            this.quick = quick;
            this.setup = setup;
            this.machine = machine;
            this.command = command;
        }
    }

    /** value per round of one (section, impl, figure, metric); NaN rounds (failures) left out. */
    static Map<Integer, Double> byRound(List<Row> rows, String section, String impl, String figure, String metric) {
        Map<Integer, Double> m = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.section.equals(section) && r.impl.equals(impl) && r.figure.equals(figure) && r.metric.equals(metric)
                    && !Double.isNaN(r.value)) {
                m.put(r.round, r.value);
            }
        }
        return m;
    }

    static List<String> impls(List<Row> rows, String section) {
        Set<String> s = new LinkedHashSet<>();
        for (Row r : rows) {
            if (r.section.equals(section)) {
                s.add(r.impl);
            }
        }
        return new ArrayList<>(s);
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%.0f" : a >= 10 ? "%.1f" : "%.2f", v);
    }

    /** {@code median (min-max)}, for ratios also {@code gm G [low, high]}; or the single value, or n/a. */
    static String cell(Stats.Summary s, boolean ratio) {
        if (s.n == 0) {
            return "n/a";
        }
        String f = ratio ? "%.2f" : null;
        String med = ratio ? String.format(Locale.ROOT, f, s.median) : fmt(s.median);
        if (s.n == 1) {
            return med;
        }
        String lo = ratio ? String.format(Locale.ROOT, f, s.min) : fmt(s.min);
        String hi = ratio ? String.format(Locale.ROOT, f, s.max) : fmt(s.max);
        String cell = med + " (" + lo + "–" + hi + ")";
        if (ratio && !Double.isNaN(s.low95)) {
            cell += String.format(Locale.ROOT, " gm %.2f [%.2f, %.2f]", s.geoMean, s.low95, s.high95);
        }
        return cell;
    }

    static String sectionTitle(String section, Context c) {
        return section.equals("server")
                ? "Server cost: every server against the `" + c.serverCostClient + "` client"
                : "Client cost: every client against the `" + c.clientCostServer + "` server";
    }

    static String table(List<Row> rows, String section, Figure f, String reference) {
        List<String> impls = new ArrayList<>();
        for (String i : impls(rows, section)) {
            for (Row r : rows) {
                if (r.section.equals(section) && r.impl.equals(i) && r.figure.equals(f.id)) {
                    impls.add(i);
                    break;
                }
            }
        }
        if (impls.isEmpty()) {
            return "";
        }
        boolean haveRef = impls.contains(reference);
        StringBuilder sb = new StringBuilder();
        sb.append("### ").append(f.title).append("\n\n");
        sb.append("| impl | rounds |");
        StringBuilder sep = new StringBuilder("|---|---:|");
        for (Figure.Metric m : f.metrics) {
            sb.append(' ').append(m.label).append(" (").append(m.unit).append(", ")
                    .append(m.higherBetter ? "higher" : "lower").append(" is better) |");
            sep.append("---:|");
            if (haveRef) {
                sb.append(' ').append(m.label).append(" ÷ ").append(reference).append(" |");
                sep.append("---:|");
            }
        }
        sb.append('\n').append(sep).append('\n');
        for (String i : impls) {
            int n = 0;
            StringBuilder cells = new StringBuilder();
            for (Figure.Metric m : f.metrics) {
                Map<Integer, Double> v = byRound(rows, section, i, f.id, m.key);
                n = Math.max(n, v.size());
                cells.append(' ').append(cell(Stats.summarize(v.values()), false)).append(" |");
                if (haveRef) {
                    Map<Integer, Double> ref = byRound(rows, section, reference, f.id, m.key);
                    cells.append(' ').append(cell(Stats.summarize(Stats.perRoundRatios(v, ref)), true)).append(" |");
                }
            }
            sb.append("| ").append(i).append(" | ").append(n).append(" |").append(cells).append('\n');
        }
        sb.append('\n');
        return sb.toString();
    }

    static void write(Path out, List<Row> rows, List<String> sysLines, Context c) throws IOException {
        StringBuilder md = new StringBuilder();
        md.append("# muduo4j cross-process benchmarks\n\n");
        if (c.quick) {
            md.append("> **Quick (CI smoke) run**: one short round, tiny counts. The numbers only show that every "
                    + "program and path runs; they are not measurements.\n\n");
        }
        md.append("Each server and each client is its own process (`jmh/crossproc.sh`). Cells: median over the "
                + "rounds, and in brackets the range (min–max). Ratios are computed per round (impl ÷ reference in "
                + "the same round) and summarised the same way, followed by their geometric mean (gm) and its 95% "
                + "interval in square brackets (Student t on the logarithms of the per-round ratios, rounds - 1 "
                + "degrees of freedom): a target whose threshold lies inside that interval is not decided by the run. Raw values: `results.tsv`; logs of every process: "
                + "`logs/`.\n\n");
        md.append("## Setup\n\n").append(c.setup).append('\n');
        if (c.command != null) {
            md.append("Command (`command.txt`):\n\n```\n").append(c.command.strip()).append("\n```\n\n");
        }
        if (c.machine != null) {
            md.append("Machine (`machine.txt`):\n\n```\n").append(c.machine.strip()).append("\n```\n\n");
        }
        List<Charts.Panel> panels = new ArrayList<>();
        Set<String> chartImpls = new LinkedHashSet<>();
        for (String section : List.of("server", "client")) {
            if (impls(rows, section).isEmpty()) {
                continue;
            }
            md.append("## ").append(sectionTitle(section, c)).append("\n\n");
            for (Figure f : Figure.ALL) {
                md.append(table(rows, section, f, c.reference));
            }
            chartImpls.addAll(impls(rows, section));
        }
        for (Figure f : Figure.ALL) {
            for (Figure.Metric m : f.metrics) {
                if (!m.chart) {
                    continue;
                }
                Map<String, Map<String, Double>> values = new LinkedHashMap<>();
                for (String section : List.of("server", "client")) {
                    Map<String, Double> perImpl = new LinkedHashMap<>();
                    for (String i : impls(rows, section)) {
                        Stats.Summary s = Stats.summarize(byRound(rows, section, i, f.id, m.key).values());
                        if (s.n > 0) {
                            perImpl.put(i, s.median);
                        }
                    }
                    if (!perImpl.isEmpty()) {
                        values.put(section.equals("server") ? "server cost (client " + c.serverCostClient + ")"
                                : "client cost (server " + c.clientCostServer + ")", perImpl);
                    }
                }
                if (!values.isEmpty()) {
                    panels.add(new Charts.Panel(f.title + ": " + m.label + " (" + m.unit + ", "
                            + (m.higherBetter ? "higher" : "lower") + " is better)", m.unit, values));
                }
            }
        }
        List<String> sys = new ArrayList<>();
        for (String l : sysLines) {
            if (!l.isBlank() && !l.equals(Syscalls.HEADER)) {
                sys.add(l);
            }
        }
        if (!sys.isEmpty()) {
            md.append(syscallTables(sys));
        }
        StringBuilder fail = new StringBuilder();
        for (Row r : rows) {
            if (!r.status.equals("ok")) {
                fail.append("- round ").append(r.round).append(' ').append(r.section).append(" cost ").append(r.impl)
                        .append(' ').append(r.figure).append(' ').append(r.metric).append(": ").append(r.status).append('\n');
            }
        }
        if (fail.length() > 0) {
            md.append("## Failed runs\n\n").append(fail).append('\n');
        }
        if (!panels.isEmpty()) {
            Charts.write(panels, new ArrayList<>(chartImpls), out.resolve("chart.png"));
            md.append("## Chart\n\nMedians over the rounds.\n\n![chart](chart.png)\n");
        }
        Files.writeString(out.resolve("README.md"), md.toString());
    }

    static String syscallTables(List<String> sys) {
        Map<String, Map<String, String[]>> byImpl = new LinkedHashMap<>();
        for (String l : sys) {
            String[] f = l.split("\t", -1);
            if (f.length == 7) {
                byImpl.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).put(f[1] + "/" + f[2], f);
            }
        }
        String[][] cols = {{"client/connect", "per connect (client)"}, {"server/accept", "per accepted connection (server)"},
            {"client/message", "per echoed message (client)"}, {"server/message", "per echoed message (server)"}};
        StringBuilder sb = new StringBuilder();
        sb.append("## System calls per operation\n\n");
        sb.append("Counted with `strace -f -c` (all threads), two runs per cell with a small and a large number of "
                + "operations; the difference of the totals over the difference in operations, so start-up and "
                + "shutdown cancel out. Accepted connection = connect + 1-byte echo + reset from the server-cost "
                + "client; echoed message = 1 x 16 B ping-pong. strace slows the traced process: counts only, no "
                + "times; idle wake-ups of JVM threads during the runs are included.\n\n");
        sb.append("| impl |");
        for (String[] c : cols) {
            sb.append(' ').append(c[1]).append(" |");
        }
        sb.append("\n|---|").append("---:|".repeat(cols.length)).append('\n');
        for (Map.Entry<String, Map<String, String[]>> e : byImpl.entrySet()) {
            sb.append("| ").append(e.getKey()).append(" |");
            for (String[] c : cols) {
                String[] f = e.getValue().get(c[0]);
                sb.append(' ').append(f == null ? "" : f[6].equals("ok") ? f[4] : f[6]).append(" |");
            }
            sb.append('\n');
        }
        sb.append("\nTop calls per operation:\n\n| impl | operation | calls per operation |\n|---|---|---|\n");
        for (Map.Entry<String, Map<String, String[]>> e : byImpl.entrySet()) {
            for (String[] c : cols) {
                String[] f = e.getValue().get(c[0]);
                if (f != null && f[6].equals("ok")) {
                    sb.append("| ").append(e.getKey()).append(" | ").append(c[1]).append(" | ").append(f[5]).append(" |\n");
                }
            }
        }
        sb.append('\n');
        return sb.toString();
    }
}
