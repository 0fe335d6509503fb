package io.muduo4j.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
    @Test
    void tQuantilesFromTheTableAndBetween() {
        assertEquals(12.7062, Stats.t975(1), 1e-3);
        assertEquals(4.3027, Stats.t975(2), 1e-3);
        assertEquals(2.0423, Stats.t975(30), 1e-3);
        assertEquals(1.960, Stats.t975(1e12), 1e-3);
        double t = Stats.t975(2.5); // exact value 3.5747
        assertTrue(t < 4.303 && t > 3.182);
        assertEquals(3.5747, t, 0.001);
        assertEquals(2.0086, Stats.t975(50), 0.0005);
    }

    @Test
    void meanOfForksHasAStudentTInterval() {
        Stats.Estimate e = Stats.meanOfForks(new double[] {10, 12, 14});
        // sd 2, se 2/sqrt(3), t(0.975, 2) = 4.303
        double h = Stats.t975(2) * 2 / Math.sqrt(3);
        assertEquals(12, e.value, 1e-12);
        assertEquals(12 - h, e.lo, 1e-9);
        assertEquals(12 + h, e.hi, 1e-9);
        assertEquals(3, e.n);
    }

    @Test
    void oneForkHasNoInterval() {
        Stats.Estimate e = Stats.meanOfForks(new double[] {10});
        assertEquals(10, e.value, 0);
        assertFalse(e.hasInterval());
        assertFalse(Stats.ratio(new double[] {1}, new double[] {2, 2.1, 1.9}).hasInterval());
        assertFalse(Stats.ratio(new double[] {1, 1.1, 0.9}, new double[] {2}).hasInterval());
    }

    @Test
    void ratioIntervalByDeltaMethodOnTheLogScaleWithWelchDegreesOfFreedom() {
        // a: mean 12, variance 4, n 3; b: constant 20 -> only a contributes, df = n_a - 1 = 2
        Stats.Estimate r = Stats.ratio(new double[] {10, 12, 14}, new double[] {20, 20, 20});
        double se = Math.sqrt(4.0 / (3 * 144));
        assertEquals(0.6, r.value, 1e-12);
        assertEquals(0.6 * Math.exp(-Stats.t975(2) * se), r.lo, 1e-9);
        assertEquals(0.6 * Math.exp(Stats.t975(2) * se), r.hi, 1e-9);
        // symmetric on the log scale: b/a is the reciprocal interval
        Stats.Estimate inv = Stats.ratio(new double[] {20, 20, 20}, new double[] {10, 12, 14});
        assertEquals(1 / r.value, inv.value, 1e-12);
        assertEquals(1 / r.hi, inv.lo, 1e-9);
        assertEquals(1 / r.lo, inv.hi, 1e-9);
    }

    @Test
    void ratioWelchDegreesOfFreedomWithTwoNoisySides() {
        double[] a = {10, 11, 12, 13};
        double[] b = {20, 24, 22};
        double va = Stats.variance(a) / (4 * 11.5 * 11.5);
        double vb = Stats.variance(b) / (3 * 22.0 * 22.0);
        double df = (va + vb) * (va + vb) / (va * va / 3 + vb * vb / 2);
        assertTrue(df > 2 && df < 5, "df " + df);
        Stats.Estimate r = Stats.ratio(a, b);
        double h = Stats.t975(df) * Math.sqrt(va + vb);
        assertEquals(11.5 / 22, r.value, 1e-12);
        assertEquals(r.value * Math.exp(-h), r.lo, 1e-12);
        assertEquals(r.value * Math.exp(h), r.hi, 1e-12);
    }

    @Test
    void identicalForksGiveADegenerateInterval() {
        Stats.Estimate r = Stats.ratio(new double[] {5, 5, 5}, new double[] {10, 10});
        assertEquals(0.5, r.lo, 0);
        assertEquals(0.5, r.hi, 0);
    }

    @Test
    void driftFlagsScoresStillFallingInEveryFork() {
        Stats.Drift d = Stats.drift(List.of(new double[] {100, 90, 80, 70, 60}, new double[] {102, 91, 79, 71, 59},
                new double[] {99, 90, 81, 69, 61}));
        assertTrue(d.flagged);
        assertEquals(-0.4, d.change, 0.03); // 100 -> 60
        assertTrue(d.label().matches("falling 4[0-2]%"), d.label());
    }

    @Test
    void driftFlagsNettyNioConnectAsWarmingUp() {
        // the measured iterations of issue 9: 169, 102, 70, 70 us in one fork
        Stats.Drift d = Stats.drift(List.of(new double[] {168.7, 101.6, 69.6, 69.7}));
        assertTrue(d.flagged, d.label());
        assertTrue(d.label().startsWith("falling"), d.label());
    }

    @Test
    void driftFlagsAFirstIterationOffTheRestInEveryFork() {
        // warm-up ending inside the first measured iteration, then flat: not a straight line
        Stats.Drift d = Stats.drift(List.of(new double[] {150, 100, 101, 99, 100}, new double[] {130, 99, 100, 101, 100},
                new double[] {125, 100, 100, 100, 101}));
        assertTrue(d.flagged);
        assertTrue(d.label().startsWith("falling"), d.label());
        // the same first iterations, but one fork's is low: no common warm-up
        Stats.Drift mixed = Stats.drift(List.of(new double[] {150, 100, 101, 99, 100}, new double[] {80, 99, 100, 101, 100},
                new double[] {125, 100, 100, 100, 101}));
        assertFalse(mixed.flagged, mixed.label());
    }

    @Test
    void exactTQuantilesAgreeWithTheTwoSidedTailProbability() {
        for (double df : new double[] {1, 1.7, 2, 3.3, 7, 29.5, 200}) {
            assertEquals(0.05, Stats.twoSidedP(Stats.t975(df), df), 1e-9, "df " + df);
        }
    }

    @Test
    void driftFlagsRisingThroughput() {
        Stats.Drift d = Stats.drift(List.of(new double[] {800, 900, 1000, 1100}, new double[] {790, 910, 990, 1110}));
        assertTrue(d.flagged);
        assertTrue(d.label().startsWith("rising"), d.label());
        assertTrue(d.warming(true), "throughput rising: still warming up");
        assertFalse(d.warming(false), "time per op rising: getting worse, not warming up");
    }

    @Test
    void steadyScoresWithNoiseAreSteady() {
        Stats.Drift d = Stats.drift(List.of(new double[] {100, 101, 99, 100, 101}, new double[] {99, 100, 101, 100, 99},
                new double[] {70, 71, 70, 69, 70}));
        assertFalse(d.flagged);
        assertEquals("steady", d.label());
    }

    @Test
    void aSmallSignificantDriftBelowTheThresholdIsSteady() {
        Stats.Drift d = Stats.drift(List.of(new double[] {100, 101, 102, 103, 104}, new double[] {100, 101, 102, 103, 104}));
        assertEquals(0.04, d.change, 0.002);
        assertFalse(d.flagged);
    }

    @Test
    void aLargeButInsignificantChangeIsSteady() {
        // noise much larger than the fitted trend, forks disagree on its direction
        Stats.Drift d = Stats.drift(List.of(new double[] {100, 150, 60, 140, 90}, new double[] {90, 150, 70, 130, 110},
                new double[] {120, 60, 140, 80, 100}));
        assertFalse(d.flagged, d.label() + " t=" + d.t);
    }

    @Test
    void fewerThanThreeIterationsCannotBeChecked() {
        Stats.Drift d = Stats.drift(List.of(new double[] {100, 50}, new double[] {100, 50}));
        assertFalse(d.computable());
        assertEquals("n/a", d.label());
    }
}
