package io.muduo4j.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/** Shared pieces of the runnable programs (picocli). */
final class Cli {
    private Cli() {
    }

    /** The implementation a program runs ({@code --impl}). */
    enum Kind {
        MUDUO4J("muduo4j"), NETTY_NIO("netty-nio"), NETTY_EPOLL("netty-epoll"), NETTY_IO_URING("netty-io-uring"),
        JDK("jdk"), JDK_VIRTUAL("jdk-virtual");

        final String label;

        Kind(String label) {
            this.label = label;
        }

        Peer peer(boolean spinServer, boolean spinClient, io.muduo4j.net.Transport transport) {
            switch (this) {
                case MUDUO4J:
                    return new MuduoPeer(spinServer, spinClient, false, transport);
                case NETTY_NIO:
                    return new NettyPeer(NettyPeer.Transport.NIO);
                case NETTY_EPOLL:
                    return new NettyPeer(NettyPeer.Transport.EPOLL);
                case NETTY_IO_URING:
                    return new NettyPeer(NettyPeer.Transport.IO_URING);
                case JDK:
                    return new JdkPeer(false);
                case JDK_VIRTUAL:
                    return new JdkPeer(true);
                default:
                    throw new AssertionError(this);
            }
        }
    }

    /** Loop wait mode ({@code --mode}); only muduo4j has one. */
    enum Mode {
        BLOCKING, SPINNING
    }

    /** {@code --transport auto|nio|epoll} (muduo4j only). */
    static final class TransportConverter implements CommandLine.ITypeConverter<io.muduo4j.net.Transport> {
        @Override
        public io.muduo4j.net.Transport convert(String value) {
            try {
                return io.muduo4j.net.Transport.of(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final String TRANSPORT_HELP = "muduo4j transport: auto (epoll where available: JDK 22+ on Linux with "
            + "--enable-native-access=ALL-UNNAMED; else nio), nio or epoll. Default: auto.";

    /**
     * The transport a muduo4j run resolves to, checked up front: epoll asked for where it cannot
     * run is a usage error naming the reason, never a failure deep inside a loop.
     */
    static io.muduo4j.net.Transport checkTransport(CommandLine.Model.CommandSpec spec, Kind impl, io.muduo4j.net.Transport t) {
        require(spec, impl == Kind.MUDUO4J || t == io.muduo4j.net.Transport.AUTO,
                "--transport is only for --impl muduo4j");
        require(spec, t.isAvailable(), "--transport epoll is not available here: " + io.muduo4j.net.Transport.unavailableReason());
        return t.resolve();
    }

    static final class KindConverter implements CommandLine.ITypeConverter<Kind> {
        @Override
        public Kind convert(String value) {
            for (Kind k : Kind.values()) {
                if (k.label.equalsIgnoreCase(value)) {
                    return k;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not one of muduo4j, netty-nio, netty-epoll, netty-io-uring, jdk, jdk-virtual");
        }
    }

    static final class KindCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("muduo4j", "netty-nio", "netty-epoll", "netty-io-uring", "jdk", "jdk-virtual").iterator();
        }
    }

    static final class ModeConverter implements CommandLine.ITypeConverter<Mode> {
        @Override
        public Mode convert(String value) {
            switch (value.toLowerCase(Locale.ROOT)) {
                case "blocking":
                    return Mode.BLOCKING;
                case "spinning":
                    return Mode.SPINNING;
                default:
                    throw new CommandLine.TypeConversionException("'" + value + "' is not one of blocking, spinning");
            }
        }
    }

    static final class ModeCandidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("blocking", "spinning").iterator();
        }
    }

    static void require(CommandLine.Model.CommandSpec spec, boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    static void checkPort(CommandLine.Model.CommandSpec spec, int port, boolean zeroAllowed) {
        require(spec, port >= (zeroAllowed ? 0 : 1) && port <= 65535,
                "--port must be " + (zeroAllowed ? "0" : "1") + "..65535, got " + port);
    }

    static InetSocketAddress resolve(CommandLine.Model.CommandSpec spec, String host, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown host '" + host + "'");
        }
    }

    /** Runs a command: usage errors exit 2 with a message and the usage; failures exit 1 with the cause. */
    static void run(Object command, String[] args) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println(commandLine.getCommandName() + ": error: " + describe(ex));
            return 1;
        });
        System.exit(cl.execute(args));
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage() != null ? t.getMessage() : t.toString()));
        for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
            sb.append(": ").append(c.getMessage() != null ? c.getMessage() : c.toString());
        }
        return sb.toString();
    }

    static double micros(long nanos) {
        return nanos / 1000.0;
    }
}
