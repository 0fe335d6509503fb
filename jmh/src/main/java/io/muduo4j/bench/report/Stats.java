package io.muduo4j.bench.report;

import java.util.List;
import java.util.Locale;

/**
 * The statistics of the report, all over <em>forks</em>: a fork is one JVM, and iterations inside
 * one JVM share its JIT decisions, heap layout and thread placement, so they are not independent
 * samples. Each fork contributes one number (its mean); intervals come from the spread of those
 * numbers across forks.
 *
 * <ul>
 *   <li>Quantiles of Student's t are exact (regularized incomplete beta, bisection), also for
 *       Welch's non-integer degrees of freedom.</li>
 *   <li>Score: mean of the per-fork means, 95% Student-t interval with n-1 degrees of freedom.</li>
 *   <li>Ratio A/B: ratio of the two means of per-fork means. Its 95% interval is built on the log
 *       scale (delta method): {@code se(log R)^2 = sA^2/(nA*meanA^2) + sB^2/(nB*meanB^2)}, degrees of
 *       freedom by Welch-Satterthwaite, interval {@code R * exp(+-t * se)}. The log scale keeps the
 *       interval positive and symmetric for A/B and B/A; Welch does not assume equal spread of the
 *       two implementations. Fewer than 2 forks on either side: no interval.</li>
 *   <li>Steady state: per fork, the logarithms of the measured iteration scores are regressed on the
 *       iteration index (one common slope, each fork centred on its own mean). The drift is
 *       {@code exp(slope x (iterations - 1)) - 1}: the fitted relative change from the first
 *       measured iteration to the last. It is flagged when it is at least {@link #DRIFT_THRESHOLD} and the slope differs
 *       from 0 at the 5% level (t test on the pooled residuals). A warm-up that ends during the first
 *       measured iteration is not a straight line, so a second test flags a first iteration that
 *       differs from the mean of the others by at least {@link #FIRST_THRESHOLD} in the same direction
 *       in every fork (with 3 forks of pure noise that happens rarely; with 1 fork it is a warning).</li>
 * </ul>
 */
public final class Stats {
    /** Smallest relative drift over the measured iterations that is flagged (5%). */
    static final double DRIFT_THRESHOLD = 0.05;
    /** Smallest change from the first measured iteration to the rest that is flagged when every fork shows it (10%). */
    static final double FIRST_THRESHOLD = 0.10;

    private Stats() {
    }

    /** t(0.975, df): the two-sided 95% Student-t quantile, also for the non-integer df of Welch's formula. */
    static double t975(double df) {
        if (!(df >= 1)) {
            throw new IllegalArgumentException("df " + df);
        }
        // P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2) is decreasing in t; solve = 0.05 by bisection
        double lo = 0;
        double hi = 20;
        while (twoSidedP(hi, df) > 0.05) {
            hi *= 2;
        }
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (twoSidedP(mid, df) > 0.05) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** P(|T| > t) for Student's t with df degrees of freedom. */
    static double twoSidedP(double t, double df) {
        return regularizedBeta(df / (df + t * t), df / 2, 0.5);
    }

    /** I_x(a, b), by the continued fraction (Lentz), as in Numerical Recipes' betai/betacf. */
    static double regularizedBeta(double x, double a, double b) {
        if (x <= 0) {
            return 0;
        }
        if (x >= 1) {
            return 1;
        }
        double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
        if (x < (a + 1) / (a + b + 2)) {
            return front * betaFraction(x, a, b) / a;
        }
        return 1 - front * betaFraction(1 - x, b, a) / b;
    }

    private static double betaFraction(double x, double a, double b) {
        final double tiny = 1e-300;
        double c = 1;
        double d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.abs(d) < tiny ? tiny : d);
        double h = d;
        for (int m = 1; m <= 300; m++) {
            double m2 = 2.0 * m;
            double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + aa * d;
            d = 1 / (Math.abs(d) < tiny ? tiny : d);
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            h *= d * c;
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + aa * d;
            d = 1 / (Math.abs(d) < tiny ? tiny : d);
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-15) {
                break;
            }
        }
        return h;
    }

    /** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms). */
    static double logGamma(double x) {
        final double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7};
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        }
        x -= 1;
        double s = c[0];
        for (int i = 1; i < 9; i++) {
            s += c[i] / (x + i);
        }
        double t = x + 7.5;
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /** Sample variance (n-1); 0 for one value. */
    static double variance(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return s / (v.length - 1);
    }

    /** A point estimate with its 95% interval; lo and hi are NaN when there is no interval (one fork). */
    static final class Estimate {
        final double value;
        final double lo;
        final double hi;
        final int n;

        Estimate(double value, double lo, double hi, int n) {
            this.value = value;
            this.lo = lo;
            this.hi = hi;
            this.n = n;
        }

        boolean hasInterval() {
            return !Double.isNaN(lo) && !Double.isNaN(hi);
        }

        /** Half-width relative to the value, e.g. 0.05 for +-5%; NaN without an interval. */
        double relativeHalfWidth() {
            return hasInterval() ? (hi - lo) / 2 / Math.abs(value) : Double.NaN;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.4g [%.4g, %.4g] (n=%d)", value, lo, hi, n);
        }
    }

    /** Mean of per-fork means with a t interval. */
    static Estimate meanOfForks(double[] forkMeans) {
        int n = forkMeans.length;
        if (n == 0) {
            return new Estimate(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        double m = mean(forkMeans);
        if (n < 2) {
            return new Estimate(m, Double.NaN, Double.NaN, n);
        }
        double h = t975(n - 1) * Math.sqrt(variance(forkMeans) / n);
        return new Estimate(m, m - h, m + h, n);
    }

    /**
     * The geometric mean of positive values with the 95% interval of {@link #meanOfForks} taken on
     * their logarithms: {@code {mean, low, high}}, low and high NaN below two values.
     */
    public static double[] geometricMean(double[] positive) {
        double[] logs = new double[positive.length];
        for (int i = 0; i < logs.length; i++) {
            logs[i] = Math.log(positive[i]);
        }
        Estimate e = meanOfForks(logs);
        return new double[] {Math.exp(e.value), Math.exp(e.lo), Math.exp(e.hi)};
    }

    /** Ratio of the means of per-fork means, a over b, with a delta-method/Welch interval on log(ratio). */
    static Estimate ratio(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            return new Estimate(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        double ma = mean(a);
        double mb = mean(b);
        double r = ma / mb;
        int n = Math.min(a.length, b.length);
        if (!(ma > 0) || !(mb > 0)) {
            return new Estimate(mb == 0 ? Double.NaN : r, Double.NaN, Double.NaN, n);
        }
        if (a.length < 2 || b.length < 2) {
            return new Estimate(r, Double.NaN, Double.NaN, n);
        }
        double va = variance(a) / (a.length * ma * ma);
        double vb = variance(b) / (b.length * mb * mb);
        double v = va + vb;
        if (v == 0) {
            return new Estimate(r, r, r, n);
        }
        double df = v * v / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
        double h = t975(Math.max(1, df)) * Math.sqrt(v);
        return new Estimate(r, r * Math.exp(-h), r * Math.exp(h), n);
    }

    /** The steady-state check of one benchmark case (see the class comment). */
    static final class Drift {
        /** Relative change from the first to the last measured iteration (0.1 = +10%); NaN if not computable. */
        final double change;
        final double t;
        final double df;
        final boolean flagged;

        Drift(double change, double t, double df, boolean flagged) {
            this.change = change;
            this.t = t;
            this.df = df;
            this.flagged = flagged;
        }

        boolean computable() {
            return !Double.isNaN(change);
        }

        /**
         * Flagged and moving the way a warm-up moves (time per op falling, throughput rising): the
         * measurement began before steady state. A flagged drift the other way is not cured by more
         * warm-up (co-scheduling of busy threads on few cores, GC, TCP buffer growth).
         */
        boolean warming(boolean higherIsBetter) {
            return flagged && (higherIsBetter ? change > 0 : change < 0);
        }

        /** "steady", "falling 12%", "rising 7%", or "n/a" with fewer than 3 iterations per fork. */
        String label() {
            if (!computable()) {
                return "n/a";
            }
            if (!flagged) {
                return "steady";
            }
            return String.format(Locale.ROOT, "%s %.0f%%", change < 0 ? "falling" : "rising", Math.abs(change) * 100);
        }
    }

    /** Steady-state check over the measured iterations of every fork (forks with fewer than 3 are skipped). */
    static Drift drift(List<double[]> forks) {
        List<double[]> logs = new java.util.ArrayList<>();
        for (double[] it : forks) {
            if (it.length < 3) {
                continue;
            }
            double[] l = new double[it.length];
            boolean ok = true;
            for (int i = 0; i < it.length; i++) {
                ok &= it[i] > 0;
                l[i] = Math.log(it[i]);
            }
            if (ok) {
                logs.add(l);
            }
        }
        double sxy = 0;
        double sxx = 0;
        int points = 0;
        double span = 0;
        for (double[] l : logs) {
            double m = mean(l);
            double xc = (l.length - 1) / 2.0;
            for (int i = 0; i < l.length; i++) {
                sxy += (i - xc) * (l[i] - m);
                sxx += (i - xc) * (i - xc);
            }
            points += l.length;
            span += l.length - 1;
        }
        int used = logs.size();
        double df = points - used - 1;
        if (used == 0 || df < 1 || sxx == 0) {
            return new Drift(Double.NaN, Double.NaN, Double.NaN, false);
        }
        double slope = sxy / sxx;
        double sse = 0;
        for (double[] l : logs) {
            double m = mean(l);
            double xc = (l.length - 1) / 2.0;
            for (int i = 0; i < l.length; i++) {
                double e = (l[i] - m) - slope * (i - xc);
                sse += e * e;
            }
        }
        // fitted last / fitted first - 1, over the average number of measured iterations
        double change = Math.expm1(slope * span / used);
        double se = Math.sqrt(sse / df / sxx);
        double t = se == 0 ? (slope == 0 ? 0 : Double.POSITIVE_INFINITY) : slope / se;
        if (Math.abs(change) >= DRIFT_THRESHOLD && Math.abs(t) > t975(df)) {
            return new Drift(change, t, df, true);
        }
        // warm-up that ends inside the first measured iteration bends the curve: a straight line fits
        // it badly, so also flag a first iteration that is off the rest by FIRST_THRESHOLD, the same
        // way, in every fork; the change is then from the first iteration to the mean of the rest
        double sum = 0;
        int sign = 0;
        for (double[] it : forks) {
            if (it.length < 3) {
                continue;
            }
            double rest = 0;
            for (int i = 1; i < it.length; i++) {
                rest += it[i];
            }
            rest /= it.length - 1;
            double c = (rest - it[0]) / it[0];
            int sg = c >= FIRST_THRESHOLD ? 1 : c <= -FIRST_THRESHOLD ? -1 : 0;
            if (sg == 0 || (sign != 0 && sg != sign)) {
                return new Drift(change, t, df, false);
            }
            sign = sg;
            sum += c;
        }
        return new Drift(sum / used, t, df, true);
    }
}
