package io.muduo4j.bench.cross;

import java.util.List;

/** One figure of the cross-process matrix: a client run of one kind and the RESULT keys it reports. */
final class Figure {
    /** What the client program does. */
    enum Kind {
        /** PingPongClient / any pingpong load generator. */
        PINGPONG,
        /** ConnectClient: sequential connect + abortive close. */
        CONNECT,
        /** ConnectClient --echo: connect, 1-byte echo, abortive close (the server's accept path). */
        ECHO1
    }

    /** One number of a figure: the RESULT key (then fallbacks), its label, and which way is better. */
    static final class Metric {
        final String key;
        final String[] fallbacks;
        final String label;
        final String unit;
        final boolean higherBetter;
        final boolean chart;

        Metric(String key, String label, String unit, boolean higherBetter, boolean chart, String... fallbacks) {
            this.key = key;
            this.fallbacks = fallbacks;
            this.label = label;
            this.unit = unit;
            this.higherBetter = higherBetter;
            this.chart = chart;
        }

        String[] keys() {
            String[] k = new String[fallbacks.length + 1];
            k[0] = key;
            System.arraycopy(fallbacks, 0, k, 1, fallbacks.length);
            return k;
        }
    }

    final String id;
    final String title;
    final Kind kind;
    final int connections;
    final int size;
    /** caller or loop (CONNECT only). */
    final String start;
    final List<Metric> metrics;

    Figure(String id, String title, Kind kind, int connections, int size, String start, List<Metric> metrics) {
        this.id = id;
        this.title = title;
        this.kind = kind;
        this.connections = connections;
        this.size = size;
        this.start = start;
        this.metrics = metrics;
    }

    /** The matrix, in run order. */
    static final List<Figure> ALL = List.of(
            new Figure("rtt16", "RTT, 1 connection x 16 B", Kind.PINGPONG, 1, 16, "caller", List.of(
                    new Metric("rtt_p50_us", "p50", "us", false, true),
                    new Metric("rtt_p99_us", "p99", "us", false, false))),
            new Figure("tput1", "Throughput, 1 connection x 16 KiB", Kind.PINGPONG, 1, 16384, "caller", List.of(
                    new Metric("mib_s", "throughput", "MiB/s", true, true))),
            new Figure("tput16", "Throughput, 16 connections x 16 KiB", Kind.PINGPONG, 16, 16384, "caller", List.of(
                    new Metric("mib_s", "throughput", "MiB/s", true, true))),
            new Figure("connect", "Sequential connect, started from the caller thread", Kind.CONNECT, 1, 0, "caller",
                    List.of(new Metric("conn_p50_us", "p50", "us", false, true),
                            new Metric("conn_p99_us", "p99", "us", false, false),
                            new Metric("conn_per_s", "rate", "connects/s", true, false))),
            new Figure("connect_loop", "Sequential connect, started on the client loop", Kind.CONNECT, 1, 0, "loop",
                    List.of(new Metric("conn_p50_us", "p50", "us", false, true),
                            new Metric("conn_p99_us", "p99", "us", false, false),
                            new Metric("conn_per_s", "rate", "connects/s", true, false))),
            new Figure("echo1", "Connect + 1-byte echo + reset (accept path)", Kind.ECHO1, 1, 1, "caller",
                    List.of(new Metric("echo1_p50_us", "p50", "us", false, true, "conn_p50_us"),
                            new Metric("echo1_p99_us", "p99", "us", false, false, "conn_p99_us"),
                            new Metric("echo1_per_s", "rate", "connections/s", true, false, "conn_per_s"))));

    static Figure byId(String id) {
        for (Figure f : ALL) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        return null;
    }
}
