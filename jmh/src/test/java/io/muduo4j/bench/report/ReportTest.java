package io.muduo4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ReportTest {
    @TempDir
    Path dir;

    private Report report(String... args) {
        Report r = new Report();
        new CommandLine(r).parseArgs(args);
        return r;
    }

    private Path file(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    @Test
    void resultsCarryPerForkIterationData() throws IOException {
        List<Result> rs = Result.load(GateTest.fixture("three-forks.json"));
        Result sample = rs.stream().filter(r -> r.mode.equals("sample") && r.impl.equals("muduo_blocking")).findFirst()
                .orElseThrow();
        assertEquals(3, sample.forks());
        // fork 0: iteration means 31 and 31; fork 1: 32 and 31; fork 2: 31 and 31
        assertEquals(31, sample.iterations.get(0)[0], 1e-12);
        assertEquals(32, sample.iterations.get(1)[0], 1e-12);
        assertEquals(31, sample.iterations.get(1)[1], 1e-12);
        assertEquals(31.5, sample.forkMeans()[1], 1e-12);
        Result pp = rs.stream().filter(r -> r.benchmark.equals("PingPong.pingpong") && r.impl.equals("netty_nio"))
                .findFirst().orElseThrow();
        assertEquals(1500, pp.estimate().value, 1e-9, "ping-pong forks are MiB/s");
        assertEquals("3 forks, warm-up 4 x 500 ms, measurement 3 x 500 ms", pp.config);
        assertEquals("PingPong.pingpong:thrpt[connections=10,impl=NETTY_NIO,size=16384]", pp.key());
        Result noImpl = Result.of("TimerStructure.heapScheduleFire", "avgt", "", java.util.Map.of("pending", "16"), "ns/op",
                List.of(new double[] {1, 2, 3}));
        assertEquals("TimerStructure.heapScheduleFire:avgt[pending=16]", noImpl.key(), "no impl parameter, none in the key");
    }

    @Test
    void readmeHasIntervalsVerdictsAndSteadyState() throws IOException {
        Path targets = file("t.txt", "Connect.connect muduo_blocking/netty_nio <= 0.8\n");
        Report r = report("--json", GateTest.fixture("three-forks.json").toString(), "--out", dir.toString(),
                "--check", targets.toString());
        String md = r.markdown(Result.load(GateTest.fixture("three-forks.json")));
        assertTrue(md.contains("| mb/netty_nio |"), md);
        assertTrue(md.contains("0.71 ["), "ratio with interval");
        assertTrue(md.contains("70.6 ± "), "score with interval");
        assertTrue(md.contains("| `Connect.connect muduo_blocking/netty_nio <= 0.8` | - | 0.71 ["), md);
        assertTrue(md.contains("| met |"));
        assertTrue(md.contains("Steady state over the measured iterations"));
        assertTrue(md.contains("No row is still falling or rising"));
        assertEquals(0, r.exitStatus());
    }

    @Test
    void ciSmokeReportNeverSaysMet() throws IOException {
        Path targets = file("t.txt", "Connect.connect muduo_blocking/netty_nio <= 0.8\n"
                + "PingPong.pingpong muduo_blocking/netty_nio >= 1.1\n");
        Report r = report("--json", GateTest.fixture("three-forks.json").toString(), "--out", dir.toString(),
                "--check", targets.toString(), "--gate", targets.toString(), "--smoke");
        String md = r.markdown(Result.load(GateTest.fixture("three-forks.json")));
        assertFalse(md.contains("| met"), md);
        assertFalse(md.contains("**missed**"), md);
        assertTrue(md.contains("not measured (CI smoke)"));
        assertEquals(0, r.exitStatus(), "not measured never fails the gate");
    }

    @Test
    void exitStatusForMissedRatioAllocationAndFailedBenchmark() throws IOException {
        String json = GateTest.fixture("three-forks.json").toString();
        List<Result> results = Result.load(GateTest.fixture("three-forks.json"));
        Path missed = file("m.txt", "Connect.connect muduo_blocking/netty_nio <= 0.5\n");
        Path inconclusive = file("i.txt", "Connect.connect muduo_blocking/netty_nio <= 0.709\n");
        Path alloc = file("a.txt", "Connect.connect muduo_* <= 1000\n");
        Path expect = file("e.txt", "Connect.connect:avgt[impl=MUDUO_BLOCKING]\nConnect.connect:avgt[impl=JDK]\n");

        Report r = report("--json", json, "--out", dir.toString(), "--gate", missed.toString());
        r.markdown(results);
        assertEquals(3, r.exitStatus());

        r = report("--json", json, "--out", dir.toString(), "--gate", inconclusive.toString());
        assertTrue(r.markdown(results).contains("inconclusive"));
        assertEquals(0, r.exitStatus(), "inconclusive is printed, does not fail");

        r = report("--json", json, "--out", dir.toString(), "--alloc", alloc.toString());
        assertTrue(r.markdown(results).contains("**exceeded**"));
        assertEquals(4, r.exitStatus());

        r = report("--json", json, "--out", dir.toString(), "--expect", expect.toString(), "--alloc", alloc.toString());
        String md = r.markdown(results);
        assertTrue(md.contains("`Connect.connect:avgt[impl=JDK]`"), md);
        assertEquals(1, r.exitStatus(), "a failed benchmark wins");
    }

    @Test
    void oneForkRunSaysSoAndFlagsNothingAsMet() throws IOException {
        Path targets = file("t.txt", "Connect.connect muduo_blocking/netty_nio <= 0.4\n");
        Report r = report("--json", GateTest.fixture("one-fork.json").toString(), "--out", dir.toString(),
                "--check", targets.toString());
        String md = r.markdown(Result.load(GateTest.fixture("one-fork.json")));
        assertTrue(md.contains("20.0 (1 fork)"), md);
        assertTrue(md.contains("0.10 (no interval)"), md);
        assertTrue(md.contains("inconclusive (fewer than 2 forks: no interval)"), md);
        assertFalse(md.contains("| met"));
    }

    @Test
    void mainWritesReadmeChartAndMergedJson() throws IOException {
        Path merged = dir.resolve("merged.json");
        int status = new CommandLine(new Report()).execute("--json", GateTest.fixture("three-forks.json").toString(),
                "--json", GateTest.fixture("one-fork.json").toString(), "--merged", merged.toString(),
                "--out", dir.toString());
        assertEquals(0, status);
        assertTrue(Files.size(dir.resolve("chart.png")) > 1000);
        assertTrue(Files.readString(dir.resolve("README.md")).contains("## Connect.connect (avgt"));
        assertEquals(8, Result.load(merged).size());
    }
}
