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
 * muduo's {@code examples/pingpong/client} against any echo server: each session sends one block on
 * connect and then echoes everything it reads; after the given time it reports the throughput as
 * muduo does (bytes read / seconds / 2^20) and the per-block round-trip percentiles.
 */
@Command(name = "PingPongClient", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"muduo's pingpong client against any echo server. Ends with one line",
                "RESULT mib_s=<x> msgs=<n> rtt_p50_us=<x> rtt_p99_us=<x> rtt_p999_us=<x>",
                "mib_s = bytes read / seconds / 2^20 (muduo's figure); msgs = whole blocks received in the timed "
                        + "window; rtt = time for one block to go round (one block in flight per connection, so "
                        + "meaningful with --connections 1; recorded by the first 64 sessions)."})
public final class PingPongClient implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H", description = "Server host. Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--port", required = true, paramLabel = "P", description = "Server port.")
    int port;

    @Option(names = "--connections", defaultValue = "1", paramLabel = "C", description = "Sessions. Default: ${DEFAULT-VALUE}.")
    int connections;

    @Option(names = "--size", defaultValue = "16384", paramLabel = "S", description = "Block size in bytes. Default: ${DEFAULT-VALUE}.")
    int size;

    @Option(names = "--seconds", defaultValue = "10", paramLabel = "T",
            description = "Timed run length in seconds (fractions allowed). Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--warmup-seconds", defaultValue = "0", paramLabel = "W",
            description = "Traffic run first and not counted (neither bytes nor RTT samples), seconds (fractions "
                    + "allowed). Default: ${DEFAULT-VALUE}.")
    double warmupSeconds;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "Client loops the sessions are spread over, round-robin (jdk: a thread per session). Default: ${DEFAULT-VALUE}.")
    int threads;

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

    @Override
    public Integer call() throws Exception {
        Cli.checkPort(spec, port, false);
        Cli.require(spec, connections >= 1 && connections <= 10_000, "--connections must be 1..10000, got " + connections);
        Cli.require(spec, size >= 1 && size <= (1 << 20), "--size must be 1..1048576 bytes, got " + size);
        Cli.require(spec, seconds >= 0.05 && seconds <= 86_400, "--seconds must be 0.05..86400, got " + seconds);
        Cli.require(spec, warmupSeconds >= 0 && warmupSeconds <= 86_400,
                "--warmup-seconds must be 0..86400, got " + warmupSeconds);
        Cli.require(spec, threads >= 1 && threads <= 256, "--threads must be 1..256, got " + threads);
        Cli.require(spec, mode == Cli.Mode.BLOCKING || impl == Cli.Kind.MUDUO4J,
                "--mode spinning is only for --impl muduo4j");
        InetSocketAddress server = Cli.resolve(spec, host, port);
        io.muduo4j.net.Transport resolved = Cli.checkTransport(spec, impl, transport);
        Peer peer = impl.peer(false, mode == Cli.Mode.SPINNING, resolved);
        long t0;
        long t1;
        long bytes;
        long reads;
        long blocks;
        Histogram rtt;
        Peer.PingPong pp = peer.pingPong(server, connections, size, threads, true);
        try {
            if (warmupSeconds > 0) {
                long w = (long) (warmupSeconds * 1e9);
                pp.recordRttFrom(System.nanoTime() + w);
                Thread.sleep(w / 1_000_000L, (int) (w % 1_000_000L));
            }
            long b0 = pp.bytesRead();
            long r0 = pp.readCalls();
            long k0 = pp.blocks();
            t0 = System.nanoTime();
            long run = (long) (seconds * 1e9);
            Thread.sleep(run / 1_000_000L, (int) (run % 1_000_000L));
            t1 = System.nanoTime();
            bytes = pp.bytesRead() - b0;
            reads = pp.readCalls() - r0;
            blocks = pp.blocks() - k0;
        } finally {
            pp.close(); // stops the session threads, so their histograms can be read
        }
        rtt = pp.rtt();
        double secs = (t1 - t0) / 1e9;
        double mibs = bytes / secs / (1024.0 * 1024.0);
        System.out.printf(Locale.ROOT, "%s: %d connections, %d-byte blocks, %.3f s after %.1f s warm-up%n", impl.label,
                connections, size, secs, warmupSeconds);
        System.out.printf(Locale.ROOT, "%d total bytes read%n", bytes);
        System.out.printf(Locale.ROOT, "%d total messages read%n", reads);
        System.out.printf(Locale.ROOT, "%.1f average message size%n", reads == 0 ? 0.0 : (double) bytes / reads);
        System.out.printf(Locale.ROOT, "%.3f MiB/s throughput%n", mibs);
        System.out.printf(Locale.ROOT, "RESULT mib_s=%.2f msgs=%d rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_p999_us=%.1f%n",
                mibs, blocks, Cli.micros(rtt.getValueAtPercentile(50)), Cli.micros(rtt.getValueAtPercentile(99)),
                Cli.micros(rtt.getValueAtPercentile(99.9)));
        return 0;
    }

    public static void main(String[] args) {
        Cli.run(new PingPongClient(), args);
    }
}
