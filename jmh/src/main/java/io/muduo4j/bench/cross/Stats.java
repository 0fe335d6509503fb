package io.muduo4j.bench.cross;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Median and range over rounds, and ratios computed per round with the 95% interval of their
 * geometric mean. NaN values are left out.
 */
final class Stats {
    private Stats() {
    }

    /**
     * Median, minimum, maximum and count of a set of values; for positive values also their
     * geometric mean and its 95% interval (Student t on the logarithms, n - 1 degrees of freedom;
     * the interval NaN below two values, all three NaN with a value that is not positive).
     */
    static final class Summary {
        final double median;
        final double min;
        final double max;
        final int n;
        final double geoMean;
        final double low95;
        final double high95;

        Summary(double median, double min, double max, int n, double geoMean, double low95, double high95) {
            this.median = median;
            this.min = min;
            this.max = max;
            this.n = n;
            this.geoMean = geoMean;
            this.low95 = low95;
            this.high95 = high95;
        }

        static final Summary EMPTY = new Summary(Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN,
                Double.NaN);
    }

    static Summary summarize(Collection<Double> values) {
        List<Double> v = new ArrayList<>();
        for (Double d : values) {
            if (d != null && !d.isNaN()) {
                v.add(d);
            }
        }
        if (v.isEmpty()) {
            return Summary.EMPTY;
        }
        v.sort(null);
        int n = v.size();
        double median = (n % 2 == 1) ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2.0;
        double[] gm = {Double.NaN, Double.NaN, Double.NaN};
        if (v.get(0) > 0) { // a value that is not positive has no logarithm
            gm = io.muduo4j.bench.report.Stats.geometricMean(v.stream().mapToDouble(Double::doubleValue).toArray());
        }
        return new Summary(median, v.get(0), v.get(n - 1), n, gm[0], gm[1], gm[2]);
    }

    /**
     * {@code value[r] / reference[r]} for every round {@code r} present in both with a usable value
     * (reference non-zero), in round order of {@code value}.
     */
    static List<Double> perRoundRatios(Map<Integer, Double> value, Map<Integer, Double> reference) {
        List<Double> out = new ArrayList<>();
        value.keySet().stream().sorted().forEach(r -> {
            Double a = value.get(r);
            Double b = reference.get(r);
            if (a != null && b != null && !a.isNaN() && !b.isNaN() && b != 0.0) {
                out.add(a / b);
            }
        });
        return out;
    }
}
