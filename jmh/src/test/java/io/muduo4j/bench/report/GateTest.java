package io.muduo4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GateTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        return Path.of("src/test/resources/report", name);
    }

    private Path file(String text) throws IOException {
        Path f = Files.createTempFile(dir, "rules", ".txt");
        Files.writeString(f, text);
        return f;
    }

    private static Stats.Estimate ci(double v, double lo, double hi) {
        return new Stats.Estimate(v, lo, hi, 3);
    }

    private Gate.Rule rule(String text) throws IOException {
        return Gate.parse(file(text)).get(0);
    }

    @Test
    void upperBoundVerdictsFollowTheWholeInterval() throws IOException {
        Gate.Rule r = rule("RoundTrip.callerThread muduo_blocking/netty_nio <= 0.7\n");
        assertEquals(Gate.Verdict.MET, r.verdict(ci(0.55, 0.5, 0.6), false));
        assertEquals(Gate.Verdict.MISSED, r.verdict(ci(0.85, 0.8, 0.9), false));
        assertEquals(Gate.Verdict.INCONCLUSIVE, r.verdict(ci(0.65, 0.6, 0.8), false));
        assertEquals(Gate.Verdict.INCONCLUSIVE, r.verdict(ci(0.5, Double.NaN, Double.NaN), false), "no interval");
        assertEquals(Gate.Verdict.NO_DATA, r.verdict(ci(Double.NaN, Double.NaN, Double.NaN), false));
    }

    @Test
    void lowerBoundVerdictsFollowTheWholeInterval() throws IOException {
        Gate.Rule r = rule("PingPong.pingpong[connections=10] muduo_blocking/netty_nio >= 1.2\n");
        assertEquals(Gate.Verdict.MET, r.verdict(ci(1.3, 1.25, 1.35), false));
        assertEquals(Gate.Verdict.MISSED, r.verdict(ci(1.1, 1.0, 1.19), false));
        assertEquals(Gate.Verdict.INCONCLUSIVE, r.verdict(ci(1.17, 1.1, 1.25), false), "1.17 against 1.2 is noise");
    }

    @Test
    void aCiSmokeRunNeverSaysMet() throws IOException {
        Gate.Rule r = rule("Connect.connect muduo_blocking/netty_nio <= 0.4\n");
        assertEquals(Gate.Verdict.NOT_MEASURED, r.verdict(ci(0.1, 0.09, 0.11), true));
        assertEquals(Gate.Verdict.NOT_MEASURED, r.verdict(ci(0.9, 0.8, 1.0), true));
        List<Result> results = Result.load(fixture("one-fork.json"));
        for (Gate.Check c : Gate.evaluate(Gate.parse(file("Connect.connect muduo_blocking/netty_nio <= 0.4\n")), results, true)) {
            assertEquals(Gate.Verdict.NOT_MEASURED, c.verdict);
            assertFalse(c.verdict.fails());
        }
    }

    @Test
    void oneForkIsInconclusiveEvenForAHugeDifference() throws IOException {
        List<Gate.Check> checks = Gate.evaluate(Gate.parse(file("Connect.connect muduo_blocking/netty_nio <= 0.4\n")),
                Result.load(fixture("one-fork.json")), false);
        assertEquals(1, checks.size());
        assertEquals(0.1, checks.get(0).ratio.value, 1e-12);
        assertEquals(Gate.Verdict.INCONCLUSIVE, checks.get(0).verdict);
    }

    @Test
    void threeForkFixtureGivesMetMissedAndInconclusive() throws IOException {
        List<Result> results = Result.load(fixture("three-forks.json"));
        List<Gate.Check> checks = Gate.evaluate(Gate.parse(file(String.join("\n",
                "Connect.connect muduo_blocking/netty_nio <= 0.8",      // 0.708, tight interval: met
                "Connect.connect muduo_blocking/netty_nio <= 0.6",      // missed
                "Connect.connect muduo_blocking/netty_nio <= 0.709",    // inside the interval: inconclusive
                "PingPong.pingpong[connections=10] muduo_blocking/netty_nio >= 1.1",
                "PingPong.pingpong[connections=100] muduo_blocking/netty_nio >= 1.1",
                "RoundTrip.callerThread muduo_blocking/jdk <= 1.0", ""))), results, false);
        assertEquals(6, checks.size());
        assertEquals(Gate.Verdict.MET, checks.get(0).verdict);
        assertEquals(70.5556 / 99.6667, checks.get(0).ratio.value, 1e-4);
        assertTrue(checks.get(0).ratio.lo < 0.709 && checks.get(0).ratio.hi > 0.709);
        assertEquals(Gate.Verdict.MISSED, checks.get(1).verdict);
        assertEquals(Gate.Verdict.INCONCLUSIVE, checks.get(2).verdict);
        assertEquals(Gate.Verdict.MET, checks.get(3).verdict, Gate.format(checks.get(3).ratio));
        assertEquals(1.2, checks.get(3).ratio.value, 1e-9);
        assertEquals(Gate.Verdict.NO_DATA, checks.get(4).verdict, "no case with connections=100");
        assertEquals(Gate.Verdict.NO_DATA, checks.get(5).verdict, "no jdk result");
        assertTrue(checks.get(4).verdict.fails());
        assertFalse(checks.get(2).verdict.fails());
    }

    @Test
    void allocationRulesWithPrefixesAndMissingData() throws IOException {
        List<Result> results = Result.load(fixture("three-forks.json"));
        List<Gate.AllocCheck> checks = Gate.evaluateAlloc(Gate.parseAlloc(file(String.join("\n",
                "# comment",
                "RoundTrip.callerThread muduo_* <= 16",   // 11 B/op: ok
                "RoundTrip.callerThread netty_nio <= 100", // 250 B/op: exceeded
                "PingPong.pingpong muduo_blocking <= 1",   // 411.43 B/sample x 98 samples/s / 115200 blocks/s = 0.35 B/block
                "RoundTrip.onLoop muduo_* <= 16", ""))), results);
        assertEquals(4, checks.size());
        assertTrue(checks.get(0).ok);
        assertEquals(11, checks.get(0).bytes, 1e-9);
        assertFalse(checks.get(1).ok);
        assertTrue(checks.get(2).ok);
        assertEquals(0.35, checks.get(2).bytes, 0.001);
        assertFalse(checks.get(3).ok, "no data fails");
        assertTrue(Double.isNaN(checks.get(3).bytes));
    }

    /** A trend breaks the interval's assumption: a ratio with a drifting side is never met or missed. */
    @Test
    void aDriftingSideMakesTheVerdictInconclusive() throws IOException {
        List<Gate.Rule> rules = Gate.parse(file("Connect.connect:avgt muduo_blocking/netty_nio <= 0.8\n"));
        Result steadyFast = Result.of("Connect.connect", "avgt", "muduo_blocking", java.util.Map.of(), "us/op",
                List.of(new double[] {50, 51, 50, 49, 50}, new double[] {51, 50, 49, 50, 51}, new double[] {50, 50, 51, 49, 50}));
        Result steadySlow = Result.of("Connect.connect", "avgt", "netty_nio", java.util.Map.of(), "us/op",
                List.of(new double[] {100, 101, 99, 100, 100}, new double[] {99, 100, 101, 100, 99}, new double[] {100, 99, 100, 101, 100}));
        Result warmingSlow = Result.of("Connect.connect", "avgt", "netty_nio", java.util.Map.of(), "us/op",
                List.of(new double[] {160, 140, 120, 100, 80}, new double[] {161, 139, 121, 99, 81}, new double[] {159, 141, 119, 101, 79}));

        Gate.Check steady = Gate.evaluate(rules, List.of(steadyFast, steadySlow), false).get(0);
        assertEquals(Gate.Verdict.MET, steady.verdict);
        Gate.Check drifting = Gate.evaluate(rules, List.of(steadyFast, warmingSlow), false).get(0);
        assertEquals(Gate.Verdict.INCONCLUSIVE, drifting.verdict);
        assertTrue(drifting.note.contains("netty_nio falling"), drifting.note);
    }

    /** JMH omits gc.alloc.rate.norm when no iteration allocated a byte; that is 0 B/op, not a failure. */
    @Test
    void anAbsentNormWithAZeroAllocationRateIsZeroBytes() throws IOException {
        JsonArray rows = JsonParser.parseString(Files.readString(fixture("three-forks.json"))).getAsJsonArray();
        JsonObject zero = rows.get(4).getAsJsonObject(); // PingPong muduo_blocking
        JsonObject unknown = rows.get(0).getAsJsonObject(); // Connect muduo_blocking
        for (JsonObject row : List.of(zero, unknown)) {
            row.getAsJsonObject("secondaryMetrics").remove("gc.alloc.rate.norm");
        }
        JsonObject rate = new JsonObject();
        rate.addProperty("score", 0.0);
        rate.addProperty("scoreUnit", "MB/sec");
        zero.getAsJsonObject("secondaryMetrics").add("gc.alloc.rate", rate);
        Path json = dir.resolve("zero-alloc.json");
        Files.writeString(json, rows.toString());

        List<Gate.AllocCheck> checks = Gate.evaluateAlloc(Gate.parseAlloc(file(String.join("\n",
                "PingPong.pingpong muduo_blocking <= 0",
                "Connect.connect muduo_blocking <= 1000", ""))), Result.load(json));
        assertEquals(2, checks.size());
        assertTrue(checks.get(0).ok, "no norm, rate 0: allocated nothing");
        assertEquals(0.0, checks.get(0).bytes);
        assertFalse(checks.get(1).ok, "no norm and no rate is still no data");
        assertTrue(Double.isNaN(checks.get(1).bytes));
    }

    @Test
    void badRulesAreRejectedWithTheLine() throws IOException {
        Path f = file("Connect.connect muduo_blocking netty_nio <= 1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Gate.parse(f));
        assertTrue(e.getMessage().contains(":1:"), e.getMessage());
        Path g = file("\nConnect.connect:bogus muduo_*  <= 1\n");
        assertThrows(IllegalArgumentException.class, () -> Gate.parseAlloc(g));
    }

    @Test
    void theCommittedRuleFilesParse() throws IOException {
        assertFalse(Gate.parse(Path.of("targets.txt")).isEmpty());
        assertFalse(Gate.parseAlloc(Path.of("ci-alloc.txt")).isEmpty());
    }
}
