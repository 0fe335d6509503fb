package io.muduo4j.examples;

import io.muduo4j.net.EventLoop;
import io.muduo4j.net.EventLoopThread;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import picocli.CommandLine;

/** What the examples' {@code main}s share: argument checks and running a server until killed. */
final class Examples {
    private Examples() {
    }

    /** A started example server. */
    interface Server extends AutoCloseable {
        InetSocketAddress listenAddress();

        @Override
        void close();
    }

    /** The command-line options every server has. */
    static final class ServerOptions {
        @CommandLine.Option(names = "--port", required = true, paramLabel = "P",
                description = "TCP port to listen on (0 = any free port).")
        int port;

        @CommandLine.Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "H",
                description = "Address to bind. Default: ${DEFAULT-VALUE}.")
        String host;

        InetSocketAddress address(CommandLine.Model.CommandSpec spec) {
            require(spec, port >= 0 && port <= 65535, "--port must be 0..65535, got " + port);
            return resolve(spec, host, port);
        }
    }

    static void require(CommandLine.Model.CommandSpec spec, boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    static InetSocketAddress resolve(CommandLine.Model.CommandSpec spec, String host, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown host '" + host + "'");
        }
    }

    /** Runs a picocli command and exits: 0 done, 1 failed (message on stderr), 2 bad arguments. */
    static void run(Object command, String[] args) {
        CommandLine cl = new CommandLine(command);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println(commandLine.getCommandName() + ": error: " + ex);
            return 1;
        });
        System.exit(cl.execute(args));
    }

    /**
     * Starts a server on a new loop thread, prints {@code NAME listening on HOST:PORT (transport T)} and blocks until
     * the JVM is stopped (Ctrl-C, SIGTERM), which closes the server and the loop.
     */
    static int serveUntilKilled(String name, Function<EventLoop, ? extends Server> start) throws InterruptedException {
        return serveUntilKilled(name, new io.muduo4j.net.EventLoopOptions(), start);
    }

    /** {@link #serveUntilKilled(String, Function)} with the loop made from {@code options}. */
    static int serveUntilKilled(String name, io.muduo4j.net.EventLoopOptions options,
            Function<EventLoop, ? extends Server> start) throws InterruptedException {
        EventLoopThread thread = new EventLoopThread(name, options, null);
        Server server;
        EventLoop loop;
        try {
            loop = thread.startLoop();
            server = start.apply(loop);
        } catch (RuntimeException e) {
            thread.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            thread.close();
        }, name + "-shutdown"));
        InetSocketAddress a = server.listenAddress();
        System.out.println(name + " listening on " + a.getAddress().getHostAddress() + ":" + a.getPort()
                + " (transport " + loop.transport().name().toLowerCase(java.util.Locale.ROOT) + ")");
        System.out.flush();
        new CountDownLatch(1).await();
        return 0;
    }
}
