package io.muduo4j.bench.cross;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One raw result: a metric of one client run, as a line of {@code results.tsv}. */
final class Row {
    static final String HEADER = "round\tsection\timpl\tserver\tclient\tfigure\tmetric\tvalue\tstatus";

    final int round;
    /** {@code server} (server cost: impl is the server) or {@code client} (client cost: impl is the client). */
    final String section;
    final String impl;
    final String server;
    final String client;
    final String figure;
    final String metric;
    final double value;
    /** {@code ok}, or why there is no value. */
    final String status;

    Row(int round, String section, String impl, String server, String client, String figure, String metric, double value,
        String status) {
        this.round = round;
        this.section = section;
        this.impl = impl;
        this.server = server;
        this.client = client;
        this.figure = figure;
        this.metric = metric;
        this.value = value;
        this.status = status;
    }

    String tsv() {
        return round + "\t" + section + "\t" + impl + "\t" + server + "\t" + client + "\t" + figure + "\t" + metric + "\t"
                + (Double.isNaN(value) ? "NaN" : String.format(Locale.ROOT, "%.4f", value)) + "\t"
                + status.replace('\t', ' ').replace('\n', ' ');
    }

    static Row parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 9) {
            throw new IllegalArgumentException("expected 9 tab-separated fields, got " + f.length + ": " + line);
        }
        return new Row(Integer.parseInt(f[0]), f[1], f[2], f[3], f[4], f[5], f[6], Double.parseDouble(f[7]), f[8]);
    }

    static List<Row> parseAll(List<String> lines) {
        List<Row> rows = new ArrayList<>();
        for (String l : lines) {
            if (!l.isBlank() && !l.equals(HEADER)) {
                rows.add(parse(l));
            }
        }
        return rows;
    }
}
