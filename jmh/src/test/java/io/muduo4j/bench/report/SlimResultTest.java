package io.muduo4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@link SlimResult} keeps exactly what {@link Report} reads: the report of the slim JSON is the
 * report of the full one, byte for byte (README.md and chart.png), on a synthesized run shaped like
 * {@code jmh/bench.sh}'s suite (sample-mode histograms of thousands of distinct values over 3 forks,
 * avgt and thrpt rows, ping-pong's MiB/s, -prof gc's metrics, a drifting row). The committed
 * results are too large to serve as a fixture.
 */
class SlimResultTest {
    @TempDir
    Path dir;

    private static final String[] IMPLS = {"MUDUO_BLOCKING", "MUDUO_SPINNING", "NETTY_NIO", "NETTY_EPOLL", "JDK"};
    private static final String[] PCT = {"0.0", "50.0", "90.0", "95.0", "99.0", "99.9", "99.99", "99.999", "99.9999", "100.0"};

    @Test
    void reportOfTheSlimJsonIsByteIdenticalToTheReportOfTheFullOne() throws IOException {
        Path full = dir.resolve("full/jmh-result.json");
        Path slim = dir.resolve("slim/jmh-result.json");
        SlimResult.write(suite(new Random(42)), full);

        assertEquals(0, new CommandLine(new SlimResult()).execute("--out", slim.toString(), full.toString()));

        assertTrue(Files.size(slim) * 20 < Files.size(full), Files.size(full) + " -> " + Files.size(slim) + " bytes");
        int slimmed = 0;
        for (var row : SlimResult.read(slim)) {
            JsonObject pm = row.getAsJsonObject().getAsJsonObject("primaryMetric");
            assertFalse(pm.has("rawDataHistogram"));
            if (pm.has("slimmed")) {
                slimmed++;
                assertEquals(SlimResult.NOTE, pm.get("slimmed").getAsString(), "a slimmed metric says so");
            }
        }
        assertEquals(5 + 15, slimmed, "every sample row");

        Path machine = write("machine.txt", "cpu: test\ncores: 2\n");
        Path command = write("command.txt", "jmh/bench.sh\n");
        Path targets = write("targets.txt", "Connect.connect muduo_blocking/netty_nio <= 0.8\n"
                + "RoundTrip.callerThread muduo_blocking/netty_epoll <= 1.0\n"
                + "PingPong.pingpong muduo_blocking/netty_nio >= 1.1\n");
        Path planned = write("planned-runs.txt", "# planned\nRoundTrip.onLoop:avgt[impl=JDK]\n");
        for (Path json : List.of(full, slim)) {
            int status = new CommandLine(new Report()).execute("--json", json.toString(), "--out", json.getParent().toString(),
                    "--machine", machine.toString(), "--command", command.toString(), "--check", targets.toString(),
                    "--expect", planned.toString());
            assertEquals(1, status, "the planned run without a result is reported as failed");
        }
        String readme = Files.readString(full.resolveSibling("README.md"));
        assertEquals(readme, Files.readString(slim.resolveSibling("README.md")));
        assertArrayEquals(Files.readAllBytes(full.resolveSibling("chart.png")), Files.readAllBytes(slim.resolveSibling("chart.png")));

        // the report did use what the slim file keeps: intervals, pooled percentiles, drift, allocation, targets
        assertTrue(readme.contains("## Connect.connect (sample, us/op"), readme);
        assertTrue(readme.contains(" ± "), readme);
        assertTrue(readme.matches("(?s).*\\| [0-9.,]+ ± [0-9.,]+ \\([0-9.,]+ / [0-9.,]+\\) \\|.*"), "sample cells carry (p50 / p99)");
        assertTrue(readme.contains("**falling"), "the drifting row is flagged");
        assertTrue(readme.contains("Allocation (B/block)"), readme);
        assertTrue(readme.contains("`RoundTrip.onLoop:avgt[impl=JDK]`"), readme);
        assertTrue(readme.contains(SizeBudget.text()), "the README states the size budget");

        // the same per-fork, per-iteration figures, to the last bit
        List<Result> a = Result.load(full);
        List<Result> b = Result.load(slim);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).key(), b.get(i).key());
            assertEquals(a.get(i).percentiles, b.get(i).percentiles);
            assertEquals(a.get(i).iterations.size(), b.get(i).iterations.size());
            for (int f = 0; f < a.get(i).iterations.size(); f++) {
                assertArrayEquals(a.get(i).iterations.get(f), b.get(i).iterations.get(f), 0.0, a.get(i).key());
            }
        }
    }

    @Test
    void slimmingIsIdempotentAndKeepsTheFullMerge() throws IOException {
        Path part1 = dir.resolve("part-1.json");
        Path part2 = dir.resolve("part-2.json");
        JsonArray rows = suite(new Random(7));
        JsonArray first = new JsonArray();
        JsonArray second = new JsonArray();
        for (int i = 0; i < rows.size(); i++) {
            (i < rows.size() / 2 ? first : second).add(rows.get(i));
        }
        SlimResult.write(first, part1);
        SlimResult.write(second, part2);
        Path full = dir.resolve("raw/jmh-result.json");
        Path slim = dir.resolve("out/jmh-result.json");
        assertEquals(0, new CommandLine(new SlimResult()).execute("--full", full.toString(), "--out", slim.toString(),
                part1.toString(), part2.toString()));
        assertEquals(SlimResult.read(full), rows, "--full is the merge of the inputs, histograms and all");
        Path mergedByReport = dir.resolve("merged.json");
        Report.merge(List.of(part1, part2), mergedByReport);
        assertEquals(Files.readString(mergedByReport), Files.readString(full), "the same format as Report --merged");

        byte[] once = Files.readAllBytes(slim);
        assertEquals(0, new CommandLine(new SlimResult()).execute("--out", slim.toString(), slim.toString()));
        assertArrayEquals(once, Files.readAllBytes(slim), "a slim file slims to itself");
    }

    @Test
    void anIterationWithoutSamplesStaysNaN() throws IOException {
        JsonArray rows = new JsonArray();
        rows.add(sampleRow("io.muduo4j.bench.ConnectBenchmark.connect", Map.of("impl", "JDK"),
                List.of(List.of(List.of(new double[] {10, 2}), List.of()))));
        Path full = dir.resolve("nan.json");
        SlimResult.write(rows, full);
        Path slim = dir.resolve("nan-slim.json");
        assertEquals(0, new CommandLine(new SlimResult()).execute("--out", slim.toString(), full.toString()));
        double[] it = Result.load(slim).get(0).iterations.get(0);
        assertEquals(10.0, it[0]);
        assertTrue(Double.isNaN(it[1]));
        byte[] once = Files.readAllBytes(slim);
        assertEquals(0, new CommandLine(new SlimResult()).execute("--out", slim.toString(), slim.toString()));
        assertArrayEquals(once, Files.readAllBytes(slim), "NaN is written as JMH writes it, \"NaN\", and read back");
    }

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    /** A run of the suite's shape: 3 forks, 5 measured iterations, JMH's fields as bench.sh gets them. */
    private static JsonArray suite(Random rnd) {
        JsonArray rows = new JsonArray();
        for (String impl : IMPLS) {
            double base = 40 + 30 * rnd.nextDouble();
            boolean drifting = impl.equals("NETTY_NIO"); // its iterations get 4% faster each
            rows.add(sampleRow("io.muduo4j.bench.ConnectBenchmark.connect", Map.of("impl", impl),
                    histograms(rnd, base, drifting ? -0.04 : 0, 3, 5, 400)));
        }
        for (String size : new String[] {"16", "256", "4096"}) {
            for (String impl : IMPLS) {
                rows.add(sampleRow("io.muduo4j.bench.RoundTripBenchmark.callerThread", Map.of("impl", impl, "size", size),
                        histograms(rnd, 25 + 20 * rnd.nextDouble(), 0, 3, 5, 300)));
            }
        }
        for (String impl : new String[] {"MUDUO_BLOCKING", "NETTY_NIO", "NETTY_EPOLL"}) {
            JsonObject row = row("io.muduo4j.bench.RoundTripBenchmark.onLoop", "avgt", Map.of("impl", impl, "size", "16"));
            row.add("primaryMetric", metric(scores(rnd, 20 + 5 * rnd.nextDouble(), 3, 5), "us/op"));
            row.add("secondaryMetrics", gc(rnd, 3, 5));
            rows.add(row);
        }
        for (String impl : IMPLS) {
            JsonObject row = row("io.muduo4j.bench.PingPongBenchmark.pingpong", "thrpt",
                    Map.of("impl", impl, "size", "16384", "connections", "10"));
            row.add("primaryMetric", metric(scores(rnd, 90 + 20 * rnd.nextDouble(), 3, 5), "ops/s"));
            JsonObject sec = gc(rnd, 3, 5);
            sec.add("mibPerSec", metric(scores(rnd, 1200 + 400 * rnd.nextDouble(), 3, 5), "MiB/s"));
            sec.add("blocksPerSec", metric(scores(rnd, 70000 + 5000 * rnd.nextDouble(), 3, 5), "blocks/s"));
            row.add("secondaryMetrics", sec);
            rows.add(row);
        }
        return rows;
    }

    /** Per fork, per iteration, JMH's [value, count] pairs: values on a 0.032 us grid, a long right tail. */
    private static List<List<List<double[]>>> histograms(Random rnd, double base, double driftPerIteration, int forks,
                                                       int iterations, int distinct) {
        List<List<List<double[]>>> all = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            List<List<double[]>> its = new ArrayList<>();
            double forkBase = base * (1 + 0.05 * rnd.nextGaussian());
            for (int i = 0; i < iterations; i++) {
                double center = forkBase * (1 + driftPerIteration * i);
                TreeMap<Double, double[]> h = new TreeMap<>();
                for (int s = 0; s < distinct; s++) {
                    boolean tail = rnd.nextInt(50) == 0;
                    double v = center * (tail ? 5 + 15 * rnd.nextDouble() : 0.7 + 0.3 * Math.exp(0.4 * rnd.nextGaussian()));
                    double q = Math.round(v / 0.032) * 0.032; // a binary fraction's rounding, as JMH's values have
                    long count = tail ? 1 + rnd.nextInt(3) : 1 + rnd.nextInt(rnd.nextInt(20) == 0 ? 2000 : 40);
                    h.merge(q, new double[] {q, count}, (x, y) -> new double[] {x[0], x[1] + y[1]});
                }
                its.add(new ArrayList<>(h.values()));
            }
            all.add(its);
        }
        return all;
    }

    private static JsonObject sampleRow(String benchmark, Map<String, String> params, List<List<List<double[]>>> hist) {
        JsonObject row = row(benchmark, "sample", params);
        double sum = 0;
        double count = 0;
        JsonArray h = new JsonArray();
        List<Double> pooled = new ArrayList<>();
        for (List<List<double[]>> fork : hist) {
            JsonArray f = new JsonArray();
            for (List<double[]> it : fork) {
                JsonArray pairs = new JsonArray();
                for (double[] p : it) {
                    JsonArray pair = new JsonArray();
                    pair.add(p[0]);
                    pair.add((long) p[1]);
                    pairs.add(pair);
                    sum += p[0] * p[1];
                    count += p[1];
                    pooled.add(p[0]);
                }
                f.add(pairs);
            }
            h.add(f);
        }
        pooled.sort(null);
        JsonObject pm = new JsonObject();
        pm.addProperty("score", sum / count);
        pm.addProperty("scoreError", 1.5);
        JsonArray conf = new JsonArray();
        conf.add(1.0);
        conf.add(2.0);
        pm.add("scoreConfidence", conf);
        JsonObject pct = new JsonObject();
        for (String p : PCT) { // any pooled figures do: the report prints JMH's, it does not compute them
            double q = Double.parseDouble(p) / 100;
            pct.addProperty(p, pooled.get((int) Math.min(pooled.size() - 1, q * pooled.size())));
        }
        pm.add("scorePercentiles", pct);
        pm.addProperty("scoreUnit", "us/op");
        pm.add("rawDataHistogram", h);
        row.add("primaryMetric", pm);
        JsonObject sec = gc(new Random(hist.size()), hist.size(), hist.isEmpty() ? 0 : hist.get(0).size());
        for (String p : new String[] {"p0.00", "p0.50", "p0.90", "p0.99", "p1.00"}) {
            sec.add(p, metric(List.of(), "us/op"));
        }
        row.add("secondaryMetrics", sec);
        return row;
    }

    private static JsonObject row(String benchmark, String mode, Map<String, String> params) {
        JsonObject o = new JsonObject();
        o.addProperty("jmhVersion", "1.37");
        o.addProperty("benchmark", benchmark);
        o.addProperty("mode", mode);
        o.addProperty("threads", 1);
        o.addProperty("forks", 3);
        o.addProperty("jvm", "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
        JsonArray args = new JsonArray();
        args.add("-Xmx1g");
        o.add("jvmArgs", args);
        o.addProperty("jdkVersion", "25.0.3");
        o.addProperty("vmName", "OpenJDK 64-Bit Server VM");
        o.addProperty("vmVersion", "25.0.3+9-LTS");
        o.addProperty("warmupIterations", 8);
        o.addProperty("warmupTime", "500 ms");
        o.addProperty("warmupBatchSize", 1);
        o.addProperty("measurementIterations", 5);
        o.addProperty("measurementTime", "500 ms");
        o.addProperty("measurementBatchSize", 1);
        JsonObject p = new JsonObject();
        new TreeMap<>(params).forEach(p::addProperty);
        o.add("params", p);
        return o;
    }

    private static List<double[]> scores(Random rnd, double base, int forks, int iterations) {
        List<double[]> l = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            double[] v = new double[iterations];
            for (int i = 0; i < iterations; i++) {
                v[i] = base * (1 + 0.03 * rnd.nextGaussian());
            }
            l.add(v);
        }
        return l;
    }

    private static JsonObject metric(List<double[]> raw, String unit) {
        double sum = 0;
        int n = 0;
        JsonArray r = new JsonArray();
        for (double[] fork : raw) {
            JsonArray f = new JsonArray();
            for (double v : fork) {
                f.add(v);
                sum += v;
                n++;
            }
            r.add(f);
        }
        JsonObject m = new JsonObject();
        m.addProperty("score", n == 0 ? 12.5 : sum / n);
        if (n < 2) {
            m.addProperty("scoreError", "NaN"); // as JMH writes it
        } else {
            m.addProperty("scoreError", 0.5);
        }
        JsonObject pct = new JsonObject();
        for (String p : PCT) {
            pct.addProperty(p, n == 0 ? 12.5 : sum / n);
        }
        m.add("scorePercentiles", pct);
        m.addProperty("scoreUnit", unit);
        m.add("rawData", r);
        return m;
    }

    private static JsonObject gc(Random rnd, int forks, int iterations) {
        JsonObject sec = new JsonObject();
        sec.add("gc.alloc.rate", metric(scores(rnd, 150, forks, iterations), "MB/sec"));
        sec.add("gc.alloc.rate.norm", metric(scores(rnd, 3000, forks, iterations), "B/op"));
        sec.add("gc.count", metric(scores(rnd, 2, forks, iterations), "counts"));
        return sec;
    }
}
