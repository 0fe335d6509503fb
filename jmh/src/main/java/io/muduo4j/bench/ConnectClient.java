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
 * ports. {@code --start loop} starts each connect on the client loop; {@code --echo} adds a
 * 1-byte echo per connection (the server's accept path).
 */
@Command(name = "ConnectClient", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sequential connect-establish-close against any listening server (abortive close: "
                + "SO_LINGER 0, so no TIME_WAIT). Ends with one line",
                "RESULT start=<caller|classic|loop> conn_p50_us=<x> conn_p99_us=<x> conn_per_s=<x>",
                "or, with --echo: RESULT start=caller echo1_p50_us=<x> echo1_p99_us=<x> echo1_per_s=<x>",
                "--start caller: each sample is timed on the measuring thread from starting the connect (after "
                        + "any wait for the probe's previous close) to the established-connection callback (jdk: "
                        + "connect() returning), or with --echo to the echo's arrival; the abortive close is started "
                        + "after the clock stops, as the C client connect_bench does. The rate counts whole cycles, "
                        + "close included.",
                "--start loop: the connects are started on the client loop (the next one from the previous "
                        + "connection's established callback); each sample is timed on the loop from starting the "
                        + "connect to the established callback. Not for jdk/jdk-virtual (no loop)."})
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

    @Option(names = "--transport", defaultValue = "auto", paramLabel = "T", converter = Cli.TransportConverter.class,
            description = Cli.TRANSPORT_HELP)
    io.muduo4j.net.Transport transport;

    @Option(names = "--start", defaultValue = "caller", paramLabel = "WHERE", converter = StartConverter.class,
            description = "Where each connect is started: caller (the measuring thread; muduo4j: TcpClient.connectNow()), "
                    + "classic (muduo4j only: TcpClient.connect() from the measuring thread, which queues the connect "
                    + "to the loop, then the established callback awaited) or loop (the client loop, "
                    + "as a proxy opens an upstream connection in a callback; not for jdk, jdk-virtual). "
                    + "Default: ${DEFAULT-VALUE}.")
    Peer.ConnectStart start;

    @Option(names = "--percentiles",
            description = "Also print the latency distribution (HdrHistogram percentiles, in microseconds) before the RESULT line.")
    boolean percentiles;

    @Option(names = "--echo",
            description = "Accept-path mode: after connecting, send 1 byte and wait for its 1-byte echo, then close "
                    + "abortively; timed per connection (RESULT keys echo1_*). Caller start only.")
    boolean echo;

    static final class StartConverter implements picocli.CommandLine.ITypeConverter<Peer.ConnectStart> {
        @Override
        public Peer.ConnectStart convert(String value) {
            switch (value.toLowerCase(Locale.ROOT)) {
                case "caller":
                    return Peer.ConnectStart.CALLER;
                case "classic":
                    return Peer.ConnectStart.CLASSIC;
                case "loop":
                    return Peer.ConnectStart.LOOP;
                default:
                    throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not one of caller, classic, loop");
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        Cli.checkPort(spec, port, false);
        Cli.require(spec, count >= 1 && count <= 100_000_000, "--count must be 1..100000000, got " + count);
        Cli.require(spec, warmup >= 0 && warmup <= 100_000_000, "--warmup must be 0..100000000, got " + warmup);
        Cli.require(spec, mode == Cli.Mode.BLOCKING || impl == Cli.Kind.MUDUO4J,
                "--mode spinning is only for --impl muduo4j");
        Cli.require(spec, start != Peer.ConnectStart.LOOP || !echo, "--echo runs with --start caller or classic only");
        Cli.require(spec, start != Peer.ConnectStart.CLASSIC || impl == Cli.Kind.MUDUO4J,
                "--start classic is muduo4j's TcpClient.connect(): only for --impl muduo4j");
        InetSocketAddress server = Cli.resolve(spec, host, port);
        io.muduo4j.net.Transport resolved = Cli.checkTransport(spec, impl, transport);
        Peer peer = impl.peer(false, mode == Cli.Mode.SPINNING, resolved);
        Cli.require(spec, start != Peer.ConnectStart.LOOP || peer.supportsLoopConnect(),
                "--start loop is not applicable to --impl " + impl.label
                        + ": it has no event loop (thread-per-connection blocking sockets); use --start caller");
        String where = start.name().toLowerCase(Locale.ROOT);
        Histogram h = new Histogram(PingPongSession.MAX_RTT_NANOS, 3);
        long t0;
        long t1;
        try (Peer.ConnectProbe probe = peer.connectProbe(server, start, echo)) {
            if (start == Peer.ConnectStart.LOOP) {
                probe.connectBatch(warmup, null);
                t0 = System.nanoTime();
                probe.connectBatch(count, h);
                t1 = System.nanoTime();
            } else {
                for (int i = 0; i < warmup; i++) {
                    probe.connectOnce();
                }
                t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    h.recordValue(Math.min(probe.connectOnce(), PingPongSession.MAX_RTT_NANOS));
                }
                t1 = System.nanoTime();
            }
        }
        double secs = (t1 - t0) / 1e9;
        String key = echo ? "echo1" : "conn";
        System.out.printf(Locale.ROOT, "%s: %d connections%s started from the %s, %d warm-up, in %.3f s, mean %.1f us, "
                        + "max %.1f us%n", impl.label, count, echo ? " with a 1-byte echo" : "", where, warmup, secs,
                h.getMean() / 1000.0, Cli.micros(h.getMaxValue()));
        if (percentiles) {
            h.outputPercentileDistribution(System.out, 5, 1000.0);
        }
        System.out.printf(Locale.ROOT, "RESULT start=%s %s_p50_us=%.1f %s_p99_us=%.1f %s_per_s=%.1f%n", where,
                key, Cli.micros(h.getValueAtPercentile(50)), key, Cli.micros(h.getValueAtPercentile(99)), key,
                count / secs);
        return 0;
    }

    public static void main(String[] args) {
        Cli.run(new ConnectClient(), args);
    }
}
