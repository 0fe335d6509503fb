package io.muduo4j.bench.report;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Writes a JMH JSON result without its per-sample data, keeping everything {@link Report} reads, so
 * that the report regenerated from the slim file is byte for byte the report of the full one.
 *
 * <p>The bulk of a {@code -bm sample} run's JSON is {@code rawDataHistogram}: per fork and measured
 * iteration, every distinct sample value with its count (megabytes per run). The report uses it only
 * for each iteration's mean (the per-fork means, their interval, the steady-state regression); the
 * pooled percentiles it prints are JMH's own {@code scorePercentiles}. So each histogram is replaced
 * by {@code rawData} holding those iteration means, computed by the report's own code
 * ({@link Result#histogramMeans}), which is what JMH's {@code rawData} holds for the other modes: the
 * iteration scores, per fork. The metric gets {@code "slimmed"} saying so. Every other field stays as
 * JMH wrote it, so the file is still a JMH result (for any tool that reads one). A file without
 * histograms comes out unchanged apart from the formatting, which is {@link Report#merge}'s.
 */
@Command(name = "SlimResult", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes a JMH JSON result without the per-sample histograms of sample-mode rows "
                + "(rawDataHistogram becomes the iteration means, rawData): all that Report reads.")
public final class SlimResult implements Callable<Integer> {
    /** The note put on a metric whose histogram was reduced. */
    static final String NOTE = "rawDataHistogram (per-sample values and counts) removed by "
            + "io.muduo4j.bench.report.SlimResult; rawData holds each measured iteration's mean, per fork";

    @Parameters(arity = "1..*", paramLabel = "JSON", description = "JMH JSON results (-rf json), merged in this order.")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "FILE",
            description = "The slim JSON to write (may be one of the inputs: they are read first).")
    Path out;

    @Option(names = "--full", paramLabel = "FILE", description = "Also write the merged full JSON here.")
    Path full;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SlimResult()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        JsonArray rows = new JsonArray();
        for (Path in : inputs) {
            rows.addAll(read(in));
        }
        long before = inputs.stream().mapToLong(p -> p.toFile().length()).sum();
        if (full != null) {
            write(rows, full);
        }
        int slimmed = slim(rows);
        write(rows, out);
        System.out.println("SlimResult: " + rows.size() + " rows (" + slimmed + " histograms reduced), " + before
                + " -> " + Files.size(out) + " bytes: " + out);
        return 0;
    }

    static JsonArray read(Path json) throws IOException {
        try (Reader r = Files.newBufferedReader(json, StandardCharsets.UTF_8)) {
            JsonElement root = JsonParser.parseReader(r);
            if (!root.isJsonArray()) {
                throw new IOException(json + " is not a JMH JSON result (expected an array)");
            }
            return root.getAsJsonArray();
        }
    }

    /** The format {@link Report#merge} writes: Gson's pretty printing, NaN allowed, a final newline. */
    static void write(JsonArray rows, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create()
                .toJson(rows) + "\n", StandardCharsets.UTF_8);
    }

    /** Reduces every metric's histogram in place; returns how many were reduced. */
    static int slim(JsonArray rows) throws IOException {
        int n = 0;
        for (JsonElement el : rows) {
            JsonObject row = el.getAsJsonObject();
            if (row.has("primaryMetric")) {
                n += slimMetric(row, row.getAsJsonObject("primaryMetric"));
            }
            if (row.has("secondaryMetrics") && row.get("secondaryMetrics").isJsonObject()) {
                for (Map.Entry<String, JsonElement> m : row.getAsJsonObject("secondaryMetrics").entrySet()) {
                    if (m.getValue().isJsonObject()) {
                        n += slimMetric(row, m.getValue().getAsJsonObject());
                    }
                }
            }
        }
        return n;
    }

    private static int slimMetric(JsonObject row, JsonObject metric) throws IOException {
        if (!metric.has("rawDataHistogram")) {
            return 0;
        }
        if (metric.has("rawData")) {
            throw new IOException(row.get("benchmark") + " " + row.get("params")
                    + ": a metric with both rawData and rawDataHistogram; not a JMH result this tool knows");
        }
        JsonArray forks = new JsonArray();
        for (double[] means : Result.histogramMeans(metric)) {
            JsonArray it = new JsonArray();
            for (double m : means) {
                if (Double.isFinite(m)) {
                    it.add(m);
                } else {
                    it.add(Double.toString(m)); // as JMH writes NaN: a string
                }
            }
            forks.add(it);
        }
        metric.remove("rawDataHistogram");
        metric.add("rawData", forks);
        metric.addProperty("slimmed", NOTE);
        return 1;
    }
}
