package io.muduo4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed results in {@code perf-results/} stay within {@link SizeBudget}, their JMH JSON is
 * slim (no per-sample histograms: {@link SlimResult}), and {@code perf-results/README.md} states the
 * budget.
 */
class PerfResultsBudgetTest {
    @TempDir
    Path dir;

    @Test
    void perfResultsStayWithinTheSizeBudget() throws IOException {
        List<String> over = violations(perfResults());
        assertTrue(over.isEmpty(), "perf-results/ exceeds its budget (" + SizeBudget.text() + "); slim the JMH JSON "
                + "(io.muduo4j.bench.report.SlimResult) or drop what no reader needs:\n" + String.join("\n", over));
    }

    @Test
    void committedJmhJsonHasNoPerSampleHistograms() throws IOException {
        List<String> full = new ArrayList<>();
        try (Stream<Path> files = Files.walk(perfResults())) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.getFileName().toString().endsWith(".json"))::iterator) {
                if (Files.readString(f, StandardCharsets.UTF_8).contains("\"rawDataHistogram\":")) {
                    full.add(perfResults().relativize(f).toString());
                }
            }
        }
        assertTrue(full.isEmpty(), "JMH JSON with rawDataHistogram (run SlimResult --out F F on it): " + full);
    }

    @Test
    void perfResultsReadmeStatesTheBudget() throws IOException {
        String readme = Files.readString(perfResults().resolve("README.md"), StandardCharsets.UTF_8);
        assertTrue(readme.contains(SizeBudget.text()), "perf-results/README.md must state: " + SizeBudget.text());
    }

    @Test
    void theCheckFindsAFileADirectoryAndATotalOverBudget() throws IOException {
        Path root = dir.resolve("perf-results");
        Files.createDirectories(root.resolve("run-a/logs"));
        Files.createDirectories(root.resolve("run-b"));
        Files.writeString(root.resolve("README.md"), "ok");
        assertEquals(List.of(), violations(root));

        sized(root.resolve("run-a/jmh-result.json"), SizeBudget.MAX_FILE + 1);
        assertEquals(List.of("run-a/jmh-result.json: " + (SizeBudget.MAX_FILE + 1) + " bytes, over "
                + SizeBudget.mib(SizeBudget.MAX_FILE) + " for a file"), violations(root));

        Files.delete(root.resolve("run-a/jmh-result.json"));
        for (int i = 0; i < 3; i++) {
            sized(root.resolve("run-a/logs/part-" + i + ".log"), SizeBudget.MAX_FILE); // each within, the directory not
        }
        List<String> over = violations(root);
        assertEquals(1, over.size(), over.toString());
        assertTrue(over.get(0).startsWith("run-a/: " + 3 * SizeBudget.MAX_FILE + " bytes, over "), over.toString());

        Files.delete(root.resolve("run-a/logs/part-2.log"));
        for (String top : new String[] {"jmh-output.txt", "jmh-result.json"}) {
            sized(root.resolve(top), SizeBudget.MAX_FILE); // the default run's files count as one directory
        }
        over = violations(root);
        assertEquals(1, over.size(), over.toString());
        assertTrue(over.get(0).startsWith("perf-results/ (its own files): "), over.toString());

        Files.delete(root.resolve("jmh-output.txt"));
        long each = SizeBudget.MAX_RESULT_DIR / 2;
        for (int i = 0; i < 2 * SizeBudget.MAX_TOTAL / each; i++) {
            sized(root.resolve("run-c" + i + "/jmh-output.txt"), each);
        }
        over = violations(root);
        assertEquals(1, over.size(), over.toString());
        assertTrue(over.get(0).startsWith("perf-results/ in all: "), over.toString());
    }

    /** Every file, result directory and the total over {@link SizeBudget}, with its size. */
    static List<String> violations(Path perfResults) throws IOException {
        List<String> over = new ArrayList<>();
        Map<String, Long> dirs = new TreeMap<>();
        long total = 0;
        try (Stream<Path> walk = Files.walk(perfResults)) {
            for (Path f : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
                long size = Files.size(f);
                Path rel = perfResults.relativize(f);
                total += size;
                dirs.merge(rel.getNameCount() == 1 ? "perf-results/ (its own files)" : rel.getName(0) + "/", size, Long::sum);
                if (size > SizeBudget.MAX_FILE) {
                    over.add(rel.toString().replace('\\', '/') + ": " + size + " bytes, over " + SizeBudget.mib(SizeBudget.MAX_FILE)
                            + " for a file");
                }
            }
        }
        for (Map.Entry<String, Long> d : dirs.entrySet()) {
            if (d.getValue() > SizeBudget.MAX_RESULT_DIR) {
                over.add(d.getKey() + ": " + d.getValue() + " bytes, over " + SizeBudget.mib(SizeBudget.MAX_RESULT_DIR)
                        + " for a result directory");
            }
        }
        if (total > SizeBudget.MAX_TOTAL) {
            over.add("perf-results/ in all: " + total + " bytes, over " + SizeBudget.mib(SizeBudget.MAX_TOTAL));
        }
        return over;
    }

    /**
     * The project's perf-results/: from the working directory (jmh/ under Maven, the root in an IDE)
     * up to the first directory that holds the parent pom, jmh/ and perf-results/.
     */
    static Path perfResults() {
        Path start = Path.of("").toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml")) && Files.isDirectory(d.resolve("jmh"))
                    && Files.isDirectory(d.resolve("perf-results"))) {
                return d.resolve("perf-results");
            }
        }
        throw new AssertionError("no perf-results/ beside a pom.xml and jmh/ in " + start + " or above");
    }

    private static void sized(Path file, long bytes) throws IOException {
        Files.createDirectories(file.getParent());
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(bytes); // sparse: the size counts, not the blocks
        }
    }
}
