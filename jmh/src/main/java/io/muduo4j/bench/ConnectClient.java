package io.muduo4j.bench;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Sequential connect-establish-close against any listening server; each connection is closed with
 * SO_LINGER 0 (RST), so no TIME_WAIT is left and any count can run without exhausting ephemeral
 * ports.
 */
@Command(name = "ConnectClient", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sequential connect-establish-close against any listening server (abortive close: "
                + "SO_LINGER 0, so no TIME_WAIT). Ends with one line",
                "RESULT conn_p50_us=<x> conn_p99_us=<x> conn_per_s=<x>",
                "Each sample runs from starting the connect to the established-connection callback (jdk: connect() "
                        + "returning), plus initiating the close."})
public final class ConnectClient implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H", description = "Server host. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", required = true, paramLabel = "P", description = "Server port.")
    int port;

    @Option(names = "--count", defaultValue = "10000", paramLabel = "N", description = "Connections, one after another. Default: ${DEFAULT-VALUE}.")
    int count;

    @Option(names = "--warmup", defaultValue = "0", paramLabel = "W",
            description = "Connections made first and not counted (JIT warm-up). Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--impl", defaultValue = "muduo4j", paramLabel = "IMPL", converter = Cli.KindConverter.class,
            completionCandidates = Cli.KindCandidates.class,
            description = "Client implementation: ${COMPLETION-CANDIDATES}. Default: muduo4j.")
    Cli.Kind impl;

    @Option(names = "--mode", defaultValue = "blocking", paramLabel = "MODE", converter = Cli.ModeConverter.class,
            completionCandidates = Cli.ModeCandidates.class,
            description = "muduo4j client loop mode: ${COMPLETION-CANDIDATES}. Default: blocking.")
    Cli.Mode mode;

    @Override
    public Integer call() throws Exception {
        Cli.checkPort(spec, port, false);
        Cli.require(spec, count >= 1 && count <= 100_000_000, "--count must be 1..100000000, got " + count);
        Cli.require(spec, warmup >= 0 && warmup <= 100_000_000, "--warmup must be 0..100000000, got " + warmup);
        Cli.require(spec, mode == Cli.Mode.BLOCKING || impl == Cli.Kind.MUDUO4J,
                "--mode spinning is only for --impl muduo4j");
        InetSocketAddress server = Cli.resolve(spec, host, port);
        Histogram h = new Histogram(PingPongSession.MAX_RTT_NANOS, 3);
        long t0;
        long t1;
        try (Peer.ConnectProbe probe = impl.peer(false, mode == Cli.Mode.SPINNING).connectProbe(server)) {
            for (int i = 0; i < warmup; i++) {
                probe.connectOnce();
            }
            t0 = System.nanoTime();
            long last = t0;
            for (int i = 0; i < count; i++) {
                probe.connectOnce();
                long now = System.nanoTime();
                h.recordValue(Math.min(now - last, PingPongSession.MAX_RTT_NANOS));
                last = now;
            }
            t1 = last;
        }
        double secs = (t1 - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%s: %d connections in %.3f s, mean %.1f us, max %.1f us%n", impl.label, count, secs,
                h.getMean() / 1000.0, Cli.micros(h.getMaxValue()));
        System.out.printf(Locale.ROOT, "RESULT conn_p50_us=%.1f conn_p99_us=%.1f conn_per_s=%.1f%n",
                Cli.micros(h.getValueAtPercentile(50)), Cli.micros(h.getValueAtPercentile(99)), count / secs);
        return 0;
    }

    public static void main(String[] args) {
        Cli.run(new ConnectClient(), args);
    }
}
