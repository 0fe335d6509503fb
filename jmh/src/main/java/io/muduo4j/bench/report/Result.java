package io.muduo4j.bench.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** One row of JMH's JSON result file, reduced to what the report needs. */
final class Result {
    /** Short benchmark name: {@code RoundTrip.callerThread} for {@code io.muduo4j.bench.RoundTripBenchmark.callerThread}. */
    final String benchmark;
    /** JMH mode: {@code thrpt}, {@code avgt}, {@code sample}, {@code ss}. */
    final String mode;
    /** Implementation label in lower case ({@code muduo_blocking}, {@code netty_nio}, ...). */
    final String impl;
    /** The other parameters, sorted by name. */
    final Map<String, String> params;
    final double score;
    final double error;
    final String unit;
    /** Primary-metric percentiles keyed by JMH's keys ("50.0", "99.0", "99.9"), empty unless sampled. */
    final Map<String, Double> percentiles;
    /** Secondary metrics: name to score. */
    final Map<String, Double> secondary;
    final Map<String, String> secondaryUnits;
    /**
     * The headline figure per fork and measured iteration: {@code iterations.get(fork)[i]}. For
     * {@code sample} mode the mean of the iteration's samples (from JMH's rawDataHistogram, or from
     * rawData in a JSON slimmed by {@link SlimResult}), for ping-pong the iteration's MiB/s, otherwise
     * JMH's iteration score (rawData).
     */
    final List<double[]> iterations;

    private Result(String benchmark, String mode, String impl, Map<String, String> params, double score, double error,
                   String unit, Map<String, Double> percentiles, Map<String, Double> secondary,
                   Map<String, String> secondaryUnits, List<double[]> iterations) {
        this.benchmark = benchmark;
        this.mode = mode;
        this.impl = impl;
        this.params = params;
        this.score = score;
        this.error = error;
        this.unit = unit;
        this.percentiles = percentiles;
        this.secondary = secondary;
        this.secondaryUnits = secondaryUnits;
        this.iterations = iterations;
    }

    /** Test fixture: a result with the given headline iteration scores per fork (no secondary metrics). */
    static Result of(String benchmark, String mode, String impl, Map<String, String> params, String unit,
                     List<double[]> iterations) {
        double[] means = new double[iterations.size()];
        for (int i = 0; i < means.length; i++) {
            means[i] = Stats.mean(iterations.get(i));
        }
        return new Result(benchmark, mode, impl, Collections.unmodifiableMap(new TreeMap<>(params)),
                means.length == 0 ? Double.NaN : Stats.mean(means), Double.NaN, unit, Map.of(), Map.of(), Map.of(),
                iterations);
    }

    private static String config(JsonObject o) {
        try {
            int forks = o.get("forks").getAsInt();
            return forks + (forks == 1 ? " fork" : " forks") + ", warm-up " + o.get("warmupIterations").getAsInt()
                    + " x " + o.get("warmupTime").getAsString() + ", measurement " + o.get("measurementIterations").getAsInt()
                    + " x " + o.get("measurementTime").getAsString();
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** rawData: one array per fork of iteration scores. */
    private static List<double[]> rawData(JsonObject metric) {
        List<double[]> forks = new ArrayList<>();
        if (metric == null || !metric.has("rawData") || !metric.get("rawData").isJsonArray()) {
            return forks;
        }
        for (JsonElement f : metric.getAsJsonArray("rawData")) {
            JsonArray it = f.getAsJsonArray();
            double[] v = new double[it.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = number(it.get(i));
            }
            forks.add(v);
        }
        return forks;
    }

    /**
     * rawDataHistogram: per fork, per iteration, [value, count] pairs; reduced to the iteration means.
     * {@link SlimResult} stores exactly these means as the rawData of a slimmed sample row.
     */
    static List<double[]> histogramMeans(JsonObject metric) {
        List<double[]> forks = new ArrayList<>();
        if (metric == null || !metric.has("rawDataHistogram")) {
            return forks;
        }
        for (JsonElement f : metric.getAsJsonArray("rawDataHistogram")) {
            JsonArray its = f.getAsJsonArray();
            double[] v = new double[its.size()];
            for (int i = 0; i < v.length; i++) {
                double sum = 0;
                double count = 0;
                for (JsonElement pair : its.get(i).getAsJsonArray()) {
                    JsonArray p = pair.getAsJsonArray();
                    double c = number(p.get(1));
                    sum += number(p.get(0)) * c;
                    count += c;
                }
                v[i] = count > 0 ? sum / count : Double.NaN;
            }
            forks.add(v);
        }
        return forks;
    }

    /** How the row was run, from the JSON: "3 forks, warm-up 6 x 1 s, measurement 5 x 1 s". */
    String config = "";

    /** The identity of a run: {@code Connect.connect:sample[impl=JDK]} (parameters sorted by name, impl included). */
    static String key(String benchmark, String mode, Map<String, String> allParams) {
        StringBuilder sb = new StringBuilder(benchmark).append(':').append(mode).append('[');
        boolean first = true;
        for (Map.Entry<String, String> p : new TreeMap<>(allParams).entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(p.getKey()).append('=').append(p.getValue());
        }
        return sb.append(']').toString();
    }

    String key() {
        Map<String, String> all = new TreeMap<>(params);
        if (!impl.isEmpty()) {
            all.put("impl", impl.toUpperCase(Locale.ROOT));
        }
        return key(benchmark, mode, all);
    }

    /** Number of forks with data. */
    int forks() {
        return iterations.size();
    }

    /** The headline figure's mean per fork (for sample mode: each iteration's mean, averaged over iterations). */
    double[] forkMeans() {
        double[] m = new double[iterations.size()];
        for (int i = 0; i < m.length; i++) {
            m[i] = Stats.mean(iterations.get(i));
        }
        return m;
    }

    /** The headline figure over forks, with its 95% interval when there are at least 2 forks. */
    Stats.Estimate estimate() {
        if (iterations.isEmpty()) {
            return new Stats.Estimate(headline(), Double.NaN, Double.NaN, 1);
        }
        return Stats.meanOfForks(forkMeans());
    }

    Stats.Drift drift() {
        return Stats.drift(iterations);
    }

    static String shortName(String fullName) {
        String[] parts = fullName.split("\\.");
        if (parts.length < 2) {
            return fullName;
        }
        String cls = parts[parts.length - 2];
        if (cls.endsWith("Benchmark") && cls.length() > "Benchmark".length()) {
            cls = cls.substring(0, cls.length() - "Benchmark".length());
        }
        return cls + "." + parts[parts.length - 1];
    }

    private static double number(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        try {
            return e.getAsDouble(); // JMH writes NaN as the string "NaN", which parses too
        } catch (RuntimeException ex) {
            return Double.NaN;
        }
    }

    static List<Result> load(Path json) throws IOException {
        JsonArray rows;
        try (Reader r = Files.newBufferedReader(json, StandardCharsets.UTF_8)) {
            JsonElement root = JsonParser.parseReader(r);
            if (!root.isJsonArray()) {
                throw new IOException(json + " is not a JMH JSON result (expected an array)");
            }
            rows = root.getAsJsonArray();
        }
        List<Result> out = new ArrayList<>();
        for (JsonElement el : rows) {
            JsonObject o = el.getAsJsonObject();
            String benchmark = shortName(o.get("benchmark").getAsString());
            String mode = o.get("mode").getAsString();
            Map<String, String> params = new TreeMap<>();
            String impl = "";
            if (o.has("params") && o.get("params").isJsonObject()) {
                for (Map.Entry<String, JsonElement> p : o.getAsJsonObject("params").entrySet()) {
                    if (p.getKey().equals("impl")) {
                        impl = p.getValue().getAsString().toLowerCase(Locale.ROOT);
                    } else {
                        params.put(p.getKey(), p.getValue().getAsString());
                    }
                }
            }
            JsonObject pm = o.getAsJsonObject("primaryMetric");
            Map<String, Double> pct = new TreeMap<>();
            if (pm.has("scorePercentiles") && mode.equals("sample")) {
                for (Map.Entry<String, JsonElement> p : pm.getAsJsonObject("scorePercentiles").entrySet()) {
                    pct.put(p.getKey(), number(p.getValue()));
                }
            }
            Map<String, Double> sec = new TreeMap<>();
            Map<String, String> secUnits = new TreeMap<>();
            if (o.has("secondaryMetrics")) {
                for (Map.Entry<String, JsonElement> m : o.getAsJsonObject("secondaryMetrics").entrySet()) {
                    JsonObject mo = m.getValue().getAsJsonObject();
                    sec.put(m.getKey(), number(mo.get("score")));
                    secUnits.put(m.getKey(), mo.has("scoreUnit") ? mo.get("scoreUnit").getAsString() : "");
                }
            }
            List<double[]> its;
            if (o.has("secondaryMetrics") && o.getAsJsonObject("secondaryMetrics").has("mibPerSec")) {
                its = rawData(o.getAsJsonObject("secondaryMetrics").getAsJsonObject("mibPerSec"));
            } else if (mode.equals("sample") && pm.has("rawDataHistogram")) {
                its = histogramMeans(pm);
            } else { // a slimmed sample row carries its iteration means as rawData (SlimResult)
                its = rawData(pm);
            }
            out.add(new Result(benchmark, mode, impl, Collections.unmodifiableMap(params), number(pm.get("score")),
                    number(pm.get("scoreError")), pm.get("scoreUnit").getAsString(), pct, sec, secUnits,
                    Collections.unmodifiableList(its)));
            out.get(out.size() - 1).config = config(o);
        }
        return out;
    }

    /** The parameters other than impl, e.g. {@code connections=10 size=4096}; "-" when none. */
    String caseLabel() {
        if (params.isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> p : params.entrySet()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(p.getKey()).append('=').append(p.getValue());
        }
        return sb.toString();
    }

    /** A compact case label for chart axes, e.g. {@code 10 conns, 4 KiB}; the benchmark method when there are no parameters. */
    String shortCaseLabel() {
        if (params.isEmpty()) {
            return benchmark.substring(benchmark.indexOf('.') + 1);
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> p : params.entrySet()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            String v = p.getValue();
            if (p.getKey().equals("size") && v.matches("\\d+")) {
                long n = Long.parseLong(v);
                sb.append(n >= 1024 && n % 1024 == 0 ? (n / 1024) + " KiB" : n + " B");
            } else if (p.getKey().equals("connections")) {
                sb.append(v).append(v.equals("1") ? " conn" : " conns");
            } else {
                sb.append(p.getKey()).append('=').append(v);
            }
        }
        return sb.toString();
    }

    /** True when the figure of merit is a throughput (the ping-pong MiB/s or a thrpt score). */
    boolean higherIsBetter() {
        return secondary.containsKey("mibPerSec") || mode.equals("thrpt");
    }

    /** The figure compared across implementations: MiB/s for ping-pong, else the primary score. */
    double headline() {
        Double mib = secondary.get("mibPerSec");
        return mib != null ? mib : score;
    }

    String headlineUnit() {
        return secondary.containsKey("mibPerSec") ? "MiB/s" : unit;
    }

    /**
     * Bytes allocated per operation ({@code gc.alloc.rate.norm}); for ping-pong, whose JMH operation is
     * only a sampling tick, per block echoed instead. NaN without {@code -prof gc}.
     *
     * <p>JMH's GC profiler leaves the norm out when no iteration allocated a single byte, yet still reports
     * {@code gc.alloc.rate}; that case is 0 bytes per operation, not missing data.
     */
    double allocPerOp() {
        Double norm = secondary.get("gc.alloc.rate.norm");
        if (norm == null) {
            Double rate = secondary.get("gc.alloc.rate");
            return rate != null && rate == 0.0 ? 0.0 : Double.NaN;
        }
        Double blocks = secondary.get("blocksPerSec");
        if (blocks != null) {
            return blocks > 0 ? norm * score / blocks : Double.NaN;
        }
        return norm;
    }

    String allocUnit() {
        return secondary.containsKey("blocksPerSec") ? "B/block" : "B/op";
    }
}
