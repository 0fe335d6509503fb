package io.muduo4j.bench.cross;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RESULT-line parsing, statistics, strace summaries, templates and the report table of the cross-process mode. */
class CrossProcessParsingTest {
    @Test
    void lastResultLineWins() {
        String out = "netty-nio: 1 connections\nRESULT mib_s=1.00 msgs=5\nnoise\nRESULT mib_s=2.50 msgs=7 rtt_p50_us=31.2\n";
        ResultLine r = ResultLine.parseLast(out);
        assertEquals(2.5, r.number("mib_s").getAsDouble());
        assertEquals(7, r.number("msgs").getAsDouble());
        assertEquals(31.2, r.number("rtt_p50_us").getAsDouble());
        assertTrue(r.number("rtt_p99_us").isEmpty());
        assertNull(ResultLine.parseLast("no result here\nRESULTS are elsewhere\n"));
    }

    @Test
    void fallbackKeysAndPluginFormat() {
        // c-floor connect_bench in echo1 mode reports conn_* keys, with words and non-numbers in between
        ResultLine r = ResultLine.parse("RESULT client=c mode=echo1 count=300 conn_p50_us=41.25 conn_p99_us=NaN conn_per_s=9000");
        assertEquals(41.25, r.number("echo1_p50_us", "conn_p50_us").getAsDouble());
        assertTrue(r.number("echo1_p99_us", "conn_p99_us").isEmpty(), "NaN is no value");
        assertEquals("c", r.get("client"));
        ResultLine ours = ResultLine.parse("RESULT start=caller echo1_p50_us=50.0 echo1_p99_us=90.0 echo1_per_s=1.0 conn_p50_us=1");
        assertEquals(50.0, ours.number("echo1_p50_us", "conn_p50_us").getAsDouble(), "the figure's own key first");
        assertThrows(IllegalArgumentException.class, () -> ResultLine.parse("conn_p50_us=1"));
    }

    @Test
    void medianAndRange() {
        Stats.Summary odd = Stats.summarize(List.of(5.0, 1.0, 3.0));
        assertEquals(3.0, odd.median);
        assertEquals(1.0, odd.min);
        assertEquals(5.0, odd.max);
        assertEquals(3, odd.n);
        Stats.Summary even = Stats.summarize(List.of(4.0, 1.0, Double.NaN, 2.0, 10.0));
        assertEquals(3.0, even.median, "mean of the two middle values, NaN left out");
        assertEquals(4, even.n);
        assertEquals(0, Stats.summarize(List.of(Double.NaN)).n);
        assertTrue(Double.isNaN(Stats.summarize(List.of()).median));
    }

    @Test
    void ratioCellsCarryTheIntervalOfTheGeometricMean() {
        Stats.Summary same = Stats.summarize(List.of(2.0, 2.0, 2.0));
        assertEquals("2.00 (2.00–2.00) gm 2.00 [2.00, 2.00]", CrossReport.cell(same, true), "no spread, no width");
        assertEquals("2.00 (2.00–2.00)", CrossReport.cell(same, false), "values carry no interval");
        // logs -ln 2 and +ln 2: mean 0, standard error ln 2, t(0.975, 1) = 12.7062047
        Stats.Summary two = Stats.summarize(List.of(0.5, 2.0));
        assertEquals(1.0, two.geoMean, 1e-12);
        assertEquals(1.49641e-4, two.low95, 1e-8);
        assertEquals(6682.65, two.high95, 0.01);
        assertTrue(Double.isNaN(Stats.summarize(List.of(3.0)).low95), "one round: no interval");
        assertTrue(Double.isNaN(Stats.summarize(List.of(0.0, 1.0)).geoMean), "a zero has no logarithm");
        assertEquals("3.00", CrossReport.cell(Stats.summarize(List.of(3.0)), true));
    }

    @Test
    void ratiosArePerRound() {
        // the reference drifts by round; per-round ratios see through the drift, ratio of medians would not
        Map<Integer, Double> impl = Map.of(1, 20.0, 2, 40.0, 3, 60.0, 4, 7.0);
        Map<Integer, Double> ref = Map.of(1, 10.0, 2, 20.0, 3, 30.0, 5, 1.0);
        List<Double> r = Stats.perRoundRatios(impl, ref);
        assertEquals(List.of(2.0, 2.0, 2.0), r, "only rounds present in both");
        assertEquals(List.of(), Stats.perRoundRatios(Map.of(1, 1.0), Map.of(1, 0.0)), "a zero reference gives no ratio");
    }

    @Test
    void straceSummary() {
        String small = "% time     seconds  usecs/call     calls    errors syscall\n"
                + "------ ----------- ----------- --------- --------- ------------------\n"
                + " 93.00    3.393952        1332      2548       254 futex\n"
                + "  0.66    0.024070         119       202       202 connect\n"
                + "  0.50    0.018394          21       842           read\n"
                + "------ ----------- ----------- --------- --------- ------------------\n"
                + "100.00    3.649256         265      3592       456 total\n";
        String large = small.replace("2548", "2748").replace("  202       202 connect", " 1202      1202 connect")
                .replace("842", "2842").replace("3592", "6792");
        Map<String, Long> a = StraceCounts.parse(small);
        assertEquals(Map.of("futex", 2548L, "connect", 202L, "read", 842L), a);
        assertEquals(3592, StraceCounts.total(a));
        Map<String, Long> b = StraceCounts.parse(large);
        Map<String, Double> per = StraceCounts.perOperation(a, b, 1000);
        assertEquals(List.of("read", "connect", "futex"), List.copyOf(per.keySet()), "largest first");
        assertEquals(2.0, per.get("read"));
        assertEquals(1.0, per.get("connect"));
        assertEquals(0.2, per.get("futex"), 1e-12);
        assertEquals("read 2.00, connect 1.00, futex 0.20", Syscalls.top(per));
    }

    @Test
    void templates() {
        assertEquals("echo_server 4242 x", Endpoints.fill("echo_server {port} x", Map.of("port", "4242")));
        assertThrows(IllegalArgumentException.class, () -> Endpoints.fill("srv {prot}", Map.of("port", "1")));
        Endpoints.Client c = Endpoints.pluginClient("c", Map.of("connect", "cb {host} {port} {count} {mode} {warmup_n}"));
        Endpoints.RunParams p = new Endpoints.RunParams(0.5, 2, 100, 300);
        assertEquals(List.of("bash", "-c", "exec cb 127.0.0.1 9 300 echo1 100"),
                c.command(Figure.byId("echo1"), "127.0.0.1", 9, p), "echo1 falls back to a connect template with {mode}");
        assertNull(c.command(Figure.byId("connect_loop"), "127.0.0.1", 9, p), "plug-ins do not start connects on a loop");
        assertNull(c.command(Figure.byId("rtt16"), "127.0.0.1", 9, p), "no pingpong template");
        Endpoints.Client noMode = Endpoints.pluginClient("d", Map.of("connect", "cb {port}"));
        assertNull(noMode.command(Figure.byId("echo1"), "h", 9, p), "a connect template without {mode} cannot do echo1");
        assertEquals("0.5", Endpoints.num(0.5));
        assertEquals("3", Endpoints.num(3.0));
    }

    @Test
    void reportTableAndRows() {
        List<Row> rows = Row.parseAll(List.of(Row.HEADER,
                "1\tserver\tmuduo4j\tmuduo4j\tjdk\ttput1\tmib_s\t100.0000\tok",
                "1\tserver\tnetty-nio\tnetty-nio\tjdk\ttput1\tmib_s\t50.0000\tok",
                "2\tserver\tmuduo4j\tmuduo4j\tjdk\ttput1\tmib_s\t200.0000\tok",
                "2\tserver\tnetty-nio\tnetty-nio\tjdk\ttput1\tmib_s\t150.0000\tok",
                "3\tserver\tmuduo4j\tmuduo4j\tjdk\ttput1\tmib_s\tNaN\texit 1"));
        Row back = Row.parse(rows.get(0).tsv());
        assertEquals(100.0, back.value);
        assertEquals("muduo4j", back.impl);
        String t = CrossReport.table(rows, "server", Figure.byId("tput1"), "muduo4j");
        assertTrue(t.contains("| muduo4j | 2 | 150.0 (100.0–200.0) | 1.00 (1.00–1.00) gm 1.00 [1.00, 1.00] |"), t);
        assertTrue(t.contains("| netty-nio | 2 | 100.0 (50.0–150.0) | 0.63 (0.50–0.75) gm 0.61 [0.05, 8.05] |"), t);
        assertEquals("", CrossReport.table(rows, "client", Figure.byId("tput1"), "muduo4j"));
    }
}
