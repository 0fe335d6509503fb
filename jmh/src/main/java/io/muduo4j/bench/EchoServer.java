package io.muduo4j.bench;

import java.net.InetSocketAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * An echo server for outside load generators: echoes every byte, prints
 * {@code listening on 127.0.0.1:P} once ready, runs until killed.
 */
@Command(name = "EchoServer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Echo server: echoes every byte it reads. Prints 'listening on HOST:PORT' when ready and "
                + "runs until killed.",
                "Run as: java --add-opens java.base/jdk.internal.misc=ALL-UNNAMED -cp jmh/target/benchmarks.jar "
                        + "io.muduo4j.bench.EchoServer --port P"})
public final class EchoServer implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", required = true, paramLabel = "P", description = "TCP port (0 = any free port).")
    int port;

    @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
            description = "I/O loops: 1 = one loop accepts and does all I/O; N > 1 = an acceptor loop plus N I/O "
                    + "loops (ignored by jdk, which uses a thread per connection). Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--mode", defaultValue = "blocking", paramLabel = "MODE", converter = Cli.ModeConverter.class,
            completionCandidates = Cli.ModeCandidates.class,
            description = "muduo4j loop mode: ${COMPLETION-CANDIDATES}. Default: blocking.")
    Cli.Mode mode;

    @Option(names = "--transport", defaultValue = "auto", paramLabel = "T", converter = Cli.TransportConverter.class,
            description = Cli.TRANSPORT_HELP)
    io.muduo4j.net.Transport transport;

    @Option(names = "--impl", defaultValue = "muduo4j", paramLabel = "IMPL", converter = Cli.KindConverter.class,
            completionCandidates = Cli.KindCandidates.class,
            description = "Implementation: ${COMPLETION-CANDIDATES}. Default: muduo4j.")
    Cli.Kind impl;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H",
            description = "Address to bind. Default: ${DEFAULT-VALUE}.")
    String host;

    @Override
    public Integer call() throws Exception {
        Cli.checkPort(spec, port, true);
        Cli.require(spec, threads >= 1 && threads <= 256, "--threads must be 1..256, got " + threads);
        Cli.require(spec, mode == Cli.Mode.BLOCKING || impl == Cli.Kind.MUDUO4J,
                "--mode spinning is only for --impl muduo4j");
        InetSocketAddress bind = Cli.resolve(spec, host, port);
        boolean spin = mode == Cli.Mode.SPINNING;
        io.muduo4j.net.Transport resolved = Cli.checkTransport(spec, impl, transport);
        Peer.Server server = impl.peer(spin, spin, resolved).startServer(bind, threads);
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "echo-server-shutdown"));
        InetSocketAddress a = server.address();
        System.out.println("listening on " + a.getAddress().getHostAddress() + ":" + a.getPort()
                + (impl == Cli.Kind.MUDUO4J ? " (muduo4j, transport " + resolved.name().toLowerCase(java.util.Locale.ROOT)
                        + (resolved == io.muduo4j.net.Transport.NIO && io.muduo4j.net.Transport.unavailableReason() != null
                                ? "; epoll: " + io.muduo4j.net.Transport.unavailableReason() : "") + ")" : ""));
        System.out.flush();
        forever.await();
        return 0;
    }

    public static void main(String[] args) {
        Cli.run(new EchoServer(), args);
    }
}
